/*
 * listen_addr: the address a local server listens on, as a user writes it:
 * "A.B.C.D:PORT", "[IPV6]:PORT" (numeric only: never looked up in DNS) or
 * an absolute unix socket path. The one parser behind the configuration's
 * "status.listen" and the status server. Pure core module.
 *
 * Ownership: a listen_addr is a value (fixed arrays, no pointers).
 */
#ifndef SSEMON_CORE_LISTEN_ADDR_H
#define SSEMON_CORE_LISTEN_ADDR_H

#include <stdbool.h>

enum listen_addr_kind {
    LISTEN_ADDR_INET = 0, /* "A.B.C.D:PORT" */
    LISTEN_ADDR_INET6,    /* "[ADDR]:PORT" */
    LISTEN_ADDR_UNIX,     /* "/path" */
};

/* The longest unix socket path (sun_path less its NUL). */
#define LISTEN_ADDR_PATH_MAX 107

struct listen_addr {
    enum listen_addr_kind la_kind;
    char la_text[128]; /* as written */
    char la_host[48];  /* numeric address without brackets; "" for a unix socket */
    unsigned la_port;  /* 0: any free port; 0 for a unix socket */
    char la_path[LISTEN_ADDR_PATH_MAX + 1]; /* unix socket path; "" otherwise */
};

/* Parses `s`; false when it is not a listen address (then *out is
 * cleared). The port is 0 to 65535, in decimal digits only. */
bool listen_addr_parse(const char *s, struct listen_addr *out);

/* Whether two addresses are the same, as written. */
bool listen_addr_equal(const struct listen_addr *a, const struct listen_addr *b);

/* Whether only this machine can reach `a`: a unix socket, an IPv4 address
 * in 127.0.0.0/8, IPv6 ::1, or an IPv4-mapped IPv6 address in 127.0.0.0/8.
 * Any other address (0.0.0.0 and :: included) is reachable from elsewhere. */
bool listen_addr_is_loopback(const struct listen_addr *a);

#endif
