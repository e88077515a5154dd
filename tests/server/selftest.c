/* Self-test of the test server's parsing and scenario interpreter: runs
 * scenarios against fake requests at a fixed time and compares the exact
 * bytes and actions they produce. No sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyjson.h"
#include "request.h"
#include "sbuf.h"
#include "scenario.h"

#define SCN_DIR SSEMON_SOURCE_DIR "/tests/scenarios"
#define FLASK_HEAD                                                                                 \
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"                        \
    "Cache-Control: no-cache\r\nAccess-Control-Allow-Origin: *\r\n"                                \
    "Access-Control-Allow-Headers: Cache-Control\r\nConnection: close\r\n\r\n"

/* 2025-11-19T21:00:00.123456Z */
static const struct timespec fixed_now = {1763586000, 123456789};

static struct req_request *make_request(const char *head)
{
    struct req_request *rq = NULL;
    size_t used;

    assert_int_equal(req_parse(head, strlen(head), &rq, &used), REQ_COMPLETE);
    assert_int_equal(used, strlen(head));
    return rq;
}

/* Runs a program for at most max_actions actions and renders them as one
 * buffer: written bytes verbatim, other actions as <name arg>. */
static struct sbuf transcript_prog(const struct scn_program *prog, const char *head,
                                   unsigned long conn, int max_actions)
{
    struct req_request *rq = make_request(head);
    struct scn_run_params rp = {.rp_prog = prog,
                                .rp_req = rq,
                                .rp_dir = SCN_DIR,
                                .rp_file = "t.scn",
                                .rp_conn = conn,
                                .rp_seed = 42};
    struct scn_run *run = scn_run_new(&rp);
    struct sbuf out = SBUF_INIT, tr = SBUF_INIT;
    bool done = false;
    uint64_t ms;
    int i;

    assert_non_null(run);
    for (i = 0; i < max_actions && !done; i++) {
        switch (scn_run_step(run, &fixed_now, &out, &ms)) {
        case SCN_ACT_WRITE:
            assert_true(out.sb_len > 0);
            assert_int_equal(sbuf_add(&tr, out.sb_data, out.sb_len), 0);
            break;
        case SCN_ACT_SLEEP:
            assert_int_equal(sbuf_addf(&tr, "<sleep %llu>", (unsigned long long)ms), 0);
            break;
        case SCN_ACT_LOG:
            assert_int_equal(sbuf_addf(&tr, "<log %s>", out.sb_data ? out.sb_data : ""), 0);
            break;
        case SCN_ACT_CLOSE:
            assert_int_equal(sbuf_adds(&tr, "<close>"), 0);
            done = true;
            break;
        case SCN_ACT_RESET:
            assert_int_equal(sbuf_adds(&tr, "<reset>"), 0);
            done = true;
            break;
        case SCN_ACT_HANG:
            assert_int_equal(sbuf_adds(&tr, "<hang>"), 0);
            done = true;
            break;
        case SCN_ACT_FAIL:
            assert_int_equal(sbuf_addf(&tr, "<fail %s>", out.sb_data), 0);
            done = true;
            break;
        }
    }
    if (done)
        assert_int_equal(scn_run_step(run, &fixed_now, &out, &ms), SCN_ACT_CLOSE);
    scn_run_free(run);
    req_free(rq);
    sbuf_free(&out);
    assert_int_equal(sbuf_add(&tr, "", 0), 0);
    return tr;
}

static struct sbuf transcript(const char *src, const char *head, unsigned long conn,
                              int max_actions)
{
    struct scn_program *prog = NULL;
    struct scn_error err;
    struct sbuf t;

    if (scn_parse(src, strlen(src), &prog, &err) != 0)
        fail_msg("line %u: %s", err.er_line, err.er_msg);
    t = transcript_prog(prog, head, conn, max_actions);
    scn_program_free(prog);
    return t;
}

#define GET(target, headers) "GET " target " HTTP/1.1\r\nHost: x\r\n" headers "\r\n"

static void expect_run_n(const char *src, const char *head, unsigned long conn, int max_actions,
                         const char *want, size_t want_len)
{
    struct sbuf got = transcript(src, head, conn, max_actions);

    if (got.sb_len != want_len || memcmp(got.sb_data, want, want_len) != 0)
        fail_msg("transcript differs:\n got: %s\nwant: %s", got.sb_data, want);
    sbuf_free(&got);
}

static void expect_run(const char *src, const char *head, unsigned long conn, int max_actions,
                       const char *want)
{
    expect_run_n(src, head, conn, max_actions, want, strlen(want));
}

static void expect_error(const char *src, unsigned line, const char *msg_part)
{
    struct scn_program *prog = NULL;
    struct scn_error err;

    if (scn_parse(src, strlen(src), &prog, &err) == 0) {
        scn_program_free(prog);
        fail_msg("parsed but should fail: %s", src);
    }
    assert_null(prog);
    if (err.er_line != line || strstr(err.er_msg, msg_part) == NULL)
        fail_msg("want line %u '%s', got line %u '%s'", line, msg_part, err.er_line, err.er_msg);
}

/* ---- formatting ---- */

static void expect_float(double v, const char *want)
{
    char buf[40];

    assert_true(scn_format_float(v, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, want);
}

static void test_format_float(void **state)
{
    (void)state;
    expect_float(0.0, "0.0");
    expect_float(1.0, "1.0");
    expect_float(1.0 / 3, "0.3333333333333333");
    expect_float(2.0 / 3, "0.6666666666666666");
    expect_float(0.5, "0.5");
    expect_float(0.1, "0.1");
    expect_float(1.0 / 7, "0.14285714285714285");
    expect_float(-2.5, "-2.5");
    expect_float(123.456, "123.456");
    expect_float(0.0001, "0.0001");
    expect_float(0.00001, "1e-05");
    expect_float(1.5e-7, "1.5e-07");
    expect_float(1e15, "1000000000000000.0");
    expect_float(1e16, "1e+16");
    expect_float(1.2345678901234568e+17, "1.2345678901234568e+17");
    expect_float(100.0, "100.0");
}

static void test_format_isotime(void **state)
{
    struct timespec ts = fixed_now;
    char buf[40];

    (void)state;
    assert_int_equal(scn_format_isotime(&ts, buf, sizeof(buf)), 32);
    assert_string_equal(buf, "2025-11-19T21:00:00.123456+00:00");
    ts.tv_nsec = 999; /* below a microsecond: Python prints no fraction */
    scn_format_isotime(&ts, buf, sizeof(buf));
    assert_string_equal(buf, "2025-11-19T21:00:00+00:00");
    ts.tv_nsec = 1000;
    scn_format_isotime(&ts, buf, sizeof(buf));
    assert_string_equal(buf, "2025-11-19T21:00:00.000001+00:00");
    assert_int_equal(scn_format_isotime(&ts, buf, 10), -1);
}

/* ---- requests ---- */

static void test_request_parse(void **state)
{
    const char *ok = "GET /s/x/y?a=1&b=%41+c&flag HTTP/1.1\r\nHost: h\r\n"
                     "Last-Event-ID:  5 \r\nAccept: text/event-stream\r\n\r\nBODY";
    struct req_request *rq = NULL;
    struct sbuf v = SBUF_INIT;
    const char *seg;
    size_t used, len;

    (void)state;
    assert_int_equal(req_parse(ok, strlen(ok), &rq, &used), REQ_COMPLETE);
    assert_int_equal(used, strlen(ok) - 4);
    assert_string_equal(rq->rq_method, "GET");
    assert_string_equal(rq->rq_path, "/s/x/y");
    assert_string_equal(rq->rq_query, "a=1&b=%41+c&flag");
    assert_string_equal(req_header(rq, "last-event-id"), "5");
    assert_null(req_header(rq, "X-Missing"));
    assert_int_equal(req_query(rq, "b", &v), 1);
    assert_string_equal(v.sb_data, "A c");
    sbuf_reset(&v);
    assert_int_equal(req_query(rq, "flag", &v), 1);
    assert_int_equal(v.sb_len, 0);
    assert_int_equal(req_query(rq, "nope", &v), 0);
    assert_true(req_path_segment(rq, 3, &seg, &len));
    assert_int_equal(len, 1);
    assert_memory_equal(seg, "y", 1);
    assert_false(req_path_segment(rq, 4, &seg, &len));
    req_free(rq);
    sbuf_free(&v);

    /* Bare LF line ends, no query. */
    assert_int_equal(req_parse("GET /a HTTP/1.0\nX: y\n\n", 22, &rq, &used), REQ_COMPLETE);
    assert_string_equal(rq->rq_query, "");
    assert_string_equal(req_header(rq, "x"), "y");
    req_free(rq);

    assert_int_equal(req_parse("GET / HTTP/1.1\r\nHost: x\r\n", 25, &rq, &used), REQ_INCOMPLETE);
    assert_int_equal(req_parse("GET /\r\n\r\n", 9, &rq, &used), REQ_BAD);
    assert_int_equal(req_parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 27, &rq, &used), REQ_BAD);
    assert_int_equal(req_parse("GET / HTTP/1.1\r\n folded\r\n\r\n", 27, &rq, &used), REQ_BAD);
}

static void test_request_too_large(void **state)
{
    size_t n = REQ_HEAD_LIMIT + 10, used;
    char *big = malloc(n);
    struct req_request *rq = NULL;

    (void)state;
    assert_non_null(big);
    memset(big, 'a', n);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    assert_int_equal(req_parse(big, REQ_HEAD_LIMIT - 1, &rq, &used), REQ_INCOMPLETE);
    assert_int_equal(req_parse(big, REQ_HEAD_LIMIT, &rq, &used), REQ_TOO_LARGE);
    /* The end of the head just past the limit is still too large. */
    memcpy(big + REQ_HEAD_LIMIT - 2, "\r\n\r\n", 4);
    assert_int_equal(req_parse(big, n, &rq, &used), REQ_TOO_LARGE);
    memcpy(big + REQ_HEAD_LIMIT - 4, "\r\n\r\n", 4);
    assert_int_equal(req_parse(big, n, &rq, &used), REQ_COMPLETE);
    assert_int_equal(used, REQ_HEAD_LIMIT);
    req_free(rq);
    free(big);
}

static void test_request_log_json(void **state)
{
    struct req_request *rq =
        make_request("POST /s/r?x=%22 HTTP/1.1\r\nLast-Event-ID: 5\r\nX-Q: a\"b\\c\x01\r\n"
                     "x-q: second\r\nX-Bin: \xc3\xa9\xff\r\n\r\n");
    struct sbuf out = SBUF_INIT;

    (void)state;
    assert_int_equal(req_log_json(rq, "r", 7, &out), 0);
    assert_string_equal(
        out.sb_data, "{\"conn\": 7, \"scenario\": \"r\", \"method\": \"POST\", \"path\": \"/s/r\", "
                     "\"query\": \"x=%22\", \"headers\": {\"Last-Event-ID\": \"5\", "
                     "\"X-Q\": \"a\\\"b\\\\c\\u0001, second\", \"X-Bin\": \"\xc3\xa9\\u00ff\"}}\n");
    sbuf_reset(&out);
    assert_int_equal(req_log_json(rq, NULL, 0, &out), 0);
    assert_non_null(strstr(out.sb_data, "{\"conn\": 0, \"scenario\": null, "));
    sbuf_free(&out);
    req_free(rq);
}

/* ---- parse errors ---- */

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("send a\nbogus x\n", 2, "unknown statement 'bogus'");
    expect_error("\n\nsend {nope}\n", 3, "unknown substitution {nope}");
    expect_error("send {i}\n", 1, "{i} used outside repeat");
    expect_error("send x\nheader A: b\n", 2, "before any output");
    expect_error("repeat 2\n  header A: b\nend\n", 2, "not allowed inside repeat");
    expect_error("# c\nrepeat 2\n  send x\n", 2, "repeat not closed by end");
    expect_error("if conn == 1\nsend x\n", 1, "if not closed by end");
    expect_error("end\n", 1, "end without");
    expect_error("repeat 1\nsend a\nelse\nend\n", 3, "else without if");
    expect_error("if conn == 1\nelse\nelse\nend\n", 3, "else without if");
    expect_error("repeat 3\nend\n", 2, "empty repeat block");
    expect_error("send a\nclose\nsend b\n", 3, "unreachable");
    expect_error("if conn == 1\nreset\nelse\nhang\nend\nlog x\n", 6, "unreachable");
    expect_error("header Transfer-Encoding: chunked\nchunked\nsleep 1\nchunked\n", 4,
                 "before any output");
    expect_error("if conn == 1\n  send x\nend\nstatus 500\n", 4, "before any output");
    expect_error("status 200\nchunked\nsend x\n", 2, "Transfer-Encoding");
    expect_error("send a\\qb\n", 1, "unknown escape \\q");
    expect_error("send a\\x4\n", 1, "two hex digits");
    expect_error("send a\\\n", 1, "backslash at the end");
    expect_error("send {query:a\n", 1, "unterminated substitution");
    expect_error("send {query}\n", 1, "needs an argument");
    expect_error("send {now:x}\n", 1, "takes no argument");
    expect_error("send {path:0}\n", 1, "number from 1");
    expect_error("send {div:1}\n", 1, "two operands");
    expect_error("status 20\n", 1, "3-digit");
    expect_error("header NoColon\n", 1, "NAME: VALUE");
    expect_error("header Bad Name: x\n", 1, "NAME: VALUE");
    expect_error("if conn >= 1\nend\n", 1, "conn ==|>|<");
    expect_error("if weather == sunny\nend\n", 1, "unknown condition");
    expect_error("if has-header\nend\n", 1, "has-header NAME");
    expect_error("if header A = b\nend\n", 1, "NAME == VALUE");
    expect_error("close now\n", 1, "takes no argument");
    expect_error("sleep\n", 1, "milliseconds");
    expect_error("repeat 1\nrepeat 1\nrepeat 1\nrepeat 1\nrepeat 1\nrepeat 1\nrepeat 1\n"
                 "repeat 1\nrepeat 1\nsend x\nend\nend\nend\nend\nend\nend\nend\nend\nend\n",
                 9, "deeper than 8");
}

static void test_parse_nul_byte(void **state)
{
    static const char src[] = "send a\0b\n";
    struct scn_program *prog = NULL;
    struct scn_error err;

    (void)state;
    assert_int_equal(scn_parse(src, sizeof(src) - 1, &prog, &err), -1);
    assert_int_equal(err.er_line, 1);
    assert_non_null(strstr(err.er_msg, "NUL byte"));
}

/* ---- runs ---- */

static void test_run_head(void **state)
{
    (void)state;
    /* Nothing declared: only Connection: close is added. */
    expect_run("send hi\n", GET("/", ""), 1, 10,
               "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhi<close>");
    /* An empty script still answers, and ends. */
    expect_run("", GET("/", ""), 1, 10, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<close>");
    expect_run("# only a comment\n\n   \n", GET("/", ""), 1, 10,
               "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<close>");
    /* Header lines are sent as written; a scenario Connection wins. */
    expect_run(
        "status 503\nheader connection:keep-alive\nheader X-A:  b \nclose\n", GET("/", ""), 1, 10,
        "HTTP/1.1 503 Service Unavailable\r\nconnection:keep-alive\r\nX-A:  b\r\n\r\n<close>");
    expect_run("status 299 Fine Thanks\nsleep 5\n", GET("/", ""), 1, 10,
               "HTTP/1.1 299 Fine Thanks\r\nConnection: close\r\n\r\n<sleep 5><close>");
    expect_run("status 599\nclose\n", GET("/", ""), 1, 10,
               "HTTP/1.1 599 \r\nConnection: close\r\n\r\n<close>");
    /* Status and headers may depend on the request. */
    expect_run("if conn == 2\n  status 500\nend\nheader A: b\nsend x\n", GET("/", ""), 2, 10,
               "HTTP/1.1 500 Internal Server Error\r\nA: b\r\nConnection: close\r\n\r\nx<close>");
}

static void test_run_raw_hang_reset(void **state)
{
    (void)state;
    /* A leading raw replaces the head; raw is never chunk-framed. */
    expect_run("raw HTTP/1.1 200 OK\\r\\nbroken\\r\\n\\r\\n\nsend x\n", GET("/", ""), 1, 10,
               "HTTP/1.1 200 OK\r\nbroken\r\n\r\nx<close>");
    expect_run("raw \nhang\n", GET("/", ""), 1, 10, "<hang>");
    expect_run("hang\n", GET("/", ""), 1, 10, "<hang>");
    expect_run("log waiting\nhang\n", GET("/", ""), 1, 10, "<log waiting><hang>");
    expect_run("header A: b\nhang\n", GET("/", ""), 1, 10,
               "HTTP/1.1 200 OK\r\nA: b\r\nConnection: close\r\n\r\n<hang>");
    expect_run("reset\n", GET("/", ""), 1, 10, "<reset>");
    expect_run("send x\nreset\n", GET("/", ""), 1, 10,
               "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nx<reset>");
    expect_run("header Transfer-Encoding: chunked\nchunked\nsend x\nraw 5\\r\\nab\n", GET("/", ""),
               1, 10,
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               "1\r\nx\r\n5\r\nab0\r\n\r\n<close>");
}

static void test_run_chunked(void **state)
{
    (void)state;
    expect_run("header Transfer-Encoding: chunked\nchunked\nsend 0123456789abcdefX\nsend \n"
               "send ab\nclose\n",
               GET("/", ""), 1, 10,
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               "11\r\n0123456789abcdefX\r\n2\r\nab\r\n0\r\n\r\n<close>");
    /* Reaching the end closes the same way; reset sends no last chunk. */
    expect_run("header Transfer-Encoding: chunked\nchunked\nsend a\n", GET("/", ""), 1, 10,
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               "1\r\na\r\n0\r\n\r\n<close>");
    expect_run("header Transfer-Encoding: chunked\nchunked\nsend a\nreset\n", GET("/", ""), 1, 10,
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               "1\r\na\r\n<reset>");
}

static void test_run_text(void **state)
{
    (void)state;
    /* One space after the keyword is eaten, the rest is kept. */
    expect_run("raw   two spaces  \n", GET("/", ""), 1, 10, "  two spaces  <close>");
    {
        static const char want[] = "a\tb\\c\0dA{now}{\"j\": {}}<close>";

        expect_run_n("raw a\\tb\\\\c\\0d\\x41\\{now}{\"j\": {}}\n", GET("/", ""), 1, 10, want,
                     sizeof(want) - 1);
    }
    expect_run("raw \\{x\\}\r\n", GET("/", ""), 1, 10, "{x}<close>");
}

static void test_run_substitutions(void **state)
{
    (void)state;
    expect_run("raw {conn}|{last_event_id}|{last_event_id|none}|{header:x-a}|{header:X-B|d}\n",
               GET("/", "Last-Event-ID: 41\r\nX-A: v a\r\n"), 3, 10, "3|41|41|v a|d<close>");
    expect_run("raw [{last_event_id}][{last_event_id|none}]\n", GET("/", ""), 1, 10,
               "[][none]<close>");
    expect_run("raw {query:a}|{query:b|x}|{query:c|{query:a}{query:a}}|{query:e|}\n",
               GET("/s/q?a=1&e=%7B", ""), 1, 10, "1|x|11|{<close>");
    expect_run("raw {path:1}/{path:2}/{path:3|none}/{path:9|-}\n",
               GET("/api/tasks/abc/stream?x=1", ""), 1, 10, "api/tasks/abc/-<close>");
    expect_run("raw {path:3|dflt}\n", GET("/s/task-stream/", ""), 1, 10, "dflt<close>");
    expect_run("raw {seq},{seq}\nraw ,{seq}\n", GET("/", ""), 1, 10, "1,2,3<close>");
    expect_run("raw {now}\n", GET("/", ""), 1, 10, "2025-11-19T21:00:00.123456+00:00<close>");
    expect_run("raw {div:1:3} {div:{query:n}:{query:d}} {div:7:7} {div:0:5} {div:1:8}\n",
               GET("/?n=2&d=3", ""), 1, 10,
               "0.3333333333333333 0.6666666666666666 1.0 0.0 0.125<close>");
}

static void test_run_uuid(void **state)
{
    struct sbuf tr = transcript("raw {uuid} {uuid}\n", GET("/", ""), 1, 10);
    const char *t = tr.sb_data;
    size_t i;

    (void)state;
    assert_int_equal(tr.sb_len, 36 + 1 + 36 + strlen("<close>"));
    for (i = 0; i < 73; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23 || i == 45 || i == 50 || i == 55 || i == 60)
            assert_int_equal(t[i], '-');
        else if (i != 36)
            assert_non_null(strchr("0123456789abcdef", t[i]));
    }
    assert_int_equal(t[14], '4');
    assert_non_null(strchr("89ab", t[19]));
    assert_memory_not_equal(t, t + 37, 36);
    sbuf_free(&tr);
}

static void test_run_loops(void **state)
{
    (void)state;
    expect_run("repeat 3\n  raw {i}\nend\n", GET("/", ""), 1, 20, "123<close>");
    expect_run("repeat 2\n  repeat {i}\n    raw {i}\n  end\n  raw ;\nend\n", GET("/", ""), 1, 20,
               "1;12;<close>");
    expect_run("repeat {query:n|2}\n  raw x\nend\n", GET("/?n=4", ""), 1, 20, "xxxx<close>");
    /* repeat 0 runs forever: the run stops only because the test does. */
    expect_run("repeat 0\n  raw {i},\nend\n", GET("/", ""), 1, 5, "1,2,3,4,5,");
    /* An endless loop without actions yields instead of spinning. */
    expect_run("repeat 0\n  if conn == 99\n    raw x\n  end\nend\n", GET("/", ""), 1, 2,
               "<sleep 0><sleep 0>");
}

static void test_run_conditions(void **state)
{
    const char *src = "if conn == 1\n raw a\nend\nif conn > 1\n raw b\nend\nif conn < 3\n raw c\n"
                      "end\nif has-header X-A\n raw d\nelse\n raw e\nend\nif has-query q\n raw f\n"
                      "end\nif header X-A == v w\n raw g\nend\nif query q == 1 2\n raw h\nend\n";

    (void)state;
    expect_run(src, GET("/", ""), 1, 20, "ace<close>");
    expect_run(src, GET("/?q=1+2", "x-a: v w\r\n"), 3, 20, "bdfgh<close>");
    expect_run(src, GET("/?q", "X-A: v\r\n"), 2, 20, "bcdf<close>");
    expect_run("if conn == 1\n  raw a\nelse\n  if conn == 2\n    raw b\n  else\n    raw c\n  end\n"
               "end\nraw .\n",
               GET("/", ""), 2, 20, "b.<close>");
    expect_run("if conn == 1\n  close\nend\nsend late\n", GET("/", ""), 1, 20,
               "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<close>");
}

static void test_run_failures(void **state)
{
    (void)state;
    expect_run("sleep {query:ms}\n", GET("/?ms=abc", ""), 1, 10,
               "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
               "<fail t.scn:1: sleep: 'abc' is not a whole number from 0 to 86400000>");
    expect_run("\nrepeat {query:n}\n  raw x\nend\n", GET("/", ""), 1, 10,
               "<fail t.scn:2: repeat: '' is not a whole number from 0 to 4294967295>");
    expect_run("raw {div:1:{query:z|0}}\n", GET("/", ""), 1, 10,
               "<fail t.scn:1: {div}: division by zero>");
    expect_run("raw {div:x:1}\n", GET("/", ""), 1, 10,
               "<fail t.scn:1: {div}: 'x' is not a number>");
    expect_run("sendfile /nonexistent/file\n", GET("/", ""), 1, 10,
               "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<fail t.scn:1: sendfile: cannot read "
               "/nonexistent/file: No such file or directory>");
}

static void test_run_sendfile(void **state)
{
    static const char want[] =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        "a\r\nfile\0bytes\r\n0\r\n\r\n<close>";
    char path[] = "/tmp/sse_testserver_selftest_XXXXXX";
    int fd = mkstemp(path);
    struct sbuf src = SBUF_INIT;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "file\0bytes", 10), 10);
    close(fd);
    assert_int_equal(
        sbuf_addf(&src, "header Transfer-Encoding: chunked\nchunked\nsendfile %s\n", path), 0);
    expect_run_n(src.sb_data, GET("/", ""), 1, 10, want, sizeof(want) - 1);
    unlink(path);
    sbuf_free(&src);
}

/* ---- shipped scenarios ---- */

static struct sbuf transcript_file(const char *name, const char *head, unsigned long conn,
                                   int max_actions)
{
    char path[512];
    struct scn_program *prog = NULL;
    struct scn_error err;
    struct sbuf t;

    snprintf(path, sizeof(path), "%s/%s.scn", SCN_DIR, name);
    if (scn_load(path, &prog, &err) != 0)
        fail_msg("%s:%u: %s", path, err.er_line, err.er_msg);
    t = transcript_prog(prog, head, conn, max_actions);
    scn_program_free(prog);
    return t;
}

static void expect_file(const char *name, const char *head, unsigned long conn, int max_actions,
                        const char *want)
{
    struct sbuf got = transcript_file(name, head, conn, max_actions);

    if (got.sb_len != strlen(want) || memcmp(got.sb_data, want, got.sb_len) != 0)
        fail_msg("%s differs:\n got: %s\nwant: %s", name, got.sb_data, want);
    sbuf_free(&got);
}

static void test_shipped_version_stream(void **state)
{
    (void)state;
    expect_file(
        "version-stream", GET("/api/utils/version/stream?request_id=abc&hb_ms=50", ""), 1, 7,
        FLASK_HEAD "event: connection_open\ndata: {\"status\": \"connected\", "
                   "\"correlation_id\": \"abc\"}\n\n"
                   "event: version\ndata: {\"version\": \"1.4.2\", \"environment\": "
                   "\"staging\", \"git_commit\": \"3f9c2ab\", \"correlation_id\": \"abc\"}\n\n"
                   "<sleep 50>event: heartbeat\ndata: {\"timestamp\": \"keepalive\", "
                   "\"correlation_id\": \"abc\"}\n\n"
                   "<sleep 50>event: heartbeat\ndata: {\"timestamp\": \"keepalive\", "
                   "\"correlation_id\": \"abc\"}\n\n");
    expect_file("version-stream", GET("/s/version-stream", ""), 1, 4,
                FLASK_HEAD "event: connection_open\ndata: {\"status\": \"connected\", "
                           "\"correlation_id\": \"demo\"}\n\n"
                           "event: version\ndata: {\"version\": \"1.4.2\", \"environment\": "
                           "\"staging\", \"git_commit\": \"3f9c2ab\", \"correlation_id\": "
                           "\"demo\"}\n\n<sleep 5000>");
}

static void add(struct sbuf *sb, const char *s)
{
    assert_int_equal(sbuf_adds(sb, s), 0);
}

static void add_task_event(struct sbuf *sb, const char *id, const char *type, const char *data)
{
    assert_int_equal(sbuf_addf(sb,
                               "event: task_event\ndata: {\"event_type\": \"%s\", \"task_id\": "
                               "\"%s\", \"timestamp\": \"2025-11-19T21:00:00.123456+00:00\", "
                               "\"data\": %s}\n\n",
                               type, id, data),
                     0);
}

static void test_shipped_task_stream(void **state)
{
    struct sbuf want = SBUF_INIT;

    (void)state;
    add(&want, FLASK_HEAD "event: connection_open\ndata: {\"status\": \"connected\"}\n\n");
    add_task_event(&want, "t-1", "task_started", "null");
    add_task_event(&want, "t-1", "progress_update",
                   "{\"text\": \"Starting test task\", \"value\": 0.0}");
    add(&want, "<sleep 10>");
    add_task_event(&want, "t-1", "progress_update",
                   "{\"text\": \"Step 1/3\", \"value\": 0.3333333333333333}");
    add(&want, "<sleep 10>");
    add_task_event(&want, "t-1", "progress_update",
                   "{\"text\": \"Step 2/3\", \"value\": 0.6666666666666666}");
    add(&want, "<sleep 10>");
    add_task_event(&want, "t-1", "progress_update", "{\"text\": \"Step 3/3\", \"value\": 1.0}");
    add_task_event(&want, "t-1", "task_completed",
                   "{\"message\": \"default message\", \"steps_completed\": 3, "
                   "\"status\": \"success\"}");
    add(&want, "event: connection_close\ndata: {\"reason\": \"task_completed\"}\n\n<close>");
    expect_file("task-stream", GET("/api/tasks/t-1/stream?steps=3&delay_ms=10", ""), 1, 30,
                want.sb_data);

    /* The /s/ form has the task id at the same path position. */
    sbuf_reset(&want);
    add(&want, FLASK_HEAD "event: connection_open\ndata: {\"status\": \"connected\"}\n\n");
    add_task_event(&want, "t-2", "task_started", "null");
    add_task_event(&want, "t-2", "progress_update",
                   "{\"text\": \"Starting test task\", \"value\": 0.0}");
    add(&want, "<sleep 0>");
    add_task_event(&want, "t-2", "progress_update", "{\"text\": \"Step 1/1\", \"value\": 1.0}");
    add_task_event(&want, "t-2", "task_completed",
                   "{\"message\": \"hi there\", \"steps_completed\": 1, \"status\": \"success\"}");
    add(&want, "event: connection_close\ndata: {\"reason\": \"task_completed\"}\n\n<close>");
    expect_file("task-stream", GET("/s/task-stream/t-2?steps=1&delay_ms=0&message=hi%20there", ""),
                1, 30, want.sb_data);
    sbuf_free(&want);
}

static void test_shipped_small(void **state)
{
    (void)state;
    expect_file("task-not-found", GET("/api/tasks/x/stream", ""), 1, 10,
                FLASK_HEAD "event: connection_open\ndata: {\"status\": \"connected\"}\n\n"
                           "event: error\ndata: {\"error\": \"Task not found\"}\n\n"
                           "event: connection_close\ndata: {\"reason\": \"task_not_found\"}\n\n"
                           "<close>");
    expect_file("gateway-version-stream", GET("/s/gateway-version-stream?hb_ms=15", ""), 1, 6,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
                "50\r\nevent: connection_open\ndata: {\"status\": \"connected\", "
                "\"correlation_id\": \"demo\"}\n\n\r\n"
                "78\r\nevent: version\ndata: {\"version\": \"1.4.2\", \"environment\": "
                "\"staging\", \"git_commit\": \"3f9c2ab\", \"correlation_id\": \"demo\"}\n\n\r\n"
                "<sleep 15>d\r\n: heartbeat\n\n\r\n<sleep 15>");
    expect_file("envelope-stream", GET("/s/envelope-stream?request_id=r", ""), 1, 4,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
                "14\r\nevent: ready\ndata:\n\n\r\n"
                "83\r\ndata: {\"type\":\"version\",\"payload\":{\"version\": \"1.4.2\", "
                "\"environment\": \"staging\", \"git_commit\": \"3f9c2ab\", \"correlation_id\": "
                "\"r\"}}\n\n\r\n<sleep 15000>");
    expect_file("reconnect", GET("/s/reconnect", ""), 1, 10,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                "Connection: close\r\n\r\nid: 1\ndata: last=\n\n<close>");
    expect_file("reconnect", GET("/s/reconnect", "Last-Event-ID: 1\r\n"), 2, 10,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                "Connection: close\r\n\r\nretry: 300\n\nid: 2\ndata: last=1\n\n<close>");
    expect_file("hang-headers", GET("/s/hang-headers", ""), 1, 10, "<hang>");
    expect_file("reset", GET("/s/reset", ""), 1, 10,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                "Connection: close\r\n\r\nevent: hello\ndata: {\"n\": 1}\n\n<reset>");
    expect_file("heartbeat", GET("/s/heartbeat?ms=20", ""), 1, 5,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                "data: 1\n\n<sleep 20>data: 2\n\n<sleep 20>");
    expect_file("no-content", GET("/s/no-content", ""), 1, 10,
                "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n<close>");
    expect_file("wrong-type", GET("/s/wrong-type", ""), 1, 10,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                "Content-Length: 47\r\nConnection: close\r\n\r\n"
                "<html><body><h1>Not a stream</h1></body></html><close>");
    expect_file("not-found", GET("/s/not-found", ""), 1, 10,
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
                "Connection: close\r\n\r\nnot found\n<close>");
}

static void test_shipped_all_parse(void **state)
{
    static const char *const names[] = {
        "version-stream",  "task-stream", "task-not-found", "gateway-version-stream",
        "envelope-stream", "basic",       "reconnect",      "not-found",
        "no-content",      "wrong-type",  "redirect",       "redirect-loop",
        "hang-headers",    "silent",      "reset",          "heartbeat",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct sbuf t = transcript_file(names[i], GET("/s/x", ""), 1, 3);

        assert_true(t.sb_len > 0);
        sbuf_free(&t);
    }
}

/* The 2026 stack's JSON and times, as the Python backend writes them. */
static void test_pyjson(void **state)
{
    struct timespec ts = {1796625116, 190330000}; /* 2026-12-07T06:31:56.19033 */
    struct timespec whole = {1796625116, 0};
    struct sbuf out = SBUF_INIT;
    json_t *v;
    char buf[48];

    (void)state;
    assert_true(pyjson_time(&ts, true, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "2026-12-07T06:31:56.190330Z");
    assert_true(pyjson_time(&ts, false, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "2026-12-07T06:31:56.190330+00:00");
    assert_true(pyjson_time(&whole, true, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "2026-12-07T06:31:56Z");
    assert_int_equal(pyjson_time(&ts, true, buf, 10), -1);

    assert_int_equal(pyjson_string(&out, "a\"\\\n\x01\x7f\xc3\xa9\xf0\x9f\x98\x80\xff", 13), 0);
    assert_string_equal(out.sb_data, "\"a\\\"\\\\\\n\\u0001\\u007f\\u00e9\\ud83d\\ude00\\u00ff\"");
    sbuf_reset(&out);
    v = json_loads(
        "{\"text\": \"Step 1/3\", \"value\": 0.3333333333333333, \"n\": [1, true, null, 1.0]}", 0,
        NULL);
    assert_non_null(v);
    assert_int_equal(pyjson_dump(&out, v), 0);
    assert_string_equal(
        out.sb_data,
        "{\"text\": \"Step 1/3\", \"value\": 0.3333333333333333, \"n\": [1, true, null, 1.0]}");
    json_decref(v);
    sbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pyjson),
        cmocka_unit_test(test_format_float),
        cmocka_unit_test(test_format_isotime),
        cmocka_unit_test(test_request_parse),
        cmocka_unit_test(test_request_too_large),
        cmocka_unit_test(test_request_log_json),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_nul_byte),
        cmocka_unit_test(test_run_head),
        cmocka_unit_test(test_run_raw_hang_reset),
        cmocka_unit_test(test_run_chunked),
        cmocka_unit_test(test_run_text),
        cmocka_unit_test(test_run_substitutions),
        cmocka_unit_test(test_run_uuid),
        cmocka_unit_test(test_run_loops),
        cmocka_unit_test(test_run_conditions),
        cmocka_unit_test(test_run_failures),
        cmocka_unit_test(test_run_sendfile),
        cmocka_unit_test(test_shipped_version_stream),
        cmocka_unit_test(test_shipped_task_stream),
        cmocka_unit_test(test_shipped_small),
        cmocka_unit_test(test_shipped_all_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
