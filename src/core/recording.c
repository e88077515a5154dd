#include "ssemon/core/recording.h"
#include "ssemon/base/utf8.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char recording_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *const recording_kind_names[] = {
    [RECORDING_HEADER] = "header", [RECORDING_CONNECTING] = "connecting", [RECORDING_OPEN] = "open",
    [RECORDING_CHUNK] = "chunk",   [RECORDING_CLOSED] = "closed",
};

const char *recording_kind_name(enum recording_kind k)
{
    if ((unsigned)k > RECORDING_CLOSED)
        return NULL;
    return recording_kind_names[k];
}

/* A JSON string of `s`, each byte of an invalid sequence replaced by U+FFFD
 * (json_writer copies high bytes as they are, and a reader such as jansson
 * rejects the line when they are not UTF-8). */
static void recording_put_bytes(struct json_writer *w, const char *s, size_t len)
{
    if (utf8_valid(s, len)) {
        json_writer_string(w, s, len);
        return;
    }
    const unsigned char *u = (const unsigned char *)s;
    json_writer_raw(w, "\"", 1);
    size_t run = 0, i = 0;
    while (i < len) {
        size_t n = utf8_seq_len(u + i, len - i);
        if (n != 0) {
            i += n;
            continue;
        }
        json_writer_escape(w, s + run, i - run);
        json_writer_append(w, "\xEF\xBF\xBD", 3);
        i++;
        run = i;
    }
    json_writer_escape(w, s + run, len - run);
    json_writer_append(w, "\"", 1);
}

static void recording_put_text(struct json_writer *w, const char *s)
{
    if (s == NULL)
        s = "";
    recording_put_bytes(w, s, strlen(s));
}

static void recording_put_base64(struct json_writer *w, const unsigned char *p, size_t len)
{
    char out[256];
    size_t n = 0;
    json_writer_raw(w, "\"", 1);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        out[n++] = recording_b64[(v >> 18) & 63];
        out[n++] = recording_b64[(v >> 12) & 63];
        out[n++] = i + 1 < len ? recording_b64[(v >> 6) & 63] : (char)'=';
        out[n++] = i + 2 < len ? recording_b64[v & 63] : (char)'=';
        if (n + 4 > sizeof(out)) {
            json_writer_append(w, out, n);
            n = 0;
        }
    }
    json_writer_append(w, out, n);
    json_writer_append(w, "\"", 1);
}

static void recording_put_headers(struct json_writer *w, const struct recording_record *r)
{
    json_writer_key(w, "headers");
    json_writer_array_begin(w);
    for (size_t i = 0; i < r->rr_n_headers; i++) {
        json_writer_array_begin(w);
        const struct recording_field *f = &r->rr_headers[i];
        recording_put_bytes(w, f->rf_name != NULL ? f->rf_name : "", f->rf_name_len);
        recording_put_bytes(w, f->rf_value != NULL ? f->rf_value : "", f->rf_value_len);
        json_writer_array_end(w);
    }
    json_writer_array_end(w);
}

void recording_encode(struct json_writer *w, const struct recording_record *r)
{
    json_writer_object_begin(w);
    if (r->rr_kind == RECORDING_HEADER) {
        json_writer_key(w, "format");
        json_writer_cstring(w, RECORDING_FORMAT);
        json_writer_key(w, "version");
        json_writer_int(w, r->rr_version != 0 ? r->rr_version : RECORDING_VERSION);
        json_writer_key(w, "url");
        recording_put_text(w, r->rr_url);
        json_writer_key(w, "started");
        recording_put_text(w, r->rr_started);
    } else {
        json_writer_key(w, "t");
        json_writer_uint(w, r->rr_t_ms);
        json_writer_key(w, "rec");
        json_writer_cstring(w, recording_kind_name(r->rr_kind));
    }
    switch (r->rr_kind) {
    case RECORDING_HEADER:
        break;
    case RECORDING_CONNECTING:
        json_writer_key(w, "attempt");
        json_writer_uint(w, r->rr_attempt);
        json_writer_key(w, "last_event_id");
        recording_put_text(w, r->rr_last_event_id);
        break;
    case RECORDING_OPEN:
        json_writer_key(w, "status");
        json_writer_int(w, r->rr_status);
        json_writer_key(w, "content_type");
        recording_put_text(w, r->rr_content_type);
        json_writer_key(w, "ms_to_headers");
        json_writer_uint(w, r->rr_ms_to_headers);
        recording_put_headers(w, r);
        break;
    case RECORDING_CHUNK:
        if (utf8_valid(r->rr_data, r->rr_len)) {
            json_writer_key(w, "data");
            json_writer_string(w, r->rr_data, r->rr_len);
        } else {
            json_writer_key(w, "base64");
            recording_put_base64(w, r->rr_data, r->rr_len);
        }
        break;
    case RECORDING_CLOSED:
        json_writer_key(w, "reason");
        json_writer_cstring(w, stream_close_reason_name(r->rr_reason));
        json_writer_key(w, "error");
        recording_put_text(w, r->rr_error);
        json_writer_key(w, "status");
        json_writer_int(w, r->rr_status);
        json_writer_key(w, "content_type");
        recording_put_text(w, r->rr_content_type);
        json_writer_key(w, "before_headers");
        json_writer_bool(w, r->rr_before_headers);
        /* Optional (since the first version's readers ignore them). */
        if (r->rr_location != NULL && r->rr_location[0] != '\0') {
            json_writer_key(w, "location");
            recording_put_text(w, r->rr_location);
        }
        if (r->rr_body_len != 0 && utf8_valid(r->rr_body, r->rr_body_len)) {
            json_writer_key(w, "body");
            json_writer_string(w, r->rr_body, r->rr_body_len);
        } else if (r->rr_body_len != 0) {
            json_writer_key(w, "body_base64");
            recording_put_base64(w, r->rr_body, r->rr_body_len);
        }
        if (r->rr_n_headers != 0)
            recording_put_headers(w, r);
        break;
    }
    json_writer_object_end(w);
    json_writer_append(w, "\n", 1);
    /* The next line is a new top-level value, not a sibling of this one. */
    w->jw_need_comma[0] = false;
}

void recording_decoder_init(struct recording_decoder *d)
{
    memset(d, 0, sizeof(*d));
}

void recording_decoder_free(struct recording_decoder *d)
{
    json_decref(d->rd_doc);
    free(d->rd_bytes);
    free(d->rd_fields);
    memset(d, 0, sizeof(*d));
}

static int recording_fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int recording_fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The member `key` as a string; NULL (with err filled) when missing or not
 * a string. */
static const char *recording_get_string(json_t *obj, const char *key, size_t *len, char *err,
                                        size_t err_size)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) {
        recording_fail(err, err_size, "\"%s\" %s", key,
                       v == NULL ? "is missing" : "must be a string");
        return NULL;
    }
    if (len != NULL)
        *len = json_string_length(v);
    return json_string_value(v);
}

/* Strings other than chunk data end at their first NUL for C callers;
 * reject them rather than silently shorten. */
static const char *recording_get_text(json_t *obj, const char *key, char *err, size_t err_size)
{
    size_t len;
    const char *s = recording_get_string(obj, key, &len, err, err_size);
    if (s != NULL && strlen(s) != len) {
        recording_fail(err, err_size, "\"%s\" must not contain U+0000", key);
        return NULL;
    }
    return s;
}

static int recording_get_uint(json_t *obj, const char *key, uint64_t *out, char *err,
                              size_t err_size)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return recording_fail(err, err_size, "\"%s\" %s", key,
                              v == NULL ? "is missing" : "must be a non-negative integer");
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int recording_get_status(json_t *obj, long *out, char *err, size_t err_size)
{
    uint64_t v = 0;
    if (recording_get_uint(obj, "status", &v, err, err_size) != 0)
        return -1;
    if (v > 999)
        return recording_fail(err, err_size, "\"status\" must be at most 999");
    *out = (long)v;
    return 0;
}

static int recording_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict RFC 4648 base64 with padding: what recording_encode writes, and
 * nothing else, so a damaged recording is noticed rather than half-read. */
static int recording_unbase64(struct recording_decoder *d, const char *s, size_t len,
                              size_t *out_len, char *err, size_t err_size)
{
    if (len % 4 != 0)
        return recording_fail(err, err_size, "\"base64\" length is not a multiple of 4");
    size_t cap = len / 4 * 3 + 1;
    if (cap > d->rd_bytes_cap) {
        unsigned char *nb = realloc(d->rd_bytes, cap);
        if (nb == NULL)
            return recording_fail(err, err_size, "out of memory");
        d->rd_bytes = nb;
        d->rd_bytes_cap = cap;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        const unsigned char *q = (const unsigned char *)s + i;
        bool last = i + 4 == len;
        int pad = 0;
        if (last && q[3] == '=')
            pad = q[2] == '=' ? 2 : 1;
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            int x = k >= 4 - pad ? 0 : recording_b64_value(q[k]);
            if (x < 0)
                return recording_fail(err, err_size, "\"base64\" has an invalid character");
            v = v << 6 | (uint32_t)x;
        }
        /* Non-zero bits under the padding would not survive re-encoding. */
        if ((pad == 1 && (v & 0xFF) != 0) || (pad == 2 && (v & 0xFFFF) != 0))
            return recording_fail(err, err_size, "\"base64\" has non-canonical padding bits");
        d->rd_bytes[n++] = (unsigned char)(v >> 16);
        if (pad < 2)
            d->rd_bytes[n++] = (unsigned char)(v >> 8);
        if (pad < 1)
            d->rd_bytes[n++] = (unsigned char)v;
    }
    *out_len = n;
    return 0;
}

static int recording_decode_header(json_t *doc, struct recording_record *out, char *err,
                                   size_t err_size)
{
    json_t *ver = json_object_get(doc, "version");
    if (!json_is_integer(ver))
        return recording_fail(err, err_size, "\"version\" must be an integer");
    if (json_integer_value(ver) != RECORDING_VERSION)
        return recording_fail(err, err_size, "unsupported recording version %lld (this is %d)",
                              (long long)json_integer_value(ver), RECORDING_VERSION);
    out->rr_version = RECORDING_VERSION;
    out->rr_url = recording_get_text(doc, "url", err, err_size);
    if (out->rr_url == NULL)
        return -1;
    out->rr_started = recording_get_text(doc, "started", err, err_size);
    return out->rr_started != NULL ? 0 : -1;
}

static int recording_decode_headers(struct recording_decoder *d, json_t *doc,
                                    struct recording_record *out, char *err, size_t err_size)
{
    json_t *arr = json_object_get(doc, "headers");
    if (!json_is_array(arr))
        return recording_fail(err, err_size, "\"headers\" must be an array");
    size_t n = json_array_size(arr);
    if (n > d->rd_fields_cap) {
        struct recording_field *nf = realloc(d->rd_fields, n * sizeof(*nf));
        if (nf == NULL)
            return recording_fail(err, err_size, "out of memory");
        d->rd_fields = nf;
        d->rd_fields_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *pair = json_array_get(arr, i);
        json_t *name = json_array_get(pair, 0);
        json_t *value = json_array_get(pair, 1);
        if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_string(name) ||
            !json_is_string(value) || strlen(json_string_value(name)) != json_string_length(name) ||
            strlen(json_string_value(value)) != json_string_length(value))
            return recording_fail(err, err_size,
                                  "\"headers\"[%zu] must be a [name, value] pair of strings", i);
        d->rd_fields[i].rf_name = json_string_value(name);
        d->rd_fields[i].rf_name_len = json_string_length(name);
        d->rd_fields[i].rf_value = json_string_value(value);
        d->rd_fields[i].rf_value_len = json_string_length(value);
    }
    out->rr_headers = d->rd_fields;
    out->rr_n_headers = n;
    return 0;
}

static int recording_decode_chunk(struct recording_decoder *d, json_t *doc,
                                  struct recording_record *out, char *err, size_t err_size)
{
    json_t *data = json_object_get(doc, "data");
    json_t *b64 = json_object_get(doc, "base64");
    if ((data == NULL) == (b64 == NULL))
        return recording_fail(err, err_size, "a chunk needs exactly one of \"data\", \"base64\"");
    size_t len;
    if (data != NULL) {
        const char *s = recording_get_string(doc, "data", &len, err, err_size);
        if (s == NULL)
            return -1;
        out->rr_data = s;
        out->rr_len = len;
        return 0;
    }
    const char *s = recording_get_string(doc, "base64", &len, err, err_size);
    if (s == NULL || recording_unbase64(d, s, len, &out->rr_len, err, err_size) != 0)
        return -1;
    out->rr_data = d->rd_bytes;
    return 0;
}

static int recording_decode_closed(struct recording_decoder *d, json_t *doc,
                                   struct recording_record *out, char *err, size_t err_size)
{
    const char *reason = recording_get_text(doc, "reason", err, err_size);
    if (reason == NULL)
        return -1;
    if (!stream_close_reason_parse(reason, &out->rr_reason))
        return recording_fail(err, err_size, "unknown close reason \"%s\"", reason);
    out->rr_error = recording_get_text(doc, "error", err, err_size);
    if (out->rr_error == NULL || recording_get_status(doc, &out->rr_status, err, err_size) != 0)
        return -1;
    out->rr_content_type = recording_get_text(doc, "content_type", err, err_size);
    if (out->rr_content_type == NULL)
        return -1;
    json_t *bh = json_object_get(doc, "before_headers");
    if (!json_is_boolean(bh))
        return recording_fail(err, err_size, "\"before_headers\" must be true or false");
    out->rr_before_headers = json_is_true(bh);
    out->rr_location = "";
    if (json_object_get(doc, "location") != NULL &&
        (out->rr_location = recording_get_text(doc, "location", err, err_size)) == NULL)
        return -1;
    json_t *body = json_object_get(doc, "body");
    json_t *b64 = json_object_get(doc, "body_base64");
    if (body != NULL && b64 != NULL)
        return recording_fail(err, err_size,
                              "a close has at most one of \"body\", \"body_base64\"");
    size_t len;
    if (body != NULL) {
        const char *b = recording_get_string(doc, "body", &len, err, err_size);
        if (b == NULL)
            return -1;
        out->rr_body = b;
        out->rr_body_len = len;
    } else if (b64 != NULL) {
        const char *b = recording_get_string(doc, "body_base64", &len, err, err_size);
        if (b == NULL || recording_unbase64(d, b, len, &out->rr_body_len, err, err_size) != 0)
            return -1;
        out->rr_body = d->rd_bytes;
    }
    if (json_object_get(doc, "headers") != NULL)
        return recording_decode_headers(d, doc, out, err, err_size);
    return 0;
}

static int recording_decode_record(struct recording_decoder *d, json_t *doc,
                                   struct recording_record *out, char *err, size_t err_size)
{
    if (recording_get_uint(doc, "t", &out->rr_t_ms, err, err_size) != 0)
        return -1;
    const char *rec = recording_get_text(doc, "rec", err, err_size);
    if (rec == NULL)
        return -1;
    if (strcmp(rec, "connecting") == 0) {
        out->rr_kind = RECORDING_CONNECTING;
        if (recording_get_uint(doc, "attempt", &out->rr_attempt, err, err_size) != 0)
            return -1;
        out->rr_last_event_id = recording_get_text(doc, "last_event_id", err, err_size);
        return out->rr_last_event_id != NULL ? 0 : -1;
    }
    if (strcmp(rec, "open") == 0) {
        out->rr_kind = RECORDING_OPEN;
        if (recording_get_status(doc, &out->rr_status, err, err_size) != 0 ||
            recording_get_uint(doc, "ms_to_headers", &out->rr_ms_to_headers, err, err_size) != 0)
            return -1;
        out->rr_content_type = recording_get_text(doc, "content_type", err, err_size);
        if (out->rr_content_type == NULL)
            return -1;
        return recording_decode_headers(d, doc, out, err, err_size);
    }
    if (strcmp(rec, "chunk") == 0) {
        out->rr_kind = RECORDING_CHUNK;
        return recording_decode_chunk(d, doc, out, err, err_size);
    }
    if (strcmp(rec, "closed") == 0) {
        out->rr_kind = RECORDING_CLOSED;
        return recording_decode_closed(d, doc, out, err, err_size);
    }
    return recording_fail(err, err_size, "unknown record kind \"%s\"", rec);
}

int recording_decode(struct recording_decoder *d, const char *line, size_t len,
                     struct recording_record *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    if (err_size > 0)
        err[0] = '\0';
    json_decref(d->rd_doc);
    d->rd_doc = NULL;
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    json_error_t jerr;
    json_t *doc = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
    if (doc == NULL)
        return recording_fail(err, err_size, "not JSON: %s (column %d)", jerr.text, jerr.column);
    d->rd_doc = doc;
    if (!json_is_object(doc))
        return recording_fail(err, err_size, "a record must be a JSON object");
    json_t *format = json_object_get(doc, "format");
    if (format != NULL) {
        if (!json_is_string(format) || strcmp(json_string_value(format), RECORDING_FORMAT) != 0)
            return recording_fail(err, err_size, "\"format\" is not \"%s\"", RECORDING_FORMAT);
        out->rr_kind = RECORDING_HEADER;
        return recording_decode_header(doc, out, err, err_size);
    }
    return recording_decode_record(d, doc, out, err, err_size);
}
