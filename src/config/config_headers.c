#include "ssemon/config/config_headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssemon/config/config_doc.h"
#include "ssemon/config/config_keys.h"
#include "ssemon/config/config_secret.h"
#include "ssemon/core/http_header.h"

bool config_headers_value_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* Any value may be a secret, and its line holds it too. */
static void config_headers_clear(struct config_header *h)
{
    config_secret_free(h->cfh_value);
    config_secret_free(h->cfh_line);
    free(h->cfh_name);
    memset(h, 0, sizeof(*h));
}

void config_headers_free(struct config_headers *hs)
{
    for (size_t i = 0; i < hs->hs_n; i++)
        config_headers_clear(&hs->hs_items[i]);
    free(hs->hs_items);
    free(hs->hs_lines);
    memset(hs, 0, sizeof(*hs));
}

int config_headers_set(struct config_headers *hs, char *name, char *value, bool secret)
{
    for (size_t i = 0; i < hs->hs_n; i++) {
        if (strcasecmp(hs->hs_items[i].cfh_name, name) == 0) {
            config_headers_clear(&hs->hs_items[i]);
            hs->hs_items[i].cfh_name = name;
            hs->hs_items[i].cfh_value = value;
            hs->hs_items[i].cfh_secret = secret;
            return 0;
        }
    }
    if (hs->hs_n == hs->hs_cap) {
        size_t cap = hs->hs_cap ? hs->hs_cap * 2 : 4;
        struct config_header *items = reallocarray(hs->hs_items, cap, sizeof(*items));
        if (items == NULL) {
            config_secret_free(value);
            free(name);
            return -1;
        }
        hs->hs_items = items;
        hs->hs_cap = cap;
    }
    struct config_header *h = &hs->hs_items[hs->hs_n++];
    memset(h, 0, sizeof(*h));
    h->cfh_name = name;
    h->cfh_value = value;
    h->cfh_secret = secret;
    return 0;
}

int config_headers_copy(struct config_headers *dst, const struct config_headers *src)
{
    for (size_t i = 0; i < src->hs_n; i++) {
        char *name = strdup(src->hs_items[i].cfh_name);
        char *value = strdup(src->hs_items[i].cfh_value);
        if (name == NULL || value == NULL) {
            free(name);
            config_secret_free(value);
            return -1;
        }
        if (config_headers_set(dst, name, value, src->hs_items[i].cfh_secret) != 0)
            return -1;
    }
    return 0;
}

/* The earlier member of headers object `obj` that has the name of key
 * node `key` in another case, or JSON_TAPE_NONE. */
static size_t config_headers_earlier(const struct json_tape *t, size_t obj, size_t key)
{
    size_t end = json_tape_next(t, obj);
    bool dups = (t->jt_nodes[obj].tn_flags & JSON_TAPE_F_DUPS) != 0;
    size_t len;
    const char *k = json_tape_string(t, key, &len);

    for (size_t e = obj + 1; e < key; e = json_tape_next(t, e + 1)) {
        size_t elen;
        const char *ek = json_tape_string(t, e, &elen);
        if (dups && json_tape_key_shadowed(t, e, end))
            continue;
        if (elen == len && strncasecmp(ek, k, len) == 0)
            return e;
    }
    return JSON_TAPE_NONE;
}

/* One header value: a one-line string, or a secret read from elsewhere.
 * NULL after reporting. */
static char *config_headers_value(struct config_doc *d, size_t val, const char *hpath, bool *secret)
{
    const struct json_tape *t = &d->cd_tape;

    *secret = false;
    if (json_tape_type(t, val) == JSON_TAPE_OBJECT) {
        *secret = true;
        return config_secret_read(d, val, hpath);
    }
    if (json_tape_type(t, val) != JSON_TAPE_STRING) {
        config_doc_err(d, hpath,
                       "expected a string, {\"credential\": NAME} or {\"file\": PATH}, got %s",
                       config_doc_type_name(d, val));
        return NULL;
    }
    char *value = config_doc_string(d, val, hpath, true);
    if (value == NULL)
        return NULL;
    if (!config_headers_value_ok(value, strlen(value))) {
        config_doc_err(d, hpath, "header value has a control character or line break");
        free(value);
        return NULL;
    }
    return value;
}

static bool config_headers_name_ok(const char *k, size_t len)
{
    bool ok = len > 0;

    for (size_t i = 0; i < len && ok; i++)
        ok = http_header_is_tchar((unsigned char)k[i]);
    return ok;
}

void config_headers_parse(struct config_doc *d, size_t obj, const char *path,
                          struct config_headers *hs)
{
    const struct json_tape *t = &d->cd_tape;
    struct json_tape_iter it;
    size_t key, val;

    if (!config_doc_is_object(d, obj, path))
        return;
    config_keys_check(d, obj, path, CONFIG_KEYS_ANY);
    json_tape_iter_init(t, obj, &it);
    while (!config_doc_out_of_memory(d) && json_tape_object_next(t, &it, &key, &val)) {
        size_t len;
        const char *k = json_tape_string(t, key, &len);
        char q[DIAG_QUOTE_MAX];
        char *hpath = config_doc_pointer(path, k, len);
        if (hpath == NULL) {
            config_doc_nomem(d);
            break;
        }
        diag_escape(q, sizeof(q), k, len, true);
        size_t earlier = config_headers_earlier(t, obj, key);
        bool secret;
        char *value = NULL;
        if (!config_headers_name_ok(k, len)) {
            config_doc_err_key(
                d, hpath, "invalid header name \"%s\": letters, digits and !#$%%&'*+-.^_`|~ only",
                q);
        } else if (http_header_name_eq(k, len, "Last-Event-ID")) {
            config_doc_err_key(
                d, hpath, "\"%s\" cannot be set: ssemon sends the last event ID it received", q);
        } else if (earlier != JSON_TAPE_NONE) {
            struct json_position first;
            config_doc_node_position(d, earlier, &first);
            config_doc_err_key(
                d, hpath,
                "header \"%s\" repeats the one at line %zu, column %zu (names ignore case)", q,
                first.jp_line, first.jp_column);
        } else {
            value = config_headers_value(d, val, hpath, &secret);
        }
        if (value != NULL) {
            char *name = strndup(k, len);
            if (name == NULL) {
                config_secret_free(value);
                config_doc_nomem(d);
            } else if (config_headers_set(hs, name, value, secret || config_secret_header(name)) !=
                       0) {
                config_doc_nomem(d);
            }
        }
        free(hpath);
    }
}

static int config_headers_cmp(const void *pa, const void *pb)
{
    const struct config_header *a = pa, *b = pb;
    int r = strcasecmp(a->cfh_name, b->cfh_name);
    return r != 0 ? r : strcmp(a->cfh_name, b->cfh_name);
}

int config_headers_finish(struct config_headers *hs)
{
    if (hs->hs_n == 0)
        return 0;
    qsort(hs->hs_items, hs->hs_n, sizeof(*hs->hs_items), config_headers_cmp);
    hs->hs_lines = calloc(hs->hs_n, sizeof(*hs->hs_lines));
    if (hs->hs_lines == NULL)
        return -1;
    for (size_t i = 0; i < hs->hs_n; i++) {
        struct config_header *h = &hs->hs_items[i];
        if (asprintf(&h->cfh_line, "%s: %s", h->cfh_name, h->cfh_value) < 0) {
            h->cfh_line = NULL;
            return -1;
        }
        hs->hs_lines[i] = h->cfh_line;
    }
    return 0;
}

bool config_headers_equal(const struct config_headers *a, const struct config_headers *b)
{
    if (a->hs_n != b->hs_n)
        return false;
    for (size_t i = 0; i < a->hs_n; i++) {
        const struct config_header *ha = &a->hs_items[i], *hb = &b->hs_items[i];
        if (strcmp(ha->cfh_name, hb->cfh_name) != 0 || strcmp(ha->cfh_value, hb->cfh_value) != 0 ||
            ha->cfh_secret != hb->cfh_secret)
            return false;
    }
    return true;
}

int config_headers_log(const struct config_headers *hs, size_t i, char *buf, size_t size)
{
    if (i >= hs->hs_n) {
        if (size > 0)
            buf[0] = '\0';
        return 0;
    }
    const struct config_header *h = &hs->hs_items[i];
    return snprintf(buf, size, "%s: %s", h->cfh_name, h->cfh_secret ? "<redacted>" : h->cfh_value);
}
