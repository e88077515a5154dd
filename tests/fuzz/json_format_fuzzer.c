/*
 * json_format fuzzer. The input, as it is (any bytes, NULs included), is
 * checked as every format: no crash, no read outside the input (ASan sees
 * libFuzzer's exact-size copy), bounded time (libFuzzer's -timeout). A few
 * relations between formats must also hold for any input:
 *   - a valid date-time is a valid date, "T", a valid time;
 *   - a valid uri is a valid uri-reference;
 *   - a valid ipv4 is a valid ipv6 after "::ffff:", and an email domain
 *     inside brackets;
 *   - a valid hostname is a valid email domain.
 */
#include "ssemon/json/json_format.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* prefix + data + suffix into a buffer of exactly that size, checked as f */
static bool wrapped(enum json_format f, const char *prefix, const uint8_t *data, size_t size,
                    const char *suffix)
{
    size_t p = strlen(prefix), q = strlen(suffix);
    char *buf = malloc(p + size + q);
    if (buf == NULL)
        abort();
    memcpy(buf, prefix, p);
    memcpy(buf + p, data, size);
    memcpy(buf + p + size, suffix, q);
    bool ok = json_format_check(f, buf, p + size + q);
    free(buf);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    const char *s = (const char *)data;
    bool valid[JSON_FORMAT_REGEX + 1] = {false};
    for (int f = JSON_FORMAT_DATE_TIME; f <= JSON_FORMAT_REGEX; f++)
        valid[f] = json_format_check((enum json_format)f, s, size);

    if (valid[JSON_FORMAT_DATE_TIME] && (!json_format_check(JSON_FORMAT_DATE, s, 10) ||
                                         !json_format_check(JSON_FORMAT_TIME, s + 11, size - 11)))
        abort();
    if (valid[JSON_FORMAT_URI] && !valid[JSON_FORMAT_URI_REFERENCE])
        abort();
    if (valid[JSON_FORMAT_IPV4] && (!wrapped(JSON_FORMAT_IPV6, "::ffff:", data, size, "") ||
                                    !wrapped(JSON_FORMAT_EMAIL, "a@[", data, size, "]")))
        abort();
    if (valid[JSON_FORMAT_HOSTNAME] && !wrapped(JSON_FORMAT_EMAIL, "a@", data, size, ""))
        abort();
    if (!valid[JSON_FORMAT_REGEX])
        abort();
    return 0;
}
