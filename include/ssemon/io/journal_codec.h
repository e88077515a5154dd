/*
 * journal_codec: one record of the daemon (a list of NAME=value fields) in
 * the two forms it leaves the process in: a datagram of journald's native
 * protocol (https://systemd.io/JOURNAL_NATIVE_PROTOCOL/) and one JSON
 * object on a line for standard error; and the datagram read back into
 * fields, so a record queued for journald can still go to standard error.
 * No I/O and no state: io layer only because it is the journal writer's.
 *
 * Values are bytes with a length, NUL and line feed included: a value
 * holding either is sent in the protocol's binary form (NAME, a line feed,
 * the length as 64-bit little endian, the bytes, a line feed), any other as
 * NAME=value and a line feed. Names are the caller's constants (upper-case
 * letters, digits, underscores).
 *
 * Ownership: journal_codec_native returns a buffer the caller frees; the
 * fields journal_codec_parse fills point into the datagram it was given.
 */
#ifndef SSEMON_JOURNAL_CODEC_H
#define SSEMON_JOURNAL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_writer;

/* A record has at most this many fields. */
#define JOURNAL_CODEC_MAX_FIELDS 24

struct journal_field {
    const char *jf_name; /* NUL-terminated */
    const char *jf_value;
    size_t jf_len;
};

/* The datagram for `n` fields (malloc'ed, *len bytes), or NULL when out of
 * memory. */
char *journal_codec_native(const struct journal_field *f, size_t n, size_t *len);

/* Reads a datagram back into at most `max` fields pointing into `buf`,
 * ending each name with a NUL in place (the datagram is used up). Returns
 * the number of fields, or -1 when `buf` is not a sequence of fields in
 * either form (or holds more than `max`). */
int journal_codec_parse(char *buf, size_t len, struct journal_field *out, size_t max);

/* Appends the record as one JSON object and a line feed to `w`: first
 * "t", the time the record was made (`wall_ms`, ms since the epoch) in
 * RFC 3339 UTC with milliseconds ("2026-12-07T20:45:01.123Z"), then the
 * field names as the keys, in order; PRIORITY is written as a number (it
 * is one digit); every other value as a string, bytes that are not UTF-8
 * as U+FFFD. Check json_writer_failed() afterwards. */
void journal_codec_json(const struct journal_field *f, size_t n, uint64_t wall_ms,
                        struct json_writer *w);

#endif
