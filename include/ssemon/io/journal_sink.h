/*
 * journal_sink: where the daemon's records go. Each violation becomes one
 * structured journald entry (sd_journal_sendv) with MESSAGE, PRIORITY,
 * MESSAGE_ID and the SSEMON_* fields; connection lifecycle and daemon
 * entries have ids of their own (journal_ids.h). Where journald is not
 * there (or stderr is asked for), the same records go to stderr as one JSON
 * object per line, with the same field names as keys. Adapter.
 *
 * Flood control: at most `burst` violation entries per subscription and
 * class per interval, then one "suppressed K" summary entry when the window
 * is over (journal_sink_flush, from a periodic timer, or the next entry).
 * Counters elsewhere still count everything.
 */
#ifndef SSEMON_JOURNAL_SINK_H
#define SSEMON_JOURNAL_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ssemon/io/monitor.h"
#include "ssemon/core/ratelimit.h"
#include "ssemon/core/violation.h"

#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"

enum journal_target {
    JOURNAL_TARGET_AUTO = 0, /* journald when its socket exists, else stderr */
    JOURNAL_TARGET_JOURNAL,
    JOURNAL_TARGET_STDERR,
};

struct journal_sink_options {
    enum journal_target jso_target;
    unsigned jso_burst;       /* default 10 */
    uint64_t jso_interval_ms; /* default 60000 */
    FILE *jso_stream;         /* stderr target's stream; default stderr */
};

/* Who an entry is about. Strings must already be safe to log (the URL
 * redacted). */
struct journal_subject {
    const char *js_subscription;
    const char *js_contract;
    const char *js_url;
};

/* Flood-control state of one subscription; owned by the caller. */
struct journal_rates {
    struct ratelimit jr_class[VIOLATION_CLASS_COUNT];
    bool jr_pending; /* some class has suppressed entries not yet summarised */
};

struct journal_sink;

struct journal_sink *journal_sink_new(const struct journal_sink_options *o);
void journal_sink_free(struct journal_sink *s);
bool journal_sink_is_journal(const struct journal_sink *s);

void journal_sink_violation(struct journal_sink *s, struct journal_rates *rates,
                            const struct journal_subject *subj, const struct violation *v,
                            uint64_t now_mono_ms);
void journal_sink_lifecycle(struct journal_sink *s, const struct journal_subject *subj,
                            enum monitor_lifecycle what, uint64_t failures, const char *detail);
/* A daemon-level entry (started, stopping, reloaded, reload refused). */
void journal_sink_daemon(struct journal_sink *s, const char *message_id, int priority,
                         const char *message);
/* A new flood-control budget (a reload): windows already open keep their
 * start and run to the new interval; `burst` 0 or `interval_ms` 0 keep
 * the current value. */
void journal_sink_set_rate(struct journal_sink *s, unsigned burst, uint64_t interval_ms);
/* Writes the summaries of windows that are over. */
void journal_sink_flush(struct journal_sink *s, struct journal_rates *rates,
                        const struct journal_subject *subj, uint64_t now_mono_ms);

#endif
