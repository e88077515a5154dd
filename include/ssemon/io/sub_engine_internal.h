/*
 * sub_engine_internal: the subscription engine's hook for one-shot
 * transfers (HTTP requests that are not streams) on its libcurl multi
 * handle, so every transfer of a process shares one multi handle, one
 * connection cache and one set of socket and timer events on the loop.
 * Implemented in src/io/subscription.c; used by io modules only
 * (http_request), never by commands.
 *
 * The owner embeds a struct sub_transfer, sets st_easy (an easy handle
 * configured by the owner, whose CURLOPT_PRIVATE stays NULL: the engine
 * tells its own streams from transfers by it), st_done and st_release,
 * then calls sub_engine_transfer_start. From then on exactly one of these
 * happens, always from the event loop and never from inside
 * sub_engine_transfer_start:
 * - the transfer ends: st_done(t, rc) with the handle already out of the
 *   multi and `t` no longer known to the engine (the owner may free both);
 * - the owner calls sub_engine_transfer_cancel: st_release(t), at once or
 *   at the end of the current engine callback (libcurl forbids removing a
 *   handle from inside its callbacks), with the handle out of the multi;
 * - sub_engine_free runs first: st_release(t), from inside sub_engine_free.
 * st_release must free without calling anyone back.
 */
#ifndef SSEMON_SUB_ENGINE_INTERNAL_H
#define SSEMON_SUB_ENGINE_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

struct sub_engine;

struct sub_transfer {
    /* Set by the owner before sub_engine_transfer_start. */
    CURL *st_easy;
    void (*st_done)(struct sub_transfer *t, CURLcode rc);
    void (*st_release)(struct sub_transfer *t);
    /* The engine's. */
    struct sub_transfer *st_prev;
    struct sub_transfer *st_next;
    struct sub_transfer *st_reap_next;
    bool st_on_reap;
    bool st_attached;  /* the easy handle is in the multi */
    bool st_cancelled; /* release pending */
};

/* Adds the transfer to the engine's multi handle (deferred to the end of
 * the current engine callback when called from inside libcurl). Returns 0,
 * or -1 with errno when libcurl refused it at once (nothing is called back
 * then, and the owner still owns `t`). */
int sub_engine_transfer_start(struct sub_engine *e, struct sub_transfer *t);

/* Cancels a started transfer whose st_done has not run: st_release follows
 * (see above), st_done never. */
void sub_engine_transfer_cancel(struct sub_engine *e, struct sub_transfer *t);

/* Transfers started and neither done nor cancelled. */
size_t sub_engine_transfer_count(const struct sub_engine *e);

/* The TLS and proxy settings of one connection, as sub_options and
 * http_request_options give them (every string copied by libcurl). */
struct sub_transport_options {
    const char *sto_ca_file;
    const char *sto_client_cert;
    const char *sto_client_key;
    const char *sto_proxy; /* NULL, a URL or SUB_PROXY_ENV (subscription.h) */
    const char *sto_no_proxy;
    bool sto_insecure;
};

/* Sets them on `c`: verification (or none when insecure), the CA bundle,
 * the client certificate and key, and the proxy policy of subscription.h.
 * Returns libcurl's code of the first option it refused. */
CURLcode sub_engine_set_transport(CURL *c, const struct sub_transport_options *t);

#endif
