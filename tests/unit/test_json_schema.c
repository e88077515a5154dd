/*
 * json_schema: every keyword positive and negative, $ref resolution and
 * recursion, compile errors with their paths, validation messages and
 * their instance paths, determinism.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssemon/json/json_schema.h"
#include "ssemon/json/json_schema_compile.h"
#include "ssemon/json/json_tape.h"

struct fixture {
    struct json_tape t;
    struct json_schema_set *set;
    const struct json_schema *s; /* in set */
    struct json_schema_error err;
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
    json_schema_compile_free(f->set);
    json_tape_free(&f->t);
    free(f);
    return 0;
}

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (j == NULL)
        fail_msg("test JSON does not parse: %s: %s", jerr.text, text);
    return j;
}

/* The whole compile of one schema inside `root` (NULL: its own root):
 * a set of one. Returns the schema, with *set to free, or NULL (*set NULL)
 * with *err filled. */
static const struct json_schema *compile_one(const json_t *schema, const json_t *root,
                                             const struct json_schema_limits *lim,
                                             struct json_schema_set **set,
                                             struct json_schema_error *err)
{
    *set = json_schema_compile_new(root != NULL ? root : schema, lim, err);
    const struct json_schema *s =
        *set != NULL ? json_schema_compile_add(*set, schema, root != NULL ? NULL : "", err) : NULL;
    if (s == NULL || !json_schema_compile_finish(*set, err)) {
        json_schema_compile_free(*set);
        *set = NULL;
        return NULL;
    }
    return s;
}

/* Compiles `text` (a schema that is its own root) into f->s. */
static void compile(struct fixture *f, const char *text)
{
    json_t *j = load(text);
    json_schema_compile_free(f->set);
    f->s = compile_one(j, NULL, NULL, &f->set, &f->err);
    if (f->s == NULL)
        fail_msg("compile failed: %s\nschema: %s", f->err.se_text, text);
    json_decref(j);
}

/* Compiling with `lim` (NULL: the defaults) must fail with exactly this
 * "PATH: MESSAGE" text. */
static void compile_error_lim(const char *text, const struct json_schema_limits *lim,
                              const char *want)
{
    struct json_schema_error err;
    struct json_schema_set *set;
    json_t *j = load(text);
    const struct json_schema *s = compile_one(j, NULL, lim, &set, &err);
    json_decref(j);
    if (s != NULL) {
        json_schema_compile_free(set);
        fail_msg("compiled, expected error \"%s\"\nschema: %s", want, text);
    }
    if (strcmp(err.se_text, want) != 0)
        fail_msg("got error \"%s\", want \"%s\"", err.se_text, want);
}

static void compile_error(const char *text, const char *want)
{
    compile_error_lim(text, NULL, want);
}

static bool check(struct fixture *f, const char *instance)
{
    if (json_tape_parse(&f->t, instance, strlen(instance), NULL) != JSON_TAPE_OK)
        fail_msg("instance does not parse: %s", instance);
    bool ok = json_schema_validate(f->s, &f->t, json_tape_root(&f->t), &f->err);
    /* the verdict never depends on whether a report is wanted */
    assert_int_equal(ok, json_schema_validate(f->s, &f->t, json_tape_root(&f->t), NULL));
    return ok;
}

static void valid(struct fixture *f, const char *instance)
{
    if (!check(f, instance))
        fail_msg("rejected %s: %s", instance, f->err.se_text);
}

/* Validation must fail with exactly this "PATH: MESSAGE" text. */
static void invalid(struct fixture *f, const char *instance, const char *want)
{
    if (check(f, instance))
        fail_msg("accepted %s, expected \"%s\"", instance, want);
    if (strcmp(f->err.se_text, want) != 0)
        fail_msg("for %s got \"%s\", want \"%s\"", instance, f->err.se_text, want);
}

/* ---- type ---- */

static void test_type(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"type\": \"string\"}");
    valid(f, "\"x\"");
    invalid(f, "1", "(root): expected string, got integer");
    invalid(f, "1.5", "(root): expected string, got number");
    invalid(f, "null", "(root): expected string, got null");
    invalid(f, "true", "(root): expected string, got boolean");
    invalid(f, "{}", "(root): expected string, got object");
    invalid(f, "[]", "(root): expected string, got array");

    compile(f, "{\"type\": \"integer\"}");
    valid(f, "1");
    valid(f, "-0");
    valid(f, "1.0");
    valid(f, "1e3");
    valid(f, "1e300");
    valid(f, "-9223372036854775808");
    invalid(f, "1.5", "(root): expected integer, got number");
    invalid(f, "\"1\"", "(root): expected integer, got string");

    compile(f, "{\"type\": \"number\"}");
    valid(f, "1");
    valid(f, "-2.5e-7");
    invalid(f, "\"1\"", "(root): expected number, got string");

    compile(f, "{\"type\": \"boolean\"}");
    valid(f, "true");
    valid(f, "false");
    invalid(f, "0", "(root): expected boolean, got integer");

    compile(f, "{\"type\": \"null\"}");
    valid(f, "null");
    invalid(f, "false", "(root): expected null, got boolean");

    compile(f, "{\"type\": \"object\"}");
    valid(f, "{\"a\": 1}");
    invalid(f, "[]", "(root): expected object, got array");

    compile(f, "{\"type\": \"array\"}");
    valid(f, "[1, \"a\"]");
    invalid(f, "{}", "(root): expected array, got object");

    compile(f, "{\"type\": [\"string\", \"null\"]}");
    valid(f, "\"x\"");
    valid(f, "null");
    invalid(f, "1", "(root): expected null or string, got integer");

    compile(f, "{\"type\": [\"integer\", \"null\"]}");
    valid(f, "2.0");
    valid(f, "null");
    invalid(f, "2.5", "(root): expected null or integer, got number");
}

/* ---- objects ---- */

static void test_properties_required(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"type\": \"object\", \"required\": [\"text\", \"value\"],"
               " \"properties\": {\"text\": {\"type\": \"string\"},"
               "                  \"value\": {\"type\": \"number\"}}}");
    valid(f, "{\"text\": \"a\", \"value\": 0.5}");
    valid(f, "{\"value\": 1, \"text\": \"b\", \"other\": [1]}");
    invalid(f, "{\"text\": \"a\"}", "(root): missing required property \"value\"");
    invalid(f, "{}", "(root): missing required property \"text\"");
    invalid(f, "{\"text\": 1, \"value\": 0.5}", "/text: expected string, got integer");
    invalid(f, "{\"value\": \"x\", \"text\": 1}", "/value: expected number, got string");
    /* object-level failures come before member failures */
    invalid(f, "{\"text\": 1}", "(root): missing required property \"value\"");
    /* non-objects are not concerned by object keywords (but by type) */
    compile(f, "{\"required\": [\"a\"], \"properties\": {\"a\": {\"type\": \"string\"}}}");
    valid(f, "[1]");
    valid(f, "\"str\"");
    invalid(f, "{\"b\": 1}", "(root): missing required property \"a\"");

    /* required names that are not in properties */
    compile(f, "{\"required\": [\"x\", \"y\"]}");
    valid(f, "{\"y\": null, \"x\": 0}");
    invalid(f, "{\"x\": 0}", "(root): missing required property \"y\"");

    /* more than 64 properties: required beyond the bitmask */
    char big[8192];
    size_t len = (size_t)snprintf(big, sizeof(big), "{\"properties\": {");
    for (int i = 0; i < 70; i++)
        len += (size_t)snprintf(big + len, sizeof(big) - len, "%s\"p%d\": {\"type\": \"integer\"}",
                                i ? ", " : "", i);
    snprintf(big + len, sizeof(big) - len, "}, \"required\": [\"p0\", \"p69\"]}");
    compile(f, big);
    valid(f, "{\"p69\": 1, \"p0\": 2, \"p33\": 3}");
    invalid(f, "{\"p0\": 1}", "(root): missing required property \"p69\"");
    invalid(f, "{\"p0\": 1, \"p69\": 2, \"p68\": \"x\"}", "/p68: expected integer, got string");
}

static void test_additional_properties(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"properties\": {\"a\": {}}, \"additionalProperties\": false}");
    valid(f, "{\"a\": 1}");
    valid(f, "{}");
    invalid(f, "{\"a\": 1, \"b\": 2}",
            "(root): unexpected property \"b\" (additionalProperties is false)");

    compile(f, "{\"properties\": {\"a\": {}}, \"additionalProperties\": {\"type\": \"integer\"}}");
    valid(f, "{\"a\": \"x\", \"b\": 2, \"c\": 3}");
    invalid(f, "{\"a\": \"x\", \"b\": 2, \"c\": \"3\"}", "/c: expected integer, got string");

    compile(f, "{\"additionalProperties\": true}");
    valid(f, "{\"anything\": [1]}");

    /* the required check still comes first */
    compile(f, "{\"required\": [\"a\"], \"additionalProperties\": false}");
    invalid(f, "{\"b\": 1}", "(root): missing required property \"a\"");
}

static void test_duplicate_keys_last_wins(void **state)
{
    struct fixture *f = *state;
    compile(f,
            "{\"properties\": {\"a\": {\"type\": \"integer\"}}, \"additionalProperties\": false}");
    valid(f, "{\"a\": \"shadowed\", \"a\": 1}");
    invalid(f, "{\"a\": 1, \"a\": \"last\"}", "/a: expected integer, got string");
    compile(f, "{\"const\": {\"a\": 2}}");
    valid(f, "{\"a\": 1, \"a\": 2}");
    invalid(f, "{\"a\": 2, \"a\": 1}",
            "(root): {\"a\": 2, \"a\": 1} is not equal to const {\"a\":2}");
}

/* ---- enum / const ---- */

static void test_enum_const(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"enum\": [\"task_started\", \"progress_update\", 1, null, [1, 2], {\"a\": 1}]}");
    valid(f, "\"task_started\"");
    valid(f, "\"progress_update\"");
    valid(f, "1");
    valid(f, "1.0");
    valid(f, "null");
    valid(f, "[1, 2.0]");
    valid(f, "{\"a\": 1.0}");
    invalid(f, "\"task_done\"",
            "(root): \"task_done\" is not one of the allowed values "
            "[\"task_started\",\"progress_update\",1,null,[1,2],{\"a\":1}]");
    invalid(f, "[2, 1]",
            "(root): [2, 1] is not one of the allowed values "
            "[\"task_started\",\"progress_update\",1,null,[1,2],{\"a\":1}]");
    invalid(f, "{\"a\": 1, \"b\": 2}",
            "(root): {\"a\": 1, \"b\": 2} is not one of the allowed values "
            "[\"task_started\",\"progress_update\",1,null,[1,2],{\"a\":1}]");
    invalid(f, "true",
            "(root): true is not one of the allowed values "
            "[\"task_started\",\"progress_update\",1,null,[1,2],{\"a\":1}]");

    compile(f, "{\"const\": {\"status\": \"connected\", \"n\": [1.5, \"\\u00e9\", false]}}");
    valid(f, "{\"n\": [1.5, \"\xc3\xa9\", false], \"status\": \"connected\"}");
    invalid(f, "{\"status\": \"connected\"}",
            "(root): {\"status\": \"connected\"} is not equal to const "
            "{\"status\":\"connected\",\"n\":[1.5,\"\xc3\xa9\",false]}");
    invalid(f, "{\"status\": \"connected\", \"n\": [1.5, \"e\", false]}",
            "(root): {\"status\": \"connected\", \"n\": [1.5, \"e\", false]} is not equal to "
            "const {\"status\":\"connected\",\"n\":[1.5,\"\xc3\xa9\",false]}");

    compile(f, "{\"const\": \"a\\u0000b\"}");
    valid(f, "\"a\\u0000b\"");
    invalid(f, "\"a\"", "(root): \"a\" is not equal to const \"a\\u0000b\"");

    /* numbers compare exactly, across representations */
    compile(f, "{\"const\": 9007199254740993}");
    valid(f, "9007199254740993");
    invalid(f, "9007199254740992.0",
            "(root): 9007199254740992.0 is not equal to const 9007199254740993");
    compile(f, "{\"enum\": []}");
    invalid(f, "1", "(root): 1 is not one of the allowed values []");
}

/* ---- numbers ---- */

static void test_numeric_bounds(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"minimum\": 0, \"maximum\": 1}");
    valid(f, "0");
    valid(f, "1");
    valid(f, "0.5");
    valid(f, "1.0");
    valid(f, "\"not a number\"");
    invalid(f, "1.5", "(root): 1.5 is greater than maximum 1");
    invalid(f, "-1", "(root): -1 is less than minimum 0");
    invalid(f, "-0.0001", "(root): -0.0001 is less than minimum 0");
    invalid(f, "1e300", "(root): 1e300 is greater than maximum 1");

    compile(f, "{\"exclusiveMinimum\": 0, \"exclusiveMaximum\": 2.5}");
    valid(f, "1e-300");
    valid(f, "2.4999");
    valid(f, "2");
    invalid(f, "0", "(root): 0 is not greater than exclusiveMinimum 0");
    invalid(f, "0.0", "(root): 0.0 is not greater than exclusiveMinimum 0");
    invalid(f, "2.5", "(root): 2.5 is not less than exclusiveMaximum 2.5");
    invalid(f, "3", "(root): 3 is not less than exclusiveMaximum 2.5");

    compile(f, "{\"minimum\": 0.1}");
    valid(f, "0.1");
    invalid(f, "0.09999999999999999", "(root): 0.09999999999999999 is less than minimum 0.1");

    /* integers beyond 2^53 compare exactly against reals */
    compile(f, "{\"maximum\": 9007199254740992.0}");
    valid(f, "9007199254740992");
    invalid(f, "9007199254740993",
            "(root): 9007199254740993 is greater than maximum 9007199254740992");
    compile(f, "{\"minimum\": 9223372036854775807}");
    valid(f, "9223372036854775807");
    valid(f, "1e19");
    invalid(f, "9223372036854775806",
            "(root): 9223372036854775806 is less than minimum 9223372036854775807");
    invalid(f, "9.2e18", "(root): 9.2e18 is less than minimum 9223372036854775807");
    compile(f, "{\"exclusiveMaximum\": -9223372036854775808}");
    valid(f, "-1e19");
    invalid(f, "-9223372036854775808",
            "(root): -9223372036854775808 is not less than exclusiveMaximum -9223372036854775808");
    compile(f, "{\"maximum\": -0.5}");
    valid(f, "-1");
    invalid(f, "0", "(root): 0 is greater than maximum -0.5");
    invalid(f, "-0.4", "(root): -0.4 is greater than maximum -0.5");
}

/* ---- strings ---- */

static void test_string_length(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"minLength\": 2, \"maxLength\": 3}");
    valid(f, "\"ab\"");
    valid(f, "\"abc\"");
    valid(f, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""); /* 3 code points, 9 bytes */
    valid(f, "\"\\ud83d\\ude00\\u00e9\"");                /* 2 code points */
    valid(f, "12345");
    invalid(f, "\"a\"", "(root): \"a\" is shorter than minLength 2 (1 characters)");
    invalid(f, "\"\xf0\x9f\x98\x80\"",
            "(root): \"\xf0\x9f\x98\x80\" is shorter than minLength 2 (1 characters)");
    invalid(f, "\"abcd\"", "(root): \"abcd\" is longer than maxLength 3 (4 characters)");
    compile(f, "{\"maxLength\": 0}");
    valid(f, "\"\"");
    compile(f, "{\"minLength\": 1.0}");
    invalid(f, "\"\"", "(root): \"\" is shorter than minLength 1 (0 characters)");
}

static void test_pattern(void **state)
{
    struct fixture *f = *state;
    /* unanchored search, as JSON Schema says */
    compile(f, "{\"pattern\": \"[0-9]+\"}");
    valid(f, "\"abc123def\"");
    valid(f, "42");
    invalid(f, "\"abc\"", "(root): \"abc\" does not match pattern \"[0-9]+\"");
    compile(f, "{\"pattern\": \"^Step [0-9]+/[0-9]+$\"}");
    valid(f, "\"Step 1/3\"");
    invalid(f, "\"Step 1/3 \"",
            "(root): \"Step 1/3 \" does not match pattern \"^Step [0-9]+/[0-9]+$\"");
    invalid(f, "\"xStep 1/3\"",
            "(root): \"xStep 1/3\" does not match pattern \"^Step [0-9]+/[0-9]+$\"");
    /* U+0000 is a character like any other */
    compile(f, "{\"pattern\": \"^a.$\"}");
    valid(f, "\"\\u0061\\u0000\"");
    invalid(f, "\"a\"", "(root): \"a\" does not match pattern \"^a.$\"");
    /* the match stops at the string's end, not the buffer's */
    compile(f, "{\"properties\": {\"a\": {\"pattern\": \"^x$\"}}}");
    valid(f, "{\"a\": \"x\", \"b\": \"y\"}");
    invalid(f, "{\"a\": \"xy\", \"b\": \"x\"}", "/a: \"xy\" does not match pattern \"^x$\"");
    /* realistic patterns stay well within the complexity limits */
    compile(f, "{\"pattern\": \"^.{1,200}$\"}");
    valid(f, "\"x\"");
    compile(f, "{\"pattern\": \"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$\"}");
    valid(f, "\"3f1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6f\"");
    /* ECMA-262: \\d \\w \\s, escaped braces, $ only at the very end */
    compile(f, "{\"pattern\": \"^([a-z]+|[\\\\]a-]{2,}|\\\\{x\\\\})(, ?\\\\w*)*\\\\s?\\\\d?$\"}");
    valid(f, "\"abc, de,f_1 0\"");
    valid(f, "\"-]a\"");
    valid(f, "\"{x}\"");
    invalid(f, "\"ab1\\n\"",
            "(root): \"ab1\\n\" does not match pattern "
            "\"^([a-z]+|[\\]a-]{2,}|\\{x\\})(, ?\\w*)*\\s?\\d?$\"");
    /* long strings (heap copy) */
    compile(f, "{\"pattern\": \"^a*b$\"}");
    char longs[2100];
    longs[0] = '"';
    memset(longs + 1, 'a', 2000);
    strcpy(longs + 2001, "b\"");
    valid(f, longs);
    longs[2001] = 'c';
    assert_false(check(f, longs));
}

static void test_format_datetime(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"format\": \"date-time\"}");
    const char *good[] = {
        "\"2025-11-19T21:00:00.123456+00:00\"",
        "\"2025-11-19T21:00:00+00:00\"",
        "\"2025-11-19T21:00:00Z\"",
        "\"2025-11-19t21:00:00z\"",
        "\"2025-11-19T21:00:00.1-05:30\"",
        "\"2024-02-29T00:00:00Z\"",
        "\"2000-02-29T00:00:00Z\"",
        "\"1998-12-31T23:59:60Z\"",
        "\"1998-12-31T15:59:60-08:00\"",
        "\"0000-01-01T00:00:00Z\"",
        "17",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        valid(f, good[i]);
    const char *bad[] = {
        "\"keepalive\"",
        "\"2025-11-19\"",
        "\"2025-11-19T21:00:00\"",
        "\"2025-11-19 21:00:00Z\"",
        "\"2025-13-19T21:00:00Z\"",
        "\"2025-00-19T21:00:00Z\"",
        "\"2025-11-31T21:00:00Z\"",
        "\"2025-02-29T21:00:00Z\"",
        "\"1900-02-29T21:00:00Z\"",
        "\"2025-11-19T24:00:00Z\"",
        "\"2025-11-19T21:60:00Z\"",
        "\"2025-11-19T21:00:61Z\"",
        "\"2025-11-19T21:00:60Z\"",
        "\"2025-11-19T21:00:00.Z\"",
        "\"2025-11-19T21:00:00+0000\"",
        "\"2025-11-19T21:00:00+24:00\"",
        "\"2025-11-19T21:00:00+00:60\"",
        "\"2025-11-19T21:00:00Zx\"",
        "\"2025-11-19T21:00:00+00:00 \"",
        "\"25-11-19T21:00:00Z\"",
        "\"2025-1a-19T21:00:00Z\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(check(f, bad[i]));
    invalid(f, "\"keepalive\"", "(root): \"keepalive\" is not a valid date-time (RFC 3339)");
}

static void test_format_uuid(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"format\": \"uuid\"}");
    valid(f, "\"3f1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6f\"");
    valid(f, "\"3F1C2A9E-8B7D-4C6E-9F00-1A2B3C4D5E6F\"");
    valid(f, "\"00000000-0000-0000-0000-000000000000\"");
    assert_false(check(f, "\"3f1c2a9e8b7d4c6e9f001a2b3c4d5e6f\""));
    assert_false(check(f, "\"3f1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6\""));
    assert_false(check(f, "\"3f1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6fa\""));
    assert_false(check(f, "\"3f1c2a9e-8b7d-4c6e-9f00_1a2b3c4d5e6f\""));
    assert_false(check(f, "\"{3f1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6f}\""));
    invalid(f, "\"3g1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6f\"",
            "(root): \"3g1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6f\" is not a valid uuid");
}

/* ---- arrays ---- */

static void test_items(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"type\": \"array\", \"items\": {\"type\": \"integer\", \"minimum\": 0}}");
    valid(f, "[]");
    valid(f, "[0, 1, 2.0]");
    invalid(f, "[0, 1, -2]", "/2: -2 is less than minimum 0");
    invalid(f, "[0, \"x\", -2]", "/1: expected integer, got string");
    compile(f, "{\"items\": {\"items\": {\"type\": \"string\"}}}");
    valid(f, "[[\"a\"], [], [\"b\", \"c\"]]");
    invalid(f, "[[\"a\"], [], [\"b\", 3]]", "/2/1: expected string, got integer");
    compile(f, "{\"items\": false}");
    valid(f, "[]");
    invalid(f, "[1]", "/0: no value is allowed here (the schema is false)");
}

/* ---- booleans and annotations ---- */

static void test_boolean_schemas(void **state)
{
    struct fixture *f = *state;
    compile(f, "true");
    valid(f, "{\"x\": [1, null]}");
    compile(f, "false");
    invalid(f, "null", "(root): no value is allowed here (the schema is false)");
    compile(f, "{}");
    valid(f, "1");
    compile(f, "{\"properties\": {\"a\": true, \"b\": false}}");
    valid(f, "{\"a\": 1}");
    invalid(f, "{\"a\": 1, \"b\": 2}", "/b: no value is allowed here (the schema is false)");
}

static void test_annotations(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
               " \"$id\": \"https://example.com/task\", \"title\": \"T\","
               " \"description\": \"D\", \"$comment\": \"C\", \"examples\": [1, \"x\"],"
               " \"default\": {\"any\": [\"thing\"]}, \"type\": \"integer\"}");
    valid(f, "3");
    invalid(f, "\"3\"", "(root): expected integer, got string");
}

/* ---- $ref ---- */

static void test_refs(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"definitions\": {\"ts\": {\"type\": \"string\", \"format\": \"date-time\"},"
               "                   \"event\": {\"type\": \"object\", \"required\": [\"timestamp\"],"
               "                             \"properties\": {\"timestamp\": {\"$ref\": "
               "\"#/definitions/ts\"}}}},"
               " \"$ref\": \"#/definitions/event\"}");
    valid(f, "{\"timestamp\": \"2025-11-19T21:00:00+00:00\"}");
    invalid(f, "{\"timestamp\": \"keepalive\"}",
            "/timestamp: \"keepalive\" is not a valid date-time (RFC 3339)");
    invalid(f, "{}", "(root): missing required property \"timestamp\"");

    compile(f, "{\"$defs\": {\"pos\": {\"type\": \"integer\", \"minimum\": 1}},"
               " \"properties\": {\"n\": {\"$ref\": \"#/$defs/pos\"}}}");
    valid(f, "{\"n\": 3}");
    invalid(f, "{\"n\": 0}", "/n: 0 is less than minimum 1");

    /* a chain of refs */
    compile(f, "{\"definitions\": {\"a\": {\"$ref\": \"#/definitions/b\"},"
               "                   \"b\": {\"$ref\": \"#/$defs/c\"}},"
               " \"$defs\": {\"c\": {\"type\": \"null\"}},"
               " \"items\": {\"$ref\": \"#/definitions/a\"}}");
    valid(f, "[null, null]");
    invalid(f, "[null, 0]", "/1: expected null, got integer");

    /* siblings of $ref apply too (2020-12), own keywords first */
    compile(f, "{\"definitions\": {\"num\": {\"type\": \"number\"}},"
               " \"$ref\": \"#/definitions/num\", \"maximum\": 10}");
    valid(f, "5");
    invalid(f, "11", "(root): 11 is greater than maximum 10");
    invalid(f, "\"x\"", "(root): expected number, got string");

    /* escaped names: JSON pointer escapes and percent-encoding */
    compile(f, "{\"definitions\": {\"a/b\": {\"type\": \"string\"}, \"c~d\": {\"type\": \"null\"},"
               "                   \"e%f\": {\"type\": \"boolean\"}},"
               " \"properties\": {\"x\": {\"$ref\": \"#/definitions/a~1b\"},"
               "                  \"y\": {\"$ref\": \"#/definitions/c~0d\"},"
               "                  \"z\": {\"$ref\": \"#/definitions/e%25f\"}}}");
    valid(f, "{\"x\": \"s\", \"y\": null, \"z\": true}");
    invalid(f, "{\"z\": 1}", "/z: expected boolean, got integer");
}

static void test_recursive_refs(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"definitions\": {\"node\": {\"type\": \"object\", \"required\": [\"name\"],"
               "  \"properties\": {\"name\": {\"type\": \"string\"},"
               "                  \"children\": {\"type\": \"array\", \"items\": {\"$ref\": "
               "\"#/definitions/node\"}}},"
               "  \"additionalProperties\": false}},"
               " \"$ref\": \"#/definitions/node\"}");
    valid(f, "{\"name\": \"root\"}");
    valid(f, "{\"name\": \"r\", \"children\": [{\"name\": \"a\", \"children\": []},"
             " {\"name\": \"b\", \"children\": [{\"name\": \"c\"}]}]}");
    invalid(f,
            "{\"name\": \"r\", \"children\": [{\"name\": \"a\"}, {\"name\": \"b\", \"children\": "
            "[{}]}]}",
            "/children/1/children/0: missing required property \"name\"");
    invalid(f, "{\"name\": \"r\", \"children\": [{\"name\": \"a\", \"extra\": 1}]}",
            "/children/0: unexpected property \"extra\" (additionalProperties is false)");

    /* mutual recursion */
    compile(f, "{\"$defs\": {\"a\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/$defs/b\"}},"
               "             \"b\": {\"type\": [\"object\", \"integer\"],"
               "                     \"additionalProperties\": {\"$ref\": \"#/$defs/a\"}}},"
               " \"$ref\": \"#/$defs/a\"}");
    valid(f, "[1, {\"x\": [2, {\"y\": []}]}]");
    invalid(f, "[1, {\"x\": [2, {\"y\": [\"s\"]}]}]",
            "/1/x/1/y/0: expected object or integer, got string");
}

/* The deepest instance the tape accepts, through a self-referencing
 * schema: validation recurses once per level and stops at the bottom. */
static void test_deep_recursion(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"$defs\": {\"a\": {\"type\": [\"array\", \"integer\"],"
               " \"items\": {\"$ref\": \"#/$defs/a\"}}}, \"$ref\": \"#/$defs/a\"}");
    size_t depth = JSON_TAPE_DEFAULT_MAX_DEPTH - 1;
    char *doc = malloc(2 * depth + 8);
    assert_non_null(doc);
    memset(doc, '[', depth);
    strcpy(doc + depth, "1");
    memset(doc + depth + 1, ']', depth);
    doc[2 * depth + 1] = '\0';
    valid(f, doc);
    doc[depth] = '"';
    memmove(doc + depth + 3, doc + depth + 1, depth + 1);
    doc[depth + 1] = 'x';
    doc[depth + 2] = '"';
    assert_false(check(f, doc));
    assert_string_equal(f->err.se_msg, "expected array or integer, got string");
    assert_true(strncmp(f->err.se_path, ".../0/0/0", 9) == 0);
    free(doc);
}

/* A schema inside a larger document (a contract): $ref resolves against
 * the root, and compile errors name the path in the root. */
static void test_schema_in_root(void **state)
{
    struct fixture *f = *state;
    json_t *doc = load("{\"name\": \"c\", \"definitions\": {\"ts\": {\"type\": \"string\", "
                       "\"format\": \"date-time\"}},"
                       " \"events\": {\"heartbeat\": {\"schema\": {\"type\": \"object\","
                       "   \"properties\": {\"timestamp\": {\"$ref\": \"#/definitions/ts\"}}}}}}");
    json_t *schema =
        json_object_get(json_object_get(json_object_get(doc, "events"), "heartbeat"), "schema");
    f->s = compile_one(schema, doc, NULL, &f->set, &f->err);
    json_decref(doc); /* nothing of the document is kept */
    assert_non_null(f->s);
    valid(f, "{\"timestamp\": \"2025-11-19T21:00:00.123456+00:00\"}");
    invalid(f, "{\"timestamp\": 5}", "/timestamp: expected string, got integer");

    doc = load("{\"definitions\": {\"ts\": {\"type\": \"string\"}},"
               " \"events\": {\"progress\": {\"schema\": {\"properties\": {\"value\": "
               "{\"multipleOx\": 2}}}}}}");
    schema = json_object_get(json_object_get(json_object_get(doc, "events"), "progress"), "schema");
    struct json_schema_error err;
    struct json_schema_set *set;
    assert_null(compile_one(schema, doc, NULL, &set, &err));
    assert_string_equal(
        err.se_text,
        "/events/progress/schema/properties/value: unsupported keyword \"multipleOx\"");
    assert_string_equal(err.se_path, "/events/progress/schema/properties/value");
    assert_string_equal(err.se_msg, "unsupported keyword \"multipleOx\"");
    assert_string_equal(err.se_uri, "");

    /* definitions are checked even when nothing refers to them */
    json_object_set_new(json_object_get(json_object_get(doc, "definitions"), "ts"), "format",
                        json_string("e-mail"));
    json_object_del(json_object_get(json_object_get(schema, "properties"), "value"), "multipleOx");
    assert_null(compile_one(schema, doc, NULL, &set, &err));
    assert_string_equal(
        err.se_text,
        "/definitions/ts/format: unsupported format \"e-mail\" (supported: date-time, date, time, "
        "duration, uuid, email, hostname, ipv4, ipv6, uri, uri-reference, json-pointer, regex)");
    json_decref(doc);
}

/* ---- compile errors ---- */

static void test_compile_errors(void **state)
{
    (void)state;
    compile_error(
        "{\"definitions\": {\"progress\": {\"properties\": {\"value\": {\"requried\": []}}}}}",
        "/definitions/progress/properties/value: unsupported keyword \"requried\"");
    compile_error("{\"oneOf\": []}", "/oneOf: \"oneOf\" must be a non-empty array of schemas");
    compile_error("{\"minimum\": \"x\"}", "/minimum: \"minimum\" must be a number");
    compile_error("{\"properties\": {\"a\": {\"maximum\": null}}}",
                  "/properties/a/maximum: \"maximum\" must be a number");
    compile_error("{\"exclusiveMinimum\": true}",
                  "/exclusiveMinimum: \"exclusiveMinimum\" must be a number");
    compile_error("{\"required\": [1]}", "/required/0: \"required\" items must be strings");
    compile_error("{\"required\": [\"a\", 2]}", "/required/1: \"required\" items must be strings");
    compile_error("{\"required\": \"a\"}", "/required: \"required\" must be an array of strings");
    compile_error("{\"required\": [\"a\", \"a\"]}", "/required: \"required\" lists \"a\" twice");
    compile_error("{\"pattern\": \"(\"}",
                  "/pattern: invalid pattern \"(\": missing ) for the ( at offset 0");
    compile_error("{\"pattern\": 1}", "/pattern: \"pattern\" must be a string");
    /* ECMA-262, not POSIX: what PCRE2 or POSIX would read is refused */
    compile_error("{\"pattern\": \"x+++++++++++++++\"}",
                  "/pattern: invalid pattern \"x+++++++++++++++\": nothing to repeat at offset 2");
    compile_error("{\"pattern\": \"(a{,3}){2}\"}",
                  "/pattern: invalid pattern \"(a{,3}){2}\": lone { (write \\{) at offset 2");
    compile_error("{\"pattern\": \"[[:alpha:]]\"}",
                  "/pattern: invalid pattern \"[[:alpha:]]\": lone ] (write \\]) at offset 10");
    compile_error(
        "{\"pattern\": \"a{1,70000}\"}",
        "/pattern: pattern \"a{1,70000}\" refused: repetition count above 65535 at offset 1");
    compile_error(
        "{\"patternProperties\": {\"(?i)a\": true}}",
        "/patternProperties/(?i)a: invalid pattern \"(?i)a\": \"(?i\" is not ECMA-262 (no "
        "inline options, atomic groups, recursion or comments) at offset 0");
    compile_error("{\"type\": \"int\"}", "/type: unknown type \"int\"");
    compile_error("{\"type\": []}", "/type: \"type\" must not be an empty array");
    compile_error("{\"type\": [\"null\", \"null\"]}", "/type: type \"null\" listed twice");
    compile_error("{\"type\": 3}", "/type: \"type\" must be a string or an array of strings");
    compile_error("{\"type\": [\"string\", 3]}",
                  "/type: \"type\" must be a string or an array of strings");
    compile_error("{\"properties\": []}", "/properties: \"properties\" must be an object");
    compile_error("{\"properties\": {\"a/b\": 3}}",
                  "/properties/a~1b: a schema must be an object or a boolean");
    compile_error("{\"additionalProperties\": \"no\"}",
                  "/additionalProperties: a schema must be an object or a boolean");
    compile_error("{\"items\": [{}]}",
                  "/items: \"items\" must be a schema (the array form is draft 2019-09's: use "
                  "\"prefixItems\")");
    compile_error("{\"enum\": 1}", "/enum: \"enum\" must be an array");
    compile_error("{\"minLength\": -1}",
                  "/minLength: \"minLength\" must be a non-negative integer");
    compile_error("{\"maxLength\": 1.5}",
                  "/maxLength: \"maxLength\" must be a non-negative integer");
    compile_error("{\"format\": \"idn-email\"}",
                  "/format: unsupported format \"idn-email\" (supported: date-time, date, time, "
                  "duration, uuid, email, hostname, ipv4, ipv6, uri, uri-reference, json-pointer, "
                  "regex)");
    compile_error("{\"format\": 1}", "/format: \"format\" must be a string");
    compile_error("{\"title\": 1}", "/title: \"title\" must be a string");
    compile_error("{\"examples\": 1}", "/examples: \"examples\" must be an array");
    compile_error("{\"definitions\": []}", "/definitions: \"definitions\" must be an object");
    compile_error("{\"$defs\": {\"a\": {\"type\": \"x\"}}}", "/$defs/a/type: unknown type \"x\"");
    compile_error("3", "(root): a schema must be an object or a boolean");
    compile_error(
        "{\"$ref\": \"#/definitions/missing\"}",
        "/$ref: unresolved $ref \"#/definitions/missing\": no value at that JSON pointer");
    compile_error("{\"definitions\": {\"a\": {}}, \"$ref\": \"#/$defs/a\"}",
                  "/$ref: unresolved $ref \"#/$defs/a\": no value at that JSON pointer");
    compile_error("{\"$ref\": \"other.json#/definitions/a\"}",
                  "/$ref: unresolved $ref: no document \"ssemon:other.json\" is known");
    compile_error(
        "{\"$ref\": \"#\"}",
        "/$ref: circular $ref: it applies the same schemas to the same value without end");
    /* a pointer to any value: it is compiled as a schema, where it is */
    compile_error("{\"definitions\": {\"a\": {\"properties\": {\"x\": 1}}}, \"$ref\": "
                  "\"#/definitions/a/properties\"}",
                  "/definitions/a/properties/x: a schema must be an object or a boolean");
    compile_error("{\"$ref\": 1}", "/$ref: \"$ref\" must be a string");
    compile_error(
        "{\"definitions\": {\"a\": {\"$ref\": \"#/definitions/b\"}, \"b\": {\"$ref\": "
        "\"#/definitions/a\"}}}",
        "/definitions/a/$ref: circular $ref: it applies the same schemas to the same value without "
        "end");
    compile_error(
        "{\"definitions\": {\"a\": {\"$ref\": \"#/definitions/a\"}}}",
        "/definitions/a/$ref: circular $ref: it applies the same schemas to the same value without "
        "end");
    /* nested (unreachable) definitions are still checked */
    compile_error("{\"properties\": {\"a\": {\"$defs\": {\"x\": {\"foo\": 1}}}}}",
                  "/properties/a/$defs/x: unsupported keyword \"foo\"");

    /* err may be NULL; a NULL schema is refused */
    json_t *j = load("{\"foo\": 1}");
    struct json_schema_set *set = json_schema_compile_new(j, NULL, NULL);
    assert_non_null(set);
    assert_null(json_schema_compile_add(set, j, "", NULL));
    /* after an error the set takes nothing more */
    struct json_schema_error err;
    assert_null(json_schema_compile_add(set, j, "", &err));
    assert_false(json_schema_compile_finish(set, &err));
    json_schema_compile_free(set);
    json_decref(j);
    assert_null(json_schema_compile_new(NULL, NULL, &err));
    assert_string_equal(err.se_text, "(root): no schema");
    json_schema_compile_free(NULL);
}

/* ---- what a set may cost ---- */

/* A document with `n` definitions d0..d(n-1), each an object whose "next"
 * refers to the following one, and "events" e0..e(n-1) whose schemas each
 * refer to one definition: the shape that cost n x n before definitions
 * were shared. */
static json_t *many_definitions(size_t n)
{
    json_t *doc = json_object();
    json_t *defs = json_object();
    json_t *events = json_object();
    char name[32];
    char ref[64];
    for (size_t i = 0; i < n; i++) {
        json_t *props = json_pack("{s:{s:s}}", "id", "type", "integer");
        if (i + 1 < n) {
            snprintf(ref, sizeof(ref), "#/definitions/d%zu", i + 1);
            json_object_set_new(props, "next", json_pack("{s:s}", "$ref", ref));
        }
        snprintf(name, sizeof(name), "d%zu", i);
        json_object_set_new(defs, name,
                            json_pack("{s:s,s:o}", "type", "object", "properties", props));
        snprintf(ref, sizeof(ref), "#/definitions/d%zu", i);
        snprintf(name, sizeof(name), "e%zu", i);
        json_object_set_new(events, name, json_pack("{s:s}", "$ref", ref));
    }
    json_object_set_new(doc, "definitions", defs);
    json_object_set_new(doc, "events", events);
    return doc;
}

/* Every definition is compiled once, however many schemas refer to it: n
 * definitions of 3 schemas each and n referring schemas fit in 4 n nodes
 * (compiling each definition per referring schema needed about 3 n x n). */
static void test_definitions_compiled_once(void **state)
{
    (void)state;
    const size_t n = 2000;
    json_t *doc = many_definitions(n);
    const struct json_schema_limits lim = {.sl_nodes = 4 * n, .sl_definitions = n};
    struct json_schema_error err;
    struct json_schema_set *set = json_schema_compile_new(doc, &lim, &err);
    if (set == NULL)
        fail_msg("%s", err.se_text);
    const json_t *events = json_object_get(doc, "events");
    const struct json_schema *first = NULL;
    const struct json_schema *last = NULL;
    char path[64];
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "e%zu", i);
        snprintf(path, sizeof(path), "/events/e%zu", i);
        const struct json_schema *s =
            json_schema_compile_add(set, json_object_get(events, name), path, &err);
        if (s == NULL)
            fail_msg("%s", err.se_text);
        if (i == 0)
            first = s;
        last = s;
    }
    assert_true(json_schema_compile_finish(set, &err));
    json_decref(doc); /* nothing of the document is kept */

    struct json_tape t;
    json_tape_init(&t);
    const char *ok = "{\"id\": 1, \"next\": {\"id\": 2, \"next\": {\"id\": 3}}}";
    const char *bad = "{\"id\": 1, \"next\": {\"id\": 2, \"next\": {\"id\": \"x\"}}}";
    assert_int_equal(json_tape_parse(&t, ok, strlen(ok), NULL), JSON_TAPE_OK);
    assert_true(json_schema_validate(first, &t, json_tape_root(&t), &err));
    assert_true(json_schema_validate(last, &t, json_tape_root(&t), &err));
    assert_int_equal(json_tape_parse(&t, bad, strlen(bad), NULL), JSON_TAPE_OK);
    assert_false(json_schema_validate(first, &t, json_tape_root(&t), &err));
    assert_string_equal(err.se_text, "/next/next/id: expected integer, got string");
    json_tape_free(&t);
    json_schema_compile_free(set);

    /* the default limits take this document too */
    doc = many_definitions(n);
    set = json_schema_compile_new(doc, NULL, &err);
    assert_non_null(set);
    assert_non_null(json_schema_compile_add(
        set, json_object_get(json_object_get(doc, "events"), "e0"), NULL, &err));
    assert_true(json_schema_compile_finish(set, &err));
    json_schema_compile_free(set);
    json_decref(doc);
}

/* Going beyond a limit is an error at the value that crossed it. */
static void test_limits(void **state)
{
    (void)state;
    const struct json_schema_limits nodes = {.sl_nodes = 2};
    compile_error_lim("{\"properties\": {\"a\": {}, \"b\": {}}}", &nodes,
                      "/properties/b: more than 2 schemas and subschemas in all (the limit)");
    json_t *fits = load("{\"properties\": {\"a\": {}, \"b\": true}}");
    struct json_schema_set *set;
    struct json_schema_error err;
    const struct json_schema_limits three = {.sl_nodes = 3};
    assert_non_null(compile_one(fits, NULL, &three, &set, &err));
    json_schema_compile_free(set);
    json_decref(fits);

    const struct json_schema_limits defs = {.sl_definitions = 2};
    compile_error_lim("{\"definitions\": {\"a\": {}, \"b\": {}, \"c\": {}}}", &defs,
                      "/definitions: 3 definitions, more than the limit of 2");
    compile_error_lim("{\"definitions\": {\"a\": {}}, \"$defs\": {\"b\": {}, \"c\": {}}}", &defs,
                      "/$defs: 3 definitions, more than the limit of 2");

    const struct json_schema_limits depth = {.sl_depth = 3};
    compile_error_lim("{\"items\": {\"items\": {\"items\": {}}}}", &depth,
                      "(root): subschemas nested more than 3 deep (the limit)");
    compile_error_lim("{\"definitions\": {\"d\": {\"items\": {\"items\": {\"items\": {}}}}}}",
                      &depth, "/definitions/d: subschemas nested more than 3 deep (the limit)");

    const struct json_schema_limits enums = {.sl_enum = 2};
    compile_error_lim("{\"properties\": {\"k\": {\"enum\": [1, 2, 3]}}}", &enums,
                      "/properties/k/enum: \"enum\" has 3 entries, more than the limit of 2");

    const struct json_schema_limits consts = {.sl_constants = 3};
    compile_error_lim("{\"properties\": {\"a\": {\"enum\": [1, 2]}, \"b\": {\"const\": 3},"
                      " \"c\": {\"const\": 4}}}",
                      &consts,
                      "/properties/c/const: more than 3 enum and const values in all (the limit)");

    /* a pattern seen before shares its regex: only distinct ones count */
    const struct json_schema_limits pats = {.sl_patterns = 1};
    compile_error_lim(
        "{\"properties\": {\"a\": {\"pattern\": \"^x\"}, \"b\": {\"pattern\": \"^x\"},"
        " \"c\": {\"pattern\": \"^y\"}}}",
        &pats, "/properties/c/pattern: more than 1 different patterns in all (the limit)");

    /* the default enum limit: 10000 entries are fine, one more is not */
    json_t *big = json_object();
    json_t *values = json_array();
    for (int i = 0; i < JSON_SCHEMA_MAX_ENUM; i++)
        json_array_append_new(values, json_integer(i));
    json_object_set_new(big, "enum", values);
    const struct json_schema *s = compile_one(big, NULL, NULL, &set, &err);
    assert_non_null(s);
    struct json_tape t;
    json_tape_init(&t);
    assert_int_equal(json_tape_parse(&t, "9999", 4, NULL), JSON_TAPE_OK);
    assert_true(json_schema_validate(s, &t, json_tape_root(&t), NULL));
    json_tape_free(&t);
    json_schema_compile_free(set);
    json_array_append_new(values, json_integer(-1));
    assert_null(compile_one(big, NULL, NULL, &set, &err));
    assert_string_equal(err.se_text,
                        "/enum: \"enum\" has 10001 entries, more than the limit of 10000");
    json_decref(big);
}

/* Long property tables and required lists are sorted, not compared in
 * pairs: lookups stay right, and the first repeat is the one reported. */
static void test_many_properties(void **state)
{
    struct fixture *f = *state;
    const int n = 2000;
    json_t *schema = json_object();
    json_t *props = json_object();
    json_t *req = json_array();
    for (int i = n; i-- > 0;) {
        char name[32];
        snprintf(name, sizeof(name), "p%d", i);
        json_object_set_new(props, name, json_pack("{s:s}", "type", "integer"));
        json_array_append_new(req, json_string(name));
    }
    json_object_set_new(schema, "properties", props);
    json_object_set_new(schema, "required", req);
    f->s = compile_one(schema, NULL, NULL, &f->set, &f->err);
    assert_non_null(f->s);
    /* every member, in document order, one of them wrong or missing */
    size_t cap = (size_t)n * 24 + 16;
    char *inst = malloc(cap);
    assert_non_null(inst);
    for (int wrong = 0; wrong < 3; wrong++) {
        size_t len = (size_t)snprintf(inst, cap, "{");
        for (int i = 0; i < n; i++) {
            if (wrong == 2 && i == n - 1)
                continue;
            len += (size_t)snprintf(inst + len, cap - len, "%s\"p%d\": %s", i ? ", " : "", i,
                                    wrong == 1 && i == 1234 ? "\"x\"" : "1");
        }
        snprintf(inst + len, cap - len, "}");
        if (wrong == 0)
            valid(f, inst);
        else if (wrong == 1)
            invalid(f, inst, "/p1234: expected integer, got string");
        else
            invalid(f, inst, "(root): missing required property \"p1999\"");
    }
    free(inst);
    json_array_append_new(req, json_string("p5"));
    json_array_append_new(req, json_string("p3"));
    json_array_append_new(req, json_string("p3"));
    struct json_schema_set *set;
    struct json_schema_error err;
    assert_null(compile_one(schema, NULL, NULL, &set, &err));
    assert_string_equal(err.se_text, "/required: \"required\" lists \"p5\" twice");
    json_decref(schema);
}

/* ---- messages and paths ---- */

static void test_messages(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"properties\": {\"data\": {\"properties\": {\"value\": {\"maximum\": 1}}}}}");
    invalid(f, "{\"data\": {\"value\": 1.5}}", "/data/value: 1.5 is greater than maximum 1");
    assert_string_equal(f->err.se_path, "/data/value");
    assert_string_equal(f->err.se_msg, "1.5 is greater than maximum 1");

    /* keys are escaped in paths */
    compile(f, "{\"properties\": {\"a/b\": {\"properties\": {\"m~n\": {\"type\": \"null\"}}}}}");
    invalid(f, "{\"a/b\": {\"m~n\": 0}}", "/a~1b/m~0n: expected null, got integer");

    /* long values are cut in messages */
    compile(f, "{\"maxLength\": 3}");
    invalid(f, "\"0123456789012345678901234567890123456789012345678901234567890123456789\"",
            "(root): \"01234567890123456789012345678901234567890123456... is longer than "
            "maxLength 3 (70 characters)");

    /* deep paths keep their innermost part */
    compile(f,
            "{\"$defs\": {\"d\": {\"properties\": {\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\": "
            "{\"$ref\": \"#/$defs/d\"}}, \"type\": \"object\"}}, \"$ref\": \"#/$defs/d\"}");
    char inst[4096];
    size_t len = 0;
    for (int i = 0; i < 20; i++)
        len += (size_t)snprintf(inst + len, sizeof(inst) - len,
                                "{\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\": ");
    len += (size_t)snprintf(inst + len, sizeof(inst) - len, "1");
    for (int i = 0; i < 20; i++)
        inst[len++] = '}';
    inst[len] = '\0';
    assert_false(check(f, inst));
    assert_true(strncmp(f->err.se_path, "...", 3) == 0);
    assert_true(strlen(f->err.se_path) < JSON_SCHEMA_PATH_MAX);
    const char *tail = "/kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";
    assert_string_equal(f->err.se_path + strlen(f->err.se_path) - strlen(tail), tail);
    assert_string_equal(f->err.se_msg, "expected object, got integer");
}

static void test_first_failure_in_document_order(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"properties\": {\"a\": {\"type\": \"string\"}, \"b\": {\"type\": \"string\"},"
               "                  \"c\": {\"type\": \"string\"}}}");
    invalid(f, "{\"c\": 1, \"a\": 2, \"b\": 3}", "/c: expected string, got integer");
    invalid(f, "{\"b\": \"ok\", \"a\": 2, \"c\": 3}", "/a: expected string, got integer");
    /* the same answer every time, from a shared immutable schema */
    for (int i = 0; i < 3; i++)
        invalid(f, "{\"b\": 1, \"a\": 2}", "/b: expected string, got integer");
}

static void test_validate_guards(void **state)
{
    struct fixture *f = *state;
    compile(f, "{\"type\": \"object\"}");
    /* a failed parse leaves no node to validate */
    assert_int_not_equal(json_tape_parse(&f->t, "{", 1, NULL), JSON_TAPE_OK);
    assert_false(json_schema_validate(f->s, &f->t, json_tape_root(&f->t), &f->err));
    assert_string_equal(f->err.se_text, "(root): no value to validate");
    /* validating a subtree: paths are relative to it */
    const char *doc = "{\"type\": \"x\", \"payload\": {\"a\": 1}}";
    assert_int_equal(json_tape_parse(&f->t, doc, strlen(doc), NULL), JSON_TAPE_OK);
    compile(f, "{\"properties\": {\"a\": {\"type\": \"string\"}}}");
    size_t payload = json_tape_pointer(&f->t, 0, "/payload");
    assert_false(json_schema_validate(f->s, &f->t, payload, &f->err));
    assert_string_equal(f->err.se_text, "/a: expected string, got integer");
    assert_true(json_schema_validate(f->s, &f->t, json_tape_pointer(&f->t, 0, "/type"), NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_properties_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_additional_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys_last_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enum_const, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numeric_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_datetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boolean_schemas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_annotations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recursive_refs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_recursion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_in_root, setup, teardown),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_definitions_compiled_once),
        cmocka_unit_test(test_limits),
        cmocka_unit_test_setup_teardown(test_many_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_failure_in_document_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_guards, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
