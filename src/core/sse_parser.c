/*
 * The WHATWG "interpreting an event stream" algorithm, incremental.
 *
 * Design: lines are found with one vectorised scan that also notes whether a
 * line holds a byte >= 0x80 or a NUL. ASCII lines (the common case) are
 * processed in place, straight from the caller's buffer; only a line split
 * across feed calls is copied into the line buffer first. UTF-8 decoding is
 * done per complete line: CR and LF can never be part of a multi-byte
 * sequence, so decoding line by line gives exactly what decoding the whole
 * stream first would, and no decoder state has to cross chunk boundaries.
 */
#include "ssemon/core/sse_parser.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

struct sse_buf {
    char *b_ptr;
    size_t b_len;
    size_t b_cap;
    size_t b_peak;   /* largest size needed since the last shrink check */
    unsigned b_idle; /* shrink checks in a row that found the buffer oversized */
};

/* An oversized buffer is given back only after this many events in a row
 * needed less than a quarter of it: a stream of large events keeps its
 * buffer instead of paying for a free and a fresh allocation per event. */
#define SSE_SHRINK_AFTER 32

struct sse_parser {
    struct sse_parser_callbacks p_cb;
    void *p_ctx;
    size_t p_max_line;
    size_t p_max_event;

    struct sse_buf p_line; /* bytes of a line not yet terminated */
    bool p_line_slow;      /* p_line holds a byte >= 0x80 or a NUL */
    bool p_skipping;       /* inside an over-long line: drop until its end */
    bool p_skip_lf;        /* the previous chunk ended with CR */
    bool p_bom_done;       /* the BOM decision is made for this stream */
    unsigned p_bom_seen;   /* BOM bytes matched so far */

    struct sse_buf p_data; /* data buffer, each line followed by LF */
    /* Zero-copy data: an event's only data line so far, still in the
     * caller's buffer (valid until sse_parser_feed returns). */
    const char *p_dref;
    size_t p_dref_len;
    bool p_has_dref;
    bool p_line_stable; /* the line being processed lives in the caller's buffer */
    /* A data line split across chunks whose value goes straight into p_data
     * (one copy instead of two); only while it is plain ASCII and within the
     * limits, else it moves back to p_line and takes the general path. */
    bool p_direct;
    size_t p_direct_start;  /* where its value starts in p_data */
    size_t p_direct_prefix; /* 5 or 6: "data:" and an optional space */
    const char *(*p_scan)(const char *s, const char *end, bool *slow); /* by CPU */
    struct sse_buf p_type;                                             /* event type buffer */
    struct sse_buf p_idbuf;                                            /* last event ID buffer */
    struct sse_buf p_idstr;                                            /* last event ID string */
    bool p_id_dirty;  /* p_idbuf differs from p_idstr */
    bool p_discard;   /* the current event is discarded (limits) */
    bool p_too_large; /* EVENT_TOO_LARGE already reported for this event */
    bool p_failed;    /* an allocation failed during this feed */

    bool p_has_retry;
    uint64_t p_retry;

    struct sse_buf p_utf8; /* scratch: a line after U+FFFD replacement */
    struct sse_parser_stats p_st;
};

#define SSE_EXCERPT_MAX 256

typedef const char *(*sse_scan_fn)(const char *s, const char *end, bool *slow);
static sse_scan_fn sse_pick_scan(void);

static const char sse_bom[3] = {'\xEF', '\xBB', '\xBF'};

static const char *const sse_anomaly_names[SSE_ANOMALY_COUNT] = {
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

const char *sse_anomaly_name(enum sse_anomaly kind)
{
    if ((unsigned)kind >= SSE_ANOMALY_COUNT)
        return "unknown";
    return sse_anomaly_names[kind];
}

/* ---- growable byte buffers ---- */

static bool sse_buf_reserve(struct sse_buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->b_len)
        return false;
    size_t need = b->b_len + extra;
    if (need > b->b_peak)
        b->b_peak = need;
    if (need <= b->b_cap)
        return true;
    size_t cap = b->b_cap ? b->b_cap : 64;
    while (cap < need)
        cap *= 2;
    char *nb = realloc(b->b_ptr, cap);
    if (nb == NULL)
        return false;
    b->b_ptr = nb;
    b->b_cap = cap;
    return true;
}

static bool sse_buf_append(struct sse_buf *b, const char *s, size_t len)
{
    if (len == 0)
        return true;
    if (!sse_buf_reserve(b, len))
        return false;
    memcpy(b->b_ptr + b->b_len, s, len);
    b->b_len += len;
    return true;
}

static bool sse_buf_set(struct sse_buf *b, const char *s, size_t len)
{
    b->b_len = 0;
    return sse_buf_append(b, s, len);
}

static void sse_buf_trim(struct sse_buf *b)
{
    if (b->b_cap <= SSE_PARSER_SHRINK_ABOVE || b->b_len > 0)
        return;
    free(b->b_ptr);
    b->b_ptr = NULL;
    b->b_cap = 0;
    b->b_peak = 0;
    b->b_idle = 0;
}

/* Gives memory back once unusually large events or lines have stopped
 * coming (see SSE_SHRINK_AFTER). Called when the buffer was just emptied. */
static void sse_buf_shrink(struct sse_buf *b)
{
    if (b->b_cap <= SSE_PARSER_SHRINK_ABOVE || b->b_len > 0)
        return;
    if (b->b_peak > b->b_cap / 4)
        b->b_idle = 0;
    else
        b->b_idle++;
    b->b_peak = 0;
    if (b->b_idle >= SSE_SHRINK_AFTER)
        sse_buf_trim(b);
}

static void sse_buf_release(struct sse_buf *b)
{
    free(b->b_ptr);
    b->b_ptr = NULL;
    b->b_len = b->b_cap = b->b_peak = 0;
    b->b_idle = 0;
}

/* ---- reporting ---- */

static void sse_anomaly(struct sse_parser *p, enum sse_anomaly kind, const char *line, size_t len)
{
    p->p_st.anomalies[kind]++;
    if (p->p_cb.on_anomaly != NULL)
        p->p_cb.on_anomaly(p->p_ctx, kind, line, len);
}

/* ---- lifecycle ---- */

struct sse_parser *sse_parser_new(const struct sse_parser_limits *limits,
                                  const struct sse_parser_callbacks *cbs, void *ctx)
{
    struct sse_parser *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    if (cbs != NULL)
        p->p_cb = *cbs;
    p->p_ctx = ctx;
    p->p_scan = sse_pick_scan();
    p->p_max_line = SSE_PARSER_DEFAULT_MAX_LINE;
    p->p_max_event = SSE_PARSER_DEFAULT_MAX_EVENT;
    if (limits != NULL && limits->max_line > 0)
        p->p_max_line = limits->max_line;
    if (limits != NULL && limits->max_event > 0)
        p->p_max_event = limits->max_event;
    return p;
}

void sse_parser_free(struct sse_parser *p)
{
    if (p == NULL)
        return;
    sse_buf_release(&p->p_line);
    sse_buf_release(&p->p_data);
    sse_buf_release(&p->p_type);
    sse_buf_release(&p->p_idbuf);
    sse_buf_release(&p->p_idstr);
    sse_buf_release(&p->p_utf8);
    free(p);
}

/* Back to the start of a stream. The last event ID buffer is re-seeded from
 * the last event ID string, as a browser seeds the parser of a new
 * connection; an id line of an event that never dispatched is forgotten. */
static void sse_parser_restart(struct sse_parser *p)
{
    p->p_line.b_len = 0;
    p->p_line_slow = false;
    p->p_skipping = false;
    p->p_skip_lf = false;
    p->p_bom_done = false;
    p->p_bom_seen = 0;
    p->p_data.b_len = 0;
    p->p_has_dref = false;
    p->p_direct = false;
    p->p_type.b_len = 0;
    p->p_discard = false;
    p->p_too_large = false;
    if (p->p_id_dirty) {
        if (!sse_buf_set(&p->p_idbuf, p->p_idstr.b_ptr, p->p_idstr.b_len))
            p->p_idbuf.b_len = 0;
        p->p_id_dirty = p->p_idbuf.b_len != p->p_idstr.b_len;
    }
    /* A new connection starts lean. */
    sse_buf_trim(&p->p_line);
    sse_buf_trim(&p->p_data);
    sse_buf_trim(&p->p_utf8);
}

void sse_parser_end(struct sse_parser *p)
{
    sse_parser_restart(p);
}

int sse_parser_set_last_event_id(struct sse_parser *p, const char *id, size_t len)
{
    if (!sse_buf_set(&p->p_idstr, id, len))
        return -1;
    if (!sse_buf_set(&p->p_idbuf, id, len))
        return -1;
    p->p_id_dirty = false;
    return 0;
}

const char *sse_parser_last_event_id(const struct sse_parser *p, size_t *len)
{
    *len = p->p_idstr.b_len;
    return p->p_idstr.b_ptr != NULL ? p->p_idstr.b_ptr : "";
}

bool sse_parser_retry(const struct sse_parser *p, uint64_t *ms)
{
    if (p->p_has_retry && ms != NULL)
        *ms = p->p_retry;
    return p->p_has_retry;
}

const struct sse_parser_stats *sse_parser_stats(const struct sse_parser *p)
{
    return &p->p_st;
}

/* ---- UTF-8 (WHATWG Encoding, "UTF-8 decode" with replacement) ---- */

/* Decodes `len` bytes into p_utf8, replacing each maximal invalid subpart
 * with U+FFFD. Returns false only on allocation failure; *replaced tells
 * whether anything was replaced. */
static bool sse_utf8_decode(struct sse_parser *p, const char *in, size_t len, bool *replaced)
{
    static const char fffd[3] = {'\xEF', '\xBF', '\xBD'};
    struct sse_buf *out = &p->p_utf8;
    out->b_len = 0;
    *replaced = false;
    if (len > (SIZE_MAX / 4) || !sse_buf_reserve(out, len * 3))
        return false;
    const unsigned char *s = (const unsigned char *)in;
    char *o = out->b_ptr;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            *o++ = (char)c;
            i++;
            continue;
        }
        unsigned need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            memcpy(o, fffd, 3);
            o += 3;
            *replaced = true;
            i++;
            continue;
        }
        size_t start = i++;
        unsigned seen = 0;
        while (seen < need && i < len && s[i] >= lo && s[i] <= hi) {
            lo = 0x80;
            hi = 0xBF;
            seen++;
            i++;
        }
        if (seen == need) {
            memcpy(o, s + start, need + 1);
            o += need + 1;
        } else {
            /* The maximal subpart is dropped; the byte that broke it is
             * decoded afresh on the next round. */
            memcpy(o, fffd, 3);
            o += 3;
            *replaced = true;
        }
    }
    out->b_len = (size_t)(o - out->b_ptr);
    return true;
}

/* ---- the algorithm ---- */

static void sse_dispatch(struct sse_parser *p)
{
    if (p->p_id_dirty) {
        if (!sse_buf_set(&p->p_idstr, p->p_idbuf.b_ptr, p->p_idbuf.b_len)) {
            p->p_failed = true;
            return;
        }
        p->p_id_dirty = false;
    }
    if ((p->p_data.b_len == 0 && !p->p_has_dref) || p->p_discard) {
        p->p_data.b_len = 0;
        p->p_has_dref = false;
        p->p_type.b_len = 0;
        p->p_discard = false;
        p->p_too_large = false;
        sse_buf_shrink(&p->p_data);
        return;
    }
    struct sse_event ev;
    if (p->p_has_dref) {
        ev.data = p->p_dref;
        ev.data_len = p->p_dref_len;
        p->p_has_dref = false;
    } else {
        ev.data = p->p_data.b_ptr;
        ev.data_len = p->p_data.b_len - 1; /* the final LF */
    }
    if (p->p_type.b_len > 0) {
        ev.type = p->p_type.b_ptr;
        ev.type_len = p->p_type.b_len;
    } else {
        ev.type = "message";
        ev.type_len = 7;
    }
    ev.id = p->p_idstr.b_ptr != NULL ? p->p_idstr.b_ptr : "";
    ev.id_len = p->p_idstr.b_len;
    p->p_st.events++;
    if (p->p_cb.on_event != NULL)
        p->p_cb.on_event(p->p_ctx, &ev);
    p->p_data.b_len = 0;
    p->p_type.b_len = 0;
    sse_buf_shrink(&p->p_data);
}

/* Copies a referenced data line into the data buffer, before another line
 * joins it or before the caller's buffer goes away. */
static bool sse_data_materialize(struct sse_parser *p)
{
    if (!p->p_has_dref)
        return true;
    p->p_has_dref = false;
    if (!sse_buf_reserve(&p->p_data, p->p_dref_len + 1))
        return false;
    memcpy(p->p_data.b_ptr, p->p_dref, p->p_dref_len);
    p->p_data.b_ptr[p->p_dref_len] = '\n';
    p->p_data.b_len = p->p_dref_len + 1;
    return true;
}

static void sse_field_data(struct sse_parser *p, const char *v, size_t vlen)
{
    if (p->p_discard)
        return;
    /* `have` counts an LF after each earlier line: exactly the data length
     * this line would bring the event to, less vlen. */
    size_t have = p->p_has_dref ? p->p_dref_len + 1 : p->p_data.b_len;
    if (have > p->p_max_event || vlen > p->p_max_event - have) {
        if (!p->p_too_large) {
            p->p_too_large = true;
            sse_anomaly(p, SSE_ANOMALY_EVENT_TOO_LARGE, v,
                        vlen < SSE_EXCERPT_MAX ? vlen : SSE_EXCERPT_MAX);
        }
        p->p_discard = true;
        p->p_has_dref = false;
        p->p_data.b_len = 0;
        sse_buf_shrink(&p->p_data);
        return;
    }
    if (have == 0 && p->p_line_stable) {
        p->p_dref = v;
        p->p_dref_len = vlen;
        p->p_has_dref = true;
        return;
    }
    if (!sse_data_materialize(p) || !sse_buf_reserve(&p->p_data, vlen + 1)) {
        p->p_failed = true;
        return;
    }
    char *d = p->p_data.b_ptr + p->p_data.b_len;
    memcpy(d, v, vlen);
    d[vlen] = '\n';
    p->p_data.b_len += vlen + 1;
}

static void sse_field_retry(struct sse_parser *p, const char *line, size_t len, const char *v,
                            size_t vlen)
{
    uint64_t ms = 0;
    bool saturated = false;
    if (vlen == 0) {
        sse_anomaly(p, SSE_ANOMALY_BAD_RETRY, line, len);
        return;
    }
    for (size_t i = 0; i < vlen; i++) {
        unsigned d = (unsigned char)v[i] - '0';
        if (d > 9) {
            sse_anomaly(p, SSE_ANOMALY_BAD_RETRY, line, len);
            return;
        }
        if (ms > (UINT64_MAX - d) / 10)
            saturated = true;
        else
            ms = ms * 10 + d;
    }
    p->p_has_retry = true;
    p->p_retry = saturated ? UINT64_MAX : ms;
    if (p->p_cb.on_retry != NULL)
        p->p_cb.on_retry(p->p_ctx, p->p_retry);
}

static void sse_process_field(struct sse_parser *p, const char *line, size_t len)
{
    /* The two fields of almost every line, without a search for the colon. */
    if (len >= 5 && memcmp(line, "data:", 5) == 0) {
        size_t skip = len > 5 && line[5] == ' ' ? 6 : 5;
        sse_field_data(p, line + skip, len - skip);
        return;
    }
    if (len >= 6 && memcmp(line, "event:", 6) == 0) {
        size_t skip = len > 6 && line[6] == ' ' ? 7 : 6;
        if (!sse_buf_set(&p->p_type, line + skip, len - skip))
            p->p_failed = true;
        return;
    }
    const char *colon = memchr(line, ':', len);
    const char *v;
    size_t flen, vlen;
    if (colon != NULL) {
        flen = (size_t)(colon - line);
        v = colon + 1;
        vlen = len - flen - 1;
        if (vlen > 0 && *v == ' ') {
            v++;
            vlen--;
        }
    } else {
        flen = len;
        v = line + len;
        vlen = 0;
        sse_anomaly(p, SSE_ANOMALY_NO_COLON, line, len);
    }
    switch (flen) {
    case 4:
        if (memcmp(line, "data", 4) == 0) {
            sse_field_data(p, v, vlen);
            return;
        }
        break;
    case 5:
        if (memcmp(line, "event", 5) == 0) {
            if (!sse_buf_set(&p->p_type, v, vlen))
                p->p_failed = true;
            return;
        }
        if (memcmp(line, "retry", 5) == 0) {
            sse_field_retry(p, line, len, v, vlen);
            return;
        }
        break;
    case 2:
        if (line[0] == 'i' && line[1] == 'd') {
            if (memchr(v, '\0', vlen) != NULL) {
                sse_anomaly(p, SSE_ANOMALY_ID_NUL, line, len);
                return;
            }
            if (!sse_buf_set(&p->p_idbuf, v, vlen))
                p->p_failed = true;
            p->p_id_dirty = true;
            return;
        }
        break;
    default:
        break;
    }
    sse_anomaly(p, SSE_ANOMALY_UNKNOWN_FIELD, line, len);
}

/* An over-long line (its bytes are a then b): reported with its first
 * bytes, made valid UTF-8, and its event is discarded. */
static void sse_report_too_long(struct sse_parser *p, const char *a, size_t alen, const char *b,
                                size_t blen)
{
    /* Both callers know at least max_line + 1 bytes of the line: report
     * that many at most, so the excerpt does not depend on chunking. */
    char excerpt[SSE_EXCERPT_MAX];
    size_t cap = p->p_max_line < SSE_EXCERPT_MAX - 1 ? p->p_max_line + 1 : SSE_EXCERPT_MAX;
    size_t na = alen < cap ? alen : cap;
    size_t nb = cap - na < blen ? cap - na : blen;
    if (na > 0)
        memcpy(excerpt, a, na);
    if (nb > 0)
        memcpy(excerpt + na, b, nb);
    bool replaced;
    p->p_st.lines++;
    p->p_discard = true;
    if (sse_utf8_decode(p, excerpt, na + nb, &replaced))
        sse_anomaly(p, SSE_ANOMALY_LINE_TOO_LONG, p->p_utf8.b_ptr, p->p_utf8.b_len);
    else
        sse_anomaly(p, SSE_ANOMALY_LINE_TOO_LONG, "", 0);
}

/* One complete line, terminator excluded. `slow` says it may hold bytes
 * >= 0x80 or NULs. */
static void sse_process_line(struct sse_parser *p, const char *line, size_t len, bool slow)
{
    if (len > p->p_max_line) {
        sse_report_too_long(p, line, len, NULL, 0);
        return;
    }
    p->p_st.lines++;
    if (slow) {
        bool replaced;
        if (!sse_utf8_decode(p, line, len, &replaced)) {
            p->p_failed = true;
            return;
        }
        if (replaced) {
            line = p->p_utf8.b_ptr;
            len = p->p_utf8.b_len;
            sse_anomaly(p, SSE_ANOMALY_INVALID_UTF8, line, len);
        }
        if (memchr(line, '\0', len) != NULL)
            sse_anomaly(p, SSE_ANOMALY_NUL, line, len);
    }
    if (len == 0) {
        sse_dispatch(p);
        return;
    }
    if (line[0] == ':') {
        p->p_st.comments++;
        if (p->p_cb.on_comment != NULL)
            p->p_cb.on_comment(p->p_ctx, line + 1, len - 1);
        return;
    }
    sse_process_field(p, line, len);
}

/* Finds the first CR or LF in [s, end), or returns end. Sets *slow when a
 * byte >= 0x80 or a NUL lies before it. */
static const char *sse_scan_tail(const char *s, const char *end, bool *slow)
{
    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n' || c == '\r')
            return s;
        if (c >= 0x80 || c == 0)
            *slow = true;
    }
    return end;
}

#if defined(__SSE2__)
static const char *sse_scan_sse2(const char *s, const char *end, bool *slow)
{
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    const __m128i zero = _mm_setzero_si128();
    unsigned odd = 0;
    while (end - s >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
        unsigned term =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
        unsigned o = (unsigned)_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, zero)));
        if (term != 0) {
            unsigned pos = (unsigned)__builtin_ctz(term);
            if ((odd | (o & ((1u << pos) - 1u))) != 0)
                *slow = true;
            return s + pos;
        }
        odd |= o;
        s += 16;
    }
    if (odd != 0)
        *slow = true;
    return sse_scan_tail(s, end, slow);
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define SSE_HAVE_AVX2 1
__attribute__((target("avx2"))) static const char *sse_scan_avx2(const char *s, const char *end,
                                                                 bool *slow)
{
    const __m256i lf = _mm256_set1_epi8('\n');
    const __m256i cr = _mm256_set1_epi8('\r');
    const __m256i zero = _mm256_setzero_si256();
    unsigned odd = 0;
    while (end - s >= 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)s);
        unsigned term = (unsigned)_mm256_movemask_epi8(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, lf), _mm256_cmpeq_epi8(v, cr)));
        unsigned o = (unsigned)_mm256_movemask_epi8(_mm256_or_si256(v, _mm256_cmpeq_epi8(v, zero)));
        if (term != 0) {
            unsigned pos = (unsigned)__builtin_ctz(term);
            if ((odd | (o & ((1u << pos) - 1u))) != 0)
                *slow = true;
            return s + pos;
        }
        odd |= o;
        s += 32;
    }
    if (odd != 0)
        *slow = true;
    return sse_scan_sse2(s, end, slow);
}
#endif

static sse_scan_fn sse_pick_scan(void)
{
#if defined(SSE_HAVE_AVX2)
    if (__builtin_cpu_supports("avx2"))
        return sse_scan_avx2;
#endif
#if defined(__SSE2__)
    return sse_scan_sse2;
#else
    return sse_scan_tail;
#endif
}

/* Bytes of a line that continues past this chunk. */
/* Moves a direct data line back into p_line, as the general path holds it. */
static void sse_direct_undo(struct sse_parser *p)
{
    size_t vlen = p->p_data.b_len - p->p_direct_start;
    p->p_direct = false;
    p->p_line.b_len = 0;
    p->p_line_slow = false;
    if (!sse_buf_append(&p->p_line, "data: ", p->p_direct_prefix) ||
        (vlen > 0 && !sse_buf_append(&p->p_line, p->p_data.b_ptr + p->p_direct_start, vlen)))
        p->p_failed = true;
    p->p_data.b_len = p->p_direct_start;
}

/* The held line is an ASCII data line: from here on its value is appended
 * to the data buffer directly. */
static void sse_direct_begin(struct sse_parser *p)
{
    const char *l = p->p_line.b_ptr;
    if (p->p_direct || p->p_line_slow || p->p_discard || p->p_line.b_len < 6 ||
        memcmp(l, "data:", 5) != 0)
        return;
    size_t prefix = l[5] == ' ' ? 6 : 5;
    if (!sse_data_materialize(p) ||
        !sse_buf_append(&p->p_data, l + prefix, p->p_line.b_len - prefix)) {
        p->p_failed = true;
        return;
    }
    p->p_direct = true;
    p->p_direct_start = p->p_data.b_len - (p->p_line.b_len - prefix);
    p->p_direct_prefix = prefix;
    p->p_line.b_len = 0;
}

/* The direct data line ended: what sse_field_data does for a whole line. */
static void sse_direct_finish(struct sse_parser *p)
{
    size_t have = p->p_direct_start;
    size_t vlen = p->p_data.b_len - have;
    const char *v = vlen > 0 ? p->p_data.b_ptr + have : "";
    p->p_direct = false;
    p->p_st.lines++;
    if (have > p->p_max_event || vlen > p->p_max_event - have) {
        if (!p->p_too_large) {
            p->p_too_large = true;
            sse_anomaly(p, SSE_ANOMALY_EVENT_TOO_LARGE, v,
                        vlen < SSE_EXCERPT_MAX ? vlen : SSE_EXCERPT_MAX);
        }
        p->p_discard = true;
        p->p_data.b_len = 0;
        sse_buf_shrink(&p->p_data);
        return;
    }
    if (!sse_buf_append(&p->p_data, "\n", 1))
        p->p_failed = true;
}

/* Bytes of a line that continues past this chunk (or its last piece). */
static void sse_hold_partial(struct sse_parser *p, const char *s, size_t n, bool slow)
{
    if (p->p_skipping)
        return;
    if (p->p_direct) {
        size_t have = p->p_direct_prefix + (p->p_data.b_len - p->p_direct_start);
        if (!slow && n <= p->p_max_line - have) {
            if (!sse_buf_append(&p->p_data, s, n))
                p->p_failed = true;
            return;
        }
        sse_direct_undo(p);
        if (p->p_failed)
            return;
    }
    if (n > p->p_max_line - p->p_line.b_len || p->p_line.b_len > p->p_max_line) {
        sse_report_too_long(p, p->p_line.b_ptr, p->p_line.b_len, s, n);
        p->p_skipping = true;
        p->p_line.b_len = 0;
        p->p_line_slow = false;
        sse_buf_shrink(&p->p_line);
        return;
    }
    if (!sse_buf_append(&p->p_line, s, n)) {
        p->p_failed = true;
        return;
    }
    p->p_line_slow |= slow;
    sse_direct_begin(p);
}

/* Consumes a possibly split leading BOM. Returns the first byte after it, or
 * NULL when every byte was consumed as a BOM prefix. */
static const char *sse_take_bom(struct sse_parser *p, const char *s, const char *end)
{
    while (s < end && p->p_bom_seen < 3 && *s == sse_bom[p->p_bom_seen]) {
        p->p_bom_seen++;
        s++;
    }
    if (p->p_bom_seen == 3) {
        p->p_bom_done = true;
        return s;
    }
    if (s == end)
        return NULL;
    /* Not a BOM after all: the bytes matched so far start the first line. */
    p->p_bom_done = true;
    if (p->p_bom_seen > 0) {
        if (!sse_buf_append(&p->p_line, sse_bom, p->p_bom_seen))
            p->p_failed = true;
        p->p_line_slow = true;
    }
    return s;
}

int sse_parser_feed(struct sse_parser *p, const void *buf, size_t len)
{
    const char *s = buf;
    const char *end = s + len;
    p->p_st.bytes += len;
    if (len == 0)
        return 0;
    if (!p->p_bom_done) {
        s = sse_take_bom(p, s, end);
        if (s == NULL)
            return 0;
    }
    if (p->p_skip_lf && s < end) {
        if (*s == '\n')
            s++;
        p->p_skip_lf = false;
    }
    while (s < end && !p->p_failed) {
        bool slow = false;
        const char *t = p->p_scan(s, end, &slow);
        if (t == end) {
            sse_hold_partial(p, s, (size_t)(end - s), slow);
            break;
        }
        if (p->p_skipping) {
            p->p_skipping = false;
        } else if (p->p_line.b_len > 0 || p->p_direct) {
            sse_hold_partial(p, s, (size_t)(t - s), slow);
            if (p->p_direct && !p->p_failed) {
                sse_direct_finish(p);
            } else if (!p->p_skipping && !p->p_failed) {
                p->p_line_stable = false;
                sse_process_line(p, p->p_line.b_ptr, p->p_line.b_len, p->p_line_slow);
                p->p_line.b_len = 0;
                p->p_line_slow = false;
                sse_buf_shrink(&p->p_line);
            }
            p->p_skipping = false;
        } else {
            p->p_line_stable = !slow;
            sse_process_line(p, s, (size_t)(t - s), slow);
        }
        if (*t == '\r') {
            if (t + 1 == end)
                p->p_skip_lf = true;
            else if (t[1] == '\n')
                t++;
        }
        s = t + 1;
    }
    if (!p->p_failed && !sse_data_materialize(p))
        p->p_failed = true;
    if (p->p_failed) {
        p->p_failed = false;
        sse_parser_restart(p);
        return -1;
    }
    return 0;
}
