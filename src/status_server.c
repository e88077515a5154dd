/*
 * The daemon's status endpoint. Every response is rendered whole, at once,
 * from the view the daemon hands over at that moment, and queued for
 * evhttp to write: no request ever waits on anything, so a client can only
 * hold its own connection, never the loop.
 *
 * libevent 2.1 has no connection cap for evhttp, so we keep one ourselves:
 * the bufferevent callback counts each accepted connection, and a close
 * callback on its evhttp_connection counts it out. The connection object
 * only exists once evhttp has finished setting it up, after our callback
 * returned, so a zero-delay event "adopts" the new bufferevents right
 * after the accept (holding a reference on each meanwhile, so one that
 * evhttp already dropped is recognised instead of touched after free).
 */
#include "ssemon/status_server.h"

#include "ssemon/deadline.h"
#include "ssemon/json_writer.h"
#include "ssemon/violation.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define STATUS_DEFAULT_HEADER_BYTES 8192
#define STATUS_DEFAULT_TIMEOUT_S 5
#define STATUS_DEFAULT_MAX_CONNECTIONS 64
#define STATUS_LISTEN_BACKLOG 128

/* Documents at least this large are handed to libevent, not copied. */
#define STATUS_HANDOVER_MIN ((size_t)64 << 10)

struct status_server {
    struct event_base *ss_base;
    struct evhttp *ss_http;
    struct evconnlistener *ss_listener; /* owned by ss_http once bound */
    status_view_fn ss_view;
    void *ss_ctx;
    struct status_server_limits ss_limits;
    char *ss_unix_path; /* owned; removed on free */
    unsigned ss_port;
    unsigned ss_connections;
    bool ss_paused;  /* listener disabled at the connection cap */
    bool ss_closing; /* in status_server_free: listeners are going away */
    /* Accepted, not yet adopted: one reference held on each. */
    struct bufferevent **ss_pending;
    size_t ss_n_pending;
    struct event *ss_adopt;
    struct json_writer ss_out; /* reused from response to response */
    /* Sizes of the last documents: the next is about as large, so its
     * buffer is reserved at once instead of grown step by step. */
    size_t ss_last_status;
    size_t ss_last_metrics;
};

/* ---- rendering helpers ---- */

/* RFC 3339, UTC, millisecond precision. */
static void status_format_time(uint64_t wall_ms, char *buf, size_t size)
{
    time_t secs = (time_t)(wall_ms / 1000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, size, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(wall_ms % 1000u));
}

/* A wall-clock stamp, or null for 0 ("never"). */
static void status_json_time(struct json_writer *w, uint64_t wall_ms)
{
    if (wall_ms == 0) {
        json_writer_null(w);
        return;
    }
    char buf[64];
    status_format_time(wall_ms, buf, sizeof(buf));
    json_writer_cstring(w, buf);
}

/* Optional texts are kept as "" when absent; they show as null. */
static void status_json_opt_text(struct json_writer *w, const char *s)
{
    if (s == NULL || s[0] == '\0')
        json_writer_null(w);
    else
        json_writer_cstring(w, s);
}

static void status_json_violation(struct json_writer *w, const char *subscription,
                                  const struct monitor_violation *mv)
{
    json_writer_object_begin(w);
    if (subscription != NULL) {
        json_writer_key(w, "subscription");
        json_writer_cstring(w, subscription);
    }
    json_writer_key(w, "class");
    json_writer_cstring(w, violation_class_name(mv->mv_class));
    json_writer_key(w, "severity");
    json_writer_cstring(w, violation_severity_name(mv->mv_severity));
    json_writer_key(w, "message");
    json_writer_cstring(w, mv->mv_message);
    json_writer_key(w, "event");
    status_json_opt_text(w, mv->mv_event);
    json_writer_key(w, "state");
    status_json_opt_text(w, mv->mv_state);
    json_writer_key(w, "excerpt");
    status_json_opt_text(w, mv->mv_excerpt);
    json_writer_key(w, "at");
    status_json_time(w, mv->mv_wall_ms);
    json_writer_object_end(w);
}

static void status_json_subscription(struct json_writer *w, const struct status_row *r)
{
    const struct monitor_stats *st = r->row_stats;
    json_writer_object_begin(w);
    json_writer_key(w, "name");
    json_writer_cstring(w, r->row_name);
    json_writer_key(w, "url");
    json_writer_cstring(w, r->row_url);
    json_writer_key(w, "contract");
    json_writer_cstring(w, r->row_contract != NULL ? r->row_contract->c_name : NULL);
    json_writer_key(w, "state");
    json_writer_cstring(w, monitor_state_name(st->ms_state));
    json_writer_key(w, "healthy");
    json_writer_bool(w, r->row_healthy);
    json_writer_key(w, "connected_since");
    status_json_time(w, st->ms_connected_since_wall_ms);
    json_writer_key(w, "reconnects");
    json_writer_uint(w, st->ms_reconnects);
    json_writer_key(w, "events");
    json_writer_uint(w, st->ms_events);
    json_writer_key(w, "heartbeats");
    json_writer_uint(w, st->ms_heartbeats);
    json_writer_key(w, "bytes");
    json_writer_uint(w, st->ms_bytes);
    json_writer_key(w, "last_event_at");
    status_json_time(w, st->ms_last_event_wall_ms);
    json_writer_key(w, "last_heartbeat_at");
    status_json_time(w, st->ms_last_heartbeat_wall_ms);
    json_writer_key(w, "violations");
    json_writer_object_begin(w);
    json_writer_key(w, "total");
    json_writer_uint(w, st->ms_violations_total);
    json_writer_key(w, "by_class");
    json_writer_object_begin(w);
    for (int c = 0; c < VIOLATION_CLASS_COUNT; c++) {
        json_writer_key(w, violation_class_name((enum violation_class)c));
        json_writer_uint(w, st->ms_violations[c]);
    }
    json_writer_object_end(w);
    json_writer_object_end(w);
    json_writer_key(w, "last_violation");
    if (st->ms_has_last_violation)
        status_json_violation(w, NULL, &st->ms_last_violation);
    else
        json_writer_null(w);
    json_writer_object_end(w);
}

void status_row_from_monitor(const struct monitor *m, uint64_t now_mono_ms, struct status_row *out)
{
    out->row_name = monitor_name(m);
    out->row_url = monitor_display_url(m);
    out->row_contract = monitor_contract(m);
    out->row_stats = monitor_stats(m);
    out->row_healthy = monitor_healthy(m, now_mono_ms);
}

/* The renderers walk either the view's monitors, turned into rows one at a
 * time so no array is allocated per request, or explicit rows. */
struct status_rows {
    const struct status_view *srs_view;
    struct monitor *const *srs_monitors; /* NULL: read srs_rows */
    const struct status_row *srs_rows;
    size_t srs_n;
    uint64_t srs_now_mono_ms;
};

static void status_rows_get(const struct status_rows *rs, size_t i, struct status_row *out)
{
    if (rs->srs_monitors != NULL)
        status_row_from_monitor(rs->srs_monitors[i], rs->srs_now_mono_ms, out);
    else
        *out = rs->srs_rows[i];
}

static void status_render_json_any(const struct status_rows *rs, const char *only_name,
                                   struct json_writer *w)
{
    const struct status_view *v = rs->srs_view;
    struct status_row r;
    if (only_name != NULL) {
        for (size_t i = 0; i < rs->srs_n; i++) {
            status_rows_get(rs, i, &r);
            if (strcmp(r.row_name, only_name) == 0) {
                status_json_subscription(w, &r);
                return;
            }
        }
        return;
    }
    json_writer_object_begin(w);
    json_writer_key(w, "version");
    json_writer_cstring(w, v->sv_version);
    json_writer_key(w, "started_at");
    status_json_time(w, v->sv_started_wall_ms);
    json_writer_key(w, "uptime_s");
    uint64_t now = rs->srs_now_mono_ms;
    json_writer_uint(w, now > v->sv_started_mono_ms ? (now - v->sv_started_mono_ms) / 1000u : 0);
    json_writer_key(w, "config");
    json_writer_cstring(w, v->sv_config_path);
    json_writer_key(w, "subscriptions");
    json_writer_array_begin(w);
    for (size_t i = 0; i < rs->srs_n; i++) {
        status_rows_get(rs, i, &r);
        status_json_subscription(w, &r);
    }
    json_writer_array_end(w);
    json_writer_key(w, "recent_violations");
    json_writer_array_begin(w);
    for (size_t i = 0; i < v->sv_n_recent; i++)
        status_json_violation(w, v->sv_recent[i].sr_subscription, &v->sv_recent[i].sr_v);
    json_writer_array_end(w);
    json_writer_object_end(w);
}

void status_render_json(const struct status_view *v, const char *only_name, uint64_t now_mono_ms,
                        uint64_t now_wall_ms, uint64_t healthy_window_ms, struct json_writer *w)
{
    (void)now_wall_ms;
    (void)healthy_window_ms;
    const struct status_rows rs = {v, v->sv_monitors, NULL, v->sv_n_monitors, now_mono_ms};
    status_render_json_any(&rs, only_name, w);
}

void status_render_json_rows(const struct status_view *v, const struct status_row *rows,
                             size_t n_rows, const char *only_name, uint64_t now_mono_ms,
                             struct json_writer *w)
{
    const struct status_rows rs = {v, NULL, rows, rows != NULL ? n_rows : 0, now_mono_ms};
    status_render_json_any(&rs, only_name, w);
}

/* ---- Prometheus text format 0.0.4 ---- */

/* A daemon with thousands of subscriptions writes tens of MiB here per
 * scrape, so the sample path avoids printf: numbers are formatted by hand
 * and the bucket bounds once per render. */

static void status_put(struct json_writer *w, const char *s)
{
    json_writer_append(w, s, strlen(s));
}

static void status_put_u64(struct json_writer *w, uint64_t v)
{
    char buf[24];
    char *p = buf + sizeof(buf);
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    json_writer_append(w, p, (size_t)(buf + sizeof(buf) - p));
}

/* A wall-clock millisecond stamp as exact decimal seconds ("1700000000.12"). */
static void status_put_ms_as_seconds(struct json_writer *w, uint64_t ms)
{
    status_put_u64(w, ms / 1000u);
    unsigned frac = (unsigned)(ms % 1000u);
    if (frac == 0)
        return;
    char buf[4] = {'.', (char)('0' + frac / 100u), (char)('0' + frac / 10u % 10u),
                   (char)('0' + frac % 10u)};
    size_t n = 4;
    while (buf[n - 1] == '0')
        n--;
    json_writer_append(w, buf, n);
}

/* The shortest of %.15g, %.16g, %.17g that reads back exactly (Go's
 * ParseFloat reads them all): bounds stay as written, "0.005" rather than
 * 0.0050000000000000001, and whole numbers stay whole ("10", not "1e+01").
 * Returns the length written to `buf` (at least 32 bytes). */
/* `ms` thousandths as a decimal: "12", "0.5", "-3.25", "1700000000.123". */
static size_t status_format_ms(char *buf, size_t size, int64_t ms)
{
    char tmp[32];
    size_t n = sizeof(tmp);
    bool neg = ms < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    unsigned frac = (unsigned)(u % 1000);
    u /= 1000;
    if (frac != 0) {
        unsigned digits = 3;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        for (unsigned i = 0; i < digits; i++) {
            tmp[--n] = (char)('0' + frac % 10);
            frac /= 10;
        }
        tmp[--n] = '.';
    }
    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (neg)
        tmp[--n] = '-';
    size_t len = sizeof(tmp) - n;
    if (len >= size)
        len = size - 1;
    memcpy(buf, tmp + n, len);
    buf[len] = '\0';
    return len;
}

static size_t status_format_double(char *buf, size_t size, double v)
{
    if (isnan(v))
        return (size_t)snprintf(buf, size, "NaN");
    if (isinf(v))
        return (size_t)snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
    if (fabs(v) < 9007199254740992.0 && v == floor(v))
        return status_format_ms(buf, size, (int64_t)v * 1000);
    /* Times, sums of times and ratios are mostly whole milliseconds: those
     * are written without printf (the hot part of a large /metrics). */
    double ms = v * 1000.0;
    if (fabs(ms) < 9e15) {
        double r = nearbyint(ms);
        if (fabs(ms - r) <= 1e-9 * fmax(1.0, fabs(ms)) && (r / 1000.0 == v))
            return status_format_ms(buf, size, (int64_t)r);
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return n > 0 ? (size_t)n : 0;
}

static void status_put_double(struct json_writer *w, double v)
{
    char buf[64];
    size_t n = status_format_double(buf, sizeof(buf), v);
    json_writer_append(w, buf, n);
}

/* Label values escape backslash, double quote and line feed; nothing else. */
static void status_put_label_value(struct json_writer *w, const char *s)
{
    if (strpbrk(s, "\\\"\n") == NULL) {
        status_put(w, s);
        return;
    }
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {
        const char *esc = NULL;
        if (*p == '\\')
            esc = "\\\\";
        else if (*p == '"')
            esc = "\\\"";
        else if (*p == '\n')
            esc = "\\n";
        if (esc == NULL)
            continue;
        json_writer_append(w, run, (size_t)(p - run));
        status_put(w, esc);
        run = p + 1;
    }
    status_put(w, run);
}

static void status_metric_family(struct json_writer *w, const char *name, const char *type,
                                 const char *help)
{
    status_put(w, "# HELP ");
    status_put(w, name);
    json_writer_append(w, " ", 1);
    status_put(w, help);
    status_put(w, "\n# TYPE ");
    status_put(w, name);
    json_writer_append(w, " ", 1);
    status_put(w, type);
    json_writer_append(w, "\n", 1);
}

/* `NAME{subscription="SUB"` plus an optional second label (its value is
 * escaped when `escape`), then "} "; the caller appends the value. */
static void status_sample(struct json_writer *w, const char *name, const char *sub,
                          const char *label, const char *value, bool escape)
{
    status_put(w, name);
    status_put(w, "{subscription=\"");
    status_put_label_value(w, sub);
    if (label != NULL) {
        status_put(w, "\",");
        status_put(w, label);
        status_put(w, "=\"");
        if (escape)
            status_put_label_value(w, value);
        else
            status_put(w, value);
    }
    status_put(w, "\"} ");
}

static void status_sample_u64(struct json_writer *w, const char *name, const char *sub,
                              const char *label, const char *value, uint64_t v)
{
    status_sample(w, name, sub, label, value, true);
    status_put_u64(w, v);
    json_writer_append(w, "\n", 1);
}

/* The bucket bounds of one histogram as label values. */
struct status_bounds {
    char sb_text[16][32];
    size_t sb_n;
};

static void status_bounds_init(struct status_bounds *b, const double *bounds, size_t n)
{
    b->sb_n = n < 15 ? n : 15;
    for (size_t i = 0; i < b->sb_n; i++)
        status_format_double(b->sb_text[i], sizeof(b->sb_text[i]), bounds[i]);
    snprintf(b->sb_text[b->sb_n], sizeof(b->sb_text[b->sb_n]), "+Inf");
}

static void status_metric_histogram(struct json_writer *w, const char *name, const char *sub,
                                    const struct monitor_histogram *h,
                                    const struct status_bounds *b)
{
    char series[96];
    snprintf(series, sizeof(series), "%s_bucket", name);
    /* The +Inf bucket and _count are the same number by definition: both
     * come from the bucket counts, so they agree whatever the input. */
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= b->sb_n; i++) {
        cumulative += h->mh_counts[i];
        status_sample(w, series, sub, "le", b->sb_text[i], false);
        status_put_u64(w, cumulative);
        json_writer_append(w, "\n", 1);
    }
    snprintf(series, sizeof(series), "%s_sum", name);
    status_sample(w, series, sub, NULL, NULL, false);
    status_put_double(w, h->mh_sum);
    json_writer_append(w, "\n", 1);
    snprintf(series, sizeof(series), "%s_count", name);
    status_sample_u64(w, series, sub, NULL, NULL, cumulative);
}

/* Per contract event kind, plus "other" for everything else. A contract
 * kind literally named "other" is folded into it: two samples with the same
 * labels would make the whole exposition invalid. */
static void status_metric_events(struct json_writer *w, const struct status_row *r)
{
    const struct monitor_stats *st = r->row_stats;
    size_t n_named = 0;
    if (st->ms_events_by_kind != NULL && st->ms_n_kinds > 0 && r->row_contract != NULL) {
        n_named = st->ms_n_kinds - 1;
        if (n_named > r->row_contract->c_n_events)
            n_named = r->row_contract->c_n_events;
    }
    uint64_t other = 0;
    uint64_t named_total = 0;
    for (size_t k = 0; k < n_named; k++) {
        const char *kind = r->row_contract->c_events[k].ce_name;
        uint64_t n = st->ms_events_by_kind[k];
        named_total += n;
        if (strcmp(kind, "other") == 0) {
            other += n;
            continue;
        }
        status_sample_u64(w, "ssemon_events_total", r->row_name, "event", kind, n);
    }
    if (st->ms_events_by_kind != NULL && st->ms_n_kinds > 0)
        other += st->ms_events_by_kind[st->ms_n_kinds - 1];
    else
        other += st->ms_events > named_total ? st->ms_events - named_total : 0;
    status_sample_u64(w, "ssemon_events_total", r->row_name, "event", "other", other);
}

/* One sample per subscription of a plain counter or gauge. */
enum status_per_row {
    STATUS_ROW_UP = 0,
    STATUS_ROW_HEALTHY,
    STATUS_ROW_HEARTBEATS,
    STATUS_ROW_RECONNECTS,
    STATUS_ROW_BYTES,
    STATUS_ROW_LAST_EVENT,
    STATUS_ROW_LAST_HEARTBEAT,
};

static void status_metric_per_row(const struct status_rows *rs, struct json_writer *w,
                                  enum status_per_row what, const char *name, const char *type,
                                  const char *help)
{
    struct status_row r;
    status_metric_family(w, name, type, help);
    for (size_t i = 0; i < rs->srs_n; i++) {
        status_rows_get(rs, i, &r);
        const struct monitor_stats *st = r.row_stats;
        status_sample(w, name, r.row_name, NULL, NULL, false);
        switch (what) {
        case STATUS_ROW_UP:
            status_put_u64(w, st->ms_state == MONITOR_STREAMING ? 1 : 0);
            break;
        case STATUS_ROW_HEALTHY:
            status_put_u64(w, r.row_healthy ? 1 : 0);
            break;
        case STATUS_ROW_HEARTBEATS:
            status_put_u64(w, st->ms_heartbeats);
            break;
        case STATUS_ROW_RECONNECTS:
            status_put_u64(w, st->ms_reconnects);
            break;
        case STATUS_ROW_BYTES:
            status_put_u64(w, st->ms_bytes);
            break;
        case STATUS_ROW_LAST_EVENT:
            status_put_ms_as_seconds(w, st->ms_last_event_wall_ms);
            break;
        case STATUS_ROW_LAST_HEARTBEAT:
            status_put_ms_as_seconds(w, st->ms_last_heartbeat_wall_ms);
            break;
        }
        json_writer_append(w, "\n", 1);
    }
}

static void status_render_metrics_any(const struct status_rows *rs, struct json_writer *w)
{
    const struct status_view *v = rs->srs_view;
    struct status_row r;

    status_metric_family(w, "ssemon_build_info", "gauge",
                         "Always 1; the version label says which ssemon runs.");
    status_put(w, "ssemon_build_info{version=\"");
    status_put_label_value(w, v->sv_version != NULL ? v->sv_version : "");
    status_put(w, "\"} 1\n");

    status_metric_family(w, "ssemon_start_time_seconds", "gauge",
                         "When the daemon started, in seconds since the Unix epoch.");
    status_put(w, "ssemon_start_time_seconds ");
    status_put_ms_as_seconds(w, v->sv_started_wall_ms);
    json_writer_append(w, "\n", 1);

    status_metric_per_row(rs, w, STATUS_ROW_UP, "ssemon_subscription_up", "gauge",
                          "1 while the subscription's stream is open (state streaming).");
    status_metric_per_row(rs, w, STATUS_ROW_HEALTHY, "ssemon_subscription_healthy", "gauge",
                          "1 while the subscription is streaming (or between lifecycles of a "
                          "stream that ended by contract) with no recent error violation.");

    status_metric_family(w, "ssemon_events_total", "counter",
                         "Events received, by contract event kind; event=other counts the kinds "
                         "the contract does not declare.");
    for (size_t i = 0; i < rs->srs_n; i++) {
        status_rows_get(rs, i, &r);
        status_metric_events(w, &r);
    }

    status_metric_per_row(rs, w, STATUS_ROW_HEARTBEATS, "ssemon_heartbeats_total", "counter",
                          "Heartbeats received.");

    status_metric_family(w, "ssemon_violations_total", "counter",
                         "Contract violations detected, by class (every class is listed, "
                         "zeros included).");
    for (size_t i = 0; i < rs->srs_n; i++) {
        status_rows_get(rs, i, &r);
        for (int c = 0; c < VIOLATION_CLASS_COUNT; c++) {
            status_sample(w, "ssemon_violations_total", r.row_name, "class",
                          violation_class_name((enum violation_class)c), false);
            status_put_u64(w, r.row_stats->ms_violations[c]);
            json_writer_append(w, "\n", 1);
        }
    }

    status_metric_per_row(rs, w, STATUS_ROW_RECONNECTS, "ssemon_reconnects_total", "counter",
                          "Connection attempts after the first one.");
    status_metric_per_row(rs, w, STATUS_ROW_BYTES, "ssemon_bytes_total", "counter",
                          "Response body bytes received.");

    struct status_bounds gap, latency;
    status_bounds_init(&gap, monitor_gap_bounds, MONITOR_GAP_BUCKETS);
    status_bounds_init(&latency, monitor_latency_bounds, MONITOR_LATENCY_BUCKETS);
    status_metric_family(w, "ssemon_heartbeat_gap_seconds", "histogram",
                         "Time between consecutive heartbeats.");
    for (size_t i = 0; i < rs->srs_n; i++) {
        status_rows_get(rs, i, &r);
        status_metric_histogram(w, "ssemon_heartbeat_gap_seconds", r.row_name, &r.row_stats->ms_gap,
                                &gap);
    }
    struct status_bounds ratio;
    status_bounds_init(&ratio, monitor_ratio_bounds, MONITOR_RATIO_BUCKETS);
    status_metric_family(w, "ssemon_heartbeat_gap_ratio", "histogram",
                         "Heartbeat gaps as a fraction of the allowed gap (interval x "
                         "tolerance); 1 is the limit.");
    for (size_t i = 0; i < rs->srs_n; i++) {
        status_rows_get(rs, i, &r);
        status_metric_histogram(w, "ssemon_heartbeat_gap_ratio", r.row_name,
                                &r.row_stats->ms_gap_ratio, &ratio);
    }
    status_metric_family(w, "ssemon_first_event_latency_seconds", "histogram",
                         "Time from the stream opening to its first event.");
    for (size_t i = 0; i < rs->srs_n; i++) {
        status_rows_get(rs, i, &r);
        status_metric_histogram(w, "ssemon_first_event_latency_seconds", r.row_name,
                                &r.row_stats->ms_latency, &latency);
    }

    status_metric_per_row(rs, w, STATUS_ROW_LAST_EVENT, "ssemon_last_event_timestamp_seconds",
                          "gauge",
                          "When the last event arrived, in seconds since the Unix epoch "
                          "(0: never).");
    status_metric_per_row(rs, w, STATUS_ROW_LAST_HEARTBEAT,
                          "ssemon_last_heartbeat_timestamp_seconds", "gauge",
                          "When the last heartbeat arrived, in seconds since the Unix epoch "
                          "(0: never).");
}

void status_render_metrics(const struct status_view *v, uint64_t now_mono_ms, struct json_writer *w)
{
    const struct status_rows rs = {v, v->sv_monitors, NULL, v->sv_n_monitors, now_mono_ms};
    status_render_metrics_any(&rs, w);
}

void status_render_metrics_rows(const struct status_view *v, const struct status_row *rows,
                                size_t n_rows, struct json_writer *w)
{
    const struct status_rows rs = {v, NULL, rows, rows != NULL ? n_rows : 0, 0};
    status_render_metrics_any(&rs, w);
}

/* ---- the server ---- */

void status_server_limits_default(struct status_server_limits *l)
{
    l->ssl_max_header_bytes = STATUS_DEFAULT_HEADER_BYTES;
    l->ssl_max_body_bytes = 0;
    l->ssl_timeout_s = STATUS_DEFAULT_TIMEOUT_S;
    l->ssl_max_connections = STATUS_DEFAULT_MAX_CONNECTIONS;
}

static void status_server_resume(struct status_server *s)
{
    if (s->ss_paused && !s->ss_closing && s->ss_connections < s->ss_limits.ssl_max_connections &&
        evconnlistener_enable(s->ss_listener) == 0)
        s->ss_paused = false;
}

static void status_server_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct status_server *s = arg;
    /* Counted out once, whatever evhttp does with the object afterwards. */
    evhttp_connection_set_closecb(evcon, NULL, NULL);
    if (s->ss_connections > 0)
        s->ss_connections--;
    status_server_resume(s);
}

/* Runs right after the accepts that created the pending bufferevents. */
static void status_server_adopt(evutil_socket_t fd, short what, void *arg)
{
    struct status_server *s = arg;
    (void)fd;
    (void)what;
    for (size_t i = 0; i < s->ss_n_pending; i++) {
        struct bufferevent *bev = s->ss_pending[i];
        bufferevent_data_cb rd, wr;
        bufferevent_event_cb ev;
        void *cbarg = NULL;
        bufferevent_getcb(bev, &rd, &wr, &ev, &cbarg);
        /* evhttp runs every incoming connection's bufferevent with the
         * connection as callback argument; bufferevent_free clears it, so
         * NULL means evhttp gave up on the connection during the accept. */
        struct evhttp_connection *evcon = cbarg;
        if (evcon != NULL && evhttp_connection_get_bufferevent(evcon) == bev) {
            evhttp_connection_set_closecb(evcon, status_server_conn_closed, s);
        } else if (s->ss_connections > 0) {
            s->ss_connections--;
        }
        bufferevent_decref(bev);
    }
    s->ss_n_pending = 0;
    status_server_resume(s);
}

/* evhttp asks for each accepted connection's bufferevent here: the one
 * place every connection passes through, so the one place to count. */
static struct bufferevent *status_server_new_bev(struct event_base *base, void *arg)
{
    struct status_server *s = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL || s->ss_n_pending >= s->ss_limits.ssl_max_connections)
        return bev;
    bufferevent_incref(bev);
    s->ss_pending[s->ss_n_pending++] = bev;
    s->ss_connections++;
    event_active(s->ss_adopt, EV_TIMEOUT, 0);
    if (s->ss_connections >= s->ss_limits.ssl_max_connections && !s->ss_paused &&
        evconnlistener_disable(s->ss_listener) == 0)
        s->ss_paused = true;
    return bev;
}

static void status_server_reply(struct evhttp_request *req, int code, const char *reason,
                                const char *content_type, const char *body, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        /* evhttp would send a HEAD response's body: give none, but say how
         * long the GET's would be. */
        char cl[32];
        snprintf(cl, sizeof(cl), "%zu", len);
        evhttp_add_header(h, "Content-Length", cl);
        evhttp_send_reply(req, code, reason, NULL);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (b == NULL || evbuffer_add(b, body, len) != 0) {
        if (b != NULL)
            evbuffer_free(b);
        evhttp_remove_header(h, "Content-Type");
        evhttp_send_reply(req, 500, "Internal Server Error", NULL);
        return;
    }
    evhttp_send_reply(req, code, reason, b);
    evbuffer_free(b);
}

static void status_server_free_body(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

/* A large document is handed to libevent by reference (no copy of tens of
 * megabytes); `body` is freed here or by libevent once sent. */
static void status_server_reply_owned(struct evhttp_request *req, int code, const char *reason,
                                      const char *content_type, char *body, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *b = evbuffer_new();
    if (b == NULL || evbuffer_add_reference(b, body, len, status_server_free_body, NULL) != 0) {
        if (b != NULL)
            evbuffer_free(b);
        free(body);
        evhttp_remove_header(h, "Content-Type");
        evhttp_send_reply(req, 500, "Internal Server Error", NULL);
        return;
    }
    evhttp_send_reply(req, code, reason, b);
    evbuffer_free(b);
}

static void status_server_reply_text(struct evhttp_request *req, int code, const char *reason,
                                     const char *text)
{
    status_server_reply(req, code, reason, "text/plain; charset=utf-8", text, strlen(text));
}

static void status_server_reply_writer(struct status_server *s, struct evhttp_request *req,
                                       int code, const char *reason, const char *content_type)
{
    if (json_writer_failed(&s->ss_out)) {
        status_server_reply_text(req, 500, "Internal Server Error", "out of memory\n");
        return;
    }
    size_t len;
    const char *text = json_writer_text(&s->ss_out, &len);
    if (len < STATUS_HANDOVER_MIN || evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        status_server_reply(req, code, reason, content_type, text, len);
        return;
    }
    char *owned = json_writer_detach(&s->ss_out, &len);
    status_server_reply_owned(req, code, reason, content_type, owned, len);
}

enum status_route {
    STATUS_ROUTE_NONE = 0,
    STATUS_ROUTE_STATUS,
    STATUS_ROUTE_ONE,
    STATUS_ROUTE_METRICS,
    STATUS_ROUTE_HEALTHZ,
    STATUS_ROUTE_READYZ,
};

/* `*name` (for STATUS_ROUTE_ONE) is percent-decoded, malloc'ed, and the
 * caller's to free. */
static enum status_route status_server_route(const char *path, char **name)
{
    static const char one_prefix[] = "/status/";
    *name = NULL;
    if (path == NULL)
        return STATUS_ROUTE_NONE;
    if (strcmp(path, "/status") == 0)
        return STATUS_ROUTE_STATUS;
    if (strcmp(path, "/metrics") == 0)
        return STATUS_ROUTE_METRICS;
    if (strcmp(path, "/healthz") == 0)
        return STATUS_ROUTE_HEALTHZ;
    if (strcmp(path, "/readyz") == 0)
        return STATUS_ROUTE_READYZ;
    if (strncmp(path, one_prefix, sizeof(one_prefix) - 1) != 0)
        return STATUS_ROUTE_NONE;
    const char *rest = path + sizeof(one_prefix) - 1;
    if (rest[0] == '\0' || strchr(rest, '/') != NULL)
        return STATUS_ROUTE_NONE;
    size_t len = 0;
    char *decoded = evhttp_uridecode(rest, 0, &len);
    if (decoded == NULL)
        return STATUS_ROUTE_NONE;
    /* Subscription names are [A-Za-z0-9_.-]+: anything else names none, and
     * is not echoed back. */
    if (len == 0 || strspn(decoded, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789_.-") != len) {
        free(decoded);
        return STATUS_ROUTE_NONE;
    }
    *name = decoded;
    return STATUS_ROUTE_ONE;
}

static bool status_server_has(const struct status_view *v, const char *name)
{
    for (size_t i = 0; i < v->sv_n_monitors; i++)
        if (strcmp(monitor_name(v->sv_monitors[i]), name) == 0)
            return true;
    return false;
}

static void status_server_readyz(struct status_server *s, struct evhttp_request *req,
                                 const struct status_view *v, uint64_t now_mono_ms)
{
    struct json_writer *w = &s->ss_out;
    bool ready = true;
    for (size_t i = 0; i < v->sv_n_monitors; i++) {
        const struct monitor *m = v->sv_monitors[i];
        if (monitor_healthy(m, now_mono_ms))
            continue;
        ready = false;
        status_put(w, monitor_name(m));
        json_writer_append(w, "\n", 1);
    }
    if (ready) {
        status_server_reply_text(req, 200, "OK", "ok\n");
        return;
    }
    status_server_reply_writer(s, req, 503, "Service Unavailable", "text/plain; charset=utf-8");
}

static void status_server_handle(struct evhttp_request *req, void *arg)
{
    struct status_server *s = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    char *name = NULL;
    enum status_route route =
        status_server_route(uri != NULL ? evhttp_uri_get_path(uri) : NULL, &name);
    if (route == STATUS_ROUTE_NONE) {
        status_server_reply_text(req, 404, "Not Found", "not found\n");
        return;
    }
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        free(name);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        status_server_reply_text(req, 405, "Method Not Allowed", "method not allowed\n");
        return;
    }
    if (route == STATUS_ROUTE_HEALTHZ) {
        status_server_reply_text(req, 200, "OK", "ok\n");
        return;
    }

    struct status_view v;
    memset(&v, 0, sizeof(v));
    s->ss_view(s->ss_ctx, &v);
    uint64_t now_mono = deadline_now_ms();
    uint64_t now_wall = monitor_wall_ms();
    json_writer_reset(&s->ss_out);
    switch (route) {
    case STATUS_ROUTE_STATUS:
        json_writer_reserve(&s->ss_out, s->ss_last_status + s->ss_last_status / 8);
        status_render_json(&v, NULL, now_mono, now_wall, 0, &s->ss_out);
        s->ss_last_status = json_writer_text_len(&s->ss_out);
        status_server_reply_writer(s, req, 200, "OK", "application/json");
        break;
    case STATUS_ROUTE_ONE:
        if (!status_server_has(&v, name)) {
            json_writer_object_begin(&s->ss_out);
            json_writer_key(&s->ss_out, "error");
            json_writer_cstring(&s->ss_out, "no such subscription");
            json_writer_key(&s->ss_out, "name");
            json_writer_cstring(&s->ss_out, name);
            json_writer_object_end(&s->ss_out);
            status_server_reply_writer(s, req, 404, "Not Found", "application/json");
            break;
        }
        status_render_json(&v, name, now_mono, now_wall, 0, &s->ss_out);
        status_server_reply_writer(s, req, 200, "OK", "application/json");
        break;
    case STATUS_ROUTE_METRICS:
        json_writer_reserve(&s->ss_out, s->ss_last_metrics + s->ss_last_metrics / 8);
        status_render_metrics(&v, now_mono, &s->ss_out);
        s->ss_last_metrics = json_writer_text_len(&s->ss_out);
        status_server_reply_writer(s, req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8");
        break;
    case STATUS_ROUTE_READYZ:
        status_server_readyz(s, req, &v, now_mono);
        break;
    default:
        status_server_reply_text(req, 404, "Not Found", "not found\n");
        break;
    }
    free(name);
}

/* "IPV4:PORT" or "[IPV6]:PORT", numeric only: a listen address is never
 * looked up in DNS. Port 0 picks a free port. */
static bool status_server_parse_tcp(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
    const char *host = listen;
    const char *port;
    size_t host_len;
    int family;
    if (listen[0] == '[') {
        const char *rb = strchr(listen, ']');
        if (rb == NULL || rb[1] != ':')
            return false;
        host = listen + 1;
        host_len = (size_t)(rb - host);
        port = rb + 2;
        family = AF_INET6;
    } else {
        const char *colon = strchr(listen, ':');
        if (colon == NULL || strchr(colon + 1, ':') != NULL)
            return false;
        host_len = (size_t)(colon - listen);
        port = colon + 1;
        family = AF_INET;
    }
    char hbuf[INET6_ADDRSTRLEN];
    if (host_len == 0 || host_len >= sizeof(hbuf))
        return false;
    memcpy(hbuf, host, host_len);
    hbuf[host_len] = '\0';
    size_t digits = strspn(port, "0123456789");
    if (digits == 0 || digits > 5 || port[digits] != '\0')
        return false;
    unsigned long p = strtoul(port, NULL, 10);
    if (p > 65535)
        return false;
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)p);
        *len = sizeof(*sin);
        return inet_pton(AF_INET, hbuf, &sin->sin_addr) == 1;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)p);
    *len = sizeof(*sin6);
    return inet_pton(AF_INET6, hbuf, &sin6->sin6_addr) == 1;
}

static struct evconnlistener *status_server_listen_tcp(struct status_server *s, const char *listen,
                                                       char *err, size_t err_size)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (!status_server_parse_tcp(listen, &ss, &len)) {
        snprintf(err, err_size,
                 "listen address \"%s\": expected IPV4:PORT, [IPV6]:PORT or an absolute unix "
                 "socket path",
                 listen);
        return NULL;
    }
    struct evconnlistener *lev = evconnlistener_new_bind(
        s->ss_base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
        STATUS_LISTEN_BACKLOG, (struct sockaddr *)&ss, (int)len);
    if (lev == NULL) {
        snprintf(err, err_size, "cannot listen on %s: %s", listen, strerror(errno));
        return NULL;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&bound, &blen) == 0) {
        if (bound.ss_family == AF_INET)
            s->ss_port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
        else if (bound.ss_family == AF_INET6)
            s->ss_port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    }
    return lev;
}

/* A socket file nobody accepts on is what a killed daemon leaves behind;
 * one that accepts belongs to a running process and must not be stolen. */
static int status_server_clear_stale(const char *path, char *err, size_t err_size)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, err_size, "%s exists and is not a socket", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_size, "socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    int saved = errno;
    close(fd);
    if (rc == 0 || saved == EAGAIN || saved == EINPROGRESS) {
        snprintf(err, err_size, "%s is in use by a running process", path);
        return -1;
    }
    if (saved != ECONNREFUSED && saved != ENOENT) {
        snprintf(err, err_size, "%s: %s", path, strerror(saved));
        return -1;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, err_size, "cannot remove stale socket %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static struct evconnlistener *status_server_listen_unix(struct status_server *s, const char *path,
                                                        char *err, size_t err_size)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, err_size, "unix socket path too long (at most %zu bytes): %s",
                 sizeof(sa.sun_path) - 1, path);
        return NULL;
    }
    if (status_server_clear_stale(path, err, err_size) != 0)
        return NULL;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_size, "socket: %s", strerror(errno));
        return NULL;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(err, err_size, "cannot bind %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    s->ss_unix_path = strdup(path);
    /* Until the mode is set, the umask decides who may connect: listen()
     * (in evconnlistener_new) only comes after. */
    if (s->ss_unix_path == NULL || chmod(path, 0660) != 0) {
        snprintf(err, err_size, "cannot set the mode of %s: %s", path,
                 s->ss_unix_path == NULL ? strerror(ENOMEM) : strerror(errno));
        close(fd);
        return NULL;
    }
    struct evconnlistener *lev =
        evconnlistener_new(s->ss_base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                           STATUS_LISTEN_BACKLOG, fd);
    if (lev == NULL) {
        snprintf(err, err_size, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    return lev;
}

struct status_server *status_server_new(struct event_base *base, const char *listen,
                                        const struct status_server_limits *limits,
                                        status_view_fn view, void *ctx, char *err, size_t err_size)
{
    struct status_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    s->ss_base = base;
    s->ss_view = view;
    s->ss_ctx = ctx;
    json_writer_init(&s->ss_out);
    status_server_limits_default(&s->ss_limits);
    if (limits != NULL) {
        if (limits->ssl_max_header_bytes > 0)
            s->ss_limits.ssl_max_header_bytes = limits->ssl_max_header_bytes;
        s->ss_limits.ssl_max_body_bytes = limits->ssl_max_body_bytes;
        if (limits->ssl_timeout_s > 0)
            s->ss_limits.ssl_timeout_s = limits->ssl_timeout_s;
        if (limits->ssl_max_connections > 0)
            s->ss_limits.ssl_max_connections = limits->ssl_max_connections;
    }
    s->ss_pending = calloc(s->ss_limits.ssl_max_connections, sizeof(*s->ss_pending));
    s->ss_adopt = event_new(base, -1, 0, status_server_adopt, s);
    s->ss_http = evhttp_new(base);
    if (s->ss_pending == NULL || s->ss_adopt == NULL || s->ss_http == NULL) {
        snprintf(err, err_size, "out of memory");
        status_server_free(s);
        return NULL;
    }
    evhttp_set_max_headers_size(s->ss_http, (ev_ssize_t)s->ss_limits.ssl_max_header_bytes);
    evhttp_set_max_body_size(s->ss_http, (ev_ssize_t)s->ss_limits.ssl_max_body_bytes);
    evhttp_set_timeout(s->ss_http, s->ss_limits.ssl_timeout_s);
    /* Every method evhttp knows reaches our handler, which answers 405 with
     * an Allow header (evhttp's own refusal would not carry one). */
    evhttp_set_allowed_methods(s->ss_http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                               EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                               EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                               EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_bevcb(s->ss_http, status_server_new_bev, s);
    evhttp_set_gencb(s->ss_http, status_server_handle, s);

    struct evconnlistener *lev = listen[0] == '/'
                                     ? status_server_listen_unix(s, listen, err, err_size)
                                     : status_server_listen_tcp(s, listen, err, err_size);
    if (lev == NULL) {
        status_server_free(s);
        return NULL;
    }
    if (evhttp_bind_listener(s->ss_http, lev) == NULL) {
        snprintf(err, err_size, "cannot serve HTTP on %s: out of memory", listen);
        evconnlistener_free(lev);
        status_server_free(s);
        return NULL;
    }
    s->ss_listener = lev;
    return s;
}

void status_server_free(struct status_server *s)
{
    if (s == NULL)
        return;
    s->ss_closing = true;
    if (s->ss_http != NULL)
        evhttp_free(s->ss_http);
    for (size_t i = 0; i < s->ss_n_pending; i++)
        bufferevent_decref(s->ss_pending[i]);
    if (s->ss_adopt != NULL)
        event_free(s->ss_adopt);
    if (s->ss_unix_path != NULL) {
        unlink(s->ss_unix_path);
        free(s->ss_unix_path);
    }
    free(s->ss_pending);
    json_writer_free(&s->ss_out);
    free(s);
}

unsigned status_server_port(const struct status_server *s)
{
    return s->ss_port;
}

unsigned status_server_connections(const struct status_server *s)
{
    return s->ss_connections;
}
