/*
 * ssemon status: asks a running daemon for its /status document and prints
 * it as a table (or as is, with --json). The exit status tells scripts
 * whether everything shown is healthy. Cmd layer. Its names start with
 * cmd_status_, not status_: that prefix belongs to the io layer's
 * status_render and status_server.
 */
#include "ssemon/cmd/cmd.h"
#include "ssemon/core/subscription_name.h"

#include "ssemon/base/clock.h"
#include "ssemon/base/file.h"
#include "ssemon/base/utf8.h"

#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define CMD_STATUS_DEFAULT_URL "http://127.0.0.1:9464"
#define CMD_STATUS_TIMEOUT_MS 5000L
/* A /status document of 10,000 subscriptions is a few MiB. */
#define CMD_STATUS_MAX_BODY ((size_t)64 << 20)
/* Messages are fitted to a terminal only; elsewhere (a pipe, a file) and
 * with --wide they are printed whole. */
#define CMD_STATUS_NO_CUT SIZE_MAX

struct cmd_status_body {
    char *sb_buf;
    size_t sb_len;
    size_t sb_cap;
    bool sb_too_big;
    bool sb_no_memory;
};

static void cmd_status_usage(FILE *f)
{
    fputs("usage: ssemon status [--url URL] [--json] [--wide] [NAME]\n"
          "  an endpoint with TLS or users: also [--cacert FILE] [--cert FILE [--key FILE]]\n"
          "  [--user USER (--password-file FILE | --password-credential NAME)]\n"
          "Asks a running ssemon daemon for the state of its subscriptions (all of them,\n"
          "or the one named NAME) and prints one line per subscription: state, health,\n"
          "events, violations, the age of the last event and of the last heartbeat\n"
          "(3s, 2m, 5h, 3d; - when none yet) and the last violation (after the open\n"
          "conditions, shown as OPEN CLASS since AGE: a silence, a missing first event\n"
          "or a failure to connect that has not ended yet). Disabled subscriptions are\n"
          "listed with the state 'disabled'. A subscription or probe with a description\n"
          "has it on an indented line below its own; one that does not verify TLS\n"
          "certificates (\"insecure\": true) has an INSECURE line.\n"
          "Messages are cut to the terminal's width; when standard output is not a\n"
          "terminal, or with --wide, they are printed whole.\n"
          "  --url URL    the daemon's status endpoint: http://HOST:PORT (default\n"
          "               " CMD_STATUS_DEFAULT_URL ") or unix:/PATH for a unix socket\n"
          "  --json       print the JSON document as the daemon sent it\n"
          "  --wide       never cut messages, even on a terminal\n"
          "  --cacert FILE  verify an https:// endpoint against these CA certificates\n"
          "  --cert FILE [--key FILE]  the client certificate (and its key) an endpoint\n"
          "               with status.tls.client_ca_file asks for\n"
          "  --user USER    log in as USER (status.basic_auth_users), with the password\n"
          "               on the first line of --password-file FILE, or of the systemd\n"
          "               credential --password-credential NAME ($CREDENTIALS_DIRECTORY)\n"
          "  -h, --help   show this help\n"
          "Below the subscriptions, the probes: last result, runs, failures, the last\n"
          "failure, and per expectation its last result and p50/p99 delivery time.\n"
          "Exit status: 0 when every subscription and probe shown is healthy, 1 when\n"
          "one is not or the last configuration reload was refused (the running\n"
          "configuration is not the file's),\n"
          "2 when the daemon cannot be reached or answers with an error, or on a usage\n"
          "error.\n",
          f);
}

__attribute__((format(printf, 1, 2))) static int cmd_status_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("ssemon status: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

/* A usage error: the error line first, where a reader looks, then the
 * usage. Returns 2. */
__attribute__((format(printf, 1, 2))) static int cmd_status_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("ssemon status: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cmd_status_usage(stderr);
    return 2;
}

/* ---- fetching ---- */

static size_t cmd_status_on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct cmd_status_body *b = ctx;
    size_t n = size * nmemb;
    if (n > CMD_STATUS_MAX_BODY - b->sb_len) {
        b->sb_too_big = true;
        return 0;
    }
    if (b->sb_len + n + 1 > b->sb_cap) {
        size_t cap = b->sb_cap != 0 ? b->sb_cap : 16384;
        while (cap < b->sb_len + n + 1)
            cap *= 2;
        char *nb = realloc(b->sb_buf, cap);
        if (nb == NULL) {
            b->sb_no_memory = true;
            return 0;
        }
        b->sb_buf = nb;
        b->sb_cap = cap;
    }
    memcpy(b->sb_buf + b->sb_len, data, n);
    b->sb_len += n;
    b->sb_buf[b->sb_len] = '\0';
    return n;
}

/* How to reach the endpoint beyond its URL: NULL members are unset. */
struct cmd_status_access {
    const char *sa_cacert;
    const char *sa_cert; /* client certificate (PEM) */
    const char *sa_key;  /* its key; NULL: in sa_cert's file */
    const char *sa_user;
    char *sa_password; /* owned, wiped */
};

/* The longest password file read. */
#define CMD_STATUS_MAX_PASSWORD 4096

/* Reads the password: the first line of `path` (what the flag `flag`
 * named). Returns 0, or 2 after printing why not. */
static int cmd_status_read_password(const char *flag, const char *path, char **out)
{
    struct file_error fe;
    size_t len;
    char *text = file_read(path, CMD_STATUS_MAX_PASSWORD, FILE_SECRET, &len, &fe);
    if (text == NULL) {
        char why[200];
        file_error_text(&fe, why, sizeof(why));
        return cmd_status_fail("%s %s: %s", flag, path, why);
    }
    /* One line: its line end ("\n" or "\r\n") removed, nothing after it. */
    size_t end = len;
    if (end > 0 && text[end - 1] == '\n')
        end--;
    if (end > 0 && text[end - 1] == '\r')
        end--;
    bool one_line = strcspn(text, "\r\n") == end && memchr(text, '\0', end) == NULL;
    explicit_bzero(text + end, len - end);
    if (!one_line || end == 0) {
        explicit_bzero(text, end);
        free(text);
        return cmd_status_fail("%s %s: %s", flag, path,
                               end == 0 ? "empty" : "not one line of text");
    }
    *out = text;
    return 0;
}

/* GETs `path` from the endpoint. Returns 0 with the HTTP status in *code,
 * or 2 after printing why not. */
static int cmd_status_fetch(const char *endpoint, const char *path,
                            const struct cmd_status_access *acc, struct cmd_status_body *body,
                            long *code)
{
    static const char unix_prefix[] = "unix:";
    char url[2048];
    const char *socket_path = NULL;
    if (strncmp(endpoint, unix_prefix, sizeof(unix_prefix) - 1) == 0) {
        socket_path = endpoint + sizeof(unix_prefix) - 1;
        if (socket_path[0] != '/')
            return cmd_status_fail("--url %s: a unix socket wants an absolute path", endpoint);
        /* The host is only what the Host header says; the socket decides. */
        snprintf(url, sizeof(url), "http://localhost%s", path);
    } else {
        size_t len = strlen(endpoint);
        while (len > 0 && endpoint[len - 1] == '/')
            len--;
        const char *scheme = strstr(endpoint, "://") != NULL ? "" : "http://";
        int n = snprintf(url, sizeof(url), "%s%.*s%s", scheme, (int)len, endpoint, path);
        if (n < 0 || (size_t)n >= sizeof(url))
            return cmd_status_fail("--url is too long");
    }

    CURL *h = curl_easy_init();
    if (h == NULL)
        return cmd_status_fail("cannot initialise libcurl");
    char errbuf[CURL_ERROR_SIZE] = "";
    bool ok = curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, CMD_STATUS_TIMEOUT_MS) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              /* The endpoint is local by design; a proxy from the environment
               * would only be in the way. */
              curl_easy_setopt(h, CURLOPT_NOPROXY, "*") == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_USERAGENT, "ssemon/" SSEMON_VERSION) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cmd_status_on_body) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_WRITEDATA, body) == CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
    ok = ok && curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
#else
    ok = ok && curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) ==
                   CURLE_OK;
#endif
    if (ok && socket_path != NULL)
        ok = curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket_path) == CURLE_OK;
    if (ok && acc->sa_cacert != NULL)
        ok = curl_easy_setopt(h, CURLOPT_CAINFO, acc->sa_cacert) == CURLE_OK;
    if (ok && acc->sa_cert != NULL)
        ok = curl_easy_setopt(h, CURLOPT_SSLCERT, acc->sa_cert) == CURLE_OK &&
             (acc->sa_key == NULL || curl_easy_setopt(h, CURLOPT_SSLKEY, acc->sa_key) == CURLE_OK);
    if (ok && acc->sa_user != NULL)
        ok = curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_USERNAME, acc->sa_user) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_PASSWORD, acc->sa_password) == CURLE_OK;
    if (!ok) {
        curl_easy_cleanup(h);
        return cmd_status_fail("cannot set up the request to %s", endpoint);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
    curl_easy_cleanup(h);
    if (body->sb_too_big)
        return cmd_status_fail("%s: the answer is larger than %zu MiB", endpoint,
                               CMD_STATUS_MAX_BODY >> 20);
    if (body->sb_no_memory)
        return cmd_status_fail("out of memory");
    if (rc != CURLE_OK)
        return cmd_status_fail("cannot reach the daemon at %s: %s", endpoint,
                               errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
    return 0;
}

/* ---- the table ---- */

static const char *cmd_status_str(const json_t *obj, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : fallback;
}

static unsigned long long cmd_status_uint(const json_t *obj, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(obj, key));
    return v > 0 ? (unsigned long long)v : 0;
}

/* Seconds since the epoch of an RFC 3339 UTC stamp, or -1. */
static long long cmd_status_parse_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int consumed = 0;
    if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : (long long)t;
}

/* "3s", "2m", "5h", "3d": seconds below 2 minutes, minutes below 2
 * hours, hours below 2 days, then days. */
static void cmd_status_format_span(long long seconds, char *buf, size_t size)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 120)
        snprintf(buf, size, "%llds", seconds);
    else if (seconds < 2LL * 3600)
        snprintf(buf, size, "%lldm", seconds / 60);
    else if (seconds < 2LL * 86400)
        snprintf(buf, size, "%lldh", seconds / 3600);
    else
        snprintf(buf, size, "%lldd", seconds / 86400);
}

static void cmd_status_format_age(long long seconds, char *buf, size_t size)
{
    char span[24];
    cmd_status_format_span(seconds, span, sizeof(span));
    snprintf(buf, size, "%.23s ago", span);
}

/* The age of the stamp at `key` of `obj` ("3s"), or "-" when it is null. */
static void cmd_status_age_of(const json_t *obj, const char *key, time_t now, char *buf,
                              size_t size)
{
    long long at = cmd_status_parse_time(cmd_status_str(obj, key, NULL));
    if (at < 0)
        snprintf(buf, size, "-");
    else
        cmd_status_format_span((long long)now - at, buf, size);
}

/* Copies at most `columns` characters of `s` (UTF-8 aware, control bytes
 * shown as '?' so stream data cannot drive the terminal), ending in "..."
 * when cut; `out_size` of strlen(s) + 8 always holds it whole. */
static void cmd_status_fit(const char *s, size_t columns, char *out, size_t out_size)
{
    size_t total = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (utf8_is_lead(*p))
            total++;
    size_t keep = total <= columns ? total : (columns > 3 ? columns - 3 : 0);
    size_t o = 0, chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        bool starts = utf8_is_lead(*p);
        if (starts && chars == keep)
            break;
        if (o + 5 >= out_size)
            break;
        if (starts)
            chars++;
        out[o++] = (char)((*p < 0x20 || *p == 0x7F) ? '?' : *p);
    }
    if (keep < total)
        for (int i = 0; i < 3 && o + 1 < out_size; i++)
            out[o++] = '.';
    out[o] = '\0';
}

/* The width messages are fitted to: the terminal's, or CMD_STATUS_NO_CUT
 * when standard output is not a terminal (or has no width) or with
 * --wide. */
static size_t cmd_status_terminal_columns(bool wide)
{
    struct winsize ws;
    if (!wide && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
        ws.ws_col > 0)
        return ws.ws_col;
    return CMD_STATUS_NO_CUT;
}

/* Prints `s` fitted to what is left of `columns` after `used`
 * (CMD_STATUS_NO_CUT: whole), control bytes as '?'. */
static void cmd_status_print_fitted(const char *s, size_t used, size_t columns)
{
    size_t room = CMD_STATUS_NO_CUT;
    if (columns != CMD_STATUS_NO_CUT)
        room = columns > used + 3 ? columns - used : 3;
    size_t size = strlen(s) + 8;
    char *out = malloc(size);
    if (out == NULL) {
        fputs("?", stdout);
        return;
    }
    cmd_status_fit(s, room, out, size);
    fputs(out, stdout);
    free(out);
}

/* Prints "CLASS AGE: MESSAGE" of a violation object, the message fitted to
 * what is left of `columns` after `used`; "-" when `v` is not an object. */
static void cmd_status_print_violation(const json_t *v, size_t used, size_t columns, time_t now)
{
    if (!json_is_object(v)) {
        fputs("-", stdout);
        return;
    }
    char age[32] = "";
    long long at = cmd_status_parse_time(cmd_status_str(v, "at", NULL));
    if (at >= 0)
        cmd_status_format_age((long long)now - at, age, sizeof(age));
    char head[128];
    snprintf(head, sizeof(head), "%s%s%s: ", cmd_status_str(v, "class", "?"),
             age[0] != '\0' ? " " : "", age);
    fputs(head, stdout);
    cmd_status_print_fitted(cmd_status_str(v, "message", ""), used + strlen(head), columns);
}

/* The "description" of a subscription or probe, when it has one, on an
 * indented line of its own. */
static void cmd_status_print_description(const json_t *obj, size_t columns)
{
    const char *text = cmd_status_str(obj, "description", NULL);
    if (text == NULL || text[0] == '\0')
        return;
    fputs("    ", stdout);
    cmd_status_print_fitted(text, 4, columns);
    fputc('\n', stdout);
}

/* "OPEN CLASS AGE, CLASS AGE; " of the open conditions ("" when none). */
static void cmd_status_conditions_text(const json_t *conds, time_t now, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    size_t n = json_is_array(conds) ? json_array_size(conds) : 0;
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        const json_t *c = json_array_get(conds, i);
        char age[32] = "";
        long long at = cmd_status_parse_time(cmd_status_str(c, "since", NULL));
        if (at >= 0)
            cmd_status_format_age((long long)now - at, age, sizeof(age));
        int k = snprintf(out + o, size - o, "%s%s%s%s%s", i == 0 ? "OPEN " : ", ",
                         cmd_status_str(c, "class", "?"), age[0] != '\0' ? " since " : "", age,
                         i + 1 == n ? "; " : "");
        if (k < 0 || (size_t)k >= size - o)
            break;
        o += (size_t)k;
    }
}

/* Whether the subscription object says healthy (and shows no open
 * condition); prints its line, open conditions first in the last column. */
static bool cmd_status_print_row(const json_t *sub, int name_width, size_t columns, time_t now)
{
    const char *state = cmd_status_str(sub, "state", "?");
    const char *name = cmd_status_str(sub, "name", "?");
    if (strcmp(state, "disabled") == 0) {
        /* Configured but not run: nothing measured, never unhealthy. */
        printf("%-*s  %-10s  %-7s  %10s  %10s  %10s  %7s  -\n", name_width, name, state, "-", "-",
               "-", "-", "-");
        cmd_status_print_description(sub, columns);
        return true;
    }
    const json_t *conds = json_object_get(sub, "conditions");
    bool healthy = json_is_true(json_object_get(sub, "healthy")) &&
                   !(json_is_array(conds) && json_array_size(conds) > 0);
    char last_event[32], last_hb[32];
    cmd_status_age_of(sub, "last_event_at", now, last_event, sizeof(last_event));
    cmd_status_age_of(sub, "last_heartbeat_at", now, last_hb, sizeof(last_hb));
    int n =
        printf("%-*s  %-10s  %-7s  %10llu  %10llu  %10s  %7s  ", name_width, name, state,
               healthy ? "yes" : "NO", cmd_status_uint(sub, "events"),
               cmd_status_uint(json_object_get(sub, "violations"), "total"), last_event, last_hb);
    char open[256];
    cmd_status_conditions_text(conds, now, open, sizeof(open));
    fputs(open, stdout);
    cmd_status_print_violation(json_object_get(sub, "last_violation"),
                               (n > 0 ? (size_t)n : 0) + strlen(open), columns, now);
    fputc('\n', stdout);
    if (json_is_true(json_object_get(sub, "insecure")))
        fputs("    INSECURE: TLS certificates not verified (\"insecure\": true)\n", stdout);
    cmd_status_print_description(sub, columns);
    return healthy;
}

/* "p50/p99" of a delivery entry in ms, or "-". */
static void cmd_status_delivery(const json_t *d, char *buf, size_t size)
{
    const json_t *p50 = json_object_get(d, "p50_ms");
    const json_t *p99 = json_object_get(d, "p99_ms");
    if (!json_is_integer(p50) || !json_is_integer(p99))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%lld/%lld ms", (long long)json_integer_value(p50),
                 (long long)json_integer_value(p99));
}

/* The probes below the subscriptions: one line per probe, its last result
 * and the last failure, then one indented line per expectation with its
 * last result and p50/p99 delivery. Returns whether every probe is
 * healthy. */
static bool cmd_status_print_probes(const json_t *probes, size_t columns, time_t now)
{
    size_t n = json_array_size(probes);
    if (n == 0)
        return true;
    int name_width = 5;
    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(cmd_status_str(json_array_get(probes, i), "name", "?"));
        if (len > name_width)
            name_width = len;
    }
    printf("\n%-*s  %-8s  %-7s  %6s  %8s  %7s  %s\n", name_width, "PROBE", "LAST", "HEALTHY",
           "RUNS", "FAILURES", "SKIPPED", "LAST FAILURE");
    bool all = true;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(probes, i);
        bool healthy = json_is_true(json_object_get(p, "healthy"));
        all = all && healthy;
        const json_t *last = json_object_get(p, "last_run");
        int k = printf("%-*s  %-8s  %-7s  %6llu  %8llu  %7llu  ", name_width,
                       cmd_status_str(p, "name", "?"),
                       json_is_object(last) ? cmd_status_str(last, "result", "?") : "-",
                       healthy ? "yes" : "NO", cmd_status_uint(p, "runs"),
                       cmd_status_uint(p, "failures"), cmd_status_uint(p, "skipped"));
        cmd_status_print_violation(json_object_get(p, "last_failure"), k > 0 ? (size_t)k : 0,
                                   columns, now);
        fputc('\n', stdout);
        cmd_status_print_description(p, columns);
        const json_t *steps = json_is_object(last) ? json_object_get(last, "steps") : NULL;
        const json_t *delivery = json_object_get(p, "delivery");
        for (size_t s = 0; s < json_array_size(delivery); s++) {
            const json_t *d = json_array_get(delivery, s);
            const json_t *st = json_array_get(steps, s);
            char pq[64];
            cmd_status_delivery(d, pq, sizeof(pq));
            printf("  %s %s: last %s, delivery p50/p99 %s\n",
                   cmd_status_str(d, "subscription", "?"), cmd_status_str(d, "event", "?"),
                   st != NULL ? cmd_status_str(st, "result", "-") : "-", pq);
        }
    }
    return all;
}

/* Whether the running configuration is the file's: false after a refused
 * reload (until one succeeds). With `say`, prints why not. */
static bool cmd_status_config_ok(const json_t *doc, bool say)
{
    const json_t *last = json_object_get(json_object_get(doc, "config"), "last_reload");
    if (!json_is_object(last) || !json_is_false(json_object_get(last, "ok")))
        return true;
    if (say) {
        const json_t *cfg = json_object_get(doc, "config");
        printf("CONFIG  reload of %s refused at %s: %s\n"
               "        still running the configuration loaded at %s\n",
               cmd_status_str(cfg, "path", "?"), cmd_status_str(last, "at", "?"),
               cmd_status_str(last, "error", "?"), cmd_status_str(cfg, "loaded_at", "?"));
    }
    return false;
}

/* Prints the table; returns the exit status. */
static int cmd_status_print_table(const json_t *doc, bool one, bool wide)
{
    const json_t *subs = one ? NULL : json_object_get(doc, "subscriptions");
    if (one ? !json_is_object(doc) : !json_is_array(subs))
        return cmd_status_fail("unexpected answer from the daemon: no subscription %s",
                               one ? "object" : "list");
    size_t n = one ? 1 : json_array_size(subs);
    int name_width = 4;
    for (size_t i = 0; i < n; i++) {
        const json_t *sub = one ? doc : json_array_get(subs, i);
        int len = (int)strlen(cmd_status_str(sub, "name", "?"));
        if (len > name_width)
            name_width = len;
    }
    size_t columns = cmd_status_terminal_columns(wide);
    time_t now = (time_t)(clock_wall_ms() / 1000);
    printf("%-*s  %-10s  %-7s  %10s  %10s  %10s  %7s  %s\n", name_width, "NAME", "STATE", "HEALTHY",
           "EVENTS", "VIOLATIONS", "LAST EVENT", "LAST HB", "LAST VIOLATION");
    bool all_healthy = true;
    for (size_t i = 0; i < n; i++) {
        const json_t *sub = one ? doc : json_array_get(subs, i);
        if (!cmd_status_print_row(sub, name_width, columns, now))
            all_healthy = false;
    }
    if (!one && n == 0)
        printf("(no subscriptions configured)\n");
    if (!one && !cmd_status_print_probes(json_object_get(doc, "probes"), columns, now))
        all_healthy = false;
    if (!one && !cmd_status_config_ok(doc, true))
        all_healthy = false;
    return all_healthy ? 0 : 1;
}

/* The exit status --json reports: the same health rule as the table. */
static int cmd_status_health_of(const json_t *doc, bool one)
{
    if (one)
        return json_is_true(json_object_get(doc, "healthy")) ? 0 : 1;
    const json_t *subs = json_object_get(doc, "subscriptions");
    if (!json_is_array(subs))
        return cmd_status_fail("unexpected answer from the daemon: no subscription list");
    for (size_t i = 0; i < json_array_size(subs); i++)
        if (!json_is_true(json_object_get(json_array_get(subs, i), "healthy")))
            return 1;
    const json_t *probes = json_object_get(doc, "probes");
    for (size_t i = 0; i < json_array_size(probes); i++)
        if (!json_is_true(json_object_get(json_array_get(probes, i), "healthy")))
            return 1;
    return cmd_status_config_ok(doc, false) ? 0 : 1;
}

int cmd_status(int argc, char **argv)
{
    static const struct option options[] = {
        {"url", required_argument, NULL, 'u'},
        {"json", no_argument, NULL, 'j'},
        {"wide", no_argument, NULL, 'w'},
        {"cacert", required_argument, NULL, 'C'},
        {"cert", required_argument, NULL, 'E'},
        {"key", required_argument, NULL, 'k'},
        {"user", required_argument, NULL, 'U'},
        {"password-file", required_argument, NULL, 'P'},
        {"password-credential", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *endpoint = CMD_STATUS_DEFAULT_URL;
    bool raw = false;
    bool wide = false;
    struct cmd_status_access acc = {0};
    const char *password_file = NULL;
    const char *credential = NULL;
    int c;
    optind = 0; /* full re-initialisation: another command may have used getopt */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'u':
            endpoint = optarg;
            break;
        case 'j':
            raw = true;
            break;
        case 'w':
            wide = true;
            break;
        case 'C':
            acc.sa_cacert = optarg;
            break;
        case 'E':
            acc.sa_cert = optarg;
            break;
        case 'k':
            acc.sa_key = optarg;
            break;
        case 'U':
            acc.sa_user = optarg;
            break;
        case 'P':
            password_file = optarg;
            break;
        case 'K':
            credential = optarg;
            break;
        case 'h':
            cmd_status_usage(stdout);
            return 0;
        case ':':
            return cmd_status_usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            return cmd_status_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return cmd_status_usage_error("expected at most one subscription NAME");
    const char *name = optind < argc ? argv[optind] : NULL;
    if (name != NULL && !subscription_name_chars_ok(name, strlen(name)))
        return cmd_status_fail("'%s' is not a subscription name ([A-Za-z0-9_.-]+)", name);
    if (endpoint[0] == '\0')
        return cmd_status_fail("--url wants a URL");
    if (acc.sa_key != NULL && acc.sa_cert == NULL)
        return cmd_status_usage_error("--key goes with --cert");
    if (acc.sa_user != NULL && (acc.sa_user[0] == '\0' || strchr(acc.sa_user, ':') != NULL))
        return cmd_status_fail("--user wants a name without ':'");
    if ((password_file != NULL || credential != NULL) != (acc.sa_user != NULL) ||
        (password_file != NULL && credential != NULL))
        return cmd_status_usage_error(
            "--user goes with one of --password-file and --password-credential");
    if (password_file != NULL) {
        int prc = cmd_status_read_password("--password-file", password_file, &acc.sa_password);
        if (prc != 0)
            return prc;
    } else if (credential != NULL) {
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        if (dir == NULL || dir[0] == '\0')
            return cmd_status_fail("--password-credential %s: CREDENTIALS_DIRECTORY is not set "
                                   "(systemd sets it for LoadCredential=)",
                                   credential);
        if (credential[0] == '\0' || strchr(credential, '/') != NULL ||
            strcmp(credential, ".") == 0 || strcmp(credential, "..") == 0)
            return cmd_status_fail("--password-credential wants a credential name, not a path");
        char cpath[4096];
        int n = snprintf(cpath, sizeof(cpath), "%s/%s", dir, credential);
        if (n < 0 || (size_t)n >= sizeof(cpath))
            return cmd_status_fail("--password-credential %s: the path is too long", credential);
        int prc = cmd_status_read_password("--password-credential", cpath, &acc.sa_password);
        if (prc != 0)
            return prc;
    }

    char path[256];
    snprintf(path, sizeof(path), "/status%s%s", name != NULL ? "/" : "", name != NULL ? name : "");
    struct cmd_status_body body = {0};
    long code = 0;
    int rc = cmd_status_fetch(endpoint, path, &acc, &body, &code);
    if (acc.sa_password != NULL) {
        explicit_bzero(acc.sa_password, strlen(acc.sa_password));
        free(acc.sa_password);
    }
    if (rc != 0) {
        free(body.sb_buf);
        return rc;
    }
    if (code == 401) {
        free(body.sb_buf);
        return cmd_status_fail(acc.sa_user != NULL
                                   ? "%s refused the user and password given (HTTP 401)"
                                   : "%s asks for a user and password: --user with "
                                     "--password-file or --password-credential",
                               endpoint);
    }
    if (code == 404 && name != NULL) {
        free(body.sb_buf);
        return cmd_status_fail("the daemon has no subscription named '%s'", name);
    }
    if (code != 200) {
        free(body.sb_buf);
        return cmd_status_fail("%s%s answered HTTP %ld", endpoint, path, code);
    }
    json_error_t jerr;
    json_t *doc = json_loadb(body.sb_buf != NULL ? body.sb_buf : "", body.sb_len, 0, &jerr);
    if (doc == NULL) {
        free(body.sb_buf);
        return cmd_status_fail("the daemon's answer is not JSON: %s", jerr.text);
    }
    if (raw) {
        fwrite(body.sb_buf, 1, body.sb_len, stdout);
        if (body.sb_len == 0 || body.sb_buf[body.sb_len - 1] != '\n')
            fputc('\n', stdout);
        rc = cmd_status_health_of(doc, name != NULL);
    } else {
        rc = cmd_status_print_table(doc, name != NULL, wide);
    }
    json_decref(doc);
    free(body.sb_buf);
    if (fflush(stdout) != 0)
        return cmd_status_fail("cannot write the output");
    return rc;
}
