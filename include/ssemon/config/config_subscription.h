/*
 * config_subscription: one subscription of the configuration: its name,
 * URL, contract, variables, headers and settings, read from its object in
 * the file over the file's defaults, and what the modules that run it are
 * given. Config-layer module; config.h is the way in for other layers.
 *
 * Secrets: the raw URL (its user-info) and secret header values are only
 * reachable by filling a struct sub_options (what the HTTP client must
 * send); names, the redacted URL and header log lines are what displays
 * get.
 *
 * Ownership: a subscription belongs to its configuration; everything an
 * accessor returns or an options function points to lives as long as the
 * configuration.
 */
#ifndef SSEMON_CONFIG_CONFIG_SUBSCRIPTION_H
#define SSEMON_CONFIG_CONFIG_SUBSCRIPTION_H

#include <stdbool.h>
#include <stddef.h>

#include "ssemon/core/subscription_name.h"

#include "ssemon/config/config_settings.h"
#include "ssemon/core/contract.h"
#include "ssemon/core/validator.h"

struct config_contract;
struct config_contracts;
struct config_doc;
struct config_headers;
struct sub_options;

/* Subscription names: core/subscription_name's rule. */
#define CONFIG_NAME_MAX SUBSCRIPTION_NAME_MAX

struct config_subscription;

/* Reads the subscription object at node `n` (at `path`) over `defaults`
 * and `headers` (the file's "defaults"), its contract taken from
 * `contracts` (searched in `contracts_dir`, may be NULL). Every error is
 * reported; what was valid is kept (a name, for the duplicate check).
 * `instance` is the value of ${instance} (copied).
 * Returns it (config_subscription_free), or NULL when out of memory. */
struct config_subscription *
config_subscription_load(struct config_doc *d, size_t n, const char *path,
                         const struct config_settings *defaults,
                         const struct config_headers *headers, struct config_contracts *contracts,
                         const char *contracts_dir, const char *instance);
void config_subscription_free(struct config_subscription *s);

/* NULL only for a subscription that did not load. */
const char *config_subscription_name(const struct config_subscription *s);
/* The "description" (free text, one line, at most CONFIG_DESCRIPTION_MAX
 * bytes), NULL when none. Not part of config_subscription_equal: a reload
 * that changes only it keeps the stream. */
const char *config_subscription_description(const struct config_subscription *s);
/* The URL with any user-info replaced by "***@": the only form of the URL
 * to show or log. For a per-attempt subscription, the URL as written
 * (${uuid} left in), redacted: stable across attempts and reloads. */
const char *config_subscription_url_redacted(const struct config_subscription *s);
/* The contract as the file names it ("task-stream", or a path). */
const char *config_subscription_contract_name(const struct config_subscription *s);
/* The compiled contract, shared by the subscriptions that name the same
 * file (NULL only for a subscription that did not load). */
const struct contract *config_subscription_contract(const struct config_subscription *s);
/* The same with its merged text (config_contracts.h), for comparisons. */
const struct config_contract *
config_subscription_config_contract(const struct config_subscription *s);
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

/* Whether two subscriptions (usually from two loads) would behave the same:
 * name, URL, contract (as named, and its merged document, so an edit to a
 * file it extends counts), variables, headers and their values, every
 * setting but the journal rate, and "enabled". A daemon reloading its
 * configuration keeps the ones that are equal running. The CA file is
 * compared by path, not content. */
bool config_subscription_equal(const struct config_subscription *a,
                               const struct config_subscription *b);

/* ---- templates ----
 * A subscription's "url", plain string header values (its own and the
 * file's "defaults" ones) and "vars" values are templates that may use
 * ${instance} (the configuration's, the same for every attempt) and
 * ${uuid} (a fresh UUID v4 per connection attempt, one value shared by
 * url, headers and vars of that attempt). Values read from a credential or
 * a file are taken verbatim. At load time every template is expanded once
 * with a sample uuid: that is what config_subscription_sub_options,
 * config_subscription_vars and the validator options hold, and the URL
 * that is checked; a subscription without ${uuid} is exactly as written
 * (${instance} expanded). */

/* Whether `url` is an http(s) URL with a host, as libcurl parses it;
 * reports at `path` why not (the URL redacted). */
bool config_subscription_url_ok(struct config_doc *d, const char *url, const char *path);

/* Whether a name is known in a subscription's templates. */
bool config_subscription_template_known(const char *name);

/* Whether url, headers or vars use ${uuid} (then every attempt needs
 * config_subscription_attempt). */
bool config_subscription_per_attempt(const struct config_subscription *s);

/* One connection attempt's expansion. Owned by the caller
 * (config_attempt_free). */
struct config_attempt {
    char *ca_url;      /* raw URL for the HTTP client (may hold user-info) */
    char **ca_headers; /* "Name: value" lines, like what config_subscription_sub_options gives */
    size_t ca_n_headers;
    struct validator_var *ca_vars; /* names point into the config; values malloc'ed */
    size_t ca_n_vars;
};

/* Expands url, headers and vars with `uuid` (and the configuration's
 * instance). Returns 0, or -1 (errno ENOMEM/E2BIG) with *out empty. */
int config_subscription_attempt(const struct config_subscription *s, const char *uuid,
                                struct config_attempt *out);
/* Frees what an attempt holds (secrets wiped); *a is empty afterwards.
 * NULL is ignored. */
void config_attempt_free(struct config_attempt *a);

/* The URL as the file wrote it (templates unexpanded; may hold
 * user-info: never show it). */
const char *config_subscription_url_text(const struct config_subscription *s);
/* The value ${instance} has in this subscription. */
const char *config_subscription_instance(const struct config_subscription *s);

#endif
