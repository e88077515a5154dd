/*
 * entry_ring: entries back to back in a circular byte buffer of er_size
 * bytes (first_bytes, doubled up to max_bytes when the count needs it); a
 * ring of slots (offset, length) indexes them.
 */
#include "ssemon/core/entry_ring.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct entry_ring_slot {
    size_t ers_off;
    size_t ers_len;
};

struct entry_ring {
    size_t er_max_entries;
    size_t er_max_bytes;
    size_t er_size;                   /* of er_data: first_bytes .. er_max_bytes */
    struct entry_ring_slot *er_slots; /* er_max_entries, at the first push */
    unsigned char *er_data;           /* er_size, at the first push */
    size_t er_head;                   /* slot of the oldest entry */
    size_t er_count;
    size_t er_data_head; /* where the oldest entry's bytes start */
    size_t er_bytes;
    uint64_t er_evicted;
};

struct entry_ring *entry_ring_new_growing(size_t max_entries, size_t first_bytes, size_t max_bytes)
{
    if (max_entries == 0 || first_bytes == 0 || first_bytes > max_bytes ||
        max_entries > SIZE_MAX / sizeof(struct entry_ring_slot))
        return NULL;
    struct entry_ring *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->er_max_entries = max_entries;
    r->er_max_bytes = max_bytes;
    r->er_size = first_bytes;
    return r;
}

struct entry_ring *entry_ring_new(size_t max_entries, size_t max_bytes)
{
    return entry_ring_new_growing(max_entries, max_bytes, max_bytes);
}

void entry_ring_free(struct entry_ring *r)
{
    if (r == NULL)
        return;
    free(r->er_slots);
    free(r->er_data);
    free(r);
}

static struct entry_ring_slot *entry_ring_at(const struct entry_ring *r, size_t i)
{
    return &r->er_slots[(r->er_head + i) % r->er_max_entries];
}

static void entry_ring_drop_oldest(struct entry_ring *r)
{
    const struct entry_ring_slot *s = entry_ring_at(r, 0);
    r->er_bytes -= s->ers_len;
    r->er_data_head = r->er_bytes == 0 ? 0 : (r->er_data_head + s->ers_len) % r->er_size;
    r->er_head = (r->er_head + 1) % r->er_max_entries;
    r->er_count--;
    r->er_evicted++;
}

/* Doubles the byte buffer (up to er_max_bytes), the entries moved to its
 * start in order. -1 when memory runs out (the ring unchanged). */
static int entry_ring_grow(struct entry_ring *r)
{
    size_t size = r->er_size > r->er_max_bytes / 2 ? r->er_max_bytes : r->er_size * 2;
    unsigned char *data = malloc(size);
    if (data == NULL)
        return -1;
    memset(data, 0, size);
    size_t at = 0;
    for (size_t i = 0; i < r->er_count; i++) {
        struct entry_ring_slot *s = entry_ring_at(r, i);
        (void)entry_ring_copy(r, i, data + at);
        s->ers_off = at;
        at += s->ers_len;
    }
    free(r->er_data);
    r->er_data = data;
    r->er_size = size;
    r->er_data_head = 0;
    return 0;
}

int entry_ring_push(struct entry_ring *r, const void *data, size_t len)
{
    if (len > r->er_max_bytes)
        return -1;
    if (r->er_data == NULL) {
        /* The first size at once, written through (zeroed): a ring in use
         * keeps one size until the count needs more room. */
        r->er_slots = calloc(r->er_max_entries, sizeof(*r->er_slots));
        r->er_data = malloc(r->er_size);
        if (r->er_slots == NULL || r->er_data == NULL) {
            free(r->er_slots);
            free(r->er_data);
            r->er_slots = NULL;
            r->er_data = NULL;
            return -1;
        }
        memset(r->er_data, 0, r->er_size);
    }
    /* Evicting by bytes would keep fewer than max_entries: room first,
     * while the buffer may still grow (else, or out of memory, evict). */
    bool full = r->er_count >= r->er_max_entries;
    size_t kept = r->er_bytes - (full ? entry_ring_at(r, 0)->ers_len : 0);
    while (kept + len > r->er_size && r->er_size < r->er_max_bytes)
        if (entry_ring_grow(r) != 0)
            break;
    if (len > r->er_size)
        return -1;
    if (full)
        entry_ring_drop_oldest(r);
    while (r->er_count > 0 && r->er_bytes + len > r->er_size)
        entry_ring_drop_oldest(r);
    size_t at = (r->er_data_head + r->er_bytes) % r->er_size;
    size_t first = r->er_size - at;
    if (first > len)
        first = len;
    if (len > 0) {
        memcpy(r->er_data + at, data, first);
        memcpy(r->er_data, (const unsigned char *)data + first, len - first);
    }
    struct entry_ring_slot *s = entry_ring_at(r, r->er_count);
    s->ers_off = at;
    s->ers_len = len;
    r->er_count++;
    r->er_bytes += len;
    return 0;
}

int entry_ring_replace_newest(struct entry_ring *r, const void *data, size_t len)
{
    if (len > r->er_max_bytes)
        return -1;
    if (r->er_count > 0) {
        r->er_count--;
        r->er_bytes -= entry_ring_at(r, r->er_count)->ers_len;
        if (r->er_bytes == 0)
            r->er_data_head = 0;
    }
    return entry_ring_push(r, data, len);
}

size_t entry_ring_count(const struct entry_ring *r)
{
    return r->er_count;
}

size_t entry_ring_len(const struct entry_ring *r, size_t i)
{
    return i < r->er_count ? entry_ring_at(r, i)->ers_len : 0;
}

size_t entry_ring_copy(const struct entry_ring *r, size_t i, void *out)
{
    if (i >= r->er_count)
        return 0;
    const struct entry_ring_slot *s = entry_ring_at(r, i);
    if (s->ers_len == 0)
        return 0;
    size_t first = r->er_size - s->ers_off;
    if (first > s->ers_len)
        first = s->ers_len;
    memcpy(out, r->er_data + s->ers_off, first);
    memcpy((unsigned char *)out + first, r->er_data, s->ers_len - first);
    return s->ers_len;
}

size_t entry_ring_bytes(const struct entry_ring *r)
{
    return r->er_bytes;
}

uint64_t entry_ring_evicted(const struct entry_ring *r)
{
    return r->er_evicted;
}

size_t entry_ring_memory(const struct entry_ring *r)
{
    return sizeof(*r) +
           (r->er_data != NULL ? r->er_max_entries * sizeof(*r->er_slots) + r->er_size : 0);
}
