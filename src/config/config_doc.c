#include "ssemon/config/config_doc.h"

#include "ssemon/base/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The directory part of `file`, "" when it has none. */
static char *config_doc_dirname(const char *file)
{
    const char *slash = strrchr(file, '/');

    if (slash == NULL)
        return strdup("");
    if (slash == file)
        return strdup("/");
    return strndup(file, (size_t)(slash - file));
}

int config_doc_init(struct config_doc *d, const char *file, struct diag_list *errors)
{
    memset(d, 0, sizeof(*d));
    d->cd_file = file;
    d->cd_errors = errors;
    d->cd_cred_dir = getenv("CREDENTIALS_DIRECTORY");
    json_tape_init(&d->cd_tape);
    d->cd_dir = config_doc_dirname(file);
    if (d->cd_dir == NULL) {
        config_doc_nomem(d);
        return -1;
    }
    return 0;
}

void config_doc_free(struct config_doc *d)
{
    json_tape_free(&d->cd_tape);
    free(d->cd_dir);
    d->cd_dir = NULL;
}

int config_doc_parse(struct config_doc *d, const char *text, size_t len)
{
    struct json_tape_error jerr;

    /* A UTF-8 byte order mark (editors on Windows write one) is skipped:
     * positions count from the character after it. */
    size_t bom = utf8_bom_len(text, len);
    text += bom;
    len -= bom;
    int rc = json_tape_parse(&d->cd_tape, text, len, &jerr);

    if (rc == JSON_TAPE_ENOMEM) {
        config_doc_nomem(d);
        return -1;
    }
    if (rc != JSON_TAPE_OK) {
        diag_addf(d->cd_errors, d->cd_file, jerr.je_line, jerr.je_column, "", "invalid JSON: %s",
                  jerr.je_msg);
        return -1;
    }
    return 0;
}

void config_doc_nomem(struct config_doc *d)
{
    d->cd_errors->dl_oom = true;
}

void config_doc_err_file(struct config_doc *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_addv(d->cd_errors, d->cd_file, 0, 0, "", fmt, ap);
    va_end(ap);
}

/* An error at the position json_position finds for `path` with `flags`,
 * or without a position when it finds none. */
static void config_doc_verr(struct config_doc *d, unsigned flags, const char *path, const char *fmt,
                            va_list ap) __attribute__((format(printf, 4, 0)));

static void config_doc_verr(struct config_doc *d, unsigned flags, const char *path, const char *fmt,
                            va_list ap)
{
    struct json_position pos;
    size_t line = 0, col = 0;

    if (json_position_in_tape(&d->cd_tape, path, flags, &pos) >= 0) {
        line = pos.jp_line;
        col = pos.jp_column;
    }
    diag_addv(d->cd_errors, d->cd_file, line, col, path, fmt, ap);
}

void config_doc_err(struct config_doc *d, const char *path, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    config_doc_verr(d, JSON_POSITION_NEAREST, path, fmt, ap);
    va_end(ap);
}

void config_doc_err_key(struct config_doc *d, const char *path, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    config_doc_verr(d, JSON_POSITION_NEAREST | JSON_POSITION_KEY, path, fmt, ap);
    va_end(ap);
}

void config_doc_node_position(const struct config_doc *d, size_t node, struct json_position *pos)
{
    const struct json_tape *t = &d->cd_tape;

    json_position_at_offset(t->jt_src, t->jt_src_len, t->jt_nodes[node].tn_off, pos);
}

void config_doc_err_node(struct config_doc *d, size_t node, const char *path, const char *fmt, ...)
{
    struct json_position pos;
    va_list ap;

    config_doc_node_position(d, node, &pos);
    va_start(ap, fmt);
    diag_addv(d->cd_errors, d->cd_file, pos.jp_line, pos.jp_column, path, fmt, ap);
    va_end(ap);
}

const char *config_doc_type_name(const struct config_doc *d, size_t n)
{
    return json_tape_type_phrase(json_tape_type(&d->cd_tape, n));
}

bool config_doc_is_object(struct config_doc *d, size_t n, const char *path)
{
    if (json_tape_type(&d->cd_tape, n) == JSON_TAPE_OBJECT)
        return true;
    config_doc_err(d, path, "expected an object, got %s", config_doc_type_name(d, n));
    return false;
}

size_t config_doc_get(const struct config_doc *d, size_t obj, const char *key)
{
    return json_tape_object_get(&d->cd_tape, obj, key, strlen(key));
}

char *config_doc_string(struct config_doc *d, size_t n, const char *path, bool allow_empty)
{
    const struct json_tape *t = &d->cd_tape;
    size_t len;

    if (json_tape_type(t, n) != JSON_TAPE_STRING) {
        config_doc_err(d, path, "expected a string, got %s", config_doc_type_name(d, n));
        return NULL;
    }
    const char *s = json_tape_string(t, n, &len);
    if (len == 0 && !allow_empty) {
        config_doc_err(d, path, "must not be empty");
        return NULL;
    }
    if (memchr(s, '\0', len) != NULL) {
        config_doc_err(d, path, "must not contain U+0000");
        return NULL;
    }
    char *c = strndup(s, len);
    if (c == NULL)
        config_doc_nomem(d);
    return c;
}

char *config_doc_text(struct config_doc *d, size_t n, const char *path, size_t max)
{
    char *s = config_doc_string(d, n, path, true);
    if (s == NULL)
        return NULL;
    size_t len = strlen(s);
    const char *why = NULL;
    if (len > max)
        why = "longer than the limit";
    else if (!utf8_valid(s, len))
        why = "not UTF-8";
    for (size_t i = 0; why == NULL && i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            why = "control";
    if (why == NULL)
        return s;
    free(s);
    if (why[0] == 'l')
        config_doc_err(d, path, "is %zu bytes long; at most %zu bytes", len, max);
    else if (why[0] == 'n')
        config_doc_err(d, path, "is not valid UTF-8");
    else
        config_doc_err(d, path, "must be one line of text (no control characters)");
    return NULL;
}

char *config_doc_description(struct config_doc *d, size_t obj, const char *path)
{
    size_t v = config_doc_get(d, obj, "description");
    if (v == JSON_TAPE_NONE)
        return NULL;
    char *p = config_doc_pointer_lit(path, "description");
    if (p == NULL) {
        config_doc_nomem(d);
        return NULL;
    }
    char *text = config_doc_text(d, v, p, CONFIG_DESCRIPTION_MAX);
    free(p);
    if (text != NULL && text[0] == '\0') {
        free(text);
        text = NULL;
    }
    return text;
}

char *config_doc_path(struct config_doc *d, size_t n, const char *path)
{
    char *s = config_doc_string(d, n, path, false);
    if (s == NULL)
        return NULL;
    char *file = config_doc_join(d->cd_dir, s);
    free(s);
    if (file == NULL)
        config_doc_nomem(d);
    return file;
}

char *config_doc_pointer(const char *parent, const char *key, size_t keylen)
{
    size_t plen = strlen(parent), extra = 0;

    for (size_t i = 0; i < keylen; i++)
        extra += key[i] == '~' || key[i] == '/';
    char *p = malloc(plen + 1 + keylen + extra + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, parent, plen);
    size_t o = plen;
    p[o++] = '/';
    for (size_t i = 0; i < keylen; i++) {
        if (key[i] == '~') {
            p[o++] = '~';
            p[o++] = '0';
        } else if (key[i] == '/') {
            p[o++] = '~';
            p[o++] = '1';
        } else {
            p[o++] = key[i];
        }
    }
    p[o] = '\0';
    return p;
}

char *config_doc_pointer_lit(const char *parent, const char *key)
{
    return config_doc_pointer(parent, key, strlen(key));
}

char *config_doc_pointer_index(const char *parent, size_t i)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%zu", parent, i) < 0)
        return NULL;
    return p;
}

char *config_doc_join(const char *dir, const char *name)
{
    char *p = NULL;

    if (name[0] == '/' || dir[0] == '\0')
        return strdup(name);
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    return p;
}
