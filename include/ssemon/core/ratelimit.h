/*
 * ratelimit: flood control for log entries, one fixed window per key
 * (the journal sink keeps one per subscription and violation class). At
 * most `burst` entries pass per window; the rest are counted, and when the
 * window is over the caller is told how many were suppressed so it can
 * write one summary entry. Pure core module: time is passed in.
 */
#ifndef SSEMON_RATELIMIT_H
#define SSEMON_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
    uint64_t rl_window_start_ms;
    uint64_t rl_suppressed;
    unsigned rl_passed;
    bool rl_active; /* a window is open */
};

/* Records one entry at `now_ms`. Returns true when it may be written.
 * When an earlier window is over and had suppressed entries, their count is
 * stored in *summary (else 0): write the summary first. */
bool ratelimit_take(struct ratelimit *r, uint64_t now_ms, uint64_t interval_ms, unsigned burst,
                    uint64_t *summary);

/* Closes a window that is over at `now_ms` (from a periodic timer, so a
 * summary is not held back until the next entry). Returns the suppressed
 * count to report, 0 when none. */
uint64_t ratelimit_flush(struct ratelimit *r, uint64_t now_ms, uint64_t interval_ms);

#endif
