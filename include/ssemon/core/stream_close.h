/*
 * stream_close: why a stream connection ended, as a value. The HTTP client
 * (io/subscription) reports it, recordings (core/recording) store it, and
 * the validator's callers classify it. Pure core module.
 */
#ifndef SSEMON_CORE_STREAM_CLOSE_H
#define SSEMON_CORE_STREAM_CLOSE_H

#include <stdbool.h>

enum stream_close_reason {
    STREAM_CLOSE_EOF = 0,      /* the server ended the stream cleanly */
    STREAM_CLOSE_TRANSPORT,    /* network, TLS or HTTP framing error */
    STREAM_CLOSE_HTTP_STATUS,  /* final status other than 200 (or too many redirects) */
    STREAM_CLOSE_CONTENT_TYPE, /* 200 but not text/event-stream */
    STREAM_CLOSE_IDLE_TIMEOUT, /* no body byte for the idle timeout */
    STREAM_CLOSE_STOPPED,      /* the caller stopped the subscription */
};
#define STREAM_CLOSE_REASON_COUNT 6

/* Stable lower-case name: "eof", "transport", "http_status", "content_type",
 * "idle_timeout", "stopped"; "unknown" for any other value. */
const char *stream_close_reason_name(enum stream_close_reason r);

/* The reason named `name` (as stream_close_reason_name writes it). Returns
 * false when no reason has that name. */
bool stream_close_reason_parse(const char *name, enum stream_close_reason *out);

#endif
