/*
 * status_server: the daemon's small local HTTP endpoint (libevent evhttp):
 * GET /status, /status/NAME (JSON), /metrics (Prometheus text 0.0.4),
 * /healthz, /readyz. Adapter. It reads the daemon's state through a view
 * callback at request time and at each slice of a large document (which it
 * sends in slices, chunked), so it never holds stale pointers across a
 * reload (a document in flight then is cut short), and it never blocks the
 * loop for long: slow or malformed clients are bounded by evhttp's limits
 * and timeouts, by a deadline for each whole request, and by 1 MiB queued
 * per client. Nobody can hold the port: at the connection cap, a new
 * connection closes the oldest one still waiting for its request, so
 * /healthz and /readyz are answered under any flood of connections. Io
 * layer; every function and private name starts with status_server_
 * (STATUS_SERVER_ for macros).
 *
 * Ownership: the server is the caller's (status_server_free). It borrows
 * the event base and `ctx`, which must outlive it, and copies what it keeps
 * of `listen` and `limits`. What a view points to is the daemon's: the
 * server reads it during the callback's turn of the loop, and a document
 * streamed over several turns keeps pointers into the monitors only while
 * the view's generation stays the same.
 */
#ifndef SSEMON_STATUS_SERVER_H
#define SSEMON_STATUS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/io/status_render.h"

struct event_base;
struct status_server;

typedef void (*status_server_view_fn)(void *ctx, struct status_view *out);

struct status_server_limits {
    size_t ssl_max_header_bytes; /* default 8 KiB */
    size_t ssl_max_body_bytes;   /* default 0: GET/HEAD only */
    /* Default 5. While a response is being sent: how long the client may
     * take in nothing (no byte acknowledged by its kernel, nothing leaving
     * the daemon's queue) before it is dropped; otherwise the connection's
     * read and write timeout. */
    int ssl_timeout_s;
    unsigned ssl_max_connections; /* default 64 */
    /* A request (line, headers, body) must have arrived whole this long
     * after the connection was accepted, or after the previous response on
     * it was sent; bytes trickling in do not extend it. Default 5. */
    int ssl_request_deadline_s;
};

/* The defaults above, the one place they are set. */
void status_server_limits_default(struct status_server_limits *l);

/* Listens on "HOST:PORT" (an IPv4 literal or [IPv6] literal, port 0 picks
 * a free one) or a unix socket path ("/...": mode 0660; a stale socket left
 * by a dead process is replaced, a live one or any other file is an error).
 * `limits` may be NULL for the defaults; in a given struct, a zero header
 * size, timeout, connection count or deadline means its default. The
 * server does not stop accepting at the cap: a new connection closes the
 * open one that has waited longest for its request, and a connection
 * accepted in one turn of the loop is read in the next before it can be
 * chosen. Connections being answered use a reserve of half the cap above
 * it; when every place is taken, the one answered longest goes, after a
 * grace of 500 ms (until then the server waits). Over TCP, the kernel
 * hands over a connection only once its client has sent something
 * (TCP_DEFER_ACCEPT), so connections that say nothing hold no place.
 * `view` is called at each request that shows state; `ctx` is passed back
 * to it. Returns NULL with a message in `err`. */
struct status_server *status_server_new(struct event_base *base, const char *listen,
                                        const struct status_server_limits *limits,
                                        status_server_view_fn view, void *ctx, char *err,
                                        size_t err_size);
/* Closes every connection and the listener (and removes the unix socket). */
void status_server_free(struct status_server *s);
/* Requires basic authentication (io/status_auth) from now on: every
 * request is checked before it is routed (/healthz and /readyz as the
 * checker says). `auth` is borrowed and must outlive the server or be
 * replaced first; NULL: none. */
struct status_auth;
void status_server_set_auth(struct status_server *s, struct status_auth *auth);
/* Speaks TLS (io/status_tls) on the connections accepted from now on;
 * open ones keep what they began with. `tls` is borrowed and must outlive
 * the server or be replaced first (a connection's SSL holds its own
 * reference to the context); NULL: plain HTTP. */
struct status_tls;
void status_server_set_tls(struct status_server *s, struct status_tls *tls);
/* The bound port (for "127.0.0.1:0" in tests), 0 for a unix socket. */
unsigned status_server_port(const struct status_server *s);
/* Connections currently open (accepted and not yet closed): at most the
 * cap and its reserve, half as many again. */
unsigned status_server_connections(const struct status_server *s);

#endif
