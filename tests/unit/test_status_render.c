/*
 * The status renderers: the /status JSON document and the Prometheus
 * exposition, over hand-made rows (statistics no live stream produces on
 * demand) and over real, never started monitors (the view path the daemon
 * uses), with the daemon-wide journal figures or without them.
 * `test_status_render --dump-metrics` prints a rendered exposition for
 * promtool (registered as its own test).
 */
#include "ssemon/core/contract.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/monitor.h"
#include "ssemon/io/status_auth.h"
#include "ssemon/io/status_server.h"
#include "ssemon/io/subscription.h"
#include "ssemon/json/json_writer.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

/* 2023-11-14T22:13:20.123Z */
#define T0_MS 1700000000123ull

/* Event kinds include one named "other" (folded into the catch-all) and
 * one whose name needs the quote and backslash label escapes (a kind has no
 * line feed; subscription names test that one). */
static const char test_contract_json[] =
    "{\"name\": \"render-test\","
    " \"events\": {\"heartbeat\": {\"heartbeat\": true, \"data\": \"text\"},"
    "              \"task_event\": {},"
    "              \"other\": {},"
    "              \"we\\\"ird\\\\kind\": {}}}";

struct fixture {
    struct contract *f_contract;
    uint64_t f_kinds[5]; /* heartbeat, task_event, other, weird, catch-all */
    struct monitor_stats f_stats[2];
    struct status_row f_rows[2];
    struct status_recent f_recent[2];
    struct journal_stats f_journal;
    struct status_view f_view;
    struct json_writer f_w;
};

static struct contract *test_contract(void)
{
    json_error_t jerr;
    json_t *doc = json_loads(test_contract_json, 0, &jerr);
    if (doc == NULL)
        return NULL;
    struct contract_error cerr;
    struct contract *c = contract_compile(doc, &cerr);
    json_decref(doc);
    return c;
}

static void fill_violation(struct monitor_violation *mv, enum violation_class cls,
                           const char *message, const char *event, uint64_t at)
{
    memset(mv, 0, sizeof(*mv));
    mv->mv_class = cls;
    mv->mv_severity = VIOLATION_ERROR;
    snprintf(mv->mv_message, sizeof(mv->mv_message), "%s", message);
    snprintf(mv->mv_event, sizeof(mv->mv_event), "%s", event);
    mv->mv_wall_ms = at;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->f_contract = test_contract();
    assert_non_null(f->f_contract);
    assert_int_equal(f->f_contract->c_n_events, 4);

    /* "alpha": streaming, healthy, busy; counts by kind follow the
     * contract's event order, whatever it is. */
    struct monitor_stats *a = &f->f_stats[0];
    a->ms_state = MONITOR_STREAMING;
    a->ms_connected_since_wall_ms = T0_MS;
    a->ms_reconnects = 2;
    a->ms_events = 20;
    a->ms_heartbeats = 7;
    a->ms_bytes = 4096;
    a->ms_last_event_wall_ms = T0_MS + 1500;
    a->ms_last_heartbeat_wall_ms = T0_MS + 1000;
    a->ms_violations_total = 3;
    a->ms_violations[VIOLATION_SCHEMA] = 2;
    a->ms_violations[VIOLATION_HEARTBEAT_MISSED] = 1;
    a->ms_has_last_violation = true;
    fill_violation(&a->ms_last_violation, VIOLATION_SCHEMA, "payload \"x\" is\nwrong", "task_event",
                   T0_MS + 2000);
    snprintf(a->ms_last_violation.mv_state, sizeof(a->ms_last_violation.mv_state), "running");
    /* Gap histogram: 1 in [..0.5], 2 in (1,2], 1 above 120 s. */
    a->ms_gap.mh_counts[0] = 1;
    a->ms_gap.mh_counts[2] = 2;
    a->ms_gap.mh_counts[MONITOR_GAP_BUCKETS] = 1;
    a->ms_gap.mh_count = 4;
    a->ms_gap.mh_sum_micro = 125250000;
    a->ms_gap_ratio.mh_counts[1] = 3; /* 0.25 < r <= 0.5 */
    a->ms_gap_ratio.mh_counts[4] = 1; /* 0.8 < r <= 0.9 */
    a->ms_gap_ratio.mh_count = 4;
    a->ms_gap_ratio.mh_sum_micro = 2350000;
    a->ms_latency.mh_counts[1] = 1;
    a->ms_latency.mh_count = 1;
    a->ms_latency.mh_sum_micro = 7000;
    for (size_t i = 0; i < 4; i++) {
        const char *n = f->f_contract->c_events[i].ce_name;
        if (strcmp(n, "heartbeat") == 0)
            f->f_kinds[i] = 7;
        else if (strcmp(n, "task_event") == 0)
            f->f_kinds[i] = 9;
        else if (strcmp(n, "other") == 0)
            f->f_kinds[i] = 1;
        else
            f->f_kinds[i] = 2;
    }
    f->f_kinds[4] = 1; /* undeclared kinds */
    a->ms_events_by_kind = f->f_kinds;
    a->ms_n_kinds = 5;

    /* "beta": never connected, nothing happened. */
    struct monitor_stats *b = &f->f_stats[1];
    b->ms_state = MONITOR_BACKOFF;

    f->f_rows[0] =
        (struct status_row){"alpha", "https://example.test/a", f->f_contract, a, true, false, NULL};
    f->f_rows[1] = (struct status_row){"beta", "http://127.0.0.1:1/b", NULL, b, false, false, NULL};

    snprintf(f->f_recent[0].sr_subscription, sizeof(f->f_recent[0].sr_subscription), "beta");
    fill_violation(&f->f_recent[0].sr_v, VIOLATION_CONNECT_FAILED, "connection refused", "",
                   T0_MS + 10);
    snprintf(f->f_recent[1].sr_subscription, sizeof(f->f_recent[1].sr_subscription), "alpha");
    f->f_recent[1].sr_v = a->ms_last_violation;

    f->f_view.sv_version = "9.8.7";
    f->f_view.sv_started_wall_ms = T0_MS;
    f->f_view.sv_started_mono_ms = 50000;
    f->f_view.sv_config_path = "/etc/ssemon/ssemon.json";
    f->f_view.sv_config_loaded_wall_ms = T0_MS;
    f->f_view.sv_recent = f->f_recent;
    f->f_view.sv_n_recent = 2;

    /* journald stalled since T0 + 5 s: some records went to stderr. */
    struct journal_stats *js = &f->f_journal;
    js->js_target = JOURNAL_TARGET_JOURNAL;
    js->js_up = false;
    snprintf(js->js_error, sizeof(js->js_error), "journald took no record for 1000 ms");
    js->js_down_since_wall_ms = T0_MS + 5000;
    js->js_queued = 3;
    js->js_records_journal = 120;
    js->js_records_stderr = 7;
    js->js_dropped[JOURNAL_DROP_STDERR_FULL] = 2;
    f->f_view.sv_journal = js;
    json_writer_init(&f->f_w);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    json_writer_free(&f->f_w);
    contract_free(f->f_contract);
    free(f);
    return 0;
}

static json_t *render_json(struct fixture *f, const char *only)
{
    json_writer_reset(&f->f_w);
    status_render_json_rows(&f->f_view, f->f_rows, 2, only, 50000 + 3725400, &f->f_w);
    assert_false(json_writer_failed(&f->f_w));
    size_t len;
    const char *text = json_writer_text(&f->f_w, &len);
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    if (doc == NULL)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    return doc;
}

/* The object's keys, in order, joined with ','. */
static void keys_of(const json_t *obj, char *buf, size_t size)
{
    buf[0] = '\0';
    const char *key;
    json_t *val;
    size_t used = 0;
    json_object_foreach((json_t *)obj, key, val)
    {
        (void)val;
        int n = snprintf(buf + used, size - used, "%s%s", used > 0 ? "," : "", key);
        assert_true(n > 0 && (size_t)n < size - used);
        used += (size_t)n;
    }
}

static void test_json_document(void **state)
{
    struct fixture *f = *state;
    json_t *doc = render_json(f, NULL);
    char keys[1024];
    keys_of(doc, keys, sizeof(keys));
    assert_string_equal(
        keys, "version,started_at,uptime_s,config,subscriptions,recent_violations,probes,journal,"
              "status_exposed");
    assert_string_equal(json_string_value(json_object_get(doc, "version")), "9.8.7");
    assert_string_equal(json_string_value(json_object_get(doc, "started_at")),
                        "2023-11-14T22:13:20.123Z");
    assert_int_equal(json_integer_value(json_object_get(doc, "uptime_s")), 3725);
    json_t *cfg = json_object_get(doc, "config");
    keys_of(cfg, keys, sizeof(keys));
    assert_string_equal(keys, "path,loaded_at,last_reload");
    assert_string_equal(json_string_value(json_object_get(cfg, "path")), "/etc/ssemon/ssemon.json");
    assert_string_equal(json_string_value(json_object_get(cfg, "loaded_at")),
                        "2023-11-14T22:13:20.123Z");
    assert_true(json_is_null(json_object_get(cfg, "last_reload")));
    json_t *subs = json_object_get(doc, "subscriptions");
    assert_int_equal(json_array_size(subs), 2);

    json_t *a = json_array_get(subs, 0);
    keys_of(a, keys, sizeof(keys));
    assert_string_equal(keys, "name,url,contract,state,healthy,conditions,connected_since,"
                              "reconnects,events,heartbeats,bytes,last_event_at,last_heartbeat_at,"
                              "violations,last_violation");
    assert_true(json_is_array(json_object_get(a, "conditions")));
    assert_int_equal(json_array_size(json_object_get(a, "conditions")), 0);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "alpha");
    assert_string_equal(json_string_value(json_object_get(a, "url")), "https://example.test/a");
    assert_string_equal(json_string_value(json_object_get(a, "contract")), "render-test");
    assert_string_equal(json_string_value(json_object_get(a, "state")), "streaming");
    assert_true(json_is_true(json_object_get(a, "healthy")));
    assert_string_equal(json_string_value(json_object_get(a, "connected_since")),
                        "2023-11-14T22:13:20.123Z");
    assert_int_equal(json_integer_value(json_object_get(a, "reconnects")), 2);
    assert_int_equal(json_integer_value(json_object_get(a, "events")), 20);
    assert_int_equal(json_integer_value(json_object_get(a, "heartbeats")), 7);
    assert_int_equal(json_integer_value(json_object_get(a, "bytes")), 4096);
    assert_string_equal(json_string_value(json_object_get(a, "last_event_at")),
                        "2023-11-14T22:13:21.623Z");
    assert_string_equal(json_string_value(json_object_get(a, "last_heartbeat_at")),
                        "2023-11-14T22:13:21.123Z");

    json_t *viol = json_object_get(a, "violations");
    keys_of(viol, keys, sizeof(keys));
    assert_string_equal(keys, "total,by_class");
    assert_int_equal(json_integer_value(json_object_get(viol, "total")), 3);
    json_t *by = json_object_get(viol, "by_class");
    assert_int_equal(json_object_size(by), VIOLATION_STREAM_CLASS_COUNT);
    for (int c = 0; c < VIOLATION_STREAM_CLASS_COUNT; c++) {
        json_t *n = json_object_get(by, violation_class_name((enum violation_class)c));
        assert_true(json_is_integer(n));
        json_int_t want = c == VIOLATION_SCHEMA ? 2 : c == VIOLATION_HEARTBEAT_MISSED ? 1 : 0;
        assert_int_equal(json_integer_value(n), want);
    }

    json_t *lv = json_object_get(a, "last_violation");
    keys_of(lv, keys, sizeof(keys));
    assert_string_equal(keys, "class,severity,message,event,state,excerpt,at");
    assert_string_equal(json_string_value(json_object_get(lv, "class")), "schema");
    assert_string_equal(json_string_value(json_object_get(lv, "severity")), "error");
    assert_string_equal(json_string_value(json_object_get(lv, "message")),
                        "payload \"x\" is\nwrong");
    assert_string_equal(json_string_value(json_object_get(lv, "event")), "task_event");
    assert_string_equal(json_string_value(json_object_get(lv, "state")), "running");
    assert_true(json_is_null(json_object_get(lv, "excerpt")));
    assert_string_equal(json_string_value(json_object_get(lv, "at")), "2023-11-14T22:13:22.123Z");

    json_t *b = json_array_get(subs, 1);
    assert_string_equal(json_string_value(json_object_get(b, "state")), "backoff");
    assert_true(json_is_false(json_object_get(b, "healthy")));
    assert_true(json_is_null(json_object_get(b, "contract")));
    assert_true(json_is_null(json_object_get(b, "connected_since")));
    assert_true(json_is_null(json_object_get(b, "last_event_at")));
    assert_true(json_is_null(json_object_get(b, "last_heartbeat_at")));
    assert_true(json_is_null(json_object_get(b, "last_violation")));
    assert_int_equal(
        json_object_size(json_object_get(json_object_get(b, "violations"), "by_class")),
        VIOLATION_STREAM_CLASS_COUNT);

    json_t *recent = json_object_get(doc, "recent_violations");
    assert_int_equal(json_array_size(recent), 2);
    json_t *r0 = json_array_get(recent, 0);
    keys_of(r0, keys, sizeof(keys));
    assert_string_equal(keys, "subscription,class,severity,message,event,state,excerpt,at");
    assert_string_equal(json_string_value(json_object_get(r0, "subscription")), "beta");
    assert_string_equal(json_string_value(json_object_get(r0, "class")), "connect_failed");
    assert_true(json_is_null(json_object_get(r0, "event")));
    assert_string_equal(json_string_value(json_object_get(r0, "at")), "2023-11-14T22:13:20.133Z");
    assert_string_equal(json_string_value(json_object_get(json_array_get(recent, 1), "class")),
                        "schema");

    json_t *jn = json_object_get(doc, "journal");
    keys_of(jn, keys, sizeof(keys));
    assert_string_equal(keys, "target,up,down_since,error,queued,records,dropped");
    assert_string_equal(json_string_value(json_object_get(jn, "target")), "journal");
    assert_true(json_is_false(json_object_get(jn, "up")));
    assert_string_equal(json_string_value(json_object_get(jn, "down_since")),
                        "2023-11-14T22:13:25.123Z");
    assert_string_equal(json_string_value(json_object_get(jn, "error")),
                        "journald took no record for 1000 ms");
    assert_int_equal(json_integer_value(json_object_get(jn, "queued")), 3);
    json_t *rec = json_object_get(jn, "records");
    keys_of(rec, keys, sizeof(keys));
    assert_string_equal(keys, "journal,stderr");
    assert_int_equal(json_integer_value(json_object_get(rec, "journal")), 120);
    assert_int_equal(json_integer_value(json_object_get(rec, "stderr")), 7);
    json_t *drop = json_object_get(jn, "dropped");
    keys_of(drop, keys, sizeof(keys));
    assert_string_equal(keys, "stderr_full,stderr_error,shutdown,no_memory");
    assert_int_equal(json_integer_value(json_object_get(drop, "stderr_full")), 2);
    assert_int_equal(json_integer_value(json_object_get(drop, "no_memory")), 0);
    json_decref(doc);

    /* Up again: no time, no error. */
    f->f_journal.js_up = true;
    doc = render_json(f, NULL);
    jn = json_object_get(doc, "journal");
    assert_true(json_is_true(json_object_get(jn, "up")));
    assert_true(json_is_null(json_object_get(jn, "down_since")));
    assert_true(json_is_null(json_object_get(jn, "error")));
    json_decref(doc);
}

static void test_json_one(void **state)
{
    struct fixture *f = *state;
    json_t *doc = render_json(f, "beta");
    assert_true(json_is_object(doc));
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "beta");
    assert_null(json_object_get(doc, "subscriptions"));
    json_decref(doc);

    json_writer_reset(&f->f_w);
    status_render_json_rows(&f->f_view, f->f_rows, 2, "gamma", 0, &f->f_w);
    size_t len;
    json_writer_text(&f->f_w, &len);
    assert_int_equal(len, 0);
}

/* TLS verification off: "insecure": true after "contract", only then. */
static void test_json_insecure(void **state)
{
    struct fixture *f = *state;
    f->f_rows[1].row_insecure = true;
    json_t *doc = render_json(f, NULL);
    f->f_rows[1].row_insecure = false;
    json_t *subs = json_object_get(doc, "subscriptions");
    assert_null(json_object_get(json_array_get(subs, 0), "insecure"));
    json_t *b = json_array_get(subs, 1);
    assert_true(json_is_true(json_object_get(b, "insecure")));
    char keys[1024];
    keys_of(b, keys, sizeof(keys));
    assert_non_null(strstr(keys, "name,url,contract,insecure,state,"));
    json_decref(doc);
}

/* Every stamp is written as gmtime_r and printf would write it, from the
 * epoch to the end of year 9999 (leap days and century years included);
 * later ones are clamped to that end. */
static void test_json_times(void **state)
{
    struct fixture *f = *state;
    static const uint64_t fixed[] = {
        1,               /* 1970-01-01T00:00:00.001Z */
        951782400000,    /* 2000-02-29 */
        951868799999,    /* 2000-02-29T23:59:59.999Z */
        4107456000000,   /* 2100-02-28 */
        4107542400000,   /* 2100-03-01: 2100 is not a leap year */
        1709164800000,   /* 2024-02-29 */
        253402300799999, /* 9999-12-31T23:59:59.999Z */
    };
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < 3000; i++) {
        uint64_t t;
        if (i < sizeof(fixed) / sizeof(fixed[0])) {
            t = fixed[i];
        } else {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            t = 1 + (seed >> 16) % 253402300799999ull;
        }
        f->f_stats[1].ms_last_event_wall_ms = t;
        json_t *doc = render_json(f, "beta");
        const char *got = json_string_value(json_object_get(doc, "last_event_at"));
        assert_non_null(got);
        time_t secs = (time_t)(t / 1000u);
        struct tm tm;
        assert_non_null(gmtime_r(&secs, &tm));
        char want[64];
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(t % 1000u));
        if (strcmp(got, want) != 0)
            fail_msg("stamp %llu: got %s, want %s", (unsigned long long)t, got, want);
        json_decref(doc);
    }
    f->f_stats[1].ms_last_event_wall_ms = 253402300800000ull + 86400000ull * 400;
    json_t *doc = render_json(f, "beta");
    assert_string_equal(json_string_value(json_object_get(doc, "last_event_at")),
                        "9999-12-31T23:59:59.999Z");
    json_decref(doc);
}

static void test_json_empty(void **state)
{
    struct fixture *f = *state;
    struct status_view v = {0};
    json_writer_reset(&f->f_w);
    status_render_json_rows(&v, NULL, 0, NULL, 0, &f->f_w);
    assert_string_equal(json_writer_text(&f->f_w, NULL),
                        "{\"version\":null,\"started_at\":null,\"uptime_s\":0,\"config\":{\"path\":"
                        "null,\"loaded_at\":null,\"last_reload\":null},"
                        "\"subscriptions\":[],\"recent_violations\":[],\"probes\":[],"
                        "\"status_exposed\":false}");
    /* Listening beyond loopback without TLS or authentication: said last. */
    v.sv_status_exposed = true;
    json_writer_reset(&f->f_w);
    status_render_json_rows(&v, NULL, 0, NULL, 0, &f->f_w);
    size_t len = 0;
    const char *text = json_writer_text(&f->f_w, &len);
    static const char tail[] = ",\"status_exposed\":true}";
    assert_true(len >= sizeof(tail) - 1);
    assert_string_equal(text + len - (sizeof(tail) - 1), tail);
}

static const char *render_metrics(struct fixture *f)
{
    json_writer_reset(&f->f_w);
    status_render_metrics_rows(&f->f_view, f->f_rows, 2, &f->f_w);
    assert_false(json_writer_failed(&f->f_w));
    return json_writer_text(&f->f_w, NULL);
}

/* `line` must be one whole line of `text`. */
static void assert_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(text, line); p != NULL; p = strstr(p + 1, line)) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
    }
    fail_msg("missing line: %s\n--- in ---\n%s", line, text);
}

static size_t count_prefix(const char *text, const char *prefix)
{
    size_t n = 0, plen = strlen(prefix);
    for (const char *p = text; *p != '\0';) {
        if (strncmp(p, prefix, plen) == 0)
            n++;
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return n;
}

static void test_metrics_values(void **state)
{
    struct fixture *f = *state;
    const char *t = render_metrics(f);
    assert_line(t, "ssemon_build_info{version=\"9.8.7\"} 1");
    assert_line(t, "ssemon_start_time_seconds 1700000000.123");
    assert_line(t, "ssemon_config_last_reload_successful 1");
    assert_line(t, "ssemon_config_last_reload_success_timestamp_seconds 1700000000.123");
    assert_line(t, "ssemon_subscription_up{subscription=\"alpha\"} 1");
    assert_line(t, "ssemon_subscription_up{subscription=\"beta\"} 0");
    assert_line(t, "ssemon_subscription_healthy{subscription=\"alpha\"} 1");
    assert_line(t, "ssemon_subscription_healthy{subscription=\"beta\"} 0");
    assert_line(t, "ssemon_events_total{subscription=\"alpha\",event=\"heartbeat\"} 7");
    assert_line(t, "ssemon_events_total{subscription=\"alpha\",event=\"task_event\"} 9");
    assert_line(t, "ssemon_events_total{subscription=\"alpha\",event=\"we\\\"ird\\\\kind\"} 2");
    /* The declared "other" (1) is folded into the catch-all (1). */
    assert_line(t, "ssemon_events_total{subscription=\"alpha\",event=\"other\"} 2");
    assert_int_equal(count_prefix(t, "ssemon_events_total{subscription=\"alpha\",event=\"other\""),
                     1);
    /* Without a contract, every event is "other". */
    assert_line(t, "ssemon_events_total{subscription=\"beta\",event=\"other\"} 0");
    assert_int_equal(count_prefix(t, "ssemon_events_total{subscription=\"beta\""), 1);
    assert_line(t, "ssemon_heartbeats_total{subscription=\"alpha\"} 7");
    assert_line(t, "ssemon_reconnects_total{subscription=\"alpha\"} 2");
    assert_line(t, "ssemon_bytes_total{subscription=\"alpha\"} 4096");
    assert_line(t, "ssemon_last_event_timestamp_seconds{subscription=\"alpha\"} 1700000001.623");
    assert_line(t, "ssemon_last_event_timestamp_seconds{subscription=\"beta\"} 0");
    assert_line(t, "ssemon_last_heartbeat_timestamp_seconds{subscription=\"alpha\"} "
                   "1700000001.123");

    for (int c = 0; c < VIOLATION_STREAM_CLASS_COUNT; c++) {
        char line[256];
        uint64_t want = c == VIOLATION_SCHEMA ? 2 : c == VIOLATION_HEARTBEAT_MISSED ? 1 : 0;
        for (int s = 0; s < 2; s++) {
            snprintf(line, sizeof(line),
                     "ssemon_violations_total{subscription=\"%s\",class=\"%s\"} %llu",
                     s == 0 ? "alpha" : "beta", violation_class_name((enum violation_class)c),
                     s == 0 ? (unsigned long long)want : 0ull);
            assert_line(t, line);
        }
    }
    assert_int_equal(count_prefix(t, "ssemon_violations_total{"), 2 * VIOLATION_STREAM_CLASS_COUNT);

    assert_line(t, "ssemon_journal_up 0");
    assert_line(t, "ssemon_journal_queued_records 3");
    assert_line(t, "ssemon_journal_records_total{sink=\"journal\"} 120");
    assert_line(t, "ssemon_journal_records_total{sink=\"stderr\"} 7");
    assert_line(t, "ssemon_journal_records_dropped_total{reason=\"stderr_full\"} 2");
    assert_line(t, "ssemon_journal_records_dropped_total{reason=\"stderr_error\"} 0");
    assert_line(t, "ssemon_journal_records_dropped_total{reason=\"shutdown\"} 0");
    assert_line(t, "ssemon_journal_records_dropped_total{reason=\"no_memory\"} 0");
    assert_int_equal(count_prefix(t, "ssemon_journal_records_dropped_total{"), JOURNAL_DROP_COUNT);
    f->f_journal.js_up = true;
    t = render_metrics(f);
    assert_line(t, "ssemon_journal_up 1");
}

/* A view without journal figures (tests, benches) has neither the
 * "journal" key nor the ssemon_journal_* families. */
/* The reload outcome: "config" of /status and the two ssemon_config_*
 * families, after a refused reload and after a successful one. */
static void test_config_reload(void **state)
{
    struct fixture *f = *state;
    f->f_view.sv_reload_wall_ms = T0_MS + 60000;
    f->f_view.sv_reload_ok = false;
    f->f_view.sv_reload_error = "ssemon.json:3:5: unknown key \"subscriptons\"";
    json_t *doc = render_json(f, NULL);
    json_t *last = json_object_get(json_object_get(doc, "config"), "last_reload");
    char keys[256];
    keys_of(last, keys, sizeof(keys));
    assert_string_equal(keys, "at,ok,error");
    assert_string_equal(json_string_value(json_object_get(last, "at")), "2023-11-14T22:14:20.123Z");
    assert_true(json_is_false(json_object_get(last, "ok")));
    assert_string_equal(json_string_value(json_object_get(last, "error")),
                        "ssemon.json:3:5: unknown key \"subscriptons\"");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "config"), "loaded_at")),
        "2023-11-14T22:13:20.123Z");
    json_decref(doc);
    const char *t = render_metrics(f);
    assert_line(t, "ssemon_config_last_reload_successful 0");
    assert_line(t, "ssemon_config_last_reload_success_timestamp_seconds 1700000000.123");

    f->f_view.sv_reload_ok = true;
    f->f_view.sv_config_loaded_wall_ms = T0_MS + 60000;
    doc = render_json(f, NULL);
    last = json_object_get(json_object_get(doc, "config"), "last_reload");
    assert_true(json_is_true(json_object_get(last, "ok")));
    assert_true(json_is_null(json_object_get(last, "error")));
    json_decref(doc);
    t = render_metrics(f);
    assert_line(t, "ssemon_config_last_reload_successful 1");
    assert_line(t, "ssemon_config_last_reload_success_timestamp_seconds 1700000060.123");
}

static void test_journal_absent(void **state)
{
    struct fixture *f = *state;
    f->f_view.sv_journal = NULL;
    const char *t = render_metrics(f);
    assert_null(strstr(t, "ssemon_journal"));
    assert_non_null(strstr(t, "ssemon_last_heartbeat_timestamp_seconds{"));
    json_t *doc = render_json(f, NULL);
    assert_null(json_object_get(doc, "journal"));
    json_decref(doc);
}

/* Basic authentication's counts: one family, every result listed, after
 * the rest; none without authentication. */
static void test_metrics_auth(void **state)
{
    struct fixture *f = *state;
    const char *t = render_metrics(f);
    assert_null(strstr(t, "ssemon_status_auth"));
    const struct status_auth_counts c = {
        .sac_ok = 3, .sac_denied = 0, .sac_cached = 12, .sac_busy = 70000};
    f->f_view.sv_auth = &c;
    t = render_metrics(f);
    assert_line(t, "# TYPE ssemon_status_auth_total counter");
    assert_line(t, "ssemon_status_auth_total{result=\"ok\"} 3");
    assert_line(t, "ssemon_status_auth_total{result=\"denied\"} 0");
    assert_line(t, "ssemon_status_auth_total{result=\"cached\"} 12");
    assert_line(t, "ssemon_status_auth_total{result=\"busy\"} 70000");
    assert_true(strstr(t, "ssemon_status_auth_total") > strstr(t, "ssemon_journal_up"));
    f->f_view.sv_auth = NULL;
}

/* A probe that ran twice (one failure, then a success) with one
 * expectation delivered twice, and one skipped run in between. */
static void probe_fixture(struct status_probe *p, struct status_probe_step *st,
                          struct status_probe_capture *cap)
{
    memset(p, 0, sizeof(*p));
    memset(st, 0, sizeof(*st));
    st->sps_subscription = "gateway-main";
    st->sps_event = "task_event:task_completed";
    st->sps_delivery.mh_counts[3] = 1; /* 5 ms < d <= 10 ms */
    st->sps_delivery.mh_counts[9] = 1; /* 0.5 s < d <= 1 s */
    st->sps_delivery.mh_count = 2;
    st->sps_delivery.mh_sum_micro = 707000;
    st->sps_p50_ms = 7;
    st->sps_p99_ms = 700;
    st->sps_last_result = "ok";
    st->sps_last_delivery_ms = 7;
    cap->spc_name = "task_id";
    cap->spc_value = "t-1";
    p->sp_name = "gateway-task";
    p->sp_every_ms = 60000;
    p->sp_runs = 2;
    p->sp_skipped = 1;
    p->sp_failures[VIOLATION_PROBE_TIMEOUT] = 1;
    p->sp_failures_total = 1;
    p->sp_has_finished = true;
    p->sp_success = true;
    p->sp_last_run_id = "0b7e2c4a-1f4e-4d5a-9b1c-2d3e4f5a6b7c";
    p->sp_last_started_wall_ms = T0_MS + 60000;
    p->sp_last_result = "ok";
    p->sp_last_duration_ms = 12;
    p->sp_captures = cap;
    p->sp_n_captures = 1;
    p->sp_steps = st;
    p->sp_n_steps = 1;
    p->sp_last_failure = "gateway-main: no task_event:task_completed within 10000 ms";
    p->sp_last_failure_class = VIOLATION_PROBE_TIMEOUT;
    p->sp_last_failure_wall_ms = T0_MS + 10000;
    p->sp_trigger.mh_counts[2] = 2; /* 2.5 ms < d <= 5 ms */
    p->sp_trigger.mh_count = 2;
    p->sp_trigger.mh_sum_micro = 8000;
}

static void test_json_probes(void **state)
{
    struct fixture *f = *state;
    struct status_probe p;
    struct status_probe_step st;
    struct status_probe_capture cap;
    probe_fixture(&p, &st, &cap);
    f->f_view.sv_probes = &p;
    f->f_view.sv_n_probes = 1;
    json_t *doc = render_json(f, NULL);
    const json_t *o = json_array_get(json_object_get(doc, "probes"), 0);
    assert_non_null(o);
    char keys[512];
    keys_of(o, keys, sizeof(keys));
    assert_string_equal(keys, "name,every_s,runs,failures,failures_by_class,skipped,healthy,"
                              "running,last_run,delivery,last_failure");
    assert_string_equal(json_string_value(json_object_get(o, "name")), "gateway-task");
    assert_true(json_number_value(json_object_get(o, "every_s")) == 60.0);
    assert_int_equal(json_integer_value(json_object_get(o, "runs")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "failures")), 1);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(o, "failures_by_class"), "probe_timeout")),
                     1);
    assert_int_equal(json_object_size(json_object_get(o, "failures_by_class")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "skipped")), 1);
    assert_true(json_is_true(json_object_get(o, "healthy")));
    const json_t *lr = json_object_get(o, "last_run");
    keys_of(lr, keys, sizeof(keys));
    assert_string_equal(keys, "run_id,started_at,result,duration_ms,captures,steps");
    assert_string_equal(json_string_value(json_object_get(lr, "result")), "ok");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(lr, "captures"), "task_id")), "t-1");
    const json_t *s0 = json_array_get(json_object_get(lr, "steps"), 0);
    keys_of(s0, keys, sizeof(keys));
    assert_string_equal(keys, "subscription,event,result,delivery_ms");
    assert_int_equal(json_integer_value(json_object_get(s0, "delivery_ms")), 7);
    const json_t *d0 = json_array_get(json_object_get(o, "delivery"), 0);
    assert_int_equal(json_integer_value(json_object_get(d0, "count")), 2);
    assert_int_equal(json_integer_value(json_object_get(d0, "p50_ms")), 7);
    assert_int_equal(json_integer_value(json_object_get(d0, "p99_ms")), 700);
    const json_t *lf = json_object_get(o, "last_failure");
    assert_string_equal(json_string_value(json_object_get(lf, "class")), "probe_timeout");
    json_decref(doc);

    /* Failing: the last finished run failed; not failing before any run. */
    p.sp_success = false;
    assert_true(status_render_probe_failing(&p));
    doc = render_json(f, NULL);
    assert_true(json_is_false(
        json_object_get(json_array_get(json_object_get(doc, "probes"), 0), "healthy")));
    json_decref(doc);
    p.sp_has_finished = false;
    assert_false(status_render_probe_failing(&p));
    f->f_view.sv_probes = NULL;
    f->f_view.sv_n_probes = 0;
}

/* Parses what `w` holds. */
static json_t *parse_writer(struct json_writer *w)
{
    assert_false(json_writer_failed(w));
    size_t len;
    const char *text = json_writer_text(w, &len);
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    if (doc == NULL)
        fail_msg("not JSON (%s): %.*s", jerr.text, (int)len, text);
    return doc;
}

/* "description" only when set, after "name"; disabled subscriptions after
 * the running ones, with "state": "disabled", also alone by name and when
 * no subscription runs. */
static void test_json_description_disabled(void **state)
{
    struct fixture *f = *state;
    f->f_rows[0].row_description = "Orders \"EU\" <prod>";
    const struct status_disabled off[] = {
        {"paused", "http://h/p", "version-stream", "kept for the migration"},
        {"off", "http://h/o", NULL, NULL},
    };
    f->f_view.sv_disabled = off;
    f->f_view.sv_n_disabled = 2;
    struct status_probe p;
    struct status_probe_step st;
    struct status_probe_capture cap;
    probe_fixture(&p, &st, &cap);
    p.sp_description = "Places an order, waits for it";
    f->f_view.sv_probes = &p;
    f->f_view.sv_n_probes = 1;

    json_t *doc = render_json(f, NULL);
    const json_t *subs = json_object_get(doc, "subscriptions");
    assert_int_equal(json_array_size(subs), 4);
    char keys[1024];
    keys_of(json_array_get(subs, 0), keys, sizeof(keys));
    assert_string_equal(keys, "name,description,url,contract,state,healthy,conditions,"
                              "connected_since,reconnects,events,heartbeats,bytes,last_event_at,"
                              "last_heartbeat_at,violations,last_violation");
    assert_string_equal(json_string_value(json_object_get(json_array_get(subs, 0), "description")),
                        "Orders \"EU\" <prod>");
    assert_null(json_object_get(json_array_get(subs, 1), "description"));
    const json_t *d0 = json_array_get(subs, 2);
    keys_of(d0, keys, sizeof(keys));
    assert_string_equal(keys, "name,description,url,contract,state,healthy");
    assert_string_equal(json_string_value(json_object_get(d0, "name")), "paused");
    assert_string_equal(json_string_value(json_object_get(d0, "description")),
                        "kept for the migration");
    assert_string_equal(json_string_value(json_object_get(d0, "contract")), "version-stream");
    assert_string_equal(json_string_value(json_object_get(d0, "state")), "disabled");
    assert_true(json_is_true(json_object_get(d0, "healthy")));
    const json_t *d1 = json_array_get(subs, 3);
    keys_of(d1, keys, sizeof(keys));
    assert_string_equal(keys, "name,url,contract,state,healthy");
    assert_true(json_is_null(json_object_get(d1, "contract")));
    const json_t *po = json_array_get(json_object_get(doc, "probes"), 0);
    keys_of(po, keys, sizeof(keys));
    assert_string_equal(keys, "name,description,every_s,runs,failures,failures_by_class,skipped,"
                              "healthy,running,last_run,delivery,last_failure");
    assert_string_equal(json_string_value(json_object_get(po, "description")),
                        "Places an order, waits for it");
    json_decref(doc);

    /* Alone by name. */
    doc = render_json(f, "paused");
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "disabled");
    json_decref(doc);

    /* Nothing running: the disabled ones alone make a valid list. */
    json_writer_reset(&f->f_w);
    status_render_json_rows(&f->f_view, f->f_rows, 0, NULL, 50000, &f->f_w);
    doc = parse_writer(&f->f_w);
    subs = json_object_get(doc, "subscriptions");
    assert_int_equal(json_array_size(subs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(subs, 1), "name")), "off");
    json_decref(doc);

    f->f_rows[0].row_description = NULL;
    f->f_view.sv_disabled = NULL;
    f->f_view.sv_n_disabled = 0;
    f->f_view.sv_probes = NULL;
    f->f_view.sv_n_probes = 0;
}

static void test_metrics_probes(void **state)
{
    struct fixture *f = *state;
    struct status_probe p;
    struct status_probe_step st;
    struct status_probe_capture cap;
    probe_fixture(&p, &st, &cap);
    const char *t = render_metrics(f);
    assert_null(strstr(t, "ssemon_probe_"));
    f->f_view.sv_probes = &p;
    f->f_view.sv_n_probes = 1;
    t = render_metrics(f);
    assert_line(t, "ssemon_probe_runs_total{probe=\"gateway-task\"} 2");
    assert_line(t, "ssemon_probe_skipped_total{probe=\"gateway-task\"} 1");
    assert_line(t, "ssemon_probe_success{probe=\"gateway-task\"} 1");
    assert_line(t, "ssemon_probe_failures_total{probe=\"gateway-task\",class=\"probe_timeout\"} 1");
    assert_line(t, "ssemon_probe_failures_total{probe=\"gateway-task\",class=\"probe_order\"} 0");
    assert_int_equal(count_prefix(t, "ssemon_probe_failures_total{"), VIOLATION_CLASS_COUNT);
    assert_line(t, "ssemon_probe_last_run_timestamp_seconds{probe=\"gateway-task\"} "
                   "1700000060.123");
    assert_line(t, "ssemon_probe_delivery_seconds_bucket{probe=\"gateway-task\",subscription="
                   "\"gateway-main\",event=\"task_event:task_completed\",le=\"0.005\"} 0");
    assert_line(t, "ssemon_probe_delivery_seconds_bucket{probe=\"gateway-task\",subscription="
                   "\"gateway-main\",event=\"task_event:task_completed\",le=\"0.01\"} 1");
    assert_line(t, "ssemon_probe_delivery_seconds_bucket{probe=\"gateway-task\",subscription="
                   "\"gateway-main\",event=\"task_event:task_completed\",le=\"+Inf\"} 2");
    assert_line(t, "ssemon_probe_delivery_seconds_sum{probe=\"gateway-task\",subscription="
                   "\"gateway-main\",event=\"task_event:task_completed\"} 0.707");
    assert_line(t, "ssemon_probe_delivery_seconds_count{probe=\"gateway-task\",subscription="
                   "\"gateway-main\",event=\"task_event:task_completed\"} 2");
    assert_line(t, "ssemon_probe_trigger_duration_seconds_bucket{probe=\"gateway-task\","
                   "le=\"0.005\"} 2");
    assert_line(t, "ssemon_probe_trigger_duration_seconds_count{probe=\"gateway-task\"} 2");
    assert_non_null(strstr(t, "# TYPE ssemon_probe_delivery_seconds histogram\n"));
    p.sp_success = false;
    t = render_metrics(f);
    assert_line(t, "ssemon_probe_success{probe=\"gateway-task\"} 0");
    f->f_view.sv_probes = NULL;
    f->f_view.sv_n_probes = 0;
}

static void test_metrics_histograms(void **state)
{
    struct fixture *f = *state;
    const char *t = render_metrics(f);
    static const char *const gap[] = {
        "ssemon_heartbeat_gap_seconds_bucket{subscription=\"alpha\",le=\"0.5\"} 1",
        "ssemon_heartbeat_gap_seconds_bucket{subscription=\"alpha\",le=\"1\"} 1",
        "ssemon_heartbeat_gap_seconds_bucket{subscription=\"alpha\",le=\"2\"} 3",
        "ssemon_heartbeat_gap_seconds_bucket{subscription=\"alpha\",le=\"5\"} 3",
        "ssemon_heartbeat_gap_seconds_bucket{subscription=\"alpha\",le=\"120\"} 3",
        "ssemon_heartbeat_gap_seconds_bucket{subscription=\"alpha\",le=\"+Inf\"} 4",
        "ssemon_heartbeat_gap_seconds_sum{subscription=\"alpha\"} 125.25",
        "ssemon_heartbeat_gap_seconds_count{subscription=\"alpha\"} 4",
        "ssemon_heartbeat_gap_seconds_bucket{subscription=\"beta\",le=\"+Inf\"} 0",
        "ssemon_heartbeat_gap_seconds_count{subscription=\"beta\"} 0",
        "ssemon_heartbeat_gap_ratio_bucket{subscription=\"alpha\",le=\"0.25\"} 0",
        "ssemon_heartbeat_gap_ratio_bucket{subscription=\"alpha\",le=\"0.8\"} 3",
        "ssemon_heartbeat_gap_ratio_bucket{subscription=\"alpha\",le=\"0.9\"} 4",
        "ssemon_heartbeat_gap_ratio_bucket{subscription=\"alpha\",le=\"+Inf\"} 4",
        "ssemon_heartbeat_gap_ratio_count{subscription=\"alpha\"} 4",
        "ssemon_heartbeat_gap_ratio_sum{subscription=\"alpha\"} 2.35",
        "ssemon_heartbeat_gap_ratio_sum{subscription=\"beta\"} 0",
        "ssemon_first_event_latency_seconds_sum{subscription=\"alpha\"} 0.007",
        "ssemon_first_event_latency_seconds_bucket{subscription=\"alpha\",le=\"0.005\"} 0",
        "ssemon_first_event_latency_seconds_bucket{subscription=\"alpha\",le=\"0.01\"} 1",
        "ssemon_first_event_latency_seconds_bucket{subscription=\"alpha\",le=\"0.025\"} 1",
        "ssemon_first_event_latency_seconds_bucket{subscription=\"alpha\",le=\"+Inf\"} 1",
        "ssemon_first_event_latency_seconds_sum{subscription=\"alpha\"} 0.007",
        "ssemon_first_event_latency_seconds_count{subscription=\"alpha\"} 1",
    };
    for (size_t i = 0; i < sizeof(gap) / sizeof(gap[0]); i++)
        assert_line(t, gap[i]);
    assert_int_equal(count_prefix(t, "ssemon_heartbeat_gap_seconds_bucket{subscription=\"alpha\""),
                     MONITOR_GAP_BUCKETS + 1);
    assert_int_equal(
        count_prefix(t, "ssemon_first_event_latency_seconds_bucket{subscription=\"beta\""),
        MONITOR_LATENCY_BUCKETS + 1);
}

/* Every sample line belongs to the family announced by the closest HELP and
 * TYPE lines above it, and each family is announced once: the text format
 * wants a family's samples together. */
static void test_metrics_families(void **state)
{
    struct fixture *f = *state;
    const char *t = render_metrics(f);
    char family[128] = "";
    char seen[64][128];
    size_t n_seen = 0;
    size_t samples = 0;
    for (const char *p = t; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        size_t len = (size_t)(nl - p);
        char line[512];
        assert_true(len < sizeof(line));
        memcpy(line, p, len);
        line[len] = '\0';
        if (strncmp(line, "# HELP ", 7) == 0) {
            assert_true(sscanf(line + 7, "%127s", family) == 1);
            for (size_t i = 0; i < n_seen; i++)
                assert_string_not_equal(seen[i], family);
            assert_true(n_seen < 64);
            snprintf(seen[n_seen++], sizeof(seen[0]), "%s", family);
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            char name[128], type[32];
            assert_true(sscanf(line + 7, "%127s %31s", name, type) == 2);
            assert_string_equal(name, family);
        } else {
            size_t fl = strlen(family);
            assert_true(fl > 0);
            assert_memory_equal(line, family, fl);
            const char *rest = line + fl;
            assert_true(*rest == '{' || *rest == ' ' || strncmp(rest, "_bucket{", 8) == 0 ||
                        strncmp(rest, "_sum{", 5) == 0 || strncmp(rest, "_count{", 7) == 0);
            samples++;
        }
        p = nl + 1;
    }
    assert_true(samples > 0);
    /* ssemon_condition_active joined the families. */
    assert_int_equal(n_seen, 22);
}

/* Open conditions: in the subscription object as [{class, since}] in the
 * fixed order, and as ssemon_condition_active 0/1 for every class that can
 * open one; a stream between lifecycles of a contract-ended one is up. */
static void test_conditions_rendered(void **state)
{
    struct fixture *f = *state;
    struct monitor_stats *b = &f->f_stats[1];
    condition_open(&b->ms_conditions, VIOLATION_CONNECT_FAILED, T0_MS + 10);
    condition_open(&b->ms_conditions, VIOLATION_HEARTBEAT_MISSED, T0_MS + 20);
    json_t *doc = render_json(f, "beta");
    json_t *c = json_object_get(doc, "conditions");
    assert_int_equal(json_array_size(c), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "class")),
                        "heartbeat_missed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "since")),
                        "2023-11-14T22:13:20.143Z");
    assert_string_equal(json_string_value(json_object_get(json_array_get(c, 1), "class")),
                        "connect_failed");
    json_decref(doc);
    const char *t = render_metrics(f);
    assert_line(t, "ssemon_condition_active{subscription=\"beta\",class=\"heartbeat_missed\"} 1");
    assert_line(t, "ssemon_condition_active{subscription=\"beta\",class=\"connect_failed\"} 1");
    assert_line(t, "ssemon_condition_active{subscription=\"beta\",class=\"first_event_late\"} 0");
    assert_line(t, "ssemon_condition_active{subscription=\"beta\",class=\"http_status\"} 0");
    assert_line(t, "ssemon_condition_active{subscription=\"beta\",class=\"content_type\"} 0");
    assert_line(t, "ssemon_condition_active{subscription=\"alpha\",class=\"heartbeat_missed\"} 0");
    assert_line(t, "ssemon_subscription_up{subscription=\"beta\"} 0");
    /* Ended by contract, reconnecting: up. */
    b->ms_ended_by_contract = true;
    b->ms_state = MONITOR_CONNECTING;
    t = render_metrics(f);
    assert_line(t, "ssemon_subscription_up{subscription=\"beta\"} 1");
    b->ms_state = MONITOR_BACKOFF;
    t = render_metrics(f);
    assert_line(t, "ssemon_subscription_up{subscription=\"beta\"} 1");
}

static void test_metrics_label_escapes(void **state)
{
    struct fixture *f = *state;
    f->f_rows[1].row_name = "b\\e\"t\na";
    const char *t = render_metrics(f);
    assert_line(t, "ssemon_subscription_up{subscription=\"b\\\\e\\\"t\\na\"} 0");
    f->f_view.sv_version = "1\"2";
    t = render_metrics(f);
    assert_line(t, "ssemon_build_info{version=\"1\\\"2\"} 1");
}

/* The view path: real monitors, created on a real engine and never
 * started, rendered through status_render_json/metrics. */
/* Many rows for the slice tests (slices then end inside a family): the
 * fixture's two, alternately, each under its own name; every tenth name
 * needs the label escapes. */
enum { SLICE_ROWS = 150 };

static void make_slice_rows(const struct fixture *f, struct status_row *rows, char (*names)[32])
{
    for (size_t i = 0; i < SLICE_ROWS; i++) {
        rows[i] = f->f_rows[i % 2];
        snprintf(names[i], sizeof(names[i]), i % 10 == 4 ? "r\"%zu\n" : "r%zu", i);
        rows[i].row_name = names[i];
    }
}

typedef bool (*slice_next_fn)(void *doc, struct json_writer *w, size_t min_bytes);

static bool metrics_next(void *doc, struct json_writer *w, size_t min_bytes)
{
    return status_render_metrics_next(doc, w, min_bytes);
}

static bool json_next(void *doc, struct json_writer *w, size_t min_bytes)
{
    return status_render_json_next(doc, w, min_bytes);
}

/* Renders `doc` in slices of at least `min_bytes`: each call makes that
 * much progress (but the last), each slice ends a line when `lines`, the
 * slices together are `whole`, and a finished document gives nothing
 * more. Returns the number of calls. */
static size_t check_slices(slice_next_fn next, void *doc, size_t min_bytes, bool lines,
                           const char *whole, size_t whole_len)
{
    struct json_writer all, slice;
    json_writer_init(&all);
    json_writer_init(&slice);
    bool done = false;
    size_t calls = 0;
    /* Bounded: one call per byte is more than it can take. */
    while (!done && calls < whole_len) {
        json_writer_reset(&slice);
        done = next(doc, &slice, min_bytes);
        calls++;
        size_t len;
        const char *text = json_writer_text(&slice, &len);
        assert_false(json_writer_failed(&slice));
        if (!done) {
            assert_true(len >= min_bytes);
        }
        if (lines && len > 0)
            assert_int_equal(text[len - 1], '\n');
        json_writer_append(&all, text, len);
    }
    assert_true(done);
    size_t all_len;
    const char *all_text = json_writer_text(&all, &all_len);
    assert_int_equal(all_len, whole_len);
    assert_memory_equal(all_text, whole, whole_len);
    json_writer_reset(&slice);
    assert_true(next(doc, &slice, 1));
    assert_int_equal(json_writer_text_len(&slice), 0);
    json_writer_free(&all);
    json_writer_free(&slice);
    return calls;
}

static const size_t slice_sizes[] = {1, 7, 100, 4096, 65536, SIZE_MAX};

/* The exposition in slices, at several slice sizes: whole lines, and the
 * slices together are the whole document. */
static void test_metrics_slices(void **state)
{
    struct fixture *f = *state;
    struct status_row rows[SLICE_ROWS];
    char names[SLICE_ROWS][32];
    make_slice_rows(f, rows, names);
    struct json_writer whole;
    json_writer_init(&whole);
    status_render_metrics_rows(&f->f_view, rows, SLICE_ROWS, &whole);
    assert_false(json_writer_failed(&whole));
    size_t whole_len;
    const char *whole_text = json_writer_text(&whole, &whole_len);
    assert_true(whole_len > 100000);
    for (size_t k = 0; k < sizeof(slice_sizes) / sizeof(slice_sizes[0]); k++) {
        struct status_metrics *m = status_render_metrics_begin_rows(&f->f_view, rows, SLICE_ROWS);
        assert_non_null(m);
        size_t calls = check_slices(metrics_next, m, slice_sizes[k], true, whole_text, whole_len);
        if (slice_sizes[k] == SIZE_MAX)
            assert_int_equal(calls, 1);
        else if (slice_sizes[k] <= 4096)
            assert_true(calls > 10);
        status_render_metrics_free(m);
    }
    json_writer_free(&whole);
}

/* The /status document in slices: whole subscription objects per slice,
 * and the slices together are the whole document (valid JSON, every
 * subscription in order). */
static void test_json_slices(void **state)
{
    struct fixture *f = *state;
    struct status_row rows[SLICE_ROWS];
    char names[SLICE_ROWS][32];
    make_slice_rows(f, rows, names);
    struct json_writer whole;
    json_writer_init(&whole);
    status_render_json_rows(&f->f_view, rows, SLICE_ROWS, NULL, 50000 + 3725400, &whole);
    assert_false(json_writer_failed(&whole));
    size_t whole_len;
    const char *whole_text = json_writer_text(&whole, &whole_len);
    json_error_t jerr;
    json_t *doc = json_loadb(whole_text, whole_len, 0, &jerr);
    assert_non_null(doc);
    json_t *subs = json_object_get(doc, "subscriptions");
    assert_int_equal(json_array_size(subs), SLICE_ROWS);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(subs, SLICE_ROWS - 1), "name")),
        names[SLICE_ROWS - 1]);
    assert_int_equal(json_array_size(json_object_get(doc, "recent_violations")), 2);
    json_decref(doc);
    for (size_t k = 0; k < sizeof(slice_sizes) / sizeof(slice_sizes[0]); k++) {
        struct status_json *j =
            status_render_json_begin_rows(&f->f_view, rows, SLICE_ROWS, 50000 + 3725400);
        assert_non_null(j);
        size_t calls = check_slices(json_next, j, slice_sizes[k], false, whole_text, whole_len);
        if (slice_sizes[k] == SIZE_MAX)
            assert_int_equal(calls, 1);
        else if (slice_sizes[k] == 1)
            assert_int_equal(calls, SLICE_ROWS + 2); /* head, each object, tail */
        status_render_json_free(j);
    }
    json_writer_free(&whole);
}

static void test_view_of_monitors(void **state)
{
    struct fixture *f = *state;
    struct event_base *base = event_base_new();
    assert_non_null(base);
    struct sub_engine *e = sub_engine_new(base);
    assert_non_null(e);
    struct monitor *mons[2];
    static const char *const names[] = {"first", "second"};
    for (int i = 0; i < 2; i++) {
        struct monitor_options o;
        memset(&o, 0, sizeof(o));
        o.mo_name = names[i];
        o.mo_display_url = i == 0 ? "http://127.0.0.1:9/a" : "http://127.0.0.1:9/b";
        o.mo_contract = f->f_contract;
        sub_options_init(&o.mo_sub);
        o.mo_sub.so_url = o.mo_display_url;
        o.mo_healthy_window_ms = 300000;
        mons[i] = monitor_new(e, base, &o, NULL, NULL);
        assert_non_null(mons[i]);
    }
    struct status_view v = f->f_view;
    v.sv_monitors = mons;
    v.sv_n_monitors = 2;
    v.sv_n_recent = 0;

    json_writer_reset(&f->f_w);
    status_render_json(&v, NULL, 51000, &f->f_w);
    json_error_t jerr;
    json_t *doc = json_loads(json_writer_text(&f->f_w, NULL), 0, &jerr);
    assert_non_null(doc);
    json_t *subs = json_object_get(doc, "subscriptions");
    assert_int_equal(json_array_size(subs), 2);
    json_t *s1 = json_array_get(subs, 1);
    assert_string_equal(json_string_value(json_object_get(s1, "name")), "second");
    assert_string_equal(json_string_value(json_object_get(s1, "url")), "http://127.0.0.1:9/b");
    assert_string_equal(json_string_value(json_object_get(s1, "contract")), "render-test");
    assert_string_equal(json_string_value(json_object_get(s1, "state")), "stopped");
    assert_true(json_is_false(json_object_get(s1, "healthy")));
    assert_int_equal(json_integer_value(json_object_get(doc, "uptime_s")), 1);
    json_decref(doc);

    json_writer_reset(&f->f_w);
    status_render_json(&v, "first", 51000, &f->f_w);
    doc = json_loads(json_writer_text(&f->f_w, NULL), 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "first");
    json_decref(doc);

    json_writer_reset(&f->f_w);
    status_render_metrics(&v, 51000, &f->f_w);
    const char *t = json_writer_text(&f->f_w, NULL);
    assert_line(t, "ssemon_subscription_up{subscription=\"first\"} 0");
    assert_line(t, "ssemon_subscription_healthy{subscription=\"second\"} 0");
    assert_line(t, "ssemon_events_total{subscription=\"second\",event=\"task_event\"} 0");
    assert_line(t, "ssemon_events_total{subscription=\"second\",event=\"other\"} 0");

    for (int i = 0; i < 2; i++)
        monitor_free(mons[i]);
    sub_engine_free(e);
    event_base_free(base);
}

/* ssemon_last_violation_timestamp_seconds: one line per stream class that
 * has happened on the subscription, right after ssemon_violations_total, the
 * wall time of the class's last violation in seconds; classes that never
 * happened and probe classes have no series. */
static void test_metrics_last_violation(void **state)
{
    struct fixture *f = *state;
    f->f_stats[0].ms_last_violation_wall_ms[VIOLATION_SCHEMA] = T0_MS + 2000;
    f->f_stats[0].ms_last_violation_wall_ms[VIOLATION_HEARTBEAT_MISSED] = T0_MS - 123;
    f->f_stats[1].ms_last_violation_wall_ms[VIOLATION_LIFECYCLE_TIMEOUT] = T0_MS + 7;
    f->f_stats[1].ms_last_violation_severity[VIOLATION_LIFECYCLE_TIMEOUT] = VIOLATION_WARNING;
    const char *t = render_metrics(f);
    assert_line(t, "# TYPE ssemon_last_violation_timestamp_seconds gauge");
    assert_line(t, "ssemon_last_violation_timestamp_seconds{subscription=\"alpha\",class="
                   "\"schema\",severity=\"error\"} "
                   "1700000002.123");
    assert_line(t, "ssemon_last_violation_timestamp_seconds{subscription=\"alpha\","
                   "class=\"heartbeat_missed\",severity=\"error\"} 1700000000");
    assert_null(strstr(t, "ssemon_last_violation_timestamp_seconds{subscription=\"alpha\","
                          "class=\"connect_failed\"}"));
    assert_line(t, "ssemon_last_violation_timestamp_seconds{subscription=\"beta\","
                   "class=\"lifecycle_timeout\",severity=\"warning\"} 1700000000.13");
    assert_null(strstr(
        t, "ssemon_last_violation_timestamp_seconds{subscription=\"beta\",class=\"schema\"}"));
    for (int r = 0; r < 2; r++) {
        char prefix[128];
        snprintf(prefix, sizeof(prefix),
                 "ssemon_last_violation_timestamp_seconds{subscription=\"%s\"",
                 r == 0 ? "alpha" : "beta");
        assert_int_equal(count_prefix(t, prefix), r == 0 ? 2 : 1);
    }
    assert_null(strstr(t, "ssemon_last_violation_timestamp_seconds{subscription=\"alpha\","
                          "class=\"probe_"));
    const char *viol = strstr(t, "# HELP ssemon_violations_total ");
    const char *last = strstr(t, "# HELP ssemon_last_violation_timestamp_seconds ");
    const char *reco = strstr(t, "# HELP ssemon_reconnects_total ");
    assert_non_null(viol);
    assert_true(viol < last && last < reco);
}

static bool test_bound_port(int *fd_out, char *url, size_t url_size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return false;
    }
    snprintf(url, url_size, "http://127.0.0.1:%u/s", (unsigned)ntohs(sa.sin_port));
    *fd_out = fd;
    return true;
}

static void test_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
}

/* A real monitor keeps the wall time of each class's last violation: a
 * stream whose connection is refused (a port bound, never listening)
 * stamps connect_failed within the wall clock around it, and no other
 * class. */
static void test_monitor_last_violation(void **state)
{
    struct fixture *f = *state;
    int fd = -1;
    char url[64];
    assert_true(test_bound_port(&fd, url, sizeof(url)));
    struct event_base *base = event_base_new();
    assert_non_null(base);
    struct sub_engine *e = sub_engine_new(base);
    assert_non_null(e);
    struct monitor_options o;
    memset(&o, 0, sizeof(o));
    o.mo_name = "refused";
    o.mo_display_url = url;
    o.mo_contract = f->f_contract;
    sub_options_init(&o.mo_sub);
    o.mo_sub.so_url = url;
    o.mo_healthy_window_ms = 300000;
    struct monitor *m = monitor_new(e, base, &o, NULL, NULL);
    assert_non_null(m);
    struct timespec ts;
    assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
    uint64_t before_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    assert_int_equal(monitor_start(m), 0);
    bool expired = false;
    struct event *deadline = evtimer_new(base, test_deadline_cb, &expired);
    assert_non_null(deadline);
    const struct timeval ten_s = {10, 0};
    evtimer_add(deadline, &ten_s);
    const struct monitor_stats *st = monitor_stats(m);
    for (int i = 0; i < 10000 && !expired && st->ms_violations[VIOLATION_CONNECT_FAILED] == 0; i++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_true(st->ms_violations[VIOLATION_CONNECT_FAILED] > 0);
    assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
    uint64_t after_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    uint64_t at = st->ms_last_violation_wall_ms[VIOLATION_CONNECT_FAILED];
    assert_true(at >= before_ms && at <= after_ms);
    for (int c = 0; c < VIOLATION_CLASS_COUNT; c++)
        if (c != VIOLATION_CONNECT_FAILED)
            assert_int_equal(st->ms_last_violation_wall_ms[c], 0);

    struct status_view v = f->f_view;
    struct monitor *mons[1] = {m};
    v.sv_monitors = mons;
    v.sv_n_monitors = 1;
    v.sv_n_recent = 0;
    json_writer_reset(&f->f_w);
    status_render_metrics(&v, 51000, &f->f_w);
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "ssemon_last_violation_timestamp_seconds{subscription=\"refused\","
                     "class=\"connect_failed\",severity=\"error\"} %llu",
                     (unsigned long long)(at / 1000u));
    assert_true(n > 0 && (size_t)n < sizeof(line));
    if (at % 1000u != 0) {
        char frac[8];
        snprintf(frac, sizeof(frac), ".%03u", (unsigned)(at % 1000u));
        size_t fl = strlen(frac);
        while (fl > 0 && frac[fl - 1] == '0')
            frac[--fl] = '\0';
        strncat(line, frac, sizeof(line) - strlen(line) - 1);
    }
    assert_line(json_writer_text(&f->f_w, NULL), line);

    event_free(deadline);
    monitor_stop(m);
    monitor_free(m);
    sub_engine_free(e);
    event_base_free(base);
    close(fd);
}

/* The histogram settings ("metrics": {"histograms"}): "contract" sums each
 * histogram over the subscriptions of a contract name (label contract, in
 * name order, "" for a subscription without one; the other families keep
 * their subscription label), "none" leaves the three families out; both
 * render the same in slices. */
/* "metrics": {"zeros": false}: a subscription's ssemon_violations_total and
 * ssemon_condition_active list only the classes that happened or are open. */
static void test_metrics_sparse(void **state)
{
    struct fixture *f = *state;
    condition_open(&f->f_stats[1].ms_conditions, VIOLATION_CONNECT_FAILED, T0_MS + 10);
    f->f_view.sv_sparse = true;
    const char *t = render_metrics(f);
    /* alpha: schema 2 and heartbeat_missed 1, nothing else. */
    assert_line(t, "ssemon_violations_total{subscription=\"alpha\",class=\"schema\"} 2");
    assert_line(t, "ssemon_violations_total{subscription=\"alpha\",class=\"heartbeat_missed\"} 1");
    assert_int_equal(count_prefix(t, "ssemon_violations_total{subscription=\"alpha\""), 2);
    assert_int_equal(count_prefix(t, "ssemon_violations_total{subscription=\"beta\""), 0);
    assert_line(t, "ssemon_condition_active{subscription=\"beta\",class=\"connect_failed\"} 1");
    assert_int_equal(count_prefix(t, "ssemon_condition_active{"), 1);
    /* The family headers stay: a scrape always knows the families. */
    assert_non_null(strstr(t, "# TYPE ssemon_violations_total counter\n"));
    f->f_view.sv_sparse = false;
    t = render_metrics(f);
    assert_int_equal(count_prefix(t, "ssemon_violations_total{"), 2 * VIOLATION_STREAM_CLASS_COUNT);
}

static void test_metrics_histogram_settings(void **state)
{
    struct fixture *f = *state;
    struct contract other = *f->f_contract;
    other.c_name = "z\"q";
    struct status_row rows[4] = {f->f_rows[0], f->f_rows[1], f->f_rows[0], f->f_rows[0]};
    rows[2].row_name = "gamma";
    rows[3].row_name = "delta";
    rows[3].row_contract = &other;

    f->f_view.sv_histograms = STATUS_HISTOGRAMS_CONTRACT;
    json_writer_reset(&f->f_w);
    status_render_metrics_rows(&f->f_view, rows, 4, &f->f_w);
    assert_false(json_writer_failed(&f->f_w));
    const char *t = json_writer_text(&f->f_w, NULL);
    static const char *const sums[] = {
        "ssemon_heartbeat_gap_seconds_bucket{contract=\"render-test\",le=\"0.5\"} 2",
        "ssemon_heartbeat_gap_seconds_bucket{contract=\"render-test\",le=\"2\"} 6",
        "ssemon_heartbeat_gap_seconds_bucket{contract=\"render-test\",le=\"+Inf\"} 8",
        "ssemon_heartbeat_gap_seconds_sum{contract=\"render-test\"} 250.5",
        "ssemon_heartbeat_gap_seconds_count{contract=\"render-test\"} 8",
        "ssemon_heartbeat_gap_seconds_bucket{contract=\"\",le=\"+Inf\"} 0",
        "ssemon_heartbeat_gap_seconds_count{contract=\"\"} 0",
        "ssemon_heartbeat_gap_seconds_bucket{contract=\"z\\\"q\",le=\"+Inf\"} 4",
        "ssemon_heartbeat_gap_seconds_sum{contract=\"z\\\"q\"} 125.25",
        "ssemon_heartbeat_gap_ratio_bucket{contract=\"render-test\",le=\"0.8\"} 6",
        "ssemon_heartbeat_gap_ratio_sum{contract=\"render-test\"} 4.7",
        "ssemon_heartbeat_gap_ratio_count{contract=\"render-test\"} 8",
        "ssemon_first_event_latency_seconds_bucket{contract=\"render-test\",le=\"0.01\"} 2",
        "ssemon_first_event_latency_seconds_sum{contract=\"render-test\"} 0.014",
        "ssemon_first_event_latency_seconds_count{contract=\"z\\\"q\"} 1",
        "ssemon_subscription_up{subscription=\"gamma\"} 1",
        "ssemon_heartbeats_total{subscription=\"delta\"} 7",
    };
    for (size_t i = 0; i < sizeof(sums) / sizeof(sums[0]); i++)
        assert_line(t, sums[i]);
    assert_int_equal(
        count_prefix(t, "ssemon_heartbeat_gap_seconds_bucket{contract=\"render-test\""),
        MONITOR_GAP_BUCKETS + 1);
    assert_int_equal(count_prefix(t, "ssemon_heartbeat_gap_seconds_bucket{"),
                     3 * (MONITOR_GAP_BUCKETS + 1));
    assert_int_equal(count_prefix(t, "ssemon_first_event_latency_seconds_count{"), 3);
    assert_null(strstr(t, "_bucket{subscription="));
    /* Groups in name order: "", "render-test", "z\"q". */
    const char *g0 = strstr(t, "ssemon_heartbeat_gap_seconds_count{contract=\"\"}");
    const char *g1 = strstr(t, "ssemon_heartbeat_gap_seconds_count{contract=\"render-test\"}");
    const char *g2 = strstr(t, "ssemon_heartbeat_gap_seconds_count{contract=\"z\\\"q\"}");
    assert_true(g0 != NULL && g1 != NULL && g2 != NULL && g0 < g1 && g1 < g2);

    f->f_view.sv_histograms = STATUS_HISTOGRAMS_NONE;
    json_writer_reset(&f->f_w);
    status_render_metrics_rows(&f->f_view, rows, 4, &f->f_w);
    t = json_writer_text(&f->f_w, NULL);
    assert_null(strstr(t, "ssemon_heartbeat_gap"));
    assert_null(strstr(t, "ssemon_first_event_latency"));
    assert_line(t, "ssemon_subscription_up{subscription=\"delta\"} 1");
    assert_line(t, "ssemon_last_event_timestamp_seconds{subscription=\"beta\"} 0");

    /* In slices, at every size: the same document, whole lines. */
    struct status_row many[SLICE_ROWS];
    char names[SLICE_ROWS][32];
    make_slice_rows(f, many, names);
    for (int setting = STATUS_HISTOGRAMS_CONTRACT; setting <= STATUS_HISTOGRAMS_NONE; setting++) {
        f->f_view.sv_histograms = (enum status_histograms)setting;
        struct json_writer whole;
        json_writer_init(&whole);
        status_render_metrics_rows(&f->f_view, many, SLICE_ROWS, &whole);
        assert_false(json_writer_failed(&whole));
        size_t whole_len;
        const char *whole_text = json_writer_text(&whole, &whole_len);
        assert_int_equal(count_prefix(whole_text, "ssemon_heartbeat_gap_seconds_count{"),
                         setting == STATUS_HISTOGRAMS_CONTRACT ? 2 : 0);
        for (size_t k = 0; k < sizeof(slice_sizes) / sizeof(slice_sizes[0]); k++) {
            struct status_metrics *m =
                status_render_metrics_begin_rows(&f->f_view, many, SLICE_ROWS);
            assert_non_null(m);
            check_slices(metrics_next, m, slice_sizes[k], true, whole_text, whole_len);
            status_render_metrics_free(m);
        }
        json_writer_free(&whole);
    }
}

static int dump_metrics(void)
{
    void *state = NULL;
    if (setup(&state) != 0)
        return 1;
    struct fixture *f = state;
    status_render_metrics_rows(&f->f_view, f->f_rows, 2, &f->f_w);
    size_t len;
    const char *text = json_writer_text(&f->f_w, &len);
    int rc = fwrite(text, 1, len, stdout) == len ? 0 : 1;
    teardown(&state);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--dump-metrics") == 0)
        return dump_metrics();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_insecure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_histograms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_families, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditions_rendered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_label_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_of_monitors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_probes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_description_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_probes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_last_violation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_monitor_last_violation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_histogram_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_sparse, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
