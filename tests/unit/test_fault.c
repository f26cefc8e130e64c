/* test_fault.c — the fault-injection spec parser and the hit counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "err.h"
#include "fault.h"

static void test_malformed_specs_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {"x",      "x:",    ":1",     "x:0",      "x:-1",         "x:1,",
                         "x:1,,y:2", "x:1a", "x:2000000", "x:1,y:1,z:1,a:1,b:1,c:1,d:1,e:1,f:1",
                         "a-very-long-fault-point-name-that-goes-on-and-on-and-on:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fault_configure(bad[i]), ERR_CONFIG);
}

static void test_points_fail_n_times(void **state)
{
    (void)state;
    assert_int_equal(fault_configure("a:2,b:1"), 0);
    assert_false(fault_hit("c"));
    assert_true(fault_hit("a"));
    assert_true(fault_hit("b"));
    assert_false(fault_hit("b"));
    assert_true(fault_hit("a"));
    assert_false(fault_hit("a"));
    assert_int_equal(fault_configure(""), 0);
    assert_false(fault_hit("a"));
    assert_int_equal(fault_configure("a:1"), 0);
    assert_int_equal(fault_configure(NULL), 0);
    assert_false(fault_hit("a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_specs_are_refused),
        cmocka_unit_test(test_points_fail_n_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
