/*
 * http_request: one-shot HTTP requests on the event loop (the trigger of a
 * probe). Adapter module: each request is a libcurl easy handle on the
 * subscription engine's multi handle (sub_engine_internal.h), so it shares
 * the engine's socket and timer events and never blocks the loop: connect,
 * TLS, sending and receiving are driven by readiness, and host names are
 * resolved by libcurl's threaded resolver, as for subscriptions.
 *
 * Lifecycle: http_request_start -> done(ctx, result) from the loop, once,
 * after which the request frees itself; or http_request_cancel before done,
 * after which nothing is called back. sub_engine_free frees every request
 * still in flight without calling done.
 *
 * Request: the method (CURLOPT_CUSTOMREQUEST for any method but GET, HEAD
 * and POST), "User-Agent: ssemon/VERSION", then the caller's headers, which
 * replace a built-in one of the same name. With a body, no Content-Type is
 * sent unless the caller gives one (libcurl's form type is suppressed), and
 * no "Expect: 100-continue". HEAD asks for no body. Redirects are followed
 * up to hro_max_redirects (http and https only).
 *
 * Secrets: header values are never written into hrr_error: libcurl's error
 * text never holds them, and any header value of 4 or more bytes found in
 * it anyway is replaced by "***". Nothing here logs.
 *
 * Memory: at most hro_max_body + 1 bytes of response body per request,
 * whatever the response's size; the rest is read and counted only.
 */
#ifndef SSEMON_HTTP_REQUEST_H
#define SSEMON_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_request;
struct sub_engine;

#define HTTP_REQUEST_DEFAULT_TIMEOUT_MS 5000u
#define HTTP_REQUEST_DEFAULT_MAX_BODY 65536u

struct http_request_options {
    const char *hro_method;         /* "POST", "GET", ...: an HTTP token; NULL or "": GET */
    const char *hro_url;            /* http:// or https:// */
    const char *const *hro_headers; /* "Name: value" lines (see http_header_arg_valid) */
    size_t hro_n_headers;
    const void *hro_body; /* NULL: no body */
    size_t hro_body_len;
    uint64_t hro_timeout_ms;         /* whole request; 0: 5000 */
    uint64_t hro_connect_timeout_ms; /* 0: hro_timeout_ms */
    size_t hro_max_body;     /* response bytes kept; 0: 65536. Beyond: read, counted, discarded */
    const char *hro_ca_file; /* NULL: system store */
    bool hro_insecure;       /* disables TLS peer and host verification */
    const char *hro_client_cert; /* PEM client certificate (mutual TLS); NULL = none */
    const char *hro_client_key;  /* PEM key of hro_client_cert; NULL = in hro_client_cert */
    const char *hro_proxy;       /* as so_proxy (subscription.h): NULL = no proxy */
    const char *hro_no_proxy;    /* as so_no_proxy */
    long hro_max_redirects;      /* 0: do not follow (a 3xx is then the response) */
};

/* Pointers valid only during the done callback. */
struct http_request_result {
    /* Final status; 0: no response. A response whose body was cut short
     * (the connection failed after the headers) has both a status and an
     * error. With too many redirects it is the last 3xx, with an error. */
    long hrr_status;
    /* "" when a response came (whatever its status); else what failed:
     * libcurl's text, with the system's reason in parentheses when there is
     * one ("Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't
     * connect to server (Connection refused)"), or "timed out after N ms"
     * (hro_timeout_ms), or "connect timed out after N ms" when no
     * connection was made within a shorter hro_connect_timeout_ms. */
    const char *hrr_error;
    bool hrr_timed_out;           /* either timeout fired */
    const char *hrr_body;         /* NUL-terminated (a NUL is appended), hrr_body_len bytes */
    size_t hrr_body_len;          /* at most hro_max_body */
    uint64_t hrr_body_total;      /* bytes the response body had (as received) */
    const char *hrr_content_type; /* of the final response; "" when none */
    uint64_t hrr_started_us;      /* clock_mono_us when http_request_start was called */
    uint64_t hrr_finished_us;     /* clock_mono_us when it completed */
};

typedef void (*http_request_done_fn)(void *ctx, const struct http_request_result *r);

/* Starts a request on the engine's loop. `done` is called exactly once,
 * later, from the loop (never from inside http_request_start), unless the
 * request is cancelled or the engine freed first; the request frees itself
 * after `done` returns. Everything in `o` is copied. May be called from any
 * callback of the engine's loop, done callbacks and subscription callbacks
 * included. Returns NULL with errno EINVAL (no URL, a method that is not a
 * token, a header that fails http_header_arg_valid, an option libcurl
 * refuses) or ENOMEM when it could not even start. */
struct http_request *http_request_start(struct sub_engine *e, const struct http_request_options *o,
                                        http_request_done_fn done, void *ctx);

/* Cancels a started request whose done has not run; done will not run.
 * NULL ignored; ignored too from inside the request's own done. Safe from
 * any callback of the loop. */
void http_request_cancel(struct http_request *r);

/* Replaces, in the NUL-terminated `text`, every header value of request
 * `r` that occurs in it, and every word of one ("Bearer TOKEN": the token
 * alone too), by "***", as hrr_error is: for quoting a response body, which
 * may echo them. `text` never grows. Valid while `r` is: in flight, or
 * during its done callback. */
void http_request_redact(const struct http_request *r, char *text);

/* Requests in flight on the engine: started, and neither done (a request
 * no longer counts once its done is called) nor cancelled. */
size_t http_request_in_flight(const struct sub_engine *e);

#endif
