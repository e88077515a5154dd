/*
 * json_schema fuzzer. The input is a schema text, then (after the first
 * 0xFF byte, which no JSON text contains) an instance text; without 0xFF
 * the schema text is its own instance. Compiling must never crash or leak
 * (a refusal must say why); validating must never crash and must give the
 * same verdict with and without an error report.
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
    } else if (json_tape_root(t) != JSON_TAPE_NONE) {
        fz_check(s, t);
    }
    json_schema_compile_free(set);
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

    json_tape_free(&tape);
    json_decref(schema);
    return 0;
}
