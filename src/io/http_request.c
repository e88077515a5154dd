#include "ssemon/io/http_request.h"
#include "ssemon/base/clock.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/core/http_header.h"
#include "ssemon/io/sub_engine_internal.h"
#include "ssemon/io/subscription.h"

/* curl takes timeouts as long milliseconds. */
#define HR_MAX_TIMEOUT_MS ((uint64_t)24 * 3600 * 1000)
#define HR_ERROR_MAX 512
/* Shorter header values are not searched for in error texts: they would
 * blank out ordinary words, and are no secret anyway. */
#define HR_REDACT_MIN 4
#define HR_REDACTED "***"

struct http_request {
    struct sub_transfer hr_xfer; /* hr_xfer.st_easy is the request's handle */
    struct sub_engine *hr_eng;
    http_request_done_fn hr_done;
    void *hr_ctx;
    bool hr_in_done;

    struct curl_slist *hr_headers;
    char *hr_method; /* for CURLOPT_CUSTOMREQUEST, else NULL */
    char *hr_body;   /* the copied body, or NULL */
    uint64_t hr_timeout_ms;
    uint64_t hr_connect_timeout_ms;
    uint64_t hr_started_us;
    char hr_curl_error[CURL_ERROR_SIZE];

    /* The response body: the first hr_max bytes, then only counted. */
    char *hr_buf;
    size_t hr_len;
    size_t hr_cap;
    size_t hr_max;
    uint64_t hr_total;
    bool hr_oom;
};

static struct http_request *hr_of(struct sub_transfer *t)
{
    return (struct http_request *)(void *)((char *)t - offsetof(struct http_request, hr_xfer));
}

static void hr_free(struct http_request *r)
{
    if (r->hr_xfer.st_easy != NULL)
        curl_easy_cleanup(r->hr_xfer.st_easy);
    curl_slist_free_all(r->hr_headers);
    free(r->hr_method);
    free(r->hr_body);
    free(r->hr_buf);
    free(r);
}

static uint64_t hr_cap_ms(uint64_t ms)
{
    return ms > HR_MAX_TIMEOUT_MS ? HR_MAX_TIMEOUT_MS : ms;
}

/* RFC 9110 token. */
static bool hr_method_valid(const char *m)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    if (m[0] == '\0')
        return false;
    for (const char *p = m; *p != '\0'; p++) {
        char c = *p;
        bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        if (!alnum && strchr(tchar, c) == NULL)
            return false;
    }
    return true;
}

static size_t hr_write_cb(char *buf, size_t size, size_t nmemb, void *userp)
{
    struct http_request *r = userp;
    size_t len = size * nmemb;
    r->hr_total += len;
    size_t keep = r->hr_max - r->hr_len;
    if (keep > len)
        keep = len;
    if (keep == 0)
        return len;
    if (r->hr_len + keep + 1 > r->hr_cap) {
        size_t cap = r->hr_cap != 0 ? r->hr_cap : 1024;
        while (cap < r->hr_len + keep + 1)
            cap *= 2;
        if (cap > r->hr_max + 1)
            cap = r->hr_max + 1;
        char *nb = realloc(r->hr_buf, cap);
        if (nb == NULL) {
            r->hr_oom = true;
            return 0; /* curl ends the transfer with a write error */
        }
        r->hr_buf = nb;
        r->hr_cap = cap;
    }
    memcpy(r->hr_buf + r->hr_len, buf, keep);
    r->hr_len += keep;
    return len;
}

/* Replaces every occurrence of `v` (`n` bytes, n >= HR_REDACT_MIN) in the
 * NUL-terminated `msg`. The replacement is shorter: `msg` never grows. */
static void hr_redact_one(char *msg, const char *v, size_t n)
{
    static const size_t rl = sizeof(HR_REDACTED) - 1;
    char *hit;
    size_t from = 0;
    while ((hit = memmem(msg + from, strlen(msg + from), v, n)) != NULL) {
        size_t at = (size_t)(hit - msg);
        memmove(msg + at + rl, hit + n, strlen(hit + n) + 1);
        memcpy(msg + at, HR_REDACTED, rl);
        from = at + rl;
    }
}

/* Replaces, in the NUL-terminated `msg`, every header value of the request,
 * and every word of one ("Bearer TOKEN": the token alone too), that occurs
 * in it. */
static void hr_redact(const struct http_request *r, char *msg)
{
    for (const struct curl_slist *h = r->hr_headers; h != NULL; h = h->next) {
        struct http_header_field f;
        if (!http_header_split(h->data, strlen(h->data), &f) || f.hf_value_len < HR_REDACT_MIN)
            continue;
        hr_redact_one(msg, f.hf_value, f.hf_value_len);
        size_t i = 0;
        while (i < f.hf_value_len) {
            size_t w = strcspn(f.hf_value + i, " \t,;");
            if (i + w > f.hf_value_len)
                w = f.hf_value_len - i;
            if (w >= HR_REDACT_MIN && w < f.hf_value_len)
                hr_redact_one(msg, f.hf_value + i, w);
            i += w + 1;
        }
    }
}

void http_request_redact(const struct http_request *r, char *text)
{
    if (r != NULL && text != NULL)
        hr_redact(r, text);
}

static void hr_error_text(struct http_request *r, CURLcode rc, char *msg, size_t cap,
                          bool *timed_out)
{
    *timed_out = false;
    msg[0] = '\0';
    if (rc == CURLE_OK)
        return;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        *timed_out = true;
        curl_off_t connect_us = 0;
        curl_easy_getinfo(r->hr_xfer.st_easy, CURLINFO_CONNECT_TIME_T, &connect_us);
        if (connect_us == 0 && r->hr_connect_timeout_ms < r->hr_timeout_ms)
            snprintf(msg, cap, "connect timed out after %" PRIu64 " ms", r->hr_connect_timeout_ms);
        else
            snprintf(msg, cap, "timed out after %" PRIu64 " ms", r->hr_timeout_ms);
        return;
    }
    if (r->hr_oom) {
        snprintf(msg, cap, "out of memory keeping the response body");
        return;
    }
    const char *text = r->hr_curl_error[0] != '\0' ? r->hr_curl_error : curl_easy_strerror(rc);
    /* libcurl says "Couldn't connect to server"; the system says why. */
    long os_errno = 0;
    curl_easy_getinfo(r->hr_xfer.st_easy, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno != 0)
        snprintf(msg, cap, "%s (%s)", text, strerror((int)os_errno));
    else
        snprintf(msg, cap, "%s", text);
    hr_redact(r, msg);
}

static void hr_transfer_done(struct sub_transfer *t, CURLcode rc)
{
    struct http_request *r = hr_of(t);
    CURL *c = t->st_easy;
    char err[HR_ERROR_MAX];
    struct http_request_result res = {
        .hrr_error = err,
        .hrr_body = r->hr_buf != NULL ? r->hr_buf : "",
        .hrr_body_len = r->hr_len,
        .hrr_body_total = r->hr_total,
        .hrr_content_type = "",
        .hrr_started_us = r->hr_started_us,
        .hrr_finished_us = clock_mono_us(),
    };
    if (r->hr_buf != NULL)
        r->hr_buf[r->hr_len] = '\0';
    hr_error_text(r, rc, err, sizeof(err), &res.hrr_timed_out);
    long status = 0;
    char *ctype = NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
    res.hrr_status = status;
    if (ctype != NULL)
        res.hrr_content_type = ctype;
    r->hr_in_done = true;
    r->hr_done(r->hr_ctx, &res);
    hr_free(r);
}

static void hr_transfer_release(struct sub_transfer *t)
{
    hr_free(hr_of(t));
}

static int hr_copy_headers(struct http_request *r, const struct http_request_options *o,
                           bool *has_ctype, bool *has_expect)
{
    for (size_t i = 0; i < o->hro_n_headers; i++) {
        const char *arg = o->hro_headers[i];
        struct http_header_field f;
        if (arg == NULL || !http_header_arg_valid(arg, NULL) ||
            !http_header_split(arg, strlen(arg), &f))
            return EINVAL;
        if (http_header_name_eq(f.hf_name, f.hf_name_len, "Content-Type"))
            *has_ctype = true;
        if (http_header_name_eq(f.hf_name, f.hf_name_len, "Expect"))
            *has_expect = true;
        /* curl drops "Name:" entirely; "Name;" is its spelling of empty. */
        size_t n = f.hf_value_len != 0 ? strlen(arg) : f.hf_name_len + 1;
        char *h = malloc(n + 1);
        if (h == NULL)
            return ENOMEM;
        memcpy(h, arg, n);
        if (f.hf_value_len == 0)
            h[f.hf_name_len] = ';';
        h[n] = '\0';
        struct curl_slist *nl = curl_slist_append(r->hr_headers, h);
        free(h);
        if (nl == NULL)
            return ENOMEM;
        r->hr_headers = nl;
    }
    return 0;
}

/* "Name:" tells curl not to send its own header of that name. */
static int hr_suppress(struct http_request *r, const char *line)
{
    struct curl_slist *nl = curl_slist_append(r->hr_headers, line);
    if (nl == NULL)
        return ENOMEM;
    r->hr_headers = nl;
    return 0;
}

static int hr_setup(struct http_request *r, const struct http_request_options *o,
                    const char *method)
{
    bool has_ctype = false, has_expect = false;
    int err = hr_copy_headers(r, o, &has_ctype, &has_expect);
    if (err != 0)
        return err;
    bool body = o->hro_body != NULL;
    if (body && !has_ctype && (err = hr_suppress(r, "Content-Type:")) != 0)
        return err;
    if (body && !has_expect && (err = hr_suppress(r, "Expect:")) != 0)
        return err;
    if (body) {
        r->hr_body = malloc(o->hro_body_len != 0 ? o->hro_body_len : 1);
        if (r->hr_body == NULL)
            return ENOMEM;
        if (o->hro_body_len != 0)
            memcpy(r->hr_body, o->hro_body, o->hro_body_len);
    }
    bool is_get = strcmp(method, "GET") == 0;
    bool is_head = strcmp(method, "HEAD") == 0;
    bool is_post = strcmp(method, "POST") == 0;
    if (!(is_get && !body) && !is_head && !is_post && (r->hr_method = strdup(method)) == NULL)
        return ENOMEM;

    CURL *c = r->hr_xfer.st_easy;
    long redirects = o->hro_max_redirects > 0 ? o->hro_max_redirects : 0;
    CURLcode rc = CURLE_OK;
#define HR_SET(opt, val)                                                                           \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(c, opt, val);                                                    \
    } while (0)
    HR_SET(CURLOPT_URL, o->hro_url);
    HR_SET(CURLOPT_NOSIGNAL, 1L);
    HR_SET(CURLOPT_WRITEFUNCTION, hr_write_cb);
    HR_SET(CURLOPT_WRITEDATA, (void *)r);
    HR_SET(CURLOPT_ERRORBUFFER, r->hr_curl_error);
    HR_SET(CURLOPT_TIMEOUT_MS, (long)hr_cap_ms(r->hr_timeout_ms));
    HR_SET(CURLOPT_CONNECTTIMEOUT_MS, (long)hr_cap_ms(r->hr_connect_timeout_ms));
    HR_SET(CURLOPT_FOLLOWLOCATION, redirects > 0 ? 1L : 0L);
    HR_SET(CURLOPT_MAXREDIRS, redirects);
    HR_SET(CURLOPT_USERAGENT, "ssemon/" SSEMON_VERSION);
    HR_SET(CURLOPT_HTTPHEADER, r->hr_headers);
#if LIBCURL_VERSION_NUM >= 0x075500
    HR_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    HR_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    HR_SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    HR_SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (rc == CURLE_OK) {
        struct sub_transport_options t = {
            .sto_ca_file = o->hro_ca_file,
            .sto_client_cert = o->hro_client_cert,
            .sto_client_key = o->hro_client_key,
            .sto_proxy = o->hro_proxy,
            .sto_no_proxy = o->hro_no_proxy,
            .sto_insecure = o->hro_insecure,
        };
        rc = sub_engine_set_transport(c, &t);
    }
    if (is_head)
        HR_SET(CURLOPT_NOBODY, 1L);
    if (body || is_post) {
        HR_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? o->hro_body_len : 0));
        HR_SET(CURLOPT_POSTFIELDS, body ? r->hr_body : "");
    }
    if (r->hr_method != NULL)
        HR_SET(CURLOPT_CUSTOMREQUEST, r->hr_method);
#undef HR_SET
    if (rc == CURLE_OUT_OF_MEMORY)
        return ENOMEM;
    return rc == CURLE_OK ? 0 : EINVAL;
}

struct http_request *http_request_start(struct sub_engine *e, const struct http_request_options *o,
                                        http_request_done_fn done, void *ctx)
{
    uint64_t started = clock_mono_us();
    const char *method = o->hro_method != NULL && o->hro_method[0] != '\0' ? o->hro_method : "GET";
    if (o->hro_url == NULL || o->hro_url[0] == '\0' || done == NULL || !hr_method_valid(method) ||
        (o->hro_headers == NULL && o->hro_n_headers != 0)) {
        errno = EINVAL;
        return NULL;
    }
    struct http_request *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    r->hr_eng = e;
    r->hr_done = done;
    r->hr_ctx = ctx;
    r->hr_started_us = started;
    r->hr_timeout_ms = o->hro_timeout_ms != 0 ? o->hro_timeout_ms : HTTP_REQUEST_DEFAULT_TIMEOUT_MS;
    r->hr_connect_timeout_ms =
        o->hro_connect_timeout_ms != 0 ? o->hro_connect_timeout_ms : r->hr_timeout_ms;
    r->hr_max = o->hro_max_body != 0 ? o->hro_max_body : HTTP_REQUEST_DEFAULT_MAX_BODY;
    if (r->hr_max == SIZE_MAX)
        r->hr_max = SIZE_MAX - 1; /* room for the NUL */
    r->hr_xfer.st_done = hr_transfer_done;
    r->hr_xfer.st_release = hr_transfer_release;
    int err = ENOMEM;
    r->hr_xfer.st_easy = curl_easy_init();
    if (r->hr_xfer.st_easy == NULL || (err = hr_setup(r, o, method)) != 0 ||
        sub_engine_transfer_start(e, &r->hr_xfer) != 0) {
        if (err == 0)
            err = errno;
        hr_free(r);
        errno = err;
        return NULL;
    }
    return r;
}

void http_request_cancel(struct http_request *r)
{
    if (r == NULL || r->hr_in_done)
        return;
    sub_engine_transfer_cancel(r->hr_eng, &r->hr_xfer);
}

size_t http_request_in_flight(const struct sub_engine *e)
{
    return sub_engine_transfer_count(e);
}
