/*
 * config_headers: the request headers of a subscription, layered: the
 * file's "defaults" headers, then the subscription's own, a header
 * replacing one of the same name (names compared ignoring case). Values
 * are one line; a value may be a secret (config_secret), sent as is but
 * logged as <redacted> and wiped when freed. Config-layer module.
 *
 * Ownership: a config_headers owns its names, values and lines
 * (config_headers_free); config_headers_set takes ownership of what it is
 * given.
 */
#ifndef SSEMON_CONFIG_CONFIG_HEADERS_H
#define SSEMON_CONFIG_CONFIG_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

struct config_doc;

struct config_header {
    char *cfh_name;
    char *cfh_value; /* may be secret */
    char *cfh_line;  /* "Name: value", what the engine sends (config_headers_finish) */
    bool cfh_secret;
};

struct config_headers {
    struct config_header *hs_items;
    size_t hs_n;
    size_t hs_cap;
    const char **hs_lines; /* the cfh_line of each, in order (config_headers_finish) */
};

/* Whether `len` bytes can be a header value: one line, no control
 * character but tab. */
bool config_headers_value_ok(const char *s, size_t len);

/* Adds or replaces (same name, ignoring case) a header, taking ownership
 * of `name` and `value`. Returns -1 on allocation failure (both freed). */
int config_headers_set(struct config_headers *hs, char *name, char *value, bool secret);
/* Adds copies of every header of `src` to `dst`. Returns -1 on allocation
 * failure. */
int config_headers_copy(struct config_headers *dst, const struct config_headers *src);
/* Applies a "headers" object (node `obj` at `path`) over `hs`, reporting
 * invalid names and values. */
void config_headers_parse(struct config_doc *d, size_t obj, const char *path,
                          struct config_headers *hs);
/* Sorts by name (ignoring case, then exactly) and makes the lines the
 * engine sends. Returns -1 on allocation failure. */
int config_headers_finish(struct config_headers *hs);
void config_headers_free(struct config_headers *hs);

/* Same names, values and secrecy, in the same order. */
bool config_headers_equal(const struct config_headers *a, const struct config_headers *b);
/* Header i for a log or display: "Name: value", or "Name: <redacted>"
 * for a secret one, as snprintf writes; "" (returning 0) past the end. */
int config_headers_log(const struct config_headers *hs, size_t i, char *buf, size_t size);

#endif
