/*
 * Conformance tests for sse_parser against the WHATWG HTML algorithm
 * "interpreting an event stream" (Server-sent events) with the WHATWG
 * Encoding "UTF-8 decode", plus the limits, anomalies and stats promised by
 * include/ssemon/core/sse_parser.h.
 *
 * Most cases go through expect_lim(), which feeds the input whole, one byte
 * at a time, split in two at every position, in three at every pair of
 * positions (short inputs) and in random chunks, and requires the same
 * transcript (see sse_test_util.h) from each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc_fail.h"
#include "sse_test_util.h"
#include "ssemon/core/sse_parser.h"

/* A string literal and its length, embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1
/* U+FFFD as the transcript writes it. */
#define FFFD "\\xef\\xbf\\xbd"
#define X10 "xxxxxxxxxx"
#define X60 X10 X10 X10 X10 X10 X10

/* Inputs of up to this many bytes are also fed at every pair of cuts. */
#define THREE_WAY_MAX 64

static const struct sse_parser_limits small_limits = {.max_line = 48, .max_event = 96};

/* ---- growable byte buffer for building long inputs ---- */

struct tbuf {
    char *tb_buf;
    size_t tb_len;
    size_t tb_cap;
};

static void tbuf_add(struct tbuf *b, const void *s, size_t len)
{
    if (b->tb_len + len + 1 > b->tb_cap) {
        size_t cap = b->tb_cap ? b->tb_cap : 256;
        while (cap < b->tb_len + len + 1)
            cap *= 2;
        char *nb = realloc(b->tb_buf, cap);
        assert_non_null(nb);
        b->tb_buf = nb;
        b->tb_cap = cap;
    }
    if (len > 0)
        memcpy(b->tb_buf + b->tb_len, s, len);
    b->tb_len += len;
    b->tb_buf[b->tb_len] = '\0';
}

static void tbuf_str(struct tbuf *b, const char *s)
{
    tbuf_add(b, s, strlen(s));
}

static void tbuf_rep(struct tbuf *b, char c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tbuf_add(b, &c, 1);
}

static void tbuf_free(struct tbuf *b)
{
    free(b->tb_buf);
    memset(b, 0, sizeof(*b));
}

/* ---- running and comparing ---- */

static void run_cuts(struct sse_rec *r, const struct sse_parser_limits *lim, unsigned flags,
                     const char *in, size_t len, const size_t *cuts, size_t ncuts, int nstreams)
{
    sse_rec_init(r, flags);
    sse_rec_run(r, lim, NULL, in, len, cuts, ncuts, nstreams);
    assert_false(r->sr_failed);
}

static void fail_pattern(const char *in, size_t len, const char *how, const size_t *cuts,
                         size_t ncuts, const char *expected, const char *got)
{
    char desc[256];
    size_t off = 0;
    desc[0] = '\0';
    for (size_t i = 0; i < ncuts && off + 24 < sizeof(desc); i++)
        off += (size_t)snprintf(desc + off, sizeof(desc) - off, "%s%zu", i ? "," : "", cuts[i]);
    if (off + 24 >= sizeof(desc))
        snprintf(desc + off, sizeof(desc) - off, ",...");
    struct sse_rec shown;
    sse_rec_init(&shown, 0);
    sse_rec_note(&shown, "", in, len);
    fail_msg("input %s fed %s (cuts %s)\n  expected: %s\n  got:      %s", sse_rec_text(&shown), how,
             desc, expected, got);
}

static void compare_run(const struct sse_parser_limits *lim, unsigned flags, const char *in,
                        size_t len, const char *how, const size_t *cuts, size_t ncuts, int nstreams,
                        const char *expected)
{
    struct sse_rec r;
    run_cuts(&r, lim, flags, in, len, cuts, ncuts, nstreams);
    if (strcmp(sse_rec_text(&r), expected) != 0)
        fail_pattern(in, len, how, cuts, ncuts, expected, sse_rec_text(&r));
    sse_rec_free(&r);
}

/* Requires `expected` from every feeding pattern. nstreams > 1 feeds the
 * input again after each sse_parser_end (a reconnect). */
static void expect_streams(const struct sse_parser_limits *lim, unsigned flags, const char *in,
                           size_t len, int nstreams, const char *expected)
{
    size_t *cuts = calloc(len + 2, sizeof(*cuts));
    assert_non_null(cuts);

    compare_run(lim, flags, in, len, "whole", NULL, 0, nstreams, expected);

    for (size_t i = 0; i + 1 < len; i++)
        cuts[i] = i + 1;
    compare_run(lim, flags, in, len, "byte by byte", cuts, len > 0 ? len - 1 : 0, nstreams,
                expected);

    for (size_t k = 0; k <= len; k++) {
        cuts[0] = k;
        compare_run(lim, flags, in, len, "in two", cuts, 1, nstreams, expected);
    }

    if (len <= THREE_WAY_MAX) {
        for (size_t i = 1; i < len; i++) {
            for (size_t j = i; j < len; j++) {
                cuts[0] = i;
                cuts[1] = j;
                compare_run(lim, flags, in, len, "in three", cuts, 2, nstreams, expected);
            }
        }
    }

    static const size_t max_chunks[] = {2, 3, 5, 8, 64};
    for (size_t m = 0; m < sizeof(max_chunks) / sizeof(max_chunks[0]); m++) {
        for (uint64_t seed = 1; seed <= 8; seed++) {
            uint64_t state = seed * 1000 + m;
            size_t n = sse_rand_cuts(&state, len, max_chunks[m], cuts, len + 2);
            compare_run(lim, flags, in, len, "in random chunks", cuts, n, nstreams, expected);
        }
    }
    free(cuts);
}

static void expect_lim(const struct sse_parser_limits *lim, unsigned flags, const char *in,
                       size_t len, const char *expected)
{
    expect_streams(lim, flags, in, len, 1, expected);
}

#define EXPECT(in, expected) expect_lim(NULL, 0, S(in), expected)
#define EXPECT_STATE(in, expected) expect_lim(NULL, SSE_REC_STATE, S(in), expected)

/* Parses `in` whole; the caller inspects and frees `r`. */
static void run_whole(struct sse_rec *r, const struct sse_parser_limits *lim, const char *in,
                      size_t len)
{
    run_cuts(r, lim, SSE_REC_ANOMALIES, in, len, NULL, 0, 1);
    if (strstr(sse_rec_text(r), "![") != NULL)
        fail_msg("contract violation: %s", sse_rec_text(r));
}

/* Every anomaly kind whose bit is not in `allowed` was never reported. */
static void assert_only_anomalies(const struct sse_rec *r, unsigned allowed)
{
    for (unsigned k = 0; k < SSE_ANOMALY_COUNT; k++) {
        if (!(allowed & (1u << k)) && r->sr_anomalies[k] != 0)
            fail_msg("unexpected anomaly %s (x%llu) in %s", sse_rec_kind_name((enum sse_anomaly)k),
                     (unsigned long long)r->sr_anomalies[k], sse_rec_text(r));
    }
}

#define BIT(kind) (1u << (kind))

/* The escaped form of the last line reported for `kind` equals `want`. */
static void assert_last_line(const struct sse_rec *r, enum sse_anomaly kind, const char *want)
{
    struct sse_rec shown;
    sse_rec_init(&shown, 0);
    sse_rec_note(&shown, "", r->sr_last_line[kind], r->sr_last_line_len[kind]);
    char *expected = malloc(strlen(want) + 3);
    assert_non_null(expected);
    sprintf(expected, "[%s]", want);
    assert_string_equal(sse_rec_text(&shown), expected);
    free(expected);
    sse_rec_free(&shown);
}

/* Expects exactly `count` anomalies of `kind` and none of another kind. */
static void expect_anomaly(const char *in, size_t len, enum sse_anomaly kind, uint64_t count)
{
    struct sse_rec r;
    run_whole(&r, NULL, in, len);
    assert_only_anomalies(&r, count ? BIT(kind) : 0);
    if (r.sr_anomalies[kind] != count)
        fail_msg("%s: want %llu, got %llu in %s", sse_rec_kind_name(kind),
                 (unsigned long long)count, (unsigned long long)r.sr_anomalies[kind],
                 sse_rec_text(&r));
    sse_rec_free(&r);
}

static struct sse_parser *new_parser(struct sse_rec *r, unsigned flags,
                                     const struct sse_parser_limits *lim)
{
    struct sse_parser_callbacks cbs;
    sse_rec_init(r, flags);
    sse_rec_callbacks(&cbs);
    struct sse_parser *p = sse_parser_new(lim, &cbs, r);
    assert_non_null(p);
    return p;
}

static void feed(struct sse_parser *p, const char *s, size_t len)
{
    assert_int_equal(sse_parser_feed(p, s, len), 0);
}

#define FEED(p, lit) feed(p, S(lit))

/* A macro so that a failure names the caller's line. */
#define assert_last_id(p, want)                                                                    \
    do {                                                                                           \
        size_t id_len_ = 99;                                                                       \
        const char *id_ = sse_parser_last_event_id(p, &id_len_);                                   \
        assert_non_null(id_);                                                                      \
        assert_int_equal(id_len_, strlen(want));                                                   \
        assert_memory_equal(id_, want, id_len_);                                                   \
    } while (0)

/* ---- field parsing ---- */

static void test_basic_event(void **state)
{
    (void)state;
    EXPECT("data: hello\n\n", "E[message][][hello]");
    EXPECT("event: add\ndata: {\"a\": 1}\n\n", "E[add][][{\"a\": 1}]");
    expect_anomaly(S("event: add\ndata: {\"a\": 1}\nid: 4\nretry: 10\n: c\n\n"),
                   SSE_ANOMALY_UNKNOWN_FIELD, 0);
}

static void test_split_at_first_colon(void **state)
{
    (void)state;
    EXPECT("data: a:b\n\n", "E[message][][a:b]");
    EXPECT("data:: x\n\n", "E[message][][: x]");
    EXPECT("data:a: b\n\n", "E[message][][a: b]");
    EXPECT("data:::\n\n", "E[message][][::]");
    EXPECT("event: a:b\ndata: x\n\n", "E[a:b][][x]");
    EXPECT("id: 1:2\ndata: x\n\n", "E[message][1:2][x]");
}

static void test_one_leading_space_removed(void **state)
{
    (void)state;
    EXPECT("data: x\n\n", "E[message][][x]");
    EXPECT("data:x\n\n", "E[message][][x]");
    EXPECT("data:  x\n\n", "E[message][][ x]");
    EXPECT("data:   x\n\n", "E[message][][  x]");
    EXPECT("data:\tx\n\n", "E[message][][\\tx]");
    EXPECT("data: \tx\n\n", "E[message][][\\tx]");
    EXPECT("data: x \n\n", "E[message][][x ]");
    EXPECT("data:\xc2\xa0x\n\n", "E[message][][\\xc2\\xa0x]");
    EXPECT("event:  spaced\ndata: x\n\n", "E[ spaced][][x]");
    EXPECT_STATE("id:  7\ndata: x\n\n", "E[message][ 7][x] L[ 7] T[-]");
}

static void test_line_without_colon(void **state)
{
    (void)state;
    /* The whole line is the field name and the value is empty. */
    EXPECT("data\n\n", "E[message][][]");
    EXPECT("data\ndata\n\n", "E[message][][\\n]");
    EXPECT("data: a\ndata\n\n", "E[message][][a\\n]");
    EXPECT("data\ndata: a\n\n", "E[message][][\\na]");
    EXPECT("event: a\nevent\ndata: x\n\n", "E[message][][x]");
    EXPECT_STATE("id: 1\ndata: a\n\nid\ndata: b\n\n", "E[message][1][a] E[message][][b] L[] T[-]");

    struct sse_rec r;
    run_whole(&r, NULL, S("data\n\n"));
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_NO_COLON));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_NO_COLON], 1);
    assert_last_line(&r, SSE_ANOMALY_NO_COLON, "data");
    sse_rec_free(&r);

    /* Unknown and colon-less at once. */
    run_whole(&r, NULL, S("foo\n\n"));
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_NO_COLON) | BIT(SSE_ANOMALY_UNKNOWN_FIELD));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_NO_COLON], 1);
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_UNKNOWN_FIELD], 1);
    assert_int_equal(r.sr_events, 0);
    sse_rec_free(&r);

    /* Empty lines are not colon-less fields. */
    expect_anomaly(S("data: x\n\n\n\r\n\r"), SSE_ANOMALY_NO_COLON, 0);
}

static void test_comments(void **state)
{
    (void)state;
    EXPECT(": hello\n", "C[ hello]");
    EXPECT(":\n", "C[]");
    EXPECT("::x\n", "C[:x]");
    EXPECT(":  two\n", "C[  two]");
    EXPECT(": a: b\n", "C[ a: b]");
    EXPECT(":data: x\n\n", "C[data: x]");
    EXPECT(":\r\n:x\r:y\n", "C[] C[x] C[y]");
    EXPECT(": heartbeat\n\n", "C[ heartbeat]");
    EXPECT(": \xc3\xa9\n", "C[ \\xc3\\xa9]");
    EXPECT(": a\x00"
           "b\n",
           "C[ a\\x00b]");
    /* A comment does not end or disturb the event around it. */
    EXPECT("data: a\n: c\ndata: b\n\n", "C[ c] E[message][][a\\nb]");
    EXPECT("event: t\n:\nid: 3\n:\ndata: x\n\n", "C[] C[] E[t][3][x]");
    /* An unterminated comment at the end of the stream is discarded. */
    EXPECT(": one\n: two", "C[ one]");
    expect_anomaly(S(": a\n:\n::\n: data\n"), SSE_ANOMALY_UNKNOWN_FIELD, 0);
}

static void test_unknown_fields_ignored(void **state)
{
    (void)state;
    EXPECT("foo: bar\ndata: x\n\n", "E[message][][x]");
    EXPECT("foo: bar\n\n", "");
    EXPECT("datax: y\n\n", "");
    EXPECT("dat: y\n\n", "");
    EXPECT(" data: x\n\n", "");
    EXPECT("\tdata: x\n\n", "");
    EXPECT("data : x\n\n", "");
    EXPECT("ids: 1\ndata: x\n\n", "E[message][][x]");
    EXPECT("retry2: 5\n", "");

    struct sse_rec r;
    run_whole(&r, NULL, S("foo: bar\ndata: x\n\n"));
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_UNKNOWN_FIELD));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_UNKNOWN_FIELD], 1);
    assert_last_line(&r, SSE_ANOMALY_UNKNOWN_FIELD, "foo: bar");
    sse_rec_free(&r);
}

static void test_field_names_case_sensitive(void **state)
{
    (void)state;
    EXPECT("Data: x\n\n", "");
    EXPECT("DATA: x\n\n", "");
    EXPECT("Event: y\ndata: z\n\n", "E[message][][z]");
    EXPECT("EVENT: y\ndata: z\n\n", "E[message][][z]");
    EXPECT_STATE("ID: 5\ndata: z\n\n", "E[message][][z] L[] T[-]");
    EXPECT_STATE("Id: 5\ndata: z\n\n", "E[message][][z] L[] T[-]");
    EXPECT_STATE("Retry: 5\nRETRY: 6\n", "L[] T[-]");
    expect_anomaly(S("Data: x\n\n"), SSE_ANOMALY_UNKNOWN_FIELD, 1);
    expect_anomaly(S("Event: y\nID: 1\nRetry: 2\n"), SSE_ANOMALY_UNKNOWN_FIELD, 3);
}

static void test_data_lines_joined(void **state)
{
    (void)state;
    EXPECT("data: a\ndata: b\ndata: c\n\n", "E[message][][a\\nb\\nc]");
    EXPECT("data:\ndata:\n\n", "E[message][][\\n]");
    EXPECT("data: a\ndata:\n\n", "E[message][][a\\n]");
    EXPECT("data:\ndata: a\n\n", "E[message][][\\na]");
    EXPECT("data: a\n\n\n", "E[message][][a]");
    EXPECT("data: a\ndata: b\n\ndata: c\n\n", "E[message][][a\\nb] E[message][][c]");
    EXPECT("data:a\n\n\n\ndata:b\n\n", "E[message][][a] E[message][][b]");
}

static void test_empty_data_no_dispatch(void **state)
{
    (void)state;
    EXPECT("\n", "");
    EXPECT("\n\n\n", "");
    EXPECT("event: x\n\n", "");
    EXPECT("event: x\nid: 1\n\n", "");
    /* The type is reset even though nothing was dispatched. */
    EXPECT("event: x\n\ndata: y\n\n", "E[message][][y]");
    /* A data field with an empty value still makes the buffer non-empty. */
    EXPECT("data:\n\n", "E[message][][]");
    EXPECT("data: \n\n", "E[message][][]");
    EXPECT("event: ready\ndata:\n\n", "E[ready][][]");
}

static void test_event_type(void **state)
{
    (void)state;
    EXPECT("event: add\ndata: 1\n\ndata: 2\n\n", "E[add][][1] E[message][][2]");
    EXPECT("event: \ndata: x\n\n", "E[message][][x]");
    EXPECT("event:\ndata: x\n\n", "E[message][][x]");
    EXPECT("event: a\nevent: b\ndata: x\n\n", "E[b][][x]");
    EXPECT("event: a\nevent:\ndata: x\n\n", "E[message][][x]");
    EXPECT("event: message\ndata: x\n\n", "E[message][][x]");
    EXPECT("data: x\nevent: late\n\n", "E[late][][x]");
    EXPECT("event: error\ndata: x\n\nevent: error\ndata: y\n\n", "E[error][][x] E[error][][y]");
}

/* ---- id ---- */

static void test_id_field(void **state)
{
    (void)state;
    EXPECT_STATE("id: 1\ndata: a\n\ndata: b\n\n", "E[message][1][a] E[message][1][b] L[1] T[-]");
    EXPECT_STATE("data: x\nid: 3\n\n", "E[message][3][x] L[3] T[-]");
    EXPECT_STATE("id: 1\ndata: a\nid: 2\n\n", "E[message][2][a] L[2] T[-]");
    EXPECT_STATE("id: 1\ndata: a\n\nid: 2\ndata: b\n\n",
                 "E[message][1][a] E[message][2][b] L[2] T[-]");
    /* An empty value resets the ID. */
    EXPECT_STATE("id: 1\ndata: a\n\nid:\ndata: b\n\n", "E[message][1][a] E[message][][b] L[] T[-]");
    EXPECT_STATE("id: 1\ndata: a\n\nid: \ndata: b\n\n",
                 "E[message][1][a] E[message][][b] L[] T[-]");
    /* The string is updated at every dispatch, even without data. */
    EXPECT_STATE("id: 5\n\n", "L[5] T[-]");
    EXPECT_STATE("id: 1\ndata: a\n\nid: 5\n\n", "E[message][1][a] L[5] T[-]");
    EXPECT_STATE("id: 5\n\nid: 6\ndata: x\n\n", "E[message][6][x] L[6] T[-]");
    /* Set only at a dispatch: an id line alone leaves the string as it was. */
    EXPECT_STATE("id: 5\n", "L[] T[-]");
    EXPECT_STATE("id: 1\n\nid: 5\n", "L[1] T[-]");
}

static void test_id_string_only_at_dispatch(void **state)
{
    (void)state;
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, NULL);
    assert_last_id(p, "");
    FEED(p, "id: 5\n");
    assert_last_id(p, "");
    FEED(p, "\n");
    assert_last_id(p, "5");
    FEED(p, "id: 6\ndata: x\n");
    assert_last_id(p, "5");
    FEED(p, "\n");
    assert_last_id(p, "6");
    assert_string_equal(sse_rec_text(&r), "E[message][6][x]");
    sse_parser_free(p);
    sse_rec_free(&r);
}

static void test_id_with_nul_ignored(void **state)
{
    (void)state;
    EXPECT_STATE("id: a\x00"
                 "b\ndata: x\n\n",
                 "E[message][][x] L[] T[-]");
    EXPECT_STATE("id: 1\n\nid: a\x00"
                 "b\ndata: x\n\n",
                 "E[message][1][x] L[1] T[-]");
    EXPECT_STATE("id: 1\n\nid: \x00\ndata: x\n\n", "E[message][1][x] L[1] T[-]");

    struct sse_rec r;
    run_whole(&r, NULL,
              S("id: a\x00"
                "b\ndata: x\n\n"));
    /* The NUL may also be reported as such; nothing else. */
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_ID_NUL) | BIT(SSE_ANOMALY_NUL));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_ID_NUL], 1);
    assert_true(r.sr_anomalies[SSE_ANOMALY_NUL] <= 1);
    assert_last_line(&r, SSE_ANOMALY_ID_NUL, "id: a\\x00b");
    sse_rec_free(&r);
}

static void test_id_persists_across_end(void **state)
{
    (void)state;
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, NULL);
    FEED(p, "id: 7\ndata: a\n\n");
    sse_parser_end(p);
    assert_last_id(p, "7");
    FEED(p, "data: b\n\n");
    assert_last_id(p, "7");
    sse_parser_end(p);
    FEED(p, "id\ndata: c\n\n");
    assert_last_id(p, "");
    assert_string_equal(sse_rec_text(&r), "E[message][7][a] E[message][7][b] E[message][][c]");
    sse_parser_free(p);
    sse_rec_free(&r);

    /* The last event ID buffer belongs to the stream (HTML: "when a stream
     * is parsed, a data buffer, an event type buffer, and a last event ID
     * buffer must be associated with it"); a reconnect seeds the new one from
     * the string, as sse_parser_set_last_event_id does. So an id line in an
     * event cut off by the end never reaches the string or the next stream. */
    p = new_parser(&r, 0, NULL);
    FEED(p, "id: 1\ndata: a\n\nid: 5\ndata: x\n");
    sse_parser_end(p);
    assert_last_id(p, "1");
    FEED(p, "data: y\n\n");
    assert_last_id(p, "1");
    assert_string_equal(sse_rec_text(&r), "E[message][1][a] E[message][1][y]");
    sse_parser_free(p);
    sse_rec_free(&r);

    /* An unterminated id line is discarded with the rest. */
    p = new_parser(&r, 0, NULL);
    FEED(p, "id: 1\ndata: a\n\nid: 9");
    sse_parser_end(p);
    FEED(p, "data: b\n\n");
    assert_string_equal(sse_rec_text(&r), "E[message][1][a] E[message][1][b]");
    sse_parser_free(p);
    sse_rec_free(&r);
}

static void test_set_last_event_id(void **state)
{
    (void)state;
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, NULL);
    assert_int_equal(sse_parser_set_last_event_id(p, "42", 2), 0);
    assert_last_id(p, "42");
    FEED(p, "data: x\n\n");
    assert_last_id(p, "42");
    FEED(p, "id: 43\ndata: y\n\n");
    sse_parser_end(p);
    assert_int_equal(sse_parser_set_last_event_id(p, "abc", 2), 0);
    assert_last_id(p, "ab");
    FEED(p, "data: z\n\n");
    assert_int_equal(sse_parser_set_last_event_id(p, "", 0), 0);
    assert_last_id(p, "");
    FEED(p, "data: w\n\n");
    assert_string_equal(sse_rec_text(&r), "E[message][42][x] E[message][43][y] "
                                          "E[message][ab][z] E[message][][w]");
    sse_parser_free(p);
    sse_rec_free(&r);
}

/* ---- retry ---- */

static void test_retry_valid(void **state)
{
    (void)state;
    EXPECT_STATE("retry: 1000\n", "R[1000] L[] T[1000]");
    EXPECT_STATE("retry:1000\n", "R[1000] L[] T[1000]");
    EXPECT_STATE("retry: 0\n", "R[0] L[] T[0]");
    EXPECT_STATE("retry: 007\n", "R[7] L[] T[7]");
    EXPECT_STATE("retry: 5\nretry: 6\n", "R[5] R[6] L[] T[6]");
    /* Retry does not touch the event around it. */
    EXPECT_STATE("data: a\nretry: 5\ndata: b\n\n", "R[5] E[message][][a\\nb] L[] T[5]");
    /* Leading zeros make a long string of a small number. */
    EXPECT_STATE("retry: 000000000000000000000000000000001\n", "R[1] L[] T[1]");
    expect_anomaly(S("retry: 1000\nretry: 0\n"), SSE_ANOMALY_BAD_RETRY, 0);
    /* The parser knows no reconnect range: any valid value is taken as is,
     * and only a subscription reports retry_out_of_range. */
    expect_anomaly(S("retry: 0\nretry: 86400000\nretry: 99999999999999999999999\n"),
                   SSE_ANOMALY_RETRY_OUT_OF_RANGE, 0);
}

static void test_retry_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
    } bad[] = {
        {S("retry: 10a\n")},
        {S("retry: -1\n")},
        {S("retry: 1.5\n")},
        {S("retry:\n")},
        {S("retry: \n")},
        {S("retry\n")},
        {S("retry:  1\n")},
        {S("retry: 1 \n")},
        {S("retry: +1\n")},
        {S("retry: 0x10\n")},
        {S("retry: 1e3\n")},
        {S("retry: \xef\xbc\x91\n")},
        {S("retry: 1\x00"
           "0\n")},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_lim(NULL, SSE_REC_STATE, bad[i].in, bad[i].len, "L[] T[-]");
        struct sse_rec r;
        run_whole(&r, NULL, bad[i].in, bad[i].len);
        assert_int_equal(r.sr_anomalies[SSE_ANOMALY_BAD_RETRY], 1);
        assert_int_equal(r.sr_retries, 0);
        sse_rec_free(&r);
    }
    /* An invalid retry keeps the previous value. */
    EXPECT_STATE("retry: 300\nretry: x\n", "R[300] L[] T[300]");
}

static void test_retry_saturates(void **state)
{
    (void)state;
    EXPECT_STATE("retry: 18446744073709551614\n",
                 "R[18446744073709551614] L[] T[18446744073709551614]");
    EXPECT_STATE("retry: 18446744073709551615\n",
                 "R[18446744073709551615] L[] T[18446744073709551615]");
    EXPECT_STATE("retry: 18446744073709551616\n",
                 "R[18446744073709551615] L[] T[18446744073709551615]");
    EXPECT_STATE("retry: 99999999999999999999999999999999999999\n",
                 "R[18446744073709551615] L[] T[18446744073709551615]");

    struct tbuf b = {0};
    tbuf_str(&b, "retry: ");
    tbuf_rep(&b, '9', 40000);
    tbuf_str(&b, "\n");
    struct sse_rec r;
    run_whole(&r, NULL, b.tb_buf, b.tb_len);
    assert_string_equal(sse_rec_text(&r), "R[18446744073709551615]");
    sse_rec_free(&r);
    tbuf_free(&b);
}

static void test_retry_persists_across_end(void **state)
{
    (void)state;
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, NULL);
    uint64_t ms = 1;
    assert_false(sse_parser_retry(p, &ms));
    FEED(p, "retry: 300\ndata: x");
    sse_parser_end(p);
    assert_true(sse_parser_retry(p, &ms));
    assert_int_equal(ms, 300);
    FEED(p, "data: y\n\nretry: bad\n");
    sse_parser_end(p);
    assert_true(sse_parser_retry(p, &ms));
    assert_int_equal(ms, 300);
    assert_string_equal(sse_rec_text(&r), "R[300] E[message][][y]");
    sse_parser_free(p);
    sse_rec_free(&r);
}

/* ---- line ends ---- */

static void test_line_ends(void **state)
{
    (void)state;
    EXPECT("data: a\n\n", "E[message][][a]");
    EXPECT("data: a\r\n\r\n", "E[message][][a]");
    EXPECT("data: a\r\r", "E[message][][a]");
    EXPECT("data: a\rdata: b\r\ndata: c\n\n", "E[message][][a\\nb\\nc]");
    EXPECT("data: a\r\ndata: b\r\n\r\n", "E[message][][a\\nb]");
    /* CRLF is one line end even when split across chunks (all splits). */
    EXPECT("data: a\r\ndata: b\n\n", "E[message][][a\\nb]");
    /* CR CR is two line ends. */
    EXPECT("data: a\r\rdata: b\r\r", "E[message][][a] E[message][][b]");
    EXPECT("data: a\r\r\ndata: b\n\n", "E[message][][a] E[message][][b]");
    EXPECT("data: a\n\rdata: b\n\n", "E[message][][a] E[message][][b]");
    EXPECT("data: a\r\n\rdata: b\n\n", "E[message][][a] E[message][][b]");
    EXPECT("data: a\r\n\ndata: b\n\n", "E[message][][a] E[message][][b]");
    EXPECT("data: a\n\r\n", "E[message][][a]");
    EXPECT(": x\r: y\r\n: z\n", "C[ x] C[ y] C[ z]");
    /* A CR at the very end of the stream is a line end: nothing follows it. */
    EXPECT("data: a\n\r", "E[message][][a]");
    EXPECT("data: a\r", "");
}

static void test_crlf_split_explicit(void **state)
{
    (void)state;
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, NULL);
    FEED(p, "data: a\r");
    FEED(p, "\n");
    FEED(p, "data: b\r");
    FEED(p, "\n");
    FEED(p, "\r");
    FEED(p, "\n");
    assert_string_equal(sse_rec_text(&r), "E[message][][a\\nb]");
    FEED(p, "data: c\r");
    FEED(p, "\r");
    assert_string_equal(sse_rec_text(&r), "E[message][][a\\nb] E[message][][c]");
    sse_parser_free(p);
    sse_rec_free(&r);
}

/* ---- end of stream ---- */

static void test_end_discards_pending(void **state)
{
    (void)state;
    EXPECT("data: a", "");
    EXPECT("data: a\n", "");
    EXPECT("event: x\ndata: a\n", "");
    EXPECT("data: a\n\ndata: b", "E[message][][a]");
    EXPECT("data: a\n\ndata: b\n", "E[message][][a]");
    /* Complete retry/id lines took effect before the end. */
    EXPECT_STATE("retry: 5\nid: 9\ndata: x\n", "R[5] L[] T[5]");
    EXPECT_STATE("retry: 5", "L[] T[-]");
    EXPECT_STATE("id: 9", "L[] T[-]");

    /* Nothing of the discarded event leaks into the next stream. */
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, NULL);
    FEED(p, "event: x\ndata: a\n");
    sse_parser_end(p);
    FEED(p, "\n");
    assert_string_equal(sse_rec_text(&r), "");
    FEED(p, "data: b\n\n");
    assert_string_equal(sse_rec_text(&r), "E[message][][b]");
    FEED(p, "data: c");
    sse_parser_end(p);
    FEED(p, "\n\n");
    sse_parser_end(p);
    sse_parser_end(p);
    assert_string_equal(sse_rec_text(&r), "E[message][][b]");
    sse_parser_free(p);
    sse_rec_free(&r);
}

/* ---- byte order mark ---- */

static void test_bom(void **state)
{
    (void)state;
    EXPECT("\xef\xbb\xbf"
           "data: x\n\n",
           "E[message][][x]");
    EXPECT("\xef\xbb\xbf"
           ": c\n",
           "C[ c]");
    EXPECT("\xef\xbb\xbf"
           "\ndata: x\n\n",
           "E[message][][x]");
    EXPECT("\xef\xbb\xbf", "");
    /* Only one is stripped: the second is part of the first field name. */
    EXPECT("\xef\xbb\xbf\xef\xbb\xbf"
           "data: x\n\n",
           "");
    EXPECT("\xef\xbb\xbf\xef\xbb\xbf"
           "data: x\n\ndata: y\n\n",
           "E[message][][y]");
    /* Not stripped after the start. */
    EXPECT("data: a\n\n\xef\xbb\xbf"
           "data: b\n\n",
           "E[message][][a]");
    EXPECT("data: \xef\xbb\xbf"
           "x\n\n",
           "E[message][][\\xef\\xbb\\xbfx]");

    struct sse_rec r;
    run_whole(&r, NULL,
              S("\xef\xbb\xbf\xef\xbb\xbf"
                "data: x\n\n"));
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_UNKNOWN_FIELD));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_UNKNOWN_FIELD], 1);
    assert_last_line(&r, SSE_ANOMALY_UNKNOWN_FIELD, "\\xef\\xbb\\xbfdata: x");
    sse_rec_free(&r);
    expect_anomaly(S("\xef\xbb\xbf"
                     "data: x\n\n"),
                   SSE_ANOMALY_INVALID_UTF8, 0);
}

static void test_bom_restarts_after_end(void **state)
{
    (void)state;
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, NULL);
    FEED(p, "\xef\xbb\xbf"
            "data: a\n\n");
    sse_parser_end(p);
    FEED(p, "\xef\xbb\xbf"
            "data: b\n\n");
    sse_parser_end(p);
    FEED(p, "\xef");
    FEED(p, "\xbb");
    FEED(p, "\xbf"
            "data: c\n\n");
    sse_parser_end(p);
    /* A stream cut off inside its BOM: the next one starts afresh. */
    FEED(p, "\xef\xbb");
    sse_parser_end(p);
    FEED(p, "\xef\xbb\xbf"
            "data: d\n\n");
    assert_string_equal(sse_rec_text(&r),
                        "E[message][][a] E[message][][b] E[message][][c] E[message][][d]");
    /* The cut-off BOM may count as invalid UTF-8; nothing else is wrong. */
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_INVALID_UTF8));
    sse_parser_free(p);
    sse_rec_free(&r);
}

static void test_partial_bom(void **state)
{
    (void)state;
    /* EF BB followed by anything but BF is a truncated sequence: one U+FFFD. */
    EXPECT("\xef\xbb"
           "data: x\n\ndata: y\n\n",
           "E[message][][y]");
    EXPECT("\xef"
           "data: x\n\ndata: y\n\n",
           "E[message][][y]");
    EXPECT("\xef\xbb"
           ": c\n",
           "");
    EXPECT("\xef\xbb\n"
           "data: x\n\n",
           "E[message][][x]");

    struct sse_rec r;
    run_whole(&r, NULL,
              S("\xef\xbb"
                "data: x\n\n"));
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_UNKNOWN_FIELD) | BIT(SSE_ANOMALY_INVALID_UTF8));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_UNKNOWN_FIELD], 1);
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_INVALID_UTF8], 1);
    assert_last_line(&r, SSE_ANOMALY_UNKNOWN_FIELD, FFFD "data: x");
    assert_last_line(&r, SSE_ANOMALY_INVALID_UTF8, FFFD "data: x");
    sse_rec_free(&r);

    /* The bytes after a partial BOM are not a BOM either. */
    run_whole(&r, NULL,
              S("\xef\xbb\xef\xbb\xbf"
                "data: x\n\n"));
    assert_last_line(&r, SSE_ANOMALY_UNKNOWN_FIELD, FFFD "\\xef\\xbb\\xbfdata: x");
    sse_rec_free(&r);
}

/* ---- UTF-8 decoding ---- */

struct utf8_case {
    const char *in; /* the value of a data line */
    size_t len;
    const char *data; /* the event's data, as the transcript writes it */
};

static void check_utf8_case(const struct utf8_case *c, bool invalid)
{
    struct tbuf b = {0};
    tbuf_str(&b, "data: ");
    tbuf_add(&b, c->in, c->len);
    tbuf_str(&b, "\n\n");
    char *want = malloc(strlen(c->data) + 32);
    assert_non_null(want);
    sprintf(want, "E[message][][%s]", c->data);
    expect_lim(NULL, 0, b.tb_buf, b.tb_len, want);
    /* The same with CRLF line ends. */
    tbuf_free(&b);
    tbuf_str(&b, "data: ");
    tbuf_add(&b, c->in, c->len);
    tbuf_str(&b, "\r\n\r\n");
    expect_lim(NULL, 0, b.tb_buf, b.tb_len, want);

    struct sse_rec r;
    run_whole(&r, NULL, b.tb_buf, b.tb_len);
    if (invalid) {
        assert_only_anomalies(&r, BIT(SSE_ANOMALY_INVALID_UTF8));
        assert_true(r.sr_anomalies[SSE_ANOMALY_INVALID_UTF8] >= 1);
        sprintf(want, "data: %s", c->data);
        assert_last_line(&r, SSE_ANOMALY_INVALID_UTF8, want);
    } else {
        assert_only_anomalies(&r, 0);
    }
    sse_rec_free(&r);
    free(want);
    tbuf_free(&b);
}

static void test_utf8_invalid(void **state)
{
    (void)state;
    static const struct utf8_case cases[] = {
        /* overlongs */
        {S("\xc0\x80"), FFFD FFFD},
        {S("\xc1\xbf"), FFFD FFFD},
        {S("\xe0\x80\x80"), FFFD FFFD FFFD},
        {S("\xe0\x9f\xbf"), FFFD FFFD FFFD},
        {S("\xf0\x80\x80\x80"), FFFD FFFD FFFD FFFD},
        {S("\xf0\x8f\xbf\xbf"), FFFD FFFD FFFD FFFD},
        /* surrogates */
        {S("\xed\xa0\x80"), FFFD FFFD FFFD},
        {S("\xed\xbf\xbf"), FFFD FFFD FFFD},
        /* above U+10FFFF and never-valid bytes */
        {S("\xf4\x90\x80\x80"), FFFD FFFD FFFD FFFD},
        {S("\xf5\x80\x80\x80"), FFFD FFFD FFFD FFFD},
        {S("\xf8\x88\x80\x80\x80"), FFFD FFFD FFFD FFFD FFFD},
        {S("\xfe"), FFFD},
        {S("\xff"), FFFD},
        /* lone continuation bytes */
        {S("\x80"), FFFD},
        {S("\xbf"), FFFD},
        {S("a\x80\x80"
           "b"),
         "a" FFFD FFFD "b"},
        /* truncated sequences: the maximal subpart is one U+FFFD */
        {S("a\xc3"), "a" FFFD},
        {S("\xe2\x82"), FFFD},
        {S("\xf0\x9f\x98"), FFFD},
        {S("\xf0\x9f\x98"
           "x"),
         FFFD "x"},
        {S("\xf0\x9f"), FFFD},
        {S("\xe2\x82\xe2\x82\xac"), FFFD "\\xe2\\x82\\xac"},
        {S("\xc3\xc3\xa9"), FFFD "\\xc3\\xa9"},
        {S("\xe1\x80\xe1\x80\x80"), FFFD "\\xe1\\x80\\x80"},
        {S("\xf0\x9f\x98\xf0\x9f\x98\x80"), FFFD "\\xf0\\x9f\\x98\\x80"},
        {S("\xf4\x8f\xbf"), FFFD},
        {S("\xc2"
           ":"),
         FFFD ":"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_utf8_case(&cases[i], true);
}

static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct utf8_case cases[] = {
        {S("\xc3\xa9"), "\\xc3\\xa9"},
        {S("\xe2\x82\xac"), "\\xe2\\x82\\xac"},
        {S("\xf0\x9f\x98\x80"), "\\xf0\\x9f\\x98\\x80"},
        {S("\xc2\x80"), "\\xc2\\x80"},
        {S("\xdf\xbf"), "\\xdf\\xbf"},
        {S("\xe0\xa0\x80"), "\\xe0\\xa0\\x80"},
        {S("\xed\x9f\xbf"), "\\xed\\x9f\\xbf"},
        {S("\xee\x80\x80"), "\\xee\\x80\\x80"},
        {S("\xef\xbf\xbf"), "\\xef\\xbf\\xbf"},
        {S("\xef\xbf\xbd"), FFFD},
        {S("\xf0\x90\x80\x80"), "\\xf0\\x90\\x80\\x80"},
        {S("\xf4\x8f\xbf\xbf"), "\\xf4\\x8f\\xbf\\xbf"},
        {S("\x7f"), "\\x7f"},
        {S("{\"text\": \"Step 1/3 \xe2\x9c\x93\"}"), "{\"text\": \"Step 1/3 \\xe2\\x9c\\x93\"}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_utf8_case(&cases[i], false);
}

static void test_utf8_outside_data(void **state)
{
    (void)state;
    EXPECT("event: \xff\ndata: x\n\n", "E[" FFFD "][][x]");
    EXPECT_STATE("id: \xff\ndata: x\n\n", "E[message][" FFFD "][x] L[" FFFD "] T[-]");
    EXPECT(":\xff\n", "C[" FFFD "]");
    EXPECT(": \xf0\x9f\x98\n", "C[ " FFFD "]");
    EXPECT("\xff"
           "data: x\n\n",
           "");
    EXPECT("da\xff"
           "ta: x\n\n",
           "");
    EXPECT("data\xc3: x\n\n", "");
    EXPECT_STATE("retry: 1\xff\n", "L[] T[-]");
    /* A truncated sequence at the end of one data line, then another line. */
    EXPECT("data: \xe2\x82\ndata: x\n\n", "E[message][][" FFFD "\\nx]");
    EXPECT("data: \xe2\x82\rdata: x\r\r", "E[message][][" FFFD "\\nx]");

    struct sse_rec r;
    run_whole(&r, NULL, S("event: \xff\ndata: \xc3\xa9\n\n"));
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_INVALID_UTF8));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_INVALID_UTF8], 1);
    assert_last_line(&r, SSE_ANOMALY_INVALID_UTF8, "event: " FFFD);
    sse_rec_free(&r);
}

static void test_utf8_state_reset_by_end(void **state)
{
    (void)state;
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, NULL);
    FEED(p, ":\xf0\x9f");
    sse_parser_end(p);
    /* Had the decoder kept F0 9F, these would complete U+1F600. */
    FEED(p, "\x98\x80: x\n\ndata: y\n\n");
    assert_string_equal(sse_rec_text(&r), "E[message][][y]");
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_UNKNOWN_FIELD], 1);
    struct sse_rec shown;
    sse_rec_init(&shown, 0);
    sse_rec_note(&shown, "", r.sr_last_line[SSE_ANOMALY_UNKNOWN_FIELD],
                 r.sr_last_line_len[SSE_ANOMALY_UNKNOWN_FIELD]);
    assert_string_equal(sse_rec_text(&shown), "[" FFFD FFFD ": x]");
    sse_rec_free(&shown);
    sse_parser_free(p);
    sse_rec_free(&r);
}

/* ---- NUL ---- */

static void test_nul_in_data(void **state)
{
    (void)state;
    EXPECT("data: a\x00"
           "b\n\n",
           "E[message][][a\\x00b]");
    EXPECT("data: \x00\n\n", "E[message][][\\x00]");
    EXPECT("data: \x00\ndata: \x00\n\n", "E[message][][\\x00\\n\\x00]");
    /* The event type is the field value, U+0000 included (HTML "set the
     * event type buffer to field value"); only id fields reject it. */
    EXPECT("event: a\x00"
           "b\ndata: x\n\n",
           "E[a\\x00b][][x]");

    struct sse_rec r;
    run_whole(&r, NULL,
              S("data: a\x00"
                "b\n\n"));
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_NUL));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_NUL], 1);
    assert_last_line(&r, SSE_ANOMALY_NUL, "data: a\\x00b");
    sse_rec_free(&r);
}

/* ---- special bytes anywhere in a long line ---- */

struct special_byte {
    const char *sb_in; /* inserted into the line */
    size_t sb_in_len;
    const char *sb_out; /* what it becomes in the data; NULL: it ends the line */
    size_t sb_out_len;
    unsigned sb_anomalies; /* the only anomaly kinds allowed */
};

/* Whole, byte by byte and in random chunks. */
static void expect_light(const char *in, size_t len, const char *expected)
{
    size_t *cuts = calloc(len + 2, sizeof(*cuts));
    assert_non_null(cuts);
    compare_run(NULL, 0, in, len, "whole", NULL, 0, 1, expected);
    for (size_t i = 0; i + 1 < len; i++)
        cuts[i] = i + 1;
    compare_run(NULL, 0, in, len, "byte by byte", cuts, len - 1, 1, expected);
    for (uint64_t seed = 1; seed <= 4; seed++) {
        size_t n = sse_rand_cuts(&seed, len, 40, cuts, len + 2);
        compare_run(NULL, 0, in, len, "in random chunks", cuts, n, 1, expected);
    }
    free(cuts);
}

static void test_special_byte_at_every_offset(void **state)
{
    (void)state;
    static const struct special_byte specials[] = {
        {S("\x00"), S("\x00"), BIT(SSE_ANOMALY_NUL)},
        {S("\xc3\xa9"), S("\xc3\xa9"), 0},
        {S("\xf0\x9f\x98\x80"), S("\xf0\x9f\x98\x80"), 0},
        {S("\xff"), S("\xef\xbf\xbd"), BIT(SSE_ANOMALY_INVALID_UTF8)},
        {S("\xe2\x82"), S("\xef\xbf\xbd"), BIT(SSE_ANOMALY_INVALID_UTF8)},
        {S(":"), S(":"), 0},
        {S("\t"), S("\t"), 0},
        /* The rest of the line becomes a colon-less unknown field. */
        {S("\n"), NULL, 0, BIT(SSE_ANOMALY_NO_COLON) | BIT(SSE_ANOMALY_UNKNOWN_FIELD)},
        {S("\r"), NULL, 0, BIT(SSE_ANOMALY_NO_COLON) | BIT(SSE_ANOMALY_UNKNOWN_FIELD)},
        {S("\r\n"), NULL, 0, BIT(SSE_ANOMALY_NO_COLON) | BIT(SSE_ANOMALY_UNKNOWN_FIELD)},
    };
    enum { WIDTH = 100 };
    for (size_t s = 0; s < sizeof(specials) / sizeof(specials[0]); s++) {
        const struct special_byte *sp = &specials[s];
        for (size_t off = 0; off <= WIDTH; off++) {
            struct tbuf in = {0}, data = {0};
            tbuf_str(&in, "data: ");
            tbuf_rep(&in, 'a', off);
            tbuf_add(&in, sp->sb_in, sp->sb_in_len);
            tbuf_rep(&in, 'b', WIDTH - off);
            tbuf_str(&in, "\n\n");
            tbuf_rep(&data, 'a', off);
            if (sp->sb_out != NULL) {
                tbuf_add(&data, sp->sb_out, sp->sb_out_len);
                tbuf_rep(&data, 'b', WIDTH - off);
            }
            struct sse_rec want;
            sse_rec_init(&want, 0);
            sse_rec_note(&want, "E[message][]", data.tb_buf, data.tb_len);
            assert_false(want.sr_failed);
            expect_light(in.tb_buf, in.tb_len, sse_rec_text(&want));

            struct sse_rec r;
            run_whole(&r, NULL, in.tb_buf, in.tb_len);
            assert_only_anomalies(&r, sp->sb_anomalies);
            sse_rec_free(&r);
            sse_rec_free(&want);
            tbuf_free(&in);
            tbuf_free(&data);
        }
    }
}

/* ---- limits ---- */

static void assert_prefix_line(const struct sse_rec *r, enum sse_anomaly kind, const char *line,
                               size_t len)
{
    assert_true(r->sr_last_line_len[kind] <= len);
    if (r->sr_last_line_len[kind] > 0)
        assert_memory_equal(r->sr_last_line[kind], line, r->sr_last_line_len[kind]);
}

static void test_line_exactly_max(void **state)
{
    (void)state;
    const struct sse_parser_limits lim = {.max_line = 32, .max_event = 64};
    struct tbuf b = {0};
    tbuf_str(&b, "data: ");
    tbuf_rep(&b, 'x', 26);
    tbuf_str(&b, "\r\n\r\n");
    expect_lim(&lim, SSE_REC_ANOMALIES, b.tb_buf, b.tb_len, "E[message][][" X10 X10 "xxxxxx]");
    tbuf_free(&b);
}

static void test_line_too_long(void **state)
{
    (void)state;
    const struct sse_parser_limits lim = {.max_line = 32, .max_event = 64};
    static const char *const ends[] = {"\n", "\r\n", "\r"};
    for (size_t e = 0; e < 3; e++) {
        const char *nl = ends[e];
        struct tbuf b = {0};
        /* One byte over, inside an event that also has good lines. */
        tbuf_str(&b, "event: t\n");
        tbuf_str(&b, "data: a");
        tbuf_str(&b, nl);
        tbuf_str(&b, "data: ");
        tbuf_rep(&b, 'x', 27);
        tbuf_str(&b, nl);
        tbuf_str(&b, "data: same event");
        tbuf_str(&b, nl);
        tbuf_str(&b, nl);
        tbuf_str(&b, "data: next");
        tbuf_str(&b, nl);
        tbuf_str(&b, nl);
        expect_lim(&lim, 0, b.tb_buf, b.tb_len, "E[message][][next]");

        struct sse_rec r;
        run_whole(&r, &lim, b.tb_buf, b.tb_len);
        assert_only_anomalies(&r, BIT(SSE_ANOMALY_LINE_TOO_LONG));
        assert_int_equal(r.sr_anomalies[SSE_ANOMALY_LINE_TOO_LONG], 1);
        assert_prefix_line(&r, SSE_ANOMALY_LINE_TOO_LONG, "data: " X10 X10 "xxxxxxx", 33);
        sse_rec_free(&r);
        tbuf_free(&b);

        /* Much longer, split over many chunks (expect_lim feeds it byte by
         * byte and at every split, so the line end straddles chunks). */
        tbuf_str(&b, "data: ");
        tbuf_rep(&b, 'y', 500);
        tbuf_str(&b, nl);
        tbuf_str(&b, "data: same event");
        tbuf_str(&b, nl);
        tbuf_str(&b, nl);
        tbuf_str(&b, "data: ok");
        tbuf_str(&b, nl);
        tbuf_str(&b, nl);
        expect_lim(&lim, 0, b.tb_buf, b.tb_len, "E[message][][ok]");
        run_whole(&r, &lim, b.tb_buf, b.tb_len);
        assert_int_equal(r.sr_anomalies[SSE_ANOMALY_LINE_TOO_LONG], 1);
        sse_rec_free(&r);
        tbuf_free(&b);
    }
}

static void test_line_too_long_cases(void **state)
{
    (void)state;
    const struct sse_parser_limits lim = {.max_line = 32, .max_event = 64};
    /* A long comment between events discards nothing else. */
    static const char comment[] = "data: a\n\n: " X60 "\n\ndata: b\n\n";
    expect_lim(&lim, 0, S(comment), "E[message][][a] E[message][][b]");
    /* A long line cut off by the end of the stream. */
    static const char tail[] = "data: a\n\ndata: " X60;
    expect_lim(&lim, 0, S(tail), "E[message][][a]");
    /* Long field names and unknown fields count too. */
    static const char name[] = X60 ": v\ndata: lost\n\ndata: ok\n\n";
    expect_lim(&lim, 0, S(name), "E[message][][ok]");
    /* Invalid UTF-8 in a long line. */
    struct tbuf b = {0};
    tbuf_str(&b, "data: ");
    tbuf_rep(&b, '\xff', 100);
    tbuf_str(&b, "\n\ndata: ok\n\n");
    expect_lim(&lim, 0, b.tb_buf, b.tb_len, "E[message][][ok]");
    tbuf_free(&b);
    /* Two long lines in one event: each is its own anomaly. */
    static const char two[] = "data: " X60 "\ndata: " X60 "\n\ndata: ok\n\n";
    struct sse_rec r;
    run_whole(&r, &lim, S(two));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_LINE_TOO_LONG], 2);
    assert_string_equal(strstr(sse_rec_text(&r), "E["), "E[message][][ok]");
    sse_rec_free(&r);
}

static void test_long_line_in_small_chunks(void **state)
{
    (void)state;
    const struct sse_parser_limits lim = {.max_line = 100, .max_event = 200};
    struct tbuf line = {0};
    tbuf_str(&line, "data: ");
    tbuf_rep(&line, 'z', 21000);
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, &lim);
    FEED(p, "data: ");
    static const char chunk[] = "zzzzzzz";
    for (int i = 0; i < 3000; i++)
        FEED(p, chunk);
    /* The CRLF ending the long line straddles two chunks. */
    FEED(p, "\r");
    FEED(p, "\ndata: same\r\n\r");
    FEED(p, "\ndata: ok\r\n\r\n");
    assert_string_equal(sse_rec_text(&r), "E[message][][ok]");
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_LINE_TOO_LONG], 1);
    assert_true(r.sr_last_line_len[SSE_ANOMALY_LINE_TOO_LONG] > 0);
    assert_prefix_line(&r, SSE_ANOMALY_LINE_TOO_LONG, line.tb_buf, line.tb_len);
    sse_parser_free(p);
    sse_rec_free(&r);
    tbuf_free(&line);
}

static void test_event_too_large(void **state)
{
    (void)state;
    const struct sse_parser_limits lim = {.max_line = 128, .max_event = 64};
    struct tbuf b = {0};
    struct sse_rec r;

    /* Exactly max_event bytes of data, in one line and in two. */
    tbuf_str(&b, "data: ");
    tbuf_rep(&b, 'x', 64);
    tbuf_str(&b, "\n\n");
    run_whole(&r, &lim, b.tb_buf, b.tb_len);
    assert_int_equal(r.sr_events, 1);
    assert_only_anomalies(&r, 0);
    sse_rec_free(&r);
    tbuf_free(&b);
    tbuf_str(&b, "data: ");
    tbuf_rep(&b, 'a', 31);
    tbuf_str(&b, "\ndata: ");
    tbuf_rep(&b, 'b', 32);
    tbuf_str(&b, "\n\n");
    run_whole(&r, &lim, b.tb_buf, b.tb_len);
    assert_int_equal(r.sr_events, 1);
    assert_only_anomalies(&r, 0);
    sse_rec_free(&r);
    tbuf_free(&b);

    /* One byte over, in one line and in two. */
    tbuf_str(&b, "event: big\ndata: ");
    tbuf_rep(&b, 'x', 65);
    tbuf_str(&b, "\n\ndata: ok\n\n");
    expect_lim(&lim, 0, b.tb_buf, b.tb_len, "E[message][][ok]");
    run_whole(&r, &lim, b.tb_buf, b.tb_len);
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_EVENT_TOO_LARGE));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_EVENT_TOO_LARGE], 1);
    sse_rec_free(&r);
    tbuf_free(&b);
    tbuf_str(&b, "data: ");
    tbuf_rep(&b, 'a', 32);
    tbuf_str(&b, "\ndata: ");
    tbuf_rep(&b, 'b', 32);
    tbuf_str(&b, "\n\ndata: ok\n\n");
    expect_lim(&lim, 0, b.tb_buf, b.tb_len, "E[message][][ok]");
    tbuf_free(&b);

    /* Many lines: reported once, the whole event discarded, then recovery. */
    tbuf_str(&b, "event: big\nid: 1\n");
    for (int i = 0; i < 20; i++)
        tbuf_str(&b, "data: 0123456789012345678901234567890\n");
    tbuf_str(&b, "\ndata: ok\n\n");
    expect_lim(&lim, 0, b.tb_buf, b.tb_len, "E[message][1][ok]");
    run_whole(&r, &lim, b.tb_buf, b.tb_len);
    assert_only_anomalies(&r, BIT(SSE_ANOMALY_EVENT_TOO_LARGE));
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_EVENT_TOO_LARGE], 1);
    sse_rec_free(&r);
    tbuf_free(&b);

    /* Empty data lines add their LF. */
    for (int i = 0; i < 100; i++)
        tbuf_str(&b, "data:\n");
    tbuf_str(&b, "\ndata: ok\n\n");
    run_whole(&r, &lim, b.tb_buf, b.tb_len);
    assert_string_equal(strstr(sse_rec_text(&r), "E["), "E[message][][ok]");
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_EVENT_TOO_LARGE], 1);
    sse_rec_free(&r);
    tbuf_free(&b);
}

static void feed_random(struct sse_parser *p, const char *s, size_t len, uint64_t seed)
{
    size_t off = 0;
    while (off < len) {
        size_t n = 1 + (size_t)(sse_rand_next(&seed) % 8192);
        if (n > len - off)
            n = len - off;
        feed(p, s + off, n);
        off += n;
    }
}

static void check_default_limits(const struct sse_parser_limits *lim)
{
    struct tbuf b = {0};
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, lim);

    /* A line of exactly the default maximum. */
    tbuf_str(&b, "data: ");
    tbuf_rep(&b, 'x', SSE_PARSER_DEFAULT_MAX_LINE - 6);
    tbuf_str(&b, "\n\n");
    feed_random(p, b.tb_buf, b.tb_len, 1);
    assert_int_equal(r.sr_events, 1);
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_LINE_TOO_LONG], 0);
    tbuf_free(&b);

    /* One byte more. */
    tbuf_str(&b, "data: ");
    tbuf_rep(&b, 'x', SSE_PARSER_DEFAULT_MAX_LINE - 5);
    tbuf_str(&b, "\n\n");
    feed_random(p, b.tb_buf, b.tb_len, 2);
    assert_int_equal(r.sr_events, 1);
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_LINE_TOO_LONG], 1);
    tbuf_free(&b);

    /* Four maximal lines fit in the default event size, five do not. */
    for (int lines = 4; lines <= 5; lines++) {
        for (int i = 0; i < lines; i++) {
            tbuf_str(&b, "data: ");
            tbuf_rep(&b, 'y', SSE_PARSER_DEFAULT_MAX_LINE - 6);
            tbuf_str(&b, "\n");
        }
        tbuf_str(&b, "\n");
        feed_random(p, b.tb_buf, b.tb_len, 3);
        tbuf_free(&b);
    }
    assert_int_equal(r.sr_events, 2);
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_EVENT_TOO_LARGE], 1);
    FEED(p, "data: ok\n\n");
    assert_int_equal(r.sr_events, 3);
    sse_parser_free(p);
    sse_rec_free(&r);
}

static void test_default_limits(void **state)
{
    (void)state;
    const struct sse_parser_limits zero = {0, 0};
    check_default_limits(NULL);
    check_default_limits(&zero);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return -1;
    long size = 0, resident = -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static bool running_under_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

static void test_endless_line_bounded(void **state)
{
    (void)state;
    enum { CHUNK = 4096, COUNT = 25600 }; /* 100 MiB */
    char *chunk = malloc(CHUNK);
    assert_non_null(chunk);
    memset(chunk, 'x', CHUNK);
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, NULL);
    FEED(p, "data: ");
    long before = rss_kib();
    for (int i = 0; i < COUNT; i++)
        feed(p, chunk, CHUNK);
    long after = rss_kib();
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_LINE_TOO_LONG], 1);
    /* The parser must not keep the line: growth far below its 100 MiB.
     * Skipped under ASan, whose quarantine keeps freed memory resident. */
    if (!running_under_asan() && before >= 0 && after >= 0)
        assert_true(after - before < 48 * 1024);
    static const char tail1[] = "\n\ndata: ok\n\n";
    FEED(p, tail1);
    assert_string_equal(sse_rec_text(&r), "E[message][][ok]");
    /* Again, ended by the end of the stream this time. */
    for (int i = 0; i < COUNT / 4; i++)
        feed(p, chunk, CHUNK);
    sse_parser_end(p);
    static const char tail2[] = "data: ok2\n\n";
    FEED(p, tail2);
    assert_string_equal(sse_rec_text(&r), "E[message][][ok] E[message][][ok2]");
    assert_int_equal(r.sr_anomalies[SSE_ANOMALY_LINE_TOO_LONG], 2);
    const struct sse_parser_stats *st = sse_parser_stats(p);
    assert_int_equal(st->bytes, 6 + (uint64_t)CHUNK * (COUNT + COUNT / 4) + (sizeof(tail1) - 1) +
                                    (sizeof(tail2) - 1));
    sse_parser_free(p);
    sse_rec_free(&r);
    free(chunk);
}

/* ---- split invariance ---- */

struct stream_case {
    const char *in;
    size_t len;
};

static const struct stream_case split_cases[] = {
    {S("data: hello\n\n")},
    {S("event: add\ndata: {\"a\": 1}\nid: 7\n\n")},
    {S("data: a\r\ndata: b\r\n\r\n")},
    {S("data: a\rdata: b\r\r")},
    {S("data: a\ndata: b\r\ndata: c\r\r\ndata: d\n\n")},
    {S("\xef\xbb\xbf"
       "data: bom\n\n")},
    {S("\xef\xbb\xbf\xef\xbb\xbf"
       "data: x\n\ndata: y\n\n")},
    {S("\xef\xbb"
       "data: x\n\ndata: y\n\n")},
    {S("\xef\xbb\xef\xbb\xbf"
       ":c\n")},
    {S(": comment\n:\n::x\ndata: c\n\n")},
    {S("id: 1\ndata: a\n\nid\ndata: b\n\nid: 3\n\n")},
    {S("id: a\x00"
       "b\ndata: x\n\nid: \x00\n\n")},
    {S("retry: 1000\nretry: 10a\nretry: -1\nretry: 1.5\nretry:\nretry\n"
       "retry: 99999999999999999999999\ndata: r\n\n")},
    {S("data\n\ndata\ndata\n\ndata:\n\n")},
    {S("event: x\n\ndata: after\n\n")},
    {S("Data: x\nDATA: y\nfoo\nfoo: bar\n data: z\ndata : w\ndata: v\n\n")},
    {S("data: \xe0\x80\x80|\xc0\x80|\xed\xa0\x80|\xf4\x90\x80\x80|\x80\xbf\n\n")},
    {S("data: \xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9\n\n")},
    {S("data: ab\xf0\x9f\x98\ndata: \xe2\x82\r\n\n")},
    {S("data: a\x00"
       "b\x00\n\n")},
    {S("data: unterminated")},
    {S("data: a\n\ndata: pending\n")},
    {S("retry: 5\nid: 9\ndata: x\n")},
    {S("data: \xff\xfe\xf5\xf8\xfc\n\n")},
    {S("\r\n\r\n\n\r\r")},
    {S("data:no-space\ndata:  two-spaces\ndata:\ttab\n\n")},
    {S("event: a:b\ndata: c:d\n\n")},
    {S("data: " X60 "\ndata: y\n\ndata: next\n\n")},
    {S("data: " X60 "\r\ndata: in-same-event\r\n\r\ndata: ok\r\n\r\n")},
    {S("data: " X60 "\rdata: same\r\rdata: ok\r\r")},
    {S("data: 0123456789012345678901234\ndata: 0123456789012345678901234\n"
       "data: 0123456789012345678901234\ndata: 0123456789012345678901234\n\ndata: ok\n\n")},
    {S("event: big\ndata: " X10 X10 X10 "\ndata: " X10 X10 X10 "\ndata: " X10 X10 X10
       "\ndata: " X10 X10 X10 "\n\ndata: small\n\n")},
    {S("event: connection_open\ndata: {\"status\": \"connected\"}\n\n"
       "event: heartbeat\ndata: {\"timestamp\": \"2025-11-19T21:00:00.123456+00:00\"}\n\n")},
    {S(": heartbeat\n\ndata: {\"type\":\"progress\",\"payload\":{\"text\":\"x\",\"value\":0.5}}"
       "\n\nevent: ready\ndata:\n\n")},
    {S("id: 5\n\nid: 6\ndata: x\n\n")},
    {S("data: x\n\r")},
    {S("\xef\xbb\xbf")},
    {S("\xef\xbb\xbf\n")},
    {S("data: \xef\xbb\xbf"
       "x\n\n")},
    {S(": " X60 "\ndata: a\n\n")},
    {S("data: a\r\n\rdata: b\n\n")},
    {S("data: " X10 "\xf0\x9f\x98\x80" X10 X10 X10 X10 "\xe2\x82\xac\n\n")},
    {S("data: " X10 X10 X10 X10 "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\n\ndata: z\n\n")},
    {S("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
       "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\n\n")},
    {S("event: t\nretry: 10\n: c\nid: i\ndata: d\n\r\n\r")},
    {S("data: a\r")},
    {S("\xc3")},
    {S("id\n\nid:\n\nevent\n\nretry\n\ndata\n")},
};

static void test_split_invariance(void **state)
{
    (void)state;
    const struct sse_parser_limits *lims[] = {NULL, &small_limits};
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
            const struct stream_case *c = &split_cases[i];
            struct sse_rec whole;
            run_cuts(&whole, lims[l], SSE_REC_ANOMALIES | SSE_REC_STATE, c->in, c->len, NULL, 0, 2);
            if (strstr(sse_rec_text(&whole), "![") != NULL)
                fail_pattern(c->in, c->len, "whole", NULL, 0, "no contract violation",
                             sse_rec_text(&whole));
            expect_streams(lims[l], SSE_REC_ANOMALIES | SSE_REC_STATE, c->in, c->len, 2,
                           sse_rec_text(&whole));
            sse_rec_free(&whole);
        }
    }
}

/* ---- stats, NULL callbacks, names ---- */

static void test_stats(void **state)
{
    (void)state;
    struct sse_rec r;
    struct sse_parser *p = new_parser(&r, 0, NULL);
    const struct sse_parser_stats *st = sse_parser_stats(p);
    assert_non_null(st);
    assert_int_equal(st->bytes, 0);
    assert_int_equal(st->lines, 0);

    FEED(p, "data: a\n: c\n\nfoo\n\n");
    st = sse_parser_stats(p);
    assert_int_equal(st->bytes, 18);
    assert_int_equal(st->lines, 5);
    assert_int_equal(st->events, 1);
    assert_int_equal(st->comments, 1);
    assert_int_equal(st->anomalies[SSE_ANOMALY_NO_COLON], 1);
    assert_int_equal(st->anomalies[SSE_ANOMALY_UNKNOWN_FIELD], 1);
    assert_int_equal(st->anomalies[SSE_ANOMALY_BAD_RETRY], 0);

    FEED(p, "data: b\r\n\r\n");
    FEED(p, "data: c\r\r\n");
    FEED(p, "retry: x\n");
    FEED(p, "data: pending");
    sse_parser_end(p);
    FEED(p, "\xef\xbb\xbf"
            "data: d\n\n");
    st = sse_parser_stats(p);
    assert_int_equal(st->bytes, 18 + 11 + 10 + 9 + 13 + 12);
    assert_int_equal(st->lines, 5 + 2 + 2 + 1 + 2);
    assert_int_equal(st->events, 4);
    assert_int_equal(st->comments, 1);
    assert_int_equal(st->anomalies[SSE_ANOMALY_BAD_RETRY], 1);
    for (size_t k = 0; k < SSE_ANOMALY_COUNT; k++)
        assert_int_equal(st->anomalies[k], r.sr_anomalies[k]);
    sse_parser_free(p);
    sse_rec_free(&r);
}

static void test_null_callbacks(void **state)
{
    (void)state;
    static const char in[] = "\xef\xbb\xbf: c\nretry: 5\nid: 1\nevent: e\ndata: \xff\x00\n\n"
                             "foo\nretry: x\nid: \x00\n\n";
    struct sse_parser_callbacks none;
    memset(&none, 0, sizeof(none));
    struct sse_parser *p = sse_parser_new(NULL, &none, NULL);
    assert_non_null(p);
    for (size_t i = 0; i < sizeof(in) - 1; i++)
        feed(p, in + i, 1);
    sse_parser_end(p);
    const struct sse_parser_stats *st = sse_parser_stats(p);
    assert_int_equal(st->events, 1);
    assert_int_equal(st->comments, 1);
    assert_int_equal(st->anomalies[SSE_ANOMALY_BAD_RETRY], 1);
    assert_int_equal(st->anomalies[SSE_ANOMALY_ID_NUL], 1);
    uint64_t ms = 0;
    assert_true(sse_parser_retry(p, &ms));
    assert_int_equal(ms, 5);
    assert_last_id(p, "1");
    sse_parser_free(p);

    /* Only some callbacks set. */
    struct sse_rec r;
    sse_rec_init(&r, 0);
    struct sse_parser_callbacks some;
    memset(&some, 0, sizeof(some));
    some.on_event = sse_rec_on_event;
    p = sse_parser_new(NULL, &some, &r);
    assert_non_null(p);
    feed(p, in, sizeof(in) - 1);
    assert_string_equal(sse_rec_text(&r), "E[e][1][" FFFD "\\x00]");
    sse_parser_free(p);
    sse_rec_free(&r);
}

static void test_anomaly_names(void **state)
{
    (void)state;
    assert_string_equal(sse_anomaly_name(SSE_ANOMALY_UNKNOWN_FIELD), "unknown_field");
    assert_string_equal(sse_anomaly_name(SSE_ANOMALY_NO_COLON), "no_colon");
    assert_string_equal(sse_anomaly_name(SSE_ANOMALY_RETRY_OUT_OF_RANGE), "retry_out_of_range");
    for (unsigned k = 0; k < SSE_ANOMALY_COUNT; k++) {
        const char *name = sse_anomaly_name((enum sse_anomaly)k);
        assert_non_null(name);
        assert_true(name[0] != '\0');
        assert_true(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name));
        for (unsigned j = 0; j < k; j++)
            assert_string_not_equal(name, sse_anomaly_name((enum sse_anomaly)j));
    }
}

static void test_clean_streams_no_anomalies(void **state)
{
    (void)state;
    static const char *const clean[] = {
        "event: connection_open\ndata: {\"status\": \"connected\"}\n\n"
        "event: task_event\ndata: {\"event_type\": \"progress_update\", \"task_id\": \"x\", "
        "\"timestamp\": \"2025-11-19T21:00:00.123456+00:00\", \"data\": {\"text\": \"Step 1/3\", "
        "\"value\": 0.333}}\n\n"
        "event: connection_close\ndata: {\"reason\": \"task_completed\"}\n\n",
        ": heartbeat\n\nevent: ready\ndata:\n\ndata: {\"type\":\"version\",\"payload\":{}}\n\n",
        ("\xef\xbb\xbf"
         "id: 1\r\nretry: 1000\r\nevent: x\r\ndata: caf\xc3\xa9 \xf0\x9f\x98\x80\r\n\r\n"),
        "data: a\rdata: b\r\r:\r",
    };
    for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
        struct sse_rec r;
        run_whole(&r, NULL, clean[i], strlen(clean[i]));
        assert_only_anomalies(&r, 0);
        assert_true(r.sr_events >= 1);
        sse_rec_free(&r);
    }
}

/* ---- allocation failures (alloc_fail.h) ---- */

struct ok_counter {
    int oc_ok;
};

static void count_ok(void *ctx, const struct sse_event *ev)
{
    struct ok_counter *c = ctx;
    if (ev->data_len == 2 && memcmp(ev->data, "ok", 2) == 0)
        c->oc_ok++;
}

static void test_allocation_failures(void **state)
{
    (void)state;
    struct tbuf b = {0};
    tbuf_str(&b, "id: 1\ndata: a\n\nevent: big\ndata: ");
    tbuf_rep(&b, 'x', 3 * SSE_PARSER_SHRINK_ABOVE);
    tbuf_str(&b, "\n\nid: 2\n\ndata: b\n\n");
    char *seed = malloc(5000);
    assert_non_null(seed);
    memset(seed, 's', 5000);

    struct sse_parser_callbacks cbs;
    memset(&cbs, 0, sizeof(cbs));
    cbs.on_event = count_ok;
    bool completed = false;
    unsigned long injected = 0;
    for (long n = 0; n < 5000 && !completed; n++) {
        struct ok_counter c = {0};
        alloc_failed = 0;
        alloc_countdown = n;
        struct sse_parser *p = sse_parser_new(NULL, &cbs, &c);
        if (p == NULL) {
            alloc_countdown = -1;
            assert_int_equal(alloc_failed, 1);
            injected++;
            continue;
        }
        int seeded = sse_parser_set_last_event_id(p, seed, 5000);
        int rc = 0;
        for (size_t off = 0; off < b.tb_len && rc == 0; off += 4096) {
            size_t len = b.tb_len - off < 4096 ? b.tb_len - off : 4096;
            rc = sse_parser_feed(p, b.tb_buf + off, len);
        }
        sse_parser_end(p);
        alloc_countdown = -1;
        if (seeded != 0 || rc != 0)
            assert_int_equal(alloc_failed, 1);
        injected += alloc_failed;
        completed = alloc_failed == 0;

        /* The last event ID is one the stream set, or the seed (if kept). */
        size_t idlen = 0;
        const char *id = sse_parser_last_event_id(p, &idlen);
        assert_non_null(id);
        assert_true(idlen == 0 || idlen == 5000 || (idlen == 1 && (id[0] == '1' || id[0] == '2')));

        /* Whatever failed, the parser works again afterwards. */
        assert_int_equal(sse_parser_feed(p, S("data: ok\n\n")), 0);
        assert_int_equal(c.oc_ok, 1);
        sse_parser_free(p);
    }
    assert_true(completed);
    assert_true(injected > 0);
    free(seed);
    tbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_event),
        cmocka_unit_test(test_split_at_first_colon),
        cmocka_unit_test(test_one_leading_space_removed),
        cmocka_unit_test(test_line_without_colon),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_field_names_case_sensitive),
        cmocka_unit_test(test_data_lines_joined),
        cmocka_unit_test(test_empty_data_no_dispatch),
        cmocka_unit_test(test_event_type),
        cmocka_unit_test(test_id_field),
        cmocka_unit_test(test_id_string_only_at_dispatch),
        cmocka_unit_test(test_id_with_nul_ignored),
        cmocka_unit_test(test_id_persists_across_end),
        cmocka_unit_test(test_set_last_event_id),
        cmocka_unit_test(test_retry_valid),
        cmocka_unit_test(test_retry_invalid),
        cmocka_unit_test(test_retry_saturates),
        cmocka_unit_test(test_retry_persists_across_end),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_crlf_split_explicit),
        cmocka_unit_test(test_end_discards_pending),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_bom_restarts_after_end),
        cmocka_unit_test(test_partial_bom),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_outside_data),
        cmocka_unit_test(test_utf8_state_reset_by_end),
        cmocka_unit_test(test_nul_in_data),
        cmocka_unit_test(test_special_byte_at_every_offset),
        cmocka_unit_test(test_line_exactly_max),
        cmocka_unit_test(test_line_too_long),
        cmocka_unit_test(test_line_too_long_cases),
        cmocka_unit_test(test_long_line_in_small_chunks),
        cmocka_unit_test(test_event_too_large),
        cmocka_unit_test(test_default_limits),
        cmocka_unit_test(test_endless_line_bounded),
        cmocka_unit_test(test_split_invariance),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_null_callbacks),
        cmocka_unit_test(test_anomaly_names),
        cmocka_unit_test(test_clean_streams_no_anomalies),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
