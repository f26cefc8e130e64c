/* test_ids.c — UUIDv7 format and ordering, request-id and uuid validation,
 * random hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ids.h"

static unsigned hexval(char c)
{
    return (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
}

static void test_uuidv7_format(void **state)
{
    (void)state;
    char id[ID_UUID_LEN + 1];
    memset(id, 'X', sizeof id);
    id_uuidv7(id);
    assert_int_equal(strlen(id), 36);
    assert_true(id_is_uuid(id, strlen(id)));
    assert_int_equal(id[14], '7');               /* version nibble */
    assert_true(strchr("89ab", id[19]) != NULL); /* variant 10xx */
    for (const char *p = id; *p; p++)
        assert_false(*p >= 'A' && *p <= 'F');
}

static void test_uuidv7_timestamp(void **state)
{
    (void)state;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t before = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    char id[ID_UUID_LEN + 1];
    id_uuidv7(id);
    uint64_t ms = 0;
    for (int i = 0; i < 13; i++)
        if (id[i] != '-') ms = ms << 4 | hexval(id[i]);
    /* The embedded time is the wall clock, possibly run ahead by earlier
     * counter overflows in this process; never behind the clock read before. */
    assert_true(ms >= before);
    assert_true(ms < before + 60u * 1000u);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

#define N_SEQ 100000
static void test_uuidv7_monotonic(void **state)
{
    (void)state;
    char(*ids)[ID_UUID_LEN + 1] = malloc(sizeof *ids * N_SEQ);
    assert_non_null(ids);
    for (int i = 0; i < N_SEQ; i++)
        id_uuidv7(ids[i]);
    for (int i = 1; i < N_SEQ; i++)
        if (strcmp(ids[i - 1], ids[i]) >= 0)
            fail_msg("not increasing at %d: %s >= %s", i, ids[i - 1], ids[i]);
    /* Bit layout holds across counter overflows too. */
    for (int i = 0; i < N_SEQ; i++) {
        assert_int_equal(ids[i][14], '7');
        assert_non_null(strchr("89ab", ids[i][19]));
    }
    free(ids);
}

#define N_THR 20000
struct thr_arg {
    char (*ids)[ID_UUID_LEN + 1];
    int increasing;
};

static void *gen_thread(void *p)
{
    struct thr_arg *a = p;
    a->increasing = 1;
    for (int i = 0; i < N_THR; i++) {
        id_uuidv7(a->ids[i]);
        if (i > 0 && strcmp(a->ids[i - 1], a->ids[i]) >= 0) a->increasing = 0;
    }
    return NULL;
}

static void test_uuidv7_threads_unique(void **state)
{
    (void)state;
    char(*all)[ID_UUID_LEN + 1] = malloc(sizeof *all * N_THR * 2);
    assert_non_null(all);
    struct thr_arg a[2] = {{all, 0}, {all + N_THR, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, gen_thread, &a[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_true(a[0].increasing);
    assert_true(a[1].increasing);
    qsort(all, N_THR * 2, sizeof *all, cmp_str);
    /* Stronger than uniqueness of the whole id (whose 62 random bits would
     * hide a race): the (timestamp, counter) prefix — the first 18 chars —
     * is issued once per process, so no two ids may share it. */
    for (int i = 1; i < N_THR * 2; i++)
        if (strncmp(all[i - 1], all[i], 18) == 0)
            fail_msg("duplicate prefix %s %s", all[i - 1], all[i]);
    free(all);
}

static void test_is_uuid(void **state)
{
    (void)state;
    const char *good = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b";
    assert_true(id_is_uuid(good, strlen(good)));
    assert_true(id_is_uuid("00000000-0000-0000-0000-000000000000", 36));
    assert_false(id_is_uuid(NULL, 0));
    assert_false(id_is_uuid(good, 35));                                    /* short */
    assert_false(id_is_uuid("0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2bc", 37)); /* long */
    assert_false(id_is_uuid("0190A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B", 36));  /* upper */
    assert_false(id_is_uuid("0190a1b2c3d4-7e5f-8a6b-7c8d9e0f1a2b-", 36));  /* dashes moved */
    assert_false(id_is_uuid("0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2g", 36));  /* non-hex */
    assert_false(id_is_uuid("{190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2}", 36));  /* braces */
    assert_false(id_is_uuid("0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2\0", 36)); /* NUL */
    /* n is authoritative: a valid prefix of a longer buffer is accepted. */
    assert_true(id_is_uuid("0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2bXYZ", 36));
}

static void test_request_id(void **state)
{
    (void)state;
    char max[ID_REQUEST_ID_MAX + 2];
    memset(max, 'a', sizeof max);
    assert_true(id_request_id_ok("a", 1));
    assert_true(id_request_id_ok("req-1.2_3:AZaz09", 16));
    assert_true(id_request_id_ok(max, ID_REQUEST_ID_MAX));
    assert_false(id_request_id_ok(max, ID_REQUEST_ID_MAX + 1));
    assert_false(id_request_id_ok(NULL, 0));
    assert_false(id_request_id_ok("", 0));
    assert_false(id_request_id_ok("a b", 3));
    assert_false(id_request_id_ok("a\"b", 3));
    assert_false(id_request_id_ok("a\r\nX-Evil: 1", 12));
    assert_false(id_request_id_ok("a/b", 3));
    assert_false(id_request_id_ok("a\0b", 3));
    assert_false(id_request_id_ok("caf\xc3\xa9", 5));
    char gen[ID_UUID_LEN + 1];
    id_uuidv7(gen);
    assert_true(id_request_id_ok(gen, strlen(gen)));
}

static void test_random_hex(void **state)
{
    (void)state;
    char a[2 * 100 + 1], b[2 * 100 + 1];
    memset(a, 'X', sizeof a);
    id_random_hex(a, 100); /* crosses the internal 64-byte chunk */
    id_random_hex(b, 100);
    assert_int_equal(strlen(a), 200);
    for (size_t i = 0; i < 200; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    assert_string_not_equal(a, b);
    char one[3];
    id_random_hex(one, 1);
    assert_int_equal(strlen(one), 2);
    char none[1] = {'X'};
    id_random_hex(none, 0);
    assert_int_equal(none[0], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuidv7_format),    cmocka_unit_test(test_uuidv7_timestamp),
        cmocka_unit_test(test_uuidv7_monotonic), cmocka_unit_test(test_uuidv7_threads_unique),
        cmocka_unit_test(test_is_uuid),          cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_random_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
