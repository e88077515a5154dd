/*
 * ssemon check-contract: loads contracts exactly as `ssemon check` and the
 * daemon would (search path, "extends", the documents their schemas refer
 * to) and prints every error of each in one run, one line each,
 * "FILE:LINE:COL: PATH: MESSAGE", or "ok NAME (FILE)". docs/check.md is
 * the reference.
 */
#include "ssemon/cmd/cmd.h"
#include "ssemon/config/contract_load.h"

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

/* The usage text names the cap. */
_Static_assert(CONTRACT_ERRORS_MAX == 100, "check_contract_usage says 100");

static void check_contract_usage(FILE *f)
{
    fputs("usage: ssemon check-contract [--contracts-dir DIR] NAME|FILE...\n"
          "Loads each contract (NAME.json on the search path, or a file) with what it\n"
          "extends and the documents its schemas refer to, and prints 'ok NAME (FILE)'\n"
          "on stdout, or every error of it on stderr, one per line, as\n"
          "FILE:LINE:COLUMN: JSON-PATH: MESSAGE (the first 100, then how many more).\n"
          "An abstract contract (a building block) is checked as such.\n"
          "  --contracts-dir DIR   search DIR first for contract names\n"
          "  -h, --help            show this help\n"
          "Exit status: 0 when every contract is valid, 2 when one is not or on a\n"
          "usage error.\n",
          f);
}

/* Whether the contract's own file says "abstract": true (the merged
 * document keeps only the loaded file's). */
static bool check_contract_abstract(const char *arg, const char *dir)
{
    struct contract_load_error err;
    json_t *doc = contract_load_document(arg, dir, &err);
    bool abstract = json_is_true(json_object_get(doc, "abstract"));

    json_decref(doc);
    return abstract;
}

/* Checks one contract; true when it is valid. */
static bool check_contract_one(const char *arg, const char *dir)
{
    struct diag_list errors;
    struct contract *c = contract_load_all(arg, dir, CONTRACT_LOAD_ABSTRACT, &errors);

    if (c == NULL) {
        for (size_t i = 0; i < errors.dl_n; i++)
            fprintf(stderr, "%s\n", errors.dl_items[i].dg_text);
        if (errors.dl_oom)
            fprintf(stderr, "%s: out of memory while checking the contract\n", arg);
        diag_list_free(&errors);
        return false;
    }
    char file[PATH_MAX];
    if (contract_load_resolve(arg, dir, 0, file, sizeof(file)) < 0)
        snprintf(file, sizeof(file), "%s", arg);
    printf("ok %s (%s%s)\n", c->c_name, file,
           check_contract_abstract(arg, dir) ? ", abstract: only to be extended" : "");
    contract_free(c);
    diag_list_free(&errors);
    return true;
}

int cmd_check_contract(int argc, char **argv)
{
    static const struct option opts[] = {
        {"contracts-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'h':
            check_contract_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "ssemon check-contract: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            check_contract_usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "ssemon check-contract: no contract given\n");
        check_contract_usage(stderr);
        return 2;
    }
    bool all_ok = true;
    for (int i = optind; i < argc; i++)
        if (!check_contract_one(argv[i], dir))
            all_ok = false;
    if (fflush(stdout) == EOF)
        return 2;
    return all_ok ? 0 : 2;
}
