/*
 * violation: the class vocabulary is a promise (names, ids, priorities,
 * order), so every entry is checked against the list users rely on.
 */
#include "ssemon/core/violation.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* In enum order: name and journald priority of an error (3 for every
 * class: the priority follows the severity alone). */
static const struct {
    const char *name;
    int priority;
} classes[] = {
    {"connect_failed", 3},
    {"http_status", 3},
    {"content_type", 3},
    {"header", 3},
    {"stream_ended", 3},
    {"sse_syntax", 3},
    {"line_too_long", 3},
    {"data_not_json", 3},
    {"unknown_event", 3},
    {"order", 3},
    {"schema", 3},
    {"correlation_id", 3},
    {"heartbeat_missed", 3},
    {"first_event_late", 3},
    {"lifecycle_timeout", 3},
    {"probe_failed", 3},
    {"probe_timeout", 3},
    {"probe_order", 3},
};

static void test_names_in_order(void **state)
{
    (void)state;
    assert_int_equal(sizeof(classes) / sizeof(classes[0]), VIOLATION_CLASS_COUNT);
    for (int c = 0; c < VIOLATION_CLASS_COUNT; c++) {
        assert_string_equal(violation_class_name((enum violation_class)c), classes[c].name);
        assert_int_equal(violation_class_from_name(classes[c].name), c);
        assert_int_equal(violation_priority((enum violation_class)c, VIOLATION_ERROR),
                         classes[c].priority);
        assert_int_equal(violation_priority((enum violation_class)c, VIOLATION_WARNING), 4);
        assert_int_equal(violation_priority((enum violation_class)c, VIOLATION_INFO), 6);
    }
    assert_int_equal(VIOLATION_PROBE_FAILED, 15);
    assert_int_equal(VIOLATION_PROBE_TIMEOUT, 16);
    assert_int_equal(VIOLATION_PROBE_ORDER, 17);
    assert_null(violation_class_name((enum violation_class)VIOLATION_CLASS_COUNT));
    assert_int_equal(violation_class_from_name("probe"), -1);
    assert_int_equal(violation_class_from_name(""), -1);
}

/* One scale: the word and the journald priority of each severity. */
static void test_severity_scale(void **state)
{
    (void)state;
    assert_string_equal(violation_severity_name(VIOLATION_ERROR), "error");
    assert_string_equal(violation_severity_name(VIOLATION_WARNING), "warning");
    assert_string_equal(violation_severity_name(VIOLATION_INFO), "info");
    assert_int_equal(violation_severity_priority(VIOLATION_ERROR), 3);
    assert_int_equal(violation_severity_priority(VIOLATION_WARNING), 4);
    assert_int_equal(violation_severity_priority(VIOLATION_INFO), 6);
}

static void test_message_ids(void **state)
{
    (void)state;
    for (int c = 0; c < VIOLATION_CLASS_COUNT; c++) {
        const char *id = violation_message_id((enum violation_class)c);
        assert_non_null(id);
        assert_int_equal(strlen(id), 32);
        assert_int_equal(strspn(id, "0123456789abcdef"), 32);
        for (int d = 0; d < c; d++)
            assert_string_not_equal(id, violation_message_id((enum violation_class)d));
    }
    /* The ids are promises: users filter on them. */
    assert_string_equal(violation_message_id(VIOLATION_PROBE_FAILED),
                        "cf3e87669ae245098acd515b837d5814");
    assert_string_equal(violation_message_id(VIOLATION_PROBE_TIMEOUT),
                        "94ebaf767ff3423ba2f9766c80424b9c");
    assert_string_equal(violation_message_id(VIOLATION_PROBE_ORDER),
                        "7b509d223870499dbcc4e2ce0369cf72");
    assert_null(violation_message_id((enum violation_class)VIOLATION_CLASS_COUNT));
}

static void test_probe_classes(void **state)
{
    (void)state;
    assert_int_equal(VIOLATION_STREAM_CLASS_COUNT, 15);
    for (int c = 0; c < VIOLATION_CLASS_COUNT; c++)
        assert_int_equal(violation_class_is_probe((enum violation_class)c),
                         c >= VIOLATION_STREAM_CLASS_COUNT);
    assert_false(violation_class_is_probe(VIOLATION_LIFECYCLE_TIMEOUT));
    assert_true(violation_class_is_probe(VIOLATION_PROBE_ORDER));
    assert_false(violation_class_is_probe((enum violation_class)VIOLATION_CLASS_COUNT));
    assert_false(violation_class_is_probe((enum violation_class) - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_in_order),
        cmocka_unit_test(test_severity_scale),
        cmocka_unit_test(test_message_ids),
        cmocka_unit_test(test_probe_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
