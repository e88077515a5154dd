/*
 * json_tape: grammar and decoding edge cases (jansson 2.14 with
 * JSON_DECODE_ANY | JSON_ALLOW_NUL is the reference: every accept/refuse
 * case here is also checked against it), access functions, pointers,
 * duplicate keys, raw spans and buffer reuse.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssemon/json/json_tape.h"

#define LIT(s) (s), (sizeof(s) - 1)

struct fixture {
    struct json_tape t;
    struct json_tape_error err;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    json_tape_init(&f->t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    json_tape_free(&f->t);
    free(f);
    return 0;
}

/* Whether jansson accepts the text: the reference the tape must agree with. */
static bool jansson_accepts(const char *text, size_t len)
{
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_decref(j);
    return j != NULL;
}

static void parse_ok(struct fixture *f, const char *text, size_t len)
{
    int rc = json_tape_parse(&f->t, text, len, &f->err);
    if (rc != JSON_TAPE_OK)
        print_error("unexpected error \"%s\" at %zu for [%.*s]\n", f->err.je_msg, f->err.je_offset,
                    (int)len, text);
    assert_int_equal(rc, JSON_TAPE_OK);
    assert_true(jansson_accepts(text, len));
    assert_int_equal(json_tape_root(&f->t), 0);
}

static void parse_bad(struct fixture *f, const char *text, size_t len)
{
    int rc = json_tape_parse(&f->t, text, len, &f->err);
    if (rc != JSON_TAPE_ESYNTAX)
        print_error("accepted [%.*s]\n", (int)len, text);
    assert_int_equal(rc, JSON_TAPE_ESYNTAX);
    assert_false(jansson_accepts(text, len));
    assert_int_equal(json_tape_root(&f->t), JSON_TAPE_NONE);
    assert_non_null(f->err.je_msg);
    assert_true(f->err.je_offset <= len);
}

static void assert_string_node(const struct json_tape *t, size_t n, const char *want, size_t len)
{
    size_t got;
    assert_int_equal(json_tape_type(t, n), JSON_TAPE_STRING);
    const char *s = json_tape_string(t, n, &got);
    assert_int_equal(got, len);
    assert_memory_equal(s, want, len);
}

/* ---- structure ---- */

static void test_structure(void **state)
{
    struct fixture *f = *state;
    const char doc[] = "{\"a\": [1, {\"b\": null}, \"x\"], \"c\": true, \"d\": {}}";
    parse_ok(f, LIT(doc));
    const struct json_tape *t = &f->t;
    assert_int_equal(json_tape_type(t, 0), JSON_TAPE_OBJECT);
    assert_int_equal(json_tape_count(t, 0), 3);
    assert_int_equal(json_tape_next(t, 0), t->jt_count);
    /* 0 {  1 "a"  2 [  3 1  4 {  5 "b"  6 null  7 "x"  8 "c"  9 true  10 "d"  11 {} */
    assert_int_equal(t->jt_count, 12);
    assert_string_node(t, 1, LIT("a"));
    assert_int_equal(json_tape_type(t, 2), JSON_TAPE_ARRAY);
    assert_int_equal(json_tape_count(t, 2), 3);
    assert_int_equal(json_tape_next(t, 2), 8);
    assert_int_equal(json_tape_next(t, 4), 7);
    assert_int_equal(json_tape_type(t, 6), JSON_TAPE_NULL);
    assert_int_equal(json_tape_type(t, 9), JSON_TAPE_TRUE);
    assert_int_equal(json_tape_type(t, 11), JSON_TAPE_OBJECT);
    assert_int_equal(json_tape_count(t, 11), 0);
    assert_int_equal(json_tape_count(t, 3), 0);

    size_t len;
    const char *raw = json_tape_raw(t, 2, &len);
    assert_int_equal(len, strlen("[1, {\"b\": null}, \"x\"]"));
    assert_memory_equal(raw, "[1, {\"b\": null}, \"x\"]", len);
    raw = json_tape_raw(t, 4, &len);
    assert_memory_equal(raw, "{\"b\": null}", len);
    raw = json_tape_raw(t, 1, &len);
    assert_memory_equal(raw, "\"a\"", len);
    raw = json_tape_raw(t, 0, &len);
    assert_ptr_equal(raw, doc);
    assert_int_equal(len, sizeof(doc) - 1);

    struct json_tape_iter it;
    size_t k = 0;
    size_t v = 0;
    const char *keys[] = {"a", "c", "d"};
    size_t i = 0;
    json_tape_iter_init(t, 0, &it);
    while (json_tape_object_next(t, &it, &k, &v)) {
        assert_true(i < 3);
        assert_string_node(t, k, keys[i], 1);
        assert_int_equal(v, k + 1);
        i++;
    }
    assert_int_equal(i, 3);

    size_t item;
    size_t items[3];
    i = 0;
    json_tape_iter_init(t, 2, &it);
    while (json_tape_array_next(t, &it, &item) && i < 3)
        items[i++] = item;
    assert_int_equal(i, 3);
    assert_int_equal(items[0], 3);
    assert_int_equal(items[1], 4);
    assert_int_equal(items[2], 7);
    assert_false(json_tape_array_next(t, &it, &item));
}

static void test_scalar_roots(void **state)
{
    struct fixture *f = *state;
    parse_ok(f, LIT("  \"top\"\n"));
    assert_string_node(&f->t, 0, LIT("top"));
    parse_ok(f, LIT("null"));
    assert_int_equal(json_tape_type(&f->t, 0), JSON_TAPE_NULL);
    parse_ok(f, LIT("false"));
    assert_int_equal(json_tape_type(&f->t, 0), JSON_TAPE_FALSE);
    parse_ok(f, LIT("\t42\r\n"));
    assert_int_equal(json_tape_int(&f->t, 0), 42);
    size_t len;
    const char *raw = json_tape_raw(&f->t, 0, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(raw, "42", 2);
}

/* ---- numbers ---- */

static void expect_int(struct fixture *f, const char *text, int64_t want)
{
    parse_ok(f, text, strlen(text));
    assert_int_equal(json_tape_type(&f->t, 0), JSON_TAPE_INTEGER);
    assert_true(json_tape_is_integer(&f->t, 0));
    assert_true(json_tape_int(&f->t, 0) == want);
}

static void expect_real(struct fixture *f, const char *text)
{
    parse_ok(f, text, strlen(text));
    assert_int_equal(json_tape_type(&f->t, 0), JSON_TAPE_REAL);
    assert_false(json_tape_is_integer(&f->t, 0));
    /* bit-identical to what jansson (strtod) produces */
    json_t *j = json_loadb(text, strlen(text), JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    double want = json_real_value(j);
    double got = json_tape_double(&f->t, 0);
    json_decref(j);
    assert_memory_equal(&got, &want, sizeof(got));
}

static void test_numbers(void **state)
{
    struct fixture *f = *state;
    expect_int(f, "0", 0);
    expect_int(f, "-0", 0);
    expect_int(f, "7", 7);
    expect_int(f, "-12", -12);
    expect_int(f, "9223372036854775807", INT64_MAX);
    expect_int(f, "-9223372036854775808", INT64_MIN);
    assert_true(json_tape_double(&f->t, 0) == -9223372036854775808.0);

    expect_real(f, "1.0");
    expect_real(f, "-0.0");
    assert_true(json_tape_double(&f->t, 0) == 0.0);
    expect_real(f, "0.5");
    expect_real(f, "0.1");
    expect_real(f, "1e10");
    expect_real(f, "1E+2");
    assert_true(json_tape_double(&f->t, 0) == 100.0);
    expect_real(f, "2.5e-3");
    expect_real(f, "0.30000000000000004");
    expect_real(f, "0.3333333333333333");
    expect_real(f, "123456789012345678901234567890e-10");
    expect_real(f, "9007199254740993.0");
    expect_real(f, "1.7976931348623157e308");
    expect_real(f, "2.2250738585072011e-308");
    expect_real(f, "4.9e-324");
    expect_real(f, "1e-400"); /* underflow is fine: 0 */
    assert_true(json_tape_double(&f->t, 0) == 0.0);
    expect_real(f, "0e99999999999999999999");
    expect_real(f, "0.000000000000000000000000000001234e30");
    expect_real(f, "1e22");
    expect_real(f, "1e23");
    expect_real(f, "-3.14159");
    assert_int_equal(json_tape_int(&f->t, 0), -3);
    expect_real(f, "1e300");
    assert_int_equal(json_tape_int(&f->t, 0), INT64_MAX);

    parse_bad(f, LIT("9223372036854775808"));
    assert_string_equal(f->err.je_msg, "integer out of range");
    parse_bad(f, LIT("-9223372036854775809"));
    parse_bad(f, LIT("100000000000000000000"));
    parse_bad(f, LIT("1e400"));
    assert_string_equal(f->err.je_msg, "number out of range");
    parse_bad(f, LIT("-1e400"));
    parse_bad(f, LIT("1.7976931348623159e308"));
    parse_bad(f, LIT("01"));
    parse_bad(f, LIT("-01"));
    parse_bad(f, LIT("1."));
    parse_bad(f, LIT(".5"));
    parse_bad(f, LIT("-"));
    parse_bad(f, LIT("+1"));
    parse_bad(f, LIT("1e"));
    parse_bad(f, LIT("1e+"));
    parse_bad(f, LIT("1.e5"));
    parse_bad(f, LIT("0x10"));
    parse_bad(f, LIT("NaN"));
    parse_bad(f, LIT("Infinity"));
    parse_bad(f, LIT("-Infinity"));
    parse_bad(f, LIT("1 2"));

    parse_ok(f, LIT("[1,-2.5e1]"));
    assert_int_equal(json_tape_type(&f->t, 1), JSON_TAPE_INTEGER);
    assert_true(json_tape_double(&f->t, 1) == 1.0);
    assert_true(json_tape_double(&f->t, 2) == -25.0);
    /* non-numbers read as 0 */
    parse_ok(f, LIT("\"5\""));
    assert_int_equal(json_tape_int(&f->t, 0), 0);
    assert_true(json_tape_double(&f->t, 0) == 0.0);
    assert_false(json_tape_is_number(&f->t, 0));
}

/* ---- strings ---- */

static void test_string_escapes(void **state)
{
    struct fixture *f = *state;
    parse_ok(f, LIT("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""));
    assert_string_node(&f->t, 0, LIT("\"\\/\b\f\n\r\t"));
    assert_true(f->t.jt_nodes[0].tn_flags & JSON_TAPE_F_ESCAPED);

    parse_ok(f, LIT("\"caf\\u00e9 \\u20AC \\ud83d\\ude00 \\u0041\""));
    assert_string_node(&f->t, 0, LIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 A"));

    parse_ok(f, LIT("\"\\uDBFF\\uDFFF\""));
    assert_string_node(&f->t, 0, LIT("\xf4\x8f\xbf\xbf"));

    /* \u0000 is allowed in values (JSON_ALLOW_NUL) */
    parse_ok(f, LIT("\"a\\u0000b\""));
    assert_string_node(&f->t, 0, "a\0b", 3);

    /* no escape: decoded bytes are the source bytes, no copy */
    const char plain[] = "\"plain text\"";
    parse_ok(f, LIT(plain));
    size_t len;
    assert_ptr_equal(json_tape_string(&f->t, 0, &len), plain + 1);
    assert_false(f->t.jt_nodes[0].tn_flags & JSON_TAPE_F_ESCAPED);

    /* escapes on both sides of the 16-byte blocks of the fast scanner */
    parse_ok(f, LIT("[\"0123456789abcdef\\n0123456789abcdefXYZ\\t\", \"0123456789abcdef0123\"]"));
    assert_string_node(&f->t, 1, LIT("0123456789abcdef\n0123456789abcdefXYZ\t"));
    assert_string_node(&f->t, 2, LIT("0123456789abcdef0123"));

    /* several escaped strings share the arena */
    parse_ok(f, LIT("{\"k\\n\": \"v\\t\", \"x\": [\"\\u00e9\", \"\\\\\"]}"));
    assert_string_node(&f->t, 1, LIT("k\n"));
    assert_string_node(&f->t, 2, LIT("v\t"));
    assert_string_node(&f->t, 5, LIT("\xc3\xa9"));
    assert_string_node(&f->t, 6, LIT("\\"));

    parse_ok(f, LIT("\"\x7f\""));
    parse_ok(f, LIT("\"\""));
    assert_string_node(&f->t, 0, "", 0);
}

static void test_string_errors(void **state)
{
    struct fixture *f = *state;
    parse_bad(f, LIT("\"\\ud800\"")); /* unpaired high surrogate */
    parse_bad(f, LIT("\"\\ud800x\""));
    parse_bad(f, LIT("\"\\ud800\\u0041\"")); /* high + non-low */
    parse_bad(f, LIT("\"\\ud800\\ud800\""));
    parse_bad(f, LIT("\"\\udc00\"")); /* lone low surrogate */
    parse_bad(f, LIT("\"\\udc00\\ud800\""));
    parse_bad(f, LIT("\"\\u12\""));
    parse_bad(f, LIT("\"\\u12g4\""));
    parse_bad(f, LIT("\"\\x41\""));
    parse_bad(f, LIT("\"\\'\""));
    parse_bad(f, LIT("\"\\"));
    parse_bad(f, LIT("\"abc"));
    parse_bad(f, LIT("\"abc\\\""));
    parse_bad(f, LIT("\"a\nb\"")); /* raw control characters */
    parse_bad(f, LIT("\"a\tb\""));
    parse_bad(f, "\"a\0b\"", 5);
    parse_bad(f, LIT("'single'"));
    /* invalid UTF-8 */
    parse_bad(f, LIT("\"\xc0\xaf\""));         /* overlong */
    parse_bad(f, LIT("\"\xe0\x80\xaf\""));     /* overlong */
    parse_bad(f, LIT("\"\xed\xa0\x80\""));     /* encoded surrogate */
    parse_bad(f, LIT("\"\xf4\x90\x80\x80\"")); /* above U+10FFFF */
    parse_bad(f, LIT("\"\xf5\x80\x80\x80\""));
    parse_bad(f, LIT("\"\xc3\"")); /* truncated */
    parse_bad(f, LIT("\"\xe2\x82\""));
    parse_bad(f, LIT("\"\x80\"")); /* lone continuation */
    parse_bad(f, LIT("\"\xff\""));
    parse_bad(f, LIT("\"\\n\xc3\"")); /* in the escaped path too */
    parse_bad(f, LIT("\"\xc3"));
    /* valid multi-byte sequences, including the range edges */
    parse_ok(f, LIT("\"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xf0\x90\x80\x80 "
                    "\xf4\x8f\xbf\xbf\""));
    parse_ok(f, LIT("\"\\n\xc3\xa9\xf0\x9f\x98\x80\""));
    assert_string_node(&f->t, 0, LIT("\n\xc3\xa9\xf0\x9f\x98\x80"));
}

static void test_keys(void **state)
{
    struct fixture *f = *state;
    /* NUL in a key: jansson refuses it even with JSON_ALLOW_NUL */
    parse_bad(f, LIT("{\"a\\u0000\": 1}"));
    assert_string_equal(f->err.je_msg, "NUL byte in object key");
    parse_ok(f, LIT("{\"a\\u0001\": 1}"));
    parse_ok(f, LIT("{\"\": 1}"));
    assert_int_equal(json_tape_object_get(&f->t, 0, "", 0), 2);
    parse_bad(f, LIT("{1: 2}"));
    parse_bad(f, LIT("{a: 2}"));
    parse_bad(f, LIT("{\"a\" 1}"));
    assert_string_equal(f->err.je_msg, "expected ':' after object key");
    parse_bad(f, LIT("{\"a\":}"));
    parse_bad(f, LIT("{\"a\":1,}"));
    parse_bad(f, LIT("{,}"));
    parse_bad(f, LIT("{\"a\":1 \"b\":2}"));
    parse_bad(f, LIT("{\"a\"}"));
}

/* ---- whitespace, garbage, NUL bytes ---- */

static void test_whitespace_and_garbage(void **state)
{
    struct fixture *f = *state;
    parse_ok(f, LIT(" \t\r\n{ \"a\" \n:\t[ 1 ,\r2 ] } \n\t\r "));
    parse_bad(f, LIT(""));
    assert_string_equal(f->err.je_msg, "empty input");
    parse_bad(f, NULL, 0);
    parse_bad(f, LIT("   \n"));
    parse_bad(f, LIT("\f1"));
    parse_bad(f, LIT("1\f"));
    parse_bad(f, LIT("\xef\xbb\xbf{}")); /* no BOM */
    parse_bad(f, LIT("{} x"));
    assert_string_equal(f->err.je_msg, "unexpected data after the JSON value");
    parse_bad(f, LIT("{}{}"));
    parse_bad(f, LIT("[1,]"));
    parse_bad(f, LIT("[,1]"));
    parse_bad(f, LIT("[1 2]"));
    parse_bad(f, LIT("[1"));
    parse_bad(f, LIT("["));
    parse_bad(f, LIT("]"));
    parse_bad(f, LIT("{"));
    parse_bad(f, LIT("[}"));
    parse_bad(f, LIT("{]"));
    parse_bad(f, LIT("tru"));
    parse_bad(f, LIT("truex"));
    parse_bad(f, LIT("nul"));
    parse_bad(f, LIT("True"));
    parse_bad(f, LIT("[true false]"));
    parse_bad(f, LIT("/* c */ 1"));
    parse_bad(f, LIT("1 // c"));
}

static void test_nul_bytes(void **state)
{
    struct fixture *f = *state;
    /* jansson drops one NUL byte that directly follows a number or a literal */
    parse_ok(f, LIT("1\0"));
    assert_int_equal(json_tape_int(&f->t, 0), 1);
    size_t len;
    json_tape_raw(&f->t, 0, &len);
    assert_int_equal(len, 1);
    parse_ok(f, LIT("1\0 \n"));
    parse_ok(f, LIT("[1\0,2.5\0,true\0,false\0,null\0]"));
    assert_int_equal(json_tape_count(&f->t, 0), 5);
    parse_ok(f, LIT("{\"a\":-0\0}"));
    parse_ok(f, LIT("1e5\0"));
    /* anywhere else a NUL byte is an error */
    parse_bad(f, LIT("\0"));
    parse_bad(f, LIT("1\0\0"));
    parse_bad(f, LIT("1 \0"));
    parse_bad(f, LIT("\"a\"\0"));
    parse_bad(f, LIT("[]\0"));
    parse_bad(f, LIT("{}\0"));
    parse_bad(f, LIT("[1,\0 2]"));
    parse_bad(f, LIT("\0 1"));
    parse_bad(f, LIT("tr\0ue"));
}

/* ---- depth ---- */

static char *nested(size_t depth, const char *inner)
{
    size_t il = strlen(inner);
    char *s = malloc(2 * depth + il + 1);
    if (s == NULL)
        return NULL;
    memset(s, '[', depth);
    memcpy(s + depth, inner, il);
    memset(s + depth + il, ']', depth);
    s[2 * depth + il] = '\0';
    return s;
}

static void test_depth_limit(void **state)
{
    struct fixture *f = *state;
    char *s = nested(2048, "");
    assert_non_null(s);
    parse_ok(f, s, strlen(s));
    assert_int_equal(f->t.jt_count, 2048);
    free(s);

    s = nested(2049, "");
    assert_non_null(s);
    parse_bad(f, s, strlen(s));
    assert_string_equal(f->err.je_msg, "maximum nesting depth exceeded");
    free(s);

    /* the scalar counts as a level, as in jansson */
    s = nested(2047, "1");
    assert_non_null(s);
    parse_ok(f, s, strlen(s));
    free(s);
    s = nested(2048, "1");
    assert_non_null(s);
    parse_bad(f, s, strlen(s));
    free(s);

    /* a custom limit */
    json_tape_set_max_depth(&f->t, 3);
    assert_int_equal(json_tape_parse(&f->t, LIT("[[1]]"), NULL), JSON_TAPE_OK);
    assert_int_equal(json_tape_parse(&f->t, LIT("[[[1]]]"), &f->err), JSON_TAPE_ESYNTAX);
    assert_int_equal(json_tape_parse(&f->t, LIT("{\"a\":{\"b\":{}}}"), NULL), JSON_TAPE_OK);
    assert_int_equal(json_tape_parse(&f->t, LIT("{\"a\":{\"b\":{\"c\":1}}}"), NULL),
                     JSON_TAPE_ESYNTAX);
    json_tape_set_max_depth(&f->t, 0);
    assert_int_equal(f->t.jt_max_depth, JSON_TAPE_DEFAULT_MAX_DEPTH);
}

/* ---- errors ---- */

static void test_error_position(void **state)
{
    struct fixture *f = *state;
    const char doc[] = "{\n  \"\xc3\xa9\": [1,\n   2 x]\n}";
    parse_bad(f, LIT(doc));
    assert_int_equal(f->err.je_offset, (size_t)(strchr(doc, 'x') - doc));
    assert_int_equal(f->err.je_line, 3);
    assert_int_equal(f->err.je_column, 6);
    assert_string_equal(f->err.je_msg, "expected ',' or ']' after array item");

    parse_bad(f, LIT("[1,"));
    assert_int_equal(f->err.je_offset, 3);
    assert_int_equal(f->err.je_line, 1);
    assert_int_equal(f->err.je_column, 4);
    assert_string_equal(f->err.je_msg, "unexpected end of input");

    /* columns count characters, not bytes */
    parse_bad(f, LIT("\"\xc3\xa9\xc3\xa9\" x"));
    assert_int_equal(f->err.je_offset, 7);
    assert_int_equal(f->err.je_column, 6);

    /* err may be NULL */
    assert_int_equal(json_tape_parse(&f->t, LIT("[x]"), NULL), JSON_TAPE_ESYNTAX);
}

/* ---- lookups ---- */

static void test_pointer(void **state)
{
    struct fixture *f = *state;
    const char doc[] = "{\"a\": {\"b\": [10, 20, {\"c\": \"deep\"}]}, \"x/y\": 1, \"m~n\": 2, "
                       "\"\": 3, \"e\\u0301\": 4, \"01\": 5}";
    parse_ok(f, LIT(doc));
    const struct json_tape *t = &f->t;
    assert_int_equal(json_tape_pointer(t, 0, ""), 0);
    size_t n = json_tape_pointer(t, 0, "/a/b/1");
    assert_int_not_equal(n, JSON_TAPE_NONE);
    assert_int_equal(json_tape_int(t, n), 20);
    n = json_tape_pointer(t, 0, "/a/b/2/c");
    assert_string_node(t, n, LIT("deep"));
    assert_int_equal(json_tape_int(t, json_tape_pointer(t, 0, "/x~1y")), 1);
    assert_int_equal(json_tape_int(t, json_tape_pointer(t, 0, "/m~0n")), 2);
    assert_int_equal(json_tape_int(t, json_tape_pointer(t, 0, "/")), 3);
    assert_int_equal(json_tape_int(t, json_tape_pointer(t, 0, "/e\xcc\x81")), 4);
    assert_int_equal(json_tape_int(t, json_tape_pointer(t, 0, "/01")), 5);
    /* relative to a node */
    size_t a = json_tape_pointer(t, 0, "/a");
    assert_int_equal(json_tape_int(t, json_tape_pointer(t, a, "/b/0")), 10);

    assert_int_equal(json_tape_pointer(t, 0, "a"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/nope"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/a/b/3"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/a/b/01"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/a/b/-"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/a/b/"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/a/b/1x"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/a/b/99999999999999999999999"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/a/b/0/c"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/m~2n"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/m~"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, "/x/y"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 0, NULL), JSON_TAPE_NONE);
    assert_int_equal(json_tape_pointer(t, 999, ""), JSON_TAPE_NONE);

    assert_int_equal(json_tape_object_get(t, 0, LIT("x/y")), json_tape_pointer(t, 0, "/x~1y"));
    assert_int_equal(json_tape_object_get(t, 0, LIT("zz")), JSON_TAPE_NONE);
    assert_int_equal(json_tape_object_get(t, n, LIT("a")), JSON_TAPE_NONE);
    assert_int_equal(json_tape_object_get(t, 999, LIT("a")), JSON_TAPE_NONE);
}

static void test_pointer_tokens(void **state)
{
    (void)state;
    assert_true(json_tape_token_eq(LIT("a~1b"), LIT("a/b")));
    assert_true(json_tape_token_eq(LIT("a~0b"), LIT("a~b")));
    assert_true(json_tape_token_eq(LIT("~01"), LIT("~1")));
    assert_true(json_tape_token_eq(LIT(""), LIT("")));
    assert_false(json_tape_token_eq(LIT("a~1b"), LIT("a~1b")));
    assert_false(json_tape_token_eq(LIT("a~2b"), LIT("a~2b")));
    assert_false(json_tape_token_eq(LIT("a~"), LIT("a~")));
    assert_false(json_tape_token_eq(LIT("ab"), LIT("abc")));
    assert_false(json_tape_token_eq(LIT("abc"), LIT("ab")));

    assert_int_equal(json_tape_token_index(LIT("0")), 0);
    assert_int_equal(json_tape_token_index(LIT("107")), 107);
    char big[32];
    int n = snprintf(big, sizeof(big), "%zu", SIZE_MAX - 1);
    assert_int_equal(json_tape_token_index(big, (size_t)n), SIZE_MAX - 1);
    n = snprintf(big, sizeof(big), "%zu", SIZE_MAX);
    assert_int_equal(json_tape_token_index(big, (size_t)n), SIZE_MAX);
    assert_int_equal(json_tape_token_index(LIT("99999999999999999999")), SIZE_MAX);
    assert_int_equal(json_tape_token_index(LIT("01")), SIZE_MAX);
    assert_int_equal(json_tape_token_index(LIT("")), SIZE_MAX);
    assert_int_equal(json_tape_token_index(LIT("-")), SIZE_MAX);
    assert_int_equal(json_tape_token_index(LIT("1x")), SIZE_MAX);
}

static void test_duplicate_keys(void **state)
{
    struct fixture *f = *state;
    const char doc[] = "{\"a\": 1, \"b\": 2, \"a\": {\"x\": 3}, \"c\": 4, \"a\": [5]}";
    parse_ok(f, LIT(doc));
    const struct json_tape *t = &f->t;
    assert_true(t->jt_nodes[0].tn_flags & JSON_TAPE_F_DUPS);
    assert_int_equal(json_tape_count(t, 0), 5); /* as written */
    size_t a = json_tape_object_get(t, 0, LIT("a"));
    assert_int_equal(json_tape_type(t, a), JSON_TAPE_ARRAY);
    assert_int_equal(json_tape_pointer(t, 0, "/a"), a);
    assert_int_equal(json_tape_pointer(t, 0, "/a/x"), JSON_TAPE_NONE);
    assert_int_equal(json_tape_int(t, json_tape_pointer(t, 0, "/a/0")), 5);

    /* iteration yields each key once, with its last value */
    struct json_tape_iter it;
    size_t k = 0;
    size_t v = 0;
    const char *order = "bca";
    size_t i = 0;
    json_tape_iter_init(t, 0, &it);
    while (json_tape_object_next(t, &it, &k, &v)) {
        assert_true(i < 3);
        assert_string_node(t, k, order + i, 1);
        i++;
    }
    assert_int_equal(i, 3);
    assert_true(json_tape_key_shadowed(t, 1, json_tape_next(t, 0)));
    assert_false(json_tape_key_shadowed(t, 3, json_tape_next(t, 0)));

    /* keys spelt differently but equal once decoded are duplicates too */
    parse_ok(f, LIT("{\"a\": 1, \"\\u0061\": 2}"));
    assert_int_equal(json_tape_int(&f->t, json_tape_object_get(&f->t, 0, LIT("a"))), 2);
    json_tape_iter_init(&f->t, 0, &it);
    assert_true(json_tape_object_next(&f->t, &it, &k, &v));
    assert_int_equal(json_tape_int(&f->t, v), 2);
    assert_false(json_tape_object_next(&f->t, &it, &k, &v));
}

/* ---- memory ---- */

static void test_reuse_and_shrink(void **state)
{
    struct fixture *f = *state;
    /* a big document grows the buffers ... */
    size_t items = 100000;
    char *big = malloc(items * 8 + 16);
    assert_non_null(big);
    size_t len = 0;
    big[len++] = '[';
    for (size_t i = 0; i < items; i++)
        len += (size_t)sprintf(big + len, "%s\"\\n%zu\"", i ? "," : "", i % 10);
    big[len++] = ']';
    parse_ok(f, big, len);
    assert_int_equal(json_tape_count(&f->t, 0), items);
    assert_string_node(&f->t, items, LIT("\n9"));
    assert_true(f->t.jt_cap * sizeof(struct json_tape_node) > JSON_TAPE_SHRINK_ABOVE);
    assert_true(f->t.jt_arena_cap > JSON_TAPE_SHRINK_ABOVE);
    free(big);

    /* ... and the next document gives the memory back */
    parse_ok(f, LIT("{\"small\": \"\\t\"}"));
    assert_true(f->t.jt_cap * sizeof(struct json_tape_node) <= JSON_TAPE_SHRINK_ABOVE);
    assert_true(f->t.jt_arena_cap <= JSON_TAPE_SHRINK_ABOVE);
    assert_string_node(&f->t, 2, LIT("\t"));

    /* steady state: the same buffers are reused */
    struct json_tape_node *nodes = f->t.jt_nodes;
    char *arena = f->t.jt_arena;
    for (int i = 0; i < 100; i++)
        parse_ok(f, LIT("{\"k\": [\"\\u00e9\", 1.5, {\"n\": null}]}"));
    assert_ptr_equal(f->t.jt_nodes, nodes);
    assert_ptr_equal(f->t.jt_arena, arena);

    /* a failed parse leaves an empty but usable tape */
    parse_bad(f, LIT("[1,"));
    assert_int_equal(f->t.jt_count, 0);
    parse_ok(f, LIT("[1]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalar_roots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whitespace_and_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pointer, setup, teardown),
        cmocka_unit_test(test_pointer_tokens),
        cmocka_unit_test_setup_teardown(test_duplicate_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse_and_shrink, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
