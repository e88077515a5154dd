/*
 * The status endpoint's HTML page. One pass over the view, appending to a
 * json_writer used as a byte buffer: no per-row allocation, a few hundred
 * bytes a subscription, so 10,000 subscriptions render in milliseconds
 * (docs/operations.md, "The status page").
 */
#include "ssemon/io/status_page.h"

#include "ssemon/base/clock.h"
#include "ssemon/base/numfmt.h"
#include "ssemon/base/utf8.h"
#include "ssemon/core/condition.h"
#include "ssemon/core/contract.h"
#include "ssemon/core/minute_ring.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/monitor.h"
#include "ssemon/json/json_writer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_PAGE_LIT(w, s) json_writer_append((w), (s), sizeof(s) - 1)

static const char status_page_replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

unsigned status_page_refresh(const char *query)
{
    if (query == NULL)
        return 0;
    const char *p = query;
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        static const char key[] = "refresh=";
        if (len > sizeof(key) - 1 && memcmp(p, key, sizeof(key) - 1) == 0) {
            uint64_t n = 0;
            for (size_t i = sizeof(key) - 1; i < len; i++) {
                if (p[i] < '0' || p[i] > '9')
                    return 0;
                /* Saturate: a long number is simply large. */
                if (n <= STATUS_PAGE_REFRESH_MAX)
                    n = n * 10 + (uint64_t)(p[i] - '0');
            }
            if (n < STATUS_PAGE_REFRESH_MIN)
                return STATUS_PAGE_REFRESH_MIN;
            return n > STATUS_PAGE_REFRESH_MAX ? STATUS_PAGE_REFRESH_MAX : (unsigned)n;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

void status_page_escape(struct json_writer *w, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0; /* start of the bytes copied as they are */
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        const char *rep = NULL;
        size_t step = 1;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            if (c < 0x80) {
                if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)
                    rep = status_page_replacement;
            } else {
                step = utf8_seq_len(u + i, len - i);
                if (step == 0) {
                    rep = status_page_replacement;
                    step = 1;
                }
            }
            break;
        }
        if (rep != NULL) {
            json_writer_append(w, s + run, i - run);
            json_writer_append(w, rep, strlen(rep));
            run = i + step;
        }
        i += step;
    }
    json_writer_append(w, s + run, len - run);
}

static void status_page_text(struct json_writer *w, const char *s)
{
    if (s != NULL)
        status_page_escape(w, s, strlen(s));
}

static void status_page_u64(struct json_writer *w, uint64_t v)
{
    char buf[NUMFMT_U64_MAX];
    json_writer_append(w, buf, (size_t)(numfmt_u64(buf, v) - buf));
}

/* `v10` tenths as "N.D" at dst; returns the end. */
static char *status_page_tenths(char *dst, unsigned v10)
{
    dst = numfmt_u64(dst, v10 / 10);
    *dst++ = '.';
    *dst++ = (char)('0' + v10 % 10);
    return dst;
}

/* "12 s", "4 min", "3 h", "2 d" ago; "never" for 0. */
static void status_page_age(struct json_writer *w, uint64_t wall_ms, uint64_t now_wall_ms)
{
    if (wall_ms == 0) {
        STATUS_PAGE_LIT(w, "never");
        return;
    }
    uint64_t s = now_wall_ms > wall_ms ? (now_wall_ms - wall_ms) / 1000 : 0;
    char buf[40];
    int n;
    if (s < 120)
        n = snprintf(buf, sizeof(buf), "%llu s", (unsigned long long)s);
    else if (s < 7200)
        n = snprintf(buf, sizeof(buf), "%llu min", (unsigned long long)(s / 60));
    else if (s < 172800)
        n = snprintf(buf, sizeof(buf), "%llu h", (unsigned long long)(s / 3600));
    else
        n = snprintf(buf, sizeof(buf), "%llu d", (unsigned long long)(s / 86400));
    json_writer_append(w, buf, (size_t)n);
}

static void status_page_time(struct json_writer *w, uint64_t wall_ms)
{
    if (wall_ms == 0) {
        STATUS_PAGE_LIT(w, "never");
        return;
    }
    char buf[CLOCK_RFC3339_SIZE];
    clock_rfc3339(wall_ms, buf);
    json_writer_append(w, buf, strlen(buf));
}

static const char status_page_style[] =
    "body{font-family:system-ui,sans-serif;margin:0;padding:0.5rem 1rem;color:#222;"
    "background:#fafafa}"
    "h1{font-size:1.3rem;margin:0.4rem 0}h2{font-size:1.1rem;margin:1.2rem 0 0.4rem}"
    "nav a{margin-right:1rem}"
    ".wrap{overflow-x:auto}"
    "table{border-collapse:collapse;width:100%;font-size:0.9rem;background:#fff}"
    "th,td{border:1px solid #ddd;padding:0.25rem 0.4rem;text-align:left;vertical-align:top}"
    "th{background:#eee}"
    ".ok{color:#176117;font-weight:600}.bad{color:#a31515;font-weight:600}"
    ".muted{color:#777}.desc{color:#555;font-size:0.85rem}"
    "pre{white-space:pre-wrap;word-break:break-all;margin:0.2rem 0;background:#f3f3f3;"
    "padding:0.2rem}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:0.2rem 1rem}dd{margin:0}"
    /* A phone: the subscriptions and the violations become one card a row,
     * each cell under its column's name (the probes' table, with its
     * spanning cells, scrolls sideways). */
    "@media (max-width:600px){body{padding:0.3rem}table{font-size:0.8rem}"
    "#subscriptions thead,#violations thead{display:none}"
    "#subscriptions,#subscriptions tbody,#subscriptions tr,#subscriptions td,"
    "#violations,#violations tbody,#violations tr,#violations td{display:block;width:auto}"
    "#subscriptions tr,#violations tr{border:1px solid #ccc;margin:0 0 0.5rem}"
    "#subscriptions td,#violations td{border:none;border-bottom:1px solid #eee}"
    "#subscriptions td::before,#violations td::before{font-weight:600;color:#555}"
    "#subscriptions td:nth-child(1)::before{content:\"Name: \"}"
    "#subscriptions td:nth-child(2)::before{content:\"State: \"}"
    "#subscriptions td:nth-child(3)::before{content:\"Health: \"}"
    "#subscriptions td:nth-child(4)::before{content:\"Open conditions: \"}"
    "#subscriptions td:nth-child(5)::before{content:\"Last event: \"}"
    "#subscriptions td:nth-child(6)::before{content:\"Last heartbeat: \"}"
    "#subscriptions td:nth-child(7)::before{content:\"Events: \"}"
    "#subscriptions td:nth-child(8)::before{content:\"Violations: \"}"
    "#subscriptions td:nth-child(9)::before{content:\"Last hour: \"}"
    "#violations td:nth-child(1)::before{content:\"Time: \"}"
    "#violations td:nth-child(2)::before{content:\"Where: \"}"
    "#violations td:nth-child(3)::before{content:\"Class: \"}"
    "#violations td:nth-child(4)::before{content:\"Message: \"}"
    "}";

static void status_page_head(const struct status_view *v, unsigned refresh_s, uint64_t now_wall_ms,
                             struct json_writer *w)
{
    STATUS_PAGE_LIT(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    if (refresh_s != 0) {
        STATUS_PAGE_LIT(w, "<meta http-equiv=\"refresh\" content=\"");
        status_page_u64(w, refresh_s);
        STATUS_PAGE_LIT(w, "\">");
    }
    STATUS_PAGE_LIT(w, "<title>ssemon status</title><style>");
    STATUS_PAGE_LIT(w, status_page_style);
    STATUS_PAGE_LIT(w, "</style></head><body>\n<h1>ssemon ");
    status_page_text(w, v->sv_version);
    STATUS_PAGE_LIT(w,
                    "</h1>\n<nav><a href=\"/status\">/status</a><a href=\"/metrics\">/metrics</a>"
                    "<a href=\"/readyz\">/readyz</a></nav>\n<p class=\"muted\">Rendered ");
    status_page_time(w, now_wall_ms);
    STATUS_PAGE_LIT(w, ", up since ");
    status_page_time(w, v->sv_started_wall_ms);
    if (refresh_s != 0) {
        STATUS_PAGE_LIT(w, ", refreshed every ");
        status_page_u64(w, refresh_s);
        STATUS_PAGE_LIT(w, " s");
    }
    STATUS_PAGE_LIT(w, ".</p>\n");
}

static void status_page_config(const struct status_view *v, struct json_writer *w)
{
    STATUS_PAGE_LIT(w, "<h2>Configuration</h2>\n<dl><dt>File</dt><dd>");
    if (v->sv_config_path != NULL)
        status_page_text(w, v->sv_config_path);
    else
        STATUS_PAGE_LIT(w, "<span class=\"muted\">none</span>");
    STATUS_PAGE_LIT(w, "</dd><dt>Loaded</dt><dd>");
    status_page_time(w, v->sv_config_loaded_wall_ms);
    STATUS_PAGE_LIT(w, "</dd><dt>Last reload</dt><dd>");
    if (v->sv_reload_wall_ms == 0) {
        STATUS_PAGE_LIT(w, "none yet");
    } else {
        status_page_time(w, v->sv_reload_wall_ms);
        if (v->sv_reload_ok) {
            STATUS_PAGE_LIT(w, " <span class=\"ok\">ok</span>");
        } else {
            STATUS_PAGE_LIT(w, " <span class=\"bad\">refused</span><pre>");
            status_page_text(w, v->sv_reload_error);
            STATUS_PAGE_LIT(w, "</pre>");
        }
    }
    STATUS_PAGE_LIT(w, "</dd></dl>\n");
}

/* Charts are drawn for this many subscriptions (the first in order); a
 * page with more stays a table past them, a few hundred bytes a row. */
#define STATUS_PAGE_CHARTS_MAX 1000
#define STATUS_PAGE_CHART_H 40 /* the SVG's height; 3 units a minute wide */

/* Appends "x y", both given in tenths, with one decimal. */
static void status_page_xy(struct json_writer *w, unsigned x10, unsigned y10)
{
    char buf[2 * NUMFMT_U64_MAX + 8];
    char *p = status_page_tenths(buf, x10);
    *p++ = ' ';
    p = status_page_tenths(p, y10);
    json_writer_append(w, buf, (size_t)(p - buf));
}

/* The last hour of one subscription: events a minute (grey bars, scaled
 * to the busiest minute), minutes with violations (red marks along the
 * top), the longest heartbeat gap of each minute against its limit (an
 * orange line; the limit dashed at y 24, twice the limit or more at y 8). */
static void status_page_chart(const struct monitor_stats *st, uint64_t now_wall_ms,
                              struct json_writer *w)
{
    uint32_t ev[MINUTE_RING_POINTS], vio[MINUTE_RING_POINTS], gap[MINUTE_RING_POINTS];
    minute_ring_read(&st->ms_minutes, now_wall_ms, MONITOR_MINUTE_EVENTS, ev);
    minute_ring_read(&st->ms_minutes, now_wall_ms, MONITOR_MINUTE_VIOLATIONS, vio);
    minute_ring_read(&st->ms_minutes, now_wall_ms, MONITOR_MINUTE_GAP_PERMILLE, gap);
    uint32_t ev_max = 0, gap_max = 0;
    uint64_t vio_sum = 0;
    for (unsigned i = 0; i < MINUTE_RING_POINTS; i++) {
        ev_max = ev[i] > ev_max ? ev[i] : ev_max;
        vio_sum += vio[i];
        gap_max = gap[i] > gap_max ? gap[i] : gap_max;
    }
    STATUS_PAGE_LIT(w, "<svg class=\"chart\" viewBox=\"0 0 180 40\" width=\"180\" height=\"40\" "
                       "role=\"img\"><title>last hour: busiest minute ");
    status_page_u64(w, ev_max);
    STATUS_PAGE_LIT(w, " events, ");
    status_page_u64(w, vio_sum);
    STATUS_PAGE_LIT(w, " violations, longest heartbeat gap ");
    status_page_u64(w, gap_max / 10);
    STATUS_PAGE_LIT(w, "% of its limit</title><rect width=\"180\" height=\"40\" fill=\"#f4f6f8\"/>"
                       "<path d=\"M0 24H180\" stroke=\"#d08000\" stroke-dasharray=\"3 2\" "
                       "stroke-width=\"0.5\"/>");
    if (ev_max > 0) {
        STATUS_PAGE_LIT(w, "<path class=\"events\" stroke=\"#7a8ea8\" stroke-width=\"2\" d=\"");
        for (unsigned i = 0; i < MINUTE_RING_POINTS; i++) {
            if (ev[i] == 0)
                continue;
            /* The busiest minute 32 high, any other at least 1. */
            unsigned h10 = (unsigned)((uint64_t)ev[i] * 320 / ev_max);
            STATUS_PAGE_LIT(w, "M");
            status_page_xy(w, i * 30 + 15, STATUS_PAGE_CHART_H * 10);
            STATUS_PAGE_LIT(w, "v-");
            char buf[NUMFMT_U64_MAX + 4];
            h10 = h10 < 10 ? 10 : h10;
            json_writer_append(w, buf, (size_t)(status_page_tenths(buf, h10) - buf));
        }
        STATUS_PAGE_LIT(w, "\"/>");
    }
    if (vio_sum > 0) {
        STATUS_PAGE_LIT(w, "<path class=\"violations\" stroke=\"#c0392b\" stroke-width=\"3\" d=\"");
        for (unsigned i = 0; i < MINUTE_RING_POINTS; i++) {
            if (vio[i] == 0)
                continue;
            STATUS_PAGE_LIT(w, "M");
            status_page_xy(w, i * 30 + 15, 0);
            STATUS_PAGE_LIT(w, "V6");
        }
        STATUS_PAGE_LIT(w, "\"/>");
    }
    if (gap_max > 0) {
        STATUS_PAGE_LIT(w, "<path class=\"gaps\" fill=\"none\" stroke=\"#d08000\" "
                           "stroke-width=\"1.2\" d=\"");
        bool open = false;
        for (unsigned i = 0; i < MINUTE_RING_POINTS; i++) {
            if (gap[i] == 0) {
                open = false;
                continue;
            }
            uint32_t g = gap[i] > 2000 ? 2000 : gap[i];
            unsigned y10 = STATUS_PAGE_CHART_H * 10 - g * 16 / 100;
            json_writer_append(w, open ? "L" : "M", 1);
            status_page_xy(w, i * 30 + 15, y10);
            if (!open) /* a lone minute still shows */
                STATUS_PAGE_LIT(w, "h0.5");
            open = true;
        }
        STATUS_PAGE_LIT(w, "\"/>");
    }
    STATUS_PAGE_LIT(w, "</svg>");
}

/* One series as a path through the minutes that have a value (0: none),
 * scaled so that `top` is 36 units high. */
static void status_page_series(struct json_writer *w, const uint32_t v[MINUTE_RING_POINTS],
                               uint32_t top, const char *cls, const char *color)
{
    STATUS_PAGE_LIT(w, "<path class=\"");
    json_writer_append(w, cls, strlen(cls));
    STATUS_PAGE_LIT(w, "\" fill=\"none\" stroke-width=\"1.2\" stroke=\"");
    json_writer_append(w, color, strlen(color));
    STATUS_PAGE_LIT(w, "\" d=\"");
    bool open = false;
    for (unsigned i = 0; i < MINUTE_RING_POINTS; i++) {
        if (v[i] == 0) {
            open = false;
            continue;
        }
        uint64_t h10 = (uint64_t)v[i] * 360 / top;
        unsigned y10 = STATUS_PAGE_CHART_H * 10 - (unsigned)(h10 > 360 ? 360 : h10);
        json_writer_append(w, open ? "L" : "M", 1);
        status_page_xy(w, i * 30 + 15, y10);
        if (!open)
            STATUS_PAGE_LIT(w, "h0.5");
        open = true;
    }
    STATUS_PAGE_LIT(w, "\"/>");
}

/* The last hour of one probe step: its delivery p50 (blue) and p99
 * (purple) a minute, scaled to the highest p99. */
static void status_page_probe_chart(const struct status_probe_step *sp, uint64_t now_wall_ms,
                                    struct json_writer *w)
{
    uint32_t p50[MINUTE_RING_POINTS], p99[MINUTE_RING_POINTS];
    minute_ring_read(&sp->sps_minutes, now_wall_ms, STATUS_PROBE_MINUTE_P50, p50);
    minute_ring_read(&sp->sps_minutes, now_wall_ms, STATUS_PROBE_MINUTE_P99, p99);
    uint32_t top = 0;
    for (unsigned i = 0; i < MINUTE_RING_POINTS; i++) {
        top = p99[i] > top ? p99[i] : top;
        top = p50[i] > top ? p50[i] : top;
    }
    if (top == 0) {
        STATUS_PAGE_LIT(w, "<span class=\"muted\">no data</span>");
        return;
    }
    STATUS_PAGE_LIT(w, "<svg class=\"chart\" viewBox=\"0 0 180 40\" width=\"180\" height=\"40\" "
                       "role=\"img\"><title>last hour: delivery p50 (blue) and p99 (purple), "
                       "highest ");
    status_page_u64(w, top);
    STATUS_PAGE_LIT(w, " ms</title><rect width=\"180\" height=\"40\" fill=\"#f4f6f8\"/>");
    status_page_series(w, p99, top, "p99", "#7d3c98");
    status_page_series(w, p50, top, "p50", "#2e6da4");
    STATUS_PAGE_LIT(w, "</svg>");
}

static const char status_page_sub_header[] =
    "<h2>Subscriptions</h2>\n<div class=\"wrap\"><table id=\"subscriptions\"><thead><tr>"
    "<th>Name</th><th>State</th><th>Health</th><th>Open conditions</th><th>Last event</th>"
    "<th>Last heartbeat</th><th>Events</th><th>Violations</th><th>Last hour</th></tr>"
    "</thead><tbody>\n";

static void status_page_row(const struct status_row *r, bool chart, uint64_t now_wall_ms,
                            struct json_writer *w)
{
    const struct monitor_stats *st = r->row_stats;
    STATUS_PAGE_LIT(w, "<tr class=\"sub\"><td><b>");
    status_page_text(w, r->row_name);
    STATUS_PAGE_LIT(w, "</b>");
    if (r->row_description != NULL && r->row_description[0] != '\0') {
        STATUS_PAGE_LIT(w, "<div class=\"desc\">");
        status_page_text(w, r->row_description);
        STATUS_PAGE_LIT(w, "</div>");
    }
    if (r->row_insecure)
        STATUS_PAGE_LIT(w, "<div class=\"bad\">TLS not verified</div>");
    STATUS_PAGE_LIT(w, "</td><td>");
    status_page_text(w, monitor_state_name(st->ms_state));
    STATUS_PAGE_LIT(w, "</td><td>");
    if (r->row_healthy)
        STATUS_PAGE_LIT(w, "<span class=\"ok\">healthy</span>");
    else
        STATUS_PAGE_LIT(w, "<span class=\"bad\">unhealthy</span>");
    STATUS_PAGE_LIT(w, "</td><td>");
    bool any = false;
    for (size_t i = 0; i < CONDITION_CLASS_COUNT; i++) {
        if (!st->ms_conditions.cs_open[i])
            continue;
        if (any)
            STATUS_PAGE_LIT(w, "<br>");
        any = true;
        STATUS_PAGE_LIT(w, "<span class=\"bad\">");
        status_page_text(w, violation_class_name(condition_classes[i]));
        STATUS_PAGE_LIT(w, "</span> for ");
        status_page_age(w, st->ms_conditions.cs_since_wall_ms[i], now_wall_ms);
    }
    STATUS_PAGE_LIT(w, "</td><td>");
    status_page_age(w, st->ms_last_event_wall_ms, now_wall_ms);
    STATUS_PAGE_LIT(w, "</td><td>");
    status_page_age(w, st->ms_last_heartbeat_wall_ms, now_wall_ms);
    STATUS_PAGE_LIT(w, "</td><td>");
    status_page_u64(w, st->ms_events);
    STATUS_PAGE_LIT(w, "</td><td>");
    any = false;
    for (size_t c = 0; c < VIOLATION_CLASS_COUNT; c++) {
        if (st->ms_violations[c] == 0)
            continue;
        if (any)
            STATUS_PAGE_LIT(w, "<br>");
        any = true;
        status_page_text(w, violation_class_name((enum violation_class)c));
        STATUS_PAGE_LIT(w, ": ");
        status_page_u64(w, st->ms_violations[c]);
    }
    STATUS_PAGE_LIT(w, "</td><td>");
    if (chart && st->ms_minutes.mr_started)
        status_page_chart(st, now_wall_ms, w);
    else if (chart)
        STATUS_PAGE_LIT(w, "<span class=\"muted\">no data</span>");
    STATUS_PAGE_LIT(w, "</td></tr>\n");
}

static void status_page_disabled(const struct status_disabled *d, struct json_writer *w)
{
    STATUS_PAGE_LIT(w, "<tr class=\"sub\"><td><b>");
    status_page_text(w, d->sd_name);
    STATUS_PAGE_LIT(w, "</b>");
    if (d->sd_description != NULL && d->sd_description[0] != '\0') {
        STATUS_PAGE_LIT(w, "<div class=\"desc\">");
        status_page_text(w, d->sd_description);
        STATUS_PAGE_LIT(w, "</div>");
    }
    STATUS_PAGE_LIT(w, "</td><td class=\"muted\">disabled</td><td></td><td></td><td></td>"
                       "<td></td><td></td><td></td><td></td></tr>\n");
}

static void status_page_ms(struct json_writer *w, uint64_t ms)
{
    if (ms == UINT64_MAX) {
        STATUS_PAGE_LIT(w, "<span class=\"muted\">none</span>");
        return;
    }
    status_page_u64(w, ms);
    STATUS_PAGE_LIT(w, " ms");
}

static void status_page_probes(const struct status_view *v, uint64_t now_wall_ms,
                               struct json_writer *w)
{
    if (v->sv_n_probes == 0)
        return;
    STATUS_PAGE_LIT(
        w, "<h2>Probes</h2>\n<div class=\"wrap\"><table id=\"probes\"><thead><tr>"
           "<th>Probe</th><th>Last run</th><th>Runs</th><th>Step</th>"
           "<th>Last result</th><th>Delivery p50</th><th>Delivery p99</th><th>Last hour</th>"
           "</tr></thead><tbody>\n");
    for (size_t i = 0; i < v->sv_n_probes; i++) {
        const struct status_probe *p = &v->sv_probes[i];
        size_t span = p->sp_n_steps > 0 ? p->sp_n_steps : 1;
        STATUS_PAGE_LIT(w, "<tr class=\"probe\"><td rowspan=\"");
        status_page_u64(w, span);
        STATUS_PAGE_LIT(w, "\"><b>");
        status_page_text(w, p->sp_name);
        STATUS_PAGE_LIT(w, "</b>");
        if (p->sp_description != NULL && p->sp_description[0] != '\0') {
            STATUS_PAGE_LIT(w, "<div class=\"desc\">");
            status_page_text(w, p->sp_description);
            STATUS_PAGE_LIT(w, "</div>");
        }
        if (p->sp_last_failure != NULL) {
            STATUS_PAGE_LIT(w, "<pre>");
            status_page_text(w, violation_class_name(p->sp_last_failure_class));
            STATUS_PAGE_LIT(w, ": ");
            status_page_text(w, p->sp_last_failure);
            STATUS_PAGE_LIT(w, "</pre>");
        }
        STATUS_PAGE_LIT(w, "</td><td rowspan=\"");
        status_page_u64(w, span);
        STATUS_PAGE_LIT(w, "\">");
        if (p->sp_last_run_id == NULL) {
            STATUS_PAGE_LIT(w, "<span class=\"muted\">none yet</span>");
        } else {
            bool bad = p->sp_last_result != NULL && strcmp(p->sp_last_result, "failed") == 0;
            if (bad)
                STATUS_PAGE_LIT(w, "<span class=\"bad\">");
            else
                STATUS_PAGE_LIT(w, "<span class=\"ok\">");
            status_page_text(w, p->sp_last_result);
            STATUS_PAGE_LIT(w, "</span> ");
            status_page_age(w, p->sp_last_started_wall_ms, now_wall_ms);
            STATUS_PAGE_LIT(w, " ago");
        }
        if (p->sp_running)
            STATUS_PAGE_LIT(w, " (running)");
        STATUS_PAGE_LIT(w, "</td><td rowspan=\"");
        status_page_u64(w, span);
        STATUS_PAGE_LIT(w, "\">");
        status_page_u64(w, p->sp_runs);
        STATUS_PAGE_LIT(w, "</td>");
        if (p->sp_n_steps == 0)
            STATUS_PAGE_LIT(w, "<td></td><td></td><td></td><td></td><td></td></tr>\n");
        for (size_t k = 0; k < p->sp_n_steps; k++) {
            const struct status_probe_step *sp = &p->sp_steps[k];
            if (k > 0)
                STATUS_PAGE_LIT(w, "<tr class=\"probe\">");
            STATUS_PAGE_LIT(w, "<td>");
            status_page_text(w, sp->sps_subscription);
            STATUS_PAGE_LIT(w, " ");
            status_page_text(w, sp->sps_event);
            STATUS_PAGE_LIT(w, "</td><td>");
            if (sp->sps_last_result != NULL)
                status_page_text(w, sp->sps_last_result);
            STATUS_PAGE_LIT(w, "</td><td>");
            status_page_ms(w, sp->sps_p50_ms);
            STATUS_PAGE_LIT(w, "</td><td>");
            status_page_ms(w, sp->sps_p99_ms);
            STATUS_PAGE_LIT(w, "</td><td>");
            status_page_probe_chart(sp, now_wall_ms, w);
            STATUS_PAGE_LIT(w, "</td></tr>\n");
        }
    }
    STATUS_PAGE_LIT(w, "</tbody></table></div>\n");
}

/* Links from a recent violation to what the daemon kept of it: the
 * evidence file (a name the daemon wrote: [A-Za-z0-9_.-]) and the
 * subscription's recorder and violation ring (a subscription name is a
 * path segment by its rule); escaped all the same. */
static void status_page_recent_links(const struct status_recent *r, struct json_writer *w)
{
    const struct monitor_violation *mv = &r->sr_v;
    if (mv->mv_evidence[0] == '\0' && r->sr_subscription[0] == '\0')
        return;
    STATUS_PAGE_LIT(w, "<div class=\"desc\">");
    if (mv->mv_evidence[0] != '\0') {
        STATUS_PAGE_LIT(w, "<a class=\"evidence\" href=\"/evidence/");
        status_page_text(w, mv->mv_evidence);
        STATUS_PAGE_LIT(w, "\">evidence</a> ");
    }
    if (r->sr_subscription[0] != '\0') {
        STATUS_PAGE_LIT(w, "<a href=\"/status/");
        status_page_text(w, r->sr_subscription);
        STATUS_PAGE_LIT(w, "/events\">events</a> <a href=\"/status/");
        status_page_text(w, r->sr_subscription);
        STATUS_PAGE_LIT(w, "/violations\">violations</a>");
    }
    STATUS_PAGE_LIT(w, "</div>");
}

static void status_page_recent(const struct status_view *v, struct json_writer *w)
{
    STATUS_PAGE_LIT(w, "<h2>Recent violations</h2>\n");
    if (v->sv_n_recent == 0) {
        STATUS_PAGE_LIT(w, "<p class=\"muted\">None.</p>\n");
        return;
    }
    STATUS_PAGE_LIT(w, "<div class=\"wrap\"><table id=\"violations\"><thead><tr><th>Time</th>"
                       "<th>Where</th><th>Class</th><th>Message and excerpt</th></tr></thead>"
                       "<tbody>\n");
    for (size_t i = v->sv_n_recent; i-- > 0;) { /* newest first */
        const struct status_recent *r = &v->sv_recent[i];
        const struct monitor_violation *mv = &r->sr_v;
        STATUS_PAGE_LIT(w, "<tr class=\"violation\"><td>");
        status_page_time(w, mv->mv_wall_ms);
        STATUS_PAGE_LIT(w, "</td><td>");
        if (r->sr_subscription[0] != '\0')
            status_page_text(w, r->sr_subscription);
        if (r->sr_probe[0] != '\0') {
            STATUS_PAGE_LIT(w, " probe ");
            status_page_text(w, r->sr_probe);
        }
        if (mv->mv_event[0] != '\0') {
            STATUS_PAGE_LIT(w, "<div class=\"desc\">event ");
            status_page_text(w, mv->mv_event);
            STATUS_PAGE_LIT(w, "</div>");
        }
        if (mv->mv_state[0] != '\0') {
            STATUS_PAGE_LIT(w, "<div class=\"desc\">state ");
            status_page_text(w, mv->mv_state);
            STATUS_PAGE_LIT(w, "</div>");
        }
        STATUS_PAGE_LIT(w, "</td><td>");
        if (mv->mv_severity == VIOLATION_ERROR)
            STATUS_PAGE_LIT(w, "<span class=\"bad\">");
        else
            STATUS_PAGE_LIT(w, "<span>");
        status_page_text(w, violation_class_name(mv->mv_class));
        STATUS_PAGE_LIT(w, "</span> ");
        status_page_text(w, violation_severity_name(mv->mv_severity));
        STATUS_PAGE_LIT(w, "</td><td>");
        status_page_text(w, mv->mv_message);
        if (mv->mv_excerpt[0] != '\0') {
            STATUS_PAGE_LIT(w, "<pre class=\"excerpt\">");
            status_page_text(w, mv->mv_excerpt);
            STATUS_PAGE_LIT(w, "</pre>");
        }
        status_page_recent_links(r, w);
        STATUS_PAGE_LIT(w, "</td></tr>\n");
    }
    STATUS_PAGE_LIT(w, "</tbody></table></div>\n");
}

static void status_page_tail(const struct status_view *v, uint64_t now_wall_ms,
                             struct json_writer *w)
{
    for (size_t i = 0; i < v->sv_n_disabled; i++)
        status_page_disabled(&v->sv_disabled[i], w);
    STATUS_PAGE_LIT(w, "</tbody></table></div>\n");
    status_page_probes(v, now_wall_ms, w);
    status_page_recent(v, w);
    status_page_config(v, w);
    STATUS_PAGE_LIT(w, "</body></html>\n");
}

void status_page_render_rows(const struct status_view *v, const struct status_row *rows,
                             size_t n_rows, unsigned refresh_s, uint64_t now_wall_ms,
                             struct json_writer *w)
{
    status_page_head(v, refresh_s, now_wall_ms, w);
    STATUS_PAGE_LIT(w, status_page_sub_header);
    for (size_t i = 0; i < n_rows; i++)
        status_page_row(&rows[i], i < STATUS_PAGE_CHARTS_MAX, now_wall_ms, w);
    status_page_tail(v, now_wall_ms, w);
}

void status_page_render(const struct status_view *v, unsigned refresh_s, uint64_t now_mono_ms,
                        uint64_t now_wall_ms, struct json_writer *w)
{
    status_page_head(v, refresh_s, now_wall_ms, w);
    STATUS_PAGE_LIT(w, status_page_sub_header);
    for (size_t i = 0; i < v->sv_n_monitors; i++) {
        struct status_row r;
        status_render_row_from_monitor(v->sv_monitors[i], now_mono_ms, &r);
        status_page_row(&r, i < STATUS_PAGE_CHARTS_MAX, now_wall_ms, w);
    }
    status_page_tail(v, now_wall_ms, w);
}
