/* libFuzzer target for the recording decoder: the input is split into lines
 * and each is decoded as `ssemon check` would read a recording. Whatever
 * decodes must encode back into a line that decodes to the same record
 * (the format is lossless), and nothing may crash or leak. */
#include "ssemon/core/recording.h"
#include "ssemon/json/json_writer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "recording round trip differs: %s\n", what);
        abort();
    }
}

static bool fz_str_eq(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* An open's headers, and a close's (optional). */
static void fz_headers(const struct recording_record *a, const struct recording_record *b)
{
    fz_check(a->rr_n_headers == b->rr_n_headers, "header count");
    for (size_t i = 0; i < a->rr_n_headers; i++) {
        fz_check(fz_str_eq(a->rr_headers[i].rf_name, b->rr_headers[i].rf_name), "name");
        fz_check(fz_str_eq(a->rr_headers[i].rf_value, b->rr_headers[i].rf_value), "value");
        fz_check(a->rr_headers[i].rf_name_len == b->rr_headers[i].rf_name_len &&
                     a->rr_headers[i].rf_value_len == b->rr_headers[i].rf_value_len,
                 "header lengths");
    }
}

static void fz_compare(const struct recording_record *a, const struct recording_record *b)
{
    fz_check(a->rr_kind == b->rr_kind, "kind");
    switch (a->rr_kind) {
    case RECORDING_HEADER:
        fz_check(a->rr_version == b->rr_version, "version");
        fz_check(fz_str_eq(a->rr_url, b->rr_url), "url");
        fz_check(fz_str_eq(a->rr_started, b->rr_started), "started");
        return;
    case RECORDING_CONNECTING:
        fz_check(a->rr_attempt == b->rr_attempt, "attempt");
        fz_check(fz_str_eq(a->rr_last_event_id, b->rr_last_event_id), "last_event_id");
        break;
    case RECORDING_OPEN:
        fz_check(a->rr_status == b->rr_status, "status");
        fz_check(fz_str_eq(a->rr_content_type, b->rr_content_type), "content_type");
        fz_check(a->rr_ms_to_headers == b->rr_ms_to_headers, "ms_to_headers");
        fz_headers(a, b);
        break;
    case RECORDING_CHUNK:
        fz_check(a->rr_len == b->rr_len, "chunk length");
        fz_check(a->rr_len == 0 || memcmp(a->rr_data, b->rr_data, a->rr_len) == 0, "chunk");
        break;
    case RECORDING_CLOSED:
        fz_check(a->rr_reason == b->rr_reason, "reason");
        fz_check(fz_str_eq(a->rr_error, b->rr_error), "error");
        fz_check(a->rr_status == b->rr_status, "status");
        fz_check(fz_str_eq(a->rr_content_type, b->rr_content_type), "content_type");
        fz_check(a->rr_before_headers == b->rr_before_headers, "before_headers");
        fz_check(fz_str_eq(a->rr_location, b->rr_location), "location");
        fz_check(a->rr_body_len == b->rr_body_len, "body length");
        fz_check(a->rr_body_len == 0 || memcmp(a->rr_body, b->rr_body, a->rr_body_len) == 0,
                 "body");
        fz_headers(a, b);
        break;
    }
    fz_check(a->rr_t_ms == b->rr_t_ms, "t");
}

/* The second decode needs its own decoder: the first record points into
 * the first one. */
static void fz_line(struct recording_decoder *d1, struct recording_decoder *d2,
                    struct json_writer *w, const char *line, size_t len)
{
    struct recording_record r1, r2;
    char err[256];
    if (recording_decode(d1, line, len, &r1, err, sizeof(err)) != 0) {
        fz_check(err[0] != '\0', "a failure without a reason");
        return;
    }
    json_writer_reset(w);
    recording_encode(w, &r1);
    if (json_writer_failed(w))
        return;
    size_t olen;
    const char *out = json_writer_text(w, &olen);
    fz_check(olen > 0 && out[olen - 1] == '\n' && memchr(out, '\n', olen - 1) == NULL,
             "encoding is not one line");
    if (recording_decode(d2, out, olen, &r2, err, sizeof(err)) != 0) {
        fprintf(stderr, "re-encoded line refused: %s\n%.*s", err, (int)olen, out);
        abort();
    }
    fz_compare(&r1, &r2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct recording_decoder d1, d2;
    struct json_writer w;
    recording_decoder_init(&d1);
    recording_decoder_init(&d2);
    json_writer_init(&w);
    const char *p = (const char *)data;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || p[i] == '\n') {
            if (i > start || i < size)
                fz_line(&d1, &d2, &w, p + start, i - start);
            start = i + 1;
        }
    }
    json_writer_free(&w);
    recording_decoder_free(&d1);
    recording_decoder_free(&d2);
    return 0;
}
