/*
 * ssemon parse: raw stream bytes in, one JSON object per dispatched event
 * out. The offline window onto the parser: what a browser would see.
 */
#include "ssemon/cmd/cli.h"
#include "ssemon/cmd/cmd.h"
#include "ssemon/core/sse_parser.h"
#include "ssemon/json/json_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PARSE_READ_SIZE ((size_t)1 << 20)

struct parse_run {
    struct json_writer pr_out;
    bool pr_quiet;
    bool pr_comments;
    bool pr_anomalies;
    bool pr_write_failed;
};

static void parse_usage(FILE *f)
{
    fputs("usage: ssemon parse [--chunk N] [--last-event-id ID] [--comments] [--anomalies]\n"
          "                    [--summary] [--quiet] [FILE]\n"
          "Reads raw event-stream bytes from FILE (or stdin) and prints one JSON object\n"
          "per dispatched event: {\"type\", \"data\", \"id\"}.\n"
          "  --chunk N           feed the parser N bytes at a time\n"
          "  --last-event-id ID  seed the last event ID, as on a reconnect\n"
          "  --comments          also print {\"comment\": \"...\"} for comment lines\n"
          "  --anomalies         also print {\"anomaly\": NAME, \"line\": \"...\"}\n"
          "  --summary           end with {\"events\", \"bytes\", \"last_event_id\", \"retry\"}\n"
          "  --quiet             print only the summary\n",
          f);
}

/* Output is batched: a line is appended to the writer and written out when
 * the batch is large, so output costs one write per 64 KiB, not per event. */
static void parse_flush(struct parse_run *r, bool force)
{
    size_t len;
    const char *text = json_writer_text(&r->pr_out, &len);
    if (len == 0 || (!force && len < 65536))
        return;
    if (!r->pr_write_failed && fwrite(text, 1, len, stdout) != len)
        r->pr_write_failed = true;
    json_writer_reset(&r->pr_out);
}

static void parse_end_line(struct parse_run *r)
{
    json_writer_append(&r->pr_out, "\n", 1);
    parse_flush(r, false);
}

static void parse_on_event(void *ctx, const struct sse_event *ev)
{
    struct parse_run *r = ctx;
    if (r->pr_quiet)
        return;
    struct json_writer *w = &r->pr_out;
    json_writer_object_begin(w);
    json_writer_key(w, "type");
    json_writer_string(w, ev->type, ev->type_len);
    json_writer_key(w, "data");
    json_writer_string(w, ev->data, ev->data_len);
    json_writer_key(w, "id");
    json_writer_string(w, ev->id, ev->id_len);
    json_writer_object_end(w);
    parse_end_line(r);
}

static void parse_on_comment(void *ctx, const char *text, size_t len)
{
    struct parse_run *r = ctx;
    if (r->pr_quiet || !r->pr_comments)
        return;
    json_writer_object_begin(&r->pr_out);
    json_writer_key(&r->pr_out, "comment");
    json_writer_string(&r->pr_out, text, len);
    json_writer_object_end(&r->pr_out);
    parse_end_line(r);
}

static void parse_on_anomaly(void *ctx, enum sse_anomaly kind, const char *line, size_t len)
{
    struct parse_run *r = ctx;
    if (r->pr_quiet || !r->pr_anomalies)
        return;
    json_writer_object_begin(&r->pr_out);
    json_writer_key(&r->pr_out, "anomaly");
    json_writer_cstring(&r->pr_out, sse_anomaly_name(kind));
    json_writer_key(&r->pr_out, "line");
    json_writer_string(&r->pr_out, line, len);
    json_writer_object_end(&r->pr_out);
    parse_end_line(r);
}

static void parse_summary(struct parse_run *r, const struct sse_parser *p)
{
    struct json_writer *w = &r->pr_out;
    const struct sse_parser_stats *st = sse_parser_stats(p);
    size_t idlen;
    const char *id = sse_parser_last_event_id(p, &idlen);
    uint64_t retry;
    json_writer_object_begin(w);
    json_writer_key(w, "events");
    json_writer_uint(w, st->events);
    json_writer_key(w, "bytes");
    json_writer_uint(w, st->bytes);
    json_writer_key(w, "last_event_id");
    json_writer_string(w, id, idlen);
    json_writer_key(w, "retry");
    if (sse_parser_retry(p, &retry))
        json_writer_uint(w, retry);
    else
        json_writer_null(w);
    json_writer_object_end(w);
    parse_end_line(r);
}

/* Reads all of fd through the parser. Returns 0, or 2 with a message. */
static int parse_stream(struct sse_parser *p, int fd, const char *name, size_t chunk)
{
    /* Page-aligned: the kernel copies into an unaligned buffer several
     * times slower, and the copy would then set the pace, not the parser. */
    void *mem = NULL;
    char *buf = posix_memalign(&mem, 4096, PARSE_READ_SIZE) == 0 ? mem : NULL;
    if (buf == NULL) {
        fprintf(stderr, "ssemon parse: out of memory\n");
        return 2;
    }
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, PARSE_READ_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "ssemon parse: %s: %s\n", name, strerror(errno));
            rc = 2;
            break;
        }
        if (n == 0)
            break;
        for (size_t off = 0; off < (size_t)n;) {
            size_t take = (size_t)n - off < chunk ? (size_t)n - off : chunk;
            if (sse_parser_feed(p, buf + off, take) != 0) {
                fprintf(stderr, "ssemon parse: out of memory\n");
                rc = 2;
                break;
            }
            off += take;
        }
        if (rc != 0)
            break;
    }
    free(buf);
    return rc;
}

int cmd_parse(int argc, char **argv)
{
    static const struct option opts[] = {
        {"chunk", required_argument, NULL, 'c'}, {"last-event-id", required_argument, NULL, 'l'},
        {"comments", no_argument, NULL, 'C'},    {"anomalies", no_argument, NULL, 'A'},
        {"summary", no_argument, NULL, 's'},     {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    struct parse_run r = {0};
    size_t chunk = SIZE_MAX;
    const char *seed = NULL;
    bool summary = false;

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': {
            long n;
            if (!cli_count(optarg, 1, LONG_MAX, &n)) {
                fprintf(stderr, "ssemon parse: --chunk needs a positive integer, got '%s'\n",
                        optarg);
                return 2;
            }
            chunk = (size_t)n;
            break;
        }
        case 'l':
            seed = optarg;
            break;
        case 'C':
            r.pr_comments = true;
            break;
        case 'A':
            r.pr_anomalies = true;
            break;
        case 's':
            summary = true;
            break;
        case 'q':
            r.pr_quiet = true;
            summary = true;
            break;
        case 'h':
            parse_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "ssemon parse: unknown or incomplete option '%s'\n", argv[optind - 1]);
            parse_usage(stderr);
            return 2;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "ssemon parse: at most one FILE\n");
        parse_usage(stderr);
        return 2;
    }
    const char *name = "-";
    int fd = STDIN_FILENO;
    if (optind < argc && strcmp(argv[optind], "-") != 0) {
        name = argv[optind];
        fd = open(name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "ssemon parse: %s: %s\n", name, strerror(errno));
            return 2;
        }
    }

    json_writer_init(&r.pr_out);
    const struct sse_parser_callbacks cbs = {
        .on_event = parse_on_event,
        .on_comment = parse_on_comment,
        .on_anomaly = parse_on_anomaly,
    };
    struct sse_parser *p = sse_parser_new(NULL, &cbs, &r);
    int rc = 0;
    if (p == NULL || (seed != NULL && sse_parser_set_last_event_id(p, seed, strlen(seed)) != 0)) {
        fprintf(stderr, "ssemon parse: out of memory\n");
        rc = 2;
    }
    if (rc == 0)
        rc = parse_stream(p, fd, name, chunk);
    if (rc == 0) {
        if (summary)
            parse_summary(&r, p);
        parse_flush(&r, true);
        if (json_writer_failed(&r.pr_out)) {
            fprintf(stderr, "ssemon parse: out of memory\n");
            rc = 2;
        } else if (r.pr_write_failed || fflush(stdout) != 0) {
            fprintf(stderr, "ssemon parse: writing output: %s\n", strerror(errno));
            rc = 2;
        }
    }
    sse_parser_free(p);
    json_writer_free(&r.pr_out);
    if (fd != STDIN_FILENO)
        close(fd);
    return rc;
}
