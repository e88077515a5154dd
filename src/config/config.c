/*
 * config: reads and validates the daemon's configuration file.
 *
 * The file is parsed with json_tape rather than jansson because the tape
 * keeps every member, duplicates included, with its source offset: a
 * duplicate key can be reported where it is, and every error is mapped to a
 * line and column through json_position. Validation never stops at the
 * first error: each check records what is wrong and the walk goes on, so
 * one run of `ssemon check-config` shows everything to fix.
 */
#include "ssemon/config/config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ssemon/core/backoff.h"
#include "ssemon/config/contract_load.h"
#include "ssemon/core/http_header.h"
#include "ssemon/json/json_position.h"
#include "ssemon/json/json_tape.h"
#include "ssemon/io/monitor.h"
#include "ssemon/core/sse_parser.h"
#include "ssemon/io/subscription.h"

#define CONFIG_DEFAULT_HEALTHY_WINDOW_MS 300000u
#define CONFIG_DEFAULT_JOURNAL_BURST 10u
#define CONFIG_DEFAULT_JOURNAL_INTERVAL_MS 60000u
/* User text quoted in a message is cut to about this many bytes. */
#define CFG_QUOTE_MAX 160
/* Keys longer than this get no "did you mean" suggestion. */
#define CFG_SUGGEST_MAX 48
/* Contract names listed when a name is unknown and nothing is close. */
#define CFG_LIST_CONTRACTS_MAX 20

/* ---- the loaded configuration ---- */

struct config_header {
    char *cfh_name;
    char *cfh_value; /* may be secret: wiped before it is freed */
    char *cfh_line;  /* "Name: value", what the engine sends */
    bool cfh_secret;
};

/* A contract loaded once and shared by every subscription naming its file. */
struct config_contract {
    char *cct_file;                /* resolved file: the sharing key */
    struct contract *cct_contract; /* NULL when it did not load */
    char *cct_text;                /* merged document, compact with sorted keys */
    char *cct_error;               /* why it did not load */
};

struct config_subscription {
    char *csu_name;
    char *csu_url; /* may carry user-info: only for sub_options */
    char *csu_url_redacted;
    char *csu_contract_name;
    const struct config_contract *csu_contract;
    struct validator_var *csu_vars; /* names and values owned */
    size_t csu_n_vars;
    struct config_header *csu_headers;
    size_t csu_n_headers;
    const char **csu_header_lines; /* the cfh_line of each header */
    struct config_settings csu_settings;
    char *csu_ca_file; /* what csu_settings.cs_ca_file points to */
};

struct config {
    unsigned cfg_refs;
    char *cfg_path;
    char *cfg_contracts_dir;
    struct config_listen cfg_listen;
    struct config_settings cfg_defaults;
    char *cfg_ca_file; /* what cfg_defaults.cs_ca_file points to */
    struct config_subscription *cfg_subs;
    size_t cfg_n_subs;
    size_t *cfg_by_name; /* subscription indices sorted by name */
    struct config_contract *cfg_contracts;
    size_t cfg_n_contracts;
};

/* ---- loading state ---- */

/* Headers being layered. */
struct cfg_headers {
    struct config_header *hs_items;
    size_t hs_n;
    size_t hs_cap;
};

/* Which keys one object set, for the checks that involve two keys. */
struct cfg_layer {
    bool ly_backoff_min;
    bool ly_backoff_max;
};

struct cfg_loader {
    const char *ld_file; /* name in errors */
    char *ld_dir;        /* directory relative paths start from; "" = cwd */
    struct json_tape ld_tape;
    struct config_errors *ld_errors;
    size_t ld_dropped; /* errors beyond CONFIG_MAX_ERRORS */
    struct config *ld_cfg;
    const char *ld_cred_dir; /* $CREDENTIALS_DIRECTORY, or NULL */
    struct config_settings ld_defaults;
    struct cfg_headers ld_def_headers;
    struct contract_load_entry *ld_known; /* contract names, listed once on demand */
    size_t ld_n_known;
    bool ld_known_listed;
    bool ld_oom;
};

/* Where an object sits: decides which keys it may have. */
enum cfg_place {
    CFG_PLACE_TOP = 0,
    CFG_PLACE_STATUS,
    CFG_PLACE_DEFAULTS,
    CFG_PLACE_SUB,
    CFG_PLACE_RATE,
    CFG_PLACE_SECRET,
    CFG_PLACE_ANY, /* headers, vars: any key, duplicates still refused */
};

enum cfg_type {
    CFG_T_U64 = 0, /* integer into uint64_t */
    CFG_T_UINT,    /* integer into unsigned */
    CFG_T_SIZE,    /* integer into size_t */
    CFG_T_SECONDS, /* number of seconds into uint64_t milliseconds */
    CFG_T_REAL,    /* number into double */
    CFG_T_BOOL,
    CFG_T_PATH,    /* ca_file */
    CFG_T_HEADERS, /* headers object */
    CFG_T_RATE,    /* journal_rate object */
};

#define CFG_IN_DEFAULTS 1u
#define CFG_IN_SUB 2u
#define CFG_IN_RATE 4u
#define CFG_IN_BOTH (CFG_IN_DEFAULTS | CFG_IN_SUB)

/* One setting: where it may appear, its type, its field, its range (in the
 * file's unit). */
struct cfg_key {
    const char *ck_name;
    enum cfg_type ck_type;
    unsigned ck_where;
    size_t ck_offset; /* into struct config_settings */
    double ck_min;
    double ck_max;
};

#define CFG_OFF(f) offsetof(struct config_settings, f)

static const struct cfg_key cfg_keys[] = {
    {"backoff_min_ms", CFG_T_U64, CFG_IN_BOTH, CFG_OFF(cs_backoff_min_ms), 1, 3600000},
    {"backoff_max_ms", CFG_T_U64, CFG_IN_BOTH, CFG_OFF(cs_backoff_max_ms), 1, 86400000},
    {"connect_timeout_s", CFG_T_SECONDS, CFG_IN_BOTH, CFG_OFF(cs_connect_timeout_ms), 0.001, 3600},
    {"idle_timeout_s", CFG_T_SECONDS, CFG_IN_BOTH, CFG_OFF(cs_idle_timeout_ms), 0, 86400},
    {"healthy_reset_s", CFG_T_SECONDS, CFG_IN_BOTH, CFG_OFF(cs_healthy_reset_ms), 0.001, 86400},
    {"healthy_window_s", CFG_T_SECONDS, CFG_IN_BOTH, CFG_OFF(cs_healthy_window_ms), 0.001, 604800},
    {"heartbeat_interval_s", CFG_T_SECONDS, CFG_IN_SUB, CFG_OFF(cs_heartbeat_interval_ms), 0.001,
     86400},
    {"heartbeat_tolerance", CFG_T_REAL, CFG_IN_BOTH, CFG_OFF(cs_heartbeat_tolerance), 1, 1000},
    {"strict", CFG_T_BOOL, CFG_IN_BOTH, CFG_OFF(cs_strict), 0, 0},
    {"insecure", CFG_T_BOOL, CFG_IN_BOTH, CFG_OFF(cs_insecure), 0, 0},
    {"enabled", CFG_T_BOOL, CFG_IN_SUB, CFG_OFF(cs_enabled), 0, 0},
    {"ca_file", CFG_T_PATH, CFG_IN_BOTH, 0, 0, 0},
    {"headers", CFG_T_HEADERS, CFG_IN_BOTH, 0, 0, 0},
    {"journal_rate", CFG_T_RATE, CFG_IN_DEFAULTS, 0, 0, 0},
    {"max_line", CFG_T_SIZE, CFG_IN_BOTH, CFG_OFF(cs_max_line), 1, 1073741824},
    {"max_event", CFG_T_SIZE, CFG_IN_BOTH, CFG_OFF(cs_max_event), 1, 1073741824},
    {"burst", CFG_T_UINT, CFG_IN_RATE, CFG_OFF(cs_journal_burst), 1, 1000000},
    {"interval_s", CFG_T_SECONDS, CFG_IN_RATE, CFG_OFF(cs_journal_interval_ms), 0.001, 86400},
};
#define CFG_N_KEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

static const char *const cfg_top_keys[] = {"status", "contracts_dir", "defaults", "subscriptions"};
static const char *const cfg_status_keys[] = {"listen"};
static const char *const cfg_sub_keys[] = {"name", "url", "contract", "vars"};
static const char *const cfg_secret_keys[] = {"credential", "file"};
#define CFG_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Header values shown as <redacted> whatever their source. */
static const char *const cfg_sensitive_headers[] = {"Authorization", "Proxy-Authorization",
                                                    "Cookie"};

/* ---- defaults ---- */

void config_defaults_init(struct config_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->cs_backoff_min_ms = BACKOFF_DEFAULT_MIN_MS;
    s->cs_backoff_max_ms = BACKOFF_DEFAULT_MAX_MS;
    s->cs_connect_timeout_ms = SUB_DEFAULT_CONNECT_TIMEOUT_MS;
    s->cs_idle_timeout_ms = 0;
    s->cs_healthy_reset_ms = SUB_DEFAULT_HEALTHY_MS;
    s->cs_healthy_window_ms = CONFIG_DEFAULT_HEALTHY_WINDOW_MS;
    s->cs_heartbeat_interval_ms = 0;
    s->cs_heartbeat_tolerance = 0;
    s->cs_strict = true;
    s->cs_insecure = false;
    s->cs_enabled = true;
    s->cs_ca_file = NULL;
    s->cs_journal_burst = CONFIG_DEFAULT_JOURNAL_BURST;
    s->cs_journal_interval_ms = CONFIG_DEFAULT_JOURNAL_INTERVAL_MS;
    s->cs_max_line = SSE_PARSER_DEFAULT_MAX_LINE;
    s->cs_max_event = SSE_PARSER_DEFAULT_MAX_EVENT;
}

/* ---- text helpers ---- */

/* Copies `len` bytes of `s` into `dst` for a message: control characters
 * escaped (so an error stays one line), '"' and '\' too when `quoted`,
 * cut with "..." when too long, never inside a UTF-8 sequence. */
static void cfg_display(char *dst, size_t size, const char *s, size_t len, bool quoted)
{
    size_t o = 0;

    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        const char *piece = esc;
        size_t n = 1;
        if (c < 0x20 || c == 0x7f) {
            if (c == '\n')
                n = (size_t)snprintf(esc, sizeof(esc), "\\n");
            else if (c == '\t')
                n = (size_t)snprintf(esc, sizeof(esc), "\\t");
            else if (c == '\r')
                n = (size_t)snprintf(esc, sizeof(esc), "\\r");
            else
                n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
        } else if (quoted && (c == '"' || c == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else {
            piece = s + i;
            if (c >= 0xC0) /* a whole UTF-8 sequence is one piece */
                while (i + n < len && n < 4 && ((unsigned char)s[i + n] & 0xC0) == 0x80)
                    n++;
        }
        size_t consumed = piece == esc ? 1 : n;
        /* A piece that is not the last leaves room for "..." and the NUL,
         * so a cut can always be marked. */
        bool last = i + consumed >= len;
        if (o + n + (last ? 1 : 4) > size) {
            if (o + 4 <= size) {
                memcpy(dst + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(dst + o, piece, n);
        o += n;
        i += consumed;
    }
    if (size > 0)
        dst[o] = '\0';
}

/* `s` quoted for a message (without the quotes themselves). */
static void cfg_quote(char *dst, size_t size, const char *s)
{
    cfg_display(dst, size, s, strlen(s), true);
}

/* A JSON pointer: `parent` + "/" + `key` escaped (~ and /). NULL on
 * allocation failure. */
static char *cfg_path_key(const char *parent, const char *key, size_t keylen)
{
    size_t plen = strlen(parent), extra = 0;

    for (size_t i = 0; i < keylen; i++)
        extra += key[i] == '~' || key[i] == '/';
    char *p = malloc(plen + 1 + keylen + extra + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, parent, plen);
    size_t o = plen;
    p[o++] = '/';
    for (size_t i = 0; i < keylen; i++) {
        if (key[i] == '~') {
            p[o++] = '~';
            p[o++] = '0';
        } else if (key[i] == '/') {
            p[o++] = '~';
            p[o++] = '1';
        } else {
            p[o++] = key[i];
        }
    }
    p[o] = '\0';
    return p;
}

static char *cfg_path_lit(const char *parent, const char *key)
{
    return cfg_path_key(parent, key, strlen(key));
}

static char *cfg_path_index(const char *parent, size_t i)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%zu", parent, i) < 0)
        return NULL;
    return p;
}

/* "DIR/NAME", or NAME when it is absolute or DIR is "". */
static char *cfg_join(const char *dir, const char *name)
{
    char *p = NULL;

    if (name[0] == '/' || dir[0] == '\0')
        return strdup(name);
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    return p;
}

/* Levenshtein distance of two short strings, capped: anything above
 * CFG_SUGGEST_MAX characters counts as far. */
static size_t cfg_distance(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    size_t row[CFG_SUGGEST_MAX + 1];

    if (alen > CFG_SUGGEST_MAX || blen > CFG_SUGGEST_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= blen; j++)
        row[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[blen];
}

/* ---- errors ---- */

void config_errors_free(struct config_errors *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->ces_n; i++)
        free((char *)e->ces_items[i].cer_file); /* the block holding all its strings */
    free(e->ces_items);
    memset(e, 0, sizeof(*e));
}

/* Records one error; its strings go into one block starting with the file
 * name. `force` ignores the cap (for the "more errors" summary). */
static void cfg_error_push(struct cfg_loader *ld, size_t line, size_t col, const char *path,
                           const char *msg, bool force)
{
    struct config_errors *e = ld->ld_errors;
    char file[512], dpath[512], text[2048];

    if (!force && e->ces_n >= CONFIG_MAX_ERRORS) {
        ld->ld_dropped++;
        return;
    }
    cfg_display(file, sizeof(file), ld->ld_file, strlen(ld->ld_file), false);
    cfg_display(dpath, sizeof(dpath), path, strlen(path), false);
    if (line > 0 && dpath[0] != '\0')
        snprintf(text, sizeof(text), "%s:%zu:%zu: %s: %s", file, line, col, dpath, msg);
    else if (line > 0)
        snprintf(text, sizeof(text), "%s:%zu:%zu: %s", file, line, col, msg);
    else if (dpath[0] != '\0')
        snprintf(text, sizeof(text), "%s: %s: %s", file, dpath, msg);
    else
        snprintf(text, sizeof(text), "%s: %s", file, msg);

    if (e->ces_n == e->ces_cap) {
        size_t cap = e->ces_cap ? e->ces_cap * 2 : 8;
        struct config_error *items = reallocarray(e->ces_items, cap, sizeof(*items));
        if (items == NULL) {
            e->ces_oom = true;
            ld->ld_oom = true;
            return;
        }
        e->ces_items = items;
        e->ces_cap = cap;
    }
    size_t lf = strlen(file) + 1, lp = strlen(dpath) + 1, lm = strlen(msg) + 1,
           lt = strlen(text) + 1;
    char *block = malloc(lf + lp + lm + lt);
    if (block == NULL) {
        e->ces_oom = true;
        ld->ld_oom = true;
        return;
    }
    memcpy(block, file, lf);
    memcpy(block + lf, dpath, lp);
    memcpy(block + lf + lp, msg, lm);
    memcpy(block + lf + lp + lm, text, lt);
    struct config_error *ce = &e->ces_items[e->ces_n++];
    ce->cer_file = block;
    ce->cer_path = block + lf;
    ce->cer_message = block + lf + lp;
    ce->cer_text = block + lf + lp + lm;
    ce->cer_line = line;
    ce->cer_column = col;
}

static void cfg_oom(struct cfg_loader *ld)
{
    ld->ld_oom = true;
    ld->ld_errors->ces_oom = true;
}

static void cfg_verror(struct cfg_loader *ld, size_t line, size_t col, const char *path,
                       const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void cfg_verror(struct cfg_loader *ld, size_t line, size_t col, const char *path,
                       const char *fmt, va_list ap)
{
    char msg[1536];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    cfg_error_push(ld, line, col, path, msg, false);
}

static void cfg_err(struct cfg_loader *ld, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error about the value at `path`, or about the object it is missing
 * from; the position is the member's key when it is one. */
static void cfg_err(struct cfg_loader *ld, const char *path, const char *fmt, ...)
{
    struct json_position pos;
    size_t line = 0, col = 0;
    va_list ap;

    if (json_position_in_tape(&ld->ld_tape, path, JSON_POSITION_NEAREST, &pos) >= 0) {
        line = pos.jp_line;
        col = pos.jp_column;
    }
    va_start(ap, fmt);
    cfg_verror(ld, line, col, path, fmt, ap);
    va_end(ap);
}

static void cfg_err_key(struct cfg_loader *ld, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error about a key itself (unknown, misplaced): at the key. */
static void cfg_err_key(struct cfg_loader *ld, const char *path, const char *fmt, ...)
{
    struct json_position pos;
    size_t line = 0, col = 0;
    va_list ap;

    if (json_position_in_tape(&ld->ld_tape, path, JSON_POSITION_NEAREST | JSON_POSITION_KEY,
                              &pos) >= 0) {
        line = pos.jp_line;
        col = pos.jp_column;
    }
    va_start(ap, fmt);
    cfg_verror(ld, line, col, path, fmt, ap);
    va_end(ap);
}

static void cfg_err_node(struct cfg_loader *ld, size_t node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An error at a given node (a duplicate, which a pointer cannot tell from
 * the member it repeats). */
static void cfg_err_node(struct cfg_loader *ld, size_t node, const char *path, const char *fmt, ...)
{
    const struct json_tape *t = &ld->ld_tape;
    struct json_position pos;
    va_list ap;

    json_position_at_offset(t->jt_src, t->jt_src_len, t->jt_nodes[node].tn_off, &pos);
    va_start(ap, fmt);
    cfg_verror(ld, pos.jp_line, pos.jp_column, path, fmt, ap);
    va_end(ap);
}

struct cfg_sort_item {
    struct config_error si_error;
    size_t si_seq;
};

static int cfg_sort_cmp(const void *pa, const void *pb)
{
    const struct cfg_sort_item *a = pa, *b = pb;

    if (a->si_error.cer_line != b->si_error.cer_line)
        return a->si_error.cer_line < b->si_error.cer_line ? -1 : 1;
    if (a->si_error.cer_column != b->si_error.cer_column)
        return a->si_error.cer_column < b->si_error.cer_column ? -1 : 1;
    return a->si_seq < b->si_seq ? -1 : a->si_seq > b->si_seq;
}

/* File order, as an editor walks them; errors without a position (line 0)
 * come first; ties keep the order they were found in. */
static void cfg_errors_finish(struct cfg_loader *ld)
{
    struct config_errors *e = ld->ld_errors;

    if (e->ces_n > 1) {
        struct cfg_sort_item *s = calloc(e->ces_n, sizeof(*s));
        if (s != NULL) {
            for (size_t i = 0; i < e->ces_n; i++) {
                s[i].si_error = e->ces_items[i];
                s[i].si_seq = i;
            }
            qsort(s, e->ces_n, sizeof(*s), cfg_sort_cmp);
            for (size_t i = 0; i < e->ces_n; i++)
                e->ces_items[i] = s[i].si_error;
            free(s);
        }
    }
    if (ld->ld_dropped > 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "%zu more error%s not shown", ld->ld_dropped,
                 ld->ld_dropped == 1 ? "" : "s");
        cfg_error_push(ld, 0, 0, "", msg, true);
    }
}

/* ---- tape helpers ---- */

static const char *cfg_type_name(const struct json_tape *t, size_t n)
{
    return json_tape_type_phrase(json_tape_type(t, n));
}

static bool cfg_is_object(struct cfg_loader *ld, size_t n, const char *path)
{
    if (json_tape_type(&ld->ld_tape, n) == JSON_TAPE_OBJECT)
        return true;
    cfg_err(ld, path, "expected an object, got %s", cfg_type_name(&ld->ld_tape, n));
    return false;
}

/* The member `key` of object `obj`, or JSON_TAPE_NONE. */
static size_t cfg_get(const struct cfg_loader *ld, size_t obj, const char *key)
{
    return json_tape_object_get(&ld->ld_tape, obj, key, strlen(key));
}

/* The string at `n` as a new C string, or NULL after reporting why (wrong
 * type, empty when not allowed, U+0000) or running out of memory. */
static char *cfg_string(struct cfg_loader *ld, size_t n, const char *path, bool allow_empty)
{
    const struct json_tape *t = &ld->ld_tape;
    size_t len;

    if (json_tape_type(t, n) != JSON_TAPE_STRING) {
        cfg_err(ld, path, "expected a string, got %s", cfg_type_name(t, n));
        return NULL;
    }
    const char *s = json_tape_string(t, n, &len);
    if (len == 0 && !allow_empty) {
        cfg_err(ld, path, "must not be empty");
        return NULL;
    }
    if (memchr(s, '\0', len) != NULL) {
        cfg_err(ld, path, "must not contain U+0000");
        return NULL;
    }
    char *c = strndup(s, len);
    if (c == NULL)
        cfg_oom(ld);
    return c;
}

/* ---- keys ---- */

static bool cfg_key_is(const char *key, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

/* Appends the names of the settings allowed at `where`. */
static size_t cfg_setting_names(unsigned where, const char **out, size_t n, size_t max)
{
    for (size_t i = 0; i < CFG_N_KEYS && n < max; i++)
        if (cfg_keys[i].ck_where & where)
            out[n++] = cfg_keys[i].ck_name;
    return n;
}

static size_t cfg_names_add(const char *const *names, size_t count, const char **out, size_t n,
                            size_t max)
{
    for (size_t i = 0; i < count && n < max; i++)
        out[n++] = names[i];
    return n;
}

/* The keys allowed at a place; returns how many were written to `out`. */
static size_t cfg_place_keys(enum cfg_place place, const char **out, size_t max)
{
    switch (place) {
    case CFG_PLACE_TOP:
        return cfg_names_add(cfg_top_keys, CFG_COUNT(cfg_top_keys), out, 0, max);
    case CFG_PLACE_STATUS:
        return cfg_names_add(cfg_status_keys, CFG_COUNT(cfg_status_keys), out, 0, max);
    case CFG_PLACE_SECRET:
        return cfg_names_add(cfg_secret_keys, CFG_COUNT(cfg_secret_keys), out, 0, max);
    case CFG_PLACE_SUB: {
        size_t n = cfg_names_add(cfg_sub_keys, CFG_COUNT(cfg_sub_keys), out, 0, max);
        return cfg_setting_names(CFG_IN_SUB, out, n, max);
    }
    case CFG_PLACE_DEFAULTS:
        return cfg_setting_names(CFG_IN_DEFAULTS, out, 0, max);
    case CFG_PLACE_RATE:
        return cfg_setting_names(CFG_IN_RATE, out, 0, max);
    case CFG_PLACE_ANY:
        break;
    }
    return 0;
}

static const struct cfg_key *cfg_key_find(const char *key, size_t len, unsigned where)
{
    for (size_t i = 0; i < CFG_N_KEYS; i++)
        if ((cfg_keys[i].ck_where & where) && cfg_key_is(key, len, cfg_keys[i].ck_name))
            return &cfg_keys[i];
    return NULL;
}

/* Reports an unknown key, with the likeliest fix. */
static void cfg_unknown_key(struct cfg_loader *ld, enum cfg_place place, const char *key,
                            size_t len, const char *path)
{
    const char *names[64];
    size_t n = cfg_place_keys(place, names, CFG_COUNT(names));
    char q[CFG_QUOTE_MAX];

    cfg_display(q, sizeof(q), key, len, true);
    if (place == CFG_PLACE_DEFAULTS) {
        for (size_t i = 0; i < CFG_COUNT(cfg_sub_keys); i++) {
            if (cfg_key_is(key, len, cfg_sub_keys[i])) {
                cfg_err_key(ld, path, "\"%s\" is set per subscription, not in \"defaults\"", q);
                return;
            }
        }
        if (cfg_key_find(key, len, CFG_IN_SUB) != NULL) {
            cfg_err_key(ld, path, "\"%s\" is set per subscription, not in \"defaults\"", q);
            return;
        }
    }
    if (place == CFG_PLACE_SUB && cfg_key_find(key, len, CFG_IN_DEFAULTS) != NULL) {
        cfg_err_key(ld, path, "\"%s\" is set in \"defaults\" only", q);
        return;
    }
    if (place == CFG_PLACE_TOP && cfg_key_find(key, len, CFG_IN_BOTH) != NULL) {
        bool in_defaults = cfg_key_find(key, len, CFG_IN_DEFAULTS) != NULL;
        bool in_sub = cfg_key_find(key, len, CFG_IN_SUB) != NULL;
        cfg_err_key(ld, path, "\"%s\" belongs in %s", q,
                    !in_sub       ? "\"defaults\""
                    : in_defaults ? "\"defaults\" or in a subscription"
                                  : "a subscription");
        return;
    }
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = cfg_distance(key, len, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    if (best != NULL)
        cfg_err_key(ld, path, "unknown key \"%s\" (did you mean \"%s\"?)", q, best);
    else
        cfg_err_key(ld, path, "unknown key \"%s\"", q);
}

/* Whether two key nodes hold the same decoded key. */
static bool cfg_same_key(const struct json_tape *t, size_t a, size_t b)
{
    size_t la, lb;
    const char *ka = json_tape_string(t, a, &la);
    const char *kb = json_tape_string(t, b, &lb);
    return la == lb && memcmp(ka, kb, la) == 0;
}

/* Reports duplicate keys of `obj` and keys not allowed at `place`. Every
 * member is seen, duplicates included. */
static void cfg_check_keys(struct cfg_loader *ld, size_t obj, const char *path,
                           enum cfg_place place)
{
    const struct json_tape *t = &ld->ld_tape;
    size_t end = json_tape_next(t, obj);
    bool dups = (t->jt_nodes[obj].tn_flags & JSON_TAPE_F_DUPS) != 0;
    const char *names[64];
    size_t n = cfg_place_keys(place, names, CFG_COUNT(names));

    for (size_t k = obj + 1; k < end && !ld->ld_oom; k = json_tape_next(t, k + 1)) {
        size_t len;
        const char *key = json_tape_string(t, k, &len);
        char *kpath = NULL;
        if (place != CFG_PLACE_ANY) {
            bool known = false;
            for (size_t i = 0; i < n && !known; i++)
                known = cfg_key_is(key, len, names[i]);
            if (!known) {
                kpath = cfg_path_key(path, key, len);
                if (kpath == NULL) {
                    cfg_oom(ld);
                    return;
                }
                /* A repeated unknown key is reported at its last copy only. */
                if (!dups || !json_tape_key_shadowed(t, k, end))
                    cfg_unknown_key(ld, place, key, len, kpath);
            }
        }
        if (dups && json_tape_key_shadowed(t, k, end)) {
            size_t k2 = json_tape_next(t, k + 1);
            while (k2 < end && !cfg_same_key(t, k, k2))
                k2 = json_tape_next(t, k2 + 1);
            if (k2 < end) {
                if (kpath == NULL)
                    kpath = cfg_path_key(path, key, len);
                if (kpath == NULL) {
                    cfg_oom(ld);
                    return;
                }
                struct json_position first;
                char q[CFG_QUOTE_MAX];
                json_position_at_offset(t->jt_src, t->jt_src_len, t->jt_nodes[k].tn_off, &first);
                cfg_display(q, sizeof(q), key, len, true);
                cfg_err_node(ld, k2, kpath,
                             "duplicate key \"%s\" (previous at line %zu, column %zu)", q,
                             first.jp_line, first.jp_column);
            }
        }
        free(kpath);
    }
}

/* ---- values ---- */

/* A number checked against a key's type and range. */
static bool cfg_number(struct cfg_loader *ld, size_t n, const char *path, const struct cfg_key *k,
                       double *out)
{
    const struct json_tape *t = &ld->ld_tape;
    bool integer = k->ck_type == CFG_T_U64 || k->ck_type == CFG_T_UINT || k->ck_type == CFG_T_SIZE;
    const char *unit = k->ck_type == CFG_T_SECONDS ? " seconds" : "";
    size_t rawlen;
    const char *raw;
    char q[CFG_QUOTE_MAX];

    if (!json_tape_is_number(t, n)) {
        cfg_err(ld, path, "expected %s, got %s", integer ? "an integer" : "a number",
                cfg_type_name(t, n));
        return false;
    }
    raw = json_tape_raw(t, n, &rawlen);
    cfg_display(q, sizeof(q), raw, rawlen, true);
    if (integer && !json_tape_is_integer(t, n)) {
        cfg_err(ld, path, "expected an integer, got %s", q);
        return false;
    }
    double v = json_tape_double(t, n);
    if (integer &&
        (json_tape_int(t, n) < (int64_t)k->ck_min || json_tape_int(t, n) > (int64_t)k->ck_max)) {
        cfg_err(ld, path, "must be between %.15g and %.15g%s, got %s", k->ck_min, k->ck_max, unit,
                q);
        return false;
    }
    if (!integer && (v < k->ck_min || v > k->ck_max)) {
        cfg_err(ld, path, "must be between %.15g and %.15g%s, got %s", k->ck_min, k->ck_max, unit,
                q);
        return false;
    }
    if (k->ck_type == CFG_T_SECONDS && v > 0 && llround(v * 1000.0) == 0) {
        cfg_err(ld, path, "must be 0 or at least 0.001 seconds, got %s", q);
        return false;
    }
    *out = v;
    return true;
}

/* Stores a checked scalar into its field. */
static void cfg_store(struct config_settings *s, const struct cfg_key *k, const struct json_tape *t,
                      size_t n, double v)
{
    char *f = (char *)s + k->ck_offset;

    switch (k->ck_type) {
    case CFG_T_U64:
        *(uint64_t *)(void *)f = (uint64_t)json_tape_int(t, n);
        break;
    case CFG_T_UINT:
        *(unsigned *)(void *)f = (unsigned)json_tape_int(t, n);
        break;
    case CFG_T_SIZE:
        *(size_t *)(void *)f = (size_t)json_tape_int(t, n);
        break;
    case CFG_T_SECONDS:
        *(uint64_t *)(void *)f = (uint64_t)llround(v * 1000.0);
        break;
    case CFG_T_REAL:
        *(double *)(void *)f = v;
        break;
    case CFG_T_BOOL:
        *(bool *)(void *)f = json_tape_type(t, n) == JSON_TAPE_TRUE;
        break;
    case CFG_T_PATH:
    case CFG_T_HEADERS:
    case CFG_T_RATE:
        break;
    }
}

/* Reads a small regular file (a secret), never blocking on a FIFO. Returns
 * the bytes (NUL-terminated, `*len` set) or NULL with `why` filled. */
static char *cfg_read_small(const char *file, size_t max, size_t *len, char *why, size_t why_size)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;

    if (fd < 0) {
        snprintf(why, why_size, "%s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, why_size, "not a regular file");
        close(fd);
        return NULL;
    }
    char *buf = malloc(max + 2);
    if (buf == NULL) {
        snprintf(why, why_size, "out of memory");
        close(fd);
        return NULL;
    }
    size_t n = 0;
    while (n <= max) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, why_size, "%s", strerror(errno));
            explicit_bzero(buf, n);
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        snprintf(why, why_size, "larger than %zu bytes", max);
        explicit_bzero(buf, n);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* systemd credential names: a file name in $CREDENTIALS_DIRECTORY. */
static bool cfg_credential_name_ok(const char *name)
{
    return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0 && strlen(name) <= NAME_MAX;
}

/* A secret header value from {"credential": NAME} or {"file": PATH}.
 * Returns it (owned, to be wiped) or NULL after reporting. */
static char *cfg_secret(struct cfg_loader *ld, size_t obj, const char *path)
{
    size_t cred = cfg_get(ld, obj, "credential");
    size_t file = cfg_get(ld, obj, "file");
    char *where = NULL, *name = NULL, *src = NULL, *value = NULL, *vpath = NULL;
    char why[256], q[CFG_QUOTE_MAX];
    size_t len = 0;

    cfg_check_keys(ld, obj, path, CFG_PLACE_SECRET);
    if ((cred == JSON_TAPE_NONE) == (file == JSON_TAPE_NONE)) {
        cfg_err(ld, path, "give exactly one of \"credential\" or \"file\"");
        return NULL;
    }
    bool is_cred = cred != JSON_TAPE_NONE;
    vpath = cfg_path_lit(path, is_cred ? "credential" : "file");
    if (vpath == NULL) {
        cfg_oom(ld);
        return NULL;
    }
    name = cfg_string(ld, is_cred ? cred : file, vpath, false);
    if (name == NULL)
        goto out;
    cfg_quote(q, sizeof(q), name);
    if (is_cred) {
        if (!cfg_credential_name_ok(name)) {
            cfg_err(ld, vpath, "invalid credential name \"%s\": a file name without '/'", q);
            goto out;
        }
        if (ld->ld_cred_dir == NULL || ld->ld_cred_dir[0] == '\0') {
            cfg_err(ld, vpath,
                    "cannot read credential \"%s\": CREDENTIALS_DIRECTORY is not set (systemd "
                    "sets it for LoadCredential=)",
                    q);
            goto out;
        }
        where = cfg_join(ld->ld_cred_dir, name);
    } else {
        where = cfg_join(ld->ld_dir, name);
    }
    if (where == NULL) {
        cfg_oom(ld);
        goto out;
    }
    char qw[CFG_QUOTE_MAX];
    cfg_quote(qw, sizeof(qw), where);
    src = cfg_read_small(where, CONFIG_SECRET_MAX_BYTES, &len, why, sizeof(why));
    if (src == NULL) {
        if (is_cred)
            cfg_err(ld, vpath, "cannot read credential \"%s\" (%s): %s", q, qw, why);
        else
            cfg_err(ld, vpath, "cannot read \"%s\": %s", qw, why);
        goto out;
    }
    /* Files written by editors and `echo` end with a newline that is not
     * part of the secret. */
    if (len > 0 && src[len - 1] == '\n') {
        src[--len] = '\0';
        if (len > 0 && src[len - 1] == '\r')
            src[--len] = '\0';
    }
    if (len == 0) {
        cfg_err(ld, vpath, "the value read from \"%s\" is empty", qw);
        goto out;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            cfg_err(ld, vpath,
                    "the value read from \"%s\" has a control character or line break (a "
                    "header value is one line)",
                    qw);
            goto out;
        }
    }
    value = src;
    src = NULL;
out:
    if (src != NULL) {
        explicit_bzero(src, len);
        free(src);
    }
    free(where);
    free(name);
    free(vpath);
    return value;
}

static void cfg_header_clear(struct config_header *h)
{
    if (h->cfh_value != NULL) {
        explicit_bzero(h->cfh_value, strlen(h->cfh_value));
        free(h->cfh_value);
    }
    if (h->cfh_line != NULL) {
        explicit_bzero(h->cfh_line, strlen(h->cfh_line));
        free(h->cfh_line);
    }
    free(h->cfh_name);
    memset(h, 0, sizeof(*h));
}

static void cfg_headers_free(struct cfg_headers *hs)
{
    for (size_t i = 0; i < hs->hs_n; i++)
        cfg_header_clear(&hs->hs_items[i]);
    free(hs->hs_items);
    memset(hs, 0, sizeof(*hs));
}

/* Adds or replaces (same name, case-insensitively) a header, taking
 * ownership of `name` and `value`. Returns -1 on allocation failure (both
 * freed). */
static int cfg_headers_set(struct cfg_headers *hs, char *name, char *value, bool secret)
{
    for (size_t i = 0; i < hs->hs_n; i++) {
        if (strcasecmp(hs->hs_items[i].cfh_name, name) == 0) {
            cfg_header_clear(&hs->hs_items[i]);
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
            explicit_bzero(value, strlen(value));
            free(value);
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

static int cfg_headers_copy(struct cfg_headers *dst, const struct cfg_headers *src)
{
    for (size_t i = 0; i < src->hs_n; i++) {
        char *name = strdup(src->hs_items[i].cfh_name);
        char *value = strdup(src->hs_items[i].cfh_value);
        if (name == NULL || value == NULL) {
            free(name);
            if (value != NULL)
                explicit_bzero(value, strlen(value));
            free(value);
            return -1;
        }
        if (cfg_headers_set(dst, name, value, src->hs_items[i].cfh_secret) != 0)
            return -1;
    }
    return 0;
}

static bool cfg_header_sensitive(const char *name)
{
    for (size_t i = 0; i < CFG_COUNT(cfg_sensitive_headers); i++)
        if (strcasecmp(name, cfg_sensitive_headers[i]) == 0)
            return true;
    return false;
}

/* Whether an earlier member of the headers object that ends before `end`
 * (and starts at `obj`) has the name of key node `key` in another case. */
static size_t cfg_header_earlier(const struct json_tape *t, size_t obj, size_t key)
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
static char *cfg_header_value(struct cfg_loader *ld, size_t val, const char *hpath, bool *secret)
{
    const struct json_tape *t = &ld->ld_tape;

    *secret = false;
    if (json_tape_type(t, val) == JSON_TAPE_OBJECT) {
        *secret = true;
        return cfg_secret(ld, val, hpath);
    }
    if (json_tape_type(t, val) != JSON_TAPE_STRING) {
        cfg_err(ld, hpath, "expected a string, {\"credential\": NAME} or {\"file\": PATH}, got %s",
                cfg_type_name(t, val));
        return NULL;
    }
    char *value = cfg_string(ld, val, hpath, true);
    if (value == NULL)
        return NULL;
    for (const char *c = value; *c != '\0'; c++) {
        unsigned char ch = (unsigned char)*c;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            cfg_err(ld, hpath, "header value has a control character or line break");
            free(value);
            return NULL;
        }
    }
    return value;
}

/* A "headers" object, applied over `hs`. */
static void cfg_headers_parse(struct cfg_loader *ld, size_t obj, const char *path,
                              struct cfg_headers *hs)
{
    const struct json_tape *t = &ld->ld_tape;
    struct json_tape_iter it;
    size_t key, val;

    if (!cfg_is_object(ld, obj, path))
        return;
    cfg_check_keys(ld, obj, path, CFG_PLACE_ANY);
    json_tape_iter_init(t, obj, &it);
    while (!ld->ld_oom && json_tape_object_next(t, &it, &key, &val)) {
        size_t len;
        const char *k = json_tape_string(t, key, &len);
        char q[CFG_QUOTE_MAX];
        char *hpath = cfg_path_key(path, k, len);
        if (hpath == NULL) {
            cfg_oom(ld);
            break;
        }
        cfg_display(q, sizeof(q), k, len, true);
        bool name_ok = len > 0;
        for (size_t i = 0; i < len && name_ok; i++)
            name_ok = http_header_is_tchar((unsigned char)k[i]);
        size_t earlier = cfg_header_earlier(t, obj, key);
        bool secret;
        char *value = NULL;
        if (!name_ok) {
            cfg_err_key(ld, hpath,
                        "invalid header name \"%s\": letters, digits and !#$%%&'*+-.^_`|~ only", q);
        } else if (http_header_name_eq(k, len, "Last-Event-ID")) {
            cfg_err_key(ld, hpath,
                        "\"%s\" cannot be set: ssemon sends the last event ID it received", q);
        } else if (earlier != JSON_TAPE_NONE) {
            struct json_position first;
            json_position_at_offset(t->jt_src, t->jt_src_len, t->jt_nodes[earlier].tn_off, &first);
            cfg_err_key(ld, hpath,
                        "header \"%s\" repeats the one at line %zu, column %zu (names ignore case)",
                        q, first.jp_line, first.jp_column);
        } else {
            value = cfg_header_value(ld, val, hpath, &secret);
        }
        if (value != NULL) {
            char *name = strndup(k, len);
            if (name == NULL) {
                explicit_bzero(value, strlen(value));
                free(value);
                cfg_oom(ld);
            } else if (cfg_headers_set(hs, name, value, secret || cfg_header_sensitive(name)) !=
                       0) {
                cfg_oom(ld);
            }
        }
        free(hpath);
    }
}

/* ca_file: a readable file, or null for the system store. */
static void cfg_ca_file(struct cfg_loader *ld, size_t n, const char *path, char **ca_file)
{
    if (json_tape_type(&ld->ld_tape, n) == JSON_TAPE_NULL) {
        free(*ca_file);
        *ca_file = NULL;
        return;
    }
    char *s = cfg_string(ld, n, path, false);
    if (s == NULL)
        return;
    char *file = cfg_join(ld->ld_dir, s);
    free(s);
    if (file == NULL) {
        cfg_oom(ld);
        return;
    }
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    char q[CFG_QUOTE_MAX];
    cfg_quote(q, sizeof(q), file);
    if (fd < 0) {
        cfg_err(ld, path, "cannot read CA file \"%s\": %s", q, strerror(errno));
        free(file);
        return;
    }
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    if (!regular) {
        cfg_err(ld, path, "CA file \"%s\" is not a regular file", q);
        free(file);
        return;
    }
    free(*ca_file);
    *ca_file = file;
}

static void cfg_settings_apply(struct cfg_loader *ld, size_t obj, const char *path, unsigned where,
                               struct config_settings *s, char **ca_file, struct cfg_headers *hs,
                               struct cfg_layer *ly);

/* "journal_rate": {"burst", "interval_s"}, each applied over `s`. */
static void cfg_rate(struct cfg_loader *ld, size_t n, const char *path, struct config_settings *s)
{
    if (!cfg_is_object(ld, n, path))
        return;
    cfg_check_keys(ld, n, path, CFG_PLACE_RATE);
    cfg_settings_apply(ld, n, path, CFG_IN_RATE, s, NULL, NULL, NULL);
}

/* Applies the settings present in `obj` over `s`: the keys of the table
 * allowed at `where`. Unknown keys are the caller's to report. */
static void cfg_settings_apply(struct cfg_loader *ld, size_t obj, const char *path, unsigned where,
                               struct config_settings *s, char **ca_file, struct cfg_headers *hs,
                               struct cfg_layer *ly)
{
    const struct json_tape *t = &ld->ld_tape;

    for (size_t i = 0; i < CFG_N_KEYS && !ld->ld_oom; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (!(k->ck_where & where))
            continue;
        size_t n = cfg_get(ld, obj, k->ck_name);
        if (n == JSON_TAPE_NONE)
            continue;
        char *kpath = cfg_path_lit(path, k->ck_name);
        if (kpath == NULL) {
            cfg_oom(ld);
            return;
        }
        double v = 0;
        switch (k->ck_type) {
        case CFG_T_U64:
        case CFG_T_UINT:
        case CFG_T_SIZE:
        case CFG_T_SECONDS:
        case CFG_T_REAL:
            if (cfg_number(ld, n, kpath, k, &v)) {
                cfg_store(s, k, t, n, v);
                if (ly != NULL && k->ck_offset == CFG_OFF(cs_backoff_min_ms))
                    ly->ly_backoff_min = true;
                if (ly != NULL && k->ck_offset == CFG_OFF(cs_backoff_max_ms))
                    ly->ly_backoff_max = true;
            }
            break;
        case CFG_T_BOOL:
            if (json_tape_type(t, n) == JSON_TAPE_TRUE || json_tape_type(t, n) == JSON_TAPE_FALSE)
                cfg_store(s, k, t, n, 0);
            else
                cfg_err(ld, kpath, "expected true or false, got %s", cfg_type_name(t, n));
            break;
        case CFG_T_PATH:
            cfg_ca_file(ld, n, kpath, ca_file);
            break;
        case CFG_T_HEADERS:
            cfg_headers_parse(ld, n, kpath, hs);
            break;
        case CFG_T_RATE:
            cfg_rate(ld, n, kpath, s);
            break;
        }
        free(kpath);
    }
}

/* backoff_max_ms must not be below backoff_min_ms once layered; reported
 * where the object at `path` set one of them (nothing when it set neither:
 * the layer below was judged on its own). */
static void cfg_check_backoff(struct cfg_loader *ld, const char *path,
                              const struct config_settings *s, const struct cfg_layer *ly)
{
    if (s->cs_backoff_max_ms >= s->cs_backoff_min_ms)
        return;
    if (!ly->ly_backoff_min && !ly->ly_backoff_max)
        return;
    char *kpath = cfg_path_lit(path, ly->ly_backoff_max ? "backoff_max_ms" : "backoff_min_ms");
    if (kpath == NULL) {
        cfg_oom(ld);
        return;
    }
    cfg_err(ld, kpath, "backoff_max_ms (%" PRIu64 ") is below backoff_min_ms (%" PRIu64 ")",
            s->cs_backoff_max_ms, s->cs_backoff_min_ms);
    free(kpath);
}

/* ---- top-level sections ---- */

static bool cfg_port(const char *s, unsigned *port)
{
    unsigned long v = 0;

    if (*s == '\0' || strlen(s) > 5)
        return false;
    for (const char *c = s; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return false;
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (v > 65535)
        return false;
    *port = (unsigned)v;
    return true;
}

/* Parses a listen address; false when it is not one. */
static bool cfg_listen_parse(const char *s, struct config_listen *out)
{
    memset(out, 0, sizeof(*out));
    if (strlen(s) >= sizeof(out->lis_text))
        return false;
    snprintf(out->lis_text, sizeof(out->lis_text), "%s", s);
    if (s[0] == '/') {
        struct sockaddr_un sun;
        if (strlen(s) >= sizeof(sun.sun_path) || strlen(s) >= sizeof(out->lis_path))
            return false;
        out->lis_kind = CONFIG_LISTEN_UNIX;
        snprintf(out->lis_path, sizeof(out->lis_path), "%s", s);
        return true;
    }
    const char *colon;
    unsigned char addr[sizeof(struct in6_addr)];
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(out->lis_host))
            return false;
        memcpy(out->lis_host, s + 1, (size_t)(close - s - 1));
        out->lis_host[close - s - 1] = '\0';
        if (inet_pton(AF_INET6, out->lis_host, addr) != 1)
            return false;
        out->lis_kind = CONFIG_LISTEN_INET6;
        return cfg_port(close + 2, &out->lis_port);
    }
    colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= sizeof(out->lis_host))
        return false;
    memcpy(out->lis_host, s, (size_t)(colon - s));
    out->lis_host[colon - s] = '\0';
    if (inet_pton(AF_INET, out->lis_host, addr) != 1)
        return false;
    out->lis_kind = CONFIG_LISTEN_INET;
    return cfg_port(colon + 1, &out->lis_port);
}

static void cfg_status(struct cfg_loader *ld, size_t n)
{
    if (!cfg_is_object(ld, n, "/status"))
        return;
    cfg_check_keys(ld, n, "/status", CFG_PLACE_STATUS);
    size_t l = cfg_get(ld, n, "listen");
    if (l == JSON_TAPE_NONE)
        return;
    char *s = cfg_string(ld, l, "/status/listen", false);
    if (s == NULL)
        return;
    struct config_listen lis;
    if (cfg_listen_parse(s, &lis)) {
        ld->ld_cfg->cfg_listen = lis;
    } else {
        char q[CFG_QUOTE_MAX];
        cfg_quote(q, sizeof(q), s);
        cfg_err(ld, "/status/listen",
                "invalid listen address \"%s\": use IPV4:PORT, [IPV6]:PORT (numeric, port 0 to "
                "65535) or an absolute unix socket path (at most %zu bytes)",
                q, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
    }
    free(s);
}

static void cfg_contracts_dir(struct cfg_loader *ld, size_t n)
{
    char *s = cfg_string(ld, n, "/contracts_dir", false);
    if (s == NULL)
        return;
    char *dir = cfg_join(ld->ld_dir, s);
    free(s);
    if (dir == NULL) {
        cfg_oom(ld);
        return;
    }
    struct stat st;
    char q[CFG_QUOTE_MAX];
    cfg_quote(q, sizeof(q), dir);
    if (stat(dir, &st) != 0) {
        cfg_err(ld, "/contracts_dir", "cannot use \"%s\": %s", q, strerror(errno));
        free(dir);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        cfg_err(ld, "/contracts_dir", "\"%s\" is not a directory", q);
        free(dir);
        return;
    }
    ld->ld_cfg->cfg_contracts_dir = dir;
}

static void cfg_defaults(struct cfg_loader *ld, size_t n)
{
    struct cfg_layer ly = {0};
    struct config *cfg = ld->ld_cfg;

    if (!cfg_is_object(ld, n, "/defaults"))
        return;
    cfg_check_keys(ld, n, "/defaults", CFG_PLACE_DEFAULTS);
    cfg_settings_apply(ld, n, "/defaults", CFG_IN_DEFAULTS, &ld->ld_defaults, &cfg->cfg_ca_file,
                       &ld->ld_def_headers, &ly);
    ld->ld_defaults.cs_ca_file = cfg->cfg_ca_file;
    cfg_check_backoff(ld, "/defaults", &ld->ld_defaults, &ly);
}

/* ---- contracts ---- */

/* contract_load's rule: a NAME has no '/' and does not end in ".json". */
static bool cfg_contract_is_path(const char *ref)
{
    size_t len = strlen(ref);
    return strchr(ref, '/') != NULL || (len >= 5 && strcmp(ref + len - 5, ".json") == 0);
}

/* Reports an unknown contract NAME with the closest known one, or the
 * list of known ones. */
static void cfg_contract_unknown(struct cfg_loader *ld, const char *ref, const char *path)
{
    char q[CFG_QUOTE_MAX];

    cfg_quote(q, sizeof(q), ref);
    if (!ld->ld_known_listed) {
        ld->ld_known_listed = true;
        if (contract_load_list(ld->ld_cfg->cfg_contracts_dir, &ld->ld_known, &ld->ld_n_known) !=
            0) {
            ld->ld_known = NULL;
            ld->ld_n_known = 0;
        }
    }
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < ld->ld_n_known; i++) {
        size_t d = cfg_distance(ref, strlen(ref), ld->ld_known[i].cen_name);
        if (d < best_d) {
            best_d = d;
            best = ld->ld_known[i].cen_name;
        }
    }
    if (best != NULL) {
        cfg_err(ld, path, "unknown contract \"%s\" (did you mean \"%s\"?)", q, best);
        return;
    }
    char list[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < ld->ld_n_known && i < CFG_LIST_CONTRACTS_MAX; i++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                         ld->ld_known[i].cen_name);
        if (w < 0 || (size_t)w >= sizeof(list) - used)
            break;
        used += (size_t)w;
    }
    if (ld->ld_n_known > CFG_LIST_CONTRACTS_MAX && used + 6 < sizeof(list))
        memcpy(list + used, ", ...", 6);
    if (ld->ld_n_known == 0)
        cfg_err(ld, path, "unknown contract \"%s\" (no contracts found)", q);
    else
        cfg_err(ld, path, "unknown contract \"%s\" (known: %s)", q, list);
}

/* Loads (once per file) the contract a subscription names. NULL after
 * reporting. */
static const struct config_contract *cfg_contract(struct cfg_loader *ld, const char *ref,
                                                  const char *path)
{
    struct config *cfg = ld->ld_cfg;
    char found[PATH_MAX];
    char q[CFG_QUOTE_MAX];
    char *lookup;
    bool is_path = cfg_contract_is_path(ref);

    lookup = is_path ? cfg_join(ld->ld_dir, ref) : strdup(ref);
    if (lookup == NULL) {
        cfg_oom(ld);
        return NULL;
    }
    cfg_quote(q, sizeof(q), ref);
    if (contract_load_resolve(lookup, cfg->cfg_contracts_dir, 0, found, sizeof(found)) != 0) {
        if (!is_path) {
            cfg_contract_unknown(ld, ref, path);
        } else {
            /* Loading it anyway gets the loader's own words for why not. */
            struct contract_load_error err;
            struct contract *c = contract_load(lookup, cfg->cfg_contracts_dir, &err);
            char qe[1500] = "the file appeared while it was looked for";
            if (c == NULL)
                cfg_display(qe, sizeof(qe), err.cle_text, strlen(err.cle_text), false);
            contract_free(c);
            cfg_err(ld, path, "cannot load contract \"%s\": %s", q, qe);
        }
        free(lookup);
        return NULL;
    }
    free(lookup);
    char *key = realpath(found, NULL);
    if (key == NULL)
        key = strdup(found);
    if (key == NULL) {
        cfg_oom(ld);
        return NULL;
    }
    struct config_contract *cc = NULL;
    for (size_t i = 0; i < cfg->cfg_n_contracts && cc == NULL; i++)
        if (strcmp(cfg->cfg_contracts[i].cct_file, key) == 0)
            cc = &cfg->cfg_contracts[i];
    if (cc != NULL) {
        free(key);
    } else {
        /* The array was sized for one contract per subscription: never moves. */
        cc = &cfg->cfg_contracts[cfg->cfg_n_contracts++];
        cc->cct_file = key;
        struct contract_load_error err;
        cc->cct_contract = contract_load(key, cfg->cfg_contracts_dir, &err);
        if (cc->cct_contract != NULL) {
            json_t *doc = contract_load_document(key, cfg->cfg_contracts_dir, &err);
            if (doc != NULL) {
                cc->cct_text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
                json_decref(doc);
                if (cc->cct_text == NULL) {
                    cfg_oom(ld);
                    return NULL;
                }
            }
        }
        if (cc->cct_text == NULL) {
            contract_free(cc->cct_contract);
            cc->cct_contract = NULL;
            cc->cct_error = strdup(err.cle_text);
            if (cc->cct_error == NULL) {
                cfg_oom(ld);
                return NULL;
            }
        }
    }
    if (cc->cct_contract == NULL) {
        char qe[1500] = "out of memory";
        if (cc->cct_error != NULL)
            cfg_display(qe, sizeof(qe), cc->cct_error, strlen(cc->cct_error), false);
        cfg_err(ld, path, "cannot load contract \"%s\": %s", q, qe);
        return NULL;
    }
    return cc;
}

/* ---- subscriptions ---- */

static bool cfg_name_ok(const char *s)
{
    for (const char *c = s; *c != '\0'; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* An http(s) URL with a host, as libcurl parses it. Messages show the URL
 * redacted. */
static bool cfg_url(struct cfg_loader *ld, const char *url, const char *path)
{
    char *red = http_header_redact_url(url);
    char q[CFG_QUOTE_MAX];
    bool ok = false;

    if (red == NULL) {
        cfg_oom(ld);
        return false;
    }
    cfg_quote(q, sizeof(q), red);
    free(red);
    CURLU *h = curl_url();
    if (h == NULL) {
        cfg_oom(ld);
        return false;
    }
    /* Any scheme parses, so that ours is the one message about schemes. */
    CURLUcode rc = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (rc != CURLUE_OK) {
        cfg_err(ld, path, "invalid URL \"%s\": %s", q, curl_url_strerror(rc));
        goto out;
    }
    char *scheme = NULL;
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || scheme == NULL ||
        (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
        char qs[CFG_QUOTE_MAX];
        cfg_quote(qs, sizeof(qs), scheme != NULL ? scheme : "");
        cfg_err(ld, path, "unsupported URL scheme \"%s\" in \"%s\": use http or https", qs, q);
        curl_free(scheme);
        goto out;
    }
    curl_free(scheme);
    char *host = NULL;
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == NULL || host[0] == '\0') {
        cfg_err(ld, path, "invalid URL \"%s\": no host", q);
        curl_free(host);
        goto out;
    }
    curl_free(host);
    ok = true;
out:
    curl_url_cleanup(h);
    return ok;
}

static int cfg_var_cmp(const void *pa, const void *pb)
{
    const struct validator_var *a = pa, *b = pb;
    return strcmp(a->vv_name, b->vv_name);
}

/* "vars": each a string, each declared by the contract (when it loaded). */
static void cfg_vars(struct cfg_loader *ld, size_t n, const char *path,
                     struct config_subscription *sub)
{
    const struct json_tape *t = &ld->ld_tape;
    const struct contract *c = sub->csu_contract ? sub->csu_contract->cct_contract : NULL;
    struct json_tape_iter it;
    size_t key, val;

    if (!cfg_is_object(ld, n, path))
        return;
    cfg_check_keys(ld, n, path, CFG_PLACE_ANY);
    size_t count = json_tape_count(t, n);
    if (count == 0)
        return;
    sub->csu_vars = calloc(count, sizeof(*sub->csu_vars));
    if (sub->csu_vars == NULL) {
        cfg_oom(ld);
        return;
    }
    json_tape_iter_init(t, n, &it);
    while (!ld->ld_oom && json_tape_object_next(t, &it, &key, &val)) {
        size_t len;
        const char *k = json_tape_string(t, key, &len);
        char *vpath = cfg_path_key(path, k, len);
        if (vpath == NULL) {
            cfg_oom(ld);
            break;
        }
        char q[CFG_QUOTE_MAX];
        cfg_display(q, sizeof(q), k, len, true);
        char *name = strndup(k, len);
        char *value = name != NULL ? cfg_string(ld, val, vpath, true) : NULL;
        if (name == NULL) {
            cfg_oom(ld);
        } else if (c != NULL && !contract_has_variable(c, name)) {
            char declared[512] = "";
            size_t used = 0;
            for (size_t i = 0; i < c->c_n_variables; i++) {
                int w = snprintf(declared + used, sizeof(declared) - used, "%s%s", i ? ", " : "",
                                 c->c_variables[i]);
                if (w < 0 || (size_t)w >= sizeof(declared) - used)
                    break;
                used += (size_t)w;
            }
            char qc[CFG_QUOTE_MAX];
            cfg_quote(qc, sizeof(qc), sub->csu_contract_name);
            if (c->c_n_variables == 0)
                cfg_err_key(ld, vpath, "contract \"%s\" declares no variables, not \"%s\"", qc, q);
            else
                cfg_err_key(ld, vpath,
                            "variable \"%s\" is not declared by contract \"%s\" (it declares: %s)",
                            q, qc, declared);
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
    qsort(sub->csu_vars, sub->csu_n_vars, sizeof(*sub->csu_vars), cfg_var_cmp);
}

static int cfg_header_cmp(const void *pa, const void *pb)
{
    const struct config_header *a = pa, *b = pb;
    int r = strcasecmp(a->cfh_name, b->cfh_name);
    return r != 0 ? r : strcmp(a->cfh_name, b->cfh_name);
}

/* Moves the layered headers into the subscription, sorted, with the lines
 * the engine sends. */
static void cfg_headers_finish(struct cfg_loader *ld, struct config_subscription *sub,
                               struct cfg_headers *hs)
{
    if (hs->hs_n == 0)
        return;
    qsort(hs->hs_items, hs->hs_n, sizeof(*hs->hs_items), cfg_header_cmp);
    sub->csu_header_lines = calloc(hs->hs_n, sizeof(*sub->csu_header_lines));
    if (sub->csu_header_lines == NULL) {
        cfg_oom(ld);
        return;
    }
    for (size_t i = 0; i < hs->hs_n; i++) {
        struct config_header *h = &hs->hs_items[i];
        if (asprintf(&h->cfh_line, "%s: %s", h->cfh_name, h->cfh_value) < 0) {
            h->cfh_line = NULL;
            cfg_oom(ld);
            return;
        }
        sub->csu_header_lines[i] = h->cfh_line;
    }
    sub->csu_headers = hs->hs_items;
    sub->csu_n_headers = hs->hs_n;
    memset(hs, 0, sizeof(*hs));
}

/* The required string member `key` of subscription `n` (a new string), or
 * NULL after reporting it missing or invalid. *kpath receives the member's
 * path (owned by the caller; NULL when out of memory). */
static char *cfg_required(struct cfg_loader *ld, size_t n, const char *path, const char *key,
                          char **kpath)
{
    *kpath = cfg_path_lit(path, key);
    if (*kpath == NULL) {
        cfg_oom(ld);
        return NULL;
    }
    size_t v = cfg_get(ld, n, key);
    if (v == JSON_TAPE_NONE) {
        cfg_err(ld, *kpath, "missing (a subscription needs \"name\", \"url\" and \"contract\")");
        return NULL;
    }
    return cfg_string(ld, v, *kpath, false);
}

static void cfg_subscription(struct cfg_loader *ld, size_t n, const char *path,
                             struct config_subscription *sub)
{
    struct cfg_layer ly = {0};
    struct cfg_headers hs = {0};

    if (!cfg_is_object(ld, n, path))
        return;
    cfg_check_keys(ld, n, path, CFG_PLACE_SUB);

    sub->csu_settings = ld->ld_defaults;
    if (ld->ld_defaults.cs_ca_file != NULL) {
        sub->csu_ca_file = strdup(ld->ld_defaults.cs_ca_file);
        if (sub->csu_ca_file == NULL) {
            cfg_oom(ld);
            return;
        }
    }
    if (cfg_headers_copy(&hs, &ld->ld_def_headers) != 0) {
        cfg_headers_free(&hs);
        cfg_oom(ld);
        return;
    }
    cfg_settings_apply(ld, n, path, CFG_IN_SUB, &sub->csu_settings, &sub->csu_ca_file, &hs, &ly);
    sub->csu_settings.cs_ca_file = sub->csu_ca_file;
    cfg_check_backoff(ld, path, &sub->csu_settings, &ly);
    cfg_headers_finish(ld, sub, &hs);
    cfg_headers_free(&hs);

    char *p = NULL;
    char *name = cfg_required(ld, n, path, "name", &p);
    if (name != NULL) {
        char q[CFG_QUOTE_MAX];
        cfg_quote(q, sizeof(q), name);
        if (strlen(name) > CONFIG_NAME_MAX)
            cfg_err(ld, p, "name \"%s\" is longer than %d bytes", q, CONFIG_NAME_MAX);
        else if (!cfg_name_ok(name))
            cfg_err(ld, p, "invalid name \"%s\": use letters, digits, '_', '.' and '-'", q);
        else
            sub->csu_name = name;
        if (sub->csu_name == NULL)
            free(name);
    }
    free(p);
    char *url = cfg_required(ld, n, path, "url", &p);
    if (url != NULL && cfg_url(ld, url, p)) {
        sub->csu_url = url;
        sub->csu_url_redacted = http_header_redact_url(url);
        if (sub->csu_url_redacted == NULL)
            cfg_oom(ld);
    } else {
        free(url);
    }
    free(p);
    sub->csu_contract_name = cfg_required(ld, n, path, "contract", &p);
    if (sub->csu_contract_name != NULL)
        sub->csu_contract = cfg_contract(ld, sub->csu_contract_name, p);
    free(p);
    size_t vars = cfg_get(ld, n, "vars");
    if (vars != JSON_TAPE_NONE && !ld->ld_oom) {
        p = cfg_path_lit(path, "vars");
        if (p == NULL) {
            cfg_oom(ld);
            return;
        }
        cfg_vars(ld, vars, p, sub);
        free(p);
    }
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
        cfg_oom(ld);
        return;
    }
    for (size_t i = 0; i < cfg->cfg_n_subs; i++) {
        if (cfg->cfg_subs[i].csu_name != NULL) {
            refs[n].nr_name = cfg->cfg_subs[i].csu_name;
            refs[n].nr_index = i;
            n++;
        }
    }
    qsort(refs, n, sizeof(*refs), cfg_name_ref_cmp);
    size_t first = 0;
    for (size_t i = 0; i < n; i++) {
        cfg->cfg_by_name[i] = refs[i].nr_index;
        if (i > 0 && strcmp(refs[i].nr_name, refs[i - 1].nr_name) == 0) {
            char *p = cfg_path_index("/subscriptions", refs[i].nr_index);
            char *fp = cfg_path_index("/subscriptions", refs[first].nr_index);
            char *np = p != NULL ? cfg_path_lit(p, "name") : NULL;
            char *nfp = fp != NULL ? cfg_path_lit(fp, "name") : NULL;
            struct json_position pos;
            char q[CFG_QUOTE_MAX];
            if (np == NULL || nfp == NULL) {
                cfg_oom(ld);
            } else if (json_position_in_tape(&ld->ld_tape, nfp, 0, &pos) == JSON_POSITION_FOUND) {
                cfg_quote(q, sizeof(q), refs[i].nr_name);
                cfg_err(ld, np, "duplicate subscription name \"%s\" (first used at line %zu)", q,
                        pos.jp_line);
            }
            free(p);
            free(fp);
            free(np);
            free(nfp);
        } else {
            first = i;
        }
    }
    free(refs);
}

static void cfg_subscriptions(struct cfg_loader *ld, size_t n)
{
    const struct json_tape *t = &ld->ld_tape;
    struct config *cfg = ld->ld_cfg;
    struct json_tape_iter it;
    size_t item, i = 0;

    if (json_tape_type(t, n) != JSON_TAPE_ARRAY) {
        cfg_err(ld, "/subscriptions", "expected an array of subscriptions, got %s",
                cfg_type_name(t, n));
        return;
    }
    size_t count = json_tape_count(t, n);
    if (count == 0)
        return;
    cfg->cfg_subs = calloc(count, sizeof(*cfg->cfg_subs));
    cfg->cfg_contracts = calloc(count, sizeof(*cfg->cfg_contracts));
    if (cfg->cfg_subs == NULL || cfg->cfg_contracts == NULL) {
        cfg_oom(ld);
        return;
    }
    json_tape_iter_init(t, n, &it);
    while (!ld->ld_oom && json_tape_array_next(t, &it, &item)) {
        char *p = cfg_path_index("/subscriptions", i);
        if (p == NULL) {
            cfg_oom(ld);
            return;
        }
        cfg->cfg_n_subs++;
        cfg_subscription(ld, item, p, &cfg->cfg_subs[i]);
        free(p);
        i++;
    }
    cfg_names(ld);
}

/* ---- load ---- */

static void cfg_subscription_free(struct config_subscription *s)
{
    free(s->csu_name);
    free(s->csu_url);
    free(s->csu_url_redacted);
    free(s->csu_contract_name);
    for (size_t i = 0; i < s->csu_n_vars; i++) {
        free((char *)s->csu_vars[i].vv_name);
        free((char *)s->csu_vars[i].vv_value);
    }
    free(s->csu_vars);
    for (size_t i = 0; i < s->csu_n_headers; i++)
        cfg_header_clear(&s->csu_headers[i]);
    free(s->csu_headers);
    free(s->csu_header_lines);
    free(s->csu_ca_file);
}

static void cfg_free(struct config *c)
{
    for (size_t i = 0; i < c->cfg_n_subs; i++)
        cfg_subscription_free(&c->cfg_subs[i]);
    free(c->cfg_subs);
    free(c->cfg_by_name);
    for (size_t i = 0; i < c->cfg_n_contracts; i++) {
        struct config_contract *cc = &c->cfg_contracts[i];
        free(cc->cct_file);
        contract_free(cc->cct_contract);
        free(cc->cct_text);
        free(cc->cct_error);
    }
    free(c->cfg_contracts);
    free(c->cfg_path);
    free(c->cfg_contracts_dir);
    free(c->cfg_ca_file);
    free(c);
}

/* The directory part of `file`, "" when it has none. */
static char *cfg_dirname(const char *file)
{
    const char *slash = strrchr(file, '/');

    if (slash == NULL)
        return strdup("");
    if (slash == file)
        return strdup("/");
    return strndup(file, (size_t)(slash - file));
}

/* Walks the document; every error goes to the list. */
static void cfg_walk(struct cfg_loader *ld)
{
    const struct json_tape *t = &ld->ld_tape;
    size_t root = json_tape_root(t);

    if (json_tape_type(t, root) != JSON_TAPE_OBJECT) {
        cfg_err(ld, "", "the configuration must be a JSON object, got %s", cfg_type_name(t, root));
        return;
    }
    cfg_check_keys(ld, root, "", CFG_PLACE_TOP);
    size_t n = cfg_get(ld, root, "status");
    if (n != JSON_TAPE_NONE)
        cfg_status(ld, n);
    n = cfg_get(ld, root, "contracts_dir");
    if (n != JSON_TAPE_NONE)
        cfg_contracts_dir(ld, n);
    n = cfg_get(ld, root, "defaults");
    if (n != JSON_TAPE_NONE)
        cfg_defaults(ld, n);
    ld->ld_cfg->cfg_defaults = ld->ld_defaults;
    n = cfg_get(ld, root, "subscriptions");
    if (n == JSON_TAPE_NONE)
        cfg_err(ld, "/subscriptions", "missing (a list of subscriptions, which may be empty)");
    else
        cfg_subscriptions(ld, n);
}

struct config *config_load_buffer(const char *text, size_t len, const char *file,
                                  struct config_errors *errors)
{
    struct cfg_loader ld;
    struct json_tape_error jerr;
    struct config *cfg = NULL;

    memset(errors, 0, sizeof(*errors));
    memset(&ld, 0, sizeof(ld));
    ld.ld_file = file != NULL ? file : "<buffer>";
    ld.ld_errors = errors;
    ld.ld_cred_dir = getenv("CREDENTIALS_DIRECTORY");
    config_defaults_init(&ld.ld_defaults);
    json_tape_init(&ld.ld_tape);
    ld.ld_dir = cfg_dirname(ld.ld_file);
    cfg = ld.ld_cfg = calloc(1, sizeof(*ld.ld_cfg));
    if (ld.ld_dir == NULL || cfg == NULL) {
        cfg_oom(&ld);
        goto done;
    }
    cfg->cfg_refs = 1;
    cfg->cfg_path = strdup(ld.ld_file);
    if (cfg->cfg_path == NULL || !cfg_listen_parse(CONFIG_DEFAULT_LISTEN, &cfg->cfg_listen)) {
        cfg_oom(&ld);
        goto done;
    }
    if (len > CONFIG_MAX_BYTES) {
        char msg[96];
        snprintf(msg, sizeof(msg), "larger than %zu bytes", CONFIG_MAX_BYTES);
        cfg_error_push(&ld, 0, 0, "", msg, false);
        goto done;
    }
    int rc = json_tape_parse(&ld.ld_tape, text, len, &jerr);
    if (rc == JSON_TAPE_ENOMEM) {
        cfg_oom(&ld);
        goto done;
    }
    if (rc != JSON_TAPE_OK) {
        char msg[256];
        snprintf(msg, sizeof(msg), "invalid JSON: %s", jerr.je_msg);
        cfg_error_push(&ld, jerr.je_line, jerr.je_column, "", msg, false);
        goto done;
    }
    cfg_walk(&ld);
done:
    if (ld.ld_oom)
        errors->ces_oom = true;
    cfg_errors_finish(&ld);
    if (errors->ces_n > 0 || errors->ces_oom) {
        if (cfg != NULL)
            cfg_free(cfg);
        cfg = NULL;
    }
    cfg_headers_free(&ld.ld_def_headers);
    contract_load_list_free(ld.ld_known, ld.ld_n_known);
    json_tape_free(&ld.ld_tape);
    free(ld.ld_dir);
    return cfg;
}

struct config *config_load(const char *path, struct config_errors *errors)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    char msg[256];
    struct cfg_loader ld;

    memset(&ld, 0, sizeof(ld));
    memset(errors, 0, sizeof(*errors));
    ld.ld_file = path;
    ld.ld_errors = errors;
    if (fd < 0) {
        snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
        cfg_error_push(&ld, 0, 0, "", msg, false);
        return NULL;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        cfg_error_push(&ld, 0, 0, "", "is a directory", false);
        return NULL;
    }
    /* Read to the end (a pipe has no size), within the limit. */
    size_t cap = 4096, n = 0;
    char *text = malloc(cap);
    while (text != NULL) {
        if (n == cap) {
            if (cap > CONFIG_MAX_BYTES) {
                snprintf(msg, sizeof(msg), "larger than %zu bytes", CONFIG_MAX_BYTES);
                cfg_error_push(&ld, 0, 0, "", msg, false);
                free(text);
                close(fd);
                return NULL;
            }
            char *bigger = realloc(text, cap * 2);
            if (bigger == NULL) {
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, text + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(msg, sizeof(msg), "cannot read: %s", strerror(errno));
            cfg_error_push(&ld, 0, 0, "", msg, false);
            free(text);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (text == NULL) {
        errors->ces_oom = true;
        return NULL;
    }
    struct config *c = config_load_buffer(text, n, path, errors);
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

const struct config_listen *config_status_listen(const struct config *c)
{
    return &c->cfg_listen;
}

const char *config_contracts_dir(const struct config *c)
{
    return c->cfg_contracts_dir;
}

const struct config_settings *config_defaults(const struct config *c)
{
    return &c->cfg_defaults;
}

bool config_listen_equal(const struct config_listen *a, const struct config_listen *b)
{
    return a->lis_kind == b->lis_kind && strcmp(a->lis_text, b->lis_text) == 0;
}

size_t config_subscription_count(const struct config *c)
{
    return c->cfg_n_subs;
}

const struct config_subscription *config_subscription_at(const struct config *c, size_t i)
{
    return i < c->cfg_n_subs ? &c->cfg_subs[i] : NULL;
}

const struct config_subscription *config_subscription_find(const struct config *c, const char *name)
{
    size_t lo = 0, hi = c->cfg_n_subs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct config_subscription *s = &c->cfg_subs[c->cfg_by_name[mid]];
        int r = strcmp(name, s->csu_name);
        if (r == 0)
            return s;
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *config_subscription_name(const struct config_subscription *s)
{
    return s->csu_name;
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
    return s->csu_contract->cct_contract;
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
    return s->csu_n_headers;
}

const char *config_subscription_header_name(const struct config_subscription *s, size_t i)
{
    return i < s->csu_n_headers ? s->csu_headers[i].cfh_name : NULL;
}

bool config_subscription_header_secret(const struct config_subscription *s, size_t i)
{
    return i < s->csu_n_headers && s->csu_headers[i].cfh_secret;
}

int config_subscription_header_log(const struct config_subscription *s, size_t i, char *buf,
                                   size_t size)
{
    if (i >= s->csu_n_headers) {
        if (size > 0)
            buf[0] = '\0';
        return 0;
    }
    const struct config_header *h = &s->csu_headers[i];
    return snprintf(buf, size, "%s: %s", h->cfh_name, h->cfh_secret ? "<redacted>" : h->cfh_value);
}

void config_subscription_sub_options(const struct config_subscription *s, struct sub_options *o)
{
    const struct config_settings *st = &s->csu_settings;

    sub_options_init(o);
    o->so_url = s->csu_url;
    o->so_headers = s->csu_header_lines;
    o->so_nheaders = s->csu_n_headers;
    o->so_connect_timeout_ms = st->cs_connect_timeout_ms;
    o->so_idle_timeout_ms = st->cs_idle_timeout_ms;
    o->so_backoff_min_ms = st->cs_backoff_min_ms;
    o->so_backoff_max_ms = st->cs_backoff_max_ms;
    o->so_healthy_ms = st->cs_healthy_reset_ms;
    o->so_reconnect = true;
    o->so_ca_file = st->cs_ca_file;
    o->so_insecure = st->cs_insecure;
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

void config_subscription_monitor_options(const struct config_subscription *s,
                                         struct monitor_options *o)
{
    memset(o, 0, sizeof(*o));
    o->mo_name = s->csu_name;
    o->mo_display_url = s->csu_url_redacted;
    o->mo_contract = s->csu_contract->cct_contract;
    config_subscription_sub_options(s, &o->mo_sub);
    config_subscription_validator_options(s, &o->mo_val);
    o->mo_healthy_window_ms = s->csu_settings.cs_healthy_window_ms;
}

/* ---- equality ---- */

static bool cfg_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* The journal rate is left out: it is the process's flood control, not a
 * property of the subscription, and a change to it must not restart
 * every stream. */
static bool cfg_settings_eq(const struct config_settings *a, const struct config_settings *b)
{
    return a->cs_backoff_min_ms == b->cs_backoff_min_ms &&
           a->cs_backoff_max_ms == b->cs_backoff_max_ms &&
           a->cs_connect_timeout_ms == b->cs_connect_timeout_ms &&
           a->cs_idle_timeout_ms == b->cs_idle_timeout_ms &&
           a->cs_healthy_reset_ms == b->cs_healthy_reset_ms &&
           a->cs_healthy_window_ms == b->cs_healthy_window_ms &&
           a->cs_heartbeat_interval_ms == b->cs_heartbeat_interval_ms &&
           a->cs_heartbeat_tolerance == b->cs_heartbeat_tolerance && a->cs_strict == b->cs_strict &&
           a->cs_insecure == b->cs_insecure && a->cs_enabled == b->cs_enabled &&
           cfg_str_eq(a->cs_ca_file, b->cs_ca_file) && a->cs_max_line == b->cs_max_line &&
           a->cs_max_event == b->cs_max_event;
}

bool config_equal_subscription(const struct config_subscription *a,
                               const struct config_subscription *b)
{
    if (!cfg_str_eq(a->csu_name, b->csu_name) || !cfg_str_eq(a->csu_url, b->csu_url) ||
        !cfg_str_eq(a->csu_contract_name, b->csu_contract_name) ||
        !cfg_str_eq(a->csu_contract->cct_text, b->csu_contract->cct_text) ||
        !cfg_settings_eq(&a->csu_settings, &b->csu_settings))
        return false;
    if (a->csu_n_vars != b->csu_n_vars || a->csu_n_headers != b->csu_n_headers)
        return false;
    for (size_t i = 0; i < a->csu_n_vars; i++) {
        if (strcmp(a->csu_vars[i].vv_name, b->csu_vars[i].vv_name) != 0 ||
            strcmp(a->csu_vars[i].vv_value, b->csu_vars[i].vv_value) != 0)
            return false;
    }
    for (size_t i = 0; i < a->csu_n_headers; i++) {
        const struct config_header *ha = &a->csu_headers[i], *hb = &b->csu_headers[i];
        if (strcmp(ha->cfh_name, hb->cfh_name) != 0 || strcmp(ha->cfh_value, hb->cfh_value) != 0 ||
            ha->cfh_secret != hb->cfh_secret)
            return false;
    }
    return true;
}
