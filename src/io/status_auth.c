#include "ssemon/io/status_auth.h"

#include <crypt.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define STATUS_AUTH_HASH_LEN 60
#define STATUS_AUTH_DIGEST_LEN 32

struct status_auth_slot {
    unsigned char sas_digest[STATUS_AUTH_DIGEST_LEN];
    uint64_t sas_expires_ms; /* 0: empty */
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
    struct crypt_data *sa_crypt; /* large: allocated once */
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

void status_auth_free(struct status_auth *a)
{
    if (a == NULL)
        return;
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

bool status_auth_check(struct status_auth *a, const char *user, const char *password,
                       uint64_t now_mono_ms)
{
    unsigned char d[STATUS_AUTH_DIGEST_LEN];
    status_auth_digest(a, user, password, d);
    static const unsigned char zero[STATUS_AUTH_DIGEST_LEN];
    bool digest_ok = CRYPTO_memcmp(d, zero, sizeof(d)) != 0;
    if (digest_ok && status_auth_cached(a, d, now_mono_ms)) {
        OPENSSL_cleanse(d, sizeof(d));
        return true;
    }
    /* Every name is compared, so the scan's time does not tell which. */
    const char *hash = NULL;
    for (size_t i = 0; i < a->sa_n; i++)
        if (strcmp(a->sa_names[i], user) == 0)
            hash = a->sa_hashes[i];
    const char *setting = hash != NULL ? hash : a->sa_dummy;
    const char *got = crypt_r(password, setting, a->sa_crypt);
    bool ok = got != NULL && strlen(got) == STATUS_AUTH_HASH_LEN &&
              CRYPTO_memcmp(got, setting, STATUS_AUTH_HASH_LEN) == 0 && hash != NULL;
    OPENSSL_cleanse(a->sa_crypt, sizeof(*a->sa_crypt));
    if (ok && digest_ok)
        status_auth_remember(a, d, now_mono_ms);
    OPENSSL_cleanse(d, sizeof(d));
    return ok;
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

static void status_auth_refuse(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "WWW-Authenticate", "Basic realm=\"ssemon\"");
    evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *b = evhttp_request_get_output_buffer(req);
    evbuffer_add(b, "unauthorized\n", 13);
    evhttp_send_reply(req, 401, "Unauthorized", NULL);
}

bool status_auth_admit(struct status_auth *a, struct evhttp_request *req, bool health,
                       uint64_t now_mono_ms)
{
    if (health && !a->sa_health)
        return true;
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    bool ok = false;
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
                ok = status_auth_check(a, creds, colon + 1, now_mono_ms);
            }
        }
        OPENSSL_cleanse(creds, sizeof(creds));
    }
    if (!ok)
        status_auth_refuse(req);
    return ok;
}
