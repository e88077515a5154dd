/*
 * Tests for json_writer: the text must be exactly the compact JSON expected
 * where RFC 8259 allows one form only, and must decode (jansson) back to the
 * values written where it allows several (escapes, number formats).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "ssemon/json/json_writer.h"

#define S(lit) lit, sizeof(lit) - 1

static void assert_text(const struct json_writer *w, const char *want)
{
    size_t len = 99;
    const char *text = json_writer_text(w, &len);
    assert_non_null(text);
    assert_false(json_writer_failed(w));
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
}

/* Decodes the writer's text as one JSON document; the caller frees it. */
static json_t *decode(const struct json_writer *w)
{
    size_t len = 0;
    const char *text = json_writer_text(w, &len);
    json_error_t err;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (v == NULL)
        fail_msg("invalid JSON (%s): %s", err.text, text);
    return v;
}

/* Writes `s` as a string value and checks it decodes to the same bytes. */
static void assert_string_roundtrip(const char *s, size_t len)
{
    struct json_writer w;
    json_writer_init(&w);
    json_writer_string(&w, s, len);
    assert_false(json_writer_failed(&w));
    size_t tlen = 0;
    const char *text = json_writer_text(&w, &tlen);
    for (size_t i = 0; i < tlen; i++)
        assert_true((unsigned char)text[i] >= 0x20);
    json_t *v = decode(&w);
    assert_true(json_is_string(v));
    assert_int_equal(json_string_length(v), len);
    assert_memory_equal(json_string_value(v), s, len);
    json_decref(v);
    json_writer_free(&w);
}

static void test_empty(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    assert_text(&w, "");
    json_writer_free(&w);
}

static void test_escape_quote_backslash(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    json_writer_cstring(&w, "a\"b\\c/d");
    assert_text(&w, "\"a\\\"b\\\\c/d\"");
    json_writer_free(&w);
    assert_string_roundtrip(S("\"\\\"\\"));
}

static void test_escape_every_control_char(void **state)
{
    (void)state;
    for (int c = 0; c < 0x20; c++) {
        char s[3] = {'x', (char)c, 'y'};
        assert_string_roundtrip(s, sizeof(s));

        struct json_writer w;
        json_writer_init(&w);
        json_writer_escape(&w, &s[1], 1);
        size_t len = 0;
        const char *text = json_writer_text(&w, &len);
        /* Either a two-character escape or \u00XX. */
        assert_true(len == 2 || len == 6);
        assert_int_equal(text[0], '\\');
        if (len == 6) {
            char want[7];
            snprintf(want, sizeof(want), "\\u%04x", (unsigned)c);
            assert_true(strcasecmp(text, want) == 0);
        } else {
            assert_non_null(strchr("bfnrt", text[1]));
        }
        json_writer_free(&w);
    }
}

static void test_escape_nul(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    json_writer_string(&w, S("a\0b"));
    assert_text(&w, "\"a\\u0000b\"");
    json_writer_reset(&w);
    json_writer_string(&w, S("\0"));
    assert_text(&w, "\"\\u0000\"");
    json_writer_free(&w);
    assert_string_roundtrip(S("\0\0x\0"));
}

static void test_utf8_passthrough(void **state)
{
    (void)state;
    static const char s[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd \x7f";
    struct json_writer w;
    json_writer_init(&w);
    json_writer_string(&w, S(s));
    assert_text(&w, "\""
                    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd \x7f"
                    "\"");
    json_writer_free(&w);
    assert_string_roundtrip(S(s));
}

static void test_nesting_and_commas(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    json_writer_object_begin(&w);
    json_writer_key(&w, "a");
    json_writer_int(&w, 1);
    json_writer_key(&w, "b");
    json_writer_array_begin(&w);
    json_writer_int(&w, 1);
    json_writer_int(&w, 2);
    json_writer_object_begin(&w);
    json_writer_key(&w, "c");
    json_writer_null(&w);
    json_writer_object_end(&w);
    json_writer_array_begin(&w);
    json_writer_array_end(&w);
    json_writer_array_end(&w);
    json_writer_key(&w, "d");
    json_writer_object_begin(&w);
    json_writer_object_end(&w);
    json_writer_key(&w, "e\"k");
    json_writer_bool(&w, true);
    json_writer_key(&w, "f");
    json_writer_bool(&w, false);
    json_writer_key(&w, "g");
    json_writer_cstring(&w, NULL);
    json_writer_object_end(&w);
    assert_text(&w, "{\"a\":1,\"b\":[1,2,{\"c\":null},[]],\"d\":{},\"e\\\"k\":true,\"f\":false,"
                    "\"g\":null}");
    json_decref(decode(&w));
    json_writer_free(&w);
}

static void test_top_level_array(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    json_writer_array_begin(&w);
    json_writer_cstring(&w, "x");
    json_writer_array_begin(&w);
    json_writer_array_begin(&w);
    json_writer_array_end(&w);
    json_writer_array_end(&w);
    json_writer_uint(&w, 3);
    json_writer_array_end(&w);
    assert_text(&w, "[\"x\",[[]],3]");
    json_writer_free(&w);
}

static void test_max_depth(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    for (int i = 0; i < JSON_WRITER_MAX_DEPTH; i++)
        json_writer_array_begin(&w);
    json_writer_int(&w, 1);
    json_writer_int(&w, 2);
    for (int i = 0; i < JSON_WRITER_MAX_DEPTH; i++)
        json_writer_array_end(&w);
    assert_false(json_writer_failed(&w));
    json_decref(decode(&w));

    /* One level more cannot be tracked: the writer says so. */
    json_writer_reset(&w);
    for (int i = 0; i < JSON_WRITER_MAX_DEPTH + 1; i++)
        json_writer_array_begin(&w);
    assert_true(json_writer_failed(&w));
    json_writer_free(&w);
}

static void test_integers(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    json_writer_array_begin(&w);
    json_writer_int(&w, 0);
    json_writer_int(&w, -1);
    json_writer_int(&w, INT64_MAX);
    json_writer_int(&w, INT64_MIN);
    json_writer_uint(&w, 0);
    json_writer_uint(&w, UINT64_MAX);
    json_writer_array_end(&w);
    assert_text(&w, "[0,-1,9223372036854775807,-9223372036854775808,0,18446744073709551615]");
    json_writer_free(&w);
}

/* Room claimed, partly written and committed: only the committed bytes
 * are text, and what was scribbled past them is not. */
/* The escaper against a byte-at-a-time reference, on strings where the
 * bytes to escape fall at every offset of the 8-byte words it scans:
 * controls, quotes, backslashes, bytes >= 0x80 (copied as they are) and
 * plain text, at every length from 0 to 80. */
static size_t reference_escape(const unsigned char *s, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else if (c == '\r') {
            out[n++] = '\\';
            out[n++] = 'r';
        } else if (c == '\t') {
            out[n++] = '\\';
            out[n++] = 't';
        } else if (c == '\b') {
            out[n++] = '\\';
            out[n++] = 'b';
        } else if (c == '\f') {
            out[n++] = '\\';
            out[n++] = 'f';
        } else if (c < 0x20) {
            n += (size_t)sprintf(out + n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    return n;
}

static void test_escape_differential(void **state)
{
    (void)state;
    static const unsigned char alphabet[] = {'a',  'Z',  '0',  ' ',  '~',  0x7f, 0x80, 0xc3,
                                             0xa9, 0xff, 0x1f, 0x20, 0x21, '"',  '\\', '\n',
                                             0x00, 0x01, '\t', 0x5b, 0x5d, 0x23};
    uint64_t seed = 0x243f6a8885a308d3ull;
    struct json_writer w;
    json_writer_init(&w);
    unsigned char in[80];
    char want[80 * 6 + 1];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)round % 81;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            /* Mostly plain letters, so whole clean words occur too. */
            unsigned r = (unsigned)(seed >> 33);
            in[i] =
                r % 4 != 0 ? (unsigned char)('a' + r % 26) : alphabet[(r >> 8) % sizeof(alphabet)];
        }
        size_t n = reference_escape(in, len, want);
        json_writer_reset(&w);
        json_writer_escape(&w, (const char *)in, len);
        size_t got_len;
        const char *got = json_writer_text(&w, &got_len);
        assert_int_equal(got_len, n);
        assert_memory_equal(got, want, n);
    }
    json_writer_free(&w);
}

/* A literal key writes what json_writer_key would, separators included. */
static void test_literal_keys(void **state)
{
    (void)state;
    struct json_writer a, b;
    json_writer_init(&a);
    json_writer_init(&b);
    json_writer_object_begin(&a);
    json_writer_key(&a, "first");
    json_writer_int(&a, 1);
    json_writer_key(&a, "second_key");
    json_writer_object_begin(&a);
    json_writer_key(&a, "x");
    json_writer_null(&a);
    json_writer_object_end(&a);
    json_writer_object_end(&a);
    json_writer_object_begin(&b);
    JSON_WRITER_KEY(&b, "first");
    json_writer_int(&b, 1);
    JSON_WRITER_KEY(&b, "second_key");
    json_writer_object_begin(&b);
    JSON_WRITER_KEY(&b, "x");
    json_writer_null(&b);
    json_writer_object_end(&b);
    json_writer_object_end(&b);
    assert_text(&b, "{\"first\":1,\"second_key\":{\"x\":null}}");
    assert_string_equal(json_writer_text(&a, NULL), json_writer_text(&b, NULL));
    json_writer_free(&a);
    json_writer_free(&b);
}

static void test_claim_commit(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    json_writer_append(&w, S("ab"));
    char *p = json_writer_claim(&w, 100);
    assert_non_null(p);
    memset(p, 'x', 100);
    memcpy(p, "cde", 3);
    json_writer_commit(&w, 3);
    assert_text(&w, "abcde");
    /* Claims grow the buffer as appends do. */
    p = json_writer_claim(&w, 1 << 20);
    assert_non_null(p);
    memset(p, 'y', 1 << 20);
    json_writer_commit(&w, 1 << 20);
    assert_int_equal(json_writer_text_len(&w), 5 + (1 << 20));
    assert_false(json_writer_failed(&w));
    /* A commit past the claimed room: the caller overran it, the writer
     * fails and the text does not take the bytes. */
    p = json_writer_claim(&w, 4);
    assert_non_null(p);
    json_writer_commit(&w, json_writer_capacity(&w));
    assert_true(json_writer_failed(&w));
    assert_int_equal(json_writer_text_len(&w), 5 + (1 << 20));
    json_writer_free(&w);
}

/* A detached buffer given back is written into again: same storage, empty
 * text, no state carried over from the document it held. */
static void test_detach_and_adopt(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    assert_int_equal(json_writer_capacity(&w), 0);
    json_writer_reserve(&w, 1000);
    size_t cap = json_writer_capacity(&w);
    assert_true(cap > 1000);
    json_writer_array_begin(&w);
    json_writer_int(&w, 1);
    size_t len = 0;
    char *buf = json_writer_detach(&w, &len);
    assert_non_null(buf);
    assert_int_equal(len, 2);
    assert_memory_equal(buf, "[1", 2);
    assert_int_equal(json_writer_capacity(&w), 0);
    assert_text(&w, "");

    json_writer_adopt(&w, buf, cap);
    assert_int_equal(json_writer_capacity(&w), cap);
    assert_text(&w, "");
    json_writer_array_begin(&w);
    json_writer_int(&w, 2);
    json_writer_array_end(&w);
    assert_text(&w, "[2]");
    assert_ptr_equal(json_writer_text(&w, NULL), buf);

    /* Adopting over a live buffer frees the old one (ASan would tell), and
     * a small adopted buffer still grows. */
    char *other = malloc(16);
    assert_non_null(other);
    json_writer_adopt(&w, other, 16);
    json_writer_append(&w, S("0123456789abcdefXYZ"));
    assert_text(&w, "0123456789abcdefXYZ");
    json_writer_free(&w);
}

static void test_doubles(void **state)
{
    (void)state;
    static const double values[] = {0.0,    0.1,         -0.5,    1.5,
                                    100.0,  1e300,       -1e-300, 1.0 / 3,
                                    2.5e-8, 123456789.0, 5e-324,  1.7976931348623157e308};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        struct json_writer w;
        json_writer_init(&w);
        json_writer_double(&w, values[i]);
        json_t *v = decode(&w);
        assert_true(json_is_number(v));
        assert_true(json_number_value(v) == values[i]);
        json_decref(v);
        /* Reads back exactly with strtod as well. */
        assert_true(strtod(json_writer_text(&w, NULL), NULL) == values[i]);
        json_writer_free(&w);
    }

    struct json_writer w;
    json_writer_init(&w);
    json_writer_array_begin(&w);
    json_writer_double(&w, 0.1);
    json_writer_double(&w, 1.5);
    json_writer_double(&w, -2.0);
    json_writer_double(&w, NAN);
    json_writer_double(&w, INFINITY);
    json_writer_double(&w, -INFINITY);
    json_writer_array_end(&w);
    assert_text(&w, "[0.1,1.5,-2,null,null,null]");
    json_writer_free(&w);
}

static void test_raw_and_append(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    json_writer_array_begin(&w);
    json_writer_raw(&w, S("{\"x\":2}"));
    json_writer_raw(&w, S("[1, 2]"));
    json_writer_array_end(&w);
    json_writer_append(&w, S("\n"));
    assert_text(&w, "[{\"x\":2},[1, 2]]\n");
    json_writer_reset(&w);

    json_writer_object_begin(&w);
    json_writer_key(&w, "r");
    json_writer_raw(&w, S("true"));
    json_writer_key(&w, "s");
    json_writer_raw(&w, S("\"v\""));
    json_writer_object_end(&w);
    assert_text(&w, "{\"r\":true,\"s\":\"v\"}");
    json_writer_free(&w);
}

static void test_escape_without_quotes(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    json_writer_append(&w, S("<"));
    json_writer_escape(&w, S("a\"\\\x01\0"));
    json_writer_append(&w, S(">"));
    assert_text(&w, "<a\\\"\\\\\\u0001\\u0000>");
    json_writer_free(&w);
}

static void test_reset(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    json_writer_object_begin(&w);
    json_writer_key(&w, "a");
    json_writer_int(&w, 1);
    json_writer_object_end(&w);
    json_writer_append(&w, S("\n"));
    json_writer_reset(&w);
    assert_text(&w, "");
    /* No comma carried over from the previous document. */
    json_writer_object_begin(&w);
    json_writer_key(&w, "b");
    json_writer_int(&w, 2);
    json_writer_object_end(&w);
    assert_text(&w, "{\"b\":2}");

    /* Reset in the middle of a document starts at the top level again. */
    json_writer_reset(&w);
    json_writer_array_begin(&w);
    json_writer_object_begin(&w);
    json_writer_key(&w, "k");
    json_writer_reset(&w);
    json_writer_int(&w, 7);
    assert_text(&w, "7");
    json_writer_reset(&w);
    json_writer_int(&w, 8);
    assert_text(&w, "8");
    json_writer_free(&w);
}

static void test_ndjson_lines(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    for (int i = 0; i < 3; i++) {
        json_writer_object_begin(&w);
        json_writer_key(&w, "i");
        json_writer_int(&w, i);
        json_writer_object_end(&w);
        json_writer_append(&w, S("\n"));
    }
    assert_text(&w, "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n");
    json_writer_free(&w);
}

static void test_large_string(void **state)
{
    (void)state;
    size_t n = 300000;
    char *s = malloc(n);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(i % 128);
    assert_string_roundtrip(s, n);

    struct json_writer w;
    json_writer_init(&w);
    json_writer_array_begin(&w);
    for (int i = 0; i < 20000; i++)
        json_writer_int(&w, i);
    json_writer_array_end(&w);
    json_t *v = decode(&w);
    assert_int_equal(json_array_size(v), 20000);
    assert_int_equal(json_integer_value(json_array_get(v, 19999)), 19999);
    json_decref(v);
    json_writer_free(&w);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_escape_quote_backslash),
        cmocka_unit_test(test_escape_every_control_char),
        cmocka_unit_test(test_escape_nul),
        cmocka_unit_test(test_utf8_passthrough),
        cmocka_unit_test(test_nesting_and_commas),
        cmocka_unit_test(test_top_level_array),
        cmocka_unit_test(test_max_depth),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_escape_differential),
        cmocka_unit_test(test_literal_keys),
        cmocka_unit_test(test_claim_commit),
        cmocka_unit_test(test_detach_and_adopt),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_raw_and_append),
        cmocka_unit_test(test_escape_without_quotes),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_ndjson_lines),
        cmocka_unit_test(test_large_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
