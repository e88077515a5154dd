/*
 * libFuzzer target for the validator. The input is a small program that
 * drives one validator per input against a shipped contract: stream bytes
 * through sse_parser, time advancing by amounts taken from the input, ticks
 * at validator_next_deadline, and ends, opens, begins and connection
 * failures in any order. It must never crash or leak, never ask to be
 * called back in the past, report stream_ended at most once per lifecycle,
 * and every report must keep violation.h's promises (valid UTF-8, bounded
 * excerpt, known class).
 *
 * Program: byte 0 picks the contract and the options, then each op byte:
 *   op % 8 in 0..3  feed the next (1 + next byte % 64) input bytes
 *   4               advance the clock by the next two bytes, big-endian,
 *                   times (1 + op / 8) ms
 *   5               tick at the next deadline (if any), then check it moved
 *   6               end the stream (clean or not), then open with a status
 *                   and headers chosen by the next byte
 *   7               by op / 8: begin, connect failure, or a lone comment
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/config/contract_load.h"
#include "ssemon/core/contract.h"
#include "ssemon/core/sse_parser.h"
#include "ssemon/core/validator.h"
#include "ssemon/core/violation.h"

#define FUZZ_MAX_INPUT ((size_t)16 << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_contract_names[] = {
    "task-stream",      "version-stream", "task-stream-gateway", "version-stream-gateway",
    "gateway-envelope",
};
#define FUZZ_N_CONTRACTS (sizeof(fuzz_contract_names) / sizeof(fuzz_contract_names[0]))

static struct contract *fuzz_contracts[FUZZ_N_CONTRACTS];

static const struct validator_var fuzz_vars[] = {
    {"task_id", "0b5e2a3c-1d4f-4a6b-9c8d-7e6f5a4b3c2d"},
    {"request_id", "req-1"},
};

/* Header sets for opens: bit i of the selector picks the first or second
 * value of pair i. */
static const struct validator_header fuzz_header_pool[][2] = {
    {{"Cache-Control", "no-cache"}, {"cache-control", "no-store"}},
    {{"X-Accel-Buffering", "no"}, {"X-Accel-Buffering", "yes"}},
    {{"Content-Type", "text/event-stream"}, {"Connection", "keep-alive"}},
};
#define FUZZ_N_HEADERS (sizeof(fuzz_header_pool) / sizeof(fuzz_header_pool[0]))

struct fuzz_run {
    struct validator *fr_v;
    uint64_t fr_now;
    bool fr_live;      /* what the fuzzer believes: a lifecycle is open */
    unsigned fr_ended; /* stream_ended reports in this lifecycle */
    uint64_t fr_reports;
};

static void fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "validator_fuzzer: %s\n%s\n", what, detail != NULL ? detail : "");
    abort();
}

static bool fuzz_utf8_ok(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    while (*u != 0) {
        size_t n;
        unsigned lo = 0x80, hi = 0xbf;

        if (u[0] < 0x80) {
            u++;
            continue;
        }
        if (u[0] >= 0xc2 && u[0] <= 0xdf)
            n = 2;
        else if (u[0] >= 0xe0 && u[0] <= 0xef)
            n = 3;
        else if (u[0] >= 0xf0 && u[0] <= 0xf4)
            n = 4;
        else
            return false;
        if (u[0] == 0xe0)
            lo = 0xa0;
        else if (u[0] == 0xed)
            hi = 0x9f;
        else if (u[0] == 0xf0)
            lo = 0x90;
        else if (u[0] == 0xf4)
            hi = 0x8f;
        if (u[1] < lo || u[1] > hi)
            return false;
        for (size_t i = 2; i < n; i++)
            if (u[i] < 0x80 || u[i] > 0xbf)
                return false;
        u += n;
    }
    return true;
}

static void fuzz_on_report(void *ctx, const struct violation *vi)
{
    struct fuzz_run *r = ctx;

    r->fr_reports++;
    if (violation_class_name(vi->v_class) == NULL)
        fuzz_fail("unknown class", NULL);
    if (vi->v_severity != VIOLATION_ERROR && vi->v_severity != VIOLATION_WARNING)
        fuzz_fail("unknown severity", NULL);
    if (vi->v_message == NULL || vi->v_message[0] == '\0' || !fuzz_utf8_ok(vi->v_message))
        fuzz_fail("bad message", vi->v_message);
    if (strchr(vi->v_message, '\n') != NULL || strchr(vi->v_message, '\r') != NULL)
        fuzz_fail("message not one line", vi->v_message);
    if (vi->v_excerpt != NULL &&
        (strlen(vi->v_excerpt) > VIOLATION_EXCERPT_MAX || !fuzz_utf8_ok(vi->v_excerpt)))
        fuzz_fail("bad excerpt", vi->v_excerpt);
    if (vi->v_event != NULL && !fuzz_utf8_ok(vi->v_event))
        fuzz_fail("bad event name", vi->v_event);
    if (vi->v_state != NULL && !fuzz_utf8_ok(vi->v_state))
        fuzz_fail("bad state name", vi->v_state);
    if (vi->v_time_ms != r->fr_now)
        fuzz_fail("violation time is not the time of the call", vi->v_message);
    if (vi->v_class == VIOLATION_STREAM_ENDED && ++r->fr_ended > 1)
        fuzz_fail("two stream_ended in one lifecycle", vi->v_message);
}

/* After any call into the validator at fr_now. */
static void fuzz_check_deadline(const struct fuzz_run *r)
{
    uint64_t d = validator_next_deadline(r->fr_v);

    if (d != VALIDATOR_NO_DEADLINE && d <= r->fr_now)
        fuzz_fail("next deadline not in the future", NULL);
}

static void fuzz_on_event(void *ctx, const struct sse_event *ev)
{
    struct fuzz_run *r = ctx;

    if (!r->fr_live) {
        /* an event outside a lifecycle starts one */
        r->fr_live = true;
        r->fr_ended = 0;
    }
    validator_event(r->fr_v, r->fr_now, ev);
    fuzz_check_deadline(r);
}

static void fuzz_on_comment(void *ctx, const char *text, size_t len)
{
    struct fuzz_run *r = ctx;
    validator_comment(r->fr_v, r->fr_now, text, len);
    fuzz_check_deadline(r);
}

static void fuzz_on_anomaly(void *ctx, enum sse_anomaly kind, const char *line, size_t len)
{
    struct fuzz_run *r = ctx;
    validator_anomaly(r->fr_v, r->fr_now, kind, line, len);
    fuzz_check_deadline(r);
}

static void fuzz_load(void)
{
    static bool loaded;

    if (loaded)
        return;
    loaded = true;
    for (size_t i = 0; i < FUZZ_N_CONTRACTS; i++) {
        struct contract_load_error err;
        fuzz_contracts[i] = contract_load(fuzz_contract_names[i], CONTRACT_LOAD_SOURCE_DIR, &err);
        if (fuzz_contracts[i] == NULL)
            fuzz_fail("a shipped contract does not load", err.cle_text);
    }
}

static void fuzz_open(struct fuzz_run *r, uint8_t sel)
{
    struct validator_header hs[FUZZ_N_HEADERS];
    static const int statuses[] = {200, 200, 200, 200, 204, 404, 500, 503};

    for (size_t i = 0; i < FUZZ_N_HEADERS; i++)
        hs[i] = fuzz_header_pool[i][(sel >> i) & 1];
    r->fr_live = statuses[sel >> 5] == 200;
    r->fr_ended = 0;
    validator_open(r->fr_v, r->fr_now, statuses[sel >> 5], hs, FUZZ_N_HEADERS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sse_parser_callbacks cbs = {fuzz_on_event, fuzz_on_comment, NULL, fuzz_on_anomaly};
    struct sse_parser_limits lim = {.max_line = 512, .max_event = 2048};
    struct validator_options o = {0};
    struct fuzz_run r = {0};
    struct sse_parser *p;
    size_t i = 1;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    fuzz_load();
    o.vo_vars = (data[0] & 0x08) ? fuzz_vars : NULL;
    o.vo_n_vars = (data[0] & 0x08) ? sizeof(fuzz_vars) / sizeof(fuzz_vars[0]) : 0;
    o.vo_lenient = (data[0] & 0x10) != 0;
    o.vo_timing = (data[0] & 0x20) == 0;
    o.vo_hb_interval_ms = (data[0] & 0x40) ? 700 : 0;
    o.vo_hb_tolerance = (data[0] & 0x80) ? 1.25 : 0;
    r.fr_v =
        validator_new(fuzz_contracts[(data[0] & 0x07) % FUZZ_N_CONTRACTS], &o, fuzz_on_report, &r);
    p = sse_parser_new(&lim, &cbs, &r);
    if (r.fr_v == NULL || p == NULL)
        fuzz_fail("out of memory", NULL);
    fuzz_open(&r, 0);

    while (i < size) {
        uint8_t op = data[i++];
        uint8_t arg = i < size ? data[i] : 0;

        switch (op % 8) {
        case 0:
        case 1:
        case 2:
        case 3: {
            size_t n = 1 + (size_t)(arg % 64);
            size_t left;
            i++;
            left = i < size ? size - i : 0;
            if (n > left)
                n = left;
            if (n > 0 && sse_parser_feed(p, data + i, n) < 0)
                fuzz_fail("parser out of memory", NULL);
            i += n;
            break;
        }
        case 4: {
            uint64_t step = (uint64_t)arg << 8 | (i + 1 < size ? data[i + 1] : 0);
            i += 2;
            r.fr_now += step * (1 + op / 8);
            break;
        }
        case 5: {
            uint64_t d = validator_next_deadline(r.fr_v);
            if (d != VALIDATOR_NO_DEADLINE && d - r.fr_now < ((uint64_t)1 << 40))
                r.fr_now = d;
            validator_tick(r.fr_v, r.fr_now);
            break;
        }
        case 6:
            i++;
            sse_parser_end(p);
            validator_end(r.fr_v, r.fr_now, (arg & 0x80) ? "Connection reset by peer" : NULL);
            r.fr_live = false;
            fuzz_open(&r, arg);
            break;
        default:
            switch ((op / 8) % 3) {
            case 0:
                r.fr_live = true;
                r.fr_ended = 0;
                validator_begin(r.fr_v, r.fr_now);
                break;
            case 1:
                r.fr_live = false;
                validator_connect_failed(r.fr_v, r.fr_now, VIOLATION_CONNECT_FAILED,
                                         "Could not connect to server");
                break;
            default:
                validator_comment(r.fr_v, r.fr_now, " heartbeat", 10);
                break;
            }
            break;
        }
        if (op % 8 >= 5)
            fuzz_check_deadline(&r);
    }
    sse_parser_end(p);
    validator_end(r.fr_v, r.fr_now, NULL);
    fuzz_check_deadline(&r);
    if (validator_stats(r.fr_v)->vs_events != sse_parser_stats(p)->events)
        fuzz_fail("validator and parser disagree on the event count", NULL);
    sse_parser_free(p);
    validator_free(r.fr_v);
    return 0;
}
