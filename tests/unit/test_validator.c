#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ssemon/base/utf8.h"
#include "ssemon/core/contract.h"
#include "ssemon/core/sse_parser.h"
#include "ssemon/core/validator.h"
#include "ssemon/core/violation.h"
#include "ssemon/json/json_tape.h"

/* Contracts and payloads below are written with single quotes, turned into
 * double quotes before parsing, so they stay readable. */

#define TASK_ID "0b5e2a3c-1d4f-4a6b-9c8d-7e6f5a4b3c2d"

static const char task_contract[] =
    "{'name': 'task', 'variables': ['task_id'],"
    " 'response': {'status': 200, 'headers': {"
    "   'Cache-Control': 'no-cache',"
    "   'X-Accel-Buffering': {'pattern': '^no$'},"
    "   'X-Debug': {'absent': true},"
    "   'X-Trace': {'present': true}}},"
    " 'events': {"
    "   'connection_open': {'schema': {'type': 'object',"
    "       'properties': {'status': {'const': 'connected'}}, 'required': ['status']}},"
    "   'heartbeat': {'heartbeat': true, 'schema': {'type': 'object'}},"
    "   'task_event': {'schema': {'type': 'object', 'required': ['event_type', 'task_id']},"
    "       'discriminator': '/event_type',"
    "       'variants': {'task_started': true,"
    "           'progress_update': {'properties': {'data': {'type': 'object',"
    "               'properties': {'value': {'type': 'number', 'minimum': 0, 'maximum': 1}}}}},"
    "           'task_completed': true, 'task_failed': true},"
    "       'equals': {'/task_id': 'task_id'}},"
    "   'error': {},"
    "   'connection_close': {'schema': {'type': 'object', 'required': ['reason']}}},"
    " 'order': {'initial': 'connecting', 'states': {"
    "   'connecting': {'on': {'connection_open': 'waiting'}},"
    "   'waiting': {'on': {'heartbeat': 'waiting', 'task_event:task_started': 'running',"
    "       'error': 'not_found'}},"
    "   'running': {'on': {'heartbeat': 'running', 'task_event:progress_update': 'running',"
    "       'task_event:task_completed': 'done', 'task_event:task_failed': 'done'}},"
    "   'done': {'on': {'heartbeat': 'done', 'connection_close': 'closed'}},"
    "   'not_found': {'on': {'connection_close': 'closed'}},"
    "   'closed': {'final': true}}},"
    " 'heartbeat': {'interval_s': 5, 'tolerance': 2.0},"
    " 'timing': {'first_event_ms': 1000, 'lifecycle_timeout_s': 60}}";

static const char plain_contract[] = "{'name': 'plain', 'events': {'note': {'data': 'text'},"
                                     " 'obj': {'schema': {'type': 'object'}}}}";

/* @@: the heartbeat section's extra keys. */
static const char live_contract_fmt[] =
    "{'name': 'live', 'events': {'heartbeat': {'heartbeat': true, 'data': 'text'},"
    " 'data': {'data': 'text'}},"
    " 'heartbeat': {'interval_s': 5, 'tolerance': 2 @@},"
    " 'timing': {'first_event_ms': 1000}}";

/* @@: the correlation_id section. */
static const char cid_contract_fmt[] =
    "{'name': 'cid', 'variables': ['request_id'],"
    " 'events': {'version': {}, 'raw': {'correlation_id': false}},"
    " 'correlation_id': @@}";

static const char envelope_contract[] =
    "{'name': 'env', 'envelope': {'type': '/type', 'payload': '/payload'},"
    " 'events': {'ready': {'data': 'text'}, 'notice': {'data': 'text'},"
    "   'rejected': {'schema': {'type': 'object', 'required': ['status', 'message']}},"
    "   'task_event': {'schema': {'type': 'object', 'required': ['task_id'],"
    "       'properties': {'task_id': {'type': 'string'}}}}},"
    " 'order': {'initial': 'start', 'states': {"
    "   'start': {'on': {'ready': 'live'}},"
    "   'live': {'on': {'ready': 'live', 'task_event': 'live', 'rejected': 'gone'}},"
    "   'gone': {'final': true}}},"
    " 'heartbeat': {'interval_s': 15, 'comments': true}}";

#define REC_MAX 32

struct rec_v {
    enum violation_class rv_class;
    enum violation_severity rv_sev;
    char rv_msg[1200];
    char rv_event[200];
    char rv_state[100];
    char rv_excerpt[VIOLATION_EXCERPT_MAX + 1];
    bool rv_has_event;
    bool rv_has_state;
    bool rv_has_excerpt;
    uint64_t rv_time;
};

struct fx {
    struct contract *f_c;
    struct validator *f_v;
    struct sse_parser *f_p;
    uint64_t f_now; /* time given to what the parser reports */
    struct rec_v f_r[REC_MAX];
    size_t f_n;
};

static void squote(char *out, size_t cap, const char *in)
{
    size_t n = strlen(in);
    assert_true(n < cap);
    for (size_t i = 0; i <= n; i++)
        out[i] = in[i] == '\'' ? '"' : in[i];
}

static struct contract *compile_sq(const char *sq)
{
    char buf[8192];
    json_error_t jerr;
    struct contract_error cerr;
    struct contract *c;
    json_t *doc;

    squote(buf, sizeof(buf), sq);
    doc = json_loads(buf, 0, &jerr);
    if (doc == NULL)
        fail_msg("contract JSON: %s at %d:%d", jerr.text, jerr.line, jerr.column);
    c = contract_compile(doc, &cerr);
    json_decref(doc);
    if (c == NULL)
        fail_msg("contract_compile: %s: %s", cerr.ce_path, cerr.ce_message);
    return c;
}

static void copy_opt(char *out, size_t cap, const char *s, bool *has)
{
    *has = s != NULL;
    snprintf(out, cap, "%s", s != NULL ? s : "");
}

static void on_report(void *ctx, const struct violation *vi)
{
    struct fx *f = ctx;
    struct rec_v *r;

    assert_true(f->f_n < REC_MAX);
    r = &f->f_r[f->f_n++];
    r->rv_class = vi->v_class;
    r->rv_sev = vi->v_severity;
    r->rv_time = vi->v_time_ms;
    assert_non_null(vi->v_message);
    snprintf(r->rv_msg, sizeof(r->rv_msg), "%s", vi->v_message);
    copy_opt(r->rv_event, sizeof(r->rv_event), vi->v_event, &r->rv_has_event);
    copy_opt(r->rv_state, sizeof(r->rv_state), vi->v_state, &r->rv_has_state);
    copy_opt(r->rv_excerpt, sizeof(r->rv_excerpt), vi->v_excerpt, &r->rv_has_excerpt);
    if (vi->v_excerpt != NULL)
        assert_true(strlen(vi->v_excerpt) <= VIOLATION_EXCERPT_MAX);
}

static void fx_on_event(void *ctx, const struct sse_event *ev)
{
    struct fx *f = ctx;
    validator_event(f->f_v, f->f_now, ev);
}

static void fx_on_comment(void *ctx, const char *text, size_t len)
{
    struct fx *f = ctx;
    validator_comment(f->f_v, f->f_now, text, len);
}

static void fx_on_anomaly(void *ctx, enum sse_anomaly kind, const char *line, size_t len)
{
    struct fx *f = ctx;
    validator_anomaly(f->f_v, f->f_now, kind, line, len);
}

static struct fx *fx_new_c(struct contract *c, const struct validator_options *opts)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct sse_parser_callbacks cbs = {fx_on_event, fx_on_comment, NULL, fx_on_anomaly};

    assert_non_null(f);
    f->f_c = c;
    f->f_v = validator_new(f->f_c, opts, on_report, f);
    assert_non_null(f->f_v);
    f->f_p = sse_parser_new(NULL, &cbs, f);
    assert_non_null(f->f_p);
    return f;
}

static struct fx *fx_new(const char *sq, const struct validator_options *opts)
{
    return fx_new_c(compile_sq(sq), opts);
}

/* The template's "@@" replaced by `arg`. */
static struct fx *fx_newf(const char *tmpl, const char *arg, const struct validator_options *opts)
{
    char buf[4096];
    const char *at = strstr(tmpl, "@@");

    assert_non_null(at);
    assert_true(strlen(tmpl) + strlen(arg) < sizeof(buf));
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - tmpl), tmpl, arg, at + 2);
    return fx_new(buf, opts);
}

static void fx_free(struct fx *f)
{
    sse_parser_free(f->f_p);
    validator_free(f->f_v);
    contract_free(f->f_c);
    free(f);
}

static void ev(struct fx *f, uint64_t t, const char *type, const char *sq_data)
{
    char data[4096];
    struct sse_event e;

    squote(data, sizeof(data), sq_data);
    e.type = type;
    e.type_len = strlen(type);
    e.data = data;
    e.data_len = strlen(data);
    e.id = "";
    e.id_len = 0;
    validator_event(f->f_v, t, &e);
}

/* Raw stream bytes through the parser, reported at time t. */
static void feed(struct fx *f, uint64_t t, const char *bytes)
{
    f->f_now = t;
    assert_int_equal(sse_parser_feed(f->f_p, bytes, strlen(bytes)), 0);
}

static const struct validator_header good_headers[] = {
    {"Content-Type", "text/event-stream; charset=utf-8"},
    {"Cache-Control", "no-cache"},
    {"X-Accel-Buffering", "no"},
    {"X-Trace", "abc"},
};
#define N_GOOD (sizeof(good_headers) / sizeof(good_headers[0]))

static void open_ok(struct fx *f, uint64_t t)
{
    validator_open(f->f_v, t, 200, good_headers, N_GOOD);
}

static void expect(const struct fx *f, size_t i, enum violation_class cls, const char *msg)
{
    if (i >= f->f_n)
        fail_msg("violation %zu expected (%s: %s), only %zu reported", i, violation_class_name(cls),
                 msg, f->f_n);
    if (f->f_r[i].rv_class != cls || strcmp(f->f_r[i].rv_msg, msg) != 0)
        fail_msg("violation %zu: got %s \"%s\", expected %s \"%s\"", i,
                 violation_class_name(f->f_r[i].rv_class), f->f_r[i].rv_msg,
                 violation_class_name(cls), msg);
}

static void expect_prefix(const struct fx *f, size_t i, enum violation_class cls,
                          const char *prefix)
{
    assert_true(i < f->f_n);
    assert_string_equal(violation_class_name(f->f_r[i].rv_class), violation_class_name(cls));
    if (strncmp(f->f_r[i].rv_msg, prefix, strlen(prefix)) != 0)
        fail_msg("violation %zu: \"%s\" does not start with \"%s\"", i, f->f_r[i].rv_msg, prefix);
    assert_true(strlen(f->f_r[i].rv_msg) > strlen(prefix));
}

static void expect_n(const struct fx *f, size_t n)
{
    if (f->f_n != n) {
        for (size_t i = 0; i < f->f_n; i++)
            print_message("  [%zu] %s: %s\n", i, violation_class_name(f->f_r[i].rv_class),
                          f->f_r[i].rv_msg);
        fail_msg("%zu violations reported, expected %zu", f->f_n, n);
    }
}

static const struct validator_var task_var = {"task_id", TASK_ID};
static const struct validator_options task_opts = {
    .vo_vars = &task_var, .vo_n_vars = 1, .vo_timing = true};

#define STARTED "{'event_type': 'task_started', 'task_id': '" TASK_ID "', 'data': null}"
#define PROGRESS(v)                                                                                \
    "{'event_type': 'progress_update', 'task_id': '" TASK_ID                                       \
    "', 'data': {'text': 'Step', 'value': " v "}}"
#define COMPLETED "{'event_type': 'task_completed', 'task_id': '" TASK_ID "', 'data': null}"
#define HB "{'timestamp': '2025-11-19T21:00:00.123456+00:00'}"
#define OPEN "{'status': 'connected'}"
#define CLOSE "{'reason': 'task_completed'}"

/* connecting -> waiting -> running, at t = 100 and 200. */
static struct fx *task_running(void)
{
    struct fx *f = fx_new(task_contract, &task_opts);
    open_ok(f, 0);
    ev(f, 100, "connection_open", OPEN);
    ev(f, 200, "task_event", STARTED);
    assert_string_equal(validator_state(f->f_v), "running");
    expect_n(f, 0);
    return f;
}

/* ---- a faithful stream ---- */

static void test_faithful_stream(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);
    const struct validator_stats *st = validator_stats(f->f_v);

    assert_string_equal(validator_state(f->f_v), "connecting");
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    open_ok(f, 0);
    /* first event 1000 ms, lifecycle 60 s; no window before the first event */
    assert_int_equal(validator_next_deadline(f->f_v), 1001);
    ev(f, 100, "connection_open", OPEN);
    assert_int_equal(validator_next_deadline(f->f_v), 10101);
    ev(f, 200, "task_event", STARTED);
    ev(f, 3000, "task_event", PROGRESS("0.5"));
    ev(f, 8000, "heartbeat", HB);
    ev(f, 9000, "task_event", COMPLETED);
    assert_string_equal(validator_state(f->f_v), "done");
    assert_false(validator_in_final_state(f->f_v));
    assert_int_equal(validator_next_deadline(f->f_v), 19001);
    ev(f, 9001, "connection_close", CLOSE);
    assert_string_equal(validator_state(f->f_v), "closed");
    assert_true(validator_in_final_state(f->f_v));
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    validator_end(f->f_v, 9002, NULL);
    expect_n(f, 0);

    assert_int_equal(st->vs_events, 6);
    assert_int_equal(st->vs_heartbeats, 1);
    assert_int_equal(st->vs_first_event_latency_ms, 100);
    assert_int_equal(st->vs_last_event_ms, 9001);
    assert_int_equal(st->vs_last_heartbeat_ms, 8000);
    /* the progress update at 3000 restarted the window */
    assert_int_equal(st->vs_last_heartbeat_gap_ms, 5000);
    for (int i = 0; i < VIOLATION_CLASS_COUNT; i++)
        assert_int_equal(st->vs_violations[i], 0);
    fx_free(f);
}

static void test_faithful_stream_through_parser(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);
    char buf[1024];

    open_ok(f, 0);
    squote(buf, sizeof(buf), "event: connection_open\ndata: " OPEN "\n\n");
    feed(f, 50, buf);
    squote(buf, sizeof(buf), "event: task_event\ndata: " STARTED "\n\nevent: task_event\ndata: ");
    feed(f, 60, buf);
    squote(buf, sizeof(buf), PROGRESS("1") "\n\nevent: task_event\ndata: " COMPLETED "\n\n");
    feed(f, 70, buf);
    squote(buf, sizeof(buf), "event: connection_close\ndata: " CLOSE "\n\n");
    feed(f, 80, buf);
    sse_parser_end(f->f_p);
    validator_end(f->f_v, 90, NULL);
    expect_n(f, 0);
    assert_string_equal(validator_state(f->f_v), "closed");
    assert_int_equal(validator_stats(f->f_v)->vs_events, 5);
    fx_free(f);
}

/* ---- connection facts ---- */

static void test_connect_failed_alone(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);

    validator_connect_failed(f->f_v, 50, VIOLATION_CONNECT_FAILED, "connection refused");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_CONNECT_FAILED, "connection refused");
    assert_int_equal(f->f_r[0].rv_sev, VIOLATION_ERROR);
    assert_int_equal(f->f_r[0].rv_time, 50);
    assert_false(f->f_r[0].rv_has_event);
    assert_false(f->f_r[0].rv_has_excerpt);
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    validator_tick(f->f_v, 100000);
    validator_end(f->f_v, 100001, "refused");
    expect_n(f, 1);

    validator_connect_failed(f->f_v, 200000, VIOLATION_CONTENT_TYPE, NULL);
    expect_n(f, 2);
    expect(f, 1, VIOLATION_CONTENT_TYPE, "content_type");
    assert_int_equal(validator_stats(f->f_v)->vs_violations[VIOLATION_CONNECT_FAILED], 1);
    assert_int_equal(validator_stats(f->f_v)->vs_violations[VIOLATION_CONTENT_TYPE], 1);
    fx_free(f);
}

static void test_http_status_alone(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);

    validator_open(f->f_v, 10, 404, NULL, 0);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_HTTP_STATUS, "HTTP status 404, expected 200");
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    validator_end(f->f_v, 20, NULL);
    expect_n(f, 1);
    fx_free(f);
}

static void test_headers(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);
    const struct validator_header bad[] = {
        {"cache-control", "no-store"},
        {"X-Accel-Buffering", " yes "},
        {"X-DEBUG", "1"},
    };
    const struct validator_header fine[] = {
        {"CACHE-CONTROL", "  no-cache\t"},
        {"x-accel-buffering", "no"},
        {"x-trace", ""},
    };
    const struct validator_header quoted[] = {
        {"Cache-Control", "a\"b\x01"},
        {"X-Accel-Buffering", "no"},
        {"X-Trace", "1"},
    };

    validator_open(f->f_v, 0, 200, bad, 3);
    expect_n(f, 4);
    expect(f, 0, VIOLATION_HEADER, "header Cache-Control is \"no-store\", expected \"no-cache\"");
    assert_string_equal(f->f_r[0].rv_excerpt, "no-store");
    expect(f, 1, VIOLATION_HEADER, "header X-Accel-Buffering is \"yes\", does not match \"^no$\"");
    expect(f, 2, VIOLATION_HEADER, "header X-Debug present (\"1\"), must be absent");
    expect(f, 3, VIOLATION_HEADER, "header X-Trace missing");
    assert_string_equal(f->f_r[3].rv_state, "connecting");
    validator_end(f->f_v, 1, NULL);
    f->f_n = 0;

    validator_open(f->f_v, 10, 200, NULL, 0);
    expect_n(f, 3);
    expect(f, 0, VIOLATION_HEADER, "header Cache-Control missing (expected \"no-cache\")");
    expect(f, 1, VIOLATION_HEADER, "header X-Accel-Buffering missing (expected to match \"^no$\")");
    expect(f, 2, VIOLATION_HEADER, "header X-Trace missing");
    validator_end(f->f_v, 11, NULL);
    f->f_n = 0;

    validator_open(f->f_v, 20, 200, fine, 3);
    expect_n(f, 0);
    validator_end(f->f_v, 21, NULL);
    f->f_n = 0;

    validator_open(f->f_v, 30, 200, quoted, 3);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_HEADER,
           "header Cache-Control is \"a\\\"b\\x01\", expected \"no-cache\"");
    fx_free(f);
}

/* Header patterns are ECMA-262 (\\d, \\w...); a value whose search hits the pattern's cost limit is
 * a violation that says so, not a pass; a value that is not UTF-8 is searched, not refused. */
static void test_header_patterns_ecma(void **state)
{
    (void)state;
    struct fx *f = fx_new("{'name': 'h', 'events': {'e': {}},"
                          " 'response': {'headers': {"
                          "   'X-Id': {'pattern': '^\\\\d{3}-\\\\w+$'},"
                          "   'X-Slow': {'pattern': '^(a+)+$'}}}}",
                          &task_opts);
    char slow[64];
    memset(slow, 'a', sizeof(slow) - 2);
    slow[sizeof(slow) - 2] = '!';
    slow[sizeof(slow) - 1] = '\0';
    const struct validator_header good[] = {{"X-Id", "123-abc"}, {"X-Slow", "aaa"}};
    const struct validator_header bad[] = {{"X-Id", "\xd9\xa0\xd9\xa1\xd9\xa2-abc"},
                                           {"X-Slow", slow}};
    const struct validator_header raw[] = {{"X-Id", "123-\xff"},
                                           {"X-Slow", "a\xff"
                                                      "a"}};

    validator_open(f->f_v, 0, 200, good, 2);
    expect_n(f, 0);
    validator_end(f->f_v, 1, NULL);
    f->f_n = 0;

    validator_open(f->f_v, 10, 200, bad, 2);
    expect_n(f, 2);
    expect(f, 0, VIOLATION_HEADER,
           "header X-Id is \"\xd9\xa0\xd9\xa1\xd9\xa2-abc\", does not match \"^\\\\d{3}-\\\\w+$\"");
    assert_non_null(strstr(f->f_r[1].rv_msg, "hit the pattern's cost limit (counted as no match)"));
    assert_non_null(strstr(f->f_r[1].rv_msg, "header X-Slow is \"aaaa"));
    validator_end(f->f_v, 11, NULL);
    f->f_n = 0;

    validator_open(f->f_v, 20, 200, raw, 2);
    expect_n(f, 2);
    assert_non_null(strstr(f->f_r[0].rv_msg, "does not match"));
    assert_non_null(strstr(f->f_r[1].rv_msg, "does not match"));
    fx_free(f);
}

/* ---- SSE anomalies ---- */

static void test_anomalies_strict(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);

    open_ok(f, 0);
    feed(f, 5, "foo: bar\nbogus\n\n");
    expect_n(f, 2);
    expect(f, 0, VIOLATION_SSE_SYNTAX, "unknown_field: line with an unknown field name (ignored)");
    assert_int_equal(f->f_r[0].rv_sev, VIOLATION_ERROR);
    assert_string_equal(f->f_r[0].rv_excerpt, "foo: bar");
    assert_int_equal(f->f_r[0].rv_time, 5);
    expect(f, 1, VIOLATION_SSE_SYNTAX, "no_colon: line without a colon (taken as a field name)");
    assert_string_equal(f->f_r[1].rv_excerpt, "bogus");

    validator_anomaly(f->f_v, 6, SSE_ANOMALY_INVALID_UTF8, "a\xef\xbf\xbd", 4);
    validator_anomaly(f->f_v, 7, SSE_ANOMALY_NUL, "data: a\0b", 9);
    validator_anomaly(f->f_v, 8, SSE_ANOMALY_ID_NUL, "id: \0", 5);
    validator_anomaly(f->f_v, 9, SSE_ANOMALY_BAD_RETRY, "retry: 1x", 9);
    validator_anomaly(f->f_v, 10, SSE_ANOMALY_LINE_TOO_LONG, "data: xxxx", 10);
    validator_anomaly(f->f_v, 11, SSE_ANOMALY_EVENT_TOO_LARGE, "data: yyyy", 10);
    validator_anomaly(f->f_v, 12, SSE_ANOMALY_RETRY_OUT_OF_RANGE, "retry: 0", 8);
    expect_n(f, 9);
    expect(f, 2, VIOLATION_SSE_SYNTAX, "invalid_utf8: invalid UTF-8 (replaced by U+FFFD)");
    expect(f, 3, VIOLATION_SSE_SYNTAX, "nul: U+0000 in a line");
    assert_string_equal(f->f_r[3].rv_excerpt, "data: a\xef\xbf\xbd"
                                              "b");
    expect(f, 4, VIOLATION_SSE_SYNTAX, "id_nul: id field containing U+0000 (ignored)");
    expect(f, 5, VIOLATION_SSE_SYNTAX,
           "bad_retry: retry field with a value other than digits (ignored)");
    expect(f, 6, VIOLATION_LINE_TOO_LONG,
           "line_too_long: line longer than the parser's limit (its event discarded)");
    expect(f, 7, VIOLATION_LINE_TOO_LONG,
           "event_too_large: event data larger than the parser's limit (event discarded)");
    expect(f, 8, VIOLATION_SSE_SYNTAX,
           "retry_out_of_range: retry field outside the reconnect range (clamped into it)");
    assert_string_equal(f->f_r[8].rv_excerpt, "retry: 0");
    for (size_t i = 0; i + 1 < f->f_n; i++)
        assert_int_equal(f->f_r[i].rv_sev, VIOLATION_ERROR);
    /* a clamped retry is valid SSE: a warning even when strict */
    assert_int_equal(f->f_r[8].rv_sev, VIOLATION_WARNING);
    /* anomalies do not count as events: the first-event rule still runs */
    assert_int_equal(validator_next_deadline(f->f_v), 1001);
    fx_free(f);
}

static void test_anomalies_lenient(void **state)
{
    (void)state;
    struct validator_options o = task_opts;
    struct fx *f;

    o.vo_lenient = true;
    f = fx_new(task_contract, &o);
    open_ok(f, 0);
    feed(f, 5, "foo: bar\n");
    validator_anomaly(f->f_v, 6, SSE_ANOMALY_LINE_TOO_LONG, "x", 1);
    validator_anomaly(f->f_v, 7, SSE_ANOMALY_RETRY_OUT_OF_RANGE, "retry: 0", 8);
    expect_n(f, 3);
    expect(f, 0, VIOLATION_SSE_SYNTAX, "unknown_field: line with an unknown field name (ignored)");
    assert_int_equal(f->f_r[0].rv_sev, VIOLATION_WARNING);
    /* too long is data lost: always an error */
    assert_int_equal(f->f_r[1].rv_class, VIOLATION_LINE_TOO_LONG);
    assert_int_equal(f->f_r[1].rv_sev, VIOLATION_ERROR);
    /* a clamped retry is an SSE-level anomaly like the others */
    assert_int_equal(f->f_r[2].rv_class, VIOLATION_SSE_SYNTAX);
    assert_int_equal(f->f_r[2].rv_sev, VIOLATION_WARNING);
    fx_free(f);
}

/* ---- event identity ---- */

static void test_data_not_json(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);

    open_ok(f, 0);
    ev(f, 100, "connection_open", OPEN);
    ev(f, 200, "task_event", "{'event_type': 'task_completed'");
    expect_n(f, 1);
    expect_prefix(f, 0, VIOLATION_DATA_NOT_JSON, "event task_event: data is not JSON: ");
    /* the parser's own words in between, then where it stopped */
    {
        const char *msg = f->f_r[0].rv_msg;
        const char *tail = " at line 1 column 32";
        assert_true(strlen(msg) > strlen(tail));
        assert_string_equal(msg + strlen(msg) - strlen(tail), tail);
    }
    assert_string_equal(f->f_r[0].rv_event, "task_event");
    assert_string_equal(f->f_r[0].rv_state, "waiting");
    assert_string_equal(f->f_r[0].rv_excerpt, "{\"event_type\": \"task_completed\"");
    /* not judged for order */
    assert_string_equal(validator_state(f->f_v), "waiting");
    ev(f, 300, "task_event", STARTED);
    assert_string_equal(validator_state(f->f_v), "running");
    expect_n(f, 1);
    fx_free(f);
}

static void test_unknown_event(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);
    struct validator_options o = task_opts;
    struct fx *g;

    open_ok(f, 0);
    ev(f, 100, "connection_open", OPEN);
    assert_int_equal(validator_next_deadline(f->f_v), 10101);
    ev(f, 5000, "bogus", "whatever");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_UNKNOWN_EVENT, "event bogus is not declared by the contract");
    assert_int_equal(f->f_r[0].rv_sev, VIOLATION_ERROR);
    assert_string_equal(f->f_r[0].rv_event, "bogus");
    assert_string_equal(f->f_r[0].rv_excerpt, "whatever");
    /* neither judged for order nor a reset of the window */
    assert_string_equal(validator_state(f->f_v), "waiting");
    assert_int_equal(validator_next_deadline(f->f_v), 10101);
    fx_free(f);

    o.vo_lenient = true;
    g = fx_new(task_contract, &o);
    open_ok(g, 0);
    ev(g, 100, "bogus", "");
    expect_n(g, 1);
    assert_int_equal(g->f_r[0].rv_class, VIOLATION_UNKNOWN_EVENT);
    assert_int_equal(g->f_r[0].rv_sev, VIOLATION_WARNING);
    /* an unknown event still is the first event */
    assert_int_equal(validator_stats(g->f_v)->vs_first_event_latency_ms, 100);
    assert_int_equal(validator_next_deadline(g->f_v), 10101);
    fx_free(g);
}

/* ---- order and resynchronisation ---- */

static void test_order_message_and_resync(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);

    open_ok(f, 0);
    ev(f, 100, "connection_open", OPEN);
    ev(f, 200, "task_event", COMPLETED);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_ORDER,
           "event task_event/task_completed not allowed in state \"waiting\" (expected: "
           "heartbeat, task_event/task_started, error)");
    assert_string_equal(f->f_r[0].rv_event, "task_event");
    assert_string_equal(f->f_r[0].rv_state, "waiting");
    assert_int_equal(f->f_r[0].rv_time, 200);
    /* followed the event: running --task_completed--> done */
    assert_string_equal(validator_state(f->f_v), "done");
    ev(f, 300, "connection_close", CLOSE);
    validator_end(f->f_v, 400, NULL);
    expect_n(f, 1);
    fx_free(f);
}

static void test_resync_missing_first_event(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);

    open_ok(f, 0);
    ev(f, 100, "task_event", STARTED);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_ORDER,
           "event task_event/task_started not allowed in state \"connecting\" (expected: "
           "connection_open)");
    assert_string_equal(validator_state(f->f_v), "running");
    ev(f, 200, "task_event", PROGRESS("0.5"));
    ev(f, 300, "task_event", COMPLETED);
    ev(f, 400, "connection_close", CLOSE);
    validator_end(f->f_v, 500, NULL);
    expect_n(f, 1);
    assert_true(validator_in_final_state(f->f_v));
    fx_free(f);

    /* a heartbeat first: resynchronised into waiting */
    f = fx_new(task_contract, &task_opts);
    open_ok(f, 0);
    ev(f, 100, "heartbeat", HB);
    expect_n(f, 1);
    assert_int_equal(f->f_r[0].rv_class, VIOLATION_ORDER);
    assert_string_equal(validator_state(f->f_v), "waiting");
    ev(f, 200, "task_event", STARTED);
    ev(f, 300, "task_event", COMPLETED);
    ev(f, 400, "connection_close", CLOSE);
    validator_end(f->f_v, 500, NULL);
    expect_n(f, 1);
    fx_free(f);
}

static void test_resync_extra_event(void **state)
{
    (void)state;
    struct fx *f = task_running();

    ev(f, 300, "task_event", STARTED);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_ORDER,
           "event task_event/task_started not allowed in state \"running\" (expected: "
           "heartbeat, task_event/progress_update, task_event/task_completed, "
           "task_event/task_failed)");
    assert_string_equal(validator_state(f->f_v), "running");
    ev(f, 400, "task_event", PROGRESS("0.9"));
    ev(f, 500, "task_event", COMPLETED);
    ev(f, 600, "connection_close", CLOSE);
    validator_end(f->f_v, 700, NULL);
    expect_n(f, 1);
    fx_free(f);
}

static void test_resync_duplicate_terminal(void **state)
{
    (void)state;
    struct fx *f = task_running();

    ev(f, 300, "task_event", COMPLETED);
    ev(f, 301, "task_event", COMPLETED);
    expect_n(f, 1);
    expect_prefix(f, 0, VIOLATION_ORDER,
                  "event task_event/task_completed not allowed in state \"done\"");
    assert_string_equal(validator_state(f->f_v), "done");
    ev(f, 400, "connection_close", CLOSE);
    validator_end(f->f_v, 500, NULL);
    expect_n(f, 1);
    fx_free(f);
}

static void test_after_final_once(void **state)
{
    (void)state;
    struct fx *f = task_running();

    ev(f, 300, "task_event", COMPLETED);
    ev(f, 400, "connection_close", CLOSE);
    ev(f, 500, "heartbeat", HB);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_ORDER, "event heartbeat after final state \"closed\"");
    assert_string_equal(f->f_r[0].rv_state, "closed");
    ev(f, 600, "connection_close", CLOSE);
    ev(f, 700, "task_event", PROGRESS("0.5"));
    ev(f, 800, "heartbeat", HB);
    assert_string_equal(validator_state(f->f_v), "closed");
    /* no window, no lifecycle deadline in a final state */
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    validator_tick(f->f_v, 1000000);
    validator_end(f->f_v, 1000001, NULL);
    expect_n(f, 1);
    fx_free(f);
}

static void test_no_stream_ended_after_resync_to_final(void **state)
{
    (void)state;
    struct fx *f = task_running();

    /* connection_close while running: order, then followed into closed */
    ev(f, 300, "connection_close", CLOSE);
    expect_n(f, 1);
    expect_prefix(f, 0, VIOLATION_ORDER, "event connection_close not allowed in state \"running\"");
    assert_string_equal(validator_state(f->f_v), "closed");
    validator_end(f->f_v, 400, NULL);
    expect_n(f, 1);
    fx_free(f);
}

static void test_order_resync_targets(void **state)
{
    (void)state;
    struct fx *f = fx_new(envelope_contract, NULL);

    validator_begin(f->f_v, 0);
    ev(f, 5, "ready", "");
    /* a kind no state accepts: reported, and the state stays */
    ev(f, 10, "notice", "hello");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_ORDER,
           "event notice not allowed in state \"live\" (expected: ready, task_event, rejected)");
    assert_string_equal(validator_state(f->f_v), "live");
    validator_end(f->f_v, 20, NULL);
    f->f_n = 0;

    /* rejected leads to gone only from live; in start it is followed there */
    validator_begin(f->f_v, 30);
    ev(f, 40, "rejected", "{'status': 503, 'message': 'no'}");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_ORDER,
           "event rejected not allowed in state \"start\" (expected: ready)");
    assert_string_equal(validator_state(f->f_v), "gone");
    validator_end(f->f_v, 50, NULL);
    expect_n(f, 1);
    fx_free(f);
}

/* ---- stream end ---- */

static void test_stream_ended(void **state)
{
    (void)state;
    struct fx *f = task_running();
    struct fx *g;

    validator_end(f->f_v, 5000, NULL);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_STREAM_ENDED, "stream ended in state \"running\"");
    assert_string_equal(f->f_r[0].rv_state, "running");
    assert_int_equal(f->f_r[0].rv_time, 5000);
    validator_end(f->f_v, 5001, "again");
    expect_n(f, 1);
    /* state kept for displays until the next open */
    assert_string_equal(validator_state(f->f_v), "running");
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);

    open_ok(f, 6000);
    assert_string_equal(validator_state(f->f_v), "connecting");
    validator_end(f->f_v, 6500, "Connection reset by peer");
    expect_n(f, 2);
    expect(f, 1, VIOLATION_STREAM_ENDED,
           "stream ended in state \"connecting\" (transport error: \"Connection reset by "
           "peer\")");
    fx_free(f);

    /* without order rules every end is stream_ended, once per lifecycle */
    g = fx_new(plain_contract, NULL);
    validator_end(g->f_v, 1, NULL);
    expect_n(g, 0);
    assert_null(validator_state(g->f_v));
    assert_false(validator_in_final_state(g->f_v));
    validator_open(g->f_v, 2, 200, NULL, 0);
    ev(g, 3, "note", "hello");
    validator_end(g->f_v, 4, NULL);
    validator_end(g->f_v, 5, NULL);
    expect_n(g, 1);
    expect(g, 0, VIOLATION_STREAM_ENDED, "stream ended");
    assert_false(g->f_r[0].rv_has_state);
    validator_begin(g->f_v, 10);
    validator_end(g->f_v, 11, "timeout");
    expect_n(g, 2);
    expect(g, 1, VIOLATION_STREAM_ENDED, "stream ended (transport error: \"timeout\")");
    /* an event outside any lifecycle starts one */
    ev(g, 20, "note", "x");
    validator_end(g->f_v, 21, NULL);
    expect_n(g, 3);
    fx_free(g);
}

/* ---- payloads ---- */

static void test_discriminator(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);

    open_ok(f, 0);
    ev(f, 100, "connection_open", OPEN);
    ev(f, 200, "task_event", "{'task_id': '" TASK_ID "'}");
    ev(f, 300, "task_event", "{'event_type': 5, 'task_id': '" TASK_ID "'}");
    ev(f, 400, "task_event", "{'event_type': 'task_paused', 'task_id': '" TASK_ID "'}");
    expect_n(f, 3);
    expect(f, 0, VIOLATION_SCHEMA, "event task_event: /event_type missing");
    assert_string_equal(f->f_r[0].rv_event, "task_event");
    expect(f, 1, VIOLATION_SCHEMA, "event task_event: /event_type is a number, not a string");
    expect(f, 2, VIOLATION_SCHEMA,
           "event task_event: /event_type \"task_paused\" is not a declared variant "
           "(task_started, progress_update, task_completed, task_failed)");
    /* not judged for order */
    assert_string_equal(validator_state(f->f_v), "waiting");
    fx_free(f);
}

static void test_schema_still_judged_for_order(void **state)
{
    (void)state;
    struct fx *f = task_running();

    ev(f, 300, "task_event", PROGRESS("1.5"));
    expect_n(f, 1);
    expect_prefix(f, 0, VIOLATION_SCHEMA, "event task_event/progress_update: /data/value: ");
    assert_non_null(strstr(f->f_r[0].rv_msg, "1.5"));
    assert_string_equal(validator_state(f->f_v), "running");
    /* a broken payload of a known kind and variant still moves the state */
    ev(f, 400, "task_event", "{'event_type': 'task_completed', 'data': null}");
    expect_n(f, 2);
    expect_prefix(f, 1, VIOLATION_SCHEMA, "event task_event/task_completed: ");
    assert_non_null(strstr(f->f_r[1].rv_msg, "task_id"));
    assert_string_equal(validator_state(f->f_v), "done");
    ev(f, 500, "connection_close", "{}");
    expect_n(f, 3);
    expect_prefix(f, 2, VIOLATION_SCHEMA, "event connection_close: ");
    assert_string_equal(validator_state(f->f_v), "closed");
    validator_end(f->f_v, 600, NULL);
    expect_n(f, 3);
    fx_free(f);
}

static void test_equals_variable(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);
    struct fx *g;

    open_ok(f, 0);
    ev(f, 100, "connection_open", OPEN);
    ev(f, 200, "task_event", "{'event_type': 'task_started', 'task_id': 'other', 'data': null}");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_SCHEMA,
           "event task_event/task_started: /task_id is \"other\", expected \"" TASK_ID
           "\" (variable task_id)");
    assert_string_equal(validator_state(f->f_v), "running");
    ev(f, 300, "task_event", "{'event_type': 'task_completed', 'task_id': 7, 'data': null}");
    expect_n(f, 2);
    /* the kind's schema requires task_id only: the variable catches the type */
    expect(f, 1, VIOLATION_SCHEMA,
           "event task_event/task_completed: /task_id is a number, expected \"" TASK_ID
           "\" (variable task_id)");
    fx_free(f);

    /* unbound: not checked */
    g = fx_new(task_contract, NULL);
    open_ok(g, 0);
    ev(g, 100, "connection_open", OPEN);
    ev(g, 200, "task_event", "{'event_type': 'task_started', 'task_id': 'other', 'data': null}");
    expect_n(g, 0);
    fx_free(g);
}

/* ---- correlation id ---- */

static void test_cid_required(void **state)
{
    (void)state;
    struct fx *f = fx_newf(cid_contract_fmt, "{'presence': 'required'}", NULL);

    validator_begin(f->f_v, 0);
    ev(f, 1, "version", "{'version': '1'}");
    ev(f, 2, "version", "{'version': '1', 'correlation_id': 'a'}");
    ev(f, 3, "version", "{'version': '1', 'correlation_id': 'b'}");
    /* not an object payload, and a kind the policy does not apply to */
    ev(f, 4, "version", "'text'");
    ev(f, 5, "raw", "{}");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_CORRELATION_ID, "event version: /correlation_id missing (required)");
    assert_string_equal(f->f_r[0].rv_event, "version");
    fx_free(f);
}

static void test_cid_absent_and_type(void **state)
{
    (void)state;
    struct fx *f = fx_newf(cid_contract_fmt, "{'presence': 'absent'}", NULL);

    validator_begin(f->f_v, 0);
    ev(f, 1, "version", "{}");
    ev(f, 2, "version", "{'correlation_id': 'abc'}");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_CORRELATION_ID,
           "event version: /correlation_id present (\"abc\"), must be absent");
    fx_free(f);

    f = fx_newf(cid_contract_fmt, "{'presence': 'optional', 'pointer': '/meta/cid'}", NULL);
    validator_begin(f->f_v, 0);
    ev(f, 1, "version", "{}");
    ev(f, 2, "version", "{'meta': {'cid': 5}}");
    ev(f, 3, "version", "{'meta': {'cid': 'x'}}");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_CORRELATION_ID, "event version: /meta/cid is a number, not a string");
    fx_free(f);
}

static void test_cid_consistent(void **state)
{
    (void)state;
    struct fx *f = fx_newf(cid_contract_fmt, "{'presence': 'required', 'consistent': true}", NULL);
    char a[300], b[300];

    validator_begin(f->f_v, 0);
    ev(f, 1, "version", "{'correlation_id': 'A'}");
    ev(f, 2, "version", "{'correlation_id': 'A'}");
    ev(f, 3, "version", "{'correlation_id': 'B'}");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_CORRELATION_ID,
           "event version: /correlation_id changed from \"A\" to \"B\"");
    /* one fault: switching back or again is not reported in this lifecycle */
    ev(f, 4, "version", "{'correlation_id': 'A'}");
    ev(f, 5, "version", "{'correlation_id': 'C'}");
    expect_n(f, 1);
    /* a new lifecycle forgets the id */
    validator_end(f->f_v, 6, NULL);
    f->f_n = 0;
    validator_begin(f->f_v, 7);
    ev(f, 8, "version", "{'correlation_id': 'D'}");
    ev(f, 9, "version", "{'correlation_id': 'D'}");
    expect_n(f, 0);
    ev(f, 10, "version", "{'correlation_id': 'E'}");
    expect_n(f, 1);
    validator_end(f->f_v, 11, NULL);
    f->f_n = 0;

    /* long ids that differ only past the remembered prefix */
    memset(a, 'x', 200);
    memset(b, 'x', 200);
    b[199] = 'y';
    a[200] = b[200] = '\0';
    {
        char da[400], db[400];
        snprintf(da, sizeof(da), "{'correlation_id': '%s'}", a);
        snprintf(db, sizeof(db), "{'correlation_id': '%s'}", b);
        validator_begin(f->f_v, 20);
        ev(f, 21, "version", da);
        ev(f, 22, "version", da);
        expect_n(f, 0);
        ev(f, 23, "version", db);
        expect_n(f, 1);
        expect_prefix(f, 0, VIOLATION_CORRELATION_ID,
                      "event version: /correlation_id changed from \"xxx");
        assert_non_null(strstr(f->f_r[0].rv_msg, "...\""));
    }
    fx_free(f);
}

static void test_cid_equals_variable(void **state)
{
    (void)state;
    const struct validator_var var = {"request_id", "A"};
    const struct validator_options o = {.vo_vars = &var, .vo_n_vars = 1, .vo_timing = true};
    struct fx *f =
        fx_newf(cid_contract_fmt,
                "{'presence': 'required', 'consistent': true, 'equals': 'request_id'}", &o);

    validator_begin(f->f_v, 0);
    ev(f, 1, "version", "{'correlation_id': 'A'}");
    ev(f, 2, "version", "{'correlation_id': 'B'}");
    ev(f, 3, "version", "{'correlation_id': 'B'}");
    ev(f, 4, "version", "{'correlation_id': 'A'}");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_CORRELATION_ID,
           "event version: /correlation_id is \"B\", expected \"A\" (variable request_id)");
    ev(f, 5, "version", "{'correlation_id': 'C'}");
    ev(f, 6, "version", "{}");
    expect_n(f, 3);
    expect(f, 1, VIOLATION_CORRELATION_ID,
           "event version: /correlation_id is \"C\", expected \"A\" (variable request_id)");
    expect(f, 2, VIOLATION_CORRELATION_ID, "event version: /correlation_id missing (required)");
    fx_free(f);

    /* unbound variable: consistency alone */
    f = fx_newf(cid_contract_fmt, "{'consistent': true, 'equals': 'request_id'}", NULL);
    validator_begin(f->f_v, 0);
    ev(f, 1, "version", "{'correlation_id': 'Q'}");
    ev(f, 2, "version", "{}");
    ev(f, 3, "version", "{'correlation_id': 'R'}");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_CORRELATION_ID,
           "event version: /correlation_id changed from \"Q\" to \"R\"");
    fx_free(f);
}

/* ---- envelopes ---- */

static void test_envelope(void **state)
{
    (void)state;
    struct fx *f = fx_new(envelope_contract, NULL);

    open_ok(f, 0);
    ev(f, 10, "ready", "");
    ev(f, 20, "message", "{'type': 'task_event', 'payload': {'task_id': 'x'}}");
    expect_n(f, 0);
    assert_string_equal(validator_state(f->f_v), "live");

    ev(f, 30, "message", "not json");
    expect_prefix(f, 0, VIOLATION_DATA_NOT_JSON, "event message: data is not JSON: ");
    assert_string_equal(f->f_r[0].rv_event, "message");
    ev(f, 40, "message", "{'payload': {}}");
    expect(f, 1, VIOLATION_SCHEMA, "envelope without type (/type missing)");
    assert_string_equal(f->f_r[1].rv_event, "message");
    ev(f, 50, "message", "{'type': 3, 'payload': {}}");
    expect(f, 2, VIOLATION_SCHEMA, "envelope without type (/type is a number, not a string)");
    ev(f, 60, "message", "{'type': 'mystery', 'payload': {}}");
    expect(f, 3, VIOLATION_UNKNOWN_EVENT, "event mystery is not declared by the contract");
    assert_string_equal(f->f_r[3].rv_event, "mystery");
    ev(f, 70, "message", "{'type': 'task_event'}");
    expect(f, 4, VIOLATION_SCHEMA,
           "envelope of event task_event without payload (/payload missing)");
    assert_string_equal(f->f_r[4].rv_event, "task_event");
    ev(f, 80, "message", "{'type': 'task_event', 'payload': {'task_id': 1}}");
    expect_prefix(f, 5, VIOLATION_SCHEMA, "event task_event: /task_id: ");
    expect_n(f, 6);
    assert_string_equal(validator_state(f->f_v), "live");
    /* the payload, not the envelope, is what the kind's schema sees */
    ev(f, 90, "message", "{'type': 'task_event', 'payload': {'task_id': 'y'}, 'extra': 1}");
    /* a named event is still identified by its SSE type */
    ev(f, 100, "rejected", "{'status': 503, 'message': 'down'}");
    expect_n(f, 6);
    assert_string_equal(validator_state(f->f_v), "gone");
    validator_end(f->f_v, 110, NULL);
    expect_n(f, 6);
    fx_free(f);
}

static void test_envelope_order_from_type(void **state)
{
    (void)state;
    struct fx *f = fx_new(envelope_contract, NULL);

    open_ok(f, 0);
    /* the kind taken from /type is judged for order */
    ev(f, 10, "message", "{'type': 'task_event', 'payload': {'task_id': 'x'}}");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_ORDER,
           "event task_event not allowed in state \"start\" (expected: ready)");
    assert_string_equal(validator_state(f->f_v), "live");
    fx_free(f);
}

/* ---- liveness, with an injected clock ---- */

static void test_window_reset_by_heartbeats(void **state)
{
    (void)state;
    struct fx *f = fx_newf(live_contract_fmt, ", 'reset_on_any_event': false", NULL);
    const struct validator_stats *st = validator_stats(f->f_v);

    validator_open(f->f_v, 0, 200, NULL, 0);
    assert_int_equal(validator_next_deadline(f->f_v), 1001);
    ev(f, 500, "data", "x"); /* the first event starts the window */
    assert_int_equal(validator_next_deadline(f->f_v), 10501);
    ev(f, 6000, "data", "x"); /* not a reset */
    assert_int_equal(validator_next_deadline(f->f_v), 10501);
    ev(f, 10500, "heartbeat", ""); /* a gap of exactly the limit is in time */
    expect_n(f, 0);
    assert_int_equal(st->vs_heartbeats, 1);
    assert_int_equal(st->vs_last_heartbeat_gap_ms, 10000);
    assert_int_equal(validator_next_deadline(f->f_v), 20501);
    validator_tick(f->f_v, 20500);
    expect_n(f, 0);
    validator_tick(f->f_v, 20501);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_HEARTBEAT_MISSED,
           "no heartbeat for 10001 ms (limit 10000 ms: interval 5000 ms x 2)");
    assert_int_equal(f->f_r[0].rv_time, 20501);
    assert_false(f->f_r[0].rv_has_state);
    /* once per silence */
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    validator_tick(f->f_v, 40000);
    feed(f, 41000, ": heartbeat\n"); /* comments are not declared heartbeats */
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    expect_n(f, 1);
    /* re-armed by the next heartbeat */
    ev(f, 50000, "heartbeat", "");
    assert_int_equal(st->vs_heartbeats, 2);
    assert_int_equal(st->vs_last_heartbeat_gap_ms, 39500);
    assert_int_equal(validator_next_deadline(f->f_v), 60001);
    validator_tick(f->f_v, 60001);
    expect_n(f, 2);
    expect(f, 1, VIOLATION_HEARTBEAT_MISSED,
           "no heartbeat for 10001 ms (limit 10000 ms: interval 5000 ms x 2)");
    fx_free(f);
}

static void test_window_reset_on_any(void **state)
{
    (void)state;
    struct fx *f = fx_newf(live_contract_fmt, "", NULL);

    validator_open(f->f_v, 0, 200, NULL, 0);
    ev(f, 500, "data", "x");
    ev(f, 6000, "data", "x");
    assert_int_equal(validator_next_deadline(f->f_v), 16001);
    feed(f, 7000, ": heartbeat\n");
    assert_int_equal(validator_next_deadline(f->f_v), 16001);
    assert_int_equal(validator_stats(f->f_v)->vs_heartbeats, 0);
    fx_free(f);
}

static void test_window_comment_heartbeats(void **state)
{
    (void)state;
    struct fx *f =
        fx_newf(live_contract_fmt, ", 'comments': true, 'reset_on_any_event': false", NULL);

    validator_open(f->f_v, 0, 200, NULL, 0);
    /* a comment heartbeat starts the window but is not the first event */
    feed(f, 300, ": heartbeat\n");
    assert_int_equal(validator_stats(f->f_v)->vs_heartbeats, 1);
    assert_int_equal(validator_next_deadline(f->f_v), 1001);
    validator_tick(f->f_v, 1001);
    expect_n(f, 1);
    assert_int_equal(f->f_r[0].rv_class, VIOLATION_FIRST_EVENT_LATE);
    assert_int_equal(validator_next_deadline(f->f_v), 10301);
    feed(f, 9000, ":\n");
    assert_int_equal(validator_next_deadline(f->f_v), 19001);
    assert_int_equal(validator_stats(f->f_v)->vs_last_heartbeat_gap_ms, 8700);
    expect_n(f, 1);
    fx_free(f);
}

static void test_first_event_deadline_then_window(void **state)
{
    (void)state;
    struct fx *f = fx_newf(live_contract_fmt, ", 'reset_on_any_event': false", NULL);

    validator_open(f->f_v, 0, 200, NULL, 0);
    validator_tick(f->f_v, 1000);
    expect_n(f, 0);
    validator_tick(f->f_v, 1001);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_FIRST_EVENT_LATE,
           "no event within 1000 ms of the response headers (waited 1001 ms)");
    /* the window starts at the deadline */
    assert_int_equal(validator_next_deadline(f->f_v), 11001);
    validator_tick(f->f_v, 11001);
    expect_n(f, 2);
    expect(f, 1, VIOLATION_HEARTBEAT_MISSED,
           "no heartbeat for 10001 ms (limit 10000 ms: interval 5000 ms x 2)");
    ev(f, 12000, "data", "x");
    assert_int_equal(validator_stats(f->f_v)->vs_first_event_latency_ms, 12000);
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    ev(f, 13000, "heartbeat", "");
    assert_int_equal(validator_next_deadline(f->f_v), 23001);
    expect_n(f, 2);
    fx_free(f);
}

static void test_replay_without_ticks(void **state)
{
    (void)state;
    struct fx *f = fx_newf(live_contract_fmt, ", 'reset_on_any_event': false", NULL);

    /* what the ticks would have found, in time order, found by the event */
    validator_open(f->f_v, 0, 200, NULL, 0);
    ev(f, 12000, "heartbeat", "");
    expect_n(f, 2);
    expect(f, 0, VIOLATION_FIRST_EVENT_LATE,
           "no event within 1000 ms of the response headers (waited 12000 ms)");
    expect(f, 1, VIOLATION_HEARTBEAT_MISSED,
           "no heartbeat for 11000 ms (limit 10000 ms: interval 5000 ms x 2)");
    assert_int_equal(f->f_r[0].rv_time, 12000);
    assert_int_equal(f->f_r[1].rv_time, 12000);
    assert_int_equal(validator_next_deadline(f->f_v), 22001);
    fx_free(f);
}

static void test_timing_off(void **state)
{
    (void)state;
    struct validator_options o = {.vo_timing = false};
    struct fx *f = fx_new(task_contract, &o);

    open_ok(f, 0);
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    ev(f, 100000, "connection_open", OPEN);
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    validator_tick(f->f_v, 10000000);
    ev(f, 20000000, "heartbeat", HB);
    expect_n(f, 0);
    assert_int_equal(validator_stats(f->f_v)->vs_heartbeats, 1);
    fx_free(f);
}

static void test_liveness_overrides(void **state)
{
    (void)state;
    struct validator_options o = {
        .vo_hb_interval_ms = 1000, .vo_hb_tolerance = 1.5, .vo_timing = true};
    struct fx *f = fx_newf(live_contract_fmt, "", &o);

    validator_open(f->f_v, 0, 200, NULL, 0);
    ev(f, 100, "heartbeat", "");
    assert_int_equal(validator_next_deadline(f->f_v), 1601);
    validator_tick(f->f_v, 1601);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_HEARTBEAT_MISSED,
           "no heartbeat for 1501 ms (limit 1500 ms: interval 1000 ms x 1.5)");
    fx_free(f);

    /* an interval given by options enables liveness for any contract */
    o.vo_hb_tolerance = 0;
    f = fx_new(plain_contract, &o);
    validator_begin(f->f_v, 0);
    assert_int_equal(validator_next_deadline(f->f_v), 2001);
    ev(f, 1000, "note", "x");
    assert_int_equal(validator_next_deadline(f->f_v), 3001);
    fx_free(f);
}

static void test_no_window_after_end(void **state)
{
    (void)state;
    struct fx *f = fx_newf(live_contract_fmt, "", NULL);

    validator_open(f->f_v, 0, 200, NULL, 0);
    ev(f, 10, "heartbeat", "");
    validator_end(f->f_v, 20, NULL);
    expect_n(f, 1);
    assert_int_equal(f->f_r[0].rv_class, VIOLATION_STREAM_ENDED);
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    validator_tick(f->f_v, 1000000);
    feed(f, 1000001, ": x\n");
    expect_n(f, 1);
    fx_free(f);
}

static void test_lifecycle_timeout(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);

    open_ok(f, 0);
    ev(f, 100, "connection_open", OPEN);
    for (uint64_t t = 5000; t <= 60000; t += 5000)
        ev(f, t, "heartbeat", HB);
    expect_n(f, 0);
    assert_int_equal(validator_next_deadline(f->f_v), 60001);
    validator_tick(f->f_v, 60000);
    expect_n(f, 0);
    validator_tick(f->f_v, 60001);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_LIFECYCLE_TIMEOUT,
           "final state not reached within 60000 ms (in state \"waiting\")");
    assert_string_equal(f->f_r[0].rv_state, "waiting");
    assert_int_equal(validator_next_deadline(f->f_v), 70001);
    ev(f, 65000, "heartbeat", HB);
    validator_tick(f->f_v, 70000);
    expect_n(f, 1);
    fx_free(f);
}

/* ---- state deadlines ("within_ms") ---- */

/* Exactly one violation so far: this one. */
static void expect_one(const struct fx *f, enum violation_class cls, const char *msg)
{
    expect_n(f, 1);
    expect(f, 0, cls, msg);
}

/* connecting must be left within 2 s (version keeps it there), live within
 * 5 s, busy within 3 s but nothing leads out of it. */
static const char state_dl_contract[] =
    "{'name': 'statedl', 'events': {'ready': {'data': 'text'}, 'version': {'data': 'text'},"
    "   'rejected': {'data': 'text'}, 'bye': {'data': 'text'},"
    "   'task': {'discriminator': '/k', 'variants': {'a': true, 'b': true}}},"
    " 'order': {'initial': 'connecting', 'states': {"
    "   'connecting': {'within_ms': 2000, 'on': {'ready': 'live', 'rejected': 'rejected',"
    "       'version': 'connecting'}},"
    "   'live': {'within_ms': 5000, 'on': {'ready': 'live', 'version': 'live',"
    "       'task:a': 'busy', 'bye': 'done'}},"
    "   'busy': {'within_ms': 3000, 'on': {'task:a': 'busy'}},"
    "   'rejected': {},"
    "   'done': {'final': true}}}}";

#define STILL_CONNECTING                                                                           \
    "still in state \"connecting\" 2000 ms after entering it (expected: ready, rejected)"

/* Counted from the open for the initial state; a transition back to the
 * same state is no new entry; reported once per entry, by the timer; an
 * event exactly at the limit is in time; a state entered later counts from
 * its entry. */
static void test_state_deadline(void **state)
{
    (void)state;
    struct fx *f = fx_new(state_dl_contract, NULL);

    validator_open(f->f_v, 0, 200, NULL, 0);
    assert_int_equal(validator_next_deadline(f->f_v), 2001);
    ev(f, 500, "version", "1.0");
    ev(f, 1500, "version", "1.0");
    assert_int_equal(validator_next_deadline(f->f_v), 2001);
    validator_tick(f->f_v, 2000);
    expect_n(f, 0);
    validator_tick(f->f_v, 2001);
    expect_one(f, VIOLATION_ORDER, STILL_CONNECTING);
    assert_string_equal(f->f_r[0].rv_state, "connecting");
    assert_false(f->f_r[0].rv_has_event);
    assert_int_equal(f->f_r[0].rv_time, 2001);
    assert_int_equal(f->f_r[0].rv_sev, VIOLATION_ERROR);
    /* once per entry */
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    ev(f, 3000, "version", "1.0");
    validator_tick(f->f_v, 9000);
    expect_n(f, 1);

    /* live entered at 10000: its own deadline; in time at exactly 5000 ms */
    ev(f, 10000, "ready", "");
    assert_string_equal(validator_state(f->f_v), "live");
    assert_int_equal(validator_next_deadline(f->f_v), 15001);
    ev(f, 14000, "ready", "");
    assert_int_equal(validator_next_deadline(f->f_v), 15001);
    ev(f, 15000, "task", "{'k': 'a'}");
    assert_string_equal(validator_state(f->f_v), "busy");
    expect_n(f, 1);
    assert_int_equal(validator_next_deadline(f->f_v), 18001);
    validator_tick(f->f_v, 18001);
    expect_n(f, 2);
    expect(f, 1, VIOLATION_ORDER,
           "still in state \"busy\" 3000 ms after entering it (expected: nothing leads out "
           "of it)");
    assert_string_equal(f->f_r[1].rv_state, "busy");
    fx_free(f);

    /* a final state has no deadline; leaving in time reports nothing */
    f = fx_new(state_dl_contract, NULL);
    validator_open(f->f_v, 0, 200, NULL, 0);
    ev(f, 2000, "ready", "");
    ev(f, 3000, "bye", "");
    assert_true(validator_in_final_state(f->f_v));
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    validator_tick(f->f_v, 100000);
    validator_end(f->f_v, 100000, NULL);
    expect_n(f, 0);
    fx_free(f);
}

/* Without ticks (a replay) the deadline is found by the next call, at its
 * time, before that call is judged; a stream ending in the state is both
 * late and ended; each lifecycle and each re-entry (here by
 * resynchronisation) has its own deadline. */
static void test_state_deadline_replay_and_reentry(void **state)
{
    (void)state;
    struct fx *f = fx_new(state_dl_contract, NULL);

    validator_open(f->f_v, 0, 200, NULL, 0);
    ev(f, 2500, "ready", "");
    expect_one(f, VIOLATION_ORDER, STILL_CONNECTING);
    assert_int_equal(f->f_r[0].rv_time, 2500);
    assert_string_equal(validator_state(f->f_v), "live");
    ev(f, 7400, "bye", "");
    expect_n(f, 1);

    /* a new lifecycle enters the initial state again */
    validator_open(f->f_v, 10000, 200, NULL, 0);
    validator_end(f->f_v, 13000, NULL);
    expect_n(f, 3);
    expect(f, 1, VIOLATION_ORDER, STILL_CONNECTING);
    assert_int_equal(f->f_r[1].rv_time, 13000);
    expect_prefix(f, 2, VIOLATION_STREAM_ENDED, "stream ended in state");
    fx_free(f);

    /* an event not allowed in connecting resynchronises into busy: the
     * entry is then */
    f = fx_new(state_dl_contract, NULL);
    validator_open(f->f_v, 0, 200, NULL, 0);
    ev(f, 1000, "task", "{'k': 'a'}");
    expect_n(f, 1);
    expect_prefix(f, 0, VIOLATION_ORDER, "event task/a not allowed in state \"connecting\"");
    assert_string_equal(validator_state(f->f_v), "busy");
    assert_int_equal(validator_next_deadline(f->f_v), 4001);
    fx_free(f);

    /* no time rules (a plain file of stream bytes): no deadline */
    struct validator_options no_timing = {.vo_timing = false};
    f = fx_new(state_dl_contract, &no_timing);
    validator_begin(f->f_v, 0);
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    ev(f, 100000, "ready", "");
    expect_n(f, 0);
    fx_free(f);
}

/* ---- time the caller could not observe ---- */

/* A pause inside a heartbeat window moves its deadline by the pause; a
 * heartbeat read right after it is in time, and its gap leaves the pause
 * out; the part of a pause before the window started does not count. */
static void test_pause_heartbeat_window(void **state)
{
    (void)state;
    struct fx *f = fx_newf(live_contract_fmt, ", 'reset_on_any_event': false", NULL);
    const struct validator_stats *st = validator_stats(f->f_v);

    validator_open(f->f_v, 0, 200, NULL, 0);
    ev(f, 500, "heartbeat", "");
    assert_int_equal(validator_next_deadline(f->f_v), 10501);
    /* the loop was held from 9000 to 15000: the window has run 8500 ms */
    validator_pause(f->f_v, 9000, 15000);
    assert_int_equal(st->vs_unobserved_ms, 6000);
    assert_int_equal(validator_next_deadline(f->f_v), 16501);
    validator_tick(f->f_v, 15000);
    expect_n(f, 0);
    ev(f, 15010, "heartbeat", "");
    expect_n(f, 0);
    assert_int_equal(st->vs_last_heartbeat_gap_ms, 8510);
    assert_int_equal(validator_next_deadline(f->f_v), 25011);

    /* a silent stream is still reported, after its observed limit */
    validator_pause(f->f_v, 20000, 23000);
    validator_tick(f->f_v, 28010);
    expect_n(f, 0);
    validator_tick(f->f_v, 28011);
    expect_one(f, VIOLATION_HEARTBEAT_MISSED,
               "no heartbeat for 10001 ms (limit 10000 ms: interval 5000 ms x 2)");

    /* a pause that began before the window only counts from its start */
    ev(f, 30000, "heartbeat", "");
    validator_pause(f->f_v, 29000, 31000);
    assert_int_equal(validator_next_deadline(f->f_v), 41001);
    /* an empty or reversed pause changes nothing */
    validator_pause(f->f_v, 31000, 31000);
    validator_pause(f->f_v, 32000, 31000);
    assert_int_equal(validator_next_deadline(f->f_v), 41001);
    assert_int_equal(st->vs_unobserved_ms, 6000 + 3000 + 2000);
    fx_free(f);
}

/* The first-event wait and the lifecycle run from the open: a pause moves
 * both, and the first-event latency leaves it out. */
static void test_pause_first_event_and_lifecycle(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);
    const struct validator_stats *st = validator_stats(f->f_v);

    open_ok(f, 0);
    assert_int_equal(validator_next_deadline(f->f_v), 1001);
    validator_pause(f->f_v, 800, 4000);
    assert_int_equal(validator_next_deadline(f->f_v), 4201);
    validator_tick(f->f_v, 4000);
    ev(f, 4001, "connection_open", OPEN);
    expect_n(f, 0);
    assert_int_equal(st->vs_first_event_latency_ms, 801);
    /* lifecycle: 60 s from the open, plus the pause */
    for (uint64_t t = 9000; t <= 63000; t += 5000)
        ev(f, t, "heartbeat", HB);
    expect_n(f, 0);
    assert_int_equal(validator_next_deadline(f->f_v), 63201);
    validator_tick(f->f_v, 63201);
    expect_one(f, VIOLATION_LIFECYCLE_TIMEOUT,
               "final state not reached within 60000 ms (in state \"waiting\")");
    fx_free(f);

    /* the first-event rule is still judged after a pause */
    f = fx_new(task_contract, &task_opts);
    open_ok(f, 0);
    validator_pause(f->f_v, 500, 2500);
    validator_tick(f->f_v, 3001);
    expect_one(f, VIOLATION_FIRST_EVENT_LATE,
               "no event within 1000 ms of the response headers (waited 1001 ms)");
    fx_free(f);

    /* outside a lifecycle a pause is only counted */
    f = fx_new(task_contract, &task_opts);
    validator_pause(f->f_v, 0, 100);
    assert_int_equal(validator_stats(f->f_v)->vs_unobserved_ms, 100);
    assert_int_equal(validator_next_deadline(f->f_v), VALIDATOR_NO_DEADLINE);
    fx_free(f);
}

/* A state's deadline runs from its entry: a pause after it moves the
 * deadline, the part of a pause before the entry does not. */
static void test_pause_state_deadline(void **state)
{
    (void)state;
    struct fx *f = fx_new(state_dl_contract, NULL);

    validator_open(f->f_v, 0, 200, NULL, 0);
    validator_pause(f->f_v, 1000, 4000);
    assert_int_equal(validator_next_deadline(f->f_v), 5001);
    validator_tick(f->f_v, 5000);
    ev(f, 5000, "ready", "");
    expect_n(f, 0);
    /* live entered at 5000; the pause began before it */
    validator_pause(f->f_v, 4500, 6000);
    assert_int_equal(validator_next_deadline(f->f_v), 11001);
    validator_tick(f->f_v, 11000);
    expect_n(f, 0);
    validator_tick(f->f_v, 11001);
    expect_one(f, VIOLATION_ORDER,
               "still in state \"live\" 5000 ms after entering it (expected: task/a, bye)");
    fx_free(f);
}

/* ---- reports ---- */

static void test_excerpt_bounds(void **state)
{
    (void)state;
    struct fx *f = fx_new(plain_contract, NULL);
    char data[400];
    size_t n = 0;

    data[n++] = 'a';
    for (int i = 0; i < 150; i++) {
        data[n++] = '\xc3';
        data[n++] = '\xa9';
    }
    data[n] = '\0';
    validator_begin(f->f_v, 0);
    ev(f, 1, "nope", data);
    expect_n(f, 1);
    /* 1 + 2 x 99 bytes: the next character would not fit whole */
    assert_int_equal(strlen(f->f_r[0].rv_excerpt), 199);
    assert_memory_equal(f->f_r[0].rv_excerpt, data, 199);

    {
        struct sse_event e = {"nope", 4, "x\0y", 3, "", 0};
        validator_event(f->f_v, 2, &e);
        expect_n(f, 2);
        assert_string_equal(f->f_r[1].rv_excerpt, "x\xef\xbf\xbdy");
    }
    /* an event type quoted from the stream is made safe too */
    {
        struct sse_event e = {"a\xff", 2, "", 0, "", 0};
        validator_event(f->f_v, 3, &e);
        expect_n(f, 3);
        assert_string_equal(f->f_r[2].rv_event, "a\xef\xbf\xbd");
    }
    fx_free(f);
}

static void test_text_and_json_kinds(void **state)
{
    (void)state;
    struct fx *f = fx_new(plain_contract, NULL);

    validator_begin(f->f_v, 0);
    ev(f, 1, "note", "{not json at all");
    ev(f, 2, "obj", "{}");
    ev(f, 3, "obj", "[]");
    expect_n(f, 1);
    expect_prefix(f, 0, VIOLATION_SCHEMA, "event obj: ");
    assert_int_equal(validator_stats(f->f_v)->vs_events, 3);
    assert_int_equal(validator_stats(f->f_v)->vs_violations[VIOLATION_SCHEMA], 1);
    fx_free(f);
}

/* A message longer than the validator's buffer is cut on a character
 * boundary, wherever the cut falls: 300 two-byte variant names listed after
 * a value of 1 to 7 bytes put the cut at every offset of their period. */
static void test_long_message_cut_on_character(void **state)
{
    (void)state;
    char sq[8192];
    size_t o = (size_t)snprintf(sq, sizeof(sq),
                                "{'name': 'long', 'events': {'k': {'discriminator': '/t',"
                                " 'variants': {");
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(sq + o, sizeof(sq) - o, "%s'\xC3\xA9%03d': true", i ? ", " : "", i);
    snprintf(sq + o, sizeof(sq) - o, "}}}}");
    struct validator_options opts = {0};
    for (int width = 1; width <= 7; width++) {
        struct fx *f = fx_new(sq, &opts);
        char data[64];
        snprintf(data, sizeof(data), "{'t': '%.*s'}", width, "zzzzzzz");
        validator_begin(f->f_v, 0);
        ev(f, 10, "k", data);
        expect_n(f, 1);
        assert_int_equal(f->f_r[0].rv_class, VIOLATION_SCHEMA);
        size_t len = strlen(f->f_r[0].rv_msg);
        assert_true(len > 1000);
        assert_true(utf8_valid(f->f_r[0].rv_msg, len));
        fx_free(f);
    }
}

/* ---- the observer of classified events ---- */

#define SEEN_MAX 16

struct seen_rec {
    uint64_t sr_now;
    char sr_kind[64];
    char sr_variant[64];
    bool sr_has_variant;
    bool sr_has_tape;
    char sr_task_id[64]; /* the payload's /task_id when a string */
    char sr_type[32];    /* the raw event's SSE type */
    bool sr_valid;
};

struct seen_log {
    struct seen_rec sl_r[SEEN_MAX];
    size_t sl_n;
};

static void on_seen(void *ctx, uint64_t now_ms, const struct validator_seen *s)
{
    struct seen_log *l = ctx;
    struct seen_rec *r;

    assert_true(l->sl_n < SEEN_MAX);
    r = &l->sl_r[l->sl_n++];
    memset(r, 0, sizeof(*r));
    r->sr_now = now_ms;
    snprintf(r->sr_kind, sizeof(r->sr_kind), "%s", s->vsn_kind);
    copy_opt(r->sr_variant, sizeof(r->sr_variant), s->vsn_variant, &r->sr_has_variant);
    r->sr_has_tape = s->vsn_tape != NULL;
    if (s->vsn_tape != NULL) {
        size_t n = json_tape_object_get(s->vsn_tape, s->vsn_payload, "task_id", 7);
        if (n != JSON_TAPE_NONE && json_tape_type(s->vsn_tape, n) == JSON_TAPE_STRING) {
            size_t len;
            const char *id = json_tape_string(s->vsn_tape, n, &len);
            snprintf(r->sr_task_id, sizeof(r->sr_task_id), "%.*s", (int)len, id);
        }
    } else {
        assert_true(s->vsn_payload == JSON_TAPE_NONE);
    }
    snprintf(r->sr_type, sizeof(r->sr_type), "%.*s", (int)s->vsn_sse->type_len, s->vsn_sse->type);
    r->sr_valid = s->vsn_valid;
}

static void test_seen_classified(void **state)
{
    (void)state;
    struct seen_log log = {0};
    struct validator_options o = task_opts;
    o.vo_on_seen = on_seen;
    o.vo_seen_ctx = &log;
    struct fx *f = fx_new(task_contract, &o);

    open_ok(f, 0);
    ev(f, 100, "connection_open", OPEN);
    ev(f, 200, "task_event", STARTED);
    ev(f, 250, "mystery", "{}");
    ev(f, 300, "task_event", "{'event_type': 'progress_update', 'task_id': 'other', 'data': {}}");
    ev(f, 400, "heartbeat", "not json");
    ev(f, 500, "task_event", "{'event_type': 'exploded', 'task_id': '" TASK_ID "'}");
    expect_n(f, 4);
    assert_int_equal(log.sl_n, 5); /* the unknown kind is not observed */

    assert_int_equal(log.sl_r[0].sr_now, 100);
    assert_string_equal(log.sl_r[0].sr_kind, "connection_open");
    assert_false(log.sl_r[0].sr_has_variant);
    assert_true(log.sl_r[0].sr_has_tape);
    assert_true(log.sl_r[0].sr_valid);

    assert_int_equal(log.sl_r[1].sr_now, 200);
    assert_string_equal(log.sl_r[1].sr_kind, "task_event");
    assert_string_equal(log.sl_r[1].sr_variant, "task_started");
    assert_string_equal(log.sl_r[1].sr_task_id, TASK_ID);
    assert_true(log.sl_r[1].sr_valid);

    /* judged first: the wrong task id is reported, then observed as invalid */
    assert_string_equal(log.sl_r[2].sr_variant, "progress_update");
    assert_string_equal(log.sl_r[2].sr_task_id, "other");
    assert_false(log.sl_r[2].sr_valid);

    assert_string_equal(log.sl_r[3].sr_kind, "heartbeat");
    assert_false(log.sl_r[3].sr_has_tape);
    assert_false(log.sl_r[3].sr_valid);

    /* a variant not declared: the kind without a variant, invalid */
    assert_string_equal(log.sl_r[4].sr_kind, "task_event");
    assert_false(log.sl_r[4].sr_has_variant);
    assert_true(log.sl_r[4].sr_has_tape);
    assert_false(log.sl_r[4].sr_valid);
    fx_free(f);
}

static void test_seen_text_and_envelope(void **state)
{
    (void)state;
    struct seen_log log = {0};
    struct validator_options o = {.vo_timing = true, .vo_on_seen = on_seen, .vo_seen_ctx = &log};
    struct fx *f = fx_new(plain_contract, &o);

    validator_begin(f->f_v, 0);
    ev(f, 10, "note", "hello");
    assert_int_equal(log.sl_n, 1);
    assert_string_equal(log.sl_r[0].sr_kind, "note");
    assert_false(log.sl_r[0].sr_has_tape);
    assert_true(log.sl_r[0].sr_valid);
    fx_free(f);

    memset(&log, 0, sizeof(log));
    f = fx_new(envelope_contract, &o);
    open_ok(f, 0);
    ev(f, 10, "ready", "");
    ev(f, 20, "message", "{'type': 'task_event', 'payload': {'task_id': 'x'}}");
    ev(f, 30, "message", "{'type': 'mystery', 'payload': {}}");
    ev(f, 40, "message", "{'type': 'task_event'}");
    expect_n(f, 2);
    assert_int_equal(log.sl_n, 3);
    /* the kind and payload inside the envelope; the raw event as sent */
    assert_string_equal(log.sl_r[1].sr_kind, "task_event");
    assert_string_equal(log.sl_r[1].sr_type, "message");
    assert_string_equal(log.sl_r[1].sr_task_id, "x");
    assert_true(log.sl_r[1].sr_valid);
    assert_int_equal(log.sl_r[1].sr_now, 20);
    assert_string_equal(log.sl_r[2].sr_kind, "task_event");
    assert_false(log.sl_r[2].sr_has_tape);
    assert_false(log.sl_r[2].sr_valid);
    fx_free(f);
}

static void test_set_vars(void **state)
{
    (void)state;
    struct fx *f = fx_new(task_contract, &task_opts);
    const struct validator_var next[] = {{"task_id", "first"}, {"task_id", "second"}};

    assert_int_equal(validator_set_vars(f->f_v, NULL, 0), 0);
    assert_int_equal(validator_set_vars(f->f_v, next, 2), 0);
    open_ok(f, 0);
    ev(f, 100, "connection_open", OPEN);
    /* the later of two entries with one name wins */
    ev(f, 200, "task_event", "{'event_type': 'task_started', 'task_id': 'second', 'data': null}");
    expect_n(f, 0);
    ev(f, 300, "task_event", COMPLETED);
    expect_n(f, 1);
    expect(f, 0, VIOLATION_SCHEMA,
           "event task_event/task_completed: /task_id is \"" TASK_ID
           "\", expected \"second\" (variable task_id)");
    fx_free(f);

    /* a name not bound before is added: its rule applies from then on */
    const struct validator_var a = {"request_id", "A"}, b = {"request_id", "B"};
    f = fx_newf(cid_contract_fmt, "{'presence': 'required', 'equals': 'request_id'}", NULL);
    validator_begin(f->f_v, 0);
    ev(f, 1, "version", "{'correlation_id': 'A'}");
    expect_n(f, 0);
    assert_int_equal(validator_set_vars(f->f_v, &b, 1), 0);
    ev(f, 2, "version", "{'correlation_id': 'A'}");
    expect_n(f, 1);
    expect(f, 0, VIOLATION_CORRELATION_ID,
           "event version: /correlation_id is \"A\", expected \"B\" (variable request_id)");
    /* a new value judges a wrong id afresh */
    assert_int_equal(validator_set_vars(f->f_v, &a, 1), 0);
    validator_begin(f->f_v, 3);
    ev(f, 4, "version", "{'correlation_id': 'A'}");
    ev(f, 5, "version", "{'correlation_id': 'B'}");
    expect_n(f, 2);
    expect(f, 1, VIOLATION_CORRELATION_ID,
           "event version: /correlation_id is \"B\", expected \"A\" (variable request_id)");
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faithful_stream),
        cmocka_unit_test(test_seen_classified),
        cmocka_unit_test(test_seen_text_and_envelope),
        cmocka_unit_test(test_set_vars),
        cmocka_unit_test(test_long_message_cut_on_character),
        cmocka_unit_test(test_faithful_stream_through_parser),
        cmocka_unit_test(test_connect_failed_alone),
        cmocka_unit_test(test_http_status_alone),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_header_patterns_ecma),
        cmocka_unit_test(test_anomalies_strict),
        cmocka_unit_test(test_anomalies_lenient),
        cmocka_unit_test(test_data_not_json),
        cmocka_unit_test(test_unknown_event),
        cmocka_unit_test(test_order_message_and_resync),
        cmocka_unit_test(test_resync_missing_first_event),
        cmocka_unit_test(test_resync_extra_event),
        cmocka_unit_test(test_resync_duplicate_terminal),
        cmocka_unit_test(test_after_final_once),
        cmocka_unit_test(test_no_stream_ended_after_resync_to_final),
        cmocka_unit_test(test_order_resync_targets),
        cmocka_unit_test(test_stream_ended),
        cmocka_unit_test(test_discriminator),
        cmocka_unit_test(test_schema_still_judged_for_order),
        cmocka_unit_test(test_equals_variable),
        cmocka_unit_test(test_cid_required),
        cmocka_unit_test(test_cid_absent_and_type),
        cmocka_unit_test(test_cid_consistent),
        cmocka_unit_test(test_cid_equals_variable),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_envelope_order_from_type),
        cmocka_unit_test(test_window_reset_by_heartbeats),
        cmocka_unit_test(test_window_reset_on_any),
        cmocka_unit_test(test_window_comment_heartbeats),
        cmocka_unit_test(test_first_event_deadline_then_window),
        cmocka_unit_test(test_replay_without_ticks),
        cmocka_unit_test(test_timing_off),
        cmocka_unit_test(test_liveness_overrides),
        cmocka_unit_test(test_state_deadline),
        cmocka_unit_test(test_state_deadline_replay_and_reentry),
        cmocka_unit_test(test_pause_state_deadline),
        cmocka_unit_test(test_no_window_after_end),
        cmocka_unit_test(test_lifecycle_timeout),
        cmocka_unit_test(test_pause_heartbeat_window),
        cmocka_unit_test(test_pause_first_event_and_lifecycle),
        cmocka_unit_test(test_excerpt_bounds),
        cmocka_unit_test(test_text_and_json_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
