/*
 * One subscription, judged live: the engine's callbacks feed a judge (which
 * keeps the validator's clock) and the counters the daemon shows.
 */
#include "ssemon/io/monitor.h"
#include "ssemon/base/clock.h"
#include "ssemon/base/utf8.h"
#include "ssemon/core/entry_ring.h"
#include "ssemon/io/deadline.h"
#include "ssemon/io/judge.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const double monitor_gap_bounds[MONITOR_GAP_BUCKETS] = {0.5, 1,  2,  5,  10, 15,
                                                        20,  30, 45, 60, 90, 120};
const double monitor_latency_bounds[MONITOR_LATENCY_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                0.5,   1,    2.5,   5,    10};

const double monitor_ratio_bounds[MONITOR_RATIO_BUCKETS] = {0.25, 0.5, 0.75, 0.8, 0.9, 1};

struct monitor {
    char *m_name;
    char *m_url;
    bool m_insecure;     /* mo_sub.so_insecure */
    char *m_description; /* NULL: none */
    const struct contract *m_contract;
    struct subscription *m_sub;
    struct judge *m_judge;
    struct monitor_callbacks m_cb;
    void *m_ctx;
    uint64_t m_healthy_window_ms;
    struct monitor_stats m_st;
    bool m_ever_connected; /* some connection did */
    uint64_t m_seen_heartbeats;
    bool m_latency_seen; /* first-event latency of this lifecycle observed */
    uint64_t m_streaming_since_ms;
    /* Per-attempt targets: the configured one (copies of mo_sub's URL and
     * headers when mo_prepare is set, and always of mo_val's variables),
     * and the current attempt's. */
    int (*m_prepare)(void *ctx, struct monitor *m, uint64_t attempt, struct monitor_attempt *out);
    void *m_prepare_ctx;
    struct monitor_attempt m_cfg;
    struct monitor_attempt m_attempt;
    bool m_prepare_failed; /* the attempt under way could not be prepared */
    /* Stall reopening: the silence of the open stream runs from
     * m_silence_from (its open, its last heartbeat); once heartbeat_missed
     * fired, m_stall fires at m_silence_from + factor x limit. */
    unsigned m_stall_factor;
    bool m_stall_ready; /* m_stall is initialised */
    struct deadline m_stall;
    uint64_t m_silence_from;
    /* The last MONITOR_RECENT_MAX violations, packed (monitor_recent_keep). */
    struct entry_ring *m_recent;
    struct flight *m_flight;
    struct monitor_close m_close;
};

static const char *const monitor_state_names[] = {
    [MONITOR_CONNECTING] = "connecting",
    [MONITOR_STREAMING] = "streaming",
    [MONITOR_BACKOFF] = "backoff",
    [MONITOR_STOPPED] = "stopped",
};

const char *monitor_state_name(enum monitor_state s)
{
    if ((unsigned)s > MONITOR_STOPPED)
        return "unknown";
    return monitor_state_names[s];
}

void monitor_histogram_observe(struct monitor_histogram *h, const double *bounds, size_t n,
                               double seconds)
{
    size_t i = 0;
    while (i < n && seconds > bounds[i])
        i++;
    h->mh_counts[i]++;
    h->mh_count++;
    if (seconds > 0)
        h->mh_sum_micro += (uint64_t)llround(seconds * 1e6);
}

/* The stream proved it is alive (a heartbeat, or an event where every event
 * resets the heartbeat window): its silence is over. */
static void monitor_on_alive(struct monitor *m)
{
    condition_on_heartbeat(&m->m_st.ms_conditions);
    m->m_silence_from = clock_mono_ms();
    if (m->m_stall_ready)
        deadline_cancel(&m->m_stall);
}

/* heartbeat_missed fired on the open stream: the stall timer is armed for
 * factor x limit of silence. */
static void monitor_arm_stall(struct monitor *m)
{
    if (!m->m_stall_ready || m->m_stall_factor == 0 || m->m_st.ms_state != MONITOR_STREAMING)
        return;
    uint64_t limit = validator_stats(judge_validator(m->m_judge))->vs_hb_limit_ms;
    if (limit == 0)
        return;
    uint64_t span = limit > UINT64_MAX / m->m_stall_factor ? UINT64_MAX : limit * m->m_stall_factor;
    uint64_t due = m->m_silence_from > UINT64_MAX - span ? UINT64_MAX : m->m_silence_from + span;
    uint64_t now = clock_mono_ms();
    /* A failed arm leaves the stream open: reopening is a remedy, not a
     * judgement, and the condition stays open either way. */
    (void)deadline_arm(&m->m_stall, due > now ? due - now : 0);
}

/* The stall timer: a stream still silent is closed and opened again, to
 * learn whether a fresh connection works (a half-open one never ends). */
static void monitor_on_stall(void *ctx)
{
    struct monitor *m = ctx;
    if (m->m_st.ms_state != MONITOR_STREAMING ||
        !condition_is_open(&m->m_st.ms_conditions, VIOLATION_HEARTBEAT_MISSED))
        return;
    uint64_t silent = clock_mono_ms() - m->m_silence_from;
    char detail[96];
    snprintf(detail, sizeof(detail), "reopened after %llu ms of silence",
             (unsigned long long)silent);
    m->m_st.ms_stall_reopens++;
    if (m->m_cb.mc_on_lifecycle != NULL)
        m->m_cb.mc_on_lifecycle(m->m_ctx, m, MONITOR_LOST, 0, detail);
    /* Stopped, the stream's end is not judged (its silence was). */
    subscription_stop(m->m_sub);
    if (subscription_start(m->m_sub) == 0) {
        m->m_st.ms_state = MONITOR_CONNECTING;
        m->m_st.ms_reconnects++;
    }
}

/* Heartbeat gaps and first-event latency, read off the validator after each
 * call that may have changed them. */
static void monitor_after_input(struct monitor *m)
{
    const struct validator_stats *vs = validator_stats(judge_validator(m->m_judge));
    if (vs->vs_heartbeats != m->m_seen_heartbeats) {
        m->m_seen_heartbeats = vs->vs_heartbeats;
        monitor_on_alive(m);
        m->m_st.ms_heartbeats++;
        m->m_st.ms_last_heartbeat_wall_ms = clock_wall_ms();
        monitor_histogram_observe(&m->m_st.ms_gap, monitor_gap_bounds, MONITOR_GAP_BUCKETS,
                                  (double)vs->vs_last_heartbeat_gap_ms / 1000.0);
        if (vs->vs_hb_limit_ms > 0) {
            uint64_t pm = vs->vs_last_heartbeat_gap_ms * 1000 / vs->vs_hb_limit_ms;
            minute_ring_max(&m->m_st.ms_minutes, m->m_st.ms_last_heartbeat_wall_ms,
                            MONITOR_MINUTE_GAP_PERMILLE,
                            pm > UINT32_MAX ? UINT32_MAX : (uint32_t)pm);
            monitor_histogram_observe(
                &m->m_st.ms_gap_ratio, monitor_ratio_bounds, MONITOR_RATIO_BUCKETS,
                (double)vs->vs_last_heartbeat_gap_ms / (double)vs->vs_hb_limit_ms);
        }
    }
    if (!m->m_latency_seen && vs->vs_first_event_latency_ms != UINT64_MAX) {
        m->m_latency_seen = true;
        condition_on_first_event(&m->m_st.ms_conditions);
        monitor_histogram_observe(&m->m_st.ms_latency, monitor_latency_bounds,
                                  MONITOR_LATENCY_BUCKETS,
                                  (double)vs->vs_first_event_latency_ms / 1000.0);
    }
}

void monitor_violation_keep(struct monitor_violation *out, const struct violation *v,
                            uint64_t wall_ms)
{
    out->mv_class = v->v_class;
    out->mv_severity = v->v_severity;
    utf8_copy(out->mv_message, sizeof(out->mv_message), v->v_message);
    utf8_copy(out->mv_event, sizeof(out->mv_event), v->v_event);
    utf8_copy(out->mv_state, sizeof(out->mv_state), v->v_state);
    utf8_copy(out->mv_excerpt, sizeof(out->mv_excerpt), v->v_excerpt);
    out->mv_wall_ms = wall_ms;
    out->mv_evidence[0] = '\0';
}

/* A packed violation: this header, then its texts (no terminators) in the
 * order of mrp_len. */
struct monitor_recent_head {
    uint64_t mrp_wall_ms;
    int32_t mrp_class;
    int32_t mrp_severity;
    uint16_t mrp_len[5]; /* message, event, state, excerpt, evidence */
};

#define MONITOR_RECENT_PACKED_MAX                                                                  \
    (sizeof(struct monitor_recent_head) + MONITOR_TEXT_MAX + 64 + 64 + VIOLATION_EXCERPT_MAX + 1 + \
     200)
_Static_assert(MONITOR_RECENT_PACKED_MAX <= MONITOR_RECENT_BYTES,
               "a packed violation fits in the ring's budget");

static char *monitor_recent_texts(struct monitor_violation *v, size_t k, size_t *size)
{
    char *const texts[] = {v->mv_message, v->mv_event, v->mv_state, v->mv_excerpt, v->mv_evidence};
    const size_t sizes[] = {sizeof(v->mv_message), sizeof(v->mv_event), sizeof(v->mv_state),
                            sizeof(v->mv_excerpt), sizeof(v->mv_evidence)};
    *size = sizes[k];
    return texts[k];
}

/* Puts the last violation in the ring: a new entry, or (replace) in place
 * of the newest. A violation that cannot be kept (out of memory) is not
 * listed. */
static void monitor_recent_keep(struct monitor *m, bool replace)
{
    unsigned char buf[MONITOR_RECENT_PACKED_MAX];
    struct monitor_violation *v = &m->m_st.ms_last_violation;
    struct monitor_recent_head h = {.mrp_wall_ms = v->mv_wall_ms,
                                    .mrp_class = (int32_t)v->mv_class,
                                    .mrp_severity = (int32_t)v->mv_severity};
    size_t at = sizeof(h);
    for (size_t k = 0; k < 5; k++) {
        size_t size;
        const char *t = monitor_recent_texts(v, k, &size);
        size_t len = strnlen(t, size - 1);
        h.mrp_len[k] = (uint16_t)len;
        memcpy(buf + at, t, len);
        at += len;
    }
    memcpy(buf, &h, sizeof(h));
    if (replace)
        (void)entry_ring_replace_newest(m->m_recent, buf, at);
    else
        (void)entry_ring_push(m->m_recent, buf, at);
}

static void monitor_on_violation(void *ctx, const struct violation *v)
{
    struct monitor *m = ctx;
    struct monitor_stats *st = &m->m_st;
    st->ms_violations_total++;
    if ((unsigned)v->v_class < VIOLATION_CLASS_COUNT)
        st->ms_violations[v->v_class]++;
    if (v->v_severity == VIOLATION_ERROR)
        st->ms_last_error_mono_ms = clock_mono_ms();
    st->ms_has_last_violation = true;
    uint64_t wall = clock_wall_ms();
    monitor_violation_keep(&st->ms_last_violation, v, wall);
    minute_ring_add(&st->ms_minutes, wall, MONITOR_MINUTE_VIOLATIONS, 1);
    monitor_recent_keep(m, false);
    condition_open(&st->ms_conditions, v->v_class, wall);
    if (v->v_class == VIOLATION_HEARTBEAT_MISSED)
        monitor_arm_stall(m);
    if ((unsigned)v->v_class < VIOLATION_CLASS_COUNT)
        st->ms_last_violation_wall_ms[v->v_class] = wall;
    if ((unsigned)v->v_class < VIOLATION_CLASS_COUNT)
        st->ms_last_violation_severity[v->v_class] = v->v_severity;
    if (m->m_cb.mc_on_violation != NULL)
        m->m_cb.mc_on_violation(m->m_ctx, m, v);
}

static void monitor_on_seen(void *ctx, uint64_t now_ms, const struct validator_seen *seen)
{
    struct monitor *m = ctx;
    m->m_cb.mc_on_event(m->m_ctx, m, now_ms, seen);
}

/* ---- per-attempt targets ---- */

/* Strings the monitor owns behind const pointers (validator_var's). */
static void monitor_free_const(const char *p)
{
    free((void *)(uintptr_t)p);
}

void monitor_attempt_clear(struct monitor_attempt *a)
{
    if (a == NULL)
        return;
    free(a->ma_url);
    for (size_t i = 0; a->ma_headers != NULL && i < a->ma_n_headers; i++)
        free(a->ma_headers[i]);
    free(a->ma_headers);
    for (size_t i = 0; a->ma_vars != NULL && i < a->ma_n_vars; i++) {
        monitor_free_const(a->ma_vars[i].vv_name);
        monitor_free_const(a->ma_vars[i].vv_value);
    }
    free(a->ma_vars);
    memset(a, 0, sizeof(*a));
}

/* The configuration's target and variables, as an attempt would give them. */
static int monitor_copy_cfg(struct monitor *m, const struct monitor_options *o)
{
    struct monitor_attempt *c = &m->m_cfg;
    const struct validator_options *vo = &o->mo_val;
    if (o->mo_prepare != NULL) {
        if (o->mo_sub.so_url != NULL && (c->ma_url = strdup(o->mo_sub.so_url)) == NULL)
            return -1;
        if (o->mo_sub.so_nheaders > 0) {
            c->ma_headers = calloc(o->mo_sub.so_nheaders, sizeof(char *));
            if (c->ma_headers == NULL)
                return -1;
            c->ma_n_headers = o->mo_sub.so_nheaders;
            for (size_t i = 0; i < c->ma_n_headers; i++) {
                const char *h = o->mo_sub.so_headers[i];
                /* A NULL header is refused by subscription_new already. */
                if (h != NULL && (c->ma_headers[i] = strdup(h)) == NULL)
                    return -1;
            }
        }
    }
    if (vo->vo_n_vars == 0)
        return 0;
    c->ma_vars = calloc(vo->vo_n_vars, sizeof(*c->ma_vars));
    if (c->ma_vars == NULL)
        return -1;
    for (size_t i = 0; i < vo->vo_n_vars; i++) {
        const struct validator_var *v = &vo->vo_vars[i];
        if (v->vv_name == NULL || v->vv_value == NULL)
            continue;
        struct validator_var *out = &c->ma_vars[c->ma_n_vars++];
        out->vv_name = strdup(v->vv_name);
        out->vv_value = strdup(v->vv_value);
        if (out->vv_name == NULL || out->vv_value == NULL)
            return -1;
    }
    return 0;
}

/* The validator's variables for the attempt's stream: the configured ones,
 * then the attempt's over them. */
static int monitor_apply_vars(struct monitor *m)
{
    size_t nc = m->m_cfg.ma_n_vars, na = m->m_attempt.ma_n_vars;
    if (na == 0)
        return judge_set_vars(m->m_judge, m->m_cfg.ma_vars, nc);
    struct validator_var *all = calloc(nc + na, sizeof(*all));
    if (all == NULL)
        return -1;
    if (nc > 0)
        memcpy(all, m->m_cfg.ma_vars, nc * sizeof(*all));
    memcpy(all + nc, m->m_attempt.ma_vars, na * sizeof(*all));
    int rc = judge_set_vars(m->m_judge, all, nc + na);
    free(all);
    return rc;
}

static int monitor_on_prepare(void *ctx, struct subscription *s, uint64_t attempt)
{
    struct monitor *m = ctx;
    struct monitor_attempt a = {0};
    int rc = m->m_prepare(m->m_prepare_ctx, m, attempt, &a);
    monitor_attempt_clear(&m->m_attempt);
    m->m_attempt = a;
    if (rc == 0) {
        const struct monitor_attempt *t = a.ma_url != NULL ? &a : &m->m_cfg;
        rc = subscription_set_target(s, t->ma_url, (const char *const *)t->ma_headers,
                                     t->ma_n_headers);
    }
    if (rc == 0)
        rc = monitor_apply_vars(m);
    if (rc != 0) {
        /* Nothing of a failed attempt is shown as current. */
        monitor_attempt_clear(&m->m_attempt);
        m->m_prepare_failed = true;
        return -1;
    }
    return 0;
}

/* ---- the engine's callbacks ---- */

static void monitor_on_connecting(void *ctx, struct subscription *s,
                                  const struct sub_connecting_info *info)
{
    struct monitor *m = ctx;
    (void)s;
    m->m_st.ms_state = MONITOR_CONNECTING;
    if (info->sci_attempt > 1)
        m->m_st.ms_reconnects++;
}

static void monitor_on_open(void *ctx, struct subscription *s, const struct sub_open_info *info)
{
    struct monitor *m = ctx;
    (void)s;
    uint64_t now = clock_mono_ms();
    m->m_latency_seen = false;
    m->m_streaming_since_ms = now;
    m->m_st.ms_state = MONITOR_STREAMING;
    m->m_st.ms_connected_since_wall_ms = clock_wall_ms();
    m->m_st.ms_connection_events = 0;
    m->m_st.ms_ended_by_contract = false;
    m->m_silence_from = now;
    /* A stream opened: the conditions of not getting one close (before the
     * open is judged, which may open http_status again). */
    condition_on_stream_open(&m->m_st.ms_conditions);
    struct recording_field fields[FLIGHT_HEADERS_MAX];
    size_t nf = info->soi_nheaders < FLIGHT_HEADERS_MAX ? info->soi_nheaders : FLIGHT_HEADERS_MAX;
    for (size_t i = 0; i < nf; i++) {
        fields[i].rf_name = info->soi_headers[i].sh_name;
        fields[i].rf_name_len = info->soi_headers[i].sh_name_len;
        fields[i].rf_value = info->soi_headers[i].sh_value;
        fields[i].rf_value_len = info->soi_headers[i].sh_value_len;
    }
    /* Out of memory, the recorder keeps the status without headers. */
    (void)flight_open(m->m_flight, now, m->m_st.ms_connected_since_wall_ms, info->soi_status,
                      fields, nf);
    if (judge_open(m->m_judge, now, info->soi_status, info->soi_headers, info->soi_nheaders) != 0)
        judge_open(m->m_judge, now, info->soi_status, NULL,
                   0); /* the status, rather than nothing */
    uint64_t failures = m->m_st.ms_consecutive_failures;
    m->m_st.ms_consecutive_failures = 0;
    if (failures > 0 && m->m_ever_connected) {
        if (m->m_cb.mc_on_lifecycle != NULL)
            m->m_cb.mc_on_lifecycle(m->m_ctx, m, MONITOR_RECOVERED, failures, "");
    } else if (!m->m_ever_connected) {
        if (m->m_cb.mc_on_lifecycle != NULL)
            m->m_cb.mc_on_lifecycle(m->m_ctx, m, MONITOR_CONNECTED, failures, "");
    }
    m->m_ever_connected = true;
    monitor_after_input(m);
}

static void monitor_on_event(void *ctx, struct subscription *s, const struct sse_event *ev)
{
    struct monitor *m = ctx;
    (void)s;
    struct monitor_stats *st = &m->m_st;
    st->ms_events++;
    st->ms_connection_events++;
    st->ms_last_event_wall_ms = clock_wall_ms();
    minute_ring_add(&st->ms_minutes, st->ms_last_event_wall_ms, MONITOR_MINUTE_EVENTS, 1);
    size_t k = contract_event_index(m->m_contract, ev->type, ev->type_len);
    if (k >= st->ms_n_kinds - 1)
        k = st->ms_n_kinds - 1;
    st->ms_events_by_kind[k]++;
    judge_event(m->m_judge, clock_mono_ms(), ev);
    if (m->m_contract->c_hb_reset_on_any)
        monitor_on_alive(m);
    monitor_after_input(m);
}

static void monitor_on_comment(void *ctx, struct subscription *s, const char *text, size_t len)
{
    struct monitor *m = ctx;
    (void)s;
    judge_comment(m->m_judge, clock_mono_ms(), text, len);
    monitor_after_input(m);
}

static void monitor_on_anomaly(void *ctx, struct subscription *s, enum sse_anomaly kind,
                               const char *line, size_t len)
{
    struct monitor *m = ctx;
    (void)s;
    judge_anomaly(m->m_judge, clock_mono_ms(), kind, line, len);
    monitor_after_input(m);
}

static void monitor_on_chunk(void *ctx, struct subscription *s, const void *buf, size_t len)
{
    struct monitor *m = ctx;
    (void)s;
    m->m_st.ms_bytes += len;
    flight_feed(m->m_flight, clock_mono_ms(), clock_wall_ms(), buf, len);
}

/* Keeps a refused response's headers for its evidence (out of memory:
 * none). */
static void monitor_close_headers(struct monitor_close *c, const struct sub_closed_info *info)
{
    c->mcl_n_headers = 0;
    if ((info->scl_reason != STREAM_CLOSE_HTTP_STATUS &&
         info->scl_reason != STREAM_CLOSE_CONTENT_TYPE) ||
        info->scl_nheaders == 0)
        return;
    if (c->mcl_headers == NULL) {
        c->mcl_headers = malloc(SUB_MAX_LISTED_HEADERS * sizeof(*c->mcl_headers));
        c->mcl_header_buf = malloc(SUB_MAX_LISTED_HEADER_BYTES);
        if (c->mcl_headers == NULL || c->mcl_header_buf == NULL) {
            free(c->mcl_headers);
            free(c->mcl_header_buf);
            c->mcl_headers = NULL;
            c->mcl_header_buf = NULL;
            return;
        }
    }
    size_t off = 0;
    for (size_t i = 0; i < info->scl_nheaders && i < SUB_MAX_LISTED_HEADERS; i++) {
        const struct sub_header *h = &info->scl_headers[i];
        if (h->sh_name_len + h->sh_value_len > SUB_MAX_LISTED_HEADER_BYTES - off)
            break;
        struct recording_field *f = &c->mcl_headers[c->mcl_n_headers++];
        f->rf_name = c->mcl_header_buf + off;
        f->rf_name_len = h->sh_name_len;
        memcpy(c->mcl_header_buf + off, h->sh_name, h->sh_name_len);
        off += h->sh_name_len;
        f->rf_value = c->mcl_header_buf + off;
        f->rf_value_len = h->sh_value_len;
        memcpy(c->mcl_header_buf + off, h->sh_value, h->sh_value_len);
        off += h->sh_value_len;
    }
}

static void monitor_on_closed(void *ctx, struct subscription *s, const struct sub_closed_info *info)
{
    struct monitor *m = ctx;
    (void)s;
    struct monitor_stats *st = &m->m_st;
    enum judge_end end;
    /* Before it is judged: a violation of its end reads it. */
    m->m_close.mcl_valid = true;
    m->m_close.mcl_reason = info->scl_reason;
    m->m_close.mcl_status = info->scl_status;
    utf8_copy(m->m_close.mcl_content_type, sizeof(m->m_close.mcl_content_type),
              info->scl_content_type != NULL ? info->scl_content_type : "");
    utf8_copy(m->m_close.mcl_error, sizeof(m->m_close.mcl_error),
              info->scl_error != NULL ? info->scl_error : "");
    m->m_close.mcl_before_headers = info->scl_before_headers;
    snprintf(m->m_close.mcl_location, sizeof(m->m_close.mcl_location), "%s",
             info->scl_location != NULL ? info->scl_location : "");
    m->m_close.mcl_body_len = 0;
    if (info->scl_body_len != 0 &&
        (m->m_close.mcl_body != NULL || (m->m_close.mcl_body = malloc(SUB_MAX_BODY)) != NULL)) {
        size_t n = info->scl_body_len < SUB_MAX_BODY ? info->scl_body_len : SUB_MAX_BODY;
        memcpy(m->m_close.mcl_body, info->scl_body, n);
        m->m_close.mcl_body_len = n;
    }
    monitor_close_headers(&m->m_close, info);
    if (m->m_prepare_failed) {
        /* No request was made: the attempt's own words, not a transport's. */
        m->m_prepare_failed = false;
        judge_connect_failed(m->m_judge, clock_mono_ms(), "cannot prepare the request");
        end = JUDGE_END_UNOPENED;
    } else {
        end = judge_close(m->m_judge, clock_mono_ms(), info, NULL);
    }
    m->m_streaming_since_ms = 0;
    if (m->m_stall_ready)
        deadline_cancel(&m->m_stall);
    /* False since the stream opened; true after a clean end in a final
     * state, until an attempt fails to open the next stream (the monitor
     * cannot get a stream it should have). */
    if (end == JUDGE_END_FINAL)
        st->ms_ended_by_contract = true;
    else if (end == JUDGE_END_UNOPENED)
        st->ms_ended_by_contract = false;
    if (end == JUDGE_END_LOST && m->m_cb.mc_on_lifecycle != NULL)
        m->m_cb.mc_on_lifecycle(m->m_ctx, m, MONITOR_LOST, 0, judge_close_detail(info));
    if (end == JUDGE_END_UNOPENED || end == JUDGE_END_LOST)
        st->ms_consecutive_failures++;
    st->ms_connected_since_wall_ms = 0;
    st->ms_state = info->scl_will_retry ? MONITOR_BACKOFF : MONITOR_STOPPED;
}

/* ---- lifecycle ---- */

struct monitor *monitor_new(struct sub_engine *e, struct event_base *base,
                            const struct monitor_options *o, const struct monitor_callbacks *cbs,
                            void *ctx)
{
    struct monitor *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->m_contract = o->mo_contract;
    m->m_healthy_window_ms = o->mo_healthy_window_ms;
    if (cbs != NULL)
        m->m_cb = *cbs;
    m->m_ctx = ctx;
    m->m_st.ms_state = MONITOR_STOPPED;
    m->m_st.ms_n_kinds = o->mo_contract->c_n_events + 1;
    m->m_st.ms_events_by_kind = calloc(m->m_st.ms_n_kinds, sizeof(uint64_t));
    m->m_name = strdup(o->mo_name != NULL ? o->mo_name : "");
    m->m_url = strdup(o->mo_display_url != NULL ? o->mo_display_url : "");
    m->m_insecure = o->mo_sub.so_insecure;
    if (o->mo_description != NULL && monitor_set_description(m, o->mo_description) != 0)
        goto fail;
    m->m_prepare = o->mo_prepare;
    m->m_prepare_ctx = o->mo_prepare_ctx;
    m->m_stall_factor = o->mo_stall_reopen_factor;
    if (base != NULL && m->m_stall_factor > 0) {
        if (deadline_init(&m->m_stall, base, monitor_on_stall, m) != 0)
            goto fail;
        m->m_stall_ready = true;
    }
    m->m_recent = entry_ring_new_growing(MONITOR_RECENT_MAX, MONITOR_RECENT_BYTES,
                                         MONITOR_RECENT_MAX * MONITOR_RECENT_PACKED_MAX);
    m->m_flight = flight_new(o->mo_flight_events > 0 ? o->mo_flight_events : FLIGHT_DEFAULT_EVENTS,
                             o->mo_flight_bytes > 0 ? o->mo_flight_bytes : FLIGHT_DEFAULT_BYTES);
    if (m->m_st.ms_events_by_kind == NULL || m->m_name == NULL || m->m_url == NULL ||
        m->m_recent == NULL || m->m_flight == NULL || monitor_copy_cfg(m, o) != 0)
        goto fail;
    /* The daemon's base has priorities: a heartbeat window that expires
     * while hundreds of sockets are ready is then judged before them. */
    struct judge_options jo = {
        .jo_contract = o->mo_contract,
        .jo_val = o->mo_val,
        .jo_base = base,
    };
    jo.jo_val.vo_on_seen = m->m_cb.mc_on_event != NULL ? monitor_on_seen : NULL;
    jo.jo_val.vo_seen_ctx = m;
    const struct judge_callbacks jcb = {.jc_on_violation = monitor_on_violation};
    m->m_judge = judge_new(&jo, &jcb, m);
    if (m->m_judge == NULL)
        goto fail;
    const struct sub_callbacks scb = {
        .sc_on_connecting = monitor_on_connecting,
        .sc_on_open = monitor_on_open,
        .sc_on_event = monitor_on_event,
        .sc_on_comment = monitor_on_comment,
        .sc_on_anomaly = monitor_on_anomaly,
        .sc_on_chunk = monitor_on_chunk,
        .sc_on_closed = monitor_on_closed,
        .sc_on_prepare = o->mo_prepare != NULL ? monitor_on_prepare : NULL,
    };
    m->m_sub = subscription_new(e, &o->mo_sub, &scb, m);
    if (m->m_sub == NULL)
        goto fail;
    return m;
fail:
    monitor_free(m);
    errno = errno != 0 ? errno : ENOMEM;
    return NULL;
}

int monitor_start(struct monitor *m)
{
    return subscription_start(m->m_sub);
}

void monitor_stop(struct monitor *m)
{
    subscription_stop(m->m_sub);
    judge_disarm(m->m_judge);
    if (m->m_stall_ready)
        deadline_cancel(&m->m_stall);
    m->m_st.ms_state = MONITOR_STOPPED;
    m->m_streaming_since_ms = 0;
}

void monitor_free(struct monitor *m)
{
    if (m == NULL)
        return;
    subscription_free(m->m_sub);
    judge_free(m->m_judge);
    if (m->m_stall_ready)
        deadline_release(&m->m_stall);
    free(m->m_st.ms_events_by_kind);
    free(m->m_name);
    free(m->m_url);
    free(m->m_description);
    entry_ring_free(m->m_recent);
    flight_free(m->m_flight);
    free(m->m_close.mcl_body);
    free(m->m_close.mcl_headers);
    free(m->m_close.mcl_header_buf);
    monitor_attempt_clear(&m->m_cfg);
    monitor_attempt_clear(&m->m_attempt);
    free(m);
}

const char *monitor_name(const struct monitor *m)
{
    return m->m_name;
}

bool monitor_insecure(const struct monitor *m)
{
    return m->m_insecure;
}

const char *monitor_display_url(const struct monitor *m)
{
    return m->m_url;
}

const char *monitor_description(const struct monitor *m)
{
    return m->m_description;
}

int monitor_set_description(struct monitor *m, const char *text)
{
    char *copy = NULL;
    if (text != NULL && (copy = strdup(text)) == NULL)
        return -1;
    free(m->m_description);
    m->m_description = copy;
    return 0;
}

const struct contract *monitor_contract(const struct monitor *m)
{
    return m->m_contract;
}

const struct monitor_stats *monitor_stats(const struct monitor *m)
{
    return &m->m_st;
}

bool monitor_stats_up(const struct monitor_stats *st)
{
    return st->ms_state == MONITOR_STREAMING ||
           ((st->ms_state == MONITOR_BACKOFF || st->ms_state == MONITOR_CONNECTING) &&
            st->ms_ended_by_contract);
}

bool monitor_healthy(const struct monitor *m, uint64_t now_ms)
{
    const struct monitor_stats *st = &m->m_st;
    if (!monitor_stats_up(st) || condition_count(&st->ms_conditions) > 0)
        return false;
    if (st->ms_last_error_mono_ms == 0)
        return true;
    /* A `now` older than the last error (a caller's stale reading) is
     * within the window, never a huge unsigned age. */
    if (now_ms < st->ms_last_error_mono_ms)
        return false;
    return now_ms - st->ms_last_error_mono_ms >= m->m_healthy_window_ms;
}

const char *monitor_order_state(const struct monitor *m)
{
    return validator_state(judge_validator(m->m_judge));
}

const char *monitor_var(const struct monitor *m, const char *name)
{
    const struct monitor_attempt *from[2] = {&m->m_attempt, &m->m_cfg};
    if (name == NULL)
        return NULL;
    for (size_t k = 0; k < 2; k++)
        /* The last of one name wins, as in the validator. */
        for (size_t i = from[k]->ma_n_vars; i-- > 0;)
            if (from[k]->ma_vars[i].vv_name != NULL &&
                strcmp(from[k]->ma_vars[i].vv_name, name) == 0)
                return from[k]->ma_vars[i].vv_value;
    return NULL;
}

uint64_t monitor_streaming_since_ms(const struct monitor *m)
{
    return m->m_streaming_since_ms;
}

size_t monitor_recent_count(const struct monitor *m)
{
    return entry_ring_count(m->m_recent);
}

bool monitor_recent(const struct monitor *m, size_t i, struct monitor_violation *out)
{
    unsigned char buf[MONITOR_RECENT_PACKED_MAX];
    size_t len = entry_ring_len(m->m_recent, i);
    struct monitor_recent_head h;
    if (len < sizeof(h) || len > sizeof(buf))
        return false;
    (void)entry_ring_copy(m->m_recent, i, buf);
    memcpy(&h, buf, sizeof(h));
    memset(out, 0, sizeof(*out));
    out->mv_wall_ms = h.mrp_wall_ms;
    out->mv_class = (enum violation_class)h.mrp_class;
    out->mv_severity = (enum violation_severity)h.mrp_severity;
    size_t at = sizeof(h);
    for (size_t k = 0; k < 5; k++) {
        size_t size;
        char *t = monitor_recent_texts(out, k, &size);
        size_t n = h.mrp_len[k];
        if (n >= size || at + n > len)
            return false;
        memcpy(t, buf + at, n);
        t[n] = '\0';
        at += n;
    }
    return true;
}

const struct flight *monitor_flight(const struct monitor *m)
{
    return m->m_flight;
}

void monitor_set_evidence(struct monitor *m, const char *name)
{
    utf8_copy(m->m_st.ms_last_violation.mv_evidence, sizeof(m->m_st.ms_last_violation.mv_evidence),
              name);
    if (entry_ring_count(m->m_recent) > 0)
        monitor_recent_keep(m, true);
}

const struct monitor_close *monitor_last_close(const struct monitor *m)
{
    return &m->m_close;
}
