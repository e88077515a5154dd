/*
 * uuid: random (version 4) UUIDs in their text form, for the unique ids a
 * monitor sends (a connection's request id, a probe run's id). Base
 * module: libc only.
 *
 * Ownership: the caller provides the output buffers.
 */
#ifndef SSEMON_BASE_UUID_H
#define SSEMON_BASE_UUID_H

/* Characters of "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
#define UUID_TEXT_LEN 36

/* `bytes` as a UUID v4 text (version 4 and RFC 4122 variant bits set,
 * lower-case hexadecimal), NUL-terminated. */
void uuid_v4_format(const unsigned char bytes[16], char out[UUID_TEXT_LEN + 1]);

/* A fresh random UUID v4: getrandom(GRND_NONBLOCK), or when that fails
 * (no entropy yet, a seccomp filter) a mix of both clocks, the pid and a
 * process-wide counter, still unique within the host. Returns 0. */
int uuid_v4_new(char out[UUID_TEXT_LEN + 1]);

#endif
