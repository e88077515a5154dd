/* config/schema_docs: file URIs, the allowed directories (containment,
 * "../", symbolic links, a sibling whose name extends an allowed one), the
 * loader's refusals and positions of errors, on real files in a temporary
 * directory. */
#include "ssemon/config/schema_docs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

static const char *tmp_path(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", tmpdir, rel);
    return buf;
}

static void write_text(const char *rel, const char *text)
{
    char path[256];
    FILE *f = fopen(tmp_path(path, sizeof(path), rel), "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static const char *const tmp_files[] = {
    "a/schema.json",   "a/sub/b.json", "a/bad.json", "a/id.json",
    "a/sp ace#1.json", "a/link.json",  "a2/x.json",  "outside.json",
};
static const char *const tmp_dirs[] = {"a/sub", "a", "a2"};

static int group_setup(void **state)
{
    char path[256], target[256];
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ssemon-test-schema-docs-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    for (size_t i = sizeof(tmp_dirs) / sizeof(tmp_dirs[0]); i-- > 0;)
        if (mkdir(tmp_path(path, sizeof(path), tmp_dirs[i]), 0700) != 0)
            return -1;
    /* A byte order mark first: positions count from the character after it. */
    write_text("a/schema.json", "\xEF\xBB\xBF{\n"
                                "  \"type\": \"object\",\n"
                                "  \"properties\": {\n"
                                "    \"x\": {\"$ref\": \"sub/b.json\"}\n"
                                "  }\n"
                                "}\n");
    write_text("a/sub/b.json", "{\"type\": \"integer\"}");
    write_text("a/bad.json", "{\n  \"type\": \"integer\",,\n}\n");
    write_text("a/id.json", "{\"$id\": \"http://example.com/models.json#\", \"$defs\": {}}");
    write_text("a/sp ace#1.json", "true");
    write_text("a2/x.json", "{}");
    write_text("outside.json", "{}");
    if (symlink(tmp_path(target, sizeof(target), "outside.json"),
                tmp_path(path, sizeof(path), "a/link.json")) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    char path[256];
    (void)state;
    for (size_t i = 0; i < sizeof(tmp_files) / sizeof(tmp_files[0]); i++)
        unlink(tmp_path(path, sizeof(path), tmp_files[i]));
    for (size_t i = 0; i < sizeof(tmp_dirs) / sizeof(tmp_dirs[0]); i++)
        rmdir(tmp_path(path, sizeof(path), tmp_dirs[i]));
    return rmdir(tmpdir);
}

static void test_uri_from_path(void **state)
{
    char uri[128];
    (void)state;
    assert_int_equal(schema_docs_uri_from_path("/etc/ssemon/a.json", uri, sizeof(uri)), 0);
    assert_string_equal(uri, "file:///etc/ssemon/a.json");
    assert_int_equal(schema_docs_uri_from_path("/a b/#x%?\xC3\xA9~:@.json", uri, sizeof(uri)), 0);
    assert_string_equal(uri, "file:///a%20b/%23x%25%3F%C3%A9~:@.json");
    /* Relative paths have no file URI; a URI that does not fit is refused. */
    assert_int_equal(schema_docs_uri_from_path("a.json", uri, sizeof(uri)), -1);
    assert_int_equal(schema_docs_uri_from_path("/abcdef", uri, 12), -1);
    assert_int_equal(schema_docs_uri_from_path("/abcd", uri, 13), 0);
    assert_string_equal(uri, "file:///abcd");
}

static void assert_path(const char *uri, const char *want)
{
    char path[128], why[128];
    assert_int_equal(schema_docs_path_from_uri(uri, path, sizeof(path), why, sizeof(why)), 0);
    assert_string_equal(path, want);
}

static void assert_no_path(const char *uri, const char *want_why)
{
    char path[128], why[128];
    assert_int_equal(schema_docs_path_from_uri(uri, path, sizeof(path), why, sizeof(why)), -1);
    assert_string_equal(why, want_why);
}

static void test_path_from_uri(void **state)
{
    (void)state;
    assert_path("file:///etc/a.json", "/etc/a.json");
    assert_path("FILE:///etc/a.json#/components/schemas/T", "/etc/a.json");
    assert_path("file://localhost/etc/a.json", "/etc/a.json");
    assert_path("file:/etc/a.json", "/etc/a.json");
    assert_path("file:///a%20b/%23x%25%3F%C3%A9.json", "/a b/#x%?\xC3\xA9.json");
    assert_no_path("http://localhost:1234/a.json", "not a file: URI");
    assert_no_path("file://example.com/etc/a.json",
                   "a file: URI naming another host: only local files are read");
    assert_no_path("file:etc/a.json", "not an absolute file: URI (file:///PATH)");
    assert_no_path("file:///etc/a.json?x=1", "a file: URI with a query");
    assert_no_path("file:///etc/a%00.json", "a malformed percent-escape in a file: URI");
    assert_no_path("file:///etc/a%2.json", "a malformed percent-escape in a file: URI");
    assert_no_path("file:///etc/a%zz.json", "a malformed percent-escape in a file: URI");
}

static void test_containment(void **state)
{
    char path[256], why[256];
    (void)state;
    struct schema_docs *d = schema_docs_new("the test directories");
    assert_non_null(d);
    assert_int_equal(schema_docs_allow_dir(d, tmp_path(path, sizeof(path), "a"), why, sizeof(why)),
                     0);
    assert_true(schema_docs_admits(d, tmp_path(path, sizeof(path), "a/schema.json")));
    assert_true(schema_docs_admits(d, tmp_path(path, sizeof(path), "a/sub/b.json")));
    assert_true(schema_docs_admits(d, tmp_path(path, sizeof(path), "a/sub/../schema.json")));
    /* Out by "../", by a link, or into a sibling whose name starts alike. */
    assert_false(schema_docs_admits(d, tmp_path(path, sizeof(path), "a/../outside.json")));
    assert_false(schema_docs_admits(d, tmp_path(path, sizeof(path), "a/link.json")));
    assert_false(schema_docs_admits(d, tmp_path(path, sizeof(path), "a2/x.json")));
    assert_false(schema_docs_admits(d, tmp_path(path, sizeof(path), "a/missing.json")));
    /* The directory of a file; a missing directory is an error. */
    assert_int_equal(
        schema_docs_allow_dir_of(d, tmp_path(path, sizeof(path), "a2/x.json"), why, sizeof(why)),
        0);
    assert_true(schema_docs_admits(d, tmp_path(path, sizeof(path), "a2/x.json")));
    assert_int_equal(
        schema_docs_allow_dir(d, tmp_path(path, sizeof(path), "nowhere"), why, sizeof(why)), -1);
    assert_non_null(strstr(why, "nowhere: No such file or directory"));
    assert_int_equal(
        schema_docs_allow_dir(d, tmp_path(path, sizeof(path), "outside.json"), why, sizeof(why)),
        -1);
    assert_non_null(strstr(why, "outside.json: not a directory"));
    schema_docs_free(d);
}

/* The file URI of tmpdir/rel. */
static const char *file_uri(char *buf, size_t size, const char *rel)
{
    char path[256], *real;
    real = realpath(tmp_path(path, sizeof(path), rel), NULL);
    if (real == NULL) /* not there: the URI of the path as written */
        real = strdup(path);
    assert_non_null(real);
    assert_int_equal(schema_docs_uri_from_path(real, buf, size), 0);
    free(real);
    return buf;
}

static void assert_refused(struct schema_docs *d, const char *uri, const char *want)
{
    char why[512];
    why[0] = '\0';
    assert_null(schema_docs_load(d, uri, why, sizeof(why)));
    if (strstr(why, want) == NULL)
        fail_msg("loading %s: '%s' does not say '%s'", uri, why, want);
}

static void test_loader(void **state)
{
    char path[256], uri[512], why[512];
    (void)state;
    struct schema_docs *d = schema_docs_new("the test directories");
    assert_non_null(d);
    assert_int_equal(schema_docs_allow_dir(d, tmp_path(path, sizeof(path), "a"), why, sizeof(why)),
                     0);
    const json_t *b =
        schema_docs_load(d, file_uri(uri, sizeof(uri), "a/sub/b.json"), why, sizeof(why));
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "type")), "integer");
    /* Read once: the same document again, also with a fragment and by
     * another spelling of the same file. */
    strcat(uri, "#/type");
    assert_ptr_equal(schema_docs_load(d, uri, why, sizeof(why)), b);
    file_uri(uri, sizeof(uri), "a");
    strcat(uri, "/sub/../sub/b.json");
    assert_ptr_equal(schema_docs_load(d, uri, why, sizeof(why)), b);
    assert_int_equal(schema_docs_count(d), 1);
    /* Percent-encoded names; a schema document may be a boolean. */
    const json_t *sp =
        schema_docs_load(d, file_uri(uri, sizeof(uri), "a/sp ace#1.json"), why, sizeof(why));
    assert_non_null(sp);
    assert_true(json_is_true(sp));
    assert_non_null(strstr(uri, "sp%20ace%231.json"));

    assert_refused(d, "http://localhost:1234/integer.json",
                   "http://localhost:1234/integer.json: only local files are read, never the "
                   "network");
    assert_refused(d, "HTTPS://example.com/x.json#/a", "never the network");
    assert_refused(d, "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed",
                   "not a file: URI, and no document is registered at it");
    assert_refused(d, file_uri(uri, sizeof(uri), "outside.json"),
                   "outside.json: outside the test directories");
    /* The link's own URI: the file it leads to is outside. */
    assert_int_equal(
        schema_docs_uri_from_path(tmp_path(path, sizeof(path), "a/link.json"), uri, sizeof(uri)),
        0);
    assert_refused(d, uri, "link.json: outside the test directories");
    assert_refused(d, file_uri(uri, sizeof(uri), "a2/x.json"), "outside the test directories");
    assert_refused(d, file_uri(uri, sizeof(uri), "a/missing.json"), "missing.json: no such file");
    assert_refused(d, file_uri(uri, sizeof(uri), "a/bad.json"), "bad.json:2:21: invalid JSON: ");
    assert_refused(d, "file://example.com/etc/passwd", "naming another host");
    schema_docs_free(d);
}

static void test_register_and_locate(void **state)
{
    char path[256], uri[512];
    struct diag_list errors;
    (void)state;
    struct schema_docs *d = schema_docs_new(NULL);
    assert_non_null(d);
    diag_list_init(&errors, 0);

    const struct schema_docs_doc *root =
        schema_docs_add_file(d, tmp_path(path, sizeof(path), "a/schema.json"), NULL, &errors);
    assert_non_null(root);
    assert_string_equal(root->sdd_uri, file_uri(uri, sizeof(uri), "a/schema.json"));
    assert_null(root->sdd_id);
    /* Registered at a URI of the caller's. */
    const struct schema_docs_doc *b = schema_docs_add_file(
        d, tmp_path(path, sizeof(path), "a/sub/b.json"), "http://localhost:1234/b.json", &errors);
    assert_non_null(b);
    /* At its file URI and its absolute $id (without the empty fragment). */
    const struct schema_docs_doc *id =
        schema_docs_add_file(d, tmp_path(path, sizeof(path), "a/id.json"), NULL, &errors);
    assert_non_null(id);
    assert_string_equal(id->sdd_id, "http://example.com/models.json");
    assert_int_equal(errors.dl_n, 0);

    assert_ptr_equal(schema_docs_find(d, "http://example.com/models.json#/$defs"), id);
    assert_ptr_equal(schema_docs_find(d, file_uri(uri, sizeof(uri), "a/id.json")), id);
    assert_ptr_equal(schema_docs_find(d, "http://localhost:1234/b.json"), b);
    assert_ptr_equal(schema_docs_find(d, file_uri(uri, sizeof(uri), "a/sub/b.json")), b);
    char why[256];
    assert_ptr_equal(schema_docs_load(d, "http://localhost:1234/b.json#", why, sizeof(why)),
                     b->sdd_doc);
    assert_int_equal(schema_docs_count(d), 3);
    assert_ptr_equal(schema_docs_at(d, 0), root);
    assert_null(schema_docs_at(d, 3));

    /* Positions: after the byte order mark, at a member's key, at the
     * nearest ancestor of what is missing. */
    const struct schema_docs_doc *doc;
    size_t line, col;
    schema_docs_locate(d, "", "/properties/x/$ref", &doc, &line, &col);
    assert_ptr_equal(doc, root);
    assert_int_equal(line, 4);
    assert_int_equal(col, 11);
    schema_docs_locate(d, "", "/type", &doc, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 3);
    schema_docs_locate(d, "http://localhost:1234/b.json", "/type", &doc, &line, &col);
    assert_ptr_equal(doc, b);
    assert_int_equal(line, 1);
    assert_int_equal(col, 2);
    schema_docs_locate(d, "", "/properties/y/minimum", &doc, &line, &col);
    assert_int_equal(line, 3);
    schema_docs_locate(d, "urn:nothing", "/a", &doc, &line, &col);
    assert_null(doc);
    assert_int_equal(line, 0);

    schema_docs_diag(d, "", "/properties/x/$ref", "cannot resolve", &errors);
    schema_docs_diag(d, "http://localhost:1234/b.json#", "/type", "bad type", &errors);
    schema_docs_diag(d, "urn:nothing", "/a", "unknown", &errors);
    assert_int_equal(errors.dl_n, 3);
    char want[512];
    snprintf(want, sizeof(want), "%s:4:11: /properties/x/$ref: cannot resolve",
             tmp_path(path, sizeof(path), "a/schema.json"));
    assert_string_equal(errors.dl_items[0].dg_text, want);
    snprintf(want, sizeof(want), "%s:1:2: /type: bad type",
             tmp_path(path, sizeof(path), "a/sub/b.json"));
    assert_string_equal(errors.dl_items[1].dg_text, want);
    assert_string_equal(errors.dl_items[2].dg_text, "urn:nothing: /a: unknown");
    diag_list_free(&errors);
    schema_docs_free(d);
}

static void test_register_errors(void **state)
{
    char path[256];
    struct diag_list errors;
    (void)state;
    struct schema_docs *d = schema_docs_new(NULL);
    assert_non_null(d);
    diag_list_init(&errors, 0);
    assert_null(schema_docs_add_file(d, tmp_path(path, sizeof(path), "a/bad.json"), NULL, &errors));
    assert_null(
        schema_docs_add_file(d, tmp_path(path, sizeof(path), "a/missing.json"), NULL, &errors));
    /* Known without the empty fragment, whichever way it is written. */
    const struct schema_docs_doc *x =
        schema_docs_add_file(d, tmp_path(path, sizeof(path), "a2/x.json"), "urn:x#", &errors);
    assert_non_null(x);
    assert_string_equal(x->sdd_uri, "urn:x");
    assert_ptr_equal(schema_docs_find(d, "urn:x"), x);
    assert_null(
        schema_docs_add_file(d, tmp_path(path, sizeof(path), "outside.json"), "urn:x", &errors));
    assert_null(schema_docs_add_file(d, tmp_path(path, sizeof(path), "a"), NULL, &errors));
    assert_int_equal(errors.dl_n, 4);
    char want[512];
    snprintf(want, sizeof(want),
             "%s:2:21: invalid JSON: ", tmp_path(path, sizeof(path), "a/bad.json"));
    assert_memory_equal(errors.dl_items[0].dg_text, want, strlen(want));
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory",
             tmp_path(path, sizeof(path), "a/missing.json"));
    assert_string_equal(errors.dl_items[1].dg_text, want);
    snprintf(want, sizeof(want), "%s: a document is already registered at urn:x",
             tmp_path(path, sizeof(path), "outside.json"));
    assert_string_equal(errors.dl_items[2].dg_text, want);
    snprintf(want, sizeof(want), "%s: not a regular file", tmp_path(path, sizeof(path), "a"));
    assert_string_equal(errors.dl_items[3].dg_text, want);
    diag_list_free(&errors);
    schema_docs_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_from_path),       cmocka_unit_test(test_path_from_uri),
        cmocka_unit_test(test_containment),         cmocka_unit_test(test_loader),
        cmocka_unit_test(test_register_and_locate), cmocka_unit_test(test_register_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
