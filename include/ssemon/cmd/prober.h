/*
 * prober: the probes of a configuration run on the event loop. Cmd-layer
 * module shared by `ssemon run` (probes on their schedule) and `ssemon
 * probe` (named probes, run on demand): it reads the probe definitions of
 * the configuration (config_probe), and for each run
 *
 *  - skips the run when a subscription it expects events on is not
 *    streaming (the subscription's own violations say why);
 *  - expands the trigger's templates (captures, run_id, instance,
 *    subscriptions.NAME.VAR read from the running monitors) and sends it
 *    with io/http_request on the same loop;
 *  - hands every event the expected subscriptions receive from the moment
 *    the trigger started to a core/probe run (events that arrive before the
 *    trigger's response are kept, bounded, and matched once the captures
 *    are known);
 *  - opens the probe's streams after the trigger's response, each judged
 *    by its contract (io/judge), and waits for their final state;
 *  - turns the outcome into violations (probe_failed, probe_timeout,
 *    probe_order, lifecycle_timeout and the streams' own classes), counters,
 *    histograms and the last run, which the status endpoint shows.
 *
 * Time: monotonic ms from clock_mono_ms (event receive times are the
 * monitors'). Randomness (run ids, schedule jitter) from base/uuid.
 *
 * Ownership: the prober holds a reference to the configuration it was
 * applied with; the host's base, engine and monitors are borrowed.
 */
#ifndef SSEMON_CMD_PROBER_H
#define SSEMON_CMD_PROBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/config/config.h"
#include "ssemon/core/validator.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/monitor.h"
#include "ssemon/io/status_render.h"

struct event_base;
struct sub_engine;
struct prober;

/* One expectation or stream of a finished run, for reports. */
struct prober_step_report {
    const char *psr_subscription; /* a subscription name, or "stream/N" */
    const char *psr_event;        /* "kind[:variant]", or "final" for a stream */
    const char *psr_result;       /* "ok", "timeout", "order", "abandoned", "failed" */
    uint64_t psr_delivery_ms;     /* UINT64_MAX: none */
};

/* A finished run (ok, failed or skipped). Valid during the callback. */
struct prober_run_report {
    const char *prr_probe;
    const char *prr_run_id;
    const char *prr_result; /* "ok", "failed", "skipped" */
    uint64_t prr_duration_ms;
    const struct prober_step_report *prr_steps;
    size_t prr_n_steps;
};

struct prober_host {
    struct event_base *ph_base;
    struct sub_engine *ph_engine;
    /* The running monitor of a subscription, or NULL. */
    struct monitor *(*ph_monitor)(void *ctx, const char *subscription);
    /* A violation of a run, after the prober counted it. `subscription` is
     * the one a step waited on ("stream/N" for a probe stream), NULL for a
     * trigger failure. */
    void (*ph_on_violation)(void *ctx, const char *probe, const char *run_id,
                            const char *subscription, const struct violation *v);
    /* A run finished; NULL: none. */
    void (*ph_on_run)(void *ctx, const struct prober_run_report *r);
    void *ph_ctx;
    /* true: every probe runs on its schedule (every_s with jitter); false:
     * only prober_run_now starts runs. */
    bool ph_scheduled;
};

/* Returns NULL when out of memory. */
struct prober *prober_new(const struct prober_host *h);
/* Stops every run (nothing more is reported) and frees. NULL ignored. */
void prober_free(struct prober *p);

/* Takes the probes of `cfg`: a probe whose definition is unchanged keeps
 * its schedule, counters and any run in progress; changed and new probes
 * start afresh (first run after a jittered delay of up to one interval, at
 * most 10 s); removed ones stop. Returns 0, or -1 when out of memory
 * (nothing changed then). *kept and *started count probes. */
int prober_apply(struct prober *p, struct config *cfg, size_t *kept, size_t *started);

/* An event a monitor received (mc_on_event). */
void prober_event(struct prober *p, const char *subscription, uint64_t now_ms,
                  const struct validator_seen *s);

/* Starts a run of probe `name` now (ssemon probe). Returns 0, -1 with errno
 * ENOENT (no such probe), EBUSY (a run is in progress) or ENOMEM. */
int prober_run_now(struct prober *p, const char *name);

/* Runs in progress. */
size_t prober_busy(const struct prober *p);

/* Whether every expect subscription of probe `name` is streaming and its
 * current stream has delivered an event (a gateway's ready): what a run
 * needs, else it is skipped. */
bool prober_ready(const struct prober *p, const char *name);

/* Names the evidence file (a file name, not a path) of probe `probe`'s
 * last failure (its view's sp_last_failure_evidence): the host calls it
 * from ph_on_violation, which is handed the failure just recorded. An
 * unknown probe, or one without a failure, is ignored. */
void prober_failure_evidence(struct prober *p, const char *probe, const char *name);

/* The probes as the status endpoint shows them, valid until the next call
 * into the prober. */
size_t prober_view(struct prober *p, const struct status_probe **out);

#endif
