#include "pyjson.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scenario.h"

#define PYJSON_MAX_DEPTH 64

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length and the
 * code point, or 0 when it is not valid UTF-8. */
static size_t pyjson_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len, i;
    uint32_t c;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        c = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        c = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

int pyjson_string(struct sbuf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;
    uint32_t cp;
    int rc = sbuf_addc(out, '"');

    while (rc == 0 && i < len) {
        n = pyjson_utf8(p + i, len - i, &cp);
        if (n == 0) {
            cp = p[i];
            n = 1;
        }
        i += n;
        switch (cp) {
        case '"':
            rc = sbuf_adds(out, "\\\"");
            break;
        case '\\':
            rc = sbuf_adds(out, "\\\\");
            break;
        case '\n':
            rc = sbuf_adds(out, "\\n");
            break;
        case '\r':
            rc = sbuf_adds(out, "\\r");
            break;
        case '\t':
            rc = sbuf_adds(out, "\\t");
            break;
        case '\b':
            rc = sbuf_adds(out, "\\b");
            break;
        case '\f':
            rc = sbuf_adds(out, "\\f");
            break;
        default:
            /* Python escapes everything outside ' '..'~'. */
            if (cp < 0x20 || (cp >= 0x7f && cp < 0x10000))
                rc = sbuf_addf(out, "\\u%04x", (unsigned)cp);
            else if (cp >= 0x10000)
                rc = sbuf_addf(out, "\\u%04x\\u%04x", (unsigned)(0xd800 + ((cp - 0x10000) >> 10)),
                               (unsigned)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
            else
                rc = sbuf_addc(out, (char)cp);
            break;
        }
    }
    return rc == 0 ? sbuf_addc(out, '"') : -1;
}

static int pyjson_dump_at(struct sbuf *out, const json_t *v, unsigned depth)
{
    char num[32];
    const char *key;
    json_t *item;
    size_t i;
    bool first = true;

    if (depth > PYJSON_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (sbuf_addc(out, '{') != 0)
            return -1;
        json_object_foreach((json_t *)v, key, item)
        {
            if ((!first && sbuf_adds(out, ", ") != 0) ||
                pyjson_string(out, key, strlen(key)) != 0 || sbuf_adds(out, ": ") != 0 ||
                pyjson_dump_at(out, item, depth + 1) != 0)
                return -1;
            first = false;
        }
        return sbuf_addc(out, '}');
    case JSON_ARRAY:
        if (sbuf_addc(out, '[') != 0)
            return -1;
        json_array_foreach(v, i, item)
        {
            if ((i > 0 && sbuf_adds(out, ", ") != 0) || pyjson_dump_at(out, item, depth + 1) != 0)
                return -1;
        }
        return sbuf_addc(out, ']');
    case JSON_STRING:
        return pyjson_string(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return sbuf_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        if (scn_format_float(json_real_value(v), num, sizeof(num)) < 0)
            return -1;
        return sbuf_adds(out, num);
    case JSON_TRUE:
        return sbuf_adds(out, "true");
    case JSON_FALSE:
        return sbuf_adds(out, "false");
    case JSON_NULL:
        return sbuf_adds(out, "null");
    }
    return -1;
}

int pyjson_dump(struct sbuf *out, const json_t *v)
{
    return pyjson_dump_at(out, v, 0);
}

int pyjson_time(const struct timespec *ts, bool zulu, char *buf, size_t size)
{
    struct tm tm;
    char frac[24] = "";
    long us = ts->tv_nsec / 1000;
    int n;

    if (gmtime_r(&ts->tv_sec, &tm) == NULL)
        return -1;
    /* Both Python's isoformat() and pydantic v2 (2.13, checked) write six
     * digits, and no fraction at all at a whole second. */
    if (us != 0)
        snprintf(frac, sizeof(frac), ".%06ld", us);
    n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac, zulu ? "Z" : "+00:00");
    return n >= 0 && (size_t)n < size ? n : -1;
}
