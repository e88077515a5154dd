/* JSON text the way the Python backend writes it, for the test server's
 * built-in 2026 stack (stack.c): json.dumps with its default separators and
 * ensure_ascii, Flask's compact jsonify strings, and the two timestamp
 * styles (datetime.isoformat() and pydantic v2). No I/O. */
#ifndef SSE_TESTSERVER_PYJSON_H
#define SSE_TESTSERVER_PYJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "sbuf.h"

/* Appends s (UTF-8, len bytes) as a JSON string the way Python's json.dumps
 * writes it with ensure_ascii: quotes, \" \\ \n \r \t \b \f, other control
 * characters and every non-ASCII code point as \uXXXX (surrogate pairs above
 * U+FFFF). Bytes that are not valid UTF-8 are written as \u00XX. Returns 0
 * or -1 when memory runs out. */
int pyjson_string(struct sbuf *out, const char *s, size_t len);

/* Appends v as json.dumps(v) prints it: ", " and ": " separators, members in
 * their order, integers as integers, reals as repr(float). Returns 0, or -1
 * when memory runs out or v nests deeper than 64. */
int pyjson_dump(struct sbuf *out, const json_t *v);

/* Formats ts as an aware UTC datetime. zulu false: datetime.isoformat()
 * ("2025-11-19T21:00:00.123456+00:00", no fraction when the microseconds are
 * 0). zulu true: pydantic v2's JSON ("2026-12-07T06:31:56.190330Z": six
 * digits, as pydantic 2.13 writes them, none when the microseconds are 0,
 * and Z for UTC). Returns the length, or -1 when buf is too small (40 is
 * enough). */
int pyjson_time(const struct timespec *ts, bool zulu, char *buf, size_t size);

#endif
