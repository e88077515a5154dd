#include "ssemon/config/config_settings.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/base/file.h"
#include "ssemon/config/config_doc.h"
#include "ssemon/config/config_headers.h"
#include "ssemon/config/config_keys.h"
#include "ssemon/core/backoff.h"
#include "ssemon/core/sse_parser.h"
#include "ssemon/io/subscription.h"

#define CONFIG_SETTINGS_HEALTHY_WINDOW_MS 300000u
#define CONFIG_SETTINGS_JOURNAL_BURST 10u
#define CONFIG_SETTINGS_STALL_REOPEN_FACTOR 3u
#define CONFIG_SETTINGS_JOURNAL_INTERVAL_MS 60000u

void config_settings_defaults(struct config_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->cs_backoff_min_ms = BACKOFF_DEFAULT_MIN_MS;
    s->cs_backoff_max_ms = BACKOFF_DEFAULT_MAX_MS;
    s->cs_connect_timeout_ms = SUB_DEFAULT_CONNECT_TIMEOUT_MS;
    s->cs_idle_timeout_ms = 0;
    s->cs_healthy_reset_ms = SUB_DEFAULT_HEALTHY_MS;
    s->cs_healthy_window_ms = CONFIG_SETTINGS_HEALTHY_WINDOW_MS;
    s->cs_heartbeat_interval_ms = 0;
    s->cs_heartbeat_tolerance = 0;
    s->cs_stall_reopen_factor = CONFIG_SETTINGS_STALL_REOPEN_FACTOR;
    s->cs_strict = true;
    s->cs_insecure = false;
    s->cs_enabled = true;
    s->cs_ca_file = NULL;
    s->cs_journal_burst = CONFIG_SETTINGS_JOURNAL_BURST;
    s->cs_journal_interval_ms = CONFIG_SETTINGS_JOURNAL_INTERVAL_MS;
    s->cs_max_line = SSE_PARSER_DEFAULT_MAX_LINE;
    s->cs_max_event = SSE_PARSER_DEFAULT_MAX_EVENT;
}

/* The journal rate is left out: it is the process's flood control, not a
 * property of the subscription, and a change to it must not restart
 * every stream. */
bool config_settings_equal(const struct config_settings *a, const struct config_settings *b)
{
    return a->cs_backoff_min_ms == b->cs_backoff_min_ms &&
           a->cs_backoff_max_ms == b->cs_backoff_max_ms &&
           a->cs_connect_timeout_ms == b->cs_connect_timeout_ms &&
           a->cs_idle_timeout_ms == b->cs_idle_timeout_ms &&
           a->cs_healthy_reset_ms == b->cs_healthy_reset_ms &&
           a->cs_healthy_window_ms == b->cs_healthy_window_ms &&
           a->cs_heartbeat_interval_ms == b->cs_heartbeat_interval_ms &&
           a->cs_heartbeat_tolerance == b->cs_heartbeat_tolerance &&
           a->cs_stall_reopen_factor == b->cs_stall_reopen_factor && a->cs_strict == b->cs_strict &&
           a->cs_insecure == b->cs_insecure && a->cs_enabled == b->cs_enabled &&
           (a->cs_ca_file == NULL || b->cs_ca_file == NULL
                ? a->cs_ca_file == b->cs_ca_file
                : strcmp(a->cs_ca_file, b->cs_ca_file) == 0) &&
           a->cs_max_line == b->cs_max_line && a->cs_max_event == b->cs_max_event;
}

/* A number checked against a key's type and range. */
static bool config_settings_number(struct config_doc *d, size_t n, const char *path,
                                   const struct config_key *k, double *out)
{
    const struct json_tape *t = &d->cd_tape;
    bool integer = k->ck_type == CONFIG_KEYS_U64 || k->ck_type == CONFIG_KEYS_UINT ||
                   k->ck_type == CONFIG_KEYS_SIZE;
    const char *unit = k->ck_type == CONFIG_KEYS_SECONDS ? " seconds" : "";
    size_t rawlen;
    const char *raw;
    char q[DIAG_QUOTE_MAX];

    if (!json_tape_is_number(t, n)) {
        config_doc_err(d, path, "expected %s, got %s", integer ? "an integer" : "a number",
                       config_doc_type_name(d, n));
        return false;
    }
    raw = json_tape_raw(t, n, &rawlen);
    diag_escape(q, sizeof(q), raw, rawlen, true);
    if (integer && !json_tape_is_integer(t, n)) {
        config_doc_err(d, path, "expected an integer, got %s", q);
        return false;
    }
    double v = json_tape_double(t, n);
    if (integer &&
        (json_tape_int(t, n) < (int64_t)k->ck_min || json_tape_int(t, n) > (int64_t)k->ck_max)) {
        config_doc_err(d, path, "must be between %.15g and %.15g%s, got %s", k->ck_min, k->ck_max,
                       unit, q);
        return false;
    }
    if (!integer && (v < k->ck_min || v > k->ck_max)) {
        config_doc_err(d, path, "must be between %.15g and %.15g%s, got %s", k->ck_min, k->ck_max,
                       unit, q);
        return false;
    }
    if (k->ck_type == CONFIG_KEYS_SECONDS && v > 0 && llround(v * 1000.0) == 0) {
        config_doc_err(d, path, "must be 0 or at least 0.001 seconds, got %s", q);
        return false;
    }
    *out = v;
    return true;
}

/* Stores a checked scalar into its field. */
static void config_settings_store(struct config_settings *s, const struct config_key *k,
                                  const struct json_tape *t, size_t n, double v)
{
    char *f = (char *)s + k->ck_offset;

    switch (k->ck_type) {
    case CONFIG_KEYS_U64:
        *(uint64_t *)(void *)f = (uint64_t)json_tape_int(t, n);
        break;
    case CONFIG_KEYS_UINT:
        *(unsigned *)(void *)f = (unsigned)json_tape_int(t, n);
        break;
    case CONFIG_KEYS_SIZE:
        *(size_t *)(void *)f = (size_t)json_tape_int(t, n);
        break;
    case CONFIG_KEYS_SECONDS:
        *(uint64_t *)(void *)f = (uint64_t)llround(v * 1000.0);
        break;
    case CONFIG_KEYS_REAL:
        *(double *)(void *)f = v;
        break;
    case CONFIG_KEYS_BOOL:
        *(bool *)(void *)f = json_tape_type(t, n) == JSON_TAPE_TRUE;
        break;
    case CONFIG_KEYS_PATH:
    case CONFIG_KEYS_HEADERS:
    case CONFIG_KEYS_RATE_OBJ:
        break;
    }
}

/* ca_file: a readable regular file, or null for the system store. */
static void config_settings_ca_file(struct config_doc *d, size_t n, const char *path,
                                    char **ca_file)
{
    if (json_tape_type(&d->cd_tape, n) == JSON_TAPE_NULL) {
        free(*ca_file);
        *ca_file = NULL;
        return;
    }
    char *file = config_doc_path(d, n, path);
    if (file == NULL)
        return;
    struct file_error ferr;
    char q[DIAG_QUOTE_MAX];
    diag_quote(q, sizeof(q), file);
    if (file_check(file, FILE_REGULAR, &ferr) != 0) {
        if (ferr.fe_why == FILE_EOPEN)
            config_doc_err(d, path, "cannot read CA file \"%s\": %s", q, strerror(ferr.fe_errno));
        else
            config_doc_err(d, path, "CA file \"%s\" is not a regular file", q);
        free(file);
        return;
    }
    free(*ca_file);
    *ca_file = file;
}

/* "journal_rate": {"burst", "interval_s"}, each applied over `s`. */
static void config_settings_rate(struct config_doc *d, size_t n, const char *path,
                                 struct config_settings *s)
{
    if (!config_doc_is_object(d, n, path))
        return;
    config_keys_check(d, n, path, CONFIG_KEYS_RATE);
    config_settings_apply(d, n, path, CONFIG_KEYS_IN_RATE, s, NULL, NULL, NULL);
}

void config_settings_apply(struct config_doc *d, size_t obj, const char *path, unsigned where,
                           struct config_settings *s, char **ca_file, struct config_headers *hs,
                           struct config_settings_layer *ly)
{
    const struct json_tape *t = &d->cd_tape;
    const struct config_key *k;

    for (size_t i = 0; (k = config_keys_setting(i)) != NULL && !config_doc_out_of_memory(d); i++) {
        if (!(k->ck_where & where))
            continue;
        size_t n = config_doc_get(d, obj, k->ck_name);
        if (n == JSON_TAPE_NONE)
            continue;
        char *kpath = config_doc_pointer_lit(path, k->ck_name);
        if (kpath == NULL) {
            config_doc_nomem(d);
            return;
        }
        double v = 0;
        switch (k->ck_type) {
        case CONFIG_KEYS_U64:
        case CONFIG_KEYS_UINT:
        case CONFIG_KEYS_SIZE:
        case CONFIG_KEYS_SECONDS:
        case CONFIG_KEYS_REAL:
            if (config_settings_number(d, n, kpath, k, &v)) {
                config_settings_store(s, k, t, n, v);
                if (ly != NULL &&
                    k->ck_offset == offsetof(struct config_settings, cs_backoff_min_ms))
                    ly->csl_backoff_min = true;
                if (ly != NULL &&
                    k->ck_offset == offsetof(struct config_settings, cs_backoff_max_ms))
                    ly->csl_backoff_max = true;
            }
            break;
        case CONFIG_KEYS_BOOL:
            if (json_tape_type(t, n) == JSON_TAPE_TRUE || json_tape_type(t, n) == JSON_TAPE_FALSE)
                config_settings_store(s, k, t, n, 0);
            else
                config_doc_err(d, kpath, "expected true or false, got %s",
                               config_doc_type_name(d, n));
            break;
        case CONFIG_KEYS_PATH:
            config_settings_ca_file(d, n, kpath, ca_file);
            break;
        case CONFIG_KEYS_HEADERS:
            config_headers_parse(d, n, kpath, hs);
            break;
        case CONFIG_KEYS_RATE_OBJ:
            config_settings_rate(d, n, kpath, s);
            break;
        }
        free(kpath);
    }
}

void config_settings_check_backoff(struct config_doc *d, const char *path,
                                   const struct config_settings *s,
                                   const struct config_settings_layer *ly)
{
    if (s->cs_backoff_max_ms >= s->cs_backoff_min_ms)
        return;
    if (!ly->csl_backoff_min && !ly->csl_backoff_max)
        return;
    char *kpath =
        config_doc_pointer_lit(path, ly->csl_backoff_max ? "backoff_max_ms" : "backoff_min_ms");
    if (kpath == NULL) {
        config_doc_nomem(d);
        return;
    }
    config_doc_err(d, kpath, "backoff_max_ms (%" PRIu64 ") is below backoff_min_ms (%" PRIu64 ")",
                   s->cs_backoff_max_ms, s->cs_backoff_min_ms);
    free(kpath);
}
