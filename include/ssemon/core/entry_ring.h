/*
 * entry_ring: a ring of variable-length byte entries bounded by a count and
 * a byte budget, the oldest evicted first. Pure core module.
 *
 * The entries live back to back in one byte buffer (an entry may wrap
 * around its end: read it with entry_ring_copy) and their offsets in one
 * array of max_entries slots. Nothing is allocated before the first push;
 * the first push allocates the slots and the first byte budget, so a ring
 * in use has a fixed size (entry_ring_memory) and a full ring evicts with
 * no allocation at all. A growing ring (entry_ring_new_growing) doubles
 * its byte buffer, up to its largest budget, only when evicting by bytes
 * would keep fewer than max_entries entries: entries that fit max_entries
 * at a time in the first budget never make it grow.
 */
#ifndef SSEMON_ENTRY_RING_H
#define SSEMON_ENTRY_RING_H

#include <stddef.h>
#include <stdint.h>

struct entry_ring;

/* A ring of at most `max_entries` (>= 1) entries and `max_bytes` (>= 1)
 * bytes over all of them. NULL when out of memory or a bound is 0. */
struct entry_ring *entry_ring_new(size_t max_entries, size_t max_bytes);
/* A ring of at most `max_entries` entries whose byte budget starts at
 * `first_bytes` (>= 1) and doubles, capped at `max_bytes` (>= first_bytes),
 * when the count needs it (above). NULL as entry_ring_new. */
struct entry_ring *entry_ring_new_growing(size_t max_entries, size_t first_bytes, size_t max_bytes);
void entry_ring_free(struct entry_ring *r);

/* Appends a copy of `len` bytes as the newest entry, evicting the oldest
 * entries as the count and the byte budget need. Returns 0; -1 when the
 * entry is larger than the budget or memory runs out (the ring is then
 * unchanged). */
int entry_ring_push(struct entry_ring *r, const void *data, size_t len);
/* Replaces the newest entry (as entry_ring_push would append it after the
 * newest's removal); with no entry, pushes. -1 as entry_ring_push (the
 * ring unchanged). */
int entry_ring_replace_newest(struct entry_ring *r, const void *data, size_t len);

size_t entry_ring_count(const struct entry_ring *r);
/* Entry i's length (0 the oldest); 0 when out of range. */
size_t entry_ring_len(const struct entry_ring *r, size_t i);
/* Copies entry i to `out` (entry_ring_len bytes); returns its length, 0
 * when out of range. */
size_t entry_ring_copy(const struct entry_ring *r, size_t i, void *out);
/* Bytes over all entries (<= the current budget, <= max_bytes). */
size_t entry_ring_bytes(const struct entry_ring *r);
/* Entries evicted since entry_ring_new. */
uint64_t entry_ring_evicted(const struct entry_ring *r);
/* Bytes allocated by the ring (its structure, slots and current budget). */
size_t entry_ring_memory(const struct entry_ring *r);

#endif
