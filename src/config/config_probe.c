#include "ssemon/config/config_probe.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssemon/base/utf8.h"
#include "ssemon/config/config.h"
#include "ssemon/config/config_contracts.h"
#include "ssemon/config/config_doc.h"
#include "ssemon/config/config_headers.h"
#include "ssemon/config/config_keys.h"
#include "ssemon/config/config_secret.h"
#include "ssemon/config/config_settings.h"
#include "ssemon/config/config_template.h"
#include "ssemon/core/contract.h"
#include "ssemon/core/http_header.h"
#include "ssemon/core/subscription_name.h"

#define CP_HINT                                                                                    \
    "in a probe only its capture names, ${run_id}, ${instance} and "                               \
    "${subscriptions.NAME.VAR} are known"

struct cp_capture {
    char *cc_name;
    char *cc_pointer;
};

struct cp_match {
    char *cm_pointer;
    struct template *cm_value;
    bool cm_literal;
};

struct cp_expect {
    char *ce_sub;
    char *ce_event;
    char *ce_kind;
    char *ce_variant; /* NULL: any */
    const struct config_contract *ce_contract;
    struct cp_match *ce_match;
    size_t ce_n_match;
    uint64_t ce_within_ms;
};

struct cp_stream {
    struct template *cs_url;
    char *cs_display;
    char *cs_contract_name;
    const struct config_contract *cs_contract;
    char **cs_var_names;
    struct template **cs_var_values;
    size_t cs_n_vars;
    uint64_t cs_within_ms;
};

struct config_probe {
    char *cp_name;
    char *cp_description; /* NULL: none */
    uint64_t cp_every_ms;
    char *cp_method;
    struct template *cp_url;
    char *cp_display;
    struct config_headers cp_headers;
    struct template **cp_hdr_tpls; /* parallel to cp_headers.hs_items */
    json_t *cp_body;               /* JSON body, or NULL */
    struct template *cp_body_text; /* text body, or NULL */
    uint64_t cp_timeout_ms;
    int *cp_status;
    size_t cp_n_status;
    struct cp_capture *cp_caps;
    size_t cp_n_caps;
    struct cp_expect *cp_exp;
    size_t cp_n_exp;
    struct cp_stream *cp_streams;
    size_t cp_n_streams;
    const struct config_settings *cp_settings;
    /* The trigger's: cp_settings with the trigger's own TLS and proxy keys. */
    struct config_settings cp_trigger_settings;
    struct config_settings_strings cp_trigger_strings;
    char *cp_instance;
    char *cp_canon; /* the object, compact with sorted keys */
};

/* A load in progress. */
struct cp_loader {
    struct config_doc *cl_doc;
    const struct config_probe_env *cl_env;
    struct config_probe *cl_probe;
};

/* ---- instance ---- */

static bool cp_instance_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

bool config_probe_instance_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > CONFIG_INSTANCE_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!cp_instance_char((unsigned char)s[i]))
            return false;
    return true;
}

char *config_probe_instance_sanitize(const char *host)
{
    size_t len = strnlen(host, CONFIG_INSTANCE_MAX);
    if (len == 0)
        return strdup("localhost");
    char *s = strndup(host, len);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (!cp_instance_char((unsigned char)s[i]))
            s[i] = '-';
    return s;
}

/* ---- small readers ---- */

static char *cp_ptr(struct config_doc *d, const char *parent, const char *key)
{
    char *p = config_doc_pointer_lit(parent, key);
    if (p == NULL)
        config_doc_nomem(d);
    return p;
}

static char *cp_ptr_index(struct config_doc *d, const char *parent, size_t i)
{
    char *p = config_doc_pointer_index(parent, i);
    if (p == NULL)
        config_doc_nomem(d);
    return p;
}

/* A number of seconds at `n` into milliseconds within [min_ms, max_ms]. */
static bool cp_seconds(struct config_doc *d, size_t n, const char *path, uint64_t min_ms,
                       uint64_t max_ms, uint64_t *out)
{
    const struct json_tape *t = &d->cd_tape;
    enum json_tape_type ty = json_tape_type(t, n);

    if (ty != JSON_TAPE_INTEGER && ty != JSON_TAPE_REAL) {
        config_doc_err(d, path, "expected a number of seconds, got %s", config_doc_type_name(d, n));
        return false;
    }
    double v = json_tape_double(t, n);
    double ms = v * 1000.0;
    if (!(v > 0) || !(ms >= (double)min_ms - 0.5) || !(ms <= (double)max_ms + 0.5)) {
        config_doc_err(d, path, "must be a number of seconds from %g to %g", (double)min_ms / 1000,
                       (double)max_ms / 1000);
        return false;
    }
    *out = (uint64_t)llround(ms);
    if (*out < min_ms)
        *out = min_ms;
    return true;
}

/* A JSON pointer as RFC 6901 writes it: "" or starting with '/'. */
static bool cp_pointer_ok(const char *s)
{
    if (s[0] != '\0' && s[0] != '/')
        return false;
    for (const char *c = s; *c != '\0'; c++)
        if (*c == '~' && c[1] != '0' && c[1] != '1')
            return false;
    return true;
}

/* A subscription of the configuration by name (linear: names may be
 * missing or repeated while errors are being found). */
static const struct config_subscription *cp_sub(const struct config *cfg, const char *name,
                                                size_t len)
{
    for (size_t i = 0; i < config_subscription_count(cfg); i++) {
        const struct config_subscription *s = config_subscription_at(cfg, i);
        const char *sn = config_subscription_name(s);
        if (sn != NULL && strlen(sn) == len && memcmp(sn, name, len) == 0)
            return s;
    }
    return NULL;
}

static bool cp_sub_has_var(const struct config_subscription *s, const char *var)
{
    size_t n;
    const struct validator_var *vs = config_subscription_vars(s, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(vs[i].vv_name, var) == 0)
            return true;
    const struct contract *c = config_subscription_contract(s);
    return c != NULL && contract_has_variable(c, var);
}

/* ---- template names ---- */

static bool cp_known(void *ctx, const char *name)
{
    const struct cp_loader *ld = ctx;
    const struct config_probe *p = ld->cl_probe;
    static const char prefix[] = "subscriptions.";

    if (strcmp(name, "run_id") == 0 || strcmp(name, "instance") == 0)
        return true;
    for (size_t i = 0; i < p->cp_n_caps; i++)
        if (strcmp(p->cp_caps[i].cc_name, name) == 0)
            return true;
    if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const char *rest = name + sizeof(prefix) - 1;
    /* Subscription names may hold dots: try every split. */
    for (const char *dot = strchr(rest, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
        const struct config_subscription *s =
            cp_sub(ld->cl_env->cpe_config, rest, (size_t)(dot - rest));
        if (s != NULL && dot[1] != '\0' && cp_sub_has_var(s, dot + 1))
            return true;
    }
    return false;
}

static struct template *cp_template(struct cp_loader *ld, size_t n, const char *path)
{
    return config_template_read(ld->cl_doc, n, path, cp_known, ld, CP_HINT);
}

/* A value for every name: to check that a URL template expands to an
 * acceptable URL whatever the values. */
static const char *cp_sample_lookup(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return "x";
}

static void cp_url_check(struct config_doc *d, const struct template *tp, const char *path)
{
    char *u = template_expand(tp, cp_sample_lookup, NULL, NULL, NULL);
    if (u == NULL) {
        if (errno == ENOMEM)
            config_doc_nomem(d);
        else
            config_doc_err(d, path, "the URL is longer than %zu bytes", TEMPLATE_OUT_MAX);
        return;
    }
    config_subscription_url_ok(d, u, path);
    free(u);
}

/* A required member, or an error naming what the object needs. */
static size_t cp_required(struct config_doc *d, size_t obj, const char *path, const char *key,
                          const char *needs)
{
    size_t v = config_doc_get(d, obj, key);
    if (v == JSON_TAPE_NONE) {
        char *p = cp_ptr(d, path, key);
        if (p != NULL)
            config_doc_err(d, p, "missing (%s)", needs);
        free(p);
    }
    return v;
}

/* The required "within_s" of an expectation or a stream. */
static void cp_within(struct config_doc *d, size_t obj, const char *path, const char *needs,
                      uint64_t *out_ms)
{
    size_t v = cp_required(d, obj, path, "within_s", needs);
    char *kp = v != JSON_TAPE_NONE ? cp_ptr(d, path, "within_s") : NULL;
    if (kp != NULL)
        cp_seconds(d, v, kp, 1, CONFIG_PROBE_WITHIN_MAX_MS, out_ms);
    free(kp);
}

/* Whether node n is an array, else an error "expected an array of WHAT". */
static bool cp_is_array(struct config_doc *d, size_t n, const char *path, const char *what)
{
    if (json_tape_type(&d->cd_tape, n) == JSON_TAPE_ARRAY)
        return true;
    config_doc_err(d, path, "expected an array of %s, got %s", what, config_doc_type_name(d, n));
    return false;
}

/* Calls fn for each item of array n with its pointer path, until memory
 * runs out. */
static void cp_each(struct cp_loader *ld, size_t n, const char *path,
                    void (*fn)(struct cp_loader *ld, size_t item, const char *item_path))
{
    struct config_doc *d = ld->cl_doc;
    struct json_tape_iter it;
    size_t item, i = 0;
    json_tape_iter_init(&d->cd_tape, n, &it);
    while (!config_doc_out_of_memory(d) && json_tape_array_next(&d->cd_tape, &it, &item)) {
        char *ip = cp_ptr_index(d, path, i++);
        if (ip == NULL)
            return;
        fn(ld, item, ip);
        free(ip);
    }
}

/* ---- trigger ---- */

static int cp_capture_cmp(const void *pa, const void *pb)
{
    const struct cp_capture *a = pa, *b = pb;
    return strcmp(a->cc_name, b->cc_name);
}

static bool cp_capture_name_ok(const char *k, size_t len)
{
    if (len == 0 || len > TEMPLATE_NAME_MAX || (k[0] >= '0' && k[0] <= '9'))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)k[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static void cp_captures(struct cp_loader *ld, size_t n, const char *path)
{
    struct config_doc *d = ld->cl_doc;
    const struct json_tape *t = &d->cd_tape;
    struct config_probe *p = ld->cl_probe;
    struct json_tape_iter it;
    size_t key, val;

    if (!config_doc_is_object(d, n, path))
        return;
    config_keys_check(d, n, path, CONFIG_KEYS_ANY);
    p->cp_caps = calloc(json_tape_count(t, n) + 1, sizeof(*p->cp_caps));
    if (p->cp_caps == NULL) {
        config_doc_nomem(d);
        return;
    }
    json_tape_iter_init(t, n, &it);
    while (!config_doc_out_of_memory(d) && json_tape_object_next(t, &it, &key, &val)) {
        size_t len;
        const char *k = json_tape_string(t, key, &len);
        char *kp = config_doc_pointer(path, k, len);
        char q[DIAG_QUOTE_MAX];
        if (kp == NULL) {
            config_doc_nomem(d);
            return;
        }
        diag_escape(q, sizeof(q), k, len, true);
        if (!cp_capture_name_ok(k, len)) {
            config_doc_err_key(d, kp,
                               "invalid capture name \"%s\": a letter or '_', then letters, "
                               "digits or '_'",
                               q);
        } else if ((len == 6 && memcmp(k, "run_id", 6) == 0) ||
                   (len == 8 && memcmp(k, "instance", 8) == 0) ||
                   (len == 4 && memcmp(k, "uuid", 4) == 0)) {
            config_doc_err_key(d, kp, "capture name \"%s\" is reserved", q);
        } else {
            char *ptr = config_doc_string(d, val, kp, true);
            if (ptr != NULL && !cp_pointer_ok(ptr)) {
                diag_quote(q, sizeof(q), ptr);
                config_doc_err(d, kp, "invalid JSON pointer \"%s\": \"\" or starting with '/'", q);
                free(ptr);
                ptr = NULL;
            }
            char *name = ptr != NULL ? strndup(k, len) : NULL;
            if (ptr != NULL && name == NULL) {
                config_doc_nomem(d);
                free(ptr);
            } else if (name != NULL) {
                p->cp_caps[p->cp_n_caps].cc_name = name;
                p->cp_caps[p->cp_n_caps].cc_pointer = ptr;
                p->cp_n_caps++;
            }
        }
        free(kp);
    }
    qsort(p->cp_caps, p->cp_n_caps, sizeof(*p->cp_caps), cp_capture_cmp);
}

static void cp_method(struct cp_loader *ld, size_t n, const char *path)
{
    struct config_doc *d = ld->cl_doc;
    char *m = config_doc_string(d, n, path, false);

    if (m == NULL)
        return;
    for (const char *c = m; *c != '\0'; c++) {
        if (!http_header_is_tchar((unsigned char)*c)) {
            char q[DIAG_QUOTE_MAX];
            diag_quote(q, sizeof(q), m);
            config_doc_err(d, path, "invalid method \"%s\": letters, digits and !#$%%&'*+-.^_`|~",
                           q);
            free(m);
            return;
        }
    }
    free(ld->cl_probe->cp_method);
    ld->cl_probe->cp_method = m;
}

static void cp_status(struct cp_loader *ld, size_t n, const char *path)
{
    struct config_doc *d = ld->cl_doc;
    const struct json_tape *t = &d->cd_tape;
    struct config_probe *p = ld->cl_probe;
    struct json_tape_iter it;
    size_t item, i = 0;

    if (json_tape_type(t, n) != JSON_TAPE_ARRAY || json_tape_count(t, n) == 0) {
        config_doc_err(d, path, "expected a non-empty array of HTTP status codes, got %s",
                       config_doc_type_name(d, n));
        return;
    }
    p->cp_status = calloc(json_tape_count(t, n), sizeof(*p->cp_status));
    if (p->cp_status == NULL) {
        config_doc_nomem(d);
        return;
    }
    json_tape_iter_init(t, n, &it);
    while (json_tape_array_next(t, &it, &item)) {
        int64_t v = json_tape_int(t, item);
        if (json_tape_type(t, item) != JSON_TAPE_INTEGER || v < 100 || v > 599) {
            char *ip = cp_ptr_index(d, path, i);
            if (ip != NULL)
                config_doc_err(d, ip, "expected an HTTP status code from 100 to 599");
            free(ip);
        } else {
            p->cp_status[p->cp_n_status++] = (int)v;
        }
        i++;
    }
}

/* The member of headers object `obj` whose name is `name` ignoring case,
 * when its value is a plain string. */
static size_t cp_header_node(const struct json_tape *t, size_t obj, const char *name)
{
    struct json_tape_iter it;
    size_t key, val, found = JSON_TAPE_NONE;

    json_tape_iter_init(t, obj, &it);
    while (json_tape_object_next(t, &it, &key, &val)) {
        size_t len;
        const char *k = json_tape_string(t, key, &len);
        if (strlen(name) == len && strncasecmp(k, name, len) == 0)
            found = json_tape_type(t, val) == JSON_TAPE_STRING ? val : JSON_TAPE_NONE;
    }
    return found;
}

static void cp_headers(struct cp_loader *ld, size_t n, const char *path)
{
    struct config_doc *d = ld->cl_doc;
    struct config_probe *p = ld->cl_probe;
    struct config_headers *hs = &p->cp_headers;

    config_headers_parse(d, n, path, hs);
    if (config_headers_finish(hs) != 0) {
        config_doc_nomem(d);
        return;
    }
    if (json_tape_type(&d->cd_tape, n) != JSON_TAPE_OBJECT || hs->hs_n == 0)
        return;
    p->cp_hdr_tpls = calloc(hs->hs_n, sizeof(*p->cp_hdr_tpls));
    if (p->cp_hdr_tpls == NULL) {
        config_doc_nomem(d);
        return;
    }
    for (size_t i = 0; i < hs->hs_n && !config_doc_out_of_memory(d); i++) {
        const struct config_header *h = &hs->hs_items[i];
        size_t node = cp_header_node(&d->cd_tape, n, h->cfh_name);
        if (node == JSON_TAPE_NONE)
            continue;
        char *hp = cp_ptr(d, path, h->cfh_name);
        if (hp == NULL)
            return;
        struct template *tp = config_template_compile(d, node, hp, h->cfh_value,
                                                      strlen(h->cfh_value), cp_known, ld, CP_HINT);
        if (tp != NULL && template_ref_count(tp) == 0) {
            template_free(tp);
            tp = NULL;
        }
        p->cp_hdr_tpls[i] = tp;
        free(hp);
    }
}

/* Every string value of a JSON body is a template: checked here, each at
 * its position; objects may not repeat a key. */
static void cp_body_check(struct cp_loader *ld, size_t n, const char *path)
{
    struct config_doc *d = ld->cl_doc;
    const struct json_tape *t = &d->cd_tape;
    struct json_tape_iter it;
    size_t key, val, item, i = 0;

    switch (json_tape_type(t, n)) {
    case JSON_TAPE_STRING:
        template_free(cp_template(ld, n, path));
        return;
    case JSON_TAPE_OBJECT:
        config_keys_check(d, n, path, CONFIG_KEYS_ANY);
        json_tape_iter_init(t, n, &it);
        while (!config_doc_out_of_memory(d) && json_tape_object_next(t, &it, &key, &val)) {
            size_t len;
            const char *k = json_tape_string(t, key, &len);
            char *p = config_doc_pointer(path, k, len);
            if (p == NULL) {
                config_doc_nomem(d);
                return;
            }
            cp_body_check(ld, val, p);
            free(p);
        }
        return;
    case JSON_TAPE_ARRAY:
        json_tape_iter_init(t, n, &it);
        while (!config_doc_out_of_memory(d) && json_tape_array_next(t, &it, &item)) {
            char *p = cp_ptr_index(d, path, i++);
            if (p == NULL)
                return;
            cp_body_check(ld, item, p);
            free(p);
        }
        return;
    default:
        return;
    }
}

/* The source text of node `n` as a jansson value. */
static json_t *cp_json_of(const struct config_doc *d, size_t n)
{
    const struct json_tape *t = &d->cd_tape;
    const struct json_tape_node *nd = &t->jt_nodes[n];
    return json_loadb(t->jt_src + nd->tn_off, nd->tn_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

static void cp_body(struct cp_loader *ld, size_t n, const char *path)
{
    struct config_doc *d = ld->cl_doc;

    cp_body_check(ld, n, path);
    if (config_doc_out_of_memory(d))
        return;
    ld->cl_probe->cp_body = cp_json_of(d, n);
    if (ld->cl_probe->cp_body == NULL)
        config_doc_err(d, path, "cannot be used as a request body");
}

static void cp_trigger(struct cp_loader *ld, size_t n, const char *path)
{
    struct config_doc *d = ld->cl_doc;
    struct config_probe *p = ld->cl_probe;
    size_t v;
    char *kp;

    if (!config_doc_is_object(d, n, path))
        return;
    config_keys_check(d, n, path, CONFIG_KEYS_TRIGGER);
    struct config_settings_layer ly = {0};
    config_settings_apply(d, n, path, CONFIG_KEYS_IN_TRIGGER, &p->cp_trigger_settings,
                          &p->cp_trigger_strings, NULL, &ly);
    config_settings_check_tls(d, path, &p->cp_trigger_settings, &ly);
    /* Captures first: the other templates may use them. */
    if ((v = config_doc_get(d, n, "capture")) != JSON_TAPE_NONE &&
        (kp = cp_ptr(d, path, "capture")) != NULL) {
        cp_captures(ld, v, kp);
        free(kp);
    }
    if ((v = config_doc_get(d, n, "method")) != JSON_TAPE_NONE &&
        (kp = cp_ptr(d, path, "method")) != NULL) {
        cp_method(ld, v, kp);
        free(kp);
    }
    v = cp_required(d, n, path, "url", "a trigger needs \"url\"");
    if (v != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "url")) != NULL) {
        p->cp_url = cp_template(ld, v, kp);
        if (p->cp_url != NULL) {
            cp_url_check(d, p->cp_url, kp);
            p->cp_display = http_header_redact_url(template_text(p->cp_url));
            if (p->cp_display == NULL)
                config_doc_nomem(d);
        }
        free(kp);
    }
    if ((v = config_doc_get(d, n, "headers")) != JSON_TAPE_NONE &&
        (kp = cp_ptr(d, path, "headers")) != NULL) {
        cp_headers(ld, v, kp);
        free(kp);
    }
    size_t body = config_doc_get(d, n, "body"), text = config_doc_get(d, n, "body_text");
    if (body != JSON_TAPE_NONE && text != JSON_TAPE_NONE) {
        if ((kp = cp_ptr(d, path, "body_text")) != NULL)
            config_doc_err_key(d, kp, "a trigger has \"body\" or \"body_text\", not both");
        free(kp);
    } else if (body != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "body")) != NULL) {
        cp_body(ld, body, kp);
        free(kp);
    } else if (text != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "body_text")) != NULL) {
        p->cp_body_text = cp_template(ld, text, kp);
        free(kp);
    }
    if ((v = config_doc_get(d, n, "timeout_s")) != JSON_TAPE_NONE &&
        (kp = cp_ptr(d, path, "timeout_s")) != NULL) {
        cp_seconds(d, v, kp, 1, CONFIG_PROBE_TIMEOUT_MAX_MS, &p->cp_timeout_ms);
        free(kp);
    }
    if ((v = config_doc_get(d, n, "expect_status")) != JSON_TAPE_NONE &&
        (kp = cp_ptr(d, path, "expect_status")) != NULL) {
        cp_status(ld, v, kp);
        free(kp);
    }
}

/* ---- expectations ---- */

/* Names of a contract's events (or of one kind's variants) for a message. */
static void cp_list(char *buf, size_t size, const struct contract *c,
                    const struct contract_event *e)
{
    size_t used = 0, n = e != NULL ? e->ce_n_variants : c->c_n_events;

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *name = e != NULL ? e->ce_variants[i].cv_value : c->c_events[i].ce_name;
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", name);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
}

/* "event": "kind" or "kind:variant" of the subscription's contract. */
static void cp_event(struct cp_loader *ld, size_t n, const char *path, struct cp_expect *e)
{
    struct config_doc *d = ld->cl_doc;
    char *ev = config_doc_string(d, n, path, false);
    char q[DIAG_QUOTE_MAX], qc[DIAG_QUOTE_MAX], list[512];

    if (ev == NULL)
        return;
    const char *colon = strchr(ev, ':');
    e->ce_kind = strndup(ev, colon != NULL ? (size_t)(colon - ev) : strlen(ev));
    e->ce_variant = colon != NULL ? strdup(colon + 1) : NULL;
    e->ce_event = ev;
    if (e->ce_kind == NULL || (colon != NULL && e->ce_variant == NULL)) {
        config_doc_nomem(d);
        return;
    }
    if (e->ce_kind[0] == '\0' || (e->ce_variant != NULL && e->ce_variant[0] == '\0')) {
        diag_quote(q, sizeof(q), ev);
        config_doc_err(d, path, "invalid event \"%s\": \"kind\" or \"kind:variant\"", q);
        return;
    }
    const struct contract *c = e->ce_contract != NULL ? e->ce_contract->cct_contract : NULL;
    if (c == NULL)
        return;
    diag_quote(qc, sizeof(qc), c->c_name != NULL ? c->c_name : "");
    size_t k = contract_event_index(c, e->ce_kind, strlen(e->ce_kind));
    if (k == (size_t)-1) {
        diag_quote(q, sizeof(q), e->ce_kind);
        cp_list(list, sizeof(list), c, NULL);
        config_doc_err(d, path, "event \"%s\" is not in contract \"%s\" (it has: %s)", q, qc, list);
        return;
    }
    const struct contract_event *ce = &c->c_events[k];
    if (e->ce_variant == NULL)
        return;
    diag_quote(q, sizeof(q), e->ce_variant);
    if (ce->ce_n_variants == 0) {
        config_doc_err(d, path, "event \"%s\" of contract \"%s\" has no variants, not \"%s\"",
                       ce->ce_name, qc, q);
        return;
    }
    for (size_t i = 0; i < ce->ce_n_variants; i++)
        if (strcmp(ce->ce_variants[i].cv_value, e->ce_variant) == 0)
            return;
    cp_list(list, sizeof(list), c, ce);
    config_doc_err(d, path, "\"%s\" is not a variant of event \"%s\" (it has: %s)", q, ce->ce_name,
                   list);
}

static void cp_match(struct cp_loader *ld, size_t n, const char *path, struct cp_expect *e)
{
    struct config_doc *d = ld->cl_doc;
    const struct json_tape *t = &d->cd_tape;
    struct json_tape_iter it;
    size_t key, val;

    if (!config_doc_is_object(d, n, path))
        return;
    config_keys_check(d, n, path, CONFIG_KEYS_ANY);
    e->ce_match = calloc(json_tape_count(t, n) + 1, sizeof(*e->ce_match));
    if (e->ce_match == NULL) {
        config_doc_nomem(d);
        return;
    }
    json_tape_iter_init(t, n, &it);
    while (!config_doc_out_of_memory(d) && json_tape_object_next(t, &it, &key, &val)) {
        size_t len;
        const char *k = json_tape_string(t, key, &len);
        char *kp = config_doc_pointer(path, k, len);
        char *ptr = strndup(k, len);
        struct template *tp = NULL;
        bool literal = false;
        if (kp == NULL || ptr == NULL) {
            free(kp);
            free(ptr);
            config_doc_nomem(d);
            return;
        }
        enum json_tape_type ty = json_tape_type(t, val);
        if (memchr(k, '\0', len) != NULL || !cp_pointer_ok(ptr)) {
            char q[DIAG_QUOTE_MAX];
            diag_escape(q, sizeof(q), k, len, true);
            config_doc_err_key(d, kp, "invalid JSON pointer \"%s\": \"\" or starting with '/'", q);
        } else if (ty == JSON_TAPE_STRING) {
            tp = cp_template(ld, val, kp);
        } else if (ty == JSON_TAPE_OBJECT || ty == JSON_TAPE_ARRAY) {
            config_doc_err(d, kp, "expected a string, a number, true, false or null, got %s",
                           config_doc_type_name(d, val));
        } else {
            struct template_error err;
            const struct json_tape_node *nd = &t->jt_nodes[val];
            tp = template_compile(t->jt_src + nd->tn_off, nd->tn_len, &err);
            literal = true;
            if (tp == NULL)
                config_doc_nomem(d);
        }
        if (tp != NULL) {
            struct cp_match *m = &e->ce_match[e->ce_n_match++];
            m->cm_pointer = ptr;
            m->cm_value = tp;
            m->cm_literal = literal;
        } else {
            free(ptr);
        }
        free(kp);
    }
}

static void cp_expect_one(struct cp_loader *ld, size_t n, const char *path, struct cp_expect *e)
{
    struct config_doc *d = ld->cl_doc;
    static const char needs[] = "an expectation needs \"subscription\", \"event\" and \"within_s\"";
    char *kp;
    size_t v;

    if (!config_doc_is_object(d, n, path))
        return;
    config_keys_check(d, n, path, CONFIG_KEYS_EXPECT);
    v = cp_required(d, n, path, "subscription", needs);
    if (v != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "subscription")) != NULL) {
        e->ce_sub = config_doc_string(d, v, kp, false);
        if (e->ce_sub != NULL) {
            const struct config_subscription *s =
                cp_sub(ld->cl_env->cpe_config, e->ce_sub, strlen(e->ce_sub));
            char q[DIAG_QUOTE_MAX];
            diag_quote(q, sizeof(q), e->ce_sub);
            if (s == NULL)
                config_doc_err(d, kp, "no subscription is named \"%s\"", q);
            else if (!config_subscription_enabled(s))
                config_doc_err(d, kp, "subscription \"%s\" is disabled", q);
            else
                e->ce_contract = config_subscription_config_contract(s);
        }
        free(kp);
    }
    v = cp_required(d, n, path, "event", needs);
    if (v != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "event")) != NULL) {
        cp_event(ld, v, kp, e);
        free(kp);
    }
    if ((v = config_doc_get(d, n, "match")) != JSON_TAPE_NONE &&
        (kp = cp_ptr(d, path, "match")) != NULL) {
        cp_match(ld, v, kp, e);
        free(kp);
    }
    cp_within(d, n, path, needs, &e->ce_within_ms);
}

static void cp_expect_item(struct cp_loader *ld, size_t item, const char *path)
{
    struct config_probe *p = ld->cl_probe;
    cp_expect_one(ld, item, path, &p->cp_exp[p->cp_n_exp++]);
}

static void cp_expect(struct cp_loader *ld, size_t n, const char *path)
{
    struct config_doc *d = ld->cl_doc;
    struct config_probe *p = ld->cl_probe;

    if (!cp_is_array(d, n, path, "expectations"))
        return;
    p->cp_exp = calloc(json_tape_count(&d->cd_tape, n) + 1, sizeof(*p->cp_exp));
    if (p->cp_exp == NULL) {
        config_doc_nomem(d);
        return;
    }
    cp_each(ld, n, path, cp_expect_item);
}

/* ---- streams ---- */

static void cp_stream_vars(struct cp_loader *ld, size_t n, const char *path, struct cp_stream *s)
{
    struct config_doc *d = ld->cl_doc;
    const struct json_tape *t = &d->cd_tape;
    const struct contract *c = s->cs_contract != NULL ? s->cs_contract->cct_contract : NULL;
    struct json_tape_iter it;
    size_t key, val;

    if (!config_doc_is_object(d, n, path))
        return;
    config_keys_check(d, n, path, CONFIG_KEYS_ANY);
    size_t count = json_tape_count(t, n) + 1;
    s->cs_var_names = calloc(count, sizeof(*s->cs_var_names));
    s->cs_var_values = calloc(count, sizeof(*s->cs_var_values));
    if (s->cs_var_names == NULL || s->cs_var_values == NULL) {
        config_doc_nomem(d);
        return;
    }
    json_tape_iter_init(t, n, &it);
    while (!config_doc_out_of_memory(d) && json_tape_object_next(t, &it, &key, &val)) {
        size_t len;
        const char *k = json_tape_string(t, key, &len);
        char *kp = config_doc_pointer(path, k, len);
        char *name = strndup(k, len);
        if (kp == NULL || name == NULL) {
            free(kp);
            free(name);
            config_doc_nomem(d);
            return;
        }
        struct template *tp = NULL;
        if (c != NULL && !contract_has_variable(c, name)) {
            char q[DIAG_QUOTE_MAX], qc[DIAG_QUOTE_MAX];
            diag_escape(q, sizeof(q), k, len, true);
            diag_quote(qc, sizeof(qc), s->cs_contract_name);
            config_doc_err_key(d, kp, "variable \"%s\" is not declared by contract \"%s\"", q, qc);
        } else {
            tp = cp_template(ld, val, kp);
        }
        if (tp != NULL) {
            /* Kept sorted by name: insertion into a short list. */
            size_t at = s->cs_n_vars;
            while (at > 0 && strcmp(s->cs_var_names[at - 1], name) > 0) {
                s->cs_var_names[at] = s->cs_var_names[at - 1];
                s->cs_var_values[at] = s->cs_var_values[at - 1];
                at--;
            }
            s->cs_var_names[at] = name;
            s->cs_var_values[at] = tp;
            s->cs_n_vars++;
            name = NULL;
        }
        free(name);
        free(kp);
    }
}

/* Every variable the contract declares must be bound by the stream. */
static void cp_stream_bound(struct config_doc *d, size_t vars, const char *path,
                            const struct cp_stream *s)
{
    const struct contract *c = s->cs_contract != NULL ? s->cs_contract->cct_contract : NULL;

    for (size_t i = 0; c != NULL && i < c->c_n_variables; i++) {
        /* Written but invalid is reported where it is written. */
        bool bound = vars != JSON_TAPE_NONE &&
                     json_tape_type(&d->cd_tape, vars) == JSON_TAPE_OBJECT &&
                     config_doc_get(d, vars, c->c_variables[i]) != JSON_TAPE_NONE;
        if (!bound) {
            char q[DIAG_QUOTE_MAX];
            diag_quote(q, sizeof(q), s->cs_contract_name);
            config_doc_err(d, path, "contract \"%s\" declares variable \"%s\": bind it in \"vars\"",
                           q, c->c_variables[i]);
        }
    }
}

static void cp_stream_one(struct cp_loader *ld, size_t n, const char *path, struct cp_stream *s)
{
    struct config_doc *d = ld->cl_doc;
    const struct config_probe_env *env = ld->cl_env;
    static const char needs[] = "a stream needs \"url\", \"contract\" and \"within_s\"";
    char *kp;
    size_t v;

    if (!config_doc_is_object(d, n, path))
        return;
    config_keys_check(d, n, path, CONFIG_KEYS_STREAM);
    v = cp_required(d, n, path, "url", needs);
    if (v != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "url")) != NULL) {
        s->cs_url = cp_template(ld, v, kp);
        if (s->cs_url != NULL) {
            cp_url_check(d, s->cs_url, kp);
            s->cs_display = http_header_redact_url(template_text(s->cs_url));
            if (s->cs_display == NULL)
                config_doc_nomem(d);
        }
        free(kp);
    }
    v = cp_required(d, n, path, "contract", needs);
    if (v != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "contract")) != NULL) {
        s->cs_contract_name = config_doc_string(d, v, kp, false);
        if (s->cs_contract_name != NULL)
            s->cs_contract = config_contracts_get(env->cpe_contracts, d, env->cpe_contracts_dir,
                                                  s->cs_contract_name, kp);
        free(kp);
    }
    size_t vars = config_doc_get(d, n, "vars");
    if (vars != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "vars")) != NULL) {
        cp_stream_vars(ld, vars, kp, s);
        free(kp);
    }
    if (s->cs_contract != NULL && !config_doc_out_of_memory(d)) {
        kp = cp_ptr(d, path, vars != JSON_TAPE_NONE ? "vars" : "contract");
        if (kp != NULL)
            cp_stream_bound(d, vars, kp, s);
        free(kp);
    }
    cp_within(d, n, path, needs, &s->cs_within_ms);
}

static void cp_stream_item(struct cp_loader *ld, size_t item, const char *path)
{
    struct config_probe *p = ld->cl_probe;
    cp_stream_one(ld, item, path, &p->cp_streams[p->cp_n_streams++]);
}

static void cp_streams(struct cp_loader *ld, size_t n, const char *path)
{
    struct config_doc *d = ld->cl_doc;
    struct config_probe *p = ld->cl_probe;

    if (!cp_is_array(d, n, path, "streams"))
        return;
    p->cp_streams = calloc(json_tape_count(&d->cd_tape, n) + 1, sizeof(*p->cp_streams));
    if (p->cp_streams == NULL) {
        config_doc_nomem(d);
        return;
    }
    cp_each(ld, n, path, cp_stream_item);
}

size_t config_probe_stream_room(const struct config_doc *d, size_t n)
{
    const struct json_tape *t = &d->cd_tape;
    struct json_tape_iter it;
    size_t item, room = 0;

    if (json_tape_type(t, n) != JSON_TAPE_ARRAY)
        return 0;
    json_tape_iter_init(t, n, &it);
    while (json_tape_array_next(t, &it, &item)) {
        if (json_tape_type(t, item) != JSON_TAPE_OBJECT)
            continue;
        size_t s = config_doc_get(d, item, "streams");
        if (s != JSON_TAPE_NONE)
            room += json_tape_count(t, s);
    }
    return room;
}

/* ---- the probe ---- */

static void cp_name(struct cp_loader *ld, size_t n, const char *path)
{
    struct config_doc *d = ld->cl_doc;
    size_t v =
        cp_required(d, n, path, "name", "a probe needs \"name\", \"every_s\" and \"trigger\"");
    char *kp;

    if (v == JSON_TAPE_NONE || (kp = cp_ptr(d, path, "name")) == NULL)
        return;
    char *name = config_doc_string(d, v, kp, false);
    if (name != NULL) {
        char q[DIAG_QUOTE_MAX];
        diag_quote(q, sizeof(q), name);
        if (strlen(name) > CONFIG_NAME_MAX)
            config_doc_err(d, kp, "name \"%s\" is longer than %d bytes", q, CONFIG_NAME_MAX);
        else if (!subscription_name_chars_ok(name, strlen(name)))
            config_doc_err(d, kp, "invalid name \"%s\": use letters, digits, '_', '.' and '-'", q);
        else
            ld->cl_probe->cp_name = name;
        if (ld->cl_probe->cp_name == NULL)
            free(name);
    }
    free(kp);
}

struct config_probe *config_probe_load(struct config_doc *d, size_t n, const char *path,
                                       const struct config_probe_env *env)
{
    struct config_probe *p = calloc(1, sizeof(*p));
    struct cp_loader ld = {d, env, p};
    static const char needs[] = "a probe needs \"name\", \"every_s\" and \"trigger\"";
    char *kp;
    size_t v;

    if (p == NULL) {
        config_doc_nomem(d);
        return NULL;
    }
    p->cp_settings = env->cpe_defaults;
    p->cp_trigger_settings = *env->cpe_defaults;
    if (config_settings_strings_copy(&p->cp_trigger_strings, env->cpe_defaults) != 0) {
        config_doc_nomem(d);
        config_settings_strings_bind(&p->cp_trigger_settings, &p->cp_trigger_strings);
        return p;
    }
    config_settings_strings_bind(&p->cp_trigger_settings, &p->cp_trigger_strings);
    p->cp_timeout_ms = CONFIG_PROBE_TIMEOUT_DEFAULT_MS;
    p->cp_method = strdup("POST");
    p->cp_instance = strdup(env->cpe_instance);
    if (p->cp_method == NULL || p->cp_instance == NULL) {
        config_doc_nomem(d);
        return p;
    }
    if (!config_doc_is_object(d, n, path))
        return p;
    config_keys_check(d, n, path, CONFIG_KEYS_PROBE);
    cp_name(&ld, n, path);
    p->cp_description = config_doc_description(d, n, path);
    v = cp_required(d, n, path, "every_s", needs);
    if (v != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "every_s")) != NULL) {
        cp_seconds(d, v, kp, CONFIG_PROBE_EVERY_MIN_MS, CONFIG_PROBE_EVERY_MAX_MS, &p->cp_every_ms);
        free(kp);
    }
    v = cp_required(d, n, path, "trigger", needs);
    if (v != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "trigger")) != NULL) {
        cp_trigger(&ld, v, kp);
        free(kp);
    }
    size_t exp = config_doc_get(d, n, "expect"), str = config_doc_get(d, n, "streams");
    if (exp == JSON_TAPE_NONE && str == JSON_TAPE_NONE)
        config_doc_err(d, path, "a probe needs \"expect\" or \"streams\" (or both)");
    if (exp != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "expect")) != NULL) {
        cp_expect(&ld, exp, kp);
        free(kp);
    }
    if (str != JSON_TAPE_NONE && (kp = cp_ptr(d, path, "streams")) != NULL) {
        cp_streams(&ld, str, kp);
        free(kp);
    }
    json_t *canon = cp_json_of(d, n);
    if (canon != NULL) {
        p->cp_canon = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        json_decref(canon);
    }
    if (p->cp_canon == NULL)
        config_doc_nomem(d);
    return p;
}

void config_probe_name_repeated(struct config_doc *d, size_t i, size_t first)
{
    char *p = config_doc_pointer_index("/probes", i);
    char *fp = config_doc_pointer_index("/probes", first);
    char *np = p != NULL ? config_doc_pointer_lit(p, "name") : NULL;
    char *nfp = fp != NULL ? config_doc_pointer_lit(fp, "name") : NULL;
    struct json_position pos;

    if (np == NULL || nfp == NULL)
        config_doc_nomem(d);
    else if (json_position_in_tape(&d->cd_tape, nfp, 0, &pos) == JSON_POSITION_FOUND)
        config_doc_err(d, np, "duplicate probe name (first used at line %zu)", pos.jp_line);
    free(p);
    free(fp);
    free(np);
    free(nfp);
}

void config_probe_free(struct config_probe *p)
{
    if (p == NULL)
        return;
    free(p->cp_name);
    free(p->cp_description);
    free(p->cp_method);
    config_settings_strings_free(&p->cp_trigger_strings);
    template_free(p->cp_url);
    free(p->cp_display);
    for (size_t i = 0; p->cp_hdr_tpls != NULL && i < p->cp_headers.hs_n; i++)
        template_free(p->cp_hdr_tpls[i]);
    free(p->cp_hdr_tpls);
    config_headers_free(&p->cp_headers);
    json_decref(p->cp_body);
    template_free(p->cp_body_text);
    free(p->cp_status);
    for (size_t i = 0; i < p->cp_n_caps; i++) {
        free(p->cp_caps[i].cc_name);
        free(p->cp_caps[i].cc_pointer);
    }
    free(p->cp_caps);
    for (size_t i = 0; i < p->cp_n_exp; i++) {
        struct cp_expect *e = &p->cp_exp[i];
        free(e->ce_sub);
        free(e->ce_event);
        free(e->ce_kind);
        free(e->ce_variant);
        for (size_t j = 0; j < e->ce_n_match; j++) {
            free(e->ce_match[j].cm_pointer);
            template_free(e->ce_match[j].cm_value);
        }
        free(e->ce_match);
    }
    free(p->cp_exp);
    for (size_t i = 0; i < p->cp_n_streams; i++) {
        struct cp_stream *s = &p->cp_streams[i];
        template_free(s->cs_url);
        free(s->cs_display);
        free(s->cs_contract_name);
        for (size_t k = 0; k < s->cs_n_vars; k++) {
            free(s->cs_var_names[k]);
            template_free(s->cs_var_values[k]);
        }
        free(s->cs_var_names);
        free(s->cs_var_values);
    }
    free(p->cp_streams);
    free(p->cp_instance);
    free(p->cp_canon);
    free(p);
}

/* ---- accessors ---- */

const char *config_probe_name(const struct config_probe *p)
{
    return p->cp_name;
}

const char *config_probe_description(const struct config_probe *p)
{
    return p->cp_description;
}

uint64_t config_probe_every_ms(const struct config_probe *p)
{
    return p->cp_every_ms;
}

uint64_t config_probe_timeout_ms(const struct config_probe *p)
{
    return p->cp_timeout_ms;
}

bool config_probe_status_ok(const struct config_probe *p, long status)
{
    if (p->cp_n_status == 0)
        return status >= 200 && status <= 299;
    for (size_t i = 0; i < p->cp_n_status; i++)
        if (p->cp_status[i] == status)
            return true;
    return false;
}

const int *config_probe_expect_status(const struct config_probe *p, size_t *n)
{
    *n = p->cp_n_status;
    return p->cp_status;
}

size_t config_probe_capture_count(const struct config_probe *p)
{
    return p->cp_n_caps;
}

const char *config_probe_capture_name(const struct config_probe *p, size_t i)
{
    return i < p->cp_n_caps ? p->cp_caps[i].cc_name : NULL;
}

const char *config_probe_capture_pointer(const struct config_probe *p, size_t i)
{
    return i < p->cp_n_caps ? p->cp_caps[i].cc_pointer : NULL;
}

const char *config_probe_trigger_method(const struct config_probe *p)
{
    return p->cp_method;
}

const char *config_probe_trigger_display(const struct config_probe *p)
{
    return p->cp_display;
}

size_t config_probe_expect_count(const struct config_probe *p)
{
    return p->cp_n_exp;
}

void config_probe_expect_at(const struct config_probe *p, size_t i,
                            struct config_probe_expect_view *out)
{
    memset(out, 0, sizeof(*out));
    if (i >= p->cp_n_exp)
        return;
    const struct cp_expect *e = &p->cp_exp[i];
    out->cev_subscription = e->ce_sub;
    out->cev_event = e->ce_event;
    out->cev_kind = e->ce_kind;
    out->cev_variant = e->ce_variant;
    out->cev_n_match = e->ce_n_match;
    out->cev_within_ms = e->ce_within_ms;
}

const char *config_probe_match_pointer(const struct config_probe *p, size_t i, size_t j)
{
    if (i >= p->cp_n_exp || j >= p->cp_exp[i].ce_n_match)
        return NULL;
    return p->cp_exp[i].ce_match[j].cm_pointer;
}

const struct template *config_probe_match_value(const struct config_probe *p, size_t i, size_t j,
                                                bool *literal_json)
{
    if (i >= p->cp_n_exp || j >= p->cp_exp[i].ce_n_match)
        return NULL;
    if (literal_json != NULL)
        *literal_json = p->cp_exp[i].ce_match[j].cm_literal;
    return p->cp_exp[i].ce_match[j].cm_value;
}

size_t config_probe_stream_count(const struct config_probe *p)
{
    return p->cp_n_streams;
}

const struct template *config_probe_stream_url(const struct config_probe *p, size_t i)
{
    return i < p->cp_n_streams ? p->cp_streams[i].cs_url : NULL;
}

const char *config_probe_stream_display(const struct config_probe *p, size_t i)
{
    return i < p->cp_n_streams ? p->cp_streams[i].cs_display : NULL;
}

const struct contract *config_probe_stream_contract(const struct config_probe *p, size_t i)
{
    if (i >= p->cp_n_streams || p->cp_streams[i].cs_contract == NULL)
        return NULL;
    return p->cp_streams[i].cs_contract->cct_contract;
}

const char *config_probe_stream_contract_name(const struct config_probe *p, size_t i)
{
    return i < p->cp_n_streams ? p->cp_streams[i].cs_contract_name : NULL;
}

size_t config_probe_stream_var_count(const struct config_probe *p, size_t i)
{
    return i < p->cp_n_streams ? p->cp_streams[i].cs_n_vars : 0;
}

const char *config_probe_stream_var_name(const struct config_probe *p, size_t i, size_t k)
{
    if (i >= p->cp_n_streams || k >= p->cp_streams[i].cs_n_vars)
        return NULL;
    return p->cp_streams[i].cs_var_names[k];
}

const struct template *config_probe_stream_var_value(const struct config_probe *p, size_t i,
                                                     size_t k)
{
    if (i >= p->cp_n_streams || k >= p->cp_streams[i].cs_n_vars)
        return NULL;
    return p->cp_streams[i].cs_var_values[k];
}

uint64_t config_probe_stream_within_ms(const struct config_probe *p, size_t i)
{
    return i < p->cp_n_streams ? p->cp_streams[i].cs_within_ms : 0;
}

const struct config_settings *config_probe_trigger_settings(const struct config_probe *p)
{
    return &p->cp_trigger_settings;
}

const struct config_settings *config_probe_settings(const struct config_probe *p)
{
    return p->cp_settings;
}

/* ---- the request of one run ---- */

void config_probe_request_free(struct config_probe_request *r)
{
    if (r == NULL)
        return;
    free(r->cpr_method);
    config_secret_free(r->cpr_url);
    for (size_t i = 0; i < r->cpr_n_headers; i++)
        config_secret_free(r->cpr_headers[i]);
    free(r->cpr_headers);
    config_secret_free(r->cpr_body);
    memset(r, 0, sizeof(*r));
}

/* A copy of body value `v` with every string expanded. NULL with errno. */
static json_t *cp_body_expand(const json_t *v, template_lookup_fn lookup, void *ctx,
                              const char **missing)
{
    json_t *out = NULL;

    switch (json_typeof(v)) {
    case JSON_STRING: {
        struct template_error err;
        struct template *tp = template_compile(json_string_value(v), json_string_length(v), &err);
        if (tp == NULL)
            return NULL; /* checked at load: only ENOMEM */
        size_t len;
        char *s = template_expand(tp, lookup, ctx, missing, &len);
        template_free(tp);
        if (s == NULL)
            return NULL;
        if (!utf8_valid(s, len)) {
            free(s);
            errno = EILSEQ;
            return NULL;
        }
        out = json_stringn(s, len);
        free(s);
        break;
    }
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        out = json_object();
        json_object_foreach((json_t *)v, key, item)
        {
            json_t *c = out != NULL ? cp_body_expand(item, lookup, ctx, missing) : NULL;
            if (c == NULL || json_object_set_new(out, key, c) != 0) {
                int e = c == NULL && out != NULL ? errno : ENOMEM;
                json_decref(out);
                errno = e;
                return NULL;
            }
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        out = json_array();
        json_array_foreach(v, i, item)
        {
            json_t *c = out != NULL ? cp_body_expand(item, lookup, ctx, missing) : NULL;
            if (c == NULL || json_array_append_new(out, c) != 0) {
                int e = c == NULL && out != NULL ? errno : ENOMEM;
                json_decref(out);
                errno = e;
                return NULL;
            }
        }
        break;
    }
    default:
        out = json_deep_copy(v);
        break;
    }
    if (out == NULL && errno != ENOENT && errno != E2BIG && errno != EILSEQ)
        errno = ENOMEM;
    return out;
}

static int cp_request_body(const struct config_probe *p, template_lookup_fn lookup, void *ctx,
                           struct config_probe_request *out, const char **missing)
{
    if (p->cp_body_text != NULL) {
        out->cpr_body = template_expand(p->cp_body_text, lookup, ctx, missing, &out->cpr_body_len);
        return out->cpr_body != NULL ? 0 : -1;
    }
    if (p->cp_body == NULL)
        return 0;
    errno = 0;
    json_t *b = cp_body_expand(p->cp_body, lookup, ctx, missing);
    if (b == NULL)
        return -1;
    out->cpr_body = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(b);
    if (out->cpr_body == NULL) {
        errno = ENOMEM;
        return -1;
    }
    out->cpr_body_len = strlen(out->cpr_body);
    if (out->cpr_body_len > CONFIG_PROBE_BODY_MAX) {
        errno = E2BIG;
        return -1;
    }
    return 0;
}

static bool cp_has_header(const struct config_headers *hs, const char *name)
{
    for (size_t i = 0; i < hs->hs_n; i++)
        if (strcasecmp(hs->hs_items[i].cfh_name, name) == 0)
            return true;
    return false;
}

int config_probe_request_build(const struct config_probe *p, template_lookup_fn lookup, void *ctx,
                               struct config_probe_request *out, const char **missing)
{
    const struct config_headers *hs = &p->cp_headers;
    bool add_ct = p->cp_body != NULL && !cp_has_header(hs, "Content-Type");

    memset(out, 0, sizeof(*out));
    if (p->cp_url == NULL || p->cp_method == NULL) {
        errno = EINVAL;
        return -1;
    }
    out->cpr_method = strdup(p->cp_method);
    out->cpr_headers = calloc(hs->hs_n + 1, sizeof(*out->cpr_headers));
    if (out->cpr_method == NULL || out->cpr_headers == NULL) {
        errno = ENOMEM;
        goto fail;
    }
    out->cpr_url = template_expand(p->cp_url, lookup, ctx, missing, NULL);
    if (out->cpr_url == NULL)
        goto fail;
    for (size_t i = 0; i < hs->hs_n; i++) {
        const struct config_header *h = &hs->hs_items[i];
        const struct template *tp = p->cp_hdr_tpls != NULL ? p->cp_hdr_tpls[i] : NULL;
        char *line = NULL;
        if (tp == NULL) {
            line = strdup(h->cfh_line);
        } else {
            char *val = template_expand(tp, lookup, ctx, missing, NULL);
            if (val == NULL)
                goto fail;
            if (asprintf(&line, "%s: %s", h->cfh_name, val) < 0)
                line = NULL;
            config_secret_free(val);
        }
        if (line == NULL) {
            errno = ENOMEM;
            goto fail;
        }
        out->cpr_headers[out->cpr_n_headers++] = line;
    }
    if (add_ct) {
        out->cpr_headers[out->cpr_n_headers] = strdup("Content-Type: application/json");
        if (out->cpr_headers[out->cpr_n_headers] == NULL) {
            errno = ENOMEM;
            goto fail;
        }
        out->cpr_n_headers++;
    }
    if (cp_request_body(p, lookup, ctx, out, missing) != 0)
        goto fail;
    return 0;
fail:;
    int e = errno;
    config_probe_request_free(out);
    errno = e;
    return -1;
}

/* ---- equality ---- */

static bool cp_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool cp_contract_eq(const struct config_contract *a, const struct config_contract *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return cp_str_eq(a->cct_text, b->cct_text);
}

bool config_probe_equal(const struct config_probe *a, const struct config_probe *b)
{
    if (!cp_str_eq(a->cp_canon, b->cp_canon) || !cp_str_eq(a->cp_instance, b->cp_instance) ||
        !config_headers_equal(&a->cp_headers, &b->cp_headers) ||
        !config_settings_equal(a->cp_settings, b->cp_settings) ||
        a->cp_n_streams != b->cp_n_streams || a->cp_n_exp != b->cp_n_exp)
        return false;
    for (size_t i = 0; i < a->cp_n_streams; i++)
        if (!cp_contract_eq(a->cp_streams[i].cs_contract, b->cp_streams[i].cs_contract))
            return false;
    for (size_t i = 0; i < a->cp_n_exp; i++)
        if (!cp_contract_eq(a->cp_exp[i].ce_contract, b->cp_exp[i].ce_contract))
            return false;
    return true;
}
