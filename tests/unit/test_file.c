/* base/file: the one whole-file reader, on real files, directories, a FIFO
 * and pipes in a temporary directory. */
#include "ssemon/base/file.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

static const char *tmp_path(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", tmpdir, rel);
    return buf;
}

static void write_bytes(const char *rel, const char *bytes, size_t n)
{
    char path[128];
    FILE *f = fopen(tmp_path(path, sizeof(path), rel), "w");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ssemon-test-file-XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    static const char *const files[] = {"small", "empty", "exact", "fifo"};
    char path[128];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        unlink(tmp_path(path, sizeof(path), files[i]));
    rmdir(tmp_path(path, sizeof(path), "dir"));
    return rmdir(tmpdir);
}

/* The reason as the callers print it. */
static void assert_reason(const struct file_error *err, const char *want)
{
    char text[128];
    file_error_text(err, text, sizeof(text));
    assert_string_equal(text, want);
}

static void test_regular(void **state)
{
    (void)state;
    char path[128];
    struct file_error err;
    size_t len = 99;
    write_bytes("small", "one\ntwo\0three", 13);

    for (unsigned flags = 0; flags <= (FILE_REGULAR | FILE_SECRET); flags++) {
        char *buf = file_read(tmp_path(path, sizeof(path), "small"), 100, flags, &len, &err);
        assert_non_null(buf);
        assert_int_equal(err.fe_why, FILE_OK);
        assert_int_equal(len, 13);
        assert_memory_equal(buf, "one\ntwo\0three", 13);
        assert_int_equal(buf[13], '\0');
        free(buf);
    }
    assert_int_equal(file_check(path, FILE_REGULAR, &err), 0);
}

static void test_empty(void **state)
{
    (void)state;
    char path[128];
    struct file_error err;
    size_t len = 99;
    write_bytes("empty", "", 0);

    char *buf = file_read(tmp_path(path, sizeof(path), "empty"), 0, FILE_REGULAR, &len, &err);
    assert_non_null(buf);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    free(buf);
}

static void test_too_large(void **state)
{
    (void)state;
    char path[128];
    struct file_error err;
    size_t len = 0;
    write_bytes("exact", "0123456789", 10);
    tmp_path(path, sizeof(path), "exact");

    char *buf = file_read(path, 10, FILE_REGULAR, &len, &err);
    assert_non_null(buf);
    assert_int_equal(len, 10);
    free(buf);
    assert_null(file_read(path, 9, FILE_REGULAR, &len, &err));
    assert_int_equal(err.fe_why, FILE_ETOOBIG);
    assert_int_equal(err.fe_max, 9);
    assert_reason(&err, "larger than 9 bytes");
    assert_null(file_read(path, 9, FILE_SECRET, &len, &err));
    assert_int_equal(err.fe_why, FILE_ETOOBIG);
}

static void test_fifo_refused_without_blocking(void **state)
{
    (void)state;
    char path[128];
    struct file_error err;
    size_t len;
    assert_int_equal(mkfifo(tmp_path(path, sizeof(path), "fifo"), 0600), 0);

    /* Nobody writes to it: blocking on it would end the test here. */
    alarm(10);
    assert_null(file_read(path, 100, FILE_REGULAR, &len, &err));
    assert_int_equal(err.fe_why, FILE_ENOTREG);
    assert_reason(&err, "not a regular file");
    assert_int_equal(file_check(path, FILE_REGULAR, &err), -1);
    assert_int_equal(err.fe_why, FILE_ENOTREG);
    assert_null(file_read("/dev/zero", 100, FILE_REGULAR, &len, &err));
    assert_int_equal(err.fe_why, FILE_ENOTREG);
    alarm(0);
}

static void test_directory(void **state)
{
    (void)state;
    char path[128];
    struct file_error err;
    size_t len;
    assert_int_equal(mkdir(tmp_path(path, sizeof(path), "dir"), 0700), 0);

    assert_null(file_read(path, 100, FILE_REGULAR, &len, &err));
    assert_int_equal(err.fe_why, FILE_ENOTREG);
    assert_null(file_read(path, 100, 0, &len, &err));
    assert_int_equal(err.fe_why, FILE_EISDIR);
    assert_reason(&err, "is a directory");
    assert_int_equal(file_check(path, 0, &err), -1);
    assert_int_equal(err.fe_why, FILE_EISDIR);
}

static void test_missing(void **state)
{
    (void)state;
    char path[128];
    struct file_error err;
    size_t len;

    assert_null(file_read(tmp_path(path, sizeof(path), "nothing"), 100, 0, &len, &err));
    assert_int_equal(err.fe_why, FILE_EOPEN);
    assert_int_equal(err.fe_errno, ENOENT);
    assert_reason(&err, "cannot open: No such file or directory");
    assert_int_equal(file_check(path, FILE_REGULAR, &err), -1);
    assert_int_equal(err.fe_why, FILE_EOPEN);
}

/* A pipe holding `n` bytes and closed for writing, as /dev/fd/N in `path`. */
static int pipe_with(size_t n, char *path, size_t size)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char *bytes = malloc(n);
    assert_non_null(bytes);
    for (size_t i = 0; i < n; i++)
        bytes[i] = (char)('a' + i % 26);
    assert_int_equal(write(fds[1], bytes, n), (ssize_t)n);
    free(bytes);
    close(fds[1]);
    snprintf(path, size, "/dev/fd/%d", fds[0]);
    return fds[0];
}

static void test_pipe_when_allowed(void **state)
{
    (void)state;
    char path[64];
    struct file_error err;
    size_t len = 0;

    /* Larger than the first chunk: the buffer grows, twice. */
    int fd = pipe_with(10000, path, sizeof(path));
    char *buf = file_read(path, 20000, 0, &len, &err);
    close(fd);
    assert_non_null(buf);
    assert_int_equal(len, 10000);
    assert_int_equal(buf[0], 'a');
    assert_int_equal(buf[9999], 'a' + 9999 % 26);
    assert_int_equal(buf[10000], '\0');
    free(buf);

    /* A secret grows the same way (copied, not reallocated). */
    fd = pipe_with(10000, path, sizeof(path));
    buf = file_read(path, 10000, FILE_SECRET, &len, &err);
    close(fd);
    assert_non_null(buf);
    assert_int_equal(len, 10000);
    assert_int_equal(buf[5000], 'a' + 5000 % 26);
    free(buf);

    fd = pipe_with(10000, path, sizeof(path));
    assert_null(file_read(path, 9999, 0, &len, &err));
    close(fd);
    assert_int_equal(err.fe_why, FILE_ETOOBIG);
    assert_reason(&err, "larger than 9999 bytes");

    fd = pipe_with(3, path, sizeof(path));
    assert_null(file_read(path, 100, FILE_REGULAR, &len, &err));
    close(fd);
    assert_int_equal(err.fe_why, FILE_ENOTREG);
}

static void test_reasons(void **state)
{
    (void)state;
    struct file_error err = {.fe_why = FILE_EREAD, .fe_errno = EIO};
    assert_reason(&err, "cannot read: Input/output error");
    err.fe_why = FILE_ENOMEM;
    assert_reason(&err, "out of memory");
    char small[8];
    err.fe_why = FILE_ETOOBIG;
    err.fe_max = 16777216;
    assert_int_equal(file_error_text(&err, small, sizeof(small)), 26);
    assert_string_equal(small, "larger ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regular),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_fifo_refused_without_blocking),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_pipe_when_allowed),
        cmocka_unit_test(test_reasons),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
