/* kv.c — the vault's storage operations (KV v2 semantics), each inside the
 * caller's open transaction. Authorization and auditing are the caller's
 * job (http.c, vault.c); this file only knows rows and ciphertext.
 *
 * A path's metadata row (vault_secrets) holds current_version, max_versions
 * (0 = VAULT_DEFAULT_MAX_VERSIONS) and cas_required. Each write adds version
 * current+1 and prunes versions older than the newest max_versions. Soft
 * delete sets deleted_at (undelete clears it); destroy drops the ciphertext
 * for good. Reads of a deleted or destroyed version are "not found".
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "vault_internal.h"

static void now_text(char out[32]) { clock_rfc3339(clock_now_ms(), out); }

typedef struct meta {
    int64_t current, max_versions;
    bool cas_required;
} meta_t;

/* load_meta: 1 with *m filled, 0 when the path has no metadata, <0. */
static int load_meta(db_t *db, const vault_path_t *p, meta_t *m)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT current_version, max_versions, cas_required FROM vault_secrets "
                      "WHERE tenant_id = $1 AND path = $2",
                      DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) *m = (meta_t){db_res_int(r, 0), db_res_int(r, 1), db_res_int(r, 2) != 0};
    db_res_free(r);
    return rc;
}

int vault__kv_exists(db_t *db, const vault_path_t *p)
{
    meta_t m;
    return load_meta(db, p, &m);
}

int vault__kv_read(db_t *db, arena_t *a, const vault_path_t *p, int64_t version, char **plain,
                   size_t *len, vault_version_info_t *info)
{
    *plain = NULL;
    memset(info, 0, sizeof *info);
    meta_t m;
    int rc = load_meta(db, p, &m);
    if (rc <= 0) return rc < 0 ? rc : ERR_NOT_FOUND;
    int64_t v = version > 0 ? version : m.current;
    db_res_t *r;
    rc = db_query(db, &r,
                  "SELECT ciphertext, created_at, deleted_at, destroyed FROM vault_versions "
                  "WHERE tenant_id = $1 AND path = $2 AND version = $3",
                  DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path), DB_INT(v)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc != 1) {
        db_res_free(r);
        return rc < 0 ? rc : ERR_NOT_FOUND;
    }
    info->version = v;
    info->created_at = arena_strdup(a, db_res_text(r, 1));
    info->deleted_at = db_res_isnull(r, 2) ? NULL : arena_strdup(a, db_res_text(r, 2));
    info->destroyed = db_res_int(r, 3) != 0;
    char *ct = db_res_isnull(r, 0) ? NULL : xstrdup(db_res_text(r, 0));
    db_res_free(r);
    if (!ct || info->deleted_at || info->destroyed) {
        free(ct);
        return ERR_NOT_FOUND;
    }
    unsigned char key[VAULT_KEY_BYTES];
    rc = vault__data_key(db, p->tenant, false, key);
    if (rc == 0) rc = vault__open(key, p->tenant, p->path, v, ct, plain, len);
    sodium_memzero(key, sizeof key);
    free(ct);
    return rc == ERR_NOT_FOUND ? ERR_INTERNAL : rc; /* a version without its key is damage */
}

int vault__kv_write(db_t *db, arena_t *a, const vault_path_t *p, const char *plain, size_t len,
                    int64_t cas, vault_version_info_t *info)
{
    memset(info, 0, sizeof *info);
    meta_t m = {0, 0, false};
    int rc = load_meta(db, p, &m);
    if (rc < 0) return rc;
    bool exists = rc == 1;
    if (m.cas_required && cas < 0) return ERR_PRECONDITION;
    if (cas >= 0 && cas != m.current) return ERR_CONFLICT;
    int64_t v = m.current + 1;
    unsigned char key[VAULT_KEY_BYTES];
    rc = vault__data_key(db, p->tenant, true, key);
    if (rc < 0) return rc;
    char *ct = vault__seal(key, p->tenant, p->path, v, plain, len);
    sodium_memzero(key, sizeof key);
    char now[32];
    now_text(now);
    rc = db_exec(db, NULL,
                 "INSERT INTO vault_versions (tenant_id, path, version, ciphertext, created_at) "
                 "VALUES ($1, $2, $3, $4, $5)",
                 DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path), DB_INT(v), DB_TEXT(ct), DB_TEXT(now)));
    free(ct);
    if (rc < 0) return rc == ERR_EXISTS ? ERR_CONFLICT : rc;
    if (exists)
        rc = db_exec(db, NULL,
                     "UPDATE vault_secrets SET current_version = $3, updated_at = $4 "
                     "WHERE tenant_id = $1 AND path = $2",
                     DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path), DB_INT(v), DB_TEXT(now)));
    else
        rc = db_exec(db, NULL,
                     "INSERT INTO vault_secrets (tenant_id, path, current_version, created_at, "
                     "updated_at) VALUES ($1, $2, $3, $4, $4)",
                     DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path), DB_INT(v), DB_TEXT(now)));
    if (rc < 0) return rc == ERR_EXISTS ? ERR_CONFLICT : rc;
    int64_t keep = m.max_versions > 0 ? m.max_versions : VAULT_DEFAULT_MAX_VERSIONS;
    if (v > keep)
        rc = db_exec(db, NULL,
                     "DELETE FROM vault_versions WHERE tenant_id = $1 AND path = $2 AND version <= $3",
                     DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path), DB_INT(v - keep)));
    info->version = v;
    info->created_at = arena_strdup(a, now);
    return rc;
}

int vault__kv_versions_op(db_t *db, const vault_path_t *p, const char *op, const int64_t *vs,
                          size_t nv)
{
    meta_t m;
    int rc = load_meta(db, p, &m);
    if (rc <= 0) return rc < 0 ? rc : ERR_NOT_FOUND;
    char now[32];
    now_text(now);
    size_t n = nv ? nv : 1;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        int64_t v = nv ? vs[i] : m.current;
        if (strcmp(op, "delete") == 0)
            rc = db_exec(db, NULL,
                         "UPDATE vault_versions SET deleted_at = $4 WHERE tenant_id = $1 AND "
                         "path = $2 AND version = $3 AND deleted_at IS NULL AND destroyed = $5",
                         DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path), DB_INT(v), DB_TEXT(now),
                                 DB_BOOL(false)));
        else if (strcmp(op, "undelete") == 0)
            rc = db_exec(db, NULL,
                         "UPDATE vault_versions SET deleted_at = NULL WHERE tenant_id = $1 AND "
                         "path = $2 AND version = $3 AND destroyed = $4",
                         DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path), DB_INT(v), DB_BOOL(false)));
        else
            rc = db_exec(db, NULL,
                         "UPDATE vault_versions SET ciphertext = NULL, destroyed = $4 "
                         "WHERE tenant_id = $1 AND path = $2 AND version = $3",
                         DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path), DB_INT(v), DB_BOOL(true)));
    }
    return rc < 0 ? rc : 0;
}

int vault__kv_metadata(db_t *db, arena_t *a, const vault_path_t *p, json_t **out)
{
    *out = NULL;
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT current_version, max_versions, cas_required, created_at, updated_at "
                      "FROM vault_secrets WHERE tenant_id = $1 AND path = $2",
                      DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc != 1) {
        db_res_free(r);
        return rc < 0 ? rc : ERR_NOT_FOUND;
    }
    int64_t maxv = db_res_int(r, 1);
    json_t *j = json_pack("{s:s, s:I, s:I, s:b, s:s, s:s}", "path", p->path, "current_version",
                          (json_int_t)db_res_int(r, 0), "max_versions",
                          (json_int_t)(maxv > 0 ? maxv : VAULT_DEFAULT_MAX_VERSIONS),
                          "cas_required", db_res_int(r, 2) != 0, "created_time",
                          arena_strdup(a, db_res_text(r, 3)), "updated_time",
                          arena_strdup(a, db_res_text(r, 4)));
    db_res_free(r);
    rc = db_query(db, &r,
                  "SELECT version, created_at, deleted_at, destroyed FROM vault_versions "
                  "WHERE tenant_id = $1 AND path = $2 ORDER BY version",
                  DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path)));
    if (rc < 0) {
        json_decref(j);
        return rc;
    }
    json_t *versions = json_object();
    int64_t oldest = 0;
    while ((rc = db_res_next(r)) == 1) {
        char k[24];
        int64_t v = db_res_int(r, 0);
        if (!oldest) oldest = v;
        snprintf(k, sizeof k, "%lld", (long long)v);
        json_object_set_new(versions, k,
                            json_pack("{s:s, s:s, s:b}", "created_time", db_res_text(r, 1),
                                      "deletion_time",
                                      db_res_isnull(r, 2) ? "" : db_res_text(r, 2), "destroyed",
                                      db_res_int(r, 3) != 0));
    }
    db_res_free(r);
    json_object_set_new(j, "oldest_version", json_integer((json_int_t)oldest));
    json_object_set_new(j, "versions", versions);
    if (rc < 0) {
        json_decref(j);
        return rc;
    }
    *out = j;
    return 0;
}

int vault__kv_metadata_set(db_t *db, const vault_path_t *p, int64_t max_versions, int cas_required)
{
    meta_t m;
    int rc = load_meta(db, p, &m);
    if (rc < 0) return rc;
    char now[32];
    now_text(now);
    if (rc == 0) {
        rc = db_exec(db, NULL,
                     "INSERT INTO vault_secrets (tenant_id, path, current_version, max_versions, "
                     "cas_required, created_at, updated_at) VALUES ($1, $2, 0, $3, $4, $5, $5)",
                     DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path),
                             DB_INT(max_versions >= 0 ? max_versions : 0),
                             DB_BOOL(cas_required > 0), DB_TEXT(now)));
        return rc;
    }
    if (max_versions >= 0) m.max_versions = max_versions;
    if (cas_required >= 0) m.cas_required = cas_required > 0;
    rc = db_exec(db, NULL,
                 "UPDATE vault_secrets SET max_versions = $3, cas_required = $4, updated_at = $5 "
                 "WHERE tenant_id = $1 AND path = $2",
                 DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path), DB_INT(m.max_versions),
                         DB_BOOL(m.cas_required), DB_TEXT(now)));
    if (rc == 0 && m.max_versions > 0 && m.current > m.max_versions)
        rc = db_exec(db, NULL,
                     "DELETE FROM vault_versions WHERE tenant_id = $1 AND path = $2 AND version <= $3",
                     DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path),
                             DB_INT(m.current - m.max_versions)));
    return rc;
}

int vault__kv_metadata_delete(db_t *db, const vault_path_t *p)
{
    int64_t n = 0;
    int rc = db_exec(db, &n, "DELETE FROM vault_secrets WHERE tenant_id = $1 AND path = $2",
                     DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path)));
    if (rc < 0) return rc;
    if (n == 0) return ERR_NOT_FOUND;
    return db_exec(db, NULL, "DELETE FROM vault_versions WHERE tenant_id = $1 AND path = $2",
                   DB_ARGS(DB_TEXT(p->tenant), DB_TEXT(p->path)));
}

int vault__kv_list(db_t *db, const vault_caller_t *c, const char *prefix, json_t **out)
{
    *out = NULL;
    char *pre = xmalloc(strlen(prefix) + 2);
    sprintf(pre, "%s%s", prefix, *prefix ? "/" : "");
    db_res_t *r;
    int rc;
    const char *sql_all = "SELECT path FROM vault_secrets WHERE substr(path, 1, CAST($1 AS integer)) = $2 "
                          "ORDER BY path";
    const char *sql_tenant = "SELECT path FROM vault_secrets WHERE substr(path, 1, CAST($1 AS integer)) = "
                             "$2 AND tenant_id = $3 ORDER BY path";
    if (vault__is_platform(c))
        rc = db_query(db, &r, sql_all, DB_ARGS(DB_INT(strlen(pre)), DB_TEXT(pre)));
    else
        rc = db_query(db, &r, sql_tenant,
                      DB_ARGS(DB_INT(strlen(pre)), DB_TEXT(pre), DB_TEXT(c->tenant_id)));
    free(pre);
    if (rc < 0) return rc;
    json_t *arr = json_array();
    while ((rc = db_res_next(r)) == 1) {
        const char *path = db_res_text(r, 0);
        if (vault__caps(c, path) & (VCAP_READ | VCAP_LIST)) json_array_append_new(arr, json_string(path));
    }
    db_res_free(r);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
