/* account.c — self-service account flows: sign-up and joining by
 * invitation, e-mail verification, password reset.
 *
 * One-time tokens are 256 random bits shown once (in the mail) and stored
 * as SHA-256, single use (the UPDATE that consumes them only matches an
 * unused row) and expiring. These flows run before the tenant is known, in
 * a platform-scope transaction chosen here. Forgot-password answers the
 * same whether or not the address exists. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "ids.h"
#include "log.h"
#include "passwords.h"
#include "repo.h"

#define VERIFY_TTL_S (2 * 86400)
#define RESET_TTL_S 3600
#define INVITE_TTL_S (7 * 86400)

int idn__token_new(db_t *db, const char *tenant_id, const char *purpose, const char *user_id,
                   const char *email, const char *role, int64_t ttl_s, char out[65])
{
    char hash[IDN_HASH_HEX];
    id_random_hex(out, 32);
    idn__sha256_hex(out, hash);
    return repo_user_token_insert(db, tenant_id, purpose, user_id, email, role, hash,
                                  idn__now() + ttl_s);
}

int idn_send_verification(db_t *db, const char *tenant_id, const char *user_id, const char *email)
{
    char token[65], body[512];
    int rc =
        idn__token_new(db, tenant_id, "verify_email", user_id, email, NULL, VERIFY_TTL_S, token);
    if (rc < 0) return rc;
    snprintf(body, sizeof body,
             "Confirm your e-mail address with this token (valid 48 hours):\n\n%s\n\n"
             "POST /api/v1/auth/verify-email {\"token\": \"...\"}\n",
             token);
    return idn__mail(db, tenant_id, email, "Confirm your e-mail address", body);
}

/* slug_from: a URL-safe slug from name plus a random suffix. */
static char *slug_from(arena_t *a, const char *name)
{
    char base[40];
    size_t n = 0;
    bool dash = false;
    for (const char *p = name; *p && n < 30; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            base[n++] = c;
            dash = false;
        } else if (n > 0 && !dash) {
            base[n++] = '-';
            dash = true;
        }
    }
    while (n > 0 && base[n - 1] == '-')
        n--;
    base[n] = '\0';
    char rnd[7];
    id_random_hex(rnd, 3);
    return n ? arena_printf(a, "%s-%s", base, rnd) : arena_printf(a, "tenant-%s", rnd);
}

int idn_register(db_t *db, arena_t *a, const register_input_t *in, user_t *out,
                 tenant_t *out_tenant, bool *new_tenant, const char **why)
{
    *new_tenant = false;
    if ((*why = user_email_invalid(in->email))) return ERR_VALIDATION;
    if ((*why = pw_policy_invalid(in->password, in->email))) return ERR_VALIDATION;
    int rc = idn__platform(db, true);
    if (rc < 0) return rc;
    int64_t now = idn__now();
    const char *tenant = NULL;
    unsigned roles = ROLE_TENANT_ADMIN;
    bool verified = false;
    user_token_t tok;
    if (in->invitation_token) {
        char hash[IDN_HASH_HEX];
        idn__sha256_hex(in->invitation_token, hash);
        rc = repo_user_token_find(db, hash, &tok);
        if (rc < 0 && rc != ERR_NOT_FOUND) return rc;
        if (rc == ERR_NOT_FOUND || strcmp(tok.purpose, "invite") != 0 || tok.used ||
            tok.expires_at <= now) {
            *why = "the invitation is invalid, used or expired";
            return ERR_VALIDATION;
        }
        if (strcmp(tok.email, in->email) != 0) {
            *why = "the invitation was sent to another e-mail address";
            return ERR_VALIDATION;
        }
        if ((rc = repo_user_token_use(db, tok.tenant_id, tok.id, now)) < 0) {
            *why = "the invitation is invalid, used or expired";
            return rc == ERR_CONFLICT ? ERR_VALIDATION : rc;
        }
        tenant = tok.tenant_id;
        roles = (unsigned)auth_role_parse(tok.role, strlen(tok.role));
        if (!roles) roles = ROLE_CLIENT;
        verified = true; /* the invitation reached this address */
    } else {
        if (!idn__cfg->signup) {
            *why = "self-service sign-up is disabled; ask for an invitation";
            return ERR_FORBIDDEN;
        }
        bool taken = false;
        if ((rc = repo_user_email_taken(db, in->email, &taken)) < 0) return rc;
        if (taken) {
            *why = "this e-mail address is already registered";
            return ERR_EXISTS;
        }
        const char *tname = in->tenant_name;
        if (!tname || !*tname) tname = strchr(in->email, '@') + 1;
        tenant_input_t ti = {.name = tname, .slug = slug_from(a, tname)};
        if ((rc = idn_tenant_create(db, a, &ti, out_tenant, why)) < 0) return rc;
        tenant = out_tenant->id;
        *new_tenant = true;
    }
    char *id = arena_alloc(a, 40), *at = arena_alloc(a, 32);
    id_uuidv7(id);
    clock_rfc3339(clock_now_ms(), at);
    char hash[PW_HASH_MAX];
    if ((rc = pw_hash(in->password, hash)) < 0) return rc;
    *out = (user_t){.tenant_id = arena_strdup(a, tenant),
                    .id = id,
                    .email = in->email,
                    .name = in->name ? in->name : "",
                    .roles = roles,
                    .active = true,
                    .verified = verified,
                    .created_at = at,
                    .updated_at = at};
    rc = repo_user_insert(db, out, hash);
    if (rc == ERR_EXISTS) *why = "this e-mail address is already registered";
    if (rc < 0) return rc;
    if (!verified && (rc = idn_send_verification(db, out->tenant_id, id, in->email)) < 0) return rc;
    return idn__audit(db, out->tenant_id, "user.registered", id, id, in->ip,
                      json_pack("{s:s}", "via", in->invitation_token ? "invitation" : "sign-up"));
}

int idn_invite(db_t *db, const actor_t *who, const char *email, unsigned roles, const char **why)
{
    if ((*why = user_email_invalid(email))) return ERR_VALIDATION;
    if (!who->tenant_id || !*who->tenant_id) {
        *why = "invitations need a tenant";
        return ERR_VALIDATION;
    }
    if (!roles_may_assign(who->roles, roles) || __builtin_popcount(roles) != 1) {
        *why = roles_may_assign(who->roles, roles) ? "invite with exactly one role"
                                                   : "you may not assign this role";
        return roles_may_assign(who->roles, roles) ? ERR_VALIDATION : ERR_FORBIDDEN;
    }
    char token[65], body[512];
    int rc = idn__token_new(db, who->tenant_id, "invite", NULL, email, auth_role_name(roles),
                            INVITE_TTL_S, token);
    if (rc < 0) return rc;
    snprintf(body, sizeof body,
             "You were invited to BizOSaaS as %s.\n\nAccept with this invitation token (valid 7 "
             "days):\n\n%s\n\nPOST /api/v1/auth/register {\"email\": \"...\", \"password\": "
             "\"...\", \"invitation_token\": \"...\"}\n",
             auth_role_name(roles), token);
    if ((rc = idn__mail(db, who->tenant_id, email, "You are invited to BizOSaaS", body)) < 0)
        return rc;
    return idn__audit(db, who->tenant_id, "user.invited", who->user_id, NULL, who->ip,
                      json_pack("{s:s}", "role", auth_role_name(roles)));
}

static int consume(db_t *db, const char *token, const char *purpose, user_token_t *tok,
                   const char **why)
{
    *why = "the token is invalid, used or expired";
    if (strlen(token) != 64) return ERR_VALIDATION;
    char hash[IDN_HASH_HEX];
    idn__sha256_hex(token, hash);
    int rc = repo_user_token_find(db, hash, tok);
    if (rc == ERR_NOT_FOUND) return ERR_VALIDATION;
    if (rc < 0) return rc;
    if (strcmp(tok->purpose, purpose) != 0 || tok->used || tok->expires_at <= idn__now())
        return ERR_VALIDATION;
    rc = repo_user_token_use(db, tok->tenant_id, tok->id, idn__now());
    return rc == ERR_CONFLICT ? ERR_VALIDATION : rc;
}

int idn_verify_email(db_t *db, const char *token, const char **why)
{
    int rc = idn__platform(db, true);
    if (rc < 0) return rc;
    user_token_t tok;
    if ((rc = consume(db, token, "verify_email", &tok, why)) < 0) return rc;
    if ((rc = repo_user_set_verified(db, tok.tenant_id, tok.user_id)) < 0) return rc;
    return idn__audit(db, tok.tenant_id, "user.email_verified", tok.user_id, tok.user_id, NULL,
                      NULL);
}

int idn_password_forgot(db_t *db, const char *email, const char *ip)
{
    int rc = idn__platform(db, true);
    if (rc < 0) return rc;
    login_cand_t c[LOGIN_CANDS_MAX];
    int n = 0;
    if ((rc = repo_login_cands(db, email, NULL, c, &n)) < 0) return rc;
    for (int i = 0; rc == 0 && i < n; i++) {
        if (!c[i].active || !c[i].tenant_active) continue;
        char token[65], body[512];
        rc = idn__token_new(db, c[i].tenant_id, "reset_password", c[i].id, email, NULL, RESET_TTL_S,
                            token);
        if (rc < 0) break;
        snprintf(body, sizeof body,
                 "Reset your password with this token (valid 1 hour, single use):\n\n%s\n\n"
                 "POST /api/v1/auth/password/reset {\"token\": \"...\", \"password\": \"...\"}\n"
                 "If you did not ask for this, ignore this mail.\n",
                 token);
        rc = idn__mail(db, c[i].tenant_id, email, "Reset your password", body);
        if (rc == 0)
            rc =
                idn__audit(db, c[i].tenant_id, "password.reset_requested", NULL, c[i].id, ip, NULL);
    }
    repo_login_cands_free(c, n);
    return rc;
}

int idn_password_reset(db_t *db, arena_t *a, const char *token, const char *password,
                       const char *ip, const char **why)
{
    int rc = idn__platform(db, true);
    if (rc < 0) return rc;
    user_token_t tok;
    if ((rc = consume(db, token, "reset_password", &tok, why)) < 0) return rc;
    user_t u;
    if ((rc = repo_user_get(db, a, tok.tenant_id, tok.user_id, &u)) < 0) return rc;
    if ((*why = pw_policy_invalid(password, u.email))) return ERR_VALIDATION;
    char hash[PW_HASH_MAX];
    if ((rc = pw_hash(password, hash)) < 0) return rc;
    if ((rc = repo_user_set_password(db, u.tenant_id, u.id, hash)) < 0) return rc;
    /* the mail reached the address: it is verified too */
    if (!u.verified && (rc = repo_user_set_verified(db, u.tenant_id, u.id)) < 0) return rc;
    char key[300];
    snprintf(key, sizeof key, "email:%s", u.email);
    if ((rc = repo_throttle_clear(db, key)) < 0) return rc;
    if ((rc = repo_user_revoke_all(db, u.tenant_id, u.id, idn__now())) < 0) return rc;
    return idn__audit(db, u.tenant_id, "password.reset", u.id, u.id, ip, NULL);
}
