#include "request.h"
#include "ssemon/base/numfmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 token characters, the only ones allowed in methods and field
 * names. */
static bool req_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool req_is_token(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return false;
    for (i = 0; i < len; i++) {
        if (!req_is_tchar((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* Returns the length of the head including its terminating empty line, or 0
 * when no empty line occurs in buf[0..len). Bare LF line ends are accepted as
 * well as CRLF, as RFC 9112 recommends for robustness. */
static size_t req_head_end(const char *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Cuts the line starting at *pos in place and returns it without its line
 * end; *pos moves to the next line. */
static char *req_next_line(char *store, size_t len, size_t *pos)
{
    char *line = store + *pos;
    char *nl = memchr(line, '\n', len - *pos);
    size_t n;

    if (nl == NULL) {
        n = len - *pos;
        *pos = len;
    } else {
        n = (size_t)(nl - line);
        *pos += n + 1;
    }
    if (n > 0 && line[n - 1] == '\r')
        n--;
    line[n] = '\0';
    return line;
}

static bool req_parse_request_line(struct req_request *rq, char *line)
{
    char *sp1 = strchr(line, ' ');
    char *sp2, *q;

    if (sp1 == NULL || !req_is_token(line, (size_t)(sp1 - line)))
        return false;
    *sp1 = '\0';
    sp2 = strchr(sp1 + 1, ' ');
    if (sp2 == NULL || sp2[1] == '\0' || strchr(sp2 + 1, ' ') != NULL)
        return false;
    *sp2 = '\0';
    if (sp1[1] != '/' || strncmp(sp2 + 1, "HTTP/", 5) != 0)
        return false;
    rq->rq_method = line;
    rq->rq_path = sp1 + 1;
    rq->rq_version = sp2 + 1;
    q = strchr(sp1 + 1, '?');
    if (q != NULL) {
        *q = '\0';
        rq->rq_query = q + 1;
    } else {
        rq->rq_query = sp2; /* the NUL written above: an empty string */
    }
    return true;
}

static bool req_parse_field(struct req_header *h, char *line)
{
    char *colon = strchr(line, ':');
    char *v, *end;

    if (colon == NULL || !req_is_token(line, (size_t)(colon - line)))
        return false;
    *colon = '\0';
    v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    end = v + strlen(v);
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *end = '\0';
    h->rh_name = line;
    h->rh_value = v;
    return true;
}

enum req_status req_parse(const char *buf, size_t len, struct req_request **out, size_t *head_len)
{
    size_t scan = len < REQ_HEAD_LIMIT ? len : REQ_HEAD_LIMIT;
    size_t end = req_head_end(buf, scan);
    size_t pos = 0, nlines = 0, i;
    struct req_request *rq;
    char *line;

    if (end == 0)
        return len >= REQ_HEAD_LIMIT ? REQ_TOO_LARGE : REQ_INCOMPLETE;
    rq = calloc(1, sizeof(*rq));
    if (rq == NULL)
        return REQ_NOMEM;
    rq->rq_store = malloc(end + 1);
    for (i = 0; i < end; i++)
        nlines += buf[i] == '\n';
    rq->rq_headers = calloc(nlines + 1, sizeof(*rq->rq_headers));
    if (rq->rq_store == NULL || rq->rq_headers == NULL) {
        req_free(rq);
        return REQ_NOMEM;
    }
    memcpy(rq->rq_store, buf, end);
    rq->rq_store[end] = '\0';

    line = req_next_line(rq->rq_store, end, &pos);
    if (!req_parse_request_line(rq, line)) {
        req_free(rq);
        return REQ_BAD;
    }
    for (;;) {
        line = req_next_line(rq->rq_store, end, &pos);
        if (line[0] == '\0')
            break;
        /* Obsolete line folding and junk lines are refused rather than
         * guessed at: tests want to know when a client sends them. */
        if (!req_parse_field(&rq->rq_headers[rq->rq_nheaders], line)) {
            req_free(rq);
            return REQ_BAD;
        }
        rq->rq_nheaders++;
    }
    *out = rq;
    *head_len = end;
    return REQ_COMPLETE;
}

void req_free(struct req_request *rq)
{
    if (rq == NULL)
        return;
    free(rq->rq_headers);
    free(rq->rq_store);
    free(rq);
}

const char *req_header(const struct req_request *rq, const char *name)
{
    size_t i;

    for (i = 0; i < rq->rq_nheaders; i++) {
        if (strcasecmp(rq->rq_headers[i].rh_name, name) == 0)
            return rq->rq_headers[i].rh_value;
    }
    return NULL;
}

/* Decodes one byte of a form-encoded query component at s[*i]; a malformed
 * escape is taken literally. */
static char req_decode_at(const char *s, size_t len, size_t *i)
{
    char c = s[*i];
    int hi, lo;

    (*i)++;
    if (c == '+')
        return ' ';
    if (c != '%' || *i + 2 > len)
        return c;
    hi = numfmt_hex_digit(s[*i]);
    lo = numfmt_hex_digit(s[*i + 1]);
    if (hi < 0 || lo < 0)
        return c;
    *i += 2;
    return (char)(hi * 16 + lo);
}

static bool req_decoded_equal(const char *enc, size_t len, const char *plain)
{
    size_t i = 0;

    while (i < len) {
        if (*plain == '\0' || req_decode_at(enc, len, &i) != *plain)
            return false;
        plain++;
    }
    return *plain == '\0';
}

int req_query(const struct req_request *rq, const char *name, struct sbuf *out)
{
    const char *p = rq->rq_query;

    while (*p != '\0') {
        size_t plen = strcspn(p, "&");
        const char *eq = memchr(p, '=', plen);
        size_t nlen = eq != NULL ? (size_t)(eq - p) : plen;

        if (req_decoded_equal(p, nlen, name)) {
            size_t i = 0, vlen;

            if (eq == NULL)
                return 1;
            vlen = plen - nlen - 1;
            while (i < vlen) {
                if (sbuf_addc(out, req_decode_at(eq + 1, vlen, &i)) != 0)
                    return -1;
            }
            return 1;
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    return 0;
}

bool req_path_segment(const struct req_request *rq, unsigned long n, const char **seg, size_t *len)
{
    const char *p = rq->rq_path;
    unsigned long k;
    size_t l;

    if (n == 0)
        return false;
    if (*p == '/')
        p++;
    for (k = 1;; k++) {
        l = strcspn(p, "/");
        if (k == n)
            break;
        if (p[l] == '\0')
            return false;
        p += l + 1;
    }
    if (l == 0)
        return false;
    *seg = p;
    *len = l;
    return true;
}

/* Length of the valid UTF-8 sequence starting at s, or 0 if it is not one
 * (overlong forms, surrogates and values past U+10FFFF are invalid). */
static size_t req_utf8_len(const unsigned char *s, size_t avail)
{
    size_t n, i;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* Appends s escaped for use inside a JSON string literal. */
static int req_json_escape(struct sbuf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;

    while (i < len) {
        unsigned char c = u[i];
        int rc;

        if (c == '"' || c == '\\') {
            rc = sbuf_addf(out, "\\%c", c);
            n = 1;
        } else if (c == '\n') {
            rc = sbuf_adds(out, "\\n");
            n = 1;
        } else if (c == '\r') {
            rc = sbuf_adds(out, "\\r");
            n = 1;
        } else if (c == '\t') {
            rc = sbuf_adds(out, "\\t");
            n = 1;
        } else if (c < 0x20 || c == 0x7f) {
            rc = sbuf_addf(out, "\\u%04x", c);
            n = 1;
        } else {
            n = req_utf8_len(u + i, len - i);
            if (n == 0) {
                rc = sbuf_addf(out, "\\u%04x", c);
                n = 1;
            } else {
                rc = sbuf_add(out, u + i, n);
            }
        }
        if (rc != 0)
            return -1;
        i += n;
    }
    return 0;
}

int req_json_string(struct sbuf *out, const char *s, size_t len)
{
    if (sbuf_addc(out, '"') != 0 || req_json_escape(out, s, len) != 0)
        return -1;
    return sbuf_addc(out, '"');
}

static int req_json_field(struct sbuf *out, const char *key, const char *value)
{
    if (sbuf_addf(out, ", \"%s\": ", key) != 0)
        return -1;
    return req_json_string(out, value, strlen(value));
}

static int req_log_headers(const struct req_request *rq, struct sbuf *out)
{
    size_t i, j;
    bool first = true;

    if (sbuf_adds(out, ", \"headers\": {") != 0)
        return -1;
    for (i = 0; i < rq->rq_nheaders; i++) {
        const struct req_header *h = &rq->rq_headers[i];
        bool seen = false;

        for (j = 0; j < i && !seen; j++)
            seen = strcasecmp(rq->rq_headers[j].rh_name, h->rh_name) == 0;
        if (seen)
            continue;
        if ((!first && sbuf_adds(out, ", ") != 0) ||
            req_json_string(out, h->rh_name, strlen(h->rh_name)) != 0 ||
            sbuf_adds(out, ": \"") != 0)
            return -1;
        first = false;
        for (j = i; j < rq->rq_nheaders; j++) {
            const char *v = rq->rq_headers[j].rh_value;

            if (strcasecmp(rq->rq_headers[j].rh_name, h->rh_name) != 0)
                continue;
            if (j > i && sbuf_adds(out, ", ") != 0)
                return -1;
            if (req_json_escape(out, v, strlen(v)) != 0)
                return -1;
        }
        if (sbuf_addc(out, '"') != 0)
            return -1;
    }
    return sbuf_adds(out, "}");
}

int req_log_json(const struct req_request *rq, const char *scenario, unsigned long conn,
                 struct sbuf *out)
{
    if (sbuf_addf(out, "{\"conn\": %lu, \"scenario\": ", conn) != 0)
        return -1;
    if (scenario != NULL) {
        if (req_json_string(out, scenario, strlen(scenario)) != 0)
            return -1;
    } else if (sbuf_adds(out, "null") != 0) {
        return -1;
    }
    if (req_json_field(out, "method", rq->rq_method) != 0 ||
        req_json_field(out, "path", rq->rq_path) != 0 ||
        req_json_field(out, "query", rq->rq_query) != 0 || req_log_headers(rq, out) != 0)
        return -1;
    return sbuf_adds(out, "}\n");
}
