/* auth.h — bearer-token verification (JWT: HS256, and ES256 when keys are
 * configured) and the role and permission map.
 *
 * The kernel verifies a bearer token on every non-public route; the tenant
 * of a request comes only from a verified token, never from a client header.
 * Tokens are compact JWS (RFC 7515) signed with HMAC-SHA256 under one shared
 * secret. The algorithm is pinned: a token whose header names any other
 * algorithm ("none", HS384, RS256, ...) is refused before anything else is
 * looked at, which closes the classic algorithm-confusion attacks.
 *
 * ES256 (ECDSA P-256 with SHA-256, RFC 7518 §3.4) is accepted only when the
 * configuration lists ES256 keys, and then only under the key whose "kid"
 * the header names: each key is bound to exactly one algorithm (the shared
 * secret to HS256, each EC key to ES256), so an HS256 token "signed" with a
 * published EC public key never verifies, and an unknown or missing kid is
 * refused. With a signing key configured, auth_sign issues ES256 tokens
 * carrying its kid; the public keys are what /.well-known/jwks.json serves.
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

/* Longest "kid" header value accepted. */
#define AUTH_MAX_KID_LEN 64

/* An EC P-256 key for ES256 (opaque): a private key signs and verifies, a
 * public key only verifies. Immutable once loaded, so one key may be used
 * by every thread at once. */
typedef struct auth_es256_key auth_es256_key_t;

/* Verification settings. All pointers are borrowed and must outlive every
 * call that uses the config. */
typedef struct auth_config {
    const unsigned char *secret; /* HS256 key, at least AUTH_MIN_SECRET_LEN bytes */
    size_t secret_len;
    const char *issuer;   /* when non-NULL and non-empty, "iss" must equal it */
    const char *audience; /* when non-NULL and non-empty, "aud" (string or array) must contain
                             it; when unset, "aud" is not checked */
    int leeway_s;         /* clock skew allowed for exp/nbf; <0 is 0, capped at AUTH_MAX_LEEWAY_S */
    /* ES256 (optional): the keys "alg":"ES256" tokens may be verified with,
     * chosen by their kid; none (NULL/0) refuses every ES256 token. */
    const auth_es256_key_t *const *es256_keys;
    size_t es256_nkeys;
    /* When non-NULL (a private key), auth_sign issues ES256 tokens with it. */
    const auth_es256_key_t *es256_signer;
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
 * Accepted header: a JSON object with "alg":"HS256" (or "alg":"ES256" with a
 * "kid" naming one of cfg->es256_keys), an optional "typ" equal
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

/* auth_sign: mints a token (HS256, or ES256 with cfg->es256_signer's kid in
 * the header) for claims: sub = user_id, tenant_id (when
 * non-empty), roles (names of every bit set), iat, exp = iat + ttl_s, jti
 * (when non-empty), and iss/aud from cfg when configured. On success *out_token
 * is a NUL-terminated heap string owned by the caller (free()). Returns
 * ERR_CONFIG for a short secret; ERR_VALIDATION when the claims could not
 * verify (empty user_id, no known role, tenant_id missing for a tenant role,
 * a string field not NUL-terminated within its array or with control
 * characters, ttl_s <= 0, or a token longer than AUTH_MAX_TOKEN_LEN). */
int auth_sign(const auth_config_t *cfg, const auth_ctx_t *claims, int64_t iat, int64_t ttl_s,
              char **out_token);

/* auth_es256_key_load: parses a PEM EC P-256 key — a private key ("BEGIN
 * PRIVATE KEY" / "BEGIN EC PRIVATE KEY") or a public key ("BEGIN PUBLIC
 * KEY") — from pem[0..len). Its kid is the RFC 7638 JWK thumbprint
 * (base64url SHA-256), so every process derives the same kid from the same
 * key. Returns 0 and a key the caller frees with auth_es256_key_free, or
 * ERR_CONFIG (not PEM, not EC, another curve). */
int auth_es256_key_load(const char *pem, size_t len, auth_es256_key_t **out);
void auth_es256_key_free(auth_es256_key_t *k);
/* auth_es256_kid: the key's id (static for the key's lifetime). */
const char *auth_es256_kid(const auth_es256_key_t *k);
/* auth_es256_can_sign: true for a private key. */
bool auth_es256_can_sign(const auth_es256_key_t *k);
/* auth_es256_jwk: the public key as a JWK JSON object text ({"kty":"EC",
 * "crv":"P-256","x","y","kid","alg":"ES256","use":"sig"}) into out; returns
 * 0, or ERR_VALIDATION when cap is too small. Never contains the private
 * part. */
int auth_es256_jwk(const auth_es256_key_t *k, char *out, size_t cap);

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
