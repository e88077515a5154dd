/*
 * probe: one run of a synthetic transaction, as a pure state machine. A
 * probe causes events with a trigger request, then expects them on its
 * subscriptions, in order, each within a deadline measured from the moment
 * the trigger request started. The io layer feeds a run the events it
 * receives and the passing time, and turns the settled steps into
 * violations (probe_timeout, probe_order), metrics and status. Pure core
 * module: no I/O, no clock, no global state; time is monotonic ms passed
 * in, randomness is passed in.
 *
 * Deadlines are inclusive: an event received at started_ms + within_ms
 * still meets its step; a step times out once now_ms passes that moment
 * (probe_run_next_deadline is the first moment a tick times a step out).
 * The answer does not depend on whether the io layer delivers the event or
 * ticks first at a given moment: an event first times out every step whose
 * deadline it is past, then is matched.
 *
 * Also here: captures from the trigger's response, the scheduling of the
 * next run (jitter from a caller's random value) and a fixed-size window
 * of delivery times with nearest-rank quantiles for `ssemon status`.
 */
#ifndef SSEMON_CORE_PROBE_H
#define SSEMON_CORE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/json/json_tape.h"

#define PROBE_MAX_STEPS 32   /* expectations per probe */
#define PROBE_MAX_MATCH 16   /* match entries per expectation */
#define PROBE_VALUE_MAX 1024 /* bytes of an expected value */

/* One `match` entry of an expectation. */
struct probe_match {
    const char *pm_pointer; /* RFC 6901 JSON pointer into the payload */
    const char *pm_value;   /* the expected value, expanded */
    /* true: pm_value is JSON text of a number/bool/null compared as JSON
     * (1 == 1.0); false: the payload value must be a JSON string equal to
     * pm_value */
    bool pm_literal_json;
};

/* One expectation, as the caller configured it (all borrowed; the run
 * copies what it keeps). */
struct probe_step_def {
    size_t psd_subscription; /* caller's index of the subscription the event must arrive on */
    const char *psd_kind;    /* contract event name */
    const char *psd_variant; /* NULL: any variant */
    const struct probe_match *psd_match;
    size_t psd_n_match;
    uint64_t psd_within_ms; /* measured from the run's start */
};

enum probe_step_state {
    PROBE_STEP_PENDING = 0,
    PROBE_STEP_MET,       /* matched in order */
    PROBE_STEP_EARLY,     /* matched while an earlier step was still pending: an order failure */
    PROBE_STEP_TIMEOUT,   /* within_ms passed unmet */
    PROBE_STEP_ABANDONED, /* the run was aborted (trigger failed) before it was met */
};

/* "pending", "ok", "order", "timeout", "abandoned"; NULL for an unknown
 * value. The names /status and `ssemon probe` print. */
const char *probe_step_state_name(enum probe_step_state s);

enum probe_outcome { PROBE_OUTCOME_RUNNING = 0, PROBE_OUTCOME_OK, PROBE_OUTCOME_FAILED };

struct probe_run;

/* A run started at started_ms (the moment the trigger request started).
 * Copies defs, strings included: the caller may free them at once. Returns
 * NULL with errno ENOMEM, or EINVAL for defs it refuses: n >
 * PROBE_MAX_STEPS, defs NULL with n > 0, a kind NULL or empty, more than
 * PROBE_MAX_MATCH matches, a pointer or value NULL, a malformed pointer, a
 * value longer than PROBE_VALUE_MAX bytes, or a literal that is not the JSON
 * text of a number, true, false or null. n may be 0 (a probe with streams
 * only): such a run is OK at once unless aborted. Free with probe_run_free. */
struct probe_run *probe_run_new(const struct probe_step_def *defs, size_t n, uint64_t started_ms);

/* Frees the run; NULL is fine. */
void probe_run_free(struct probe_run *r);

/* An event received at now_ms on subscription `sub`: kind, variant (NULL:
 * none), payload (t may be NULL / node JSON_TAPE_NONE for text events). The
 * pending steps whose deadline now_ms is past time out first. Then the
 * event is matched against the pending steps of that subscription: the
 * first (in order) whose kind, variant and every match hold is settled, MET
 * when no earlier step of the run (on any subscription) is still pending,
 * else EARLY (an order failure; the earlier step stays pending and can
 * still be met). An event that matches no pending step is ignored (a
 * progress_update repeated, another task's events), and so are events
 * before started_ms. Returns the index of the step it satisfied, or
 * SIZE_MAX. */
size_t probe_run_event(struct probe_run *r, uint64_t now_ms, size_t sub, const char *kind,
                       const char *variant, const struct json_tape *t, size_t node);

/* Time passes: every pending step whose deadline (started_ms + within_ms)
 * is before now_ms becomes TIMEOUT, settled at now_ms. */
void probe_run_tick(struct probe_run *r, uint64_t now_ms);

/* The first moment a tick times a pending step out (its deadline + 1), or
 * UINT64_MAX when no step is pending. */
uint64_t probe_run_next_deadline(const struct probe_run *r);

/* The trigger failed: pending steps become ABANDONED, settled at now_ms;
 * the run is over (FAILED). */
void probe_run_abort(struct probe_run *r, uint64_t now_ms);

/* RUNNING while a step is pending; then OK when every step is MET and the
 * run was not aborted, else FAILED. */
enum probe_outcome probe_run_outcome(const struct probe_run *r);

/* The started_ms the run was created with. */
uint64_t probe_run_started_ms(const struct probe_run *r);

size_t probe_run_step_count(const struct probe_run *r);

/* State of step i (i < probe_run_step_count). */
enum probe_step_state probe_run_step_state(const struct probe_run *r, size_t i);

/* Receive time - started_ms of the event that met (or EARLY-met) step i;
 * UINT64_MAX when none. */
uint64_t probe_run_step_delivery_ms(const struct probe_run *r, size_t i);

/* When step i was settled (met/timeout/...), monotonic ms; 0 while
 * pending. */
uint64_t probe_run_step_settled_ms(const struct probe_run *r, size_t i);

/* For an EARLY step i: the index of the first earlier step that was still
 * pending when i was met; SIZE_MAX for other states. */
size_t probe_run_step_blocked_by(const struct probe_run *r, size_t i);

/* One readable line about step i for a violation message, e.g.
 * "gateway-main: no task_event:task_completed with /task_id == \"3f...\"
 * within 10000 ms (waited 10003 ms)" or "gateway-main:
 * task_event:task_started arrived after task_event:task_completed (step 2
 * met before step 1)". `sub_name` is the caller's name for the step's
 * subscription (NULL: "?"). Expected values longer than 64 bytes are cut
 * and end in "..."; quotes, backslashes and control characters in them are
 * escaped as in JSON. Writes at most `cap` bytes, NUL-terminated, never
 * ending inside a UTF-8 sequence (nothing when cap is 0). */
void probe_run_step_describe(const struct probe_run *r, size_t i, const char *sub_name, char *buf,
                             size_t cap);

/* Captures: `pointer` into the trigger's response document `t` (root node
 * `root`). A string is captured as its value; a number/bool as its JSON
 * text (as written in the response); null, object, array or a missing
 * pointer fail. Returns a malloc'ed NUL-terminated value (the caller frees
 * it), or NULL with *why a static reason: "missing", "not a scalar", "too
 * long" (> PROBE_VALUE_MAX bytes), "contains U+0000" (a string that a C
 * string cannot hold), "out of memory". */
char *probe_capture(const struct json_tape *t, size_t root, const char *pointer, const char **why);

/* Whether `m` holds on the payload (t NULL or node JSON_TAPE_NONE: never).
 * A literal that is not valid JSON number/bool/null text never holds. */
bool probe_match_holds(const struct json_tape *t, size_t node, const struct probe_match *m);

/* Whether `ptr` is a well-formed RFC 6901 pointer ("" or "/..." with "~"
 * only in "~0" and "~1"). */
bool probe_pointer_valid(const char *ptr);

/* Whether `text` is the JSON text of a number jansson's range accepts,
 * true, false or null (nothing around it): a valid pm_value for a literal
 * match. */
bool probe_literal_valid(const char *text);

/* Scheduling without a clock: the next due time of a probe that runs every
 * every_ms with jitter. `rnd` is a caller-supplied random 64-bit value (the
 * io layer reads randomness; the core stays pure). Jitter: uniform in [-j,
 * +j] with j = min(every_ms / 10, 5000) ms; never earlier than finished_ms
 * (a probe never overlaps itself) and the result is >= last_start_ms +
 * every_ms - j. Saturates at UINT64_MAX. */
uint64_t probe_next_due(uint64_t last_start_ms, uint64_t finished_ms, uint64_t every_ms,
                        uint64_t rnd);

/* Delivery times of one (probe, step): the last PROBE_WINDOW of them, in
 * fixed memory. Zero-initialise ({0}) before use. */
#define PROBE_WINDOW 256
struct probe_window {
    uint32_t pw_ms[PROBE_WINDOW];
    size_t pw_n;    /* values held, up to PROBE_WINDOW */
    size_t pw_next; /* slot the next value goes to */
};

/* Adds a delivery time (values above UINT32_MAX ms are kept as UINT32_MAX),
 * replacing the oldest once the window is full. */
void probe_window_add(struct probe_window *w, uint64_t ms);

/* Quantile q in [0,1] of what the window holds (nearest-rank: the
 * ceil(q * n)-th smallest, the smallest for q <= 0, the largest for q >= 1),
 * UINT64_MAX when empty. */
uint64_t probe_window_quantile(const struct probe_window *w, double q);

#endif
