/*
 * evidence: evidence files. When a subscription reports an error
 * violation on an open stream, the daemon writes what its flight recorder
 * (core/flight) holds as a recording in the format of docs/recording.md,
 * replayable with `ssemon check --contract C FILE` to reproduce the
 * violation: the response status and headers (credential-carrying headers,
 * flight_header_secret, written as "***"), the recent frames at their
 * receive times, and an empty chunk at the violation's time so the replay's
 * clock reaches it (a heartbeat that was missed is missed again).
 *
 * The loop never waits: evidence_capture builds the file's text in memory
 * (bounded by the recorder's bounds) and hands it to a writer thread
 * through a bounded queue; a full queue, a failed write or memory running
 * out count as dropped, by reason. The writer names each file
 * SUBSCRIPTION-YYYYmmddTHHMMSS.mmmZ-CLASS.rec (a -N suffix before .rec when
 * that name is taken), writes it under a temporary name and renames it,
 * then enforces the caps over the files it keeps: at most `max_files` per
 * subscription and `max_bytes` in all, the oldest removed first. Before it
 * takes its first job the writer scans the directory once (off the loop):
 * regular files named as above (at most 100000; any more are ignored, with
 * a message on stderr) are kept files too, their subscription the part of
 * the name before -YYYYmmddT, ordered by the time in the name, the caps
 * applied to them; temporary files a crash left (".NAME.tmp") are removed.
 * So the caps hold across restarts. Only the names it wrote or found, and
 * still keeps, are served (evidence_known).
 *
 * An http_status or content_type violation (the response never opened a
 * stream) gets a file too: one connection closed with the response's status,
 * content type and reason, which a replay reports as the same class, with
 * the response's first 4 KiB of body, its redirect target and its headers
 * (redacted as above; the close's optional "body"/"body_base64",
 * "location" and "headers", docs/recording.md).
 *
 * Io layer, thread-safe where it says so; everything else from the loop.
 */
#ifndef SSEMON_EVIDENCE_H
#define SSEMON_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/violation.h"
#include "ssemon/io/monitor.h"

#define EVIDENCE_QUEUE_MAX 8
#define EVIDENCE_NAME_MAX 200

enum evidence_drop {
    EVIDENCE_DROP_QUEUE_FULL = 0,
    EVIDENCE_DROP_WRITE_ERROR,
    EVIDENCE_DROP_NO_MEMORY,
};
#define EVIDENCE_DROP_COUNT 3

/* "queue_full", "write_error", "no_memory". */
const char *evidence_drop_name(enum evidence_drop r);

struct evidence_stats {
    uint64_t es_files;                        /* files written */
    uint64_t es_dropped[EVIDENCE_DROP_COUNT]; /* by reason */
    uint64_t es_removed;                      /* removed by the caps */
    uint64_t es_kept_bytes;                   /* over the files kept */
    uint64_t es_kept_files;
};

struct evidence;

/* A writer for directory `dir` (created, mode 0750, when missing: its
 * parent must exist). NULL with a reason in err when the directory cannot
 * be made or the thread cannot start. */
struct evidence *evidence_new(const char *dir, uint64_t max_bytes, uint64_t max_files, char *err,
                              size_t err_size);
/* Writes what is queued, stops the thread, frees. NULL is ignored. */
void evidence_free(struct evidence *e);
const char *evidence_dir(const struct evidence *e);

/* Whether evidence is written for `v` of a monitor: an error violation
 * on a stream that opened, or an http_status / content_type one on the
 * response that ended the last connection (never connect_failed). */
bool evidence_wanted(const struct monitor *m, const struct violation *v);

/* Queues the evidence of `v` (evidence_wanted) for monitor `m`, at
 * `now_mono_ms` / `now_wall_ms`. Returns true with the file name (not the
 * path) in `name`, or false when it was dropped (counted). */
bool evidence_capture(struct evidence *e, const struct monitor *m, const struct violation *v,
                      uint64_t now_mono_ms, uint64_t now_wall_ms, char *name, size_t name_size);

/* Whether a probe's violation `v` gets an evidence file of subscription
 * `m`'s flight recorder: an error of class probe_failed, probe_timeout or
 * probe_order, and `m`'s stream opened. */
bool evidence_probe_wanted(const struct monitor *m, const struct violation *v);

/* evidence_capture for probe `probe`'s violation `v` (evidence_probe_wanted):
 * `m`'s flight recorder, as for a subscription's violation, in a file named
 * PROBE-YYYYmmddTHHMMSS.mmmZ-CLASS.rec (the probe's name with any byte
 * outside [A-Za-z0-9_.-], and a leading '.', written '_'). A probe's files
 * have their own per-subscription cap (evidence_max_files), apart from any
 * subscription's. */
bool evidence_capture_probe(struct evidence *e, const char *probe, const struct monitor *m,
                            const struct violation *v, uint64_t now_mono_ms, uint64_t now_wall_ms,
                            char *name, size_t name_size);

/* Thread-safe. A consistent copy of the counters. */
void evidence_stats(struct evidence *e, struct evidence_stats *out);

/* Thread-safe. Whether `name` is a file this writer wrote and still keeps
 * (a plain name: never one with '/', never "." or ".."). */
bool evidence_known(struct evidence *e, const char *name);

/* The Prometheus families of `st` (ssemon_evidence_files_total,
 * ssemon_evidence_dropped_total{reason}, ssemon_evidence_removed_total,
 * ssemon_evidence_kept_bytes, ssemon_evidence_kept_files), appended to
 * `w`. */
struct json_writer;
void evidence_metrics(const struct evidence_stats *st, struct json_writer *w);

/* The recording text evidence_capture queues for `v`, appended to `w`: `m`'s
 * flight recorder up to `now_mono_ms`; for http_status and content_type,
 * whose response never opened a stream, one connection closed with the
 * response's status, content type and reason (monitor_last_close). */
void evidence_render(const struct monitor *m, const struct violation *v, uint64_t now_mono_ms,
                     uint64_t now_wall_ms, struct json_writer *w);

#endif
