#include "sse_test_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sse_rec_kinds[] = {
    [SSE_ANOMALY_UNKNOWN_FIELD] = "unknown_field",
    [SSE_ANOMALY_NO_COLON] = "no_colon",
    [SSE_ANOMALY_INVALID_UTF8] = "invalid_utf8",
    [SSE_ANOMALY_NUL] = "nul",
    [SSE_ANOMALY_ID_NUL] = "id_nul",
    [SSE_ANOMALY_BAD_RETRY] = "bad_retry",
    [SSE_ANOMALY_LINE_TOO_LONG] = "line_too_long",
    [SSE_ANOMALY_EVENT_TOO_LARGE] = "event_too_large",
    [SSE_ANOMALY_RETRY_OUT_OF_RANGE] = "retry_out_of_range",
};
_Static_assert(sizeof(sse_rec_kinds) / sizeof(sse_rec_kinds[0]) == SSE_ANOMALY_COUNT,
               "one transcript name per anomaly kind");

const char *sse_rec_kind_name(enum sse_anomaly kind)
{
    if ((unsigned)kind >= SSE_ANOMALY_COUNT)
        return "out_of_range";
    return sse_rec_kinds[kind];
}

void sse_rec_init(struct sse_rec *r, unsigned flags)
{
    memset(r, 0, sizeof(*r));
    r->sr_flags = flags;
}

void sse_rec_free(struct sse_rec *r)
{
    free(r->sr_buf);
    for (size_t k = 0; k < SSE_ANOMALY_COUNT; k++)
        free(r->sr_last_line[k]);
    sse_rec_init(r, r->sr_flags);
}

void sse_rec_reset(struct sse_rec *r)
{
    unsigned flags = r->sr_flags;
    void *user = r->sr_user;
    sse_rec_free(r);
    r->sr_flags = flags;
    r->sr_user = user;
}

const char *sse_rec_text(const struct sse_rec *r)
{
    return r->sr_buf != NULL ? r->sr_buf : "";
}

static void sse_rec_put(struct sse_rec *r, const char *s, size_t len)
{
    if (r->sr_failed)
        return;
    if (r->sr_len + len + 1 > r->sr_cap) {
        size_t cap = r->sr_cap ? r->sr_cap : 256;
        while (cap < r->sr_len + len + 1)
            cap *= 2;
        char *nb = realloc(r->sr_buf, cap);
        if (nb == NULL) {
            r->sr_failed = true;
            return;
        }
        r->sr_buf = nb;
        r->sr_cap = cap;
    }
    if (len > 0)
        memcpy(r->sr_buf + r->sr_len, s, len);
    r->sr_len += len;
    r->sr_buf[r->sr_len] = '\0';
}

static void sse_rec_puts(struct sse_rec *r, const char *s)
{
    sse_rec_put(r, s, strlen(s));
}

static void sse_rec_escaped(struct sse_rec *r, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        if (c == '\n')
            sse_rec_puts(r, "\\n");
        else if (c == '\r')
            sse_rec_puts(r, "\\r");
        else if (c == '\t')
            sse_rec_puts(r, "\\t");
        else if (c == '[' || c == ']' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            sse_rec_put(r, tmp, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            snprintf(tmp, sizeof(tmp), "\\x%02x", c);
            sse_rec_puts(r, tmp);
        } else {
            sse_rec_put(r, (const char *)&s[i], 1);
        }
    }
}

static void sse_rec_begin(struct sse_rec *r, const char *tag)
{
    if (r->sr_len > 0)
        sse_rec_put(r, " ", 1);
    sse_rec_puts(r, tag);
}

static void sse_rec_field(struct sse_rec *r, const char *s, size_t len)
{
    sse_rec_put(r, "[", 1);
    if (s == NULL && len > 0)
        sse_rec_puts(r, "!NULL");
    else
        sse_rec_escaped(r, s, len);
    sse_rec_put(r, "]", 1);
}

void sse_rec_note(struct sse_rec *r, const char *tag, const char *text, size_t len)
{
    sse_rec_begin(r, tag);
    sse_rec_field(r, text, len);
}

bool sse_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            return false;
        }
        if (len - i - 1 < need)
            return false;
        if (u[i + 1] < lo || u[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++) {
            if (u[i + k] < 0x80 || u[i + k] > 0xbf)
                return false;
        }
        i += need + 1;
    }
    return true;
}

/* The header promises valid UTF-8; the id never holds U+0000 (the standard
 * ignores such an id field). */
static void sse_rec_check_text(struct sse_rec *r, const char *what, const char *s, size_t len,
                               bool nul_ok)
{
    if (len == 0)
        return;
    if (s == NULL) {
        sse_rec_note(r, "!", what, strlen(what));
        return;
    }
    if (!sse_utf8_valid(s, len)) {
        sse_rec_begin(r, "![invalid utf-8 in ");
        sse_rec_puts(r, what);
        sse_rec_puts(r, "]");
    }
    if (!nul_ok && memchr(s, '\0', len) != NULL) {
        sse_rec_begin(r, "![NUL in ");
        sse_rec_puts(r, what);
        sse_rec_puts(r, "]");
    }
}

void sse_rec_on_event(void *ctx, const struct sse_event *ev)
{
    struct sse_rec *r = ctx;
    r->sr_events++;
    if (ev == NULL) {
        sse_rec_begin(r, "![NULL event]");
        return;
    }
    if (ev->type_len == 0)
        sse_rec_begin(r, "![empty type]");
    /* A NUL in an event field reaches the type, as in a browser. */
    sse_rec_check_text(r, "type", ev->type, ev->type_len, true);
    sse_rec_check_text(r, "id", ev->id, ev->id_len, false);
    sse_rec_check_text(r, "data", ev->data, ev->data_len, true);
    sse_rec_begin(r, "E");
    sse_rec_field(r, ev->type, ev->type_len);
    sse_rec_field(r, ev->id, ev->id_len);
    sse_rec_field(r, ev->data, ev->data_len);
}

void sse_rec_on_comment(void *ctx, const char *text, size_t len)
{
    struct sse_rec *r = ctx;
    r->sr_comments++;
    sse_rec_check_text(r, "comment", text, len, true);
    sse_rec_note(r, "C", text, len);
}

void sse_rec_on_retry(void *ctx, uint64_t ms)
{
    struct sse_rec *r = ctx;
    char tmp[32];
    r->sr_retries++;
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, ms);
    sse_rec_note(r, "R", tmp, (size_t)n);
}

void sse_rec_on_anomaly(void *ctx, enum sse_anomaly kind, const char *line, size_t len)
{
    struct sse_rec *r = ctx;
    if ((unsigned)kind >= SSE_ANOMALY_COUNT) {
        sse_rec_begin(r, "![anomaly kind out of range]");
        return;
    }
    r->sr_anomalies[kind]++;
    free(r->sr_last_line[kind]);
    r->sr_last_line[kind] = malloc(len + 1);
    r->sr_last_line_len[kind] = 0;
    if (r->sr_last_line[kind] == NULL) {
        r->sr_failed = true;
    } else {
        if (len > 0 && line != NULL)
            memcpy(r->sr_last_line[kind], line, len);
        r->sr_last_line[kind][len] = '\0';
        r->sr_last_line_len[kind] = line != NULL ? len : 0;
    }
    if (len > 0 && line == NULL)
        sse_rec_begin(r, "![NULL anomaly line]");
    if (r->sr_flags & SSE_REC_ANOMALIES) {
        sse_rec_begin(r, "A[");
        sse_rec_puts(r, sse_rec_kind_name(kind));
        sse_rec_puts(r, "]");
        sse_rec_field(r, line, len);
    }
}

void sse_rec_callbacks(struct sse_parser_callbacks *cbs)
{
    cbs->on_event = sse_rec_on_event;
    cbs->on_comment = sse_rec_on_comment;
    cbs->on_retry = sse_rec_on_retry;
    cbs->on_anomaly = sse_rec_on_anomaly;
}

void sse_rec_state(struct sse_rec *r, const struct sse_parser *p)
{
    size_t len = 0;
    const char *id = sse_parser_last_event_id(p, &len);
    if (id == NULL) {
        sse_rec_begin(r, "![NULL last event id]");
        id = "";
        len = 0;
    }
    sse_rec_note(r, "L", id, len);
    uint64_t ms = 0;
    if (sse_parser_retry(p, &ms)) {
        char tmp[32];
        int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, ms);
        sse_rec_note(r, "T", tmp, (size_t)n);
    } else {
        sse_rec_note(r, "T", "-", 1);
    }
}

int sse_rec_feed_cuts(struct sse_parser *p, const void *in, size_t len, const size_t *cuts,
                      size_t ncuts)
{
    const char *bytes = in;
    size_t start = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        if (end < start || end > len)
            return -1;
        size_t n = end - start;
        /* One byte minimum so a zero-length feed still gets a valid pointer. */
        char *chunk = malloc(n > 0 ? n : 1);
        if (chunk == NULL)
            return -1;
        if (n > 0)
            memcpy(chunk, bytes + start, n);
        int rc = sse_parser_feed(p, chunk, n);
        free(chunk);
        if (rc != 0)
            return -1;
        start = end;
    }
    return 0;
}

static void sse_rec_check_stat(struct sse_rec *r, const char *what, uint64_t got, uint64_t want)
{
    if (got == want)
        return;
    char tmp[160];
    int n = snprintf(tmp, sizeof(tmp), "stats.%s=%" PRIu64 " but %" PRIu64 " recorded", what, got,
                     want);
    sse_rec_note(r, "!", tmp, (size_t)n);
}

int sse_rec_run(struct sse_rec *r, const struct sse_parser_limits *lim,
                const struct sse_parser_callbacks *cbs, const void *in, size_t len,
                const size_t *cuts, size_t ncuts, int nstreams)
{
    struct sse_parser_callbacks own;
    if (cbs == NULL) {
        sse_rec_callbacks(&own);
        cbs = &own;
    }
    struct sse_parser *p = sse_parser_new(lim, cbs, r);
    if (p == NULL) {
        sse_rec_begin(r, "![sse_parser_new failed]");
        return -1;
    }
    uint64_t events = r->sr_events, comments = r->sr_comments;
    uint64_t anomalies[SSE_ANOMALY_COUNT];
    memcpy(anomalies, r->sr_anomalies, sizeof(anomalies));
    int rc = 0;
    for (int s = 0; s < nstreams; s++) {
        if (sse_rec_feed_cuts(p, in, len, cuts, ncuts) != 0) {
            sse_rec_begin(r, "![feed failed]");
            rc = -1;
            break;
        }
        sse_parser_end(p);
        if (r->sr_flags & SSE_REC_STATE)
            sse_rec_state(r, p);
    }
    const struct sse_parser_stats *st = sse_parser_stats(p);
    if (st == NULL) {
        sse_rec_begin(r, "![NULL stats]");
    } else if (rc == 0) {
        sse_rec_check_stat(r, "bytes", st->bytes, (uint64_t)len * (uint64_t)nstreams);
        sse_rec_check_stat(r, "events", st->events, r->sr_events - events);
        sse_rec_check_stat(r, "comments", st->comments, r->sr_comments - comments);
        for (size_t k = 0; k < SSE_ANOMALY_COUNT; k++)
            sse_rec_check_stat(r, sse_rec_kinds[k], st->anomalies[k],
                               r->sr_anomalies[k] - anomalies[k]);
    }
    sse_parser_free(p);
    return rc;
}

uint64_t sse_rand_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

size_t sse_rand_cuts(uint64_t *state, size_t len, size_t max_chunk, size_t *cuts, size_t cap)
{
    size_t n = 0, pos = 0;
    while (n < cap) {
        pos += (size_t)(sse_rand_next(state) % (max_chunk + 1));
        if (pos >= len)
            break;
        cuts[n++] = pos;
    }
    return n;
}
