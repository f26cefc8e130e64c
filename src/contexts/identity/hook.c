/* hook.c — the kernel's request hook: runs for every authenticated (or
 * API-key) request, before its handler (see http_set_request_hook).
 *
 * A verified JWT is refused when its jti was revoked (logout, refresh-token
 * reuse, password reset), its tenant is suspended or its user deactivated:
 * one statement of three primary-key lookups (repo_token_status). For a
 * read (GET) the kernel calls the hook inside the request's transaction, so
 * the check shares its snapshot and round trips; for a write, on PostgreSQL
 * in a read-only transaction of its own scoped to the token's tenant, on
 * SQLite as a single autocommit SELECT. Tokens without a
 * tenant (operator-minted platform tokens) have nothing stored to check.
 * When the tenant requires two-factor and the user has not enrolled yet,
 * only enrolment, /me, /verify and logout are open to the token (403
 * elsewhere), so a password alone never reaches the tenant's data.
 * Tenants and users that do not exist are not refused here: such tokens can
 * only come from the key holder (service/operator tokens); the handlers 404
 * on what they do not find.
 *
 * An API key ("Bearer bzk_…") is hashed and looked up in platform scope
 * (its tenant is what we are looking for); a key that is unknown, revoked
 * or whose tenant is suspended leaves the request unauthenticated, which
 * the kernel answers 401. A key acts with its role, narrowed by its scopes:
 * a route whose permission no scope matches is 403. last_used_at is
 * written at most once a minute per key, so keys do not turn every request
 * into a write. */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "http.h"
#include "internal.h"
#include "log.h"
#include "repo.h"

#define APIKEY_TOUCH_S 60

static int resolve_key(db_t *db, http_req_t *req, http_res_t *res)
{
    char hash[IDN_HASH_HEX];
    idn__sha256_hex(req->api_key, hash);
    apikey_auth_t k;
    int rc = db_begin_platform(db, false);
    if (rc < 0) return http_error(res, ERR_DB_UNAVAILABLE, NULL);
    rc = repo_apikey_lookup(db, hash, &k);
    db_commit(db);
    if (rc == ERR_NOT_FOUND) return 0;
    if (rc < 0) return http_error(res, ERR_DB_UNAVAILABLE, NULL);
    int out = 0;
    int role = auth_role_parse(k.role, strlen(k.role));
    if (k.revoked || !k.tenant_active || role == 0) goto done;
    const char *perm = req->route ? req->route->permission : NULL;
    if (!scopes_permit(k.scopes, perm)) {
        out = http_error(res, ERR_FORBIDDEN, "the API key's scopes do not include %s", perm);
        goto done;
    }
    memset(&req->auth, 0, sizeof req->auth);
    snprintf(req->auth.tenant_id, sizeof req->auth.tenant_id, "%s", k.tenant_id);
    /* "key:" + a 36-character UUID fits the 64-byte claim */
    memcpy(req->auth.user_id, "key:", 4);
    memcpy(req->auth.user_id + 4, k.id, strnlen(k.id, sizeof req->auth.user_id - 5));
    req->auth.roles = (unsigned)role;
    req->authenticated = true;
    int64_t now = idn__now();
    if (now - k.last_used_at >= APIKEY_TOUCH_S && db_begin_platform(db, true) == 0) {
        if (repo_apikey_touch(db, k.tenant_id, k.id, now) == 0)
            db_commit(db);
        else
            db_rollback(db);
    }
done:
    json_decref(k.scopes);
    return out;
}

/* mfa_exempt: the routes a user without required two-factor may still use. */
static bool mfa_exempt(const route_t *rt)
{
    static const char *const open_routes[] = {"/api/v1/auth/mfa/", "/api/v1/auth/me",
                                              "/api/v1/auth/verify", "/api/v1/auth/logout", NULL};
    if (!rt) return true;
    for (const char *const *p = open_routes; *p; p++)
        if (strncmp(rt->pattern, *p, strlen(*p)) == 0) return true;
    return false;
}

int idn__request_hook(db_t *db, http_req_t *req, http_res_t *res)
{
    if (req->api_key && !req->authenticated) return resolve_key(db, req, res);
    if (!req->authenticated || !req->auth.tenant_id[0]) return 0;
    token_status_t st;
    int rc;
    if (db_in_tx(db) || db_backend(db) == DB_SQLITE) {
        /* inside the request's read transaction (the kernel opens it first
         * for reads), or on SQLite, where one SELECT is its own read
         * transaction and there is no tenant setting to make */
        rc = repo_token_status(db, req->auth.tenant_id, req->auth.jti, req->auth.user_id, &st);
    } else if ((rc = db_begin(db, req->auth.tenant_id, false)) == 0) {
        /* PostgreSQL: the tenant setting the row-level security reads */
        rc = repo_token_status(db, req->auth.tenant_id, req->auth.jti, req->auth.user_id, &st);
        db_commit(db);
    }
    if (rc < 0) return http_error(res, ERR_DB_UNAVAILABLE, NULL);
    const char *why = st.revoked                         ? "the token was revoked"
                      : st.tenant_suspended              ? "the tenant is suspended"
                      : st.user_found && !st.user_active ? "the user is deactivated"
                                                         : NULL;
    if (!why && st.mfa_missing && !mfa_exempt(req->route)) {
        return http_error(res, ERR_FORBIDDEN,
                          "the tenant requires two-factor authentication: enrol first "
                          "(POST /api/v1/auth/mfa/totp/enroll)");
    }
    if (!why) return 0;
    log_kv(LOG_INFO, "token refused", "reason", why, "request_id", req->request_id, NULL);
    return http_error(res, ERR_UNAUTHORIZED, "%s", why);
}
