/*
 * One-pass JSON parser into a flat node array.
 *
 * Design: a single loop with an explicit stack of open containers (no
 * recursion, so the depth limit costs one compare per value). Strings are
 * scanned 16 bytes at a time for the four byte classes that end a plain run
 * ('"', '\\', control characters, bytes >= 0x80); a string without escapes
 * is never copied, its decoded bytes are its source bytes. Strings with
 * escapes are decoded into the arena during the same scan. Numbers are
 * converted once, while they are scanned: exactly representable cases are
 * computed directly (Clinger's fast path), the rest go to strtod, as
 * jansson does, so both give bit-identical doubles.
 */
#include "ssemon/json/json_tape.h"
#include "ssemon/base/numfmt.h"
#include "ssemon/base/utf8.h"
#include "ssemon/json/json_position.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define JT_INITIAL_NODES 64
/* Arena slack: room for SIMD-free overruns and for the number scratch's
 * sign, exponent and terminator. */
#define JT_ARENA_SLACK 64
/* Decimal exponents beyond this magnitude over- or underflow whatever the
 * digits (documents are shorter than 2^32 bytes), so they are clamped. */
#define JT_EXP_CLAMP 1000000000000000LL

struct json_tape_stack {
    uint32_t sk_node; /* index of the open container */
    uint64_t sk_keys; /* signatures of the keys seen so far (objects) */
};

struct jt_parse {
    struct json_tape *ps_t;
    const char *ps_text;
    const char *ps_end;
    size_t ps_len;
    const char *ps_errpos; /* where the error is */
    const char *ps_errmsg;
    int ps_status;
};

static const double jt_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* ---- lifecycle ---- */

void json_tape_init(struct json_tape *t)
{
    memset(t, 0, sizeof(*t));
    t->jt_src = "";
    t->jt_max_depth = JSON_TAPE_DEFAULT_MAX_DEPTH;
}

void json_tape_free(struct json_tape *t)
{
    free(t->jt_nodes);
    free(t->jt_arena);
    free(t->jt_stack);
    json_tape_init(t);
}

void json_tape_set_max_depth(struct json_tape *t, unsigned max_depth)
{
    t->jt_max_depth = max_depth > 0 ? max_depth : JSON_TAPE_DEFAULT_MAX_DEPTH;
}

/* Gives memory back after an unusually big document. Failure to shrink is
 * harmless: the bigger buffer stays. */
static void jt_shrink(struct json_tape *t)
{
    if (t->jt_cap > JSON_TAPE_SHRINK_ABOVE / sizeof(struct json_tape_node)) {
        size_t cap = JSON_TAPE_SHRINK_ABOVE / sizeof(struct json_tape_node);
        struct json_tape_node *n = realloc(t->jt_nodes, cap * sizeof(*n));
        if (n != NULL) {
            t->jt_nodes = n;
            t->jt_cap = cap;
        }
    }
    if (t->jt_arena_cap > JSON_TAPE_SHRINK_ABOVE) {
        char *a = realloc(t->jt_arena, JSON_TAPE_SHRINK_ABOVE);
        if (a != NULL) {
            t->jt_arena = a;
            t->jt_arena_cap = JSON_TAPE_SHRINK_ABOVE;
        }
    }
    if (t->jt_stack_cap > JSON_TAPE_SHRINK_ABOVE / sizeof(struct json_tape_stack)) {
        size_t cap = JSON_TAPE_SHRINK_ABOVE / sizeof(struct json_tape_stack);
        struct json_tape_stack *s = realloc(t->jt_stack, cap * sizeof(*s));
        if (s != NULL) {
            t->jt_stack = s;
            t->jt_stack_cap = cap;
        }
    }
}

/* ---- errors ---- */

static void *jt_fail(struct jt_parse *ps, const char *at, const char *msg)
{
    ps->ps_errpos = at;
    ps->ps_errmsg = msg;
    ps->ps_status = JSON_TAPE_ESYNTAX;
    return NULL;
}

static void *jt_nomem(struct jt_parse *ps, const char *at)
{
    ps->ps_errpos = at;
    ps->ps_errmsg = "out of memory";
    ps->ps_status = JSON_TAPE_ENOMEM;
    return NULL;
}

/* ---- storage ---- */

static bool jt_grow_nodes(struct json_tape *t)
{
    size_t cap = t->jt_cap ? t->jt_cap * 2 : JT_INITIAL_NODES;
    if (cap > SIZE_MAX / sizeof(struct json_tape_node))
        return false;
    struct json_tape_node *n = realloc(t->jt_nodes, cap * sizeof(*n));
    if (n == NULL)
        return false;
    t->jt_nodes = n;
    t->jt_cap = cap;
    return true;
}

static inline struct json_tape_node *jt_node(struct json_tape *t, enum json_tape_type type,
                                             size_t off)
{
    if (t->jt_count == t->jt_cap && !jt_grow_nodes(t))
        return NULL;
    struct json_tape_node *nd = &t->jt_nodes[t->jt_count++];
    nd->tn_type = (uint8_t)type;
    nd->tn_flags = 0;
    nd->tn_off = (uint32_t)off;
    return nd;
}

static bool jt_grow_stack(struct json_tape *t)
{
    size_t cap = t->jt_stack_cap ? t->jt_stack_cap * 2 : 32;
    if (cap > t->jt_max_depth)
        cap = t->jt_max_depth;
    struct json_tape_stack *s = realloc(t->jt_stack, cap * sizeof(*s));
    if (s == NULL)
        return false;
    t->jt_stack = s;
    t->jt_stack_cap = cap;
    return true;
}

/* Decoded strings never outgrow their source and number scratch never
 * outgrows the number, so an arena as big as the document (plus slack) is
 * enough for a whole parse; it is sized on the first need. */
static bool jt_arena_ready(struct jt_parse *ps)
{
    struct json_tape *t = ps->ps_t;
    size_t need = ps->ps_len + JT_ARENA_SLACK;
    if (t->jt_arena_cap >= need)
        return true;
    char *a = realloc(t->jt_arena, need);
    if (a == NULL)
        return false;
    t->jt_arena = a;
    t->jt_arena_cap = need;
    return true;
}

/* ---- scanning helpers ---- */

static inline bool jt_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline const char *jt_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Skips bytes that need no attention inside a string: stops at '"', '\\',
 * a control character, a byte >= 0x80, or `end`. */
static inline const char *jt_skip_plain(const char *p, const char *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compare: bytes >= 0x80 are negative, so one compare
         * catches both control characters and non-ASCII bytes. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask != 0)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
            break;
        p++;
    }
    return p;
}

static int jt_hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = numfmt_hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static char *jt_utf8_put(char *d, unsigned cp)
{
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xC0 | (cp >> 6));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | (cp >> 12));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *d++ = (char)(0xF0 | (cp >> 18));
        *d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    return d;
}

/* ---- strings ---- */

/* Decodes one escape sequence at p ('\\'). Returns the pointer after it and
 * advances *dp, or NULL with the error set. */
static const char *jt_escape(struct jt_parse *ps, const char *p, char **dp)
{
    const char *end = ps->ps_end;
    char *d = *dp;
    if (end - p < 2)
        return jt_fail(ps, end, "unterminated string");
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
        *d++ = p[1];
        break;
    case 'b':
        *d++ = '\b';
        break;
    case 'f':
        *d++ = '\f';
        break;
    case 'n':
        *d++ = '\n';
        break;
    case 'r':
        *d++ = '\r';
        break;
    case 't':
        *d++ = '\t';
        break;
    case 'u': {
        if (end - p < 6)
            return jt_fail(ps, p, "invalid \\u escape");
        int cp = jt_hex4(p + 2);
        if (cp < 0)
            return jt_fail(ps, p, "invalid \\u escape");
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return jt_fail(ps, p, "unpaired low surrogate in \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
                return jt_fail(ps, p, "unpaired high surrogate in \\u escape");
            int lo = jt_hex4(p + 8);
            if (lo < 0)
                return jt_fail(ps, p + 6, "invalid \\u escape");
            if (lo < 0xDC00 || lo > 0xDFFF)
                return jt_fail(ps, p, "high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        *dp = jt_utf8_put(d, (unsigned)cp);
        return p + 6;
    }
    default:
        return jt_fail(ps, p, "invalid escape in string");
    }
    *dp = d;
    return p + 2;
}

/* The rest of a string from its first escape at p; `start` is its first
 * content byte. Decodes into the arena. */
__attribute__((noinline)) static const char *
jt_string_escaped(struct jt_parse *ps, const char *start, const char *p, struct json_tape_node *nd)
{
    struct json_tape *t = ps->ps_t;
    const char *end = ps->ps_end;
    if (!jt_arena_ready(ps))
        return jt_nomem(ps, p);
    char *base = t->jt_arena + t->jt_arena_len;
    char *d = base;
    memcpy(d, start, (size_t)(p - start));
    d += p - start;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c == '\\') {
            p = jt_escape(ps, p, &d);
            if (p == NULL)
                return NULL;
        } else if (c < 0x20) {
            return jt_fail(ps, p, "control character in string (must be escaped)");
        } else {
            size_t n = utf8_seq_len((const unsigned char *)p, (size_t)(end - p));
            if (n == 0)
                return jt_fail(ps, p, "invalid UTF-8 in string");
            memcpy(d, p, n);
            d += n;
            p += n;
        }
        const char *q = jt_skip_plain(p, end);
        memcpy(d, p, (size_t)(q - p));
        d += q - p;
        p = q;
        if (p == end)
            return jt_fail(ps, end, "unterminated string");
    }
    nd->tn_flags = JSON_TAPE_F_ESCAPED;
    nd->tn_u.tn_s.ts_off = (uint32_t)t->jt_arena_len;
    nd->tn_u.tn_s.ts_len = (uint32_t)(d - base);
    t->jt_arena_len += (size_t)(d - base);
    return p + 1;
}

/* A string whose opening quote is at p[-1]. Returns the pointer after the
 * closing quote, or NULL with the error set. Sets nd's flags and decoded
 * location; the caller sets tn_len. */
static inline const char *jt_string(struct jt_parse *ps, const char *p, struct json_tape_node *nd)
{
    const char *end = ps->ps_end;
    const char *start = p;
    for (;;) {
        p = jt_skip_plain(p, end);
        if (p == end)
            return jt_fail(ps, end, "unterminated string");
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c == '\\')
            return jt_string_escaped(ps, start, p, nd);
        if (c < 0x20)
            return jt_fail(ps, p, "control character in string (must be escaped)");
        size_t n = utf8_seq_len((const unsigned char *)p, (size_t)(end - p));
        if (n == 0)
            return jt_fail(ps, p, "invalid UTF-8 in string");
        p += n;
    }
}

/* ---- numbers ---- */

/* The exact decimal value of the number [start, end) as strtod sees it,
 * rewritten without a decimal point ("DIGITSe<exp>") so the result does not
 * depend on the locale's decimal separator. */
static bool jt_strtod(struct jt_parse *ps, const char *start, const char *end, int64_t exp10,
                      double *out)
{
    struct json_tape *t = ps->ps_t;
    if (!jt_arena_ready(ps))
        return false;
    char *buf = t->jt_arena + t->jt_arena_len;
    char *d = buf;
    for (const char *p = start; p < end; p++) {
        if (*p == 'e' || *p == 'E')
            break;
        if (*p != '.')
            *d++ = *p;
    }
    snprintf(d, 32, "e%lld", (long long)exp10);
    errno = 0;
    *out = strtod(buf, NULL);
    return true;
}

/* A number starting at p ('-' or a digit). Returns the pointer after it. */
static const char *jt_number(struct jt_parse *ps, const char *p, struct json_tape_node *nd)
{
    const char *end = ps->ps_end;
    const char *start = p;
    bool neg = false;
    uint64_t mant = 0;
    int sig = 0;       /* significant digits in mant */
    bool many = false; /* more than 19 significant digits: not all in mant */
    int64_t frac = 0;  /* digits after the point */

    if (*p == '-') {
        neg = true;
        p++;
    }
    if (p == end || !jt_digit(*p))
        return jt_fail(ps, p, "invalid number");
    if (*p == '0') {
        p++;
        if (p < end && jt_digit(*p))
            return jt_fail(ps, p, "leading zero in number");
    } else {
        do {
            unsigned dg = (unsigned)(*p - '0');
            if (sig < 19) {
                mant = mant * 10 + dg;
                sig++;
            } else {
                many = true;
            }
            p++;
        } while (p < end && jt_digit(*p));
    }

    if (p == end || (*p != '.' && *p != 'e' && *p != 'E')) {
        /* 19 digits always fit a uint64; 20 never fit an int64. */
        if (many || (!neg && mant > (uint64_t)INT64_MAX) || (neg && mant > (uint64_t)INT64_MAX + 1))
            return jt_fail(ps, start, "integer out of range");
        nd->tn_type = JSON_TAPE_INTEGER;
        if (!neg)
            nd->tn_u.tn_int = (int64_t)mant;
        else if (mant == (uint64_t)INT64_MAX + 1)
            nd->tn_u.tn_int = INT64_MIN;
        else
            nd->tn_u.tn_int = -(int64_t)mant;
        nd->tn_len = (uint32_t)(p - start);
        return p;
    }

    if (*p == '.') {
        p++;
        if (p == end || !jt_digit(*p))
            return jt_fail(ps, p, "expected a digit after the decimal point");
        do {
            unsigned dg = (unsigned)(*p - '0');
            if (mant == 0 && dg == 0) {
                /* a leading zero only shifts the exponent */
            } else if (sig < 19) {
                mant = mant * 10 + dg;
                sig++;
            } else {
                many = true;
            }
            frac++;
            p++;
        } while (p < end && jt_digit(*p));
    }

    int64_t exp = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool eneg = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p == end || !jt_digit(*p))
            return jt_fail(ps, p, "expected a digit in the exponent");
        do {
            if (exp < JT_EXP_CLAMP)
                exp = exp * 10 + (*p - '0');
            p++;
        } while (p < end && jt_digit(*p));
        if (eneg)
            exp = -exp;
    }

    int64_t exp10 = exp - frac;
    double v;
    if (!many && mant == 0) {
        v = 0.0;
    } else if (!many && mant <= ((uint64_t)1 << 53) && exp10 >= -22 && exp10 <= 22) {
        /* Both operands are exact, so one IEEE operation rounds correctly. */
        v = (double)mant;
        if (exp10 < 0)
            v /= jt_pow10[-exp10];
        else
            v *= jt_pow10[exp10];
    } else {
        /* Integer digits dropped from mant still count in the digit string
         * handed to strtod, so the exponent stays exp - frac. */
        if (!jt_strtod(ps, neg ? start + 1 : start, p, exp10, &v))
            return jt_nomem(ps, start);
        if (errno == ERANGE && (v > 1.0 || v < -1.0))
            return jt_fail(ps, start, "number out of range");
    }
    nd->tn_type = JSON_TAPE_REAL;
    nd->tn_u.tn_real = neg ? -v : v;
    nd->tn_len = (uint32_t)(p - start);
    return p;
}

/* ---- the parser ---- */

static inline uint64_t jt_key_bit(const char *s, size_t len)
{
    uint32_t first = len ? (unsigned char)s[0] : 0;
    uint32_t last = len ? (unsigned char)s[len - 1] : 0;
    uint32_t h = ((uint32_t)len ^ (first << 8) ^ (last << 16)) * 0x9E3779B1u;
    return (uint64_t)1 << (h >> 26);
}

static int jt_run(struct jt_parse *ps)
{
    struct json_tape *t = ps->ps_t;
    const char *text = ps->ps_text;
    const char *end = ps->ps_end;
    const char *p = text;
    size_t depth = 0;
    struct json_tape_node *nd;

value:
    p = jt_ws(p, end);
    if (p == end) {
        jt_fail(ps, p, t->jt_count == 0 ? "empty input" : "unexpected end of input");
        return -1;
    }
    if (depth >= t->jt_max_depth) {
        jt_fail(ps, p, "maximum nesting depth exceeded");
        return -1;
    }
    switch (*p) {
    case '{':
    case '[': {
        bool obj = *p == '{';
        size_t idx = t->jt_count;
        nd = jt_node(t, obj ? JSON_TAPE_OBJECT : JSON_TAPE_ARRAY, (size_t)(p - text));
        if (nd == NULL || (depth == t->jt_stack_cap && !jt_grow_stack(t))) {
            jt_nomem(ps, p);
            return -1;
        }
        nd->tn_u.tn_c.tc_count = 0;
        t->jt_stack[depth].sk_node = (uint32_t)idx;
        t->jt_stack[depth].sk_keys = 0;
        depth++;
        p = jt_ws(p + 1, end);
        if (p < end && *p == (obj ? '}' : ']'))
            goto close;
        if (obj) {
            if (p == end || *p != '"') {
                jt_fail(ps, p, "expected string or '}'");
                return -1;
            }
            goto key;
        }
        goto value;
    }
    case '"':
        nd = jt_node(t, JSON_TAPE_STRING, (size_t)(p - text));
        if (nd == NULL) {
            jt_nomem(ps, p);
            return -1;
        }
        {
            const char *q = jt_string(ps, p + 1, nd);
            if (q == NULL)
                return -1;
            nd->tn_len = (uint32_t)(q - p);
            p = q;
        }
        goto after;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        nd = jt_node(t, JSON_TAPE_INTEGER, (size_t)(p - text));
        if (nd == NULL) {
            jt_nomem(ps, p);
            return -1;
        }
        p = jt_number(ps, p, nd);
        if (p == NULL)
            return -1;
        goto scalar_end;
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0)
            goto invalid;
        nd = jt_node(t, JSON_TAPE_TRUE, (size_t)(p - text));
        goto literal;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0)
            goto invalid;
        nd = jt_node(t, JSON_TAPE_FALSE, (size_t)(p - text));
        goto literal;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0)
            goto invalid;
        nd = jt_node(t, JSON_TAPE_NULL, (size_t)(p - text));
        goto literal;
    default:
        goto invalid;
    }

invalid:
    jt_fail(ps, p, "invalid value");
    return -1;

literal:
    if (nd == NULL) {
        jt_nomem(ps, p);
        return -1;
    }
    nd->tn_len = nd->tn_type == JSON_TAPE_FALSE ? 5 : 4;
    p += nd->tn_len;

scalar_end:
    /* jansson reads one byte past a number or literal and "ungets" it; a
     * NUL byte is lost in that unget, so the input continues after it. */
    if (p < end && *p == '\0')
        p++;

after:
    if (depth == 0) {
        p = jt_ws(p, end);
        if (p != end) {
            jt_fail(ps, p, "unexpected data after the JSON value");
            return -1;
        }
        return 0;
    }
    nd = &t->jt_nodes[t->jt_stack[depth - 1].sk_node];
    nd->tn_u.tn_c.tc_count++;
    p = jt_ws(p, end);
    if (p == end) {
        jt_fail(ps, p, "unexpected end of input");
        return -1;
    }
    if (nd->tn_type == JSON_TAPE_OBJECT) {
        if (*p == ',') {
            p = jt_ws(p + 1, end);
            if (p == end || *p != '"') {
                jt_fail(ps, p, "expected string key after ','");
                return -1;
            }
            goto key;
        }
        if (*p == '}')
            goto close;
        jt_fail(ps, p, "expected ',' or '}' after object member");
        return -1;
    }
    if (*p == ',') {
        p++;
        goto value;
    }
    if (*p == ']')
        goto close;
    jt_fail(ps, p, "expected ',' or ']' after array item");
    return -1;

close:
    /* p is at the closing bracket of the innermost open container. */
    depth--;
    nd = &t->jt_nodes[t->jt_stack[depth].sk_node];
    nd->tn_len = (uint32_t)((size_t)(p + 1 - text) - nd->tn_off);
    nd->tn_u.tn_c.tc_next = (uint32_t)t->jt_count;
    p++;
    goto after;

key:
    /* p is at the opening quote of a member name. */
    {
        nd = jt_node(t, JSON_TAPE_STRING, (size_t)(p - text));
        if (nd == NULL) {
            jt_nomem(ps, p);
            return -1;
        }
        const char *q = jt_string(ps, p + 1, nd);
        if (q == NULL)
            return -1;
        nd->tn_len = (uint32_t)(q - p);
        size_t klen;
        const char *k = json_tape_string(t, t->jt_count - 1, &klen);
        if ((nd->tn_flags & JSON_TAPE_F_ESCAPED) && memchr(k, '\0', klen) != NULL) {
            jt_fail(ps, p, "NUL byte in object key");
            return -1;
        }
        struct json_tape_stack *sk = &t->jt_stack[depth - 1];
        uint64_t bit = jt_key_bit(k, klen);
        if (sk->sk_keys & bit)
            t->jt_nodes[sk->sk_node].tn_flags |= JSON_TAPE_F_DUPS;
        sk->sk_keys |= bit;
        p = jt_ws(q, end);
        if (p == end || *p != ':') {
            jt_fail(ps, p, "expected ':' after object key");
            return -1;
        }
        p++;
        goto value;
    }
}

int json_tape_parse(struct json_tape *t, const char *text, size_t len, struct json_tape_error *err)
{
    jt_shrink(t);
    t->jt_count = 0;
    t->jt_arena_len = 0;
    if (text == NULL)
        len = 0;
    t->jt_src = text != NULL ? text : "";
    t->jt_src_len = len;

    struct jt_parse ps = {
        .ps_t = t,
        .ps_text = t->jt_src,
        .ps_end = t->jt_src + len,
        .ps_len = len,
        .ps_status = JSON_TAPE_OK,
    };
    if (len > JSON_TAPE_MAX_LEN)
        jt_fail(&ps, ps.ps_text, "document too large");
    else if (jt_run(&ps) == 0)
        return JSON_TAPE_OK;

    t->jt_count = 0;
    if (err != NULL) {
        struct json_position pos;
        json_position_at_offset(ps.ps_text, len, (size_t)(ps.ps_errpos - ps.ps_text), &pos);
        err->je_offset = pos.jp_offset;
        err->je_line = pos.jp_line;
        err->je_column = pos.jp_column;
        err->je_msg = ps.ps_errmsg;
    }
    return ps.ps_status;
}

/* ---- lookups ---- */

bool json_tape_key_shadowed(const struct json_tape *t, size_t key, size_t end)
{
    size_t klen;
    const char *k = json_tape_string(t, key, &klen);
    for (size_t i = json_tape_next(t, key + 1); i < end; i = json_tape_next(t, i + 1)) {
        size_t len;
        const char *s = json_tape_string(t, i, &len);
        if (len == klen && memcmp(s, k, len) == 0)
            return true;
    }
    return false;
}

size_t json_tape_object_get(const struct json_tape *t, size_t obj, const char *key, size_t keylen)
{
    if (obj >= t->jt_count || t->jt_nodes[obj].tn_type != JSON_TAPE_OBJECT)
        return JSON_TAPE_NONE;
    const struct json_tape_node *nd = &t->jt_nodes[obj];
    bool dups = (nd->tn_flags & JSON_TAPE_F_DUPS) != 0;
    size_t end = nd->tn_u.tn_c.tc_next;
    size_t found = JSON_TAPE_NONE;
    for (size_t i = obj + 1; i < end; i = json_tape_next(t, i + 1)) {
        size_t len;
        const char *s = json_tape_string(t, i, &len);
        if (len == keylen && memcmp(s, key, len) == 0) {
            found = i + 1;
            if (!dups)
                break;
        }
    }
    return found;
}

bool json_tape_token_eq(const char *tok, size_t toklen, const char *key, size_t keylen)
{
    size_t k = 0;

    for (size_t i = 0; i < toklen; i++) {
        char c = tok[i];
        if (c == '~') {
            if (i + 1 >= toklen)
                return false;
            i++;
            if (tok[i] == '0')
                c = '~';
            else if (tok[i] == '1')
                c = '/';
            else
                return false;
        }
        if (k >= keylen || key[k] != c)
            return false;
        k++;
    }
    return k == keylen;
}

size_t json_tape_token_index(const char *tok, size_t toklen)
{
    size_t n = 0;

    if (toklen == 0 || (toklen > 1 && tok[0] == '0'))
        return SIZE_MAX;
    for (size_t i = 0; i < toklen; i++) {
        if (!jt_digit(tok[i]))
            return SIZE_MAX;
        size_t d = (size_t)(tok[i] - '0');
        if (n > (SIZE_MAX - 1 - d) / 10)
            return SIZE_MAX;
        n = n * 10 + d;
    }
    return n;
}

static size_t jt_pointer_member(const struct json_tape *t, size_t obj, const char *tok, size_t len)
{
    const struct json_tape_node *nd = &t->jt_nodes[obj];
    bool dups = (nd->tn_flags & JSON_TAPE_F_DUPS) != 0;
    size_t end = nd->tn_u.tn_c.tc_next;
    size_t found = JSON_TAPE_NONE;
    for (size_t i = obj + 1; i < end; i = json_tape_next(t, i + 1)) {
        size_t klen;
        const char *k = json_tape_string(t, i, &klen);
        if (json_tape_token_eq(tok, len, k, klen)) {
            found = i + 1;
            if (!dups)
                break;
        }
    }
    return found;
}

static size_t jt_pointer_item(const struct json_tape *t, size_t arr, const char *tok, size_t len)
{
    size_t idx = json_tape_token_index(tok, len);
    if (idx >= t->jt_nodes[arr].tn_u.tn_c.tc_count)
        return JSON_TAPE_NONE;
    size_t n = arr + 1;
    for (size_t i = 0; i < idx; i++)
        n = json_tape_next(t, n);
    return n;
}

size_t json_tape_pointer(const struct json_tape *t, size_t node, const char *ptr)
{
    if (ptr == NULL || node >= t->jt_count)
        return JSON_TAPE_NONE;
    while (*ptr != '\0') {
        if (*ptr != '/')
            return JSON_TAPE_NONE;
        ptr++;
        const char *tok = ptr;
        size_t len = strcspn(ptr, "/");
        ptr += len;
        switch (t->jt_nodes[node].tn_type) {
        case JSON_TAPE_OBJECT:
            node = jt_pointer_member(t, node, tok, len);
            break;
        case JSON_TAPE_ARRAY:
            node = jt_pointer_item(t, node, tok, len);
            break;
        default:
            return JSON_TAPE_NONE;
        }
        if (node == JSON_TAPE_NONE)
            return JSON_TAPE_NONE;
    }
    return node;
}

const char *json_tape_type_phrase(enum json_tape_type type)
{
    switch (type) {
    case JSON_TAPE_NULL:
        return "null";
    case JSON_TAPE_FALSE:
    case JSON_TAPE_TRUE:
        return "a boolean";
    case JSON_TAPE_INTEGER:
    case JSON_TAPE_REAL:
        return "a number";
    case JSON_TAPE_STRING:
        return "a string";
    case JSON_TAPE_ARRAY:
        return "an array";
    case JSON_TAPE_OBJECT:
        return "an object";
    }
    return "a value";
}
