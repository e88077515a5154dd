/*
 * ssemon run: the daemon. Every enabled subscription of the configuration is
 * a monitor on one libevent loop; violations and lifecycle changes go to the
 * journal sink (which never makes the loop wait on journald or stderr) and
 * a recent list the status endpoint shows. SIGHUP reloads
 * (unchanged subscriptions keep their connection and counters), SIGTERM and
 * SIGINT stop. Runs in the foreground; Type=notify under systemd.
 */
#include "ssemon/base/clock.h"
#include "ssemon/base/utf8.h"
#include "ssemon/cmd/cli.h"
#include "ssemon/cmd/cmd.h"
#include "ssemon/cmd/monitor_setup.h"
#include "ssemon/cmd/prober.h"
#include "ssemon/config/config.h"
#include "ssemon/config/config_probe.h"
#include "ssemon/io/deadline.h"
#include "ssemon/io/evidence.h"
#include "ssemon/io/journal_ids.h"
#include "ssemon/io/journal_sink.h"
#include "ssemon/io/monitor.h"
#include "ssemon/io/notify.h"
#include "ssemon/io/status_auth.h"
#include "ssemon/io/status_server.h"
#include "ssemon/io/status_tls.h"
#include "ssemon/io/subscription.h"
#include "ssemon/json/json_writer.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define RUN_RECENT_MAX 50
#define RUN_PERIOD_MS 1000
/* STATUS= counts violations over this many one-minute buckets. */
#define RUN_STATUS_MINUTES 5
/* At exit, what is still queued for journald or stderr gets this long. */
#define RUN_JOURNAL_CLOSE_MS 1000
/* Points the daemon at another journald socket (tests run their own). */
#define RUN_JOURNAL_SOCKET_ENV "SSEMON_JOURNAL_SOCKET"

struct run_daemon;

struct run_sub {
    struct run_daemon *rs_d;
    struct config *rs_config; /* the configuration it was started from (a reference) */
    const struct config_subscription *rs_cs;
    struct monitor *rs_mon;
    struct journal_rates rs_rates;
    struct journal_subject rs_subj;
};

/* Flood control of one probe's records, kept across reloads by name. */
struct run_probe_rates {
    char *rp_name;
    struct journal_rates rp_rates;
};

struct run_daemon {
    struct event_base *rd_base;
    struct sub_engine *rd_engine;
    struct status_server *rd_status;
    struct status_auth *rd_auth; /* the status endpoint's; NULL: none */
    struct status_tls *rd_tls;   /* the status endpoint's; NULL: plain HTTP */
    bool rd_status_exposed;      /* beyond loopback without TLS or auth */
    struct journal_sink *rd_sink;
    /* Evidence files (NULL: "evidence_dir": null, or it could not be
     * used), set up at start from the configuration then; rd_evidence_tail
     * is its /metrics text, rendered for each view. */
    struct evidence *rd_evidence;
    struct json_writer rd_evidence_tail;
    struct config *rd_config;
    const char *rd_config_path;
    enum journal_target rd_target;

    struct prober *rd_prober;
    struct run_probe_rates *rd_probe_rates; /* one per probe of the configuration */
    size_t rd_n_probe_rates;

    struct run_sub **rd_subs; /* enabled subscriptions, config order */
    size_t rd_n_subs;
    struct monitor **rd_view_monitors; /* the status view's, kept by run_apply */
    /* The disabled subscriptions of the running configuration, for the
     * status view (pointing into rd_config), kept by run_apply. */
    struct status_disabled *rd_disabled;
    size_t rd_n_disabled;
    uint64_t rd_generation; /* changes when the monitors change */

    struct status_recent rd_recent[RUN_RECENT_MAX]; /* ring */
    size_t rd_recent_next;
    size_t rd_recent_n;
    struct status_recent rd_recent_view[RUN_RECENT_MAX];
    bool rd_recent_dirty; /* rd_recent_view is behind the ring */

    uint64_t rd_minute_count[RUN_STATUS_MINUTES];
    uint64_t rd_minute_id[RUN_STATUS_MINUTES];

    struct event *rd_sig[3];
    struct deadline rd_period;
    struct deadline rd_watchdog;
    uint64_t rd_watchdog_ms;
    uint64_t rd_started_wall_ms;
    uint64_t rd_started_mono_ms;
    /* The running configuration and the last reload (rd_reload_wall_ms 0:
     * none yet); rd_reload_error says why the last one was refused, ""
     * when it succeeded. */
    uint64_t rd_config_loaded_wall_ms;
    uint64_t rd_reload_wall_ms;
    char rd_reload_error[256];
    char rd_last_status[512];
    bool rd_stopping;
};

static void run_usage(FILE *f)
{
    fputs("usage: ssemon run [-c FILE] [--log-target auto|journal|stderr]\n"
          "Runs the monitor daemon in the foreground: every enabled subscription of the\n"
          "configuration (default " CONFIG_DEFAULT_PATH ") is watched and validated\n"
          "continuously. SIGHUP reloads the configuration, SIGTERM/SIGINT stop.\n"
          "  -c, --config FILE     configuration file\n"
          "  --log-target T        where records go: journald, stderr (JSON lines), or\n"
          "                        auto (journald when it answers at start; the default)\n",
          f);
}

/* ---- records ---- */

/* Puts a violation in the recent list and the STATUS= counts. */
static void run_recent_add(struct run_daemon *d, const char *subscription, const char *probe,
                           const struct monitor_violation *mv, uint64_t now)
{
    struct status_recent *r = &d->rd_recent[d->rd_recent_next];
    snprintf(r->sr_subscription, sizeof(r->sr_subscription), "%s",
             subscription != NULL ? subscription : "");
    snprintf(r->sr_probe, sizeof(r->sr_probe), "%s", probe != NULL ? probe : "");
    r->sr_v = *mv;
    d->rd_recent_next = (d->rd_recent_next + 1) % RUN_RECENT_MAX;
    if (d->rd_recent_n < RUN_RECENT_MAX)
        d->rd_recent_n++;
    d->rd_recent_dirty = true;

    uint64_t minute = now / 60000;
    size_t slot = minute % RUN_STATUS_MINUTES;
    if (d->rd_minute_id[slot] != minute) {
        d->rd_minute_id[slot] = minute;
        d->rd_minute_count[slot] = 0;
    }
    d->rd_minute_count[slot]++;
}

/* An evidence file for the violation being journalled (run_evidence_ctx):
 * queued once the entry passed flood control, named on the monitor. */
struct run_evidence_ctx {
    struct run_daemon *re_d;
    struct monitor *re_m;
    const struct violation *re_v;
    uint64_t re_now;
};

static bool run_evidence(void *ctx, char *path, size_t size)
{
    struct run_evidence_ctx *c = ctx;
    char name[EVIDENCE_NAME_MAX];
    if (!evidence_capture(c->re_d->rd_evidence, c->re_m, c->re_v, c->re_now, clock_wall_ms(), name,
                          sizeof(name)))
        return false;
    monitor_set_evidence(c->re_m, name);
    snprintf(path, size, "%s/%s", evidence_dir(c->re_d->rd_evidence), name);
    return true;
}

static void run_on_violation(void *ctx, struct monitor *m, const struct violation *v)
{
    struct run_sub *rs = ctx;
    struct run_daemon *d = rs->rs_d;
    uint64_t now = clock_mono_ms();
    struct run_evidence_ctx ec = {d, m, v, now};
    bool ev = d->rd_evidence != NULL && evidence_wanted(m, v);
    journal_sink_violation_ev(d->rd_sink, &rs->rs_rates, &rs->rs_subj, v, now,
                              ev ? run_evidence : NULL, &ec);
    run_recent_add(d, monitor_name(m), NULL, &monitor_stats(m)->ms_last_violation, now);
}

static void run_on_event(void *ctx, struct monitor *m, uint64_t now_ms,
                         const struct validator_seen *s)
{
    struct run_sub *rs = ctx;
    if (rs->rs_d->rd_prober != NULL)
        prober_event(rs->rs_d->rd_prober, monitor_name(m), now_ms, s);
}

static void run_on_lifecycle(void *ctx, struct monitor *m, enum monitor_lifecycle what,
                             uint64_t failures, const char *detail)
{
    struct run_sub *rs = ctx;
    (void)m;
    journal_sink_lifecycle(rs->rs_d->rd_sink, &rs->rs_rates, &rs->rs_subj, what, failures, detail,
                           clock_mono_ms());
}

/* The status endpoint's basic authentication as `cfg` sets it (*out NULL:
 * none). Returns 0, or -1 with a message in `err`. */
static int run_make_auth(const struct config *cfg, struct status_auth **out, char *err,
                         size_t err_size)
{
    size_t n;
    const struct status_auth_user *users = config_status_auth_users(cfg, &n);
    *out = NULL;
    if (n == 0)
        return 0;
    *out = status_auth_new(users, n, config_status_auth_health(cfg), err, err_size);
    return *out != NULL ? 0 : -1;
}

/* The status endpoint's TLS as `cfg` sets it, its files read now (*out
 * NULL: none). Returns 0, or -1 with a message in `err`. */
static int run_make_tls(const struct config *cfg, struct status_tls **out, char *err,
                        size_t err_size)
{
    const char *cert, *key, *ca;
    *out = NULL;
    if (!config_status_tls(cfg, &cert, &key, &ca))
        return 0;
    *out = status_tls_new(cert, key, ca, err, err_size);
    return *out != NULL ? 0 : -1;
}

/* Whether the endpoint of `cfg` is reachable beyond loopback with neither
 * TLS nor authentication. */
static bool run_status_exposed(const struct config *cfg)
{
    const struct listen_addr *lis = config_status_listen(cfg);
    size_t n;
    config_status_auth_users(cfg, &n);
    const char *cert, *key, *ca;
    return !listen_addr_is_loopback(lis) && n == 0 && !config_status_tls(cfg, &cert, &key, &ca);
}

/* Says so in the journal when the endpoint is exposed. */
static void run_warn_exposed(struct run_daemon *d)
{
    d->rd_status_exposed = run_status_exposed(d->rd_config);
    if (!d->rd_status_exposed)
        return;
    char msg[512];
    snprintf(msg, sizeof(msg),
             "the status endpoint listens on %s, beyond loopback, without TLS or "
             "authentication: anyone who reaches it reads every stream URL and violation "
             "(set status.tls and status.basic_auth_users)",
             config_status_listen(d->rd_config)->la_text);
    journal_sink_daemon(d->rd_sink, JOURNAL_ID_STATUS_EXPOSED, 4, msg);
}

static void run_status_view(void *ctx, struct status_view *out)
{
    struct run_daemon *d = ctx;
    /* Cheap when nothing changed: a streamed /metrics asks at every slice.
     * The monitors' list is kept by run_apply; the recent ring is put in
     * order only after a new violation. */
    if (d->rd_recent_dirty) {
        size_t first = (d->rd_recent_next + RUN_RECENT_MAX - d->rd_recent_n) % RUN_RECENT_MAX;
        for (size_t i = 0; i < d->rd_recent_n; i++)
            d->rd_recent_view[i] = d->rd_recent[(first + i) % RUN_RECENT_MAX];
        d->rd_recent_dirty = false;
    }
    out->sv_version = SSEMON_VERSION;
    out->sv_started_wall_ms = d->rd_started_wall_ms;
    out->sv_started_mono_ms = d->rd_started_mono_ms;
    out->sv_config_path = d->rd_config_path;
    out->sv_config_loaded_wall_ms = d->rd_config_loaded_wall_ms;
    out->sv_reload_wall_ms = d->rd_reload_wall_ms;
    out->sv_reload_ok = d->rd_reload_error[0] == '\0';
    out->sv_reload_error = d->rd_reload_error;
    out->sv_monitors = d->rd_view_monitors;
    out->sv_n_monitors = d->rd_n_subs;
    out->sv_disabled = d->rd_disabled;
    out->sv_n_disabled = d->rd_n_disabled;
    out->sv_recent = d->rd_recent_view;
    out->sv_n_recent = d->rd_recent_n;
    out->sv_generation = d->rd_generation;
    out->sv_journal = journal_sink_stats(d->rd_sink);
    if (d->rd_evidence != NULL) {
        struct evidence_stats es;
        evidence_stats(d->rd_evidence, &es);
        json_writer_reset(&d->rd_evidence_tail);
        evidence_metrics(&es, &d->rd_evidence_tail);
        if (!json_writer_failed(&d->rd_evidence_tail))
            out->sv_metrics_tail =
                json_writer_text(&d->rd_evidence_tail, &out->sv_metrics_tail_len);
        out->sv_evidence = d->rd_evidence;
    }
    out->sv_n_probes = d->rd_prober != NULL ? prober_view(d->rd_prober, &out->sv_probes) : 0;
    /* The running configuration's "metrics": {"histograms"}; a render in
     * slices keeps the one it began with. */
    out->sv_status_exposed = d->rd_status_exposed;
    out->sv_sparse = !config_metrics_zeros(d->rd_config);
    switch (config_metrics_histograms(d->rd_config)) {
    case CONFIG_HISTOGRAMS_CONTRACT:
        out->sv_histograms = STATUS_HISTOGRAMS_CONTRACT;
        break;
    case CONFIG_HISTOGRAMS_NONE:
        out->sv_histograms = STATUS_HISTOGRAMS_NONE;
        break;
    case CONFIG_HISTOGRAMS_SUBSCRIPTION:
    default:
        out->sv_histograms = STATUS_HISTOGRAMS_SUBSCRIPTION;
        break;
    }
}

/* ---- subscriptions ---- */

static struct run_sub *run_sub_new(struct run_daemon *d, struct config *cfg,
                                   const struct config_subscription *cs)
{
    struct run_sub *rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return NULL;
    rs->rs_d = d;
    rs->rs_config = config_ref(cfg);
    rs->rs_cs = cs;
    rs->rs_subj.js_subscription = config_subscription_name(cs);
    rs->rs_subj.js_contract = config_subscription_contract(cs)->c_name;
    rs->rs_subj.js_url = config_subscription_url_redacted(cs);
    struct monitor_options mo;
    monitor_setup_options(cs, &mo);
    const struct monitor_callbacks cbs = {
        .mc_on_violation = run_on_violation,
        .mc_on_lifecycle = run_on_lifecycle,
        .mc_on_event = run_on_event,
    };
    rs->rs_mon = monitor_new(d->rd_engine, d->rd_base, &mo, &cbs, rs);
    if (rs->rs_mon == NULL || monitor_start(rs->rs_mon) != 0) {
        monitor_free(rs->rs_mon);
        config_unref(rs->rs_config);
        free(rs);
        return NULL;
    }
    return rs;
}

static void run_sub_free(struct run_sub *rs)
{
    if (rs == NULL)
        return;
    /* Counts held back by flood control are reported, not lost. */
    journal_sink_flush(rs->rs_d->rd_sink, &rs->rs_rates, &rs->rs_subj, UINT64_MAX);
    monitor_stop(rs->rs_mon);
    monitor_free(rs->rs_mon);
    config_unref(rs->rs_config);
    free(rs);
}

/* Builds the subscription list for `cfg`, keeping from `old` (which this
 * empties) every subscription that is unchanged. Returns 0, or -1 on
 * allocation failure (nothing changed then). */
static int run_apply(struct run_daemon *d, struct config *cfg, size_t *kept, size_t *started)
{
    size_t n = config_subscription_count(cfg);
    struct run_sub **subs = calloc(n > 0 ? n : 1, sizeof(*subs));
    struct monitor **view = calloc(n > 0 ? n : 1, sizeof(*view));
    struct status_disabled *off = calloc(n > 0 ? n : 1, sizeof(*off));
    if (subs == NULL || view == NULL || off == NULL) {
        free(subs);
        free(view);
        free(off);
        return -1;
    }
    size_t m = 0, n_off = 0;
    *kept = *started = 0;
    for (size_t i = 0; i < n; i++) {
        const struct config_subscription *cs = config_subscription_at(cfg, i);
        if (!config_subscription_enabled(cs)) {
            off[n_off++] = (struct status_disabled){
                .sd_name = config_subscription_name(cs),
                .sd_url = config_subscription_url_redacted(cs),
                .sd_contract = config_subscription_contract_name(cs),
                .sd_description = config_subscription_description(cs),
            };
            continue;
        }
        struct run_sub *keep = NULL;
        for (size_t j = 0; j < d->rd_n_subs; j++) {
            struct run_sub *old = d->rd_subs[j];
            if (old != NULL &&
                strcmp(config_subscription_name(old->rs_cs), config_subscription_name(cs)) == 0) {
                if (config_subscription_equal(old->rs_cs, cs)) {
                    keep = old;
                    d->rd_subs[j] = NULL;
                }
                break;
            }
        }
        if (keep != NULL) {
            /* Not part of the equality: the new text, same stream (on
             * failure the old text stays, nothing else depends on it). */
            (void)monitor_set_description(keep->rs_mon, config_subscription_description(cs));
            subs[m++] = keep;
            (*kept)++;
            continue;
        }
        struct run_sub *rs = run_sub_new(d, cfg, cs);
        if (rs == NULL) {
            char line[512];
            snprintf(line, sizeof(line), "ssemon run: %s: cannot start: %s",
                     config_subscription_name(cs), strerror(errno));
            journal_sink_text(d->rd_sink, line);
            continue;
        }
        if (config_subscription_settings(cs)->cs_insecure) {
            char line[512];
            snprintf(line, sizeof(line),
                     "ssemon run: warning: %s: \"insecure\": true, TLS certificates and host names "
                     "are not verified",
                     config_subscription_name(cs));
            journal_sink_text(d->rd_sink, line);
        }
        subs[m++] = rs;
        (*started)++;
    }
    /* What is left of the old list was changed or removed. */
    for (size_t j = 0; j < d->rd_n_subs; j++)
        run_sub_free(d->rd_subs[j]);
    free(d->rd_subs);
    free(d->rd_view_monitors);
    free(d->rd_disabled);
    d->rd_subs = subs;
    d->rd_n_subs = m;
    d->rd_view_monitors = view;
    d->rd_disabled = off;
    d->rd_n_disabled = n_off;
    for (size_t i = 0; i < m; i++)
        view[i] = subs[i]->rs_mon;
    d->rd_generation++;
    return 0;
}

/* ---- probes ---- */

static struct monitor *run_probe_monitor(void *ctx, const char *subscription)
{
    struct run_daemon *d = ctx;
    for (size_t i = 0; i < d->rd_n_subs; i++)
        if (strcmp(monitor_name(d->rd_subs[i]->rs_mon), subscription) == 0)
            return d->rd_subs[i]->rs_mon;
    return NULL;
}

static struct journal_rates *run_probe_rates(struct run_daemon *d, const char *probe)
{
    for (size_t i = 0; i < d->rd_n_probe_rates; i++)
        if (strcmp(d->rd_probe_rates[i].rp_name, probe) == 0)
            return &d->rd_probe_rates[i].rp_rates;
    return NULL;
}

/* The evidence file of a probe's violation (run_probe_violation). */
struct run_probe_evidence_ctx {
    struct run_daemon *pe_d;
    const char *pe_probe;
    const struct monitor *pe_m;
    const struct violation *pe_v;
    uint64_t pe_now;
    char pe_name[EVIDENCE_NAME_MAX]; /* the file written; "": none */
};

static bool run_probe_evidence(void *ctx, char *path, size_t size)
{
    struct run_probe_evidence_ctx *c = ctx;
    if (!evidence_capture_probe(c->pe_d->rd_evidence, c->pe_probe, c->pe_m, c->pe_v, c->pe_now,
                                clock_wall_ms(), c->pe_name, sizeof(c->pe_name)))
        return false;
    prober_failure_evidence(c->pe_d->rd_prober, c->pe_probe, c->pe_name);
    snprintf(path, size, "%s/%s", evidence_dir(c->pe_d->rd_evidence), c->pe_name);
    return true;
}

/* Whose flight recorder goes into a probe violation's evidence file: the
 * subscription whose expectation failed (probe_timeout, probe_order), or,
 * for a trigger's failure (no subscription), the first of the probe's
 * expectations' subscriptions with an open stream. NULL: none. */
static const struct monitor *run_probe_evidence_monitor(struct run_daemon *d,
                                                        const struct config_probe *cp,
                                                        struct monitor *m,
                                                        const struct violation *v)
{
    if (d->rd_evidence == NULL)
        return NULL;
    if (m != NULL)
        return evidence_probe_wanted(m, v) ? m : NULL;
    size_t n = cp != NULL ? config_probe_expect_count(cp) : 0;
    for (size_t i = 0; i < n; i++) {
        struct config_probe_expect_view ev;
        config_probe_expect_at(cp, i, &ev);
        struct monitor *em = run_probe_monitor(d, ev.cev_subscription);
        if (em != NULL && evidence_probe_wanted(em, v))
            return em;
    }
    return NULL;
}

static void run_probe_violation(void *ctx, const char *probe, const char *run_id,
                                const char *subscription, const struct violation *v)
{
    struct run_daemon *d = ctx;
    uint64_t now = clock_mono_ms();
    struct monitor *m = subscription != NULL ? run_probe_monitor(d, subscription) : NULL;
    struct journal_subject subj = {
        .js_subscription = subscription,
        .js_contract = m != NULL ? monitor_contract(m)->c_name : NULL,
        .js_url = m != NULL ? monitor_display_url(m) : NULL,
        .js_probe = probe,
        .js_run_id = run_id,
    };
    /* A probe's stream ("stream/N"): its contract and URL as configured. */
    const struct config_probe *cp = config_probe_find(d->rd_config, probe);
    unsigned long idx;
    char tail;
    if (m == NULL && cp != NULL && subscription != NULL &&
        sscanf(subscription, "stream/%lu%c", &idx, &tail) == 1 &&
        idx < config_probe_stream_count(cp)) {
        subj.js_contract = config_probe_stream_contract_name(cp, idx);
        subj.js_url = config_probe_stream_display(cp, idx);
    }
    const struct monitor *em =
        subscription == NULL || m != NULL ? run_probe_evidence_monitor(d, cp, m, v) : NULL;
    struct run_probe_evidence_ctx ec = {
        .pe_d = d, .pe_probe = probe, .pe_m = em, .pe_v = v, .pe_now = now};
    journal_sink_violation_ev(d->rd_sink, run_probe_rates(d, probe), &subj, v, now,
                              em != NULL ? run_probe_evidence : NULL, &ec);
    struct monitor_violation mv;
    monitor_violation_keep(&mv, v, clock_wall_ms());
    snprintf(mv.mv_evidence, sizeof(mv.mv_evidence), "%s", ec.pe_name);
    run_recent_add(d, subscription, probe, &mv, now);
}

static void run_probe_rates_free(struct run_probe_rates *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(r[i].rp_name);
    free(r);
}

/* The probes of `cfg`: the prober keeps unchanged ones, and so does the
 * flood control of their records. Returns 0, or -1 when out of memory. */
static int run_apply_probes(struct run_daemon *d, struct config *cfg, size_t *kept, size_t *started)
{
    size_t n = config_probe_count(cfg);
    struct run_probe_rates *rates = calloc(n > 0 ? n : 1, sizeof(*rates));
    if (rates == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *name = config_probe_name(config_probe_at(cfg, i));
        rates[i].rp_name = strdup(name);
        if (rates[i].rp_name == NULL) {
            run_probe_rates_free(rates, i);
            return -1;
        }
        const struct journal_rates *old = run_probe_rates(d, name);
        if (old != NULL)
            rates[i].rp_rates = *old;
    }
    if (prober_apply(d->rd_prober, cfg, kept, started) != 0) {
        run_probe_rates_free(rates, n);
        return -1;
    }
    run_probe_rates_free(d->rd_probe_rates, d->rd_n_probe_rates);
    d->rd_probe_rates = rates;
    d->rd_n_probe_rates = n;
    return 0;
}

/* ---- status line, watchdog, periodic work ---- */

static void run_update_status(struct run_daemon *d)
{
    uint64_t now = clock_mono_ms();
    size_t healthy = 0;
    for (size_t i = 0; i < d->rd_n_subs; i++)
        if (monitor_healthy(d->rd_subs[i]->rs_mon, now))
            healthy++;
    uint64_t minute = now / 60000;
    uint64_t recent = 0;
    for (size_t i = 0; i < RUN_STATUS_MINUTES; i++)
        if (minute - d->rd_minute_id[i] < RUN_STATUS_MINUTES)
            recent += d->rd_minute_count[i];
    const struct journal_stats *js = journal_sink_stats(d->rd_sink);
    char probes[64] = "";
    const struct status_probe *pv = NULL;
    size_t np = d->rd_prober != NULL ? prober_view(d->rd_prober, &pv) : 0;
    if (np > 0) {
        size_t failing = 0;
        for (size_t i = 0; i < np; i++)
            failing += status_render_probe_failing(&pv[i]);
        snprintf(probes, sizeof(probes), ", %zu/%zu probes passing", np - failing, np);
    }
    char line[sizeof(d->rd_last_status)];
    if (d->rd_n_subs == 0 && np == 0)
        snprintf(line, sizeof(line), "no subscriptions configured%s",
                 js->js_up ? "" : "; journald unreachable, records on stderr");
    else
        snprintf(line, sizeof(line), "%zu/%zu healthy%s, %llu violation%s in %d min%s", healthy,
                 d->rd_n_subs, probes, (unsigned long long)recent, recent == 1 ? "" : "s",
                 RUN_STATUS_MINUTES, js->js_up ? "" : "; journald unreachable, records on stderr");
    /* A refused reload is said until one succeeds: the running
     * configuration is not the file's. */
    if (d->rd_reload_error[0] != '\0') {
        size_t n = strlen(line);
        snprintf(line + n, sizeof(line) - n, "; reload refused: %s", d->rd_reload_error);
    }
    if (strcmp(line, d->rd_last_status) != 0) {
        memcpy(d->rd_last_status, line, sizeof(line));
        notify_status(line);
    }
}

/* journald became unreachable or reachable again: the status line says so
 * at once (the sink has written its record). */
static void run_on_journal_change(void *ctx, const struct journal_stats *st)
{
    (void)st;
    run_update_status(ctx);
}

static void run_on_period(void *ctx)
{
    struct run_daemon *d = ctx;
    uint64_t now = clock_mono_ms();
    for (size_t i = 0; i < d->rd_n_subs; i++)
        journal_sink_flush(d->rd_sink, &d->rd_subs[i]->rs_rates, &d->rd_subs[i]->rs_subj, now);
    for (size_t i = 0; i < d->rd_n_probe_rates; i++) {
        const struct journal_subject subj = {.js_probe = d->rd_probe_rates[i].rp_name};
        journal_sink_flush(d->rd_sink, &d->rd_probe_rates[i].rp_rates, &subj, now);
    }
    run_update_status(d);
    deadline_arm(&d->rd_period, RUN_PERIOD_MS);
}

static void run_on_watchdog(void *ctx)
{
    struct run_daemon *d = ctx;
    /* Pinged from a loop timer: a stuck loop stops the pings. */
    notify_watchdog();
    deadline_arm(&d->rd_watchdog, d->rd_watchdog_ms);
}

/* ---- signals ---- */

/* Remembers a refused reload (the first diagnostic, or `why`), journals
 * `msg` and tells systemd the daemon is ready again, still on the running
 * configuration. */
static void run_reload_refused(struct run_daemon *d, const char *why, const char *msg)
{
    d->rd_reload_wall_ms = clock_wall_ms();
    utf8_copy(d->rd_reload_error, sizeof(d->rd_reload_error),
              why != NULL && why[0] != '\0' ? why : "refused");
    journal_sink_daemon(d->rd_sink, JOURNAL_ID_RELOAD_REFUSED, 3, msg);
    notify_ready();
    run_update_status(d);
}

static void run_reload(struct run_daemon *d)
{
    notify_reloading();
    struct diag_list errs;
    struct config *cfg = config_load(d->rd_config_path, &errs);
    char msg[1024];
    if (cfg == NULL) {
        snprintf(msg, sizeof(msg),
                 "configuration reload refused (%zu error%s), keeping the running one: %s",
                 errs.dl_n, errs.dl_n == 1 ? "" : "s",
                 errs.dl_n > 0 ? errs.dl_items[0].dg_text : "out of memory");
        for (size_t i = 0; i < errs.dl_n; i++)
            journal_sink_text(d->rd_sink, errs.dl_items[i].dg_text);
        char why[256];
        snprintf(why, sizeof(why), "%s",
                 errs.dl_n > 0 ? errs.dl_items[0].dg_text : "out of memory");
        diag_list_free(&errs);
        run_reload_refused(d, why, msg);
        return;
    }
    diag_list_free(&errs);
    struct status_auth *nauth;
    char aerr[256];
    struct status_tls *ntls = NULL;
    if (run_make_auth(cfg, &nauth, aerr, sizeof(aerr)) != 0 ||
        run_make_tls(cfg, &ntls, aerr, sizeof(aerr)) != 0) {
        snprintf(msg, sizeof(msg),
                 "configuration reload refused, keeping the running one: status endpoint: %s",
                 aerr);
        char why[300];
        snprintf(why, sizeof(why), "status endpoint: %s", aerr);
        status_auth_free(nauth);
        config_unref(cfg);
        run_reload_refused(d, why, msg);
        return;
    }
    if (!listen_addr_equal(config_status_listen(cfg), config_status_listen(d->rd_config))) {
        char err[256];
        const struct status_server_limits lim = {0};
        struct status_server *ns = status_server_new(d->rd_base, config_status_listen(cfg)->la_text,
                                                     &lim, run_status_view, d, err, sizeof(err));
        if (ns == NULL) {
            snprintf(msg, sizeof(msg),
                     "configuration reload refused, keeping the running one: status listen: %s",
                     err);
            char why[300];
            snprintf(why, sizeof(why), "status listen: %s", err);
            status_auth_free(nauth);
            status_tls_free(ntls);
            config_unref(cfg);
            run_reload_refused(d, why, msg);
            return;
        }
        status_server_set_auth(ns, d->rd_auth);
        status_server_set_tls(ns, d->rd_tls);
        status_server_free(d->rd_status);
        d->rd_status = ns;
    }
    size_t before = d->rd_n_subs;
    size_t before_probes = config_probe_count(d->rd_config);
    size_t kept, started, pkept = 0, pstarted = 0;
    if (run_apply(d, cfg, &kept, &started) != 0 ||
        run_apply_probes(d, cfg, &pkept, &pstarted) != 0) {
        status_auth_free(nauth);
        status_tls_free(ntls);
        config_unref(cfg);
        run_reload_refused(d, "out of memory", "configuration reload refused: out of memory");
        return;
    }
    config_unref(d->rd_config);
    d->rd_config = cfg;
    /* New connections and requests on open ones use the new users. */
    status_server_set_auth(d->rd_status, nauth);
    status_auth_free(d->rd_auth);
    d->rd_auth = nauth;
    /* The certificate and key are read again at every reload. */
    status_server_set_tls(d->rd_status, ntls);
    status_tls_free(d->rd_tls);
    d->rd_tls = ntls;
    run_warn_exposed(d);
    d->rd_reload_wall_ms = clock_wall_ms();
    d->rd_config_loaded_wall_ms = d->rd_reload_wall_ms;
    d->rd_reload_error[0] = '\0';
    const struct config_settings *defs = config_defaults(cfg);
    journal_sink_set_rate(d->rd_sink, defs->cs_journal_burst, defs->cs_journal_interval_ms);
    int n = snprintf(msg, sizeof(msg),
                     "configuration reloaded: %zu subscription%s kept, %zu started, %zu stopped",
                     kept, kept == 1 ? "" : "s", started, before - kept);
    if (n > 0 && (size_t)n < sizeof(msg) && (before_probes > 0 || config_probe_count(cfg) > 0))
        snprintf(msg + n, sizeof(msg) - (size_t)n, "; %zu probe%s kept, %zu started, %zu stopped",
                 pkept, pkept == 1 ? "" : "s", pstarted, before_probes - pkept);
    journal_sink_daemon(d->rd_sink, JOURNAL_ID_RELOADED, 5, msg);
    notify_ready();
    run_update_status(d);
}

static void run_on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct run_daemon *d = arg;
    (void)what;
    if (sig == SIGHUP) {
        run_reload(d);
        return;
    }
    if (d->rd_stopping)
        return;
    d->rd_stopping = true;
    notify_stopping();
    journal_sink_daemon(d->rd_sink, JOURNAL_ID_STOPPING, 6, "stopping");
    event_base_loopbreak(d->rd_base);
}

/* A daemon holding thousands of subscriptions needs a socket each. */
static void run_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int run_parse_args(int argc, char **argv, const char **path, enum journal_target *target)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"log-target", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            *path = optarg;
            break;
        case 'l':
            if (strcmp(optarg, "auto") == 0)
                *target = JOURNAL_TARGET_AUTO;
            else if (strcmp(optarg, "journal") == 0 || strcmp(optarg, "journald") == 0)
                *target = JOURNAL_TARGET_JOURNAL;
            else if (strcmp(optarg, "stderr") == 0)
                *target = JOURNAL_TARGET_STDERR;
            else {
                fprintf(stderr, "ssemon run: --log-target must be auto, journal or stderr\n");
                return 2;
            }
            break;
        case 'h':
            run_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "ssemon run: unknown or incomplete option '%s'\n", argv[optind - 1]);
            run_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "ssemon run: unexpected argument '%s'\n", argv[optind]);
        run_usage(stderr);
        return 2;
    }
    return -1;
}

static void run_teardown(struct run_daemon *d)
{
    prober_free(d->rd_prober);
    d->rd_prober = NULL;
    run_probe_rates_free(d->rd_probe_rates, d->rd_n_probe_rates);
    for (size_t i = 0; i < d->rd_n_subs; i++)
        run_sub_free(d->rd_subs[i]);
    free(d->rd_subs);
    free(d->rd_view_monitors);
    free(d->rd_disabled);
    deadline_release(&d->rd_period);
    deadline_release(&d->rd_watchdog);
    for (size_t i = 0; i < 3; i++)
        if (d->rd_sig[i] != NULL)
            event_free(d->rd_sig[i]);
    status_server_free(d->rd_status);
    status_auth_free(d->rd_auth);
    status_tls_free(d->rd_tls);
    sub_engine_free(d->rd_engine);
    evidence_free(d->rd_evidence);
    json_writer_free(&d->rd_evidence_tail);
    if (d->rd_sink != NULL)
        journal_sink_close(d->rd_sink, RUN_JOURNAL_CLOSE_MS);
    journal_sink_free(d->rd_sink);
    config_unref(d->rd_config);
    if (d->rd_base != NULL)
        event_base_free(d->rd_base);
}

static int run_start(struct run_daemon *d)
{
    char err[256];
    const struct config_settings *defs = config_defaults(d->rd_config);
    d->rd_base = event_base_new();
    if (d->rd_base == NULL)
        return -1;
    struct journal_sink_options jso = {
        .jso_burst = defs->cs_journal_burst,
        .jso_interval_ms = defs->cs_journal_interval_ms,
        .jso_on_change = run_on_journal_change,
        .jso_ctx = d,
    };
    journal_writer_options_init(&jso.jso_writer);
    jso.jso_writer.jwo_target = d->rd_target;
    const char *socket_path = getenv(RUN_JOURNAL_SOCKET_ENV);
    if (socket_path != NULL && socket_path[0] != '\0')
        jso.jso_writer.jwo_socket_path = socket_path;
    d->rd_sink = journal_sink_new(d->rd_base, &jso);
    if (d->rd_sink == NULL)
        return -1;
    /* Two levels: the monitors' validator deadlines (0) run before socket
     * and other events (1) that are ready in the same turn. */
    if (event_base_priority_init(d->rd_base, 2) != 0)
        return -1;
    d->rd_engine = sub_engine_new(d->rd_base);
    if (d->rd_engine == NULL)
        return -1;
    json_writer_init(&d->rd_evidence_tail);
    /* The file's "evidence_dir", else under the unit's StateDirectory=
     * (systemd sets STATE_DIRECTORY; its first entry), else none. */
    bool set = false;
    const char *edir = config_evidence_dir(d->rd_config, &set);
    char state_dir[4096];
    const char *sd = getenv("STATE_DIRECTORY");
    if (!set && sd != NULL && sd[0] != '\0') {
        size_t len = strcspn(sd, ":");
        snprintf(state_dir, sizeof(state_dir), "%.*s/evidence", (int)len, sd);
        edir = state_dir;
    }
    if (edir != NULL) {
        d->rd_evidence = evidence_new(edir, config_evidence_max_bytes(d->rd_config),
                                      config_evidence_max_files(d->rd_config), err, sizeof(err));
        /* Evidence is an aid: the daemon watches its streams without it. */
        if (d->rd_evidence == NULL)
            fprintf(stderr, "ssemon run: no evidence files: %s\n", err);
    }
    const struct status_server_limits lim = {0};
    d->rd_status = status_server_new(d->rd_base, config_status_listen(d->rd_config)->la_text, &lim,
                                     run_status_view, d, err, sizeof(err));
    if (d->rd_status == NULL) {
        fprintf(stderr, "ssemon run: status endpoint %s: %s\n",
                config_status_listen(d->rd_config)->la_text, err);
        return -1;
    }
    if (run_make_auth(d->rd_config, &d->rd_auth, err, sizeof(err)) != 0 ||
        run_make_tls(d->rd_config, &d->rd_tls, err, sizeof(err)) != 0) {
        fprintf(stderr, "ssemon run: status endpoint: %s\n", err);
        errno = 0;
        return -1;
    }
    status_server_set_auth(d->rd_status, d->rd_auth);
    status_server_set_tls(d->rd_status, d->rd_tls);
    static const int sigs[3] = {SIGHUP, SIGTERM, SIGINT};
    for (size_t i = 0; i < 3; i++) {
        d->rd_sig[i] = evsignal_new(d->rd_base, sigs[i], run_on_signal, d);
        if (d->rd_sig[i] == NULL || event_add(d->rd_sig[i], NULL) != 0)
            return -1;
    }
    if (deadline_init(&d->rd_period, d->rd_base, run_on_period, d) != 0 ||
        deadline_init(&d->rd_watchdog, d->rd_base, run_on_watchdog, d) != 0)
        return -1;
    size_t kept, started;
    if (run_apply(d, d->rd_config, &kept, &started) != 0)
        return -1;
    const struct prober_host ph = {
        .ph_base = d->rd_base,
        .ph_engine = d->rd_engine,
        .ph_monitor = run_probe_monitor,
        .ph_on_violation = run_probe_violation,
        .ph_ctx = d,
        .ph_scheduled = true,
    };
    d->rd_prober = prober_new(&ph);
    if (d->rd_prober == NULL || run_apply_probes(d, d->rd_config, &kept, &started) != 0)
        return -1;
    return 0;
}

int cmd_run(int argc, char **argv)
{
    const char *path = CONFIG_DEFAULT_PATH;
    enum journal_target target = JOURNAL_TARGET_AUTO;
    int rc = run_parse_args(argc, argv, &path, &target);
    if (rc >= 0)
        return rc;

    struct diag_list errs;
    struct config *cfg = config_load(path, &errs);
    if (cfg == NULL) {
        for (size_t i = 0; i < errs.dl_n; i++)
            fprintf(stderr, "%s\n", errs.dl_items[i].dg_text);
        if (errs.dl_oom)
            fprintf(stderr, "ssemon run: out of memory while loading %s\n", path);
        fprintf(stderr, "ssemon run: refusing to start: configuration has errors\n");
        diag_list_free(&errs);
        return 2;
    }
    diag_list_free(&errs);

    signal(SIGPIPE, SIG_IGN);
    run_raise_nofile();
    struct run_daemon d;
    memset(&d, 0, sizeof(d));
    d.rd_config = cfg;
    d.rd_config_path = path;
    d.rd_target = target;
    d.rd_started_wall_ms = clock_wall_ms();
    d.rd_started_mono_ms = clock_mono_ms();
    d.rd_config_loaded_wall_ms = d.rd_started_wall_ms;
    if (run_start(&d) != 0) {
        if (errno != 0)
            fprintf(stderr, "ssemon run: cannot start: %s\n", strerror(errno));
        run_teardown(&d);
        return 1;
    }
    char msg[512];
    const struct listen_addr *lis = config_status_listen(cfg);
    char subs[64];
    if (d.rd_n_subs == 0)
        snprintf(subs, sizeof(subs), "no subscriptions configured");
    else
        snprintf(subs, sizeof(subs), "%zu subscription%s", d.rd_n_subs,
                 d.rd_n_subs == 1 ? "" : "s");
    if (lis->la_kind == LISTEN_ADDR_UNIX)
        snprintf(msg, sizeof(msg), "started: %s, status on %s", subs, lis->la_path);
    else
        snprintf(msg, sizeof(msg), "started: %s, status on %s%s%s:%u", subs,
                 lis->la_kind == LISTEN_ADDR_INET6 ? "[" : "", lis->la_host,
                 lis->la_kind == LISTEN_ADDR_INET6 ? "]" : "", status_server_port(d.rd_status));
    journal_sink_daemon(d.rd_sink, JOURNAL_ID_STARTED, 6, msg);
    run_warn_exposed(&d);
    notify_ready();
    run_update_status(&d);
    deadline_arm(&d.rd_period, RUN_PERIOD_MS);
    uint64_t wd = notify_watchdog_usec();
    if (wd > 0) {
        d.rd_watchdog_ms = wd / 2000 > 0 ? wd / 2000 : 1;
        notify_watchdog();
        deadline_arm(&d.rd_watchdog, d.rd_watchdog_ms);
    }

    if (event_base_dispatch(d.rd_base) < 0) {
        fprintf(stderr, "ssemon run: event loop failed\n");
        rc = 1;
    } else {
        rc = 0;
    }
    cli_hold_stop_signals();
    run_teardown(&d);
    return rc;
}
