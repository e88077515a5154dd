/*
 * libFuzzer target for sse_parser. Arbitrary bytes, parsed as two
 * consecutive streams (the second after sse_parser_end, as on a reconnect),
 * must never crash the parser, must give exactly the same transcript
 * (events, comments, retries, anomalies, final state) however they are
 * split into chunks, and every callback must keep the header's promises.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse_test_util.h"
#include "ssemon/core/sse_parser.h"

/* Longer inputs add nothing the limits below do not already exercise. */
#define FUZZ_MAX_INPUT ((size_t)64 << 10)
/* Inputs up to this size are also fed one byte at a time. */
#define FUZZ_BYTEWISE_MAX 256
#define FUZZ_RANDOM_CUTS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Chosen per input (from its hash): small limits reach the size anomalies
 * often; the defaults check that nothing fires spuriously. */
static const struct sse_parser_limits fuzz_limit_sets[] = {
    {.max_line = 256, .max_event = 1024},
    {.max_line = 40, .max_event = 100},
    {.max_line = SSE_PARSER_DEFAULT_MAX_LINE, .max_event = SSE_PARSER_DEFAULT_MAX_EVENT},
};
#define FUZZ_LIMIT_SETS (sizeof(fuzz_limit_sets) / sizeof(fuzz_limit_sets[0]))

static void fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "sse_parser_fuzzer: %s\n%s\n", what, detail != NULL ? detail : "");
    abort();
}

static void fuzz_check_text(const char *what, const char *s, size_t len, bool nul_ok)
{
    if (len == 0)
        return;
    if (s == NULL)
        fuzz_fail(what, "NULL pointer with a non-zero length");
    if (!sse_utf8_valid(s, len))
        fuzz_fail(what, "not valid UTF-8");
    if (!nul_ok && memchr(s, '\0', len) != NULL)
        fuzz_fail(what, "contains U+0000");
}

static void fuzz_on_event(void *ctx, const struct sse_event *ev)
{
    if (ev == NULL)
        fuzz_fail("event", "NULL");
    if (ev->type_len == 0)
        fuzz_fail("event type", "empty");
    const struct sse_rec *r = ctx;
    const struct sse_parser_limits *lim = r->sr_user;
    if (ev->data_len > lim->max_event)
        fuzz_fail("event data", "longer than max_event");
    /* HTML sets the type to the field value, U+0000 included. */
    fuzz_check_text("event type", ev->type, ev->type_len, true);
    fuzz_check_text("event id", ev->id, ev->id_len, false);
    fuzz_check_text("event data", ev->data, ev->data_len, true);
    sse_rec_on_event(ctx, ev);
}

static void fuzz_on_comment(void *ctx, const char *text, size_t len)
{
    fuzz_check_text("comment", text, len, true);
    sse_rec_on_comment(ctx, text, len);
}

static void fuzz_on_anomaly(void *ctx, enum sse_anomaly kind, const char *line, size_t len)
{
    if ((unsigned)kind >= SSE_ANOMALY_COUNT)
        fuzz_fail("anomaly", "kind out of range");
    /* The size anomalies may cut the line inside a UTF-8 sequence. */
    if (kind != SSE_ANOMALY_LINE_TOO_LONG && kind != SSE_ANOMALY_EVENT_TOO_LARGE)
        fuzz_check_text("anomaly line", line, len, true);
    else if (len > 0 && line == NULL)
        fuzz_fail("anomaly line", "NULL pointer with a non-zero length");
    sse_rec_on_anomaly(ctx, kind, line, len);
}

static const struct sse_parser_callbacks fuzz_callbacks = {
    .on_event = fuzz_on_event,
    .on_comment = fuzz_on_comment,
    .on_retry = sse_rec_on_retry,
    .on_anomaly = fuzz_on_anomaly,
};

static void fuzz_run(struct sse_rec *r, const struct sse_parser_limits *lim, const uint8_t *data,
                     size_t size, const size_t *cuts, size_t ncuts)
{
    sse_rec_init(r, SSE_REC_ANOMALIES | SSE_REC_STATE);
    r->sr_user = (void *)lim;
    sse_rec_run(r, lim, &fuzz_callbacks, data, size, cuts, ncuts, 2);
    if (r->sr_failed)
        fuzz_fail("recorder", "out of memory");
    /* The recorder notes broken promises (stats, feed errors) as "![". */
    if (strstr(sse_rec_text(r), "![") != NULL)
        fuzz_fail("contract violation", sse_rec_text(r));
}

static void fuzz_compare(const struct sse_rec *whole, const uint8_t *data, size_t size,
                         const size_t *cuts, size_t ncuts, const char *how)
{
    struct sse_rec r;
    fuzz_run(&r, whole->sr_user, data, size, cuts, ncuts);
    if (strcmp(sse_rec_text(&r), sse_rec_text(whole)) != 0) {
        fprintf(stderr, "whole:  %s\n%s: %s\n", sse_rec_text(whole), how, sse_rec_text(&r));
        fuzz_fail("transcript depends on chunking", how);
    }
    sse_rec_free(&r);
}

static int fuzz_cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    /* Limits and cut positions derived from the input, so that a crash
     * file reproduces. */
    uint64_t seed = UINT64_C(1469598103934665603);
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * UINT64_C(1099511628211);
    struct sse_rec whole;
    fuzz_run(&whole, &fuzz_limit_sets[seed % FUZZ_LIMIT_SETS], data, size, NULL, 0);
    size_t cuts[FUZZ_RANDOM_CUTS];
    for (size_t i = 0; i < 3; i++)
        cuts[i] = (size_t)(sse_rand_next(&seed) % (size + 1));
    qsort(cuts, 3, sizeof(cuts[0]), fuzz_cmp_size);
    fuzz_compare(&whole, data, size, cuts, 1, "in two");
    fuzz_compare(&whole, data, size, cuts, 3, "in four");
    size_t n = sse_rand_cuts(&seed, size, 48, cuts, FUZZ_RANDOM_CUTS);
    fuzz_compare(&whole, data, size, cuts, n, "in random chunks");

    if (size > 1 && size <= FUZZ_BYTEWISE_MAX) {
        size_t *every = malloc((size - 1) * sizeof(*every));
        if (every == NULL)
            fuzz_fail("fuzzer", "out of memory");
        for (size_t i = 0; i + 1 < size; i++)
            every[i] = i + 1;
        fuzz_compare(&whole, data, size, every, size - 1, "byte by byte");
        free(every);
    }
    sse_rec_free(&whole);
    return 0;
}
