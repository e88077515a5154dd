/*
 * utf8: strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF) checks and cuts that never split a sequence. The one copy every
 * layer uses. Base module: libc only.
 */
#ifndef SSEMON_BASE_UTF8_H
#define SSEMON_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1 to 4) of the valid sequence that starts at s[0], with `avail`
 * bytes readable (at least 1); 0 when it is invalid or truncated. */
size_t utf8_seq_len(const unsigned char *s, size_t avail);

/* Whether the `len` bytes at `buf` are entirely valid UTF-8. */
bool utf8_valid(const void *buf, size_t len);

/* The largest n <= max such that s[0..n) does not end inside a multi-byte
 * sequence (it backs off over continuation bytes at the cut). `len` is the
 * length of `s`; when len <= max, returns len. */
size_t utf8_cut(const char *s, size_t len, size_t max);

/* The length of s[0..len) without a multi-byte sequence cut short at its
 * end (what a byte-counting truncation such as snprintf's leaves): when the
 * last lead byte announces more bytes than follow it, the text ends before
 * that lead byte. Anything else, invalid bytes included, is kept. */
size_t utf8_trim_partial(const char *s, size_t len);

/* The length of a UTF-8 byte order mark at the start of s[0..len): 3 when
 * there is one (editors on Windows write it), else 0. */
size_t utf8_bom_len(const char *s, size_t len);

/* Copies `src` (NUL-terminated; NULL copies "") into dst[0..size), cut with
 * utf8_cut so it fits with its NUL. `size` must be at least 1. Returns the
 * number of bytes copied (without the NUL). */
size_t utf8_copy(char *dst, size_t size, const char *src);

/* Whether byte `c` starts a character (is not a continuation byte). */
static inline bool utf8_is_lead(unsigned char c)
{
    return (c & 0xC0) != 0x80;
}

#endif
