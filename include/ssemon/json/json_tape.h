/*
 * json_tape: single-pass JSON parser into a flat, reusable array of nodes
 * (a "tape"). Pure core module: no I/O, no global state.
 *
 * Accepts exactly what jansson 2.14 accepts with json_loadb(...,
 * JSON_DECODE_ANY | JSON_ALLOW_NUL, ...), and decodes the same values:
 *   - RFC 8259 grammar, any value at the top level, whitespace is only
 *     space, tab, LF and CR (no BOM, no comments, no trailing commas);
 *   - the input must be valid UTF-8 (no overlongs, no surrogates, nothing
 *     above U+10FFFF); control characters must be escaped in strings;
 *   - \u escapes: a high surrogate must be followed at once by a \u low
 *     surrogate; a lone low or high surrogate is an error; \u0000 is allowed
 *     in string values but not in object keys;
 *   - a number without '.', 'e' or 'E' is an integer and must fit int64
 *     ("-0" is the integer 0); any other number is a real and must not
 *     overflow a double (underflow to 0 or a subnormal is fine);
 *   - nesting: the top-level value has depth 1, each container adds one;
 *     a value deeper than the limit (default 2048) is an error;
 *   - jansson quirk, reproduced: one NUL byte directly after a number or
 *     true/false/null is skipped (jansson's look-ahead drops it).
 * Duplicate object keys are kept on the tape; lookups and iteration see
 * only the last one, as jansson does.
 *
 * Tape layout: nodes in document order. A container is followed by its
 * children (for objects: key string node, then the value's subtree, per
 * member) and records the index after its subtree, so skipping a subtree is
 * one load. Node 0 is the root.
 *
 * Memory: nodes and the string arena are reused across parses; steady state
 * allocates nothing. A buffer grown past JSON_TAPE_SHRINK_ABOVE bytes is
 * shrunk again when the next document is parsed.
 *
 * The tape borrows the text given to json_tape_parse: the caller keeps it
 * alive and unchanged while using the tape's nodes.
 */
#ifndef SSEMON_JSON_TAPE_H
#define SSEMON_JSON_TAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_TAPE_DEFAULT_MAX_DEPTH 2048u
#define JSON_TAPE_SHRINK_ABOVE ((size_t)64 << 10)
/* Node offsets are 32-bit: longer documents are refused. */
#define JSON_TAPE_MAX_LEN ((size_t)UINT32_MAX - 16)
/* "No such node". */
#define JSON_TAPE_NONE SIZE_MAX

enum json_tape_type {
    JSON_TAPE_NULL = 0,
    JSON_TAPE_FALSE,
    JSON_TAPE_TRUE,
    JSON_TAPE_INTEGER, /* int64 */
    JSON_TAPE_REAL,    /* double */
    JSON_TAPE_STRING,
    JSON_TAPE_ARRAY,
    JSON_TAPE_OBJECT,
};

enum json_tape_status {
    JSON_TAPE_OK = 0,
    JSON_TAPE_ESYNTAX = -1, /* not JSON jansson would accept */
    JSON_TAPE_ENOMEM = -2,  /* allocation failed; the tape is empty but usable */
};

/* tn_flags */
#define JSON_TAPE_F_ESCAPED 0x1u /* string: decoded bytes are in the arena */
/* object: two keys share a cheap signature, so duplicates are possible and
 * lookups must look for the last one. */
#define JSON_TAPE_F_DUPS 0x2u

struct json_tape_node {
    uint8_t tn_type;  /* enum json_tape_type */
    uint8_t tn_flags; /* JSON_TAPE_F_* */
    uint32_t tn_off;  /* source offset of the value's first byte */
    uint32_t tn_len;  /* source bytes of the value (quotes included) */
    union {
        struct {
            uint32_t tc_count; /* array items, or object members as written */
            uint32_t tc_next;  /* node index after the subtree */
        } tn_c;
        struct {
            uint32_t ts_off; /* decoded string in the arena (F_ESCAPED) */
            uint32_t ts_len;
        } tn_s;
        int64_t tn_int;
        double tn_real;
    } tn_u;
};

struct json_tape_error {
    size_t je_offset;   /* byte offset of the offending byte (len at end of input) */
    size_t je_line;     /* 1-based */
    size_t je_column;   /* 1-based, in characters */
    const char *je_msg; /* static string, e.g. "expected ':' after object key" */
};

struct json_tape_stack;

struct json_tape {
    const char *jt_src; /* borrowed: text of the last parse */
    size_t jt_src_len;
    struct json_tape_node *jt_nodes; /* owned */
    size_t jt_count;                 /* nodes of the last parse; 0 after a failure */
    size_t jt_cap;
    char *jt_arena; /* owned: decoded strings with escapes; number scratch */
    size_t jt_arena_len;
    size_t jt_arena_cap;
    struct json_tape_stack *jt_stack; /* owned: open containers while parsing */
    size_t jt_stack_cap;
    unsigned jt_max_depth;
};

/* Member / item iteration. Object iteration yields each key once: a member
 * whose key appears again later in the object is skipped (the last wins). */
struct json_tape_iter {
    size_t ti_pos; /* next child */
    size_t ti_end; /* index after the container */
    bool ti_dups;  /* the object may hold duplicate keys */
};

void json_tape_init(struct json_tape *t);
void json_tape_free(struct json_tape *t);

/* "null", "a boolean", "a number", "a string", "an array", "an object":
 * for error messages. */
const char *json_tape_type_phrase(enum json_tape_type type);
/* Nesting limit for the next parses (0 restores the default). */
void json_tape_set_max_depth(struct json_tape *t, unsigned max_depth);

/* Parses `len` bytes of `text` (no NUL terminator needed). Returns
 * JSON_TAPE_OK, or a negative enum json_tape_status with *err filled (err
 * may be NULL) and the tape emptied. The tape borrows `text`. */
int json_tape_parse(struct json_tape *t, const char *text, size_t len, struct json_tape_error *err);

/* Index of the node `ptr` (RFC 6901, e.g. "/a/b~10/0"; "" is `node` itself)
 * designates, starting at `node`; JSON_TAPE_NONE when there is none or
 * `ptr` is malformed. */
size_t json_tape_pointer(const struct json_tape *t, size_t node, const char *ptr);

/* Whether the RFC 6901 reference token `tok` (`toklen` bytes, escaped:
 * "~0" is '~', "~1" is '/') names the decoded key `key`. A malformed escape
 * matches nothing. */
bool json_tape_token_eq(const char *tok, size_t toklen, const char *key, size_t keylen);

/* The array index the reference token `tok` spells ("0", or digits without
 * a leading zero), or SIZE_MAX when it spells none ("-", the position after
 * the last item, included). */
size_t json_tape_token_index(const char *tok, size_t toklen);

/* The value of member `key` of object `obj` (last duplicate wins), or
 * JSON_TAPE_NONE (also when `obj` is not an object). */
size_t json_tape_object_get(const struct json_tape *t, size_t obj, const char *key, size_t keylen);

/* Whether the member whose key node is `key`, in the object that ends before
 * node `end`, is hidden by a later member with the same key. */
bool json_tape_key_shadowed(const struct json_tape *t, size_t key, size_t end);

/* ---- inline accessors: `n` must be a node index of the last parse ---- */

/* The root node, or JSON_TAPE_NONE when the last parse failed. */
static inline size_t json_tape_root(const struct json_tape *t)
{
    return t->jt_count > 0 ? 0 : JSON_TAPE_NONE;
}

static inline enum json_tape_type json_tape_type(const struct json_tape *t, size_t n)
{
    return (enum json_tape_type)t->jt_nodes[n].tn_type;
}

/* Items of an array, or members of an object as written (duplicates
 * included); 0 for other nodes. */
static inline size_t json_tape_count(const struct json_tape *t, size_t n)
{
    const struct json_tape_node *nd = &t->jt_nodes[n];
    if (nd->tn_type == JSON_TAPE_ARRAY || nd->tn_type == JSON_TAPE_OBJECT)
        return nd->tn_u.tn_c.tc_count;
    return 0;
}

/* Index of the node after the subtree of `n`. */
static inline size_t json_tape_next(const struct json_tape *t, size_t n)
{
    const struct json_tape_node *nd = &t->jt_nodes[n];
    if (nd->tn_type == JSON_TAPE_ARRAY || nd->tn_type == JSON_TAPE_OBJECT)
        return nd->tn_u.tn_c.tc_next;
    return n + 1;
}

/* The source text of node `n` (for a key node: the quoted key). */
static inline const char *json_tape_raw(const struct json_tape *t, size_t n, size_t *len)
{
    *len = t->jt_nodes[n].tn_len;
    return t->jt_src + t->jt_nodes[n].tn_off;
}

/* Decoded bytes of a string node (value or key); may contain U+0000 in
 * values. Not NUL-terminated. Points into the source text or the tape. */
static inline const char *json_tape_string(const struct json_tape *t, size_t n, size_t *len)
{
    const struct json_tape_node *nd = &t->jt_nodes[n];
    if (nd->tn_flags & JSON_TAPE_F_ESCAPED) {
        *len = nd->tn_u.tn_s.ts_len;
        return t->jt_arena + nd->tn_u.tn_s.ts_off;
    }
    *len = nd->tn_len - 2;
    return t->jt_src + nd->tn_off + 1;
}

static inline bool json_tape_is_number(const struct json_tape *t, size_t n)
{
    return t->jt_nodes[n].tn_type == JSON_TAPE_INTEGER || t->jt_nodes[n].tn_type == JSON_TAPE_REAL;
}

/* The number was written without '.', 'e' or 'E' (an int64). */
static inline bool json_tape_is_integer(const struct json_tape *t, size_t n)
{
    return t->jt_nodes[n].tn_type == JSON_TAPE_INTEGER;
}

/* A number as int64: a real is truncated toward zero and saturated; 0 for
 * non-numbers. */
static inline int64_t json_tape_int(const struct json_tape *t, size_t n)
{
    const struct json_tape_node *nd = &t->jt_nodes[n];
    if (nd->tn_type == JSON_TAPE_INTEGER)
        return nd->tn_u.tn_int;
    if (nd->tn_type != JSON_TAPE_REAL)
        return 0;
    if (nd->tn_u.tn_real >= 9223372036854775808.0)
        return INT64_MAX;
    if (nd->tn_u.tn_real <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)nd->tn_u.tn_real;
}

/* A number as double (an integer converted); 0 for non-numbers. */
static inline double json_tape_double(const struct json_tape *t, size_t n)
{
    const struct json_tape_node *nd = &t->jt_nodes[n];
    if (nd->tn_type == JSON_TAPE_INTEGER)
        return (double)nd->tn_u.tn_int;
    if (nd->tn_type == JSON_TAPE_REAL)
        return nd->tn_u.tn_real;
    return 0.0;
}

/* Starts iterating the items or members of container `n`. */
static inline void json_tape_iter_init(const struct json_tape *t, size_t n,
                                       struct json_tape_iter *it)
{
    const struct json_tape_node *nd = &t->jt_nodes[n];
    it->ti_pos = n + 1;
    it->ti_end = n + 1;
    it->ti_dups = false;
    if (nd->tn_type == JSON_TAPE_ARRAY || nd->tn_type == JSON_TAPE_OBJECT) {
        it->ti_end = nd->tn_u.tn_c.tc_next;
        it->ti_dups = (nd->tn_flags & JSON_TAPE_F_DUPS) != 0;
    }
}

static inline bool json_tape_array_next(const struct json_tape *t, struct json_tape_iter *it,
                                        size_t *item)
{
    if (it->ti_pos >= it->ti_end)
        return false;
    *item = it->ti_pos;
    it->ti_pos = json_tape_next(t, it->ti_pos);
    return true;
}

static inline bool json_tape_object_next(const struct json_tape *t, struct json_tape_iter *it,
                                         size_t *key, size_t *value)
{
    while (it->ti_pos < it->ti_end) {
        size_t k = it->ti_pos;
        it->ti_pos = json_tape_next(t, k + 1);
        if (it->ti_dups && json_tape_key_shadowed(t, k, it->ti_end))
            continue;
        *key = k;
        *value = k + 1;
        return true;
    }
    return false;
}

#endif
