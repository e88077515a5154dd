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
 * bcrypt is slow (tens of milliseconds at cost 10) and runs on the loop, so
 * a successful check is remembered for STATUS_AUTH_CACHE_MS: the cache holds
 * only an HMAC-SHA-256, under a key drawn at random when the object is
 * made, of the user and password the client sent (never the password), and
 * a scraper's repeated requests then cost one digest instead of one bcrypt.
 * Failed checks are not remembered: each costs one bcrypt. Io layer.
 *
 * Ownership: status_auth_new copies the users and hashes; the object is the
 * caller's (status_auth_free wipes the hashes and the cache).
 */
#ifndef SSEMON_IO_STATUS_AUTH_H
#define SSEMON_IO_STATUS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evhttp_request;
struct status_auth;

/* How long a successful check is remembered, and how many are. */
#define STATUS_AUTH_CACHE_MS 60000
#define STATUS_AUTH_CACHE_SLOTS 32
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

/* Whether the request may be answered. `health` says whether its path is
 * /healthz or /readyz. When not, the request has been answered already:
 * 401 with WWW-Authenticate: Basic realm="ssemon". `now_mono_ms` dates the
 * cache. */
bool status_auth_admit(struct status_auth *a, struct evhttp_request *req, bool health,
                       uint64_t now_mono_ms);

/* Checks "user" and "password" as a request would (the cache included):
 * for tests and for status_auth_admit. */
bool status_auth_check(struct status_auth *a, const char *user, const char *password,
                       uint64_t now_mono_ms);

#endif
