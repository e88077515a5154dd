/*
 * core/minute_ring: the last hour a minute a point, with injected time:
 * rollover, gaps of several minutes, a gap longer than the ring, a clock
 * going back, reset, lanes.
 */
#include "ssemon/core/minute_ring.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define MIN_MS 60000ull
#define T0 (1795000000000ull / MIN_MS * MIN_MS) /* the start of a minute */

static void read_lane(const struct minute_ring *r, uint64_t now, unsigned lane,
                      uint32_t out[MINUTE_RING_POINTS])
{
    minute_ring_read(r, now, lane, out);
}

static void test_empty(void **state)
{
    (void)state;
    struct minute_ring r;
    minute_ring_reset(&r);
    uint32_t out[MINUTE_RING_POINTS];
    memset(out, 0xff, sizeof(out));
    read_lane(&r, T0, 0, out);
    for (unsigned i = 0; i < MINUTE_RING_POINTS; i++)
        assert_int_equal(out[i], 0);
}

static void test_same_minute_and_rollover(void **state)
{
    (void)state;
    struct minute_ring r;
    minute_ring_reset(&r);
    minute_ring_add(&r, T0 + 1000, 0, 1);
    minute_ring_add(&r, T0 + 59999, 0, 2);
    minute_ring_add(&r, T0 + MIN_MS, 0, 5); /* the next minute */
    uint32_t out[MINUTE_RING_POINTS];
    read_lane(&r, T0 + MIN_MS + 30000, 0, out);
    assert_int_equal(out[59], 5);
    assert_int_equal(out[58], 3);
    assert_int_equal(out[57], 0);
    /* Read a minute later, with nothing new: everything moves back one. */
    read_lane(&r, T0 + 2 * MIN_MS, 0, out);
    assert_int_equal(out[59], 0);
    assert_int_equal(out[58], 5);
    assert_int_equal(out[57], 3);
}

static void test_gap_of_minutes(void **state)
{
    (void)state;
    struct minute_ring r;
    minute_ring_reset(&r);
    for (unsigned m = 0; m < MINUTE_RING_POINTS; m++)
        minute_ring_add(&r, T0 + m * MIN_MS, 1, m + 1); /* the whole ring full */
    /* Silent for 4 minutes, then one: the 4 minutes are 0, not old values. */
    uint64_t later = T0 + (MINUTE_RING_POINTS - 1 + 5) * MIN_MS;
    minute_ring_add(&r, later, 1, 100);
    uint32_t out[MINUTE_RING_POINTS];
    read_lane(&r, later, 1, out);
    assert_int_equal(out[59], 100);
    for (unsigned i = 55; i < 59; i++)
        assert_int_equal(out[i], 0);
    assert_int_equal(out[54], 60); /* the last minute before the silence */
    assert_int_equal(out[0], 6);   /* the oldest the ring still holds */
}

static void test_gap_longer_than_ring(void **state)
{
    (void)state;
    struct minute_ring r;
    minute_ring_reset(&r);
    for (unsigned m = 0; m < 10; m++)
        minute_ring_add(&r, T0 + m * MIN_MS, 0, 7);
    uint64_t later = T0 + 500 * MIN_MS;
    minute_ring_add(&r, later, 0, 1);
    uint32_t out[MINUTE_RING_POINTS];
    read_lane(&r, later, 0, out);
    assert_int_equal(out[59], 1);
    for (unsigned i = 0; i < 59; i++)
        assert_int_equal(out[i], 0);
    /* Read long after the last point: nothing is that recent. */
    read_lane(&r, later + 61 * MIN_MS, 0, out);
    for (unsigned i = 0; i < MINUTE_RING_POINTS; i++)
        assert_int_equal(out[i], 0);
}

static void test_clock_back_max_and_reset(void **state)
{
    (void)state;
    struct minute_ring r;
    minute_ring_reset(&r);
    minute_ring_max(&r, T0 + 5 * MIN_MS, 2, 300);
    minute_ring_max(&r, T0 + 5 * MIN_MS + 10, 2, 200); /* lower: kept 300 */
    minute_ring_max(&r, T0 + 2 * MIN_MS, 2, 900);      /* clock back: the newest minute */
    minute_ring_add(&r, T0 + 5 * MIN_MS, 0, UINT32_MAX);
    minute_ring_add(&r, T0 + 5 * MIN_MS, 0, 5);    /* saturates */
    minute_ring_add(&r, T0, MINUTE_RING_LANES, 1); /* no such lane: ignored */
    uint32_t out[MINUTE_RING_POINTS];
    read_lane(&r, T0 + 5 * MIN_MS, 2, out);
    assert_int_equal(out[59], 900);
    assert_int_equal(out[56], 0);
    read_lane(&r, T0 + 5 * MIN_MS, 0, out);
    assert_int_equal(out[59], UINT32_MAX);
    read_lane(&r, T0 + 5 * MIN_MS, 1, out);
    assert_int_equal(out[59], 0);
    minute_ring_reset(&r);
    read_lane(&r, T0 + 5 * MIN_MS, 2, out);
    assert_int_equal(out[59], 0);
    minute_ring_add(&r, T0 + 9 * MIN_MS, 0, 1); /* starts afresh */
    read_lane(&r, T0 + 9 * MIN_MS, 0, out);
    assert_int_equal(out[59], 1);
    assert_int_equal(out[55], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_same_minute_and_rollover),
        cmocka_unit_test(test_gap_of_minutes),
        cmocka_unit_test(test_gap_longer_than_ring),
        cmocka_unit_test(test_clock_back_max_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
