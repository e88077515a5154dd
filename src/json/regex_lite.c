/*
 * The pattern is parsed into a small tree, then compiled Thompson-style
 * into an automaton whose states either consume one byte of a set or split
 * into two ways; counted repetitions are unrolled. Matching walks the
 * automaton depth first with an explicit stack and a step budget.
 */
#include "ssemon/json/regex_lite.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RL_MAX_STATES 512
#define RL_MAX_NODES 128
#define RL_MAX_REPEAT 64
#define RL_STEP_BUDGET 4096

enum rl_state_kind { RL_BYTE, RL_SPLIT, RL_MATCH };

struct rl_state {
    uint8_t rs_kind;
    uint16_t rs_set; /* RL_BYTE: index into rl_sets */
    uint16_t rs_out;
    uint16_t rs_out2; /* RL_SPLIT */
};

struct rl_set {
    uint64_t w[4];
};

struct regex_lite {
    bool rl_anchor_start;
    bool rl_anchor_end;
    uint16_t rl_start;
    size_t rl_n_states;
    struct rl_state rl_states[RL_MAX_STATES];
    size_t rl_n_sets;
    struct rl_set rl_sets[RL_MAX_NODES];
};

/* ---- parse tree ---- */

enum rl_node_kind { RL_N_SET, RL_N_GROUP };

struct rl_node {
    uint8_t n_kind;
    uint16_t n_set;   /* RL_N_SET */
    uint16_t n_first; /* RL_N_GROUP: children are n_first .. n_first+n_count-1 in a list */
    uint16_t n_count;
    int n_min;
    int n_max; /* -1: unbounded */
};

struct rl_parse {
    const char *p_s;
    size_t p_i;
    size_t p_len;
    struct regex_lite *p_re;
    struct rl_node p_nodes[RL_MAX_NODES];
    size_t p_n_nodes;
    /* Sequences are stored as lists of node indices. */
    uint16_t p_list[RL_MAX_NODES * 2];
    size_t p_n_list;
};

static void rl_set_add(struct rl_set *s, unsigned c)
{
    s->w[c >> 6] |= (uint64_t)1 << (c & 63);
}

static bool rl_set_has(const struct rl_set *s, unsigned c)
{
    return (s->w[c >> 6] >> (c & 63)) & 1;
}

static int rl_new_set(struct rl_parse *p)
{
    if (p->p_re->rl_n_sets >= RL_MAX_NODES)
        return -1;
    memset(&p->p_re->rl_sets[p->p_re->rl_n_sets], 0, sizeof(struct rl_set));
    return (int)p->p_re->rl_n_sets++;
}

static bool rl_is_special(char c)
{
    return strchr(".[]()*+?{}|^$\\", c) != NULL && c != '\0';
}

/* A bracket expression starting after '['. */
static int rl_parse_bracket(struct rl_parse *p)
{
    int si = rl_new_set(p);
    if (si < 0)
        return -1;
    struct rl_set *set = &p->p_re->rl_sets[si];
    bool negate = false;
    if (p->p_i < p->p_len && p->p_s[p->p_i] == '^') {
        negate = true;
        p->p_i++;
    }
    bool first = true;
    for (;;) {
        if (p->p_i >= p->p_len)
            return -1;
        unsigned char c = (unsigned char)p->p_s[p->p_i];
        if (c == ']' && !first) {
            p->p_i++;
            break;
        }
        /* Collating elements and classes ([:digit:], [=a=], [.a.]) are
         * left to regcomp. */
        if (c == '[' && p->p_i + 1 < p->p_len && strchr(":=.", p->p_s[p->p_i + 1]) != NULL)
            return -1;
        /* A '-' is literal only first or last; elsewhere (after a range,
         * say) POSIX leaves it undefined: regcomp decides. */
        if (c == '-' && !first && !(p->p_i + 1 < p->p_len && p->p_s[p->p_i + 1] == ']'))
            return -1;
        first = false;
        p->p_i++;
        unsigned hi = c;
        if (p->p_i + 1 < p->p_len && p->p_s[p->p_i] == '-' && p->p_s[p->p_i + 1] != ']') {
            hi = (unsigned char)p->p_s[p->p_i + 1];
            if (hi == '[' || hi < c)
                return -1;
            p->p_i += 2;
        }
        for (unsigned x = c; x <= hi; x++)
            rl_set_add(set, x);
    }
    if (negate)
        for (size_t k = 0; k < 4; k++)
            set->w[k] = ~set->w[k];
    /* A NUL never reaches the matcher (strings with one are not matched). */
    set->w[0] &= ~(uint64_t)1;
    return si;
}

static bool rl_parse_int(struct rl_parse *p, int *out)
{
    size_t start = p->p_i;
    int v = 0;
    while (p->p_i < p->p_len && p->p_s[p->p_i] >= '0' && p->p_s[p->p_i] <= '9') {
        v = v * 10 + (p->p_s[p->p_i] - '0');
        if (v > RL_MAX_REPEAT)
            return false;
        p->p_i++;
    }
    *out = v;
    return p->p_i > start;
}

/* Quantifiers after an atom; returns false when malformed or unsupported. */
static bool rl_parse_quant(struct rl_parse *p, struct rl_node *n)
{
    n->n_min = n->n_max = 1;
    bool any = false;
    while (p->p_i < p->p_len) {
        char c = p->p_s[p->p_i];
        int mn, mx;
        if (c == '?') {
            mn = 0, mx = 1;
            p->p_i++;
        } else if (c == '*') {
            mn = 0, mx = -1;
            p->p_i++;
        } else if (c == '+') {
            mn = 1, mx = -1;
            p->p_i++;
        } else if (c == '{') {
            p->p_i++;
            if (!rl_parse_int(p, &mn))
                return false;
            mx = mn;
            if (p->p_i < p->p_len && p->p_s[p->p_i] == ',') {
                p->p_i++;
                mx = -1;
                if (p->p_i < p->p_len && p->p_s[p->p_i] != '}' && !rl_parse_int(p, &mx))
                    return false;
                if (mx != -1 && mx < mn)
                    return false;
            }
            if (p->p_i >= p->p_len || p->p_s[p->p_i] != '}')
                return false;
            p->p_i++;
        } else {
            break;
        }
        /* Stacked quantifiers (a*?, a{2}{3}) mean different things to
         * different engines: leave them to regcomp. */
        if (any)
            return false;
        any = true;
        n->n_min = mn;
        n->n_max = mx;
    }
    return true;
}

static int rl_parse_seq(struct rl_parse *p, int depth, uint16_t *first, uint16_t *count);

static int rl_parse_atom(struct rl_parse *p, int depth)
{
    if (p->p_n_nodes >= RL_MAX_NODES)
        return -1;
    struct rl_node node = {0};
    char c = p->p_s[p->p_i];
    if (c == '(') {
        p->p_i++;
        node.n_kind = RL_N_GROUP;
        if (rl_parse_seq(p, depth + 1, &node.n_first, &node.n_count) != 0)
            return -1;
        if (p->p_i >= p->p_len || p->p_s[p->p_i] != ')' || node.n_count == 0)
            return -1;
        p->p_i++;
    } else {
        int si;
        if (c == '[') {
            p->p_i++;
            si = rl_parse_bracket(p);
        } else if (c == '.') {
            p->p_i++;
            si = rl_new_set(p);
            if (si >= 0) {
                memset(&p->p_re->rl_sets[si], 0xff, sizeof(struct rl_set));
                p->p_re->rl_sets[si].w[0] &= ~(uint64_t)1;
            }
        } else if (c == '\\') {
            if (p->p_i + 1 >= p->p_len || !rl_is_special(p->p_s[p->p_i + 1]))
                return -1;
            si = rl_new_set(p);
            if (si >= 0)
                rl_set_add(&p->p_re->rl_sets[si], (unsigned char)p->p_s[p->p_i + 1]);
            p->p_i += 2;
        } else if (rl_is_special(c)) {
            return -1;
        } else {
            si = rl_new_set(p);
            if (si >= 0)
                rl_set_add(&p->p_re->rl_sets[si], (unsigned char)c);
            p->p_i++;
        }
        if (si < 0)
            return -1;
        node.n_kind = RL_N_SET;
        node.n_set = (uint16_t)si;
    }
    if (!rl_parse_quant(p, &node) || p->p_n_nodes >= RL_MAX_NODES)
        return -1;
    p->p_nodes[p->p_n_nodes] = node;
    return (int)p->p_n_nodes++;
}

/* A sequence up to ')' or the end (a trailing '$' is handled by the caller). */
static int rl_parse_seq(struct rl_parse *p, int depth, uint16_t *first, uint16_t *count)
{
    uint16_t items[RL_MAX_NODES];
    size_t n = 0;
    if (depth > 8)
        return -1;
    while (p->p_i < p->p_len && p->p_s[p->p_i] != ')') {
        if (p->p_s[p->p_i] == '$' && depth == 0 && p->p_i + 1 == p->p_len)
            break;
        int a = rl_parse_atom(p, depth);
        if (a < 0 || n >= RL_MAX_NODES)
            return -1;
        items[n++] = (uint16_t)a;
    }
    if (p->p_n_list + n > sizeof(p->p_list) / sizeof(p->p_list[0]))
        return -1;
    *first = (uint16_t)p->p_n_list;
    *count = (uint16_t)n;
    memcpy(&p->p_list[p->p_n_list], items, n * sizeof(items[0]));
    p->p_n_list += n;
    return 0;
}

/* ---- automaton ---- */

static int rl_emit(struct regex_lite *re, uint8_t kind, uint16_t set, uint16_t out, uint16_t out2)
{
    if (re->rl_n_states >= RL_MAX_STATES)
        return -1;
    struct rl_state *s = &re->rl_states[re->rl_n_states];
    s->rs_kind = kind;
    s->rs_set = set;
    s->rs_out = out;
    s->rs_out2 = out2;
    return (int)re->rl_n_states++;
}

static int rl_compile_seq(struct rl_parse *p, uint16_t first, uint16_t count, int next);

/* One occurrence of a node's body, continuing to `next`; returns its entry. */
static int rl_compile_once(struct rl_parse *p, const struct rl_node *n, int next)
{
    if (n->n_kind == RL_N_SET)
        return rl_emit(p->p_re, RL_BYTE, n->n_set, (uint16_t)next, 0);
    return rl_compile_seq(p, n->n_first, n->n_count, next);
}

/* Built back to front: each piece knows where it continues. */
static int rl_compile_node(struct rl_parse *p, const struct rl_node *n, int next)
{
    int entry = next;
    if (n->n_max == -1) {
        /* x*: a split that either enters x (which loops back) or goes on. */
        int split = rl_emit(p->p_re, RL_SPLIT, 0, 0, (uint16_t)next);
        if (split < 0)
            return -1;
        int body = rl_compile_once(p, n, split);
        if (body < 0)
            return -1;
        p->p_re->rl_states[split].rs_out = (uint16_t)body;
        entry = split;
    } else {
        for (int k = n->n_max - n->n_min; k > 0; k--) {
            int body = rl_compile_once(p, n, entry);
            if (body < 0)
                return -1;
            entry = rl_emit(p->p_re, RL_SPLIT, 0, (uint16_t)body, (uint16_t)next);
            if (entry < 0)
                return -1;
            next = entry;
        }
    }
    for (int k = 0; k < n->n_min; k++) {
        entry = rl_compile_once(p, n, entry);
        if (entry < 0)
            return -1;
    }
    return entry;
}

static int rl_compile_seq(struct rl_parse *p, uint16_t first, uint16_t count, int next)
{
    int entry = next;
    for (int i = (int)count - 1; i >= 0; i--) {
        entry = rl_compile_node(p, &p->p_nodes[p->p_list[first + (uint16_t)i]], entry);
        if (entry < 0)
            return -1;
    }
    return entry;
}

struct regex_lite *regex_lite_compile(const char *pattern)
{
    struct regex_lite *re = calloc(1, sizeof(*re));
    struct rl_parse *p = calloc(1, sizeof(*p));
    if (re == NULL || p == NULL)
        goto fail;
    p->p_s = pattern;
    p->p_len = strlen(pattern);
    p->p_re = re;
    if (p->p_len > 0 && pattern[0] == '^') {
        re->rl_anchor_start = true;
        p->p_i = 1;
    }
    uint16_t first, count;
    if (rl_parse_seq(p, 0, &first, &count) != 0)
        goto fail;
    if (p->p_i < p->p_len && pattern[p->p_i] == '$' && p->p_i + 1 == p->p_len) {
        re->rl_anchor_end = true;
        p->p_i++;
    }
    if (p->p_i != p->p_len)
        goto fail;
    int match = rl_emit(re, RL_MATCH, 0, 0, 0);
    if (match < 0)
        goto fail;
    int start = rl_compile_seq(p, first, count, match);
    if (start < 0)
        goto fail;
    re->rl_start = (uint16_t)start;
    free(p);
    return re;
fail:
    free(p);
    free(re);
    return NULL;
}

void regex_lite_free(struct regex_lite *re)
{
    free(re);
}

struct rl_frame {
    uint16_t f_state;
    uint32_t f_pos;
};

/* Is there a match starting at `pos`? */
static enum regex_lite_result rl_match_at(const struct regex_lite *re, const unsigned char *s,
                                          size_t len, size_t pos, unsigned *steps)
{
    struct rl_frame stack[RL_STEP_BUDGET];
    size_t sp = 0;
    stack[sp++] = (struct rl_frame){re->rl_start, (uint32_t)pos};
    while (sp > 0) {
        struct rl_frame f = stack[--sp];
        uint16_t st = f.f_state;
        size_t at = f.f_pos;
        for (;;) {
            if (++*steps > RL_STEP_BUDGET)
                return REGEX_LITE_UNKNOWN;
            const struct rl_state *rs = &re->rl_states[st];
            if (rs->rs_kind == RL_BYTE) {
                if (at < len && rl_set_has(&re->rl_sets[rs->rs_set], s[at])) {
                    st = rs->rs_out;
                    at++;
                    continue;
                }
                break;
            }
            if (rs->rs_kind == RL_SPLIT) {
                if (sp >= RL_STEP_BUDGET)
                    return REGEX_LITE_UNKNOWN;
                stack[sp++] = (struct rl_frame){rs->rs_out2, (uint32_t)at};
                st = rs->rs_out;
                continue;
            }
            if (!re->rl_anchor_end || at == len)
                return REGEX_LITE_MATCH;
            break;
        }
    }
    return REGEX_LITE_NO_MATCH;
}

enum regex_lite_result regex_lite_match(const struct regex_lite *re, const char *s, size_t len)
{
    /* regexec sees a C string: a NUL ends it, so such a string is judged
     * by the caller, not here. */
    if (memchr(s, '\0', len) != NULL || len > UINT32_MAX)
        return REGEX_LITE_UNKNOWN;
    unsigned steps = 0;
    size_t last = re->rl_anchor_start ? 0 : len;
    for (size_t pos = 0; pos <= last; pos++) {
        enum regex_lite_result r = rl_match_at(re, (const unsigned char *)s, len, pos, &steps);
        if (r != REGEX_LITE_NO_MATCH)
            return r;
    }
    return REGEX_LITE_NO_MATCH;
}
