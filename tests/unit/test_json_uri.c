/*
 * json_uri: RFC 3986 section 5.4's reference resolution examples (normal
 * and abnormal), fragments, bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssemon/json/json_uri.h"

static void resolves(const char *base, const char *ref, const char *want)
{
    char out[256];
    if (!json_uri_resolve(base, ref, strlen(ref), out, sizeof(out)))
        fail_msg("%s against %s: does not fit", ref, base);
    if (strcmp(out, want) != 0)
        fail_msg("%s against %s: got %s, want %s", ref, base, out, want);
}

static void test_rfc3986_normal(void **state)
{
    (void)state;
    const char *b = "http://a/b/c/d;p?q";
    resolves(b, "g:h", "g:h");
    resolves(b, "g", "http://a/b/c/g");
    resolves(b, "./g", "http://a/b/c/g");
    resolves(b, "g/", "http://a/b/c/g/");
    resolves(b, "/g", "http://a/g");
    resolves(b, "//g", "http://g");
    resolves(b, "?y", "http://a/b/c/d;p?y");
    resolves(b, "g?y", "http://a/b/c/g?y");
    resolves(b, "#s", "http://a/b/c/d;p?q#s");
    resolves(b, "g#s", "http://a/b/c/g#s");
    resolves(b, "g?y#s", "http://a/b/c/g?y#s");
    resolves(b, ";x", "http://a/b/c/;x");
    resolves(b, "g;x", "http://a/b/c/g;x");
    resolves(b, "", "http://a/b/c/d;p?q");
    resolves(b, ".", "http://a/b/c/");
    resolves(b, "./", "http://a/b/c/");
    resolves(b, "..", "http://a/b/");
    resolves(b, "../", "http://a/b/");
    resolves(b, "../g", "http://a/b/g");
    resolves(b, "../..", "http://a/");
    resolves(b, "../../", "http://a/");
    resolves(b, "../../g", "http://a/g");
}

static void test_rfc3986_abnormal(void **state)
{
    (void)state;
    const char *b = "http://a/b/c/d;p?q";
    resolves(b, "../../../g", "http://a/g");
    resolves(b, "../../../../g", "http://a/g");
    resolves(b, "/./g", "http://a/g");
    resolves(b, "/../g", "http://a/g");
    resolves(b, "g.", "http://a/b/c/g.");
    resolves(b, ".g", "http://a/b/c/.g");
    resolves(b, "g..", "http://a/b/c/g..");
    resolves(b, "..g", "http://a/b/c/..g");
    resolves(b, "./../g", "http://a/b/g");
    resolves(b, "./g/.", "http://a/b/c/g/");
    resolves(b, "g/./h", "http://a/b/c/g/h");
    resolves(b, "g/../h", "http://a/b/c/h");
    resolves(b, "g;x=1/./y", "http://a/b/c/g;x=1/y");
    resolves(b, "g;x=1/../y", "http://a/b/c/y");
    resolves(b, "g?y/./x", "http://a/b/c/g?y/./x");
    resolves(b, "g#s/../x", "http://a/b/c/g#s/../x");
}

static void test_schema_uses(void **state)
{
    (void)state;
    /* URNs, file URIs, an empty fragment dropped */
    resolves("urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed", "#/$defs/bar",
             "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed#/$defs/bar");
    resolves("file:///etc/ssemon/contracts/x.json", "backend-openapi.json#/components/schemas/T",
             "file:///etc/ssemon/contracts/backend-openapi.json#/components/schemas/T");
    resolves("http://localhost:1234/root", "#", "http://localhost:1234/root");
    resolves("http://localhost:1234/", "folder/", "http://localhost:1234/folder/");
    assert_true(json_uri_has_scheme("http://x", 8));
    assert_false(json_uri_has_scheme("a/b:c", 5));
    assert_false(json_uri_has_scheme("#x", 2));
    assert_int_equal(json_uri_scheme_len("file:///x", 9), 4);
    assert_int_equal(json_uri_scheme_len("coap+tcp:x", 10), 8);
    assert_int_equal(json_uri_scheme_len("1http:x", 7), 0);
    assert_int_equal(json_uri_scheme_len("http", 4), 0); /* no ':' within len */
    assert_int_equal(json_uri_scheme_len("", 0), 0);
    assert_int_equal(json_uri_strip_fragment("a#b"), 1);
    assert_int_equal(json_uri_strip_fragment("ab"), 2);
    /* bounded: a result that does not fit is refused, out is "" */
    char small[8];
    assert_false(json_uri_resolve("http://a/b", "cdefgh", 6, small, sizeof(small)));
    assert_string_equal(small, "");
    /* the reference is not NUL-terminated */
    char out[64];
    assert_true(json_uri_resolve("http://a/b", "c#frag", 1, out, sizeof(out)));
    assert_string_equal(out, "http://a/c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3986_normal),
        cmocka_unit_test(test_rfc3986_abnormal),
        cmocka_unit_test(test_schema_uses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
