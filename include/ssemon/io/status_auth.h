/*
 * status_auth: HTTP basic authentication of the status endpoint
 * ("status": {"basic_auth_users": {USER: BCRYPT_HASH}, "auth_health": B}),
 * the convention of Prometheus' exporter-toolkit web configuration. A
 * password is checked with the system's crypt_r (libxcrypt: bcrypt
 * "$2b$"/"$2y$"/"$2a$") and the result compared in constant time; an unknown
 * user is hashed with the salt and cost of the costliest hash configured (and
 * refused), so it
 * costs what a wrong password costs. Neither a password nor a hash is ever
 * logged or put in a reply.
 *
 * bcrypt is slow (tens of milliseconds at cost 10), so it never runs on
 * the event loop: a request whose credentials need a check is deferred
 * (status_auth_admit returns STATUS_AUTH_DEFERRED) and its check queued for
 * one worker thread, started at the first such request, which checks them
 * in turn. At most STATUS_AUTH_QUEUE checks wait or run at once, and at
 * most STATUS_AUTH_QUEUE_PER_USER of them for one user name (all unknown
 * names counting as one): a storm of wrong passwords for one name, or for
 * made-up names, fills its own share, not the queue, and another user's
 * first check waits for at most a few bcrypt runs. A request beyond that
 * is answered at once 429 Too Many Requests with Retry-After: 1, no bcrypt
 * run. The worker hands each result back to the loop through an eventfd
 * the loop reads; there the request is refused (401) or admitted, by the
 * callback given to status_auth_admit. A successful check is remembered
 * for STATUS_AUTH_CACHE_MS: the cache holds only an HMAC-SHA-256, under a
 * key drawn at random when the object is made, of the user and password
 * the client sent (never the password), and a hit admits the request at
 * once, on the loop (one digest, no bcrypt). Failed checks are not
 * remembered. So wrong passwords, however many, cost the loop a digest
 * and a hand-over each, and the worker's queue bounds their cost. Io
 * layer.
 *
 * Ownership: status_auth_new copies the users and hashes; the object is the
 * caller's. status_auth_free stops the worker (waiting for the check it
 * runs, at most one bcrypt), hands over the results it has, answers the
 * requests still waiting 503 with Retry-After: 1, and wipes the hashes,
 * the cache and the queued passwords. Everything but the worker runs on the
 * loop's thread.
 */
#ifndef SSEMON_IO_STATUS_AUTH_H
#define SSEMON_IO_STATUS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evhttp_connection;
struct evhttp_request;
struct status_auth;

/* How long a successful check is remembered, and how many are. */
#define STATUS_AUTH_CACHE_MS 60000
#define STATUS_AUTH_CACHE_SLOTS 32
/* How many checks may wait for the worker or run on it at once, and how
 * many of them for one user (every unknown user counting as one). */
#define STATUS_AUTH_QUEUE 32
#define STATUS_AUTH_QUEUE_PER_USER 4
/* The longest "user:password" accepted once decoded (bcrypt itself reads
 * at most 72 bytes of the password). */
#define STATUS_AUTH_MAX_CREDENTIALS 1024

struct status_auth_user {
    const char *sau_name;
    const char *sau_hash; /* bcrypt: "$2b$", "$2y$" or "$2a$", cost, salt and hash (60 bytes) */
};

/* Whether `hash` has the form of a bcrypt hash crypt_r verifies: "$2a$",
 * "$2b$" or "$2y$", a two-digit cost 04 to 31, "$", 53 characters of
 * bcrypt's base-64 alphabet. */
bool status_auth_hash_valid(const char *hash);

/* A checker for `n` users (n >= 1; names unique, hashes valid). With
 * `auth_health` false, /healthz and /readyz stay open. Returns NULL with a
 * message in `err`. */
struct status_auth *status_auth_new(const struct status_auth_user *users, size_t n,
                                    bool auth_health, char *err, size_t err_size);
void status_auth_free(struct status_auth *a);

/* What became of requests, counted since the first checker: the
 * ssemon_status_auth_total{result=...} family of /metrics. ok and denied:
 * bcrypt checks done (a missing or malformed Authorization header counts
 * as denied, no bcrypt run); cached: admitted by the cache; busy: answered
 * 429, the queue being full. /healthz and /readyz, when open, are not
 * counted. */
struct status_auth_counts {
    uint64_t sac_ok;
    uint64_t sac_denied;
    uint64_t sac_cached;
    uint64_t sac_busy;
};

enum status_auth_verdict {
    STATUS_AUTH_ADMIT,    /* answer it now */
    STATUS_AUTH_ANSWERED, /* answered already: 401 or 429 */
    STATUS_AUTH_DEFERRED, /* its check is queued: `admitted` or a 401 comes later */
};

/* Continues an admitted request, on the loop, in a later turn. */
typedef void (*status_auth_admitted_fn)(void *ctx, struct evhttp_request *req);

/* Whether the request may be answered. `health` says whether its path is
 * /healthz or /readyz. STATUS_AUTH_ANSWERED: 401 with WWW-Authenticate:
 * Basic realm="ssemon", or 429 with Retry-After: 1. STATUS_AUTH_DEFERRED:
 * the request belongs to the checker until it calls `admitted(ctx, req)`
 * (the check succeeded) or answers it 401, or until status_auth_forget
 * or status_auth_free. The caller must call status_auth_forget when the
 * request's connection closes. With `admitted` NULL (a connection whose
 * close the caller does not see) a request is never deferred: one needing
 * a check is answered 429. `now_mono_ms` dates the cache. */
enum status_auth_verdict status_auth_admit(struct status_auth *a, struct evhttp_request *req,
                                           bool health, uint64_t now_mono_ms,
                                           status_auth_admitted_fn admitted, void *ctx);

/* The connection is closing (call it from its close callback): its
 * deferred requests are dropped, never touched again (a request evhttp has
 * detached from the connection is freed here), and a check not yet begun
 * is not run. */
void status_auth_forget(struct status_auth *a, struct evhttp_connection *evcon);

/* The counts so far; `to` takes over `from`'s (a reload's new checker
 * continues the old one's counts). */
const struct status_auth_counts *status_auth_counts(const struct status_auth *a);
void status_auth_carry(struct status_auth *to, const struct status_auth *from);

/* How many checks are queued, running or done but not yet acted on by the
 * loop (tests). */
size_t status_auth_pending(struct status_auth *a);

/* Checks "user" and "password" at once, on the calling thread, the cache
 * included: for tests. */
bool status_auth_check(struct status_auth *a, const char *user, const char *password,
                       uint64_t now_mono_ms);

#endif
