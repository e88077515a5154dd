/*
 * Tests of core/template (compile errors with their offsets, escapes,
 * names with dots and dashes, expansion, missing names, the output bound)
 * and base/uuid (format, version and variant bits, uniqueness).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "ssemon/base/uuid.h"
#include "ssemon/core/template.h"

static struct template *compile(const char *s)
{
    struct template_error err = {0};
    struct template *t = template_compile(s, strlen(s), &err);
    assert_non_null(t);
    return t;
}

static void compile_fails(const char *s, size_t offset, const char *message_part)
{
    struct template_error err = {0};
    struct template *t = template_compile(s, strlen(s), &err);
    assert_null(t);
    assert_int_equal(err.te_offset, offset);
    assert_non_null(strstr(err.te_message, message_part));
}

/* name=value pairs, NULL-terminated, as a lookup. */
static const char *lookup_pairs(void *ctx, const char *name)
{
    const char *const *kv = ctx;
    for (size_t i = 0; kv[i] != NULL; i += 2)
        if (strcmp(kv[i], name) == 0)
            return kv[i + 1];
    return NULL;
}

static char *expand(const char *text, const char *const *kv)
{
    struct template *t = compile(text);
    const char *missing = NULL;
    size_t len = 0;
    char *out = template_expand(t, lookup_pairs, (void *)kv, &missing, &len);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    template_free(t);
    return out;
}

static void test_compile_errors(void **state)
{
    (void)state;
    compile_fails("abc${", 3, "unterminated");
    compile_fails("abc${name", 3, "unterminated");
    compile_fails("x${}", 1, "empty");
    compile_fails("ab${a b}", 2, "invalid character");
    compile_fails("ok ${a} then ${a/b}", 13, "invalid character");
    compile_fails("${é}", 0, "invalid character");
    char long_name[TEMPLATE_NAME_MAX + 8];
    memset(long_name, 'a', sizeof(long_name));
    memcpy(long_name, "--${", 4);
    long_name[4 + TEMPLATE_NAME_MAX + 1] = '}';
    long_name[4 + TEMPLATE_NAME_MAX + 2] = '\0';
    compile_fails(long_name, 2, "too long");
    /* Exactly TEMPLATE_NAME_MAX bytes is fine. */
    long_name[4 + TEMPLATE_NAME_MAX] = '}';
    long_name[4 + TEMPLATE_NAME_MAX + 1] = '\0';
    struct template *t = compile(long_name);
    assert_int_equal(strlen(template_ref_name(t, 0, NULL)), TEMPLATE_NAME_MAX);
    template_free(t);
}

static void test_references(void **state)
{
    (void)state;
    struct template *t = compile("http://h/${subscriptions.gw-main.request_id}?x=${run_id}&$y");
    assert_string_equal(template_text(t),
                        "http://h/${subscriptions.gw-main.request_id}?x=${run_id}&$y");
    assert_int_equal(template_ref_count(t), 2);
    size_t off = 99;
    assert_string_equal(template_ref_name(t, 0, &off), "subscriptions.gw-main.request_id");
    assert_int_equal(off, 9);
    assert_string_equal(template_ref_name(t, 1, &off), "run_id");
    assert_int_equal(off, 47);
    assert_null(template_ref_name(t, 2, &off));
    assert_true(template_uses(t, "run_id"));
    assert_false(template_uses(t, "run"));
    template_free(t);
    template_free(NULL);
}

static void test_escapes(void **state)
{
    (void)state;
    const char *kv[] = {"a", "A", NULL};
    char *out = expand("$${a} ${a} $ $$ $x $$${a} end$", kv);
    /* "$$${a}": the first "$$${" from the left is the escape, after a lone "$". */
    assert_string_equal(out, "${a} A $ $$ $x $${a} end$");
    free(out);
    struct template *t = compile("$${a}");
    assert_int_equal(template_ref_count(t), 0);
    /* No references: no lookup needed. */
    char *plain = template_expand(t, NULL, NULL, NULL, NULL);
    assert_string_equal(plain, "${a}");
    free(plain);
    template_free(t);
}

static void test_expand(void **state)
{
    (void)state;
    const char *kv[] = {"task_id", "t-1", "instance", "host.a", "q", "\"\\", NULL};
    char *out = expand("/tasks/${task_id}/stream?i=${instance}&t=${task_id}${q}", kv);
    assert_string_equal(out, "/tasks/t-1/stream?i=host.a&t=t-1\"\\");
    free(out);
    const char *empty[] = {"e", "", NULL};
    out = expand("[${e}]", empty);
    assert_string_equal(out, "[]");
    free(out);
    out = expand("", empty);
    assert_string_equal(out, "");
    free(out);
}

static void test_missing(void **state)
{
    (void)state;
    const char *kv[] = {"a", "A", NULL};
    struct template *t = compile("${a}${b}${c}");
    const char *missing = NULL;
    errno = 0;
    assert_null(template_expand(t, lookup_pairs, (void *)kv, &missing, NULL));
    assert_int_equal(errno, ENOENT);
    assert_string_equal(missing, "b");
    template_free(t);
}

static const char *lookup_big(void *ctx, const char *name)
{
    (void)name;
    return ctx;
}

static void test_too_big(void **state)
{
    (void)state;
    size_t half = TEMPLATE_OUT_MAX / 2;
    char *big = malloc(half + 1);
    assert_non_null(big);
    memset(big, 'x', half);
    big[half] = '\0';
    struct template *t = compile("${v}${v}");
    size_t len = 0;
    char *out = template_expand(t, lookup_big, big, NULL, &len);
    assert_non_null(out);
    assert_int_equal(len, TEMPLATE_OUT_MAX);
    free(out);
    template_free(t);
    t = compile("${v}${v}!");
    errno = 0;
    assert_null(template_expand(t, lookup_big, big, NULL, NULL));
    assert_int_equal(errno, E2BIG);
    template_free(t);
    free(big);
}

static void check_uuid(const char *u)
{
    assert_int_equal(strlen(u), UUID_TEXT_LEN);
    for (size_t i = 0; i < UUID_TEXT_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(u[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", u[i]));
    }
    assert_int_equal(u[14], '4');
    assert_non_null(strchr("89ab", u[19]));
}

static void test_uuid(void **state)
{
    (void)state;
    unsigned char ones[16], zeros[16];
    char out[UUID_TEXT_LEN + 1];
    memset(ones, 0xff, sizeof(ones));
    memset(zeros, 0, sizeof(zeros));
    uuid_v4_format(ones, out);
    assert_string_equal(out, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    uuid_v4_format(zeros, out);
    assert_string_equal(out, "00000000-0000-4000-8000-000000000000");
    char a[UUID_TEXT_LEN + 1], b[UUID_TEXT_LEN + 1];
    assert_int_equal(uuid_v4_new(a), 0);
    assert_int_equal(uuid_v4_new(b), 0);
    check_uuid(a);
    check_uuid(b);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_errors), cmocka_unit_test(test_references),
        cmocka_unit_test(test_escapes),        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_missing),        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_uuid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
