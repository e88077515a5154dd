/* sse_testserver: a scripted HTTP/1.1 server for ssemon's integration tests,
 * demo and benchmarks. Every request plays a scenario file (see
 * docs/test-server.md); the HTTP is written by hand so scenarios control every
 * byte, malformed ones included. Loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "request.h"
#include "sbuf.h"
#include "scenario.h"
#include "stack.h"

#define SRV_PROG "sse_testserver"
/* How long a closing connection keeps reading so the client gets a FIN, not
 * a RST caused by unread request bytes. */
#define SRV_LINGER_SEC 2
#define SRV_ACCEPT_RETRY_MS 100
#define SRV_BACKLOG 4096
/* Writes one connection may do in a row before letting the others run. */
#define SRV_WRITES_PER_TURN 64

struct srv_route {
    char *rt_glob;
    char *rt_name;
};

struct srv_counter {
    struct srv_counter *ct_next;
    unsigned long ct_count;
    char ct_name[];
};

struct conn;

struct srv {
    struct event_base *sv_base;
    struct evconnlistener *sv_listener;
    struct event *sv_sigterm;
    struct event *sv_sigint;
    struct event *sv_accept_retry;
    const char *sv_dir;
    struct srv_route *sv_routes;
    size_t sv_nroutes;
    struct srv_counter *sv_counters;
    FILE *sv_log;
    bool sv_quiet;
    struct conn *sv_conns;
    struct stk *sv_stack; /* the built-in 2026 stack */
    struct sbuf sv_out;   /* scratch for the action being performed */
};

enum conn_state {
    CONN_REQUEST, /* reading the request head */
    CONN_RUNNING, /* playing the scenario */
    CONN_FLUSH,   /* a fixed response is being written, then close */
    CONN_LINGER,  /* FIN sent, discarding input until the client closes */
    CONN_HANG,    /* waiting for the client to close */
};

struct conn {
    struct srv *c_srv;
    struct conn *c_prev;
    struct conn *c_next;
    struct bufferevent *c_bev;
    struct event *c_timer;
    enum conn_state c_state;
    bool c_wait_drain;
    unsigned long c_num;
    struct req_request *c_req;
    struct scn_program *c_prog;
    struct scn_run *c_run;
    char *c_name;
    char *c_file;
};

static void srv_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void srv_warn(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", SRV_PROG);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- connections ---- */

static void conn_free(struct conn *c)
{
    struct srv *sv = c->c_srv;

    if (c->c_prev != NULL)
        c->c_prev->c_next = c->c_next;
    else
        sv->sv_conns = c->c_next;
    if (c->c_next != NULL)
        c->c_next->c_prev = c->c_prev;
    event_free(c->c_timer);
    if (c->c_bev != NULL)
        bufferevent_free(c->c_bev);
    scn_run_free(c->c_run);
    scn_program_free(c->c_prog);
    req_free(c->c_req);
    free(c->c_name);
    free(c->c_file);
    free(c);
}

/* Graceful end: FIN now, then read until the client closes or the linger
 * time runs out. */
static void conn_linger(struct conn *c)
{
    struct timeval tv = {SRV_LINGER_SEC, 0};

    c->c_state = CONN_LINGER;
    bufferevent_disable(c->c_bev, EV_WRITE);
    if (shutdown(bufferevent_getfd(c->c_bev), SHUT_WR) != 0) {
        conn_free(c);
        return;
    }
    event_del(c->c_timer);
    evtimer_add(c->c_timer, &tv);
}

static void conn_reset(struct conn *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    /* A zero linger time makes close() send a RST instead of a FIN. */
    if (setsockopt(bufferevent_getfd(c->c_bev), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
        srv_warn("SO_LINGER: %s", strerror(errno));
    conn_free(c);
}

/* Sends a complete response of the server's own (not from a scenario), then
 * closes. */
static void conn_respond(struct conn *c, unsigned status, const char *body)
{
    struct sbuf *out = &c->c_srv->sv_out;

    sbuf_reset(out);
    if (sbuf_addf(out,
                  "HTTP/1.1 %u %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                  status, scn_status_reason(status), strlen(body), body) != 0 ||
        bufferevent_write(c->c_bev, out->sb_data, out->sb_len) != 0) {
        conn_free(c);
        return;
    }
    c->c_state = CONN_FLUSH;
}

/* Writes straight to the socket when nothing is queued: an idle stream's
 * heartbeat then costs one send() instead of a trip through the event loop
 * (two epoll_ctl calls and a wake-up). What the socket does not take goes
 * through the bufferevent. Returns -1 when the client is gone. */
static int conn_write(struct conn *c, const char *data, size_t len)
{
    ssize_t n = 0;

    if (evbuffer_get_length(bufferevent_get_output(c->c_bev)) == 0) {
        n = send(bufferevent_getfd(c->c_bev), data, len, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (n < 0)
            n = 0;
    }
    if ((size_t)n == len)
        return 0;
    return bufferevent_write(c->c_bev, data + n, len - (size_t)n);
}

static void conn_run(struct conn *c)
{
    struct srv *sv = c->c_srv;
    struct sbuf *out = &sv->sv_out;
    struct timespec now;
    struct timeval tv, zero = {0, 0};
    unsigned writes = 0;
    uint64_t ms;

    for (;;) {
        clock_gettime(CLOCK_REALTIME, &now);
        switch (scn_run_step(c->c_run, &now, out, &ms)) {
        case SCN_ACT_WRITE:
            if (conn_write(c, out->sb_data, out->sb_len) != 0) {
                conn_free(c);
                return;
            }
            /* The next statement waits until these bytes left, so each
             * write reaches the socket on its own and a fast loop cannot
             * pile up memory. */
            if (evbuffer_get_length(bufferevent_get_output(c->c_bev)) > 0) {
                c->c_wait_drain = true;
                return;
            }
            if (++writes == SRV_WRITES_PER_TURN) {
                evtimer_add(c->c_timer, &zero);
                return;
            }
            continue;
        case SCN_ACT_SLEEP:
            tv.tv_sec = (time_t)(ms / 1000);
            tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
            evtimer_add(c->c_timer, &tv);
            return;
        case SCN_ACT_LOG:
            fprintf(stderr, "%s: %s#%lu: %s\n", SRV_PROG, c->c_name, c->c_num,
                    out->sb_data != NULL ? out->sb_data : "");
            continue;
        case SCN_ACT_CLOSE:
            conn_linger(c);
            return;
        case SCN_ACT_RESET:
            conn_reset(c);
            return;
        case SCN_ACT_HANG:
            c->c_state = CONN_HANG;
            return;
        case SCN_ACT_FAIL:
            srv_warn("%s", out->sb_data != NULL ? out->sb_data : "runtime error");
            if (!scn_run_head_done(c->c_run)) {
                struct sbuf body = SBUF_INIT;

                /* conn_respond() reuses out, so the message is copied. */
                if (sbuf_addf(&body, "%s\n", out->sb_data != NULL ? out->sb_data : "") != 0)
                    conn_free(c);
                else
                    conn_respond(c, 500, body.sb_data);
                sbuf_free(&body);
            } else {
                conn_linger(c);
            }
            return;
        }
    }
}

static struct srv_counter *srv_counter(struct srv *sv, const char *name)
{
    struct srv_counter *ct;
    size_t len = strlen(name);

    for (ct = sv->sv_counters; ct != NULL; ct = ct->ct_next) {
        if (strcmp(ct->ct_name, name) == 0)
            return ct;
    }
    ct = calloc(1, sizeof(*ct) + len + 1);
    if (ct == NULL)
        return NULL;
    memcpy(ct->ct_name, name, len + 1);
    ct->ct_next = sv->sv_counters;
    sv->sv_counters = ct;
    return ct;
}

static bool srv_valid_name(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return false;
    for (i = 0; i < len; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    return true;
}

/* Picks the scenario name for a path; NULL when none matches. The result is
 * a new string the caller frees. */
static char *srv_route_path(const struct srv *sv, const char *path)
{
    const char *name;
    size_t i, len;

    for (i = 0; i < sv->sv_nroutes; i++) {
        if (fnmatch(sv->sv_routes[i].rt_glob, path, FNM_PATHNAME) == 0)
            return strdup(sv->sv_routes[i].rt_name);
    }
    if (strncmp(path, "/s/", 3) != 0)
        return NULL;
    name = path + 3;
    len = strcspn(name, "/");
    if (!srv_valid_name(name, len))
        return NULL;
    return strndup(name, len);
}

static void srv_log_request(struct srv *sv, const struct req_request *rq, const char *name,
                            unsigned long num)
{
    struct sbuf line = SBUF_INIT;

    if (sv->sv_log == NULL)
        return;
    if (req_log_json(rq, name, num, &line) != 0)
        srv_warn("request log: out of memory");
    else if (fwrite(line.sb_data, 1, line.sb_len, sv->sv_log) != line.sb_len ||
             fflush(sv->sv_log) != 0)
        srv_warn("request log: %s", strerror(errno));
    sbuf_free(&line);
}

static uint64_t srv_seed(void)
{
    uint64_t seed;
    struct timespec ts;

    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
        return seed;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid();
}

/* A scenario that does not compile: the error goes to stderr and, with the
 * file and line, to the client as a 500. */
static void conn_respond_scenario_error(struct conn *c, const struct scn_error *err)
{
    struct sbuf msg = SBUF_INIT;
    int rc;

    if (err->er_line > 0)
        rc = sbuf_addf(&msg, "%s:%u: %s", c->c_file, err->er_line, err->er_msg);
    else
        rc = sbuf_adds(&msg, err->er_msg);
    srv_warn("%s", rc == 0 ? msg.sb_data : err->er_msg);
    if (rc != 0 || sbuf_addc(&msg, '\n') != 0)
        conn_respond(c, 500, "scenario error\n");
    else
        conn_respond(c, 500, msg.sb_data);
    sbuf_free(&msg);
}

/* Loads the scenario of a complete request and starts playing it. */
static void conn_start(struct conn *c)
{
    struct srv *sv = c->c_srv;
    struct req_request *rq = c->c_req;
    struct srv_counter *ct;
    struct scn_error err;
    struct scn_run_params rp;
    struct sbuf path = SBUF_INIT;

    c->c_name = srv_route_path(sv, rq->rq_path);
    if (c->c_name == NULL) {
        srv_log_request(sv, rq, NULL, 0);
        if (!sv->sv_quiet)
            srv_warn("%s %s -> 404", rq->rq_method, rq->rq_path);
        conn_respond(c, 404, "no scenario for this path\n");
        return;
    }
    if (sbuf_addf(&path, "%s/%s.scn", sv->sv_dir, c->c_name) != 0 ||
        (c->c_file = strdup(path.sb_data)) == NULL) {
        sbuf_free(&path);
        conn_respond(c, 500, "out of memory\n");
        return;
    }
    sbuf_free(&path);
    if (scn_load(c->c_file, &c->c_prog, &err) != 0 && err.er_errno == ENOENT) {
        srv_log_request(sv, rq, c->c_name, 0);
        if (!sv->sv_quiet)
            srv_warn("%s %s -> 404 (no %s)", rq->rq_method, rq->rq_path, c->c_file);
        conn_respond(c, 404, "no such scenario\n");
        return;
    }
    ct = srv_counter(sv, c->c_name);
    if (ct == NULL) {
        conn_respond(c, 500, "out of memory\n");
        return;
    }
    c->c_num = ++ct->ct_count;
    srv_log_request(sv, rq, c->c_name, c->c_num);
    if (!sv->sv_quiet)
        srv_warn("%s %s%s%s -> %s#%lu", rq->rq_method, rq->rq_path, rq->rq_query[0] ? "?" : "",
                 rq->rq_query, c->c_name, c->c_num);
    if (c->c_prog == NULL) {
        conn_respond_scenario_error(c, &err);
        return;
    }
    rp.rp_prog = c->c_prog;
    rp.rp_req = rq;
    rp.rp_dir = sv->sv_dir;
    rp.rp_file = c->c_file;
    rp.rp_conn = c->c_num;
    rp.rp_seed = srv_seed();
    c->c_run = scn_run_new(&rp);
    if (c->c_run == NULL) {
        conn_respond(c, 500, "out of memory\n");
        return;
    }
    c->c_state = CONN_RUNNING;
    conn_run(c);
}

/* Paths the built-in stack serves, unless a --route claims them. */
static bool srv_stack_path(const struct srv *sv, const char *path)
{
    size_t i;

    if (sv->sv_stack == NULL || !stk_handles(path))
        return false;
    for (i = 0; i < sv->sv_nroutes; i++) {
        if (fnmatch(sv->sv_routes[i].rt_glob, path, FNM_PATHNAME) == 0)
            return false;
    }
    return true;
}

static void conn_read_request(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->c_bev);
    size_t len = evbuffer_get_length(in), head_len;
    size_t n = len < REQ_HEAD_LIMIT ? len : REQ_HEAD_LIMIT;
    const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);

    if (data == NULL && n > 0) {
        conn_free(c);
        return;
    }
    switch (req_parse(data != NULL ? data : "", n, &c->c_req, &head_len)) {
    case REQ_INCOMPLETE:
        return;
    case REQ_TOO_LARGE:
        evbuffer_drain(in, len);
        conn_respond(c, 431, "request head larger than 16 KiB\n");
        return;
    case REQ_BAD:
        evbuffer_drain(in, len);
        conn_respond(c, 400, "malformed request\n");
        return;
    case REQ_NOMEM:
        conn_free(c);
        return;
    case REQ_COMPLETE:
        evbuffer_drain(in, head_len);
        if (srv_stack_path(c->c_srv, c->c_req->rq_path)) {
            struct stk *st = c->c_srv->sv_stack;
            struct bufferevent *bev = c->c_bev;
            struct req_request *rq = c->c_req;

            /* The stack takes the connection over, body bytes included. */
            c->c_bev = NULL;
            c->c_req = NULL;
            conn_free(c);
            stk_take(st, bev, rq);
            return;
        }
        evbuffer_drain(in, evbuffer_get_length(in));
        conn_start(c);
        return;
    }
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    if (c->c_state == CONN_REQUEST) {
        conn_read_request(c);
        return;
    }
    /* Only one request per connection: anything else (a body, a pipelined
     * request) is read and dropped so it cannot turn our FIN into a RST. */
    evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    (void)bev;
    if (c->c_state == CONN_FLUSH) {
        conn_linger(c);
    } else if (c->c_state == CONN_RUNNING && c->c_wait_drain) {
        c->c_wait_drain = false;
        conn_run(c);
    }
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    /* End of file or an error from the client: it is gone, whatever state
     * the scenario was in. */
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_free(arg);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    (void)what;
    if (c->c_state == CONN_RUNNING)
        conn_run(c);
    else
        conn_free(c);
}

static void srv_accept_cb(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
                          int salen, void *arg)
{
    struct srv *sv = arg;
    struct conn *c;
    int one = 1;

    (void)lst;
    (void)sa;
    (void)salen;
    /* Each send statement must leave at once as its own segment. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        srv_warn("TCP_NODELAY: %s", strerror(errno));
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        evutil_closesocket(fd);
        return;
    }
    c->c_timer = evtimer_new(sv->sv_base, conn_timer_cb, c);
    c->c_bev = bufferevent_socket_new(sv->sv_base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->c_timer == NULL || c->c_bev == NULL) {
        if (c->c_bev != NULL)
            bufferevent_free(c->c_bev);
        else
            evutil_closesocket(fd);
        if (c->c_timer != NULL)
            event_free(c->c_timer);
        free(c);
        return;
    }
    c->c_srv = sv;
    bufferevent_setcb(c->c_bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    if (bufferevent_enable(c->c_bev, EV_READ | EV_WRITE) != 0) {
        bufferevent_free(c->c_bev);
        event_free(c->c_timer);
        free(c);
        return;
    }
    c->c_next = sv->sv_conns;
    if (sv->sv_conns != NULL)
        sv->sv_conns->c_prev = c;
    sv->sv_conns = c;
}

static void srv_accept_error_cb(struct evconnlistener *lst, void *arg)
{
    struct srv *sv = arg;
    int err = EVUTIL_SOCKET_ERROR();
    struct timeval tv = {0, SRV_ACCEPT_RETRY_MS * 1000};

    srv_warn("accept: %s", strerror(err));
    /* Out of descriptors or memory: the listener would fire again at once,
     * so pause it for a moment instead of spinning. */
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        evconnlistener_disable(lst);
        evtimer_add(sv->sv_accept_retry, &tv);
    }
}

static void srv_accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct srv *sv = arg;

    (void)fd;
    (void)what;
    evconnlistener_enable(sv->sv_listener);
}

static void srv_close_all(struct srv *sv)
{
    struct conn *c, *next;

    for (c = sv->sv_conns; c != NULL; c = next) {
        next = c->c_next;
        conn_free(c);
    }
    stk_free(sv->sv_stack);
    sv->sv_stack = NULL;
}

static void srv_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct srv *sv = arg;

    (void)what;
    if (!sv->sv_quiet)
        srv_warn("%s, stopping", strsignal((int)sig));
    srv_close_all(sv);
    event_base_loopbreak(sv->sv_base);
}

static void srv_libevent_log(int severity, const char *msg)
{
    if (severity >= EVENT_LOG_WARN)
        srv_warn("libevent: %s", msg);
}

/* ---- start-up ---- */

static void srv_usage(FILE *f)
{
    fprintf(f,
            "usage: %s [--listen ADDR:PORT] [--port-file FILE] [--dir SCENARIO_DIR]\n"
            "       [--route GLOB=NAME]... [--log FILE] [--quiet]\n",
            SRV_PROG);
}

static bool srv_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

        return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    }
    return false;
}

static int srv_add_route(struct srv *sv, const char *spec)
{
    const char *eq = strrchr(spec, '=');
    struct srv_route *r;

    if (eq == NULL || eq == spec || !srv_valid_name(eq + 1, strlen(eq + 1))) {
        srv_warn("--route wants GLOB=NAME with NAME made of [A-Za-z0-9_.-]: %s", spec);
        return -1;
    }
    r = realloc(sv->sv_routes, (sv->sv_nroutes + 1) * sizeof(*r));
    if (r == NULL)
        return -1;
    sv->sv_routes = r;
    r = &sv->sv_routes[sv->sv_nroutes];
    r->rt_glob = strndup(spec, (size_t)(eq - spec));
    r->rt_name = strdup(eq + 1);
    if (r->rt_glob == NULL || r->rt_name == NULL) {
        free(r->rt_glob);
        free(r->rt_name);
        return -1;
    }
    sv->sv_nroutes++;
    return 0;
}

static int srv_write_port_file(const char *path, unsigned port)
{
    struct sbuf tmp = SBUF_INIT;
    FILE *f;
    int rc = -1;

    if (sbuf_addf(&tmp, "%s.tmp", path) != 0)
        return -1;
    f = fopen(tmp.sb_data, "w");
    if (f == NULL) {
        srv_warn("%s: %s", tmp.sb_data, strerror(errno));
        goto out;
    }
    if (fprintf(f, "%u\n", port) < 0 || fclose(f) != 0) {
        srv_warn("%s: %s", tmp.sb_data, strerror(errno));
        goto out;
    }
    /* rename() makes the complete file appear at once: a test polling for
     * it never reads a half-written number. */
    if (rename(tmp.sb_data, path) != 0) {
        srv_warn("%s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    sbuf_free(&tmp);
    return rc;
}

static void srv_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    /* An unlimited hard limit cannot be set as the soft one for files. */
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        srv_warn("cannot raise the open file limit: %s", strerror(errno));
}

/* Parses "A.B.C.D:PORT" or "[V6]:PORT". libevent's own parser refuses port
 * 0, which we need for "pick a free port". */
static int srv_parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen)
{
    const char *colon = addr != NULL ? strrchr(addr, ':') : NULL;
    char host[INET6_ADDRSTRLEN + 2];
    unsigned long port;
    size_t hlen;
    char *end;

    if (colon == NULL || colon[1] == '\0')
        return -1;
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || errno != 0 || port > 65535 || colon[1] == '-' || colon[1] == '+')
        return -1;
    hlen = (size_t)(colon - addr);
    if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']') {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

        if (hlen - 2 >= sizeof(host))
            return -1;
        memcpy(host, addr + 1, hlen - 2);
        host[hlen - 2] = '\0';
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(*sin6);
        return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ? 0 : -1;
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;

        if (hlen >= sizeof(host))
            return -1;
        memcpy(host, addr, hlen);
        host[hlen] = '\0';
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        *sslen = sizeof(*sin);
        return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
    }
}

static int srv_listen(struct srv *sv, const char *addr, const char *port_file)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss), len = sizeof(ss);
    char host[INET6_ADDRSTRLEN + 2];
    unsigned port;

    memset(&ss, 0, sizeof(ss));
    if (srv_parse_addr(addr, &ss, &sslen) != 0) {
        srv_warn("--listen: cannot parse '%s' (want 127.0.0.1:PORT or [::1]:PORT)", addr);
        return -1;
    }
    if (!srv_is_loopback(&ss)) {
        srv_warn("--listen: %s is not a loopback address (127.0.0.0/8 or ::1)", addr);
        return -1;
    }
    sv->sv_listener =
        evconnlistener_new_bind(sv->sv_base, srv_accept_cb, sv,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                SRV_BACKLOG, (struct sockaddr *)&ss, (int)sslen);
    if (sv->sv_listener == NULL) {
        srv_warn("cannot listen on %s: %s", addr, strerror(errno));
        return -1;
    }
    evconnlistener_set_error_cb(sv->sv_listener, srv_accept_error_cb);
    if (getsockname(evconnlistener_get_fd(sv->sv_listener), (struct sockaddr *)&ss, &len) != 0) {
        srv_warn("getsockname: %s", strerror(errno));
        return -1;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

        port = ntohs(sin6->sin6_port);
        snprintf(host, sizeof(host), "[");
        evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, host + 1, sizeof(host) - 2);
        strcat(host, "]");
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

        port = ntohs(sin->sin_port);
        evutil_inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
    }
    if (port_file != NULL && srv_write_port_file(port_file, port) != 0)
        return -1;
    printf("listening on %s:%u\n", host, port);
    fflush(stdout);
    return 0;
}

static void srv_cleanup(struct srv *sv)
{
    struct srv_counter *ct;
    size_t i;

    srv_close_all(sv);
    if (sv->sv_listener != NULL)
        evconnlistener_free(sv->sv_listener);
    if (sv->sv_sigterm != NULL)
        event_free(sv->sv_sigterm);
    if (sv->sv_sigint != NULL)
        event_free(sv->sv_sigint);
    if (sv->sv_accept_retry != NULL)
        event_free(sv->sv_accept_retry);
    if (sv->sv_base != NULL)
        event_base_free(sv->sv_base);
    while ((ct = sv->sv_counters) != NULL) {
        sv->sv_counters = ct->ct_next;
        free(ct);
    }
    for (i = 0; i < sv->sv_nroutes; i++) {
        free(sv->sv_routes[i].rt_glob);
        free(sv->sv_routes[i].rt_name);
    }
    free(sv->sv_routes);
    if (sv->sv_log != NULL)
        fclose(sv->sv_log);
    sbuf_free(&sv->sv_out);
    libevent_global_shutdown();
}

enum { OPT_LISTEN = 256, OPT_PORT_FILE, OPT_DIR, OPT_ROUTE, OPT_LOG, OPT_QUIET, OPT_HELP };

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"port-file", required_argument, NULL, OPT_PORT_FILE},
        {"dir", required_argument, NULL, OPT_DIR},
        {"route", required_argument, NULL, OPT_ROUTE},
        {"log", required_argument, NULL, OPT_LOG},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    struct srv sv;
    const char *listen_addr = "127.0.0.1:0", *port_file = NULL, *log_file = NULL;
    int opt, rc = 1;

    memset(&sv, 0, sizeof(sv));
    sv.sv_dir = SSEMON_SOURCE_DIR "/tests/scenarios";
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_LISTEN:
            listen_addr = optarg;
            break;
        case OPT_PORT_FILE:
            port_file = optarg;
            break;
        case OPT_DIR:
            sv.sv_dir = optarg;
            break;
        case OPT_ROUTE:
            if (srv_add_route(&sv, optarg) != 0) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_LOG:
            log_file = optarg;
            break;
        case OPT_QUIET:
            sv.sv_quiet = true;
            break;
        case 'h':
        case OPT_HELP:
            srv_usage(stdout);
            rc = 0;
            goto out;
        default:
            srv_usage(stderr);
            rc = 2;
            goto out;
        }
    }
    if (optind != argc) {
        srv_usage(stderr);
        rc = 2;
        goto out;
    }

    /* A client that vanished must cost an EPIPE, not the process. */
    signal(SIGPIPE, SIG_IGN);
    srv_raise_nofile();
    event_set_log_callback(srv_libevent_log);
    if (log_file != NULL) {
        /* Appending keeps earlier lines when a test restarts the server. */
        sv.sv_log = fopen(log_file, "a");
        if (sv.sv_log == NULL) {
            srv_warn("%s: %s", log_file, strerror(errno));
            goto out;
        }
    }
    sv.sv_base = event_base_new();
    if (sv.sv_base == NULL) {
        srv_warn("cannot create the event base");
        goto out;
    }
    sv.sv_sigterm = evsignal_new(sv.sv_base, SIGTERM, srv_signal_cb, &sv);
    sv.sv_sigint = evsignal_new(sv.sv_base, SIGINT, srv_signal_cb, &sv);
    sv.sv_accept_retry = evtimer_new(sv.sv_base, srv_accept_retry_cb, &sv);
    if (sv.sv_sigterm == NULL || sv.sv_sigint == NULL || sv.sv_accept_retry == NULL ||
        evsignal_add(sv.sv_sigterm, NULL) != 0 || evsignal_add(sv.sv_sigint, NULL) != 0) {
        srv_warn("cannot set up signal handling");
        goto out;
    }
    sv.sv_stack = stk_new(sv.sv_base, sv.sv_log, sv.sv_quiet);
    if (sv.sv_stack == NULL) {
        srv_warn("out of memory");
        goto out;
    }
    if (srv_listen(&sv, listen_addr, port_file) != 0)
        goto out;
    if (event_base_dispatch(sv.sv_base) < 0) {
        srv_warn("event loop failed");
        goto out;
    }
    rc = 0;
out:
    srv_cleanup(&sv);
    return rc;
}
