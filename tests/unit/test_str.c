/* test_str.c — the shared string hash (FNV-1a, 64 bits): its published
 * test vectors, and the byte and C-string forms agreeing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "str.h"

static void test_fnv1a_vectors(void **state)
{
    (void)state;
    assert_true(str_hash("", 0) == 0xcbf29ce484222325ULL);
    assert_true(str_hash_cstr("a") == 0xaf63dc4c8601ec8cULL);
    assert_true(str_hash_cstr("foobar") == 0x85944171f73967e8ULL);
}

static void test_forms_agree(void **state)
{
    (void)state;
    const char *k = "bench|tenant-1";
    assert_true(str_hash(k, strlen(k)) == str_hash_cstr(k));
    /* the byte form reads past NULs: keys with NUL separators (the cache) */
    assert_true(str_hash("a\0b", 3) != str_hash("a\0c", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a_vectors),
        cmocka_unit_test(test_forms_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
