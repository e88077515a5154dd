/*
 * judge: one validator fed by a stream, live or replayed, together with the
 * clock its time rules need. Io-layer module: what every judgement of a
 * stream does around the validator, whoever feeds it (`ssemon check` on a
 * URL, a file or a recording; the daemon's monitor; a probe feeding several
 * judges the same events):
 *
 *  - a connection's stream opens with its status and response headers, taken
 *    as the transport (sub_header) or a recording (recording_field) gives
 *    them and converted here, the one place, to the validator's C strings;
 *  - parser output is passed on at the time the caller gives; a stream
 *    without a transport (a file, a recording) is handed over as raw bytes
 *    and parsed by the judge's own parser, which, like a transport's, lives
 *    across connections (the last event ID persists);
 *  - the validator's next deadline is kept: live, on the judge's own timer
 *    on an event base, re-armed after every call, whose tick reads the
 *    clock; replayed (no base), by judge_advance, which fires each deadline
 *    at its own virtual time;
 *  - a connection's end is classified and judged: one that never reached
 *    its stream is reported by its own class, the end of a stream is judged
 *    unless the caller stopped it, and the outcome is returned;
 *  - it notes when the current stream first reached a final state of the
 *    contract (after which a server should end it).
 *
 * Time: monotonic milliseconds, passed in on every call; the judge reads
 * its clock only when its own timer fires. A loop stall is never charged
 * to the stream: when the timer fires more than 100 ms later than due, the
 * loop was held (a reload, a stopped process) and could not read the
 * stream, so that time is not observed time (validator_pause), and the
 * judgement waits until the loop has read the bytes that were ready
 * meanwhile (a silent stream is still reported then, its deadline moved by
 * the stall).
 *
 * Ownership: the judge owns its validator, its timer and its parser. The contract and
 * the event base are borrowed and must outlive the judge; options,
 * variables and callbacks are copied by judge_new. Headers, events, texts
 * and closed infos passed in are read during the call only. A violation's
 * strings are valid only during jc_on_violation.
 *
 * Re-entrancy: jc_on_violation runs inside the validator and must not call
 * back into the judge. jc_on_timer_error may call judge_close, judge_tick
 * and judge_disarm (a caller may stop its stream there), never judge_free.
 */
#ifndef SSEMON_IO_JUDGE_H
#define SSEMON_IO_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/contract.h"
#include "ssemon/core/recording.h"
#include "ssemon/core/sse_parser.h"
#include "ssemon/core/validator.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/subscription.h"

struct event_base;
struct judge;

struct judge_options {
    const struct contract *jo_contract; /* borrowed */
    /* vo_vars read by judge_new only; vo_on_seen (with vo_seen_ctx) is
     * called from inside judge_event / judge_feed, and must not call back
     * into the judge. */
    struct validator_options jo_val;
    /* Live: the base the judge's timer runs on (borrowed); its deadlines
     * are judged before sockets that became ready in the same loop turn
     * when the base has priorities. NULL: no timer, the caller advances
     * virtual time with judge_advance. */
    struct event_base *jo_base;
    /* The clock the timer's tick reads (monotonic ms); NULL: clock_mono_ms. */
    uint64_t (*jo_clock)(void);
};

struct judge_callbacks {
    void (*jc_on_violation)(void *ctx, const struct violation *v);
    /* Live: the timer could not be armed, so a time rule may be judged late
     * (at the next call). NULL: ignored. */
    void (*jc_on_timer_error)(void *ctx);
};

/* How a connection ended, as judge_close judged it. */
enum judge_end {
    JUDGE_END_STOPPED = 0, /* stopped by the caller: the stream's end is not judged */
    JUDGE_END_UNOPENED, /* failed before its stream: connect_failed, http_status or content_type */
    JUDGE_END_FINAL,    /* a clean end of stream in a final state of the contract */
    JUDGE_END_LOST,     /* any other end of a stream (validator_end judged it) */
};

/* Returns NULL on allocation failure (errno set). */
struct judge *judge_new(const struct judge_options *o, const struct judge_callbacks *cb, void *ctx);
/* NULL is ignored. */
void judge_free(struct judge *j);

/* A connection's stream opened: status (clamped to INT_MAX) and headers
 * checked, a new lifecycle started. Returns 0, or -1 when out of memory for
 * the headers' copy, and then nothing was judged (n == 0 never fails). */
int judge_open(struct judge *j, uint64_t now_ms, long status, const struct sub_header *h, size_t n);
/* The same with a recording's decoded fields (NUL-terminated). */
int judge_open_recorded(struct judge *j, uint64_t now_ms, long status,
                        const struct recording_field *f, size_t n);
/* A stream without an HTTP response (raw stream bytes): a lifecycle
 * starts, header rules are not judged. */
void judge_begin(struct judge *j, uint64_t now_ms);

/* Raw bytes of a stream the judge parses itself: what they hold is judged
 * at `now_ms`. Returns 0, or -1 when out of memory (the parser then
 * restarts at the start of a stream). */
int judge_feed(struct judge *j, uint64_t now_ms, const void *buf, size_t len);

/* Parser output, with the sse_parser meaning (a transport's parser). */
void judge_event(struct judge *j, uint64_t now_ms, const struct sse_event *ev);
void judge_comment(struct judge *j, uint64_t now_ms, const char *text, size_t len);
void judge_anomaly(struct judge *j, uint64_t now_ms, enum sse_anomaly kind, const char *line,
                   size_t len);

/* The time rules at `now_ms`, off the timer's schedule (a signal or a time
 * limit stops a check). */
void judge_tick(struct judge *j, uint64_t now_ms);
/* Replay: fires every deadline up to `until_ms` at its own time, as a live
 * timer would have. */
void judge_advance(struct judge *j, uint64_t until_ms);
/* Live: cancels the timer until the next call (the caller stops judging). */
void judge_disarm(struct judge *j);

/* Replaces the values of the validator's variables (validator_set_vars):
 * for the next stream, so call it between connections. Returns 0, or -1
 * (out of memory; the old values stay). */
int judge_set_vars(struct judge *j, const struct validator_var *vars, size_t n);

/* A connection attempt that could not even start (its request could not
 * be made): reported as connect_failed with `message`, alone. */
void judge_connect_failed(struct judge *j, uint64_t now_ms, const char *message);

/* The connection ended. Before its stream: reported by its class and the
 * transport's wording, or, when the caller stopped it, with `stop_message`
 * as connect_failed (NULL: not reported). An open stream: bytes fed but not
 * yet a whole event are dropped, as a browser does, and its end is judged by
 * validator_end, unless stopped. Either way the connection is over. */
enum judge_end judge_close(struct judge *j, uint64_t now_ms, const struct sub_closed_info *info,
                           const char *stop_message);
/* The closed connection's error text, or its reason's name when it has
 * none: what a lost stream is reported with. Points into `info` or to a
 * static string. */
const char *judge_close_detail(const struct sub_closed_info *info);

/* A stream is open (between judge_open or judge_begin and judge_close). */
bool judge_is_open(const struct judge *j);
/* Whether the open stream has reached a final state; if so, *at_ms (when
 * not NULL) is the time of the call that first found it there. */
bool judge_final_reached(const struct judge *j, uint64_t *at_ms);
/* For stats and state displays. */
const struct validator *judge_validator(const struct judge *j);

#endif
