/*
 * libFuzzer target for contract loading: arbitrary bytes as a contract
 * document (with "extends" resolved by NAME from the shipped contracts
 * only) must never crash or leak, and a contract that compiles must keep
 * the model's promises: every index in range, every referenced variant,
 * variable and state declared.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/config/contract_load.h"

#define FUZZ_CONTRACTS_DIR SSEMON_SOURCE_DIR "/etc/ssemon/contracts"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "contract model broken: %s\n", what);
    abort();
}

static bool fuzz_has_variant(const struct contract_event *e, const char *value)
{
    for (size_t i = 0; i < e->ce_n_variants; i++)
        if (strcmp(e->ce_variants[i].cv_value, value) == 0)
            return true;
    return false;
}

static void fuzz_check_model(const struct contract *c)
{
    fuzz_check(c->c_name != NULL, "name");
    fuzz_check(c->c_n_events > 0, "events");
    fuzz_check(c->c_status >= 100 && c->c_status <= 599, "status");
    for (size_t i = 0; i < c->c_n_events; i++) {
        const struct contract_event *e = &c->c_events[i];
        fuzz_check(contract_event_index(c, e->ce_name, strlen(e->ce_name)) == i, "event index");
        fuzz_check((e->ce_discriminator == NULL) == (e->ce_n_variants == 0), "variants");
        for (size_t k = 0; k < e->ce_n_equals; k++)
            fuzz_check(contract_has_variable(c, e->ce_equals[k].ceq_var), "equals variable");
    }
    for (size_t i = 0; i < c->c_n_headers; i++) {
        const struct contract_header *h = &c->c_headers[i];
        int rules = (h->ch_equals != NULL) + (h->ch_pattern != NULL) + h->ch_absent;
        fuzz_check(rules <= 1, "header rule");
    }
    if (c->c_cid.cc_equals_var != NULL)
        fuzz_check(contract_has_variable(c, c->c_cid.cc_equals_var), "cid variable");
    if (c->c_n_states > 0) {
        fuzz_check(c->c_initial < c->c_n_states, "initial");
        fuzz_check(!c->c_states[c->c_initial].cs_final, "initial final");
    }
    for (size_t s = 0; s < c->c_n_states; s++) {
        const struct contract_state *st = &c->c_states[s];
        fuzz_check(contract_state_index(c, st->cs_name) == s, "state index");
        fuzz_check(!st->cs_final || st->cs_n_on == 0, "final transitions");
        for (size_t i = 0; i < st->cs_n_on; i++) {
            const struct contract_transition *t = &st->cs_on[i];
            fuzz_check(t->ct_event < c->c_n_events, "transition event");
            fuzz_check(t->ct_target < c->c_n_states, "transition target");
            fuzz_check(t->ct_variant == NULL ||
                           fuzz_has_variant(&c->c_events[t->ct_event], t->ct_variant),
                       "transition variant");
        }
    }
    fuzz_check(c->c_hb_tolerance >= 1.0, "tolerance");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct contract_load_error err;
    struct contract *c = contract_load_buffer((const char *)data, size, "fuzz.json",
                                              FUZZ_CONTRACTS_DIR, CONTRACT_LOAD_DIR_ONLY, &err);

    if (c == NULL) {
        fuzz_check(err.cle_text[0] != '\0' && err.cle_message[0] != '\0', "error text");
        return 0;
    }
    fuzz_check_model(c);
    contract_free(c);
    return 0;
}
