#include "ssemon/io/journal_queue.h"

#include <stdlib.h>
#include <string.h>

struct journal_queue_item {
    struct journal_queue_item *jqi_next;
    size_t jqi_len;
    unsigned jqi_tag;
    uint64_t jqi_stamp;
    char jqi_data[];
};

void journal_queue_init(struct journal_queue *q, size_t max_items, size_t max_bytes)
{
    memset(q, 0, sizeof(*q));
    q->jq_max_items = max_items > 0 ? max_items : 1;
    q->jq_max_bytes = max_bytes;
}

void journal_queue_pop(struct journal_queue *q)
{
    struct journal_queue_item *it = q->jq_head;
    if (it == NULL)
        return;
    q->jq_head = it->jqi_next;
    if (q->jq_head == NULL)
        q->jq_tail = NULL;
    q->jq_items--;
    q->jq_bytes -= it->jqi_len;
    q->jq_tagged[it->jqi_tag]--;
    free(it);
}

void journal_queue_clear(struct journal_queue *q)
{
    while (q->jq_head != NULL)
        journal_queue_pop(q);
}

enum journal_queue_push journal_queue_push(struct journal_queue *q, const void *data, size_t len,
                                           unsigned tag)
{
    return journal_queue_push_stamped(q, data, len, tag, 0);
}

enum journal_queue_push journal_queue_push_stamped(struct journal_queue *q, const void *data,
                                                   size_t len, unsigned tag, uint64_t stamp)
{
    if (q->jq_items > 0 && (q->jq_items >= q->jq_max_items || q->jq_bytes > q->jq_max_bytes ||
                            len > q->jq_max_bytes - q->jq_bytes))
        return JOURNAL_QUEUE_FULL;
    struct journal_queue_item *it = malloc(sizeof(*it) + len);
    if (it == NULL)
        return JOURNAL_QUEUE_NOMEM;
    it->jqi_next = NULL;
    it->jqi_len = len;
    it->jqi_tag = tag != 0;
    it->jqi_stamp = stamp;
    if (len > 0)
        memcpy(it->jqi_data, data, len);
    if (q->jq_tail != NULL)
        q->jq_tail->jqi_next = it;
    else
        q->jq_head = it;
    q->jq_tail = it;
    q->jq_items++;
    q->jq_bytes += len;
    q->jq_tagged[it->jqi_tag]++;
    return JOURNAL_QUEUE_OK;
}

char *journal_queue_front(const struct journal_queue *q, size_t *len, unsigned *tag)
{
    struct journal_queue_item *it = q->jq_head;
    if (it == NULL)
        return NULL;
    if (len != NULL)
        *len = it->jqi_len;
    if (tag != NULL)
        *tag = it->jqi_tag;
    return it->jqi_data;
}

uint64_t journal_queue_front_stamp(const struct journal_queue *q)
{
    return q->jq_head != NULL ? q->jq_head->jqi_stamp : 0;
}
