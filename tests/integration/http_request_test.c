/*
 * http_request_test: one-shot requests (io/http_request) against real
 * servers on loopback: the scripted test server (scenarios written by
 * test_http_request.sh) and a Python echo server that reports the method,
 * headers and body it received.
 *
 * usage: http_request_test --ts URL --echo URL [--bench N]
 * URL is http://127.0.0.1:PORT. Prints one TAP-like line per check; exits
 * 0 when all pass, 1 otherwise, 2 on usage. --bench N only measures: N
 * sequential GETs of /s/hr-json, started -> finished, and prints the
 * median and other quantiles in microseconds.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ssemon/base/clock.h"
#include "ssemon/io/http_request.h"
#include "ssemon/io/subscription.h"

#define T_BODY_MAX 200000
#define T_WAIT_MS 10000

static struct event_base *g_base;
static struct sub_engine *g_eng;
static const char *g_ts;
static const char *g_echo;
static bool g_in_start;
static int g_fails;
static int g_passes;

static void t_check(bool ok, const char *what)
{
    if (ok) {
        g_passes++;
        printf("ok - %s\n", what);
    } else {
        g_fails++;
        printf("not ok - %s\n", what);
    }
    fflush(stdout);
}

/* What one request's done callback saw. */
struct t_rec {
    int tr_calls;
    bool tr_done_in_start;
    long tr_status;
    char tr_error[512];
    bool tr_timed_out;
    char *tr_body;
    size_t tr_body_len;
    size_t tr_body_strlen;
    uint64_t tr_total;
    char tr_ctype[256];
    uint64_t tr_started_us;
    uint64_t tr_finished_us;
    uint64_t tr_events_at_finish; /* of the parallel test's stream */
};

static uint64_t g_events; /* events of the parallel test's stream */

static void t_done(void *ctx, const struct http_request_result *r)
{
    struct t_rec *rec = ctx;
    rec->tr_calls++;
    rec->tr_done_in_start = g_in_start;
    rec->tr_status = r->hrr_status;
    snprintf(rec->tr_error, sizeof(rec->tr_error), "%s", r->hrr_error);
    rec->tr_timed_out = r->hrr_timed_out;
    free(rec->tr_body);
    rec->tr_body = malloc(r->hrr_body_len + 1);
    if (rec->tr_body != NULL)
        memcpy(rec->tr_body, r->hrr_body, r->hrr_body_len + 1);
    rec->tr_body_len = r->hrr_body_len;
    rec->tr_body_strlen = strlen(r->hrr_body);
    rec->tr_total = r->hrr_body_total;
    snprintf(rec->tr_ctype, sizeof(rec->tr_ctype), "%s", r->hrr_content_type);
    rec->tr_started_us = r->hrr_started_us;
    rec->tr_finished_us = r->hrr_finished_us;
    rec->tr_events_at_finish = g_events;
}

static struct http_request *t_start(struct t_rec *rec, const struct http_request_options *o)
{
    g_in_start = true;
    struct http_request *r = http_request_start(g_eng, o, t_done, rec);
    g_in_start = false;
    return r;
}

static void t_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Runs the loop until *count reaches `want`, for at most T_WAIT_MS. */
static bool t_wait(const int *count, int want)
{
    uint64_t end = clock_mono_ms() + T_WAIT_MS;
    while (*count < want && clock_mono_ms() < end)
        event_base_loop(g_base, EVLOOP_ONCE);
    return *count >= want;
}

static bool t_wait_u64(const uint64_t *count, uint64_t want)
{
    uint64_t end = clock_mono_ms() + T_WAIT_MS;
    while (*count < want && clock_mono_ms() < end)
        event_base_loop(g_base, EVLOOP_ONCE);
    return *count >= want;
}

static void t_url(char *buf, size_t cap, const char *base, const char *path)
{
    snprintf(buf, cap, "%s%s", base, path);
}

static void t_free_rec(struct t_rec *rec)
{
    free(rec->tr_body);
    memset(rec, 0, sizeof(*rec));
}

/* One request, run to its done. */
static bool t_run(struct t_rec *rec, const struct http_request_options *o)
{
    t_free_rec(rec);
    if (t_start(rec, o) == NULL)
        return false;
    bool ok = t_wait(&rec->tr_calls, 1);
    return ok && !rec->tr_done_in_start;
}

static bool t_has(const struct t_rec *rec, const char *needle)
{
    return rec->tr_body != NULL && strstr(rec->tr_body, needle) != NULL;
}

static void test_json(void)
{
    char url[512];
    struct t_rec rec = {0};
    t_url(url, sizeof(url), g_ts, "/s/hr-json");
    struct http_request_options o = {.hro_url = url};
    bool ran = t_run(&rec, &o);
    t_check(ran, "json: done called once, from the loop");
    t_check(rec.tr_status == 200 && rec.tr_error[0] == '\0', "json: status 200, no error");
    t_check(rec.tr_body != NULL && strcmp(rec.tr_body, "{\"task_id\": \"t-1\", \"ok\": true}") == 0,
            "json: body as sent");
    t_check(rec.tr_total == rec.tr_body_len && rec.tr_body_len == 30, "json: total = kept");
    t_check(strcmp(rec.tr_ctype, "application/json") == 0, "json: content type");
    t_check(rec.tr_started_us > 0 && rec.tr_finished_us >= rec.tr_started_us,
            "json: started <= finished");
    t_check(http_request_in_flight(g_eng) == 0, "json: nothing in flight after done");
    t_free_rec(&rec);
}

static void test_status_500(void)
{
    char url[512];
    struct t_rec rec = {0};
    t_url(url, sizeof(url), g_ts, "/s/hr-500");
    struct http_request_options o = {.hro_url = url, .hro_method = "POST"};
    t_run(&rec, &o);
    t_check(rec.tr_status == 500 && rec.tr_error[0] == '\0' && !rec.tr_timed_out,
            "500: a response, status 500, no error");
    t_check(rec.tr_body != NULL && strcmp(rec.tr_body, "internal error\n") == 0, "500: body");
    t_free_rec(&rec);
}

static void test_big(void)
{
    char url[512];
    struct t_rec rec = {0};
    t_url(url, sizeof(url), g_ts, "/s/hr-big");
    struct http_request_options o = {.hro_url = url, .hro_max_body = 1000};
    t_run(&rec, &o);
    t_check(rec.tr_status == 200 && rec.tr_error[0] == '\0', "big: status 200, no error");
    t_check(rec.tr_body_len == 1000 && rec.tr_body_strlen == 1000,
            "big: 1000 bytes kept, NUL-terminated");
    t_check(rec.tr_total == 100000, "big: 100000 bytes counted");
    t_check(rec.tr_body != NULL && memcmp(rec.tr_body, "0123456789", 10) == 0, "big: kept bytes");
    t_free_rec(&rec);

    /* The default limit, 65536. */
    o.hro_max_body = 0;
    t_run(&rec, &o);
    t_check(rec.tr_body_len == 65536 && rec.tr_total == 100000, "big: default limit 65536");
    t_free_rec(&rec);
}

/* A port bound and not listening: connecting is refused, and nothing else
 * can take the port while the socket lives. */
static int t_refused_port(int *fd_out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *fd_out = fd;
    return ntohs(a.sin_port);
}

static void test_refused(void)
{
    int fd = -1;
    int port = t_refused_port(&fd);
    t_check(port > 0, "refused: a bound, non-listening port");
    char url[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
    /* A secret that happens to occur in libcurl's text is still not shown. */
    const char *hdrs[] = {"Authorization: Bearer 127.0.0.1", "X-Api-Key: s3cr3t-value"};
    struct http_request_options o = {.hro_url = url, .hro_headers = hdrs, .hro_n_headers = 2};
    struct t_rec rec = {0};
    t_run(&rec, &o);
    printf("# refused: error \"%s\"\n", rec.tr_error);
    t_check(rec.tr_status == 0 && !rec.tr_timed_out, "refused: no response, not a timeout");
    t_check(strstr(rec.tr_error, "Connection refused") != NULL, "refused: error says why");
    t_check(strstr(rec.tr_error, "127.0.0.1") == NULL && strstr(rec.tr_error, "***") != NULL,
            "refused: a header value in the error text is redacted");
    t_check(rec.tr_body_len == 0 && rec.tr_body_strlen == 0 && rec.tr_ctype[0] == '\0',
            "refused: empty body and content type");
    t_free_rec(&rec);
    close(fd);
}

static void test_timeout(void)
{
    char url[512];
    struct t_rec rec = {0};
    t_url(url, sizeof(url), g_ts, "/s/hang");
    const char *hdrs[] = {"Authorization: Bearer hang-secret-token"};
    struct http_request_options o = {
        .hro_url = url, .hro_timeout_ms = 300, .hro_headers = hdrs, .hro_n_headers = 1};
    t_run(&rec, &o);
    printf("# timeout: error \"%s\" after %" PRIu64 " us\n", rec.tr_error,
           rec.tr_finished_us - rec.tr_started_us);
    t_check(rec.tr_status == 0 && rec.tr_timed_out, "timeout: no response, timed out");
    t_check(strcmp(rec.tr_error, "timed out after 300 ms") == 0, "timeout: error text");
    t_check(rec.tr_finished_us - rec.tr_started_us >= 300000, "timeout: not before the limit");
    t_free_rec(&rec);
}

static void test_redirect(void)
{
    char url[512];
    struct t_rec rec = {0};
    t_url(url, sizeof(url), g_ts, "/s/hr-redirect");
    struct http_request_options o = {.hro_url = url};
    t_run(&rec, &o);
    t_check(rec.tr_status == 302 && rec.tr_error[0] == '\0',
            "redirect: max_redirects 0, the 3xx is the response");
    t_free_rec(&rec);

    o.hro_max_redirects = 3;
    t_run(&rec, &o);
    t_check(rec.tr_status == 200 && rec.tr_error[0] == '\0' && t_has(&rec, "\"t-1\""),
            "redirect: followed to the JSON");
    t_free_rec(&rec);

    t_url(url, sizeof(url), g_ts, "/s/hr-redirect-loop");
    o.hro_max_redirects = 2;
    t_run(&rec, &o);
    printf("# redirect loop: status %ld error \"%s\"\n", rec.tr_status, rec.tr_error);
    t_check(rec.tr_status == 302 && rec.tr_error[0] != '\0',
            "redirect: too many redirects is an error, with the last status");
    t_free_rec(&rec);
}

static void test_post_body(void)
{
    char url[512];
    struct t_rec rec = {0};
    t_url(url, sizeof(url), g_echo, "/api/testing/tasks/start");
    static const char body[] = "{\"task_type\": \"demo_task\", \"params\": {\"steps\": 3}}";
    const char *hdrs[] = {"Content-Type: application/json", "X-Token: probe-token-1"};
    struct http_request_options o = {.hro_method = "POST",
                                     .hro_url = url,
                                     .hro_headers = hdrs,
                                     .hro_n_headers = 2,
                                     .hro_body = body,
                                     .hro_body_len = strlen(body)};
    t_run(&rec, &o);
    t_check(rec.tr_status == 200 && t_has(&rec, "method POST\n"), "post: the server saw POST");
    t_check(t_has(&rec, "\nbody {\"task_type\": \"demo_task\", \"params\": {\"steps\": 3}}") &&
                rec.tr_body_len == rec.tr_body_strlen,
            "post: the body reached the server");
    t_check(t_has(&rec, "\nh content-type: application/json\n") &&
                t_has(&rec, "\nh x-token: probe-token-1\n"),
            "post: the headers reached the server");
    t_check(!t_has(&rec, "\nh expect:") && t_has(&rec, "\nh user-agent: ssemon/"),
            "post: no Expect, ssemon's User-Agent");
    t_free_rec(&rec);

    /* A text body with a custom method, no Content-Type given. */
    static const char text[] = "line one\nline two";
    o.hro_method = "PATCH";
    o.hro_headers = NULL;
    o.hro_n_headers = 0;
    o.hro_body = text;
    o.hro_body_len = strlen(text);
    t_run(&rec, &o);
    t_check(t_has(&rec, "method PATCH\n") && t_has(&rec, "\nbody line one\nline two"),
            "patch: custom method with a text body");
    t_check(!t_has(&rec, "\nh content-type:"), "patch: no Content-Type unless given");
    t_free_rec(&rec);

    /* Methods without a body. */
    const char *methods[] = {"DELETE", "PURGE", "POST", "GET"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        char want[64], what[128];
        o.hro_method = methods[i];
        o.hro_body = NULL;
        o.hro_body_len = 0;
        t_run(&rec, &o);
        snprintf(want, sizeof(want), "method %s\n", methods[i]);
        snprintf(what, sizeof(what), "%s without a body: method and empty body", methods[i]);
        t_check(rec.tr_status == 200 && t_has(&rec, want) && t_has(&rec, "\nbody_len 0\n"), what);
        t_free_rec(&rec);
    }

    /* HEAD: a response without a body. */
    t_url(url, sizeof(url), g_ts, "/s/hr-json");
    struct http_request_options h = {.hro_method = "HEAD", .hro_url = url};
    t_run(&rec, &h);
    t_check(rec.tr_status == 200 && rec.tr_error[0] == '\0' && rec.tr_body_len == 0,
            "head: status, no body");
    t_free_rec(&rec);
}

static void test_invalid(void)
{
    struct t_rec rec = {0};
    char url[512];
    t_url(url, sizeof(url), g_ts, "/s/hr-json");
    struct http_request_options o = {.hro_url = NULL};
    errno = 0;
    t_check(t_start(&rec, &o) == NULL && errno == EINVAL, "invalid: no URL is EINVAL");
    o.hro_url = url;
    o.hro_method = "GE T";
    errno = 0;
    t_check(t_start(&rec, &o) == NULL && errno == EINVAL, "invalid: a method not a token");
    const char *bad[] = {"No colon here"};
    o.hro_method = "GET";
    o.hro_headers = bad;
    o.hro_n_headers = 1;
    errno = 0;
    t_check(t_start(&rec, &o) == NULL && errno == EINVAL, "invalid: a bad header line");
    const char *crlf[] = {"X-A: b\r\nX-Injected: c"};
    o.hro_headers = crlf;
    errno = 0;
    t_check(t_start(&rec, &o) == NULL && errno == EINVAL, "invalid: CR LF in a header");
    t_check(rec.tr_calls == 0 && http_request_in_flight(g_eng) == 0,
            "invalid: nothing started, nothing called");
}

static void test_cancel(void)
{
    char url[512], hang[512];
    t_url(url, sizeof(url), g_ts, "/s/hr-json");
    t_url(hang, sizeof(hang), g_ts, "/s/hang");
    struct t_rec a = {0}, b = {0}, c = {0};
    struct http_request_options oh = {.hro_url = hang, .hro_timeout_ms = 1000};
    struct http_request_options oj = {.hro_url = url};

    /* Cancelled at once, before anything happened on the loop. */
    struct http_request *ra = t_start(&a, &oh);
    t_check(ra != NULL && http_request_in_flight(g_eng) == 1, "cancel: one in flight");
    http_request_cancel(ra);
    t_check(http_request_in_flight(g_eng) == 0, "cancel: none in flight after cancel");

    /* Cancelled while the server holds it: b hangs, c completes first. */
    struct http_request *rb = t_start(&b, &oh);
    t_start(&c, &oj);
    t_check(t_wait(&c.tr_calls, 1), "cancel: the other request completes");
    http_request_cancel(rb);
    http_request_cancel(NULL);
    /* Past b's own 1000 ms timeout: its done would have run by then. */
    t_free_rec(&c);
    struct http_request_options ow = {.hro_url = hang, .hro_timeout_ms = 1500};
    t_start(&c, &ow);
    t_wait(&c.tr_calls, 1);
    t_check(c.tr_timed_out, "cancel: waited past the cancelled request's timeout");
    t_check(a.tr_calls == 0 && b.tr_calls == 0, "cancel: done never ran for cancelled requests");
    t_check(http_request_in_flight(g_eng) == 0, "cancel: nothing in flight");
    t_free_rec(&a);
    t_free_rec(&b);
    t_free_rec(&c);
}

/* ---- two requests in parallel while a stream keeps receiving ---- */

struct t_par {
    struct t_rec tp_slow[2];
    struct t_rec tp_inner; /* started from inside on_event */
    struct t_rec tp_hang;  /* cancelled from inside on_event */
    struct http_request *tp_hang_req;
    uint64_t tp_events_at_start;
    bool tp_started;
    bool tp_inner_started;
    char tp_json_url[512];
};

static void t_par_event(void *ctx, struct subscription *s, const struct sse_event *ev)
{
    (void)s;
    (void)ev;
    struct t_par *p = ctx;
    g_events++;
    if (!p->tp_started || p->tp_inner_started || g_events < p->tp_events_at_start + 2)
        return;
    /* Inside libcurl's write callback: the start and the cancel are
     * deferred to the end of the engine's callback. */
    p->tp_inner_started = true;
    struct http_request_options o = {.hro_url = p->tp_json_url};
    if (t_start(&p->tp_inner, &o) == NULL)
        p->tp_inner.tr_status = -1;
    http_request_cancel(p->tp_hang_req);
}

static void test_parallel(void)
{
    struct t_par p = {0};
    char stream[512], slow[512], hang[512];
    t_url(stream, sizeof(stream), g_ts, "/s/hr-stream");
    t_url(slow, sizeof(slow), g_ts, "/s/hr-slow");
    t_url(hang, sizeof(hang), g_ts, "/s/hang");
    t_url(p.tp_json_url, sizeof(p.tp_json_url), g_ts, "/s/hr-json");

    struct sub_options so;
    sub_options_init(&so);
    so.so_url = stream;
    struct sub_callbacks cbs = {.sc_on_event = t_par_event};
    struct subscription *s = subscription_new(g_eng, &so, &cbs, &p);
    t_check(s != NULL && subscription_start(s) == 0, "parallel: stream started");
    t_check(t_wait_u64(&g_events, 2), "parallel: stream receiving");

    struct http_request_options oh = {.hro_url = hang, .hro_timeout_ms = 3000};
    p.tp_hang_req = t_start(&p.tp_hang, &oh);
    struct http_request_options os = {.hro_url = slow};
    p.tp_events_at_start = g_events;
    p.tp_started = true;
    t_start(&p.tp_slow[0], &os);
    t_start(&p.tp_slow[1], &os);
    bool done0 = t_wait(&p.tp_slow[0].tr_calls, 1);
    bool done1 = t_wait(&p.tp_slow[1].tr_calls, 1);
    bool inner = t_wait(&p.tp_inner.tr_calls, 1);
    t_check(done0 && done1, "parallel: both requests done");
    t_check(p.tp_slow[0].tr_status == 200 && p.tp_slow[1].tr_status == 200 &&
                strcmp(p.tp_slow[0].tr_body, "slow\n") == 0 &&
                strcmp(p.tp_slow[1].tr_body, "slow\n") == 0,
            "parallel: both got their response");
    const struct t_rec *r0 = &p.tp_slow[0], *r1 = &p.tp_slow[1];
    printf("# parallel: %" PRIu64 " and %" PRIu64 " us; stream events during: %" PRIu64
           " and %" PRIu64 "\n",
           r0->tr_finished_us - r0->tr_started_us, r1->tr_finished_us - r1->tr_started_us,
           r0->tr_events_at_finish - p.tp_events_at_start,
           r1->tr_events_at_finish - p.tp_events_at_start);
    t_check(r0->tr_started_us < r1->tr_finished_us && r1->tr_started_us < r0->tr_finished_us,
            "parallel: the two requests overlapped");
    uint64_t first = r0->tr_events_at_finish < r1->tr_events_at_finish ? r0->tr_events_at_finish
                                                                       : r1->tr_events_at_finish;
    t_check(first >= p.tp_events_at_start + 3,
            "parallel: the stream received events while both requests were in flight");
    t_check(inner && p.tp_inner.tr_status == 200 && !p.tp_inner.tr_done_in_start,
            "parallel: a request started from inside a stream callback completes");
    t_check(p.tp_hang.tr_calls == 0, "parallel: cancelled from inside a stream callback");
    t_check(http_request_in_flight(g_eng) == 0, "parallel: nothing in flight");
    subscription_free(s);
    t_free_rec(&p.tp_slow[0]);
    t_free_rec(&p.tp_slow[1]);
    t_free_rec(&p.tp_inner);
    t_free_rec(&p.tp_hang);
}

/* Freed with the engine, in flight; done not called. */
static void test_teardown(struct t_rec *recs)
{
    char hang[512], json[512];
    t_url(hang, sizeof(hang), g_ts, "/s/hang");
    t_url(json, sizeof(json), g_ts, "/s/hr-json");
    struct http_request_options oh = {.hro_url = hang};
    struct http_request_options oj = {.hro_url = json};
    t_start(&recs[0], &oh);
    t_start(&recs[1], &oh);
    /* Let the first two reach the server, so they are connected. */
    t_start(&recs[2], &oj);
    t_wait(&recs[2].tr_calls, 1);
    t_start(&recs[3], &oj);
    t_check(http_request_in_flight(g_eng) == 3, "teardown: three in flight");
}

static int t_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int t_bench(int n)
{
    char url[512];
    t_url(url, sizeof(url), g_ts, "/s/hr-json");
    uint64_t *us = calloc((size_t)n, sizeof(*us));
    if (us == NULL)
        return 1;
    struct t_rec rec = {0};
    struct http_request_options o = {.hro_url = url};
    for (int i = 0; i < n; i++) {
        if (!t_run(&rec, &o) || rec.tr_status != 200) {
            fprintf(stderr, "bench: request %d failed: %s\n", i, rec.tr_error);
            free(us);
            return 1;
        }
        us[i] = rec.tr_finished_us - rec.tr_started_us;
    }
    t_free_rec(&rec);
    qsort(us, (size_t)n, sizeof(*us), t_cmp_u64);
    printf("{\"requests\": %d, \"min_us\": %" PRIu64 ", \"p50_us\": %" PRIu64
           ", \"p90_us\": %" PRIu64 ", \"p99_us\": %" PRIu64 ", \"max_us\": %" PRIu64 "}\n",
           n, us[0], us[n / 2], us[(n * 9) / 10], us[(n * 99) / 100], us[n - 1]);
    free(us);
    return 0;
}

int main(int argc, char **argv)
{
    int bench = 0;
    static const struct option opts[] = {{"ts", required_argument, NULL, 't'},
                                         {"echo", required_argument, NULL, 'e'},
                                         {"bench", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 't')
            g_ts = optarg;
        else if (c == 'e')
            g_echo = optarg;
        else if (c == 'b')
            bench = atoi(optarg);
        else
            return 2;
    }
    if (g_ts == NULL || (g_echo == NULL && bench <= 0)) {
        fprintf(stderr, "usage: http_request_test --ts URL --echo URL [--bench N]\n");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    g_base = event_base_new();
    g_eng = g_base != NULL ? sub_engine_new(g_base) : NULL;
    struct event *tick = g_base != NULL ? event_new(g_base, -1, EV_PERSIST, t_tick, NULL) : NULL;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
    if (g_eng == NULL || tick == NULL || event_add(tick, &tv) != 0)
        return 1;

    int rc;
    struct t_rec torn[4] = {{0}};
    if (bench > 0) {
        rc = t_bench(bench);
    } else {
        test_json();
        test_status_500();
        test_big();
        test_refused();
        test_timeout();
        test_redirect();
        test_post_body();
        test_invalid();
        test_cancel();
        test_parallel();
        test_teardown(torn);
        rc = -1;
    }
    sub_engine_free(g_eng);
    if (rc == -1) {
        t_check(torn[0].tr_calls == 0 && torn[1].tr_calls == 0 && torn[3].tr_calls == 0,
                "teardown: the engine freed them without calling done");
        for (int i = 0; i < 4; i++)
            t_free_rec(&torn[i]);
        printf("# %d passed, %d failed\n", g_passes, g_fails);
        rc = g_fails == 0 ? 0 : 1;
    }
    event_free(tick);
    event_base_free(g_base);
    curl_global_cleanup();
    return rc;
}
