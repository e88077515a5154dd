/*
 * backoff: exponential reconnect delays with jitter. Pure: no I/O, no clock,
 * no global state; the random source is a splitmix64 state inside the
 * struct, so a given seed always yields the same sequence (tests rely on it).
 *
 * Delay k (k = 0 for the first call after init/reset):
 *     ceiling = min(max_ms, min_ms * 2^(k+1))
 *     delay   = uniform in [max(min_ms, ceiling / 2), ceiling]
 * so every delay lies in [min_ms, max_ms], the range doubles per failure,
 * and clients that failed together spread out instead of retrying in step.
 *
 * A server's own reconnection time (the SSE retry field) is honoured only
 * inside the same range (backoff_clamp): a server must not set the pace of
 * its monitor, neither hammering it nor silencing it.
 */
#ifndef SSEMON_BACKOFF_H
#define SSEMON_BACKOFF_H

#include <stdint.h>

#define BACKOFF_DEFAULT_MIN_MS 500u
#define BACKOFF_DEFAULT_MAX_MS 30000u

struct backoff {
    uint64_t bo_min_ms;
    uint64_t bo_max_ms;
    uint64_t bo_rng;      /* splitmix64 state */
    uint32_t bo_failures; /* delays handed out since the last reset */
};

/* min_ms 0 and max_ms 0 select the defaults; max_ms below min_ms is raised
 * to min_ms. */
void backoff_init(struct backoff *b, uint64_t min_ms, uint64_t max_ms, uint64_t seed);

/* The next delay in ms; advances the sequence. */
uint64_t backoff_next(struct backoff *b);

/* Back to the first (shortest) delay range. The random state continues. */
void backoff_reset(struct backoff *b);

/* The upper bound of the range the next call to backoff_next draws from. */
uint64_t backoff_ceiling(const struct backoff *b);

/* `ms` moved into [min_ms, max_ms]: the reconnect delay for a server that
 * asked for `ms`. The result differs from `ms` exactly when `ms` is out of
 * range. Does not touch the sequence. */
uint64_t backoff_clamp(const struct backoff *b, uint64_t ms);

#endif
