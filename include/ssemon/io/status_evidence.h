/*
 * status_evidence: the per-subscription documents of the status endpoint,
 * GET /status/NAME/violations and GET /status/NAME/events, rendered from a
 * monitor's violation ring and flight recorder (core/flight). No I/O: text
 * goes to a json_writer the caller owns and sends. Io layer (it reads
 * monitors).
 */
#ifndef SSEMON_STATUS_EVIDENCE_H
#define SSEMON_STATUS_EVIDENCE_H

#include "ssemon/io/monitor.h"

struct json_writer;

/* The subscription's last violations (monitor_recent), oldest first, as a
 * JSON array of the objects /status lists in recent_violations. NULL `m`
 * (a disabled subscription): []. */
void status_evidence_violations(const struct monitor *m, struct json_writer *w);

/* The flight recorder as a JSON object:
 *   {"subscription": NAME, "status": 200 | null, "opened": RFC 3339 | null,
 *    "headers": [[name, value], ...], "frames": [{"at": RFC 3339,
 *    "t_ms": ms since the open, "bytes": N, "complete": bool,
 *    "truncated": bool, "data": text}, ...], "frames_bytes": N,
 *    "dropped_bytes": N, "evicted": N}
 * frames oldest first; a header that carries a credential
 * (flight_header_secret) has the value "***"; "data" is the frame's bytes
 * with each invalid UTF-8 byte shown as U+FFFD (evidence files keep the
 * exact bytes). NULL `m` (a disabled subscription): no status, no frames. */
void status_evidence_events(const char *name, const struct monitor *m, struct json_writer *w);

/* GET /evidence/FILE: answers `req` with the evidence file `raw` (the
 * path's last segment, not decoded) when the writer `e` wrote it and keeps
 * it: 200 with the file (application/x-ndjson), else 404 (and 400 for a
 * name with '%', "..", or anything outside [A-Za-z0-9_.-]). A symbolic
 * link or anything but a regular file is refused. */
struct evhttp_request;
struct evidence;
void status_evidence_serve(struct evidence *e, const char *raw, struct evhttp_request *req);

#endif
