/*
 * json_schema_compile: turns a schema written as JSON (a jansson value) into
 * the compiled form json_schema_validate reads, once, at load time. What
 * compiles is exactly the subset described in json_schema.h: any other
 * keyword or format is an error, so nothing is silently ignored. JSON layer,
 * pure: no I/O, no global state.
 */
#ifndef SSEMON_JSON_SCHEMA_COMPILE_H
#define SSEMON_JSON_SCHEMA_COMPILE_H

#include <jansson.h>

#include "ssemon/json/json_schema.h"

/* Compiles `schema`, resolving $ref against `root` (the document holding
 * "definitions"/"$defs"; NULL means `schema` itself). Nothing is kept from
 * either json_t: the caller may free them afterwards. Returns NULL with *err
 * filled (err may be NULL). The caller owns the result (json_schema_free). */
struct json_schema *json_schema_compile(const json_t *schema, const json_t *root,
                                        struct json_schema_error *err);
/* Frees a compiled schema (NULL is fine). */
void json_schema_free(struct json_schema *s);

#endif
