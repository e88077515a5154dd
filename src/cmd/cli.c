/*
 * The argument helpers. Durations use strtod so "0.25" and "1e-3" work as
 * users expect; counts use strtol but insist on a leading digit, so "-1",
 * " 5" and "+5" are refused rather than wrapped or skipped.
 */
#include "ssemon/cmd/cli.h"
#include "ssemon/config/config_settings.h"
#include "ssemon/core/http_header.h"
#include "ssemon/core/violation.h"
#include "ssemon/io/subscription.h"
#include "ssemon/json/json_writer.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ssemon %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'ssemon %s --help')\n", cmd);
    va_end(ap);
    return 2;
}

bool cli_seconds(const char *s, bool allow_zero, uint64_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 || v > CLI_MAX_SECONDS ||
        (v == 0 && !allow_zero))
        return false;
    double x = v * 1000.0;
    *ms = (uint64_t)x;
    if ((double)*ms < x)
        (*ms)++;
    return true;
}

bool cli_count(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    if (s[0] < '0' || s[0] > '9')
        return false;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

enum cli_header cli_header_arg(const char *arg, const char **why)
{
    if (!http_header_arg_valid(arg, why))
        return CLI_HEADER_INVALID;
    struct http_header_field f;
    if (http_header_split(arg, strlen(arg), &f) &&
        http_header_name_eq(f.hf_name, f.hf_name_len, "Last-Event-ID"))
        return CLI_HEADER_LAST_EVENT_ID;
    return CLI_HEADER_OK;
}

bool cli_is_url(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

bool cli_url_ok(const char *url)
{
    CURLU *u = curl_url();
    if (u == NULL)
        return false;
    char *scheme = NULL;
    bool ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
    curl_free(scheme);
    curl_url_cleanup(u);
    return ok;
}

void cli_hold_stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

void cli_violation_fields(struct json_writer *w, const struct violation *v, uint64_t t_ms)
{
    char secs[48];
    int n = snprintf(secs, sizeof(secs), "%" PRIu64 ".%03u", t_ms / 1000, (unsigned)(t_ms % 1000));
    json_writer_key(w, "class");
    json_writer_cstring(w, violation_class_name(v->v_class));
    json_writer_key(w, "severity");
    json_writer_cstring(w, violation_severity_name(v->v_severity));
    json_writer_key(w, "message");
    json_writer_cstring(w, v->v_message);
    json_writer_key(w, "event");
    json_writer_cstring(w, v->v_event);
    json_writer_key(w, "state");
    json_writer_cstring(w, v->v_state);
    json_writer_key(w, "excerpt");
    json_writer_cstring(w, v->v_excerpt);
    json_writer_key(w, "t");
    json_writer_raw(w, secs, (size_t)n);
}

/* A file flag: readable now (libcurl reads it later, when connecting). */
static int cli_transport_file(const char *cmd, const char *flag, const char *arg, const char **out)
{
    if (access(arg, R_OK) != 0)
        return cli_usage_error(cmd, "%s: cannot read '%s': %s", flag, arg, strerror(errno));
    *out = arg;
    return 0;
}

int cli_transport_arg(const char *cmd, int opt, const char *arg, struct cli_transport *t)
{
    int rc = 0;
    switch (opt) {
    case CLI_OPT_CACERT:
        rc = cli_transport_file(cmd, "--cacert", arg, &t->ct_ca_file);
        break;
    case CLI_OPT_CERT:
        rc = cli_transport_file(cmd, "--cert", arg, &t->ct_cert);
        break;
    case CLI_OPT_KEY:
        rc = cli_transport_file(cmd, "--key", arg, &t->ct_key);
        break;
    case CLI_OPT_INSECURE:
        t->ct_insecure = true;
        break;
    case CLI_OPT_PROXY:
        if (!config_settings_proxy_ok(arg))
            return cli_usage_error(cmd,
                                   "--proxy wants 'env' or a proxy URL (http://, https://, "
                                   "socks4://, socks4a://, socks5://, socks5h://), not '%s'",
                                   arg);
        t->ct_proxy = arg;
        break;
    case CLI_OPT_NO_PROXY:
        t->ct_no_proxy = arg;
        break;
    default:
        return -1;
    }
    if (rc == 0)
        t->ct_given = true;
    return rc;
}

int cli_transport_finish(const char *cmd, const struct cli_transport *t)
{
    if (t->ct_key != NULL && t->ct_cert == NULL)
        return cli_usage_error(cmd, "--key needs --cert (the certificate it belongs to)");
    return 0;
}

void cli_transport_apply(const struct cli_transport *t, struct sub_options *o)
{
    o->so_ca_file = t->ct_ca_file;
    o->so_client_cert = t->ct_cert;
    o->so_client_key = t->ct_key;
    o->so_insecure = t->ct_insecure;
    o->so_proxy = t->ct_proxy;
    o->so_no_proxy = t->ct_no_proxy;
}
