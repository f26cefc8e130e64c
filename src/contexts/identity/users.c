/* users.c — user administration use cases: create, update (roles, active),
 * unlock, password change. Role changes follow roles_may_assign (domain.c):
 * nobody gives roles they could not hold themselves, and only tenant_admin
 * (in their tenant) or super_admin assign roles at all. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "ids.h"
#include "passwords.h"
#include "repo.h"

#define WELCOME_TTL_S (7 * 86400)

int idn_user_create(db_t *db, arena_t *a, const actor_t *who, const user_input_t *in, user_t *out,
                    const char **why)
{
    const char *tenant = who->tenant_id;
    if (in->tenant_id && strcmp(in->tenant_id, tenant) != 0) {
        if (!(who->roles & ROLE_SUPER_ADMIN)) {
            *why = "tenant_id may only be given by super_admin";
            return ERR_FORBIDDEN;
        }
        tenant = in->tenant_id;
    }
    if (!tenant || !*tenant) {
        *why = "tenant_id is required";
        return ERR_VALIDATION;
    }
    if ((*why = user_email_invalid(in->email))) return ERR_VALIDATION;
    unsigned roles = ROLE_CLIENT;
    if (in->roles && (*why = user_roles_parse(in->roles, &roles))) return ERR_VALIDATION;
    if (!roles_may_assign(who->roles, roles)) {
        *why = "you may not assign these roles";
        return ERR_FORBIDDEN;
    }
    if (in->password && (*why = pw_policy_invalid(in->password, in->email))) return ERR_VALIDATION;
    tenant_t t;
    int rc = repo_tenant_get(db, a, NULL, tenant, &t);
    if (rc == ERR_NOT_FOUND) *why = "tenant not found";
    if (rc < 0) return rc;
    char hash[PW_HASH_MAX];
    if (in->password && (rc = pw_hash(in->password, hash)) < 0) return rc;
    char *id = arena_alloc(a, 40), *now = arena_alloc(a, 32);
    id_uuidv7(id);
    clock_rfc3339(clock_now_ms(), now);
    *out = (user_t){.tenant_id = arena_strdup(a, tenant),
                    .id = id,
                    .email = in->email,
                    .name = in->name ? in->name : "",
                    .roles = roles,
                    .active = true,
                    .verified = in->password != NULL && (who->roles & ROLE_SUPER_ADMIN),
                    .created_at = now,
                    .updated_at = now};
    rc = repo_user_insert(db, out, in->password ? hash : NULL);
    if (rc == ERR_EXISTS) *why = "a user with this e-mail already exists in the tenant";
    if (rc < 0) return rc;
    if (!in->password) {
        char token[65];
        if ((rc = idn__token_new(db, out->tenant_id, "reset_password", id, in->email, NULL,
                                 WELCOME_TTL_S, token)) < 0)
            return rc;
        char *body = arena_printf(a,
                                  "An account was created for you.\n\nSet your password with "
                                  "this token (valid 7 days):\n\n%s\n\nPOST "
                                  "/api/v1/auth/password/reset {\"token\": \"...\", "
                                  "\"password\": \"...\"}\n",
                                  token);
        if ((rc = idn__mail(db, out->tenant_id, in->email, "Welcome to BizOSaaS", body)) < 0)
            return rc;
    } else if (!out->verified) {
        if ((rc = idn_send_verification(db, out->tenant_id, id, in->email)) < 0) return rc;
    }
    return idn__audit(db, out->tenant_id, "user.created", who->user_id, id, who->ip,
                      json_pack("{s:o}", "roles", user_roles_json(roles)));
}

int idn_user_update(db_t *db, arena_t *a, const actor_t *who, const char *scope, const char *id,
                    const user_input_t *in, user_t *out, const char **why)
{
    unsigned roles = 0;
    if (in->roles && (*why = user_roles_parse(in->roles, &roles))) return ERR_VALIDATION;
    int rc = repo_user_get(db, a, scope, id, out);
    if (rc < 0) return rc;
    /* Nobody manages an account above their own station (a tenant_admin
     * cannot deactivate or rename a super_admin who lives in the tenant);
     * one's own name is always one's own. */
    if (strcmp(out->id, who->user_id) != 0 && !roles_may_assign(who->roles, out->roles)) {
        *why = "you may not change this user";
        return ERR_FORBIDDEN;
    }
    if (in->roles && roles != out->roles) {
        /* Both the new roles and the ones taken away must be assignable. */
        if (!roles_may_assign(who->roles, roles) || !roles_may_assign(who->roles, out->roles)) {
            *why = "you may not assign these roles";
            return ERR_FORBIDDEN;
        }
        if ((rc = idn__audit(db, out->tenant_id, "user.role_changed", who->user_id, id, who->ip,
                             json_pack("{s:o, s:o}", "from", user_roles_json(out->roles), "to",
                                       user_roles_json(roles)))) < 0)
            return rc;
        out->roles = roles;
    }
    if (in->name) out->name = in->name;
    if (in->active >= 0 && (bool)in->active != out->active) {
        out->active = in->active != 0;
        if (!out->active &&
            (rc = repo_user_revoke_all(db, out->tenant_id, out->id, idn__now())) < 0)
            return rc;
        if ((rc =
                 idn__audit(db, out->tenant_id, out->active ? "user.activated" : "user.deactivated",
                            who->user_id, id, who->ip, NULL)) < 0)
            return rc;
    }
    char *now = arena_alloc(a, 32);
    clock_rfc3339(clock_now_ms(), now);
    out->updated_at = now;
    return repo_user_update(db, out);
}

int idn_user_unlock(db_t *db, arena_t *a, const actor_t *who, const char *scope, const char *id)
{
    user_t u;
    int rc = repo_user_get(db, a, scope, id, &u);
    if (rc < 0) return rc;
    if ((rc = idn__platform(db, true)) < 0) return rc;
    char key[300];
    snprintf(key, sizeof key, "email:%s", u.email);
    if ((rc = repo_throttle_clear(db, key)) < 0) return rc;
    return idn__audit(db, u.tenant_id, "user.unlocked", who->user_id, u.id, who->ip, NULL);
}

int idn_password_change(db_t *db, arena_t *a, const actor_t *who, const char *current,
                        const char *next, const char **why)
{
    user_t u;
    int rc = repo_user_get(db, a, who->tenant_id, who->user_id, &u);
    if (rc < 0) return rc;
    if ((*why = pw_policy_invalid(next, u.email))) return ERR_VALIDATION;
    login_cand_t c[LOGIN_CANDS_MAX];
    int n = 0;
    if ((rc = repo_login_cands(db, u.email, NULL, c, &n)) < 0) return rc;
    bool ok = false;
    for (int i = 0; i < n; i++)
        if (strcmp(c[i].id, u.id) == 0 && strcmp(c[i].tenant_id, u.tenant_id) == 0)
            ok = pw_verify(c[i].pw_hash, current);
    repo_login_cands_free(c, n);
    if (!ok) {
        *why = "the current password is incorrect";
        return ERR_FORBIDDEN;
    }
    char hash[PW_HASH_MAX];
    if ((rc = pw_hash(next, hash)) < 0) return rc;
    if ((rc = repo_user_set_password(db, u.tenant_id, u.id, hash)) < 0) return rc;
    return idn__audit(db, u.tenant_id, "password.changed", u.id, u.id, who->ip, NULL);
}
