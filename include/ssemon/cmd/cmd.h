/*
 * cmd: the ssemon subcommands. Each takes the argument vector that starts at
 * its own name (argv[0] is "parse", "watch", ...) and returns the process
 * exit status. Commands may print to stdout/stderr; they never call exit().
 */
#ifndef SSEMON_CMD_H
#define SSEMON_CMD_H

int cmd_parse(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_check_contract(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_validate(int argc, char **argv);

#endif
