#include "ssemon/base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a pipe is read in first; a regular file is read in one go. */
#define FILE_PIPE_CHUNK 4096

static void file_fail(struct file_error *err, enum file_why why, int errnum, size_t max)
{
    err->fe_why = why;
    err->fe_errno = errnum;
    err->fe_max = max;
}

/* Opens `path` and checks its type; returns the descriptor (and the size
 * of a regular file in *size, -1 otherwise), or -1 with *err set. */
static int file_open(const char *path, unsigned flags, long long *size, struct file_error *err)
{
    /* Without O_NONBLOCK, opening a FIFO waits for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (flags & FILE_REGULAR ? O_NONBLOCK : 0));
    struct stat st;

    *size = -1;
    if (fd < 0) {
        file_fail(err, FILE_EOPEN, errno, 0);
        return -1;
    }
    bool known = fstat(fd, &st) == 0;
    if ((flags & FILE_REGULAR) && !(known && S_ISREG(st.st_mode))) {
        close(fd);
        file_fail(err, FILE_ENOTREG, 0, 0);
        return -1;
    }
    if (known && S_ISDIR(st.st_mode)) {
        close(fd);
        file_fail(err, FILE_EISDIR, 0, 0);
        return -1;
    }
    if (known && S_ISREG(st.st_mode))
        *size = (long long)st.st_size;
    return fd;
}

static void file_discard(char *buf, size_t n, unsigned flags)
{
    if (buf != NULL && (flags & FILE_SECRET))
        explicit_bzero(buf, n);
    free(buf);
}

/* A buffer of `cap` + 1 bytes holding the `n` of `buf`; realloc would
 * leave a copy of a secret behind, unwiped. */
static char *file_grow(char *buf, size_t n, size_t cap, unsigned flags)
{
    if (!(flags & FILE_SECRET))
        return realloc(buf, cap + 1);
    char *bigger = malloc(cap + 1);
    if (bigger == NULL)
        return NULL;
    memcpy(bigger, buf, n);
    file_discard(buf, n, flags);
    return bigger;
}

char *file_read(const char *path, size_t max, unsigned flags, size_t *len, struct file_error *err)
{
    long long size;
    int fd = file_open(path, flags, &size, err);

    if (fd < 0)
        return NULL;
    if (size >= 0 && (unsigned long long)size > max) {
        close(fd);
        file_fail(err, FILE_ETOOBIG, 0, max);
        return NULL;
    }
    /* Holding one byte more than allowed is how "too large" is seen. */
    size_t limit = max < SIZE_MAX - 1 ? max + 1 : SIZE_MAX - 1;
    size_t cap = size >= 0 ? (size_t)size + 1 : FILE_PIPE_CHUNK;
    if (cap > limit)
        cap = limit;
    size_t n = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        close(fd);
        file_fail(err, FILE_ENOMEM, 0, 0);
        return NULL;
    }
    /* Read to the end: a pipe has no size and a file may grow meanwhile. */
    for (;;) {
        if (n == cap) {
            if (cap >= limit) {
                file_fail(err, FILE_ETOOBIG, 0, max);
                break;
            }
            size_t bigger = cap <= limit / 2 ? cap * 2 : limit;
            char *nb = file_grow(buf, n, bigger, flags);
            if (nb == NULL) {
                file_fail(err, FILE_ENOMEM, 0, 0);
                break;
            }
            buf = nb;
            cap = bigger;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            file_fail(err, FILE_EREAD, errno, 0);
            break;
        }
        if (r == 0) {
            close(fd);
            buf[n] = '\0';
            *len = n;
            file_fail(err, FILE_OK, 0, 0);
            return buf;
        }
        n += (size_t)r;
    }
    close(fd);
    file_discard(buf, n, flags);
    return NULL;
}

int file_check(const char *path, unsigned flags, struct file_error *err)
{
    long long size;
    int fd = file_open(path, flags, &size, err);

    if (fd < 0)
        return -1;
    close(fd);
    file_fail(err, FILE_OK, 0, 0);
    return 0;
}

int file_error_text(const struct file_error *err, char *buf, size_t size)
{
    switch (err->fe_why) {
    case FILE_OK:
        break;
    case FILE_EOPEN:
        return snprintf(buf, size, "cannot open: %s", strerror(err->fe_errno));
    case FILE_ENOTREG:
        return snprintf(buf, size, "not a regular file");
    case FILE_EISDIR:
        return snprintf(buf, size, "is a directory");
    case FILE_ETOOBIG:
        return snprintf(buf, size, "larger than %zu bytes", err->fe_max);
    case FILE_EREAD:
        return snprintf(buf, size, "cannot read: %s", strerror(err->fe_errno));
    case FILE_ENOMEM:
        return snprintf(buf, size, "out of memory");
    }
    return snprintf(buf, size, "no error");
}
