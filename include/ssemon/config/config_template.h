/*
 * config_template: a string of the configuration file read as a template
 * (core/template): its syntax checked and every reference name checked
 * against what the place it appears in knows, each error located at the
 * "${" of the reference inside the string, so "FILE:LINE:COL" points at
 * the name itself. Config-layer module, used by config_subscription and
 * config_probe.
 *
 * Ownership: the template returned is the caller's (template_free).
 */
#ifndef SSEMON_CONFIG_CONFIG_TEMPLATE_H
#define SSEMON_CONFIG_CONFIG_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "ssemon/core/template.h"

struct config_doc;

/* Whether a reference name is known where the template appears. */
typedef bool (*config_template_known_fn)(void *ctx, const char *name);

/* The string at tape node `n` (at `path`, may be empty) as a template:
 * NULL after reporting a syntax error, or an unknown name as "unknown
 * template name 'NAME'; HINT" (`hint` says which names are known), or
 * when out of memory. `known` NULL: no name is known. */
struct template *config_template_read(struct config_doc *d, size_t n, const char *path,
                                      config_template_known_fn known, void *ctx, const char *hint);

/* The same for a string already decoded from node `n` (`text`, `len`
 * bytes, e.g. a header value checked elsewhere). */
struct template *config_template_compile(struct config_doc *d, size_t n, const char *path,
                                         const char *text, size_t len,
                                         config_template_known_fn known, void *ctx,
                                         const char *hint);

#endif
