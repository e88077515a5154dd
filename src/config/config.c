#include "ssemon/config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssemon/base/file.h"
#include "ssemon/config/config_contracts.h"
#include "ssemon/config/config_doc.h"
#include "ssemon/config/config_headers.h"
#include "ssemon/config/config_keys.h"
#include "ssemon/config/config_probe.h"
#include "ssemon/config/config_secret.h"
#include "ssemon/config/config_template.h"
#include "ssemon/io/status_auth.h"

struct config {
    unsigned cfg_refs;
    char *cfg_path;
    char *cfg_contracts_dir;
    struct listen_addr cfg_listen;
    struct config_settings cfg_defaults;
    struct config_settings_strings cfg_strings; /* what cfg_defaults' strings point to */
    struct config_subscription **cfg_subs;
    size_t cfg_n_subs;
    size_t *cfg_by_name; /* subscription indices sorted by name */
    struct config_contracts cfg_contracts;
    char *cfg_instance;
    struct config_probe **cfg_probes;
    size_t cfg_n_probes;
    enum config_histograms cfg_histograms;
    bool cfg_metrics_sparse; /* "metrics": {"zeros": false} */
    char *cfg_evidence_dir;  /* NULL: absent or null (cfg_evidence_set tells) */
    bool cfg_evidence_set;   /* "evidence_dir" is in the file */
    uint64_t cfg_evidence_max_bytes;
    uint64_t cfg_evidence_max_files;
    /* "status": {"basic_auth_users": ..., "auth_health": ...}; names and
     * hashes owned (hashes wiped when freed). */
    struct status_auth_user *cfg_auth_users;
    size_t cfg_n_auth_users;
    bool cfg_auth_health;
    /* "status": {"tls": ...}: resolved paths (NULL: no TLS, no client CA). */
    char *cfg_tls_cert;
    char *cfg_tls_key;
    char *cfg_tls_client_ca;
};

/* A load in progress: the document, what it builds, and the file's
 * "defaults" every subscription starts from. */
struct cfg_loader {
    struct config_doc ld_doc;
    struct config *ld_cfg;
    struct config_settings ld_defaults;
    struct config_headers ld_def_headers;
};

/* ---- top-level sections ---- */

/* "basic_auth_users": {USER: BCRYPT_HASH}. A hash is never quoted in an
 * error. */
static void cfg_status_users(struct cfg_loader *ld, size_t n)
{
    struct config_doc *d = &ld->ld_doc;
    const struct json_tape *t = &d->cd_tape;
    static const char path[] = "/status/basic_auth_users";
    struct json_tape_iter it;
    size_t key, val;

    if (!config_doc_is_object(d, n, path))
        return;
    config_keys_check(d, n, path, CONFIG_KEYS_ANY);
    size_t count = json_tape_count(t, n);
    if (count == 0) {
        config_doc_err(d, path, "needs at least one user (leave it out for no authentication)");
        return;
    }
    struct config *c = ld->ld_cfg;
    c->cfg_auth_users = calloc(count, sizeof(*c->cfg_auth_users));
    if (c->cfg_auth_users == NULL) {
        config_doc_nomem(d);
        return;
    }
    json_tape_iter_init(t, n, &it);
    while (!config_doc_out_of_memory(d) && json_tape_object_next(t, &it, &key, &val)) {
        size_t len;
        const char *k = json_tape_string(t, key, &len);
        char *upath = config_doc_pointer(path, k, len);
        if (upath == NULL) {
            config_doc_nomem(d);
            break;
        }
        char *hash = NULL;
        if (len == 0 || memchr(k, ':', len) != NULL || memchr(k, '\0', len) != NULL) {
            config_doc_err_key(d, upath, "a user name must be non-empty, without ':' or NUL");
        } else if (json_tape_type(t, val) != JSON_TAPE_STRING) {
            config_doc_err(d, upath, "expected a bcrypt hash (a string), got %s",
                           config_doc_type_name(d, val));
        } else {
            size_t hl;
            const char *hv = json_tape_string(t, val, &hl);
            hash = strndup(hv, hl);
            if (hash == NULL) {
                config_doc_nomem(d);
            } else if (strlen(hash) != hl || !status_auth_hash_valid(hash)) {
                config_doc_err(d, upath,
                               "not a bcrypt hash ($2b$, $2y$ or $2a$, a cost 04 to 31, 60 "
                               "characters in all: make one with htpasswd -nBC 10 USER or "
                               "mkpasswd -m bcrypt)");
                config_secret_free(hash);
                hash = NULL;
            }
        }
        char *name = hash != NULL ? strndup(k, len) : NULL;
        if (hash != NULL && name == NULL) {
            config_doc_nomem(d);
            config_secret_free(hash);
        } else if (hash != NULL) {
            c->cfg_auth_users[c->cfg_n_auth_users].sau_name = name;
            c->cfg_auth_users[c->cfg_n_auth_users].sau_hash = hash;
            c->cfg_n_auth_users++;
        }
        free(upath);
    }
}

/* A file of "tls" that must be readable; NULL after reporting why. */
static char *cfg_status_tls_file(struct config_doc *d, size_t n, const char *path)
{
    char *file = json_tape_type(&d->cd_tape, n) == JSON_TAPE_OBJECT ? config_secret_path(d, n, path)
                                                                    : config_doc_path(d, n, path);
    if (file == NULL)
        return NULL;
    struct file_error fe;
    if (file_check(file, FILE_REGULAR, &fe) != 0) {
        char why[200], q[DIAG_QUOTE_MAX];
        file_error_text(&fe, why, sizeof(why));
        diag_quote(q, sizeof(q), file);
        config_doc_err(d, path, "\"%s\": %s", q, why);
        free(file);
        return NULL;
    }
    return file;
}

/* "tls": {"cert_file", "key_file" (a path, or {"credential"} / {"file"}),
 * "client_ca_file"}. */
static void cfg_status_tls(struct cfg_loader *ld, size_t n)
{
    struct config_doc *d = &ld->ld_doc;
    struct config *c = ld->ld_cfg;
    if (!config_doc_is_object(d, n, "/status/tls"))
        return;
    config_keys_check(d, n, "/status/tls", CONFIG_KEYS_STATUS_TLS);
    size_t cert = config_doc_get(d, n, "cert_file");
    size_t key = config_doc_get(d, n, "key_file");
    size_t ca = config_doc_get(d, n, "client_ca_file");
    if (cert == JSON_TAPE_NONE)
        config_doc_err(d, "/status/tls", "missing \"cert_file\" (the certificate chain, PEM)");
    else
        c->cfg_tls_cert = cfg_status_tls_file(d, cert, "/status/tls/cert_file");
    if (key == JSON_TAPE_NONE)
        config_doc_err(d, "/status/tls", "missing \"key_file\" (the certificate's key, PEM)");
    else
        c->cfg_tls_key = cfg_status_tls_file(d, key, "/status/tls/key_file");
    if (ca != JSON_TAPE_NONE)
        c->cfg_tls_client_ca = cfg_status_tls_file(d, ca, "/status/tls/client_ca_file");
}

static void cfg_status(struct cfg_loader *ld, size_t n)
{
    struct config_doc *d = &ld->ld_doc;

    if (!config_doc_is_object(d, n, "/status"))
        return;
    config_keys_check(d, n, "/status", CONFIG_KEYS_STATUS);
    size_t l = config_doc_get(d, n, "listen");
    if (l != JSON_TAPE_NONE)
        config_listen_read(d, l, "/status/listen", &ld->ld_cfg->cfg_listen);
    size_t tls = config_doc_get(d, n, "tls");
    if (tls != JSON_TAPE_NONE)
        cfg_status_tls(ld, tls);
    size_t u = config_doc_get(d, n, "basic_auth_users");
    if (u != JSON_TAPE_NONE)
        cfg_status_users(ld, u);
    size_t h = config_doc_get(d, n, "auth_health");
    if (h != JSON_TAPE_NONE) {
        enum json_tape_type ht = json_tape_type(&d->cd_tape, h);
        if (ht == JSON_TAPE_TRUE || ht == JSON_TAPE_FALSE)
            ld->ld_cfg->cfg_auth_health = ht == JSON_TAPE_TRUE;
        else
            config_doc_err(d, "/status/auth_health", "expected true or false, got %s",
                           config_doc_type_name(d, h));
    }
}

static void cfg_contracts_dir(struct cfg_loader *ld, size_t n)
{
    struct config_doc *d = &ld->ld_doc;
    char *dir = config_doc_path(d, n, "/contracts_dir");
    if (dir == NULL)
        return;
    struct stat st;
    char q[DIAG_QUOTE_MAX];
    diag_quote(q, sizeof(q), dir);
    if (stat(dir, &st) != 0) {
        config_doc_err(d, "/contracts_dir", "cannot use \"%s\": %s", q, strerror(errno));
        free(dir);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        config_doc_err(d, "/contracts_dir", "\"%s\" is not a directory", q);
        free(dir);
        return;
    }
    ld->ld_cfg->cfg_contracts_dir = dir;
}

static void cfg_defaults(struct cfg_loader *ld, size_t n)
{
    struct config_doc *d = &ld->ld_doc;
    struct config_settings_layer ly = {0};
    struct config *cfg = ld->ld_cfg;

    if (!config_doc_is_object(d, n, "/defaults"))
        return;
    config_keys_check(d, n, "/defaults", CONFIG_KEYS_DEFAULTS);
    config_settings_apply(d, n, "/defaults", CONFIG_KEYS_IN_DEFAULTS, &ld->ld_defaults,
                          &cfg->cfg_strings, &ld->ld_def_headers, &ly);
    config_settings_check_backoff(d, "/defaults", &ld->ld_defaults, &ly);
    config_settings_check_tls(d, "/defaults", &ld->ld_defaults, &ly);
}

struct cfg_name_ref {
    const char *nr_name;
    size_t nr_index;
};

static int cfg_name_ref_cmp(const void *pa, const void *pb)
{
    const struct cfg_name_ref *a = pa, *b = pb;
    int r = strcmp(a->nr_name, b->nr_name);
    if (r != 0)
        return r;
    return a->nr_index < b->nr_index ? -1 : a->nr_index > b->nr_index;
}

/* Reports subscription `i` repeating the name of subscription `first`, at
 * its own name, pointing at the first. */
static void cfg_name_repeated(struct cfg_loader *ld, const char *name, size_t i, size_t first)
{
    struct config_doc *d = &ld->ld_doc;
    char *p = config_doc_pointer_index("/subscriptions", i);
    char *fp = config_doc_pointer_index("/subscriptions", first);
    char *np = p != NULL ? config_doc_pointer_lit(p, "name") : NULL;
    char *nfp = fp != NULL ? config_doc_pointer_lit(fp, "name") : NULL;
    struct json_position pos;
    char q[DIAG_QUOTE_MAX];

    if (np == NULL || nfp == NULL) {
        config_doc_nomem(d);
    } else if (json_position_in_tape(&d->cd_tape, nfp, 0, &pos) == JSON_POSITION_FOUND) {
        diag_quote(q, sizeof(q), name);
        config_doc_err(d, np, "duplicate subscription name \"%s\" (first used at line %zu)", q,
                       pos.jp_line);
    }
    free(p);
    free(fp);
    free(np);
    free(nfp);
}

/* Sorts the names (for config_subscription_find) and reports each repeat
 * at its own place, pointing at the first. */
static void cfg_names(struct cfg_loader *ld)
{
    struct config *cfg = ld->ld_cfg;
    struct cfg_name_ref *refs = calloc(cfg->cfg_n_subs ? cfg->cfg_n_subs : 1, sizeof(*refs));
    size_t n = 0;

    cfg->cfg_by_name = calloc(cfg->cfg_n_subs ? cfg->cfg_n_subs : 1, sizeof(size_t));
    if (refs == NULL || cfg->cfg_by_name == NULL) {
        free(refs);
        config_doc_nomem(&ld->ld_doc);
        return;
    }
    for (size_t i = 0; i < cfg->cfg_n_subs; i++) {
        const char *name = config_subscription_name(cfg->cfg_subs[i]);
        if (name != NULL) {
            refs[n].nr_name = name;
            refs[n].nr_index = i;
            n++;
        }
    }
    qsort(refs, n, sizeof(*refs), cfg_name_ref_cmp);
    size_t first = 0;
    for (size_t i = 0; i < n; i++) {
        cfg->cfg_by_name[i] = refs[i].nr_index;
        if (i > 0 && strcmp(refs[i].nr_name, refs[i - 1].nr_name) == 0)
            cfg_name_repeated(ld, refs[i].nr_name, refs[i].nr_index, refs[first].nr_index);
        else
            first = i;
    }
    free(refs);
}

static void cfg_subscriptions(struct cfg_loader *ld, size_t n)
{
    struct config_doc *d = &ld->ld_doc;
    const struct json_tape *t = &d->cd_tape;
    struct config *cfg = ld->ld_cfg;
    struct json_tape_iter it;
    size_t item, i = 0;

    if (json_tape_type(t, n) != JSON_TAPE_ARRAY) {
        config_doc_err(d, "/subscriptions", "expected an array of subscriptions, got %s",
                       config_doc_type_name(d, n));
        return;
    }
    size_t count = json_tape_count(t, n);
    if (count == 0)
        return;
    cfg->cfg_subs = calloc(count, sizeof(*cfg->cfg_subs));
    if (cfg->cfg_subs == NULL) {
        config_doc_nomem(d);
        return;
    }
    json_tape_iter_init(t, n, &it);
    while (!config_doc_out_of_memory(d) && json_tape_array_next(t, &it, &item)) {
        char *p = config_doc_pointer_index("/subscriptions", i);
        if (p == NULL) {
            config_doc_nomem(d);
            return;
        }
        struct config_subscription *s = config_subscription_load(
            d, item, p, &ld->ld_defaults, &ld->ld_def_headers, &cfg->cfg_contracts,
            cfg->cfg_contracts_dir, cfg->cfg_instance);
        free(p);
        if (s == NULL)
            break;
        cfg->cfg_subs[cfg->cfg_n_subs++] = s;
        i++;
    }
    cfg_names(ld);
}

static bool cfg_sub_template_known(void *ctx, const char *name)
{
    (void)ctx;
    return config_subscription_template_known(name);
}

/* "instance": what ${instance} expands to; the host name by default. */
static void cfg_instance(struct cfg_loader *ld, size_t n)
{
    struct config_doc *d = &ld->ld_doc;
    struct config *cfg = ld->ld_cfg;

    if (n == JSON_TAPE_NONE) {
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) != 0)
            host[0] = '\0';
        host[sizeof(host) - 1] = '\0';
        cfg->cfg_instance = config_probe_instance_sanitize(host);
        return;
    }
    char *s = config_doc_string(d, n, "/instance", false);
    if (s == NULL) {
        cfg->cfg_instance = strdup("");
        return;
    }
    if (!config_probe_instance_ok(s)) {
        char q[DIAG_QUOTE_MAX];
        diag_quote(q, sizeof(q), s);
        config_doc_err(d, "/instance",
                       "invalid instance \"%s\": 1 to %d of letters, digits, '.', '_' and '-'", q,
                       CONFIG_INSTANCE_MAX);
    }
    cfg->cfg_instance = s;
}

/* The templates of the file's "defaults" header values, checked once
 * here (each subscription uses them without reporting again). */
static void cfg_default_header_templates(struct cfg_loader *ld)
{
    struct config_doc *d = &ld->ld_doc;
    const struct json_tape *t = &d->cd_tape;
    size_t def = config_doc_get(d, json_tape_root(t), "defaults");
    struct json_tape_iter it;
    size_t key, val;

    if (def == JSON_TAPE_NONE || json_tape_type(t, def) != JSON_TAPE_OBJECT)
        return;
    size_t hs = config_doc_get(d, def, "headers");
    if (hs == JSON_TAPE_NONE || json_tape_type(t, hs) != JSON_TAPE_OBJECT)
        return;
    json_tape_iter_init(t, hs, &it);
    while (!config_doc_out_of_memory(d) && json_tape_object_next(t, &it, &key, &val)) {
        if (json_tape_type(t, val) != JSON_TAPE_STRING)
            continue;
        size_t len;
        const char *k = json_tape_string(t, key, &len);
        char *p = config_doc_pointer("/defaults/headers", k, len);
        if (p == NULL) {
            config_doc_nomem(d);
            return;
        }
        template_free(config_template_read(d, val, p, cfg_sub_template_known, NULL,
                                           "in a subscription only ${uuid} and ${instance} "
                                           "are known"));
        free(p);
    }
}

/* "metrics": {"histograms": "subscription" | "contract" | "none"}, how
 * /metrics exports the per-subscription histograms. */
static const char *const cfg_histograms_names[] = {"subscription", "contract", "none"};

static void cfg_metrics(struct cfg_loader *ld, size_t n)
{
    struct config_doc *d = &ld->ld_doc;

    if (!config_doc_is_object(d, n, "/metrics"))
        return;
    config_keys_check(d, n, "/metrics", CONFIG_KEYS_METRICS);
    size_t z = config_doc_get(d, n, "zeros");
    if (z != JSON_TAPE_NONE) {
        enum json_tape_type zt = json_tape_type(&d->cd_tape, z);
        if (zt == JSON_TAPE_TRUE || zt == JSON_TAPE_FALSE)
            ld->ld_cfg->cfg_metrics_sparse = zt == JSON_TAPE_FALSE;
        else
            config_doc_err(d, "/metrics/zeros", "expected true or false, got %s",
                           config_doc_type_name(d, z));
    }
    size_t h = config_doc_get(d, n, "histograms");
    if (h == JSON_TAPE_NONE)
        return;
    char *s = config_doc_string(d, h, "/metrics/histograms", false);
    if (s == NULL)
        return;
    for (size_t i = 0; i < sizeof(cfg_histograms_names) / sizeof(cfg_histograms_names[0]); i++) {
        if (strcmp(s, cfg_histograms_names[i]) == 0) {
            ld->ld_cfg->cfg_histograms = (enum config_histograms)i;
            free(s);
            return;
        }
    }
    char q[DIAG_QUOTE_MAX];
    diag_quote(q, sizeof(q), s);
    config_doc_err(d, "/metrics/histograms",
                   "unknown histograms setting \"%s\": one of \"subscription\", \"contract\" "
                   "or \"none\"",
                   q);
    free(s);
}

/* ---- probes ---- */

static void cfg_probes(struct cfg_loader *ld, size_t n)
{
    struct config_doc *d = &ld->ld_doc;
    const struct json_tape *t = &d->cd_tape;
    struct config *cfg = ld->ld_cfg;
    struct json_tape_iter it;
    size_t item, i = 0;

    if (json_tape_type(t, n) != JSON_TAPE_ARRAY) {
        config_doc_err(d, "/probes", "expected an array of probes, got %s",
                       config_doc_type_name(d, n));
        return;
    }
    size_t count = json_tape_count(t, n);
    if (count == 0)
        return;
    cfg->cfg_probes = calloc(count, sizeof(*cfg->cfg_probes));
    if (cfg->cfg_probes == NULL) {
        config_doc_nomem(d);
        return;
    }
    struct config_probe_env env = {
        .cpe_config = cfg,
        .cpe_defaults = &cfg->cfg_defaults,
        .cpe_contracts = &cfg->cfg_contracts,
        .cpe_contracts_dir = cfg->cfg_contracts_dir,
        .cpe_instance = cfg->cfg_instance,
    };
    json_tape_iter_init(t, n, &it);
    while (!config_doc_out_of_memory(d) && json_tape_array_next(t, &it, &item)) {
        char *p = config_doc_pointer_index("/probes", i);
        if (p == NULL) {
            config_doc_nomem(d);
            return;
        }
        struct config_probe *pr = config_probe_load(d, item, p, &env);
        free(p);
        if (pr == NULL)
            break;
        /* A repeated name: at its own place, pointing at the first. */
        for (size_t j = 0; j < cfg->cfg_n_probes; j++) {
            const char *a = config_probe_name(pr), *b = config_probe_name(cfg->cfg_probes[j]);
            if (a != NULL && b != NULL && strcmp(a, b) == 0) {
                config_probe_name_repeated(d, i, j);
                break;
            }
        }
        cfg->cfg_probes[cfg->cfg_n_probes++] = pr;
        i++;
    }
}

/* An integer top-level key within [lo, hi]; `*out` unchanged when absent
 * or refused. */
static void cfg_top_uint(struct cfg_loader *ld, size_t root, const char *key, uint64_t lo,
                         uint64_t hi, uint64_t *out)
{
    struct config_doc *d = &ld->ld_doc;
    const struct json_tape *t = &d->cd_tape;
    size_t n = config_doc_get(d, root, key);
    if (n == JSON_TAPE_NONE)
        return;
    char path[64];
    snprintf(path, sizeof(path), "/%s", key);
    if (!json_tape_is_integer(t, n)) {
        config_doc_err(d, path, "expected an integer, got %s", config_doc_type_name(d, n));
        return;
    }
    int64_t v = json_tape_int(t, n);
    if (v < 0 || (uint64_t)v < lo || (uint64_t)v > hi) {
        config_doc_err(d, path, "must be between %llu and %llu, got %lld", (unsigned long long)lo,
                       (unsigned long long)hi, (long long)v);
        return;
    }
    *out = (uint64_t)v;
}

/* "evidence_dir" (a path, or null: off), "evidence_max_bytes",
 * "evidence_max_files". The directory is created by the daemon. */
static void cfg_evidence(struct cfg_loader *ld, size_t root)
{
    struct config_doc *d = &ld->ld_doc;
    struct config *cfg = ld->ld_cfg;
    cfg->cfg_evidence_max_bytes = CONFIG_EVIDENCE_MAX_BYTES;
    cfg->cfg_evidence_max_files = CONFIG_EVIDENCE_MAX_FILES;
    size_t n = config_doc_get(d, root, "evidence_dir");
    cfg->cfg_evidence_set = n != JSON_TAPE_NONE;
    if (n != JSON_TAPE_NONE && json_tape_type(&d->cd_tape, n) != JSON_TAPE_NULL)
        cfg->cfg_evidence_dir = config_doc_path(d, n, "/evidence_dir");
    cfg_top_uint(ld, root, "evidence_max_bytes", 4096, UINT64_C(1) << 40,
                 &cfg->cfg_evidence_max_bytes);
    cfg_top_uint(ld, root, "evidence_max_files", 1, 100000, &cfg->cfg_evidence_max_files);
}

/* Walks the document; every error goes to the list. */
static void cfg_walk(struct cfg_loader *ld)
{
    struct config_doc *d = &ld->ld_doc;
    const struct json_tape *t = &d->cd_tape;
    size_t root = json_tape_root(t);

    if (json_tape_type(t, root) != JSON_TAPE_OBJECT) {
        config_doc_err(d, "", "the configuration must be a JSON object, got %s",
                       config_doc_type_name(d, root));
        return;
    }
    config_keys_check(d, root, "", CONFIG_KEYS_TOP);
    size_t n = config_doc_get(d, root, "status");
    if (n != JSON_TAPE_NONE)
        cfg_status(ld, n);
    n = config_doc_get(d, root, "contracts_dir");
    if (n != JSON_TAPE_NONE)
        cfg_contracts_dir(ld, n);
    cfg_evidence(ld, root);
    n = config_doc_get(d, root, "defaults");
    if (n != JSON_TAPE_NONE)
        cfg_defaults(ld, n);
    ld->ld_cfg->cfg_defaults = ld->ld_defaults;
    cfg_default_header_templates(ld);
    cfg_instance(ld, config_doc_get(d, root, "instance"));
    n = config_doc_get(d, root, "metrics");
    if (n != JSON_TAPE_NONE)
        cfg_metrics(ld, n);
    size_t subs = config_doc_get(d, root, "subscriptions");
    size_t probes = config_doc_get(d, root, "probes");
    /* Room for a contract per subscription and per probe stream. */
    size_t room = subs != JSON_TAPE_NONE ? json_tape_count(t, subs) : 0;
    room += probes != JSON_TAPE_NONE ? config_probe_stream_room(d, probes) : 0;
    if (config_contracts_reserve(&ld->ld_cfg->cfg_contracts, room) != 0 ||
        ld->ld_cfg->cfg_instance == NULL) {
        config_doc_nomem(d);
        return;
    }
    if (subs == JSON_TAPE_NONE)
        config_doc_err(d, "/subscriptions",
                       "missing (a list of subscriptions, which may be empty)");
    else
        cfg_subscriptions(ld, subs);
    if (probes != JSON_TAPE_NONE && !config_doc_out_of_memory(d))
        cfg_probes(ld, probes);
}

/* ---- load ---- */

static void cfg_free(struct config *c)
{
    for (size_t i = 0; i < c->cfg_n_auth_users; i++) {
        free((char *)c->cfg_auth_users[i].sau_name);
        config_secret_free((char *)c->cfg_auth_users[i].sau_hash);
    }
    free(c->cfg_auth_users);
    free(c->cfg_tls_cert);
    free(c->cfg_tls_key);
    free(c->cfg_tls_client_ca);
    for (size_t i = 0; i < c->cfg_n_probes; i++)
        config_probe_free(c->cfg_probes[i]);
    free(c->cfg_probes);
    free(c->cfg_instance);
    for (size_t i = 0; i < c->cfg_n_subs; i++)
        config_subscription_free(c->cfg_subs[i]);
    free(c->cfg_subs);
    free(c->cfg_by_name);
    config_contracts_free(&c->cfg_contracts);
    free(c->cfg_path);
    free(c->cfg_contracts_dir);
    free(c->cfg_evidence_dir);
    config_settings_strings_free(&c->cfg_strings);
    free(c);
}

struct config *config_load_buffer(const char *text, size_t len, const char *file,
                                  struct diag_list *errors)
{
    struct cfg_loader ld;
    struct config_doc *d = &ld.ld_doc;
    struct config *cfg = NULL;

    diag_list_init(errors, CONFIG_MAX_ERRORS);
    memset(&ld, 0, sizeof(ld));
    if (file == NULL)
        file = "<buffer>";
    config_settings_defaults(&ld.ld_defaults);
    int rc = config_doc_init(d, file, errors);
    cfg = ld.ld_cfg = calloc(1, sizeof(*ld.ld_cfg));
    if (rc != 0 || cfg == NULL) {
        config_doc_nomem(d);
        goto done;
    }
    cfg->cfg_refs = 1;
    cfg->cfg_path = strdup(file);
    if (cfg->cfg_path == NULL || !listen_addr_parse(CONFIG_DEFAULT_LISTEN, &cfg->cfg_listen)) {
        config_doc_nomem(d);
        goto done;
    }
    if (len > CONFIG_MAX_BYTES) {
        config_doc_err_file(d, "larger than %zu bytes", CONFIG_MAX_BYTES);
        goto done;
    }
    if (config_doc_parse(d, text, len) == 0)
        cfg_walk(&ld);
done:
    diag_list_finish(errors, file);
    if (cfg != NULL && (errors->dl_n > 0 || errors->dl_oom)) {
        cfg_free(cfg);
        cfg = NULL;
    }
    if (cfg != NULL)
        config_contracts_forget_names(&cfg->cfg_contracts);
    config_headers_free(&ld.ld_def_headers);
    config_doc_free(d);
    return cfg;
}

struct config *config_load(const char *path, struct diag_list *errors)
{
    struct file_error ferr;
    size_t len;
    char *text = file_read(path, CONFIG_MAX_BYTES, 0, &len, &ferr);

    if (text == NULL) {
        diag_list_init(errors, CONFIG_MAX_ERRORS);
        if (ferr.fe_why == FILE_ENOMEM) {
            errors->dl_oom = true;
        } else {
            char why[256];
            file_error_text(&ferr, why, sizeof(why));
            diag_add(errors, path, 0, 0, "", why);
        }
        return NULL;
    }
    struct config *c = config_load_buffer(text, len, path, errors);
    free(text);
    return c;
}

struct config *config_ref(struct config *c)
{
    c->cfg_refs++;
    return c;
}

void config_unref(struct config *c)
{
    if (c == NULL)
        return;
    if (--c->cfg_refs == 0)
        cfg_free(c);
}

/* ---- accessors ---- */

const char *config_path(const struct config *c)
{
    return c->cfg_path;
}

const struct listen_addr *config_status_listen(const struct config *c)
{
    return &c->cfg_listen;
}

const struct status_auth_user *config_status_auth_users(const struct config *c, size_t *n)
{
    *n = c->cfg_n_auth_users;
    return c->cfg_auth_users;
}

bool config_status_auth_health(const struct config *c)
{
    return c->cfg_auth_health;
}

bool config_status_tls(const struct config *c, const char **cert_file, const char **key_file,
                       const char **client_ca_file)
{
    *cert_file = c->cfg_tls_cert;
    *key_file = c->cfg_tls_key;
    *client_ca_file = c->cfg_tls_client_ca;
    return c->cfg_tls_cert != NULL && c->cfg_tls_key != NULL;
}

const char *config_contracts_dir(const struct config *c)
{
    return c->cfg_contracts_dir;
}

const char *config_evidence_dir(const struct config *c, bool *set)
{
    *set = c->cfg_evidence_set;
    return c->cfg_evidence_dir;
}

uint64_t config_evidence_max_bytes(const struct config *c)
{
    return c->cfg_evidence_max_bytes;
}

uint64_t config_evidence_max_files(const struct config *c)
{
    return c->cfg_evidence_max_files;
}

const struct config_settings *config_defaults(const struct config *c)
{
    return &c->cfg_defaults;
}

size_t config_subscription_count(const struct config *c)
{
    return c->cfg_n_subs;
}

const struct config_subscription *config_subscription_at(const struct config *c, size_t i)
{
    return i < c->cfg_n_subs ? c->cfg_subs[i] : NULL;
}

const struct config_subscription *config_subscription_find(const struct config *c, const char *name)
{
    size_t lo = 0, hi = c->cfg_n_subs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct config_subscription *s = c->cfg_subs[c->cfg_by_name[mid]];
        int r = strcmp(name, config_subscription_name(s));
        if (r == 0)
            return s;
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

enum config_histograms config_metrics_histograms(const struct config *c)
{
    return c->cfg_histograms;
}

bool config_metrics_zeros(const struct config *c)
{
    return !c->cfg_metrics_sparse;
}

const char *config_instance(const struct config *c)
{
    return c->cfg_instance;
}

size_t config_probe_count(const struct config *c)
{
    return c->cfg_n_probes;
}

const struct config_probe *config_probe_at(const struct config *c, size_t i)
{
    return i < c->cfg_n_probes ? c->cfg_probes[i] : NULL;
}

const struct config_probe *config_probe_find(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->cfg_n_probes; i++) {
        const char *pn = config_probe_name(c->cfg_probes[i]);
        if (pn != NULL && strcmp(pn, name) == 0)
            return c->cfg_probes[i];
    }
    return NULL;
}
