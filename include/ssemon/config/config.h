/*
 * config: the daemon's configuration file (one JSON document, reference in
 * docs/configuration.md and ssemon.json(5)). Adapter module: it reads the
 * file, the contracts it names (through contract_load), secret header
 * values from systemd credentials or files, and checks that a CA file is
 * readable.
 *
 * config_load returns a fully validated, immutable configuration, or NULL
 * with every error found (not just the first), each located as
 * "FILE:LINE:COL: POINTER: MESSAGE" where POINTER is the RFC 6901 path of
 * the offending key or value (e.g. "/subscriptions/2/url").
 *
 * Layering: config_defaults_init sets every setting to its built-in
 * default (the one place defaults live); the file's "defaults" object is
 * applied over them; each subscription's own keys are applied over that.
 * Headers merge by name (case-insensitively), a subscription's header
 * replacing a default one of the same name.
 *
 * Relative paths in the file (contracts_dir, ca_file, {"file": ...} header
 * values, a contract given as a path) are relative to the directory of the
 * configuration file.
 *
 * Secrets: a header value read from a credential or a file, or given for
 * Authorization, Proxy-Authorization or Cookie, is secret; a URL's
 * user-info is secret. Neither is reachable through this interface except
 * by filling a struct sub_options (what the HTTP client must send): names,
 * redacted URLs and header log lines are what displays get. Error messages
 * never quote a secret.
 *
 * Lifetime: a configuration is reference-counted (config_ref/config_unref),
 * so a daemon can keep a subscription that survived a reload running with
 * the contract of the configuration it was started from. Everything a
 * config_* accessor returns lives as long as the configuration. Not
 * thread-safe (one event loop).
 */
#ifndef SSEMON_CONFIG_H
#define SSEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/contract.h"
#include "ssemon/core/validator.h"

struct monitor_options;
struct sub_options;

#define CONFIG_DEFAULT_PATH "/etc/ssemon/ssemon.json"
#define CONFIG_DEFAULT_LISTEN "127.0.0.1:9464"
/* A larger configuration file is refused. */
#define CONFIG_MAX_BYTES ((size_t)16 << 20)
/* Subscription names: [A-Za-z0-9_.-]+, at most this many bytes (they are
 * journal fields and metric labels). */
#define CONFIG_NAME_MAX 127
/* A header value read from a credential or file is at most this long. */
#define CONFIG_SECRET_MAX_BYTES ((size_t)64 << 10)
/* Errors recorded per load; the rest are counted in one last error. */
#define CONFIG_MAX_ERRORS 1000

/* Every tunable of a subscription. Used for the built-in defaults, for the
 * file's "defaults" and for each subscription after layering. Times are in
 * milliseconds whatever unit the file uses. */
struct config_settings {
    uint64_t cs_backoff_min_ms;
    uint64_t cs_backoff_max_ms;
    uint64_t cs_connect_timeout_ms;
    uint64_t cs_idle_timeout_ms;       /* 0: off */
    uint64_t cs_healthy_reset_ms;      /* open this long resets the backoff */
    uint64_t cs_healthy_window_ms;     /* an error violation this recent: unhealthy */
    uint64_t cs_heartbeat_interval_ms; /* 0: the contract's (set per subscription only) */
    double cs_heartbeat_tolerance;     /* 0: the contract's */
    bool cs_strict;                    /* false: sse_syntax and unknown_event are warnings */
    bool cs_insecure;                  /* no TLS peer or host verification */
    bool cs_enabled;                   /* set per subscription only */
    const char *cs_ca_file;            /* NULL: the system store; owned by the configuration */
    /* Journal flood control: entries per subscription and class per
     * interval. Set in "defaults" only: read it from config_defaults(). */
    unsigned cs_journal_burst;
    uint64_t cs_journal_interval_ms;
    size_t cs_max_line;  /* bytes in one stream line */
    size_t cs_max_event; /* bytes of data in one event */
};

/* The built-in defaults: backoff 500 ms to 30 s, connect timeout 10 s, idle
 * timeout off, healthy reset 30 s, healthy window 300 s, the contract's
 * heartbeat interval and tolerance, strict, TLS verified against the system
 * store, enabled, 10 journal entries per minute, the parser's line and
 * event limits. */
void config_defaults_init(struct config_settings *s);

enum config_listen_kind {
    CONFIG_LISTEN_INET = 0, /* "A.B.C.D:PORT" */
    CONFIG_LISTEN_INET6,    /* "[ADDR]:PORT" */
    CONFIG_LISTEN_UNIX,     /* "/path" */
};

/* The status endpoint's address, validated. */
struct config_listen {
    enum config_listen_kind lis_kind;
    char lis_text[128]; /* as written: what status_server_new takes */
    char lis_host[48];  /* numeric address without brackets; "" for a unix socket */
    unsigned lis_port;  /* 0: any free port (tests); 0 for a unix socket */
    char lis_path[108]; /* unix socket path; "" otherwise */
};

/* One error. Strings are owned by the struct config_errors. */
struct config_error {
    const char *cer_file;    /* the configuration file, as named to config_load */
    size_t cer_line;         /* 1-based; 0 when the error has no position */
    size_t cer_column;       /* 1-based, in characters; 0 likewise */
    const char *cer_path;    /* JSON pointer of the key or value, "" when none */
    const char *cer_message; /* what is wrong (never a secret) */
    /* Ready to print, one line: "FILE:LINE:COL: PATH: MESSAGE", or
     * "FILE:LINE:COL: MESSAGE" without a path, or "FILE: MESSAGE" without a
     * position. Control characters from the file are escaped. */
    const char *cer_text;
};

/* Every error of one load, in file order (errors without a position
 * first). */
struct config_errors {
    struct config_error *ces_items;
    size_t ces_n;
    size_t ces_cap;
    bool ces_oom; /* out of memory: the list may be incomplete */
};

void config_errors_free(struct config_errors *e);

struct config;
struct config_subscription;

/* Loads and validates the file at `path`. Returns the configuration (the
 * caller holds one reference: config_unref) or NULL. Always initialises
 * *errors, which the caller frees with config_errors_free; it is empty
 * when a configuration is returned. */
struct config *config_load(const char *path, struct config_errors *errors);

/* The same for a document in memory (`len` bytes, no NUL needed); `file`
 * names it in errors and anchors relative paths (its directory, or the
 * current directory when it has no '/'). */
struct config *config_load_buffer(const char *text, size_t len, const char *file,
                                  struct config_errors *errors);

/* Takes one more reference; returns `c`. */
struct config *config_ref(struct config *c);
/* Drops one reference; the last frees the configuration, its contracts and
 * its secrets. NULL is ignored. */
void config_unref(struct config *c);

const char *config_path(const struct config *c);
const struct config_listen *config_status_listen(const struct config *c);
/* The resolved contracts directory, or NULL when the file sets none. */
const char *config_contracts_dir(const struct config *c);
/* The built-in defaults with the file's "defaults" applied. */
const struct config_settings *config_defaults(const struct config *c);
bool config_listen_equal(const struct config_listen *a, const struct config_listen *b);

/* Subscriptions in file order (disabled ones included). */
size_t config_subscription_count(const struct config *c);
const struct config_subscription *config_subscription_at(const struct config *c, size_t i);
/* NULL when no subscription has that name. */
const struct config_subscription *config_subscription_find(const struct config *c,
                                                           const char *name);

const char *config_subscription_name(const struct config_subscription *s);
/* The URL with any user-info replaced by "***@": the only form of the URL
 * to show or log. */
const char *config_subscription_url_redacted(const struct config_subscription *s);
/* The contract as the file names it ("task-stream", or a path). */
const char *config_subscription_contract_name(const struct config_subscription *s);
/* The compiled contract, shared by the subscriptions that name the same
 * file; it lives as long as the configuration. */
const struct contract *config_subscription_contract(const struct config_subscription *s);
bool config_subscription_enabled(const struct config_subscription *s);
const struct config_settings *config_subscription_settings(const struct config_subscription *s);
/* The contract variables bound by "vars", sorted by name. */
const struct validator_var *config_subscription_vars(const struct config_subscription *s,
                                                     size_t *n);

/* Request headers after layering, sorted by name (case-insensitively). */
size_t config_subscription_header_count(const struct config_subscription *s);
const char *config_subscription_header_name(const struct config_subscription *s, size_t i);
bool config_subscription_header_secret(const struct config_subscription *s, size_t i);
/* Writes header i for a log or display, "Name: value", or
 * "Name: <redacted>" for a secret one, NUL-terminated and truncated to
 * `size`. Returns the length of the full line (as snprintf does). */
int config_subscription_header_log(const struct config_subscription *s, size_t i, char *buf,
                                   size_t size);

/* Fill the options of the modules that run a subscription. Every pointer
 * put into *o points into the configuration and lives as long as it;
 * everything not set by the configuration is left at the module's default.
 * sub_options carries the raw URL and secret header values: pass it to the
 * engine and nowhere else. */
void config_subscription_sub_options(const struct config_subscription *s, struct sub_options *o);
void config_subscription_validator_options(const struct config_subscription *s,
                                           struct validator_options *o);
/* Both of the above, plus the name, the redacted URL, the contract and the
 * healthy window. */
void config_subscription_monitor_options(const struct config_subscription *s,
                                         struct monitor_options *o);

/* Whether two subscriptions (usually from two loads) would behave the same:
 * name, URL, contract (as named, and its merged document, so an edit to a
 * file it extends counts), variables, headers and their values, every
 * setting but the journal rate, and "enabled". A daemon reloading its
 * configuration keeps the ones that are equal running. The CA file is
 * compared by path, not content. */
bool config_equal_subscription(const struct config_subscription *a,
                               const struct config_subscription *b);

#endif
