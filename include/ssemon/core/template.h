/*
 * template: text with "${NAME}" references, compiled once and expanded
 * many times (probe triggers, per-attempt subscription URLs). Pure core
 * module: no I/O, no globals; the values come from the caller's lookup.
 *
 * Syntax: "${NAME}" is a reference, NAME 1..TEMPLATE_NAME_MAX bytes of
 * [A-Za-z0-9_.-] (so "subscriptions.gw-main.request_id" is one name);
 * "$${" is a literal "${"; any other '$' is literal. An unterminated
 * "${", an empty or invalid NAME is an error at the offset of its "${".
 * Values are inserted verbatim: quoting for a context (JSON, URLs) is the
 * caller's.
 *
 * Ownership: a template owns a copy of its text and its names
 * (template_free); template_expand returns a string the caller frees.
 * Cost: compiling and expanding are linear in the text and the output,
 * which TEMPLATE_OUT_MAX bounds.
 */
#ifndef SSEMON_CORE_TEMPLATE_H
#define SSEMON_CORE_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of a NAME. */
#define TEMPLATE_NAME_MAX 128
/* An expansion longer than this fails (E2BIG). */
#define TEMPLATE_OUT_MAX ((size_t)64 << 10)

struct template;

/* Why a text did not compile. */
struct template_error {
    size_t te_offset;       /* offset into the text of the offending "${" */
    const char *te_message; /* static message */
};

/* Compiles `len` bytes of `text` (no NUL needed; an embedded NUL is
 * literal). Returns the template (template_free), or NULL with *err set,
 * or NULL with errno ENOMEM (err->te_message "out of memory"). */
struct template *template_compile(const char *text, size_t len, struct template_error *err);
/* NULL is ignored. */
void template_free(struct template *t);

/* The original text, a NUL-terminated copy. */
const char *template_text(const struct template *t);
/* Length of the original text. */
size_t template_text_len(const struct template *t);
size_t template_ref_count(const struct template *t);
/* Name of reference i (NUL-terminated); *offset (if not NULL) = offset of
 * its "${" in the text. */
const char *template_ref_name(const struct template *t, size_t i, size_t *offset);
/* Whether some reference has this name. */
bool template_uses(const struct template *t, const char *name);

/* The value of `name`, or NULL when the name is unknown. The string must
 * stay valid until template_expand returns. */
typedef const char *(*template_lookup_fn)(void *ctx, const char *name);

/* Expands into a malloc'ed NUL-terminated string (its length in *len_out
 * if not NULL). NULL with errno ENOENT and *missing (if not NULL) = the
 * name lookup did not know; ENOMEM; E2BIG past TEMPLATE_OUT_MAX. A
 * template without references needs no lookup (it may be NULL). */
char *template_expand(const struct template *t, template_lookup_fn lookup, void *ctx,
                      const char **missing, size_t *len_out);

#endif
