/*
 * config_keys: which keys each object of the configuration file may have.
 * The settings table (name, where it may appear, type, field of struct
 * config_settings, range in the file's unit) and the other keys of each
 * place, and the check that reports unknown, misplaced and duplicate keys
 * with the likeliest fix. Config-layer module; the reference is
 * docs/configuration.md.
 *
 * Ownership: the table is static; nothing is allocated for callers.
 */
#ifndef SSEMON_CONFIG_CONFIG_KEYS_H
#define SSEMON_CONFIG_CONFIG_KEYS_H

#include <stddef.h>

struct config_doc;

/* Where an object sits: decides which keys it may have. */
enum config_keys_place {
    CONFIG_KEYS_TOP = 0,
    CONFIG_KEYS_STATUS,
    CONFIG_KEYS_DEFAULTS,
    CONFIG_KEYS_SUB,
    CONFIG_KEYS_RATE,
    CONFIG_KEYS_SECRET,
    CONFIG_KEYS_PROBE,      /* a probe */
    CONFIG_KEYS_TRIGGER,    /* a probe's "trigger" */
    CONFIG_KEYS_EXPECT,     /* an entry of a probe's "expect" */
    CONFIG_KEYS_STREAM,     /* an entry of a probe's "streams" */
    CONFIG_KEYS_METRICS,    /* the top-level "metrics" */
    CONFIG_KEYS_STATUS_TLS, /* "status": {"tls": ...} */
    CONFIG_KEYS_ANY,        /* headers, vars: any key, duplicates still refused */
};

enum config_keys_type {
    CONFIG_KEYS_U64 = 0, /* integer into uint64_t */
    CONFIG_KEYS_UINT,    /* integer into unsigned */
    CONFIG_KEYS_SIZE,    /* integer into size_t */
    CONFIG_KEYS_SECONDS, /* number of seconds into uint64_t milliseconds */
    CONFIG_KEYS_REAL,    /* number into double */
    CONFIG_KEYS_BOOL,
    CONFIG_KEYS_PATH,    /* ca_file, client_cert: a readable file */
    CONFIG_KEYS_KEYFILE, /* client_key: a path, {"credential"} or {"file"} */
    CONFIG_KEYS_PROXY,   /* proxy: null, "env" or a proxy URL */
    CONFIG_KEYS_HOSTS,   /* no_proxy: a host list */
    CONFIG_KEYS_HEADERS, /* headers object */
    CONFIG_KEYS_RATE_OBJ /* journal_rate object */
};

/* Where a setting may appear (ck_where). */
#define CONFIG_KEYS_IN_DEFAULTS 1u
#define CONFIG_KEYS_IN_SUB 2u
#define CONFIG_KEYS_IN_RATE 4u
#define CONFIG_KEYS_IN_TRIGGER 8u /* a probe's trigger: the TLS and proxy keys */
#define CONFIG_KEYS_IN_TRANSPORT                                                                   \
    (CONFIG_KEYS_IN_DEFAULTS | CONFIG_KEYS_IN_SUB | CONFIG_KEYS_IN_TRIGGER)
#define CONFIG_KEYS_IN_BOTH (CONFIG_KEYS_IN_DEFAULTS | CONFIG_KEYS_IN_SUB)

/* One setting. */
struct config_key {
    const char *ck_name;
    enum config_keys_type ck_type;
    unsigned ck_where;
    size_t ck_offset; /* into struct config_settings (scalar types) */
    double ck_min;    /* range, in the file's unit (numbers) */
    double ck_max;
};

/* The settings, in the order they are applied; NULL past the last. */
const struct config_key *config_keys_setting(size_t i);
/* The setting `key` (`len` bytes) allowed somewhere in `where`, or NULL. */
const struct config_key *config_keys_find(const char *key, size_t len, unsigned where);

/* Reports the duplicate keys of object `obj` (at `path`) and the keys not
 * allowed at `place`, each at its own position. Every member is seen,
 * duplicates included. */
void config_keys_check(struct config_doc *d, size_t obj, const char *path,
                       enum config_keys_place place);

#endif
