/* config/diag: the error line formats, escaping, the error cap, sorting in
 * file order and the "did you mean" suggestion, on their own (test_config
 * checks them through whole configurations). Allocation failures are
 * injected (alloc_fail.h). */
#include "ssemon/config/diag.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_fail.h"

#define LEN(s) (sizeof(s) - 1)

static void test_format(void **state)
{
    (void)state;
    char buf[128];

    assert_int_equal(diag_format(buf, sizeof(buf), "f.json", 3, 7, "/a/b", "bad"), 21);
    assert_string_equal(buf, "f.json:3:7: /a/b: bad");
    diag_format(buf, sizeof(buf), "f.json", 3, 7, "", "invalid JSON: x");
    assert_string_equal(buf, "f.json:3:7: invalid JSON: x");
    diag_format(buf, sizeof(buf), "f.json", 0, 0, "/a", "bad");
    assert_string_equal(buf, "f.json: /a: bad");
    diag_format(buf, sizeof(buf), "f.json", 0, 0, "", "cannot open: x");
    assert_string_equal(buf, "f.json: cannot open: x");
    diag_format(buf, sizeof(buf), "", 0, 0, NULL, "m");
    assert_string_equal(buf, ": m");
    diag_format(buf, sizeof(buf), NULL, 3, 7, "/a", "not found");
    assert_string_equal(buf, "not found");
    /* Cut as snprintf cuts; the length is the whole line's. */
    char small[8];
    assert_int_equal(diag_format(small, sizeof(small), "f.json", 1, 1, "", "msg"), 15);
    assert_string_equal(small, "f.json:");
}

static void test_escape(void **state)
{
    (void)state;
    char buf[64];
    static const char raw[] = "a\nb\tc\rd\x07"
                              "e\x7f\"\\";

    diag_escape(buf, sizeof(buf), raw, LEN(raw), false);
    assert_string_equal(buf, "a\\nb\\tc\\rd\\u0007e\\u007f\"\\");
    diag_escape(buf, sizeof(buf), raw, LEN(raw), true);
    assert_string_equal(buf, "a\\nb\\tc\\rd\\u0007e\\u007f\\\"\\\\");
    /* Bytes, not a C string: a NUL is escaped too. */
    diag_escape(buf, sizeof(buf), "x\0y", 3, false);
    assert_string_equal(buf, "x\\u0000y");
    diag_quote(buf, sizeof(buf), "say \"hi\"");
    assert_string_equal(buf, "say \\\"hi\\\"");
    diag_escape(buf, sizeof(buf), "", 0, true);
    assert_string_equal(buf, "");
}

static void test_escape_cut(void **state)
{
    (void)state;
    char buf[8];

    /* Fits: no mark. Until the last piece, room is kept for the mark. */
    diag_escape(buf, sizeof(buf), "abcde", 5, false);
    assert_string_equal(buf, "abcde");
    /* One more: cut with "..." and its NUL. */
    diag_escape(buf, sizeof(buf), "abcdef", 6, false);
    assert_string_equal(buf, "abcd...");
    /* Never inside a UTF-8 sequence: "é" is two bytes. */
    diag_escape(buf, sizeof(buf), "abc\xC3\xA9xyz", 8, false);
    assert_string_equal(buf, "abc...");
    diag_escape(buf, sizeof(buf), "ab\xC3\xA9xyz!", 8, false);
    assert_string_equal(buf, "ab\xC3\xA9...");
    /* Never inside an escape. */
    diag_escape(buf, sizeof(buf), "ab\x01yz", 5, false);
    assert_string_equal(buf, "ab...");
    /* Too small for the mark: what fits, without it. */
    char tiny[3];
    diag_escape(tiny, sizeof(tiny), "abcdef", 6, false);
    assert_string_equal(tiny, "");
    diag_escape(tiny, sizeof(tiny), "a", 1, false);
    assert_string_equal(tiny, "a");
}

static void test_list_sorted(void **state)
{
    (void)state;
    struct diag_list l;

    diag_list_init(&l, 0);
    diag_add(&l, "f.json", 5, 2, "/b", "second");
    diag_addf(&l, "f.json", 2, 9, "/a", "first (%d)", 1);
    diag_add(&l, "f.json", 0, 0, "", "no position");
    diag_add(&l, "f.json", 5, 2, "/b", "second, found later");
    diag_add(&l, "f.json", 5, 1, "/c", "between");
    diag_list_finish(&l, "f.json");
    assert_int_equal(l.dl_n, 5);
    assert_false(l.dl_oom);
    assert_string_equal(l.dl_items[0].dg_text, "f.json: no position");
    assert_string_equal(l.dl_items[1].dg_text, "f.json:2:9: /a: first (1)");
    assert_string_equal(l.dl_items[2].dg_text, "f.json:5:1: /c: between");
    assert_string_equal(l.dl_items[3].dg_text, "f.json:5:2: /b: second");
    assert_string_equal(l.dl_items[4].dg_text, "f.json:5:2: /b: second, found later");
    const struct diag *d = &l.dl_items[1];
    assert_string_equal(d->dg_file, "f.json");
    assert_int_equal(d->dg_line, 2);
    assert_int_equal(d->dg_column, 9);
    assert_string_equal(d->dg_path, "/a");
    assert_string_equal(d->dg_message, "first (1)");
    diag_list_free(&l);
    assert_int_equal(l.dl_n, 0);
    diag_list_free(&l);
}

static void test_list_escapes_file_and_path(void **state)
{
    (void)state;
    struct diag_list l;

    diag_list_init(&l, 10);
    /* The message is the caller's: it quotes what it quotes. */
    diag_add(&l, "dir\n/f.json", 1, 2, "/a\tb", "m\x01");
    assert_int_equal(l.dl_n, 1);
    assert_string_equal(l.dl_items[0].dg_text, "dir\\n/f.json:1:2: /a\\tb: m\x01");
    assert_string_equal(l.dl_items[0].dg_file, "dir\\n/f.json");
    assert_string_equal(l.dl_items[0].dg_path, "/a\\tb");
    diag_list_free(&l);
}

static void test_list_cap(void **state)
{
    (void)state;
    struct diag_list l;

    diag_list_init(&l, 3);
    for (int i = 5; i > 0; i--)
        diag_addf(&l, "f.json", (size_t)i, 1, "", "error %d", i);
    assert_int_equal(l.dl_n, 3);
    assert_int_equal(l.dl_dropped, 2);
    diag_list_finish(&l, "f.json");
    assert_int_equal(l.dl_n, 4);
    /* The kept ones are the first found, sorted; the count comes last. */
    assert_string_equal(l.dl_items[0].dg_text, "f.json:3:1: error 3");
    assert_string_equal(l.dl_items[2].dg_text, "f.json:5:1: error 5");
    assert_string_equal(l.dl_items[3].dg_text, "f.json: 2 more errors not shown");
    diag_list_free(&l);

    diag_list_init(&l, 1);
    diag_add(&l, "f.json", 1, 1, "", "kept");
    diag_add(&l, "f.json", 1, 1, "", "dropped");
    diag_list_finish(&l, "f.json");
    assert_int_equal(l.dl_n, 2);
    assert_string_equal(l.dl_items[1].dg_text, "f.json: 1 more error not shown");
    diag_list_free(&l);
}

static void test_list_out_of_memory(void **state)
{
    (void)state;
    struct diag_list l;

    diag_list_init(&l, 0);
    alloc_failed = 0;
    alloc_countdown = 0; /* the item array */
    diag_add(&l, "f.json", 1, 1, "", "lost");
    alloc_countdown = -1;
    assert_int_equal(alloc_failed, 1);
    assert_true(l.dl_oom);
    assert_int_equal(l.dl_n, 0);
    diag_add(&l, "f.json", 1, 1, "", "kept");
    alloc_countdown = 0; /* the strings' block */
    diag_add(&l, "f.json", 2, 1, "", "lost too");
    alloc_countdown = -1;
    assert_int_equal(l.dl_n, 1);
    assert_string_equal(l.dl_items[0].dg_text, "f.json:1:1: kept");
    diag_list_free(&l);
}

static const char *suggest(const char *word, const char *const *names, size_t n)
{
    struct diag_suggest s;

    diag_suggest_init(&s, word, strlen(word));
    for (size_t i = 0; i < n; i++)
        diag_suggest_consider(&s, names[i]);
    return s.dsg_best;
}

static void test_suggest(void **state)
{
    (void)state;
    static const char *const keys[] = {"status", "strict", "subscriptions", "defaults"};
    const size_t n = sizeof(keys) / sizeof(keys[0]);

    assert_string_equal(suggest("stirct", keys, n), "strict");
    assert_string_equal(suggest("statuss", keys, n), "status");
    assert_string_equal(suggest("defualts", keys, n), "defaults");
    assert_string_equal(suggest("strict", keys, n), "strict");
    /* Three edits is too far. */
    assert_null(suggest("sttt", keys, n));
    assert_null(suggest("zzzzzz", keys, n));
    /* Equally close: the first considered. */
    static const char *const ab[] = {"ab", "ba"};
    assert_string_equal(suggest("aa", ab, 2), "ab");
    /* Longer than 48 bytes: never close, even to itself. */
    char longw[50];
    memset(longw, 'k', sizeof(longw) - 1);
    longw[49] = '\0';
    const char *const self[] = {longw};
    assert_null(suggest(longw, self, 1));
    longw[48] = '\0';
    assert_string_equal(suggest(longw, self, 1), longw);
    assert_null(suggest("x", keys, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_cut),
        cmocka_unit_test(test_list_sorted),
        cmocka_unit_test(test_list_escapes_file_and_path),
        cmocka_unit_test(test_list_cap),
        cmocka_unit_test(test_list_out_of_memory),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
