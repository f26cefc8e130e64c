/* repo_auth.c — SQL for refresh-token families, revoked access tokens, the
 * request hook's status query, login throttling, one-time user tokens and
 * the mail outbox. Secrets arrive here already hashed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "ids.h"
#include "repo.h"

static void cpy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* ---- refresh tokens ----------------------------------------------------------- */

int repo_refresh_insert(db_t *db, const char *tenant_id, const char *id, const char *family,
                        const char *user_id, const char *hash, const char *access_jti,
                        int64_t access_exp, int64_t expires_at)
{
    return db_exec(db, NULL,
                   "INSERT INTO refresh_tokens (tenant_id, id, family_id, user_id, token_hash, "
                   "access_jti, access_exp, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                   DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_TEXT(family), DB_TEXT(user_id),
                           DB_TEXT(hash), DB_TEXT(access_jti), DB_INT(access_exp),
                           DB_INT(expires_at)));
}

int repo_refresh_find(db_t *db, const char *hash, refresh_row_t *out)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT tenant_id, id, family_id, user_id, expires_at, used_at IS NOT NULL, "
                      "revoked_at IS NOT NULL FROM refresh_tokens WHERE token_hash = $1",
                      DB_ARGS(DB_TEXT(hash)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) {
        cpy(out->tenant_id, sizeof out->tenant_id, db_res_text(r, 0));
        cpy(out->id, sizeof out->id, db_res_text(r, 1));
        cpy(out->family_id, sizeof out->family_id, db_res_text(r, 2));
        cpy(out->user_id, sizeof out->user_id, db_res_text(r, 3));
        out->state.expires_at = db_res_int(r, 4);
        out->state.used = db_res_int(r, 5) != 0;
        out->state.revoked = db_res_int(r, 6) != 0;
    }
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int repo_refresh_mark_used(db_t *db, const char *tenant_id, const char *id, int64_t now)
{
    int64_t n = 0;
    int rc = db_exec(db, &n,
                     "UPDATE refresh_tokens SET used_at = $3 WHERE tenant_id = $1 AND id = $2 "
                     "AND used_at IS NULL AND revoked_at IS NULL",
                     DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_INT(now)));
    return rc == 0 && n == 0 ? ERR_CONFLICT : rc;
}

/* revoke_where: revokes the access tokens issued with the matching refresh
 * tokens (still unexpired), then the refresh tokens. cond is a constant SQL
 * condition on $1 (tenant) and $2. */
static int revoke_where(db_t *db, const char *tenant_id, const char *cond, const char *arg,
                        int64_t now)
{
    char sql[512];
    int k = snprintf(sql, sizeof sql,
                     "INSERT INTO revoked_tokens (tenant_id, jti, expires_at) "
                     "SELECT tenant_id, access_jti, access_exp FROM refresh_tokens "
                     "WHERE tenant_id = $1 AND %s AND access_exp > $3 "
                     "ON CONFLICT (tenant_id, jti) DO NOTHING",
                     cond);
    if (k < 0 || (size_t)k >= sizeof sql) return ERR_INTERNAL;
    int rc = db_exec(db, NULL, sql, DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(arg), DB_INT(now)));
    if (rc < 0) return rc;
    k = snprintf(sql, sizeof sql,
                 "UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND %s "
                 "AND revoked_at IS NULL",
                 cond);
    if (k < 0 || (size_t)k >= sizeof sql) return ERR_INTERNAL;
    return db_exec(db, NULL, sql, DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(arg), DB_INT(now)));
}

int repo_family_revoke(db_t *db, const char *tenant_id, const char *family, int64_t now)
{
    return revoke_where(db, tenant_id, "family_id = $2", family, now);
}

int repo_user_revoke_all(db_t *db, const char *tenant_id, const char *user_id, int64_t now)
{
    return revoke_where(db, tenant_id, "user_id = $2", user_id, now);
}

int repo_family_of_jti(db_t *db, const char *tenant_id, const char *jti, char out[64])
{
    char *f = NULL;
    int rc = db_query_one_text(db, &f,
                               "SELECT family_id FROM refresh_tokens WHERE tenant_id = $1 AND "
                               "access_jti = $2",
                               DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(jti)));
    if (rc < 0) return rc;
    cpy(out, 64, f);
    free(f);
    return 0;
}

int repo_jti_revoke(db_t *db, const char *tenant_id, const char *jti, int64_t exp)
{
    return db_exec(db, NULL,
                   "INSERT INTO revoked_tokens (tenant_id, jti, expires_at) VALUES ($1, $2, $3) "
                   "ON CONFLICT (tenant_id, jti) DO NOTHING",
                   DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(jti), DB_INT(exp)));
}

int repo_use_once(db_t *db, const char *tenant_id, const char *once_id, int64_t exp)
{
    int64_t n = 0;
    int rc = db_exec(db, &n,
                     "INSERT INTO revoked_tokens (tenant_id, jti, expires_at) VALUES ($1, $2, $3) "
                     "ON CONFLICT (tenant_id, jti) DO NOTHING",
                     DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(once_id), DB_INT(exp)));
    return rc == 0 && n == 0 ? ERR_CONFLICT : rc;
}

int repo_token_status(db_t *db, const char *tenant_id, const char *jti, const char *user_id,
                      token_status_t *out)
{
    /* One statement, three primary-key lookups. */
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT (SELECT count(*) FROM revoked_tokens WHERE tenant_id = $1 AND "
                      "jti = $2), t.status, t.require_mfa, u.active, u.totp_enabled "
                      "FROM (SELECT 1 AS one) AS o LEFT JOIN tenants t ON t.id = $1 "
                      "LEFT JOIN users u ON u.tenant_id = $1 AND u.id = $3",
                      DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(jti), DB_TEXT(user_id)));
    if (rc < 0) return rc;
    memset(out, 0, sizeof *out);
    rc = db_res_next(r);
    if (rc == 1) {
        out->revoked = db_res_int(r, 0) > 0;
        out->tenant_found = !db_res_isnull(r, 1);
        out->tenant_suspended = out->tenant_found && strcmp(db_res_text(r, 1), "active") != 0;
        out->user_found = !db_res_isnull(r, 3);
        out->user_active = out->user_found && db_res_int(r, 3) != 0;
        out->mfa_missing = out->user_found && db_res_int(r, 2) != 0 && db_res_int(r, 4) == 0;
    }
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

/* ---- throttle ------------------------------------------------------------------ */

int repo_throttle_get(db_t *db, const char *key, throttle_t *out)
{
    memset(out, 0, sizeof *out);
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT failures, window_start, locked_until FROM login_throttle "
                      "WHERE key = $1",
                      DB_ARGS(DB_TEXT(key)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) {
        out->failures = db_res_int(r, 0);
        out->window_start = db_res_int(r, 1);
        out->locked_until = db_res_int(r, 2);
    }
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

int repo_throttle_put(db_t *db, const char *key, const throttle_t *t)
{
    return db_exec(db, NULL,
                   "INSERT INTO login_throttle (key, failures, window_start, locked_until) "
                   "VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET "
                   "failures = excluded.failures, window_start = excluded.window_start, "
                   "locked_until = excluded.locked_until",
                   DB_ARGS(DB_TEXT(key), DB_INT(t->failures), DB_INT(t->window_start),
                           DB_INT(t->locked_until)));
}

int repo_throttle_clear(db_t *db, const char *key)
{
    return db_exec(db, NULL, "DELETE FROM login_throttle WHERE key = $1", DB_ARGS(DB_TEXT(key)));
}

int repo_purge_expired(db_t *db, int64_t now, int64_t lockout_s)
{
    int rc =
        db_exec(db, NULL, "DELETE FROM revoked_tokens WHERE expires_at < $1", DB_ARGS(DB_INT(now)));
    if (rc == 0)
        rc = db_exec(db, NULL, "DELETE FROM refresh_tokens WHERE expires_at < $1",
                     DB_ARGS(DB_INT(now - 86400)));
    if (rc == 0)
        rc = db_exec(db, NULL, "DELETE FROM user_tokens WHERE expires_at < $1",
                     DB_ARGS(DB_INT(now - 86400)));
    if (rc == 0)
        rc =
            db_exec(db, NULL,
                    "DELETE FROM login_throttle WHERE window_start + $2 < $1 AND locked_until < $1",
                    DB_ARGS(DB_INT(now), DB_INT(lockout_s)));
    return rc;
}

/* ---- one-time user tokens ------------------------------------------------------ */

int repo_user_token_insert(db_t *db, const char *tenant_id, const char *purpose,
                           const char *user_id, const char *email, const char *role,
                           const char *hash, int64_t expires_at)
{
    char id[40];
    id_uuidv7(id);
    return db_exec(db, NULL,
                   "INSERT INTO user_tokens (tenant_id, id, purpose, user_id, email, role, "
                   "token_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                   DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_TEXT(purpose), DB_TEXT(user_id),
                           DB_TEXT(email), DB_TEXT(role), DB_TEXT(hash), DB_INT(expires_at)));
}

int repo_user_token_find(db_t *db, const char *hash, user_token_t *out)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT tenant_id, id, purpose, user_id, email, role, expires_at, "
                      "used_at IS NOT NULL FROM user_tokens WHERE token_hash = $1",
                      DB_ARGS(DB_TEXT(hash)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) {
        cpy(out->tenant_id, sizeof out->tenant_id, db_res_text(r, 0));
        cpy(out->id, sizeof out->id, db_res_text(r, 1));
        cpy(out->purpose, sizeof out->purpose, db_res_text(r, 2));
        cpy(out->user_id, sizeof out->user_id, db_res_text(r, 3));
        cpy(out->email, sizeof out->email, db_res_text(r, 4));
        cpy(out->role, sizeof out->role, db_res_text(r, 5));
        out->expires_at = db_res_int(r, 6);
        out->used = db_res_int(r, 7) != 0;
    }
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int repo_user_token_use(db_t *db, const char *tenant_id, const char *id, int64_t now)
{
    int64_t n = 0;
    int rc = db_exec(db, &n,
                     "UPDATE user_tokens SET used_at = $3 WHERE tenant_id = $1 AND id = $2 AND "
                     "used_at IS NULL",
                     DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_INT(now)));
    return rc == 0 && n == 0 ? ERR_CONFLICT : rc;
}

/* ---- mail ------------------------------------------------------------------------ */

int repo_mail_insert(db_t *db, const char *tenant_id, const char *to, const char *subject,
                     const char *body)
{
    char id[40];
    id_uuidv7(id);
    return db_exec(
        db, NULL,
        "INSERT INTO mail_outbox (tenant_id, id, recipient, subject, body) "
        "VALUES ($1, $2, $3, $4, $5)",
        DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_TEXT(to), DB_TEXT(subject), DB_TEXT(body)));
}

int repo_mail_pending(db_t *db, mail_row_t *out, int max, int *n)
{
    *n = 0;
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT tenant_id, id, recipient, subject, body, attempts FROM mail_outbox "
                      "WHERE status = 'pending' ORDER BY id LIMIT $1",
                      DB_ARGS(DB_INT(max)));
    if (rc < 0) return rc;
    while ((rc = db_res_next(r)) == 1 && *n < max) {
        mail_row_t *m = &out[(*n)++];
        cpy(m->tenant_id, sizeof m->tenant_id, db_res_text(r, 0));
        cpy(m->id, sizeof m->id, db_res_text(r, 1));
        m->to = strdup(db_res_text(r, 2));
        m->subject = strdup(db_res_text(r, 3));
        m->body = strdup(db_res_text(r, 4));
        m->attempts = db_res_int(r, 5);
    }
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

void repo_mail_free(mail_row_t *m, int n)
{
    for (int i = 0; i < n; i++) {
        free(m[i].to);
        free(m[i].subject);
        free(m[i].body);
    }
}

int repo_mail_mark(db_t *db, const mail_row_t *m, bool sent, int64_t now, int max_attempts)
{
    const char *status = sent ? "sent" : m->attempts + 1 >= max_attempts ? "failed" : "pending";
    return db_exec(db, NULL,
                   "UPDATE mail_outbox SET status = $3, attempts = attempts + 1, sent_at = $4 "
                   "WHERE tenant_id = $1 AND id = $2",
                   DB_ARGS(DB_TEXT(m->tenant_id), DB_TEXT(m->id), DB_TEXT(status),
                           sent ? DB_INT(now) : DB_NULL));
}

int repo_mail_list(db_t *db, arena_t *a, const char *to, int limit, json_t *items)
{
    db_res_t *r;
    int rc =
        db_query(db, &r,
                 "SELECT id, tenant_id, recipient, subject, body, status, created_at "
                 "FROM mail_outbox WHERE ($1 = '' OR recipient = $1) ORDER BY id DESC LIMIT $2",
                 DB_ARGS(DB_TEXT(to ? to : ""), DB_INT(limit)));
    if (rc < 0) return rc;
    while ((rc = db_res_next(r)) == 1) {
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", db_res_text(r, 0),
                             "tenant_id", db_res_text(r, 1), "to", db_res_text(r, 2), "subject",
                             db_res_text(r, 3), "body", db_res_text(r, 4), "status",
                             db_res_text(r, 5), "created_at", clock_from_db(a, db_res_text(r, 6))));
    }
    db_res_free(r);
    return rc < 0 ? rc : 0;
}
