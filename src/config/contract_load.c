/*
 * contract_load: the file side of contracts. Finds a contract by name or
 * path, follows its "extends" chain, merges the documents child over parent
 * and compiles the result; errors are mapped back to the file, line and
 * column that hold the offending value, by walking the file's text again
 * with json_tape (which records source offsets) only when there is an error.
 */
#include "ssemon/config/contract_load.h"

#include "ssemon/base/utf8.h"

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ssemon/base/file.h"
#include "ssemon/config/diag.h"
#include "ssemon/config/schema_docs.h"
#include "ssemon/json/json_position.h"
#include "ssemon/json/json_tape.h"
#include "ssemon/json/json_uri.h"

#define CONTRACT_LOAD_SUFFIX ".json"
#define CONTRACT_LOAD_BUFFER_NAME "<buffer>"
/* How the allowed directories are named when a "$ref" leads out of them. */
#define CONTRACT_LOAD_DIRS_PHRASE "the contract directories"
/* Schemas nested deeper than this are not searched for "$ref"s to make
 * absolute: the compiler refuses them anyway (JSON_SCHEMA_MAX_DEPTH). */
#define CONTRACT_LOAD_REF_DEPTH 128

/* One document of an "extends" chain. */
struct cl_file {
    char *clf_name; /* as shown in errors */
    char *clf_real; /* realpath for cycle detection, or NULL (buffers) */
    char *clf_text; /* owned copy of the source */
    size_t clf_len;
    json_t *clf_doc;
};

struct cl_chain {
    struct cl_file clc_files[CONTRACT_LOAD_MAX_DEPTH + 1]; /* [0] is the loaded one */
    size_t clc_n;
    const char *clc_dir;
    unsigned clc_flags;
    struct contract_load_error *clc_err;
    /* The files' tapes, parsed once when many errors are located; NULL:
     * each lookup parses them. */
    struct json_tape *clc_tapes;
    const bool *clc_parsed;
};

/* ---- errors ---- */

/* A pointer is shown only with a position; an error with neither a file
 * nor a position (a name not found) is its message alone. */
static void cl_error_format(struct contract_load_error *err)
{
    bool anywhere = err->cle_file[0] != '\0' || err->cle_line > 0;

    diag_format(err->cle_text, sizeof(err->cle_text), anywhere ? err->cle_file : NULL,
                err->cle_line, err->cle_column, err->cle_line > 0 ? err->cle_path : "",
                err->cle_message);
}

static void cl_error(struct contract_load_error *err, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error without position (file I/O, name not found). */
static void cl_error(struct contract_load_error *err, const char *file, const char *fmt, ...)
{
    va_list ap;

    memset(err, 0, sizeof(*err));
    snprintf(err->cle_file, sizeof(err->cle_file), "%s", file ? file : "");
    va_start(ap, fmt);
    vsnprintf(err->cle_message, sizeof(err->cle_message), fmt, ap);
    va_end(ap);
    cl_error_format(err);
}

/* Drops the last reference token of a JSON pointer; false for "". */
static bool cl_pointer_parent(char *ptr)
{
    char *slash = strrchr(ptr, '/');

    if (slash == NULL)
        return false;
    *slash = '\0';
    return true;
}

/* Finds which file of the chain defines `path` (the most derived one that
 * has it, else the one with its longest existing prefix) and where. */
static void cl_locate(const struct cl_chain *ch, const char *path, size_t *file_idx, unsigned *line,
                      unsigned *col)
{
    struct json_tape local[CONTRACT_LOAD_MAX_DEPTH + 1];
    bool parsed_local[CONTRACT_LOAD_MAX_DEPTH + 1] = {false};
    struct json_tape *tapes = ch->clc_tapes != NULL ? ch->clc_tapes : local;
    const bool *parsed = ch->clc_tapes != NULL ? ch->clc_parsed : parsed_local;
    char ptr[sizeof(((struct contract_error *)0)->ce_path)];

    *file_idx = 0;
    *line = 0;
    *col = 0;
    snprintf(ptr, sizeof(ptr), "%s", path);
    for (size_t i = 0; ch->clc_tapes == NULL && i < ch->clc_n; i++) {
        json_tape_init(&local[i]);
        parsed_local[i] = json_tape_parse(&local[i], ch->clc_files[i].clf_text,
                                          ch->clc_files[i].clf_len, NULL) == JSON_TAPE_OK;
    }
    for (bool more = true; more; more = cl_pointer_parent(ptr)) {
        bool found = false;
        for (size_t i = 0; i < ch->clc_n && !found; i++) {
            if (!parsed[i])
                continue;
            /* A member is shown at its key: that is where a reader looks. */
            struct json_position pos;
            if (json_position_in_tape(&tapes[i], ptr, JSON_POSITION_KEY, &pos) !=
                JSON_POSITION_FOUND)
                continue;
            *file_idx = i;
            *line = pos.jp_line > UINT_MAX ? UINT_MAX : (unsigned)pos.jp_line;
            *col = pos.jp_column > UINT_MAX ? UINT_MAX : (unsigned)pos.jp_column;
            found = true;
        }
        if (found)
            break;
    }
    for (size_t i = 0; ch->clc_tapes == NULL && i < ch->clc_n; i++)
        json_tape_free(&local[i]);
}

/* Appends `s` to the string in `dst`, truncating to `size`. */
static void cl_append(char *dst, size_t size, const char *s)
{
    size_t used = strlen(dst), n = strlen(s);

    if (used + 1 >= size)
        return;
    if (n > size - used - 1)
        n = size - used - 1;
    memcpy(dst + used, s, n);
    dst[used + n] = '\0';
}

static void cl_error_at(const struct cl_chain *ch, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error at JSON path `path` of the merged document, reported in the file
 * that defines it. */
static void cl_error_at(const struct cl_chain *ch, const char *path, const char *fmt, ...)
{
    struct contract_load_error *err = ch->clc_err;
    size_t idx;
    unsigned line, col;
    va_list ap;

    cl_locate(ch, path, &idx, &line, &col);
    memset(err, 0, sizeof(*err));
    cl_append(err->cle_file, sizeof(err->cle_file), ch->clc_files[idx].clf_name);
    cl_append(err->cle_path, sizeof(err->cle_path), path);
    err->cle_line = line;
    err->cle_column = col;
    va_start(ap, fmt);
    vsnprintf(err->cle_message, sizeof(err->cle_message), fmt, ap);
    va_end(ap);
    if (idx != 0) {
        cl_append(err->cle_message, sizeof(err->cle_message), " (inherited by ");
        cl_append(err->cle_message, sizeof(err->cle_message), ch->clc_files[0].clf_name);
        cl_append(err->cle_message, sizeof(err->cle_message), ")");
    }
    cl_error_format(err);
}

/* ---- finding files ---- */

static bool cl_is_path(const char *s)
{
    size_t n = strlen(s), sn = strlen(CONTRACT_LOAD_SUFFIX);

    return strchr(s, '/') != NULL || (n >= sn && strcmp(s + n - sn, CONTRACT_LOAD_SUFFIX) == 0);
}

static bool cl_is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The search path for names, in order; returns how many entries. */
static size_t cl_search_dirs(const char *dir, unsigned flags, const char *out[3])
{
    size_t n = 0;

    if (dir != NULL && dir[0] != '\0')
        out[n++] = dir;
    if (!(flags & CONTRACT_LOAD_DIR_ONLY)) {
        out[n++] = CONTRACT_LOAD_SYSTEM_DIR;
#if SSEMON_SEARCH_SOURCE_TREE
        out[n++] = CONTRACT_LOAD_SOURCE_DIR;
#endif
    }
    return n;
}

/* Resolves a NAME through the search path. Returns 0, or -1 with the
 * searched directories listed in `searched`. */
static int cl_find_name(const char *name, const char *dir, unsigned flags, char *out,
                        size_t out_size, char *searched, size_t searched_size)
{
    const char *dirs[3];
    size_t n = cl_search_dirs(dir, flags, dirs), used = 0;

    if (searched_size > 0)
        searched[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out, out_size, "%s/%s%s", dirs[i], name, CONTRACT_LOAD_SUFFIX);
        if (w > 0 && (size_t)w < out_size && cl_is_file(out))
            return 0;
        if (used < searched_size) {
            w = snprintf(searched + used, searched_size - used, "%s%s", i ? ", " : "", dirs[i]);
            if (w > 0)
                used += (size_t)w;
        }
    }
    return -1;
}

int contract_load_resolve(const char *name_or_path, const char *contracts_dir, unsigned flags,
                          char *out, size_t out_size)
{
    char searched[8];

    if (name_or_path == NULL || name_or_path[0] == '\0')
        return -1;
    if (cl_is_path(name_or_path)) {
        int w = snprintf(out, out_size, "%s", name_or_path);
        return w > 0 && (size_t)w < out_size && cl_is_file(out) ? 0 : -1;
    }
    return cl_find_name(name_or_path, contracts_dir, flags, out, out_size, searched,
                        sizeof(searched));
}

/* Reads a whole regular file of at most CONTRACT_LOAD_MAX_BYTES. Never
 * blocks on a FIFO or device: those are refused. */
static int cl_read_file(const char *path, char **text, size_t *len, struct contract_load_error *err)
{
    struct file_error ferr;
    char why[256];

    *text = file_read(path, CONTRACT_LOAD_MAX_BYTES, FILE_REGULAR, len, &ferr);
    if (*text != NULL)
        return 0;
    file_error_text(&ferr, why, sizeof(why));
    cl_error(err, path, "%s", why);
    return -1;
}

/* Drops a UTF-8 byte order mark (editors on Windows write one) from the
 * start of an owned, NUL-terminated text: positions then count from the
 * character after it. */
static void cl_skip_bom(char *text, size_t *len)
{
    size_t bom = utf8_bom_len(text, *len);
    if (bom > 0) {
        memmove(text, text + bom, *len - bom + 1);
        *len -= bom;
    }
}

/* ---- the chain ---- */

static void cl_chain_free(struct cl_chain *ch)
{
    for (size_t i = 0; i < ch->clc_n; i++) {
        struct cl_file *f = &ch->clc_files[i];
        free(f->clf_name);
        free(f->clf_real);
        free(f->clf_text);
        json_decref(f->clf_doc);
    }
    ch->clc_n = 0;
}

/* Parses the text of the newest chain entry; the root must be an object. */
static int cl_parse(struct cl_chain *ch, struct cl_file *f)
{
    json_error_t jerr;

    f->clf_doc = json_loadb(f->clf_text, f->clf_len, JSON_REJECT_DUPLICATES, &jerr);
    if (f->clf_doc == NULL) {
        struct contract_load_error *err = ch->clc_err;
        memset(err, 0, sizeof(*err));
        snprintf(err->cle_file, sizeof(err->cle_file), "%s", f->clf_name);
        err->cle_line = jerr.line > 0 ? (unsigned)jerr.line : 1;
        err->cle_column = jerr.column > 0 ? (unsigned)jerr.column : 1;
        snprintf(err->cle_message, sizeof(err->cle_message), "invalid JSON: %s", jerr.text);
        cl_error_format(err);
        return -1;
    }
    if (!json_is_object(f->clf_doc)) {
        struct contract_load_error *err = ch->clc_err;
        memset(err, 0, sizeof(*err));
        snprintf(err->cle_file, sizeof(err->cle_file), "%s", f->clf_name);
        err->cle_line = 1;
        err->cle_column = 1;
        snprintf(err->cle_message, sizeof(err->cle_message), "a contract is a JSON object");
        cl_error_format(err);
        return -1;
    }
    return 0;
}

/* Appends a file to the chain, taking ownership of `text`. */
static int cl_push(struct cl_chain *ch, const char *name, char *text, size_t len)
{
    if (ch->clc_n > CONTRACT_LOAD_MAX_DEPTH) {
        free(text);
        cl_error_at(ch, "/extends", "\"extends\" chain longer than %d files",
                    CONTRACT_LOAD_MAX_DEPTH + 1);
        return -1;
    }
    struct cl_file *f = &ch->clc_files[ch->clc_n];
    memset(f, 0, sizeof(*f));
    cl_skip_bom(text, &len);
    f->clf_text = text;
    f->clf_len = len;
    f->clf_name = strdup(name);
    f->clf_real = realpath(name, NULL);
    ch->clc_n++;
    if (f->clf_name == NULL) {
        cl_error(ch->clc_err, name, "out of memory");
        return -1;
    }
    return cl_parse(ch, f);
}

/* Where a relative "extends" path points: next to the extending file. */
static int cl_relative(const char *from, const char *path, char *out, size_t out_size)
{
    const char *slash = strrchr(from, '/');
    int w;

    if (path[0] == '/' || slash == NULL)
        w = snprintf(out, out_size, "%s", path);
    else
        w = snprintf(out, out_size, "%.*s/%s", (int)(slash - from), from, path);
    return w > 0 && (size_t)w < out_size ? 0 : -1;
}

/* Follows "extends" from the newest entry until a document without it. */
static int cl_follow(struct cl_chain *ch)
{
    for (;;) {
        struct cl_file *child = &ch->clc_files[ch->clc_n - 1];
        const json_t *ext = json_object_get(child->clf_doc, "extends");
        char file[PATH_MAX], searched[600];

        if (ext == NULL)
            return 0;
        /* Errors here belong to the child: locate them in it alone. */
        struct cl_chain view = *ch;
        view.clc_files[0] = *child;
        view.clc_n = 1;
        if (!json_is_string(ext) || json_string_value(ext)[0] == '\0') {
            cl_error_at(&view, "/extends", "expected the NAME or path of a contract");
            return -1;
        }
        const char *target = json_string_value(ext);
        if (cl_is_path(target)) {
            if (ch->clc_flags & CONTRACT_LOAD_DIR_ONLY) {
                cl_error_at(&view, "/extends", "only a NAME can be extended here, not a path");
                return -1;
            }
            if (cl_relative(child->clf_name, target, file, sizeof(file)) < 0) {
                cl_error_at(&view, "/extends", "path too long");
                return -1;
            }
        } else if (cl_find_name(target, ch->clc_dir, ch->clc_flags, file, sizeof(file), searched,
                                sizeof(searched)) < 0) {
            cl_error_at(&view, "/extends", "contract \"%s\" not found (searched: %s)", target,
                        searched[0] ? searched : "nothing");
            return -1;
        }
        char *real = realpath(file, NULL);
        for (size_t i = 0; real != NULL && i < ch->clc_n; i++) {
            if (ch->clc_files[i].clf_real == NULL || strcmp(ch->clc_files[i].clf_real, real) != 0)
                continue;
            free(real);
            cl_error_at(&view, "/extends",
                        "\"extends\" cycle: %s extends %s, which extends it back", child->clf_name,
                        file);
            return -1;
        }
        free(real);
        if (ch->clc_n > CONTRACT_LOAD_MAX_DEPTH) {
            cl_error_at(&view, "/extends", "\"extends\" chain longer than %d files",
                        CONTRACT_LOAD_MAX_DEPTH + 1);
            return -1;
        }
        char *text;
        size_t len;
        struct contract_load_error ferr;
        if (cl_read_file(file, &text, &len, &ferr) < 0) {
            cl_error_at(&view, "/extends", "cannot extend: %s", ferr.cle_text);
            return -1;
        }
        if (cl_push(ch, file, text, len) < 0)
            return -1;
    }
}

/* ---- "$ref"s to other documents ---- */

/* The file URI a file's relative "$ref"s resolve against: from its
 * realpath, or, for a buffer not on disk, from its directory's realpath and
 * its name. -1 when neither resolves. */
static int cl_base_uri(const char *file, char *uri, size_t cap)
{
    char *real = realpath(file, NULL);
    int rc;

    if (real != NULL) {
        rc = schema_docs_uri_from_path(real, uri, cap);
        free(real);
        return rc;
    }
    const char *slash = strrchr(file, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - file) : 1, slash ? file : ".");
    if (slash == file)
        snprintf(dir, sizeof(dir), "/");
    real = realpath(dir, NULL);
    if (real == NULL)
        return -1;
    char path[PATH_MAX + NAME_MAX + 2];
    int w = snprintf(path, sizeof(path), "%s/%s", strcmp(real, "/") == 0 ? "" : real,
                     slash ? slash + 1 : file);
    free(real);
    if (w < 0 || (size_t)w >= sizeof(path))
        return -1;
    return schema_docs_uri_from_path(path, uri, cap);
}

static int cl_refs_schema(json_t *s, const char *base, size_t depth);

/* Every schema of an array (`array`), or an object's values. */
static int cl_refs_each(json_t *v, bool array, const char *base, size_t depth)
{
    const char *key;
    json_t *item;
    size_t i;

    if (array && json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            if (cl_refs_schema(item, base, depth) < 0)
                return -1;
        }
    } else if (!array && json_is_object(v)) {
        json_object_foreach(v, key, item)
        {
            if (cl_refs_schema(item, base, depth) < 0)
                return -1;
        }
    }
    return 0;
}

/* Makes the relative references of a schema (and of its subschemas)
 * absolute against `base`. A subschema with "$id" (made absolute too when
 * it is relative) is left alone below it: its references resolve against
 * that "$id", wherever the schema is. Values that are not schemas ("enum",
 * "const", "default", "examples") are never touched. -1: out of memory. */
static int cl_refs_schema(json_t *s, const char *base, size_t depth)
{
    static const char *const one[] = {"additionalProperties",
                                      "not",
                                      "if",
                                      "then",
                                      "else",
                                      "contains",
                                      "propertyNames",
                                      "unevaluatedItems",
                                      "unevaluatedProperties",
                                      "additionalItems",
                                      "items",
                                      NULL};
    static const char *const arrays[] = {"allOf", "anyOf", "oneOf", "prefixItems", "items", NULL};
    static const char *const maps[] = {"properties",  "patternProperties", "$defs",
                                       "definitions", "dependentSchemas",  "dependencies",
                                       NULL};
    static const char *const refs[] = {"$id", "$ref", "$dynamicRef", NULL};
    char abs[SCHEMA_DOCS_URI_MAX];

    if (!json_is_object(s) || depth > CONTRACT_LOAD_REF_DEPTH)
        return 0;
    for (size_t i = 0; refs[i] != NULL; i++) {
        const char *ref = json_string_value(json_object_get(s, refs[i]));
        /* resolved as the schema compiler would, with `base` as base URI */
        if (ref == NULL || ref[0] == '#' || json_uri_has_scheme(ref, strlen(ref)) ||
            !json_uri_resolve(base, ref, strlen(ref), abs, sizeof(abs)))
            continue;
        if (json_object_set_new(s, refs[i], json_string(abs)) < 0)
            return -1;
    }
    if (json_object_get(s, "$id") != NULL)
        return 0;
    for (size_t i = 0; one[i] != NULL; i++)
        if (cl_refs_schema(json_object_get(s, one[i]), base, depth + 1) < 0)
            return -1;
    for (size_t i = 0; arrays[i] != NULL; i++)
        if (cl_refs_each(json_object_get(s, arrays[i]), true, base, depth + 1) < 0)
            return -1;
    for (size_t i = 0; maps[i] != NULL; i++)
        if (cl_refs_each(json_object_get(s, maps[i]), false, base, depth + 1) < 0)
            return -1;
    return 0;
}

/* Makes the relative "$ref"s in the schemas of contract document `doc`
 * absolute against `base`: done to a parent in another directory before it
 * is merged, so an inherited "$ref" still names the document beside the
 * file that wrote it. */
static int cl_refs_absolute(json_t *doc, const char *base)
{
    const char *key;
    json_t *ev;

    if (cl_refs_each(json_object_get(doc, "definitions"), false, base, 0) < 0 ||
        cl_refs_each(json_object_get(doc, "$defs"), false, base, 0) < 0)
        return -1;
    json_object_foreach(json_object_get(doc, "events"), key, ev)
    {
        if (!json_is_object(ev))
            continue;
        if (cl_refs_schema(json_object_get(ev, "schema"), base, 0) < 0 ||
            cl_refs_each(json_object_get(ev, "variants"), false, base, 0) < 0)
            return -1;
    }
    return 0;
}

/* The length of a URI's directory part (up to and with its last '/'). */
static size_t cl_uri_dir_len(const char *uri)
{
    const char *slash = strrchr(uri, '/');

    return slash ? (size_t)(slash - uri + 1) : 0;
}

/* Before merging: the parents that live in another directory than the
 * loaded file get their relative references made absolute. */
static int cl_refs_parents(struct cl_chain *ch)
{
    char child[SCHEMA_DOCS_URI_MAX], parent[SCHEMA_DOCS_URI_MAX];
    bool have_child = cl_base_uri(ch->clc_files[0].clf_name, child, sizeof(child)) == 0;

    for (size_t i = 1; i < ch->clc_n; i++) {
        if (cl_base_uri(ch->clc_files[i].clf_name, parent, sizeof(parent)) < 0)
            continue;
        size_t n = cl_uri_dir_len(parent);
        if (have_child && n == cl_uri_dir_len(child) && strncmp(child, parent, n) == 0)
            continue;
        if (cl_refs_absolute(ch->clc_files[i].clf_doc, parent) < 0)
            return -1;
    }
    return 0;
}

/* ---- merging ---- */

/* Child over parent, key by key: objects merge recursively; any other
 * value, arrays included, replaces; null deletes an inherited key (a null
 * with nothing to delete stays, so "const": null keeps its meaning). */
static int cl_merge(json_t *dst, const json_t *src)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)src, key, val)
    {
        json_t *dv = json_object_get(dst, key);
        if (json_is_null(val) && dv != NULL) {
            json_object_del(dst, key);
        } else if (json_is_object(val) && json_is_object(dv)) {
            if (cl_merge(dv, val) < 0)
                return -1;
        } else if (json_object_set_new(dst, key, json_deep_copy(val)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* "name.json" or "dir/name.json" -> "name". */
static void cl_stem(const char *file, char *out, size_t out_size)
{
    const char *base = strrchr(file, '/');
    size_t n, sn = strlen(CONTRACT_LOAD_SUFFIX);

    base = base ? base + 1 : file;
    n = strlen(base);
    if (n > sn && strcmp(base + n - sn, CONTRACT_LOAD_SUFFIX) == 0)
        n -= sn;
    snprintf(out, out_size, "%.*s", (int)n, base);
}

/* Merges the chain from its root down. "name" and "abstract" describe one
 * file and are not inherited; "extends" is consumed. */
static json_t *cl_merged(struct cl_chain *ch)
{
    json_t *m = json_object();

    if (m == NULL || cl_refs_parents(ch) < 0)
        goto nomem;
    for (size_t i = ch->clc_n; i-- > 0;) {
        json_object_del(m, "name");
        json_object_del(m, "abstract");
        if (cl_merge(m, ch->clc_files[i].clf_doc) < 0)
            goto nomem;
        json_object_del(m, "extends");
    }
    if (json_object_get(m, "name") == NULL) {
        char stem[256];
        cl_stem(ch->clc_files[0].clf_name, stem, sizeof(stem));
        if (json_object_set_new(m, "name", json_string(stem)) < 0)
            goto nomem;
    }
    return m;
nomem:
    json_decref(m);
    cl_error(ch->clc_err, ch->clc_files[0].clf_name, "out of memory");
    return NULL;
}

/* ---- entry points ---- */

static json_t *cl_document(struct cl_chain *ch, const char *file, char *text, size_t len)
{
    if (cl_push(ch, file, text, len) < 0 || cl_follow(ch) < 0)
        return NULL;
    return cl_merged(ch);
}

/* The documents a contract's schemas may refer to are read from the
 * directories of the files of its chain and from the search path, nowhere
 * else. */
static void cl_allow_dirs(const struct cl_chain *ch, struct schema_docs *docs)
{
    const char *dirs[3];
    size_t n = cl_search_dirs(ch->clc_dir, ch->clc_flags, dirs);
    char why[256];

    for (size_t i = 0; i < ch->clc_n; i++)
        if (ch->clc_files[i].clf_real != NULL)
            (void)schema_docs_allow_dir_of(docs, ch->clc_files[i].clf_real, why, sizeof(why));
    for (size_t i = 0; i < n; i++)
        (void)schema_docs_allow_dir(docs, dirs[i], why, sizeof(why)); /* may not exist */
}

/* An error inside a document a schema refers to, at its place there. */
static void cl_error_in_doc(const struct cl_chain *ch, const struct schema_docs *docs,
                            const struct contract_error *cerr)
{
    struct contract_load_error *err = ch->clc_err;
    const struct schema_docs_doc *d;
    size_t line, col;

    schema_docs_locate(docs, cerr->ce_uri, cerr->ce_path, &d, &line, &col);
    memset(err, 0, sizeof(*err));
    cl_append(err->cle_file, sizeof(err->cle_file), d != NULL ? d->sdd_file : cerr->ce_uri);
    cl_append(err->cle_path, sizeof(err->cle_path), cerr->ce_path);
    err->cle_line = line > UINT_MAX ? UINT_MAX : (unsigned)line;
    err->cle_column = col > UINT_MAX ? UINT_MAX : (unsigned)col;
    snprintf(err->cle_message, sizeof(err->cle_message), "%s (referred to by %s)", cerr->ce_message,
             ch->clc_files[0].clf_name);
    cl_error_format(err);
}

/* What identifies a loaded contract: its merged document and each document
 * its schemas referred to, by URI, as one compact text with sorted keys.
 * NULL when out of memory. */
static char *cl_identity(const json_t *doc, const struct schema_docs *docs)
{
    json_t *all = json_object(), *refs = json_object();
    char *text = NULL;

    if (all == NULL || refs == NULL || json_object_set(all, "contract", (json_t *)doc) < 0)
        goto done;
    for (size_t i = 0; i < schema_docs_count(docs); i++) {
        const struct schema_docs_doc *d = schema_docs_at(docs, i);
        if (json_object_set(refs, d->sdd_uri, (json_t *)d->sdd_doc) < 0)
            goto done;
    }
    if (json_object_set(all, "documents", refs) < 0)
        goto done;
    text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
done:
    json_decref(refs);
    json_decref(all);
    return text;
}

/* Compiles the merged document; with `identity`, also sets *identity
 * (cl_identity) when it compiles. */
static struct contract *cl_compile(struct cl_chain *ch, json_t *doc, char **identity)
{
    struct contract_error cerr;
    struct schema_docs *docs = schema_docs_new(CONTRACT_LOAD_DIRS_PHRASE);
    struct json_schema_options so;
    struct contract_options co = {.co_schema = &so};
    char base[SCHEMA_DOCS_URI_MAX];

    if (docs == NULL) {
        cl_error(ch->clc_err, ch->clc_files[0].clf_name, "out of memory");
        return NULL;
    }
    cl_allow_dirs(ch, docs);
    memset(&so, 0, sizeof(so));
    if (cl_base_uri(ch->clc_files[0].clf_name, base, sizeof(base)) == 0)
        so.so_base_uri = base;
    so.so_load = schema_docs_load;
    so.so_load_ctx = docs;
    struct contract *c = contract_compile_opts(doc, &co, &cerr);
    if (c == NULL && cerr.ce_uri[0] != '\0')
        cl_error_in_doc(ch, docs, &cerr);
    else if (c == NULL)
        cl_error_at(ch, cerr.ce_path, "%s", cerr.ce_message);
    if (c != NULL && identity != NULL) {
        *identity = cl_identity(doc, docs);
        if (*identity == NULL) {
            contract_free(c);
            c = NULL;
            cl_error(ch->clc_err, ch->clc_files[0].clf_name, "out of memory");
        }
    }
    schema_docs_free(docs);
    return c;
}

/* ---- every error (contract_load_all) ---- */

struct cl_found {
    struct contract_load_error clfd_err;
    size_t clfd_group; /* the loaded file 0, its parents 1.., then referred documents */
    size_t clfd_seq;
};

static int cl_found_cmp(const void *pa, const void *pb)
{
    const struct cl_found *a = pa, *b = pb;

    if (a->clfd_group != b->clfd_group)
        return a->clfd_group < b->clfd_group ? -1 : 1;
    if (a->clfd_err.cle_line != b->clfd_err.cle_line)
        return a->clfd_err.cle_line < b->clfd_err.cle_line ? -1 : 1;
    if (a->clfd_err.cle_column != b->clfd_err.cle_column)
        return a->clfd_err.cle_column < b->clfd_err.cle_column ? -1 : 1;
    return a->clfd_seq < b->clfd_seq ? -1 : a->clfd_seq > b->clfd_seq;
}

/* One positioned error into the list, its text as contract_load's. */
static void cl_diag(struct diag_list *errors, const struct contract_load_error *e)
{
    bool anywhere = e->cle_file[0] != '\0' || e->cle_line > 0;

    if (!anywhere) {
        diag_add(errors, "(no contract)", 0, 0, "", e->cle_message);
        return;
    }
    diag_add(errors, e->cle_file, e->cle_line, e->cle_column, e->cle_line > 0 ? e->cle_path : "",
             e->cle_message);
}

/* Positions every compile error, in document order (the loaded file, its
 * parents, then the documents its schemas referred to, each by line and
 * column), into `errors`. */
static void cl_report_all(struct cl_chain *ch, const struct schema_docs *docs,
                          const struct contract_errors *errs, struct diag_list *errors)
{
    struct json_tape tapes[CONTRACT_LOAD_MAX_DEPTH + 1];
    bool parsed[CONTRACT_LOAD_MAX_DEPTH + 1] = {false};
    struct contract_load_error *saved_err = ch->clc_err;
    const char *file0 = ch->clc_files[0].clf_name;
    struct cl_found *found = errs->ces_n > 0 ? calloc(errs->ces_n, sizeof(*found)) : NULL;

    if (errs->ces_n > 0 && found == NULL) {
        diag_add(errors, file0, 0, 0, "", "out of memory while checking the contract");
        return;
    }
    for (size_t i = 0; i < ch->clc_n; i++) {
        json_tape_init(&tapes[i]);
        parsed[i] = json_tape_parse(&tapes[i], ch->clc_files[i].clf_text, ch->clc_files[i].clf_len,
                                    NULL) == JSON_TAPE_OK;
    }
    ch->clc_tapes = tapes;
    ch->clc_parsed = parsed;
    for (size_t i = 0; i < errs->ces_n; i++) {
        const struct contract_error *cerr = &errs->ces_items[i];
        struct cl_found *f = &found[i];
        ch->clc_err = &f->clfd_err;
        if (cerr->ce_uri[0] != '\0')
            cl_error_in_doc(ch, docs, cerr);
        else
            cl_error_at(ch, cerr->ce_path, "%s", cerr->ce_message);
        f->clfd_seq = i;
        f->clfd_group = SIZE_MAX;
        for (size_t k = 0; k < ch->clc_n && f->clfd_group == SIZE_MAX; k++)
            if (strcmp(f->clfd_err.cle_file, ch->clc_files[k].clf_name) == 0)
                f->clfd_group = k;
        /* another document: after the chain, in the order first met */
        for (size_t k = 0; k <= i && f->clfd_group == SIZE_MAX; k++)
            if (strcmp(f->clfd_err.cle_file, found[k].clfd_err.cle_file) == 0)
                f->clfd_group = ch->clc_n + k;
    }
    ch->clc_tapes = NULL;
    ch->clc_parsed = NULL;
    ch->clc_err = saved_err;
    for (size_t i = 0; i < ch->clc_n; i++)
        json_tape_free(&tapes[i]);
    if (errs->ces_n > 1)
        qsort(found, errs->ces_n, sizeof(*found), cl_found_cmp);
    for (size_t i = 0; i < errs->ces_n; i++)
        cl_diag(errors, &found[i].clfd_err);
    free(found);
    if (errs->ces_more > 0)
        diag_addf(errors, file0, 0, 0, "", "%zu more error%s not shown", errs->ces_more,
                  errs->ces_more == 1 ? "" : "s");
    if (errs->ces_oom)
        diag_add(errors, file0, 0, 0, "", "out of memory while checking the contract");
}

/* Compiles the merged document, every error into `errors`. */
static struct contract *cl_compile_all(struct cl_chain *ch, json_t *doc, unsigned flags,
                                       struct diag_list *errors)
{
    struct contract_errors errs;
    struct schema_docs *docs = schema_docs_new(CONTRACT_LOAD_DIRS_PHRASE);
    struct json_schema_options so;
    struct contract_options co = {.co_schema = &so,
                                  .co_abstract = (flags & CONTRACT_LOAD_ABSTRACT) != 0};
    char base[SCHEMA_DOCS_URI_MAX];

    if (docs == NULL) {
        diag_add(errors, ch->clc_files[0].clf_name, 0, 0, "", "out of memory");
        return NULL;
    }
    cl_allow_dirs(ch, docs);
    memset(&so, 0, sizeof(so));
    if (cl_base_uri(ch->clc_files[0].clf_name, base, sizeof(base)) == 0)
        so.so_base_uri = base;
    so.so_load = schema_docs_load;
    so.so_load_ctx = docs;
    struct contract *c = contract_compile_all(doc, &co, &errs);
    if (c == NULL)
        cl_report_all(ch, docs, &errs, errors);
    contract_errors_free(&errs);
    schema_docs_free(docs);
    return c;
}

static int cl_open(const char *name_or_path, const char *dir, unsigned flags, char *file,
                   size_t file_size, char **text, size_t *len, struct contract_load_error *err)
{
    char searched[600];

    if (name_or_path == NULL || name_or_path[0] == '\0') {
        cl_error(err, NULL, "no contract name or path given");
        return -1;
    }
    if (cl_is_path(name_or_path)) {
        snprintf(file, file_size, "%s", name_or_path);
    } else if (cl_find_name(name_or_path, dir, flags, file, file_size, searched, sizeof(searched)) <
               0) {
        cl_error(err, name_or_path, "contract not found (searched: %s)",
                 searched[0] ? searched : "nothing");
        return -1;
    }
    return cl_read_file(file, text, len, err);
}

static json_t *cl_load_document(const char *name_or_path, const char *dir, unsigned flags,
                                struct cl_chain *ch, struct contract_load_error *err)
{
    char file[PATH_MAX], *text;
    size_t len;

    memset(ch, 0, sizeof(*ch));
    ch->clc_dir = dir;
    ch->clc_flags = flags;
    ch->clc_err = err;
    if (cl_open(name_or_path, dir, flags, file, sizeof(file), &text, &len, err) < 0)
        return NULL;
    return cl_document(ch, file, text, len);
}

json_t *contract_load_document(const char *name_or_path, const char *contracts_dir,
                               struct contract_load_error *err)
{
    struct contract_load_error dummy;
    struct cl_chain ch;

    json_t *doc = cl_load_document(name_or_path, contracts_dir, 0, &ch, err ? err : &dummy);
    cl_chain_free(&ch);
    return doc;
}

struct contract *contract_load(const char *name_or_path, const char *contracts_dir,
                               struct contract_load_error *err)
{
    return contract_load_identified(name_or_path, contracts_dir, NULL, err);
}

struct contract *contract_load_identified(const char *name_or_path, const char *contracts_dir,
                                          char **identity, struct contract_load_error *err)
{
    struct contract_load_error dummy;
    struct cl_chain ch;
    struct contract *c = NULL;

    if (identity != NULL)
        *identity = NULL;
    json_t *doc = cl_load_document(name_or_path, contracts_dir, 0, &ch, err ? err : &dummy);
    if (doc != NULL)
        c = cl_compile(&ch, doc, identity);
    json_decref(doc);
    cl_chain_free(&ch);
    return c;
}

struct contract *contract_load_all(const char *name_or_path, const char *contracts_dir,
                                   unsigned flags, struct diag_list *errors)
{
    struct contract_load_error err;
    struct cl_chain ch;
    struct contract *c = NULL;

    diag_list_init(errors, 0);
    memset(&err, 0, sizeof(err));
    json_t *doc = cl_load_document(name_or_path, contracts_dir, flags, &ch, &err);
    if (doc != NULL)
        c = cl_compile_all(&ch, doc, flags, errors);
    else
        cl_diag(errors, &err);
    json_decref(doc);
    cl_chain_free(&ch);
    return c;
}

struct contract *contract_load_buffer(const char *text, size_t len, const char *file,
                                      const char *contracts_dir, unsigned flags,
                                      struct contract_load_error *err)
{
    struct contract_load_error dummy;
    struct cl_chain ch;
    struct contract *c = NULL;

    if (err == NULL)
        err = &dummy;
    if (file == NULL || file[0] == '\0')
        file = CONTRACT_LOAD_BUFFER_NAME;
    memset(&ch, 0, sizeof(ch));
    ch.clc_dir = contracts_dir;
    ch.clc_flags = flags;
    ch.clc_err = err;
    if (len > CONTRACT_LOAD_MAX_BYTES) {
        cl_error(err, file, "larger than %zu bytes", CONTRACT_LOAD_MAX_BYTES);
        return NULL;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        cl_error(err, file, "out of memory");
        return NULL;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    json_t *doc = cl_document(&ch, file, copy, len);
    if (doc != NULL)
        c = cl_compile(&ch, doc, NULL);
    json_decref(doc);
    cl_chain_free(&ch);
    return c;
}

/* ---- listing ---- */

static int cl_entry_cmp(const void *a, const void *b)
{
    const struct contract_load_entry *x = a, *y = b;

    return strcmp(x->cen_name, y->cen_name);
}

static bool cl_listed(const struct contract_load_entry *e, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].cen_name, name) == 0)
            return true;
    return false;
}

/* Adds one file found in a directory; abstract or unreadable files are
 * recorded without a file so the name is not looked up again further down
 * the search path (it resolves to this file), then dropped. */
static int cl_list_add(struct contract_load_entry **out, size_t *n, size_t *cap, const char *name,
                       const char *path)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct contract_load_entry *ne = realloc(*out, nc * sizeof(*ne));
        if (ne == NULL)
            return -1;
        *out = ne;
        *cap = nc;
    }
    struct contract_load_entry *e = &(*out)[*n];
    memset(e, 0, sizeof(*e));
    e->cen_name = strdup(name);
    if (e->cen_name == NULL)
        return -1;
    (*n)++;

    struct contract_load_error err;
    char *text;
    size_t len;
    if (cl_read_file(path, &text, &len, &err) < 0)
        return 0;
    cl_skip_bom(text, &len);
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    if (!json_is_object(doc) || json_is_true(json_object_get(doc, "abstract"))) {
        json_decref(doc);
        return 0;
    }
    const char *desc = json_string_value(json_object_get(doc, "description"));
    int rc = 0;
    e->cen_file = strdup(path);
    if (e->cen_file == NULL)
        rc = -1;
    if (desc != NULL && rc == 0) {
        e->cen_description = strdup(desc);
        if (e->cen_description == NULL)
            rc = -1;
    }
    json_decref(doc);
    return rc;
}

static int cl_list_dir(const char *dir, struct contract_load_entry **out, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t sn = strlen(CONTRACT_LOAD_SUFFIX);

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= sn ||
            strcmp(de->d_name + len - sn, CONTRACT_LOAD_SUFFIX) != 0)
            continue;
        char name[NAME_MAX + 1], path[PATH_MAX];
        snprintf(name, sizeof(name), "%.*s", (int)(len - sn), de->d_name);
        int w = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (w < 0 || (size_t)w >= sizeof(path) || !cl_is_file(path) || cl_listed(*out, *n, name))
            continue;
        if (cl_list_add(out, n, cap, name, path) < 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return 0;
}

int contract_load_list(const char *contracts_dir, struct contract_load_entry **out, size_t *n)
{
    const char *dirs[3];
    size_t nd = cl_search_dirs(contracts_dir, 0, dirs), count = 0, cap = 0;
    struct contract_load_entry *e = NULL;

    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < nd; i++) {
        if (cl_list_dir(dirs[i], &e, &count, &cap) < 0) {
            contract_load_list_free(e, count);
            return -1;
        }
    }
    /* Drop the names that resolve to something not loadable. */
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (e[i].cen_file == NULL) {
            free(e[i].cen_name);
            free(e[i].cen_description);
            continue;
        }
        e[kept++] = e[i];
    }
    if (kept > 1)
        qsort(e, kept, sizeof(*e), cl_entry_cmp);
    if (kept == 0) {
        free(e);
        e = NULL;
    }
    *out = e;
    *n = kept;
    return 0;
}

void contract_load_list_free(struct contract_load_entry *entries, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(entries[i].cen_name);
        free(entries[i].cen_file);
        free(entries[i].cen_description);
    }
    free(entries);
}
