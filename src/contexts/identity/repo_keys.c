/* repo_keys.c — SQL for API keys, the audit log and recovery codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "ids.h"
#include "repo.h"

/* ---- API keys --------------------------------------------------------------------- */

int repo_apikey_insert(db_t *db, const apikey_t *k, const char *hash)
{
    char *scopes = json_dumps(k->scopes, JSON_COMPACT);
    int rc = db_exec(db, NULL,
                     "INSERT INTO api_keys (tenant_id, id, name, prefix, key_hash, role, scopes, "
                     "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                     DB_ARGS(DB_TEXT(k->tenant_id), DB_TEXT(k->id), DB_TEXT(k->name),
                             DB_TEXT(k->prefix), DB_TEXT(hash), DB_TEXT(k->role), DB_TEXT(scopes),
                             DB_TEXT(k->created_by), DB_TEXT(k->created_at)));
    free(scopes);
    return rc;
}

static json_t *time_or_null(int64_t t)
{
    if (t <= 0) return json_null();
    char buf[32];
    clock_rfc3339(t * 1000, buf);
    return json_string(buf);
}

int repo_apikey_list(db_t *db, arena_t *a, const char *tenant_id, json_t *items)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT id, name, prefix, role, scopes, created_by, created_at, "
                      "COALESCE(last_used_at, 0), COALESCE(revoked_at, 0) FROM api_keys "
                      "WHERE tenant_id = $1 ORDER BY id",
                      DB_ARGS(DB_TEXT(tenant_id)));
    if (rc < 0) return rc;
    while ((rc = db_res_next(r)) == 1) {
        json_t *scopes = json_loads(db_res_text(r, 4), 0, NULL);
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:b}", "id",
                             db_res_text(r, 0), "tenant_id", tenant_id, "name", db_res_text(r, 1),
                             "prefix", db_res_text(r, 2), "role", db_res_text(r, 3), "scopes",
                             scopes ? scopes : json_array(), "created_by", db_res_text(r, 5),
                             "created_at", clock_from_db(a, db_res_text(r, 6)), "last_used_at",
                             time_or_null(db_res_int(r, 7)), "revoked_at",
                             time_or_null(db_res_int(r, 8)), "active", db_res_int(r, 8) == 0));
    }
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

int repo_apikey_revoke(db_t *db, const char *tenant_id, const char *id, int64_t now)
{
    int64_t n = 0;
    int rc = db_exec(db, &n,
                     "UPDATE api_keys SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND "
                     "revoked_at IS NULL",
                     DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_INT(now)));
    return rc == 0 && n == 0 ? ERR_NOT_FOUND : rc;
}

int repo_apikey_lookup(db_t *db, const char *hash, apikey_auth_t *out)
{
    memset(out, 0, sizeof *out);
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT k.tenant_id, k.id, k.role, k.scopes, COALESCE(k.last_used_at, 0), "
                      "k.revoked_at IS NOT NULL, t.status FROM api_keys k "
                      "JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1",
                      DB_ARGS(DB_TEXT(hash)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) {
        snprintf(out->tenant_id, sizeof out->tenant_id, "%s", db_res_text(r, 0));
        snprintf(out->id, sizeof out->id, "%s", db_res_text(r, 1));
        snprintf(out->role, sizeof out->role, "%s", db_res_text(r, 2));
        out->scopes = json_loads(db_res_text(r, 3), 0, NULL);
        if (!json_is_array(out->scopes)) {
            json_decref(out->scopes);
            out->scopes = json_array();
        }
        out->last_used_at = db_res_int(r, 4);
        out->revoked = db_res_int(r, 5) != 0;
        out->tenant_active = strcmp(db_res_text(r, 6), "active") == 0;
    }
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int repo_apikey_touch(db_t *db, const char *tenant_id, const char *id, int64_t now)
{
    return db_exec(db, NULL,
                   "UPDATE api_keys SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2",
                   DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_INT(now)));
}

/* ---- audit -------------------------------------------------------------------------- */

int repo_audit_insert(db_t *db, const char *tenant_id, const char *event, const char *actor,
                      const char *subject, const char *ip, const char *details)
{
    char id[40];
    id_uuidv7(id);
    return db_exec(
        db, NULL,
        "INSERT INTO audit_log (tenant_id, id, event, actor_id, subject_id, ip, details) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_TEXT(event), DB_TEXT(actor), DB_TEXT(subject),
                DB_TEXT(ip), DB_TEXT(details ? details : "{}")));
}

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *audit_row_json(db_res_t *r, void *arena)
{
    json_t *details = json_loads(db_res_text(r, 6), 0, NULL);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s}", "tenant_id", db_res_text(r, 0),
                     "id", db_res_text(r, 1), "event", db_res_text(r, 2), "actor_id",
                     text_or_null(db_res_text(r, 3)), "subject_id", text_or_null(db_res_text(r, 4)),
                     "ip", text_or_null(db_res_text(r, 5)), "details",
                     details ? details : json_object(), "created_at",
                     clock_from_db(arena, db_res_text(r, 7)));
}

int repo_audit_list(db_t *db, arena_t *a, const audit_filter_t *f, json_t *items, bool *more)
{
    db_res_t *r;
    int rc =
        db_query(db, &r,
                 "SELECT tenant_id, id, event, actor_id, subject_id, ip, details, created_at "
                 "FROM audit_log WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR event = $2) "
                 "AND ($3 = '' OR actor_id = $3) AND ($4 = '' OR subject_id = $4) "
                 "AND ($5 = '' OR id < $5) ORDER BY id DESC LIMIT $6",
                 DB_ARGS(DB_TEXT(f->tenant_id ? f->tenant_id : ""),
                         DB_TEXT(f->event ? f->event : ""), DB_TEXT(f->actor_id ? f->actor_id : ""),
                         DB_TEXT(f->subject_id ? f->subject_id : ""),
                         DB_TEXT(f->before ? f->before : ""), DB_INT(f->limit + 1)));
    if (rc < 0) return rc;
    rc = db_res_page(r, f->limit, more, items, audit_row_json, a);
    db_res_free(r);
    return rc;
}

/* ---- recovery codes ----------------------------------------------------------------- */

int repo_recovery_replace(db_t *db, const char *tenant_id, const char *user_id,
                          const char hashes[][IDN_HASH_HEX], int n)
{
    int rc = db_exec(db, NULL, "DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2",
                     DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(user_id)));
    for (int i = 0; rc == 0 && i < n; i++)
        rc = db_exec(
            db, NULL,
            "INSERT INTO recovery_codes (tenant_id, user_id, code_hash) VALUES ($1, $2, $3)",
            DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(user_id), DB_TEXT(hashes[i])));
    return rc;
}

int repo_recovery_use(db_t *db, const char *tenant_id, const char *user_id, const char *hash,
                      int64_t now)
{
    int64_t n = 0;
    int rc = db_exec(db, &n,
                     "UPDATE recovery_codes SET used_at = $4 WHERE tenant_id = $1 AND user_id = $2 "
                     "AND code_hash = $3 AND used_at IS NULL",
                     DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(user_id), DB_TEXT(hash), DB_INT(now)));
    return rc == 0 && n == 0 ? ERR_NOT_FOUND : rc;
}
