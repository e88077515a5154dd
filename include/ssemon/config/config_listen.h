/*
 * config_listen: the address the status endpoint listens on ("status":
 * {"listen": ...}): numeric IPv4 or IPv6 with a port, or an absolute unix
 * socket path. Config-layer module.
 *
 * Ownership: a config_listen is a value (fixed arrays, no pointers).
 */
#ifndef SSEMON_CONFIG_CONFIG_LISTEN_H
#define SSEMON_CONFIG_CONFIG_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

struct config_doc;

#define CONFIG_DEFAULT_LISTEN "127.0.0.1:9464"

enum config_listen_kind {
    CONFIG_LISTEN_INET = 0, /* "A.B.C.D:PORT" */
    CONFIG_LISTEN_INET6,    /* "[ADDR]:PORT" */
    CONFIG_LISTEN_UNIX,     /* "/path" */
};

/* The status endpoint's address, validated. */
struct config_listen {
    enum config_listen_kind lis_kind;
    char lis_text[128]; /* as written: what status_server_new takes */
    char lis_host[48];  /* numeric address without brackets; "" for a unix socket */
    unsigned lis_port;  /* 0: any free port (tests); 0 for a unix socket */
    char lis_path[108]; /* unix socket path; "" otherwise */
};

/* Parses a listen address; false when it is not one. */
bool config_listen_parse(const char *s, struct config_listen *out);

/* Reads the listen address at node `n` (at `path`) into *out, or reports
 * why it is not one and leaves *out alone. */
void config_listen_read(struct config_doc *d, size_t n, const char *path,
                        struct config_listen *out);

/* Whether two addresses are the same, as written. */
bool config_listen_equal(const struct config_listen *a, const struct config_listen *b);

#endif
