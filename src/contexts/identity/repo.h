/* repo.h — identity's SQL (private to the context).
 *
 * scope: the tenant whose rows a query may see, or NULL for platform scope
 * (super_admin). PostgreSQL enforces the same with row-level security; the
 * explicit filter makes SQLite equally strict. */
#ifndef BZ_IDENTITY_REPO_H
#define BZ_IDENTITY_REPO_H

#include "arena.h"
#include "db.h"
#include "domain.h"
#include "internal.h"

int repo_tenant_insert(db_t *db, const tenant_t *t);
/* repo_tenant_get: ERR_NOT_FOUND when absent or outside scope. */
int repo_tenant_get(db_t *db, arena_t *a, const char *scope, const char *id, tenant_t *out);
/* repo_tenant_list: up to limit tenants with id > after (NULL: from the
 * start), ordered by id, appended to items as JSON. *more is set when
 * another page exists. */
int repo_tenant_list(db_t *db, arena_t *a, const char *scope, const char *after, int limit,
                     json_t *items, bool *more);
int repo_tenant_update(db_t *db, const tenant_t *t);

int repo_tenant_set_require_mfa(db_t *db, const char *tenant_id, bool on);
/* repo_tenant_find_slug: the id of the tenant with slug into out[64]. */
int repo_tenant_find_slug(db_t *db, const char *slug, char out[64]);
int64_t repo_tenant_count(db_t *db);

/* ---- users (repo_users.c) ------------------------------------------------ */

/* repo_user_insert: pw_hash may be NULL (no password yet). ERR_EXISTS when
 * the e-mail is taken in the tenant. */
int repo_user_insert(db_t *db, const user_t *u, const char *pw_hash);
/* repo_user_get: ERR_NOT_FOUND when absent or outside scope (NULL = all). */
int repo_user_get(db_t *db, arena_t *a, const char *scope, const char *id, user_t *out);
int repo_user_get_by_email(db_t *db, arena_t *a, const char *tenant_id, const char *email,
                           user_t *out);
int repo_user_list(db_t *db, arena_t *a, const char *scope, const char *after, int limit,
                   json_t *items, bool *more);
/* repo_user_update: writes name, roles, active, verified, updated_at. */
int repo_user_update(db_t *db, const user_t *u);
int repo_user_set_password(db_t *db, const char *tenant_id, const char *id, const char *hash);
int repo_user_set_verified(db_t *db, const char *tenant_id, const char *id);
int repo_user_touch_login(db_t *db, const char *tenant_id, const char *id, const char *at);
/* repo_user_email_taken: *taken when any tenant has a user with email. */
int repo_user_email_taken(db_t *db, const char *email, bool *taken);
int repo_user_set_totp(db_t *db, const char *tenant_id, const char *id, const char *secret,
                       bool enabled);
int repo_user_totp(db_t *db, arena_t *a, const char *tenant_id, const char *id, const char **secret,
                   bool *enabled);

/* A login candidate: a user with the e-mail, with what login must know. */
typedef struct login_cand {
    char tenant_id[64], id[64];
    char *pw_hash, *totp_secret; /* heap, freed by repo_login_cands_free */
    unsigned roles;
    bool active, tenant_active, totp_enabled, require_mfa;
} login_cand_t;
#define LOGIN_CANDS_MAX 5
/* repo_login_cands: users with email (in the tenant of slug tenant_slug
 * when non-NULL), at most LOGIN_CANDS_MAX. Platform scope. */
int repo_login_cands(db_t *db, const char *email, const char *tenant_slug, login_cand_t *out,
                     int *n);
void repo_login_cands_free(login_cand_t *c, int n);

/* ---- tokens, throttle (repo_auth.c) ------------------------------------------ */

typedef struct refresh_row {
    char tenant_id[64], id[64], family_id[64], user_id[64];
    refresh_state_t state;
} refresh_row_t;

int repo_refresh_insert(db_t *db, const char *tenant_id, const char *id, const char *family,
                        const char *user_id, const char *hash, const char *access_jti,
                        int64_t access_exp, int64_t expires_at);
/* repo_refresh_find: by token hash (platform scope, or tenant when scope). */
int repo_refresh_find(db_t *db, const char *hash, refresh_row_t *out);
/* repo_refresh_mark_used: ERR_CONFLICT when it was used concurrently. */
int repo_refresh_mark_used(db_t *db, const char *tenant_id, const char *id, int64_t now);
/* repo_family_revoke: revokes every refresh token of the family and the
 * access tokens issued with them. */
int repo_family_revoke(db_t *db, const char *tenant_id, const char *family, int64_t now);
/* repo_user_revoke_all: the same for every family of a user. */
int repo_user_revoke_all(db_t *db, const char *tenant_id, const char *user_id, int64_t now);
/* repo_family_of_jti: the family of the refresh token issued with an access
 * token, into out[64]; ERR_NOT_FOUND when none. */
int repo_family_of_jti(db_t *db, const char *tenant_id, const char *jti, char out[64]);
int repo_jti_revoke(db_t *db, const char *tenant_id, const char *jti, int64_t exp);
/* repo_use_once: records the one-time id (e.g. "totp:<user>:<step>") in
 * revoked_tokens until exp; ERR_CONFLICT when it was recorded before. */
int repo_use_once(db_t *db, const char *tenant_id, const char *once_id, int64_t exp);

/* What the request hook needs, in one indexed query. */
typedef struct token_status {
    bool revoked, tenant_found, tenant_suspended, user_found, user_active;
    bool mfa_missing; /* the tenant requires two-factor and the user has none */
} token_status_t;
int repo_token_status(db_t *db, const char *tenant_id, const char *jti, const char *user_id,
                      token_status_t *out);

typedef struct throttle {
    int64_t failures, window_start, locked_until;
} throttle_t;
/* repo_throttle_get: zeroes *out when the key has no row. Platform scope. */
int repo_throttle_get(db_t *db, const char *key, throttle_t *out);
int repo_throttle_put(db_t *db, const char *key, const throttle_t *t);
int repo_throttle_clear(db_t *db, const char *key);
/* repo_purge_expired: deletes what can no longer matter at now: revoked
 * access-token ids past their expiry, refresh tokens and one-time tokens
 * expired for a day, throttle rows whose window and lock are over (window
 * = lockout_s). Platform scope. */
int repo_purge_expired(db_t *db, int64_t now, int64_t lockout_s);

/* ---- one-time user tokens, mail (repo_auth.c) ------------------------------- */

typedef struct user_token {
    char tenant_id[64], id[64], user_id[64], purpose[24], email[256], role[32];
    int64_t expires_at;
    bool used;
} user_token_t;
int repo_user_token_insert(db_t *db, const char *tenant_id, const char *purpose,
                           const char *user_id, const char *email, const char *role,
                           const char *hash, int64_t expires_at);
int repo_user_token_find(db_t *db, const char *hash, user_token_t *out);
/* repo_user_token_use: ERR_CONFLICT when already used (single use). */
int repo_user_token_use(db_t *db, const char *tenant_id, const char *id, int64_t now);
int repo_mail_insert(db_t *db, const char *tenant_id, const char *to, const char *subject,
                     const char *body);
/* A queued mail, as the sender reads it (heap strings, repo_mail_free). */
typedef struct mail_row {
    char tenant_id[64], id[64];
    char *to, *subject, *body;
    int64_t attempts;
} mail_row_t;
/* repo_mail_pending: up to max pending mails, oldest first. Platform scope. */
int repo_mail_pending(db_t *db, mail_row_t *out, int max, int *n);
void repo_mail_free(mail_row_t *m, int n);
/* repo_mail_mark: records a delivery attempt: sent, or failed for good
 * after max_attempts, else still pending. */
int repo_mail_mark(db_t *db, const mail_row_t *m, bool sent, int64_t now, int max_attempts);
/* repo_mail_list: the newest mails (to a recipient when non-NULL). */
int repo_mail_list(db_t *db, arena_t *a, const char *to, int limit, json_t *items);

/* ---- API keys, audit, recovery codes (repo_keys.c) ---------------------------- */

typedef struct apikey {
    const char *tenant_id, *id, *name, *prefix, *role, *created_by, *created_at;
    json_t *scopes; /* borrowed (arena) */
    int64_t last_used_at, revoked_at;
} apikey_t;
int repo_apikey_insert(db_t *db, const apikey_t *k, const char *hash);
int repo_apikey_list(db_t *db, arena_t *a, const char *tenant_id, json_t *items);
/* repo_apikey_revoke: ERR_NOT_FOUND when absent (or already revoked). */
int repo_apikey_revoke(db_t *db, const char *tenant_id, const char *id, int64_t now);

/* The credential behind a presented API key (platform scope). */
typedef struct apikey_auth {
    char tenant_id[64], id[64], role[32];
    json_t *scopes; /* owned: json_decref */
    int64_t last_used_at;
    bool revoked, tenant_active;
} apikey_auth_t;
int repo_apikey_lookup(db_t *db, const char *hash, apikey_auth_t *out);
int repo_apikey_touch(db_t *db, const char *tenant_id, const char *id, int64_t now);

int repo_audit_insert(db_t *db, const char *tenant_id, const char *event, const char *actor,
                      const char *subject, const char *ip, const char *details);
typedef struct audit_filter {
    const char *tenant_id;                              /* NULL: every tenant (platform scope) */
    const char *event, *actor_id, *subject_id, *before; /* before: id cursor */
    int limit;
} audit_filter_t;
int repo_audit_list(db_t *db, arena_t *a, const audit_filter_t *f, json_t *items, bool *more);

int repo_recovery_replace(db_t *db, const char *tenant_id, const char *user_id,
                          const char hashes[][IDN_HASH_HEX], int n);
/* repo_recovery_use: ERR_NOT_FOUND when no unused code has this hash. */
int repo_recovery_use(db_t *db, const char *tenant_id, const char *user_id, const char *hash,
                      int64_t now);

#endif
