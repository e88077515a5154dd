/*
 * status_server: the daemon's small local HTTP endpoint (libevent evhttp):
 * GET /status, /status/NAME (JSON), /metrics (Prometheus text 0.0.4),
 * /healthz, /readyz. Adapter. It reads the daemon's state through a view
 * callback at request time, so it never holds stale pointers across a
 * reload, and it never blocks the loop: slow or malformed clients are
 * bounded by evhttp's limits and timeouts.
 */
#ifndef SSEMON_STATUS_SERVER_H
#define SSEMON_STATUS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssemon/monitor.h"

struct event_base;
struct status_server;

/* A violation kept in the daemon's recent list. */
struct status_recent {
    char sr_subscription[128];
    struct monitor_violation sr_v;
};

/* What the daemon shows; valid for the duration of one request. */
struct status_view {
    const char *sv_version;
    uint64_t sv_started_wall_ms;
    uint64_t sv_started_mono_ms;
    const char *sv_config_path;
    struct monitor *const *sv_monitors; /* enabled subscriptions, config order */
    size_t sv_n_monitors;
    const struct status_recent *sv_recent; /* oldest first */
    size_t sv_n_recent;
};

typedef void (*status_view_fn)(void *ctx, struct status_view *out);

struct status_server_limits {
    size_t ssl_max_header_bytes;  /* default 8 KiB */
    size_t ssl_max_body_bytes;    /* default 0: GET/HEAD only */
    int ssl_timeout_s;            /* read/write timeout per connection, default 5 */
    unsigned ssl_max_connections; /* default 64 */
};

/* Listens on "HOST:PORT" (IPv4 or [IPv6]) or a unix socket path ("/..."),
 * Returns NULL with a message in `err`. */
struct status_server *status_server_new(struct event_base *base, const char *listen,
                                        const struct status_server_limits *limits,
                                        status_view_fn view, void *ctx, char *err, size_t err_size);
void status_server_free(struct status_server *s);
/* The bound port (for "127.0.0.1:0" in tests), 0 for a unix socket. */
unsigned status_server_port(const struct status_server *s);

/* Renderers, used by the server and by tests. `now_mono_ms`/`now_wall_ms`
 * are the clocks at render time. */
struct json_writer;
void status_render_json(const struct status_view *v, const char *only_name, uint64_t now_mono_ms,
                        uint64_t now_wall_ms, uint64_t healthy_window_ms, struct json_writer *w);
void status_render_metrics(const struct status_view *v, uint64_t now_mono_ms,
                           struct json_writer *w);

#endif
