#include "ssemon/json/json_writer.h"
#include "ssemon/base/numfmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void json_writer_init(struct json_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void json_writer_free(struct json_writer *w)
{
    free(w->jw_buf);
    memset(w, 0, sizeof(*w));
}

void json_writer_reset(struct json_writer *w)
{
    w->jw_len = 0;
    w->jw_failed = false;
    w->jw_depth = 0;
    w->jw_need_comma[0] = false;
    w->jw_after_key = false;
    if (w->jw_buf != NULL)
        w->jw_buf[0] = '\0';
}

static bool json_writer_reserve_bytes(struct json_writer *w, size_t extra)
{
    if (w->jw_failed)
        return false;
    if (extra > SIZE_MAX / 2 - w->jw_len - 1) {
        w->jw_failed = true;
        return false;
    }
    size_t need = w->jw_len + extra + 1;
    if (need <= w->jw_cap)
        return true;
    size_t cap = w->jw_cap ? w->jw_cap : 256;
    while (cap < need)
        cap *= 2;
    char *nb = realloc(w->jw_buf, cap);
    if (nb == NULL) {
        w->jw_failed = true;
        return false;
    }
    w->jw_buf = nb;
    w->jw_cap = cap;
    return true;
}

void json_writer_append_slow(struct json_writer *w, const char *s, size_t len)
{
    if (!json_writer_reserve_bytes(w, len))
        return;
    memcpy(w->jw_buf + w->jw_len, s, len);
    w->jw_len += len;
    w->jw_buf[w->jw_len] = '\0';
}

static void json_writer_putc(struct json_writer *w, char c)
{
    json_writer_append(w, &c, 1);
}

/* Emits the separator a value needs at the current position. */
static void json_writer_value_prefix(struct json_writer *w)
{
    if (w->jw_after_key) {
        w->jw_after_key = false;
        return;
    }
    /* Top-level values stand alone (NDJSON): no comma between them. */
    if (w->jw_depth == 0)
        return;
    if (w->jw_need_comma[w->jw_depth])
        json_writer_putc(w, ',');
    w->jw_need_comma[w->jw_depth] = true;
}

static void json_writer_open(struct json_writer *w, char c)
{
    json_writer_value_prefix(w);
    json_writer_putc(w, c);
    if (w->jw_depth >= JSON_WRITER_MAX_DEPTH) {
        w->jw_failed = true;
        return;
    }
    w->jw_depth++;
    w->jw_need_comma[w->jw_depth] = false;
}

static void json_writer_close(struct json_writer *w, char c)
{
    if (w->jw_depth > 0)
        w->jw_depth--;
    json_writer_putc(w, c);
}

void json_writer_object_begin(struct json_writer *w)
{
    json_writer_open(w, '{');
}

void json_writer_object_end(struct json_writer *w)
{
    json_writer_close(w, '}');
}

void json_writer_array_begin(struct json_writer *w)
{
    json_writer_open(w, '[');
}

void json_writer_array_end(struct json_writer *w)
{
    json_writer_close(w, ']');
}

/* 1 for the bytes a JSON string must escape: controls, '"' and '\\'. */
static const unsigned char json_writer_needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, ['\\'] = 1,
};

/* The index of the first byte of u[i..len) that needs escaping, or len.
 * Eight bytes at a time: a word is clean unless one of its bytes is below
 * 0x20 or equal to '"' or '\\' (each test is exact for "any byte": a byte
 * is below n, for n <= 0x80, iff (x - n) borrows into its high bit while x
 * had it clear). The status documents are mostly strings without escapes. */
static size_t json_writer_scan(const unsigned char *u, size_t i, size_t len)
{
    const uint64_t ones = 0x0101010101010101ull;
    const uint64_t highs = 0x8080808080808080ull;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, u + i, 8);
        uint64_t quote = x ^ (ones * '"');
        uint64_t backslash = x ^ (ones * '\\');
        uint64_t hits = ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
                        ((backslash - ones) & ~backslash);
        if ((hits & highs) != 0)
            break;
    }
    for (; i < len; i++)
        if (json_writer_needs_escape[u[i]])
            return i;
    return len;
}

void json_writer_escape(struct json_writer *w, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0;
    for (size_t i = json_writer_scan(u, 0, len); i < len; i = json_writer_scan(u, i + 1, len)) {
        unsigned char c = u[i];
        json_writer_append(w, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            n = 6;
            break;
        }
        json_writer_append(w, esc, n);
    }
    json_writer_append(w, s + run, len - run);
}

void json_writer_key(struct json_writer *w, const char *key)
{
    json_writer_value_prefix(w);
    json_writer_putc(w, '"');
    json_writer_escape(w, key, strlen(key));
    json_writer_append(w, "\":", 2);
    w->jw_after_key = true;
}

void json_writer_key_json(struct json_writer *w, const char *json, size_t len)
{
    json_writer_value_prefix(w);
    json_writer_append(w, json, len);
    w->jw_after_key = true;
}

void json_writer_string(struct json_writer *w, const char *s, size_t len)
{
    json_writer_value_prefix(w);
    json_writer_putc(w, '"');
    json_writer_escape(w, s, len);
    json_writer_putc(w, '"');
}

void json_writer_cstring(struct json_writer *w, const char *s)
{
    if (s == NULL)
        json_writer_null(w);
    else
        json_writer_string(w, s, strlen(s));
}

char *json_writer_claim(struct json_writer *w, size_t n)
{
    if (!json_writer_reserve_bytes(w, n))
        return NULL;
    return w->jw_buf + w->jw_len;
}

void json_writer_commit(struct json_writer *w, size_t k)
{
    if (w->jw_failed)
        return;
    if (w->jw_buf == NULL || k >= w->jw_cap - w->jw_len) {
        w->jw_failed = true;
        return;
    }
    w->jw_len += k;
    w->jw_buf[w->jw_len] = '\0';
}

void json_writer_int(struct json_writer *w, int64_t v)
{
    char tmp[NUMFMT_U64_MAX + 1];
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = tmp;
    if (v < 0)
        *p++ = '-';
    p = numfmt_u64(p, mag);
    json_writer_raw(w, tmp, (size_t)(p - tmp));
}

void json_writer_uint(struct json_writer *w, uint64_t v)
{
    char tmp[NUMFMT_U64_MAX];
    char *p = numfmt_u64(tmp, v);
    json_writer_raw(w, tmp, (size_t)(p - tmp));
}

void json_writer_double(struct json_writer *w, double v)
{
    if (!isfinite(v)) {
        json_writer_null(w);
        return;
    }
    char tmp[NUMFMT_DOUBLE_MAX];
    size_t n = numfmt_double(tmp, sizeof(tmp), v, 1);
    json_writer_raw(w, tmp, n);
}

void json_writer_bool(struct json_writer *w, bool v)
{
    json_writer_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void json_writer_null(struct json_writer *w)
{
    json_writer_raw(w, "null", 4);
}

void json_writer_raw(struct json_writer *w, const char *json, size_t len)
{
    json_writer_value_prefix(w);
    json_writer_append(w, json, len);
}

void json_writer_reserve(struct json_writer *w, size_t n)
{
    json_writer_reserve_bytes(w, n);
}

char *json_writer_detach(struct json_writer *w, size_t *len)
{
    char *buf = w->jw_buf;
    *len = w->jw_len;
    memset(w, 0, sizeof(*w));
    return buf;
}

size_t json_writer_capacity(const struct json_writer *w)
{
    return w->jw_cap;
}

void json_writer_adopt(struct json_writer *w, char *buf, size_t cap)
{
    json_writer_free(w);
    w->jw_buf = buf;
    w->jw_cap = cap;
    w->jw_buf[0] = '\0';
}

size_t json_writer_text_len(const struct json_writer *w)
{
    return w->jw_len;
}

bool json_writer_failed(const struct json_writer *w)
{
    return w->jw_failed;
}

void json_writer_set_failed(struct json_writer *w)
{
    w->jw_failed = true;
}

const char *json_writer_text(const struct json_writer *w, size_t *len)
{
    if (len != NULL)
        *len = w->jw_len;
    return w->jw_buf != NULL ? w->jw_buf : "";
}
