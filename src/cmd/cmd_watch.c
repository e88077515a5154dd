/*
 * ssemon watch: one live subscription, printed as NDJSON (events,
 * connection changes, retry fields, anomalies), one flushed line each so
 * the output can be piped into jq as it happens.
 */
#include "ssemon/base/clock.h"
#include "ssemon/cmd/cli.h"
#include "ssemon/cmd/cmd.h"
#include "ssemon/core/http_header.h"
#include "ssemon/core/recording.h"
#include "ssemon/io/deadline.h"
#include "ssemon/io/subscription.h"
#include "ssemon/json/json_writer.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WATCH_MAX_REDIRECTS 50L
#define WATCH_MAX_HEADERS 64

struct watch_run {
    struct event_base *wr_base;
    struct subscription *wr_sub;
    struct json_writer wr_out;
    bool wr_comments;
    uint64_t wr_max_events; /* 0 = unlimited */
    uint64_t wr_events;
    bool wr_done;
    int wr_exit;
    /* --record: the file (owned; NULL when not recording or after a write
     * error), its name, and the monotonic time its "t" counts from. */
    FILE *wr_rec;
    const char *wr_rec_name;
    struct json_writer wr_rec_out;
    uint64_t wr_rec_base_ms;
};

static void watch_usage(FILE *f)
{
    fputs("usage: ssemon watch [options] URL\n"
          "Subscribes to an SSE URL and prints one JSON object per line: each event\n"
          "{\"t\", \"type\", \"data\", \"id\"}, each connection change {\"t\", \"connection\", "
          "...},\n"
          "retry fields {\"t\", \"retry\"} and parser anomalies {\"t\", \"anomaly\", \"line\"}.\n"
          "  --header 'K: V'         add a request header (repeatable)\n"
          "  --max-events N          exit after N events\n"
          "  --duration S            exit after S seconds (fractions allowed)\n"
          "  --idle-timeout S        reconnect when no byte arrives for S seconds (0 = off)\n"
          "  --connect-timeout S     limit for connecting and receiving headers (default 10)\n"
          "  --no-reconnect          one connection only; exit when it ends\n"
          "  --last-event-id ID      send Last-Event-ID: ID on the first connection\n"
          "  --max-redirects N       redirects to follow (default 5, 0 = none)\n" CLI_TRANSPORT_HELP
          "  --comments              also print {\"t\", \"comment\"} for comment lines\n"
          "  --record FILE           also write every chunk, open and close to FILE, for\n"
          "                          'ssemon check FILE' (format: docs/recording.md)\n"
          "  -h, --help              show this help\n"
          "Exit status: 0 when stopped by --max-events, --duration, SIGINT or SIGTERM, or\n"
          "when a --no-reconnect stream ends cleanly; 1 when a --no-reconnect connection\n"
          "fails or on a runtime error; 2 on a usage error.\n",
          f);
}

/* ---- output ---- */

static void watch_finish(struct watch_run *r, int code)
{
    if (r->wr_done)
        return;
    r->wr_done = true;
    r->wr_exit = code;
    subscription_stop(r->wr_sub);
    event_base_loopbreak(r->wr_base);
}

/* The wall-clock time now, RFC 3339 UTC with milliseconds. */
static void watch_stamp(char *stamp, size_t size)
{
    char buf[CLOCK_RFC3339_SIZE];
    clock_rfc3339(clock_wall_ms(), buf);
    snprintf(stamp, size, "%s", buf);
}

static void watch_line_begin(struct watch_run *r)
{
    char stamp[64];
    watch_stamp(stamp, sizeof(stamp));
    json_writer_reset(&r->wr_out);
    json_writer_object_begin(&r->wr_out);
    json_writer_key(&r->wr_out, "t");
    json_writer_cstring(&r->wr_out, stamp);
}

static void watch_line_end(struct watch_run *r)
{
    struct json_writer *w = &r->wr_out;
    json_writer_object_end(w);
    json_writer_append(w, "\n", 1);
    if (json_writer_failed(w)) {
        fputs("ssemon watch: out of memory formatting output\n", stderr);
        watch_finish(r, 1);
        return;
    }
    size_t len;
    const char *text = json_writer_text(w, &len);
    if (fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0)
        return;
    /* A reader that went away (`| head`) ends the watch quietly. */
    if (errno == EPIPE) {
        watch_finish(r, 0);
        return;
    }
    fprintf(stderr, "ssemon watch: cannot write output: %s\n", strerror(errno));
    watch_finish(r, 1);
}

/* Appends one record to the --record file, flushed at once so that a
 * watch stopped by any means leaves every line it saw. A write error ends
 * the watch (exit 1): a recording with a hole would mislead a replay. */
static void watch_record(struct watch_run *r, struct recording_record *rec)
{
    if (r->wr_rec == NULL)
        return;
    if (rec->rr_kind != RECORDING_HEADER)
        rec->rr_t_ms = clock_mono_ms() - r->wr_rec_base_ms;
    struct json_writer *w = &r->wr_rec_out;
    json_writer_reset(w);
    recording_encode(w, rec);
    size_t len;
    const char *text = json_writer_text(w, &len);
    const char *why = NULL;
    if (json_writer_failed(w))
        why = "out of memory";
    else if (fwrite(text, 1, len, r->wr_rec) != len || fflush(r->wr_rec) != 0)
        why = strerror(errno);
    if (why == NULL)
        return;
    fprintf(stderr, "ssemon watch: --record %s: %s\n", r->wr_rec_name, why);
    fclose(r->wr_rec);
    r->wr_rec = NULL;
    /* Before the loop exists (the header) the caller reports the failure. */
    if (r->wr_base != NULL)
        watch_finish(r, 1);
}

static void watch_on_chunk(void *ctx, struct subscription *s, const void *buf, size_t len)
{
    (void)s;
    struct watch_run *r = ctx;
    struct recording_record rec = {.rr_kind = RECORDING_CHUNK, .rr_data = buf, .rr_len = len};
    watch_record(r, &rec);
}

static void watch_on_connecting(void *ctx, struct subscription *s,
                                const struct sub_connecting_info *info)
{
    (void)s;
    struct watch_run *r = ctx;
    struct json_writer *w = &r->wr_out;
    watch_line_begin(r);
    json_writer_key(w, "connection");
    json_writer_cstring(w, "connecting");
    json_writer_key(w, "attempt");
    json_writer_uint(w, info->sci_attempt);
    if (info->sci_last_event_id_len > 0) {
        json_writer_key(w, "last_event_id");
        json_writer_string(w, info->sci_last_event_id, info->sci_last_event_id_len);
    }
    watch_line_end(r);
    struct recording_record rec = {
        .rr_kind = RECORDING_CONNECTING,
        .rr_attempt = info->sci_attempt,
        .rr_last_event_id = info->sci_last_event_id,
    };
    watch_record(r, &rec);
}

static void watch_on_open(void *ctx, struct subscription *s, const struct sub_open_info *info)
{
    (void)s;
    struct watch_run *r = ctx;
    struct json_writer *w = &r->wr_out;
    watch_line_begin(r);
    json_writer_key(w, "connection");
    json_writer_cstring(w, "open");
    json_writer_key(w, "status");
    json_writer_int(w, info->soi_status);
    json_writer_key(w, "content_type");
    json_writer_cstring(w, info->soi_content_type);
    json_writer_key(w, "ms_to_headers");
    json_writer_uint(w, info->soi_ms_to_headers);
    watch_line_end(r);
    if (r->wr_rec == NULL)
        return;
    struct recording_field fields[SUB_MAX_LISTED_HEADERS];
    size_t n =
        info->soi_nheaders < SUB_MAX_LISTED_HEADERS ? info->soi_nheaders : SUB_MAX_LISTED_HEADERS;
    for (size_t i = 0; i < n; i++) {
        fields[i].rf_name = info->soi_headers[i].sh_name;
        fields[i].rf_name_len = info->soi_headers[i].sh_name_len;
        fields[i].rf_value = info->soi_headers[i].sh_value;
        fields[i].rf_value_len = info->soi_headers[i].sh_value_len;
    }
    struct recording_record rec = {
        .rr_kind = RECORDING_OPEN,
        .rr_status = info->soi_status,
        .rr_content_type = info->soi_content_type,
        .rr_headers = fields,
        .rr_n_headers = n,
        .rr_ms_to_headers = info->soi_ms_to_headers,
    };
    watch_record(r, &rec);
}

static void watch_on_event(void *ctx, struct subscription *s, const struct sse_event *ev)
{
    (void)s;
    struct watch_run *r = ctx;
    struct json_writer *w = &r->wr_out;
    watch_line_begin(r);
    json_writer_key(w, "type");
    json_writer_string(w, ev->type, ev->type_len);
    json_writer_key(w, "data");
    json_writer_string(w, ev->data, ev->data_len);
    json_writer_key(w, "id");
    json_writer_string(w, ev->id, ev->id_len);
    watch_line_end(r);
    r->wr_events++;
    if (r->wr_max_events != 0 && r->wr_events >= r->wr_max_events)
        watch_finish(r, 0);
}

static void watch_on_comment(void *ctx, struct subscription *s, const char *text, size_t len)
{
    (void)s;
    struct watch_run *r = ctx;
    if (!r->wr_comments)
        return;
    watch_line_begin(r);
    json_writer_key(&r->wr_out, "comment");
    json_writer_string(&r->wr_out, text, len);
    watch_line_end(r);
}

static void watch_on_retry(void *ctx, struct subscription *s, uint64_t ms)
{
    (void)s;
    struct watch_run *r = ctx;
    watch_line_begin(r);
    json_writer_key(&r->wr_out, "retry");
    json_writer_uint(&r->wr_out, ms);
    watch_line_end(r);
}

static void watch_on_anomaly(void *ctx, struct subscription *s, enum sse_anomaly kind,
                             const char *line, size_t len)
{
    (void)s;
    struct watch_run *r = ctx;
    watch_line_begin(r);
    json_writer_key(&r->wr_out, "anomaly");
    json_writer_cstring(&r->wr_out, sse_anomaly_name(kind));
    json_writer_key(&r->wr_out, "line");
    json_writer_string(&r->wr_out, line, len);
    watch_line_end(r);
}

static void watch_on_closed(void *ctx, struct subscription *s, const struct sub_closed_info *info)
{
    (void)s;
    struct watch_run *r = ctx;
    struct json_writer *w = &r->wr_out;
    watch_line_begin(r);
    json_writer_key(w, "connection");
    json_writer_cstring(w, "closed");
    json_writer_key(w, "reason");
    json_writer_cstring(w, stream_close_reason_name(info->scl_reason));
    if (info->scl_error[0] != '\0') {
        json_writer_key(w, "error");
        json_writer_cstring(w, info->scl_error);
    }
    if (info->scl_reason == STREAM_CLOSE_HTTP_STATUS && info->scl_status != 0) {
        json_writer_key(w, "status");
        json_writer_int(w, info->scl_status);
    }
    if (info->scl_reason == STREAM_CLOSE_CONTENT_TYPE) {
        json_writer_key(w, "content_type");
        json_writer_cstring(w, info->scl_content_type);
    }
    json_writer_key(w, "reconnect_in_ms");
    if (info->scl_will_retry)
        json_writer_uint(w, info->scl_retry_in_ms);
    else
        json_writer_null(w);
    watch_line_end(r);
    struct recording_record rec = {
        .rr_kind = RECORDING_CLOSED,
        .rr_reason = info->scl_reason,
        .rr_error = info->scl_error,
        .rr_status = info->scl_status,
        .rr_content_type = info->scl_content_type,
        .rr_before_headers = info->scl_before_headers,
    };
    watch_record(r, &rec);
    if (!info->scl_will_retry) {
        bool clean =
            info->scl_reason == STREAM_CLOSE_EOF || info->scl_reason == STREAM_CLOSE_STOPPED;
        watch_finish(r, clean ? 0 : 1);
    }
}

static void watch_on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    watch_finish(arg, 0);
}

static void watch_on_duration(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    watch_finish(arg, 0);
}

/* ---- arguments ---- */

enum watch_opt {
    WATCH_OPT_HEADER = 256,
    WATCH_OPT_MAX_EVENTS,
    WATCH_OPT_DURATION,
    WATCH_OPT_IDLE,
    WATCH_OPT_CONNECT,
    WATCH_OPT_NO_RECONNECT,
    WATCH_OPT_LAST_ID,
    WATCH_OPT_MAX_REDIRECTS,
    WATCH_OPT_COMMENTS,
    WATCH_OPT_RECORD,
};

static const struct option watch_options[] = {
    {"header", required_argument, NULL, WATCH_OPT_HEADER},
    {"max-events", required_argument, NULL, WATCH_OPT_MAX_EVENTS},
    {"duration", required_argument, NULL, WATCH_OPT_DURATION},
    {"idle-timeout", required_argument, NULL, WATCH_OPT_IDLE},
    {"connect-timeout", required_argument, NULL, WATCH_OPT_CONNECT},
    {"no-reconnect", no_argument, NULL, WATCH_OPT_NO_RECONNECT},
    {"last-event-id", required_argument, NULL, WATCH_OPT_LAST_ID},
    {"max-redirects", required_argument, NULL, WATCH_OPT_MAX_REDIRECTS},
    CLI_TRANSPORT_OPTIONS,
    {"comments", no_argument, NULL, WATCH_OPT_COMMENTS},
    {"record", required_argument, NULL, WATCH_OPT_RECORD},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct watch_args {
    struct sub_options wa_sub;
    const char *wa_headers[WATCH_MAX_HEADERS];
    uint64_t wa_duration_ms; /* 0 = unlimited */
    uint64_t wa_max_events;
    bool wa_comments;
    bool wa_help;
    const char *wa_record; /* --record FILE, or NULL */
};

/* Returns 0, or 2 after printing a usage error. */
static int watch_parse_args(int argc, char **argv, struct watch_args *a)
{
    struct sub_options *o = &a->wa_sub;
    struct cli_transport tr = {0};
    long n;
    int c;
    optind = 0; /* full re-initialisation: another command may have used getopt */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", watch_options, NULL)) != -1) {
        const char *why = NULL;
        switch (c) {
        case 'h':
            a->wa_help = true;
            return 0;
        case WATCH_OPT_HEADER: {
            enum cli_header h = cli_header_arg(optarg, &why);
            if (h == CLI_HEADER_INVALID)
                return cli_usage_error("watch", "--header '%s': %s", optarg, why);
            if (h == CLI_HEADER_LAST_EVENT_ID)
                return cli_usage_error("watch", "use --last-event-id instead of --header '%s'",
                                       optarg);
            if (o->so_nheaders >= WATCH_MAX_HEADERS)
                return cli_usage_error("watch", "too many --header options (at most %d)",
                                       WATCH_MAX_HEADERS);
            a->wa_headers[o->so_nheaders++] = optarg;
            break;
        }
        case WATCH_OPT_MAX_EVENTS:
            if (!cli_count(optarg, 1, LONG_MAX, &n))
                return cli_usage_error("watch", "--max-events wants a positive integer, not '%s'",
                                       optarg);
            a->wa_max_events = (uint64_t)n;
            break;
        case WATCH_OPT_DURATION:
            if (!cli_seconds(optarg, false, &a->wa_duration_ms))
                return cli_usage_error("watch", "--duration wants positive seconds, not '%s'",
                                       optarg);
            break;
        case WATCH_OPT_IDLE:
            if (!cli_seconds(optarg, true, &o->so_idle_timeout_ms))
                return cli_usage_error("watch", "--idle-timeout wants seconds (0 = off), not '%s'",
                                       optarg);
            break;
        case WATCH_OPT_CONNECT:
            if (!cli_seconds(optarg, false, &o->so_connect_timeout_ms))
                return cli_usage_error(
                    "watch", "--connect-timeout wants positive seconds, not '%s'", optarg);
            break;
        case WATCH_OPT_NO_RECONNECT:
            o->so_reconnect = false;
            break;
        case WATCH_OPT_LAST_ID:
            if (strpbrk(optarg, "\r\n") != NULL)
                return cli_usage_error("watch", "--last-event-id must not contain CR or LF");
            o->so_last_event_id = optarg;
            break;
        case WATCH_OPT_MAX_REDIRECTS:
            if (!cli_count(optarg, 0, WATCH_MAX_REDIRECTS, &n))
                return cli_usage_error("watch", "--max-redirects wants 0 to 50, not '%s'", optarg);
            o->so_max_redirects = n;
            break;
        case WATCH_OPT_COMMENTS:
            a->wa_comments = true;
            break;
        case WATCH_OPT_RECORD:
            a->wa_record = optarg;
            break;
        case ':':
            return cli_usage_error("watch", "option '%s' needs an argument", argv[optind - 1]);
        default: {
            int rc = cli_transport_arg("watch", c, optarg, &tr);
            if (rc == 2)
                return rc;
            if (rc < 0)
                return cli_usage_error("watch", "unknown option '%s'", argv[optind - 1]);
            break;
        }
        }
    }
    if (cli_transport_finish("watch", &tr) != 0)
        return 2;
    cli_transport_apply(&tr, o);
    if (optind != argc - 1)
        return cli_usage_error("watch", "expected exactly one URL");
    if (!cli_url_ok(argv[optind]))
        return cli_usage_error("watch", "'%s' is not an http:// or https:// URL", argv[optind]);
    o->so_url = argv[optind];
    o->so_headers = a->wa_headers;
    return 0;
}

/* ---- run ---- */

static int watch_run_loop(struct watch_run *r, struct sub_engine *eng, const struct watch_args *a)
{
    static const struct sub_callbacks cbs = {
        .sc_on_connecting = watch_on_connecting,
        .sc_on_open = watch_on_open,
        .sc_on_event = watch_on_event,
        .sc_on_comment = watch_on_comment,
        .sc_on_retry = watch_on_retry,
        .sc_on_anomaly = watch_on_anomaly,
        .sc_on_closed = watch_on_closed,
        .sc_on_chunk = watch_on_chunk,
    };
    struct event *sigint = evsignal_new(r->wr_base, SIGINT, watch_on_signal, r);
    struct event *sigterm = evsignal_new(r->wr_base, SIGTERM, watch_on_signal, r);
    struct event *timer = evtimer_new(r->wr_base, watch_on_duration, r);
    int rc = 1;
    if (sigint == NULL || sigterm == NULL || timer == NULL || evsignal_add(sigint, NULL) != 0 ||
        evsignal_add(sigterm, NULL) != 0) {
        fputs("ssemon watch: cannot set up the event loop\n", stderr);
        goto out;
    }
    if (a->wa_duration_ms != 0) {
        struct timeval tv = {
            .tv_sec = (time_t)(a->wa_duration_ms / 1000),
            .tv_usec = (suseconds_t)(a->wa_duration_ms % 1000) * 1000,
        };
        if (evtimer_add(timer, &tv) != 0) {
            fputs("ssemon watch: cannot arm the duration timer\n", stderr);
            goto out;
        }
    }
    r->wr_sub = subscription_new(eng, &a->wa_sub, &cbs, r);
    if (r->wr_sub == NULL) {
        fprintf(stderr, "ssemon watch: cannot create the subscription: %s\n", strerror(errno));
        goto out;
    }
    if (subscription_start(r->wr_sub) != 0) {
        fputs("ssemon watch: cannot start the subscription\n", stderr);
        goto out;
    }
    event_base_dispatch(r->wr_base);
    rc = r->wr_exit;
out:
    cli_hold_stop_signals();
    subscription_free(r->wr_sub);
    r->wr_sub = NULL;
    if (timer != NULL)
        event_free(timer);
    if (sigterm != NULL)
        event_free(sigterm);
    if (sigint != NULL)
        event_free(sigint);
    return rc;
}

/* Creates the --record file and writes its header. Returns 0, or -1 after
 * a message (a usage error: nothing was subscribed yet). */
static int watch_record_open(struct watch_run *r, const struct watch_args *a)
{
    char stamp[64];
    char *url = http_header_redact_url(a->wa_sub.so_url);
    if (url == NULL) {
        fputs("ssemon watch: out of memory\n", stderr);
        return -1;
    }
    r->wr_rec_name = a->wa_record;
    r->wr_rec = fopen(a->wa_record, "we");
    if (r->wr_rec == NULL) {
        fprintf(stderr, "ssemon watch: --record %s: %s\n", a->wa_record, strerror(errno));
        free(url);
        return -1;
    }
    r->wr_rec_base_ms = clock_mono_ms();
    watch_stamp(stamp, sizeof(stamp));
    struct recording_record rec = {
        .rr_kind = RECORDING_HEADER,
        .rr_version = RECORDING_VERSION,
        .rr_url = url,
        .rr_started = stamp,
    };
    watch_record(r, &rec);
    free(url);
    return r->wr_rec != NULL ? 0 : -1;
}

int cmd_watch(int argc, char **argv)
{
    struct watch_args a;
    memset(&a, 0, sizeof(a));
    sub_options_init(&a.wa_sub);
    int rc = watch_parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.wa_help) {
        watch_usage(stdout);
        return 0;
    }
    /* A closed stdout must surface as EPIPE from fwrite, not kill us. */
    signal(SIGPIPE, SIG_IGN);

    struct watch_run r;
    memset(&r, 0, sizeof(r));
    json_writer_init(&r.wr_out);
    json_writer_init(&r.wr_rec_out);
    if (a.wa_record != NULL && watch_record_open(&r, &a) != 0) {
        json_writer_free(&r.wr_out);
        json_writer_free(&r.wr_rec_out);
        return 2;
    }
    r.wr_comments = a.wa_comments;
    r.wr_max_events = a.wa_max_events;
    r.wr_base = event_base_new();
    struct sub_engine *eng = r.wr_base != NULL ? sub_engine_new(r.wr_base) : NULL;
    if (eng == NULL) {
        fputs("ssemon watch: cannot create the event loop\n", stderr);
        rc = 1;
    } else {
        rc = watch_run_loop(&r, eng, &a);
    }
    sub_engine_free(eng);
    if (r.wr_base != NULL)
        event_base_free(r.wr_base);
    if (r.wr_rec != NULL && fclose(r.wr_rec) != 0) {
        fprintf(stderr, "ssemon watch: --record %s: %s\n", r.wr_rec_name, strerror(errno));
        rc = 1;
    }
    json_writer_free(&r.wr_out);
    json_writer_free(&r.wr_rec_out);
    return rc;
}
