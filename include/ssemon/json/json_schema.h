/*
 * json_schema: validation of json_tape nodes against a JSON Schema subset
 * (draft 2020-12 semantics), on the hot path. The schemas of a document are
 * compiled once, together, at load time, by json_schema_compile
 * (json_schema_compile.h), which also bounds what they may cost. JSON
 * layer, pure: no I/O, no global state.
 *
 * Supported keywords:
 *   type (a name or an array of names; "integer" is any number without a
 *   fractional part, 1.0 included), properties, required,
 *   additionalProperties (boolean or schema), enum, const (JSON equality:
 *   1 equals 1.0, object member order does not matter), minimum, maximum,
 *   exclusiveMinimum, exclusiveMaximum (numbers, compared exactly), minLength,
 *   maxLength (in code points), pattern (POSIX ERE, regcomp(REG_EXTENDED |
 *   REG_NOSUB), searched anywhere in the string; a string containing U+0000
 *   never matches; back-references, and patterns whose repetitions would
 *   expand beyond a few thousand elements in glibc's regcomp, e.g.
 *   "^.{1,5000}$", are refused: the policy of pattern.h), format
 *   ("date-time": RFC 3339 full date-time; "uuid": 8-4-4-4-12 hex digits),
 *   items (one schema for every item), $ref ("#/definitions/NAME" or
 *   "#/$defs/NAME" of the root document; applied together with its sibling
 *   keywords, as in 2020-12), definitions and $defs
 *   (their schemas are compiled too, so an error there is reported even when
 *   nothing refers to it), and the annotations title, description, $comment,
 *   examples, default, $schema and $id (checked for form, otherwise ignored).
 * Any other keyword, and any other format, is a compile error: nothing is
 * silently ignored. true and false are schemas.
 *
 * Validation order, for determinism: the node's own keywords (type, const,
 * enum, then the ones for the instance's type), then the $ref target. For an
 * object, a missing required property is reported before any member's
 * failure; members are checked in document order. The first failure stops
 * validation.
 */
#ifndef SSEMON_JSON_SCHEMA_H
#define SSEMON_JSON_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "ssemon/json/json_tape.h"

#define JSON_SCHEMA_PATH_MAX 256
#define JSON_SCHEMA_MSG_MAX 256

struct json_schema_error {
    /* JSON pointer ("" is the root): for compile errors the offending value
     * in the root document (relative to the schema when the schema is not
     * inside the root document); for validation failures the failing value
     * in the instance. A path too long to fit starts with "...". */
    char se_path[JSON_SCHEMA_PATH_MAX];
    /* What is wrong, e.g. `1.5 is greater than maximum 1`. */
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
 * Allocates nothing itself, except for "pattern": glibc's regexec allocates
 * internally, and a string longer than 511 bytes is copied to the heap to
 * be NUL-terminated for it. */
bool json_schema_validate(const struct json_schema *s, const struct json_tape *t, size_t node,
                          struct json_schema_error *err);

#endif
