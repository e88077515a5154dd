/*
 * file: reads a whole file into memory, up to a size limit, and says why
 * when it cannot. The one reader behind the configuration file, the secret
 * header values and the contracts. Base module: libc only.
 *
 * Ownership: file_read returns a buffer the caller frees (wiping it first
 * when it holds a secret); nothing else crosses the boundary.
 */
#ifndef SSEMON_BASE_FILE_H
#define SSEMON_BASE_FILE_H

#include <stdbool.h>
#include <stddef.h>

enum file_flag {
    /* Refuse anything but a regular file. The file is opened without
     * blocking, so a FIFO without a writer or a device is refused at once;
     * without this flag a pipe or FIFO is read to its end (a FIFO's open
     * waits for a writer) and only a directory is refused. */
    FILE_REGULAR = 1u << 0,
    /* The bytes are a secret: every buffer that held some of them is wiped
     * before it is freed, on every path. */
    FILE_SECRET = 1u << 1,
};

enum file_why {
    FILE_OK = 0,
    FILE_EOPEN,   /* open(2) failed: fe_errno */
    FILE_ENOTREG, /* not a regular file (FILE_REGULAR) */
    FILE_EISDIR,  /* a directory (without FILE_REGULAR) */
    FILE_ETOOBIG, /* more than fe_max bytes */
    FILE_EREAD,   /* read(2) failed: fe_errno */
    FILE_ENOMEM,
};

/* Why a read or check failed. */
struct file_error {
    enum file_why fe_why;
    int fe_errno;  /* FILE_EOPEN, FILE_EREAD */
    size_t fe_max; /* FILE_ETOOBIG: the limit */
};

/* Reads all of `path`, at most `max` bytes. `flags`: file_flag. Returns
 * the bytes followed by a NUL (not counted in *len), owned by the caller
 * (free; wipe first with FILE_SECRET), or NULL with *err set. An empty
 * file gives "" and length 0. */
char *file_read(const char *path, size_t max, unsigned flags, size_t *len, struct file_error *err);

/* Opens `path` as file_read would and closes it: 0 when it could be read,
 * or -1 with *err set (FILE_EOPEN, FILE_ENOTREG, FILE_EISDIR). */
int file_check(const char *path, unsigned flags, struct file_error *err);

/* The reason as one phrase, as snprintf writes: "cannot open: STRERROR",
 * "not a regular file", "is a directory", "larger than MAX bytes",
 * "cannot read: STRERROR" or "out of memory". */
int file_error_text(const struct file_error *err, char *buf, size_t size);

#endif
