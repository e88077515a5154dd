/*
 * contract: the compiled, immutable model of a stream contract. Pure core
 * module: built from a jansson document (already merged with what it
 * extends; see contract_load.h for files), then shared read-only by any
 * number of validators.
 *
 * The JSON format is documented completely in docs/contracts.md. In short:
 *
 *   {
 *     "name": "task-stream", "description": "...",
 *     "extends": "other",                         (resolved by contract_load)
 *     "variables": ["task_id"],                   (names that may be bound)
 *     "response": {"status": 200,
 *                  "headers": {"Cache-Control": "no-cache",
 *                              "X-Accel-Buffering": {"pattern": "^no$"},
 *                              "X-Debug": {"absent": true}}},
 *     "envelope": {"type": "/type", "payload": "/payload"},
 *     "events": {
 *       "heartbeat":  {"data": "json", "schema": {...}, "heartbeat": true},
 *       "task_event": {"schema": {...}, "discriminator": "/event_type",
 *                      "variants": {"task_started": {...schema...}, ...},
 *                      "equals": {"/task_id": "task_id"}},
 *       "ready": {"data": "text"}
 *     },
 *     "correlation_id": {"pointer": "/correlation_id", "presence": "required",
 *                        "consistent": true, "equals": "request_id"},
 *     "order": {"initial": "start",
 *               "states": {"start": {"on": {"connection_open": "open"}},
 *                          "open": {"on": {"task_event:task_started": "running",
 *                                          "heartbeat": "open"}},
 *                          "closed": {"final": true}}},
 *               (a non-final state may add "within_ms": 2000, a deadline to leave it)
 *     "heartbeat": {"interval_s": 5, "tolerance": 2.0, "comments": false,
 *                   "reset_on_any_event": true},
 *     "timing": {"first_event_ms": 1000, "lifecycle_timeout_s": 600},
 *     "definitions": {...}                        ($ref targets for schemas)
 *   }
 */
#ifndef SSEMON_CONTRACT_H
#define SSEMON_CONTRACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/json/json_schema.h"
#include "ssemon/json/json_schema_compile.h"

#define CONTRACT_NO_STATE ((size_t)-1)

struct json_schema_set;

enum contract_data {
    CONTRACT_DATA_JSON = 0, /* data must parse as JSON (default) */
    CONTRACT_DATA_TEXT,     /* free text, never parsed */
};

/* A payload field that must equal a bound variable. */
struct contract_equals {
    char *ceq_pointer; /* JSON pointer into the payload */
    char *ceq_var;     /* variable name */
};

/* The schema for one discriminator value of an event kind. */
struct contract_variant {
    char *cv_value;
    const struct json_schema *cv_schema; /* in c_schemas; NULL: any payload */
};

struct contract_event {
    char *ce_name;
    enum contract_data ce_data;
    const struct json_schema *ce_schema; /* in c_schemas; NULL: any payload */
    char *ce_discriminator;              /* JSON pointer, or NULL */
    struct contract_variant *ce_variants;
    size_t ce_n_variants;
    struct contract_equals *ce_equals;
    size_t ce_n_equals;
    bool ce_heartbeat;   /* this kind is a heartbeat */
    bool ce_correlation; /* the correlation_id policy applies (default true) */
};

struct ecma_regex;

struct contract_header {
    char *ch_name;            /* compared case-insensitively */
    char *ch_equals;          /* exact value, or NULL */
    char *ch_pattern;         /* ECMA-262 pattern source, or NULL */
    struct ecma_regex *ch_re; /* ch_pattern compiled (json/ecma_regex.h); owned */
    bool ch_absent;           /* the header must not be present */
};

enum contract_presence {
    CONTRACT_CID_IGNORE = 0, /* no policy */
    CONTRACT_CID_REQUIRED,
    CONTRACT_CID_OPTIONAL,
    CONTRACT_CID_ABSENT,
};

struct contract_correlation {
    enum contract_presence cc_presence;
    char *cc_pointer; /* default "/correlation_id" */
    bool cc_consistent;
    char *cc_equals_var; /* or NULL */
};

struct contract_transition {
    size_t ct_event;  /* index into c_events */
    char *ct_variant; /* discriminator value, or NULL for any */
    size_t ct_target; /* index into c_states */
};

struct contract_state {
    char *cs_name;
    bool cs_final;
    /* "within_ms": the stream must leave the state within this many ms of
     * entering it (the initial state: of the lifecycle's start), else one
     * order violation per entry; 0: no deadline (always 0 in a final state). */
    uint64_t cs_within_ms;
    struct contract_transition *cs_on;
    size_t cs_n_on;
};

struct contract {
    char *c_name;
    char *c_description;
    char **c_variables; /* declared variable names */
    size_t c_n_variables;

    int c_status; /* expected HTTP status (200) */
    struct contract_header *c_headers;
    size_t c_n_headers;

    char *c_env_type;    /* envelope: pointer to the kind in unnamed events, or NULL */
    char *c_env_payload; /* envelope: pointer to the payload, or NULL (= whole data) */

    struct contract_event *c_events;
    size_t c_n_events;

    struct contract_correlation c_cid;

    struct contract_state *c_states; /* empty: no order rules */
    size_t c_n_states;
    size_t c_initial;

    uint64_t c_hb_interval_ms; /* 0: no liveness rule */
    double c_hb_tolerance;     /* default 2.0 */
    bool c_hb_comments;        /* SSE comments count as heartbeats */
    bool c_hb_reset_on_any;    /* any contract event resets the window (default true) */

    uint64_t c_first_event_ms; /* 0: no rule */
    uint64_t c_lifecycle_ms;   /* 0: no rule */

    /* Every schema of the contract, compiled together: each definition once,
     * shared by the schemas that refer to it. Owned; freed by contract_free. */
    struct json_schema_set *c_schemas;
};

struct contract_error {
    char ce_path[256];    /* JSON pointer of the offending value in the document */
    char ce_message[256]; /* what is wrong */
    /* The document ce_path points into: "" for the contract document, else
     * the URI of a document one of its schemas refers to ("$ref" to
     * "backend-openapi.json#/..."), as json_schema_error's se_uri. */
    char ce_uri[JSON_SCHEMA_URI_MAX];
};

/* Every error of one compile (contract_compile_all): at most
 * CONTRACT_ERRORS_MAX are kept, the rest only counted. */
#define CONTRACT_ERRORS_MAX 100

struct contract_errors {
    struct contract_error *ces_items; /* in the order found; owned */
    size_t ces_n;
    size_t ces_more; /* errors found beyond CONTRACT_ERRORS_MAX, not kept */
    bool ces_oom;    /* out of memory: the list may be incomplete */
};

/* How a contract is compiled. */
struct contract_options {
    /* For its schemas (json_schema_compile.h): limits, the base URI
     * relative "$ref"s resolve against, the loader of the other documents
     * they name. NULL: the defaults (no base URI, no loader: a "$ref" to
     * another document is an error). Borrowed for the call only. */
    const struct json_schema_options *co_schema;
    /* Accept an abstract contract ("abstract": true) as the building block
     * it is: checked like any contract except that "events" is optional.
     * For `ssemon check-contract` only: the result must not judge a stream. */
    bool co_abstract;
};

/* Compiles a merged contract document ("extends" already resolved and
 * removed). Returns NULL with *err filled. The caller keeps `doc`. What a
 * contract's schemas may cost is bounded (JSON_SCHEMA_MAX_* in
 * json_schema_compile.h); beyond a bound is an error at the value that
 * crossed it. */
struct contract *contract_compile(const json_t *doc, struct contract_error *err);
/* The same, with options (NULL: contract_compile's defaults). */
struct contract *contract_compile_opts(const json_t *doc, const struct contract_options *opts,
                                       struct contract_error *err);
/* The same, reporting every error instead of the first: the compile goes
 * on past an error wherever the rest does not depend on it (each unknown
 * key, variable, header, event kind, variant, "equals" member, state and
 * transition, and each section, is checked on its own; a schema that does
 * not compile is one error; when the "definitions" do not compile no other
 * schema is checked). Checks that span sections (a heartbeat nothing
 * resets, a lifecycle timeout without a final state) run only when
 * nothing else failed. The same error found twice is kept once. Returns
 * NULL when `errs` is not empty (or memory ran out, ces_oom), else the
 * contract; `errs` is always filled (contract_errors_free), its first
 * item being contract_compile_opts's error. */
struct contract *contract_compile_all(const json_t *doc, const struct contract_options *opts,
                                      struct contract_errors *errs);
void contract_errors_free(struct contract_errors *errs);
void contract_free(struct contract *c);

/* Lookups; return CONTRACT_NO_STATE / (size_t)-1 when absent. */
size_t contract_event_index(const struct contract *c, const char *name, size_t len);
size_t contract_state_index(const struct contract *c, const char *name);
bool contract_has_variable(const struct contract *c, const char *name);

#endif
