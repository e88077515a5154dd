/*
 * The daemon's status endpoint. Small responses are rendered whole from the
 * view the daemon hands over at that moment, and queued for evhttp to
 * write. GET /status and GET /metrics (HTTP/1.1) are rendered and sent in
 * slices, chunked: a scrape of 10,000 subscriptions is tens of MB, and
 * rendering it at once would hold the loop (and monitoring) for tens of
 * milliseconds and the whole document in memory per client. The first
 * slice of 192 KiB goes with the headers; the rest renders in passes, each
 * a turn of the loop: slices until 1 MiB is queued for the client (about
 * a millisecond), then the loop polls its sockets and runs its timers; the
 * next pass comes when that queue has drained (over TLS too: see
 * status_server_stream_written for why a pass never runs ahead of it).
 * A slow client thus holds at most about 1.25 MiB at the daemon, besides
 * the kernel's socket buffer; one that stops reading is dropped, one
 * that reads, however slowly, is not (status_server_conn_watch). A
 * stream keeps pointers into the monitors, so it ends, cut short, when
 * the view's generation changes (a reload): the client sees a truncated
 * body, never a short document passed off as whole. No request ever
 * waits on anything, so a client can only hold its own connection, never
 * the loop.
 *
 * libevent 2.1 has no connection cap for evhttp, so we keep one ourselves:
 * the bufferevent callback sees each accepted connection, and a close
 * callback on its evhttp_connection sees it go. The connection object
 * only exists once evhttp has finished setting it up, after our callback
 * returned, so an event made active at the accept "adopts" the new
 * bufferevents in the same turn of the loop, after the listener's
 * callback (holding a reference on each meanwhile, so one that evhttp
 * already dropped is recognised instead of touched after free).
 *
 * Nobody may hold the port. evhttp's read timeout is re-armed by every
 * byte, so a client sending one byte every few seconds (slowloris) would
 * keep its connection for ever: each request gets a deadline of its own
 * instead, armed when its connection is adopted or the previous response
 * on it is sent, and disarmed only when the request is whole (our handler
 * runs). And a cap that stops accepting lets a flood of connections keep
 * everybody else in the kernel's backlog: the listener goes on, and room
 * is made when a batch is adopted, by closing the connections that have
 * waited longest for their request. Connections being answered are
 * served in turn: above the cap they take a reserve of half the cap, and
 * only once every place is taken does the one answered longest go, past
 * a short grace (a slow reader holds its place by reading a byte now and
 * then). The order of a turn of the loop makes this fair to a client that
 * sends its request at once: the listener accepts at most half the cap
 * per turn (then is switched off until the adoption), so a connection
 * accepted in one turn is polled in the next, where its read callback,
 * activated by the poll, runs before the adoption that the listener's
 * callback activates; and only connections adopted in an earlier turn
 * are closed to make room. Over TCP, TCP_DEFER_ACCEPT keeps connections
 * that send nothing in the kernel, so they take no place at all, and a
 * connection is accepted with its first bytes already there.
 */
#include "ssemon/io/status_server.h"

#include "ssemon/base/clock.h"
#include "ssemon/core/listen_addr.h"
#include "ssemon/core/subscription_name.h"

#include "ssemon/core/violation.h"
#include "ssemon/io/deadline.h"
#include "ssemon/io/status_auth.h"
#include "ssemon/io/status_evidence.h"
#include "ssemon/io/status_page.h"
#include "ssemon/io/status_tls.h"
#include "ssemon/json/json_writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <linux/sockios.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_acked (glibc's lacks it) */
#include <math.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define STATUS_SERVER_DEFAULT_HEADER_BYTES 8192
#define STATUS_SERVER_DEFAULT_TIMEOUT_S 5
#define STATUS_SERVER_DEFAULT_MAX_CONNECTIONS 64
#define STATUS_SERVER_DEFAULT_REQUEST_DEADLINE_S 5
/* Connections waiting to be accepted (the kernel caps it at
 * net.core.somaxconn): a backlog that overflows drops new handshakes, and
 * a client whose handshake is dropped retries only a second later. The
 * listener drains it at up to half the cap per turn of the loop. */
#define STATUS_SERVER_LISTEN_BACKLOG 4096

/* Bytes written to a client per write callback (libevent's default is
 * 16 KiB): a scrape of tens of MB then takes tens of loop passes, not
 * thousands; the kernel's socket buffer still paces a slow client. */
#define STATUS_SERVER_MAX_SINGLE_WRITE ((ev_ssize_t)1 << 20)

#define STATUS_SERVER_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A /status or /metrics response is rendered and sent in slices of about
 * STATUS_SERVER_SLICE_BYTES, and no new slice is rendered while
 * STATUS_SERVER_STREAM_AHEAD or more is still queued for the client. */
#define STATUS_SERVER_SLICE_BYTES ((size_t)192 << 10)
#define STATUS_SERVER_STREAM_AHEAD ((size_t)1 << 20)
/* A slice's buffer: the slice, and room for the rows that end it (a slice
 * stops at the first row boundary past STATUS_SERVER_SLICE_BYTES). */
#define STATUS_SERVER_SLICE_BUFFER ((size_t)256 << 10)

/* Documents at least this large are handed to libevent, not copied. */
#define STATUS_SERVER_HANDOVER_MIN ((size_t)64 << 10)

/* A connection being answered is not closed to make room during its
 * first STATUS_SERVER_ANSWER_GRACE_MS: a burst of requests is served in
 * turn, as fast as the loop goes. After that, one that is still being
 * answered (a slow reader of a large document, holding its place by
 * reading a byte now and then) may go for a newcomer. */
#define STATUS_SERVER_ANSWER_GRACE_MS 500

/* While a connection is answered, its progress is looked at every
 * STATUS_SERVER_PROGRESS_CHECK_MS (see status_server_conn_watch). */
#define STATUS_SERVER_PROGRESS_CHECK_MS 1000

/* An adopted connection: a slot of the server's table, for as long as the
 * connection is open (its close callback frees the slot). */
struct status_server_conn {
    struct status_server *sc_server;
    struct evhttp_connection *sc_evcon; /* NULL: the slot is free */
    /* Waiting: its next request must have arrived by then. Answering: the
     * next look at its progress. */
    struct deadline sc_deadline;
    uint64_t sc_order;     /* when it began waiting or being answered */
    uint64_t sc_answer_ms; /* monotonic time its answer began */
    bool sc_answering;     /* its request is in, the response not yet sent */
    /* Answering: at the last look, the bytes the kernel had not sent yet
     * (SIOCOUTQ) and those queued at the daemon (the bufferevent's output),
     * and when the client last made progress. */
    size_t sc_unsent;
    size_t sc_queued;
    uint64_t sc_acked; /* TCP: bytes the client's kernel has acknowledged */
    uint64_t sc_progress_ms;
    uint64_t sc_check_ms; /* when progress was last looked at */
};

struct status_server {
    struct event_base *ss_base;
    struct evhttp *ss_http;
    struct evconnlistener *ss_listener; /* owned by ss_http once bound */
    status_server_view_fn ss_view;
    void *ss_ctx;
    struct status_server_limits ss_limits;
    struct status_auth *ss_auth; /* borrowed; NULL: no authentication */
    struct status_tls *ss_tls;   /* borrowed; NULL: plain HTTP */
    char *ss_unix_path;          /* owned; removed on free */
    unsigned ss_port;
    /* Accepted in this turn of the loop, not yet adopted: one reference
     * held on each. The listener takes ss_quota of them at most (half the
     * cap, or less when no more places can be had), then is off
     * (ss_accept_off) until they are adopted, or, when every place is
     * taken by a connection answered for less than its grace, until one
     * closes or its grace ends (ss_room). */
    struct bufferevent **ss_pending;
    size_t ss_n_pending;
    size_t ss_batch;
    size_t ss_quota;
    bool ss_accept_off;
    bool ss_closing; /* in status_server_free: the listener is going away */
    struct event *ss_adopt;
    struct deadline ss_room;
    /* Adopted connections (a close callback set on each): the only ones a
     * response may be streamed on, since only their end is seen. The cap,
     * and a reserve of ss_batch used only while every place is taken by a
     * connection being answered. */
    struct status_server_conn *ss_conns;
    size_t ss_n_slots;
    size_t ss_n_conns;
    uint64_t ss_order;                       /* orders the connections' sc_order */
    struct status_server_stream *ss_streams; /* responses being sent in slices */
    struct json_writer ss_out;               /* reused from response to response */
    struct status_server_pool *ss_pool;      /* buffers of documents already sent */
    /* Sizes of the last documents: the next is about as large, so its
     * buffer is reserved at once instead of grown step by step. */
    size_t ss_last_status;
    size_t ss_last_metrics;
};

/* Large documents go to libevent by reference; once sent, their buffers
 * come back here and serve the next ones, so a scrape of tens of MB does
 * not have the kernel fault in fresh pages every time. libevent may free a
 * connection's buffers after the server is gone (bufferevents finalize in
 * a later loop pass), so the pool counts its users: the server and every
 * buffer in flight. */
#define STATUS_SERVER_POOL_SLOTS 2

struct status_server_pool {
    unsigned sp_refs;
    bool sp_server_gone; /* nothing will take buffers any more */
    char *sp_buf[STATUS_SERVER_POOL_SLOTS];
    size_t sp_cap[STATUS_SERVER_POOL_SLOTS];
};

/* A buffer in flight: what it needs to find its way back. */
struct status_server_body {
    struct status_server_pool *sb_pool;
    size_t sb_cap;
};

static void status_server_pool_unref(struct status_server_pool *p)
{
    if (--p->sp_refs > 0)
        return;
    for (size_t i = 0; i < STATUS_SERVER_POOL_SLOTS; i++)
        free(p->sp_buf[i]);
    free(p);
}

/* Keeps `buf` while the server is there to use it, in a free slot or in
 * place of a smaller one; frees what it does not keep. */
static void status_server_pool_put(struct status_server_pool *p, char *buf, size_t cap)
{
    if (!p->sp_server_gone) {
        size_t smallest = 0;
        for (size_t i = 1; i < STATUS_SERVER_POOL_SLOTS; i++)
            if (p->sp_cap[i] < p->sp_cap[smallest])
                smallest = i;
        if (cap > p->sp_cap[smallest]) {
            char *old = p->sp_buf[smallest];
            p->sp_buf[smallest] = buf;
            p->sp_cap[smallest] = cap;
            buf = old;
        }
    }
    free(buf);
}

/* Gives the writer (empty, without a buffer) the smallest kept buffer of
 * `need` to `max` bytes, if any. */
static void status_server_pool_take(struct status_server_pool *p, struct json_writer *w,
                                    size_t need, size_t max)
{
    size_t best = STATUS_SERVER_POOL_SLOTS;
    for (size_t i = 0; i < STATUS_SERVER_POOL_SLOTS; i++)
        if (p->sp_buf[i] != NULL && p->sp_cap[i] >= need && p->sp_cap[i] <= max &&
            (best == STATUS_SERVER_POOL_SLOTS || p->sp_cap[i] < p->sp_cap[best]))
            best = i;
    if (best == STATUS_SERVER_POOL_SLOTS)
        return;
    json_writer_adopt(w, p->sp_buf[best], p->sp_cap[best]);
    p->sp_buf[best] = NULL;
    p->sp_cap[best] = 0;
}

/* ---- the server ---- */

void status_server_limits_default(struct status_server_limits *l)
{
    l->ssl_max_header_bytes = STATUS_SERVER_DEFAULT_HEADER_BYTES;
    l->ssl_max_body_bytes = 0;
    l->ssl_timeout_s = STATUS_SERVER_DEFAULT_TIMEOUT_S;
    l->ssl_max_connections = STATUS_SERVER_DEFAULT_MAX_CONNECTIONS;
    l->ssl_request_deadline_s = STATUS_SERVER_DEFAULT_REQUEST_DEADLINE_S;
}

/* One /status or /metrics response being sent in slices. */
struct status_server_stream {
    struct status_server_stream *st_next;
    struct status_server *st_server;
    struct evhttp_request *st_req;
    struct evhttp_connection *st_conn;
    struct event *st_slice;            /* renders and sends the next slice */
    struct status_metrics *st_metrics; /* one of these two */
    struct status_json *st_json;
    uint64_t st_generation; /* the view's, when the response began */
};

static void status_server_stream_free(struct status_server_stream *st)
{
    struct status_server_stream **pp = &st->st_server->ss_streams;
    while (*pp != NULL && *pp != st)
        pp = &(*pp)->st_next;
    if (*pp == st)
        *pp = st->st_next;
    if (st->st_slice != NULL)
        event_free(st->st_slice);
    status_render_metrics_free(st->st_metrics);
    status_render_json_free(st->st_json);
    free(st);
}

/* Over TCP: how many bytes of the connection the client's kernel has
 * acknowledged so far (TCP_INFO's tcpi_bytes_acked, which only grows, and
 * grows only as the client reads once its receive buffer is full). False
 * for a unix socket or when the kernel does not say. */
static bool status_server_conn_acked(const struct status_server_conn *c, uint64_t *acked)
{
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(c->sc_evcon));
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked))
        return false;
    *acked = ti.tcpi_bytes_acked;
    return true;
}

/* The connection's request has arrived (`answering`), or it waits for
 * the next one, which must arrive before the deadline. */
static void status_server_conn_phase(struct status_server_conn *c, bool answering)
{
    struct status_server *s = c->sc_server;
    c->sc_answering = answering;
    c->sc_order = ++s->ss_order;
    if (answering) {
        c->sc_answer_ms = clock_mono_ms();
        c->sc_progress_ms = c->sc_answer_ms;
        c->sc_check_ms = c->sc_answer_ms;
        c->sc_unsent = 0;
        c->sc_queued = 0;
        c->sc_acked = 0;
        (void)status_server_conn_acked(c, &c->sc_acked);
        deadline_arm(&c->sc_deadline, STATUS_SERVER_PROGRESS_CHECK_MS);
    } else {
        deadline_arm(&c->sc_deadline, (uint64_t)s->ss_limits.ssl_request_deadline_s * 1000);
    }
}

/* The slot of an adopted connection, NULL for any other. */
static struct status_server_conn *status_server_conn_of(struct status_server *s,
                                                        const struct evhttp_connection *evcon)
{
    for (size_t i = 0; evcon != NULL && i < s->ss_n_slots; i++)
        if (s->ss_conns[i].sc_evcon == evcon)
            return &s->ss_conns[i];
    return NULL;
}

/* May be closed to make room, at `now_ms`. */
static bool status_server_conn_yields(const struct status_server_conn *c, uint64_t now_ms)
{
    return !c->sc_answering || now_ms - c->sc_answer_ms >= STATUS_SERVER_ANSWER_GRACE_MS;
}

/* The connection to close to make room: the one waiting longest for its
 * request, else (when `answering` too) the one answered longest past its
 * grace; NULL when none may go. Only adopted connections are candidates,
 * so never one accepted in this turn of the loop, which has not been read
 * yet. */
static struct status_server_conn *status_server_conn_victim(struct status_server *s,
                                                            uint64_t now_ms, bool answering)
{
    struct status_server_conn *best = NULL;
    for (size_t i = 0; i < s->ss_n_slots; i++) {
        struct status_server_conn *c = &s->ss_conns[i];
        if (c->sc_evcon == NULL || !status_server_conn_yields(c, now_ms) ||
            (c->sc_answering && !answering))
            continue;
        if (best == NULL || (!c->sc_answering && best->sc_answering) ||
            (c->sc_answering == best->sc_answering && c->sc_order < best->sc_order))
            best = c;
    }
    return best;
}

/* How many the listener may take in the next turn of the loop: the places
 * that are sure to be had then, at most half the cap. Free slots, and
 * connections answered past their grace (they can only close, or wait for
 * a next request, and then still yield); a connection waiting for its
 * request is not counted on, since its request may come in the next turn
 * before the adoption. With no place, the listener is off, and ss_room
 * looks again when the first grace ends (a close looks sooner). Called
 * after each adoption, and while the listener is off, at each close. */
static void status_server_accept_update(struct status_server *s)
{
    if (s->ss_closing || s->ss_n_pending > 0)
        return;
    uint64_t now = clock_mono_ms();
    size_t places = s->ss_n_slots - s->ss_n_conns;
    uint64_t first_grace_end = now + STATUS_SERVER_ANSWER_GRACE_MS;
    for (size_t i = 0; i < s->ss_n_slots && places < s->ss_batch; i++) {
        const struct status_server_conn *c = &s->ss_conns[i];
        if (c->sc_evcon == NULL || !c->sc_answering)
            continue;
        if (status_server_conn_yields(c, now))
            places++;
        else if (c->sc_answer_ms + STATUS_SERVER_ANSWER_GRACE_MS < first_grace_end)
            first_grace_end = c->sc_answer_ms + STATUS_SERVER_ANSWER_GRACE_MS;
    }
    if (places == 0) {
        if (!s->ss_accept_off && evconnlistener_disable(s->ss_listener) == 0)
            s->ss_accept_off = true;
        deadline_arm(&s->ss_room, first_grace_end > now ? first_grace_end - now : 1);
        return;
    }
    if (s->ss_accept_off) {
        if (evconnlistener_enable(s->ss_listener) != 0)
            return;
        s->ss_accept_off = false;
    }
    s->ss_quota = places < s->ss_batch ? places : s->ss_batch;
    deadline_cancel(&s->ss_room);
}

static void status_server_room(void *arg)
{
    status_server_accept_update(arg);
}

/* The slot is free again; the connection is closing or closed. */
static void status_server_conn_release(struct status_server_conn *c)
{
    struct status_server *s = c->sc_server;
    deadline_cancel(&c->sc_deadline);
    c->sc_evcon = NULL;
    c->sc_answering = false;
    s->ss_n_conns--;
    if (s->ss_accept_off)
        status_server_accept_update(s);
}

static void status_server_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct status_server_conn *c = arg;
    struct status_server *s = c->sc_server;
    /* Counted out once, whatever evhttp does with the object afterwards. */
    evhttp_connection_set_closecb(evcon, NULL, NULL);
    if (c->sc_evcon == evcon)
        status_server_conn_release(c);
    /* A request whose password is being checked is dropped. */
    status_auth_forget(s->ss_auth, evcon);
    /* A response still being streamed on it is over. When the client went
     * away (or timed out), evhttp has detached the request from the
     * connection and leaves it to us: evhttp_send_reply_end frees a
     * detached request. Otherwise (evhttp_free, or our own close) the
     * request is still attached and goes with the connection. */
    struct status_server_stream *st = s->ss_streams;
    while (st != NULL) {
        struct status_server_stream *next = st->st_next;
        if (st->st_conn == evcon) {
            struct evhttp_request *req = st->st_req;
            status_server_stream_free(st);
            if (evhttp_request_get_connection(req) == NULL)
                evhttp_send_reply_end(req);
        }
        st = next;
    }
}

/* Closes an adopted connection now (its close callback frees the slot and
 * whatever is streamed on it). */
static void status_server_conn_close(struct status_server_conn *c)
{
    struct evhttp_connection *evcon = c->sc_evcon;
    evhttp_connection_free(evcon);
    if (c->sc_evcon == evcon) /* evhttp always calls it; never leave a dangling slot */
        status_server_conn_release(c);
}

/* A connection being answered: has its client read anything since the
 * last look? "A client that stops reading for ssl_timeout_s is dropped"
 * (docs/operations.md), and one that reads, however slowly, is not.
 *
 * A bufferevent write timeout cannot tell them apart: libevent re-arms it
 * only when it writes to the socket, and the kernel reports the socket
 * writable only once a third of its send buffer is free again; that
 * buffer grows (autotuning) to several MB, so a client reading a large
 * document steadily at 64 KiB/s waited more than the timeout between two
 * writes and was dropped (at about 3.6 MB into a 5.6 MB /status). Two
 * ways out were weighed. Capping SO_SNDBUF (say at 256 KiB) makes the
 * socket writable after small drains, but caps every client's throughput
 * at buffer / round-trip time: 256 KiB at 50 ms is about 5 MB/s, so a
 * 50 MB /metrics of 10,000 subscriptions takes 10 s, Prometheus' default
 * scrape timeout; and a client draining less than a third of the cap in
 * the timeout (about 17 KiB/s at 256 KiB) would still be dropped while
 * reading. So instead the status server looks itself, every
 * STATUS_SERVER_PROGRESS_CHECK_MS, at the client's progress. Over TCP
 * (plain and TLS) that is the count of bytes the client's kernel has
 * acknowledged (TCP_INFO), which grows as the client reads; on a unix
 * socket, the kernel's queue (SIOCOUTQ) changing. Either way the daemon's
 * own queue shrinking (the bufferevent's output, before the kernel) or
 * both queues being empty (nothing waits on the client: a request whose
 * password is being checked, or an answer handed over whole) count too.
 * (The kernel's queue alone misled: at two looks it can hold as many
 * bytes while the client reads, acknowledged ones replaced by new ones;
 * with small buffers a steady reader was dropped.) A look that comes late
 * because the loop was held up starts the wait again: a stall of the
 * daemon is not the client's. No progress for ssl_timeout_s closes the connection: within the
 * timeout and one check interval of the client's last read. The daemon's
 * memory for it (its slices, at most about 1.25 MiB) goes with it. What
 * the kernel sees is what counts: the client's kernel announces freed
 * receive space a segment at a time (about 1.4 KiB on Ethernet, 64 KiB on
 * loopback), so a reader that frees less than a segment in the timeout
 * looks stopped (below about 13 KiB/s over loopback: measured, a TLS
 * reader at 8 KiB/s was dropped, at 32 KiB/s kept). */
static void status_server_conn_watch(struct status_server_conn *c)
{
    struct status_server *s = c->sc_server;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(c->sc_evcon);
    uint64_t now = clock_mono_ms();
    int unsent = 0;
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd < 0 || ioctl(fd, SIOCOUTQ, &unsent) != 0 || unsent < 0)
        unsent = 0; /* the daemon's queue alone tells then */
    size_t queued = evbuffer_get_length(bufferevent_get_output(bev));
    uint64_t acked = c->sc_acked;
    bool tcp = status_server_conn_acked(c, &acked);
    /* Over TCP the acknowledged count is the client's progress: the kernel's
     * queue alone can look the same at two looks while the client reads
     * (acknowledged bytes replaced by as many new ones from the daemon). */
    if ((tcp ? acked != c->sc_acked : (size_t)unsent != c->sc_unsent) || queued < c->sc_queued ||
        (unsent == 0 && queued == 0))
        c->sc_progress_ms = now;
    /* A look that comes late (the loop itself was held up: a stall, a
     * suspended process) cannot tell what the client did meanwhile: the
     * stall is not the client's fault, so the wait starts again. */
    if (now - c->sc_check_ms > 2 * STATUS_SERVER_PROGRESS_CHECK_MS)
        c->sc_progress_ms = now;
    c->sc_check_ms = now;
    c->sc_unsent = (size_t)unsent;
    c->sc_queued = queued;
    c->sc_acked = acked;
    if (now - c->sc_progress_ms >= (uint64_t)s->ss_limits.ssl_timeout_s * 1000) {
        status_server_conn_close(c);
        return;
    }
    deadline_arm(&c->sc_deadline, STATUS_SERVER_PROGRESS_CHECK_MS);
}

/* Waiting: the request did not arrive whole in time, however steadily it
 * came. Answering: time to look at the client's progress. */
static void status_server_conn_expired(void *arg)
{
    struct status_server_conn *c = arg;
    if (c->sc_answering)
        status_server_conn_watch(c);
    else
        status_server_conn_close(c);
}

/* The response has been sent (evhttp's on-complete callback): a kept-alive
 * connection now waits for its next request. */
static void status_server_request_done(struct evhttp_request *req, void *arg)
{
    struct status_server_conn *c = arg;
    if (c->sc_evcon != NULL && c->sc_evcon == evhttp_request_get_connection(req))
        status_server_conn_phase(c, false);
}

/* The connection evhttp made of a pending bufferevent, NULL when evhttp
 * gave up on it during the accept: evhttp runs every incoming
 * connection's bufferevent with the connection as callback argument, and
 * bufferevent_free clears it. */
static struct evhttp_connection *status_server_pending_conn(struct bufferevent *bev)
{
    bufferevent_data_cb rd, wr;
    bufferevent_event_cb ev;
    void *cbarg = NULL;
    bufferevent_getcb(bev, &rd, &wr, &ev, &cbarg);
    struct evhttp_connection *evcon = cbarg;
    if (evcon == NULL || evhttp_connection_get_bufferevent(evcon) != bev)
        return NULL;
    return evcon;
}

/* Runs in the turn of the loop of the accepts that created the pending
 * bufferevents, after the listener's callback. */
static void status_server_adopt(evutil_socket_t fd, short what, void *arg)
{
    struct status_server *s = arg;
    (void)fd;
    (void)what;
    size_t incoming = 0;
    for (size_t i = 0; i < s->ss_n_pending; i++)
        if (status_server_pending_conn(s->ss_pending[i]) != NULL)
            incoming++;
    /* Room within the cap, made by connections that have had their chance
     * to send a request; else room in the reserve, made by those answered
     * past their grace. */
    uint64_t now = clock_mono_ms();
    struct status_server_conn *victim;
    while (s->ss_n_conns + incoming > s->ss_limits.ssl_max_connections &&
           (victim = status_server_conn_victim(s, now, false)) != NULL)
        status_server_conn_close(victim);
    while (s->ss_n_conns + incoming > s->ss_n_slots &&
           (victim = status_server_conn_victim(s, now, true)) != NULL)
        status_server_conn_close(victim);
    size_t slot = 0;
    for (size_t i = 0; i < s->ss_n_pending; i++) {
        struct bufferevent *bev = s->ss_pending[i];
        struct evhttp_connection *evcon = status_server_pending_conn(bev);
        bufferevent_decref(bev);
        if (evcon == NULL)
            continue;
        while (slot < s->ss_n_slots && s->ss_conns[slot].sc_evcon != NULL)
            slot++;
        if (slot == s->ss_n_slots) {
            /* Never while connections answered past their grace only close
             * or wait again (a kept-alive one whose next request came in
             * meanwhile would not yield): turned away. */
            evhttp_connection_free(evcon);
            continue;
        }
        struct status_server_conn *c = &s->ss_conns[slot];
        c->sc_evcon = evcon;
        s->ss_n_conns++;
        evhttp_connection_set_closecb(evcon, status_server_conn_closed, c);
        status_server_conn_phase(c, false);
    }
    s->ss_n_pending = 0;
    status_server_accept_update(s);
}

/* evhttp asks for each accepted connection's bufferevent here: the one
 * place every connection passes through, so the one place to count. */
static struct bufferevent *status_server_new_bev(struct event_base *base, void *arg)
{
    struct status_server *s = arg;
    struct bufferevent *bev = s->ss_tls != NULL
                                  ? status_tls_bufferevent(s->ss_tls, base)
                                  : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        return NULL;
    bufferevent_set_max_single_write(bev, STATUS_SERVER_MAX_SINGLE_WRITE);
    if (s->ss_n_pending < s->ss_batch) {
        bufferevent_incref(bev);
        s->ss_pending[s->ss_n_pending++] = bev;
        event_active(s->ss_adopt, EV_TIMEOUT, 0);
    }
    /* The rest of the backlog waits for the next turn: what was accepted
     * in this one is polled first. */
    if (s->ss_n_pending >= s->ss_quota && !s->ss_accept_off &&
        evconnlistener_disable(s->ss_listener) == 0)
        s->ss_accept_off = true;
    return bev;
}

/* Every document is the state of one moment: no cache may keep it. */
static struct evkeyvalq *status_server_headers(struct evhttp_request *req, const char *content_type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    return h;
}

/* Out of memory once the headers are set: a bare 500 instead. */
static void status_server_reply_failed(struct evhttp_request *req, struct evkeyvalq *h)
{
    evhttp_remove_header(h, "Content-Type");
    evhttp_send_reply(req, 500, "Internal Server Error", NULL);
}

static void status_server_reply(struct evhttp_request *req, int code, const char *reason,
                                const char *content_type, const char *body, size_t len)
{
    struct evkeyvalq *h = status_server_headers(req, content_type);
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        /* evhttp would send a HEAD response's body: give none, but say how
         * long the GET's would be. */
        char cl[32];
        snprintf(cl, sizeof(cl), "%zu", len);
        evhttp_add_header(h, "Content-Length", cl);
        evhttp_send_reply(req, code, reason, NULL);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (b == NULL || evbuffer_add(b, body, len) != 0) {
        if (b != NULL)
            evbuffer_free(b);
        status_server_reply_failed(req, h);
        return;
    }
    evhttp_send_reply(req, code, reason, b);
    evbuffer_free(b);
}

/* A buffer of `cap` bytes about to be handed to libevent; NULL when out of
 * memory. */
static struct status_server_body *status_server_body_new(struct status_server *s, size_t cap)
{
    struct status_server_body *sb = malloc(sizeof(*sb));
    if (sb == NULL)
        return NULL;
    sb->sb_pool = s->ss_pool;
    sb->sb_cap = cap;
    s->ss_pool->sp_refs++;
    return sb;
}

/* One that libevent was never given (NULL does nothing). */
static void status_server_body_drop(struct status_server_body *sb)
{
    if (sb == NULL)
        return;
    status_server_pool_unref(sb->sb_pool);
    free(sb);
}

static void status_server_free_body(const void *data, size_t len, void *arg)
{
    (void)len;
    struct status_server_body *b = arg;
    status_server_pool_put(b->sb_pool, (char *)data, b->sb_cap);
    status_server_pool_unref(b->sb_pool);
    free(b);
}

/* A large document is handed to libevent by reference (no copy of tens of
 * megabytes); `body` (`cap` bytes allocated) goes back to the pool once
 * sent, or is freed here on failure. */
static void status_server_reply_owned(struct status_server *s, struct evhttp_request *req, int code,
                                      const char *reason, const char *content_type, char *body,
                                      size_t len, size_t cap)
{
    struct evkeyvalq *h = status_server_headers(req, content_type);
    struct evbuffer *b = evbuffer_new();
    struct status_server_body *sb = status_server_body_new(s, cap);
    if (b == NULL || sb == NULL ||
        evbuffer_add_reference(b, body, len, status_server_free_body, sb) != 0) {
        if (b != NULL)
            evbuffer_free(b);
        status_server_body_drop(sb);
        free(body);
        status_server_reply_failed(req, h);
        return;
    }
    evhttp_send_reply(req, code, reason, b);
    evbuffer_free(b);
}

static void status_server_reply_text(struct evhttp_request *req, int code, const char *reason,
                                     const char *text)
{
    status_server_reply(req, code, reason, "text/plain; charset=utf-8", text, strlen(text));
}

static void status_server_reply_writer(struct status_server *s, struct evhttp_request *req,
                                       int code, const char *reason, const char *content_type)
{
    if (json_writer_failed(&s->ss_out)) {
        status_server_reply_text(req, 500, "Internal Server Error", "out of memory\n");
        return;
    }
    size_t len;
    const char *text = json_writer_text(&s->ss_out, &len);
    if (len < STATUS_SERVER_HANDOVER_MIN || evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        status_server_reply(req, code, reason, content_type, text, len);
        return;
    }
    size_t cap = json_writer_capacity(&s->ss_out);
    char *owned = json_writer_detach(&s->ss_out, &len);
    status_server_reply_owned(s, req, code, reason, content_type, owned, len, cap);
}

enum status_server_route_id {
    STATUS_SERVER_ROUTE_NONE = 0,
    STATUS_SERVER_ROUTE_STATUS,
    STATUS_SERVER_ROUTE_ONE,
    STATUS_SERVER_ROUTE_METRICS,
    STATUS_SERVER_ROUTE_HEALTHZ,
    STATUS_SERVER_ROUTE_READYZ,
    STATUS_SERVER_ROUTE_PAGE,
    STATUS_SERVER_ROUTE_VIOLATIONS, /* /status/NAME/violations */
    STATUS_SERVER_ROUTE_EVENTS,     /* /status/NAME/events */
    STATUS_SERVER_ROUTE_EVIDENCE,   /* /evidence/FILE */
};

/* `*name` is malloc'ed and the caller's to free: for
 * STATUS_SERVER_ROUTE_ONE, _VIOLATIONS and _EVENTS the subscription,
 * percent-decoded; for _EVIDENCE the raw file segment, not decoded. */
static enum status_server_route_id status_server_route(const char *path, char **name)
{
    static const char one_prefix[] = "/status/";
    *name = NULL;
    if (path == NULL)
        return STATUS_SERVER_ROUTE_NONE;
    if (strcmp(path, "/") == 0)
        return STATUS_SERVER_ROUTE_PAGE;
    if (strcmp(path, "/status") == 0)
        return STATUS_SERVER_ROUTE_STATUS;
    if (strcmp(path, "/metrics") == 0)
        return STATUS_SERVER_ROUTE_METRICS;
    if (strcmp(path, "/healthz") == 0)
        return STATUS_SERVER_ROUTE_HEALTHZ;
    if (strcmp(path, "/readyz") == 0)
        return STATUS_SERVER_ROUTE_READYZ;
    if (strncmp(path, "/evidence/", 10) == 0) {
        /* The raw segment: status_evidence_serve judges it. */
        *name = strdup(path + 10);
        return *name != NULL ? STATUS_SERVER_ROUTE_EVIDENCE : STATUS_SERVER_ROUTE_NONE;
    }
    if (strncmp(path, one_prefix, sizeof(one_prefix) - 1) != 0)
        return STATUS_SERVER_ROUTE_NONE;
    const char *rest = path + sizeof(one_prefix) - 1;
    enum status_server_route_id route = STATUS_SERVER_ROUTE_ONE;
    const char *slash = strchr(rest, '/');
    if (slash != NULL) {
        if (strcmp(slash, "/violations") == 0)
            route = STATUS_SERVER_ROUTE_VIOLATIONS;
        else if (strcmp(slash, "/events") == 0)
            route = STATUS_SERVER_ROUTE_EVENTS;
        else
            return STATUS_SERVER_ROUTE_NONE;
    }
    size_t rest_len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    if (rest_len == 0)
        return STATUS_SERVER_ROUTE_NONE;
    char *raw = strndup(rest, rest_len);
    if (raw == NULL)
        return STATUS_SERVER_ROUTE_NONE;
    size_t len = 0;
    char *decoded = evhttp_uridecode(raw, 0, &len);
    free(raw);
    if (decoded == NULL)
        return STATUS_SERVER_ROUTE_NONE;
    /* Subscription names are [A-Za-z0-9_.-]+: anything else names none, and
     * is not echoed back. */
    if (!subscription_name_chars_ok(decoded, len)) {
        free(decoded);
        return STATUS_SERVER_ROUTE_NONE;
    }
    *name = decoded;
    return route;
}

/* The running monitor of that name; NULL when none (or disabled). */
static const struct monitor *status_server_monitor(const struct status_view *v, const char *name)
{
    for (size_t i = 0; i < v->sv_n_monitors; i++)
        if (strcmp(monitor_name(v->sv_monitors[i]), name) == 0)
            return v->sv_monitors[i];
    return NULL;
}

static bool status_server_has(const struct status_view *v, const char *name)
{
    for (size_t i = 0; i < v->sv_n_monitors; i++)
        if (strcmp(monitor_name(v->sv_monitors[i]), name) == 0)
            return true;
    for (size_t i = 0; i < v->sv_n_disabled; i++)
        if (strcmp(v->sv_disabled[i].sd_name, name) == 0)
            return true;
    return false;
}

static void status_server_readyz(struct status_server *s, struct evhttp_request *req,
                                 const struct status_view *v, uint64_t now_mono_ms)
{
    struct json_writer *w = &s->ss_out;
    bool ready = true;
    for (size_t i = 0; i < v->sv_n_monitors; i++) {
        const struct monitor *m = v->sv_monitors[i];
        if (monitor_healthy(m, now_mono_ms))
            continue;
        ready = false;
        const char *name = monitor_name(m);
        json_writer_append(w, name, strlen(name));
        json_writer_append(w, "\n", 1);
    }
    /* A probe whose last run failed: a path through the system is broken. */
    for (size_t i = 0; i < v->sv_n_probes; i++) {
        const struct status_probe *p = &v->sv_probes[i];
        if (!status_render_probe_failing(p))
            continue;
        ready = false;
        json_writer_append(w, "probe ", 6);
        json_writer_append(w, p->sp_name, strlen(p->sp_name));
        json_writer_append(w, "\n", 1);
    }
    if (ready) {
        status_server_reply_text(req, 200, "OK", "ok\n");
        return;
    }
    status_server_reply_writer(s, req, 503, "Service Unavailable", "text/plain; charset=utf-8");
}

/* The response can no longer be completed (the daemon reloaded, or memory
 * ran out): the connection is dropped mid-body, so the client sees a
 * truncated transfer and fails the scrape rather than taking part of a
 * document for the whole. */
static void status_server_stream_abort(struct status_server_stream *st)
{
    struct evhttp_connection *evcon = st->st_conn;
    status_server_stream_free(st);
    evhttp_connection_free(evcon);
}

static struct evbuffer *status_server_stream_output(const struct status_server_stream *st)
{
    return bufferevent_get_output(evhttp_connection_get_bufferevent(st->st_conn));
}

/* The next pass, in the loop's next turn: after the loop has polled its
 * sockets (event_active would run it again in this turn, before any I/O). */
static void status_server_stream_schedule(struct status_server_stream *st)
{
    static const struct timeval now = {0, 0};
    event_add(st->st_slice, &now);
}

/* The queue to the client has drained (evhttp's write callback, run by the
 * bufferevent once its output is empty): time for the next pass. Passes
 * are scheduled here only, never ahead of it: over TLS, libevent 2.1's
 * bufferevent_openssl runs the write callback deferred (its do_write calls
 * bufferevent_trigger_nolock_ with BEV_OPT_DEFER_CALLBACKS), the deferred
 * run (bufferevent_run_deferred_callbacks_locked) does not look at the
 * queue again, and evhttp's evhttp_write_cb calls whatever completion the
 * connection has by then. A callback left pending by an earlier drain (the
 * headers') that runs after a pass queued the last chunk and
 * evhttp_send_reply_end would finish the response with the body still
 * queued: evhttp_send_done goes back to reading (evhttp_start_read_
 * disables EV_WRITE) and the rest is never written. So the body is only
 * queued where no write callback can be pending: the first slice with the
 * headers, in the request's handler, and the others in passes scheduled
 * here (once this callback has run, nothing is written until the pass
 * queues more). Plain sockets run it at once; the rule costs them nothing. */
static void status_server_stream_written(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    status_server_stream_schedule(arg);
}

enum status_server_slice_result {
    STATUS_SERVER_SLICE_MORE = 0,
    STATUS_SERVER_SLICE_DONE,    /* the response is complete; the stream is freed */
    STATUS_SERVER_SLICE_ABORTED, /* the connection is dropped; the stream is freed */
};

/* Renders the next slice into `b` (a reference to a pooled buffer, back to
 * the pool once sent), `*done` once the document is complete. False when
 * memory ran out (nothing added). */
static bool status_server_stream_render(struct status_server_stream *st, struct evbuffer *b,
                                        bool *done)
{
    struct status_server *s = st->st_server;
    struct json_writer w;
    json_writer_init(&w);
    /* The writer rounds its buffer up to a power of two: asking for one
     * byte less than STATUS_SERVER_SLICE_BUFFER (it adds the NUL) gets
     * exactly that, reused from the pool when one was sent before. */
    status_server_pool_take(s->ss_pool, &w, STATUS_SERVER_SLICE_BUFFER, STATUS_SERVER_SLICE_BUFFER);
    json_writer_reserve(&w, STATUS_SERVER_SLICE_BUFFER - 1);
    *done = st->st_metrics != NULL
                ? status_render_metrics_next(st->st_metrics, &w, STATUS_SERVER_SLICE_BYTES)
                : status_render_json_next(st->st_json, &w, STATUS_SERVER_SLICE_BYTES);
    struct status_server_body *sb = status_server_body_new(s, json_writer_capacity(&w));
    if (json_writer_failed(&w) || sb == NULL) {
        json_writer_free(&w);
        status_server_body_drop(sb);
        return false;
    }
    size_t len = 0;
    char *text = json_writer_detach(&w, &len);
    if (len == 0 || evbuffer_add_reference(b, text, len, status_server_free_body, sb) != 0) {
        status_server_free_body(text, len, sb);
        if (len > 0)
            return false;
    }
    return true;
}

/* Queues a rendered slice as a chunk (none when empty), and ends the
 * response after the last. Consumes `b`. */
static enum status_server_slice_result status_server_stream_queue(struct status_server_stream *st,
                                                                  struct evbuffer *b, bool done)
{
    struct evhttp_request *req = st->st_req;
    if (evbuffer_get_length(b) > 0)
        evhttp_send_reply_chunk_with_cb(req, b, status_server_stream_written, st);
    evbuffer_free(b);
    if (!done)
        return STATUS_SERVER_SLICE_MORE;
    status_server_stream_free(st);
    evhttp_send_reply_end(req);
    return STATUS_SERVER_SLICE_DONE;
}

/* Renders one slice and queues it as a chunk. */
static enum status_server_slice_result
status_server_stream_send_slice(struct status_server_stream *st)
{
    struct evbuffer *b = evbuffer_new();
    bool done = false;
    if (b == NULL || !status_server_stream_render(st, b, &done)) {
        if (b != NULL)
            evbuffer_free(b);
        status_server_stream_abort(st);
        return STATUS_SERVER_SLICE_ABORTED;
    }
    return status_server_stream_queue(st, b, done);
}

/* One pass: slices until STATUS_SERVER_STREAM_AHEAD is queued for the
 * client (about a millisecond of rendering), then back to the loop. The
 * next pass comes once that queue has drained
 * (status_server_stream_written); the kernel's socket buffer keeps the
 * client busy meanwhile. */
static void status_server_stream_pass(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct status_server_stream *st = arg;
    struct status_server *s = st->st_server;
    if (evbuffer_get_length(status_server_stream_output(st)) >= STATUS_SERVER_STREAM_AHEAD)
        return; /* status_server_stream_written schedules the next pass */
    struct status_view v;
    memset(&v, 0, sizeof(v));
    s->ss_view(s->ss_ctx, &v);
    if (v.sv_generation != st->st_generation) {
        status_server_stream_abort(st);
        return;
    }
    do {
        if (status_server_stream_send_slice(st) != STATUS_SERVER_SLICE_MORE)
            return;
    } while (evbuffer_get_length(status_server_stream_output(st)) < STATUS_SERVER_STREAM_AHEAD);
}

/* GET /status or /metrics: the headers and the first slice now, the rest
 * in passes from the loop. Returns false when it cannot stream (the caller
 * renders the whole document). */
static bool status_server_stream_start(struct status_server *s, struct evhttp_request *req,
                                       enum status_server_route_id route,
                                       const struct status_view *v, uint64_t now_mono)
{
    /* HTTP/1.0 has no chunked encoding: it gets the whole document (ended
     * by the close, or by its Content-Length on a keep-alive connection).
     * Streamed, evhttp 2.1 would announce a keep-alive response of length
     * 0. (req->major/minor: 2.1 has no accessor for the version.) */
    if (req->major != 1 || req->minor < 1)
        return false;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon == NULL || status_server_conn_of(s, evcon) == NULL)
        return false;
    struct status_server_stream *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return false;
    st->st_server = s;
    st->st_req = req;
    st->st_conn = evcon;
    st->st_generation = v->sv_generation;
    if (route == STATUS_SERVER_ROUTE_METRICS)
        st->st_metrics = status_render_metrics_begin(v, now_mono);
    else
        st->st_json = status_render_json_begin(v, now_mono);
    st->st_slice = event_new(s->ss_base, -1, 0, status_server_stream_pass, st);
    struct evbuffer *b = evbuffer_new();
    bool done = false;
    /* The first slice is rendered before anything is sent, so a failure
     * still leaves the whole document to the caller. */
    if ((st->st_metrics == NULL && st->st_json == NULL) || st->st_slice == NULL || b == NULL ||
        !status_server_stream_render(st, b, &done)) {
        if (b != NULL)
            evbuffer_free(b);
        status_server_stream_free(st); /* not listed yet: only freed */
        return false;
    }
    st->st_next = s->ss_streams;
    s->ss_streams = st;
    status_server_headers(req, route == STATUS_SERVER_ROUTE_METRICS ? STATUS_SERVER_METRICS_TYPE
                                                                    : "application/json");
    evhttp_send_reply_start(req, 200, "OK");
    /* Not the end: a slice short of the end is never empty, so its
     * chunk's drain schedules the next pass. */
    status_server_stream_queue(st, b, done);
    return true;
}

/* Room for a document of about `size` bytes: a kept buffer if one is
 * large enough (the writer has none after handing its last one over). */
static void status_server_prepare(struct status_server *s, size_t size)
{
    if (json_writer_capacity(&s->ss_out) <= size)
        status_server_pool_take(s->ss_pool, &s->ss_out, size + 1, SIZE_MAX);
    json_writer_reserve(&s->ss_out, size);
}

/* `admitted`: basic authentication has admitted the request already (its
 * check ran off the loop; io/status_auth). */
static void status_server_serve(struct status_server *s, struct evhttp_request *req, bool admitted);

static void status_server_admitted(void *arg, struct evhttp_request *req)
{
    status_server_serve(arg, req, true);
}

static void status_server_handle(struct evhttp_request *req, void *arg)
{
    status_server_serve(arg, req, false);
}

static void status_server_serve(struct status_server *s, struct evhttp_request *req, bool admitted)
{
    /* The request is in: from here on, evhttp's read timeout would only
     * drop a client that reads a large response steadily but slowly (it is
     * re-armed only when evhttp queues something, not while the queue
     * drains), and so would its write timeout (status_server_conn_watch
     * says why). The status server's own look at the client's progress
     * drops one that stops reading; the connection's next request is
     * bounded by its deadline (evhttp does not arm its timeouts again). */
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon != NULL) {
        struct status_server_conn *c = status_server_conn_of(s, evcon);
        struct timeval wt = {s->ss_limits.ssl_timeout_s, 0};
        /* A connection that was not adopted (never, in practice) keeps
         * the write timeout: something must drop it. */
        bufferevent_set_timeouts(evhttp_connection_get_bufferevent(evcon), NULL,
                                 c != NULL ? NULL : &wt);
        /* Its deadline is met; the next request's starts once this one is
         * answered, and meanwhile its progress is watched. (Every
         * connection is adopted in the turn of its accept, before its
         * first read.) */
        if (c != NULL) {
            status_server_conn_phase(c, true);
            evhttp_request_set_on_complete_cb(req, status_server_request_done, c);
        }
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    char *name = NULL;
    enum status_server_route_id route =
        status_server_route(uri != NULL ? evhttp_uri_get_path(uri) : NULL, &name);
    /* Deferred only on an adopted connection: its close is seen, and
     * status_auth_forget drops the request then (status_server_conn_closed). */
    if (!admitted && s->ss_auth != NULL &&
        status_auth_admit(s->ss_auth, req,
                          route == STATUS_SERVER_ROUTE_HEALTHZ ||
                              route == STATUS_SERVER_ROUTE_READYZ,
                          clock_mono_ms(),
                          status_server_conn_of(s, evcon) != NULL ? status_server_admitted : NULL,
                          s) != STATUS_AUTH_ADMIT) {
        free(name);
        return;
    }
    if (route == STATUS_SERVER_ROUTE_NONE) {
        status_server_reply_text(req, 404, "Not Found", "not found\n");
        return;
    }
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        free(name);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        status_server_reply_text(req, 405, "Method Not Allowed", "method not allowed\n");
        return;
    }
    if (route == STATUS_SERVER_ROUTE_HEALTHZ) {
        status_server_reply_text(req, 200, "OK", "ok\n");
        return;
    }

    struct status_view v;
    memset(&v, 0, sizeof(v));
    s->ss_view(s->ss_ctx, &v);
    if (s->ss_auth != NULL)
        v.sv_auth = status_auth_counts(s->ss_auth);
    uint64_t now_mono = clock_mono_ms();
    json_writer_reset(&s->ss_out);
    switch (route) {
    case STATUS_SERVER_ROUTE_STATUS:
        if (cmd == EVHTTP_REQ_GET && status_server_stream_start(s, req, route, &v, now_mono))
            break;
        status_server_prepare(s, s->ss_last_status + s->ss_last_status / 8);
        status_render_json(&v, NULL, now_mono, &s->ss_out);
        s->ss_last_status = json_writer_text_len(&s->ss_out);
        status_server_reply_writer(s, req, 200, "OK", "application/json");
        break;
    case STATUS_SERVER_ROUTE_VIOLATIONS:
    case STATUS_SERVER_ROUTE_EVENTS:
    case STATUS_SERVER_ROUTE_ONE:
        if (!status_server_has(&v, name)) {
            json_writer_object_begin(&s->ss_out);
            json_writer_key(&s->ss_out, "error");
            json_writer_cstring(&s->ss_out, "no such subscription");
            json_writer_key(&s->ss_out, "name");
            json_writer_cstring(&s->ss_out, name);
            json_writer_object_end(&s->ss_out);
            status_server_reply_writer(s, req, 404, "Not Found", "application/json");
            break;
        }
        if (route == STATUS_SERVER_ROUTE_VIOLATIONS)
            status_evidence_violations(status_server_monitor(&v, name), &s->ss_out);
        else if (route == STATUS_SERVER_ROUTE_EVENTS)
            status_evidence_events(name, status_server_monitor(&v, name), &s->ss_out);
        else
            status_render_json(&v, name, now_mono, &s->ss_out);
        status_server_reply_writer(s, req, 200, "OK", "application/json");
        break;
    case STATUS_SERVER_ROUTE_METRICS:
        if (cmd == EVHTTP_REQ_GET && status_server_stream_start(s, req, route, &v, now_mono))
            break;
        status_server_prepare(s, s->ss_last_metrics + s->ss_last_metrics / 8);
        status_render_metrics(&v, now_mono, &s->ss_out);
        s->ss_last_metrics = json_writer_text_len(&s->ss_out);
        status_server_reply_writer(s, req, 200, "OK", STATUS_SERVER_METRICS_TYPE);
        break;
    case STATUS_SERVER_ROUTE_READYZ:
        status_server_readyz(s, req, &v, now_mono);
        break;
    case STATUS_SERVER_ROUTE_PAGE:
        status_page_render(&v, status_page_refresh(evhttp_uri_get_query(uri)), now_mono,
                           clock_wall_ms(), &s->ss_out);
        status_server_reply_writer(s, req, 200, "OK", "text/html; charset=utf-8");
        break;
    case STATUS_SERVER_ROUTE_EVIDENCE:
        status_evidence_serve(v.sv_evidence, name, req);
        break;
    default:
        status_server_reply_text(req, 404, "Not Found", "not found\n");
        break;
    }
    free(name);
}

/* A TCP listen address (core/listen_addr) as a socket address. */
static bool status_server_parse_tcp(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
    struct listen_addr la;
    if (!listen_addr_parse(listen, &la) || la.la_kind == LISTEN_ADDR_UNIX)
        return false;
    memset(ss, 0, sizeof(*ss));
    if (la.la_kind == LISTEN_ADDR_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)la.la_port);
        *len = sizeof(*sin);
        return inet_pton(AF_INET, la.la_host, &sin->sin_addr) == 1;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)la.la_port);
    *len = sizeof(*sin6);
    return inet_pton(AF_INET6, la.la_host, &sin6->sin6_addr) == 1;
}

static struct evconnlistener *status_server_listen_tcp(struct status_server *s, const char *listen,
                                                       char *err, size_t err_size)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (!status_server_parse_tcp(listen, &ss, &len)) {
        snprintf(err, err_size,
                 "listen address \"%s\": expected IPV4:PORT, [IPV6]:PORT or an absolute unix "
                 "socket path",
                 listen);
        return NULL;
    }
    struct evconnlistener *lev = evconnlistener_new_bind(
        s->ss_base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
        STATUS_SERVER_LISTEN_BACKLOG, (struct sockaddr *)&ss, (int)len);
    if (lev == NULL) {
        snprintf(err, err_size, "cannot listen on %s: %s", listen, strerror(errno));
        return NULL;
    }
    /* A connection is handed over once its client has sent something: one
     * that says nothing stays in the kernel (which gives up on it, or hands
     * it over after about this long) and takes no place of the cap. Where
     * the option is missing, such a connection is only one more to evict. */
    int defer_s = s->ss_limits.ssl_request_deadline_s;
    (void)setsockopt(evconnlistener_get_fd(lev), IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s,
                     sizeof(defer_s));
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&bound, &blen) == 0) {
        if (bound.ss_family == AF_INET)
            s->ss_port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
        else if (bound.ss_family == AF_INET6)
            s->ss_port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    }
    return lev;
}

/* A socket file nobody accepts on is what a killed daemon leaves behind;
 * one that accepts belongs to a running process and must not be stolen. */
static int status_server_clear_stale(const char *path, char *err, size_t err_size)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, err_size, "%s exists and is not a socket", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_size, "socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    int saved = errno;
    close(fd);
    if (rc == 0 || saved == EAGAIN || saved == EINPROGRESS) {
        snprintf(err, err_size, "%s is in use by a running process", path);
        return -1;
    }
    if (saved != ECONNREFUSED && saved != ENOENT) {
        snprintf(err, err_size, "%s: %s", path, strerror(saved));
        return -1;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, err_size, "cannot remove stale socket %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static struct evconnlistener *status_server_listen_unix(struct status_server *s, const char *path,
                                                        char *err, size_t err_size)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, err_size, "unix socket path too long (at most %zu bytes): %s",
                 sizeof(sa.sun_path) - 1, path);
        return NULL;
    }
    if (status_server_clear_stale(path, err, err_size) != 0)
        return NULL;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_size, "socket: %s", strerror(errno));
        return NULL;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(err, err_size, "cannot bind %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    s->ss_unix_path = strdup(path);
    /* Until the mode is set, the umask decides who may connect: listen()
     * (in evconnlistener_new) only comes after. */
    if (s->ss_unix_path == NULL || chmod(path, 0660) != 0) {
        snprintf(err, err_size, "cannot set the mode of %s: %s", path,
                 s->ss_unix_path == NULL ? strerror(ENOMEM) : strerror(errno));
        close(fd);
        return NULL;
    }
    struct evconnlistener *lev =
        evconnlistener_new(s->ss_base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                           STATUS_SERVER_LISTEN_BACKLOG, fd);
    if (lev == NULL) {
        snprintf(err, err_size, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    return lev;
}

struct status_server *status_server_new(struct event_base *base, const char *listen,
                                        const struct status_server_limits *limits,
                                        status_server_view_fn view, void *ctx, char *err,
                                        size_t err_size)
{
    struct status_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    s->ss_base = base;
    s->ss_view = view;
    s->ss_ctx = ctx;
    json_writer_init(&s->ss_out);
    status_server_limits_default(&s->ss_limits);
    if (limits != NULL) {
        if (limits->ssl_max_header_bytes > 0)
            s->ss_limits.ssl_max_header_bytes = limits->ssl_max_header_bytes;
        s->ss_limits.ssl_max_body_bytes = limits->ssl_max_body_bytes;
        if (limits->ssl_timeout_s > 0)
            s->ss_limits.ssl_timeout_s = limits->ssl_timeout_s;
        if (limits->ssl_max_connections > 0)
            s->ss_limits.ssl_max_connections = limits->ssl_max_connections;
        if (limits->ssl_request_deadline_s > 0)
            s->ss_limits.ssl_request_deadline_s = limits->ssl_request_deadline_s;
    }
    s->ss_batch = (s->ss_limits.ssl_max_connections + 1) / 2;
    s->ss_quota = s->ss_batch;
    s->ss_n_slots = s->ss_limits.ssl_max_connections + s->ss_batch;
    s->ss_pending = calloc(s->ss_batch, sizeof(*s->ss_pending));
    s->ss_conns = calloc(s->ss_n_slots, sizeof(*s->ss_conns));
    bool conns_ok =
        s->ss_conns != NULL && deadline_init(&s->ss_room, base, status_server_room, s) == 0;
    for (size_t i = 0; conns_ok && i < s->ss_n_slots; i++) {
        s->ss_conns[i].sc_server = s;
        conns_ok = deadline_init(&s->ss_conns[i].sc_deadline, base, status_server_conn_expired,
                                 &s->ss_conns[i]) == 0;
    }
    s->ss_adopt = event_new(base, -1, 0, status_server_adopt, s);
    s->ss_http = evhttp_new(base);
    s->ss_pool = calloc(1, sizeof(*s->ss_pool));
    if (s->ss_pool != NULL)
        s->ss_pool->sp_refs = 1;
    if (s->ss_pending == NULL || !conns_ok || s->ss_adopt == NULL || s->ss_http == NULL ||
        s->ss_pool == NULL) {
        snprintf(err, err_size, "out of memory");
        status_server_free(s);
        return NULL;
    }
    evhttp_set_max_headers_size(s->ss_http, (ev_ssize_t)s->ss_limits.ssl_max_header_bytes);
    evhttp_set_max_body_size(s->ss_http, (ev_ssize_t)s->ss_limits.ssl_max_body_bytes);
    evhttp_set_timeout(s->ss_http, s->ss_limits.ssl_timeout_s);
    /* Every method evhttp knows reaches our handler, which answers 405 with
     * an Allow header (evhttp's own refusal would not carry one). */
    evhttp_set_allowed_methods(s->ss_http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                               EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                               EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                               EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_bevcb(s->ss_http, status_server_new_bev, s);
    evhttp_set_gencb(s->ss_http, status_server_handle, s);

    struct evconnlistener *lev = listen[0] == '/'
                                     ? status_server_listen_unix(s, listen, err, err_size)
                                     : status_server_listen_tcp(s, listen, err, err_size);
    if (lev == NULL) {
        status_server_free(s);
        return NULL;
    }
    if (evhttp_bind_listener(s->ss_http, lev) == NULL) {
        snprintf(err, err_size, "cannot serve HTTP on %s: out of memory", listen);
        evconnlistener_free(lev);
        status_server_free(s);
        return NULL;
    }
    s->ss_listener = lev;
    return s;
}

void status_server_free(struct status_server *s)
{
    if (s == NULL)
        return;
    /* Every connection's close callback runs here, and frees its slot. */
    s->ss_closing = true;
    if (s->ss_http != NULL)
        evhttp_free(s->ss_http);
    for (size_t i = 0; i < s->ss_n_pending; i++)
        bufferevent_decref(s->ss_pending[i]);
    if (s->ss_adopt != NULL)
        event_free(s->ss_adopt);
    for (size_t i = 0; s->ss_conns != NULL && i < s->ss_n_slots; i++)
        deadline_release(&s->ss_conns[i].sc_deadline);
    deadline_release(&s->ss_room);
    if (s->ss_unix_path != NULL) {
        unlink(s->ss_unix_path);
        free(s->ss_unix_path);
    }
    /* evhttp_free closed every connection, and with them their streams;
     * none is left unless a close went unseen. */
    while (s->ss_streams != NULL)
        status_server_stream_free(s->ss_streams);
    free(s->ss_pending);
    free(s->ss_conns);
    json_writer_free(&s->ss_out);
    if (s->ss_pool != NULL) {
        s->ss_pool->sp_server_gone = true;
        status_server_pool_unref(s->ss_pool);
    }
    free(s);
}

void status_server_set_auth(struct status_server *s, struct status_auth *auth)
{
    status_auth_carry(auth, s->ss_auth); /* a reload continues the counts */
    s->ss_auth = auth;
}

void status_server_set_tls(struct status_server *s, struct status_tls *tls)
{
    s->ss_tls = tls;
}

unsigned status_server_port(const struct status_server *s)
{
    return s->ss_port;
}

unsigned status_server_connections(const struct status_server *s)
{
    return (unsigned)(s->ss_n_conns + s->ss_n_pending);
}
