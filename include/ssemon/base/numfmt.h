/*
 * numfmt: doubles as the shortest decimal text that reads back exactly.
 * Base module: libc only.
 */
#ifndef SSEMON_BASE_NUMFMT_H
#define SSEMON_BASE_NUMFMT_H

#include <stddef.h>

/* Room for any numfmt_double text and its NUL. */
#define NUMFMT_DOUBLE_MAX 32

/* Writes `v` (finite) with "%.*g" at the smallest precision from
 * `min_prec` (1 to 17) up to 17 at which strtod reads it back as `v`, into
 * buf[0..size), size >= NUMFMT_DOUBLE_MAX. min_prec 1 gives the shortest
 * round-trip text ("1e+10"); 15 keeps plain notation up to 15 digits
 * ("10000000000"). Returns the length written. */
size_t numfmt_double(char *buf, size_t size, double v, int min_prec);

#endif
