/*
 * numfmt: numbers as text: doubles as the shortest decimal text that reads
 * back exactly, unsigned integers in decimal, hexadecimal digits read.
 * Base module: libc only.
 */
#ifndef SSEMON_BASE_NUMFMT_H
#define SSEMON_BASE_NUMFMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Room for any numfmt_double text and its NUL. */
#define NUMFMT_DOUBLE_MAX 32

/* Writes `v` (finite) with "%.*g" at the smallest precision from
 * `min_prec` (1 to 17) up to 17 at which strtod reads it back as `v`, into
 * buf[0..size), size >= NUMFMT_DOUBLE_MAX. min_prec 1 gives the shortest
 * round-trip text ("1e+10"); 15 keeps plain notation up to 15 digits
 * ("10000000000"). Returns the length written. */
size_t numfmt_double(char *buf, size_t size, double v, int min_prec);

/* The value of hexadecimal digit `c` (0-9, a-f, A-F), or -1. */
static inline int numfmt_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Room for any numfmt_u64 text (20 digits). */
#define NUMFMT_U64_MAX 20

/* Writes `v` in decimal at dst (no NUL, at most NUMFMT_U64_MAX bytes) and
 * returns the end of what it wrote. Inline: the metrics renderer writes
 * millions of these per scrape. */
static inline char *numfmt_u64(char *dst, uint64_t v)
{
    if (v < 10) {
        *dst = (char)('0' + v);
        return dst + 1;
    }
    char tmp[NUMFMT_U64_MAX];
    char *p = tmp + sizeof(tmp);
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    size_t n = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(dst, p, n);
    return dst + n;
}

#endif
