/*
 * subscription_name: what a subscription may be called. Names are journal
 * fields, metric labels and parts of status URLs, so they are short and
 * plain: [A-Za-z0-9_.-]+. The one rule the configuration, the status
 * server and `ssemon status` apply. Pure core module.
 */
#ifndef SSEMON_CORE_SUBSCRIPTION_NAME_H
#define SSEMON_CORE_SUBSCRIPTION_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* The longest name, in bytes. */
#define SUBSCRIPTION_NAME_MAX 127

/* Whether s[0..len) uses only the name characters [A-Za-z0-9_.-] (and is
 * not empty). Length is the caller's to check against
 * SUBSCRIPTION_NAME_MAX, where it has its own message. */
bool subscription_name_chars_ok(const char *s, size_t len);

#endif
