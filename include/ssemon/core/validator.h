/*
 * validator: judges one subscription's stream against a contract, event by
 * event and millisecond by millisecond. Pure core module: it is fed parser
 * output, connection facts and the time (a monotonic clock in ms, passed
 * in), and reports violations through a callback. It never reads a clock,
 * never sleeps and never does I/O; an adapter arms a timer at
 * validator_next_deadline() and calls validator_tick() when it fires, so a
 * silent stream is reported while it is silent.
 *
 * One fault, one violation: after a violation the validator resynchronises,
 * so one missing or extra event never cascades.
 *
 * State is O(1) in the stream's length. Steady state allocates nothing per
 * event. The report callback must not call back into the validator; the
 * strings of a violation are valid only during the callback.
 *
 * Time: every entry point first applies the time rules up to its `now_ms`,
 * exactly as validator_tick(now_ms) would, so replaying a recording without
 * timers finds the same violations. A time-rule violation carries the
 * `now_ms` of the call that found it. A deadline is the first millisecond at
 * which its rule is broken: a first event exactly first_event_ms after the
 * headers, or a heartbeat gap of exactly interval x tolerance, is in time.
 * A state with "within_ms" (contract.h) must be left within that many ms of
 * entering it (a transition from another state, or the lifecycle's start
 * for the initial state; a transition back to the same state is no new
 * entry), else one order violation per entry with v_event NULL:
 * "still in state "S" N ms after entering it (expected: ...)".
 * Time the caller could not observe the stream (validator_pause) does not
 * count towards any rule.
 *
 * Reports: v_event is the event kind (the variant, when there is one, is in
 * the message: "event task_event/task_completed not allowed in state ...");
 * v_state is the order state before the event; v_excerpt is the start of the
 * event's data (or the header value, or the anomalous line), at most
 * VIOLATION_EXCERPT_MAX bytes of valid UTF-8, with U+0000 and invalid bytes
 * shown as U+FFFD.
 */
#ifndef SSEMON_VALIDATOR_H
#define SSEMON_VALIDATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/contract.h"
#include "ssemon/core/sse_parser.h"
#include "ssemon/core/violation.h"
#include "ssemon/json/json_tape.h"

#define VALIDATOR_NO_DEADLINE UINT64_MAX

struct validator_var {
    const char *vv_name;
    const char *vv_value;
};

/* An event of a kind the contract declares, as the validator classified
 * it (see vo_on_seen). */
struct validator_seen {
    const char *vsn_kind;    /* the contract's event name (after the envelope, if any) */
    const char *vsn_variant; /* the discriminator's variant name when one matched, else NULL */
    /* The parsed payload (after the envelope), or NULL when the kind's data
     * is text or the data did not parse (or the envelope had no payload). */
    const struct json_tape *vsn_tape;
    size_t vsn_payload;              /* node in vsn_tape, or JSON_TAPE_NONE */
    const struct sse_event *vsn_sse; /* the raw event */
    bool vsn_valid;                  /* no violation was reported for this event */
};
typedef void (*validator_seen_fn)(void *ctx, uint64_t now_ms, const struct validator_seen *s);

struct validator_options {
    const struct validator_var *vo_vars; /* copied */
    size_t vo_n_vars;
    uint64_t vo_hb_interval_ms; /* 0: the contract's */
    double vo_hb_tolerance;     /* 0: the contract's */
    bool vo_lenient;            /* sse_syntax and unknown_event become warnings */
    bool vo_timing;             /* false: no time-based rules (plain files) */
    /* NULL: none. Called once per event of a known kind (unknown kinds are
     * not observed), after it was judged (its violations reported), with
     * the same now_ms; pointers valid during the call only; must not call
     * back into the validator. */
    validator_seen_fn vo_on_seen;
    void *vo_seen_ctx;
};
/* An options pointer of NULL means: strict, timing on, the contract's
 * liveness, no variables. vo_hb_interval_ms also enables the liveness rule
 * for a contract that declares none. */

typedef void (*validator_report_fn)(void *ctx, const struct violation *v);

struct validator_header {
    const char *vh_name;
    const char *vh_value;
};

/* Counters and facts for status displays. */
struct validator_stats {
    uint64_t vs_events;
    uint64_t vs_heartbeats;
    uint64_t vs_violations[VIOLATION_CLASS_COUNT];
    uint64_t vs_last_event_ms;          /* 0: none yet */
    uint64_t vs_last_heartbeat_ms;      /* 0: none yet */
    uint64_t vs_first_event_latency_ms; /* of the current lifecycle; UINT64_MAX: none */
    uint64_t vs_last_heartbeat_gap_ms;  /* gap closed by the latest heartbeat */
    uint64_t vs_hb_limit_ms;            /* heartbeat interval x tolerance; 0: no rule */
    uint64_t vs_unobserved_ms;          /* paused time in all (validator_pause) */
};

struct validator;

/* `c` must outlive the validator. Returns NULL on allocation failure. */
struct validator *validator_new(const struct contract *c, const struct validator_options *opts,
                                validator_report_fn report, void *ctx);
void validator_free(struct validator *v);

/* Replaces the values of the variables (names not bound before are added;
 * of two entries with one name, the later wins; NULL names or values are
 * skipped): for the next connection of a subscription whose variables
 * change per attempt. Rules that compare a payload with a variable use the
 * new values from the next event on. Returns 0, or -1 (ENOMEM; then the old
 * values stay). */
int validator_set_vars(struct validator *v, const struct validator_var *vars, size_t n);

/* A connection could not deliver a stream: `cls` is VIOLATION_CONNECT_FAILED,
 * VIOLATION_HTTP_STATUS or VIOLATION_CONTENT_TYPE; reported alone (never a
 * stream_ended on top). */
void validator_connect_failed(struct validator *v, uint64_t now_ms, enum violation_class cls,
                              const char *message);

/* Response headers are in: checks status and header rules and starts a new
 * lifecycle (initial state, first-event deadline). A status other than the
 * contract's is reported as http_status alone and starts no lifecycle (there
 * is no stream to judge). Header names compare case-insensitively, values
 * exactly after trimming spaces and tabs; the first header of a name is the
 * one judged. An open while a lifecycle is open starts a new one without
 * judging the old one's end (call validator_end first). */
void validator_open(struct validator *v, uint64_t now_ms, int status,
                    const struct validator_header *headers, size_t n_headers);

/* Starts a lifecycle without response checks, for sources that have no
 * HTTP response (a file of raw stream bytes). An event arriving outside any
 * lifecycle starts one this way, at its own time. */
void validator_begin(struct validator *v, uint64_t now_ms);

/* Parser output, passed on as it comes. A comment counts only as a
 * heartbeat, where the contract declares comment heartbeats. An anomaly is
 * sse_syntax (warning when lenient) or, for the size limits, line_too_long;
 * a line without a colon is reported once, although the parser also calls
 * its name an unknown field. */
void validator_event(struct validator *v, uint64_t now_ms, const struct sse_event *ev);
void validator_comment(struct validator *v, uint64_t now_ms, const char *text, size_t len);
void validator_anomaly(struct validator *v, uint64_t now_ms, enum sse_anomaly kind,
                       const char *line, size_t len);

/* The stream ended: `error` NULL for a clean end of stream, else the
 * transport error text. A stream ending outside a final state (or any end,
 * for a contract without order rules) is stream_ended, at most once per
 * lifecycle; nothing when no lifecycle is open. The state is kept until the
 * next open. */
void validator_end(struct validator *v, uint64_t now_ms, const char *error);

/* Checks the time rules at `now_ms`. */
void validator_tick(struct validator *v, uint64_t now_ms);
/* The caller could not observe the stream from `from_ms` to `to_ms` (its
 * `now`): an event loop held by other work, whose timer fired that late,
 * while the stream's bytes waited in its socket. That time is not charged
 * to the stream: the heartbeat window, the first-event wait, the
 * lifecycle and the current state's deadline each run on as if the clock
 * had stopped for the part of the pause that falls inside them, so their
 * deadlines move later by it, and the heartbeat gap and first-event
 * latency reported afterwards leave it out. Nothing is judged; the next
 * call judges at its own time. */
void validator_pause(struct validator *v, uint64_t from_ms, uint64_t to_ms);
/* The next time validator_tick has something to check, or
 * VALIDATOR_NO_DEADLINE. */
uint64_t validator_next_deadline(const struct validator *v);

const char *validator_state(const struct validator *v); /* NULL: no order rules */
bool validator_in_final_state(const struct validator *v);
const struct validator_stats *validator_stats(const struct validator *v);

#endif
