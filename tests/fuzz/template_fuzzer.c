/*
 * libFuzzer target for core/template: arbitrary bytes as a template text
 * must never crash or leak; a text that compiles has references whose
 * names are valid and whose offsets point at a "${" of the text, and
 * expands (every name as "<NAME>") to something within the output bound;
 * a text that does not compile says where, inside the text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/core/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "template promise broken: %s\n", what);
    abort();
}

static const char *fuzz_lookup(void *ctx, const char *name)
{
    char *buf = ctx;
    snprintf(buf, TEMPLATE_NAME_MAX + 3, "<%s>", name);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct template_error err;
    struct template *t = template_compile(text, size, &err);

    if (t == NULL) {
        fuzz_check(errno == ENOMEM || err.te_offset + 1 < size, "error offset inside the text");
        fuzz_check(errno == ENOMEM ||
                       (text[err.te_offset] == '$' && text[err.te_offset + 1] == '{'),
                   "error at a \"${\"");
        return 0;
    }
    fuzz_check(memcmp(template_text(t), text, size) == 0 && template_text(t)[size] == '\0',
               "text kept");
    for (size_t i = 0; i < template_ref_count(t); i++) {
        size_t off;
        const char *name = template_ref_name(t, i, &off);
        size_t len = strlen(name);
        fuzz_check(len >= 1 && len <= TEMPLATE_NAME_MAX, "name length");
        fuzz_check(off + len + 3 <= size && memcmp(text + off, "${", 2) == 0 &&
                       memcmp(text + off + 2, name, len) == 0 && text[off + 2 + len] == '}',
                   "reference offset");
        fuzz_check(template_uses(t, name), "uses");
    }
    char buf[TEMPLATE_NAME_MAX + 3];
    size_t len = 0;
    char *out = template_expand(t, fuzz_lookup, buf, NULL, &len);
    fuzz_check(out != NULL || errno == E2BIG || errno == ENOMEM, "expands");
    if (out != NULL)
        fuzz_check(len <= TEMPLATE_OUT_MAX && strlen(out) <= len, "bounded output");
    free(out);
    template_free(t);
    return 0;
}
