/*
 * contract_load: finds contract files, resolves "extends", merges and
 * compiles them. Adapter (file I/O) over the pure contract module; the
 * format, search path and merge rules are documented in docs/contracts.md.
 *
 * A NAME (no '/' and not ending in ".json") is searched as NAME.json in the
 * contracts directory given by the caller (if any), then
 * CONTRACT_LOAD_SYSTEM_DIR, then the source tree's etc/ssemon/contracts, so
 * a fresh build works without installing. Anything else is a path.
 *
 * Errors name the file, the line and column and the JSON path:
 * "FILE:LINE:COL: PATH: MESSAGE" (see struct contract_load_error).
 *
 * A schema's "$ref" to another document ("backend-openapi.json#/...") is
 * resolved against the file that contains it and read through schema_docs
 * (schema_docs.h), only from the contract directories: the directory of
 * each file of the "extends" chain and the search path. A relative
 * reference a parent in another directory wrote is made absolute against
 * the parent's file before merging, so it keeps naming the document beside
 * the parent. An error inside such a document is reported in it, with
 * "(referred to by FILE)" after the message.
 */
#ifndef SSEMON_CONTRACT_LOAD_H
#define SSEMON_CONTRACT_LOAD_H

#include <jansson.h>
#include <stddef.h>

#include "ssemon/config/diag.h"
#include "ssemon/core/contract.h"

#define CONTRACT_LOAD_SYSTEM_DIR "/etc/ssemon/contracts"
#define CONTRACT_LOAD_SOURCE_DIR SSEMON_SOURCE_DIR "/etc/ssemon/contracts"
/* At most this many "extends" hops from the loaded file to its root. */
#define CONTRACT_LOAD_MAX_DEPTH 8
/* A contract file larger than this is refused (they are a few KiB). */
#define CONTRACT_LOAD_MAX_BYTES ((size_t)4 << 20)

enum contract_load_flag {
    /* Search names only in `contracts_dir` and refuse "extends" by path:
     * for fuzzing and tests that must not see installed files. */
    CONTRACT_LOAD_DIR_ONLY = 1u << 0,
    /* contract_load_all: an abstract contract is checked as the building
     * block it is (contract_options co_abstract), not refused. */
    CONTRACT_LOAD_ABSTRACT = 1u << 1,
};

struct contract_load_error {
    char cle_file[512];    /* file the error is in, "" when none (e.g. a name not found) */
    unsigned cle_line;     /* 1-based; 0 when unknown */
    unsigned cle_column;   /* 1-based, in characters; 0 when unknown */
    char cle_path[256];    /* JSON pointer of the offending value, "" when none */
    char cle_message[512]; /* what is wrong */
    /* The whole error, ready to print: "FILE:LINE:COL: PATH: MESSAGE",
     * "FILE:LINE:COL: invalid JSON: MESSAGE" for syntax errors, "FILE: MESSAGE"
     * when there is no position, "NAME: MESSAGE" for a name not found. */
    char cle_text[1400];
};

/* Loads, merges and compiles a contract by name or path. `contracts_dir`
 * may be NULL. Returns NULL with *err filled. The caller owns the result
 * (contract_free). */
struct contract *contract_load(const char *name_or_path, const char *contracts_dir,
                               struct contract_load_error *err);

/* Same, and with `identity` (may be NULL) also what identifies the result:
 * the merged document and every document its schemas referred to with
 * "$ref" (by URI), as one compact JSON text with sorted keys, so that a
 * changed referred document shows as a changed contract (the daemon's
 * reload compares them). *identity is the caller's (free), NULL on error. */
struct contract *contract_load_identified(const char *name_or_path, const char *contracts_dir,
                                          char **identity, struct contract_load_error *err);

/* Same, reporting every error of the contract in one run (contract_compile_all)
 * instead of the first: `errors` is initialised here (diag_list_free it
 * after, also on success, where it is empty) and gets one line per error,
 * "FILE:LINE:COL: PATH: MESSAGE" as cle_text, in document order: the
 * loaded file's, its parents' (the "extends" chain, nearest first), then
 * those in documents its schemas refer to, each file by line and column;
 * beyond CONTRACT_ERRORS_MAX, "FILE: N more errors not shown". An error
 * that stops loading before the compile (a name not found, invalid JSON,
 * a broken "extends") is the one line. `flags`: contract_load_flag.
 * Returns the contract, or NULL when there is any error. */
struct contract *contract_load_all(const char *name_or_path, const char *contracts_dir,
                                   unsigned flags, struct diag_list *errors);

/* Same, from a document in memory (`len` bytes, no NUL needed). `file` names
 * it in errors and anchors relative "extends" paths (its directory; the
 * current directory when `file` has no '/'). `flags`: contract_load_flag. */
struct contract *contract_load_buffer(const char *text, size_t len, const char *file,
                                      const char *contracts_dir, unsigned flags,
                                      struct contract_load_error *err);

/* The merged document ("extends" resolved and removed, "name" set) that
 * contract_load would compile. The caller owns the reference (json_decref).
 * Returns NULL with *err filled. */
json_t *contract_load_document(const char *name_or_path, const char *contracts_dir,
                               struct contract_load_error *err);

/* Where a NAME or path resolves to: writes the file name to `out` and returns
 * 0, or -1 when nothing is found (or the result does not fit). */
int contract_load_resolve(const char *name_or_path, const char *contracts_dir, unsigned flags,
                          char *out, size_t out_size);

/* One available contract. Strings owned by the array. */
struct contract_load_entry {
    char *cen_name;        /* NAME, as given to contract_load */
    char *cen_file;        /* the file that name resolves to */
    char *cen_description; /* the file's own "description", or NULL */
};

/* Lists the contracts a NAME can reach, sorted by name, each once (the file
 * the search path finds first); abstract contracts (building blocks meant
 * only to be extended) and unreadable files are left out. Returns 0 with
 * *out (free with contract_load_list_free) and *n set, or -1 on allocation
 * failure. Missing directories are skipped. */
int contract_load_list(const char *contracts_dir, struct contract_load_entry **out, size_t *n);
void contract_load_list_free(struct contract_load_entry *entries, size_t n);

#endif
