/*
 * http_header: small HTTP text helpers (RFC 9110 grammar). Pure: no I/O,
 * no global state. Inputs are (pointer, length) pairs and need not be
 * NUL-terminated unless stated.
 */
#ifndef SSEMON_HTTP_HEADER_H
#define SSEMON_HTTP_HEADER_H

#include <stdbool.h>
#include <stddef.h>

/* A header field split out of a line; both parts point into that line. */
struct http_header_field {
    const char *hf_name;
    size_t hf_name_len;
    const char *hf_value; /* optional whitespace trimmed on both sides */
    size_t hf_value_len;
};

/* True when `c` may appear in a token (a field name, a media type part). */
bool http_header_is_tchar(unsigned char c);

/* Splits one raw header line ("Name: value", a trailing CRLF or LF
 * allowed). False when there is no colon or the name is not a non-empty
 * token (a status line, a blank line, "bad name: x"). */
bool http_header_split(const char *line, size_t len, struct http_header_field *out);

/* Case-insensitive comparison of a field name with the NUL-terminated `lit`. */
bool http_header_name_eq(const char *name, size_t len, const char *lit);

/* True when the media type's essence (type/subtype, before any parameter)
 * equals `essence`, ignoring case and surrounding whitespace:
 * "text/event-stream; charset=utf-8" is "text/event-stream",
 * "text/event-streamx" is not. */
bool http_header_media_type_is(const char *value, size_t len, const char *essence);

/* A copy of the NUL-terminated `url` with any user-info ("user:pass@")
 * replaced by "***@", for logs. Returns NULL on allocation failure; the
 * caller frees the result. */
char *http_header_redact_url(const char *url);

/* Checks a user-supplied "Name: value" header argument (NUL-terminated):
 * a non-empty token name, a colon, and no CR, LF or other control character
 * (tab aside). On failure returns false and points *why (if non-NULL) at a
 * static explanation. */
bool http_header_arg_valid(const char *arg, const char **why);

#endif
