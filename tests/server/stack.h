/* The built-in 2026 stack of the test server: the parts-inventory backend's
 * testing endpoints and the SSE gateway's streams (docs/streams.md, section
 * 3), plus the legacy task streams of the tasks it runs, with switches that
 * inject faults. Unlike scenarios, its state (running tasks, open gateway
 * connections) is shared between requests. Runs on the server's event loop;
 * never blocks. See docs/test-server.md, "The 2026 stack". */
#ifndef SSE_TESTSERVER_STACK_H
#define SSE_TESTSERVER_STACK_H

#include <stdbool.h>
#include <stdio.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "request.h"

struct stk;

/* log (borrowed, may be NULL) receives the request lines of the stack's
 * requests and one line per event written to a stream. Returns NULL when
 * memory runs out. */
struct stk *stk_new(struct event_base *base, FILE *log, bool quiet);
/* Closes every connection of the stack and frees it. NULL is ignored. */
void stk_free(struct stk *st);

/* True when the stack serves this request path (without the query). */
bool stk_handles(const char *path);

/* Takes over a connection whose request head has been read: bev (opened with
 * BEV_OPT_CLOSE_ON_FREE; its input may already hold the start of a body) and
 * rq both become the stack's. */
void stk_take(struct stk *st, struct bufferevent *bev, struct req_request *rq);

#endif
