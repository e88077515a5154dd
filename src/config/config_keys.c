#include "ssemon/config/config_keys.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/config/config_doc.h"
#include "ssemon/config/config_settings.h"
#include "ssemon/core/flight.h"

#define CONFIG_KEYS_OFF(f) offsetof(struct config_settings, f)
#define CONFIG_KEYS_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct config_key config_keys_settings[] = {
    {"backoff_min_ms", CONFIG_KEYS_U64, CONFIG_KEYS_IN_BOTH, CONFIG_KEYS_OFF(cs_backoff_min_ms), 1,
     3600000},
    {"backoff_max_ms", CONFIG_KEYS_U64, CONFIG_KEYS_IN_BOTH, CONFIG_KEYS_OFF(cs_backoff_max_ms), 1,
     86400000},
    {"connect_timeout_s", CONFIG_KEYS_SECONDS, CONFIG_KEYS_IN_BOTH,
     CONFIG_KEYS_OFF(cs_connect_timeout_ms), 0.001, 3600},
    {"idle_timeout_s", CONFIG_KEYS_SECONDS, CONFIG_KEYS_IN_BOTH,
     CONFIG_KEYS_OFF(cs_idle_timeout_ms), 0, 86400},
    {"healthy_reset_s", CONFIG_KEYS_SECONDS, CONFIG_KEYS_IN_BOTH,
     CONFIG_KEYS_OFF(cs_healthy_reset_ms), 0.001, 86400},
    {"healthy_window_s", CONFIG_KEYS_SECONDS, CONFIG_KEYS_IN_BOTH,
     CONFIG_KEYS_OFF(cs_healthy_window_ms), 0.001, 604800},
    {"heartbeat_interval_s", CONFIG_KEYS_SECONDS, CONFIG_KEYS_IN_SUB,
     CONFIG_KEYS_OFF(cs_heartbeat_interval_ms), 0.001, 86400},
    {"heartbeat_tolerance", CONFIG_KEYS_REAL, CONFIG_KEYS_IN_BOTH,
     CONFIG_KEYS_OFF(cs_heartbeat_tolerance), 1, 1000},
    {"stall_reopen_factor", CONFIG_KEYS_UINT, CONFIG_KEYS_IN_BOTH,
     CONFIG_KEYS_OFF(cs_stall_reopen_factor), 0, 1000},
    {"strict", CONFIG_KEYS_BOOL, CONFIG_KEYS_IN_BOTH, CONFIG_KEYS_OFF(cs_strict), 0, 0},
    {"insecure", CONFIG_KEYS_BOOL, CONFIG_KEYS_IN_TRANSPORT, CONFIG_KEYS_OFF(cs_insecure), 0, 0},
    {"enabled", CONFIG_KEYS_BOOL, CONFIG_KEYS_IN_SUB, CONFIG_KEYS_OFF(cs_enabled), 0, 0},
    {"ca_file", CONFIG_KEYS_PATH, CONFIG_KEYS_IN_TRANSPORT, CONFIG_KEYS_OFF(cs_ca_file), 0, 0},
    {"client_cert", CONFIG_KEYS_PATH, CONFIG_KEYS_IN_TRANSPORT, CONFIG_KEYS_OFF(cs_client_cert), 0,
     0},
    {"client_key", CONFIG_KEYS_KEYFILE, CONFIG_KEYS_IN_TRANSPORT, CONFIG_KEYS_OFF(cs_client_key), 0,
     0},
    {"proxy", CONFIG_KEYS_PROXY, CONFIG_KEYS_IN_TRANSPORT, CONFIG_KEYS_OFF(cs_proxy), 0, 0},
    {"no_proxy", CONFIG_KEYS_HOSTS, CONFIG_KEYS_IN_TRANSPORT, CONFIG_KEYS_OFF(cs_no_proxy), 0, 0},
    {"headers", CONFIG_KEYS_HEADERS, CONFIG_KEYS_IN_BOTH, 0, 0, 0},
    {"journal_rate", CONFIG_KEYS_RATE_OBJ, CONFIG_KEYS_IN_DEFAULTS, 0, 0, 0},
    {"max_line", CONFIG_KEYS_SIZE, CONFIG_KEYS_IN_BOTH, CONFIG_KEYS_OFF(cs_max_line), 1,
     1073741824},
    {"max_event", CONFIG_KEYS_SIZE, CONFIG_KEYS_IN_BOTH, CONFIG_KEYS_OFF(cs_max_event), 1,
     1073741824},
    {"evidence_events", CONFIG_KEYS_UINT, CONFIG_KEYS_IN_BOTH, CONFIG_KEYS_OFF(cs_evidence_events),
     1, FLIGHT_MAX_EVENTS},
    {"evidence_bytes", CONFIG_KEYS_SIZE, CONFIG_KEYS_IN_BOTH, CONFIG_KEYS_OFF(cs_evidence_bytes), 1,
     FLIGHT_MAX_BYTES},
    {"burst", CONFIG_KEYS_UINT, CONFIG_KEYS_IN_RATE, CONFIG_KEYS_OFF(cs_journal_burst), 1, 1000000},
    {"interval_s", CONFIG_KEYS_SECONDS, CONFIG_KEYS_IN_RATE,
     CONFIG_KEYS_OFF(cs_journal_interval_ms), 0.001, 86400},
};

/* The keys that are not settings, by place. */
static const char *const config_keys_top[] = {
    "status", "contracts_dir", "defaults",     "subscriptions",      "instance",
    "probes", "metrics",       "evidence_dir", "evidence_max_bytes", "evidence_max_files"};
static const char *const config_keys_metrics[] = {"histograms", "zeros"};
static const char *const config_keys_status[] = {"listen", "tls", "basic_auth_users",
                                                 "auth_health"};
static const char *const config_keys_status_tls[] = {"cert_file", "key_file", "client_ca_file"};
static const char *const config_keys_sub[] = {"name", "url", "contract", "vars", "description"};
static const char *const config_keys_secret[] = {"credential", "file"};
static const char *const config_keys_probe[] = {"name",   "every_s", "trigger",
                                                "expect", "streams", "description"};
static const char *const config_keys_trigger[] = {
    "method", "url", "headers", "body", "body_text", "timeout_s", "expect_status", "capture"};
static const char *const config_keys_expect[] = {"subscription", "event", "match", "within_s"};
static const char *const config_keys_stream[] = {"url", "contract", "vars", "within_s"};

const struct config_key *config_keys_setting(size_t i)
{
    return i < CONFIG_KEYS_COUNT(config_keys_settings) ? &config_keys_settings[i] : NULL;
}

static bool config_keys_is(const char *key, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

const struct config_key *config_keys_find(const char *key, size_t len, unsigned where)
{
    for (size_t i = 0; i < CONFIG_KEYS_COUNT(config_keys_settings); i++)
        if ((config_keys_settings[i].ck_where & where) &&
            config_keys_is(key, len, config_keys_settings[i].ck_name))
            return &config_keys_settings[i];
    return NULL;
}

/* Appends the names of the settings allowed at `where`. */
static size_t config_keys_setting_names(unsigned where, const char **out, size_t n, size_t max)
{
    for (size_t i = 0; i < CONFIG_KEYS_COUNT(config_keys_settings) && n < max; i++)
        if (config_keys_settings[i].ck_where & where)
            out[n++] = config_keys_settings[i].ck_name;
    return n;
}

static size_t config_keys_names_add(const char *const *names, size_t count, const char **out,
                                    size_t n, size_t max)
{
    for (size_t i = 0; i < count && n < max; i++)
        out[n++] = names[i];
    return n;
}

/* The keys allowed at a place; returns how many were written to `out`. */
static size_t config_keys_of_place(enum config_keys_place place, const char **out, size_t max)
{
    switch (place) {
    case CONFIG_KEYS_TOP:
        return config_keys_names_add(config_keys_top, CONFIG_KEYS_COUNT(config_keys_top), out, 0,
                                     max);
    case CONFIG_KEYS_STATUS:
        return config_keys_names_add(config_keys_status, CONFIG_KEYS_COUNT(config_keys_status), out,
                                     0, max);
    case CONFIG_KEYS_STATUS_TLS:
        return config_keys_names_add(config_keys_status_tls,
                                     CONFIG_KEYS_COUNT(config_keys_status_tls), out, 0, max);
    case CONFIG_KEYS_METRICS:
        return config_keys_names_add(config_keys_metrics, CONFIG_KEYS_COUNT(config_keys_metrics),
                                     out, 0, max);
    case CONFIG_KEYS_SECRET:
        return config_keys_names_add(config_keys_secret, CONFIG_KEYS_COUNT(config_keys_secret), out,
                                     0, max);
    case CONFIG_KEYS_PROBE:
        return config_keys_names_add(config_keys_probe, CONFIG_KEYS_COUNT(config_keys_probe), out,
                                     0, max);
    case CONFIG_KEYS_TRIGGER: {
        size_t n = config_keys_names_add(config_keys_trigger,
                                         CONFIG_KEYS_COUNT(config_keys_trigger), out, 0, max);
        return config_keys_setting_names(CONFIG_KEYS_IN_TRIGGER, out, n, max);
    }
    case CONFIG_KEYS_EXPECT:
        return config_keys_names_add(config_keys_expect, CONFIG_KEYS_COUNT(config_keys_expect), out,
                                     0, max);
    case CONFIG_KEYS_STREAM:
        return config_keys_names_add(config_keys_stream, CONFIG_KEYS_COUNT(config_keys_stream), out,
                                     0, max);
    case CONFIG_KEYS_SUB: {
        size_t n =
            config_keys_names_add(config_keys_sub, CONFIG_KEYS_COUNT(config_keys_sub), out, 0, max);
        return config_keys_setting_names(CONFIG_KEYS_IN_SUB, out, n, max);
    }
    case CONFIG_KEYS_DEFAULTS:
        return config_keys_setting_names(CONFIG_KEYS_IN_DEFAULTS, out, 0, max);
    case CONFIG_KEYS_RATE:
        return config_keys_setting_names(CONFIG_KEYS_IN_RATE, out, 0, max);
    case CONFIG_KEYS_ANY:
        break;
    }
    return 0;
}

/* Reports an unknown key, with the likeliest fix: where it belongs when
 * it is known elsewhere, else the closest allowed name. */
static void config_keys_unknown(struct config_doc *d, enum config_keys_place place, const char *key,
                                size_t len, const char *path)
{
    const char *names[64];
    size_t n = config_keys_of_place(place, names, CONFIG_KEYS_COUNT(names));
    char q[DIAG_QUOTE_MAX];

    diag_escape(q, sizeof(q), key, len, true);
    if (place == CONFIG_KEYS_DEFAULTS) {
        for (size_t i = 0; i < CONFIG_KEYS_COUNT(config_keys_sub); i++) {
            if (config_keys_is(key, len, config_keys_sub[i])) {
                config_doc_err_key(d, path, "\"%s\" is set per subscription, not in \"defaults\"",
                                   q);
                return;
            }
        }
        if (config_keys_find(key, len, CONFIG_KEYS_IN_SUB) != NULL) {
            config_doc_err_key(d, path, "\"%s\" is set per subscription, not in \"defaults\"", q);
            return;
        }
    }
    if (place == CONFIG_KEYS_SUB && config_keys_find(key, len, CONFIG_KEYS_IN_DEFAULTS) != NULL) {
        config_doc_err_key(d, path, "\"%s\" is set in \"defaults\" only", q);
        return;
    }
    if (place == CONFIG_KEYS_TOP && config_keys_find(key, len, CONFIG_KEYS_IN_BOTH) != NULL) {
        bool in_defaults = config_keys_find(key, len, CONFIG_KEYS_IN_DEFAULTS) != NULL;
        bool in_sub = config_keys_find(key, len, CONFIG_KEYS_IN_SUB) != NULL;
        config_doc_err_key(d, path, "\"%s\" belongs in %s", q,
                           !in_sub       ? "\"defaults\""
                           : in_defaults ? "\"defaults\" or in a subscription"
                                         : "a subscription");
        return;
    }
    struct diag_suggest s;
    diag_suggest_init(&s, key, len);
    for (size_t i = 0; i < n; i++)
        diag_suggest_consider(&s, names[i]);
    if (s.dsg_best != NULL)
        config_doc_err_key(d, path, "unknown key \"%s\" (did you mean \"%s\"?)", q, s.dsg_best);
    else
        config_doc_err_key(d, path, "unknown key \"%s\"", q);
}

/* Whether two key nodes hold the same decoded key. */
static bool config_keys_same(const struct json_tape *t, size_t a, size_t b)
{
    size_t la, lb;
    const char *ka = json_tape_string(t, a, &la);
    const char *kb = json_tape_string(t, b, &lb);
    return la == lb && memcmp(ka, kb, la) == 0;
}

void config_keys_check(struct config_doc *d, size_t obj, const char *path,
                       enum config_keys_place place)
{
    const struct json_tape *t = &d->cd_tape;
    size_t end = json_tape_next(t, obj);
    bool dups = (t->jt_nodes[obj].tn_flags & JSON_TAPE_F_DUPS) != 0;
    const char *names[64];
    size_t n = config_keys_of_place(place, names, CONFIG_KEYS_COUNT(names));

    for (size_t k = obj + 1; k < end && !config_doc_out_of_memory(d);
         k = json_tape_next(t, k + 1)) {
        size_t len;
        const char *key = json_tape_string(t, k, &len);
        char *kpath = NULL;
        if (place != CONFIG_KEYS_ANY) {
            bool known = false;
            for (size_t i = 0; i < n && !known; i++)
                known = config_keys_is(key, len, names[i]);
            if (!known) {
                kpath = config_doc_pointer(path, key, len);
                if (kpath == NULL) {
                    config_doc_nomem(d);
                    return;
                }
                /* A repeated unknown key is reported at its last copy only. */
                if (!dups || !json_tape_key_shadowed(t, k, end))
                    config_keys_unknown(d, place, key, len, kpath);
            }
        }
        if (dups && json_tape_key_shadowed(t, k, end)) {
            size_t k2 = json_tape_next(t, k + 1);
            while (k2 < end && !config_keys_same(t, k, k2))
                k2 = json_tape_next(t, k2 + 1);
            if (k2 < end) {
                if (kpath == NULL)
                    kpath = config_doc_pointer(path, key, len);
                if (kpath == NULL) {
                    config_doc_nomem(d);
                    return;
                }
                struct json_position first;
                char q[DIAG_QUOTE_MAX];
                config_doc_node_position(d, k, &first);
                diag_escape(q, sizeof(q), key, len, true);
                config_doc_err_node(d, k2, kpath,
                                    "duplicate key \"%s\" (previous at line %zu, column %zu)", q,
                                    first.jp_line, first.jp_column);
            }
        }
        free(kpath);
    }
}
