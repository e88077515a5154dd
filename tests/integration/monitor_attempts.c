/*
 * monitor_attempts: one monitor whose every connection attempt gets its own
 * target (mo_prepare) against the test server's attempt-echo scenario,
 * which echoes the request's request_id as the correlation id and its
 * X-Attempt header as the version. Attempt 1 and 3 name their own request
 * id, header and variable; attempt 2 cannot be prepared; attempt 4 uses the
 * configured target. Every event is observed (mc_on_event) with the
 * variable the current connection uses (monitor_var).
 *
 * usage: monitor_attempts --base URL --contracts DIR [--timeout S]
 * Prints one JSON line per observed event and per violation, then a
 * summary; exits 0 when everything seen is as expected, 1 otherwise, 2 on
 * usage. test_attempts.sh checks the server's request log on top.
 */
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/config/contract_load.h"
#include "ssemon/io/monitor.h"

#define ATT_MAX_EVENTS 32
#define ATT_LAST 4 /* the attempt after which the run ends */

struct att_event {
    uint64_t ae_attempt;
    char ae_kind[32];
    char ae_cid[64];     /* the payload's correlation_id */
    char ae_version[64]; /* the payload's version: the X-Attempt header */
    char ae_var[64];     /* monitor_var("request_id") when it was seen */
    bool ae_valid;
    bool ae_time_ok; /* streaming since > 0 and not after the event */
};

struct att_run {
    struct event_base *ar_base;
    const char *ar_base_url;
    uint64_t ar_attempt; /* the attempt under way */
    struct att_event ar_ev[ATT_MAX_EVENTS];
    size_t ar_n;
    size_t ar_violations;
    size_t ar_prepare_failures; /* connect_failed "cannot prepare the request" */
    bool ar_done;
    bool ar_timed_out;
};

static char *att_strdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL) {
        fputs("monitor_attempts: out of memory\n", stderr);
        exit(1);
    }
    return d;
}

__attribute__((format(printf, 1, 0))) static char *att_vprintf(const char *fmt, va_list ap)
{
    char buf[512];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    return att_strdup(buf);
}

__attribute__((format(printf, 1, 2))) static char *att_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = att_vprintf(fmt, ap);
    va_end(ap);
    return s;
}

static int att_prepare(void *ctx, struct monitor *m, uint64_t attempt, struct monitor_attempt *out)
{
    struct att_run *r = ctx;
    (void)m;
    r->ar_attempt = attempt;
    if (attempt > ATT_LAST) {
        /* Seen through: the loop ends after this callback. */
        r->ar_done = true;
        event_base_loopbreak(r->ar_base);
        return 0;
    }
    if (attempt == 2) {
        /* What was filled is freed by the monitor even so. */
        out->ma_url = att_strdup("http://127.0.0.1:1/never");
        return -1;
    }
    if (attempt == ATT_LAST)
        return 0; /* the configured target and variables */
    out->ma_url = att_printf("%s/s/attempt-echo?request_id=att-%" PRIu64, r->ar_base_url, attempt);
    out->ma_headers = calloc(1, sizeof(char *));
    out->ma_vars = calloc(1, sizeof(*out->ma_vars));
    if (out->ma_headers == NULL || out->ma_vars == NULL)
        return -1;
    out->ma_headers[0] = att_printf("X-Attempt: %" PRIu64, attempt);
    out->ma_n_headers = 1;
    out->ma_vars[0].vv_name = att_strdup("request_id");
    out->ma_vars[0].vv_value = att_printf("att-%" PRIu64, attempt);
    out->ma_n_vars = 1;
    return 0;
}

static void att_member(const struct validator_seen *s, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    if (s->vsn_tape == NULL)
        return;
    size_t n = json_tape_object_get(s->vsn_tape, s->vsn_payload, key, strlen(key));
    if (n == JSON_TAPE_NONE || json_tape_type(s->vsn_tape, n) != JSON_TAPE_STRING)
        return;
    size_t len;
    const char *v = json_tape_string(s->vsn_tape, n, &len);
    snprintf(out, cap, "%.*s", (int)len, v);
}

static void att_on_event(void *ctx, struct monitor *m, uint64_t now_ms,
                         const struct validator_seen *s)
{
    struct att_run *r = ctx;
    if (r->ar_n >= ATT_MAX_EVENTS)
        return;
    struct att_event *e = &r->ar_ev[r->ar_n++];
    const char *var = monitor_var(m, "request_id");
    uint64_t since = monitor_streaming_since_ms(m);
    e->ae_attempt = r->ar_attempt;
    snprintf(e->ae_kind, sizeof(e->ae_kind), "%s", s->vsn_kind);
    att_member(s, "correlation_id", e->ae_cid, sizeof(e->ae_cid));
    att_member(s, "version", e->ae_version, sizeof(e->ae_version));
    snprintf(e->ae_var, sizeof(e->ae_var), "%s", var != NULL ? var : "");
    e->ae_valid = s->vsn_valid;
    e->ae_time_ok = since > 0 && since <= now_ms;
    printf("{\"attempt\": %" PRIu64 ", \"kind\": \"%s\", \"cid\": \"%s\", \"version\": \"%s\", "
           "\"var\": \"%s\", \"valid\": %s, \"time_ok\": %s}\n",
           e->ae_attempt, e->ae_kind, e->ae_cid, e->ae_version, e->ae_var,
           e->ae_valid ? "true" : "false", e->ae_time_ok ? "true" : "false");
}

static void att_on_violation(void *ctx, struct monitor *m, const struct violation *v)
{
    struct att_run *r = ctx;
    (void)m;
    r->ar_violations++;
    if (v->v_class == VIOLATION_CONNECT_FAILED &&
        strcmp(v->v_message, "cannot prepare the request") == 0)
        r->ar_prepare_failures++;
    printf("{\"violation\": \"%s\", \"message\": \"%s\"}\n", violation_class_name(v->v_class),
           v->v_message);
}

static void att_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct att_run *r = arg;
    (void)fd;
    (void)what;
    r->ar_timed_out = true;
    event_base_loopbreak(r->ar_base);
}

/* The events expected from one attempt's stream, in order. */
static bool att_check_attempt(const struct att_run *r, size_t *i, uint64_t attempt, const char *id,
                              const char *version)
{
    static const char *const kinds[] = {"connection_open", "version", "connection_close"};
    for (size_t k = 0; k < 3; k++, (*i)++) {
        if (*i >= r->ar_n)
            return false;
        const struct att_event *e = &r->ar_ev[*i];
        if (e->ae_attempt != attempt || strcmp(e->ae_kind, kinds[k]) != 0 ||
            strcmp(e->ae_cid, id) != 0 || strcmp(e->ae_var, id) != 0 || !e->ae_valid ||
            !e->ae_time_ok || (k == 1 && strcmp(e->ae_version, version) != 0))
            return false;
    }
    return true;
}

static int att_run(struct att_run *r, struct sub_engine *eng, const struct contract *c,
                   long timeout_s)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/s/attempt-echo?request_id=cfg", r->ar_base_url);
    static const char *const headers[] = {"X-Attempt: cfg"};
    static const struct validator_var vars[] = {{"request_id", "cfg"}};
    struct monitor_options o = {
        .mo_name = "attempts",
        .mo_display_url = "template: request_id=${uuid}",
        .mo_contract = c,
        .mo_val = {.vo_vars = vars, .vo_n_vars = 1, .vo_timing = true},
        .mo_healthy_window_ms = 1000,
        .mo_prepare = att_prepare,
        .mo_prepare_ctx = r,
    };
    sub_options_init(&o.mo_sub);
    o.mo_sub.so_url = url;
    o.mo_sub.so_headers = headers;
    o.mo_sub.so_nheaders = 1;
    o.mo_sub.so_backoff_min_ms = 10;
    o.mo_sub.so_backoff_max_ms = 50;
    const struct monitor_callbacks cbs = {
        .mc_on_violation = att_on_violation,
        .mc_on_event = att_on_event,
    };
    struct monitor *m = monitor_new(eng, r->ar_base, &o, &cbs, r);
    if (m == NULL || monitor_start(m) != 0) {
        fprintf(stderr, "monitor_attempts: cannot start the monitor: %s\n", strerror(errno));
        monitor_free(m);
        return 1;
    }
    struct event *timer = evtimer_new(r->ar_base, att_on_timeout, r);
    struct timeval tv = {.tv_sec = timeout_s, .tv_usec = 0};
    if (timer == NULL || evtimer_add(timer, &tv) != 0) {
        fputs("monitor_attempts: cannot arm the timeout\n", stderr);
        if (timer != NULL)
            event_free(timer);
        monitor_free(m);
        return 1;
    }
    event_base_dispatch(r->ar_base);
    event_free(timer);
    bool url_kept = strcmp(monitor_display_url(m), "template: request_id=${uuid}") == 0;
    monitor_stop(m);
    bool stopped = monitor_streaming_since_ms(m) == 0;
    monitor_free(m);

    size_t i = 0;
    bool events_ok = att_check_attempt(r, &i, 1, "att-1", "1") &&
                     att_check_attempt(r, &i, 3, "att-3", "3") &&
                     att_check_attempt(r, &i, 4, "cfg", "cfg") && i == r->ar_n;
    bool ok = r->ar_done && !r->ar_timed_out && events_ok && r->ar_violations == 1 &&
              r->ar_prepare_failures == 1 && url_kept && stopped;
    printf("{\"ok\": %s, \"events\": %zu, \"events_ok\": %s, \"violations\": %zu, "
           "\"prepare_failures\": %zu, \"timed_out\": %s}\n",
           ok ? "true" : "false", r->ar_n, events_ok ? "true" : "false", r->ar_violations,
           r->ar_prepare_failures, r->ar_timed_out ? "true" : "false");
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"base", required_argument, NULL, 'b'},
        {"contracts", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *base = NULL, *dir = NULL;
    long timeout_s = 30;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            base = optarg;
            break;
        case 'c':
            dir = optarg;
            break;
        case 't':
            timeout_s = strtol(optarg, NULL, 10);
            break;
        default:
            return 2;
        }
    }
    if (base == NULL || dir == NULL || optind != argc || timeout_s < 1 || timeout_s > 600) {
        fputs("usage: monitor_attempts --base URL --contracts DIR [--timeout S]\n", stderr);
        return 2;
    }
    struct contract_load_error err;
    struct contract *c = contract_load("version-stream", dir, &err);
    if (c == NULL) {
        fprintf(stderr, "monitor_attempts: cannot load the contract\n");
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("monitor_attempts: cannot initialise libcurl\n", stderr);
        contract_free(c);
        return 1;
    }
    struct att_run r;
    memset(&r, 0, sizeof(r));
    r.ar_base_url = base;
    r.ar_base = event_base_new();
    struct sub_engine *eng = r.ar_base != NULL ? sub_engine_new(r.ar_base) : NULL;
    int rc = 1;
    if (eng == NULL)
        fputs("monitor_attempts: out of memory\n", stderr);
    else
        rc = att_run(&r, eng, c, timeout_s);
    sub_engine_free(eng);
    if (r.ar_base != NULL)
        event_base_free(r.ar_base);
    contract_free(c);
    curl_global_cleanup();
    return rc;
}
