/* http_admin.c — administration routes of /api/v1/auth: users and
 * invitations, API keys, the audit log, two-factor enrolment, the tenant's
 * two-factor requirement, JWKS and the development mailbox.
 *
 * Users and the audit log are RT_PLATFORM: super_admin sees every tenant,
 * everyone else their own; another tenant's user is a 404 (the scope
 * filter finds nothing), never a 403. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "err.h"
#include "http.h"
#include "internal.h"
#include "jwks.h"
#include "passwords.h"
#include "repo.h"
#include "router.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

static const char *scope_of(const http_req_t *req)
{
    if (req->auth.roles & (ROLE_SUPER_ADMIN | ROLE_SERVICE)) return NULL;
    return req->auth.tenant_id;
}

static actor_t actor_of(const http_req_t *req)
{
    return (actor_t){.tenant_id = req->auth.tenant_id,
                     .user_id = req->auth.user_id,
                     .roles = req->auth.roles,
                     .ip = req->remote_addr};
}

static json_t *body_of(http_req_t *req, http_res_t *res, const char *const *allowed, int *rc)
{
    json_t *b = http_body_json(req, res, rc);
    if (b && (*rc = json_reject_unknown(res, b, allowed)) < 0) return NULL;
    return b;
}

static int fail(http_res_t *res, int rc, const char *why, const char *what)
{
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "%s not found", what);
    return http_error(res, rc, "%s", why ? why : err_message(rc));
}

static int page_limit(http_req_t *req, http_res_t *res, int *limit)
{
    *limit = PAGE_DEFAULT;
    const char *l = http_query(req, "limit");
    if (!l) return 0;
    char *end;
    long long v = strtoll(l, &end, 10);
    if (!*l || *end || v < 1 || v > PAGE_MAX)
        return http_error(res, ERR_VALIDATION, "limit must be an integer from 1 to %d", PAGE_MAX);
    *limit = (int)v;
    return 0;
}

static json_t *page(json_t *items, bool more, const char *key)
{
    json_t *last =
        json_array_size(items) ? json_array_get(items, json_array_size(items) - 1) : NULL;
    json_t *next = more && last ? json_incref(json_object_get(last, key)) : json_null();
    return json_pack("{s:o, s:o}", "items", items, "next_cursor", next);
}

/* ---- users ------------------------------------------------------------------------ */

static int read_user(http_req_t *req, http_res_t *res, bool create, user_input_t *in)
{
    static const char *const allowed_c[] = {"email", "name",      "password",
                                            "roles", "tenant_id", NULL};
    static const char *const allowed_u[] = {"name", "roles", "active", NULL};
    int rc;
    json_t *b = body_of(req, res, create ? allowed_c : allowed_u, &rc);
    if (!b) return rc;
    *in = (user_input_t){.active = -1};
    if (create) {
        const char *raw;
        if ((rc = json_field_str(res, b, "email", true, USER_EMAIL_MAX + 16, &raw)) < 0) return rc;
        char *e = arena_alloc(req->arena, strlen(raw) + 1);
        user_email_normalize(raw, e, strlen(raw) + 1);
        in->email = e;
        if ((rc = json_field_str(res, b, "password", false, PW_MAX_LEN, &in->password)) < 0 ||
            (rc = json_field_str(res, b, "tenant_id", false, 63, &in->tenant_id)) < 0)
            return rc;
    }
    if ((rc = json_field_str(res, b, "name", false, USER_NAME_MAX, &in->name)) < 0) return rc;
    json_t *roles = json_object_get(b, "roles");
    if (roles && !json_is_null(roles)) in->roles = roles;
    json_t *active = json_object_get(b, "active");
    if (active && !json_is_null(active)) {
        if (!json_is_boolean(active))
            return http_error(res, ERR_VALIDATION, "field 'active' must be a boolean");
        in->active = json_is_true(active);
    }
    if (!create && !in->name && !in->roles && in->active < 0)
        return http_error(res, ERR_VALIDATION, "nothing to update");
    return 0;
}

static int user_create(http_req_t *req, http_res_t *res)
{
    user_input_t in;
    int rc = read_user(req, res, true, &in);
    if (rc < 0) return rc;
    actor_t who = actor_of(req);
    user_t u;
    const char *why = NULL;
    rc = idn_user_create(req->db, req->arena, &who, &in, &u, &why);
    if (rc < 0) return fail(res, rc, why, "tenant");
    return http_json(res, 201, user_to_json(&u));
}

static int user_list(http_req_t *req, http_res_t *res)
{
    int limit, rc;
    if ((rc = page_limit(req, res, &limit)) < 0) return rc;
    json_t *items = json_array();
    bool more = false;
    rc = repo_user_list(req->db, req->arena, scope_of(req), http_query(req, "cursor"), limit, items,
                        &more);
    if (rc < 0) {
        json_decref(items);
        return http_error(res, rc, NULL);
    }
    return http_json(res, 200, page(items, more, "id"));
}

static int user_get(http_req_t *req, http_res_t *res)
{
    user_t u;
    int rc = repo_user_get(req->db, req->arena, scope_of(req), http_param(req, "id"), &u);
    if (rc < 0) return fail(res, rc, NULL, "user");
    return http_json(res, 200, user_to_json(&u));
}

static int user_update(http_req_t *req, http_res_t *res)
{
    user_input_t in;
    int rc = read_user(req, res, false, &in);
    if (rc < 0) return rc;
    actor_t who = actor_of(req);
    user_t u;
    const char *why = NULL;
    rc = idn_user_update(req->db, req->arena, &who, scope_of(req), http_param(req, "id"), &in, &u,
                         &why);
    if (rc < 0) return fail(res, rc, why, "user");
    return http_json(res, 200, user_to_json(&u));
}

static int user_unlock(http_req_t *req, http_res_t *res)
{
    actor_t who = actor_of(req);
    int rc = idn_user_unlock(req->db, req->arena, &who, scope_of(req), http_param(req, "id"));
    if (rc < 0) return fail(res, rc, NULL, "user");
    return http_json(res, 200, json_pack("{s:b}", "unlocked", 1));
}

static int invite(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"email", "role", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    const char *raw, *role;
    if ((rc = json_field_str(res, b, "email", true, USER_EMAIL_MAX + 16, &raw)) < 0 ||
        (rc = json_field_str(res, b, "role", true, 32, &role)) < 0)
        return rc;
    char *e = arena_alloc(req->arena, strlen(raw) + 1);
    user_email_normalize(raw, e, strlen(raw) + 1);
    int bit = auth_role_parse(role, strlen(role));
    if (!bit || bit == ROLE_SERVICE)
        return http_error(res, ERR_VALIDATION, "role must be tenant_admin, manager or client");
    actor_t who = actor_of(req);
    const char *why = NULL;
    rc = idn_invite(req->db, &who, e, (unsigned)bit, &why);
    if (rc < 0) return fail(res, rc, why, "tenant");
    return http_json(res, 202, json_pack("{s:s, s:s}", "email", e, "role", role));
}

/* ---- API keys ---------------------------------------------------------------------- */

static int key_create(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"name", "role", "scopes", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    const char *name, *role;
    if ((rc = json_field_str(res, b, "name", true, APIKEY_NAME_MAX, &name)) < 0 ||
        (rc = json_field_str(res, b, "role", false, 32, &role)) < 0)
        return rc;
    json_t *scopes = json_object_get(b, "scopes");
    if (json_is_null(scopes)) scopes = NULL;
    actor_t who = actor_of(req);
    apikey_t k;
    char key[45];
    const char *why = NULL;
    rc = idn_apikey_create(req->db, req->arena, &who, name, role, scopes, &k, key, &why);
    if (rc < 0) return fail(res, rc, why, "tenant");
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "id", k.id, "tenant_id",
                          k.tenant_id, "name", k.name, "prefix", k.prefix, "role", k.role, "scopes",
                          k.scopes, "created_at", k.created_at, "key", key, "note",
                          "store the key now: it is shown only once");
    sodium_memzero(key, sizeof key);
    http_set_header(res, "Cache-Control", "no-store");
    return http_json(res, 201, j);
}

static int key_list(http_req_t *req, http_res_t *res)
{
    if (!req->auth.tenant_id[0]) return http_error(res, ERR_VALIDATION, "API keys need a tenant");
    json_t *items = json_array();
    int rc = repo_apikey_list(req->db, req->arena, req->auth.tenant_id, items);
    if (rc < 0) {
        json_decref(items);
        return http_error(res, rc, NULL);
    }
    return http_json(res, 200, json_pack("{s:o}", "items", items));
}

static int key_revoke(http_req_t *req, http_res_t *res)
{
    actor_t who = actor_of(req);
    int rc = idn_apikey_revoke(req->db, &who, http_param(req, "id"));
    if (rc < 0) return fail(res, rc, NULL, "API key");
    res->status = 204;
    return 0;
}

/* ---- audit ---------------------------------------------------------------------------- */

static int audit_list(http_req_t *req, http_res_t *res)
{
    audit_filter_t f = {.tenant_id = scope_of(req),
                        .event = http_query(req, "event"),
                        .actor_id = http_query(req, "actor_id"),
                        .subject_id = http_query(req, "subject_id"),
                        .before = http_query(req, "cursor")};
    if (!f.tenant_id) f.tenant_id = http_query(req, "tenant_id"); /* super_admin may filter */
    int rc;
    if ((rc = page_limit(req, res, &f.limit)) < 0) return rc;
    json_t *items = json_array();
    bool more = false;
    rc = repo_audit_list(req->db, req->arena, &f, items, &more);
    if (rc < 0) {
        json_decref(items);
        return http_error(res, rc, NULL);
    }
    return http_json(res, 200, page(items, more, "id"));
}

/* ---- two-factor ------------------------------------------------------------------------- */

static bool is_user(const http_req_t *req)
{
    return req->auth.tenant_id[0] && strncmp(req->auth.user_id, "key:", 4) != 0;
}

static int totp_enroll(http_req_t *req, http_res_t *res)
{
    if (!is_user(req)) return http_error(res, ERR_FORBIDDEN, "only users enrol two-factor");
    actor_t who = actor_of(req);
    const char *secret, *uri;
    int rc = idn_totp_enroll(req->db, req->arena, &who, &secret, &uri);
    if (rc == ERR_CONFLICT)
        return http_error(res, rc, "two-factor authentication is already enabled");
    if (rc < 0) return fail(res, rc, NULL, "user");
    http_set_header(res, "Cache-Control", "no-store");
    return http_json(res, 200, json_pack("{s:s, s:s}", "secret", secret, "otpauth_uri", uri));
}

static int code_of(http_req_t *req, http_res_t *res, const char **code)
{
    static const char *const allowed[] = {"code", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    return json_field_str(res, b, "code", true, 16, code);
}

static int totp_confirm(http_req_t *req, http_res_t *res)
{
    if (!is_user(req)) return http_error(res, ERR_FORBIDDEN, "only users enrol two-factor");
    const char *code, *why = NULL;
    int rc = code_of(req, res, &code);
    if (rc < 0) return rc;
    actor_t who = actor_of(req);
    json_t *codes = NULL;
    rc = idn_totp_confirm(req->db, req->arena, &who, code, &codes, &why);
    if (rc < 0) return fail(res, rc, why, "user");
    http_set_header(res, "Cache-Control", "no-store");
    return http_json(res, 200, json_pack("{s:b, s:o}", "enabled", 1, "recovery_codes", codes));
}

static int totp_disable(http_req_t *req, http_res_t *res)
{
    if (!is_user(req)) return http_error(res, ERR_FORBIDDEN, "only users enrol two-factor");
    const char *code, *why = NULL;
    int rc = code_of(req, res, &code);
    if (rc < 0) return rc;
    actor_t who = actor_of(req);
    rc = idn_totp_disable(req->db, req->arena, &who, code, &why);
    if (rc < 0) return fail(res, rc, why, "user");
    return http_json(res, 200, json_pack("{s:b}", "enabled", 0));
}

static int tenant_settings(http_req_t *req, http_res_t *res)
{
    static const char *const allowed[] = {"require_mfa", NULL};
    int rc;
    json_t *b = body_of(req, res, allowed, &rc);
    if (!b) return rc;
    json_t *v = json_object_get(b, "require_mfa");
    if (!json_is_boolean(v))
        return http_error(res, ERR_VALIDATION, "field 'require_mfa' must be a boolean");
    if (!req->auth.tenant_id[0]) return http_error(res, ERR_VALIDATION, "the token has no tenant");
    rc = idn_tenant_set_require_mfa(req->db, req->auth.tenant_id, json_is_true(v),
                                    req->auth.user_id, req->remote_addr);
    if (rc < 0) return fail(res, rc, NULL, "tenant");
    return http_json(res, 200, json_pack("{s:b}", "require_mfa", json_is_true(v)));
}

/* ---- JWKS, development mailbox --------------------------------------------------------- */

static int jwks(http_req_t *req, http_res_t *res)
{
    (void)req;
    http_set_header(res, "Cache-Control", "public, max-age=300");
    return http_json(res, 200, jwks_document());
}

static int mailbox(http_req_t *req, http_res_t *res)
{
    if (!config_is_dev(idn__cfg))
        return http_error(res, ERR_NOT_FOUND, "no route for %s", req->raw_path);
    int limit, rc;
    if ((rc = page_limit(req, res, &limit)) < 0) return rc;
    if ((rc = idn__platform(req->db, false)) < 0) return http_error(res, rc, NULL);
    json_t *items = json_array();
    rc = repo_mail_list(req->db, req->arena, http_query(req, "to"), limit, items);
    if (rc < 0) {
        json_decref(items);
        return http_error(res, rc, NULL);
    }
    return http_json(res, 200, json_pack("{s:o}", "items", items));
}

static const route_t routes[] = {
    {"GET", "/api/v1/auth/users", "users.view", "List users (own tenant unless super_admin)",
     user_list, RT_PLATFORM},
    {"POST", "/api/v1/auth/users", "users.create",
     "Create a user (without a password: a set-password token is mailed)", user_create,
     RT_PLATFORM},
    {"GET", "/api/v1/auth/users/{id}", "users.view", "Get a user (another tenant's is 404)",
     user_get, RT_PLATFORM},
    {"PATCH", "/api/v1/auth/users/{id}", "users.update",
     "Update a user's name, roles or active flag", user_update, RT_PLATFORM},
    {"POST", "/api/v1/auth/users/{id}/unlock", "users.update", "Clear a user's login lockout",
     user_unlock, RT_PLATFORM},
    {"POST", "/api/v1/auth/invitations", "users.invite", "Invite someone to the tenant by e-mail",
     invite, 0},
    {"POST", "/api/v1/auth/api-keys", "tenant.apikeys", "Create an API key (the key is shown once)",
     key_create, 0},
    {"GET", "/api/v1/auth/api-keys", "tenant.apikeys", "List the tenant's API keys", key_list, 0},
    {"DELETE", "/api/v1/auth/api-keys/{id}", "tenant.apikeys", "Revoke an API key", key_revoke, 0},
    {"GET", "/api/v1/auth/audit", "tenant.audit",
     "Security audit log (own tenant; every tenant for super_admin)", audit_list, RT_PLATFORM},
    {"POST", "/api/v1/auth/mfa/totp/enroll", NULL,
     "Start TOTP enrolment: a secret and its otpauth:// URI", totp_enroll, 0},
    {"POST", "/api/v1/auth/mfa/totp/confirm", NULL,
     "Enable TOTP with a current code; returns recovery codes", totp_confirm, 0},
    {"POST", "/api/v1/auth/mfa/totp/disable", NULL, "Disable TOTP with a current code",
     totp_disable, 0},
    {"PUT", "/api/v1/auth/tenant/settings", "tenant.settings",
     "Set the tenant's security settings (require_mfa)", tenant_settings, 0},
    {"GET", "/.well-known/jwks.json", NULL, "Public keys for verifying access tokens (JWKS)", jwks,
     RT_PUBLIC | RT_INLINE},
    {"GET", "/api/v1/auth/dev/mailbox", NULL,
     "Development only: mail queued by the server (404 outside development)", mailbox, RT_PUBLIC},
};

void idn__routes_admin(router_t *r)
{
    router_add(r, routes, sizeof routes / sizeof routes[0]);
}
