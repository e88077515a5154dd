/*
 * schema_docs: local JSON documents for "$ref", read only inside allowed
 * directories. Prefix: schema_docs_ (public), sd_ (static helpers).
 */
#include "ssemon/config/schema_docs.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ssemon/base/file.h"
#include "ssemon/base/numfmt.h"
#include "ssemon/base/utf8.h"
#include "ssemon/json/json_position.h"
#include "ssemon/json/json_uri.h"

#define SD_DEFAULT_PHRASE "the allowed directories"

struct sd_doc {
    struct schema_docs_doc sd_pub; /* points into the strings below */
    char *sd_file;
    char *sd_uri;
    char *sd_file_uri; /* the file URI of sd_real */
    char *sd_id;
    char *sd_real;
    char *sd_text; /* the text parsed (after a byte order mark) */
    size_t sd_len;
    json_t *sd_json;
};

struct schema_docs {
    char *sd_phrase;
    char *sd_dirs[SCHEMA_DOCS_MAX_DIRS];
    size_t sd_ndirs;
    struct sd_doc *sd_docs[SCHEMA_DOCS_MAX_DOCS];
    size_t sd_ndocs;
    size_t sd_bytes; /* text kept, in all */
};

/* Why reading a document failed: a position when the text is not JSON. */
struct sd_error {
    size_t se_line;
    size_t se_column;
    char se_msg[512];
};

static void sd_errorf(struct sd_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sd_errorf(struct sd_error *e, const char *fmt, ...)
{
    va_list ap;

    e->se_line = 0;
    e->se_column = 0;
    va_start(ap, fmt);
    vsnprintf(e->se_msg, sizeof(e->se_msg), fmt, ap);
    va_end(ap);
}

static void sd_why(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sd_why(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || cap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

/* ---- the set ---- */

struct schema_docs *schema_docs_new(const char *dirs_phrase)
{
    struct schema_docs *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    d->sd_phrase = strdup(dirs_phrase != NULL ? dirs_phrase : SD_DEFAULT_PHRASE);
    if (d->sd_phrase == NULL) {
        free(d);
        return NULL;
    }
    return d;
}

static void sd_doc_free(struct sd_doc *doc)
{
    if (doc == NULL)
        return;
    free(doc->sd_file);
    free(doc->sd_uri);
    free(doc->sd_file_uri);
    free(doc->sd_id);
    free(doc->sd_real);
    free(doc->sd_text);
    json_decref(doc->sd_json);
    free(doc);
}

void schema_docs_free(struct schema_docs *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->sd_ndirs; i++)
        free(d->sd_dirs[i]);
    for (size_t i = 0; i < d->sd_ndocs; i++)
        sd_doc_free(d->sd_docs[i]);
    free(d->sd_phrase);
    free(d);
}

/* ---- directories ---- */

int schema_docs_allow_dir(struct schema_docs *d, const char *dir, char *why, size_t cap)
{
    struct stat st;
    char *real = realpath(dir, NULL);

    if (real == NULL) {
        sd_why(why, cap, "%s: %s", dir, errno == ENOMEM ? "out of memory" : strerror(errno));
        return -1;
    }
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        sd_why(why, cap, "%s: not a directory", dir);
        free(real);
        return -1;
    }
    for (size_t i = 0; i < d->sd_ndirs; i++) {
        if (strcmp(d->sd_dirs[i], real) == 0) {
            free(real);
            return 0;
        }
    }
    if (d->sd_ndirs == SCHEMA_DOCS_MAX_DIRS) {
        sd_why(why, cap, "%s: more than %d directories", dir, SCHEMA_DOCS_MAX_DIRS);
        free(real);
        return -1;
    }
    d->sd_dirs[d->sd_ndirs++] = real;
    return 0;
}

int schema_docs_allow_dir_of(struct schema_docs *d, const char *file, char *why, size_t cap)
{
    char *real = realpath(file, NULL);

    if (real == NULL) {
        sd_why(why, cap, "%s: %s", file, errno == ENOMEM ? "out of memory" : strerror(errno));
        return -1;
    }
    char *slash = strrchr(real, '/');
    if (slash == real)
        slash[1] = '\0'; /* a file in "/" */
    else if (slash != NULL)
        *slash = '\0';
    int rc = schema_docs_allow_dir(d, real, why, cap);
    free(real);
    return rc;
}

/* Whether a resolved path is inside a resolved directory. */
static bool sd_inside(const char *dir, const char *real)
{
    size_t n = strlen(dir);

    if (strcmp(dir, "/") == 0)
        return real[0] == '/';
    return strncmp(dir, real, n) == 0 && real[n] == '/';
}

static bool sd_admits_real(const struct schema_docs *d, const char *real)
{
    for (size_t i = 0; i < d->sd_ndirs; i++)
        if (sd_inside(d->sd_dirs[i], real))
            return true;
    return false;
}

bool schema_docs_admits(const struct schema_docs *d, const char *path)
{
    char *real = realpath(path, NULL);

    if (real == NULL)
        return false;
    bool ok = sd_admits_real(d, real);
    free(real);
    return ok;
}

/* ---- file URIs ---- */

static bool sd_uri_plain(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-._~/!$&'()*+,;=:@", c) != NULL;
}

int schema_docs_uri_from_path(const char *path, char *uri, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    if (path == NULL || path[0] != '/' || cap < sizeof("file://"))
        return -1;
    memcpy(uri, "file://", 7);
    o = 7;
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        if (sd_uri_plain(*p)) {
            if (o + 1 >= cap)
                return -1;
            uri[o++] = (char)*p;
        } else {
            if (o + 3 >= cap)
                return -1;
            uri[o++] = '%';
            uri[o++] = hex[*p >> 4];
            uri[o++] = hex[*p & 0xF];
        }
    }
    uri[o] = '\0';
    return 0;
}

int schema_docs_path_from_uri(const char *uri, char *path, size_t cap, char *why, size_t cap_why)
{
    if (json_uri_scheme_len(uri, strlen(uri)) != 4 || strncasecmp(uri, "file", 4) != 0) {
        sd_why(why, cap_why, "not a file: URI");
        return -1;
    }
    const char *p = uri + 5;
    if (p[0] == '/' && p[1] == '/') {
        const char *host = p + 2, *end = strchr(host, '/');
        size_t hn = end != NULL ? (size_t)(end - host) : strlen(host);
        if (end == NULL || (hn != 0 && !(hn == 9 && strncasecmp(host, "localhost", 9) == 0))) {
            sd_why(why, cap_why, "a file: URI naming another host: only local files are read");
            return -1;
        }
        p = end;
    }
    if (p[0] != '/') {
        sd_why(why, cap_why, "not an absolute file: URI (file:///PATH)");
        return -1;
    }
    size_t o = 0;
    for (; *p != '\0' && *p != '#'; p++) {
        char c = *p;
        if (c == '?') {
            sd_why(why, cap_why, "a file: URI with a query");
            return -1;
        }
        if (c == '%') {
            int hi = numfmt_hex_digit(p[1]), lo = hi < 0 ? -1 : numfmt_hex_digit(p[2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                sd_why(why, cap_why, "a malformed percent-escape in a file: URI");
                return -1;
            }
            c = (char)(hi * 16 + lo);
            p += 2;
        }
        if (o + 1 >= cap) {
            sd_why(why, cap_why, "a file: URI too long");
            return -1;
        }
        path[o++] = c;
    }
    path[o] = '\0';
    return 0;
}

/* ---- documents ---- */

/* The length of `uri` without its fragment. */
static size_t sd_base_len(const char *uri)
{
    const char *hash = strchr(uri, '#');

    return hash != NULL ? (size_t)(hash - uri) : strlen(uri);
}

static bool sd_same(const char *known, const char *uri, size_t n)
{
    return known != NULL && strlen(known) == n && strncmp(known, uri, n) == 0;
}

const struct schema_docs_doc *schema_docs_find(const struct schema_docs *d, const char *uri)
{
    if (uri == NULL)
        return NULL;
    size_t n = sd_base_len(uri);
    for (size_t i = 0; i < d->sd_ndocs; i++) {
        const struct sd_doc *doc = d->sd_docs[i];
        if (sd_same(doc->sd_uri, uri, n) || sd_same(doc->sd_file_uri, uri, n) ||
            sd_same(doc->sd_id, uri, n))
            return &doc->sd_pub;
    }
    return NULL;
}

static struct sd_doc *sd_find_real(const struct schema_docs *d, const char *real)
{
    for (size_t i = 0; i < d->sd_ndocs; i++)
        if (d->sd_docs[i]->sd_real != NULL && strcmp(d->sd_docs[i]->sd_real, real) == 0)
            return d->sd_docs[i];
    return NULL;
}

size_t schema_docs_count(const struct schema_docs *d)
{
    return d->sd_ndocs;
}

const struct schema_docs_doc *schema_docs_at(const struct schema_docs *d, size_t i)
{
    return i < d->sd_ndocs ? &d->sd_docs[i]->sd_pub : NULL;
}

/* The root's "$id" when it is an absolute URI with no fragment but an
 * empty one (a base URI), as a copy; NULL otherwise (or out of memory). */
static char *sd_absolute_id(const json_t *doc)
{
    const char *id = json_string_value(json_object_get(doc, "$id"));

    if (id == NULL || json_uri_scheme_len(id, strlen(id)) == 0)
        return NULL;
    size_t n = sd_base_len(id);
    if (id[n] == '#' && id[n + 1] != '\0')
        return NULL;
    return strndup(id, n);
}

/* Reads and parses the file at `real` (already resolved) into a new
 * document named `file`. Returns NULL with *e set. */
static struct sd_doc *sd_read(struct schema_docs *d, const char *file, const char *real,
                              struct sd_error *e)
{
    struct file_error ferr;
    json_error_t jerr;
    char why[256];
    size_t len;

    if (d->sd_ndocs == SCHEMA_DOCS_MAX_DOCS) {
        sd_errorf(e, "more than %d documents", SCHEMA_DOCS_MAX_DOCS);
        return NULL;
    }
    char *text = file_read(real, SCHEMA_DOCS_MAX_BYTES, FILE_REGULAR, &len, &ferr);
    if (text == NULL) {
        file_error_text(&ferr, why, sizeof(why));
        sd_errorf(e, "%s", why);
        return NULL;
    }
    if (len > SCHEMA_DOCS_MAX_TOTAL_BYTES - d->sd_bytes) {
        sd_errorf(e, "more than %zu bytes of documents in all", SCHEMA_DOCS_MAX_TOTAL_BYTES);
        free(text);
        return NULL;
    }
    size_t bom = utf8_bom_len(text, len);
    if (bom > 0) {
        memmove(text, text + bom, len - bom + 1);
        len -= bom;
    }
    json_t *json = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (json == NULL) {
        sd_errorf(e, "invalid JSON: %s", jerr.text);
        e->se_line = jerr.line > 0 ? (size_t)jerr.line : 1;
        e->se_column = jerr.column > 0 ? (size_t)jerr.column : 1;
        free(text);
        return NULL;
    }
    struct sd_doc *doc = calloc(1, sizeof(*doc));
    char furi[SCHEMA_DOCS_URI_MAX];
    if (doc == NULL || schema_docs_uri_from_path(real, furi, sizeof(furi)) < 0) {
        sd_errorf(e, doc == NULL ? "out of memory" : "path too long for a URI");
        free(doc);
        free(text);
        json_decref(json);
        return NULL;
    }
    doc->sd_text = text;
    doc->sd_len = len;
    doc->sd_json = json;
    doc->sd_file = strdup(file);
    doc->sd_real = strdup(real);
    doc->sd_file_uri = strdup(furi);
    if (doc->sd_file == NULL || doc->sd_real == NULL || doc->sd_file_uri == NULL) {
        sd_errorf(e, "out of memory");
        sd_doc_free(doc);
        return NULL;
    }
    return doc;
}

/* Gives the document its URI and enters it into the set. */
static int sd_enter(struct schema_docs *d, struct sd_doc *doc, const char *uri, bool by_id,
                    struct sd_error *e)
{
    /* Known without its (empty) fragment, as URIs are looked up. */
    doc->sd_uri = uri != NULL ? strndup(uri, sd_base_len(uri)) : strdup(doc->sd_file_uri);
    if (doc->sd_uri == NULL) {
        sd_errorf(e, "out of memory");
        return -1;
    }
    if (by_id)
        doc->sd_id = sd_absolute_id(doc->sd_json);
    doc->sd_pub.sdd_file = doc->sd_file;
    doc->sd_pub.sdd_uri = doc->sd_uri;
    doc->sd_pub.sdd_id = doc->sd_id;
    doc->sd_pub.sdd_doc = doc->sd_json;
    d->sd_docs[d->sd_ndocs++] = doc;
    d->sd_bytes += doc->sd_len;
    return 0;
}

const struct schema_docs_doc *schema_docs_add_file(struct schema_docs *d, const char *file,
                                                   const char *uri, struct diag_list *errors)
{
    struct sd_error e;
    char *real = realpath(file, NULL);

    if (real == NULL) {
        diag_addf(errors, file, 0, 0, "", "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct sd_doc *doc = sd_read(d, file, real, &e);
    free(real);
    if (doc == NULL) {
        diag_add(errors, file, e.se_line, e.se_column, "", e.se_msg);
        return NULL;
    }
    const char *at = uri != NULL ? uri : doc->sd_file_uri;
    if (schema_docs_find(d, at) != NULL) {
        diag_addf(errors, file, 0, 0, "", "a document is already registered at %s", at);
        sd_doc_free(doc);
        return NULL;
    }
    if (sd_enter(d, doc, uri, uri == NULL, &e) < 0) {
        diag_add(errors, file, 0, 0, "", e.se_msg);
        sd_doc_free(doc);
        return NULL;
    }
    return &doc->sd_pub;
}

/* Whether a scheme reaches over the network. */
static bool sd_network_scheme(const char *uri, size_t n)
{
    static const char *const schemes[] = {"http", "https", "ftp", "ftps", "ws", "wss"};

    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strlen(schemes[i]) == n && strncasecmp(uri, schemes[i], n) == 0)
            return true;
    return false;
}

const json_t *schema_docs_load(void *ctx, const char *uri, char *why, size_t cap)
{
    struct schema_docs *d = ctx;
    char base[SCHEMA_DOCS_URI_MAX], path[SCHEMA_DOCS_URI_MAX], reason[200];
    struct sd_error e;

    if (uri == NULL)
        uri = "";
    size_t n = sd_base_len(uri);
    if (n >= sizeof(base)) {
        sd_why(why, cap, "%.64s...: URI too long", uri);
        return NULL;
    }
    memcpy(base, uri, n);
    base[n] = '\0';
    const struct schema_docs_doc *known = schema_docs_find(d, base);
    if (known != NULL)
        return known->sdd_doc;
    size_t sn = json_uri_scheme_len(base, strlen(base));
    if (sn > 0 && sd_network_scheme(base, sn)) {
        sd_why(why, cap, "%s: only local files are read, never the network", base);
        return NULL;
    }
    if (sn != 4 || strncasecmp(base, "file", 4) != 0) {
        sd_why(why, cap, "%s: not a file: URI, and no document is registered at it", base);
        return NULL;
    }
    if (schema_docs_path_from_uri(base, path, sizeof(path), reason, sizeof(reason)) < 0) {
        sd_why(why, cap, "%s: %s", base, reason);
        return NULL;
    }
    char *real = realpath(path, NULL);
    if (real == NULL) {
        sd_why(why, cap, "%s: %s", path, errno == ENOENT ? "no such file" : strerror(errno));
        return NULL;
    }
    if (!sd_admits_real(d, real)) {
        sd_why(why, cap, "%s: outside %s", path, d->sd_phrase);
        free(real);
        return NULL;
    }
    struct sd_doc *doc = sd_find_real(d, real);
    if (doc != NULL) {
        free(real);
        return doc->sd_json;
    }
    doc = sd_read(d, path, real, &e);
    free(real);
    if (doc == NULL) {
        if (e.se_line > 0)
            sd_why(why, cap, "%s:%zu:%zu: %s", path, e.se_line, e.se_column, e.se_msg);
        else
            sd_why(why, cap, "%s: %s", path, e.se_msg);
        return NULL;
    }
    if (sd_enter(d, doc, base, true, &e) < 0) {
        sd_why(why, cap, "%s: %s", path, e.se_msg);
        sd_doc_free(doc);
        return NULL;
    }
    return doc->sd_json;
}

/* ---- errors ---- */

void schema_docs_locate(const struct schema_docs *d, const char *uri, const char *pointer,
                        const struct schema_docs_doc **doc, size_t *line, size_t *column)
{
    const struct sd_doc *found = NULL;
    struct json_position pos;

    *line = 0;
    *column = 0;
    if (uri == NULL || uri[0] == '\0') {
        found = d->sd_ndocs > 0 ? d->sd_docs[0] : NULL;
    } else {
        const struct schema_docs_doc *pub = schema_docs_find(d, uri);
        for (size_t i = 0; pub != NULL && i < d->sd_ndocs; i++)
            if (&d->sd_docs[i]->sd_pub == pub)
                found = d->sd_docs[i];
    }
    *doc = found != NULL ? &found->sd_pub : NULL;
    if (found == NULL || pointer == NULL)
        return;
    if (json_position_find(found->sd_text, found->sd_len, pointer,
                           JSON_POSITION_KEY | JSON_POSITION_NEAREST, &pos) >= 0) {
        *line = pos.jp_line;
        *column = pos.jp_column;
    }
}

void schema_docs_diag(const struct schema_docs *d, const char *uri, const char *pointer,
                      const char *message, struct diag_list *errors)
{
    const struct schema_docs_doc *doc;
    size_t line, column;

    schema_docs_locate(d, uri, pointer, &doc, &line, &column);
    const char *file = doc != NULL ? doc->sdd_file : (uri != NULL && uri[0] ? uri : "<schema>");
    diag_add(errors, file, line, column, pointer != NULL ? pointer : "", message);
}
