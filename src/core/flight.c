/*
 * The flight recorder: a ring of frame slots (at most max_events: the
 * complete frames and the one being received) over one byte ring holding
 * the frames' bytes back to back, oldest first, split at empty lines by a
 * small line-terminator state machine that survives chunk boundaries. Both
 * rings grow by doubling up to their bound and are never shrunk; nothing is
 * allocated per frame. The headers are copied into one buffer.
 */
#include "ssemon/core/flight.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The first sizes of the grown buffers. */
#define FLIGHT_SLOTS_FIRST 4
#define FLIGHT_DATA_FIRST 256

struct flight {
    size_t f_max_events;
    size_t f_max_bytes;
    struct flight_frame *f_slots; /* f_n_slots, grown up to f_max_events */
    size_t f_n_slots;
    size_t f_head; /* slot of the oldest frame */
    size_t f_count;
    unsigned char *f_data; /* the byte ring: f_data_cap, up to f_max_bytes */
    size_t f_data_cap;
    size_t f_data_head; /* where the oldest frame's bytes start */
    size_t f_bytes;     /* bytes over all frames, from f_data_head on */
    uint64_t f_dropped;
    uint64_t f_evicted;
    /* Line state across chunks: at the start of a line (the previous byte
     * ended one, or nothing came yet); the previous byte was a CR; an empty
     * line ended with a CR, so a following LF still belongs to its frame. */
    bool f_line_start;
    bool f_prev_cr;
    bool f_end_pending;
    /* The response; the headers' names and values are in f_hdr_buf. */
    bool f_opened;
    long f_status;
    uint64_t f_open_mono_ms;
    uint64_t f_open_wall_ms;
    struct recording_field *f_headers; /* f_headers_cap fields */
    size_t f_headers_cap;
    size_t f_n_headers;
    char *f_hdr_buf;
    size_t f_hdr_cap;
};

struct flight *flight_new(size_t max_events, size_t max_bytes)
{
    if (max_events == 0 || max_bytes == 0 || max_events > FLIGHT_MAX_EVENTS ||
        max_bytes > FLIGHT_MAX_BYTES)
        return NULL;
    struct flight *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->f_max_events = max_events;
    f->f_max_bytes = max_bytes;
    f->f_line_start = true;
    return f;
}

static struct flight_frame *flight_at(const struct flight *f, size_t i)
{
    return &f->f_slots[(f->f_head + i) % f->f_n_slots];
}

static void flight_drop_oldest(struct flight *f)
{
    struct flight_frame *fr = flight_at(f, 0);
    f->f_bytes -= fr->ff_len;
    f->f_data_head = f->f_bytes == 0 ? 0 : (f->f_data_head + fr->ff_len) % f->f_data_cap;
    f->f_head = (f->f_head + 1) % f->f_n_slots;
    f->f_count--;
    f->f_evicted++;
}

static void flight_clear_frames(struct flight *f)
{
    f->f_count = 0;
    f->f_head = 0;
    f->f_bytes = 0;
    f->f_data_head = 0;
    f->f_line_start = true;
    f->f_prev_cr = false;
    f->f_end_pending = false;
}

void flight_free(struct flight *f)
{
    if (f == NULL)
        return;
    free(f->f_slots);
    free(f->f_data);
    free(f->f_headers);
    free(f->f_hdr_buf);
    free(f);
}

/* Doubles `cap` from `first` until it holds `need`, at most `max`. */
static size_t flight_grow(size_t cap, size_t first, size_t need, size_t max)
{
    if (cap == 0)
        cap = first;
    while (cap < need && cap < max)
        cap = cap > max / 2 ? max : cap * 2;
    return cap < max ? cap : max;
}

int flight_open(struct flight *f, uint64_t mono_ms, uint64_t wall_ms, long status,
                const struct recording_field *headers, size_t n_headers)
{
    uint64_t evicted = f->f_evicted;
    flight_clear_frames(f);
    f->f_evicted = evicted; /* a new connection is not an eviction */
    f->f_n_headers = 0;
    f->f_opened = true;
    f->f_status = status;
    f->f_open_mono_ms = mono_ms;
    f->f_open_wall_ms = wall_ms;
    if (n_headers > FLIGHT_HEADERS_MAX)
        n_headers = FLIGHT_HEADERS_MAX;
    if (n_headers == 0)
        return 0;
    size_t need = 0;
    for (size_t i = 0; i < n_headers; i++) {
        if (headers[i].rf_name_len > SIZE_MAX / 4 || headers[i].rf_value_len > SIZE_MAX / 4)
            return -1;
        need += headers[i].rf_name_len + headers[i].rf_value_len + 2;
    }
    if (need > f->f_hdr_cap) {
        size_t cap = flight_grow(f->f_hdr_cap, 256, need, SIZE_MAX / 2);
        char *buf = realloc(f->f_hdr_buf, cap);
        if (buf == NULL)
            return -1;
        f->f_hdr_buf = buf;
        f->f_hdr_cap = cap;
    }
    if (n_headers > f->f_headers_cap) {
        size_t cap = flight_grow(f->f_headers_cap, 8, n_headers, FLIGHT_HEADERS_MAX);
        struct recording_field *h = realloc(f->f_headers, cap * sizeof(*h));
        if (h == NULL)
            return -1;
        f->f_headers = h;
        f->f_headers_cap = cap;
    }
    char *p = f->f_hdr_buf;
    for (size_t i = 0; i < n_headers; i++) {
        const struct recording_field *h = &headers[i];
        struct recording_field *out = &f->f_headers[i];
        out->rf_name = p;
        out->rf_name_len = h->rf_name_len;
        if (h->rf_name_len > 0)
            memcpy(p, h->rf_name, h->rf_name_len);
        p += h->rf_name_len;
        *p++ = '\0';
        out->rf_value = p;
        out->rf_value_len = h->rf_value_len;
        if (h->rf_value_len > 0)
            memcpy(p, h->rf_value, h->rf_value_len);
        p += h->rf_value_len;
        *p++ = '\0';
    }
    f->f_n_headers = n_headers;
    return 0;
}

/* Room for one more slot: the slot ring doubles (at most max_events),
 * its frames put in order from 0. -1 when out of memory. */
static int flight_more_slots(struct flight *f)
{
    if (f->f_count < f->f_n_slots)
        return 0;
    size_t cap = flight_grow(f->f_n_slots, FLIGHT_SLOTS_FIRST, f->f_count + 1, f->f_max_events);
    struct flight_frame *slots = malloc(cap * sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < f->f_count; i++)
        slots[i] = *flight_at(f, i);
    free(f->f_slots);
    f->f_slots = slots;
    f->f_n_slots = cap;
    f->f_head = 0;
    return 0;
}

/* Room in the byte ring for `need` bytes in all (<= max_bytes): the ring
 * doubles, its bytes put in order from 0. -1 when out of memory. */
static int flight_more_data(struct flight *f, size_t need)
{
    if (need <= f->f_data_cap)
        return 0;
    size_t cap = flight_grow(f->f_data_cap, FLIGHT_DATA_FIRST, need, f->f_max_bytes);
    unsigned char *data = malloc(cap);
    if (data == NULL)
        return -1;
    size_t off = 0;
    for (size_t i = 0; i < f->f_count; i++) {
        struct flight_frame *fr = flight_at(f, i);
        (void)flight_frame_copy(f, i, data + off);
        fr->ff_off = off;
        off += fr->ff_len;
    }
    free(f->f_data);
    f->f_data = data;
    f->f_data_cap = cap;
    f->f_data_head = 0;
    return 0;
}

/* The frame bytes go to: the incomplete last frame, or a new one (the
 * oldest frames evicted down to max_events - 1 first). NULL when out of
 * memory. */
static struct flight_frame *flight_current(struct flight *f, uint64_t mono_ms, uint64_t wall_ms)
{
    if (f->f_count > 0) {
        struct flight_frame *last = flight_at(f, f->f_count - 1);
        if (!last->ff_complete)
            return last;
    }
    while (f->f_count >= f->f_max_events)
        flight_drop_oldest(f);
    if (flight_more_slots(f) != 0)
        return NULL;
    struct flight_frame *fr = flight_at(f, f->f_count);
    memset(fr, 0, sizeof(*fr));
    fr->ff_mono_ms = mono_ms;
    fr->ff_wall_ms = wall_ms;
    fr->ff_off = f->f_data_cap > 0 ? (f->f_data_head + f->f_bytes) % f->f_data_cap : 0;
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
    if (fr == NULL) {
        f->f_dropped += len;
        return;
    }
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
    if (flight_more_data(f, f->f_bytes + take) != 0) {
        fr->ff_truncated = true;
        f->f_dropped += take;
        return;
    }
    if (fr->ff_len == 0)
        fr->ff_off = (f->f_data_head + f->f_bytes) % f->f_data_cap;
    size_t at = (f->f_data_head + f->f_bytes) % f->f_data_cap;
    size_t first = f->f_data_cap - at;
    if (first > take)
        first = take;
    memcpy(f->f_data + at, p, first);
    memcpy(f->f_data, p + first, take - first);
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

/* The offset of the first CR or LF in p[i..len), or len: memchr's word-at-
 * a-time scan instead of one byte a turn (LF first: lines end with it;
 * CR is looked for only before it). */
static size_t flight_next_eol(const unsigned char *p, size_t i, size_t len)
{
    const unsigned char *lf = memchr(p + i, '\n', len - i);
    size_t end = lf != NULL ? (size_t)(lf - p) : len;
    const unsigned char *cr = memchr(p + i, '\r', end - i);
    return cr != NULL ? (size_t)(cr - p) : end;
}

void flight_feed(struct flight *f, uint64_t mono_ms, uint64_t wall_ms, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        if (!f->f_end_pending && !f->f_prev_cr) {
            /* Bytes other than CR and LF only end a line's start. */
            size_t eol = flight_next_eol(p, i, len);
            if (eol > i) {
                f->f_line_start = false;
                i = eol;
                if (i == len)
                    break;
            }
        }
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

size_t flight_frame_copy(const struct flight *f, size_t i, unsigned char *out)
{
    if (i >= f->f_count)
        return 0;
    const struct flight_frame *fr = flight_at(f, i);
    if (fr->ff_len == 0)
        return 0;
    size_t first = f->f_data_cap - fr->ff_off;
    if (first > fr->ff_len)
        first = fr->ff_len;
    memcpy(out, f->f_data + fr->ff_off, first);
    memcpy(out + first, f->f_data, fr->ff_len - first);
    return fr->ff_len;
}

size_t flight_memory(const struct flight *f)
{
    return sizeof(*f) + f->f_n_slots * sizeof(*f->f_slots) + f->f_data_cap +
           f->f_headers_cap * sizeof(*f->f_headers) + f->f_hdr_cap;
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
