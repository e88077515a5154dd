#include "ssemon/core/listen_addr.h"

#include <arpa/inet.h>
#include <string.h>

static bool listen_addr_port(const char *s, unsigned *port)
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

/* Copies s[0..len) into the host field, if it fits. */
static bool listen_addr_host(struct listen_addr *out, const char *s, size_t len)
{
    if (len >= sizeof(out->la_host))
        return false;
    memcpy(out->la_host, s, len);
    out->la_host[len] = '\0';
    return true;
}

static bool listen_addr_parse_into(const char *s, struct listen_addr *out)
{
    size_t len = strlen(s);
    unsigned char addr[sizeof(struct in6_addr)];

    if (len >= sizeof(out->la_text))
        return false;
    memcpy(out->la_text, s, len + 1);
    if (s[0] == '/') {
        if (len > LISTEN_ADDR_PATH_MAX)
            return false;
        out->la_kind = LISTEN_ADDR_UNIX;
        memcpy(out->la_path, s, len + 1);
        return true;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':' ||
            !listen_addr_host(out, s + 1, (size_t)(close - s - 1)))
            return false;
        if (inet_pton(AF_INET6, out->la_host, addr) != 1)
            return false;
        out->la_kind = LISTEN_ADDR_INET6;
        return listen_addr_port(close + 2, &out->la_port);
    }
    const char *colon = strrchr(s, ':');
    if (colon == NULL || !listen_addr_host(out, s, (size_t)(colon - s)))
        return false;
    if (inet_pton(AF_INET, out->la_host, addr) != 1)
        return false;
    out->la_kind = LISTEN_ADDR_INET;
    return listen_addr_port(colon + 1, &out->la_port);
}

bool listen_addr_parse(const char *s, struct listen_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (listen_addr_parse_into(s, out))
        return true;
    memset(out, 0, sizeof(*out));
    return false;
}

bool listen_addr_equal(const struct listen_addr *a, const struct listen_addr *b)
{
    return a->la_kind == b->la_kind && strcmp(a->la_text, b->la_text) == 0;
}

bool listen_addr_is_loopback(const struct listen_addr *a)
{
    unsigned char b[16];
    switch (a->la_kind) {
    case LISTEN_ADDR_UNIX:
        return true;
    case LISTEN_ADDR_INET:
        return inet_pton(AF_INET, a->la_host, b) == 1 && b[0] == 127;
    case LISTEN_ADDR_INET6:
        if (inet_pton(AF_INET6, a->la_host, b) != 1)
            return false;
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        static const unsigned char loop6[16] = {[15] = 1};
        return memcmp(b, loop6, 16) == 0 || (memcmp(b, v4mapped, 12) == 0 && b[12] == 127);
    }
    return false;
}
