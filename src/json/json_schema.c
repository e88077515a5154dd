/*
 * json_schema: validation of a json_tape value against the compiled model
 * (json_schema_model.h). Recursive over the instance and the applicators;
 * annotations (what unevaluated* needs) are tracked only below a node that
 * has unevaluated*, the dynamic scope only in a set with a $dynamicRef
 * that can rebind: a schema of the simple keywords walks as before.
 *
 * Validation builds no path while it succeeds: a failure writes its message
 * and each level prepends its own segment to the path while unwinding.
 */
#include "ssemon/json/json_schema.h"
#include "ssemon/json/ecma_regex.h"
#include "ssemon/json/json_format.h"
#include "ssemon/json/json_schema_model.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper instances are refused rather than recursed into (the tape's own
 * default limit is lower, so this only matters for raised tape limits). */
#define JS_MAX_DEPTH (2 * JSON_TAPE_DEFAULT_MAX_DEPTH)

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

/* ---- validation ---- */

/* The budget of branch tries (anyOf, oneOf, not, if, contains) for one
 * validation: this many per value of the instance, plus a base. Tries
 * nested in tries multiply the work of recursive schemas; beyond the
 * budget validation fails. Everything else is linear in the instance. */
#define JS_STEPS_PER_VALUE 64u
#define JS_STEPS_BASE 10000u
/* Arrays up to this long are checked for uniqueItems pairwise. */
#define JS_UNIQUE_SMALL 16
/* Resources of the dynamic scope tracked at most (deeper: a failure). */
#define JS_MAX_SCOPE 256

/* The members (by iteration order) or items of one value that keywords
 * have evaluated, for unevaluated*: one bit each. */
struct js_eval {
    uint64_t *e_bits;
    size_t e_n;
};

struct js_vctx {
    const struct json_schema_set *v_s;
    const struct json_tape *v_t;
    struct json_schema_error *v_err; /* NULL: no messages */
    bool v_truncated;                /* the path lost its outer segments */
    size_t v_steps;                  /* schema applications so far */
    size_t v_max_steps;              /* the budget: applicators can branch */
    size_t v_nscope;
    uint32_t v_scope[JS_MAX_SCOPE]; /* resources entered, outermost first (s_dynamic only) */
};

/* Branch messages embed the instance path of the branch's failure between
 * these two bytes, relative to the value the applicator is at; the final
 * path is put in front once known (json_schema_validate). */
#define JS_MARK_OPEN '\x01'
#define JS_MARK_CLOSE '\x02'

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

static inline void js_mark(struct js_eval *ev, size_t i)
{
    if (ev != NULL && i < ev->e_n)
        ev->e_bits[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline bool js_marked(const struct js_eval *ev, size_t i)
{
    return i < ev->e_n && (ev->e_bits[i / 64] >> (i % 64)) & 1u;
}

static void js_merge(struct js_eval *into, const struct js_eval *from)
{
    if (into == NULL)
        return;
    for (size_t w = 0; w < (into->e_n + 63) / 64; w++)
        into->e_bits[w] |= from->e_bits[w];
}

static void js_mark_all(struct js_eval *ev)
{
    if (ev == NULL)
        return;
    for (size_t i = 0; i < ev->e_n; i++)
        js_mark(ev, i);
}

/* A tracker like `like` (same size), all clear; false when out of memory. */
static bool js_eval_new(struct js_eval *ev, const struct js_eval *like)
{
    ev->e_n = like->e_n;
    ev->e_bits = calloc((like->e_n + 63) / 64 + 1, sizeof(uint64_t));
    return ev->e_bits != NULL;
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

/* ---- multipleOf ---- */

/* Whether the number written `txt` (len bytes, JSON syntax) is an integer
 * multiple of d, exactly: txt = m * 10^E with m an integer, and the
 * question is whether d.mant * 10^d.exp divides it. */
static bool js_multiple_ok(const char *txt, size_t len, const struct jsm_dec *d)
{
    size_t i = 0;
    if (i < len && txt[i] == '-')
        i++;
    size_t int_start = i;
    while (i < len && txt[i] >= '0' && txt[i] <= '9')
        i++;
    size_t int_end = i;
    size_t frac_start = i;
    size_t frac_end = i;
    if (i < len && txt[i] == '.') {
        frac_start = ++i;
        while (i < len && txt[i] >= '0' && txt[i] <= '9')
            i++;
        frac_end = i;
    }
    int64_t exp = 0;
    if (i < len && (txt[i] == 'e' || txt[i] == 'E')) {
        i++;
        bool neg = false;
        if (i < len && (txt[i] == '+' || txt[i] == '-'))
            neg = txt[i++] == '-';
        while (i < len && txt[i] >= '0' && txt[i] <= '9') {
            if (exp < 1000000000)
                exp = exp * 10 + (txt[i] - '0');
            i++;
        }
        if (neg)
            exp = -exp;
    }
    exp -= (int64_t)(frac_end - frac_start);
    /* the digits, integer part then fraction, without trailing zeros */
    size_t ndig = (int_end - int_start) + (frac_end - frac_start);
    size_t last = ndig;
    while (last > 0) {
        size_t k = last - 1;
        char ch = k < int_end - int_start ? txt[int_start + k]
                                          : txt[frac_start + (k - (int_end - int_start))];
        if (ch != '0')
            break;
        last--;
        exp++;
    }
    if (last == 0)
        return true; /* zero */
    if (exp < d->dm_exp)
        return false; /* m has no factor 10 left to absorb the divisor's */
    unsigned __int128 r = 0;
    for (size_t k = 0; k < last; k++) {
        char ch = k < int_end - int_start ? txt[int_start + k]
                                          : txt[frac_start + (k - (int_end - int_start))];
        r = (r * 10 + (unsigned)(ch - '0')) % d->dm_mant;
    }
    /* Beyond 64 more factors of 10, the divisor's factors 2 and 5 are all
     * met: the answer no longer changes. */
    for (int64_t k = 0; k < exp - d->dm_exp && k < 64 && r != 0; k++)
        r = (r * 10) % d->dm_mant;
    return r == 0;
}

static bool js_check_number(struct js_vctx *v, const struct jsm_node *n, size_t inst)
{
    const char *pool = v->v_s->s_pool;
    struct jsm_num x = js_num_of(v->v_t, inst);
    const char *what = NULL;
    const char *bound = NULL;
    if ((n->sn_kw & JSM_KW_MIN) && js_num_cmp(&x, &n->sn_min) < 0) {
        what = "less than minimum";
        bound = pool + n->sn_min.jn_text;
    } else if ((n->sn_kw & JSM_KW_MAX) && js_num_cmp(&x, &n->sn_max) > 0) {
        what = "greater than maximum";
        bound = pool + n->sn_max.jn_text;
    } else if ((n->sn_kw & JSM_KW_XMIN) && js_num_cmp(&x, &n->sn_xmin) <= 0) {
        what = "not greater than exclusiveMinimum";
        bound = pool + n->sn_xmin.jn_text;
    } else if ((n->sn_kw & JSM_KW_XMAX) && js_num_cmp(&x, &n->sn_xmax) >= 0) {
        what = "not less than exclusiveMaximum";
        bound = pool + n->sn_xmax.jn_text;
    } else if (n->sn_kw & JSM_KW_MULTIPLE) {
        size_t len;
        const char *txt = json_tape_raw(v->v_t, inst, &len);
        if (!js_multiple_ok(txt, len, &n->sn_mult)) {
            what = "not a multiple of";
            bound = pool + n->sn_mult.dm_text;
        }
    }
    if (what == NULL)
        return true;
    if (v->v_err == NULL)
        return false;
    char ex[JSM_EXCERPT + 8];
    js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
    return js_vfail(v, "%s is %s %s", ex, what, bound);
}

/* The one place a pattern is matched: 1 found, 0 not, JS_REGEX_LIMIT when
 * the search hit the regex module's cost limits. */
#define JS_REGEX_LIMIT (-2)
static int js_regex_match(const struct json_schema_set *s, uint32_t re, const char *str,
                          size_t len);

/* The one place a format is checked: json_format, and "regex" by
 * compiling the pattern as "pattern" would (ecma_regex). */
static bool js_format_ok(uint8_t f, const char *str, size_t len)
{
    if (f != JSON_FORMAT_REGEX)
        return json_format_check((enum json_format)f, str, len);
    struct ecma_regex *re = NULL;
    char why[ECMA_REGEX_WHY_MAX];
    bool ok = ecma_regex_compile(&re, str, len, why, sizeof(why)) == ECMA_REGEX_OK;
    ecma_regex_free(re);
    return ok;
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
        int rc = js_regex_match(s, n->sn_regex, str, len);
        if (rc == JS_REGEX_LIMIT) {
            char pat[JSM_EXCERPT + 8];
            const char *src = s->s_pool + n->sn_pattern;
            jsm_excerpt(pat, sizeof(pat), src, strlen(src), JSM_EXCERPT);
            return js_vfail(v, "pattern too costly to match (pattern \"%s\")", pat);
        }
        if (rc == 0) {
            if (v->v_err != NULL)
                js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
            char pat[JSM_EXCERPT + 8];
            const char *src = s->s_pool + n->sn_pattern;
            jsm_excerpt(pat, sizeof(pat), src, strlen(src), JSM_EXCERPT);
            return js_vfail(v, "%s does not match pattern \"%s\"", ex, pat);
        }
    }
    if ((n->sn_kw & JSM_KW_FORMAT) && !js_format_ok(n->sn_format, str, len)) {
        if (v->v_err != NULL)
            js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
        enum json_format f = (enum json_format)n->sn_format;
        return js_vfail(v, "%s is not a valid %s%s", ex, json_format_name(f),
                        f == JSON_FORMAT_DATE_TIME ? " (RFC 3339)" : "");
    }
    return true;
}

static int js_regex_match(const struct json_schema_set *s, uint32_t re, const char *str, size_t len)
{
    enum ecma_regex_match m = ecma_regex_search(s->s_regex[re], str, len);
    return m == ECMA_REGEX_MATCH ? 1 : m == ECMA_REGEX_NO_MATCH ? 0 : JS_REGEX_LIMIT;
}

static bool js_validate(struct js_vctx *v, uint32_t sn, size_t inst, unsigned depth,
                        struct js_eval *ev);

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

/* minProperties, maxProperties, dependentRequired. */
static bool js_check_object_counts(struct js_vctx *v, const struct jsm_node *n, size_t inst)
{
    const struct json_schema_set *s = v->v_s;
    if (n->sn_kw & (JSM_KW_MINPROPS | JSM_KW_MAXPROPS)) {
        size_t count = js_effective_members(v->v_t, inst);
        if ((n->sn_kw & JSM_KW_MINPROPS) && count < n->sn_minprops)
            return js_vfail(v, "object has %zu properties, fewer than minProperties %llu", count,
                            (unsigned long long)n->sn_minprops);
        if ((n->sn_kw & JSM_KW_MAXPROPS) && count > n->sn_maxprops)
            return js_vfail(v, "object has %zu properties, more than maxProperties %llu", count,
                            (unsigned long long)n->sn_maxprops);
    }
    for (uint32_t d = 0; (n->sn_kw & JSM_KW_DEPREQ) && d < n->sn_ndeps; d++) {
        const struct jsm_dep *dep = &s->s_deps[n->sn_deps + d];
        if (json_tape_object_get(v->v_t, inst, s->s_pool + dep->dp_name, dep->dp_len) ==
            JSON_TAPE_NONE)
            continue;
        for (uint32_t r = 0; r < dep->dp_nreqs; r++) {
            const struct jsm_req *rq = &s->s_reqs[dep->dp_reqs + r];
            if (json_tape_object_get(v->v_t, inst, s->s_pool + rq->rq_name, rq->rq_len) !=
                JSON_TAPE_NONE)
                continue;
            char a[JSM_EXCERPT + 8];
            char b[JSM_EXCERPT + 8];
            jsm_excerpt(a, sizeof(a), s->s_pool + dep->dp_name, dep->dp_len, JSM_EXCERPT);
            jsm_excerpt(b, sizeof(b), s->s_pool + rq->rq_name, rq->rq_len, JSM_EXCERPT);
            return js_vfail(v, "missing property \"%s\" (dependentRequired: \"%s\" is present)", b,
                            a);
        }
    }
    return true;
}

/* The members of an object against properties and additionalProperties
 * only (no patternProperties, propertyNames, annotations): the hot path of
 * every contract. */
static bool js_check_members_simple(struct js_vctx *v, const struct jsm_node *n, size_t inst,
                                    unsigned depth)
{
    const struct json_schema_set *s = v->v_s;
    const struct json_tape *t = v->v_t;
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
        if (!js_validate(v, sub, val, depth + 1, NULL)) {
            if (n->sn_nreqs > 0 && !js_check_required(v, n, inst, 0, false))
                return false;
            js_prepend(v, key, klen);
            return false;
        }
    }
    return js_check_required(v, n, inst, seen, true);
}

static bool js_check_object(struct js_vctx *v, const struct jsm_node *n, size_t inst,
                            unsigned depth, struct js_eval *ev)
{
    const struct json_schema_set *s = v->v_s;
    const struct json_tape *t = v->v_t;
    if ((n->sn_kw & (JSM_KW_MINPROPS | JSM_KW_MAXPROPS | JSM_KW_DEPREQ)) &&
        !js_check_object_counts(v, n, inst))
        return false;
    if (!(n->sn_kw & (JSM_KW_PROPS | JSM_KW_ADDL | JSM_KW_PPROPS | JSM_KW_PNAMES)))
        return js_check_required(v, n, inst, 0, false);
    if (!(n->sn_kw & (JSM_KW_PPROPS | JSM_KW_PNAMES)) && ev == NULL)
        return js_check_members_simple(v, n, inst, depth);
    uint64_t seen = 0;
    struct json_tape_iter it;
    size_t k;
    size_t val;
    size_t idx = 0;
    json_tape_iter_init(t, inst, &it);
    for (; json_tape_object_next(t, &it, &k, &val); idx++) {
        size_t klen;
        const char *key = json_tape_string(t, k, &klen);
        if ((n->sn_kw & JSM_KW_PNAMES) && !js_validate(v, n->sn_pnames, k, depth + 1, NULL)) {
            if (n->sn_nreqs > 0 && !js_check_required(v, n, inst, 0, false))
                return false;
            if (v->v_err != NULL) {
                char ex[JSM_EXCERPT + 8];
                char msg[JSON_SCHEMA_MSG_MAX];
                jsm_excerpt(ex, sizeof(ex), key, klen, JSM_EXCERPT);
                snprintf(msg, sizeof(msg), "%s", v->v_err->se_msg);
                js_vfail(v, "property name \"%s\" (propertyNames): %s", ex, msg);
            }
            return false;
        }
        uint32_t pi = n->sn_nprops ? js_prop_find(s, n, key, klen) : JSM_NONE;
        bool matched = false;
        uint32_t sub = JSM_NONE;
        if (pi != JSM_NONE) {
            if (pi < 64)
                seen |= (uint64_t)1 << pi;
            sub = s->s_props[n->sn_props + pi].pr_schema;
            matched = true;
        }
        for (uint32_t p = 0; (n->sn_kw & JSM_KW_PPROPS) && p < n->sn_npprops; p++) {
            const struct jsm_pprop *pp = &s->s_pprops[n->sn_pprops + p];
            int rc = js_regex_match(s, pp->pp_regex, key, klen);
            if (rc == JS_REGEX_LIMIT) {
                char pat[JSM_EXCERPT + 8];
                jsm_excerpt(pat, sizeof(pat), key, klen, JSM_EXCERPT);
                return js_vfail(
                    v, "pattern too costly to match (patternProperties, property \"%s\")", pat);
            }
            if (rc == 0)
                continue;
            matched = true;
            if (!js_validate(v, pp->pp_schema, val, depth + 1, NULL)) {
                if (n->sn_nreqs > 0 && !js_check_required(v, n, inst, 0, false))
                    return false;
                js_prepend(v, key, klen);
                return false;
            }
        }
        if (!matched && (n->sn_kw & JSM_KW_ADDL)) {
            sub = n->sn_addl;
            matched = true;
            if (s->s_nodes[sub].sn_kw == JSM_KW_FALSE) {
                /* Object-level failures come first. */
                if (!js_check_required(v, n, inst, 0, false))
                    return false;
                char ex[JSM_EXCERPT + 8];
                jsm_excerpt(ex, sizeof(ex), key, klen, JSM_EXCERPT);
                return js_vfail(v, "unexpected property \"%s\" (additionalProperties is false)",
                                ex);
            }
        }
        if (matched)
            js_mark(ev, idx);
        if (sub == JSM_NONE)
            continue;
        if (!js_validate(v, sub, val, depth + 1, NULL)) {
            if (n->sn_nreqs > 0 && !js_check_required(v, n, inst, 0, false))
                return false;
            js_prepend(v, key, klen);
            return false;
        }
    }
    return js_check_required(v, n, inst, seen, true);
}

/* ---- uniqueItems ---- */

/* A hash equal for values js_equal finds equal. */
static uint64_t js_hash(const struct json_tape *t, size_t n, unsigned depth)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)json_tape_type(t, n);
    if (depth > JS_MAX_DEPTH)
        return h;
    if (json_tape_is_number(t, n)) {
        double d = json_tape_double(t, n);
        if (d == 0)
            d = 0; /* -0 */
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        return bits * 0x9e3779b97f4a7c15ull + 7;
    }
    switch (json_tape_type(t, n)) {
    case JSON_TAPE_STRING: {
        size_t len;
        const char *str = json_tape_string(t, n, &len);
        for (size_t i = 0; i < len; i++)
            h = (h ^ (unsigned char)str[i]) * 1099511628211ull;
        return h;
    }
    case JSON_TAPE_ARRAY: {
        struct json_tape_iter it;
        size_t item;
        json_tape_iter_init(t, n, &it);
        while (json_tape_array_next(t, &it, &item))
            h = (h ^ js_hash(t, item, depth + 1)) * 1099511628211ull;
        return h;
    }
    case JSON_TAPE_OBJECT: {
        struct json_tape_iter it;
        size_t k;
        size_t val;
        uint64_t sum = 0;
        json_tape_iter_init(t, n, &it);
        while (json_tape_object_next(t, &it, &k, &val))
            sum += js_hash(t, k, depth + 1) * 31 + js_hash(t, val, depth + 1);
        return h ^ sum;
    }
    default:
        return h;
    }
}

struct js_hitem {
    uint64_t hi_hash;
    size_t hi_node;
    size_t hi_idx;
};

static int js_hitem_cmp(const void *x, const void *y)
{
    const struct js_hitem *a = x;
    const struct js_hitem *b = y;
    if (a->hi_hash != b->hi_hash)
        return a->hi_hash < b->hi_hash ? -1 : 1;
    return a->hi_idx < b->hi_idx ? -1 : a->hi_idx > b->hi_idx;
}

/* Items hashed and sorted; only equal hashes are compared. Reports the
 * pair whose later item comes first in the array. */
static bool js_check_unique(struct js_vctx *v, size_t inst, size_t count)
{
    const struct json_tape *t = v->v_t;
    if (count < 2)
        return true;
    if (count > JSON_SCHEMA_UNIQUE_MAX)
        return js_vfail(v, "array of %zu items is too long to check uniqueItems (the limit is %d)",
                        count, JSON_SCHEMA_UNIQUE_MAX);
    if (count <= JS_UNIQUE_SMALL) {
        /* a few items: compared pairwise, nothing allocated */
        size_t nodes[JS_UNIQUE_SMALL];
        struct json_tape_iter it;
        size_t n = 0;
        json_tape_iter_init(t, inst, &it);
        while (n < count && json_tape_array_next(t, &it, &nodes[n]))
            n++;
        for (size_t j = 1; j < n; j++) {
            for (size_t i = 0; i < j; i++) {
                if (js_equal(t, nodes[i], t, nodes[j], 0))
                    return js_vfail(v, "items %zu and %zu are equal (uniqueItems)", i, j);
            }
        }
        return true;
    }
    struct js_hitem *h = malloc(count * sizeof(*h));
    if (h == NULL)
        return js_vfail(v, "out of memory");
    struct json_tape_iter it;
    size_t item;
    size_t n = 0;
    json_tape_iter_init(t, inst, &it);
    while (n < count && json_tape_array_next(t, &it, &item)) {
        h[n].hi_hash = js_hash(t, item, 0);
        h[n].hi_node = item;
        h[n].hi_idx = n;
        n++;
    }
    qsort(h, n, sizeof(*h), js_hitem_cmp);
    size_t best_i = 0;
    size_t best_j = SIZE_MAX;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && h[b].hi_hash == h[a].hi_hash)
            b++;
        for (size_t x = a; x < b; x++) {
            for (size_t y = x + 1; y < b; y++) {
                if (h[y].hi_idx < best_j && js_equal(t, h[x].hi_node, t, h[y].hi_node, 0)) {
                    best_i = h[x].hi_idx;
                    best_j = h[y].hi_idx;
                }
            }
        }
        a = b;
    }
    free(h);
    if (best_j == SIZE_MAX)
        return true;
    return js_vfail(v, "items %zu and %zu are equal (uniqueItems)", best_i, best_j);
}

static bool js_check_array(struct js_vctx *v, const struct jsm_node *n, size_t inst, unsigned depth,
                           struct js_eval *ev)
{
    const struct json_schema_set *s = v->v_s;
    const struct json_tape *t = v->v_t;
    uint32_t kw = n->sn_kw;
    size_t count = json_tape_count(t, inst);
    if ((kw & JSM_KW_MINITEMS) && count < n->sn_minitems)
        return js_vfail(v, "array has %zu items, fewer than minItems %llu", count,
                        (unsigned long long)n->sn_minitems);
    if ((kw & JSM_KW_MAXITEMS) && count > n->sn_maxitems)
        return js_vfail(v, "array has %zu items, more than maxItems %llu", count,
                        (unsigned long long)n->sn_maxitems);
    if ((kw & JSM_KW_UNIQUE) && !js_check_unique(v, inst, count))
        return false;
    struct json_tape_iter it;
    size_t item;
    size_t idx = 0;
    if (kw & (JSM_KW_ITEMS | JSM_KW_PREFIX)) {
        json_tape_iter_init(t, inst, &it);
        while (json_tape_array_next(t, &it, &item)) {
            uint32_t sub;
            if (idx < n->sn_nprefix)
                sub = s->s_subs[n->sn_prefix + idx];
            else if (kw & JSM_KW_ITEMS)
                sub = n->sn_items;
            else
                break;
            if (!js_validate(v, sub, item, depth + 1, NULL)) {
                js_prepend_index(v, idx);
                return false;
            }
            js_mark(ev, idx);
            idx++;
        }
    }
    if (!(kw & JSM_KW_CONTAINS))
        return true;
    uint64_t found = 0;
    bool need_all = ev != NULL || n->sn_maxcont != UINT64_MAX;
    struct json_schema_error *err = v->v_err;
    v->v_err = NULL;
    idx = 0;
    json_tape_iter_init(t, inst, &it);
    while (json_tape_array_next(t, &it, &item)) {
        if (js_validate(v, n->sn_contains, item, depth + 1, NULL)) {
            found++;
            js_mark(ev, idx);
            if (!need_all && found >= n->sn_mincont)
                break;
        }
        idx++;
    }
    v->v_err = err;
    if (found < n->sn_mincont) {
        if (n->sn_mincont == 1)
            return js_vfail(v, "no item matches the \"contains\" schema");
        return js_vfail(v, "%llu items match the \"contains\" schema, fewer than minContains %llu",
                        (unsigned long long)found, (unsigned long long)n->sn_mincont);
    }
    if (found > n->sn_maxcont)
        return js_vfail(v, "%llu items match the \"contains\" schema, more than maxContains %llu",
                        (unsigned long long)found, (unsigned long long)n->sn_maxcont);
    return true;
}

/* ---- applicators over the same value ---- */

/* Appends s[0..len) to out (cap bytes) at *len_out; whatever does not
 * fit is dropped and *full set. */
static void js_cat(char *out, size_t cap, size_t *at, bool *full, const char *s, size_t len)
{
    if (*full)
        return;
    if (len >= cap - *at) {
        *full = true;
        len = cap - *at - 1;
    }
    memcpy(out + *at, s, len);
    *at += len;
    out[*at] = '\0';
}

/* Explains why each branch failed: validates them again, with messages.
 * `lead` starts the message. */
static bool js_fail_branches(struct js_vctx *v, const uint32_t *subs, uint32_t count,
                             const char *lead, size_t inst, unsigned depth)
{
    struct json_schema_error *outer = v->v_err;
    struct json_schema_error *scratch = malloc(sizeof(*scratch));
    char *buf = malloc(JSON_SCHEMA_MSG_MAX);
    if (scratch == NULL || buf == NULL) {
        free(scratch);
        free(buf);
        return js_vfail(v, "%s", lead);
    }
    size_t at = 0;
    bool full = false;
    buf[0] = '\0';
    js_cat(buf, JSON_SCHEMA_MSG_MAX, &at, &full, lead, strlen(lead));
    js_cat(buf, JSON_SCHEMA_MSG_MAX, &at, &full, ":", 1);
    for (uint32_t i = 0; i < count; i++) {
        scratch->se_path[0] = '\0';
        scratch->se_msg[0] = '\0';
        v->v_err = scratch;
        v->v_truncated = false;
        if (++v->v_steps > v->v_max_steps)
            js_vfail(v, "too costly to validate: more than %zu tries of a branch", v->v_max_steps);
        else if (js_validate(v, subs[i], inst, depth + 1, NULL))
            continue;
        char head[48];
        int hn = snprintf(head, sizeof(head), "%s[%u] %c", i > 0 ? "; " : " ", i, JS_MARK_OPEN);
        js_cat(buf, JSON_SCHEMA_MSG_MAX, &at, &full, head, (size_t)hn);
        if (v->v_truncated)
            js_cat(buf, JSON_SCHEMA_MSG_MAX, &at, &full, "...", 3);
        const char *rel = scratch->se_path;
        js_cat(buf, JSON_SCHEMA_MSG_MAX, &at, &full, rel, strlen(rel));
        js_cat(buf, JSON_SCHEMA_MSG_MAX, &at, &full, "\x02: ", 3);
        /* a nested branch's paths are relative to this branch's value */
        for (const char *m = scratch->se_msg; *m != '\0' && !full; m++) {
            js_cat(buf, JSON_SCHEMA_MSG_MAX, &at, &full, m, 1);
            if (*m == JS_MARK_OPEN)
                js_cat(buf, JSON_SCHEMA_MSG_MAX, &at, &full, rel, strlen(rel));
        }
    }
    v->v_err = outer;
    if (full) {
        size_t keep = utf8_cut(buf, at, JSON_SCHEMA_MSG_MAX - 8);
        memcpy(buf + keep, "...", 4);
    }
    js_vfail(v, "%s", buf);
    free(buf);
    free(scratch);
    return false;
}

/* Runs subschema `sn` on the value with messages off; with a tracker, the
 * annotations it collects go to *into only if it passes. */
static bool js_try(struct js_vctx *v, uint32_t sn, size_t inst, unsigned depth,
                   struct js_eval *into, bool *nomem)
{
    if (++v->v_steps > v->v_max_steps)
        return js_vfail(v, "too costly to validate: more than %zu tries of a branch",
                        v->v_max_steps);
    struct json_schema_error *err = v->v_err;
    v->v_err = NULL;
    bool ok;
    if (into == NULL) {
        ok = js_validate(v, sn, inst, depth + 1, NULL);
    } else {
        struct js_eval tmp;
        if (!js_eval_new(&tmp, into)) {
            *nomem = true;
            v->v_err = err;
            return false;
        }
        ok = js_validate(v, sn, inst, depth + 1, &tmp);
        if (ok)
            js_merge(into, &tmp);
        free(tmp.e_bits);
    }
    v->v_err = err;
    return ok;
}

static bool js_any_of(struct js_vctx *v, const struct jsm_node *n, size_t inst, unsigned depth,
                      struct js_eval *ev)
{
    const uint32_t *subs = v->v_s->s_subs + n->sn_any;
    bool any = false;
    bool nomem = false;
    for (uint32_t i = 0; i < n->sn_nany && !nomem; i++) {
        if (js_try(v, subs[i], inst, depth, ev, &nomem)) {
            any = true;
            if (ev == NULL)
                break; /* later branches only matter for annotations */
        }
    }
    if (nomem)
        return js_vfail(v, "out of memory");
    if (any || v->v_err == NULL)
        return any;
    return js_fail_branches(v, subs, n->sn_nany, "no branch of anyOf matched", inst, depth);
}

static bool js_one_of(struct js_vctx *v, const struct jsm_node *n, size_t inst, unsigned depth,
                      struct js_eval *ev)
{
    const uint32_t *subs = v->v_s->s_subs + n->sn_one;
    uint32_t matched = 0;
    uint32_t first = 0;
    bool nomem = false;
    struct js_eval tmp = {0};
    if (ev != NULL && !js_eval_new(&tmp, ev))
        return js_vfail(v, "out of memory");
    char list[200] = "";
    size_t at = 0;
    bool full = false;
    for (uint32_t i = 0; i < n->sn_none && !nomem; i++) {
        if (!js_try(v, subs[i], inst, depth, ev != NULL ? &tmp : NULL, &nomem))
            continue;
        if (matched == 0)
            first = i;
        matched++;
        if (v->v_err == NULL && matched > 1)
            break;
        char item[24];
        int len = snprintf(item, sizeof(item), "%s[%u]", matched > 1 ? " and " : "", i);
        js_cat(list, sizeof(list), &at, &full, item, (size_t)len);
    }
    (void)first;
    if (matched == 1)
        js_merge(ev, &tmp);
    free(tmp.e_bits);
    if (nomem)
        return js_vfail(v, "out of memory");
    if (matched == 1)
        return true;
    if (v->v_err == NULL)
        return false;
    if (matched == 0)
        return js_fail_branches(v, subs, n->sn_none, "no branch of oneOf matched", inst, depth);
    return js_vfail(v, "%u branches of oneOf matched, exactly one must: %s%s", matched, list,
                    full ? "..." : "");
}

static bool js_inplace(struct js_vctx *v, const struct jsm_node *n, size_t inst, unsigned depth,
                       struct js_eval *ev)
{
    const struct json_schema_set *s = v->v_s;
    for (uint32_t i = 0; i < n->sn_nall; i++) {
        if (!js_validate(v, s->s_subs[n->sn_all + i], inst, depth + 1, ev))
            return false;
    }
    if (n->sn_nany > 0 && !js_any_of(v, n, inst, depth, ev))
        return false;
    if (n->sn_none > 0 && !js_one_of(v, n, inst, depth, ev))
        return false;
    bool nomem = false;
    if (n->sn_not != JSM_NONE && js_try(v, n->sn_not, inst, depth, NULL, &nomem))
        return js_vfail(v, "must not match the schema at /not");
    if (n->sn_if != JSM_NONE) {
        bool cond = js_try(v, n->sn_if, inst, depth, ev, &nomem);
        if (nomem)
            return js_vfail(v, "out of memory");
        uint32_t next = cond ? n->sn_then : n->sn_else;
        if (next != JSM_NONE && !js_validate(v, next, inst, depth + 1, ev))
            return false;
    }
    if (n->sn_ndsch > 0 && json_tape_type(v->v_t, inst) == JSON_TAPE_OBJECT) {
        for (uint32_t d = 0; d < n->sn_ndsch; d++) {
            const struct jsm_dep *dep = &s->s_deps[n->sn_dsch + d];
            if (json_tape_object_get(v->v_t, inst, s->s_pool + dep->dp_name, dep->dp_len) ==
                JSON_TAPE_NONE)
                continue;
            if (!js_validate(v, dep->dp_schema, inst, depth + 1, ev))
                return false;
        }
    }
    return true;
}

/* The node a $dynamicRef applies: its static target, unless it names a
 * dynamic anchor that the outermost resource of the dynamic scope also
 * defines. */
static uint32_t js_dynamic_target(const struct js_vctx *v, const struct jsm_node *n)
{
    const struct json_schema_set *s = v->v_s;
    if (n->sn_dname == JSM_NONE)
        return n->sn_dref;
    const char *name = s->s_pool + n->sn_dname;
    for (size_t k = 0; k < v->v_nscope; k++) {
        uint32_t res = v->v_scope[k];
        size_t lo = 0;
        size_t hi = s->s_ndanchors;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const struct jsm_danchor *da = &s->s_danchors[mid];
            int cmp = da->da_res != res ? (da->da_res < res ? -1 : 1)
                                        : strcmp(s->s_pool + da->da_name, name);
            if (cmp == 0)
                return da->da_node;
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return n->sn_dref;
}

/* Every keyword of node `n` but unevaluated*. Inlined: the hot path. */
static inline __attribute__((always_inline)) bool js_body(struct js_vctx *v,
                                                          const struct jsm_node *n, size_t inst,
                                                          unsigned depth, struct js_eval *ev)
{
    const struct json_schema_set *s = v->v_s;
    const struct json_tape *t = v->v_t;
    enum json_tape_type type = json_tape_type(t, inst);
    /* A $ref alone (the usual "schema": {"$ref": ...}) is followed in this
     * loop: a chain of them ends, cycles are refused at compile time. */
    for (;;) {
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
            if ((kw & JSM_KW_OBJECT) && !js_check_object(v, n, inst, depth, ev))
                return false;
            break;
        case JSON_TAPE_ARRAY:
            if ((kw & JSM_KW_ARRAY) && !js_check_array(v, n, inst, depth, ev))
                return false;
            break;
        default:
            break;
        }
        if (!(kw & JSM_KW_SLOW))
            return true;
        if ((kw & JSM_KW_INPLACE) && !js_inplace(v, n, inst, depth, ev))
            return false;
        if ((kw & JSM_KW_SLOW) == JSM_KW_REF && !s->s_dynamic &&
            !(s->s_nodes[n->sn_ref].sn_kw & JSM_KW_UNEVAL)) {
            n = &s->s_nodes[n->sn_ref];
            continue;
        }
        if ((kw & JSM_KW_REF) && !js_validate(v, n->sn_ref, inst, depth + 1, ev))
            return false;
        if ((kw & JSM_KW_DYNREF) && !js_validate(v, js_dynamic_target(v, n), inst, depth + 1, ev))
            return false;
        return true;
    }
}

/* A node with unevaluatedProperties/unevaluatedItems for this value: its
 * other keywords run with a tracker of their own, then unevaluated*
 * applies to what none of them evaluated. */
static bool js_uneval(struct js_vctx *v, const struct jsm_node *n, size_t inst, unsigned depth,
                      struct js_eval *ev)
{
    const struct json_tape *t = v->v_t;
    bool object = json_tape_type(t, inst) == JSON_TAPE_OBJECT;
    uint64_t small[4] = {0};
    struct js_eval lt = {.e_bits = small, .e_n = json_tape_count(t, inst)};
    if (lt.e_n > 4 * 64) {
        lt.e_bits = calloc((lt.e_n + 63) / 64, sizeof(uint64_t));
        if (lt.e_bits == NULL)
            return js_vfail(v, "out of memory");
    }
    bool ok = js_body(v, n, inst, depth, &lt);
    uint32_t sub = object ? n->sn_uprops : n->sn_uitems;
    bool is_false = v->v_s->s_nodes[sub].sn_kw == JSM_KW_FALSE;
    struct json_tape_iter it;
    size_t k = 0;
    size_t val;
    size_t idx = 0;
    json_tape_iter_init(t, inst, &it);
    while (ok && (object ? json_tape_object_next(t, &it, &k, &val)
                         : json_tape_array_next(t, &it, &val))) {
        if (js_marked(&lt, idx)) {
            idx++;
            continue;
        }
        size_t klen = 0;
        const char *key = object ? json_tape_string(t, k, &klen) : NULL;
        if (is_false) {
            char ex[JSM_EXCERPT + 8];
            if (object) {
                jsm_excerpt(ex, sizeof(ex), key, klen, JSM_EXCERPT);
                ok =
                    js_vfail(v, "unevaluated property \"%s\" (unevaluatedProperties is false)", ex);
            } else {
                ok = js_vfail(v, "unevaluated item %zu (unevaluatedItems is false)", idx);
            }
        } else if (!js_validate(v, sub, val, depth + 1, NULL)) {
            if (object)
                js_prepend(v, key, klen);
            else
                js_prepend_index(v, idx);
            ok = false;
        }
        idx++;
    }
    if (ok && ev != NULL) {
        js_merge(ev, &lt);
        js_mark_all(ev);
    }
    if (lt.e_bits != small)
        free(lt.e_bits);
    return ok;
}

static bool js_validate(struct js_vctx *v, uint32_t sn, size_t inst, unsigned depth,
                        struct js_eval *ev)
{
    const struct json_schema_set *s = v->v_s;
    if (depth > JS_MAX_DEPTH)
        return js_vfail(v, "value nested too deeply to validate");
    const struct jsm_node *n = &s->s_nodes[sn];
    /* the common case: no dynamic scope, no unevaluated* here */
    if (__builtin_expect(!s->s_dynamic && !(n->sn_kw & JSM_KW_UNEVAL), 1))
        return js_body(v, n, inst, depth, ev);
    bool pushed = false;
    if (s->s_dynamic && (v->v_nscope == 0 || v->v_scope[v->v_nscope - 1] != n->sn_res)) {
        if (v->v_nscope >= JS_MAX_SCOPE)
            return js_vfail(v, "schema resources nested too deeply to validate");
        v->v_scope[v->v_nscope++] = n->sn_res;
        pushed = true;
    }
    bool ok;
    enum json_tape_type type = json_tape_type(v->v_t, inst);
    if ((n->sn_uprops_on && type == JSON_TAPE_OBJECT) ||
        (n->sn_uitems_on && type == JSON_TAPE_ARRAY))
        ok = js_uneval(v, n, inst, depth, ev);
    else
        ok = js_body(v, n, inst, depth, ev);
    if (pushed)
        v->v_nscope--;
    return ok;
}

/* Puts the final path in front of the relative paths branch messages
 * hold (JS_MARK_OPEN relative JS_MARK_CLOSE). */
static void js_expand_marks(struct json_schema_error *err)
{
    if (strchr(err->se_msg, JS_MARK_OPEN) == NULL)
        return;
    char *out = malloc(JSON_SCHEMA_MSG_MAX);
    if (out == NULL)
        return;
    size_t at = 0;
    bool full = false;
    out[0] = '\0';
    const char *m = err->se_msg;
    size_t plen = strlen(err->se_path);
    while (*m != '\0' && !full) {
        if (*m != JS_MARK_OPEN) {
            js_cat(out, JSON_SCHEMA_MSG_MAX, &at, &full, m++, 1);
            continue;
        }
        const char *rel = ++m;
        while (*m != '\0' && *m != JS_MARK_CLOSE)
            m++;
        size_t rlen = (size_t)(m - rel);
        if (*m == JS_MARK_CLOSE)
            m++;
        if (plen + rlen == 0) {
            js_cat(out, JSON_SCHEMA_MSG_MAX, &at, &full, "(root)", 6);
        } else {
            js_cat(out, JSON_SCHEMA_MSG_MAX, &at, &full, err->se_path, plen);
            js_cat(out, JSON_SCHEMA_MSG_MAX, &at, &full, rel, rlen);
        }
    }
    if (full) {
        size_t keep = utf8_cut(out, at, JSON_SCHEMA_MSG_MAX - 8);
        memcpy(out + keep, "...", 4);
    }
    memcpy(err->se_msg, out, strlen(out) + 1);
    free(out);
}

bool json_schema_validate(const struct json_schema *s, const struct json_tape *t, size_t node,
                          struct json_schema_error *err)
{
    struct js_vctx v;
    v.v_s = s->sh_set;
    v.v_t = t;
    v.v_err = err;
    v.v_truncated = false;
    v.v_nscope = 0;
    v.v_steps = 0;
    v.v_max_steps = JS_STEPS_BASE + JS_STEPS_PER_VALUE * t->jt_count;
    if (err != NULL)
        err->se_uri[0] = '\0';
    if (!s->sh_set->s_ready) {
        js_vfail(&v, "the schema set is not finished (json_schema_compile_finish)");
    } else if (node >= t->jt_count) {
        js_vfail(&v, "no value to validate");
    } else if (js_validate(&v, s->sh_node, node, 0, NULL)) {
        return true;
    }
    if (err != NULL) {
        if (v.v_truncated) {
            size_t cur = strlen(err->se_path);
            memmove(err->se_path + 3, err->se_path, cur + 1);
            memcpy(err->se_path, "...", 3);
        }
        js_expand_marks(err);
        jsm_err_text(err);
    }
    return false;
}
