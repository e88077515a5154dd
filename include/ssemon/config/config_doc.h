/*
 * config_doc: the configuration document while it is loaded. It holds the
 * parsed text (a json_tape, which keeps every member, duplicates included,
 * with its source offset), where relative names lead (the file's directory,
 * $CREDENTIALS_DIRECTORY), and where errors go: each error is located
 * through json_position and recorded in a diag_list, and the walk goes on,
 * so one run shows everything to fix. Config-layer module, used only by
 * the config_* modules that read the file.
 *
 * Ownership: the file name, the credentials directory and the diag_list
 * are borrowed for the load; the strings the functions below return are
 * the caller's to free.
 */
#ifndef SSEMON_CONFIG_CONFIG_DOC_H
#define SSEMON_CONFIG_CONFIG_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "ssemon/config/diag.h"
#include "ssemon/json/json_position.h"
#include "ssemon/json/json_tape.h"

struct config_doc {
    const char *cd_file;      /* the name errors give */
    char *cd_dir;             /* where relative paths start; "" for the current directory */
    const char *cd_cred_dir;  /* $CREDENTIALS_DIRECTORY, or NULL */
    struct json_tape cd_tape; /* empty until config_doc_parse */
    struct diag_list *cd_errors;
};

/* Starts a load of `file` (the name in errors; its directory anchors
 * relative paths) reporting into `errors`. Returns 0, or -1 when out of
 * memory (recorded in `errors`). Free with config_doc_free either way. */
int config_doc_init(struct config_doc *d, const char *file, struct diag_list *errors);
void config_doc_free(struct config_doc *d);

/* Parses `len` bytes of `text`. Returns 0, or -1 after reporting why
 * (invalid JSON at its position, or out of memory). */
int config_doc_parse(struct config_doc *d, const char *text, size_t len);

/* Running out of memory stops the walk: what is left to report could be
 * wrong. */
void config_doc_nomem(struct config_doc *d);
static inline bool config_doc_out_of_memory(const struct config_doc *d)
{
    return d->cd_errors->dl_oom;
}

/* An error without a position ("FILE: MESSAGE"). */
void config_doc_err_file(struct config_doc *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An error about the value at `path`, or about the object it is missing
 * from; the position is the member's key when it is one. */
void config_doc_err(struct config_doc *d, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An error about a key itself (unknown, misplaced): at the key. */
void config_doc_err_key(struct config_doc *d, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An error at tape node `node` (a duplicate, which a pointer cannot tell
 * from the member it repeats). */
void config_doc_err_node(struct config_doc *d, size_t node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Where tape node `node` starts. */
void config_doc_node_position(const struct config_doc *d, size_t node, struct json_position *pos);

/* "an object", "a string"...: the type of node `n`, for messages. */
const char *config_doc_type_name(const struct config_doc *d, size_t n);
/* Whether node `n` is an object; reports it at `path` when not. */
bool config_doc_is_object(struct config_doc *d, size_t n, const char *path);
/* The member `key` of object `obj`, or JSON_TAPE_NONE. */
size_t config_doc_get(const struct config_doc *d, size_t obj, const char *key);
/* The string at `n` as a new C string, or NULL after reporting why (wrong
 * type, empty when not allowed, U+0000) or running out of memory. */
char *config_doc_string(struct config_doc *d, size_t n, const char *path, bool allow_empty);
/* A free text of one line at `n` (a "description"): a string of at most
 * `max` bytes of UTF-8 without control characters, "" allowed. A new C
 * string, or NULL after reporting why not at `path` (or out of memory). */
char *config_doc_text(struct config_doc *d, size_t n, const char *path, size_t max);
/* The longest "description" of a subscription or a probe, in bytes. */
#define CONFIG_DESCRIPTION_MAX 1024
/* The optional member "description" of object `obj` at `path`, checked by
 * config_doc_text: NULL when absent, empty or refused (reported). */
char *config_doc_description(struct config_doc *d, size_t obj, const char *path);

/* The non-empty string at `n` as a path, relative ones resolved against
 * the file's directory; NULL after reporting why not, or when out of
 * memory. */
char *config_doc_path(struct config_doc *d, size_t n, const char *path);

/* JSON pointers: `parent` + "/" + the key escaped (~0, ~1), or + "/" + an
 * index. NULL when out of memory. */
char *config_doc_pointer(const char *parent, const char *key, size_t keylen);
char *config_doc_pointer_lit(const char *parent, const char *key);
char *config_doc_pointer_index(const char *parent, size_t i);
/* "DIR/NAME", or NAME when it is absolute or DIR is "". NULL when out of
 * memory. */
char *config_doc_join(const char *dir, const char *name);

#endif
