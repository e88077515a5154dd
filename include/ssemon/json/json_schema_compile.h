/*
 * json_schema_compile: turns the schemas written in one JSON document (a
 * jansson value: a contract, or a schema on its own), and the documents they
 * $ref, into the compiled set json_schema_validate reads, once, at load
 * time. What compiles is exactly what json_schema.h describes: any other
 * keyword or format is an error, so nothing is silently ignored. JSON
 * layer, pure: no I/O (other documents come from the caller's loader), no
 * global state.
 *
 * A set is built in three steps: json_schema_compile_new (or _new_opts)
 * scans the root and registered documents for their identifiers ("$id",
 * "$anchor", "$dynamicAnchor") and compiles every definition of the root
 * ("definitions" and "$defs") once; json_schema_compile_add compiles each
 * schema; json_schema_compile_finish resolves every $ref and $dynamicRef
 * (RFC 3986 against the base URI where it is written), compiling each
 * target once however many refer to it (so the cost is linear in the
 * documents) and loading documents through the loader as needed, refuses
 * cycles of in-place applicators, and builds the constants, after which
 * the schemas validate. What a set may cost is bounded (struct
 * json_schema_limits): going beyond a limit is a compile error at the value
 * that crossed it.
 *
 * Ownership: the set owns every schema json_schema_compile_add returns (they
 * live until json_schema_compile_free). The root document and the schemas
 * are borrowed until json_schema_compile_finish returns; nothing of them is
 * kept after it. After any error the set is unusable: free it.
 */
#ifndef SSEMON_JSON_SCHEMA_COMPILE_H
#define SSEMON_JSON_SCHEMA_COMPILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ssemon/json/json_schema.h"

/* The default limits: far above what a real contract needs (the shipped
 * ones use a few dozen schemas), low enough that the largest document they
 * admit loads in under a second and 150 MB, plus its patterns: each
 * distinct one costs what ecma_regex compiles for it, which ecma_regex.h
 * bounds per pattern (ECMA_REGEX_CODE_MAX). */
#define JSON_SCHEMA_MAX_NODES 100000      /* schemas and subschemas, in all */
#define JSON_SCHEMA_MAX_DEFINITIONS 10000 /* "definitions" and "$defs" of the root */
#define JSON_SCHEMA_MAX_DEPTH 64          /* subschemas nested in one another */
#define JSON_SCHEMA_MAX_ENUM 10000        /* entries of one "enum" */
#define JSON_SCHEMA_MAX_CONSTANTS 100000  /* enum entries and const values, in all */
#define JSON_SCHEMA_MAX_PATTERNS 100      /* distinct "pattern" sources, in all */
#define JSON_SCHEMA_MAX_DOCUMENTS 64      /* documents a set reads: root, registered, loaded */

/* What one set may hold; a field of 0 means its default above. */
struct json_schema_limits {
    size_t sl_nodes;
    size_t sl_definitions;
    size_t sl_depth;
    size_t sl_enum;
    size_t sl_constants;
    size_t sl_patterns;
    size_t sl_documents;
};

/* A set of schemas compiled together (json_schema_model.h). */
struct json_schema_set;

/* A document known by URI before compiling (e.g. `ssemon validate -r`), or one a loader returns. */
struct json_schema_document {
    const char *sd_uri; /* absolute, no fragment */
    const json_t *sd_doc;
};

/* Returns the document at absolute URI `uri` (no fragment) for a $ref that leaves the known
 * documents, borrowed until json_schema_compile_finish returns (the loader's owner frees it after),
 * or NULL with `why` filled (e.g. "no such file", "outside the contract directories"). Called at
 * most once per URI. */
typedef const json_t *(*json_schema_load_fn)(void *ctx, const char *uri, char *why, size_t cap);

struct json_schema_options {
    /* NULL: the defaults */
    const struct json_schema_limits *so_limits;
    /* The root document's retrieval URI, e.g.
     * "file:///etc/ssemon/contracts/x.json"; NULL: an internal placeholder
     * URI. The root's own "$id" changes its base as usual. */
    const char *so_base_uri;
    /* Registered documents (borrowed until finish). */
    const struct json_schema_document *so_docs;
    size_t so_ndocs;
    /* NULL: a $ref to an unknown document is a compile error. */
    json_schema_load_fn so_load;
    void *so_load_ctx;
};

/* Starts a set for the schemas of document `root`, as
 * json_schema_compile_new, with documents known by URI and a loader. A
 * $ref into another document resolves its fragment inside THAT document
 * (whose base URI is its retrieval URI, or its own "$id"); the embedded
 * "$id"s of registered documents are known too. $ref targets are resolved
 * (and documents loaded) by json_schema_compile_finish; a compile error
 * inside another document sets se_uri to it and se_path to the JSON pointer
 * inside it. Returns NULL with *err filled (err may be NULL). */
struct json_schema_set *json_schema_compile_new_opts(const json_t *root,
                                                     const struct json_schema_options *opts,
                                                     struct json_schema_error *err);

/* Starts a set for the schemas of document `root` and compiles the root's
 * definitions (an error in one is reported even when nothing refers to it).
 * `limits` NULL means the defaults. Returns NULL with *err filled (err may
 * be NULL). */
struct json_schema_set *json_schema_compile_new(const json_t *root,
                                                const struct json_schema_limits *limits,
                                                struct json_schema_error *err);

/* Compiles `schema`, a value inside the root document at JSON pointer
 * `path` (NULL: found by searching the document; the root itself is ""),
 * into the set. A schema value that is also inside a registered document
 * other than the root (e.g. one a contract inherits from its parent file,
 * registered by the parent's URI) is compiled as part of that document:
 * its references resolve against that document's URI and its errors name
 * it (se_uri, se_path inside it). Returns it (owned by the set; it
 * validates once the set is finished), or NULL with *err filled. */
const struct json_schema *json_schema_compile_add(struct json_schema_set *set, const json_t *schema,
                                                  const char *path, struct json_schema_error *err);

/* Completes the set: afterwards its schemas validate and nothing more can
 * be added. Returns false with *err filled. */
bool json_schema_compile_finish(struct json_schema_set *set, struct json_schema_error *err);

/* Frees a set and all its schemas (NULL is fine). */
void json_schema_compile_free(struct json_schema_set *set);

#endif
