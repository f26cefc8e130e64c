/* test_wf_cron.c — the cron parser (fields, ranges, steps, lists, names,
 * errors) and the next-fire computation in UTC and in IANA time zones,
 * across daylight-saving changes, leap days and impossible dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contexts/workflows/cron.h"
#include "err.h"

static int64_t at(const char *rfc)
{
    struct tm tm = {0};
    const char *p = strptime(rfc, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(p);
    return (int64_t)timegm(&tm) * 1000;
}

static wf_cron_t parse_ok(const char *expr)
{
    wf_cron_t c;
    char err[200] = "";
    int rc = wf_cron_parse(expr, &c, err, sizeof err);
    if (rc != 0) fail_msg("'%s' refused: %s", expr, err);
    return c;
}

static void next_is(const char *expr, const char *tz, const char *after, const char *want)
{
    wf_cron_t c = parse_ok(expr);
    int64_t got = wf_cron_next(&c, tz, at(after));
    int64_t exp = want ? at(want) : -1;
    if (got != exp) {
        char g[40] = "-1";
        if (got >= 0) {
            time_t t = (time_t)(got / 1000);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(g, sizeof g, "%Y-%m-%dT%H:%M:%S", &tm);
        }
        fail_msg("'%s' in %s after %s: got %s, want %s", expr, tz, after, g, want ? want : "-1");
    }
}

static void test_parse_fields(void **state)
{
    (void)state;
    wf_cron_t c = parse_ok("*/15 * * * *");
    assert_true(c.minute == ((1ULL << 0) | (1ULL << 15) | (1ULL << 30) | (1ULL << 45)));
    assert_true(c.dom_star && c.dow_star);
    c = parse_ok("0 9-17/2 * * MON-FRI");
    assert_true(c.minute == 1);
    assert_int_equal(c.hour, (1u << 9) | (1u << 11) | (1u << 13) | (1u << 15) | (1u << 17));
    assert_int_equal(c.dow, 0x3e);
    assert_false(c.dow_star);
    c = parse_ok("0 0 1,15 jan,JUL *");
    assert_int_equal(c.dom, (1u << 1) | (1u << 15));
    assert_int_equal(c.month, (1u << 1) | (1u << 7));
    c = parse_ok("5/15 * * * *");
    assert_true(c.minute == ((1ULL << 5) | (1ULL << 20) | (1ULL << 35) | (1ULL << 50)));
    c = parse_ok("0 0 * * 7");
    assert_int_equal(c.dow, 1); /* 7 is Sunday = 0 */
    c = parse_ok("0 0 * * 0-7");
    assert_int_equal(c.dow, 0x7f);
    c = parse_ok("59 23 31 12 sat");
    assert_true(c.minute == 1ULL << 59);
    assert_int_equal(c.dow, 1u << 6);
    c = parse_ok("  1,2-4,10-20/5   *\t* * *  ");
    assert_true(c.minute == ((1ULL << 1) | (1ULL << 2) | (1ULL << 3) | (1ULL << 4) | (1ULL << 10) |
                             (1ULL << 15) | (1ULL << 20)));
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *",
        "* * * 0 *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *",
        "1,,2 * * * *", ",1 * * * *", "1, * * * *", "FOO * * * *", "* * * JANUARY *",
        "-1 * * * *", "1- * * * *", "*/ * * * *", "1/2/3 * * * *", "* * * * MON-", "** * * * *",
        "00000 * * * *", "* * * * SUNDAY", "MON * * * *", "* * * FEB-JAN *", "*/60 * * * *",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wf_cron_t c;
        char err[200] = "";
        if (wf_cron_parse(bad[i], &c, err, sizeof err) != ERR_VALIDATION)
            fail_msg("'%s' was accepted", bad[i]);
        assert_true(err[0] != '\0');
    }
    wf_cron_t c;
    char err[200];
    assert_int_equal(wf_cron_parse(NULL, &c, err, sizeof err), ERR_VALIDATION);
}

static void test_next_utc(void **state)
{
    (void)state;
    next_is("0 9 * * *", "UTC", "2026-01-01T09:00:00", "2026-01-02T09:00:00");
    next_is("0 9 * * *", "UTC", "2026-01-01T08:59:30", "2026-01-01T09:00:00");
    next_is("* * * * *", "UTC", "2026-01-01T08:59:30", "2026-01-01T09:00:00");
    next_is("*/15 * * * *", "UTC", "2026-01-01T10:16:00", "2026-01-01T10:30:00");
    next_is("59 23 31 12 *", "UTC", "2026-06-01T00:00:00", "2026-12-31T23:59:00");
    next_is("0 0 1 * *", "UTC", "2026-12-15T00:00:00", "2027-01-01T00:00:00");
    /* day of month OR day of week when both are restricted (Vixie cron):
     * 2026-01-02 is a Friday */
    next_is("0 0 13 * FRI", "UTC", "2026-01-01T00:00:00", "2026-01-02T00:00:00");
    /* only the weekday restricted: the next Monday */
    next_is("0 8 * * MON", "UTC", "2026-01-01T00:00:00", "2026-01-05T08:00:00");
    /* leap day, and a date that never comes */
    next_is("0 0 29 2 *", "UTC", "2026-01-01T00:00:00", "2028-02-29T00:00:00");
    next_is("0 0 30 2 *", "UTC", "2026-01-01T00:00:00", NULL);
}

static void test_next_zones_and_dst(void **state)
{
    (void)state;
    /* +05:30 */
    next_is("0 9 * * *", "Asia/Kolkata", "2026-01-01T00:00:00", "2026-01-01T03:30:00");
    /* New York in winter (-05:00) and summer (-04:00) */
    next_is("0 9 * * *", "America/New_York", "2026-01-10T00:00:00", "2026-01-10T14:00:00");
    next_is("0 9 * * *", "America/New_York", "2026-07-10T00:00:00", "2026-07-10T13:00:00");
    /* spring forward 2026-03-08 02:00 -> 03:00: 02:30 does not exist that
     * day, so it fires on the 9th (EDT) */
    next_is("30 2 * * *", "America/New_York", "2026-03-07T12:00:00", "2026-03-09T06:30:00");
    /* the day after the change, 09:00 is at -04:00 */
    next_is("0 9 * * *", "America/New_York", "2026-03-08T12:00:00", "2026-03-08T13:00:00");
    /* fall back 2026-11-01 02:00 -> 01:00: 01:30 happens twice and fires at both */
    next_is("30 1 * * *", "America/New_York", "2026-10-31T12:00:00", "2026-11-01T05:30:00");
    next_is("30 1 * * *", "America/New_York", "2026-11-01T05:30:00", "2026-11-01T06:30:00");
    next_is("30 1 * * *", "America/New_York", "2026-11-01T06:30:00", "2026-11-02T06:30:00");
    /* Berlin: hourly across its spring change (2026-03-29 02:00 -> 03:00) */
    next_is("0 * * * *", "Europe/Berlin", "2026-03-29T00:30:00", "2026-03-29T01:00:00");
    /* the environment's TZ is untouched afterwards */
    assert_null(getenv("TZ"));
}

static void test_tz_valid(void **state)
{
    (void)state;
    assert_true(wf_tz_valid("UTC"));
    assert_true(wf_tz_valid("Europe/Berlin"));
    assert_true(wf_tz_valid("America/Argentina/Buenos_Aires"));
    assert_false(wf_tz_valid("Mars/Olympus_Mons"));
    assert_false(wf_tz_valid("../../etc/passwd"));
    assert_false(wf_tz_valid("/etc/localtime"));
    assert_false(wf_tz_valid("Europe"));
    assert_false(wf_tz_valid(""));
    assert_false(wf_tz_valid(NULL));
    assert_false(wf_tz_valid("Europe/Berlin;rm"));
}

int main(void)
{
    unsetenv("TZ");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields),       cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_next_utc),           cmocka_unit_test(test_next_zones_and_dst),
        cmocka_unit_test(test_tz_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
