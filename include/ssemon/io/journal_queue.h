/*
 * journal_queue: a bounded first-in first-out queue of byte strings: the
 * records the journal writer holds while journald or standard error cannot
 * take them at once. Bounded in items and in bytes, so a sink that stops
 * reading costs a known amount of memory; an empty queue takes any one
 * item, so an item larger than the byte bound is not refused forever. Each
 * item carries a tag of the caller's (the writer tells records from plain
 * text lines) and a 64-bit stamp of the caller's (the writer keeps the
 * wall time a record was made, for when it goes to standard error later). No I/O; io layer only
 * because it is the writer's.
 *
 * Ownership: the queue copies what it is given and frees it when popped or
 * cleared; journal_queue_front's pointer is valid until the next pop, clear
 * or push.
 */
#ifndef SSEMON_JOURNAL_QUEUE_H
#define SSEMON_JOURNAL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct journal_queue_item;

struct journal_queue {
    struct journal_queue_item *jq_head; /* owned list, oldest first */
    struct journal_queue_item *jq_tail;
    size_t jq_items;
    size_t jq_bytes;
    size_t jq_tagged[2]; /* items by tag */
    size_t jq_max_items;
    size_t jq_max_bytes;
};

enum journal_queue_push {
    JOURNAL_QUEUE_OK = 0,
    JOURNAL_QUEUE_FULL,  /* a bound would be passed: nothing was taken */
    JOURNAL_QUEUE_NOMEM, /* nothing was taken */
};

/* An empty queue holding at most `max_items` items (at least 1) and
 * `max_bytes` bytes of them. */
void journal_queue_init(struct journal_queue *q, size_t max_items, size_t max_bytes);
/* Frees every item; the queue is empty and can be used again. */
void journal_queue_clear(struct journal_queue *q);

/* Copies `len` bytes as the newest item, tagged `tag` (0 or 1). */
enum journal_queue_push journal_queue_push(struct journal_queue *q, const void *data, size_t len,
                                           unsigned tag);
/* journal_queue_push with a stamp (journal_queue_push stamps 0). */
enum journal_queue_push journal_queue_push_stamped(struct journal_queue *q, const void *data,
                                                   size_t len, unsigned tag, uint64_t stamp);
/* The oldest item (its length and tag in *len and *tag), NULL when empty.
 * The bytes are the queue's; the caller may change them in place. */
char *journal_queue_front(const struct journal_queue *q, size_t *len, unsigned *tag);
/* The oldest item's stamp (0 when empty). */
uint64_t journal_queue_front_stamp(const struct journal_queue *q);
/* Drops the oldest item (harmless when empty). */
void journal_queue_pop(struct journal_queue *q);

static inline size_t journal_queue_items(const struct journal_queue *q)
{
    return q->jq_items;
}

#endif
