/*
 * config: the daemon's configuration file (one JSON document, reference in
 * docs/configuration.md and ssemon.json(5)). Config-layer module: it reads
 * the file, walks its top level (status, contracts_dir, defaults,
 * subscriptions, metrics) and holds what it found; config_subscription reads each
 * subscription, config_settings the settings, config_secret the secret
 * header values, config_contracts the contracts (through contract_load).
 * This header is the way in for other layers: it includes the headers of
 * every type its functions hand out.
 *
 * "instance" names this monitor in templates (${instance}); "probes"
 * (config_probe) are synthetic transactions checked through the
 * subscriptions.
 *
 * config_load returns a fully validated, immutable configuration, or NULL
 * with every error found (not just the first), each located as
 * "FILE:LINE:COL: POINTER: MESSAGE" where POINTER is the RFC 6901 path of
 * the offending key or value (e.g. "/subscriptions/2/url"); see diag.h.
 *
 * Layering: config_settings_defaults sets every setting to its built-in
 * default (the one place defaults live); the file's "defaults" object is
 * applied over them; each subscription's own keys are applied over that.
 * Headers merge by name (case-insensitively), a subscription's header
 * replacing a default one of the same name.
 *
 * Relative paths in the file (contracts_dir, ca_file, {"file": ...} header
 * values, a contract given as a path) are relative to the directory of the
 * configuration file.
 *
 * Secrets: see config_secret.h and config_subscription.h. Error messages
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

#include "ssemon/config/config_listen.h"
#include "ssemon/config/config_probe.h"
#include "ssemon/config/config_settings.h"
#include "ssemon/config/config_subscription.h"
#include "ssemon/config/diag.h"

#define CONFIG_DEFAULT_PATH "/etc/ssemon/ssemon.json"
/* A larger configuration file is refused. */
#define CONFIG_MAX_BYTES ((size_t)16 << 20)
/* Errors recorded per load; the rest are counted in one last error. */
#define CONFIG_MAX_ERRORS 1000

struct config;

/* Loads and validates the file at `path` (a pipe or FIFO is read to its
 * end). Returns the configuration (the caller holds one reference:
 * config_unref) or NULL. Always initialises *errors, which the caller
 * frees with diag_list_free; it is empty when a configuration is
 * returned, and in file order otherwise. */
struct config *config_load(const char *path, struct diag_list *errors);

/* The same for a document in memory (`len` bytes, no NUL needed); `file`
 * names it in errors and anchors relative paths (its directory, or the
 * current directory when it has no '/'). */
struct config *config_load_buffer(const char *text, size_t len, const char *file,
                                  struct diag_list *errors);

/* Takes one more reference; returns `c`. */
struct config *config_ref(struct config *c);
/* Drops one reference; the last frees the configuration, its contracts and
 * its secrets. NULL is ignored. */
void config_unref(struct config *c);

const char *config_path(const struct config *c);
const struct listen_addr *config_status_listen(const struct config *c);
/* "status": {"basic_auth_users": {USER: HASH}}: the users, file order
 * (*n 0, none: no authentication). Owned by the configuration. */
struct status_auth_user;
const struct status_auth_user *config_status_auth_users(const struct config *c, size_t *n);
/* "status": {"auth_health": true}: /healthz and /readyz ask too. */
bool config_status_auth_health(const struct config *c);
/* "status": {"tls": ...}: whether it is set, and its files (resolved
 * paths; *client_ca_file NULL: client certificates not required). */
bool config_status_tls(const struct config *c, const char **cert_file, const char **key_file,
                       const char **client_ca_file);
/* The resolved contracts directory, or NULL when the file sets none. */
const char *config_contracts_dir(const struct config *c);
/* Evidence files (io/evidence): the directory ("evidence_dir", resolved
 * against the file's directory; NULL when the file sets null, or sets
 * nothing: *set tells which; the daemon's default is then
 * $STATE_DIRECTORY/evidence, the unit's StateDirectory=), the total size
 * cap over the files the daemon wrote ("evidence_max_bytes", default 64
 * MiB) and the files kept per subscription ("evidence_max_files", default
 * 20), oldest removed first. */
#define CONFIG_EVIDENCE_MAX_BYTES (UINT64_C(64) * 1024 * 1024)
#define CONFIG_EVIDENCE_MAX_FILES 20
const char *config_evidence_dir(const struct config *c, bool *set);
uint64_t config_evidence_max_bytes(const struct config *c);
uint64_t config_evidence_max_files(const struct config *c);
/* The built-in defaults with the file's "defaults" applied. */
const struct config_settings *config_defaults(const struct config *c);

/* Subscriptions in file order (disabled ones included). */
size_t config_subscription_count(const struct config *c);
const struct config_subscription *config_subscription_at(const struct config *c, size_t i);
/* NULL when no subscription has that name. */
const struct config_subscription *config_subscription_find(const struct config *c,
                                                           const char *name);

/* What ${instance} expands to: the file's "instance", or the host name
 * (sanitised to [A-Za-z0-9._-], cut at CONFIG_INSTANCE_MAX bytes). */
const char *config_instance(const struct config *c);

/* "metrics": {"histograms": ...}: how /metrics exports the three
 * histograms every subscription keeps (heartbeat gap, gap ratio, first
 * event latency). */
enum config_histograms {
    CONFIG_HISTOGRAMS_SUBSCRIPTION = 0, /* one per subscription (the default) */
    CONFIG_HISTOGRAMS_CONTRACT,         /* one per contract, summed over its subscriptions */
    CONFIG_HISTOGRAMS_NONE,             /* not exported */
};
enum config_histograms config_metrics_histograms(const struct config *c);
/* "metrics": {"zeros": bool} (default true): whether a subscription's
 * per-class families (ssemon_violations_total, ssemon_condition_active)
 * list every class, zeros included, or only the classes that happened or
 * are open (a large deployment's /metrics). */
bool config_metrics_zeros(const struct config *c);

/* Probes in file order. */
size_t config_probe_count(const struct config *c);
const struct config_probe *config_probe_at(const struct config *c, size_t i);
/* NULL when no probe has that name. */
const struct config_probe *config_probe_find(const struct config *c, const char *name);

#endif
