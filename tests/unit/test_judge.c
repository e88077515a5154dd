/* judge: a validator fed by a live or replayed stream, with its clock. Time
 * is injected everywhere: replays advance virtual time, and the live timer
 * reads a test clock that is set past the deadline before the timer is
 * armed, so it fires on the loop's next turn (no sleeping). */
#include "ssemon/io/judge.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

/* Single quotes stand for double quotes, for readability. Heartbeat limit
 * 2000 ms (1 s x 2), first event within 1000 ms, final state "end". */
static const char live_contract[] =
    "{'name': 'live',"
    " 'response': {'status': 200, 'headers': {"
    "   'Cache-Control': 'no-cache', 'X-Trace': {'present': true}}},"
    " 'events': {'hello': {'data': 'text'}, 'heartbeat': {'heartbeat': true, 'data': 'text'},"
    "   'bye': {'data': 'text'}},"
    " 'order': {'initial': 'start', 'states': {"
    "   'start': {'on': {'hello': 'live'}},"
    "   'live': {'on': {'heartbeat': 'live', 'bye': 'end'}},"
    "   'end': {'final': true}}},"
    " 'heartbeat': {'interval_s': 1, 'tolerance': 2},"
    " 'timing': {'first_event_ms': 1000, 'lifecycle_timeout_s': 60}}";

#define SEEN_MAX 16

struct seen {
    enum violation_class s_class;
    char s_message[512];
    uint64_t s_time;
};

struct fx {
    struct contract *f_c;
    struct judge *f_j;
    struct event_base *f_base;
    struct seen f_seen[SEEN_MAX];
    size_t f_n;
};

/* The live timer's clock; a test sets it before the timer is armed. */
static uint64_t test_clock_ms;

static uint64_t test_clock(void)
{
    return test_clock_ms;
}

static struct contract *compile_sq(const char *sq)
{
    char buf[4096];
    size_t n = strlen(sq);
    assert_true(n < sizeof(buf));
    for (size_t i = 0; i <= n; i++)
        buf[i] = sq[i] == '\'' ? '"' : sq[i];
    json_error_t jerr;
    json_t *doc = json_loads(buf, 0, &jerr);
    if (doc == NULL)
        fail_msg("contract JSON: %s", jerr.text);
    struct contract_error cerr;
    struct contract *c = contract_compile(doc, &cerr);
    json_decref(doc);
    if (c == NULL)
        fail_msg("contract_compile: %s: %s", cerr.ce_path, cerr.ce_message);
    return c;
}

static void on_violation(void *ctx, const struct violation *v)
{
    struct fx *f = ctx;
    assert_true(f->f_n < SEEN_MAX);
    struct seen *s = &f->f_seen[f->f_n++];
    s->s_class = v->v_class;
    snprintf(s->s_message, sizeof(s->s_message), "%s", v->v_message);
    s->s_time = v->v_time_ms;
}

/* `live`: on an event base with the test clock (with two priorities, as
 * the daemon's, when `prio`); else replayed. */
static struct fx *fx_new_base(bool live, bool timing, bool prio)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->f_c = compile_sq(live_contract);
    if (live) {
        f->f_base = event_base_new();
        assert_non_null(f->f_base);
        if (prio)
            assert_int_equal(event_base_priority_init(f->f_base, 2), 0);
    }
    const struct judge_options o = {
        .jo_contract = f->f_c,
        .jo_val = {.vo_timing = timing},
        .jo_base = f->f_base,
        .jo_clock = test_clock,
    };
    const struct judge_callbacks cb = {.jc_on_violation = on_violation};
    f->f_j = judge_new(&o, &cb, f);
    assert_non_null(f->f_j);
    return f;
}

static struct fx *fx_new(bool live, bool timing)
{
    return fx_new_base(live, timing, false);
}

static void fx_free(struct fx *f)
{
    judge_free(f->f_j);
    if (f->f_base != NULL)
        event_base_free(f->f_base);
    contract_free(f->f_c);
    free(f);
}

static void fx_event(struct fx *f, uint64_t now, const char *type)
{
    const struct sse_event ev = {type, strlen(type), "x", 1, "", 0};
    judge_event(f->f_j, now, &ev);
}

/* Headers that are not C strings: slices of one line, as the transport
 * hands them. */
static const char header_bytes[] = "Cache-Controlno-cacheX-Tracet-1";
static const struct sub_header good_headers[] = {
    {header_bytes, 13, header_bytes + 13, 8},
    {header_bytes + 21, 7, header_bytes + 28, 3},
};

static size_t fx_count(const struct fx *f, enum violation_class cls)
{
    size_t n = 0;
    for (size_t i = 0; i < f->f_n; i++)
        n += f->f_seen[i].s_class == cls;
    return n;
}

/* The latest violation, which must be the n-th in all and of class `cls`. */
static const struct seen *fx_last(const struct fx *f, size_t n, enum violation_class cls)
{
    assert_int_equal(f->f_n, n);
    const struct seen *s = &f->f_seen[n - 1];
    assert_int_equal(s->s_class, cls);
    return s;
}

/* ---- opening ---- */

static void test_open_transport_headers(void **state)
{
    (void)state;
    struct fx *f = fx_new(false, true);
    assert_false(judge_is_open(f->f_j));
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    assert_true(judge_is_open(f->f_j));
    assert_int_equal(f->f_n, 0);

    /* The first header of a name is judged; a missing one is reported. */
    const struct sub_header bad[] = {
        {"cache-control: no-store", 13, "no-store", 8},
        {"Cache-Control", 13, "no-cache", 8},
    };
    assert_int_equal(judge_open(f->f_j, 10, 200, bad, 2), 0);
    assert_int_equal(f->f_n, 2);
    assert_int_equal(fx_count(f, VIOLATION_HEADER), 2);
    assert_non_null(strstr(f->f_seen[0].s_message, "no-store"));
    fx_free(f);
}

static void test_open_recorded_headers(void **state)
{
    (void)state;
    struct fx *f = fx_new(false, true);
    const struct recording_field good[] = {
        {"Cache-Control", 13, "no-cache", 8},
        {"X-Trace", 7, "t-1", 3},
    };
    assert_int_equal(judge_open_recorded(f->f_j, 0, 200, good, 2), 0);
    assert_int_equal(f->f_n, 0);
    assert_int_equal(judge_open_recorded(f->f_j, 10, 200, good, 1), 0);
    assert_non_null(strstr(fx_last(f, 1, VIOLATION_HEADER)->s_message, "X-Trace"));
    fx_free(f);
}

static void test_open_status(void **state)
{
    (void)state;
    struct fx *f = fx_new(false, true);
    assert_int_equal(judge_open(f->f_j, 0, 503, good_headers, 2), 0);
    assert_string_equal(fx_last(f, 1, VIOLATION_HTTP_STATUS)->s_message,
                        "HTTP status 503, expected 200");
    /* A recorded status beyond int is clamped, not wrapped. */
    assert_int_equal(judge_open(f->f_j, 5, (long)INT64_C(4294967496), NULL, 0), 0);
    assert_string_equal(fx_last(f, 2, VIOLATION_HTTP_STATUS)->s_message,
                        "HTTP status 2147483647, expected 200");
    fx_free(f);
}

/* ---- closing ---- */

static void test_close_before_stream(void **state)
{
    (void)state;
    static const struct {
        enum stream_close_reason reason;
        const char *error;
        long status;
        const char *ctype;
        enum violation_class cls;
        const char *message;
    } cases[] = {
        {STREAM_CLOSE_TRANSPORT, "Connection refused", 0, "", VIOLATION_CONNECT_FAILED,
         "connection failed: Connection refused"},
        {STREAM_CLOSE_TRANSPORT, "", 0, "", VIOLATION_CONNECT_FAILED,
         "connection failed: transport"},
        {STREAM_CLOSE_IDLE_TIMEOUT, NULL, 0, NULL, VIOLATION_CONNECT_FAILED,
         "connection failed: idle_timeout"},
        {STREAM_CLOSE_HTTP_STATUS, "", 404, "", VIOLATION_HTTP_STATUS,
         "HTTP status 404, expected 200"},
        {STREAM_CLOSE_HTTP_STATUS, "too many redirects", 302, "", VIOLATION_HTTP_STATUS,
         "HTTP status 302: too many redirects"},
        {STREAM_CLOSE_CONTENT_TYPE, "", 200, "text/html", VIOLATION_CONTENT_TYPE,
         "content type \"text/html\", expected text/event-stream"},
        {STREAM_CLOSE_CONTENT_TYPE, "", 200, NULL, VIOLATION_CONTENT_TYPE,
         "content type \"\", expected text/event-stream"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx *f = fx_new(false, true);
        const struct sub_closed_info info = {
            .scl_reason = cases[i].reason,
            .scl_error = cases[i].error,
            .scl_status = cases[i].status,
            .scl_content_type = cases[i].ctype,
            .scl_before_headers = true,
        };
        assert_int_equal(judge_close(f->f_j, 42, &info, "unused"), JUDGE_END_UNOPENED);
        const struct seen *v = fx_last(f, 1, cases[i].cls);
        assert_string_equal(v->s_message, cases[i].message);
        assert_int_equal(v->s_time, 42);
        fx_free(f);
    }
}

static void test_close_content_type_cut(void **state)
{
    (void)state;
    struct fx *f = fx_new(false, true);
    char ctype[400];
    memset(ctype, 'a', sizeof(ctype) - 1);
    ctype[sizeof(ctype) - 1] = '\0';
    const struct sub_closed_info info = {
        .scl_reason = STREAM_CLOSE_CONTENT_TYPE,
        .scl_error = "",
        .scl_status = 200,
        .scl_content_type = ctype,
    };
    assert_int_equal(judge_close(f->f_j, 0, &info, NULL), JUDGE_END_UNOPENED);
    char want[300];
    snprintf(want, sizeof(want), "content type \"%.200s\", expected text/event-stream", ctype);
    assert_string_equal(f->f_seen[0].s_message, want);
    fx_free(f);
}

static void test_close_stopped_before_stream(void **state)
{
    (void)state;
    struct fx *f = fx_new(false, true);
    const struct sub_closed_info info = {.scl_reason = STREAM_CLOSE_STOPPED, .scl_error = ""};
    /* The daemon stopping a connection says nothing... */
    assert_int_equal(judge_close(f->f_j, 7, &info, NULL), JUDGE_END_STOPPED);
    assert_int_equal(f->f_n, 0);
    /* ...a check that gave up waiting says why. */
    assert_int_equal(judge_close(f->f_j, 9, &info, "interrupted"), JUDGE_END_STOPPED);
    const struct seen *v = fx_last(f, 1, VIOLATION_CONNECT_FAILED);
    assert_string_equal(v->s_message, "interrupted");
    assert_int_equal(v->s_time, 9);
    fx_free(f);
}

static void test_close_open_stream(void **state)
{
    (void)state;
    const struct sub_closed_info eof = {.scl_reason = STREAM_CLOSE_EOF, .scl_error = ""};
    const struct sub_closed_info reset = {.scl_reason = STREAM_CLOSE_TRANSPORT,
                                          .scl_error = "Connection reset by peer"};
    const struct sub_closed_info idle = {.scl_reason = STREAM_CLOSE_IDLE_TIMEOUT, .scl_error = ""};
    const struct sub_closed_info stop = {.scl_reason = STREAM_CLOSE_STOPPED, .scl_error = ""};

    /* A clean end in the final state: the contract's own end. */
    struct fx *f = fx_new(false, true);
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    fx_event(f, 10, "hello");
    fx_event(f, 20, "bye");
    assert_int_equal(judge_close(f->f_j, 30, &eof, "unused"), JUDGE_END_FINAL);
    assert_false(judge_is_open(f->f_j));
    assert_int_equal(f->f_n, 0);
    fx_free(f);

    /* A clean end before it: lost, and reported. */
    f = fx_new(false, true);
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    fx_event(f, 10, "hello");
    assert_int_equal(judge_close(f->f_j, 30, &eof, NULL), JUDGE_END_LOST);
    assert_int_equal(fx_last(f, 1, VIOLATION_STREAM_ENDED)->s_time, 30);
    fx_free(f);

    /* A transport error: lost, with its text. */
    f = fx_new(false, true);
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    fx_event(f, 10, "hello");
    assert_int_equal(judge_close(f->f_j, 30, &reset, NULL), JUDGE_END_LOST);
    assert_int_equal(fx_count(f, VIOLATION_STREAM_ENDED), 1);
    assert_non_null(strstr(f->f_seen[0].s_message, "Connection reset by peer"));
    assert_int_equal(judge_open(f->f_j, 40, 200, good_headers, 2), 0);
    fx_event(f, 50, "hello");
    assert_int_equal(judge_close(f->f_j, 60, &idle, NULL), JUDGE_END_LOST);
    assert_int_equal(fx_count(f, VIOLATION_STREAM_ENDED), 2);
    assert_non_null(strstr(f->f_seen[1].s_message, "idle_timeout"));
    fx_free(f);

    /* Broken after the final state: nothing left to report, but not the
     * contract's own end either. */
    f = fx_new(false, true);
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    fx_event(f, 10, "hello");
    fx_event(f, 20, "bye");
    assert_int_equal(judge_close(f->f_j, 30, &reset, NULL), JUDGE_END_LOST);
    assert_int_equal(f->f_n, 0);
    fx_free(f);

    /* Stopped by the caller: not judged, whatever the state. */
    f = fx_new(false, true);
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    fx_event(f, 10, "hello");
    assert_int_equal(judge_close(f->f_j, 30, &stop, "unused"), JUDGE_END_STOPPED);
    assert_int_equal(f->f_n, 0);
    assert_false(judge_is_open(f->f_j));
    fx_free(f);
}

static void test_close_detail(void **state)
{
    (void)state;
    const struct sub_closed_info with = {.scl_reason = STREAM_CLOSE_TRANSPORT, .scl_error = "boom"};
    const struct sub_closed_info empty = {.scl_reason = STREAM_CLOSE_IDLE_TIMEOUT, .scl_error = ""};
    const struct sub_closed_info none = {.scl_reason = STREAM_CLOSE_EOF};
    assert_string_equal(judge_close_detail(&with), "boom");
    assert_string_equal(judge_close_detail(&empty), "idle_timeout");
    assert_string_equal(judge_close_detail(&none), "eof");
}

/* ---- raw bytes: the judge's own parser ---- */

static void test_feed_parses_at_feed_time(void **state)
{
    (void)state;
    struct fx *f = fx_new(false, true);
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    /* An event split across feeds is judged at the time of the feed that
     * completes it. */
    static const char a[] = "event: hello\ndata: x\n\nevent: sur";
    static const char b[] = "prise\ndata: x\n\n";
    assert_int_equal(judge_feed(f->f_j, 10, a, sizeof(a) - 1), 0);
    assert_int_equal(f->f_n, 0);
    assert_int_equal(judge_feed(f->f_j, 700, b, sizeof(b) - 1), 0);
    assert_int_equal(fx_last(f, 1, VIOLATION_UNKNOWN_EVENT)->s_time, 700);
    /* A comment and an anomaly go the same way. */
    static const char c[] = ": ping\nbogus: 1\n\n";
    assert_int_equal(judge_feed(f->f_j, 800, c, sizeof(c) - 1), 0);
    assert_int_equal(fx_last(f, 2, VIOLATION_SSE_SYNTAX)->s_time, 800);
    /* The stream ends inside its last event: dropped, so the final state
     * is never reached. */
    static const char d[] = "event: bye\ndata: x\n";
    assert_int_equal(judge_feed(f->f_j, 900, d, sizeof(d) - 1), 0);
    const struct sub_closed_info eof = {.scl_reason = STREAM_CLOSE_EOF, .scl_error = ""};
    assert_int_equal(judge_close(f->f_j, 1000, &eof, NULL), JUDGE_END_LOST);
    assert_int_equal(fx_last(f, 3, VIOLATION_STREAM_ENDED)->s_time, 1000);
    /* The next connection starts clean: its leading blank line dispatches
     * nothing left over from the last. */
    assert_int_equal(judge_open(f->f_j, 2000, 200, good_headers, 2), 0);
    static const char e[] = "\nevent: hello\ndata: x\n\nevent: bye\ndata: x\n\n";
    assert_int_equal(judge_feed(f->f_j, 2100, e, sizeof(e) - 1), 0);
    assert_int_equal(judge_close(f->f_j, 2200, &eof, NULL), JUDGE_END_FINAL);
    assert_int_equal(f->f_n, 3);
    fx_free(f);
}

/* ---- the final state ---- */

static void test_final_noted(void **state)
{
    (void)state;
    struct fx *f = fx_new(false, true);
    const struct sub_closed_info stop = {.scl_reason = STREAM_CLOSE_STOPPED, .scl_error = ""};
    uint64_t at = 99;
    assert_false(judge_final_reached(f->f_j, &at));
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    fx_event(f, 10, "hello");
    assert_false(judge_final_reached(f->f_j, &at));
    assert_int_equal(at, 99);
    fx_event(f, 250, "bye");
    assert_true(judge_final_reached(f->f_j, &at));
    assert_int_equal(at, 250);
    /* The first time counts: later calls keep it. */
    judge_comment(f->f_j, 300, " ping", 5);
    assert_true(judge_final_reached(f->f_j, NULL));
    assert_true(judge_final_reached(f->f_j, &at));
    assert_int_equal(at, 250);
    /* Over with the connection, and not carried into the next. */
    judge_close(f->f_j, 400, &stop, NULL);
    assert_false(judge_final_reached(f->f_j, &at));
    assert_int_equal(judge_open(f->f_j, 500, 200, good_headers, 2), 0);
    assert_false(judge_final_reached(f->f_j, &at));
    fx_free(f);
}

/* ---- replay: virtual time ---- */

static void test_replay_fires_at_deadlines(void **state)
{
    (void)state;
    struct fx *f = fx_new(false, true);
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    /* Up to the millisecond before the first-event deadline: nothing. */
    judge_advance(f->f_j, 1000);
    assert_int_equal(f->f_n, 0);
    /* Far past it: reported at the deadline's own time, once. */
    judge_advance(f->f_j, 1500);
    assert_int_equal(fx_last(f, 1, VIOLATION_FIRST_EVENT_LATE)->s_time, 1001);
    judge_advance(f->f_j, 1600);
    assert_int_equal(f->f_n, 1);

    /* Heartbeats: the window is 2000 ms; silence after 1700 is reported
     * at 3701, the heartbeat at 5000 restarts the window. */
    fx_event(f, 1600, "hello");
    fx_event(f, 1700, "heartbeat");
    judge_advance(f->f_j, 3700);
    assert_int_equal(f->f_n, 1);
    judge_advance(f->f_j, 5000);
    assert_int_equal(fx_last(f, 2, VIOLATION_HEARTBEAT_MISSED)->s_time, 3701);
    fx_event(f, 5000, "heartbeat");
    judge_advance(f->f_j, 20000);
    assert_int_equal(fx_last(f, 3, VIOLATION_HEARTBEAT_MISSED)->s_time, 7001);

    /* The lifecycle limit (60 s from the open) comes due in one long
     * silence, after the heartbeat rule's once-per-window report. */
    judge_advance(f->f_j, 100000);
    assert_int_equal(fx_last(f, 4, VIOLATION_LIFECYCLE_TIMEOUT)->s_time, 60001);
    fx_free(f);
}

static void test_replay_events_catch_up(void **state)
{
    (void)state;
    /* Without judge_advance, an event late in virtual time still finds
     * what its time broke, at its own time (the validator applies the time
     * rules first). */
    struct fx *f = fx_new(false, true);
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    fx_event(f, 1800, "hello");
    assert_int_equal(fx_last(f, 1, VIOLATION_FIRST_EVENT_LATE)->s_time, 1800);
    fx_free(f);
}

static void test_raw_no_timing(void **state)
{
    (void)state;
    struct fx *f = fx_new(false, false);
    judge_begin(f->f_j, 5);
    assert_true(judge_is_open(f->f_j));
    judge_advance(f->f_j, UINT64_MAX - 1);
    fx_event(f, 10, "hello");
    assert_int_equal(f->f_n, 0);
    const struct sub_closed_info eof = {.scl_reason = STREAM_CLOSE_EOF, .scl_error = ""};
    assert_int_equal(judge_close(f->f_j, 20, &eof, NULL), JUDGE_END_LOST);
    fx_last(f, 1, VIOLATION_STREAM_ENDED);
    fx_free(f);
}

/* ---- live: the judge's own timer ---- */

static int fx_pending(const struct fx *f)
{
    return event_base_get_num_events(f->f_base, EVENT_BASE_COUNT_ADDED);
}

static void test_live_timer_ticks(void **state)
{
    (void)state;
    struct fx *f = fx_new(true, true);
    assert_int_equal(fx_pending(f), 0);
    /* The clock is already past the first-event deadline (1001) when the
     * stream opens at 0: the timer is due at once, and its tick judges at
     * the clock's time, with no call from the caller. */
    test_clock_ms = 1500;
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    assert_int_equal(f->f_n, 0);
    assert_int_equal(fx_pending(f), 1);
    assert_int_equal(event_base_loop(f->f_base, EVLOOP_ONCE), 0);
    assert_int_equal(fx_last(f, 1, VIOLATION_FIRST_EVENT_LATE)->s_time, 1500);
    /* Re-armed for what comes next (the lifecycle limit). */
    assert_int_equal(fx_pending(f), 1);
    judge_disarm(f->f_j);
    assert_int_equal(fx_pending(f), 0);
    /* Any call arms it again. */
    fx_event(f, 1600, "hello");
    assert_int_equal(fx_pending(f), 1);
    fx_free(f);
}

static void test_live_timer_stops_and_restarts(void **state)
{
    (void)state;
    struct fx *f = fx_new(true, true);
    test_clock_ms = 0;
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    assert_int_equal(fx_pending(f), 1);
    /* A stream that ends leaves no deadline: the timer stops. */
    const struct sub_closed_info eof = {.scl_reason = STREAM_CLOSE_EOF, .scl_error = ""};
    assert_int_equal(judge_close(f->f_j, 10, &eof, NULL), JUDGE_END_LOST);
    assert_int_equal(fx_pending(f), 0);
    /* The next stream arms it again; its heartbeat window (from the first
     * event at 150) is due by the clock, so it fires on the loop's next
     * turn. */
    test_clock_ms = 10000;
    assert_int_equal(judge_open(f->f_j, 100, 200, good_headers, 2), 0);
    fx_event(f, 150, "hello");
    assert_int_equal(fx_pending(f), 1);
    assert_int_equal(event_base_loop(f->f_base, EVLOOP_ONCE), 0);
    /* The first stream's end, then the window: the first event was in time. */
    assert_int_equal(fx_last(f, 2, VIOLATION_HEARTBEAT_MISSED)->s_time, 10000);
    fx_free(f);
}

/* ---- live: a loop stall is not charged to the stream ---- */

/* A socket with bytes that waited during a stall: an event at the sockets'
 * priority, made ready before the loop turns, which delivers a heartbeat
 * at the clock's time when the loop reads it. */
static void socket_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fx_event(arg, test_clock_ms, "heartbeat");
}

/* Runs what the loop has to run now: one non-blocking loop call turns
 * until nothing is active (a timer armed for later stays armed). */
static void fx_drain(struct fx *f)
{
    assert_int_equal(event_base_loop(f->f_base, EVLOOP_NONBLOCK), 0);
}

/* A stream whose window is due at 2001, the timer armed for it at once. */
static struct fx *fx_stall_ready(void)
{
    struct fx *f = fx_new_base(true, true, true);
    test_clock_ms = 2001;
    assert_int_equal(judge_open(f->f_j, 0, 200, good_headers, 2), 0);
    fx_event(f, 0, "hello");
    assert_int_equal(fx_pending(f), 1);
    return f;
}

/* The loop was held from 2001 to 5000 while a heartbeat waited in the
 * socket: the timer, which runs before sockets, fires 3 s late and must not
 * report the silence it could not observe; the heartbeat is read, then the
 * judge looks again and finds the stream in time. */
static void test_live_stall_not_charged(void **state)
{
    (void)state;
    struct fx *f = fx_stall_ready();
    struct event *sock = event_new(f->f_base, -1, 0, socket_heartbeat, f);
    assert_non_null(sock);
    test_clock_ms = 5000;
    event_active(sock, EV_READ, 0);
    fx_drain(f);
    assert_int_equal(f->f_n, 0);
    const struct validator_stats *st = validator_stats(judge_validator(f->f_j));
    assert_int_equal(st->vs_heartbeats, 1);
    assert_int_equal(st->vs_unobserved_ms, 3000);
    /* the gap the histograms see is the observed one */
    assert_int_equal(st->vs_last_heartbeat_gap_ms, 2000);
    /* re-armed for the next window (lifecycle 60 s from the open, moved by
     * the stall; the window from the heartbeat) */
    assert_int_equal(fx_pending(f), 1);
    assert_int_equal(validator_next_deadline(judge_validator(f->f_j)), 7001);
    event_free(sock);
    fx_free(f);
}

/* The same stall with nothing in the socket: the stream had been silent
 * for its whole limit when the loop stopped looking, and is reported as
 * soon as the loop looks on its own again. */
static void test_live_stall_silent_stream_reported(void **state)
{
    (void)state;
    struct fx *f = fx_stall_ready();
    test_clock_ms = 5000;
    fx_drain(f);
    assert_int_equal(f->f_n, 0);
    /* due 1 ms later on the test clock (and on libevent's) */
    assert_int_equal(validator_next_deadline(judge_validator(f->f_j)), 5001);
    test_clock_ms = 5001;
    assert_int_equal(event_base_loop(f->f_base, EVLOOP_ONCE), 0);
    const struct seen *v = fx_last(f, 1, VIOLATION_HEARTBEAT_MISSED);
    assert_int_equal(v->s_time, 5001);
    assert_string_equal(v->s_message,
                        "no heartbeat for 2001 ms (limit 2000 ms: interval 1000 ms x 2)");
    fx_free(f);
}

/* A timer late by less than a stall judges at once, as always. */
static void test_live_late_timer_judges(void **state)
{
    (void)state;
    struct fx *f = fx_stall_ready();
    test_clock_ms = 2080;
    assert_int_equal(event_base_loop(f->f_base, EVLOOP_ONCE), 0);
    assert_int_equal(fx_last(f, 1, VIOLATION_HEARTBEAT_MISSED)->s_time, 2080);
    assert_int_equal(validator_stats(judge_validator(f->f_j))->vs_unobserved_ms, 0);
    fx_free(f);
}

struct seen_kinds {
    char sk_kinds[8][16];
    uint64_t sk_now[8];
    size_t sk_n;
};

static void on_seen(void *ctx, uint64_t now_ms, const struct validator_seen *s)
{
    struct seen_kinds *k = ctx;
    assert_true(k->sk_n < 8);
    snprintf(k->sk_kinds[k->sk_n], sizeof(k->sk_kinds[0]), "%s", s->vsn_kind);
    k->sk_now[k->sk_n++] = now_ms;
}

/* The options' observer sees what the judge's own parser produced, at the
 * time of the bytes. */
static void test_seen_passed_through(void **state)
{
    (void)state;
    struct seen_kinds k = {0};
    struct fx f = {0};
    f.f_c = compile_sq(live_contract);
    const struct judge_options o = {
        .jo_contract = f.f_c,
        .jo_val = {.vo_timing = true, .vo_on_seen = on_seen, .vo_seen_ctx = &k},
    };
    const struct judge_callbacks cb = {.jc_on_violation = on_violation};
    f.f_j = judge_new(&o, &cb, &f);
    assert_non_null(f.f_j);
    judge_begin(f.f_j, 0);
    static const char bytes[] = "event: hello\ndata: x\n\nevent: odd\ndata: y\n\n"
                                "event: bye\ndata: z\n\n";
    assert_int_equal(judge_feed(f.f_j, 40, bytes, strlen(bytes)), 0);
    assert_int_equal(k.sk_n, 2);
    assert_string_equal(k.sk_kinds[0], "hello");
    assert_string_equal(k.sk_kinds[1], "bye");
    assert_int_equal(k.sk_now[1], 40);
    assert_int_equal(fx_count(&f, VIOLATION_UNKNOWN_EVENT), 1);
    judge_free(f.f_j);
    contract_free(f.f_c);
}

/* An attempt that could not start: its own words, connect_failed alone. */
static void test_connect_failed_message(void **state)
{
    (void)state;
    struct fx *f = fx_new(false, true);
    judge_connect_failed(f->f_j, 5, "cannot prepare the request");
    assert_int_equal(f->f_n, 1);
    assert_int_equal(f->f_seen[0].s_class, VIOLATION_CONNECT_FAILED);
    assert_string_equal(f->f_seen[0].s_message, "cannot prepare the request");
    assert_false(judge_is_open(f->f_j));
    assert_int_equal(judge_set_vars(f->f_j, NULL, 0), 0);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_transport_headers),
        cmocka_unit_test(test_seen_passed_through),
        cmocka_unit_test(test_connect_failed_message),
        cmocka_unit_test(test_open_recorded_headers),
        cmocka_unit_test(test_open_status),
        cmocka_unit_test(test_close_before_stream),
        cmocka_unit_test(test_close_content_type_cut),
        cmocka_unit_test(test_close_stopped_before_stream),
        cmocka_unit_test(test_close_open_stream),
        cmocka_unit_test(test_close_detail),
        cmocka_unit_test(test_feed_parses_at_feed_time),
        cmocka_unit_test(test_final_noted),
        cmocka_unit_test(test_replay_fires_at_deadlines),
        cmocka_unit_test(test_replay_events_catch_up),
        cmocka_unit_test(test_raw_no_timing),
        cmocka_unit_test(test_live_timer_ticks),
        cmocka_unit_test(test_live_timer_stops_and_restarts),
        cmocka_unit_test(test_live_stall_not_charged),
        cmocka_unit_test(test_live_stall_silent_stream_reported),
        cmocka_unit_test(test_live_late_timer_judges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
