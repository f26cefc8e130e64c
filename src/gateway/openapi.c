/* openapi.c — an OpenAPI 3.1 document built from the route table.
 *
 * The table is the single source of truth (STYLE: declare, don't code): each
 * route gives its method, path, permission, summary and flags; parameters
 * come from the pattern. The document is built once, on the first request
 * (the table is complete and read-only by then), and served as bytes. */
#include "openapi.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http.h"

static const router_t *g_router;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char *g_doc;
static size_t g_doc_len;

/* path_params: the {name} and {name...} parameters of a pattern. */
static json_t *path_params(const char *pattern)
{
    json_t *params = json_array();
    for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *e = strchr(p, '}');
        if (!e) break;
        size_t n = (size_t)(e - p - 1);
        bool rest = n > 3 && memcmp(e - 3, "...", 3) == 0;
        if (rest) n -= 3;
        json_t *name = json_stringn(p + 1, n);
        json_array_append_new(
            params, json_pack("{s:o, s:s, s:b, s:{s:s}, s:s?}", "name", name, "in", "path",
                              "required", 1, "schema", "type", "string", "description",
                              rest ? "the rest of the path, may contain '/'" : NULL));
    }
    return params;
}

/* oas_path: "/a/{b...}" -> "/a/{b}" (OpenAPI has no rest parameters). */
static json_t *oas_path(const char *pattern)
{
    char buf[512];
    size_t o = 0;
    for (const char *p = pattern; *p && o + 1 < sizeof buf; p++) {
        if (p[0] == '.' && p[1] == '.' && p[2] == '.' && p[3] == '}') {
            p += 2;
            continue;
        }
        buf[o++] = *p;
    }
    buf[o] = '\0';
    return json_string(buf);
}

static json_t *error_response(const char *desc)
{
    return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", desc, "content", "application/json",
                     "schema", "$ref", "#/components/schemas/Error");
}

json_t *openapi_document(const router_t *r, const char *version)
{
    json_t *paths = json_object();
    for (size_t i = 0; i < router_count(r); i++) {
        const route_t *rt = router_at(r, i);
        json_t *key = oas_path(rt->pattern);
        const char *k = json_string_value(key);
        json_t *item = json_object_get(paths, k);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, k, item);
        }
        char method[16];
        size_t m = 0;
        for (; rt->method[m] && m < sizeof method - 1; m++)
            method[m] = (char)(rt->method[m] | 0x20); /* ASCII lower case */
        method[m] = '\0';
        json_t *responses = json_pack("{s:{s:s}}", "default", "description", "See the service spec");
        json_object_set_new(responses, "4XX", error_response("Client error"));
        json_object_set_new(responses, "5XX", error_response("Server error"));
        json_t *op = json_pack("{s:s, s:o, s:o, s:s}", "summary", rt->summary ? rt->summary : "",
                               "parameters", path_params(rt->pattern), "responses", responses,
                               "operationId", "");
        char opid[600];
        snprintf(opid, sizeof opid, "%s %s", rt->method, rt->pattern);
        json_object_set_new(op, "operationId", json_string(opid));
        if (rt->flags & RT_PUBLIC)
            json_object_set_new(op, "security", json_array());
        if (rt->permission) json_object_set_new(op, "x-permission", json_string(rt->permission));
        json_object_set_new(item, method, op);
        json_decref(key);
    }
    json_t *error_schema = json_pack(
        "{s:s, s:{s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}}}}}", "type", "object", "properties",
        "error", "type", "object", "properties", "code", "type", "string", "message", "type",
        "string", "request_id", "type", "string");
    json_t *components = json_pack(
        "{s:{s:{s:s, s:s, s:s}}, s:{s:o}}", "securitySchemes", "bearer", "type", "http", "scheme",
        "bearer", "bearerFormat", "JWT", "schemas", "Error", error_schema);
    json_t *doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:o, s:[{s:[]}]}", "openapi", "3.1.0",
                            "info", "title", "BizOSaaS API", "version", version, "description",
                            "Generated from the route table of this bizosaas binary.", "paths",
                            paths, "components", components, "security", "bearer");
    return doc;
}

static void build(void)
{
    json_t *doc = openapi_document(g_router, BZ_VERSION);
    g_doc = json_dumps(doc, JSON_COMPACT);
    g_doc_len = g_doc ? strlen(g_doc) : 0;
    json_decref(doc);
}

static int serve(http_req_t *req, http_res_t *res)
{
    (void)req;
    pthread_once(&g_once, build);
    if (!g_doc) return http_error(res, ERR_INTERNAL, "cannot build the OpenAPI document");
    return http_text(res, 200, "application/json", g_doc, g_doc_len);
}

static const route_t routes[] = {
    {"GET", "/openapi.json", NULL, "OpenAPI 3.1 document generated from the route table", serve,
     RT_PUBLIC | RT_INLINE},
};

void openapi_register(router_t *r)
{
    g_router = r;
    router_add(r, routes, sizeof routes / sizeof routes[0]);
}
