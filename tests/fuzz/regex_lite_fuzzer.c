/*
 * Differential: every pattern regex_lite accepts must be a valid ERE, and on
 * every subject it must agree with regexec (unless it says "unknown").
 * Input: pattern, a 0xFF byte, subject.
 */
#include "ssemon/json/regex_lite.h"

#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0xFF, size);
    if (sep == NULL || size > 4096)
        return 0;
    size_t plen = (size_t)(sep - data);
    if (memchr(data, 0, plen) != NULL)
        return 0;
    char *pattern = malloc(plen + 1);
    size_t slen = size - plen - 1;
    char *subject = malloc(slen + 1);
    if (pattern == NULL || subject == NULL)
        abort();
    memcpy(pattern, data, plen);
    pattern[plen] = '\0';
    memcpy(subject, sep + 1, slen);
    subject[slen] = '\0';

    struct regex_lite *lite = regex_lite_compile(pattern);
    if (lite != NULL) {
        regex_t re;
        if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
            abort(); /* accepted a pattern regcomp rejects */
        enum regex_lite_result r = regex_lite_match(lite, subject, slen);
        if (r != REGEX_LITE_UNKNOWN && memchr(subject, 0, slen) == NULL) {
            int want = regexec(&re, subject, 0, NULL, 0) == 0;
            if ((r == REGEX_LITE_MATCH) != want)
                abort();
        }
        regfree(&re);
        regex_lite_free(lite);
    }
    free(pattern);
    free(subject);
    return 0;
}
