/* http.c — the vault's KV v2 style routes under /v1/secret.
 *
 * Every handler: normalize the path, resolve its storage tenant, authorize
 * (404 for another tenant's path, 403 when policies deny), lock the audit
 * chain, do the operation, append the audit entry, raise a domain event for
 * writes (never with a value), answer. Routes need only authentication at
 * the kernel level (permission NULL): the vault's own policies decide.
 *
 * Auditing failures: a failing handler's transaction is rolled back by the
 * kernel, which would take the audit entry with it. So on failure the
 * handler rolls back itself, appends the entry in a transaction of its own
 * on the same connection, commits it, and then returns the error (the
 * kernel's rollback then finds nothing open). The chain written to is the
 * caller's tenant for tenant callers (RLS lets them write nowhere else) and
 * the path's storage tenant for platform callers.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "events/events.h"
#include "log.h"
#include "vault_internal.h"

typedef struct op {
    vault_caller_t caller;
    vault_path_t path;
    const char *name;  /* audit operation */
    const char *chain; /* audit chain tenant */
} op_t;

static bool want(const http_req_t *req, const char *q)
{
    const char *v = http_query(req, q);
    return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

/* begin: resolves and authorizes; on failure audits and answers. */
static int begin(http_req_t *req, http_res_t *res, op_t *o, const char *name, unsigned cap,
                 bool list);
static int finish(http_req_t *req, http_res_t *res, op_t *o, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static const char *chain_of(const op_t *o)
{
    if (!vault__is_platform(&o->caller)) return o->caller.tenant_id;
    return o->path.tenant[0] ? o->path.tenant : VAULT_PLATFORM_TENANT;
}

static void audit_failure(http_req_t *req, op_t *o, int rc)
{
    db_t *db = req->db;
    db_rollback(db);
    int arc = vault__is_platform(&o->caller) ? db_begin_platform(db, true)
                                             : db_begin(db, o->caller.tenant_id, true);
    if (arc == 0)
        arc = vault__audit_append(db, chain_of(o), o->caller.actor, o->name,
                                  o->path.path ? o->path.path : "", err_api_code(rc));
    if (arc == 0) arc = db_commit(db);
    if (arc < 0) {
        log_kv(LOG_ERROR, "vault: cannot audit a failed access", "error", db_errmsg(db), "request_id",
               req->request_id, NULL);
        db_rollback(db);
    }
}

static int finish(http_req_t *req, http_res_t *res, op_t *o, int rc, const char *fmt, ...)
{
    if (rc == 0) {
        rc = vault__audit_append(req->db, chain_of(o), o->caller.actor, o->name, o->path.path, "ok");
        return rc < 0 ? http_error(res, rc, NULL) : 0;
    }
    if (rc != ERR_DB && rc != ERR_DB_UNAVAILABLE) audit_failure(req, o, rc);
    if (!fmt) return http_error(res, rc, NULL);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return http_error(res, rc, "%s", msg);
}

static int begin(http_req_t *req, http_res_t *res, op_t *o, const char *name, unsigned cap,
                 bool list)
{
    memset(o, 0, sizeof *o);
    o->caller = (vault_caller_t){req->auth.user_id, req->auth.tenant_id, req->auth.roles};
    o->name = name;
    const char *raw = http_param(req, "path");
    int rc = vault__path_check(req->arena, raw, list, &o->path);
    if (rc < 0) {
        o->path.path = "";
        return finish(req, res, o, rc, "the secret path is malformed");
    }
    if (list && !o->path.tenant[0] && !vault__is_platform(&o->caller)) {
        /* "", "tenant": a tenant caller may list down to its own subtree */
    } else if ((rc = vault__authorize(&o->caller, &o->path, cap)) < 0) {
        if (rc == ERR_NOT_FOUND) return finish(req, res, o, rc, "no secret at %s", o->path.path);
        return finish(req, res, o, rc, "the vault policy denies %s on %s", name, o->path.path);
    }
    if ((rc = vault__audit_lock(req->db, chain_of(o))) < 0) return http_error(res, rc, NULL);
    return 0;
}

static json_t *version_json(const vault_version_info_t *v)
{
    return json_pack("{s:I, s:s, s:s, s:b}", "version", (json_int_t)v->version, "created_time",
                     v->created_at ? v->created_at : "", "deletion_time",
                     v->deleted_at ? v->deleted_at : "", "destroyed", v->destroyed);
}

static void raise_event(http_req_t *req, op_t *o, const char *type, json_t *payload)
{
    json_object_set_new(payload, "path", json_string(o->path.path));
    int rc = ev_raise_db(req->db, o->path.tenant, "secret", o->path.path, type, payload, NULL);
    if (rc < 0)
        log_kv(LOG_WARN, "vault: cannot raise event", "event_type", type, "error", db_errmsg(req->db),
               NULL);
}

static int data_get(http_req_t *req, http_res_t *res)
{
    op_t o;
    int rc = begin(req, res, &o, "read", VCAP_READ, false);
    if (rc < 0) return rc;
    int64_t version = 0;
    const char *v = http_query(req, "version");
    if (v) {
        char *end;
        version = strtoll(v, &end, 10);
        if (!*v || *end || version < 0) return finish(req, res, &o, ERR_VALIDATION, "version must be >= 0");
    }
    char *plain = NULL;
    size_t len = 0;
    vault_version_info_t info;
    rc = vault__kv_read(req->db, req->arena, &o.path, version, &plain, &len, &info);
    if (rc < 0) return finish(req, res, &o, rc, rc == ERR_NOT_FOUND ? "no live secret at %s" : "%s",
                              o.path.path);
    json_t *data = json_loadb(plain, len, 0, NULL);
    sodium_memzero(plain, len);
    free(plain);
    if (!data) return finish(req, res, &o, ERR_INTERNAL, "the stored secret is not JSON");
    rc = finish(req, res, &o, 0, NULL);
    if (rc < 0) {
        json_decref(data);
        return rc;
    }
    return http_json(res, 200, json_pack("{s:{s:o, s:o}}", "data", "data", data, "metadata",
                                         version_json(&info)));
}

static int data_put(http_req_t *req, http_res_t *res)
{
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    static const char *const allowed[] = {"data", "options", NULL};
    if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
    json_t *data = json_object_get(body, "data");
    if (!json_is_object(data)) return http_error(res, ERR_VALIDATION, "field 'data' must be an object");
    int64_t cas = -1;
    json_t *opts = json_object_get(body, "options");
    if (opts && !json_is_null(opts)) {
        if (!json_is_object(opts)) return http_error(res, ERR_VALIDATION, "field 'options' must be an object");
        static const char *const oallowed[] = {"cas", NULL};
        if ((rc = json_reject_unknown(res, opts, oallowed)) < 0) return rc;
        if (json_object_get(opts, "cas") &&
            (rc = json_field_int(res, opts, "cas", false, 0, INT32_MAX, &cas)) < 0)
            return rc;
    }
    op_t o;
    if ((rc = begin(req, res, &o, "write", 0, false)) < 0) return rc;
    rc = vault__kv_exists(req->db, &o.path);
    if (rc < 0) return http_error(res, rc, NULL);
    unsigned cap = rc == 1 ? VCAP_UPDATE : VCAP_CREATE;
    o.name = rc == 1 ? "update" : "create";
    if ((vault__caps(&o.caller, o.path.path) & cap) != cap)
        return finish(req, res, &o, ERR_FORBIDDEN, "the vault policy denies %s on %s", o.name,
                      o.path.path);
    char *text = json_dumps(data, JSON_COMPACT);
    size_t len = strlen(text);
    if (len > VAULT_MAX_SECRET) {
        sodium_memzero(text, len);
        free(text);
        return finish(req, res, &o, ERR_TOO_LARGE, "a secret is at most %d bytes", VAULT_MAX_SECRET);
    }
    vault_version_info_t info;
    rc = vault__kv_write(req->db, req->arena, &o.path, text, len, cas, &info);
    sodium_memzero(text, len);
    free(text);
    if (rc == ERR_CONFLICT)
        return finish(req, res, &o, rc, "check-and-set parameter did not match the current version");
    if (rc == ERR_PRECONDITION)
        return finish(req, res, &o, rc, "check-and-set parameter required for this path");
    if (rc < 0) return finish(req, res, &o, rc, NULL);
    raise_event(req, &o, "SecretWritten", json_pack("{s:I}", "version", (json_int_t)info.version));
    if ((rc = finish(req, res, &o, 0, NULL)) < 0) return rc;
    return http_json(res, 200, json_pack("{s:o}", "data", version_json(&info)));
}

/* versions_body: {"versions": [1, 2]} into a request-arena array. */
static int versions_body(http_req_t *req, http_res_t *res, int64_t **vs, size_t *n)
{
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    static const char *const allowed[] = {"versions", NULL};
    if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
    json_t *arr = json_object_get(body, "versions");
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 1000)
        return http_error(res, ERR_VALIDATION, "field 'versions' must be a non-empty array of versions");
    *n = json_array_size(arr);
    *vs = arena_alloc(req->arena, *n * sizeof **vs);
    for (size_t i = 0; i < *n; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return http_error(res, ERR_VALIDATION, "versions must be positive integers");
        (*vs)[i] = json_integer_value(v);
    }
    return 0;
}

static int versions_op(http_req_t *req, http_res_t *res, const char *op, bool body)
{
    int64_t *vs = NULL;
    size_t n = 0;
    int rc;
    if (body && (rc = versions_body(req, res, &vs, &n)) < 0) return rc;
    op_t o;
    if ((rc = begin(req, res, &o, op, VCAP_DELETE, false)) < 0) return rc;
    rc = vault__kv_versions_op(req->db, &o.path, op, vs, n);
    if (rc < 0) return finish(req, res, &o, rc, rc == ERR_NOT_FOUND ? "no secret at %s" : "%s", o.path.path);
    json_t *p = json_object();
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, json_integer((json_int_t)vs[i]));
    json_object_set_new(p, "versions", arr);
    raise_event(req, &o,
          !strcmp(op, "delete") ? "SecretDeleted"
          : !strcmp(op, "undelete") ? "SecretUndeleted"
                                   : "SecretDestroyed",
          p);
    if ((rc = finish(req, res, &o, 0, NULL)) < 0) return rc;
    res->status = 204;
    return 0;
}

static int data_delete(http_req_t *req, http_res_t *res) { return versions_op(req, res, "delete", false); }
static int delete_versions(http_req_t *req, http_res_t *res) { return versions_op(req, res, "delete", true); }
static int undelete_versions(http_req_t *req, http_res_t *res) { return versions_op(req, res, "undelete", true); }
static int destroy_versions(http_req_t *req, http_res_t *res) { return versions_op(req, res, "destroy", true); }

/* list_keys: Vault's listing: the direct children of prefix ("a", "dir/"),
 * or with recursive every path below it (relative to the prefix). */
static json_t *list_keys(json_t *paths, const char *prefix, bool recursive)
{
    size_t pl = strlen(prefix);
    json_t *keys = json_array(), *seen = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(paths, i, v) {
        const char *rest = json_string_value(v) + pl + (pl ? 1 : 0);
        char key[VAULT_MAX_PATH + 2];
        if (recursive) {
            snprintf(key, sizeof key, "%s", rest);
        } else {
            size_t sl = strcspn(rest, "/");
            snprintf(key, sizeof key, "%.*s%s", (int)sl, rest, rest[sl] ? "/" : "");
        }
        if (!json_object_get(seen, key)) {
            json_object_set_new(seen, key, json_true());
            json_array_append_new(keys, json_string(key));
        }
    }
    json_decref(seen);
    return keys;
}

static int metadata_get(http_req_t *req, http_res_t *res)
{
    bool list = want(req, "list");
    op_t o;
    int rc = begin(req, res, &o, list ? "list" : "read-metadata", list ? VCAP_LIST : VCAP_READ, list);
    if (rc < 0) return rc;
    if (list) {
        json_t *paths;
        rc = vault__kv_list(req->db, &o.caller, o.path.path, &paths);
        if (rc < 0) return finish(req, res, &o, rc, NULL);
        json_t *keys = list_keys(paths, o.path.path, want(req, "recursive"));
        json_decref(paths);
        if (json_array_size(keys) == 0) {
            json_decref(keys);
            return finish(req, res, &o, ERR_NOT_FOUND, "nothing to list under %s", o.path.path);
        }
        if ((rc = finish(req, res, &o, 0, NULL)) < 0) {
            json_decref(keys);
            return rc;
        }
        return http_json(res, 200, json_pack("{s:{s:o}}", "data", "keys", keys));
    }
    json_t *meta;
    rc = vault__kv_metadata(req->db, req->arena, &o.path, &meta);
    if (rc < 0) return finish(req, res, &o, rc, rc == ERR_NOT_FOUND ? "no secret at %s" : "%s", o.path.path);
    if ((rc = finish(req, res, &o, 0, NULL)) < 0) {
        json_decref(meta);
        return rc;
    }
    return http_json(res, 200, json_pack("{s:o}", "data", meta));
}

static int metadata_put(http_req_t *req, http_res_t *res)
{
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    static const char *const allowed[] = {"max_versions", "cas_required", NULL};
    if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
    int64_t maxv = -1;
    if (json_object_get(body, "max_versions") &&
        (rc = json_field_int(res, body, "max_versions", false, 0, 1000, &maxv)) < 0)
        return rc;
    json_t *cr = json_object_get(body, "cas_required");
    if (cr && !json_is_boolean(cr)) return http_error(res, ERR_VALIDATION, "field 'cas_required' must be a boolean");
    op_t o;
    if ((rc = begin(req, res, &o, "write-metadata", VCAP_UPDATE, false)) < 0) return rc;
    rc = vault__kv_metadata_set(req->db, &o.path, maxv, cr ? json_is_true(cr) : -1);
    if (rc < 0) return finish(req, res, &o, rc, NULL);
    if ((rc = finish(req, res, &o, 0, NULL)) < 0) return rc;
    res->status = 204;
    return 0;
}

static int metadata_delete(http_req_t *req, http_res_t *res)
{
    op_t o;
    int rc = begin(req, res, &o, "delete-metadata", VCAP_DELETE, false);
    if (rc < 0) return rc;
    rc = vault__kv_metadata_delete(req->db, &o.path);
    if (rc < 0) return finish(req, res, &o, rc, rc == ERR_NOT_FOUND ? "no secret at %s" : "%s", o.path.path);
    raise_event(req, &o, "SecretMetadataDeleted", json_object());
    if ((rc = finish(req, res, &o, 0, NULL)) < 0) return rc;
    res->status = 204;
    return 0;
}

static const route_t routes[] = {
    {"GET", "/v1/secret/data/{path...}", NULL, "Read a secret version (?version=N; default current)",
     data_get, RT_PLATFORM | RT_WRITES},
    {"PUT", "/v1/secret/data/{path...}", NULL,
     "Write a new secret version ({data, options: {cas}})", data_put, RT_PLATFORM},
    {"POST", "/v1/secret/data/{path...}", NULL, "Write a new secret version (same as PUT)", data_put,
     RT_PLATFORM},
    {"DELETE", "/v1/secret/data/{path...}", NULL, "Soft-delete the current version", data_delete,
     RT_PLATFORM},
    {"POST", "/v1/secret/delete/{path...}", NULL, "Soft-delete versions ({versions})",
     delete_versions, RT_PLATFORM},
    {"POST", "/v1/secret/undelete/{path...}", NULL, "Restore soft-deleted versions ({versions})",
     undelete_versions, RT_PLATFORM},
    {"POST", "/v1/secret/destroy/{path...}", NULL, "Destroy versions permanently ({versions})",
     destroy_versions, RT_PLATFORM},
    {"GET", "/v1/secret/metadata/{path...}", NULL,
     "Metadata of a path, or with ?list=true (&recursive=true) the keys under a prefix",
     metadata_get, RT_PLATFORM | RT_WRITES},
    {"PUT", "/v1/secret/metadata/{path...}", NULL, "Set max_versions / cas_required of a path",
     metadata_put, RT_PLATFORM},
    {"POST", "/v1/secret/metadata/{path...}", NULL, "Set max_versions / cas_required (same as PUT)",
     metadata_put, RT_PLATFORM},
    {"DELETE", "/v1/secret/metadata/{path...}", NULL, "Delete a path with every version",
     metadata_delete, RT_PLATFORM},
};

void vault_register(router_t *r) { router_add(r, routes, sizeof routes / sizeof routes[0]); }
