#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ssemon/core/backoff.h"

#define DRAWS 2000

static void test_defaults(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, 0, 0, 1);
    assert_int_equal(b.bo_min_ms, BACKOFF_DEFAULT_MIN_MS);
    assert_int_equal(b.bo_max_ms, BACKOFF_DEFAULT_MAX_MS);
}

static void test_max_below_min_is_raised(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, 800, 100, 7);
    assert_int_equal(b.bo_max_ms, 800);
    for (int i = 0; i < 20; i++)
        assert_int_equal(backoff_next(&b), 800);
}

static void test_bounds_always_hold(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, 500, 30000, 42);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t d = backoff_next(&b);
        assert_in_range(d, 500, 30000);
    }
}

static void test_growth_and_ranges(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, 100, 100000, 3);
    /* Draw k comes from [100 * 2^k, 100 * 2^(k+1)] until the cap. */
    uint64_t lo = 100;
    for (int k = 0; k < 9; k++) {
        uint64_t hi = lo * 2;
        assert_int_equal(backoff_ceiling(&b), hi);
        uint64_t d = backoff_next(&b);
        assert_in_range(d, lo, hi);
        lo = hi;
    }
    /* 100 * 2^10 = 102400 > cap: from draw 9 on the range is [cap / 2, cap]. */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(backoff_ceiling(&b), 100000);
        assert_in_range(backoff_next(&b), 50000, 100000);
    }
}

static void test_jitter_spreads_values(void **state)
{
    (void)state;
    /* Many clients failing together must not retry in step: over the first
     * range [1000, 2000], draws from different seeds spread over both halves
     * and are not all equal. */
    int low = 0;
    int high = 0;
    uint64_t first = 0;
    bool all_same = true;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct backoff b;
        backoff_init(&b, 1000, 60000, seed);
        uint64_t d = backoff_next(&b);
        assert_in_range(d, 1000, 2000);
        if (seed == 1)
            first = d;
        else if (d != first)
            all_same = false;
        if (d < 1500)
            low++;
        else
            high++;
    }
    assert_false(all_same);
    assert_true(low > 20);
    assert_true(high > 20);
}

static void test_reset_returns_to_first_range(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, 500, 30000, 9);
    for (int i = 0; i < 12; i++)
        (void)backoff_next(&b);
    assert_int_equal(backoff_ceiling(&b), 30000);
    backoff_reset(&b);
    assert_int_equal(backoff_ceiling(&b), 1000);
    assert_in_range(backoff_next(&b), 500, 1000);
    assert_int_equal(backoff_ceiling(&b), 2000);
}

static void test_same_seed_same_sequence(void **state)
{
    (void)state;
    struct backoff a;
    struct backoff b;
    struct backoff c;
    backoff_init(&a, 500, 30000, 12345);
    backoff_init(&b, 500, 30000, 12345);
    backoff_init(&c, 500, 30000, 54321);
    bool differs = false;
    for (int i = 0; i < 40; i++) {
        if (i == 20) {
            backoff_reset(&a);
            backoff_reset(&b);
            backoff_reset(&c);
        }
        uint64_t da = backoff_next(&a);
        assert_int_equal(da, backoff_next(&b));
        if (da != backoff_next(&c))
            differs = true;
    }
    assert_true(differs);
}

static void test_many_failures_do_not_overflow(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, UINT64_MAX / 4, UINT64_MAX / 2, 5);
    for (int i = 0; i < 200; i++)
        assert_in_range(backoff_next(&b), UINT64_MAX / 4, UINT64_MAX / 2);
    backoff_init(&b, 1, 1000, 5);
    b.bo_failures = UINT32_MAX - 1;
    assert_int_equal(backoff_ceiling(&b), 1000);
    assert_in_range(backoff_next(&b), 500, 1000);
    assert_in_range(backoff_next(&b), 500, 1000);
    assert_int_equal(b.bo_failures, UINT32_MAX);
}

static void test_clamp_server_retry(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, 500, 3000, 9);
    /* retry: 0 and anything below the floor wait the floor. */
    assert_int_equal(backoff_clamp(&b, 0), 500);
    assert_int_equal(backoff_clamp(&b, 499), 500);
    /* Inside the range (ends included) the server's value is kept. */
    assert_int_equal(backoff_clamp(&b, 500), 500);
    assert_int_equal(backoff_clamp(&b, 1234), 1234);
    assert_int_equal(backoff_clamp(&b, 3000), 3000);
    /* A day, or a saturated value, waits the ceiling. */
    assert_int_equal(backoff_clamp(&b, 3001), 3000);
    assert_int_equal(backoff_clamp(&b, 86400000), 3000);
    assert_int_equal(backoff_clamp(&b, UINT64_MAX), 3000);
    /* The defaults apply when the bounds are 0. */
    backoff_init(&b, 0, 0, 9);
    assert_int_equal(backoff_clamp(&b, 0), BACKOFF_DEFAULT_MIN_MS);
    assert_int_equal(backoff_clamp(&b, 86400000), BACKOFF_DEFAULT_MAX_MS);
}

static void test_clamp_leaves_the_sequence_alone(void **state)
{
    (void)state;
    struct backoff a;
    struct backoff b;
    backoff_init(&a, 100, 10000, 77);
    backoff_init(&b, 100, 10000, 77);
    for (int i = 0; i < 20; i++) {
        (void)backoff_clamp(&b, (uint64_t)i * 1000);
        assert_int_equal(backoff_ceiling(&a), backoff_ceiling(&b));
        assert_int_equal(backoff_next(&a), backoff_next(&b));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_max_below_min_is_raised),
        cmocka_unit_test(test_bounds_always_hold),
        cmocka_unit_test(test_growth_and_ranges),
        cmocka_unit_test(test_jitter_spreads_values),
        cmocka_unit_test(test_reset_returns_to_first_range),
        cmocka_unit_test(test_same_seed_same_sequence),
        cmocka_unit_test(test_many_failures_do_not_overflow),
        cmocka_unit_test(test_clamp_server_retry),
        cmocka_unit_test(test_clamp_leaves_the_sequence_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
