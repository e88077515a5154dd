/*
 * monitor: one subscription watched live and judged continuously. Adapter
 * module gluing the subscription engine to a judge (io/judge: the validator
 * and the timer that drives its clock-based rules, so a silent stream is
 * reported while it is silent), and keeping everything the daemon shows
 * about the subscription: its state, health, counters, histograms and last
 * violation.
 *
 * The monitor never prints or logs: violations and lifecycle changes go to
 * the caller's callbacks (the journal sink, the status server).
 *
 * What it sees: mc_on_event shows every event of a kind the contract
 * declares, classified by the validator, at its receive time (probes match
 * expectations on it). The monitor is live only: a replay has no monitor.
 *
 * Per attempt: with mo_prepare, each connection attempt gets its own URL,
 * headers and variables (a fresh request id per connection, which a probe
 * reads back with monitor_var).
 */
#ifndef SSEMON_MONITOR_H
#define SSEMON_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/condition.h"
#include "ssemon/core/contract.h"
#include "ssemon/core/flight.h"
#include "ssemon/core/minute_ring.h"
#include "ssemon/core/validator.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/subscription.h"

struct event_base;
struct monitor;

enum monitor_state {
    MONITOR_CONNECTING = 0,
    MONITOR_STREAMING,
    MONITOR_BACKOFF,
    MONITOR_STOPPED,
};

/* "connecting", "streaming", "backoff", "stopped". */
const char *monitor_state_name(enum monitor_state s);

enum monitor_lifecycle {
    MONITOR_CONNECTED = 0, /* the first stream of this monitor opened */
    MONITOR_LOST,          /* a streaming (or healthy) subscription failed */
    MONITOR_RECOVERED,     /* a stream opened after one or more failures */
};

/* Buckets (upper bounds, seconds) of the two histograms, then +Inf. */
#define MONITOR_GAP_BUCKETS 12
#define MONITOR_LATENCY_BUCKETS 11
#define MONITOR_RATIO_BUCKETS 6
extern const double monitor_gap_bounds[MONITOR_GAP_BUCKETS];
extern const double monitor_latency_bounds[MONITOR_LATENCY_BUCKETS];
/* Heartbeat gap / (interval x tolerance): the same buckets for every
 * subscription, so "gaps near the limit" is one alert rule. */
extern const double monitor_ratio_bounds[MONITOR_RATIO_BUCKETS];

struct monitor_histogram {
    uint64_t mh_counts[16]; /* per bucket (not cumulative), last = +Inf */
    uint64_t mh_count;
    /* Sum of the observations in millionths (of a second, or of the
     * ratio), each rounded to the nearest: an integer stays exact however
     * long the daemon runs, and is written without floating point. */
    uint64_t mh_sum_micro;
};

/* Counts one observation of `seconds` in `h`, whose `n` finite bucket
 * bounds are `bounds` (n < 16: the last count is +Inf). */
void monitor_histogram_observe(struct monitor_histogram *h, const double *bounds, size_t n,
                               double seconds);

#define MONITOR_TEXT_MAX 256

/* A violation kept for display; times are wall-clock ms since the epoch. */
struct monitor_violation {
    enum violation_class mv_class;
    enum violation_severity mv_severity;
    char mv_message[MONITOR_TEXT_MAX];
    char mv_event[64];
    char mv_state[64];
    char mv_excerpt[VIOLATION_EXCERPT_MAX + 1];
    uint64_t mv_wall_ms;
    char mv_evidence[200]; /* the evidence file's name (io/evidence); "": none */
};

/* Keeps `v` for display: its texts copied (cut on a character boundary),
 * stamped with `wall_ms`. */
void monitor_violation_keep(struct monitor_violation *out, const struct violation *v,
                            uint64_t wall_ms);

struct monitor_stats {
    enum monitor_state ms_state;
    uint64_t ms_connected_since_wall_ms; /* 0: not streaming */
    uint64_t ms_reconnects;
    uint64_t ms_events;
    uint64_t ms_connection_events; /* events of the current connection; 0 at each open */
    uint64_t ms_heartbeats;
    uint64_t ms_bytes;
    uint64_t ms_last_event_wall_ms;     /* 0: never */
    uint64_t ms_last_heartbeat_wall_ms; /* 0: never */
    uint64_t ms_violations_total;
    uint64_t ms_violations[VIOLATION_CLASS_COUNT];
    uint64_t ms_last_violation_wall_ms[VIOLATION_CLASS_COUNT]; /* per class; 0: none */
    /* The severity of each class's last violation (strictness decides it
     * for some classes). */
    enum violation_severity ms_last_violation_severity[VIOLATION_CLASS_COUNT];
    uint64_t ms_consecutive_failures;
    bool ms_has_last_violation;
    struct monitor_violation ms_last_violation;
    uint64_t ms_last_error_mono_ms;        /* monotonic time of the last error violation; 0: none */
    struct monitor_histogram ms_gap;       /* heartbeat gaps */
    struct monitor_histogram ms_latency;   /* first-event latency */
    struct monitor_histogram ms_gap_ratio; /* heartbeat gap / limit */
    /* Events by kind: index i < n_events counts the contract's event i,
     * the last slot counts everything else (bounded label set). */
    uint64_t *ms_events_by_kind;
    size_t ms_n_kinds;
    /* The last stream ended in a final state, and no attempt since has
     * failed to open the next one. */
    bool ms_ended_by_contract;
    /* Open conditions (see core/condition.h), since in wall-clock ms. */
    struct condition_set ms_conditions;
    uint64_t ms_stall_reopens; /* streams closed and reopened for their silence */
    /* The last hour a minute a point, by wall-clock time (the status page's
     * charts): lanes MONITOR_MINUTE_*. */
    struct minute_ring ms_minutes;
};

#define MONITOR_MINUTE_EVENTS 0       /* events received */
#define MONITOR_MINUTE_VIOLATIONS 1   /* violations reported */
#define MONITOR_MINUTE_GAP_PERMILLE 2 /* the longest heartbeat gap / its limit, x 1000 */

/* Whether the subscription counts as up (ssemon_subscription_up): its
 * stream is open, or it is between lifecycles of a stream that ended by
 * contract (the clean end in a final state and the reconnect that follows,
 * until that reconnect fails). 0 only while the monitor cannot get a stream
 * it should have. */
bool monitor_stats_up(const struct monitor_stats *st);

struct monitor_callbacks {
    void (*mc_on_violation)(void *ctx, struct monitor *m, const struct violation *v);
    /* Every event of a known kind on the current stream, as the validator
     * classified it (see validator_seen), at its monotonic receive time
     * now_ms, after it was judged. NULL: none (and no cost). Runs inside
     * the validator: it may read the monitor (monitor_var, monitor_stats),
     * but must not stop, start or free it. */
    void (*mc_on_event)(void *ctx, struct monitor *m, uint64_t now_ms,
                        const struct validator_seen *s);
    /* `failures`: consecutive failed attempts before a RECOVERED; `detail`:
     * the error text for LOST. */
    void (*mc_on_lifecycle)(void *ctx, struct monitor *m, enum monitor_lifecycle what,
                            uint64_t failures, const char *detail);
};

/* One connection attempt's target and variables, filled by mo_prepare. */
struct monitor_attempt {
    /* malloc'ed. NULL: mo_sub's URL and headers (ma_headers ignored);
     * else ma_headers (array and strings malloc'ed, "Name: value" as
     * so_headers) are this attempt's whole header list. */
    char *ma_url;
    char **ma_headers;
    size_t ma_n_headers;
    /* Array malloc'ed; names and values malloc'ed. Set over mo_val's
     * variables (same name: this value) for the stream the attempt opens. */
    struct validator_var *ma_vars;
    size_t ma_n_vars;
};

/* Frees everything in `a` and zeroes it. */
void monitor_attempt_clear(struct monitor_attempt *a);

struct monitor_options {
    const char *mo_name;                /* copied */
    const char *mo_display_url;         /* redacted URL for displays; copied */
    const char *mo_description;         /* free text for displays; NULL: none; copied */
    const struct contract *mo_contract; /* must outlive the monitor */
    struct sub_options mo_sub;          /* copied by the engine */
    struct validator_options mo_val;    /* vars copied by the validator */
    uint64_t mo_healthy_window_ms;      /* an error violation this recent: unhealthy */
    /* A stream silent for this many times its heartbeat limit (interval x
     * tolerance, measured from its last heartbeat or its open) is closed
     * and reopened, reported as a MONITOR_LOST lifecycle with the detail
     * "reopened after N ms of silence". 0: never. */
    unsigned mo_stall_reopen_factor;
    /* NULL: mo_sub's URL/headers and mo_val's vars for every attempt.
     * Otherwise called before each connection attempt (`attempt` 1-based,
     * as sci_attempt) with *out zeroed, to fill it; the monitor takes
     * ownership of everything in *out (frees it with monitor_attempt_clear,
     * whatever is returned) and uses url/headers for that attempt and vars
     * for the stream it opens. Returns 0, or -1: the attempt fails as a
     * connect_failed violation with message "cannot prepare the request"
     * (also when the URL or a header is refused, or memory runs out), and
     * the next attempt follows the backoff. Must not stop, start or free
     * the monitor. */
    int (*mo_prepare)(void *ctx, struct monitor *m, uint64_t attempt, struct monitor_attempt *out);
    void *mo_prepare_ctx;
    /* The flight recorder's bounds (core/flight); 0: its defaults
     * (FLIGHT_DEFAULT_EVENTS, FLIGHT_DEFAULT_BYTES). */
    size_t mo_flight_events;
    size_t mo_flight_bytes;
};

/* Creates a stopped monitor. Returns NULL (errno set) on failure. */
struct monitor *monitor_new(struct sub_engine *e, struct event_base *base,
                            const struct monitor_options *o, const struct monitor_callbacks *cbs,
                            void *ctx);
int monitor_start(struct monitor *m);
/* Closes the connection; the stream is not judged for its end. */
void monitor_stop(struct monitor *m);
void monitor_free(struct monitor *m);

const char *monitor_name(const struct monitor *m);
/* The options' mo_display_url (a template's text, not an attempt's URL). */
const char *monitor_display_url(const struct monitor *m);
/* Whether its TLS is not verified (mo_sub.so_insecure). */
bool monitor_insecure(const struct monitor *m);
const struct contract *monitor_contract(const struct monitor *m);
/* The options' mo_description, NULL when none. */
const char *monitor_description(const struct monitor *m);
/* Replaces it (copied; NULL: none): a reload that changes only the text
 * keeps the stream. Returns 0, or -1 when out of memory (the old one is
 * kept). */
int monitor_set_description(struct monitor *m, const char *text);
const struct monitor_stats *monitor_stats(const struct monitor *m);
/* Up (monitor_stats_up), no condition open, and no error violation within
 * the healthy window, at monotonic time now_ms. */
bool monitor_healthy(const struct monitor *m, uint64_t now_ms);
/* The current order state, or NULL. */
const char *monitor_order_state(const struct monitor *m);
/* The value of variable `name` for the current (or last) connection: what
 * the attempt set, else the configured one (mo_val). NULL when none. Valid
 * until the next attempt. */
const char *monitor_var(const struct monitor *m, const char *name);
/* Monotonic ms at which the current stream opened (0 when not streaming). */
uint64_t monitor_streaming_since_ms(const struct monitor *m);

/* The subscription's own recent violations: a ring of the last
 * MONITOR_RECENT_MAX, so a flapping subscription never evicts another's.
 * Each is kept packed (its texts at their length, about 150 to 800 bytes)
 * in a byte budget of MONITOR_RECENT_BYTES, allocated at the
 * subscription's first violation (none before), which doubles (up to 50
 * times the largest packed violation, about 40 KiB) only when evicting by
 * bytes would keep fewer than MONITOR_RECENT_MAX: the last 50 are always
 * kept, and ordinary violations never grow it. */
#define MONITOR_RECENT_MAX 50
#define MONITOR_RECENT_BYTES (16u * 1024u)
size_t monitor_recent_count(const struct monitor *m);
/* Violation i, 0 the oldest, unpacked into `out`; false when out of
 * range. */
bool monitor_recent(const struct monitor *m, size_t i, struct monitor_violation *out);

/* The flight recorder of the current (or last) connection: its response
 * status and headers and its recent frames as received. */
const struct flight *monitor_flight(const struct monitor *m);

/* How the last connection ended (kept for evidence of a response that
 * never opened a stream: http_status, content_type). */
struct monitor_close {
    bool mcl_valid; /* some connection ended */
    enum stream_close_reason mcl_reason;
    long mcl_status;
    char mcl_content_type[128];
    char mcl_error[256];
    bool mcl_before_headers;
    /* The response's redirect target and, for a refused response
     * (http_status, content_type), its first SUB_MAX_BODY body bytes (raw,
     * any bytes); "" and 0 when none. */
    char mcl_location[SUB_MAX_LOCATION + 1];
    char *mcl_body; /* SUB_MAX_BODY bytes, allocated at the first body */
    size_t mcl_body_len;
    /* A refused response's headers (as the subscription lists them),
     * pointing into mcl_header_buf (both allocated at the first refused
     * response with headers); 0 when none. */
    struct recording_field *mcl_headers;
    size_t mcl_n_headers;
    char *mcl_header_buf;
};
const struct monitor_close *monitor_last_close(const struct monitor *m);

/* Names the evidence file of the last violation (its ms_last_violation
 * and the newest entry of the ring); `name` is copied. */
void monitor_set_evidence(struct monitor *m, const char *name);

#endif
