/*
 * journal_sink: the fields of a probe's entries and the flood control of
 * lifecycle entries, read back from a real datagram socket standing for
 * journald (bound in a scratch directory) and from the standard-error JSON
 * lines. The loop is spun until the records arrive, bounded in time;
 * nothing sleeps a fixed time.
 */
#include "ssemon/io/journal_sink.h"

#include "ssemon/io/journal_ids.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#define WAIT_MS 20000
#define MAX_RECORDS 8

struct fx {
    char f_dir[32];
    char f_path[64];
    int f_rx;
    int f_err[2];
    struct event_base *f_base;
    struct journal_sink *f_s;
    /* Records read back, as JSON objects (field name -> value). */
    json_t *f_rec[MAX_RECORDS];
    size_t f_n;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct fx *fx_new(enum journal_target target, unsigned burst)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->f_dir, sizeof(f->f_dir), "/tmp/jstest.XXXXXX");
    assert_non_null(mkdtemp(f->f_dir));
    snprintf(f->f_path, sizeof(f->f_path), "%s/socket", f->f_dir);
    f->f_rx = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(f->f_rx >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->f_path);
    assert_int_equal(bind(f->f_rx, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(pipe2(f->f_err, O_CLOEXEC), 0);
    assert_int_equal(fcntl(f->f_err[0], F_SETFL, O_NONBLOCK), 0);
    f->f_base = event_base_new();
    assert_non_null(f->f_base);
    struct journal_sink_options o = {.jso_burst = burst, .jso_interval_ms = 60000};
    journal_writer_options_init(&o.jso_writer);
    o.jso_writer.jwo_target = target;
    o.jso_writer.jwo_socket_path = f->f_path;
    o.jso_writer.jwo_stderr_fd = f->f_err[1];
    f->f_s = journal_sink_new(f->f_base, &o);
    assert_non_null(f->f_s);
    return f;
}

static void fx_free(struct fx *f)
{
    journal_sink_free(f->f_s);
    event_base_free(f->f_base);
    for (size_t i = 0; i < f->f_n; i++)
        json_decref(f->f_rec[i]);
    close(f->f_rx);
    close(f->f_err[0]);
    close(f->f_err[1]);
    unlink(f->f_path);
    rmdir(f->f_dir);
    free(f);
}

/* Reads what journald (the socket) got, each datagram as a record. */
static void rx_journal(struct fx *f)
{
    char buf[8192];
    ssize_t k;
    while ((k = recv(f->f_rx, buf, sizeof(buf), 0)) >= 0) {
        if (k == 0)
            continue; /* the writer asking whether journald is there */
        struct journal_field fl[JOURNAL_CODEC_MAX_FIELDS];
        int n = journal_codec_parse(buf, (size_t)k, fl, JOURNAL_CODEC_MAX_FIELDS);
        assert_true(n > 0);
        assert_true(f->f_n < MAX_RECORDS);
        json_t *o = json_object();
        for (int i = 0; i < n; i++) {
            /* A field twice would be a broken entry. */
            assert_null(json_object_get(o, fl[i].jf_name));
            json_object_set_new(o, fl[i].jf_name, json_stringn(fl[i].jf_value, fl[i].jf_len));
        }
        f->f_rec[f->f_n++] = o;
    }
}

/* Reads the standard-error lines, each a JSON record. */
static void rx_stderr(struct fx *f)
{
    static char acc[1 << 16];
    static size_t len;
    ssize_t k;
    while ((k = read(f->f_err[0], acc + len, sizeof(acc) - len)) > 0)
        len += (size_t)k;
    char *p = acc;
    char *nl;
    while ((nl = memchr(p, '\n', len - (size_t)(p - acc))) != NULL) {
        json_error_t jerr;
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, &jerr);
        if (o == NULL)
            fail_msg("stderr line is not JSON: %s", jerr.text);
        assert_true(f->f_n < MAX_RECORDS);
        f->f_rec[f->f_n++] = o;
        p = nl + 1;
    }
    len -= (size_t)(p - acc);
    memmove(acc, p, len);
}

/* Spins the loop until `want` records were read back. */
static void wait_records(struct fx *f, size_t want, bool from_stderr)
{
    uint64_t end = now_ms() + WAIT_MS;
    while (f->f_n < want) {
        if (now_ms() > end)
            fail_msg("%zu records read back, expected %zu", f->f_n, want);
        event_base_loop(f->f_base, EVLOOP_NONBLOCK);
        if (from_stderr)
            rx_stderr(f);
        else
            rx_journal(f);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static int setup(void **state)
{
    *state = NULL;
    return 0;
}

/* Frees the test's fixture (its socket and scratch directory) however the
 * test ended. */
static int teardown(void **state)
{
    if (*state != NULL)
        fx_free(*state);
    return 0;
}

static const char *field(const struct fx *f, size_t i, const char *name)
{
    json_t *v = json_object_get(f->f_rec[i], name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const struct violation timeout_v = {
    .v_class = VIOLATION_PROBE_TIMEOUT,
    .v_severity = VIOLATION_ERROR,
    .v_message = "gateway-main: no task_event:task_completed within 10000 ms",
    .v_event = "task_event",
};

static const struct violation failed_v = {
    .v_class = VIOLATION_PROBE_FAILED,
    .v_severity = VIOLATION_ERROR,
    .v_message = "status 500, body: oops",
};

/* A probe step's entry: the probe, the run, the subscription waited on. */
static void test_probe_step_fields(void **state)
{
    struct fx *f = fx_new(JOURNAL_TARGET_JOURNAL, 10);
    *state = f; /* freed by teardown, also when an assertion fails */
    struct journal_rates rates = {0};
    const struct journal_subject subj = {
        .js_subscription = "gateway-main",
        .js_contract = "gateway-envelope",
        .js_url = "http://gw/api/sse/stream",
        .js_probe = "gateway-task",
        .js_run_id = "0b4b7f0e-2f7c-4a4e-9a51-3d1e6f0c2a11",
    };
    journal_sink_violation(f->f_s, &rates, &subj, &timeout_v, 1000);
    /* A subscription's own entry has neither field. */
    const struct journal_subject plain = {.js_subscription = "gateway-main",
                                          .js_contract = "gateway-envelope",
                                          .js_url = "http://gw/api/sse/stream"};
    struct journal_rates prates = {0};
    const struct violation hb = {.v_class = VIOLATION_HEARTBEAT_MISSED,
                                 .v_severity = VIOLATION_ERROR,
                                 .v_message = "no heartbeat"};
    journal_sink_violation(f->f_s, &prates, &plain, &hb, 1000);
    wait_records(f, 2, false);

    assert_string_equal(field(f, 0, "MESSAGE"),
                        "probe gateway-task, gateway-main: probe_timeout: gateway-main: no "
                        "task_event:task_completed within 10000 ms");
    assert_string_equal(field(f, 0, "PRIORITY"), "3");
    assert_string_equal(field(f, 0, "MESSAGE_ID"), "94ebaf767ff3423ba2f9766c80424b9c");
    assert_string_equal(field(f, 0, "SSEMON_CLASS"), "probe_timeout");
    assert_string_equal(field(f, 0, "SSEMON_SEVERITY"), "error");
    assert_string_equal(field(f, 0, "SSEMON_SUBSCRIPTION"), "gateway-main");
    assert_string_equal(field(f, 0, "SSEMON_PROBE"), "gateway-task");
    assert_string_equal(field(f, 0, "SSEMON_RUN_ID"), "0b4b7f0e-2f7c-4a4e-9a51-3d1e6f0c2a11");
    assert_string_equal(field(f, 0, "SSEMON_EVENT"), "task_event");

    assert_string_equal(field(f, 1, "MESSAGE"), "gateway-main: heartbeat_missed: no heartbeat");
    assert_null(field(f, 1, "SSEMON_PROBE"));
    assert_null(field(f, 1, "SSEMON_RUN_ID"));
}

/* A trigger failure: no subscription; flood control per probe, with a
 * summary of its own id that names the probe. */
static void test_trigger_failure_and_summary(void **state)
{
    struct fx *f = fx_new(JOURNAL_TARGET_JOURNAL, 1);
    *state = f; /* freed by teardown, also when an assertion fails */
    struct journal_rates rates = {0};
    const struct journal_subject subj = {.js_probe = "legacy-task", .js_run_id = "r1"};
    journal_sink_violation(f->f_s, &rates, &subj, &failed_v, 1000);
    const struct journal_subject subj2 = {.js_probe = "legacy-task", .js_run_id = "r2"};
    journal_sink_violation(f->f_s, &rates, &subj2, &failed_v, 2000); /* suppressed */
    journal_sink_flush(f->f_s, &rates, &subj2, 61000);
    wait_records(f, 2, false);

    assert_string_equal(field(f, 0, "MESSAGE"),
                        "probe legacy-task: probe_failed: status 500, body: oops");
    assert_string_equal(field(f, 0, "MESSAGE_ID"), "cf3e87669ae245098acd515b837d5814");
    assert_string_equal(field(f, 0, "PRIORITY"), "3");
    assert_string_equal(field(f, 0, "SSEMON_PROBE"), "legacy-task");
    assert_string_equal(field(f, 0, "SSEMON_RUN_ID"), "r1");
    assert_null(field(f, 0, "SSEMON_SUBSCRIPTION"));
    assert_null(field(f, 0, "SSEMON_CONTRACT"));
    assert_null(field(f, 0, "SSEMON_URL"));

    assert_string_equal(field(f, 1, "MESSAGE_ID"), JOURNAL_ID_PROBE_SUPPRESSED);
    assert_string_equal(field(f, 1, "MESSAGE"),
                        "probe legacy-task: probe_failed: suppressed 1 further entries in the "
                        "last 60 s");
    assert_string_equal(field(f, 1, "SSEMON_PROBE"), "legacy-task");
    assert_string_equal(field(f, 1, "SSEMON_CLASS"), "probe_failed");
    assert_string_equal(field(f, 1, "SSEMON_SUPPRESSED"), "1");
    assert_null(field(f, 1, "SSEMON_SUBSCRIPTION"));
}

/* "stream lost" and "recovered" are flood-controlled per subscription like
 * violations, each with its own budget and a summary of what it held back;
 * "connected" is not limited. */
static void test_lifecycle_flood_and_summary(void **state)
{
    struct fx *f = fx_new(JOURNAL_TARGET_JOURNAL, 2);
    *state = f; /* freed by teardown, also when an assertion fails */
    struct journal_rates rates = {0};
    const struct journal_subject subj = {.js_subscription = "gateway-main",
                                         .js_contract = "gateway-envelope",
                                         .js_url = "http://gw/api/sse/stream"};
    for (uint64_t i = 0; i < 4; i++) /* 2 written, 2 held back */
        journal_sink_lifecycle(f->f_s, &rates, &subj, MONITOR_LOST, i + 1, "reset", 1000 + i);
    for (uint64_t i = 0; i < 3; i++) /* 2 written, 1 held back */
        journal_sink_lifecycle(f->f_s, &rates, &subj, MONITOR_RECOVERED, 1, NULL, 1100 + i);
    for (uint64_t i = 0; i < 2; i++) /* not limited */
        journal_sink_lifecycle(f->f_s, &rates, &subj, MONITOR_CONNECTED, 0, NULL, 1200 + i);
    assert_true(rates.jr_pending);
    journal_sink_flush(f->f_s, &rates, &subj, 62000);
    assert_false(rates.jr_pending);
    wait_records(f, 8, false);

    static const char *const ids[6] = {JOURNAL_ID_LOST,      JOURNAL_ID_LOST,
                                       JOURNAL_ID_RECOVERED, JOURNAL_ID_RECOVERED,
                                       JOURNAL_ID_CONNECTED, JOURNAL_ID_CONNECTED};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(field(f, i, "MESSAGE_ID"), ids[i]);
    assert_string_equal(field(f, 0, "MESSAGE"), "gateway-main: stream lost: reset");
    assert_string_equal(field(f, 1, "SSEMON_ERROR"), "reset");
    assert_string_equal(field(f, 2, "MESSAGE"), "gateway-main: recovered after 1 failed attempt");

    assert_string_equal(field(f, 6, "MESSAGE_ID"), JOURNAL_ID_LIFECYCLE_SUPPRESSED);
    assert_string_equal(field(f, 6, "MESSAGE"),
                        "gateway-main: stream lost: suppressed 2 further entries in the last 60 s");
    assert_string_equal(field(f, 6, "SSEMON_LIFECYCLE"), "lost");
    assert_string_equal(field(f, 6, "SSEMON_SUPPRESSED"), "2");
    assert_string_equal(field(f, 6, "SSEMON_SUBSCRIPTION"), "gateway-main");
    assert_string_equal(field(f, 7, "MESSAGE_ID"), JOURNAL_ID_LIFECYCLE_SUPPRESSED);
    assert_string_equal(field(f, 7, "MESSAGE"),
                        "gateway-main: recovered: suppressed 1 further entries in the last 60 s");
    assert_string_equal(field(f, 7, "SSEMON_LIFECYCLE"), "recovered");
    assert_string_equal(field(f, 7, "SSEMON_SUPPRESSED"), "1");
}

/* On standard error the same keys. */
static void test_stderr_keys(void **state)
{
    struct fx *f = fx_new(JOURNAL_TARGET_STDERR, 10);
    *state = f; /* freed by teardown, also when an assertion fails */
    struct journal_rates rates = {0};
    const struct journal_subject subj = {
        .js_subscription = "gateway-main", .js_probe = "gateway-task", .js_run_id = "r9"};
    const struct violation order = {.v_class = VIOLATION_PROBE_ORDER,
                                    .v_severity = VIOLATION_ERROR,
                                    .v_message = "step 2 met before step 1"};
    journal_sink_violation(f->f_s, &rates, &subj, &order, 1000);
    wait_records(f, 1, true);
    assert_string_equal(field(f, 0, "SSEMON_PROBE"), "gateway-task");
    assert_string_equal(field(f, 0, "SSEMON_RUN_ID"), "r9");
    assert_string_equal(field(f, 0, "SSEMON_SUBSCRIPTION"), "gateway-main");
    assert_string_equal(field(f, 0, "SSEMON_CLASS"), "probe_order");
    assert_string_equal(field(f, 0, "MESSAGE_ID"), "7b509d223870499dbcc4e2ce0369cf72");
    assert_int_equal(json_integer_value(json_object_get(f->f_rec[0], "PRIORITY")), 3);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probe_step_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_failure_and_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle_flood_and_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
