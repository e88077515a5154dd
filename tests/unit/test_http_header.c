#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssemon/core/http_header.h"

static bool split(const char *line, struct http_header_field *f)
{
    return http_header_split(line, strlen(line), f);
}

static void assert_field(const struct http_header_field *f, const char *name, const char *value)
{
    assert_int_equal(f->hf_name_len, strlen(name));
    assert_memory_equal(f->hf_name, name, f->hf_name_len);
    assert_int_equal(f->hf_value_len, strlen(value));
    if (f->hf_value_len > 0)
        assert_memory_equal(f->hf_value, value, f->hf_value_len);
}

static void test_split_trims_ows_and_crlf(void **state)
{
    (void)state;
    struct http_header_field f;
    assert_true(split("Content-Type: text/event-stream\r\n", &f));
    assert_field(&f, "Content-Type", "text/event-stream");
    assert_true(split("X-A:\t  spaced value \t\r\n", &f));
    assert_field(&f, "X-A", "spaced value");
    assert_true(split("X-Empty:\r\n", &f));
    assert_field(&f, "X-Empty", "");
    assert_true(split("X-Lf: v\n", &f));
    assert_field(&f, "X-Lf", "v");
    assert_true(split("Location: http://h:8080/a:b", &f));
    assert_field(&f, "Location", "http://h:8080/a:b");
}

static void test_split_rejects_non_headers(void **state)
{
    (void)state;
    struct http_header_field f;
    assert_false(split("HTTP/1.1 200 OK\r\n", &f));
    assert_false(split("\r\n", &f));
    assert_false(split("", &f));
    assert_false(split(": no name\r\n", &f));
    assert_false(split("bad name: x\r\n", &f));
    assert_false(split("Name : x\r\n", &f));
    assert_false(split("HTTP/1.1 302 Found: x\r\n", &f));
}

static void test_name_eq_is_case_insensitive(void **state)
{
    (void)state;
    assert_true(http_header_name_eq("content-type", 12, "Content-Type"));
    assert_true(http_header_name_eq("CONTENT-TYPE", 12, "Content-Type"));
    assert_false(http_header_name_eq("Content-Typ", 11, "Content-Type"));
    assert_false(http_header_name_eq("Content-Types", 13, "Content-Type"));
    /* Only the given length counts. */
    assert_true(http_header_name_eq("Acceptxyz", 6, "accept"));
    assert_true(http_header_name_eq("", 0, ""));
}

static bool is_es(const char *v)
{
    return http_header_media_type_is(v, strlen(v), "text/event-stream");
}

static void test_media_type_essence(void **state)
{
    (void)state;
    assert_true(is_es("text/event-stream"));
    assert_true(is_es("text/event-stream; charset=utf-8"));
    assert_true(is_es("Text/Event-Stream"));
    assert_true(is_es("  TEXT/EVENT-STREAM  "));
    assert_true(is_es("text/event-stream ; charset=utf-8"));
    assert_true(is_es("text/event-stream;charset=utf-8"));
    assert_false(is_es("text/event-streamx"));
    assert_false(is_es("text/event-stream x"));
    assert_false(is_es("text/html"));
    assert_false(is_es("text/event"));
    assert_false(is_es(""));
    assert_false(is_es("application/json; x=text/event-stream"));
    /* The length bounds the value: no NUL terminator needed. */
    assert_true(http_header_media_type_is("text/event-streamGARBAGE", 17, "text/event-stream"));
}

static void assert_redacted(const char *url, const char *want)
{
    char *got = http_header_redact_url(url);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_redact_url(void **state)
{
    (void)state;
    assert_redacted("https://user:secret@example.com/s?x=1", "https://***@example.com/s?x=1");
    assert_redacted("http://token@example.com", "http://***@example.com");
    assert_redacted("http://u:p@ss@host:8080/path", "http://***@host:8080/path");
    assert_redacted("http://example.com/a@b", "http://example.com/a@b");
    assert_redacted("http://example.com/?mail=a@b.c", "http://example.com/?mail=a@b.c");
    assert_redacted("http://example.com#frag@x", "http://example.com#frag@x");
    assert_redacted("http://127.0.0.1:1/s/basic", "http://127.0.0.1:1/s/basic");
    assert_redacted("user:pw@host/path", "***@host/path");
    assert_redacted("", "");
}

static void assert_arg(const char *arg, bool ok)
{
    const char *why = NULL;
    bool got = http_header_arg_valid(arg, &why);
    assert_int_equal(got, ok);
    if (!ok) {
        assert_non_null(why);
        assert_true(strlen(why) > 0);
    }
}

static void test_arg_validation(void **state)
{
    (void)state;
    assert_arg("X-Request-ID: abc", true);
    assert_arg("Authorization: Bearer a.b.c", true);
    assert_arg("X-Empty:", true);
    assert_arg("X-Tab:\tv", true);
    assert_arg("X:y", true);
    assert_arg("no colon", false);
    assert_arg(": value", false);
    assert_arg("Bad Name: v", false);
    assert_arg("X-A: v\r\nX-Injected: 1", false);
    assert_arg("X-A: v\n", false);
    assert_arg("X-A\r: v", false);
    assert_arg("X-A: bell\a", false);
    assert_arg("X-A: del\x7f", false);
    assert_arg("", false);
    assert_true(http_header_arg_valid("X: y", NULL));
    assert_false(http_header_arg_valid("X y", NULL));
}

static void test_tchar(void **state)
{
    (void)state;
    const char *good = "azAZ09!#$%&'*+-.^_`|~";
    for (const char *p = good; *p != '\0'; p++)
        assert_true(http_header_is_tchar((unsigned char)*p));
    const char *bad = " \t\"(),/:;<=>?@[\\]{}";
    for (const char *p = bad; *p != '\0'; p++)
        assert_false(http_header_is_tchar((unsigned char)*p));
    assert_false(http_header_is_tchar(0));
    assert_false(http_header_is_tchar(0x80));
    assert_false(http_header_is_tchar(0x7f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_trims_ows_and_crlf),
        cmocka_unit_test(test_split_rejects_non_headers),
        cmocka_unit_test(test_name_eq_is_case_insensitive),
        cmocka_unit_test(test_media_type_essence),
        cmocka_unit_test(test_redact_url),
        cmocka_unit_test(test_arg_validation),
        cmocka_unit_test(test_tchar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
