/*
 * subscription: long-lived SSE subscriptions (the HTTP client side of
 * ssemon). Adapter module: libcurl's multi-socket API driven by one libevent
 * base, any number of subscriptions per engine, each with its own parser,
 * reconnect policy and timers.
 *
 * Lifecycle: sub_engine_new -> subscription_new -> subscription_start ->
 * callbacks from the event loop -> subscription_stop / subscription_free ->
 * sub_engine_free. The process must call curl_global_init() before the
 * first sub_engine_new and curl_global_cleanup() after the last
 * sub_engine_free (main's job: libcurl's global state is not ours).
 *
 * Request: GET, "Accept: text/event-stream", "Cache-Control: no-cache"
 * (each replaced by a user header of the same name), the user headers, and
 * "Last-Event-ID" when a last event ID is known and non-empty. Redirects
 * are followed up to so_max_redirects (http and https only).
 *
 * Target: the URL and user headers of an attempt. so_url and so_headers at
 * first; the owner may give each attempt its own (a fresh request id per
 * connection) with subscription_set_target, from sc_on_prepare, which runs
 * just before each attempt's request is built.
 *
 * A connection opens when its final response has status 200 and a
 * Content-Type whose essence is text/event-stream; anything else fails it:
 * no body byte reaches the parser, only the first SUB_MAX_BODY bytes of the
 * refused response's body are kept (read for at most 2 s, then the transfer
 * ends) for on_closed (scl_body). Body bytes go to an sse_parser that lives
 * as long as the subscription, so the last event ID and the server's retry
 * survive reconnects.
 *
 * Reconnects (so_reconnect): after a connection that opened, the delay is
 * the server's retry field when the stream ever sent one, clamped into
 * [so_backoff_min_ms, so_backoff_max_ms] (backoff_clamp), else the backoff;
 * after a connection that never opened (transport failure before headers,
 * bad status, bad content type) it is always the backoff, so a failing
 * server is not hammered at its own retry rate. The backoff resets once a
 * connection has stayed open for so_healthy_ms. A retry field outside that
 * range is reported as the anomaly SSE_ANOMALY_RETRY_OUT_OF_RANGE, at most
 * once per connection (the first such field of the connection), with the
 * line "retry: N" (N the value as parsed, saturated at UINT64_MAX): a server
 * cannot set the monitor's pace, neither by retry: 0 nor by retry: 86400000.
 *
 * Re-entrancy: every callback may call subscription_stop, subscription_start
 * or subscription_free on its own or any other subscription of the engine,
 * and subscription_new. Work that libcurl forbids from inside its callbacks
 * is deferred to the end of the current event-loop callback. The engine
 * itself must not be freed from inside a callback.
 */
#ifndef SSEMON_SUBSCRIPTION_H
#define SSEMON_SUBSCRIPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/sse_parser.h"
#include "ssemon/core/stream_close.h"

struct event_base;
struct sub_engine;
struct subscription;

#define SUB_DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define SUB_DEFAULT_MAX_REDIRECTS 5
#define SUB_DEFAULT_HEALTHY_MS 30000u
/* on_open lists at most this many response headers, within this many bytes
 * of names and values; status and Content-Type are judged regardless. */
#define SUB_MAX_LISTED_HEADERS 64
#define SUB_MAX_LISTED_HEADER_BYTES 16384u
/* Longer Content-Type values are reported truncated (judged whole). */
#define SUB_MAX_CONTENT_TYPE 255u
/* A refused response's Location (or curl's CURLINFO_REDIRECT_URL) and body
 * are kept up to these many bytes (sub_closed_info). */
#define SUB_MAX_LOCATION 1024u
#define SUB_MAX_BODY 4096u

/* Proxies (so_proxy, and hro_proxy of http_request): NULL means no proxy at
 * all, whatever the environment says: libcurl's own reading of http_proxy,
 * https_proxy, all_proxy and no_proxy is turned off. A URL
 * ("http://host:port", "socks5h://host:port", ...) is the proxy of every
 * request but those to the hosts in so_no_proxy (libcurl's NOPROXY syntax: a
 * comma-separated list of host names, domains and addresses, "*" for all).
 * The value SUB_PROXY_ENV hands the choice to the environment variables, as
 * libcurl reads them (so_no_proxy is then ignored). */
#define SUB_PROXY_ENV "env"

struct sub_options {
    const char *so_url; /* http:// or https:// URL */
    /* "Name: value" strings (see http_header_arg_valid); an empty value is
     * sent as an empty header. A Last-Event-ID header is refused: use
     * so_last_event_id. */
    const char *const *so_headers;
    size_t so_nheaders;
    /* From the start of an attempt until the final response's headers
     * (connect, TLS, redirects, waiting for the server); 0 = default. */
    uint64_t so_connect_timeout_ms;
    uint64_t so_idle_timeout_ms;  /* no body byte for this long: reconnect; 0 = off */
    long so_max_redirects;        /* 0 = do not follow (a 3xx then fails) */
    uint64_t so_backoff_min_ms;   /* 0 = BACKOFF_DEFAULT_MIN_MS */
    uint64_t so_backoff_max_ms;   /* 0 = BACKOFF_DEFAULT_MAX_MS */
    uint64_t so_healthy_ms;       /* open this long resets the backoff; 0 = default */
    bool so_reconnect;            /* false: one connection per subscription_start */
    const char *so_ca_file;       /* PEM bundle; NULL = system store */
    bool so_insecure;             /* disables TLS peer and host verification */
    const char *so_client_cert;   /* PEM client certificate (mutual TLS); NULL = none */
    const char *so_client_key;    /* PEM key of so_client_cert; NULL = in so_client_cert */
    const char *so_proxy;         /* see SUB_PROXY_ENV; NULL = no proxy */
    const char *so_no_proxy;      /* hosts reached without so_proxy; NULL = none */
    const char *so_last_event_id; /* sent on the first connection; NULL or "" = none */
    struct sse_parser_limits so_limits;
    uint64_t so_seed; /* backoff jitter seed; 0 = derived from clock and address */
};

/* Every field to its default (reconnect on, 5 redirects, timeouts above). */
void sub_options_init(struct sub_options *o);

/* A response header; pointers valid only during the callback. */
struct sub_header {
    const char *sh_name;
    size_t sh_name_len;
    const char *sh_value; /* surrounding whitespace trimmed */
    size_t sh_value_len;
};

struct sub_connecting_info {
    uint64_t sci_attempt; /* 1-based count of attempts since subscription_new */
    /* Sent as Last-Event-ID; "" when none is sent. Valid during the callback. */
    const char *sci_last_event_id;
    size_t sci_last_event_id_len;
};

struct sub_open_info {
    long soi_status;
    const char *soi_content_type; /* NUL-terminated, may be truncated */
    const struct sub_header *soi_headers;
    size_t soi_nheaders;
    const char *soi_url; /* effective URL after redirects (not redacted) */
    long soi_redirects;
    uint64_t soi_ms_to_headers; /* from the start of the attempt */
};

/* Pointers valid only during the callback. */
struct sub_closed_info {
    enum stream_close_reason scl_reason;
    const char *scl_error;        /* human-readable detail; "" when none */
    long scl_status;              /* last response status seen; 0 = none */
    const char *scl_content_type; /* of that response; "" = none */
    bool scl_before_headers;      /* no final response headers were received */
    bool scl_will_retry;
    uint64_t scl_retry_in_ms; /* meaningful when scl_will_retry */
    uint64_t scl_ms_open;     /* how long the stream was open; 0 = never opened */
    /* The last response's redirect target: curl's resolved
     * CURLINFO_REDIRECT_URL (a redirect not followed, or one too many),
     * else its Location value; "" = none. At most SUB_MAX_LOCATION bytes. */
    const char *scl_location;
    /* For http_status and content_type: the refused response's first
     * SUB_MAX_BODY body bytes, read for at most 2 s; NULL/0 = none. */
    const char *scl_body;
    size_t scl_body_len;
    /* The last response's headers (as on_open lists them, at most
     * SUB_MAX_LISTED_HEADERS); NULL/0 = none. */
    const struct sub_header *scl_headers;
    size_t scl_nheaders;
};

/* Every callback may be NULL. `ctx` is the pointer given to
 * subscription_new. Pass-through callbacks have the sse_parser meaning and
 * fire only while the connection is open (on_retry gets the server's value,
 * before any clamp; on_anomaly also gets retry_out_of_range, right after the
 * on_retry of the field that caused it); on_chunk sees the raw body bytes
 * before they are parsed. After subscription_stop returns, or from inside
 * subscription_free, no callback fires any more. */
struct sub_callbacks {
    void (*sc_on_connecting)(void *ctx, struct subscription *s,
                             const struct sub_connecting_info *info);
    void (*sc_on_open)(void *ctx, struct subscription *s, const struct sub_open_info *info);
    void (*sc_on_event)(void *ctx, struct subscription *s, const struct sse_event *ev);
    void (*sc_on_comment)(void *ctx, struct subscription *s, const char *text, size_t len);
    void (*sc_on_retry)(void *ctx, struct subscription *s, uint64_t ms);
    void (*sc_on_anomaly)(void *ctx, struct subscription *s, enum sse_anomaly kind,
                          const char *line, size_t len);
    void (*sc_on_chunk)(void *ctx, struct subscription *s, const void *buf, size_t len);
    /* Once per connection that reached on_connecting. */
    void (*sc_on_closed)(void *ctx, struct subscription *s, const struct sub_closed_info *info);
    /* Called for every attempt (`attempt` as in sci_attempt), right after
     * on_connecting and just before the request is built: the owner may
     * call subscription_set_target here to give this attempt (and the
     * following ones, until changed) its own URL and headers. Returns 0, or
     * -1 to fail the attempt: on_closed then reports STREAM_CLOSE_TRANSPORT
     * "cannot prepare the request", before any request is made, and the
     * reconnect follows the backoff as for any attempt that never opened.
     * NULL: every attempt uses the current target. */
    int (*sc_on_prepare)(void *ctx, struct subscription *s, uint64_t attempt);
};

struct sub_stats {
    uint64_t ss_attempts;              /* connection attempts */
    uint64_t ss_reconnects;            /* attempts after the first */
    uint64_t ss_opens;                 /* attempts that reached an open stream */
    uint64_t ss_failures;              /* closes other than eof and stopped */
    uint64_t ss_bytes;                 /* body bytes received */
    uint64_t ss_events;                /* events dispatched */
    uint64_t ss_last_ms_to_headers;    /* of the last open */
    uint64_t ss_last_ms_to_first_byte; /* of the last open that got a body byte */
};

/* Returns NULL on allocation failure. `base` must outlive the engine. The
 * caller owns the engine. */
struct sub_engine *sub_engine_new(struct event_base *base);

/* Frees the engine and, silently (no callbacks), any subscription still
 * alive. Not from inside a callback. */
void sub_engine_free(struct sub_engine *e);

/* Creates a stopped subscription. Options, strings and callbacks are
 * copied. Returns NULL with errno ENOMEM (allocation) or EINVAL (no URL, a
 * header that fails http_header_arg_valid, a Last-Event-ID header, a last
 * event ID with CR or LF, an option libcurl refuses). The engine owns the
 * memory until subscription_free or sub_engine_free. */
struct subscription *subscription_new(struct sub_engine *e, const struct sub_options *o,
                                      const struct sub_callbacks *cbs, void *ctx);

/* Starts connecting (from the event loop, not synchronously). A no-op
 * while already running. Returns 0, or -1 if the timer could not be armed. */
int subscription_start(struct subscription *s);

/* Closes any connection and cancels any pending reconnect. If a connection
 * was active (connecting or open), on_closed(STREAM_CLOSE_STOPPED) is called
 * before this returns; it is the last callback until the next start. */
void subscription_stop(struct subscription *s);

/* Stops without callbacks and frees (deferred to the end of the current
 * event-loop callback when called from one). NULL is ignored. */
void subscription_free(struct subscription *s);

/* Replaces the target (so_url, so_headers) used by the next attempts from
 * the next request built on: inside sc_on_prepare, the attempt under way;
 * elsewhere, the next attempt (a connection already made keeps its own).
 * Copied. Redirects, the Last-Event-ID header and the backoff behave as
 * with one target. Returns 0, or -1 with errno ENOMEM or EINVAL (no URL, or
 * a header refused as by subscription_new); the old target stays then. A
 * URL libcurl refuses fails the attempt (on_closed, transport). */
int subscription_set_target(struct subscription *s, const char *url, const char *const *headers,
                            size_t n);

/* True between subscription_start and the end of the last connection
 * (stopped, or closed without reconnect). */
bool subscription_running(const struct subscription *s);

/* Valid while the subscription lives. */
const struct sub_stats *subscription_stats(const struct subscription *s);

/* The last event ID ("" when none), which the next connection sends.
 * Valid until the next call into the subscription or return to the loop. */
const char *subscription_last_event_id(const struct subscription *s, size_t *len);

#endif
