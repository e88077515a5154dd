/*
 * status_render: the status endpoint's documents. The /status JSON
 * document and the Prometheus text exposition (format 0.0.4), rendered
 * from the daemon's monitors through a view, or from hand-made rows (tests
 * and benches render statistics no live stream produces on demand). No
 * I/O: text goes to a json_writer the caller owns and sends. Io layer (it
 * reads monitors); every function and private name starts with
 * status_render_ (the shared types status_view, status_row, status_recent,
 * status_json and status_metrics keep their names).
 *
 * Both documents can be rendered in slices (status_render_json_begin/next,
 * status_render_metrics_begin/next): the server sends a large one while it
 * is being written, and its loop runs between slices.
 *
 * Ownership: everything a status_view or status_row points to is the
 * caller's and only borrowed during the call (or, for the slice renderers,
 * until the last _next call); a struct status_json or status_metrics is
 * the caller's, freed with its _free function.
 */
#ifndef SSEMON_STATUS_RENDER_H
#define SSEMON_STATUS_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/minute_ring.h"
#include "ssemon/io/journal_writer.h"
#include "ssemon/io/monitor.h"

struct json_writer;
struct evidence;

/* A violation kept in the daemon's recent list. */
struct status_recent {
    char sr_subscription[128]; /* "" for a probe's trigger failure */
    char sr_probe[128];        /* "" unless a probe's run reported it */
    struct monitor_violation sr_v;
};

/* Buckets (upper bounds, seconds) of the probes' histograms, then +Inf:
 * 1 ms to 30 s. */
#define STATUS_PROBE_BUCKETS 14
extern const double status_probe_bounds[STATUS_PROBE_BUCKETS];

/* One expectation (or stream) of a probe: its deliveries over the
 * daemon's life and its outcome in the last finished run. */
struct status_probe_step {
    const char *sps_subscription; /* a subscription name, or "stream/N" */
    const char *sps_event;        /* "kind[:variant]", or "final" */
    struct monitor_histogram sps_delivery;
    uint64_t sps_p50_ms; /* over the last deliveries; UINT64_MAX: none */
    uint64_t sps_p99_ms;
    const char *sps_last_result;   /* "ok", "timeout", ...; NULL: no finished run */
    uint64_t sps_last_delivery_ms; /* UINT64_MAX: none */
    /* The last hour a minute a point, by wall-clock time (the status
     * page's chart): lanes STATUS_PROBE_MINUTE_*. */
    struct minute_ring sps_minutes;
};

#define STATUS_PROBE_MINUTE_P50 0        /* the highest p50 (ms) after a delivery that minute */
#define STATUS_PROBE_MINUTE_P99 1        /* the same for p99 */
#define STATUS_PROBE_MINUTE_DELIVERIES 2 /* deliveries that minute */

struct status_probe_capture {
    const char *spc_name;
    const char *spc_value;
};

/* A probe as the daemon shows it. Strings are borrowed for one render. */
struct status_probe {
    const char *sp_name;
    const char *sp_description; /* the configuration's "description"; NULL: none */
    uint64_t sp_every_ms;
    uint64_t sp_runs;                            /* finished runs, failed ones included */
    uint64_t sp_skipped;                         /* runs not triggered: a subscription was down */
    uint64_t sp_failures[VIOLATION_CLASS_COUNT]; /* failed runs by the class that failed them */
    uint64_t sp_failures_total;
    bool sp_has_finished; /* a run finished (ok or failed) */
    bool sp_success;      /* the last finished run succeeded */
    bool sp_running;      /* a run is in progress */
    /* The last run (finished or skipped); sp_last_run_id NULL: none yet. */
    const char *sp_last_run_id;
    uint64_t sp_last_started_wall_ms;
    const char *sp_last_result; /* "ok", "failed", "skipped" */
    uint64_t sp_last_duration_ms;
    const struct status_probe_capture *sp_captures;
    size_t sp_n_captures;
    /* Steps: expectations in order, then streams. */
    const struct status_probe_step *sp_steps;
    size_t sp_n_steps;
    /* The last failure; sp_last_failure NULL: none. */
    const char *sp_last_failure;
    enum violation_class sp_last_failure_class;
    uint64_t sp_last_failure_wall_ms;
    /* Its evidence file's name (GET /evidence/NAME); NULL: none. */
    const char *sp_last_failure_evidence;
    struct monitor_histogram sp_trigger; /* trigger durations */
};

/* How /metrics exports the three histograms every subscription keeps
 * (ssemon_heartbeat_gap_seconds, ssemon_heartbeat_gap_ratio,
 * ssemon_first_event_latency_seconds): the configuration's
 * "metrics": {"histograms": ...}. */
enum status_histograms {
    STATUS_HISTOGRAMS_SUBSCRIPTION = 0, /* label subscription, one each */
    /* Label contract: one per contract name, each bucket, _sum and _count
     * the sum of its subscriptions' at render time ("" for a subscription
     * without a contract). */
    STATUS_HISTOGRAMS_CONTRACT,
    STATUS_HISTOGRAMS_NONE, /* the three families are left out */
};

/* A subscription the configuration has with "enabled": false: listed in
 * /status after the running ones, with "state": "disabled" (not judged,
 * so "healthy": true; it never fails /readyz and has no metrics). */
struct status_disabled {
    const char *sd_name;
    const char *sd_url;         /* already redacted */
    const char *sd_contract;    /* as the file names it; may be NULL */
    const char *sd_description; /* NULL: none */
};

struct status_auth_counts;

/* What the daemon shows; valid for the duration of one request. */
struct status_view {
    const char *sv_version;
    uint64_t sv_started_wall_ms;
    uint64_t sv_started_mono_ms;
    /* The "config" object of /status and the ssemon_config_* families of
     * /metrics: the file, when the running configuration was loaded (at
     * start or by the last successful reload), and the last reload
     * (sv_reload_wall_ms 0: none yet; sv_reload_error is why it was
     * refused, NULL when it succeeded). */
    const char *sv_config_path;
    uint64_t sv_config_loaded_wall_ms;
    uint64_t sv_reload_wall_ms;
    bool sv_reload_ok;
    const char *sv_reload_error;
    struct monitor *const *sv_monitors; /* enabled subscriptions, config order */
    size_t sv_n_monitors;
    const struct status_recent *sv_recent; /* oldest first */
    size_t sv_n_recent;
    /* Changes whenever the monitors shown change (a reload): a document
     * rendered in slices over several loop passes is abandoned then, since
     * the monitors it points into may be gone. */
    uint64_t sv_generation;
    /* Where the daemon's records went: the "journal" object at the end of
     * /status and the ssemon_journal_* families at the end of /metrics,
     * both as they are when a render begins. NULL: neither is written. */
    const struct journal_stats *sv_journal;
    /* The probes: the "probes" array of /status, the ssemon_probe_*
     * families of /metrics and the failing probes of /readyz. */
    const struct status_probe *sv_probes;
    size_t sv_n_probes;
    /* The histogram families of /metrics (0: per subscription). */
    enum status_histograms sv_histograms;
    /* The disabled subscriptions, config order (shown, not run). */
    const struct status_disabled *sv_disabled;
    size_t sv_n_disabled;
    /* true: a subscription's ssemon_violations_total and
     * ssemon_condition_active list only the classes that happened or are
     * open, not every class (false, the default: zeros included). */
    bool sv_sparse;
    /* Whole families appended at the end of /metrics (the evidence
     * writer's, io/evidence); NULL: none. Borrowed for one render. */
    const char *sv_metrics_tail;
    size_t sv_metrics_tail_len;
    /* The evidence writer GET /evidence/FILE serves from; NULL: none. */
    struct evidence *sv_evidence;
    /* The endpoint listens beyond loopback without TLS or authentication:
     * "status_exposed" of /status. */
    bool sv_status_exposed;
    /* Basic authentication's counts (io/status_auth): the
     * ssemon_status_auth_total family at the end of /metrics. NULL: no
     * authentication, no family. */
    const struct status_auth_counts *sv_auth;
};

/* A wall-clock stamp (RFC 3339, milliseconds, UTC) as a JSON string, or
 * null for 0 ("never"): how every document of the endpoint writes times. */
void status_render_time(struct json_writer *w, uint64_t wall_ms);

/* One violation object as /status's recent_violations lists it (with
 * "subscription" when `subscription` is not NULL, "probe" when `probe` is
 * neither NULL nor ""). */
void status_render_violation(struct json_writer *w, const char *subscription, const char *probe,
                             const struct monitor_violation *mv);

/* Whether a probe is failing: its last finished run failed (what /readyz
 * lists and /status shows as "healthy": false). */
bool status_render_probe_failing(const struct status_probe *p);

/* Renderers, used by the server and by tests. `now_mono_ms` is the
 * monotonic clock at render time (clock_mono_ms): health is
 * monitor_healthy(m, now_mono_ms), each monitor carrying its own window,
 * and every time shown is a wall-clock stamp taken when it happened.
 *
 * status_render_json writes the whole /status document, or with
 * `only_name` that subscription's object alone (nothing at all when no
 * subscription has that name). status_render_metrics writes the
 * Prometheus text exposition (format 0.0.4). Both append to `w`; check
 * json_writer_failed() afterwards. */
void status_render_json(const struct status_view *v, const char *only_name, uint64_t now_mono_ms,
                        struct json_writer *w);
void status_render_metrics(const struct status_view *v, uint64_t now_mono_ms,
                           struct json_writer *w);

/* One subscription as the renderers see it. A monitor yields one through
 * status_render_row_from_monitor; tests build them by hand to render
 * statistics no live stream would produce on demand. Every pointer is
 * borrowed for the duration of one render. */
struct status_row {
    const char *row_name;
    const char *row_url;                 /* already redacted */
    const struct contract *row_contract; /* its name and event kinds; may be NULL */
    const struct monitor_stats *row_stats;
    bool row_healthy;
    bool row_insecure;           /* TLS not verified: "insecure": true in /status */
    const char *row_description; /* the configuration's "description"; NULL: none */
};

void status_render_row_from_monitor(const struct monitor *m, uint64_t now_mono_ms,
                                    struct status_row *out);

/* The renderers over explicit rows: the view supplies the daemon-wide
 * fields and the recent violations, `rows` stand in for its monitors
 * (v->sv_monitors is not read). */
void status_render_json_rows(const struct status_view *v, const struct status_row *rows,
                             size_t n_rows, const char *only_name, uint64_t now_mono_ms,
                             struct json_writer *w);
void status_render_metrics_rows(const struct status_view *v, const struct status_row *rows,
                                size_t n_rows, struct json_writer *w);

/* The /status document in slices: status_render_json_begin takes the rows
 * (each monitor's, health at `now_mono_ms`), the daemon-wide fields and
 * the recent violations at once; status_render_json_next appends whole
 * subscription objects, reading each monitor's counters as it writes them,
 * until it has appended at least `min_bytes` or reached the end, and
 * returns true once the document is complete. The monitors must stay alive
 * until the last status_render_json_next call (status_render_json_free
 * does not touch them). Returns NULL when out of memory. The slices
 * concatenated are the document status_render_json writes. */
struct status_json;
struct status_json *status_render_json_begin(const struct status_view *v, uint64_t now_mono_ms);
/* Over explicit rows (borrowed until the last status_render_json_next). */
struct status_json *status_render_json_begin_rows(const struct status_view *v,
                                                  const struct status_row *rows, size_t n_rows,
                                                  uint64_t now_mono_ms);
bool status_render_json_next(struct status_json *j, struct json_writer *w, size_t min_bytes);
void status_render_json_free(struct status_json *j);

/* The exposition in slices, the same way: status_render_metrics_begin
 * also escapes each label value once; status_render_metrics_next appends
 * whole lines, each subscription's lines of a family together (a
 * histogram's buckets, sum and count always agree). */
struct status_metrics;
struct status_metrics *status_render_metrics_begin(const struct status_view *v,
                                                   uint64_t now_mono_ms);
/* Over explicit rows (borrowed until the last status_render_metrics_next). */
struct status_metrics *status_render_metrics_begin_rows(const struct status_view *v,
                                                        const struct status_row *rows,
                                                        size_t n_rows);
bool status_render_metrics_next(struct status_metrics *m, struct json_writer *w, size_t min_bytes);
void status_render_metrics_free(struct status_metrics *m);

#endif
