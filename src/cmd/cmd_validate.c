/*
 * ssemon validate: JSON instances against a JSON Schema file, in the shape
 * of ajv-cli (-s SCHEMA, -r for the documents it refers to, -d for the
 * data), one NDJSON verdict per instance. The same compiler and validator
 * contracts use; "$ref" reads local files under the schema's directory and
 * those of the -r files only (config/schema_docs). docs/validate.md is the
 * reference.
 */
#include "ssemon/base/file.h"
#include "ssemon/base/utf8.h"
#include "ssemon/cmd/cmd.h"
#include "ssemon/config/diag.h"
#include "ssemon/config/schema_docs.h"
#include "ssemon/json/json_schema.h"
#include "ssemon/json/json_schema_compile.h"
#include "ssemon/json/json_tape.h"
#include "ssemon/json/json_writer.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One instance (a -d file, or a line of NDJSON) larger than this is not
 * read: the same bound as a schema document. */
#define VALIDATE_MAX_INSTANCE SCHEMA_DOCS_MAX_BYTES
/* Schema errors printed at most (the rest counted). */
#define VALIDATE_MAX_ERRORS 100
#define VALIDATE_READ_SIZE ((size_t)64 << 10)
#define VALIDATE_FLUSH_AT ((size_t)64 << 10)

enum validate_status {
    VALIDATE_OK = 0,      /* every instance valid */
    VALIDATE_INVALID = 1, /* one is not (or is not JSON) */
    VALIDATE_ERROR = 2,   /* schema or usage error, or an instance not read */
};

struct validate_run {
    const struct json_schema *vr_schema;
    struct json_tape vr_tape;
    struct json_writer vr_out;
    int vr_status;
    bool vr_write_failed;
};

static void validate_usage(FILE *f)
{
    fputs("usage: ssemon validate -s SCHEMA [-r [URI=]FILE]... [-d FILE|-]...\n"
          "Validates JSON instances against a JSON Schema (draft 2020-12, as contracts\n"
          "use it) and prints one NDJSON line per instance:\n"
          "  {\"data\": FILE or \"-:LINE\", \"valid\": BOOL, \"path\": POINTER or null,\n"
          "   \"message\": TEXT or null}\n"
          "  -s, --schema FILE     the schema; its base URI is its file URI (or its \"$id\")\n"
          "  -r, --ref [URI=]FILE  a document the schema refers to with \"$ref\", known by\n"
          "                        URI, else by its file URI and its \"$id\" (repeatable)\n"
          "  -d, --data FILE|-     an instance: FILE holds one JSON document; - reads NDJSON\n"
          "                        from stdin, one instance a line, blank lines skipped\n"
          "                        (repeatable; without -d: -d -)\n"
          "  -h, --help            show this help\n"
          "\"$ref\" reads local files only, under the schema's directory and those of the\n"
          "-r files; never the network. An instance is at most 16 MiB.\n"
          "Exit status: 0 when every instance is valid, 1 when one is not (a line that\n"
          "is not JSON is not valid), 2 on a schema error (every error on stderr as\n"
          "FILE:LINE:COLUMN: PATH: MESSAGE), a usage error, or an instance that could\n"
          "not be read (missing, unreadable, larger than 16 MiB).\n",
          f);
}

static int validate_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The error line, then the usage text, on stderr. */
static int validate_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("ssemon validate: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    validate_usage(stderr);
    return VALIDATE_ERROR;
}

/* ---- output ---- */

static void validate_flush(struct validate_run *r, bool force)
{
    size_t len;
    const char *text = json_writer_text(&r->vr_out, &len);

    if (len == 0 || (!force && len < VALIDATE_FLUSH_AT))
        return;
    if (!r->vr_write_failed && (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0))
        r->vr_write_failed = true;
    json_writer_reset(&r->vr_out);
}

static void validate_worse(struct validate_run *r, int status)
{
    if (status > r->vr_status)
        r->vr_status = status;
}

/* One verdict line. `label` is "FILE" or "-:" followed by `line`. */
static void validate_print(struct validate_run *r, const char *label, size_t line, bool valid,
                           const char *path, const char *message)
{
    struct json_writer *w = &r->vr_out;
    char lab[32];

    json_writer_object_begin(w);
    json_writer_key(w, "data");
    if (label == NULL) {
        snprintf(lab, sizeof(lab), "-:%zu", line);
        json_writer_cstring(w, lab);
    } else {
        json_writer_cstring(w, label);
    }
    json_writer_key(w, "valid");
    json_writer_bool(w, valid);
    json_writer_key(w, "path");
    json_writer_cstring(w, path);
    json_writer_key(w, "message");
    json_writer_cstring(w, message);
    json_writer_object_end(w);
    json_writer_append(w, "\n", 1);
    validate_flush(r, false);
}

/* ---- instances ---- */

/* Judges one instance text (a byte order mark at its start skipped). */
static void validate_instance(struct validate_run *r, const char *label, size_t line,
                              const char *text, size_t len)
{
    struct json_tape_error jerr;
    struct json_schema_error err;
    char msg[JSON_SCHEMA_MSG_MAX + 64];

    size_t bom = utf8_bom_len(text, len);
    int rc = json_tape_parse(&r->vr_tape, text + bom, len - bom, &jerr);
    if (rc == JSON_TAPE_ENOMEM) {
        validate_print(r, label, line, false, NULL, "out of memory");
        validate_worse(r, VALIDATE_ERROR);
        return;
    }
    if (rc != JSON_TAPE_OK) {
        if (label != NULL)
            snprintf(msg, sizeof(msg), "not JSON: line %zu, column %zu: %s", (size_t)jerr.je_line,
                     (size_t)jerr.je_column, jerr.je_msg);
        else
            snprintf(msg, sizeof(msg), "not JSON: column %zu: %s", (size_t)jerr.je_column,
                     jerr.je_msg);
        validate_print(r, label, line, false, NULL, msg);
        validate_worse(r, VALIDATE_INVALID);
        return;
    }
    if (json_schema_validate(r->vr_schema, &r->vr_tape, json_tape_root(&r->vr_tape), &err)) {
        validate_print(r, label, line, true, NULL, NULL);
        return;
    }
    validate_print(r, label, line, false, err.se_path, err.se_msg);
    validate_worse(r, VALIDATE_INVALID);
}

/* A -d FILE: one JSON document. */
static void validate_file(struct validate_run *r, const char *file)
{
    struct file_error ferr;
    char why[256], msg[300];
    size_t len;

    char *text = file_read(file, VALIDATE_MAX_INSTANCE, 0, &len, &ferr);
    if (text == NULL) {
        file_error_text(&ferr, why, sizeof(why));
        snprintf(msg, sizeof(msg), "not read: %s", why);
        validate_print(r, file, 0, false, NULL, msg);
        validate_worse(r, VALIDATE_ERROR);
        return;
    }
    validate_instance(r, file, 0, text, len);
    free(text);
}

/* The line being gathered from stdin. */
struct validate_line {
    char *vl_buf;
    size_t vl_len;
    size_t vl_cap;
    size_t vl_number; /* 1-based, of the line being gathered */
    bool vl_too_long; /* beyond VALIDATE_MAX_INSTANCE: dropped to its end */
};

static bool validate_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* The gathered line is complete: judge it. */
static void validate_line_end(struct validate_run *r, struct validate_line *l)
{
    char msg[96];

    if (l->vl_too_long) {
        snprintf(msg, sizeof(msg), "not read: longer than %zu bytes", VALIDATE_MAX_INSTANCE);
        validate_print(r, NULL, l->vl_number, false, NULL, msg);
        validate_worse(r, VALIDATE_ERROR);
    } else if (!validate_blank(l->vl_buf, l->vl_len)) {
        size_t n = l->vl_len;
        if (n > 0 && l->vl_buf[n - 1] == '\r')
            n--;
        validate_instance(r, NULL, l->vl_number, l->vl_buf, n);
    }
    l->vl_len = 0;
    l->vl_too_long = false;
    l->vl_number++;
}

/* Appends part of a line; past the cap the line is only skipped. */
static int validate_line_add(struct validate_line *l, const char *s, size_t n)
{
    if (l->vl_too_long)
        return 0;
    if (n > VALIDATE_MAX_INSTANCE - l->vl_len) {
        l->vl_too_long = true;
        return 0;
    }
    if (l->vl_len + n > l->vl_cap) {
        size_t cap = l->vl_cap ? l->vl_cap : 4096;
        while (cap < l->vl_len + n)
            cap *= 2;
        char *nb = realloc(l->vl_buf, cap);
        if (nb == NULL)
            return -1;
        l->vl_buf = nb;
        l->vl_cap = cap;
    }
    memcpy(l->vl_buf + l->vl_len, s, n);
    l->vl_len += n;
    return 0;
}

/* -d -: NDJSON from stdin, read once (a second -d - finds it at its end). */
static void validate_stdin(struct validate_run *r)
{
    struct validate_line l = {.vl_number = 1};
    char *buf = malloc(VALIDATE_READ_SIZE);
    bool ok = buf != NULL;

    while (ok) {
        ssize_t n = read(STDIN_FILENO, buf, VALIDATE_READ_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "ssemon validate: stdin: %s\n", strerror(errno));
            validate_worse(r, VALIDATE_ERROR);
            break;
        }
        if (n == 0) {
            if (l.vl_len > 0 || l.vl_too_long)
                validate_line_end(r, &l);
            break;
        }
        for (size_t off = 0; off < (size_t)n && ok;) {
            const char *nl = memchr(buf + off, '\n', (size_t)n - off);
            size_t take = nl != NULL ? (size_t)(nl - (buf + off)) : (size_t)n - off;
            ok = validate_line_add(&l, buf + off, take) == 0;
            off += take;
            if (ok && nl != NULL) {
                validate_line_end(r, &l);
                off++;
            }
        }
        /* What is ready is written before waiting for more input. */
        validate_flush(r, true);
    }
    if (!ok) {
        fprintf(stderr, "ssemon validate: out of memory\n");
        validate_worse(r, VALIDATE_ERROR);
    }
    free(l.vl_buf);
    free(buf);
}

/* ---- the schema ---- */

/* Whether a -r argument starts with "URI=": a scheme before the '='. */
static const char *validate_ref_file(const char *arg, char **uri)
{
    const char *eq = strchr(arg, '=');
    size_t i = 0;

    *uri = NULL;
    if (eq == NULL)
        return arg;
    if (!((arg[0] >= 'A' && arg[0] <= 'Z') || (arg[0] >= 'a' && arg[0] <= 'z')))
        return arg;
    for (i = 1; arg + i < eq && arg[i] != ':'; i++) {
        char c = arg[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return arg;
    }
    if (arg + i == eq)
        return arg;
    *uri = strndup(arg, (size_t)(eq - arg));
    return eq + 1;
}

static void validate_print_errors(const struct diag_list *errors)
{
    for (size_t i = 0; i < errors->dl_n; i++)
        fprintf(stderr, "%s\n", errors->dl_items[i].dg_text);
    if (errors->dl_dropped > 0)
        fprintf(stderr, "ssemon validate: %zu more errors not shown\n", errors->dl_dropped);
    if (errors->dl_oom)
        fprintf(stderr, "ssemon validate: out of memory (the errors may be incomplete)\n");
}

/* Registers the schema and the -r documents, admits their directories.
 * Returns the schema's document, or NULL with errors added. */
static const struct schema_docs_doc *validate_register(struct schema_docs *docs, const char *schema,
                                                       char **refs, size_t nrefs,
                                                       struct diag_list *errors)
{
    char why[SCHEMA_DOCS_URI_MAX + 64];

    const struct schema_docs_doc *root = schema_docs_add_file(docs, schema, NULL, errors);
    if (root != NULL && schema_docs_allow_dir_of(docs, schema, why, sizeof(why)) < 0)
        diag_add(errors, schema, 0, 0, "", why);
    for (size_t i = 0; i < nrefs; i++) {
        char *uri;
        const char *file = validate_ref_file(refs[i], &uri);
        if (file != refs[i] && uri == NULL) {
            errors->dl_oom = true;
            continue;
        }
        if (schema_docs_add_file(docs, file, uri, errors) != NULL &&
            schema_docs_allow_dir_of(docs, file, why, sizeof(why)) < 0)
            diag_add(errors, file, 0, 0, "", why);
        free(uri);
    }
    return errors->dl_n > 0 || errors->dl_oom ? NULL : root;
}

/* Compiles the schema with the registered documents. Returns the set
 * (its schema in *out), or NULL with the error added, positioned. */
static struct json_schema_set *validate_compile(struct schema_docs *docs,
                                                const struct schema_docs_doc *root,
                                                const struct json_schema **out,
                                                struct diag_list *errors)
{
    size_t n = schema_docs_count(docs);
    struct json_schema_document *list = calloc(n > 0 ? n : 1, sizeof(*list));
    struct json_schema_error err;

    if (list == NULL) {
        errors->dl_oom = true;
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct schema_docs_doc *doc = schema_docs_at(docs, i);
        if (doc == root)
            continue;
        list[k].sd_uri = doc->sdd_uri;
        list[k].sd_doc = doc->sdd_doc;
        k++;
    }
    struct json_schema_options opts = {
        .so_limits = NULL,
        .so_base_uri = root->sdd_uri,
        .so_docs = list,
        .so_ndocs = k,
        .so_load = schema_docs_load,
        .so_load_ctx = docs,
    };
    memset(&err, 0, sizeof(err));
    struct json_schema_set *set = json_schema_compile_new_opts(root->sdd_doc, &opts, &err);
    bool ok = set != NULL;
    if (ok) {
        *out = json_schema_compile_add(set, root->sdd_doc, "", &err);
        ok = *out != NULL && json_schema_compile_finish(set, &err);
    }
    free(list);
    if (!ok) {
        schema_docs_diag(docs, err.se_uri, err.se_path, err.se_msg, errors);
        json_schema_compile_free(set);
        return NULL;
    }
    return set;
}

int cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"schema", required_argument, NULL, 's'},
        {"ref", required_argument, NULL, 'r'},
        {"data", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *schema = NULL;
    char **refs = calloc((size_t)argc + 1, sizeof(*refs));
    char **data = calloc((size_t)argc + 2, sizeof(*data));
    size_t nrefs = 0, ndata = 0;
    int c, rc = VALIDATE_ERROR;

    if (refs == NULL || data == NULL) {
        fprintf(stderr, "ssemon validate: out of memory\n");
        free(refs);
        free(data);
        return VALIDATE_ERROR;
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+s:r:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (schema != NULL) {
                rc = validate_usage_error("-s given twice: one schema at a time");
                goto out;
            }
            schema = optarg;
            break;
        case 'r':
            refs[nrefs++] = optarg;
            break;
        case 'd':
            data[ndata++] = optarg;
            break;
        case 'h':
            validate_usage(stdout);
            rc = VALIDATE_OK;
            goto out;
        default:
            rc = validate_usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        rc = validate_usage_error("unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (schema == NULL) {
        rc = validate_usage_error("missing -s SCHEMA");
        goto out;
    }
    for (size_t i = 0; i < ndata; i++) {
        if (data[i][0] == '\0') {
            rc = validate_usage_error("-d needs a FILE or -");
            goto out;
        }
    }
    if (ndata == 0)
        data[ndata++] = "-";

    struct diag_list errors;
    struct validate_run r;
    struct json_schema_set *set = NULL;
    struct schema_docs *docs = schema_docs_new("the directories of the schema and the -r files");
    memset(&r, 0, sizeof(r));
    diag_list_init(&errors, VALIDATE_MAX_ERRORS);
    if (docs == NULL) {
        fprintf(stderr, "ssemon validate: out of memory\n");
        goto done;
    }
    const struct schema_docs_doc *root = validate_register(docs, schema, refs, nrefs, &errors);
    if (root != NULL)
        set = validate_compile(docs, root, &r.vr_schema, &errors);
    if (set == NULL) {
        validate_print_errors(&errors);
        goto done;
    }
    json_tape_init(&r.vr_tape);
    json_writer_init(&r.vr_out);
    for (size_t i = 0; i < ndata; i++) {
        if (strcmp(data[i], "-") == 0)
            validate_stdin(&r);
        else
            validate_file(&r, data[i]);
    }
    validate_flush(&r, true);
    if (json_writer_failed(&r.vr_out)) {
        fprintf(stderr, "ssemon validate: out of memory\n");
        validate_worse(&r, VALIDATE_ERROR);
    }
    if (r.vr_write_failed) {
        fprintf(stderr, "ssemon validate: cannot write to stdout\n");
        validate_worse(&r, VALIDATE_ERROR);
    }
    rc = r.vr_status;
    json_writer_free(&r.vr_out);
    json_tape_free(&r.vr_tape);
done:
    json_schema_compile_free(set);
    schema_docs_free(docs);
    diag_list_free(&errors);
out:
    free(refs);
    free(data);
    return rc;
}
