/* auth.h — bearer-token verification (JWT, HS256 only) and the role and
 * permission map.
 *
 * The kernel verifies a bearer token on every non-public route; the tenant
 * of a request comes only from a verified token, never from a client header.
 * Tokens are compact JWS (RFC 7515) signed with HMAC-SHA256 under one shared
 * secret. The algorithm is pinned: a token whose header names any other
 * algorithm ("none", HS384, RS256, ...) is refused before anything else is
 * looked at, which closes the classic algorithm-confusion attacks.
 *
 * Every verification failure returns ERR_UNAUTHORIZED and sets *why to a
 * short static reason ("expired", "bad signature", ...) meant for the server
 * log; the client only ever sees a plain 401. Verification is pure (no I/O,
 * no global state), thread-safe, and takes "now" as a parameter so tests
 * control time.
 *
 * Permissions are dotted names ("leads.view"). A role grants patterns: "*"
 * matches every permission, "x.*" matches any permission starting "x." (at
 * any depth), anything else matches exactly. The built-in map follows the
 * requirements; contexts add grants at startup with auth_grant(). */
#ifndef BZ_AUTH_H
#define BZ_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest token accepted (bytes of the compact form). */
#define AUTH_MAX_TOKEN_LEN 8192
/* Shortest HS256 secret accepted: RFC 7518 §3.2 requires a key at least as
 * long as the hash output (256 bits). */
#define AUTH_MIN_SECRET_LEN 32
/* Largest clock-skew allowance honoured; larger configured values are capped. */
#define AUTH_MAX_LEEWAY_S 300
/* Room for extension grants added by auth_grant(). */
#define AUTH_MAX_GRANTS 128
/* Longest permission pattern auth_grant() stores (bytes, without NUL). */
#define AUTH_MAX_PATTERN_LEN 63

enum auth_role {
    ROLE_SUPER_ADMIN = 1u << 0,
    ROLE_TENANT_ADMIN = 1u << 1,
    ROLE_MANAGER = 1u << 2,
    ROLE_CLIENT = 1u << 3,
    ROLE_SERVICE = 1u << 4, /* platform service token */
};
/* Every defined role bit. */
#define AUTH_ROLES_ALL 0x1Fu

/* Verification settings. All pointers are borrowed and must outlive every
 * call that uses the config. */
typedef struct auth_config {
    const unsigned char *secret; /* HS256 key, at least AUTH_MIN_SECRET_LEN bytes */
    size_t secret_len;
    const char *issuer;   /* when non-NULL and non-empty, "iss" must equal it */
    const char *audience; /* when non-NULL and non-empty, "aud" (string or array) must contain
                             it; when unset, "aud" is not checked */
    int leeway_s;         /* clock skew allowed for exp/nbf; <0 is 0, capped at AUTH_MAX_LEEWAY_S */
} auth_config_t;

/* The verified identity of a request. Strings are NUL-terminated; empty
 * when the claim was absent (tenant_id for super_admin/service, jti). */
typedef struct auth_ctx {
    char tenant_id[64], user_id[64], jti[64];
    unsigned roles;   /* bitmask of enum auth_role, never 0 after a successful verify */
    int64_t iat, exp; /* iat is 0 when the token had none */
} auth_ctx_t;

/* auth_verify: verifies token[0..len) at unix time now (seconds) and fills
 * *out with its claims. Returns 0 on success; ERR_UNAUTHORIZED for any bad
 * token; ERR_CONFIG when cfg->secret is shorter than AUTH_MIN_SECRET_LEN.
 * On failure *out is zeroed and, when why is non-NULL, *why is set to a
 * static reason for the log (never derived from the token's bytes); on
 * success *why is set to NULL.
 *
 * Accepted header: a JSON object with "alg":"HS256", an optional "typ" equal
 * (case-insensitively) to "JWT", other parameters ignored — except "crit",
 * which is refused since we implement no extensions (RFC 7515 §4.1.11).
 * The signature is checked (timing-safe) before the payload is parsed.
 * Claims: "sub" (string, required), "tenant_id" (string, required unless the
 * roles include super_admin or service; null counts as absent), "roles"
 * (array of strings, unknown names ignored, at least one known), "exp"
 * (integer, required; expired when now >= exp + leeway), "nbf" (integer,
 * optional; refused while now + leeway < nbf), "iat" (integer, optional),
 * "jti" (string, optional), "iss"/"aud" when configured. sub, tenant_id and
 * jti must be 1..63 bytes without control characters. Duplicate keys in
 * header or payload are refused. */
int auth_verify(const auth_config_t *cfg, const char *token, size_t len, int64_t now,
                auth_ctx_t *out, const char **why);

/* auth_verify_bearer: parses an Authorization header value authz[0..len) of
 * the form "Bearer <token>" (scheme case-insensitive, one or more spaces,
 * trailing spaces/tabs ignored) and verifies the token as auth_verify does.
 * A missing value (authz NULL or len 0) or another scheme is
 * ERR_UNAUTHORIZED. */
int auth_verify_bearer(const auth_config_t *cfg, const char *authz, size_t len, int64_t now,
                       auth_ctx_t *out, const char **why);

/* auth_sign: mints an HS256 token for claims: sub = user_id, tenant_id (when
 * non-empty), roles (names of every bit set), iat, exp = iat + ttl_s, jti
 * (when non-empty), and iss/aud from cfg when configured. On success *out_token
 * is a NUL-terminated heap string owned by the caller (free()). Returns
 * ERR_CONFIG for a short secret; ERR_VALIDATION when the claims could not
 * verify (empty user_id, no known role, tenant_id missing for a tenant role,
 * a string field not NUL-terminated within its array or with control
 * characters, ttl_s <= 0, or a token longer than AUTH_MAX_TOKEN_LEN). */
int auth_sign(const auth_config_t *cfg, const auth_ctx_t *claims, int64_t iat, int64_t ttl_s,
              char **out_token);

/* auth_role_parse: the role bit named by name[0..n) ("super_admin",
 * "tenant_admin", "manager", "client", "service"; exact, case-sensitive),
 * or 0 when the name is unknown. */
int auth_role_parse(const char *name, size_t n);

/* auth_role_name: the name of a single role bit (static storage), or NULL
 * when role_bit is not exactly one known role. */
const char *auth_role_name(unsigned role_bit);

/* auth_permits: true when any role in the roles bitmask is granted a pattern
 * matching permission. A NULL or empty permission means the route needs
 * authentication only, and is always permitted. Thread-safe once startup
 * grants are done. */
bool auth_permits(unsigned roles, const char *permission);

/* auth_grant: extends the map so every role in the role_bit mask is granted
 * pattern (copied). Call at startup, before any thread calls auth_permits.
 * A programming error — no known role bit, an empty or over-long pattern, or
 * more than AUTH_MAX_GRANTS grants — aborts with a log line. */
void auth_grant(unsigned role_bit, const char *pattern);

#endif
