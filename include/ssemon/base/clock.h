/*
 * clock: the process's two clocks, in milliseconds. The monotonic one
 * measures intervals and drives deadlines; the wall one stamps what users
 * read (RFC 3339 times, metrics timestamps). Only adapters and commands
 * read them: the pure core is handed the time by its caller.
 */
#ifndef SSEMON_BASE_CLOCK_H
#define SSEMON_BASE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t clock_mono_ms(void);

/* CLOCK_REALTIME in milliseconds since the Unix epoch. */
uint64_t clock_wall_ms(void);

#endif
