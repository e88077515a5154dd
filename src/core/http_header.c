#include "ssemon/core/http_header.h"

#include <stdlib.h>
#include <string.h>

static bool http_header_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static char http_header_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool http_header_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool http_header_is_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!http_header_is_tchar((unsigned char)s[i]))
            return false;
    }
    return true;
}

bool http_header_split(const char *line, size_t len, struct http_header_field *out)
{
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    const char *colon = memchr(line, ':', len);
    if (colon == NULL)
        return false;
    size_t name_len = (size_t)(colon - line);
    if (!http_header_is_token(line, name_len))
        return false;
    const char *v = colon + 1;
    const char *end = line + len;
    while (v < end && http_header_is_ows(*v))
        v++;
    while (end > v && http_header_is_ows(end[-1]))
        end--;
    out->hf_name = line;
    out->hf_name_len = name_len;
    out->hf_value = v;
    out->hf_value_len = (size_t)(end - v);
    return true;
}

bool http_header_name_eq(const char *name, size_t len, const char *lit)
{
    size_t i = 0;
    for (; i < len; i++) {
        if (lit[i] == '\0' || http_header_lower(name[i]) != http_header_lower(lit[i]))
            return false;
    }
    return lit[i] == '\0';
}

bool http_header_media_type_is(const char *value, size_t len, const char *essence)
{
    size_t i = 0;
    while (i < len && http_header_is_ows(value[i]))
        i++;
    size_t start = i;
    while (i < len && value[i] != ';' && !http_header_is_ows(value[i]))
        i++;
    if (!http_header_name_eq(value + start, i - start, essence))
        return false;
    while (i < len && http_header_is_ows(value[i]))
        i++;
    return i == len || value[i] == ';';
}

static bool http_header_is_scheme(const char *s, size_t len)
{
    if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '-' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

char *http_header_redact_url(const char *url)
{
    size_t len = strlen(url);
    size_t auth = 0;
    const char *sep = strstr(url, "://");
    if (sep != NULL && http_header_is_scheme(url, (size_t)(sep - url)))
        auth = (size_t)(sep - url) + 3;
    size_t auth_end = auth + strcspn(url + auth, "/?#");
    /* The last '@' ends the user-info: a password may itself contain '@'
     * when a careless user did not percent-encode it. */
    size_t at = auth_end;
    for (size_t i = auth; i < auth_end; i++) {
        if (url[i] == '@')
            at = i;
    }
    if (at == auth_end)
        return strdup(url);
    static const char mask[] = "***";
    size_t out_len = auth + (sizeof(mask) - 1) + (len - at);
    char *out = malloc(out_len + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, url, auth);
    memcpy(out + auth, mask, sizeof(mask) - 1);
    memcpy(out + auth + sizeof(mask) - 1, url + at, len - at + 1);
    return out;
}

bool http_header_arg_valid(const char *arg, const char **why)
{
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    if (strpbrk(arg, "\r\n") != NULL) {
        *why = "header must not contain CR or LF";
        return false;
    }
    const char *colon = strchr(arg, ':');
    if (colon == NULL) {
        *why = "header must look like 'Name: value'";
        return false;
    }
    if (colon == arg) {
        *why = "header name is empty";
        return false;
    }
    if (!http_header_is_token(arg, (size_t)(colon - arg))) {
        *why = "header name has characters not allowed in an HTTP token";
        return false;
    }
    for (const char *v = colon + 1; *v != '\0'; v++) {
        unsigned char c = (unsigned char)*v;
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            *why = "header value has control characters";
            return false;
        }
    }
    return true;
}
