/*
 * probe: the measuring hands of the daemon benchmarks (bench/daemon/run.sh
 * and latency.sh), kept outside ssemon so that nothing is added to the
 * daemon to be timed.
 *
 *   probe stamp
 *       Copies stdin to stdout, each line prefixed with the CLOCK_REALTIME
 *       time (seconds, 9 decimals) of the read() that completed it, and a
 *       tab. Fed from the daemon's stderr, it gives each journal record the
 *       moment it reached the pipe's reader.
 *
 *   probe metrics --port PORT --names FILE [--class CLASS] [--interval-ms MS]
 *                 [--timeout-s S]
 *       Fetches GET /metrics from 127.0.0.1:PORT every MS (default 5) ms and
 *       watches ssemon_violations_total{class=CLASS} (default
 *       heartbeat_missed) of every subscription named in FILE (one name a
 *       line). For each, once its counter is above 0, prints one JSON line:
 *       {"subscription", "zero_sent": when the last fetch that still saw 0
 *       was sent (or null), "sent"/"received": the first fetch that saw it
 *       non-zero, "value"}; times are CLOCK_REALTIME seconds. Stops when
 *       every name was seen or after S seconds (default 60); then prints a
 *       summary line {"summary": true, "polls", "failed_polls",
 *       "last_failure", "poll_ms_p50", "poll_ms_max", "bytes_last",
 *       "missing"} and exits 0, or 1 when a name was never seen.
 *
 *   probe freeport
 *       Prints a TCP port that was free on 127.0.0.1 a moment ago.
 *
 * Loopback only. Every loop is bounded by input size or by the timeout.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PROBE_READ_CHUNK 65536
/* A metrics document larger than this is refused (10,000 subscriptions
 * render to a few tens of MiB). */
#define PROBE_MAX_DOC ((size_t)512 << 20)
#define PROBE_MAX_NAMES 100000
#define PROBE_MAX_POLLS 1000000
#define PROBE_IO_TIMEOUT_S 30

struct probe_buf {
    char *pb_data;
    size_t pb_len;
    size_t pb_cap;
};

/* One watched subscription. */
struct probe_name {
    char *pn_name;
    bool pn_seen_zero;
    double pn_zero_sent;
    bool pn_done;
};

struct probe_watch {
    struct probe_name *pw_names; /* sorted by pn_name */
    size_t pw_n;
    size_t pw_done;
    const char *pw_class;
};

static double probe_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t probe_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int probe_buf_reserve(struct probe_buf *b, size_t extra)
{
    if (b->pb_cap - b->pb_len >= extra)
        return 0;
    if (extra > PROBE_MAX_DOC - b->pb_len) {
        errno = EFBIG;
        return -1;
    }
    size_t cap = b->pb_cap > 0 ? b->pb_cap : PROBE_READ_CHUNK;
    while (cap - b->pb_len < extra)
        cap *= 2;
    char *p = realloc(b->pb_data, cap);
    if (p == NULL)
        return -1;
    b->pb_data = p;
    b->pb_cap = cap;
    return 0;
}

/* ---- stamp ---- */

static int probe_stamp(void)
{
    static char chunk[PROBE_READ_CHUNK];
    struct probe_buf line = {0};
    struct timespec ts = {0};
    for (;;) {
        ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("probe stamp: read");
            free(line.pb_data);
            return 1;
        }
        if (n == 0)
            break;
        clock_gettime(CLOCK_REALTIME, &ts);
        const char *p = chunk, *end = chunk + n;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = (size_t)((nl != NULL ? nl : end) - p);
            if (len > 0) {
                if (probe_buf_reserve(&line, len) != 0) {
                    perror("probe stamp");
                    free(line.pb_data);
                    return 1;
                }
                memcpy(line.pb_data + line.pb_len, p, len);
                line.pb_len += len;
            }
            if (nl == NULL)
                break;
            printf("%lld.%09ld\t%.*s\n", (long long)ts.tv_sec, ts.tv_nsec, (int)line.pb_len,
                   line.pb_data);
            line.pb_len = 0;
            p = nl + 1;
        }
        fflush(stdout);
    }
    if (line.pb_len > 0)
        printf("%lld.%09ld\t%.*s\n", (long long)ts.tv_sec, ts.tv_nsec, (int)line.pb_len,
               line.pb_data);
    free(line.pb_data);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- HTTP ---- */

static int probe_connect(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons((uint16_t)port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* A daemon that never answers must not hang the benchmark. */
    const struct timeval limit = {.tv_sec = PROBE_IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* GET `path` with HTTP/1.0, so the body ends at EOF and no framing needs
 * decoding. Leaves the whole response in `b`; returns the offset of the
 * body, or -1 (errno set, or EPROTO for a response that is not 200). */
static long probe_get(unsigned port, const char *path, struct probe_buf *b)
{
    b->pb_len = 0;
    int fd = probe_connect(port);
    if (fd < 0)
        return -1;
    char req[256];
    int rl = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (rl < 0 || (size_t)rl >= sizeof(req) || write(fd, req, (size_t)rl) != rl) {
        close(fd);
        return -1;
    }
    for (;;) {
        if (probe_buf_reserve(b, PROBE_READ_CHUNK) != 0) {
            close(fd);
            return -1;
        }
        ssize_t n = read(fd, b->pb_data + b->pb_len, PROBE_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        b->pb_len += (size_t)n;
    }
    close(fd);
    if (probe_buf_reserve(b, 1) != 0)
        return -1;
    b->pb_data[b->pb_len] = '\0';
    const char *sp = memchr(b->pb_data, ' ', b->pb_len);
    const char *hdr_end = strstr(b->pb_data, "\r\n\r\n");
    if (sp == NULL || hdr_end == NULL || strncmp(sp + 1, "200", 3) != 0) {
        errno = EPROTO;
        return -1;
    }
    return (long)(hdr_end + 4 - b->pb_data);
}

/* ---- metrics ---- */

static int probe_name_cmp(const void *a, const void *b)
{
    return strcmp(((const struct probe_name *)a)->pn_name, ((const struct probe_name *)b)->pn_name);
}

static struct probe_name *probe_watch_find(struct probe_watch *w, const char *name, size_t len)
{
    size_t lo = 0, hi = w->pw_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *cand = w->pw_names[mid].pn_name;
        int c = strncmp(cand, name, len);
        if (c == 0 && cand[len] != '\0')
            c = 1;
        if (c == 0)
            return &w->pw_names[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void probe_watch_free(struct probe_watch *w)
{
    for (size_t i = 0; i < w->pw_n; i++)
        free(w->pw_names[i].pn_name);
    free(w->pw_names);
}

static int probe_watch_load(struct probe_watch *w, const char *file)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return -1;
    char line[512];
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        if (len == 0)
            continue;
        if (w->pw_n == PROBE_MAX_NAMES) {
            errno = E2BIG;
            rc = -1;
            break;
        }
        if (w->pw_n == cap) {
            cap = cap > 0 ? cap * 2 : 64;
            struct probe_name *p = realloc(w->pw_names, cap * sizeof(*p));
            if (p == NULL) {
                rc = -1;
                break;
            }
            w->pw_names = p;
        }
        struct probe_name *pn = &w->pw_names[w->pw_n];
        memset(pn, 0, sizeof(*pn));
        pn->pn_name = strdup(line);
        if (pn->pn_name == NULL)
            rc = -1;
        else
            w->pw_n++;
    }
    fclose(f);
    if (rc == 0 && w->pw_n > 0)
        qsort(w->pw_names, w->pw_n, sizeof(*w->pw_names), probe_name_cmp);
    return rc;
}

/* The value of label `key` in a label set `{k="v",...}` spanning [p, end):
 * sets *val and *len and returns true when present. Subscription names and
 * classes need no escapes, so an escaped quote never matters here. */
static bool probe_label(const char *p, const char *end, const char *key, const char **val,
                        size_t *len)
{
    size_t kl = strlen(key);
    while (p < end) {
        if ((size_t)(end - p) > kl + 2 && memcmp(p, key, kl) == 0 && p[kl] == '=' &&
            p[kl + 1] == '"') {
            const char *v = p + kl + 2;
            const char *q = memchr(v, '"', (size_t)(end - v));
            if (q == NULL)
                return false;
            *val = v;
            *len = (size_t)(q - v);
            return true;
        }
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL)
            return false;
        q = memchr(q + 1, '"', (size_t)(end - q - 1));
        if (q == NULL)
            return false;
        p = q + 1;
        if (p < end && *p == ',')
            p++;
    }
    return false;
}

/* Goes through one /metrics body and records every watched subscription
 * whose counter is now above 0. */
static void probe_watch_scan(struct probe_watch *w, const char *body, size_t len, double sent,
                             double received)
{
    static const char metric[] = "ssemon_violations_total{";
    const size_t mlen = sizeof(metric) - 1;
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        const char *line = p;
        p = eol + 1;
        if ((size_t)(eol - line) <= mlen || memcmp(line, metric, mlen) != 0)
            continue;
        const char *labels = line + mlen;
        const char *close = memchr(labels, '}', (size_t)(eol - labels));
        const char *cls, *name;
        size_t cls_len, name_len;
        if (close == NULL || !probe_label(labels, close, "class", &cls, &cls_len) ||
            cls_len != strlen(w->pw_class) || memcmp(cls, w->pw_class, cls_len) != 0 ||
            !probe_label(labels, close, "subscription", &name, &name_len))
            continue;
        struct probe_name *pn = probe_watch_find(w, name, name_len);
        if (pn == NULL || pn->pn_done)
            continue;
        /* The body is NUL-terminated, so strtoull stops at the line's end. */
        unsigned long long value = strtoull(close + 1, NULL, 10);
        if (value == 0) {
            pn->pn_seen_zero = true;
            pn->pn_zero_sent = sent;
            continue;
        }
        pn->pn_done = true;
        w->pw_done++;
        printf("{\"subscription\": \"%s\", \"zero_sent\": ", pn->pn_name);
        if (pn->pn_seen_zero)
            printf("%.6f", pn->pn_zero_sent);
        else
            printf("null");
        printf(", \"sent\": %.6f, \"received\": %.6f, \"value\": %llu}\n", sent, received, value);
        fflush(stdout);
    }
}

static int probe_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void probe_sleep_until(uint64_t mono_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(mono_ns / 1000000000u),
        .tv_nsec = (long)(mono_ns % 1000000000u),
    };
    int rc;
    do
        rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    while (rc == EINTR);
}

static bool probe_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

static int probe_metrics(int argc, char **argv)
{
    unsigned long port = 0, interval_ms = 5, timeout_s = 60;
    const char *names = NULL;
    struct probe_watch w = {.pw_class = "heartbeat_missed"};
    for (int i = 2; i < argc; i += 2) {
        const char *opt = argv[i];
        const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = arg != NULL;
        if (ok && strcmp(opt, "--port") == 0)
            ok = probe_parse_uint(arg, 65535, &port) && port > 0;
        else if (ok && strcmp(opt, "--names") == 0)
            names = arg;
        else if (ok && strcmp(opt, "--class") == 0)
            w.pw_class = arg;
        else if (ok && strcmp(opt, "--interval-ms") == 0)
            ok = probe_parse_uint(arg, 60000, &interval_ms) && interval_ms > 0;
        else if (ok && strcmp(opt, "--timeout-s") == 0)
            ok = probe_parse_uint(arg, 3600, &timeout_s) && timeout_s > 0;
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "probe metrics: bad or incomplete option '%s'\n", opt);
            return 2;
        }
    }
    if (port == 0 || names == NULL) {
        fprintf(stderr, "probe metrics: --port and --names are needed\n");
        return 2;
    }
    if (probe_watch_load(&w, names) != 0 || w.pw_n == 0) {
        fprintf(stderr, "probe metrics: %s: %s\n", names,
                w.pw_n == 0 && errno == 0 ? "no names" : strerror(errno));
        probe_watch_free(&w);
        return 2;
    }

    struct probe_buf b = {0};
    uint64_t *durations = calloc(PROBE_MAX_POLLS, sizeof(*durations));
    if (durations == NULL) {
        perror("probe metrics");
        probe_watch_free(&w);
        return 2;
    }
    size_t polls = 0, failures = 0;
    int last_errno = 0;
    uint64_t start = probe_mono_ns();
    uint64_t stop = start + (uint64_t)timeout_s * 1000000000u;
    uint64_t next = start;
    while (w.pw_done < w.pw_n && polls < PROBE_MAX_POLLS) {
        uint64_t t0 = probe_mono_ns();
        if (t0 >= stop)
            break;
        double sent = probe_now();
        long body = probe_get((unsigned)port, "/metrics", &b);
        double received = probe_now();
        uint64_t t1 = probe_mono_ns();
        if (body < 0) {
            /* The daemon may not listen yet: count it and go on. */
            failures++;
            last_errno = errno;
        } else {
            durations[polls++] = t1 - t0;
            probe_watch_scan(&w, b.pb_data + body, b.pb_len - (size_t)body, sent, received);
        }
        next += (uint64_t)interval_ms * 1000000u;
        if (next > t1)
            probe_sleep_until(next);
        else
            next = t1;
    }
    qsort(durations, polls, sizeof(*durations), probe_cmp_u64);
    printf("{\"summary\": true, \"polls\": %zu, \"failed_polls\": %zu, \"last_failure\": \"%s\", "
           "\"poll_ms_p50\": %.3f, \"poll_ms_max\": %.3f, \"bytes_last\": %zu, "
           "\"missing\": %zu}\n",
           polls, failures, failures > 0 ? strerror(last_errno) : "",
           polls > 0 ? (double)durations[polls / 2] / 1e6 : 0.0,
           polls > 0 ? (double)durations[polls - 1] / 1e6 : 0.0, b.pb_len, w.pw_n - w.pw_done);
    int rc = w.pw_done == w.pw_n ? 0 : 1;
    free(durations);
    free(b.pb_data);
    probe_watch_free(&w);
    return rc;
}

/* ---- freeport ---- */

static int probe_freeport(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    socklen_t len = sizeof(sin);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
        perror("probe freeport");
        if (fd >= 0)
            close(fd);
        return 1;
    }
    printf("%u\n", (unsigned)ntohs(sin.sin_port));
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "stamp") == 0 && argc == 2)
        return probe_stamp();
    if (argc >= 2 && strcmp(argv[1], "metrics") == 0)
        return probe_metrics(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "freeport") == 0 && argc == 2)
        return probe_freeport();
    fprintf(stderr, "usage: probe stamp | probe metrics --port PORT --names FILE [--class CLASS]\n"
                    "       [--interval-ms MS] [--timeout-s S] | probe freeport\n");
    return 2;
}
