/* request.c — request accessors and JSON body/field validation helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http.h"
#include "router.h"

const char *http_header(const http_req_t *req, const char *name)
{
    str_t n = str_of(name);
    for (size_t i = 0; i < req->nheaders; i++) {
        if (str_ieq(req->headers[i].name, n)) {
            const hp_header_t *h = &req->headers[i];
            /* values are views into the arena copy of the head, not
             * NUL-terminated: hand out a terminated copy */
            return arena_strndup(req->arena, h->value.p, h->value.n);
        }
    }
    return NULL;
}

const char *http_param(const http_req_t *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0) return req->param_values[i];
    return NULL;
}

const char *http_query(const http_req_t *req, const char *name)
{
    size_t nl = strlen(name);
    const char *p = req->query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t kl = eq ? (size_t)(eq - p) : len;
        char *k = url_decode(req->arena, p, kl, true);
        if (k && strlen(k) == nl && memcmp(k, name, nl) == 0) {
            if (!eq) return "";
            return url_decode(req->arena, eq + 1, len - kl - 1, true);
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static void decref_json(void *j) { json_decref(j); }

json_t *http_body_json(http_req_t *req, http_res_t *res, int *rc)
{
    const char *ct = http_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
        *rc = http_error(res, ERR_UNSUPPORTED_MEDIA, "Content-Type must be application/json");
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        *rc = http_error(res, ERR_INVALID_JSON, "invalid JSON at line %d column %d: %s", e.line,
                         e.column, e.text);
        return NULL;
    }
    arena_defer(req->arena, decref_json, j);
    if (!json_is_object(j)) {
        *rc = http_error(res, ERR_VALIDATION, "the request body must be a JSON object");
        return NULL;
    }
    *rc = 0;
    return j;
}

int json_field_str(http_res_t *res, json_t *obj, const char *key, bool required, size_t maxlen,
                   const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) return http_error(res, ERR_VALIDATION, "field '%s' is required", key);
        return 0;
    }
    if (!json_is_string(v)) return http_error(res, ERR_VALIDATION, "field '%s' must be a string", key);
    size_t n = json_string_length(v);
    if (required && n == 0) return http_error(res, ERR_VALIDATION, "field '%s' must not be empty", key);
    if (n > maxlen)
        return http_error(res, ERR_VALIDATION, "field '%s' must be at most %zu bytes", key, maxlen);
    if (strlen(json_string_value(v)) != n)
        return http_error(res, ERR_VALIDATION, "field '%s' must not contain NUL", key);
    *out = json_string_value(v);
    return 0;
}

int json_field_int(http_res_t *res, json_t *obj, const char *key, bool required, int64_t min,
                   int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) return http_error(res, ERR_VALIDATION, "field '%s' is required", key);
        return 0;
    }
    if (!json_is_integer(v))
        return http_error(res, ERR_VALIDATION, "field '%s' must be an integer", key);
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return http_error(res, ERR_VALIDATION, "field '%s' must be between %lld and %lld", key,
                          (long long)min, (long long)max);
    *out = x;
    return 0;
}

int json_reject_unknown(http_res_t *res, json_t *obj, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, k) == 0) ok = true;
        if (!ok) return http_error(res, ERR_VALIDATION, "unknown field '%s'", k);
    }
    return 0;
}

int http_query_int(const http_req_t *req, http_res_t *res, const char *name, int64_t min,
                   int64_t max, int64_t *out)
{
    const char *v = http_query(req, name);
    if (!v) return 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || x < min || x > max)
        return http_error(res, ERR_VALIDATION, "query parameter '%s' must be an integer in [%lld, %lld]",
                          name, (long long)min, (long long)max);
    *out = x;
    return 0;
}
