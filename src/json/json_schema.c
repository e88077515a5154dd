/*
 * json_schema: validation of a json_tape value against the compiled model
 * (json_schema_model.h). Recursive over the instance, iterative along $ref.
 *
 * Validation builds no path while it succeeds: a failure writes its message
 * and each level prepends its own segment to the path while unwinding.
 */
#include "ssemon/json/json_schema.h"
#include "ssemon/json/json_schema_model.h"

#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper instances are refused rather than recursed into (the tape's own
 * default limit is lower, so this only matters for raised tape limits). */
#define JS_MAX_DEPTH (2 * JSON_TAPE_DEFAULT_MAX_DEPTH)
/* Strings checked against a pattern are copied on the stack up to this
 * size (longer ones on the heap). */
#define JS_REGEX_STACK 512

/* ---- values ---- */

static struct jsm_num js_num_of(const struct json_tape *t, size_t n)
{
    struct jsm_num v = {0};
    v.jn_int = json_tape_is_integer(t, n);
    if (v.jn_int)
        v.jn_i = json_tape_int(t, n);
    else
        v.jn_d = json_tape_double(t, n);
    return v;
}

static int js_cmp_int_double(int64_t i, double d)
{
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    /* d is within int64 range: compare integer parts, then the fraction
     * (d - trunc(d) is exact for every double). */
    int64_t di = (int64_t)d;
    if (i != di)
        return i < di ? -1 : 1;
    double frac = d - (double)di;
    return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

/* Exact numeric comparison, whichever representation each side has. */
static int js_num_cmp(const struct jsm_num *a, const struct jsm_num *b)
{
    if (a->jn_int && b->jn_int)
        return a->jn_i < b->jn_i ? -1 : a->jn_i > b->jn_i ? 1 : 0;
    if (a->jn_int)
        return js_cmp_int_double(a->jn_i, b->jn_d);
    if (b->jn_int)
        return -js_cmp_int_double(b->jn_i, a->jn_d);
    return a->jn_d < b->jn_d ? -1 : a->jn_d > b->jn_d ? 1 : 0;
}

static size_t js_effective_members(const struct json_tape *t, size_t obj)
{
    struct json_tape_iter it;
    size_t k;
    size_t v;
    size_t count = 0;
    json_tape_iter_init(t, obj, &it);
    while (json_tape_object_next(t, &it, &k, &v))
        count++;
    return count;
}

/* JSON Schema equality (numbers by value, objects regardless of order). */
static bool js_equal(const struct json_tape *a, size_t na, const struct json_tape *b, size_t nb,
                     unsigned depth)
{
    enum json_tape_type ta = json_tape_type(a, na);
    enum json_tape_type tb = json_tape_type(b, nb);
    if (json_tape_is_number(a, na) && json_tape_is_number(b, nb)) {
        struct jsm_num x = js_num_of(a, na);
        struct jsm_num y = js_num_of(b, nb);
        return js_num_cmp(&x, &y) == 0;
    }
    if (ta != tb || depth > JS_MAX_DEPTH)
        return false;
    switch (ta) {
    case JSON_TAPE_STRING: {
        size_t la;
        size_t lb;
        const char *sa = json_tape_string(a, na, &la);
        const char *sb = json_tape_string(b, nb, &lb);
        return la == lb && memcmp(sa, sb, la) == 0;
    }
    case JSON_TAPE_ARRAY: {
        if (json_tape_count(a, na) != json_tape_count(b, nb))
            return false;
        struct json_tape_iter ia;
        struct json_tape_iter ib;
        size_t xa;
        size_t xb;
        json_tape_iter_init(a, na, &ia);
        json_tape_iter_init(b, nb, &ib);
        while (json_tape_array_next(a, &ia, &xa) && json_tape_array_next(b, &ib, &xb)) {
            if (!js_equal(a, xa, b, xb, depth + 1))
                return false;
        }
        return true;
    }
    case JSON_TAPE_OBJECT: {
        struct json_tape_iter it;
        size_t k;
        size_t v;
        size_t count = 0;
        json_tape_iter_init(a, na, &it);
        while (json_tape_object_next(a, &it, &k, &v)) {
            size_t klen;
            const char *key = json_tape_string(a, k, &klen);
            size_t w = json_tape_object_get(b, nb, key, klen);
            if (w == JSON_TAPE_NONE || !js_equal(a, v, b, w, depth + 1))
                return false;
            count++;
        }
        return count == js_effective_members(b, nb);
    }
    default:
        return true; /* null, true, false */
    }
}

/* ---- formats ---- */

static bool js_digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned js_days_in_month(unsigned year, unsigned month)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
        return 29;
    return days[month - 1];
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), T and Z
 * in either case; a leap second only where UTC reads 23:59:60. */
static bool js_is_datetime(const char *s, size_t len)
{
    unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
    if (len < 20 || !js_digits(s, 4, &y) || s[4] != '-' || !js_digits(s + 5, 2, &mo) ||
        s[7] != '-' || !js_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !js_digits(s + 11, 2, &h) || s[13] != ':' || !js_digits(s + 14, 2, &mi) || s[16] != ':' ||
        !js_digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > js_days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i >= len)
        return false;
    int sign = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        sign = s[i] == '+' ? 1 : -1;
        if (len - i != 6 || !js_digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            !js_digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        i += 6;
    } else {
        return false;
    }
    if (i != len)
        return false;
    if (sec == 60) {
        int utc = (int)(h * 60 + mi) - sign * (int)(oh * 60 + om);
        utc = ((utc % 1440) + 1440) % 1440;
        if (utc != 23 * 60 + 59)
            return false;
    }
    return true;
}

static const char js_uuid_shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

static bool js_is_uuid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        unsigned char ch = (unsigned char)s[i];
        /* '-' where the shape has one; elsewhere a hex digit (OR 0x20
         * folds 'A'-'F' onto 'a'-'f' and leaves digits alone) */
        if (js_uuid_shape[i] == '-') {
            if (ch != '-')
                return false;
        } else if ((unsigned)(ch - '0') > 9 && (unsigned)((ch | 0x20) - 'a') > 5) {
            return false;
        }
    }
    return true;
}

/* ---- validation ---- */

struct js_vctx {
    const struct json_schema_set *v_s;
    const struct json_tape *v_t;
    struct json_schema_error *v_err; /* NULL: no messages */
    bool v_truncated;                /* the path lost its outer segments */
};

__attribute__((format(printf, 2, 3))) static bool js_vfail(struct js_vctx *v, const char *fmt, ...)
{
    if (v->v_err == NULL)
        return false;
    v->v_err->se_path[0] = '\0';
    v->v_truncated = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->v_err->se_msg, sizeof(v->v_err->se_msg), fmt, ap);
    va_end(ap);
    return false;
}

/* Prepends "/seg" (escaped) to the failure path while unwinding. */
static void js_prepend(struct js_vctx *v, const char *seg, size_t len)
{
    if (v->v_err == NULL || v->v_truncated)
        return;
    char tmp[JSON_SCHEMA_PATH_MAX];
    size_t n = 0;
    tmp[n++] = '/';
    for (size_t i = 0; i < len; i++) {
        const char *rep = seg[i] == '~' ? "~0" : seg[i] == '/' ? "~1" : NULL;
        size_t rl = rep != NULL ? 2 : 1;
        if (n + rl >= sizeof(tmp)) {
            v->v_truncated = true;
            return;
        }
        if (rep != NULL)
            memcpy(tmp + n, rep, 2);
        else
            tmp[n] = seg[i];
        n += rl;
    }
    char *path = v->v_err->se_path;
    size_t cur = strlen(path);
    /* Room is kept for a "..." prefix should a later segment not fit. */
    if (n + cur + 4 >= JSON_SCHEMA_PATH_MAX) {
        v->v_truncated = true;
        return;
    }
    memmove(path + n, path, cur + 1);
    memcpy(path, tmp, n);
}

static void js_prepend_index(struct js_vctx *v, size_t idx)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%zu", idx);
    js_prepend(v, num, (size_t)n);
}

static void js_excerpt_node(const struct json_tape *t, size_t n, char *out, size_t cap)
{
    size_t len;
    const char *raw = json_tape_raw(t, n, &len);
    jsm_excerpt(out, cap, raw, len, JSM_EXCERPT);
}

static unsigned js_type_bits(const struct json_tape *t, size_t n);

static bool js_type_ok(const struct json_tape *t, size_t n, unsigned allowed)
{
    enum json_tape_type type = json_tape_type(t, n);
    /* Only "integer" without "number" needs a real's fractional part. */
    if (type == JSON_TAPE_REAL && !(allowed & JSM_T_NUMBER))
        return (allowed & JSM_T_INTEGER) && (js_type_bits(t, n) & JSM_T_INTEGER);
    static const unsigned char bits[] = {
        [JSON_TAPE_NULL] = JSM_T_NULL,    [JSON_TAPE_FALSE] = JSM_T_BOOLEAN,
        [JSON_TAPE_TRUE] = JSM_T_BOOLEAN, [JSON_TAPE_INTEGER] = JSM_T_NUMBER | JSM_T_INTEGER,
        [JSON_TAPE_REAL] = JSM_T_NUMBER,  [JSON_TAPE_STRING] = JSM_T_STRING,
        [JSON_TAPE_ARRAY] = JSM_T_ARRAY,  [JSON_TAPE_OBJECT] = JSM_T_OBJECT,
    };
    return (bits[type] & allowed) != 0;
}

static unsigned js_type_bits(const struct json_tape *t, size_t n)
{
    switch (json_tape_type(t, n)) {
    case JSON_TAPE_NULL:
        return JSM_T_NULL;
    case JSON_TAPE_TRUE:
    case JSON_TAPE_FALSE:
        return JSM_T_BOOLEAN;
    case JSON_TAPE_INTEGER:
        return JSM_T_NUMBER | JSM_T_INTEGER;
    case JSON_TAPE_REAL: {
        double d = json_tape_double(t, n);
        /* every double of magnitude >= 2^52 is integral */
        bool integral =
            d >= 4503599627370496.0 || d <= -4503599627370496.0 || d == (double)(int64_t)d;
        return JSM_T_NUMBER | (integral ? JSM_T_INTEGER : 0u);
    }
    case JSON_TAPE_STRING:
        return JSM_T_STRING;
    case JSON_TAPE_ARRAY:
        return JSM_T_ARRAY;
    case JSON_TAPE_OBJECT:
        return JSM_T_OBJECT;
    }
    return 0;
}

static bool js_fail_type(struct js_vctx *v, unsigned allowed, size_t inst)
{
    if (v->v_err == NULL)
        return false;
    char want[96] = "";
    size_t len = 0;
    for (int k = 0; k < JSM_N_TYPES; k++) {
        if (allowed & (1u << k)) {
            int n = snprintf(want + len, sizeof(want) - len, "%s%s", len ? " or " : "",
                             jsm_type_name(k));
            if (n > 0 && (size_t)n < sizeof(want) - len)
                len += (size_t)n;
        }
    }
    unsigned got = js_type_bits(v->v_t, inst);
    const char *gname = (got & JSM_T_INTEGER) && json_tape_is_integer(v->v_t, inst) ? "integer"
                        : (got & JSM_T_NUMBER)                                      ? "number"
                                                                                    : NULL;
    for (int k = 0; gname == NULL && k < JSM_N_TYPES; k++) {
        if (got & (1u << k))
            gname = jsm_type_name(k);
    }
    return js_vfail(v, "expected %s, got %s", want, gname != NULL ? gname : "?");
}

static bool js_check_enum(struct js_vctx *v, const struct jsm_node *n, size_t inst)
{
    const struct json_schema_set *s = v->v_s;
    for (uint32_t i = 0; i < n->sn_nenum; i++) {
        if (js_equal(v->v_t, inst, &s->s_ctape, s->s_consts[n->sn_enum + i], 0))
            return true;
    }
    if (v->v_err == NULL)
        return false;
    char ex[JSM_EXCERPT + 8];
    char list[96] = "";
    js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
    if (n->sn_nenum > 0) {
        /* The values sit side by side in the constants' array text. */
        size_t l1;
        size_t l2;
        const char *first = json_tape_raw(&s->s_ctape, s->s_consts[n->sn_enum], &l1);
        const char *last =
            json_tape_raw(&s->s_ctape, s->s_consts[n->sn_enum + n->sn_nenum - 1], &l2);
        jsm_excerpt(list, sizeof(list), first, (size_t)(last + l2 - first), 80);
    }
    return js_vfail(v, "%s is not one of the allowed values [%s]", ex, list);
}

static bool js_check_number(struct js_vctx *v, const struct jsm_node *n, size_t inst)
{
    const char *pool = v->v_s->s_pool;
    struct jsm_num x = js_num_of(v->v_t, inst);
    const char *what = NULL;
    const struct jsm_num *bound = NULL;
    if ((n->sn_kw & JSM_KW_MIN) && js_num_cmp(&x, &n->sn_min) < 0) {
        what = "less than minimum";
        bound = &n->sn_min;
    } else if ((n->sn_kw & JSM_KW_MAX) && js_num_cmp(&x, &n->sn_max) > 0) {
        what = "greater than maximum";
        bound = &n->sn_max;
    } else if ((n->sn_kw & JSM_KW_XMIN) && js_num_cmp(&x, &n->sn_xmin) <= 0) {
        what = "not greater than exclusiveMinimum";
        bound = &n->sn_xmin;
    } else if ((n->sn_kw & JSM_KW_XMAX) && js_num_cmp(&x, &n->sn_xmax) >= 0) {
        what = "not less than exclusiveMaximum";
        bound = &n->sn_xmax;
    }
    if (what == NULL)
        return true;
    if (v->v_err == NULL)
        return false;
    char ex[JSM_EXCERPT + 8];
    js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
    return js_vfail(v, "%s is %s %s", ex, what, pool + bound->jn_text);
}

/* Whether the pattern is found in the string: 1, 0, or -1 when out of
 * memory. regexec needs a NUL-terminated string (REG_STARTEND would do
 * without, but sanitizers' regexec interceptors still read up to a NUL),
 * so the string is copied; a string holding U+0000 cannot be matched. */
__attribute__((noinline)) static int js_regexec(const regex_t *re, const char *str, size_t len)
{
    char small[JS_REGEX_STACK];
    if (memchr(str, '\0', len) != NULL)
        return 0;
    char *buf = len < sizeof(small) ? small : malloc(len + 1);
    if (buf == NULL)
        return -1;
    memcpy(buf, str, len);
    buf[len] = '\0';
    int rc = regexec(re, buf, 0, NULL, 0);
    if (buf != small)
        free(buf);
    return rc == 0 ? 1 : 0;
}

static bool js_check_string(struct js_vctx *v, const struct jsm_node *n, size_t inst)
{
    const struct json_schema_set *s = v->v_s;
    size_t len;
    const char *str = json_tape_string(v->v_t, inst, &len);
    char ex[JSM_EXCERPT + 8];
    if (n->sn_kw & (JSM_KW_MINLEN | JSM_KW_MAXLEN)) {
        uint64_t cps = 0;
        for (size_t i = 0; i < len; i++)
            cps += utf8_is_lead((unsigned char)str[i]);
        if ((n->sn_kw & JSM_KW_MINLEN) && cps < n->sn_minlen) {
            if (v->v_err != NULL)
                js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
            return js_vfail(v, "%s is shorter than minLength %llu (%llu characters)", ex,
                            (unsigned long long)n->sn_minlen, (unsigned long long)cps);
        }
        if ((n->sn_kw & JSM_KW_MAXLEN) && cps > n->sn_maxlen) {
            if (v->v_err != NULL)
                js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
            return js_vfail(v, "%s is longer than maxLength %llu (%llu characters)", ex,
                            (unsigned long long)n->sn_maxlen, (unsigned long long)cps);
        }
    }
    if (n->sn_kw & JSM_KW_PATTERN) {
        enum regex_lite_result lr = REGEX_LITE_UNKNOWN;
        if (s->s_lite[n->sn_regex] != NULL)
            lr = regex_lite_match(s->s_lite[n->sn_regex], str, len);
        int rc = lr != REGEX_LITE_UNKNOWN ? lr == REGEX_LITE_MATCH
                                          : js_regexec(&s->s_regex[n->sn_regex], str, len);
        if (rc < 0)
            return js_vfail(v, "out of memory");
        if (rc == 0) {
            if (v->v_err != NULL)
                js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
            char pat[JSM_EXCERPT + 8];
            const char *src = s->s_pool + n->sn_pattern;
            jsm_excerpt(pat, sizeof(pat), src, strlen(src), JSM_EXCERPT);
            return js_vfail(v, "%s does not match pattern \"%s\"", ex, pat);
        }
    }
    if (n->sn_kw & JSM_KW_FORMAT) {
        bool ok =
            n->sn_format == JSM_FMT_DATETIME ? js_is_datetime(str, len) : js_is_uuid(str, len);
        if (!ok) {
            if (v->v_err != NULL)
                js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
            return js_vfail(v, "%s is not a valid %s", ex,
                            n->sn_format == JSM_FMT_DATETIME ? "date-time (RFC 3339)" : "uuid");
        }
    }
    return true;
}

static bool js_validate(struct js_vctx *v, uint32_t sn, size_t inst, unsigned depth);

static uint32_t js_prop_find(const struct json_schema_set *s, const struct jsm_node *n,
                             const char *key, size_t len)
{
    const struct jsm_prop *p = s->s_props + n->sn_props;
    uint32_t lo = 0;
    uint32_t hi = n->sn_nprops;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int cmp = p[mid].pr_len != len ? (p[mid].pr_len < len ? -1 : 1)
                                       : memcmp(s->s_pool + p[mid].pr_name, key, len);
        if (cmp == 0)
            return mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return JSM_NONE;
}

/* The first required property missing from `inst`; `seen` holds, for the
 * first 64 properties of the table, those found by a full member scan
 * (when `scanned`). Returns false with the failure recorded. */
static bool js_check_required(struct js_vctx *v, const struct jsm_node *n, size_t inst,
                              uint64_t seen, bool scanned)
{
    const struct json_schema_set *s = v->v_s;
    for (uint32_t r = 0; r < n->sn_nreqs; r++) {
        const struct jsm_req *rq = &s->s_reqs[n->sn_reqs + r];
        const char *name = s->s_pool + rq->rq_name;
        bool present;
        if (scanned && rq->rq_prop < 64)
            present = (seen >> rq->rq_prop) & 1u;
        else
            present = json_tape_object_get(v->v_t, inst, name, rq->rq_len) != JSON_TAPE_NONE;
        if (!present) {
            char ex[JSM_EXCERPT + 8];
            jsm_excerpt(ex, sizeof(ex), name, rq->rq_len, JSM_EXCERPT);
            return js_vfail(v, "missing required property \"%s\"", ex);
        }
    }
    return true;
}

static bool js_check_object(struct js_vctx *v, const struct jsm_node *n, size_t inst,
                            unsigned depth)
{
    const struct json_schema_set *s = v->v_s;
    const struct json_tape *t = v->v_t;
    if (!(n->sn_kw & (JSM_KW_PROPS | JSM_KW_ADDL)))
        return js_check_required(v, n, inst, 0, false);
    uint64_t seen = 0;
    struct json_tape_iter it;
    size_t k;
    size_t val;
    json_tape_iter_init(t, inst, &it);
    while (json_tape_object_next(t, &it, &k, &val)) {
        size_t klen;
        const char *key = json_tape_string(t, k, &klen);
        uint32_t pi = n->sn_nprops ? js_prop_find(s, n, key, klen) : JSM_NONE;
        uint32_t sub;
        if (pi != JSM_NONE) {
            if (pi < 64)
                seen |= (uint64_t)1 << pi;
            sub = s->s_props[n->sn_props + pi].pr_schema;
        } else if (n->sn_kw & JSM_KW_ADDL) {
            sub = n->sn_addl;
            if (s->s_nodes[sub].sn_kw == JSM_KW_FALSE) {
                /* Object-level failures come first. */
                if (!js_check_required(v, n, inst, 0, false))
                    return false;
                char ex[JSM_EXCERPT + 8];
                jsm_excerpt(ex, sizeof(ex), key, klen, JSM_EXCERPT);
                return js_vfail(v, "unexpected property \"%s\" (additionalProperties is false)",
                                ex);
            }
        } else {
            continue;
        }
        if (!js_validate(v, sub, val, depth + 1)) {
            if (n->sn_nreqs > 0 && !js_check_required(v, n, inst, 0, false))
                return false;
            js_prepend(v, key, klen);
            return false;
        }
    }
    return js_check_required(v, n, inst, seen, true);
}

static bool js_check_items(struct js_vctx *v, const struct jsm_node *n, size_t inst, unsigned depth)
{
    struct json_tape_iter it;
    size_t item;
    size_t idx = 0;
    json_tape_iter_init(v->v_t, inst, &it);
    while (json_tape_array_next(v->v_t, &it, &item)) {
        if (!js_validate(v, n->sn_items, item, depth + 1)) {
            js_prepend_index(v, idx);
            return false;
        }
        idx++;
    }
    return true;
}

static bool js_validate(struct js_vctx *v, uint32_t sn, size_t inst, unsigned depth)
{
    const struct json_schema_set *s = v->v_s;
    const struct json_tape *t = v->v_t;
    if (depth > JS_MAX_DEPTH)
        return js_vfail(v, "value nested too deeply to validate");
    enum json_tape_type type = json_tape_type(t, inst);
    /* $ref applies after the node's own keywords: follow it in a loop. */
    for (;;) {
        const struct jsm_node *n = &s->s_nodes[sn];
        uint32_t kw = n->sn_kw;
        if (kw & JSM_KW_FALSE)
            return js_vfail(v, "no value is allowed here (the schema is false)");
        if ((kw & JSM_KW_TYPE) && !js_type_ok(t, inst, n->sn_types))
            return js_fail_type(v, n->sn_types, inst);
        if ((kw & JSM_KW_CONST) && !js_equal(t, inst, &s->s_ctape, s->s_consts[n->sn_const], 0)) {
            if (v->v_err == NULL)
                return false;
            char ex[JSM_EXCERPT + 8];
            char want[JSM_EXCERPT + 8];
            js_excerpt_node(t, inst, ex, sizeof(ex));
            js_excerpt_node(&s->s_ctape, s->s_consts[n->sn_const], want, sizeof(want));
            return js_vfail(v, "%s is not equal to const %s", ex, want);
        }
        if ((kw & JSM_KW_ENUM) && !js_check_enum(v, n, inst))
            return false;
        switch (type) {
        case JSON_TAPE_STRING:
            if ((kw & JSM_KW_STRING) && !js_check_string(v, n, inst))
                return false;
            break;
        case JSON_TAPE_INTEGER:
        case JSON_TAPE_REAL:
            if ((kw & JSM_KW_NUMBER) && !js_check_number(v, n, inst))
                return false;
            break;
        case JSON_TAPE_OBJECT:
            if ((kw & JSM_KW_OBJECT) && !js_check_object(v, n, inst, depth))
                return false;
            break;
        case JSON_TAPE_ARRAY:
            if ((kw & JSM_KW_ITEMS) && !js_check_items(v, n, inst, depth))
                return false;
            break;
        default:
            break;
        }
        if (!(kw & JSM_KW_REF))
            return true;
        sn = n->sn_ref;
    }
}

bool json_schema_validate(const struct json_schema *s, const struct json_tape *t, size_t node,
                          struct json_schema_error *err)
{
    struct js_vctx v = {.v_s = s->sh_set, .v_t = t, .v_err = err};
    if (!s->sh_set->s_ready) {
        js_vfail(&v, "the schema set is not finished (json_schema_compile_finish)");
    } else if (node >= t->jt_count) {
        js_vfail(&v, "no value to validate");
    } else if (js_validate(&v, s->sh_node, node, 0)) {
        return true;
    }
    if (err != NULL) {
        if (v.v_truncated) {
            size_t cur = strlen(err->se_path);
            memmove(err->se_path + 3, err->se_path, cur + 1);
            memcpy(err->se_path, "...", 3);
        }
        jsm_err_text(err);
    }
    return false;
}
