/*
 * ecma_regex: ECMA-262 meaning on PCRE2, both sides of every translated construct, the refusals
 * with their offsets, the cost limits and hostile subjects. When ECMA_REGEX_JSTS names the
 * JSON-Schema-Test-Suite's optional/ecmascript-regex.json (not in the repository), its "pattern"
 * and "patternProperties" cases are run too; without it that test is skipped.
 */
#include "ssemon/json/ecma_regex.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static struct ecma_regex *compile_ok(const char *src, size_t len)
{
    struct ecma_regex *re = (struct ecma_regex *)1;
    char why[ECMA_REGEX_WHY_MAX];
    enum ecma_regex_status st = ecma_regex_compile(&re, src, len, why, sizeof(why));
    if (st != ECMA_REGEX_OK)
        fail_msg("pattern \"%s\": status %d (%s)", src, (int)st, why);
    return re;
}

/* The answer of pattern (NUL-terminated) on subject[0..len). */
static enum ecma_regex_match search_n(const char *src, const char *subject, size_t len)
{
    struct ecma_regex *re = compile_ok(src, strlen(src));
    enum ecma_regex_match m = ecma_regex_search(re, subject, len);
    ecma_regex_free(re);
    return m;
}

static void yes(const char *src, const char *subject)
{
    if (search_n(src, subject, strlen(subject)) != ECMA_REGEX_MATCH)
        fail_msg("pattern \"%s\" does not match \"%s\"", src, subject);
}

static void no(const char *src, const char *subject)
{
    if (search_n(src, subject, strlen(subject)) != ECMA_REGEX_NO_MATCH)
        fail_msg("pattern \"%s\" matches \"%s\"", src, subject);
}

/* The pattern is refused with status want and an explanation holding `why`. */
static void refused(const char *src, enum ecma_regex_status want, const char *why_has)
{
    struct ecma_regex *re = (struct ecma_regex *)1;
    char why[ECMA_REGEX_WHY_MAX];
    memset(why, 0x55, sizeof(why));
    enum ecma_regex_status st = ecma_regex_compile(&re, src, strlen(src), why, sizeof(why));
    if (st != want)
        fail_msg("pattern \"%s\": status %d, expected %d (%s)", src, (int)st, (int)want,
                 st == ECMA_REGEX_OK ? "" : why);
    assert_null(re);
    if (strstr(why, why_has) == NULL)
        fail_msg("pattern \"%s\": \"%s\", expected it to say \"%s\"", src, why, why_has);
}

static void test_class_escapes(void **state)
{
    (void)state;
    /* \d is ASCII digits only */
    yes("^\\d$", "0");
    no("^\\d$", "\xd9\xa0"); /* U+0660 ARABIC-INDIC DIGIT ZERO */
    yes("^\\D$", "\xd9\xa0");
    yes("^\\D$", "\xdf\x80"); /* U+07C0 NKO DIGIT ZERO (PCRE2's JIT got \D wrong here) */
    no("^\\D$", "7");
    yes("^[\\d]$", "5");
    no("^[\\d]$", "\xd9\xa0");
    yes("^[^\\d]$", "\xd9\xa0");
    /* \w and \b are ASCII */
    yes("^\\w$", "_");
    no("^\\w$", "\xc3\xa9"); /* é */
    yes("^\\W$", "\xc3\xa9");
    no("^\\W$", "a");
    yes("^[\\W]$", "\xc3\xa9");
    no("\\wcole", "\xc3\xa9"
                  "cole");
    yes("a\\b", "a\xc3\xa9");
    no("a\\B", "a\xc3\xa9");
    yes("^\\B\xc3\xa9", "\xc3\xa9");
    /* \s is ECMA's WhiteSpace and LineTerminator */
    static const char *const spaces[] = {"\t",           "\n",           "\v",
                                         "\f",           "\r",           " ",
                                         "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80",
                                         "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xa9",
                                         "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
                                         "\xef\xbb\xbf"};
    for (size_t i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++) {
        yes("^\\s$", spaces[i]);
        no("^\\S$", spaces[i]);
        yes("^[\\s]$", spaces[i]);
        no("^[\\S]$", spaces[i]);
        no("^[^\\s]$", spaces[i]);
    }
    no("^\\s$", "\xe2\x80\x8b"); /* U+200B ZERO WIDTH SPACE is not white space */
    yes("^\\S$", "\xe2\x80\x8b");
    no("^\\s$", "\x1c"); /* nor the information separators PCRE2's \s would take */
    yes("^\\S$", "x");
    yes("^\\S$", "\xf0\x9f\x98\x80"); /* a non-BMP character */
    yes("^[^\\S]$", " ");
    /* \p{..}: ECMA-262's names, Unicode meaning */
    yes("\\p{Letter}cole", "\xc3\xa9"
                           "cole");
    yes("^\\p{digit}+$", "\xd9\xa0\xd9\xa1");
    no("^\\p{digit}+$", "a");
    yes("^\\p{Nd}$", "\xdf\x80");
    yes("^\\p{General_Category=Decimal_Number}$", "3");
    yes("^\\P{L}$", "1");
    no("^\\P{Letter}$", "\xc3\xa9");
    yes("^[^\\P{Letter}]$", "\xc3\xa9");
    yes("^\\p{Script=Greek}$", "\xce\xb1");
    no("^\\p{sc=Greek}$", "a");
    yes("^\\p{scx=Latn}$", "a");
    yes("^\\p{ASCII}+$", "abc");
    yes("^\\p{Assigned}$", "a");
    no("^\\P{Assigned}$", "a");
    yes("^\\p{Lu}\\p{LC}$", "Ab");
}

static void test_chars_and_anchors(void **state)
{
    (void)state;
    /* . is anything but a line terminator */
    yes("^.$", "\xc3\xa9");
    yes("^.$", "\xf0\x9f\x90\xb2"); /* one non-BMP code point is one character */
    no("^.$", "\n");
    no("^.$", "\r");
    no("^.$", "\xe2\x80\xa8");
    no("^.$", "\xe2\x80\xa9");
    yes("^[^]$", "\n");
    no("[]", "a");
    no("[]", "");
    yes("^a[]*b$", "ab");
    /* $ only at the very end, ^ only at the start */
    no("^abc$", "abc\n");
    yes("^abc$", "abc");
    no("^b", "a\nb");
    no("a$", "a\nb");
    /* escapes */
    yes("^\\t$", "\t");
    no("^\\t$", "t");
    yes("^\\n\\r\\v\\f$", "\n\r\v\f");
    yes("^\\cC$", "\x03");
    yes("^\\cc$", "\x03");
    no("^\\cC$", "C");
    yes("^[\\cJ]$", "\n");
    yes("^\\u00e9$", "\xc3\xa9");
    no("^\\u00e9$", "e");
    yes("^\\x41$", "A");
    yes("^\\u{1F600}$", "\xf0\x9f\x98\x80");
    yes("^\\uD83D\\uDE00$", "\xf0\x9f\x98\x80"); /* a surrogate pair is one code point */
    no("\\uD83D", "\xf0\x9f\x98\x80");           /* a lone surrogate matches nothing */
    yes("^[\\uD83D\\uDE00]$", "\xf0\x9f\x98\x80");
    no("^[\\uD800]$", "a");
    yes("^[^\\uD800]$", "a");
    yes("^[\\u{1F600}-\\u{1F64F}]+$", "\xf0\x9f\x98\x80\xf0\x9f\x99\x8f");
    no("^[\\u{1F600}-\\u{1F64F}]$", "\xf0\x9f\x98\x80\xf0\x9f\x99\x8f");
    yes("^[\\uD000-\\uE000]$", "\xee\x80\x80");
    /* non-BMP literals are one character, quantifiers repeat the whole of it */
    yes("^\xf0\x9f\x90\xb2*$", "");
    yes("^\xf0\x9f\x90\xb2*$", "\xf0\x9f\x90\xb2\xf0\x9f\x90\xb2");
    no("^\xf0\x9f\x90\xb2*$", "\xf0\x9f\x90\x89");
    yes("^[\xf0\x9f\x90\xb2\xf0\x9f\x90\x89]{2}$", "\xf0\x9f\x90\x89\xf0\x9f\x90\xb2");
    /* identity escapes of syntax characters, \0, \b and \- in classes */
    yes("^\\^\\$\\\\\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\/$", "^$\\.*+?()[]{}|/");
    yes("^[\\b]$", "\b");
    yes("^[a\\-z]+$", "-");
    no("^[a\\-z]$", "b");
    yes("^[-a]$", "-");
    yes("^[a-]$", "-");
    yes("^[a-c-e]+$", "b-e");
    no("^[a-c-e]$", "d");
    /* a pattern with NUL, a subject with NUL */
    struct ecma_regex *re = compile_ok("a\0b", 3);
    assert_int_equal(ecma_regex_search(re, "xa\0b", 4), ECMA_REGEX_MATCH);
    assert_int_equal(ecma_regex_search(re, "ab", 2), ECMA_REGEX_NO_MATCH);
    ecma_regex_free(re);
    assert_int_equal(search_n("^\\0$", "\0", 1), ECMA_REGEX_MATCH);
    assert_int_equal(search_n("^a.b$", "a\0b", 3), ECMA_REGEX_MATCH);
    /* unanchored search, case-sensitive */
    yes("b+", "abbc");
    no("B", "abc");
    yes("", "");
}

static void test_groups(void **state)
{
    (void)state;
    yes("^(?:ab)+$", "abab");
    yes("^(a)(b)\\2\\1$", "abba");
    no("^(a)(b)\\2\\1$", "abab");
    yes("^(?<x>a)\\k<x>$", "aa");
    yes("^(?<\xc3\xa9t\xc3\xa9>a)\\k<\\u00e9t\\u00e9>$", "aa");
    yes("^\\k<y>(?<y>a)$", "a"); /* a reference to a group not yet set matches "" */
    yes("^(a)|\\1b$", "b");      /* ... as does one to a group of another branch */
    yes("(?<=\\$)\\d+", "$42");  /* lookbehind */
    no("(?<=\\$)\\d+", "42");
    yes("(?<!\\$)\\b\\d+", "42");
    no("^(?<!\\$)\\d+$", "$42");
    yes("^(?=.*\\d)(?!.*x).+$", "a1");
    no("^(?=.*\\d)(?!.*x).+$", "a1x");
    /* lazy quantifiers */
    yes("^a+?b$", "aaab");
    yes("^a{2,3}?$", "aa");
    yes("^a{2,}$", "aaaaa");
    no("^a{2}$", "aaa");
    yes("^(a|b)*?c$", "ababc");
}

static void test_refused(void **state)
{
    (void)state;
    /* what PCRE2 would take but ECMA-262 (u flag) has not, at its offset */
    refused("a++", ECMA_REGEX_INVALID, "nothing to repeat at offset 2");
    refused("a?+", ECMA_REGEX_INVALID, "nothing to repeat at offset 2");
    refused("(?>a)", ECMA_REGEX_INVALID, "not ECMA-262");
    refused("x(?i)a", ECMA_REGEX_INVALID, "at offset 1");
    refused("(?R)", ECMA_REGEX_INVALID, "at offset 0");
    refused("(?#c)", ECMA_REGEX_INVALID, "at offset 0");
    refused("(?P<n>a)", ECMA_REGEX_INVALID, "at offset 0");
    refused("(?|a)", ECMA_REGEX_INVALID, "at offset 0");
    refused("(*UTF)a", ECMA_REGEX_INVALID, "nothing to repeat at offset 1");
    refused("(?C1)a", ECMA_REGEX_INVALID, "at offset 0");
    refused("\\Aa", ECMA_REGEX_INVALID, "\\A is not an ECMA-262 escape (Unicode mode) at offset 0");
    refused("a\\Z", ECMA_REGEX_INVALID, "\\Z is not an ECMA-262 escape");
    refused("a\\z", ECMA_REGEX_INVALID, "\\z is not");
    refused("\\h", ECMA_REGEX_INVALID, "\\h is not");
    refused("ab\\Qa.b\\E", ECMA_REGEX_INVALID,
            "\\Q is not an ECMA-262 escape (Unicode mode) "
            "at offset 2");
    refused("a\\Kb", ECMA_REGEX_INVALID, "\\K is not");
    refused("\\e", ECMA_REGEX_INVALID, "\\e is not");
    refused("\\a", ECMA_REGEX_INVALID, "\\a is not");
    refused("[\\e]", ECMA_REGEX_INVALID,
            "\\e is not an ECMA-262 escape (Unicode mode) at offset 1");
    refused("[[:alpha:]]", ECMA_REGEX_INVALID, "lone ] (write \\]) at offset 10");
    refused("\\g{1}(a)", ECMA_REGEX_INVALID, "\\g is not");
    refused("\\p{L&}", ECMA_REGEX_INVALID, "bad character in \\p{...} at offset 4");
    refused("\\p{letter}", ECMA_REGEX_INVALID, "unknown Unicode property in \\p{...} at offset 0");
    refused("\\pL", ECMA_REGEX_INVALID, "\\p needs {property} at offset 0");
    refused("\\p{gc=Foo}", ECMA_REGEX_INVALID, "unknown General_Category value");
    refused("a\\p{Script=NoSuchScript}", ECMA_REGEX_INVALID,
            "unknown property after \\P or \\p at offset 1");
    /* ECMA-262's own syntax errors */
    refused("(ab", ECMA_REGEX_INVALID, "missing ) for the ( at offset 0");
    refused("ab)", ECMA_REGEX_INVALID, "unmatched ) at offset 2");
    refused("[ab", ECMA_REGEX_INVALID, "missing ] for the [ at offset 0");
    refused("a]", ECMA_REGEX_INVALID, "lone ] (write \\]) at offset 1");
    refused("a{", ECMA_REGEX_INVALID, "lone { (write \\{) at offset 1");
    refused("a{1,x}", ECMA_REGEX_INVALID, "lone { (write \\{) at offset 1");
    refused("}", ECMA_REGEX_INVALID, "lone } (write \\}) at offset 0");
    refused("*a", ECMA_REGEX_INVALID, "nothing to repeat at offset 0");
    refused("a|*", ECMA_REGEX_INVALID, "nothing to repeat at offset 2");
    refused("^*", ECMA_REGEX_INVALID, "nothing to repeat at offset 1");
    refused("\\b+", ECMA_REGEX_INVALID, "nothing to repeat at offset 2");
    refused("(?=a)*", ECMA_REGEX_INVALID, "nothing to repeat at offset 5");
    refused("a{2,1}", ECMA_REGEX_INVALID, "numbers out of order in {} quantifier at offset 1");
    refused("[z-a]", ECMA_REGEX_INVALID, "range out of order in class at offset 1");
    refused("[\\d-z]", ECMA_REGEX_INVALID, "class escape as a range bound at offset 1");
    refused("\\1(a)(b)\\3", ECMA_REGEX_INVALID,
            "back-reference to a group that does not exist at offset 8");
    refused("\\k<n>", ECMA_REGEX_INVALID, "\\k<...> names no group at offset 0");
    refused("\\k", ECMA_REGEX_INVALID, "\\k needs <name> at offset 0");
    refused("(?<n>a)(?<n>b)", ECMA_REGEX_INVALID, "duplicate group name at offset 7");
    refused("(?<1n>a)", ECMA_REGEX_INVALID, "bad group name at offset 3");
    refused("\\01", ECMA_REGEX_INVALID, "octal escapes are not ECMA-262");
    refused("[\\1]", ECMA_REGEX_INVALID, "\\1 is not");
    refused("\\c1", ECMA_REGEX_INVALID, "\\c needs an ASCII letter at offset 0");
    refused("\\x4", ECMA_REGEX_INVALID, "\\x needs 2 hex digits at offset 0");
    refused("a\\u12", ECMA_REGEX_INVALID, "\\u needs 4 hex digits or {hex} at offset 1");
    refused("\\u{110000}", ECMA_REGEX_INVALID, "\\u{...} above 10FFFF at offset 0");
    refused("\\u{}", ECMA_REGEX_INVALID, "\\u{ needs hex digits and } at offset 0");
    refused("ab\\", ECMA_REGEX_INVALID, "\\ at end of pattern at offset 2");
    refused("a\xc3", ECMA_REGEX_INVALID, "invalid UTF-8 at offset 1");
    refused("a\xed\xa0\x80", ECMA_REGEX_INVALID, "invalid UTF-8 at offset 1");
    refused("[\xff]", ECMA_REGEX_INVALID, "invalid UTF-8 at offset 1");
    /* what PCRE2 10.42 cannot run, with PCRE2's words at the ECMA offset */
    refused("ab(?<=a+)b", ECMA_REGEX_INVALID,
            "lookbehind assertion is not fixed length at offset 2");
}

static void test_cost(void **state)
{
    (void)state;
    char big[ECMA_REGEX_SRC_MAX + 2];
    memset(big, 'a', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    refused(big, ECMA_REGEX_TOO_COSTLY, "pattern longer than 4096 bytes (4097)");
    big[ECMA_REGEX_SRC_MAX] = '\0';
    ecma_regex_free(compile_ok(big, ECMA_REGEX_SRC_MAX));

    refused("a{65536}", ECMA_REGEX_TOO_COSTLY, "repetition count above 65535 at offset 1");
    refused("a{1,99999999999999999999}", ECMA_REGEX_TOO_COSTLY, "above 65535 at offset 1");
    refused("((a{1000}){1000}){1000}", ECMA_REGEX_TOO_COSTLY, "too large");
    refused("x((a|b|c|d)(e|f)?){2000}", ECMA_REGEX_TOO_COSTLY,
            "regular expression is too large at offset");

    char deep[2 * 70 + 2];
    for (int i = 0; i < 70; i++) {
        deep[i] = '(';
        deep[70 + 1 + i] = ')';
    }
    deep[70] = 'a';
    deep[sizeof(deep) - 1] = '\0';
    refused(deep, ECMA_REGEX_TOO_COSTLY, "groups nested deeper than 64 at offset 64");

    /* catastrophic backtracking stops at the match limit, quickly */
    static const char *const bombs[] = {"^(a+)+$",         "^(a|a)*$",
                                        "^(a|aa)+$",       "^(\\w+\\s?)*$",
                                        "^(a?){25}a{25}$", "^(([a-z])+.)+[A-Z]([a-z])+$"};
    size_t lens[] = {30, 4096, 1 << 20};
    for (size_t i = 0; i < sizeof(bombs) / sizeof(bombs[0]); i++) {
        struct ecma_regex *re = compile_ok(bombs[i], strlen(bombs[i]));
        for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
            char *s = malloc(lens[j]);
            assert_non_null(s);
            memset(s, 'a', lens[j]);
            s[lens[j] - 1] = '!';
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            enum ecma_regex_match m = ecma_regex_search(re, s, lens[j]);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double ms =
                (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
            if (m != ECMA_REGEX_LIMIT)
                fail_msg("\"%s\" on %zu bytes: %d, expected the limit", bombs[i], lens[j], m);
            /* generous for a loaded machine; typically a few ms up to 30 ms */
            if (ms > 500)
                fail_msg("\"%s\" on %zu bytes took %.1f ms", bombs[i], lens[j], ms);
            free(s);
        }
        ecma_regex_free(re);
    }
    /* a legitimate search over a long subject stays within the limits: a long subject with a
     * pattern that needs no repeated group, a group repeated 8192 times */
    size_t n = 1 << 20;
    char *s = malloc(n);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (i % 8 == 7) ? ' ' : 'a';
    struct ecma_regex *re = compile_ok("^[\\w\\s]*$|x", 11);
    assert_int_equal(ecma_regex_search(re, s, n), ECMA_REGEX_MATCH);
    ecma_regex_free(re);
    re = compile_ok("^(\\w+\\s?)*$", 11);
    assert_int_equal(ecma_regex_search(re, s, 8 << 13), ECMA_REGEX_MATCH);
    ecma_regex_free(re);
    free(s);
}

/* A search over a long subject that would move over it once per start position (no backtracking
 * for the match limit to count) stops at the scan budget; legitimate searches do not. */
static void test_scan_guard(void **state)
{
    (void)state;
    size_t n = 1 << 20;
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, 'a', n);
    s[n - 1] = '!';
    s[n] = '\0';
    static const char *const quadratic[] = {"[a-z]+!!", "\\w+\\W\\w", "(?=[a-z]*!)[a-z]+!a",
                                            "[a-z]{20000}!!", "(?=(a+))a*!\\1"};
    for (size_t i = 0; i < sizeof(quadratic) / sizeof(quadratic[0]); i++) {
        struct ecma_regex *re = compile_ok(quadratic[i], strlen(quadratic[i]));
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        enum ecma_regex_match m = ecma_regex_search(re, s, n);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (m != ECMA_REGEX_LIMIT || ms > 500)
            fail_msg("\"%s\" on 1 MiB: %d in %.1f ms, expected the limit", quadratic[i], m, ms);
        /* the same pattern on a short subject answers */
        assert_int_equal(ecma_regex_search(re, "aaaa!", 5), ECMA_REGEX_NO_MATCH);
        ecma_regex_free(re);
    }
    /* a repeat that fails short of its minimum is charged that minimum: blocks of 19999 */
    for (size_t i = 19999; i < n; i += 20000)
        s[i] = '!';
    struct ecma_regex *short_re = compile_ok("[a-z]{20000}", 12);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum ecma_regex_match sm = ecma_regex_search(short_re, s, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (sm != ECMA_REGEX_LIMIT || sms > 500)
        fail_msg("[a-z]{20000} on blocks of 19999: %d in %.1f ms, expected the limit", sm, sms);
    ecma_regex_free(short_re);
    memset(s, 'a', n);
    s[n - 1] = '!';
    /* a byte every match needs is looked for first, as PCRE2 does */
    no("a.*b.*c.*d.*e", s);
    no("(a*)*b", s);
    /* legitimate searches over the long subject */
    for (size_t i = 0; i < n - 1; i++)
        s[i] = (i % 8 == 7) ? ' ' : (char)('a' + i % 7);
    memcpy(s + n - 10, " 555-1234", 9);
    yes("\\d{3}-\\d{4}", s);
    yes("(?<=\\s)\\d+-\\d+\\b", s);
    yes("(?:efga|bcd)+ c", s);
    no("(?:abcd|efg)+ ab", s);
    yes("^[a-g ]+555-1234!$", s);
    /* a group repeated for every word: 8192 iterations (64 KiB) fit the JIT stack */
    size_t m = 64 * 1024;
    memcpy(s + m - 10, " 555-1234!", 10);
    assert_int_equal(search_n("^[a-g]+(?: [a-g]+)* 555", s, m), ECMA_REGEX_MATCH);
    /* and one for every character: 16384 */
    m = 16 * 1024;
    memcpy(s + m - 10, " 555-1234!", 10);
    assert_int_equal(search_n("^(?:[\\w-]| )+!$", s, m), ECMA_REGEX_MATCH);
    assert_int_equal(search_n("^(?:[\\w-]| )+\\?$", s, m), ECMA_REGEX_NO_MATCH);
    free(s);
}

static void test_invalid_utf8_subjects(void **state)
{
    (void)state;
    static const char *const pats[] = {"^.$",    "\\D", "\\W",  "\\S",  "[^a]",
                                       "\\p{L}", "x",   "^.*$", "\\bx", "(?<=.)x"};
    static const char *const subjects[] = {"\xff",   "\xc3",      "\xed\xa0\x80",
                                           "a\x80x", "\xc0\xafx", "\xf4\x90\x80\x80x"};
    for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
        struct ecma_regex *re = compile_ok(pats[i], strlen(pats[i]));
        for (size_t j = 0; j < sizeof(subjects) / sizeof(subjects[0]); j++) {
            enum ecma_regex_match m = ecma_regex_search(re, subjects[j], strlen(subjects[j]));
            assert_true(m == ECMA_REGEX_MATCH || m == ECMA_REGEX_NO_MATCH);
        }
        ecma_regex_free(re);
    }
    /* an invalid sequence is no character, the valid text around it is searched */
    no("^.$", "\xff");
    no("\\D", "\xff");
    yes("x", "\xff\xfe"
             "x");
    yes("^x", "x\xff");
    no("^.*$", "a\x80");
    yes("\xc3\xa9", "\xff\xc3\xa9");
}

/* ---- the JSON-Schema-Test-Suite's optional/ecmascript-regex.json, when given ---- */

static int jsts_case(const json_t *schema, const json_t *data)
{
    const json_t *pp = json_object_get(schema, "patternProperties");
    const char *pat = NULL;
    if (pp != NULL) {
        /* {"patternProperties": {P: true}, "additionalProperties": false}: every key matches P */
        void *it = json_object_iter((json_t *)pp);
        pat = json_object_iter_key(it);
    } else {
        pat = json_string_value(json_object_get(schema, "pattern"));
    }
    if (pat == NULL)
        return -1;
    struct ecma_regex *re = compile_ok(pat, strlen(pat));
    int valid = 1;
    if (pp == NULL) {
        valid = !json_is_string(data) ||
                ecma_regex_search(re, json_string_value(data), json_string_length(data)) ==
                    ECMA_REGEX_MATCH;
    } else if (json_is_object(data)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)data, k, v)
        {
            if (ecma_regex_search(re, k, strlen(k)) != ECMA_REGEX_MATCH)
                valid = 0;
        }
    }
    ecma_regex_free(re);
    return valid;
}

static void test_jsts(void **state)
{
    (void)state;
    const char *path = getenv("ECMA_REGEX_JSTS");
    if (path == NULL || path[0] == '\0')
        skip();
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (root == NULL)
        fail_msg("%s:%d: %s", path, err.line, err.text);
    size_t i, j, pass = 0, total = 0;
    json_t *group, *t;
    json_array_foreach(root, i, group)
    {
        const json_t *schema = json_object_get(group, "schema");
        json_array_foreach(json_object_get(group, "tests"), j, t)
        {
            int got = jsts_case(schema, json_object_get(t, "data"));
            if (got < 0)
                continue;
            total++;
            if (got == json_is_true(json_object_get(t, "valid")))
                pass++;
            else
                print_message("wrong: %s / %s\n",
                              json_string_value(json_object_get(group, "description")),
                              json_string_value(json_object_get(t, "description")));
        }
    }
    print_message("ecmascript-regex.json: %zu of %zu pattern tests pass\n", pass, total);
    json_decref(root);
    assert_int_equal(pass, total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_escapes),
        cmocka_unit_test(test_chars_and_anchors),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_scan_guard),
        cmocka_unit_test(test_invalid_utf8_subjects),
        cmocka_unit_test(test_jsts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
