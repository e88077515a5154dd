/*
 * flight: a subscription's flight recorder. Pure core module (no I/O, time
 * passed in): it keeps, in bounded memory, the raw bytes of the current
 * connection's recent past split into frames at event boundaries (an empty
 * line ends a frame), each stamped with the monotonic and wall-clock time of
 * its first byte, plus the status and headers of the response that opened
 * the connection.
 *
 * Bounds: at most `max_events` frames (the one being received included)
 * and `max_bytes` bytes over
 * all frames, whichever is reached first; the oldest complete frames go
 * first. A single frame larger than `max_bytes` keeps its first `max_bytes`
 * bytes (the rest is counted as dropped, and the frame marked truncated).
 * Frames start at event boundaries, so what is kept replays from the start
 * of an event.
 *
 * A new connection (flight_open) forgets the previous one's frames: a
 * recording groups chunks by connection, and the frames kept always belong
 * to the headers kept.
 *
 * Memory: the frames' bytes live in one byte ring per recorder and the
 * frames' times in one array of slots, both grown geometrically (doubling)
 * up to their bound as the stream needs them and kept across connections;
 * the headers in one buffer, grown the same way. Nothing is allocated per
 * frame, so a recorder's memory reaches a steady size: a stream of small
 * heartbeats costs a few KiB, the busiest stream max_bytes plus
 * max_events slots (flight_memory).
 */
#ifndef SSEMON_FLIGHT_H
#define SSEMON_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/recording.h"

#define FLIGHT_DEFAULT_EVENTS 64
#define FLIGHT_DEFAULT_BYTES (256u * 1024u)
/* Bounds the configuration accepts. */
#define FLIGHT_MAX_EVENTS 4096
#define FLIGHT_MAX_BYTES (16u * 1024u * 1024u)
/* Headers kept per response (the subscription engine lists at most 64). */
#define FLIGHT_HEADERS_MAX 64

struct flight_frame {
    uint64_t ff_mono_ms; /* first byte's receive time, monotonic */
    uint64_t ff_wall_ms; /* the same, wall-clock ms since the epoch */
    size_t ff_off;       /* where its bytes start in the recorder's ring */
    size_t ff_len;       /* its bytes: read them with flight_frame_copy */
    bool ff_complete;    /* ended by an empty line */
    bool ff_truncated;   /* longer than max_bytes: only its head is kept */
};

struct flight;

/* A recorder keeping at most `max_events` frames (>= 1) and `max_bytes`
 * bytes (>= 1). NULL when out of memory or a bound is 0. */
struct flight *flight_new(size_t max_events, size_t max_bytes);
void flight_free(struct flight *f);

/* A new connection's response opened: its frames start empty, its status
 * and headers (copied; at most FLIGHT_HEADERS_MAX, the rest ignored) are
 * kept. Returns 0, or -1 when out of memory (then no headers are kept). */
int flight_open(struct flight *f, uint64_t mono_ms, uint64_t wall_ms, long status,
                const struct recording_field *headers, size_t n_headers);

/* Body bytes of the current connection, as received at `mono_ms` /
 * `wall_ms`. Bytes that cannot be kept (out of memory, a frame over the
 * byte bound) are counted by flight_dropped_bytes. */
void flight_feed(struct flight *f, uint64_t mono_ms, uint64_t wall_ms, const void *buf, size_t len);

/* Frames kept, 0 the oldest; the last one may be incomplete. */
size_t flight_count(const struct flight *f);
const struct flight_frame *flight_frame(const struct flight *f, size_t i);
/* Copies frame i's ff_len bytes to `out` (the ring may hold them in two
 * pieces). Returns the bytes copied (0 when i is out of range). */
size_t flight_frame_copy(const struct flight *f, size_t i, unsigned char *out);
/* Bytes over all kept frames (<= max_bytes). */
size_t flight_bytes(const struct flight *f);
/* Bytes received but not kept since flight_new (never the evicted ones). */
uint64_t flight_dropped_bytes(const struct flight *f);
/* Frames evicted since flight_new (by either bound). */
uint64_t flight_evicted(const struct flight *f);
/* Bytes the recorder holds allocated (its structure, slots, byte ring and
 * headers): bounded by sizeof + max_events slots + max_bytes + headers. */
size_t flight_memory(const struct flight *f);

/* The current connection (flight_open's values); flight_opened false: none
 * yet (status 0, no headers). */
bool flight_opened(const struct flight *f);
long flight_status(const struct flight *f);
uint64_t flight_open_mono_ms(const struct flight *f);
uint64_t flight_open_wall_ms(const struct flight *f);
size_t flight_n_headers(const struct flight *f);
const struct recording_field *flight_header(const struct flight *f, size_t i);

/* Whether a header of this name carries a credential, case-insensitive:
 * Authorization, Proxy-Authorization, Cookie, Set-Cookie (and the
 * X-Api-Key/X-Auth-Token conventions). Evidence writes "***" for its
 * value. */
bool flight_header_secret(const char *name, size_t len);

#endif
