/*
 * prober: see prober.h.
 */
#include "ssemon/cmd/prober.h"
#include "ssemon/base/clock.h"
#include "ssemon/base/utf8.h"
#include "ssemon/base/uuid.h"
#include "ssemon/config/config_probe.h"
#include "ssemon/core/http_header.h"
#include "ssemon/core/probe.h"
#include "ssemon/core/template.h"
#include "ssemon/io/deadline.h"
#include "ssemon/io/http_request.h"
#include "ssemon/io/judge.h"
#include "ssemon/io/subscription.h"
#include "ssemon/json/json_tape.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Events kept while the trigger has not answered yet, per run. */
#define PROBER_BUFFER_EVENTS 256
#define PROBER_BUFFER_BYTES ((size_t)256 << 10)
/* A new probe's first run comes after a jittered delay of at most this. */
#define PROBER_FIRST_MAX_MS 10000
/* Bytes of a trigger response quoted in a probe_failed message. */
#define PROBER_BODY_QUOTE 200
#define PROBER_MSG_MAX 1024
#define PROBER_STREAM_NAME 32
#define PROBER_EVIDENCE_MAX 256

struct prober_probe;
struct prober_run;

/* An event received before the trigger answered. */
struct prober_held {
    size_t ph_sub;
    uint64_t ph_ms;
    char *ph_kind;
    char *ph_variant; /* NULL: none */
    char *ph_json;    /* the payload's text; NULL: none */
    size_t ph_len;
};

/* A stream of one run, opened after the trigger's response. */
struct prober_stream {
    struct prober_run *pst_run;
    size_t pst_index;
    char pst_name[PROBER_STREAM_NAME]; /* "stream/N" */
    struct judge *pst_judge;
    struct subscription *pst_sub;
    char *pst_url;     /* raw: may hold user-info */
    char *pst_display; /* redacted, for messages */
    uint64_t pst_deadline_ms;
    uint64_t pst_final_ms; /* 0: not reached */
    bool pst_done;
    bool pst_timed_out; /* no final state within its time: lifecycle_timeout */
};

struct prober_run {
    struct prober_probe *pr_probe;
    char pr_id[UUID_TEXT_LEN + 1];
    uint64_t pr_started_ms;
    uint64_t pr_started_wall_ms;
    struct http_request *pr_req;
    bool pr_answered;
    char **pr_captures; /* values, by capture index */
    struct probe_run *pr_steps;
    enum probe_step_state *pr_seen; /* step states already reported */
    struct prober_held *pr_held;
    size_t pr_n_held;
    size_t pr_held_bytes;
    uint64_t pr_held_dropped;
    struct prober_stream *pr_streams;
    size_t pr_n_streams;
    struct deadline pr_timer;
    bool pr_finishing;
    bool pr_failed;
    bool pr_failed_by[VIOLATION_CLASS_COUNT];
};

struct prober_probe {
    struct prober *pp_prober;
    struct config *pp_config; /* a reference */
    const struct config_probe *pp_def;
    const char **pp_subs; /* distinct expect subscriptions */
    size_t pp_n_subs;
    size_t *pp_step_sub; /* per expectation, its index in pp_subs */
    char **pp_step_event;
    char (*pp_stream_names)[PROBER_STREAM_NAME];
    struct deadline pp_due;
    uint64_t pp_last_start_ms;
    uint64_t pp_seed;

    struct status_probe pp_view;
    struct status_probe_step *pp_view_steps;
    struct probe_window *pp_windows;
    char pp_last_id[UUID_TEXT_LEN + 1];
    struct status_probe_capture *pp_view_caps;
    char **pp_last_caps;
    char pp_last_failure[PROBER_MSG_MAX];
    char pp_last_failure_evidence[PROBER_EVIDENCE_MAX];

    struct prober_run *pp_run;
};

struct prober {
    struct prober_host p_host;
    struct config *p_config;
    struct prober_probe **p_probes;
    size_t p_n_probes;
    struct status_probe *p_view;
    size_t p_view_cap;
};

static void prober_run_check(struct prober_run *r);
static void prober_schedule(struct prober_probe *pp, uint64_t now);

/* ---- small helpers ---- */

static uint64_t prober_random(void)
{
    char id[UUID_TEXT_LEN + 1];
    uuid_v4_new(id);
    uint64_t x = 1469598103934665603ULL;
    for (size_t i = 0; id[i] != '\0'; i++)
        x = (x ^ (unsigned char)id[i]) * 1099511628211ULL;
    return x;
}

static char *prober_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* The first PROBER_BODY_QUOTE bytes of a trigger's response body for a
 * message, control bytes as '.', the request's header values (which the
 * body may echo: "invalid token ...") redacted over the whole body kept, so
 * that no part of one is quoted. */
static void prober_quote(char out[PROBER_BODY_QUOTE + 1], const struct http_request *req,
                         const struct http_request_result *res)
{
    size_t len = res->hrr_body_len;
    char *all = malloc(len + 1);
    if (all == NULL) {
        snprintf(out, PROBER_BODY_QUOTE + 1, "(not shown: out of memory)");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)res->hrr_body[i];
        all[i] = c < 0x20 || c == 0x7f ? '.' : (char)c;
    }
    all[len] = '\0';
    http_request_redact(req, all);
    size_t n = strlen(all);
    if (n > PROBER_BODY_QUOTE)
        n = PROBER_BODY_QUOTE;
    memcpy(out, all, n);
    out[n] = '\0';
    free(all);
}

static void prober_observe(struct monitor_histogram *h, uint64_t ms)
{
    monitor_histogram_observe(h, status_probe_bounds, STATUS_PROBE_BUCKETS, (double)ms / 1000.0);
}

/* ---- template lookup ---- */

struct prober_lookup {
    struct prober_run *pl_run;
    char pl_buf[TEMPLATE_NAME_MAX + 1]; /* a subscription's name */
};

static const char *prober_lookup(void *ctx, const char *name)
{
    struct prober_lookup *l = ctx;
    struct prober_run *r = l->pl_run;
    struct prober_probe *pp = r->pr_probe;
    if (strcmp(name, "run_id") == 0)
        return r->pr_id;
    if (strcmp(name, "instance") == 0)
        return config_instance(pp->pp_config);
    static const char subs[] = "subscriptions.";
    if (strncmp(name, subs, sizeof(subs) - 1) == 0) {
        /* Subscription names may hold dots: every split, as the
         * configuration checked it. */
        const char *sub = name + sizeof(subs) - 1;
        struct prober *p = pp->pp_prober;
        for (const char *dot = strchr(sub, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
            size_t n = (size_t)(dot - sub);
            if (n == 0 || n >= sizeof(l->pl_buf) || dot[1] == '\0')
                continue;
            memcpy(l->pl_buf, sub, n);
            l->pl_buf[n] = '\0';
            struct monitor *m = p->p_host.ph_monitor(p->p_host.ph_ctx, l->pl_buf);
            const char *v = m != NULL ? monitor_var(m, dot + 1) : NULL;
            if (v != NULL)
                return v;
        }
        return NULL;
    }
    if (r->pr_captures != NULL)
        for (size_t i = 0; i < config_probe_capture_count(pp->pp_def); i++)
            if (strcmp(config_probe_capture_name(pp->pp_def, i), name) == 0)
                return r->pr_captures[i];
    return NULL;
}

/* ---- violations ---- */

/* Counts a violation of run `r` (an error fails the run) and hands it to
 * the host. */
static void prober_report(struct prober_run *r, const char *subscription, const struct violation *v)
{
    struct prober_probe *pp = r->pr_probe;
    struct prober *p = pp->pp_prober;
    if (v->v_severity == VIOLATION_ERROR && (unsigned)v->v_class < VIOLATION_CLASS_COUNT) {
        r->pr_failed = true;
        r->pr_failed_by[v->v_class] = true;
        utf8_copy(pp->pp_last_failure, sizeof(pp->pp_last_failure), v->v_message);
        pp->pp_view.sp_last_failure = pp->pp_last_failure;
        pp->pp_view.sp_last_failure_class = v->v_class;
        pp->pp_view.sp_last_failure_wall_ms = clock_wall_ms();
        pp->pp_view.sp_last_failure_evidence = NULL; /* the host may name one */
    }
    if (p->p_host.ph_on_violation != NULL)
        p->p_host.ph_on_violation(p->p_host.ph_ctx, config_probe_name(pp->pp_def), r->pr_id,
                                  subscription, v);
}

/* A violation of the probe's own classes (or a stream it could not open). */
static void prober_violation(struct prober_run *r, const char *subscription,
                             enum violation_class cls, enum violation_severity sev,
                             const char *message, const char *event, uint64_t now)
{
    const struct violation v = {
        .v_class = cls,
        .v_severity = sev,
        .v_message = message,
        .v_event = event,
        .v_time_ms = now,
    };
    prober_report(r, subscription, &v);
}

/* Reports the steps that settled since the last call. */
static void prober_report_steps(struct prober_run *r, uint64_t now)
{
    struct prober_probe *pp = r->pr_probe;
    size_t n = probe_run_step_count(r->pr_steps);
    char msg[PROBER_MSG_MAX];
    for (size_t i = 0; i < n; i++) {
        enum probe_step_state st = probe_run_step_state(r->pr_steps, i);
        if (st == r->pr_seen[i])
            continue;
        r->pr_seen[i] = st;
        const char *sub = pp->pp_subs[pp->pp_step_sub[i]];
        uint64_t ms = probe_run_step_delivery_ms(r->pr_steps, i);
        if (ms != UINT64_MAX) {
            prober_observe(&pp->pp_view_steps[i].sps_delivery, ms);
            probe_window_add(&pp->pp_windows[i], ms);
        }
        if (st == PROBE_STEP_TIMEOUT || st == PROBE_STEP_EARLY) {
            probe_run_step_describe(r->pr_steps, i, sub, msg, sizeof(msg));
            prober_violation(
                r, sub, st == PROBE_STEP_TIMEOUT ? VIOLATION_PROBE_TIMEOUT : VIOLATION_PROBE_ORDER,
                VIOLATION_ERROR, msg, pp->pp_step_event[i], now);
        }
    }
}

/* ---- streams ---- */

static void prober_stream_violation(void *ctx, const struct violation *v)
{
    struct prober_stream *st = ctx;
    prober_report(st->pst_run, st->pst_name, v);
}

/* The stream's time ran out at `now` (its deadline passed without a final
 * state, or it reached one after the deadline: `late_ms` is then when, else
 * 0): lifecycle_timeout. The judgement of the stream is over; the stream
 * itself is stopped by the caller or freed with the run. */
static void prober_stream_timeout(struct prober_stream *st, uint64_t now, uint64_t late_ms)
{
    struct prober_run *r = st->pst_run;
    char msg[PROBER_MSG_MAX];
    const char *contract = config_probe_stream_contract_name(r->pr_probe->pp_def, st->pst_index);
    const char *display = st->pst_display != NULL ? st->pst_display : "?";
    unsigned long long within = (unsigned long long)(st->pst_deadline_ms - r->pr_started_ms);
    if (late_ms != 0)
        snprintf(msg, sizeof(msg),
                 "stream %zu (%s): final state of contract %s reached after %llu ms, not within "
                 "%llu ms",
                 st->pst_index, display, contract, (unsigned long long)(late_ms - r->pr_started_ms),
                 within);
    else
        snprintf(msg, sizeof(msg), "stream %zu (%s): no final state of contract %s within %llu ms",
                 st->pst_index, display, contract, within);
    judge_disarm(st->pst_judge);
    st->pst_done = true;
    st->pst_timed_out = true;
    prober_violation(r, st->pst_name, VIOLATION_LIFECYCLE_TIMEOUT, VIOLATION_ERROR, msg, NULL, now);
}

/* A final state counts only within the stream's time: an event read late
 * (in the same loop turn as the deadline, or by a busy loop) is judged by
 * when it was read, as the expectations are. */
static void prober_stream_after(struct prober_stream *st)
{
    uint64_t at;
    if (st->pst_done || st->pst_final_ms != 0 || !judge_final_reached(st->pst_judge, &at))
        return;
    if (at <= st->pst_deadline_ms)
        st->pst_final_ms = at > 0 ? at : 1;
    else
        prober_stream_timeout(st, at, at);
    prober_run_check(st->pst_run);
}

static void prober_stream_on_open(void *ctx, struct subscription *s, const struct sub_open_info *i)
{
    (void)s;
    struct prober_stream *st = ctx;
    if (st->pst_done)
        return; /* judged already (timed out) */
    judge_open(st->pst_judge, clock_mono_ms(), i->soi_status, i->soi_headers, i->soi_nheaders);
    prober_stream_after(st);
}

static void prober_stream_on_event(void *ctx, struct subscription *s, const struct sse_event *ev)
{
    (void)s;
    struct prober_stream *st = ctx;
    if (st->pst_done)
        return; /* judged already (timed out) */
    judge_event(st->pst_judge, clock_mono_ms(), ev);
    prober_stream_after(st);
}

static void prober_stream_on_comment(void *ctx, struct subscription *s, const char *t, size_t n)
{
    (void)s;
    struct prober_stream *st = ctx;
    if (st->pst_done)
        return; /* judged already (timed out) */
    judge_comment(st->pst_judge, clock_mono_ms(), t, n);
}

static void prober_stream_on_anomaly(void *ctx, struct subscription *s, enum sse_anomaly kind,
                                     const char *line, size_t len)
{
    (void)s;
    struct prober_stream *st = ctx;
    if (st->pst_done)
        return; /* judged already (timed out) */
    judge_anomaly(st->pst_judge, clock_mono_ms(), kind, line, len);
}

static void prober_stream_on_closed(void *ctx, struct subscription *s,
                                    const struct sub_closed_info *info)
{
    (void)s;
    struct prober_stream *st = ctx;
    if (st->pst_done)
        return;
    (void)judge_close(st->pst_judge, clock_mono_ms(), info, NULL);
    judge_disarm(st->pst_judge);
    /* A final state the end of the stream made counts as any other. */
    prober_stream_after(st);
    st->pst_done = true;
    prober_run_check(st->pst_run);
}

static const struct sub_callbacks prober_stream_cbs = {
    .sc_on_open = prober_stream_on_open,
    .sc_on_event = prober_stream_on_event,
    .sc_on_comment = prober_stream_on_comment,
    .sc_on_anomaly = prober_stream_on_anomaly,
    .sc_on_closed = prober_stream_on_closed,
};

static void prober_stream_stop(struct prober_stream *st)
{
    subscription_free(st->pst_sub);
    st->pst_sub = NULL;
    judge_free(st->pst_judge);
    st->pst_judge = NULL;
    free(st->pst_url);
    st->pst_url = NULL;
    free(st->pst_display);
    st->pst_display = NULL;
}

/* Opens stream i of the run. Returns 0, or -1 after reporting why. */
static int prober_stream_open(struct prober_run *r, size_t i, uint64_t now)
{
    struct prober_probe *pp = r->pr_probe;
    const struct config_probe *def = pp->pp_def;
    struct prober_stream *st = &r->pr_streams[i];
    st->pst_run = r;
    st->pst_index = i;
    snprintf(st->pst_name, sizeof(st->pst_name), "stream/%zu", i);
    uint64_t within = config_probe_stream_within_ms(def, i);
    st->pst_deadline_ms =
        within < UINT64_MAX - r->pr_started_ms ? r->pr_started_ms + within : UINT64_MAX;

    struct prober_lookup l = {.pl_run = r};
    const char *missing = NULL;
    char msg[PROBER_MSG_MAX];
    st->pst_url =
        template_expand(config_probe_stream_url(def, i), prober_lookup, &l, &missing, NULL);
    size_t nv = config_probe_stream_var_count(def, i);
    struct validator_var *vars = calloc(nv > 0 ? nv : 1, sizeof(*vars));
    char **vals = calloc(nv > 0 ? nv : 1, sizeof(*vals));
    st->pst_display = st->pst_url != NULL ? http_header_redact_url(st->pst_url) : NULL;
    bool ok = st->pst_url != NULL && st->pst_display != NULL && vars != NULL && vals != NULL;
    for (size_t k = 0; ok && k < nv; k++) {
        vals[k] = template_expand(config_probe_stream_var_value(def, i, k), prober_lookup, &l,
                                  &missing, NULL);
        vars[k].vv_name = config_probe_stream_var_name(def, i, k);
        vars[k].vv_value = vals[k];
        ok = vals[k] != NULL;
    }
    if (ok) {
        const struct config_settings *cs = config_probe_settings(def);
        struct judge_options jo = {
            .jo_contract = config_probe_stream_contract(def, i),
            .jo_base = pp->pp_prober->p_host.ph_base,
        };
        jo.jo_val.vo_vars = vars;
        jo.jo_val.vo_n_vars = nv;
        jo.jo_val.vo_timing = true;
        jo.jo_val.vo_lenient = !cs->cs_strict;
        const struct judge_callbacks jc = {.jc_on_violation = prober_stream_violation};
        st->pst_judge = judge_new(&jo, &jc, st);
        struct sub_options so;
        sub_options_init(&so);
        so.so_url = st->pst_url;
        so.so_reconnect = false;
        so.so_idle_timeout_ms = 0;
        so.so_connect_timeout_ms = cs->cs_connect_timeout_ms;
        so.so_ca_file = cs->cs_ca_file;
        so.so_insecure = cs->cs_insecure;
        so.so_client_cert = cs->cs_client_cert;
        so.so_client_key = cs->cs_client_key;
        so.so_proxy = cs->cs_proxy;
        so.so_no_proxy = cs->cs_no_proxy;
        so.so_limits.max_line = cs->cs_max_line;
        so.so_limits.max_event = cs->cs_max_event;
        st->pst_sub = st->pst_judge != NULL ? subscription_new(pp->pp_prober->p_host.ph_engine, &so,
                                                               &prober_stream_cbs, st)
                                            : NULL;
        ok = st->pst_sub != NULL && subscription_start(st->pst_sub) == 0;
        if (!ok)
            missing = NULL;
    }
    for (size_t k = 0; vals != NULL && k < nv; k++)
        free(vals[k]);
    free(vals);
    free(vars);
    if (ok)
        return 0;
    if (missing != NULL)
        snprintf(msg, sizeof(msg), "stream %zu: cannot expand ${%s}", i, missing);
    else
        snprintf(msg, sizeof(msg), "stream %zu: cannot open: %s", i, strerror(errno));
    prober_violation(r, st->pst_name, VIOLATION_CONNECT_FAILED, VIOLATION_ERROR, msg, NULL, now);
    prober_stream_stop(st);
    st->pst_done = true;
    return -1;
}

/* ---- a run ---- */

static void prober_run_free(struct prober_run *r)
{
    if (r == NULL)
        return;
    http_request_cancel(r->pr_req);
    for (size_t i = 0; i < r->pr_n_streams; i++)
        prober_stream_stop(&r->pr_streams[i]);
    free(r->pr_streams);
    deadline_release(&r->pr_timer);
    size_t nc = config_probe_capture_count(r->pr_probe->pp_def);
    for (size_t i = 0; r->pr_captures != NULL && i < nc; i++)
        free(r->pr_captures[i]);
    free(r->pr_captures);
    for (size_t i = 0; i < r->pr_n_held; i++) {
        free(r->pr_held[i].ph_kind);
        free(r->pr_held[i].ph_variant);
        free(r->pr_held[i].ph_json);
    }
    free(r->pr_held);
    probe_run_free(r->pr_steps);
    free(r->pr_seen);
    free(r);
}

/* A step's point for the status page's chart, once its run has finished:
 * the percentiles as they stand after a delivery in this run. */
static void prober_minute(struct status_probe_step *vs, uint64_t wall_ms)
{
    if (vs->sps_last_delivery_ms == UINT64_MAX || vs->sps_p50_ms == UINT64_MAX)
        return;
    uint32_t p50 = vs->sps_p50_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)vs->sps_p50_ms;
    uint32_t p99 = vs->sps_p99_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)vs->sps_p99_ms;
    minute_ring_max(&vs->sps_minutes, wall_ms, STATUS_PROBE_MINUTE_P50, p50);
    minute_ring_max(&vs->sps_minutes, wall_ms, STATUS_PROBE_MINUTE_P99, p99);
    minute_ring_add(&vs->sps_minutes, wall_ms, STATUS_PROBE_MINUTE_DELIVERIES, 1);
}

static const char *prober_step_result(enum probe_step_state s)
{
    return probe_step_state_name(s);
}

/* The run is over: counters, the last run, the report, the next run. */
static void prober_run_finish(struct prober_run *r)
{
    struct prober_probe *pp = r->pr_probe;
    struct prober *p = pp->pp_prober;
    uint64_t now = clock_mono_ms();
    struct status_probe *v = &pp->pp_view;
    size_t ne = config_probe_expect_count(pp->pp_def);
    size_t ns = r->pr_n_streams;

    v->sp_runs++;
    v->sp_has_finished = true;
    v->sp_success = !r->pr_failed;
    if (r->pr_failed) {
        v->sp_failures_total++;
        for (size_t c = 0; c < VIOLATION_CLASS_COUNT; c++)
            if (r->pr_failed_by[c])
                v->sp_failures[c]++;
    }
    v->sp_running = false;
    v->sp_last_result = r->pr_failed ? "failed" : "ok";
    v->sp_last_duration_ms = now - r->pr_started_ms;

    struct prober_step_report rep[PROBE_MAX_STEPS + 16];
    size_t nrep = 0;
    uint64_t wall = clock_wall_ms();
    for (size_t i = 0; i < ne; i++) {
        struct status_probe_step *vs = &pp->pp_view_steps[i];
        enum probe_step_state st =
            r->pr_steps != NULL ? probe_run_step_state(r->pr_steps, i) : PROBE_STEP_ABANDONED;
        vs->sps_last_result = prober_step_result(st);
        vs->sps_last_delivery_ms =
            r->pr_steps != NULL ? probe_run_step_delivery_ms(r->pr_steps, i) : UINT64_MAX;
        vs->sps_p50_ms = probe_window_quantile(&pp->pp_windows[i], 0.5);
        vs->sps_p99_ms = probe_window_quantile(&pp->pp_windows[i], 0.99);
        prober_minute(vs, wall);
        if (nrep < sizeof(rep) / sizeof(rep[0]))
            rep[nrep++] = (struct prober_step_report){
                vs->sps_subscription, vs->sps_event, vs->sps_last_result, vs->sps_last_delivery_ms};
    }
    size_t nstreams = config_probe_stream_count(pp->pp_def);
    for (size_t i = 0; i < nstreams; i++) {
        struct status_probe_step *vs = &pp->pp_view_steps[ne + i];
        const struct prober_stream *st = i < ns ? &r->pr_streams[i] : NULL;
        vs->sps_last_delivery_ms = UINT64_MAX;
        if (st == NULL) {
            vs->sps_last_result = "abandoned";
        } else if (st->pst_final_ms != 0) {
            uint64_t ms = st->pst_final_ms - r->pr_started_ms;
            vs->sps_last_result = "ok";
            vs->sps_last_delivery_ms = ms;
            prober_observe(&vs->sps_delivery, ms);
            probe_window_add(&pp->pp_windows[ne + i], ms);
        } else {
            vs->sps_last_result = st->pst_timed_out ? "timeout" : "failed";
        }
        vs->sps_p50_ms = probe_window_quantile(&pp->pp_windows[ne + i], 0.5);
        vs->sps_p99_ms = probe_window_quantile(&pp->pp_windows[ne + i], 0.99);
        prober_minute(vs, wall);
        if (nrep < sizeof(rep) / sizeof(rep[0]))
            rep[nrep++] = (struct prober_step_report){
                vs->sps_subscription, vs->sps_event, vs->sps_last_result, vs->sps_last_delivery_ms};
    }
    /* The last run's captures. */
    size_t nc = config_probe_capture_count(pp->pp_def);
    for (size_t i = 0; i < nc; i++) {
        free(pp->pp_last_caps[i]);
        pp->pp_last_caps[i] = r->pr_captures != NULL ? r->pr_captures[i] : NULL;
        if (r->pr_captures != NULL)
            r->pr_captures[i] = NULL;
        pp->pp_view_caps[i].spc_value = pp->pp_last_caps[i];
    }
    v->sp_n_captures = nc;

    const struct prober_run_report report = {
        .prr_probe = config_probe_name(pp->pp_def),
        .prr_run_id = pp->pp_last_id, /* r is freed below */
        .prr_result = v->sp_last_result,
        .prr_duration_ms = v->sp_last_duration_ms,
        .prr_steps = rep,
        .prr_n_steps = nrep,
    };
    pp->pp_run = NULL;
    prober_run_free(r);
    if (p->p_host.ph_on_run != NULL)
        p->p_host.ph_on_run(p->p_host.ph_ctx, &report);
    prober_schedule(pp, now);
}

static void prober_run_on_timer(void *ctx)
{
    struct prober_run *r = ctx;
    uint64_t now = clock_mono_ms();
    if (r->pr_finishing) {
        prober_run_finish(r);
        return;
    }
    if (r->pr_steps != NULL) {
        probe_run_tick(r->pr_steps, now);
        prober_report_steps(r, now);
    }
    for (size_t i = 0; i < r->pr_n_streams; i++) {
        struct prober_stream *st = &r->pr_streams[i];
        /* The deadline is the last moment that still meets, as for the
         * expectations. */
        if (st->pst_done || st->pst_final_ms != 0 || now <= st->pst_deadline_ms)
            continue;
        prober_stream_timeout(st, now, 0);
        /* Its end is not judged: pst_done is set. */
        subscription_stop(st->pst_sub);
    }
    prober_run_check(r);
}

/* Finishes the run when nothing is pending, else arms the next deadline. */
static void prober_run_check(struct prober_run *r)
{
    if (r->pr_finishing || !r->pr_answered)
        return;
    uint64_t next = UINT64_MAX;
    bool busy = false;
    if (r->pr_steps != NULL && probe_run_outcome(r->pr_steps) == PROBE_OUTCOME_RUNNING) {
        busy = true;
        next = probe_run_next_deadline(r->pr_steps);
    }
    for (size_t i = 0; i < r->pr_n_streams; i++) {
        const struct prober_stream *st = &r->pr_streams[i];
        if (st->pst_done || st->pst_final_ms != 0)
            continue;
        busy = true;
        if (st->pst_deadline_ms < UINT64_MAX && st->pst_deadline_ms + 1 < next)
            next = st->pst_deadline_ms + 1;
    }
    uint64_t now = clock_mono_ms();
    if (!busy) {
        /* Finish from the loop, not from inside a callback of a stream the
         * finish frees. */
        r->pr_finishing = true;
        deadline_arm(&r->pr_timer, 0);
        return;
    }
    deadline_arm(&r->pr_timer, next > now ? next - now : 0);
}

/* Matches the held events, now that the steps exist. */
static void prober_run_replay(struct prober_run *r)
{
    struct json_tape t;
    json_tape_init(&t);
    for (size_t i = 0; i < r->pr_n_held; i++) {
        struct prober_held *h = &r->pr_held[i];
        size_t node = JSON_TAPE_NONE;
        struct json_tape_error err;
        if (h->ph_json != NULL && json_tape_parse(&t, h->ph_json, h->ph_len, &err) == 0)
            node = json_tape_root(&t);
        probe_run_event(r->pr_steps, h->ph_ms, h->ph_sub, h->ph_kind, h->ph_variant,
                        node != JSON_TAPE_NONE ? &t : NULL, node);
    }
    json_tape_free(&t);
}

/* Builds the run's steps with the captures known. 0, or -1 after a report. */
static int prober_run_steps(struct prober_run *r, uint64_t now)
{
    struct prober_probe *pp = r->pr_probe;
    const struct config_probe *def = pp->pp_def;
    size_t ne = config_probe_expect_count(def);
    struct probe_step_def defs[PROBE_MAX_STEPS];
    struct probe_match match[PROBE_MAX_STEPS][PROBE_MAX_MATCH];
    char *values[PROBE_MAX_STEPS][PROBE_MAX_MATCH];
    memset(values, 0, sizeof(values));
    struct prober_lookup l = {.pl_run = r};
    const char *missing = NULL;
    int rc = 0;
    if (ne > PROBE_MAX_STEPS)
        ne = PROBE_MAX_STEPS;
    for (size_t i = 0; i < ne && rc == 0; i++) {
        struct config_probe_expect_view ev;
        config_probe_expect_at(def, i, &ev);
        size_t nm = ev.cev_n_match < PROBE_MAX_MATCH ? ev.cev_n_match : PROBE_MAX_MATCH;
        for (size_t j = 0; j < nm && rc == 0; j++) {
            bool literal = false;
            const struct template *t = config_probe_match_value(def, i, j, &literal);
            values[i][j] = template_expand(t, prober_lookup, &l, &missing, NULL);
            if (values[i][j] == NULL)
                rc = -1;
            match[i][j] =
                (struct probe_match){config_probe_match_pointer(def, i, j), values[i][j], literal};
        }
        defs[i] = (struct probe_step_def){pp->pp_step_sub[i], ev.cev_kind, ev.cev_variant,
                                          match[i],           nm,          ev.cev_within_ms};
    }
    if (rc == 0) {
        r->pr_steps = probe_run_new(defs, ne, r->pr_started_ms);
        r->pr_seen = calloc(ne > 0 ? ne : 1, sizeof(*r->pr_seen));
        if (r->pr_steps == NULL || r->pr_seen == NULL)
            rc = -1;
    }
    for (size_t i = 0; i < ne; i++)
        for (size_t j = 0; j < PROBE_MAX_MATCH; j++)
            free(values[i][j]);
    if (rc != 0) {
        char msg[PROBER_MSG_MAX];
        if (missing != NULL)
            snprintf(msg, sizeof(msg), "cannot expand ${%s} in a match value", missing);
        else
            snprintf(msg, sizeof(msg), "cannot set up the expectations: %s", strerror(errno));
        prober_violation(r, NULL, VIOLATION_PROBE_FAILED, VIOLATION_ERROR, msg, NULL, now);
        return -1;
    }
    return 0;
}

/* The trigger failed: the run ends without waiting for anything. */
static void prober_run_abort(struct prober_run *r, const char *message)
{
    prober_violation(r, NULL, VIOLATION_PROBE_FAILED, VIOLATION_ERROR, message, NULL,
                     clock_mono_ms());
    r->pr_answered = true;
    r->pr_finishing = true;
    deadline_arm(&r->pr_timer, 0);
}

/* Takes the captures from the trigger's response. 0, or -1 after a report. */
static int prober_run_capture(struct prober_run *r, const struct http_request *req,
                              const struct http_request_result *res, const char *method,
                              const char *url)
{
    const struct config_probe *def = r->pr_probe->pp_def;
    size_t nc = config_probe_capture_count(def);
    if (nc == 0)
        return 0;
    char quote[PROBER_BODY_QUOTE + 1];
    char msg[PROBER_MSG_MAX];
    prober_quote(quote, req, res);
    r->pr_captures = calloc(nc, sizeof(char *));
    if (r->pr_captures == NULL) {
        prober_run_abort(r, "out of memory for the captures");
        return -1;
    }
    struct json_tape t;
    json_tape_init(&t);
    struct json_tape_error err;
    int rc = 0;
    if (json_tape_parse(&t, res->hrr_body, res->hrr_body_len, &err) != 0) {
        snprintf(msg, sizeof(msg), "trigger %s %s answered %ld with a body that is not JSON: %s",
                 method, url, res->hrr_status, quote);
        rc = -1;
    }
    for (size_t i = 0; i < nc && rc == 0; i++) {
        const char *why = NULL;
        r->pr_captures[i] =
            probe_capture(&t, json_tape_root(&t), config_probe_capture_pointer(def, i), &why);
        if (r->pr_captures[i] == NULL) {
            snprintf(msg, sizeof(msg),
                     "trigger %s %s answered %ld: capture %s (%s) %s in the response: %s", method,
                     url, res->hrr_status, config_probe_capture_name(def, i),
                     config_probe_capture_pointer(def, i), why != NULL ? why : "failed", quote);
            rc = -1;
        }
    }
    json_tape_free(&t);
    if (rc != 0)
        prober_run_abort(r, msg);
    return rc;
}

static void prober_run_on_trigger(void *ctx, const struct http_request_result *res)
{
    struct prober_run *r = ctx;
    struct prober_probe *pp = r->pr_probe;
    const struct config_probe *def = pp->pp_def;
    const struct http_request *req = r->pr_req; /* valid during this call */
    r->pr_req = NULL;
    uint64_t now = clock_mono_ms();
    uint64_t took_us = res->hrr_finished_us - res->hrr_started_us;
    prober_observe(&pp->pp_view.sp_trigger, took_us / 1000);
    const char *url = config_probe_trigger_display(def);
    const char *method = config_probe_trigger_method(def);
    char msg[PROBER_MSG_MAX];
    char quote[PROBER_BODY_QUOTE + 1];
    if (res->hrr_status == 0) {
        snprintf(msg, sizeof(msg), "trigger %s %s failed: %s", method, url,
                 res->hrr_error[0] != '\0' ? res->hrr_error : "no response");
        prober_run_abort(r, msg);
        return;
    }
    if (!config_probe_status_ok(def, res->hrr_status)) {
        prober_quote(quote, req, res);
        snprintf(msg, sizeof(msg), "trigger %s %s answered %ld, not an expected status: %s", method,
                 url, res->hrr_status, quote);
        prober_run_abort(r, msg);
        return;
    }
    if (res->hrr_error[0] != '\0') {
        /* A response came but its transfer failed (cut short, timed out
         * in its body): the backend may not have done what was asked. */
        snprintf(msg, sizeof(msg), "trigger %s %s answered %ld, then failed: %s", method, url,
                 res->hrr_status, res->hrr_error);
        prober_run_abort(r, msg);
        return;
    }
    if (prober_run_capture(r, req, res, method, url) != 0)
        return;
    if (prober_run_steps(r, now) != 0) {
        r->pr_answered = true;
        r->pr_finishing = true;
        deadline_arm(&r->pr_timer, 0);
        return;
    }
    r->pr_answered = true;
    prober_run_replay(r);
    if (r->pr_held_dropped > 0) {
        snprintf(msg, sizeof(msg),
                 "%llu events arrived before the trigger answered beyond what a run keeps "
                 "(%d events, %zu bytes): they were not matched",
                 (unsigned long long)r->pr_held_dropped, PROBER_BUFFER_EVENTS, PROBER_BUFFER_BYTES);
        prober_violation(r, NULL, VIOLATION_PROBE_FAILED, VIOLATION_WARNING, msg, NULL, now);
    }
    probe_run_tick(r->pr_steps, now);
    prober_report_steps(r, now);
    size_t ns = config_probe_stream_count(def);
    r->pr_streams = calloc(ns > 0 ? ns : 1, sizeof(*r->pr_streams));
    if (r->pr_streams == NULL) {
        prober_violation(r, NULL, VIOLATION_PROBE_FAILED, VIOLATION_ERROR,
                         "out of memory for the streams", NULL, now);
    } else {
        r->pr_n_streams = ns;
        for (size_t i = 0; i < ns; i++)
            prober_stream_open(r, i, now);
    }
    prober_run_check(r);
}

/* Due: skip, or trigger. */
static void prober_run_start(struct prober_probe *pp)
{
    struct prober *p = pp->pp_prober;
    uint64_t now = clock_mono_ms();
    struct status_probe *v = &pp->pp_view;
    pp->pp_last_start_ms = now;
    struct prober_run *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        prober_schedule(pp, now);
        return;
    }
    r->pr_probe = pp;
    uuid_v4_new(r->pr_id);
    r->pr_started_ms = now;
    r->pr_started_wall_ms = clock_wall_ms();
    memcpy(pp->pp_last_id, r->pr_id, sizeof(pp->pp_last_id));
    v->sp_last_run_id = pp->pp_last_id;
    v->sp_last_started_wall_ms = r->pr_started_wall_ms;

    if (!prober_ready(p, config_probe_name(pp->pp_def))) {
        v->sp_skipped++;
        v->sp_last_result = "skipped";
        v->sp_last_duration_ms = 0;
        const struct prober_run_report rep = {
            .prr_probe = config_probe_name(pp->pp_def),
            .prr_run_id = pp->pp_last_id, /* r is freed below */
            .prr_result = "skipped",
        };
        free(r);
        if (p->p_host.ph_on_run != NULL)
            p->p_host.ph_on_run(p->p_host.ph_ctx, &rep);
        prober_schedule(pp, now);
        return;
    }
    if (deadline_init(&r->pr_timer, p->p_host.ph_base, prober_run_on_timer, r) != 0) {
        free(r);
        prober_schedule(pp, now);
        return;
    }
    pp->pp_run = r;
    v->sp_running = true;

    struct prober_lookup l = {.pl_run = r};
    struct config_probe_request req;
    const char *missing = NULL;
    char msg[PROBER_MSG_MAX];
    if (config_probe_request_build(pp->pp_def, prober_lookup, &l, &req, &missing) != 0) {
        if (missing != NULL)
            snprintf(msg, sizeof(msg), "cannot build the trigger: ${%s} has no value", missing);
        else
            snprintf(msg, sizeof(msg), "cannot build the trigger: %s", strerror(errno));
        prober_run_abort(r, msg);
        return;
    }
    const struct config_settings *cs = config_probe_trigger_settings(pp->pp_def);
    const struct http_request_options o = {
        .hro_method = req.cpr_method,
        .hro_url = req.cpr_url,
        .hro_headers = (const char *const *)req.cpr_headers,
        .hro_n_headers = req.cpr_n_headers,
        .hro_body = req.cpr_body,
        .hro_body_len = req.cpr_body_len,
        .hro_timeout_ms = config_probe_timeout_ms(pp->pp_def),
        .hro_connect_timeout_ms = cs->cs_connect_timeout_ms,
        .hro_ca_file = cs->cs_ca_file,
        .hro_insecure = cs->cs_insecure,
        .hro_client_cert = cs->cs_client_cert,
        .hro_client_key = cs->cs_client_key,
        .hro_proxy = cs->cs_proxy,
        .hro_no_proxy = cs->cs_no_proxy,
    };
    r->pr_req = http_request_start(p->p_host.ph_engine, &o, prober_run_on_trigger, r);
    int err = errno;
    config_probe_request_free(&req);
    if (r->pr_req == NULL) {
        snprintf(msg, sizeof(msg), "trigger %s %s: cannot start the request: %s",
                 config_probe_trigger_method(pp->pp_def), config_probe_trigger_display(pp->pp_def),
                 strerror(err));
        prober_run_abort(r, msg);
    }
}

static void prober_on_due(void *ctx)
{
    struct prober_probe *pp = ctx;
    if (pp->pp_run != NULL)
        return; /* never overlaps itself; the finish schedules the next */
    prober_run_start(pp);
}

static void prober_schedule(struct prober_probe *pp, uint64_t now)
{
    if (!pp->pp_prober->p_host.ph_scheduled)
        return;
    uint64_t due = probe_next_due(pp->pp_last_start_ms, now, config_probe_every_ms(pp->pp_def),
                                  prober_random());
    deadline_arm(&pp->pp_due, due > now ? due - now : 0);
}

/* ---- events ---- */

static void prober_hold(struct prober_run *r, size_t sub, uint64_t now,
                        const struct validator_seen *s)
{
    const char *json = NULL;
    size_t len = 0;
    if (s->vsn_tape != NULL && s->vsn_payload != JSON_TAPE_NONE)
        json = json_tape_raw(s->vsn_tape, s->vsn_payload, &len);
    if (r->pr_n_held >= PROBER_BUFFER_EVENTS || r->pr_held_bytes + len > PROBER_BUFFER_BYTES) {
        r->pr_held_dropped++;
        return;
    }
    if (r->pr_held == NULL) {
        r->pr_held = calloc(PROBER_BUFFER_EVENTS, sizeof(*r->pr_held));
        if (r->pr_held == NULL) {
            r->pr_held_dropped++;
            return;
        }
    }
    struct prober_held *h = &r->pr_held[r->pr_n_held];
    h->ph_sub = sub;
    h->ph_ms = now;
    h->ph_kind = strdup(s->vsn_kind);
    h->ph_variant = s->vsn_variant != NULL ? strdup(s->vsn_variant) : NULL;
    h->ph_json = json != NULL ? prober_strndup(json, len) : NULL;
    h->ph_len = len;
    if (h->ph_kind == NULL || (s->vsn_variant != NULL && h->ph_variant == NULL) ||
        (json != NULL && h->ph_json == NULL)) {
        free(h->ph_kind);
        free(h->ph_variant);
        free(h->ph_json);
        r->pr_held_dropped++;
        return;
    }
    r->pr_n_held++;
    r->pr_held_bytes += len;
}

void prober_event(struct prober *p, const char *subscription, uint64_t now_ms,
                  const struct validator_seen *s)
{
    for (size_t i = 0; i < p->p_n_probes; i++) {
        struct prober_probe *pp = p->p_probes[i];
        struct prober_run *r = pp->pp_run;
        if (r == NULL || r->pr_finishing || now_ms < r->pr_started_ms)
            continue;
        for (size_t k = 0; k < pp->pp_n_subs; k++) {
            if (strcmp(pp->pp_subs[k], subscription) != 0)
                continue;
            if (!r->pr_answered) {
                prober_hold(r, k, now_ms, s);
            } else if (r->pr_steps != NULL) {
                probe_run_event(r->pr_steps, now_ms, k, s->vsn_kind, s->vsn_variant, s->vsn_tape,
                                s->vsn_payload);
                prober_report_steps(r, now_ms);
                prober_run_check(r);
            }
            break;
        }
    }
}

/* ---- probes ---- */

static void prober_probe_free(struct prober_probe *pp)
{
    if (pp == NULL)
        return;
    prober_run_free(pp->pp_run);
    deadline_release(&pp->pp_due);
    size_t nc = config_probe_capture_count(pp->pp_def);
    for (size_t i = 0; pp->pp_last_caps != NULL && i < nc; i++)
        free(pp->pp_last_caps[i]);
    free(pp->pp_last_caps);
    free(pp->pp_view_caps);
    size_t ne = config_probe_expect_count(pp->pp_def);
    for (size_t i = 0; pp->pp_step_event != NULL && i < ne; i++)
        free(pp->pp_step_event[i]);
    free(pp->pp_step_event);
    free(pp->pp_stream_names);
    free(pp->pp_view_steps);
    free(pp->pp_windows);
    free(pp->pp_step_sub);
    free(pp->pp_subs);
    config_unref(pp->pp_config);
    free(pp);
}

static struct prober_probe *prober_probe_new(struct prober *p, struct config *cfg,
                                             const struct config_probe *def)
{
    struct prober_probe *pp = calloc(1, sizeof(*pp));
    if (pp == NULL)
        return NULL;
    pp->pp_prober = p;
    pp->pp_config = config_ref(cfg);
    pp->pp_def = def;
    size_t ne = config_probe_expect_count(def);
    size_t ns = config_probe_stream_count(def);
    size_t nc = config_probe_capture_count(def);
    pp->pp_subs = calloc(ne > 0 ? ne : 1, sizeof(*pp->pp_subs));
    pp->pp_step_sub = calloc(ne > 0 ? ne : 1, sizeof(*pp->pp_step_sub));
    pp->pp_step_event = calloc(ne > 0 ? ne : 1, sizeof(*pp->pp_step_event));
    pp->pp_stream_names = calloc(ns > 0 ? ns : 1, sizeof(*pp->pp_stream_names));
    pp->pp_view_steps = calloc(ne + ns > 0 ? ne + ns : 1, sizeof(*pp->pp_view_steps));
    pp->pp_windows = calloc(ne + ns > 0 ? ne + ns : 1, sizeof(*pp->pp_windows));
    pp->pp_view_caps = calloc(nc > 0 ? nc : 1, sizeof(*pp->pp_view_caps));
    pp->pp_last_caps = calloc(nc > 0 ? nc : 1, sizeof(*pp->pp_last_caps));
    if (pp->pp_subs == NULL || pp->pp_step_sub == NULL || pp->pp_step_event == NULL ||
        pp->pp_stream_names == NULL || pp->pp_view_steps == NULL || pp->pp_windows == NULL ||
        pp->pp_view_caps == NULL || pp->pp_last_caps == NULL ||
        deadline_init(&pp->pp_due, p->p_host.ph_base, prober_on_due, pp) != 0) {
        prober_probe_free(pp);
        return NULL;
    }
    for (size_t i = 0; i < ne; i++) {
        struct config_probe_expect_view ev;
        config_probe_expect_at(def, i, &ev);
        size_t k = 0;
        while (k < pp->pp_n_subs && strcmp(pp->pp_subs[k], ev.cev_subscription) != 0)
            k++;
        if (k == pp->pp_n_subs)
            pp->pp_subs[pp->pp_n_subs++] = ev.cev_subscription;
        pp->pp_step_sub[i] = k;
        pp->pp_step_event[i] = strdup(ev.cev_event);
        if (pp->pp_step_event[i] == NULL) {
            prober_probe_free(pp);
            return NULL;
        }
        pp->pp_view_steps[i].sps_subscription = ev.cev_subscription;
        pp->pp_view_steps[i].sps_event = pp->pp_step_event[i];
    }
    for (size_t i = 0; i < ns; i++) {
        snprintf(pp->pp_stream_names[i], PROBER_STREAM_NAME, "stream/%zu", i);
        pp->pp_view_steps[ne + i].sps_subscription = pp->pp_stream_names[i];
        pp->pp_view_steps[ne + i].sps_event = "final";
    }
    for (size_t i = 0; i < ne + ns; i++) {
        pp->pp_view_steps[i].sps_p50_ms = UINT64_MAX;
        pp->pp_view_steps[i].sps_p99_ms = UINT64_MAX;
        pp->pp_view_steps[i].sps_last_delivery_ms = UINT64_MAX;
    }
    for (size_t i = 0; i < nc; i++)
        pp->pp_view_caps[i].spc_name = config_probe_capture_name(def, i);
    struct status_probe *v = &pp->pp_view;
    v->sp_name = config_probe_name(def);
    v->sp_description = config_probe_description(def);
    v->sp_every_ms = config_probe_every_ms(def);
    v->sp_steps = pp->pp_view_steps;
    v->sp_n_steps = ne + ns;
    v->sp_captures = pp->pp_view_caps;
    return pp;
}

/* The first run of a new probe: soon, spread so that probes added together
 * do not fire together. */
static void prober_probe_begin(struct prober_probe *pp)
{
    if (!pp->pp_prober->p_host.ph_scheduled)
        return;
    uint64_t every = config_probe_every_ms(pp->pp_def);
    uint64_t span = every < PROBER_FIRST_MAX_MS ? every : PROBER_FIRST_MAX_MS;
    deadline_arm(&pp->pp_due, span > 0 ? prober_random() % span : 0);
}

struct prober *prober_new(const struct prober_host *h)
{
    struct prober *p = calloc(1, sizeof(*p));
    if (p != NULL)
        p->p_host = *h;
    return p;
}

void prober_free(struct prober *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->p_n_probes; i++)
        prober_probe_free(p->p_probes[i]);
    free(p->p_probes);
    free(p->p_view);
    config_unref(p->p_config);
    free(p);
}

int prober_apply(struct prober *p, struct config *cfg, size_t *kept, size_t *started)
{
    size_t n = config_probe_count(cfg);
    struct prober_probe **probes = calloc(n > 0 ? n : 1, sizeof(*probes));
    struct status_probe *view = calloc(n > 0 ? n : 1, sizeof(*view));
    bool *fresh = calloc(n > 0 ? n : 1, sizeof(*fresh));
    if (probes == NULL || view == NULL || fresh == NULL) {
        free(probes);
        free(view);
        free(fresh);
        return -1;
    }
    *kept = *started = 0;
    for (size_t i = 0; i < n; i++) {
        const struct config_probe *def = config_probe_at(cfg, i);
        for (size_t j = 0; j < p->p_n_probes; j++) {
            struct prober_probe *old = p->p_probes[j];
            if (old != NULL && config_probe_equal(old->pp_def, def)) {
                probes[i] = old;
                p->p_probes[j] = NULL;
                (*kept)++;
                break;
            }
        }
        if (probes[i] == NULL) {
            probes[i] = prober_probe_new(p, cfg, def);
            fresh[i] = true;
            if (probes[i] == NULL) {
                for (size_t k = 0; k < i; k++)
                    if (fresh[k])
                        prober_probe_free(probes[k]);
                /* Kept ones go back where they were. */
                for (size_t k = 0, j = 0; k < i; k++)
                    if (!fresh[k]) {
                        while (j < p->p_n_probes && p->p_probes[j] != NULL)
                            j++;
                        if (j < p->p_n_probes)
                            p->p_probes[j] = probes[k];
                    }
                free(probes);
                free(view);
                free(fresh);
                return -1;
            }
            (*started)++;
        }
    }
    for (size_t j = 0; j < p->p_n_probes; j++)
        prober_probe_free(p->p_probes[j]);
    free(p->p_probes);
    free(p->p_view);
    p->p_probes = probes;
    p->p_n_probes = n;
    p->p_view = view;
    p->p_view_cap = n;
    for (size_t i = 0; i < n; i++)
        if (fresh[i])
            prober_probe_begin(probes[i]);
    free(fresh);
    config_unref(p->p_config);
    p->p_config = config_ref(cfg);
    return 0;
}

static struct prober_probe *prober_find(const struct prober *p, const char *name)
{
    for (size_t i = 0; i < p->p_n_probes; i++)
        if (strcmp(config_probe_name(p->p_probes[i]->pp_def), name) == 0)
            return p->p_probes[i];
    return NULL;
}

bool prober_ready(const struct prober *p, const char *name)
{
    const struct prober_probe *pp = prober_find(p, name);
    if (pp == NULL)
        return false;
    /* Streaming, and the current stream has delivered an event (the
     * gateway's ready): the connection is registered where the trigger's
     * events are sent. */
    for (size_t k = 0; k < pp->pp_n_subs; k++) {
        struct monitor *m = p->p_host.ph_monitor(p->p_host.ph_ctx, pp->pp_subs[k]);
        const struct monitor_stats *st = m != NULL ? monitor_stats(m) : NULL;
        if (st == NULL || st->ms_state != MONITOR_STREAMING || st->ms_connection_events == 0)
            return false;
    }
    return true;
}

int prober_run_now(struct prober *p, const char *name)
{
    struct prober_probe *pp = prober_find(p, name);
    if (pp == NULL) {
        errno = ENOENT;
        return -1;
    }
    if (pp->pp_run != NULL) {
        errno = EBUSY;
        return -1;
    }
    prober_run_start(pp);
    return 0;
}

size_t prober_busy(const struct prober *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->p_n_probes; i++)
        if (p->p_probes[i]->pp_run != NULL)
            n++;
    return n;
}

void prober_failure_evidence(struct prober *p, const char *probe, const char *name)
{
    struct prober_probe *pp = prober_find(p, probe);
    if (pp == NULL || pp->pp_view.sp_last_failure == NULL)
        return;
    snprintf(pp->pp_last_failure_evidence, sizeof(pp->pp_last_failure_evidence), "%s", name);
    pp->pp_view.sp_last_failure_evidence = pp->pp_last_failure_evidence;
}

size_t prober_view(struct prober *p, const struct status_probe **out)
{
    for (size_t i = 0; i < p->p_n_probes; i++)
        p->p_view[i] = p->p_probes[i]->pp_view;
    *out = p->p_view;
    return p->p_n_probes;
}
