/*
 * condition: what a violation leaves open. Pure core module: no clock, no
 * I/O; times are passed in (wall-clock ms since the epoch, as displayed).
 *
 * A violation is an event: counted once, journaled once. Some classes also
 * open a condition that lasts until the stream proves otherwise:
 *
 *   heartbeat_missed  until a heartbeat (or, for a contract whose every
 *                     event resets the window, any event) arrives;
 *   first_event_late  until the stream's first event arrives;
 *   connect_failed,
 *   http_status,
 *   content_type      until a stream opens (the monitor cannot get one).
 *
 * No other class opens one (lifecycle_timeout included: it is judged once
 * per lifecycle, and the next lifecycle starts over). While any condition
 * is open the subscription is unhealthy, whatever its healthy window.
 *
 * A condition opened again while open keeps its first `since`.
 */
#ifndef SSEMON_CONDITION_H
#define SSEMON_CONDITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/violation.h"

/* The classes that can open a condition, in display order. */
#define CONDITION_CLASS_COUNT 5
extern const enum violation_class condition_classes[CONDITION_CLASS_COUNT];

/* The open conditions of one subscription. Zeroed: none open. */
struct condition_set {
    bool cs_open[CONDITION_CLASS_COUNT];
    uint64_t cs_since_wall_ms[CONDITION_CLASS_COUNT];
};

/* Index of `c` in condition_classes, or -1 when the class opens none. */
int condition_index(enum violation_class c);
/* Whether a violation of class `c` opens a condition. */
bool condition_class_opens(enum violation_class c);

/* A violation of class `c` at `wall_ms`: opens its condition (if the class
 * has one and it is not open already). Returns true when it opened now. */
bool condition_open(struct condition_set *s, enum violation_class c, uint64_t wall_ms);
/* Closes the condition of class `c` (a no-op when not open). */
void condition_close(struct condition_set *s, enum violation_class c);
bool condition_is_open(const struct condition_set *s, enum violation_class c);
/* When the condition of `c` opened; 0 when it is not open. */
uint64_t condition_since(const struct condition_set *s, enum violation_class c);
/* Number of open conditions. */
size_t condition_count(const struct condition_set *s);

/* What the stream proved, each closing the conditions it answers. */
void condition_on_heartbeat(struct condition_set *s);   /* heartbeat_missed */
void condition_on_first_event(struct condition_set *s); /* first_event_late */
void condition_on_stream_open(struct condition_set *s); /* connect_failed, http_status,
                                                            content_type */

#endif
