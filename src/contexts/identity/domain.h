/* domain.h — identity's entities and their invariants (no I/O): tenants,
 * users and roles, refresh-token families, API-key scopes. */
#ifndef BZ_IDENTITY_DOMAIN_H
#define BZ_IDENTITY_DOMAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"

#define TENANT_NAME_MAX 200
#define TENANT_SLUG_MAX 63
#define TENANT_DOMAINS_MAX 20
#define HOSTNAME_MAX 253

typedef struct tenant {
    const char *id, *name, *slug, *status, *plan, *created_at, *updated_at;
    json_t *domains; /* array of host names (borrowed) */
} tenant_t;

/* Each returns NULL when valid, else a static message naming the problem. */
const char *tenant_slug_invalid(const char *slug);
const char *tenant_plan_invalid(const char *plan);
const char *tenant_status_invalid(const char *status);
/* tenant_domains_invalid: domains must be an array of distinct lower-case host names. */
const char *tenant_domains_invalid(const json_t *domains);
/* tenant_to_json: the API representation; caller owns the result. */
json_t *tenant_to_json(const tenant_t *t);

/* ---- users ---------------------------------------------------------------- */

#define USER_EMAIL_MAX 254
#define USER_NAME_MAX 200
/* Roles a tenant user may hold (super_admin only by operators). */
#define USER_ROLES_TENANT (ROLE_TENANT_ADMIN | ROLE_MANAGER | ROLE_CLIENT)

typedef struct user {
    const char *tenant_id, *id, *email, *name, *created_at, *updated_at, *last_login_at;
    unsigned roles; /* enum auth_role bits */
    bool active, verified, totp_enabled;
} user_t;

/* user_email_invalid: NULL when email is an acceptable address: 3..254
 * bytes, already lower case (see user_email_normalize), one '@' with a
 * non-empty local part of at most 64 bytes and a domain containing a dot,
 * no spaces or control characters. */
const char *user_email_invalid(const char *email);
/* user_email_normalize: email with ASCII letters lowered and surrounding
 * blanks removed, copied into out (cap bytes); false when it does not fit. */
bool user_email_normalize(const char *email, char *out, size_t cap);
/* user_roles_parse: the role bits named by the JSON array roles (strings
 * "super_admin", "tenant_admin", "manager", "client"); at least one, no
 * unknown names, no "service". */
const char *user_roles_parse(const json_t *roles, unsigned *out);
/* user_roles_json: the role names of bits as a new JSON array. */
json_t *user_roles_json(unsigned bits);
/* user_roles_from_text: parses the stored JSON text of roles (unknown names
 * ignored); 0 for malformed text. */
unsigned user_roles_from_text(const char *text);
/* roles_may_assign: true when a user holding actor roles may give someone
 * the roles target: super_admin anything; tenant_admin the tenant roles;
 * nobody else anything. */
bool roles_may_assign(unsigned actor, unsigned target);
/* user_to_json: the API representation (never secrets); caller owns it. */
json_t *user_to_json(const user_t *u);

/* ---- refresh-token families ------------------------------------------------ */

/* The stored state of one presented refresh token. */
typedef struct refresh_state {
    int64_t expires_at;
    bool used;    /* rotated already: presenting it again is reuse */
    bool revoked; /* its family was revoked (logout, reuse, password reset) */
} refresh_state_t;

enum refresh_verdict {
    REFRESH_OK = 0,  /* rotate: mark used, issue the next token of the family */
    REFRESH_REUSED,  /* a rotated token came back: revoke the whole family */
    REFRESH_REVOKED, /* refused, nothing more to do */
    REFRESH_EXPIRED, /* refused, nothing more to do */
};

/* refresh_decide: what to do with a presented refresh token at time now.
 * Revocation wins over reuse (the family is already dead), reuse over
 * expiry (a stolen token replayed late still signals theft). */
enum refresh_verdict refresh_decide(const refresh_state_t *s, int64_t now);

/* ---- API keys ---------------------------------------------------------------- */

#define APIKEY_NAME_MAX 100
#define APIKEY_SCOPES_MAX 32
/* scopes_invalid: NULL when scopes is an array of 1..32 distinct permission
 * patterns ("*", "leads.*", "leads.view": [a-z0-9_.*], at most 63 bytes). */
const char *scopes_invalid(const json_t *scopes);
/* scopes_permit: true when a pattern of scopes (a JSON array, as validated
 * above) matches permission; a NULL/empty permission is always permitted. */
bool scopes_permit(const json_t *scopes, const char *permission);

#endif
