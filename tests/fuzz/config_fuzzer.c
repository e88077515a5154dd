/*
 * libFuzzer target for the daemon's configuration: arbitrary bytes as the
 * configuration file must never crash or leak, every error must be one
 * printable line with a sane position, loading is deterministic (the same
 * text gives the same errors, or equal subscriptions), and a configuration
 * that loads keeps its promises: unique valid names found by
 * config_subscription_find, a contract for every subscription, secret
 * headers redacted in log lines, options filled for the engine.
 */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/config/config.h"
#include "ssemon/core/validator.h"
#include "ssemon/io/subscription.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "config promise broken: %s\n", what);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Secrets come only from files the input names, never from the
     * environment the fuzzer happens to run in. */
    unsetenv("CREDENTIALS_DIRECTORY");
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static void fuzz_check_errors(const struct diag_list *e)
{
    for (size_t i = 0; i < e->dl_n; i++) {
        const struct diag *ce = &e->dl_items[i];
        fuzz_check(ce->dg_text[0] != '\0', "empty error");
        fuzz_check(strpbrk(ce->dg_text, "\r\n") == NULL, "error spans lines");
        fuzz_check((ce->dg_line == 0) == (ce->dg_column == 0), "half a position");
        fuzz_check(strncmp(ce->dg_text, "fuzz.json", 9) == 0, "error without its file");
        fuzz_check(ce->dg_path[0] == '\0' || ce->dg_path[0] == '/', "path not a pointer");
        if (i > 0 && ce->dg_line > 0 && e->dl_items[i - 1].dg_line > 0)
            fuzz_check(ce->dg_line > e->dl_items[i - 1].dg_line ||
                           (ce->dg_line == e->dl_items[i - 1].dg_line &&
                            ce->dg_column >= e->dl_items[i - 1].dg_column),
                       "errors out of file order");
    }
}

static void fuzz_check_config(const struct config *c, const struct config *again)
{
    size_t n = config_subscription_count(c);

    fuzz_check(n == config_subscription_count(again), "count differs between loads");
    for (size_t i = 0; i < n; i++) {
        const struct config_subscription *s = config_subscription_at(c, i);
        const char *name = config_subscription_name(s);
        fuzz_check(name[0] != '\0' && strlen(name) <= CONFIG_NAME_MAX, "name length");
        fuzz_check(
            strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
                strlen(name),
            "name characters");
        fuzz_check(config_subscription_find(c, name) == s, "find by name");
        fuzz_check(config_subscription_contract(s) != NULL, "contract");
        fuzz_check(config_subscription_equal(s, config_subscription_at(again, i)),
                   "equal across loads");
        const struct config_settings *st = config_subscription_settings(s);
        fuzz_check(st->cs_backoff_min_ms <= st->cs_backoff_max_ms, "backoff order");
        for (size_t h = 0; h < config_subscription_header_count(s); h++) {
            char line[256];
            config_subscription_header_log(s, h, line, sizeof(line));
            if (config_subscription_header_secret(s, h)) {
                const char *colon = strstr(line, ": ");
                fuzz_check(colon != NULL && strcmp(colon, ": <redacted>") == 0, "secret logged");
            }
        }
        struct sub_options so;
        config_subscription_sub_options(s, &so);
        fuzz_check(so.so_nheaders == config_subscription_header_count(s), "header lines");
        fuzz_check(config_subscription_url_redacted(s) != NULL, "display URL");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag_list e1, e2;
    struct config *c1 = config_load_buffer((const char *)data, size, "fuzz.json", &e1);
    struct config *c2 = config_load_buffer((const char *)data, size, "fuzz.json", &e2);

    fuzz_check((c1 == NULL) == (c2 == NULL), "loads disagree");
    fuzz_check(e1.dl_n == e2.dl_n, "error counts differ");
    for (size_t i = 0; i < e1.dl_n; i++)
        fuzz_check(strcmp(e1.dl_items[i].dg_text, e2.dl_items[i].dg_text) == 0, "errors differ");
    fuzz_check_errors(&e1);
    if (c1 != NULL) {
        fuzz_check(e1.dl_n == 0, "errors with a configuration");
        fuzz_check_config(c1, c2);
    } else {
        fuzz_check(e1.dl_n > 0 || e1.dl_oom, "no configuration and no error");
    }
    config_unref(c1);
    config_unref(c2);
    diag_list_free(&e1);
    diag_list_free(&e2);
    return 0;
}
