/*
 * json_schema fuzzer. The input is a schema text, then (after the first
 * 0xFF byte, which no JSON text contains) an instance text; without 0xFF
 * the schema text is its own instance. Compiling must never crash or leak
 * (a refusal must say why); validating must never crash, must give the
 * same verdict with and without an error report, and must end: the
 * schema is also validated against a fixed set of instances (deeply nested
 * ones included). A second compile registers a document and a loader, so
 * $ref between documents, $id, $anchor and $dynamicRef are reached.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/json/json_schema.h"
#include "ssemon/json/json_schema_compile.h"
#include "ssemon/json/json_tape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check(const struct json_schema *s, const struct json_tape *t)
{
    struct json_schema_error err;
    memset(&err, 0x55, sizeof(err));
    bool a = json_schema_validate(s, t, json_tape_root(t), &err);
    bool b = json_schema_validate(s, t, json_tape_root(t), NULL);
    if (a != b)
        abort();
    if (!a && (strlen(err.se_text) == 0 || strlen(err.se_text) >= sizeof(err.se_text) ||
               strlen(err.se_msg) == 0 || strlen(err.se_path) >= sizeof(err.se_path)))
        abort();
}

/* Instances every compiled schema is validated against. */
static const char *const fz_instances[] = {
    "null",
    "true",
    "0",
    "-1.5e3",
    "0.07",
    "\"\"",
    "\"abc\"",
    "[]",
    "[1, 1, \"a\", [1], {}]",
    "{}",
    "{\"a\": 1, \"b\": [null], \"c\": {\"d\": \"x\"}}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}}}}",
};

static void fz_instances_check(const struct json_schema *s)
{
    struct json_tape t;
    json_tape_init(&t);
    for (size_t i = 0; i < sizeof(fz_instances) / sizeof(fz_instances[0]); i++) {
        if (json_tape_parse(&t, fz_instances[i], strlen(fz_instances[i]), NULL) == JSON_TAPE_OK)
            fz_check(s, &t);
    }
    json_tape_free(&t);
}

/* The loader: one known document, anything else refused. */
static const json_t *fz_load(void *ctx, const char *uri, char *why, size_t cap)
{
    if (strcmp(uri, "http://fz.example/loaded.json") == 0)
        return ctx;
    snprintf(why, cap, "not known to the fuzzer");
    return NULL;
}

static void fz_refused(const struct json_schema_error *err)
{
    if (strlen(err->se_msg) == 0 || strlen(err->se_text) == 0)
        abort();
}

/* `schema` compiled in a set with root `root` (`path` given or NULL: found
 * by the compiler), then validated. Small limits, so the fuzzer also
 * reaches every refusal for cost. */
static void fz_compile(const json_t *schema, const json_t *root, const char *path,
                       const struct json_tape *t)
{
    static const struct json_schema_limits lim = {
        .sl_nodes = 500,
        .sl_definitions = 50,
        .sl_depth = 16,
        .sl_enum = 50,
        .sl_constants = 200,
        .sl_patterns = 8,
        .sl_documents = 4,
    };
    struct json_schema_error err;
    struct json_schema_set *set = json_schema_compile_new(root, &lim, &err);
    if (set == NULL) {
        fz_refused(&err);
        return;
    }
    const struct json_schema *s = json_schema_compile_add(set, schema, path, &err);
    if (s == NULL || !json_schema_compile_finish(set, &err)) {
        fz_refused(&err);
    } else {
        if (json_tape_root(t) != JSON_TAPE_NONE)
            fz_check(s, t);
        fz_instances_check(s);
    }
    json_schema_compile_free(set);
}

/* The schema as a document of its own among others: registered under a
 * URI, loaded by URI, and referred to by a root that $refs both. */
static void fz_compile_docs(const json_t *schema, const struct json_tape *t)
{
    static const struct json_schema_limits lim = {
        .sl_nodes = 500,
        .sl_depth = 16,
        .sl_enum = 50,
        .sl_constants = 200,
        .sl_patterns = 8,
        .sl_documents = 4,
    };
    json_t *root =
        json_pack("{s:[{s:s},{s:s},{s:s}]}", "anyOf", "$ref", "http://fz.example/registered.json",
                  "$ref", "http://fz.example/loaded.json", "$dynamicRef", "#meta");
    if (root == NULL)
        return;
    struct json_schema_document doc = {"http://fz.example/registered.json", schema};
    struct json_schema_options opts = {.so_limits = &lim,
                                       .so_base_uri = "http://fz.example/root.json",
                                       .so_docs = &doc,
                                       .so_ndocs = 1,
                                       .so_load = fz_load,
                                       .so_load_ctx = (void *)schema};
    struct json_schema_error err;
    struct json_schema_set *set = json_schema_compile_new_opts(root, &opts, &err);
    const struct json_schema *s = set != NULL ? json_schema_compile_add(set, root, "", &err) : NULL;
    if (s == NULL || !json_schema_compile_finish(set, &err)) {
        fz_refused(&err);
    } else {
        if (json_tape_root(t) != JSON_TAPE_NONE)
            fz_check(s, t);
        fz_instances_check(s);
    }
    json_schema_compile_free(set);
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0xFF, size);
    size_t slen = sep != NULL ? (size_t)(sep - data) : size;
    const char *inst = sep != NULL ? (const char *)sep + 1 : (const char *)data;
    size_t ilen = sep != NULL ? size - slen - 1 : size;

    json_t *schema = json_loadb((const char *)data, slen, JSON_DECODE_ANY, NULL);
    if (schema == NULL)
        return 0;
    struct json_tape tape;
    json_tape_init(&tape);
    json_tape_parse(&tape, inst, ilen, NULL);

    fz_compile(schema, schema, "", &tape);
    /* A contract-shaped document: exercise locating the schema in its root
     * and $ref resolution against the root. */
    json_t *sub = json_object_get(schema, "schema");
    if (sub != NULL)
        fz_compile(sub, schema, NULL, &tape);
    fz_compile_docs(schema, &tape);

    json_tape_free(&tape);
    json_decref(schema);
    return 0;
}
