/*
 * The flight recorders' cost per event, without the network: N recorders
 * (default 10,000, the daemon bench's subscriptions) with the default
 * bounds (64 events or 256 KiB), fed one heartbeat-sized event each in
 * turn, ROUNDS times (default 200), as the daemon feeds them when every
 * subscription's heartbeat arrives once a second. The recorders are
 * filled to their event bound first, so the timed rounds evict as the
 * daemon does for good. Prints the best and the median of REPS (default
 * 5) timings, in ns per event.
 *
 *   bench_flight [N [ROUNDS [REPS]]]
 */
#include "ssemon/core/flight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double bench_flight_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bench_flight_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long bench_flight_arg(int argc, char **argv, int i, long def, long max)
{
    if (argc <= i)
        return def;
    char *end;
    long v = strtol(argv[i], &end, 10);
    if (*end != '\0' || v < 1 || v > max) {
        fprintf(stderr, "bench_flight: '%s': want 1..%ld\n", argv[i], max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    long n = bench_flight_arg(argc, argv, 1, 10000, 1000000);
    long rounds = bench_flight_arg(argc, argv, 2, 200, 100000);
    long reps = bench_flight_arg(argc, argv, 3, 5, 101);
    /* A version-stream heartbeat as the gateway sends it (109 bytes). */
    static const char ev[] = "event: heartbeat\ndata: {\"timestamp\": "
                             "\"2026-12-07T23:41:28.759Z\", \"correlation_id\": "
                             "\"it-hostile-0000000000\"}\n\n";
    size_t len = sizeof(ev) - 1;
    struct flight **f = calloc((size_t)n, sizeof(*f));
    double *ns = calloc((size_t)reps, sizeof(*ns));
    if (f == NULL || ns == NULL)
        return 1;
    for (long i = 0; i < n; i++) {
        f[i] = flight_new(FLIGHT_DEFAULT_EVENTS, FLIGHT_DEFAULT_BYTES);
        if (f[i] == NULL)
            return 1;
        for (int k = 0; k < FLIGHT_DEFAULT_EVENTS; k++)
            flight_feed(f[i], 0, 0, ev, len);
    }
    for (long r = 0; r < reps; r++) {
        double t0 = bench_flight_now_ns();
        for (long k = 0; k < rounds; k++)
            for (long i = 0; i < n; i++)
                flight_feed(f[i], (uint64_t)k, (uint64_t)k, ev, len);
        ns[r] = (bench_flight_now_ns() - t0) / ((double)rounds * (double)n);
    }
    qsort(ns, (size_t)reps, sizeof(*ns), bench_flight_cmp);
    printf("flight_feed, %ld recorders, %zu-byte events: best %.0f ns, median %.0f ns per event\n",
           n, len, ns[0], ns[reps / 2]);
    for (long i = 0; i < n; i++)
        flight_free(f[i]);
    free(f);
    free(ns);
    return 0;
}
