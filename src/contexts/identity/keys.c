/* keys.c — API keys for machine clients and TOTP two-factor enrolment.
 *
 * A key acts with one role no higher than its creator could assign, and
 * its scopes (permission patterns) narrow that role further; the request
 * hook enforces both. Two-factor: enrol stores a fresh secret (disabled),
 * confirm enables it once the user proves their authenticator produces
 * codes, and issues single-use recovery codes stored hashed. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "ids.h"
#include "repo.h"
#include "totp.h"

int idn_apikey_create(db_t *db, arena_t *a, const actor_t *who, const char *name, const char *role,
                      json_t *scopes, apikey_t *out, char key_out[45], const char **why)
{
    if (!who->tenant_id || !*who->tenant_id) {
        *why = "API keys belong to a tenant; use a token with a tenant";
        return ERR_VALIDATION;
    }
    if (!role) role = "client";
    int bit = auth_role_parse(role, strlen(role));
    if (!bit || bit == ROLE_SERVICE || bit == ROLE_SUPER_ADMIN) {
        *why = "role must be tenant_admin, manager or client";
        return ERR_VALIDATION;
    }
    if (!roles_may_assign(who->roles, (unsigned)bit)) {
        *why = "you may not create a key with this role";
        return ERR_FORBIDDEN;
    }
    json_t *own = NULL;
    if (!scopes) scopes = own = json_pack("[s]", "*");
    if ((*why = scopes_invalid(scopes))) {
        json_decref(own);
        return ERR_VALIDATION;
    }
    out->scopes = NULL;
    char secret[41];
    id_random_hex(secret, 20);
    snprintf(key_out, 45, IDN_APIKEY_PREFIX "%s", secret);
    char hash[IDN_HASH_HEX];
    idn__sha256_hex(key_out, hash);
    char *id = arena_alloc(a, 40), *now = arena_alloc(a, 32);
    id_uuidv7(id);
    clock_rfc3339(clock_now_ms(), now);
    *out = (apikey_t){.tenant_id = who->tenant_id,
                      .id = id,
                      .name = name,
                      .prefix = arena_strndup(a, key_out, 12),
                      .role = role,
                      .created_by = who->user_id,
                      .created_at = now,
                      .scopes = scopes};
    int rc = repo_apikey_insert(db, out, hash);
    if (rc == 0)
        rc = idn__audit(db, who->tenant_id, "apikey.created", who->user_id, id, who->ip,
                        json_pack("{s:s, s:s, s:O}", "name", name, "role", role, "scopes", scopes));
    if (rc < 0) {
        json_decref(own);
        out->scopes = NULL;
        return rc;
    }
    out->scopes = own ? own : json_incref(scopes);
    return 0;
}

int idn_apikey_revoke(db_t *db, const actor_t *who, const char *id)
{
    int rc = repo_apikey_revoke(db, who->tenant_id, id, idn__now());
    if (rc < 0) return rc;
    return idn__audit(db, who->tenant_id, "apikey.revoked", who->user_id, id, who->ip, NULL);
}

int idn_totp_enroll(db_t *db, arena_t *a, const actor_t *who, const char **secret, const char **uri)
{
    user_t u;
    int rc = repo_user_get(db, a, who->tenant_id, who->user_id, &u);
    if (rc < 0) return rc;
    if (u.totp_enabled) return ERR_CONFLICT;
    char *s = arena_alloc(a, TOTP_SECRET_B32_LEN + 1);
    totp_new_secret(s);
    char *buf = arena_alloc(a, 600);
    if (!totp_uri("BizOSaaS", u.email, s, buf, 600)) return ERR_INTERNAL;
    if ((rc = repo_user_set_totp(db, u.tenant_id, u.id, s, false)) < 0) return rc;
    *secret = s;
    *uri = buf;
    return 0;
}

int idn_totp_confirm(db_t *db, arena_t *a, const actor_t *who, const char *code, json_t **codes,
                     const char **why)
{
    const char *secret = NULL;
    bool enabled = false;
    int rc = repo_user_totp(db, a, who->tenant_id, who->user_id, &secret, &enabled);
    if (rc < 0) return rc;
    if (enabled) {
        *why = "two-factor authentication is already enabled";
        return ERR_CONFLICT;
    }
    if (!secret) {
        *why = "enrol first (POST /api/v1/auth/mfa/totp/enroll)";
        return ERR_CONFLICT;
    }
    if (!totp_verify(secret, code, idn__now())) {
        *why = "the code is incorrect";
        return ERR_VALIDATION;
    }
    if ((rc = repo_user_set_totp(db, who->tenant_id, who->user_id, secret, true)) < 0) return rc;
    char hashes[RECOVERY_CODES][IDN_HASH_HEX];
    json_t *list = json_array();
    for (int i = 0; i < RECOVERY_CODES; i++) {
        char c[RECOVERY_CODE_LEN + 1];
        recovery_code_new(c);
        idn__sha256_hex(c, hashes[i]);
        json_array_append_new(list, json_string(c));
    }
    rc = repo_recovery_replace(db, who->tenant_id, who->user_id, hashes, RECOVERY_CODES);
    if (rc == 0)
        rc = idn__audit(db, who->tenant_id, "mfa.enabled", who->user_id, who->user_id, who->ip,
                        NULL);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *codes = list;
    return 0;
}

int idn_totp_disable(db_t *db, arena_t *a, const actor_t *who, const char *code, const char **why)
{
    const char *secret = NULL;
    bool enabled = false;
    int rc = repo_user_totp(db, a, who->tenant_id, who->user_id, &secret, &enabled);
    if (rc < 0) return rc;
    if (!enabled) {
        *why = "two-factor authentication is not enabled";
        return ERR_CONFLICT;
    }
    if (!totp_verify(secret, code, idn__now())) {
        *why = "the code is incorrect";
        return ERR_VALIDATION;
    }
    if ((rc = repo_user_set_totp(db, who->tenant_id, who->user_id, NULL, false)) < 0) return rc;
    if ((rc = repo_recovery_replace(db, who->tenant_id, who->user_id, NULL, 0)) < 0) return rc;
    return idn__audit(db, who->tenant_id, "mfa.disabled", who->user_id, who->user_id, who->ip,
                      NULL);
}
