#include "ssemon/config/diag.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/base/utf8.h"

/* Words or names longer than this are never suggested. */
#define DIAG_SUGGEST_MAX 48
/* A suggestion is at most this many edits away. */
#define DIAG_SUGGEST_EDITS 2
/* Escaped file names and pointers are cut to this many bytes. */
#define DIAG_NAME_MAX 512
/* A whole error line, and a message given as a format. */
#define DIAG_TEXT_MAX 2048
#define DIAG_MESSAGE_MAX 1536

void diag_list_init(struct diag_list *l, size_t max)
{
    memset(l, 0, sizeof(*l));
    l->dl_max = max;
}

void diag_list_free(struct diag_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->dl_n; i++)
        free((char *)l->dl_items[i].dg_file); /* the block holding all its strings */
    free(l->dl_items);
    memset(l, 0, sizeof(*l));
}

int diag_format(char *buf, size_t size, const char *file, size_t line, size_t column,
                const char *path, const char *message)
{
    bool has_path = path != NULL && path[0] != '\0';

    if (file == NULL)
        return snprintf(buf, size, "%s", message);
    if (line > 0 && has_path)
        return snprintf(buf, size, "%s:%zu:%zu: %s: %s", file, line, column, path, message);
    if (line > 0)
        return snprintf(buf, size, "%s:%zu:%zu: %s", file, line, column, message);
    if (has_path)
        return snprintf(buf, size, "%s: %s: %s", file, path, message);
    return snprintf(buf, size, "%s: %s", file, message);
}

/* Records one error, its strings in one block starting with the file name.
 * `force` ignores the cap (for the "more errors" line). */
static void diag_push(struct diag_list *l, const char *file, size_t line, size_t column,
                      const char *path, const char *message, bool force)
{
    char efile[DIAG_NAME_MAX], epath[DIAG_NAME_MAX], text[DIAG_TEXT_MAX];

    if (!force && l->dl_max > 0 && l->dl_n >= l->dl_max) {
        l->dl_dropped++;
        return;
    }
    diag_escape(efile, sizeof(efile), file, strlen(file), false);
    diag_escape(epath, sizeof(epath), path, strlen(path), false);
    diag_format(text, sizeof(text), efile, line, column, epath, message);

    if (l->dl_n == l->dl_cap) {
        size_t cap = l->dl_cap ? l->dl_cap * 2 : 8;
        struct diag *items = reallocarray(l->dl_items, cap, sizeof(*items));
        if (items == NULL) {
            l->dl_oom = true;
            return;
        }
        l->dl_items = items;
        l->dl_cap = cap;
    }
    size_t lf = strlen(efile) + 1, lp = strlen(epath) + 1, lm = strlen(message) + 1,
           lt = strlen(text) + 1;
    char *block = malloc(lf + lp + lm + lt);
    if (block == NULL) {
        l->dl_oom = true;
        return;
    }
    memcpy(block, efile, lf);
    memcpy(block + lf, epath, lp);
    memcpy(block + lf + lp, message, lm);
    memcpy(block + lf + lp + lm, text, lt);
    struct diag *d = &l->dl_items[l->dl_n++];
    d->dg_file = block;
    d->dg_path = block + lf;
    d->dg_message = block + lf + lp;
    d->dg_text = block + lf + lp + lm;
    d->dg_line = line;
    d->dg_column = column;
}

void diag_add(struct diag_list *l, const char *file, size_t line, size_t column, const char *path,
              const char *message)
{
    diag_push(l, file, line, column, path, message, false);
}

void diag_addv(struct diag_list *l, const char *file, size_t line, size_t column, const char *path,
               const char *fmt, va_list ap)
{
    char message[DIAG_MESSAGE_MAX];

    vsnprintf(message, sizeof(message), fmt, ap);
    diag_push(l, file, line, column, path, message, false);
}

void diag_addf(struct diag_list *l, const char *file, size_t line, size_t column, const char *path,
               const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_addv(l, file, line, column, path, fmt, ap);
    va_end(ap);
}

struct diag_sort_item {
    struct diag si_diag;
    size_t si_seq;
};

static int diag_sort_cmp(const void *pa, const void *pb)
{
    const struct diag_sort_item *a = pa, *b = pb;

    if (a->si_diag.dg_line != b->si_diag.dg_line)
        return a->si_diag.dg_line < b->si_diag.dg_line ? -1 : 1;
    if (a->si_diag.dg_column != b->si_diag.dg_column)
        return a->si_diag.dg_column < b->si_diag.dg_column ? -1 : 1;
    return a->si_seq < b->si_seq ? -1 : a->si_seq > b->si_seq;
}

void diag_list_finish(struct diag_list *l, const char *file)
{
    /* qsort is not stable: the sequence number keeps ties in the order
     * they were found. Without memory the list stays as found. */
    if (l->dl_n > 1) {
        struct diag_sort_item *s = calloc(l->dl_n, sizeof(*s));
        if (s != NULL) {
            for (size_t i = 0; i < l->dl_n; i++) {
                s[i].si_diag = l->dl_items[i];
                s[i].si_seq = i;
            }
            qsort(s, l->dl_n, sizeof(*s), diag_sort_cmp);
            for (size_t i = 0; i < l->dl_n; i++)
                l->dl_items[i] = s[i].si_diag;
            free(s);
        }
    }
    if (l->dl_dropped > 0) {
        char message[128];
        snprintf(message, sizeof(message), "%zu more error%s not shown", l->dl_dropped,
                 l->dl_dropped == 1 ? "" : "s");
        diag_push(l, file, 0, 0, "", message, true);
    }
}

void diag_escape(char *dst, size_t size, const char *s, size_t len, bool quoted)
{
    size_t o = 0;

    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        const char *piece = esc;
        size_t n = 1;
        if (c < 0x20 || c == 0x7f) {
            if (c == '\n')
                n = (size_t)snprintf(esc, sizeof(esc), "\\n");
            else if (c == '\t')
                n = (size_t)snprintf(esc, sizeof(esc), "\\t");
            else if (c == '\r')
                n = (size_t)snprintf(esc, sizeof(esc), "\\r");
            else
                n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
        } else if (quoted && (c == '"' || c == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else {
            piece = s + i;
            /* A lead byte and the continuation bytes after it are one
             * piece, valid or not: a cut never splits them. */
            if (c >= 0xC0)
                while (i + n < len && n < 4 && !utf8_is_lead((unsigned char)s[i + n]))
                    n++;
        }
        size_t consumed = piece == esc ? 1 : n;
        /* A piece that is not the last leaves room for "..." and the NUL,
         * so a cut can always be marked. */
        bool last = i + consumed >= len;
        if (o + n + (last ? 1 : 4) > size) {
            if (o + 4 <= size) {
                memcpy(dst + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(dst + o, piece, n);
        o += n;
        i += consumed;
    }
    if (size > 0)
        dst[o] = '\0';
}

void diag_quote(char *dst, size_t size, const char *s)
{
    diag_escape(dst, size, s, strlen(s), true);
}

/* Levenshtein distance of two short strings; anything longer than
 * DIAG_SUGGEST_MAX counts as far. */
static size_t diag_distance(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    size_t row[DIAG_SUGGEST_MAX + 1];

    if (alen > DIAG_SUGGEST_MAX || blen > DIAG_SUGGEST_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= blen; j++)
        row[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        size_t corner = row[0];
        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t up = row[j];
            size_t best = corner + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            corner = up;
        }
    }
    return row[blen];
}

void diag_suggest_init(struct diag_suggest *s, const char *word, size_t len)
{
    s->dsg_word = word;
    s->dsg_len = len;
    s->dsg_best = NULL;
    s->dsg_distance = DIAG_SUGGEST_EDITS + 1;
}

void diag_suggest_consider(struct diag_suggest *s, const char *candidate)
{
    size_t d = diag_distance(s->dsg_word, s->dsg_len, candidate);

    if (d < s->dsg_distance) {
        s->dsg_distance = d;
        s->dsg_best = candidate;
    }
}
