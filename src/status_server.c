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

/* Bytes written to a client per write callback (libevent's default is
 * 16 KiB): a scrape of tens of MB then takes tens of loop passes, not
 * thousands; the kernel's socket buffer still paces a slow client. */
#define STATUS_MAX_SINGLE_WRITE ((ev_ssize_t)1 << 20)

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
    struct json_writer ss_out;   /* reused from response to response */
    struct status_pool *ss_pool; /* buffers of documents already sent */
    /* Sizes of the last documents: the next is about as large, so its
     * buffer is reserved at once instead of grown step by step. */
    size_t ss_last_status;
    size_t ss_last_metrics;
};

/* Large documents go to libevent by reference; once sent, their buffers
 * come back here and serve the next ones, so a scrape of tens of MB does
 * not have the kernel fault in fresh pages every time. libevent may free a
 * connection's buffers after the server is gone (bufferevents finalize in
 * a later loop pass), so the pool counts its users: the server and every
 * buffer in flight. */
#define STATUS_POOL_SLOTS 2

struct status_pool {
    unsigned sp_refs;
    bool sp_server_gone; /* nothing will take buffers any more */
    char *sp_buf[STATUS_POOL_SLOTS];
    size_t sp_cap[STATUS_POOL_SLOTS];
};

/* A buffer in flight: what it needs to find its way back. */
struct status_body {
    struct status_pool *sb_pool;
    size_t sb_cap;
};

static void status_pool_unref(struct status_pool *p)
{
    if (--p->sp_refs > 0)
        return;
    for (size_t i = 0; i < STATUS_POOL_SLOTS; i++)
        free(p->sp_buf[i]);
    free(p);
}

/* Keeps `buf` while the server is there to use it, in a free slot or in
 * place of a smaller one; frees what it does not keep. */
static void status_pool_put(struct status_pool *p, char *buf, size_t cap)
{
    if (!p->sp_server_gone) {
        size_t smallest = 0;
        for (size_t i = 1; i < STATUS_POOL_SLOTS; i++)
            if (p->sp_cap[i] < p->sp_cap[smallest])
                smallest = i;
        if (cap > p->sp_cap[smallest]) {
            char *old = p->sp_buf[smallest];
            p->sp_buf[smallest] = buf;
            p->sp_cap[smallest] = cap;
            buf = old;
        }
    }
    free(buf);
}

/* Gives the writer (empty, without a buffer) the smallest kept buffer of
 * at least `need` bytes, if any. */
static void status_pool_take(struct status_pool *p, struct json_writer *w, size_t need)
{
    size_t best = STATUS_POOL_SLOTS;
    for (size_t i = 0; i < STATUS_POOL_SLOTS; i++)
        if (p->sp_buf[i] != NULL && p->sp_cap[i] >= need &&
            (best == STATUS_POOL_SLOTS || p->sp_cap[i] < p->sp_cap[best]))
            best = i;
    if (best == STATUS_POOL_SLOTS)
        return;
    json_writer_adopt(w, p->sp_buf[best], p->sp_cap[best]);
    p->sp_buf[best] = NULL;
    p->sp_cap[best] = 0;
}

/* ---- rendering helpers ---- */

/* RFC 3339, UTC, millisecond precision, "2023-11-14T22:13:20.123Z". By
 * hand (days to a civil date, proleptic Gregorian): /status writes three
 * per subscription, and snprintf was a tenth of the render. Years past
 * 9999 do not fit the format's four digits and are clamped to its end. */
static void status_format_time(uint64_t wall_ms, char buf[static 25])
{
    const uint64_t max_ms = 253402300799999ull; /* 9999-12-31T23:59:59.999Z */
    if (wall_ms > max_ms)
        wall_ms = max_ms;
    uint64_t secs = wall_ms / 1000u;
    unsigned ms = (unsigned)(wall_ms % 1000u);
    unsigned sod = (unsigned)(secs % 86400u);
    /* Days since 0000-03-01, in 400-year eras of 146097 days. */
    uint64_t z = secs / 86400u + 719468u;
    uint64_t era = z / 146097u;
    unsigned doe = (unsigned)(z - era * 146097u);
    unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    unsigned mp = (5u * doy + 2u) / 153u;
    unsigned day = doy - (153u * mp + 2u) / 5u + 1u;
    unsigned month = mp < 10u ? mp + 3u : mp - 9u;
    unsigned year = (unsigned)(era * 400u) + yoe + (month <= 2u ? 1u : 0u);
    const unsigned fields[] = {year / 100u, year % 100u,     month,    day,
                               sod / 3600u, sod / 60u % 60u, sod % 60u};
    static const char seps[] = "\0\0--T::";
    char *p = buf;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (seps[i] != '\0')
            *p++ = seps[i];
        *p++ = (char)('0' + fields[i] / 10u);
        *p++ = (char)('0' + fields[i] % 10u);
    }
    *p++ = '.';
    *p++ = (char)('0' + ms / 100u);
    *p++ = (char)('0' + ms / 10u % 10u);
    *p++ = (char)('0' + ms % 10u);
    *p++ = 'Z';
    *p = '\0';
}

/* A wall-clock stamp, or null for 0 ("never"). */
static void status_json_time(struct json_writer *w, uint64_t wall_ms)
{
    if (wall_ms == 0) {
        json_writer_null(w);
        return;
    }
    char buf[25];
    status_format_time(wall_ms, buf);
    json_writer_string(w, buf, 24);
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

/* A daemon with 10,000 subscriptions writes about 50 MB here per scrape
 * while its loop waits, so the sample path is built for that: each
 * subscription's label value is escaped once per render, each family's
 * line opening and each bucket's closing are composed once per render,
 * numbers are written by hand, and a sample line is then a few inline
 * copies into a buffer reserved from the last document's size. */

static inline void status_put(struct json_writer *w, const char *s)
{
    json_writer_append(w, s, strlen(s));
}

static inline void status_put_u64(struct json_writer *w, uint64_t v)
{
    char buf[24];
    char *p = buf + sizeof(buf);
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    json_writer_append(w, p, (size_t)(buf + sizeof(buf) - p));
}

/* `units` / 10^`digits` as an exact decimal, trailing zeros dropped:
 * (123, 3) is "0.123", (1500000, 6) is "1.5", (7, 0) is "7". */
static void status_put_fixed(struct json_writer *w, uint64_t units, unsigned digits)
{
    uint64_t scale = 1;
    for (unsigned i = 0; i < digits; i++)
        scale *= 10u;
    status_put_u64(w, units / scale);
    uint64_t frac = units % scale;
    if (frac == 0)
        return;
    char buf[24];
    size_t n = digits;
    while (frac % 10u == 0) {
        frac /= 10u;
        n--;
    }
    buf[0] = '.';
    for (size_t i = n; i > 0; i--) {
        buf[i] = (char)('0' + frac % 10u);
        frac /= 10u;
    }
    json_writer_append(w, buf, n + 1);
}

/* A wall-clock millisecond stamp as exact decimal seconds ("1700000000.12"). */
static void status_put_ms_as_seconds(struct json_writer *w, uint64_t ms)
{
    status_put_fixed(w, ms, 3);
}

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

/* A bucket bound as written in the source: whole milliseconds exactly
 * ("0.005", "10"), anything else as the shortest of %.15g, %.16g, %.17g
 * that reads back exactly (Go's ParseFloat reads them all). Returns the
 * length written to `buf` (at least 32 bytes). */
static size_t status_format_double(char *buf, size_t size, double v)
{
    if (isnan(v))
        return (size_t)snprintf(buf, size, "NaN");
    if (isinf(v))
        return (size_t)snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
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

static inline bool status_label_plain(const char *s, size_t *len)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (s[n] == '\\' || s[n] == '"' || s[n] == '\n')
            return false;
    *len = n;
    return true;
}

/* Label values escape backslash, double quote and line feed; nothing
 * else. Writes to `out` (room for 2 * strlen(s)); returns the length. */
static size_t status_label_escape(const char *s, char *out)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            out[n++] = '\\';
            out[n++] = *s == '\n' ? 'n' : *s;
        } else {
            out[n++] = *s;
        }
    }
    return n;
}

static void status_put_label_value(struct json_writer *w, const char *s)
{
    size_t len;
    if (status_label_plain(s, &len)) {
        json_writer_append(w, s, len);
        return;
    }
    char stack[256];
    size_t need = 2 * strlen(s);
    char *buf = need <= sizeof(stack) ? stack : malloc(need);
    if (buf == NULL) {
        json_writer_set_failed(w);
        return;
    }
    json_writer_append(w, buf, status_label_escape(s, buf));
    if (buf != stack)
        free(buf);
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

/* A piece of sample line composed once per render. */
struct status_piece {
    char sp_text[160];
    size_t sp_len;
};

static void status_piece_set(struct status_piece *p, const char *a, const char *b, const char *c)
{
    int n = snprintf(p->sp_text, sizeof(p->sp_text), "%s%s%s", a, b, c);
    p->sp_len = n < 0 ? 0 : (size_t)n < sizeof(p->sp_text) ? (size_t)n : sizeof(p->sp_text) - 1;
}

static inline void status_put_piece(struct json_writer *w, const struct status_piece *p)
{
    json_writer_append(w, p->sp_text, p->sp_len);
}

/* One render's subscriptions, each with its label value escaped once. */
struct status_prom {
    const struct status_view *pr_view;
    const struct status_row *pr_rows;
    size_t pr_n;
    const char **pr_label; /* per row: the escaped subscription name */
    size_t *pr_label_len;
    struct status_row *pr_owned_rows; /* rows made from the view's monitors */
    char *pr_arena;                   /* escaped names that needed it */
};

static void status_prom_free(struct status_prom *p)
{
    free(p->pr_owned_rows);
    free(p->pr_label);
    free(p->pr_label_len);
    free(p->pr_arena);
}

static int status_prom_init(struct status_prom *p, const struct status_rows *rs)
{
    memset(p, 0, sizeof(*p));
    p->pr_view = rs->srs_view;
    p->pr_n = rs->srs_n;
    size_t n = rs->srs_n;
    if (rs->srs_monitors != NULL) {
        p->pr_owned_rows = calloc(n ? n : 1, sizeof(*p->pr_owned_rows));
        if (p->pr_owned_rows == NULL)
            return -1;
        for (size_t i = 0; i < n; i++)
            status_row_from_monitor(rs->srs_monitors[i], rs->srs_now_mono_ms, &p->pr_owned_rows[i]);
        p->pr_rows = p->pr_owned_rows;
    } else {
        p->pr_rows = rs->srs_rows;
    }
    p->pr_label = calloc(n ? n : 1, sizeof(*p->pr_label));
    p->pr_label_len = calloc(n ? n : 1, sizeof(*p->pr_label_len));
    if (p->pr_label == NULL || p->pr_label_len == NULL)
        return -1;
    size_t arena = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = p->pr_rows[i].row_name;
        if (status_label_plain(name, &p->pr_label_len[i]))
            p->pr_label[i] = name;
        else
            arena += 2 * strlen(name);
    }
    if (arena == 0)
        return 0;
    p->pr_arena = malloc(arena);
    if (p->pr_arena == NULL)
        return -1;
    char *at = p->pr_arena;
    for (size_t i = 0; i < n; i++) {
        if (p->pr_label[i] != NULL)
            continue;
        p->pr_label[i] = at;
        p->pr_label_len[i] = status_label_escape(p->pr_rows[i].row_name, at);
        at += p->pr_label_len[i];
    }
    return 0;
}

/* `OPEN` (the family's `NAME{subscription="`), row i's label value, then
 * `close`; the caller appends the value and the line feed. */
static inline void status_sample(struct json_writer *w, const struct status_prom *p, size_t i,
                                 const struct status_piece *open, const struct status_piece *close)
{
    status_put_piece(w, open);
    json_writer_append(w, p->pr_label[i], p->pr_label_len[i]);
    status_put_piece(w, close);
}

static const struct status_piece status_close_plain = {"\"} ", 3};

/* Per contract event kind, plus "other" for everything else. A contract
 * kind literally named "other" is folded into it: two samples with the same
 * labels would make the whole exposition invalid. */
static void status_metric_events(struct json_writer *w, const struct status_prom *p, size_t i,
                                 const struct status_piece *open)
{
    const struct status_row *r = &p->pr_rows[i];
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
        status_put_piece(w, open);
        json_writer_append(w, p->pr_label[i], p->pr_label_len[i]);
        json_writer_append(w, "\",event=\"", 9);
        status_put_label_value(w, kind);
        json_writer_append(w, "\"} ", 3);
        status_put_u64(w, n);
        json_writer_append(w, "\n", 1);
    }
    if (st->ms_events_by_kind != NULL && st->ms_n_kinds > 0)
        other += st->ms_events_by_kind[st->ms_n_kinds - 1];
    else
        other += st->ms_events > named_total ? st->ms_events - named_total : 0;
    status_put_piece(w, open);
    json_writer_append(w, p->pr_label[i], p->pr_label_len[i]);
    json_writer_append(w, "\",event=\"other\"} ", 17);
    status_put_u64(w, other);
    json_writer_append(w, "\n", 1);
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

static void status_metric_per_row(const struct status_prom *p, struct json_writer *w,
                                  enum status_per_row what, const char *name, const char *type,
                                  const char *help)
{
    struct status_piece open;
    status_piece_set(&open, name, "{subscription=\"", "");
    status_metric_family(w, name, type, help);
    for (size_t i = 0; i < p->pr_n; i++) {
        const struct status_row *r = &p->pr_rows[i];
        const struct monitor_stats *st = r->row_stats;
        status_sample(w, p, i, &open, &status_close_plain);
        switch (what) {
        case STATUS_ROW_UP:
            json_writer_append(w, st->ms_state == MONITOR_STREAMING ? "1" : "0", 1);
            break;
        case STATUS_ROW_HEALTHY:
            json_writer_append(w, r->row_healthy ? "1" : "0", 1);
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

/* Which of a subscription's histograms a family shows. */
enum status_histogram {
    STATUS_HIST_GAP = 0,
    STATUS_HIST_RATIO,
    STATUS_HIST_LATENCY,
};

static void status_metric_histogram(const struct status_prom *p, struct json_writer *w,
                                    enum status_histogram which, const char *name,
                                    const double *bounds, size_t n_bounds, const char *help)
{
    struct status_piece open_bucket, open_sum, open_count;
    struct status_piece close_le[16];
    size_t nb = n_bounds < 15 ? n_bounds : 15;
    status_piece_set(&open_bucket, name, "_bucket{subscription=\"", "");
    status_piece_set(&open_sum, name, "_sum{subscription=\"", "");
    status_piece_set(&open_count, name, "_count{subscription=\"", "");
    for (size_t b = 0; b <= nb; b++) {
        char bound[32];
        if (b < nb)
            status_format_double(bound, sizeof(bound), bounds[b]);
        else
            snprintf(bound, sizeof(bound), "+Inf");
        status_piece_set(&close_le[b], "\",le=\"", bound, "\"} ");
    }
    status_metric_family(w, name, "histogram", help);
    for (size_t i = 0; i < p->pr_n; i++) {
        const struct monitor_stats *st = p->pr_rows[i].row_stats;
        const struct monitor_histogram *h = which == STATUS_HIST_GAP     ? &st->ms_gap
                                            : which == STATUS_HIST_RATIO ? &st->ms_gap_ratio
                                                                         : &st->ms_latency;
        /* The +Inf bucket and _count are the same number by definition:
         * both come from the bucket counts, so they agree whatever the
         * input. */
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= nb; b++) {
            cumulative += h->mh_counts[b];
            status_sample(w, p, i, &open_bucket, &close_le[b]);
            status_put_u64(w, cumulative);
            json_writer_append(w, "\n", 1);
        }
        status_sample(w, p, i, &open_sum, &status_close_plain);
        status_put_fixed(w, h->mh_sum_micro, 6);
        json_writer_append(w, "\n", 1);
        status_sample(w, p, i, &open_count, &status_close_plain);
        status_put_u64(w, cumulative);
        json_writer_append(w, "\n", 1);
    }
}

static void status_render_metrics_any(const struct status_rows *rs, struct json_writer *w)
{
    const struct status_view *v = rs->srs_view;
    struct status_prom p;
    if (status_prom_init(&p, rs) != 0) {
        status_prom_free(&p);
        json_writer_set_failed(w);
        return;
    }

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

    status_metric_per_row(&p, w, STATUS_ROW_UP, "ssemon_subscription_up", "gauge",
                          "1 while the subscription's stream is open (state streaming).");
    status_metric_per_row(&p, w, STATUS_ROW_HEALTHY, "ssemon_subscription_healthy", "gauge",
                          "1 while the subscription is streaming (or between lifecycles of a "
                          "stream that ended by contract) with no recent error violation.");

    struct status_piece open;
    status_metric_family(w, "ssemon_events_total", "counter",
                         "Events received, by contract event kind; event=other counts the kinds "
                         "the contract does not declare.");
    status_piece_set(&open, "ssemon_events_total", "{subscription=\"", "");
    for (size_t i = 0; i < p.pr_n; i++)
        status_metric_events(w, &p, i, &open);

    status_metric_per_row(&p, w, STATUS_ROW_HEARTBEATS, "ssemon_heartbeats_total", "counter",
                          "Heartbeats received.");

    status_metric_family(w, "ssemon_violations_total", "counter",
                         "Contract violations detected, by class (every class is listed, "
                         "zeros included).");
    struct status_piece close_class[VIOLATION_CLASS_COUNT];
    for (int c = 0; c < VIOLATION_CLASS_COUNT; c++)
        status_piece_set(&close_class[c], "\",class=\"",
                         violation_class_name((enum violation_class)c), "\"} ");
    status_piece_set(&open, "ssemon_violations_total", "{subscription=\"", "");
    for (size_t i = 0; i < p.pr_n; i++) {
        const struct monitor_stats *st = p.pr_rows[i].row_stats;
        for (int c = 0; c < VIOLATION_CLASS_COUNT; c++) {
            status_sample(w, &p, i, &open, &close_class[c]);
            status_put_u64(w, st->ms_violations[c]);
            json_writer_append(w, "\n", 1);
        }
    }

    status_metric_per_row(&p, w, STATUS_ROW_RECONNECTS, "ssemon_reconnects_total", "counter",
                          "Connection attempts after the first one.");
    status_metric_per_row(&p, w, STATUS_ROW_BYTES, "ssemon_bytes_total", "counter",
                          "Response body bytes received.");

    status_metric_histogram(&p, w, STATUS_HIST_GAP, "ssemon_heartbeat_gap_seconds",
                            monitor_gap_bounds, MONITOR_GAP_BUCKETS,
                            "Time between consecutive heartbeats.");
    status_metric_histogram(&p, w, STATUS_HIST_RATIO, "ssemon_heartbeat_gap_ratio",
                            monitor_ratio_bounds, MONITOR_RATIO_BUCKETS,
                            "Heartbeat gaps as a fraction of the allowed gap (interval x "
                            "tolerance); 1 is the limit.");
    status_metric_histogram(&p, w, STATUS_HIST_LATENCY, "ssemon_first_event_latency_seconds",
                            monitor_latency_bounds, MONITOR_LATENCY_BUCKETS,
                            "Time from the stream opening to its first event.");

    status_metric_per_row(&p, w, STATUS_ROW_LAST_EVENT, "ssemon_last_event_timestamp_seconds",
                          "gauge",
                          "When the last event arrived, in seconds since the Unix epoch "
                          "(0: never).");
    status_metric_per_row(&p, w, STATUS_ROW_LAST_HEARTBEAT,
                          "ssemon_last_heartbeat_timestamp_seconds", "gauge",
                          "When the last heartbeat arrived, in seconds since the Unix epoch "
                          "(0: never).");
    status_prom_free(&p);
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
    if (bev == NULL)
        return NULL;
    bufferevent_set_max_single_write(bev, STATUS_MAX_SINGLE_WRITE);
    if (s->ss_n_pending >= s->ss_limits.ssl_max_connections)
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
    struct status_body *b = arg;
    status_pool_put(b->sb_pool, (char *)data, b->sb_cap);
    status_pool_unref(b->sb_pool);
    free(b);
}

/* A large document is handed to libevent by reference (no copy of tens of
 * megabytes); `body` (`cap` bytes allocated) goes back to the pool once
 * sent, or is freed here on failure. */
static void status_server_reply_owned(struct status_server *s, struct evhttp_request *req, int code,
                                      const char *reason, const char *content_type, char *body,
                                      size_t len, size_t cap)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *b = evbuffer_new();
    struct status_body *sb = malloc(sizeof(*sb));
    if (sb != NULL) {
        sb->sb_pool = s->ss_pool;
        sb->sb_cap = cap;
        s->ss_pool->sp_refs++;
    }
    if (b == NULL || sb == NULL ||
        evbuffer_add_reference(b, body, len, status_server_free_body, sb) != 0) {
        if (b != NULL)
            evbuffer_free(b);
        if (sb != NULL) {
            status_pool_unref(sb->sb_pool);
            free(sb);
        }
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
    size_t cap = json_writer_capacity(&s->ss_out);
    char *owned = json_writer_detach(&s->ss_out, &len);
    status_server_reply_owned(s, req, code, reason, content_type, owned, len, cap);
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

/* Room for a document of about `size` bytes: a kept buffer if one is
 * large enough (the writer has none after handing its last one over). */
static void status_server_prepare(struct status_server *s, size_t size)
{
    if (json_writer_capacity(&s->ss_out) <= size)
        status_pool_take(s->ss_pool, &s->ss_out, size + 1);
    json_writer_reserve(&s->ss_out, size);
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
        status_server_prepare(s, s->ss_last_status + s->ss_last_status / 8);
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
        status_server_prepare(s, s->ss_last_metrics + s->ss_last_metrics / 8);
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
    s->ss_pool = calloc(1, sizeof(*s->ss_pool));
    if (s->ss_pool != NULL)
        s->ss_pool->sp_refs = 1;
    if (s->ss_pending == NULL || s->ss_adopt == NULL || s->ss_http == NULL || s->ss_pool == NULL) {
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
    if (s->ss_pool != NULL) {
        s->ss_pool->sp_server_gone = true;
        status_pool_unref(s->ss_pool);
    }
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
