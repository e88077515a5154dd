#include "ssemon/core/backoff.h"
#include "ssemon/base/splitmix.h"

#include <stddef.h>

/* Beyond 2^40 ms the ceiling has long been clamped to max_ms; capping the
 * exponent keeps the shift defined however many failures pile up. */
#define BACKOFF_MAX_SHIFT 40u

void backoff_init(struct backoff *b, uint64_t min_ms, uint64_t max_ms, uint64_t seed)
{
    b->bo_min_ms = min_ms != 0 ? min_ms : BACKOFF_DEFAULT_MIN_MS;
    b->bo_max_ms = max_ms != 0 ? max_ms : BACKOFF_DEFAULT_MAX_MS;
    if (b->bo_max_ms < b->bo_min_ms)
        b->bo_max_ms = b->bo_min_ms;
    b->bo_rng = seed;
    b->bo_failures = 0;
}

void backoff_reset(struct backoff *b)
{
    b->bo_failures = 0;
}

uint64_t backoff_ceiling(const struct backoff *b)
{
    uint64_t shift = (uint64_t)b->bo_failures + 1;
    if (shift > BACKOFF_MAX_SHIFT)
        shift = BACKOFF_MAX_SHIFT;
    if (b->bo_min_ms > (b->bo_max_ms >> shift))
        return b->bo_max_ms;
    return b->bo_min_ms << shift;
}

uint64_t backoff_next(struct backoff *b)
{
    uint64_t ceiling = backoff_ceiling(b);
    uint64_t floor = ceiling / 2;
    if (floor < b->bo_min_ms)
        floor = b->bo_min_ms;
    if (b->bo_failures < UINT32_MAX)
        b->bo_failures++;
    uint64_t span = ceiling - floor;
    /* Modulo bias is below 2^-40 for any realistic span: irrelevant here. */
    return floor + splitmix_next(&b->bo_rng) % (span + 1);
}

uint64_t backoff_clamp(const struct backoff *b, uint64_t ms)
{
    if (ms < b->bo_min_ms)
        return b->bo_min_ms;
    if (ms > b->bo_max_ms)
        return b->bo_max_ms;
    return ms;
}
