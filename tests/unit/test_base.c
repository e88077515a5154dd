/* base: utf8, numfmt, clock and splitmix, each tested once here for every
 * layer that uses them. */
#include "ssemon/base/clock.h"
#include "ssemon/base/numfmt.h"
#include "ssemon/base/splitmix.h"
#include "ssemon/base/utf8.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define LEN(s) (sizeof(s) - 1)

static void test_utf8_seq_len(void **state)
{
    (void)state;
    assert_int_equal(utf8_seq_len((const unsigned char *)"a", 1), 1);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xC3\xA9", 2), 2);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xE2\x82\xAC", 3), 3);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xF0\x9F\x98\x80", 4), 4);
    /* truncated */
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xE2\x82", 2), 0);
    /* overlongs, surrogates, above U+10FFFF, stray continuation, C0/C1, F5+ */
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xC0\xAF", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xC1\xBF", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xE0\x9F\xBF", 3), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xED\xA0\x80", 3), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xF0\x8F\xBF\xBF", 4), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xF4\x90\x80\x80", 4), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xF5\x80\x80\x80", 4), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\x80", 1), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xE2\x28\xA1", 3), 0);
    /* the edges that are valid */
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xED\x9F\xBF", 3), 3);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xF4\x8F\xBF\xBF", 4), 4);
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("h\xC3\xA9llo \xE2\x82\xAC", LEN("h\xC3\xA9llo \xE2\x82\xAC")));
    assert_true(utf8_valid("a\0b", 3)); /* NUL is valid UTF-8 */
    assert_false(utf8_valid("abc\xC3", 4));
    assert_false(utf8_valid("\xFF", 1));
    assert_false(utf8_valid("ok\xED\xB0\x80", 5));
}

static void test_utf8_cut(void **state)
{
    (void)state;
    const char *s = "ab\xE2\x82\xAC"
                    "cd"; /* "ab€cd", € is 3 bytes at [2,5) */
    size_t len = strlen(s);
    assert_int_equal(utf8_cut(s, len, 100), len);
    assert_int_equal(utf8_cut(s, len, len), len);
    assert_int_equal(utf8_cut(s, len, 2), 2);
    assert_int_equal(utf8_cut(s, len, 3), 2);
    assert_int_equal(utf8_cut(s, len, 4), 2);
    assert_int_equal(utf8_cut(s, len, 5), 5);
    assert_int_equal(utf8_cut(s, len, 0), 0);
}

static void test_utf8_trim_partial(void **state)
{
    (void)state;
    assert_int_equal(utf8_trim_partial("", 0), 0);
    assert_int_equal(utf8_trim_partial("abc", 3), 3);
    assert_int_equal(utf8_trim_partial("ab\xC3\xA9", 4), 4);     /* complete */
    assert_int_equal(utf8_trim_partial("ab\xC3", 3), 2);         /* 1 of 2 */
    assert_int_equal(utf8_trim_partial("ab\xE2\x82", 4), 2);     /* 2 of 3 */
    assert_int_equal(utf8_trim_partial("ab\xE2\x82\xAC", 5), 5); /* complete */
    assert_int_equal(utf8_trim_partial("a\xF0\x9F\x98", 4), 1);  /* 3 of 4 */
    assert_int_equal(utf8_trim_partial("a\xF0\x9F\x98\x80", 5), 5);
    assert_int_equal(utf8_trim_partial("a\x80\x80", 3), 3); /* stray continuations: kept */
    assert_int_equal(utf8_trim_partial("\x80\x80\x80\x80\x80", 5), 5);
}

static void test_utf8_bom_len(void **state)
{
    (void)state;
    assert_int_equal(utf8_bom_len("\xEF\xBB\xBF{}", 5), 3);
    assert_int_equal(utf8_bom_len("\xEF\xBB\xBF", 3), 3);
    assert_int_equal(utf8_bom_len("\xEF\xBB", 2), 0);
    assert_int_equal(utf8_bom_len("{}", 2), 0);
    assert_int_equal(utf8_bom_len("", 0), 0);
}

static void test_utf8_copy(void **state)
{
    (void)state;
    char buf[5];
    assert_int_equal(utf8_copy(buf, sizeof(buf), "ab\xE2\x82\xAC"), 2);
    assert_string_equal(buf, "ab");
    assert_int_equal(utf8_copy(buf, sizeof(buf), "abcd"), 4);
    assert_string_equal(buf, "abcd");
    assert_int_equal(utf8_copy(buf, sizeof(buf), NULL), 0);
    assert_string_equal(buf, "");
    assert_int_equal(utf8_copy(buf, 1, "abc"), 0);
    assert_string_equal(buf, "");
}

static void test_utf8_is_lead(void **state)
{
    (void)state;
    assert_true(utf8_is_lead('a'));
    assert_true(utf8_is_lead(0xC3));
    assert_false(utf8_is_lead(0x80));
    assert_false(utf8_is_lead(0xBF));
}

static void fmt(double v, int min_prec, const char *want)
{
    char buf[NUMFMT_DOUBLE_MAX];
    size_t n = numfmt_double(buf, sizeof(buf), v, min_prec);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    assert_true(strtod(buf, NULL) == v);
}

static void test_numfmt_hex_digit(void **state)
{
    (void)state;
    const char *digits = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        assert_int_equal(numfmt_hex_digit(digits[i]), i);
        if (i >= 10)
            assert_int_equal(numfmt_hex_digit(digits[i] - 'a' + 'A'), i);
    }
    /* every other byte, the neighbours of each range included */
    for (int c = 0; c < 256; c++) {
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex)
            assert_int_equal(numfmt_hex_digit(c), -1);
    }
}

static void test_numfmt_double(void **state)
{
    (void)state;
    fmt(0.1, 1, "0.1");
    fmt(1e10, 1, "1e+10");
    fmt(1e10, 15, "10000000000");
    fmt(0.005, 15, "0.005");
    fmt(1.0 / 3.0, 1, "0.3333333333333333");
    fmt(0.1 + 0.2, 15, "0.30000000000000004");
    fmt(-2.5, 1, "-2.5");
    fmt(5e-324, 1, "5e-324");
    fmt(1.7976931348623157e308, 1, "1.7976931348623157e+308");
    fmt(0.0, 1, "0");
}

/* Every double numfmt writes reads back exactly: a sweep of bit patterns. */
static void test_numfmt_roundtrip(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof(v));
        if (v != v || v - v != 0) /* NaN or infinite */
            continue;
        char a[NUMFMT_DOUBLE_MAX], b[NUMFMT_DOUBLE_MAX];
        numfmt_double(a, sizeof(a), v, 1);
        numfmt_double(b, sizeof(b), v, 15);
        assert_true(strtod(a, NULL) == v);
        assert_true(strtod(b, NULL) == v);
        assert_true(strlen(a) <= strlen(b) || strchr(b, 'e') == NULL);
    }
}

static void test_numfmt_u64(void **state)
{
    (void)state;
    static const struct {
        uint64_t v;
        const char *want;
    } cases[] = {{0, "0"},
                 {9, "9"},
                 {10, "10"},
                 {1234567890, "1234567890"},
                 {UINT64_MAX, "18446744073709551615"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[NUMFMT_U64_MAX + 1];
        char *end = numfmt_u64(buf, cases[i].v);
        *end = '\0';
        assert_string_equal(buf, cases[i].want);
    }
    /* Against snprintf over a sweep. */
    uint64_t x = 0x2545F4914F6CDD1Du;
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t v = x >> (i % 64);
        char a[NUMFMT_U64_MAX + 1], b[32];
        *numfmt_u64(a, v) = '\0';
        snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
        assert_string_equal(a, b);
    }
}

static void test_clock(void **state)
{
    (void)state;
    uint64_t m1 = clock_mono_ms(), m2 = clock_mono_ms();
    assert_true(m2 >= m1);
    /* After 2020-01-01 and before 2200-01-01. */
    uint64_t w = clock_wall_ms();
    assert_true(w > 1577836800000u);
    assert_true(w < 7258118400000u);
}

/* clock_rfc3339 against gmtime_r over 1970 to 9999, and the clamp past it. */
static void test_clock_rfc3339(void **state)
{
    (void)state;
    char buf[CLOCK_RFC3339_SIZE], want[64];
    clock_rfc3339(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    clock_rfc3339(1700000000123u, buf);
    assert_string_equal(buf, "2023-11-14T22:13:20.123Z");
    clock_rfc3339(951782400000u, buf); /* a leap day of a century leap year */
    assert_string_equal(buf, "2000-02-29T00:00:00.000Z");
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 5000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t ms = x % 253402300800000u;
        time_t secs = (time_t)(ms / 1000u);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(ms % 1000u));
        clock_rfc3339(ms, buf);
        assert_string_equal(buf, want);
    }
    clock_rfc3339(UINT64_MAX, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
}

static void test_clock_mono_us(void **state)
{
    (void)state;
    uint64_t ms = clock_mono_ms();
    uint64_t us = clock_mono_us();
    assert_true(us / 1000u >= ms);
    assert_true(us / 1000u - ms < 60000u);
}

/* The published splitmix64 sequence from seed 0, and a state that wraps. */
static void test_splitmix(void **state)
{
    (void)state;
    uint64_t s = 0;
    assert_true(splitmix_next(&s) == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(splitmix_next(&s) == UINT64_C(0x6e789e6aa1b965f4));
    assert_true(splitmix_next(&s) == UINT64_C(0x06c45d188009454f));
    assert_true(s == 3 * UINT64_C(0x9E3779B97F4A7C15));
    uint64_t a = UINT64_MAX, b = UINT64_MAX;
    assert_true(splitmix_next(&a) == splitmix_next(&b));
    assert_true(a == UINT64_C(0x9E3779B97F4A7C14));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_seq_len),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_cut),
        cmocka_unit_test(test_utf8_copy),
        cmocka_unit_test(test_utf8_bom_len),
        cmocka_unit_test(test_utf8_trim_partial),
        cmocka_unit_test(test_utf8_is_lead),
        cmocka_unit_test(test_numfmt_double),
        cmocka_unit_test(test_numfmt_roundtrip),
        cmocka_unit_test(test_numfmt_u64),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_clock_rfc3339),
        cmocka_unit_test(test_clock_mono_us),
        cmocka_unit_test(test_splitmix),
        cmocka_unit_test(test_numfmt_hex_digit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
