/*
 * Differential fuzzer: json_tape against jansson 2.14 with
 * JSON_DECODE_ANY | JSON_ALLOW_NUL. Both must accept or refuse the same
 * inputs, and an accepted document must decode to the same tree (jansson
 * keeps the last of duplicate keys). Any disagreement aborts.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/json/json_tape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_die(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "json_tape disagrees with jansson: %s\ninput (%zu bytes): ", what, size);
    for (size_t i = 0; i < size && i < 200; i++)
        fprintf(stderr, data[i] >= 0x20 && data[i] < 0x7F ? "%c" : "\\x%02x", data[i]);
    fprintf(stderr, "\n");
    abort();
}

/* Returns NULL when equal, else what differs. */
static const char *fz_compare(const struct json_tape *t, size_t n, const json_t *j)
{
    size_t len;
    const char *raw = json_tape_raw(t, n, &len);
    if (len == 0)
        return "empty raw span";
    switch (json_tape_type(t, n)) {
    case JSON_TAPE_NULL:
        return json_is_null(j) && len == 4 && memcmp(raw, "null", 4) == 0 ? NULL : "null";
    case JSON_TAPE_TRUE:
        return json_is_true(j) && len == 4 ? NULL : "true";
    case JSON_TAPE_FALSE:
        return json_is_false(j) && len == 5 ? NULL : "false";
    case JSON_TAPE_INTEGER:
        if (!json_is_integer(j))
            return "integer type";
        return json_integer_value(j) == json_tape_int(t, n) ? NULL : "integer value";
    case JSON_TAPE_REAL: {
        if (!json_is_real(j))
            return "real type";
        double a = json_real_value(j);
        double b = json_tape_double(t, n);
        return memcmp(&a, &b, sizeof(a)) == 0 ? NULL : "real value";
    }
    case JSON_TAPE_STRING: {
        if (!json_is_string(j))
            return "string type";
        if (raw[0] != '"' || raw[len - 1] != '"')
            return "string raw span";
        size_t slen;
        const char *s = json_tape_string(t, n, &slen);
        if (slen != json_string_length(j) || memcmp(s, json_string_value(j), slen) != 0)
            return "string bytes";
        return NULL;
    }
    case JSON_TAPE_ARRAY: {
        if (!json_is_array(j))
            return "array type";
        if (raw[0] != '[' || raw[len - 1] != ']')
            return "array raw span";
        if (json_tape_count(t, n) != json_array_size(j))
            return "array size";
        struct json_tape_iter it;
        size_t item;
        size_t i = 0;
        json_tape_iter_init(t, n, &it);
        while (json_tape_array_next(t, &it, &item)) {
            const char *why = fz_compare(t, item, json_array_get(j, i));
            if (why != NULL)
                return why;
            i++;
        }
        return i == json_array_size(j) ? NULL : "array iteration";
    }
    case JSON_TAPE_OBJECT: {
        if (!json_is_object(j))
            return "object type";
        if (raw[0] != '{' || raw[len - 1] != '}')
            return "object raw span";
        struct json_tape_iter it;
        size_t k;
        size_t v;
        size_t members = 0;
        json_tape_iter_init(t, n, &it);
        while (json_tape_object_next(t, &it, &k, &v)) {
            size_t klen;
            const char *key = json_tape_string(t, k, &klen);
            const json_t *jv = json_object_getn(j, key, klen);
            if (jv == NULL)
                return "object key missing in jansson";
            if (json_tape_object_get(t, n, key, klen) != v)
                return "object_get disagrees with iteration";
            const char *why = fz_compare(t, v, jv);
            if (why != NULL)
                return why;
            members++;
        }
        if (members != json_object_size(j))
            return "object size";
        if (json_tape_count(t, n) < members)
            return "object count";
        return NULL;
    }
    }
    return "unknown tape type";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One tape for the whole run: reuse across parses is what runs in
     * production. */
    static struct json_tape tape;
    static int ready;
    if (!ready) {
        json_tape_init(&tape);
        ready = 1;
    }
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    struct json_tape_error terr;
    int rc = json_tape_parse(&tape, (const char *)data, size, &terr);
    if (rc == JSON_TAPE_ENOMEM)
        abort();
    if ((j != NULL) != (rc == JSON_TAPE_OK)) {
        char what[400];
        if (j != NULL)
            snprintf(what, sizeof(what), "tape refused (%s at %zu) what jansson accepted",
                     terr.je_msg, terr.je_offset);
        else
            snprintf(what, sizeof(what), "tape accepted what jansson refused (%s)", jerr.text);
        fz_die(what, data, size);
    }
    if (j == NULL) {
        if (terr.je_offset > size || terr.je_line == 0 || terr.je_column == 0 ||
            terr.je_msg == NULL)
            fz_die("bad error position", data, size);
        return 0;
    }
    size_t root = json_tape_root(&tape);
    if (root != 0 || json_tape_next(&tape, root) != tape.jt_count)
        fz_die("root subtree does not span the tape", data, size);
    const char *why = fz_compare(&tape, root, j);
    if (why != NULL)
        fz_die(why, data, size);
    if (json_tape_pointer(&tape, root, "") != root)
        fz_die("empty pointer", data, size);
    json_decref(j);
    return 0;
}
