/*
 * The per-subscription documents: the violation ring and the flight
 * recorder as JSON.
 */
#include "ssemon/io/status_evidence.h"
#include "ssemon/base/clock.h"
#include "ssemon/base/utf8.h"
#include "ssemon/core/flight.h"
#include "ssemon/io/status_render.h"
#include "ssemon/json/json_writer.h"

#include <stdlib.h>
#include <string.h>

void status_evidence_violations(const struct monitor *m, struct json_writer *w)
{
    json_writer_array_begin(w);
    size_t n = m != NULL ? monitor_recent_count(m) : 0;
    for (size_t i = 0; i < n; i++)
        status_render_violation(w, monitor_name(m), NULL, monitor_recent(m, i));
    json_writer_array_end(w);
}

static void status_evidence_time(struct json_writer *w, uint64_t wall_ms)
{
    if (wall_ms == 0) {
        json_writer_null(w);
        return;
    }
    char buf[CLOCK_RFC3339_SIZE];
    clock_rfc3339(wall_ms, buf);
    json_writer_string(w, buf, CLOCK_RFC3339_SIZE - 1);
}

/* Bytes as a JSON string, each invalid UTF-8 byte as U+FFFD. */
static void status_evidence_text(struct json_writer *w, const unsigned char *p, size_t len)
{
    if (utf8_valid(p, len)) {
        json_writer_string(w, (const char *)p, len);
        return;
    }
    /* At most 3 bytes out per byte in. */
    char *out = malloc(len * 3 + 1);
    if (out == NULL) {
        json_writer_set_failed(w);
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len(p + i, len - i);
        if (n == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        }
    }
    json_writer_string(w, out, o);
    free(out);
}

static void status_evidence_field(struct json_writer *w, const char *s, size_t len)
{
    status_evidence_text(w, (const unsigned char *)s, len);
}

void status_evidence_events(const char *name, const struct monitor *m, struct json_writer *w)
{
    const struct flight *f = m != NULL ? monitor_flight(m) : NULL;
    bool opened = f != NULL && flight_opened(f);
    json_writer_object_begin(w);
    JSON_WRITER_KEY(w, "subscription");
    json_writer_cstring(w, name);
    JSON_WRITER_KEY(w, "status");
    if (opened)
        json_writer_int(w, flight_status(f));
    else
        json_writer_null(w);
    JSON_WRITER_KEY(w, "opened");
    status_evidence_time(w, opened ? flight_open_wall_ms(f) : 0);
    JSON_WRITER_KEY(w, "headers");
    json_writer_array_begin(w);
    for (size_t i = 0; opened && i < flight_n_headers(f); i++) {
        const struct recording_field *h = flight_header(f, i);
        json_writer_array_begin(w);
        status_evidence_field(w, h->rf_name, h->rf_name_len);
        if (flight_header_secret(h->rf_name, h->rf_name_len))
            json_writer_cstring(w, "***");
        else
            status_evidence_field(w, h->rf_value, h->rf_value_len);
        json_writer_array_end(w);
    }
    json_writer_array_end(w);
    JSON_WRITER_KEY(w, "frames");
    json_writer_array_begin(w);
    size_t n = f != NULL ? flight_count(f) : 0;
    for (size_t i = 0; i < n; i++) {
        const struct flight_frame *fr = flight_frame(f, i);
        json_writer_object_begin(w);
        JSON_WRITER_KEY(w, "at");
        status_evidence_time(w, fr->ff_wall_ms);
        JSON_WRITER_KEY(w, "t_ms");
        json_writer_uint(w, fr->ff_mono_ms >= flight_open_mono_ms(f)
                                ? fr->ff_mono_ms - flight_open_mono_ms(f)
                                : 0);
        JSON_WRITER_KEY(w, "bytes");
        json_writer_uint(w, fr->ff_len);
        JSON_WRITER_KEY(w, "complete");
        json_writer_bool(w, fr->ff_complete);
        JSON_WRITER_KEY(w, "truncated");
        json_writer_bool(w, fr->ff_truncated);
        JSON_WRITER_KEY(w, "data");
        status_evidence_text(w, fr->ff_data, fr->ff_len);
        json_writer_object_end(w);
    }
    json_writer_array_end(w);
    JSON_WRITER_KEY(w, "frames_bytes");
    json_writer_uint(w, f != NULL ? flight_bytes(f) : 0);
    JSON_WRITER_KEY(w, "dropped_bytes");
    json_writer_uint(w, f != NULL ? flight_dropped_bytes(f) : 0);
    JSON_WRITER_KEY(w, "evicted");
    json_writer_uint(w, f != NULL ? flight_evicted(f) : 0);
    json_writer_object_end(w);
}
