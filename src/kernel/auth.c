/* auth.c — JWT (HS256, ES256) verification and signing, the role/permission
 * map.
 *
 * Verification order, cheapest and most hostile-input-proof first:
 *   1. length limit and exactly three dot-separated segments;
 *   2. header: strict base64url, a JSON object, "alg" exactly "HS256" — or
 *      "ES256" with a "kid" naming a configured EC key — the only place we
 *      trust nothing yet and decide the algorithm ourselves;
 *   3. signature: HMAC-SHA256 over "header.payload" with the configured
 *      secret, compared in constant time (or ECDSA P-256 verification under
 *      the kid's key, the 64-byte R||S form of RFC 7518 §3.4); only then is
 *      the payload parsed, so an attacker without the key never reaches the
 *      claims parser;
 *   4. claims: types, required fields, time window, issuer, audience.
 * Base64url is libsodium's decoder in the URL-safe no-padding variant, which
 * refuses padding, any character outside the alphabet and non-zero trailing
 * bits, so every token has exactly one accepted spelling. JSON is parsed by
 * jansson with duplicate keys refused: with duplicates, two parsers could
 * disagree on which "alg" or "sub" counts.
 *
 * HMAC uses OpenSSL's EVP_MAC, fetched once: HMAC() would fetch the
 * algorithm from the provider on every call, which measured ~1.8x slower,
 * and this runs on every authenticated request. */
#include "auth.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "str.h"

#define SIG_LEN 32     /* HMAC-SHA256 output */
#define SIG_B64_LEN 43 /* base64url of 32 bytes without padding */
#define ES_SIG_LEN 64     /* ES256: R || S, 32 bytes each */
#define ES_SIG_B64_LEN 86 /* base64url of 64 bytes without padding */
/* Decoded header/payload never exceed 3/4 of the token length. */
#define DECODED_MAX (AUTH_MAX_TOKEN_LEN / 4 * 3 + 3)
#define CLAIM_MAX 63 /* bytes of sub, tenant_id, jti (auth_ctx_t arrays hold 64) */

/* ---- roles ---------------------------------------------------------------- */

static const struct role_name {
    unsigned bit;
    const char *name;
} role_names[] = {
    {ROLE_SUPER_ADMIN, "super_admin"}, {ROLE_TENANT_ADMIN, "tenant_admin"},
    {ROLE_MANAGER, "manager"},         {ROLE_CLIENT, "client"},
    {ROLE_SERVICE, "service"},
};
#define N_ROLES (sizeof role_names / sizeof role_names[0])

/* Roles that act across tenants and so need no tenant_id claim. */
#define ROLES_PLATFORM (ROLE_SUPER_ADMIN | ROLE_SERVICE)

int auth_role_parse(const char *name, size_t n)
{
    for (size_t i = 0; i < N_ROLES; i++)
        if (str_eq((str_t){name, n}, str_of(role_names[i].name))) return (int)role_names[i].bit;
    return 0;
}

const char *auth_role_name(unsigned role_bit)
{
    for (size_t i = 0; i < N_ROLES; i++)
        if (role_names[i].bit == role_bit) return role_names[i].name;
    return NULL;
}

/* ---- permission map ------------------------------------------------------- */

static const struct builtin_grant {
    unsigned roles;
    const char *pattern;
} builtin_grants[] = {
    {ROLE_SUPER_ADMIN | ROLE_SERVICE, "*"},
    {ROLE_TENANT_ADMIN, "tenant.*"},
    {ROLE_TENANT_ADMIN, "users.*"},
    {ROLE_MANAGER, "campaigns.*"},
    {ROLE_MANAGER, "leads.*"},
    {ROLE_CLIENT, "campaigns.view"},
    {ROLE_CLIENT, "leads.view"},
};

/* Filled by auth_grant() at startup only, then read-only: no lock needed. */
static struct ext_grant {
    unsigned roles;
    char pattern[AUTH_MAX_PATTERN_LEN + 1];
} ext_grants[AUTH_MAX_GRANTS];
static size_t ext_count;

static bool pattern_matches(const char *pattern, const char *perm)
{
    if (strcmp(pattern, "*") == 0) return true;
    size_t pn = strlen(pattern);
    if (pn >= 2 && pattern[pn - 2] == '.' && pattern[pn - 1] == '*') {
        /* "x.*" matches "x.<something>": the dot is part of the prefix, so
         * "leadsx.view" does not match "leads.*", nor does "leads." alone. */
        size_t prefix = pn - 1;
        return strncmp(pattern, perm, prefix) == 0 && perm[prefix] != '\0';
    }
    return strcmp(pattern, perm) == 0;
}

bool auth_permits(unsigned roles, const char *permission)
{
    if (permission == NULL || permission[0] == '\0') return true;
    for (size_t i = 0; i < sizeof builtin_grants / sizeof builtin_grants[0]; i++)
        if ((roles & builtin_grants[i].roles) &&
            pattern_matches(builtin_grants[i].pattern, permission))
            return true;
    for (size_t i = 0; i < ext_count; i++)
        if ((roles & ext_grants[i].roles) && pattern_matches(ext_grants[i].pattern, permission))
            return true;
    return false;
}

void auth_grant(unsigned role_bit, const char *pattern)
{
    size_t n = pattern ? strlen(pattern) : 0;
    if ((role_bit & AUTH_ROLES_ALL) == 0 || n == 0 || n > AUTH_MAX_PATTERN_LEN ||
        ext_count == AUTH_MAX_GRANTS) {
        log_error("auth_grant: invalid grant or table full (roles=%u, pattern=%s)", role_bit,
                  pattern ? pattern : "(null)");
        abort();
    }
    ext_grants[ext_count].roles = role_bit & AUTH_ROLES_ALL;
    memcpy(ext_grants[ext_count].pattern, pattern, n + 1);
    ext_count++;
}

/* ---- HMAC-SHA256 ---------------------------------------------------------- */

/* hs256: mac = HMAC-SHA256(key, data). libsodium's HMAC works on a stack
 * state: no allocation and no provider lookup per token (OpenSSL 3's
 * EVP_MAC_CTX_new + init cost more than the hashing itself, and this runs
 * for every authenticated request, gateway requests included). */
static void hs256(const auth_config_t *cfg, const void *data, size_t n, unsigned char mac[SIG_LEN])
{
    /* The keyed state (the key's inner and outer pads, hashed) is the same
     * for every token: computed once per thread and key, then copied. */
    static _Thread_local unsigned char key[128];
    static _Thread_local size_t key_len;
    static _Thread_local crypto_auth_hmacsha256_state keyed;
    crypto_auth_hmacsha256_state st;
    if (cfg->secret_len <= sizeof key) {
        if (key_len != cfg->secret_len || sodium_memcmp(key, cfg->secret, key_len) != 0) {
            crypto_auth_hmacsha256_init(&keyed, cfg->secret, cfg->secret_len);
            memcpy(key, cfg->secret, cfg->secret_len);
            key_len = cfg->secret_len;
        }
        st = keyed;
    } else {
        crypto_auth_hmacsha256_init(&st, cfg->secret, cfg->secret_len);
    }
    crypto_auth_hmacsha256_update(&st, data, n);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

/* ---- ES256 keys ----------------------------------------------------------- */

struct auth_es256_key {
    EVP_PKEY *pkey;
    bool can_sign;
    char kid[48]; /* RFC 7638 thumbprint: base64url of 32 bytes = 43 chars */
    char x[48], y[48];
};

static void b64url_into(const unsigned char *data, size_t n, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, data, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int auth_es256_key_load(const char *pem, size_t len, auth_es256_key_t **out)
{
    *out = NULL;
    if (!pem || len == 0 || len > INT32_MAX) return ERR_CONFIG;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) return ERR_CONFIG;
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    bool priv = pk != NULL;
    if (!pk) {
        BIO_free(bio);
        bio = BIO_new_mem_buf(pem, (int)len);
        pk = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    }
    BIO_free(bio);
    ERR_clear_error();
    if (!pk) return ERR_CONFIG;
    char group[64] = {0};
    BIGNUM *bx = NULL, *by = NULL;
    unsigned char xb[32], yb[32];
    bool ok = EVP_PKEY_is_a(pk, "EC") &&
              EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                             NULL) &&
              strcmp(group, "prime256v1") == 0 &&
              EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &bx) &&
              EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &by) &&
              BN_bn2binpad(bx, xb, 32) == 32 && BN_bn2binpad(by, yb, 32) == 32;
    BN_free(bx);
    BN_free(by);
    ERR_clear_error();
    if (!ok) {
        EVP_PKEY_free(pk);
        return ERR_CONFIG;
    }
    auth_es256_key_t *k = xcalloc(1, sizeof *k);
    k->pkey = pk;
    k->can_sign = priv;
    b64url_into(xb, 32, k->x, sizeof k->x);
    b64url_into(yb, 32, k->y, sizeof k->y);
    /* RFC 7638: SHA-256 of the required members in lexicographic order. */
    char canon[160];
    int n = snprintf(canon, sizeof canon, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                     k->x, k->y);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)canon, (unsigned long long)n);
    b64url_into(h, sizeof h, k->kid, sizeof k->kid);
    *out = k;
    return 0;
}

void auth_es256_key_free(auth_es256_key_t *k)
{
    if (!k) return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

const char *auth_es256_kid(const auth_es256_key_t *k) { return k->kid; }
bool auth_es256_can_sign(const auth_es256_key_t *k) { return k->can_sign; }

int auth_es256_jwk(const auth_es256_key_t *k, char *out, size_t cap)
{
    int n = snprintf(out, cap,
                     "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"%s\","
                     "\"alg\":\"ES256\",\"use\":\"sig\"}",
                     k->x, k->y, k->kid);
    return n < 0 || (size_t)n >= cap ? ERR_VALIDATION : 0;
}

/* es256_verify: the raw R||S signature sig over data under k. */
static bool es256_verify(const auth_es256_key_t *k, const void *data, size_t n,
                         const unsigned char sig[ES_SIG_LEN])
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return false;
    }
    unsigned char *der = NULL;
    int dl = i2d_ECDSA_SIG(es, &der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = dl > 0 && ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
              EVP_DigestVerify(ctx, der, (size_t)dl, data, n) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    ERR_clear_error();
    return ok;
}

/* es256_sign: sig = R||S of an ECDSA P-256/SHA-256 signature over data. */
static int es256_sign(const auth_es256_key_t *k, const void *data, size_t n,
                      unsigned char sig[ES_SIG_LEN])
{
    unsigned char der[96];
    size_t dl = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
              EVP_DigestSign(ctx, der, &dl, data, n) == 1;
    EVP_MD_CTX_free(ctx);
    ECDSA_SIG *es = NULL;
    if (ok) {
        const unsigned char *p = der;
        es = d2i_ECDSA_SIG(NULL, &p, (long)dl);
        const BIGNUM *r = NULL, *s = NULL;
        if (es) ECDSA_SIG_get0(es, &r, &s);
        ok = es && BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32;
    }
    ECDSA_SIG_free(es);
    ERR_clear_error();
    return ok ? 0 : ERR_INTERNAL;
}

static const auth_es256_key_t *es256_find(const auth_config_t *cfg, const char *kid)
{
    for (size_t i = 0; i < cfg->es256_nkeys; i++)
        if (cfg->es256_keys[i] && strcmp(cfg->es256_keys[i]->kid, kid) == 0) return cfg->es256_keys[i];
    return NULL;
}

/* ---- helpers -------------------------------------------------------------- */

static bool b64url_decode(const char *s, size_t n, unsigned char *dst, size_t cap, size_t *out)
{
    /* b64_end NULL: the whole input must be consumed, so any stray
     * character (padding, '+', '/', space) is an error. */
    return n > 0 && sodium_base642bin(dst, cap, s, n, NULL, out, NULL,
                                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0;
}

static void b64url_append(buf_t *b, const void *data, size_t n)
{
    size_t enc = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    buf_reserve(b, enc);
    sodium_bin2base64(b->p + b->n, enc, data, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    b->n += enc - 1; /* enc counts the NUL that bin2base64 wrote */
}

static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return true;
    return false;
}

static int leeway_of(const auth_config_t *cfg)
{
    if (cfg->leeway_s < 0) return 0;
    return cfg->leeway_s > AUTH_MAX_LEEWAY_S ? AUTH_MAX_LEEWAY_S : cfg->leeway_s;
}

static bool secret_ok(const auth_config_t *cfg)
{
    return cfg->secret != NULL && cfg->secret_len >= AUTH_MIN_SECRET_LEN;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static bool json_str_eq(const json_t *v, const char *s)
{
    return json_is_string(v) &&
           str_eq((str_t){json_string_value(v), json_string_length(v)}, str_of(s));
}

/* copy_claim: copies a string claim of 1..CLAIM_MAX bytes without control
 * characters into dst; false when v is anything else. */
static bool copy_claim(const json_t *v, char dst[CLAIM_MAX + 1])
{
    if (!json_is_string(v)) return false;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n > CLAIM_MAX || has_control(s, n)) return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* ---- verification --------------------------------------------------------- */

static int reject(auth_ctx_t *out, const char **why, const char *reason)
{
    memset(out, 0, sizeof *out);
    if (why) *why = reason;
    return ERR_UNAUTHORIZED;
}

enum jws_alg { ALG_HS256 = 1, ALG_ES256 = 2 };

/* check_header: NULL when hdr (decoded JSON text) is an acceptable header,
 * else the reason. *alg is the algorithm; kid receives the "kid" (empty
 * when absent), which ES256 requires. */
static const char *check_header(const unsigned char *hdr, size_t n, bool es256_on,
                                enum jws_alg *alg, char kid[AUTH_MAX_KID_LEN + 1])
{
    json_t *h = json_loadb((const char *)hdr, n, JSON_REJECT_DUPLICATES, NULL);
    const char *bad = NULL;
    kid[0] = '\0';
    if (!json_is_object(h)) {
        bad = "malformed header";
    } else if (json_str_eq(json_object_get(h, "alg"), "HS256")) {
        *alg = ALG_HS256;
    } else if (es256_on && json_str_eq(json_object_get(h, "alg"), "ES256")) {
        *alg = ALG_ES256;
    } else {
        bad = "algorithm not allowed";
    }
    if (!bad && json_object_get(h, "crit")) bad = "critical header extension not supported";
    if (!bad) {
        const json_t *typ = json_object_get(h, "typ");
        if (typ && !(json_is_string(typ) && strcasecmp(json_string_value(typ), "JWT") == 0 &&
                     json_string_length(typ) == 3))
            bad = "typ not JWT";
    }
    if (!bad && *alg == ALG_ES256) {
        const json_t *k = json_object_get(h, "kid");
        if (!json_is_string(k) || json_string_length(k) == 0 ||
            json_string_length(k) > AUTH_MAX_KID_LEN ||
            strlen(json_string_value(k)) != json_string_length(k))
            bad = "kid missing or invalid";
        else
            memcpy(kid, json_string_value(k), json_string_length(k) + 1);
    }
    json_decref(h);
    return bad;
}

/* check_aud: the configured audience appears in aud (string or array). */
static bool check_aud(const json_t *aud, const char *want)
{
    if (json_is_string(aud)) return json_str_eq(aud, want);
    if (!json_is_array(aud)) return false;
    size_t i;
    const json_t *v;
    json_array_foreach(aud, i, v)
    {
        if (json_str_eq(v, want)) return true;
    }
    return false;
}

/* check_claims: fills out from the payload object p, or returns the reason. */
static const char *check_claims(const auth_config_t *cfg, const json_t *p, int64_t now,
                                auth_ctx_t *out)
{
    int64_t leeway = leeway_of(cfg);

    const json_t *exp = json_object_get(p, "exp");
    if (!exp) return "exp missing";
    if (!json_is_integer(exp)) return "exp not an integer";
    out->exp = json_integer_value(exp);
    if (now >= add_sat(out->exp, leeway)) return "expired";

    const json_t *nbf = json_object_get(p, "nbf");
    if (nbf) {
        if (!json_is_integer(nbf)) return "nbf not an integer";
        if (add_sat(now, leeway) < json_integer_value(nbf)) return "not yet valid";
    }
    const json_t *iat = json_object_get(p, "iat");
    if (iat) {
        if (!json_is_integer(iat)) return "iat not an integer";
        out->iat = json_integer_value(iat);
    }

    if (cfg->issuer && cfg->issuer[0] && !json_str_eq(json_object_get(p, "iss"), cfg->issuer))
        return "wrong issuer";
    if (cfg->audience && cfg->audience[0] && !check_aud(json_object_get(p, "aud"), cfg->audience))
        return "wrong audience";

    const json_t *sub = json_object_get(p, "sub");
    if (!sub) return "sub missing";
    if (!copy_claim(sub, out->user_id)) return "sub invalid";

    const json_t *roles = json_object_get(p, "roles");
    if (!roles) return "roles missing";
    if (!json_is_array(roles)) return "roles not an array";
    size_t i;
    const json_t *r;
    json_array_foreach(roles, i, r)
    {
        if (!json_is_string(r)) return "roles invalid";
        out->roles |= (unsigned)auth_role_parse(json_string_value(r), json_string_length(r));
    }
    if (out->roles == 0) return "no known role";

    const json_t *tenant = json_object_get(p, "tenant_id");
    if (tenant && !json_is_null(tenant)) {
        if (!copy_claim(tenant, out->tenant_id)) return "tenant_id invalid";
    } else if (!(out->roles & ROLES_PLATFORM)) {
        return "tenant_id missing";
    }

    const json_t *jti = json_object_get(p, "jti");
    if (jti && !copy_claim(jti, out->jti)) return "jti invalid";
    return NULL;
}

static int verify_uncached(const auth_config_t *cfg, const char *token, size_t len, int64_t now,
                           auth_ctx_t *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (!secret_ok(cfg)) {
        if (why) *why = "server secret too short";
        return ERR_CONFIG;
    }
    if (token == NULL || len == 0) return reject(out, why, "empty token");
    if (len > AUTH_MAX_TOKEN_LEN) return reject(out, why, "token too long");

    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return reject(out, why, "malformed token");
    size_t hdr_len = (size_t)(dot1 - token);
    size_t pay_len = (size_t)(dot2 - dot1 - 1);
    size_t sig_len = len - (size_t)(dot2 + 1 - token);

    unsigned char dec[DECODED_MAX];
    size_t n = 0;
    if (!b64url_decode(token, hdr_len, dec, sizeof dec, &n))
        return reject(out, why, "header not base64url");
    enum jws_alg alg = 0;
    char kid[AUTH_MAX_KID_LEN + 1];
    const char *bad = check_header(dec, n, cfg->es256_nkeys > 0, &alg, kid);
    if (bad) return reject(out, why, bad);

    if (alg == ALG_ES256) {
        const auth_es256_key_t *k = es256_find(cfg, kid);
        if (!k) return reject(out, why, "unknown kid");
        unsigned char esig[ES_SIG_LEN];
        if (sig_len != ES_SIG_B64_LEN ||
            !b64url_decode(dot2 + 1, sig_len, esig, sizeof esig, &n) || n != ES_SIG_LEN ||
            !es256_verify(k, token, (size_t)(dot2 - token), esig))
            return reject(out, why, "bad signature");
    } else {
        unsigned char sig[SIG_LEN], mac[SIG_LEN];
        if (sig_len != SIG_B64_LEN || !b64url_decode(dot2 + 1, sig_len, sig, sizeof sig, &n) ||
            n != SIG_LEN)
            return reject(out, why, "bad signature");
        hs256(cfg, token, (size_t)(dot2 - token), mac);
        if (CRYPTO_memcmp(sig, mac, SIG_LEN) != 0) return reject(out, why, "bad signature");
    }

    if (!b64url_decode(dot1 + 1, pay_len, dec, sizeof dec, &n))
        return reject(out, why, "payload not base64url");
    json_t *payload = json_loadb((const char *)dec, n, JSON_REJECT_DUPLICATES, NULL);
    bad = json_is_object(payload) ? check_claims(cfg, payload, now, out) : "malformed payload";
    json_decref(payload);
    if (bad) return reject(out, why, bad);
    if (why) *why = NULL;
    return 0;
}

/* ---- a per-thread cache of verified tokens -------------------------------
 * Verification is a function of (settings, token, time) alone, and only
 * "exp" and "nbf" depend on the time (a token valid at one moment stays
 * valid until it expires). So the claims of recently verified tokens are kept per thread under
 * a BLAKE2b-256 hash of the settings and the token, and reused until they
 * expire: an API client sends the same bearer token request after request,
 * and parsing two JSON objects per request was most of the gateway's token
 * cost. A different token (or settings) cannot match an entry short of a
 * hash collision; failures are never cached. */
#define VCACHE_SLOTS 64

typedef struct vcache {
    unsigned char h[32];
    int64_t from, until; /* reused for from <= now < until (exp + leeway); 0 = empty */
    auth_ctx_t ctx;
} vcache_t;

static _Thread_local vcache_t vcache[VCACHE_SLOTS];

static void vcache_key(const auth_config_t *cfg, const char *token, size_t len,
                       unsigned char h[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, cfg->secret, cfg->secret_len);
    const char *strs[] = {cfg->issuer ? cfg->issuer : "", cfg->audience ? cfg->audience : ""};
    for (size_t i = 0; i < 2; i++) /* with their NULs, so "ab"+"c" differs from "a"+"bc" */
        crypto_generichash_update(&st, (const unsigned char *)strs[i], strlen(strs[i]) + 1);
    int leeway = leeway_of(cfg);
    crypto_generichash_update(&st, (const unsigned char *)&leeway, sizeof leeway);
    crypto_generichash_update(&st, (const unsigned char *)&cfg->es256_nkeys,
                              sizeof cfg->es256_nkeys);
    for (size_t i = 0; i < cfg->es256_nkeys; i++) /* keys are immutable: their identity */
        crypto_generichash_update(&st, (const unsigned char *)&cfg->es256_keys[i],
                                  sizeof cfg->es256_keys[i]);
    crypto_generichash_update(&st, (const unsigned char *)token, len);
    crypto_generichash_final(&st, h, 32);
}

int auth_verify(const auth_config_t *cfg, const char *token, size_t len, int64_t now,
                auth_ctx_t *out, const char **why)
{
    if (!secret_ok(cfg) || token == NULL || len == 0 || len > AUTH_MAX_TOKEN_LEN)
        return verify_uncached(cfg, token, len, now, out, why);
    unsigned char h[32];
    vcache_key(cfg, token, len, h);
    vcache_t *e = &vcache[(h[0] | (unsigned)h[1] << 8) % VCACHE_SLOTS];
    if (e->until > now && e->from <= now && sodium_memcmp(e->h, h, sizeof h) == 0) {
        *out = e->ctx;
        if (why) *why = NULL;
        return 0;
    }
    int rc = verify_uncached(cfg, token, len, now, out, why);
    if (rc == 0) {
        memcpy(e->h, h, sizeof h);
        e->from = now; /* earlier times may be before "nbf" */
        e->until = add_sat(out->exp, leeway_of(cfg));
        e->ctx = *out;
    }
    return rc;
}

int auth_verify_bearer(const auth_config_t *cfg, const char *authz, size_t len, int64_t now,
                       auth_ctx_t *out, const char **why)
{
    static const char scheme[] = "Bearer";
    const size_t sn = sizeof scheme - 1;
    if (authz == NULL || len == 0) return reject(out, why, "missing credentials");
    if (len <= sn || !str_ieq((str_t){authz, sn}, (str_t){scheme, sn}) || authz[sn] != ' ')
        return reject(out, why, "not a bearer token");
    size_t i = sn;
    while (i < len && authz[i] == ' ')
        i++;
    while (len > i && (authz[len - 1] == ' ' || authz[len - 1] == '\t'))
        len--;
    if (i == len) return reject(out, why, "missing token");
    return auth_verify(cfg, authz + i, len - i, now, out, why);
}

/* ---- signing -------------------------------------------------------------- */

/* claim_ok: s is a NUL-terminated string within its 64-byte array, without
 * control characters; empty allowed only when may_be_empty. */
static bool claim_ok(const char s[CLAIM_MAX + 1], bool may_be_empty)
{
    size_t n = strnlen(s, CLAIM_MAX + 1);
    if (n > CLAIM_MAX || (n == 0 && !may_be_empty)) return false;
    return !has_control(s, n);
}

int auth_sign(const auth_config_t *cfg, const auth_ctx_t *claims, int64_t iat, int64_t ttl_s,
              char **out_token)
{
    *out_token = NULL;
    if (!secret_ok(cfg)) return ERR_CONFIG;
    unsigned roles = claims->roles & AUTH_ROLES_ALL;
    int64_t exp;
    if (roles == 0 || ttl_s <= 0 || __builtin_add_overflow(iat, ttl_s, &exp) ||
        !claim_ok(claims->user_id, false) || !claim_ok(claims->jti, true) ||
        !claim_ok(claims->tenant_id, (roles & ROLES_PLATFORM) != 0))
        return ERR_VALIDATION;

    /* json_string() refuses invalid UTF-8; any refusal makes the whole
     * claim set invalid rather than silently dropping a claim. */
    json_t *p = json_object();
    json_t *role_arr = json_array();
    for (size_t i = 0; i < N_ROLES; i++)
        if (roles & role_names[i].bit)
            json_array_append_new(role_arr, json_string(role_names[i].name));
    bool ok = json_object_set_new(p, "roles", role_arr) == 0; /* first: always takes role_arr */
    ok = ok && json_object_set_new(p, "sub", json_string(claims->user_id)) == 0;
    if (claims->tenant_id[0])
        ok = ok && json_object_set_new(p, "tenant_id", json_string(claims->tenant_id)) == 0;
    ok = ok && json_object_set_new(p, "iat", json_integer(iat)) == 0;
    ok = ok && json_object_set_new(p, "exp", json_integer(exp)) == 0;
    if (claims->jti[0]) ok = ok && json_object_set_new(p, "jti", json_string(claims->jti)) == 0;
    if (cfg->issuer && cfg->issuer[0])
        ok = ok && json_object_set_new(p, "iss", json_string(cfg->issuer)) == 0;
    if (cfg->audience && cfg->audience[0])
        ok = ok && json_object_set_new(p, "aud", json_string(cfg->audience)) == 0;
    char *payload = ok ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!payload) return ERR_VALIDATION;

    const auth_es256_key_t *signer = cfg->es256_signer;
    if (signer && !signer->can_sign) {
        free(payload);
        return ERR_CONFIG;
    }
    char header[128];
    if (signer)
        snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                 signer->kid);
    else
        snprintf(header, sizeof header, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    buf_t b;
    buf_init(&b);
    b64url_append(&b, header, strlen(header));
    buf_append(&b, ".", 1);
    b64url_append(&b, payload, strlen(payload));
    free(payload);
    if (signer) {
        unsigned char esig[ES_SIG_LEN];
        if (es256_sign(signer, b.p, b.n, esig) < 0) {
            buf_cleanup(&b);
            return ERR_INTERNAL;
        }
        buf_append(&b, ".", 1);
        b64url_append(&b, esig, sizeof esig);
    } else {
        unsigned char mac[SIG_LEN];
        hs256(cfg, b.p, b.n, mac);
        buf_append(&b, ".", 1);
        b64url_append(&b, mac, sizeof mac);
    }
    if (b.n > AUTH_MAX_TOKEN_LEN) {
        buf_cleanup(&b);
        return ERR_VALIDATION;
    }
    *out_token = buf_release(&b, NULL);
    return 0;
}
