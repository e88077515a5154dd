/*
 * The shipped contracts against faithful streams: raw SSE bytes exactly as
 * the backend and the gateway send them (docs/streams.md
 * of the project), fed through sse_parser and the validator with an injected
 * clock (connection open at t=0, bytes at realistic offsets, timers fired
 * at validator_next_deadline as a live adapter would). Each faithful stream
 * passes with no violation; each single mutation of one yields exactly the
 * expected violations (one fault, one violation); and checking one era's
 * stream with the other era's contract shows what changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/config/contract_load.h"
#include "ssemon/core/sse_parser.h"
#include "ssemon/core/validator.h"

#define SHIPPED_DIR SSEMON_SOURCE_DIR "/etc/ssemon/contracts"
#define MAX_STEPS 40
#define MAX_GOT 32
/* Bound on timer firings between two steps: each rule fires once per
 * re-arm, so a handful is the most a real stream needs. */
#define MAX_TICKS 100

/* ---- the upstream's bytes ---- */

#define TASK_ID "3f0c8b5e-9a41-4c2e-8d6f-1b7a2c9e4d10"
#define OTHER_TASK_ID "77d1e0aa-51c3-4b7e-9f02-6c4d8e1b3a95"
#define REQ_ID "req-7f3a91"
/* Python's isoformat() of an aware UTC time (baseline). */
#define TS(s) "\"2025-11-19T21:00:" s "+00:00\""
/* pydantic v2's JSON of the same (gateway era): Z, the fraction's trailing
 * zeros trimmed. */
#define TSZ(s) "\"2026-12-07T06:31:" s "Z\""

/* Baseline framing: "event: NAME\ndata: JSON\n\n" (json.dumps separators). */
#define EV(name, json) "event: " name "\ndata: " json "\n\n"
#define TASK(type, ts, data)                                                                       \
    EV("task_event", "{\"event_type\": \"" type "\", \"task_id\": \"" TASK_ID                      \
                     "\", \"timestamp\": " ts ", \"data\": " data "}")
#define OPEN_TASK EV("connection_open", "{\"status\": \"connected\"}")
#define HB_TASK(ts) EV("heartbeat", "{\"timestamp\": " ts "}")
#define CLOSE(reason) EV("connection_close", "{\"reason\": \"" reason "\"}")
#define PROGRESS(ts, text, value)                                                                  \
    TASK("progress_update", ts, "{\"text\": \"" text "\", \"value\": " value "}")
#define COMMENT_HB ": heartbeat\n\n"

#define CID ", \"correlation_id\": \"" REQ_ID "\""
#define OPEN_VERSION EV("connection_open", "{\"status\": \"connected\"" CID "}")
#define HB_VERSION EV("heartbeat", "{\"timestamp\": \"keepalive\"" CID "}")
#define VERSION(v)                                                                                 \
    EV("version", "{\"version\": \"" v "\", \"environment\": \"production\", \"git_commit\": "     \
                  "\"9f1e2d3\"" CID "}")
#define CLOSE_VERSION(reason) EV("connection_close", "{\"reason\": \"" reason "\"" CID "}")

/* Gateway 2026: unnamed envelopes; the envelope has no spaces, the payload
 * inside keeps json.dumps' separators. */
#define ENVELOPE(type, payload) "data: {\"type\":\"" type "\",\"payload\":" payload "}\n\n"
#define ENV_TASK_OF(id, type, ts, data)                                                            \
    ENVELOPE("task_event", "{\"event_type\": \"" type "\", \"task_id\": \"" id                     \
                           "\", \"timestamp\": " ts ", \"data\": " data "}")
#define ENV_TASK(type, ts, data) ENV_TASK_OF(TASK_ID, type, ts, data)
#define READY "event: ready\ndata:\n\n"

static const struct validator_header baseline_headers[] = {
    {"Content-Type", "text/event-stream; charset=utf-8"},
    {"Cache-Control", "no-cache"},
    {"Access-Control-Allow-Origin", "*"},
    {"Access-Control-Allow-Headers", "Cache-Control"},
};
static const struct validator_header gateway_headers[] = {
    {"Content-Type", "text/event-stream"},
    {"Cache-Control", "no-cache"},
    {"Connection", "keep-alive"},
    {"X-Accel-Buffering", "no"},
};
#define N_HEADERS 4

/* ---- streams and mutations ---- */

struct step {
    uint64_t s_t; /* ms after the response headers */
    const char *s_bytes;
};

struct stream {
    const struct validator_header *st_headers;
    size_t st_n_headers;
    struct step st_steps[MAX_STEPS];
    size_t st_n;
    uint64_t st_end_t; /* the stream ends (or the check stops) here */
    bool st_ends;      /* false: still open when the check stops */
};

static size_t stream_len(const struct step *steps)
{
    size_t n = 0;
    while (n < MAX_STEPS && steps[n].s_bytes != NULL)
        n++;
    return n;
}

static struct stream stream_make(const struct validator_header *h, const struct step *steps,
                                 uint64_t end_t, bool ends)
{
    struct stream st;

    memset(&st, 0, sizeof(st));
    st.st_headers = h;
    st.st_n_headers = N_HEADERS;
    st.st_n = stream_len(steps);
    memcpy(st.st_steps, steps, st.st_n * sizeof(*steps));
    st.st_end_t = end_t;
    st.st_ends = ends;
    return st;
}

/* Index of the `nth` step whose bytes contain `needle`. */
static size_t stream_find(const struct stream *st, const char *needle, int nth)
{
    for (size_t i = 0; i < st->st_n; i++)
        if (strstr(st->st_steps[i].s_bytes, needle) != NULL && nth-- == 0)
            return i;
    fail_msg("no step with \"%s\"", needle);
    return 0;
}

static void stream_delete(struct stream *st, size_t i)
{
    memmove(&st->st_steps[i], &st->st_steps[i + 1], (st->st_n - i - 1) * sizeof(struct step));
    st->st_n--;
}

static void stream_insert(struct stream *st, size_t i, uint64_t t, const char *bytes)
{
    assert_true(st->st_n < MAX_STEPS);
    memmove(&st->st_steps[i + 1], &st->st_steps[i], (st->st_n - i) * sizeof(struct step));
    st->st_steps[i].s_t = t;
    st->st_steps[i].s_bytes = bytes;
    st->st_n++;
}

/* Drops the header named `name`. */
static void stream_drop_header(struct stream *st, struct validator_header *buf, const char *name)
{
    size_t n = 0;

    for (size_t i = 0; i < st->st_n_headers; i++)
        if (strcmp(st->st_headers[i].vh_name, name) != 0)
            buf[n++] = st->st_headers[i];
    assert_int_equal(n + 1, st->st_n_headers);
    st->st_headers = buf;
    st->st_n_headers = n;
}

/* ---- running a stream ---- */

struct got {
    enum violation_class g_class;
    char g_message[300];
};

struct run {
    struct validator *r_v;
    uint64_t r_now;
    struct got r_got[MAX_GOT];
    size_t r_n;
};

static void run_report(void *ctx, const struct violation *vi)
{
    struct run *r = ctx;

    assert_true(vi->v_time_ms <= r->r_now);
    if (r->r_n == MAX_GOT)
        return;
    r->r_got[r->r_n].g_class = vi->v_class;
    snprintf(r->r_got[r->r_n].g_message, sizeof(r->r_got[r->r_n].g_message), "%s", vi->v_message);
    r->r_n++;
}

static void run_on_event(void *ctx, const struct sse_event *ev)
{
    struct run *r = ctx;
    validator_event(r->r_v, r->r_now, ev);
}

static void run_on_comment(void *ctx, const char *text, size_t len)
{
    struct run *r = ctx;
    validator_comment(r->r_v, r->r_now, text, len);
}

static void run_on_anomaly(void *ctx, enum sse_anomaly kind, const char *line, size_t len)
{
    struct run *r = ctx;
    validator_anomaly(r->r_v, r->r_now, kind, line, len);
}

/* Fires the validator's timers up to `t`, as the live adapter's timer
 * would, then sets the clock to `t`. */
static void run_advance(struct run *r, uint64_t t)
{
    int i;

    for (i = 0; i < MAX_TICKS; i++) {
        uint64_t d = validator_next_deadline(r->r_v);
        if (d > t)
            break;
        assert_true(d >= r->r_now);
        r->r_now = d;
        validator_tick(r->r_v, d);
    }
    assert_true(i < MAX_TICKS);
    r->r_now = t;
}

static const char *const shipped_names[] = {"task-stream", "task-stream-gateway", "version-stream",
                                            "version-stream-gateway", "gateway-envelope"};
#define N_SHIPPED (sizeof(shipped_names) / sizeof(shipped_names[0]))
static struct contract *shipped_contracts[N_SHIPPED];

static int shipped_setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SHIPPED; i++) {
        struct contract_load_error err;
        shipped_contracts[i] = contract_load(shipped_names[i], SHIPPED_DIR, &err);
        if (shipped_contracts[i] == NULL) {
            fprintf(stderr, "%s\n", err.cle_text);
            return -1;
        }
    }
    return 0;
}

static int shipped_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SHIPPED; i++) {
        contract_free(shipped_contracts[i]);
        shipped_contracts[i] = NULL;
    }
    return 0;
}

static struct contract *shipped(const char *name)
{
    for (size_t i = 0; i < N_SHIPPED; i++)
        if (strcmp(shipped_names[i], name) == 0)
            return shipped_contracts[i];
    fail_msg("no shipped contract %s", name);
    return NULL;
}

static void run_stream(struct run *r, const char *contract, const struct stream *st,
                       const char *var, const char *value)
{
    struct validator_var vars[1] = {{var, value}};
    struct validator_options opts = {
        .vo_vars = vars,
        .vo_n_vars = var != NULL ? 1 : 0,
        .vo_timing = true,
    };
    struct sse_parser_callbacks cbs = {
        .on_event = run_on_event,
        .on_comment = run_on_comment,
        .on_anomaly = run_on_anomaly,
    };

    memset(r, 0, sizeof(*r));
    r->r_v = validator_new(shipped(contract), &opts, run_report, r);
    assert_non_null(r->r_v);
    struct sse_parser *p = sse_parser_new(NULL, &cbs, r);
    assert_non_null(p);

    validator_open(r->r_v, 0, 200, st->st_headers, st->st_n_headers);
    for (size_t i = 0; i < st->st_n; i++) {
        assert_true(st->st_steps[i].s_t >= r->r_now);
        run_advance(r, st->st_steps[i].s_t);
        assert_int_equal(
            sse_parser_feed(p, st->st_steps[i].s_bytes, strlen(st->st_steps[i].s_bytes)), 0);
    }
    run_advance(r, st->st_end_t);
    if (st->st_ends) {
        sse_parser_end(p);
        validator_end(r->r_v, st->st_end_t, NULL);
    }
    sse_parser_free(p);
    validator_free(r->r_v);
    r->r_v = NULL;
}

/* Asserts exactly these violation classes, in this order. */
static void expect(const struct run *r, const enum violation_class *want, size_t n)
{
    bool ok = r->r_n == n;

    for (size_t i = 0; ok && i < n; i++)
        ok = r->r_got[i].g_class == want[i];
    if (ok)
        return;
    fprintf(stderr, "expected:");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %s", violation_class_name(want[i]));
    fprintf(stderr, "\ngot:\n");
    for (size_t i = 0; i < r->r_n; i++)
        fprintf(stderr, "  %s: %s\n", violation_class_name(r->r_got[i].g_class),
                r->r_got[i].g_message);
    fail();
}

#define EXPECT(r, ...)                                                                             \
    do {                                                                                           \
        const enum violation_class want_[] = {__VA_ARGS__};                                        \
        expect((r), want_, sizeof(want_) / sizeof(want_[0]));                                      \
    } while (0)
#define EXPECT_NONE(r) expect((r), NULL, 0)

/* The message of violation `i` contains `s`. */
static void expect_message(const struct run *r, size_t i, const char *s)
{
    assert_true(i < r->r_n);
    if (strstr(r->r_got[i].g_message, s) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", r->r_got[i].g_message, s);
}

/* ---- faithful streams ---- */

/* demo_task, one 22 s step: heartbeats every ~5 s while nothing happens. */
static struct stream task_completed(void)
{
    static const struct step steps[] = {
        {3, OPEN_TASK},
        {12, TASK("task_started", TS("00.011873"), "null")},
        {14, PROGRESS(TS("00.013402"), "Starting test task", "0.0")},
        {5016, HB_TASK(TS("05.015911"))},
        {10018, HB_TASK(TS("10"))},
        {15020, HB_TASK(TS("15.019754"))},
        {20022, HB_TASK(TS("20.021330"))},
        {22015, PROGRESS(TS("22.014480"), "Step 1/1", "1.0")},
        {22017, TASK("task_completed", TS("22.016002"),
                     "{\"message\": \"Demo task completed\", \"steps_completed\": 1, "
                     "\"status\": \"success\"}")},
        {22018, CLOSE("task_completed")},
        {0, NULL},
    };
    return stream_make(baseline_headers, steps, 22019, true);
}

/* failing_task: one progress, then the failure; the close reason is still
 * task_completed in this era. */
static struct stream task_failed(void)
{
    static const struct step steps[] = {
        {3, OPEN_TASK},
        {10, TASK("task_started", TS("00.009120"), "null")},
        {12, PROGRESS(TS("00.011558"), "Starting failing task", "0.0")},
        {5014, HB_TASK(TS("05.013377"))},
        {6020, TASK("task_failed", TS("06.019240"),
                    "{\"error\": \"Simulated failure\", \"traceback\": \"Traceback (most recent "
                    "call last):\\n  File \\\"/app/app/services/test_task.py\\\", line 41, in "
                    "execute\\nRuntimeError: Simulated failure\\n\"}")},
        {6021, CLOSE("task_completed")},
        {0, NULL},
    };
    return stream_make(baseline_headers, steps, 6022, true);
}

static struct stream task_not_found(void)
{
    static const struct step steps[] = {
        {2, OPEN_TASK},
        {3, EV("error", "{\"error\": \"Task not found\"}")},
        {4, CLOSE("task_not_found")},
        {0, NULL},
    };
    return stream_make(baseline_headers, steps, 5, true);
}

static struct stream version_live(void)
{
    static const struct step steps[] = {
        {4, OPEN_VERSION},
        {61, VERSION("1.4.2")},
        {5062, HB_VERSION},
        {10064, HB_VERSION},
        {12500, VERSION("1.4.3")},
        {17502, HB_VERSION},
        {22504, HB_VERSION},
        {24000, CLOSE_VERSION("server_shutdown")},
        {0, NULL},
    };
    return stream_make(baseline_headers, steps, 24001, true);
}

static struct stream version_fetch_error(void)
{
    static const struct step steps[] = {
        {4, OPEN_VERSION},
        {3011, EV("error", "{\"error\": \"HTTPConnectionPool(host='frontend', port=80): Read "
                           "timed out. (read timeout=3)\"" CID "}")},
        {3012, CLOSE_VERSION("version_fetch_error")},
        {0, NULL},
    };
    return stream_make(baseline_headers, steps, 3013, true);
}

/* Through the gateway (late 2025): no connection_open, comment heartbeats
 * every 15 s from a fixed timer. */
static struct stream gw_task_completed(void)
{
    static const struct step steps[] = {
        {35, TASK("task_started", TSZ("00.034001"), "null")},
        {37, PROGRESS(TSZ("00.036220"), "Starting test task", "0.0")},
        {15002, COMMENT_HB},
        {22015, PROGRESS(TSZ("22.014480"), "Step 1/1", "1.0")},
        {22017, TASK("task_completed", TSZ("22.016002"),
                     "{\"message\": \"Demo task completed\", \"steps_completed\": 1, "
                     "\"status\": \"success\"}")},
        {22018, CLOSE("task_completed")},
        {0, NULL},
    };
    return stream_make(gateway_headers, steps, 22019, true);
}

/* Earlier in that era the backend still sent connection_open. */
static struct stream gw_task_failed(void)
{
    static const struct step steps[] = {
        {6, OPEN_TASK},
        {20, TASK("task_started", TSZ("00.019500"), "null")},
        {22, PROGRESS(TSZ("00.021004"), "Starting failing task", "0.0")},
        {15002, COMMENT_HB},
        {20030, TASK("task_failed", TSZ("20.029310"),
                     "{\"error\": \"Simulated failure\", \"traceback\": \"Traceback (most "
                     "recent call last):\\nRuntimeError: Simulated failure\\n\"}")},
        {20031, CLOSE("task_failed")},
        {0, NULL},
    };
    return stream_make(gateway_headers, steps, 20032, true);
}

static struct stream gw_task_not_found(void)
{
    static const struct step steps[] = {
        {5, EV("error", "{\"error\": \"Task not found\", \"task_id\": \"" OTHER_TASK_ID "\"}")},
        {6, CLOSE("task_not_found")},
        {0, NULL},
    };
    return stream_make(gateway_headers, steps, 7, true);
}

static struct stream gw_version(void)
{
    static const struct step steps[] = {
        {40, VERSION("1.4.2")},
        {15002, COMMENT_HB},
        {30002, COMMENT_HB},
        {31500, VERSION("1.4.3")},
        {45002, COMMENT_HB},
        {50000, CLOSE_VERSION("server_shutdown")},
        {0, NULL},
    };
    return stream_make(gateway_headers, steps, 50001, true);
}

/* 2026 framing: ready, envelopes, comments; still open when the check
 * stops. */
static struct stream envelope_live(void)
{
    static const struct step steps[] = {
        {3, READY},
        {4, ENVELOPE("version", "{\"version\": \"1.4.2\", \"environment\": \"production\", "
                                "\"git_commit\": \"9f1e2d3\"}")},
        {40, ENV_TASK("task_started", TSZ("00.039001"), "null")},
        {42,
         ENV_TASK("progress_update", TSZ("00.04122"), "{\"text\": \"Step 1/2\", \"value\": 0.5}")},
        /* Broadcast: another client's task shows up too. */
        {900, ENV_TASK_OF(OTHER_TASK_ID, "task_started", TSZ("00.899"), "null")},
        {15002, COMMENT_HB},
        {22015, ENV_TASK("progress_update", TSZ("22"), "{\"text\": \"Step 2/2\", \"value\": 1.0}")},
        {22017, ENV_TASK("task_completed", TSZ("22.016002"), "{\"status\": \"success\"}")},
        {23000, ENV_TASK_OF(OTHER_TASK_ID, "task_failed", TSZ("22.999513"),
                            "{\"error\": \"Task failed\", \"traceback\": \"Traceback (most recent "
                            "call last):\\nRuntimeError: Task failed\\n\"}")},
        {30002, COMMENT_HB},
        {31000, READY},
        {33000, ENVELOPE("version", "{\"version\": \"1.4.3\", \"changelog\": \"Faster search\"}")},
        {45002, COMMENT_HB},
        {0, NULL},
    };
    return stream_make(gateway_headers, steps, 50000, false);
}

/* ---- faithful streams pass ---- */

static void test_faithful_baseline(void **state)
{
    (void)state;
    struct run r;
    struct stream st;

    st = task_completed();
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT_NONE(&r);
    /* Unbound, the task id is not compared. */
    run_stream(&r, "task-stream", &st, NULL, NULL);
    EXPECT_NONE(&r);
    st = task_failed();
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT_NONE(&r);
    st = task_not_found();
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT_NONE(&r);
    st = version_live();
    run_stream(&r, "version-stream", &st, "request_id", REQ_ID);
    EXPECT_NONE(&r);
    run_stream(&r, "version-stream", &st, NULL, NULL);
    EXPECT_NONE(&r);
    st = version_fetch_error();
    run_stream(&r, "version-stream", &st, "request_id", REQ_ID);
    EXPECT_NONE(&r);
}

static void test_faithful_gateway(void **state)
{
    (void)state;
    struct run r;
    struct stream st;

    st = gw_task_completed();
    run_stream(&r, "task-stream-gateway", &st, "task_id", TASK_ID);
    EXPECT_NONE(&r);
    st = gw_task_failed();
    run_stream(&r, "task-stream-gateway", &st, "task_id", TASK_ID);
    EXPECT_NONE(&r);
    st = gw_task_not_found();
    run_stream(&r, "task-stream-gateway", &st, "task_id", OTHER_TASK_ID);
    EXPECT_NONE(&r);
    st = gw_version();
    run_stream(&r, "version-stream-gateway", &st, "request_id", REQ_ID);
    EXPECT_NONE(&r);
    st = envelope_live();
    run_stream(&r, "gateway-envelope", &st, "request_id", REQ_ID);
    EXPECT_NONE(&r);
}

/* ---- one mutation, one violation ---- */

static void mutate_task(const char *needle, int nth, const char *bytes, enum violation_class cls,
                        const char *msg)
{
    struct stream st = task_completed();
    struct run r;

    st.st_steps[stream_find(&st, needle, nth)].s_bytes = bytes;
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, cls);
    if (msg != NULL)
        expect_message(&r, 0, msg);
}

static void test_mutations_payload(void **state)
{
    (void)state;
    /* Wrong field type. */
    mutate_task("Step 1/1", 0, PROGRESS(TS("22.014480"), "Step 1/1", "\"1.0\""), VIOLATION_SCHEMA,
                "/data/value");
    /* Missing required field. */
    mutate_task("task_started", 0,
                EV("task_event", "{\"event_type\": \"task_started\", \"task_id\": \"" TASK_ID
                                 "\", \"data\": null}"),
                VIOLATION_SCHEMA, "timestamp");
    /* An extra field where the payload is fixed. */
    mutate_task("connection_open", 0,
                EV("connection_open", "{\"status\": \"connected\", \"session\": 1}"),
                VIOLATION_SCHEMA, "session");
    /* Z instead of +00:00. */
    mutate_task("Starting", 0,
                TASK("progress_update", "\"2025-11-19T21:00:00.013402Z\"",
                     "{\"text\": \"Starting test task\", \"value\": 0.0}"),
                VIOLATION_SCHEMA, "/timestamp");
    mutate_task("heartbeat", 1, HB_TASK("\"2025-11-19T21:00:10Z\""), VIOLATION_SCHEMA,
                "/timestamp");
    /* Progress beyond 1. */
    mutate_task("Step 1/1", 0, PROGRESS(TS("22.014480"), "Step 1/1", "1.5"), VIOLATION_SCHEMA,
                "/data/value: 1.5");
    /* Bad JSON. */
    mutate_task("Step 1/1", 0,
                EV("task_event", "{\"event_type\": \"progress_update\", \"task_id\": \"" TASK_ID
                                 "\", \"timestamp\": " TS("22.014480") ", \"data\": {\"text\": "),
                VIOLATION_DATA_NOT_JSON, NULL);
    /* The task id of another task. */
    mutate_task("Step 1/1", 0,
                EV("task_event",
                   "{\"event_type\": \"progress_update\", \"task_id\": \"" OTHER_TASK_ID
                   "\", \"timestamp\": " TS(
                       "22.014480") ", \"data\": {\"text\": \"Step 1/1\", \"value\": 1.0}}"),
                VIOLATION_SCHEMA, "variable task_id");
    /* An undeclared event type is the payload's fault, not an unknown kind. */
    mutate_task("Step 1/1", 0, TASK("task_paused", TS("22.014480"), "null"), VIOLATION_SCHEMA,
                "task_paused");
    /* A task_id that is not a uuid. */
    mutate_task("task_started", 0,
                EV("task_event", "{\"event_type\": \"task_started\", \"task_id\": \"42\", "
                                 "\"timestamp\": " TS("00.011873") ", \"data\": null}"),
                VIOLATION_SCHEMA, "/task_id");
    /* task_started carries null data. */
    mutate_task("task_started", 0, TASK("task_started", TS("00.011873"), "{}"), VIOLATION_SCHEMA,
                "/data");
}

static void test_mutations_order(void **state)
{
    (void)state;
    struct stream st;
    struct run r;

    /* Missing connection_open: one order violation, then back in step. */
    st = task_completed();
    stream_delete(&st, stream_find(&st, "connection_open", 0));
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_ORDER);
    expect_message(&r, 0, "not allowed in state \"connecting\"");

    /* An event after connection_close. */
    st = task_completed();
    stream_insert(&st, st.st_n, 22018, HB_TASK(TS("22.017950")));
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_ORDER);
    expect_message(&r, 0, "after final state");

    /* Missing task_started: progress first. */
    st = task_completed();
    stream_delete(&st, stream_find(&st, "task_started", 0));
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_ORDER);

    /* A duplicated terminal event. */
    st = task_completed();
    size_t done = stream_find(&st, "task_completed\", \"task_id", 0);
    stream_insert(&st, done + 1, 22017, st.st_steps[done].s_bytes);
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_ORDER);

    /* Early end of stream. */
    st = task_completed();
    st.st_n = stream_find(&st, "Step 1/1", 0);
    st.st_end_t = 21000;
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_STREAM_ENDED);
    expect_message(&r, 0, "\"running\"");

    /* The close reason of the gateway era: one schema violation; the close
     * is still judged for order, so no stream_ended follows. */
    st = task_failed();
    st.st_steps[stream_find(&st, "connection_close", 0)].s_bytes = CLOSE("task_failed");
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_SCHEMA);
    expect_message(&r, 0, "/reason");

    /* The not-found path closing with another reason. */
    st = task_not_found();
    st.st_steps[stream_find(&st, "connection_close", 0)].s_bytes = CLOSE("task_completed");
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_ORDER);
}

static void test_mutations_time_and_response(void **state)
{
    (void)state;
    struct stream st;
    struct run r;
    struct validator_header buf[N_HEADERS];

    /* Late heartbeat: the one due at 10 s comes at 15.3 s (and the backend's
     * timer restarts from it). */
    st = task_completed();
    size_t hb = stream_find(&st, "heartbeat", 1);
    st.st_steps[hb].s_t = 15300;
    stream_delete(&st, hb + 1);
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_HEARTBEAT_MISSED);
    expect_message(&r, 0, "limit 10000 ms");

    /* A comment where a named heartbeat is expected does not count. */
    st = task_completed();
    st.st_steps[stream_find(&st, "heartbeat", 1)].s_bytes = COMMENT_HB;
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_HEARTBEAT_MISSED);

    /* Delayed first event (a buffering proxy). */
    st = task_completed();
    st.st_steps[0].s_t = 1500;
    st.st_steps[1].s_t = 1501;
    st.st_steps[2].s_t = 1502;
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_FIRST_EVENT_LATE);

    /* Missing Cache-Control. */
    st = task_completed();
    stream_drop_header(&st, buf, "Cache-Control");
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_HEADER);
    expect_message(&r, 0, "Cache-Control");

    /* Missing X-Accel-Buffering through the gateway. */
    st = gw_task_completed();
    stream_drop_header(&st, buf, "X-Accel-Buffering");
    run_stream(&r, "task-stream-gateway", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_HEADER);
    expect_message(&r, 0, "X-Accel-Buffering");

    /* Gateway heartbeat comments that stop: 30 s is still in time (15 s x
     * 2), the next missing one is not. */
    st = gw_version();
    stream_delete(&st, stream_find(&st, ": heartbeat", 1));
    run_stream(&r, "version-stream-gateway", &st, "request_id", REQ_ID);
    EXPECT_NONE(&r);
    stream_delete(&st, stream_find(&st, ": heartbeat", 1));
    run_stream(&r, "version-stream-gateway", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_HEARTBEAT_MISSED);
}

static void test_mutations_version(void **state)
{
    (void)state;
    struct stream st;
    struct run r;

    /* Changed correlation id midway, bound and unbound. */
    st = version_live();
    st.st_steps[stream_find(&st, "heartbeat", 1)].s_bytes =
        EV("heartbeat", "{\"timestamp\": \"keepalive\", \"correlation_id\": \"req-other\"}");
    run_stream(&r, "version-stream", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_CORRELATION_ID);
    expect_message(&r, 0, "variable request_id");
    run_stream(&r, "version-stream", &st, NULL, NULL);
    EXPECT(&r, VIOLATION_CORRELATION_ID);
    expect_message(&r, 0, "changed");

    /* A stream of another request: one report for the whole stream. */
    st = version_live();
    run_stream(&r, "version-stream", &st, "request_id", "req-mine");
    EXPECT(&r, VIOLATION_CORRELATION_ID);

    /* Missing correlation id. */
    st = version_live();
    st.st_steps[stream_find(&st, "1.4.3", 0)].s_bytes =
        EV("version", "{\"version\": \"1.4.3\", \"environment\": \"production\"}");
    run_stream(&r, "version-stream", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_CORRELATION_ID);
    expect_message(&r, 0, "missing");

    /* A heartbeat carrying a time, as the old plan said. */
    st = version_live();
    st.st_steps[stream_find(&st, "heartbeat", 0)].s_bytes =
        EV("heartbeat", "{\"timestamp\": " TS("05.061000") CID "}");
    run_stream(&r, "version-stream", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_SCHEMA);

    /* The version arriving before connection_open. */
    st = version_live();
    stream_delete(&st, stream_find(&st, "connection_open", 0));
    run_stream(&r, "version-stream", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_ORDER);
}

static void test_mutations_envelope(void **state)
{
    (void)state;
    struct stream st;
    struct run r;

    /* Envelope without type. */
    st = envelope_live();
    st.st_steps[stream_find(&st, "Step 2/2", 0)].s_bytes =
        "data: {\"payload\":{\"event_type\": \"progress_update\"}}\n\n";
    run_stream(&r, "gateway-envelope", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_SCHEMA);
    expect_message(&r, 0, "envelope without type");

    /* An enveloped payload breaking the baseline schema. */
    st = envelope_live();
    st.st_steps[stream_find(&st, "Step 2/2", 0)].s_bytes =
        ENV_TASK("progress_update", TSZ("22"), "{\"text\": \"Step 2/2\", \"value\": 1.5}");
    run_stream(&r, "gateway-envelope", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_SCHEMA);
    expect_message(&r, 0, "/data/value");

    /* Envelopes before ready, as the real gateway flushes what the backend
     * sent during the connect callback: in order while ready comes within
     * the 2 s connecting may last (counted from the open), an order
     * violation, once, when it comes later. */
    st = envelope_live();
    stream_delete(&st, stream_find(&st, "ready", 0));
    stream_insert(&st, stream_find(&st, OTHER_TASK_ID, 0) + 1, 2000, READY);
    run_stream(&r, "gateway-envelope", &st, "request_id", REQ_ID);
    EXPECT_NONE(&r);
    st.st_steps[stream_find(&st, "ready", 0)].s_t = 2001;
    run_stream(&r, "gateway-envelope", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_ORDER);
    expect_message(&r, 0, "still in state \"connecting\" 2000 ms after entering it");

    /* The backend refused: rejected, then the gateway ends the stream. */
    static const struct step rejected[] = {
        {4, "event: rejected\ndata: {\"status\": 403, \"message\": \"Forbidden\"}\n\n"},
        {0, NULL},
    };
    st = stream_make(gateway_headers, rejected, 5, true);
    run_stream(&r, "gateway-envelope", &st, NULL, NULL);
    EXPECT(&r, VIOLATION_STREAM_ENDED);
    expect_message(&r, 0, "\"rejected\"");

    /* Refused for a missing request_id: 400 in-stream, then the end. */
    static const struct step refused[] = {
        {2, "event: rejected\ndata: {\"status\":400,\"message\":\"Bad Request\"}\n\n"},
        {0, NULL},
    };
    st = stream_make(gateway_headers, refused, 3, true);
    run_stream(&r, "gateway-envelope", &st, NULL, NULL);
    EXPECT(&r, VIOLATION_STREAM_ENDED);
    expect_message(&r, 0, "\"rejected\"");

    /* A dropped ready: the version and task events that come first keep
     * the stream in connecting, so the state's deadline reports it, once,
     * 2 s after the open (the next ready, at 31 s, makes it live). */
    st = envelope_live();
    stream_delete(&st, stream_find(&st, "ready", 0));
    run_stream(&r, "gateway-envelope", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_ORDER);
    expect_message(&r, 0,
                   "still in state \"connecting\" 2000 ms after entering it (expected: ready, "
                   "rejected)");

    /* The long-lived stream ending at all. */
    st = envelope_live();
    st.st_ends = true;
    run_stream(&r, "gateway-envelope", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_STREAM_ENDED);
}

/* Gateway-era timestamps are pydantic v2's: Z, never the baseline's +00:00
 * (an event serialized by an older backend), at most 6 fraction digits. */
static void test_gateway_timestamps(void **state)
{
    (void)state;
    struct stream st;
    struct run r;

    st = envelope_live();
    st.st_steps[stream_find(&st, "Step 2/2", 0)].s_bytes =
        ENV_TASK("progress_update", TS("22"), "{\"text\": \"Step 2/2\", \"value\": 1.0}");
    run_stream(&r, "gateway-envelope", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_SCHEMA);
    expect_message(&r, 0, "/timestamp");

    st = envelope_live();
    st.st_steps[stream_find(&st, "task_completed", 0)].s_bytes =
        ENV_TASK("task_completed", TSZ("22.0160021"), "{\"status\": \"success\"}");
    run_stream(&r, "gateway-envelope", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_SCHEMA);
    expect_message(&r, 0, "/timestamp");

    st = gw_task_completed();
    st.st_steps[stream_find(&st, "task_started", 0)].s_bytes =
        TASK("task_started", TS("00.034001"), "null");
    run_stream(&r, "task-stream-gateway", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_SCHEMA);
    expect_message(&r, 0, "/timestamp");
}

/* ---- across eras ---- */

static void test_eras_task(void **state)
{
    (void)state;
    struct stream st;
    struct run r;

    /* A gateway stream, baseline contract: no connection_open, comments do
     * not count (a 20 s quiet period), the task_failed close reason. */
    st = gw_task_failed();
    stream_delete(&st, stream_find(&st, "connection_open", 0));
    run_stream(&r, "task-stream", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_SCHEMA, VIOLATION_ORDER, VIOLATION_SCHEMA, VIOLATION_HEARTBEAT_MISSED,
           VIOLATION_SCHEMA, VIOLATION_SCHEMA);
    expect_message(&r, 0, "/timestamp");
    expect_message(&r, 1, "task_event/task_started not allowed in state \"connecting\"");
    expect_message(&r, 5, "/reason");

    /* The not-found error gained the task id (and lost connection_open). */
    st = gw_task_not_found();
    run_stream(&r, "task-stream", &st, "task_id", OTHER_TASK_ID);
    EXPECT(&r, VIOLATION_SCHEMA, VIOLATION_ORDER);
    expect_message(&r, 0, "task_id");

    /* A baseline stream, gateway contract: no X-Accel-Buffering, named
     * heartbeats unknown, the failure closed with task_completed. */
    st = task_failed();
    run_stream(&r, "task-stream-gateway", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_HEADER, VIOLATION_SCHEMA, VIOLATION_SCHEMA, VIOLATION_UNKNOWN_EVENT,
           VIOLATION_SCHEMA, VIOLATION_ORDER);
    expect_message(&r, 1, "/timestamp");
    expect_message(&r, 5, "connection_close/task_completed not allowed in state \"failed\"");

    /* Long enough for the missing comments to show. */
    st = task_completed();
    run_stream(&r, "task-stream-gateway", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_HEADER, VIOLATION_SCHEMA, VIOLATION_SCHEMA, VIOLATION_UNKNOWN_EVENT,
           VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT,
           VIOLATION_SCHEMA, VIOLATION_SCHEMA);
    st.st_steps[st.st_n - 1].s_t = 40000;
    st.st_end_t = 40001;
    run_stream(&r, "task-stream-gateway", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_HEADER, VIOLATION_SCHEMA, VIOLATION_SCHEMA, VIOLATION_UNKNOWN_EVENT,
           VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT,
           VIOLATION_SCHEMA, VIOLATION_SCHEMA, VIOLATION_HEARTBEAT_MISSED);

    st = task_not_found();
    run_stream(&r, "task-stream-gateway", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_HEADER, VIOLATION_SCHEMA);
}

static void test_eras_version(void **state)
{
    (void)state;
    struct stream st;
    struct run r;

    /* Gateway stream, baseline contract: no connection_open; comments do not
     * count, so each quiet period longer than 10 s is a miss (two here:
     * after the first version, and after the second). */
    st = gw_version();
    run_stream(&r, "version-stream", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_ORDER, VIOLATION_HEARTBEAT_MISSED, VIOLATION_HEARTBEAT_MISSED);

    /* Baseline stream, gateway contract: no X-Accel-Buffering, four named
     * heartbeats unknown (no comment miss: they are 30 s apart at most). */

    st = version_live();
    run_stream(&r, "version-stream-gateway", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_HEADER, VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT,
           VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT);
}

static void test_eras_envelope(void **state)
{
    (void)state;
    struct stream st;
    struct run r;

    /* 2026 framing, late-2025 contract: nothing it knows. */
    st = envelope_live();
    st.st_ends = true;
    run_stream(&r, "task-stream-gateway", &st, "task_id", TASK_ID);
    EXPECT(&r, VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT,
           VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT,
           VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT, VIOLATION_UNKNOWN_EVENT,
           VIOLATION_UNKNOWN_EVENT, VIOLATION_STREAM_ENDED);

    /* Late-2025 stream, 2026 contract: named lifecycle events (unknown) and
     * no ready; the named task events keep the stream in connecting, whose
     * deadline reports the missing ready 2 s after the open. */
    st = gw_task_failed();
    run_stream(&r, "gateway-envelope", &st, "request_id", REQ_ID);
    EXPECT(&r, VIOLATION_UNKNOWN_EVENT, VIOLATION_ORDER, VIOLATION_UNKNOWN_EVENT,
           VIOLATION_STREAM_ENDED);
    expect_message(&r, 1, "still in state \"connecting\" 2000 ms after entering it");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faithful_baseline),
        cmocka_unit_test(test_faithful_gateway),
        cmocka_unit_test(test_mutations_payload),
        cmocka_unit_test(test_mutations_order),
        cmocka_unit_test(test_mutations_time_and_response),
        cmocka_unit_test(test_mutations_version),
        cmocka_unit_test(test_mutations_envelope),
        cmocka_unit_test(test_gateway_timestamps),
        cmocka_unit_test(test_eras_task),
        cmocka_unit_test(test_eras_version),
        cmocka_unit_test(test_eras_envelope),
    };
    return cmocka_run_group_tests(tests, shipped_setup, shipped_teardown);
}
