#include "ssemon/core/template.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A piece of the text: literal bytes, or a reference. */
struct template_part {
    size_t tp_off; /* literal: offset into tl_lit; reference: of its "${" in the text */
    size_t tp_len; /* literal bytes (0 for a reference) */
    char *tp_name; /* NULL for a literal */
};

struct template
{
    char *tl_text; /* as written, NUL-terminated */
    size_t tl_len;
    char *tl_lit; /* the literal bytes, escapes resolved */
    struct template_part *tl_parts;
    size_t tl_n_parts;
    size_t *tl_refs; /* indices of the reference parts */
    size_t tl_n_refs;
};

static bool template_name_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static struct template *template_nomem(struct template *t, struct template_error *err)
{
    template_free(t);
    err->te_offset = 0;
    err->te_message = "out of memory";
    errno = ENOMEM;
    return NULL;
}

static struct template *template_fail(struct template *t, struct template_error *err, size_t off,
                                      const char *msg)
{
    template_free(t);
    err->te_offset = off;
    err->te_message = msg;
    errno = EINVAL;
    return NULL;
}

/* Appends a literal byte, extending the last part when it is a literal. */
static void template_lit(struct template *t, size_t *lit_len, char c)
{
    struct template_part *last = t->tl_n_parts ? &t->tl_parts[t->tl_n_parts - 1] : NULL;
    if (last == NULL || last->tp_name != NULL) {
        last = &t->tl_parts[t->tl_n_parts++];
        last->tp_off = *lit_len;
        last->tp_len = 0;
        last->tp_name = NULL;
    }
    t->tl_lit[(*lit_len)++] = c;
    last->tp_len++;
}

struct template *template_compile(const char *text, size_t len, struct template_error *err)
{
    struct template *t = calloc(1, sizeof(*t));
    size_t lit_len = 0;

    if (t == NULL)
        return template_nomem(t, err);
    t->tl_len = len;
    t->tl_text = malloc(len + 1);
    t->tl_lit = malloc(len + 1);
    /* At most one part per byte, one reference per 4 bytes ("${x}"). */
    t->tl_parts = calloc(len + 1, sizeof(*t->tl_parts));
    t->tl_refs = calloc(len / 4 + 1, sizeof(*t->tl_refs));
    if (t->tl_text == NULL || t->tl_lit == NULL || t->tl_parts == NULL || t->tl_refs == NULL)
        return template_nomem(t, err);
    memcpy(t->tl_text, text, len);
    t->tl_text[len] = '\0';
    for (size_t i = 0; i < len;) {
        if (text[i] == '$' && i + 2 < len && text[i + 1] == '$' && text[i + 2] == '{') {
            template_lit(t, &lit_len, '$');
            template_lit(t, &lit_len, '{');
            i += 3;
            continue;
        }
        if (text[i] != '$' || i + 1 >= len || text[i + 1] != '{') {
            template_lit(t, &lit_len, text[i]);
            i++;
            continue;
        }
        size_t start = i + 2, end = start;
        while (end < len && text[end] != '}' && end - start <= TEMPLATE_NAME_MAX &&
               template_name_char((unsigned char)text[end]))
            end++;
        if (end - start > TEMPLATE_NAME_MAX)
            return template_fail(t, err, i, "template name too long");
        if (end >= len)
            return template_fail(t, err, i, "unterminated \"${\"");
        if (text[end] != '}')
            return template_fail(t, err, i,
                                 "invalid character in template name (use A-Z a-z 0-9 _ . -)");
        if (end == start)
            return template_fail(t, err, i, "empty template name");
        struct template_part *p = &t->tl_parts[t->tl_n_parts];
        p->tp_off = i;
        p->tp_len = 0;
        p->tp_name = strndup(text + start, end - start);
        if (p->tp_name == NULL)
            return template_nomem(t, err);
        t->tl_refs[t->tl_n_refs++] = t->tl_n_parts++;
        i = end + 1;
    }
    return t;
}

void template_free(struct template *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->tl_n_parts; i++)
        free(t->tl_parts[i].tp_name);
    free(t->tl_parts);
    free(t->tl_refs);
    free(t->tl_text);
    free(t->tl_lit);
    free(t);
}

const char *template_text(const struct template *t)
{
    return t->tl_text;
}

size_t template_text_len(const struct template *t)
{
    return t->tl_len;
}

size_t template_ref_count(const struct template *t)
{
    return t->tl_n_refs;
}

const char *template_ref_name(const struct template *t, size_t i, size_t *offset)
{
    if (i >= t->tl_n_refs)
        return NULL;
    const struct template_part *p = &t->tl_parts[t->tl_refs[i]];
    if (offset != NULL)
        *offset = p->tp_off;
    return p->tp_name;
}

bool template_uses(const struct template *t, const char *name)
{
    for (size_t i = 0; i < t->tl_n_refs; i++)
        if (strcmp(t->tl_parts[t->tl_refs[i]].tp_name, name) == 0)
            return true;
    return false;
}

char *template_expand(const struct template *t, template_lookup_fn lookup, void *ctx,
                      const char **missing, size_t *len_out)
{
    const char **values = NULL;
    size_t *lens = NULL;
    size_t total = 0;

    if (t->tl_n_refs > 0) {
        values = calloc(t->tl_n_refs, sizeof(*values));
        lens = calloc(t->tl_n_refs, sizeof(*lens));
        if (values == NULL || lens == NULL)
            goto nomem;
    }
    for (size_t i = 0; i < t->tl_n_refs; i++) {
        const char *name = t->tl_parts[t->tl_refs[i]].tp_name;
        values[i] = lookup != NULL ? lookup(ctx, name) : NULL;
        if (values[i] == NULL) {
            if (missing != NULL)
                *missing = name;
            free(values);
            free(lens);
            errno = ENOENT;
            return NULL;
        }
        lens[i] = strlen(values[i]);
    }
    size_t r = 0;
    for (size_t i = 0; i < t->tl_n_parts; i++) {
        size_t add = t->tl_parts[i].tp_name != NULL ? lens[r++] : t->tl_parts[i].tp_len;
        if (add > TEMPLATE_OUT_MAX - total) {
            free(values);
            free(lens);
            errno = E2BIG;
            return NULL;
        }
        total += add;
    }
    char *out = malloc(total + 1);
    if (out == NULL)
        goto nomem;
    size_t o = 0;
    r = 0;
    for (size_t i = 0; i < t->tl_n_parts; i++) {
        const struct template_part *p = &t->tl_parts[i];
        if (p->tp_name != NULL) {
            memcpy(out + o, values[r], lens[r]);
            o += lens[r++];
        } else {
            memcpy(out + o, t->tl_lit + p->tp_off, p->tp_len);
            o += p->tp_len;
        }
    }
    out[o] = '\0';
    if (len_out != NULL)
        *len_out = o;
    free(values);
    free(lens);
    return out;
nomem:
    free(values);
    free(lens);
    errno = ENOMEM;
    return NULL;
}
