/*
 * status_render: the status endpoint's documents, rendered from the
 * daemon's monitors (or from hand-made rows in tests and benches): the
 * /status JSON document and the Prometheus text exposition (format 0.0.4).
 * No I/O: the caller owns the writer and sends the text.
 */
#include "ssemon/io/status_render.h"

#include "ssemon/base/clock.h"
#include "ssemon/base/numfmt.h"

#include "ssemon/core/contract.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/status_auth.h"
#include "ssemon/json/json_writer.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rendering helpers ---- */

void status_render_time(struct json_writer *w, uint64_t wall_ms)
{
    if (wall_ms == 0) {
        json_writer_null(w);
        return;
    }
    char buf[CLOCK_RFC3339_SIZE];
    clock_rfc3339(wall_ms, buf);
    json_writer_string(w, buf, CLOCK_RFC3339_SIZE - 1);
}

/* Optional texts are kept as "" when absent; they show as null. */
static void status_render_json_opt_text(struct json_writer *w, const char *s)
{
    if (s == NULL || s[0] == '\0')
        json_writer_null(w);
    else
        json_writer_cstring(w, s);
}

static void status_render_json_violation(struct json_writer *w, const char *subscription,
                                         const char *probe, const struct monitor_violation *mv)
{
    json_writer_object_begin(w);
    if (subscription != NULL) {
        JSON_WRITER_KEY(w, "subscription");
        status_render_json_opt_text(w, subscription);
    }
    if (probe != NULL && probe[0] != '\0') {
        JSON_WRITER_KEY(w, "probe");
        json_writer_cstring(w, probe);
    }
    JSON_WRITER_KEY(w, "class");
    json_writer_cstring(w, violation_class_name(mv->mv_class));
    JSON_WRITER_KEY(w, "severity");
    json_writer_cstring(w, violation_severity_name(mv->mv_severity));
    JSON_WRITER_KEY(w, "message");
    json_writer_cstring(w, mv->mv_message);
    JSON_WRITER_KEY(w, "event");
    status_render_json_opt_text(w, mv->mv_event);
    JSON_WRITER_KEY(w, "state");
    status_render_json_opt_text(w, mv->mv_state);
    JSON_WRITER_KEY(w, "excerpt");
    status_render_json_opt_text(w, mv->mv_excerpt);
    JSON_WRITER_KEY(w, "at");
    status_render_time(w, mv->mv_wall_ms);
    if (mv->mv_evidence[0] != '\0') {
        JSON_WRITER_KEY(w, "evidence");
        json_writer_cstring(w, mv->mv_evidence);
    }
    json_writer_object_end(w);
}

void status_render_violation(struct json_writer *w, const char *subscription, const char *probe,
                             const struct monitor_violation *mv)
{
    status_render_json_violation(w, subscription, probe, mv);
}

static void status_render_json_subscription(struct json_writer *w, const struct status_row *r)
{
    const struct monitor_stats *st = r->row_stats;
    json_writer_object_begin(w);
    JSON_WRITER_KEY(w, "name");
    json_writer_cstring(w, r->row_name);
    if (r->row_description != NULL && r->row_description[0] != '\0') {
        JSON_WRITER_KEY(w, "description");
        json_writer_cstring(w, r->row_description);
    }
    JSON_WRITER_KEY(w, "url");
    json_writer_cstring(w, r->row_url);
    JSON_WRITER_KEY(w, "contract");
    json_writer_cstring(w, r->row_contract != NULL ? r->row_contract->c_name : NULL);
    if (r->row_insecure) {
        /* Only when true: verification off is the exception to shout about. */
        JSON_WRITER_KEY(w, "insecure");
        json_writer_bool(w, true);
    }
    JSON_WRITER_KEY(w, "state");
    json_writer_cstring(w, monitor_state_name(st->ms_state));
    JSON_WRITER_KEY(w, "healthy");
    json_writer_bool(w, r->row_healthy);
    JSON_WRITER_KEY(w, "conditions");
    json_writer_array_begin(w);
    for (int k = 0; k < CONDITION_CLASS_COUNT; k++) {
        if (!st->ms_conditions.cs_open[k])
            continue;
        json_writer_object_begin(w);
        JSON_WRITER_KEY(w, "class");
        json_writer_cstring(w, violation_class_name(condition_classes[k]));
        JSON_WRITER_KEY(w, "since");
        status_render_time(w, st->ms_conditions.cs_since_wall_ms[k]);
        json_writer_object_end(w);
    }
    json_writer_array_end(w);
    JSON_WRITER_KEY(w, "connected_since");
    status_render_time(w, st->ms_connected_since_wall_ms);
    JSON_WRITER_KEY(w, "reconnects");
    json_writer_uint(w, st->ms_reconnects);
    JSON_WRITER_KEY(w, "events");
    json_writer_uint(w, st->ms_events);
    JSON_WRITER_KEY(w, "heartbeats");
    json_writer_uint(w, st->ms_heartbeats);
    JSON_WRITER_KEY(w, "bytes");
    json_writer_uint(w, st->ms_bytes);
    JSON_WRITER_KEY(w, "last_event_at");
    status_render_time(w, st->ms_last_event_wall_ms);
    JSON_WRITER_KEY(w, "last_heartbeat_at");
    status_render_time(w, st->ms_last_heartbeat_wall_ms);
    JSON_WRITER_KEY(w, "violations");
    json_writer_object_begin(w);
    JSON_WRITER_KEY(w, "total");
    json_writer_uint(w, st->ms_violations_total);
    JSON_WRITER_KEY(w, "by_class");
    json_writer_object_begin(w);
    for (int c = 0; c < VIOLATION_STREAM_CLASS_COUNT; c++) {
        json_writer_key(w, violation_class_name((enum violation_class)c));
        json_writer_uint(w, st->ms_violations[c]);
    }
    json_writer_object_end(w);
    json_writer_object_end(w);
    JSON_WRITER_KEY(w, "last_violation");
    if (st->ms_has_last_violation)
        status_render_json_violation(w, NULL, NULL, &st->ms_last_violation);
    else
        json_writer_null(w);
    json_writer_object_end(w);
}

/* A disabled subscription: what the configuration says of it, nothing
 * measured. */
static void status_render_json_disabled(struct json_writer *w, const struct status_disabled *d)
{
    json_writer_object_begin(w);
    JSON_WRITER_KEY(w, "name");
    json_writer_cstring(w, d->sd_name);
    if (d->sd_description != NULL && d->sd_description[0] != '\0') {
        JSON_WRITER_KEY(w, "description");
        json_writer_cstring(w, d->sd_description);
    }
    JSON_WRITER_KEY(w, "url");
    json_writer_cstring(w, d->sd_url);
    JSON_WRITER_KEY(w, "contract");
    json_writer_cstring(w, d->sd_contract);
    JSON_WRITER_KEY(w, "state");
    json_writer_cstring(w, "disabled");
    JSON_WRITER_KEY(w, "healthy");
    json_writer_bool(w, true);
    json_writer_object_end(w);
}

/* The "journal" object, written on a writer of its own (the caller's is
 * past the top level's grammar) and appended to `w`. Returns false when
 * out of memory. */
static bool status_render_json_journal(struct json_writer *w, const struct journal_stats *st)
{
    struct json_writer o;
    json_writer_init(&o);
    json_writer_object_begin(&o);
    JSON_WRITER_KEY(&o, "target");
    json_writer_cstring(&o, journal_writer_target_name(st->js_target));
    JSON_WRITER_KEY(&o, "up");
    json_writer_bool(&o, st->js_up);
    JSON_WRITER_KEY(&o, "down_since");
    status_render_time(&o, st->js_up ? 0 : st->js_down_since_wall_ms);
    JSON_WRITER_KEY(&o, "error");
    status_render_json_opt_text(&o, st->js_up ? NULL : st->js_error);
    JSON_WRITER_KEY(&o, "queued");
    json_writer_uint(&o, st->js_queued);
    JSON_WRITER_KEY(&o, "records");
    json_writer_object_begin(&o);
    JSON_WRITER_KEY(&o, "journal");
    json_writer_uint(&o, st->js_records_journal);
    JSON_WRITER_KEY(&o, "stderr");
    json_writer_uint(&o, st->js_records_stderr);
    json_writer_object_end(&o);
    JSON_WRITER_KEY(&o, "dropped");
    json_writer_object_begin(&o);
    for (int r = 0; r < JOURNAL_DROP_COUNT; r++) {
        json_writer_key(&o, journal_writer_drop_name((enum journal_drop)r));
        json_writer_uint(&o, st->js_dropped[r]);
    }
    json_writer_object_end(&o);
    json_writer_object_end(&o);
    size_t len;
    const char *text = json_writer_text(&o, &len);
    bool ok = !json_writer_failed(&o) && text != NULL;
    if (ok)
        json_writer_append(w, text, len);
    json_writer_free(&o);
    return ok;
}

void status_render_row_from_monitor(const struct monitor *m, uint64_t now_mono_ms,
                                    struct status_row *out)
{
    out->row_name = monitor_name(m);
    out->row_url = monitor_display_url(m);
    out->row_contract = monitor_contract(m);
    out->row_stats = monitor_stats(m);
    out->row_healthy = monitor_healthy(m, now_mono_ms);
    out->row_insecure = monitor_insecure(m);
    out->row_description = monitor_description(m);
}

/* The renderers walk either the view's monitors, turned into rows one at a
 * time so no array is allocated per request, or explicit rows. */
struct status_render_rows {
    const struct status_view *srs_view;
    struct monitor *const *srs_monitors; /* NULL: read srs_rows */
    const struct status_row *srs_rows;
    size_t srs_n;
    uint64_t srs_now_mono_ms;
};

static void status_render_rows_get(const struct status_render_rows *rs, size_t i,
                                   struct status_row *out)
{
    if (rs->srs_monitors != NULL)
        status_render_row_from_monitor(rs->srs_monitors[i], rs->srs_now_mono_ms, out);
    else
        *out = rs->srs_rows[i];
}

/* One /status render: the rows, the text before the first subscription
 * and after the last (both written at the start: the daemon-wide fields
 * and the recent violations, as they were then), and the cursor. */
/* ---- probes ---- */

const double status_probe_bounds[STATUS_PROBE_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};
_Static_assert(STATUS_PROBE_BUCKETS < 16, "struct monitor_histogram keeps 16 counts");

static void status_render_json_ms(struct json_writer *w, uint64_t ms)
{
    if (ms == UINT64_MAX)
        json_writer_null(w);
    else
        json_writer_uint(w, ms);
}

bool status_render_probe_failing(const struct status_probe *p)
{
    return p->sp_has_finished && !p->sp_success;
}

static void status_render_json_probe(struct json_writer *w, const struct status_probe *p)
{
    json_writer_object_begin(w);
    JSON_WRITER_KEY(w, "name");
    json_writer_cstring(w, p->sp_name);
    if (p->sp_description != NULL && p->sp_description[0] != '\0') {
        JSON_WRITER_KEY(w, "description");
        json_writer_cstring(w, p->sp_description);
    }
    JSON_WRITER_KEY(w, "every_s");
    json_writer_double(w, (double)p->sp_every_ms / 1000.0);
    JSON_WRITER_KEY(w, "runs");
    json_writer_uint(w, p->sp_runs);
    JSON_WRITER_KEY(w, "failures");
    json_writer_uint(w, p->sp_failures_total);
    JSON_WRITER_KEY(w, "failures_by_class");
    json_writer_object_begin(w);
    for (int c = 0; c < VIOLATION_CLASS_COUNT; c++)
        if (p->sp_failures[c] > 0) {
            json_writer_key(w, violation_class_name((enum violation_class)c));
            json_writer_uint(w, p->sp_failures[c]);
        }
    json_writer_object_end(w);
    JSON_WRITER_KEY(w, "skipped");
    json_writer_uint(w, p->sp_skipped);
    JSON_WRITER_KEY(w, "healthy");
    json_writer_bool(w, !status_render_probe_failing(p));
    JSON_WRITER_KEY(w, "running");
    json_writer_bool(w, p->sp_running);
    JSON_WRITER_KEY(w, "last_run");
    if (p->sp_last_run_id == NULL || p->sp_last_result == NULL) {
        json_writer_null(w);
    } else {
        json_writer_object_begin(w);
        JSON_WRITER_KEY(w, "run_id");
        json_writer_cstring(w, p->sp_last_run_id);
        JSON_WRITER_KEY(w, "started_at");
        status_render_time(w, p->sp_last_started_wall_ms);
        JSON_WRITER_KEY(w, "result");
        json_writer_cstring(w, p->sp_last_result);
        JSON_WRITER_KEY(w, "duration_ms");
        json_writer_uint(w, p->sp_last_duration_ms);
        JSON_WRITER_KEY(w, "captures");
        json_writer_object_begin(w);
        for (size_t i = 0; i < p->sp_n_captures; i++) {
            json_writer_key(w, p->sp_captures[i].spc_name);
            if (p->sp_captures[i].spc_value != NULL)
                json_writer_cstring(w, p->sp_captures[i].spc_value);
            else
                json_writer_null(w);
        }
        json_writer_object_end(w);
        JSON_WRITER_KEY(w, "steps");
        json_writer_array_begin(w);
        for (size_t i = 0; i < p->sp_n_steps; i++) {
            const struct status_probe_step *st = &p->sp_steps[i];
            json_writer_object_begin(w);
            JSON_WRITER_KEY(w, "subscription");
            json_writer_cstring(w, st->sps_subscription);
            JSON_WRITER_KEY(w, "event");
            json_writer_cstring(w, st->sps_event);
            JSON_WRITER_KEY(w, "result");
            if (st->sps_last_result != NULL && strcmp(p->sp_last_result, "skipped") != 0)
                json_writer_cstring(w, st->sps_last_result);
            else
                json_writer_null(w);
            JSON_WRITER_KEY(w, "delivery_ms");
            status_render_json_ms(w, strcmp(p->sp_last_result, "skipped") != 0
                                         ? st->sps_last_delivery_ms
                                         : UINT64_MAX);
            json_writer_object_end(w);
        }
        json_writer_array_end(w);
        json_writer_object_end(w);
    }
    JSON_WRITER_KEY(w, "delivery");
    json_writer_array_begin(w);
    for (size_t i = 0; i < p->sp_n_steps; i++) {
        const struct status_probe_step *st = &p->sp_steps[i];
        json_writer_object_begin(w);
        JSON_WRITER_KEY(w, "subscription");
        json_writer_cstring(w, st->sps_subscription);
        JSON_WRITER_KEY(w, "event");
        json_writer_cstring(w, st->sps_event);
        JSON_WRITER_KEY(w, "count");
        json_writer_uint(w, st->sps_delivery.mh_count);
        JSON_WRITER_KEY(w, "p50_ms");
        status_render_json_ms(w, st->sps_p50_ms);
        JSON_WRITER_KEY(w, "p99_ms");
        status_render_json_ms(w, st->sps_p99_ms);
        json_writer_object_end(w);
    }
    json_writer_array_end(w);
    JSON_WRITER_KEY(w, "last_failure");
    if (p->sp_last_failure == NULL) {
        json_writer_null(w);
    } else {
        json_writer_object_begin(w);
        JSON_WRITER_KEY(w, "class");
        json_writer_cstring(w, violation_class_name(p->sp_last_failure_class));
        JSON_WRITER_KEY(w, "message");
        json_writer_cstring(w, p->sp_last_failure);
        JSON_WRITER_KEY(w, "at");
        status_render_time(w, p->sp_last_failure_wall_ms);
        JSON_WRITER_KEY(w, "evidence");
        if (p->sp_last_failure_evidence != NULL)
            json_writer_cstring(w, p->sp_last_failure_evidence);
        else
            json_writer_null(w);
        json_writer_object_end(w);
    }
    json_writer_object_end(w);
}

/* The "probes" array, on a writer of its own, appended to `w`. */
static bool status_render_json_probes(struct json_writer *w, const struct status_view *v)
{
    struct json_writer o;
    json_writer_init(&o);
    json_writer_array_begin(&o);
    for (size_t i = 0; i < v->sv_n_probes; i++)
        status_render_json_probe(&o, &v->sv_probes[i]);
    json_writer_array_end(&o);
    size_t len;
    const char *text = json_writer_text(&o, &len);
    bool ok = !json_writer_failed(&o) && text != NULL;
    if (ok)
        json_writer_append(w, text, len);
    json_writer_free(&o);
    return ok;
}

/* {"path", "loaded_at", "last_reload": null | {"at", "ok", "error"}} */
static void status_render_json_config(struct json_writer *w, const struct status_view *v)
{
    json_writer_object_begin(w);
    JSON_WRITER_KEY(w, "path");
    json_writer_cstring(w, v->sv_config_path);
    JSON_WRITER_KEY(w, "loaded_at");
    status_render_time(w, v->sv_config_loaded_wall_ms);
    JSON_WRITER_KEY(w, "last_reload");
    if (v->sv_reload_wall_ms == 0) {
        json_writer_null(w);
    } else {
        json_writer_object_begin(w);
        JSON_WRITER_KEY(w, "at");
        status_render_time(w, v->sv_reload_wall_ms);
        JSON_WRITER_KEY(w, "ok");
        json_writer_bool(w, v->sv_reload_ok);
        JSON_WRITER_KEY(w, "error");
        status_render_json_opt_text(w, v->sv_reload_ok ? NULL : v->sv_reload_error);
        json_writer_object_end(w);
    }
    json_writer_object_end(w);
}

struct status_json {
    struct status_row *sj_rows; /* owned copy */
    size_t sj_n;
    char *sj_head; /* `{"version":...,"subscriptions":[` */
    size_t sj_head_len;
    char *sj_tail; /* `],"recent_violations":[...]}` */
    size_t sj_tail_len;
    size_t sj_next; /* next row; sj_n: the tail is next */
    bool sj_head_done;
    bool sj_done;
};

void status_render_json_free(struct status_json *j)
{
    if (j == NULL)
        return;
    free(j->sj_rows);
    free(j->sj_head);
    free(j->sj_tail);
    free(j);
}

static struct status_json *status_render_json_new(const struct status_render_rows *rs)
{
    const struct status_view *v = rs->srs_view;
    struct status_json *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return NULL;
    j->sj_n = rs->srs_n;
    j->sj_rows = calloc(j->sj_n ? j->sj_n : 1, sizeof(*j->sj_rows));
    if (j->sj_rows == NULL) {
        status_render_json_free(j);
        return NULL;
    }
    for (size_t i = 0; i < j->sj_n; i++)
        status_render_rows_get(rs, i, &j->sj_rows[i]);

    struct json_writer w;
    json_writer_init(&w);
    json_writer_object_begin(&w);
    JSON_WRITER_KEY(&w, "version");
    json_writer_cstring(&w, v->sv_version);
    JSON_WRITER_KEY(&w, "started_at");
    status_render_time(&w, v->sv_started_wall_ms);
    JSON_WRITER_KEY(&w, "uptime_s");
    uint64_t now = rs->srs_now_mono_ms;
    json_writer_uint(&w, now > v->sv_started_mono_ms ? (now - v->sv_started_mono_ms) / 1000u : 0);
    JSON_WRITER_KEY(&w, "config");
    status_render_json_config(&w, v);
    JSON_WRITER_KEY(&w, "subscriptions");
    json_writer_array_begin(&w);
    bool failed = json_writer_failed(&w);
    j->sj_head = json_writer_detach(&w, &j->sj_head_len);

    /* The disabled ones end the array; each is a top-level value of `w`,
     * so the commas between them are written here. */
    for (size_t i = 0; i < v->sv_n_disabled; i++) {
        if (j->sj_n > 0 || i > 0)
            json_writer_append(&w, ",", 1);
        status_render_json_disabled(&w, &v->sv_disabled[i]);
    }
    /* The subscriptions' array is closed by hand: this writer starts at the
     * top level, where it puts no separator before the array. */
    json_writer_append(&w, "],\"recent_violations\":", 22);
    json_writer_array_begin(&w);
    for (size_t i = 0; i < v->sv_n_recent; i++)
        status_render_json_violation(&w, v->sv_recent[i].sr_subscription, v->sv_recent[i].sr_probe,
                                     &v->sv_recent[i].sr_v);
    json_writer_array_end(&w);
    json_writer_append(&w, ",\"probes\":", 10);
    failed = failed || !status_render_json_probes(&w, v);
    if (v->sv_journal != NULL) {
        json_writer_append(&w, ",\"journal\":", 11);
        failed = failed || !status_render_json_journal(&w, v->sv_journal);
    }
    /* The endpoint faces the network with neither TLS nor authentication. */
    if (v->sv_status_exposed)
        json_writer_append(&w, ",\"status_exposed\":true}", 23);
    else
        json_writer_append(&w, ",\"status_exposed\":false}", 24);
    failed = failed || json_writer_failed(&w);
    j->sj_tail = json_writer_detach(&w, &j->sj_tail_len);
    if (failed || j->sj_head == NULL || j->sj_tail == NULL) {
        status_render_json_free(j);
        return NULL;
    }
    return j;
}

struct status_json *status_render_json_begin(const struct status_view *v, uint64_t now_mono_ms)
{
    const struct status_render_rows rs = {v, v->sv_monitors, NULL, v->sv_n_monitors, now_mono_ms};
    return status_render_json_new(&rs);
}

struct status_json *status_render_json_begin_rows(const struct status_view *v,
                                                  const struct status_row *rows, size_t n_rows,
                                                  uint64_t now_mono_ms)
{
    const struct status_render_rows rs = {v, NULL, rows, rows != NULL ? n_rows : 0, now_mono_ms};
    return status_render_json_new(&rs);
}

bool status_render_json_next(struct status_json *j, struct json_writer *w, size_t min_bytes)
{
    size_t start = json_writer_text_len(w);
    if (!j->sj_head_done) {
        json_writer_append(w, j->sj_head, j->sj_head_len);
        j->sj_head_done = true;
    }
    while (j->sj_next < j->sj_n) {
        if (json_writer_failed(w) || json_writer_text_len(w) - start >= min_bytes)
            return false;
        /* Each object is a top-level value of `w`: the commas between
         * them are written here. */
        if (j->sj_next > 0)
            json_writer_append(w, ",", 1);
        status_render_json_subscription(w, &j->sj_rows[j->sj_next++]);
    }
    if (!j->sj_done) {
        if (json_writer_text_len(w) - start >= min_bytes)
            return false;
        json_writer_append(w, j->sj_tail, j->sj_tail_len);
        j->sj_done = true;
    }
    return true;
}

static void status_render_json_any(const struct status_render_rows *rs, const char *only_name,
                                   struct json_writer *w)
{
    struct status_row r;
    if (only_name != NULL) {
        for (size_t i = 0; i < rs->srs_n; i++) {
            status_render_rows_get(rs, i, &r);
            if (strcmp(r.row_name, only_name) == 0) {
                status_render_json_subscription(w, &r);
                return;
            }
        }
        for (size_t i = 0; i < rs->srs_view->sv_n_disabled; i++)
            if (strcmp(rs->srs_view->sv_disabled[i].sd_name, only_name) == 0) {
                status_render_json_disabled(w, &rs->srs_view->sv_disabled[i]);
                return;
            }
        return;
    }
    struct status_json *j = status_render_json_new(rs);
    if (j == NULL) {
        json_writer_set_failed(w);
        return;
    }
    status_render_json_next(j, w, SIZE_MAX);
    status_render_json_free(j);
}

void status_render_json(const struct status_view *v, const char *only_name, uint64_t now_mono_ms,
                        struct json_writer *w)
{
    const struct status_render_rows rs = {v, v->sv_monitors, NULL, v->sv_n_monitors, now_mono_ms};
    status_render_json_any(&rs, only_name, w);
}

void status_render_json_rows(const struct status_view *v, const struct status_row *rows,
                             size_t n_rows, const char *only_name, uint64_t now_mono_ms,
                             struct json_writer *w)
{
    const struct status_render_rows rs = {v, NULL, rows, rows != NULL ? n_rows : 0, now_mono_ms};
    status_render_json_any(&rs, only_name, w);
}

/* ---- Prometheus text format 0.0.4 ---- */

/* A daemon with 10,000 subscriptions writes about 50 MB here per scrape
 * while its loop waits, so the sample path is built for that: each
 * subscription's label value is escaped once per render, each family's
 * line opening and each bucket's closing are composed once per render,
 * numbers are written by hand, and a sample line is then a few inline
 * copies into a buffer reserved from the last document's size. */

static inline void status_render_put(struct json_writer *w, const char *s)
{
    json_writer_append(w, s, strlen(s));
}

/* The line writer. A scrape of 10,000 subscriptions is some 650,000
 * short lines, so they are written straight into room claimed per row,
 * and pieces and labels are copied in whole blocks of STATUS_RENDER_BLOCK
 * bytes (one load and one store each): their storage is padded so that
 * reading a whole last block stays inside it, and the claimed room has a
 * block of slack past the longest line. */
#define STATUS_RENDER_BLOCK 16

static inline char *status_render_copy(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i += STATUS_RENDER_BLOCK)
        memcpy(dst + i, src + i, STATUS_RENDER_BLOCK);
    return dst + len;
}

/* `units` / 10^`digits` (digits <= 6) as an exact decimal, trailing zeros
 * dropped. */
static inline char *status_render_fixed(char *dst, uint64_t units, unsigned digits)
{
    static const uint64_t scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    uint64_t sc = scale[digits];
    dst = numfmt_u64(dst, units / sc);
    uint64_t frac = units % sc;
    if (frac == 0)
        return dst;
    unsigned n = digits;
    while (frac % 10u == 0) {
        frac /= 10u;
        n--;
    }
    *dst = '.';
    for (unsigned i = n; i > 0; i--) {
        dst[i] = (char)('0' + frac % 10u);
        frac /= 10u;
    }
    return dst + n + 1;
}

static inline void status_render_put_u64(struct json_writer *w, uint64_t v)
{
    char buf[24];
    json_writer_append(w, buf, (size_t)(numfmt_u64(buf, v) - buf));
}

static void status_render_put_fixed(struct json_writer *w, uint64_t units, unsigned digits)
{
    char buf[32];
    json_writer_append(w, buf, (size_t)(status_render_fixed(buf, units, digits) - buf));
}

/* A wall-clock millisecond stamp as exact decimal seconds ("1700000000.12"). */
static void status_render_put_ms_as_seconds(struct json_writer *w, uint64_t ms)
{
    status_render_put_fixed(w, ms, 3);
}

/* A bucket bound as written in the source: whole milliseconds exactly
 * ("0.005", "10", "-3.25"), anything else as the shortest of %.15g, %.16g,
 * %.17g that reads back exactly (Go's ParseFloat reads them all). `size`
 * is at least NUMFMT_DOUBLE_MAX; returns the length written to `buf`. */
static size_t status_render_format_double(char *buf, size_t size, double v)
{
    if (isnan(v))
        return (size_t)snprintf(buf, size, "NaN");
    if (isinf(v))
        return (size_t)snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
    double ms = v * 1000.0;
    if (fabs(ms) < 9e15) {
        double r = nearbyint(ms);
        if (fabs(ms - r) <= 1e-9 * fmax(1.0, fabs(ms)) && (r / 1000.0 == v)) {
            /* At most a sign, 16 digits, a point and 3 decimals. */
            char *o = buf;
            if (r < 0)
                *o++ = '-';
            o = status_render_fixed(o, (uint64_t)fabs(r), 3);
            *o = '\0';
            return (size_t)(o - buf);
        }
    }
    return numfmt_double(buf, size, v, 15);
}

static inline bool status_render_label_plain(const char *s, size_t *len)
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
static size_t status_render_label_escape(const char *s, char *out)
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

static void status_render_put_label_value(struct json_writer *w, const char *s)
{
    size_t len;
    if (status_render_label_plain(s, &len)) {
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
    json_writer_append(w, buf, status_render_label_escape(s, buf));
    if (buf != stack)
        free(buf);
}

/* A piece of sample line composed once per render. */
struct status_render_piece {
    char sp_text[160];
    size_t sp_len;
};

/* Returns false when the piece does not fit (the render then fails rather
 * than write a cut line): names, class names and bounds are all short. */
static bool status_render_piece_set(struct status_render_piece *p, const char *a, const char *b,
                                    const char *c)
{
    int n = snprintf(p->sp_text, sizeof(p->sp_text), "%s%s%s", a, b, c);
    if (n < 0 || (size_t)n >= sizeof(p->sp_text)) {
        p->sp_len = 0;
        return false;
    }
    p->sp_len = (size_t)n;
    return true;
}

static const struct status_render_piece status_render_close_plain = {"\"} ", 3};

/* What a family shows, one kind of line (or group of lines) per row. */
enum status_render_family_kind {
    STATUS_RENDER_FAM_BUILD_INFO = 0, /* no rows: one line */
    STATUS_RENDER_FAM_START_TIME,     /* no rows: one line */
    STATUS_RENDER_FAM_RELOAD_OK,      /* no rows: one line */
    STATUS_RENDER_FAM_RELOAD_TIME,    /* no rows: one line */
    STATUS_RENDER_FAM_UP,
    STATUS_RENDER_FAM_HEALTHY,
    STATUS_RENDER_FAM_CONDITION,
    STATUS_RENDER_FAM_EVENTS,
    STATUS_RENDER_FAM_HEARTBEATS,
    STATUS_RENDER_FAM_VIOLATIONS,
    STATUS_RENDER_FAM_LAST_VIOLATION,
    STATUS_RENDER_FAM_RECONNECTS,
    STATUS_RENDER_FAM_BYTES,
    STATUS_RENDER_FAM_HIST_GAP,
    STATUS_RENDER_FAM_HIST_RATIO,
    STATUS_RENDER_FAM_HIST_LATENCY,
    STATUS_RENDER_FAM_LAST_EVENT,
    STATUS_RENDER_FAM_LAST_HEARTBEAT,
    /* Daemon-wide, only with the view's journal stats. */
    STATUS_RENDER_FAM_JOURNAL_UP,
    STATUS_RENDER_FAM_JOURNAL_QUEUED,
    STATUS_RENDER_FAM_JOURNAL_RECORDS,
    STATUS_RENDER_FAM_JOURNAL_DROPPED,
    STATUS_RENDER_FAM_COUNT
};

struct status_render_family {
    const char *sf_name;
    const char *sf_type;
    const char *sf_help;
};

/* In exposition order (the order of enum status_render_family_kind). */
static const struct status_render_family status_render_families[STATUS_RENDER_FAM_COUNT] = {
    {"ssemon_build_info", "gauge", "Always 1; the version label says which ssemon runs."},
    {"ssemon_start_time_seconds", "gauge",
     "When the daemon started, in seconds since the Unix epoch."},
    {"ssemon_config_last_reload_successful", "gauge",
     "1 while the running configuration is the file's (loaded at start or by the last reload); "
     "0 after a reload was refused, until one succeeds."},
    {"ssemon_config_last_reload_success_timestamp_seconds", "gauge",
     "When the running configuration was loaded (start or last successful reload), in seconds "
     "since the Unix epoch."},
    {"ssemon_subscription_up", "gauge",
     "1 while the subscription's stream is open, or between lifecycles of a stream that ended by "
     "contract (until a reconnect fails); 0 while the monitor cannot get a stream it should "
     "have."},
    {"ssemon_subscription_healthy", "gauge",
     "1 while the subscription is up with no open condition and no recent error violation."},
    {"ssemon_condition_active", "gauge",
     "1 while a condition of the class is open (heartbeat_missed until a heartbeat, "
     "first_event_late until the first event, connect_failed, http_status and content_type until "
     "a stream opens); every class that can open one is listed."},
    {"ssemon_events_total", "counter",
     "Events received, by contract event kind; event=other counts the kinds the contract does "
     "not declare."},
    {"ssemon_heartbeats_total", "counter", "Heartbeats received."},
    {"ssemon_violations_total", "counter",
     "Contract violations detected, by class (every class is listed, zeros included, unless "
     "the configuration sets \"metrics\": {\"zeros\": false})."},
    {"ssemon_last_violation_timestamp_seconds", "gauge",
     "When the last violation of the class was detected, in seconds since the Unix epoch, "
     "labelled with its severity; a class appears once it has happened."},
    {"ssemon_reconnects_total", "counter", "Connection attempts after the first one."},
    {"ssemon_bytes_total", "counter", "Response body bytes received."},
    {"ssemon_heartbeat_gap_seconds", "histogram", "Time between consecutive heartbeats."},
    {"ssemon_heartbeat_gap_ratio", "histogram",
     "Heartbeat gaps as a fraction of the allowed gap (interval x tolerance); 1 is the limit."},
    {"ssemon_first_event_latency_seconds", "histogram",
     "Time from the stream opening to its first event."},
    {"ssemon_last_event_timestamp_seconds", "gauge",
     "When the last event arrived, in seconds since the Unix epoch (0: never)."},
    {"ssemon_last_heartbeat_timestamp_seconds", "gauge",
     "When the last heartbeat arrived, in seconds since the Unix epoch (0: never)."},
    {"ssemon_journal_up", "gauge",
     "1 while journald takes the daemon's records (always 1 when the log target is stderr); 0 "
     "while it is unreachable or stalled and records go to stderr."},
    {"ssemon_journal_queued_records", "gauge",
     "Records waiting to be written, to journald or to stderr."},
    {"ssemon_journal_records_total", "counter",
     "Records written, by sink: journal (taken by journald) or stderr (one JSON line each)."},
    {"ssemon_journal_records_dropped_total", "counter",
     "Records lost, by reason (every reason is listed, zeros included)."},
};

/* A histogram family's pieces: line openings and one closing per bucket. */
struct status_render_hist_pieces {
    struct status_render_piece sh_bucket, sh_sum, sh_count;
    struct status_render_piece sh_le[16];
    size_t sh_n; /* finite bounds; sh_le[sh_n] is +Inf */
};

/* One render: the subscriptions, each label value escaped once, the line
 * pieces composed once, and where the next slice starts. */
struct status_metrics {
    char *sm_version; /* owned */
    uint64_t sm_started_wall_ms;
    uint64_t sm_config_loaded_wall_ms;
    bool sm_reload_failed;
    bool sm_has_journal;
    struct journal_stats sm_journal; /* as it was at the start of the render */
    const struct status_row *sm_rows;
    size_t sm_n;
    const char **sm_label; /* per row: the escaped subscription name */
    size_t *sm_label_len;
    struct status_row *sm_owned_rows; /* rows made from the view's monitors */
    char *sm_arena;                   /* every label value, padded */
    struct status_render_piece sm_open[STATUS_RENDER_FAM_COUNT]; /* `NAME{subscription="` */
    struct status_render_piece sm_class[VIOLATION_CLASS_COUNT];
    /* `",class="C",severity="S"} `: the last-violation gauge's labels. */
    struct status_render_piece sm_class_sev[VIOLATION_STREAM_CLASS_COUNT][3];
    struct status_render_hist_pieces sm_hist[3];
    /* The histogram setting; with STATUS_HISTOGRAMS_CONTRACT the groups:
     * row indices sorted by contract name, group g being
     * sm_group_rows[sm_group_start[g] .. sm_group_start[g + 1]), its
     * label value escaped in sm_group_arena. */
    enum status_histograms sm_histograms;
    bool sm_sparse; /* per-class lines only where non-zero */
    size_t sm_n_groups;
    size_t *sm_group_rows;
    size_t *sm_group_start;
    const char **sm_group_label;
    size_t *sm_group_label_len;
    char *sm_group_arena;
    char *sm_probes; /* the ssemon_probe_* families, rendered at the start */
    size_t sm_probes_len;
    bool sm_probes_done;
    /* The cursor: family, and row within it (header written once). */
    size_t sm_family;
    size_t sm_row;
    bool sm_header_done;
};

void status_render_metrics_free(struct status_metrics *m)
{
    if (m == NULL)
        return;
    free(m->sm_version);
    free(m->sm_owned_rows);
    free(m->sm_label);
    free(m->sm_label_len);
    free(m->sm_arena);
    free(m->sm_group_rows);
    free(m->sm_group_start);
    free(m->sm_group_label);
    free(m->sm_group_label_len);
    free(m->sm_group_arena);
    free(m->sm_probes);
    free(m);
}

/* Each histogram's finite bounds and +Inf fit the counts it keeps. */
_Static_assert(MONITOR_GAP_BUCKETS < 16 && MONITOR_RATIO_BUCKETS < 16 &&
                   MONITOR_LATENCY_BUCKETS < 16,
               "struct monitor_histogram keeps 16 counts: at most 15 bounds and +Inf");

static bool status_render_hist_pieces_init(struct status_render_hist_pieces *h, const char *name,
                                           const double *bounds, size_t n_bounds, const char *label)
{
    char open[40];
    h->sh_n = n_bounds;
    snprintf(open, sizeof(open), "_bucket{%s=\"", label);
    bool ok = status_render_piece_set(&h->sh_bucket, name, open, "");
    snprintf(open, sizeof(open), "_sum{%s=\"", label);
    ok = ok && status_render_piece_set(&h->sh_sum, name, open, "");
    snprintf(open, sizeof(open), "_count{%s=\"", label);
    ok = ok && status_render_piece_set(&h->sh_count, name, open, "");
    for (size_t b = 0; ok && b <= h->sh_n; b++) {
        char bound[NUMFMT_DOUBLE_MAX];
        if (b < h->sh_n)
            status_render_format_double(bound, sizeof(bound), bounds[b]);
        else
            snprintf(bound, sizeof(bound), "+Inf");
        ok = status_render_piece_set(&h->sh_le[b], "\",le=\"", bound, "\"} ");
    }
    return ok;
}

/* ---- the probes' families ---- */

static void status_render_metric_family(struct json_writer *w,
                                        const struct status_render_family *f);

static void status_render_probe_head(struct json_writer *w, const char *name, const char *type,
                                     const char *help)
{
    const struct status_render_family f = {name, type, help};
    status_render_metric_family(w, &f);
}

/* NAME{probe="P"SUFFIX VALUE\n, where SUFFIX closes the labels. */
static void status_render_probe_open(struct json_writer *w, const char *name,
                                     const struct status_probe *p)
{
    status_render_put(w, name);
    status_render_put(w, "{probe=\"");
    status_render_put_label_value(w, p->sp_name);
    json_writer_append(w, "\"", 1);
}

static void status_render_probe_hist(struct json_writer *w, const char *name,
                                     const struct status_probe *p, const char *sub,
                                     const char *event, const struct monitor_histogram *h)
{
    char bucket[128], sum[128], count[128];
    snprintf(bucket, sizeof(bucket), "%s_bucket", name);
    snprintf(sum, sizeof(sum), "%s_sum", name);
    snprintf(count, sizeof(count), "%s_count", name);
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= STATUS_PROBE_BUCKETS; b++) {
        cumulative += h->mh_counts[b];
        status_render_probe_open(w, bucket, p);
        if (sub != NULL) {
            status_render_put(w, ",subscription=\"");
            status_render_put_label_value(w, sub);
            status_render_put(w, "\",event=\"");
            status_render_put_label_value(w, event);
            json_writer_append(w, "\"", 1);
        }
        status_render_put(w, ",le=\"");
        if (b < STATUS_PROBE_BUCKETS) {
            char bound[NUMFMT_DOUBLE_MAX];
            status_render_format_double(bound, sizeof(bound), status_probe_bounds[b]);
            status_render_put(w, bound);
        } else {
            status_render_put(w, "+Inf");
        }
        status_render_put(w, "\"} ");
        status_render_put_u64(w, cumulative);
        json_writer_append(w, "\n", 1);
    }
    const char *names[2] = {sum, count};
    for (int k = 0; k < 2; k++) {
        status_render_probe_open(w, names[k], p);
        if (sub != NULL) {
            status_render_put(w, ",subscription=\"");
            status_render_put_label_value(w, sub);
            status_render_put(w, "\",event=\"");
            status_render_put_label_value(w, event);
            json_writer_append(w, "\"", 1);
        }
        status_render_put(w, "} ");
        if (k == 0)
            status_render_put_fixed(w, h->mh_sum_micro, 6);
        else
            status_render_put_u64(w, cumulative);
        json_writer_append(w, "\n", 1);
    }
}

static void status_render_metric_probes(struct json_writer *w, const struct status_view *v)
{
    status_render_probe_head(w, "ssemon_probe_runs_total", "counter",
                             "Probe runs that finished (succeeded or failed); skipped runs are not "
                             "counted here.");
    for (size_t i = 0; i < v->sv_n_probes; i++) {
        status_render_probe_open(w, "ssemon_probe_runs_total", &v->sv_probes[i]);
        status_render_put(w, "} ");
        status_render_put_u64(w, v->sv_probes[i].sp_runs);
        json_writer_append(w, "\n", 1);
    }
    status_render_probe_head(w, "ssemon_probe_failures_total", "counter",
                             "Failed probe runs, by the class of violation that failed them (a run "
                             "failing for two classes counts for both; every class is listed).");
    for (size_t i = 0; i < v->sv_n_probes; i++)
        for (int c = 0; c < VIOLATION_CLASS_COUNT; c++) {
            status_render_probe_open(w, "ssemon_probe_failures_total", &v->sv_probes[i]);
            status_render_put(w, ",class=\"");
            status_render_put(w, violation_class_name((enum violation_class)c));
            status_render_put(w, "\"} ");
            status_render_put_u64(w, v->sv_probes[i].sp_failures[c]);
            json_writer_append(w, "\n", 1);
        }
    status_render_probe_head(w, "ssemon_probe_skipped_total", "counter",
                             "Probe runs not triggered because a subscription they expect events "
                             "on was not streaming.");
    for (size_t i = 0; i < v->sv_n_probes; i++) {
        status_render_probe_open(w, "ssemon_probe_skipped_total", &v->sv_probes[i]);
        status_render_put(w, "} ");
        status_render_put_u64(w, v->sv_probes[i].sp_skipped);
        json_writer_append(w, "\n", 1);
    }
    status_render_probe_head(w, "ssemon_probe_success", "gauge",
                             "1 when the probe's last finished run succeeded, 0 when it failed or "
                             "no run has finished yet.");
    for (size_t i = 0; i < v->sv_n_probes; i++) {
        const struct status_probe *p = &v->sv_probes[i];
        status_render_probe_open(w, "ssemon_probe_success", p);
        status_render_put(w, p->sp_has_finished && p->sp_success ? "} 1\n" : "} 0\n");
    }
    status_render_probe_head(w, "ssemon_probe_last_run_timestamp_seconds", "gauge",
                             "When the probe's last run (finished or skipped) started, in seconds "
                             "since the Unix epoch; 0 before the first.");
    for (size_t i = 0; i < v->sv_n_probes; i++) {
        const struct status_probe *p = &v->sv_probes[i];
        status_render_probe_open(w, "ssemon_probe_last_run_timestamp_seconds", p);
        status_render_put(w, "} ");
        status_render_put_ms_as_seconds(w,
                                        p->sp_last_run_id != NULL ? p->sp_last_started_wall_ms : 0);
        json_writer_append(w, "\n", 1);
    }
    status_render_probe_head(w, "ssemon_probe_delivery_seconds", "histogram",
                             "Time from the start of the probe's trigger request to the event "
                             "that met an expectation (subscription, event), or to a probe "
                             "stream's final state (subscription=\"stream/N\", event=\"final\").");
    for (size_t i = 0; i < v->sv_n_probes; i++) {
        const struct status_probe *p = &v->sv_probes[i];
        for (size_t k = 0; k < p->sp_n_steps; k++)
            status_render_probe_hist(w, "ssemon_probe_delivery_seconds", p,
                                     p->sp_steps[k].sps_subscription, p->sp_steps[k].sps_event,
                                     &p->sp_steps[k].sps_delivery);
    }
    status_render_probe_head(w, "ssemon_probe_trigger_duration_seconds", "histogram",
                             "Time the probe's trigger request took, to its complete response.");
    for (size_t i = 0; i < v->sv_n_probes; i++)
        status_render_probe_hist(w, "ssemon_probe_trigger_duration_seconds", &v->sv_probes[i], NULL,
                                 NULL, &v->sv_probes[i].sp_trigger);
}

/* ---- the status endpoint's basic authentication ---- */

static void status_render_metric_auth(struct json_writer *w, const struct status_auth_counts *c)
{
    status_render_probe_head(w, "ssemon_status_auth_total", "counter",
                             "Requests to the status endpoint by the outcome of their basic "
                             "authentication: ok and denied (checked), cached (admitted by the "
                             "cache), busy (429, too many checks waiting).");
    const char *names[4] = {"ok", "denied", "cached", "busy"};
    const uint64_t values[4] = {c->sac_ok, c->sac_denied, c->sac_cached, c->sac_busy};
    for (size_t i = 0; i < 4; i++) {
        status_render_put(w, "ssemon_status_auth_total{result=\"");
        status_render_put(w, names[i]);
        status_render_put(w, "\"} ");
        status_render_put_u64(w, values[i]);
        json_writer_append(w, "\n", 1);
    }
}

/* ---- histograms per contract ---- */

static const char *status_render_contract_name(const struct status_row *r)
{
    return r->row_contract != NULL && r->row_contract->c_name != NULL ? r->row_contract->c_name
                                                                      : "";
}

struct status_render_by_contract {
    const char *sbc_name;
    size_t sbc_row;
};

static int status_render_by_contract_cmp(const void *a, const void *b)
{
    const struct status_render_by_contract *x = a, *y = b;
    int c = strcmp(x->sbc_name, y->sbc_name);
    if (c != 0)
        return c;
    return x->sbc_row < y->sbc_row ? -1 : x->sbc_row > y->sbc_row;
}

/* Groups the rows by contract name (groups in name order, rows in
 * configuration order) and escapes each name once, padded like the
 * subscription labels. O(n log n) in the rows. */
static bool status_render_groups_init(struct status_metrics *m)
{
    size_t n = m->sm_n;
    struct status_render_by_contract *by = calloc(n ? n : 1, sizeof(*by));
    m->sm_group_rows = calloc(n ? n : 1, sizeof(*m->sm_group_rows));
    m->sm_group_start = calloc(n + 1, sizeof(*m->sm_group_start));
    m->sm_group_label = calloc(n ? n : 1, sizeof(*m->sm_group_label));
    m->sm_group_label_len = calloc(n ? n : 1, sizeof(*m->sm_group_label_len));
    if (by == NULL || m->sm_group_rows == NULL || m->sm_group_start == NULL ||
        m->sm_group_label == NULL || m->sm_group_label_len == NULL) {
        free(by);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        by[i].sbc_name = status_render_contract_name(&m->sm_rows[i]);
        by[i].sbc_row = i;
    }
    if (n > 1)
        qsort(by, n, sizeof(*by), status_render_by_contract_cmp);
    size_t arena = 0;
    for (size_t i = 0; i < n; i++) {
        m->sm_group_rows[i] = by[i].sbc_row;
        if (i == 0 || strcmp(by[i].sbc_name, by[i - 1].sbc_name) != 0) {
            size_t len;
            arena +=
                (status_render_label_plain(by[i].sbc_name, &len) ? len
                                                                 : 2 * strlen(by[i].sbc_name)) +
                STATUS_RENDER_BLOCK;
            m->sm_group_start[m->sm_n_groups++] = i;
        }
    }
    m->sm_group_start[m->sm_n_groups] = n;
    m->sm_group_arena = calloc(arena ? arena : 1, 1);
    if (m->sm_group_arena == NULL) {
        free(by);
        return false;
    }
    char *at = m->sm_group_arena;
    for (size_t g = 0; g < m->sm_n_groups; g++) {
        const char *name = by[m->sm_group_start[g]].sbc_name;
        size_t len;
        if (status_render_label_plain(name, &len))
            memcpy(at, name, len);
        else
            len = status_render_label_escape(name, at);
        m->sm_group_label[g] = at;
        m->sm_group_label_len[g] = len;
        at += len + STATUS_RENDER_BLOCK;
    }
    free(by);
    return true;
}

static struct status_metrics *status_render_metrics_new(const struct status_render_rows *rs)
{
    struct status_metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    const struct status_view *v = rs->srs_view;
    m->sm_version = strdup(v->sv_version != NULL ? v->sv_version : "");
    m->sm_started_wall_ms = v->sv_started_wall_ms;
    m->sm_config_loaded_wall_ms = v->sv_config_loaded_wall_ms;
    m->sm_reload_failed = v->sv_reload_wall_ms != 0 && !v->sv_reload_ok;
    if (v->sv_journal != NULL) {
        m->sm_has_journal = true;
        m->sm_journal = *v->sv_journal;
    }
    size_t n = rs->srs_n;
    m->sm_n = n;
    m->sm_label = calloc(n ? n : 1, sizeof(*m->sm_label));
    m->sm_label_len = calloc(n ? n : 1, sizeof(*m->sm_label_len));
    if (m->sm_version == NULL || m->sm_label == NULL || m->sm_label_len == NULL)
        goto fail;
    if (rs->srs_monitors != NULL) {
        m->sm_owned_rows = calloc(n ? n : 1, sizeof(*m->sm_owned_rows));
        if (m->sm_owned_rows == NULL)
            goto fail;
        for (size_t i = 0; i < n; i++)
            status_render_row_from_monitor(rs->srs_monitors[i], rs->srs_now_mono_ms,
                                           &m->sm_owned_rows[i]);
        m->sm_rows = m->sm_owned_rows;
    } else {
        m->sm_rows = rs->srs_rows;
    }
    /* Every label value in one arena, each followed by STATUS_RENDER_BLOCK
     * bytes of padding: the line writer copies in whole blocks. */
    size_t arena = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = m->sm_rows[i].row_name;
        size_t len;
        arena +=
            (status_render_label_plain(name, &len) ? len : 2 * strlen(name)) + STATUS_RENDER_BLOCK;
    }
    m->sm_arena = calloc(arena ? arena : 1, 1);
    if (m->sm_arena == NULL)
        goto fail;
    char *at = m->sm_arena;
    for (size_t i = 0; i < n; i++) {
        const char *name = m->sm_rows[i].row_name;
        size_t len;
        if (status_render_label_plain(name, &len))
            memcpy(at, name, len);
        else
            len = status_render_label_escape(name, at);
        m->sm_label[i] = at;
        m->sm_label_len[i] = len;
        at += len + STATUS_RENDER_BLOCK;
    }
    bool ok = true;
    for (size_t f = 0; f < STATUS_RENDER_FAM_COUNT; f++)
        ok &= status_render_piece_set(&m->sm_open[f], status_render_families[f].sf_name,
                                      "{subscription=\"", "");
    for (int c = 0; c < VIOLATION_CLASS_COUNT; c++)
        ok &= status_render_piece_set(&m->sm_class[c], "\",class=\"",
                                      violation_class_name((enum violation_class)c), "\"} ");
    for (int c = 0; c < VIOLATION_STREAM_CLASS_COUNT; c++)
        for (int s = 0; s < 3; s++) {
            char sev[48];
            snprintf(sev, sizeof(sev), "\",severity=\"%s\"} ",
                     violation_severity_name((enum violation_severity)s));
            ok &= status_render_piece_set(&m->sm_class_sev[c][s], "\",class=\"",
                                          violation_class_name((enum violation_class)c), sev);
        }
    m->sm_histograms = v->sv_histograms;
    m->sm_sparse = v->sv_sparse;
    const char *hist_label =
        m->sm_histograms == STATUS_HISTOGRAMS_CONTRACT ? "contract" : "subscription";
    ok &= status_render_hist_pieces_init(&m->sm_hist[0],
                                         status_render_families[STATUS_RENDER_FAM_HIST_GAP].sf_name,
                                         monitor_gap_bounds, MONITOR_GAP_BUCKETS, hist_label);
    ok &= status_render_hist_pieces_init(
        &m->sm_hist[1], status_render_families[STATUS_RENDER_FAM_HIST_RATIO].sf_name,
        monitor_ratio_bounds, MONITOR_RATIO_BUCKETS, hist_label);
    ok &= status_render_hist_pieces_init(
        &m->sm_hist[2], status_render_families[STATUS_RENDER_FAM_HIST_LATENCY].sf_name,
        monitor_latency_bounds, MONITOR_LATENCY_BUCKETS, hist_label);
    if (!ok)
        goto fail;
    if (m->sm_histograms == STATUS_HISTOGRAMS_CONTRACT && !status_render_groups_init(m))
        goto fail;
    if (v->sv_n_probes > 0 || v->sv_auth != NULL || v->sv_metrics_tail != NULL) {
        struct json_writer pw;
        json_writer_init(&pw);
        if (v->sv_n_probes > 0)
            status_render_metric_probes(&pw, v);
        if (v->sv_auth != NULL)
            status_render_metric_auth(&pw, v->sv_auth);
        if (v->sv_metrics_tail != NULL)
            json_writer_append(&pw, v->sv_metrics_tail, v->sv_metrics_tail_len);
        if (json_writer_failed(&pw)) {
            json_writer_free(&pw);
            goto fail;
        }
        m->sm_probes = json_writer_detach(&pw, &m->sm_probes_len);
        if (m->sm_probes == NULL)
            goto fail;
    }
    return m;
fail:
    status_render_metrics_free(m);
    return NULL;
}

struct status_metrics *status_render_metrics_begin(const struct status_view *v,
                                                   uint64_t now_mono_ms)
{
    const struct status_render_rows rs = {v, v->sv_monitors, NULL, v->sv_n_monitors, now_mono_ms};
    return status_render_metrics_new(&rs);
}

struct status_metrics *status_render_metrics_begin_rows(const struct status_view *v,
                                                        const struct status_row *rows,
                                                        size_t n_rows)
{
    const struct status_render_rows rs = {v, NULL, rows, rows != NULL ? n_rows : 0, 0};
    return status_render_metrics_new(&rs);
}

static void status_render_metric_family(struct json_writer *w, const struct status_render_family *f)
{
    status_render_put(w, "# HELP ");
    status_render_put(w, f->sf_name);
    json_writer_append(w, " ", 1);
    status_render_put(w, f->sf_help);
    status_render_put(w, "\n# TYPE ");
    status_render_put(w, f->sf_name);
    json_writer_append(w, " ", 1);
    status_render_put(w, f->sf_type);
    json_writer_append(w, "\n", 1);
}

/* Room one sample line of row i may take: the two pieces, the label, a
 * value (at most 21 characters: 20 digits and a point), the line feed and
 * a block of slack. */
static inline size_t status_render_line_max(const struct status_metrics *m, size_t i)
{
    return 2 * sizeof(((struct status_render_piece *)NULL)->sp_text) + m->sm_label_len[i] + 32 +
           STATUS_RENDER_BLOCK;
}

/* `open`, row i's label value and `close`: all of a sample line but its
 * value and line feed. */
static inline char *status_render_head(char *o, const struct status_metrics *m, size_t i,
                                       const struct status_render_piece *open,
                                       const struct status_render_piece *close)
{
    o = status_render_copy(o, open->sp_text, open->sp_len);
    o = status_render_copy(o, m->sm_label[i], m->sm_label_len[i]);
    return status_render_copy(o, close->sp_text, close->sp_len);
}

/* Per contract event kind, plus "other" for everything else. A contract
 * kind literally named "other" is folded into it: two samples with the same
 * labels would make the whole exposition invalid. */
static void status_render_metric_events(struct json_writer *w, const struct status_metrics *m,
                                        size_t i)
{
    static const struct status_render_piece close_other = {"\",event=\"other\"} ", 17};
    static const struct status_render_piece event_eq = {"\",event=\"", 9};
    const struct status_render_piece *open = &m->sm_open[STATUS_RENDER_FAM_EVENTS];
    const struct status_row *r = &m->sm_rows[i];
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
        size_t kind_len;
        if (!status_render_label_plain(kind, &kind_len)) {
            /* Escapes needed: the general path. */
            char *o = json_writer_claim(w, status_render_line_max(m, i));
            if (o == NULL)
                return;
            json_writer_commit(w, (size_t)(status_render_head(o, m, i, open, &event_eq) - o));
            status_render_put_label_value(w, kind);
            json_writer_append(w, "\"} ", 3);
            status_render_put_u64(w, n);
            json_writer_append(w, "\n", 1);
            continue;
        }
        char *o = json_writer_claim(w, status_render_line_max(m, i) + kind_len);
        if (o == NULL)
            return;
        char *start = o;
        o = status_render_head(o, m, i, open, &event_eq);
        memcpy(o, kind, kind_len); /* exact: the name is not padded */
        o += kind_len;
        memcpy(o, "\"} ", 3);
        o = numfmt_u64(o + 3, n);
        *o++ = '\n';
        json_writer_commit(w, (size_t)(o - start));
    }
    if (st->ms_events_by_kind != NULL && st->ms_n_kinds > 0)
        other += st->ms_events_by_kind[st->ms_n_kinds - 1];
    else
        other += st->ms_events > named_total ? st->ms_events - named_total : 0;
    char *o = json_writer_claim(w, status_render_line_max(m, i));
    if (o == NULL)
        return;
    char *start = o;
    o = status_render_head(o, m, i, open, &close_other);
    o = numfmt_u64(o, other);
    *o++ = '\n';
    json_writer_commit(w, (size_t)(o - start));
}

/* One histogram's lines: `label` (escaped, padded, `label_len` bytes)
 * after each opening piece. */
static void status_render_metric_histogram(struct json_writer *w,
                                           const struct status_render_hist_pieces *hp,
                                           const char *label, size_t label_len,
                                           const struct monitor_histogram *h)
{
    size_t line_max = 2 * sizeof(((struct status_render_piece *)NULL)->sp_text) + label_len + 32 +
                      STATUS_RENDER_BLOCK;
    char *o = json_writer_claim(w, (hp->sh_n + 3) * line_max);
    if (o == NULL)
        return;
    char *start = o;
    /* The +Inf bucket and _count are the same number by definition: both
     * come from the bucket counts, so they agree whatever the input. */
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= hp->sh_n; b++) {
        cumulative += h->mh_counts[b];
        o = status_render_copy(o, hp->sh_bucket.sp_text, hp->sh_bucket.sp_len);
        o = status_render_copy(o, label, label_len);
        o = status_render_copy(o, hp->sh_le[b].sp_text, hp->sh_le[b].sp_len);
        o = numfmt_u64(o, cumulative);
        *o++ = '\n';
    }
    o = status_render_copy(o, hp->sh_sum.sp_text, hp->sh_sum.sp_len);
    o = status_render_copy(o, label, label_len);
    o = status_render_copy(o, status_render_close_plain.sp_text, status_render_close_plain.sp_len);
    o = status_render_fixed(o, h->mh_sum_micro, 6);
    *o++ = '\n';
    o = status_render_copy(o, hp->sh_count.sp_text, hp->sh_count.sp_len);
    o = status_render_copy(o, label, label_len);
    o = status_render_copy(o, status_render_close_plain.sp_text, status_render_close_plain.sp_len);
    o = numfmt_u64(o, cumulative);
    *o++ = '\n';
    json_writer_commit(w, (size_t)(o - start));
}

/* The histogram `k` (0 gap, 1 ratio, 2 latency) of a row's statistics. */
static const struct monitor_histogram *status_render_row_hist(const struct status_row *r, size_t k)
{
    return k == 0   ? &r->row_stats->ms_gap
           : k == 1 ? &r->row_stats->ms_gap_ratio
                    : &r->row_stats->ms_latency;
}

/* Item i of histogram family k: row i's histogram, or with the setting
 * "contract" group i's, summed from its rows' histograms as they are now
 * (wrapping like the counters they are made of). */
static void status_render_metric_hist_item(struct json_writer *w, const struct status_metrics *m,
                                           size_t k, size_t i)
{
    if (m->sm_histograms != STATUS_HISTOGRAMS_CONTRACT) {
        status_render_metric_histogram(w, &m->sm_hist[k], m->sm_label[i], m->sm_label_len[i],
                                       status_render_row_hist(&m->sm_rows[i], k));
        return;
    }
    struct monitor_histogram sum;
    memset(&sum, 0, sizeof(sum));
    for (size_t j = m->sm_group_start[i]; j < m->sm_group_start[i + 1]; j++) {
        const struct monitor_histogram *h =
            status_render_row_hist(&m->sm_rows[m->sm_group_rows[j]], k);
        for (size_t b = 0; b <= m->sm_hist[k].sh_n; b++)
            sum.mh_counts[b] += h->mh_counts[b];
        sum.mh_count += h->mh_count;
        sum.mh_sum_micro += h->mh_sum_micro;
    }
    status_render_metric_histogram(w, &m->sm_hist[k], m->sm_group_label[i],
                                   m->sm_group_label_len[i], &sum);
}

static void status_render_metric_violations(struct json_writer *w, const struct status_metrics *m,
                                            size_t i)
{
    char *o = json_writer_claim(w, VIOLATION_STREAM_CLASS_COUNT * status_render_line_max(m, i));
    if (o == NULL)
        return;
    char *start = o;
    const struct monitor_stats *st = m->sm_rows[i].row_stats;
    for (int c = 0; c < VIOLATION_STREAM_CLASS_COUNT; c++) {
        if (m->sm_sparse && st->ms_violations[c] == 0)
            continue;
        o = status_render_head(o, m, i, &m->sm_open[STATUS_RENDER_FAM_VIOLATIONS], &m->sm_class[c]);
        o = numfmt_u64(o, st->ms_violations[c]);
        *o++ = '\n';
    }
    json_writer_commit(w, (size_t)(o - start));
}

static void status_render_metric_conditions(struct json_writer *w, const struct status_metrics *m,
                                            size_t i)
{
    char *o = json_writer_claim(w, CONDITION_CLASS_COUNT * status_render_line_max(m, i));
    if (o == NULL)
        return;
    char *start = o;
    const struct condition_set *cs = &m->sm_rows[i].row_stats->ms_conditions;
    for (int k = 0; k < CONDITION_CLASS_COUNT; k++) {
        if (m->sm_sparse && !cs->cs_open[k])
            continue;
        o = status_render_head(o, m, i, &m->sm_open[STATUS_RENDER_FAM_CONDITION],
                               &m->sm_class[condition_classes[k]]);
        *o++ = cs->cs_open[k] ? '1' : '0';
        *o++ = '\n';
    }
    json_writer_commit(w, (size_t)(o - start));
}

/* One line per stream class that has happened: when its last violation was
 * seen, labelled with that violation's severity (error, warning, info: the
 * words of the journal and /status). A class that never happened has no series (10,000
 * subscriptions x 15 classes of zeros would be 150,000 lines nobody reads); the alert rules read
 * the timestamp, so a series born with its first violation alerts at once. */
static void status_render_metric_last_violation(struct json_writer *w,
                                                const struct status_metrics *m, size_t i)
{
    char *o = json_writer_claim(w, VIOLATION_STREAM_CLASS_COUNT * status_render_line_max(m, i));
    if (o == NULL)
        return;
    char *start = o;
    const struct monitor_stats *st = m->sm_rows[i].row_stats;
    for (int c = 0; c < VIOLATION_STREAM_CLASS_COUNT; c++) {
        if (st->ms_last_violation_wall_ms[c] == 0)
            continue;
        unsigned sev = (unsigned)st->ms_last_violation_severity[c];
        o = status_render_head(o, m, i, &m->sm_open[STATUS_RENDER_FAM_LAST_VIOLATION],
                               &m->sm_class_sev[c][sev < 3 ? sev : 0]);
        o = status_render_fixed(o, st->ms_last_violation_wall_ms[c], 3);
        *o++ = '\n';
    }
    json_writer_commit(w, (size_t)(o - start));
}

/* Row i's lines of family f. */
static void status_render_metric_row(struct json_writer *w, const struct status_metrics *m,
                                     size_t f, size_t i)
{
    const struct status_row *r = &m->sm_rows[i];
    const struct monitor_stats *st = r->row_stats;
    switch ((enum status_render_family_kind)f) {
    case STATUS_RENDER_FAM_EVENTS:
        status_render_metric_events(w, m, i);
        return;
    case STATUS_RENDER_FAM_VIOLATIONS:
        status_render_metric_violations(w, m, i);
        return;
    case STATUS_RENDER_FAM_CONDITION:
        status_render_metric_conditions(w, m, i);
        return;
    case STATUS_RENDER_FAM_LAST_VIOLATION:
        status_render_metric_last_violation(w, m, i);
        return;
    case STATUS_RENDER_FAM_HIST_GAP:
    case STATUS_RENDER_FAM_HIST_RATIO:
    case STATUS_RENDER_FAM_HIST_LATENCY:
        status_render_metric_hist_item(w, m, f - STATUS_RENDER_FAM_HIST_GAP, i);
        return;
    default:
        break;
    }
    char *o = json_writer_claim(w, status_render_line_max(m, i));
    if (o == NULL)
        return;
    char *start = o;
    o = status_render_head(o, m, i, &m->sm_open[f], &status_render_close_plain);
    switch ((enum status_render_family_kind)f) {
    case STATUS_RENDER_FAM_UP:
        *o++ = monitor_stats_up(st) ? '1' : '0';
        break;
    case STATUS_RENDER_FAM_HEALTHY:
        *o++ = r->row_healthy ? '1' : '0';
        break;
    case STATUS_RENDER_FAM_HEARTBEATS:
        o = numfmt_u64(o, st->ms_heartbeats);
        break;
    case STATUS_RENDER_FAM_RECONNECTS:
        o = numfmt_u64(o, st->ms_reconnects);
        break;
    case STATUS_RENDER_FAM_BYTES:
        o = numfmt_u64(o, st->ms_bytes);
        break;
    case STATUS_RENDER_FAM_LAST_EVENT:
        o = status_render_fixed(o, st->ms_last_event_wall_ms, 3);
        break;
    case STATUS_RENDER_FAM_LAST_HEARTBEAT:
        o = status_render_fixed(o, st->ms_last_heartbeat_wall_ms, 3);
        break;
    default:
        break;
    }
    *o++ = '\n';
    json_writer_commit(w, (size_t)(o - start));
}

/* The lines of a daemon-wide journal family. */
static void status_render_metric_journal(struct json_writer *w, const struct journal_stats *st,
                                         size_t f)
{
    switch ((enum status_render_family_kind)f) {
    case STATUS_RENDER_FAM_JOURNAL_UP:
        status_render_put(w, st->js_up ? "ssemon_journal_up 1\n" : "ssemon_journal_up 0\n");
        return;
    case STATUS_RENDER_FAM_JOURNAL_QUEUED:
        status_render_put(w, "ssemon_journal_queued_records ");
        status_render_put_u64(w, st->js_queued);
        json_writer_append(w, "\n", 1);
        return;
    case STATUS_RENDER_FAM_JOURNAL_RECORDS:
        status_render_put(w, "ssemon_journal_records_total{sink=\"journal\"} ");
        status_render_put_u64(w, st->js_records_journal);
        status_render_put(w, "\nssemon_journal_records_total{sink=\"stderr\"} ");
        status_render_put_u64(w, st->js_records_stderr);
        json_writer_append(w, "\n", 1);
        return;
    case STATUS_RENDER_FAM_JOURNAL_DROPPED:
        for (int r = 0; r < JOURNAL_DROP_COUNT; r++) {
            status_render_put(w, "ssemon_journal_records_dropped_total{reason=\"");
            status_render_put(w, journal_writer_drop_name((enum journal_drop)r));
            status_render_put(w, "\"} ");
            status_render_put_u64(w, st->js_dropped[r]);
            json_writer_append(w, "\n", 1);
        }
        return;
    default:
        return;
    }
}

bool status_render_metrics_next(struct status_metrics *m, struct json_writer *w, size_t min_bytes)
{
    size_t start = json_writer_text_len(w);
    while (m->sm_family < STATUS_RENDER_FAM_COUNT) {
        if (json_writer_failed(w))
            return false;
        if (json_writer_text_len(w) - start >= min_bytes)
            return false;
        size_t f = m->sm_family;
        bool hist = f >= STATUS_RENDER_FAM_HIST_GAP && f <= STATUS_RENDER_FAM_HIST_LATENCY;
        if ((f >= STATUS_RENDER_FAM_JOURNAL_UP && !m->sm_has_journal) ||
            (hist && m->sm_histograms == STATUS_HISTOGRAMS_NONE)) {
            m->sm_family++;
            continue;
        }
        /* Items of the family: rows, or contracts for the histograms. */
        size_t n_items =
            hist && m->sm_histograms == STATUS_HISTOGRAMS_CONTRACT ? m->sm_n_groups : m->sm_n;
        if (!m->sm_header_done) {
            status_render_metric_family(w, &status_render_families[f]);
            m->sm_header_done = true;
        }
        if (f >= STATUS_RENDER_FAM_JOURNAL_UP) {
            status_render_metric_journal(w, &m->sm_journal, f);
            m->sm_row = m->sm_n;
        } else if (f == STATUS_RENDER_FAM_BUILD_INFO) {
            status_render_put(w, "ssemon_build_info{version=\"");
            status_render_put_label_value(w, m->sm_version);
            status_render_put(w, "\"} 1\n");
            m->sm_row = m->sm_n;
        } else if (f == STATUS_RENDER_FAM_START_TIME) {
            status_render_put(w, "ssemon_start_time_seconds ");
            status_render_put_ms_as_seconds(w, m->sm_started_wall_ms);
            json_writer_append(w, "\n", 1);
            m->sm_row = m->sm_n;
        } else if (f == STATUS_RENDER_FAM_RELOAD_OK) {
            status_render_put(w, m->sm_reload_failed ? "ssemon_config_last_reload_successful 0\n"
                                                     : "ssemon_config_last_reload_successful 1\n");
            m->sm_row = m->sm_n;
        } else if (f == STATUS_RENDER_FAM_RELOAD_TIME) {
            status_render_put(w, "ssemon_config_last_reload_success_timestamp_seconds ");
            status_render_put_ms_as_seconds(w, m->sm_config_loaded_wall_ms);
            json_writer_append(w, "\n", 1);
            m->sm_row = m->sm_n;
        }
        /* Items until the slice is full. */
        while (m->sm_row < n_items) {
            status_render_metric_row(w, m, f, m->sm_row++);
            if (json_writer_text_len(w) - start >= min_bytes)
                break;
        }
        if (m->sm_row < n_items)
            continue;
        m->sm_family++;
        m->sm_row = 0;
        m->sm_header_done = false;
    }
    if (!m->sm_probes_done) {
        if (json_writer_text_len(w) - start >= min_bytes)
            return false;
        if (m->sm_probes != NULL)
            json_writer_append(w, m->sm_probes, m->sm_probes_len);
        m->sm_probes_done = true;
    }
    return true;
}

static void status_render_metrics_any(const struct status_render_rows *rs, struct json_writer *w)
{
    struct status_metrics *m = status_render_metrics_new(rs);
    if (m == NULL) {
        json_writer_set_failed(w);
        return;
    }
    status_render_metrics_next(m, w, SIZE_MAX);
    status_render_metrics_free(m);
}

void status_render_metrics(const struct status_view *v, uint64_t now_mono_ms, struct json_writer *w)
{
    const struct status_render_rows rs = {v, v->sv_monitors, NULL, v->sv_n_monitors, now_mono_ms};
    status_render_metrics_any(&rs, w);
}

void status_render_metrics_rows(const struct status_view *v, const struct status_row *rows,
                                size_t n_rows, struct json_writer *w)
{
    const struct status_render_rows rs = {v, NULL, rows, rows != NULL ? n_rows : 0, 0};
    status_render_metrics_any(&rs, w);
}
