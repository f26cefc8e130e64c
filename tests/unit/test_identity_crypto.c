/* test_identity_crypto.c — identity's pure crypto helpers: argon2id
 * password hashing with the documented parameters, the password policy and
 * common-password list, TOTP against the RFC 6238 test vectors, base32,
 * recovery codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "contexts/identity/passwords.h"
#include "contexts/identity/totp.h"
#include "err.h"

static void test_hash_uses_owasp_argon2id_parameters(void **state)
{
    (void)state;
    char h[PW_HASH_MAX];
    assert_int_equal(pw_hash("correct horse battery staple", h), 0);
    /* m = 19 MiB = 19456 KiB, t = 2, p = 1: OWASP's argon2id minimum */
    assert_non_null(strstr(h, "$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_true(pw_verify(h, "correct horse battery staple"));
    assert_false(pw_verify(h, "correct horse battery stapler"));
    assert_false(pw_verify(h, ""));
    assert_false(pw_needs_rehash(h));
    /* a hash with weaker parameters is flagged for rehashing */
    char weak[crypto_pwhash_STRBYTES];
    assert_int_equal(
        crypto_pwhash_str_alg(weak, "pw", 2, 1, 8192 * 1024, crypto_pwhash_ALG_ARGON2ID13), 0);
    assert_true(pw_needs_rehash(weak));
    assert_true(pw_verify(weak, "pw"));
    /* salted: the same password hashes differently */
    char h2[PW_HASH_MAX];
    assert_int_equal(pw_hash("correct horse battery staple", h2), 0);
    assert_string_not_equal(h, h2);
    /* no stored hash never verifies */
    assert_false(pw_verify(NULL, "anything"));
}

static void test_policy(void **state)
{
    (void)state;
    assert_null(pw_policy_invalid("correct horse battery staple", "a@example.com"));
    assert_non_null(pw_policy_invalid("short", NULL));
    assert_non_null(pw_policy_invalid("123456789", NULL)); /* 9 < 10 */
    char longpw[PW_MAX_LEN + 2];
    memset(longpw, 'x', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    assert_non_null(pw_policy_invalid(longpw, NULL));
    longpw[PW_MAX_LEN] = '\0';
    assert_null(pw_policy_invalid(longpw, NULL));
    /* common passwords, case-insensitively */
    assert_true(pw_is_common("password123"));
    assert_true(pw_is_common("PassWord123"));
    assert_true(pw_is_common("1234567890"));
    assert_true(pw_is_common("qwertyuiop"));
    assert_false(pw_is_common("correct horse battery staple"));
    assert_non_null(pw_policy_invalid("Password123", NULL));
    /* not the e-mail address or its local part */
    assert_non_null(pw_policy_invalid("longusername", "longusername@example.com"));
    assert_non_null(pw_policy_invalid("Me@Example.com", "me@example.com"));
    char gen[21];
    pw_generate(gen);
    assert_int_equal(strlen(gen), 20);
    assert_null(pw_policy_invalid(gen, NULL));
}

/* RFC 6238 appendix B, SHA-1, 8 digits, secret "12345678901234567890". */
static void test_totp_rfc6238_vectors(void **state)
{
    (void)state;
    const unsigned char *key = (const unsigned char *)"12345678901234567890";
    static const struct {
        uint64_t t;
        uint32_t code;
    } v[] = {
        {59, 94287082},         {1111111109, 7081804},  {1111111111, 14050471},
        {1234567890, 89005924}, {2000000000, 69279037}, {20000000000ULL, 65353130},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(totp_at(key, 20, v[i].t / 30, 8), v[i].code);
    /* 6 digits is the same number mod 10^6 */
    assert_int_equal(totp_at(key, 20, 59 / 30, 6), 287082);
}

static void test_totp_verify_window_and_base32(void **state)
{
    (void)state;
    /* base32 of "12345678901234567890" (RFC 4648 alphabet, no padding) */
    char b32[40];
    totp_b32_encode((const unsigned char *)"12345678901234567890", 20, b32);
    assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    unsigned char back[32];
    assert_int_equal(totp_b32_decode("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", back, sizeof back), 20);
    assert_memory_equal(back, "12345678901234567890", 20);
    assert_int_equal(totp_b32_decode("GEZ1", back, sizeof back), -1); /* '1' is not base32 */

    assert_true(totp_verify(b32, "287082", 59));
    assert_true(totp_verify(b32, "287082", 59 + 30)); /* one step late */
    assert_true(totp_verify(b32, "287082", 59 - 30)); /* one step early */
    assert_false(totp_verify(b32, "287082", 59 + 60));
    assert_false(totp_verify(b32, "287083", 59));
    assert_false(totp_verify(b32, "28708", 59));
    assert_false(totp_verify(b32, "2870821", 59));
    assert_false(totp_verify(b32, "28708a", 59));
    assert_false(totp_verify(NULL, "287082", 59));
    /* the matched step identifies the code for one-time use */
    uint64_t step = 0;
    assert_true(totp_verify_step(b32, "287082", 59 + 30, &step));
    assert_int_equal(step, 1);
    assert_true(totp_verify_step(b32, "287082", 59, &step));
    assert_int_equal(step, 1);

    char secret[TOTP_SECRET_B32_LEN + 1], other[TOTP_SECRET_B32_LEN + 1];
    totp_new_secret(secret);
    totp_new_secret(other);
    assert_int_equal(strlen(secret), TOTP_SECRET_B32_LEN);
    assert_string_not_equal(secret, other);

    char uri[512];
    assert_true(totp_uri("BizOSaaS", "a b@example.com", secret, uri, sizeof uri));
    char want[512];
    snprintf(want, sizeof want,
             "otpauth://totp/BizOSaaS:a%%20b@example.com?secret=%s&issuer=BizOSaaS&algorithm=SHA1&"
             "digits=6&period=30",
             secret);
    assert_string_equal(uri, want);
    assert_false(totp_uri("BizOSaaS", "a@example.com", secret, uri, 40)); /* too small */
}

static void test_recovery_codes(void **state)
{
    (void)state;
    char a[RECOVERY_CODE_LEN + 1], b[RECOVERY_CODE_LEN + 1], n[RECOVERY_CODE_LEN + 1];
    recovery_code_new(a);
    recovery_code_new(b);
    assert_int_equal(strlen(a), RECOVERY_CODE_LEN);
    assert_int_equal(a[5], '-');
    assert_string_not_equal(a, b);
    assert_true(recovery_code_normalize(a, n));
    assert_string_equal(n, a);
    assert_true(recovery_code_normalize("ABCDE FGH23", n));
    assert_string_equal(n, "abcde-fgh23");
    assert_true(recovery_code_normalize("abcde-fgh23", n));
    assert_false(recovery_code_normalize("abcde-fgh2", n));   /* short */
    assert_false(recovery_code_normalize("abcde-fgh234", n)); /* long */
    assert_false(recovery_code_normalize("abcde-fgh18", n));  /* 1 and 8 are not base32 */
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_uses_owasp_argon2id_parameters),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_totp_rfc6238_vectors),
        cmocka_unit_test(test_totp_verify_window_and_base32),
        cmocka_unit_test(test_recovery_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
