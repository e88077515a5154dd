/*
 * ssemon check: judges one stream against a contract and prints each
 * violation as an NDJSON line, then a summary. The stream comes from a
 * live URL (one connection, timers armed at the validator's deadlines),
 * from a file of raw stream bytes (no time rules), or from a recording made
 * by `ssemon watch --record` (replayed in virtual time, so heartbeat and
 * first-event rules are judged offline and deterministically), or from a
 * subscription of the configuration (-c FILE --subscription NAME), whose
 * URL, headers, vars, TLS and proxy settings, contract and heartbeat
 * settings are taken through monitor_setup, as the daemon takes them.
 * docs/check.md is the user's reference.
 */
#include "ssemon/base/clock.h"
#include "ssemon/cmd/cli.h"
#include "ssemon/cmd/cmd.h"
#include "ssemon/cmd/monitor_setup.h"
#include "ssemon/config/config.h"
#include "ssemon/config/contract_load.h"
#include "ssemon/core/contract.h"
#include "ssemon/core/recording.h"
#include "ssemon/core/sse_parser.h"
#include "ssemon/core/validator.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/deadline.h"
#include "ssemon/io/judge.h"
#include "ssemon/io/monitor.h"
#include "ssemon/io/subscription.h"
#include "ssemon/json/json_writer.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After the contract's final state, the server must end the stream; an
 * event it still sends within this grace is judged (event after close). */
#define CHECK_GRACE_MS 1000u
#define CHECK_MAX_HEADERS 64
#define CHECK_MAX_VARS 64
#define CHECK_READ_SIZE ((size_t)64 << 10)

enum check_source {
    CHECK_SOURCE_URL = 0,
    CHECK_SOURCE_FILE, /* raw stream bytes, or a recording, told by the first line */
};

struct check_args {
    const char *ca_contract;
    const char *ca_contracts_dir;
    struct validator_var ca_vars[CHECK_MAX_VARS];
    size_t ca_n_vars;
    const char *ca_headers[CHECK_MAX_HEADERS];
    size_t ca_n_headers;
    uint64_t ca_hb_interval_ms; /* 0: the contract's */
    uint64_t ca_max_ms;         /* 0: no limit */
    bool ca_lenient;
    bool ca_help;
    const char *ca_source;
    enum check_source ca_kind;
    struct cli_transport ca_transport;
    bool ca_judging_flags; /* --contract, --var, --header, ... (not with --subscription) */

    /* A configured subscription (-c FILE --subscription NAME): judged as the
     * daemon judges it, through monitor_setup. */
    const char *ca_config_path; /* NULL: none given */
    const char *ca_subscription;
    const struct config_subscription *ca_cs;
    struct monitor_options ca_mo;      /* its options, pointing into the configuration */
    struct monitor_attempt ca_attempt; /* a per-attempt subscription's one attempt */
};

/* Why a live check stopped the subscription itself. */
enum check_stop {
    CHECK_STOP_NONE = 0,
    CHECK_STOP_GRACE,
    CHECK_STOP_LIMIT,
    CHECK_STOP_SIGNAL,
};

struct check_run {
    const struct check_args *cr_args;
    const struct contract *cr_contract;
    struct judge *cr_judge;
    struct json_writer cr_out;
    uint64_t cr_start_ms; /* the validator clock at t = 0 */
    uint64_t cr_now_ms;   /* replay: the time of the record being replayed */
    uint64_t cr_violations;
    bool cr_failed;    /* an error-severity violation */
    bool cr_fatal;     /* out of memory or output error: exit 2 */
    bool cr_abandoned; /* replay: the grace passed with the stream still open */

    /* Live only. */
    struct event_base *cr_base;
    struct subscription *cr_sub;
    struct deadline cr_grace; /* end of the grace after the final state */
    struct deadline cr_limit; /* --max-duration */
    enum check_stop cr_stop;
    bool cr_done;
};

static void check_usage(FILE *f, const char *contracts_dir)
{
    fputs("usage: ssemon check --contract NAME|PATH [options] SOURCE\n"
          "       ssemon check [-c FILE] --subscription NAME [--max-duration S]\n"
          "Validates one stream against a contract and prints one JSON line per\n"
          "violation {\"class\", \"severity\", \"message\", \"event\", \"state\", \"excerpt\", "
          "\"t\"},\n"
          "then {\"events\", \"violations\", \"result\"}. SOURCE is an http:// or https:// URL\n"
          "(one connection), a file of raw stream bytes or '-' for stdin (no time rules),\n"
          "or a recording made by 'ssemon watch --record' (replayed in virtual time).\n"
          "  --contract NAME|PATH    the contract (NAME.json on the search path, or a file)\n"
          "  --contracts-dir DIR     search DIR first for contract names\n"
          "  --var NAME=VALUE        bind a contract variable (repeatable)\n"
          "  --heartbeat-interval S  expected heartbeat interval in seconds (fractions ok)\n"
          "  --strict                sse_syntax and unknown_event are errors (default)\n"
          "  --lenient               sse_syntax and unknown_event are warnings\n"
          "  --max-duration S        stop after S seconds (a URL or a recording)\n"
          "  --header 'K: V'         add a request header (a URL; repeatable)\n" CLI_TRANSPORT_HELP
          "  -c, --config FILE       with --subscription: the configuration (default\n"
          "                          " CONFIG_DEFAULT_PATH ")\n"
          "  --subscription NAME     one connection to the configured subscription NAME,\n"
          "                          judged as the daemon judges it (its URL, headers,\n"
          "                          vars, TLS and proxy settings, contract, heartbeat)\n"
          "  -h, --help              show this help\n"
          "Exit status: 0 when no violation is an error, 1 when one is, 2 on a usage,\n"
          "source or contract error.\n",
          f);
    struct contract_load_entry *list = NULL;
    size_t n = 0;
    if (contract_load_list(contracts_dir, &list, &n) != 0 || n == 0)
        return;
    fputs("contracts:\n", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %s\n", list[i].cen_name);
    contract_load_list_free(list, n);
}

/* ---- output ---- */

static void check_write(struct check_run *r)
{
    struct json_writer *w = &r->cr_out;
    json_writer_append(w, "\n", 1);
    if (json_writer_failed(w)) {
        if (!r->cr_fatal)
            fputs("ssemon check: out of memory formatting output\n", stderr);
        r->cr_fatal = true;
    } else {
        size_t len;
        const char *text = json_writer_text(w, &len);
        if ((fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) && !r->cr_fatal) {
            fprintf(stderr, "ssemon check: cannot write output: %s\n", strerror(errno));
            r->cr_fatal = true;
        }
    }
    json_writer_reset(w);
}

static void check_on_violation(void *ctx, const struct violation *v)
{
    struct check_run *r = ctx;
    struct json_writer *w = &r->cr_out;
    uint64_t t = v->v_time_ms >= r->cr_start_ms ? v->v_time_ms - r->cr_start_ms : 0;

    r->cr_violations++;
    if (v->v_severity == VIOLATION_ERROR)
        r->cr_failed = true;
    json_writer_object_begin(w);
    cli_violation_fields(w, v, t);
    json_writer_object_end(w);
    check_write(r);
}

static void check_summary(struct check_run *r)
{
    struct json_writer *w = &r->cr_out;
    json_writer_object_begin(w);
    json_writer_key(w, "events");
    json_writer_uint(w, validator_stats(judge_validator(r->cr_judge))->vs_events);
    json_writer_key(w, "violations");
    json_writer_uint(w, r->cr_violations);
    json_writer_key(w, "result");
    json_writer_cstring(w, r->cr_failed ? "fail" : "pass");
    json_writer_object_end(w);
    check_write(r);
}

/* ---- the stream's facts, whatever the source ---- */

static void check_out_of_memory(struct check_run *r)
{
    fputs("ssemon check: out of memory\n", stderr);
    r->cr_fatal = true;
}

/* The end of a connection. A stream the check itself stopped (time limit,
 * grace, signal, end of a recording) is not judged for its end; one stopped
 * before its response is reported, in the check's own words. */
static void check_closed(struct check_run *r, uint64_t now_ms, const struct sub_closed_info *info)
{
    struct sub_closed_info stopped;
    if (r->cr_abandoned) {
        /* The live check would already have stopped the stream itself. */
        stopped = *info;
        stopped.scl_reason = STREAM_CLOSE_STOPPED;
        info = &stopped;
    }
    judge_close(r->cr_judge, now_ms, info,
                r->cr_stop == CHECK_STOP_SIGNAL
                    ? "interrupted before the response headers arrived"
                    : "no response headers before the end of the check (--max-duration)");
    r->cr_abandoned = false;
}

static void check_on_timer_error(void *ctx);

/* Timing is on for a URL and a recording (both have a clock), off for raw
 * bytes, so the judge is made once the source's kind is known. `base`: the
 * live check's loop, NULL for a file. */
static int check_judge(struct check_run *r, bool timing, struct event_base *base)
{
    const struct check_args *a = r->cr_args;
    struct judge_options jo = {
        .jo_contract = r->cr_contract,
        .jo_val =
            {
                .vo_vars = a->ca_vars,
                .vo_n_vars = a->ca_n_vars,
                .vo_hb_interval_ms = a->ca_hb_interval_ms,
                .vo_lenient = a->ca_lenient,
                .vo_timing = timing,
            },
        .jo_base = base,
    };
    if (a->ca_cs != NULL) {
        /* The daemon's validator options, and its attempt's vars over them. */
        jo.jo_val = a->ca_mo.mo_val;
        jo.jo_val.vo_timing = timing;
    }
    const struct judge_callbacks cb = {
        .jc_on_violation = check_on_violation,
        .jc_on_timer_error = check_on_timer_error,
    };
    r->cr_judge = judge_new(&jo, &cb, r);
    if (r->cr_judge == NULL ||
        (a->ca_attempt.ma_n_vars > 0 &&
         judge_set_vars(r->cr_judge, a->ca_attempt.ma_vars, a->ca_attempt.ma_n_vars) != 0)) {
        check_out_of_memory(r);
        return -1;
    }
    return 0;
}

/* ---- live: one subscription ---- */

static uint64_t check_live_now(void)
{
    return clock_mono_ms();
}

static void check_live_stop(struct check_run *r, enum check_stop why)
{
    if (r->cr_done)
        return;
    r->cr_done = true;
    r->cr_stop = why;
    /* Calls on_closed(stopped) synchronously while a connection is active. */
    subscription_stop(r->cr_sub);
    judge_disarm(r->cr_judge);
    deadline_cancel(&r->cr_grace);
    deadline_cancel(&r->cr_limit);
    event_base_loopbreak(r->cr_base);
}

/* The judge could not follow the validator's deadlines: a check that might
 * miss a time rule stops (exit 2) rather than pass. */
static void check_on_timer_error(void *ctx)
{
    struct check_run *r = ctx;
    r->cr_fatal = true;
    check_live_stop(r, CHECK_STOP_NONE);
}

/* After every call into the judge: the grace starts once a final state is
 * reached. */
static void check_live_after(struct check_run *r)
{
    if (r->cr_done || !judge_final_reached(r->cr_judge, NULL) || deadline_pending(&r->cr_grace))
        return;
    if (deadline_arm(&r->cr_grace, CHECK_GRACE_MS) != 0) {
        r->cr_fatal = true;
        check_live_stop(r, CHECK_STOP_NONE);
    }
}

static void check_live_on_grace(void *ctx)
{
    /* The server kept the stream open after its final state: not a fault
     * of the contract's events, and nothing more to judge. */
    check_live_stop(ctx, CHECK_STOP_GRACE);
}

static void check_live_on_limit(void *ctx)
{
    struct check_run *r = ctx;
    judge_tick(r->cr_judge, check_live_now());
    check_live_stop(r, CHECK_STOP_LIMIT);
}

static void check_live_on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct check_run *r = arg;
    judge_tick(r->cr_judge, check_live_now());
    check_live_stop(r, CHECK_STOP_SIGNAL);
}

static void check_live_on_open(void *ctx, struct subscription *s, const struct sub_open_info *info)
{
    (void)s;
    struct check_run *r = ctx;
    if (judge_open(r->cr_judge, check_live_now(), info->soi_status, info->soi_headers,
                   info->soi_nheaders) != 0) {
        check_out_of_memory(r);
        check_live_stop(r, CHECK_STOP_NONE);
        return;
    }
    check_live_after(r);
}

static void check_live_on_event(void *ctx, struct subscription *s, const struct sse_event *ev)
{
    (void)s;
    struct check_run *r = ctx;
    judge_event(r->cr_judge, check_live_now(), ev);
    check_live_after(r);
}

static void check_live_on_comment(void *ctx, struct subscription *s, const char *text, size_t len)
{
    (void)s;
    struct check_run *r = ctx;
    judge_comment(r->cr_judge, check_live_now(), text, len);
    check_live_after(r);
}

static void check_live_on_anomaly(void *ctx, struct subscription *s, enum sse_anomaly kind,
                                  const char *line, size_t len)
{
    (void)s;
    struct check_run *r = ctx;
    judge_anomaly(r->cr_judge, check_live_now(), kind, line, len);
    check_live_after(r);
}

static void check_live_on_closed(void *ctx, struct subscription *s,
                                 const struct sub_closed_info *info)
{
    (void)s;
    struct check_run *r = ctx;
    check_closed(r, check_live_now(), info);
    if (!r->cr_done) {
        r->cr_done = true;
        judge_disarm(r->cr_judge);
        deadline_cancel(&r->cr_grace);
        deadline_cancel(&r->cr_limit);
        event_base_loopbreak(r->cr_base);
    }
}

static int check_live_loop(struct check_run *r, struct sub_engine *eng, const struct check_args *a)
{
    static const struct sub_callbacks cbs = {
        .sc_on_open = check_live_on_open,
        .sc_on_event = check_live_on_event,
        .sc_on_comment = check_live_on_comment,
        .sc_on_anomaly = check_live_on_anomaly,
        .sc_on_closed = check_live_on_closed,
    };
    struct sub_options o;
    if (a->ca_cs != NULL) {
        /* The daemon's request, as monitor_setup gives it. */
        o = a->ca_mo.mo_sub;
        if (a->ca_attempt.ma_url != NULL) {
            o.so_url = a->ca_attempt.ma_url;
            o.so_headers = (const char *const *)a->ca_attempt.ma_headers;
            o.so_nheaders = a->ca_attempt.ma_n_headers;
        }
    } else {
        sub_options_init(&o);
        o.so_url = a->ca_source;
        o.so_headers = a->ca_headers;
        o.so_nheaders = a->ca_n_headers;
        cli_transport_apply(&a->ca_transport, &o);
    }
    o.so_reconnect = false;
    o.so_idle_timeout_ms = 0; /* silence is the heartbeat rule's to judge */

    struct event *sigint = evsignal_new(r->cr_base, SIGINT, check_live_on_signal, r);
    struct event *sigterm = evsignal_new(r->cr_base, SIGTERM, check_live_on_signal, r);
    int rc = 2;
    if (sigint == NULL || sigterm == NULL || evsignal_add(sigint, NULL) != 0 ||
        evsignal_add(sigterm, NULL) != 0 ||
        deadline_init(&r->cr_grace, r->cr_base, check_live_on_grace, r) != 0 ||
        deadline_init(&r->cr_limit, r->cr_base, check_live_on_limit, r) != 0) {
        fputs("ssemon check: cannot set up the event loop\n", stderr);
        goto out;
    }
    if (a->ca_max_ms != 0 && deadline_arm(&r->cr_limit, a->ca_max_ms) != 0) {
        fputs("ssemon check: cannot arm the --max-duration timer\n", stderr);
        goto out;
    }
    r->cr_sub = subscription_new(eng, &o, &cbs, r);
    if (r->cr_sub == NULL) {
        fprintf(stderr, "ssemon check: cannot subscribe to %s: %s\n",
                a->ca_cs != NULL ? a->ca_mo.mo_display_url : a->ca_source, strerror(errno));
        goto out;
    }
    if (subscription_start(r->cr_sub) != 0) {
        fputs("ssemon check: cannot start the subscription\n", stderr);
        goto out;
    }
    event_base_dispatch(r->cr_base);
    rc = 0;
out:
    cli_hold_stop_signals();
    subscription_free(r->cr_sub);
    r->cr_sub = NULL;
    deadline_release(&r->cr_grace);
    deadline_release(&r->cr_limit);
    if (sigterm != NULL)
        event_free(sigterm);
    if (sigint != NULL)
        event_free(sigint);
    return rc;
}

static int check_live(struct check_run *r, const struct check_args *a)
{
    r->cr_start_ms = check_live_now();
    r->cr_base = event_base_new();
    struct sub_engine *eng = r->cr_base != NULL ? sub_engine_new(r->cr_base) : NULL;
    int rc;
    if (eng == NULL) {
        fputs("ssemon check: cannot create the event loop\n", stderr);
        rc = 2;
    } else if (check_judge(r, true, r->cr_base) != 0) {
        rc = 2;
    } else {
        rc = check_live_loop(r, eng, a);
    }
    sub_engine_free(eng);
    return rc;
}

/* ---- files: raw bytes and recordings ---- */

static int check_feed(struct check_run *r, const void *buf, size_t len)
{
    if (judge_feed(r->cr_judge, r->cr_now_ms, buf, len) != 0) {
        check_out_of_memory(r);
        return -1;
    }
    return 0;
}

/* Raw stream bytes: one stream, no response, no clock to judge. `prefix`
 * holds bytes already read while telling the source's kind. */
static int check_raw(struct check_run *r, FILE *f, const char *name, const char *prefix,
                     size_t prefix_len)
{
    char *buf = malloc(CHECK_READ_SIZE);
    if (buf == NULL) {
        check_out_of_memory(r);
        return 2;
    }
    /* Header rules cannot be judged without a response: begin, not open. */
    r->cr_now_ms = clock_mono_ms();
    judge_begin(r->cr_judge, r->cr_now_ms);
    int rc = prefix_len > 0 ? check_feed(r, prefix, prefix_len) : 0;
    if (rc != 0)
        rc = 2;
    while (rc == 0) {
        size_t n = fread(buf, 1, CHECK_READ_SIZE, f);
        r->cr_now_ms = clock_mono_ms();
        if (n > 0 && check_feed(r, buf, n) != 0) {
            rc = 2;
            break;
        }
        if (n < CHECK_READ_SIZE) {
            if (ferror(f)) {
                fprintf(stderr, "ssemon check: %s: %s\n", name, strerror(errno));
                rc = 2;
            }
            break;
        }
    }
    free(buf);
    if (rc == 0) {
        static const struct sub_closed_info eof = {.scl_reason = STREAM_CLOSE_EOF, .scl_error = ""};
        judge_close(r->cr_judge, r->cr_now_ms, &eof, NULL);
    }
    return rc;
}

__attribute__((format(printf, 3, 4))) static int check_replay_error(const char *name, size_t line,
                                                                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ssemon check: %s:%zu: ", name, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* One record of a recording, at its own time. Returns 0, or 2 after a
 * message when the recording contradicts itself. */
static int check_replay_record(struct check_run *r, const struct recording_record *rec,
                               const char *name, size_t line)
{
    uint64_t now = rec->rr_t_ms;
    uint64_t final_ms;
    bool open = judge_is_open(r->cr_judge);
    /* The live check would have stopped once the grace passed. */
    if (!r->cr_abandoned && judge_final_reached(r->cr_judge, &final_ms) &&
        now > final_ms + CHECK_GRACE_MS)
        r->cr_abandoned = true;
    r->cr_now_ms = now;
    switch (rec->rr_kind) {
    case RECORDING_HEADER:
        return check_replay_error(name, line, "a second recording header");
    case RECORDING_CONNECTING:
        if (open)
            return check_replay_error(name, line, "a connection starts before the last closed");
        r->cr_abandoned = false;
        return 0;
    case RECORDING_OPEN:
        if (open)
            return check_replay_error(name, line, "\"open\" on an open connection");
        r->cr_abandoned = false;
        if (judge_open_recorded(r->cr_judge, now, rec->rr_status, rec->rr_headers,
                                rec->rr_n_headers) != 0) {
            check_out_of_memory(r);
            return 2;
        }
        return 0;
    case RECORDING_CHUNK:
        if (!open)
            return check_replay_error(name, line, "a chunk outside an open connection");
        if (r->cr_abandoned)
            return 0;
        return check_feed(r, rec->rr_data, rec->rr_len) == 0 ? 0 : 2;
    case RECORDING_CLOSED: {
        const struct sub_closed_info info = {
            .scl_reason = rec->rr_reason,
            .scl_error = rec->rr_error,
            .scl_status = rec->rr_status,
            .scl_content_type = rec->rr_content_type,
            .scl_before_headers = rec->rr_before_headers,
        };
        check_closed(r, now, &info);
        return 0;
    }
    }
    return 0;
}

/* A recording whose header line (`first`) was already read. Returns 0, or
 * 2 after a message naming the line that is wrong. */
static int check_replay(struct check_run *r, FILE *f, const char *name, const char *first,
                        size_t first_len)
{
    const struct check_args *a = r->cr_args;
    struct recording_decoder dec;
    struct recording_record rec;
    char err[256];
    char *line = NULL;
    size_t cap = 0, lineno = 1;
    uint64_t last_t = 0;
    bool limited = false;
    int rc = 0;

    recording_decoder_init(&dec);
    r->cr_start_ms = 0;
    if (recording_decode(&dec, first, first_len, &rec, err, sizeof(err)) != 0)
        rc = check_replay_error(name, lineno, "%s", err);
    else if (rec.rr_kind != RECORDING_HEADER)
        rc = check_replay_error(name, lineno, "not a recording header");
    while (rc == 0 && !r->cr_fatal) {
        errno = 0;
        ssize_t len = getline(&line, &cap, f);
        if (len < 0) {
            if (ferror(f)) {
                fprintf(stderr, "ssemon check: %s: %s\n", name, strerror(errno));
                rc = 2;
            }
            break;
        }
        lineno++;
        if (recording_decode(&dec, line, (size_t)len, &rec, err, sizeof(err)) != 0) {
            rc = check_replay_error(name, lineno, "%s", err);
            break;
        }
        if (rec.rr_kind != RECORDING_HEADER && rec.rr_t_ms < last_t) {
            rc = check_replay_error(name, lineno,
                                    "time goes backwards (%" PRIu64 " ms after %" PRIu64 " ms)",
                                    rec.rr_t_ms, last_t);
            break;
        }
        if (a->ca_max_ms != 0 && rec.rr_t_ms > a->ca_max_ms) {
            limited = true;
            break;
        }
        last_t = rec.rr_t_ms;
        judge_advance(r->cr_judge, rec.rr_t_ms);
        rc = check_replay_record(r, &rec, name, lineno);
    }
    /* The end of the recording, or of --max-duration, with a stream still
     * open: stop there, as the live check does at its limit. */
    if (rc == 0 && !r->cr_fatal)
        judge_advance(r->cr_judge, limited ? a->ca_max_ms : last_t);
    free(line);
    recording_decoder_free(&dec);
    return r->cr_fatal ? 2 : rc;
}

/* A recording starts with a JSON object that names its format; anything
 * else is raw stream bytes. Only a first byte of '{' costs a line read,
 * whose bytes are handed back in *first either way. */
static bool check_is_recording(FILE *f, char **first, size_t *first_len, size_t *first_cap)
{
    int c = getc(f);
    if (c == EOF)
        return false;
    if (ungetc(c, f) == EOF || c != '{')
        return false;
    ssize_t len = getline(first, first_cap, f);
    if (len < 0)
        return false;
    *first_len = (size_t)len;
    json_t *doc = json_loadb(*first, *first_len, JSON_ALLOW_NUL, NULL);
    bool is = json_is_object(doc) && json_object_get(doc, "format") != NULL;
    json_decref(doc);
    return is;
}

static int check_file(struct check_run *r, const struct check_args *a)
{
    const char *name = a->ca_source;
    FILE *f = stdin;
    if (strcmp(name, "-") == 0) {
        name = "(stdin)";
    } else {
        f = fopen(name, "rb");
        if (f == NULL) {
            fprintf(stderr, "ssemon check: %s: %s\n", name, strerror(errno));
            return 2;
        }
    }
    int rc = 2;
    char *first = NULL;
    size_t first_len = 0, first_cap = 0;
    r->cr_start_ms = clock_mono_ms();
    bool rec = check_is_recording(f, &first, &first_len, &first_cap);
    if (ferror(f))
        fprintf(stderr, "ssemon check: %s: %s\n", name, strerror(errno));
    else if (check_judge(r, rec, NULL) != 0)
        rc = 2;
    else if (rec)
        rc = check_replay(r, f, name, first, first_len);
    else
        rc = check_raw(r, f, name, first, first_len);
    free(first);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* ---- arguments ---- */

enum check_opt {
    CHECK_OPT_CONTRACT = 256,
    CHECK_OPT_CONTRACTS_DIR,
    CHECK_OPT_VAR,
    CHECK_OPT_HB,
    CHECK_OPT_STRICT,
    CHECK_OPT_LENIENT,
    CHECK_OPT_MAX_DURATION,
    CHECK_OPT_HEADER,
    CHECK_OPT_SUBSCRIPTION,
};

static const struct option check_options[] = {
    {"contract", required_argument, NULL, CHECK_OPT_CONTRACT},
    {"contracts-dir", required_argument, NULL, CHECK_OPT_CONTRACTS_DIR},
    {"var", required_argument, NULL, CHECK_OPT_VAR},
    {"heartbeat-interval", required_argument, NULL, CHECK_OPT_HB},
    {"strict", no_argument, NULL, CHECK_OPT_STRICT},
    {"lenient", no_argument, NULL, CHECK_OPT_LENIENT},
    {"max-duration", required_argument, NULL, CHECK_OPT_MAX_DURATION},
    {"header", required_argument, NULL, CHECK_OPT_HEADER},
    {"config", required_argument, NULL, 'c'},
    {"subscription", required_argument, NULL, CHECK_OPT_SUBSCRIPTION},
    CLI_TRANSPORT_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* NAME=VALUE; the '=' is overwritten so both halves are C strings. */
static int check_var_arg(struct check_args *a, char *arg)
{
    char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg)
        return cli_usage_error("check", "--var wants NAME=VALUE, not '%s'", arg);
    *eq = '\0';
    for (size_t i = 0; i < a->ca_n_vars; i++)
        if (strcmp(a->ca_vars[i].vv_name, arg) == 0)
            return cli_usage_error("check", "--var %s given twice", arg);
    if (a->ca_n_vars >= CHECK_MAX_VARS)
        return cli_usage_error("check", "too many --var options (at most %d)", CHECK_MAX_VARS);
    a->ca_vars[a->ca_n_vars].vv_name = arg;
    a->ca_vars[a->ca_n_vars].vv_value = eq + 1;
    a->ca_n_vars++;
    return 0;
}

static int check_header_arg(struct check_args *a, const char *arg)
{
    const char *why = NULL;
    switch (cli_header_arg(arg, &why)) {
    case CLI_HEADER_INVALID:
        return cli_usage_error("check", "--header '%s': %s", arg, why);
    case CLI_HEADER_LAST_EVENT_ID:
        return cli_usage_error("check", "--header '%s': a check sends no Last-Event-ID", arg);
    case CLI_HEADER_OK:
        break;
    }
    if (a->ca_n_headers >= CHECK_MAX_HEADERS)
        return cli_usage_error("check", "too many --header options (at most %d)",
                               CHECK_MAX_HEADERS);
    a->ca_headers[a->ca_n_headers++] = arg;
    return 0;
}

/* With --subscription: the configuration decides everything but the time
 * limit. Returns 0, or 2 after printing a usage error. */
static int check_parse_configured(int argc, char **argv, struct check_args *a)
{
    if (a->ca_judging_flags || a->ca_transport.ct_given)
        return cli_usage_error("check",
                               "--subscription takes the contract, vars, headers, heartbeat, TLS "
                               "and proxy settings from the configuration: only -c and "
                               "--max-duration go with it");
    if (optind != argc)
        return cli_usage_error("check", "--subscription takes no SOURCE, not '%s'", argv[optind]);
    if (a->ca_config_path == NULL)
        a->ca_config_path = CONFIG_DEFAULT_PATH;
    a->ca_kind = CHECK_SOURCE_URL;
    return 0;
}

/* Returns 0, or 2 after printing a usage error. */
static int check_parse_args(int argc, char **argv, struct check_args *a)
{
    int c;
    optind = 0; /* full re-initialisation: another command may have used getopt */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hc:", check_options, NULL)) != -1) {
        int rc = 0;
        if (c >= CHECK_OPT_CONTRACT && c <= CHECK_OPT_HEADER && c != CHECK_OPT_MAX_DURATION)
            a->ca_judging_flags = true;
        switch (c) {
        case 'h':
            a->ca_help = true;
            return 0;
        case 'c':
            a->ca_config_path = optarg;
            break;
        case CHECK_OPT_SUBSCRIPTION:
            a->ca_subscription = optarg;
            break;
        case CHECK_OPT_CONTRACT:
            a->ca_contract = optarg;
            break;
        case CHECK_OPT_CONTRACTS_DIR:
            a->ca_contracts_dir = optarg;
            break;
        case CHECK_OPT_VAR:
            rc = check_var_arg(a, optarg);
            break;
        case CHECK_OPT_HB:
            if (!cli_seconds(optarg, false, &a->ca_hb_interval_ms))
                rc = cli_usage_error(
                    "check", "--heartbeat-interval wants positive seconds, not '%s'", optarg);
            break;
        case CHECK_OPT_STRICT:
            a->ca_lenient = false;
            break;
        case CHECK_OPT_LENIENT:
            a->ca_lenient = true;
            break;
        case CHECK_OPT_MAX_DURATION:
            if (!cli_seconds(optarg, false, &a->ca_max_ms))
                rc = cli_usage_error("check", "--max-duration wants positive seconds, not '%s'",
                                     optarg);
            break;
        case CHECK_OPT_HEADER:
            rc = check_header_arg(a, optarg);
            break;
        case ':':
            return cli_usage_error("check", "option '%s' needs an argument", argv[optind - 1]);
        default:
            rc = cli_transport_arg("check", c, optarg, &a->ca_transport);
            if (rc < 0)
                return cli_usage_error("check", "unknown option '%s'", argv[optind - 1]);
            break;
        }
        if (rc != 0)
            return rc;
    }
    if (a->ca_subscription != NULL)
        return check_parse_configured(argc, argv, a);
    if (a->ca_config_path != NULL)
        return cli_usage_error("check", "-c/--config goes with --subscription NAME");
    if (cli_transport_finish("check", &a->ca_transport) != 0)
        return 2;
    if (a->ca_contract == NULL)
        return cli_usage_error("check", "--contract is required");
    if (optind != argc - 1)
        return cli_usage_error("check", "expected exactly one SOURCE (a URL, a file or '-')");
    a->ca_source = argv[optind];
    if (cli_is_url(a->ca_source)) {
        a->ca_kind = CHECK_SOURCE_URL;
        if (!cli_url_ok(a->ca_source))
            return cli_usage_error("check", "'%s' is not a valid URL", a->ca_source);
    } else {
        a->ca_kind = CHECK_SOURCE_FILE;
        if (a->ca_n_headers > 0)
            return cli_usage_error("check", "--header applies only to a URL source");
        if (a->ca_transport.ct_given)
            return cli_usage_error("check", "TLS and proxy options apply only to a URL source");
    }
    return 0;
}

/* -c FILE --subscription NAME: loads the configuration (every error
 * printed, as check-config does), finds NAME and takes its options from
 * monitor_setup, with the one attempt of a per-attempt subscription.
 * Returns it (config_unref), or NULL after a message (exit 2). */
static struct config *check_load_configured(struct check_args *a)
{
    struct diag_list errors;
    struct config *cfg = config_load(a->ca_config_path, &errors);
    if (cfg == NULL) {
        for (size_t i = 0; i < errors.dl_n; i++)
            fprintf(stderr, "%s\n", errors.dl_items[i].dg_text);
        if (errors.dl_oom)
            fprintf(stderr, "%s: out of memory while loading the configuration\n",
                    a->ca_config_path);
        fprintf(stderr, "ssemon check: %s: configuration has errors\n", a->ca_config_path);
        diag_list_free(&errors);
        return NULL;
    }
    diag_list_free(&errors);
    size_t n = config_subscription_count(cfg);
    for (size_t i = 0; i < n && a->ca_cs == NULL; i++) {
        const struct config_subscription *cs = config_subscription_at(cfg, i);
        if (strcmp(config_subscription_name(cs), a->ca_subscription) == 0)
            a->ca_cs = cs;
    }
    if (a->ca_cs == NULL) {
        fprintf(stderr, "ssemon check: %s: no subscription named '%s'", a->ca_config_path,
                a->ca_subscription);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%s%s", i == 0 ? " (it has: " : ", ",
                    config_subscription_name(config_subscription_at(cfg, i)));
        fputs(n > 0 ? ")\n" : " (it has none)\n", stderr);
        config_unref(cfg);
        return NULL;
    }
    monitor_setup_options(a->ca_cs, &a->ca_mo);
    if (a->ca_mo.mo_prepare != NULL &&
        a->ca_mo.mo_prepare(a->ca_mo.mo_prepare_ctx, NULL, 1, &a->ca_attempt) != 0) {
        fputs("ssemon check: out of memory\n", stderr);
        config_unref(cfg);
        return NULL;
    }
    if (a->ca_mo.mo_sub.so_insecure)
        fprintf(stderr,
                "ssemon check: warning: %s: \"insecure\": true, TLS certificates and host names "
                "are not verified\n",
                a->ca_subscription);
    a->ca_source = a->ca_mo.mo_display_url;
    return cfg;
}

/* Every --var must name a variable the contract declares. */
static int check_vars_declared(const struct check_args *a, const struct contract *c)
{
    for (size_t i = 0; i < a->ca_n_vars; i++) {
        if (contract_has_variable(c, a->ca_vars[i].vv_name))
            continue;
        fprintf(stderr, "ssemon check: --var %s: contract %s declares no such variable",
                a->ca_vars[i].vv_name, c->c_name != NULL ? c->c_name : a->ca_contract);
        if (c->c_n_variables == 0) {
            fputs(" (it declares none)\n", stderr);
        } else {
            fputs(" (it declares:", stderr);
            for (size_t k = 0; k < c->c_n_variables; k++)
                fprintf(stderr, " %s", c->c_variables[k]);
            fputs(")\n", stderr);
        }
        return 2;
    }
    return 0;
}

int cmd_check(int argc, char **argv)
{
    struct check_args a;
    memset(&a, 0, sizeof(a));
    int rc = check_parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.ca_help) {
        check_usage(stdout, a.ca_contracts_dir);
        return 0;
    }
    struct contract *c = NULL;
    struct config *cfg = NULL;
    if (a.ca_subscription != NULL) {
        cfg = check_load_configured(&a);
        if (cfg == NULL)
            return 2;
    } else {
        /* A contract that does not load is no stream verdict: every error
         * of it, as `ssemon check-contract` prints them, and exit 2. */
        struct diag_list cerrors;
        c = contract_load_all(a.ca_contract, a.ca_contracts_dir, 0, &cerrors);
        if (c == NULL) {
            for (size_t i = 0; i < cerrors.dl_n; i++)
                fprintf(stderr, "ssemon check: %s\n", cerrors.dl_items[i].dg_text);
            if (cerrors.dl_oom)
                fprintf(stderr, "ssemon check: %s: out of memory\n", a.ca_contract);
            diag_list_free(&cerrors);
            return 2;
        }
        diag_list_free(&cerrors);
        rc = check_vars_declared(&a, c);
        if (rc != 0) {
            contract_free(c);
            return rc;
        }
    }
    /* A closed stdout must surface as EPIPE from fwrite, not kill us. */
    signal(SIGPIPE, SIG_IGN);

    struct check_run r;
    memset(&r, 0, sizeof(r));
    r.cr_args = &a;
    json_writer_init(&r.cr_out);
    r.cr_contract = c != NULL ? c : a.ca_mo.mo_contract;
    rc = a.ca_kind == CHECK_SOURCE_URL ? check_live(&r, &a) : check_file(&r, &a);
    if (rc == 0 && r.cr_fatal)
        rc = 2;
    if (rc == 0) {
        check_summary(&r);
        rc = r.cr_fatal ? 2 : r.cr_failed ? 1 : 0;
    }
    /* The judge's timer lives on the base: freed before it. */
    judge_free(r.cr_judge);
    if (r.cr_base != NULL)
        event_base_free(r.cr_base);
    json_writer_free(&r.cr_out);
    contract_free(c);
    monitor_attempt_clear(&a.ca_attempt);
    config_unref(cfg);
    return rc;
}
