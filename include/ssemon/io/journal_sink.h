/*
 * journal_sink: what the daemon's records say. Each violation becomes one
 * structured entry with MESSAGE, PRIORITY, MESSAGE_ID and the SSEMON_*
 * fields; connection lifecycle and daemon entries have ids of their own
 * (journal_ids.h). The entries go through a journal_writer: to journald
 * without ever making the loop wait, or to stderr as one JSON object per
 * line with the same field names as keys (the target, or while journald
 * is unreachable), every one accounted for. When journald becomes
 * unreachable the sink says so on stderr, and when it is back it writes
 * one entry saying how long it was away and what became of the records
 * meanwhile. Adapter.
 *
 * Flood control, per subscription (per probe for a probe's entries: the
 * caller keeps one journal_rates for each): at most `burst` violation
 * entries per class, and at most `burst` "stream lost" and `burst`
 * "recovered" entries, per interval; then one "suppressed K" summary entry
 * when the window is over (journal_sink_flush, from a periodic timer, or
 * the next entry). Counters elsewhere still count everything.
 *
 * Ownership: the sink owns its writer; journal_sink_stats points into it.
 * The subject's strings and the rates are the caller's.
 */
#ifndef SSEMON_JOURNAL_SINK_H
#define SSEMON_JOURNAL_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "ssemon/core/ratelimit.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/journal_writer.h"
#include "ssemon/io/monitor.h"

struct event_base;

struct journal_sink_options {
    /* journal_writer_options_init, then the target and anything else;
     * its jwo_on_change is the sink's own (see jso_on_change). */
    struct journal_writer_options jso_writer;
    unsigned jso_burst;       /* default 10 */
    uint64_t jso_interval_ms; /* default 60000 */
    /* Called from the loop after journald became unreachable or reachable
     * again, once the sink has written its entry about it. */
    void (*jso_on_change)(void *ctx, const struct journal_stats *st);
    void *jso_ctx;
};

/* Who an entry is about. Strings must already be safe to log (the URL
 * redacted). NULL members are absent from the entry. A probe run's entries
 * set js_probe and js_run_id (SSEMON_PROBE, SSEMON_RUN_ID) and name the
 * subscription the step waited on, or none for a trigger failure; their
 * MESSAGE starts with "probe NAME" (and ", SUBSCRIPTION" when there is one)
 * instead of the subscription. Lifecycle entries need js_subscription. */
struct journal_subject {
    const char *js_subscription;
    const char *js_contract;
    const char *js_url;
    const char *js_probe;  /* the probe's name, or NULL */
    const char *js_run_id; /* the probe run's id, or NULL */
};

/* The lifecycle entries under flood control ("connected" comes once). */
#define JOURNAL_LIFECYCLE_LIMITED 2 /* MONITOR_LOST, MONITOR_RECOVERED */

/* Flood-control state of one subscription; owned by the caller. */
struct journal_rates {
    struct ratelimit jr_class[VIOLATION_CLASS_COUNT];
    struct ratelimit jr_lifecycle[JOURNAL_LIFECYCLE_LIMITED];
    bool jr_pending; /* some window has suppressed entries not yet summarised */
};

struct journal_sink;

/* Returns NULL on allocation failure. `base` must outlive the sink. */
struct journal_sink *journal_sink_new(struct event_base *base,
                                      const struct journal_sink_options *o);
/* At exit: gives what is queued at most `budget_ms` to be written. */
void journal_sink_close(struct journal_sink *s, uint64_t budget_ms);
void journal_sink_free(struct journal_sink *s);
const struct journal_stats *journal_sink_stats(const struct journal_sink *s);

void journal_sink_violation(struct journal_sink *s, struct journal_rates *rates,
                            const struct journal_subject *subj, const struct violation *v,
                            uint64_t now_mono_ms);
/* journal_sink_violation; when the entry passes flood control and
 * `evidence` is not NULL, evidence(ctx, path, size) is called first: true
 * with a path in `path` adds SSEMON_EVIDENCE=path to the entry (evidence
 * files share the journal's flood control). Returns whether the entry
 * passed. */
bool journal_sink_violation_ev(struct journal_sink *s, struct journal_rates *rates,
                               const struct journal_subject *subj, const struct violation *v,
                               uint64_t now_mono_ms,
                               bool (*evidence)(void *ctx, char *path, size_t size), void *ctx);
void journal_sink_lifecycle(struct journal_sink *s, struct journal_rates *rates,
                            const struct journal_subject *subj, enum monitor_lifecycle what,
                            uint64_t failures, const char *detail, uint64_t now_mono_ms);
/* A daemon-level entry (started, stopping, reloaded, reload refused). */
void journal_sink_daemon(struct journal_sink *s, const char *message_id, int priority,
                         const char *message);
/* A diagnostic line for stderr only (not an entry), queued with the
 * records so it never makes the loop wait either. */
void journal_sink_text(struct journal_sink *s, const char *line);
/* A new flood-control budget (a reload): windows already open keep their
 * start and run to the new interval; `burst` 0 or `interval_ms` 0 keep
 * the current value. */
void journal_sink_set_rate(struct journal_sink *s, unsigned burst, uint64_t interval_ms);
/* Writes the summaries of windows that are over. */
void journal_sink_flush(struct journal_sink *s, struct journal_rates *rates,
                        const struct journal_subject *subj, uint64_t now_mono_ms);

#endif
