/*
 * json_writer: builds compact JSON text in a growable buffer (NDJSON output,
 * status documents). Pure core module.
 *
 * Strings are escaped per RFC 8259: '"', '\\', and every control character
 * (U+0000 included, as \u0000) are escaped; bytes >= 0x80 are copied as is,
 * so the caller passes valid UTF-8 (the SSE parser guarantees it).
 *
 * Allocation failure is sticky: json_writer_failed() tells, and the text is
 * then incomplete.
 */
#ifndef SSEMON_JSON_WRITER_H
#define SSEMON_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JSON_WRITER_MAX_DEPTH 32

struct json_writer {
    char *jw_buf; /* owned; NUL-terminated when jw_len > 0 */
    size_t jw_len;
    size_t jw_cap;
    bool jw_failed;
    int jw_depth;
    bool jw_need_comma[JSON_WRITER_MAX_DEPTH + 1];
    bool jw_after_key;
};

void json_writer_init(struct json_writer *w);
void json_writer_free(struct json_writer *w);
/* Empties the text, keeps the buffer. */
void json_writer_reset(struct json_writer *w);

void json_writer_object_begin(struct json_writer *w);
void json_writer_object_end(struct json_writer *w);
void json_writer_array_begin(struct json_writer *w);
void json_writer_array_end(struct json_writer *w);
/* A member name inside an object; the next value call supplies its value. */
void json_writer_key(struct json_writer *w, const char *key);
/* A member name already written as JSON with its colon (`"name":`, `len`
 * bytes), copied as is: for names known when the program is written, via
 * JSON_WRITER_KEY, without measuring and escaping them at every use. */
void json_writer_key_json(struct json_writer *w, const char *json, size_t len);
#define JSON_WRITER_KEY(w, name)                                                                   \
    json_writer_key_json((w), "\"" name "\":", sizeof("\"" name "\":") - 1)
void json_writer_string(struct json_writer *w, const char *s, size_t len);
void json_writer_cstring(struct json_writer *w, const char *s); /* NULL writes null */
void json_writer_int(struct json_writer *w, int64_t v);
void json_writer_uint(struct json_writer *w, uint64_t v);
void json_writer_double(struct json_writer *w, double v); /* non-finite writes null */
void json_writer_bool(struct json_writer *w, bool v);
void json_writer_null(struct json_writer *w);
/* Appends already-valid JSON text as one value. */
void json_writer_raw(struct json_writer *w, const char *json, size_t len);
/* Appends bytes outside the JSON grammar (e.g. the '\n' ending an NDJSON
 * line). Inline: large documents (the daemon's /metrics) are made of
 * millions of short appends, and the common case is one memcpy. */
void json_writer_append_slow(struct json_writer *w, const char *s, size_t len);
static inline void json_writer_append(struct json_writer *w, const char *s, size_t len)
{
    if (len < w->jw_cap - w->jw_len && !w->jw_failed) {
        memcpy(w->jw_buf + w->jw_len, s, len);
        w->jw_len += len;
        w->jw_buf[w->jw_len] = '\0';
        return;
    }
    json_writer_append_slow(w, s, len);
}
/* Direct writing, outside the JSON grammar: json_writer_claim returns room
 * for `n` more bytes at the end of the text (NULL when out of memory, the
 * writer then failed); the caller writes there and json_writer_commit
 * appends the first `k` <= n of them. Bytes past `k` may be scribbled on:
 * they are not part of the text. A `k` past the claimed room means the
 * caller overran it: the writer fails (the text is then incomplete). */
char *json_writer_claim(struct json_writer *w, size_t n);
void json_writer_commit(struct json_writer *w, size_t k);

/* Escapes `s` into `w` without quotes (for callers composing text). */
void json_writer_escape(struct json_writer *w, const char *s, size_t len);

/* Makes room for `n` more bytes of text at once (a caller that knows the
 * size of the last document avoids growing the buffer step by step). */
void json_writer_reserve(struct json_writer *w, size_t n);
/* Hands the text over: returns the buffer (NUL-terminated; the caller frees
 * it; NULL when there is no text) and its length in *len, and leaves the
 * writer empty, as after json_writer_init. */
char *json_writer_detach(struct json_writer *w, size_t *len);
/* The buffer's allocated size (0 when there is none). */
size_t json_writer_capacity(const struct json_writer *w);
/* Takes `buf` (malloc'ed, `cap` > 0 bytes) as the writer's buffer, freeing
 * the one it had, and empties the text: a large buffer handed out with
 * json_writer_detach can serve the next document, instead of a fresh one
 * the kernel must fault in page by page. */
void json_writer_adopt(struct json_writer *w, char *buf, size_t cap);

bool json_writer_failed(const struct json_writer *w);
/* Marks the text incomplete, as an allocation failure in the writer would
 * (for a caller whose own allocation for the document failed). */
void json_writer_set_failed(struct json_writer *w);
size_t json_writer_text_len(const struct json_writer *w);
const char *json_writer_text(const struct json_writer *w, size_t *len);

#endif
