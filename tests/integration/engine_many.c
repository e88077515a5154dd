/*
 * engine_many: N concurrent subscriptions to one URL in one process, on one
 * engine. Checks that every subscription receives its events, and reports
 * the resident memory each open stream costs (benchmarks read that line).
 *
 * usage: engine_many --url URL [--count N] [--events M] [--timeout S]
 *                    [--reconnect] [--release stop|free|free-in-closed]
 * Every subscription must receive M events; then it is released from
 * inside its own on_event callback: stopped (default), freed, or stopped
 * and freed from the on_closed(stopped) that the stop delivers. The run
 * fails if any has not within S seconds, or if any connection fails while
 * --reconnect is off. Prints one JSON object on stdout; exits 0 on success,
 * 1 on failure, 2 on usage.
 */
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ssemon/io/subscription.h"

struct many_sub {
    struct many_run *ms_run;
    struct subscription *ms_sub;
    uint64_t ms_events;
    bool ms_open;
    bool ms_done;
};

enum many_release {
    MANY_RELEASE_STOP,
    MANY_RELEASE_FREE,
    MANY_RELEASE_FREE_IN_CLOSED,
};

struct many_run {
    struct event_base *mr_base;
    enum many_release mr_release;
    struct many_sub *mr_subs;
    size_t mr_count;
    uint64_t mr_events_each;
    size_t mr_done;
    size_t mr_open_now;
    size_t mr_open_peak;
    long mr_rss_peak_kb;
    uint64_t mr_failures;
    char mr_first_error[256];
    bool mr_timed_out;
};

static long many_rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0;
    long resident = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void many_finish_one(struct many_sub *m)
{
    struct many_run *r = m->ms_run;
    if (m->ms_done)
        return;
    m->ms_done = true;
    if (++r->mr_done == r->mr_count)
        event_base_loopbreak(r->mr_base);
}

static void many_on_open(void *ctx, struct subscription *s, const struct sub_open_info *info)
{
    (void)s;
    (void)info;
    struct many_sub *m = ctx;
    struct many_run *r = m->ms_run;
    m->ms_open = true;
    r->mr_open_now++;
    if (r->mr_open_now > r->mr_open_peak) {
        r->mr_open_peak = r->mr_open_now;
        /* Sampled at each new peak: the full set may be open only briefly. */
        r->mr_rss_peak_kb = many_rss_kb();
    }
}

static void many_on_event(void *ctx, struct subscription *s, const struct sse_event *ev)
{
    (void)ev;
    struct many_sub *m = ctx;
    if (++m->ms_events < m->ms_run->mr_events_each)
        return;
    /* From inside the callback on purpose: the engine must cope. */
    if (m->ms_run->mr_release == MANY_RELEASE_FREE) {
        subscription_free(s);
        m->ms_sub = NULL;
        m->ms_open = false;
        m->ms_run->mr_open_now--;
    } else {
        subscription_stop(s);
    }
    many_finish_one(m);
}

static void many_on_closed(void *ctx, struct subscription *s, const struct sub_closed_info *info)
{
    struct many_sub *m = ctx;
    struct many_run *r = m->ms_run;
    if (m->ms_open) {
        m->ms_open = false;
        r->mr_open_now--;
    }
    if (info->scl_reason == STREAM_CLOSE_STOPPED) {
        if (r->mr_release == MANY_RELEASE_FREE_IN_CLOSED) {
            subscription_free(s);
            m->ms_sub = NULL;
        }
        return;
    }
    r->mr_failures++;
    if (r->mr_first_error[0] == '\0')
        snprintf(r->mr_first_error, sizeof(r->mr_first_error), "%s: %s",
                 stream_close_reason_name(info->scl_reason), info->scl_error);
    if (!info->scl_will_retry)
        many_finish_one(m);
}

static void many_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct many_run *r = arg;
    r->mr_timed_out = true;
    event_base_loopbreak(r->mr_base);
}

static void many_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void many_usage(void)
{
    fputs("usage: engine_many --url URL [--count N] [--events M] [--timeout S] [--reconnect]\n"
          "                   [--release stop|free|free-in-closed]\n",
          stderr);
}

static int many_run_all(struct many_run *r, struct sub_engine *eng, const char *url, bool reconnect,
                        long timeout_s)
{
    static const struct sub_callbacks cbs = {
        .sc_on_open = many_on_open,
        .sc_on_event = many_on_event,
        .sc_on_closed = many_on_closed,
    };
    struct sub_options o;
    sub_options_init(&o);
    o.so_url = url;
    o.so_reconnect = reconnect;
    o.so_backoff_min_ms = 100;
    o.so_backoff_max_ms = 2000;
    o.so_connect_timeout_ms = (uint64_t)timeout_s * 1000;

    long rss_base = many_rss_kb();
    for (size_t i = 0; i < r->mr_count; i++) {
        struct many_sub *m = &r->mr_subs[i];
        m->ms_run = r;
        o.so_seed = i + 1;
        m->ms_sub = subscription_new(eng, &o, &cbs, m);
        if (m->ms_sub == NULL || subscription_start(m->ms_sub) != 0) {
            fprintf(stderr, "engine_many: subscription %zu: %s\n", i, strerror(errno));
            return 1;
        }
    }
    struct event *timer = evtimer_new(r->mr_base, many_on_timeout, r);
    struct timeval tv = {.tv_sec = timeout_s, .tv_usec = 0};
    if (timer == NULL || evtimer_add(timer, &tv) != 0) {
        fputs("engine_many: cannot arm the timeout\n", stderr);
        if (timer != NULL)
            event_free(timer);
        return 1;
    }
    event_base_dispatch(r->mr_base);
    event_free(timer);

    size_t short_subs = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < r->mr_count; i++) {
        total += r->mr_subs[i].ms_events;
        if (r->mr_subs[i].ms_events < r->mr_events_each)
            short_subs++;
    }
    long per_sub = 0;
    if (r->mr_open_peak > 0 && r->mr_rss_peak_kb > rss_base)
        per_sub = (r->mr_rss_peak_kb - rss_base) * 1024 / (long)r->mr_open_peak;
    printf("{\"subscriptions\": %zu, \"events\": %" PRIu64 ", \"short\": %zu, "
           "\"failures\": %" PRIu64 ", \"peak_open\": %zu, \"timed_out\": %s, "
           "\"rss_base_kb\": %ld, \"rss_peak_kb\": %ld, \"rss_per_sub_bytes\": %ld}\n",
           r->mr_count, total, short_subs, r->mr_failures, r->mr_open_peak,
           r->mr_timed_out ? "true" : "false", rss_base, r->mr_rss_peak_kb, per_sub);
    if (r->mr_first_error[0] != '\0')
        fprintf(stderr, "engine_many: first failure: %s\n", r->mr_first_error);
    bool ok = short_subs == 0 && !r->mr_timed_out && (reconnect || r->mr_failures == 0);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},
        {"count", required_argument, NULL, 'n'},
        {"events", required_argument, NULL, 'e'},
        {"timeout", required_argument, NULL, 't'},
        {"reconnect", no_argument, NULL, 'r'},
        {"release", required_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL;
    long count = 1000;
    long events = 3;
    long timeout_s = 60;
    bool reconnect = false;
    enum many_release release = MANY_RELEASE_STOP;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'n':
            count = strtol(optarg, NULL, 10);
            break;
        case 'e':
            events = strtol(optarg, NULL, 10);
            break;
        case 't':
            timeout_s = strtol(optarg, NULL, 10);
            break;
        case 'r':
            reconnect = true;
            break;
        case 'R':
            if (strcmp(optarg, "stop") == 0) {
                release = MANY_RELEASE_STOP;
            } else if (strcmp(optarg, "free") == 0) {
                release = MANY_RELEASE_FREE;
            } else if (strcmp(optarg, "free-in-closed") == 0) {
                release = MANY_RELEASE_FREE_IN_CLOSED;
            } else {
                many_usage();
                return 2;
            }
            break;
        default:
            many_usage();
            return 2;
        }
    }
    if (url == NULL || optind != argc || count < 1 || count > 100000 || events < 1 ||
        timeout_s < 1 || timeout_s > 3600) {
        many_usage();
        return 2;
    }
    many_raise_nofile();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("engine_many: cannot initialise libcurl\n", stderr);
        return 1;
    }
    struct many_run r;
    memset(&r, 0, sizeof(r));
    r.mr_count = (size_t)count;
    r.mr_events_each = (uint64_t)events;
    r.mr_release = release;
    r.mr_subs = calloc(r.mr_count, sizeof(*r.mr_subs));
    r.mr_base = event_base_new();
    struct sub_engine *eng = r.mr_base != NULL ? sub_engine_new(r.mr_base) : NULL;
    int rc = 1;
    if (r.mr_subs == NULL || eng == NULL)
        fputs("engine_many: out of memory\n", stderr);
    else
        rc = many_run_all(&r, eng, url, reconnect, timeout_s);
    if (r.mr_subs != NULL) {
        for (size_t i = 0; i < r.mr_count; i++)
            subscription_free(r.mr_subs[i].ms_sub);
    }
    sub_engine_free(eng);
    if (r.mr_base != NULL)
        event_base_free(r.mr_base);
    free(r.mr_subs);
    curl_global_cleanup();
    return rc;
}
