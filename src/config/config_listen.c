#include "ssemon/config/config_listen.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "ssemon/config/config_doc.h"

static bool config_listen_port(const char *s, unsigned *port)
{
    unsigned long v = 0;

    if (*s == '\0' || strlen(s) > 5)
        return false;
    for (const char *c = s; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return false;
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (v > 65535)
        return false;
    *port = (unsigned)v;
    return true;
}

bool config_listen_parse(const char *s, struct config_listen *out)
{
    memset(out, 0, sizeof(*out));
    if (strlen(s) >= sizeof(out->lis_text))
        return false;
    snprintf(out->lis_text, sizeof(out->lis_text), "%s", s);
    if (s[0] == '/') {
        struct sockaddr_un sun;
        if (strlen(s) >= sizeof(sun.sun_path) || strlen(s) >= sizeof(out->lis_path))
            return false;
        out->lis_kind = CONFIG_LISTEN_UNIX;
        snprintf(out->lis_path, sizeof(out->lis_path), "%s", s);
        return true;
    }
    const char *colon;
    unsigned char addr[sizeof(struct in6_addr)];
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(out->lis_host))
            return false;
        memcpy(out->lis_host, s + 1, (size_t)(close - s - 1));
        out->lis_host[close - s - 1] = '\0';
        if (inet_pton(AF_INET6, out->lis_host, addr) != 1)
            return false;
        out->lis_kind = CONFIG_LISTEN_INET6;
        return config_listen_port(close + 2, &out->lis_port);
    }
    colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= sizeof(out->lis_host))
        return false;
    memcpy(out->lis_host, s, (size_t)(colon - s));
    out->lis_host[colon - s] = '\0';
    if (inet_pton(AF_INET, out->lis_host, addr) != 1)
        return false;
    out->lis_kind = CONFIG_LISTEN_INET;
    return config_listen_port(colon + 1, &out->lis_port);
}

void config_listen_read(struct config_doc *d, size_t n, const char *path, struct config_listen *out)
{
    char *s = config_doc_string(d, n, path, false);
    if (s == NULL)
        return;
    struct config_listen lis;
    if (config_listen_parse(s, &lis)) {
        *out = lis;
    } else {
        char q[DIAG_QUOTE_MAX];
        diag_quote(q, sizeof(q), s);
        config_doc_err(d, path,
                       "invalid listen address \"%s\": use IPV4:PORT, [IPV6]:PORT (numeric, port 0 "
                       "to 65535) or an absolute unix socket path (at most %zu bytes)",
                       q, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
    }
    free(s);
}

bool config_listen_equal(const struct config_listen *a, const struct config_listen *b)
{
    return a->lis_kind == b->lis_kind && strcmp(a->lis_text, b->lis_text) == 0;
}
