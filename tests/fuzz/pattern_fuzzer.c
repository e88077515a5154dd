/*
 * pattern fuzzer. The input is a pattern (no NUL byte). pattern_compile must
 * answer quickly and within memory (libFuzzer's -timeout and -rss_limit_mb
 * catch a pattern the policy lets through to an expensive regcomp), say why
 * when it refuses, and hand over a regex_t that regexec can use (here on the
 * pattern's own text) when it accepts.
 */
#include "ssemon/json/pattern.h"

#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096 || memchr(data, 0, size) != NULL)
        return 0;
    char *src = malloc(size + 1);
    if (src == NULL)
        abort();
    memcpy(src, data, size);
    src[size] = '\0';

    regex_t re;
    char why[PATTERN_WHY_MAX];
    enum pattern_status st = pattern_compile(&re, src, why, sizeof(why));
    if (st == PATTERN_OK) {
        (void)regexec(&re, src, 0, NULL, 0);
        regfree(&re);
    } else if (st != PATTERN_REFUSED && st != PATTERN_TOO_COMPLEX && st != PATTERN_INVALID) {
        abort();
    } else if (memchr(why, '\0', sizeof(why)) == NULL || why[0] == '\0') {
        abort();
    }
    free(src);
    return 0;
}
