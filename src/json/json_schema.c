/*
 * JSON Schema subset: compile from jansson, validate over a json_tape.
 *
 * Design: a schema compiles into a flat array of nodes that refer to each
 * other by index (subschemas, $ref targets), with side arrays for property
 * tables (sorted, binary-searched), required names, regexes and a string
 * pool. enum/const values are serialized into one JSON array and parsed
 * into a json_tape owned by the schema, so instance and constants are
 * compared with one tape-to-tape equality and nothing of the caller's
 * json_t is kept.
 *
 * $ref targets are compiled once each (every entry of the root's
 * "definitions" and "$defs") and refer to each other by index, so recursive
 * definitions are plain cycles in the node graph. Validation only follows a
 * cycle while descending into the instance, except for chains made of $ref
 * alone, which are refused at compile time; so validation always ends.
 *
 * Validation builds no path while it succeeds: a failure writes its message
 * and each level prepends its own segment to the path while unwinding.
 */
#include "ssemon/json/json_schema.h"
#include "ssemon/json/pattern.h"
#include "ssemon/json/regex_lite.h"

#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JS_NONE UINT32_MAX
/* Deeper instances are refused rather than recursed into (the tape's own
 * default limit is lower, so this only matters for raised tape limits). */
#define JS_MAX_DEPTH (2 * JSON_TAPE_DEFAULT_MAX_DEPTH)
/* Bytes of an instance value quoted in a message. */
#define JS_EXCERPT 48
/* Strings checked against a pattern are copied on the stack up to this
 * size (longer ones on the heap). */
#define JS_REGEX_STACK 512

/* sn_kw: keywords present on a node */
enum {
    JS_KW_FALSE = 1u << 0, /* the schema `false` */
    JS_KW_TYPE = 1u << 1,
    JS_KW_CONST = 1u << 2,
    JS_KW_ENUM = 1u << 3,
    JS_KW_MIN = 1u << 4,
    JS_KW_MAX = 1u << 5,
    JS_KW_XMIN = 1u << 6,
    JS_KW_XMAX = 1u << 7,
    JS_KW_MINLEN = 1u << 8,
    JS_KW_MAXLEN = 1u << 9,
    JS_KW_PATTERN = 1u << 10,
    JS_KW_FORMAT = 1u << 11,
    JS_KW_PROPS = 1u << 12,
    JS_KW_ADDL = 1u << 13,
    JS_KW_REQ = 1u << 14,
    JS_KW_ITEMS = 1u << 15,
    JS_KW_REF = 1u << 16,
};
#define JS_KW_NUMBER (JS_KW_MIN | JS_KW_MAX | JS_KW_XMIN | JS_KW_XMAX)
#define JS_KW_STRING (JS_KW_MINLEN | JS_KW_MAXLEN | JS_KW_PATTERN | JS_KW_FORMAT)
#define JS_KW_OBJECT (JS_KW_PROPS | JS_KW_ADDL | JS_KW_REQ)

/* type bits */
enum {
    JS_T_NULL = 1u << 0,
    JS_T_BOOLEAN = 1u << 1,
    JS_T_OBJECT = 1u << 2,
    JS_T_ARRAY = 1u << 3,
    JS_T_NUMBER = 1u << 4,
    JS_T_STRING = 1u << 5,
    JS_T_INTEGER = 1u << 6,
};
static const char *const js_type_names[] = {"null",   "boolean", "object", "array",
                                            "number", "string",  "integer"};
#define JS_N_TYPES 7

enum js_format {
    JS_FMT_NONE = 0,
    JS_FMT_DATETIME,
    JS_FMT_UUID,
};

struct js_num {
    bool jn_int; /* jn_i holds it; else jn_d */
    int64_t jn_i;
    double jn_d;
    uint32_t jn_text; /* pool offset of its text, for messages */
};

struct js_prop {
    uint32_t pr_name; /* pool offset */
    uint32_t pr_len;
    uint32_t pr_schema; /* node */
};

struct js_req {
    uint32_t rq_name; /* pool offset */
    uint32_t rq_len;
    uint32_t rq_prop; /* position in the node's property table, or JS_NONE */
};

struct js_node {
    uint32_t sn_kw;
    uint8_t sn_types;
    uint8_t sn_format;
    uint32_t sn_ref;   /* node */
    uint32_t sn_items; /* node */
    uint32_t sn_addl;  /* node */
    uint32_t sn_props; /* first entry in s_props */
    uint32_t sn_nprops;
    uint32_t sn_reqs; /* first entry in s_reqs */
    uint32_t sn_nreqs;
    uint32_t sn_const; /* constant index */
    uint32_t sn_enum;  /* first constant index */
    uint32_t sn_nenum;
    uint32_t sn_regex;   /* index in s_regex */
    uint32_t sn_pattern; /* pool offset of the pattern source */
    uint64_t sn_minlen;
    uint64_t sn_maxlen;
    struct js_num sn_min;
    struct js_num sn_max;
    struct js_num sn_xmin;
    struct js_num sn_xmax;
};

struct json_schema {
    struct js_node *s_nodes;
    size_t s_nnodes;
    size_t s_capnodes;
    struct js_prop *s_props;
    size_t s_nprops;
    size_t s_capprops;
    struct js_req *s_reqs;
    size_t s_nreqs;
    size_t s_capreqs;
    regex_t *s_regex;
    size_t s_nregex; /* compiled ones: regfree'd on free */
    size_t s_capregex;
    /* s_lite[i]: the fast matcher for s_regex[i], NULL when the pattern is
     * outside its subset (regexec then does all the work). */
    struct regex_lite **s_lite;
    size_t s_caplite;
    char *s_pool;
    size_t s_poollen;
    size_t s_poolcap;
    uint32_t *s_consts; /* constant index -> node of s_ctape */
    size_t s_nconsts;
    char *s_ctext; /* text of s_ctape: the constants as one JSON array */
    struct json_tape s_ctape;
};

/* ---- small growable buffers ---- */

static bool js_reserve(void **ptr, size_t *cap, size_t need, size_t elem)
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

struct js_buf {
    char *b_ptr;
    size_t b_len;
    size_t b_cap;
};

static bool js_buf_add(struct js_buf *b, const char *s, size_t len)
{
    /* The bound also tells the optimiser the copy size is sane. */
    if (len > SIZE_MAX / 4 || b->b_len > SIZE_MAX / 4)
        return false;
    if (!js_reserve((void **)&b->b_ptr, &b->b_cap, b->b_len + len + 1, 1))
        return false;
    memcpy(b->b_ptr + b->b_len, s, len);
    b->b_len += len;
    b->b_ptr[b->b_len] = '\0';
    return true;
}

/* Appends "/" and `seg` escaped as a JSON pointer token. */
static bool js_buf_seg(struct js_buf *b, const char *seg, size_t len)
{
    if (!js_buf_add(b, "/", 1))
        return false;
    for (size_t i = 0; i < len; i++) {
        bool ok;
        if (seg[i] == '~')
            ok = js_buf_add(b, "~0", 2);
        else if (seg[i] == '/')
            ok = js_buf_add(b, "~1", 2);
        else
            ok = js_buf_add(b, seg + i, 1);
        if (!ok)
            return false;
    }
    return true;
}

static bool js_buf_index(struct js_buf *b, size_t idx)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%zu", idx);
    return js_buf_seg(b, num, (size_t)n);
}

static void js_buf_cut(struct js_buf *b, size_t len)
{
    b->b_len = len;
    if (b->b_ptr != NULL)
        b->b_ptr[len] = '\0';
}

static const char *js_buf_str(const struct js_buf *b)
{
    return b->b_ptr != NULL ? b->b_ptr : "";
}

/* ---- errors ---- */

static void js_err_text(struct json_schema_error *err)
{
    snprintf(err->se_text, sizeof(err->se_text), "%s: %s",
             err->se_path[0] != '\0' ? err->se_path : "(root)", err->se_msg);
}

/* Copies a path, keeping its end (the most specific part) if too long. */
static void js_err_path(struct json_schema_error *err, const char *path)
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

/* A quoted excerpt of `s`: at most `max` bytes, cut on a UTF-8 boundary. */
static void js_excerpt(char *out, size_t cap, const char *s, size_t len, size_t max)
{
    bool cut = false;
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
        cut = true;
    }
    snprintf(out, cap, "%.*s%s", (int)len, s, cut ? "..." : "");
}

/* ---- compiler ---- */

struct js_pending {
    uint32_t pd_node;
    bool pd_defs; /* "$defs" (else "definitions") */
    char *pd_name;
    size_t pd_namelen;
    char *pd_path; /* of the $ref value, for errors */
};

struct js_def {
    bool df_defs;
    const char *df_name; /* borrowed from the root document during compile */
    uint32_t df_node;
};

struct js_compiler {
    struct json_schema *c_s;
    const json_t *c_root;
    struct js_buf c_path;    /* pointer of the schema value being compiled */
    const json_t **c_consts; /* borrowed, by constant index */
    size_t c_nconsts;
    size_t c_capconsts;
    struct js_pending *c_pending;
    size_t c_npending;
    size_t c_cappending;
    struct js_def *c_defs;
    size_t c_ndefs;
    size_t c_capdefs;
    struct json_schema_error *c_err;
    bool c_failed;
};

/* Records a compile error at the current path plus `seg` (if not NULL). */
__attribute__((format(printf, 3, 4))) static uint32_t js_cerr(struct js_compiler *c,
                                                              const char *seg, const char *fmt, ...)
{
    if (c->c_failed)
        return JS_NONE;
    c->c_failed = true;
    if (c->c_err == NULL)
        return JS_NONE;
    size_t keep = c->c_path.b_len;
    if (seg != NULL && !js_buf_seg(&c->c_path, seg, strlen(seg)))
        seg = NULL;
    js_err_path(c->c_err, js_buf_str(&c->c_path));
    js_buf_cut(&c->c_path, keep);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->c_err->se_msg, sizeof(c->c_err->se_msg), fmt, ap);
    va_end(ap);
    js_err_text(c->c_err);
    return JS_NONE;
}

static uint32_t js_nomem(struct js_compiler *c)
{
    return js_cerr(c, NULL, "out of memory");
}

static uint32_t js_pool_add(struct js_compiler *c, const char *s, size_t len)
{
    struct json_schema *s_ = c->c_s;
    if (s_->s_poollen + len + 1 > UINT32_MAX ||
        !js_reserve((void **)&s_->s_pool, &s_->s_poolcap, s_->s_poollen + len + 1, 1)) {
        js_nomem(c);
        return JS_NONE;
    }
    uint32_t off = (uint32_t)s_->s_poollen;
    memcpy(s_->s_pool + off, s, len);
    s_->s_pool[off + len] = '\0';
    s_->s_poollen += len + 1;
    return off;
}

static uint32_t js_node_new(struct js_compiler *c)
{
    struct json_schema *s = c->c_s;
    if (s->s_nnodes >= UINT32_MAX - 1 ||
        !js_reserve((void **)&s->s_nodes, &s->s_capnodes, s->s_nnodes + 1, sizeof(*s->s_nodes)))
        return js_nomem(c);
    struct js_node *n = &s->s_nodes[s->s_nnodes];
    memset(n, 0, sizeof(*n));
    n->sn_ref = n->sn_items = n->sn_addl = JS_NONE;
    n->sn_const = n->sn_regex = JS_NONE;
    return (uint32_t)s->s_nnodes++;
}

static uint32_t js_const_add(struct js_compiler *c, const json_t *v)
{
    if (!js_reserve((void **)&c->c_consts, &c->c_capconsts, c->c_nconsts + 1,
                    sizeof(const json_t *)))
        return js_nomem(c);
    c->c_consts[c->c_nconsts] = v;
    return (uint32_t)c->c_nconsts++;
}

/* Shortest %g text that reads back as `d`. */
static void js_fmt_double(char *out, size_t cap, double d)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

static bool js_num_from_json(struct js_compiler *c, const json_t *v, struct js_num *num)
{
    char text[40];
    if (json_is_integer(v)) {
        num->jn_int = true;
        num->jn_i = (int64_t)json_integer_value(v);
        snprintf(text, sizeof(text), "%lld", (long long)num->jn_i);
    } else {
        num->jn_int = false;
        num->jn_d = json_real_value(v);
        js_fmt_double(text, sizeof(text), num->jn_d);
    }
    num->jn_text = js_pool_add(c, text, strlen(text));
    return num->jn_text != JS_NONE;
}

static uint32_t js_compile_node(struct js_compiler *c, const json_t *j);

/* Compiles the subschema `j` found under the current path + segments. */
static uint32_t js_compile_sub(struct js_compiler *c, const json_t *j, const char *seg1,
                               const char *seg2)
{
    size_t keep = c->c_path.b_len;
    if (!js_buf_seg(&c->c_path, seg1, strlen(seg1)) ||
        (seg2 != NULL && !js_buf_seg(&c->c_path, seg2, strlen(seg2)))) {
        js_buf_cut(&c->c_path, keep);
        return js_nomem(c);
    }
    uint32_t idx = js_compile_node(c, j);
    js_buf_cut(&c->c_path, keep);
    return idx;
}

static bool js_kw_type(struct js_compiler *c, struct js_node *n, const json_t *v)
{
    size_t count = json_is_array(v) ? json_array_size(v) : 1;
    if (!json_is_string(v) && !json_is_array(v)) {
        js_cerr(c, "type", "\"type\" must be a string or an array of strings");
        return false;
    }
    if (count == 0) {
        js_cerr(c, "type", "\"type\" must not be an empty array");
        return false;
    }
    unsigned bits = 0;
    for (size_t i = 0; i < count; i++) {
        const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        const char *name = json_string_value(e);
        int bit = -1;
        for (int k = 0; name != NULL && k < JS_N_TYPES; k++) {
            if (strcmp(name, js_type_names[k]) == 0 && strlen(name) == json_string_length(e))
                bit = k;
        }
        if (name == NULL) {
            js_cerr(c, "type", "\"type\" must be a string or an array of strings");
            return false;
        }
        if (bit < 0) {
            char ex[JS_EXCERPT + 8];
            js_excerpt(ex, sizeof(ex), name, strlen(name), JS_EXCERPT);
            js_cerr(c, "type", "unknown type \"%s\"", ex);
            return false;
        }
        if (bits & (1u << bit)) {
            js_cerr(c, "type", "type \"%s\" listed twice", name);
            return false;
        }
        bits |= 1u << bit;
    }
    n->sn_types = (uint8_t)bits;
    return true;
}

/* Sorts a node's property table by (length, bytes) for binary search. */
static void js_props_sort(struct json_schema *s, uint32_t first, uint32_t count)
{
    if (count < 2)
        return;
    struct js_prop *p = s->s_props + first;
    for (uint32_t i = 1; i < count; i++) {
        struct js_prop x = p[i];
        uint32_t j = i;
        while (j > 0) {
            const struct js_prop *y = &p[j - 1];
            int cmp = y->pr_len != x.pr_len
                          ? (y->pr_len < x.pr_len ? -1 : 1)
                          : memcmp(s->s_pool + y->pr_name, s->s_pool + x.pr_name, x.pr_len);
            if (cmp <= 0)
                break;
            p[j] = p[j - 1];
            j--;
        }
        p[j] = x;
    }
}

static bool js_kw_properties(struct js_compiler *c, uint32_t node, const json_t *v)
{
    struct json_schema *s = c->c_s;
    if (!json_is_object(v)) {
        js_cerr(c, "properties", "\"properties\" must be an object");
        return false;
    }
    size_t count = json_object_size(v);
    if (s->s_nprops + count >= UINT32_MAX ||
        !js_reserve((void **)&s->s_props, &s->s_capprops, s->s_nprops + count,
                    sizeof(*s->s_props))) {
        js_nomem(c);
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
        uint32_t name = js_pool_add(c, key, klen);
        if (name == JS_NONE)
            return false;
        uint32_t idx = js_compile_sub(c, sub, "properties", key);
        if (idx == JS_NONE)
            return false;
        s->s_props[first + i].pr_name = name;
        s->s_props[first + i].pr_len = (uint32_t)klen;
        s->s_props[first + i].pr_schema = idx;
        i++;
    }
    js_props_sort(s, first, (uint32_t)count);
    struct js_node *n = &s->s_nodes[node];
    n->sn_props = first;
    n->sn_nprops = (uint32_t)count;
    n->sn_kw |= JS_KW_PROPS;
    return true;
}

static bool js_kw_required(struct js_compiler *c, struct js_node *n, const json_t *v)
{
    struct json_schema *s = c->c_s;
    if (!json_is_array(v)) {
        js_cerr(c, "required", "\"required\" must be an array of strings");
        return false;
    }
    size_t count = json_array_size(v);
    if (!js_reserve((void **)&s->s_reqs, &s->s_capreqs, s->s_nreqs + count, sizeof(*s->s_reqs))) {
        js_nomem(c);
        return false;
    }
    uint32_t first = (uint32_t)s->s_nreqs;
    for (size_t i = 0; i < count; i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_string(e)) {
            size_t keep = c->c_path.b_len;
            if (!js_buf_seg(&c->c_path, "required", 8) || !js_buf_index(&c->c_path, i)) {
                js_buf_cut(&c->c_path, keep);
                js_nomem(c);
                return false;
            }
            js_cerr(c, NULL, "\"required\" items must be strings");
            js_buf_cut(&c->c_path, keep);
            return false;
        }
        const char *name = json_string_value(e);
        size_t len = json_string_length(e);
        for (uint32_t k = first; k < s->s_nreqs; k++) {
            if (s->s_reqs[k].rq_len == len &&
                memcmp(s->s_pool + s->s_reqs[k].rq_name, name, len) == 0) {
                char ex[JS_EXCERPT + 8];
                js_excerpt(ex, sizeof(ex), name, len, JS_EXCERPT);
                js_cerr(c, "required", "\"required\" lists \"%s\" twice", ex);
                return false;
            }
        }
        uint32_t off = js_pool_add(c, name, len);
        if (off == JS_NONE)
            return false;
        s->s_reqs[s->s_nreqs].rq_name = off;
        s->s_reqs[s->s_nreqs].rq_len = (uint32_t)len;
        s->s_reqs[s->s_nreqs].rq_prop = JS_NONE;
        s->s_nreqs++;
    }
    n->sn_reqs = first;
    n->sn_nreqs = (uint32_t)count;
    n->sn_kw |= JS_KW_REQ;
    return true;
}

/* Links required names to the node's property table (once both exist). */
static void js_link_required(struct json_schema *s, struct js_node *n)
{
    for (uint32_t r = 0; r < n->sn_nreqs; r++) {
        struct js_req *rq = &s->s_reqs[n->sn_reqs + r];
        for (uint32_t p = 0; p < n->sn_nprops; p++) {
            const struct js_prop *pr = &s->s_props[n->sn_props + p];
            if (pr->pr_len == rq->rq_len &&
                memcmp(s->s_pool + pr->pr_name, s->s_pool + rq->rq_name, rq->rq_len) == 0) {
                rq->rq_prop = p;
                break;
            }
        }
    }
}

static bool js_kw_number(struct js_compiler *c, const char *kw, const json_t *v, struct js_num *num)
{
    if (!json_is_number(v)) {
        js_cerr(c, kw, "\"%s\" must be a number", kw);
        return false;
    }
    return js_num_from_json(c, v, num);
}

static bool js_kw_length(struct js_compiler *c, const char *kw, const json_t *v, uint64_t *out)
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
    js_cerr(c, kw, "\"%s\" must be a non-negative integer", kw);
    return false;
}

static bool js_kw_pattern(struct js_compiler *c, struct js_node *n, const json_t *v)
{
    struct json_schema *s = c->c_s;
    const char *src = json_string_value(v);
    if (src == NULL) {
        js_cerr(c, "pattern", "\"pattern\" must be a string");
        return false;
    }
    if (strlen(src) != json_string_length(v)) {
        js_cerr(c, "pattern", "\"pattern\" must not contain U+0000");
        return false;
    }
    regex_t re;
    char why[PATTERN_WHY_MAX];
    enum pattern_status st = pattern_compile(&re, src, why, sizeof(why));
    if (st != PATTERN_OK) {
        char ex[JS_EXCERPT + 8];
        js_excerpt(ex, sizeof(ex), src, strlen(src), JS_EXCERPT);
        if (st == PATTERN_INVALID)
            js_cerr(c, "pattern", "invalid pattern \"%s\": %s", ex, why);
        else
            js_cerr(c, "pattern", "pattern \"%s\" refused: %s%s", ex, why,
                    st == PATTERN_TOO_COMPLEX ? " (use minLength/maxLength for lengths)" : "");
        return false;
    }
    if (!js_reserve((void **)&s->s_regex, &s->s_capregex, s->s_nregex + 1, sizeof(regex_t)) ||
        !js_reserve((void **)&s->s_lite, &s->s_caplite, s->s_nregex + 1,
                    sizeof(struct regex_lite *))) {
        regfree(&re);
        js_nomem(c);
        return false;
    }
    s->s_regex[s->s_nregex] = re;
    s->s_lite[s->s_nregex] = regex_lite_compile(src);
    n->sn_regex = (uint32_t)s->s_nregex++;
    n->sn_pattern = js_pool_add(c, src, strlen(src));
    if (n->sn_pattern == JS_NONE)
        return false;
    n->sn_kw |= JS_KW_PATTERN;
    return true;
}

static bool js_kw_format(struct js_compiler *c, struct js_node *n, const json_t *v)
{
    const char *f = json_string_value(v);
    if (f == NULL) {
        js_cerr(c, "format", "\"format\" must be a string");
        return false;
    }
    if (strcmp(f, "date-time") == 0) {
        n->sn_format = JS_FMT_DATETIME;
    } else if (strcmp(f, "uuid") == 0) {
        n->sn_format = JS_FMT_UUID;
    } else {
        char ex[JS_EXCERPT + 8];
        js_excerpt(ex, sizeof(ex), f, strlen(f), JS_EXCERPT);
        js_cerr(c, "format", "unsupported format \"%s\" (supported: date-time, uuid)", ex);
        return false;
    }
    n->sn_kw |= JS_KW_FORMAT;
    return true;
}

/* Decodes a URI fragment's percent escapes (RFC 3986) into out. */
static bool js_percent_decode(const char *s, size_t len, struct js_buf *out)
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
        if (!js_buf_add(out, &ch, 1))
            return false;
    }
    return true;
}

static bool js_kw_ref(struct js_compiler *c, uint32_t node, const json_t *v)
{
    const char *ref = json_string_value(v);
    if (ref == NULL) {
        js_cerr(c, "$ref", "\"$ref\" must be a string");
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
        char ex[JS_EXCERPT + 8];
        js_excerpt(ex, sizeof(ex), ref, len, JS_EXCERPT);
        js_cerr(c, "$ref",
                "unsupported $ref \"%s\" (only \"#/definitions/NAME\" and \"#/$defs/NAME\")", ex);
        return false;
    }
    /* A fragment is percent-decoded first, then read as a JSON pointer. */
    struct js_buf tok = {0};
    struct js_buf name = {0};
    bool ok = js_percent_decode(ref + pre, len - pre, &tok) && tok.b_len > 0 &&
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
        ok = js_buf_add(&name, &ch, 1);
    }
    free(tok.b_ptr);
    if (!ok || name.b_len == 0) {
        free(name.b_ptr);
        char ex[JS_EXCERPT + 8];
        js_excerpt(ex, sizeof(ex), ref, len, JS_EXCERPT);
        js_cerr(c, "$ref",
                "unsupported $ref \"%s\" (only \"#/definitions/NAME\" and \"#/$defs/NAME\")", ex);
        return false;
    }
    struct js_buf path = {0};
    if (!js_buf_add(&path, js_buf_str(&c->c_path), c->c_path.b_len) ||
        !js_buf_seg(&path, "$ref", 4) ||
        !js_reserve((void **)&c->c_pending, &c->c_cappending, c->c_npending + 1,
                    sizeof(*c->c_pending))) {
        free(name.b_ptr);
        free(path.b_ptr);
        js_nomem(c);
        return false;
    }
    struct js_pending *pd = &c->c_pending[c->c_npending++];
    pd->pd_node = node;
    pd->pd_defs = defs;
    pd->pd_name = name.b_ptr;
    pd->pd_namelen = name.b_len;
    pd->pd_path = path.b_ptr;
    c->c_s->s_nodes[node].sn_kw |= JS_KW_REF;
    return true;
}

static bool js_def_add(struct js_compiler *c, bool defs, const char *name, uint32_t node)
{
    if (!js_reserve((void **)&c->c_defs, &c->c_capdefs, c->c_ndefs + 1, sizeof(*c->c_defs))) {
        js_nomem(c);
        return false;
    }
    c->c_defs[c->c_ndefs].df_defs = defs;
    c->c_defs[c->c_ndefs].df_name = name;
    c->c_defs[c->c_ndefs].df_node = node;
    c->c_ndefs++;
    return true;
}

/* Compiles every entry of a "definitions"/"$defs" object. Entries of the
 * root's are registered as $ref targets; others can never be referred to
 * but are still checked. */
static bool js_kw_defs(struct js_compiler *c, const char *kw, const json_t *v, bool register_them)
{
    if (!json_is_object(v)) {
        js_cerr(c, kw, "\"%s\" must be an object", kw);
        return false;
    }
    const char *key;
    const json_t *sub;
    json_object_foreach((json_t *)v, key, sub)
    {
        uint32_t idx = js_compile_sub(c, sub, kw, key);
        if (idx == JS_NONE)
            return false;
        if (register_them && !js_def_add(c, kw[1] == 'd', key, idx))
            return false;
    }
    return true;
}

static bool js_kw_annotation(struct js_compiler *c, const char *kw, const json_t *v)
{
    if (strcmp(kw, "default") == 0)
        return true;
    if (strcmp(kw, "examples") == 0) {
        if (json_is_array(v))
            return true;
        js_cerr(c, kw, "\"examples\" must be an array");
        return false;
    }
    if (json_is_string(v))
        return true;
    js_cerr(c, kw, "\"%s\" must be a string", kw);
    return false;
}

enum js_keyword {
    JS_K_TYPE,
    JS_K_PROPERTIES,
    JS_K_REQUIRED,
    JS_K_ADDL,
    JS_K_ENUM,
    JS_K_CONST,
    JS_K_MINIMUM,
    JS_K_MAXIMUM,
    JS_K_XMIN,
    JS_K_XMAX,
    JS_K_MINLEN,
    JS_K_MAXLEN,
    JS_K_PATTERN,
    JS_K_FORMAT,
    JS_K_ITEMS,
    JS_K_REF,
    JS_K_DEFINITIONS,
    JS_K_DEFS,
    JS_K_ANNOTATION,
};

static const struct {
    const char *kw_name;
    enum js_keyword kw_id;
} js_keywords[] = {
    {"type", JS_K_TYPE},
    {"properties", JS_K_PROPERTIES},
    {"required", JS_K_REQUIRED},
    {"additionalProperties", JS_K_ADDL},
    {"enum", JS_K_ENUM},
    {"const", JS_K_CONST},
    {"minimum", JS_K_MINIMUM},
    {"maximum", JS_K_MAXIMUM},
    {"exclusiveMinimum", JS_K_XMIN},
    {"exclusiveMaximum", JS_K_XMAX},
    {"minLength", JS_K_MINLEN},
    {"maxLength", JS_K_MAXLEN},
    {"pattern", JS_K_PATTERN},
    {"format", JS_K_FORMAT},
    {"items", JS_K_ITEMS},
    {"$ref", JS_K_REF},
    {"definitions", JS_K_DEFINITIONS},
    {"$defs", JS_K_DEFS},
    {"title", JS_K_ANNOTATION},
    {"description", JS_K_ANNOTATION},
    {"$comment", JS_K_ANNOTATION},
    {"examples", JS_K_ANNOTATION},
    {"default", JS_K_ANNOTATION},
    {"$schema", JS_K_ANNOTATION},
    {"$id", JS_K_ANNOTATION},
};

static bool js_keyword(struct js_compiler *c, uint32_t node, const json_t *obj, const char *key,
                       const json_t *v)
{
    struct json_schema *s = c->c_s;
    size_t nk = sizeof(js_keywords) / sizeof(js_keywords[0]);
    size_t k = 0;
    while (k < nk && strcmp(js_keywords[k].kw_name, key) != 0)
        k++;
    if (k == nk) {
        char ex[JS_EXCERPT + 8];
        js_excerpt(ex, sizeof(ex), key, strlen(key), JS_EXCERPT);
        js_cerr(c, NULL, "unsupported keyword \"%s\"", ex);
        return false;
    }
    uint32_t idx;
    /* s->s_nodes may move while subschemas compile: index it afresh. */
    switch (js_keywords[k].kw_id) {
    case JS_K_TYPE:
        if (!js_kw_type(c, &s->s_nodes[node], v))
            return false;
        s->s_nodes[node].sn_kw |= JS_KW_TYPE;
        return true;
    case JS_K_PROPERTIES:
        return js_kw_properties(c, node, v);
    case JS_K_REQUIRED:
        return js_kw_required(c, &s->s_nodes[node], v);
    case JS_K_ADDL:
        idx = js_compile_sub(c, v, key, NULL);
        if (idx == JS_NONE)
            return false;
        s->s_nodes[node].sn_addl = idx;
        s->s_nodes[node].sn_kw |= JS_KW_ADDL;
        return true;
    case JS_K_ITEMS:
        if (json_is_array(v)) {
            js_cerr(c, key, "\"items\" must be a schema (the array form is not supported)");
            return false;
        }
        idx = js_compile_sub(c, v, key, NULL);
        if (idx == JS_NONE)
            return false;
        s->s_nodes[node].sn_items = idx;
        s->s_nodes[node].sn_kw |= JS_KW_ITEMS;
        return true;
    case JS_K_ENUM:
        if (!json_is_array(v)) {
            js_cerr(c, key, "\"enum\" must be an array");
            return false;
        }
        s->s_nodes[node].sn_enum = (uint32_t)c->c_nconsts;
        s->s_nodes[node].sn_nenum = (uint32_t)json_array_size(v);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (js_const_add(c, json_array_get(v, i)) == JS_NONE)
                return false;
        }
        s->s_nodes[node].sn_kw |= JS_KW_ENUM;
        return true;
    case JS_K_CONST:
        idx = js_const_add(c, v);
        if (idx == JS_NONE)
            return false;
        s->s_nodes[node].sn_const = idx;
        s->s_nodes[node].sn_kw |= JS_KW_CONST;
        return true;
    case JS_K_MINIMUM:
        s->s_nodes[node].sn_kw |= JS_KW_MIN;
        return js_kw_number(c, key, v, &s->s_nodes[node].sn_min);
    case JS_K_MAXIMUM:
        s->s_nodes[node].sn_kw |= JS_KW_MAX;
        return js_kw_number(c, key, v, &s->s_nodes[node].sn_max);
    case JS_K_XMIN:
        s->s_nodes[node].sn_kw |= JS_KW_XMIN;
        return js_kw_number(c, key, v, &s->s_nodes[node].sn_xmin);
    case JS_K_XMAX:
        s->s_nodes[node].sn_kw |= JS_KW_XMAX;
        return js_kw_number(c, key, v, &s->s_nodes[node].sn_xmax);
    case JS_K_MINLEN:
        s->s_nodes[node].sn_kw |= JS_KW_MINLEN;
        return js_kw_length(c, key, v, &s->s_nodes[node].sn_minlen);
    case JS_K_MAXLEN:
        s->s_nodes[node].sn_kw |= JS_KW_MAXLEN;
        return js_kw_length(c, key, v, &s->s_nodes[node].sn_maxlen);
    case JS_K_PATTERN:
        return js_kw_pattern(c, &s->s_nodes[node], v);
    case JS_K_FORMAT:
        return js_kw_format(c, &s->s_nodes[node], v);
    case JS_K_REF:
        return js_kw_ref(c, node, v);
    case JS_K_DEFINITIONS:
    case JS_K_DEFS:
        /* The root's are compiled (and registered) once, at the end. */
        if (obj == c->c_root)
            return true;
        return js_kw_defs(c, key, v, false);
    case JS_K_ANNOTATION:
        return js_kw_annotation(c, key, v);
    }
    return false;
}

static uint32_t js_compile_node(struct js_compiler *c, const json_t *j)
{
    if (c->c_failed)
        return JS_NONE;
    if (json_is_boolean(j)) {
        uint32_t idx = js_node_new(c);
        if (idx != JS_NONE && json_is_false(j))
            c->c_s->s_nodes[idx].sn_kw = JS_KW_FALSE;
        return idx;
    }
    if (!json_is_object(j))
        return js_cerr(c, NULL, "a schema must be an object or a boolean");
    uint32_t idx = js_node_new(c);
    if (idx == JS_NONE)
        return JS_NONE;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        if (!js_keyword(c, idx, j, key, v))
            return JS_NONE;
    }
    js_link_required(c->c_s, &c->c_s->s_nodes[idx]);
    return idx;
}

/* Finds `target` inside `cur`, leaving its pointer in `path`. */
static bool js_locate(const json_t *cur, const json_t *target, struct js_buf *path, bool *nomem)
{
    if (cur == target)
        return true;
    size_t keep = path->b_len;
    if (json_is_object(cur)) {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)cur, key, v)
        {
            if (!js_buf_seg(path, key, strlen(key))) {
                *nomem = true;
                return false;
            }
            if (js_locate(v, target, path, nomem))
                return true;
            js_buf_cut(path, keep);
        }
    } else if (json_is_array(cur)) {
        for (size_t i = 0; i < json_array_size(cur); i++) {
            if (!js_buf_index(path, i)) {
                *nomem = true;
                return false;
            }
            if (js_locate(json_array_get(cur, i), target, path, nomem))
                return true;
            js_buf_cut(path, keep);
        }
    }
    return false;
}

static bool js_resolve_refs(struct js_compiler *c)
{
    struct json_schema *s = c->c_s;
    for (size_t i = 0; i < c->c_npending; i++) {
        struct js_pending *pd = &c->c_pending[i];
        uint32_t target = JS_NONE;
        for (size_t k = 0; k < c->c_ndefs; k++) {
            const struct js_def *df = &c->c_defs[k];
            if (df->df_defs == pd->pd_defs && strlen(df->df_name) == pd->pd_namelen &&
                memcmp(df->df_name, pd->pd_name, pd->pd_namelen) == 0) {
                target = df->df_node;
                break;
            }
        }
        if (target == JS_NONE) {
            char ex[JS_EXCERPT + 8];
            js_excerpt(ex, sizeof(ex), pd->pd_name, pd->pd_namelen, JS_EXCERPT);
            js_buf_cut(&c->c_path, 0);
            js_buf_add(&c->c_path, pd->pd_path, strlen(pd->pd_path));
            js_cerr(c, NULL, "unresolved $ref: no \"%s\" in %s", ex,
                    pd->pd_defs ? "$defs" : "definitions");
            return false;
        }
        s->s_nodes[pd->pd_node].sn_ref = target;
    }
    /* A chain of $ref alone never reaches the instance: refuse cycles. */
    for (size_t i = 0; i < c->c_npending; i++) {
        uint32_t n = c->c_pending[i].pd_node;
        size_t steps = 0;
        while (s->s_nodes[n].sn_kw & JS_KW_REF) {
            n = s->s_nodes[n].sn_ref;
            if (++steps > s->s_nnodes) {
                js_buf_cut(&c->c_path, 0);
                js_buf_add(&c->c_path, c->c_pending[i].pd_path, strlen(c->c_pending[i].pd_path));
                js_cerr(c, NULL, "circular $ref (a chain of $ref that never applies a keyword)");
                return false;
            }
        }
    }
    return true;
}

/* Serializes every enum/const value into one JSON array and parses it. */
static bool js_build_consts(struct js_compiler *c)
{
    struct json_schema *s = c->c_s;
    if (c->c_nconsts == 0)
        return true;
    struct js_buf text = {0};
    bool ok = js_buf_add(&text, "[", 1);
    for (size_t i = 0; ok && i < c->c_nconsts; i++) {
        size_t need = json_dumpb(c->c_consts[i], NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
        ok = need > 0 && js_reserve((void **)&text.b_ptr, &text.b_cap, text.b_len + need + 2, 1);
        if (ok) {
            if (i > 0)
                text.b_ptr[text.b_len++] = ',';
            text.b_len += json_dumpb(c->c_consts[i], text.b_ptr + text.b_len, need,
                                     JSON_COMPACT | JSON_ENCODE_ANY);
        }
    }
    ok = ok && js_buf_add(&text, "]", 1);
    s->s_consts = ok ? calloc(c->c_nconsts, sizeof(*s->s_consts)) : NULL;
    if (s->s_consts == NULL) {
        free(text.b_ptr);
        js_nomem(c);
        return false;
    }
    s->s_ctext = text.b_ptr;
    int rc = json_tape_parse(&s->s_ctape, s->s_ctext, text.b_len, NULL);
    if (rc == JSON_TAPE_ENOMEM) {
        js_nomem(c);
        return false;
    }
    if (rc != JSON_TAPE_OK) {
        js_cerr(c, NULL, "an enum or const value cannot be represented (NUL in an object key?)");
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

static void js_compiler_done(struct js_compiler *c)
{
    free(c->c_path.b_ptr);
    free(c->c_consts);
    for (size_t i = 0; i < c->c_npending; i++) {
        free(c->c_pending[i].pd_name);
        free(c->c_pending[i].pd_path);
    }
    free(c->c_pending);
    free(c->c_defs);
}

static bool js_compile_all(struct js_compiler *c, const json_t *schema)
{
    bool nomem = false;
    if (c->c_root != schema && !js_locate(c->c_root, schema, &c->c_path, &nomem)) {
        js_buf_cut(&c->c_path, 0);
        if (nomem) {
            js_nomem(c);
            return false;
        }
    }
    if (js_compile_node(c, schema) == JS_NONE)
        return false;
    js_buf_cut(&c->c_path, 0);
    static const char *const kws[] = {"definitions", "$defs"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *defs = json_object_get(c->c_root, kws[i]);
        if (defs != NULL && !js_kw_defs(c, kws[i], defs, true))
            return false;
    }
    return js_resolve_refs(c) && js_build_consts(c);
}

struct json_schema *json_schema_compile(const json_t *schema, const json_t *root,
                                        struct json_schema_error *err)
{
    struct js_compiler c = {.c_root = root != NULL ? root : schema, .c_err = err};
    if (schema == NULL) {
        js_cerr(&c, NULL, "no schema");
        return NULL;
    }
    c.c_s = calloc(1, sizeof(*c.c_s));
    if (c.c_s == NULL) {
        js_nomem(&c);
        js_compiler_done(&c);
        return NULL;
    }
    json_tape_init(&c.c_s->s_ctape);
    bool ok = js_compile_all(&c, schema);
    js_compiler_done(&c);
    if (!ok) {
        json_schema_free(c.c_s);
        return NULL;
    }
    return c.c_s;
}

void json_schema_free(struct json_schema *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->s_nregex; i++) {
        regfree(&s->s_regex[i]);
        regex_lite_free(s->s_lite[i]);
    }
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

/* ---- values ---- */

static struct js_num js_num_of(const struct json_tape *t, size_t n)
{
    struct js_num v = {0};
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
static int js_num_cmp(const struct js_num *a, const struct js_num *b)
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
        struct js_num x = js_num_of(a, na);
        struct js_num y = js_num_of(b, nb);
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
    const struct json_schema *v_s;
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
    js_excerpt(out, cap, raw, len, JS_EXCERPT);
}

static unsigned js_type_bits(const struct json_tape *t, size_t n);

static bool js_type_ok(const struct json_tape *t, size_t n, unsigned allowed)
{
    enum json_tape_type type = json_tape_type(t, n);
    /* Only "integer" without "number" needs a real's fractional part. */
    if (type == JSON_TAPE_REAL && !(allowed & JS_T_NUMBER))
        return (allowed & JS_T_INTEGER) && (js_type_bits(t, n) & JS_T_INTEGER);
    static const unsigned char bits[] = {
        [JSON_TAPE_NULL] = JS_T_NULL,    [JSON_TAPE_FALSE] = JS_T_BOOLEAN,
        [JSON_TAPE_TRUE] = JS_T_BOOLEAN, [JSON_TAPE_INTEGER] = JS_T_NUMBER | JS_T_INTEGER,
        [JSON_TAPE_REAL] = JS_T_NUMBER,  [JSON_TAPE_STRING] = JS_T_STRING,
        [JSON_TAPE_ARRAY] = JS_T_ARRAY,  [JSON_TAPE_OBJECT] = JS_T_OBJECT,
    };
    return (bits[type] & allowed) != 0;
}

static unsigned js_type_bits(const struct json_tape *t, size_t n)
{
    switch (json_tape_type(t, n)) {
    case JSON_TAPE_NULL:
        return JS_T_NULL;
    case JSON_TAPE_TRUE:
    case JSON_TAPE_FALSE:
        return JS_T_BOOLEAN;
    case JSON_TAPE_INTEGER:
        return JS_T_NUMBER | JS_T_INTEGER;
    case JSON_TAPE_REAL: {
        double d = json_tape_double(t, n);
        /* every double of magnitude >= 2^52 is integral */
        bool integral =
            d >= 4503599627370496.0 || d <= -4503599627370496.0 || d == (double)(int64_t)d;
        return JS_T_NUMBER | (integral ? JS_T_INTEGER : 0u);
    }
    case JSON_TAPE_STRING:
        return JS_T_STRING;
    case JSON_TAPE_ARRAY:
        return JS_T_ARRAY;
    case JSON_TAPE_OBJECT:
        return JS_T_OBJECT;
    }
    return 0;
}

static bool js_fail_type(struct js_vctx *v, unsigned allowed, size_t inst)
{
    if (v->v_err == NULL)
        return false;
    char want[96] = "";
    size_t len = 0;
    for (int k = 0; k < JS_N_TYPES; k++) {
        if (allowed & (1u << k)) {
            int n = snprintf(want + len, sizeof(want) - len, "%s%s", len ? " or " : "",
                             js_type_names[k]);
            if (n > 0 && (size_t)n < sizeof(want) - len)
                len += (size_t)n;
        }
    }
    unsigned got = js_type_bits(v->v_t, inst);
    const char *gname = (got & JS_T_INTEGER) && json_tape_is_integer(v->v_t, inst) ? "integer"
                        : (got & JS_T_NUMBER)                                      ? "number"
                                                                                   : NULL;
    for (int k = 0; gname == NULL && k < JS_N_TYPES; k++) {
        if (got & (1u << k))
            gname = js_type_names[k];
    }
    return js_vfail(v, "expected %s, got %s", want, gname != NULL ? gname : "?");
}

static bool js_check_enum(struct js_vctx *v, const struct js_node *n, size_t inst)
{
    const struct json_schema *s = v->v_s;
    for (uint32_t i = 0; i < n->sn_nenum; i++) {
        if (js_equal(v->v_t, inst, &s->s_ctape, s->s_consts[n->sn_enum + i], 0))
            return true;
    }
    if (v->v_err == NULL)
        return false;
    char ex[JS_EXCERPT + 8];
    char list[96] = "";
    js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
    if (n->sn_nenum > 0) {
        /* The values sit side by side in the constants' array text. */
        size_t l1;
        size_t l2;
        const char *first = json_tape_raw(&s->s_ctape, s->s_consts[n->sn_enum], &l1);
        const char *last =
            json_tape_raw(&s->s_ctape, s->s_consts[n->sn_enum + n->sn_nenum - 1], &l2);
        js_excerpt(list, sizeof(list), first, (size_t)(last + l2 - first), 80);
    }
    return js_vfail(v, "%s is not one of the allowed values [%s]", ex, list);
}

static bool js_check_number(struct js_vctx *v, const struct js_node *n, size_t inst)
{
    const char *pool = v->v_s->s_pool;
    struct js_num x = js_num_of(v->v_t, inst);
    const char *what = NULL;
    const struct js_num *bound = NULL;
    if ((n->sn_kw & JS_KW_MIN) && js_num_cmp(&x, &n->sn_min) < 0) {
        what = "less than minimum";
        bound = &n->sn_min;
    } else if ((n->sn_kw & JS_KW_MAX) && js_num_cmp(&x, &n->sn_max) > 0) {
        what = "greater than maximum";
        bound = &n->sn_max;
    } else if ((n->sn_kw & JS_KW_XMIN) && js_num_cmp(&x, &n->sn_xmin) <= 0) {
        what = "not greater than exclusiveMinimum";
        bound = &n->sn_xmin;
    } else if ((n->sn_kw & JS_KW_XMAX) && js_num_cmp(&x, &n->sn_xmax) >= 0) {
        what = "not less than exclusiveMaximum";
        bound = &n->sn_xmax;
    }
    if (what == NULL)
        return true;
    if (v->v_err == NULL)
        return false;
    char ex[JS_EXCERPT + 8];
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

static bool js_check_string(struct js_vctx *v, const struct js_node *n, size_t inst)
{
    const struct json_schema *s = v->v_s;
    size_t len;
    const char *str = json_tape_string(v->v_t, inst, &len);
    char ex[JS_EXCERPT + 8];
    if (n->sn_kw & (JS_KW_MINLEN | JS_KW_MAXLEN)) {
        uint64_t cps = 0;
        for (size_t i = 0; i < len; i++)
            cps += ((unsigned char)str[i] & 0xC0) != 0x80;
        if ((n->sn_kw & JS_KW_MINLEN) && cps < n->sn_minlen) {
            if (v->v_err != NULL)
                js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
            return js_vfail(v, "%s is shorter than minLength %llu (%llu characters)", ex,
                            (unsigned long long)n->sn_minlen, (unsigned long long)cps);
        }
        if ((n->sn_kw & JS_KW_MAXLEN) && cps > n->sn_maxlen) {
            if (v->v_err != NULL)
                js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
            return js_vfail(v, "%s is longer than maxLength %llu (%llu characters)", ex,
                            (unsigned long long)n->sn_maxlen, (unsigned long long)cps);
        }
    }
    if (n->sn_kw & JS_KW_PATTERN) {
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
            char pat[JS_EXCERPT + 8];
            const char *src = s->s_pool + n->sn_pattern;
            js_excerpt(pat, sizeof(pat), src, strlen(src), JS_EXCERPT);
            return js_vfail(v, "%s does not match pattern \"%s\"", ex, pat);
        }
    }
    if (n->sn_kw & JS_KW_FORMAT) {
        bool ok = n->sn_format == JS_FMT_DATETIME ? js_is_datetime(str, len) : js_is_uuid(str, len);
        if (!ok) {
            if (v->v_err != NULL)
                js_excerpt_node(v->v_t, inst, ex, sizeof(ex));
            return js_vfail(v, "%s is not a valid %s", ex,
                            n->sn_format == JS_FMT_DATETIME ? "date-time (RFC 3339)" : "uuid");
        }
    }
    return true;
}

static bool js_validate(struct js_vctx *v, uint32_t sn, size_t inst, unsigned depth);

static uint32_t js_prop_find(const struct json_schema *s, const struct js_node *n, const char *key,
                             size_t len)
{
    const struct js_prop *p = s->s_props + n->sn_props;
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
    return JS_NONE;
}

/* The first required property missing from `inst`; `seen` holds, for the
 * first 64 properties of the table, those found by a full member scan
 * (when `scanned`). Returns false with the failure recorded. */
static bool js_check_required(struct js_vctx *v, const struct js_node *n, size_t inst,
                              uint64_t seen, bool scanned)
{
    const struct json_schema *s = v->v_s;
    for (uint32_t r = 0; r < n->sn_nreqs; r++) {
        const struct js_req *rq = &s->s_reqs[n->sn_reqs + r];
        const char *name = s->s_pool + rq->rq_name;
        bool present;
        if (scanned && rq->rq_prop < 64)
            present = (seen >> rq->rq_prop) & 1u;
        else
            present = json_tape_object_get(v->v_t, inst, name, rq->rq_len) != JSON_TAPE_NONE;
        if (!present) {
            char ex[JS_EXCERPT + 8];
            js_excerpt(ex, sizeof(ex), name, rq->rq_len, JS_EXCERPT);
            return js_vfail(v, "missing required property \"%s\"", ex);
        }
    }
    return true;
}

static bool js_check_object(struct js_vctx *v, const struct js_node *n, size_t inst, unsigned depth)
{
    const struct json_schema *s = v->v_s;
    const struct json_tape *t = v->v_t;
    if (!(n->sn_kw & (JS_KW_PROPS | JS_KW_ADDL)))
        return js_check_required(v, n, inst, 0, false);
    uint64_t seen = 0;
    struct json_tape_iter it;
    size_t k;
    size_t val;
    json_tape_iter_init(t, inst, &it);
    while (json_tape_object_next(t, &it, &k, &val)) {
        size_t klen;
        const char *key = json_tape_string(t, k, &klen);
        uint32_t pi = n->sn_nprops ? js_prop_find(s, n, key, klen) : JS_NONE;
        uint32_t sub;
        if (pi != JS_NONE) {
            if (pi < 64)
                seen |= (uint64_t)1 << pi;
            sub = s->s_props[n->sn_props + pi].pr_schema;
        } else if (n->sn_kw & JS_KW_ADDL) {
            sub = n->sn_addl;
            if (s->s_nodes[sub].sn_kw == JS_KW_FALSE) {
                /* Object-level failures come first. */
                if (!js_check_required(v, n, inst, 0, false))
                    return false;
                char ex[JS_EXCERPT + 8];
                js_excerpt(ex, sizeof(ex), key, klen, JS_EXCERPT);
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

static bool js_check_items(struct js_vctx *v, const struct js_node *n, size_t inst, unsigned depth)
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
    const struct json_schema *s = v->v_s;
    const struct json_tape *t = v->v_t;
    if (depth > JS_MAX_DEPTH)
        return js_vfail(v, "value nested too deeply to validate");
    enum json_tape_type type = json_tape_type(t, inst);
    /* $ref applies after the node's own keywords: follow it in a loop. */
    for (;;) {
        const struct js_node *n = &s->s_nodes[sn];
        uint32_t kw = n->sn_kw;
        if (kw & JS_KW_FALSE)
            return js_vfail(v, "no value is allowed here (the schema is false)");
        if ((kw & JS_KW_TYPE) && !js_type_ok(t, inst, n->sn_types))
            return js_fail_type(v, n->sn_types, inst);
        if ((kw & JS_KW_CONST) && !js_equal(t, inst, &s->s_ctape, s->s_consts[n->sn_const], 0)) {
            if (v->v_err == NULL)
                return false;
            char ex[JS_EXCERPT + 8];
            char want[JS_EXCERPT + 8];
            js_excerpt_node(t, inst, ex, sizeof(ex));
            js_excerpt_node(&s->s_ctape, s->s_consts[n->sn_const], want, sizeof(want));
            return js_vfail(v, "%s is not equal to const %s", ex, want);
        }
        if ((kw & JS_KW_ENUM) && !js_check_enum(v, n, inst))
            return false;
        switch (type) {
        case JSON_TAPE_STRING:
            if ((kw & JS_KW_STRING) && !js_check_string(v, n, inst))
                return false;
            break;
        case JSON_TAPE_INTEGER:
        case JSON_TAPE_REAL:
            if ((kw & JS_KW_NUMBER) && !js_check_number(v, n, inst))
                return false;
            break;
        case JSON_TAPE_OBJECT:
            if ((kw & JS_KW_OBJECT) && !js_check_object(v, n, inst, depth))
                return false;
            break;
        case JSON_TAPE_ARRAY:
            if ((kw & JS_KW_ITEMS) && !js_check_items(v, n, inst, depth))
                return false;
            break;
        default:
            break;
        }
        if (!(kw & JS_KW_REF))
            return true;
        sn = n->sn_ref;
    }
}

bool json_schema_validate(const struct json_schema *s, const struct json_tape *t, size_t node,
                          struct json_schema_error *err)
{
    struct js_vctx v = {.v_s = s, .v_t = t, .v_err = err};
    if (node >= t->jt_count) {
        js_vfail(&v, "no value to validate");
    } else if (js_validate(&v, 0, node, 0)) {
        return true;
    }
    if (err != NULL) {
        if (v.v_truncated) {
            size_t cur = strlen(err->se_path);
            memmove(err->se_path + 3, err->se_path, cur + 1);
            memcpy(err->se_path, "...", 3);
        }
        js_err_text(err);
    }
    return false;
}
