/*
 * status_page: the status endpoint's HTML page (GET /): one self-contained
 * server-rendered document (inline CSS, no script, no external asset) made
 * from the same view as the /status JSON: subscriptions, probes, the recent
 * violations, the configuration and its last reload, links to /status,
 * /metrics and /readyz. Everything that came from a stream or a
 * configuration is HTML-escaped, and invalid UTF-8 in it is shown as
 * U+FFFD. No I/O: text goes to a json_writer (used as a byte buffer) the
 * caller owns and sends. Io layer (it reads monitors); every function and
 * private name starts with status_page_ (STATUS_PAGE_ for macros).
 *
 * Ownership: everything a view or a row points to is the caller's and only
 * borrowed during the call.
 */
#ifndef SSEMON_STATUS_PAGE_H
#define SSEMON_STATUS_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "ssemon/io/status_render.h"

struct json_writer;

/* Bounds of the refresh interval (seconds) a page may ask for. */
#define STATUS_PAGE_REFRESH_MIN 5u
#define STATUS_PAGE_REFRESH_MAX 3600u

/* The refresh interval a request's query string asks for ("refresh=N",
 * among other parameters; NULL: none): N clamped to [MIN, MAX], or 0 (no
 * refresh) when the parameter is absent or not a decimal number. */
unsigned status_page_refresh(const char *query);

/* Appends s[0..len) HTML-escaped (& < > " ' as references; invalid UTF-8
 * and control characters other than tab and newline as U+FFFD). */
void status_page_escape(struct json_writer *w, const char *s, size_t len);

/* The whole page. `refresh_s` 0: no refresh, else a <meta http-equiv=
 * "refresh"> of that many seconds (the caller bounds it). `now_mono_ms` is
 * the monotonic clock (health), `now_wall_ms` the wall clock (ages). Check
 * json_writer_failed() afterwards. */
void status_page_render(const struct status_view *v, unsigned refresh_s, uint64_t now_mono_ms,
                        uint64_t now_wall_ms, struct json_writer *w);
/* The same over explicit rows standing in for v->sv_monitors (tests and
 * benches). */
void status_page_render_rows(const struct status_view *v, const struct status_row *rows,
                             size_t n_rows, unsigned refresh_s, uint64_t now_wall_ms,
                             struct json_writer *w);

#endif
