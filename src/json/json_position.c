/*
 * json_position: RFC 6901 pointers resolved on a json_tape, whose nodes
 * carry their source offsets, then turned into line and column. The walk is
 * done here token by token (rather than with json_tape_pointer) because the
 * caller may want the deepest ancestor that exists and whether a value is an
 * object member, which only the walk knows.
 */
#include "ssemon/json/json_position.h"
#include "ssemon/base/utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

void json_position_at_offset(const char *text, size_t len, size_t offset, struct json_position *out)
{
    size_t line = 1, col = 1;

    if (offset > len)
        offset = len;
    for (size_t i = 0; i < offset; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            line++;
            col = 1;
        } else if (utf8_is_lead(c)) {
            col++;
        }
    }
    out->jp_offset = offset;
    out->jp_line = line;
    out->jp_column = col;
    out->jp_matched = 0;
}

/* The child of container `node` that the token names, or JSON_TAPE_NONE.
 * *member tells whether it is an object member (its key is the node before). */
static size_t json_position_child(const struct json_tape *t, size_t node, const char *tok,
                                  size_t toklen, bool *member)
{
    struct json_tape_iter it;

    *member = false;
    if (json_tape_type(t, node) == JSON_TAPE_OBJECT) {
        /* Every member as written, the last match kept: the member lookups
         * see, without the cost of skipping shadowed keys one by one. */
        size_t found = JSON_TAPE_NONE, end = json_tape_next(t, node);
        for (size_t key = node + 1; key < end; key = json_tape_next(t, key + 1)) {
            size_t klen;
            const char *k = json_tape_string(t, key, &klen);
            if (json_tape_token_eq(tok, toklen, k, klen))
                found = key + 1;
        }
        *member = found != JSON_TAPE_NONE;
        return found;
    }
    if (json_tape_type(t, node) == JSON_TAPE_ARRAY) {
        size_t want = json_tape_token_index(tok, toklen);
        size_t item, i = 0;
        if (want >= json_tape_count(t, node))
            return JSON_TAPE_NONE;
        json_tape_iter_init(t, node, &it);
        while (json_tape_array_next(t, &it, &item)) {
            if (i++ == want)
                return item;
        }
    }
    return JSON_TAPE_NONE;
}

int json_position_in_tape(const struct json_tape *t, const char *pointer, unsigned flags,
                          struct json_position *out)
{
    size_t node = json_tape_root(t);
    bool member = false;
    size_t matched = 0;
    const char *p = pointer;

    if (node == JSON_TAPE_NONE || pointer == NULL)
        return JSON_POSITION_NONE;
    if (*p != '\0' && *p != '/')
        return JSON_POSITION_NONE;
    while (*p != '\0') {
        const char *tok = p + 1;
        size_t toklen = strcspn(tok, "/");
        bool child_member;
        size_t child = json_position_child(t, node, tok, toklen, &child_member);
        if (child == JSON_TAPE_NONE)
            break;
        node = child;
        member = child_member;
        p = tok + toklen;
        matched = (size_t)(p - pointer);
    }
    bool found = *p == '\0';
    if (!found && !(flags & JSON_POSITION_NEAREST))
        return JSON_POSITION_NONE;
    size_t at = node;
    if ((flags & JSON_POSITION_KEY) && member)
        at = node - 1;
    json_position_at_offset(t->jt_src, t->jt_src_len, t->jt_nodes[at].tn_off, out);
    out->jp_matched = matched;
    return found ? JSON_POSITION_FOUND : JSON_POSITION_ANCESTOR;
}

int json_position_find(const char *text, size_t len, const char *pointer, unsigned flags,
                       struct json_position *out)
{
    struct json_tape t;

    json_tape_init(&t);
    int rc = json_tape_parse(&t, text, len, NULL);
    if (rc == JSON_TAPE_OK)
        rc = json_position_in_tape(&t, pointer, flags, out);
    else
        rc = rc == JSON_TAPE_ENOMEM ? JSON_POSITION_ENOMEM : JSON_POSITION_NONE;
    json_tape_free(&t);
    return rc;
}
