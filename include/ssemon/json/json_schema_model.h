/*
 * json_schema_model: the compiled form of a set of schemas, built and freed
 * by json_schema_compile, read by json_schema to validate. Internal to those
 * two modules (no other module includes it); json layer, pure.
 *
 * A set is a flat array of nodes that refer to each other by index
 * (subschemas, $ref targets), with side arrays for property tables (sorted
 * by length then bytes, for binary search), required names, lists of
 * subschemas, pattern properties, dependencies, dynamic anchors, regexes
 * (one per distinct pattern source) and a string pool. Every schema of the
 * set is one entry node into that array, and every schema value of every
 * document is compiled at most once: a $ref anywhere in the set points at
 * its target's node, so a definition costs the same whether one schema or
 * a thousand refer to it. Recursive schemas are plain cycles in the node
 * graph; cycles of in-place applicators alone are refused at compile time,
 * so validation always ends. enum/const values are
 * serialized into one JSON array and parsed into a json_tape owned by the
 * set, so instance and constants are compared with one tape-to-tape
 * equality and nothing of the caller's json_t is kept.
 *
 * Everything here is owned by the struct json_schema_set it belongs to,
 * the struct json_schema entries included.
 */
#ifndef SSEMON_JSON_SCHEMA_MODEL_H
#define SSEMON_JSON_SCHEMA_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ssemon/base/utf8.h"
#include "ssemon/json/ecma_regex.h"
#include "ssemon/json/json_schema.h"
#include "ssemon/json/json_tape.h"

/* "No node", "no entry". */
#define JSM_NONE UINT32_MAX
/* Bytes of a value (instance, pattern, name) quoted in a message. */
#define JSM_EXCERPT 48

/* sn_kw: keywords present on a node */
enum {
    JSM_KW_FALSE = 1u << 0, /* the schema `false` */
    JSM_KW_TYPE = 1u << 1,
    JSM_KW_CONST = 1u << 2,
    JSM_KW_ENUM = 1u << 3,
    JSM_KW_MIN = 1u << 4,
    JSM_KW_MAX = 1u << 5,
    JSM_KW_XMIN = 1u << 6,
    JSM_KW_XMAX = 1u << 7,
    JSM_KW_MINLEN = 1u << 8,
    JSM_KW_MAXLEN = 1u << 9,
    JSM_KW_PATTERN = 1u << 10,
    JSM_KW_FORMAT = 1u << 11,
    JSM_KW_PROPS = 1u << 12,
    JSM_KW_ADDL = 1u << 13,
    JSM_KW_REQ = 1u << 14,
    JSM_KW_ITEMS = 1u << 15,
    JSM_KW_REF = 1u << 16,
    JSM_KW_MULTIPLE = 1u << 17,
    JSM_KW_PPROPS = 1u << 18, /* patternProperties */
    JSM_KW_PNAMES = 1u << 19, /* propertyNames */
    JSM_KW_MINPROPS = 1u << 20,
    JSM_KW_MAXPROPS = 1u << 21,
    JSM_KW_DEPREQ = 1u << 22,   /* dependentRequired */
    JSM_KW_PREFIX = 1u << 23,   /* prefixItems */
    JSM_KW_CONTAINS = 1u << 24, /* contains, minContains, maxContains */
    JSM_KW_MINITEMS = 1u << 25,
    JSM_KW_MAXITEMS = 1u << 26,
    JSM_KW_UNIQUE = 1u << 27,
    JSM_KW_INPLACE = 1u << 28, /* allOf, anyOf, oneOf, not, if, dependentSchemas */
    JSM_KW_DYNREF = 1u << 29,
    JSM_KW_UNEVAL = 1u << 30, /* unevaluatedProperties or unevaluatedItems */
};
#define JSM_KW_NUMBER (JSM_KW_MIN | JSM_KW_MAX | JSM_KW_XMIN | JSM_KW_XMAX | JSM_KW_MULTIPLE)
#define JSM_KW_STRING (JSM_KW_MINLEN | JSM_KW_MAXLEN | JSM_KW_PATTERN | JSM_KW_FORMAT)
#define JSM_KW_OBJECT                                                                              \
    (JSM_KW_PROPS | JSM_KW_ADDL | JSM_KW_REQ | JSM_KW_PPROPS | JSM_KW_PNAMES | JSM_KW_MINPROPS |   \
     JSM_KW_MAXPROPS | JSM_KW_DEPREQ)
#define JSM_KW_ARRAY                                                                               \
    (JSM_KW_ITEMS | JSM_KW_PREFIX | JSM_KW_CONTAINS | JSM_KW_MINITEMS | JSM_KW_MAXITEMS |          \
     JSM_KW_UNIQUE)
/* What needs more than the simple walk: applicators over the same value,
 * references, annotation tracking. */
#define JSM_KW_SLOW (JSM_KW_INPLACE | JSM_KW_REF | JSM_KW_DYNREF | JSM_KW_UNEVAL)

/* type bits */
enum {
    JSM_T_NULL = 1u << 0,
    JSM_T_BOOLEAN = 1u << 1,
    JSM_T_OBJECT = 1u << 2,
    JSM_T_ARRAY = 1u << 3,
    JSM_T_NUMBER = 1u << 4,
    JSM_T_STRING = 1u << 5,
    JSM_T_INTEGER = 1u << 6,
};
#define JSM_N_TYPES 7

/* The name of type bit `k` (0 to JSM_N_TYPES - 1), as written in schemas. */
static inline const char *jsm_type_name(int k)
{
    static const char *const names[JSM_N_TYPES] = {"null",   "boolean", "object", "array",
                                                   "number", "string",  "integer"};
    return names[k];
}

struct jsm_num {
    bool jn_int; /* jn_i holds it; else jn_d */
    int64_t jn_i;
    double jn_d;
    uint32_t jn_text; /* pool offset of its text, for messages */
};

/* A positive decimal: dm_mant * 10^dm_exp, dm_mant without trailing zeros. */
struct jsm_dec {
    uint64_t dm_mant;
    int32_t dm_exp;
    uint32_t dm_text; /* pool offset */
};

struct jsm_prop {
    uint32_t pr_name; /* pool offset */
    uint32_t pr_len;
    uint32_t pr_schema; /* node */
};

struct jsm_req {
    uint32_t rq_name; /* pool offset */
    uint32_t rq_len;
    uint32_t rq_prop; /* position in the node's property table, or JSM_NONE */
};

/* A patternProperties entry. */
struct jsm_pprop {
    uint32_t pp_regex;  /* index in the regex table */
    uint32_t pp_schema; /* node */
};

/* A dependentRequired or dependentSchemas entry: when property pd_name is
 * present, the names s_reqs[pd_reqs, +pd_nreqs) are required, or node
 * pd_schema applies. */
struct jsm_dep {
    uint32_t dp_name; /* pool offset */
    uint32_t dp_len;
    uint32_t dp_reqs;
    uint32_t dp_nreqs;
    uint32_t dp_schema; /* node, or JSM_NONE */
};

/* A $dynamicAnchor of a schema resource. */
struct jsm_danchor {
    uint32_t da_res;  /* resource */
    uint32_t da_name; /* pool offset */
    uint32_t da_node;
};

struct jsm_node {
    /* what the simple keywords read first: one cache line */
    uint32_t sn_kw;
    uint8_t sn_types;
    uint8_t sn_format;    /* enum json_format */
    uint8_t sn_uprops_on; /* unevaluatedProperties present */
    uint8_t sn_uitems_on; /* unevaluatedItems present */
    uint32_t sn_props;    /* first entry in s_props */
    uint32_t sn_nprops;
    uint32_t sn_addl; /* node */
    uint32_t sn_reqs; /* first entry in s_reqs */
    uint32_t sn_nreqs;
    uint32_t sn_items; /* node */
    uint32_t sn_ref;   /* node */
    uint32_t sn_const; /* constant index */
    uint32_t sn_enum;  /* first constant index */
    uint32_t sn_nenum;
    uint32_t sn_regex;   /* index in s_regex */
    uint32_t sn_pattern; /* pool offset of the pattern source */
    uint32_t sn_res;     /* schema resource, for the dynamic scope */
    uint32_t sn_dref;    /* $dynamicRef's static target (node) */
    uint32_t sn_dname;   /* pool offset of the dynamic anchor it may rebind, or JSM_NONE */
    uint32_t sn_pprops;  /* first entry in s_pprops */
    uint32_t sn_npprops;
    uint32_t sn_deps; /* dependentRequired: first entry in s_deps */
    uint32_t sn_ndeps;
    uint32_t sn_dsch; /* dependentSchemas: first entry in s_deps */
    uint32_t sn_ndsch;
    uint32_t sn_all; /* allOf: first entry in s_subs */
    uint32_t sn_nall;
    uint32_t sn_any;
    uint32_t sn_nany;
    uint32_t sn_one;
    uint32_t sn_none;
    uint32_t sn_prefix;
    uint32_t sn_nprefix;
    uint32_t sn_not;
    uint32_t sn_if;
    uint32_t sn_then;
    uint32_t sn_else;
    uint32_t sn_contains;
    uint32_t sn_pnames;
    uint32_t sn_uprops; /* node */
    uint32_t sn_uitems; /* node */
    uint64_t sn_minlen;
    uint64_t sn_maxlen;
    struct jsm_num sn_min;
    struct jsm_num sn_max;
    struct jsm_num sn_xmin;
    struct jsm_num sn_xmax;
    uint64_t sn_minitems;
    uint64_t sn_maxitems;
    uint64_t sn_minprops;
    uint64_t sn_maxprops;
    uint64_t sn_mincont; /* 1 unless minContains */
    uint64_t sn_maxcont; /* UINT64_MAX unless maxContains */
    struct jsm_dec sn_mult;
};

struct json_schema_set {
    struct jsm_node *s_nodes;
    size_t s_nnodes;
    size_t s_capnodes;
    struct jsm_prop *s_props;
    size_t s_nprops;
    size_t s_capprops;
    struct jsm_req *s_reqs;
    size_t s_nreqs;
    size_t s_capreqs;
    uint32_t *s_subs; /* lists of nodes: allOf, anyOf, oneOf, prefixItems */
    size_t s_nsubs;
    size_t s_capsubs;
    struct jsm_pprop *s_pprops;
    size_t s_npprops;
    size_t s_cappprops;
    struct jsm_dep *s_deps;
    size_t s_ndeps;
    size_t s_capdeps;
    struct jsm_danchor *s_danchors; /* sorted by (resource, name) */
    size_t s_ndanchors;
    size_t s_capdanchors;
    bool s_dynamic;              /* some $dynamicRef may rebind: track the dynamic scope */
    struct ecma_regex **s_regex; /* one per distinct pattern source */
    size_t s_nregex;
    size_t s_capregex;
    char *s_pool;
    size_t s_poollen;
    size_t s_poolcap;
    uint32_t *s_consts; /* constant index -> node of s_ctape */
    size_t s_nconsts;
    char *s_ctext; /* text of s_ctape: the constants as one JSON array */
    struct json_tape s_ctape;
    struct json_schema **s_entries; /* what json_schema_compile_add returned */
    size_t s_nentries;
    size_t s_capentries;
    /* The compiler's state between calls; NULL once finished (or failed). */
    struct jsc_compiler *s_build;
    bool s_ready; /* finished: the entries may validate */
};

/* One schema of a set: where validation starts. */
struct json_schema {
    const struct json_schema_set *sh_set;
    uint32_t sh_node;
};

/* Fills err->se_text from its path and message. */
static inline void jsm_err_text(struct json_schema_error *err)
{
    snprintf(err->se_text, sizeof(err->se_text), "%s: %s",
             err->se_path[0] != '\0' ? err->se_path : "(root)", err->se_msg);
}

/* A quoted excerpt of `s`: at most `max` bytes, cut on a UTF-8 boundary. */
static inline void jsm_excerpt(char *out, size_t cap, const char *s, size_t len, size_t max)
{
    size_t n = utf8_cut(s, len, max);
    snprintf(out, cap, "%.*s%s", (int)n, s, n < len ? "..." : "");
}

#endif
