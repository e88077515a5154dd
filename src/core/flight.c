/*
 * The flight recorder: a ring of frames (max_events + 1 slots: the complete
 * frames and the one being received), split at empty lines by a small
 * line-terminator state machine that survives chunk boundaries.
 */
#include "ssemon/core/flight.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct flight {
    size_t f_max_events;
    size_t f_max_bytes;
    struct flight_frame *f_ring; /* f_max_events + 1 slots */
    size_t f_slots;
    size_t f_head; /* index of the oldest frame */
    size_t f_count;
    size_t f_bytes;
    uint64_t f_dropped;
    uint64_t f_evicted;
    /* Line state across chunks: at the start of a line (the previous byte
     * ended one, or nothing came yet); the previous byte was a CR; an empty
     * line ended with a CR, so a following LF still belongs to its frame. */
    bool f_line_start;
    bool f_prev_cr;
    bool f_end_pending;
    /* The response. */
    bool f_opened;
    long f_status;
    uint64_t f_open_mono_ms;
    uint64_t f_open_wall_ms;
    struct recording_field f_headers[FLIGHT_HEADERS_MAX];
    size_t f_n_headers;
};

struct flight *flight_new(size_t max_events, size_t max_bytes)
{
    if (max_events == 0 || max_bytes == 0 || max_events > FLIGHT_MAX_EVENTS)
        return NULL;
    struct flight *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->f_max_events = max_events;
    f->f_max_bytes = max_bytes;
    f->f_slots = max_events + 1;
    f->f_ring = calloc(f->f_slots, sizeof(*f->f_ring));
    if (f->f_ring == NULL) {
        free(f);
        return NULL;
    }
    f->f_line_start = true;
    return f;
}

static void flight_clear_headers(struct flight *f)
{
    for (size_t i = 0; i < f->f_n_headers; i++) {
        free((void *)(uintptr_t)f->f_headers[i].rf_name);
        free((void *)(uintptr_t)f->f_headers[i].rf_value);
    }
    f->f_n_headers = 0;
}

static struct flight_frame *flight_at(const struct flight *f, size_t i)
{
    return &f->f_ring[(f->f_head + i) % f->f_slots];
}

static void flight_drop_oldest(struct flight *f)
{
    struct flight_frame *fr = flight_at(f, 0);
    f->f_bytes -= fr->ff_len;
    free(fr->ff_data);
    memset(fr, 0, sizeof(*fr));
    f->f_head = (f->f_head + 1) % f->f_slots;
    f->f_count--;
    f->f_evicted++;
}

static void flight_clear_frames(struct flight *f)
{
    while (f->f_count > 0)
        flight_drop_oldest(f);
    f->f_head = 0;
    f->f_line_start = true;
    f->f_prev_cr = false;
    f->f_end_pending = false;
}

void flight_free(struct flight *f)
{
    if (f == NULL)
        return;
    flight_clear_frames(f);
    flight_clear_headers(f);
    free(f->f_ring);
    free(f);
}

static char *flight_dup(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

int flight_open(struct flight *f, uint64_t mono_ms, uint64_t wall_ms, long status,
                const struct recording_field *headers, size_t n_headers)
{
    uint64_t evicted = f->f_evicted;
    flight_clear_frames(f);
    f->f_evicted = evicted; /* a new connection is not an eviction */
    flight_clear_headers(f);
    f->f_opened = true;
    f->f_status = status;
    f->f_open_mono_ms = mono_ms;
    f->f_open_wall_ms = wall_ms;
    if (n_headers > FLIGHT_HEADERS_MAX)
        n_headers = FLIGHT_HEADERS_MAX;
    for (size_t i = 0; i < n_headers; i++) {
        const struct recording_field *h = &headers[i];
        struct recording_field *out = &f->f_headers[f->f_n_headers];
        char *name = flight_dup(h->rf_name != NULL ? h->rf_name : "", h->rf_name_len);
        char *value = flight_dup(h->rf_value != NULL ? h->rf_value : "", h->rf_value_len);
        if (name == NULL || value == NULL) {
            free(name);
            free(value);
            flight_clear_headers(f);
            return -1;
        }
        out->rf_name = name;
        out->rf_name_len = h->rf_name_len;
        out->rf_value = value;
        out->rf_value_len = h->rf_value_len;
        f->f_n_headers++;
    }
    return 0;
}

/* The frame bytes go to: the incomplete last frame, or a new one. NULL
 * when a new one cannot be had (the ring's slots are all taken by complete
 * frames, which cannot happen: a complete frame beyond max_events is
 * evicted first). */
static struct flight_frame *flight_current(struct flight *f, uint64_t mono_ms, uint64_t wall_ms)
{
    if (f->f_count > 0) {
        struct flight_frame *last = flight_at(f, f->f_count - 1);
        if (!last->ff_complete)
            return last;
    }
    while (f->f_count >= f->f_max_events)
        flight_drop_oldest(f);
    struct flight_frame *fr = flight_at(f, f->f_count);
    memset(fr, 0, sizeof(*fr));
    fr->ff_mono_ms = mono_ms;
    fr->ff_wall_ms = wall_ms;
    f->f_count++;
    return fr;
}

/* Appends bytes to the current frame within the byte bound. */
static void flight_append(struct flight *f, uint64_t mono_ms, uint64_t wall_ms,
                          const unsigned char *p, size_t len)
{
    if (len == 0)
        return;
    struct flight_frame *fr = flight_current(f, mono_ms, wall_ms);
    /* Room: evict older complete frames first (never the current one). */
    while (f->f_bytes + len > f->f_max_bytes && f->f_count > 1)
        flight_drop_oldest(f);
    size_t room = f->f_max_bytes - f->f_bytes;
    size_t take = len < room ? len : room;
    if (take < len) {
        fr->ff_truncated = true;
        f->f_dropped += len - take;
    }
    if (take == 0)
        return;
    if (fr->ff_len + take > fr->ff_cap) {
        size_t cap = fr->ff_cap == 0 ? 256 : fr->ff_cap;
        while (cap < fr->ff_len + take)
            cap *= 2;
        if (cap > f->f_max_bytes)
            cap = f->f_max_bytes;
        unsigned char *data = realloc(fr->ff_data, cap);
        if (data == NULL) {
            fr->ff_truncated = true;
            f->f_dropped += take;
            return;
        }
        fr->ff_data = data;
        fr->ff_cap = cap;
    }
    memcpy(fr->ff_data + fr->ff_len, p, take);
    fr->ff_len += take;
    f->f_bytes += take;
}

static void flight_end_frame(struct flight *f)
{
    if (f->f_count == 0)
        return;
    struct flight_frame *last = flight_at(f, f->f_count - 1);
    last->ff_complete = true;
}

void flight_feed(struct flight *f, uint64_t mono_ms, uint64_t wall_ms, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = p[i];
        if (f->f_end_pending) {
            /* An empty line ended with CR: an LF right after is its end. */
            f->f_end_pending = false;
            f->f_prev_cr = false;
            size_t upto = b == '\n' ? i + 1 : i;
            flight_append(f, mono_ms, wall_ms, p + from, upto - from);
            from = upto;
            flight_end_frame(f);
            if (b == '\n')
                continue;
        }
        if (b == '\n' && f->f_prev_cr) {
            f->f_prev_cr = false; /* the LF of a CRLF */
            continue;
        }
        f->f_prev_cr = false;
        if (b != '\r' && b != '\n') {
            f->f_line_start = false;
            continue;
        }
        bool empty = f->f_line_start;
        f->f_line_start = true;
        if (b == '\r')
            f->f_prev_cr = true;
        if (!empty)
            continue;
        if (b == '\r') {
            f->f_end_pending = true;
            continue;
        }
        flight_append(f, mono_ms, wall_ms, p + from, i + 1 - from);
        from = i + 1;
        flight_end_frame(f);
    }
    flight_append(f, mono_ms, wall_ms, p + from, len - from);
}

size_t flight_count(const struct flight *f)
{
    return f->f_count;
}

const struct flight_frame *flight_frame(const struct flight *f, size_t i)
{
    return i < f->f_count ? flight_at(f, i) : NULL;
}

size_t flight_bytes(const struct flight *f)
{
    return f->f_bytes;
}

uint64_t flight_dropped_bytes(const struct flight *f)
{
    return f->f_dropped;
}

uint64_t flight_evicted(const struct flight *f)
{
    return f->f_evicted;
}

bool flight_opened(const struct flight *f)
{
    return f->f_opened;
}

long flight_status(const struct flight *f)
{
    return f->f_status;
}

uint64_t flight_open_mono_ms(const struct flight *f)
{
    return f->f_open_mono_ms;
}

uint64_t flight_open_wall_ms(const struct flight *f)
{
    return f->f_open_wall_ms;
}

size_t flight_n_headers(const struct flight *f)
{
    return f->f_n_headers;
}

const struct recording_field *flight_header(const struct flight *f, size_t i)
{
    return i < f->f_n_headers ? &f->f_headers[i] : NULL;
}

bool flight_header_secret(const char *name, size_t len)
{
    static const char *const secret[] = {
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token",
    };
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        if (strlen(secret[i]) == len && strncasecmp(secret[i], name, len) == 0)
            return true;
    return false;
}
