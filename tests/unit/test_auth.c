/* test_auth.c — JWT HS256 and ES256 verification and signing, bearer
 * parsing, roles and the permission map.
 *
 * Hostile tokens are minted by hand here (mint_raw) so the tests do not
 * depend on auth_sign to produce the bad cases: other algorithms carry real
 * signatures made with the right key, so a rejection proves the algorithm
 * pin and not just a signature mismatch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "auth.h"
#include "err.h"

#define NOW INT64_C(1700000000)
#define B64V sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define HS256_HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static const unsigned char SECRET[] = "0123456789abcdef0123456789abcdef"; /* 32 bytes + NUL */
static const unsigned char OTHER[] = "fedcba9876543210fedcba9876543210";

static auth_config_t cfg_default(void)
{
    return (auth_config_t){.secret = SECRET, .secret_len = 32};
}

static char *b64(const void *d, size_t n)
{
    size_t m = sodium_base64_ENCODED_LEN(n, B64V);
    char *o = xmalloc(m);
    sodium_bin2base64(o, m, d, n, B64V);
    return o;
}

/* mint_raw: header.payload signed with HMAC(md, key); md NULL gives an empty
 * signature segment. Caller frees. */
static char *mint_raw(const char *header, const char *payload, const EVP_MD *md,
                      const unsigned char *key)
{
    char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
    char *input = xasprintf("%s.%s", h, p);
    char *s;
    if (md) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned ml = 0;
        assert_non_null(HMAC(md, key, 32, (const unsigned char *)input, strlen(input), mac, &ml));
        s = b64(mac, ml);
    } else {
        s = xstrdup("");
    }
    char *tok = xasprintf("%s.%s", input, s);
    free(h);
    free(p);
    free(input);
    free(s);
    return tok;
}

static char *mint(const char *payload)
{
    return mint_raw(HS256_HDR, payload, EVP_sha256(), SECRET);
}

/* A payload valid at NOW for a manager of tenant t1. */
#define GOOD_PAYLOAD                                                                               \
    "{\"sub\":\"u1\",\"tenant_id\":\"t1\",\"roles\":[\"manager\"],\"exp\":1700003600}"

/* check: verifies tok with cfg at now; returns the result and the reason. */
static int check(const auth_config_t *cfg, const char *tok, int64_t now, auth_ctx_t *ctx,
                 const char **why)
{
    *why = "unset";
    return auth_verify(cfg, tok, strlen(tok), now, ctx, why);
}

/* expect_reject: tok is refused with exactly reason and *ctx left zeroed. */
static void expect_reject(const auth_config_t *cfg, const char *tok, int64_t now,
                          const char *reason)
{
    auth_ctx_t ctx;
    memset(&ctx, 0xAA, sizeof ctx);
    const char *why;
    int rc = check(cfg, tok, now, &ctx, &why);
    if (rc != ERR_UNAUTHORIZED || !why || strcmp(why, reason) != 0)
        fail_msg("token %s: rc %d why %s, want %s", tok, rc, why ? why : "(null)", reason);
    auth_ctx_t zero;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&ctx, &zero, sizeof ctx);
}

static void expect_payload_reject(const char *payload, const char *reason)
{
    auth_config_t cfg = cfg_default();
    char *tok = mint(payload);
    expect_reject(&cfg, tok, NOW, reason);
    free(tok);
}

static void expect_payload_ok(const auth_config_t *cfg, const char *payload, auth_ctx_t *ctx)
{
    char *tok = mint(payload);
    const char *why;
    int rc = check(cfg, tok, NOW, ctx, &why);
    if (rc != 0) fail_msg("payload %s rejected: %s", payload, why);
    assert_null(why);
    free(tok);
}

/* ---- sign / verify -------------------------------------------------------- */

static void test_round_trip(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    auth_ctx_t claims = {.tenant_id = "t-42",
                         .user_id = "user-7",
                         .jti = "j-1",
                         .roles = ROLE_MANAGER | ROLE_CLIENT};
    char *tok = NULL;
    assert_int_equal(auth_sign(&cfg, &claims, NOW, 3600, &tok), 0);
    assert_non_null(tok);
    assert_int_equal(strncmp(tok, "eyJ", 3), 0); /* base64url of '{"' */

    auth_ctx_t ctx;
    const char *why;
    assert_int_equal(check(&cfg, tok, NOW, &ctx, &why), 0);
    assert_string_equal(ctx.tenant_id, "t-42");
    assert_string_equal(ctx.user_id, "user-7");
    assert_string_equal(ctx.jti, "j-1");
    assert_int_equal(ctx.roles, ROLE_MANAGER | ROLE_CLIENT);
    assert_int_equal(ctx.iat, NOW);
    assert_int_equal(ctx.exp, NOW + 3600);
    assert_int_equal(check(&cfg, tok, NOW + 3599, &ctx, &why), 0);
    expect_reject(&cfg, tok, NOW + 3600, "expired");
    free(tok);
}

static void test_sign_platform_roles_need_no_tenant(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    unsigned platform[] = {ROLE_SUPER_ADMIN, ROLE_SERVICE};
    for (size_t i = 0; i < 2; i++) {
        auth_ctx_t claims = {.user_id = "root", .roles = platform[i]};
        char *tok;
        assert_int_equal(auth_sign(&cfg, &claims, NOW, 60, &tok), 0);
        auth_ctx_t ctx;
        const char *why;
        assert_int_equal(check(&cfg, tok, NOW, &ctx, &why), 0);
        assert_string_equal(ctx.tenant_id, "");
        assert_string_equal(ctx.jti, "");
        assert_int_equal(ctx.roles, platform[i]);
        free(tok);
    }
}

static void test_sign_rejects_bad_claims(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    char *tok = (char *)"sentinel";
    auth_ctx_t c = {.tenant_id = "t1", .user_id = "u1", .roles = ROLE_CLIENT};
    assert_int_equal(auth_sign(&cfg, &c, NOW, 0, &tok), ERR_VALIDATION);
    assert_null(tok);
    assert_int_equal(auth_sign(&cfg, &c, INT64_MAX - 5, 60, &tok), ERR_VALIDATION);

    auth_ctx_t no_user = c;
    no_user.user_id[0] = '\0';
    assert_int_equal(auth_sign(&cfg, &no_user, NOW, 60, &tok), ERR_VALIDATION);
    auth_ctx_t no_role = c;
    no_role.roles = 1u << 20; /* not a known role */
    assert_int_equal(auth_sign(&cfg, &no_role, NOW, 60, &tok), ERR_VALIDATION);
    auth_ctx_t no_tenant = c;
    no_tenant.tenant_id[0] = '\0';
    assert_int_equal(auth_sign(&cfg, &no_tenant, NOW, 60, &tok), ERR_VALIDATION);
    auth_ctx_t unterminated = c;
    memset(unterminated.user_id, 'a', sizeof unterminated.user_id);
    assert_int_equal(auth_sign(&cfg, &unterminated, NOW, 60, &tok), ERR_VALIDATION);
    auth_ctx_t ctl = c;
    strcpy(ctl.tenant_id, "t\n1");
    assert_int_equal(auth_sign(&cfg, &ctl, NOW, 60, &tok), ERR_VALIDATION);
    auth_ctx_t bad_utf8 = c;
    strcpy(bad_utf8.user_id, "u\xff");
    assert_int_equal(auth_sign(&cfg, &bad_utf8, NOW, 60, &tok), ERR_VALIDATION);
    assert_null(tok);
}

static void test_short_secret_is_config_error(void **state)
{
    (void)state;
    auth_config_t cfg = {.secret = SECRET, .secret_len = 31};
    auth_ctx_t c = {.tenant_id = "t1", .user_id = "u1", .roles = ROLE_CLIENT};
    char *tok;
    assert_int_equal(auth_sign(&cfg, &c, NOW, 60, &tok), ERR_CONFIG);
    char *good = mint(GOOD_PAYLOAD);
    auth_ctx_t ctx;
    const char *why;
    assert_int_equal(check(&cfg, good, NOW, &ctx, &why), ERR_CONFIG);
    cfg.secret = NULL;
    cfg.secret_len = 0;
    assert_int_equal(check(&cfg, good, NOW, &ctx, &why), ERR_CONFIG);
    free(good);
}

static void test_sign_with_issuer_audience(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    cfg.issuer = "bizosaas";
    cfg.audience = "api";
    auth_ctx_t c = {.tenant_id = "t1", .user_id = "u1", .roles = ROLE_TENANT_ADMIN};
    char *tok;
    assert_int_equal(auth_sign(&cfg, &c, NOW, 60, &tok), 0);
    auth_ctx_t ctx;
    const char *why;
    assert_int_equal(check(&cfg, tok, NOW, &ctx, &why), 0);
    cfg.issuer = "someone-else";
    expect_reject(&cfg, tok, NOW, "wrong issuer");
    free(tok);
}

/* ---- time ----------------------------------------------------------------- */

static void test_expiry_and_leeway(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    char *tok =
        mint("{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\"],\"exp\":1700000000}");
    auth_ctx_t ctx;
    const char *why;
    assert_int_equal(check(&cfg, tok, NOW - 1, &ctx, &why), 0);
    expect_reject(&cfg, tok, NOW, "expired"); /* now >= exp */
    cfg.leeway_s = 30;
    assert_int_equal(check(&cfg, tok, NOW + 29, &ctx, &why), 0);
    expect_reject(&cfg, tok, NOW + 30, "expired");
    cfg.leeway_s = 1000000; /* capped at AUTH_MAX_LEEWAY_S */
    assert_int_equal(check(&cfg, tok, NOW + AUTH_MAX_LEEWAY_S - 1, &ctx, &why), 0);
    expect_reject(&cfg, tok, NOW + AUTH_MAX_LEEWAY_S, "expired");
    cfg.leeway_s = -50; /* negative counts as 0 */
    expect_reject(&cfg, tok, NOW, "expired");
    free(tok);

    /* Extreme exp values must not overflow into "valid" or "expired". */
    cfg.leeway_s = 60;
    expect_payload_ok(&cfg,
                      "{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\"],"
                      "\"exp\":9223372036854775807}",
                      &ctx);
    expect_payload_reject("{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\"],"
                          "\"exp\":-9223372036854775808}",
                          "expired");
}

static void test_nbf(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    char *tok = mint("{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\"],"
                     "\"exp\":1700003600,\"nbf\":1700000010,\"iat\":1700000010}");
    expect_reject(&cfg, tok, NOW, "not yet valid");
    auth_ctx_t ctx;
    const char *why;
    assert_int_equal(check(&cfg, tok, NOW + 10, &ctx, &why), 0);
    assert_int_equal(ctx.iat, NOW + 10);
    cfg.leeway_s = 9;
    expect_reject(&cfg, tok, NOW, "not yet valid");
    cfg.leeway_s = 10;
    assert_int_equal(check(&cfg, tok, NOW, &ctx, &why), 0);
    free(tok);
    expect_payload_reject("{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\"],"
                          "\"exp\":1700003600,\"nbf\":\"soon\"}",
                          "nbf not an integer");
}

/* Verified tokens are cached per thread (auth.c): the cache must never
 * change an answer — not for an earlier time (before nbf), a later one
 * (after exp), other settings, or a token differing in one byte. */
static void test_verify_cache_is_invisible(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    char *tok = mint("{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\"],"
                     "\"exp\":1700003600,\"nbf\":1700000010}");
    auth_ctx_t a, b;
    const char *why;
    assert_int_equal(check(&cfg, tok, NOW + 10, &a, &why), 0);
    assert_int_equal(check(&cfg, tok, NOW + 11, &b, &why), 0); /* from the cache */
    assert_memory_equal(&a, &b, sizeof a);
    expect_reject(&cfg, tok, NOW + 9, "not yet valid"); /* earlier than when it was cached */
    expect_reject(&cfg, tok, NOW + 3600, "expired");
    cfg.issuer = "someone-else";
    expect_reject(&cfg, tok, NOW + 10, "wrong issuer");
    cfg = cfg_default();
    char *other = strdup(tok);
    other[strlen(other) - 1] ^= 1; /* last signature character */
    const char *w = NULL;
    auth_ctx_t c;
    assert_int_equal(check(&cfg, other, NOW + 10, &c, &w), ERR_UNAUTHORIZED);
    free(other);
    free(tok);
}

/* ---- tampering and algorithms ------------------------------------------- */

static void test_tampered_payload(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    char *tok = mint(GOOD_PAYLOAD);
    /* Swap in another tenant's payload, keeping the original signature. */
    char *evil =
        mint("{\"sub\":\"u1\",\"tenant_id\":\"t2\",\"roles\":[\"manager\"],\"exp\":1700003600}");
    char *sig = strrchr(tok, '.');
    char *evil_sig = strrchr(evil, '.');
    assert_int_equal(strlen(sig), strlen(evil_sig));
    memcpy(evil_sig, sig, strlen(sig));
    expect_reject(&cfg, evil, NOW, "bad signature");
    /* Flip one payload character. */
    char *dot = strchr(tok, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    expect_reject(&cfg, tok, NOW, "bad signature");
    free(tok);
    free(evil);
}

static void test_tampered_signature(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    char *tok = mint(GOOD_PAYLOAD);
    char *sig = strrchr(tok, '.') + 1;
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    expect_reject(&cfg, tok, NOW, "bad signature");
    sig[0] = '\0'; /* empty signature */
    expect_reject(&cfg, tok, NOW, "bad signature");
    free(tok);

    /* Truncated and extended signatures. */
    tok = mint(GOOD_PAYLOAD);
    char *longer = xasprintf("%sAAAA", tok);
    expect_reject(&cfg, longer, NOW, "bad signature");
    tok[strlen(tok) - 1] = '\0';
    expect_reject(&cfg, tok, NOW, "bad signature");
    free(longer);
    free(tok);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    char *tok = mint_raw(HS256_HDR, GOOD_PAYLOAD, EVP_sha256(), OTHER);
    expect_reject(&cfg, tok, NOW, "bad signature");
    free(tok);
}

static void test_alg_none(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    const char *hdrs[] = {"{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"alg\":\"none\"}",
                          "{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}"};
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        char *empty_sig = mint_raw(hdrs[i], GOOD_PAYLOAD, NULL, NULL);
        expect_reject(&cfg, empty_sig, NOW, "algorithm not allowed");
        char *with_sig = mint_raw(hdrs[i], GOOD_PAYLOAD, EVP_sha256(), SECRET);
        expect_reject(&cfg, with_sig, NOW, "algorithm not allowed");
        /* Two segments only ("header.payload"): structurally refused. */
        *strrchr(empty_sig, '.') = '\0';
        expect_reject(&cfg, empty_sig, NOW, "malformed token");
        free(empty_sig);
        free(with_sig);
    }
}

static void test_other_algorithms(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    /* Real HS384/HS512 signatures with the right key must still be refused. */
    char *hs384 =
        mint_raw("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", GOOD_PAYLOAD, EVP_sha384(), SECRET);
    expect_reject(&cfg, hs384, NOW, "algorithm not allowed");
    char *hs512 = mint_raw("{\"alg\":\"HS512\"}", GOOD_PAYLOAD, EVP_sha512(), SECRET);
    expect_reject(&cfg, hs512, NOW, "algorithm not allowed");
    free(hs384);
    free(hs512);
    const char *hdrs[] = {"{\"alg\":\"RS256\"}", "{\"alg\":\"ES256\"}", "{\"alg\":\"hs256\"}",
                          "{\"alg\":\"HS256 \"}", "{\"alg\":256}", "{\"alg\":null}",
                          "{\"typ\":\"JWT\"}", "{\"alg\":[\"HS256\"]}",
                          /* duplicate keys: parsers could disagree on which wins */
                          "{\"alg\":\"HS256\",\"alg\":\"none\"}"};
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        char *tok = mint_raw(hdrs[i], GOOD_PAYLOAD, EVP_sha256(), SECRET);
        expect_reject(&cfg, tok, NOW, i == 8 ? "malformed header" : "algorithm not allowed");
        free(tok);
    }
}

static void test_header_params(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    auth_ctx_t ctx;
    const char *why;
    /* Accepted: no typ, lower-case typ, a kid, any key order and spacing. */
    const char *ok[] = {"{\"alg\":\"HS256\"}", "{\"alg\":\"HS256\",\"typ\":\"jwt\"}",
                        "{\"kid\":\"k1\",\"alg\":\"HS256\"}",
                        " { \"typ\" : \"JWT\" , \"alg\" : \"HS256\" } "};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *tok = mint_raw(ok[i], GOOD_PAYLOAD, EVP_sha256(), SECRET);
        if (check(&cfg, tok, NOW, &ctx, &why) != 0) fail_msg("header %s: %s", ok[i], why);
        free(tok);
    }
    /* "crit" is refused: we implement no extension (RFC 7515 §4.1.11). */
    char *tok =
        mint_raw("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", GOOD_PAYLOAD, EVP_sha256(), SECRET);
    expect_reject(&cfg, tok, NOW, "critical header extension not supported");
    free(tok);
    tok = mint_raw("{\"alg\":\"HS256\",\"typ\":\"JOSE\"}", GOOD_PAYLOAD, EVP_sha256(), SECRET);
    expect_reject(&cfg, tok, NOW, "typ not JWT");
    free(tok);
    tok = mint_raw("{\"alg\":\"HS256\",\"typ\":1}", GOOD_PAYLOAD, EVP_sha256(), SECRET);
    expect_reject(&cfg, tok, NOW, "typ not JWT");
    free(tok);
    const char *bad[] = {"[\"HS256\"]", "\"HS256\"", "{\"alg\":\"HS256\"", "",
                         "{\"alg\":\"HS256\"} x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tok = mint_raw(bad[i], GOOD_PAYLOAD, EVP_sha256(), SECRET);
        expect_reject(&cfg, tok, NOW, i == 3 ? "header not base64url" : "malformed header");
        free(tok);
    }
}

/* ---- claims --------------------------------------------------------------- */

static void test_missing_claims(void **state)
{
    (void)state;
    expect_payload_reject("{\"tenant_id\":\"t1\",\"roles\":[\"manager\"],\"exp\":1700003600}",
                          "sub missing");
    expect_payload_reject("{\"sub\":\"u1\",\"tenant_id\":\"t1\",\"roles\":[\"manager\"]}",
                          "exp missing");
    expect_payload_reject("{\"sub\":\"u1\",\"tenant_id\":\"t1\",\"exp\":1700003600}",
                          "roles missing");
    expect_payload_reject("{\"sub\":\"u1\",\"roles\":[\"manager\"],\"exp\":1700003600}",
                          "tenant_id missing");
    expect_payload_reject(
        "{\"sub\":\"u1\",\"tenant_id\":null,\"roles\":[\"client\"],\"exp\":1700003600}",
        "tenant_id missing");
}

static void test_claim_types(void **state)
{
    (void)state;
    expect_payload_reject(
        "{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\"],\"exp\":1700003600.0}",
        "exp not an integer");
    expect_payload_reject(
        "{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\"],\"exp\":\"1700003600\"}",
        "exp not an integer");
    expect_payload_reject("{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\"],\"exp\":"
                          "1700003600,\"iat\":true}",
                          "iat not an integer");
    expect_payload_reject(
        "{\"sub\":7,\"tenant_id\":\"t\",\"roles\":[\"client\"],\"exp\":1700003600}", "sub invalid");
    expect_payload_reject(
        "{\"sub\":\"\",\"tenant_id\":\"t\",\"roles\":[\"client\"],\"exp\":1700003600}",
        "sub invalid");
    expect_payload_reject(
        "{\"sub\":\"u\\u0001\",\"tenant_id\":\"t\",\"roles\":[\"client\"],\"exp\":1700003600}",
        "sub invalid");
    /* An embedded NUL would truncate the tenant to "t" if copied as a C string. */
    expect_payload_reject(
        "{\"sub\":\"u\",\"tenant_id\":\"t\\u0000x\",\"roles\":[\"client\"],\"exp\":1700003600}",
        "malformed payload");
    expect_payload_reject(
        "{\"sub\":\"u\",\"tenant_id\":\"\",\"roles\":[\"client\"],\"exp\":1700003600}",
        "tenant_id invalid");
    expect_payload_reject(
        "{\"sub\":\"u\",\"tenant_id\":5,\"roles\":[\"client\"],\"exp\":1700003600}",
        "tenant_id invalid");
    expect_payload_reject(
        "{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":\"client\",\"exp\":1700003600}",
        "roles not an array");
    expect_payload_reject(
        "{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\",1],\"exp\":1700003600}",
        "roles invalid");
    expect_payload_reject("{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[],\"exp\":1700003600}",
                          "no known role");
    expect_payload_reject(
        "{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"root\",\"Manager\"],\"exp\":1700003600}",
        "no known role");
    expect_payload_reject(
        "{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"client\"],\"exp\":1700003600,\"jti\":42}",
        "jti invalid");
    expect_payload_reject("[\"sub\",\"u\"]", "malformed payload");
    expect_payload_reject(
        "{\"sub\":\"u\",\"sub\":\"admin\",\"tenant_id\":\"t\",\"roles\":[\"client\"],"
        "\"exp\":1700003600}",
        "malformed payload");
}

static void test_claim_lengths_and_roles(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    char s63[64], s64[65];
    memset(s63, 'a', 63);
    s63[63] = '\0';
    memset(s64, 'b', 64);
    s64[64] = '\0';
    auth_ctx_t ctx;
    char *p =
        xasprintf("{\"sub\":\"%s\",\"tenant_id\":\"%s\",\"jti\":\"%s\",\"roles\":[\"client\"],"
                  "\"exp\":1700003600}",
                  s63, s63, s63);
    expect_payload_ok(&cfg, p, &ctx);
    assert_string_equal(ctx.user_id, s63);
    assert_string_equal(ctx.tenant_id, s63);
    assert_string_equal(ctx.jti, s63);
    free(p);
    const char *fields[] = {"sub", "tenant_id", "jti"};
    for (size_t i = 0; i < 3; i++) {
        if (i == 0)
            p = xasprintf(
                "{\"sub\":\"%s\",\"tenant_id\":\"t\",\"roles\":[\"client\"],\"exp\":1700003600}",
                s64);
        else if (i == 1)
            p = xasprintf(
                "{\"sub\":\"u\",\"tenant_id\":\"%s\",\"roles\":[\"client\"],\"exp\":1700003600}",
                s64);
        else
            p = xasprintf("{\"sub\":\"u\",\"tenant_id\":\"t\",\"jti\":\"%s\",\"roles\":[\"client\"]"
                          ",\"exp\":1700003600}",
                          s64);
        char *reason = xasprintf("%s invalid", fields[i]);
        expect_payload_reject(p, reason);
        free(reason);
        free(p);
    }

    /* Unknown role names are ignored; known ones accumulate. */
    expect_payload_ok(
        &cfg,
        "{\"sub\":\"u\",\"tenant_id\":\"t\",\"roles\":[\"wizard\",\"client\",\"tenant_admin\"],"
        "\"exp\":1700003600}",
        &ctx);
    assert_int_equal(ctx.roles, ROLE_CLIENT | ROLE_TENANT_ADMIN);
    /* Platform roles need no tenant; a tenant they carry is kept. */
    expect_payload_ok(&cfg, "{\"sub\":\"svc\",\"roles\":[\"service\"],\"exp\":1700003600}", &ctx);
    assert_int_equal(ctx.roles, ROLE_SERVICE);
    assert_string_equal(ctx.tenant_id, "");
    expect_payload_ok(
        &cfg, "{\"sub\":\"a\",\"tenant_id\":null,\"roles\":[\"super_admin\"],\"exp\":1700003600}",
        &ctx);
    assert_int_equal(ctx.roles, ROLE_SUPER_ADMIN);
    expect_payload_ok(
        &cfg, "{\"sub\":\"a\",\"tenant_id\":\"t9\",\"roles\":[\"super_admin\"],\"exp\":1700003600}",
        &ctx);
    assert_string_equal(ctx.tenant_id, "t9");
    assert_int_equal(ctx.iat, 0);
}

static void test_issuer_audience(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    cfg.issuer = "bizosaas";
    auth_ctx_t ctx;
    char *none = mint(GOOD_PAYLOAD);
    expect_reject(&cfg, none, NOW, "wrong issuer");
    expect_payload_ok(
        &cfg,
        "{\"sub\":\"u1\",\"tenant_id\":\"t1\",\"roles\":[\"manager\"],\"exp\":1700003600,"
        "\"iss\":\"bizosaas\"}",
        &ctx);
    char *wrong =
        mint("{\"sub\":\"u1\",\"tenant_id\":\"t1\",\"roles\":[\"manager\"],\"exp\":1700003600,"
             "\"iss\":\"bizosaasx\"}");
    expect_reject(&cfg, wrong, NOW, "wrong issuer");
    free(wrong);
    cfg.issuer = ""; /* empty means unchecked */
    expect_payload_ok(&cfg, GOOD_PAYLOAD, &ctx);

    cfg.audience = "api";
    expect_reject(&cfg, none, NOW, "wrong audience");
    free(none);
    expect_payload_ok(
        &cfg,
        "{\"sub\":\"u1\",\"tenant_id\":\"t1\",\"roles\":[\"manager\"],\"exp\":1700003600,"
        "\"aud\":\"api\"}",
        &ctx);
    expect_payload_ok(
        &cfg,
        "{\"sub\":\"u1\",\"tenant_id\":\"t1\",\"roles\":[\"manager\"],\"exp\":1700003600,"
        "\"aud\":[\"web\",7,\"api\"]}",
        &ctx);
    const char *bad_aud[] = {"\"web\"", "[\"web\",\"apix\"]", "[]", "7", "{\"api\":1}", "\"API\""};
    for (size_t i = 0; i < sizeof bad_aud / sizeof bad_aud[0]; i++) {
        char *p = xasprintf("{\"sub\":\"u1\",\"tenant_id\":\"t1\",\"roles\":[\"manager\"],"
                            "\"exp\":1700003600,\"aud\":%s}",
                            bad_aud[i]);
        char *tok = mint(p);
        expect_reject(&cfg, tok, NOW, "wrong audience");
        free(tok);
        free(p);
    }
}

/* ---- encoding and size ---------------------------------------------------- */

static void test_garbage_base64(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    char *tok = mint(GOOD_PAYLOAD);
    char *dot1 = strchr(tok, '.');
    char *hdr_bad = xstrdup(tok);
    hdr_bad[2] = '+';
    expect_reject(&cfg, hdr_bad, NOW, "header not base64url");
    char *pay_bad = xstrdup(tok);
    pay_bad[dot1 - tok + 3] = '/';
    /* The signature covers the raw segment bytes, so this fails there first. */
    expect_reject(&cfg, pay_bad, NOW, "bad signature");
    /* Padding and spaces are not base64url. */
    char *padded = xasprintf("eyJhbGciOiJIUzI1NiJ9=%s", dot1);
    expect_reject(&cfg, padded, NOW, "header not base64url");
    char *spaced = xasprintf(" %s", tok);
    expect_reject(&cfg, spaced, NOW, "header not base64url");
    /* Non-canonical trailing bits: a 16-byte header encodes to 22 chars whose
     * last one carries 2 data bits and 4 zero bits; setting a zero bit keeps
     * the decoded bytes but gives a second spelling, which must be refused. */
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *hdr16 = b64("{\"alg\":\"HS256\"} ", 16);
    assert_int_equal(strlen(hdr16), 22);
    size_t v = (size_t)(strchr(alphabet, hdr16[21]) - alphabet);
    assert_int_equal(v & 0xF, 0);
    char *canon = xasprintf("%s%s", hdr16, dot1);
    auth_ctx_t ctx;
    const char *why;
    /* The canonical spelling reaches the signature check (signed differently). */
    expect_reject(&cfg, canon, NOW, "bad signature");
    hdr16[21] = alphabet[v | 1];
    char *noncanon = xasprintf("%s%s", hdr16, dot1);
    expect_reject(&cfg, noncanon, NOW, "header not base64url");
    const char *junk[] = {".",
                          "..",
                          "...",
                          "a.b.c",
                          "a..c",
                          ".b.c",
                          "a.b.c.d",
                          "!!!!.????.****",
                          "eyJhbGciOiJIUzI1NiJ9"};
    const char *why_junk[] = {
        "malformed token",      "header not base64url", "malformed token",
        "header not base64url", "header not base64url", "header not base64url",
        "malformed token",      "header not base64url", "malformed token"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        expect_reject(&cfg, junk[i], NOW, why_junk[i]);
    expect_reject(&cfg, "", NOW, "empty token");
    assert_int_equal(auth_verify(&cfg, NULL, 0, NOW, &ctx, &why), ERR_UNAUTHORIZED);
    free(tok);
    free(hdr_bad);
    free(pay_bad);
    free(padded);
    free(spaced);
    free(noncanon);
    free(canon);
    free(hdr16);
}

static void test_payload_not_base64_after_valid_signature(void **state)
{
    (void)state;
    /* Sign a payload segment that is not base64url, to reach the decoder. */
    auth_config_t cfg = cfg_default();
    char *h = b64(HS256_HDR, strlen(HS256_HDR));
    char *input = xasprintf("%s.%s", h, "e30=");
    unsigned char mac[32];
    unsigned ml;
    HMAC(EVP_sha256(), SECRET, 32, (const unsigned char *)input, strlen(input), mac, &ml);
    char *s = b64(mac, ml);
    char *tok = xasprintf("%s.%s", input, s);
    expect_reject(&cfg, tok, NOW, "payload not base64url");
    free(h);
    free(input);
    free(s);
    free(tok);
}

static void test_token_size_limit(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    /* Grow a padding claim until the token passes the limit; the last one
     * at or under the limit must verify, the first one over must not. */
    char pad[AUTH_MAX_TOKEN_LEN];
    char *under = NULL, *over = NULL;
    for (size_t n = 5800; n < sizeof pad - 1 && !over; n++) {
        memset(pad, 'p', n);
        pad[n] = '\0';
        char *p = xasprintf("{\"sub\":\"u1\",\"tenant_id\":\"t1\",\"roles\":[\"manager\"],"
                            "\"exp\":1700003600,\"pad\":\"%s\"}",
                            pad);
        char *tok = mint(p);
        free(p);
        if (strlen(tok) <= AUTH_MAX_TOKEN_LEN) {
            free(under);
            under = tok;
        } else {
            over = tok;
        }
    }
    assert_non_null(under);
    assert_non_null(over);
    assert_true(strlen(under) > AUTH_MAX_TOKEN_LEN - 4);
    auth_ctx_t ctx;
    const char *why;
    if (check(&cfg, under, NOW, &ctx, &why) != 0) fail_msg("under limit rejected: %s", why);
    expect_reject(&cfg, over, NOW, "token too long");
    free(under);
    free(over);

    /* auth_sign refuses to mint a token the verifier would refuse. */
    auth_ctx_t c = {.tenant_id = "t", .user_id = "u", .roles = ROLE_CLIENT};
    cfg.issuer = NULL;
    char big_aud[AUTH_MAX_TOKEN_LEN];
    memset(big_aud, 'a', sizeof big_aud - 1);
    big_aud[sizeof big_aud - 1] = '\0';
    cfg.audience = big_aud;
    char *tok = (char *)"sentinel";
    assert_int_equal(auth_sign(&cfg, &c, NOW, 60, &tok), ERR_VALIDATION);
    assert_null(tok);
}

/* ---- bearer --------------------------------------------------------------- */

static void test_bearer(void **state)
{
    (void)state;
    auth_config_t cfg = cfg_default();
    char *tok = mint(GOOD_PAYLOAD);
    auth_ctx_t ctx;
    const char *why;
    const char *fmts[] = {"Bearer %s", "bearer %s", "BEARER   %s", "Bearer %s \t "};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        char *h = xasprintf(fmts[i], tok);
        if (auth_verify_bearer(&cfg, h, strlen(h), NOW, &ctx, &why) != 0)
            fail_msg("'%s' rejected: %s", fmts[i], why);
        assert_string_equal(ctx.tenant_id, "t1");
        free(h);
    }
    struct {
        const char *fmt, *why;
    } bad[] = {
        {"Basic %s", "not a bearer token"}, {"Bearer\t%s", "not a bearer token"},
        {"Bearer%s", "not a bearer token"}, {"Token %s", "not a bearer token"},
        {"Bearer %s x", "bad signature"}, /* an extra word stays in the token */
        {"Bearer", "not a bearer token"},   {"Bearer    ", "missing token"},
        {"Bearer ", "missing token"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *h = xasprintf(bad[i].fmt, tok);
        memset(&ctx, 0xAA, sizeof ctx);
        assert_int_equal(auth_verify_bearer(&cfg, h, strlen(h), NOW, &ctx, &why), ERR_UNAUTHORIZED);
        if (strcmp(why, bad[i].why) != 0)
            fail_msg("'%s': %s, want %s", bad[i].fmt, why, bad[i].why);
        assert_int_equal(ctx.roles, 0);
        assert_int_equal(ctx.tenant_id[0], 0);
        free(h);
    }
    assert_int_equal(auth_verify_bearer(&cfg, NULL, 0, NOW, &ctx, &why), ERR_UNAUTHORIZED);
    assert_string_equal(why, "missing credentials");
    assert_int_equal(auth_verify_bearer(&cfg, "", 0, NOW, &ctx, &why), ERR_UNAUTHORIZED);
    /* The length bounds the value: bytes past len are not read as the token. */
    char *h = xasprintf("Bearer %sGARBAGE", tok);
    assert_int_equal(auth_verify_bearer(&cfg, h, strlen(h) - 7, NOW, &ctx, &why), 0);
    free(h);
    free(tok);
}

/* ---- roles and permissions ------------------------------------------------ */

static void test_roles(void **state)
{
    (void)state;
    const char *names[] = {"super_admin", "tenant_admin", "manager", "client", "service"};
    unsigned bits[] = {ROLE_SUPER_ADMIN, ROLE_TENANT_ADMIN, ROLE_MANAGER, ROLE_CLIENT,
                       ROLE_SERVICE};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(auth_role_parse(names[i], strlen(names[i])), bits[i]);
        assert_string_equal(auth_role_name(bits[i]), names[i]);
    }
    assert_int_equal(auth_role_parse("Manager", 7), 0);
    assert_int_equal(auth_role_parse("manage", 6), 0);
    assert_int_equal(auth_role_parse("managers", 8), 0);
    assert_int_equal(auth_role_parse("manager", 6), 0); /* n bounds the name */
    assert_int_equal(auth_role_parse("", 0), 0);
    assert_null(auth_role_name(0));
    assert_null(auth_role_name(ROLE_MANAGER | ROLE_CLIENT));
    assert_null(auth_role_name(1u << 9));
}

static void test_permission_map(void **state)
{
    (void)state;
    /* super_admin and service: everything. */
    assert_true(auth_permits(ROLE_SUPER_ADMIN, "leads.create"));
    assert_true(auth_permits(ROLE_SUPER_ADMIN, "anything.at.all"));
    assert_true(auth_permits(ROLE_SERVICE, "tenant.delete"));
    /* tenant_admin */
    assert_true(auth_permits(ROLE_TENANT_ADMIN, "tenant.settings.update"));
    assert_true(auth_permits(ROLE_TENANT_ADMIN, "users.invite"));
    assert_false(auth_permits(ROLE_TENANT_ADMIN, "leads.view"));
    assert_false(auth_permits(ROLE_TENANT_ADMIN, "tenant"));
    assert_false(auth_permits(ROLE_TENANT_ADMIN, "tenant."));
    assert_false(auth_permits(ROLE_TENANT_ADMIN, "tenants.view"));
    /* manager */
    assert_true(auth_permits(ROLE_MANAGER, "leads.view"));
    assert_true(auth_permits(ROLE_MANAGER, "leads.create"));
    assert_true(auth_permits(ROLE_MANAGER, "leads.notes.delete"));
    assert_true(auth_permits(ROLE_MANAGER, "campaigns.launch"));
    assert_false(auth_permits(ROLE_MANAGER, "leadsx.view"));
    assert_false(auth_permits(ROLE_MANAGER, "users.invite"));
    /* client */
    assert_true(auth_permits(ROLE_CLIENT, "leads.view"));
    assert_true(auth_permits(ROLE_CLIENT, "campaigns.view"));
    assert_false(auth_permits(ROLE_CLIENT, "leads.create"));
    assert_false(auth_permits(ROLE_CLIENT, "leads.view.all"));
    assert_false(auth_permits(ROLE_CLIENT, "leads.vie"));
    /* combined roles: the union */
    assert_true(auth_permits(ROLE_CLIENT | ROLE_TENANT_ADMIN, "users.invite"));
    assert_true(auth_permits(ROLE_CLIENT | ROLE_TENANT_ADMIN, "leads.view"));
    assert_false(auth_permits(ROLE_CLIENT | ROLE_TENANT_ADMIN, "leads.create"));
    /* no roles: nothing but authentication-only routes */
    assert_false(auth_permits(0, "leads.view"));
    assert_true(auth_permits(0, NULL));
    assert_true(auth_permits(ROLE_CLIENT, ""));
}

static void test_grant_extension(void **state)
{
    (void)state;
    assert_false(auth_permits(ROLE_CLIENT, "shop.orders.view"));
    assert_false(auth_permits(ROLE_MANAGER, "shop.orders.refund"));
    auth_grant(ROLE_CLIENT, "shop.orders.view");
    auth_grant(ROLE_MANAGER | ROLE_TENANT_ADMIN, "shop.*");
    assert_true(auth_permits(ROLE_CLIENT, "shop.orders.view"));
    assert_false(auth_permits(ROLE_CLIENT, "shop.orders.refund"));
    assert_true(auth_permits(ROLE_MANAGER, "shop.orders.refund"));
    assert_true(auth_permits(ROLE_TENANT_ADMIN, "shop.products.create"));
    assert_false(auth_permits(ROLE_MANAGER, "shopx.orders"));
    /* The pattern is copied: the caller's buffer may change afterwards. */
    char buf[32];
    strcpy(buf, "crm.reports.view");
    auth_grant(ROLE_CLIENT, buf);
    strcpy(buf, "crm.reports.drop");
    assert_true(auth_permits(ROLE_CLIENT, "crm.reports.view"));
    assert_false(auth_permits(ROLE_CLIENT, "crm.reports.drop"));
}

static void expect_grant_aborts(unsigned roles, const char *pattern)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Keep the expected fatal log line out of the test output. */
        if (!freopen("/dev/null", "w", stderr)) _exit(3);
        auth_grant(roles, pattern);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void test_grant_misuse_aborts(void **state)
{
    (void)state;
    char longpat[AUTH_MAX_PATTERN_LEN + 2];
    memset(longpat, 'a', sizeof longpat - 1);
    longpat[sizeof longpat - 1] = '\0';
    expect_grant_aborts(0, "x.view");
    expect_grant_aborts(1u << 12, "x.view");
    expect_grant_aborts(ROLE_CLIENT, "");
    expect_grant_aborts(ROLE_CLIENT, NULL);
    expect_grant_aborts(ROLE_CLIENT, longpat);
}


/* ---- ES256 ------------------------------------------------------------------ */

/* gen_pem: a fresh P-256 key as PEM (private, or public when pub). */
static char *gen_pem(EVP_PKEY *pk, bool pub)
{
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(pub ? PEM_write_bio_PUBKEY(b, pk)
                         : PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL),
                     1);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *out = xmalloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return out;
}

typedef struct es_fixture {
    EVP_PKEY *pk1, *pk2;
    auth_es256_key_t *k1, *k1pub, *k2;
} es_fixture_t;

static void es_setup(es_fixture_t *f)
{
    f->pk1 = EVP_EC_gen("P-256");
    f->pk2 = EVP_EC_gen("P-256");
    assert_non_null(f->pk1);
    assert_non_null(f->pk2);
    char *p1 = gen_pem(f->pk1, false), *p1pub = gen_pem(f->pk1, true), *p2 = gen_pem(f->pk2, false);
    assert_int_equal(auth_es256_key_load(p1, strlen(p1), &f->k1), 0);
    assert_int_equal(auth_es256_key_load(p1pub, strlen(p1pub), &f->k1pub), 0);
    assert_int_equal(auth_es256_key_load(p2, strlen(p2), &f->k2), 0);
    free(p1);
    free(p1pub);
    free(p2);
}

static void es_teardown(es_fixture_t *f)
{
    auth_es256_key_free(f->k1);
    auth_es256_key_free(f->k1pub);
    auth_es256_key_free(f->k2);
    EVP_PKEY_free(f->pk1);
    EVP_PKEY_free(f->pk2);
}

static void test_es256_keys(void **state)
{
    (void)state;
    es_fixture_t f;
    es_setup(&f);
    /* the kid is the thumbprint of the public key: equal for the private
     * key and its public half, different across keys */
    assert_string_equal(auth_es256_kid(f.k1), auth_es256_kid(f.k1pub));
    assert_string_not_equal(auth_es256_kid(f.k1), auth_es256_kid(f.k2));
    assert_int_equal(strlen(auth_es256_kid(f.k1)), 43);
    assert_true(auth_es256_can_sign(f.k1));
    assert_false(auth_es256_can_sign(f.k1pub));
    char jwk[512];
    assert_int_equal(auth_es256_jwk(f.k1, jwk, sizeof jwk), 0);
    assert_non_null(strstr(jwk, "\"kty\":\"EC\""));
    assert_non_null(strstr(jwk, "\"crv\":\"P-256\""));
    assert_non_null(strstr(jwk, auth_es256_kid(f.k1)));
    assert_null(strstr(jwk, "\"d\"")); /* never the private part */
    assert_int_equal(auth_es256_jwk(f.k1, jwk, 20), ERR_VALIDATION);
    /* not a key, another curve, an RSA key */
    auth_es256_key_t *k = NULL;
    assert_int_equal(auth_es256_key_load("nope", 4, &k), ERR_CONFIG);
    assert_null(k);
    EVP_PKEY *p384 = EVP_EC_gen("P-384");
    char *pem = gen_pem(p384, false);
    assert_int_equal(auth_es256_key_load(pem, strlen(pem), &k), ERR_CONFIG);
    free(pem);
    EVP_PKEY_free(p384);
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    pem = gen_pem(rsa, true);
    assert_int_equal(auth_es256_key_load(pem, strlen(pem), &k), ERR_CONFIG);
    free(pem);
    EVP_PKEY_free(rsa);
    es_teardown(&f);
}

static void test_es256_round_trip_and_attacks(void **state)
{
    (void)state;
    es_fixture_t f;
    es_setup(&f);
    const auth_es256_key_t *verify_keys[] = {f.k1pub, f.k2};
    auth_config_t cfg = cfg_default();
    cfg.es256_keys = verify_keys;
    cfg.es256_nkeys = 2;
    auth_config_t signer = cfg;
    signer.es256_signer = f.k1;
    auth_ctx_t c = {.roles = ROLE_MANAGER}, out;
    strcpy(c.user_id, "u1");
    strcpy(c.tenant_id, "t1");
    char *tok = NULL;
    assert_int_equal(auth_sign(&signer, &c, NOW, 3600, &tok), 0);
    /* the header names ES256 and the signer's kid */
    size_t hl = (size_t)(strchr(tok, '.') - tok), n;
    unsigned char hdr[256];
    assert_int_equal(sodium_base642bin(hdr, sizeof hdr - 1, tok, hl, NULL, &n, NULL, B64V), 0);
    hdr[n] = '\0';
    assert_non_null(strstr((char *)hdr, "\"alg\":\"ES256\""));
    assert_non_null(strstr((char *)hdr, auth_es256_kid(f.k1)));
    const char *why = NULL;
    assert_int_equal(auth_verify(&cfg, tok, strlen(tok), NOW, &out, &why), 0);
    assert_string_equal(out.user_id, "u1");
    assert_int_equal(out.roles, ROLE_MANAGER);

    /* without ES256 keys configured, the same token is refused */
    auth_config_t plain = cfg_default();
    assert_int_equal(auth_verify(&plain, tok, strlen(tok), NOW, &out, &why), ERR_UNAUTHORIZED);
    assert_string_equal(why, "algorithm not allowed");

    /* the kid of another configured key: the signature does not verify */
    char *payload_dot = strchr(tok, '.');
    char h2[200];
    snprintf(h2, sizeof h2, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", auth_es256_kid(f.k2));
    char *h2b = b64(h2, strlen(h2));
    char *swapped = xasprintf("%s%s", h2b, payload_dot);
    assert_int_equal(auth_verify(&cfg, swapped, strlen(swapped), NOW, &out, &why), ERR_UNAUTHORIZED);
    assert_string_equal(why, "bad signature");
    free(h2b);
    free(swapped);
    /* an unknown kid, and no kid */
    const char *hdrs[] = {"{\"alg\":\"ES256\",\"kid\":\"not-a-key\"}", "{\"alg\":\"ES256\"}",
                          "{\"alg\":\"ES256\",\"kid\":\"\"}", "{\"alg\":\"ES256\",\"kid\":7}"};
    for (size_t i = 0; i < 4; i++) {
        char *hb = b64(hdrs[i], strlen(hdrs[i]));
        char *t = xasprintf("%s%s", hb, payload_dot);
        assert_int_equal(auth_verify(&cfg, t, strlen(t), NOW, &out, &why), ERR_UNAUTHORIZED);
        assert_true(strcmp(why, "unknown kid") == 0 || strcmp(why, "kid missing or invalid") == 0);
        free(hb);
        free(t);
    }
    /* tampered payload keeps the ES256 signature: refused */
    char *tampered = xstrdup(tok);
    char *p = strchr(tampered, '.') + 5;
    *p = *p == 'A' ? 'B' : 'A';
    assert_int_equal(auth_verify(&cfg, tampered, strlen(tampered), NOW, &out, &why), ERR_UNAUTHORIZED);
    free(tampered);

    /* algorithm confusion: HS256 "signed" with the public key PEM as the
     * HMAC secret never verifies (the HMAC key is only ever the secret) */
    char *pub = gen_pem(f.pk1, true);
    char *hb = b64(HS256_HDR, strlen(HS256_HDR));
    char *pb = b64(GOOD_PAYLOAD, strlen(GOOD_PAYLOAD));
    char *input = xasprintf("%s.%s", hb, pb);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned ml = 0;
    HMAC(EVP_sha256(), pub, (int)strlen(pub), (unsigned char *)input, strlen(input), mac, &ml);
    char *sb = b64(mac, ml);
    char *confused = xasprintf("%s.%s", input, sb);
    assert_int_equal(auth_verify(&cfg, confused, strlen(confused), NOW, &out, &why), ERR_UNAUTHORIZED);
    assert_string_equal(why, "bad signature");
    free(pub);
    free(hb);
    free(pb);
    free(input);
    free(sb);
    free(confused);

    /* HS256 under the shared secret still verifies alongside ES256 */
    char *hs = mint(GOOD_PAYLOAD);
    assert_int_equal(auth_verify(&cfg, hs, strlen(hs), NOW, &out, &why), 0);
    free(hs);

    /* a public key cannot sign */
    auth_config_t pubsigner = cfg;
    pubsigner.es256_signer = f.k1pub;
    char *t2 = NULL;
    assert_int_equal(auth_sign(&pubsigner, &c, NOW, 3600, &t2), ERR_CONFIG);
    assert_null(t2);
    free(tok);
    es_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_sign_platform_roles_need_no_tenant),
        cmocka_unit_test(test_sign_rejects_bad_claims),
        cmocka_unit_test(test_short_secret_is_config_error),
        cmocka_unit_test(test_sign_with_issuer_audience),
        cmocka_unit_test(test_expiry_and_leeway),
        cmocka_unit_test(test_nbf),
        cmocka_unit_test(test_verify_cache_is_invisible),
        cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_tampered_signature),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_other_algorithms),
        cmocka_unit_test(test_header_params),
        cmocka_unit_test(test_missing_claims),
        cmocka_unit_test(test_claim_types),
        cmocka_unit_test(test_claim_lengths_and_roles),
        cmocka_unit_test(test_issuer_audience),
        cmocka_unit_test(test_garbage_base64),
        cmocka_unit_test(test_payload_not_base64_after_valid_signature),
        cmocka_unit_test(test_token_size_limit),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_permission_map),
        cmocka_unit_test(test_grant_extension),
        cmocka_unit_test(test_grant_misuse_aborts),
        cmocka_unit_test(test_es256_keys),
        cmocka_unit_test(test_es256_round_trip_and_attacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
