/*
 * json_uri: URI-reference resolution (RFC 3986 section 5.2), as JSON
 * Schema's "$id", "$ref" and "$dynamicRef" need it. Syntax only: nothing is
 * fetched, nothing is normalized beyond what the algorithm itself does
 * (dot segments removed). JSON layer, pure: no I/O, no global state.
 */
#ifndef SSEMON_JSON_URI_H
#define SSEMON_JSON_URI_H

#include <stdbool.h>
#include <stddef.h>

/* Resolves reference `ref` (reflen bytes) against absolute URI `base`
 * (NUL-terminated) into `out` (cap bytes, NUL-terminated). Returns false
 * when the result does not fit (out is then ""). A fragment "#" with
 * nothing after it is dropped. */
bool json_uri_resolve(const char *base, const char *ref, size_t reflen, char *out, size_t cap);

/* Whether `s` (len bytes) starts with a scheme ("http:", "urn:", ...). */
bool json_uri_has_scheme(const char *s, size_t len);
/* The length of that scheme (before its ':'), 0 when `s` has none. */
size_t json_uri_scheme_len(const char *s, size_t len);

/* The length of `uri` without its fragment ("#..."). */
size_t json_uri_strip_fragment(const char *uri);

#endif
