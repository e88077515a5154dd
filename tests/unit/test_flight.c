/* core/flight: frame splitting, bounds, eviction, headers; time injected. */
#include "ssemon/core/flight.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void flight_test_expect(const struct flight *f, size_t i, const char *data, bool complete)
{
    const struct flight_frame *fr = flight_frame(f, i);
    assert_non_null(fr);
    assert_int_equal(fr->ff_len, strlen(data));
    unsigned char buf[256];
    assert_true(fr->ff_len <= sizeof(buf));
    assert_int_equal(flight_frame_copy(f, i, buf), fr->ff_len);
    assert_memory_equal(buf, data, fr->ff_len);
    assert_int_equal(fr->ff_complete, complete);
}

/* Where the frames of `s` end, by the stream's line rules applied to the
 * whole text at once (CRLF, CR and LF end a line; an empty line ends the
 * frame): ends[k] is one past frame k's last byte. Returns the count. */
static size_t flight_test_ends(const unsigned char *s, size_t len, size_t *ends, size_t cap)
{
    size_t n = 0;
    bool line_start = true;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\r' && s[i] != '\n') {
            line_start = false;
            continue;
        }
        size_t end = s[i] == '\r' && i + 1 < len && s[i + 1] == '\n' ? i + 2 : i + 1;
        if (line_start && n < cap)
            ends[n++] = end;
        line_start = true;
        i = end - 1;
    }
    return n;
}

/* Frame splitting does not depend on where the chunks are cut: random
 * texts of ordinary bytes, CR and LF, fed in random pieces, against the
 * whole-text rule above. */
static void test_split_any_chunking(void **state)
{
    (void)state;
    static const unsigned char alphabet[] = "ab:\r\n\n";
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 2000; round++) {
        unsigned char text[320];
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t len = (size_t)(seed >> 33) % 300;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            text[i] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
        }
        /* Ended by a complete frame, so no CR waits for an LF at the end. */
        memcpy(text + len, "x\n\n", 3);
        len += 3;
        size_t ends[320];
        size_t n = flight_test_ends(text, len, ends, 320);
        struct flight *f = flight_new(FLIGHT_MAX_EVENTS, 1u << 20);
        assert_non_null(f);
        for (size_t at = 0; at < len;) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            size_t piece = 1 + (size_t)(seed >> 33) % 24;
            if (piece > len - at)
                piece = len - at;
            flight_feed(f, 1, 1, text + at, piece);
            at += piece;
        }
        if (flight_count(f) != n)
            fail_msg("round %d: %zu frames, want %zu", round, flight_count(f), n);
        size_t from = 0;
        for (size_t k = 0; k < n; k++) {
            unsigned char got[320];
            const struct flight_frame *fr = flight_frame(f, k);
            assert_int_equal(fr->ff_len, ends[k] - from);
            assert_true(fr->ff_complete);
            assert_int_equal(flight_frame_copy(f, k, got), fr->ff_len);
            assert_memory_equal(got, text + from, fr->ff_len);
            from = ends[k];
        }
        flight_free(f);
    }
}

static void test_split_at_empty_lines(void **state)
{
    (void)state;
    struct flight *f = flight_new(8, 4096);
    assert_non_null(f);
    flight_feed(f, 10, 1000, "data: a\n\ndata: b\n", 17);
    assert_int_equal(flight_count(f), 2);
    flight_test_expect(f, 0, "data: a\n\n", true);
    flight_test_expect(f, 1, "data: b\n", false);
    /* The frame's time is its first byte's. */
    flight_feed(f, 20, 2000, "\n: hb\n\n", 7);
    assert_int_equal(flight_count(f), 3);
    flight_test_expect(f, 1, "data: b\n\n", true);
    assert_int_equal(flight_frame(f, 1)->ff_mono_ms, 10);
    flight_test_expect(f, 2, ": hb\n\n", true);
    assert_int_equal(flight_frame(f, 2)->ff_mono_ms, 20);
    assert_int_equal(flight_frame(f, 2)->ff_wall_ms, 2000);
    assert_int_equal(flight_bytes(f), 9 + 9 + 6);
    flight_free(f);
}

static void test_crlf_and_cr(void **state)
{
    (void)state;
    struct flight *f = flight_new(8, 4096);
    /* CRLF split across chunks: the LF of the ending CRLF stays in the frame. */
    flight_feed(f, 1, 1, "data: x\r\n\r", 10);
    assert_int_equal(flight_count(f), 1);
    assert_false(flight_frame(f, 0)->ff_complete);
    flight_feed(f, 2, 2, "\ndata: y\r\r", 10);
    assert_int_equal(flight_count(f), 2);
    flight_test_expect(f, 0, "data: x\r\n\r\n", true);
    /* CR CR ends a frame; the next byte (not LF) starts a new one. */
    flight_feed(f, 3, 3, "z", 1);
    assert_int_equal(flight_count(f), 3);
    flight_test_expect(f, 1, "data: y\r\r", true);
    flight_test_expect(f, 2, "z", false);
    assert_int_equal(flight_frame(f, 2)->ff_mono_ms, 3);
    flight_free(f);
}

static void test_event_bound_evicts_oldest(void **state)
{
    (void)state;
    struct flight *f = flight_new(3, 4096);
    char buf[32];
    for (int i = 0; i < 10; i++) {
        int n = snprintf(buf, sizeof(buf), "data: %d\n\n", i);
        flight_feed(f, (uint64_t)i, (uint64_t)i, buf, (size_t)n);
    }
    assert_int_equal(flight_count(f), 3);
    flight_test_expect(f, 0, "data: 7\n\n", true);
    flight_test_expect(f, 2, "data: 9\n\n", true);
    assert_int_equal(flight_evicted(f), 7);
    assert_int_equal(flight_bytes(f), 27);
    flight_free(f);
}

static void test_byte_bound(void **state)
{
    (void)state;
    struct flight *f = flight_new(64, 20);
    flight_feed(f, 1, 1, "data: 1\n\n", 9);
    flight_feed(f, 2, 2, "data: 2\n\n", 9);
    flight_feed(f, 3, 3, "data: 3\n\n", 9); /* 27 > 20: the first goes */
    assert_int_equal(flight_count(f), 2);
    flight_test_expect(f, 0, "data: 2\n\n", true);
    assert_true(flight_bytes(f) <= 20);
    /* A frame larger than the bound keeps its head, alone. */
    flight_feed(f, 4, 4, "data: 0123456789abcdefghij\n\n", 28);
    assert_int_equal(flight_count(f), 1);
    const struct flight_frame *fr = flight_frame(f, 0);
    assert_int_equal(fr->ff_len, 20);
    assert_true(fr->ff_truncated);
    assert_true(fr->ff_complete);
    assert_int_equal(flight_dropped_bytes(f), 8);
    assert_int_equal(flight_bytes(f), 20);
    /* The next frame evicts it. */
    flight_feed(f, 5, 5, "data: 5\n\n", 9);
    assert_int_equal(flight_count(f), 1);
    flight_test_expect(f, 0, "data: 5\n\n", true);
    flight_free(f);
}

static void test_open_resets_and_keeps_headers(void **state)
{
    (void)state;
    struct flight *f = flight_new(8, 4096);
    assert_false(flight_opened(f));
    flight_feed(f, 1, 1, "data: old\n\ndata: half", 21);
    const struct recording_field h[] = {
        {"Content-Type", 12, "text/event-stream", 17},
        {"Set-Cookie", 10, "s=secret", 8},
    };
    assert_int_equal(flight_open(f, 50, 5000, 200, h, 2), 0);
    assert_true(flight_opened(f));
    assert_int_equal(flight_count(f), 0);
    assert_int_equal(flight_bytes(f), 0);
    assert_int_equal(flight_status(f), 200);
    assert_int_equal(flight_open_mono_ms(f), 50);
    assert_int_equal(flight_n_headers(f), 2);
    assert_string_equal(flight_header(f, 1)->rf_value, "s=secret");
    assert_null(flight_header(f, 2));
    /* The line state restarts too: a leading empty line is a frame. */
    flight_feed(f, 51, 5001, "\ndata: new\n\n", 12);
    assert_int_equal(flight_count(f), 2);
    flight_test_expect(f, 0, "\n", true);
    flight_test_expect(f, 1, "data: new\n\n", true);
    assert_true(flight_header_secret("set-COOKIE", 10));
    assert_true(flight_header_secret("Authorization", 13));
    assert_false(flight_header_secret("Content-Type", 12));
    flight_free(f);
}

/* Frames whose bytes wrap around the end of the byte ring read back whole,
 * in order, under both bounds. */
static void test_wrap_around(void **state)
{
    (void)state;
    struct flight *f = flight_new(4, 64);
    char buf[64];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(buf, sizeof(buf), "data: %d%.*s\n\n", i, i % 9, "xxxxxxxxx");
        /* In two chunks, so a frame's bytes come in pieces. */
        flight_feed(f, (uint64_t)i, (uint64_t)i, buf, 3);
        flight_feed(f, (uint64_t)i, (uint64_t)i, buf + 3, (size_t)n - 3);
        assert_true(flight_bytes(f) <= 64);
        assert_true(flight_count(f) <= 4);
        for (size_t k = 0; k < flight_count(f); k++) {
            int j = i - (int)(flight_count(f) - 1 - k);
            snprintf(buf, sizeof(buf), "data: %d%.*s\n\n", j, j % 9, "xxxxxxxxx");
            flight_test_expect(f, k, buf, true);
            assert_int_equal(flight_frame(f, k)->ff_mono_ms, (uint64_t)j);
        }
    }
    assert_true(flight_evicted(f) >= 96);
    flight_free(f);
}

/* Against a model: random frames fed in random pieces; what is kept is the
 * newest frames within both bounds, byte for byte. */
static void test_against_model(void **state)
{
    (void)state;
    enum { N = 2000, EVENTS = 7, BYTES = 300 };
    static char frames[N][80];
    static size_t lens[N];
    uint32_t seed = 12345;
    struct flight *f = flight_new(EVENTS, BYTES);
    for (size_t i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t body = (seed >> 16) % 60;
        int n = snprintf(frames[i], sizeof(frames[i]), "data: %zu %.*s\n\n", i, (int)body,
                         "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl");
        lens[i] = (size_t)n;
        size_t at = 0;
        while (at < lens[i]) {
            seed = seed * 1103515245u + 12345u;
            size_t piece = 1 + (seed >> 16) % 40;
            if (piece > lens[i] - at)
                piece = lens[i] - at;
            flight_feed(f, i, i, frames[i] + at, piece);
            at += piece;
        }
        /* The model: newest first while both bounds hold. */
        size_t keep = 0, bytes = 0;
        while (keep < EVENTS && keep <= i && bytes + lens[i - keep] <= BYTES) {
            bytes += lens[i - keep];
            keep++;
        }
        assert_int_equal(flight_count(f), keep);
        assert_int_equal(flight_bytes(f), bytes);
        for (size_t k = 0; k < keep; k++) {
            char want[81];
            memcpy(want, frames[i + 1 - keep + k], lens[i + 1 - keep + k]);
            want[lens[i + 1 - keep + k]] = '\0';
            flight_test_expect(f, k, want, true);
        }
    }
    assert_int_equal(flight_dropped_bytes(f), 0);
    flight_free(f);
}

/* Memory grows by doubling up to the bounds, then stays: small heartbeats
 * cost a few KiB, and a new connection keeps what was allocated. */
static void test_memory_steady(void **state)
{
    (void)state;
    struct flight *f = flight_new(FLIGHT_DEFAULT_EVENTS, FLIGHT_DEFAULT_BYTES);
    size_t empty = flight_memory(f);
    assert_true(empty < 1024);
    const struct recording_field h[] = {{"Content-Type", 12, "text/event-stream", 17}};
    assert_int_equal(flight_open(f, 0, 0, 200, h, 1), 0);
    size_t steady = 0;
    for (uint64_t i = 0; i < 10000; i++) {
        flight_feed(f, i, i, ": hb\n\n", 7);
        if (i == 1000)
            steady = flight_memory(f);
        if (i > 1000)
            assert_int_equal(flight_memory(f), steady);
    }
    assert_int_equal(flight_count(f), FLIGHT_DEFAULT_EVENTS);
    assert_true(steady <= 8 * 1024);
    assert_int_equal(flight_open(f, 0, 0, 200, h, 1), 0);
    assert_int_equal(flight_memory(f), steady);
    /* Large frames: the byte ring reaches max_bytes, no further. */
    static char big[100000];
    memset(big, 'x', sizeof(big));
    for (int i = 0; i < 20; i++) {
        flight_feed(f, 1, 1, "data: ", 6);
        flight_feed(f, 1, 1, big, sizeof(big));
        flight_feed(f, 1, 1, "\n\n", 2);
        assert_true(flight_memory(f) <= steady + FLIGHT_DEFAULT_BYTES);
    }
    assert_true(flight_bytes(f) <= FLIGHT_DEFAULT_BYTES);
    assert_int_equal(flight_count(f), 2);
    flight_free(f);
}

static void test_bounds_refused(void **state)
{
    (void)state;
    assert_null(flight_new(0, 10));
    assert_null(flight_new(10, 0));
    assert_null(flight_new(FLIGHT_MAX_EVENTS + 1, 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_at_empty_lines),
        cmocka_unit_test(test_crlf_and_cr),
        cmocka_unit_test(test_split_any_chunking),
        cmocka_unit_test(test_event_bound_evicts_oldest),
        cmocka_unit_test(test_byte_bound),
        cmocka_unit_test(test_open_resets_and_keeps_headers),
        cmocka_unit_test(test_bounds_refused),
        cmocka_unit_test(test_wrap_around),
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_memory_steady),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
