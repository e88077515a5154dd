/*
 * json_schema, draft 2020-12: applicator messages (anyOf/oneOf branches,
 * nested, bounded), documents by URI (registered, loaded, errors with
 * se_uri), $dynamicRef, unevaluated*, multipleOf and uniqueItems messages,
 * limits refused with their positions, recursion that cannot loop, and the
 * simple path allocating nothing.
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

#include "alloc_fail.h"
#include "ssemon/json/json_schema.h"
#include "ssemon/json/json_schema_compile.h"
#include "ssemon/json/json_tape.h"

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (j == NULL)
        fail_msg("test JSON does not parse: %s: %s", jerr.text, text);
    return j;
}

/* A compiled schema (its own root) with options, and a tape. */
struct sc {
    struct json_schema_set *set;
    const struct json_schema *s;
    struct json_tape t;
    struct json_schema_error err;
    json_t *root;
};

static bool sc_compile(struct sc *sc, const char *text, const struct json_schema_options *opts)
{
    memset(sc, 0, sizeof(*sc));
    json_tape_init(&sc->t);
    sc->root = load(text);
    sc->set = json_schema_compile_new_opts(sc->root, opts, &sc->err);
    if (sc->set != NULL)
        sc->s = json_schema_compile_add(sc->set, sc->root, "", &sc->err);
    if (sc->s == NULL || !json_schema_compile_finish(sc->set, &sc->err)) {
        sc->s = NULL;
        return false;
    }
    return true;
}

static void sc_free(struct sc *sc)
{
    json_schema_compile_free(sc->set);
    json_tape_free(&sc->t);
    json_decref(sc->root);
}

static void sc_ok(struct sc *sc, const char *text, const struct json_schema_options *opts)
{
    if (!sc_compile(sc, text, opts))
        fail_msg("compile failed: %s %s\nschema: %s", sc->err.se_uri, sc->err.se_text, text);
}

static bool sc_check(struct sc *sc, const char *instance)
{
    if (json_tape_parse(&sc->t, instance, strlen(instance), NULL) != JSON_TAPE_OK)
        fail_msg("instance does not parse: %s", instance);
    bool ok = json_schema_validate(sc->s, &sc->t, json_tape_root(&sc->t), &sc->err);
    assert_int_equal(ok, json_schema_validate(sc->s, &sc->t, json_tape_root(&sc->t), NULL));
    return ok;
}

static void sc_valid(struct sc *sc, const char *instance)
{
    if (!sc_check(sc, instance))
        fail_msg("rejected %s: %s", instance, sc->err.se_text);
}

static void sc_invalid(struct sc *sc, const char *instance, const char *want)
{
    if (sc_check(sc, instance))
        fail_msg("accepted %s, expected \"%s\"", instance, want);
    if (strcmp(sc->err.se_text, want) != 0)
        fail_msg("for %s got\n  \"%s\", want\n  \"%s\"", instance, sc->err.se_text, want);
}

/* Validation result of one schema text on one instance text, expected. */
static void one_invalid(const char *schema, const char *instance, const char *want)
{
    struct sc sc;
    sc_ok(&sc, schema, NULL);
    sc_invalid(&sc, instance, want);
    sc_free(&sc);
}

static void compile_fails(const char *schema, const struct json_schema_options *opts,
                          const char *uri, const char *want)
{
    struct sc sc;
    if (sc_compile(&sc, schema, opts))
        fail_msg("compiled, expected \"%s\"", want);
    if (strcmp(sc.err.se_text, want) != 0 || strcmp(sc.err.se_uri, uri) != 0)
        fail_msg("got \"%s\" \"%s\", want \"%s\" \"%s\"", sc.err.se_uri, sc.err.se_text, uri, want);
    sc_free(&sc);
}

static void test_any_one_not_messages(void **state)
{
    (void)state;
    const char *opt = "{\"properties\": {\"data\": {\"anyOf\": [{\"type\": \"object\"}, "
                      "{\"type\": \"null\"}]}}}";
    one_invalid(opt, "{\"data\": \"x\"}",
                "/data: no branch of anyOf matched: [0] /data: expected object, got string; "
                "[1] /data: expected null, got string");
    /* branch paths below the applicator, and nested applicators */
    one_invalid("{\"anyOf\": [{\"properties\": {\"a\": {\"anyOf\": [{\"type\": \"string\"}, "
                "{\"type\": \"null\"}]}}}, {\"type\": \"null\"}]}",
                "{\"a\": 1}",
                "(root): no branch of anyOf matched: [0] /a: no branch of anyOf matched: "
                "[0] /a: expected string, got integer; [1] /a: expected null, got integer; "
                "[1] (root): expected null, got object");
    one_invalid("{\"items\": {\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]}}", "[1, 3]",
                "/1: 2 branches of oneOf matched, exactly one must: [0] and [1]");
    one_invalid("{\"oneOf\": [{\"type\": \"integer\"}, {\"type\": \"string\"}]}", "null",
                "(root): no branch of oneOf matched: [0] (root): expected integer, got null; "
                "[1] (root): expected string, got null");
    one_invalid("{\"not\": {\"type\": \"string\"}}", "\"s\"",
                "(root): must not match the schema at /not");
    one_invalid("{\"if\": {\"required\": [\"a\"]}, \"then\": {\"required\": [\"b\"]}, "
                "\"else\": {\"required\": [\"c\"]}}",
                "{\"a\": 1}", "(root): missing required property \"b\"");
    one_invalid("{\"if\": {\"required\": [\"a\"]}, \"then\": {\"required\": [\"b\"]}, "
                "\"else\": {\"required\": [\"c\"]}}",
                "{}", "(root): missing required property \"c\"");
    one_invalid("{\"properties\": {\"a\": true}, \"unevaluatedProperties\": false}",
                "{\"a\": 1, \"x\": 2}",
                "(root): unevaluated property \"x\" (unevaluatedProperties is false)");
    one_invalid("{\"prefixItems\": [true], \"unevaluatedItems\": {\"type\": \"string\"}}", "[1, 2]",
                "/1: expected string, got integer");
    one_invalid("{\"dependentRequired\": {\"a\": [\"b\"]}}", "{\"a\": 1}",
                "(root): missing property \"b\" (dependentRequired: \"a\" is present)");
    one_invalid("{\"contains\": {\"type\": \"string\"}}", "[1]",
                "(root): no item matches the \"contains\" schema");
    one_invalid("{\"propertyNames\": {\"maxLength\": 2}}", "{\"abc\": 1}",
                "(root): property name \"abc\" (propertyNames): \"abc\" is longer than "
                "maxLength 2 (3 characters)");
}

static void test_branch_messages_bounded(void **state)
{
    (void)state;
    /* 12 branches, each failing with a long message: cut to fit, on a
     * UTF-8 boundary, marked "..." */
    char schema[4096] = "{\"anyOf\": [";
    for (int i = 0; i < 12; i++)
        snprintf(schema + strlen(schema), sizeof(schema) - strlen(schema),
                 "%s{\"const\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9-%d\"}",
                 i ? ", " : "", i);
    strcat(schema, "]}");
    struct sc sc;
    sc_ok(&sc, schema, NULL);
    assert_false(sc_check(&sc, "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\""));
    size_t len = strlen(sc.err.se_msg);
    assert_true(len < JSON_SCHEMA_MSG_MAX);
    assert_string_equal(sc.err.se_msg + len - 3, "...");
    assert_non_null(strstr(sc.err.se_msg, "no branch of anyOf matched: [0] (root): "));
    /* no control byte of the path markers survives */
    for (size_t i = 0; i < len; i++)
        assert_true((unsigned char)sc.err.se_msg[i] >= 0x20);
    /* the byte before "..." ends a character */
    unsigned char last = (unsigned char)sc.err.se_msg[len - 4];
    assert_true(last < 0x80 || (last & 0xC0) == 0x80);
    sc_free(&sc);
}

static void test_numbers_and_arrays(void **state)
{
    (void)state;
    struct sc sc;
    sc_ok(&sc, "{\"multipleOf\": 0.01}", NULL);
    sc_valid(&sc, "0.07");
    sc_valid(&sc, "19.99");
    sc_valid(&sc, "-1e-2");
    sc_valid(&sc, "123456789012345678.00");
    sc_invalid(&sc, "0.075", "(root): 0.075 is not a multiple of 0.01");
    sc_invalid(&sc, "1e-300", "(root): 1e-300 is not a multiple of 0.01");
    sc_free(&sc);
    sc_ok(&sc, "{\"multipleOf\": 1.5}", NULL);
    sc_valid(&sc, "4.5");
    sc_valid(&sc, "0");
    sc_invalid(&sc, "35", "(root): 35 is not a multiple of 1.5");
    sc_free(&sc);
    sc_ok(&sc, "{\"uniqueItems\": true}", NULL);
    sc_invalid(&sc, "[1, 2, {\"a\": [1]}, 3, {\"a\": [1.0]}]",
               "(root): items 2 and 4 are equal (uniqueItems)");
    sc_valid(&sc, "[1, \"1\", [1], {\"a\": 1}, {\"a\": 2}]");
    /* longer arrays are hashed and sorted: the same answers */
    sc_invalid(&sc,
               "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, {\"b\": [3], \"a\": "
               "null}, 19, 20, 2.0, 22, {\"a\": null, \"b\": [3.0]}]",
               "(root): items 2 and 21 are equal (uniqueItems)");
    sc_valid(&sc, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, \"0\", [0], "
                  "{\"0\": 0}, -0.5, 0.5]");
    sc_free(&sc);
    /* the cap: a longer array fails with a message saying so */
    size_t n = JSON_SCHEMA_UNIQUE_MAX + 1;
    char *big = malloc(n * 8 + 8);
    assert_non_null(big);
    size_t at = 0;
    big[at++] = '[';
    for (size_t i = 0; i < n; i++)
        at += (size_t)sprintf(big + at, "%s%zu", i ? "," : "", i);
    big[at++] = ']';
    big[at] = '\0';
    sc_ok(&sc, "{\"uniqueItems\": true}", NULL);
    assert_false(sc_check(&sc, big));
    assert_non_null(strstr(sc.err.se_msg, "too long to check uniqueItems"));
    sc_free(&sc);
    free(big);
    sc_ok(&sc, "{\"minItems\": 2, \"maxItems\": 3}", NULL);
    sc_invalid(&sc, "[1]", "(root): array has 1 items, fewer than minItems 2");
    sc_invalid(&sc, "[1,2,3,4]", "(root): array has 4 items, more than maxItems 3");
    sc_free(&sc);
    sc_ok(&sc, "{\"minProperties\": 1, \"maxProperties\": 1}", NULL);
    sc_invalid(&sc, "{}", "(root): object has 0 properties, fewer than minProperties 1");
    sc_invalid(&sc, "{\"a\":1,\"b\":2}",
               "(root): object has 2 properties, more than maxProperties 1");
    sc_free(&sc);
}

/* Patterns are ECMA-262 (the suite's examples that POSIX got wrong), and
 * a search that hits the cost limits fails, saying so. */
static void test_ecma_patterns(void **state)
{
    (void)state;
    struct sc sc;
    sc_ok(&sc,
          "{\"properties\": {\"d\": {\"pattern\": \"^\\\\d{4}-\"}, \"w\": {\"pattern\": "
          "\"^\\\\w+\\\\s\\\\t$\"}, \"u\": {\"pattern\": \"^\\\\u00e9$\"}}, "
          "\"patternProperties\": {\"^\\\\p{Lu}\": {\"type\": \"integer\"}}}",
          NULL);
    sc_valid(&sc,
             "{\"d\": \"2024-01\", \"w\": \"a_1 \\t\", \"u\": \"\\u00e9\", \"\\u00c9t\u00e9\": 1}");
    sc_invalid(&sc, "{\"d\": \"\\u0661\\u0662\\u0663\\u0664-\"}",
               "/d: \"\\u0661\\u0662\\u0663\\u0664-\" does not match pattern \"^\\d{4}-\"");
    sc_invalid(&sc, "{\"Ab\": \"x\"}", "/Ab: expected integer, got string");
    sc_free(&sc);
    sc_ok(&sc, "{\"pattern\": \"^(a|aa)*$\"}", NULL);
    char text[64];
    snprintf(text, sizeof(text), "\"%s!\"", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    sc_invalid(&sc, text, "(root): pattern too costly to match (pattern \"^(a|aa)*$\")");
    sc_valid(&sc, "\"aaaa\"");
    sc_free(&sc);
}

static void test_formats(void **state)
{
    (void)state;
    struct sc sc;
    sc_ok(&sc,
          "{\"properties\": {\"e\": {\"format\": \"email\"}, \"r\": {\"format\": \"regex\"}, "
          "\"d\": {\"format\": \"date\"}, \"n\": {\"format\": \"ipv4\"}}}",
          NULL);
    sc_valid(&sc, "{\"e\": \"a@example.com\", \"r\": \"^a+$\", \"d\": \"2024-02-29\", \"n\": 5}");
    sc_invalid(&sc, "{\"e\": \"no-at-sign\"}", "/e: \"no-at-sign\" is not a valid email");
    sc_invalid(&sc, "{\"r\": \"(\"}", "/r: \"(\" is not a valid regex");
    sc_invalid(&sc, "{\"d\": \"2023-02-29\"}", "/d: \"2023-02-29\" is not a valid date");
    sc_invalid(&sc, "{\"n\": \"1.2.3\"}", "/n: \"1.2.3\" is not a valid ipv4");
    sc_free(&sc);
}

/* A loader over a fixed table, counting its calls. */
struct fake_loader {
    const char *fl_uri[4];
    json_t *fl_doc[4];
    int fl_calls[4];
    int fl_refused;
};

static const json_t *fake_load(void *ctx, const char *uri, char *why, size_t cap)
{
    struct fake_loader *fl = ctx;
    for (int i = 0; i < 4 && fl->fl_uri[i] != NULL; i++) {
        if (strcmp(fl->fl_uri[i], uri) == 0) {
            fl->fl_calls[i]++;
            return fl->fl_doc[i];
        }
    }
    fl->fl_refused++;
    snprintf(why, cap, "outside the contract directories");
    return NULL;
}

static void test_documents(void **state)
{
    (void)state;
    json_t *openapi =
        load("{\"openapi\": \"3.1.0\", \"components\": {\"schemas\": {"
             "\"P\": {\"title\": \"P\", \"type\": \"object\", \"properties\": {\"v\": {\"type\": "
             "\"number\", \"maximum\": 1}, \"k\": {\"$ref\": \"#/components/schemas/K\"}}},"
             "\"K\": {\"type\": \"string\", \"enum\": [\"a\", \"b\"]},"
             "\"Bad\": {\"type\": \"object\", \"requried\": [\"x\"]}}}}");
    struct fake_loader fl = {.fl_uri = {"file:///c/backend.json"}, .fl_doc = {openapi}};
    struct json_schema_options opts = {
        .so_base_uri = "file:///c/contract.json", .so_load = fake_load, .so_load_ctx = &fl};
    struct sc sc;
    /* a relative $ref, loaded once however many refer to it; its own
     * "#/components/..." references resolve inside it */
    sc_ok(&sc,
          "{\"properties\": {\"a\": {\"$ref\": \"backend.json#/components/schemas/P\"}, "
          "\"b\": {\"$ref\": \"backend.json#/components/schemas/K\"}}}",
          &opts);
    assert_int_equal(fl.fl_calls[0], 1);
    sc_valid(&sc, "{\"a\": {\"v\": 0.5, \"k\": \"a\"}, \"b\": \"b\"}");
    sc_invalid(&sc, "{\"a\": {\"v\": 1.5}}", "/a/v: 1.5 is greater than maximum 1");
    sc_invalid(&sc, "{\"a\": {\"k\": \"z\"}}",
               "/a/k: \"z\" is not one of the allowed values [\"a\",\"b\"]");
    sc_free(&sc);
    /* an error inside the other document: its URI and the pointer in it */
    compile_fails("{\"$ref\": \"backend.json#/components/schemas/Bad\"}", &opts,
                  "file:///c/backend.json",
                  "/components/schemas/Bad: unsupported keyword \"requried\"");
    /* the loader refuses: positioned at the $ref, with its reason */
    compile_fails("{\"properties\": {\"x\": {\"$ref\": \"http://example.com/s.json\"}}}", &opts, "",
                  "/properties/x/$ref: cannot load \"http://example.com/s.json\": outside the "
                  "contract directories");
    compile_fails("{\"$ref\": \"backend.json#/components/schemas/Nope\"}", &opts, "",
                  "/$ref: unresolved $ref "
                  "\"file:///c/backend.json#/components/schemas/Nope\": no value at that JSON "
                  "pointer");
    /* registered documents, with an embedded $id known too; no loader */
    json_t *reg = load("{\"$defs\": {\"x\": {\"$id\": \"http://ex.com/x.json\", \"type\": "
                       "\"integer\"}}}");
    struct json_schema_document docs[] = {{"http://ex.com/root.json", reg}};
    struct json_schema_options ropts = {.so_docs = docs, .so_ndocs = 1};
    sc_ok(&sc, "{\"$ref\": \"http://ex.com/x.json\"}", &ropts);
    sc_invalid(&sc, "\"s\"", "(root): expected integer, got string");
    sc_free(&sc);
    compile_fails("{\"$ref\": \"http://ex.com/y.json\"}", &ropts, "",
                  "/$ref: unresolved $ref: no document \"http://ex.com/y.json\" is known");
    /* the documents cap, at the value that crossed it */
    struct json_schema_limits lim = {.sl_documents = 1};
    ropts.so_limits = &lim;
    compile_fails("{}", &ropts, "", "(root): more than 1 documents in all (the limit)");
    json_decref(reg);
    json_decref(openapi);
}

/* A schema shared with a registered document (a contract's parent file)
 * resolves against that document and names it in errors. */
static void test_schema_of_registered_document(void **state)
{
    (void)state;
    json_t *parent = load("{\"events\": {\"a\": {\"schema\": {\"$ref\": \"defs.json#/x\"}}, "
                          "\"b\": {\"schema\": {\"minimum\": \"0\"}}}}");
    json_t *defs = load("{\"x\": {\"type\": \"integer\"}}");
    json_t *child = load("{\"events\": {}}");
    json_t *events = json_object_get(child, "events");
    json_object_set(events, "a", json_object_get(json_object_get(parent, "events"), "a"));
    json_object_set(events, "b", json_object_get(json_object_get(parent, "events"), "b"));
    struct fake_loader fl = {.fl_uri = {"file:///p/defs.json"}, .fl_doc = {defs}};
    struct json_schema_document docs[] = {{"file:///p/parent.json", parent}};
    struct json_schema_options opts = {.so_base_uri = "file:///c/child.json",
                                       .so_docs = docs,
                                       .so_ndocs = 1,
                                       .so_load = fake_load,
                                       .so_load_ctx = &fl};
    struct json_schema_error err;
    struct json_schema_set *set = json_schema_compile_new_opts(child, &opts, &err);
    assert_non_null(set);
    const json_t *sa = json_object_get(json_object_get(events, "a"), "schema");
    const struct json_schema *s = json_schema_compile_add(set, sa, "/events/a/schema", &err);
    assert_non_null(s);
    assert_true(json_schema_compile_finish(set, &err));
    assert_int_equal(fl.fl_calls[0], 1); /* file:///p/defs.json, not file:///c/defs.json */
    struct json_tape t;
    json_tape_init(&t);
    assert_int_equal(json_tape_parse(&t, "1.5", 3, NULL), JSON_TAPE_OK);
    assert_false(json_schema_validate(s, &t, 0, &err));
    assert_string_equal(err.se_text, "(root): expected integer, got number");
    json_tape_free(&t);
    json_schema_compile_free(set);
    /* an error in the inherited schema: the parent's URI and path */
    set = json_schema_compile_new_opts(child, &opts, &err);
    assert_non_null(set);
    const json_t *sb = json_object_get(json_object_get(events, "b"), "schema");
    assert_null(json_schema_compile_add(set, sb, "/events/b/schema", &err));
    assert_string_equal(err.se_uri, "file:///p/parent.json");
    assert_string_equal(err.se_text, "/events/b/schema/minimum: \"minimum\" must be a number");
    json_schema_compile_free(set);
    json_decref(child);
    json_decref(defs);
    json_decref(parent);
}

static void test_dynamic_ref(void **state)
{
    (void)state;
    json_t *tree = load("{\"$id\": \"http://ex.com/tree.json\", \"$dynamicAnchor\": \"node\", "
                        "\"type\": \"object\", \"properties\": {\"kids\": {\"type\": \"array\", "
                        "\"items\": {\"$dynamicRef\": \"#node\"}}}}");
    struct json_schema_document docs[] = {{"http://ex.com/tree.json", tree}};
    struct json_schema_options opts = {.so_docs = docs, .so_ndocs = 1};
    struct sc sc;
    sc_ok(&sc,
          "{\"$id\": \"http://ex.com/strict.json\", \"$dynamicAnchor\": \"node\", \"$ref\": "
          "\"tree.json\", \"unevaluatedProperties\": false}",
          &opts);
    sc_valid(&sc, "{\"kids\": [{\"kids\": []}]}");
    sc_invalid(&sc, "{\"kids\": [{\"kidz\": []}]}",
               "/kids/0: unevaluated property \"kidz\" (unevaluatedProperties is false)");
    sc_free(&sc);
    sc_ok(&sc, "{\"$ref\": \"http://ex.com/tree.json\"}", &opts);
    sc_valid(&sc, "{\"kids\": [{\"kidz\": []}]}");
    sc_free(&sc);
    json_decref(tree);
}

static void test_recursion_ends(void **state)
{
    (void)state;
    const char *cyc = "circular $ref: it applies the same schemas to the same value without end";
    char want[256];
    snprintf(want, sizeof(want), "/$ref: %s", cyc);
    compile_fails("{\"$ref\": \"#\"}", NULL, "", want);
    snprintf(want, sizeof(want), "/allOf/0/$ref: %s", cyc);
    compile_fails("{\"allOf\": [{\"$ref\": \"#\"}]}", NULL, "", want);
    snprintf(want, sizeof(want), "/anyOf/1/$ref: %s", cyc);
    compile_fails("{\"anyOf\": [{\"type\": \"string\"}, {\"$ref\": \"#\"}]}", NULL, "", want);
    snprintf(want, sizeof(want), "/$defs/a/if/$ref: %s", cyc);
    compile_fails("{\"$defs\": {\"a\": {\"if\": {\"$ref\": \"#/$defs/b\"}}, \"b\": {\"not\": "
                  "{\"$ref\": \"#/$defs/a\"}}}}",
                  NULL, "", want);
    /* through a child value it is recursion, and it ends with the value */
    struct sc sc;
    sc_ok(&sc,
          "{\"anyOf\": [{\"type\": \"integer\"}, {\"type\": \"array\", \"items\": {\"$ref\": "
          "\"#\"}}]}",
          NULL);
    sc_valid(&sc, "[1, [2, [3, []]]]");
    sc_invalid(&sc, "[\"x\"]",
               "(root): no branch of anyOf matched: [0] (root): expected integer, got array; "
               "[1] /0: no branch of anyOf matched: [0] /0: expected integer, got string; "
               "[1] /0: expected array, got string");
    sc_free(&sc);
}

/* Branches that both recurse double the work at every level: the budget
 * of schema applications ends it, with a message. */
static void test_validation_budget(void **state)
{
    (void)state;
    struct sc sc;
    sc_ok(&sc,
          "{\"$defs\": {\"n\": {\"anyOf\": [{\"type\": \"array\", \"items\": {\"$ref\": "
          "\"#/$defs/n\"}}, {\"type\": \"array\", \"items\": {\"$ref\": \"#/$defs/n\"}}]}}, "
          "\"$ref\": \"#/$defs/n\"}",
          NULL);
    char deep[256];
    size_t at = 0;
    for (int i = 0; i < 60; i++)
        deep[at++] = '[';
    deep[at++] = '1';
    for (int i = 0; i < 60; i++)
        deep[at++] = ']';
    deep[at] = '\0';
    assert_false(sc_check(&sc, deep));
    assert_non_null(strstr(sc.err.se_msg, "too costly to validate: more than"));
    sc_valid(&sc, "[[[]]]");
    sc_free(&sc);
}

static void test_limits_positioned(void **state)
{
    (void)state;
    struct json_schema_limits lim = {.sl_nodes = 3};
    struct json_schema_options opts = {.so_limits = &lim};
    compile_fails("{\"allOf\": [true, true, true]}", &opts, "",
                  "/allOf/2: more than 3 schemas and subschemas in all (the limit)");
    struct json_schema_limits plim = {.sl_patterns = 1};
    opts.so_limits = &plim;
    compile_fails("{\"pattern\": \"a\", \"patternProperties\": {\"b\": true}}", &opts, "",
                  "/patternProperties/b: more than 1 different patterns in all (the limit)");
    struct json_schema_limits dlim = {.sl_depth = 2};
    opts.so_limits = &dlim;
    compile_fails("{\"not\": {\"not\": {\"not\": {}}}}", &opts, "",
                  "(root): subschemas nested more than 2 deep (the limit)");
    compile_fails("{\"multipleOf\": 0}", NULL, "",
                  "/multipleOf: \"multipleOf\" must be a number greater than 0");
    compile_fails("{\"anyOf\": {}}", NULL, "",
                  "/anyOf: \"anyOf\" must be a non-empty array of schemas");
    compile_fails("{\"$anchor\": \"1x\"}", NULL, "",
                  "/$anchor: \"$anchor\" must be a name ([A-Za-z_][-A-Za-z0-9._]*), not \"1x\"");
    compile_fails("{\"$id\": \"http://x/y#frag\"}", NULL, "",
                  "/$id: \"$id\" must not have a fragment (use \"$anchor\")");
    compile_fails("{\"dependentRequired\": {\"a\": [\"b\", \"b\"]}}", NULL, "",
                  "/dependentRequired/a: \"a\" lists \"b\" twice");
    compile_fails("{\"requried\": [\"a\"]}", NULL, "", "(root): unsupported keyword \"requried\"");
}

/* The simple keywords validate with no allocation at all: with every
 * allocation failing, the verdicts and messages are the same. */
static void test_simple_path_allocates_nothing(void **state)
{
    (void)state;
    struct sc sc;
    sc_ok(&sc,
          "{\"$defs\": {\"e\": {\"type\": \"object\", \"properties\": {\"id\": {\"type\": "
          "\"string\"}, \"n\": {\"type\": \"integer\", \"minimum\": 0}}, \"required\": [\"id\"], "
          "\"additionalProperties\": false}}, \"$ref\": \"#/$defs/e\"}",
          NULL);
    const char *good = "{\"id\": \"a\", \"n\": 3}";
    const char *bad = "{\"id\": \"a\", \"n\": -3}";
    json_tape_parse(&sc.t, good, strlen(good), NULL);
    alloc_countdown = 0;
    unsigned long before = alloc_failed;
    bool ok = json_schema_validate(sc.s, &sc.t, 0, &sc.err);
    alloc_countdown = -1;
    assert_true(ok);
    assert_int_equal(alloc_failed, before);
    json_tape_parse(&sc.t, bad, strlen(bad), NULL);
    alloc_countdown = 0;
    ok = json_schema_validate(sc.s, &sc.t, 0, &sc.err);
    alloc_countdown = -1;
    assert_false(ok);
    assert_int_equal(alloc_failed, before);
    assert_string_equal(sc.err.se_text, "/n: -3 is less than minimum 0");
    sc_free(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_one_not_messages),
        cmocka_unit_test(test_branch_messages_bounded),
        cmocka_unit_test(test_numbers_and_arrays),
        cmocka_unit_test(test_ecma_patterns),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_schema_of_registered_document),
        cmocka_unit_test(test_dynamic_ref),
        cmocka_unit_test(test_recursion_ends),
        cmocka_unit_test(test_validation_budget),
        cmocka_unit_test(test_limits_positioned),
        cmocka_unit_test(test_simple_path_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
