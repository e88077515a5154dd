/* HTTP/1.1 request head parsing for the scripted test server: the request
 * line and header fields, lookups used by scenario substitutions, and the
 * JSON request-log line. No I/O. */
#ifndef SSE_TESTSERVER_REQUEST_H
#define SSE_TESTSERVER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "sbuf.h"

/* Largest accepted request head (request line + headers + blank line). */
#define REQ_HEAD_LIMIT 16384

struct req_header {
    const char *rh_name;  /* as sent by the client */
    const char *rh_value; /* surrounding whitespace removed */
};

/* All strings point into rq_store, which the request owns. */
struct req_request {
    const char *rq_method;
    const char *rq_path;  /* request target up to '?' */
    const char *rq_query; /* after '?', raw (still percent-encoded); "" if none */
    const char *rq_version;
    size_t rq_nheaders;
    struct req_header *rq_headers;
    char *rq_store;
};

enum req_status {
    REQ_INCOMPLETE, /* the blank line ending the head has not arrived yet */
    REQ_COMPLETE,
    REQ_TOO_LARGE, /* no end of head within REQ_HEAD_LIMIT bytes */
    REQ_BAD,       /* malformed request line or header field */
    REQ_NOMEM,
};

/* Parses the head at the start of buf. On REQ_COMPLETE, *out receives a new
 * request the caller frees with req_free() and *head_len the number of bytes
 * the head used. Anything after the head (a body) is not looked at. */
enum req_status req_parse(const char *buf, size_t len, struct req_request **out, size_t *head_len);
void req_free(struct req_request *rq);

/* First header field with this name (case-insensitive), or NULL. The pointer
 * stays valid as long as the request. */
const char *req_header(const struct req_request *rq, const char *name);

/* Percent-decodes the value of the first query parameter called name ('+' is
 * a space) and appends it to out. Returns 1 when found, 0 when absent, -1
 * when memory runs out. A parameter without '=' has an empty value. */
int req_query(const struct req_request *rq, const char *name, struct sbuf *out);

/* N-th (1-based) '/'-separated segment of the path, as sent (not decoded).
 * Returns false when the path has fewer segments or that segment is empty. */
bool req_path_segment(const struct req_request *rq, unsigned long n, const char **seg, size_t *len);

/* Appends to out one JSON object and '\n' describing the request for the
 * request log. scenario may be NULL (no scenario matched; written as null).
 * Repeated header fields are joined with ", " under the first spelling of the
 * name. Returns 0 or -1 when memory runs out. */
int req_log_json(const struct req_request *rq, const char *scenario, unsigned long conn,
                 struct sbuf *out);

/* Appends s as a JSON string literal (with quotes). Bytes that are not valid
 * UTF-8 are written as \u00XX so the output is always valid JSON. */
int req_json_string(struct sbuf *out, const char *s, size_t len);

#endif
