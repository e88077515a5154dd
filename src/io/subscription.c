#include "ssemon/io/subscription.h"
#include "ssemon/base/clock.h"

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/core/backoff.h"
#include "ssemon/core/http_header.h"
#include "ssemon/io/deadline.h"
#include "ssemon/io/sub_engine_internal.h"

/* libcurl's receive buffer per transfer. SSE events are small and a process
 * holds thousands of streams, so memory per stream matters more than bulk
 * throughput. */
#define SUB_RECV_BUFFER 4096L
#define SUB_KEEPALIVE_IDLE_S 30L
#define SUB_KEEPALIVE_INTVL_S 10L
/* curl takes timeouts as long milliseconds. */
#define SUB_MAX_TIMEOUT_MS ((uint64_t)24 * 3600 * 1000)
#define SUB_ERROR_MAX 256
/* How long a refused response's body is read before the transfer ends. */
#define SUB_BODY_CAPTURE_MS 2000

enum sub_state {
    SUB_IDLE,       /* not started, stopped, or finished without reconnect */
    SUB_WAITING,    /* the retry deadline will start the next attempt */
    SUB_CONNECTING, /* request under way, final headers not yet judged */
    SUB_OPEN,       /* streaming */
    SUB_CLOSING,    /* failed inside a curl callback; curl reports it done next */
};

/* One per socket curl asks us to watch (curl_multi_assign keeps it). */
struct sub_sock {
    struct event *sk_ev;
    struct sub_sock *sk_prev;
    struct sub_sock *sk_next;
};

struct sub_engine {
    struct event_base *se_base;
    CURLM *se_multi;
    struct event *se_timer; /* curl's single timeout */
    struct subscription *se_subs;
    struct sub_sock *se_socks;
    /* Subscriptions whose curl handle must be removed, or that must be
     * freed, once no callback is running. */
    struct subscription *se_reap;
    int se_depth;    /* nesting of engine dispatch (event-loop callbacks) */
    bool se_in_curl; /* inside a curl_multi call: handles may not be removed */
    uint64_t se_seq; /* distinguishes seeds of subscriptions made together */
    /* One-shot transfers (sub_engine_internal.h): those in flight, and
     * those whose add or remove waits for the end of a curl call. */
    struct sub_transfer *se_xfers;
    size_t se_nxfers;
    struct sub_transfer *se_xfer_reap;
};

struct subscription {
    struct sub_engine *sub_eng;
    struct subscription *sub_prev;
    struct subscription *sub_next;
    struct subscription *sub_reap_next;
    bool sub_on_reap;
    bool sub_dead;     /* freed by the user; memory kept until reaped */
    bool sub_attached; /* the easy handle is in the multi */
    enum sub_state sub_state;

    struct sub_callbacks sub_cbs;
    void *sub_ctx;

    /* Options, owned copies; the URL and headers are the target, which
     * subscription_set_target may change between attempts. */
    char *sub_url;
    char **sub_headers; /* ready for curl ("Name;" for an empty value) */
    size_t sub_nheaders;
    bool sub_user_accept;
    bool sub_user_cache_control;
    uint64_t sub_connect_timeout_ms;
    uint64_t sub_idle_timeout_ms;
    uint64_t sub_healthy_ms;
    bool sub_reconnect;
    bool sub_follow; /* curl follows redirects */

    CURL *sub_easy;
    struct curl_slist *sub_req_headers;
    struct sse_parser *sub_parser;
    struct deadline sub_watchdog; /* headers timeout, then idle timeout */
    struct deadline sub_retry;
    struct backoff sub_backoff;
    char sub_curl_error[CURL_ERROR_SIZE];

    /* The current connection. */
    uint64_t sub_t_start;
    uint64_t sub_t_open;
    uint64_t sub_t_rx;
    long sub_status;
    bool sub_opened;
    bool sub_retry_reported; /* retry_out_of_range already reported */
    bool sub_got_headers;
    bool sub_got_byte;
    bool sub_has_location;
    char sub_location[SUB_MAX_LOCATION + 1]; /* the Location value, "" = none */
    /* The body of a refused response (http_status, content_type), its
     * first SUB_MAX_BODY bytes: allocated at the first refused response
     * that has a body, kept for the next ones. */
    char *sub_body;
    size_t sub_body_len;
    bool sub_capturing; /* SUB_CLOSING while the refused body is read */
    bool sub_ct_ok;
    char sub_ctype[SUB_MAX_CONTENT_TYPE + 1];
    /* Listed headers: [u32 name_len][u32 value_len][name][value]... */
    char *sub_hdr_buf;
    size_t sub_hdr_len;
    size_t sub_hdr_cap;
    size_t sub_hdr_count;
    enum stream_close_reason sub_fail_reason; /* for SUB_CLOSING */
    char sub_fail_msg[SUB_ERROR_MAX];

    struct sub_stats sub_stats;
};

static void sub_engine_leave(struct sub_engine *e);
static void sub_reap_push(struct subscription *s);
static void sub_xfer_reap(struct sub_engine *e);
static void sub_xfer_done(struct sub_engine *e, CURL *easy, CURLcode rc);
static void sub_xfer_release_all(struct sub_engine *e);

void sub_options_init(struct sub_options *o)
{
    memset(o, 0, sizeof(*o));
    o->so_connect_timeout_ms = SUB_DEFAULT_CONNECT_TIMEOUT_MS;
    o->so_max_redirects = SUB_DEFAULT_MAX_REDIRECTS;
    o->so_backoff_min_ms = BACKOFF_DEFAULT_MIN_MS;
    o->so_backoff_max_ms = BACKOFF_DEFAULT_MAX_MS;
    o->so_healthy_ms = SUB_DEFAULT_HEALTHY_MS;
    o->so_reconnect = true;
}

/* ---- engine: curl multi-socket glue ---- */

static void sub_engine_action(struct sub_engine *e, curl_socket_t fd, int mask);

static void sub_engine_sock_event(evutil_socket_t fd, short what, void *arg)
{
    int mask = 0;
    if (what & EV_READ)
        mask |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        mask |= CURL_CSELECT_OUT;
    sub_engine_action(arg, fd, mask);
}

static void sub_engine_timer_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sub_engine_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

static void sub_sock_free(struct sub_engine *e, struct sub_sock *sk)
{
    if (sk->sk_prev != NULL)
        sk->sk_prev->sk_next = sk->sk_next;
    else
        e->se_socks = sk->sk_next;
    if (sk->sk_next != NULL)
        sk->sk_next->sk_prev = sk->sk_prev;
    event_free(sk->sk_ev);
    free(sk);
}

static int sub_engine_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    (void)easy;
    struct sub_engine *e = userp;
    struct sub_sock *sk = sockp;

    if (what == CURL_POLL_REMOVE) {
        if (sk != NULL) {
            curl_multi_assign(e->se_multi, fd, NULL);
            sub_sock_free(e, sk);
        }
        return 0;
    }
    short flags = EV_PERSIST;
    if (what & CURL_POLL_IN)
        flags |= EV_READ;
    if (what & CURL_POLL_OUT)
        flags |= EV_WRITE;

    if (sk == NULL) {
        sk = calloc(1, sizeof(*sk));
        if (sk == NULL)
            return -1;
        sk->sk_ev = event_new(e->se_base, fd, flags, sub_engine_sock_event, e);
        if (sk->sk_ev == NULL) {
            free(sk);
            return -1;
        }
        sk->sk_next = e->se_socks;
        if (e->se_socks != NULL)
            e->se_socks->sk_prev = sk;
        e->se_socks = sk;
        curl_multi_assign(e->se_multi, fd, sk);
    } else {
        event_del(sk->sk_ev);
        event_assign(sk->sk_ev, e->se_base, fd, flags, sub_engine_sock_event, e);
    }
    if ((flags & (EV_READ | EV_WRITE)) != 0 && event_add(sk->sk_ev, NULL) != 0)
        return -1;
    return 0;
}

static int sub_engine_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct sub_engine *e = userp;
    if (timeout_ms < 0) {
        evtimer_del(e->se_timer);
        return 0;
    }
    struct timeval tv = {
        .tv_sec = timeout_ms / 1000,
        .tv_usec = (timeout_ms % 1000) * 1000,
    };
    return evtimer_add(e->se_timer, &tv) == 0 ? 0 : -1;
}

struct sub_engine *sub_engine_new(struct event_base *base)
{
    struct sub_engine *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->se_base = base;
    e->se_timer = evtimer_new(base, sub_engine_timer_event, e);
    e->se_multi = curl_multi_init();
    if (e->se_timer == NULL || e->se_multi == NULL)
        goto fail;
    if (curl_multi_setopt(e->se_multi, CURLMOPT_SOCKETFUNCTION, sub_engine_socket_cb) != CURLM_OK ||
        curl_multi_setopt(e->se_multi, CURLMOPT_SOCKETDATA, e) != CURLM_OK ||
        curl_multi_setopt(e->se_multi, CURLMOPT_TIMERFUNCTION, sub_engine_timer_cb) != CURLM_OK ||
        curl_multi_setopt(e->se_multi, CURLMOPT_TIMERDATA, e) != CURLM_OK ||
        /* A monitor watches each stream on its own connection: with HTTP/2
         * multiplexing one broken connection would fail every subscription
         * to that host at once, and hide per-stream behaviour. */
        curl_multi_setopt(e->se_multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING) != CURLM_OK)
        goto fail;
    return e;
fail:
    if (e->se_multi != NULL)
        curl_multi_cleanup(e->se_multi);
    if (e->se_timer != NULL)
        event_free(e->se_timer);
    free(e);
    return NULL;
}

static void sub_destroy(struct subscription *s);

void sub_engine_free(struct sub_engine *e)
{
    if (e == NULL)
        return;
    while (e->se_subs != NULL) {
        struct subscription *s = e->se_subs;
        s->sub_dead = true;
        sub_destroy(s);
    }
    sub_xfer_release_all(e);
    curl_multi_cleanup(e->se_multi);
    /* curl may close cached connections without announcing each socket. */
    while (e->se_socks != NULL)
        sub_sock_free(e, e->se_socks);
    event_free(e->se_timer);
    free(e);
}

/* ---- subscription helpers ---- */

static uint64_t sub_cap_ms(uint64_t ms)
{
    return ms > SUB_MAX_TIMEOUT_MS ? SUB_MAX_TIMEOUT_MS : ms;
}

static void sub_detach(struct subscription *s)
{
    if (!s->sub_attached)
        return;
    struct sub_engine *e = s->sub_eng;
    if (e->se_in_curl) {
        sub_reap_push(s);
        return;
    }
    e->se_in_curl = true;
    curl_multi_remove_handle(e->se_multi, s->sub_easy);
    e->se_in_curl = false;
    s->sub_attached = false;
}

static void sub_reap_push(struct subscription *s)
{
    if (s->sub_on_reap)
        return;
    s->sub_on_reap = true;
    s->sub_reap_next = s->sub_eng->se_reap;
    s->sub_eng->se_reap = s;
}

static void sub_engine_reap(struct sub_engine *e)
{
    while (e->se_reap != NULL) {
        struct subscription *s = e->se_reap;
        e->se_reap = s->sub_reap_next;
        s->sub_on_reap = false;
        sub_detach(s);
        if (s->sub_dead)
            sub_destroy(s);
    }
}

static void sub_engine_enter(struct sub_engine *e)
{
    e->se_depth++;
}

static void sub_engine_leave(struct sub_engine *e)
{
    if (--e->se_depth == 0) {
        sub_engine_reap(e);
        sub_xfer_reap(e);
    }
}

/* Whether the subscription still wants callbacks for connection `state`. */
static bool sub_live(const struct subscription *s, enum sub_state state)
{
    return !s->sub_dead && s->sub_state == state;
}

/* The listed headers of the last response, pointing into sub_hdr_buf. */
static size_t sub_header_list(const struct subscription *s,
                              struct sub_header list[SUB_MAX_LISTED_HEADERS])
{
    size_t n = 0;
    size_t off = 0;
    while (n < s->sub_hdr_count) {
        uint32_t lens[2];
        const char *p = s->sub_hdr_buf + off;
        memcpy(lens, p, sizeof(lens));
        list[n].sh_name = p + sizeof(lens);
        list[n].sh_name_len = lens[0];
        list[n].sh_value = p + sizeof(lens) + lens[0];
        list[n].sh_value_len = lens[1];
        off += sizeof(lens) + lens[0] + lens[1];
        n++;
    }
    return n;
}

static void sub_report_closed(struct subscription *s, enum stream_close_reason reason,
                              const char *error)
{
    uint64_t now = clock_mono_ms();
    deadline_cancel(&s->sub_watchdog);
    curl_slist_free_all(s->sub_req_headers);
    s->sub_req_headers = NULL;

    struct sub_closed_info info = {
        .scl_reason = reason,
        .scl_error = error != NULL ? error : "",
        .scl_status = s->sub_status,
        .scl_content_type = s->sub_ctype,
        .scl_before_headers = !s->sub_got_headers,
        .scl_location = s->sub_location,
        .scl_body = s->sub_body_len != 0 ? s->sub_body : NULL,
        .scl_body_len = s->sub_body_len,
    };
    struct sub_header list[SUB_MAX_LISTED_HEADERS];
    if (s->sub_got_headers) {
        info.scl_nheaders = sub_header_list(s, list);
        info.scl_headers = info.scl_nheaders != 0 ? list : NULL;
    }
    bool opened = s->sub_opened;
    if (opened)
        info.scl_ms_open = now - s->sub_t_open;
    if (opened && info.scl_ms_open >= s->sub_healthy_ms)
        backoff_reset(&s->sub_backoff);
    if (reason != STREAM_CLOSE_EOF && reason != STREAM_CLOSE_STOPPED)
        s->sub_stats.ss_failures++;

    uint64_t retry_ms = 0;
    if (reason == STREAM_CLOSE_STOPPED || !s->sub_reconnect) {
        s->sub_state = SUB_IDLE;
    } else {
        s->sub_state = SUB_WAITING;
        if (!opened || !sse_parser_retry(s->sub_parser, &retry_ms))
            retry_ms = backoff_next(&s->sub_backoff);
        else
            retry_ms = backoff_clamp(&s->sub_backoff, retry_ms);
        info.scl_will_retry = true;
        info.scl_retry_in_ms = retry_ms;
    }
    if (s->sub_cbs.sc_on_closed != NULL && !s->sub_dead)
        s->sub_cbs.sc_on_closed(s->sub_ctx, s, &info);
    /* The callback may have stopped, restarted or freed the subscription. */
    if (sub_live(s, SUB_WAITING) && !deadline_pending(&s->sub_retry) &&
        deadline_arm(&s->sub_retry, retry_ms) != 0)
        s->sub_state = SUB_IDLE;
}

/* Ends the current connection from outside curl's callbacks. */
static void sub_close_now(struct subscription *s, enum stream_close_reason reason,
                          const char *error)
{
    sub_detach(s);
    sub_report_closed(s, reason, error);
}

/* Marks the current connection failed from inside a curl callback, which
 * then returns an error so curl ends the transfer and reports it done. */
static void sub_fail(struct subscription *s, enum stream_close_reason reason, const char *error)
{
    s->sub_state = SUB_CLOSING;
    s->sub_fail_reason = reason;
    snprintf(s->sub_fail_msg, sizeof(s->sub_fail_msg), "%s", error != NULL ? error : "");
}

/* ---- response headers ---- */

static void sub_headers_reset(struct subscription *s)
{
    s->sub_status = 0;
    s->sub_has_location = false;
    s->sub_location[0] = '\0';
    s->sub_ct_ok = false;
    s->sub_ctype[0] = '\0';
    s->sub_hdr_len = 0;
    s->sub_hdr_count = 0;
}

static void sub_headers_add(struct subscription *s, const struct http_header_field *f)
{
    size_t need = 2 * sizeof(uint32_t) + f->hf_name_len + f->hf_value_len;
    if (s->sub_hdr_count >= SUB_MAX_LISTED_HEADERS ||
        need > SUB_MAX_LISTED_HEADER_BYTES - s->sub_hdr_len)
        return;
    if (s->sub_hdr_len + need > s->sub_hdr_cap) {
        size_t cap = s->sub_hdr_cap != 0 ? s->sub_hdr_cap : 512;
        while (cap < s->sub_hdr_len + need)
            cap *= 2;
        char *nb = realloc(s->sub_hdr_buf, cap);
        if (nb == NULL)
            return; /* the list is informational; judging does not need it */
        s->sub_hdr_buf = nb;
        s->sub_hdr_cap = cap;
    }
    uint32_t lens[2] = {(uint32_t)f->hf_name_len, (uint32_t)f->hf_value_len};
    char *p = s->sub_hdr_buf + s->sub_hdr_len;
    memcpy(p, lens, sizeof(lens));
    memcpy(p + sizeof(lens), f->hf_name, f->hf_name_len);
    memcpy(p + sizeof(lens) + f->hf_name_len, f->hf_value, f->hf_value_len);
    s->sub_hdr_len += need;
    s->sub_hdr_count++;
}

static long sub_parse_status(const char *line, size_t len)
{
    const char *sp = memchr(line, ' ', len);
    if (sp == NULL || line + len - sp < 4)
        return 0;
    long code = 0;
    for (int i = 1; i <= 3; i++) {
        char c = sp[i];
        if (c < '0' || c > '9')
            return 0;
        code = code * 10 + (c - '0');
    }
    return code;
}

/* Whether curl will follow this (non-final) response. A wrong guess only
 * delays the verdict until the transfer ends. */
static bool sub_is_followed_redirect(const struct subscription *s)
{
    return s->sub_follow && s->sub_has_location && s->sub_status >= 300 && s->sub_status < 400 &&
           s->sub_status != 304;
}

static void sub_call_open(struct subscription *s, uint64_t ms_to_headers)
{
    if (s->sub_cbs.sc_on_open == NULL)
        return;
    struct sub_header list[SUB_MAX_LISTED_HEADERS];
    size_t n = sub_header_list(s, list);
    char *url = NULL;
    long redirects = 0;
    curl_easy_getinfo(s->sub_easy, CURLINFO_EFFECTIVE_URL, &url);
    curl_easy_getinfo(s->sub_easy, CURLINFO_REDIRECT_COUNT, &redirects);
    struct sub_open_info info = {
        .soi_status = s->sub_status,
        .soi_content_type = s->sub_ctype,
        .soi_headers = list,
        .soi_nheaders = n,
        .soi_url = url != NULL ? url : "",
        .soi_redirects = redirects,
        .soi_ms_to_headers = ms_to_headers,
    };
    s->sub_cbs.sc_on_open(s->sub_ctx, s, &info);
}

/* The final response's headers are complete: open the stream or fail it.
 * Returns whether curl should go on. Runs inside a curl callback. */
static bool sub_judge(struct subscription *s)
{
    uint64_t now = clock_mono_ms();
    uint64_t ms = now - s->sub_t_start;
    s->sub_got_headers = true;
    deadline_cancel(&s->sub_watchdog);
    if (s->sub_status != 200 || !s->sub_ct_ok) {
        /* Refused: its first SUB_MAX_BODY body bytes are read (within
         * SUB_BODY_CAPTURE_MS), then the transfer ends. */
        sub_fail(s, s->sub_status != 200 ? STREAM_CLOSE_HTTP_STATUS : STREAM_CLOSE_CONTENT_TYPE,
                 "");
        s->sub_capturing = deadline_arm(&s->sub_watchdog, SUB_BODY_CAPTURE_MS) == 0;
        return s->sub_capturing;
    }
    s->sub_state = SUB_OPEN;
    s->sub_opened = true;
    s->sub_t_open = now;
    s->sub_t_rx = now;
    s->sub_stats.ss_opens++;
    s->sub_stats.ss_last_ms_to_headers = ms;
    if (s->sub_idle_timeout_ms != 0)
        deadline_arm(&s->sub_watchdog, s->sub_idle_timeout_ms);
    sub_call_open(s, ms);
    return sub_live(s, SUB_OPEN);
}

static size_t sub_header_cb(char *line, size_t size, size_t nmemb, void *userp)
{
    struct subscription *s = userp;
    size_t len = size * nmemb;
    if (s->sub_dead)
        return 0;
    if (s->sub_state == SUB_OPEN)
        return len; /* trailers */
    if (s->sub_state != SUB_CONNECTING)
        return 0;

    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* Each hop of a redirect, and each 1xx, brings its own block. */
        sub_headers_reset(s);
        s->sub_status = sub_parse_status(line, len);
        return len;
    }
    if (len == 0 || (len <= 2 && (line[0] == '\r' || line[0] == '\n'))) {
        if (s->sub_status < 200 || sub_is_followed_redirect(s))
            return len;
        return sub_judge(s) ? len : 0;
    }
    struct http_header_field f;
    if (!http_header_split(line, len, &f))
        return len;
    if (http_header_name_eq(f.hf_name, f.hf_name_len, "Content-Type")) {
        s->sub_ct_ok = http_header_media_type_is(f.hf_value, f.hf_value_len, "text/event-stream");
        size_t n = f.hf_value_len < SUB_MAX_CONTENT_TYPE ? f.hf_value_len : SUB_MAX_CONTENT_TYPE;
        memcpy(s->sub_ctype, f.hf_value, n);
        s->sub_ctype[n] = '\0';
    } else if (http_header_name_eq(f.hf_name, f.hf_name_len, "Location")) {
        s->sub_has_location = true;
        size_t n = f.hf_value_len < SUB_MAX_LOCATION ? f.hf_value_len : SUB_MAX_LOCATION;
        memcpy(s->sub_location, f.hf_value, n);
        s->sub_location[n] = '\0';
    }
    sub_headers_add(s, &f);
    return len;
}

/* A refused response's body: keeps its first SUB_MAX_BODY bytes, then
 * ends the transfer (returning less than `len`). */
static size_t sub_capture_body(struct subscription *s, const char *buf, size_t len)
{
    if (s->sub_body == NULL && (s->sub_body = malloc(SUB_MAX_BODY)) == NULL) {
        s->sub_capturing = false;
        return 0;
    }
    size_t room = SUB_MAX_BODY - s->sub_body_len;
    size_t n = len < room ? len : room;
    memcpy(s->sub_body + s->sub_body_len, buf, n);
    s->sub_body_len += n;
    if (s->sub_body_len == SUB_MAX_BODY) {
        s->sub_capturing = false;
        return 0;
    }
    return len;
}

static size_t sub_write_cb(char *buf, size_t size, size_t nmemb, void *userp)
{
    struct subscription *s = userp;
    size_t len = size * nmemb;
    /* Body bytes before a verdict: a response curl did not follow after all. */
    if (sub_live(s, SUB_CONNECTING) && !sub_judge(s))
        return 0;
    if (sub_live(s, SUB_CLOSING) && s->sub_capturing)
        return sub_capture_body(s, buf, len);
    if (!sub_live(s, SUB_OPEN))
        return 0;
    uint64_t now = clock_mono_ms();
    s->sub_t_rx = now;
    if (!s->sub_got_byte) {
        s->sub_got_byte = true;
        s->sub_stats.ss_last_ms_to_first_byte = now - s->sub_t_start;
    }
    s->sub_stats.ss_bytes += len;
    if (s->sub_cbs.sc_on_chunk != NULL) {
        s->sub_cbs.sc_on_chunk(s->sub_ctx, s, buf, len);
        if (!sub_live(s, SUB_OPEN))
            return 0;
    }
    if (sse_parser_feed(s->sub_parser, buf, len) != 0) {
        if (sub_live(s, SUB_OPEN))
            sub_fail(s, STREAM_CLOSE_TRANSPORT, "out of memory in the SSE parser");
        return 0;
    }
    return sub_live(s, SUB_OPEN) ? len : 0;
}

/* ---- parser pass-through ---- */

static void sub_on_event(void *ctx, const struct sse_event *ev)
{
    struct subscription *s = ctx;
    if (!sub_live(s, SUB_OPEN))
        return;
    s->sub_stats.ss_events++;
    if (s->sub_cbs.sc_on_event != NULL)
        s->sub_cbs.sc_on_event(s->sub_ctx, s, ev);
}

static void sub_on_comment(void *ctx, const char *text, size_t len)
{
    struct subscription *s = ctx;
    if (sub_live(s, SUB_OPEN) && s->sub_cbs.sc_on_comment != NULL)
        s->sub_cbs.sc_on_comment(s->sub_ctx, s, text, len);
}

/* A retry outside the backoff range is clamped when it is used (see
 * sub_report_closed) and reported once per connection: a server that sends
 * it before every event must not flood the monitor with anomalies. */
static void sub_on_retry(void *ctx, uint64_t ms)
{
    struct subscription *s = ctx;
    if (!sub_live(s, SUB_OPEN))
        return;
    if (s->sub_cbs.sc_on_retry != NULL) {
        s->sub_cbs.sc_on_retry(s->sub_ctx, s, ms);
        if (!sub_live(s, SUB_OPEN))
            return;
    }
    if (s->sub_retry_reported || backoff_clamp(&s->sub_backoff, ms) == ms)
        return;
    s->sub_retry_reported = true;
    if (s->sub_cbs.sc_on_anomaly != NULL) {
        char line[sizeof("retry: ") + 20];
        int n = snprintf(line, sizeof(line), "retry: %" PRIu64, ms);
        s->sub_cbs.sc_on_anomaly(s->sub_ctx, s, SSE_ANOMALY_RETRY_OUT_OF_RANGE, line, (size_t)n);
    }
}

static void sub_on_anomaly(void *ctx, enum sse_anomaly kind, const char *line, size_t len)
{
    struct subscription *s = ctx;
    if (sub_live(s, SUB_OPEN) && s->sub_cbs.sc_on_anomaly != NULL)
        s->sub_cbs.sc_on_anomaly(s->sub_ctx, s, kind, line, len);
}

/* ---- connection lifecycle ---- */

static void sub_transfer_done(struct subscription *s, CURLcode rc)
{
    enum sub_state state = s->sub_state;
    sub_detach(s);
    if (s->sub_dead)
        return;
    char msg[SUB_ERROR_MAX];
    const char *curl_msg =
        s->sub_curl_error[0] != '\0' ? s->sub_curl_error : curl_easy_strerror(rc);
    /* Where a redirect would have gone (not followed, or one too many):
     * curl's resolved URL over the raw Location value. */
    char *redirect = NULL;
    if (curl_easy_getinfo(s->sub_easy, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK &&
        redirect != NULL && redirect[0] != '\0')
        snprintf(s->sub_location, sizeof(s->sub_location), "%s", redirect);
    s->sub_capturing = false;
    switch (state) {
    case SUB_CLOSING:
        snprintf(msg, sizeof(msg), "%s", s->sub_fail_msg);
        sub_report_closed(s, s->sub_fail_reason, msg);
        return;
    case SUB_OPEN:
        if (rc == CURLE_OK)
            sub_report_closed(s, STREAM_CLOSE_EOF, "");
        else
            sub_report_closed(s, STREAM_CLOSE_TRANSPORT, curl_msg);
        return;
    case SUB_CONNECTING:
        if (rc == CURLE_TOO_MANY_REDIRECTS) {
            s->sub_got_headers = true;
            sub_report_closed(s, STREAM_CLOSE_HTTP_STATUS, curl_msg);
        } else if (rc == CURLE_OK) {
            s->sub_got_headers = s->sub_status != 0;
            sub_report_closed(s, STREAM_CLOSE_HTTP_STATUS,
                              s->sub_status != 0 ? "" : "the response had no status");
        } else {
            sub_report_closed(s, STREAM_CLOSE_TRANSPORT, curl_msg);
        }
        return;
    case SUB_IDLE:
    case SUB_WAITING:
        /* Stopped (or stopped and restarted) while curl still held it. */
        return;
    }
}

static void sub_engine_drain(struct sub_engine *e)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(e->se_multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode rc = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        if (priv != NULL)
            sub_transfer_done((struct subscription *)(void *)priv, rc);
        else
            sub_xfer_done(e, msg->easy_handle, rc);
    }
}

static void sub_engine_action(struct sub_engine *e, curl_socket_t fd, int mask)
{
    int running = 0;
    sub_engine_enter(e);
    e->se_in_curl = true;
    curl_multi_socket_action(e->se_multi, fd, mask, &running);
    e->se_in_curl = false;
    sub_engine_drain(e);
    sub_engine_leave(e);
}

static int sub_build_request_headers(struct subscription *s, const char *lid, size_t lid_len)
{
    struct curl_slist *list = NULL;
    struct curl_slist *n;
    if (!s->sub_user_accept) {
        if ((n = curl_slist_append(list, "Accept: text/event-stream")) == NULL)
            goto fail;
        list = n;
    }
    if (!s->sub_user_cache_control) {
        if ((n = curl_slist_append(list, "Cache-Control: no-cache")) == NULL)
            goto fail;
        list = n;
    }
    for (size_t i = 0; i < s->sub_nheaders; i++) {
        if ((n = curl_slist_append(list, s->sub_headers[i])) == NULL)
            goto fail;
        list = n;
    }
    if (lid_len > 0) {
        static const char prefix[] = "Last-Event-ID: ";
        char *h = malloc(sizeof(prefix) + lid_len);
        if (h == NULL)
            goto fail;
        memcpy(h, prefix, sizeof(prefix) - 1);
        memcpy(h + sizeof(prefix) - 1, lid, lid_len);
        h[sizeof(prefix) - 1 + lid_len] = '\0';
        n = curl_slist_append(list, h);
        free(h);
        if (n == NULL)
            goto fail;
        list = n;
    }
    curl_slist_free_all(s->sub_req_headers);
    s->sub_req_headers = list;
    return 0;
fail:
    curl_slist_free_all(list);
    return -1;
}

static void sub_attempt_begin(struct subscription *s)
{
    struct sub_engine *e = s->sub_eng;
    sub_detach(s);
    /* The previous stream ends here rather than at its close: a close can
     * happen inside sse_parser_feed (a stop from on_event), and the parser
     * must not be re-entered. Nothing is fed in between. */
    sse_parser_end(s->sub_parser);

    sub_headers_reset(s);
    s->sub_curl_error[0] = '\0';
    s->sub_got_headers = false;
    s->sub_got_byte = false;
    s->sub_body_len = 0;
    s->sub_capturing = false;
    s->sub_opened = false;
    s->sub_retry_reported = false;
    s->sub_t_start = clock_mono_ms();
    s->sub_state = SUB_CONNECTING;
    s->sub_stats.ss_attempts++;
    if (s->sub_stats.ss_attempts > 1)
        s->sub_stats.ss_reconnects++;

    size_t lid_len = 0;
    const char *lid = sse_parser_last_event_id(s->sub_parser, &lid_len);
    if (s->sub_cbs.sc_on_connecting != NULL) {
        struct sub_connecting_info info = {
            .sci_attempt = s->sub_stats.ss_attempts,
            .sci_last_event_id = lid,
            .sci_last_event_id_len = lid_len,
        };
        s->sub_cbs.sc_on_connecting(s->sub_ctx, s, &info);
        if (!sub_live(s, SUB_CONNECTING))
            return;
    }
    if (s->sub_cbs.sc_on_prepare != NULL) {
        int rc = s->sub_cbs.sc_on_prepare(s->sub_ctx, s, s->sub_stats.ss_attempts);
        if (!sub_live(s, SUB_CONNECTING))
            return;
        if (rc != 0) {
            sub_report_closed(s, STREAM_CLOSE_TRANSPORT, "cannot prepare the request");
            return;
        }
    }
    if (curl_easy_setopt(s->sub_easy, CURLOPT_URL, s->sub_url) != CURLE_OK) {
        sub_report_closed(s, STREAM_CLOSE_TRANSPORT, "the URL was refused");
        return;
    }
    if (sub_build_request_headers(s, lid, lid_len) != 0) {
        sub_report_closed(s, STREAM_CLOSE_TRANSPORT, "out of memory building the request");
        return;
    }
    curl_easy_setopt(s->sub_easy, CURLOPT_HTTPHEADER, s->sub_req_headers);
    e->se_in_curl = true;
    CURLMcode mc = curl_multi_add_handle(e->se_multi, s->sub_easy);
    e->se_in_curl = false;
    if (mc != CURLM_OK) {
        sub_report_closed(s, STREAM_CLOSE_TRANSPORT, curl_multi_strerror(mc));
        return;
    }
    s->sub_attached = true;
    if (deadline_arm(&s->sub_watchdog, s->sub_connect_timeout_ms) != 0)
        sub_close_now(s, STREAM_CLOSE_TRANSPORT, "cannot arm the connect timer");
}

static void sub_retry_fire(void *ctx)
{
    struct subscription *s = ctx;
    struct sub_engine *e = s->sub_eng;
    sub_engine_enter(e);
    if (sub_live(s, SUB_WAITING))
        sub_attempt_begin(s);
    sub_engine_leave(e);
}

static void sub_watchdog_fire(void *ctx)
{
    struct subscription *s = ctx;
    struct sub_engine *e = s->sub_eng;
    char msg[SUB_ERROR_MAX];
    sub_engine_enter(e);
    if (s->sub_dead) {
        /* nothing: reaped below */
    } else if (s->sub_state == SUB_CONNECTING) {
        snprintf(msg, sizeof(msg), "no response headers within %" PRIu64 " ms",
                 s->sub_connect_timeout_ms);
        sub_close_now(s, STREAM_CLOSE_TRANSPORT, msg);
    } else if (s->sub_state == SUB_OPEN) {
        /* Re-armed lazily: bytes only move sub_t_rx, the timer catches up. */
        uint64_t quiet = clock_mono_ms() - s->sub_t_rx;
        if (quiet < s->sub_idle_timeout_ms) {
            if (deadline_arm(&s->sub_watchdog, s->sub_idle_timeout_ms - quiet) != 0)
                sub_close_now(s, STREAM_CLOSE_TRANSPORT, "cannot arm the idle timer");
        } else {
            snprintf(msg, sizeof(msg), "no data for %" PRIu64 " ms", s->sub_idle_timeout_ms);
            sub_close_now(s, STREAM_CLOSE_IDLE_TIMEOUT, msg);
        }
    } else if (s->sub_state == SUB_CLOSING) {
        snprintf(msg, sizeof(msg), "%s", s->sub_fail_msg);
        sub_close_now(s, s->sub_fail_reason, msg);
    }
    sub_engine_leave(e);
}

/* ---- public API ---- */

static void sub_headers_free(char **h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(h[i]);
    free(h);
}

/* The user's "Name: value" headers, checked and made ready for curl, in
 * *out (a new array, `n` strings); whether they set Accept and
 * Cache-Control. Returns 0, ENOMEM or EINVAL (nothing allocated then). */
static int sub_headers_make(const char *const *in, size_t n, char ***out, bool *accept,
                            bool *cache_control)
{
    char **h = NULL;
    *out = NULL;
    *accept = false;
    *cache_control = false;
    if (n == 0)
        return 0;
    if (in == NULL)
        return EINVAL;
    h = calloc(n, sizeof(*h));
    if (h == NULL)
        return ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *arg = in[i];
        struct http_header_field f;
        if (arg == NULL || !http_header_arg_valid(arg, NULL) ||
            !http_header_split(arg, strlen(arg), &f) ||
            http_header_name_eq(f.hf_name, f.hf_name_len, "Last-Event-ID")) {
            sub_headers_free(h, i);
            return EINVAL;
        }
        if (http_header_name_eq(f.hf_name, f.hf_name_len, "Accept"))
            *accept = true;
        if (http_header_name_eq(f.hf_name, f.hf_name_len, "Cache-Control"))
            *cache_control = true;
        /* curl drops "Name:" entirely; "Name;" is its spelling of empty. */
        size_t len = f.hf_value_len != 0 ? strlen(arg) : f.hf_name_len + 1;
        char *one = malloc(len + 1);
        if (one == NULL) {
            sub_headers_free(h, i);
            return ENOMEM;
        }
        memcpy(one, arg, len);
        if (f.hf_value_len == 0)
            one[f.hf_name_len] = ';';
        one[len] = '\0';
        h[i] = one;
    }
    *out = h;
    return 0;
}

/* Replaces the target; `url` already checked. Returns 0 or an errno value
 * (the old target stays). */
static int sub_target_replace(struct subscription *s, const char *url, const char *const *headers,
                              size_t n)
{
    char **h;
    bool accept, cache_control;
    char *u = strdup(url);
    if (u == NULL)
        return ENOMEM;
    int err = sub_headers_make(headers, n, &h, &accept, &cache_control);
    if (err != 0) {
        free(u);
        return err;
    }
    free(s->sub_url);
    sub_headers_free(s->sub_headers, s->sub_nheaders);
    s->sub_url = u;
    s->sub_headers = h;
    s->sub_nheaders = n;
    s->sub_user_accept = accept;
    s->sub_user_cache_control = cache_control;
    return 0;
}

CURLcode sub_engine_set_transport(CURL *c, const struct sub_transport_options *t)
{
    CURLcode rc = CURLE_OK;
#define SUB_SET(opt, val)                                                                          \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(c, opt, val);                                                    \
    } while (0)
    SUB_SET(CURLOPT_SSL_VERIFYPEER, t->sto_insecure ? 0L : 1L);
    SUB_SET(CURLOPT_SSL_VERIFYHOST, t->sto_insecure ? 0L : 2L);
    if (t->sto_ca_file != NULL)
        SUB_SET(CURLOPT_CAINFO, t->sto_ca_file);
    if (t->sto_client_cert != NULL) {
        SUB_SET(CURLOPT_SSLCERT, t->sto_client_cert);
        SUB_SET(CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (t->sto_client_key != NULL) {
        SUB_SET(CURLOPT_SSLKEY, t->sto_client_key);
        SUB_SET(CURLOPT_SSLKEYTYPE, "PEM");
    }
    /* libcurl reads the proxy variables of the environment unless
     * CURLOPT_PROXY is set ("" means none) and no_proxy unless
     * CURLOPT_NOPROXY is: both are set unless the environment was asked
     * for. */
    if (t->sto_proxy == NULL) {
        SUB_SET(CURLOPT_PROXY, "");
        SUB_SET(CURLOPT_NOPROXY, "");
    } else if (strcmp(t->sto_proxy, SUB_PROXY_ENV) != 0) {
        SUB_SET(CURLOPT_PROXY, t->sto_proxy);
        SUB_SET(CURLOPT_NOPROXY, t->sto_no_proxy != NULL ? t->sto_no_proxy : "");
    }
#undef SUB_SET
    return rc;
}

static int sub_setup_easy(struct subscription *s, const struct sub_options *o)
{
    CURL *c = s->sub_easy;
    long redirects = o->so_max_redirects > 0 ? o->so_max_redirects : 0;
    long connect_ms = (long)sub_cap_ms(s->sub_connect_timeout_ms);
    CURLcode rc = CURLE_OK;
#define SUB_SET(opt, val)                                                                          \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(c, opt, val);                                                    \
    } while (0)
    SUB_SET(CURLOPT_URL, o->so_url);
    SUB_SET(CURLOPT_PRIVATE, (void *)s);
    SUB_SET(CURLOPT_NOSIGNAL, 1L);
    SUB_SET(CURLOPT_WRITEFUNCTION, sub_write_cb);
    SUB_SET(CURLOPT_WRITEDATA, (void *)s);
    SUB_SET(CURLOPT_HEADERFUNCTION, sub_header_cb);
    SUB_SET(CURLOPT_HEADERDATA, (void *)s);
    SUB_SET(CURLOPT_ERRORBUFFER, s->sub_curl_error);
    SUB_SET(CURLOPT_BUFFERSIZE, SUB_RECV_BUFFER);
    SUB_SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SUB_SET(CURLOPT_FOLLOWLOCATION, redirects > 0 ? 1L : 0L);
    SUB_SET(CURLOPT_MAXREDIRS, redirects);
    SUB_SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SUB_SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SUB_SET(CURLOPT_TCP_KEEPIDLE, SUB_KEEPALIVE_IDLE_S);
    SUB_SET(CURLOPT_TCP_KEEPINTVL, SUB_KEEPALIVE_INTVL_S);
    SUB_SET(CURLOPT_USERAGENT, "ssemon/" SSEMON_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
    SUB_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SUB_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SUB_SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SUB_SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#undef SUB_SET
    if (rc == CURLE_OK) {
        struct sub_transport_options t = {
            .sto_ca_file = o->so_ca_file,
            .sto_client_cert = o->so_client_cert,
            .sto_client_key = o->so_client_key,
            .sto_proxy = o->so_proxy,
            .sto_no_proxy = o->so_no_proxy,
            .sto_insecure = o->so_insecure,
        };
        rc = sub_engine_set_transport(c, &t);
    }
    if (rc == CURLE_OUT_OF_MEMORY)
        return ENOMEM;
    return rc == CURLE_OK ? 0 : EINVAL;
}

static uint64_t sub_seed(struct subscription *s, const struct sub_options *o)
{
    if (o->so_seed != 0)
        return o->so_seed;
    uint64_t seed = clock_mono_ms() * UINT64_C(0x9E3779B97F4A7C15);
    seed ^= (uint64_t)(uintptr_t)s;
    seed ^= ++s->sub_eng->se_seq << 32;
    return seed;
}

struct subscription *subscription_new(struct sub_engine *e, const struct sub_options *o,
                                      const struct sub_callbacks *cbs, void *ctx)
{
    if (o->so_url == NULL || o->so_url[0] == '\0' ||
        (o->so_last_event_id != NULL && strpbrk(o->so_last_event_id, "\r\n") != NULL)) {
        errno = EINVAL;
        return NULL;
    }
    struct subscription *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    s->sub_eng = e;
    s->sub_state = SUB_IDLE;
    if (cbs != NULL)
        s->sub_cbs = *cbs;
    s->sub_ctx = ctx;
    s->sub_connect_timeout_ms =
        o->so_connect_timeout_ms != 0 ? o->so_connect_timeout_ms : SUB_DEFAULT_CONNECT_TIMEOUT_MS;
    s->sub_idle_timeout_ms = o->so_idle_timeout_ms;
    s->sub_healthy_ms = o->so_healthy_ms != 0 ? o->so_healthy_ms : SUB_DEFAULT_HEALTHY_MS;
    s->sub_reconnect = o->so_reconnect;
    s->sub_follow = o->so_max_redirects > 0;
    backoff_init(&s->sub_backoff, o->so_backoff_min_ms, o->so_backoff_max_ms, sub_seed(s, o));

    /* Linked first so sub_destroy can undo any partial construction. */
    s->sub_next = e->se_subs;
    if (e->se_subs != NULL)
        e->se_subs->sub_prev = s;
    e->se_subs = s;

    static const struct sse_parser_callbacks pcbs = {
        .on_event = sub_on_event,
        .on_comment = sub_on_comment,
        .on_retry = sub_on_retry,
        .on_anomaly = sub_on_anomaly,
    };
    int err = ENOMEM;
    s->sub_parser = sse_parser_new(&o->so_limits, &pcbs, s);
    s->sub_easy = curl_easy_init();
    if (s->sub_parser == NULL || s->sub_easy == NULL)
        goto fail;
    if (deadline_init(&s->sub_watchdog, e->se_base, sub_watchdog_fire, s) != 0 ||
        deadline_init(&s->sub_retry, e->se_base, sub_retry_fire, s) != 0)
        goto fail;
    if ((err = sub_target_replace(s, o->so_url, o->so_headers, o->so_nheaders)) != 0 ||
        (err = sub_setup_easy(s, o)) != 0)
        goto fail;
    if (o->so_last_event_id != NULL && o->so_last_event_id[0] != '\0' &&
        sse_parser_set_last_event_id(s->sub_parser, o->so_last_event_id,
                                     strlen(o->so_last_event_id)) != 0) {
        err = ENOMEM;
        goto fail;
    }
    return s;
fail:
    s->sub_dead = true;
    sub_destroy(s);
    errno = err;
    return NULL;
}

static void sub_destroy(struct subscription *s)
{
    struct sub_engine *e = s->sub_eng;
    sub_detach(s);
    if (s->sub_prev != NULL)
        s->sub_prev->sub_next = s->sub_next;
    else
        e->se_subs = s->sub_next;
    if (s->sub_next != NULL)
        s->sub_next->sub_prev = s->sub_prev;
    deadline_release(&s->sub_watchdog);
    deadline_release(&s->sub_retry);
    if (s->sub_easy != NULL)
        curl_easy_cleanup(s->sub_easy);
    curl_slist_free_all(s->sub_req_headers);
    sse_parser_free(s->sub_parser);
    sub_headers_free(s->sub_headers, s->sub_nheaders);
    free(s->sub_url);
    free(s->sub_hdr_buf);
    free(s->sub_body);
    free(s);
}

int subscription_start(struct subscription *s)
{
    if (s->sub_dead)
        return -1;
    if (s->sub_state != SUB_IDLE)
        return 0;
    backoff_reset(&s->sub_backoff);
    s->sub_state = SUB_WAITING;
    if (deadline_arm(&s->sub_retry, 0) != 0) {
        s->sub_state = SUB_IDLE;
        return -1;
    }
    return 0;
}

void subscription_stop(struct subscription *s)
{
    if (s->sub_dead)
        return;
    enum sub_state prev = s->sub_state;
    deadline_cancel(&s->sub_retry);
    deadline_cancel(&s->sub_watchdog);
    if (prev == SUB_IDLE || prev == SUB_WAITING) {
        s->sub_state = SUB_IDLE;
        return;
    }
    sub_detach(s);
    sub_report_closed(s, STREAM_CLOSE_STOPPED, "");
}

void subscription_free(struct subscription *s)
{
    if (s == NULL || s->sub_dead)
        return;
    s->sub_dead = true;
    s->sub_state = SUB_IDLE;
    deadline_cancel(&s->sub_retry);
    deadline_cancel(&s->sub_watchdog);
    if (s->sub_eng->se_depth > 0) {
        sub_reap_push(s);
        return;
    }
    sub_destroy(s);
}

int subscription_set_target(struct subscription *s, const char *url, const char *const *headers,
                            size_t n)
{
    int err = EINVAL;
    if (!s->sub_dead && url != NULL && url[0] != '\0')
        err = sub_target_replace(s, url, headers, n);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

bool subscription_running(const struct subscription *s)
{
    return !s->sub_dead && s->sub_state != SUB_IDLE;
}

const struct sub_stats *subscription_stats(const struct subscription *s)
{
    return &s->sub_stats;
}

const char *subscription_last_event_id(const struct subscription *s, size_t *len)
{
    return sse_parser_last_event_id(s->sub_parser, len);
}

/* ---- one-shot transfers (sub_engine_internal.h) ---- */

size_t sub_engine_transfer_count(const struct sub_engine *e)
{
    return e->se_nxfers;
}

static void sub_xfer_link(struct sub_engine *e, struct sub_transfer *t)
{
    t->st_prev = NULL;
    t->st_next = e->se_xfers;
    if (e->se_xfers != NULL)
        e->se_xfers->st_prev = t;
    e->se_xfers = t;
    e->se_nxfers++;
}

static void sub_xfer_unlink(struct sub_engine *e, struct sub_transfer *t)
{
    if (t->st_prev != NULL)
        t->st_prev->st_next = t->st_next;
    else
        e->se_xfers = t->st_next;
    if (t->st_next != NULL)
        t->st_next->st_prev = t->st_prev;
    t->st_prev = t->st_next = NULL;
    e->se_nxfers--;
}

static void sub_xfer_reap_push(struct sub_engine *e, struct sub_transfer *t)
{
    if (t->st_on_reap)
        return;
    t->st_on_reap = true;
    t->st_reap_next = e->se_xfer_reap;
    e->se_xfer_reap = t;
}

/* Not from inside a curl call. */
static void sub_xfer_detach(struct sub_engine *e, struct sub_transfer *t)
{
    if (!t->st_attached)
        return;
    e->se_in_curl = true;
    curl_multi_remove_handle(e->se_multi, t->st_easy);
    e->se_in_curl = false;
    t->st_attached = false;
}

/* Not from inside a curl call. */
static CURLMcode sub_xfer_attach(struct sub_engine *e, struct sub_transfer *t)
{
    e->se_in_curl = true;
    CURLMcode mc = curl_multi_add_handle(e->se_multi, t->st_easy);
    e->se_in_curl = false;
    t->st_attached = mc == CURLM_OK;
    return mc;
}

int sub_engine_transfer_start(struct sub_engine *e, struct sub_transfer *t)
{
    t->st_on_reap = false;
    t->st_attached = false;
    t->st_cancelled = false;
    if (e->se_in_curl) {
        sub_xfer_link(e, t);
        sub_xfer_reap_push(e, t);
        return 0;
    }
    CURLMcode mc = sub_xfer_attach(e, t);
    if (mc != CURLM_OK) {
        errno = mc == CURLM_OUT_OF_MEMORY ? ENOMEM : EINVAL;
        return -1;
    }
    sub_xfer_link(e, t);
    return 0;
}

void sub_engine_transfer_cancel(struct sub_engine *e, struct sub_transfer *t)
{
    if (t->st_cancelled)
        return;
    t->st_cancelled = true;
    sub_xfer_unlink(e, t);
    if (t->st_on_reap)
        return; /* released by the reap */
    if (e->se_in_curl) {
        sub_xfer_reap_push(e, t);
        return;
    }
    sub_xfer_detach(e, t);
    t->st_release(t);
}

/* The deferred adds and removes, once no curl call is running. */
static void sub_xfer_reap(struct sub_engine *e)
{
    while (e->se_xfer_reap != NULL) {
        struct sub_transfer *t = e->se_xfer_reap;
        e->se_xfer_reap = t->st_reap_next;
        t->st_on_reap = false;
        if (t->st_cancelled) {
            sub_xfer_detach(e, t);
            t->st_release(t);
            continue;
        }
        if (sub_xfer_attach(e, t) == CURLM_OK)
            continue;
        sub_xfer_unlink(e, t);
        e->se_depth++;
        t->st_done(t, CURLE_OUT_OF_MEMORY);
        sub_engine_leave(e);
    }
}

static void sub_xfer_done(struct sub_engine *e, CURL *easy, CURLcode rc)
{
    struct sub_transfer *t = e->se_xfers;
    while (t != NULL && t->st_easy != easy)
        t = t->st_next;
    if (t == NULL)
        return; /* cancelled inside this curl call; the reap releases it */
    sub_xfer_unlink(e, t);
    sub_xfer_detach(e, t);
    t->st_done(t, rc);
}

static void sub_xfer_release_all(struct sub_engine *e)
{
    while (e->se_xfer_reap != NULL) {
        struct sub_transfer *t = e->se_xfer_reap;
        e->se_xfer_reap = t->st_reap_next;
        t->st_on_reap = false;
        if (t->st_cancelled) {
            sub_xfer_detach(e, t);
            t->st_release(t);
        }
    }
    while (e->se_xfers != NULL) {
        struct sub_transfer *t = e->se_xfers;
        sub_xfer_unlink(e, t);
        sub_xfer_detach(e, t);
        t->st_release(t);
    }
}
