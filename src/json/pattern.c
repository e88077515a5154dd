/*
 * pattern: a cost estimate of what glibc's regcomp would build, read from
 * the pattern in one pass with a stack of open groups, then regcomp itself.
 * The estimate follows glibc's expansion (a repetition is copied once per
 * mandatory and per optional repetition), not the language the pattern
 * denotes: two patterns with the same matches can cost very differently.
 */
#include "ssemon/json/pattern.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Limits on what glibc's regcomp would build (see pattern_estimate). */
#define PATTERN_MAX_NODES 4096
#define PATTERN_MAX_OPTIONAL 512
#define PATTERN_MAX_NEST 64

struct pattern_cost {
    uint64_t pc_nodes; /* elements once every repetition is expanded */
    uint64_t pc_opt;   /* optional elements and alternatives among them */
    bool pc_empty;     /* can match the empty string */
};

struct pattern_level {
    struct pattern_cost pl_sum;  /* the group so far */
    struct pattern_cost pl_last; /* its last element, which a quantifier repeats */
    bool pl_has_last;            /* the current branch has a last element */
    bool pl_last_repeated;       /* ... and it is already a repetition */
    bool pl_branch_empty;        /* the current branch can match "" so far */
    bool pl_before_last;         /* ... not counting its last element */
    bool pl_alt_empty;           /* an earlier branch can match "" */
};

/* The end (']') of the bracket expression starting at p ('['), or the last
 * byte before the terminator when it is unterminated. */
static const char *pattern_skip_bracket(const char *p)
{
    const char *q = p + 1;
    if (*q == '^')
        q++;
    if (*q == ']')
        q++;
    while (*q != '\0' && *q != ']') {
        if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
            char close = q[1];
            q += 2;
            while (*q != '\0' && !(q[0] == close && q[1] == ']'))
                q++;
            if (*q == '\0')
                break;
            q++;
        }
        q++;
    }
    return *q != '\0' ? q : q - 1;
}

/* Reads an interval "{m}", "{m,}" or "{m,n}" at p (glibc also takes "{,n}"
 * for "{0,n}"); *max is UINT64_MAX when unbounded. Returns its last byte,
 * or NULL when it is not one. */
static const char *pattern_interval(const char *p, uint64_t *min, uint64_t *max)
{
    uint64_t v[2] = {0, 0};
    int which = 0;
    bool digits[2] = {false, false};
    for (p++; *p != '}'; p++) {
        if (*p >= '0' && *p <= '9') {
            if (v[which] < 1000000)
                v[which] = v[which] * 10 + (uint64_t)(*p - '0');
            digits[which] = true;
        } else if (*p == ',' && which == 0) {
            which = 1;
        } else {
            return NULL;
        }
    }
    if (!digits[0] && which == 0)
        return NULL;
    *min = v[0];
    *max = which == 0 ? v[0] : digits[1] ? v[1] : UINT64_MAX;
    return p;
}

/* The element `e` repeated by a quantifier: glibc copies it once per
 * mandatory and per optional repetition. */
static struct pattern_cost pattern_repeat(struct pattern_cost e, uint64_t min, uint64_t max)
{
    struct pattern_cost r;
    uint64_t copies = max == UINT64_MAX ? min + 1 : max;
    if (copies == 0)
        copies = 1;
    r.pc_nodes = e.pc_nodes * copies + copies;
    r.pc_opt = e.pc_opt * copies + (max == UINT64_MAX ? 1 : max - min);
    r.pc_empty = e.pc_empty || min == 0;
    return r;
}

static enum pattern_status pattern_refuse(const char **why, const char *what)
{
    *why = what;
    return PATTERN_REFUSED;
}

static void pattern_level_open(struct pattern_level *l)
{
    memset(l, 0, sizeof(*l));
    l->pl_branch_empty = true;
}

static void pattern_level_add(struct pattern_level *l, struct pattern_cost e, bool repeated)
{
    l->pl_sum.pc_nodes += e.pc_nodes;
    l->pl_sum.pc_opt += e.pc_opt;
    l->pl_before_last = l->pl_branch_empty;
    l->pl_branch_empty = l->pl_branch_empty && e.pc_empty;
    l->pl_last = e;
    l->pl_has_last = true;
    l->pl_last_repeated = repeated;
}

/* Whether glibc's regcomp can build `src` at a bounded cost ("(a|)+",
 * "(a*){2}" and stacked "a?+" take it exponential time): PATTERN_OK, or a
 * refusal with *why set to a static explanation. */
static enum pattern_status pattern_estimate(const char *src, const char **why)
{
    struct pattern_level lv[PATTERN_MAX_NEST + 1];
    size_t depth = 0;
    pattern_level_open(&lv[0]);
    for (const char *p = src; *p != '\0'; p++) {
        struct pattern_level *l = &lv[depth];
        struct pattern_cost atom = {1, 0, false};
        bool repeated = false;
        uint64_t min;
        uint64_t max;
        const char *end;
        switch (*p) {
        case '\\':
            if (p[1] >= '1' && p[1] <= '9')
                return pattern_refuse(why, "back-references are not supported");
            /* GNU word-boundary anchors match the empty string */
            atom.pc_empty = p[1] != '\0' && strchr("bB<>`'", p[1]) != NULL;
            if (p[1] != '\0')
                p++;
            break;
        case '[':
            p = pattern_skip_bracket(p);
            break;
        case '^':
        case '$':
            atom.pc_empty = true;
            break;
        case '(':
            if (depth == PATTERN_MAX_NEST)
                return pattern_refuse(why, "groups are nested too deeply");
            pattern_level_open(&lv[++depth]);
            continue;
        case ')':
            if (depth == 0)
                break;
            atom = l->pl_sum;
            atom.pc_nodes++;
            atom.pc_empty = l->pl_alt_empty || l->pl_branch_empty;
            l = &lv[--depth];
            break;
        case '|':
            l->pl_sum.pc_nodes++;
            l->pl_sum.pc_opt++;
            l->pl_alt_empty = l->pl_alt_empty || l->pl_branch_empty;
            l->pl_branch_empty = true;
            l->pl_has_last = false;
            continue;
        case '*':
        case '?':
        case '+':
        case '{':
            if (*p == '{') {
                end = pattern_interval(p, &min, &max);
                if (end == NULL)
                    break; /* a literal brace */
            } else {
                end = p;
                min = *p == '+' ? 1 : 0;
                max = *p == '?' ? 1 : UINT64_MAX;
            }
            if (!l->pl_has_last)
                break; /* nothing to repeat: regcomp decides */
            if (l->pl_last_repeated)
                return pattern_refuse(why,
                                      "adjacent repetition operators (undefined in POSIX ERE)");
            if (l->pl_last.pc_empty)
                return pattern_refuse(why,
                                      "a repetition of something that can match the empty string");
            p = end;
            atom = pattern_repeat(l->pl_last, min, max);
            l->pl_sum.pc_nodes -= l->pl_last.pc_nodes;
            l->pl_sum.pc_opt -= l->pl_last.pc_opt;
            l->pl_branch_empty = l->pl_before_last;
            repeated = true;
            break;
        default:
            break;
        }
        pattern_level_add(l, atom, repeated);
        if (l->pl_sum.pc_nodes > PATTERN_MAX_NODES || l->pl_sum.pc_opt > PATTERN_MAX_OPTIONAL) {
            *why = "it is too complex for the regex engine";
            return PATTERN_TOO_COMPLEX;
        }
    }
    return PATTERN_OK;
}

enum pattern_status pattern_compile(regex_t *re, const char *src, char *why, size_t cap)
{
    const char *refusal = NULL;
    enum pattern_status st = pattern_estimate(src, &refusal);
    if (st != PATTERN_OK) {
        snprintf(why, cap, "%s", refusal);
        return st;
    }
    int rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, re, why, cap);
        return PATTERN_INVALID;
    }
    return PATTERN_OK;
}
