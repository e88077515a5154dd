#include "ssemon/core/ratelimit.h"

uint64_t ratelimit_flush(struct ratelimit *r, uint64_t now_ms, uint64_t interval_ms)
{
    if (!r->rl_active || now_ms - r->rl_window_start_ms < interval_ms)
        return 0;
    uint64_t k = r->rl_suppressed;
    r->rl_active = false;
    r->rl_passed = 0;
    r->rl_suppressed = 0;
    return k;
}

bool ratelimit_take(struct ratelimit *r, uint64_t now_ms, uint64_t interval_ms, unsigned burst,
                    uint64_t *summary)
{
    *summary = ratelimit_flush(r, now_ms, interval_ms);
    if (!r->rl_active) {
        r->rl_active = true;
        r->rl_window_start_ms = now_ms;
        r->rl_passed = 0;
        r->rl_suppressed = 0;
    }
    if (r->rl_passed < burst) {
        r->rl_passed++;
        return true;
    }
    r->rl_suppressed++;
    return false;
}
