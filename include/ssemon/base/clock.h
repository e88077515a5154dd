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

/* CLOCK_MONOTONIC in microseconds (sd_notify's MONOTONIC_USEC). */
uint64_t clock_mono_us(void);

/* Bytes of an RFC 3339 stamp and its NUL. */
#define CLOCK_RFC3339_SIZE 25

/* `wall_ms` (ms since the epoch) as RFC 3339, UTC, milliseconds:
 * "2023-11-14T22:13:20.123Z" (24 characters and a NUL). Years past 9999 do
 * not fit the format and are clamped to 9999-12-31T23:59:59.999Z. */
void clock_rfc3339(uint64_t wall_ms, char buf[static CLOCK_RFC3339_SIZE]);

#endif
