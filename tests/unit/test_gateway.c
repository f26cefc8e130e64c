/* test_gateway.c — the circuit breaker's state machine and the sliding
 * window rate limiter, exact at their boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gateway/breaker.h"
#include "gateway/ratelimit.h"

static void test_breaker_cycle(void **state)
{
    (void)state;
    gw_breaker_t b;
    gw_breaker_init(&b, 3, 1000);
    assert_true(gw_breaker_allow(&b, 0));
    assert_false(gw_breaker_record(&b, false, 0));
    assert_false(gw_breaker_record(&b, false, 0));
    /* a success resets the count of consecutive failures */
    assert_false(gw_breaker_record(&b, true, 0));
    assert_false(gw_breaker_record(&b, false, 0));
    assert_false(gw_breaker_record(&b, false, 0));
    assert_int_equal(b.state, GW_CLOSED);
    assert_true(gw_breaker_record(&b, false, 10)); /* third in a row: opens */
    assert_int_equal(b.state, GW_OPEN);
    assert_int_equal(b.activations, 1);
    assert_false(gw_breaker_allow(&b, 500));
    assert_false(gw_breaker_allow(&b, 1009));
    /* after the cool-down: exactly one probe */
    assert_true(gw_breaker_allow(&b, 1010));
    assert_int_equal(b.state, GW_HALF_OPEN);
    assert_false(gw_breaker_allow(&b, 1011));
    /* the probe fails: open again, a new cool-down */
    assert_true(gw_breaker_record(&b, false, 1020));
    assert_int_equal(b.state, GW_OPEN);
    assert_false(gw_breaker_allow(&b, 2000));
    assert_true(gw_breaker_allow(&b, 2020));
    /* the probe succeeds: closed */
    assert_true(gw_breaker_record(&b, true, 2030));
    assert_int_equal(b.state, GW_CLOSED);
    assert_true(gw_breaker_allow(&b, 2031));
    assert_string_equal(gw_breaker_name(GW_HALF_OPEN), "half_open");
}

static void test_ratelimit_exact_boundary(void **state)
{
    (void)state;
    gw_ratelimit_t *rl = gw_rl_new();
    int64_t t0 = 60000 * 1000; /* the start of a window */
    for (int i = 0; i < 100; i++) {
        gw_rl_result_t r = gw_rl_hit(rl, "crm|t1", 100, 60000, t0 + i);
        assert_true(r.allowed);
        assert_int_equal(r.remaining, 99 - i);
    }
    gw_rl_result_t r = gw_rl_hit(rl, "crm|t1", 100, 60000, t0 + 100);
    assert_false(r.allowed);
    assert_true(r.retry_after_s >= 1);
    assert_int_equal(r.limit, 100);
    /* another tenant and another service are independent */
    assert_true(gw_rl_hit(rl, "crm|t2", 100, 60000, t0 + 100).allowed);
    assert_true(gw_rl_hit(rl, "cms|t1", 100, 60000, t0 + 100).allowed);
    gw_rl_free(rl);
}

static void test_ratelimit_slides(void **state)
{
    (void)state;
    gw_ratelimit_t *rl = gw_rl_new();
    int64_t w = 60000, t0 = w * 1000;
    /* 100 requests at the very end of one window */
    for (int i = 0; i < 100; i++) assert_true(gw_rl_hit(rl, "k", 100, w, t0 + w - 100 + i).allowed);
    /* a fixed window would admit 100 more right after the boundary; the
     * sliding window still counts almost all of the previous ones */
    assert_false(gw_rl_hit(rl, "k", 100, w, t0 + w + 10).allowed);
    /* halfway through the next window about half the budget is back */
    int admitted = 0;
    for (int i = 0; i < 100; i++) admitted += gw_rl_hit(rl, "k", 100, w, t0 + w + w / 2).allowed;
    assert_true(admitted >= 49 && admitted <= 51);
    /* two windows later everything is forgotten */
    for (int i = 0; i < 100; i++) assert_true(gw_rl_hit(rl, "k", 100, w, t0 + 3 * w + i).allowed);
    gw_rl_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_breaker_cycle),
        cmocka_unit_test(test_ratelimit_exact_boundary),
        cmocka_unit_test(test_ratelimit_slides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
