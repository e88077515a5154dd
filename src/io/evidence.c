/*
 * Evidence files: the recording built on the loop, written by a thread.
 */
#include "ssemon/io/evidence.h"
#include "ssemon/base/clock.h"
#include "ssemon/core/flight.h"
#include "ssemon/core/recording.h"
#include "ssemon/json/json_writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Names kept: far more than any cap lets exist at once. */
#define EVIDENCE_KEPT_MAX 100000

struct evidence_job {
    char ej_name[EVIDENCE_NAME_MAX];
    char ej_sub[128];
    char *ej_text;
    size_t ej_len;
};

struct evidence_kept {
    char ek_name[EVIDENCE_NAME_MAX];
    char ek_sub[128];
    uint64_t ek_bytes;
    /* Found by the scan at start: a name does not say whether it is a
     * subscription's or a probe's, so it counts against either cap. */
    bool ek_scanned;
};

struct evidence {
    char *e_dir;
    uint64_t e_max_bytes;
    uint64_t e_max_files;
    pthread_t e_thread;
    pthread_mutex_t e_mu;
    pthread_cond_t e_cv;
    bool e_stop;
    struct evidence_job e_queue[EVIDENCE_QUEUE_MAX];
    size_t e_q_head;
    size_t e_q_n;
    /* Files written and kept, oldest first (under e_mu). */
    struct evidence_kept *e_kept;
    size_t e_n_kept;
    size_t e_kept_cap;
    struct evidence_stats e_stats; /* under e_mu */
};

static const char *const evidence_drop_names[EVIDENCE_DROP_COUNT] = {
    [EVIDENCE_DROP_QUEUE_FULL] = "queue_full",
    [EVIDENCE_DROP_WRITE_ERROR] = "write_error",
    [EVIDENCE_DROP_NO_MEMORY] = "no_memory",
};

const char *evidence_drop_name(enum evidence_drop r)
{
    return (unsigned)r < EVIDENCE_DROP_COUNT ? evidence_drop_names[r] : "unknown";
}

static void evidence_drop(struct evidence *e, enum evidence_drop r)
{
    pthread_mutex_lock(&e->e_mu);
    e->e_stats.es_dropped[r]++;
    pthread_mutex_unlock(&e->e_mu);
}

/* ---- the writer thread ---- */

static bool evidence_kept_has(const struct evidence *e, const char *name)
{
    for (size_t i = 0; i < e->e_n_kept; i++)
        if (strcmp(e->e_kept[i].ek_name, name) == 0)
            return true;
    return false;
}

/* Forgets kept file i (under e_mu), its name copied to `victim` for the
 * thread to unlink once the lock is released. */
static void evidence_forget(struct evidence *e, size_t i, char victim[EVIDENCE_NAME_MAX])
{
    memcpy(victim, e->e_kept[i].ek_name, EVIDENCE_NAME_MAX);
    e->e_stats.es_kept_bytes -= e->e_kept[i].ek_bytes;
    e->e_stats.es_kept_files--;
    e->e_stats.es_removed++;
    memmove(&e->e_kept[i], &e->e_kept[i + 1], (e->e_n_kept - i - 1) * sizeof(*e->e_kept));
    e->e_n_kept--;
}

/* Whether kept file k counts against the per-subscription cap `sub`
 * (a probe's key is "probe/NAME"). */
static bool evidence_kept_of(const struct evidence_kept *k, const char *sub)
{
    if (strcmp(k->ek_sub, sub) == 0)
        return true;
    return k->ek_scanned && strncmp(sub, "probe/", 6) == 0 && strcmp(k->ek_sub, sub + 6) == 0;
}

/* The next file over a cap (under e_mu), oldest first: per subscription
 * `sub`, then in all. Returns false when every cap is met. */
static bool evidence_over_cap(struct evidence *e, const char *sub, char victim[EVIDENCE_NAME_MAX])
{
    size_t n_sub = 0, first = SIZE_MAX;
    for (size_t i = 0; i < e->e_n_kept; i++)
        if (evidence_kept_of(&e->e_kept[i], sub) && n_sub++ == 0)
            first = i;
    if (n_sub > e->e_max_files) {
        evidence_forget(e, first, victim);
        return true;
    }
    if (e->e_n_kept > 1 &&
        (e->e_stats.es_kept_bytes > e->e_max_bytes || e->e_n_kept > EVIDENCE_KEPT_MAX)) {
        evidence_forget(e, 0, victim);
        return true;
    }
    return false;
}

static void evidence_unlink(const struct evidence *e, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", e->e_dir, name);
    (void)unlink(path);
}

static bool evidence_write_file(struct evidence *e, const struct evidence_job *j)
{
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", e->e_dir, j->ej_name);
    snprintf(path, sizeof(path), "%s/%s", e->e_dir, j->ej_name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return false;
    size_t off = 0;
    while (off < j->ej_len) {
        ssize_t w = write(fd, j->ej_text + off, j->ej_len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return false;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return false;
    }
    return true;
}

/* ---- the files of an earlier run ---- */

/* The length of the subscription part of an evidence file's name,
 * SUB-YYYYmmddTHHMMSS.mmmZ-CLASS[-N].rec (SUB over [A-Za-z0-9_.-], CLASS
 * over [a-z_]), or 0 when `name` is not one. */
static size_t evidence_parse_name(const char *name)
{
    static const char shape[] = "-ddddddddTdddddd.dddZ-";
    size_t len = strlen(name);
    if (len >= EVIDENCE_NAME_MAX || name[0] == '.' || name[0] == '-')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    /* The first '-' after which the rest has the shape: a class has no
     * '-' nor digit, so a subscription's own '-' cannot be taken for it. */
    for (size_t at = 1; at < len && at < sizeof(((struct evidence_kept *)0)->ek_sub); at++) {
        const char *p = name + at;
        size_t k = 0;
        while (shape[k] != '\0' &&
               (shape[k] == 'd' ? p[k] >= '0' && p[k] <= '9' : p[k] == shape[k]))
            k++;
        if (shape[k] != '\0')
            continue;
        const char *q = p + k;
        size_t cl = 0;
        while ((q[cl] >= 'a' && q[cl] <= 'z') || q[cl] == '_')
            cl++;
        if (cl == 0)
            continue;
        q += cl;
        if (q[0] == '-') {
            size_t d = 1;
            while (d <= 4 && q[d] >= '0' && q[d] <= '9')
                d++;
            if (d == 1)
                continue;
            q += d;
        }
        if (strcmp(q, ".rec") == 0)
            return at;
    }
    return 0;
}

/* The -N suffix of a parsed name (1 without one). */
static unsigned evidence_name_n(const char *name)
{
    size_t end = strlen(name) - 4; /* before ".rec" */
    size_t d = end;
    while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
        d--;
    if (d == end || name[d - 1] != '-')
        return 1;
    return (unsigned)strtoul(name + d, NULL, 10);
}

/* Oldest first: by the time in the name, then the -N suffix. */
static int evidence_cmp_age(const void *a, const void *b)
{
    const struct evidence_kept *x = a, *y = b;
    int c = memcmp(x->ek_name + strlen(x->ek_sub) + 1, y->ek_name + strlen(y->ek_sub) + 1, 19);
    if (c != 0)
        return c;
    unsigned nx = evidence_name_n(x->ek_name), ny = evidence_name_n(y->ek_name);
    if (nx != ny)
        return nx < ny ? -1 : 1;
    return strcmp(x->ek_name, y->ek_name);
}

/* By subscription, newest first within one. */
static int evidence_cmp_sub(const void *a, const void *b)
{
    const struct evidence_kept *x = a, *y = b;
    int c = strcmp(x->ek_sub, y->ek_sub);
    return c != 0 ? c : -evidence_cmp_age(a, b);
}

static void evidence_unlinkat(int dfd, const char *name, size_t *count)
{
    if (unlinkat(dfd, name, 0) == 0)
        (*count)++;
}

/* Keeps the entries of k[0..n) not emptied (ek_name[0] == '\0'). */
static size_t evidence_compact(struct evidence_kept *k, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        if (k[i].ek_name[0] != '\0')
            k[out++] = k[i];
    return out;
}

/* On the writer thread before it takes any job: the evidence files of an
 * earlier run (regular files named as this writer names them; at most
 * EVIDENCE_KEPT_MAX, any more ignored) become kept files, the caps
 * applied to them as if just written, oldest removed first; temporary
 * files a crash left (".NAME.tmp") are removed. */
static void evidence_scan(struct evidence *e)
{
    DIR *dir = opendir(e->e_dir);
    if (dir == NULL) {
        fprintf(stderr, "ssemon run: evidence: cannot read %s: %s\n", e->e_dir, strerror(errno));
        return;
    }
    int dfd = dirfd(dir);
    struct evidence_kept *k = NULL;
    size_t n = 0, cap = 0, ignored = 0, stale = 0, removed = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        const char *name = de->d_name;
        size_t len = strlen(name);
        struct stat st;
        bool tmp = name[0] == '.' && len > 5 && strcmp(name + len - 4, ".tmp") == 0;
        size_t sub_len = tmp ? 0 : evidence_parse_name(name);
        if ((!tmp && sub_len == 0) || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (tmp) {
            evidence_unlinkat(dfd, name, &stale);
            continue;
        }
        if (n == EVIDENCE_KEPT_MAX) {
            ignored++;
            continue;
        }
        if (n == cap) {
            size_t ncap = cap == 0 ? 64 : cap * 2;
            if (ncap > EVIDENCE_KEPT_MAX)
                ncap = EVIDENCE_KEPT_MAX;
            struct evidence_kept *nk = realloc(k, ncap * sizeof(*nk));
            if (nk == NULL) {
                ignored++;
                continue;
            }
            k = nk;
            cap = ncap;
        }
        struct evidence_kept *x = &k[n++];
        memset(x, 0, sizeof(*x));
        memcpy(x->ek_name, name, len + 1);
        memcpy(x->ek_sub, name, sub_len);
        x->ek_bytes = (uint64_t)st.st_size;
        x->ek_scanned = true;
    }
    /* The per-subscription cap, then the total, as the writer applies them. */
    if (n > 0)
        qsort(k, n, sizeof(*k), evidence_cmp_sub);
    for (size_t i = 0, run = 0; i < n; i++) {
        run = i > 0 && strcmp(k[i].ek_sub, k[i - 1].ek_sub) == 0 ? run + 1 : 0;
        if (run >= e->e_max_files) {
            evidence_unlinkat(dfd, k[i].ek_name, &removed);
            k[i].ek_name[0] = '\0';
        }
    }
    n = evidence_compact(k, n);
    if (n > 0)
        qsort(k, n, sizeof(*k), evidence_cmp_age);
    uint64_t total = 0;
    size_t first = n;
    while (first > 0 && (first == n || total + k[first - 1].ek_bytes <= e->e_max_bytes)) {
        total += k[first - 1].ek_bytes;
        first--;
    }
    for (size_t i = 0; i < first; i++)
        evidence_unlinkat(dfd, k[i].ek_name, &removed);
    if (first > 0) {
        memmove(k, k + first, (n - first) * sizeof(*k));
        n -= first;
    }
    closedir(dir);
    pthread_mutex_lock(&e->e_mu);
    /* No job was taken yet: the kept list is empty. */
    free(e->e_kept);
    e->e_kept = k;
    e->e_n_kept = n;
    e->e_kept_cap = cap;
    e->e_stats.es_kept_files = n;
    e->e_stats.es_kept_bytes = total;
    e->e_stats.es_removed += removed;
    pthread_mutex_unlock(&e->e_mu);
    if (n > 0 || removed > 0 || stale > 0 || ignored > 0)
        fprintf(stderr,
                "ssemon run: evidence: %zu files of an earlier run kept in %s, %zu removed by the "
                "caps, %zu stale temporary files removed, %zu ignored (over %d files)\n",
                n, e->e_dir, removed, stale, ignored, EVIDENCE_KEPT_MAX);
}

static void *evidence_thread(void *arg)
{
    struct evidence *e = arg;
    evidence_scan(e);
    pthread_mutex_lock(&e->e_mu);
    for (;;) {
        while (e->e_q_n == 0 && !e->e_stop)
            pthread_cond_wait(&e->e_cv, &e->e_mu);
        if (e->e_q_n == 0)
            break; /* stopping, nothing left */
        struct evidence_job j = e->e_queue[e->e_q_head];
        e->e_q_head = (e->e_q_head + 1) % EVIDENCE_QUEUE_MAX;
        e->e_q_n--;
        pthread_mutex_unlock(&e->e_mu);
        bool ok = evidence_write_file(e, &j);
        pthread_mutex_lock(&e->e_mu);
        if (!ok) {
            e->e_stats.es_dropped[EVIDENCE_DROP_WRITE_ERROR]++;
        } else {
            e->e_stats.es_files++;
            /* A name of an earlier run, just replaced by rename(). */
            for (size_t i = 0; i < e->e_n_kept; i++)
                if (strcmp(e->e_kept[i].ek_name, j.ej_name) == 0) {
                    char gone[EVIDENCE_NAME_MAX];
                    evidence_forget(e, i, gone);
                    e->e_stats.es_removed--;
                    break;
                }
            if (e->e_n_kept == e->e_kept_cap) {
                size_t cap = e->e_kept_cap == 0 ? 64 : e->e_kept_cap * 2;
                struct evidence_kept *k = realloc(e->e_kept, cap * sizeof(*k));
                if (k != NULL) {
                    e->e_kept = k;
                    e->e_kept_cap = cap;
                }
            }
            if (e->e_n_kept < e->e_kept_cap) {
                struct evidence_kept *k = &e->e_kept[e->e_n_kept++];
                snprintf(k->ek_name, sizeof(k->ek_name), "%s", j.ej_name);
                snprintf(k->ek_sub, sizeof(k->ek_sub), "%s", j.ej_sub);
                k->ek_bytes = j.ej_len;
                k->ek_scanned = false;
                e->e_stats.es_kept_bytes += j.ej_len;
                e->e_stats.es_kept_files++;
                /* The caps: the lock is not held while a file is removed. */
                char victim[EVIDENCE_NAME_MAX];
                while (evidence_over_cap(e, j.ej_sub, victim)) {
                    pthread_mutex_unlock(&e->e_mu);
                    evidence_unlink(e, victim);
                    pthread_mutex_lock(&e->e_mu);
                }
            } else {
                /* Cannot remember it: never served, so removed now. */
                pthread_mutex_unlock(&e->e_mu);
                evidence_unlink(e, j.ej_name);
                pthread_mutex_lock(&e->e_mu);
            }
        }
        free(j.ej_text);
    }
    pthread_mutex_unlock(&e->e_mu);
    return NULL;
}

/* ---- the loop's side ---- */

struct evidence *evidence_new(const char *dir, uint64_t max_bytes, uint64_t max_files, char *err,
                              size_t err_size)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "cannot create the evidence directory %s: %s", dir,
                 strerror(errno));
        return NULL;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "the evidence directory %s is not a directory", dir);
        return NULL;
    }
    struct evidence *e = calloc(1, sizeof(*e));
    if (e == NULL || (e->e_dir = strdup(dir)) == NULL) {
        free(e);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    e->e_max_bytes = max_bytes;
    e->e_max_files = max_files;
    pthread_mutex_init(&e->e_mu, NULL);
    pthread_cond_init(&e->e_cv, NULL);
    int rc = pthread_create(&e->e_thread, NULL, evidence_thread, e);
    if (rc != 0) {
        snprintf(err, err_size, "cannot start the evidence writer: %s", strerror(rc));
        pthread_mutex_destroy(&e->e_mu);
        pthread_cond_destroy(&e->e_cv);
        free(e->e_dir);
        free(e);
        return NULL;
    }
    return e;
}

void evidence_free(struct evidence *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->e_mu);
    e->e_stop = true;
    pthread_cond_signal(&e->e_cv);
    pthread_mutex_unlock(&e->e_mu);
    pthread_join(e->e_thread, NULL);
    pthread_mutex_destroy(&e->e_mu);
    pthread_cond_destroy(&e->e_cv);
    free(e->e_kept);
    free(e->e_dir);
    free(e);
}

const char *evidence_dir(const struct evidence *e)
{
    return e->e_dir;
}

bool evidence_wanted(const struct monitor *m, const struct violation *v)
{
    if (v->v_severity != VIOLATION_ERROR || v->v_class == VIOLATION_CONNECT_FAILED)
        return false;
    if (v->v_class == VIOLATION_HTTP_STATUS || v->v_class == VIOLATION_CONTENT_TYPE) {
        const struct monitor_close *c = monitor_last_close(m);
        return c->mcl_valid && (c->mcl_reason == STREAM_CLOSE_HTTP_STATUS ||
                                c->mcl_reason == STREAM_CLOSE_CONTENT_TYPE);
    }
    return flight_opened(monitor_flight(m));
}

static void evidence_put_headers(const struct flight *f, struct recording_record *r,
                                 struct recording_field *fields)
{
    size_t n = flight_n_headers(f);
    for (size_t i = 0; i < n; i++) {
        fields[i] = *flight_header(f, i);
        if (flight_header_secret(fields[i].rf_name, fields[i].rf_name_len)) {
            fields[i].rf_value = "***";
            fields[i].rf_value_len = 3;
        }
        if (fields[i].rf_name_len == 12 && strncasecmp(fields[i].rf_name, "content-type", 12) == 0)
            r->rr_content_type = fields[i].rf_value;
    }
    r->rr_headers = fields;
    r->rr_n_headers = n;
}

/* A response that never opened a stream: its status, content type and
 * how the connection ended (a replay reports its class alone). */
/* Every evidence file's first two records: the header (the stream's URL,
 * redacted, and `started_wall_ms`) and its one connection attempt. */
static void evidence_render_start(const struct monitor *m, uint64_t started_wall_ms,
                                  struct json_writer *w)
{
    char started[CLOCK_RFC3339_SIZE];
    clock_rfc3339(started_wall_ms, started);
    struct recording_record r = {.rr_kind = RECORDING_HEADER,
                                 .rr_version = RECORDING_VERSION,
                                 .rr_url = monitor_display_url(m),
                                 .rr_started = started};
    recording_encode(w, &r);
    r = (struct recording_record){.rr_kind = RECORDING_CONNECTING, .rr_attempt = 1};
    recording_encode(w, &r);
}

static void evidence_render_refused(const struct monitor *m, uint64_t now_wall_ms,
                                    struct json_writer *w)
{
    const struct monitor_close *c = monitor_last_close(m);
    /* Its headers, redacted as the recorder's are. */
    struct recording_field fields[SUB_MAX_LISTED_HEADERS];
    size_t n = c->mcl_n_headers < SUB_MAX_LISTED_HEADERS ? c->mcl_n_headers : 0;
    for (size_t i = 0; i < n; i++) {
        fields[i] = c->mcl_headers[i];
        if (flight_header_secret(fields[i].rf_name, fields[i].rf_name_len)) {
            fields[i].rf_value = "***";
            fields[i].rf_value_len = 3;
        }
    }
    evidence_render_start(m, now_wall_ms, w);
    struct recording_record r = {.rr_kind = RECORDING_CLOSED,
                                 .rr_reason = c->mcl_reason,
                                 .rr_error = c->mcl_error,
                                 .rr_status = c->mcl_status,
                                 .rr_content_type = c->mcl_content_type,
                                 .rr_before_headers = c->mcl_before_headers,
                                 .rr_location = c->mcl_location,
                                 .rr_body = c->mcl_body,
                                 .rr_body_len = c->mcl_body_len,
                                 .rr_headers = fields,
                                 .rr_n_headers = n};
    recording_encode(w, &r);
}

void evidence_render(const struct monitor *m, const struct violation *v, uint64_t now_mono_ms,
                     uint64_t now_wall_ms, struct json_writer *w)
{
    if (v->v_class == VIOLATION_HTTP_STATUS || v->v_class == VIOLATION_CONTENT_TYPE) {
        evidence_render_refused(m, now_wall_ms, w);
        return;
    }
    const struct flight *f = monitor_flight(m);
    uint64_t t0 = flight_open_mono_ms(f);
    evidence_render_start(m, flight_open_wall_ms(f), w);
    struct recording_field fields[FLIGHT_HEADERS_MAX];
    struct recording_record r = {.rr_kind = RECORDING_OPEN, .rr_status = flight_status(f)};
    evidence_put_headers(f, &r, fields);
    recording_encode(w, &r);
    uint64_t last = 0;
    /* One buffer for every frame's bytes (the ring may split a frame). */
    unsigned char *data = flight_count(f) > 0 ? malloc(flight_bytes(f) + 1) : NULL;
    for (size_t i = 0; i < flight_count(f); i++) {
        const struct flight_frame *fr = flight_frame(f, i);
        size_t len = data != NULL ? flight_frame_copy(f, i, data) : 0;
        uint64_t t = fr->ff_mono_ms > t0 ? fr->ff_mono_ms - t0 : 0;
        if (t < last)
            t = last;
        last = t;
        r = (struct recording_record){.rr_kind = RECORDING_CHUNK,
                                      .rr_t_ms = t,
                                      .rr_data = data != NULL ? (const char *)data : "",
                                      .rr_len = len};
        recording_encode(w, &r);
    }
    free(data);
    /* The replay's clock reaches the violation's time. */
    uint64_t t = now_mono_ms > t0 ? now_mono_ms - t0 : 0;
    r = (struct recording_record){
        .rr_kind = RECORDING_CHUNK, .rr_t_ms = t < last ? last : t, .rr_data = "", .rr_len = 0};
    recording_encode(w, &r);
}

/* SUBSCRIPTION-YYYYmmddTHHMMSS.mmmZ-CLASS[-N].rec */
static void evidence_name(struct evidence *e, const char *sub, uint64_t wall_ms, const char *cls,
                          char *out, size_t size)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[64];
    snprintf(stamp, sizeof(stamp), "%04d%02d%02dT%02d%02d%02d.%03uZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(wall_ms % 1000));
    snprintf(out, size, "%s-%s-%s.rec", sub, stamp, cls);
    pthread_mutex_lock(&e->e_mu);
    bool taken = evidence_kept_has(e, out);
    for (size_t i = 0; i < e->e_q_n && !taken; i++)
        taken = strcmp(e->e_queue[(e->e_q_head + i) % EVIDENCE_QUEUE_MAX].ej_name, out) == 0;
    for (unsigned k = 2; taken && k < 1000; k++) {
        snprintf(out, size, "%s-%s-%s-%u.rec", sub, stamp, cls, k);
        taken = evidence_kept_has(e, out);
        for (size_t i = 0; i < e->e_q_n && !taken; i++)
            taken = strcmp(e->e_queue[(e->e_q_head + i) % EVIDENCE_QUEUE_MAX].ej_name, out) == 0;
    }
    pthread_mutex_unlock(&e->e_mu);
}

/* Queues the rendering of `v` for `m` in a file named after `who`, capped
 * with the other files of `cap_key`. */
static bool evidence_queue(struct evidence *e, const char *who, const char *cap_key,
                           const struct monitor *m, const struct violation *v, uint64_t now_mono_ms,
                           uint64_t now_wall_ms, char *name, size_t name_size)
{
    /* A queue already full is known before any work. */
    pthread_mutex_lock(&e->e_mu);
    bool full = e->e_q_n == EVIDENCE_QUEUE_MAX;
    pthread_mutex_unlock(&e->e_mu);
    if (full) {
        evidence_drop(e, EVIDENCE_DROP_QUEUE_FULL);
        return false;
    }
    struct json_writer w;
    json_writer_init(&w);
    evidence_render(m, v, now_mono_ms, now_wall_ms, &w);
    size_t len = 0;
    char *text = json_writer_failed(&w) ? NULL : json_writer_detach(&w, &len);
    json_writer_free(&w);
    if (text == NULL) {
        evidence_drop(e, EVIDENCE_DROP_NO_MEMORY);
        return false;
    }
    char fname[EVIDENCE_NAME_MAX];
    evidence_name(e, who, now_wall_ms, violation_class_name(v->v_class), fname, sizeof(fname));
    pthread_mutex_lock(&e->e_mu);
    if (e->e_q_n == EVIDENCE_QUEUE_MAX) {
        e->e_stats.es_dropped[EVIDENCE_DROP_QUEUE_FULL]++;
        pthread_mutex_unlock(&e->e_mu);
        free(text);
        return false;
    }
    struct evidence_job *j = &e->e_queue[(e->e_q_head + e->e_q_n) % EVIDENCE_QUEUE_MAX];
    snprintf(j->ej_name, sizeof(j->ej_name), "%s", fname);
    snprintf(j->ej_sub, sizeof(j->ej_sub), "%s", cap_key);
    j->ej_text = text;
    j->ej_len = len;
    e->e_q_n++;
    pthread_cond_signal(&e->e_cv);
    pthread_mutex_unlock(&e->e_mu);
    snprintf(name, name_size, "%s", fname);
    return true;
}

bool evidence_capture(struct evidence *e, const struct monitor *m, const struct violation *v,
                      uint64_t now_mono_ms, uint64_t now_wall_ms, char *name, size_t name_size)
{
    /* Subscription names are [A-Za-z0-9_.-]+ and class names lower-case
     * letters and '_': the name needs no further sanitizing. */
    return evidence_queue(e, monitor_name(m), monitor_name(m), m, v, now_mono_ms, now_wall_ms, name,
                          name_size);
}

bool evidence_probe_wanted(const struct monitor *m, const struct violation *v)
{
    return v->v_severity == VIOLATION_ERROR &&
           (v->v_class == VIOLATION_PROBE_FAILED || v->v_class == VIOLATION_PROBE_TIMEOUT ||
            v->v_class == VIOLATION_PROBE_ORDER) &&
           flight_opened(monitor_flight(m));
}

bool evidence_capture_probe(struct evidence *e, const char *probe, const struct monitor *m,
                            const struct violation *v, uint64_t now_mono_ms, uint64_t now_wall_ms,
                            char *name, size_t name_size)
{
    /* Probe names are checked like subscription names; sanitized anyway,
     * as the name becomes a file name and a URL segment. */
    char who[128];
    size_t n = 0;
    for (; probe[n] != '\0' && n + 1 < sizeof(who); n++) {
        char c = probe[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || (c == '.' && n > 0);
        who[n] = ok ? c : '_';
    }
    if (n == 0)
        who[n++] = '_';
    who[n] = '\0';
    /* A '/' is in no subscription name: probes have caps of their own. */
    char key[sizeof(who) + 8];
    snprintf(key, sizeof(key), "probe/%s", who);
    return evidence_queue(e, who, key, m, v, now_mono_ms, now_wall_ms, name, name_size);
}

void evidence_stats(struct evidence *e, struct evidence_stats *out)
{
    pthread_mutex_lock(&e->e_mu);
    *out = e->e_stats;
    pthread_mutex_unlock(&e->e_mu);
}

bool evidence_known(struct evidence *e, const char *name)
{
    if (name == NULL || name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL ||
        strlen(name) >= EVIDENCE_NAME_MAX)
        return false;
    pthread_mutex_lock(&e->e_mu);
    bool known = evidence_kept_has(e, name);
    pthread_mutex_unlock(&e->e_mu);
    return known;
}

static void evidence_metric(struct json_writer *w, const char *name, const char *type,
                            const char *help, uint64_t v)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name,
                     type, name, (unsigned long long)v);
    if (n > 0)
        json_writer_append(w, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void evidence_metrics(const struct evidence_stats *st, struct json_writer *w)
{
    evidence_metric(w, "ssemon_evidence_files_total", "counter", "Evidence files written.",
                    st->es_files);
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "# HELP ssemon_evidence_dropped_total Evidence files not written, by "
                     "reason.\n# TYPE ssemon_evidence_dropped_total counter\n");
    json_writer_append(w, line, (size_t)n);
    for (int r = 0; r < EVIDENCE_DROP_COUNT; r++) {
        n = snprintf(line, sizeof(line), "ssemon_evidence_dropped_total{reason=\"%s\"} %llu\n",
                     evidence_drop_name((enum evidence_drop)r),
                     (unsigned long long)st->es_dropped[r]);
        json_writer_append(w, line, (size_t)n);
    }
    evidence_metric(w, "ssemon_evidence_removed_total", "counter",
                    "Evidence files removed by the size and count caps.", st->es_removed);
    evidence_metric(w, "ssemon_evidence_kept_bytes", "gauge", "Bytes of the evidence files kept.",
                    st->es_kept_bytes);
    evidence_metric(w, "ssemon_evidence_kept_files", "gauge", "Evidence files kept.",
                    st->es_kept_files);
}
