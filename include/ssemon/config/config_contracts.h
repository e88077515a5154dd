/*
 * config_contracts: the contracts a configuration's subscriptions name,
 * each loaded (through contract_load) once per file it resolves to and
 * shared by every subscription naming that file. An unknown NAME is
 * reported with the closest known one, or the list of known ones.
 * Config-layer module.
 *
 * Ownership: a config_contracts owns its contracts and their texts
 * (config_contracts_free); the pointers config_contracts_get returns live
 * as long as it does.
 */
#ifndef SSEMON_CONFIG_CONFIG_CONTRACTS_H
#define SSEMON_CONFIG_CONFIG_CONTRACTS_H

#include <stdbool.h>
#include <stddef.h>

struct config_doc;
struct contract;
struct contract_load_entry;

/* A contract loaded once and shared by every subscription naming its file. */
struct config_contract {
    char *cct_file;                /* resolved file: the sharing key */
    struct contract *cct_contract; /* NULL when it did not load */
    char *cct_text;                /* contract_load_identified's identity: compared on reload */
    char *cct_error;               /* why it did not load */
};

struct config_contracts {
    struct config_contract *ccs_items; /* room for the reserved count: never moves */
    size_t ccs_n;
    size_t ccs_cap;
    /* The names a NAME can reach, listed once when one is unknown. */
    struct contract_load_entry *ccs_known;
    size_t ccs_n_known;
    bool ccs_listed;
};

/* Makes room for `n` contracts (one per subscription), so the pointers
 * config_contracts_get returns never move. Returns -1 when out of memory. */
int config_contracts_reserve(struct config_contracts *cs, size_t n);

/* The contract `ref` (a NAME, or a path relative to the configuration
 * file) names, searched in `dir` (may be NULL) first; loaded now unless
 * its file already was. NULL after reporting at `path` why it cannot be
 * used. */
const struct config_contract *config_contracts_get(struct config_contracts *cs,
                                                   struct config_doc *d, const char *dir,
                                                   const char *ref, const char *path);

/* Drops the list of known names (needed only while loading). */
void config_contracts_forget_names(struct config_contracts *cs);
void config_contracts_free(struct config_contracts *cs);

#endif
