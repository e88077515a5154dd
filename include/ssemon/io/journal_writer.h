/*
 * journal_writer: hands the daemon's records to journald, or to standard
 * error, without ever making the event loop wait, and accounts for every
 * one of them. Adapter on the libevent loop.
 *
 * journald: journald's native protocol (journal_codec) on a non-blocking
 * AF_UNIX datagram socket connected to its socket. A record goes out with
 * one send(2) when nothing is queued; when journald's receive queue is full
 * it waits in a bounded queue (journal_queue) that drains as the socket
 * becomes writable again. journald is "up" while it takes records; it is
 * down when its socket refuses them (journald gone, a stale socket file)
 * or when the queue has made no progress for the stall time (journald
 * stopped or stuck): the queue then goes to standard error, so do the
 * records that follow, and the writer reconnects (every retry interval) or
 * waits for the socket to become writable. A full queue also sends the
 * record to standard error. A datagram journald accepted is its own: one
 * still in its receive queue when it is killed is lost with it.
 *
 * Standard error: one JSON object a line (journal_codec). A socket (what
 * systemd gives a service) is written with MSG_DONTWAIT; a pipe, FIFO or
 * terminal through a non-blocking descriptor of its own (reopened, so the
 * descriptor shared with other processes keeps its flags); a regular file
 * as it is. Lines that cannot be written at once wait in a bounded queue;
 * when that is full too, the record is dropped and counted. The caller
 * ignores SIGPIPE.
 *
 * Accounting: every record handed to journal_writer_write is, at any time,
 * exactly one of: taken by journald (records_journal), written whole to
 * standard error (records_stderr), dropped with a reason (dropped), or
 * queued.
 *
 * Ownership: the writer copies its options and the fields it is given;
 * journal_writer_stats points into the writer.
 */
#ifndef SSEMON_JOURNAL_WRITER_H
#define SSEMON_JOURNAL_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/io/journal_codec.h"

struct event_base;

#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"

enum journal_target {
    JOURNAL_TARGET_AUTO = 0, /* journald when it answers at start, else stderr */
    JOURNAL_TARGET_JOURNAL,
    JOURNAL_TARGET_STDERR,
};

/* Why a record was dropped: the label values of
 * ssemon_journal_records_dropped_total{reason}. */
enum journal_drop {
    JOURNAL_DROP_STDERR_FULL = 0, /* standard error's queue was full */
    JOURNAL_DROP_STDERR_ERROR,    /* writing standard error failed (closed, EIO) */
    JOURNAL_DROP_SHUTDOWN,        /* still queued when the daemon stopped */
    JOURNAL_DROP_NO_MEMORY,       /* no memory to encode or queue it */
    JOURNAL_DROP_COUNT
};

/* "stderr_full", "stderr_error", "shutdown", "no_memory". */
const char *journal_writer_drop_name(enum journal_drop r);
/* "journal", "stderr" (and "auto"). */
const char *journal_writer_target_name(enum journal_target t);

struct journal_stats {
    enum journal_target js_target;  /* JOURNAL or STDERR: auto is decided at start */
    bool js_up;                     /* journald takes records (always true for STDERR) */
    char js_error[128];             /* why it is down; "" while up */
    uint64_t js_down_since_wall_ms; /* when it went down; 0 while up */
    uint64_t js_down_since_mono_ms;
    uint64_t js_queued; /* records waiting, for journald and for stderr */
    uint64_t js_records_journal;
    uint64_t js_records_stderr;
    uint64_t js_dropped[JOURNAL_DROP_COUNT];
    /* The last outage (kept once journald is back, until it goes down
     * again): records written to stderr and dropped since it went down,
     * and how long it lasted (set when it is back). */
    uint64_t js_outage_stderr;
    uint64_t js_outage_dropped;
    uint64_t js_outage_ms;
};

struct journal_writer_options {
    enum journal_target jwo_target;
    const char *jwo_socket_path; /* journald's socket (copied) */
    int jwo_stderr_fd;           /* standard error's descriptor (not closed) */
    size_t jwo_queue_records;    /* journald queue bounds */
    size_t jwo_queue_bytes;
    size_t jwo_stderr_records; /* standard error queue bounds */
    size_t jwo_stderr_bytes;
    uint64_t jwo_stall_ms; /* no progress this long: journald is down */
    uint64_t jwo_retry_ms; /* reconnect interval while it is down */
    /* Called from the loop (never from inside journal_writer_write) after
     * js_up changed; may write records. */
    void (*jwo_on_change)(void *ctx, const struct journal_stats *st);
    void *jwo_ctx;
};

/* The defaults: JOURNAL_SOCKET_PATH, fd 2, 1024 records / 1 MiB for each
 * queue, a stall time of 1 s, a retry interval of 1 s. */
void journal_writer_options_init(struct journal_writer_options *o);

/* Connects (for AUTO: probes; a socket file nobody listens on means
 * stderr). Returns NULL on allocation failure. `base` must outlive it. */
struct journal_writer *journal_writer_new(struct event_base *base,
                                          const struct journal_writer_options *o);
/* Writes the stats' last counts: anything still queued is dropped
 * (JOURNAL_DROP_SHUTDOWN) unless journal_writer_close wrote it. */
void journal_writer_free(struct journal_writer *w);

/* One record: to journald while it is up, else to standard error. */
void journal_writer_write(struct journal_writer *w, const struct journal_field *f, size_t n);
/* A line of plain text for standard error only (a diagnostic, not a
 * record: not counted), queued with the records' lines. */
void journal_writer_text(struct journal_writer *w, const char *line);

const struct journal_stats *journal_writer_stats(const struct journal_writer *w);

/* At exit: waits at most `budget_ms` in all for what is queued to be
 * taken (journald first, what it does not take then goes to standard
 * error); the rest is dropped (JOURNAL_DROP_SHUTDOWN). */
void journal_writer_close(struct journal_writer *w, uint64_t budget_ms);

#endif
