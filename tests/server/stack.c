/* The built-in 2026 stack: see stack.h and docs/test-server.md. */
#include "stack.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "pyjson.h"
#include "sbuf.h"
#include "scenario.h"

/* Bounds: every input costs bounded memory and time. */
#define STK_MAX_CONNS 4096             /* stack connections of all kinds */
#define STK_MAX_TASKS 256              /* tasks kept (running and finished) */
#define STK_MAX_STEPS 1000             /* demo_task steps */
#define STK_MAX_DELAY_MS 600000        /* task delay, delay_ms switches */
#define STK_MAX_BODY 65536             /* POST body */
#define STK_MAX_QUEUE 1024             /* delayed events waiting on one connection */
#define STK_MAX_HELD 64                /* task_started held back by reorder, per connection */
#define STK_MAX_OUT (4u * 1024 * 1024) /* unsent bytes before a client is dropped */
#define STK_MAX_RID 256                /* request_id length */
#define STK_LINGER_SEC 2

#define GATEWAY_HEAD                                                                               \
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"            \
    "Connection: keep-alive\r\nX-Accel-Buffering: no\r\nAccess-Control-Allow-Origin: *\r\n"        \
    "Transfer-Encoding: chunked\r\n\r\n"
#define FLASK_HEAD                                                                                 \
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"                        \
    "Cache-Control: no-cache\r\nAccess-Control-Allow-Origin: *\r\n"                                \
    "Access-Control-Allow-Headers: Cache-Control\r\nConnection: close\r\n\r\n"
#define VERSION_JSON                                                                               \
    "{\"version\": \"1.4.2\", \"environment\": \"staging\", \"git_commit\": \"3f9c2ab\"}"

enum ev_kind { EK_STARTED, EK_PROGRESS, EK_COMPLETED, EK_FAILED, EK_VERSION, EK_READY, EK_COUNT };
static const char *const ek_names[EK_COUNT] = {"task_started", "progress_update", "task_completed",
                                               "task_failed",  "version",         "ready"};

struct tev {
    enum ev_kind te_kind;
    struct timespec te_ts;
    char *te_data; /* json.dumps of data */
};

struct task {
    struct stk *t_st;
    struct task *t_prev, *t_next; /* oldest first */
    char t_id[37];
    bool t_failing, t_done;
    unsigned t_steps, t_step;
    uint64_t t_delay_ms;
    char *t_error;
    struct tev *t_evs;
    size_t t_nev;
    struct event *t_timer;
};

struct qitem {
    struct qitem *q_next;
    struct timespec q_due;
    enum ev_kind q_kind;
    char *q_task_id; /* NULL for version */
    struct sbuf q_bytes;
};

enum sc_kind { SC_POST, SC_GATEWAY, SC_LEGACY, SC_GWTASK };
enum sc_state {
    SC_BODY,   /* POST: reading the body */
    SC_WAIT,   /* POST: answer delayed (delay_ms) or never sent (hang) */
    SC_LIVE,   /* a stream */
    SC_FLUSH,  /* ending: flushing, then FIN */
    SC_LINGER, /* FIN sent, reading until the client closes */
    SC_DEAD,   /* to be freed by its timer */
};

struct sc {
    struct stk *c_st;
    struct sc *c_prev, *c_next;
    struct bufferevent *c_bev;
    struct event *c_hb;   /* heartbeats */
    struct event *c_qt;   /* delayed events */
    struct event *c_misc; /* linger, delayed answer, deferred free */
    struct req_request *c_req;
    enum sc_kind c_kind;
    enum sc_state c_state;
    bool c_chunked;
    char *c_rid;
    unsigned c_drop; /* bit per ev_kind */
    bool c_offset_ts, c_reorder;
    uint64_t c_delay_ms, c_hb_ms;
    struct qitem *c_q, *c_qtail;
    size_t c_qlen;
    struct qitem *c_held;
    size_t c_nheld;
    struct task *c_task;
    size_t c_body_need;
    unsigned c_status; /* the delayed answer's */
    struct sbuf c_answer;
};

struct stk {
    struct event_base *st_base;
    FILE *st_log;
    bool st_quiet;
    struct sc *st_conns;
    size_t st_nconns;
    struct task *st_tasks, *st_tasks_tail;
    size_t st_ntasks;
    uint64_t st_rng;
    unsigned long st_nreq;
};

static void stk_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void stk_warn(const char *fmt, ...)
{
    va_list ap;

    fputs("sse_testserver: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- helpers ---- */

static uint64_t stk_rand(struct stk *st)
{
    /* xorshift64*, seeded from getrandom() */
    st->st_rng ^= st->st_rng >> 12;
    st->st_rng ^= st->st_rng << 25;
    st->st_rng ^= st->st_rng >> 27;
    return st->st_rng * 0x2545F4914F6CDD1DULL;
}

static void stk_uuid(struct stk *st, char out[37])
{
    uint64_t hi = stk_rand(st), lo = stk_rand(st);

    hi = (hi & ~0xf000ULL) | 0x4000ULL;       /* version 4 */
    lo = (lo & ~(3ULL << 62)) | (2ULL << 62); /* variant 10 */
    snprintf(out, 37, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
             hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & (uint64_t)0xffffffffffff);
}

static void ts_add_ms(struct timespec *ts, uint64_t ms)
{
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static struct timeval tv_ms(uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

    return tv;
}

/* Parses a whole decimal number in [0, max]; -1 when it is not one. */
static int64_t parse_uint(const char *s, uint64_t max)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0' || errno != 0 || v > max)
        return -1;
    return (int64_t)v;
}

/* The decoded query parameter name into out (reset first); false when absent. */
static bool query_get(const struct req_request *rq, const char *name, struct sbuf *out)
{
    sbuf_reset(out);
    return req_query(rq, name, out) == 1 && sbuf_add(out, "", 0) == 0;
}

/* ---- connections: writing, ending, freeing ---- */

static void sc_free(struct sc *c)
{
    struct stk *st = c->c_st;
    struct qitem *q;

    if (c->c_prev != NULL)
        c->c_prev->c_next = c->c_next;
    else
        st->st_conns = c->c_next;
    if (c->c_next != NULL)
        c->c_next->c_prev = c->c_prev;
    st->st_nconns--;
    while ((q = c->c_q) != NULL || (q = c->c_held) != NULL) {
        if (q == c->c_q)
            c->c_q = q->q_next;
        else
            c->c_held = q->q_next;
        free(q->q_task_id);
        sbuf_free(&q->q_bytes);
        free(q);
    }
    if (c->c_hb != NULL)
        event_free(c->c_hb);
    if (c->c_qt != NULL)
        event_free(c->c_qt);
    if (c->c_misc != NULL)
        event_free(c->c_misc);
    bufferevent_free(c->c_bev);
    req_free(c->c_req);
    free(c->c_rid);
    sbuf_free(&c->c_answer);
    free(c);
}

/* Frees the connection from its own timer, so a loop over the connections
 * (a broadcast) never sees one vanish under it. */
static void sc_kill(struct sc *c)
{
    struct timeval zero = {0, 0};

    if (c->c_state == SC_DEAD)
        return;
    c->c_state = SC_DEAD;
    bufferevent_disable(c->c_bev, EV_READ | EV_WRITE);
    event_del(c->c_hb);
    event_del(c->c_qt);
    event_del(c->c_misc);
    evtimer_add(c->c_misc, &zero);
}

static void sc_linger(struct sc *c)
{
    struct timeval tv = {STK_LINGER_SEC, 0};

    c->c_state = SC_LINGER;
    bufferevent_disable(c->c_bev, EV_WRITE);
    if (shutdown(bufferevent_getfd(c->c_bev), SHUT_WR) != 0) {
        sc_kill(c);
        return;
    }
    event_del(c->c_misc);
    evtimer_add(c->c_misc, &tv);
}

/* Writes bytes as they are (no chunk framing), straight to the socket when
 * nothing is queued. On failure the connection is killed; returns -1. */
static int sc_raw(struct sc *c, const char *data, size_t len)
{
    struct evbuffer *out = bufferevent_get_output(c->c_bev);
    ssize_t n = 0;

    if (c->c_state == SC_DEAD || c->c_state == SC_LINGER)
        return -1;
    if (evbuffer_get_length(out) == 0) {
        n = send(bufferevent_getfd(c->c_bev), data, len, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            sc_kill(c);
            return -1;
        }
        if (n < 0)
            n = 0;
    }
    if ((size_t)n < len && bufferevent_write(c->c_bev, data + n, len - (size_t)n) != 0) {
        sc_kill(c);
        return -1;
    }
    if (evbuffer_get_length(out) > STK_MAX_OUT) {
        stk_warn("stack: a client does not read, dropped");
        sc_kill(c);
        return -1;
    }
    return 0;
}

/* One write of the body: a chunk when the response is chunked. */
static int sc_body(struct sc *c, const char *data, size_t len)
{
    struct sbuf chunk = SBUF_INIT;
    int rc;

    if (!c->c_chunked || len == 0)
        return len == 0 ? 0 : sc_raw(c, data, len);
    if (sbuf_addf(&chunk, "%zx\r\n", len) != 0 || sbuf_add(&chunk, data, len) != 0 ||
        sbuf_adds(&chunk, "\r\n") != 0) {
        sbuf_free(&chunk);
        sc_kill(c);
        return -1;
    }
    rc = sc_raw(c, chunk.sb_data, chunk.sb_len);
    sbuf_free(&chunk);
    return rc;
}

static const char *sc_stream_name(const struct sc *c)
{
    switch (c->c_kind) {
    case SC_GATEWAY:
        return "gateway";
    case SC_LEGACY:
        return "legacy";
    case SC_GWTASK:
        return "gateway-task";
    default:
        return "post";
    }
}

static void log_str(struct sbuf *line, const char *s)
{
    if (s == NULL)
        sbuf_adds(line, "null");
    else
        req_json_string(line, s, strlen(s));
}

/* Writes one event (bytes already framed) and, with --log, one line saying
 * when it was handed to the socket. */
static int sc_event(struct sc *c, const char *data, size_t len, const char *event,
                    const char *event_type, const char *task_id)
{
    struct stk *st = c->c_st;
    struct timespec now;
    struct sbuf line = SBUF_INIT;
    int rc;

    clock_gettime(CLOCK_REALTIME, &now);
    rc = sc_body(c, data, len);
    if (rc != 0 || st->st_log == NULL)
        return rc;
    sbuf_addf(&line, "{\"t_us\": %" PRId64 ", \"stream\": \"%s\", \"request_id\": ",
              (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, sc_stream_name(c));
    log_str(&line, c->c_rid);
    sbuf_adds(&line, ", \"event\": ");
    log_str(&line, event);
    sbuf_adds(&line, ", \"event_type\": ");
    log_str(&line, event_type);
    sbuf_adds(&line, ", \"task_id\": ");
    log_str(&line, task_id);
    if (sbuf_adds(&line, "}\n") == 0)
        fwrite(line.sb_data, 1, line.sb_len, st->st_log);
    fflush(st->st_log);
    sbuf_free(&line);
    return 0;
}

/* Graceful end: the last chunk, flush, FIN, linger. */
static void sc_end(struct sc *c)
{
    if (c->c_state == SC_DEAD || c->c_state == SC_LINGER || c->c_state == SC_FLUSH)
        return;
    event_del(c->c_hb);
    event_del(c->c_qt);
    if (c->c_chunked && sc_raw(c, "0\r\n\r\n", 5) != 0)
        return;
    c->c_state = SC_FLUSH;
    if (evbuffer_get_length(bufferevent_get_output(c->c_bev)) == 0)
        sc_linger(c);
}

/* A complete response of the stack's own, then the end. */
static void sc_respond(struct sc *c, unsigned status, const char *type, const char *body)
{
    struct sbuf out = SBUF_INIT;

    if (sbuf_addf(&out,
                  "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n%s",
                  status, scn_status_reason(status), type, strlen(body), body) != 0) {
        sc_kill(c);
    } else if (sc_raw(c, out.sb_data, out.sb_len) == 0) {
        c->c_chunked = false;
        c->c_state = SC_LIVE;
        sc_end(c);
    }
    sbuf_free(&out);
}

static void sc_json(struct sc *c, unsigned status, const char *body)
{
    sc_respond(c, status, "application/json", body);
}

/* ---- gateway streams: delivery with the per-connection switches ---- */

static void sc_arm_queue(struct sc *c)
{
    struct timespec now;
    struct timeval tv;
    int64_t us;

    if (c->c_q == NULL || c->c_state != SC_LIVE)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    us = (int64_t)(c->c_q->q_due.tv_sec - now.tv_sec) * 1000000 +
         (c->c_q->q_due.tv_nsec - now.tv_nsec) / 1000;
    if (us < 0)
        us = 0;
    tv.tv_sec = (time_t)(us / 1000000);
    tv.tv_usec = (suseconds_t)(us % 1000000);
    evtimer_add(c->c_qt, &tv);
}

static void qitem_free(struct qitem *q)
{
    free(q->q_task_id);
    sbuf_free(&q->q_bytes);
    free(q);
}

static int sc_write_item(struct sc *c, struct qitem *q)
{
    bool task = q->q_kind <= EK_FAILED;

    return sc_event(c, q->q_bytes.sb_data, q->q_bytes.sb_len,
                    task ? "task_event" : ek_names[q->q_kind], task ? ek_names[q->q_kind] : NULL,
                    q->q_task_id);
}

/* Now, or after the connection's delay_ms (in order). Takes q. */
static void sc_deliver(struct sc *c, struct qitem *q)
{
    if (c->c_delay_ms == 0 && c->c_q == NULL) {
        sc_write_item(c, q);
        qitem_free(q);
        return;
    }
    if (c->c_qlen >= STK_MAX_QUEUE) {
        stk_warn("stack: more than %d delayed events on one connection, dropped", STK_MAX_QUEUE);
        qitem_free(q);
        sc_kill(c);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &q->q_due);
    ts_add_ms(&q->q_due, c->c_delay_ms);
    q->q_next = NULL;
    if (c->c_qtail != NULL)
        c->c_qtail->q_next = q;
    else
        c->c_q = q;
    c->c_qtail = q;
    c->c_qlen++;
    if (c->c_qlen == 1)
        sc_arm_queue(c);
}

static void sc_queue_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sc *c = arg;
    struct timespec now;
    struct qitem *q;
    unsigned n = 0;

    (void)fd;
    (void)what;
    clock_gettime(CLOCK_REALTIME, &now);
    while ((q = c->c_q) != NULL && c->c_state == SC_LIVE && n++ < 256 &&
           (q->q_due.tv_sec < now.tv_sec ||
            (q->q_due.tv_sec == now.tv_sec && q->q_due.tv_nsec <= now.tv_nsec))) {
        c->c_q = q->q_next;
        if (c->c_q == NULL)
            c->c_qtail = NULL;
        c->c_qlen--;
        sc_write_item(c, q);
        qitem_free(q);
    }
    sc_arm_queue(c);
}

/* Offers one domain event to a gateway connection: dropped, held back
 * (reorder) or delivered. payload is the backend's JSON. */
static void sc_offer(struct sc *c, enum ev_kind kind, const char *task_id, const char *payload)
{
    struct qitem *q, **pp;

    if (c->c_state != SC_LIVE || (c->c_drop & (1u << kind)))
        return;
    q = calloc(1, sizeof(*q));
    if (q == NULL || (task_id != NULL && (q->q_task_id = strdup(task_id)) == NULL) ||
        sbuf_addf(&q->q_bytes, "data: {\"type\":\"%s\",\"payload\":%s}\n\n",
                  kind == EK_VERSION ? "version" : "task_event", payload) != 0) {
        if (q != NULL)
            qitem_free(q);
        sc_kill(c);
        return;
    }
    q->q_kind = kind;
    if (c->c_reorder && kind == EK_STARTED) {
        if (c->c_nheld == STK_MAX_HELD) {
            struct qitem *old = c->c_held;

            c->c_held = old->q_next;
            c->c_nheld--;
            sc_deliver(c, old);
        }
        q->q_next = c->c_held;
        c->c_held = q;
        c->c_nheld++;
        return;
    }
    sc_deliver(c, q);
    if (!c->c_reorder || (kind != EK_COMPLETED && kind != EK_FAILED) || task_id == NULL)
        return;
    for (pp = &c->c_held; *pp != NULL; pp = &(*pp)->q_next) {
        if (strcmp((*pp)->q_task_id, task_id) == 0) {
            q = *pp;
            *pp = q->q_next;
            c->c_nheld--;
            sc_deliver(c, q);
            return;
        }
    }
}

/* The task event payload as json.dumps prints TaskEvent.model_dump(mode=
 * "json"), with the timestamp in the connection's style. */
static int task_payload(struct sbuf *out, const char *task_id, enum ev_kind kind,
                        const struct timespec *ts, bool offset, const char *data)
{
    char t[48];

    if (pyjson_time(ts, !offset, t, sizeof(t)) < 0 ||
        sbuf_addf(out, "{\"event_type\": \"%s\", \"task_id\": ", ek_names[kind]) != 0 ||
        pyjson_string(out, task_id, strlen(task_id)) != 0)
        return -1;
    return sbuf_addf(out, ", \"timestamp\": \"%s\", \"data\": %s}", t, data);
}

static void sc_offer_task(struct sc *c, const char *task_id, const struct tev *ev)
{
    struct sbuf p = SBUF_INIT;

    if (task_payload(&p, task_id, ev->te_kind, &ev->te_ts, c->c_offset_ts, ev->te_data) != 0)
        sc_kill(c);
    else
        sc_offer(c, ev->te_kind, task_id, p.sb_data);
    sbuf_free(&p);
}

/* ---- legacy task streams ---- */

static void sc_legacy_close(struct sc *c, const char *reason)
{
    struct sbuf b = SBUF_INIT;

    if (sbuf_addf(&b, "event: connection_close\ndata: {\"reason\": \"%s\"}\n\n", reason) == 0 &&
        sc_event(c, b.sb_data, b.sb_len, "connection_close", NULL, NULL) == 0)
        sc_end(c);
    sbuf_free(&b);
}

static void sc_legacy_event(struct sc *c, const struct task *t, const struct tev *ev)
{
    struct sbuf b = SBUF_INIT;
    struct timeval hb = tv_ms(c->c_hb_ms);

    if (c->c_state != SC_LIVE)
        return;
    if (!(c->c_drop & (1u << ev->te_kind))) {
        if (sbuf_adds(&b, "event: task_event\ndata: ") != 0 ||
            task_payload(&b, t->t_id, ev->te_kind, &ev->te_ts,
                         c->c_kind == SC_LEGACY || c->c_offset_ts, ev->te_data) != 0 ||
            sbuf_adds(&b, "\n\n") != 0) {
            sbuf_free(&b);
            sc_kill(c);
            return;
        }
        if (sc_event(c, b.sb_data, b.sb_len, "task_event", ek_names[ev->te_kind], t->t_id) != 0) {
            sbuf_free(&b);
            return;
        }
        sbuf_free(&b);
    }
    /* The baseline's named heartbeat comes after a quiet period. */
    if (c->c_kind == SC_LEGACY)
        evtimer_add(c->c_hb, &hb);
    if (ev->te_kind == EK_COMPLETED)
        sc_legacy_close(c, "task_completed");
    else if (ev->te_kind == EK_FAILED)
        sc_legacy_close(c, c->c_kind == SC_LEGACY ? "task_completed" : "task_failed");
}

/* ---- tasks ---- */

static void task_free(struct task *t)
{
    struct stk *st = t->t_st;
    size_t i;

    if (t->t_prev != NULL)
        t->t_prev->t_next = t->t_next;
    else
        st->st_tasks = t->t_next;
    if (t->t_next != NULL)
        t->t_next->t_prev = t->t_prev;
    else
        st->st_tasks_tail = t->t_prev;
    st->st_ntasks--;
    for (i = 0; i < t->t_nev; i++)
        free(t->t_evs[i].te_data);
    free(t->t_evs);
    free(t->t_error);
    event_free(t->t_timer);
    free(t);
}

static struct task *task_find(struct stk *st, const char *id)
{
    struct task *t;

    for (t = st->st_tasks; t != NULL; t = t->t_next) {
        if (strcmp(t->t_id, id) == 0)
            return t;
    }
    return NULL;
}

/* Records one event of the task and sends it to every gateway connection
 * and to the task's legacy followers. Returns -1 when memory runs out. */
static int task_emit(struct task *t, enum ev_kind kind, const char *data)
{
    struct tev *ev = &t->t_evs[t->t_nev];
    struct sc *c;

    ev->te_kind = kind;
    clock_gettime(CLOCK_REALTIME, &ev->te_ts);
    ev->te_data = strdup(data);
    if (ev->te_data == NULL)
        return -1;
    t->t_nev++;
    if (kind == EK_COMPLETED || kind == EK_FAILED)
        t->t_done = true;
    for (c = t->t_st->st_conns; c != NULL; c = c->c_next) {
        if (c->c_kind == SC_GATEWAY)
            sc_offer_task(c, t->t_id, ev);
        else if ((c->c_kind == SC_LEGACY || c->c_kind == SC_GWTASK) && c->c_task == t)
            sc_legacy_event(c, t, ev);
    }
    if (t->t_done) {
        for (c = t->t_st->st_conns; c != NULL; c = c->c_next) {
            if (c->c_task == t)
                c->c_task = NULL;
        }
    }
    return 0;
}

/* Runs the task until its next pause: demo_task sends task_started, then
 * each progress_update followed by a pause of delay, then task_completed;
 * failing_task sends task_started, pauses, then task_failed (as the
 * backend's _DemoTask and _FailingTask do). */
static void task_advance(struct task *t)
{
    struct sbuf d = SBUF_INIT;
    struct timeval tv = tv_ms(t->t_delay_ms);
    char num[32];
    int rc = 0;

    for (;;) {
        sbuf_reset(&d);
        if (t->t_nev == 0) {
            rc = task_emit(t, EK_STARTED, "null");
            if (t->t_failing)
                break;
            continue;
        }
        if (t->t_failing) {
            if (sbuf_adds(&d, "{\"error\": ") != 0 ||
                pyjson_string(&d, t->t_error, strlen(t->t_error)) != 0 ||
                sbuf_adds(&d, ", \"traceback\": ") != 0)
                rc = -1;
            else {
                struct sbuf tb = SBUF_INIT;

                rc = sbuf_addf(&tb,
                               "Traceback (most recent call last):\n"
                               "  File \"/app/app/services/task_service.py\", line 290, in "
                               "_execute_task\n"
                               "    result = task.execute(progress_handle, **kwargs)\n"
                               "  File \"/app/app/api/testing_sse.py\", line 82, in execute\n"
                               "    raise RuntimeError(error_message)\n"
                               "RuntimeError: %s\n",
                               t->t_error);
                if (rc == 0)
                    rc = pyjson_string(&d, tb.sb_data, tb.sb_len);
                if (rc == 0)
                    rc = sbuf_addc(&d, '}');
                sbuf_free(&tb);
            }
            if (rc == 0)
                rc = task_emit(t, EK_FAILED, d.sb_data);
            break;
        }
        if (t->t_step < t->t_steps) {
            t->t_step++;
            if (scn_format_float((double)t->t_step / (double)t->t_steps, num, sizeof(num)) < 0 ||
                sbuf_addf(&d, "{\"text\": \"Step %u/%u\", \"value\": %s}", t->t_step, t->t_steps,
                          num) != 0)
                rc = -1;
            else
                rc = task_emit(t, EK_PROGRESS, d.sb_data);
            break;
        }
        rc = task_emit(t, EK_COMPLETED, "{\"status\": \"success\"}");
        break;
    }
    sbuf_free(&d);
    if (rc != 0) {
        stk_warn("stack: out of memory, task %s stopped", t->t_id);
        t->t_done = true;
        return;
    }
    if (!t->t_done)
        evtimer_add(t->t_timer, &tv);
}

static void task_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    task_advance(arg);
}

/* ---- the testing endpoints ---- */

/* A validation error as the backend's spectree answers it (400, a list of
 * pydantic errors). */
static void post_invalid(struct sc *c, const char *loc, const char *msg, const char *type)
{
    struct sbuf b = SBUF_INIT;

    if (sbuf_addf(&b, "[{\"loc\":[%s],\"msg\":", loc) != 0 ||
        pyjson_string(&b, msg, strlen(msg)) != 0 ||
        sbuf_addf(&b, ",\"type\":\"%s\"}]\n", type) != 0)
        sc_kill(c);
    else
        sc_json(c, 400, b.sb_data);
    sbuf_free(&b);
}

static bool json_opt_string(json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return false;
    *out = json_string_value(v);
    return true;
}

static void post_task_start(struct sc *c, json_t *body, struct sbuf *answer, unsigned *status)
{
    struct stk *st = c->c_st;
    json_t *params = json_object_get(body, "params"), *v;
    const char *type = "demo_task", *err = "Task failed";
    struct task *t, *old;
    int64_t steps = 3;
    double delay = 0.1;

    if (!json_opt_string(body, "task_type", &type) ||
        (type != NULL && strcmp(type, "demo_task") != 0 && strcmp(type, "failing_task") != 0)) {
        post_invalid(c, "\"task_type\"", "Input should be 'demo_task' or 'failing_task'",
                     "literal_error");
        return;
    }
    if (type == NULL)
        type = "demo_task";
    if (params != NULL && !json_is_object(params)) {
        post_invalid(c, "\"params\"", "Input should be a valid dictionary", "dict_type");
        return;
    }
    if (params != NULL && (v = json_object_get(params, "steps")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > STK_MAX_STEPS) {
            post_invalid(c, "\"params\",\"steps\"", "steps must be an integer in 0..1000",
                         "value_error");
            return;
        }
        steps = json_integer_value(v);
    }
    if (params != NULL && (v = json_object_get(params, "delay")) != NULL) {
        if (!json_is_number(v) || json_number_value(v) < 0 ||
            json_number_value(v) > STK_MAX_DELAY_MS / 1000) {
            post_invalid(c, "\"params\",\"delay\"", "delay must be a number of seconds in 0..600",
                         "value_error");
            return;
        }
        delay = json_number_value(v);
    }
    if (params != NULL && (v = json_object_get(params, "error_message")) != NULL) {
        if (!json_is_string(v)) {
            post_invalid(c, "\"params\",\"error_message\"", "Input should be a valid string",
                         "string_type");
            return;
        }
        err = json_string_value(v);
    }
    /* Room for one more: forget the oldest finished task. */
    if (st->st_ntasks >= STK_MAX_TASKS) {
        for (old = st->st_tasks; old != NULL && !old->t_done; old = old->t_next)
            ;
        if (old == NULL) {
            sc_json(c, 503, "{\"error\":\"too many running tasks\"}\n");
            return;
        }
        task_free(old);
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL || (t->t_evs = calloc((size_t)steps + 2, sizeof(*t->t_evs))) == NULL ||
        (t->t_error = strdup(err)) == NULL ||
        (t->t_timer = evtimer_new(st->st_base, task_timer_cb, t)) == NULL) {
        if (t != NULL) {
            free(t->t_evs);
            free(t->t_error);
            free(t);
        }
        sc_json(c, 500, "{\"error\":\"out of memory\"}\n");
        return;
    }
    t->t_st = st;
    stk_uuid(st, t->t_id);
    t->t_failing = strcmp(type, "failing_task") == 0;
    t->t_steps = (unsigned)steps;
    t->t_delay_ms = (uint64_t)llround(delay * 1000.0);
    t->t_prev = st->st_tasks_tail;
    if (st->st_tasks_tail != NULL)
        st->st_tasks_tail->t_next = t;
    else
        st->st_tasks = t;
    st->st_tasks_tail = t;
    st->st_ntasks++;
    if (!st->st_quiet)
        stk_warn("stack: %s %s started", type, t->t_id);
    task_advance(t);
    *status = 200;
    sbuf_addf(answer, "{\"status\":\"started\",\"task_id\":\"%s\"}\n", t->t_id);
}

static void post_version(struct sc *c, json_t *body, struct sbuf *answer, unsigned *status)
{
    const char *rid, *version, *changelog;
    struct sbuf p = SBUF_INIT;
    struct sc *g;

    if (!json_opt_string(body, "request_id", &rid) || rid == NULL) {
        post_invalid(c, "\"request_id\"", "Field required", "missing");
        return;
    }
    if (!json_opt_string(body, "version", &version) || version == NULL) {
        post_invalid(c, "\"version\"", "Field required", "missing");
        return;
    }
    if (!json_opt_string(body, "changelog", &changelog)) {
        post_invalid(c, "\"changelog\"", "Input should be a valid string", "string_type");
        return;
    }
    if (sbuf_adds(&p, "{\"version\": ") != 0 || pyjson_string(&p, version, strlen(version)) != 0 ||
        (changelog != NULL && changelog[0] != '\0' &&
         (sbuf_adds(&p, ", \"changelog\": ") != 0 ||
          pyjson_string(&p, changelog, strlen(changelog)) != 0)) ||
        sbuf_addc(&p, '}') != 0) {
        sbuf_free(&p);
        sc_kill(c);
        return;
    }
    for (g = c->c_st->st_conns; g != NULL; g = g->c_next) {
        if (g->c_kind == SC_GATEWAY)
            sc_offer(g, EK_VERSION, NULL, p.sb_data);
    }
    sbuf_free(&p);
    *status = 202;
    sbuf_adds(answer, "{\"delivered\":true,\"request_id\":");
    pyjson_string(answer, rid, strlen(rid));
    sbuf_adds(answer, ",\"status\":\"delivered\"}\n");
}

static struct sc *stk_gateway_conn(struct stk *st, const char *rid)
{
    struct sc *c;

    for (c = st->st_conns; c != NULL; c = c->c_next) {
        if (c->c_kind == SC_GATEWAY && c->c_state == SC_LIVE && c->c_rid != NULL &&
            strcmp(c->c_rid, rid) == 0)
            return c;
    }
    return NULL;
}

static void post_task_event(struct sc *c, json_t *body, struct sbuf *answer, unsigned *status)
{
    const char *rid, *task_id, *type;
    json_t *data = json_object_get(body, "data");
    struct tev ev = {.te_kind = EK_STARTED};
    struct sbuf d = SBUF_INIT;
    struct sc *g;
    int k;

    if (!json_opt_string(body, "request_id", &rid) || rid == NULL) {
        post_invalid(c, "\"request_id\"", "Field required", "missing");
        return;
    }
    if (!json_opt_string(body, "task_id", &task_id) || task_id == NULL) {
        post_invalid(c, "\"task_id\"", "Field required", "missing");
        return;
    }
    if (!json_opt_string(body, "event_type", &type) || type == NULL) {
        post_invalid(c, "\"event_type\"", "Field required", "missing");
        return;
    }
    for (k = EK_STARTED; k <= EK_FAILED && strcmp(ek_names[k], type) != 0; k++)
        ;
    if (k > EK_FAILED) {
        post_invalid(c, "\"event_type\"",
                     "Input should be 'task_started', 'progress_update', 'task_completed' or "
                     "'task_failed'",
                     "literal_error");
        return;
    }
    if (data != NULL && !json_is_null(data) && !json_is_object(data)) {
        post_invalid(c, "\"data\"", "Input should be a valid dictionary", "dict_type");
        return;
    }
    g = stk_gateway_conn(c->c_st, rid);
    if (g == NULL) {
        *status = 400;
        sbuf_adds(answer, "{\"error\":");
        sbuf_adds(&d, "No SSE connection registered for request_id: ");
        sbuf_adds(&d, rid);
        pyjson_string(answer, d.sb_data, d.sb_len);
        sbuf_adds(answer, ",\"status\":\"not_found\"}\n");
        sbuf_free(&d);
        return;
    }
    if (data == NULL || json_is_null(data) ? sbuf_adds(&d, "null") != 0
                                           : pyjson_dump(&d, data) != 0) {
        sbuf_free(&d);
        sc_json(c, 500, "{\"error\":\"out of memory\"}\n");
        return;
    }
    ev.te_kind = (enum ev_kind)k;
    ev.te_data = d.sb_data;
    clock_gettime(CLOCK_REALTIME, &ev.te_ts);
    sc_offer_task(g, task_id, &ev);
    sbuf_free(&d);
    *status = 200;
    sbuf_addf(answer, "{\"delivered\":true,\"event_type\":\"%s\",\"request_id\":", type);
    pyjson_string(answer, rid, strlen(rid));
    sbuf_adds(answer, ",\"task_id\":");
    pyjson_string(answer, task_id, strlen(task_id));
    sbuf_adds(answer, "}\n");
}

/* The whole body is in: switches, then the endpoint. */
static void post_run(struct sc *c)
{
    struct req_request *rq = c->c_req;
    struct evbuffer *in = bufferevent_get_input(c->c_bev);
    struct sbuf q = SBUF_INIT;
    const char *data;
    json_error_t jerr;
    json_t *body;
    unsigned status = 0;
    int64_t n;

    data = (const char *)evbuffer_pullup(in, (ev_ssize_t)c->c_body_need);
    if (query_get(rq, "fail", &q)) {
        n = parse_uint(q.sb_data, 599);
        sbuf_free(&q);
        if (n < 100) {
            sc_json(c, 400, "{\"error\":\"fail wants a status in 100..599\"}\n");
        } else {
            char b[64];

            snprintf(b, sizeof(b), "{\"error\":\"injected failure\",\"status\":%d}\n", (int)n);
            sc_json(c, (unsigned)n, b);
        }
        return;
    }
    body = json_loadb(data != NULL ? data : "", c->c_body_need, JSON_REJECT_DUPLICATES, &jerr);
    evbuffer_drain(in, evbuffer_get_length(in));
    if (body == NULL || !json_is_object(body)) {
        post_invalid(c, "", body == NULL ? jerr.text : "Input should be an object",
                     body == NULL ? "json_invalid" : "model_type");
        json_decref(body);
        sbuf_free(&q);
        return;
    }
    if (strcmp(rq->rq_path, "/api/testing/tasks/start") == 0)
        post_task_start(c, body, &c->c_answer, &status);
    else if (strcmp(rq->rq_path, "/api/testing/deployments/version") == 0)
        post_version(c, body, &c->c_answer, &status);
    else
        post_task_event(c, body, &c->c_answer, &status);
    json_decref(body);
    if (status == 0 || c->c_state != SC_BODY) {
        sbuf_free(&q);
        return; /* answered (an error) already */
    }
    /* The answer, now or after delay_ms; hang: never. */
    if (query_get(rq, "hang", &q)) {
        c->c_state = SC_WAIT;
        sbuf_free(&q);
        return;
    }
    n = query_get(rq, "delay_ms", &q) ? parse_uint(q.sb_data, STK_MAX_DELAY_MS) : 0;
    sbuf_free(&q);
    if (n > 0) {
        struct timeval tv = tv_ms((uint64_t)n);

        c->c_state = SC_WAIT;
        c->c_status = status;
        evtimer_add(c->c_misc, &tv);
        return;
    }
    sc_json(c, status, c->c_answer.sb_data);
}

static void post_try(struct sc *c)
{
    if (evbuffer_get_length(bufferevent_get_input(c->c_bev)) >= c->c_body_need)
        post_run(c);
}

static void post_start(struct sc *c)
{
    struct req_request *rq = c->c_req;
    const char *te = req_header(rq, "Transfer-Encoding");
    const char *cl = req_header(rq, "Content-Length");
    int64_t n = 0;

    if (strcmp(rq->rq_method, "POST") != 0) {
        sc_json(c, 405, "{\"error\":\"Method Not Allowed\"}\n");
        return;
    }
    if (te != NULL) {
        sc_json(c, 411, "{\"error\":\"send the body with a Content-Length\"}\n");
        return;
    }
    if (cl != NULL && (n = parse_uint(cl, UINT64_MAX / 2)) < 0) {
        sc_json(c, 400, "{\"error\":\"bad Content-Length\"}\n");
        return;
    }
    if (n > STK_MAX_BODY) {
        sc_json(c, 413, "{\"error\":\"body larger than 64 KiB\"}\n");
        return;
    }
    c->c_body_need = (size_t)n;
    c->c_state = SC_BODY;
    post_try(c);
}

/* ---- streams ---- */

static void sc_hb_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sc *c = arg;
    struct timeval tv = tv_ms(c->c_hb_ms);
    struct timespec now;
    char t[48];
    struct sbuf b = SBUF_INIT;

    (void)fd;
    (void)what;
    if (c->c_state != SC_LIVE)
        return;
    if (c->c_kind == SC_LEGACY) {
        clock_gettime(CLOCK_REALTIME, &now);
        if (pyjson_time(&now, false, t, sizeof(t)) < 0 ||
            sbuf_addf(&b, "event: heartbeat\ndata: {\"timestamp\": \"%s\"}\n\n", t) != 0 ||
            sc_event(c, b.sb_data, b.sb_len, "heartbeat", NULL, NULL) != 0) {
            sbuf_free(&b);
            return;
        }
        sbuf_free(&b);
    } else if (sc_body(c, ": heartbeat\n\n", 13) != 0) {
        return;
    }
    evtimer_add(c->c_hb, &tv);
}

/* Per-connection switches of a stream, from its query. Returns -1 (and
 * answers 400) when one is malformed. */
static int sc_switches(struct sc *c, uint64_t hb_default)
{
    struct req_request *rq = c->c_req;
    struct sbuf q = SBUF_INIT;
    int64_t n;
    int rc = 0;

    c->c_hb_ms = hb_default;
    if (query_get(rq, "hb_ms", &q)) {
        if ((n = parse_uint(q.sb_data, 86400000)) < 1)
            rc = -1;
        else
            c->c_hb_ms = (uint64_t)n;
    }
    if (rc == 0 && query_get(rq, "delay_ms", &q)) {
        if ((n = parse_uint(q.sb_data, STK_MAX_DELAY_MS)) < 0)
            rc = -1;
        else
            c->c_delay_ms = (uint64_t)n;
    }
    if (rc == 0 && query_get(rq, "ts", &q)) {
        if (strcmp(q.sb_data, "offset") == 0)
            c->c_offset_ts = true;
        else if (strcmp(q.sb_data, "z") != 0)
            rc = -1;
    }
    if (rc == 0 && query_get(rq, "reorder", &q))
        c->c_reorder = true;
    if (rc == 0 && query_get(rq, "drop", &q)) {
        char *save = NULL, *tok;
        int k;

        for (tok = strtok_r(q.sb_data, ",", &save); tok != NULL && rc == 0;
             tok = strtok_r(NULL, ",", &save)) {
            for (k = 0; k < EK_COUNT && strcmp(ek_names[k], tok) != 0; k++)
                ;
            if (k == EK_COUNT)
                rc = -1;
            else
                c->c_drop |= 1u << k;
        }
    }
    sbuf_free(&q);
    if (rc != 0)
        sc_respond(c, 400, "text/plain; charset=utf-8",
                   "bad switch: hb_ms=1.., delay_ms=0..600000, ts=offset|z, reorder, "
                   "drop=KIND[,KIND]\n");
    return rc;
}

static void gateway_start(struct sc *c)
{
    struct stk *st = c->c_st;
    struct sbuf q = SBUF_INIT;
    struct timeval hb;
    struct sc *old;
    int64_t reject = 0;
    const char *msg;
    char b[128];

    if (sc_switches(c, 15000) != 0)
        return;
    if (query_get(c->c_req, "reject", &q))
        reject = parse_uint(q.sb_data, 403);
    if (reject != 0 && reject != 401 && reject != 403) {
        sbuf_free(&q);
        sc_respond(c, 400, "text/plain; charset=utf-8", "reject wants 401 or 403\n");
        return;
    }
    if (!query_get(c->c_req, "request_id", &q) || q.sb_len == 0 || strchr(q.sb_data, ':') != NULL ||
        q.sb_len > STK_MAX_RID)
        reject = 400;
    else if ((c->c_rid = strdup(q.sb_data)) == NULL)
        reject = 400;
    sbuf_free(&q);
    c->c_chunked = true;
    if (sc_raw(c, GATEWAY_HEAD, sizeof(GATEWAY_HEAD) - 1) != 0)
        return;
    c->c_state = SC_LIVE;
    if (reject != 0) {
        /* Refusals with 400/401/403 are answered in-stream. */
        /* The backend's status text as Werkzeug writes it (upper case);
         * the gateway passes it through. */
        msg = reject == 400 ? "BAD REQUEST" : reject == 401 ? "UNAUTHORIZED" : "FORBIDDEN";
        snprintf(b, sizeof(b), "event: rejected\ndata: {\"status\":%d,\"message\":\"%s\"}\n\n",
                 (int)reject, msg);
        if (sc_event(c, b, strlen(b), "rejected", NULL, NULL) == 0)
            sc_end(c);
        return;
    }
    /* One connection per request_id: the older one is closed. */
    for (old = st->st_conns; old != NULL; old = old->c_next) {
        if (old != c && old->c_kind == SC_GATEWAY && old->c_state == SC_LIVE &&
            old->c_rid != NULL && strcmp(old->c_rid, c->c_rid) == 0)
            sc_end(old);
    }
    /* The backend sends the version from inside the connect callback; the
     * gateway buffers it and flushes it before it writes ready. */
    sc_offer(c, EK_VERSION, NULL, VERSION_JSON);
    if (!(c->c_drop & (1u << EK_READY)) &&
        sc_event(c, "event: ready\ndata:\n\n", 20, "ready", NULL, NULL) != 0)
        return;
    hb = tv_ms(c->c_hb_ms);
    evtimer_add(c->c_hb, &hb);
}

/* GET /api/tasks/ID/stream (baseline) and GET /api/sse/tasks?task_id=ID
 * (late 2025): the task's events from task_started on, then follow. */
static void task_stream_start(struct sc *c)
{
    struct sbuf id = SBUF_INIT, b = SBUF_INIT;
    struct timeval hb;
    struct task *t;
    size_t i, len;
    const char *seg;

    if (sc_switches(c, c->c_kind == SC_LEGACY ? 5000 : 15000) != 0)
        return;
    if (c->c_kind == SC_LEGACY) {
        if (req_path_segment(c->c_req, 3, &seg, &len))
            sbuf_add(&id, seg, len);
    } else {
        query_get(c->c_req, "task_id", &id);
    }
    t = id.sb_data != NULL ? task_find(c->c_st, id.sb_data) : NULL;
    if (c->c_kind == SC_LEGACY) {
        if (sc_raw(c, FLASK_HEAD, sizeof(FLASK_HEAD) - 1) != 0)
            goto out;
    } else {
        c->c_chunked = true;
        if (sc_raw(c, GATEWAY_HEAD, sizeof(GATEWAY_HEAD) - 1) != 0)
            goto out;
    }
    c->c_state = SC_LIVE;
    if (c->c_kind == SC_LEGACY &&
        sc_event(c, "event: connection_open\ndata: {\"status\": \"connected\"}\n\n", 54,
                 "connection_open", NULL, NULL) != 0)
        goto out;
    if (t == NULL) {
        if (c->c_kind == SC_LEGACY) {
            sbuf_adds(&b, "event: error\ndata: {\"error\": \"Task not found\"}\n\n");
        } else {
            sbuf_adds(&b, "event: error\ndata: {\"error\": \"Task not found\", \"task_id\": ");
            pyjson_string(&b, id.sb_data != NULL ? id.sb_data : "", id.sb_len);
            sbuf_adds(&b, "}\n\n");
        }
        if (sc_event(c, b.sb_data, b.sb_len, "error", NULL, NULL) == 0)
            sc_legacy_close(c, "task_not_found");
        goto out;
    }
    hb = tv_ms(c->c_hb_ms);
    evtimer_add(c->c_hb, &hb);
    c->c_task = t->t_done ? NULL : t;
    /* What a queue would hold: every event since task_started. */
    for (i = 0; i < t->t_nev && c->c_state == SC_LIVE; i++)
        sc_legacy_event(c, t, &t->t_evs[i]);
out:
    sbuf_free(&id);
    sbuf_free(&b);
}

/* ---- callbacks ---- */

static void sc_read_cb(struct bufferevent *bev, void *arg)
{
    struct sc *c = arg;

    if (c->c_state == SC_BODY) {
        if (evbuffer_get_length(bufferevent_get_input(bev)) > STK_MAX_BODY + 16384) {
            sc_kill(c);
            return;
        }
        post_try(c);
        return;
    }
    evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void sc_write_cb(struct bufferevent *bev, void *arg)
{
    struct sc *c = arg;

    (void)bev;
    if (c->c_state == SC_FLUSH)
        sc_linger(c);
}

static void sc_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        sc_kill(arg);
}

static void sc_misc_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sc *c = arg;

    (void)fd;
    (void)what;
    if (c->c_state == SC_WAIT)
        sc_json(c, c->c_status, c->c_answer.sb_data);
    else if (c->c_state == SC_DEAD || c->c_state == SC_LINGER)
        sc_free(c);
}

/* ---- public ---- */

bool stk_handles(const char *path)
{
    size_t n;

    if (strcmp(path, "/api/sse/stream") == 0 || strncmp(path, "/api/sse/stream/", 16) == 0)
        return true;
    if (strcmp(path, "/api/sse/tasks") == 0 || strcmp(path, "/api/testing/tasks/start") == 0 ||
        strcmp(path, "/api/testing/deployments/version") == 0 ||
        strcmp(path, "/api/testing/sse/task-event") == 0)
        return true;
    /* /api/tasks/ID/stream */
    if (strncmp(path, "/api/tasks/", 11) != 0)
        return false;
    n = strcspn(path + 11, "/");
    return n > 0 && strcmp(path + 11 + n, "/stream") == 0;
}

void stk_take(struct stk *st, struct bufferevent *bev, struct req_request *rq)
{
    struct sc *c = calloc(1, sizeof(*c));
    struct sbuf line = SBUF_INIT;

    if (c == NULL) {
        bufferevent_free(bev);
        req_free(rq);
        return;
    }
    c->c_st = st;
    c->c_bev = bev;
    c->c_req = rq;
    c->c_hb = evtimer_new(st->st_base, sc_hb_cb, c);
    c->c_qt = evtimer_new(st->st_base, sc_queue_cb, c);
    c->c_misc = evtimer_new(st->st_base, sc_misc_cb, c);
    c->c_state = SC_LIVE;
    c->c_next = st->st_conns;
    if (st->st_conns != NULL)
        st->st_conns->c_prev = c;
    st->st_conns = c;
    st->st_nconns++;
    if (c->c_hb == NULL || c->c_qt == NULL || c->c_misc == NULL) {
        stk_warn("stack: out of memory");
        sc_free(c);
        return;
    }
    bufferevent_setcb(bev, sc_read_cb, sc_write_cb, sc_event_cb, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    st->st_nreq++;
    if (st->st_log != NULL && req_log_json(rq, "stack", st->st_nreq, &line) == 0) {
        fwrite(line.sb_data, 1, line.sb_len, st->st_log);
        fflush(st->st_log);
    }
    sbuf_free(&line);
    if (!st->st_quiet)
        stk_warn("%s %s%s%s -> stack", rq->rq_method, rq->rq_path, rq->rq_query[0] ? "?" : "",
                 rq->rq_query);
    if (st->st_nconns > STK_MAX_CONNS) {
        sc_respond(c, 503, "text/plain; charset=utf-8", "too many connections\n");
        return;
    }
    if (strncmp(rq->rq_path, "/api/testing/", 13) == 0) {
        c->c_kind = SC_POST;
        post_start(c);
    } else if (strncmp(rq->rq_path, "/api/sse/stream", 15) == 0) {
        c->c_kind = SC_GATEWAY;
        gateway_start(c);
    } else {
        c->c_kind = strcmp(rq->rq_path, "/api/sse/tasks") == 0 ? SC_GWTASK : SC_LEGACY;
        task_stream_start(c);
    }
}

struct stk *stk_new(struct event_base *base, FILE *log, bool quiet)
{
    struct stk *st = calloc(1, sizeof(*st));
    struct timespec ts;

    if (st == NULL)
        return NULL;
    st->st_base = base;
    st->st_log = log;
    st->st_quiet = quiet;
    if (getrandom(&st->st_rng, sizeof(st->st_rng), GRND_NONBLOCK) != (ssize_t)sizeof(st->st_rng)) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        st->st_rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid();
    }
    if (st->st_rng == 0)
        st->st_rng = 0x9e3779b97f4a7c15ULL;
    return st;
}

void stk_free(struct stk *st)
{
    if (st == NULL)
        return;
    while (st->st_conns != NULL)
        sc_free(st->st_conns);
    while (st->st_tasks != NULL)
        task_free(st->st_tasks);
    free(st);
}
