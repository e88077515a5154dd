#include "ssemon/config/config_contracts.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/config/config_doc.h"
#include "ssemon/config/contract_load.h"

/* Contract names listed when a name is unknown and nothing is close. */
#define CONFIG_CONTRACTS_LIST_MAX 20
/* A contract's own error, quoted whole in the configuration's. */
#define CONFIG_CONTRACTS_ERROR_MAX 1500

int config_contracts_reserve(struct config_contracts *cs, size_t n)
{
    cs->ccs_items = calloc(n > 0 ? n : 1, sizeof(*cs->ccs_items));
    if (cs->ccs_items == NULL)
        return -1;
    cs->ccs_cap = n;
    return 0;
}

void config_contracts_forget_names(struct config_contracts *cs)
{
    contract_load_list_free(cs->ccs_known, cs->ccs_n_known);
    cs->ccs_known = NULL;
    cs->ccs_n_known = 0;
}

void config_contracts_free(struct config_contracts *cs)
{
    for (size_t i = 0; i < cs->ccs_n; i++) {
        struct config_contract *cc = &cs->ccs_items[i];
        free(cc->cct_file);
        contract_free(cc->cct_contract);
        free(cc->cct_text);
        free(cc->cct_error);
    }
    free(cs->ccs_items);
    config_contracts_forget_names(cs);
    memset(cs, 0, sizeof(*cs));
}

/* contract_load's rule: a NAME has no '/' and does not end in ".json". */
static bool config_contracts_is_path(const char *ref)
{
    size_t len = strlen(ref);
    return strchr(ref, '/') != NULL || (len >= 5 && strcmp(ref + len - 5, ".json") == 0);
}

/* Reports an unknown contract NAME with the closest known one, or the
 * list of known ones. */
static void config_contracts_unknown(struct config_contracts *cs, struct config_doc *d,
                                     const char *dir, const char *ref, const char *path)
{
    char q[DIAG_QUOTE_MAX];

    diag_quote(q, sizeof(q), ref);
    if (!cs->ccs_listed) {
        cs->ccs_listed = true;
        if (contract_load_list(dir, &cs->ccs_known, &cs->ccs_n_known) != 0) {
            cs->ccs_known = NULL;
            cs->ccs_n_known = 0;
        }
    }
    struct diag_suggest s;
    diag_suggest_init(&s, ref, strlen(ref));
    for (size_t i = 0; i < cs->ccs_n_known; i++)
        diag_suggest_consider(&s, cs->ccs_known[i].cen_name);
    if (s.dsg_best != NULL) {
        config_doc_err(d, path, "unknown contract \"%s\" (did you mean \"%s\"?)", q, s.dsg_best);
        return;
    }
    char list[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < cs->ccs_n_known && i < CONFIG_CONTRACTS_LIST_MAX; i++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                         cs->ccs_known[i].cen_name);
        if (w < 0 || (size_t)w >= sizeof(list) - used)
            break;
        used += (size_t)w;
    }
    if (cs->ccs_n_known > CONFIG_CONTRACTS_LIST_MAX && used + 6 < sizeof(list))
        memcpy(list + used, ", ...", 6);
    if (cs->ccs_n_known == 0)
        config_doc_err(d, path, "unknown contract \"%s\" (no contracts found)", q);
    else
        config_doc_err(d, path, "unknown contract \"%s\" (known: %s)", q, list);
}

/* Loads the contract of resolved file `key` (taking it) into a new slot:
 * compiled, and its merged text kept for comparisons across reloads.
 * NULL when out of memory. */
static struct config_contract *config_contracts_add(struct config_contracts *cs, char *key,
                                                    const char *dir)
{
    struct config_contract *cc = &cs->ccs_items[cs->ccs_n++];
    struct contract_load_error err;

    cc->cct_file = key;
    /* The identity includes the documents its schemas refer to: a changed
     * OpenAPI document is a changed contract on reload. */
    cc->cct_contract = contract_load_identified(key, dir, &cc->cct_text, &err);
    if (cc->cct_text == NULL) {
        contract_free(cc->cct_contract);
        cc->cct_contract = NULL;
        cc->cct_error = strdup(err.cle_text);
        if (cc->cct_error == NULL)
            return NULL;
    }
    return cc;
}

const struct config_contract *config_contracts_get(struct config_contracts *cs,
                                                   struct config_doc *d, const char *dir,
                                                   const char *ref, const char *path)
{
    char found[PATH_MAX];
    char q[DIAG_QUOTE_MAX];
    bool is_path = config_contracts_is_path(ref);
    char *lookup = is_path ? config_doc_join(d->cd_dir, ref) : strdup(ref);

    if (lookup == NULL) {
        config_doc_nomem(d);
        return NULL;
    }
    diag_quote(q, sizeof(q), ref);
    if (contract_load_resolve(lookup, dir, 0, found, sizeof(found)) != 0) {
        if (!is_path) {
            config_contracts_unknown(cs, d, dir, ref, path);
        } else {
            /* Loading it anyway gets the loader's own words for why not. */
            struct contract_load_error err;
            struct contract *c = contract_load(lookup, dir, &err);
            char qe[CONFIG_CONTRACTS_ERROR_MAX] = "the file appeared while it was looked for";
            if (c == NULL)
                diag_escape(qe, sizeof(qe), err.cle_text, strlen(err.cle_text), false);
            contract_free(c);
            config_doc_err(d, path, "cannot load contract \"%s\": %s", q, qe);
        }
        free(lookup);
        return NULL;
    }
    free(lookup);
    char *key = realpath(found, NULL);
    if (key == NULL)
        key = strdup(found);
    if (key == NULL) {
        config_doc_nomem(d);
        return NULL;
    }
    struct config_contract *cc = NULL;
    for (size_t i = 0; i < cs->ccs_n && cc == NULL; i++)
        if (strcmp(cs->ccs_items[i].cct_file, key) == 0)
            cc = &cs->ccs_items[i];
    if (cc != NULL) {
        free(key);
    } else if (cs->ccs_n < cs->ccs_cap) {
        cc = config_contracts_add(cs, key, dir);
        if (cc == NULL) {
            config_doc_nomem(d);
            return NULL;
        }
    } else {
        /* More contracts than reserved: a caller's mistake, not the file's. */
        free(key);
        config_doc_nomem(d);
        return NULL;
    }
    if (cc->cct_contract == NULL) {
        char qe[CONFIG_CONTRACTS_ERROR_MAX] = "out of memory";
        if (cc->cct_error != NULL)
            diag_escape(qe, sizeof(qe), cc->cct_error, strlen(cc->cct_error), false);
        config_doc_err(d, path, "cannot load contract \"%s\": %s", q, qe);
        return NULL;
    }
    return cc;
}
