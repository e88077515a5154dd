/*
 * config_secret: the secret header values of the configuration. A value
 * read from a systemd credential ({"credential": NAME}, a file in
 * $CREDENTIALS_DIRECTORY) or a file ({"file": PATH}) is secret, and so is
 * any value of Authorization, Proxy-Authorization or Cookie. Secrets are
 * never quoted in an error, shown as <redacted> in logs, and wiped before
 * their memory is freed. Config-layer module.
 *
 * Ownership: config_secret_read returns a string the caller owns and
 * frees with config_secret_free.
 */
#ifndef SSEMON_CONFIG_CONFIG_SECRET_H
#define SSEMON_CONFIG_CONFIG_SECRET_H

#include <stdbool.h>
#include <stddef.h>

struct config_doc;

/* A header value read from a credential or file is at most this long. */
#define CONFIG_SECRET_MAX_BYTES ((size_t)64 << 10)

/* Whether a header's value is secret whatever its source (`name` in any
 * case). */
bool config_secret_header(const char *name);

/* The value {"credential": NAME} or {"file": PATH} (object `obj` at
 * `path`) names: one line, its line end removed. Returns it, or NULL after
 * reporting why (the keys, the name, the file, an empty or multi-line
 * value). */
char *config_secret_read(struct config_doc *d, size_t obj, const char *path);

/* The file {"credential": NAME} or {"file": PATH} (object `obj` at
 * `path`) names, for a reader that opens it itself (a TLS client key):
 * its path (malloc'ed; relative files joined to the configuration's
 * directory, credentials to $CREDENTIALS_DIRECTORY), checked to be a
 * readable regular file, or NULL after reporting why. */
char *config_secret_path(struct config_doc *d, size_t obj, const char *path);

/* Wipes and frees a string that may hold a secret; NULL is ignored. */
void config_secret_free(char *s);

#endif
