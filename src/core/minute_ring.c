#include "ssemon/core/minute_ring.h"

#include <string.h>

void minute_ring_reset(struct minute_ring *r)
{
    memset(r, 0, sizeof(*r));
}

/* The slot of the minute of `now_ms`, after clearing the minutes skipped
 * since the newest point (at most the whole ring: bounded work). */
static uint32_t *minute_ring_slot(struct minute_ring *r, uint64_t now_ms)
{
    uint64_t minute = now_ms / MINUTE_RING_MINUTE_MS;
    if (!r->mr_started) {
        memset(r->mr_points, 0, sizeof(r->mr_points));
        r->mr_started = true;
        r->mr_minute = minute;
    } else if (minute > r->mr_minute) {
        uint64_t skipped = minute - r->mr_minute;
        if (skipped >= MINUTE_RING_POINTS) {
            memset(r->mr_points, 0, sizeof(r->mr_points));
        } else {
            for (uint64_t m = r->mr_minute + 1; m <= minute; m++)
                memset(r->mr_points[m % MINUTE_RING_POINTS], 0, sizeof(r->mr_points[0]));
        }
        r->mr_minute = minute;
    }
    return r->mr_points[r->mr_minute % MINUTE_RING_POINTS];
}

void minute_ring_add(struct minute_ring *r, uint64_t now_ms, unsigned lane, uint32_t n)
{
    if (lane >= MINUTE_RING_LANES)
        return;
    uint32_t *p = minute_ring_slot(r, now_ms);
    p[lane] = p[lane] > UINT32_MAX - n ? UINT32_MAX : p[lane] + n;
}

void minute_ring_max(struct minute_ring *r, uint64_t now_ms, unsigned lane, uint32_t v)
{
    if (lane >= MINUTE_RING_LANES)
        return;
    uint32_t *p = minute_ring_slot(r, now_ms);
    if (v > p[lane])
        p[lane] = v;
}

void minute_ring_read(const struct minute_ring *r, uint64_t now_ms, unsigned lane,
                      uint32_t out[MINUTE_RING_POINTS])
{
    uint64_t now = now_ms / MINUTE_RING_MINUTE_MS;
    for (unsigned i = 0; i < MINUTE_RING_POINTS; i++) {
        out[i] = 0;
        if (!r->mr_started || lane >= MINUTE_RING_LANES)
            continue;
        uint64_t back = MINUTE_RING_POINTS - 1 - i; /* minutes before now */
        if (back > now)
            continue;
        uint64_t m = now - back;
        /* Held: not newer than the newest point, not older than the ring. */
        if (m > r->mr_minute || r->mr_minute - m >= MINUTE_RING_POINTS)
            continue;
        out[i] = r->mr_points[m % MINUTE_RING_POINTS][lane];
    }
}
