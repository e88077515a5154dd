#include "ssemon/io/journal_codec.h"

#include "ssemon/base/clock.h"
#include "ssemon/base/utf8.h"
#include "ssemon/json/json_writer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* NAME=value cannot carry a line feed (it ends the field) and journald
 * reads a NUL as the end of the value: such values take the binary form. */
static bool journal_codec_binary(const struct journal_field *f)
{
    return memchr(f->jf_value, '\n', f->jf_len) != NULL ||
           memchr(f->jf_value, '\0', f->jf_len) != NULL;
}

char *journal_codec_native(const struct journal_field *f, size_t n, size_t *len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(f[i].jf_name) + f[i].jf_len + (journal_codec_binary(&f[i]) ? 10 : 2);
    char *buf = malloc(total > 0 ? total : 1);
    if (buf == NULL)
        return NULL;
    char *o = buf;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(f[i].jf_name);
        memcpy(o, f[i].jf_name, nl);
        o += nl;
        if (journal_codec_binary(&f[i])) {
            *o++ = '\n';
            uint64_t v = f[i].jf_len;
            for (int b = 0; b < 8; b++)
                *o++ = (char)(unsigned char)(v >> (8 * b));
        } else {
            *o++ = '=';
        }
        if (f[i].jf_len > 0)
            memcpy(o, f[i].jf_value, f[i].jf_len);
        o += f[i].jf_len;
        *o++ = '\n';
    }
    *len = total;
    return buf;
}

int journal_codec_parse(char *buf, size_t len, struct journal_field *out, size_t max)
{
    size_t n = 0;
    size_t at = 0;
    while (at < len) {
        if (n == max)
            return -1;
        char *p = buf + at;
        size_t rest = len - at;
        char *nl = memchr(p, '\n', rest);
        if (nl == NULL)
            return -1;
        char *eq = memchr(p, '=', (size_t)(nl - p));
        char *end = eq != NULL ? eq : nl;
        if (end == p)
            return -1; /* an empty name */
        struct journal_field *f = &out[n];
        if (eq != NULL) {
            f->jf_value = eq + 1;
            f->jf_len = (size_t)(nl - eq - 1);
            at += (size_t)(nl - p) + 1;
        } else {
            size_t head = (size_t)(nl - p) + 1;
            if (rest - head < 9)
                return -1;
            uint64_t v = 0;
            for (int b = 7; b >= 0; b--)
                v = (v << 8) | (unsigned char)nl[1 + b];
            if (v > rest - head - 9 || nl[9 + v] != '\n')
                return -1;
            f->jf_value = nl + 9;
            f->jf_len = (size_t)v;
            at += head + 8 + (size_t)v + 1;
        }
        *end = '\0';
        f->jf_name = p;
        n++;
    }
    return (int)n;
}

/* A string value: valid UTF-8 runs as they are, every other byte as
 * U+FFFD (a record's values come from the network). */
static void journal_codec_json_string(struct json_writer *w, const char *s, size_t len)
{
    if (utf8_valid(s, len)) {
        json_writer_string(w, s, len);
        return;
    }
    json_writer_raw(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq_len((const unsigned char *)s + i, len - i);
        if (k > 0) {
            i += k;
            continue;
        }
        json_writer_escape(w, s + run, i - run);
        json_writer_append(w, "\\ufffd", 6);
        i++;
        run = i;
    }
    json_writer_escape(w, s + run, len - run);
    json_writer_append(w, "\"", 1);
}

static bool journal_codec_digits(const char *s, size_t len)
{
    if (len == 0 || len > 3)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

void journal_codec_json(const struct journal_field *f, size_t n, uint64_t wall_ms,
                        struct json_writer *w)
{
    char t[CLOCK_RFC3339_SIZE];
    clock_rfc3339(wall_ms, t);
    json_writer_object_begin(w);
    json_writer_key(w, "t");
    json_writer_string(w, t, strlen(t));
    for (size_t i = 0; i < n; i++) {
        json_writer_key(w, f[i].jf_name);
        if (strcmp(f[i].jf_name, "PRIORITY") == 0 &&
            journal_codec_digits(f[i].jf_value, f[i].jf_len))
            json_writer_raw(w, f[i].jf_value, f[i].jf_len);
        else
            journal_codec_json_string(w, f[i].jf_value, f[i].jf_len);
    }
    json_writer_object_end(w);
    json_writer_append(w, "\n", 1);
}
