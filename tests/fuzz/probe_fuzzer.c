/*
 * libFuzzer target for core/probe. The input builds one probe run (step
 * definitions from small pools of kinds, variants, pointers and values,
 * deadlines from the input), then drives it with events whose payloads
 * are parsed with json_tape (a pool of realistic payloads or raw input
 * bytes), clock advances, ticks at the next deadline, aborts and captures.
 * After every call it checks what the header promises: a settled step
 * never changes again, an event settles at most one step (the one it
 * returns) and only as MET when no earlier step is pending, EARLY names
 * a pending earlier step, a step times out only once its deadline is
 * past, the outcome and the next deadline follow from the states, and
 * descriptions are NUL-terminated valid UTF-8 within their buffer.
 *
 * Program: byte 0 is the number of steps (up to PROBE_MAX_STEPS + 1), then
 * per step:
 *   byte a  subscription (a & 3) % 3, kind (a >> 2) & 3, variant
 *           (a >> 4) & 3 (0: any)
 *   byte m  matches m % 4 (255: PROBE_MAX_MATCH + 1), then one byte per
 *           match: pointer b % 8, value (b >> 3) % 8, literal b & 0x80
 *   2 bytes within_ms, big-endian
 * then ops until the input ends, by op % 8:
 *   0..3  an event: byte s (subscription (s & 3) % 3, kind ((s >> 2) & 7) % 5,
 *         variant (s >> 5) & 3), byte l: l & 0x80 payload pool[l % 8], else the
 *         next l % 64 input bytes (no payload when they are not JSON);
 *         received op >> 3 ms later
 *   4     advance the clock by the next two bytes, big-endian
 *   5     tick at the next deadline (or at the current time)
 *   6     abort when op >> 3 == 0, else tick at the current time
 *   7     capture pointer pool[(op >> 3) % 8] from the last payload
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/base/utf8.h"
#include "ssemon/core/probe.h"
#include "ssemon/json/json_tape.h"

#define FUZZ_MAX_INPUT ((size_t)16 << 10)
#define FUZZ_START_MS 1000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_kinds[] = {"task_event", "version", "ready", "rejected", "unknown"};
static const char *const fuzz_variants[] = {NULL, "task_started", "task_completed",
                                            "progress_update"};
static const char *const fuzz_pointers[] = {
    "", "/task_id", "/n", "/a~1b/c~0d/1", "/b", "/z", "/missing", "/0",
};
static const char *const fuzz_values[] = {
    "3f2a", "0b5e", "1", "1.0", "true", "null", "y", "9007199254740993",
};
static const char *const fuzz_payloads[] = {
    "{\"task_id\":\"3f2a\",\"n\":1}",
    "{\"task_id\":\"0b5e\",\"n\":1.0}",
    "{\"n\":9007199254740992.0,\"b\":true,\"z\":null}",
    "{\"a/b\":{\"c~d\":[\"x\",\"y\"]}}",
    "[\"3f2a\",1]",
    "\"3f2a\"",
    "{\"task_id\":1,\"b\":\"true\"}",
    "{\"task_id\":\"3f2a\",\"b\":false,\"z\":\"null\",\"n\":9007199254740993}",
};

#define FUZZ_N(a) (sizeof(a) / sizeof((a)[0]))

struct fuzz_in {
    const uint8_t *fi_data;
    size_t fi_size;
    size_t fi_pos;
};

static uint8_t fuzz_byte(struct fuzz_in *in)
{
    return in->fi_pos < in->fi_size ? in->fi_data[in->fi_pos++] : 0;
}

static uint64_t fuzz_u16(struct fuzz_in *in)
{
    uint64_t hi = fuzz_byte(in);
    return hi << 8 | fuzz_byte(in);
}

static void fuzz_fail(const char *what, size_t step)
{
    fprintf(stderr, "probe_fuzzer: %s (step %zu)\n", what, step);
    abort();
}

/* What the fuzzer remembers of each step between calls. */
struct fuzz_step {
    enum probe_step_state fs_state;
    uint64_t fs_settled;
    uint64_t fs_delivery;
    uint64_t fs_deadline;
};

struct fuzz_run {
    struct probe_run *fr_run;
    size_t fr_n;
    uint64_t fr_now;
    bool fr_aborted;
    struct fuzz_step fr_steps[PROBE_MAX_STEPS];
    struct probe_window fr_window;
};

static void fuzz_check_describe(const struct fuzz_run *r, size_t i)
{
    static const size_t caps[] = {1, 7, 64, 4096};
    char buf[4096];

    for (size_t k = 0; k < FUZZ_N(caps); k++) {
        memset(buf, 0x55, sizeof(buf));
        probe_run_step_describe(r->fr_run, i, (k & 1) ? "caf\xc3\xa9-main" : NULL, buf, caps[k]);
        size_t len = strnlen(buf, caps[k]);
        if (len >= caps[k])
            fuzz_fail("description not NUL-terminated within its buffer", i);
        if (!utf8_valid(buf, len))
            fuzz_fail("description not valid UTF-8", i);
    }
}

/* After any call at fr_now: `kind` is what the call was, `ret` what an
 * event call returned. */
enum fuzz_call { FUZZ_EVENT, FUZZ_TICK, FUZZ_ABORT };

static void fuzz_check(struct fuzz_run *r, enum fuzz_call call, size_t ret, bool before_start)
{
    struct probe_run *run = r->fr_run;
    size_t settled_by_event = SIZE_MAX;
    bool any_pending = false, all_met = !r->fr_aborted;
    uint64_t next = UINT64_MAX;

    for (size_t i = 0; i < r->fr_n; i++) {
        struct fuzz_step *fs = &r->fr_steps[i];
        enum probe_step_state st = probe_run_step_state(run, i);
        uint64_t settled = probe_run_step_settled_ms(run, i);
        uint64_t delivery = probe_run_step_delivery_ms(run, i);

        if (fs->fs_state != PROBE_STEP_PENDING) {
            if (st != fs->fs_state || settled != fs->fs_settled || delivery != fs->fs_delivery)
                fuzz_fail("a settled step changed", i);
        } else if (st != PROBE_STEP_PENDING) {
            if (before_start)
                fuzz_fail("a step settled by an event before the start", i);
            if (settled != r->fr_now)
                fuzz_fail("settled at another time than the call's", i);
            switch (st) {
            case PROBE_STEP_TIMEOUT:
                if (call == FUZZ_ABORT || fs->fs_deadline >= r->fr_now)
                    fuzz_fail("timed out before its deadline passed", i);
                break;
            case PROBE_STEP_ABANDONED:
                if (call != FUZZ_ABORT)
                    fuzz_fail("abandoned without an abort", i);
                break;
            case PROBE_STEP_MET:
            case PROBE_STEP_EARLY:
                if (call != FUZZ_EVENT || settled_by_event != SIZE_MAX)
                    fuzz_fail("met outside an event, or two steps met by one event", i);
                settled_by_event = i;
                if (fs->fs_deadline < r->fr_now)
                    fuzz_fail("met after its deadline", i);
                if (delivery != r->fr_now - FUZZ_START_MS)
                    fuzz_fail("wrong delivery time", i);
                break;
            default:
                fuzz_fail("unknown state", i);
            }
        }
        if (call == FUZZ_ABORT && st == PROBE_STEP_PENDING)
            fuzz_fail("pending after an abort", i);
        if (call != FUZZ_ABORT && !before_start && st == PROBE_STEP_PENDING &&
            fs->fs_deadline < r->fr_now)
            fuzz_fail("pending past its deadline", i);
        if ((st == PROBE_STEP_PENDING) != (settled == 0))
            fuzz_fail("settled time and state disagree", i);
        if ((st == PROBE_STEP_MET || st == PROBE_STEP_EARLY) != (delivery != UINT64_MAX))
            fuzz_fail("delivery time and state disagree", i);
        if (probe_step_state_name(st) == NULL)
            fuzz_fail("state without a name", i);
        fs->fs_state = st;
        fs->fs_settled = settled;
        fs->fs_delivery = delivery;
        if (st == PROBE_STEP_PENDING) {
            any_pending = true;
            if (fs->fs_deadline < UINT64_MAX && fs->fs_deadline + 1 < next)
                next = fs->fs_deadline + 1;
        }
        if (st != PROBE_STEP_MET)
            all_met = false;
    }
    if (call == FUZZ_EVENT && ret != settled_by_event)
        fuzz_fail("the event's return is not the step it settled", ret);
    if (settled_by_event != SIZE_MAX) {
        size_t i = settled_by_event;
        size_t first_pending = SIZE_MAX;
        for (size_t k = 0; k < i && first_pending == SIZE_MAX; k++)
            if (r->fr_steps[k].fs_state == PROBE_STEP_PENDING)
                first_pending = k;
        enum probe_step_state st = r->fr_steps[i].fs_state;
        if ((st == PROBE_STEP_MET) != (first_pending == SIZE_MAX))
            fuzz_fail("MET with an earlier step pending, or EARLY without", i);
        if (st == PROBE_STEP_EARLY && probe_run_step_blocked_by(run, i) != first_pending)
            fuzz_fail("EARLY does not name the first pending step", i);
        probe_window_add(&r->fr_window, r->fr_steps[i].fs_delivery);
        fuzz_check_describe(r, i);
    }
    enum probe_outcome want = any_pending ? PROBE_OUTCOME_RUNNING
                              : all_met   ? PROBE_OUTCOME_OK
                                          : PROBE_OUTCOME_FAILED;
    if (probe_run_outcome(run) != want)
        fuzz_fail("outcome does not follow from the states", 0);
    if (probe_run_next_deadline(run) != next)
        fuzz_fail("next deadline is not the first pending deadline", 0);
}

/* Builds the run from the definitions in the input; NULL when they are
 * invalid (too many steps or matches, a literal that is not JSON), which
 * probe_run_new must have refused. */
static struct probe_run *fuzz_build(struct fuzz_in *in, struct fuzz_run *r)
{
    struct probe_step_def defs[PROBE_MAX_STEPS + 1];
    struct probe_match matches[PROBE_MAX_STEPS + 1][PROBE_MAX_MATCH + 1];
    size_t n = fuzz_byte(in) % (PROBE_MAX_STEPS + 2);
    bool invalid = n > PROBE_MAX_STEPS;

    for (size_t i = 0; i < n; i++) {
        uint8_t a = fuzz_byte(in), m = fuzz_byte(in);
        size_t nm = m == 255 ? PROBE_MAX_MATCH + 1 : m % 4;
        invalid |= nm > PROBE_MAX_MATCH;
        for (size_t k = 0; k < nm; k++) {
            uint8_t b = fuzz_byte(in);
            matches[i][k].pm_pointer = fuzz_pointers[b % FUZZ_N(fuzz_pointers)];
            matches[i][k].pm_value = fuzz_values[(b >> 3) % FUZZ_N(fuzz_values)];
            matches[i][k].pm_literal_json = (b & 0x80) != 0;
            if (matches[i][k].pm_literal_json && !probe_literal_valid(matches[i][k].pm_value))
                invalid = true;
        }
        defs[i] = (struct probe_step_def){
            .psd_subscription = (a & 3u) % 3,
            .psd_kind = fuzz_kinds[(a >> 2) & 3u],
            .psd_variant = fuzz_variants[(a >> 4) & 3u],
            .psd_match = matches[i],
            .psd_n_match = nm,
            .psd_within_ms = fuzz_u16(in),
        };
        if (i < PROBE_MAX_STEPS)
            r->fr_steps[i].fs_deadline = FUZZ_START_MS + defs[i].psd_within_ms;
    }
    struct probe_run *run = probe_run_new(defs, n, FUZZ_START_MS);
    if ((run == NULL) != invalid)
        fuzz_fail(invalid ? "invalid definitions accepted" : "valid definitions refused", n);
    if (run != NULL && probe_run_step_count(run) != n)
        fuzz_fail("step count", n);
    r->fr_n = n;
    return run;
}

static void fuzz_other_checks(struct fuzz_in *in, const struct fuzz_run *r)
{
    /* Scheduling bounds with input-chosen values. */
    uint64_t every = fuzz_u16(in) * 10, rnd = fuzz_u16(in) * 2654435761u;
    uint64_t j = every / 10 > 5000 ? 5000 : every / 10;
    uint64_t fin = r->fr_now, start = FUZZ_START_MS;
    uint64_t due = probe_next_due(start, fin, every, rnd);
    if (due < fin || due < start + every - j || (due > start + every + j && due != fin))
        fuzz_fail("probe_next_due out of bounds", 0);
    /* Quantiles are held values and grow with q. */
    uint64_t p50 = probe_window_quantile(&r->fr_window, 0.5);
    uint64_t p99 = probe_window_quantile(&r->fr_window, 0.99);
    if ((r->fr_window.pw_n == 0) != (p50 == UINT64_MAX) || p50 > p99)
        fuzz_fail("window quantiles", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size, 0};
    struct fuzz_run r;
    struct json_tape tape;
    bool have_payload = false;
    /* Raw payload bytes are copied out: the tape borrows its text. */
    char raw[64];

    if (size > FUZZ_MAX_INPUT)
        return 0;
    memset(&r, 0, sizeof(r));
    r.fr_now = FUZZ_START_MS - 5;
    r.fr_run = fuzz_build(&in, &r);
    if (r.fr_run == NULL)
        return 0;
    json_tape_init(&tape);
    fuzz_check(&r, FUZZ_TICK, SIZE_MAX, true);

    while (in.fi_pos < in.fi_size) {
        uint8_t op = fuzz_byte(&in);
        switch (op % 8) {
        case 0:
        case 1:
        case 2:
        case 3: {
            uint8_t s = fuzz_byte(&in), l = fuzz_byte(&in);
            const char *text;
            size_t len;
            if (l & 0x80) {
                text = fuzz_payloads[l % FUZZ_N(fuzz_payloads)];
                len = strlen(text);
            } else {
                len = l % 64;
                if (len > in.fi_size - in.fi_pos)
                    len = in.fi_size - in.fi_pos;
                memcpy(raw, in.fi_data + in.fi_pos, len);
                in.fi_pos += len;
                text = raw;
            }
            have_payload = json_tape_parse(&tape, text, len, NULL) == JSON_TAPE_OK;
            r.fr_now += op >> 3;
            size_t ret =
                probe_run_event(r.fr_run, r.fr_now, (s & 3u) % 3, fuzz_kinds[((s >> 2) & 7u) % 5],
                                fuzz_variants[(s >> 5) & 3u], have_payload ? &tape : NULL,
                                have_payload ? 0 : JSON_TAPE_NONE);
            fuzz_check(&r, FUZZ_EVENT, ret, r.fr_now < FUZZ_START_MS);
            break;
        }
        case 4:
            r.fr_now += fuzz_u16(&in);
            break;
        case 5: {
            uint64_t d = probe_run_next_deadline(r.fr_run);
            if (d != UINT64_MAX && d > r.fr_now)
                r.fr_now = d;
            probe_run_tick(r.fr_run, r.fr_now);
            fuzz_check(&r, FUZZ_TICK, SIZE_MAX, false);
            break;
        }
        case 6:
            if ((op >> 3) == 0) {
                probe_run_abort(r.fr_run, r.fr_now);
                r.fr_aborted = true;
                fuzz_check(&r, FUZZ_ABORT, SIZE_MAX, false);
            } else {
                probe_run_tick(r.fr_run, r.fr_now);
                fuzz_check(&r, FUZZ_TICK, SIZE_MAX, false);
            }
            break;
        case 7: {
            const char *why = NULL;
            char *v = probe_capture(have_payload ? &tape : NULL, 0,
                                    fuzz_pointers[(op >> 3) % FUZZ_N(fuzz_pointers)], &why);
            if ((v == NULL) == (why == NULL))
                fuzz_fail("capture: a value and a reason, or neither", 0);
            if (v != NULL && (strlen(v) > PROBE_VALUE_MAX || !utf8_valid(v, strlen(v))))
                fuzz_fail("capture: bad value", 0);
            free(v);
            break;
        }
        }
    }
    for (size_t i = 0; i < r.fr_n; i++)
        fuzz_check_describe(&r, i);
    fuzz_other_checks(&in, &r);
    probe_run_free(r.fr_run);
    json_tape_free(&tape);
    return 0;
}
