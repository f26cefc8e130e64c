/* tokens.c — login, refresh-token rotation with reuse detection, logout.
 *
 * Login runs in three steps so that argon2id (tens of milliseconds, by
 * design) never holds a database transaction or a write lock: (1) a
 * read-only platform-scope transaction loads the throttle state and the
 * candidate users for the e-mail; (2) passwords are verified with no
 * transaction open; (3) a write transaction records the outcome. Unknown
 * e-mails cost one dummy verification, and every failure has one message,
 * so neither timing nor wording reveals whether an address exists.
 *
 * Throttling: failures are counted per account ("email:<address>", also for
 * addresses that do not exist) and per client address ("ip:<address>") in
 * a window of LOCKOUT_S seconds. LOGIN_MAX_FAILURES failures lock the
 * account for LOCKOUT_S; LOGIN_IP_MAX_FAILURES throttle the address. Both
 * answer 429 with Retry-After until the time is up or an administrator
 * unlocks the account. Counters live in the database, so every process
 * sharing it enforces them.
 *
 * Refresh tokens are opaque ("bzr_" + 256 random bits), stored as SHA-256.
 * A login starts a family; each refresh marks the token used and issues the
 * next one. A used token presented again means two parties hold the
 * family: all of it, and the access tokens issued with it, is revoked
 * (refresh_decide in domain.c is the rule). */
#include "tokens.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "ids.h"
#include "internal.h"
#include "log.h"
#include "passwords.h"
#include "repo.h"
#include "totp.h"

#define MSG_BAD_CREDENTIALS "the e-mail or password is incorrect"
/* One successful login in this many also purges expired token rows. */
#define PURGE_ONE_IN 200

int idn__issue(db_t *db, const char *tenant_id, const char *user_id, unsigned roles,
               const char *family, json_t *body)
{
    int64_t now = idn__now();
    auth_ctx_t c = {.roles = roles};
    snprintf(c.tenant_id, sizeof c.tenant_id, "%s", tenant_id);
    snprintf(c.user_id, sizeof c.user_id, "%s", user_id);
    id_uuidv7(c.jti);
    char *access = NULL;
    int rc = auth_sign(idn__auth, &c, now, idn__cfg->access_ttl_s, &access);
    if (rc < 0) return rc == ERR_CONFIG ? ERR_INTERNAL : rc;
    char secret[65], refresh[70], hash[IDN_HASH_HEX], id[40], fam[40];
    id_random_hex(secret, 32);
    snprintf(refresh, sizeof refresh, IDN_REFRESH_PREFIX "%s", secret);
    sodium_memzero(secret, sizeof secret);
    idn__sha256_hex(refresh, hash);
    id_uuidv7(id);
    if (!family) {
        id_uuidv7(fam);
        family = fam;
    }
    rc = repo_refresh_insert(db, tenant_id, id, family, user_id, hash, c.jti,
                             now + idn__cfg->access_ttl_s, now + idn__cfg->refresh_ttl_s);
    if (rc == 0) {
        json_object_set_new(body, "access_token", json_string(access));
        json_object_set_new(body, "refresh_token", json_string(refresh));
        json_object_set_new(body, "token_type", json_string("Bearer"));
        json_object_set_new(body, "expires_in", json_integer(idn__cfg->access_ttl_s));
        json_object_set_new(body, "refresh_expires_in", json_integer(idn__cfg->refresh_ttl_s));
    }
    sodium_memzero(refresh, sizeof refresh);
    sodium_memzero(access, strlen(access));
    free(access);
    return rc;
}

/* ---- throttling ----------------------------------------------------------------- */

static void throttle_key(char *out, size_t cap, const char *kind, const char *v)
{
    snprintf(out, cap, "%s:%s", kind, v ? v : "");
}

/* locked_for: seconds until the key may try again, 0 when it may now. */
static int64_t locked_for(const throttle_t *t, int64_t now, int64_t max)
{
    if (t->locked_until > now) return t->locked_until - now;
    if (t->window_start + idn__cfg->lockout_s > now && t->failures >= max)
        return t->window_start + idn__cfg->lockout_s - now;
    return 0;
}

/* record_failure: counts a failure for key; true when it now locks. */
static int record_failure(db_t *db, const char *key, int64_t now, int64_t max, bool lock,
                          bool *locked)
{
    throttle_t t;
    int rc = repo_throttle_get(db, key, &t);
    if (rc < 0) return rc;
    if (t.window_start + idn__cfg->lockout_s <= now) t = (throttle_t){.window_start = now};
    t.failures++;
    *locked = false;
    if (t.failures >= max) {
        if (lock) t.locked_until = now + idn__cfg->lockout_s;
        *locked = true;
    }
    return repo_throttle_put(db, key, &t);
}

/* ---- login ------------------------------------------------------------------------ */

static json_t *audit_details(const char *k, const char *v)
{
    return json_pack("{s:s}", k, v);
}

/* second_factor: 0 when the candidate passes two-factor (or has none);
 * ERR_UNAUTHORIZED with *why otherwise. Recovery codes are consumed in the
 * open write transaction. */
static int second_factor(db_t *db, const login_cand_t *c, const login_input_t *in, const char **why,
                         bool *counted)
{
    *counted = false;
    if (!c->totp_enabled) return 0;
    uint64_t step = 0;
    if (in->totp_code && totp_verify_step(c->totp_secret, in->totp_code, idn__now(), &step)) {
        /* each code logs in once (RFC 6238 §5.2): a replayed code fails */
        char once[128];
        snprintf(once, sizeof once, "totp:%s:%llu", c->id, (unsigned long long)step);
        int rc = repo_use_once(db, c->tenant_id, once,
                               (int64_t)(step + 2) * TOTP_STEP_S + idn__cfg->lockout_s);
        if (rc == 0) return 0;
        if (rc != ERR_CONFLICT) return rc;
        *counted = true;
        *why = "the two-factor code was already used; wait for the next one";
        return ERR_UNAUTHORIZED;
    }
    if (in->recovery_code) {
        char code[RECOVERY_CODE_LEN + 1], hash[IDN_HASH_HEX];
        if (recovery_code_normalize(in->recovery_code, code)) {
            idn__sha256_hex(code, hash);
            int rc = repo_recovery_use(db, c->tenant_id, c->id, hash, idn__now());
            if (rc == 0) {
                idn__audit(db, c->tenant_id, "mfa.recovery_code_used", c->id, c->id, in->ip, NULL);
                return 0;
            }
            if (rc != ERR_NOT_FOUND) return rc;
        }
    }
    if (!in->totp_code && !in->recovery_code) {
        *why = "a two-factor code is required: send totp_code (or recovery_code)";
        return ERR_UNAUTHORIZED;
    }
    *counted = true;
    *why = "the two-factor code is incorrect";
    return ERR_UNAUTHORIZED;
}

int idn_login(db_t *db, arena_t *a, const login_input_t *in, session_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = idn__now();
    char ekey[300], ikey[128];
    throttle_key(ekey, sizeof ekey, "email", in->email);
    throttle_key(ikey, sizeof ikey, "ip", in->ip);
    login_cand_t cands[LOGIN_CANDS_MAX];
    int n = 0;

    /* 1. throttle state and candidates */
    int rc = idn__platform(db, false);
    if (rc < 0) return rc;
    throttle_t te, ti;
    if ((rc = repo_throttle_get(db, ekey, &te)) < 0 ||
        (rc = repo_throttle_get(db, ikey, &ti)) < 0 ||
        (rc = repo_login_cands(db, in->email, in->tenant_slug, cands, &n)) < 0) {
        db_rollback(db);
        return rc;
    }
    db_commit(db);
    int64_t wait = locked_for(&te, now, idn__cfg->login_max_failures);
    int64_t wait_ip = locked_for(&ti, now, idn__cfg->login_ip_max_failures);
    if (wait_ip > wait) wait = wait_ip;
    if (wait > 0) {
        repo_login_cands_free(cands, n);
        out->retry_after = wait;
        out->why = "too many failed logins; try again later";
        return ERR_RATE_LIMITED;
    }

    /* 2. passwords, with no transaction open */
    int match = -1;
    if (n == 0) pw_verify(NULL, in->password);
    for (int i = 0; i < n; i++)
        if (pw_verify(cands[i].pw_hash, in->password) && match < 0) match = i;

    /* 3. the outcome */
    if ((rc = db_begin_platform(db, true)) < 0) goto out;
    login_cand_t *c = match >= 0 ? &cands[match] : NULL;
    bool fail_counted = c == NULL;
    const char *why = MSG_BAD_CREDENTIALS;
    if (c && (!c->active || !c->tenant_active)) {
        why = !c->tenant_active ? "the tenant is suspended" : "the account is deactivated";
        idn__audit(db, c->tenant_id, "login.refused", c->id, c->id, in->ip,
                   audit_details("reason", why));
        rc = ERR_UNAUTHORIZED;
    } else if (c) {
        rc = second_factor(db, c, in, &why, &fail_counted);
        if (rc < 0 && rc != ERR_UNAUTHORIZED) goto out;
    } else {
        rc = ERR_UNAUTHORIZED;
    }
    if (rc == ERR_UNAUTHORIZED) {
        bool locked = false, ip_locked = false;
        if (fail_counted) {
            int r2 = record_failure(db, ekey, now, idn__cfg->login_max_failures, true, &locked);
            if (r2 == 0)
                r2 = record_failure(db, ikey, now, idn__cfg->login_ip_max_failures, false,
                                    &ip_locked);
            if (r2 < 0) {
                rc = r2;
                goto out;
            }
            /* audit rows need a tenant: record them for every tenant the
             * address belongs to */
            for (int i = 0; i < n; i++) {
                idn__audit(db, cands[i].tenant_id, "login.failure", NULL, cands[i].id, in->ip,
                           NULL);
                if (locked)
                    idn__audit(db, cands[i].tenant_id, "login.lockout", NULL, cands[i].id, in->ip,
                               NULL);
            }
            if (locked || ip_locked)
                log_kv(LOG_WARN, "login throttled", "kind", locked ? "account" : "address", "ip",
                       in->ip, NULL);
        }
        int crc = db_commit(db);
        if (crc < 0) rc = crc;
        out->why = why;
        goto out;
    }

    /* success */
    if ((rc = repo_throttle_clear(db, ekey)) < 0) goto out;
    char at[32];
    clock_rfc3339(clock_now_ms(), at);
    if ((rc = repo_user_touch_login(db, c->tenant_id, c->id, at)) < 0) goto out;
    if (pw_needs_rehash(c->pw_hash)) {
        char h[PW_HASH_MAX];
        if (pw_hash(in->password, h) == 0) repo_user_set_password(db, c->tenant_id, c->id, h);
    }
    json_t *body = json_object();
    rc = idn__issue(db, c->tenant_id, c->id, c->roles, NULL, body);
    if (rc < 0) {
        json_decref(body);
        goto out;
    }
    user_t u;
    if ((rc = repo_user_get(db, a, c->tenant_id, c->id, &u)) < 0) {
        json_decref(body);
        goto out;
    }
    json_object_set_new(body, "user", user_to_json(&u));
    json_object_set_new(body, "mfa_enrollment_required",
                        json_boolean(c->require_mfa && !c->totp_enabled));
    idn__audit(db, c->tenant_id, "login.success", c->id, c->id, in->ip, NULL);
    /* expired rows are swept now and then, by whichever login draws it */
    if (randombytes_uniform(PURGE_ONE_IN) == 0) repo_purge_expired(db, now, idn__cfg->lockout_s);
    out->body = body;
out:
    repo_login_cands_free(cands, n);
    return rc;
}

/* ---- refresh ------------------------------------------------------------------------ */

int idn_refresh(db_t *db, arena_t *a, const char *token, const char *ip, session_t *out)
{
    memset(out, 0, sizeof *out);
    out->why = "the refresh token is invalid, expired or revoked";
    if (strncmp(token, IDN_REFRESH_PREFIX, 4) != 0 || strlen(token) != 68) return ERR_UNAUTHORIZED;
    char hash[IDN_HASH_HEX];
    idn__sha256_hex(token, hash);
    int64_t now = idn__now();
    int rc = idn__platform(db, true);
    if (rc < 0) return rc;
    refresh_row_t row;
    rc = repo_refresh_find(db, hash, &row);
    if (rc == ERR_NOT_FOUND) return ERR_UNAUTHORIZED;
    if (rc < 0) return rc;
    enum refresh_verdict v = refresh_decide(&row.state, now);
    user_t u;
    if (v == REFRESH_OK) {
        rc = repo_user_get(db, a, row.tenant_id, row.user_id, &u);
        if (rc == ERR_NOT_FOUND || (rc == 0 && !u.active)) return ERR_UNAUTHORIZED;
        if (rc < 0) return rc;
        tenant_t t;
        rc = repo_tenant_get(db, a, NULL, row.tenant_id, &t);
        if (rc < 0) return rc == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : rc;
        if (strcmp(t.status, "active") != 0) return ERR_UNAUTHORIZED;
        rc = repo_refresh_mark_used(db, row.tenant_id, row.id, now);
        if (rc == ERR_CONFLICT)
            v = REFRESH_REUSED; /* lost a race with another use */
        else if (rc < 0)
            return rc;
    }
    if (v == REFRESH_REUSED) {
        rc = repo_family_revoke(db, row.tenant_id, row.family_id, now);
        if (rc == 0)
            idn__audit(db, row.tenant_id, "token.reuse", NULL, row.user_id, ip,
                       audit_details("family_id", row.family_id));
        if (rc == 0) rc = db_commit(db);
        log_kv(LOG_WARN, "refresh token reuse: family revoked", "tenant_id", row.tenant_id,
               "family_id", row.family_id, NULL);
        return rc < 0 ? rc : ERR_UNAUTHORIZED;
    }
    if (v != REFRESH_OK) return ERR_UNAUTHORIZED;
    json_t *body = json_object();
    rc = idn__issue(db, row.tenant_id, row.user_id, u.roles, row.family_id, body);
    if (rc < 0) {
        json_decref(body);
        return rc;
    }
    json_object_set_new(body, "user", user_to_json(&u));
    out->body = body;
    out->why = NULL;
    return 0;
}

/* ---- logout --------------------------------------------------------------------------- */

int idn_logout(db_t *db, const char *tenant_id, const char *user_id, const char *jti, int64_t exp,
               const char *refresh_token, const char *ip)
{
    int64_t now = idn__now();
    int rc = 0;
    if (jti && *jti) {
        if ((rc = repo_jti_revoke(db, tenant_id, jti, exp)) < 0) return rc;
        char fam[64];
        rc = repo_family_of_jti(db, tenant_id, jti, fam);
        if (rc == 0) rc = repo_family_revoke(db, tenant_id, fam, now);
        if (rc < 0 && rc != ERR_NOT_FOUND) return rc;
    }
    if (refresh_token && *refresh_token) {
        char hash[IDN_HASH_HEX];
        idn__sha256_hex(refresh_token, hash);
        refresh_row_t row;
        rc = repo_refresh_find(db, hash, &row);
        if (rc == 0 && strcmp(row.tenant_id, tenant_id) == 0 && strcmp(row.user_id, user_id) == 0)
            rc = repo_family_revoke(db, tenant_id, row.family_id, now);
        if (rc < 0 && rc != ERR_NOT_FOUND) return rc;
    }
    return idn__audit(db, tenant_id, "logout", user_id, user_id, ip, NULL);
}
