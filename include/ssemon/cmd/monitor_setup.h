/*
 * monitor_setup: a configured subscription turned into a monitor's options.
 * Cmd-layer module shared by the commands that run configured subscriptions
 * (`ssemon run`, `ssemon probe`), so both connect exactly alike: the same
 * URL, headers, variables, settings and, for a subscription whose URL,
 * headers or vars use ${uuid}, a fresh UUID v4 for every connection attempt
 * (one value shared by that attempt's URL, headers and vars).
 *
 * Every pointer put into the options points into the configuration, which
 * must outlive the monitor.
 */
#ifndef SSEMON_CMD_MONITOR_SETUP_H
#define SSEMON_CMD_MONITOR_SETUP_H

#include "ssemon/config/config.h"
#include "ssemon/io/monitor.h"

/* Fills `o` for `cs`. For a per-attempt subscription it sets mo_prepare to
 * monitor_setup_prepare and mo_prepare_ctx to `cs`. */
void monitor_setup_options(const struct config_subscription *cs, struct monitor_options *o);

/* The mo_prepare of a per-attempt subscription (`ctx` is the
 * const struct config_subscription *). Returns 0, or -1 when out of memory. */
int monitor_setup_prepare(void *ctx, struct monitor *m, uint64_t attempt,
                          struct monitor_attempt *out);

#endif
