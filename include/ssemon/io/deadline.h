/*
 * deadline: a one-shot timer on a libevent base. The timer machinery of the
 * adapters: idle timeouts, reconnect delays, and any "call me back at time
 * T" a pure module asks for (the caller turns T into a relative delay with
 * clock_mono_ms, the clock libevent timers follow).
 *
 * A struct deadline is embedded in its owner and must not move between
 * deadline_init and deadline_release. The callback runs from the event
 * loop, once per arming; it may re-arm, cancel or release its own deadline.
 */
#ifndef SSEMON_DEADLINE_H
#define SSEMON_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

struct event;
struct event_base;

typedef void (*deadline_fn)(void *ctx);

struct deadline {
    struct event *dl_ev; /* owned */
    deadline_fn dl_fn;
    void *dl_ctx;
};

/* Returns 0, or -1 on allocation failure (the deadline is then inert and
 * deadline_release is still safe). `base` must outlive the deadline. */
int deadline_init(struct deadline *d, struct event_base *base, deadline_fn fn, void *ctx);

/* Fires `ms` milliseconds from now, replacing any pending arming. Returns 0
 * or -1 when libevent refuses (or the deadline is inert). */
int deadline_arm(struct deadline *d, uint64_t ms);

/* Runs this deadline's callback ahead of socket events that became ready
 * in the same loop turn (the base must have been given 2 or more priority
 * levels with event_base_priority_init). Returns 0 or -1. Call while the
 * deadline is not pending. */
int deadline_prioritize(struct deadline *d);

/* Disarms; harmless when not pending. */
void deadline_cancel(struct deadline *d);

bool deadline_pending(const struct deadline *d);

/* Disarms and frees; the struct may then be reused with deadline_init. */
void deadline_release(struct deadline *d);


#endif
