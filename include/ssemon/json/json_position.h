/*
 * json_position: where a value of a JSON text is, as a 1-based line and
 * column, for error messages that point a reader at the right spot of a file
 * (configuration, contracts). Pure core module: no I/O, no global state.
 *
 * Lines are counted by LF; columns count characters (UTF-8 sequences), so
 * they match what jansson and json_tape report for syntax errors and what an
 * editor shows. A tab is one column.
 *
 * Pointers follow RFC 6901: "" is the whole document, "/a/0/b~1c" the member
 * "b/c" of item 0 of member "a"; an array index is "0" or a digit string
 * without a leading zero. Where an object repeats a key, the last member
 * is the one found (as jansson and json_tape look keys up).
 */
#ifndef SSEMON_JSON_POSITION_H
#define SSEMON_JSON_POSITION_H

#include <stddef.h>

#include "ssemon/json/json_tape.h"

enum json_position_flag {
    /* For an object member, the position of its key (where a reader looks
     * for "which setting is this") rather than of its value. */
    JSON_POSITION_KEY = 1u << 0,
    /* When the pointer designates nothing, the position of its deepest
     * existing ancestor (e.g. the object a required member is missing
     * from). */
    JSON_POSITION_NEAREST = 1u << 1,
};

enum json_position_result {
    JSON_POSITION_FOUND = 0,    /* the pointer's own value */
    JSON_POSITION_ANCESTOR = 1, /* only an ancestor (JSON_POSITION_NEAREST) */
    JSON_POSITION_NONE = -1,    /* not found, malformed pointer, or not JSON */
    JSON_POSITION_ENOMEM = -2,
};

struct json_position {
    size_t jp_offset;  /* byte offset in the text */
    size_t jp_line;    /* 1-based */
    size_t jp_column;  /* 1-based, in characters */
    size_t jp_matched; /* bytes of the pointer resolved (its whole length when found) */
};

/* Line and column of byte `offset` of `text` (`len` bytes; an offset past
 * the end is taken as `len`). Sets every field of *out; jp_matched is 0. */
void json_position_at_offset(const char *text, size_t len, size_t offset,
                             struct json_position *out);

/* Where `pointer` (NUL-terminated) points in the tape's last parse.
 * `flags`: json_position_flag. Returns a json_position_result; *out is set
 * when the result is FOUND or ANCESTOR. */
int json_position_in_tape(const struct json_tape *t, const char *pointer, unsigned flags,
                          struct json_position *out);

/* The same for a text (`len` bytes, no NUL needed), parsed here; a text that
 * is not JSON gives JSON_POSITION_NONE. */
int json_position_find(const char *text, size_t len, const char *pointer, unsigned flags,
                       struct json_position *out);

#endif
