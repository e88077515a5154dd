/*
 * json_schema: validation of json_tape nodes against JSON Schema draft
 * 2020-12, on the hot path. The schemas of a document are compiled once,
 * together, at load time, by json_schema_compile (json_schema_compile.h),
 * which also bounds what they may cost. JSON layer, pure: no I/O, no global
 * state.
 *
 * The core, applicator, unevaluated and validation vocabularies of 2020-12:
 *   type ("integer" is any number without a fractional part, 1.0
 *   included), enum, const (JSON equality: 1 equals 1.0, object member order
 *   does not matter), multipleOf (exact for decimal literals: 0.01 divides
 *   0.07, computed in decimal from the instance's text), minimum, maximum,
 *   exclusiveMinimum, exclusiveMaximum (compared exactly), minLength,
 *   maxLength (in code points), pattern, minItems, maxItems, uniqueItems,
 *   minContains, maxContains, minProperties, maxProperties, required,
 *   dependentRequired; allOf, anyOf, oneOf, not, if/then/else,
 *   dependentSchemas, prefixItems, items, contains, properties,
 *   patternProperties, additionalProperties, propertyNames,
 *   unevaluatedItems, unevaluatedProperties (with the annotations of every
 *   adjacent and in-place subschema that passed); $id (RFC 3986 base
 *   changes, embedded resources), $anchor, $ref (anywhere, with siblings:
 *   "#", JSON pointers with ~0 ~1 and %-escapes, anchors, other documents),
 *   $dynamicRef/$dynamicAnchor (dynamic scope), $defs and "definitions",
 *   $vocabulary, $comment, $schema; and the legacy "dependencies" (draft 7:
 *   an array is dependentRequired's, a schema dependentSchemas').
 * Annotations are checked for form and otherwise ignored: title,
 * description, default, examples, deprecated, readOnly, writeOnly,
 * contentEncoding, contentMediaType, contentSchema, and the OpenAPI 3.1 /
 * pydantic ones: discriminator, xml, externalDocs, example and any "x-" key.
 *
 * Deliberate deviations from 2020-12, because a contract is a test:
 *   - any OTHER keyword is a compile error (2020-12 ignores unknown
 *     keywords): a typo such as "requried" must not pass silently;
 *   - "format" is an assertion (2020-12's default is an annotation), and an
 *     unknown format is a compile error;
 *   - a cycle of in-place applicators ($ref, allOf... that never move to a
 *     child value) is a compile error, and validation nested beyond a fixed
 *     depth fails: validation always ends.
 * pattern, patternProperties and format "regex" are ECMA-262 (ecma_regex:
 * PCRE2 with its cost limits): a pattern refused by it is a compile error at
 * its position; a search that hits its limits fails validation with
 * "pattern too costly to match".
 * Validation time is bounded: every keyword but the branch tries is linear
 * in the instance, and branch tries (anyOf, oneOf, not, if: a subschema
 * run only to learn whether it passes) are at most 64 per value of the
 * instance (plus 10000): nested in recursive schemas they could otherwise
 * multiply the work; beyond the budget validation fails, saying so.
 * uniqueItems costs n log n in the array's length (items hashed, sorted,
 * equal hashes compared); an array of more than JSON_SCHEMA_UNIQUE_MAX items
 * fails it with a message saying so.
 *
 * Validation order, for determinism: the node's own keywords (type, const,
 * enum, then the ones for the instance's type, then the in-place
 * applicators: allOf, anyOf, oneOf, not, if/then/else, dependentSchemas),
 * then $ref and $dynamicRef, then unevaluated*. For an object, a missing
 * required property is reported before any member's failure; members are
 * checked in document order. The first failure stops validation and is the
 * one message; anyOf/oneOf say why each branch failed, bounded in length.
 */
#ifndef SSEMON_JSON_SCHEMA_H
#define SSEMON_JSON_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "ssemon/json/json_tape.h"

#define JSON_SCHEMA_PATH_MAX 256
/* 256: src/core/contract.c copies se_msg into a 256-byte field with snprintf, and
 * must compile unchanged (-Werror=format-truncation); branch messages are cut to fit. */
#define JSON_SCHEMA_MSG_MAX 256
#define JSON_SCHEMA_URI_MAX 512
/* uniqueItems compares arrays up to this many items; a longer one fails it. */
#define JSON_SCHEMA_UNIQUE_MAX 100000

struct json_schema_error {
    /* JSON pointer ("" is the root): for compile errors the offending value
     * in the root document (relative to the schema when the schema is not
     * inside the root document); for validation failures the failing value
     * in the instance. A path too long to fit starts with "...". */
    char se_path[JSON_SCHEMA_PATH_MAX];
    /* Compile errors: the absolute URI of the document the error is in, "" when it is the root
     * document. */
    char se_uri[JSON_SCHEMA_URI_MAX];
    /* What is wrong, e.g. `1.5 is greater than maximum 1`; cut (on a UTF-8
     * boundary) to fit. */
    char se_msg[JSON_SCHEMA_MSG_MAX];
    /* Both, ready to print: "PATH: MSG", with "(root)" for the root path. */
    char se_text[JSON_SCHEMA_PATH_MAX + JSON_SCHEMA_MSG_MAX + 16];
};

/* A compiled schema, one of a set (json_schema_compile.h) that owns it;
 * immutable once the set is finished: it may be shared by validators on any
 * number of threads. */
struct json_schema;

/* Validates node `node` of tape `t`. Returns true when it conforms, else
 * false with *err filled (err may be NULL: then no message is built).
 * Allocates nothing itself for the keywords of the simple subset (no
 * applicator, no unevaluated*, no uniqueItems): those allocate bounded
 * scratch memory. A set whose schemas hold patterns validates on one
 * thread at a time (ecma_regex keeps its match data in the compiled
 * pattern); a set without patterns on any number of threads. */
bool json_schema_validate(const struct json_schema *s, const struct json_tape *t, size_t node,
                          struct json_schema_error *err);

#endif
