#include "ssemon/config/config_secret.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssemon/base/file.h"
#include "ssemon/config/config_doc.h"
#include "ssemon/config/config_headers.h"
#include "ssemon/config/config_keys.h"

/* Header values shown as <redacted> whatever their source. */
static const char *const config_secret_headers[] = {"Authorization", "Proxy-Authorization",
                                                    "Cookie"};

bool config_secret_header(const char *name)
{
    for (size_t i = 0; i < sizeof(config_secret_headers) / sizeof(config_secret_headers[0]); i++)
        if (strcasecmp(name, config_secret_headers[i]) == 0)
            return true;
    return false;
}

void config_secret_free(char *s)
{
    if (s == NULL)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

/* systemd credential names: a file name in $CREDENTIALS_DIRECTORY. */
static bool config_secret_credential_name_ok(const char *name)
{
    return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0 && strlen(name) <= NAME_MAX;
}

/* Why a secret could not be read: the reader's reason, with the system's
 * own words for what failed in open or read. */
static void config_secret_why(const struct file_error *err, char *why, size_t size)
{
    if (err->fe_why == FILE_EOPEN || err->fe_why == FILE_EREAD)
        snprintf(why, size, "%s", strerror(err->fe_errno));
    else
        file_error_text(err, why, size);
}

/* Where {"credential": NAME} or {"file": PATH} (object `obj` at `path`)
 * points: the file's path (malloc'ed), or NULL after reporting why. Sets
 * *vpath (the pointer of the key given, malloc'ed, or NULL), *is_cred and
 * `q` (the name or path as written, quoted). */
static char *config_secret_where(struct config_doc *d, size_t obj, const char *path, char **vpath,
                                 bool *is_cred, char *q, size_t qsize)
{
    size_t cred = config_doc_get(d, obj, "credential");
    size_t file = config_doc_get(d, obj, "file");
    char *where = NULL, *name = NULL;

    *vpath = NULL;
    config_keys_check(d, obj, path, CONFIG_KEYS_SECRET);
    if ((cred == JSON_TAPE_NONE) == (file == JSON_TAPE_NONE)) {
        config_doc_err(d, path, "give exactly one of \"credential\" or \"file\"");
        return NULL;
    }
    *is_cred = cred != JSON_TAPE_NONE;
    *vpath = config_doc_pointer_lit(path, *is_cred ? "credential" : "file");
    if (*vpath == NULL) {
        config_doc_nomem(d);
        return NULL;
    }
    name = config_doc_string(d, *is_cred ? cred : file, *vpath, false);
    if (name == NULL)
        return NULL;
    diag_quote(q, qsize, name);
    if (*is_cred) {
        if (!config_secret_credential_name_ok(name)) {
            config_doc_err(d, *vpath, "invalid credential name \"%s\": a file name without '/'", q);
            goto out;
        }
        if (d->cd_cred_dir == NULL || d->cd_cred_dir[0] == '\0') {
            config_doc_err(d, *vpath,
                           "cannot read credential \"%s\": CREDENTIALS_DIRECTORY is not set "
                           "(systemd sets it for LoadCredential=)",
                           q);
            goto out;
        }
        where = config_doc_join(d->cd_cred_dir, name);
    } else {
        where = config_doc_join(d->cd_dir, name);
    }
    if (where == NULL)
        config_doc_nomem(d);
out:
    free(name);
    return where;
}

char *config_secret_path(struct config_doc *d, size_t obj, const char *path)
{
    char *vpath = NULL, q[DIAG_QUOTE_MAX], qw[DIAG_QUOTE_MAX];
    bool is_cred = false;
    char *where = config_secret_where(d, obj, path, &vpath, &is_cred, q, sizeof(q));
    if (where == NULL) {
        free(vpath);
        return NULL;
    }
    struct file_error ferr;
    if (file_check(where, FILE_REGULAR, &ferr) != 0) {
        char why[256];
        config_secret_why(&ferr, why, sizeof(why));
        diag_quote(qw, sizeof(qw), where);
        if (is_cred)
            config_doc_err(d, vpath, "cannot read credential \"%s\" (%s): %s", q, qw, why);
        else
            config_doc_err(d, vpath, "cannot read \"%s\": %s", qw, why);
        free(where);
        where = NULL;
    }
    free(vpath);
    return where;
}

char *config_secret_read(struct config_doc *d, size_t obj, const char *path)
{
    char *where = NULL, *src = NULL, *value = NULL, *vpath = NULL;
    char why[256], q[DIAG_QUOTE_MAX];
    size_t len = 0;
    bool is_cred = false;

    where = config_secret_where(d, obj, path, &vpath, &is_cred, q, sizeof(q));
    if (where == NULL)
        goto out;
    char qw[DIAG_QUOTE_MAX];
    diag_quote(qw, sizeof(qw), where);
    struct file_error ferr;
    src = file_read(where, CONFIG_SECRET_MAX_BYTES, FILE_REGULAR | FILE_SECRET, &len, &ferr);
    if (src == NULL) {
        config_secret_why(&ferr, why, sizeof(why));
        if (is_cred)
            config_doc_err(d, vpath, "cannot read credential \"%s\" (%s): %s", q, qw, why);
        else
            config_doc_err(d, vpath, "cannot read \"%s\": %s", qw, why);
        goto out;
    }
    /* Files written by editors and `echo` end with a newline that is not
     * part of the secret. */
    if (len > 0 && src[len - 1] == '\n') {
        src[--len] = '\0';
        if (len > 0 && src[len - 1] == '\r')
            src[--len] = '\0';
    }
    if (len == 0) {
        config_doc_err(d, vpath, "the value read from \"%s\" is empty", qw);
        goto out;
    }
    if (!config_headers_value_ok(src, len)) {
        config_doc_err(d, vpath,
                       "the value read from \"%s\" has a control character or line break (a "
                       "header value is one line)",
                       qw);
        goto out;
    }
    value = src;
    src = NULL;
out:
    if (src != NULL) {
        /* A NUL inside the value would stop a wipe by its length. */
        explicit_bzero(src, len);
        free(src);
    }
    free(where);
    free(vpath);
    return value;
}
