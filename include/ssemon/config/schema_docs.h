/*
 * schema_docs: the local JSON documents a schema may refer to with "$ref"
 * (the backend's OpenAPI document beside a contract, a schema file beside
 * another), read from disk only inside a set of allowed directories, never
 * from the network. Config-layer module (file I/O): used by `ssemon
 * validate` and by contract loading.
 *
 * A set holds:
 * - the allowed directories, each resolved with realpath(3); a file is
 *   admitted only when its own realpath (symbolic links followed) is inside
 *   one of them, so neither "../" nor a link leads out;
 * - the documents, each read once (at most SCHEMA_DOCS_MAX_BYTES bytes, at
 *   most SCHEMA_DOCS_MAX_DOCS of them), a UTF-8 byte order mark at its start
 *   skipped as configuration and contract files skip it (positions count
 *   from the character after it), parsed by jansson (duplicate keys and
 *   "\u0000" in strings refused, as in contract files; any JSON value
 *   admitted, so `true` is a schema document), its text kept
 *   so that a JSON pointer into it can be turned into a line and column
 *   (json_position) when there is an error.
 *
 * A document is known by its URI. A file registered without a URI is known
 * by its file URI (RFC 8089 "file:///abs/path", from its realpath,
 * percent-encoded) and, when its root has an "$id" that is an absolute URI,
 * by that "$id" too (without its empty fragment): what ajv does with its
 * "-r" schemas. A document the loader reads is known by the URI it was
 * asked for, its file URI and its absolute "$id" alike. A relative "$id"
 * is left to the schema compiler, which resolves it against the file URI.
 * URIs are compared as written, without their fragment.
 *
 * schema_docs_load is the json_schema_load_fn of json_schema_compile.h: set
 * it as json_schema_options.so_load with the set as so_load_ctx. It returns
 * a registered document by URI, or reads a "file:" URI's file when the file
 * is admitted; it refuses anything else with a reason (an http:// URI is
 * never fetched).
 *
 * Ownership: the set owns every document, text and jansson value it holds
 * (schema_docs_free releases them); pointers it returns live as long as the
 * set. Nothing the caller passes is kept (strings are copied). The loader
 * adds to the set: one set is used by one thread at a time.
 */
#ifndef SSEMON_CONFIG_SCHEMA_DOCS_H
#define SSEMON_CONFIG_SCHEMA_DOCS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ssemon/config/diag.h"

/* One document larger than this is refused (16 MiB: an OpenAPI document of
 * a large backend is a few hundred KiB). */
#define SCHEMA_DOCS_MAX_BYTES ((size_t)16 << 20)
/* And the documents of one set at most this many bytes in all. */
#define SCHEMA_DOCS_MAX_TOTAL_BYTES ((size_t)64 << 20)
/* A set holds at most this many documents, registered and loaded. */
#define SCHEMA_DOCS_MAX_DOCS 256
/* And at most this many allowed directories. */
#define SCHEMA_DOCS_MAX_DIRS 64
/* The longest URI or path this module writes (with its NUL). */
#define SCHEMA_DOCS_URI_MAX 4096

struct schema_docs;

/* One document of a set. */
struct schema_docs_doc {
    const char *sdd_file;  /* the file as named in errors (as the caller gave it, or the
                              path of its URI when loaded by URI) */
    const char *sdd_uri;   /* the URI it is registered at */
    const char *sdd_id;    /* its root's absolute "$id" (no fragment), or NULL */
    const json_t *sdd_doc; /* the parsed document */
};

/* An empty set. `dirs_phrase` names the allowed directories in refusals
 * ("the contract directories"); NULL means "the allowed directories". The
 * set copies it. Returns NULL when out of memory. */
struct schema_docs *schema_docs_new(const char *dirs_phrase);
/* Frees the set and every document (NULL is fine). */
void schema_docs_free(struct schema_docs *d);

/* Admits the files under directory `dir` (resolved with realpath; adding
 * one twice is harmless). Returns 0, or -1 with a reason in why[0..cap)
 * ("DIR: no such file or directory", "DIR: not a directory", "too many
 * directories", ...). */
int schema_docs_allow_dir(struct schema_docs *d, const char *dir, char *why, size_t cap);
/* Admits the directory that holds `file` (its realpath's directory). */
int schema_docs_allow_dir_of(struct schema_docs *d, const char *file, char *why, size_t cap);
/* Whether the file at `path` (resolved with realpath) is inside an allowed
 * directory. A file that does not exist is not admitted. */
bool schema_docs_admits(const struct schema_docs *d, const char *path);

/* The file URI of an absolute path: "file://" then the path with every byte
 * outside ALPHA / DIGIT / "-._~/!$&'()*+,;=:@" percent-encoded (so "%",
 * "#", "?", spaces and non-ASCII bytes are). Writes it to uri[0..cap) and
 * returns 0, or -1 when `path` is not absolute or the URI does not fit. */
int schema_docs_uri_from_path(const char *path, char *uri, size_t cap);
/* The path of a "file:" URI (scheme in any case): "file:///abs",
 * "file://localhost/abs" or "file:/abs"; a fragment is ignored, a query
 * refused; percent-escapes decoded ("%00" and malformed escapes refused).
 * Writes it to path[0..cap) and returns 0, or -1 with a reason in
 * why[0..cap_why) (why may be NULL). */
int schema_docs_path_from_uri(const char *uri, char *path, size_t cap, char *why, size_t cap_why);

/* Reads `file` (as named by the user; resolved with realpath) and
 * registers it at `uri`, or when `uri` is NULL at its file URI (and its
 * absolute "$id", see above). The file need not be inside an allowed
 * directory: registering is the caller's explicit choice. Returns the
 * document, or NULL with every error added to `errors`, positioned:
 * "FILE: cannot open: ...", "FILE:LINE:COL: invalid JSON: ...", "FILE:
 * larger than N bytes", "FILE: a document is already registered at URI",
 * "FILE: more than N documents", "FILE: more than N bytes of documents in
 * all". */
const struct schema_docs_doc *schema_docs_add_file(struct schema_docs *d, const char *file,
                                                   const char *uri, struct diag_list *errors);

/* The number of documents in the set (registered and loaded so far), and
 * the i-th, in the order they entered it. */
size_t schema_docs_count(const struct schema_docs *d);
const struct schema_docs_doc *schema_docs_at(const struct schema_docs *d, size_t i);
/* The document known by `uri` (its fragment ignored; matched against the
 * URI it is registered at, its file URI and its "$id"), or NULL. */
const struct schema_docs_doc *schema_docs_find(const struct schema_docs *d, const char *uri);

/* The loader (json_schema_load_fn): `ctx` is the set. Returns the document
 * at `uri` (fragment ignored): a registered or already loaded one, else
 * for a "file:" URI the file read and parsed as schema_docs_add_file does,
 * when it is admitted. Otherwise NULL with the reason in why[0..cap):
 * "URI: only local files are read, never the network" (http, https, ftp,
 * ...), "URI: not a file: URI, and no document is registered at it",
 * "PATH: outside DIRS_PHRASE", "PATH: no such file", "PATH:LINE:COL:
 * invalid JSON: ...", "PATH: larger than N bytes", "more than N documents".
 * The document is owned by the set. */
const json_t *schema_docs_load(void *ctx, const char *uri, char *why, size_t cap);

/* Where the value at JSON pointer `pointer` is in the document known by
 * `uri` ("" or NULL: the first document of the set, the root schema): the
 * position of a member's key, or of the nearest existing ancestor. Sets
 * *doc (NULL when the document is unknown) and *line, *column (0 when
 * unknown). */
void schema_docs_locate(const struct schema_docs *d, const char *uri, const char *pointer,
                        const struct schema_docs_doc **doc, size_t *line, size_t *column);

/* Adds one compile error to `errors` as "FILE:LINE:COL: PATH: MESSAGE":
 * the document is the one known by `uri` ("" or NULL: the root schema, the
 * first document), the position that of `pointer` in it
 * (schema_docs_locate); a URI no document has is shown as the file. Pass a
 * json_schema_error's se_uri, se_path and se_msg. */
void schema_docs_diag(const struct schema_docs *d, const char *uri, const char *pointer,
                      const char *message, struct diag_list *errors);

#endif
