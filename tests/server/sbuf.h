/* Growable byte buffer shared by the test server's modules. */
#ifndef SSE_TESTSERVER_SBUF_H
#define SSE_TESTSERVER_SBUF_H

#include <stddef.h>

/* The data is owned by the buffer and released by sbuf_free(); it is always
 * NUL-terminated after a successful append so it can be printed, but may also
 * contain NUL bytes (sb_len is authoritative). */
struct sbuf {
    char *sb_data;
    size_t sb_len;
    size_t sb_cap;
};

#define SBUF_INIT                                                                                  \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* All appenders return 0, or -1 when memory runs out (the buffer is left as it
 * was before the call). */
int sbuf_add(struct sbuf *sb, const void *data, size_t len);
int sbuf_addc(struct sbuf *sb, char c);
int sbuf_adds(struct sbuf *sb, const char *s);
int sbuf_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_reset(struct sbuf *sb);
void sbuf_free(struct sbuf *sb);

#endif
