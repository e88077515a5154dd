/*
 * json_schema_compile: one recursive pass over each jansson schema, keyword
 * by keyword, that appends nodes to the set (json_schema_model.h) while it
 * tracks the JSON pointer of the value being compiled (for errors), its
 * document, base URI and schema resource. Every document the set reads is
 * scanned once, following schema positions only, for its "$id", "$anchor"
 * and "$dynamicAnchor" (a registry from absolute URI to value); every
 * schema value compiles at most once (a map from value to node). $ref and
 * $dynamicRef are collected while compiling and resolved by
 * json_schema_compile_finish, which compiles their targets (loading
 * documents through the caller's loader) until nothing is left, then
 * refuses cycles of in-place applicators. enum/const values are serialized
 * last. Every step is linear or n log n in the documents: properties and
 * required names are sorted, not compared pairwise; maps are hashed.
 */
#include "ssemon/json/json_schema_compile.h"
#include "ssemon/base/numfmt.h"
#include "ssemon/json/ecma_regex.h"
#include "ssemon/json/json_format.h"
#include "ssemon/json/json_schema_model.h"
#include "ssemon/json/json_uri.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The root document's base URI when the caller gives none. */
#define JSC_PLACEHOLDER_URI "ssemon:root"
/* Bytes of a URI quoted in an error. */
#define JSC_URI_EXCERPT 120

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

/* ---- compiler state ---- */

struct jsc_doc {
    const char *d_uri; /* owned by c_strs */
    const json_t *d_root;
};

/* What the scan learnt of a schema object. */
struct jsc_info {
    uint32_t in_doc;
    uint32_t in_res;
    const char *in_ptr;  /* JSON pointer in its document */
    const char *in_base; /* base URI inside it (after its own $id) */
    uint32_t in_node;    /* compiled node, or JSM_NONE */
};

/* An absolute URI a schema value is known by. */
struct jsc_target {
    const char *t_uri;
    const json_t *t_j;
    uint32_t t_doc;
    const char *t_ptr;
    const char *t_base;
    uint32_t t_res;
};

struct jsc_pending {
    uint32_t pd_node;
    bool pd_dynamic;
    const char *pd_uri;  /* resolved, absolute */
    const char *pd_path; /* of the keyword, for errors */
    uint32_t pd_doc;
};

struct jsc_danchor {
    uint32_t ca_res;
    const char *ca_name;
    const json_t *ca_j;
    uint32_t ca_doc;
    const char *ca_ptr;
    const char *ca_base;
    bool ca_done; /* compiled */
};

/* Open addressing from a pointer to an index. */
struct jsc_pmap {
    const void **pm_key;
    uint32_t *pm_val;
    size_t pm_cap;
    size_t pm_n;
};

/* Open addressing from a URI to an index of c_targets. */
struct jsc_smap {
    uint32_t *sm_val;
    size_t sm_cap;
    size_t sm_n;
};

struct jsc_compiler {
    struct json_schema_set *c_s;
    const json_t *c_root;
    struct json_schema_limits c_lim;
    json_schema_load_fn c_load;
    void *c_load_ctx;
    size_t c_depth;        /* of the schema being compiled: 1 for an entry or a target */
    size_t c_outer_path;   /* length of c_path at that entry or target */
    uint32_t *c_regex_src; /* pool offset of each regex's source, for sharing */
    size_t c_capregex_src;
    struct jsc_buf c_path;   /* pointer of the schema value being compiled */
    uint32_t c_doc;          /* its document */
    const char *c_base;      /* its base URI */
    uint32_t c_res;          /* its schema resource */
    const json_t **c_consts; /* borrowed, by constant index */
    size_t c_nconsts;
    size_t c_capconsts;
    struct jsc_doc *c_docs;
    size_t c_ndocs;
    size_t c_capdocs;
    struct jsc_info *c_infos;
    size_t c_ninfos;
    size_t c_capinfos;
    struct jsc_pmap c_pmap;
    struct jsc_target *c_targets;
    size_t c_ntargets;
    size_t c_captargets;
    struct jsc_smap c_smap;
    char **c_strs; /* every string the compiler owns */
    size_t c_nstrs;
    size_t c_capstrs;
    uint32_t c_nres;
    uint8_t *c_live; /* by resource: some node of it is compiled */
    size_t c_caplive;
    struct jsc_pending *c_pending;
    size_t c_npending;
    size_t c_cappending;
    struct jsc_danchor *c_danchors;
    size_t c_ndanchors;
    size_t c_capdanchors;
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
    const char *uri = c->c_doc > 0 && c->c_doc < c->c_ndocs ? c->c_docs[c->c_doc].d_uri : "";
    snprintf(c->c_err->se_uri, sizeof(c->c_err->se_uri), "%s", uri);
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

/* Sets the error path to `path` (a NUL-terminated pointer). */
static bool jsc_set_path(struct jsc_compiler *c, const char *path)
{
    jsc_buf_cut(&c->c_path, 0);
    if (jsc_buf_add(&c->c_path, path, strlen(path)))
        return true;
    jsc_nomem(c);
    return false;
}

/* A copy of s[0..len) the compiler owns, or NULL (error recorded). */
static const char *jsc_strdup(struct jsc_compiler *c, const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p == NULL ||
        !jsc_reserve((void **)&c->c_strs, &c->c_capstrs, c->c_nstrs + 1, sizeof(*c->c_strs))) {
        free(p);
        jsc_nomem(c);
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    c->c_strs[c->c_nstrs++] = p;
    return p;
}

/* ---- maps ---- */

static uint64_t jsc_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t jsc_hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static uint32_t jsc_pmap_get(const struct jsc_pmap *m, const void *key)
{
    if (m->pm_cap == 0)
        return JSM_NONE;
    size_t mask = m->pm_cap - 1;
    for (size_t i = jsc_hash_ptr(key) & mask;; i = (i + 1) & mask) {
        if (m->pm_key[i] == NULL)
            return JSM_NONE;
        if (m->pm_key[i] == key)
            return m->pm_val[i];
    }
}

static bool jsc_pmap_put(struct jsc_pmap *m, const void *key, uint32_t val)
{
    if ((m->pm_n + 1) * 2 > m->pm_cap) {
        size_t cap = m->pm_cap ? m->pm_cap * 2 : 64;
        const void **keys = calloc(cap, sizeof(*keys));
        uint32_t *vals = calloc(cap, sizeof(*vals));
        if (keys == NULL || vals == NULL) {
            free(keys);
            free(vals);
            return false;
        }
        for (size_t i = 0; i < m->pm_cap; i++) {
            if (m->pm_key[i] == NULL)
                continue;
            size_t j = jsc_hash_ptr(m->pm_key[i]) & (cap - 1);
            while (keys[j] != NULL)
                j = (j + 1) & (cap - 1);
            keys[j] = m->pm_key[i];
            vals[j] = m->pm_val[i];
        }
        free(m->pm_key);
        free(m->pm_val);
        m->pm_key = keys;
        m->pm_val = vals;
        m->pm_cap = cap;
    }
    size_t mask = m->pm_cap - 1;
    size_t i = jsc_hash_ptr(key) & mask;
    while (m->pm_key[i] != NULL && m->pm_key[i] != key)
        i = (i + 1) & mask;
    if (m->pm_key[i] == NULL)
        m->pm_n++;
    m->pm_key[i] = key;
    m->pm_val[i] = val;
    return true;
}

/* The target known by `uri` (len bytes), or NULL. */
static const struct jsc_target *jsc_target_get(const struct jsc_compiler *c, const char *uri,
                                               size_t len)
{
    const struct jsc_smap *m = &c->c_smap;
    if (m->sm_cap == 0)
        return NULL;
    size_t mask = m->sm_cap - 1;
    for (size_t i = jsc_hash_bytes(uri, len) & mask;; i = (i + 1) & mask) {
        if (m->sm_val[i] == JSM_NONE)
            return NULL;
        const struct jsc_target *t = &c->c_targets[m->sm_val[i]];
        if (strlen(t->t_uri) == len && memcmp(t->t_uri, uri, len) == 0)
            return t;
    }
}

static bool jsc_smap_insert(struct jsc_smap *m, const struct jsc_target *targets, uint32_t idx)
{
    size_t mask = m->sm_cap - 1;
    const char *uri = targets[idx].t_uri;
    size_t i = jsc_hash_bytes(uri, strlen(uri)) & mask;
    while (m->sm_val[i] != JSM_NONE)
        i = (i + 1) & mask;
    m->sm_val[i] = idx;
    m->sm_n++;
    return true;
}

/* Registers `uri` for the value (the first registration of a URI wins). */
static bool jsc_target_add(struct jsc_compiler *c, const char *uri, const json_t *j, uint32_t doc,
                           const char *ptr, const char *base, uint32_t res)
{
    if (jsc_target_get(c, uri, strlen(uri)) != NULL)
        return true;
    struct jsc_smap *m = &c->c_smap;
    if ((m->sm_n + 1) * 2 > m->sm_cap) {
        size_t cap = m->sm_cap ? m->sm_cap * 2 : 64;
        uint32_t *vals = malloc(cap * sizeof(*vals));
        if (vals == NULL) {
            jsc_nomem(c);
            return false;
        }
        memset(vals, 0xff, cap * sizeof(*vals));
        free(m->sm_val);
        m->sm_val = vals;
        m->sm_cap = cap;
        m->sm_n = 0;
        for (size_t i = 0; i < c->c_ntargets; i++)
            jsc_smap_insert(m, c->c_targets, (uint32_t)i);
    }
    if (!jsc_reserve((void **)&c->c_targets, &c->c_captargets, c->c_ntargets + 1,
                     sizeof(*c->c_targets))) {
        jsc_nomem(c);
        return false;
    }
    struct jsc_target *t = &c->c_targets[c->c_ntargets];
    t->t_uri = uri;
    t->t_j = j;
    t->t_doc = doc;
    t->t_ptr = ptr;
    t->t_base = base;
    t->t_res = res;
    return jsc_smap_insert(m, c->c_targets, (uint32_t)c->c_ntargets++);
}

/* ---- set building blocks ---- */

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
    n->sn_ref = n->sn_dref = n->sn_dname = n->sn_items = n->sn_addl = JSM_NONE;
    n->sn_not = n->sn_if = n->sn_then = n->sn_else = n->sn_contains = JSM_NONE;
    n->sn_pnames = n->sn_uprops = n->sn_uitems = JSM_NONE;
    n->sn_const = n->sn_regex = JSM_NONE;
    n->sn_mincont = 1;
    n->sn_maxcont = UINT64_MAX;
    n->sn_res = c->c_res;
    if (c->c_res >= c->c_caplive) {
        size_t old = c->c_caplive;
        if (!jsc_reserve((void **)&c->c_live, &c->c_caplive, (size_t)c->c_res + 1, 1))
            return jsc_nomem(c);
        memset(c->c_live + old, 0, c->c_caplive - old);
    }
    c->c_live[c->c_res] = 1;
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

/* Reserves `count` consecutive entries of a side array, returning the
 * first; they are filled while subschemas add their own after them. */
static bool jsc_side_reserve(struct jsc_compiler *c, void **arr, size_t *n, size_t *cap,
                             size_t count, size_t elem, uint32_t *first)
{
    if (*n + count >= UINT32_MAX || !jsc_reserve(arr, cap, *n + count, elem)) {
        jsc_nomem(c);
        return false;
    }
    *first = (uint32_t)*n;
    *n += count;
    return true;
}

/* ---- scanning documents for identifiers ---- */

/* Keywords whose value is one subschema, an object of them, an array of
 * them: where identifiers may be, and what the compiler descends into. */
static const char *const jsc_sub_one[] = {"items",
                                          "additionalProperties",
                                          "not",
                                          "if",
                                          "then",
                                          "else",
                                          "contains",
                                          "propertyNames",
                                          "unevaluatedItems",
                                          "unevaluatedProperties",
                                          NULL};
static const char *const jsc_sub_map[] = {"properties",  "patternProperties", "$defs",
                                          "definitions", "dependentSchemas",  NULL};
static const char *const jsc_sub_list[] = {"allOf", "anyOf", "oneOf", "prefixItems", NULL};

/* Whether `name` is a valid anchor name: [A-Za-z_][-A-Za-z0-9._]*. */
static bool jsc_anchor_name_ok(const char *name, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
        bool more = (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
        if (!alpha && (i == 0 || !more))
            return false;
    }
    return true;
}

/* Registers "base#name" for `j`. */
static bool jsc_scan_anchor(struct jsc_compiler *c, const json_t *j, const json_t *name,
                            const struct jsc_info *in, bool dynamic)
{
    if (!json_is_string(name) ||
        !jsc_anchor_name_ok(json_string_value(name), json_string_length(name)))
        return true; /* refused when the keyword compiles */
    size_t blen = strlen(in->in_base);
    size_t nlen = json_string_length(name);
    char *uri = malloc(blen + nlen + 2);
    if (uri == NULL) {
        jsc_nomem(c);
        return false;
    }
    snprintf(uri, blen + nlen + 2, "%s#%s", in->in_base, json_string_value(name));
    const char *owned = jsc_strdup(c, uri, strlen(uri));
    free(uri);
    if (owned == NULL ||
        !jsc_target_add(c, owned, j, in->in_doc, in->in_ptr, in->in_base, in->in_res))
        return false;
    if (!dynamic)
        return true;
    if (!jsc_reserve((void **)&c->c_danchors, &c->c_capdanchors, c->c_ndanchors + 1,
                     sizeof(*c->c_danchors))) {
        jsc_nomem(c);
        return false;
    }
    struct jsc_danchor *da = &c->c_danchors[c->c_ndanchors++];
    da->ca_res = in->in_res;
    da->ca_name = json_string_value(name);
    da->ca_j = j;
    da->ca_doc = in->in_doc;
    da->ca_ptr = in->in_ptr;
    da->ca_base = in->in_base;
    da->ca_done = false;
    return true;
}

static bool jsc_scan(struct jsc_compiler *c, const json_t *j, uint32_t doc, const char *base,
                     uint32_t res, size_t depth);

static bool jsc_scan_sub(struct jsc_compiler *c, const json_t *j, const char *seg1,
                         const char *seg2, size_t seg2len, const struct jsc_info *in, size_t depth)
{
    size_t keep = c->c_path.b_len;
    if (!jsc_buf_seg(&c->c_path, seg1, strlen(seg1)) ||
        (seg2 != NULL && !jsc_buf_seg(&c->c_path, seg2, seg2len))) {
        jsc_nomem(c);
        return false;
    }
    bool ok = jsc_scan(c, j, in->in_doc, in->in_base, in->in_res, depth + 1);
    jsc_buf_cut(&c->c_path, keep);
    return ok;
}

/* Records what `j` (at c_path in document `doc`) and its subschemas are
 * known by. A value already scanned is left as it is. */
static bool jsc_scan(struct jsc_compiler *c, const json_t *j, uint32_t doc, const char *base,
                     uint32_t res, size_t depth)
{
    if (!json_is_object(j) || depth > c->c_lim.sl_depth + 1)
        return true;
    if (jsc_pmap_get(&c->c_pmap, j) != JSM_NONE)
        return true;
    const char *ptr = jsc_strdup(c, jsc_buf_str(&c->c_path), c->c_path.b_len);
    if (ptr == NULL)
        return false;
    const json_t *id = json_object_get(j, "$id");
    if (json_is_string(id)) {
        char uri[JSON_SCHEMA_URI_MAX];
        if (!json_uri_resolve(base, json_string_value(id), json_string_length(id), uri,
                              sizeof(uri))) {
            jsc_cerr(c, "$id", "\"$id\" makes a URI longer than %d bytes", JSON_SCHEMA_URI_MAX - 1);
            return false;
        }
        uri[json_uri_strip_fragment(uri)] = '\0';
        base = jsc_strdup(c, uri, strlen(uri));
        res = c->c_nres++;
        if (base == NULL || !jsc_target_add(c, base, j, doc, ptr, base, res))
            return false;
    }
    if (!jsc_reserve((void **)&c->c_infos, &c->c_capinfos, c->c_ninfos + 1, sizeof(*c->c_infos)) ||
        !jsc_pmap_put(&c->c_pmap, j, (uint32_t)c->c_ninfos)) {
        jsc_nomem(c);
        return false;
    }
    struct jsc_info in = {
        .in_doc = doc, .in_res = res, .in_ptr = ptr, .in_base = base, .in_node = JSM_NONE};
    c->c_infos[c->c_ninfos++] = in;
    if (!jsc_scan_anchor(c, j, json_object_get(j, "$anchor"), &in, false) ||
        !jsc_scan_anchor(c, j, json_object_get(j, "$dynamicAnchor"), &in, true))
        return false;
    for (size_t k = 0; jsc_sub_one[k] != NULL; k++) {
        const json_t *v = json_object_get(j, jsc_sub_one[k]);
        if (v != NULL && !jsc_scan_sub(c, v, jsc_sub_one[k], NULL, 0, &in, depth))
            return false;
    }
    for (size_t k = 0; jsc_sub_map[k] != NULL; k++) {
        const json_t *v = json_object_get(j, jsc_sub_map[k]);
        const char *key;
        const json_t *sub;
        if (!json_is_object(v))
            continue;
        json_object_foreach((json_t *)v, key, sub)
        {
            if (!jsc_scan_sub(c, sub, jsc_sub_map[k], key, strlen(key), &in, depth))
                return false;
        }
    }
    for (size_t k = 0; jsc_sub_list[k] != NULL; k++) {
        const json_t *v = json_object_get(j, jsc_sub_list[k]);
        for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
            char num[24];
            int n = snprintf(num, sizeof(num), "%zu", i);
            if (!jsc_scan_sub(c, json_array_get(v, i), jsc_sub_list[k], num, (size_t)n, &in, depth))
                return false;
        }
    }
    return true;
}

/* Adds a document known by `uri` (fragment stripped) and scans it. */
static uint32_t jsc_doc_add(struct jsc_compiler *c, const char *uri, size_t len, const json_t *root)
{
    if (c->c_ndocs >= c->c_lim.sl_documents)
        return jsc_cerr(c, NULL, "more than %zu documents in all (the limit)",
                        c->c_lim.sl_documents);
    if (len >= JSON_SCHEMA_URI_MAX)
        return jsc_cerr(c, NULL, "a document URI longer than %d bytes", JSON_SCHEMA_URI_MAX - 1);
    const char *owned = jsc_strdup(c, uri, len);
    if (owned == NULL ||
        !jsc_reserve((void **)&c->c_docs, &c->c_capdocs, c->c_ndocs + 1, sizeof(*c->c_docs)))
        return jsc_nomem(c);
    uint32_t doc = (uint32_t)c->c_ndocs++;
    c->c_docs[doc].d_uri = owned;
    c->c_docs[doc].d_root = root;
    uint32_t res = c->c_nres++;
    /* the path of whatever asked for the document, for its errors */
    const char *saved_path = jsc_strdup(c, jsc_buf_str(&c->c_path), c->c_path.b_len);
    if (saved_path == NULL)
        return JSM_NONE;
    uint32_t saved_doc = c->c_doc;
    jsc_buf_cut(&c->c_path, 0);
    c->c_doc = doc;
    bool ok = jsc_target_add(c, owned, root, doc, "", owned, res) &&
              jsc_scan(c, root, doc, owned, res, 0);
    if (!ok)
        return JSM_NONE; /* the error is where the scan was */
    c->c_doc = saved_doc;
    return jsc_set_path(c, saved_path) ? doc : JSM_NONE;
}

static uint32_t jsc_doc_find(const struct jsc_compiler *c, const char *uri, size_t len)
{
    for (size_t i = 0; i < c->c_ndocs; i++) {
        if (strlen(c->c_docs[i].d_uri) == len && memcmp(c->c_docs[i].d_uri, uri, len) == 0)
            return (uint32_t)i;
    }
    return JSM_NONE;
}

/* ---- keywords ---- */

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

static bool jsc_kw_properties(struct jsc_compiler *c, uint32_t node, const json_t *v)
{
    struct json_schema_set *s = c->c_s;
    if (!json_is_object(v)) {
        jsc_cerr(c, "properties", "\"properties\" must be an object");
        return false;
    }
    size_t count = json_object_size(v);
    uint32_t first;
    if (!jsc_side_reserve(c, (void **)&s->s_props, &s->s_nprops, &s->s_capprops, count,
                          sizeof(*s->s_props), &first))
        return false;
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
    if (count > 1)
        qsort_r(s->s_props + first, count, sizeof(*s->s_props), jsc_prop_cmp, s->s_pool);
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

/* A list of distinct property names at the current path + `seg`
 * ("required", or a dependentRequired entry), appended to s_reqs. */
static bool jsc_required_list(struct jsc_compiler *c, const char *seg, const json_t *v,
                              uint32_t *pfirst, uint32_t *pcount)
{
    struct json_schema_set *s = c->c_s;
    if (!json_is_array(v)) {
        jsc_cerr(c, seg, "\"%s\" must be an array of strings", seg);
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
            if (!jsc_buf_seg(&c->c_path, seg, strlen(seg)) || !jsc_buf_index(&c->c_path, i)) {
                jsc_buf_cut(&c->c_path, keep);
                jsc_nomem(c);
                return false;
            }
            jsc_cerr(c, NULL, "\"%s\" items must be strings", seg);
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
        jsc_cerr(c, seg, "\"%s\" lists \"%s\" twice", seg, ex);
        return false;
    }
    *pfirst = first;
    *pcount = (uint32_t)count;
    return true;
}

static bool jsc_kw_required(struct jsc_compiler *c, uint32_t node, const json_t *v)
{
    uint32_t first;
    uint32_t count;
    if (!jsc_required_list(c, "required", v, &first, &count))
        return false;
    struct jsm_node *n = &c->c_s->s_nodes[node];
    n->sn_reqs = first;
    n->sn_nreqs = count;
    if (count > 0)
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

/* The regex of pattern `src` (shared by every use of the same source),
 * or JSM_NONE with the error recorded at the current path + seg1/seg2. */
static uint32_t jsc_regex(struct jsc_compiler *c, const char *src, size_t len, const char *seg1,
                          const char *seg2)
{
    struct json_schema_set *s = c->c_s;
    size_t keep = c->c_path.b_len;
    if (!jsc_buf_seg(&c->c_path, seg1, strlen(seg1)) ||
        (seg2 != NULL && !jsc_buf_seg(&c->c_path, seg2, strlen(seg2)))) {
        jsc_buf_cut(&c->c_path, keep);
        return jsc_nomem(c);
    }
    uint32_t result = JSM_NONE;
    if (strlen(src) != len) {
        jsc_cerr(c, NULL, "a pattern must not contain U+0000");
        goto out;
    }
    /* A source seen before shares its regex: one compile per distinct
     * pattern, which is what the limit counts. */
    for (size_t i = 0; i < s->s_nregex; i++) {
        if (strcmp(s->s_pool + c->c_regex_src[i], src) == 0) {
            result = (uint32_t)i;
            goto out;
        }
    }
    if (s->s_nregex >= c->c_lim.sl_patterns) {
        jsc_cerr(c, NULL, "more than %zu different patterns in all (the limit)",
                 c->c_lim.sl_patterns);
        goto out;
    }
    struct ecma_regex *re = NULL;
    char why[ECMA_REGEX_WHY_MAX];
    enum ecma_regex_status st = ecma_regex_compile(&re, src, len, why, sizeof(why));
    if (st != ECMA_REGEX_OK) {
        char ex[JSM_EXCERPT + 8];
        jsm_excerpt(ex, sizeof(ex), src, len, JSM_EXCERPT);
        if (st == ECMA_REGEX_INVALID)
            jsc_cerr(c, NULL, "invalid pattern \"%s\": %s", ex, why);
        else
            jsc_cerr(c, NULL, "pattern \"%s\" refused: %s", ex, why);
        goto out;
    }
    uint32_t off = jsc_pool_add(c, src, len);
    if (off == JSM_NONE ||
        !jsc_reserve((void **)&s->s_regex, &s->s_capregex, s->s_nregex + 1, sizeof(*s->s_regex)) ||
        !jsc_reserve((void **)&c->c_regex_src, &c->c_capregex_src, s->s_nregex + 1,
                     sizeof(*c->c_regex_src))) {
        ecma_regex_free(re);
        if (!c->c_failed)
            jsc_nomem(c);
        goto out;
    }
    s->s_regex[s->s_nregex] = re;
    c->c_regex_src[s->s_nregex] = off;
    result = (uint32_t)s->s_nregex++;
out:
    jsc_buf_cut(&c->c_path, keep);
    return result;
}

static bool jsc_kw_pattern(struct jsc_compiler *c, struct jsm_node *n, const json_t *v)
{
    if (!json_is_string(v)) {
        jsc_cerr(c, "pattern", "\"pattern\" must be a string");
        return false;
    }
    uint32_t nidx = (uint32_t)(n - c->c_s->s_nodes);
    uint32_t re = jsc_regex(c, json_string_value(v), json_string_length(v), "pattern", NULL);
    if (re == JSM_NONE)
        return false;
    n = &c->c_s->s_nodes[nidx];
    n->sn_regex = re;
    n->sn_pattern = c->c_regex_src[re];
    n->sn_kw |= JSM_KW_PATTERN;
    return true;
}

static bool jsc_kw_pattern_properties(struct jsc_compiler *c, uint32_t node, const json_t *v)
{
    struct json_schema_set *s = c->c_s;
    if (!json_is_object(v)) {
        jsc_cerr(c, "patternProperties", "\"patternProperties\" must be an object");
        return false;
    }
    size_t count = json_object_size(v);
    uint32_t first;
    if (!jsc_side_reserve(c, (void **)&s->s_pprops, &s->s_npprops, &s->s_cappprops, count,
                          sizeof(*s->s_pprops), &first))
        return false;
    uint32_t i = 0;
    const char *key;
    const json_t *sub;
    json_object_foreach((json_t *)v, key, sub)
    {
        uint32_t re = jsc_regex(c, key, strlen(key), "patternProperties", key);
        if (re == JSM_NONE)
            return false;
        uint32_t idx = jsc_compile_sub(c, sub, "patternProperties", key);
        if (idx == JSM_NONE)
            return false;
        s->s_pprops[first + i].pp_regex = re;
        s->s_pprops[first + i].pp_schema = idx;
        i++;
    }
    s->s_nodes[node].sn_pprops = first;
    s->s_nodes[node].sn_npprops = (uint32_t)count;
    if (count > 0)
        s->s_nodes[node].sn_kw |= JSM_KW_PPROPS;
    return true;
}

/* The one place a format name is looked up (json_format). */
static bool jsc_kw_format(struct jsc_compiler *c, struct jsm_node *n, const json_t *v)
{
    const char *f = json_string_value(v);
    if (f == NULL) {
        jsc_cerr(c, "format", "\"format\" must be a string");
        return false;
    }
    enum json_format id = strlen(f) == json_string_length(v) ? json_format_lookup(f) : 0;
    if (id == 0) {
        char ex[JSM_EXCERPT + 8];
        char known[256] = "";
        size_t at = 0;
        for (int k = JSON_FORMAT_DATE_TIME; json_format_name((enum json_format)k) != NULL; k++) {
            int w = snprintf(known + at, sizeof(known) - at, "%s%s", at ? ", " : "",
                             json_format_name((enum json_format)k));
            if (w < 0 || (size_t)w >= sizeof(known) - at)
                break;
            at += (size_t)w;
        }
        jsm_excerpt(ex, sizeof(ex), f, strlen(f), JSM_EXCERPT);
        jsc_cerr(c, "format", "unsupported format \"%s\" (supported: %s)", ex, known);
        return false;
    }
    n->sn_format = (uint8_t)id;
    n->sn_kw |= JSM_KW_FORMAT;
    return true;
}

/* multipleOf: a number > 0, kept as a decimal from its shortest text. */
static bool jsc_kw_multiple(struct jsc_compiler *c, uint32_t node, const json_t *v)
{
    if (!json_is_number(v) || json_number_value(v) <= 0) {
        jsc_cerr(c, "multipleOf", "\"multipleOf\" must be a number greater than 0");
        return false;
    }
    char text[NUMFMT_DOUBLE_MAX + 8];
    if (json_is_integer(v))
        snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
    else
        numfmt_double(text, sizeof(text), json_real_value(v), 1);
    uint64_t mant = 0;
    int64_t exp = 0;
    const char *p = text;
    bool frac = false;
    for (; *p != '\0' && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            frac = true;
            continue;
        }
        mant = mant * 10 + (uint64_t)(*p - '0');
        if (frac)
            exp--;
    }
    if (*p == 'e' || *p == 'E')
        exp += strtol(p + 1, NULL, 10);
    while (mant != 0 && mant % 10 == 0) {
        mant /= 10;
        exp++;
    }
    struct jsm_dec *d = &c->c_s->s_nodes[node].sn_mult;
    d->dm_mant = mant;
    d->dm_exp = (int32_t)exp;
    /* the text quoted in messages is the plain one */
    if (json_is_real(v))
        numfmt_double(text, sizeof(text), json_real_value(v), 15);
    uint32_t off = jsc_pool_add(c, text, strlen(text));
    if (off == JSM_NONE)
        return false;
    d = &c->c_s->s_nodes[node].sn_mult;
    d->dm_text = off;
    c->c_s->s_nodes[node].sn_kw |= JSM_KW_MULTIPLE;
    return true;
}

/* allOf, anyOf, oneOf, prefixItems: a non-empty array of schemas. */
static bool jsc_kw_list(struct jsc_compiler *c, const char *kw, const json_t *v, uint32_t *first,
                        uint32_t *count)
{
    struct json_schema_set *s = c->c_s;
    if (!json_is_array(v) || json_array_size(v) == 0) {
        jsc_cerr(c, kw, "\"%s\" must be a non-empty array of schemas", kw);
        return false;
    }
    size_t n = json_array_size(v);
    uint32_t at;
    if (!jsc_side_reserve(c, (void **)&s->s_subs, &s->s_nsubs, &s->s_capsubs, n, sizeof(*s->s_subs),
                          &at))
        return false;
    for (size_t i = 0; i < n; i++) {
        char num[24];
        snprintf(num, sizeof(num), "%zu", i);
        uint32_t idx = jsc_compile_sub(c, json_array_get(v, i), kw, num);
        if (idx == JSM_NONE)
            return false;
        s->s_subs[at + i] = idx;
    }
    *first = at;
    *count = (uint32_t)n;
    return true;
}

/* dependentRequired (an object of arrays of names) or dependentSchemas
 * (an object of schemas). */
static bool jsc_kw_dependent(struct jsc_compiler *c, uint32_t node, const char *kw, const json_t *v,
                             bool schemas)
{
    struct json_schema_set *s = c->c_s;
    if (!json_is_object(v)) {
        jsc_cerr(c, kw, "\"%s\" must be an object", kw);
        return false;
    }
    if (schemas ? s->s_nodes[node].sn_ndsch > 0 : s->s_nodes[node].sn_ndeps > 0) {
        jsc_cerr(c, kw, "\"%s\" together with \"dependencies\": use only \"%s\"", kw, kw);
        return false;
    }
    size_t count = json_object_size(v);
    uint32_t first;
    if (!jsc_side_reserve(c, (void **)&s->s_deps, &s->s_ndeps, &s->s_capdeps, count,
                          sizeof(*s->s_deps), &first))
        return false;
    uint32_t i = 0;
    const char *key;
    const json_t *sub;
    json_object_foreach((json_t *)v, key, sub)
    {
        uint32_t name = jsc_pool_add(c, key, strlen(key));
        if (name == JSM_NONE)
            return false;
        struct jsm_dep dep = {
            .dp_name = name, .dp_len = (uint32_t)strlen(key), .dp_schema = JSM_NONE};
        if (schemas) {
            dep.dp_schema = jsc_compile_sub(c, sub, kw, key);
            if (dep.dp_schema == JSM_NONE)
                return false;
        } else {
            size_t keep = c->c_path.b_len;
            if (!jsc_buf_seg(&c->c_path, kw, strlen(kw))) {
                jsc_nomem(c);
                return false;
            }
            /* the same rules as "required", at its own path */
            uint32_t before = (uint32_t)s->s_nreqs;
            bool ok = jsc_required_list(c, key, sub, &dep.dp_reqs, &dep.dp_nreqs);
            jsc_buf_cut(&c->c_path, keep);
            if (!ok)
                return false;
            (void)before;
        }
        s->s_deps[first + i++] = dep;
    }
    struct jsm_node *n = &s->s_nodes[node];
    if (schemas) {
        n->sn_dsch = first;
        n->sn_ndsch = (uint32_t)count;
        if (count > 0)
            n->sn_kw |= JSM_KW_INPLACE;
    } else {
        n->sn_deps = first;
        n->sn_ndeps = (uint32_t)count;
        if (count > 0)
            n->sn_kw |= JSM_KW_DEPREQ;
    }
    return true;
}

/* The legacy "dependencies" (draft 7): an array is dependentRequired's,
 * a schema dependentSchemas'. */
static bool jsc_kw_dependencies(struct jsc_compiler *c, uint32_t node, const json_t *v)
{
    struct json_schema_set *s = c->c_s;
    if (!json_is_object(v)) {
        jsc_cerr(c, "dependencies", "\"dependencies\" must be an object");
        return false;
    }
    size_t na = 0;
    size_t ns = 0;
    const char *key;
    const json_t *sub;
    json_object_foreach((json_t *)v, key, sub)
    {
        if (json_is_array(sub))
            na++;
        else
            ns++;
    }
    if ((na > 0 && s->s_nodes[node].sn_ndeps > 0) || (ns > 0 && s->s_nodes[node].sn_ndsch > 0)) {
        jsc_cerr(c, "dependencies",
                 "\"dependencies\" together with \"dependentRequired\" or \"dependentSchemas\": "
                 "use only these");
        return false;
    }
    uint32_t fa;
    uint32_t fs;
    if (!jsc_side_reserve(c, (void **)&s->s_deps, &s->s_ndeps, &s->s_capdeps, na,
                          sizeof(*s->s_deps), &fa) ||
        !jsc_side_reserve(c, (void **)&s->s_deps, &s->s_ndeps, &s->s_capdeps, ns,
                          sizeof(*s->s_deps), &fs))
        return false;
    uint32_t ia = 0;
    uint32_t is = 0;
    json_object_foreach((json_t *)v, key, sub)
    {
        uint32_t name = jsc_pool_add(c, key, strlen(key));
        if (name == JSM_NONE)
            return false;
        struct jsm_dep dep = {
            .dp_name = name, .dp_len = (uint32_t)strlen(key), .dp_schema = JSM_NONE};
        if (json_is_array(sub)) {
            size_t keep = c->c_path.b_len;
            if (!jsc_buf_seg(&c->c_path, "dependencies", 12)) {
                jsc_nomem(c);
                return false;
            }
            bool ok = jsc_required_list(c, key, sub, &dep.dp_reqs, &dep.dp_nreqs);
            jsc_buf_cut(&c->c_path, keep);
            if (!ok)
                return false;
            s->s_deps[fa + ia++] = dep;
        } else {
            dep.dp_schema = jsc_compile_sub(c, sub, "dependencies", key);
            if (dep.dp_schema == JSM_NONE)
                return false;
            s->s_deps[fs + is++] = dep;
        }
    }
    struct jsm_node *n = &s->s_nodes[node];
    if (na > 0) {
        n->sn_deps = fa;
        n->sn_ndeps = (uint32_t)na;
        n->sn_kw |= JSM_KW_DEPREQ;
    }
    if (ns > 0) {
        n->sn_dsch = fs;
        n->sn_ndsch = (uint32_t)ns;
        n->sn_kw |= JSM_KW_INPLACE;
    }
    return true;
}

/* $ref or $dynamicRef: resolved against the base URI now, looked up when
 * the set is finished. */
static bool jsc_kw_ref(struct jsc_compiler *c, uint32_t node, const char *kw, const json_t *v)
{
    if (!json_is_string(v)) {
        jsc_cerr(c, kw, "\"%s\" must be a string", kw);
        return false;
    }
    char uri[JSON_SCHEMA_URI_MAX];
    if (!json_uri_resolve(c->c_base, json_string_value(v), json_string_length(v), uri,
                          sizeof(uri))) {
        jsc_cerr(c, kw, "\"%s\" makes a URI longer than %d bytes", kw, JSON_SCHEMA_URI_MAX - 1);
        return false;
    }
    size_t keep = c->c_path.b_len;
    if (!jsc_buf_seg(&c->c_path, kw, strlen(kw))) {
        jsc_nomem(c);
        return false;
    }
    const char *path = jsc_strdup(c, jsc_buf_str(&c->c_path), c->c_path.b_len);
    jsc_buf_cut(&c->c_path, keep);
    const char *owned = path != NULL ? jsc_strdup(c, uri, strlen(uri)) : NULL;
    if (owned == NULL)
        return false;
    if (!jsc_reserve((void **)&c->c_pending, &c->c_cappending, c->c_npending + 1,
                     sizeof(*c->c_pending))) {
        jsc_nomem(c);
        return false;
    }
    bool dynamic = kw[1] == 'd';
    struct jsc_pending *pd = &c->c_pending[c->c_npending++];
    pd->pd_node = node;
    pd->pd_dynamic = dynamic;
    pd->pd_uri = owned;
    pd->pd_path = path;
    pd->pd_doc = c->c_doc;
    c->c_s->s_nodes[node].sn_kw |= dynamic ? JSM_KW_DYNREF : JSM_KW_REF;
    return true;
}

/* Compiles every entry of a "definitions"/"$defs" object: checked, and
 * compiled once whether or not anything refers to it. */
static bool jsc_kw_defs(struct jsc_compiler *c, const char *kw, const json_t *v)
{
    if (!json_is_object(v)) {
        jsc_cerr(c, kw, "\"%s\" must be an object", kw);
        return false;
    }
    const char *key;
    const json_t *sub;
    json_object_foreach((json_t *)v, key, sub)
    {
        if (jsc_compile_sub(c, sub, kw, key) == JSM_NONE)
            return false;
    }
    return true;
}

/* Annotations and identifiers: checked for form, otherwise no effect on
 * validation. */
static bool jsc_kw_annotation(struct jsc_compiler *c, const char *kw, const json_t *v)
{
    static const char *const strings[] = {
        "title", "description", "$comment", "$schema", "contentEncoding", "contentMediaType", NULL};
    static const char *const bools[] = {"deprecated", "readOnly", "writeOnly", NULL};
    static const char *const objects[] = {"discriminator", "xml", "externalDocs", NULL};
    for (size_t i = 0; strings[i] != NULL; i++) {
        if (strcmp(kw, strings[i]) == 0) {
            if (json_is_string(v))
                return true;
            jsc_cerr(c, kw, "\"%s\" must be a string", kw);
            return false;
        }
    }
    for (size_t i = 0; bools[i] != NULL; i++) {
        if (strcmp(kw, bools[i]) == 0) {
            if (json_is_boolean(v))
                return true;
            jsc_cerr(c, kw, "\"%s\" must be a boolean", kw);
            return false;
        }
    }
    for (size_t i = 0; objects[i] != NULL; i++) {
        if (strcmp(kw, objects[i]) == 0) {
            if (json_is_object(v))
                return true;
            jsc_cerr(c, kw, "\"%s\" must be an object", kw);
            return false;
        }
    }
    if (strcmp(kw, "examples") == 0) {
        if (json_is_array(v))
            return true;
        jsc_cerr(c, kw, "\"examples\" must be an array");
        return false;
    }
    if (strcmp(kw, "contentSchema") == 0) {
        if (json_is_object(v) || json_is_boolean(v))
            return true;
        jsc_cerr(c, kw, "\"contentSchema\" must be a schema");
        return false;
    }
    if (strcmp(kw, "$vocabulary") == 0) {
        const char *key;
        const json_t *flag;
        if (!json_is_object(v)) {
            jsc_cerr(c, kw, "\"$vocabulary\" must be an object");
            return false;
        }
        json_object_foreach((json_t *)v, key, flag)
        {
            if (!json_is_boolean(flag)) {
                jsc_cerr(c, kw, "\"$vocabulary\" values must be booleans");
                return false;
            }
        }
        return true;
    }
    /* default, example, x-*: any value */
    return true;
}

/* $id, $anchor, $dynamicAnchor: registered by the scan; checked here. */
static bool jsc_kw_identifier(struct jsc_compiler *c, const char *kw, const json_t *v)
{
    if (!json_is_string(v)) {
        jsc_cerr(c, kw, "\"%s\" must be a string", kw);
        return false;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (strcmp(kw, "$id") == 0) {
        const char *hash = memchr(s, '#', len);
        if (hash != NULL && hash + 1 != s + len) {
            jsc_cerr(c, kw, "\"$id\" must not have a fragment (use \"$anchor\")");
            return false;
        }
        return true;
    }
    if (!jsc_anchor_name_ok(s, len)) {
        char ex[JSM_EXCERPT + 8];
        jsm_excerpt(ex, sizeof(ex), s, len, JSM_EXCERPT);
        jsc_cerr(c, kw, "\"%s\" must be a name ([A-Za-z_][-A-Za-z0-9._]*), not \"%s\"", kw, ex);
        return false;
    }
    return true;
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
    JSC_K_DYNREF,
    JSC_K_DEFINITIONS,
    JSC_K_DEFS,
    JSC_K_ANNOTATION,
    JSC_K_IDENTIFIER,
    JSC_K_ALLOF,
    JSC_K_ANYOF,
    JSC_K_ONEOF,
    JSC_K_NOT,
    JSC_K_IF,
    JSC_K_THEN,
    JSC_K_ELSE,
    JSC_K_DEPREQ,
    JSC_K_DEPSCH,
    JSC_K_DEPENDENCIES,
    JSC_K_PREFIX,
    JSC_K_CONTAINS,
    JSC_K_MINCONT,
    JSC_K_MAXCONT,
    JSC_K_MINITEMS,
    JSC_K_MAXITEMS,
    JSC_K_UNIQUE,
    JSC_K_PPROPS,
    JSC_K_PNAMES,
    JSC_K_MINPROPS,
    JSC_K_MAXPROPS,
    JSC_K_MULTIPLE,
    JSC_K_UPROPS,
    JSC_K_UITEMS,
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
    {"$dynamicRef", JSC_K_DYNREF},
    {"definitions", JSC_K_DEFINITIONS},
    {"$defs", JSC_K_DEFS},
    {"allOf", JSC_K_ALLOF},
    {"anyOf", JSC_K_ANYOF},
    {"oneOf", JSC_K_ONEOF},
    {"not", JSC_K_NOT},
    {"if", JSC_K_IF},
    {"then", JSC_K_THEN},
    {"else", JSC_K_ELSE},
    {"dependentRequired", JSC_K_DEPREQ},
    {"dependentSchemas", JSC_K_DEPSCH},
    {"dependencies", JSC_K_DEPENDENCIES},
    {"prefixItems", JSC_K_PREFIX},
    {"contains", JSC_K_CONTAINS},
    {"minContains", JSC_K_MINCONT},
    {"maxContains", JSC_K_MAXCONT},
    {"minItems", JSC_K_MINITEMS},
    {"maxItems", JSC_K_MAXITEMS},
    {"uniqueItems", JSC_K_UNIQUE},
    {"patternProperties", JSC_K_PPROPS},
    {"propertyNames", JSC_K_PNAMES},
    {"minProperties", JSC_K_MINPROPS},
    {"maxProperties", JSC_K_MAXPROPS},
    {"multipleOf", JSC_K_MULTIPLE},
    {"unevaluatedProperties", JSC_K_UPROPS},
    {"unevaluatedItems", JSC_K_UITEMS},
    {"$id", JSC_K_IDENTIFIER},
    {"$anchor", JSC_K_IDENTIFIER},
    {"$dynamicAnchor", JSC_K_IDENTIFIER},
    {"title", JSC_K_ANNOTATION},
    {"description", JSC_K_ANNOTATION},
    {"$comment", JSC_K_ANNOTATION},
    {"examples", JSC_K_ANNOTATION},
    {"default", JSC_K_ANNOTATION},
    {"$schema", JSC_K_ANNOTATION},
    {"$vocabulary", JSC_K_ANNOTATION},
    {"deprecated", JSC_K_ANNOTATION},
    {"readOnly", JSC_K_ANNOTATION},
    {"writeOnly", JSC_K_ANNOTATION},
    {"contentEncoding", JSC_K_ANNOTATION},
    {"contentMediaType", JSC_K_ANNOTATION},
    {"contentSchema", JSC_K_ANNOTATION},
    {"discriminator", JSC_K_ANNOTATION},
    {"xml", JSC_K_ANNOTATION},
    {"externalDocs", JSC_K_ANNOTATION},
    {"example", JSC_K_ANNOTATION},
};

/* Compiles the one subschema of keyword `key` into *slot (a field of the
 * node, set after: the node array may move meanwhile). */
static bool jsc_kw_one(struct jsc_compiler *c, uint32_t node, const char *key, const json_t *v,
                       size_t field, uint32_t kwbit)
{
    uint32_t idx = jsc_compile_sub(c, v, key, NULL);
    if (idx == JSM_NONE)
        return false;
    struct jsm_node *n = &c->c_s->s_nodes[node];
    memcpy((char *)n + field, &idx, sizeof(idx));
    n->sn_kw |= kwbit;
    return true;
}

static bool jsc_kw_count(struct jsc_compiler *c, uint32_t node, const char *key, const json_t *v,
                         size_t field, uint32_t kwbit)
{
    uint64_t val;
    if (!jsc_kw_length(c, key, v, &val))
        return false;
    struct jsm_node *n = &c->c_s->s_nodes[node];
    memcpy((char *)n + field, &val, sizeof(val));
    n->sn_kw |= kwbit;
    return true;
}

static bool jsc_keyword(struct jsc_compiler *c, uint32_t node, const char *key, const json_t *v)
{
    struct json_schema_set *s = c->c_s;
    size_t nk = sizeof(jsc_keywords) / sizeof(jsc_keywords[0]);
    size_t k = 0;
    while (k < nk && strcmp(jsc_keywords[k].kw_name, key) != 0)
        k++;
    if (k == nk) {
        if (strncmp(key, "x-", 2) == 0)
            return true;
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
        return jsc_kw_one(c, node, key, v, offsetof(struct jsm_node, sn_addl), JSM_KW_ADDL);
    case JSC_K_ITEMS:
        if (json_is_array(v)) {
            jsc_cerr(c, key,
                     "\"items\" must be a schema (the array form is draft 2019-09's: use "
                     "\"prefixItems\")");
            return false;
        }
        return jsc_kw_one(c, node, key, v, offsetof(struct jsm_node, sn_items), JSM_KW_ITEMS);
    case JSC_K_NOT:
        return jsc_kw_one(c, node, key, v, offsetof(struct jsm_node, sn_not), JSM_KW_INPLACE);
    case JSC_K_IF:
        return jsc_kw_one(c, node, key, v, offsetof(struct jsm_node, sn_if), JSM_KW_INPLACE);
    case JSC_K_THEN:
        return jsc_kw_one(c, node, key, v, offsetof(struct jsm_node, sn_then), 0);
    case JSC_K_ELSE:
        return jsc_kw_one(c, node, key, v, offsetof(struct jsm_node, sn_else), 0);
    case JSC_K_CONTAINS:
        return jsc_kw_one(c, node, key, v, offsetof(struct jsm_node, sn_contains), JSM_KW_CONTAINS);
    case JSC_K_PNAMES:
        return jsc_kw_one(c, node, key, v, offsetof(struct jsm_node, sn_pnames), JSM_KW_PNAMES);
    case JSC_K_UPROPS:
        if (!jsc_kw_one(c, node, key, v, offsetof(struct jsm_node, sn_uprops), JSM_KW_UNEVAL))
            return false;
        s->s_nodes[node].sn_uprops_on = 1;
        return true;
    case JSC_K_UITEMS:
        if (!jsc_kw_one(c, node, key, v, offsetof(struct jsm_node, sn_uitems), JSM_KW_UNEVAL))
            return false;
        s->s_nodes[node].sn_uitems_on = 1;
        return true;
    case JSC_K_ALLOF:
    case JSC_K_ANYOF:
    case JSC_K_ONEOF:
    case JSC_K_PREFIX: {
        uint32_t first;
        uint32_t count;
        if (!jsc_kw_list(c, key, v, &first, &count))
            return false;
        struct jsm_node *n = &s->s_nodes[node];
        enum jsc_keyword id = jsc_keywords[k].kw_id;
        if (id == JSC_K_ALLOF) {
            n->sn_all = first;
            n->sn_nall = count;
        } else if (id == JSC_K_ANYOF) {
            n->sn_any = first;
            n->sn_nany = count;
        } else if (id == JSC_K_ONEOF) {
            n->sn_one = first;
            n->sn_none = count;
        } else {
            n->sn_prefix = first;
            n->sn_nprefix = count;
        }
        n->sn_kw |= id == JSC_K_PREFIX ? JSM_KW_PREFIX : JSM_KW_INPLACE;
        return true;
    }
    case JSC_K_DEPREQ:
        return jsc_kw_dependent(c, node, key, v, false);
    case JSC_K_DEPSCH:
        return jsc_kw_dependent(c, node, key, v, true);
    case JSC_K_DEPENDENCIES:
        return jsc_kw_dependencies(c, node, v);
    case JSC_K_PPROPS:
        return jsc_kw_pattern_properties(c, node, v);
    case JSC_K_MINCONT:
        return jsc_kw_count(c, node, key, v, offsetof(struct jsm_node, sn_mincont), 0);
    case JSC_K_MAXCONT:
        return jsc_kw_count(c, node, key, v, offsetof(struct jsm_node, sn_maxcont), 0);
    case JSC_K_MINITEMS:
        return jsc_kw_count(c, node, key, v, offsetof(struct jsm_node, sn_minitems),
                            JSM_KW_MINITEMS);
    case JSC_K_MAXITEMS:
        return jsc_kw_count(c, node, key, v, offsetof(struct jsm_node, sn_maxitems),
                            JSM_KW_MAXITEMS);
    case JSC_K_MINPROPS:
        return jsc_kw_count(c, node, key, v, offsetof(struct jsm_node, sn_minprops),
                            JSM_KW_MINPROPS);
    case JSC_K_MAXPROPS:
        return jsc_kw_count(c, node, key, v, offsetof(struct jsm_node, sn_maxprops),
                            JSM_KW_MAXPROPS);
    case JSC_K_UNIQUE:
        if (!json_is_boolean(v)) {
            jsc_cerr(c, key, "\"uniqueItems\" must be a boolean");
            return false;
        }
        if (json_is_true(v))
            s->s_nodes[node].sn_kw |= JSM_KW_UNIQUE;
        return true;
    case JSC_K_MULTIPLE:
        return jsc_kw_multiple(c, node, v);
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
    case JSC_K_DYNREF:
        return jsc_kw_ref(c, node, key, v);
    case JSC_K_DEFINITIONS:
    case JSC_K_DEFS:
        return jsc_kw_defs(c, key, v);
    case JSC_K_IDENTIFIER:
        return jsc_kw_identifier(c, key, v);
    case JSC_K_ANNOTATION:
        return jsc_kw_annotation(c, key, v);
    }
    return false;
}

static uint32_t jsc_compile_object(struct jsc_compiler *c, const json_t *j, uint32_t info)
{
    uint32_t idx = jsc_node_new(c);
    if (idx == JSM_NONE)
        return JSM_NONE;
    c->c_infos[info].in_node = idx;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        if (!jsc_keyword(c, idx, key, v))
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
    uint32_t info = jsc_pmap_get(&c->c_pmap, j);
    if (info == JSM_NONE) {
        /* not met by a scan (inside a document's non-schema parts, or
         * deeper than the scan went): scanned from here */
        if (!jsc_scan(c, j, c->c_doc, c->c_base, c->c_res, 0))
            return JSM_NONE;
        info = jsc_pmap_get(&c->c_pmap, j);
        if (info == JSM_NONE)
            return jsc_nomem(c);
    }
    if (c->c_infos[info].in_node != JSM_NONE)
        return c->c_infos[info].in_node;
    if (c->c_depth == 0)
        c->c_outer_path = c->c_path.b_len;
    const char *saved_base = c->c_base;
    uint32_t saved_res = c->c_res;
    c->c_base = c->c_infos[info].in_base;
    c->c_res = c->c_infos[info].in_res;
    c->c_depth++;
    uint32_t idx = jsc_compile_object(c, j, info);
    c->c_depth--;
    c->c_base = saved_base;
    c->c_res = saved_res;
    return idx;
}

/* ---- resolving references ---- */

/* Walks JSON pointer `ptr` (decoded from the fragment) from `j`; NULL
 * when a token does not lead anywhere. */
static const json_t *jsc_pointer_walk(const json_t *j, const char *ptr, size_t len, bool *bad)
{
    size_t i = 0;
    char tok[1024];
    while (i < len && j != NULL) {
        if (ptr[i] != '/') {
            *bad = true;
            return NULL;
        }
        i++;
        size_t n = 0;
        while (i < len && ptr[i] != '/') {
            char ch = ptr[i++];
            if (ch == '~') {
                if (i == len || (ptr[i] != '0' && ptr[i] != '1')) {
                    *bad = true;
                    return NULL;
                }
                ch = ptr[i++] == '0' ? '~' : '/';
            }
            if (n + 1 >= sizeof(tok))
                return NULL;
            tok[n++] = ch;
        }
        tok[n] = '\0';
        if (json_is_object(j)) {
            j = strlen(tok) == n ? json_object_get(j, tok) : NULL;
        } else if (json_is_array(j)) {
            size_t idx = 0;
            bool num = n > 0 && (n == 1 || tok[0] != '0');
            for (size_t k = 0; num && k < n; k++) {
                num = tok[k] >= '0' && tok[k] <= '9' && idx < SIZE_MAX / 10;
                idx = idx * 10 + (size_t)(tok[k] - '0');
            }
            j = num ? json_array_get(j, idx) : NULL;
        } else {
            j = NULL;
        }
    }
    return j;
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
                int d = numfmt_hex_digit(s[i + (size_t)k]);
                if (d < 0)
                    return false;
                v = v << 4 | (unsigned)d;
            }
            ch = (char)v;
            i += 2;
        }
        if (!jsc_buf_add(out, &ch, 1))
            return false;
    }
    return true;
}

/* Loads the document known by `uri` (len bytes) through the caller's
 * loader, once. */
static uint32_t jsc_load(struct jsc_compiler *c, const char *uri, size_t len)
{
    uint32_t doc = jsc_doc_find(c, uri, len);
    if (doc != JSM_NONE)
        return doc;
    char ex[JSC_URI_EXCERPT + 8];
    jsm_excerpt(ex, sizeof(ex), uri, len, JSC_URI_EXCERPT);
    if (c->c_load == NULL)
        return jsc_cerr(c, NULL, "unresolved $ref: no document \"%s\" is known", ex);
    const char *owned = jsc_strdup(c, uri, len);
    if (owned == NULL)
        return JSM_NONE;
    /* a URI refused once is not asked again: the first refusal ends the
     * compile */
    char why[256] = "";
    const json_t *root = c->c_load(c->c_load_ctx, owned, why, sizeof(why));
    if (root == NULL)
        return jsc_cerr(c, NULL, "cannot load \"%s\": %s", ex,
                        why[0] != '\0' ? why : "the loader refused it");
    return jsc_doc_add(c, uri, len, root);
}

/* The node for the value `uri` (absolute) names, compiled if it is not
 * yet; *tj is that value. Errors at the current path. */
static uint32_t jsc_resolve(struct jsc_compiler *c, const char *uri, const json_t **tj)
{
    size_t ulen = json_uri_strip_fragment(uri);
    const char *frag = uri[ulen] == '#' ? uri + ulen + 1 : "";
    char ex[JSC_URI_EXCERPT + 8];
    /* the placeholder base says nothing to a reader: "#..." alone */
    const char *shown = uri;
    if (strncmp(uri, JSC_PLACEHOLDER_URI "#", sizeof(JSC_PLACEHOLDER_URI)) == 0)
        shown = uri + sizeof(JSC_PLACEHOLDER_URI) - 1;
    jsm_excerpt(ex, sizeof(ex), shown, strlen(shown), JSC_URI_EXCERPT);
    struct jsc_buf dec = {0};
    if (!jsc_percent_decode(frag, strlen(frag), &dec)) {
        free(dec.b_ptr);
        return jsc_cerr(c, NULL, "unresolved $ref \"%s\": a bad %%-escape in its fragment", ex);
    }
    const char *f = jsc_buf_str(&dec);
    size_t flen = dec.b_len;
    const struct jsc_target *t;
    bool by_pointer = flen == 0 || f[0] == '/';
    if (by_pointer) {
        t = jsc_target_get(c, uri, ulen);
        if (t == NULL && jsc_load(c, uri, ulen) != JSM_NONE)
            t = jsc_target_get(c, uri, ulen);
    } else {
        t = jsc_target_get(c, uri, strlen(uri));
        if (t == NULL && jsc_doc_find(c, uri, ulen) == JSM_NONE &&
            jsc_target_get(c, uri, ulen) == NULL && jsc_load(c, uri, ulen) != JSM_NONE)
            t = jsc_target_get(c, uri, strlen(uri));
    }
    if (t == NULL) {
        free(dec.b_ptr);
        if (!c->c_failed)
            jsc_cerr(c, NULL, "unresolved $ref \"%s\": %s", ex,
                     by_pointer ? "no such document or $id" : "no such $anchor");
        return JSM_NONE;
    }
    const json_t *target = t->t_j;
    bool bad = false;
    if (flen > 0 && f[0] == '/')
        target = jsc_pointer_walk(t->t_j, f, flen, &bad);
    if (target == NULL) {
        free(dec.b_ptr);
        return jsc_cerr(c, NULL, "unresolved $ref \"%s\": %s", ex,
                        bad ? "not a JSON pointer" : "no value at that JSON pointer");
    }
    /* compiled where the target is */
    bool ok = jsc_set_path(c, t->t_ptr);
    if (ok && flen > 0 && f[0] == '/' && !jsc_buf_add(&c->c_path, f, flen)) {
        jsc_nomem(c);
        ok = false;
    }
    free(dec.b_ptr);
    if (!ok || c->c_failed)
        return JSM_NONE;
    c->c_doc = t->t_doc;
    c->c_base = t->t_base;
    c->c_res = t->t_res;
    c->c_depth = 0;
    *tj = target;
    return jsc_compile_node(c, target);
}

/* Resolves every pending $ref and $dynamicRef, compiling targets (which
 * may add more) until none is left; then, when a $dynamicRef can rebind,
 * every $dynamicAnchor (which may add more again). */
static bool jsc_resolve_all(struct jsc_compiler *c)
{
    struct json_schema_set *s = c->c_s;
    size_t i = 0;
    for (;;) {
        while (i < c->c_npending) {
            struct jsc_pending pd = c->c_pending[i++];
            c->c_doc = pd.pd_doc;
            if (!jsc_set_path(c, pd.pd_path))
                return false;
            const json_t *tj = NULL;
            uint32_t target = jsc_resolve(c, pd.pd_uri, &tj);
            if (target == JSM_NONE)
                return false;
            struct jsm_node *n = &s->s_nodes[pd.pd_node];
            if (!pd.pd_dynamic) {
                n->sn_ref = target;
                continue;
            }
            n->sn_dref = target;
            /* It rebinds only when its fragment names a $dynamicAnchor of
             * its initial target (the "bookend"). */
            const char *hash = strchr(pd.pd_uri, '#');
            const json_t *anchor =
                json_is_object(tj) ? json_object_get(tj, "$dynamicAnchor") : NULL;
            if (hash != NULL && hash[1] != '/' && json_is_string(anchor) &&
                strcmp(json_string_value(anchor), hash + 1) == 0) {
                uint32_t off = jsc_pool_add(c, hash + 1, strlen(hash + 1));
                if (off == JSM_NONE)
                    return false;
                s->s_nodes[pd.pd_node].sn_dname = off;
                s->s_dynamic = true;
            }
        }
        if (!s->s_dynamic)
            return true;
        /* the dynamic anchors of the resources in use (which compiling
         * them may extend) */
        bool progress = false;
        for (size_t k = 0; k < c->c_ndanchors; k++) {
            struct jsc_danchor a = c->c_danchors[k];
            if (a.ca_done || a.ca_res >= c->c_caplive || !c->c_live[a.ca_res])
                continue;
            c->c_danchors[k].ca_done = true;
            progress = true;
            if (!jsc_set_path(c, a.ca_ptr))
                return false;
            c->c_doc = a.ca_doc;
            c->c_base = a.ca_base;
            c->c_res = a.ca_res;
            c->c_depth = 0;
            uint32_t node = jsc_compile_node(c, a.ca_j);
            uint32_t name =
                node != JSM_NONE ? jsc_pool_add(c, a.ca_name, strlen(a.ca_name)) : JSM_NONE;
            if (name == JSM_NONE || !jsc_reserve((void **)&s->s_danchors, &s->s_capdanchors,
                                                 s->s_ndanchors + 1, sizeof(*s->s_danchors))) {
                if (!c->c_failed)
                    jsc_nomem(c);
                return false;
            }
            s->s_danchors[s->s_ndanchors].da_res = a.ca_res;
            s->s_danchors[s->s_ndanchors].da_name = name;
            s->s_danchors[s->s_ndanchors].da_node = node;
            s->s_ndanchors++;
        }
        if (!progress && i == c->c_npending)
            return true;
    }
}

static int jsc_danchor_cmp(const void *x, const void *y, void *pool)
{
    const struct jsm_danchor *a = x;
    const struct jsm_danchor *b = y;
    if (a->da_res != b->da_res)
        return a->da_res < b->da_res ? -1 : 1;
    return strcmp((const char *)pool + a->da_name, (const char *)pool + b->da_name);
}

/* The k-th subschema node `n` applies to the same value, or JSM_NONE. */
static uint32_t jsc_inplace_edge(const struct json_schema_set *s, const struct jsm_node *n,
                                 uint32_t k)
{
    const uint32_t single[] = {n->sn_ref, n->sn_dref, n->sn_not, n->sn_if, n->sn_then, n->sn_else};
    const uint32_t nsingle = sizeof(single) / sizeof(single[0]);
    if (k < nsingle)
        return single[k] != JSM_NONE ? single[k] : s->s_nnodes; /* s_nnodes: skip */
    k -= nsingle;
    if (k < n->sn_nall)
        return s->s_subs[n->sn_all + k];
    k -= n->sn_nall;
    if (k < n->sn_nany)
        return s->s_subs[n->sn_any + k];
    k -= n->sn_nany;
    if (k < n->sn_none)
        return s->s_subs[n->sn_one + k];
    k -= n->sn_none;
    if (k < n->sn_ndsch)
        return s->s_deps[n->sn_dsch + k].dp_schema;
    return JSM_NONE;
}

/* A cycle of applicators on the same value would never end: refused, at
 * the first $ref (in the order they were written) on one. */
static bool jsc_refuse_cycles(struct jsc_compiler *c)
{
    struct json_schema_set *s = c->c_s;
    if (c->c_npending == 0)
        return true;
    size_t nn = s->s_nnodes;
    uint8_t *color = calloc(nn, 1); /* 0 new, 1 on the stack, 2 done */
    uint32_t *stack = malloc(nn * sizeof(*stack));
    uint32_t *edge = malloc(nn * sizeof(*edge));
    if (color == NULL || stack == NULL || edge == NULL) {
        free(color);
        free(stack);
        free(edge);
        jsc_nomem(c);
        return false;
    }
    bool cycle = false;
    for (size_t root = 0; root < nn && !cycle; root++) {
        if (color[root] != 0)
            continue;
        size_t top = 0;
        stack[top] = (uint32_t)root;
        edge[top] = 0;
        color[root] = 1;
        while (!cycle) {
            uint32_t at = stack[top];
            uint32_t next = jsc_inplace_edge(s, &s->s_nodes[at], edge[top]++);
            if (next == JSM_NONE) {
                color[at] = 2;
                if (top == 0)
                    break;
                top--;
                continue;
            }
            if (next == nn || color[next] == 2)
                continue;
            if (color[next] == 1) {
                /* the cycle: stack from `next` to the top */
                for (size_t k = 0; k <= top; k++)
                    color[stack[k]] = 3;
                size_t k = top;
                while (stack[k] != next)
                    k--;
                for (size_t m = 0; m < k; m++)
                    color[stack[m]] = 1;
                cycle = true;
                break;
            }
            color[next] = 1;
            stack[++top] = next;
            edge[top] = 0;
        }
    }
    if (cycle) {
        size_t at = 0;
        while (at + 1 < c->c_npending && color[c->c_pending[at].pd_node] != 3)
            at++;
        c->c_doc = c->c_pending[at].pd_doc;
        if (jsc_set_path(c, c->c_pending[at].pd_path))
            jsc_cerr(c, NULL,
                     "circular $ref: it applies the same schemas to the same value without end");
    }
    free(color);
    free(stack);
    free(edge);
    return !cycle;
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
    for (size_t i = 0; i < c->c_nstrs; i++)
        free(c->c_strs[i]);
    free(c->c_strs);
    free(c->c_docs);
    free(c->c_infos);
    free(c->c_pmap.pm_key);
    free(c->c_pmap.pm_val);
    free(c->c_targets);
    free(c->c_smap.sm_val);
    free(c->c_pending);
    free(c->c_danchors);
    free(c->c_live);
    free(c->c_regex_src);
    free(c);
}

static size_t jsc_limit(size_t given, size_t dflt)
{
    return given != 0 ? given : dflt;
}

/* Compiles the root's "definitions" and "$defs" (checked even when nothing
 * refers to them). */
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
        jsc_buf_cut(&c->c_path, 0);
        c->c_depth = 0;
        if (defs[i] != NULL && !jsc_kw_defs(c, kws[i], defs[i]))
            return false;
    }
    return true;
}

/* Ends a failed step: the set keeps nothing half-built that could be used. */
static void jsc_abandon(struct json_schema_set *set)
{
    jsc_compiler_free(set->s_build);
    set->s_build = NULL;
}

/* Points the compiler at the root document (document 0), its base and
 * resource. */
static void jsc_at_root(struct jsc_compiler *c)
{
    uint32_t info = jsc_pmap_get(&c->c_pmap, c->c_root);
    c->c_doc = 0;
    c->c_base = info != JSM_NONE ? c->c_infos[info].in_base : c->c_docs[0].d_uri;
    c->c_res = info != JSM_NONE ? c->c_infos[info].in_res : 0;
    c->c_depth = 0;
}

struct json_schema_set *json_schema_compile_new_opts(const json_t *root,
                                                     const struct json_schema_options *opts,
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
    if (opts != NULL && opts->so_limits != NULL)
        lim = *opts->so_limits;
    c->c_lim.sl_nodes = jsc_limit(lim.sl_nodes, JSON_SCHEMA_MAX_NODES);
    c->c_lim.sl_definitions = jsc_limit(lim.sl_definitions, JSON_SCHEMA_MAX_DEFINITIONS);
    c->c_lim.sl_depth = jsc_limit(lim.sl_depth, JSON_SCHEMA_MAX_DEPTH);
    c->c_lim.sl_enum = jsc_limit(lim.sl_enum, JSON_SCHEMA_MAX_ENUM);
    c->c_lim.sl_constants = jsc_limit(lim.sl_constants, JSON_SCHEMA_MAX_CONSTANTS);
    c->c_lim.sl_patterns = jsc_limit(lim.sl_patterns, JSON_SCHEMA_MAX_PATTERNS);
    c->c_lim.sl_documents = jsc_limit(lim.sl_documents, JSON_SCHEMA_MAX_DOCUMENTS);
    c->c_s = set;
    c->c_root = root;
    c->c_err = err;
    if (opts != NULL) {
        c->c_load = opts->so_load;
        c->c_load_ctx = opts->so_load_ctx;
    }
    const char *base =
        opts != NULL && opts->so_base_uri != NULL ? opts->so_base_uri : JSC_PLACEHOLDER_URI;
    bool ok = jsc_doc_add(c, base, json_uri_strip_fragment(base), root) != JSM_NONE;
    for (size_t i = 0; ok && opts != NULL && i < opts->so_ndocs; i++) {
        const struct json_schema_document *d = &opts->so_docs[i];
        if (d->sd_uri == NULL || d->sd_doc == NULL) {
            jsc_cerr(c, NULL, "registered document %zu has no URI or no value", i);
            ok = false;
        } else if (jsc_doc_find(c, d->sd_uri, json_uri_strip_fragment(d->sd_uri)) == JSM_NONE) {
            c->c_doc = (uint32_t)c->c_ndocs;
            ok = jsc_doc_add(c, d->sd_uri, json_uri_strip_fragment(d->sd_uri), d->sd_doc) !=
                 JSM_NONE;
        }
    }
    if (ok) {
        jsc_at_root(c);
        ok = jsc_compile_defs(c);
    }
    if (!ok) {
        json_schema_compile_free(set);
        return NULL;
    }
    return set;
}

struct json_schema_set *json_schema_compile_new(const json_t *root,
                                                const struct json_schema_limits *limits,
                                                struct json_schema_error *err)
{
    struct json_schema_options opts = {.so_limits = limits};
    return json_schema_compile_new_opts(root, &opts, err);
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

/* A schema value not met by any scan that is inside a registered (or
 * loaded) document other than the root is compiled as part of it: that
 * document's base URI, its pointer there, and its URI in errors. (A
 * contract that inherits a schema from a parent file registers the parent:
 * the schema's references resolve against the parent's file.) */
static bool jsc_in_registered(struct jsc_compiler *c, const json_t *schema)
{
    if (!json_is_object(schema) || jsc_pmap_get(&c->c_pmap, schema) != JSM_NONE)
        return true;
    struct jsc_buf at = {0};
    for (size_t d = 1; d < c->c_ndocs; d++) {
        bool nomem = false;
        jsc_buf_cut(&at, 0);
        if (!jsc_locate(c->c_docs[d].d_root, schema, &at, &nomem)) {
            if (!nomem)
                continue;
            free(at.b_ptr);
            jsc_nomem(c);
            return false;
        }
        c->c_doc = (uint32_t)d;
        c->c_base = c->c_docs[d].d_uri;
        uint32_t root = jsc_pmap_get(&c->c_pmap, c->c_docs[d].d_root);
        if (root != JSM_NONE) {
            c->c_base = c->c_infos[root].in_base;
            c->c_res = c->c_infos[root].in_res;
        }
        bool ok = jsc_set_path(c, jsc_buf_str(&at));
        free(at.b_ptr);
        return ok;
    }
    free(at.b_ptr);
    return true;
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
    jsc_at_root(c);
    if (!jsc_start_path(c, schema, path) || !jsc_in_registered(c, schema)) {
        jsc_abandon(set);
        return NULL;
    }
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
    bool ok = jsc_resolve_all(c) && jsc_refuse_cycles(c);
    if (ok) {
        c->c_doc = 0;
        jsc_buf_cut(&c->c_path, 0);
        ok = jsc_build_consts(c);
    }
    if (ok && set->s_ndanchors > 1)
        qsort_r(set->s_danchors, set->s_ndanchors, sizeof(*set->s_danchors), jsc_danchor_cmp,
                set->s_pool);
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
    for (size_t i = 0; i < s->s_nregex; i++)
        ecma_regex_free(s->s_regex[i]);
    for (size_t i = 0; i < s->s_nentries; i++)
        free(s->s_entries[i]);
    free(s->s_entries);
    free(s->s_regex);
    free(s->s_nodes);
    free(s->s_props);
    free(s->s_reqs);
    free(s->s_subs);
    free(s->s_pprops);
    free(s->s_deps);
    free(s->s_danchors);
    free(s->s_pool);
    free(s->s_consts);
    free(s->s_ctext);
    json_tape_free(&s->s_ctape);
    free(s);
}
