/* http_auth.c — the session and account routes of /api/v1/auth: register,
 * login, refresh, logout, verify, me, SSO platforms, e-mail verification,
 * password reset and change.
 *
 * Public routes that must find a user before the tenant is known (login,
 * refresh, register, verify-email, password reset) switch to a
 * platform-scope transaction in the app layer. Unknown fields are rejected
 * (json_reject_unknown) on every write. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "err.h"
#include "http.h"
#include "identity.h"
#include "internal.h"
#include "passwords.h"
#include "repo.h"
#include "router.h"
#include "tokens.h"

/* body_of: the request's JSON object with only the allowed keys, or NULL
 * with the error written. */
static json_t *body_of(http_req_t *req, http_res_t *res, const char *const *allowed, int *rc)
{
    json_t *b = http_body_json(req, res, rc);
    if (b && (*rc = json_reject_unknown(res, b, allowed)) < 0) return NULL;
    return b;
}

/* email_field: a required, normalised, valid e-mail address. */
static int email_field(http_req_t *req, http_res_t *res, json_t *b, const char **out)
{
    const char *raw;
    int rc = json_field_str(res, b, "email", true, USER_EMAIL_MAX + 16, &raw);
    if (rc < 0) return rc;
    char *e = arena_alloc(req->arena, strlen(raw) + 1);
    user_email_normalize(raw, e, strlen(raw) + 1);
    const char *why = user_email_invalid(e);
    if (why) return http_error(res, ERR_VALIDATION, "%s", why);
    *out = e;
    return 0;
}

static actor_t actor_of(const http_req_t *req)
{
    return (actor_t){.tenant_id = req->auth.tenant_id,
                     .user_id = req->auth.user_id,
                     .roles = req->auth.roles,
                     .ip = req->remote_addr};
}

static bool is_api_key(const http_req_t *req)
{
    return strncmp(req->auth.user_id, "key:", 4) == 0;
}

static int fail(http_res_t *res, int rc, const char *why)
{
    return http_error(res, rc, "%s", why ? why : err_message(rc));
}

/* ---- register, login, refresh, logout ------------------------------------------- */

static int do_register(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"email",       "password",         "name",
                                          "tenant_name", "invitation_token", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    register_input_t in = {.ip = req->remote_addr};
    if ((rc = email_field(req, res, b, &in.email)) < 0 ||
        (rc = json_field_str(res, b, "password", true, PW_MAX_LEN, &in.password)) < 0 ||
        (rc = json_field_str(res, b, "name", false, USER_NAME_MAX, &in.name)) < 0 ||
        (rc = json_field_str(res, b, "tenant_name", false, TENANT_NAME_MAX, &in.tenant_name)) < 0 ||
        (rc = json_field_str(res, b, "invitation_token", false, 64, &in.invitation_token)) < 0)
        return rc;
    user_t u;
    tenant_t t;
    bool new_tenant = false;
    const char *why = NULL;
    rc = idn_register(req->db, req->arena, &in, &u, &t, &new_tenant, &why);
    if (rc < 0) return fail(res, rc, why);
    json_t *out = json_pack("{s:o}", "user", user_to_json(&u));
    if (new_tenant) json_object_set_new(out, "tenant", tenant_to_json(&t));
    return http_json(res, 201, out);
}

static int do_login(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"email",     "password",      "tenant",
                                          "totp_code", "recovery_code", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    login_input_t in = {.ip = req->remote_addr};
    if ((rc = email_field(req, res, b, &in.email)) < 0 ||
        (rc = json_field_str(res, b, "password", true, PW_MAX_LEN, &in.password)) < 0 ||
        (rc = json_field_str(res, b, "tenant", false, TENANT_SLUG_MAX, &in.tenant_slug)) < 0 ||
        (rc = json_field_str(res, b, "totp_code", false, 16, &in.totp_code)) < 0 ||
        (rc = json_field_str(res, b, "recovery_code", false, 32, &in.recovery_code)) < 0)
        return rc;
    session_t s;
    rc = idn_login(req->db, req->arena, &in, &s);
    if (rc == ERR_RATE_LIMITED) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (long long)s.retry_after);
        http_set_header(res, "Retry-After", ra);
    }
    if (rc < 0) return fail(res, rc, s.why);
    http_set_header(res, "Cache-Control", "no-store");
    return http_json(res, 200, s.body);
}

static int do_refresh(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"refresh_token", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    const char *tok;
    if ((rc = json_field_str(res, b, "refresh_token", true, 128, &tok)) < 0) return rc;
    session_t s;
    rc = idn_refresh(req->db, req->arena, tok, req->remote_addr, &s);
    if (rc < 0) return fail(res, rc, s.why);
    http_set_header(res, "Cache-Control", "no-store");
    return http_json(res, 200, s.body);
}

static int do_logout(http_req_t *req, http_res_t *res)
{
    const char *refresh = NULL;
    if (req->body_len > 0) {
        static const char *const allowed[] = {"refresh_token", NULL};
        int rc;
        json_t *b = body_of(req, res, allowed, &rc);
        if (!b) return rc;
        if ((rc = json_field_str(res, b, "refresh_token", false, 128, &refresh)) < 0) return rc;
    }
    if (!req->auth.tenant_id[0] || is_api_key(req)) {
        res->status = 204;
        return 0; /* nothing stored to revoke */
    }
    int rc = idn_logout(req->db, req->auth.tenant_id, req->auth.user_id, req->auth.jti,
                        req->auth.exp, refresh, req->remote_addr);
    if (rc < 0) return http_error(res, rc, NULL);
    res->status = 204;
    return 0;
}

/* ---- verify, me, SSO --------------------------------------------------------------- */

static int do_verify(http_req_t *req, http_res_t *res)
{
    const auth_ctx_t *c = &req->auth;
    json_t *j = json_pack("{s:b, s:s, s:o, s:o}", "valid", 1, "sub", c->user_id, "tenant_id",
                          c->tenant_id[0] ? json_string(c->tenant_id) : json_null(), "roles",
                          user_roles_json(c->roles));
    if (c->exp) json_object_set_new(j, "exp", json_integer(c->exp));
    if (c->jti[0]) json_object_set_new(j, "jti", json_string(c->jti));
    json_object_set_new(j, "credential", json_string(is_api_key(req) ? "api_key" : "token"));
    return http_json(res, 200, j);
}

static int do_me(http_req_t *req, http_res_t *res)
{
    user_t u;
    int rc = ERR_NOT_FOUND;
    if (req->auth.tenant_id[0] && !is_api_key(req))
        rc = repo_user_get(req->db, req->arena, req->auth.tenant_id, req->auth.user_id, &u);
    if (rc == 0) {
        json_t *j = user_to_json(&u);
        json_object_set_new(j, "credential", json_string("token"));
        return http_json(res, 200, j);
    }
    if (rc != ERR_NOT_FOUND) return http_error(res, rc, NULL);
    /* an API key or an operator token: what the credential says */
    return http_json(
        res, 200,
        json_pack("{s:s, s:o, s:o, s:s}", "id", req->auth.user_id, "tenant_id",
                  req->auth.tenant_id[0] ? json_string(req->auth.tenant_id) : json_null(), "roles",
                  user_roles_json(req->auth.roles), "credential",
                  is_api_key(req) ? "api_key" : "token"));
}

static int do_me_update(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"name", "roles", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    user_input_t in = {.active = -1};
    if ((rc = json_field_str(res, b, "name", false, USER_NAME_MAX, &in.name)) < 0) return rc;
    in.roles = json_object_get(b, "roles");
    if (in.roles && !(req->auth.roles & (ROLE_SUPER_ADMIN | ROLE_TENANT_ADMIN)))
        return http_error(res, ERR_FORBIDDEN, "you may not change your own roles");
    if (is_api_key(req)) return http_error(res, ERR_FORBIDDEN, "an API key has no profile");
    actor_t who = actor_of(req);
    user_t u;
    const char *why = NULL;
    rc = idn_user_update(req->db, req->arena, &who, req->auth.tenant_id, req->auth.user_id, &in, &u,
                         &why);
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "user not found");
    if (rc < 0) return fail(res, rc, why);
    return http_json(res, 200, user_to_json(&u));
}

static const struct platform {
    const char *id, *name, *url;
    unsigned roles; /* 0 = every signed-in user */
} platforms[] = {
    {"marketing", "Marketing site", "/", 0},
    {"storefront", "CoreLDove storefront", "/store/", 0},
    {"client-portal", "Client portal", "/portal/",
     ROLE_CLIENT | ROLE_MANAGER | ROLE_TENANT_ADMIN | ROLE_SUPER_ADMIN},
    /* the platform team's dashboard: super_admin only (issue 7) */
    {"admin", "Admin dashboard", "/admin/", ROLE_SUPER_ADMIN},
    {"directory", "Business directory", "/directory/", 0},
    {"trading", "QuantTrade", "/trading/", ROLE_MANAGER | ROLE_TENANT_ADMIN | ROLE_SUPER_ADMIN},
    {"gaming", "ThrillRing gaming", "/gaming/", 0},
};

static int do_sso(http_req_t *req, http_res_t *res)
{
    json_t *items = json_array();
    for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++) {
        const struct platform *p = &platforms[i];
        bool ok = p->roles == 0 || (req->auth.roles & p->roles);
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:b}", "id", p->id, "name", p->name,
                                               "url", p->url, "accessible", ok));
    }
    return http_json(res, 200, json_pack("{s:o}", "platforms", items));
}

/* ---- e-mail verification, passwords -------------------------------------------------- */

static int do_verify_email(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"token", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    const char *tok, *why = NULL;
    if ((rc = json_field_str(res, b, "token", true, 64, &tok)) < 0) return rc;
    rc = idn_verify_email(req->db, tok, &why);
    if (rc < 0) return fail(res, rc, why);
    return http_json(res, 200, json_pack("{s:b}", "verified", 1));
}

static int do_resend(http_req_t *req, http_res_t *res)
{
    user_t u;
    int rc = repo_user_get(req->db, req->arena, req->auth.tenant_id, req->auth.user_id, &u);
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "user not found");
    if (rc < 0) return http_error(res, rc, NULL);
    if (u.verified) return http_error(res, ERR_CONFLICT, "the e-mail address is already verified");
    if ((rc = idn_send_verification(req->db, u.tenant_id, u.id, u.email)) < 0)
        return http_error(res, rc, NULL);
    return http_json(res, 202, json_pack("{s:b}", "sent", 1));
}

static int do_forgot(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"email", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    const char *email;
    if ((rc = email_field(req, res, b, &email)) < 0) return rc;
    if ((rc = idn_password_forgot(req->db, email, req->remote_addr)) < 0)
        return http_error(res, rc, NULL);
    /* the same answer whether or not the address exists */
    return http_json(res, 202,
                     json_pack("{s:s}", "message",
                               "if the address belongs to an account, a reset token was sent"));
}

static int do_reset(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"token", "password", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    const char *tok, *pw, *why = NULL;
    if ((rc = json_field_str(res, b, "token", true, 64, &tok)) < 0 ||
        (rc = json_field_str(res, b, "password", true, PW_MAX_LEN, &pw)) < 0)
        return rc;
    rc = idn_password_reset(req->db, req->arena, tok, pw, req->remote_addr, &why);
    if (rc < 0) return fail(res, rc, why);
    return http_json(res, 200, json_pack("{s:b}", "reset", 1));
}

static int do_change(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"current_password", "new_password", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    const char *cur, *next, *why = NULL;
    if ((rc = json_field_str(res, b, "current_password", true, PW_MAX_LEN, &cur)) < 0 ||
        (rc = json_field_str(res, b, "new_password", true, PW_MAX_LEN, &next)) < 0)
        return rc;
    actor_t who = actor_of(req);
    rc = idn_password_change(req->db, req->arena, &who, cur, next, &why);
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "user not found");
    if (rc < 0) return fail(res, rc, why);
    return http_json(res, 200, json_pack("{s:b}", "changed", 1));
}

static const route_t routes[] = {
    {"POST", "/api/v1/auth/register", NULL,
     "Sign up (creates a tenant when sign-up is enabled) or join by invitation", do_register,
     RT_PUBLIC},
    {"POST", "/api/v1/auth/login", NULL,
     "Log in with e-mail and password (and TOTP code): access + refresh token", do_login,
     RT_PUBLIC},
    {"POST", "/api/v1/auth/refresh", NULL,
     "Rotate a refresh token (reuse of a rotated token revokes its family)", do_refresh, RT_PUBLIC},
    {"POST", "/api/v1/auth/logout", NULL, "Revoke the current token and its session", do_logout, 0},
    {"GET", "/api/v1/auth/verify", NULL, "Check the presented credential and return its claims",
     do_verify, RT_READ},
    {"GET", "/api/v1/auth/me", NULL, "The current user's profile", do_me, RT_READ | RT_REPEATABLE},
    {"PATCH", "/api/v1/auth/me", NULL, "Update the current user's name", do_me_update, 0},
    {"GET", "/api/v1/auth/sso/platforms", NULL,
     "The portals with whether the current user may open each", do_sso, 0},
    {"POST", "/api/v1/auth/verify-email", NULL, "Confirm an e-mail address with a mailed token",
     do_verify_email, RT_PUBLIC},
    {"POST", "/api/v1/auth/verify-email/resend", NULL, "Mail a new verification token", do_resend,
     0},
    {"POST", "/api/v1/auth/password/forgot", NULL,
     "Mail a password-reset token (same answer for unknown addresses)", do_forgot, RT_PUBLIC},
    {"POST", "/api/v1/auth/password/reset", NULL,
     "Set a new password with a reset token (ends every session)", do_reset, RT_PUBLIC},
    {"POST", "/api/v1/auth/password/change", NULL, "Change the current user's password", do_change,
     0},
};

void idn__routes_auth(router_t *r)
{
    router_add(r, routes, sizeof routes / sizeof routes[0]);
}
