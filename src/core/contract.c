/*
 * contract: compiles a merged contract document (docs/contracts.md) into the
 * immutable model of contract.h. Strict: an unknown key, a wrong type or a
 * dangling reference anywhere outside schemas is an error naming its JSON
 * path, because a contract that silently means less than its author wrote
 * would report a broken stream as healthy.
 */
#include "ssemon/core/contract.h"
#include "ssemon/base/utf8.h"
#include "ssemon/json/ecma_regex.h"
#include "ssemon/json/json_schema_compile.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Upper bounds that catch unit mistakes (ms written where s is meant). */
#define CONTRACT_MAX_SECONDS 86400.0
#define CONTRACT_MAX_TOLERANCE 100.0
#define CONTRACT_DEFAULT_TOLERANCE 2.0
#define CONTRACT_DEFAULT_CID_POINTER "/correlation_id"

#define CC_PATH_MAX sizeof(((struct contract_error *)0)->ce_path)

/* A schema added to the shared set, remembered so it can be checked alone
 * once the set has failed (json_schema_compile.h: a failed set is
 * unusable). */
struct cc_added {
    const json_t *ca_schema;
    char ca_path[CC_PATH_MAX];
    bool ca_found; /* no path: the compiler finds the schema */
};

struct cc {
    struct contract *cc_c;
    const json_t *cc_doc;
    const struct json_schema_options *cc_schema_opts; /* NULL: the defaults */
    bool cc_abstract_ok;
    struct contract_errors *cc_errs;
    bool cc_stop; /* out of memory: nothing more is checked */
    char cc_path[CC_PATH_MAX];
    size_t cc_len;
    bool cc_truncated;   /* the path outgrew cc_path: report what fits */
    bool cc_defs_failed; /* no schema set: no schema is checked */
    bool cc_set_broken;  /* the shared set failed: each schema is checked alone */
    size_t cc_alone;     /* schemas checked alone so far (bounded) */
    struct cc_added *cc_added;
    size_t cc_n_added, cc_cap_added;
};

static size_t cc_error_count(const struct cc *cc)
{
    return cc->cc_errs->ces_n + cc->cc_errs->ces_more + (cc->cc_errs->ces_oom ? 1 : 0);
}

/* Keeps one error (once: the same error found again is dropped). */
static void cc_record(struct cc *cc, const char *path, const char *message, const char *uri)
{
    struct contract_errors *l = cc->cc_errs;

    for (size_t i = 0; i < l->ces_n; i++) {
        const struct contract_error *e = &l->ces_items[i];
        if (strcmp(e->ce_path, path) == 0 && strcmp(e->ce_message, message) == 0 &&
            strcmp(e->ce_uri, uri) == 0)
            return;
    }
    if (l->ces_n >= CONTRACT_ERRORS_MAX) {
        l->ces_more++;
        return;
    }
    if (l->ces_n % 8 == 0) {
        struct contract_error *items = realloc(l->ces_items, (l->ces_n + 8) * sizeof(*items));
        if (items == NULL) {
            l->ces_oom = true;
            cc->cc_stop = true;
            return;
        }
        l->ces_items = items;
    }
    struct contract_error *e = &l->ces_items[l->ces_n++];
    memset(e, 0, sizeof(*e));
    snprintf(e->ce_path, sizeof(e->ce_path), "%s", path);
    snprintf(e->ce_message, sizeof(e->ce_message), "%s", message);
    snprintf(e->ce_uri, sizeof(e->ce_uri), "%s", uri);
}

static int cc_fail(struct cc *cc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cc_fail(struct cc *cc, const char *fmt, ...)
{
    char message[sizeof(((struct contract_error *)0)->ce_message)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    cc_record(cc, cc->cc_path, message, "");
    return -1;
}

static int cc_nomem(struct cc *cc)
{
    cc->cc_stop = true;
    return cc_fail(cc, "out of memory");
}

/* Appends one reference token (RFC 6901 escaped); returns the length to
 * restore with cc_pop. */
static size_t cc_push(struct cc *cc, const char *key)
{
    size_t saved = cc->cc_len;
    size_t cap = sizeof(cc->cc_path);

    if (cc->cc_truncated || cc->cc_len + 1 >= cap) {
        cc->cc_truncated = true;
        return saved;
    }
    cc->cc_path[cc->cc_len++] = '/';
    for (const char *p = key; *p != '\0'; p++) {
        const char *rep = *p == '~' ? "~0" : *p == '/' ? "~1" : NULL;
        size_t n = rep ? 2 : 1;
        if (cc->cc_len + n >= cap) {
            cc->cc_truncated = true;
            break;
        }
        if (rep) {
            memcpy(cc->cc_path + cc->cc_len, rep, 2);
        } else {
            cc->cc_path[cc->cc_len] = *p;
        }
        cc->cc_len += n;
    }
    cc->cc_path[cc->cc_len] = '\0';
    return saved;
}

static size_t cc_push_index(struct cc *cc, size_t i)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%zu", i);
    return cc_push(cc, buf);
}

static void cc_pop(struct cc *cc, size_t saved)
{
    if (cc->cc_len == saved && !cc->cc_truncated)
        return;
    cc->cc_len = saved;
    cc->cc_path[saved] = '\0';
    cc->cc_truncated = false;
}

static const char *cc_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

/* Fails unless every key of `obj` is in the NULL-terminated `allowed`. */
static int cc_check_keys(struct cc *cc, const json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (ok)
            continue;
        char list[200];
        size_t n = 0;
        list[0] = '\0';
        for (size_t i = 0; allowed[i] != NULL && n < sizeof(list); i++) {
            int w = snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", allowed[i]);
            if (w < 0)
                break;
            n += (size_t)w;
        }
        /* An unknown key is ignored by the rest: the walk goes on. */
        size_t saved = cc_push(cc, key);
        cc_fail(cc, "unknown key \"%s\" (allowed here: %s)", key, list);
        cc_pop(cc, saved);
    }
    return 0;
}

/* Type checks at the current path (the value's own). */
static int cc_want(struct cc *cc, const json_t *v, bool ok, const char *what)
{
    if (ok)
        return 0;
    return cc_fail(cc, "expected %s, got %s", what, cc_type_name(v));
}

/* Looks up an optional member and checks it with `check`; *out is NULL when
 * absent. The path points at the member while `check` runs. */
static int cc_member(struct cc *cc, const json_t *obj, const char *key, bool required,
                     const json_t **out)
{
    *out = json_object_get(obj, key);
    if (*out == NULL && required)
        return cc_fail(cc, "missing required key \"%s\"", key);
    return 0;
}

static int cc_string_member(struct cc *cc, const json_t *obj, const char *key, bool required,
                            const char **out)
{
    const json_t *v;

    *out = NULL;
    if (cc_member(cc, obj, key, required, &v) < 0)
        return -1;
    if (v == NULL)
        return 0;
    size_t saved = cc_push(cc, key);
    if (cc_want(cc, v, json_is_string(v), "a string") < 0)
        return -1;
    cc_pop(cc, saved);
    *out = json_string_value(v);
    return 0;
}

static int cc_bool_member(struct cc *cc, const json_t *obj, const char *key, bool dflt, bool *out)
{
    const json_t *v = json_object_get(obj, key);

    *out = dflt;
    if (v == NULL)
        return 0;
    size_t saved = cc_push(cc, key);
    if (cc_want(cc, v, json_is_boolean(v), "true or false") < 0)
        return -1;
    cc_pop(cc, saved);
    *out = json_is_true(v);
    return 0;
}

/* A number in [lo, hi]; *present tells whether the key was there. */
static int cc_number_member(struct cc *cc, const json_t *obj, const char *key, double lo, double hi,
                            double *out, bool *present)
{
    const json_t *v = json_object_get(obj, key);

    *present = v != NULL;
    if (v == NULL)
        return 0;
    size_t saved = cc_push(cc, key);
    if (cc_want(cc, v, json_is_number(v), "a number") < 0)
        return -1;
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return cc_fail(cc, "%g is out of range [%g, %g]", d, lo, hi);
    cc_pop(cc, saved);
    *out = d;
    return 0;
}

static int cc_object(struct cc *cc, const json_t *v)
{
    return cc_want(cc, v, json_is_object(v), "an object");
}

static char *cc_strdup(struct cc *cc, const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        cc_nomem(cc);
    return d;
}

/* RFC 6901: "" or '/'-separated tokens where '~' is only "~0" or "~1". */
static bool contract_pointer_valid(const char *p)
{
    if (*p == '\0')
        return true;
    if (*p != '/')
        return false;
    for (; *p != '\0'; p++)
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return false;
    return true;
}

static int cc_pointer_member(struct cc *cc, const json_t *obj, const char *key, bool required,
                             char **out)
{
    const char *s;

    *out = NULL;
    if (cc_string_member(cc, obj, key, required, &s) < 0)
        return -1;
    if (s == NULL)
        return 0;
    if (!contract_pointer_valid(s)) {
        cc_push(cc, key);
        return cc_fail(cc,
                       "\"%s\" is not a JSON pointer (RFC 6901: empty, or '/'-separated tokens "
                       "with '~' written ~0 or ~1)",
                       s);
    }
    *out = cc_strdup(cc, s);
    return *out ? 0 : -1;
}

/* HTTP token characters (RFC 9110 tchar). */
static bool contract_header_name_valid(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
            continue;
        if (strchr("!#$%&'*+-.^_`|~", ch) == NULL)
            return false;
    }
    return true;
}

/* Every schema is inside the contract document, so json_schema names the
 * offending value by its path from the document's root (also when it is in
 * a definition). */
static int cc_schema_fail(struct cc *cc, const struct json_schema_error *serr)
{
    char message[sizeof(((struct contract_error *)0)->ce_message)];

    /* a compile error is short; a longer one is cut on a character */
    size_t n = utf8_cut(serr->se_msg, strlen(serr->se_msg), sizeof(message) - 1);
    snprintf(message, sizeof(message), "%.*s", (int)n, serr->se_msg);
    cc_record(cc, serr->se_path, message, serr->se_uri);
    return -1;
}

static struct json_schema_set *cc_set_new(struct cc *cc, struct json_schema_error *serr)
{
    if (cc->cc_schema_opts != NULL)
        return json_schema_compile_new_opts(cc->cc_doc, cc->cc_schema_opts, serr);
    return json_schema_compile_new(cc->cc_doc, NULL, serr);
}

/* Once the shared set has failed, a schema is checked in a set of its own
 * (the definitions again, the schema, its "$ref"s resolved). At most
 * CONTRACT_ERRORS_MAX schemas are: the cost stays bounded. */
static void cc_schema_alone(struct cc *cc, const json_t *schema, const char *path)
{
    struct json_schema_error serr;

    if (cc->cc_stop || cc->cc_alone >= CONTRACT_ERRORS_MAX)
        return;
    cc->cc_alone++;
    memset(&serr, 0, sizeof(serr));
    struct json_schema_set *set = cc_set_new(cc, &serr);
    if (set == NULL) {
        cc_schema_fail(cc, &serr);
        return;
    }
    if (json_schema_compile_add(set, schema, path, &serr) == NULL ||
        !json_schema_compile_finish(set, &serr))
        cc_schema_fail(cc, &serr);
    json_schema_compile_free(set);
}

/* The shared set failed: the schemas it held are checked alone, for the
 * errors only its completion would have found (their "$ref"s). */
static void cc_set_break(struct cc *cc)
{
    cc->cc_set_broken = true;
    for (size_t i = 0; i < cc->cc_n_added; i++)
        cc_schema_alone(cc, cc->cc_added[i].ca_schema,
                        cc->cc_added[i].ca_found ? NULL : cc->cc_added[i].ca_path);
    free(cc->cc_added);
    cc->cc_added = NULL;
    cc->cc_n_added = cc->cc_cap_added = 0;
}

static int cc_remember(struct cc *cc, const json_t *schema, const char *path)
{
    if (cc->cc_n_added == cc->cc_cap_added) {
        size_t cap = cc->cc_cap_added ? cc->cc_cap_added * 2 : 8;
        struct cc_added *a = realloc(cc->cc_added, cap * sizeof(*a));
        if (a == NULL)
            return cc_nomem(cc);
        cc->cc_added = a;
        cc->cc_cap_added = cap;
    }
    struct cc_added *a = &cc->cc_added[cc->cc_n_added++];
    a->ca_schema = schema;
    a->ca_found = path == NULL;
    snprintf(a->ca_path, sizeof(a->ca_path), "%s", path ? path : "");
    return 0;
}

/* Compiles the schema at the current path into the contract's set. NULL
 * when it does not compile (one error for the schema) or cannot be
 * checked (the definitions failed, or the set did before). */
static const struct json_schema *cc_schema(struct cc *cc, const json_t *schema)
{
    struct json_schema_error serr;
    /* A path cut short is no address: then the compiler finds the schema. */
    const char *path = cc->cc_truncated ? NULL : cc->cc_path;

    if (cc->cc_defs_failed || cc->cc_stop)
        return NULL;
    if (cc->cc_set_broken) {
        cc_schema_alone(cc, schema, path);
        return NULL;
    }
    memset(&serr, 0, sizeof(serr));
    const struct json_schema *s = json_schema_compile_add(cc->cc_c->c_schemas, schema, path, &serr);
    if (s == NULL) {
        cc_schema_fail(cc, &serr);
        cc_set_break(cc);
        return NULL;
    }
    if (cc_remember(cc, schema, path) < 0)
        return NULL;
    return s;
}

/* ---- response ---- */

static int cc_header_rule(struct cc *cc, struct contract_header *h, const json_t *rule)
{
    static const char *const keys[] = {"equals", "pattern", "absent", "present", "$comment", NULL};

    if (json_is_string(rule)) {
        h->ch_equals = cc_strdup(cc, json_string_value(rule));
        return h->ch_equals ? 0 : -1;
    }
    if (!json_is_object(rule))
        return cc_fail(cc, "expected a string (the exact value) or an object, got %s",
                       cc_type_name(rule));
    if (cc_check_keys(cc, rule, keys) < 0)
        return -1;
    const char *equals, *pattern;
    bool absent, present;
    if (cc_string_member(cc, rule, "equals", false, &equals) < 0 ||
        cc_string_member(cc, rule, "pattern", false, &pattern) < 0 ||
        cc_bool_member(cc, rule, "absent", false, &absent) < 0 ||
        cc_bool_member(cc, rule, "present", false, &present) < 0)
        return -1;
    int n = (equals != NULL) + (pattern != NULL) + (json_object_get(rule, "absent") != NULL) +
            (json_object_get(rule, "present") != NULL);
    if (n != 1)
        return cc_fail(cc, "a header rule needs exactly one of \"equals\", \"pattern\", "
                           "\"absent\": true, \"present\": true");
    if (json_object_get(rule, "absent") && !absent) {
        cc_push(cc, "absent");
        return cc_fail(cc, "\"absent\" can only be true (remove the rule instead)");
    }
    if (json_object_get(rule, "present") && !present) {
        cc_push(cc, "present");
        return cc_fail(cc, "\"present\" can only be true (use \"absent\": true)");
    }
    h->ch_absent = absent;
    if (equals != NULL) {
        h->ch_equals = cc_strdup(cc, equals);
        return h->ch_equals ? 0 : -1;
    }
    if (pattern != NULL) {
        char why[ECMA_REGEX_WHY_MAX];
        enum ecma_regex_status st =
            ecma_regex_compile(&h->ch_re, pattern, strlen(pattern), why, sizeof(why));
        if (st != ECMA_REGEX_OK) {
            cc_push(cc, "pattern");
            if (st == ECMA_REGEX_INVALID)
                return cc_fail(cc, "invalid pattern: %s", why);
            return cc_fail(cc, "pattern refused: %s", why);
        }
        h->ch_pattern = strdup(pattern);
        if (h->ch_pattern == NULL) {
            ecma_regex_free(h->ch_re);
            h->ch_re = NULL;
            return cc_nomem(cc);
        }
    }
    return 0;
}

/* One header's rule, at its path. */
static int cc_header(struct cc *cc, const char *name, const json_t *rule)
{
    struct contract *c = cc->cc_c;

    if (!contract_header_name_valid(name))
        return cc_fail(cc, "\"%s\" is not a valid HTTP header name", name);
    for (size_t i = 0; i < c->c_n_headers; i++)
        if (strcasecmp(c->c_headers[i].ch_name, name) == 0)
            return cc_fail(cc, "header \"%s\" has two rules (names are case-insensitive)", name);
    struct contract_header *h = &c->c_headers[c->c_n_headers];
    h->ch_name = cc_strdup(cc, name);
    if (h->ch_name == NULL)
        return -1;
    c->c_n_headers++;
    return cc_header_rule(cc, h, rule);
}

static int cc_headers(struct cc *cc, const json_t *headers)
{
    struct contract *c = cc->cc_c;
    const char *name;
    json_t *rule;

    if (cc_object(cc, headers) < 0)
        return -1;
    size_t n = json_object_size(headers);
    if (n == 0)
        return 0;
    c->c_headers = calloc(n, sizeof(*c->c_headers));
    if (c->c_headers == NULL)
        return cc_nomem(cc);
    json_object_foreach((json_t *)headers, name, rule)
    {
        size_t saved = cc_push(cc, name);
        if (cc_header(cc, name, rule) < 0 && cc->cc_stop)
            return -1;
        cc_pop(cc, saved);
    }
    return 0;
}

static int cc_response(struct cc *cc, const json_t *resp)
{
    static const char *const keys[] = {"status", "headers", "$comment", NULL};

    if (cc_object(cc, resp) < 0 || cc_check_keys(cc, resp, keys) < 0)
        return -1;
    const json_t *status = json_object_get(resp, "status");
    if (status != NULL) {
        size_t saved = cc_push(cc, "status");
        if (cc_want(cc, status, json_is_integer(status), "an integer") == 0) {
            json_int_t s = json_integer_value(status);
            if (s < 100 || s > 599)
                cc_fail(cc, "%lld is not an HTTP status (100..599)", (long long)s);
            else
                cc->cc_c->c_status = (int)s;
        }
        cc_pop(cc, saved);
    }
    const json_t *headers = json_object_get(resp, "headers");
    if (headers != NULL) {
        size_t saved = cc_push(cc, "headers");
        if (cc_headers(cc, headers) < 0)
            return -1;
        cc_pop(cc, saved);
    }
    return 0;
}

/* ---- variables, envelope ---- */

static int cc_variable(struct cc *cc, const json_t *v)
{
    struct contract *c = cc->cc_c;

    if (cc_want(cc, v, json_is_string(v), "a string") < 0)
        return -1;
    const char *name = json_string_value(v);
    if (name[0] == '\0' || strchr(name, '=') != NULL)
        return cc_fail(cc, "a variable name is non-empty and has no '='");
    if (contract_has_variable(c, name))
        return cc_fail(cc, "variable \"%s\" is declared twice", name);
    c->c_variables[c->c_n_variables] = cc_strdup(cc, name);
    if (c->c_variables[c->c_n_variables] == NULL)
        return -1;
    c->c_n_variables++;
    return 0;
}

static int cc_variables(struct cc *cc, const json_t *vars)
{
    struct contract *c = cc->cc_c;
    size_t i;
    json_t *v;

    if (cc_want(cc, vars, json_is_array(vars), "an array of names") < 0)
        return -1;
    if (json_array_size(vars) == 0)
        return 0;
    c->c_variables = calloc(json_array_size(vars), sizeof(*c->c_variables));
    if (c->c_variables == NULL)
        return cc_nomem(cc);
    json_array_foreach(vars, i, v)
    {
        size_t saved = cc_push_index(cc, i);
        if (cc_variable(cc, v) < 0 && cc->cc_stop)
            return -1;
        cc_pop(cc, saved);
    }
    return 0;
}

/* The variable named by `v` (at the current path) must be declared. */
static int cc_variable_ref(struct cc *cc, const json_t *v, char **out)
{
    if (cc_want(cc, v, json_is_string(v), "a variable name") < 0)
        return -1;
    if (!contract_has_variable(cc->cc_c, json_string_value(v)))
        return cc_fail(cc, "variable \"%s\" is not declared in \"variables\"",
                       json_string_value(v));
    *out = cc_strdup(cc, json_string_value(v));
    return *out ? 0 : -1;
}

static int cc_envelope(struct cc *cc, const json_t *env)
{
    static const char *const keys[] = {"type", "payload", "$comment", NULL};

    if (cc_object(cc, env) < 0 || cc_check_keys(cc, env, keys) < 0)
        return -1;
    size_t saved = cc->cc_len;
    int rc = cc_pointer_member(cc, env, "type", true, &cc->cc_c->c_env_type);
    if (cc->cc_stop)
        return -1;
    cc_pop(cc, saved);
    if (cc_pointer_member(cc, env, "payload", false, &cc->cc_c->c_env_payload) < 0)
        return -1;
    return rc;
}

/* ---- events ---- */

static int cc_variants(struct cc *cc, struct contract_event *e, const json_t *variants)
{
    const char *value;
    json_t *schema;

    if (cc_object(cc, variants) < 0)
        return -1;
    if (json_object_size(variants) == 0)
        return cc_fail(cc, "at least one variant is needed");
    e->ce_variants = calloc(json_object_size(variants), sizeof(*e->ce_variants));
    if (e->ce_variants == NULL)
        return cc_nomem(cc);
    json_object_foreach((json_t *)variants, value, schema)
    {
        size_t saved = cc_push(cc, value);
        struct contract_variant *cv = &e->ce_variants[e->ce_n_variants];
        cv->cv_value = cc_strdup(cc, value);
        if (cv->cv_value == NULL)
            return -1;
        e->ce_n_variants++;
        /* A schema that does not compile is its own error: go on. */
        cv->cv_schema = cc_schema(cc, schema);
        if (cc->cc_stop)
            return -1;
        cc_pop(cc, saved);
    }
    return 0;
}

static int cc_equals(struct cc *cc, struct contract_event *e, const json_t *equals)
{
    const char *ptr;
    json_t *var;

    if (cc_object(cc, equals) < 0)
        return -1;
    if (json_object_size(equals) == 0)
        return 0;
    e->ce_equals = calloc(json_object_size(equals), sizeof(*e->ce_equals));
    if (e->ce_equals == NULL)
        return cc_nomem(cc);
    json_object_foreach((json_t *)equals, ptr, var)
    {
        size_t saved = cc_push(cc, ptr);
        if (!contract_pointer_valid(ptr)) {
            cc_fail(cc, "\"%s\" is not a JSON pointer (RFC 6901)", ptr);
            cc_pop(cc, saved);
            continue;
        }
        struct contract_equals *eq = &e->ce_equals[e->ce_n_equals];
        eq->ceq_pointer = cc_strdup(cc, ptr);
        if (eq->ceq_pointer == NULL)
            return -1;
        e->ce_n_equals++;
        if (cc_variable_ref(cc, var, &eq->ceq_var) < 0 && cc->cc_stop)
            return -1;
        cc_pop(cc, saved);
    }
    return 0;
}

static int cc_event(struct cc *cc, struct contract_event *e, const json_t *spec)
{
    static const char *const keys[] = {"data",     "schema",    "discriminator",  "variants",
                                       "equals",   "heartbeat", "correlation_id", "description",
                                       "$comment", NULL};
    const char *data, *description;

    if (cc_object(cc, spec) < 0 || cc_check_keys(cc, spec, keys) < 0)
        return -1;
    if (cc_string_member(cc, spec, "data", false, &data) < 0 ||
        cc_string_member(cc, spec, "description", false, &description) < 0)
        return -1;
    e->ce_data = CONTRACT_DATA_JSON;
    if (data != NULL && strcmp(data, "text") == 0) {
        e->ce_data = CONTRACT_DATA_TEXT;
    } else if (data != NULL && strcmp(data, "json") != 0) {
        cc_push(cc, "data");
        return cc_fail(cc, "\"%s\" is not a data encoding (\"json\" or \"text\")", data);
    }
    if (e->ce_data == CONTRACT_DATA_TEXT) {
        static const char *const json_only[] = {"schema", "discriminator", "variants", "equals"};
        for (size_t i = 0; i < sizeof(json_only) / sizeof(json_only[0]); i++) {
            if (json_object_get(spec, json_only[i]) != NULL) {
                cc_push(cc, json_only[i]);
                return cc_fail(cc, "\"%s\" needs \"data\": \"json\" (text data is never parsed)",
                               json_only[i]);
            }
        }
    }
    if (cc_bool_member(cc, spec, "heartbeat", false, &e->ce_heartbeat) < 0 ||
        cc_bool_member(cc, spec, "correlation_id", true, &e->ce_correlation) < 0)
        return -1;

    const json_t *schema = json_object_get(spec, "schema");
    if (schema != NULL) {
        size_t saved = cc_push(cc, "schema");
        /* A schema that does not compile is its own error: go on. */
        e->ce_schema = cc_schema(cc, schema);
        if (cc->cc_stop)
            return -1;
        cc_pop(cc, saved);
    }

    if (cc_pointer_member(cc, spec, "discriminator", false, &e->ce_discriminator) < 0)
        return -1;
    const json_t *variants = json_object_get(spec, "variants");
    if (e->ce_discriminator != NULL && variants == NULL)
        return cc_fail(cc, "\"discriminator\" needs \"variants\"");
    if (variants != NULL) {
        size_t saved = cc_push(cc, "variants");
        if (e->ce_discriminator == NULL)
            return cc_fail(cc, "\"variants\" needs \"discriminator\"");
        if (cc_variants(cc, e, variants) < 0)
            return -1;
        cc_pop(cc, saved);
    }

    const json_t *equals = json_object_get(spec, "equals");
    if (equals != NULL) {
        size_t saved = cc_push(cc, "equals");
        if (cc_equals(cc, e, equals) < 0)
            return -1;
        cc_pop(cc, saved);
    }
    return 0;
}

static int cc_events(struct cc *cc, const json_t *events)
{
    struct contract *c = cc->cc_c;
    const char *name;
    json_t *spec;

    if (cc_object(cc, events) < 0)
        return -1;
    if (json_object_size(events) == 0)
        return cc_fail(cc, "a contract declares at least one event kind");
    c->c_events = calloc(json_object_size(events), sizeof(*c->c_events));
    if (c->c_events == NULL)
        return cc_nomem(cc);
    json_object_foreach((json_t *)events, name, spec)
    {
        size_t saved = cc_push(cc, name);
        if (name[0] == '\0' || strpbrk(name, "\r\n") != NULL) {
            cc_fail(cc, "an event kind is a non-empty SSE event type (no CR or LF)");
            cc_pop(cc, saved);
            continue;
        }
        struct contract_event *e = &c->c_events[c->c_n_events];
        e->ce_name = cc_strdup(cc, name);
        if (e->ce_name == NULL)
            return -1;
        c->c_n_events++;
        /* Each kind on its own: one that fails does not hide the next. */
        if (cc_event(cc, e, spec) < 0 && cc->cc_stop)
            return -1;
        cc_pop(cc, saved);
    }
    return 0;
}

/* ---- correlation id ---- */

static int cc_correlation(struct cc *cc, const json_t *cid)
{
    static const char *const keys[] = {"pointer", "presence", "consistent",
                                       "equals",  "$comment", NULL};
    struct contract_correlation *cc_cid = &cc->cc_c->c_cid;
    const char *presence;

    if (cc_object(cc, cid) < 0 || cc_check_keys(cc, cid, keys) < 0)
        return -1;
    if (cc_string_member(cc, cid, "presence", false, &presence) < 0)
        return -1;
    if (presence == NULL || strcmp(presence, "optional") == 0) {
        cc_cid->cc_presence = CONTRACT_CID_OPTIONAL;
    } else if (strcmp(presence, "required") == 0) {
        cc_cid->cc_presence = CONTRACT_CID_REQUIRED;
    } else if (strcmp(presence, "absent") == 0) {
        cc_cid->cc_presence = CONTRACT_CID_ABSENT;
    } else {
        cc_push(cc, "presence");
        return cc_fail(cc, "\"%s\" is not a presence (\"required\", \"optional\" or \"absent\")",
                       presence);
    }
    if (cc_pointer_member(cc, cid, "pointer", false, &cc_cid->cc_pointer) < 0)
        return -1;
    if (cc_cid->cc_pointer == NULL) {
        cc_cid->cc_pointer = cc_strdup(cc, CONTRACT_DEFAULT_CID_POINTER);
        if (cc_cid->cc_pointer == NULL)
            return -1;
    }
    if (cc_cid->cc_pointer[0] == '\0') {
        cc_push(cc, "pointer");
        return cc_fail(cc, "the correlation id is a member of the payload, not the whole payload");
    }
    if (cc_bool_member(cc, cid, "consistent", false, &cc_cid->cc_consistent) < 0)
        return -1;
    const json_t *eq = json_object_get(cid, "equals");
    if (eq != NULL) {
        size_t saved = cc_push(cc, "equals");
        if (cc_variable_ref(cc, eq, &cc_cid->cc_equals_var) < 0)
            return -1;
        cc_pop(cc, saved);
    }
    if (cc_cid->cc_presence == CONTRACT_CID_ABSENT &&
        (cc_cid->cc_consistent || cc_cid->cc_equals_var != NULL))
        return cc_fail(cc, "\"presence\": \"absent\" contradicts \"consistent\" and \"equals\"");
    return 0;
}

/* ---- order ---- */

/* Splits a transition key into kind and variant: the whole key when it
 * names a kind (kinds may contain ':'), else at the last ':'. Returns the
 * kind's index or (size_t)-1; *klen is the kind's part of the key. */
static size_t cc_transition_kind(const struct contract *c, const char *key, size_t *klen,
                                 const char **variant)
{
    const char *colon = strrchr(key, ':');
    size_t ev;

    *klen = strlen(key);
    *variant = NULL;
    ev = contract_event_index(c, key, *klen);
    if (ev != (size_t)-1 || colon == NULL)
        return ev;
    *klen = (size_t)(colon - key);
    *variant = colon + 1;
    return contract_event_index(c, key, *klen);
}

static int cc_transition(struct cc *cc, struct contract_transition *t, const char *key,
                         const json_t *target)
{
    const struct contract *c = cc->cc_c;
    const char *variant;
    size_t klen;
    size_t ev = cc_transition_kind(c, key, &klen, &variant);

    if (ev == (size_t)-1)
        return cc_fail(cc, "event kind \"%.*s\" is not declared in \"events\"", (int)klen, key);
    const struct contract_event *e = &c->c_events[ev];
    if (variant != NULL) {
        if (e->ce_n_variants == 0)
            return cc_fail(cc, "event kind \"%s\" has no variants (no \"discriminator\")",
                           e->ce_name);
        bool found = false;
        for (size_t i = 0; i < e->ce_n_variants && !found; i++)
            found = strcmp(e->ce_variants[i].cv_value, variant) == 0;
        if (!found)
            return cc_fail(cc, "\"%s\" is not a declared variant of event kind \"%s\"", variant,
                           e->ce_name);
        t->ct_variant = cc_strdup(cc, variant);
        if (t->ct_variant == NULL)
            return -1;
    }
    t->ct_event = ev;
    if (cc_want(cc, target, json_is_string(target), "a state name") < 0)
        return -1;
    t->ct_target = contract_state_index(c, json_string_value(target));
    if (t->ct_target == CONTRACT_NO_STATE)
        return cc_fail(cc, "state \"%s\" is not declared in \"states\"", json_string_value(target));
    return 0;
}

/* One kind may not be matched both by a bare "kind" and by "kind:variant"
 * transitions of one state: which would win is not obvious to a reader. */
static int cc_transition_overlap(struct cc *cc, const struct contract_state *s, size_t last)
{
    const struct contract_transition *t = &s->cs_on[last];

    for (size_t i = 0; i < last; i++) {
        const struct contract_transition *o = &s->cs_on[i];
        if (o->ct_event != t->ct_event)
            continue;
        if (o->ct_variant == NULL || t->ct_variant == NULL)
            return cc_fail(cc,
                           "event kind \"%s\" is matched both with and without a variant in "
                           "this state",
                           cc->cc_c->c_events[t->ct_event].ce_name);
    }
    return 0;
}

/* "within_ms": how long the stream may stay in the state after entering
 * it; a positive integer, at most CONTRACT_MAX_SECONDS. A final state has
 * none: the stream is meant to end there, not to leave it. */
static int cc_state_within(struct cc *cc, struct contract_state *s, const json_t *spec)
{
    const json_t *w = json_object_get(spec, "within_ms");

    if (w == NULL)
        return 0;
    size_t saved = cc_push(cc, "within_ms");
    if (cc_want(cc, w, json_is_integer(w), "an integer (milliseconds)") < 0)
        return -1;
    json_int_t ms = json_integer_value(w);
    if (ms < 1 || ms > (json_int_t)(CONTRACT_MAX_SECONDS * 1000.0))
        return cc_fail(cc, "%lld is out of range [1, %lld]", (long long)ms,
                       (long long)(CONTRACT_MAX_SECONDS * 1000.0));
    if (s->cs_final)
        return cc_fail(cc, "a final state has no deadline: the server must end the stream there");
    cc_pop(cc, saved);
    s->cs_within_ms = (uint64_t)ms;
    return 0;
}

static int cc_state_body(struct cc *cc, struct contract_state *s, const json_t *spec)
{
    static const char *const keys[] = {"on", "final", "within_ms", "description", "$comment", NULL};
    const char *key, *description;
    json_t *target;

    if (cc_object(cc, spec) < 0 || cc_check_keys(cc, spec, keys) < 0)
        return -1;
    if (cc_bool_member(cc, spec, "final", false, &s->cs_final) < 0 ||
        cc_string_member(cc, spec, "description", false, &description) < 0 ||
        cc_state_within(cc, s, spec) < 0)
        return -1;
    const json_t *on = json_object_get(spec, "on");
    if (on == NULL)
        return 0;
    size_t saved = cc_push(cc, "on");
    if (cc_object(cc, on) < 0)
        return -1;
    if (s->cs_final && json_object_size(on) > 0)
        return cc_fail(cc, "a final state has no transitions: the server must end the stream");
    if (json_object_size(on) > 0) {
        s->cs_on = calloc(json_object_size(on), sizeof(*s->cs_on));
        if (s->cs_on == NULL)
            return cc_nomem(cc);
    }
    json_object_foreach((json_t *)on, key, target)
    {
        size_t saved_key = cc_push(cc, key);
        /* Counted first, so contract_free sees what a failure left. */
        s->cs_n_on++;
        /* Each transition on its own; a failed one is not compared. */
        if (cc_transition(cc, &s->cs_on[s->cs_n_on - 1], key, target) < 0) {
            if (cc->cc_stop)
                return -1;
            struct contract_transition *t = &s->cs_on[--s->cs_n_on];
            free(t->ct_variant);
            memset(t, 0, sizeof(*t));
        } else if (cc_transition_overlap(cc, s, s->cs_n_on - 1) < 0 && cc->cc_stop) {
            return -1;
        }
        cc_pop(cc, saved_key);
    }
    cc_pop(cc, saved);
    return 0;
}

static int cc_order(struct cc *cc, const json_t *order)
{
    static const char *const keys[] = {"initial", "states", "$comment", NULL};
    struct contract *c = cc->cc_c;
    const char *initial, *name;
    const json_t *states;
    json_t *spec;

    if (cc_object(cc, order) < 0 || cc_check_keys(cc, order, keys) < 0)
        return -1;
    if (cc_member(cc, order, "states", true, &states) < 0)
        return -1;
    size_t saved = cc_push(cc, "states");
    if (cc_object(cc, states) < 0)
        return -1;
    if (json_object_size(states) == 0)
        return cc_fail(cc, "an order needs at least one state");
    c->c_states = calloc(json_object_size(states), sizeof(*c->c_states));
    if (c->c_states == NULL)
        return cc_nomem(cc);
    /* Names first, so transitions may target states declared later. */
    json_object_foreach((json_t *)states, name, spec)
    {
        if (name[0] == '\0') {
            cc_push(cc, name);
            return cc_fail(cc, "a state name is non-empty");
        }
        c->c_states[c->c_n_states].cs_name = cc_strdup(cc, name);
        if (c->c_states[c->c_n_states].cs_name == NULL)
            return -1;
        c->c_n_states++;
    }
    size_t i = 0;
    json_object_foreach((json_t *)states, name, spec)
    {
        size_t saved_state = cc_push(cc, name);
        /* Each state on its own. */
        if (cc_state_body(cc, &c->c_states[i++], spec) < 0 && cc->cc_stop)
            return -1;
        cc_pop(cc, saved_state);
    }
    cc_pop(cc, saved);

    if (cc_string_member(cc, order, "initial", true, &initial) < 0)
        return -1;
    c->c_initial = contract_state_index(c, initial);
    if (c->c_initial == CONTRACT_NO_STATE) {
        cc_push(cc, "initial");
        return cc_fail(cc, "state \"%s\" is not declared in \"states\"", initial);
    }
    if (c->c_states[c->c_initial].cs_final) {
        cc_push(cc, "initial");
        return cc_fail(cc, "the initial state cannot be final");
    }
    return 0;
}

/* ---- liveness and timing ---- */

static int cc_heartbeat(struct cc *cc, const json_t *hb)
{
    static const char *const keys[] = {"interval_s",         "tolerance", "comments",
                                       "reset_on_any_event", "$comment",  NULL};
    struct contract *c = cc->cc_c;
    double interval = 0, tolerance = CONTRACT_DEFAULT_TOLERANCE;
    bool present;

    if (cc_object(cc, hb) < 0 || cc_check_keys(cc, hb, keys) < 0)
        return -1;
    if (json_object_get(hb, "interval_s") == NULL)
        return cc_fail(cc, "missing required key \"interval_s\"");
    if (cc_number_member(cc, hb, "interval_s", 0, CONTRACT_MAX_SECONDS, &interval, &present) < 0 ||
        cc_number_member(cc, hb, "tolerance", 1.0, CONTRACT_MAX_TOLERANCE, &tolerance, &present) <
            0)
        return -1;
    if (cc_bool_member(cc, hb, "comments", false, &c->c_hb_comments) < 0 ||
        cc_bool_member(cc, hb, "reset_on_any_event", true, &c->c_hb_reset_on_any) < 0)
        return -1;
    c->c_hb_tolerance = tolerance;
    c->c_hb_interval_ms = (uint64_t)llround(interval * 1000.0);
    if (interval > 0 && c->c_hb_interval_ms == 0) {
        cc_push(cc, "interval_s");
        return cc_fail(cc, "an interval is at least 0.001 s (0 turns the rule off)");
    }
    return 0;
}

/* A liveness rule nothing can satisfy would report every window. */
static int cc_heartbeat_resettable(struct cc *cc)
{
    const struct contract *c = cc->cc_c;

    if (c->c_hb_interval_ms == 0 || c->c_hb_comments || c->c_hb_reset_on_any)
        return 0;
    for (size_t i = 0; i < c->c_n_events; i++)
        if (c->c_events[i].ce_heartbeat)
            return 0;
    cc_push(cc, "heartbeat");
    return cc_fail(cc, "nothing resets the heartbeat window: declare an event kind with "
                       "\"heartbeat\": true, set \"comments\" or \"reset_on_any_event\"");
}

static int cc_timing(struct cc *cc, const json_t *timing)
{
    static const char *const keys[] = {"first_event_ms", "lifecycle_timeout_s", "$comment", NULL};
    struct contract *c = cc->cc_c;
    double first = 0, lifecycle = 0;
    bool present;

    if (cc_object(cc, timing) < 0 || cc_check_keys(cc, timing, keys) < 0)
        return -1;
    const json_t *fe = json_object_get(timing, "first_event_ms");
    if (fe != NULL) {
        size_t saved = cc_push(cc, "first_event_ms");
        if (cc_want(cc, fe, json_is_integer(fe), "an integer (milliseconds)") < 0)
            return -1;
        cc_pop(cc, saved);
    }
    if (cc_number_member(cc, timing, "first_event_ms", 0, CONTRACT_MAX_SECONDS * 1000.0, &first,
                         &present) < 0 ||
        cc_number_member(cc, timing, "lifecycle_timeout_s", 0, CONTRACT_MAX_SECONDS, &lifecycle,
                         &present) < 0)
        return -1;
    c->c_first_event_ms = (uint64_t)first;
    c->c_lifecycle_ms = (uint64_t)llround(lifecycle * 1000.0);
    if (lifecycle > 0 && c->c_lifecycle_ms == 0) {
        cc_push(cc, "lifecycle_timeout_s");
        return cc_fail(cc, "a timeout is at least 0.001 s (0 turns the rule off)");
    }
    return 0;
}

/* A lifecycle timeout is about reaching a final state: without one it
 * would fire on every healthy stream. */
static int cc_lifecycle_reachable(struct cc *cc)
{
    const struct contract *c = cc->cc_c;

    if (c->c_lifecycle_ms == 0)
        return 0;
    for (size_t i = 0; i < c->c_n_states; i++)
        if (c->c_states[i].cs_final)
            return 0;
    cc_push(cc, "timing");
    cc_push(cc, "lifecycle_timeout_s");
    return cc_fail(cc, "\"lifecycle_timeout_s\" needs an \"order\" with a final state");
}

/* Starts the contract's schema set: every definition is compiled here,
 * once (one that no schema references is still checked, so an unsupported
 * keyword never hides there). */
static int cc_definitions(struct cc *cc)
{
    static const char *const keys[] = {"definitions", "$defs"};
    struct json_schema_error serr;

    for (size_t i = 0; i < 2; i++) {
        const json_t *defs = json_object_get(cc->cc_doc, keys[i]);
        if (defs == NULL)
            continue;
        size_t saved = cc_push(cc, keys[i]);
        if (cc_object(cc, defs) < 0)
            return -1;
        cc_pop(cc, saved);
    }
    memset(&serr, 0, sizeof(serr));
    cc->cc_c->c_schemas = cc_set_new(cc, &serr);
    if (cc->cc_c->c_schemas != NULL)
        return 0;
    cc->cc_defs_failed = true;
    return cc_schema_fail(cc, &serr);
}

/* After the last schema: the set becomes usable. When it fails there (a
 * "$ref" that does not resolve, an error in a document one refers to),
 * each schema is checked alone so that every such error shows. */
static int cc_schemas_finish(struct cc *cc)
{
    struct json_schema_error serr;

    if (cc->cc_defs_failed || cc->cc_set_broken || cc->cc_stop)
        return -1;
    memset(&serr, 0, sizeof(serr));
    if (json_schema_compile_finish(cc->cc_c->c_schemas, &serr))
        return 0;
    cc_schema_fail(cc, &serr);
    cc_set_break(cc);
    return -1;
}

/* One top-level section, on its own: its errors do not stop the others. */
static int cc_section(struct cc *cc, const char *key, int (*fn)(struct cc *, const json_t *))
{
    const json_t *v = json_object_get(cc->cc_doc, key);

    if (v == NULL || cc->cc_stop)
        return cc->cc_stop ? -1 : 0;
    size_t saved = cc_push(cc, key);
    size_t before = cc_error_count(cc);
    (void)fn(cc, v);
    cc_pop(cc, saved);
    return cc->cc_stop || cc_error_count(cc) > before ? -1 : 0;
}

static int cc_top(struct cc *cc)
{
    static const char *const keys[] = {"name",           "description", "abstract",    "variables",
                                       "response",       "envelope",    "events",      "order",
                                       "heartbeat",      "timing",      "definitions", "$defs",
                                       "correlation_id", "$comment",    NULL};
    const json_t *doc = cc->cc_doc;
    struct contract *c = cc->cc_c;
    const char *name, *description;
    bool abstract;

    if (!json_is_object(doc))
        return cc_fail(cc, "a contract is a JSON object, got %s", cc_type_name(doc));
    if (json_object_get(doc, "extends") != NULL) {
        cc_push(cc, "extends");
        return cc_fail(cc, "\"extends\" is resolved by contract_load, not by contract_compile");
    }
    if (cc_check_keys(cc, doc, keys) < 0)
        return -1;
    if (cc_bool_member(cc, doc, "abstract", false, &abstract) < 0)
        return -1;
    if (abstract && !cc->cc_abstract_ok) {
        cc_push(cc, "abstract");
        return cc_fail(cc, "an abstract contract is only meant to be extended");
    }
    /* From here on every part is checked on its own (contract_compile_all). */
    size_t saved = cc->cc_len;
    (void)cc_string_member(cc, doc, "name", false, &name);
    cc_pop(cc, saved);
    (void)cc_string_member(cc, doc, "description", false, &description);
    cc_pop(cc, saved);
    c->c_name = cc_strdup(cc, name ? name : "unnamed");
    if (c->c_name == NULL)
        return -1;
    if (description != NULL) {
        c->c_description = cc_strdup(cc, description);
        if (c->c_description == NULL)
            return -1;
    }
    (void)cc_definitions(cc);
    cc_pop(cc, saved);
    if (cc->cc_stop)
        return -1;
    (void)cc_section(cc, "variables", cc_variables);
    (void)cc_section(cc, "response", cc_response);
    (void)cc_section(cc, "envelope", cc_envelope);
    const json_t *events;
    if (!(abstract && cc->cc_abstract_ok))
        (void)cc_member(cc, doc, "events", true, &events);
    (void)cc_section(cc, "events", cc_events);
    (void)cc_section(cc, "correlation_id", cc_correlation);
    (void)cc_section(cc, "order", cc_order);
    (void)cc_section(cc, "heartbeat", cc_heartbeat);
    (void)cc_section(cc, "timing", cc_timing);
    if (cc->cc_stop)
        return -1;
    /* What spans sections is judged only on sections that are right. */
    if (cc_error_count(cc) == 0 &&
        (cc_heartbeat_resettable(cc) < 0 || cc_lifecycle_reachable(cc) < 0))
        return -1;
    cc_pop(cc, saved);
    if (cc_schemas_finish(cc) < 0 || cc_error_count(cc) > 0)
        return -1;
    return 0;
}

struct contract *contract_compile(const json_t *doc, struct contract_error *err)
{
    return contract_compile_opts(doc, NULL, err);
}

struct contract *contract_compile_opts(const json_t *doc, const struct contract_options *opts,
                                       struct contract_error *err)
{
    struct contract_errors errs;
    struct contract_error dummy;

    if (err == NULL)
        err = &dummy;
    memset(err, 0, sizeof(*err));
    struct contract *c = contract_compile_all(doc, opts, &errs);
    /* The walk is the one that used to stop at the first error: the first
     * one found is the same. */
    if (c == NULL && errs.ces_n > 0)
        *err = errs.ces_items[0];
    else if (c == NULL)
        snprintf(err->ce_message, sizeof(err->ce_message), "out of memory");
    contract_errors_free(&errs);
    return c;
}

struct contract *contract_compile_all(const json_t *doc, const struct contract_options *opts,
                                      struct contract_errors *errs)
{
    struct cc cc;

    memset(errs, 0, sizeof(*errs));
    memset(&cc, 0, sizeof(cc));
    cc.cc_doc = doc;
    cc.cc_schema_opts = opts != NULL ? opts->co_schema : NULL;
    cc.cc_abstract_ok = opts != NULL && opts->co_abstract;
    cc.cc_errs = errs;
    cc.cc_c = calloc(1, sizeof(*cc.cc_c));
    if (cc.cc_c == NULL) {
        errs->ces_oom = true;
        return NULL;
    }
    struct contract *c = cc.cc_c;
    c->c_status = 200;
    c->c_initial = CONTRACT_NO_STATE;
    c->c_hb_tolerance = CONTRACT_DEFAULT_TOLERANCE;
    c->c_hb_reset_on_any = true;
    int rc = doc == NULL ? cc_fail(&cc, "no document") : cc_top(&cc);
    free(cc.cc_added);
    if (rc < 0 || cc_error_count(&cc) > 0) {
        contract_free(c);
        return NULL;
    }
    return c;
}

void contract_errors_free(struct contract_errors *errs)
{
    if (errs == NULL)
        return;
    free(errs->ces_items);
    memset(errs, 0, sizeof(*errs));
}

static void contract_event_free(struct contract_event *e)
{
    free(e->ce_name);
    free(e->ce_discriminator);
    for (size_t i = 0; i < e->ce_n_variants; i++)
        free(e->ce_variants[i].cv_value);
    free(e->ce_variants);
    for (size_t i = 0; i < e->ce_n_equals; i++) {
        free(e->ce_equals[i].ceq_pointer);
        free(e->ce_equals[i].ceq_var);
    }
    free(e->ce_equals);
}

void contract_free(struct contract *c)
{
    if (c == NULL)
        return;
    free(c->c_name);
    free(c->c_description);
    for (size_t i = 0; i < c->c_n_variables; i++)
        free(c->c_variables[i]);
    free(c->c_variables);
    for (size_t i = 0; i < c->c_n_headers; i++) {
        struct contract_header *h = &c->c_headers[i];
        free(h->ch_name);
        free(h->ch_equals);
        ecma_regex_free(h->ch_re);
        free(h->ch_pattern);
    }
    free(c->c_headers);
    free(c->c_env_type);
    free(c->c_env_payload);
    for (size_t i = 0; i < c->c_n_events; i++)
        contract_event_free(&c->c_events[i]);
    free(c->c_events);
    free(c->c_cid.cc_pointer);
    free(c->c_cid.cc_equals_var);
    for (size_t i = 0; i < c->c_n_states; i++) {
        struct contract_state *s = &c->c_states[i];
        free(s->cs_name);
        for (size_t j = 0; j < s->cs_n_on; j++)
            free(s->cs_on[j].ct_variant);
        free(s->cs_on);
    }
    free(c->c_states);
    json_schema_compile_free(c->c_schemas);
    free(c);
}

size_t contract_event_index(const struct contract *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->c_n_events; i++) {
        const char *n = c->c_events[i].ce_name;
        /* `name` is not NUL-terminated and may hold NUL bytes. */
        if (strnlen(n, len + 1) == len && memcmp(n, name, len) == 0)
            return i;
    }
    return (size_t)-1;
}

size_t contract_state_index(const struct contract *c, const char *name)
{
    for (size_t i = 0; i < c->c_n_states; i++)
        if (strcmp(c->c_states[i].cs_name, name) == 0)
            return i;
    return CONTRACT_NO_STATE;
}

bool contract_has_variable(const struct contract *c, const char *name)
{
    for (size_t i = 0; i < c->c_n_variables; i++)
        if (strcmp(c->c_variables[i], name) == 0)
            return true;
    return false;
}
