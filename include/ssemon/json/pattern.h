/*
 * pattern: the one policy for POSIX extended regular expressions that come
 * from untrusted documents (a schema's "pattern", a contract's response
 * header rule). JSON layer: libc only, no global state.
 *
 * glibc's regcomp expands every repetition into copies, builds closures that
 * grow with the square of chains of optional elements, and takes
 * exponential time on repetitions of something that can match the empty
 * string, so a pattern a few dozen bytes long can cost gigabytes or hours
 * before a single string is matched. pattern_compile estimates that cost
 * first and refuses what is out of bounds, and back-references, whose
 * matching can take exponential time; regcomp still decides what is valid.
 */
#ifndef SSEMON_JSON_PATTERN_H
#define SSEMON_JSON_PATTERN_H

#include <regex.h>
#include <stddef.h>

/* Room for any pattern_compile explanation and its NUL. */
#define PATTERN_WHY_MAX 128

enum pattern_status {
    PATTERN_OK = 0,
    /* A construct the policy refuses whatever its size (back-references,
     * adjacent repetition operators, repeating what can match "", groups
     * nested too deeply). */
    PATTERN_REFUSED,
    /* Within the constructs allowed, but regcomp would expand it beyond a
     * few thousand elements (e.g. "^.{1,5000}$"). */
    PATTERN_TOO_COMPLEX,
    /* regcomp's own refusal (syntax, or its memory running out). */
    PATTERN_INVALID,
};

/* Compiles `src` (NUL-terminated, borrowed) with REG_EXTENDED | REG_NOSUB
 * into *re. On PATTERN_OK the caller owns *re (regfree). Otherwise *re holds
 * nothing to free, and `why` (cap bytes, PATTERN_WHY_MAX is enough) says
 * what is wrong in words fit to follow "refused: " or "invalid ...: ". */
enum pattern_status pattern_compile(regex_t *re, const char *src, char *why, size_t cap);

#endif
