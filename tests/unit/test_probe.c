/*
 * core/probe: the state machine of one probe run with injected time, the
 * matching of expected values, captures, scheduling jitter and delivery
 * windows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "ssemon/base/utf8.h"
#include "ssemon/core/probe.h"
#include "ssemon/json/json_tape.h"

#define TASK_X "3f2a9c1e-7b4d-4e8a-9f10-2c3d4e5f6a7b"
#define TASK_Y "0b5e2a3c-1d4f-4a6b-9c8d-7e6f5a4b3c2d"
#define T0 1000u

/* One payload tape per test; the texts are string literals, alive for the
 * whole test. */
struct fixture {
    struct json_tape tape;
};

static int fx_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    json_tape_init(&fx->tape);
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fixture *fx = *state;
    json_tape_free(&fx->tape);
    free(fx);
    return 0;
}

static const struct json_tape *payload(struct fixture *fx, const char *json)
{
    assert_int_equal(json_tape_parse(&fx->tape, json, strlen(json), NULL), JSON_TAPE_OK);
    return &fx->tape;
}

/* Delivers event kind:variant with payload `json` on `sub` at `now`. */
static size_t ev(struct fixture *fx, struct probe_run *r, uint64_t now, size_t sub,
                 const char *kind, const char *variant, const char *json)
{
    if (json == NULL)
        return probe_run_event(r, now, sub, kind, variant, NULL, JSON_TAPE_NONE);
    return probe_run_event(r, now, sub, kind, variant, payload(fx, json), 0);
}

static const struct probe_match match_x[] = {{"/task_id", TASK_X, false}};

/* The example: task_started within 2 s, task_completed within 10 s,
 * both of task X, on subscription 0. */
static struct probe_run *two_step_run(void)
{
    const struct probe_step_def defs[] = {
        {0, "task_event", "task_started", match_x, 1, 2000},
        {0, "task_event", "task_completed", match_x, 1, 10000},
    };
    struct probe_run *r = probe_run_new(defs, 2, T0);
    assert_non_null(r);
    return r;
}

static void test_two_steps_with_other_tasks_interleaved(void **state)
{
    struct fixture *fx = *state;
    struct probe_run *r = two_step_run();
    char msg[256];

    assert_int_equal(probe_run_step_count(r), 2);
    assert_int_equal(probe_run_started_ms(r), T0);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_RUNNING);
    assert_int_equal(probe_run_next_deadline(r), T0 + 2000 + 1);
    assert_int_equal(probe_run_step_delivery_ms(r, 0), UINT64_MAX);
    assert_int_equal(probe_run_step_settled_ms(r, 0), 0);

    /* Another task's events, and a version event: ignored. */
    assert_int_equal(ev(fx, r, T0 + 5, 0, "task_event", "task_started",
                        "{\"task_id\":\"" TASK_Y "\",\"event_type\":\"task_started\"}"),
                     SIZE_MAX);
    assert_int_equal(ev(fx, r, T0 + 6, 0, "version", NULL, "{\"version\":\"1.2.3\"}"), SIZE_MAX);
    assert_int_equal(ev(fx, r, T0 + 7, 0, "task_event", "task_completed",
                        "{\"task_id\":\"" TASK_Y "\",\"event_type\":\"task_completed\"}"),
                     SIZE_MAX);
    assert_int_equal(probe_run_step_state(r, 0), PROBE_STEP_PENDING);
    assert_int_equal(probe_run_step_state(r, 1), PROBE_STEP_PENDING);

    assert_int_equal(ev(fx, r, T0 + 20, 0, "task_event", "task_started",
                        "{\"task_id\":\"" TASK_X "\",\"event_type\":\"task_started\"}"),
                     0);
    assert_int_equal(probe_run_step_state(r, 0), PROBE_STEP_MET);
    assert_int_equal(probe_run_step_delivery_ms(r, 0), 20);
    assert_int_equal(probe_run_step_settled_ms(r, 0), T0 + 20);
    assert_int_equal(probe_run_next_deadline(r), T0 + 10000 + 1);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_RUNNING);

    /* Progress updates of X, repeated, and Y's again: ignored. */
    for (int k = 0; k < 3; k++)
        assert_int_equal(ev(fx, r, T0 + 100 + (uint64_t)k, 0, "task_event", "progress_update",
                            "{\"task_id\":\"" TASK_X "\",\"event_type\":\"progress_update\"}"),
                         SIZE_MAX);
    /* A second task_started of X meets nothing: step 0 is settled. */
    assert_int_equal(
        ev(fx, r, T0 + 200, 0, "task_event", "task_started", "{\"task_id\":\"" TASK_X "\"}"),
        SIZE_MAX);
    assert_int_equal(probe_run_step_delivery_ms(r, 0), 20);

    assert_int_equal(ev(fx, r, T0 + 500, 0, "task_event", "task_completed",
                        "{\"task_id\":\"" TASK_X "\",\"event_type\":\"task_completed\"}"),
                     1);
    assert_int_equal(probe_run_step_state(r, 1), PROBE_STEP_MET);
    assert_int_equal(probe_run_step_delivery_ms(r, 1), 500);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_OK);
    assert_int_equal(probe_run_next_deadline(r), UINT64_MAX);
    assert_int_equal(probe_run_step_blocked_by(r, 1), SIZE_MAX);

    probe_run_step_describe(r, 1, "gateway-main", msg, sizeof(msg));
    assert_string_equal(msg, "gateway-main: task_event:task_completed with /task_id == \"" TASK_X
                             "\" arrived after 500 ms");
    /* A tick after the end changes nothing. */
    probe_run_tick(r, T0 + 100000);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_OK);
    probe_run_free(r);
}

static void test_order_failure(void **state)
{
    struct fixture *fx = *state;
    struct probe_run *r = two_step_run();
    char msg[256];

    assert_int_equal(
        ev(fx, r, T0 + 30, 0, "task_event", "task_completed", "{\"task_id\":\"" TASK_X "\"}"), 1);
    assert_int_equal(probe_run_step_state(r, 1), PROBE_STEP_EARLY);
    assert_int_equal(probe_run_step_blocked_by(r, 1), 0);
    assert_int_equal(probe_run_step_delivery_ms(r, 1), 30);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_RUNNING);
    probe_run_step_describe(r, 1, "gateway-main", msg, sizeof(msg));
    assert_string_equal(msg, "gateway-main: task_event:task_completed arrived before "
                             "task_event:task_started (step 2 met before step 1)");

    /* The earlier step can still be met, in order. */
    assert_int_equal(
        ev(fx, r, T0 + 40, 0, "task_event", "task_started", "{\"task_id\":\"" TASK_X "\"}"), 0);
    assert_int_equal(probe_run_step_state(r, 0), PROBE_STEP_MET);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_FAILED);
    probe_run_step_describe(r, 1, "gateway-main", msg, sizeof(msg));
    assert_string_equal(msg, "gateway-main: task_event:task_started arrived after "
                             "task_event:task_completed (step 2 met before step 1)");
    assert_string_equal(probe_step_state_name(probe_run_step_state(r, 1)), "order");
    probe_run_free(r);
}

static void test_timeout_of_step_two(void **state)
{
    struct fixture *fx = *state;
    struct probe_run *r = two_step_run();
    char msg[256];

    assert_int_equal(
        ev(fx, r, T0 + 100, 0, "task_event", "task_started", "{\"task_id\":\"" TASK_X "\"}"), 0);
    probe_run_tick(r, T0 + 5000);
    assert_int_equal(probe_run_step_state(r, 1), PROBE_STEP_PENDING);
    /* Deadlines are inclusive: at T0 + 10000 the step may still be met. */
    probe_run_tick(r, T0 + 10000);
    assert_int_equal(probe_run_step_state(r, 1), PROBE_STEP_PENDING);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_RUNNING);
    assert_int_equal(probe_run_next_deadline(r), T0 + 10001);
    probe_run_tick(r, T0 + 10003);
    assert_int_equal(probe_run_step_state(r, 0), PROBE_STEP_MET);
    assert_int_equal(probe_run_step_state(r, 1), PROBE_STEP_TIMEOUT);
    assert_int_equal(probe_run_step_settled_ms(r, 1), T0 + 10003);
    assert_int_equal(probe_run_step_delivery_ms(r, 1), UINT64_MAX);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_FAILED);
    assert_int_equal(probe_run_next_deadline(r), UINT64_MAX);
    probe_run_step_describe(r, 1, "gateway-main", msg, sizeof(msg));
    assert_string_equal(msg, "gateway-main: no task_event:task_completed with /task_id == \"" TASK_X
                             "\" within 10000 ms (waited 10003 ms)");
    /* Too late now. */
    assert_int_equal(
        ev(fx, r, T0 + 10004, 0, "task_event", "task_completed", "{\"task_id\":\"" TASK_X "\"}"),
        SIZE_MAX);
    assert_int_equal(probe_run_step_state(r, 1), PROBE_STEP_TIMEOUT);
    probe_run_free(r);
}

static void test_event_exactly_at_the_deadline(void **state)
{
    struct fixture *fx = *state;
    const struct probe_step_def defs[] = {{0, "ping", NULL, NULL, 0, 100}};

    /* At the deadline: met, whether or not a tick at that moment came first. */
    struct probe_run *r = probe_run_new(defs, 1, T0);
    assert_non_null(r);
    probe_run_tick(r, T0 + 100);
    assert_int_equal(ev(fx, r, T0 + 100, 0, "ping", NULL, NULL), 0);
    assert_int_equal(probe_run_step_state(r, 0), PROBE_STEP_MET);
    assert_int_equal(probe_run_step_delivery_ms(r, 0), 100);
    probe_run_free(r);

    /* One ms past it, with no tick in between: the event finds the step
     * timed out. */
    r = probe_run_new(defs, 1, T0);
    assert_non_null(r);
    assert_int_equal(ev(fx, r, T0 + 101, 0, "ping", NULL, NULL), SIZE_MAX);
    assert_int_equal(probe_run_step_state(r, 0), PROBE_STEP_TIMEOUT);
    assert_int_equal(probe_run_step_settled_ms(r, 0), T0 + 101);
    probe_run_free(r);

    /* within 0: only an event at the very start meets it. */
    const struct probe_step_def zero[] = {{0, "ping", NULL, NULL, 0, 0}};
    r = probe_run_new(zero, 1, T0);
    assert_non_null(r);
    assert_int_equal(probe_run_next_deadline(r), T0 + 1);
    assert_int_equal(ev(fx, r, T0, 0, "ping", NULL, NULL), 0);
    probe_run_free(r);

    /* A deadline beyond the end of time never passes. */
    const struct probe_step_def forever[] = {{0, "ping", NULL, NULL, 0, UINT64_MAX}};
    r = probe_run_new(forever, 1, T0);
    assert_non_null(r);
    assert_int_equal(probe_run_next_deadline(r), UINT64_MAX);
    probe_run_tick(r, UINT64_MAX);
    assert_int_equal(probe_run_step_state(r, 0), PROBE_STEP_PENDING);
    probe_run_free(r);
}

static void test_events_before_start_ignored(void **state)
{
    struct fixture *fx = *state;
    struct probe_run *r = two_step_run();

    assert_int_equal(
        ev(fx, r, T0 - 1, 0, "task_event", "task_started", "{\"task_id\":\"" TASK_X "\"}"),
        SIZE_MAX);
    assert_int_equal(probe_run_step_state(r, 0), PROBE_STEP_PENDING);
    /* At the start itself it counts (the trigger request has started). */
    assert_int_equal(ev(fx, r, T0, 0, "task_event", "task_started", "{\"task_id\":\"" TASK_X "\"}"),
                     0);
    assert_int_equal(probe_run_step_delivery_ms(r, 0), 0);
    probe_run_free(r);
}

static bool holds(struct fixture *fx, const char *json, const char *ptr, const char *value,
                  bool literal)
{
    const struct probe_match m = {ptr, value, literal};
    return probe_match_holds(payload(fx, json), 0, &m);
}

static void test_literal_numbers_compare_as_json(void **state)
{
    struct fixture *fx = *state;

    assert_true(holds(fx, "{\"n\":1}", "/n", "1", true));
    assert_true(holds(fx, "{\"n\":1.0}", "/n", "1", true));
    assert_true(holds(fx, "{\"n\":1}", "/n", "1.0", true));
    assert_true(holds(fx, "{\"n\":1e0}", "/n", "10e-1", true));
    assert_true(holds(fx, "{\"n\":-0}", "/n", "0.0", true));
    assert_false(holds(fx, "{\"n\":1.5}", "/n", "1", true));
    assert_false(holds(fx, "{\"n\":2}", "/n", "1", true));
    /* Exact: 2^53 + 1 is not the double 2^53. */
    assert_false(holds(fx, "{\"n\":9007199254740993}", "/n", "9007199254740992.0", true));
    assert_true(holds(fx, "{\"n\":9007199254740992}", "/n", "9007199254740992.0", true));
    assert_false(holds(fx, "{\"n\":1e300}", "/n", "9223372036854775807", true));
    /* A literal compares with JSON values, never strings. */
    assert_false(holds(fx, "{\"n\":\"1\"}", "/n", "1", true));
    assert_true(holds(fx, "{\"b\":true}", "/b", "true", true));
    assert_false(holds(fx, "{\"b\":false}", "/b", "true", true));
    assert_false(holds(fx, "{\"b\":1}", "/b", "true", true));
    assert_true(holds(fx, "{\"z\":null}", "/z", "null", true));
    assert_false(holds(fx, "{\"z\":0}", "/z", "null", true));
    assert_false(holds(fx, "{}", "/z", "null", true));
    /* Not literal JSON: never holds. */
    assert_false(holds(fx, "{\"n\":1}", "/n", "01", true));
    assert_false(holds(fx, "{\"n\":1}", "/n", " 1", true));
    assert_false(holds(fx, "{\"n\":1}", "/n", "\"1\"", true));

    /* The same inside a run: a task that reports step 1 as 1.0. */
    const struct probe_match m[] = {{"/data/step", "1", true}};
    const struct probe_step_def defs[] = {{0, "task_event", "progress_update", m, 1, 1000}};
    struct probe_run *r = probe_run_new(defs, 1, T0);
    assert_non_null(r);
    assert_int_equal(
        ev(fx, r, T0 + 1, 0, "task_event", "progress_update", "{\"data\":{\"step\":2.0}}"),
        SIZE_MAX);
    assert_int_equal(
        ev(fx, r, T0 + 2, 0, "task_event", "progress_update", "{\"data\":{\"step\":1.0}}"), 0);
    probe_run_free(r);
}

static void test_string_expected_number_received(void **state)
{
    struct fixture *fx = *state;

    assert_false(holds(fx, "{\"n\":1}", "/n", "1", false));
    assert_false(holds(fx, "{\"n\":true}", "/n", "true", false));
    assert_false(holds(fx, "{\"n\":null}", "/n", "null", false));
    assert_true(holds(fx, "{\"n\":\"1\"}", "/n", "1", false));
    /* Decoded values are compared. */
    assert_true(holds(fx, "{\"s\":\"a\\u00e9\\/b\"}", "/s", "a\xc3\xa9/b", false));
    assert_false(holds(fx, "{\"s\":\"a\\u0000\"}", "/s", "a", false));
    assert_false(holds(fx, "{\"s\":\"ab\"}", "/s", "a", false));
    /* Pointers: escapes, arrays, the whole payload. */
    assert_true(holds(fx, "{\"a/b\":{\"c~d\":[\"x\",\"y\"]}}", "/a~1b/c~0d/1", "y", false));
    assert_true(holds(fx, "\"whole\"", "", "whole", false));
    assert_false(holds(fx, "{\"n\":\"1\"}", "/m", "1", false));

    /* No payload (a text event): a match never holds. */
    const struct probe_match m = {"/n", "1", false};
    assert_false(probe_match_holds(NULL, 0, &m));
    assert_false(probe_match_holds(payload(fx, "{\"n\":\"1\"}"), JSON_TAPE_NONE, &m));

    const struct probe_step_def defs[] = {{0, "e", NULL, &m, 1, 1000}};
    struct probe_run *r = probe_run_new(defs, 1, T0);
    assert_non_null(r);
    assert_int_equal(ev(fx, r, T0 + 1, 0, "e", NULL, NULL), SIZE_MAX);
    assert_int_equal(ev(fx, r, T0 + 2, 0, "e", NULL, "{\"n\":1}"), SIZE_MAX);
    assert_int_equal(ev(fx, r, T0 + 3, 0, "e", NULL, "{\"n\":\"1\"}"), 0);
    probe_run_free(r);
}

static void test_variant_null_is_any(void **state)
{
    struct fixture *fx = *state;
    const struct probe_step_def defs[] = {
        {0, "task_event", NULL, NULL, 0, 1000},
        {0, "task_event", NULL, NULL, 0, 1000},
        {0, "task_event", "task_completed", NULL, 0, 1000},
    };
    struct probe_run *r = probe_run_new(defs, 3, T0);
    assert_non_null(r);

    assert_int_equal(ev(fx, r, T0 + 1, 0, "task_event", "whatever", "{}"), 0);
    assert_int_equal(ev(fx, r, T0 + 2, 0, "task_event", NULL, "{}"), 1);
    /* A named variant needs that variant. */
    assert_int_equal(ev(fx, r, T0 + 3, 0, "task_event", NULL, "{}"), SIZE_MAX);
    assert_int_equal(ev(fx, r, T0 + 4, 0, "task_event", "task_started", "{}"), SIZE_MAX);
    assert_int_equal(ev(fx, r, T0 + 5, 0, "task_eventx", "task_completed", "{}"), SIZE_MAX);
    assert_int_equal(ev(fx, r, T0 + 6, 0, "task_event", "task_completed", "{}"), 2);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_OK);
    probe_run_free(r);
}

static void test_two_subscriptions(void **state)
{
    struct fixture *fx = *state;
    /* The same task through two paths: step 0 on subscription 3, step 1 on
     * subscription 7. */
    const struct probe_step_def defs[] = {
        {3, "task_event", "task_completed", match_x, 1, 1000},
        {7, "task_event", "task_completed", match_x, 1, 1000},
    };
    struct probe_run *r = probe_run_new(defs, 2, T0);
    assert_non_null(r);
    const char *done = "{\"task_id\":\"" TASK_X "\"}";

    /* On a subscription of no step: ignored. */
    assert_int_equal(ev(fx, r, T0 + 1, 5, "task_event", "task_completed", done), SIZE_MAX);
    assert_int_equal(ev(fx, r, T0 + 2, 3, "task_event", "task_completed", done), 0);
    /* The same event again on subscription 3 does not meet step 1. */
    assert_int_equal(ev(fx, r, T0 + 3, 3, "task_event", "task_completed", done), SIZE_MAX);
    assert_int_equal(ev(fx, r, T0 + 9, 7, "task_event", "task_completed", done), 1);
    assert_int_equal(probe_run_step_delivery_ms(r, 0), 2);
    assert_int_equal(probe_run_step_delivery_ms(r, 1), 9);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_OK);
    probe_run_free(r);

    /* Order is across the whole list: subscription 7 first is an order
     * failure. */
    r = probe_run_new(defs, 2, T0);
    assert_non_null(r);
    assert_int_equal(ev(fx, r, T0 + 1, 7, "task_event", "task_completed", done), 1);
    assert_int_equal(probe_run_step_state(r, 1), PROBE_STEP_EARLY);
    assert_int_equal(ev(fx, r, T0 + 2, 3, "task_event", "task_completed", done), 0);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_FAILED);
    probe_run_free(r);
}

static void test_abort(void **state)
{
    struct fixture *fx = *state;
    struct probe_run *r = two_step_run();
    char msg[256];

    assert_int_equal(
        ev(fx, r, T0 + 10, 0, "task_event", "task_started", "{\"task_id\":\"" TASK_X "\"}"), 0);
    probe_run_abort(r, T0 + 50);
    assert_int_equal(probe_run_step_state(r, 0), PROBE_STEP_MET);
    assert_int_equal(probe_run_step_state(r, 1), PROBE_STEP_ABANDONED);
    assert_int_equal(probe_run_step_settled_ms(r, 1), T0 + 50);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_FAILED);
    assert_int_equal(probe_run_next_deadline(r), UINT64_MAX);
    assert_int_equal(
        ev(fx, r, T0 + 60, 0, "task_event", "task_completed", "{\"task_id\":\"" TASK_X "\"}"),
        SIZE_MAX);
    probe_run_tick(r, T0 + 100000);
    assert_int_equal(probe_run_step_state(r, 1), PROBE_STEP_ABANDONED);
    probe_run_step_describe(r, 1, "gateway-main", msg, sizeof(msg));
    assert_string_equal(msg, "gateway-main: task_event:task_completed with /task_id == \"" TASK_X
                             "\" abandoned: the trigger failed");
    assert_string_equal(probe_step_state_name(PROBE_STEP_ABANDONED), "abandoned");
    probe_run_free(r);

    /* A run with streams only: OK at once, FAILED when aborted. */
    r = probe_run_new(NULL, 0, T0);
    assert_non_null(r);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_OK);
    assert_int_equal(probe_run_next_deadline(r), UINT64_MAX);
    assert_int_equal(ev(fx, r, T0 + 1, 0, "x", NULL, NULL), SIZE_MAX);
    probe_run_abort(r, T0 + 2);
    assert_int_equal(probe_run_outcome(r), PROBE_OUTCOME_FAILED);
    probe_run_free(r);
    probe_run_free(NULL);
}

static void test_new_refuses_bad_defs(void **state)
{
    (void)state;
    struct probe_step_def many[PROBE_MAX_STEPS + 1];
    for (size_t i = 0; i < PROBE_MAX_STEPS + 1; i++)
        many[i] = (struct probe_step_def){0, "e", NULL, NULL, 0, 10};
    struct probe_run *r = probe_run_new(many, PROBE_MAX_STEPS, T0);
    assert_non_null(r);
    assert_int_equal(probe_run_step_count(r), PROBE_MAX_STEPS);
    probe_run_free(r);
    errno = 0;
    assert_null(probe_run_new(many, PROBE_MAX_STEPS + 1, T0));
    assert_int_equal(errno, EINVAL);
    assert_null(probe_run_new(NULL, 1, T0));

    char *longv = malloc(PROBE_VALUE_MAX + 2);
    assert_non_null(longv);
    memset(longv, 'v', PROBE_VALUE_MAX + 1);
    longv[PROBE_VALUE_MAX + 1] = '\0';
    struct probe_match m = {"/a", longv, false};
    struct probe_step_def d = {0, "e", NULL, &m, 1, 10};
    errno = 0;
    assert_null(probe_run_new(&d, 1, T0));
    assert_int_equal(errno, EINVAL);
    longv[PROBE_VALUE_MAX] = '\0'; /* exactly the maximum */
    r = probe_run_new(&d, 1, T0);
    assert_non_null(r);
    probe_run_free(r);
    free(longv);

    const struct probe_match bad[] = {
        {"/a", "1x", true},
        {"/a", "01", true},
        {"/a", "1.", true},
        {"/a", "1e", true},
        {"/a", "nan", true},
        {"/a", "1e999", true},
        {"/a", "9223372036854775808", true},
        {"a", "x", false},
        {"/a~2", "x", false},
        {"/a~", "x", false},
        {NULL, "x", false},
        {"/a", NULL, false},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        struct probe_step_def bd = {0, "e", NULL, &bad[k], 1, 10};
        errno = 0;
        assert_null(probe_run_new(&bd, 1, T0));
        assert_int_equal(errno, EINVAL);
    }
    const struct probe_match good[] = {
        {"/a", "-0", true},    {"/a", "1e-999", true}, {"/a", "-12.5E+3", true},
        {"/a", "false", true}, {"", "x", false},       {"/~0~1", "", false},
    };
    for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
        struct probe_step_def gd = {0, "e", NULL, &good[k], 1, 10};
        r = probe_run_new(&gd, 1, T0);
        assert_non_null(r);
        probe_run_free(r);
    }
    struct probe_step_def nokind = {0, NULL, NULL, NULL, 0, 10};
    assert_null(probe_run_new(&nokind, 1, T0));
    struct probe_step_def emptykind = {0, "", NULL, NULL, 0, 10};
    assert_null(probe_run_new(&emptykind, 1, T0));
    struct probe_match sixteen[PROBE_MAX_MATCH + 1];
    for (size_t k = 0; k < PROBE_MAX_MATCH + 1; k++)
        sixteen[k] = (struct probe_match){"/a", "x", false};
    struct probe_step_def toomany = {0, "e", NULL, sixteen, PROBE_MAX_MATCH + 1, 10};
    assert_null(probe_run_new(&toomany, 1, T0));
    toomany.psd_n_match = PROBE_MAX_MATCH;
    r = probe_run_new(&toomany, 1, T0);
    assert_non_null(r);
    probe_run_free(r);
}

static void test_defs_are_copied(void **state)
{
    struct fixture *fx = *state;
    char kind[] = "task_event", variant[] = "task_started", ptr[] = "/task_id";
    char value[] = TASK_X;
    struct probe_match m = {ptr, value, false};
    struct probe_step_def d = {0, kind, variant, &m, 1, 1000};
    struct probe_run *r = probe_run_new(&d, 1, T0);
    assert_non_null(r);
    memset(kind, 'z', sizeof(kind) - 1);
    memset(variant, 'z', sizeof(variant) - 1);
    memset(ptr, 'z', sizeof(ptr) - 1);
    memset(value, 'z', sizeof(value) - 1);
    assert_int_equal(
        ev(fx, r, T0 + 1, 0, "task_event", "task_started", "{\"task_id\":\"" TASK_X "\"}"), 0);
    probe_run_free(r);
}

static void test_describe_is_bounded(void **state)
{
    struct fixture *fx = *state;
    char longv[200];
    memset(longv, 'a', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    longv[3] = '"';
    longv[4] = '\n';
    const struct probe_match m[] = {{"/s", longv, false}, {"/n", "1.5", true}};
    const struct probe_step_def d[] = {{0, "e", NULL, m, 2, 10}};
    struct probe_run *r = probe_run_new(d, 1, T0);
    assert_non_null(r);
    char msg[512];

    probe_run_step_describe(r, 0, "sub", msg, sizeof(msg));
    assert_string_equal(msg, "sub: waiting for e with /s == \"aaa\\\"\\u000a"
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" and "
                             "/n == 1.5 within 10 ms");
    probe_run_tick(r, T0 + 11);
    probe_run_step_describe(r, 0, NULL, msg, sizeof(msg));
    assert_true(strncmp(msg, "?: no e with /s == ", 19) == 0);

    /* Cut to the buffer, NUL-terminated, never inside a character. */
    const char *name = "caf\xc3\xa9";
    for (size_t cap = 1; cap < 12; cap++) {
        memset(msg, 'X', sizeof(msg));
        probe_run_step_describe(r, 0, name, msg, cap);
        size_t len = strlen(msg);
        assert_true(len < cap);
        assert_true(utf8_valid(msg, len));
    }
    probe_run_step_describe(r, 0, name, msg, 5);
    assert_string_equal(msg, "caf");
    msg[0] = 'X';
    probe_run_step_describe(r, 0, name, msg, 0);
    assert_int_equal(msg[0], 'X');
    (void)fx;
    probe_run_free(r);
}

static char *cap_of(struct fixture *fx, const char *json, const char *ptr, const char **why)
{
    const struct json_tape *t = payload(fx, json);
    *why = NULL;
    return probe_capture(t, json_tape_root(t), ptr, why);
}

static void test_capture(void **state)
{
    struct fixture *fx = *state;
    const char *doc = "{\"task_id\":\"" TASK_X "\",\"n\":12.50,\"i\":-3,\"b\":true,\"f\":false,"
                      "\"z\":null,\"o\":{\"k\":\"v\"},\"a\":[1],\"e\":\"\",\"u\":\"a\\u00e9\","
                      "\"nul\":\"a\\u0000b\"}";
    const char *why;
    char *v;

    v = cap_of(fx, doc, "/task_id", &why);
    assert_string_equal(v, TASK_X);
    free(v);
    v = cap_of(fx, doc, "/n", &why);
    assert_string_equal(v, "12.50"); /* as written */
    free(v);
    v = cap_of(fx, doc, "/i", &why);
    assert_string_equal(v, "-3");
    free(v);
    v = cap_of(fx, doc, "/b", &why);
    assert_string_equal(v, "true");
    free(v);
    v = cap_of(fx, doc, "/f", &why);
    assert_string_equal(v, "false");
    free(v);
    v = cap_of(fx, doc, "/e", &why);
    assert_string_equal(v, "");
    free(v);
    v = cap_of(fx, doc, "/u", &why);
    assert_string_equal(v, "a\xc3\xa9");
    free(v);
    v = cap_of(fx, doc, "/o/k", &why);
    assert_string_equal(v, "v");
    free(v);

    assert_null(cap_of(fx, doc, "/z", &why));
    assert_string_equal(why, "not a scalar");
    assert_null(cap_of(fx, doc, "/o", &why));
    assert_string_equal(why, "not a scalar");
    assert_null(cap_of(fx, doc, "/a", &why));
    assert_string_equal(why, "not a scalar");
    assert_null(cap_of(fx, doc, "/missing", &why));
    assert_string_equal(why, "missing");
    assert_null(cap_of(fx, doc, "bad", &why));
    assert_string_equal(why, "missing");
    assert_null(cap_of(fx, doc, "/nul", &why));
    assert_string_equal(why, "contains U+0000");
    /* A number at the top level is captured whole. */
    v = cap_of(fx, "42", "", &why);
    assert_string_equal(v, "42");
    free(v);
    why = NULL;
    assert_null(probe_capture(NULL, 0, "/x", &why));
    assert_string_equal(why, "missing");
    assert_null(probe_capture(NULL, 0, "/x", NULL));

    /* Too long: more than PROBE_VALUE_MAX bytes; exactly that many is fine. */
    size_t len = PROBE_VALUE_MAX + 1;
    char *big = malloc(len + 16);
    assert_non_null(big);
    memcpy(big, "{\"s\":\"", 6);
    memset(big + 6, 'x', len);
    memcpy(big + 6 + len, "\"}", 3);
    assert_null(cap_of(fx, big, "/s", &why));
    assert_string_equal(why, "too long");
    memcpy(big + 6 + PROBE_VALUE_MAX, "\"}", 3);
    v = cap_of(fx, big, "/s", &why);
    assert_non_null(v);
    assert_int_equal(strlen(v), PROBE_VALUE_MAX);
    free(v);
    free(big);
}

/* splitmix64: deterministic "random" values for the scheduling test. */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void check_due_bounds(uint64_t every, uint64_t j)
{
    uint64_t seed = every;
    uint64_t start = 1000000, lo = start + every - j, hi = start + every + j;
    bool below = false, above = false;
    for (int k = 0; k < 20000; k++) {
        uint64_t due = probe_next_due(start, start, every, mix(&seed));
        assert_in_range(due, lo, hi);
        below |= due < start + every;
        above |= due > start + every;
    }
    if (j > 0) {
        /* The jitter goes both ways, and reaches both ends. */
        assert_true(below && above);
        assert_int_equal(probe_next_due(start, 0, every, 0), lo);
        assert_int_equal(probe_next_due(start, 0, every, 2 * j), hi);
        assert_int_equal(probe_next_due(start, 0, every, 2 * j + 1), lo);
    }
}

static void test_next_due(void **state)
{
    (void)state;
    check_due_bounds(60000, 5000);  /* j = min(6000, 5000) */
    check_due_bounds(10000, 1000);  /* j = every / 10 */
    check_due_bounds(300000, 5000); /* capped */
    check_due_bounds(9, 0);         /* no room for jitter */
    check_due_bounds(0, 0);

    /* Never before the last run finished, however long it took. */
    uint64_t seed = 7;
    for (int k = 0; k < 1000; k++) {
        uint64_t fin = 1000 + 55000 + (uint64_t)k * 10;
        uint64_t due = probe_next_due(1000, fin, 60000, mix(&seed));
        assert_true(due >= fin);
        assert_true(due >= 1000 + 60000 - 5000);
    }
    assert_int_equal(probe_next_due(1000, 200000, 60000, 123), 200000);
    /* Saturates instead of wrapping. */
    assert_int_equal(probe_next_due(UINT64_MAX - 10, 0, 60000, 0), UINT64_MAX);
}

static void test_window_quantiles(void **state)
{
    (void)state;
    struct probe_window w = {0};
    assert_int_equal(probe_window_quantile(&w, 0.5), UINT64_MAX);

    probe_window_add(&w, 42);
    assert_int_equal(probe_window_quantile(&w, 0.0), 42);
    assert_int_equal(probe_window_quantile(&w, 0.99), 42);

    /* 1..100 in a scrambled order. */
    w = (struct probe_window){0};
    for (uint64_t k = 0; k < 100; k++)
        probe_window_add(&w, (k * 37) % 100 + 1);
    assert_int_equal(w.pw_n, 100);
    assert_int_equal(probe_window_quantile(&w, 0.0), 1);
    assert_int_equal(probe_window_quantile(&w, 0.01), 1);
    assert_int_equal(probe_window_quantile(&w, 0.5), 50);
    assert_int_equal(probe_window_quantile(&w, 0.505), 51);
    assert_int_equal(probe_window_quantile(&w, 0.99), 99);
    assert_int_equal(probe_window_quantile(&w, 1.0), 100);
    assert_int_equal(probe_window_quantile(&w, 7.0), 100);
    assert_int_equal(probe_window_quantile(&w, -1.0), 1);

    /* Only the last PROBE_WINDOW values count: 1000 values of 1, then 256
     * of 500 replace them all. */
    w = (struct probe_window){0};
    for (int k = 0; k < 1000; k++)
        probe_window_add(&w, 1);
    for (int k = 0; k < PROBE_WINDOW - 1; k++)
        probe_window_add(&w, 500);
    assert_int_equal(w.pw_n, PROBE_WINDOW);
    assert_int_equal(probe_window_quantile(&w, 0.0), 1);
    assert_int_equal(probe_window_quantile(&w, 0.5), 500);
    probe_window_add(&w, 500);
    assert_int_equal(probe_window_quantile(&w, 0.0), 500);
    /* Huge values saturate. */
    probe_window_add(&w, UINT64_MAX);
    assert_int_equal(probe_window_quantile(&w, 1.0), UINT32_MAX);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(probe_step_state_name(PROBE_STEP_PENDING), "pending");
    assert_string_equal(probe_step_state_name(PROBE_STEP_MET), "ok");
    assert_string_equal(probe_step_state_name(PROBE_STEP_EARLY), "order");
    assert_string_equal(probe_step_state_name(PROBE_STEP_TIMEOUT), "timeout");
    assert_string_equal(probe_step_state_name(PROBE_STEP_ABANDONED), "abandoned");
    assert_null(probe_step_state_name((enum probe_step_state)99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_steps_with_other_tasks_interleaved, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_order_failure, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_of_step_two, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_event_exactly_at_the_deadline, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_events_before_start_ignored, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_literal_numbers_compare_as_json, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_string_expected_number_received, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_variant_null_is_any, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_two_subscriptions, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_abort, fx_setup, fx_teardown),
        cmocka_unit_test(test_new_refuses_bad_defs),
        cmocka_unit_test_setup_teardown(test_defs_are_copied, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_describe_is_bounded, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_capture, fx_setup, fx_teardown),
        cmocka_unit_test(test_next_due),
        cmocka_unit_test(test_window_quantiles),
        cmocka_unit_test(test_state_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
