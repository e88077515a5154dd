/*
 * journal_codec and journal_queue: a record in journald's native protocol
 * (plain and binary-safe fields, exact bytes), read back; as one JSON line
 * (decoded with jansson: what a reader of stderr gets); and the bounded
 * queue that holds records while a sink cannot take them.
 */
#include "ssemon/io/journal_codec.h"
#include "ssemon/io/journal_queue.h"
#include "ssemon/json/json_writer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#define F(name, lit)                                                                               \
    {                                                                                              \
        name, lit, sizeof(lit) - 1                                                                 \
    }

/* The datagram of three fields is exactly `want` (`want_len` bytes). */
static void assert_native(const struct journal_field f[3], const char *want, size_t want_len)
{
    size_t len;
    char *buf = journal_codec_native(f, 3, &len);
    assert_non_null(buf);
    if (len != want_len || memcmp(buf, want, want_len) != 0)
        fail_msg("bytes differ: got %zu bytes, want %zu", len, want_len);
    free(buf);
}

static void test_native_plain(void **state)
{
    (void)state;
    const struct journal_field f[] = {F("MESSAGE", "a: b = c"), F("PRIORITY", "4"),
                                      F("SSEMON_EMPTY", "")};
    static const char want[] = "MESSAGE=a: b = c\nPRIORITY=4\nSSEMON_EMPTY=\n";
    assert_native(f, want, sizeof(want) - 1);
}

/* A line feed or a NUL in a value: NAME, line feed, 64-bit little-endian
 * length, the bytes, line feed. */
static void test_native_binary(void **state)
{
    (void)state;
    const struct journal_field f[] = {F("MESSAGE", "two\nlines"), F("SSEMON_EXCERPT", "a\0b"),
                                      F("PRIORITY", "3")};
    static const char want[] = "MESSAGE\n\x09\0\0\0\0\0\0\0two\nlines\n"
                               "SSEMON_EXCERPT\n\x03\0\0\0\0\0\0\0a\0b\n"
                               "PRIORITY=3\n";
    assert_native(f, want, sizeof(want) - 1);
}

static void test_parse_round_trip(void **state)
{
    (void)state;
    char big[300];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i % 256); /* every byte value, NUL and line feed included */
    const struct journal_field f[] = {
        F("MESSAGE", "hello"),  F("SSEMON_A", ""),
        F("SSEMON_B", "x=y=z"), {"SSEMON_BIN", big, sizeof(big)},
        F("SSEMON_NL", "\n"),   F("PRIORITY", "5"),
    };
    size_t n = sizeof(f) / sizeof(f[0]);
    size_t len;
    char *buf = journal_codec_native(f, n, &len);
    assert_non_null(buf);
    struct journal_field back[JOURNAL_CODEC_MAX_FIELDS];
    assert_int_equal(journal_codec_parse(buf, len, back, JOURNAL_CODEC_MAX_FIELDS), (int)n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(back[i].jf_name, f[i].jf_name);
        assert_int_equal(back[i].jf_len, f[i].jf_len);
        assert_memory_equal(back[i].jf_value, f[i].jf_value, f[i].jf_len);
    }
    free(buf);
}

static int parse_text(const char *text, size_t len, size_t max)
{
    char buf[256];
    assert_true(len <= sizeof(buf));
    memcpy(buf, text, len);
    struct journal_field out[JOURNAL_CODEC_MAX_FIELDS];
    return journal_codec_parse(buf, len, out, max);
}

static void test_parse_malformed(void **state)
{
    (void)state;
#define P(lit, max) parse_text(lit, sizeof(lit) - 1, max)
    assert_int_equal(P("", 4), 0);
    assert_int_equal(P("A=1\nB=2\n", 4), 2);
    assert_int_equal(P("A=1", 4), -1);                                     /* no line feed */
    assert_int_equal(P("=1\n", 4), -1);                                    /* no name */
    assert_int_equal(P("\n", 4), -1);                                      /* no name */
    assert_int_equal(P("A=1\nB=2\n", 1), -1);                              /* more than max */
    assert_int_equal(P("A\n\x02\0\0\0\0\0\0\0xy\n", 4), 1);                /* binary */
    assert_int_equal(P("A\n\x02\0\0\0\0\0\0\0xy", 4), -1);                 /* no final line feed */
    assert_int_equal(P("A\n\x02\0\0\0\0\0\0\0xyz", 4), -1);                /* wrong final byte */
    assert_int_equal(P("A\n\x09\0\0\0\0\0\0\0xy\n", 4), -1);               /* length past the end */
    assert_int_equal(P("A\n\xff\xff\xff\xff\xff\xff\xff\xffxy\n", 4), -1); /* huge length */
    assert_int_equal(P("A\n\x02\0\0", 4), -1);                             /* cut length */
#undef P
}

/* 2026-12-07T20:45:01.123Z */
#define WALL_MS 1796676301123ull

static json_t *json_line(const struct journal_field *f, size_t n, struct json_writer *w)
{
    json_writer_reset(w);
    journal_codec_json(f, n, WALL_MS, w);
    assert_false(json_writer_failed(w));
    size_t len;
    const char *text = json_writer_text(w, &len);
    assert_true(len > 0);
    assert_int_equal(text[len - 1], '\n');
    assert_null(memchr(text, '\n', len - 1)); /* one line */
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
    if (doc == NULL)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    return doc;
}

static void test_json_line(void **state)
{
    (void)state;
    struct json_writer w;
    json_writer_init(&w);
    const struct journal_field f[] = {
        F("MESSAGE", "a \"quoted\"\nline"), F("PRIORITY", "3"), F("SSEMON_NUL", "x\0y"),
        F("SSEMON_BAD", "ok\xff\xc3(\xe2\x82"), F("SSEMON_UTF8", "caf\xc3\xa9 \xe2\x82\xac")};
    json_t *doc = json_line(f, 5, &w);
    const char *key;
    json_t *val;
    const char *order[] = {"t", "MESSAGE", "PRIORITY", "SSEMON_NUL", "SSEMON_BAD", "SSEMON_UTF8"};
    size_t i = 0;
    json_object_foreach(doc, key, val)
    {
        (void)val;
        assert_true(i < 6);
        assert_string_equal(key, order[i++]);
    }
    assert_int_equal(i, 6);
    /* The time the record was made, first. */
    assert_string_equal(json_string_value(json_object_get(doc, "t")), "2026-12-07T20:45:01.123Z");
    assert_string_equal(json_string_value(json_object_get(doc, "MESSAGE")), "a \"quoted\"\nline");
    assert_true(json_is_integer(json_object_get(doc, "PRIORITY")));
    assert_int_equal(json_integer_value(json_object_get(doc, "PRIORITY")), 3);
    json_t *nul = json_object_get(doc, "SSEMON_NUL");
    assert_int_equal(json_string_length(nul), 3);
    assert_memory_equal(json_string_value(nul), "x\0y", 3);
    /* Each byte that is not UTF-8 is one U+FFFD. */
    assert_string_equal(json_string_value(json_object_get(doc, "SSEMON_BAD")),
                        "ok\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(json_string_value(json_object_get(doc, "SSEMON_UTF8")),
                        "caf\xc3\xa9 \xe2\x82\xac");
    json_decref(doc);

    /* A PRIORITY that is not a number stays a string. */
    const struct journal_field g[] = {F("PRIORITY", "x")};
    doc = json_line(g, 1, &w);
    assert_string_equal(json_string_value(json_object_get(doc, "PRIORITY")), "x");
    json_decref(doc);
    json_writer_free(&w);
}

/* ---- the queue ---- */

static void test_queue_fifo(void **state)
{
    (void)state;
    struct journal_queue q;
    journal_queue_init(&q, 10, 1000);
    assert_null(journal_queue_front(&q, NULL, NULL));
    journal_queue_pop(&q); /* harmless */
    char item[8];
    for (int i = 0; i < 5; i++) {
        snprintf(item, sizeof(item), "i%d", i);
        assert_int_equal(journal_queue_push(&q, item, strlen(item), (unsigned)(i % 2)),
                         JOURNAL_QUEUE_OK);
    }
    assert_int_equal(journal_queue_items(&q), 5);
    assert_int_equal(q.jq_bytes, 10);
    assert_int_equal(q.jq_tagged[0], 3);
    assert_int_equal(q.jq_tagged[1], 2);
    for (int i = 0; i < 5; i++) {
        size_t len;
        unsigned tag;
        const char *front = journal_queue_front(&q, &len, &tag);
        assert_non_null(front);
        snprintf(item, sizeof(item), "i%d", i);
        assert_int_equal(len, 2);
        assert_memory_equal(front, item, 2);
        assert_int_equal(tag, (unsigned)(i % 2));
        journal_queue_pop(&q);
    }
    assert_int_equal(journal_queue_items(&q), 0);
    assert_int_equal(q.jq_bytes, 0);
    assert_int_equal(q.jq_tagged[0] + q.jq_tagged[1], 0);
    journal_queue_clear(&q);
}

static void test_queue_bounds(void **state)
{
    (void)state;
    struct journal_queue q;
    /* Item bound. */
    journal_queue_init(&q, 3, 1000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(journal_queue_push(&q, "abc", 3, 1), JOURNAL_QUEUE_OK);
    assert_int_equal(journal_queue_push(&q, "abc", 3, 1), JOURNAL_QUEUE_FULL);
    assert_int_equal(journal_queue_items(&q), 3);
    journal_queue_pop(&q);
    assert_int_equal(journal_queue_push(&q, "abc", 3, 1), JOURNAL_QUEUE_OK);
    journal_queue_clear(&q);
    assert_int_equal(journal_queue_items(&q), 0);

    /* Byte bound: exactly full is allowed, one byte more is not. */
    journal_queue_init(&q, 100, 10);
    assert_int_equal(journal_queue_push(&q, "12345", 5, 0), JOURNAL_QUEUE_OK);
    assert_int_equal(journal_queue_push(&q, "123456", 6, 0), JOURNAL_QUEUE_FULL);
    assert_int_equal(journal_queue_push(&q, "12345", 5, 0), JOURNAL_QUEUE_OK);
    assert_int_equal(journal_queue_push(&q, "1", 1, 0), JOURNAL_QUEUE_FULL);
    assert_int_equal(q.jq_bytes, 10);
    journal_queue_clear(&q);

    /* An empty queue takes one item larger than the byte bound, and
     * nothing after it. */
    char big[64] = {0};
    assert_int_equal(journal_queue_push(&q, big, sizeof(big), 1), JOURNAL_QUEUE_OK);
    assert_int_equal(journal_queue_push(&q, "1", 1, 1), JOURNAL_QUEUE_FULL);
    assert_int_equal(journal_queue_items(&q), 1);
    journal_queue_pop(&q);
    assert_int_equal(journal_queue_push(&q, "1", 1, 1), JOURNAL_QUEUE_OK);
    journal_queue_clear(&q);

    /* A bound of 0 items means 1. */
    journal_queue_init(&q, 0, 10);
    assert_int_equal(journal_queue_push(&q, "1", 1, 0), JOURNAL_QUEUE_OK);
    assert_int_equal(journal_queue_push(&q, "1", 1, 0), JOURNAL_QUEUE_FULL);
    journal_queue_clear(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_plain),     cmocka_unit_test(test_native_binary),
        cmocka_unit_test(test_parse_round_trip), cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_json_line),        cmocka_unit_test(test_queue_fifo),
        cmocka_unit_test(test_queue_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
