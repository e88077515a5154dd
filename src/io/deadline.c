#include "ssemon/io/deadline.h"

#include <event2/event.h>
#include <time.h>

/* libevent adds the delay to a struct timeval; a century keeps that sum far
 * from overflowing while meaning "never" to any caller. */
#define DEADLINE_MAX_MS (UINT64_C(100) * 365 * 24 * 3600 * 1000)

static void deadline_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct deadline *d = arg;
    d->dl_fn(d->dl_ctx);
}

int deadline_init(struct deadline *d, struct event_base *base, deadline_fn fn, void *ctx)
{
    d->dl_fn = fn;
    d->dl_ctx = ctx;
    d->dl_ev = evtimer_new(base, deadline_fire, d);
    return d->dl_ev != NULL ? 0 : -1;
}

int deadline_arm(struct deadline *d, uint64_t ms)
{
    if (d->dl_ev == NULL)
        return -1;
    if (ms > DEADLINE_MAX_MS)
        ms = DEADLINE_MAX_MS;
    struct timeval tv = {
        .tv_sec = (time_t)(ms / 1000),
        .tv_usec = (suseconds_t)(ms % 1000) * 1000,
    };
    return evtimer_add(d->dl_ev, &tv) == 0 ? 0 : -1;
}

void deadline_cancel(struct deadline *d)
{
    if (d->dl_ev != NULL)
        evtimer_del(d->dl_ev);
}

bool deadline_pending(const struct deadline *d)
{
    return d->dl_ev != NULL && evtimer_pending(d->dl_ev, NULL) != 0;
}

void deadline_release(struct deadline *d)
{
    if (d->dl_ev != NULL)
        event_free(d->dl_ev);
    d->dl_ev = NULL;
}

int deadline_prioritize(struct deadline *d)
{
    if (d->dl_ev == NULL)
        return -1;
    return event_priority_set(d->dl_ev, 0);
}
