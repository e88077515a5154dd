/*
 * recording: the line-based format `ssemon watch --record` writes and
 * `ssemon check` replays (docs/recording.md). A pure codec (jansson reads
 * the lines; close reasons are core/stream_close's values).
 *
 * A recording is NDJSON: a header line naming the format and its version,
 * then one record per line, in time order, each with "t" (ms since the
 * recording started) and "rec" (connecting, open, chunk, closed). Chunk
 * bytes travel as a JSON string when they are valid UTF-8, else as base64,
 * so any byte sequence survives a round trip exactly.
 *
 * Encoding appends whole lines to a json_writer; decoding takes one line
 * (without or with its '\n') and fills a record whose pointers stay valid
 * until the next decode with the same decoder.
 */
#ifndef SSEMON_RECORDING_H
#define SSEMON_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/stream_close.h"
#include "ssemon/json/json_writer.h"

#define RECORDING_FORMAT "ssemon-recording"
#define RECORDING_VERSION 1

enum recording_kind {
    RECORDING_HEADER = 0, /* first line: format, version, url, start time */
    RECORDING_CONNECTING, /* a connection attempt begins */
    RECORDING_OPEN,       /* its response headers arrived and the stream opened */
    RECORDING_CHUNK,      /* body bytes, exactly as received */
    RECORDING_CLOSED,     /* the connection ended (or never opened) */
};

/* "header", "connecting", "open", "chunk", "closed"; NULL when out of range. */
const char *recording_kind_name(enum recording_kind k);

/* A response header. Decoded fields are also NUL-terminated (a decoded
 * name or value never contains U+0000). */
struct recording_field {
    const char *rf_name;
    size_t rf_name_len;
    const char *rf_value;
    size_t rf_value_len;
};

/* One line of a recording. Only the members of rr_kind's group are
 * meaningful. When encoding, every pointer is borrowed and may be NULL for
 * an absent string (written as ""); when decoding, every string is non-NULL
 * and points into the decoder. */
struct recording_record {
    enum recording_kind rr_kind;
    uint64_t rr_t_ms; /* every kind but the header */

    /* RECORDING_HEADER */
    int rr_version;
    const char *rr_url;     /* already redacted by the writer's caller */
    const char *rr_started; /* wall-clock start, RFC 3339 (informative) */

    /* RECORDING_CONNECTING */
    uint64_t rr_attempt;
    const char *rr_last_event_id;

    /* RECORDING_OPEN; rr_status, rr_content_type, rr_headers and
     * rr_n_headers also in RECORDING_CLOSED (the headers of a refused
     * response, optional: written only when rr_n_headers != 0, decoded as
     * 0 headers when absent) */
    long rr_status;
    const char *rr_content_type;
    const struct recording_field *rr_headers;
    size_t rr_n_headers;
    uint64_t rr_ms_to_headers;

    /* RECORDING_CHUNK */
    const void *rr_data;
    size_t rr_len;

    /* RECORDING_CLOSED */
    enum stream_close_reason rr_reason;
    const char *rr_error;
    bool rr_before_headers;
    /* Optional members of a close (docs/recording.md): the redirect
     * target ("" = none) and the refused response's first body bytes
     * (any bytes; NULL/0 = none). */
    const char *rr_location;
    const void *rr_body;
    size_t rr_body_len;
};

/* Appends `r` as one line, '\n' included, to `w` (which should hold only
 * whole lines). Strings other than chunk data that are not valid UTF-8 are
 * written with each invalid byte replaced by U+FFFD. Allocation failure is
 * left in `w` (json_writer_failed). */
void recording_encode(struct json_writer *w, const struct recording_record *r);

/* Owns the memory decoded records point into; reused line after line. */
struct recording_decoder {
    void *rd_doc;            /* json_t of the last line (owned) */
    unsigned char *rd_bytes; /* decoded base64 */
    size_t rd_bytes_cap;
    struct recording_field *rd_fields;
    size_t rd_fields_cap;
};

void recording_decoder_init(struct recording_decoder *d);
void recording_decoder_free(struct recording_decoder *d);

/* Decodes one line (a trailing "\n" or "\r\n" is allowed). Returns 0 with
 * *out filled, or -1 with a one-line reason in err (not JSON, an unknown
 * "rec", a missing or mistyped member, bad base64, an unsupported version).
 * Members the format does not define are ignored. */
int recording_decode(struct recording_decoder *d, const char *line, size_t len,
                     struct recording_record *out, char *err, size_t err_size);

#endif
