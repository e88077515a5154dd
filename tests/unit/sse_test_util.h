/*
 * sse_test_util: records sse_parser callbacks into a text transcript that
 * tests (and the fuzzer) compare between feeding patterns or against an
 * expected string.
 *
 * Transcript records, separated by one space:
 *   E[type][id][data]   an event
 *   C[text]             a comment
 *   R[ms]               a valid retry field
 *   A[kind][line]       an anomaly (only with SSE_REC_ANOMALIES)
 *   L[id] T[ms|-]       last event ID string and retry after each stream end
 *                       (only with SSE_REC_STATE)
 *   ![what]             a broken contract seen by the recorder itself
 * Inside brackets, bytes outside printable ASCII are written \xHH (LF, CR,
 * tab as \n \r \t) and '[', ']', '\' are backslash-escaped, so "![" never
 * appears except for a contract violation.
 */
#ifndef SSEMON_TESTS_SSE_TEST_UTIL_H
#define SSEMON_TESTS_SSE_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/sse_parser.h"

#define SSE_REC_ANOMALIES 0x1u
#define SSE_REC_STATE 0x2u

struct sse_rec {
    char *sr_buf; /* owned; NUL-terminated transcript */
    size_t sr_len;
    size_t sr_cap;
    bool sr_failed; /* an allocation failed: the transcript is incomplete */
    unsigned sr_flags;
    void *sr_user; /* free for callers wrapping the callbacks (the fuzzer) */
    uint64_t sr_events;
    uint64_t sr_comments;
    uint64_t sr_retries;
    uint64_t sr_anomalies[SSE_ANOMALY_COUNT];
    /* Owned copy of the most recent `line` reported for each anomaly kind. */
    char *sr_last_line[SSE_ANOMALY_COUNT];
    size_t sr_last_line_len[SSE_ANOMALY_COUNT];
};

void sse_rec_init(struct sse_rec *r, unsigned flags);
void sse_rec_free(struct sse_rec *r);
/* Empties the transcript and the counters; keeps the flags. */
void sse_rec_reset(struct sse_rec *r);
const char *sse_rec_text(const struct sse_rec *r);

/* Callbacks whose ctx must be a struct sse_rec. */
void sse_rec_callbacks(struct sse_parser_callbacks *cbs);
void sse_rec_on_event(void *ctx, const struct sse_event *ev);
void sse_rec_on_comment(void *ctx, const char *text, size_t len);
void sse_rec_on_retry(void *ctx, uint64_t ms);
void sse_rec_on_anomaly(void *ctx, enum sse_anomaly kind, const char *line, size_t len);

/* Appends a record `tag[text]` (text escaped). */
void sse_rec_note(struct sse_rec *r, const char *tag, const char *text, size_t len);
/* Appends L[..] and T[..] for `p`. */
void sse_rec_state(struct sse_rec *r, const struct sse_parser *p);

/* The anomaly names used in transcripts (fixed here, independent of
 * sse_anomaly_name, so a transcript does not depend on the code under test). */
const char *sse_rec_kind_name(enum sse_anomaly kind);

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
bool sse_utf8_valid(const char *s, size_t len);

/* Feeds `in` to `p` as chunks ending at each of `cuts` (non-decreasing, each
 * <= len) and then at len. Every chunk is fed from its own heap copy of
 * exactly its size, so a read past a chunk's end is caught by ASan; equal
 * cuts produce zero-length feeds. Returns 0, or -1 when a feed failed, a
 * cut is out of order or a copy could not be allocated. */
int sse_rec_feed_cuts(struct sse_parser *p, const void *in, size_t len, const size_t *cuts,
                      size_t ncuts);

/* Creates a parser with `lim` and `cbs` (NULL: the recorder's own; ctx is
 * always `r`), then `nstreams` times feeds `in` split at `cuts` and ends the
 * stream (appending the state with SSE_REC_STATE). Afterwards the parser's
 * stats are checked against what was recorded; a mismatch is noted as a
 * `![...]` record. Returns 0, or -1 when the parser could not be created or
 * a feed failed (also noted). */
int sse_rec_run(struct sse_rec *r, const struct sse_parser_limits *lim,
                const struct sse_parser_callbacks *cbs, const void *in, size_t len,
                const size_t *cuts, size_t ncuts, int nstreams);

/* Deterministic generator for chunk sizes (splitmix64). */
uint64_t sse_rand_next(uint64_t *state);

/* Fills `cuts` with random chunk ends for a `len`-byte input, chunks of 0 to
 * max_chunk bytes. Returns the number of cuts written (at most cap). */
size_t sse_rand_cuts(uint64_t *state, size_t len, size_t max_chunk, size_t *cuts, size_t cap);

#endif
