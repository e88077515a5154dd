/* core/entry_ring: eviction by count and by bytes, wrap-around, an entry
 * larger than the budget, replacing the newest, fixed memory; a growing
 * ring keeps max_entries of the largest entries, and small ones never
 * grow it. */
#include "ssemon/core/entry_ring.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void ring_expect(const struct entry_ring *r, size_t i, const char *want)
{
    char buf[256];
    assert_int_equal(entry_ring_len(r, i), strlen(want));
    assert_int_equal(entry_ring_copy(r, i, buf), strlen(want));
    assert_memory_equal(buf, want, strlen(want));
}

static void test_nothing_before_first_push(void **state)
{
    (void)state;
    struct entry_ring *r = entry_ring_new(50, 16384);
    assert_non_null(r);
    assert_true(entry_ring_memory(r) < 128);
    assert_int_equal(entry_ring_count(r), 0);
    assert_int_equal(entry_ring_len(r, 0), 0);
    assert_int_equal(entry_ring_copy(r, 0, NULL), 0);
    assert_int_equal(entry_ring_push(r, "a", 1), 0);
    assert_true(entry_ring_memory(r) >= 16384);
    entry_ring_free(r);
    assert_null(entry_ring_new(0, 10));
    assert_null(entry_ring_new(10, 0));
}

static void test_count_bound(void **state)
{
    (void)state;
    struct entry_ring *r = entry_ring_new(3, 1000);
    char buf[32];
    for (int i = 0; i < 10; i++) {
        int n = snprintf(buf, sizeof(buf), "entry %d", i);
        assert_int_equal(entry_ring_push(r, buf, (size_t)n), 0);
    }
    assert_int_equal(entry_ring_count(r), 3);
    ring_expect(r, 0, "entry 7");
    ring_expect(r, 2, "entry 9");
    assert_int_equal(entry_ring_evicted(r), 7);
    assert_int_equal(entry_ring_bytes(r), 21);
    entry_ring_free(r);
}

static void test_byte_bound(void **state)
{
    (void)state;
    struct entry_ring *r = entry_ring_new(50, 20);
    assert_int_equal(entry_ring_push(r, "0123456789", 10), 0);
    assert_int_equal(entry_ring_push(r, "abcdefgh", 8), 0);
    assert_int_equal(entry_ring_push(r, "XYZ", 3), 0); /* 21 > 20: the first goes */
    assert_int_equal(entry_ring_count(r), 2);
    ring_expect(r, 0, "abcdefgh");
    ring_expect(r, 1, "XYZ");
    assert_int_equal(entry_ring_bytes(r), 11);
    /* Exactly the budget: alone. */
    assert_int_equal(entry_ring_push(r, "abcdefghijklmnopqrst", 20), 0);
    assert_int_equal(entry_ring_count(r), 1);
    ring_expect(r, 0, "abcdefghijklmnopqrst");
    /* Larger than the budget: refused, the ring unchanged. */
    assert_int_equal(entry_ring_push(r, "abcdefghijklmnopqrstu", 21), -1);
    assert_int_equal(entry_ring_count(r), 1);
    ring_expect(r, 0, "abcdefghijklmnopqrst");
    assert_int_equal(entry_ring_replace_newest(r, "abcdefghijklmnopqrstu", 21), -1);
    ring_expect(r, 0, "abcdefghijklmnopqrst");
    entry_ring_free(r);
}

/* Entries wrap around the end of the buffer and read back whole; a model
 * says which are kept. */
static void test_wrap_around_against_model(void **state)
{
    (void)state;
    enum { N = 3000, ENTRIES = 5, BYTES = 97 };
    static char entries[N][40];
    static size_t lens[N];
    struct entry_ring *r = entry_ring_new(ENTRIES, BYTES);
    size_t memory = 0;
    uint32_t seed = 7;
    for (size_t i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        int n = snprintf(entries[i], sizeof(entries[i]), "%zu:%.*s", i, (int)((seed >> 16) % 30),
                         "------------------------------");
        lens[i] = (size_t)n;
        assert_int_equal(entry_ring_push(r, entries[i], lens[i]), 0);
        if (i == 0)
            memory = entry_ring_memory(r);
        assert_int_equal(entry_ring_memory(r), memory);
        size_t keep = 0, bytes = 0;
        while (keep < ENTRIES && keep <= i && bytes + lens[i - keep] <= BYTES) {
            bytes += lens[i - keep];
            keep++;
        }
        assert_int_equal(entry_ring_count(r), keep);
        assert_int_equal(entry_ring_bytes(r), bytes);
        for (size_t k = 0; k < keep; k++) {
            char want[41];
            size_t j = i + 1 - keep + k;
            memcpy(want, entries[j], lens[j]);
            want[lens[j]] = '\0';
            ring_expect(r, k, want);
        }
    }
    assert_int_equal(entry_ring_evicted(r), N - entry_ring_count(r));
    entry_ring_free(r);
}

static void test_replace_newest(void **state)
{
    (void)state;
    struct entry_ring *r = entry_ring_new(3, 12);
    assert_int_equal(entry_ring_replace_newest(r, "one", 3), 0); /* empty: a push */
    assert_int_equal(entry_ring_push(r, "two", 3), 0);
    assert_int_equal(entry_ring_push(r, "three", 5), 0);
    /* Longer than the room left: the oldest goes, not the replaced one. */
    assert_int_equal(entry_ring_replace_newest(r, "three+ev", 8), 0);
    assert_int_equal(entry_ring_count(r), 2);
    ring_expect(r, 0, "two");
    ring_expect(r, 1, "three+ev");
    assert_int_equal(entry_ring_bytes(r), 11);
    assert_int_equal(entry_ring_replace_newest(r, "", 0), 0);
    assert_int_equal(entry_ring_count(r), 2);
    assert_int_equal(entry_ring_len(r, 1), 0);
    entry_ring_free(r);
}

/* The violation ring's shape: 50 entries, 16 KiB first, 50 times the
 * largest entry at most. */
enum { GROW_ENTRIES = 50, GROW_FIRST = 16384, GROW_LARGEST = 817 };

/* Entry i: its number, then filler up to `len` bytes. */
static size_t grow_entry(char *buf, size_t i, size_t len)
{
    int n = snprintf(buf, len + 1, "%zu:", i);
    memset(buf + n, 'a' + (int)(i % 26), len - (size_t)n);
    return len;
}

static void grow_expect(const struct entry_ring *r, size_t k, size_t i, size_t len)
{
    char want[GROW_LARGEST + 1], got[GROW_LARGEST + 1];
    grow_entry(want, i, len);
    assert_int_equal(entry_ring_len(r, k), len);
    assert_int_equal(entry_ring_copy(r, k, got), len);
    assert_memory_equal(got, want, len);
}

static void test_growing_keeps_the_largest(void **state)
{
    (void)state;
    struct entry_ring *r =
        entry_ring_new_growing(GROW_ENTRIES, GROW_FIRST, GROW_ENTRIES * GROW_LARGEST);
    assert_non_null(r);
    size_t bound =
        entry_ring_memory(r) + GROW_ENTRIES * 2 * sizeof(size_t) + GROW_ENTRIES * GROW_LARGEST;
    char buf[GROW_LARGEST + 1];
    size_t memory = 0;
    for (size_t i = 0; i < 400; i++) {
        assert_int_equal(entry_ring_push(r, buf, grow_entry(buf, i, GROW_LARGEST)), 0);
        size_t keep = i + 1 < GROW_ENTRIES ? i + 1 : GROW_ENTRIES;
        assert_int_equal(entry_ring_count(r), keep);
        assert_int_equal(entry_ring_bytes(r), keep * GROW_LARGEST);
        for (size_t k = 0; k < keep; k++)
            grow_expect(r, k, i + 1 - keep + k, GROW_LARGEST);
        /* It grew (16, 32, then 40 KiB) and stays at its bound. */
        assert_true(entry_ring_memory(r) >= memory);
        memory = entry_ring_memory(r);
        assert_true(memory <= bound);
    }
    assert_int_equal(entry_ring_evicted(r), 400 - GROW_ENTRIES);
    /* Larger than the largest budget: refused. */
    static char big[GROW_ENTRIES * GROW_LARGEST + 1];
    assert_int_equal(entry_ring_push(r, big, sizeof(big)), -1);
    assert_int_equal(entry_ring_count(r), GROW_ENTRIES);
    entry_ring_free(r);
}

/* Entries of mixed lengths up to the largest: always the last 50, in
 * order, wherever the buffer wrapped when it grew. */
static void test_growing_mixed_lengths(void **state)
{
    (void)state;
    struct entry_ring *r =
        entry_ring_new_growing(GROW_ENTRIES, GROW_FIRST, GROW_ENTRIES * GROW_LARGEST);
    static size_t lens[2000];
    char buf[GROW_LARGEST + 1];
    uint32_t seed = 11;
    for (size_t i = 0; i < 2000; i++) {
        seed = seed * 1103515245u + 12345u;
        /* Mostly short, now and then a run of long ones. */
        lens[i] = (i / 100) % 3 == 2 ? GROW_LARGEST - (seed >> 16) % 100 : 60 + (seed >> 16) % 200;
        assert_int_equal(entry_ring_push(r, buf, grow_entry(buf, i, lens[i])), 0);
        size_t keep = i + 1 < GROW_ENTRIES ? i + 1 : GROW_ENTRIES;
        assert_int_equal(entry_ring_count(r), keep);
        for (size_t k = 0; k < keep; k++)
            grow_expect(r, k, i + 1 - keep + k, lens[i + 1 - keep + k]);
    }
    entry_ring_free(r);
}

/* 50 entries of 300 bytes fit 16 KiB: the ring never grows. */
static void test_growing_small_entries_stay(void **state)
{
    (void)state;
    struct entry_ring *r =
        entry_ring_new_growing(GROW_ENTRIES, GROW_FIRST, GROW_ENTRIES * GROW_LARGEST);
    char buf[GROW_LARGEST + 1];
    assert_int_equal(entry_ring_push(r, buf, grow_entry(buf, 0, 300)), 0);
    size_t memory = entry_ring_memory(r);
    assert_true(memory < GROW_FIRST + 2048);
    for (size_t i = 1; i < 5000; i++) {
        assert_int_equal(entry_ring_push(r, buf, grow_entry(buf, i, 150 + i % 151)), 0);
        assert_int_equal(entry_ring_memory(r), memory);
    }
    assert_int_equal(entry_ring_count(r), GROW_ENTRIES);
    entry_ring_free(r);
    assert_null(entry_ring_new_growing(10, 100, 99));
    assert_null(entry_ring_new_growing(10, 0, 99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_before_first_push),
        cmocka_unit_test(test_count_bound),
        cmocka_unit_test(test_byte_bound),
        cmocka_unit_test(test_wrap_around_against_model),
        cmocka_unit_test(test_replace_newest),
        cmocka_unit_test(test_growing_keeps_the_largest),
        cmocka_unit_test(test_growing_mixed_lengths),
        cmocka_unit_test(test_growing_small_entries_stay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
