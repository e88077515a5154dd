/*
 * regex_lite: a fast matcher for the simple POSIX extended regular
 * expressions contracts use (timestamps, uuids, header values), so schema
 * `pattern`s do not cost a glibc regexec per event. Pure core module.
 *
 * Supported: literals, `\` + a special character, `.`, bracket expressions
 * (ranges, `^` negation, `]` first), groups `(...)` without `|`, the
 * quantifiers `? * + {n} {n,} {n,m}`, and `^`/`$` at the pattern's ends.
 * Anything else (alternation, back-references, character classes like
 * [:digit:], anchors elsewhere) makes regex_lite_compile return NULL: the
 * caller then uses regcomp/regexec. Matching is byte-wise, as regexec is in
 * the C locale, and an unanchored pattern is searched for anywhere.
 *
 * Matching explores the expression's automaton depth first with a step
 * budget; when a pathological pattern exceeds it, regex_lite_match returns
 * REGEX_LITE_UNKNOWN and the caller asks regexec, so results are always
 * exactly regexec's.
 */
#ifndef SSEMON_REGEX_LITE_H
#define SSEMON_REGEX_LITE_H

#include <stddef.h>

enum regex_lite_result {
    REGEX_LITE_NO_MATCH = 0,
    REGEX_LITE_MATCH = 1,
    REGEX_LITE_UNKNOWN = 2, /* budget exhausted: ask regexec */
};

struct regex_lite;

/* Returns NULL when the pattern is outside the subset (or is not a valid
 * ERE, or on allocation failure). The caller owns the result. */
struct regex_lite *regex_lite_compile(const char *pattern);
void regex_lite_free(struct regex_lite *re);

enum regex_lite_result regex_lite_match(const struct regex_lite *re, const char *s, size_t len);

#endif
