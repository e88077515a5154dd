/*
 * violation: the stable vocabulary of what can go wrong with a stream.
 * Class ids are promises to users: they appear in `ssemon check` output,
 * journald fields (SSEMON_CLASS), metric labels and docs/violations.md.
 * Pure core module.
 */
#ifndef SSEMON_VIOLATION_H
#define SSEMON_VIOLATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum violation_class {
    VIOLATION_CONNECT_FAILED = 0, /* no HTTP response: DNS, refused, TLS, timeout */
    VIOLATION_HTTP_STATUS,        /* final status not the contract's (200) */
    VIOLATION_CONTENT_TYPE,       /* not text/event-stream */
    VIOLATION_HEADER,             /* a response header rule broken */
    VIOLATION_STREAM_ENDED,       /* stream ended (or broke) before a final state */
    VIOLATION_SSE_SYNTAX,         /* SSE-level anomaly: unknown field, no colon, bad UTF-8 ... */
    VIOLATION_LINE_TOO_LONG,      /* a line or event beyond the parser's limits */
    VIOLATION_DATA_NOT_JSON,      /* data must be JSON and is not */
    VIOLATION_UNKNOWN_EVENT,      /* an event kind the contract does not declare */
    VIOLATION_ORDER,              /* an event not allowed in the current state */
    VIOLATION_SCHEMA,             /* payload breaks its schema, a variable, an envelope */
    VIOLATION_CORRELATION_ID,     /* correlation id missing, present, changed, wrong */
    VIOLATION_HEARTBEAT_MISSED,   /* no heartbeat within interval x tolerance */
    VIOLATION_FIRST_EVENT_LATE,   /* first event later than the contract allows */
    VIOLATION_LIFECYCLE_TIMEOUT,  /* final state not reached in time */
    /* Probe runs (a trigger request, then expected events): */
    VIOLATION_PROBE_FAILED,  /* the trigger failed: connect, timeout, status, capture */
    VIOLATION_PROBE_TIMEOUT, /* an expected event did not arrive in time */
    VIOLATION_PROBE_ORDER,   /* expected events arrived out of order */
};
#define VIOLATION_CLASS_COUNT 18
/* The classes a subscription's stream can have (0 .. count - 1): what
 * per-subscription counters and metrics list. The probe classes follow. */
#define VIOLATION_STREAM_CLASS_COUNT 15

/* One scale, the same word everywhere (journald SSEMON_SEVERITY, /status,
 * the alerts' severity label): error makes the subscription unhealthy,
 * warning and info do not. */
enum violation_severity {
    VIOLATION_ERROR = 0,
    VIOLATION_WARNING,
    VIOLATION_INFO,
};

/* A reported violation. Strings are owned by the reporter and valid only
 * during the callback that carries it; copy what you keep. */
struct violation {
    enum violation_class v_class;
    enum violation_severity v_severity;
    const char *v_message; /* one readable line */
    const char *v_event;   /* event kind involved, or NULL */
    const char *v_state;   /* order state at the time, or NULL */
    const char *v_excerpt; /* bounded excerpt of the offending data, or NULL */
    uint64_t v_time_ms;    /* the caller's clock, as passed in */
};

#define VIOLATION_EXCERPT_MAX 200

/* "connect_failed", "http_status", ...; NULL for an out-of-range value. */
const char *violation_class_name(enum violation_class c);
/* Parses a class name; returns -1 when unknown. */
int violation_class_from_name(const char *name);
const char *violation_severity_name(enum violation_severity s);
/* syslog priority for journald, from the severity alone: error 3 (err),
 * warning 4 (warning), info 6 (info). */
int violation_severity_priority(enum violation_severity s);
/* The priority of a violation of class `c` with severity `s`: the
 * severity's (the class does not change it). */
int violation_priority(enum violation_class c, enum violation_severity s);
/* The fixed journald MESSAGE_ID of a class: 32 lower-case hex digits. */
const char *violation_message_id(enum violation_class c);
/* True for the classes only a probe run reports (probe_failed,
 * probe_timeout, probe_order); false for stream classes and out of range. */
bool violation_class_is_probe(enum violation_class c);

#endif
