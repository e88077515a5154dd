/* pattern: the policy for untrusted POSIX EREs, at its limits. */
#include "ssemon/json/pattern.h"

#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Compiles `src`, asserts the status and, for a refusal, the explanation;
 * an accepted pattern is checked to match `subject`. */
static void expect(const char *src, enum pattern_status want, const char *why_or_subject)
{
    regex_t re;
    char why[PATTERN_WHY_MAX];
    memset(why, 0x55, sizeof(why));
    enum pattern_status st = pattern_compile(&re, src, why, sizeof(why));
    if (st != want)
        fail_msg("pattern \"%s\": status %d, expected %d", src, (int)st, (int)want);
    if (st != PATTERN_OK) {
        if (want != PATTERN_INVALID && strcmp(why, why_or_subject) != 0)
            fail_msg("pattern \"%s\": \"%s\", expected \"%s\"", src, why, why_or_subject);
        if (strlen(why) == 0)
            fail_msg("pattern \"%s\": refused without a reason", src);
        return;
    }
    int rc = regexec(&re, why_or_subject, 0, NULL, 0);
    regfree(&re);
    if (rc != 0)
        fail_msg("pattern \"%s\" does not match \"%s\"", src, why_or_subject);
}

static void test_accepted(void **state)
{
    (void)state;
    expect("^no$", PATTERN_OK, "no");
    expect("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", PATTERN_OK,
           "123e4567-e89b-12d3-a456-426614174000");
    expect("^.{1,200}$", PATTERN_OK, "x");
    expect("^(text/event-stream)(;.*)?$", PATTERN_OK, "text/event-stream; charset=utf-8");
    /* REG_NOSUB | REG_EXTENDED, unanchored, case-sensitive */
    expect("a+b", PATTERN_OK, "xxaab");
    expect("[[:alpha:]]|\\{x\\}", PATTERN_OK, "{x}");
}

static void test_limits(void **state)
{
    (void)state;
    /* a{0,n} adds n - 0 optional copies: 512 is the most */
    expect("^a{0,512}$", PATTERN_OK, "aaa");
    expect("^a{0,513}$", PATTERN_TOO_COMPLEX, "it is too complex for the regex engine");
    /* mandatory copies count as elements: 4096 is the most */
    char many[2049];
    memset(many, 'a', 2048);
    many[2048] = '\0';
    expect("a{2048}", PATTERN_OK, many);
    expect("a{2049}", PATTERN_TOO_COMPLEX, "it is too complex for the regex engine");
    /* nested repetitions multiply */
    expect("(((a{1,100}){1,100}){1,100})", PATTERN_TOO_COMPLEX,
           "it is too complex for the regex engine");
    expect("^.{1,5000}$", PATTERN_TOO_COMPLEX, "it is too complex for the regex engine");
    /* 64 nested groups, not 65 */
    char deep[2 * 65 + 2];
    memset(deep, '(', 64);
    deep[64] = 'a';
    memset(deep + 65, ')', 64);
    deep[129] = '\0';
    expect(deep, PATTERN_OK, "a");
    memset(deep, '(', 65);
    deep[65] = 'a';
    memset(deep + 66, ')', 65);
    deep[131] = '\0';
    expect(deep, PATTERN_REFUSED, "groups are nested too deeply");
}

static void test_refused(void **state)
{
    (void)state;
    expect("(a)\\1", PATTERN_REFUSED, "back-references are not supported");
    expect("x++", PATTERN_REFUSED, "adjacent repetition operators (undefined in POSIX ERE)");
    expect("(a|)+", PATTERN_REFUSED, "a repetition of something that can match the empty string");
    expect("(a*){2}", PATTERN_REFUSED, "a repetition of something that can match the empty string");
    expect("(\\<)*", PATTERN_REFUSED, "a repetition of something that can match the empty string");
    /* a brace that is no interval is left to regcomp */
    expect("a{x}", PATTERN_INVALID, NULL);
}

static void test_invalid(void **state)
{
    (void)state;
    expect("(", PATTERN_INVALID, NULL);
    expect("[a", PATTERN_INVALID, NULL);
    expect("a{1", PATTERN_INVALID, NULL);

    regex_t re;
    char why[PATTERN_WHY_MAX];
    assert_int_equal(pattern_compile(&re, "(", why, sizeof(why)), PATTERN_INVALID);
    assert_string_equal(why, "Unmatched ( or \\(");
    /* a short buffer gets a cut, terminated explanation */
    char small[8];
    assert_int_equal(pattern_compile(&re, "x++", small, sizeof(small)), PATTERN_REFUSED);
    assert_string_equal(small, "adjacen");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
