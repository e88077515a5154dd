/*
 * bench_validate: parse + validate throughput of ssemon on a replayed task
 * stream, beside jansson's json_loadb on the same payloads (a DOM per event,
 * for context) and json_tape alone (the parse part of the validator's work).
 *
 * The corpus is generated in memory, deterministically from a seed: many
 * complete task lifecycles of the Flask backend's task stream, exactly as
 * docs/streams.md describes them (connection_open,
 * task_started, progress updates, task_completed or task_failed,
 * connection_close; some task-not-found lifecycles; heartbeats where a task
 * is silent for 5 s), with json.dumps-style payloads, uuid4 task ids and
 * +00:00 timestamps. Each lifecycle is one stream: a validator with the
 * lifecycle's task_id bound (as `ssemon check --var task_id=ID` makes one),
 * validator_open with the backend's headers, one sse_parser_feed per event
 * (the server flushes each event, seconds apart) with the injected clock at
 * the event's time, validator_next_deadline after each (as an adapter re-arms
 * its timer), sse_parser_end and validator_end. The corpus is faithful, so
 * any violation is a bug here or in ssemon: the program then fails.
 *
 * --corpus composite generates the same lifecycles with the payloads a
 * pydantic v2 backend writes (optional fields as null, a correlation id,
 * labels, estimates), judged by bench/contracts/task-stream-composite.json:
 * anyOf with null, an allOf-composed envelope closed by
 * unevaluatedProperties, a oneOf on event_type, a patternProperties map.
 *
 * --write-corpus FILE writes the same bytes, plus FILE.json describing the
 * streams (task ids, event chunk lengths), so bench/js-validate reads them.
 * --export-schemas FILE writes the merged contract document (extends
 * resolved by contract_load) that the JavaScript side compiles with ajv.
 *
 * Prints one JSON line per measurement in bench_parser's format: mb_s and
 * events_s the best of --repeat runs, *_median their median. MB/s is always
 * of the whole corpus (the stream bytes the events arrive in), 1 MB = 10^6
 * bytes, so rows compare by either figure.
 */
#include "ssemon/config/contract_load.h"
#include "ssemon/core/contract.h"
#include "ssemon/core/sse_parser.h"
#include "ssemon/core/validator.h"
#include "ssemon/json/json_tape.h"
#include "ssemon/json/json_writer.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VBENCH_DEFAULT_EVENTS 500000u
#define VBENCH_MAX_EVENTS 50000000u
#define VBENCH_MAX_REPEAT 1000u
/* Violations printed before the program stops describing them. */
#define VBENCH_SHOW_VIOLATIONS 10
/* 2025-11-19T21:00:00Z, the date in the backend's own examples. */
#define VBENCH_EPOCH_START INT64_C(1763586000)
/* The injected monotonic clock starts here (any value works). */
#define VBENCH_CLOCK_START UINT64_C(1000000)
/* The task stream's heartbeat: sent after 5 s without an event. */
#define VBENCH_HEARTBEAT_MS 5000u
/* The composite corpus's contract: in the source tree, not shipped. */
#define VBENCH_COMPOSITE_CONTRACT SSEMON_SOURCE_DIR "/bench/contracts/task-stream-composite.json"
/* Exit status when the contract does not load or compile. */
#define VBENCH_EXIT_CONTRACT 3

/* splitmix64: tiny, fast, and identical everywhere for a given seed. */
struct vbench_rng {
    uint64_t r_state;
};

/* A growable byte buffer; allocation failure is sticky. */
struct vbench_buf {
    char *b_data; /* owned */
    size_t b_len;
    size_t b_cap;
    bool b_failed;
};

/* One event: its bytes in the corpus and the time it arrives. */
struct vbench_event {
    size_t ev_off;
    size_t ev_len;
    size_t ev_data_off; /* the JSON payload (the one data line) */
    size_t ev_data_len;
    uint64_t ev_ms;
};

/* One task lifecycle: one stream, from the response headers to its end. */
struct vbench_life {
    size_t lf_first; /* index of its first event */
    size_t lf_count;
    uint64_t lf_open_ms; /* response headers */
    uint64_t lf_end_ms;  /* end of the response */
    char lf_task_id[37];
};

struct vbench_corpus {
    struct vbench_buf co_text;
    struct vbench_event *co_ev; /* owned */
    size_t co_n_ev;
    size_t co_cap_ev;
    struct vbench_life *co_life; /* owned */
    size_t co_n_life;
    size_t co_cap_life;
    uint64_t co_payload_bytes;
    size_t co_line_min; /* shortest and longest data line, "data: " included */
    size_t co_line_max;
    uint64_t co_heartbeats;
};

/* The generator's state while it writes lifecycles. */
struct vbench_gen {
    struct vbench_rng g_rng;
    struct vbench_corpus *g_co;
    struct vbench_buf g_payload; /* the event being built */
    uint64_t g_clock_ms;         /* the injected clock */
    uint64_t g_last_ms;          /* the last event sent, for heartbeats */
    uint64_t g_last_us;          /* the last timestamp written */
    struct vbench_life *g_life;
    bool g_failed;
    /* The composite corpus (--corpus composite): pydantic-style payloads.
     * Per lifecycle: its correlation id ("" writes null), its labels (a
     * JSON object, or null), its attempt (0 writes null). */
    bool g_composite;
    char g_cid[24];
    char g_labels[256];
    unsigned g_attempt;
};

/* An electronic part, for the AI analysis tasks of an inventory. */
struct vbench_part {
    const char *p_code;
    const char *p_type;
    const char *p_description;
    const char *p_manufacturer;
    const char *p_package;
    const char *p_tags[3];
    int p_pins;
};

/* What a measurement found; every run must find the same. */
struct vbench_count {
    uint64_t vc_events;
    uint64_t vc_violations;
    uint64_t vc_check; /* a sum over the results, so the work cannot be elided */
};

/* Wall-clock and CPU time of one run, in seconds. On a shared machine the
 * wall clock counts the time other processes hold the core; the process's
 * CPU time does not. */
struct vbench_watch {
    double w_wall;
    double w_cpu;
};

struct vbench_result {
    const char *br_impl;
    struct vbench_count br_count;
    double br_best; /* seconds, wall clock */
    double br_median;
    double br_cpu_best; /* seconds, CPU time */
    double br_cpu_median;
};

/* The parser's callbacks feed the validator of the current stream. */
struct vbench_stream {
    struct validator *st_val;
    uint64_t st_now_ms;
    uint64_t st_violations;
    uint64_t st_shown;
};

static const struct vbench_part vbench_parts[] = {
    {"LM317T",
     "Voltage regulator",
     "Adjustable positive linear voltage regulator, 1.5 A",
     "Texas Instruments",
     "TO-220",
     {"regulator", "linear", "adjustable"},
     3},
    {"NE555P",
     "Timer",
     "Precision timer, bipolar, single",
     "Texas Instruments",
     "DIP-8",
     {"timer", "oscillator", NULL},
     8},
    {"ATMEGA328P-PU",
     "Microcontroller",
     "8-bit AVR microcontroller, 32 KB flash, 2 KB SRAM",
     "Microchip",
     "DIP-28",
     {"mcu", "avr", "arduino"},
     28},
    {"CRCW060310K0FKEA",
     "Resistor",
     "Thick film chip resistor 10 k\u03a9 \u00b11% 0.1 W",
     "Vishay",
     "0603",
     {"resistor", "smd", NULL},
     2},
    {"EEU-FR1V101",
     "Capacitor",
     "Aluminium electrolytic capacitor 100 \u00b5F 35 V, low ESR",
     "Panasonic",
     "Radial 8x11.5 mm",
     {"capacitor", "electrolytic", NULL},
     2},
    {"ESP32-WROOM-32E",
     "Module",
     "Wi-Fi and Bluetooth LE module, 4 MB flash, PCB antenna",
     "Espressif",
     "SMD-38",
     {"wifi", "bluetooth", "module"},
     38},
    {"1N4148",
     "Diode",
     "Small signal fast switching diode, 4 ns",
     "onsemi",
     "DO-35",
     {"diode", "switching", NULL},
     2},
    {"BC547B",
     "Transistor",
     "NPN general purpose transistor, hFE 200-450",
     "onsemi",
     "TO-92",
     {"transistor", "npn", NULL},
     3},
};
#define VBENCH_NPARTS (sizeof(vbench_parts) / sizeof(vbench_parts[0]))

static const char *const vbench_failures[] = {
    "Failed to download datasheet: HTTP 404 Not Found",
    "AI analysis failed: rate limit exceeded, retry in 20 s",
    "Test task failed as requested",
    "Connection to datasheets.example.com timed out after 30 s",
};
#define VBENCH_NFAILURES (sizeof(vbench_failures) / sizeof(vbench_failures[0]))

/* ---- small helpers ---- */

static uint64_t vbench_rng_next(struct vbench_rng *r)
{
    uint64_t z = (r->r_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint64_t vbench_rng_range(struct vbench_rng *r, uint64_t lo, uint64_t hi)
{
    return lo + vbench_rng_next(r) % (hi - lo + 1);
}

static double vbench_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void vbench_watch_start(struct vbench_watch *w)
{
    w->w_cpu = vbench_clock(CLOCK_PROCESS_CPUTIME_ID);
    w->w_wall = vbench_clock(CLOCK_MONOTONIC);
}

/* Turns the start readings into the time elapsed since. */
static void vbench_watch_stop(struct vbench_watch *w)
{
    w->w_wall = vbench_clock(CLOCK_MONOTONIC) - w->w_wall;
    w->w_cpu = vbench_clock(CLOCK_PROCESS_CPUTIME_ID) - w->w_cpu;
}

static bool vbench_buf_reserve(struct vbench_buf *b, size_t more)
{
    if (b->b_failed)
        return false;
    if (more <= b->b_cap - b->b_len)
        return true;
    size_t cap = b->b_cap ? b->b_cap : 4096;
    while (cap - b->b_len < more) {
        if (cap > SIZE_MAX / 2) {
            b->b_failed = true;
            return false;
        }
        cap *= 2;
    }
    char *d = realloc(b->b_data, cap);
    if (d == NULL) {
        b->b_failed = true;
        return false;
    }
    b->b_data = d;
    b->b_cap = cap;
    return true;
}

static void vbench_buf_add(struct vbench_buf *b, const char *s, size_t len)
{
    if (!vbench_buf_reserve(b, len))
        return;
    memcpy(b->b_data + b->b_len, s, len);
    b->b_len += len;
}

static void vbench_buf_str(struct vbench_buf *b, const char *s)
{
    vbench_buf_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void vbench_buf_printf(struct vbench_buf *b,
                                                                    const char *fmt, ...)
{
    char tmp[512];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    /* Every caller formats short numbers and names. */
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->b_failed = true;
        return;
    }
    vbench_buf_add(b, tmp, (size_t)n);
}

static void vbench_buf_free(struct vbench_buf *b)
{
    free(b->b_data);
    memset(b, 0, sizeof(*b));
}

/* A string as Python's json.dumps writes it (ensure_ascii: every non-ASCII
 * character as a lower-case \uXXXX escape, surrogate pairs above U+FFFF).
 * `s` is valid UTF-8. */
static void vbench_buf_pystr(struct vbench_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    vbench_buf_add(b, "\"", 1);
    while (*p != '\0') {
        uint32_t cp = *p;
        int extra = 0;

        if (cp >= 0xF0) {
            cp &= 0x07;
            extra = 3;
        } else if (cp >= 0xE0) {
            cp &= 0x0F;
            extra = 2;
        } else if (cp >= 0xC0) {
            cp &= 0x1F;
            extra = 1;
        }
        p++;
        for (int i = 0; i < extra && (*p & 0xC0) == 0x80; i++)
            cp = (cp << 6) | (*p++ & 0x3F);
        if (cp == '"')
            vbench_buf_add(b, "\\\"", 2);
        else if (cp == '\\')
            vbench_buf_add(b, "\\\\", 2);
        else if (cp == '\n')
            vbench_buf_add(b, "\\n", 2);
        else if (cp == '\r')
            vbench_buf_add(b, "\\r", 2);
        else if (cp == '\t')
            vbench_buf_add(b, "\\t", 2);
        else if (cp >= 0x20 && cp < 0x7F)
            vbench_buf_add(b, (const char *)p - 1, 1);
        else if (cp > 0xFFFF)
            vbench_buf_printf(b, "\\u%04x\\u%04x", 0xD800 + ((cp - 0x10000) >> 10),
                              0xDC00 + ((cp - 0x10000) & 0x3FF));
        else
            vbench_buf_printf(b, "\\u%04x", cp);
    }
    vbench_buf_add(b, "\"", 1);
}

/* A float as Python's repr writes it: the shortest digits that read back
 * to the same double, and ".0" on integral values. Only for [0, 1e15]. */
static void vbench_buf_pyfloat(struct vbench_buf *b, double v)
{
    char tmp[40];

    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    vbench_buf_str(b, tmp);
    if (strpbrk(tmp, ".e") == NULL)
        vbench_buf_add(b, ".0", 2);
}

/* datetime.isoformat() of an aware UTC time `us` microseconds after
 * VBENCH_EPOCH_START: microseconds left out when they are zero, the offset
 * as +00:00. */
static void vbench_buf_timestamp(struct vbench_buf *b, uint64_t us)
{
    time_t secs = (time_t)(VBENCH_EPOCH_START + (int64_t)(us / 1000000));
    unsigned frac = (unsigned)(us % 1000000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    vbench_buf_printf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac != 0)
        vbench_buf_printf(b, ".%06u", frac);
    vbench_buf_add(b, "+00:00\"", 7);
}

/* ---- corpus generation ---- */

static void vbench_uuid4(struct vbench_rng *r, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t hi = vbench_rng_next(r), lo = vbench_rng_next(r);
    unsigned char bytes[16];

    for (int i = 0; i < 8; i++) {
        bytes[i] = (unsigned char)(hi >> (8 * i));
        bytes[8 + i] = (unsigned char)(lo >> (8 * i));
    }
    bytes[6] = (unsigned char)((bytes[6] & 0x0F) | 0x40);
    bytes[8] = (unsigned char)((bytes[8] & 0x3F) | 0x80);
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[bytes[i] >> 4];
        out[o++] = hex[bytes[i] & 0x0F];
    }
    out[o] = '\0';
}

static bool vbench_gen_grow(struct vbench_gen *g)
{
    struct vbench_corpus *co = g->g_co;

    if (co->co_n_ev == co->co_cap_ev) {
        size_t cap = co->co_cap_ev ? co->co_cap_ev * 2 : 4096;
        struct vbench_event *e = realloc(co->co_ev, cap * sizeof(*e));
        if (e == NULL)
            return false;
        co->co_ev = e;
        co->co_cap_ev = cap;
    }
    return true;
}

/* Appends event NAME with the payload built in g_payload, at g_clock_ms. */
static void vbench_gen_emit(struct vbench_gen *g, const char *name)
{
    struct vbench_corpus *co = g->g_co;
    struct vbench_buf *t = &co->co_text;
    struct vbench_event *e;

    if (g->g_failed || g->g_payload.b_failed || !vbench_gen_grow(g)) {
        g->g_failed = true;
        return;
    }
    e = &co->co_ev[co->co_n_ev];
    e->ev_off = t->b_len;
    e->ev_ms = g->g_clock_ms;
    vbench_buf_str(t, "event: ");
    vbench_buf_str(t, name);
    vbench_buf_str(t, "\ndata: ");
    e->ev_data_off = t->b_len;
    e->ev_data_len = g->g_payload.b_len;
    vbench_buf_add(t, g->g_payload.b_data, g->g_payload.b_len);
    vbench_buf_add(t, "\n\n", 2);
    if (t->b_failed) {
        g->g_failed = true;
        return;
    }
    e->ev_len = t->b_len - e->ev_off;
    co->co_n_ev++;
    co->co_payload_bytes += e->ev_data_len;
    size_t line = e->ev_data_len + 6;
    if (co->co_line_min == 0 || line < co->co_line_min)
        co->co_line_min = line;
    if (line > co->co_line_max)
        co->co_line_max = line;
    g->g_life->lf_count++;
    g->g_last_ms = g->g_clock_ms;
}

/* A timestamp at the injected clock's millisecond, later than every one
 * before it (the backend's clock has microseconds). */
static void vbench_gen_timestamp(struct vbench_gen *g, struct vbench_buf *p)
{
    uint64_t us = (g->g_clock_ms - VBENCH_CLOCK_START) * 1000 + vbench_rng_range(&g->g_rng, 0, 999);

    if (us <= g->g_last_us)
        us = g->g_last_us + 1;
    g->g_last_us = us;
    vbench_buf_timestamp(p, us);
}

/* Starts g_payload for the next event. */
static struct vbench_buf *vbench_gen_payload(struct vbench_gen *g)
{
    g->g_payload.b_len = 0;
    return &g->g_payload;
}

/* The composite corpus: `, "correlation_id": ID` (or null). Nothing in
 * the task corpus. */
static void vbench_gen_cid(struct vbench_gen *g, struct vbench_buf *p)
{
    if (!g->g_composite)
        return;
    vbench_buf_str(p, ", \"correlation_id\": ");
    if (g->g_cid[0] == '\0')
        vbench_buf_str(p, "null");
    else
        vbench_buf_pystr(p, g->g_cid);
}

static void vbench_gen_heartbeat(struct vbench_gen *g)
{
    struct vbench_buf *p = vbench_gen_payload(g);

    vbench_buf_str(p, "{\"timestamp\": ");
    vbench_gen_timestamp(g, p);
    vbench_gen_cid(g, p);
    vbench_buf_str(p, "}");
    vbench_gen_emit(g, "heartbeat");
    g->g_co->co_heartbeats++;
}

/* Moves the clock `delay_ms` on, with the heartbeats the backend sends
 * whenever no event went out for about 5 s. */
static void vbench_gen_wait(struct vbench_gen *g, uint64_t delay_ms)
{
    uint64_t at = g->g_clock_ms + delay_ms;

    for (;;) {
        uint64_t hb = g->g_last_ms + VBENCH_HEARTBEAT_MS + vbench_rng_range(&g->g_rng, 0, 12);
        if (hb >= at)
            break;
        g->g_clock_ms = hb;
        vbench_gen_heartbeat(g);
    }
    g->g_clock_ms = at;
}

/* {"event_type": T, "task_id": ID, "timestamp": TS, "data": ... (left open) */
static struct vbench_buf *vbench_gen_task_event(struct vbench_gen *g, const char *type)
{
    struct vbench_buf *p = vbench_gen_payload(g);

    if (g->g_composite) {
        /* model_dump() of TaskEvent(EventBase, TaskEventFields): the base
         * model's fields first, data last. */
        vbench_buf_str(p, "{\"timestamp\": ");
        vbench_gen_timestamp(g, p);
        vbench_gen_cid(g, p);
        vbench_buf_str(p, ", \"event_type\": ");
        vbench_buf_pystr(p, type);
        vbench_buf_str(p, ", \"task_id\": ");
        vbench_buf_pystr(p, g->g_life->lf_task_id);
        vbench_buf_str(p, ", \"labels\": ");
        vbench_buf_str(p, g->g_labels);
        if (g->g_attempt == 0)
            vbench_buf_str(p, ", \"attempt\": null");
        else
            vbench_buf_printf(p, ", \"attempt\": %u", g->g_attempt);
        vbench_buf_str(p, ", \"data\": ");
        return p;
    }
    vbench_buf_str(p, "{\"event_type\": ");
    vbench_buf_pystr(p, type);
    vbench_buf_str(p, ", \"task_id\": ");
    vbench_buf_pystr(p, g->g_life->lf_task_id);
    vbench_buf_str(p, ", \"timestamp\": ");
    vbench_gen_timestamp(g, p);
    vbench_buf_str(p, ", \"data\": ");
    return p;
}

/* `eta_tenths`: the composite corpus's estimate of the time left, in
 * tenths of a second; 0 writes null. */
static void vbench_gen_progress(struct vbench_gen *g, const char *text, double value,
                                unsigned eta_tenths)
{
    struct vbench_buf *p = vbench_gen_task_event(g, "progress_update");

    vbench_buf_str(p, "{\"text\": ");
    vbench_buf_pystr(p, text);
    vbench_buf_str(p, ", \"value\": ");
    vbench_buf_pyfloat(p, value);
    if (g->g_composite) {
        vbench_buf_str(p, ", \"eta_s\": ");
        if (eta_tenths == 0)
            vbench_buf_str(p, "null");
        else
            vbench_buf_pyfloat(p, eta_tenths / 10.0);
    }
    vbench_buf_str(p, "}}");
    vbench_gen_emit(g, "task_event");
}

static void vbench_gen_close(struct vbench_gen *g, const char *reason)
{
    struct vbench_buf *p;

    vbench_gen_wait(g, vbench_rng_range(&g->g_rng, 0, 3));
    p = vbench_gen_payload(g);
    vbench_buf_str(p, "{\"reason\": ");
    vbench_buf_pystr(p, reason);
    vbench_gen_cid(g, p);
    vbench_buf_str(p, "}");
    vbench_gen_emit(g, "connection_close");
}

/* The part's analysis, as an AI analysis task returns it. */
static void vbench_gen_analysis(struct vbench_buf *p, const struct vbench_part *part)
{
    vbench_buf_str(p, "{\"analysis\": {\"manufacturer_code\": ");
    vbench_buf_pystr(p, part->p_code);
    vbench_buf_str(p, ", \"type\": ");
    vbench_buf_pystr(p, part->p_type);
    vbench_buf_str(p, ", \"description\": ");
    vbench_buf_pystr(p, part->p_description);
    vbench_buf_str(p, ", \"tags\": [");
    for (int i = 0; i < 3 && part->p_tags[i] != NULL; i++) {
        if (i > 0)
            vbench_buf_str(p, ", ");
        vbench_buf_pystr(p, part->p_tags[i]);
    }
    vbench_buf_str(p, "], \"package\": ");
    vbench_buf_pystr(p, part->p_package);
    vbench_buf_printf(p, ", \"pin_count\": %d}, \"duplicate_parts\": [], \"success\": true}",
                      part->p_pins);
}

enum vbench_task { VBENCH_DEMO, VBENCH_ANALYSIS, VBENCH_DOWNLOAD };

/* The progress updates of one task: demo_task's "Starting test task" then
 * "Step i/n", or an inventory task's own messages. */
static void vbench_gen_steps(struct vbench_gen *g, enum vbench_task kind,
                             const struct vbench_part *part, unsigned steps, uint64_t max_delay)
{
    char text[256];

    for (unsigned i = 0; i <= steps && !g->g_failed; i++) {
        double value = (double)i / steps;
        if (i > 0)
            vbench_gen_wait(g, vbench_rng_range(&g->g_rng, 20, max_delay));
        switch (kind) {
        case VBENCH_DEMO:
            if (i == 0)
                snprintf(text, sizeof(text), "Starting test task");
            else
                snprintf(text, sizeof(text), "Step %u/%u", i, steps);
            break;
        case VBENCH_ANALYSIS:
            if (i == 0)
                snprintf(text, sizeof(text), "Searching for %s by %s", part->p_code,
                         part->p_manufacturer);
            else if (i == 1)
                snprintf(text, sizeof(text),
                         "Downloading datasheet from https://datasheets.example.com/%s.pdf",
                         part->p_code);
            else if (i + 1 < steps)
                snprintf(text, sizeof(text), "Analyzing %s (%s) with AI: page %u of %u",
                         part->p_description, part->p_package, i - 1, steps - 2);
            else
                snprintf(text, sizeof(text), "Checking the inventory for duplicates of %s",
                         part->p_code);
            break;
        case VBENCH_DOWNLOAD:
            snprintf(text, sizeof(text), "Downloading %s.pdf (%u kB of %u kB)", part->p_code,
                     i * 64, steps * 64);
            break;
        }
        /* The composite corpus: an estimate once the task has started. */
        unsigned eta = 0;
        if (g->g_composite && i > 0 && i < steps)
            eta = (steps - i) * (unsigned)vbench_rng_range(&g->g_rng, 1, 15);
        vbench_gen_progress(g, text, value, eta);
    }
}

/* The composite corpus's per-lifecycle fields: a correlation id on 40 % of
 * the streams (null on the others), labels (null on 20 %; otherwise two to
 * four of tenant, queue, region, priority, in that order), an attempt number
 * on 30 % (null on the others). */
static void vbench_gen_composite_life(struct vbench_gen *g)
{
    static const char *const tenants[] = {"acme", "globex", "initech", "umbrella"};
    static const char *const queues[] = {"ai_analysis", "datasheets", "default"};
    static const char *const regions[] = {"eu_west_1", "us_east_2"};
    static const char *const priorities[] = {"low", "normal", "high"};
    struct vbench_rng *r = &g->g_rng;

    if (vbench_rng_range(r, 0, 9) < 4)
        snprintf(g->g_cid, sizeof(g->g_cid), "req-%016" PRIx64, vbench_rng_next(r));
    else
        g->g_cid[0] = '\0';
    if (vbench_rng_range(r, 0, 9) < 2) {
        snprintf(g->g_labels, sizeof(g->g_labels), "null");
    } else {
        unsigned n = (unsigned)vbench_rng_range(r, 2, 4);
        int len =
            snprintf(g->g_labels, sizeof(g->g_labels), "{\"tenant\": \"%s\", \"queue\": \"%s\"",
                     tenants[vbench_rng_range(r, 0, 3)], queues[vbench_rng_range(r, 0, 2)]);
        if (n > 2)
            len += snprintf(g->g_labels + len, sizeof(g->g_labels) - (size_t)len,
                            ", \"region\": \"%s\"", regions[vbench_rng_range(r, 0, 1)]);
        if (n > 3)
            len += snprintf(g->g_labels + len, sizeof(g->g_labels) - (size_t)len,
                            ", \"priority\": \"%s\"", priorities[vbench_rng_range(r, 0, 2)]);
        snprintf(g->g_labels + len, sizeof(g->g_labels) - (size_t)len, "}");
    }
    g->g_attempt = vbench_rng_range(r, 0, 9) < 3 ? (unsigned)vbench_rng_range(r, 1, 3) : 0;
}

/* One whole lifecycle, appended to the corpus. */
static void vbench_gen_life(struct vbench_gen *g)
{
    struct vbench_corpus *co = g->g_co;
    struct vbench_rng *r = &g->g_rng;
    struct vbench_buf *p;

    if (co->co_n_life == co->co_cap_life) {
        size_t cap = co->co_cap_life ? co->co_cap_life * 2 : 1024;
        struct vbench_life *l = realloc(co->co_life, cap * sizeof(*l));
        if (l == NULL) {
            g->g_failed = true;
            return;
        }
        co->co_life = l;
        co->co_cap_life = cap;
    }
    g->g_life = &co->co_life[co->co_n_life++];
    memset(g->g_life, 0, sizeof(*g->g_life));
    g->g_life->lf_first = co->co_n_ev;
    vbench_uuid4(r, g->g_life->lf_task_id);
    if (g->g_composite)
        vbench_gen_composite_life(g);
    g->g_clock_ms += vbench_rng_range(r, 0, 100);
    g->g_life->lf_open_ms = g->g_clock_ms;

    /* connection_open goes out at once, before any task work. */
    g->g_clock_ms += vbench_rng_range(r, 1, 20);
    p = vbench_gen_payload(g);
    vbench_buf_str(p, "{\"status\": \"connected\"");
    vbench_gen_cid(g, p);
    vbench_buf_str(p, "}");
    vbench_gen_emit(g, "connection_open");

    uint64_t roll = vbench_rng_range(r, 0, 99);
    if (roll < 4) {
        vbench_gen_wait(g, vbench_rng_range(r, 1, 5));
        p = vbench_gen_payload(g);
        vbench_buf_str(p, "{\"error\": \"Task not found\"");
        vbench_gen_cid(g, p);
        vbench_buf_str(p, "}");
        vbench_gen_emit(g, "error");
        vbench_gen_close(g, "task_not_found");
    } else {
        const struct vbench_part *part = &vbench_parts[vbench_rng_range(r, 0, VBENCH_NPARTS - 1)];
        bool fails = roll < 16;
        /* Most tasks report often; some are slow enough for heartbeats,
         * and a few wait in the queue before they start. */
        uint64_t max_delay = vbench_rng_range(r, 0, 99) < 15 ? 12000 : 1500;
        uint64_t start = vbench_rng_range(r, 0, 99) < 5 ? vbench_rng_range(r, 5500, 9000)
                                                        : vbench_rng_range(r, 2, 50);
        enum vbench_task kind = (enum vbench_task)vbench_rng_range(r, 0, 2);
        unsigned steps = fails ? (unsigned)vbench_rng_range(r, 1, 3)
                               : (unsigned)vbench_rng_range(r, kind == VBENCH_ANALYSIS ? 4 : 2, 30);

        vbench_gen_wait(g, start);
        p = vbench_gen_task_event(g, "task_started");
        vbench_buf_str(p, "null}");
        vbench_gen_emit(g, "task_event");
        vbench_gen_steps(g, kind, part, steps, max_delay);
        vbench_gen_wait(g, vbench_rng_range(r, 20, max_delay));
        if (fails) {
            const char *msg = vbench_failures[vbench_rng_range(r, 0, VBENCH_NFAILURES - 1)];
            struct vbench_buf tb = {0};
            p = vbench_gen_task_event(g, "task_failed");
            vbench_buf_str(p, "{\"error\": ");
            vbench_buf_pystr(p, msg);
            vbench_buf_str(p, ", \"traceback\": ");
            vbench_buf_printf(&tb,
                              "Traceback (most recent call last):\n"
                              "  File \"/app/app/services/task_service.py\", line %u, in "
                              "_execute_task\n"
                              "RuntimeError: ",
                              (unsigned)vbench_rng_range(r, 150, 260));
            vbench_buf_str(&tb, msg);
            vbench_buf_add(&tb, "\n", 2); /* the NUL too, for vbench_buf_pystr */
            if (tb.b_failed)
                g->g_failed = true;
            else if (g->g_composite && vbench_rng_range(r, 0, 9) < 3)
                vbench_buf_str(p, "null"); /* Optional[str]: no traceback kept */
            else
                vbench_buf_pystr(p, tb.b_data);
            vbench_buf_free(&tb);
            vbench_buf_str(p, "}}");
        } else {
            p = vbench_gen_task_event(g, "task_completed");
            if (kind == VBENCH_ANALYSIS) {
                vbench_gen_analysis(p, part);
            } else if (kind == VBENCH_DOWNLOAD && vbench_rng_range(r, 0, 1) == 0) {
                vbench_buf_str(p, "null");
            } else {
                vbench_buf_str(p, "{\"message\": ");
                vbench_buf_pystr(p, kind == VBENCH_DEMO ? "Test task completed" : "Downloaded");
                vbench_buf_printf(p, ", \"steps_completed\": %u, \"status\": \"success\"}", steps);
            }
            vbench_buf_str(p, "}");
        }
        vbench_gen_emit(g, "task_event");
        /* The baseline closes a failed task with task_completed too. */
        vbench_gen_close(g, "task_completed");
    }
    g->g_clock_ms += 1;
    g->g_life->lf_end_ms = g->g_clock_ms;
}

/* Whole lifecycles until at least `events` events. Returns -1 on
 * allocation failure. */
static int vbench_generate(struct vbench_corpus *co, size_t events, uint64_t seed, bool composite)
{
    struct vbench_gen g = {
        .g_rng = {seed}, .g_co = co, .g_clock_ms = VBENCH_CLOCK_START, .g_composite = composite};

    memset(co, 0, sizeof(*co));
    while (co->co_n_ev < events && !g.g_failed)
        vbench_gen_life(&g);
    vbench_buf_free(&g.g_payload);
    return g.g_failed ? -1 : 0;
}

static void vbench_corpus_free(struct vbench_corpus *co)
{
    vbench_buf_free(&co->co_text);
    free(co->co_ev);
    free(co->co_life);
    memset(co, 0, sizeof(*co));
}

/* ---- files for the JavaScript side ---- */

static int vbench_write_corpus(const struct vbench_corpus *co, const char *path, const char *label,
                               uint64_t seed)
{
    size_t plen = strlen(path);
    char *side = malloc(plen + 6);
    FILE *f;

    if (side == NULL) {
        fprintf(stderr, "bench_validate: out of memory\n");
        return -1;
    }
    snprintf(side, plen + 6, "%s.json", path);
    f = fopen(path, "wb");
    if (f != NULL) {
        bool ok = fwrite(co->co_text.b_data, 1, co->co_text.b_len, f) == co->co_text.b_len;
        if (fclose(f) != 0 || !ok)
            f = NULL;
    }
    if (f == NULL) {
        fprintf(stderr, "bench_validate: %s: %s\n", path, strerror(errno));
        free(side);
        return -1;
    }
    f = fopen(side, "w");
    if (f == NULL) {
        fprintf(stderr, "bench_validate: %s: %s\n", side, strerror(errno));
        free(side);
        return -1;
    }
    /* One stream per line, so the file stays readable at any size. */
    fprintf(f,
            "{\"corpus\": \"%s\", \"seed\": %" PRIu64 ", \"bytes\": %zu, \"events\": %zu, "
            "\"lifecycles\": %zu, \"payload_bytes\": %" PRIu64 ",\n\"streams\": [\n",
            label, seed, co->co_text.b_len, co->co_n_ev, co->co_n_life, co->co_payload_bytes);
    for (size_t i = 0; i < co->co_n_life; i++) {
        const struct vbench_life *l = &co->co_life[i];
        fprintf(f, "{\"task_id\": \"%s\", \"offset\": %zu, \"chunks\": [", l->lf_task_id,
                co->co_ev[l->lf_first].ev_off);
        for (size_t e = 0; e < l->lf_count; e++)
            fprintf(f, "%s%zu", e ? ", " : "", co->co_ev[l->lf_first + e].ev_len);
        fprintf(f, "]}%s\n", i + 1 < co->co_n_life ? "," : "");
    }
    fprintf(f, "]}\n");
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed) {
        fprintf(stderr, "bench_validate: %s: write failed\n", side);
        free(side);
        return -1;
    }
    free(side);
    return 0;
}

static int vbench_export_schemas(const char *contract, const char *dir, const char *path)
{
    struct contract_load_error err;
    json_t *doc = contract_load_document(contract, dir, &err);

    if (doc == NULL) {
        fprintf(stderr, "bench_validate: %s\n", err.cle_text);
        return -1;
    }
    /* Insertion order is kept: the order of transitions is part of the
     * contract (the first match wins). */
    int rc = json_dump_file(doc, path, JSON_INDENT(2));
    json_decref(doc);
    if (rc != 0) {
        fprintf(stderr, "bench_validate: %s: cannot write\n", path);
        return -1;
    }
    return 0;
}

/* ---- measurements ---- */

static void vbench_on_violation(void *ctx, const struct violation *v)
{
    struct vbench_stream *st = ctx;

    st->st_violations++;
    if (st->st_shown++ < VBENCH_SHOW_VIOLATIONS)
        fprintf(stderr,
                "bench_validate: violation %s at %" PRIu64 " ms: %s (event %s, state %s)%s%s\n",
                violation_class_name(v->v_class), v->v_time_ms, v->v_message,
                v->v_event ? v->v_event : "-", v->v_state ? v->v_state : "-",
                v->v_excerpt ? ", data: " : "", v->v_excerpt ? v->v_excerpt : "");
}

static void vbench_on_event(void *ctx, const struct sse_event *ev)
{
    struct vbench_stream *st = ctx;
    validator_event(st->st_val, st->st_now_ms, ev);
}

static void vbench_on_comment(void *ctx, const char *text, size_t len)
{
    struct vbench_stream *st = ctx;
    validator_comment(st->st_val, st->st_now_ms, text, len);
}

static void vbench_on_anomaly(void *ctx, enum sse_anomaly kind, const char *line, size_t len)
{
    struct vbench_stream *st = ctx;
    validator_anomaly(st->st_val, st->st_now_ms, kind, line, len);
}

/* The backend's response headers (the content type was checked by the
 * subscription engine before the validator sees the stream). */
static const struct validator_header vbench_headers[] = {
    {"Content-Type", "text/event-stream; charset=utf-8"},
    {"Cache-Control", "no-cache"},
    {"Access-Control-Allow-Origin", "*"},
    {"Access-Control-Allow-Headers", "Cache-Control"},
};

/* Feeds one lifecycle as its own stream. Returns -1 on allocation failure. */
static int vbench_validate_life(const struct vbench_corpus *co, const struct vbench_life *l,
                                const struct contract *c, struct sse_parser *p,
                                struct vbench_stream *st, struct vbench_count *count)
{
    const struct validator_var var = {"task_id", l->lf_task_id};
    const struct validator_options opts = {.vo_vars = &var, .vo_n_vars = 1, .vo_timing = true};
    const struct vbench_event *ev = co->co_ev + l->lf_first;
    int rc = 0;

    st->st_val = validator_new(c, &opts, vbench_on_violation, st);
    if (st->st_val == NULL)
        return -1;
    validator_open(st->st_val, l->lf_open_ms, 200, vbench_headers,
                   sizeof(vbench_headers) / sizeof(vbench_headers[0]));
    for (size_t i = 0; i < l->lf_count; i++) {
        uint64_t next = i + 1 < l->lf_count ? ev[i + 1].ev_ms : l->lf_end_ms;
        st->st_now_ms = ev[i].ev_ms;
        if (sse_parser_feed(p, co->co_text.b_data + ev[i].ev_off, ev[i].ev_len) != 0) {
            rc = -1;
            break;
        }
        /* An adapter re-arms its timer here; it fires only before the next
         * bytes arrive, never with a faithful stream. */
        uint64_t deadline = validator_next_deadline(st->st_val);
        if (deadline < next)
            validator_tick(st->st_val, deadline);
        count->vc_check += deadline;
    }
    sse_parser_end(p);
    validator_end(st->st_val, l->lf_end_ms, NULL);
    count->vc_events += validator_stats(st->st_val)->vs_events;
    validator_free(st->st_val);
    st->st_val = NULL;
    return rc;
}

/* One pass of parse + validate over every lifecycle. Returns 0, or -1 on
 * allocation failure. */
static int vbench_validate_once(const struct vbench_corpus *co, const struct contract *c,
                                struct vbench_count *count, uint64_t *shown, struct vbench_watch *w)
{
    const struct sse_parser_callbacks cbs = {
        .on_event = vbench_on_event,
        .on_comment = vbench_on_comment,
        .on_anomaly = vbench_on_anomaly,
    };
    struct vbench_stream st = {.st_shown = *shown};
    struct sse_parser *p = sse_parser_new(NULL, &cbs, &st);

    memset(count, 0, sizeof(*count));
    if (p == NULL)
        return -1;
    vbench_watch_start(w);
    for (size_t i = 0; i < co->co_n_life; i++)
        if (vbench_validate_life(co, &co->co_life[i], c, p, &st, count) != 0) {
            sse_parser_free(p);
            return -1;
        }
    vbench_watch_stop(w);
    count->vc_violations += st.st_violations;
    count->vc_check += sse_parser_stats(p)->events;
    *shown = st.st_shown;
    if (sse_parser_stats(p)->events != count->vc_events) {
        fprintf(stderr,
                "bench_validate: the parser dispatched %" PRIu64
                " events, the validators saw %" PRIu64 "\n",
                sse_parser_stats(p)->events, count->vc_events);
        count->vc_violations++;
    }
    sse_parser_free(p);
    return 0;
}

/* jansson's DOM of every payload, built and freed. */
static int vbench_jansson_once(const struct vbench_corpus *co, struct vbench_count *count,
                               struct vbench_watch *w)
{
    memset(count, 0, sizeof(*count));
    vbench_watch_start(w);
    for (size_t i = 0; i < co->co_n_ev; i++) {
        const struct vbench_event *e = &co->co_ev[i];
        json_error_t err;
        json_t *j = json_loadb(co->co_text.b_data + e->ev_data_off, e->ev_data_len, 0, &err);
        if (j == NULL) {
            count->vc_violations++;
            continue;
        }
        count->vc_events++;
        count->vc_check += json_object_size(j);
        json_decref(j);
    }
    vbench_watch_stop(w);
    return 0;
}

/* json_tape alone over every payload: the parse in the validator's work. */
static int vbench_tape_once(const struct vbench_corpus *co, struct vbench_count *count,
                            struct vbench_watch *w)
{
    struct json_tape t;

    memset(count, 0, sizeof(*count));
    json_tape_init(&t);
    vbench_watch_start(w);
    for (size_t i = 0; i < co->co_n_ev; i++) {
        const struct vbench_event *e = &co->co_ev[i];
        if (json_tape_parse(&t, co->co_text.b_data + e->ev_data_off, e->ev_data_len, NULL) !=
            JSON_TAPE_OK) {
            count->vc_violations++;
            continue;
        }
        count->vc_events++;
        count->vc_check += t.jt_count;
    }
    vbench_watch_stop(w);
    json_tape_free(&t);
    return 0;
}

static int vbench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts `t` and returns its median; t[0] is then the best. */
static double vbench_median(double *t, unsigned n)
{
    qsort(t, n, sizeof(*t), vbench_cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

enum { VBENCH_VALIDATE, VBENCH_JANSSON, VBENCH_TAPE, VBENCH_NIMPL };
#define VBENCH_ALL ((1u << VBENCH_NIMPL) - 1)

static const char *const vbench_impl_names[VBENCH_NIMPL] = {
    "ssemon parse+validate",
    "jansson json_loadb (DOM only)",
    "ssemon json_tape (parse only)",
};
/* The names --only takes. */
static const char *const vbench_impl_keys[VBENCH_NIMPL] = {"validate", "jansson", "tape"};

/* Alternates the implementations run by run, so all see the same
 * conditions on a shared machine. Every run must count what the first did,
 * with no violation. */
static int vbench_rounds(const struct vbench_corpus *co, const struct contract *c, unsigned repeat,
                         unsigned impls, struct vbench_result *res)
{
    /* Per implementation: `repeat` wall times, then `repeat` CPU times. */
    double *times = calloc((size_t)repeat * 2 * VBENCH_NIMPL, sizeof(*times));

    const char *const *names = vbench_impl_names;
    uint64_t shown = 0;
    int rc = -1;

    if (times == NULL) {
        fprintf(stderr, "bench_validate: out of memory\n");
        return -1;
    }
    for (unsigned i = 0; i < repeat; i++) {
        for (int k = 0; k < VBENCH_NIMPL; k++) {
            struct vbench_count cnt;
            struct vbench_watch w;
            if (!(impls & (1u << k)))
                continue;
            int fail = k == VBENCH_VALIDATE  ? vbench_validate_once(co, c, &cnt, &shown, &w)
                       : k == VBENCH_JANSSON ? vbench_jansson_once(co, &cnt, &w)
                                             : vbench_tape_once(co, &cnt, &w);
            if (fail) {
                fprintf(stderr, "bench_validate: %s: out of memory\n", names[k]);
                goto out;
            }
            if (cnt.vc_violations != 0 || cnt.vc_events != co->co_n_ev) {
                fprintf(stderr,
                        "bench_validate: %s: %" PRIu64 " violations or failures, %" PRIu64
                        " of %zu events: the corpus must be faithful\n",
                        names[k], cnt.vc_violations, cnt.vc_events, co->co_n_ev);
                goto out;
            }
            if (i > 0 && cnt.vc_check != res[k].br_count.vc_check) {
                fprintf(stderr, "bench_validate: %s: runs disagree on what they found\n", names[k]);
                goto out;
            }
            res[k].br_impl = names[k];
            res[k].br_count = cnt;
            times[((size_t)k * 2) * repeat + i] = w.w_wall;
            times[((size_t)k * 2 + 1) * repeat + i] = w.w_cpu;
        }
    }
    for (int k = 0; k < VBENCH_NIMPL; k++) {
        double *wall = times + (size_t)k * 2 * repeat, *cpu = wall + repeat;
        if (!(impls & (1u << k)))
            continue;
        res[k].br_median = vbench_median(wall, repeat);
        res[k].br_best = wall[0];
        res[k].br_cpu_median = vbench_median(cpu, repeat);
        res[k].br_cpu_best = cpu[0];
    }
    rc = 0;
out:
    free(times);
    return rc;
}

/* One decimal: more digits than that are noise between runs. */
static double vbench_round1(double v)
{
    return (double)(int64_t)(v * 10 + 0.5) / 10;
}

static void vbench_print(const struct vbench_result *r, const struct vbench_corpus *co,
                         const char *label, const char *contract, unsigned runs)
{
    struct json_writer w;
    size_t bytes = co->co_text.b_len, len;
    uint64_t events = r->br_count.vc_events;

    json_writer_init(&w);
    json_writer_object_begin(&w);
    json_writer_key(&w, "impl");
    json_writer_cstring(&w, r->br_impl);
    json_writer_key(&w, "corpus");
    json_writer_cstring(&w, label);
    json_writer_key(&w, "bytes");
    json_writer_uint(&w, bytes);
    json_writer_key(&w, "events");
    json_writer_uint(&w, events);
    json_writer_key(&w, "mb_s");
    json_writer_double(&w, vbench_round1((double)bytes / 1e6 / r->br_best));
    json_writer_key(&w, "events_s");
    json_writer_uint(&w, (uint64_t)((double)events / r->br_best));
    json_writer_key(&w, "mb_s_median");
    json_writer_double(&w, vbench_round1((double)bytes / 1e6 / r->br_median));
    json_writer_key(&w, "events_s_median");
    json_writer_uint(&w, (uint64_t)((double)events / r->br_median));
    json_writer_key(&w, "events_s_cpu");
    json_writer_uint(&w, (uint64_t)((double)events / r->br_cpu_best));
    json_writer_key(&w, "events_s_cpu_median");
    json_writer_uint(&w, (uint64_t)((double)events / r->br_cpu_median));
    json_writer_key(&w, "runs");
    json_writer_uint(&w, runs);
    json_writer_key(&w, "violations");
    json_writer_uint(&w, r->br_count.vc_violations);
    json_writer_key(&w, "lifecycles");
    json_writer_uint(&w, co->co_n_life);
    json_writer_key(&w, "payload_bytes");
    json_writer_uint(&w, co->co_payload_bytes);
    json_writer_key(&w, "contract");
    json_writer_cstring(&w, contract);
    json_writer_object_end(&w);
    json_writer_append(&w, "\n", 1);
    const char *text = json_writer_text(&w, &len);
    if (json_writer_failed(&w))
        fprintf(stderr, "bench_validate: out of memory\n");
    else
        fwrite(text, 1, len, stdout);
    json_writer_free(&w);
}

/* ---- command line ---- */

static void vbench_usage(FILE *f)
{
    fputs("usage: bench_validate [--corpus task|composite] [--events N] [--seed N]\n"
          "                      [--repeat N] [--contract NAME|PATH]\n"
          "                      [--contracts-dir DIR] [--write-corpus FILE]\n"
          "                      [--export-schemas FILE] [--no-measure]\n"
          "                      [--only validate|jansson|tape]...\n"
          "Generates a task-stream corpus of whole lifecycles (at least N events, default\n"
          "500000; seed default 1), then times, N times each (default 5), sse_parser +\n"
          "validator with the contract (default task-stream), jansson's json_loadb and\n"
          "json_tape_parse alone on the same payloads. One JSON line per measurement:\n"
          "mb_s/events_s best of N, *_median the median; 1 MB = 10^6 bytes of the corpus.\n"
          "--corpus composite: the same lifecycles with pydantic-style payloads, judged by\n"
          "bench/contracts/task-stream-composite.json (anyOf, oneOf, patternProperties,\n"
          "unevaluatedProperties) unless --contract names another.\n"
          "--write-corpus writes the corpus to FILE and its streams to FILE.json;\n"
          "--export-schemas writes the merged contract document; --no-measure only writes;\n"
          "--only times just the named measurements (e.g. for a profiler).\n"
          "Exit status: 0, 1 on failure, 2 on a usage error, 3 when the contract does not\n"
          "load or compile (the message on stderr; the corpus files are written first).\n",
          f);
}

static bool vbench_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

struct vbench_args {
    uint64_t a_events;
    uint64_t a_seed;
    uint64_t a_repeat;
    const char *a_contract;
    const char *a_contracts_dir;
    const char *a_corpus_out;
    const char *a_schemas_out;
    bool a_measure;
    bool a_composite; /* --corpus composite */
    unsigned a_impls; /* bit per VBENCH_VALIDATE... */
};

/* Returns 0, 1 for --help, or 2 for a usage error (reported). */
static int vbench_args(int argc, char **argv, struct vbench_args *a)
{
    static const struct option opts[] = {
        {"corpus", required_argument, NULL, 'k'},
        {"events", required_argument, NULL, 'e'},
        {"seed", required_argument, NULL, 's'},
        {"repeat", required_argument, NULL, 'r'},
        {"contract", required_argument, NULL, 'c'},
        {"contracts-dir", required_argument, NULL, 'd'},
        {"write-corpus", required_argument, NULL, 'w'},
        {"export-schemas", required_argument, NULL, 'x'},
        {"no-measure", no_argument, NULL, 'n'},
        {"only", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool contract_given = false;
    int c;

    *a = (struct vbench_args){.a_events = VBENCH_DEFAULT_EVENTS,
                              .a_seed = 1,
                              .a_repeat = 5,
                              .a_contract = "task-stream",
                              .a_measure = true,
                              .a_impls = VBENCH_ALL};
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            if (!vbench_parse_u64(optarg, VBENCH_MAX_EVENTS, &a->a_events) || a->a_events == 0) {
                fprintf(stderr, "bench_validate: --events needs 1..%u, got '%s'\n",
                        VBENCH_MAX_EVENTS, optarg);
                return 2;
            }
            break;
        case 's':
            if (!vbench_parse_u64(optarg, UINT64_MAX, &a->a_seed)) {
                fprintf(stderr, "bench_validate: --seed needs a number, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'r':
            if (!vbench_parse_u64(optarg, VBENCH_MAX_REPEAT, &a->a_repeat) || a->a_repeat == 0) {
                fprintf(stderr, "bench_validate: --repeat needs 1..%u, got '%s'\n",
                        VBENCH_MAX_REPEAT, optarg);
                return 2;
            }
            break;
        case 'c':
            a->a_contract = optarg;
            contract_given = true;
            break;
        case 'k':
            if (strcmp(optarg, "task") == 0) {
                a->a_composite = false;
            } else if (strcmp(optarg, "composite") == 0) {
                a->a_composite = true;
            } else {
                fprintf(stderr, "bench_validate: --corpus takes task or composite, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'd':
            a->a_contracts_dir = optarg;
            break;
        case 'w':
            a->a_corpus_out = optarg;
            break;
        case 'x':
            a->a_schemas_out = optarg;
            break;
        case 'n':
            a->a_measure = false;
            break;
        case 'o': {
            int k = 0;
            while (k < VBENCH_NIMPL && strcmp(optarg, vbench_impl_keys[k]) != 0)
                k++;
            if (k == VBENCH_NIMPL) {
                fprintf(stderr,
                        "bench_validate: --only takes validate, jansson or tape, got '%s'\n",
                        optarg);
                return 2;
            }
            /* Repeated --only options add up. */
            a->a_impls = (a->a_impls == VBENCH_ALL ? 0 : a->a_impls) | (1u << k);
            break;
        }
        case 'h':
            return 1;
        default:
            fprintf(stderr, "bench_validate: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            vbench_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "bench_validate: unexpected argument '%s'\n", argv[optind]);
        vbench_usage(stderr);
        return 2;
    }
    if (a->a_composite && !contract_given)
        a->a_contract = VBENCH_COMPOSITE_CONTRACT;
    return 0;
}

static int vbench_measure(const struct vbench_corpus *co, const struct vbench_args *a,
                          const char *label)
{
    struct contract_load_error err;
    struct contract *c = contract_load(a->a_contract, a->a_contracts_dir, &err);
    struct vbench_result res[VBENCH_NIMPL] = {0};
    int rc = 1;

    if (c == NULL) {
        fprintf(stderr, "bench_validate: contract does not compile: %s\n", err.cle_text);
        return VBENCH_EXIT_CONTRACT;
    }
    if (vbench_rounds(co, c, (unsigned)a->a_repeat, a->a_impls, res) == 0) {
        for (int k = 0; k < VBENCH_NIMPL; k++)
            if (a->a_impls & (1u << k))
                vbench_print(&res[k], co, label, c->c_name, (unsigned)a->a_repeat);
        rc = fflush(stdout) == 0 ? 0 : 1;
    }
    contract_free(c);
    return rc;
}

int main(int argc, char **argv)
{
    struct vbench_args a;
    struct vbench_corpus co;
    char label[96];
    int rc;

    rc = vbench_args(argc, argv, &a);
    if (rc != 0) {
        if (rc == 1)
            vbench_usage(stdout);
        return rc == 1 ? 0 : 2;
    }
    if (a.a_schemas_out != NULL &&
        vbench_export_schemas(a.a_contract, a.a_contracts_dir, a.a_schemas_out) != 0)
        return 1;
    if (vbench_generate(&co, (size_t)a.a_events, a.a_seed, a.a_composite) != 0) {
        fprintf(stderr, "bench_validate: out of memory generating the corpus\n");
        vbench_corpus_free(&co);
        return 1;
    }
    snprintf(label, sizeof(label), "%s-%" PRIu64 "ev-s%" PRIu64,
             a.a_composite ? "task-composite" : "task-stream", a.a_events, a.a_seed);
    fprintf(stderr,
            "bench_validate: corpus %s: %zu bytes, %zu events (%" PRIu64
            " heartbeats) in %zu lifecycles, data lines %zu-%zu bytes\n",
            label, co.co_text.b_len, co.co_n_ev, co.co_heartbeats, co.co_n_life, co.co_line_min,
            co.co_line_max);
    rc = 0;
    if (a.a_corpus_out != NULL && vbench_write_corpus(&co, a.a_corpus_out, label, a.a_seed) != 0)
        rc = 1;
    if (rc == 0 && a.a_measure)
        rc = vbench_measure(&co, &a, label);
    vbench_corpus_free(&co);
    return rc;
}
