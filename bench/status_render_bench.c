/*
 * The status endpoint's renderers at scale, without the network: builds
 * N subscriptions (default 10,000) with the statistics a day of a version
 * stream leaves (a heartbeat a second, a few reconnects and violations),
 * each on the shipped version-stream contract, and times rendering
 * /status (JSON) and /metrics (Prometheus text) REPS times (default 20).
 * Prints best and median per document; bench/daemon/run.sh measures the
 * same documents end to end, over HTTP, from a live daemon.
 *
 *   bench_status_render CONTRACTS_DIR [N [REPS]] [--dump DIR]
 *                       [--histograms subscription|contract|none|all]
 *                       [--contracts K]
 *
 * The HTML page (GET /) is timed over the same rows, each with an hour of
 * per-minute points for its chart (--dump: page.html).
 *
 * /metrics is rendered with each histogram setting asked for (the
 * configuration's "metrics": {"histograms"}; default all three, one line
 * each), and with "none" also with "zeros": false (the large-deployment
 * setting). --contracts spreads the subscriptions over K contracts (copies of
 * version-stream named version-stream-0 ... ; default 1, the shipped
 * contract itself), which is what the setting "contract" groups by.
 * --dump writes status.json and metrics.prom (the setting "subscription";
 * metrics-SETTING.prom for the others) to DIR (to compare renderer
 * versions byte for byte).
 */
#include "ssemon/config/contract_load.h"
#include "ssemon/core/contract.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/monitor.h"
#include "ssemon/io/status_page.h"
#include "ssemon/io/status_render.h"
#include "ssemon/json/json_writer.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_T0_MS 1795000000123ull

static double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void bench_fill(struct monitor_stats *st, uint64_t *kinds, size_t n_kinds, size_t i)
{
    memset(st, 0, sizeof(*st));
    uint64_t hb = 86000 + i % 997;
    st->ms_state = i % 50 == 7 ? MONITOR_BACKOFF : MONITOR_STREAMING;
    st->ms_connected_since_wall_ms = st->ms_state == MONITOR_STREAMING ? BENCH_T0_MS + i : 0;
    st->ms_reconnects = i % 5;
    st->ms_heartbeats = hb;
    st->ms_events = hb + 2 + i % 3;
    st->ms_bytes = st->ms_events * 97 + i;
    st->ms_last_event_wall_ms = BENCH_T0_MS + 86400000 + i * 7;
    st->ms_last_heartbeat_wall_ms = st->ms_last_event_wall_ms;
    for (size_t k = 0; k + 1 < n_kinds; k++)
        kinds[k] = k == 2 ? hb : 1 + (i + k) % 3;
    kinds[n_kinds - 1] = i % 4;
    st->ms_events_by_kind = kinds;
    st->ms_n_kinds = n_kinds;
    if (i % 10 == 3) {
        st->ms_violations[VIOLATION_HEARTBEAT_MISSED] = 1 + i % 3;
        st->ms_violations_total = st->ms_violations[VIOLATION_HEARTBEAT_MISSED];
        st->ms_has_last_violation = true;
        struct monitor_violation *mv = &st->ms_last_violation;
        mv->mv_class = VIOLATION_HEARTBEAT_MISSED;
        mv->mv_severity = VIOLATION_ERROR;
        snprintf(mv->mv_message, sizeof(mv->mv_message),
                 "no heartbeat for 3.1 s (interval 1 s, tolerance 3)");
        snprintf(mv->mv_state, sizeof(mv->mv_state), "streaming");
        mv->mv_wall_ms = BENCH_T0_MS + 3600000 + i;
    }
    /* Heartbeat gaps: about one a second, a few slower. */
    st->ms_gap.mh_counts[1] = hb - 40;
    st->ms_gap.mh_counts[2] = 38;
    st->ms_gap.mh_counts[3] = 2;
    st->ms_gap.mh_count = hb;
    st->ms_gap.mh_sum_micro = hb * 1001000u;
    st->ms_gap_ratio.mh_counts[1] = hb - 2;
    st->ms_gap_ratio.mh_counts[2] = 2;
    st->ms_gap_ratio.mh_count = hb;
    st->ms_gap_ratio.mh_sum_micro = hb * 333667u;
    st->ms_latency.mh_counts[2] = 1 + st->ms_reconnects;
    st->ms_latency.mh_count = 1 + st->ms_reconnects;
    st->ms_latency.mh_sum_micro = 12000u * st->ms_latency.mh_count;
    /* The last hour, as a heartbeat a second leaves it (the page's charts). */
    uint64_t end = BENCH_T0_MS + 86401000;
    for (uint64_t m = 0; m < 60; m++) {
        uint64_t t = end - (59 - m) * 60000;
        minute_ring_add(&st->ms_minutes, t, MONITOR_MINUTE_EVENTS, 60 + (uint32_t)((i + m) % 7));
        minute_ring_max(&st->ms_minutes, t, MONITOR_MINUTE_GAP_PERMILLE,
                        330 + (uint32_t)((i * 7 + m * 13) % 200));
        if ((i + m) % 23 == 0)
            minute_ring_add(&st->ms_minutes, t, MONITOR_MINUTE_VIOLATIONS, 1);
    }
}

static int bench_dump(const char *dir, const char *file, const struct json_writer *w)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    size_t len;
    const char *text = json_writer_text(w, &len);
    if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "bench_status_render: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static const char *const bench_hist_names[3] = {"subscription", "contract", "none"};

int main(int argc, char **argv)
{
    const char *dump = NULL;
    const char *pos[3] = {NULL, NULL, NULL};
    int n_pos = 0;
    bool hist_on[3] = {true, true, true};
    size_t n_contracts = 1;
    bool usage = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
            dump = argv[++i];
        } else if (strcmp(argv[i], "--contracts") == 0 && i + 1 < argc) {
            n_contracts = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--histograms") == 0 && i + 1 < argc) {
            const char *h = argv[++i];
            bool all = strcmp(h, "all") == 0, known = all;
            for (int k = 0; k < 3; k++) {
                hist_on[k] = all || strcmp(h, bench_hist_names[k]) == 0;
                known |= hist_on[k];
            }
            usage |= !known;
        } else if (n_pos < 3) {
            pos[n_pos++] = argv[i];
        } else {
            usage = true;
        }
    }
    if (pos[0] == NULL || usage) {
        fprintf(stderr, "usage: bench_status_render CONTRACTS_DIR [N [REPS]] [--dump DIR] "
                        "[--histograms subscription|contract|none|all] [--contracts K]\n");
        return 2;
    }
    size_t n = pos[1] != NULL ? strtoul(pos[1], NULL, 10) : 10000;
    unsigned reps = pos[2] != NULL ? (unsigned)strtoul(pos[2], NULL, 10) : 20;
    if (n == 0 || n > 1000000 || reps == 0 || reps > 10000 || n_contracts == 0 || n_contracts > n) {
        fprintf(stderr, "bench_status_render: N must be 1..1000000, REPS 1..10000, K 1..N\n");
        return 2;
    }
    struct contract_load_error cerr;
    struct contract *c = contract_load("version-stream", pos[0], &cerr);
    if (c == NULL) {
        fprintf(stderr, "bench_status_render: cannot load version-stream from %s\n", pos[0]);
        return 1;
    }
    /* K contracts: shallow copies of the one loaded, renamed (the renderer
     * reads only names and event kinds). */
    struct contract *cs = calloc(n_contracts, sizeof(*cs));
    char(*cnames)[40] = calloc(n_contracts, sizeof(*cnames));
    if (cs == NULL || cnames == NULL) {
        fprintf(stderr, "bench_status_render: out of memory\n");
        return 1;
    }
    for (size_t k = 0; k < n_contracts; k++) {
        cs[k] = *c;
        if (n_contracts > 1) {
            snprintf(cnames[k], sizeof(cnames[k]), "version-stream-%zu", k);
            cs[k].c_name = cnames[k];
        }
    }
    size_t n_kinds = c->c_n_events + 1;
    struct monitor_stats *stats = calloc(n, sizeof(*stats));
    uint64_t *kinds = calloc(n * n_kinds, sizeof(*kinds));
    struct status_row *rows = calloc(n, sizeof(*rows));
    char(*names)[32] = calloc(n, sizeof(*names));
    char(*urls)[160] = calloc(n, sizeof(*urls));
    double *t_status = calloc(reps, sizeof(double));
    double *t_metrics = calloc(reps, sizeof(double));
    if (!stats || !kinds || !rows || !names || !urls || !t_status || !t_metrics) {
        fprintf(stderr, "bench_status_render: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        bench_fill(&stats[i], kinds + i * n_kinds, n_kinds, i);
        snprintf(names[i], sizeof(names[i]), "version-%05zu", i);
        snprintf(urls[i], sizeof(urls[i]),
                 "http://127.0.0.1:18765/api/utils/version/stream?request_id=r%zu&hb_ms=1000", i);
        rows[i].row_name = names[i];
        rows[i].row_url = urls[i];
        rows[i].row_contract = &cs[i % n_contracts];
        rows[i].row_stats = &stats[i];
        rows[i].row_healthy = stats[i].ms_state == MONITOR_STREAMING;
    }
    struct status_recent recent[8];
    memset(recent, 0, sizeof(recent));
    for (size_t i = 0; i < 8; i++) {
        snprintf(recent[i].sr_subscription, sizeof(recent[i].sr_subscription), "%s", names[i]);
        recent[i].sr_v = stats[3].ms_last_violation;
    }
    struct status_view v = {.sv_version = "bench",
                            .sv_started_wall_ms = BENCH_T0_MS,
                            .sv_started_mono_ms = 1000,
                            .sv_config_path = "/etc/ssemon/ssemon.json",
                            .sv_recent = recent,
                            .sv_n_recent = 8};

    struct json_writer js, jm;
    json_writer_init(&js);
    json_writer_init(&jm);
    for (unsigned r = 0; r < reps; r++) {
        json_writer_reset(&js);
        double t0 = bench_now_ms();
        status_render_json_rows(&v, rows, n, NULL, 86401000, &js);
        t_status[r] = bench_now_ms() - t0;
    }
    if (json_writer_failed(&js)) {
        fprintf(stderr, "bench_status_render: rendering failed (out of memory)\n");
        return 1;
    }
    qsort(t_status, reps, sizeof(double), bench_cmp_double);
    printf("subscriptions %zu, contracts %zu, renders %u each\n", n, n_contracts, reps);
    printf("%-23s %10s %9s %9s %9s\n", "document", "bytes", "best_ms", "median_ms", "MB/s_best");
    size_t ls = json_writer_text_len(&js);
    printf("%-23s %10zu %9.2f %9.2f %9.0f\n", "/status", ls, t_status[0], t_status[reps / 2],
           (double)ls / 1e3 / t_status[0]);
    int rc = 0;
    if (dump != NULL && bench_dump(dump, "status.json", &js) != 0)
        rc = 1;
    /* GET /: the HTML page over the same rows (t_status reused). */
    for (unsigned r = 0; r < reps; r++) {
        json_writer_reset(&js);
        double t0 = bench_now_ms();
        status_page_render_rows(&v, rows, n, 0, BENCH_T0_MS + 86401000, &js);
        t_status[r] = bench_now_ms() - t0;
    }
    if (json_writer_failed(&js)) {
        fprintf(stderr, "bench_status_render: rendering failed (out of memory)\n");
        return 1;
    }
    qsort(t_status, reps, sizeof(double), bench_cmp_double);
    size_t lp = json_writer_text_len(&js);
    printf("%-23s %10zu %9.2f %9.2f %9.0f\n", "/ (HTML page)", lp, t_status[0], t_status[reps / 2],
           (double)lp / 1e3 / t_status[0]);
    if (dump != NULL && bench_dump(dump, "page.html", &js) != 0)
        rc = 1;
    /* k == 3: "none" with "zeros": false, the large-deployment setting. */
    for (int k = 0; k < 4; k++) {
        if (!hist_on[k < 3 ? k : 2])
            continue;
        v.sv_histograms = (enum status_histograms)(k < 3 ? k : 2);
        v.sv_sparse = k == 3;
        for (unsigned r = 0; r < reps; r++) {
            json_writer_reset(&jm);
            double t0 = bench_now_ms();
            status_render_metrics_rows(&v, rows, n, &jm);
            t_metrics[r] = bench_now_ms() - t0;
        }
        if (json_writer_failed(&jm)) {
            fprintf(stderr, "bench_status_render: rendering failed (out of memory)\n");
            return 1;
        }
        qsort(t_metrics, reps, sizeof(double), bench_cmp_double);
        char label[40], file[40];
        snprintf(label, sizeof(label), "/metrics (%s%s)", bench_hist_names[k < 3 ? k : 2],
                 k == 3 ? ", no zeros" : "");
        size_t lm = json_writer_text_len(&jm);
        printf("%-23s %10zu %9.2f %9.2f %9.0f\n", label, lm, t_metrics[0], t_metrics[reps / 2],
               (double)lm / 1e3 / t_metrics[0]);
        if (k == 0)
            snprintf(file, sizeof(file), "metrics.prom");
        else if (k < 3)
            snprintf(file, sizeof(file), "metrics-%s.prom", bench_hist_names[k]);
        else
            snprintf(file, sizeof(file), "metrics-none-no-zeros.prom");
        if (dump != NULL && bench_dump(dump, file, &jm) != 0)
            rc = 1;
    }
    json_writer_free(&js);
    json_writer_free(&jm);
    contract_free(c);
    free(cs);
    free(cnames);
    free(stats);
    free(kinds);
    free(rows);
    free(names);
    free(urls);
    free(t_status);
    free(t_metrics);
    return rc;
}
