#include "ssemon/config/config_settings.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssemon/base/file.h"
#include "ssemon/config/config_doc.h"
#include "ssemon/config/config_headers.h"
#include "ssemon/config/config_keys.h"
#include "ssemon/config/config_secret.h"
#include "ssemon/core/backoff.h"
#include "ssemon/core/flight.h"
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
    s->cs_evidence_events = FLIGHT_DEFAULT_EVENTS;
    s->cs_evidence_bytes = FLIGHT_DEFAULT_BYTES;
}

static bool config_settings_str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* The owned string of the setting at `offset` of a config_settings. */
static char **config_settings_own(struct config_settings_strings *own, size_t offset)
{
    if (offset == offsetof(struct config_settings, cs_client_cert))
        return &own->css_client_cert;
    if (offset == offsetof(struct config_settings, cs_client_key))
        return &own->css_client_key;
    if (offset == offsetof(struct config_settings, cs_proxy))
        return &own->css_proxy;
    if (offset == offsetof(struct config_settings, cs_no_proxy))
        return &own->css_no_proxy;
    return &own->css_ca_file;
}

int config_settings_strings_copy(struct config_settings_strings *dst,
                                 const struct config_settings *src)
{
    const char *from[] = {src->cs_ca_file, src->cs_client_cert, src->cs_client_key, src->cs_proxy,
                          src->cs_no_proxy};
    char **to[] = {&dst->css_ca_file, &dst->css_client_cert, &dst->css_client_key, &dst->css_proxy,
                   &dst->css_no_proxy};
    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
        if (from[i] != NULL && (*to[i] = strdup(from[i])) == NULL)
            return -1;
    return 0;
}

void config_settings_strings_bind(struct config_settings *s,
                                  const struct config_settings_strings *own)
{
    s->cs_ca_file = own->css_ca_file;
    s->cs_client_cert = own->css_client_cert;
    s->cs_client_key = own->css_client_key;
    s->cs_proxy = own->css_proxy;
    s->cs_no_proxy = own->css_no_proxy;
}

void config_settings_strings_free(struct config_settings_strings *own)
{
    free(own->css_ca_file);
    free(own->css_client_cert);
    free(own->css_client_key);
    free(own->css_proxy);
    free(own->css_no_proxy);
    memset(own, 0, sizeof(*own));
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
           config_settings_str_eq(a->cs_ca_file, b->cs_ca_file) &&
           config_settings_str_eq(a->cs_client_cert, b->cs_client_cert) &&
           config_settings_str_eq(a->cs_client_key, b->cs_client_key) &&
           config_settings_str_eq(a->cs_proxy, b->cs_proxy) &&
           config_settings_str_eq(a->cs_no_proxy, b->cs_no_proxy) &&
           a->cs_max_line == b->cs_max_line && a->cs_max_event == b->cs_max_event &&
           a->cs_evidence_events == b->cs_evidence_events &&
           a->cs_evidence_bytes == b->cs_evidence_bytes;
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
    case CONFIG_KEYS_KEYFILE:
    case CONFIG_KEYS_PROXY:
    case CONFIG_KEYS_HOSTS:
    case CONFIG_KEYS_HEADERS:
    case CONFIG_KEYS_RATE_OBJ:
        break;
    }
}

/* ca_file, client_cert: a readable regular file, or null for none. */
static void config_settings_file(struct config_doc *d, size_t n, const char *path, bool ca,
                                 char **out)
{
    if (json_tape_type(&d->cd_tape, n) == JSON_TAPE_NULL) {
        free(*out);
        *out = NULL;
        return;
    }
    char *file = config_doc_path(d, n, path);
    if (file == NULL)
        return;
    struct file_error ferr;
    char q[DIAG_QUOTE_MAX];
    const char *what = ca ? "CA file" : "client certificate";
    diag_quote(q, sizeof(q), file);
    if (file_check(file, FILE_REGULAR, &ferr) != 0) {
        if (ferr.fe_why == FILE_EOPEN)
            config_doc_err(d, path, "cannot read %s \"%s\": %s", what, q, strerror(ferr.fe_errno));
        else
            config_doc_err(d, path, "%s \"%s\" is not a regular file", what, q);
        free(file);
        return;
    }
    free(*out);
    *out = file;
}

/* client_key: a file as client_cert, or {"credential": NAME} / {"file":
 * PATH} (config_secret_path), or null. */
static void config_settings_key(struct config_doc *d, size_t n, const char *path, char **out)
{
    if (json_tape_type(&d->cd_tape, n) != JSON_TAPE_OBJECT) {
        char *file = NULL;
        if (json_tape_type(&d->cd_tape, n) != JSON_TAPE_NULL &&
            json_tape_type(&d->cd_tape, n) != JSON_TAPE_STRING) {
            config_doc_err(d, path,
                           "expected a file name, {\"credential\": NAME} or {\"file\": PATH}, "
                           "got %s",
                           config_doc_type_name(d, n));
            return;
        }
        config_settings_file(d, n, path, false, &file);
        if (file != NULL || json_tape_type(&d->cd_tape, n) == JSON_TAPE_NULL) {
            free(*out);
            *out = file;
        }
        return;
    }
    char *file = config_secret_path(d, n, path);
    if (file != NULL) {
        free(*out);
        *out = file;
    }
}

/* Longest proxy URL and no_proxy list. */
#define CONFIG_SETTINGS_PROXY_MAX 2048u

/* A string of printable ASCII without spaces, at most `max` bytes; NULL
 * (reported) otherwise. */
static char *config_settings_word(struct config_doc *d, size_t n, const char *path, bool spaces)
{
    char *v = config_doc_string(d, n, path, false);
    if (v == NULL)
        return NULL;
    size_t len = strlen(v);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c >= 0x7f || (c == ' ' && !spaces)) {
            config_doc_err(d, path, "character %zu is not printable ASCII%s", i + 1,
                           spaces ? "" : " or is a space");
            free(v);
            return NULL;
        }
    }
    if (len == 0 || len > CONFIG_SETTINGS_PROXY_MAX) {
        config_doc_err(d, path, "must be 1 to %u bytes long, got %zu", CONFIG_SETTINGS_PROXY_MAX,
                       len);
        free(v);
        return NULL;
    }
    return v;
}

bool config_settings_proxy_ok(const char *v)
{
    static const char *const schemes[] = {"http://",    "https://",  "socks4://",
                                          "socks4a://", "socks5://", "socks5h://"};
    if (strcmp(v, SUB_PROXY_ENV) == 0)
        return true;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i]);
        if (strncasecmp(v, schemes[i], n) == 0 && v[n] != '\0')
            return true;
    }
    return false;
}

/* proxy: null (none), "env", or a proxy URL. */
static void config_settings_proxy(struct config_doc *d, size_t n, const char *path, char **out)
{
    if (json_tape_type(&d->cd_tape, n) == JSON_TAPE_NULL) {
        free(*out);
        *out = NULL;
        return;
    }
    char *v = config_settings_word(d, n, path, false);
    if (v == NULL)
        return;
    if (!config_settings_proxy_ok(v)) {
        config_doc_err(d, path,
                       "expected null, \"env\" or a proxy URL (http://, https://, socks4://, "
                       "socks4a://, socks5:// or socks5h:// and a host)");
        free(v);
        return;
    }
    free(*out);
    *out = v;
}

/* no_proxy: null or a list of hosts ("a.example,10.0.0.0/8,localhost"). */
static void config_settings_hosts(struct config_doc *d, size_t n, const char *path, char **out)
{
    if (json_tape_type(&d->cd_tape, n) == JSON_TAPE_NULL) {
        free(*out);
        *out = NULL;
        return;
    }
    char *v = config_settings_word(d, n, path, true);
    if (v == NULL)
        return;
    free(*out);
    *out = v;
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
                           struct config_settings *s, struct config_settings_strings *own,
                           struct config_headers *hs, struct config_settings_layer *ly)
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
            config_settings_file(d, n, kpath,
                                 k->ck_offset == offsetof(struct config_settings, cs_ca_file),
                                 config_settings_own(own, k->ck_offset));
            if (ly != NULL && k->ck_offset == offsetof(struct config_settings, cs_client_cert))
                ly->csl_client_cert = true;
            break;
        case CONFIG_KEYS_KEYFILE:
            config_settings_key(d, n, kpath, config_settings_own(own, k->ck_offset));
            if (ly != NULL)
                ly->csl_client_key = true;
            break;
        case CONFIG_KEYS_PROXY:
            config_settings_proxy(d, n, kpath, config_settings_own(own, k->ck_offset));
            break;
        case CONFIG_KEYS_HOSTS:
            config_settings_hosts(d, n, kpath, config_settings_own(own, k->ck_offset));
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
    if (own != NULL)
        config_settings_strings_bind(s, own);
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

void config_settings_check_tls(struct config_doc *d, const char *path,
                               const struct config_settings *s,
                               const struct config_settings_layer *ly)
{
    if (s->cs_client_key == NULL || s->cs_client_cert != NULL)
        return;
    if (!ly->csl_client_key && !ly->csl_client_cert)
        return;
    char *kpath = config_doc_pointer_lit(path, ly->csl_client_key ? "client_key" : "client_cert");
    if (kpath == NULL) {
        config_doc_nomem(d);
        return;
    }
    config_doc_err(d, kpath,
                   "client_key is set without client_cert (the certificate it belongs to)");
    free(kpath);
}
