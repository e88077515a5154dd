/*
 * The status HTTP server on a real event loop, over loopback and a unix
 * socket: routes, methods, HEAD, limits, the connection cap, slow and
 * malformed clients. Single-threaded: the test's client sockets are
 * non-blocking and the loop is spun in short slices between their reads,
 * so the server and its clients take turns deterministically. Every wait
 * is bounded by an iteration count.
 */
#include "ssemon/base/clock.h"
#include "ssemon/core/contract.h"
#include "ssemon/io/deadline.h"
#include "ssemon/io/monitor.h"
#include "ssemon/io/status_server.h"
#include "ssemon/io/subscription.h"

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define SLICE_MS 5
/* 2000 slices of 5 ms: 10 s, far beyond anything a test waits for. */
#define MAX_SLICES 2000
#define RESP_MAX (1 << 20)

struct fixture {
    struct event_base *f_base;
    struct sub_engine *f_engine;
    struct contract *f_contract;
    struct monitor *f_mons[2];
    size_t f_n_shown;        /* how many of f_mons the view shows */
    struct monitor **f_many; /* when set, the view shows these instead */
    size_t f_n_many;
    uint64_t f_generation; /* what the view reports; a test "reloads" */
    struct status_server *f_server;
    unsigned f_view_calls;
    char f_dir[64];
};

static void test_view(void *ctx, struct status_view *out)
{
    struct fixture *f = ctx;
    f->f_view_calls++;
    out->sv_version = "1.2.3";
    out->sv_started_wall_ms = 1700000000000ull;
    /* In the future: uptime_s stays 0, so two renders have equal lengths. */
    out->sv_started_mono_ms = clock_mono_ms() + 1000000000ull;
    out->sv_config_path = "/etc/ssemon/test.json";
    out->sv_monitors = f->f_many != NULL ? f->f_many : f->f_mons;
    out->sv_n_monitors = f->f_many != NULL ? f->f_n_many : f->f_n_shown;
    out->sv_generation = f->f_generation;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->f_base = event_base_new();
    assert_non_null(f->f_base);
    f->f_engine = sub_engine_new(f->f_base);
    assert_non_null(f->f_engine);
    json_error_t jerr;
    json_t *doc = json_loads("{\"name\": \"srv-test\", \"events\": {\"tick\": {}}}", 0, &jerr);
    assert_non_null(doc);
    struct contract_error cerr;
    f->f_contract = contract_compile(doc, &cerr);
    json_decref(doc);
    assert_non_null(f->f_contract);
    static const char *const names[] = {"first", "second"};
    for (int i = 0; i < 2; i++) {
        struct monitor_options o;
        memset(&o, 0, sizeof(o));
        o.mo_name = names[i];
        o.mo_display_url = "http://127.0.0.1:9/s";
        o.mo_contract = f->f_contract;
        sub_options_init(&o.mo_sub);
        o.mo_sub.so_url = o.mo_display_url;
        o.mo_healthy_window_ms = 300000;
        f->f_mons[i] = monitor_new(f->f_engine, f->f_base, &o, NULL, NULL);
        assert_non_null(f->f_mons[i]);
    }
    f->f_n_shown = 2;
    snprintf(f->f_dir, sizeof(f->f_dir), "/tmp/ssemon-status-XXXXXX");
    assert_non_null(mkdtemp(f->f_dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    status_server_free(f->f_server);
    for (size_t i = 0; i < f->f_n_many; i++)
        monitor_free(f->f_many[i]);
    free(f->f_many);
    for (int i = 0; i < 2; i++)
        monitor_free(f->f_mons[i]);
    sub_engine_free(f->f_engine);
    contract_free(f->f_contract);
    event_base_free(f->f_base);
    rmdir(f->f_dir);
    free(f);
    return 0;
}

static void start_tcp(struct fixture *f, const struct status_server_limits *lim)
{
    char err[256] = "";
    f->f_server = status_server_new(f->f_base, "127.0.0.1:0", lim, test_view, f, err, sizeof(err));
    if (f->f_server == NULL)
        fail_msg("status_server_new: %s", err);
    assert_true(status_server_port(f->f_server) > 0);
}

/* ---- loop and client helpers ---- */

static void spin(struct fixture *f)
{
    struct timeval tv = {0, SLICE_MS * 1000};
    event_base_loopexit(f->f_base, &tv);
    event_base_dispatch(f->f_base);
}

static void spin_n(struct fixture *f, int slices)
{
    for (int i = 0; i < slices; i++)
        spin(f);
}

/* Spins until the server counts `n` open connections. */
static void spin_until_connections(struct fixture *f, unsigned n)
{
    for (int i = 0; i < MAX_SLICES && status_server_connections(f->f_server) != n; i++)
        spin(f);
    assert_int_equal(status_server_connections(f->f_server), n);
}

static void wait_writable(int fd)
{
    struct pollfd p = {fd, POLLOUT, 0};
    assert_true(poll(&p, 1, 5000) == 1);
}

/* A client socket with a receive buffer of `rcvbuf` bytes (0: the
 * kernel's default): a small one keeps most of a large response at the
 * server while the test does something. */
static int connect_tcp_rcvbuf(unsigned port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    assert_true(rc == 0 || errno == EINPROGRESS);
    /* Loopback handshakes complete in the kernel, without the server's loop. */
    wait_writable(fd);
    return fd;
}

static int connect_tcp(unsigned port)
{
    return connect_tcp_rcvbuf(port, 0);
}

static int connect_unix(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    size_t off = 0;
    for (int i = 0; i < MAX_SLICES && off < len; i++) {
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        assert_true(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
        wait_writable(fd);
    }
    assert_int_equal(off, len);
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

struct response {
    char r_buf[RESP_MAX];
    size_t r_len;
    bool r_eof;
    int r_status;
    size_t r_head_len; /* up to and including the blank line */
    bool r_chunked;    /* Transfer-Encoding: chunked, decoded in place */
};

/* Decodes a chunked body in place once it is complete (the zero-size
 * chunk and its blank line seen). Returns false while it is incomplete. */
static bool dechunk(struct response *r)
{
    char *body = r->r_buf + r->r_head_len;
    size_t len = r->r_len - r->r_head_len;
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        char *line_end = memmem(body + in, len - in, "\r\n", 2);
        if (line_end == NULL)
            return false;
        unsigned long size = strtoul(body + in, &end, 16);
        if (end == body + in || end != line_end)
            fail_msg("bad chunk size line at body offset %zu", in);
        in = (size_t)(line_end - body) + 2;
        if (size == 0) {
            if (len - in < 2)
                return false;
            assert_memory_equal(body + in, "\r\n", 2);
            assert_int_equal(in + 2, len); /* nothing after the last chunk */
            break;
        }
        if (len - in < size + 2)
            return false;
        assert_memory_equal(body + in + size, "\r\n", 2);
        in += size + 2;
    }
    /* Complete: decode (a second pass, moving data down). */
    in = 0;
    for (;;) {
        char *line_end = memmem(body + in, len - in, "\r\n", 2);
        unsigned long size = strtoul(body + in, NULL, 16);
        in = (size_t)(line_end - body) + 2;
        if (size == 0)
            break;
        memmove(body + out, body + in, size);
        out += size;
        in += size + 2;
    }
    r->r_len = r->r_head_len + out;
    r->r_buf[r->r_len] = '\0';
    return true;
}

/* Reads what the server sends: until EOF when `until_eof`, else until one
 * whole response (head + Content-Length body). Returns false when the
 * bound ran out first. */
static bool read_response(struct fixture *f, int fd, struct response *r, bool until_eof)
{
    r->r_len = 0;
    r->r_eof = false;
    r->r_status = 0;
    r->r_head_len = 0;
    r->r_chunked = false;
    for (int i = 0; i < MAX_SLICES; i++) {
        ssize_t n = recv(fd, r->r_buf + r->r_len, sizeof(r->r_buf) - 1 - r->r_len, 0);
        if (n > 0) {
            r->r_len += (size_t)n;
            r->r_buf[r->r_len] = '\0';
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            r->r_eof = true;
        }
        const char *end = strstr(r->r_buf, "\r\n\r\n");
        if (r->r_len > 0 && end != NULL && r->r_head_len == 0) {
            r->r_head_len = (size_t)(end - r->r_buf) + 4;
            sscanf(r->r_buf, "HTTP/1.%*d %d", &r->r_status);
            const char *te = strcasestr(r->r_buf, "\r\nTransfer-Encoding: chunked\r\n");
            r->r_chunked = te != NULL && te < end;
        }
        if (r->r_chunked && r->r_head_len > 0 && dechunk(r))
            return true;
        if (r->r_eof)
            return !r->r_chunked; /* a chunked body cut short is a failure */
        if (!until_eof && r->r_head_len > 0 && !r->r_chunked) {
            const char *cl = strcasestr(r->r_buf, "\r\nContent-Length: ");
            size_t body = cl != NULL ? strtoul(cl + 18, NULL, 10) : 0;
            if (r->r_len >= r->r_head_len + body)
                return true;
        }
        if (n <= 0)
            spin(f);
    }
    return false;
}

/* The value of header `name` in the response head, copied to `out`. */
static bool header_of(const struct response *r, const char *name, char *out, size_t size)
{
    char key[128];
    snprintf(key, sizeof(key), "\r\n%s:", name);
    const char *p = strcasestr(r->r_buf, key);
    if (p == NULL || (size_t)(p - r->r_buf) >= r->r_head_len)
        return false;
    p += strlen(key);
    while (*p == ' ')
        p++;
    const char *e = strstr(p, "\r\n");
    size_t n = (size_t)(e - p);
    if (n >= size)
        n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static const char *body_of(const struct response *r)
{
    return r->r_buf + r->r_head_len;
}

/* One request on a fresh connection, read to EOF. */
static struct response *request_fd(struct fixture *f, int fd, const char *method,
                                   const char *target)
{
    char req[1024];
    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", method,
             target);
    send_str(fd, req);
    struct response *r = malloc(sizeof(*r));
    assert_non_null(r);
    assert_true(read_response(f, fd, r, true));
    close(fd);
    return r;
}

static struct response *request(struct fixture *f, const char *method, const char *target)
{
    return request_fd(f, connect_tcp(status_server_port(f->f_server)), method, target);
}

static void expect(const struct response *r, int status, const char *content_type, const char *body)
{
    if (r->r_status != status)
        fail_msg("status %d, expected %d:\n%s", r->r_status, status, r->r_buf);
    char ct[256];
    if (content_type != NULL) {
        assert_true(header_of(r, "Content-Type", ct, sizeof(ct)));
        assert_string_equal(ct, content_type);
    }
    if (body != NULL)
        assert_string_equal(body_of(r), body);
}

/* ---- tests ---- */

static void test_routes(void **state)
{
    struct fixture *f = *state;
    start_tcp(f, NULL);
    struct response *r;

    r = request(f, "GET", "/healthz");
    expect(r, 200, "text/plain; charset=utf-8", "ok\n");
    free(r);

    r = request(f, "GET", "/status");
    expect(r, 200, "application/json", NULL);
    json_error_t jerr;
    json_t *doc = json_loads(body_of(r), 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "version")), "1.2.3");
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "config"), "path")),
                        "/etc/ssemon/test.json");
    assert_int_equal(json_array_size(json_object_get(doc, "subscriptions")), 2);
    json_decref(doc);
    free(r);

    r = request(f, "GET", "/status/second");
    expect(r, 200, "application/json", NULL);
    doc = json_loads(body_of(r), 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "second");
    assert_string_equal(json_string_value(json_object_get(doc, "contract")), "srv-test");
    json_decref(doc);
    free(r);

    /* Percent-encoding is decoded; a query string is ignored. */
    r = request(f, "GET", "/status/sec%6Fnd?x=1");
    expect(r, 200, "application/json", NULL);
    assert_non_null(strstr(body_of(r), "\"name\":\"second\""));
    free(r);

    r = request(f, "GET", "/status/nope");
    expect(r, 404, "application/json", "{\"error\":\"no such subscription\",\"name\":\"nope\"}");
    free(r);

    /* Names outside [A-Za-z0-9_.-] name nothing and are not echoed. */
    static const char *const not_found[] = {"/status/",      "/status/first/x", "/nothing",
                                            "/statusx",      "/index.html",     "/metrics/",
                                            "/status/a%20b", "/status/%ff",     "/status/%00"};
    for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++) {
        r = request(f, "GET", not_found[i]);
        expect(r, 404, "text/plain; charset=utf-8", "not found\n");
        free(r);
    }

    /* The HTML page (io/status_page), with the refresh it asks for. */
    r = request(f, "GET", "/?refresh=10");
    expect(r, 200, "text/html; charset=utf-8", NULL);
    assert_non_null(strstr(body_of(r), "<b>first</b>"));
    assert_non_null(strstr(body_of(r), "<meta http-equiv=\"refresh\" content=\"10\">"));
    free(r);

    r = request(f, "GET", "/metrics");
    expect(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL);
    assert_non_null(strstr(body_of(r), "\nssemon_subscription_up{subscription=\"first\"} 0\n"));
    assert_non_null(strstr(body_of(r), "\nssemon_build_info{version=\"1.2.3\"} 1\n"));
    free(r);

    /* Never-started monitors are not healthy. */
    r = request(f, "GET", "/readyz");
    expect(r, 503, "text/plain; charset=utf-8", "first\nsecond\n");
    free(r);
    f->f_n_shown = 0;
    r = request(f, "GET", "/readyz");
    expect(r, 200, "text/plain; charset=utf-8", "ok\n");
    free(r);

    /* HTTP/1.0 clients are served too. */
    int fd = connect_tcp(status_server_port(f->f_server));
    send_str(fd, "GET /healthz HTTP/1.0\r\n\r\n");
    r = malloc(sizeof(*r));
    assert_non_null(r);
    assert_true(read_response(f, fd, r, true));
    close(fd);
    expect(r, 200, NULL, "ok\n");
    free(r);
}

static void test_head(void **state)
{
    struct fixture *f = *state;
    start_tcp(f, NULL);
    static const char *const targets[] = {"/status", "/status/first", "/metrics", "/healthz",
                                          "/readyz"};
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        struct response *get = request(f, "GET", targets[i]);
        struct response *head = request(f, "HEAD", targets[i]);
        assert_int_equal(head->r_status, get->r_status);
        char a[256], b[256];
        assert_true(header_of(get, "Content-Type", a, sizeof(a)));
        assert_true(header_of(head, "Content-Type", b, sizeof(b)));
        assert_string_equal(a, b);
        assert_true(header_of(head, "Content-Length", b, sizeof(b)));
        assert_int_equal(strtoul(b, NULL, 10), get->r_len - get->r_head_len);
        /* Nothing after the head, up to the close. */
        assert_int_equal(head->r_len, head->r_head_len);
        free(get);
        free(head);
    }
    struct response *r = request(f, "HEAD", "/nothing");
    assert_int_equal(r->r_status, 404);
    assert_int_equal(r->r_len, r->r_head_len);
    free(r);
}

static void test_methods(void **state)
{
    struct fixture *f = *state;
    start_tcp(f, NULL);
    static const char *const methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    static const char *const targets[] = {"/status", "/metrics", "/healthz", "/readyz",
                                          "/status/first"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        struct response *r = request(f, methods[i], targets[i]);
        expect(r, 405, "text/plain; charset=utf-8", "method not allowed\n");
        char allow[64];
        assert_true(header_of(r, "Allow", allow, sizeof(allow)));
        assert_string_equal(allow, "GET, HEAD");
        free(r);
    }
    /* Unknown paths are 404 whatever the method. */
    struct response *r = request(f, "POST", "/nothing");
    expect(r, 404, NULL, NULL);
    free(r);

    /* No request body is accepted (the limit is 0 bytes). */
    int fd = connect_tcp(status_server_port(f->f_server));
    send_str(fd, "POST /status HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: "
                 "close\r\n\r\nhello");
    r = malloc(sizeof(*r));
    assert_non_null(r);
    assert_true(read_response(f, fd, r, true));
    close(fd);
    assert_true(r->r_status >= 400 && r->r_status < 500);
    free(r);
    spin_until_connections(f, 0);
}

static void test_keep_alive(void **state)
{
    struct fixture *f = *state;
    start_tcp(f, NULL);
    int fd = connect_tcp(status_server_port(f->f_server));
    struct response *r = malloc(sizeof(*r));
    assert_non_null(r);
    for (int i = 0; i < 3; i++) {
        send_str(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_true(read_response(f, fd, r, false));
        expect(r, 200, NULL, "ok\n");
        assert_false(r->r_eof);
        assert_int_equal(status_server_connections(f->f_server), 1);
    }
    close(fd);
    spin_until_connections(f, 0);
    free(r);
}

static void test_malformed(void **state)
{
    struct fixture *f = *state;
    const struct status_server_limits lim = {1024, 0, 1, 8, 0};
    start_tcp(f, &lim);
    unsigned port = status_server_port(f->f_server);
    struct response *r = malloc(sizeof(*r));
    assert_non_null(r);

    /* Garbage: refused, and the connection goes away. */
    int fd = connect_tcp(port);
    send_all(fd, "\x01\x02\xff garbage \x00\r\n\r\n", 17);
    assert_true(read_response(f, fd, r, true));
    assert_true(r->r_status == 0 || r->r_status == 400);
    close(fd);

    /* A method nobody defined is "not implemented" (RFC 9110 15.6.2): evhttp
     * answers it before any handler, as it should. */
    fd = connect_tcp(port);
    send_str(fd, "BREW /status HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(read_response(f, fd, r, true));
    if (r->r_status != 501)
        fail_msg("BREW answered:\n%s", r->r_buf);
    close(fd);

    /* Headers beyond the limit. */
    fd = connect_tcp(port);
    char big[8192];
    int n = snprintf(big, sizeof(big), "GET /status HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(big + n, 'a', 4096);
    memcpy(big + n + 4096, "\r\n\r\n", 4);
    send_all(fd, big, (size_t)n + 4100);
    assert_true(read_response(f, fd, r, true));
    assert_true(r->r_status == 0 || (r->r_status >= 400 && r->r_status < 500));
    close(fd);

    /* A request that stops short: closed by the timeout (1 s here), not
     * held forever. A client that never speaks is not even handed over by
     * the kernel (TCP_DEFER_ACCEPT): it holds nothing at the server. */
    int slow = connect_tcp(port);
    send_str(slow, "GET /status HTTP/1.1\r\nHost: t\r\n");
    int mute = connect_tcp(port);
    spin_until_connections(f, 1);
    spin_n(f, 40);
    assert_int_equal(status_server_connections(f->f_server), 1);
    assert_true(read_response(f, slow, r, true));
    assert_int_equal(r->r_status, 0);
    close(slow);
    close(mute);
    spin_until_connections(f, 0);

    /* And the server still answers. */
    free(r);
    r = request(f, "GET", "/healthz");
    expect(r, 200, NULL, "ok\n");
    free(r);
}

/* A connection that has begun a request and waits (one byte of it is
 * enough for the kernel to hand it over). */
static int connect_waiting(struct fixture *f, unsigned n_before)
{
    int fd = connect_tcp(status_server_port(f->f_server));
    send_str(fd, "GET /status HTTP/1.1\r\n");
    spin_until_connections(f, n_before + 1);
    return fd;
}

/* True when the server has closed `fd` (bounded wait). */
static bool closed_by_server(struct fixture *f, int fd)
{
    char buf[4096];
    for (int i = 0; i < MAX_SLICES; i++) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
        if (n < 0)
            spin(f);
    }
    return false;
}

/* Still open: nothing to read, no end seen. */
static bool still_open(int fd)
{
    char c;
    return recv(fd, &c, 1, MSG_PEEK) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* At the cap the server goes on accepting: a new connection closes the
 * one that has waited longest for its request, and is answered. */
static void test_connection_cap(void **state)
{
    struct fixture *f = *state;
    const struct status_server_limits lim = {0, 0, 30, 4, 30};
    start_tcp(f, &lim);
    unsigned port = status_server_port(f->f_server);
    int waiting[4];
    for (unsigned i = 0; i < 4; i++)
        waiting[i] = connect_waiting(f, i);

    /* A fifth: answered at once; the oldest waiting one made room. */
    struct response *r = request(f, "GET", "/healthz");
    expect(r, 200, NULL, "ok\n");
    assert_true(closed_by_server(f, waiting[0]));
    for (int i = 1; i < 4; i++)
        assert_true(still_open(waiting[i]));
    close(waiting[0]);
    spin_until_connections(f, 3);

    /* Room left: nobody goes. Then full again: the next oldest goes. */
    int more = connect_waiting(f, 3);
    int last = connect_tcp(port);
    send_str(last, "GET /status HTTP/1.1\r\n");
    assert_true(closed_by_server(f, waiting[1]));
    spin_until_connections(f, 4);
    assert_true(still_open(waiting[2]) && still_open(waiting[3]) && still_open(more) &&
                still_open(last));
    close(waiting[1]);
    for (int i = 2; i < 4; i++)
        close(waiting[i]);
    close(more);
    close(last);
    spin_until_connections(f, 0);

    /* Many at once, far beyond the cap: all served in turn, none closed to
     * make room once its request is in. */
    enum { MANY = 40 };
    int fds[MANY];
    for (int i = 0; i < MANY; i++) {
        fds[i] = connect_tcp(port);
        send_str(fds[i], "GET /status HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    }
    for (int i = 0; i < MANY; i++) {
        assert_true(read_response(f, fds[i], r, true));
        expect(r, 200, "application/json", NULL);
        /* The cap, and the reserve (half the cap) of a moment when every
         * connection is being answered. */
        assert_true(status_server_connections(f->f_server) <= 6);
        close(fds[i]);
    }
    spin_until_connections(f, 0);
    free(r);
}

/* Seconds since `t0` on the monotonic clock. */
static double elapsed_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A request trickling in, a byte every 100 ms, is closed when its deadline
 * (1 s) is over, although each byte would re-arm the read timeout (30 s):
 * the deadline is for the whole request. */
static void test_request_deadline(void **state)
{
    struct fixture *f = *state;
    const struct status_server_limits lim = {.ssl_timeout_s = 30, .ssl_request_deadline_s = 1};
    start_tcp(f, &lim);
    int fd = connect_tcp(status_server_port(f->f_server));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    static const char drip[] =
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    bool closed = false;
    size_t sent = 0;
    double closed_at = 0;
    /* At most 1,000 slices of 5 ms with a byte every 20: 5 s. */
    for (int i = 0; i < MAX_SLICES / 2 && !closed && sent < sizeof(drip) - 1; i++) {
        if (i % 20 == 0 && send(fd, drip + sent, 1, MSG_NOSIGNAL) == 1)
            sent++;
        spin(f);
        char c;
        ssize_t n = recv(fd, &c, 1, 0);
        closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        if (closed)
            closed_at = elapsed_since(&t0);
    }
    close(fd);
    if (!closed)
        fail_msg("still open after %zu bytes over %.1f s", sent, elapsed_since(&t0));
    /* Not before the deadline (a little slack for the timer's clock). */
    assert_true(closed_at > 0.9);
    assert_true(sent > 5);
    spin_until_connections(f, 0);
}

/* After a response, a kept-alive connection waits for its next request
 * only until the deadline (2 s); a request that arrives in time is
 * answered and re-arms it. */
static void test_keep_alive_deadline(void **state)
{
    struct fixture *f = *state;
    const struct status_server_limits lim = {.ssl_timeout_s = 30, .ssl_request_deadline_s = 2};
    start_tcp(f, &lim);
    int fd = connect_tcp(status_server_port(f->f_server));
    struct response *r = malloc(sizeof(*r));
    assert_non_null(r);
    for (int i = 0; i < 2; i++) {
        /* A quarter of the deadline between requests. */
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        for (int k = 0; k < MAX_SLICES && elapsed_since(&t) < 0.5; k++)
            spin(f);
        send_str(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_true(read_response(f, fd, r, false));
        expect(r, 200, NULL, "ok\n");
        assert_false(r->r_eof);
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(closed_by_server(f, fd));
    double idle = elapsed_since(&t0);
    close(fd);
    assert_true(idle > 1.5);
    assert_true(idle < 6.0);
    spin_until_connections(f, 0);
    free(r);
}

/* A connection that comes back as soon as it is closed, having sent one
 * byte: `n` of them, and those the server closed opened again. */
struct flood {
    int fl_fd[64];
    size_t fl_n;
    unsigned fl_port;
    unsigned fl_reopened;
};

static void flood_open(struct flood *fl, size_t i)
{
    fl->fl_fd[i] = connect_tcp(fl->fl_port);
    send_str(fl->fl_fd[i], "G");
}

static void flood_refresh(struct flood *fl)
{
    for (size_t i = 0; i < fl->fl_n; i++) {
        char c;
        ssize_t n = recv(fl->fl_fd[i], &c, 1, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            close(fl->fl_fd[i]);
            flood_open(fl, i);
            fl->fl_reopened++;
        }
    }
}

/* 64 clients that take a place and come back as soon as they are closed
 * (the cap is 8): every /healthz is still answered, each connecting
 * behind a full backlog of them. */
static void test_flood(void **state)
{
    struct fixture *f = *state;
    const struct status_server_limits lim = {0, 0, 30, 8, 30};
    start_tcp(f, &lim);
    struct flood fl = {.fl_n = 64, .fl_port = status_server_port(f->f_server)};
    for (size_t i = 0; i < fl.fl_n; i++)
        flood_open(&fl, i);
    struct response *r = malloc(sizeof(*r));
    assert_non_null(r);
    for (int round = 0; round < 20; round++) {
        int fd = connect_tcp(fl.fl_port);
        send_str(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        assert_true(read_response(f, fd, r, true));
        close(fd);
        expect(r, 200, NULL, "ok\n");
        assert_true(status_server_connections(f->f_server) <= 8);
        flood_refresh(&fl);
    }
    /* The flood was real: its connections were taken and closed. */
    assert_true(fl.fl_reopened >= 20);
    for (size_t i = 0; i < fl.fl_n; i++)
        close(fl.fl_fd[i]);
    free(r);
}

static void test_free_with_open_connections(void **state)
{
    struct fixture *f = *state;
    start_tcp(f, NULL);
    unsigned port = status_server_port(f->f_server);
    int a = connect_tcp(port);
    send_str(a, "G");
    int b = connect_tcp(port);
    send_str(b, "GET /status HTTP/1.1\r\nHost: t\r\n");
    spin_until_connections(f, 2);
    status_server_free(f->f_server);
    f->f_server = NULL;
    /* Both see the server go away. */
    char c;
    struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    assert_int_equal(poll(p, 2, 5000), 2);
    assert_int_equal(recv(a, &c, 1, 0), 0);
    assert_int_equal(recv(b, &c, 1, 0), 0);
    close(a);
    close(b);
}

/* Enough subscriptions that /metrics (about 480 KB) is handed to libevent
 * by reference and its buffer comes back for the next document. */
#define MANY_MONITORS 120

static void make_many(struct fixture *f, size_t n)
{
    f->f_many = calloc(n, sizeof(*f->f_many));
    assert_non_null(f->f_many);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "m%03zu", i);
        struct monitor_options o;
        memset(&o, 0, sizeof(o));
        o.mo_name = name;
        o.mo_display_url = "http://127.0.0.1:9/s";
        o.mo_contract = f->f_contract;
        sub_options_init(&o.mo_sub);
        o.mo_sub.so_url = o.mo_display_url;
        o.mo_healthy_window_ms = 300000;
        f->f_many[i] = monitor_new(f->f_engine, f->f_base, &o, NULL, NULL);
        assert_non_null(f->f_many[i]);
        f->f_n_many = i + 1;
    }
}

/* Same body as `want` (the heads differ at least in their Date header,
 * whenever the two responses straddle a second). */
static void expect_same_body(const struct response *r, const struct response *want)
{
    size_t len = r->r_len - r->r_head_len;
    assert_int_equal(len, want->r_len - want->r_head_len);
    assert_memory_equal(body_of(r), body_of(want), len);
}

static void expect_metrics(const struct response *r)
{
    expect(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL);
    const char *body = body_of(r);
    size_t len = r->r_len - r->r_head_len;
    assert_true(len > 256 * 1024);
    assert_true(body[len - 1] == '\n');
    assert_non_null(strstr(body, "ssemon_subscription_up{subscription=\"m000\"} 0\n"));
    /* The last family's last sample: the document is whole. */
    static const char last[] = "ssemon_last_heartbeat_timestamp_seconds{subscription=\"m119\"} 0\n";
    assert_true(len >= sizeof(last) - 1);
    assert_memory_equal(body + len - (sizeof(last) - 1), last, sizeof(last) - 1);
}

/* Large documents, one after another, interleaved with a smaller kind and
 * two at once: each whole and identical, whichever buffer it was written
 * into. */
static void test_large_documents(void **state)
{
    struct fixture *f = *state;
    make_many(f, MANY_MONITORS);
    start_tcp(f, NULL);
    struct response *first = request(f, "GET", "/metrics");
    expect_metrics(first);
    for (int i = 0; i < 3; i++) {
        struct response *r = request(f, "GET", i == 1 ? "/status" : "/metrics");
        if (i == 1) {
            expect(r, 200, "application/json", NULL);
            assert_true(r->r_chunked);
            json_error_t jerr;
            json_t *doc = json_loadb(body_of(r), r->r_len - r->r_head_len, 0, &jerr);
            assert_non_null(doc);
            assert_int_equal(json_array_size(json_object_get(doc, "subscriptions")), MANY_MONITORS);
            json_decref(doc);
        } else {
            expect_metrics(r);
            assert_true(r->r_chunked);
            expect_same_body(r, first);
        }
        free(r);
    }

    /* Two scrapes in flight together: the second is written while the
     * first one's buffer is still out. */
    unsigned port = status_server_port(f->f_server);
    int a = connect_tcp(port);
    int b = connect_tcp(port);
    const char *req = "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    send_str(a, req);
    send_str(b, req);
    struct response *ra = malloc(sizeof(*ra));
    struct response *rb = malloc(sizeof(*rb));
    assert_non_null(ra);
    assert_non_null(rb);
    assert_true(read_response(f, b, rb, true));
    assert_true(read_response(f, a, ra, true));
    close(a);
    close(b);
    expect_metrics(ra);
    expect_same_body(ra, first);
    expect_same_body(rb, first);
    free(ra);
    free(rb);
    free(first);
}

/* HTTP/1.0 has no chunked encoding: the whole document with its length. */
static void test_metrics_http10(void **state)
{
    struct fixture *f = *state;
    make_many(f, MANY_MONITORS);
    start_tcp(f, NULL);
    struct response *chunked = request(f, "GET", "/metrics");
    expect_metrics(chunked);
    assert_true(chunked->r_chunked);
    int fd = connect_tcp(status_server_port(f->f_server));
    send_str(fd, "GET /metrics HTTP/1.0\r\n\r\n");
    struct response *r = malloc(sizeof(*r));
    assert_non_null(r);
    assert_true(read_response(f, fd, r, true));
    assert_true(r->r_eof);
    close(fd);
    expect_metrics(r);
    /* Delimited by the close (evhttp names no length for HTTP/1.0). */
    assert_false(r->r_chunked);
    assert_int_equal(r->r_len - r->r_head_len, chunked->r_len - chunked->r_head_len);
    assert_memory_equal(body_of(r), body_of(chunked), r->r_len - r->r_head_len);
    free(r);
    free(chunked);
    spin_until_connections(f, 0);
}

/* A client with a small receive buffer: most of a large /metrics is still
 * to be sent when something happens. Returns its socket, the head read. */
static int start_slow_scrape(struct fixture *f)
{
    int fd = connect_tcp_rcvbuf(status_server_port(f->f_server), 4096);
    send_str(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
    char buf[4096];
    ssize_t got = 0;
    for (int i = 0; i < MAX_SLICES && got <= 0; i++) {
        spin(f);
        got = recv(fd, buf, sizeof(buf) - 1, 0);
    }
    assert_true(got > 0);
    buf[got] = '\0';
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strcasestr(buf, "\r\nTransfer-Encoding: chunked\r\n"));
    return fd;
}

/* Reads everything up to EOF; returns the byte count and keeps the last
 * bytes in `tail` (NUL-terminated). Bounded: the loop is spun at most
 * MAX_SLICES times while nothing arrives. */
static size_t drain(struct fixture *f, int fd, char *tail, size_t tail_size)
{
    static char buf[1 << 16];
    size_t total = 0, kept = 0;
    int idle = 0;
    tail[0] = '\0';
    while (idle < MAX_SLICES) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return total;
        if (n < 0) {
            spin(f);
            idle++;
            continue;
        }
        total += (size_t)n;
        for (ssize_t i = 0; i < n; i++) {
            if (kept == tail_size - 1) {
                memmove(tail, tail + 1, tail_size - 2);
                kept--;
            }
            tail[kept++] = buf[i];
        }
        tail[kept] = '\0';
    }
    fail_msg("no EOF after %zu bytes", total);
    return total;
}

/* The daemon reloads while a scrape is being sent: the monitors it points
 * into may be gone, so the response is dropped mid-body, without its last
 * chunk, and the client sees a failed transfer, never a short document
 * passed off as whole. The next scrape is whole. */
static void test_stream_reload(void **state)
{
    struct fixture *f = *state;
    make_many(f, 2500);
    start_tcp(f, NULL);
    int fd = start_slow_scrape(f);
    f->f_generation++;
    char tail[16];
    size_t cut = drain(f, fd, tail, sizeof(tail));
    close(fd);
    /* No last chunk, and well short of the document. */
    assert_null(strstr(tail, "\r\n0\r\n\r\n"));
    spin_until_connections(f, 0);

    fd = connect_tcp(status_server_port(f->f_server));
    send_str(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    size_t whole = drain(f, fd, tail, sizeof(tail));
    close(fd);
    assert_non_null(strstr(tail, "\r\n0\r\n\r\n"));
    assert_true(whole > 8000000);
    assert_true(cut < whole);
}

/* The client goes away mid-body: the stream and its request are freed
 * (the sanitizer build checks that nothing leaks), and the server counts
 * the connection out. */
static void test_stream_client_gone(void **state)
{
    struct fixture *f = *state;
    make_many(f, 2500);
    start_tcp(f, NULL);
    int fd = start_slow_scrape(f);
    spin_until_connections(f, 1);
    close(fd);
    spin_until_connections(f, 0);
    fd = connect_tcp(status_server_port(f->f_server));
    send_str(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    char tail[16];
    assert_true(drain(f, fd, tail, sizeof(tail)) > 8000000);
    close(fd);
    assert_non_null(strstr(tail, "\r\n0\r\n\r\n"));
}

/* When every place is taken by a connection being answered (slow readers
 * of a large /metrics): a new one is answered from the reserve (half the
 * cap) at once, cutting nobody; once the reserve is taken too, the one
 * answered longest is cut short, past its grace, for the next (its
 * transfer fails, never passes off as whole). */
static void test_cap_all_answering(void **state)
{
    struct fixture *f = *state;
    make_many(f, 2500);
    const struct status_server_limits lim = {0, 0, 30, 4, 30};
    start_tcp(f, &lim);
    int slow[6];
    for (unsigned i = 0; i < 4; i++) {
        slow[i] = start_slow_scrape(f);
        spin_until_connections(f, i + 1);
    }
    struct response *r = request(f, "GET", "/healthz");
    expect(r, 200, NULL, "ok\n");
    free(r);
    spin_until_connections(f, 4);
    for (unsigned i = 4; i < 6; i++) {
        slow[i] = start_slow_scrape(f);
        spin_until_connections(f, i + 1);
    }
    r = request(f, "GET", "/healthz");
    expect(r, 200, NULL, "ok\n");
    free(r);
    char tail[16];
    size_t cut = drain(f, slow[0], tail, sizeof(tail));
    assert_null(strstr(tail, "\r\n0\r\n\r\n"));
    assert_true(cut < 8000000);
    close(slow[0]);
    spin_until_connections(f, 5);
    for (int i = 1; i < 6; i++) {
        char c;
        assert_true(recv(slow[i], &c, 1, MSG_PEEK) == 1);
        close(slow[i]);
    }
    spin_until_connections(f, 0);
}

/* The server's end of the client connection `fd` (this process holds
 * both): found by its address pair. Returns -1 when not found. */
static int server_end_of(int fd)
{
    struct sockaddr_in mine;
    socklen_t len = sizeof(mine);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&mine, &len), 0);
    for (int cand = 3; cand < 4096; cand++) {
        struct sockaddr_in a, b;
        socklen_t la = sizeof(a), lb = sizeof(b);
        if (cand == fd || getsockname(cand, (struct sockaddr *)&a, &la) != 0 ||
            getpeername(cand, (struct sockaddr *)&b, &lb) != 0 || a.sin_family != AF_INET ||
            b.sin_family != AF_INET)
            continue;
        if (b.sin_port == mine.sin_port && b.sin_addr.s_addr == mine.sin_addr.s_addr)
            return cand;
    }
    return -1;
}

/* A client that reads a large document steadily but slowly (about
 * 0.7 MB/s) gets all of it, although each time the daemon's queue waits to
 * drain (about 1.25 MiB) takes longer than the 1 s timeout: only a client
 * that stops reading is dropped. Both kernel buffers are kept small, so
 * the pace is the client's from the start. */
static void test_stream_slow_reader(void **state)
{
    struct fixture *f = *state;
    make_many(f, 800);
    /* The response takes about 4 s: longer than the request deadline too,
     * which is only for the request to arrive. */
    const struct status_server_limits lim = {.ssl_timeout_s = 1, .ssl_request_deadline_s = 1};
    start_tcp(f, &lim);
    int fd = connect_tcp_rcvbuf(status_server_port(f->f_server), 32 * 1024);
    spin_until_connections(f, 1);
    int server_fd = server_end_of(fd);
    assert_true(server_fd >= 0);
    int snd = 32 * 1024;
    assert_int_equal(setsockopt(server_fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd)), 0);
    send_str(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    static char buf[16384];
    char tail[16] = "";
    size_t total = 0, kept = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool eof = false;
    /* At most 4,000 slices of 5 ms: 20 s. */
    for (int i = 0; i < 4 * MAX_SLICES && !eof; i++) {
        spin(f);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        double elapsed = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        double allowed = elapsed * 0.7e6;
        while (!eof && (double)total < allowed) {
            ssize_t n = recv(fd, buf, sizeof(buf), 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                eof = true;
                break;
            }
            if (n < 0)
                break;
            total += (size_t)n;
            for (ssize_t k = 0; k < n; k++) {
                if (kept == sizeof(tail) - 1) {
                    memmove(tail, tail + 1, sizeof(tail) - 2);
                    kept--;
                }
                tail[kept++] = buf[k];
            }
            tail[kept] = '\0';
        }
    }
    close(fd);
    assert_true(eof);
    assert_true(total > 2500000);
    assert_non_null(strstr(tail, "\r\n0\r\n\r\n"));
    spin_until_connections(f, 0);
}

/* A scrape still being written when the server goes: libevent frees the
 * document later (its connection finalizes in a later loop pass, or when
 * the base is freed); nothing leaks and nothing is touched after free
 * (the sanitizer build checks both). The document (about 9 MB) is larger
 * than the kernel's socket buffers (at most 4 MiB for the sender by
 * default) and the client reads nothing, so it is still being written. */
static void test_free_while_sending(void **state)
{
    struct fixture *f = *state;
    make_many(f, 2500);
    start_tcp(f, NULL);
    int fd = connect_tcp_rcvbuf(status_server_port(f->f_server), 4096);
    send_str(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
    spin_n(f, 20);
    /* Some of it arrived, not all: the client reads nothing. */
    char buf[64];
    assert_true(recv(fd, buf, sizeof(buf), MSG_PEEK) > 0);
    status_server_free(f->f_server);
    f->f_server = NULL;
    spin_n(f, 2);
    close(fd);
}

static void test_unix_socket(void **state)
{
    struct fixture *f = *state;
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/status.sock", f->f_dir);
    f->f_server = status_server_new(f->f_base, path, NULL, test_view, f, err, sizeof(err));
    if (f->f_server == NULL)
        fail_msg("status_server_new: %s", err);
    assert_int_equal(status_server_port(f->f_server), 0);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0660);

    struct response *r = request_fd(f, connect_unix(path), "GET", "/status/first");
    expect(r, 200, "application/json", NULL);
    free(r);

    /* A live socket is never taken over. */
    struct status_server *two =
        status_server_new(f->f_base, path, NULL, test_view, f, err, sizeof(err));
    assert_null(two);
    assert_non_null(strstr(err, "in use"));

    status_server_free(f->f_server);
    f->f_server = NULL;
    assert_int_equal(lstat(path, &st), -1);

    /* A stale one (bound, nobody listening) is replaced. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    f->f_server = status_server_new(f->f_base, path, NULL, test_view, f, err, sizeof(err));
    if (f->f_server == NULL)
        fail_msg("status_server_new over a stale socket: %s", err);
    r = request_fd(f, connect_unix(path), "GET", "/healthz");
    expect(r, 200, NULL, "ok\n");
    free(r);
    status_server_free(f->f_server);
    f->f_server = NULL;

    /* Anything else at the path is left alone. */
    fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_null(status_server_new(f->f_base, path, NULL, test_view, f, err, sizeof(err)));
    assert_non_null(strstr(err, "not a socket"));
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    unlink(path);

    char longpath[256];
    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    assert_null(status_server_new(f->f_base, longpath, NULL, test_view, f, err, sizeof(err)));
    assert_non_null(strstr(err, "too long"));
}

static void test_listen_errors(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "127.0.0.1", "localhost:9464", "[::1]", "127.0.0.1:", "1.2.3.4:99999", "", "::1:80"};
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        struct status_server *s =
            status_server_new(f->f_base, bad[i], NULL, test_view, f, err, sizeof(err));
        if (s != NULL)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_non_null(strstr(err, "listen address"));
    }

    /* A port someone else listens on. */
    start_tcp(f, NULL);
    char taken[64];
    snprintf(taken, sizeof(taken), "127.0.0.1:%u", status_server_port(f->f_server));
    assert_null(status_server_new(f->f_base, taken, NULL, test_view, f, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot listen on"));

    /* IPv6 loopback, where the host has it. */
    struct status_server *six =
        status_server_new(f->f_base, "[::1]:0", NULL, test_view, f, err, sizeof(err));
    if (six == NULL) {
        assert_non_null(strstr(err, "cannot listen on"));
        return;
    }
    assert_true(status_server_port(six) > 0);
    status_server_free(six);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_open_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_http10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_client_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_all_answering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_slow_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_while_sending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unix_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_errors, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
