/*
 * minute_ring: the last hour, one point a minute, in fixed memory: what the
 * status page draws. Each point has MINUTE_RING_LANES counters whose
 * meaning the caller chooses (a sum, or a maximum). Core module: pure, the
 * time (ms, any clock, used consistently) is passed in; a clock going back
 * adds to the newest minute.
 *
 * Ownership: a struct minute_ring is plain memory (no allocation); zeroed
 * or reset, it is empty.
 */
#ifndef SSEMON_CORE_MINUTE_RING_H
#define SSEMON_CORE_MINUTE_RING_H

#include <stdbool.h>
#include <stdint.h>

#define MINUTE_RING_POINTS 60
#define MINUTE_RING_LANES 3
#define MINUTE_RING_MINUTE_MS 60000u

struct minute_ring {
    uint64_t mr_minute; /* the newest point's minute (ms / 60000) */
    bool mr_started;    /* a value was recorded since the last reset */
    uint32_t mr_points[MINUTE_RING_POINTS][MINUTE_RING_LANES]; /* by minute % 60 */
};

/* Empties the ring. */
void minute_ring_reset(struct minute_ring *r);
/* Adds `n` to `lane` of the minute of `now_ms` (saturating). */
void minute_ring_add(struct minute_ring *r, uint64_t now_ms, unsigned lane, uint32_t n);
/* Raises `lane` of the minute of `now_ms` to `v` if it is lower. */
void minute_ring_max(struct minute_ring *r, uint64_t now_ms, unsigned lane, uint32_t v);
/* `lane` over the 60 minutes that end with the minute of `now_ms`, oldest
 * first (out[59] is the current minute); minutes with nothing recorded,
 * and minutes older than what the ring holds, are 0. */
void minute_ring_read(const struct minute_ring *r, uint64_t now_ms, unsigned lane,
                      uint32_t out[MINUTE_RING_POINTS]);

#endif
