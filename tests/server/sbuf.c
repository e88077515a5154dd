#include "sbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sbuf_reserve(struct sbuf *sb, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - sb->sb_len - 1)
        return -1;
    need = sb->sb_len + extra + 1;
    if (need <= sb->sb_cap)
        return 0;
    cap = sb->sb_cap ? sb->sb_cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(sb->sb_data, cap);
    if (p == NULL)
        return -1;
    sb->sb_data = p;
    sb->sb_cap = cap;
    return 0;
}

int sbuf_add(struct sbuf *sb, const void *data, size_t len)
{
    if (sbuf_reserve(sb, len) != 0)
        return -1;
    if (len > 0)
        memcpy(sb->sb_data + sb->sb_len, data, len);
    sb->sb_len += len;
    sb->sb_data[sb->sb_len] = '\0';
    return 0;
}

int sbuf_addc(struct sbuf *sb, char c)
{
    return sbuf_add(sb, &c, 1);
}

int sbuf_adds(struct sbuf *sb, const char *s)
{
    return sbuf_add(sb, s, strlen(s));
}

int sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sbuf_reserve(sb, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(sb->sb_data + sb->sb_len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->sb_len += (size_t)n;
    return 0;
}

void sbuf_reset(struct sbuf *sb)
{
    sb->sb_len = 0;
    if (sb->sb_data != NULL)
        sb->sb_data[0] = '\0';
}

void sbuf_free(struct sbuf *sb)
{
    free(sb->sb_data);
    sb->sb_data = NULL;
    sb->sb_len = 0;
    sb->sb_cap = 0;
}
