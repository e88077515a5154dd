/*
 * config_listen: the address the status endpoint listens on ("status":
 * {"listen": ...}): numeric IPv4 or IPv6 with a port, or an absolute unix
 * socket path, parsed by core/listen_addr. Config-layer module.
 */
#ifndef SSEMON_CONFIG_CONFIG_LISTEN_H
#define SSEMON_CONFIG_CONFIG_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "ssemon/core/listen_addr.h"

struct config_doc;

#define CONFIG_DEFAULT_LISTEN "127.0.0.1:9464"

/* Reads the listen address at node `n` (at `path`) into *out, or reports
 * why it is not one and leaves *out alone. */
void config_listen_read(struct config_doc *d, size_t n, const char *path, struct listen_addr *out);

#endif
