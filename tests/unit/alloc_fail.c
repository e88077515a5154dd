/* See alloc_fail.h. Nothing else makes an allocation fail on demand, so the
 * allocator is wrapped at link time (-Wl,--wrap=...). */
#include "alloc_fail.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long alloc_countdown = -1;
unsigned long alloc_failed;

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *ptr, size_t size);
void *__real_reallocarray(void *ptr, size_t n, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
char *__real_realpath(const char *path, char *resolved);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
void *__wrap_reallocarray(void *ptr, size_t n, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
char *__wrap_realpath(const char *path, char *resolved);
int __wrap_asprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool alloc_fails_now(void)
{
    if (alloc_countdown < 0)
        return false;
    if (alloc_countdown-- == 0) {
        alloc_failed++;
        return true;
    }
    return false;
}

void *__wrap_malloc(size_t size)
{
    return alloc_fails_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return alloc_fails_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *ptr, size_t size)
{
    return alloc_fails_now() ? NULL : __real_realloc(ptr, size);
}

void *__wrap_reallocarray(void *ptr, size_t n, size_t size)
{
    return alloc_fails_now() ? NULL : __real_reallocarray(ptr, n, size);
}

char *__wrap_strdup(const char *s)
{
    return alloc_fails_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return alloc_fails_now() ? NULL : __real_strndup(s, n);
}

char *__wrap_realpath(const char *path, char *resolved)
{
    if (resolved == NULL && alloc_fails_now())
        return NULL;
    return __real_realpath(path, resolved);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;

    if (alloc_fails_now())
        return -1;
    va_start(ap, fmt);
    int r = vasprintf(out, fmt, ap);
    va_end(ap);
    return r;
}
