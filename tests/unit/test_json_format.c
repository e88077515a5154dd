/*
 * json_format: every rule of every format, on both sides, with vectors of
 * our own. When SSEMON_JSON_SCHEMA_SUITE names a checkout of the official
 * JSON-Schema-Test-Suite, test_official_suite also runs its draft 2020-12
 * optional format tests and must pass all of them (skipped otherwise; the
 * suite is not part of this repository).
 */
#include "ssemon/json/json_format.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void check(enum json_format f, const char *s, size_t len, bool want)
{
    bool got = json_format_check(f, s, len);
    if (got != want)
        fail_msg("%s \"%.*s\" (%zu bytes): %s, expected %s", json_format_name(f), (int)len, s, len,
                 got ? "valid" : "invalid", want ? "valid" : "invalid");
}

#define VALID(f, s) check(f, s, sizeof(s) - 1, true)
#define INVALID(f, s) check(f, s, sizeof(s) - 1, false)

static void test_names(void **state)
{
    (void)state;
    static const char *const names[] = {
        "date-time", "date", "time", "duration",      "uuid",         "email", "hostname",
        "ipv4",      "ipv6", "uri",  "uri-reference", "json-pointer", "regex",
    };
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        enum json_format f = json_format_lookup(names[k]);
        assert_int_equal(f, (int)k + JSON_FORMAT_DATE_TIME);
        assert_string_equal(json_format_name(f), names[k]);
    }
    assert_int_equal(json_format_lookup("Date-Time"), 0);
    assert_int_equal(json_format_lookup("idn-hostname"), 0);
    assert_int_equal(json_format_lookup(""), 0);
    assert_null(json_format_name(0));
    assert_null(json_format_name((enum json_format)(JSON_FORMAT_REGEX + 1)));
    assert_false(json_format_check((enum json_format)99, "x", 1));
    /* regex is the schema engine's to check */
    VALID(JSON_FORMAT_REGEX, "([");
}

static void test_date(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_DATE;
    VALID(f, "2024-02-29");
    VALID(f, "2000-02-29"); /* divisible by 400 */
    VALID(f, "0000-01-01");
    VALID(f, "9999-12-31");
    VALID(f, "2023-04-30");
    INVALID(f, "2023-02-29");
    INVALID(f, "1900-02-29"); /* divisible by 100, not by 400 */
    INVALID(f, "2023-04-31");
    INVALID(f, "2023-13-01");
    INVALID(f, "2023-00-10");
    INVALID(f, "2023-01-00");
    INVALID(f, "2023-1-01");
    INVALID(f, "2023-01-1");
    INVALID(f, "02023-01-01");
    INVALID(f, "2023/01/01");
    INVALID(f, "2023-01-01T");
    INVALID(f, "2023-01-0a");
    check(f, "2023-01-01\0", 11, false);
    INVALID(f, "");
}

static void test_time(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_TIME;
    VALID(f, "00:00:00Z");
    VALID(f, "23:59:59.000001z");
    VALID(f, "12:00:00+14:00");
    VALID(f, "12:00:00-23:59");
    INVALID(f, "12:00:00");   /* the offset is required */
    INVALID(f, "12:00:00.Z"); /* a fraction needs a digit */
    INVALID(f, "12:00:00+1400");
    INVALID(f, "12:00:00+14");
    INVALID(f, "12:00:00+24:00");
    INVALID(f, "12:00:00+00:60");
    INVALID(f, "12:00:00ZZ");
    INVALID(f, "24:00:00Z");
    INVALID(f, "12:60:00Z");
    INVALID(f, "12:00:61Z");
    INVALID(f, "1:00:00Z");
    INVALID(f, "12:00:00 Z");
    /* second 60 only at 23:59 UTC */
    VALID(f, "23:59:60Z");
    VALID(f, "23:59:60.5Z");
    VALID(f, "18:59:60-05:00");
    VALID(f, "05:29:60+05:30");
    VALID(f, "00:59:60+01:00"); /* the day before in UTC */
    INVALID(f, "23:59:60+01:00");
    INVALID(f, "22:59:60Z");
    INVALID(f, "23:58:60Z");
    INVALID(f, "18:59:60+05:00");
}

static void test_date_time(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_DATE_TIME;
    VALID(f, "2024-02-29T12:00:00Z");
    VALID(f, "2024-02-29t12:00:00.123456789+01:00");
    VALID(f, "2016-12-31T23:59:60Z");
    VALID(f, "2017-01-01T00:59:60+01:00");
    INVALID(f, "2016-12-31T23:59:60+01:00");
    INVALID(f, "2023-02-29T12:00:00Z");
    INVALID(f, "2024-02-29 12:00:00Z");
    INVALID(f, "2024-02-29T12:00:00");
    INVALID(f, "2024-02-29T12:00Z");
    INVALID(f, "2024-02-29T");
    INVALID(f, "2024-02-29");
    INVALID(f, "2024-02-29T12:00:00Z ");
}

static void test_duration(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_DURATION;
    VALID(f, "P1Y");
    VALID(f, "P1Y2M");
    VALID(f, "P2M3D");
    VALID(f, "P3D");
    VALID(f, "P1Y2M3DT4H5M6S");
    VALID(f, "PT4H");
    VALID(f, "PT5M6S");
    VALID(f, "PT6S");
    VALID(f, "P3DT6S");
    VALID(f, "P12W");
    VALID(f, "P00012D");
    INVALID(f, "P");
    INVALID(f, "PT");
    INVALID(f, "P1DT");
    INVALID(f, "P1Y3D"); /* a gap: Y then D */
    INVALID(f, "PT1H3S");
    INVALID(f, "P1M1Y"); /* out of order */
    INVALID(f, "P1D1D"); /* twice */
    INVALID(f, "PT1S1M");
    INVALID(f, "P1H");
    INVALID(f, "PT1Y");
    INVALID(f, "P1W1D");
    INVALID(f, "PT1W");
    INVALID(f, "PW");
    INVALID(f, "PD");
    INVALID(f, "P1.5D");
    INVALID(f, "P+1D");
    INVALID(f, "p1d");
    INVALID(f, "P1DT1HT1M");
    INVALID(f, "P1");
    INVALID(f, "");
}

static void test_uuid(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_UUID;
    VALID(f, "123e4567-e89b-12d3-a456-426614174000");
    VALID(f, "ABCDEFAB-CDEF-ABCD-EFAB-CDEFABCDEF09");
    INVALID(f, "123e4567-e89b-12d3-a456-42661417400");
    INVALID(f, "123e4567-e89b-12d3-a456-4266141740000");
    INVALID(f, "123e4567e-89b-12d3-a456-426614174000");
    INVALID(f, "123e4567-e89b-12d3-a456-42661417400g");
    INVALID(f, "{123e4567-e89b-12d3-a456-426614174000}");
    check(f, "123e4567-e89b-12d3-a456-42661417400\0", 36, false);
}

static void test_ipv4(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_IPV4;
    VALID(f, "1.2.3.4");
    VALID(f, "0.0.0.0");
    VALID(f, "255.249.199.100");
    INVALID(f, "256.0.0.0");
    INVALID(f, "1.2.3.300");
    INVALID(f, "01.2.3.4");
    INVALID(f, "1.2.3.00");
    INVALID(f, "1.2.3.0004");
    INVALID(f, "1.2.3");
    INVALID(f, "1.2.3.4.");
    INVALID(f, "1.2.3.4.5");
    INVALID(f, "1..3.4");
    INVALID(f, "a.2.3.4");
    INVALID(f, "");
}

static void test_ipv6(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_IPV6;
    VALID(f, "2001:db8:0:0:0:0:2:1");
    VALID(f, "2001:DB8::2:1");
    VALID(f, "::");
    VALID(f, "::1");
    VALID(f, "1::");
    VALID(f, "1:2:3:4:5:6:7::");
    VALID(f, "::2:3:4:5:6:7:8");
    VALID(f, "1:2:3:4:5:6:1.2.3.4");
    VALID(f, "::1.2.3.4");
    VALID(f, "1::5:6:1.2.3.4");
    INVALID(f, "1:2:3:4:5:6:7:8::");
    INVALID(f, "1:2:3:4:5:6:7:8:9");
    INVALID(f, "1:2:3:4:5:6:7");
    INVALID(f, "1:2:3:4:5:6:7:1.2.3.4");
    INVALID(f, "1:2:3:4:5:1.2.3.4");
    INVALID(f, "1::2::3");
    INVALID(f, ":::");
    INVALID(f, "1:::2");
    INVALID(f, ":1::2");
    INVALID(f, "1::2:");
    INVALID(f, "12345::");
    INVALID(f, "g::");
    INVALID(f, "::1.2.3.04");
    INVALID(f, "::1.2.3");
    INVALID(f, "1.2.3.4");
    INVALID(f, "::1%eth0");
    INVALID(f, "::/0");
    INVALID(f, "");
    INVALID(f, ":");
}

static void test_hostname(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_HOSTNAME;
    VALID(f, "a");
    VALID(f, "A-1.b2.C");
    VALID(f, "0.example");
    VALID(f, "ab--cd.example");
    INVALID(f, "");
    INVALID(f, "a..b");
    INVALID(f, "a.");
    INVALID(f, ".a");
    INVALID(f, "-a.b");
    INVALID(f, "a-.b");
    INVALID(f, "a_b");
    INVALID(f, "a b");
    INVALID(f, "caf\xc3\xa9");
    /* 63 bytes a label, 253 in all */
    char name[300];
    memset(name, 'a', 63);
    check(f, name, 63, true);
    memset(name, 'a', 64);
    check(f, name, 64, false);
    for (size_t k = 0; k < 300; k++)
        name[k] = k % 2 ? '.' : 'a';
    check(f, name, 253, true);
    check(f, name, 255, false);
    /* A-labels: Punycode */
    VALID(f, "xn--bcher-kva.example"); /* buecher with u-umlaut */
    VALID(f, "XN--BCHER-KVA");
    INVALID(f, "xn--");
    INVALID(f, "xn--a");          /* a digit cut short */
    INVALID(f, "xn--bcher-kva9"); /* trailing garbage */
    INVALID(f, "xn--abc-");       /* decodes to ASCII only */
    INVALID(f, "xn---abc");
    /* U-label rules */
    INVALID(f, "xn--ab---epa");     /* ab--e-acute: "--" in 3rd and 4th position */
    INVALID(f, "xn--1ug");          /* ZWJ alone */
    INVALID(f, "xn--lsa");          /* a Mn (U+0301) first */
    VALID(f, "xn--e-xbb");          /* e + U+0301 */
    INVALID(f, "xn--chb");          /* U+0640 ARABIC TATWEEL, DISALLOWED */
    INVALID(f, "xn--a-gda");        /* MIDDLE DOT after 'a' */
    VALID(f, "xn--ll-0ea");         /* l MIDDLE DOT l */
    INVALID(f, "xn--lx-0ea");       /* l MIDDLE DOT x */
    VALID(f, "xn--4dbc5h");         /* Hebrew GERESH after Hebrew */
    INVALID(f, "xn--5db1e");        /* GERESH first */
    INVALID(f, "xn--a-2hc5h");      /* GERESH after Latin */
    VALID(f, "xn--wva3je");         /* KERAIA before Greek */
    INVALID(f, "xn--a-jib3p");      /* KERAIA before Latin */
    INVALID(f, "xn--x-hju");        /* KATAKANA MIDDLE DOT with Latin only */
    VALID(f, "xn--vek868f");        /* with Han */
    INVALID(f, "xn--ngb963k");      /* ZWNJ first */
    VALID(f, "xn--ngba4o");         /* Arabic-Indic digit alone */
    INVALID(f, "xn--9hb10a");       /* extended and Arabic-Indic mixed */
    INVALID(f, "xn--vek");          /* KATAKANA MIDDLE DOT alone */
    VALID(f, "xn--bck0j");          /* with Katakana */
    INVALID(f, "xn--ngb6iyr");      /* Arabic-Indic and extended digits */
    VALID(f, "xn--11b2ezcs70k");    /* ZWNJ after a virama */
    VALID(f, "xn--ngba5hb2804a");   /* ZWNJ between dual-joining letters */
    INVALID(f, "xn--ngba5hb7804a"); /* ZWJ there */
    INVALID(f, "xn--mgbc799q");     /* ZWNJ after ALEF, right-joining */
}

static void test_email(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_EMAIL;
    VALID(f, "a@b");
    VALID(f, "first.last+tag@example.com");
    VALID(f, "!#$%&'*+-/=?^_`{|}~@example.com");
    VALID(f, "\"a b@c\\\"d\"@example.com");
    VALID(f, "\"\"@example.com");
    VALID(f, "x@[192.0.2.1]");
    VALID(f, "x@[IPv6:2001:db8::1]");
    VALID(f, "x@[ipv6:::1]");
    VALID(f, "x@xn--bcher-kva.example");
    INVALID(f, "example.com");
    INVALID(f, "x@");
    INVALID(f, "@x");
    INVALID(f, "a.@x");
    INVALID(f, ".a@x");
    INVALID(f, "a..b@x");
    INVALID(f, "a b@x");
    INVALID(f, "a@b@x");
    INVALID(f, "a(b)@x");
    INVALID(f, "\"a@x");
    INVALID(f, "\"a\"b@x");
    INVALID(f, "\"a\\\"@x");
    INVALID(f, "\"a\tb\"@x");
    INVALID(f, "x@[192.0.2.256]");
    INVALID(f, "x@[IPv6:1.2.3.4]");
    INVALID(f, "x@[2001:db8::1]");
    INVALID(f, "x@[IPv4:1.2.3.4]");
    INVALID(f, "x@[]");
    INVALID(f, "x@-a.b");
    INVALID(f, "x@a.b.");
    INVALID(f, "x@a_b");
    INVALID(f, "\xc3\xa9@x");
    char local[80];
    memset(local, 'a', 64);
    memcpy(local + 64, "@x", 2);
    check(f, local, 66, true);
    memset(local, 'a', 65);
    memcpy(local + 65, "@x", 2);
    check(f, local, 67, false);
}

static void test_uri(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_URI;
    VALID(f, "http://example.com");
    VALID(f, "HTTPS://user:pw@example.com:8443/a/b;c?d=e&f=/?#g/?h");
    VALID(f, "a+b-c.d:");
    VALID(f, "file:///etc/hosts");
    VALID(f, "x://:1/");
    VALID(f, "http://[::1]:80/");
    VALID(f, "http://[v7.a:b]/");
    VALID(f, "http://example.com:/");
    VALID(f, "urn:isbn:0451450523");
    VALID(f, "http://a/%2F%c3%A9");
    VALID(f, "http://a/b:c@d");
    INVALID(f, "");
    INVALID(f, "example.com");
    INVALID(f, "/a:b");
    INVALID(f, ":a");
    INVALID(f, "1a:b");
    INVALID(f, "a_b:c");
    INVALID(f, "http://exa mple.com");
    INVALID(f, "http://a/%2");
    INVALID(f, "http://a/%zz");
    INVALID(f, "http://[::1/");
    INVALID(f, "http://[::1]x/");
    INVALID(f, "http://[1.2.3.4]/");
    INVALID(f, "http://[v.a]/");
    INVALID(f, "http://[v7.]/");
    INVALID(f, "http://[v7a]/");
    INVALID(f, "http://a:8a/");
    INVALID(f, "http://a:1:2/");
    INVALID(f, "http://a[b]/");
    INVALID(f, "http://u[@a/");
    INVALID(f, "http://a/b[c]");
    INVALID(f, "http://a/?q[");
    INVALID(f, "http://a/#f#g");
    INVALID(f, "http://a/\xc3\xa9");
    check(f, "http://a/\0", 10, false);
}

static void test_uri_reference(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_URI_REFERENCE;
    VALID(f, "");
    VALID(f, "a");
    VALID(f, "a/b:c");
    VALID(f, "./a:b");
    VALID(f, "/a:b");
    VALID(f, "//host");
    VALID(f, "//u@host:1/p?q#f");
    VALID(f, "?");
    VALID(f, "#");
    VALID(f, "../x?y#z");
    VALID(f, "http://example.com/x");
    INVALID(f, "a:b:c/d[");
    INVALID(f, "1a:b");
    INVALID(f, "a b");
    INVALID(f, "//h st");
    INVALID(f, "//[::1");
    INVALID(f, "#a#b");
    INVALID(f, "%");
    INVALID(f, "a\\b");
}

static void test_json_pointer(void **state)
{
    (void)state;
    enum json_format f = JSON_FORMAT_JSON_POINTER;
    VALID(f, "");
    VALID(f, "/");
    VALID(f, "//");
    VALID(f, "/a~0b~1c");
    VALID(f, "/~01");
    VALID(f, "/\xc3\xa9");
    check(f, "/a\0b", 4, true);
    INVALID(f, "a");
    INVALID(f, "#/a");
    INVALID(f, "/~");
    INVALID(f, "/~2");
    INVALID(f, "/a~");
    INVALID(f, "/~~0");
}

/* Long inputs built to hit each checker's loops: every format answers (the
 * checks are linear; ctest's timeout bounds a regression), and right. */
static void test_long_inputs(void **state)
{
    (void)state;
    enum { LONG = 1 << 20 };
    static const struct {
        const char *unit;
        unsigned valid; /* bit f: valid as format f */
    } cases[] = {
        {"xn--a.", 1u << JSON_FORMAT_URI_REFERENCE},
        {"::", 0},
        {"1:", 0},
        {"%4", 0},
        {"a@", 1u << JSON_FORMAT_URI_REFERENCE},
        {"/~0", (1u << JSON_FORMAT_URI_REFERENCE) | (1u << JSON_FORMAT_JSON_POINTER)},
        {"P1D", 1u << JSON_FORMAT_URI_REFERENCE},
        {"[", 0},
        {"//a:1", (1u << JSON_FORMAT_URI_REFERENCE) | (1u << JSON_FORMAT_JSON_POINTER)},
        {"\"\\", 0},
        {"0.", 1u << JSON_FORMAT_URI_REFERENCE},
        {"-", 1u << JSON_FORMAT_URI_REFERENCE},
    };
    char *buf = malloc(LONG);
    assert_non_null(buf);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t n = strlen(cases[c].unit);
        for (size_t k = 0; k < LONG; k++)
            buf[k] = cases[c].unit[k % n];
        for (int f = JSON_FORMAT_DATE_TIME; f < JSON_FORMAT_REGEX; f++) {
            bool want = (cases[c].valid >> f) & 1u;
            if (json_format_check((enum json_format)f, buf, LONG) != want)
                fail_msg("%s on 1 MiB of \"%s\": expected %s",
                         json_format_name((enum json_format)f), cases[c].unit,
                         want ? "valid" : "invalid");
        }
    }
    free(buf);
}

/* The official suite's draft 2020-12 optional format tests, when a checkout
 * is named by SSEMON_JSON_SCHEMA_SUITE (e.g. /tmp/jsts). */
static void test_official_suite(void **state)
{
    (void)state;
    const char *root = getenv("SSEMON_JSON_SCHEMA_SUITE");
    if (root == NULL || root[0] == '\0') {
        skip();
        return;
    }
    static const char *const files[] = {
        "date-time", "date", "time", "duration", "uuid",          "email",
        "hostname",  "ipv4", "ipv6", "uri",      "uri-reference", "json-pointer",
    };
    int total_bad = 0;
    for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/tests/draft2020-12/optional/format/%s.json", root,
                 files[k]);
        json_error_t err;
        json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &err);
        if (doc == NULL)
            fail_msg("%s: %s", path, err.text);
        enum json_format f = json_format_lookup(files[k]);
        assert_int_not_equal(f, 0);
        int pass = 0, count = 0;
        size_t gi;
        json_t *group;
        json_array_foreach(doc, gi, group)
        {
            size_t ti;
            json_t *t;
            json_array_foreach(json_object_get(group, "tests"), ti, t)
            {
                json_t *data = json_object_get(t, "data");
                bool want = json_is_true(json_object_get(t, "valid"));
                /* non-strings are always valid: only strings are checked */
                bool got = !json_is_string(data) ||
                           json_format_check(f, json_string_value(data), json_string_length(data));
                count++;
                if (got == want) {
                    pass++;
                } else {
                    printf("  %s: %s: got %s\n", files[k],
                           json_string_value(json_object_get(t, "description")),
                           got ? "valid" : "invalid");
                }
            }
        }
        printf("suite %-13s %d/%d\n", files[k], pass, count);
        total_bad += count - pass;
        json_decref(doc);
    }
    assert_int_equal(total_bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_date_time),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_hostname),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_uri),
        cmocka_unit_test(test_uri_reference),
        cmocka_unit_test(test_json_pointer),
        cmocka_unit_test(test_long_inputs),
        cmocka_unit_test(test_official_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
