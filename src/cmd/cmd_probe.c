/*
 * ssemon probe: runs configured probes now, once each or --repeat times,
 * and prints what happened as NDJSON. It opens the subscriptions the probes
 * expect events on (exactly as the daemon does), waits until they stream,
 * triggers, waits for the expectations and the probe streams, and prints
 * one line per expectation, the violations (the subscriptions' and the
 * runs'), and one summary line per run. Exit status: 0 when every run
 * succeeded, 1 when one failed or was skipped, 2 for usage or configuration
 * errors.
 */
#include "ssemon/base/clock.h"
#include "ssemon/cmd/cli.h"
#include "ssemon/cmd/cmd.h"
#include "ssemon/cmd/monitor_setup.h"
#include "ssemon/cmd/prober.h"
#include "ssemon/config/config.h"
#include "ssemon/config/config_probe.h"
#include "ssemon/io/deadline.h"
#include "ssemon/io/monitor.h"
#include "ssemon/io/subscription.h"
#include "ssemon/json/json_writer.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a run waits for its subscriptions to stream, by default. */
#define PROBE_CMD_WAIT_MS 30000
#define PROBE_CMD_MAX_REPEAT 100000

struct probe_cmd_args {
    const char *pa_config;
    long pa_repeat;
    uint64_t pa_interval_ms;
    uint64_t pa_wait_ms;
    char **pa_names;
    size_t pa_n_names;
};

struct probe_cmd {
    struct event_base *pc_base;
    struct sub_engine *pc_engine;
    struct config *pc_config;
    struct monitor **pc_mons;
    size_t pc_n_mons;
    struct prober *pc_prober;
    const struct probe_cmd_args *pc_args;
    struct json_writer pc_out;
    uint64_t pc_start_ms;
    /* The run in turn: names[pc_next % n], repeat pc_next / n. */
    size_t pc_next;
    size_t pc_total;
    bool pc_waiting; /* for the subscriptions of the run in turn */
    bool pc_running; /* a run is in progress */
    uint64_t pc_wait_until_ms;
    struct deadline pc_tick;
    bool pc_failed;
    bool pc_stopped;
    int pc_status; /* 0, or 2 after a write error */
};

static void probe_cmd_usage(FILE *f)
{
    fputs("usage: ssemon probe [-c FILE] [--repeat N] [--interval S] [--wait S] NAME...\n"
          "Runs the named probes of the configuration (default " CONFIG_DEFAULT_PATH ")\n"
          "now: opens the subscriptions they expect events on, waits until they stream,\n"
          "triggers, waits for the expected events and streams, and prints NDJSON: one\n"
          "line per expectation, the violations, one summary line per run.\n"
          "  -c, --config FILE   configuration file\n"
          "  --repeat N          run each probe N times (default 1)\n"
          "  --interval S        seconds between rounds of --repeat (default 0)\n"
          "  --wait S            how long a run waits for its subscriptions to stream\n"
          "                      before it is skipped (default 30)\n"
          "Exit status: 0 when every run succeeded, 1 when a run failed or was\n"
          "skipped, 2 for usage or configuration errors.\n",
          f);
}

static uint64_t probe_cmd_t(const struct probe_cmd *c)
{
    uint64_t now = clock_mono_ms();
    return now > c->pc_start_ms ? now - c->pc_start_ms : 0;
}

static void probe_cmd_write(struct probe_cmd *c)
{
    size_t len;
    const char *text = json_writer_text(&c->pc_out, &len);
    if (json_writer_failed(&c->pc_out) || text == NULL || fwrite(text, 1, len, stdout) != len ||
        fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        if (c->pc_status == 0)
            fprintf(stderr, "ssemon probe: cannot write the output: %s\n", strerror(errno));
        c->pc_status = 2;
        c->pc_stopped = true;
        event_base_loopbreak(c->pc_base);
    }
    json_writer_reset(&c->pc_out);
}

static void probe_cmd_violation_line(struct probe_cmd *c, const char *probe, const char *run_id,
                                     const char *subscription, const struct violation *v)
{
    struct json_writer *w = &c->pc_out;
    json_writer_object_begin(w);
    if (probe != NULL) {
        json_writer_key(w, "probe");
        json_writer_cstring(w, probe);
        json_writer_key(w, "run_id");
        json_writer_cstring(w, run_id);
    }
    json_writer_key(w, "subscription");
    json_writer_cstring(w, subscription);
    cli_violation_fields(w, v, probe_cmd_t(c));
    json_writer_object_end(w);
    probe_cmd_write(c);
}

/* A subscription's own violation (it says why a probe may be skipped). */
static void probe_cmd_on_sub_violation(void *ctx, struct monitor *m, const struct violation *v)
{
    probe_cmd_violation_line(ctx, NULL, NULL, monitor_name(m), v);
}

static void probe_cmd_on_run_violation(void *ctx, const char *probe, const char *run_id,
                                       const char *subscription, const struct violation *v)
{
    probe_cmd_violation_line(ctx, probe, run_id, subscription, v);
}

static void probe_cmd_on_event(void *ctx, struct monitor *m, uint64_t now_ms,
                               const struct validator_seen *s)
{
    struct probe_cmd *c = ctx;
    prober_event(c->pc_prober, monitor_name(m), now_ms, s);
}

static void probe_cmd_on_lifecycle(void *ctx, struct monitor *m, enum monitor_lifecycle what,
                                   uint64_t failures, const char *detail)
{
    struct probe_cmd *c = ctx;
    (void)m;
    (void)what;
    (void)failures;
    (void)detail;
    /* A subscription may have started streaming: look again soon. */
    if (c->pc_waiting)
        deadline_arm(&c->pc_tick, 0);
}

static struct monitor *probe_cmd_monitor(void *ctx, const char *name)
{
    struct probe_cmd *c = ctx;
    for (size_t i = 0; i < c->pc_n_mons; i++)
        if (strcmp(monitor_name(c->pc_mons[i]), name) == 0)
            return c->pc_mons[i];
    return NULL;
}

static void probe_cmd_on_run(void *ctx, const struct prober_run_report *r)
{
    struct probe_cmd *c = ctx;
    struct json_writer *w = &c->pc_out;
    for (size_t i = 0; i < r->prr_n_steps; i++) {
        const struct prober_step_report *s = &r->prr_steps[i];
        json_writer_object_begin(w);
        json_writer_key(w, "probe");
        json_writer_cstring(w, r->prr_probe);
        json_writer_key(w, "run_id");
        json_writer_cstring(w, r->prr_run_id);
        json_writer_key(w, "step");
        json_writer_uint(w, i + 1);
        json_writer_key(w, "subscription");
        json_writer_cstring(w, s->psr_subscription);
        json_writer_key(w, "event");
        json_writer_cstring(w, s->psr_event);
        json_writer_key(w, "result");
        json_writer_cstring(w, s->psr_result);
        json_writer_key(w, "delivery_ms");
        if (s->psr_delivery_ms == UINT64_MAX)
            json_writer_null(w);
        else
            json_writer_uint(w, s->psr_delivery_ms);
        json_writer_object_end(w);
        probe_cmd_write(c);
    }
    json_writer_object_begin(w);
    json_writer_key(w, "probe");
    json_writer_cstring(w, r->prr_probe);
    json_writer_key(w, "run_id");
    json_writer_cstring(w, r->prr_run_id);
    json_writer_key(w, "result");
    json_writer_cstring(w, r->prr_result);
    json_writer_key(w, "duration_ms");
    json_writer_uint(w, r->prr_duration_ms);
    json_writer_object_end(w);
    probe_cmd_write(c);
    if (strcmp(r->prr_result, "ok") != 0)
        c->pc_failed = true;
    c->pc_running = false;
    c->pc_next++;
    if (c->pc_stopped)
        return;
    if (c->pc_next >= c->pc_total) {
        event_base_loopbreak(c->pc_base);
        return;
    }
    /* A new round of --repeat waits --interval. */
    bool round = c->pc_next % c->pc_args->pa_n_names == 0;
    c->pc_waiting = true;
    c->pc_wait_until_ms = 0;
    deadline_arm(&c->pc_tick, round ? c->pc_args->pa_interval_ms : 0);
}

/* The run in turn: started once its subscriptions stream, or after --wait
 * (then the prober counts it as skipped). */
static void probe_cmd_on_tick(void *ctx)
{
    struct probe_cmd *c = ctx;
    if (!c->pc_waiting || c->pc_running || c->pc_stopped)
        return;
    const char *name = c->pc_args->pa_names[c->pc_next % c->pc_args->pa_n_names];
    uint64_t now = clock_mono_ms();
    if (c->pc_wait_until_ms == 0)
        c->pc_wait_until_ms = now + c->pc_args->pa_wait_ms;
    bool ready = prober_ready(c->pc_prober, name);
    if (!ready && now < c->pc_wait_until_ms) {
        /* Lifecycle changes wake the wait early; this bounds it. */
        uint64_t left = c->pc_wait_until_ms - now;
        deadline_arm(&c->pc_tick, left < 100 ? left : 100);
        return;
    }
    c->pc_waiting = false;
    c->pc_running = true;
    if (prober_run_now(c->pc_prober, name) != 0) {
        fprintf(stderr, "ssemon probe: %s: cannot start a run: %s\n", name, strerror(errno));
        c->pc_status = 2;
        event_base_loopbreak(c->pc_base);
    }
}

static void probe_cmd_on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct probe_cmd *c = arg;
    (void)sig;
    (void)what;
    c->pc_stopped = true;
    c->pc_failed = true;
    fputs("ssemon probe: interrupted\n", stderr);
    event_base_loopbreak(c->pc_base);
}

static int probe_cmd_parse(int argc, char **argv, struct probe_cmd_args *a, bool *help)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},   {"repeat", required_argument, NULL, 'r'},
        {"interval", required_argument, NULL, 'i'}, {"wait", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    a->pa_config = CONFIG_DEFAULT_PATH;
    a->pa_repeat = 1;
    a->pa_wait_ms = PROBE_CMD_WAIT_MS;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            a->pa_config = optarg;
            break;
        case 'r':
            if (!cli_count(optarg, 1, PROBE_CMD_MAX_REPEAT, &a->pa_repeat))
                return cli_usage_error("probe", "--repeat must be a count from 1 to %d",
                                       PROBE_CMD_MAX_REPEAT);
            break;
        case 'i':
            if (!cli_seconds(optarg, true, &a->pa_interval_ms))
                return cli_usage_error("probe", "--interval must be seconds (0 or more)");
            break;
        case 'w':
            if (!cli_seconds(optarg, true, &a->pa_wait_ms))
                return cli_usage_error("probe", "--wait must be seconds (0 or more)");
            break;
        case 'h':
            *help = true;
            return 0;
        case ':':
            return cli_usage_error("probe", "option '%s' needs an argument", argv[optind - 1]);
        default:
            return cli_usage_error("probe", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("probe", "name at least one probe");
    a->pa_names = argv + optind;
    a->pa_n_names = (size_t)(argc - optind);
    return 0;
}

/* Opens a monitor for every subscription the named probes expect events
 * on. Returns 0, or -1 after a message. */
static int probe_cmd_monitors(struct probe_cmd *c)
{
    size_t n = config_subscription_count(c->pc_config);
    c->pc_mons = calloc(n > 0 ? n : 1, sizeof(*c->pc_mons));
    if (c->pc_mons == NULL)
        return -1;
    static const struct monitor_callbacks cbs = {
        .mc_on_violation = probe_cmd_on_sub_violation,
        .mc_on_lifecycle = probe_cmd_on_lifecycle,
        .mc_on_event = probe_cmd_on_event,
    };
    for (size_t i = 0; i < n; i++) {
        const struct config_subscription *cs = config_subscription_at(c->pc_config, i);
        const char *name = config_subscription_name(cs);
        bool used = false;
        for (size_t k = 0; k < c->pc_args->pa_n_names && !used; k++) {
            const struct config_probe *p = config_probe_find(c->pc_config, c->pc_args->pa_names[k]);
            for (size_t e = 0; e < config_probe_expect_count(p) && !used; e++) {
                struct config_probe_expect_view ev;
                config_probe_expect_at(p, e, &ev);
                used = strcmp(ev.cev_subscription, name) == 0;
            }
        }
        if (!used)
            continue;
        struct monitor_options mo;
        monitor_setup_options(cs, &mo);
        struct monitor *m = monitor_new(c->pc_engine, c->pc_base, &mo, &cbs, c);
        if (m == NULL || monitor_start(m) != 0) {
            fprintf(stderr, "ssemon probe: %s: cannot start: %s\n", name, strerror(errno));
            monitor_free(m);
            return -1;
        }
        c->pc_mons[c->pc_n_mons++] = m;
    }
    return 0;
}

static int probe_cmd_loop(struct probe_cmd *c)
{
    struct event *sigs[2] = {evsignal_new(c->pc_base, SIGINT, probe_cmd_on_signal, c),
                             evsignal_new(c->pc_base, SIGTERM, probe_cmd_on_signal, c)};
    int rc = 2;
    if (sigs[0] == NULL || sigs[1] == NULL || event_add(sigs[0], NULL) != 0 ||
        event_add(sigs[1], NULL) != 0 ||
        deadline_init(&c->pc_tick, c->pc_base, probe_cmd_on_tick, c) != 0) {
        fputs("ssemon probe: cannot set up the event loop\n", stderr);
        goto out;
    }
    const struct prober_host ph = {
        .ph_base = c->pc_base,
        .ph_engine = c->pc_engine,
        .ph_monitor = probe_cmd_monitor,
        .ph_on_violation = probe_cmd_on_run_violation,
        .ph_on_run = probe_cmd_on_run,
        .ph_ctx = c,
        .ph_scheduled = false,
    };
    size_t kept, started;
    c->pc_prober = prober_new(&ph);
    if (c->pc_prober == NULL || prober_apply(c->pc_prober, c->pc_config, &kept, &started) != 0 ||
        probe_cmd_monitors(c) != 0) {
        fputs("ssemon probe: cannot set up the probes\n", stderr);
        goto out;
    }
    c->pc_waiting = true;
    deadline_arm(&c->pc_tick, 0);
    event_base_dispatch(c->pc_base);
    rc = c->pc_status != 0 ? c->pc_status : c->pc_failed ? 1 : 0;
out:
    cli_hold_stop_signals();
    prober_free(c->pc_prober);
    for (size_t i = 0; i < c->pc_n_mons; i++) {
        monitor_stop(c->pc_mons[i]);
        monitor_free(c->pc_mons[i]);
    }
    free(c->pc_mons);
    deadline_release(&c->pc_tick);
    for (int i = 0; i < 2; i++)
        if (sigs[i] != NULL)
            event_free(sigs[i]);
    return rc;
}

int cmd_probe(int argc, char **argv)
{
    struct probe_cmd_args a;
    memset(&a, 0, sizeof(a));
    bool help = false;
    int rc = probe_cmd_parse(argc, argv, &a, &help);
    if (rc != 0)
        return rc;
    if (help) {
        probe_cmd_usage(stdout);
        return 0;
    }
    struct diag_list errs;
    struct config *cfg = config_load(a.pa_config, &errs);
    if (cfg == NULL) {
        for (size_t i = 0; i < errs.dl_n; i++)
            fprintf(stderr, "%s\n", errs.dl_items[i].dg_text);
        if (errs.dl_oom)
            fprintf(stderr, "ssemon probe: out of memory while loading %s\n", a.pa_config);
        diag_list_free(&errs);
        return 2;
    }
    diag_list_free(&errs);
    for (size_t i = 0; i < a.pa_n_names; i++)
        if (config_probe_find(cfg, a.pa_names[i]) == NULL) {
            size_t n = config_probe_count(cfg);
            fprintf(stderr, "ssemon probe: %s has no probe named '%s'%s", a.pa_config,
                    a.pa_names[i], n > 0 ? "; its probes:" : " (it has no probes)");
            for (size_t k = 0; k < n; k++)
                fprintf(stderr, " %s", config_probe_name(config_probe_at(cfg, k)));
            fputc('\n', stderr);
            config_unref(cfg);
            return 2;
        }
    signal(SIGPIPE, SIG_IGN);
    struct probe_cmd c;
    memset(&c, 0, sizeof(c));
    c.pc_config = cfg;
    c.pc_args = &a;
    c.pc_total = a.pa_n_names * (size_t)a.pa_repeat;
    c.pc_start_ms = clock_mono_ms();
    json_writer_init(&c.pc_out);
    c.pc_base = event_base_new();
    if (c.pc_base != NULL && event_base_priority_init(c.pc_base, 2) == 0)
        c.pc_engine = sub_engine_new(c.pc_base);
    if (c.pc_engine == NULL) {
        fputs("ssemon probe: cannot create the event loop\n", stderr);
        rc = 2;
    } else {
        rc = probe_cmd_loop(&c);
    }
    sub_engine_free(c.pc_engine);
    if (c.pc_base != NULL)
        event_base_free(c.pc_base);
    json_writer_free(&c.pc_out);
    config_unref(cfg);
    return rc;
}
