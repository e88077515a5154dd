/*
 * ssemon: continuous Server-Sent Events contract monitor.
 * Wires the commands; each lives in its own cmd_*.c.
 */
#include "ssemon/cmd/cmd.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct main_command {
    const char *mc_name;
    int (*mc_run)(int argc, char **argv);
    bool mc_needs_curl;
    const char *mc_help;
};

static const struct main_command main_commands[] = {
    {"parse", cmd_parse, false, "parse raw event-stream bytes, print events as NDJSON"},
    {"watch", cmd_watch, true, "subscribe to a URL, print events and connection changes"},
    {"check", cmd_check, true, "validate a stream (URL, file, recording) against a contract"},
    {"run", cmd_run, true, "run the monitor daemon (foreground, systemd Type=notify)"},
    {"probe", cmd_probe, true, "run configured probes once: trigger, expect, measure delivery"},
    {"status", cmd_status, true, "show a running daemon's subscriptions and their health"},
    {"check-config", cmd_check_config, true, "validate the daemon's configuration file"},
    {"check-contract", cmd_check_contract, false, "print every error of contracts (NAME or file)"},
    {"validate", cmd_validate, false, "validate JSON instances against a JSON Schema file"},
};

static void main_usage(FILE *f)
{
    fputs("usage: ssemon COMMAND [options]\n\ncommands:\n", f);
    for (size_t i = 0; i < sizeof(main_commands) / sizeof(main_commands[0]); i++)
        fprintf(f, "  %-14s %s\n", main_commands[i].mc_name, main_commands[i].mc_help);
    fputs("  version        print the version\n\n"
          "'ssemon COMMAND --help' describes a command's options.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        main_usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        main_usage(stdout);
        return 0;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        printf("ssemon %s\n", SSEMON_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(main_commands) / sizeof(main_commands[0]); i++) {
        const struct main_command *mc = &main_commands[i];
        if (strcmp(name, mc->mc_name) != 0)
            continue;
        if (mc->mc_needs_curl && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "ssemon: cannot initialise libcurl\n");
            return 2;
        }
        int rc = mc->mc_run(argc - 1, argv + 1);
        if (mc->mc_needs_curl)
            curl_global_cleanup();
        return rc;
    }
    fprintf(stderr, "ssemon: unknown command '%s'\n", name);
    main_usage(stderr);
    return 2;
}
