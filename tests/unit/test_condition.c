/*
 * core/condition: which classes open a condition, what closes each, and
 * that a condition keeps the time it first opened. Times are given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ssemon/core/condition.h"

static void test_classes(void **state)
{
    (void)state;
    assert_true(condition_class_opens(VIOLATION_HEARTBEAT_MISSED));
    assert_true(condition_class_opens(VIOLATION_FIRST_EVENT_LATE));
    assert_true(condition_class_opens(VIOLATION_CONNECT_FAILED));
    assert_true(condition_class_opens(VIOLATION_HTTP_STATUS));
    assert_true(condition_class_opens(VIOLATION_CONTENT_TYPE));
    assert_false(condition_class_opens(VIOLATION_LIFECYCLE_TIMEOUT));
    assert_false(condition_class_opens(VIOLATION_SCHEMA));
    assert_false(condition_class_opens(VIOLATION_STREAM_ENDED));
    for (int i = 0; i < CONDITION_CLASS_COUNT; i++)
        assert_int_equal(condition_index(condition_classes[i]), i);
}

static void test_open_keeps_first_since(void **state)
{
    (void)state;
    struct condition_set s = {0};
    assert_int_equal(condition_count(&s), 0);
    assert_true(condition_open(&s, VIOLATION_HEARTBEAT_MISSED, 1000));
    assert_false(condition_open(&s, VIOLATION_HEARTBEAT_MISSED, 5000));
    assert_int_equal(condition_since(&s, VIOLATION_HEARTBEAT_MISSED), 1000);
    assert_false(condition_open(&s, VIOLATION_SCHEMA, 2000));
    assert_int_equal(condition_count(&s), 1);
    assert_int_equal(condition_since(&s, VIOLATION_SCHEMA), 0);
}

static void test_what_closes_what(void **state)
{
    (void)state;
    struct condition_set s = {0};
    for (int i = 0; i < CONDITION_CLASS_COUNT; i++)
        condition_open(&s, condition_classes[i], 100 + (uint64_t)i);
    assert_int_equal(condition_count(&s), 5);
    /* A stream opening answers the three ways of not getting one. */
    condition_on_stream_open(&s);
    assert_int_equal(condition_count(&s), 2);
    assert_true(condition_is_open(&s, VIOLATION_HEARTBEAT_MISSED));
    assert_true(condition_is_open(&s, VIOLATION_FIRST_EVENT_LATE));
    condition_on_first_event(&s);
    assert_false(condition_is_open(&s, VIOLATION_FIRST_EVENT_LATE));
    assert_true(condition_is_open(&s, VIOLATION_HEARTBEAT_MISSED));
    condition_on_heartbeat(&s);
    assert_int_equal(condition_count(&s), 0);
    /* Reopened later: a new since. */
    assert_true(condition_open(&s, VIOLATION_HEARTBEAT_MISSED, 9000));
    assert_int_equal(condition_since(&s, VIOLATION_HEARTBEAT_MISSED), 9000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_open_keeps_first_since),
        cmocka_unit_test(test_what_closes_what),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
