/*
 * schema_suite: runs files in the JSON-Schema-Test-Suite format through
 * json_schema, the way the library is used: each case's schema compiled
 * with json_schema_compile_new_opts (remote documents registered by URI),
 * each test's data serialized and parsed with json_tape, then validated.
 *
 *   schema_suite [-v] [--remotes DIR=URIPREFIX]... [--strict FILE]... FILE...
 *
 * Prints, per file and in total: passed, wrong answers (valid/invalid
 * flipped), refused (the schema did not compile); with -v, each test not
 * passed with its description and message. Exits 1 when a file named by
 * --strict has a wrong answer or a refusal (or a file cannot be read), else
 * 0. A development and CI tool: it reads only the files it is given.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ssemon/base/numfmt.h"
#include "ssemon/json/json_schema.h"
#include "ssemon/json/json_schema_compile.h"
#include "ssemon/json/json_tape.h"

#define SS_MAX_REMOTES 4096
#define SS_MAX_STRICT 256

struct ss_remotes {
    struct json_schema_document r_docs[SS_MAX_REMOTES];
    json_t *r_values[SS_MAX_REMOTES];
    char *r_uris[SS_MAX_REMOTES];
    size_t r_n;
};

struct ss_counts {
    unsigned c_pass;
    unsigned c_wrong;
    unsigned c_refused;
};

struct ss_text {
    char *t_buf;
    size_t t_len;
    size_t t_cap;
};

static bool ss_add(struct ss_text *t, const char *s, size_t n)
{
    if (t->t_len + n + 1 > t->t_cap) {
        size_t cap = t->t_cap ? t->t_cap : 256;
        while (cap < t->t_len + n + 1)
            cap *= 2;
        char *p = realloc(t->t_buf, cap);
        if (p == NULL)
            return false;
        t->t_buf = p;
        t->t_cap = cap;
    }
    memcpy(t->t_buf + t->t_len, s, n);
    t->t_len += n;
    t->t_buf[t->t_len] = '\0';
    return true;
}

/* JSON text of `j`, reals written as the shortest text that reads back as
 * the same double (jansson writes 17 digits: 1.1 would become
 * 1.1000000000000001, and multipleOf sees the text). */
static bool ss_serialize(const json_t *j, struct ss_text *t)
{
    char num[NUMFMT_DOUBLE_MAX + 4];
    switch (json_typeof(j)) {
    case JSON_REAL: {
        size_t n = numfmt_double(num, sizeof(num), json_real_value(j), 1);
        if (strpbrk(num, ".eE") == NULL) {
            memcpy(num + n, ".0", 3);
            n += 2;
        }
        return ss_add(t, num, n);
    }
    case JSON_ARRAY: {
        bool ok = ss_add(t, "[", 1);
        for (size_t i = 0; ok && i < json_array_size(j); i++)
            ok = (i == 0 || ss_add(t, ",", 1)) && ss_serialize(json_array_get(j, i), t);
        return ok && ss_add(t, "]", 1);
    }
    case JSON_OBJECT: {
        bool ok = ss_add(t, "{", 1);
        const char *key;
        json_t *v;
        bool first = true;
        json_object_foreach((json_t *)j, key, v)
        {
            json_t *k = json_stringn(key, strlen(key));
            char *ks = k != NULL ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
            ok = ok && ks != NULL && (first || ss_add(t, ",", 1)) && ss_add(t, ks, strlen(ks)) &&
                 ss_add(t, ":", 1) && ss_serialize(v, t);
            free(ks);
            json_decref(k);
            first = false;
        }
        return ok && ss_add(t, "}", 1);
    }
    default: {
        char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        bool ok = s != NULL && ss_add(t, s, strlen(s));
        free(s);
        return ok;
    }
    }
}

/* Loads a JSON file; integers too big for jansson are read as reals. */
static json_t *ss_load(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, JSON_ALLOW_NUL, &e);
    if (j == NULL)
        j = json_load_file(path, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
    if (j == NULL)
        fprintf(stderr, "schema_suite: %s:%d: %s\n", path, e.line, e.text);
    return j;
}

static void ss_remotes_walk(struct ss_remotes *r, const char *dir, const char *rel,
                            const char *prefix)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s%s", dir, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && r->r_n < SS_MAX_REMOTES) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4096];
        char full[8192];
        snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        snprintf(full, sizeof(full), "%s/%s", dir, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            ss_remotes_walk(r, dir, sub, prefix);
            continue;
        }
        size_t len = strlen(sub);
        if (len < 5 || strcmp(sub + len - 5, ".json") != 0)
            continue;
        json_t *j = ss_load(full);
        if (j == NULL)
            continue;
        size_t ulen = strlen(prefix) + len + 1;
        char *uri = malloc(ulen);
        if (uri == NULL) {
            json_decref(j);
            continue;
        }
        snprintf(uri, ulen, "%s%s", prefix, sub);
        r->r_values[r->r_n] = j;
        r->r_uris[r->r_n] = uri;
        r->r_docs[r->r_n].sd_uri = uri;
        r->r_docs[r->r_n].sd_doc = j;
        r->r_n++;
    }
    closedir(d);
}

static void ss_run_case(const json_t *cs, const struct ss_remotes *r, bool verbose,
                        const char *file, struct ss_counts *n)
{
    const json_t *schema = json_object_get(cs, "schema");
    const json_t *tests = json_object_get(cs, "tests");
    const char *cdesc = json_string_value(json_object_get(cs, "description"));
    /* every remote is registered: room for them all */
    struct json_schema_limits lim = {.sl_documents = SS_MAX_REMOTES + 1};
    struct json_schema_options opts = {.so_limits = &lim, .so_docs = r->r_docs, .so_ndocs = r->r_n};
    struct json_schema_error err;
    struct json_schema_set *set = json_schema_compile_new_opts(schema, &opts, &err);
    const struct json_schema *s =
        set != NULL ? json_schema_compile_add(set, schema, "", &err) : NULL;
    if (s == NULL || !json_schema_compile_finish(set, &err)) {
        n->c_refused += (unsigned)json_array_size(tests);
        if (verbose)
            printf("  REFUSED %s: \"%s\" (%zu tests): %s%s%s\n", file, cdesc ? cdesc : "",
                   json_array_size(tests), err.se_uri, err.se_uri[0] ? " " : "", err.se_text);
        json_schema_compile_free(set);
        return;
    }
    struct json_tape tape;
    json_tape_init(&tape);
    for (size_t i = 0; i < json_array_size(tests); i++) {
        const json_t *tc = json_array_get(tests, i);
        bool want = json_is_true(json_object_get(tc, "valid"));
        struct ss_text text = {0};
        bool got = false;
        bool parsed = false;
        const char *why = NULL;
        if (!ss_serialize(json_object_get(tc, "data"), &text) ||
            json_tape_parse(&tape, text.t_buf, text.t_len, NULL) != JSON_TAPE_OK) {
            why = "the data does not parse with json_tape";
        } else {
            parsed = true;
            got = json_schema_validate(s, &tape, json_tape_root(&tape), &err);
            why = got ? "valid" : err.se_text;
        }
        if (parsed && got == want) {
            n->c_pass++;
            free(text.t_buf);
            continue;
        }
        n->c_wrong++;
        if (verbose)
            printf("  WRONG %s: \"%s\" / \"%s\": expected %s, got: %s\n", file, cdesc ? cdesc : "",
                   json_string_value(json_object_get(tc, "description")),
                   want ? "valid" : "invalid", why);
        free(text.t_buf);
    }
    json_tape_free(&tape);
    json_schema_compile_free(set);
}

int main(int argc, char **argv)
{
    static struct ss_remotes remotes;
    const char *strict[SS_MAX_STRICT];
    size_t nstrict = 0;
    bool verbose = false;
    int first = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--remotes") == 0 && i + 1 < argc) {
            char *spec = argv[++i];
            char *eq = strchr(spec, '=');
            if (eq == NULL) {
                fprintf(stderr, "schema_suite: --remotes DIR=URIPREFIX\n");
                return 2;
            }
            *eq = '\0';
            ss_remotes_walk(&remotes, spec, "", eq + 1);
        } else if (strcmp(argv[i], "--strict") == 0 && i + 1 < argc) {
            if (nstrict < SS_MAX_STRICT)
                strict[nstrict++] = argv[i + 1];
            i++;
        } else {
            first = i;
            break;
        }
    }
    /* --strict files are run too */
    struct ss_counts total = {0};
    int rc = 0;
    for (size_t k = 0; k < nstrict + (size_t)(argc - first); k++) {
        const char *file = k < nstrict ? strict[k] : argv[first + (int)(k - nstrict)];
        json_t *cases = ss_load(file);
        if (!json_is_array(cases)) {
            json_decref(cases);
            rc = 1;
            continue;
        }
        struct ss_counts n = {0};
        for (size_t i = 0; i < json_array_size(cases); i++)
            ss_run_case(json_array_get(cases, i), &remotes, verbose, file, &n);
        printf("%s: %u passed, %u wrong, %u refused\n", file, n.c_pass, n.c_wrong, n.c_refused);
        if (k < nstrict && (n.c_wrong > 0 || n.c_refused > 0))
            rc = 1;
        total.c_pass += n.c_pass;
        total.c_wrong += n.c_wrong;
        total.c_refused += n.c_refused;
        json_decref(cases);
    }
    printf("total: %u passed, %u wrong, %u refused\n", total.c_pass, total.c_wrong,
           total.c_refused);
    for (size_t i = 0; i < remotes.r_n; i++) {
        json_decref(remotes.r_values[i]);
        free(remotes.r_uris[i]);
    }
    return rc;
}
