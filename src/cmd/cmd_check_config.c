/*
 * ssemon check-config: loads the daemon's configuration exactly as
 * `ssemon run` would (contracts compiled, credentials read) and says
 * whether it is usable: the ExecStartPre= of the service and the habit of
 * checking before a reload. docs/configuration.md is the reference.
 */
#include "ssemon/cmd/cmd.h"
#include "ssemon/config/config.h"

#include <getopt.h>
#include <stdio.h>

static void check_config_usage(FILE *f)
{
    fputs("usage: ssemon check-config [-c FILE]\n"
          "Loads and validates the configuration (contracts, credentials, URLs, headers)\n"
          "and prints 'configuration OK', or every error, one per line, as\n"
          "FILE:LINE:COLUMN: KEY-PATH: MESSAGE.\n"
          "  -c, --config FILE   the configuration file (default " CONFIG_DEFAULT_PATH ")\n"
          "  -h, --help          show this help\n"
          "Exit status: 0 when the configuration is valid, 2 when it is not or on a\n"
          "usage error.\n",
          f);
}

/* The probes, one line each and their steps below, after the verdict's
 * line would be lost in the noise: printed before "configuration OK". */
static void check_config_probes(const struct config *cfg)
{
    for (size_t i = 0; i < config_probe_count(cfg); i++) {
        const struct config_probe *p = config_probe_at(cfg, i);
        printf("probe %s: every %gs, %s %s\n", config_probe_name(p),
               (double)config_probe_every_ms(p) / 1000, config_probe_trigger_method(p),
               config_probe_trigger_display(p));
        if (config_probe_description(p) != NULL)
            printf("  description: %s\n", config_probe_description(p));
        for (size_t k = 0; k < config_probe_expect_count(p); k++) {
            struct config_probe_expect_view v;
            config_probe_expect_at(p, k, &v);
            printf("  expect %s on %s within %gs", v.cev_event, v.cev_subscription,
                   (double)v.cev_within_ms / 1000);
            for (size_t j = 0; j < v.cev_n_match; j++)
                printf("%s %s=%s", j ? "," : " where", config_probe_match_pointer(p, k, j),
                       template_text(config_probe_match_value(p, k, j, NULL)));
            putchar('\n');
        }
        for (size_t k = 0; k < config_probe_stream_count(p); k++)
            printf("  stream %s (%s) within %gs\n", config_probe_stream_display(p, k),
                   config_probe_stream_contract_name(p, k),
                   (double)config_probe_stream_within_ms(p, k) / 1000);
    }
}

int cmd_check_config(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = CONFIG_DEFAULT_PATH;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'h':
            check_config_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "ssemon check-config: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            check_config_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ssemon check-config: unexpected argument '%s'\n", argv[optind]);
        check_config_usage(stderr);
        return 2;
    }

    struct diag_list errors;
    struct config *cfg = config_load(path, &errors);
    if (cfg != NULL) {
        check_config_probes(cfg);
        config_unref(cfg);
        diag_list_free(&errors);
        if (puts("configuration OK") == EOF || fflush(stdout) == EOF)
            return 2;
        return 0;
    }
    for (size_t i = 0; i < errors.dl_n; i++)
        fprintf(stderr, "%s\n", errors.dl_items[i].dg_text);
    if (errors.dl_oom)
        fprintf(stderr, "%s: out of memory while checking the configuration\n", path);
    diag_list_free(&errors);
    return 2;
}
