/* regex_lite must agree with glibc's regexec on every pattern it accepts. */
#include "ssemon/json/regex_lite.h"

#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static const char *const supported[] = {
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{6})?[+]00:00$",
    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    "^no$",
    "no-cache",
    "^text/event-stream(;.*)?$",
    "a+b*c?",
    "^(ab)+$",
    "^(a|b)$" /* not supported: alternation */,
    "x{2,3}y{0,}z{1,}",
    "^[^0-9]*$",
    "[]a-]+",
    "\\.\\+\\$",
    "^$",
    "",
    "(a(b(c)?)*)+d",
    "^.{3,5}$",
    "[:]",
};

static const char *const unsupported[] = {
    "a|b", "[[:digit:]]", "\\d", "a**", "(a)\\1", "a{2", "x{3,1}", "^a^b", "a$b", "()", "[z-a]",
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void random_string(char *buf, size_t *len, const char *pattern)
{
    static const char alphabet[] = "0123456789abcdefxyzT-:+.;/ ntoe-cachtsr\n";
    /* Half the time start from the pattern's own literals so matches occur. */
    size_t n = rnd(40);
    for (size_t i = 0; i < n; i++) {
        if (rnd(2) == 0 && pattern[0] != '\0')
            buf[i] = pattern[rnd((unsigned)strlen(pattern))];
        else
            buf[i] = alphabet[rnd(sizeof(alphabet) - 1)];
    }
    buf[n] = '\0';
    *len = n;
}

static void check_agrees(const char *pattern, const char *s, size_t len, struct regex_lite *lite,
                         const regex_t *re)
{
    enum regex_lite_result r = regex_lite_match(lite, s, len);
    if (r == REGEX_LITE_UNKNOWN)
        return;
    int want = regexec(re, s, 0, NULL, 0) == 0;
    if ((r == REGEX_LITE_MATCH) != want)
        fail_msg("pattern \"%s\" on \"%s\": regex_lite %d, regexec %d", pattern, s, r, want);
}

static void test_agrees_with_regexec(void **state)
{
    (void)state;
    size_t compiled = 0;
    for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
        const char *pat = supported[i];
        struct regex_lite *lite = regex_lite_compile(pat);
        if (strchr(pat, '|') != NULL) {
            assert_null(lite);
            continue;
        }
        assert_non_null(lite);
        compiled++;
        regex_t re;
        assert_int_equal(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
        char buf[64];
        size_t len;
        for (int k = 0; k < 20000; k++) {
            random_string(buf, &len, pat);
            check_agrees(pat, buf, len, lite, &re);
        }
        regfree(&re);
        regex_lite_free(lite);
    }
    assert_int_equal(compiled, sizeof(supported) / sizeof(supported[0]) - 1);
}

static void test_real_values(void **state)
{
    (void)state;
    struct regex_lite *ts = regex_lite_compile(supported[0]);
    struct regex_lite *uuid = regex_lite_compile(supported[1]);
    assert_non_null(ts);
    assert_non_null(uuid);
    const char *good = "2025-11-19T21:00:00.123456+00:00";
    assert_int_equal(regex_lite_match(ts, good, strlen(good)), REGEX_LITE_MATCH);
    const char *whole = "2025-11-19T21:00:00+00:00";
    assert_int_equal(regex_lite_match(ts, whole, strlen(whole)), REGEX_LITE_MATCH);
    const char *zulu = "2025-11-19T21:00:00.123456Z";
    assert_int_equal(regex_lite_match(ts, zulu, strlen(zulu)), REGEX_LITE_NO_MATCH);
    const char *id = "5b2c1e9a-3f4d-4c1b-9a8e-1234567890ab";
    assert_int_equal(regex_lite_match(uuid, id, strlen(id)), REGEX_LITE_MATCH);
    assert_int_equal(regex_lite_match(uuid, id, strlen(id) - 1), REGEX_LITE_NO_MATCH);
    /* A string with a NUL is left to the caller. */
    assert_int_equal(regex_lite_match(uuid, "a\0b", 3), REGEX_LITE_UNKNOWN);
    regex_lite_free(ts);
    regex_lite_free(uuid);
}

static void test_unsupported_falls_back(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
        struct regex_lite *lite = regex_lite_compile(unsupported[i]);
        if (lite != NULL)
            fail_msg("\"%s\" should be left to regcomp", unsupported[i]);
    }
}

static void test_budget(void **state)
{
    (void)state;
    /* An empty-matching loop never consumes: the budget ends it. */
    struct regex_lite *lite = regex_lite_compile("(a?)*b");
    assert_non_null(lite);
    assert_int_equal(regex_lite_match(lite, "aaac", 4), REGEX_LITE_UNKNOWN);
    regex_lite_free(lite);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agrees_with_regexec),
        cmocka_unit_test(test_real_values),
        cmocka_unit_test(test_unsupported_falls_back),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
