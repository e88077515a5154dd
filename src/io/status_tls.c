#include "ssemon/io/status_tls.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

struct status_tls {
    SSL_CTX *st_ctx;
};

/* `what` about `file`, with OpenSSL's reason for the last error. */
static void status_tls_fail(char *err, size_t err_size, const char *what, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    char reason[256] = "";
    if (e != 0)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    snprintf(err, err_size, "%s %s%s%s", what, file, reason[0] != '\0' ? ": " : "", reason);
}

struct status_tls *status_tls_new(const char *cert_file, const char *key_file,
                                  const char *client_ca_file, char *err, size_t err_size)
{
    ERR_clear_error();
    struct status_tls *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    t->st_ctx = SSL_CTX_new(TLS_server_method());
    if (t->st_ctx == NULL) {
        status_tls_fail(err, err_size, "cannot make a TLS context", "");
        status_tls_free(t);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(t->st_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(t->st_ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(t->st_ctx, cert_file) != 1) {
        status_tls_fail(err, err_size, "cannot load the certificate", cert_file);
        status_tls_free(t);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(t->st_ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        status_tls_fail(err, err_size, "cannot load the key", key_file);
        status_tls_free(t);
        return NULL;
    }
    if (SSL_CTX_check_private_key(t->st_ctx) != 1) {
        status_tls_fail(err, err_size, "the key does not match the certificate: key", key_file);
        status_tls_free(t);
        return NULL;
    }
    if (client_ca_file != NULL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca_file);
        if (names == NULL || SSL_CTX_load_verify_locations(t->st_ctx, client_ca_file, NULL) != 1) {
            if (names != NULL)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            status_tls_fail(err, err_size, "cannot load the client CA file", client_ca_file);
            status_tls_free(t);
            return NULL;
        }
        SSL_CTX_set_client_CA_list(t->st_ctx, names);
        SSL_CTX_set_verify(t->st_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return t;
}

void status_tls_free(struct status_tls *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->st_ctx);
    free(t);
}

struct bufferevent *status_tls_bufferevent(struct status_tls *t, struct event_base *base)
{
    SSL *ssl = SSL_new(t->st_ctx);
    if (ssl == NULL) {
        ERR_clear_error();
        return NULL;
    }
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    /* A client that closes without close_notify is just gone. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}
