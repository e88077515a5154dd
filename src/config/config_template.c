#include "ssemon/config/config_template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/base/numfmt.h"
#include "ssemon/config/config_doc.h"

static unsigned config_template_u4(const char *s)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++)
        v = v * 16 + (unsigned)numfmt_hex_digit(s[i]);
    return v;
}

/* The source offset of byte `want` of the decoded string node `n`: the
 * walk decodes the escapes of its source (which the parser already
 * checked) and counts the bytes they stand for. */
static size_t config_template_source_offset(const struct config_doc *d, size_t n, size_t want)
{
    const struct json_tape *t = &d->cd_tape;
    const struct json_tape_node *nd = &t->jt_nodes[n];
    const char *src = t->jt_src;
    size_t i = nd->tn_off + 1, end = nd->tn_off + nd->tn_len - 1, got = 0;

    if (nd->tn_type != JSON_TAPE_STRING || nd->tn_len < 2)
        return nd->tn_off;
    while (i < end && got < want) {
        if (src[i] != '\\') {
            i++;
            got++;
            continue;
        }
        if (i + 1 < end && src[i + 1] != 'u') {
            i += 2;
            got++;
            continue;
        }
        if (i + 6 > end)
            break;
        unsigned cp = config_template_u4(src + i + 2);
        if (cp >= 0xd800 && cp < 0xdc00 && i + 12 <= end && src[i + 6] == '\\' &&
            src[i + 7] == 'u') {
            i += 12;
            got += 4;
        } else {
            i += 6;
            got += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
        }
    }
    return i;
}

static void config_template_err_at(struct config_doc *d, size_t n, const char *path, size_t off,
                                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void config_template_err_at(struct config_doc *d, size_t n, const char *path, size_t off,
                                   const char *fmt, ...)
{
    const struct json_tape *t = &d->cd_tape;
    struct json_position pos;
    va_list ap;

    json_position_at_offset(t->jt_src, t->jt_src_len, config_template_source_offset(d, n, off),
                            &pos);
    va_start(ap, fmt);
    diag_addv(d->cd_errors, d->cd_file, pos.jp_line, pos.jp_column, path, fmt, ap);
    va_end(ap);
}

struct template *config_template_compile(struct config_doc *d, size_t n, const char *path,
                                         const char *text, size_t len,
                                         config_template_known_fn known, void *ctx,
                                         const char *hint)
{
    struct template_error err;
    struct template *tp = template_compile(text, len, &err);

    if (tp == NULL) {
        if (errno == ENOMEM)
            config_doc_nomem(d);
        else
            config_template_err_at(d, n, path, err.te_offset, "invalid template: %s",
                                   err.te_message);
        return NULL;
    }
    bool ok = true;
    for (size_t i = 0; i < template_ref_count(tp); i++) {
        size_t off;
        const char *name = template_ref_name(tp, i, &off);
        if (known == NULL || !known(ctx, name)) {
            char q[DIAG_QUOTE_MAX];
            diag_quote(q, sizeof(q), name);
            config_template_err_at(d, n, path, off, "unknown template name '%s'; %s", q, hint);
            ok = false;
        }
    }
    if (!ok) {
        template_free(tp);
        return NULL;
    }
    return tp;
}

struct template *config_template_read(struct config_doc *d, size_t n, const char *path,
                                      config_template_known_fn known, void *ctx, const char *hint)
{
    char *s = config_doc_string(d, n, path, true);
    if (s == NULL)
        return NULL;
    struct template *tp = config_template_compile(d, n, path, s, strlen(s), known, ctx, hint);
    free(s);
    return tp;
}
