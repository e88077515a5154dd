/*
 * diag: the errors found in a file a user wrote, each one line ready to
 * print, "FILE:LINE:COL: PATH: MESSAGE", where PATH is the RFC 6901
 * pointer of the offending key or value. Config-layer module (libc and
 * base/utf8 only): configuration loading collects its errors in a
 * diag_list, and so does contract loading (every error of a contract:
 * contract_load_all); diag_format formats one error on its own.
 *
 * Also the pieces those messages are made of: user text escaped so an
 * error stays one line, and the "did you mean" suggestion.
 *
 * Ownership: a diag_list owns its items and every string in them
 * (diag_list_free); the functions that add copy what they are given.
 */
#ifndef SSEMON_CONFIG_DIAG_H
#define SSEMON_CONFIG_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* User text quoted in a message is cut to about this many bytes. */
#define DIAG_QUOTE_MAX 160

/* One error. Strings are owned by the diag_list. */
struct diag {
    const char *dg_file;    /* the file, escaped */
    size_t dg_line;         /* 1-based; 0 when the error has no position */
    size_t dg_column;       /* 1-based, in characters; 0 likewise */
    const char *dg_path;    /* JSON pointer of the key or value, escaped; "" when none */
    const char *dg_message; /* what is wrong (never a secret) */
    /* Ready to print, one line: "FILE:LINE:COL: PATH: MESSAGE", or
     * "FILE:LINE:COL: MESSAGE" without a path, "FILE: PATH: MESSAGE"
     * without a position, "FILE: MESSAGE" with neither. */
    const char *dg_text;
};

/* The errors of one file, in file order once finished (errors without a
 * position first). */
struct diag_list {
    struct diag *dl_items;
    size_t dl_n;
    size_t dl_cap;
    size_t dl_max;     /* items kept before the rest are only counted; 0: all */
    size_t dl_dropped; /* errors beyond dl_max */
    bool dl_oom;       /* out of memory: the list may be incomplete */
};

/* An empty list that keeps at most `max` errors (0: no cap). */
void diag_list_init(struct diag_list *l, size_t max);
/* Frees every item; the list is empty afterwards (freeing twice is fine). */
void diag_list_free(struct diag_list *l);

/* Records one error in `file` (line and column 0: no position; path "":
 * none). File and path are escaped; the message is taken as written.
 * Beyond the cap the error is only counted; an allocation failure sets
 * dl_oom. */
void diag_add(struct diag_list *l, const char *file, size_t line, size_t column, const char *path,
              const char *message);
void diag_addv(struct diag_list *l, const char *file, size_t line, size_t column, const char *path,
               const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
void diag_addf(struct diag_list *l, const char *file, size_t line, size_t column, const char *path,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Sorts the list in file order, as an editor walks it (ties keep the order
 * they were found in), then adds "FILE: N more errors not shown" for what
 * the cap dropped. Call once, when the file is done. */
void diag_list_finish(struct diag_list *l, const char *file);

/* Writes one error's text into buf[0..size) as snprintf does (returns the
 * full length): the forms of dg_text, and the message alone when `file` is
 * NULL. Nothing is escaped here. */
int diag_format(char *buf, size_t size, const char *file, size_t line, size_t column,
                const char *path, const char *message);

/* Copies `len` bytes of `s` into dst[0..size) for a message: control
 * characters escaped (\n, \t, \r, \u00XX), '"' and '\' too when `quoted`,
 * cut with "..." when too long, never inside a UTF-8 sequence or an
 * escape. Always NUL-terminates when size > 0. */
void diag_escape(char *dst, size_t size, const char *s, size_t len, bool quoted);
/* `s` (NUL-terminated) escaped for quoting in a message, without the
 * quotes themselves. */
void diag_quote(char *dst, size_t size, const char *s);

/* Looks for the name closest to a word the user wrote: at most 2 edits
 * (Levenshtein); names or words longer than 48 bytes are never close. */
struct diag_suggest {
    const char *dsg_word;
    size_t dsg_len;
    const char *dsg_best; /* the suggestion so far; NULL when none */
    size_t dsg_distance;
};

void diag_suggest_init(struct diag_suggest *s, const char *word, size_t len);
/* Considers one candidate; the first of equally close ones is kept. */
void diag_suggest_consider(struct diag_suggest *s, const char *candidate);

#endif
