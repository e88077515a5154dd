#include "ssemon/config/config_subscription.h"

#include "ssemon/core/subscription_name.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssemon/base/uuid.h"
#include "ssemon/config/config_contracts.h"
#include "ssemon/config/config_doc.h"
#include "ssemon/config/config_headers.h"
#include "ssemon/config/config_keys.h"
#include "ssemon/config/config_secret.h"
#include "ssemon/config/config_template.h"
#include "ssemon/core/http_header.h"
#include "ssemon/io/subscription.h"

struct config_subscription {
    char *csu_name;
    char *csu_description; /* NULL: none */
    char *csu_url;         /* may carry user-info: only for sub_options */
    char *csu_url_redacted;
    char *csu_contract_name;
    const struct config_contract *csu_contract;
    struct validator_var *csu_vars; /* names and values owned */
    size_t csu_n_vars;
    struct config_headers csu_headers;
    struct config_settings csu_settings;
    struct config_settings_strings csu_strings; /* what csu_settings' strings point to */
    /* Templates (${uuid}, ${instance}): what the file wrote, and what the
     * fields above hold expanded once at load time (with a sample uuid). */
    char *csu_instance;
    char *csu_url_text;           /* the URL as written */
    struct template *csu_url_tpl; /* NULL when it has no reference */
    char **csu_var_texts;         /* parallel to csu_vars: values as written */
    struct template **csu_var_tpls;
    struct template **csu_hdr_tpls; /* parallel to csu_headers.hs_items */
    bool csu_per_attempt;           /* some template uses ${uuid} */
};

/* ---- templates ---- */

#define CONFIG_SUB_HINT "in a subscription only ${uuid} and ${instance} are known"

static bool config_sub_known(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "uuid") == 0 || strcmp(name, "instance") == 0;
}

bool config_subscription_template_known(const char *name)
{
    return config_sub_known(NULL, name);
}

struct config_sub_values {
    const char *sv_uuid;
    const char *sv_instance;
};

static const char *config_sub_lookup(void *ctx, const char *name)
{
    const struct config_sub_values *v = ctx;
    if (strcmp(name, "uuid") == 0)
        return v->sv_uuid;
    if (strcmp(name, "instance") == 0)
        return v->sv_instance;
    return NULL;
}

/* A template with no reference is kept as plain text only. */
static struct template *config_sub_keep(struct template *tp)
{
    if (tp != NULL && template_ref_count(tp) == 0) {
        template_free(tp);
        return NULL;
    }
    return tp;
}

/* ---- reading ---- */

/* An http(s) URL with a host, as libcurl parses it. Messages show the URL
 * redacted. */
static bool config_sub_url_ok(struct config_doc *d, const char *url, const char *path)
{
    char *red = http_header_redact_url(url);
    char q[DIAG_QUOTE_MAX];
    bool ok = false;

    if (red == NULL) {
        config_doc_nomem(d);
        return false;
    }
    diag_quote(q, sizeof(q), red);
    free(red);
    CURLU *h = curl_url();
    if (h == NULL) {
        config_doc_nomem(d);
        return false;
    }
    /* Any scheme parses, so that ours is the one message about schemes. */
    CURLUcode rc = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (rc != CURLUE_OK) {
        config_doc_err(d, path, "invalid URL \"%s\": %s", q, curl_url_strerror(rc));
        goto out;
    }
    char *scheme = NULL;
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || scheme == NULL ||
        (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
        char qs[DIAG_QUOTE_MAX];
        diag_quote(qs, sizeof(qs), scheme != NULL ? scheme : "");
        config_doc_err(d, path, "unsupported URL scheme \"%s\" in \"%s\": use http or https", qs,
                       q);
        curl_free(scheme);
        goto out;
    }
    curl_free(scheme);
    char *host = NULL;
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == NULL || host[0] == '\0') {
        config_doc_err(d, path, "invalid URL \"%s\": no host", q);
        curl_free(host);
        goto out;
    }
    curl_free(host);
    ok = true;
out:
    curl_url_cleanup(h);
    return ok;
}

bool config_subscription_url_ok(struct config_doc *d, const char *url, const char *path)
{
    return config_sub_url_ok(d, url, path);
}

static int config_sub_var_cmp(const void *pa, const void *pb)
{
    const struct validator_var *a = pa, *b = pb;
    return strcmp(a->vv_name, b->vv_name);
}

/* Reports a variable the contract does not declare, with those it does. */
static void config_sub_undeclared(struct config_doc *d, const struct config_subscription *sub,
                                  const struct contract *c, const char *q, const char *vpath)
{
    char declared[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < c->c_n_variables; i++) {
        int w = snprintf(declared + used, sizeof(declared) - used, "%s%s", i ? ", " : "",
                         c->c_variables[i]);
        if (w < 0 || (size_t)w >= sizeof(declared) - used)
            break;
        used += (size_t)w;
    }
    char qc[DIAG_QUOTE_MAX];
    diag_quote(qc, sizeof(qc), sub->csu_contract_name);
    if (c->c_n_variables == 0)
        config_doc_err_key(d, vpath, "contract \"%s\" declares no variables, not \"%s\"", qc, q);
    else
        config_doc_err_key(d, vpath,
                           "variable \"%s\" is not declared by contract \"%s\" (it declares: %s)",
                           q, qc, declared);
}

/* "vars": each a string, each declared by the contract (when it loaded). */
static void config_sub_vars(struct config_doc *d, size_t n, const char *path,
                            struct config_subscription *sub)
{
    const struct json_tape *t = &d->cd_tape;
    const struct contract *c = sub->csu_contract ? sub->csu_contract->cct_contract : NULL;
    struct json_tape_iter it;
    size_t key, val;

    if (!config_doc_is_object(d, n, path))
        return;
    config_keys_check(d, n, path, CONFIG_KEYS_ANY);
    size_t count = json_tape_count(t, n);
    if (count == 0)
        return;
    sub->csu_vars = calloc(count, sizeof(*sub->csu_vars));
    if (sub->csu_vars == NULL) {
        config_doc_nomem(d);
        return;
    }
    json_tape_iter_init(t, n, &it);
    while (!config_doc_out_of_memory(d) && json_tape_object_next(t, &it, &key, &val)) {
        size_t len;
        const char *k = json_tape_string(t, key, &len);
        char *vpath = config_doc_pointer(path, k, len);
        if (vpath == NULL) {
            config_doc_nomem(d);
            break;
        }
        char q[DIAG_QUOTE_MAX];
        diag_escape(q, sizeof(q), k, len, true);
        char *name = strndup(k, len);
        char *value = name != NULL ? config_doc_string(d, val, vpath, true) : NULL;
        if (value != NULL) {
            struct template *tp = config_template_compile(d, val, vpath, value, strlen(value),
                                                          config_sub_known, NULL, CONFIG_SUB_HINT);
            if (tp == NULL) {
                free(value);
                value = NULL;
            }
            template_free(tp);
        }
        if (name == NULL) {
            config_doc_nomem(d);
        } else if (c != NULL && !contract_has_variable(c, name)) {
            config_sub_undeclared(d, sub, c, q, vpath);
        } else if (value != NULL) {
            sub->csu_vars[sub->csu_n_vars].vv_name = name;
            sub->csu_vars[sub->csu_n_vars].vv_value = value;
            sub->csu_n_vars++;
            name = value = NULL;
        }
        free(name);
        free(value);
        free(vpath);
    }
    qsort(sub->csu_vars, sub->csu_n_vars, sizeof(*sub->csu_vars), config_sub_var_cmp);
}

/* The required string member `key` of subscription `n` (a new string), or
 * NULL after reporting it missing or invalid. *kpath receives the member's
 * path (owned by the caller; NULL when out of memory). */
static char *config_sub_required(struct config_doc *d, size_t n, const char *path, const char *key,
                                 char **kpath)
{
    *kpath = config_doc_pointer_lit(path, key);
    if (*kpath == NULL) {
        config_doc_nomem(d);
        return NULL;
    }
    size_t v = config_doc_get(d, n, key);
    if (v == JSON_TAPE_NONE) {
        config_doc_err(d, *kpath,
                       "missing (a subscription needs \"name\", \"url\" and \"contract\")");
        return NULL;
    }
    return config_doc_string(d, v, *kpath, false);
}

/* "url": kept as written with its template; checked once expanded
 * (config_sub_templates). */
static void config_sub_url(struct config_doc *d, size_t node, const char *path, char *url,
                           struct config_subscription *sub)
{
    struct template *tp = config_template_compile(d, node, path, url, strlen(url), config_sub_known,
                                                  NULL, CONFIG_SUB_HINT);
    if (tp == NULL) {
        free(url);
        return;
    }
    sub->csu_url_text = url;
    sub->csu_url_tpl = config_sub_keep(tp);
}

/* The string node a merged header's value came from: the subscription's
 * own "headers" member of that name, else the file's "defaults" one
 * (*own false). JSON_TAPE_NONE when neither is a string. */
static size_t config_sub_header_origin(const struct config_doc *d, size_t n, const char *name,
                                       bool *own)
{
    const struct json_tape *t = &d->cd_tape;
    size_t root = json_tape_root(t);
    size_t def = config_doc_get(d, root, "defaults");
    size_t objs[2] = {config_doc_get(d, n, "headers"),
                      def != JSON_TAPE_NONE && json_tape_type(t, def) == JSON_TAPE_OBJECT
                          ? config_doc_get(d, def, "headers")
                          : JSON_TAPE_NONE};

    for (size_t o = 0; o < 2; o++) {
        struct json_tape_iter it;
        size_t key, val;
        if (objs[o] == JSON_TAPE_NONE || json_tape_type(t, objs[o]) != JSON_TAPE_OBJECT)
            continue;
        json_tape_iter_init(t, objs[o], &it);
        while (json_tape_object_next(t, &it, &key, &val)) {
            size_t len;
            const char *k = json_tape_string(t, key, &len);
            if (strlen(name) == len && strncasecmp(k, name, len) == 0) {
                *own = o == 0;
                return json_tape_type(t, val) == JSON_TAPE_STRING ? val : JSON_TAPE_NONE;
            }
        }
    }
    return JSON_TAPE_NONE;
}

/* Header i's template, when its value is a plain string with references:
 * the subscription's own values are checked here, the file's defaults
 * once by config_subscription_check_default_headers. */
static struct template *config_sub_header_template(struct config_doc *d, size_t n, const char *path,
                                                   const struct config_header *h)
{
    bool own = false;
    size_t node = config_sub_header_origin(d, n, h->cfh_name, &own);

    if (node == JSON_TAPE_NONE)
        return NULL;
    if (own) {
        char *hp = config_doc_pointer_lit(path, "headers");
        char *vp = hp != NULL ? config_doc_pointer_lit(hp, h->cfh_name) : NULL;
        struct template *tp = NULL;
        if (vp == NULL)
            config_doc_nomem(d);
        else
            tp = config_template_compile(d, node, vp, h->cfh_value, strlen(h->cfh_value),
                                         config_sub_known, NULL, CONFIG_SUB_HINT);
        free(hp);
        free(vp);
        return config_sub_keep(tp);
    }
    struct template_error err;
    struct template *tp = template_compile(h->cfh_value, strlen(h->cfh_value), &err);
    for (size_t i = 0; tp != NULL && i < template_ref_count(tp); i++) {
        if (!config_sub_known(NULL, template_ref_name(tp, i, NULL))) {
            template_free(tp);
            tp = NULL;
        }
    }
    return config_sub_keep(tp);
}

/* Replaces header i's value (and line) by `value` (taken). */
static int config_sub_header_value(struct config_headers *hs, size_t i, char *value)
{
    struct config_header *h = &hs->hs_items[i];
    char *line = NULL;

    if (asprintf(&line, "%s: %s", h->cfh_name, value) < 0) {
        config_secret_free(value);
        return -1;
    }
    config_secret_free(h->cfh_value);
    config_secret_free(h->cfh_line);
    h->cfh_value = value;
    h->cfh_line = line;
    if (hs->hs_lines != NULL)
        hs->hs_lines[i] = line;
    return 0;
}

/* Compiles the templates of url, headers and vars, decides whether every
 * attempt needs its own expansion, and expands them all once with a
 * sample uuid: what a caller that does not expand per attempt uses, and
 * the URL that is checked. */
static void config_sub_templates(struct config_doc *d, size_t n, const char *path,
                                 struct config_subscription *sub)
{
    char uuid[UUID_TEXT_LEN + 1];
    struct config_sub_values v = {uuid, sub->csu_instance};
    struct config_headers *hs = &sub->csu_headers;

    uuid_v4_new(uuid);
    sub->csu_hdr_tpls = calloc(hs->hs_n ? hs->hs_n : 1, sizeof(*sub->csu_hdr_tpls));
    sub->csu_var_texts = calloc(sub->csu_n_vars ? sub->csu_n_vars : 1, sizeof(char *));
    sub->csu_var_tpls = calloc(sub->csu_n_vars ? sub->csu_n_vars : 1, sizeof(*sub->csu_var_tpls));
    if (sub->csu_hdr_tpls == NULL || sub->csu_var_texts == NULL || sub->csu_var_tpls == NULL) {
        config_doc_nomem(d);
        return;
    }
    bool per = sub->csu_url_tpl != NULL && template_uses(sub->csu_url_tpl, "uuid");
    for (size_t i = 0; i < hs->hs_n; i++) {
        sub->csu_hdr_tpls[i] = config_sub_header_template(d, n, path, &hs->hs_items[i]);
        per = per || (sub->csu_hdr_tpls[i] && template_uses(sub->csu_hdr_tpls[i], "uuid"));
    }
    for (size_t i = 0; i < sub->csu_n_vars; i++) {
        struct validator_var *vv = &sub->csu_vars[i];
        struct template_error err;
        sub->csu_var_texts[i] = (char *)vv->vv_value;
        vv->vv_value = NULL;
        sub->csu_var_tpls[i] = config_sub_keep(
            template_compile(sub->csu_var_texts[i], strlen(sub->csu_var_texts[i]), &err));
        per = per || (sub->csu_var_tpls[i] && template_uses(sub->csu_var_tpls[i], "uuid"));
        vv->vv_value = sub->csu_var_tpls[i] ? template_expand(sub->csu_var_tpls[i],
                                                              config_sub_lookup, &v, NULL, NULL)
                                            : strdup(sub->csu_var_texts[i]);
        if (vv->vv_value == NULL) {
            vv->vv_value = strdup("");
            config_doc_nomem(d);
        }
    }
    sub->csu_per_attempt = per;
    for (size_t i = 0; i < hs->hs_n; i++) {
        if (sub->csu_hdr_tpls[i] == NULL)
            continue;
        char *val = template_expand(sub->csu_hdr_tpls[i], config_sub_lookup, &v, NULL, NULL);
        if (val == NULL || config_sub_header_value(hs, i, val) != 0)
            config_doc_nomem(d);
    }
    if (sub->csu_url_text == NULL)
        return;
    char *up = config_doc_pointer_lit(path, "url");
    char *url = sub->csu_url_tpl != NULL
                    ? template_expand(sub->csu_url_tpl, config_sub_lookup, &v, NULL, NULL)
                    : strdup(sub->csu_url_text);
    if (up == NULL || url == NULL) {
        free(up);
        free(url);
        config_doc_nomem(d);
        return;
    }
    /* Checked with a fixed sample, so the same file always gives the same
     * messages; kept with the random one. */
    struct config_sub_values fixed = {"00000000-0000-4000-8000-000000000000", sub->csu_instance};
    char *check = sub->csu_url_tpl != NULL
                      ? template_expand(sub->csu_url_tpl, config_sub_lookup, &fixed, NULL, NULL)
                      : NULL;
    if (sub->csu_url_tpl != NULL && check == NULL) {
        free(up);
        free(url);
        config_doc_nomem(d);
        return;
    }
    bool ok = config_sub_url_ok(d, check != NULL ? check : url, up);
    free(check);
    if (ok) {
        sub->csu_url = url;
        sub->csu_url_redacted = http_header_redact_url(per ? sub->csu_url_text : url);
        if (sub->csu_url_redacted == NULL)
            config_doc_nomem(d);
    } else {
        free(url);
    }
    free(up);
}

/* The settings and headers: the file's defaults, then the subscription's
 * own keys. False when there was no memory to start from the defaults. */
static bool config_sub_settings(struct config_doc *d, size_t n, const char *path,
                                const struct config_settings *defaults,
                                const struct config_headers *headers,
                                struct config_subscription *sub)
{
    struct config_settings_layer ly = {0};

    sub->csu_settings = *defaults;
    if (config_settings_strings_copy(&sub->csu_strings, defaults) != 0) {
        config_doc_nomem(d);
        return false;
    }
    config_settings_strings_bind(&sub->csu_settings, &sub->csu_strings);
    if (config_headers_copy(&sub->csu_headers, headers) != 0) {
        config_doc_nomem(d);
        return false;
    }
    config_settings_apply(d, n, path, CONFIG_KEYS_IN_SUB, &sub->csu_settings, &sub->csu_strings,
                          &sub->csu_headers, &ly);
    config_settings_check_backoff(d, path, &sub->csu_settings, &ly);
    config_settings_check_tls(d, path, &sub->csu_settings, &ly);
    if (config_headers_finish(&sub->csu_headers) != 0)
        config_doc_nomem(d);
    return true;
}

/* "name": kept only when valid. */
static void config_sub_name(struct config_doc *d, size_t n, const char *path,
                            struct config_subscription *sub)
{
    char *p = NULL;
    char *name = config_sub_required(d, n, path, "name", &p);

    if (name != NULL) {
        char q[DIAG_QUOTE_MAX];
        diag_quote(q, sizeof(q), name);
        if (strlen(name) > CONFIG_NAME_MAX)
            config_doc_err(d, p, "name \"%s\" is longer than %d bytes", q, CONFIG_NAME_MAX);
        else if (!subscription_name_chars_ok(name, strlen(name)))
            config_doc_err(d, p, "invalid name \"%s\": use letters, digits, '_', '.' and '-'", q);
        else
            sub->csu_name = name;
        if (sub->csu_name == NULL)
            free(name);
    }
    free(p);
}

struct config_subscription *
config_subscription_load(struct config_doc *d, size_t n, const char *path,
                         const struct config_settings *defaults,
                         const struct config_headers *headers, struct config_contracts *contracts,
                         const char *contracts_dir, const char *instance)
{
    struct config_subscription *sub = calloc(1, sizeof(*sub));
    char *p = NULL;

    if (sub == NULL) {
        config_doc_nomem(d);
        return NULL;
    }
    sub->csu_instance = strdup(instance);
    if (sub->csu_instance == NULL) {
        config_doc_nomem(d);
        return sub;
    }
    if (!config_doc_is_object(d, n, path))
        return sub;
    config_keys_check(d, n, path, CONFIG_KEYS_SUB);
    if (!config_sub_settings(d, n, path, defaults, headers, sub))
        return sub;
    config_sub_name(d, n, path, sub);
    sub->csu_description = config_doc_description(d, n, path);
    char *url = config_sub_required(d, n, path, "url", &p);
    if (url != NULL)
        config_sub_url(d, config_doc_get(d, n, "url"), p, url, sub);
    free(p);
    sub->csu_contract_name = config_sub_required(d, n, path, "contract", &p);
    if (sub->csu_contract_name != NULL)
        sub->csu_contract =
            config_contracts_get(contracts, d, contracts_dir, sub->csu_contract_name, p);
    free(p);
    size_t vars = config_doc_get(d, n, "vars");
    if (vars != JSON_TAPE_NONE && !config_doc_out_of_memory(d)) {
        p = config_doc_pointer_lit(path, "vars");
        if (p == NULL) {
            config_doc_nomem(d);
            return sub;
        }
        config_sub_vars(d, vars, p, sub);
        free(p);
    }
    if (!config_doc_out_of_memory(d))
        config_sub_templates(d, n, path, sub);
    return sub;
}

void config_subscription_free(struct config_subscription *s)
{
    if (s == NULL)
        return;
    free(s->csu_name);
    free(s->csu_description);
    free(s->csu_url);
    free(s->csu_url_redacted);
    free(s->csu_contract_name);
    for (size_t i = 0; i < s->csu_n_vars; i++) {
        free((char *)s->csu_vars[i].vv_name);
        free((char *)s->csu_vars[i].vv_value);
    }
    free(s->csu_vars);
    for (size_t i = 0; i < s->csu_n_vars; i++) {
        if (s->csu_var_texts != NULL)
            free(s->csu_var_texts[i]);
        if (s->csu_var_tpls != NULL)
            template_free(s->csu_var_tpls[i]);
    }
    free(s->csu_var_texts);
    free(s->csu_var_tpls);
    for (size_t i = 0; i < s->csu_headers.hs_n && s->csu_hdr_tpls != NULL; i++)
        template_free(s->csu_hdr_tpls[i]);
    free(s->csu_hdr_tpls);
    config_headers_free(&s->csu_headers);
    config_settings_strings_free(&s->csu_strings);
    free(s->csu_instance);
    free(s->csu_url_text);
    template_free(s->csu_url_tpl);
    free(s);
}

/* ---- accessors ---- */

const char *config_subscription_name(const struct config_subscription *s)
{
    return s->csu_name;
}

const char *config_subscription_description(const struct config_subscription *s)
{
    return s->csu_description;
}

const char *config_subscription_url_redacted(const struct config_subscription *s)
{
    return s->csu_url_redacted;
}

const char *config_subscription_contract_name(const struct config_subscription *s)
{
    return s->csu_contract_name;
}

const struct contract *config_subscription_contract(const struct config_subscription *s)
{
    return s->csu_contract != NULL ? s->csu_contract->cct_contract : NULL;
}

const struct config_contract *
config_subscription_config_contract(const struct config_subscription *s)
{
    return s->csu_contract;
}

bool config_subscription_enabled(const struct config_subscription *s)
{
    return s->csu_settings.cs_enabled;
}

const struct config_settings *config_subscription_settings(const struct config_subscription *s)
{
    return &s->csu_settings;
}

const struct validator_var *config_subscription_vars(const struct config_subscription *s, size_t *n)
{
    *n = s->csu_n_vars;
    return s->csu_vars;
}

size_t config_subscription_header_count(const struct config_subscription *s)
{
    return s->csu_headers.hs_n;
}

const char *config_subscription_header_name(const struct config_subscription *s, size_t i)
{
    return i < s->csu_headers.hs_n ? s->csu_headers.hs_items[i].cfh_name : NULL;
}

bool config_subscription_header_secret(const struct config_subscription *s, size_t i)
{
    return i < s->csu_headers.hs_n && s->csu_headers.hs_items[i].cfh_secret;
}

int config_subscription_header_log(const struct config_subscription *s, size_t i, char *buf,
                                   size_t size)
{
    return config_headers_log(&s->csu_headers, i, buf, size);
}

void config_subscription_sub_options(const struct config_subscription *s, struct sub_options *o)
{
    const struct config_settings *st = &s->csu_settings;

    sub_options_init(o);
    o->so_url = s->csu_url;
    o->so_headers = s->csu_headers.hs_lines;
    o->so_nheaders = s->csu_headers.hs_n;
    o->so_connect_timeout_ms = st->cs_connect_timeout_ms;
    o->so_idle_timeout_ms = st->cs_idle_timeout_ms;
    o->so_backoff_min_ms = st->cs_backoff_min_ms;
    o->so_backoff_max_ms = st->cs_backoff_max_ms;
    o->so_healthy_ms = st->cs_healthy_reset_ms;
    o->so_reconnect = true;
    o->so_ca_file = st->cs_ca_file;
    o->so_insecure = st->cs_insecure;
    o->so_client_cert = st->cs_client_cert;
    o->so_client_key = st->cs_client_key;
    o->so_proxy = st->cs_proxy;
    o->so_no_proxy = st->cs_no_proxy;
    o->so_limits.max_line = st->cs_max_line;
    o->so_limits.max_event = st->cs_max_event;
}

void config_subscription_validator_options(const struct config_subscription *s,
                                           struct validator_options *o)
{
    const struct config_settings *st = &s->csu_settings;

    memset(o, 0, sizeof(*o));
    o->vo_vars = s->csu_vars;
    o->vo_n_vars = s->csu_n_vars;
    o->vo_hb_interval_ms = st->cs_heartbeat_interval_ms;
    o->vo_hb_tolerance = st->cs_heartbeat_tolerance;
    o->vo_lenient = !st->cs_strict;
    o->vo_timing = true;
}

/* ---- equality ---- */

static bool config_sub_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool config_sub_vars_equal(const struct config_subscription *a,
                                  const struct config_subscription *b)
{
    for (size_t i = 0; i < a->csu_n_vars; i++) {
        if (strcmp(a->csu_vars[i].vv_name, b->csu_vars[i].vv_name) != 0 ||
            strcmp(a->csu_vars[i].vv_value, b->csu_vars[i].vv_value) != 0)
            return false;
    }
    return true;
}

bool config_subscription_equal(const struct config_subscription *a,
                               const struct config_subscription *b)
{
    if (!config_sub_str_eq(a->csu_name, b->csu_name) ||
        !config_sub_str_eq(a->csu_url_text, b->csu_url_text) ||
        (!a->csu_per_attempt && !config_sub_str_eq(a->csu_url, b->csu_url)) ||
        !config_sub_str_eq(a->csu_contract_name, b->csu_contract_name) ||
        !config_sub_str_eq(a->csu_contract->cct_text, b->csu_contract->cct_text) ||
        !config_settings_equal(&a->csu_settings, &b->csu_settings))
        return false;
    if (a->csu_n_vars != b->csu_n_vars || a->csu_per_attempt != b->csu_per_attempt)
        return false;
    if (!a->csu_per_attempt)
        return config_sub_vars_equal(a, b) &&
               config_headers_equal(&a->csu_headers, &b->csu_headers);
    /* Per attempt: the load-time expansions hold a random sample uuid, so
     * what is compared is what the file wrote, and the instance. */
    if (!config_sub_str_eq(a->csu_url_text, b->csu_url_text) ||
        !config_sub_str_eq(a->csu_instance, b->csu_instance))
        return false;
    for (size_t i = 0; i < a->csu_n_vars; i++) {
        if (strcmp(a->csu_vars[i].vv_name, b->csu_vars[i].vv_name) != 0 ||
            strcmp(a->csu_var_texts[i], b->csu_var_texts[i]) != 0)
            return false;
    }
    if (a->csu_headers.hs_n != b->csu_headers.hs_n)
        return false;
    for (size_t i = 0; i < a->csu_headers.hs_n; i++) {
        const struct config_header *ha = &a->csu_headers.hs_items[i];
        const struct config_header *hb = &b->csu_headers.hs_items[i];
        const struct template *ta = a->csu_hdr_tpls[i], *tb = b->csu_hdr_tpls[i];
        if (strcmp(ha->cfh_name, hb->cfh_name) != 0 || ha->cfh_secret != hb->cfh_secret ||
            (ta == NULL) != (tb == NULL))
            return false;
        if (ta != NULL ? strcmp(template_text(ta), template_text(tb)) != 0
                       : strcmp(ha->cfh_value, hb->cfh_value) != 0)
            return false;
    }
    return true;
}

/* ---- per-attempt expansion ---- */

bool config_subscription_per_attempt(const struct config_subscription *s)
{
    return s->csu_per_attempt;
}

void config_attempt_free(struct config_attempt *a)
{
    if (a == NULL)
        return;
    config_secret_free(a->ca_url);
    for (size_t i = 0; i < a->ca_n_headers; i++)
        config_secret_free(a->ca_headers[i]);
    free(a->ca_headers);
    for (size_t i = 0; i < a->ca_n_vars; i++)
        free((char *)a->ca_vars[i].vv_value);
    free(a->ca_vars);
    memset(a, 0, sizeof(*a));
}

/* `tp` expanded, or a copy of `plain` when there is no template. */
static char *config_sub_expand(const struct template *tp, const char *plain,
                               struct config_sub_values *v)
{
    if (tp == NULL) {
        char *c = strdup(plain);
        if (c == NULL)
            errno = ENOMEM;
        return c;
    }
    return template_expand(tp, config_sub_lookup, v, NULL, NULL);
}

int config_subscription_attempt(const struct config_subscription *s, const char *uuid,
                                struct config_attempt *out)
{
    struct config_sub_values v = {uuid, s->csu_instance};
    const struct config_headers *hs = &s->csu_headers;

    memset(out, 0, sizeof(*out));
    out->ca_url = config_sub_expand(s->csu_url_tpl, s->csu_url, &v);
    out->ca_headers = calloc(hs->hs_n ? hs->hs_n : 1, sizeof(*out->ca_headers));
    out->ca_vars = calloc(s->csu_n_vars ? s->csu_n_vars : 1, sizeof(*out->ca_vars));
    if (out->ca_url == NULL || out->ca_headers == NULL || out->ca_vars == NULL)
        goto fail;
    for (size_t i = 0; i < hs->hs_n; i++) {
        const struct config_header *h = &hs->hs_items[i];
        const struct template *tp = s->csu_hdr_tpls ? s->csu_hdr_tpls[i] : NULL;
        if (tp == NULL) {
            out->ca_headers[i] = strdup(h->cfh_line);
        } else {
            char *val = template_expand(tp, config_sub_lookup, &v, NULL, NULL);
            if (val == NULL)
                goto fail;
            if (asprintf(&out->ca_headers[i], "%s: %s", h->cfh_name, val) < 0)
                out->ca_headers[i] = NULL;
            config_secret_free(val);
        }
        if (out->ca_headers[i] == NULL) {
            errno = ENOMEM;
            goto fail;
        }
        out->ca_n_headers++;
    }
    for (size_t i = 0; i < s->csu_n_vars; i++) {
        out->ca_vars[i].vv_name = s->csu_vars[i].vv_name;
        out->ca_vars[i].vv_value = config_sub_expand(s->csu_var_tpls ? s->csu_var_tpls[i] : NULL,
                                                     s->csu_vars[i].vv_value, &v);
        if (out->ca_vars[i].vv_value == NULL)
            goto fail;
        out->ca_n_vars++;
    }
    return 0;
fail:;
    int e = errno;
    config_attempt_free(out);
    errno = e;
    return -1;
}

const char *config_subscription_url_text(const struct config_subscription *s)
{
    return s->csu_url_text;
}

const char *config_subscription_instance(const struct config_subscription *s)
{
    return s->csu_instance;
}
