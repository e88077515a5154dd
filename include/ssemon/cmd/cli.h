/*
 * cli: the command-line argument helpers the commands share: durations in
 * seconds, counts, request header arguments ("K: V"), http(s) URLs, and the
 * wording of a usage error. Cmd layer (libcurl parses URLs). Each command
 * keeps its own messages for what is its own; these helpers only decide.
 *
 * Nothing is allocated and nothing is kept: strings are the caller's (argv)
 * and are only read; a `why` is pointed at a static string.
 */
#ifndef SSEMON_CMD_CLI_H
#define SSEMON_CMD_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* The longest duration any command accepts: a year is "forever" here. */
#define CLI_MAX_SECONDS (365.0 * 24 * 3600)

/* Writes "ssemon CMD: MESSAGE" and "(see 'ssemon CMD --help')" on stderr.
 * Returns 2, the usage exit status, so a parser can return it as is. */
__attribute__((format(printf, 2, 3))) int cli_usage_error(const char *cmd, const char *fmt, ...);

/* Seconds, fractions allowed, up to CLI_MAX_SECONDS, to milliseconds
 * rounded up (a tiny positive value never becomes 0, which often means
 * "off"). 0 is accepted only when `allow_zero`; a sign other than on a zero,
 * trailing text, inf and nan never. *ms is written only on success. */
bool cli_seconds(const char *s, bool allow_zero, uint64_t *ms);

/* A decimal integer in [min, max] that starts with a digit (no sign, no
 * space). *out is written only on success. */
bool cli_count(const char *s, long min, long max, long *out);

enum cli_header {
    CLI_HEADER_OK = 0,
    CLI_HEADER_INVALID,       /* not a valid "Name: value": *why says how */
    CLI_HEADER_LAST_EVENT_ID, /* valid, but names Last-Event-ID, which a command sends itself */
};

/* Judges a --header argument (see http_header_arg_valid). */
enum cli_header cli_header_arg(const char *arg, const char **why);

/* Whether `s` starts with "http://" or "https://" (any case): a source that
 * is meant as a URL rather than a file name. */
bool cli_is_url(const char *s);

/* Whether libcurl parses `url` and its scheme is http or https. */
bool cli_url_ok(const char *url);

/* Blocks SIGINT and SIGTERM for the rest of the process. A command calls it
 * once its loop has stopped, before it frees its signal events (which gives
 * the signals back their default action): a second stop signal that arrives
 * during the teardown (`timeout` sends SIGTERM to its child and then to the
 * whole process group) then stays pending instead of killing the process, so
 * the exit status is the one the command chose. */
void cli_hold_stop_signals(void);

/* ---- TLS and proxy flags (check, watch) ----
 * --cacert FILE, --cert FILE, --key FILE, --insecure, --proxy URL|env and
 * --no-proxy HOSTS: the transport keys of the configuration
 * (config_settings.h), with the same proxy rule: no proxy unless --proxy
 * names one, the environment variables only with --proxy env. A command
 * puts CLI_TRANSPORT_OPTIONS into its getopt table, hands each option
 * cli_transport_arg, and after parsing calls cli_transport_finish. */
enum cli_transport_opt {
    CLI_OPT_CACERT = 0x1000,
    CLI_OPT_CERT,
    CLI_OPT_KEY,
    CLI_OPT_INSECURE,
    CLI_OPT_PROXY,
    CLI_OPT_NO_PROXY,
};

#define CLI_TRANSPORT_OPTIONS                                                                      \
    {"cacert", required_argument, NULL, CLI_OPT_CACERT},                                           \
        {"cert", required_argument, NULL, CLI_OPT_CERT},                                           \
        {"key", required_argument, NULL, CLI_OPT_KEY},                                             \
        {"insecure", no_argument, NULL, CLI_OPT_INSECURE},                                         \
        {"proxy", required_argument, NULL, CLI_OPT_PROXY},                                         \
    {                                                                                              \
        "no-proxy", required_argument, NULL, CLI_OPT_NO_PROXY                                      \
    }

/* Their lines for a command's --help. */
#define CLI_TRANSPORT_HELP                                                                         \
    "  --cacert FILE           trust the CA certificates in FILE (PEM)\n"                          \
    "  --cert FILE             client certificate for mutual TLS (PEM)\n"                          \
    "  --key FILE              its private key (PEM; default: in the --cert file)\n"               \
    "  --insecure              do not verify the server's TLS certificate or name\n"               \
    "  --proxy URL|env         connect through this proxy (http://, https://, socks5h://...);\n"   \
    "                          'env': as http_proxy/https_proxy/no_proxy say (default: none)\n"    \
    "  --no-proxy HOSTS        comma-separated hosts reached without --proxy\n"

struct cli_transport {
    const char *ct_ca_file;
    const char *ct_cert;
    const char *ct_key;
    const char *ct_proxy; /* NULL: none */
    const char *ct_no_proxy;
    bool ct_insecure;
    bool ct_given; /* any of the flags was given */
};

/* Takes option `opt` (with `arg`) when it is one of the transport flags:
 * returns 0 (taken), 2 after a usage error for `cmd` (a file that cannot be
 * read, a proxy that is not "env" or a proxy URL), or -1 (not one of
 * them). */
int cli_transport_arg(const char *cmd, int opt, const char *arg, struct cli_transport *t);

/* After parsing: 0, or 2 after a usage error (--key without --cert). */
int cli_transport_finish(const char *cmd, const struct cli_transport *t);

struct sub_options;
/* Sets the transport fields of `o` from `t` (every string borrowed). */
void cli_transport_apply(const struct cli_transport *t, struct sub_options *o);

struct json_writer;
struct violation;

/* The members of one violation as the commands print it in NDJSON
 * (`ssemon check`, `ssemon probe`): class, severity, message, event, state,
 * excerpt, and t, `t_ms` as seconds with milliseconds (the time since the
 * command started). Into the object the caller has begun. */
void cli_violation_fields(struct json_writer *w, const struct violation *v, uint64_t t_ms);

#endif
