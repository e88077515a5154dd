#include "ssemon/core/ratelimit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_burst_then_suppress(void **state)
{
    (void)state;
    struct ratelimit r = {0};
    uint64_t sum;
    for (int i = 0; i < 10; i++) {
        assert_true(ratelimit_take(&r, 1000 + (uint64_t)i, 60000, 10, &sum));
        assert_int_equal(sum, 0);
    }
    for (int i = 0; i < 5; i++) {
        assert_false(ratelimit_take(&r, 2000, 60000, 10, &sum));
        assert_int_equal(sum, 0);
    }
    /* The window (opened at 1000) is over at 61000: the next entry passes and
     * brings the summary of the 5 suppressed ones. */
    assert_false(ratelimit_take(&r, 60999, 60000, 10, &sum));
    assert_int_equal(sum, 0);
    assert_true(ratelimit_take(&r, 61000, 60000, 10, &sum));
    assert_int_equal(sum, 6);
}

static void test_flush_reports_once(void **state)
{
    (void)state;
    struct ratelimit r = {0};
    uint64_t sum;
    assert_true(ratelimit_take(&r, 0, 1000, 1, &sum));
    assert_false(ratelimit_take(&r, 10, 1000, 1, &sum));
    assert_false(ratelimit_take(&r, 20, 1000, 1, &sum));
    assert_int_equal(ratelimit_flush(&r, 999, 1000), 0);
    assert_int_equal(ratelimit_flush(&r, 1000, 1000), 2);
    assert_int_equal(ratelimit_flush(&r, 5000, 1000), 0);
    /* A new window starts fresh. */
    assert_true(ratelimit_take(&r, 6000, 1000, 1, &sum));
    assert_int_equal(sum, 0);
}

static void test_quiet_window_has_no_summary(void **state)
{
    (void)state;
    struct ratelimit r = {0};
    uint64_t sum;
    assert_true(ratelimit_take(&r, 0, 100, 3, &sum));
    assert_int_equal(ratelimit_flush(&r, 500, 100), 0);
    assert_true(ratelimit_take(&r, 600, 100, 3, &sum));
    assert_int_equal(sum, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_suppress),
        cmocka_unit_test(test_flush_reports_once),
        cmocka_unit_test(test_quiet_window_has_no_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
