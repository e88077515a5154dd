/*
 * io/status_page: the HTML page rendered from hand-made rows and a view,
 * above all that nothing from a stream or a configuration can become markup.
 */
#include "ssemon/base/utf8.h"
#include "ssemon/core/condition.h"
#include "ssemon/core/minute_ring.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/monitor.h"
#include "ssemon/io/status_page.h"
#include "ssemon/io/status_render.h"
#include "ssemon/json/json_writer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define T0_MS 1795000000000ull

static const char *render(struct json_writer *w, const struct status_view *v,
                          const struct status_row *rows, size_t n, unsigned refresh)
{
    json_writer_reset(w);
    status_page_render_rows(v, rows, n, refresh, T0_MS + 90000, w);
    assert_false(json_writer_failed(w));
    size_t len;
    return json_writer_text(w, &len);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_escape(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    static const char in[] = "a<b>&\"c'\xff\xc3\xa9\x01\t\n\xe2\x82"; /* ends inside a sequence */
    status_page_escape(&w, in, sizeof(in) - 1);
    size_t len;
    const char *out = json_writer_text(&w, &len);
    assert_string_equal(out, "a&lt;b&gt;&amp;&quot;c&#39;\xEF\xBF\xBD\xc3\xa9\xEF\xBF\xBD\t\n"
                             "\xEF\xBF\xBD\xEF\xBF\xBD");
    json_writer_free(&w);
}

static void test_hostile(void **state)
{
    (void)state;
    struct monitor_stats st;
    memset(&st, 0, sizeof(st));
    st.ms_state = MONITOR_STREAMING;
    st.ms_events = 42;
    st.ms_last_event_wall_ms = T0_MS + 80000;
    st.ms_violations[VIOLATION_HEARTBEAT_MISSED] = 3;
    condition_open(&st.ms_conditions, VIOLATION_HEARTBEAT_MISSED, T0_MS);
    struct status_row rows[1] = {
        {"a<b", "https://x.test/", NULL, &st, false, false, "desc <i>'quoted'</i> \"&\""}};
    struct status_recent recent[1];
    memset(recent, 0, sizeof(recent));
    snprintf(recent[0].sr_subscription, sizeof(recent[0].sr_subscription), "a<b");
    recent[0].sr_v.mv_class = VIOLATION_SCHEMA;
    recent[0].sr_v.mv_severity = VIOLATION_ERROR;
    recent[0].sr_v.mv_wall_ms = T0_MS + 1000;
    snprintf(recent[0].sr_v.mv_message, sizeof(recent[0].sr_v.mv_message),
             "field \"x\" </td></tr></table> is wrong");
    snprintf(recent[0].sr_v.mv_excerpt, sizeof(recent[0].sr_v.mv_excerpt),
             "data: <script>alert(1)</script> 'x' \xc0\xaf end");
    snprintf(recent[0].sr_v.mv_evidence, sizeof(recent[0].sr_v.mv_evidence), "%s",
             "ab-20261207T000001.000Z-schema.rec");
    struct status_disabled dis = {"off", "https://y.test/", NULL, "<img src=x onerror=alert(2)>"};
    struct status_view v;
    memset(&v, 0, sizeof(v));
    v.sv_version = "1.2.3";
    v.sv_config_path = "/etc/ssemon/<conf>.json";
    v.sv_reload_wall_ms = T0_MS + 5;
    v.sv_reload_error = "line 3: bad <value>";
    v.sv_recent = recent;
    v.sv_n_recent = 1;
    v.sv_disabled = &dis;
    v.sv_n_disabled = 1;
    struct json_writer w;
    json_writer_init(&w);
    const char *html = render(&w, &v, rows, 1, 0);

    /* Only the page's own markup: no script, no image, no stray table end. */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<i>"));
    assert_null(strstr(html, "<conf>"));
    assert_null(strstr(html, "<value>"));
    assert_int_equal(count(html, "</table>"), 2); /* subscriptions, violations */
    assert_int_equal(count(html, "http-equiv"), 0);
    /* ... and the texts, as text. */
    assert_non_null(strstr(html, "<b>a&lt;b</b>"));
    assert_non_null(strstr(html, "desc &lt;i&gt;&#39;quoted&#39;&lt;/i&gt; &quot;&amp;&quot;"));
    assert_non_null(strstr(html, "data: &lt;script&gt;alert(1)&lt;/script&gt; &#39;x&#39; "
                                 "\xEF\xBF\xBD\xEF\xBF\xBD end"));
    assert_non_null(strstr(html, "field &quot;x&quot; &lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;"));
    assert_non_null(strstr(html, "&lt;img src=x onerror=alert(2)&gt;"));
    assert_non_null(strstr(html, "/etc/ssemon/&lt;conf&gt;.json"));
    assert_non_null(strstr(html, "line 3: bad &lt;value&gt;"));
    /* links to what the daemon kept of the violation, escaped as well */
    assert_non_null(strstr(html, "href=\"/evidence/ab-20261207T000001.000Z-schema.rec\""));
    assert_non_null(strstr(html, "href=\"/status/a&lt;b/events\""));
    assert_non_null(strstr(html, "href=\"/status/a&lt;b/violations\""));
    assert_true(utf8_valid(html, strlen(html)));
    json_writer_free(&w);
}

static void test_content(void **state)
{
    (void)state;
    struct monitor_stats a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.ms_state = MONITOR_STREAMING;
    a.ms_events = 1234;
    a.ms_last_event_wall_ms = T0_MS + 80000;      /* 10 s before the render */
    a.ms_last_heartbeat_wall_ms = T0_MS - 210000; /* 5 min */
    b.ms_state = MONITOR_BACKOFF;
    b.ms_violations[VIOLATION_CONNECT_FAILED] = 7;
    b.ms_violations[VIOLATION_HEARTBEAT_MISSED] = 2;
    condition_open(&b.ms_conditions, VIOLATION_CONNECT_FAILED, T0_MS);
    struct status_row rows[2] = {{"alpha", "https://a.test/", NULL, &a, true, false, NULL},
                                 {"beta", "https://b.test/", NULL, &b, false, true, "the b"}};
    struct status_view v;
    memset(&v, 0, sizeof(v));
    v.sv_version = "1.2.3";
    v.sv_config_path = "/etc/ssemon/ssemon.json";
    struct json_writer w;
    json_writer_init(&w);
    const char *html = render(&w, &v, rows, 2, 0);
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(html, "name=\"viewport\""));
    assert_int_equal(count(html, "<tr class=\"sub\">"), 2);
    assert_non_null(strstr(html, "<b>alpha</b></td><td>streaming</td><td><span class=\"ok\">"
                                 "healthy</span></td><td></td><td>10 s</td><td>5 min</td>"
                                 "<td>1234</td><td></td>"));
    assert_non_null(strstr(html, "<div class=\"desc\">the b</div>"));
    assert_non_null(strstr(html, "TLS not verified"));
    assert_non_null(strstr(html, "unhealthy"));
    assert_non_null(strstr(html, "connect_failed</span> for 90 s"));
    assert_non_null(strstr(html, "connect_failed: 7<br>heartbeat_missed: 2"));
    assert_null(strstr(html, "schema:"));
    assert_non_null(strstr(html, "href=\"/status\""));
    assert_non_null(strstr(html, "href=\"/metrics\""));
    assert_non_null(strstr(html, "href=\"/readyz\""));
    assert_non_null(strstr(html, "/etc/ssemon/ssemon.json"));
    assert_non_null(strstr(html, "None."));
    assert_null(strstr(html, "id=\"probes\"")); /* no probes, no table */
    assert_true(strstr(html, "</html>\n") != NULL);
    json_writer_free(&w);
}

static void test_refresh(void **state)
{
    (void)state;
    assert_int_equal(status_page_refresh(NULL), 0);
    assert_int_equal(status_page_refresh(""), 0);
    assert_int_equal(status_page_refresh("refresh=30"), 30);
    assert_int_equal(status_page_refresh("a=1&refresh=60&b"), 60);
    assert_int_equal(status_page_refresh("refresh=1"), STATUS_PAGE_REFRESH_MIN);
    assert_int_equal(status_page_refresh("refresh=0"), STATUS_PAGE_REFRESH_MIN);
    assert_int_equal(status_page_refresh("refresh=99999999999999999999999"),
                     STATUS_PAGE_REFRESH_MAX);
    assert_int_equal(status_page_refresh("refresh=10s"), 0);
    assert_int_equal(status_page_refresh("refresh="), 0);
    assert_int_equal(status_page_refresh("xrefresh=10"), 0);

    struct status_view v;
    memset(&v, 0, sizeof(v));
    v.sv_version = "1";
    struct json_writer w;
    json_writer_init(&w);
    const char *html = render(&w, &v, NULL, 0, 30);
    assert_non_null(strstr(html, "<meta http-equiv=\"refresh\" content=\"30\">"));
    html = render(&w, &v, NULL, 0, 0);
    assert_null(strstr(html, "http-equiv"));
    json_writer_free(&w);
}

static void test_probes(void **state)
{
    (void)state;
    struct status_probe_step steps[2];
    memset(steps, 0, sizeof(steps));
    steps[0].sps_subscription = "orders";
    steps[0].sps_event = "order.created";
    steps[0].sps_p50_ms = 12;
    steps[0].sps_p99_ms = 340;
    steps[0].sps_last_result = "ok";
    /* Two minutes ago p50 10, p99 20; now p50 40, p99 80 (the top). */
    uint64_t now = T0_MS + 90000;
    minute_ring_max(&steps[0].sps_minutes, now - 120000, STATUS_PROBE_MINUTE_P50, 10);
    minute_ring_max(&steps[0].sps_minutes, now - 120000, STATUS_PROBE_MINUTE_P99, 20);
    minute_ring_max(&steps[0].sps_minutes, now, STATUS_PROBE_MINUTE_P50, 40);
    minute_ring_max(&steps[0].sps_minutes, now, STATUS_PROBE_MINUTE_P99, 80);
    steps[1].sps_subscription = "stream/1";
    steps[1].sps_event = "final";
    steps[1].sps_p50_ms = UINT64_MAX;
    steps[1].sps_p99_ms = UINT64_MAX;
    steps[1].sps_last_result = "timeout";
    struct status_probe p;
    memset(&p, 0, sizeof(p));
    p.sp_name = "checkout";
    p.sp_description = "<b>buy</b>";
    p.sp_runs = 5;
    p.sp_last_run_id = "r1";
    p.sp_last_result = "failed";
    p.sp_last_started_wall_ms = T0_MS + 30000;
    p.sp_last_failure = "no <event> in 5 s";
    p.sp_last_failure_class = VIOLATION_HEARTBEAT_MISSED;
    p.sp_steps = steps;
    p.sp_n_steps = 2;
    struct status_view v;
    memset(&v, 0, sizeof(v));
    v.sv_version = "1";
    v.sv_probes = &p;
    v.sv_n_probes = 1;
    struct json_writer w;
    json_writer_init(&w);
    const char *html = render(&w, &v, NULL, 0, 0);
    assert_non_null(strstr(html, "id=\"probes\""));
    assert_int_equal(count(html, "<tr class=\"probe\">"), 2);
    assert_non_null(strstr(html, "&lt;b&gt;buy&lt;/b&gt;"));
    assert_non_null(strstr(html, "no &lt;event&gt; in 5 s"));
    assert_non_null(strstr(html, "<span class=\"bad\">failed</span> 60 s ago"));
    assert_non_null(strstr(html, "orders order.created</td><td>ok</td><td>12 ms</td>"
                                 "<td>340 ms</td>"));
    assert_non_null(strstr(html, "timeout</td><td><span class=\"muted\">none</span>"));
    assert_int_equal(count(html, "<svg"), 1);
    assert_non_null(strstr(html, "highest 80 ms</title>"));
    /* y = 40 - v * 36 / 80: p99 20 at 31, 80 at 4; p50 10 at 35.5, 40 at 22. */
    assert_non_null(strstr(html, "class=\"p99\" fill=\"none\" stroke-width=\"1.2\" "
                                 "stroke=\"#7d3c98\" d=\"M172.5 31.0h0.5M178.5 4.0h0.5\""));
    assert_non_null(strstr(html, "class=\"p50\" fill=\"none\" stroke-width=\"1.2\" "
                                 "stroke=\"#2e6da4\" d=\"M172.5 35.5h0.5M178.5 22.0h0.5\""));
    assert_non_null(
        strstr(html, "none</span></td><td><span class=\"muted\">no data</span></td></tr>"));
    json_writer_free(&w);
}

static void test_chart(void **state)
{
    (void)state;
    uint64_t now = T0_MS + 90000; /* what render() passes */
    struct monitor_stats a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    /* The current minute: 10 events, 2 violations, a gap 1.5x its limit;
     * 3 minutes before: 5 events, a gap half its limit. */
    minute_ring_add(&a.ms_minutes, now - 3 * 60000, MONITOR_MINUTE_EVENTS, 5);
    minute_ring_max(&a.ms_minutes, now - 3 * 60000, MONITOR_MINUTE_GAP_PERMILLE, 500);
    minute_ring_add(&a.ms_minutes, now, MONITOR_MINUTE_EVENTS, 10);
    minute_ring_add(&a.ms_minutes, now, MONITOR_MINUTE_VIOLATIONS, 2);
    minute_ring_max(&a.ms_minutes, now, MONITOR_MINUTE_GAP_PERMILLE, 1500);
    struct status_row rows[2] = {{"a", "u", NULL, &a, true, false, NULL},
                                 {"b", "u", NULL, &b, true, false, NULL}};
    struct status_view v;
    memset(&v, 0, sizeof(v));
    v.sv_version = "1";
    struct json_writer w;
    json_writer_init(&w);
    const char *html = render(&w, &v, rows, 2, 0);
    assert_int_equal(count(html, "<svg"), 1);
    assert_non_null(strstr(html, "<title>last hour: busiest minute 10 events, 2 violations, "
                                 "longest heartbeat gap 150% of its limit</title>"));
    /* Minute 59 (x 178.5) full height, minute 56 (x 169.5) half. */
    assert_non_null(strstr(html, "class=\"events\" stroke=\"#7a8ea8\" stroke-width=\"2\" "
                                 "d=\"M169.5 40.0v-16.0M178.5 40.0v-32.0\""));
    assert_non_null(strstr(html, "d=\"M178.5 0.0V6\""));
    /* Gaps: 0.5x the limit at y 32, 1.5x at y 16; two separate points. */
    assert_non_null(strstr(html, "d=\"M169.5 32.0h0.5M178.5 16.0h0.5\""));
    assert_non_null(strstr(html, "<b>b</b>"));
    assert_non_null(strstr(html, "no data"));
    json_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),  cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_content), cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_probes),  cmocka_unit_test(test_chart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
