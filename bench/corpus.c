/*
 * bench_corpus: writes a deterministic event-stream corpus for the parser
 * benchmarks, and a sidecar OUT.json with its byte and event counts.
 *
 *   backend  the Flask backend's traffic as docs/streams.md describes it:
 *            named events with one json.dumps-style data line (task events
 *            of 100-400 bytes, heartbeats, version events, connection
 *            events) and ~5% gateway comment heartbeats.
 *   bigline  named events with one 64 KiB data line each.
 *
 * The same shape, size and seed always give the same bytes, so results from
 * different runs and machines describe the same input.
 */
#include "ssemon/json/json_writer.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CORPUS_MAX_MIB 65536
#define CORPUS_BIGLINE_DATA 65536
/* Task event data lines are kept within these bounds (the shape). */
#define CORPUS_TASK_MIN 100
#define CORPUS_TASK_MAX 400
/* Before a task event's data line: "event: task_event\ndata: ". */
#define CORPUS_TASK_PREFIX 24
/* Longer than any entry of corpus_words, so a budget of it fits a word. */
#define CORPUS_WORD_MAX 10
#define CORPUS_EVENT_MAX (CORPUS_BIGLINE_DATA + 256)
#define CORPUS_OUT_BUFFER ((size_t)1 << 20)
/* 2025-11-19T21:00:00Z, the date in the backend's own examples. */
#define CORPUS_EPOCH_START INT64_C(1763586000)

enum corpus_shape { CORPUS_BACKEND, CORPUS_BIGLINE };

/* splitmix64: tiny, fast, and identical everywhere for a given seed. */
struct corpus_rng {
    uint64_t r_state;
};

/* One event's text, built in place before it is written. */
struct corpus_text {
    char *t_buf; /* owned by the generator */
    size_t t_len;
    size_t t_cap;
    bool t_overflow;
};

struct corpus_gen {
    struct corpus_rng g_rng;
    struct corpus_text g_ev;
    uint64_t g_bytes;
    uint64_t g_events;
    uint64_t g_comments;
    size_t g_task_min; /* shortest and longest task event data line seen */
    size_t g_task_max;
    int64_t g_clock_us; /* simulated wall clock */
    char g_task_id[37];
    char g_corr_id[37];
    char g_commit[41];
    unsigned g_step;
    unsigned g_steps;
};

static const char *const corpus_words[] = {
    "resistor",  "capacitor", "0603",      "0805",     "10k",      "4.7uF",   "LCSC",
    "datasheet", "footprint", "inventory", "box",      "location", "part",    "supplier",
    "analyzing", "fetching",  "matching",  "updating", "image",    "pinout",  "SOT-23",
    "MOSFET",    "ESP32",     "connector", "JST-XH",   "crystal",  "16MHz",   "regulator",
    "LDO",       "3.3V",      "header",    "2.54mm",   "quantity", "reorder", "shelf",
};
#define CORPUS_NWORDS (sizeof(corpus_words) / sizeof(corpus_words[0]))

static uint64_t corpus_rng_next(struct corpus_rng *r)
{
    uint64_t z = (r->r_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0; the modulo bias is irrelevant at these sizes. */
static uint64_t corpus_rng_below(struct corpus_rng *r, uint64_t n)
{
    return corpus_rng_next(r) % n;
}

static void corpus_text_reset(struct corpus_text *t)
{
    t->t_len = 0;
    t->t_overflow = false;
}

static void corpus_text_add(struct corpus_text *t, const char *s, size_t len)
{
    if (len > t->t_cap - t->t_len) {
        t->t_overflow = true;
        return;
    }
    memcpy(t->t_buf + t->t_len, s, len);
    t->t_len += len;
}

static void corpus_text_str(struct corpus_text *t, const char *s)
{
    corpus_text_add(t, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void corpus_text_fmt(struct corpus_text *t,
                                                                  const char *fmt, ...)
{
    va_list ap;
    size_t room = t->t_cap - t->t_len;
    va_start(ap, fmt);
    int n = vsnprintf(t->t_buf + t->t_len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        t->t_overflow = true;
        return;
    }
    t->t_len += (size_t)n;
}

static void corpus_uuid(struct corpus_rng *r, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t hi = corpus_rng_next(r), lo = corpus_rng_next(r);
    /* Version 4, variant 10xx, as Python's uuid.uuid4() prints them. */
    hi = (hi & ~UINT64_C(0xF000)) | UINT64_C(0x4000);
    lo = (lo & ~(UINT64_C(0xC) << 60)) | (UINT64_C(0x8) << 60);
    char digits[32];
    for (int i = 0; i < 16; i++) {
        digits[i] = hex[(hi >> (60 - 4 * i)) & 0xF];
        digits[16 + i] = hex[(lo >> (60 - 4 * i)) & 0xF];
    }
    size_t o = 0;
    for (int i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[o++] = '-';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* The backend's datetime.isoformat() with a +00:00 offset. */
static void corpus_timestamp(int64_t us, char out[40])
{
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%06d+00:00", (int)(us % 1000000));
}

/* Python's repr() of a float: the shortest text that reads back exactly,
 * with ".0" on integral values. Only used for values in [0, 1]. */
static void corpus_float(double v, char out[32])
{
    int n = 0;
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    if (strpbrk(out, ".e") == NULL && n >= 0 && n + 2 < 32)
        memcpy(out + n, ".0", 3);
}

/* Random words, space separated, at most `max` characters in all. */
static void corpus_words_upto(struct corpus_gen *g, size_t max)
{
    size_t used = 0;
    for (;;) {
        const char *w = corpus_words[corpus_rng_below(&g->g_rng, CORPUS_NWORDS)];
        size_t wl = strlen(w);
        size_t sep = used > 0 ? 1 : 0;
        if (used + sep + wl > max)
            return;
        corpus_text_add(&g->g_ev, " ", sep);
        corpus_text_add(&g->g_ev, w, wl);
        used += sep + wl;
    }
}

static void corpus_tick(struct corpus_gen *g)
{
    g->g_clock_us += (int64_t)corpus_rng_below(&g->g_rng, 2000000);
}

static void corpus_event_begin(struct corpus_gen *g, const char *name)
{
    corpus_text_reset(&g->g_ev);
    corpus_text_fmt(&g->g_ev, "event: %s\ndata: ", name);
}

/* The start of a task_event payload; the caller appends "data" and "}". */
static void corpus_task_head(struct corpus_gen *g, const char *type)
{
    char ts[40];
    corpus_tick(g);
    corpus_timestamp(g->g_clock_us, ts);
    corpus_event_begin(g, "task_event");
    corpus_text_fmt(&g->g_ev,
                    "{\"event_type\": \"%s\", \"task_id\": \"%s\", \"timestamp\": \"%s\", "
                    "\"data\": ",
                    type, g->g_task_id, ts);
}

static void corpus_task_started(struct corpus_gen *g)
{
    corpus_uuid(&g->g_rng, g->g_task_id);
    g->g_step = 0;
    g->g_steps = 3 + (unsigned)corpus_rng_below(&g->g_rng, 48);
    corpus_task_head(g, "task_started");
    corpus_text_str(&g->g_ev, "null}");
}

/* Bytes left for free text in a task event's data line, once `tail` (what
 * still has to follow the text) is counted, within CORPUS_TASK_MAX. */
static size_t corpus_task_room(const struct corpus_gen *g, size_t tail)
{
    size_t used = g->g_ev.t_len - CORPUS_TASK_PREFIX + tail;
    return used < CORPUS_TASK_MAX ? CORPUS_TASK_MAX - used : 0;
}

static size_t corpus_min(size_t a, size_t b)
{
    return a < b ? a : b;
}

static void corpus_task_progress(struct corpus_gen *g)
{
    char value[32], tail[64];
    if (g->g_step >= g->g_steps)
        g->g_step = 0;
    g->g_step++;
    corpus_float((double)g->g_step / g->g_steps, value);
    int tlen = snprintf(tail, sizeof(tail), "\", \"value\": %s}}", value);
    corpus_task_head(g, "progress_update");
    corpus_text_fmt(&g->g_ev, "{\"text\": \"Step %u/%u", g->g_step, g->g_steps);
    /* Most progress texts carry a description, spreading the line over the
     * whole 100-400 byte range. */
    size_t room = corpus_task_room(g, (size_t)tlen + 2);
    if (corpus_rng_below(&g->g_rng, 4) != 0 && room >= CORPUS_WORD_MAX) {
        corpus_text_str(&g->g_ev, ": ");
        corpus_words_upto(g, corpus_min(room, 8 + corpus_rng_below(&g->g_rng, 250)));
    }
    corpus_text_add(&g->g_ev, tail, (size_t)tlen);
}

static void corpus_task_completed(struct corpus_gen *g)
{
    char tail[80];
    int tlen = snprintf(tail, sizeof(tail),
                        "\", \"steps_completed\": %u, \"status\": \"success\"}}", g->g_steps);
    corpus_task_head(g, "task_completed");
    corpus_text_str(&g->g_ev, "{\"message\": \"");
    size_t room = corpus_task_room(g, (size_t)tlen);
    corpus_words_upto(g, corpus_min(room, 10 + corpus_rng_below(&g->g_rng, 200)));
    corpus_text_add(&g->g_ev, tail, (size_t)tlen);
}

/* A Python traceback, with the \n and \" escapes json.dumps writes. */
#define CORPUS_TRACEBACK                                                                           \
    "\", \"traceback\": \"Traceback (most recent call last):\\n  File "                            \
    "\\\"/app/app/services/task_service.py\\\", line %u, in _run\\n"                               \
    "ValueError: %.*s\\n\"}}"

static void corpus_task_failed(struct corpus_gen *g)
{
    unsigned line = 100 + (unsigned)corpus_rng_below(&g->g_rng, 300);
    int fixed = snprintf(NULL, 0, CORPUS_TRACEBACK, line, 0, "");
    corpus_task_head(g, "task_failed");
    corpus_text_str(&g->g_ev, "{\"error\": \"");
    /* The message appears twice: in "error" and at the traceback's end. */
    size_t room = corpus_task_room(g, (size_t)fixed) / 2;
    size_t mark = g->g_ev.t_len;
    corpus_words_upto(g, corpus_min(room, 10 + corpus_rng_below(&g->g_rng, 50)));
    char err[64];
    size_t elen = corpus_min(g->g_ev.t_len - mark, sizeof(err));
    memcpy(err, g->g_ev.t_buf + mark, elen);
    corpus_text_fmt(&g->g_ev, CORPUS_TRACEBACK, line, (int)elen, err);
}

static void corpus_task_heartbeat(struct corpus_gen *g)
{
    char ts[40];
    corpus_tick(g);
    corpus_timestamp(g->g_clock_us, ts);
    corpus_event_begin(g, "heartbeat");
    corpus_text_fmt(&g->g_ev, "{\"timestamp\": \"%s\"}", ts);
}

static void corpus_version(struct corpus_gen *g)
{
    corpus_event_begin(g, "version");
    corpus_text_fmt(&g->g_ev,
                    "{\"version\": \"2025.11.%u\", \"environment\": \"production\", "
                    "\"git_commit\": \"%s\", \"correlation_id\": \"%s\"}",
                    1 + (unsigned)corpus_rng_below(&g->g_rng, 30), g->g_commit, g->g_corr_id);
}

static void corpus_version_heartbeat(struct corpus_gen *g)
{
    corpus_event_begin(g, "heartbeat");
    corpus_text_fmt(&g->g_ev, "{\"timestamp\": \"keepalive\", \"correlation_id\": \"%s\"}",
                    g->g_corr_id);
}

static void corpus_connection_open(struct corpus_gen *g)
{
    corpus_event_begin(g, "connection_open");
    if (corpus_rng_below(&g->g_rng, 2) == 0)
        corpus_text_str(&g->g_ev, "{\"status\": \"connected\"}");
    else
        corpus_text_fmt(&g->g_ev, "{\"status\": \"connected\", \"correlation_id\": \"%s\"}",
                        g->g_corr_id);
}

static void corpus_connection_close(struct corpus_gen *g)
{
    static const char *const reasons[] = {"task_completed", "task_failed", "server_shutdown",
                                          "idle_timeout"};
    corpus_event_begin(g, "connection_close");
    corpus_text_fmt(&g->g_ev, "{\"reason\": \"%s\"}", reasons[corpus_rng_below(&g->g_rng, 4)]);
}

static void corpus_new_commit(struct corpus_gen *g)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 40; i++)
        g->g_commit[i] = hex[corpus_rng_below(&g->g_rng, 16)];
    g->g_commit[40] = '\0';
}

/* Builds the next backend-shaped event (or comment) into g_ev. Returns true
 * for an event, false for a comment heartbeat. */
static bool corpus_backend_next(struct corpus_gen *g)
{
    /* Weights in percent; see docs/benchmarks.md. */
    unsigned pick = (unsigned)corpus_rng_below(&g->g_rng, 100);
    bool task = false;
    if (pick < 5) {
        corpus_text_reset(&g->g_ev);
        corpus_text_str(&g->g_ev, ": heartbeat\n\n");
        return false;
    }
    if (pick < 60) {
        corpus_task_progress(g);
        task = true;
    } else if (pick < 75) {
        corpus_task_heartbeat(g);
    } else if (pick < 79) {
        corpus_task_started(g);
        task = true;
    } else if (pick < 83) {
        corpus_task_completed(g);
        task = true;
    } else if (pick < 84) {
        corpus_task_failed(g);
        task = true;
    } else if (pick < 89) {
        if (corpus_rng_below(&g->g_rng, 8) == 0)
            corpus_new_commit(g);
        corpus_version(g);
    } else if (pick < 94) {
        corpus_version_heartbeat(g);
    } else if (pick < 97) {
        if (corpus_rng_below(&g->g_rng, 4) == 0)
            corpus_uuid(&g->g_rng, g->g_corr_id);
        corpus_connection_open(g);
    } else {
        corpus_connection_close(g);
    }
    if (task) {
        size_t dlen = g->g_ev.t_len - CORPUS_TASK_PREFIX;
        if (dlen < g->g_task_min)
            g->g_task_min = dlen;
        if (dlen > g->g_task_max)
            g->g_task_max = dlen;
    }
    corpus_text_str(&g->g_ev, "\n\n");
    return true;
}

static void corpus_bigline_next(struct corpus_gen *g)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char tail[] = "\"}}";
    corpus_task_head(g, "task_completed");
    corpus_text_str(&g->g_ev, "{\"blob\": \"");
    size_t head = g->g_ev.t_len - CORPUS_TASK_PREFIX;
    size_t fill = CORPUS_BIGLINE_DATA - head - (sizeof(tail) - 1);
    if (g->g_ev.t_overflow || fill > g->g_ev.t_cap - g->g_ev.t_len) {
        g->g_ev.t_overflow = true;
        return;
    }
    char *o = g->g_ev.t_buf + g->g_ev.t_len;
    for (size_t i = 0; i < fill; i += 10) {
        uint64_t r = corpus_rng_next(&g->g_rng);
        for (size_t k = 0; k < 10 && i + k < fill; k++, r >>= 6)
            o[i + k] = b64[r & 63];
    }
    g->g_ev.t_len += fill;
    corpus_text_str(&g->g_ev, tail);
    corpus_text_str(&g->g_ev, "\n\n");
}

static bool corpus_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

static void corpus_usage(FILE *f)
{
    fputs("usage: bench_corpus --shape backend|bigline --size MiB [--seed N] OUT\n"
          "Writes about MiB mebibytes of event stream to OUT (whole events, so a little\n"
          "more), and {\"bytes\", \"events\", ...} to OUT.json and stderr.\n",
          f);
}

/* Writes the counts as one JSON object to `f`. Returns false on failure. */
static bool corpus_write_summary(const struct corpus_gen *g, const char *shape, uint64_t seed,
                                 FILE *f)
{
    struct json_writer w;
    json_writer_init(&w);
    json_writer_object_begin(&w);
    json_writer_key(&w, "shape");
    json_writer_cstring(&w, shape);
    json_writer_key(&w, "seed");
    json_writer_uint(&w, seed);
    json_writer_key(&w, "bytes");
    json_writer_uint(&w, g->g_bytes);
    json_writer_key(&w, "events");
    json_writer_uint(&w, g->g_events);
    json_writer_key(&w, "comments");
    json_writer_uint(&w, g->g_comments);
    if (g->g_task_max > 0) {
        json_writer_key(&w, "task_data_min");
        json_writer_uint(&w, g->g_task_min);
        json_writer_key(&w, "task_data_max");
        json_writer_uint(&w, g->g_task_max);
    }
    json_writer_object_end(&w);
    json_writer_append(&w, "\n", 1);
    size_t len;
    const char *text = json_writer_text(&w, &len);
    bool ok = !json_writer_failed(&w) && fwrite(text, 1, len, f) == len;
    json_writer_free(&w);
    return ok;
}

static int corpus_generate(enum corpus_shape shape, uint64_t target, struct corpus_gen *g,
                           FILE *out)
{
    while (g->g_bytes < target) {
        bool event = true;
        if (shape == CORPUS_BIGLINE)
            corpus_bigline_next(g);
        else
            event = corpus_backend_next(g);
        if (g->g_ev.t_overflow) {
            fprintf(stderr, "bench_corpus: internal error: event larger than its buffer\n");
            return 1;
        }
        if (fwrite(g->g_ev.t_buf, 1, g->g_ev.t_len, out) != g->g_ev.t_len)
            return -1;
        g->g_bytes += g->g_ev.t_len;
        if (event)
            g->g_events++;
        else
            g->g_comments++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"shape", required_argument, NULL, 't'},
        {"size", required_argument, NULL, 's'},
        {"seed", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *shape_name = NULL;
    uint64_t mib = 0, seed = 1;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            shape_name = optarg;
            break;
        case 's':
            if (!corpus_parse_u64(optarg, CORPUS_MAX_MIB, &mib) || mib == 0) {
                fprintf(stderr, "bench_corpus: --size needs 1..%d (MiB), got '%s'\n",
                        CORPUS_MAX_MIB, optarg);
                return 2;
            }
            break;
        case 'r':
            if (!corpus_parse_u64(optarg, UINT64_MAX, &seed)) {
                fprintf(stderr, "bench_corpus: --seed needs a non-negative integer, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            corpus_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "bench_corpus: unknown or incomplete option '%s'\n", argv[optind - 1]);
            corpus_usage(stderr);
            return 2;
        }
    }
    if (shape_name == NULL || mib == 0 || argc - optind != 1) {
        corpus_usage(stderr);
        return 2;
    }
    enum corpus_shape shape;
    if (strcmp(shape_name, "backend") == 0) {
        shape = CORPUS_BACKEND;
    } else if (strcmp(shape_name, "bigline") == 0) {
        shape = CORPUS_BIGLINE;
    } else {
        fprintf(stderr, "bench_corpus: --shape is backend or bigline, got '%s'\n", shape_name);
        return 2;
    }
    const char *path = argv[optind];

    struct corpus_gen g;
    memset(&g, 0, sizeof(g));
    g.g_rng.r_state = seed;
    g.g_task_min = SIZE_MAX;
    g.g_clock_us = CORPUS_EPOCH_START * 1000000;
    g.g_ev.t_cap = CORPUS_EVENT_MAX;
    g.g_ev.t_buf = malloc(g.g_ev.t_cap);
    char *sidecar = NULL;
    char *outbuf = malloc(CORPUS_OUT_BUFFER);
    if (g.g_ev.t_buf == NULL || outbuf == NULL || asprintf(&sidecar, "%s.json", path) < 0) {
        fprintf(stderr, "bench_corpus: out of memory\n");
        free(g.g_ev.t_buf);
        free(outbuf);
        return 1;
    }
    corpus_uuid(&g.g_rng, g.g_task_id);
    corpus_uuid(&g.g_rng, g.g_corr_id);
    corpus_new_commit(&g);
    g.g_steps = 10;

    int rc = 0;
    FILE *out = fopen(path, "wb");
    if (out == NULL) {
        fprintf(stderr, "bench_corpus: %s: %s\n", path, strerror(errno));
        rc = 1;
    } else {
        setvbuf(out, outbuf, _IOFBF, CORPUS_OUT_BUFFER);
        int grc = corpus_generate(shape, mib << 20, &g, out);
        /* fclose before the buffer it uses is freed, and to see late errors. */
        int crc = fclose(out);
        if (grc > 0) {
            rc = 1;
        } else if (grc < 0 || crc != 0) {
            fprintf(stderr, "bench_corpus: writing %s: %s\n", path, strerror(errno));
            rc = 1;
        }
    }
    if (rc == 0) {
        FILE *sf = fopen(sidecar, "w");
        bool ok = sf != NULL && corpus_write_summary(&g, shape_name, seed, sf);
        if (sf != NULL && fclose(sf) != 0)
            ok = false;
        if (!ok) {
            fprintf(stderr, "bench_corpus: writing %s: %s\n", sidecar, strerror(errno));
            rc = 1;
        } else if (!corpus_write_summary(&g, shape_name, seed, stderr)) {
            rc = 1;
        }
    }
    free(sidecar);
    free(outbuf);
    free(g.g_ev.t_buf);
    return rc;
}
