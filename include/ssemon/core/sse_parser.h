/*
 * sse_parser: the WHATWG HTML "interpreting an event stream" algorithm, as a
 * browser's EventSource applies it, fed incrementally.
 *
 * Pure core module: no I/O, no clock, no global state. Input may arrive in
 * chunks of any size (down to one byte); the callbacks fire exactly as they
 * would for the whole stream in one buffer.
 *
 * Beyond the standard, the parser reports (without changing the result)
 * comments, retry values and anomalies a strict monitor wants to see, and it
 * bounds its memory: a line longer than max_line or an event whose data
 * exceeds max_event is reported, the event that contained it is discarded,
 * and parsing recovers at the next line.
 *
 * Memory: buffers grow on demand and are reused; steady state allocates
 * nothing per event. A buffer grown past SSE_PARSER_SHRINK_ABOVE is shrunk
 * again after the event that needed it.
 */
#ifndef SSEMON_SSE_PARSER_H
#define SSEMON_SSE_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSE_PARSER_DEFAULT_MAX_LINE ((size_t)1 << 20)  /* 1 MiB */
#define SSE_PARSER_DEFAULT_MAX_EVENT ((size_t)4 << 20) /* 4 MiB of data */
#define SSE_PARSER_SHRINK_ABOVE ((size_t)64 << 10)

enum sse_anomaly {
    /* A field name other than data, event, id or retry: the line is ignored. */
    SSE_ANOMALY_UNKNOWN_FIELD = 0,
    /* A non-empty line without a colon: the whole line is the field name. */
    SSE_ANOMALY_NO_COLON,
    /* Invalid or truncated UTF-8 in a line, replaced by U+FFFD. */
    SSE_ANOMALY_INVALID_UTF8,
    /* A U+0000 in a line (legal in data, but rarely intended). */
    SSE_ANOMALY_NUL,
    /* An id field containing U+0000: ignored, as the standard says. */
    SSE_ANOMALY_ID_NUL,
    /* A retry field whose value is not only ASCII digits: ignored. */
    SSE_ANOMALY_BAD_RETRY,
    /* Error: a line longer than max_line. Skipped to its end; its event is
     * discarded. `line` holds the first bytes of the line. */
    SSE_ANOMALY_LINE_TOO_LONG,
    /* Error: an event's data grew beyond max_event. The event is discarded. */
    SSE_ANOMALY_EVENT_TOO_LARGE,
    /* A valid retry field outside the reconnect range of its subscription,
     * which clamps it. Never reported by the parser (it knows no range): the
     * subscription reports it, once per connection (io/subscription.h). */
    SSE_ANOMALY_RETRY_OUT_OF_RANGE,
};
#define SSE_ANOMALY_COUNT 9

/* Stable lower-case name of an anomaly ("unknown_field", "no_colon", ...). */
const char *sse_anomaly_name(enum sse_anomaly kind);

/* A dispatched event. Pointers are valid only during the callback. Strings
 * are valid UTF-8 (invalid input already replaced) and may contain U+0000
 * (data and type; an id never does). */
struct sse_event {
    const char *type; /* "message" when the event had no (or an empty) event field */
    size_t type_len;
    const char *data; /* data lines joined by LF, final LF removed */
    size_t data_len;
    const char *id; /* the last event ID string at dispatch ("" when none) */
    size_t id_len;
};

/* Every callback may be NULL. `ctx` is the pointer given to sse_parser_new.
 * Callbacks must not call back into the same parser. */
struct sse_parser_callbacks {
    void (*on_event)(void *ctx, const struct sse_event *ev);
    /* Comment line: text after the colon, exactly (leading space kept). */
    void (*on_comment)(void *ctx, const char *text, size_t len);
    /* A valid retry field: the reconnection time in ms (saturates at UINT64_MAX). */
    void (*on_retry)(void *ctx, uint64_t ms);
    /* `line` is the offending line (after UTF-8 replacement), possibly
     * truncated to its first bytes for the size anomalies. */
    void (*on_anomaly)(void *ctx, enum sse_anomaly kind, const char *line, size_t len);
};

struct sse_parser_limits {
    size_t max_line;  /* bytes in one line, terminator excluded; 0 = default */
    size_t max_event; /* bytes of data in one event; 0 = default */
};

struct sse_parser_stats {
    uint64_t bytes;    /* bytes fed since creation */
    uint64_t lines;    /* complete lines processed */
    uint64_t events;   /* events dispatched */
    uint64_t comments; /* comment lines */
    uint64_t anomalies[SSE_ANOMALY_COUNT];
};

struct sse_parser;

/* Returns NULL on allocation failure. `limits` may be NULL (defaults).
 * `cbs` is copied. The caller owns the parser; free with sse_parser_free. */
struct sse_parser *sse_parser_new(const struct sse_parser_limits *limits,
                                  const struct sse_parser_callbacks *cbs, void *ctx);
void sse_parser_free(struct sse_parser *p);

/* Feeds `len` bytes. Returns 0, or -1 on allocation failure (the parser is
 * then reset to the start of a stream, last event ID kept). */
int sse_parser_feed(struct sse_parser *p, const void *buf, size_t len);

/* End of the stream: pending (unterminated) line and undispatched event are
 * discarded, as a browser does. The parser is ready for a new stream (a
 * reconnect): BOM handling restarts, the last event ID and the reconnection
 * time persist. */
void sse_parser_end(struct sse_parser *p);

/* Seeds the last event ID (buffer and string), as on a reconnect. */
int sse_parser_set_last_event_id(struct sse_parser *p, const char *id, size_t len);

/* The last event ID string (set at each dispatch). Valid until the next
 * call into the parser. `*len` receives its length. Never NULL. */
const char *sse_parser_last_event_id(const struct sse_parser *p, size_t *len);

/* The reconnection time set by the stream's last valid retry field. Returns
 * false when the stream never sent one. */
bool sse_parser_retry(const struct sse_parser *p, uint64_t *ms);

const struct sse_parser_stats *sse_parser_stats(const struct sse_parser *p);

#endif
