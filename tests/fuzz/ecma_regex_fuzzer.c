/*
 * ecma_regex fuzzer. The input is a pattern, optionally followed by a NUL byte and a subject.
 * ecma_regex_compile must answer within bounded time and memory (libFuzzer's -timeout and
 * -rss_limit_mb catch what the translation or PCRE2 lets through), give *out only on success and
 * a reason otherwise; an accepted pattern is searched in the given subject, the pattern's own
 * text, a few hostile subjects (backtracking bait, non-BMP text, invalid UTF-8) and a 4 KiB one
 * made of copies of the pattern (the scan-guarded code), each search ending with one of the three
 * answers.
 */
#include "ssemon/json/ecma_regex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void search(const struct ecma_regex *re, const char *s, size_t len)
{
    enum ecma_regex_match m = ecma_regex_search(re, s, len);
    if (m != ECMA_REGEX_NO_MATCH && m != ECMA_REGEX_MATCH && m != ECMA_REGEX_LIMIT)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hostile[] = {
        "",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
        "\xf0\x9f\x90\xb2\xf0\x9f\x98\x80 \xc3\xa9\xd9\xa0\xe2\x80\xa8x\r\n_9",
        "a\xff\xc3(\xed\xa0\x80z\xf4\x90\x80\x80",
    };
    const char *src = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;

    struct ecma_regex *re = (struct ecma_regex *)&re;
    char why[ECMA_REGEX_WHY_MAX];
    memset(why, 0x55, sizeof(why));
    enum ecma_regex_status st = ecma_regex_compile(&re, src, plen, why, sizeof(why));
    if (st == ECMA_REGEX_OK) {
        if (re == NULL)
            abort();
        if (nul != NULL)
            search(re, (const char *)nul + 1, size - plen - 1);
        search(re, src, plen);
        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
            search(re, hostile[i], strlen(hostile[i]));
        /* long enough for the guarded code (ECMA_REGEX_GUARD_FROM) */
        static char long_subject[4096];
        size_t n = 0;
        for (size_t i = 0; n + plen + 1 <= sizeof(long_subject) && i < 64; i++) {
            memcpy(long_subject + n, src, plen);
            n += plen;
            long_subject[n++] = (char)('a' + i % 3);
        }
        memset(long_subject + n, 'a', sizeof(long_subject) - n);
        long_subject[sizeof(long_subject) - 1] = '!';
        search(re, long_subject, sizeof(long_subject));
        ecma_regex_free(re);
    } else if (st != ECMA_REGEX_INVALID && st != ECMA_REGEX_TOO_COSTLY) {
        abort();
    } else if (re != NULL || memchr(why, '\0', sizeof(why)) == NULL || why[0] == '\0') {
        abort();
    }
    return 0;
}
