/* http.c — the CMS API (/api/v1/cms, tokens with cms.* permissions) and
 * the public delivery API (/api/v2: published content only, tenant from
 * the Host header), and the context's registration. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "cms.h"
#include "err.h"
#include "http.h"
#include "internal.h"
#include "sanitize.h"
#include "site.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

const config_t *cms__cfg;

/* tenant_of: the caller's tenant; platform callers must name one with
 * X-Tenant-ID (the kernel honours it for them only). */
static const char *tenant_of(http_req_t *req, http_res_t *res)
{
    if (req->auth.tenant_id[0]) return req->auth.tenant_id;
    http_error(res, ERR_VALIDATION, "a tenant is required (platform callers send X-Tenant-ID)");
    return NULL;
}

static int fail(http_res_t *res, int rc, const char *why, const char *what)
{
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "%s not found", what);
    if (why) return http_error(res, rc, "%s", why);
    return http_error(res, rc, NULL);
}

static int limit_of(http_req_t *req, http_res_t *res, int *limit)
{
    const char *l = http_query(req, "limit");
    *limit = PAGE_DEFAULT;
    if (!l) return 0;
    char *end;
    long v = strtol(l, &end, 10);
    if (*end || v < 1 || v > PAGE_MAX)
        return http_error(res, ERR_VALIDATION, "limit must be an integer 1..%d", PAGE_MAX);
    *limit = (int)v;
    return 0;
}

/* ---- pages ---- */

static int pages_list(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    int limit, rc;
    if ((rc = limit_of(req, res, &limit)) < 0) return rc;
    json_t *items = json_array();
    bool more = false;
    rc = cms__page_list(req->db, t, http_query(req, "type"), http_query(req, "status"),
                        http_query(req, "after"), limit, req->arena, items, &more);
    if (rc < 0) {
        json_decref(items);
        return http_error(res, rc, NULL);
    }
    json_t *last = json_array_get(items, json_array_size(items) - 1);
    return http_json(res, 200,
                     json_pack("{s:o, s:o}", "items", items, "next",
                               more && last ? json_incref(json_object_get(last, "path")) : json_null()));
}

static int pages_create(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res), *why = NULL;
    if (!t) return ERR_VALIDATION;
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    cms_page_in_t in;
    json_t *out;
    if ((rc = cms__page_parse(req->db, t, body, true, req->arena, &in, &why)) < 0 ||
        (rc = cms__page_create(req->db, t, &in, req->auth.user_id, req->arena, &out, &why)) < 0)
        return fail(res, rc, why, "page");
    return http_json(res, 201, json_incref(out));
}

static int pages_get(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    json_t *out;
    int rc = cms__page_get(req->db, t, http_param(req, "id"), req->arena, &out);
    if (rc < 0) return fail(res, rc, NULL, "page");
    return http_json(res, 200, json_incref(out));
}

static int pages_update(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res), *why = NULL;
    if (!t) return ERR_VALIDATION;
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    if (json_object_size(body) == 0) return http_error(res, ERR_VALIDATION, "nothing to update");
    cms_page_in_t in;
    json_t *out, *cur;
    if ((rc = cms__page_get(req->db, t, http_param(req, "id"), req->arena, &cur)) < 0)
        return fail(res, rc, NULL, "page");
    if ((rc = cms__page_parse(req->db, t, body, false, req->arena, &in, &why)) < 0 ||
        (rc = cms__page_update(req->db, t, http_param(req, "id"), &in, req->auth.user_id, "edited",
                               req->arena, &out, &why)) < 0)
        return fail(res, rc, why, "page");
    return http_json(res, 200, json_incref(out));
}

static int pages_delete(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res), *why = NULL;
    if (!t) return ERR_VALIDATION;
    int rc = cms__page_delete(req->db, t, http_param(req, "id"), &why);
    if (rc < 0) return fail(res, rc, why, "page");
    res->status = 204;
    return 0;
}

static int pages_publish(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res), *why = NULL, *at = NULL;
    if (!t) return ERR_VALIDATION;
    int rc;
    if (req->body_len) {
        json_t *body = http_body_json(req, res, &rc);
        if (!body) return rc;
        static const char *const allowed[] = {"at", NULL};
        if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
        if ((rc = json_field_str(res, body, "at", false, 40, &at)) < 0) return rc;
        if (at && strlen(at) == 20 && at[19] == 'Z') at = arena_printf(req->arena, "%.19s.000Z", at);
        if (at && !cms__rfc3339_ok(at))
            return http_error(res, ERR_VALIDATION,
                              "field 'at' must be an RFC 3339 UTC time like 2030-01-02T03:04:05.000Z");
    }
    json_t *out;
    if ((rc = cms__page_publish(req->db, t, http_param(req, "id"), at, req->arena, &out, &why)) < 0)
        return fail(res, rc, why, "page");
    return http_json(res, 200, json_incref(out));
}

static int pages_unpublish(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    json_t *out;
    int rc = cms__page_unpublish(req->db, t, http_param(req, "id"), req->arena, &out);
    if (rc < 0) return fail(res, rc, NULL, "page");
    return http_json(res, 200, json_incref(out));
}

static int revisions_list(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    json_t *items;
    int rc = cms__revision_list(req->db, t, http_param(req, "id"), req->arena, &items);
    if (rc < 0) return fail(res, rc, NULL, "page");
    return http_json(res, 200, json_pack("{s:O}", "items", items));
}

static int rev_number(http_req_t *req, http_res_t *res, int64_t *n)
{
    char *end;
    long long v = strtoll(http_param(req, "n"), &end, 10);
    if (*end || v < 1) return http_error(res, ERR_NOT_FOUND, "revision not found");
    *n = v;
    return 0;
}

static int revisions_get(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    int64_t n = 0;
    int rc = rev_number(req, res, &n);
    if (rc < 0) return rc;
    json_t *out;
    if ((rc = cms__revision_get(req->db, t, http_param(req, "id"), n, req->arena, &out)) < 0)
        return fail(res, rc, NULL, "revision");
    return http_json(res, 200, json_incref(out));
}

static int revisions_revert(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res), *why = NULL;
    if (!t) return ERR_VALIDATION;
    int64_t n = 0;
    int rc = rev_number(req, res, &n);
    if (rc < 0) return rc;
    json_t *out;
    if ((rc = cms__revision_revert(req->db, t, http_param(req, "id"), n, req->auth.user_id,
                                   req->arena, &out, &why)) < 0)
        return fail(res, rc, why, "revision");
    return http_json(res, 200, json_incref(out));
}

/* ---- media ---- */

/* multipart_file: the part named "file" (and the "alt" field) of a
 * multipart/form-data body. */
static int multipart_file(http_req_t *req, const char *ctype, const unsigned char **data,
                          size_t *n, const char **filename, const char **type, const char **alt)
{
    const char *b = strcasestr(ctype, "boundary=");
    if (!b) return ERR_VALIDATION;
    b += 9;
    size_t bl = strcspn(b, ";");
    if (bl >= 2 && b[0] == '"') b++, bl -= 2;
    if (bl == 0 || bl > 70) return ERR_VALIDATION;
    const char *delim = arena_printf(req->arena, "--%.*s", (int)bl, b);
    size_t dl = strlen(delim);
    const char *p = req->body, *end = req->body + req->body_len;
    *data = NULL;
    const char *s = memmem(p, (size_t)(end - p), delim, dl);
    while (s) {
        s += dl;
        if (end - s >= 2 && s[0] == '-' && s[1] == '-') break;
        if (end - s < 2 || s[0] != '\r' || s[1] != '\n') return ERR_VALIDATION;
        s += 2;
        const char *hend = memmem(s, (size_t)(end - s), "\r\n\r\n", 4);
        if (!hend) return ERR_VALIDATION;
        const char *headers = arena_strndup(req->arena, s, (size_t)(hend - s));
        const char *body = hend + 4;
        const char *next = memmem(body, (size_t)(end - body), delim, dl);
        if (!next || next - body < 2) return ERR_VALIDATION;
        size_t blen = (size_t)(next - body) - 2; /* the CRLF before the delimiter */
        const char *name = strcasestr(headers, "name=\"");
        /* "filename=" also contains name=": take the one not preceded by "file" */
        while (name && name - headers >= 4 && !strncasecmp(name - 4, "file", 4))
            name = strcasestr(name + 6, "name=\"");
        if (name) {
            name += 6;
            size_t nl = strcspn(name, "\"");
            if (nl == 4 && !strncmp(name, "file", 4)) {
                *data = (const unsigned char *)body;
                *n = blen;
                const char *fn = strcasestr(headers, "filename=\"");
                if (fn) {
                    fn += 10;
                    *filename = arena_strndup(req->arena, fn, strcspn(fn, "\"\r\n"));
                }
                const char *ct = strcasestr(headers, "\r\ncontent-type:");
                if (!ct && !strncasecmp(headers, "content-type:", 13)) ct = headers - 2;
                if (ct) {
                    ct += 15;
                    while (*ct == ' ') ct++;
                    *type = arena_strndup(req->arena, ct, strcspn(ct, "\r\n; "));
                }
            } else if (nl == 3 && !strncmp(name, "alt", 3)) {
                *alt = arena_strndup(req->arena, body, blen);
            }
        }
        s = next;
    }
    return *data ? 0 : ERR_VALIDATION;
}

static int media_upload(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res), *why = NULL;
    if (!t) return ERR_VALIDATION;
    const char *ctype = http_header(req, "Content-Type");
    const unsigned char *data = (const unsigned char *)req->body;
    size_t n = req->body_len;
    const char *filename = http_query(req, "filename"), *type = NULL, *alt = http_query(req, "alt");
    if (!ctype) return http_error(res, ERR_UNSUPPORTED_MEDIA, "send the image with its Content-Type or as multipart/form-data");
    if (!strncasecmp(ctype, "multipart/form-data", 19)) {
        if (multipart_file(req, ctype, &data, &n, &filename, &type, &alt) < 0)
            return http_error(res, ERR_VALIDATION, "a multipart upload needs a part named \"file\"");
    } else if (!strncasecmp(ctype, "image/", 6)) {
        type = arena_strndup(req->arena, ctype, strcspn(ctype, "; "));
    } else if (strncasecmp(ctype, "application/octet-stream", 24)) {
        return http_error(res, ERR_UNSUPPORTED_MEDIA, "only images are accepted (got %.60s)", ctype);
    }
    if (filename && strlen(filename) > 200) filename = NULL;
    if (alt && strlen(alt) > 300) return http_error(res, ERR_VALIDATION, "alt is longer than 300 bytes");
    json_t *out;
    int rc = cms__media_store(req->db, t, filename, type, data, n, alt, req->arena, &out, &why);
    if (rc < 0) return fail(res, rc, why, "media");
    return http_json(res, 201, json_incref(out));
}

static int media_list(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    json_t *items;
    int rc = cms__media_list(req->db, t, req->arena, &items);
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 200, json_pack("{s:O}", "items", items));
}

static int media_get(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    json_t *out;
    int rc = cms__media_get(req->db, t, http_param(req, "id"), req->arena, &out);
    if (rc < 0) return fail(res, rc, NULL, "media");
    return http_json(res, 200, json_incref(out));
}

static int media_delete(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    int rc = cms__media_delete(req->db, t, http_param(req, "id"));
    if (rc < 0) return fail(res, rc, NULL, "media");
    res->status = 204;
    return 0;
}

/* ---- redirects ---- */

static int redirects_list(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    json_t *items;
    int rc = cms__redirect_list(req->db, t, req->arena, &items);
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 200, json_pack("{s:O}", "items", items));
}

static int redirects_create(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    static const char *const allowed[] = {"old_path", "new_path", NULL};
    const char *from, *to;
    if ((rc = json_reject_unknown(res, body, allowed)) < 0 ||
        (rc = json_field_str(res, body, "old_path", true, CMS_PATH_MAX, &from)) < 0 ||
        (rc = json_field_str(res, body, "new_path", true, 2048, &to)) < 0)
        return rc;
    if (!cms__path_ok(from) || !strcmp(from, "/"))
        return http_error(res, ERR_VALIDATION, "field 'old_path' must be a site path like /old-page");
    bool abs_ok = (!strncmp(to, "https://", 8) || !strncmp(to, "http://", 7)) &&
                  cms_url_allowed(to, strlen(to), false);
    if (!cms__path_ok(to) && !abs_ok)
        return http_error(res, ERR_VALIDATION, "field 'new_path' must be a site path or an http(s) URL");
    if (!strcmp(from, to)) return http_error(res, ERR_VALIDATION, "a redirect cannot point at itself");
    json_t *out;
    if ((rc = cms__redirect_put(req->db, t, from, to, false, req->arena, &out)) < 0)
        return http_error(res, rc, NULL);
    return http_json(res, 201, json_incref(out));
}

static int redirects_delete(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    int rc = cms__redirect_delete(req->db, t, http_param(req, "id"));
    if (rc < 0) return fail(res, rc, NULL, "redirect");
    res->status = 204;
    return 0;
}

/* ---- menus ---- */

static int menus_list(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    json_t *items;
    int rc = cms__menu_list(req->db, t, req->arena, &items);
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 200, json_pack("{s:O}", "items", items));
}

static int menus_get(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    json_t *out;
    int rc = cms__menu_get(req->db, t, http_param(req, "slug"), false, req->arena, &out);
    if (rc < 0) return fail(res, rc, NULL, "menu");
    return http_json(res, 200, json_incref(out));
}

static int menus_put(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res), *why = NULL;
    if (!t) return ERR_VALIDATION;
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    json_t *out;
    if ((rc = cms__menu_put(req->db, t, http_param(req, "slug"), body, req->arena, &out, &why)) < 0)
        return fail(res, rc, why, "menu");
    return http_json(res, 200, json_incref(out));
}

static int menus_delete(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    int rc = cms__menu_delete(req->db, t, http_param(req, "slug"));
    if (rc < 0) return fail(res, rc, NULL, "menu");
    res->status = 204;
    return 0;
}

/* ---- forms ---- */

static int forms_list(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    json_t *items;
    int rc = cms__form_list(req->db, t, req->arena, &items);
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 200, json_pack("{s:O}", "items", items));
}

static int forms_write(http_req_t *req, http_res_t *res, bool create)
{
    const char *t = tenant_of(req, res), *why = NULL;
    if (!t) return ERR_VALIDATION;
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    json_t *out;
    if ((rc = cms__form_put(req->db, t, create ? NULL : http_param(req, "slug"), body, create,
                            req->arena, &out, &why)) < 0)
        return fail(res, rc, why, "form");
    return http_json(res, create ? 201 : 200, json_incref(out));
}

static int forms_create(http_req_t *req, http_res_t *res) { return forms_write(req, res, true); }
static int forms_update(http_req_t *req, http_res_t *res) { return forms_write(req, res, false); }

static int forms_get(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    json_t *out;
    int rc = cms__form_get(req->db, t, http_param(req, "slug"), req->arena, &out);
    if (rc < 0) return fail(res, rc, NULL, "form");
    return http_json(res, 200, json_incref(out));
}

static int submissions_list(http_req_t *req, http_res_t *res)
{
    const char *t = tenant_of(req, res);
    if (!t) return ERR_VALIDATION;
    int limit, rc;
    if ((rc = limit_of(req, res, &limit)) < 0) return rc;
    json_t *items = json_array();
    bool more = false;
    rc = cms__submission_list(req->db, t, http_param(req, "slug"), http_query(req, "after"), limit,
                              req->arena, items, &more);
    if (rc < 0) {
        json_decref(items);
        return fail(res, rc, NULL, "form");
    }
    json_t *last = json_array_get(items, json_array_size(items) - 1);
    return http_json(res, 200,
                     json_pack("{s:o, s:o}", "items", items, "next",
                               more && last ? json_incref(json_object_get(last, "id")) : json_null()));
}

/* ---- public delivery (/api/v2) ---- */

static int v2_pages_list(http_req_t *req, http_res_t *res)
{
    char tenant[64];
    int rc = cms__public_begin(req, res, false, tenant);
    if (rc < 0) return rc;
    int limit = 20, offset = 0;
    const char *l = http_query(req, "limit"), *o = http_query(req, "offset");
    if (l) limit = atoi(l);
    if (o) offset = atoi(o);
    if (limit < 1 || limit > 100 || offset < 0) {
        cms__public_end(req, res, -1);
        return http_error(res, ERR_VALIDATION, "limit must be 1..100 and offset >= 0");
    }
    const char *type = http_query(req, "type");
    json_t *items = cms__own(req->arena, json_array());
    int64_t total = 0;
    rc = cms__live_list(req->db, tenant, type && *type ? type : NULL, http_query(req, "child_of"),
                        limit, offset, req->arena, items, &total);
    if (rc == 0)
        http_json(res, 200, json_pack("{s:{s:I}, s:O}", "meta", "total_count", (json_int_t)total,
                                      "items", items));
    else
        http_error(res, rc, NULL);
    return cms__public_end(req, res, rc);
}

static int v2_pages_one(http_req_t *req, http_res_t *res, bool by_path)
{
    char tenant[64];
    int rc = cms__public_begin(req, res, false, tenant);
    if (rc < 0) return rc;
    json_t *out = NULL;
    const char *key = by_path ? http_query(req, "path") : http_param(req, "id");
    if (!key) {
        cms__public_end(req, res, -1);
        return http_error(res, ERR_VALIDATION, "query parameter 'path' is required");
    }
    rc = by_path ? cms__live_by_path(req->db, tenant, key, req->arena, &out)
                 : cms__live_by_id(req->db, tenant, key, req->arena, &out);
    if (rc == 0)
        http_json(res, 200, json_incref(out));
    else
        fail(res, rc, NULL, "page");
    return cms__public_end(req, res, rc);
}

static int v2_pages_get(http_req_t *req, http_res_t *res) { return v2_pages_one(req, res, false); }
static int v2_pages_find(http_req_t *req, http_res_t *res) { return v2_pages_one(req, res, true); }

static int v2_menu(http_req_t *req, http_res_t *res)
{
    char tenant[64];
    int rc = cms__public_begin(req, res, false, tenant);
    if (rc < 0) return rc;
    json_t *out;
    rc = cms__menu_get(req->db, tenant, http_param(req, "slug"), true, req->arena, &out);
    if (rc == 0)
        http_json(res, 200, json_incref(out));
    else
        fail(res, rc, NULL, "menu");
    return cms__public_end(req, res, rc);
}

static int v2_form_get(http_req_t *req, http_res_t *res)
{
    char tenant[64];
    int rc = cms__public_begin(req, res, false, tenant);
    if (rc < 0) return rc;
    json_t *out;
    rc = cms__form_get(req->db, tenant, http_param(req, "slug"), req->arena, &out);
    if (rc == 0)
        http_json(res, 200, json_pack("{s:O, s:O, s:O}", "slug", json_object_get(out, "slug"), "title",
                                      json_object_get(out, "title"), "fields",
                                      json_object_get(out, "fields")));
    else
        fail(res, rc, NULL, "form");
    return cms__public_end(req, res, rc);
}

static int v2_form_submit(http_req_t *req, http_res_t *res)
{
    if (cms__form_rate_check(req, res) < 0) return 0;
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    char tenant[64];
    if ((rc = cms__public_begin(req, res, true, tenant)) < 0) return rc;
    json_t *out = NULL;
    const char *slug = http_param(req, "slug");
    cms_form_handler_fn handler = cms__form_handler(slug); /* e.g. the contact flow's */
    rc = handler ? handler(req->db, tenant, body, req->remote_addr, req->arena, &out)
                 : cms_form_submit(req->db, tenant, slug, body, req->remote_addr, req->arena, &out);
    if (rc == 0) {
        http_json(res, 201, json_pack("{s:b, s:O}", "success", 1, "submission_id",
                                      json_object_get(out, handler ? "submission_id" : "id")));
    } else if (rc == ERR_VALIDATION && out) {
        http_error(res, rc, "%s", json_string_value(json_object_get(out, "message")));
        /* the per-field messages go along with the error envelope */
        json_t *env = json_loadb(res->body.p, res->body.n, 0, NULL);
        json_object_set(json_object_get(env, "error"), "fields", json_object_get(out, "errors"));
        http_json(res, 422, env);
    } else {
        fail(res, rc, NULL, "form");
    }
    return cms__public_end(req, res, rc);
}

static const route_t routes[] = {
    {"GET", "/api/v1/cms/pages", "cms.view", "List pages (draft side)", pages_list, 0},
    {"POST", "/api/v1/cms/pages", "cms.edit", "Create a page", pages_create, 0},
    {"GET", "/api/v1/cms/pages/{id}", "cms.view", "Get a page", pages_get, 0},
    {"PATCH", "/api/v1/cms/pages/{id}", "cms.edit", "Edit a page (new revision)", pages_update, 0},
    {"DELETE", "/api/v1/cms/pages/{id}", "cms.edit", "Delete a page without children", pages_delete, 0},
    {"POST", "/api/v1/cms/pages/{id}/publish", "cms.publish", "Publish now or at a time", pages_publish, 0},
    {"POST", "/api/v1/cms/pages/{id}/unpublish", "cms.publish", "Unpublish a page", pages_unpublish, 0},
    {"GET", "/api/v1/cms/pages/{id}/revisions", "cms.view", "List a page's revisions", revisions_list, 0},
    {"GET", "/api/v1/cms/pages/{id}/revisions/{n}", "cms.view", "View a revision", revisions_get, 0},
    {"POST", "/api/v1/cms/pages/{id}/revisions/{n}/revert", "cms.edit", "Revert to a revision",
     revisions_revert, 0},
    {"GET", "/api/v1/cms/media", "cms.view", "List media", media_list, 0},
    {"POST", "/api/v1/cms/media", "cms.edit", "Upload an image (raw or multipart)", media_upload, 0},
    {"GET", "/api/v1/cms/media/{id}", "cms.view", "Get an image's metadata", media_get, 0},
    {"DELETE", "/api/v1/cms/media/{id}", "cms.edit", "Delete an image", media_delete, 0},
    {"GET", "/api/v1/cms/redirects", "cms.view", "List redirects", redirects_list, 0},
    {"POST", "/api/v1/cms/redirects", "cms.edit", "Create a redirect", redirects_create, 0},
    {"DELETE", "/api/v1/cms/redirects/{id}", "cms.edit", "Delete a redirect", redirects_delete, 0},
    {"GET", "/api/v1/cms/menus", "cms.view", "List menus", menus_list, 0},
    {"GET", "/api/v1/cms/menus/{slug}", "cms.view", "Get a menu", menus_get, 0},
    {"PUT", "/api/v1/cms/menus/{slug}", "cms.edit", "Create or replace a menu", menus_put, 0},
    {"DELETE", "/api/v1/cms/menus/{slug}", "cms.edit", "Delete a menu", menus_delete, 0},
    {"GET", "/api/v1/cms/forms", "cms.view", "List forms", forms_list, 0},
    {"POST", "/api/v1/cms/forms", "cms.edit", "Create a form", forms_create, 0},
    {"GET", "/api/v1/cms/forms/{slug}", "cms.view", "Get a form", forms_get, 0},
    {"PATCH", "/api/v1/cms/forms/{slug}", "cms.edit", "Edit a form", forms_update, 0},
    {"GET", "/api/v1/cms/forms/{slug}/submissions", "cms.submissions", "List a form's submissions",
     submissions_list, 0},
    {"GET", "/api/v2/pages", NULL, "Published pages of the Host's site", v2_pages_list,
     RT_PUBLIC | RT_NO_TX},
    {"GET", "/api/v2/pages/find", NULL, "A published page by path (?path=)", v2_pages_find,
     RT_PUBLIC | RT_NO_TX},
    {"GET", "/api/v2/pages/{id}", NULL, "A published page by id", v2_pages_get, RT_PUBLIC | RT_NO_TX},
    {"GET", "/api/v2/menus/{slug}", NULL, "A menu with published pages only", v2_menu,
     RT_PUBLIC | RT_NO_TX},
    {"GET", "/api/v2/forms/{slug}", NULL, "A form's public field schema", v2_form_get,
     RT_PUBLIC | RT_NO_TX},
    {"POST", "/api/v2/forms/{slug}/submissions", NULL, "Submit a form (JSON)", v2_form_submit,
     RT_PUBLIC | RT_NO_TX},
};

void cms_register(router_t *r, const config_t *cfg)
{
    cms__cfg = cfg;
    router_add(r, routes, sizeof routes / sizeof routes[0]);
    cms__site_register(r);
    auth_grant(ROLE_TENANT_ADMIN, "cms.*");
    auth_grant(ROLE_MANAGER, "cms.*");
    auth_grant(ROLE_CLIENT, "cms.view");
}
