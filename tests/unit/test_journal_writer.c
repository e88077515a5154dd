/*
 * journal_writer against real sockets and pipes: a datagram socket bound
 * in a scratch directory stands for journald (reading it, not reading it,
 * closing it, leaving its file behind), a pipe or a file for stderr (read,
 * never read, closed). The loop is spun until the condition a test asserts
 * holds, bounded in time; nothing sleeps a fixed time. Every test checks
 * the accounting: journal + stderr + dropped + queued = records written.
 */
#include "ssemon/io/journal_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

/* Bound of every wait: far above what any condition needs on a loaded
 * machine, so only a broken writer reaches it. */
#define WAIT_MS 20000

struct fx {
    char f_dir[64];
    char f_path[128];
    int f_rx;     /* the fake journald; -1 when closed */
    int f_err[2]; /* stderr pipe: [0] the test reads, [1] the writer's */
    char f_errfile[128];
    struct event_base *f_base;
    struct journal_writer_options f_o;
    struct journal_writer *f_w;
    unsigned f_changes;
    bool f_last_up;
    unsigned f_seq;
    uint64_t f_t_min; /* the earliest and latest "t" err_drain read (wall ms) */
    uint64_t f_t_max;
};

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A line's "t": exactly YYYY-MM-DDTHH:MM:SS.mmmZ, as wall ms. */
static uint64_t stamp_ms(const char *t)
{
    assert_non_null(t);
    assert_int_equal(strlen(t), 24);
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < 24; i++) {
        if (shape[i] == 'd')
            assert_true(t[i] >= '0' && t[i] <= '9');
        else
            assert_int_equal(t[i], shape[i]);
    }
    struct tm tm = {0};
    unsigned ms = 0;
    assert_int_equal(sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3u", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
                     7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t secs = timegm(&tm);
    assert_true(secs > 0);
    return (uint64_t)secs * 1000u + ms;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int bind_dgram(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_true(n > 0 && (size_t)n < sizeof(sa.sun_path));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void on_change(void *ctx, const struct journal_stats *st)
{
    struct fx *f = ctx;
    f->f_changes++;
    f->f_last_up = st->js_up;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->f_dir, sizeof(f->f_dir), "/tmp/jwtest.XXXXXX");
    assert_non_null(mkdtemp(f->f_dir));
    snprintf(f->f_path, sizeof(f->f_path), "%s/socket", f->f_dir);
    snprintf(f->f_errfile, sizeof(f->f_errfile), "%s/stderr", f->f_dir);
    f->f_rx = bind_dgram(f->f_path);
    assert_int_equal(pipe2(f->f_err, O_CLOEXEC), 0);
    assert_int_equal(fcntl(f->f_err[0], F_SETFL, O_NONBLOCK), 0);
    f->f_base = event_base_new();
    assert_non_null(f->f_base);
    journal_writer_options_init(&f->f_o);
    f->f_o.jwo_target = JOURNAL_TARGET_JOURNAL;
    f->f_o.jwo_socket_path = f->f_path;
    f->f_o.jwo_stderr_fd = f->f_err[1];
    f->f_o.jwo_retry_ms = 20;
    f->f_o.jwo_on_change = on_change;
    f->f_o.jwo_ctx = f;
    f->f_last_up = true;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    journal_writer_free(f->f_w);
    event_base_free(f->f_base);
    if (f->f_rx >= 0)
        close(f->f_rx);
    if (f->f_err[0] >= 0)
        close(f->f_err[0]);
    close(f->f_err[1]);
    unlink(f->f_path);
    unlink(f->f_errfile);
    rmdir(f->f_dir);
    free(f);
    return 0;
}

static void start(struct fx *f)
{
    f->f_w = journal_writer_new(f->f_base, &f->f_o);
    assert_non_null(f->f_w);
}

static void write_one(struct fx *f)
{
    char seq[16];
    snprintf(seq, sizeof(seq), "%u", f->f_seq++);
    const struct journal_field r[] = {
        {"MESSAGE", "a record\nof two lines", 21},
        {"PRIORITY", "5", 1},
        {"SSEMON_SEQ", seq, strlen(seq)},
    };
    journal_writer_write(f->f_w, r, 3);
}

static void write_n(struct fx *f, int n)
{
    for (int i = 0; i < n; i++)
        write_one(f);
}

static const struct journal_stats *st(struct fx *f)
{
    return journal_writer_stats(f->f_w);
}

static uint64_t dropped(struct fx *f)
{
    uint64_t n = 0;
    for (int r = 0; r < JOURNAL_DROP_COUNT; r++)
        n += st(f)->js_dropped[r];
    return n;
}

/* Every record written is in exactly one place. */
static void assert_accounted(struct fx *f)
{
    const struct journal_stats *s = st(f);
    assert_int_equal(s->js_records_journal + s->js_records_stderr + dropped(f) + s->js_queued,
                     f->f_seq);
}

/* Reads every datagram waiting at the fake journald; checks each is a
 * record with the next sequence number (an empty one, the writer asking
 * whether journald is back, is not a record). */
static unsigned rx_drain(struct fx *f, unsigned *next_seq)
{
    unsigned n = 0;
    char buf[4096];
    ssize_t k;
    while ((k = recv(f->f_rx, buf, sizeof(buf), 0)) >= 0) {
        if (k == 0)
            continue;
        struct journal_field fl[JOURNAL_CODEC_MAX_FIELDS];
        assert_int_equal(journal_codec_parse(buf, (size_t)k, fl, JOURNAL_CODEC_MAX_FIELDS), 3);
        assert_string_equal(fl[0].jf_name, "MESSAGE");
        assert_int_equal(fl[0].jf_len, 21);
        assert_memory_equal(fl[0].jf_value, "a record\nof two lines", 21);
        assert_string_equal(fl[2].jf_name, "SSEMON_SEQ");
        char seq[16];
        snprintf(seq, sizeof(seq), "%u", (*next_seq)++);
        assert_int_equal(fl[2].jf_len, strlen(seq));
        assert_memory_equal(fl[2].jf_value, seq, strlen(seq));
        n++;
    }
    return n;
}

/* Reads what the stderr pipe holds; returns the number of lines, each a
 * JSON record. */
static unsigned err_drain(struct fx *f)
{
    static char acc[1 << 20];
    static size_t acc_len;
    unsigned lines = 0;
    ssize_t k;
    while ((k = read(f->f_err[0], acc + acc_len, sizeof(acc) - acc_len)) > 0)
        acc_len += (size_t)k;
    char *p = acc;
    char *nl;
    while ((nl = memchr(p, '\n', acc_len - (size_t)(p - acc))) != NULL) {
        json_error_t jerr;
        json_t *doc = json_loadb(p, (size_t)(nl - p), 0, &jerr);
        if (doc == NULL)
            fail_msg("stderr line is not JSON: %s", jerr.text);
        assert_string_equal(json_string_value(json_object_get(doc, "MESSAGE")),
                            "a record\nof two lines");
        /* The time it was made: well formed, and from this run. */
        uint64_t t = stamp_ms(json_string_value(json_object_get(doc, "t")));
        assert_true(t + 60000 >= wall_ms() && t <= wall_ms() + 1000);
        if (f->f_t_min == 0 || t < f->f_t_min)
            f->f_t_min = t;
        if (t > f->f_t_max)
            f->f_t_max = t;
        json_decref(doc);
        lines++;
        p = nl + 1;
    }
    acc_len -= (size_t)(p - acc);
    memmove(acc, p, acc_len);
    return lines;
}

typedef bool (*cond_fn)(struct fx *f);

/* Spins the loop until `cond` holds; false after WAIT_MS. */
static bool spin_until(struct fx *f, cond_fn cond)
{
    uint64_t end = now_ms() + WAIT_MS;
    while (!cond(f)) {
        if (now_ms() > end)
            return false;
        event_base_loop(f->f_base, EVLOOP_NONBLOCK);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return true;
}

static bool is_down(struct fx *f)
{
    return !st(f)->js_up && f->f_changes > 0 && !f->f_last_up;
}

static bool is_up(struct fx *f)
{
    return st(f)->js_up && f->f_last_up;
}

/* ---- journald ---- */

static void test_sends_native(void **state)
{
    struct fx *f = *state;
    start(f);
    assert_int_equal(st(f)->js_target, JOURNAL_TARGET_JOURNAL);
    assert_true(st(f)->js_up);
    write_n(f, 3);
    unsigned next = 0;
    assert_int_equal(rx_drain(f, &next), 3);
    assert_int_equal(st(f)->js_records_journal, 3);
    assert_int_equal(st(f)->js_records_stderr, 0);
    assert_accounted(f);
}

static unsigned drained_seq;
static unsigned drained_n;

static bool queue_drained(struct fx *f)
{
    drained_n += rx_drain(f, &drained_seq);
    return st(f)->js_queued == 0 && drained_n == f->f_seq;
}

/* journald's receive queue fills: the rest wait in order, and drain as it
 * reads again. Nothing goes to stderr. */
static void test_queue_drains(void **state)
{
    struct fx *f = *state;
    f->f_o.jwo_stall_ms = WAIT_MS * 2; /* no stall in this test */
    start(f);
    write_n(f, 100);
    assert_true(st(f)->js_queued > 0);
    assert_int_equal(st(f)->js_records_journal + st(f)->js_queued, 100);
    assert_accounted(f);
    drained_seq = 0;
    drained_n = 0;
    assert_true(spin_until(f, queue_drained));
    assert_int_equal(st(f)->js_records_journal, 100);
    assert_int_equal(st(f)->js_records_stderr, 0);
    assert_int_equal(f->f_changes, 0);
    assert_accounted(f);
}

/* The queue is full: records go to stderr at once. */
static void test_queue_full(void **state)
{
    struct fx *f = *state;
    f->f_o.jwo_stall_ms = WAIT_MS * 2;
    f->f_o.jwo_queue_records = 5;
    start(f);
    write_n(f, 100);
    assert_int_equal(st(f)->js_queued, 5);
    assert_true(st(f)->js_records_stderr > 0);
    assert_int_equal(st(f)->js_records_journal + 5 + st(f)->js_records_stderr, 100);
    assert_int_equal(err_drain(f), st(f)->js_records_stderr);
    assert_true(st(f)->js_up);
    assert_accounted(f);
}

/* journald takes nothing for the stall time: it is down, the queue and
 * what follows go to stderr; it is up again once it reads. */
static void test_stall(void **state)
{
    struct fx *f = *state;
    f->f_o.jwo_stall_ms = 100;
    start(f);
    uint64_t before = wall_ms();
    write_n(f, 100);
    uint64_t made = wall_ms();
    uint64_t journal = st(f)->js_records_journal;
    assert_true(spin_until(f, is_down));
    /* Records spilled from the queue carry the time they were made, not
     * the time they went to stderr. */
    assert_int_equal(err_drain(f), 100 - journal);
    assert_true(f->f_t_min >= before && f->f_t_max <= made);
    assert_int_equal(st(f)->js_queued, 0);
    assert_int_equal(st(f)->js_records_journal, journal);
    assert_int_equal(st(f)->js_records_stderr, 100 - journal);
    assert_int_equal(st(f)->js_outage_stderr, 100 - journal);
    assert_non_null(strstr(st(f)->js_error, "took no record for 100 ms"));
    assert_true(st(f)->js_down_since_wall_ms > 0);
    write_one(f);
    assert_int_equal(st(f)->js_records_stderr, 101 - journal);
    assert_accounted(f);
    assert_int_equal(err_drain(f), 1);

    unsigned next = 0;
    assert_int_equal(rx_drain(f, &next), journal); /* journald reads again */
    assert_true(spin_until(f, is_up));
    assert_int_equal(f->f_changes, 2);
    assert_string_equal(st(f)->js_error, "");
    assert_int_equal(st(f)->js_outage_stderr, 101 - journal); /* kept once back */
    write_one(f);
    assert_int_equal(st(f)->js_records_journal, journal + 1);
    assert_accounted(f);
}

/* Refused by a dead journald: at the send, or at a reconnection since. */
static bool refused(struct fx *f)
{
    return strstr(st(f)->js_error, "Connection refused") != NULL;
}

/* Stalled, then killed: its socket turns writable (its queue is gone), but
 * journald is not back; the owner is not told it is. */
static void test_stall_then_gone(void **state)
{
    struct fx *f = *state;
    f->f_o.jwo_stall_ms = 100;
    start(f);
    write_n(f, 100);
    assert_true(spin_until(f, is_down));
    close(f->f_rx);
    f->f_rx = -1;
    assert_true(spin_until(f, refused));
    event_base_loop(f->f_base, EVLOOP_NONBLOCK); /* a notification would run now */
    assert_false(st(f)->js_up);
    assert_int_equal(f->f_changes, 1);
    write_one(f);
    assert_accounted(f);
}

/* A socket file nobody listens on: auto means stderr; journal means down,
 * reconnecting until a journald binds it. */
static void test_stale_socket(void **state)
{
    struct fx *f = *state;
    close(f->f_rx); /* the file stays */
    f->f_rx = -1;
    f->f_o.jwo_target = JOURNAL_TARGET_AUTO;
    start(f);
    assert_int_equal(st(f)->js_target, JOURNAL_TARGET_STDERR);
    assert_true(st(f)->js_up);
    write_one(f);
    assert_int_equal(st(f)->js_records_stderr, 1);
    journal_writer_free(f->f_w);
    f->f_w = NULL;

    f->f_o.jwo_target = JOURNAL_TARGET_JOURNAL;
    f->f_seq = 0;
    start(f);
    assert_int_equal(st(f)->js_target, JOURNAL_TARGET_JOURNAL);
    assert_false(st(f)->js_up);
    assert_non_null(strstr(st(f)->js_error, "Connection refused"));
    write_one(f);
    assert_int_equal(st(f)->js_records_stderr, 1);
    assert_true(spin_until(f, is_down)); /* told once, from the loop */
    assert_int_equal(f->f_changes, 1);

    unlink(f->f_path);
    f->f_rx = bind_dgram(f->f_path);
    assert_true(spin_until(f, is_up));
    write_one(f);
    unsigned next = 1;
    assert_int_equal(rx_drain(f, &next), 1);
    assert_int_equal(st(f)->js_records_journal, 1);
    assert_accounted(f);
}

/* journald goes away while connected: the record that finds it gone and
 * the queue go to stderr; none vanishes. */
static void test_peer_gone(void **state)
{
    struct fx *f = *state;
    f->f_o.jwo_stall_ms = WAIT_MS * 2;
    start(f);
    write_n(f, 40);
    uint64_t journal = st(f)->js_records_journal;
    assert_true(st(f)->js_queued > 0);
    close(f->f_rx); /* killed: what it had not read is lost with it */
    f->f_rx = -1;
    write_one(f); /* queued behind the others */
    assert_true(spin_until(f, is_down));
    assert_non_null(strstr(st(f)->js_error, "journald refused a record"));
    assert_int_equal(st(f)->js_queued, 0);
    assert_int_equal(st(f)->js_records_journal, journal);
    assert_int_equal(st(f)->js_records_stderr, 41 - journal);
    assert_accounted(f);
}

/* ---- stderr ---- */

static bool err_empty(struct fx *f)
{
    drained_n += err_drain(f);
    return st(f)->js_queued == 0;
}

/* Nobody reads stderr: writing never waits; the queue fills, then records
 * are dropped and counted; they flow again once it is read. */
static void test_stderr_full(void **state)
{
    struct fx *f = *state;
    f->f_o.jwo_target = JOURNAL_TARGET_STDERR;
    f->f_o.jwo_stderr_bytes = 8192;
    start(f);
    assert_int_equal(st(f)->js_target, JOURNAL_TARGET_STDERR);
    write_n(f, 5000); /* about 350 KB: far more than a pipe holds */
    assert_true(st(f)->js_dropped[JOURNAL_DROP_STDERR_FULL] > 0);
    assert_true(st(f)->js_queued > 0);
    assert_int_equal(dropped(f), st(f)->js_dropped[JOURNAL_DROP_STDERR_FULL]);
    assert_accounted(f);
    uint64_t before = st(f)->js_records_stderr;
    drained_n = 0;
    assert_true(spin_until(f, err_empty));
    assert_true(st(f)->js_records_stderr > before);
    assert_int_equal(drained_n, st(f)->js_records_stderr);
    assert_accounted(f);
}

/* stderr is closed: each record is dropped as stderr_error. */
static void test_stderr_closed(void **state)
{
    struct fx *f = *state;
    f->f_o.jwo_target = JOURNAL_TARGET_STDERR;
    start(f);
    close(f->f_err[0]);
    f->f_err[0] = -1;
    write_n(f, 10);
    assert_int_equal(st(f)->js_dropped[JOURNAL_DROP_STDERR_ERROR], 10);
    assert_accounted(f);
}

/* A regular file; plain text lines are not records. */
static void test_stderr_file_and_text(void **state)
{
    struct fx *f = *state;
    int fd = open(f->f_errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    f->f_o.jwo_target = JOURNAL_TARGET_STDERR;
    f->f_o.jwo_stderr_fd = fd;
    start(f);
    write_one(f);
    journal_writer_text(f->f_w, "a diagnostic");
    journal_writer_text(f->f_w, "another\n");
    write_one(f);
    close(fd);
    assert_int_equal(st(f)->js_records_stderr, 2);
    assert_accounted(f);
    FILE *in = fopen(f->f_errfile, "r");
    assert_non_null(in);
    char line[256];
    assert_non_null(fgets(line, sizeof(line), in));
    assert_true(line[0] == '{');
    assert_non_null(fgets(line, sizeof(line), in));
    assert_string_equal(line, "a diagnostic\n");
    assert_non_null(fgets(line, sizeof(line), in));
    assert_string_equal(line, "another\n");
    assert_non_null(fgets(line, sizeof(line), in));
    assert_true(line[0] == '{');
    assert_null(fgets(line, sizeof(line), in));
    fclose(in);
}

/* At exit: journald stalled, stderr full: the budget is spent, the rest is
 * dropped as shutdown, and the time taken stays near the budget. */
static void test_close_budget(void **state)
{
    struct fx *f = *state;
    f->f_o.jwo_stall_ms = WAIT_MS * 2;
    f->f_o.jwo_stderr_bytes = 4096;
    start(f);
    write_n(f, 3000);
    assert_true(st(f)->js_queued > 0);
    uint64_t t0 = now_ms();
    journal_writer_close(f->f_w, 200);
    uint64_t took = now_ms() - t0;
    assert_true(took >= 150 && took < 5000);
    assert_int_equal(st(f)->js_queued, 0);
    assert_true(st(f)->js_dropped[JOURNAL_DROP_SHUTDOWN] > 0);
    assert_accounted(f);
}

/* At exit with journald stalled and stderr taking the rest: nothing is
 * dropped. */
static void test_close_clean(void **state)
{
    struct fx *f = *state;
    f->f_o.jwo_stall_ms = WAIT_MS * 2;
    start(f);
    write_n(f, 20);
    journal_writer_close(f->f_w, 1000);
    assert_int_equal(dropped(f), 0);
    assert_accounted(f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the daemon does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sends_native, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_then_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr_file_and_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_clean, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
