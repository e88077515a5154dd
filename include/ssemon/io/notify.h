/*
 * notify: the service manager protocol (sd_notify) for Type=notify units.
 * Adapter. Every call is a no-op when NOTIFY_SOCKET is unset, so the daemon
 * runs the same in a terminal.
 */
#ifndef SSEMON_NOTIFY_H
#define SSEMON_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

void notify_ready(void);
/* STATUS=...: one line shown by `systemctl status`. */
void notify_status(const char *status);
/* RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants it; older ignore it). */
void notify_reloading(void);
void notify_stopping(void);
void notify_watchdog(void);
/* The watchdog interval the manager expects pings within, in µs; 0 when
 * the watchdog is off (WATCHDOG_USEC unset or not for this process). */
uint64_t notify_watchdog_usec(void);

#endif
