/*
 * status_tls: TLS for the status endpoint ("status": {"tls": {"cert_file",
 * "key_file", "client_ca_file"}}), the settings of Prometheus'
 * exporter-toolkit tls_server_config where they overlap: a certificate
 * chain and its key (PEM), TLS 1.2 or later, and with a client CA file,
 * every client must present a certificate it signed (client_auth_type
 * RequireAndVerifyClientCert). Built from the files when made, so a
 * configuration reload that makes a new one picks up renewed files; the
 * server's connections keep the context they began with (OpenSSL counts
 * its references). Io layer (libevent's bufferevent_openssl).
 *
 * Ownership: the object is the caller's (status_tls_free); a bufferevent
 * it made owns its SSL.
 */
#ifndef SSEMON_IO_STATUS_TLS_H
#define SSEMON_IO_STATUS_TLS_H

#include <stddef.h>

struct bufferevent;
struct event_base;
struct status_tls;

/* Loads the certificate chain, the key (checked to match) and, when
 * `client_ca_file` is not NULL, the CAs client certificates must chain to.
 * Returns NULL with a message naming the file in `err`. */
struct status_tls *status_tls_new(const char *cert_file, const char *key_file,
                                  const char *client_ca_file, char *err, size_t err_size);
void status_tls_free(struct status_tls *t);

/* A server-side TLS bufferevent for a connection evhttp will hand its
 * socket (fd -1 until then), the handshake to come; NULL on failure. */
struct bufferevent *status_tls_bufferevent(struct status_tls *t, struct event_base *base);

#endif
