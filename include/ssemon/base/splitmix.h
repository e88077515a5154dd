/*
 * splitmix: splitmix64 (Steele, Lea, Flood 2014), the one small pseudo-random
 * generator of the project: full period, its whole state one 64-bit word,
 * any seed works. For jitter and fallbacks, never for secrets. Base module:
 * no dependency.
 */
#ifndef SSEMON_BASE_SPLITMIX_H
#define SSEMON_BASE_SPLITMIX_H

#include <stdint.h>

/* Advances `*state` and returns the next value; every input bit of the new
 * state is spread over the result. */
uint64_t splitmix_next(uint64_t *state);

#endif
