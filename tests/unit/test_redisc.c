/* test_redisc.c — the one redis:// URL parser (events relay and gateway
 * rate limits), and connecting to a port where nothing listens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "redisc.h"

static void test_full_url(void **state)
{
    (void)state;
    redisc_url_t u;
    assert_int_equal(redisc_parse("redis://user:p@ss:w@cache.local:6380/3", &u), 0);
    assert_string_equal(u.host, "cache.local");
    assert_int_equal(u.port, 6380);
    assert_string_equal(u.password, "p@ss:w"); /* up to the last '@' */
    assert_int_equal(u.db, 3);
}

static void test_defaults(void **state)
{
    (void)state;
    redisc_url_t u;
    assert_int_equal(redisc_parse("redis://127.0.0.1", &u), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_string_equal(u.password, "");
    assert_int_equal(u.db, 0);
    assert_int_equal(redisc_parse("redis://:secret@h/", &u), 0);
    assert_string_equal(u.password, "secret");
    assert_int_equal(u.db, 0);
}

static void test_malformed(void **state)
{
    (void)state;
    redisc_url_t u;
    const char *bad[] = {"", "http://h:6379", "redis://", "redis://:6379", "redis://h:0",
                         "redis://h:65536", "redis://h:-1", "redis://pw@/0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(redisc_parse(bad[i], &u), ERR_CONFIG);
    char longhost[300] = "redis://";
    memset(longhost + 8, 'a', 280);
    longhost[288] = '\0';
    assert_int_equal(redisc_parse(longhost, &u), ERR_CONFIG);
}

static void test_connect_failures_say_why(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_null(redisc_connect("nope://x", 100, &why));
    assert_string_equal(why, "malformed URL");
    /* port 1 on loopback: nothing listens there (refused at once) */
    assert_null(redisc_connect("redis://127.0.0.1:1", 200, &why));
    assert_string_equal(why, "cannot connect");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_url),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_connect_failures_say_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
