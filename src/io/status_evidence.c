/*
 * The per-subscription documents: the violation ring and the flight
 * recorder as JSON.
 */
#include "ssemon/io/status_evidence.h"
#include "ssemon/base/utf8.h"
#include "ssemon/core/flight.h"
#include "ssemon/io/status_render.h"
#include "ssemon/json/json_writer.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssemon/io/evidence.h"

void status_evidence_violations(const struct monitor *m, struct json_writer *w)
{
    json_writer_array_begin(w);
    size_t n = m != NULL ? monitor_recent_count(m) : 0;
    struct monitor_violation v;
    for (size_t i = 0; i < n; i++)
        if (monitor_recent(m, i, &v))
            status_render_violation(w, monitor_name(m), NULL, &v);
    json_writer_array_end(w);
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
    status_render_time(w, opened ? flight_open_wall_ms(f) : 0);
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
    /* One buffer for every frame's bytes (the ring may split a frame). */
    unsigned char *data = n > 0 ? malloc(flight_bytes(f) + 1) : NULL;
    for (size_t i = 0; i < n; i++) {
        const struct flight_frame *fr = flight_frame(f, i);
        size_t len = data != NULL ? flight_frame_copy(f, i, data) : 0;
        json_writer_object_begin(w);
        JSON_WRITER_KEY(w, "at");
        status_render_time(w, fr->ff_wall_ms);
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
        status_evidence_text(w, data != NULL ? data : (const unsigned char *)"", len);
        json_writer_object_end(w);
    }
    free(data);
    json_writer_array_end(w);
    JSON_WRITER_KEY(w, "frames_bytes");
    json_writer_uint(w, f != NULL ? flight_bytes(f) : 0);
    JSON_WRITER_KEY(w, "dropped_bytes");
    json_writer_uint(w, f != NULL ? flight_dropped_bytes(f) : 0);
    JSON_WRITER_KEY(w, "evicted");
    json_writer_uint(w, f != NULL ? flight_evicted(f) : 0);
    json_writer_object_end(w);
}

static void status_evidence_reply(struct evhttp_request *req, int code, const char *reason,
                                  const char *text)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
    struct evbuffer *b = evbuffer_new();
    if (b != NULL && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
        evbuffer_add(b, text, strlen(text));
    evhttp_send_reply(req, code, reason, b);
    if (b != NULL)
        evbuffer_free(b);
}

void status_evidence_serve(struct evidence *e, const char *raw, struct evhttp_request *req)
{
    bool plain = raw != NULL && raw[0] != '\0' && strlen(raw) < EVIDENCE_NAME_MAX;
    for (const char *p = raw; plain && *p != '\0'; p++)
        plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                *p == '_' || *p == '.' || *p == '-';
    if (!plain || strstr(raw, "..") != NULL || raw[0] == '.') {
        status_evidence_reply(req, 400, "Bad Request", "bad evidence file name\n");
        return;
    }
    if (e == NULL || !evidence_known(e, raw)) {
        status_evidence_reply(req, 404, "Not Found", "no such evidence file\n");
        return;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", evidence_dir(e), raw);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        status_evidence_reply(req, 404, "Not Found", "no such evidence file\n");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/x-ndjson");
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char cl[32];
        snprintf(cl, sizeof(cl), "%lld", (long long)st.st_size);
        evhttp_add_header(h, "Content-Length", cl);
        close(fd);
        evhttp_send_reply(req, 200, "OK", NULL);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    /* The buffer owns fd from here (closed when sent, or on failure). */
    if (b == NULL || evbuffer_add_file(b, fd, 0, st.st_size) != 0) {
        if (b != NULL)
            evbuffer_free(b);
        else
            close(fd);
        evhttp_remove_header(h, "Content-Type");
        evhttp_send_reply(req, 500, "Internal Server Error", NULL);
        return;
    }
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}
