/*
 * condition: see condition.h. A fixed table of classes, one slot each.
 */
#include "ssemon/core/condition.h"

const enum violation_class condition_classes[CONDITION_CLASS_COUNT] = {
    VIOLATION_HEARTBEAT_MISSED, VIOLATION_FIRST_EVENT_LATE, VIOLATION_CONNECT_FAILED,
    VIOLATION_HTTP_STATUS,      VIOLATION_CONTENT_TYPE,
};

int condition_index(enum violation_class c)
{
    for (int i = 0; i < CONDITION_CLASS_COUNT; i++)
        if (condition_classes[i] == c)
            return i;
    return -1;
}

bool condition_class_opens(enum violation_class c)
{
    return condition_index(c) >= 0;
}

bool condition_open(struct condition_set *s, enum violation_class c, uint64_t wall_ms)
{
    int i = condition_index(c);
    if (i < 0 || s->cs_open[i])
        return false;
    s->cs_open[i] = true;
    s->cs_since_wall_ms[i] = wall_ms;
    return true;
}

void condition_close(struct condition_set *s, enum violation_class c)
{
    int i = condition_index(c);
    if (i < 0)
        return;
    s->cs_open[i] = false;
    s->cs_since_wall_ms[i] = 0;
}

bool condition_is_open(const struct condition_set *s, enum violation_class c)
{
    int i = condition_index(c);
    return i >= 0 && s->cs_open[i];
}

uint64_t condition_since(const struct condition_set *s, enum violation_class c)
{
    int i = condition_index(c);
    return i >= 0 && s->cs_open[i] ? s->cs_since_wall_ms[i] : 0;
}

size_t condition_count(const struct condition_set *s)
{
    size_t n = 0;
    for (int i = 0; i < CONDITION_CLASS_COUNT; i++)
        n += s->cs_open[i] ? 1 : 0;
    return n;
}

void condition_on_heartbeat(struct condition_set *s)
{
    condition_close(s, VIOLATION_HEARTBEAT_MISSED);
}

void condition_on_first_event(struct condition_set *s)
{
    condition_close(s, VIOLATION_FIRST_EVENT_LATE);
}

void condition_on_stream_open(struct condition_set *s)
{
    condition_close(s, VIOLATION_CONNECT_FAILED);
    condition_close(s, VIOLATION_HTTP_STATUS);
    condition_close(s, VIOLATION_CONTENT_TYPE);
}
