/* Unit tests of io/status_auth: the bcrypt hash form, checks against the
 * system's crypt_r (cost 4 hashes, fixed here), unknown users, the cache of
 * successful checks and its expiry (time injected); and requests through a
 * real evhttp server on loopback: checks deferred to the worker and their
 * results back on the loop, the cache answering at once, the counts, a
 * connection closed while its check is pending, the checker freed with
 * checks pending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ssemon/base/clock.h"
#include "ssemon/io/status_auth.h"

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* "right" at cost 4, made with python3's crypt. */
static const char hash_right[] = "$2b$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu";

static void test_hash_valid(void **state)
{
    (void)state;
    assert_true(status_auth_hash_valid(hash_right));
    assert_true(
        status_auth_hash_valid("$2y$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_true(
        status_auth_hash_valid("$2a$31$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_false(status_auth_hash_valid(NULL));
    assert_false(status_auth_hash_valid(""));
    /* cost out of range, wrong prefix, wrong length, a character outside bcrypt's alphabet */
    assert_false(
        status_auth_hash_valid("$2b$03$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_false(
        status_auth_hash_valid("$2b$32$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_false(
        status_auth_hash_valid("$2x$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_false(
        status_auth_hash_valid("$6$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_false(
        status_auth_hash_valid("$2b$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UI"));
    assert_false(
        status_auth_hash_valid("$2b$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIuu"));
    assert_false(
        status_auth_hash_valid("$2b$04$10asea3dZkBW2Ho5yBnR8O+euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
}

static void test_check(void **state)
{
    (void)state;
    const struct status_auth_user users[] = {{"alice", hash_right}};
    char err[128];
    struct status_auth *a = status_auth_new(users, 1, false, err, sizeof(err));
    assert_non_null(a);
    assert_true(status_auth_check(a, "alice", "right", 1000));
    assert_false(status_auth_check(a, "alice", "wrong", 1000));
    assert_false(status_auth_check(a, "alice", "", 1000));
    assert_false(status_auth_check(a, "bob", "right", 1000));
    assert_false(status_auth_check(a, "alic", "right", 1000));
    assert_false(status_auth_check(a, "alice2", "right", 1000));
    /* Remembered, then past its time checked again: the same answers. */
    assert_true(status_auth_check(a, "alice", "right", 1000 + STATUS_AUTH_CACHE_MS - 1));
    assert_true(status_auth_check(a, "alice", "right", 1000 + STATUS_AUTH_CACHE_MS + 1));
    /* A remembered success is for that user and password only. */
    assert_false(status_auth_check(a, "alice", "righ", 2000));
    assert_false(status_auth_check(a, "alicer", "ight", 2000));
    status_auth_free(a);
}

static void test_new_refuses(void **state)
{
    (void)state;
    char err[128];
    const struct status_auth_user bad[] = {{"alice", "$2b$04$short"}};
    assert_null(status_auth_new(bad, 1, false, err, sizeof(err)));
    assert_non_null(strstr(err, "bcrypt"));
    assert_null(strstr(err, "short")); /* the hash is not quoted */
    assert_null(status_auth_new(bad, 0, false, err, sizeof(err)));
}

/* ---- through evhttp ---- */

#define RIG_MAX 8

struct rig {
    struct event_base *base;
    struct evhttp *http;
    struct status_auth *auth;
    unsigned port;
    struct evhttp_connection *clients[RIG_MAX];
    size_t n_clients;
    int codes[RIG_MAX]; /* the clients' answers, in order; 0: failed */
    size_t n_codes;
    struct evhttp_connection *server_conn; /* of the last request */
    enum status_auth_verdict verdict;      /* of the last request */
    size_t n_handled;
    size_t n_admitted;
};

static void rig_closed(struct evhttp_connection *evcon, void *arg)
{
    struct rig *r = arg;
    status_auth_forget(r->auth, evcon);
}

static void rig_admitted(void *ctx, struct evhttp_request *req)
{
    struct rig *r = ctx;
    r->n_admitted++;
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void rig_handle(struct evhttp_request *req, void *arg)
{
    struct rig *r = arg;
    r->server_conn = evhttp_request_get_connection(req);
    evhttp_connection_set_closecb(r->server_conn, rig_closed, r);
    r->n_handled++;
    r->verdict = status_auth_admit(r->auth, req, false, clock_mono_ms(), rig_admitted, r);
    if (r->verdict == STATUS_AUTH_ADMIT)
        evhttp_send_reply(req, 200, "OK", NULL);
    /* Back to the test before the worker's result can be acted on. */
    event_base_loopbreak(r->base);
}

static void rig_answered(struct evhttp_request *req, void *arg)
{
    struct rig *r = arg;
    if (r->n_codes < RIG_MAX)
        r->codes[r->n_codes++] = req != NULL ? evhttp_request_get_response_code(req) : 0;
}

static void rig_start(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    static const struct status_auth_user users[] = {{"alice", hash_right}};
    char err[128];
    r->auth = status_auth_new(users, 1, false, err, sizeof(err));
    assert_non_null(r->auth);
    r->base = event_base_new();
    r->http = evhttp_new(r->base);
    assert_non_null(r->http);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(r->http, "127.0.0.1", 0);
    assert_non_null(bs);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &len), 0);
    r->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    evhttp_set_gencb(r->http, rig_handle, r);
}

/* GET /x with `authorization` (NULL: none), on a new connection. */
static void rig_send(struct rig *r, const char *authorization)
{
    assert_true(r->n_clients < RIG_MAX);
    struct evhttp_connection *c =
        evhttp_connection_base_new(r->base, NULL, "127.0.0.1", (unsigned short)r->port);
    assert_non_null(c);
    r->clients[r->n_clients++] = c;
    struct evhttp_request *req = evhttp_request_new(rig_answered, r);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", "rig");
    if (authorization != NULL)
        evhttp_add_header(h, "Authorization", authorization);
    assert_int_equal(evhttp_make_request(c, req, EVHTTP_REQ_GET, "/x"), 0);
}

static bool rig_codes_at_least(struct rig *r, size_t n)
{
    return r->n_codes >= n;
}

static bool rig_handled_at_least(struct rig *r, size_t n)
{
    return r->n_handled >= n;
}

/* Runs the loop until `cond(r, n)`, for at most 5 s. */
static bool rig_run_until(struct rig *r, bool (*cond)(struct rig *, size_t), size_t n)
{
    uint64_t end = clock_mono_ms() + 5000;
    struct timeval tick = {0, 10000};
    for (int i = 0; i < 5000 && !cond(r, n) && clock_mono_ms() < end; i++) {
        event_base_loopexit(r->base, &tick);
        event_base_dispatch(r->base);
    }
    return cond(r, n);
}

static void rig_stop(struct rig *r)
{
    for (size_t i = 0; i < r->n_clients; i++)
        evhttp_connection_free(r->clients[i]);
    evhttp_free(r->http);
    status_auth_free(r->auth);
    event_base_free(r->base);
}

static void test_deferred(void **state)
{
    (void)state;
    struct rig r;
    rig_start(&r);
    /* First a check on the worker, then the cache at once. */
    rig_send(&r, "Basic YWxpY2U6cmlnaHQ="); /* alice:right */
    assert_true(rig_run_until(&r, rig_codes_at_least, 1));
    assert_int_equal(r.codes[0], 200);
    assert_int_equal(r.verdict, STATUS_AUTH_DEFERRED);
    assert_int_equal(r.n_admitted, 1);
    rig_send(&r, "Basic YWxpY2U6cmlnaHQ=");
    assert_true(rig_run_until(&r, rig_codes_at_least, 2));
    assert_int_equal(r.codes[1], 200);
    assert_int_equal(r.verdict, STATUS_AUTH_ADMIT);
    assert_int_equal(r.n_admitted, 1);
    /* A wrong password: deferred, then 401; no credentials: 401 at once. */
    rig_send(&r, "Basic YWxpY2U6d3Jvbmc="); /* alice:wrong */
    assert_true(rig_run_until(&r, rig_codes_at_least, 3));
    assert_int_equal(r.codes[2], 401);
    assert_int_equal(r.verdict, STATUS_AUTH_DEFERRED);
    rig_send(&r, NULL);
    assert_true(rig_run_until(&r, rig_codes_at_least, 4));
    assert_int_equal(r.codes[3], 401);
    assert_int_equal(r.verdict, STATUS_AUTH_ANSWERED);
    const struct status_auth_counts *c = status_auth_counts(r.auth);
    assert_int_equal(c->sac_ok, 1);
    assert_int_equal(c->sac_cached, 1);
    assert_int_equal(c->sac_denied, 2);
    assert_int_equal(c->sac_busy, 0);
    assert_int_equal(status_auth_pending(r.auth), 0);
    rig_stop(&r);
}

static bool rig_nothing_pending(struct rig *r, size_t n)
{
    (void)n;
    return status_auth_pending(r->auth) == 0;
}

/* The server drops the connection while its check is pending: the request
 * goes with it and is never touched again (AddressSanitizer would tell). */
static void test_closed_while_pending(void **state)
{
    (void)state;
    struct rig r;
    rig_start(&r);
    rig_send(&r, "Basic YWxpY2U6d3Jvbmc=");
    assert_true(rig_run_until(&r, rig_handled_at_least, 1));
    assert_int_equal(r.verdict, STATUS_AUTH_DEFERRED);
    assert_int_equal(status_auth_pending(r.auth), 1);
    evhttp_connection_free(r.server_conn);
    assert_true(rig_run_until(&r, rig_nothing_pending, 0));
    assert_true(rig_run_until(&r, rig_codes_at_least, 1));
    assert_int_equal(r.codes[0], 0); /* the client saw the connection go */
    const struct status_auth_counts *c = status_auth_counts(r.auth);
    assert_int_equal(c->sac_ok + c->sac_denied, 0); /* never acted on */
    rig_stop(&r);
}

/* The checker freed (a reload) with a check pending: answered, 401 when
 * its result was in, else 503. */
static void test_freed_while_pending(void **state)
{
    (void)state;
    struct rig r;
    rig_start(&r);
    rig_send(&r, "Basic YWxpY2U6d3Jvbmc=");
    assert_true(rig_run_until(&r, rig_handled_at_least, 1));
    assert_int_equal(r.verdict, STATUS_AUTH_DEFERRED);
    status_auth_free(r.auth);
    static const struct status_auth_user users[] = {{"alice", hash_right}};
    char err[128];
    r.auth = status_auth_new(users, 1, false, err, sizeof(err));
    assert_true(rig_run_until(&r, rig_codes_at_least, 1));
    assert_true(r.codes[0] == 401 || r.codes[0] == 503);
    rig_stop(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_valid),           cmocka_unit_test(test_check),
        cmocka_unit_test(test_new_refuses),          cmocka_unit_test(test_deferred),
        cmocka_unit_test(test_closed_while_pending), cmocka_unit_test(test_freed_while_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
