/*
 * config_settings: every tunable of a subscription, their built-in
 * defaults (the one place defaults live), and how an object of the file
 * is applied over them: the built-in defaults, then the file's "defaults",
 * then each subscription's own keys. Config-layer module.
 *
 * Ownership: the strings of a config_settings (cs_ca_file, cs_client_cert,
 * cs_client_key, cs_proxy, cs_no_proxy) point into a struct
 * config_settings_strings the caller of config_settings_apply owns; for a
 * loaded configuration, the configuration owns it.
 */
#ifndef SSEMON_CONFIG_CONFIG_SETTINGS_H
#define SSEMON_CONFIG_CONFIG_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_doc;
struct config_headers;

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
    /* A stream silent this many times its heartbeat limit is closed and
     * reopened; 0: never. */
    unsigned cs_stall_reopen_factor;
    bool cs_strict;         /* false: sse_syntax and unknown_event are warnings */
    bool cs_insecure;       /* no TLS peer or host verification */
    bool cs_enabled;        /* set per subscription only */
    const char *cs_ca_file; /* NULL: the system store */
    /* Mutual TLS: the client certificate (PEM) and its key (a PEM file, or
     * the file of a credential); NULL: none (a key in the certificate's file
     * when only cs_client_cert is set). */
    const char *cs_client_cert;
    const char *cs_client_key;
    /* NULL: no proxy, whatever the environment says; "env": the proxy
     * environment variables (SUB_PROXY_ENV); else a proxy URL, not used for
     * the hosts in cs_no_proxy. */
    const char *cs_proxy;
    const char *cs_no_proxy;
    /* Journal flood control: entries per subscription and class per
     * interval. Set in "defaults" only: read it from config_defaults(). */
    unsigned cs_journal_burst;
    uint64_t cs_journal_interval_ms;
    size_t cs_max_line;  /* bytes in one stream line */
    size_t cs_max_event; /* bytes of data in one event */
    /* The flight recorder's bounds (core/flight): frames and bytes of the
     * current connection kept for /status/NAME/events and evidence. */
    unsigned cs_evidence_events;
    size_t cs_evidence_bytes;
};

/* The built-in defaults: backoff 500 ms to 30 s, connect timeout 10 s, idle
 * timeout off, healthy reset 30 s, healthy window 300 s, the contract's
 * heartbeat interval and tolerance, a silent stream reopened after 3 times
 * its heartbeat limit, strict, TLS verified against the system
 * store, enabled, 10 journal entries per minute, the parser's line and
 * event limits. */
void config_settings_defaults(struct config_settings *s);

/* Whether two subscriptions' settings are the same, the journal rate left
 * out (see config_subscription_equal); the CA file by path. */
bool config_settings_equal(const struct config_settings *a, const struct config_settings *b);

/* Which of the keys checked together one object set. */
struct config_settings_layer {
    bool csl_backoff_min;
    bool csl_backoff_max;
    bool csl_client_cert;
    bool csl_client_key;
};

/* The strings a config_settings points to, owned (malloc'ed; NULL: unset). */
struct config_settings_strings {
    char *css_ca_file;
    char *css_client_cert;
    char *css_client_key;
    char *css_proxy;
    char *css_no_proxy;
};

/* Copies the strings of `src` into `dst` (which must be empty). Returns 0,
 * or -1 when out of memory (`dst` then holds what was copied). */
int config_settings_strings_copy(struct config_settings_strings *dst,
                                 const struct config_settings *src);
/* Points the strings of `s` at those of `own`. */
void config_settings_strings_bind(struct config_settings *s,
                                  const struct config_settings_strings *own);
/* Frees them; *own is empty afterwards. */
void config_settings_strings_free(struct config_settings_strings *own);

/* Applies the settings present in object `obj` (at `path`) over `s`: the
 * keys of the table allowed in `where` (CONFIG_KEYS_IN_*). The string
 * settings ("ca_file", "client_cert", "client_key", "proxy", "no_proxy")
 * replace those of `own` (owned by the caller; `s` is bound to them: see
 * config_settings_strings_bind),
 * "headers" are layered into `hs`, "journal_rate" is applied over `s`.
 * `ly` (may be NULL) records what was set. Unknown keys are the caller's
 * to report (config_keys_check). */
void config_settings_apply(struct config_doc *d, size_t obj, const char *path, unsigned where,
                           struct config_settings *s, struct config_settings_strings *own,
                           struct config_headers *hs, struct config_settings_layer *ly);

/* backoff_max_ms must not be below backoff_min_ms once layered; reported
 * where the object at `path` set one of them (nothing when it set neither:
 * the layer below was judged on its own). */
void config_settings_check_backoff(struct config_doc *d, const char *path,
                                   const struct config_settings *s,
                                   const struct config_settings_layer *ly);

/* Whether `v` is a value "proxy" takes (besides null): "env", or a URL of
 * a scheme libcurl proxies with (http, https, socks4, socks4a, socks5,
 * socks5h) with something after "://". The one rule of the file and of the
 * commands' --proxy. */
bool config_settings_proxy_ok(const char *v);

/* A client key needs a client certificate once layered; reported where
 * the object at `path` set either (nothing when it set neither). */
void config_settings_check_tls(struct config_doc *d, const char *path,
                               const struct config_settings *s,
                               const struct config_settings_layer *ly);

#endif
