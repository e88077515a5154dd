#include "ssemon/io/journal_writer.h"

#include "ssemon/base/clock.h"
#include "ssemon/io/deadline.h"
#include "ssemon/io/journal_queue.h"
#include "ssemon/json/json_writer.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Queue item tags: standard error also carries plain text lines. */
#define JOURNAL_WRITER_TEXT 0u
#define JOURNAL_WRITER_RECORD 1u

/* How often a standard error that cannot be polled (a terminal) is tried
 * again after it refused a write. */
#define JOURNAL_WRITER_ERR_RETRY_MS 50

struct journal_writer {
    struct event_base *jw_base;
    struct journal_writer_options jw_opt;
    char *jw_path; /* owned copy of jwo_socket_path */

    /* journald */
    int jw_fd;           /* connected socket; -1 while down and disconnected */
    struct event *jw_ev; /* EV_WRITE on jw_fd: the queue can drain, or journald is back */
    struct journal_queue jw_jq;
    struct deadline jw_stall;  /* the queue made no progress for the stall time */
    struct deadline jw_retry;  /* connect again */
    struct deadline jw_notify; /* tell the owner js_up changed, from the loop */
    bool jw_reported_up;

    /* standard error */
    int jw_efd;
    bool jw_efd_owned;    /* our own non-blocking descriptor of it */
    bool jw_esend;        /* a socket: send(2) with MSG_DONTWAIT */
    bool jw_eblocked;     /* the last write found it full */
    struct event *jw_eev; /* EV_WRITE on jw_efd; NULL when it cannot be polled */
    struct deadline jw_eretry;
    struct journal_queue jw_eq;
    size_t jw_eoff; /* bytes of the oldest line already written */

    struct json_writer jw_json; /* scratch for one line */
    struct journal_stats jw_st;
};

static const char *const journal_writer_drop_names[JOURNAL_DROP_COUNT] = {
    [JOURNAL_DROP_STDERR_FULL] = "stderr_full",
    [JOURNAL_DROP_STDERR_ERROR] = "stderr_error",
    [JOURNAL_DROP_SHUTDOWN] = "shutdown",
    [JOURNAL_DROP_NO_MEMORY] = "no_memory",
};

const char *journal_writer_drop_name(enum journal_drop r)
{
    return (unsigned)r < JOURNAL_DROP_COUNT ? journal_writer_drop_names[r] : "unknown";
}

const char *journal_writer_target_name(enum journal_target t)
{
    switch (t) {
    case JOURNAL_TARGET_JOURNAL:
        return "journal";
    case JOURNAL_TARGET_STDERR:
        return "stderr";
    default:
        return "auto";
    }
}

void journal_writer_options_init(struct journal_writer_options *o)
{
    memset(o, 0, sizeof(*o));
    o->jwo_target = JOURNAL_TARGET_AUTO;
    o->jwo_socket_path = JOURNAL_SOCKET_PATH;
    o->jwo_stderr_fd = 2;
    o->jwo_queue_records = 1024;
    o->jwo_queue_bytes = 1024 * 1024;
    o->jwo_stderr_records = 1024;
    o->jwo_stderr_bytes = 1024 * 1024;
    o->jwo_stall_ms = 1000;
    o->jwo_retry_ms = 1000;
}

const struct journal_stats *journal_writer_stats(const struct journal_writer *w)
{
    return &w->jw_st;
}

/* ---- accounting ---- */

static void journal_writer_sync(struct journal_writer *w)
{
    w->jw_st.js_queued = journal_queue_items(&w->jw_jq) + w->jw_eq.jq_tagged[JOURNAL_WRITER_RECORD];
}

static void journal_writer_drop(struct journal_writer *w, enum journal_drop r)
{
    w->jw_st.js_dropped[r]++;
    if (!w->jw_st.js_up)
        w->jw_st.js_outage_dropped++;
}

/* ---- state ---- */

static void journal_writer_on_notify(void *ctx)
{
    struct journal_writer *w = ctx;
    if (w->jw_reported_up == w->jw_st.js_up)
        return;
    w->jw_reported_up = w->jw_st.js_up;
    if (w->jw_opt.jwo_on_change != NULL)
        w->jw_opt.jwo_on_change(w->jw_opt.jwo_ctx, &w->jw_st);
}

static void journal_writer_set_up(struct journal_writer *w)
{
    if (w->jw_st.js_up)
        return;
    w->jw_st.js_up = true;
    w->jw_st.js_outage_ms = clock_mono_ms() - w->jw_st.js_down_since_mono_ms;
    w->jw_st.js_error[0] = '\0';
    w->jw_st.js_down_since_wall_ms = 0;
    w->jw_st.js_down_since_mono_ms = 0;
    deadline_arm(&w->jw_notify, 0);
}

/* `why` is kept for /status even when journald was down already (a failed
 * reconnect says more than the first refusal). */
static void journal_writer_set_down(struct journal_writer *w, const char *why)
{
    snprintf(w->jw_st.js_error, sizeof(w->jw_st.js_error), "%s", why);
    if (!w->jw_st.js_up)
        return;
    w->jw_st.js_up = false;
    w->jw_st.js_down_since_wall_ms = clock_wall_ms();
    w->jw_st.js_down_since_mono_ms = clock_mono_ms();
    w->jw_st.js_outage_stderr = 0;
    w->jw_st.js_outage_dropped = 0;
    w->jw_st.js_outage_ms = 0;
    deadline_arm(&w->jw_notify, 0);
}

/* ---- standard error ---- */

static void journal_writer_err_wait(struct journal_writer *w)
{
    w->jw_eblocked = true;
    if (w->jw_eev != NULL) {
        if (event_add(w->jw_eev, NULL) == 0)
            return;
        /* Not pollable after all (epoll refuses some files): poll by timer. */
        event_free(w->jw_eev);
        w->jw_eev = NULL;
    }
    deadline_arm(&w->jw_eretry, JOURNAL_WRITER_ERR_RETRY_MS);
}

/* Writes queued lines until done (true) or standard error is full (false). */
static bool journal_writer_err_write(struct journal_writer *w)
{
    char *item;
    size_t len;
    unsigned tag;
    while ((item = journal_queue_front(&w->jw_eq, &len, &tag)) != NULL) {
        ssize_t k;
        if (w->jw_esend)
            k = send(w->jw_efd, item + w->jw_eoff, len - w->jw_eoff, MSG_DONTWAIT | MSG_NOSIGNAL);
        else
            k = write(w->jw_efd, item + w->jw_eoff, len - w->jw_eoff);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return false;
            /* Closed or failing: this line is lost, later ones are tried. */
            if (tag == JOURNAL_WRITER_RECORD)
                journal_writer_drop(w, JOURNAL_DROP_STDERR_ERROR);
            journal_queue_pop(&w->jw_eq);
            w->jw_eoff = 0;
            continue;
        }
        w->jw_eoff += (size_t)k;
        if (w->jw_eoff < len)
            continue;
        if (tag == JOURNAL_WRITER_RECORD) {
            w->jw_st.js_records_stderr++;
            if (!w->jw_st.js_up)
                w->jw_st.js_outage_stderr++;
        }
        journal_queue_pop(&w->jw_eq);
        w->jw_eoff = 0;
    }
    return true;
}

static void journal_writer_err_flush(struct journal_writer *w)
{
    if (w->jw_eblocked)
        return; /* its event or timer calls again */
    if (!journal_writer_err_write(w))
        journal_writer_err_wait(w);
}

static void journal_writer_err_ready(struct journal_writer *w)
{
    w->jw_eblocked = false;
    journal_writer_err_flush(w);
    journal_writer_sync(w);
}

static void journal_writer_on_err_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    journal_writer_err_ready(arg);
}

static void journal_writer_on_err_retry(void *ctx)
{
    journal_writer_err_ready(ctx);
}

static void journal_writer_err_push(struct journal_writer *w, const char *line, size_t len,
                                    unsigned tag)
{
    switch (journal_queue_push(&w->jw_eq, line, len, tag)) {
    case JOURNAL_QUEUE_OK:
        journal_writer_err_flush(w);
        return;
    case JOURNAL_QUEUE_FULL:
        if (tag == JOURNAL_WRITER_RECORD)
            journal_writer_drop(w, JOURNAL_DROP_STDERR_FULL);
        return;
    default:
        if (tag == JOURNAL_WRITER_RECORD)
            journal_writer_drop(w, JOURNAL_DROP_NO_MEMORY);
        return;
    }
}

/* `wall_ms`: when the record was made (its "t"). */
static void journal_writer_to_stderr(struct journal_writer *w, const struct journal_field *f,
                                     size_t n, uint64_t wall_ms)
{
    json_writer_reset(&w->jw_json);
    journal_codec_json(f, n, wall_ms, &w->jw_json);
    size_t len;
    const char *line = json_writer_text(&w->jw_json, &len);
    if (json_writer_failed(&w->jw_json) || line == NULL) {
        journal_writer_drop(w, JOURNAL_DROP_NO_MEMORY);
        return;
    }
    journal_writer_err_push(w, line, len, JOURNAL_WRITER_RECORD);
}

void journal_writer_text(struct journal_writer *w, const char *line)
{
    size_t len = strlen(line);
    if (len == 0 || line[len - 1] != '\n') {
        char *copy = malloc(len + 1);
        if (copy == NULL)
            return;
        memcpy(copy, line, len);
        copy[len] = '\n';
        journal_writer_err_push(w, copy, len + 1, JOURNAL_WRITER_TEXT);
        free(copy);
    } else {
        journal_writer_err_push(w, line, len, JOURNAL_WRITER_TEXT);
    }
    journal_writer_sync(w);
}

/* Standard error as the writer uses it (see the header). */
static void journal_writer_err_open(struct journal_writer *w, int fd)
{
    w->jw_efd = fd;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return; /* writes fail and are counted */
    if (S_ISSOCK(st.st_mode)) {
        w->jw_esend = true;
        w->jw_eev = event_new(w->jw_base, fd, EV_WRITE, journal_writer_on_err_writable, w);
        return;
    }
    if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
        return; /* a regular file: writes do not wait on a reader */
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    int own = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (own >= 0) {
        w->jw_efd = own;
        w->jw_efd_owned = true;
    } else {
        /* No /proc: the shared descriptor itself, rather than a loop that
         * waits on a reader. */
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
    if (S_ISFIFO(st.st_mode))
        w->jw_eev = event_new(w->jw_base, w->jw_efd, EV_WRITE, journal_writer_on_err_writable, w);
}

/* ---- journald ---- */

enum journal_writer_sent {
    JOURNAL_WRITER_SENT,
    JOURNAL_WRITER_BUSY,      /* its receive queue is full */
    JOURNAL_WRITER_TOO_LARGE, /* larger than a datagram may be */
    JOURNAL_WRITER_GONE,      /* errno says why */
};

static enum journal_writer_sent journal_writer_send(struct journal_writer *w, const char *buf,
                                                    size_t len)
{
    for (;;) {
        if (send(w->jw_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
            return JOURNAL_WRITER_SENT;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            return JOURNAL_WRITER_BUSY;
        if (errno == EMSGSIZE)
            return JOURNAL_WRITER_TOO_LARGE;
        return JOURNAL_WRITER_GONE;
    }
}

/* The oldest datagram of the queue goes to standard error instead. */
static void journal_writer_spill_one(struct journal_writer *w)
{
    size_t len;
    char *item = journal_queue_front(&w->jw_jq, &len, NULL);
    if (item == NULL)
        return;
    uint64_t made = journal_queue_front_stamp(&w->jw_jq);
    struct journal_field f[JOURNAL_CODEC_MAX_FIELDS];
    int n = journal_codec_parse(item, len, f, JOURNAL_CODEC_MAX_FIELDS);
    if (n >= 0)
        journal_writer_to_stderr(w, f, (size_t)n, made);
    else
        journal_writer_drop(w, JOURNAL_DROP_NO_MEMORY); /* cannot happen: the datagram is ours */
    journal_queue_pop(&w->jw_jq);
}

static void journal_writer_spill(struct journal_writer *w)
{
    while (journal_queue_items(&w->jw_jq) > 0)
        journal_writer_spill_one(w);
    deadline_cancel(&w->jw_stall);
}

static void journal_writer_disconnect(struct journal_writer *w)
{
    if (w->jw_ev != NULL)
        event_free(w->jw_ev);
    w->jw_ev = NULL;
    if (w->jw_fd >= 0)
        close(w->jw_fd);
    w->jw_fd = -1;
}

/* journald refused a datagram for good: reconnect later, the queue and the
 * records until then go to standard error. */
static void journal_writer_gone(struct journal_writer *w, int err)
{
    char why[sizeof(w->jw_st.js_error)];
    snprintf(why, sizeof(why), "journald refused a record: %s", strerror(err));
    journal_writer_disconnect(w);
    journal_writer_set_down(w, why);
    journal_writer_spill(w);
    deadline_arm(&w->jw_retry, w->jw_opt.jwo_retry_ms);
}

static void journal_writer_on_writable(evutil_socket_t fd, short what, void *arg);

/* A socket connected to journald's, or -1 with errno set. */
static int journal_writer_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, path, len + 1);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&sa,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1)) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* Connects; on failure says why in *why. Returns true when connected. */
static bool journal_writer_attach(struct journal_writer *w, char *why, size_t size)
{
    int fd = journal_writer_connect(w->jw_path);
    if (fd < 0) {
        snprintf(why, size, "connect %s: %s", w->jw_path, strerror(errno));
        return false;
    }
    w->jw_ev = event_new(w->jw_base, fd, EV_WRITE, journal_writer_on_writable, w);
    if (w->jw_ev == NULL) {
        close(fd);
        snprintf(why, size, "connect %s: %s", w->jw_path, strerror(ENOMEM));
        return false;
    }
    w->jw_fd = fd;
    return true;
}

static void journal_writer_on_retry(void *ctx)
{
    struct journal_writer *w = ctx;
    char why[sizeof(w->jw_st.js_error)];
    if (!journal_writer_attach(w, why, sizeof(why))) {
        journal_writer_set_down(w, why);
        deadline_arm(&w->jw_retry, w->jw_opt.jwo_retry_ms);
        return;
    }
    journal_writer_set_up(w);
}

static void journal_writer_drain(struct journal_writer *w)
{
    bool progress = false;
    char *item;
    size_t len;
    while ((item = journal_queue_front(&w->jw_jq, &len, NULL)) != NULL) {
        switch (journal_writer_send(w, item, len)) {
        case JOURNAL_WRITER_SENT:
            w->jw_st.js_records_journal++;
            journal_queue_pop(&w->jw_jq);
            progress = true;
            continue;
        case JOURNAL_WRITER_TOO_LARGE:
            journal_writer_spill_one(w);
            continue;
        case JOURNAL_WRITER_BUSY:
            event_add(w->jw_ev, NULL);
            if (progress)
                deadline_arm(&w->jw_stall, w->jw_opt.jwo_stall_ms);
            return;
        default:
            journal_writer_gone(w, errno);
            return;
        }
    }
    deadline_cancel(&w->jw_stall);
}

static void journal_writer_on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct journal_writer *w = arg;
    (void)fd;
    (void)what;
    if (!w->jw_st.js_up) {
        /* Stalled until now: journald reads again, or it died (its socket
         * is writable then too, and only a send tells). An empty datagram
         * asks: journald ignores it. */
        switch (journal_writer_send(w, "", 0)) {
        case JOURNAL_WRITER_SENT:
            journal_writer_set_up(w);
            break;
        case JOURNAL_WRITER_GONE:
            journal_writer_gone(w, errno);
            journal_writer_sync(w);
            return;
        default:
            event_add(w->jw_ev, NULL);
            return;
        }
    }
    journal_writer_drain(w);
    journal_writer_sync(w);
}

static void journal_writer_on_stall(void *ctx)
{
    struct journal_writer *w = ctx;
    if (journal_queue_items(&w->jw_jq) == 0)
        return;
    char why[sizeof(w->jw_st.js_error)];
    snprintf(why, sizeof(why), "journald took no record for %llu ms",
             (unsigned long long)w->jw_opt.jwo_stall_ms);
    journal_writer_set_down(w, why);
    journal_writer_spill(w);
    /* Still waiting for the socket to become writable: journald is back. */
    event_add(w->jw_ev, NULL);
    journal_writer_sync(w);
}

void journal_writer_write(struct journal_writer *w, const struct journal_field *f, size_t n)
{
    uint64_t made = clock_wall_ms();
    if (w->jw_st.js_target != JOURNAL_TARGET_JOURNAL || !w->jw_st.js_up) {
        journal_writer_to_stderr(w, f, n, made);
        journal_writer_sync(w);
        return;
    }
    size_t len;
    char *buf = journal_codec_native(f, n, &len);
    if (buf == NULL) {
        journal_writer_drop(w, JOURNAL_DROP_NO_MEMORY);
        return;
    }
    bool empty = journal_queue_items(&w->jw_jq) == 0;
    if (empty) {
        enum journal_writer_sent r = journal_writer_send(w, buf, len);
        int err = errno;
        if (r != JOURNAL_WRITER_BUSY)
            free(buf);
        switch (r) {
        case JOURNAL_WRITER_SENT:
            w->jw_st.js_records_journal++;
            return;
        case JOURNAL_WRITER_TOO_LARGE:
            journal_writer_to_stderr(w, f, n, made);
            journal_writer_sync(w);
            return;
        case JOURNAL_WRITER_GONE:
            journal_writer_gone(w, err);
            journal_writer_to_stderr(w, f, n, made);
            journal_writer_sync(w);
            return;
        default:
            break;
        }
    }
    enum journal_queue_push r =
        journal_queue_push_stamped(&w->jw_jq, buf, len, JOURNAL_WRITER_RECORD, made);
    free(buf);
    if (r == JOURNAL_QUEUE_FULL) {
        journal_writer_to_stderr(w, f, n, made);
    } else if (r == JOURNAL_QUEUE_NOMEM) {
        journal_writer_drop(w, JOURNAL_DROP_NO_MEMORY);
    } else if (empty) {
        event_add(w->jw_ev, NULL);
        deadline_arm(&w->jw_stall, w->jw_opt.jwo_stall_ms);
    }
    journal_writer_sync(w);
}

/* ---- life ---- */

struct journal_writer *journal_writer_new(struct event_base *base,
                                          const struct journal_writer_options *o)
{
    struct journal_writer *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->jw_base = base;
    w->jw_opt = *o;
    w->jw_fd = -1;
    w->jw_efd = -1;
    json_writer_init(&w->jw_json);
    journal_queue_init(&w->jw_jq, o->jwo_queue_records, o->jwo_queue_bytes);
    journal_queue_init(&w->jw_eq, o->jwo_stderr_records, o->jwo_stderr_bytes);
    w->jw_path = strdup(o->jwo_socket_path != NULL ? o->jwo_socket_path : JOURNAL_SOCKET_PATH);
    if (w->jw_path == NULL || deadline_init(&w->jw_stall, base, journal_writer_on_stall, w) != 0 ||
        deadline_init(&w->jw_retry, base, journal_writer_on_retry, w) != 0 ||
        deadline_init(&w->jw_notify, base, journal_writer_on_notify, w) != 0 ||
        deadline_init(&w->jw_eretry, base, journal_writer_on_err_retry, w) != 0) {
        journal_writer_free(w);
        return NULL;
    }
    w->jw_opt.jwo_socket_path = w->jw_path;
    journal_writer_err_open(w, o->jwo_stderr_fd);

    w->jw_st.js_up = true;
    w->jw_reported_up = true;
    w->jw_st.js_target =
        o->jwo_target == JOURNAL_TARGET_STDERR ? JOURNAL_TARGET_STDERR : JOURNAL_TARGET_JOURNAL;
    if (w->jw_st.js_target == JOURNAL_TARGET_STDERR)
        return w;
    char why[sizeof(w->jw_st.js_error)];
    if (journal_writer_attach(w, why, sizeof(why)))
        return w;
    if (o->jwo_target == JOURNAL_TARGET_AUTO) {
        /* Nobody answers on the socket (none, or a file left by a journald
         * that is gone): standard error for this run. */
        w->jw_st.js_target = JOURNAL_TARGET_STDERR;
        return w;
    }
    journal_writer_set_down(w, why);
    deadline_arm(&w->jw_retry, w->jw_opt.jwo_retry_ms);
    return w;
}

static int journal_writer_remaining(uint64_t end)
{
    uint64_t now = clock_mono_ms();
    if (now >= end)
        return 0;
    return end - now > 60000 ? 60000 : (int)(end - now);
}

/* Waits at most until `end` for `fd` to become writable; false when the
 * time is over. A descriptor that cannot be polled is given a short nap. */
static bool journal_writer_wait_fd(int fd, bool pollable, uint64_t end)
{
    int ms = journal_writer_remaining(end);
    if (ms <= 0)
        return false;
    if (!pollable) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        return true;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    poll(&p, 1, ms);
    return true;
}

void journal_writer_close(struct journal_writer *w, uint64_t budget_ms)
{
    uint64_t end = clock_mono_ms() + budget_ms;
    deadline_cancel(&w->jw_stall);
    char *item;
    size_t len;
    while (w->jw_fd >= 0 && w->jw_st.js_up &&
           (item = journal_queue_front(&w->jw_jq, &len, NULL)) != NULL) {
        enum journal_writer_sent r = journal_writer_send(w, item, len);
        if (r == JOURNAL_WRITER_SENT) {
            w->jw_st.js_records_journal++;
            journal_queue_pop(&w->jw_jq);
        } else if (r == JOURNAL_WRITER_TOO_LARGE) {
            journal_writer_spill_one(w);
        } else if (r == JOURNAL_WRITER_GONE) {
            journal_writer_gone(w, errno);
        } else if (!journal_writer_wait_fd(w->jw_fd, true, end)) {
            break;
        }
    }
    journal_writer_spill(w);
    w->jw_eblocked = false;
    while (!journal_writer_err_write(w))
        if (!journal_writer_wait_fd(w->jw_efd, w->jw_eev != NULL || w->jw_esend, end))
            break;
    w->jw_st.js_dropped[JOURNAL_DROP_SHUTDOWN] += w->jw_eq.jq_tagged[JOURNAL_WRITER_RECORD];
    journal_queue_clear(&w->jw_eq);
    w->jw_eoff = 0;
    journal_writer_sync(w);
}

void journal_writer_free(struct journal_writer *w)
{
    if (w == NULL)
        return;
    /* What is still queued now will never be written. */
    w->jw_st.js_dropped[JOURNAL_DROP_SHUTDOWN] +=
        journal_queue_items(&w->jw_jq) + w->jw_eq.jq_tagged[JOURNAL_WRITER_RECORD];
    journal_queue_clear(&w->jw_jq);
    journal_queue_clear(&w->jw_eq);
    journal_writer_sync(w);
    journal_writer_disconnect(w);
    if (w->jw_eev != NULL)
        event_free(w->jw_eev);
    if (w->jw_efd_owned)
        close(w->jw_efd);
    deadline_release(&w->jw_stall);
    deadline_release(&w->jw_retry);
    deadline_release(&w->jw_notify);
    deadline_release(&w->jw_eretry);
    json_writer_free(&w->jw_json);
    free(w->jw_path);
    free(w);
}
