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

/* The defaults above, the one place they are set. */
void status_server_limits_default(struct status_server_limits *l);

/* Listens on "HOST:PORT" (an IPv4 literal or [IPv6] literal, port 0 picks
 * a free one) or a unix socket path ("/...": mode 0660; a stale socket left
 * by a dead process is replaced, a live one or any other file is an error).
 * `limits` may be NULL for the defaults; in a given struct, a zero header
 * size, timeout or connection count means its default. While the
 * connection cap is reached the server stops accepting (clients wait in
 * the kernel's backlog) until a connection closes. `view` is called at
 * each request that shows state; `ctx` is passed back to it. Returns NULL
 * with a message in `err`. */
struct status_server *status_server_new(struct event_base *base, const char *listen,
                                        const struct status_server_limits *limits,
                                        status_view_fn view, void *ctx, char *err, size_t err_size);
/* Closes every connection and the listener (and removes the unix socket). */
void status_server_free(struct status_server *s);
/* The bound port (for "127.0.0.1:0" in tests), 0 for a unix socket. */
unsigned status_server_port(const struct status_server *s);
/* Connections currently open (accepted and not yet closed). */
unsigned status_server_connections(const struct status_server *s);

/* Renderers, used by the server and by tests. `now_mono_ms`/`now_wall_ms`
 * are the clocks at render time (deadline_now_ms, monitor_wall_ms); health
 * is monitor_healthy(m, now_mono_ms), so `healthy_window_ms` and
 * `now_wall_ms` are not consulted: each monitor carries its own window and
 * every time shown is a wall-clock stamp taken when it happened.
 *
 * status_render_json writes the whole /status document, or with
 * `only_name` that subscription's object alone (nothing at all when no
 * subscription has that name). status_render_metrics writes the
 * Prometheus text exposition (format 0.0.4). Both append to `w`; check
 * json_writer_failed() afterwards. */
struct json_writer;
void status_render_json(const struct status_view *v, const char *only_name, uint64_t now_mono_ms,
                        uint64_t now_wall_ms, uint64_t healthy_window_ms, struct json_writer *w);
void status_render_metrics(const struct status_view *v, uint64_t now_mono_ms,
                           struct json_writer *w);

/* One subscription as the renderers see it. A monitor yields one through
 * status_row_from_monitor; tests build them by hand to render statistics
 * no live stream would produce on demand. Every pointer is borrowed for
 * the duration of one render. */
struct status_row {
    const char *row_name;
    const char *row_url;                 /* already redacted */
    const struct contract *row_contract; /* its name and event kinds; may be NULL */
    const struct monitor_stats *row_stats;
    bool row_healthy;
};

void status_row_from_monitor(const struct monitor *m, uint64_t now_mono_ms, struct status_row *out);

/* The renderers over explicit rows: the view supplies the daemon-wide
 * fields and the recent violations, `rows` stand in for its monitors
 * (v->sv_monitors is not read). */
void status_render_json_rows(const struct status_view *v, const struct status_row *rows,
                             size_t n_rows, const char *only_name, uint64_t now_mono_ms,
                             struct json_writer *w);
void status_render_metrics_rows(const struct status_view *v, const struct status_row *rows,
                                size_t n_rows, struct json_writer *w);

#endif
