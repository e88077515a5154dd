/*
 * bench_parser: throughput of sse_parser over one file held in memory, beside
 * the practical ceiling of a memchr newline scan over the same buffer.
 *
 * Prints one JSON line per implementation. mb_s and events_s are the best of
 * --repeat runs, *_median their median; 1 MB = 10^6 bytes. The memchr line's
 * events figure is the parser's event count: its events_s is the event rate
 * a parser as fast as the scan would reach on this file.
 */
#include "ssemon/core/sse_parser.h"
#include "ssemon/json/json_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BENCH_CHUNK ((size_t)64 << 10)
#define BENCH_MAX_REPEAT 1000

/* What the parser's on_event saw: touched so the work cannot be elided. */
struct bench_count {
    uint64_t bc_events;
    uint64_t bc_data;
};

struct bench_result {
    const char *br_impl;
    uint64_t br_events;
    double br_best;   /* seconds */
    double br_median; /* seconds */
    /* Extra figures that prove the work was done; NULL name = none. */
    const char *br_extra_name;
    uint64_t br_extra;
};

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts `t` and sets best and median. */
static void bench_summarise(double *t, unsigned n, struct bench_result *r)
{
    qsort(t, n, sizeof(*t), bench_cmp_double);
    r->br_best = t[0];
    r->br_median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static uint64_t bench_scan(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    uint64_t lines = 0;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
    }
    return lines;
}

static void bench_on_event(void *ctx, const struct sse_event *ev)
{
    struct bench_count *c = ctx;
    c->bc_events++;
    c->bc_data += ev->data_len;
}

/* One pass of the parser over the buffer in BENCH_CHUNK pieces, as bytes
 * arrive from a socket. Returns the seconds spent feeding, or -1. */
static double bench_parse_once(const char *buf, size_t len, struct bench_count *count)
{
    const struct sse_parser_callbacks cbs = {.on_event = bench_on_event};
    memset(count, 0, sizeof(*count));
    struct sse_parser *p = sse_parser_new(NULL, &cbs, count);
    if (p == NULL)
        return -1;
    double t0 = bench_now();
    for (size_t off = 0; off < len; off += BENCH_CHUNK) {
        size_t take = len - off < BENCH_CHUNK ? len - off : BENCH_CHUNK;
        if (sse_parser_feed(p, buf + off, take) != 0) {
            sse_parser_free(p);
            return -1;
        }
    }
    sse_parser_end(p);
    double t = bench_now() - t0;
    bool agree = sse_parser_stats(p)->events == count->bc_events;
    sse_parser_free(p);
    if (!agree) {
        fprintf(stderr, "bench_parser: parser stats and on_event disagree on the event count\n");
        return -1;
    }
    return t;
}

/* Alternates scan and parser runs, so that both see the same conditions on
 * a shared machine. Every run must agree with the first on what it found. */
static int bench_rounds(const char *buf, size_t len, unsigned repeat, double *t_scan,
                        double *t_parse, struct bench_result *scan, struct bench_result *parse)
{
    uint64_t lines0 = 0;
    struct bench_count count0 = {0};
    for (unsigned i = 0; i < repeat; i++) {
        double t0 = bench_now();
        uint64_t lines = bench_scan(buf, len);
        t_scan[i] = bench_now() - t0;

        struct bench_count c;
        t_parse[i] = bench_parse_once(buf, len, &c);
        if (t_parse[i] < 0) {
            fprintf(stderr, "bench_parser: the parser failed (out of memory?)\n");
            return -1;
        }
        if (i == 0) {
            lines0 = lines;
            count0 = c;
        } else if (lines != lines0 || c.bc_events != count0.bc_events ||
                   c.bc_data != count0.bc_data) {
            fprintf(stderr, "bench_parser: runs disagree on what they found\n");
            return -1;
        }
    }
    scan->br_impl = "memchr";
    scan->br_events = count0.bc_events;
    scan->br_extra_name = "newlines";
    scan->br_extra = lines0;
    bench_summarise(t_scan, repeat, scan);
    parse->br_impl = "ssemon";
    parse->br_events = count0.bc_events;
    parse->br_extra_name = "data_bytes";
    parse->br_extra = count0.bc_data;
    bench_summarise(t_parse, repeat, parse);
    return 0;
}

/* One decimal: more digits than that are noise between runs. */
static double bench_round1(double v)
{
    return (double)(int64_t)(v * 10 + 0.5) / 10;
}

static void bench_print(const struct bench_result *r, const char *corpus, size_t bytes,
                        unsigned runs)
{
    struct json_writer w;
    json_writer_init(&w);
    json_writer_object_begin(&w);
    json_writer_key(&w, "impl");
    json_writer_cstring(&w, r->br_impl);
    json_writer_key(&w, "corpus");
    json_writer_cstring(&w, corpus);
    json_writer_key(&w, "bytes");
    json_writer_uint(&w, bytes);
    json_writer_key(&w, "events");
    json_writer_uint(&w, r->br_events);
    json_writer_key(&w, "mb_s");
    json_writer_double(&w, bench_round1((double)bytes / 1e6 / r->br_best));
    json_writer_key(&w, "events_s");
    json_writer_uint(&w, (uint64_t)((double)r->br_events / r->br_best));
    json_writer_key(&w, "mb_s_median");
    json_writer_double(&w, bench_round1((double)bytes / 1e6 / r->br_median));
    json_writer_key(&w, "events_s_median");
    json_writer_uint(&w, (uint64_t)((double)r->br_events / r->br_median));
    json_writer_key(&w, "runs");
    json_writer_uint(&w, runs);
    if (r->br_extra_name != NULL) {
        json_writer_key(&w, r->br_extra_name);
        json_writer_uint(&w, r->br_extra);
    }
    json_writer_object_end(&w);
    json_writer_append(&w, "\n", 1);
    size_t len;
    const char *text = json_writer_text(&w, &len);
    if (json_writer_failed(&w))
        fprintf(stderr, "bench_parser: out of memory\n");
    else
        fwrite(text, 1, len, stdout);
    json_writer_free(&w);
}

/* Reads the whole file into a fresh buffer the caller frees. */
static char *bench_load(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "bench_parser: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (st.st_size <= 0) {
        fprintf(stderr, "bench_parser: %s: empty or not a regular file\n", path);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    /* Page-aligned: read() into a buffer that is not 64-byte aligned runs
     * several times slower on some machines, and loading is not measured. */
    void *mem = NULL;
    char *buf = posix_memalign(&mem, 4096, size) == 0 ? mem : NULL;
    if (buf == NULL) {
        fprintf(stderr, "bench_parser: %s: cannot hold %zu bytes in memory\n", path, size);
        close(fd);
        return NULL;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "bench_parser: %s: %s\n", path,
                    n < 0 ? strerror(errno) : "file shrank while reading");
            free(buf);
            close(fd);
            return NULL;
        }
        got += (size_t)n;
    }
    close(fd);
    *len = size;
    return buf;
}

/* The corpus label: the file's base name without its extension. */
static char *bench_corpus_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
    return strndup(base, n);
}

static void bench_usage(FILE *f)
{
    fputs("usage: bench_parser FILE [--repeat N]\n"
          "Loads FILE into memory, then times a memchr newline scan and sse_parser (fed\n"
          "64 KiB chunks) over it, N times each (default 5). One JSON line per\n"
          "implementation: mb_s/events_s best of N, *_median the median; 1 MB = 10^6 bytes.\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"repeat", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned repeat = 5;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || errno != 0 || *end != '\0' || v == 0 ||
                v > BENCH_MAX_REPEAT) {
                fprintf(stderr, "bench_parser: --repeat needs 1..%d, got '%s'\n", BENCH_MAX_REPEAT,
                        optarg);
                return 2;
            }
            repeat = (unsigned)v;
            break;
        }
        case 'h':
            bench_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "bench_parser: unknown or incomplete option '%s'\n", argv[optind - 1]);
            bench_usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 1) {
        bench_usage(stderr);
        return 2;
    }
    const char *path = argv[optind];

    size_t len = 0;
    char *buf = bench_load(path, &len);
    if (buf == NULL)
        return 1;
    char *corpus = bench_corpus_name(path);
    double *t = calloc((size_t)repeat * 2, sizeof(*t));
    int rc = 1;
    if (corpus == NULL || t == NULL) {
        fprintf(stderr, "bench_parser: out of memory\n");
    } else {
        struct bench_result scan = {0}, parse = {0};
        if (bench_rounds(buf, len, repeat, t, t + repeat, &scan, &parse) == 0) {
            bench_print(&scan, corpus, len, repeat);
            bench_print(&parse, corpus, len, repeat);
            rc = fflush(stdout) == 0 ? 0 : 1;
        }
    }
    free(t);
    free(corpus);
    free(buf);
    return rc;
}
