/*
 * ecma_regex: the one policy for regular expressions from untrusted documents (schema "pattern" and
 * "patternProperties", contract response-header patterns): ECMA-262 syntax and meaning, as JSON
 * Schema specifies, on PCRE2 with JIT, with PCRE2's match and depth limits as the one cost guard.
 * JSON layer, pure (libpcre2 only).
 *
 * Dialect: ECMA-262 patterns as a RegExp with the "u" flag and no other flag reads them (what JSON
 * Schema 2020-12 recommends and ajv does). The pattern is checked against that grammar and
 * translated to PCRE2 (UTF mode, no UCP): \d \w \b are ASCII, \s is ECMA's WhiteSpace and
 * LineTerminator, "." matches anything but \n \r U+2028 U+2029, "$" only the very end, \uXXXX
 * (surrogate pairs joined), \u{X..}, \xHH, \cX, \0, \p{..}/\P{..} with ECMA's property names, named
 * groups, \k<name>, back-references (an unset group matches ""), lookahead, lookbehind, lazy
 * quantifiers. What PCRE2 would accept but ECMA-262 has not (possessive quantifiers, atomic groups,
 * \A \Z \z \h \Q..\E \K, inline options, recursion, POSIX classes, verbs, callouts, unknown
 * escapes, lone "{" "}" "]") is INVALID with its offset. Known differences left: a lookbehind whose
 * alternatives are not each of fixed length is INVALID (PCRE2 10.42 cannot run it), and a capture
 * inside a repeated group keeps its value from an earlier iteration (ECMA resets it), which only a
 * back-reference can observe.
 *
 * Limits (the cost guard: whatever the pattern and subject, compile and search end in bounded
 * time and memory):
 * - compile: a pattern of at most ECMA_REGEX_SRC_MAX bytes, groups nested at most
 *   ECMA_REGEX_NEST_MAX deep, repetition counts at most 65535, and what PCRE2 compiles it to within
 *   its own size limit (64 KiB of code with Debian's build) and ECMA_REGEX_CODE_MAX; TOO_COSTLY
 *   beyond, with the reason.
 * - search: at most ECMA_REGEX_MATCH_BASE + ECMA_REGEX_MATCH_PER_BYTE x (subject length)
 *   backtracking steps, and ECMA_REGEX_MATCH_MAX in all (PCRE2's match limit; about 20 ms of
 *   catastrophic backtracking such as "^(a+)+$" on "aaa...a!"), ECMA_REGEX_DEPTH_MAX nested
 *   backtracking points and ECMA_REGEX_HEAP_KIB KiB of heap (interpreter only), a JIT stack of
 *   ECMA_REGEX_JIT_STACK_MAX bytes (a group can repeat some 30,000 times in one search).
 * - search of a subject of at most ECMA_REGEX_GUARD_FROM bytes: the plain compiled form; its work
 *   is at most those steps times (that length + the pattern's).
 * - search of a subject longer than ECMA_REGEX_GUARD_FROM bytes: the match limit does not count
 *   the characters a repeat moves over without backtracking, so a search that moves over the
 *   subject from each start position ("[a-z]+!!" on "aaa...a!") would cost the square of its
 *   length. Such subjects go to a second compiled form of the pattern with callouts that charge
 *   every character moved over, within ECMA_REGEX_SCAN_BASE + ECMA_REGEX_SCAN_PER_BYTE x
 *   (subject length). Back-references that fail are the one uncharged work.
 * Beyond a limit the search answers ECMA_REGEX_LIMIT: the answer is unknown, never a guess.
 */
#ifndef SSEMON_JSON_ECMA_REGEX_H
#define SSEMON_JSON_ECMA_REGEX_H

#include <stddef.h>

#define ECMA_REGEX_SRC_MAX 4096
#define ECMA_REGEX_NEST_MAX 64
#define ECMA_REGEX_CODE_MAX (256 * 1024)
#define ECMA_REGEX_MATCH_BASE 100000u
#define ECMA_REGEX_MATCH_PER_BYTE 32u
#define ECMA_REGEX_MATCH_MAX 2000000u
#define ECMA_REGEX_DEPTH_MAX 10000u
#define ECMA_REGEX_HEAP_KIB 8192u
#define ECMA_REGEX_JIT_STACK_MAX (1024 * 1024)
#define ECMA_REGEX_GUARD_FROM 256u
#define ECMA_REGEX_SCAN_BASE 1000000u
#define ECMA_REGEX_SCAN_PER_BYTE 8u

struct ecma_regex;

enum ecma_regex_status { ECMA_REGEX_OK = 0, ECMA_REGEX_INVALID, ECMA_REGEX_TOO_COSTLY };

/* Room for any explanation and its NUL. */
#define ECMA_REGEX_WHY_MAX 160

/* Compiles the ECMA-262 pattern src[0..len) (UTF-8, may hold NUL; borrowed). On ECMA_REGEX_OK *out
 * is the caller's (ecma_regex_free). Otherwise *out is NULL and why (cap bytes, ECMA_REGEX_WHY_MAX
 * is enough) says what is wrong, with the byte offset in src where there is one ("missing ) at
 * offset 4"), in words fit to follow "invalid pattern: ". Running out of memory is TOO_COSTLY. */
enum ecma_regex_status ecma_regex_compile(struct ecma_regex **out, const char *src, size_t len,
                                          char *why, size_t cap);

enum ecma_regex_match { ECMA_REGEX_NO_MATCH = 0, ECMA_REGEX_MATCH = 1, ECMA_REGEX_LIMIT = 2 };

/* Whether re matches somewhere in s[0..len) (unanchored, as JSON Schema's "pattern"). s may hold
 * NUL and need not be valid UTF-8 (an invalid sequence matches nothing, not even "."). No
 * allocation. Not thread-safe for one re: the search uses match data kept in it; distinct regexes
 * are independent. ECMA_REGEX_LIMIT: a limit above stopped the search, the answer is unknown. */
enum ecma_regex_match ecma_regex_search(const struct ecma_regex *re, const char *s, size_t len);

/* Frees re (NULL is fine). */
void ecma_regex_free(struct ecma_regex *re);

#endif
