/*
 * json_schema_compile: one recursive pass over each jansson schema, keyword
 * by keyword, that appends nodes to the set (json_schema_model.h) while it
 * tracks the JSON pointer of the value being compiled, for errors. The
 * root's definitions are compiled first, their $ref values collected and
 * resolved once every definition has its node; the schemas added later
 * resolve theirs at once, by binary search in the sorted definitions.
 * enum/const values are serialized last, by json_schema_compile_finish.
 * Every step is linear or n log n in the document: a definition is compiled
 * once, properties and required names are sorted, not compared pairwise.
 */
#include "ssemon/json/json_schema_compile.h"
#include "ssemon/base/numfmt.h"
#include "ssemon/json/json_schema_model.h"
#include "ssemon/json/pattern.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small growable buffers ---- */

static bool jsc_reserve(void **ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return false;
        n *= 2;
    }
    void *p = realloc(*ptr, n * elem);
    if (p == NULL)
        return false;
    *ptr = p;
    *cap = n;
    return true;
}

struct jsc_buf {
    char *b_ptr;
    size_t b_len;
    size_t b_cap;
};

static bool jsc_buf_add(struct jsc_buf *b, const char *s, size_t len)
{
    /* The bound also tells the optimiser the copy size is sane. */
    if (len > SIZE_MAX / 4 || b->b_len > SIZE_MAX / 4)
        return false;
    if (!jsc_reserve((void **)&b->b_ptr, &b->b_cap, b->b_len + len + 1, 1))
        return false;
    memcpy(b->b_ptr + b->b_len, s, len);
    b->b_len += len;
    b->b_ptr[b->b_len] = '\0';
    return true;
}

/* Appends "/" and `seg` escaped as a JSON pointer token. */
static bool jsc_buf_seg(struct jsc_buf *b, const char *seg, size_t len)
{
    if (!jsc_buf_add(b, "/", 1))
        return false;
    for (size_t i = 0; i < len; i++) {
        bool ok;
        if (seg[i] == '~')
            ok = jsc_buf_add(b, "~0", 2);
        else if (seg[i] == '/')
            ok = jsc_buf_add(b, "~1", 2);
        else
            ok = jsc_buf_add(b, seg + i, 1);
        if (!ok)
            return false;
    }
    return true;
}

static bool jsc_buf_index(struct jsc_buf *b, size_t idx)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%zu", idx);
    return jsc_buf_seg(b, num, (size_t)n);
}

static void jsc_buf_cut(struct jsc_buf *b, size_t len)
{
    b->b_len = len;
    if (b->b_ptr != NULL)
        b->b_ptr[len] = '\0';
}

static const char *jsc_buf_str(const struct jsc_buf *b)
{
    return b->b_ptr != NULL ? b->b_ptr : "";
}
/* ---- errors ---- */

/* Copies a path, keeping its end (the most specific part) if too long. */
static void jsc_err_path(struct json_schema_error *err, const char *path)
{
    size_t len = strlen(path);
    if (len < sizeof(err->se_path)) {
        memcpy(err->se_path, path, len + 1);
        return;
    }
    size_t keep = sizeof(err->se_path) - 4;
    memcpy(err->se_path, "...", 3);
    memcpy(err->se_path + 3, path + len - keep, keep + 1);
}
/* ---- compiler ---- */

struct jsc_pending {
    uint32_t pd_node;
    bool pd_defs; /* "$defs" (else "definitions") */
    char *pd_name;
    size_t pd_namelen;
    char *pd_path; /* of the $ref value, for errors */
};

struct jsc_def {
    bool df_defs;
    const char *df_name; /* borrowed from the root document during compile */
    size_t df_namelen;
    uint32_t df_node;
};

struct jsc_compiler {
    struct json_schema_set *c_s;
    const json_t *c_root;
    struct json_schema_limits c_lim;
    size_t c_depth;        /* of the schema being compiled: 1 for an entry or a definition */
    size_t c_outer_path;   /* length of c_path at that entry or definition */
    uint32_t *c_regex_src; /* pool offset of each regex's source, for sharing */
    size_t c_capregex_src;
    struct jsc_buf c_path;   /* pointer of the schema value being compiled */
    const json_t **c_consts; /* borrowed, by constant index */
    size_t c_nconsts;
    size_t c_capconsts;
    struct jsc_pending *c_pending;
    size_t c_npending;
    size_t c_cappending;
    struct jsc_def *c_defs; /* sorted (jsc_def_cmp) once c_defs_ready */
    size_t c_ndefs;
    size_t c_capdefs;
    bool c_defs_ready; /* every definition is compiled: a $ref resolves at once */
    struct json_schema_error *c_err;
    bool c_failed;
};

/* Records a compile error at the current path plus `seg` (if not NULL). */
__attribute__((format(printf, 3, 4))) static uint32_t
jsc_cerr(struct jsc_compiler *c, const char *seg, const char *fmt, ...)
{
    if (c->c_failed)
        return JSM_NONE;
    c->c_failed = true;
    if (c->c_err == NULL)
        return JSM_NONE;
    size_t keep = c->c_path.b_len;
    if (seg != NULL && !jsc_buf_seg(&c->c_path, seg, strlen(seg)))
        seg = NULL;
    jsc_err_path(c->c_err, jsc_buf_str(&c->c_path));
    jsc_buf_cut(&c->c_path, keep);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->c_err->se_msg, sizeof(c->c_err->se_msg), fmt, ap);
    va_end(ap);
    jsm_err_text(c->c_err);
    return JSM_NONE;
}

static uint32_t jsc_nomem(struct jsc_compiler *c)
{
    return jsc_cerr(c, NULL, "out of memory");
}

static uint32_t jsc_pool_add(struct jsc_compiler *c, const char *s, size_t len)
{
    struct json_schema_set *s_ = c->c_s;
    if (s_->s_poollen + len + 1 > UINT32_MAX ||
        !jsc_reserve((void **)&s_->s_pool, &s_->s_poolcap, s_->s_poollen + len + 1, 1)) {
        jsc_nomem(c);
        return JSM_NONE;
    }
    uint32_t off = (uint32_t)s_->s_poollen;
    memcpy(s_->s_pool + off, s, len);
    s_->s_pool[off + len] = '\0';
    s_->s_poollen += len + 1;
    return off;
}

static uint32_t jsc_node_new(struct jsc_compiler *c)
{
    struct json_schema_set *s = c->c_s;
    if (s->s_nnodes >= c->c_lim.sl_nodes)
        return jsc_cerr(c, NULL, "more than %zu schemas and subschemas in all (the limit)",
                        c->c_lim.sl_nodes);
    if (s->s_nnodes >= UINT32_MAX - 1 ||
        !jsc_reserve((void **)&s->s_nodes, &s->s_capnodes, s->s_nnodes + 1, sizeof(*s->s_nodes)))
        return jsc_nomem(c);
    struct jsm_node *n = &s->s_nodes[s->s_nnodes];
    memset(n, 0, sizeof(*n));
    n->sn_ref = n->sn_items = n->sn_addl = JSM_NONE;
    n->sn_const = n->sn_regex = JSM_NONE;
    return (uint32_t)s->s_nnodes++;
}

static uint32_t jsc_const_add(struct jsc_compiler *c, const char *kw, const json_t *v)
{
    if (c->c_nconsts >= c->c_lim.sl_constants)
        return jsc_cerr(c, kw, "more than %zu enum and const values in all (the limit)",
                        c->c_lim.sl_constants);
    if (!jsc_reserve((void **)&c->c_consts, &c->c_capconsts, c->c_nconsts + 1,
                     sizeof(const json_t *)))
        return jsc_nomem(c);
    c->c_consts[c->c_nconsts] = v;
    return (uint32_t)c->c_nconsts++;
}

static bool jsc_num_from_json(struct jsc_compiler *c, const json_t *v, struct jsm_num *num)
{
    char text[40];
    if (json_is_integer(v)) {
        num->jn_int = true;
        num->jn_i = (int64_t)json_integer_value(v);
        snprintf(text, sizeof(text), "%lld", (long long)num->jn_i);
    } else {
        num->jn_int = false;
        num->jn_d = json_real_value(v);
        /* 15, not 1: a bound such as 10000000000 is quoted in messages as
         * written, not as 1e+10. */
        numfmt_double(text, sizeof(text), num->jn_d, 15);
    }
    num->jn_text = jsc_pool_add(c, text, strlen(text));
    return num->jn_text != JSM_NONE;
}

static uint32_t jsc_compile_node(struct jsc_compiler *c, const json_t *j);

/* Compiles the subschema `j` found under the current path + segments. */
static uint32_t jsc_compile_sub(struct jsc_compiler *c, const json_t *j, const char *seg1,
                                const char *seg2)
{
    size_t keep = c->c_path.b_len;
    if (!jsc_buf_seg(&c->c_path, seg1, strlen(seg1)) ||
        (seg2 != NULL && !jsc_buf_seg(&c->c_path, seg2, strlen(seg2)))) {
        jsc_buf_cut(&c->c_path, keep);
        return jsc_nomem(c);
    }
    uint32_t idx = jsc_compile_node(c, j);
    jsc_buf_cut(&c->c_path, keep);
    return idx;
}

static bool jsc_kw_type(struct jsc_compiler *c, struct jsm_node *n, const json_t *v)
{
    size_t count = json_is_array(v) ? json_array_size(v) : 1;
    if (!json_is_string(v) && !json_is_array(v)) {
        jsc_cerr(c, "type", "\"type\" must be a string or an array of strings");
        return false;
    }
    if (count == 0) {
        jsc_cerr(c, "type", "\"type\" must not be an empty array");
        return false;
    }
    unsigned bits = 0;
    for (size_t i = 0; i < count; i++) {
        const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        const char *name = json_string_value(e);
        int bit = -1;
        for (int k = 0; name != NULL && k < JSM_N_TYPES; k++) {
            if (strcmp(name, jsm_type_name(k)) == 0 && strlen(name) == json_string_length(e))
                bit = k;
        }
        if (name == NULL) {
            jsc_cerr(c, "type", "\"type\" must be a string or an array of strings");
            return false;
        }
        if (bit < 0) {
            char ex[JSM_EXCERPT + 8];
            jsm_excerpt(ex, sizeof(ex), name, strlen(name), JSM_EXCERPT);
            jsc_cerr(c, "type", "unknown type \"%s\"", ex);
            return false;
        }
        if (bits & (1u << bit)) {
            jsc_cerr(c, "type", "type \"%s\" listed twice", name);
            return false;
        }
        bits |= 1u << bit;
    }
    n->sn_types = (uint8_t)bits;
    return true;
}

/* Names in the pool ordered by (length, bytes): the order of property
 * tables, which json_schema searches by bisection. */
static int jsc_name_cmp(const char *pool, uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return memcmp(pool + a, pool + b, alen);
}

static int jsc_prop_cmp(const void *x, const void *y, void *pool)
{
    const struct jsm_prop *a = x;
    const struct jsm_prop *b = y;
    return jsc_name_cmp(pool, a->pr_name, a->pr_len, b->pr_name, b->pr_len);
}

/* Sorts a node's property table for binary search. */
static void jsc_props_sort(struct json_schema_set *s, uint32_t first, uint32_t count)
{
    if (count > 1)
        qsort_r(s->s_props + first, count, sizeof(*s->s_props), jsc_prop_cmp, s->s_pool);
}

static bool jsc_kw_properties(struct jsc_compiler *c, uint32_t node, const json_t *v)
{
    struct json_schema_set *s = c->c_s;
    if (!json_is_object(v)) {
        jsc_cerr(c, "properties", "\"properties\" must be an object");
        return false;
    }
    size_t count = json_object_size(v);
    if (s->s_nprops + count >= UINT32_MAX ||
        !jsc_reserve((void **)&s->s_props, &s->s_capprops, s->s_nprops + count,
                     sizeof(*s->s_props))) {
        jsc_nomem(c);
        return false;
    }
    /* Reserved up front so the table stays contiguous while subschemas
     * add their own tables. */
    uint32_t first = (uint32_t)s->s_nprops;
    s->s_nprops += count;
    uint32_t i = 0;
    const char *key;
    const json_t *sub;
    json_object_foreach((json_t *)v, key, sub)
    {
        size_t klen = strlen(key);
        uint32_t name = jsc_pool_add(c, key, klen);
        if (name == JSM_NONE)
            return false;
        uint32_t idx = jsc_compile_sub(c, sub, "properties", key);
        if (idx == JSM_NONE)
            return false;
        s->s_props[first + i].pr_name = name;
        s->s_props[first + i].pr_len = (uint32_t)klen;
        s->s_props[first + i].pr_schema = idx;
        i++;
    }
    jsc_props_sort(s, first, (uint32_t)count);
    struct jsm_node *n = &s->s_nodes[node];
    n->sn_props = first;
    n->sn_nprops = (uint32_t)count;
    n->sn_kw |= JSM_KW_PROPS;
    return true;
}

struct jsc_req_order {
    const char *ro_pool;
    const struct jsm_req *ro_reqs;
};

/* Required names by (length, bytes), then by position. */
static int jsc_req_cmp(const void *x, const void *y, void *ctx)
{
    const struct jsc_req_order *o = ctx;
    uint32_t i = *(const uint32_t *)x;
    uint32_t j = *(const uint32_t *)y;
    const struct jsm_req *a = &o->ro_reqs[i];
    const struct jsm_req *b = &o->ro_reqs[j];
    int cmp = jsc_name_cmp(o->ro_pool, a->rq_name, a->rq_len, b->rq_name, b->rq_len);
    return cmp != 0 ? cmp : i < j ? -1 : i > j ? 1 : 0;
}

/* The first of `count` required names (from `reqs`) that repeats an earlier
 * one, or JSM_NONE: found by sorting, so a long list costs n log n. */
static uint32_t jsc_required_repeat(struct jsc_compiler *c, const struct jsm_req *reqs,
                                    uint32_t count, bool *nomem)
{
    if (count < 2)
        return JSM_NONE;
    uint32_t *order = malloc(count * sizeof(*order));
    if (order == NULL) {
        *nomem = true;
        return JSM_NONE;
    }
    for (uint32_t i = 0; i < count; i++)
        order[i] = i;
    struct jsc_req_order o = {.ro_pool = c->c_s->s_pool, .ro_reqs = reqs};
    qsort_r(order, count, sizeof(*order), jsc_req_cmp, &o);
    /* In a run of equal names the second is the earliest repeat. */
    uint32_t repeat = JSM_NONE;
    for (uint32_t k = 1; k < count; k++) {
        const struct jsm_req *a = &reqs[order[k - 1]];
        const struct jsm_req *b = &reqs[order[k]];
        bool same = jsc_name_cmp(o.ro_pool, a->rq_name, a->rq_len, b->rq_name, b->rq_len) == 0;
        bool second = k < 2 || jsc_name_cmp(o.ro_pool, reqs[order[k - 2]].rq_name,
                                            reqs[order[k - 2]].rq_len, a->rq_name, a->rq_len) != 0;
        if (same && second && order[k] < repeat)
            repeat = order[k];
    }
    free(order);
    return repeat;
}

static bool jsc_kw_required(struct jsc_compiler *c, uint32_t node, const json_t *v)
{
    struct json_schema_set *s = c->c_s;
    if (!json_is_array(v)) {
        jsc_cerr(c, "required", "\"required\" must be an array of strings");
        return false;
    }
    size_t count = json_array_size(v);
    if (s->s_nreqs + count >= UINT32_MAX ||
        !jsc_reserve((void **)&s->s_reqs, &s->s_capreqs, s->s_nreqs + count, sizeof(*s->s_reqs))) {
        jsc_nomem(c);
        return false;
    }
    uint32_t first = (uint32_t)s->s_nreqs;
    for (size_t i = 0; i < count; i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_string(e)) {
            size_t keep = c->c_path.b_len;
            if (!jsc_buf_seg(&c->c_path, "required", 8) || !jsc_buf_index(&c->c_path, i)) {
                jsc_buf_cut(&c->c_path, keep);
                jsc_nomem(c);
                return false;
            }
            jsc_cerr(c, NULL, "\"required\" items must be strings");
            jsc_buf_cut(&c->c_path, keep);
            return false;
        }
        uint32_t off = jsc_pool_add(c, json_string_value(e), json_string_length(e));
        if (off == JSM_NONE)
            return false;
        s->s_reqs[s->s_nreqs].rq_name = off;
        s->s_reqs[s->s_nreqs].rq_len = (uint32_t)json_string_length(e);
        s->s_reqs[s->s_nreqs].rq_prop = JSM_NONE;
        s->s_nreqs++;
    }
    bool nomem = false;
    uint32_t repeat =
        count > 1 ? jsc_required_repeat(c, s->s_reqs + first, (uint32_t)count, &nomem) : JSM_NONE;
    if (nomem) {
        jsc_nomem(c);
        return false;
    }
    if (repeat != JSM_NONE) {
        const struct jsm_req *rq = &s->s_reqs[first + repeat];
        char ex[JSM_EXCERPT + 8];
        jsm_excerpt(ex, sizeof(ex), s->s_pool + rq->rq_name, rq->rq_len, JSM_EXCERPT);
        jsc_cerr(c, "required", "\"required\" lists \"%s\" twice", ex);
        return false;
    }
    struct jsm_node *n = &s->s_nodes[node];
    n->sn_reqs = first;
    n->sn_nreqs = (uint32_t)count;
    n->sn_kw |= JSM_KW_REQ;
    return true;
}

/* Links required names to the node's (sorted) property table, once both
 * exist. */
static void jsc_link_required(struct json_schema_set *s, struct jsm_node *n)
{
    if (n->sn_nreqs == 0 || n->sn_nprops == 0)
        return;
    const struct jsm_prop *p = s->s_props + n->sn_props;
    for (uint32_t r = 0; r < n->sn_nreqs; r++) {
        struct jsm_req *rq = &s->s_reqs[n->sn_reqs + r];
        uint32_t lo = 0;
        uint32_t hi = n->sn_nprops;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            int cmp =
                jsc_name_cmp(s->s_pool, p[mid].pr_name, p[mid].pr_len, rq->rq_name, rq->rq_len);
            if (cmp == 0) {
                rq->rq_prop = mid;
                break;
            }
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
}

static bool jsc_kw_number(struct jsc_compiler *c, const char *kw, const json_t *v,
                          struct jsm_num *num)
{
    if (!json_is_number(v)) {
        jsc_cerr(c, kw, "\"%s\" must be a number", kw);
        return false;
    }
    return jsc_num_from_json(c, v, num);
}

static bool jsc_kw_length(struct jsc_compiler *c, const char *kw, const json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    /* 2020-12 counts 2.0 as an integer */
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d >= 0 && d < 9007199254740992.0 && d == (double)(uint64_t)d) {
            *out = (uint64_t)d;
            return true;
        }
    }
    jsc_cerr(c, kw, "\"%s\" must be a non-negative integer", kw);
    return false;
}

static bool jsc_kw_pattern(struct jsc_compiler *c, struct jsm_node *n, const json_t *v)
{
    struct json_schema_set *s = c->c_s;
    const char *src = json_string_value(v);
    if (src == NULL) {
        jsc_cerr(c, "pattern", "\"pattern\" must be a string");
        return false;
    }
    if (strlen(src) != json_string_length(v)) {
        jsc_cerr(c, "pattern", "\"pattern\" must not contain U+0000");
        return false;
    }
    /* A source seen before shares its regex: one regcomp per distinct
     * pattern, which is what the limit counts. */
    for (size_t i = 0; i < s->s_nregex; i++) {
        if (strcmp(s->s_pool + c->c_regex_src[i], src) == 0) {
            n->sn_regex = (uint32_t)i;
            n->sn_pattern = c->c_regex_src[i];
            n->sn_kw |= JSM_KW_PATTERN;
            return true;
        }
    }
    if (s->s_nregex >= c->c_lim.sl_patterns) {
        jsc_cerr(c, "pattern", "more than %zu different patterns in all (the limit)",
                 c->c_lim.sl_patterns);
        return false;
    }
    regex_t re;
    char why[PATTERN_WHY_MAX];
    enum pattern_status st = pattern_compile(&re, src, why, sizeof(why));
    if (st != PATTERN_OK) {
        char ex[JSM_EXCERPT + 8];
        jsm_excerpt(ex, sizeof(ex), src, strlen(src), JSM_EXCERPT);
        if (st == PATTERN_INVALID)
            jsc_cerr(c, "pattern", "invalid pattern \"%s\": %s", ex, why);
        else
            jsc_cerr(c, "pattern", "pattern \"%s\" refused: %s%s", ex, why,
                     st == PATTERN_TOO_COMPLEX ? " (use minLength/maxLength for lengths)" : "");
        return false;
    }
    uint32_t off = jsc_pool_add(c, src, strlen(src));
    if (off == JSM_NONE ||
        !jsc_reserve((void **)&s->s_regex, &s->s_capregex, s->s_nregex + 1, sizeof(regex_t)) ||
        !jsc_reserve((void **)&s->s_lite, &s->s_caplite, s->s_nregex + 1,
                     sizeof(struct regex_lite *)) ||
        !jsc_reserve((void **)&c->c_regex_src, &c->c_capregex_src, s->s_nregex + 1,
                     sizeof(*c->c_regex_src))) {
        regfree(&re);
        jsc_nomem(c);
        return false;
    }
    s->s_regex[s->s_nregex] = re;
    s->s_lite[s->s_nregex] = regex_lite_compile(src);
    c->c_regex_src[s->s_nregex] = off;
    n->sn_regex = (uint32_t)s->s_nregex++;
    n->sn_pattern = off;
    n->sn_kw |= JSM_KW_PATTERN;
    return true;
}

static bool jsc_kw_format(struct jsc_compiler *c, struct jsm_node *n, const json_t *v)
{
    const char *f = json_string_value(v);
    if (f == NULL) {
        jsc_cerr(c, "format", "\"format\" must be a string");
        return false;
    }
    if (strcmp(f, "date-time") == 0) {
        n->sn_format = JSM_FMT_DATETIME;
    } else if (strcmp(f, "uuid") == 0) {
        n->sn_format = JSM_FMT_UUID;
    } else {
        char ex[JSM_EXCERPT + 8];
        jsm_excerpt(ex, sizeof(ex), f, strlen(f), JSM_EXCERPT);
        jsc_cerr(c, "format", "unsupported format \"%s\" (supported: date-time, uuid)", ex);
        return false;
    }
    n->sn_kw |= JSM_KW_FORMAT;
    return true;
}

/* ---- definitions ---- */

/* Definitions ordered by kind ("definitions" before "$defs"), then name
 * by (length, bytes). */
static int jsc_def_order(bool adefs, const char *a, size_t alen, bool bdefs, const char *b,
                         size_t blen)
{
    if (adefs != bdefs)
        return adefs ? 1 : -1;
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

static int jsc_def_cmp(const void *x, const void *y)
{
    const struct jsc_def *a = x;
    const struct jsc_def *b = y;
    return jsc_def_order(a->df_defs, a->df_name, a->df_namelen, b->df_defs, b->df_name,
                         b->df_namelen);
}

/* The node of a root definition, or JSM_NONE (c_defs sorted). */
static uint32_t jsc_def_find(const struct jsc_compiler *c, bool defs, const char *name, size_t len)
{
    size_t lo = 0;
    size_t hi = c->c_ndefs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct jsc_def *df = &c->c_defs[mid];
        int cmp = jsc_def_order(df->df_defs, df->df_name, df->df_namelen, defs, name, len);
        if (cmp == 0)
            return df->df_node;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return JSM_NONE;
}

/* Reports a $ref to a definition that does not exist, at the current path
 * plus `seg`. */
static void jsc_unresolved(struct jsc_compiler *c, const char *seg, bool defs, const char *name,
                           size_t len)
{
    char ex[JSM_EXCERPT + 8];
    jsm_excerpt(ex, sizeof(ex), name, len, JSM_EXCERPT);
    jsc_cerr(c, seg, "unresolved $ref: no \"%s\" in %s", ex, defs ? "$defs" : "definitions");
}

/* Decodes a URI fragment's percent escapes (RFC 3986) into out. */
static bool jsc_percent_decode(const char *s, size_t len, struct jsc_buf *out)
{
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '%') {
            unsigned v = 0;
            if (len - i < 3)
                return false;
            for (int k = 1; k <= 2; k++) {
                char h = s[i + (size_t)k];
                v <<= 4;
                if (h >= '0' && h <= '9')
                    v |= (unsigned)(h - '0');
                else if (h >= 'a' && h <= 'f')
                    v |= (unsigned)(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F')
                    v |= (unsigned)(h - 'A' + 10);
                else
                    return false;
            }
            ch = (char)v;
            i += 2;
        }
        if (!jsc_buf_add(out, &ch, 1))
            return false;
    }
    return true;
}

static bool jsc_kw_ref(struct jsc_compiler *c, uint32_t node, const json_t *v)
{
    const char *ref = json_string_value(v);
    if (ref == NULL) {
        jsc_cerr(c, "$ref", "\"$ref\" must be a string");
        return false;
    }
    size_t len = json_string_length(v);
    bool defs;
    size_t pre;
    if (len > 14 && strncmp(ref, "#/definitions/", 14) == 0) {
        defs = false;
        pre = 14;
    } else if (len > 8 && strncmp(ref, "#/$defs/", 8) == 0) {
        defs = true;
        pre = 8;
    } else {
        char ex[JSM_EXCERPT + 8];
        jsm_excerpt(ex, sizeof(ex), ref, len, JSM_EXCERPT);
        jsc_cerr(c, "$ref",
                 "unsupported $ref \"%s\" (only \"#/definitions/NAME\" and \"#/$defs/NAME\")", ex);
        return false;
    }
    /* A fragment is percent-decoded first, then read as a JSON pointer. */
    struct jsc_buf tok = {0};
    struct jsc_buf name = {0};
    bool ok = jsc_percent_decode(ref + pre, len - pre, &tok) && tok.b_len > 0 &&
              memchr(tok.b_ptr, '/', tok.b_len) == NULL;
    for (size_t i = 0; ok && i < tok.b_len; i++) {
        char ch = tok.b_ptr[i];
        if (ch == '~') {
            if (i + 1 == tok.b_len || (tok.b_ptr[i + 1] != '0' && tok.b_ptr[i + 1] != '1')) {
                ok = false;
                break;
            }
            ch = tok.b_ptr[++i] == '0' ? '~' : '/';
        }
        ok = jsc_buf_add(&name, &ch, 1);
    }
    free(tok.b_ptr);
    if (!ok || name.b_len == 0) {
        free(name.b_ptr);
        char ex[JSM_EXCERPT + 8];
        jsm_excerpt(ex, sizeof(ex), ref, len, JSM_EXCERPT);
        jsc_cerr(c, "$ref",
                 "unsupported $ref \"%s\" (only \"#/definitions/NAME\" and \"#/$defs/NAME\")", ex);
        return false;
    }
    if (c->c_defs_ready) {
        uint32_t target = jsc_def_find(c, defs, name.b_ptr, name.b_len);
        if (target == JSM_NONE)
            jsc_unresolved(c, "$ref", defs, name.b_ptr, name.b_len);
        free(name.b_ptr);
        if (target == JSM_NONE)
            return false;
        /* A definition's $ref chains were checked when it compiled, and
         * nothing refers to this node: no cycle can pass through it. */
        c->c_s->s_nodes[node].sn_ref = target;
        c->c_s->s_nodes[node].sn_kw |= JSM_KW_REF;
        return true;
    }
    struct jsc_buf path = {0};
    if (!jsc_buf_add(&path, jsc_buf_str(&c->c_path), c->c_path.b_len) ||
        !jsc_buf_seg(&path, "$ref", 4) ||
        !jsc_reserve((void **)&c->c_pending, &c->c_cappending, c->c_npending + 1,
                     sizeof(*c->c_pending))) {
        free(name.b_ptr);
        free(path.b_ptr);
        jsc_nomem(c);
        return false;
    }
    struct jsc_pending *pd = &c->c_pending[c->c_npending++];
    pd->pd_node = node;
    pd->pd_defs = defs;
    pd->pd_name = name.b_ptr;
    pd->pd_namelen = name.b_len;
    pd->pd_path = path.b_ptr;
    c->c_s->s_nodes[node].sn_kw |= JSM_KW_REF;
    return true;
}

static bool jsc_def_add(struct jsc_compiler *c, bool defs, const char *name, uint32_t node)
{
    if (!jsc_reserve((void **)&c->c_defs, &c->c_capdefs, c->c_ndefs + 1, sizeof(*c->c_defs))) {
        jsc_nomem(c);
        return false;
    }
    c->c_defs[c->c_ndefs].df_defs = defs;
    c->c_defs[c->c_ndefs].df_name = name;
    c->c_defs[c->c_ndefs].df_namelen = strlen(name);
    c->c_defs[c->c_ndefs].df_node = node;
    c->c_ndefs++;
    return true;
}

/* Compiles every entry of a "definitions"/"$defs" object. Entries of the
 * root's are registered as $ref targets; others can never be referred to
 * but are still checked. */
static bool jsc_kw_defs(struct jsc_compiler *c, const char *kw, const json_t *v, bool register_them)
{
    if (!json_is_object(v)) {
        jsc_cerr(c, kw, "\"%s\" must be an object", kw);
        return false;
    }
    const char *key;
    const json_t *sub;
    json_object_foreach((json_t *)v, key, sub)
    {
        uint32_t idx = jsc_compile_sub(c, sub, kw, key);
        if (idx == JSM_NONE)
            return false;
        if (register_them && !jsc_def_add(c, kw[1] == 'd', key, idx))
            return false;
    }
    return true;
}

static bool jsc_kw_annotation(struct jsc_compiler *c, const char *kw, const json_t *v)
{
    if (strcmp(kw, "default") == 0)
        return true;
    if (strcmp(kw, "examples") == 0) {
        if (json_is_array(v))
            return true;
        jsc_cerr(c, kw, "\"examples\" must be an array");
        return false;
    }
    if (json_is_string(v))
        return true;
    jsc_cerr(c, kw, "\"%s\" must be a string", kw);
    return false;
}

enum jsc_keyword {
    JSC_K_TYPE,
    JSC_K_PROPERTIES,
    JSC_K_REQUIRED,
    JSC_K_ADDL,
    JSC_K_ENUM,
    JSC_K_CONST,
    JSC_K_MINIMUM,
    JSC_K_MAXIMUM,
    JSC_K_XMIN,
    JSC_K_XMAX,
    JSC_K_MINLEN,
    JSC_K_MAXLEN,
    JSC_K_PATTERN,
    JSC_K_FORMAT,
    JSC_K_ITEMS,
    JSC_K_REF,
    JSC_K_DEFINITIONS,
    JSC_K_DEFS,
    JSC_K_ANNOTATION,
};

static const struct {
    const char *kw_name;
    enum jsc_keyword kw_id;
} jsc_keywords[] = {
    {"type", JSC_K_TYPE},
    {"properties", JSC_K_PROPERTIES},
    {"required", JSC_K_REQUIRED},
    {"additionalProperties", JSC_K_ADDL},
    {"enum", JSC_K_ENUM},
    {"const", JSC_K_CONST},
    {"minimum", JSC_K_MINIMUM},
    {"maximum", JSC_K_MAXIMUM},
    {"exclusiveMinimum", JSC_K_XMIN},
    {"exclusiveMaximum", JSC_K_XMAX},
    {"minLength", JSC_K_MINLEN},
    {"maxLength", JSC_K_MAXLEN},
    {"pattern", JSC_K_PATTERN},
    {"format", JSC_K_FORMAT},
    {"items", JSC_K_ITEMS},
    {"$ref", JSC_K_REF},
    {"definitions", JSC_K_DEFINITIONS},
    {"$defs", JSC_K_DEFS},
    {"title", JSC_K_ANNOTATION},
    {"description", JSC_K_ANNOTATION},
    {"$comment", JSC_K_ANNOTATION},
    {"examples", JSC_K_ANNOTATION},
    {"default", JSC_K_ANNOTATION},
    {"$schema", JSC_K_ANNOTATION},
    {"$id", JSC_K_ANNOTATION},
};

static bool jsc_keyword(struct jsc_compiler *c, uint32_t node, const json_t *obj, const char *key,
                        const json_t *v)
{
    struct json_schema_set *s = c->c_s;
    size_t nk = sizeof(jsc_keywords) / sizeof(jsc_keywords[0]);
    size_t k = 0;
    while (k < nk && strcmp(jsc_keywords[k].kw_name, key) != 0)
        k++;
    if (k == nk) {
        char ex[JSM_EXCERPT + 8];
        jsm_excerpt(ex, sizeof(ex), key, strlen(key), JSM_EXCERPT);
        jsc_cerr(c, NULL, "unsupported keyword \"%s\"", ex);
        return false;
    }
    uint32_t idx;
    /* s->s_nodes may move while subschemas compile: index it afresh. */
    switch (jsc_keywords[k].kw_id) {
    case JSC_K_TYPE:
        if (!jsc_kw_type(c, &s->s_nodes[node], v))
            return false;
        s->s_nodes[node].sn_kw |= JSM_KW_TYPE;
        return true;
    case JSC_K_PROPERTIES:
        return jsc_kw_properties(c, node, v);
    case JSC_K_REQUIRED:
        return jsc_kw_required(c, node, v);
    case JSC_K_ADDL:
        idx = jsc_compile_sub(c, v, key, NULL);
        if (idx == JSM_NONE)
            return false;
        s->s_nodes[node].sn_addl = idx;
        s->s_nodes[node].sn_kw |= JSM_KW_ADDL;
        return true;
    case JSC_K_ITEMS:
        if (json_is_array(v)) {
            jsc_cerr(c, key, "\"items\" must be a schema (the array form is not supported)");
            return false;
        }
        idx = jsc_compile_sub(c, v, key, NULL);
        if (idx == JSM_NONE)
            return false;
        s->s_nodes[node].sn_items = idx;
        s->s_nodes[node].sn_kw |= JSM_KW_ITEMS;
        return true;
    case JSC_K_ENUM:
        if (!json_is_array(v)) {
            jsc_cerr(c, key, "\"enum\" must be an array");
            return false;
        }
        if (json_array_size(v) > c->c_lim.sl_enum) {
            jsc_cerr(c, key, "\"enum\" has %zu entries, more than the limit of %zu",
                     json_array_size(v), c->c_lim.sl_enum);
            return false;
        }
        s->s_nodes[node].sn_enum = (uint32_t)c->c_nconsts;
        s->s_nodes[node].sn_nenum = (uint32_t)json_array_size(v);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (jsc_const_add(c, key, json_array_get(v, i)) == JSM_NONE)
                return false;
        }
        s->s_nodes[node].sn_kw |= JSM_KW_ENUM;
        return true;
    case JSC_K_CONST:
        idx = jsc_const_add(c, key, v);
        if (idx == JSM_NONE)
            return false;
        s->s_nodes[node].sn_const = idx;
        s->s_nodes[node].sn_kw |= JSM_KW_CONST;
        return true;
    case JSC_K_MINIMUM:
        s->s_nodes[node].sn_kw |= JSM_KW_MIN;
        return jsc_kw_number(c, key, v, &s->s_nodes[node].sn_min);
    case JSC_K_MAXIMUM:
        s->s_nodes[node].sn_kw |= JSM_KW_MAX;
        return jsc_kw_number(c, key, v, &s->s_nodes[node].sn_max);
    case JSC_K_XMIN:
        s->s_nodes[node].sn_kw |= JSM_KW_XMIN;
        return jsc_kw_number(c, key, v, &s->s_nodes[node].sn_xmin);
    case JSC_K_XMAX:
        s->s_nodes[node].sn_kw |= JSM_KW_XMAX;
        return jsc_kw_number(c, key, v, &s->s_nodes[node].sn_xmax);
    case JSC_K_MINLEN:
        s->s_nodes[node].sn_kw |= JSM_KW_MINLEN;
        return jsc_kw_length(c, key, v, &s->s_nodes[node].sn_minlen);
    case JSC_K_MAXLEN:
        s->s_nodes[node].sn_kw |= JSM_KW_MAXLEN;
        return jsc_kw_length(c, key, v, &s->s_nodes[node].sn_maxlen);
    case JSC_K_PATTERN:
        return jsc_kw_pattern(c, &s->s_nodes[node], v);
    case JSC_K_FORMAT:
        return jsc_kw_format(c, &s->s_nodes[node], v);
    case JSC_K_REF:
        return jsc_kw_ref(c, node, v);
    case JSC_K_DEFINITIONS:
    case JSC_K_DEFS:
        /* The root's are compiled (and registered) once, at the end. */
        if (obj == c->c_root)
            return true;
        return jsc_kw_defs(c, key, v, false);
    case JSC_K_ANNOTATION:
        return jsc_kw_annotation(c, key, v);
    }
    return false;
}

static uint32_t jsc_compile_object(struct jsc_compiler *c, const json_t *j)
{
    uint32_t idx = jsc_node_new(c);
    if (idx == JSM_NONE)
        return JSM_NONE;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        if (!jsc_keyword(c, idx, j, key, v))
            return JSM_NONE;
    }
    jsc_link_required(c->c_s, &c->c_s->s_nodes[idx]);
    return idx;
}

static uint32_t jsc_compile_node(struct jsc_compiler *c, const json_t *j)
{
    if (c->c_failed)
        return JSM_NONE;
    if (json_is_boolean(j)) {
        uint32_t idx = jsc_node_new(c);
        if (idx != JSM_NONE && json_is_false(j))
            c->c_s->s_nodes[idx].sn_kw = JSM_KW_FALSE;
        return idx;
    }
    if (!json_is_object(j))
        return jsc_cerr(c, NULL, "a schema must be an object or a boolean");
    if (c->c_depth >= c->c_lim.sl_depth) {
        /* Reported at the outermost schema: a path that deep would not fit
         * an error, nor lead to a position in the file. */
        jsc_buf_cut(&c->c_path, c->c_outer_path);
        return jsc_cerr(c, NULL, "subschemas nested more than %zu deep (the limit)",
                        c->c_lim.sl_depth);
    }
    if (c->c_depth == 0)
        c->c_outer_path = c->c_path.b_len;
    c->c_depth++;
    uint32_t idx = jsc_compile_object(c, j);
    c->c_depth--;
    return idx;
}

/* Finds `target` inside `cur`, leaving its pointer in `path`. */
static bool jsc_locate(const json_t *cur, const json_t *target, struct jsc_buf *path, bool *nomem)
{
    if (cur == target)
        return true;
    size_t keep = path->b_len;
    if (json_is_object(cur)) {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)cur, key, v)
        {
            if (!jsc_buf_seg(path, key, strlen(key))) {
                *nomem = true;
                return false;
            }
            if (jsc_locate(v, target, path, nomem))
                return true;
            jsc_buf_cut(path, keep);
        }
    } else if (json_is_array(cur)) {
        for (size_t i = 0; i < json_array_size(cur); i++) {
            if (!jsc_buf_index(path, i)) {
                *nomem = true;
                return false;
            }
            if (jsc_locate(json_array_get(cur, i), target, path, nomem))
                return true;
            jsc_buf_cut(path, keep);
        }
    }
    return false;
}

/* Points the root definitions' $ref at their targets (c_defs sorted). */
static bool jsc_resolve_refs(struct jsc_compiler *c)
{
    struct json_schema_set *s = c->c_s;
    for (size_t i = 0; i < c->c_npending; i++) {
        struct jsc_pending *pd = &c->c_pending[i];
        uint32_t target = jsc_def_find(c, pd->pd_defs, pd->pd_name, pd->pd_namelen);
        if (target == JSM_NONE) {
            jsc_buf_cut(&c->c_path, 0);
            if (!jsc_buf_add(&c->c_path, pd->pd_path, strlen(pd->pd_path)))
                jsc_nomem(c);
            jsc_unresolved(c, NULL, pd->pd_defs, pd->pd_name, pd->pd_namelen);
            return false;
        }
        s->s_nodes[pd->pd_node].sn_ref = target;
    }
    return true;
}

/* A chain of $ref never consumes the instance, so a cycle of them would
 * never end: refused, at the first $ref (in document order) that leads
 * into one. Each node is walked once: a walk stops at a node an earlier
 * walk passed (its chain ends) and fails at one of its own. */
static bool jsc_refuse_ref_cycles(struct jsc_compiler *c)
{
    struct json_schema_set *s = c->c_s;
    if (c->c_npending == 0)
        return true;
    uint32_t *walk = calloc(s->s_nnodes, sizeof(*walk));
    if (walk == NULL) {
        jsc_nomem(c);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < c->c_npending; i++) {
        uint32_t stamp = (uint32_t)i + 1;
        uint32_t n = c->c_pending[i].pd_node;
        while (walk[n] == 0 && (s->s_nodes[n].sn_kw & JSM_KW_REF)) {
            walk[n] = stamp;
            n = s->s_nodes[n].sn_ref;
        }
        if (walk[n] == stamp) {
            jsc_buf_cut(&c->c_path, 0);
            if (!jsc_buf_add(&c->c_path, c->c_pending[i].pd_path, strlen(c->c_pending[i].pd_path)))
                jsc_nomem(c);
            jsc_cerr(c, NULL, "circular $ref (a chain of $ref that never applies a keyword)");
            ok = false;
        }
    }
    free(walk);
    return ok;
}

/* Serializes every enum/const value into one JSON array and parses it. */
static bool jsc_build_consts(struct jsc_compiler *c)
{
    struct json_schema_set *s = c->c_s;
    if (c->c_nconsts == 0)
        return true;
    struct jsc_buf text = {0};
    bool ok = jsc_buf_add(&text, "[", 1);
    for (size_t i = 0; ok && i < c->c_nconsts; i++) {
        size_t need = json_dumpb(c->c_consts[i], NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
        ok = need > 0 && jsc_reserve((void **)&text.b_ptr, &text.b_cap, text.b_len + need + 2, 1);
        if (ok) {
            if (i > 0)
                text.b_ptr[text.b_len++] = ',';
            text.b_len += json_dumpb(c->c_consts[i], text.b_ptr + text.b_len, need,
                                     JSON_COMPACT | JSON_ENCODE_ANY);
        }
    }
    ok = ok && jsc_buf_add(&text, "]", 1);
    s->s_consts = ok ? calloc(c->c_nconsts, sizeof(*s->s_consts)) : NULL;
    if (s->s_consts == NULL) {
        free(text.b_ptr);
        jsc_nomem(c);
        return false;
    }
    s->s_ctext = text.b_ptr;
    int rc = json_tape_parse(&s->s_ctape, s->s_ctext, text.b_len, NULL);
    if (rc == JSON_TAPE_ENOMEM) {
        jsc_nomem(c);
        return false;
    }
    if (rc != JSON_TAPE_OK) {
        jsc_cerr(c, NULL, "an enum or const value cannot be represented (NUL in an object key?)");
        return false;
    }
    struct json_tape_iter it;
    size_t item;
    size_t i = 0;
    json_tape_iter_init(&s->s_ctape, 0, &it);
    while (json_tape_array_next(&s->s_ctape, &it, &item) && i < c->c_nconsts)
        s->s_consts[i++] = (uint32_t)item;
    s->s_nconsts = i;
    return true;
}

static void jsc_compiler_free(struct jsc_compiler *c)
{
    if (c == NULL)
        return;
    free(c->c_path.b_ptr);
    free(c->c_consts);
    for (size_t i = 0; i < c->c_npending; i++) {
        free(c->c_pending[i].pd_name);
        free(c->c_pending[i].pd_path);
    }
    free(c->c_pending);
    free(c->c_defs);
    free(c->c_regex_src);
    free(c);
}

static size_t jsc_limit(size_t given, size_t dflt)
{
    return given != 0 ? given : dflt;
}

/* Compiles the root's "definitions" and "$defs", sorts them for lookup,
 * resolves their $ref and refuses $ref cycles among them. */
static bool jsc_compile_defs(struct jsc_compiler *c)
{
    static const char *const kws[] = {"definitions", "$defs"};
    const json_t *defs[2] = {NULL, NULL};
    size_t count = 0;
    for (size_t i = 0; i < 2; i++) {
        defs[i] = json_is_object(c->c_root) ? json_object_get(c->c_root, kws[i]) : NULL;
        if (defs[i] == NULL)
            continue;
        if (!json_is_object(defs[i])) {
            jsc_cerr(c, kws[i], "\"%s\" must be an object", kws[i]);
            return false;
        }
        count += json_object_size(defs[i]);
        if (count > c->c_lim.sl_definitions) {
            jsc_cerr(c, kws[i], "%zu definitions, more than the limit of %zu", count,
                     c->c_lim.sl_definitions);
            return false;
        }
    }
    for (size_t i = 0; i < 2; i++) {
        if (defs[i] != NULL && !jsc_kw_defs(c, kws[i], defs[i], true))
            return false;
    }
    if (c->c_ndefs > 1)
        qsort(c->c_defs, c->c_ndefs, sizeof(*c->c_defs), jsc_def_cmp);
    c->c_defs_ready = true;
    return jsc_resolve_refs(c) && jsc_refuse_ref_cycles(c);
}

/* Ends a failed step: the set keeps nothing half-built that could be used. */
static void jsc_abandon(struct json_schema_set *set)
{
    jsc_compiler_free(set->s_build);
    set->s_build = NULL;
}

struct json_schema_set *json_schema_compile_new(const json_t *root,
                                                const struct json_schema_limits *limits,
                                                struct json_schema_error *err)
{
    struct json_schema_set *set = calloc(1, sizeof(*set));
    struct jsc_compiler *c = calloc(1, sizeof(*c));
    struct jsc_compiler failed = {.c_err = err};
    if (set == NULL || c == NULL || root == NULL) {
        if (root == NULL)
            jsc_cerr(&failed, NULL, "no schema");
        else
            jsc_nomem(&failed);
        free(set);
        free(c);
        return NULL;
    }
    json_tape_init(&set->s_ctape);
    set->s_build = c;
    struct json_schema_limits lim = {0};
    if (limits != NULL)
        lim = *limits;
    c->c_lim.sl_nodes = jsc_limit(lim.sl_nodes, JSON_SCHEMA_MAX_NODES);
    c->c_lim.sl_definitions = jsc_limit(lim.sl_definitions, JSON_SCHEMA_MAX_DEFINITIONS);
    c->c_lim.sl_depth = jsc_limit(lim.sl_depth, JSON_SCHEMA_MAX_DEPTH);
    c->c_lim.sl_enum = jsc_limit(lim.sl_enum, JSON_SCHEMA_MAX_ENUM);
    c->c_lim.sl_constants = jsc_limit(lim.sl_constants, JSON_SCHEMA_MAX_CONSTANTS);
    c->c_lim.sl_patterns = jsc_limit(lim.sl_patterns, JSON_SCHEMA_MAX_PATTERNS);
    c->c_s = set;
    c->c_root = root;
    c->c_err = err;
    if (!jsc_compile_defs(c)) {
        json_schema_compile_free(set);
        return NULL;
    }
    return set;
}

/* Sets the path of `schema` inside the root: `path`, or found. */
static bool jsc_start_path(struct jsc_compiler *c, const json_t *schema, const char *path)
{
    bool nomem = false;
    jsc_buf_cut(&c->c_path, 0);
    if (path != NULL) {
        nomem = !jsc_buf_add(&c->c_path, path, strlen(path));
    } else if (!jsc_locate(c->c_root, schema, &c->c_path, &nomem)) {
        /* Not inside the root: errors are relative to the schema. */
        jsc_buf_cut(&c->c_path, 0);
    }
    if (nomem)
        jsc_nomem(c);
    return !nomem;
}

const struct json_schema *json_schema_compile_add(struct json_schema_set *set, const json_t *schema,
                                                  const char *path, struct json_schema_error *err)
{
    struct jsc_compiler failed = {.c_err = err};
    if (set == NULL || set->s_build == NULL || schema == NULL) {
        jsc_cerr(&failed, NULL, schema == NULL ? "no schema" : "the schema set is closed");
        return NULL;
    }
    struct jsc_compiler *c = set->s_build;
    c->c_err = err;
    struct json_schema *entry = malloc(sizeof(*entry));
    if (entry == NULL || !jsc_reserve((void **)&set->s_entries, &set->s_capentries,
                                      set->s_nentries + 1, sizeof(*set->s_entries))) {
        free(entry);
        jsc_nomem(c);
        jsc_abandon(set);
        return NULL;
    }
    set->s_entries[set->s_nentries++] = entry;
    entry->sh_set = set;
    entry->sh_node = JSM_NONE;
    if (!jsc_start_path(c, schema, path)) {
        jsc_abandon(set);
        return NULL;
    }
    c->c_depth = 0;
    entry->sh_node = jsc_compile_node(c, schema);
    if (entry->sh_node == JSM_NONE) {
        jsc_abandon(set);
        return NULL;
    }
    return entry;
}

/* Gives back what a growing array reserved beyond its end (a set lives as
 * long as its contract); keeps the array as it is if that fails. */
static void jsc_shrink(void **ptr, size_t *cap, size_t n, size_t elem)
{
    if (n == 0 || n >= *cap)
        return;
    void *p = realloc(*ptr, n * elem);
    if (p == NULL)
        return;
    *ptr = p;
    *cap = n;
}

bool json_schema_compile_finish(struct json_schema_set *set, struct json_schema_error *err)
{
    struct jsc_compiler failed = {.c_err = err};
    if (set == NULL || set->s_build == NULL) {
        jsc_cerr(&failed, NULL, "the schema set is closed");
        return false;
    }
    struct jsc_compiler *c = set->s_build;
    c->c_err = err;
    jsc_buf_cut(&c->c_path, 0);
    bool ok = jsc_build_consts(c);
    jsc_abandon(set);
    set->s_ready = ok;
    jsc_shrink((void **)&set->s_nodes, &set->s_capnodes, set->s_nnodes, sizeof(*set->s_nodes));
    jsc_shrink((void **)&set->s_props, &set->s_capprops, set->s_nprops, sizeof(*set->s_props));
    jsc_shrink((void **)&set->s_reqs, &set->s_capreqs, set->s_nreqs, sizeof(*set->s_reqs));
    jsc_shrink((void **)&set->s_pool, &set->s_poolcap, set->s_poollen, 1);
    return ok;
}

void json_schema_compile_free(struct json_schema_set *s)
{
    if (s == NULL)
        return;
    jsc_compiler_free(s->s_build);
    for (size_t i = 0; i < s->s_nregex; i++) {
        regfree(&s->s_regex[i]);
        regex_lite_free(s->s_lite[i]);
    }
    for (size_t i = 0; i < s->s_nentries; i++)
        free(s->s_entries[i]);
    free(s->s_entries);
    free(s->s_regex);
    free(s->s_lite);
    free(s->s_nodes);
    free(s->s_props);
    free(s->s_reqs);
    free(s->s_pool);
    free(s->s_consts);
    free(s->s_ctext);
    json_tape_free(&s->s_ctape);
    free(s);
}
