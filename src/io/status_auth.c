#include "ssemon/io/status_auth.h"

#include "ssemon/base/clock.h"

#include <crypt.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#define STATUS_AUTH_HASH_LEN 60
#define STATUS_AUTH_DIGEST_LEN 32

struct status_auth_slot {
    unsigned char sas_digest[STATUS_AUTH_DIGEST_LEN];
    uint64_t sas_expires_ms; /* 0: empty */
};

/* A check handed to the worker. sj_state and the fields the worker reads
 * or writes (password, setting, result) are under sa_lock; the request's
 * fields are the loop's alone. */
enum status_auth_job_state {
    STATUS_AUTH_JOB_FREE,
    STATUS_AUTH_JOB_QUEUED,  /* waits for the worker */
    STATUS_AUTH_JOB_RUNNING, /* the worker runs bcrypt on it */
    STATUS_AUTH_JOB_DONE,    /* sj_ok is the result, for the loop to act on */
};

struct status_auth_job {
    enum status_auth_job_state sj_state;
    uint64_t sj_seq; /* first come, first checked */
    char sj_password[STATUS_AUTH_MAX_CREDENTIALS + 1];
    const char *sj_setting; /* the user's hash, or the dummy for an unknown user */
    size_t sj_user;         /* the user's index; sa_n: any unknown user */
    bool sj_known;
    bool sj_ok;
    /* The loop's: NULL once the connection closed. */
    struct evhttp_request *sj_req;
    struct evhttp_connection *sj_evcon;
    status_auth_admitted_fn sj_admitted;
    void *sj_ctx;
    unsigned char sj_digest[STATUS_AUTH_DIGEST_LEN];
    bool sj_digest_ok;
};

struct status_auth {
    char **sa_names;
    char **sa_hashes;
    size_t sa_n;
    bool sa_health;
    /* Unknown users are hashed with this: the hash of the highest cost. */
    char sa_dummy[STATUS_AUTH_HASH_LEN + 1];
    unsigned char sa_key[32]; /* the cache's HMAC key */
    struct status_auth_slot sa_cache[STATUS_AUTH_CACHE_SLOTS];
    struct crypt_data *sa_crypt; /* large: allocated once; status_auth_check's */
    struct status_auth_counts sa_counts;
    /* The worker, started at the first deferred check. */
    bool sa_started;
    bool sa_stop; /* under sa_lock */
    pthread_t sa_thread;
    pthread_mutex_t sa_lock;
    pthread_cond_t sa_wake;
    int sa_efd; /* -1 until started: the worker's "results are in" */
    struct event *sa_done;
    struct crypt_data *sa_worker_crypt;
    uint64_t sa_seq;
    struct status_auth_job sa_jobs[STATUS_AUTH_QUEUE];
};

static const char status_auth_b64[] =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

bool status_auth_hash_valid(const char *hash)
{
    if (hash == NULL || strlen(hash) != STATUS_AUTH_HASH_LEN)
        return false;
    if (strncmp(hash, "$2a$", 4) != 0 && strncmp(hash, "$2b$", 4) != 0 &&
        strncmp(hash, "$2y$", 4) != 0)
        return false;
    if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9' || hash[6] != '$')
        return false;
    int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    for (size_t i = 7; i < STATUS_AUTH_HASH_LEN; i++)
        if (strchr(status_auth_b64, hash[i]) == NULL || hash[i] == '\0')
            return false;
    return true;
}

static void status_auth_wipe_free(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static void status_auth_job_clear(struct status_auth_job *j)
{
    OPENSSL_cleanse(j->sj_password, sizeof(j->sj_password));
    OPENSSL_cleanse(j->sj_digest, sizeof(j->sj_digest));
    j->sj_state = STATUS_AUTH_JOB_FREE;
    j->sj_req = NULL;
    j->sj_evcon = NULL;
}

static void status_auth_results(evutil_socket_t fd, short what, void *arg);
static void status_auth_refuse(struct evhttp_request *req);
static void status_auth_reply(struct evhttp_request *req, int code, const char *reason,
                              const char *body);

/* Stops the worker: the check it runs finishes first. */
static void status_auth_stop(struct status_auth *a)
{
    if (!a->sa_started)
        return;
    pthread_mutex_lock(&a->sa_lock);
    a->sa_stop = true;
    pthread_cond_signal(&a->sa_wake);
    pthread_mutex_unlock(&a->sa_lock);
    pthread_join(a->sa_thread, NULL);
    a->sa_started = false;
    /* Results it had: acted on as usual; checks it never ran: 503. */
    status_auth_results(a->sa_efd, EV_READ, a);
    for (size_t i = 0; i < STATUS_AUTH_QUEUE; i++) {
        struct status_auth_job *j = &a->sa_jobs[i];
        struct evhttp_request *req = j->sj_req;
        status_auth_job_clear(j);
        if (req != NULL) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
            status_auth_reply(req, 503, "Service Unavailable", "authentication restarting\n");
        }
    }
}

void status_auth_free(struct status_auth *a)
{
    if (a == NULL)
        return;
    status_auth_stop(a);
    if (a->sa_done != NULL)
        event_free(a->sa_done);
    if (a->sa_efd >= 0)
        close(a->sa_efd);
    pthread_cond_destroy(&a->sa_wake);
    pthread_mutex_destroy(&a->sa_lock);
    if (a->sa_worker_crypt != NULL) {
        OPENSSL_cleanse(a->sa_worker_crypt, sizeof(*a->sa_worker_crypt));
        free(a->sa_worker_crypt);
    }
    for (size_t i = 0; i < a->sa_n; i++) {
        free(a->sa_names[i]);
        status_auth_wipe_free(a->sa_hashes[i]);
    }
    free(a->sa_names);
    free(a->sa_hashes);
    if (a->sa_crypt != NULL) {
        OPENSSL_cleanse(a->sa_crypt, sizeof(*a->sa_crypt));
        free(a->sa_crypt);
    }
    OPENSSL_cleanse(a, sizeof(*a));
    free(a);
}

struct status_auth *status_auth_new(const struct status_auth_user *users, size_t n,
                                    bool auth_health, char *err, size_t err_size)
{
    if (n == 0) {
        snprintf(err, err_size, "basic authentication needs at least one user");
        return NULL;
    }
    struct status_auth *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    a->sa_health = auth_health;
    a->sa_efd = -1;
    pthread_mutex_init(&a->sa_lock, NULL);
    pthread_cond_init(&a->sa_wake, NULL);
    a->sa_names = calloc(n, sizeof(*a->sa_names));
    a->sa_hashes = calloc(n, sizeof(*a->sa_hashes));
    a->sa_crypt = calloc(1, sizeof(*a->sa_crypt));
    if (a->sa_names == NULL || a->sa_hashes == NULL || a->sa_crypt == NULL) {
        status_auth_free(a);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    int max_cost = 0;
    size_t dummy = 0;
    for (size_t i = 0; i < n; i++) {
        if (!status_auth_hash_valid(users[i].sau_hash)) {
            /* The hash is not quoted: it is a secret of sorts. */
            snprintf(err, err_size, "the hash of a basic_auth_users entry is not a bcrypt hash");
            status_auth_free(a);
            return NULL;
        }
        a->sa_names[i] = strdup(users[i].sau_name);
        a->sa_hashes[i] = strdup(users[i].sau_hash);
        a->sa_n = i + 1;
        if (a->sa_names[i] == NULL || a->sa_hashes[i] == NULL) {
            status_auth_free(a);
            snprintf(err, err_size, "out of memory");
            return NULL;
        }
        int cost = (users[i].sau_hash[4] - '0') * 10 + (users[i].sau_hash[5] - '0');
        if (cost > max_cost) {
            max_cost = cost;
            dummy = i;
        }
    }
    /* The hash of the highest cost: an unknown user's password is hashed
     * with its salt and cost and then refused whatever the result. */
    memcpy(a->sa_dummy, a->sa_hashes[dummy], STATUS_AUTH_HASH_LEN + 1);
    if (getrandom(a->sa_key, sizeof(a->sa_key), 0) != (ssize_t)sizeof(a->sa_key)) {
        status_auth_free(a);
        snprintf(err, err_size, "cannot draw a random key");
        return NULL;
    }
    return a;
}

static void status_auth_digest(const struct status_auth *a, const char *user, const char *password,
                               unsigned char out[STATUS_AUTH_DIGEST_LEN])
{
    size_t ul = strlen(user), pl = strlen(password);
    unsigned char buf[STATUS_AUTH_MAX_CREDENTIALS + 2];
    memset(out, 0, STATUS_AUTH_DIGEST_LEN);
    if (ul + pl + 1 > sizeof(buf))
        return;
    memcpy(buf, user, ul);
    buf[ul] = '\0'; /* a user has no NUL: "a"+"bc" and "ab"+"c" differ */
    memcpy(buf + ul + 1, password, pl);
    unsigned int len = STATUS_AUTH_DIGEST_LEN;
    if (HMAC(EVP_sha256(), a->sa_key, (int)sizeof(a->sa_key), buf, ul + 1 + pl, out, &len) == NULL)
        memset(out, 0, STATUS_AUTH_DIGEST_LEN);
    OPENSSL_cleanse(buf, ul + 1 + pl);
}

static bool status_auth_cached(const struct status_auth *a, const unsigned char *d, uint64_t now)
{
    bool hit = false;
    for (size_t i = 0; i < STATUS_AUTH_CACHE_SLOTS; i++) {
        const struct status_auth_slot *sl = &a->sa_cache[i];
        if (sl->sas_expires_ms > now &&
            CRYPTO_memcmp(sl->sas_digest, d, STATUS_AUTH_DIGEST_LEN) == 0)
            hit = true;
    }
    return hit;
}

static void status_auth_remember(struct status_auth *a, const unsigned char *d, uint64_t now)
{
    size_t victim = 0;
    for (size_t i = 1; i < STATUS_AUTH_CACHE_SLOTS; i++)
        if (a->sa_cache[i].sas_expires_ms < a->sa_cache[victim].sas_expires_ms)
            victim = i;
    memcpy(a->sa_cache[victim].sas_digest, d, STATUS_AUTH_DIGEST_LEN);
    a->sa_cache[victim].sas_expires_ms = now + STATUS_AUTH_CACHE_MS;
}

/* The hash a password for `user` is checked against: the user's, or for
 * an unknown user the dummy (refused whatever the result). Every name is
 * compared, so the scan's time does not tell which. */
static const char *status_auth_setting(const struct status_auth *a, const char *user, bool *known,
                                       size_t *index)
{
    const char *hash = NULL;
    *index = a->sa_n;
    for (size_t i = 0; i < a->sa_n; i++)
        if (strcmp(a->sa_names[i], user) == 0) {
            hash = a->sa_hashes[i];
            *index = i;
        }
    *known = hash != NULL;
    return hash != NULL ? hash : a->sa_dummy;
}

/* bcrypt: the one slow step. Any thread, its own `cd`. */
static bool status_auth_verify(const char *password, const char *setting, bool known,
                               struct crypt_data *cd)
{
    const char *got = crypt_r(password, setting, cd);
    bool ok = got != NULL && strlen(got) == STATUS_AUTH_HASH_LEN &&
              CRYPTO_memcmp(got, setting, STATUS_AUTH_HASH_LEN) == 0 && known;
    OPENSSL_cleanse(cd, sizeof(*cd));
    return ok;
}

/* The digest of the credentials, and whether it could be made (credentials
 * too long for the cache are checked every time). */
static bool status_auth_digest_of(const struct status_auth *a, const char *user,
                                  const char *password, unsigned char d[STATUS_AUTH_DIGEST_LEN])
{
    static const unsigned char zero[STATUS_AUTH_DIGEST_LEN];
    status_auth_digest(a, user, password, d);
    return CRYPTO_memcmp(d, zero, STATUS_AUTH_DIGEST_LEN) != 0;
}

bool status_auth_check(struct status_auth *a, const char *user, const char *password,
                       uint64_t now_mono_ms)
{
    unsigned char d[STATUS_AUTH_DIGEST_LEN];
    bool digest_ok = status_auth_digest_of(a, user, password, d);
    if (digest_ok && status_auth_cached(a, d, now_mono_ms)) {
        OPENSSL_cleanse(d, sizeof(d));
        return true;
    }
    bool known;
    size_t index;
    const char *setting = status_auth_setting(a, user, &known, &index);
    bool ok = status_auth_verify(password, setting, known, a->sa_crypt);
    if (ok && digest_ok)
        status_auth_remember(a, d, now_mono_ms);
    OPENSSL_cleanse(d, sizeof(d));
    return ok;
}

/* ---- the worker ---- */

static void *status_auth_worker(void *arg)
{
    struct status_auth *a = arg;
    pthread_mutex_lock(&a->sa_lock);
    for (;;) {
        struct status_auth_job *next = NULL;
        for (size_t i = 0; i < STATUS_AUTH_QUEUE; i++) {
            struct status_auth_job *j = &a->sa_jobs[i];
            if (j->sj_state == STATUS_AUTH_JOB_QUEUED && (next == NULL || j->sj_seq < next->sj_seq))
                next = j;
        }
        if (a->sa_stop)
            break;
        if (next == NULL) {
            pthread_cond_wait(&a->sa_wake, &a->sa_lock);
            continue;
        }
        /* While RUNNING, the loop leaves the job's password and setting
         * alone. */
        next->sj_state = STATUS_AUTH_JOB_RUNNING;
        pthread_mutex_unlock(&a->sa_lock);
        bool ok = status_auth_verify(next->sj_password, next->sj_setting, next->sj_known,
                                     a->sa_worker_crypt);
        OPENSSL_cleanse(next->sj_password, sizeof(next->sj_password));
        pthread_mutex_lock(&a->sa_lock);
        next->sj_ok = ok;
        next->sj_state = STATUS_AUTH_JOB_DONE;
        uint64_t one = 1;
        /* Only fails when the counter would overflow: it is read long
         * before. */
        (void)!write(a->sa_efd, &one, sizeof(one));
    }
    pthread_mutex_unlock(&a->sa_lock);
    return NULL;
}

static bool status_auth_start(struct status_auth *a, struct event_base *base)
{
    if (a->sa_started)
        return true;
    if (base == NULL)
        return false;
    if (a->sa_worker_crypt == NULL) {
        a->sa_worker_crypt = calloc(1, sizeof(*a->sa_worker_crypt));
        if (a->sa_worker_crypt == NULL)
            return false;
    }
    if (a->sa_efd < 0) {
        a->sa_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (a->sa_efd < 0)
            return false;
    }
    if (a->sa_done == NULL) {
        a->sa_done = event_new(base, a->sa_efd, EV_READ | EV_PERSIST, status_auth_results, a);
        if (a->sa_done == NULL || event_add(a->sa_done, NULL) != 0)
            return false;
    }
    /* Signals stay the loop's: the worker starts with all of them blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&a->sa_thread, NULL, status_auth_worker, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return false;
    a->sa_started = true;
    return true;
}

/* The loop: the worker's results. */
static void status_auth_results(evutil_socket_t fd, short what, void *arg)
{
    struct status_auth *a = arg;
    (void)what;
    uint64_t n;
    (void)!read(fd, &n, sizeof(n));
    struct {
        struct evhttp_request *req;
        status_auth_admitted_fn admitted;
        void *ctx;
        bool ok;
    } done[STATUS_AUTH_QUEUE];
    size_t n_done = 0;
    uint64_t now = clock_mono_ms();
    pthread_mutex_lock(&a->sa_lock);
    for (size_t i = 0; i < STATUS_AUTH_QUEUE; i++) {
        struct status_auth_job *j = &a->sa_jobs[i];
        if (j->sj_state != STATUS_AUTH_JOB_DONE)
            continue;
        if (j->sj_req != NULL) {
            done[n_done].req = j->sj_req;
            done[n_done].admitted = j->sj_admitted;
            done[n_done].ctx = j->sj_ctx;
            done[n_done].ok = j->sj_ok;
            n_done++;
            if (j->sj_ok && j->sj_digest_ok)
                status_auth_remember(a, j->sj_digest, now);
        }
        status_auth_job_clear(j);
    }
    pthread_mutex_unlock(&a->sa_lock);
    /* Acted on with the lock released and the slots free: admitting runs
     * the server's handler. */
    for (size_t i = 0; i < n_done; i++) {
        if (done[i].ok) {
            a->sa_counts.sac_ok++;
            done[i].admitted(done[i].ctx, done[i].req);
        } else {
            a->sa_counts.sac_denied++;
            status_auth_refuse(done[i].req);
        }
    }
}

void status_auth_forget(struct status_auth *a, struct evhttp_connection *evcon)
{
    if (a == NULL || evcon == NULL || !a->sa_started)
        return;
    pthread_mutex_lock(&a->sa_lock);
    for (size_t i = 0; i < STATUS_AUTH_QUEUE; i++) {
        struct status_auth_job *j = &a->sa_jobs[i];
        if (j->sj_state == STATUS_AUTH_JOB_FREE || j->sj_evcon != evcon)
            continue;
        /* A client gone while its request was in: evhttp detached the
         * request and left it to us. Otherwise it goes with the
         * connection. */
        if (j->sj_req != NULL && evhttp_request_get_connection(j->sj_req) == NULL)
            evhttp_request_free(j->sj_req);
        j->sj_req = NULL;
        j->sj_evcon = NULL;
        if (j->sj_state == STATUS_AUTH_JOB_QUEUED)
            status_auth_job_clear(j); /* never run */
    }
    pthread_mutex_unlock(&a->sa_lock);
}

size_t status_auth_pending(struct status_auth *a)
{
    if (!a->sa_started)
        return 0;
    size_t n = 0;
    pthread_mutex_lock(&a->sa_lock);
    for (size_t i = 0; i < STATUS_AUTH_QUEUE; i++)
        n += a->sa_jobs[i].sj_state != STATUS_AUTH_JOB_FREE;
    pthread_mutex_unlock(&a->sa_lock);
    return n;
}

const struct status_auth_counts *status_auth_counts(const struct status_auth *a)
{
    return &a->sa_counts;
}

void status_auth_carry(struct status_auth *to, const struct status_auth *from)
{
    if (to != NULL && from != NULL && to != from)
        to->sa_counts = from->sa_counts;
}

/* Decodes standard base64 (with its padding) into out; -1 when it is not. */
static long status_auth_unbase64(const char *in, size_t len, char *out, size_t cap)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (size_t k = 0; k < 4; k++) {
            char ch = in[i + k];
            unsigned bits = 0;
            if (ch == '=' && i + 4 == len && k >= 2) {
                pad++;
            } else {
                const char *p = ch != '\0' ? strchr(alphabet, ch) : NULL;
                if (p == NULL || pad > 0)
                    return -1;
                bits = (unsigned)(p - alphabet);
            }
            v = (v << 6) | bits;
        }
        unsigned char bytes[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8),
                                  (unsigned char)v};
        for (int k = 0; k < 3 - pad; k++) {
            if (o >= cap)
                return -1;
            out[o++] = (char)bytes[k];
        }
    }
    return (long)o;
}

static void status_auth_reply(struct evhttp_request *req, int code, const char *reason,
                              const char *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *b = evhttp_request_get_output_buffer(req);
    evbuffer_add(b, body, strlen(body));
    evhttp_send_reply(req, code, reason, NULL);
}

static void status_auth_refuse(struct evhttp_request *req)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                      "Basic realm=\"ssemon\"");
    status_auth_reply(req, 401, "Unauthorized", "unauthorized\n");
}

static void status_auth_busy(struct status_auth *a, struct evhttp_request *req)
{
    a->sa_counts.sac_busy++;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
    status_auth_reply(req, 429, "Too Many Requests", "too many authentication checks\n");
}

/* Queues the check of `password` for `user`; false when the queue is full
 * or the worker cannot be had. */
static bool status_auth_defer(struct status_auth *a, struct evhttp_request *req, const char *user,
                              const char *password, const unsigned char *digest, bool digest_ok,
                              status_auth_admitted_fn admitted, void *ctx)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (admitted == NULL || evcon == NULL ||
        !status_auth_start(a, evhttp_connection_get_base(evcon)))
        return false;
    bool known;
    size_t index;
    const char *setting = status_auth_setting(a, user, &known, &index);
    pthread_mutex_lock(&a->sa_lock);
    struct status_auth_job *j = NULL;
    size_t same_user = 0;
    for (size_t i = 0; i < STATUS_AUTH_QUEUE; i++) {
        struct status_auth_job *k = &a->sa_jobs[i];
        if (k->sj_state == STATUS_AUTH_JOB_FREE) {
            if (j == NULL)
                j = k;
        } else if (k->sj_user == index) {
            same_user++;
        }
    }
    if (same_user >= STATUS_AUTH_QUEUE_PER_USER)
        j = NULL;
    if (j != NULL) {
        j->sj_user = index;
        /* The password fits: it came out of a STATUS_AUTH_MAX_CREDENTIALS
         * buffer. */
        snprintf(j->sj_password, sizeof(j->sj_password), "%s", password);
        j->sj_setting = setting;
        j->sj_known = known;
        j->sj_seq = ++a->sa_seq;
        j->sj_req = req;
        j->sj_evcon = evcon;
        j->sj_admitted = admitted;
        j->sj_ctx = ctx;
        memcpy(j->sj_digest, digest, STATUS_AUTH_DIGEST_LEN);
        j->sj_digest_ok = digest_ok;
        j->sj_state = STATUS_AUTH_JOB_QUEUED;
        pthread_cond_signal(&a->sa_wake);
    }
    pthread_mutex_unlock(&a->sa_lock);
    return j != NULL;
}

enum status_auth_verdict status_auth_admit(struct status_auth *a, struct evhttp_request *req,
                                           bool health, uint64_t now_mono_ms,
                                           status_auth_admitted_fn admitted, void *ctx)
{
    if (health && !a->sa_health)
        return STATUS_AUTH_ADMIT;
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    enum status_auth_verdict verdict = STATUS_AUTH_ANSWERED;
    bool refuse = true;
    if (v != NULL && strncasecmp(v, "Basic ", 6) == 0) {
        const char *b = v + 6;
        while (*b == ' ')
            b++;
        size_t len = strlen(b);
        while (len > 0 && b[len - 1] == ' ')
            len--;
        char creds[STATUS_AUTH_MAX_CREDENTIALS + 1];
        long n = len <= (STATUS_AUTH_MAX_CREDENTIALS + 2) / 3 * 4
                     ? status_auth_unbase64(b, len, creds, STATUS_AUTH_MAX_CREDENTIALS)
                     : -1;
        if (n >= 0 && memchr(creds, '\0', (size_t)n) == NULL) {
            creds[n] = '\0';
            char *colon = strchr(creds, ':');
            if (colon != NULL) {
                *colon = '\0';
                unsigned char d[STATUS_AUTH_DIGEST_LEN];
                bool digest_ok = status_auth_digest_of(a, creds, colon + 1, d);
                if (digest_ok && status_auth_cached(a, d, now_mono_ms)) {
                    a->sa_counts.sac_cached++;
                    verdict = STATUS_AUTH_ADMIT;
                } else if (status_auth_defer(a, req, creds, colon + 1, d, digest_ok, admitted,
                                             ctx)) {
                    verdict = STATUS_AUTH_DEFERRED;
                } else {
                    status_auth_busy(a, req);
                }
                refuse = false;
                OPENSSL_cleanse(d, sizeof(d));
            }
        }
        OPENSSL_cleanse(creds, sizeof(creds));
    }
    if (refuse) {
        a->sa_counts.sac_denied++;
        status_auth_refuse(req);
    }
    return verdict;
}
