/*
 * config_probe: one probe of the configuration ("probes", reference in
 * docs/configuration.md): a synthetic transaction run on a schedule. A
 * trigger (an HTTP request, templates expanded per run), what it
 * captures from the response, the events expected on the configuration's
 * subscriptions, and streams opened per run and judged by a contract.
 * Config-layer module; config.h is the way in for other layers.
 *
 * Template names known in a probe: its capture names, "run_id",
 * "instance" and "subscriptions.NAME.VAR" (NAME a configured
 * subscription, VAR one of its vars or a variable its contract declares).
 * The values are the runtime's to supply, through a template_lookup_fn.
 *
 * Secrets: the raw trigger URL and secret header values are only reached
 * through config_probe_request_build (what the HTTP client sends);
 * config_probe_trigger_display is what displays get.
 *
 * Ownership: a probe belongs to its configuration; everything an accessor
 * returns lives as long as the configuration. What request_build fills is
 * the caller's (config_probe_request_free).
 */
#ifndef SSEMON_CONFIG_CONFIG_PROBE_H
#define SSEMON_CONFIG_CONFIG_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/core/template.h"

struct config;
struct config_contracts;
struct config_doc;
struct config_settings;
struct contract;

/* Bytes of the "instance" top-level key. */
#define CONFIG_INSTANCE_MAX 64
/* Limits of a probe's numbers (seconds in the file). */
#define CONFIG_PROBE_EVERY_MIN_MS 1000u
#define CONFIG_PROBE_EVERY_MAX_MS 86400000u
#define CONFIG_PROBE_TIMEOUT_DEFAULT_MS 5000u
#define CONFIG_PROBE_TIMEOUT_MAX_MS 300000u
#define CONFIG_PROBE_WITHIN_MAX_MS 3600000u
/* An expanded JSON or text body longer than this fails (E2BIG). */
#define CONFIG_PROBE_BODY_MAX ((size_t)1 << 20)

struct config_probe;

/* What a probe is read against: the configuration loaded so far (its
 * subscriptions), the file's defaults, and where contracts come from. */
struct config_probe_env {
    const struct config *cpe_config;
    const struct config_settings *cpe_defaults; /* lives as long as the configuration */
    struct config_contracts *cpe_contracts;
    const char *cpe_contracts_dir; /* may be NULL */
    const char *cpe_instance;
};

/* ---- loading (config.c) ---- */

/* Whether `s` is a valid "instance": 1..CONFIG_INSTANCE_MAX bytes of
 * [A-Za-z0-9._-]. */
bool config_probe_instance_ok(const char *s);
/* `host` made a valid instance: other bytes become '-', cut at
 * CONFIG_INSTANCE_MAX, "localhost" when empty. NULL when out of memory. */
char *config_probe_instance_sanitize(const char *host);
/* How many streams the probes array at node `n` declares (an upper bound,
 * to reserve contracts for). */
size_t config_probe_stream_room(const struct config_doc *d, size_t n);
/* Reads the probe object at node `n` (at `path`). Every error is
 * reported; returns the probe (config_probe_free), or NULL when out of
 * memory. */
struct config_probe *config_probe_load(struct config_doc *d, size_t n, const char *path,
                                       const struct config_probe_env *env);
void config_probe_free(struct config_probe *p);
/* Reports probe `i` repeating the name of probe `first`. */
void config_probe_name_repeated(struct config_doc *d, size_t i, size_t first);

/* ---- the probe ---- */

/* NULL only for a probe that did not load. */
const char *config_probe_name(const struct config_probe *p);
/* The "description" (as a subscription's), NULL when none. */
const char *config_probe_description(const struct config_probe *p);
uint64_t config_probe_every_ms(const struct config_probe *p);
/* The trigger's timeout. */
uint64_t config_probe_timeout_ms(const struct config_probe *p);
/* Whether a status is expected ("expect_status", or any 2xx by default). */
bool config_probe_status_ok(const struct config_probe *p, long status);
/* "expect_status" as written (n 0: any 2xx). */
const int *config_probe_expect_status(const struct config_probe *p, size_t *n);

/* "capture": name -> JSON pointer into the response JSON, sorted by name. */
size_t config_probe_capture_count(const struct config_probe *p);
const char *config_probe_capture_name(const struct config_probe *p, size_t i);
const char *config_probe_capture_pointer(const struct config_probe *p, size_t i);

/* The trigger request of one run. Owned by the caller
 * (config_probe_request_free). */
struct config_probe_request {
    char *cpr_method;
    char *cpr_url;      /* raw (may hold user-info) */
    char **cpr_headers; /* "Name: value"; Content-Type: application/json added for a JSON
                           body unless set */
    size_t cpr_n_headers;
    char *cpr_body; /* NULL: no body */
    size_t cpr_body_len;
};

/* Expands the trigger with `lookup` (JSON body: expanded string values are
 * JSON-escaped). Returns 0, or -1 with errno (ENOENT: *missing names the
 * unknown reference; ENOMEM; E2BIG) and *out empty. */
int config_probe_request_build(const struct config_probe *p, template_lookup_fn lookup, void *ctx,
                               struct config_probe_request *out, const char **missing);
/* Wipes and frees; *r is empty afterwards. NULL is ignored. */
void config_probe_request_free(struct config_probe_request *r);
/* The trigger method ("POST" by default). */
const char *config_probe_trigger_method(const struct config_probe *p);
/* The trigger URL redacted, template text as written: for displays and
 * messages. */
const char *config_probe_trigger_display(const struct config_probe *p);

/* ---- expectations ---- */

size_t config_probe_expect_count(const struct config_probe *p);
struct config_probe_expect_view {
    const char *cev_subscription;
    const char *cev_event; /* as written, "kind:variant" */
    const char *cev_kind;
    const char *cev_variant; /* NULL: any */
    size_t cev_n_match;
    uint64_t cev_within_ms;
};
void config_probe_expect_at(const struct config_probe *p, size_t i,
                            struct config_probe_expect_view *out);
/* Match j of expectation i: the pointer, and the expected value: a
 * template for a string, or the JSON text of a number/bool/null literal
 * (then *literal_json = true and the template is a literal with no
 * references). */
const char *config_probe_match_pointer(const struct config_probe *p, size_t i, size_t j);
const struct template *config_probe_match_value(const struct config_probe *p, size_t i, size_t j,
                                                bool *literal_json);

/* ---- streams ---- */

size_t config_probe_stream_count(const struct config_probe *p);
const struct template *config_probe_stream_url(const struct config_probe *p, size_t i);
/* The stream URL redacted, template text as written. */
const char *config_probe_stream_display(const struct config_probe *p, size_t i);
const struct contract *config_probe_stream_contract(const struct config_probe *p, size_t i);
const char *config_probe_stream_contract_name(const struct config_probe *p, size_t i);
/* Its vars, sorted by name. */
size_t config_probe_stream_var_count(const struct config_probe *p, size_t i);
const char *config_probe_stream_var_name(const struct config_probe *p, size_t i, size_t k);
const struct template *config_probe_stream_var_value(const struct config_probe *p, size_t i,
                                                     size_t k);
uint64_t config_probe_stream_within_ms(const struct config_probe *p, size_t i);

/* Settings a probe's streams and trigger use (connect timeout, limits,
 * ca_file, insecure...): the file's defaults. */
const struct config_settings *config_probe_settings(const struct config_probe *p);
/* The trigger's request: those settings with the trigger's own ca_file,
 * client_cert, client_key, insecure, proxy and no_proxy over them. */
const struct config_settings *config_probe_trigger_settings(const struct config_probe *p);

/* Same definition (canonical text of its object, its header values, the
 * instance, the settings, and the same contracts for its streams and
 * expected subscriptions): a reload keeps its schedule. */
bool config_probe_equal(const struct config_probe *a, const struct config_probe *b);

#endif
