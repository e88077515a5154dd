#include "ssemon/core/probe.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssemon/base/utf8.h"

/* Expected values quoted in messages are cut to this many bytes. */
#define PROBE_QUOTE_MAX 64
/* Jitter is a tenth of the period, capped. */
#define PROBE_JITTER_DIV 10u
#define PROBE_JITTER_MAX_MS 5000u

/* A literal expected value, decoded once. */
struct probe_lit {
    enum json_tape_type pl_type; /* NULL, FALSE, TRUE, INTEGER or REAL */
    int64_t pl_int;
    double pl_real;
};

/* A match entry as the run keeps it. */
struct probe_cmatch {
    char *cm_pointer; /* owned */
    char *cm_value;   /* owned */
    size_t cm_value_len;
    bool cm_literal;
    struct probe_lit cm_lit; /* when cm_literal */
};

struct probe_step {
    size_t ps_sub;
    char *ps_kind;                 /* owned */
    char *ps_variant;              /* owned; NULL: any variant */
    struct probe_cmatch *ps_match; /* owned, ps_n_match entries */
    size_t ps_n_match;
    uint64_t ps_within_ms;
    uint64_t ps_deadline; /* started + within, saturated: the last moment that still meets */
    enum probe_step_state ps_state;
    uint64_t ps_delivery_ms;
    uint64_t ps_settled_ms;
    size_t ps_blocked_by; /* EARLY: the first earlier step then pending */
};

struct probe_run {
    uint64_t pr_started_ms;
    bool pr_aborted;
    size_t pr_n;
    struct probe_step pr_steps[]; /* pr_n entries */
};

static uint64_t probe_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static bool probe_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 8259 number grammar, then jansson's ranges: an integer must fit
 * int64, a real must not overflow a double. */
static bool probe_lit_parse(const char *s, struct probe_lit *out)
{
    if (strcmp(s, "null") == 0) {
        out->pl_type = JSON_TAPE_NULL;
        return true;
    }
    if (strcmp(s, "true") == 0) {
        out->pl_type = JSON_TAPE_TRUE;
        return true;
    }
    if (strcmp(s, "false") == 0) {
        out->pl_type = JSON_TAPE_FALSE;
        return true;
    }
    const char *p = s;
    bool integer = true;
    if (*p == '-')
        p++;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (probe_is_digit(*p))
            p++;
    } else {
        return false;
    }
    if (*p == '.') {
        integer = false;
        p++;
        if (!probe_is_digit(*p))
            return false;
        while (probe_is_digit(*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        integer = false;
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!probe_is_digit(*p))
            return false;
        while (probe_is_digit(*p))
            p++;
    }
    if (*p != '\0')
        return false;

    int saved = errno;
    bool ok = true;
    char *end;
    errno = 0;
    if (integer) {
        long long v = strtoll(s, &end, 10);
        ok = errno != ERANGE;
        out->pl_type = JSON_TAPE_INTEGER;
        out->pl_int = (int64_t)v;
    } else {
        double d = strtod(s, &end);
        /* Underflow (ERANGE with a tiny result) is accepted, overflow to
         * infinity not. */
        ok = d >= -DBL_MAX && d <= DBL_MAX;
        out->pl_type = JSON_TAPE_REAL;
        out->pl_real = d;
    }
    errno = saved;
    return ok;
}

bool probe_literal_valid(const char *text)
{
    struct probe_lit l;
    return text != NULL && probe_lit_parse(text, &l);
}

bool probe_pointer_valid(const char *ptr)
{
    if (ptr == NULL)
        return false;
    if (ptr[0] == '\0')
        return true;
    if (ptr[0] != '/')
        return false;
    for (const char *p = ptr; *p != '\0'; p++)
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return false;
    return true;
}

/* Whether integer i and double d are the same number, exactly. */
static bool probe_int_eq_real(int64_t i, double d)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return false;
    int64_t k = (int64_t)d;
    return (double)k == d && k == i;
}

static bool probe_lit_holds(const struct json_tape *t, size_t v, const struct probe_lit *l)
{
    enum json_tape_type type = json_tape_type(t, v);
    switch (l->pl_type) {
    case JSON_TAPE_INTEGER:
        if (type == JSON_TAPE_INTEGER)
            return json_tape_int(t, v) == l->pl_int;
        return type == JSON_TAPE_REAL && probe_int_eq_real(l->pl_int, json_tape_double(t, v));
    case JSON_TAPE_REAL:
        if (type == JSON_TAPE_REAL)
            return json_tape_double(t, v) == l->pl_real;
        return type == JSON_TAPE_INTEGER && probe_int_eq_real(json_tape_int(t, v), l->pl_real);
    default:
        return type == l->pl_type;
    }
}

static bool probe_payload_ok(const struct json_tape *t, size_t node)
{
    return t != NULL && node != JSON_TAPE_NONE && node < t->jt_count;
}

static bool probe_cmatch_holds(const struct json_tape *t, size_t node, const struct probe_cmatch *m)
{
    size_t v = json_tape_pointer(t, node, m->cm_pointer);
    if (v == JSON_TAPE_NONE)
        return false;
    if (m->cm_literal)
        return probe_lit_holds(t, v, &m->cm_lit);
    if (json_tape_type(t, v) != JSON_TAPE_STRING)
        return false;
    size_t len;
    const char *s = json_tape_string(t, v, &len);
    return len == m->cm_value_len && memcmp(s, m->cm_value, len) == 0;
}

bool probe_match_holds(const struct json_tape *t, size_t node, const struct probe_match *m)
{
    if (!probe_payload_ok(t, node) || m == NULL || m->pm_pointer == NULL || m->pm_value == NULL)
        return false;
    struct probe_cmatch cm = {
        .cm_pointer = (char *)m->pm_pointer,
        .cm_value = (char *)m->pm_value,
        .cm_value_len = strlen(m->pm_value),
        .cm_literal = m->pm_literal_json,
    };
    if (cm.cm_literal && !probe_lit_parse(m->pm_value, &cm.cm_lit))
        return false;
    return probe_cmatch_holds(t, node, &cm);
}

const char *probe_step_state_name(enum probe_step_state s)
{
    switch (s) {
    case PROBE_STEP_PENDING:
        return "pending";
    case PROBE_STEP_MET:
        return "ok";
    case PROBE_STEP_EARLY:
        return "order";
    case PROBE_STEP_TIMEOUT:
        return "timeout";
    case PROBE_STEP_ABANDONED:
        return "abandoned";
    }
    return NULL;
}

void probe_run_free(struct probe_run *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->pr_n; i++) {
        struct probe_step *st = &r->pr_steps[i];
        free(st->ps_kind);
        free(st->ps_variant);
        if (st->ps_match != NULL) {
            for (size_t k = 0; k < st->ps_n_match; k++) {
                free(st->ps_match[k].cm_pointer);
                free(st->ps_match[k].cm_value);
            }
            free(st->ps_match);
        }
    }
    free(r);
}

/* Checks one definition; false means EINVAL. */
static bool probe_def_valid(const struct probe_step_def *d)
{
    if (d->psd_kind == NULL || d->psd_kind[0] == '\0' || d->psd_n_match > PROBE_MAX_MATCH)
        return false;
    if (d->psd_n_match > 0 && d->psd_match == NULL)
        return false;
    for (size_t k = 0; k < d->psd_n_match; k++) {
        const struct probe_match *m = &d->psd_match[k];
        if (!probe_pointer_valid(m->pm_pointer) || m->pm_value == NULL)
            return false;
        if (strnlen(m->pm_value, PROBE_VALUE_MAX + 1) > PROBE_VALUE_MAX)
            return false;
        if (m->pm_literal_json && !probe_literal_valid(m->pm_value))
            return false;
    }
    return true;
}

/* Copies one definition into `st` (zeroed); false on ENOMEM, with what was
 * copied left for probe_run_free. */
static bool probe_step_copy(struct probe_step *st, const struct probe_step_def *d,
                            uint64_t started_ms)
{
    st->ps_sub = d->psd_subscription;
    st->ps_within_ms = d->psd_within_ms;
    st->ps_deadline = probe_sat_add(started_ms, d->psd_within_ms);
    st->ps_state = PROBE_STEP_PENDING;
    st->ps_delivery_ms = UINT64_MAX;
    st->ps_settled_ms = 0;
    st->ps_blocked_by = SIZE_MAX;
    st->ps_kind = strdup(d->psd_kind);
    if (st->ps_kind == NULL)
        return false;
    if (d->psd_variant != NULL) {
        st->ps_variant = strdup(d->psd_variant);
        if (st->ps_variant == NULL)
            return false;
    }
    if (d->psd_n_match == 0)
        return true;
    st->ps_match = calloc(d->psd_n_match, sizeof(*st->ps_match));
    if (st->ps_match == NULL)
        return false;
    st->ps_n_match = d->psd_n_match;
    for (size_t k = 0; k < d->psd_n_match; k++) {
        const struct probe_match *m = &d->psd_match[k];
        struct probe_cmatch *cm = &st->ps_match[k];
        cm->cm_pointer = strdup(m->pm_pointer);
        cm->cm_value = strdup(m->pm_value);
        if (cm->cm_pointer == NULL || cm->cm_value == NULL)
            return false;
        cm->cm_value_len = strlen(cm->cm_value);
        cm->cm_literal = m->pm_literal_json;
        if (cm->cm_literal)
            (void)probe_lit_parse(cm->cm_value, &cm->cm_lit); /* checked by probe_def_valid */
    }
    return true;
}

struct probe_run *probe_run_new(const struct probe_step_def *defs, size_t n, uint64_t started_ms)
{
    if (n > PROBE_MAX_STEPS || (n > 0 && defs == NULL)) {
        errno = EINVAL;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!probe_def_valid(&defs[i])) {
            errno = EINVAL;
            return NULL;
        }
    }
    struct probe_run *r = calloc(1, sizeof(*r) + n * sizeof(r->pr_steps[0]));
    if (r == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    r->pr_started_ms = started_ms;
    r->pr_n = n;
    for (size_t i = 0; i < n; i++) {
        if (!probe_step_copy(&r->pr_steps[i], &defs[i], started_ms)) {
            probe_run_free(r);
            errno = ENOMEM;
            return NULL;
        }
    }
    return r;
}

static bool probe_step_matches(const struct probe_step *st, const char *kind, const char *variant,
                               const struct json_tape *t, size_t node)
{
    if (strcmp(st->ps_kind, kind) != 0)
        return false;
    if (st->ps_variant != NULL && (variant == NULL || strcmp(st->ps_variant, variant) != 0))
        return false;
    if (st->ps_n_match == 0)
        return true;
    if (!probe_payload_ok(t, node))
        return false;
    for (size_t k = 0; k < st->ps_n_match; k++)
        if (!probe_cmatch_holds(t, node, &st->ps_match[k]))
            return false;
    return true;
}

size_t probe_run_event(struct probe_run *r, uint64_t now_ms, size_t sub, const char *kind,
                       const char *variant, const struct json_tape *t, size_t node)
{
    if (now_ms < r->pr_started_ms || kind == NULL)
        return SIZE_MAX;
    probe_run_tick(r, now_ms);
    size_t first_pending = SIZE_MAX;
    for (size_t i = 0; i < r->pr_n; i++) {
        struct probe_step *st = &r->pr_steps[i];
        if (st->ps_state != PROBE_STEP_PENDING)
            continue;
        if (first_pending == SIZE_MAX)
            first_pending = i;
        if (st->ps_sub != sub || !probe_step_matches(st, kind, variant, t, node))
            continue;
        if (first_pending == i) {
            st->ps_state = PROBE_STEP_MET;
        } else {
            st->ps_state = PROBE_STEP_EARLY;
            st->ps_blocked_by = first_pending;
        }
        st->ps_delivery_ms = now_ms - r->pr_started_ms;
        st->ps_settled_ms = now_ms;
        return i;
    }
    return SIZE_MAX;
}

void probe_run_tick(struct probe_run *r, uint64_t now_ms)
{
    for (size_t i = 0; i < r->pr_n; i++) {
        struct probe_step *st = &r->pr_steps[i];
        if (st->ps_state == PROBE_STEP_PENDING && st->ps_deadline < now_ms) {
            st->ps_state = PROBE_STEP_TIMEOUT;
            st->ps_settled_ms = now_ms;
        }
    }
}

uint64_t probe_run_next_deadline(const struct probe_run *r)
{
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < r->pr_n; i++) {
        const struct probe_step *st = &r->pr_steps[i];
        /* A deadline of UINT64_MAX is never passed. */
        if (st->ps_state == PROBE_STEP_PENDING && st->ps_deadline < UINT64_MAX &&
            st->ps_deadline + 1 < next)
            next = st->ps_deadline + 1;
    }
    return next;
}

void probe_run_abort(struct probe_run *r, uint64_t now_ms)
{
    r->pr_aborted = true;
    for (size_t i = 0; i < r->pr_n; i++) {
        struct probe_step *st = &r->pr_steps[i];
        if (st->ps_state == PROBE_STEP_PENDING) {
            st->ps_state = PROBE_STEP_ABANDONED;
            st->ps_settled_ms = now_ms;
        }
    }
}

enum probe_outcome probe_run_outcome(const struct probe_run *r)
{
    bool all_met = !r->pr_aborted;
    for (size_t i = 0; i < r->pr_n; i++) {
        if (r->pr_steps[i].ps_state == PROBE_STEP_PENDING)
            return PROBE_OUTCOME_RUNNING;
        if (r->pr_steps[i].ps_state != PROBE_STEP_MET)
            all_met = false;
    }
    return all_met ? PROBE_OUTCOME_OK : PROBE_OUTCOME_FAILED;
}

uint64_t probe_run_started_ms(const struct probe_run *r)
{
    return r->pr_started_ms;
}

size_t probe_run_step_count(const struct probe_run *r)
{
    return r->pr_n;
}

enum probe_step_state probe_run_step_state(const struct probe_run *r, size_t i)
{
    return r->pr_steps[i].ps_state;
}

uint64_t probe_run_step_delivery_ms(const struct probe_run *r, size_t i)
{
    return r->pr_steps[i].ps_delivery_ms;
}

uint64_t probe_run_step_settled_ms(const struct probe_run *r, size_t i)
{
    return r->pr_steps[i].ps_settled_ms;
}

size_t probe_run_step_blocked_by(const struct probe_run *r, size_t i)
{
    return r->pr_steps[i].ps_blocked_by;
}

/* ---- messages ---- */

/* Text bounded by the caller's buffer; what does not fit is dropped. */
struct probe_text {
    char *pt_buf;
    size_t pt_cap; /* >= 1 */
    size_t pt_len;
};

static void probe_text_put(struct probe_text *pt, const char *s, size_t n)
{
    size_t room = pt->pt_cap - 1 - pt->pt_len;
    if (n > room)
        n = room;
    memcpy(pt->pt_buf + pt->pt_len, s, n);
    pt->pt_len += n;
}

static void probe_text_puts(struct probe_text *pt, const char *s)
{
    probe_text_put(pt, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void probe_text_printf(struct probe_text *pt,
                                                                    const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        probe_text_put(pt, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* `s` quoted as a JSON string, cut to PROBE_QUOTE_MAX bytes ("..." then). */
static void probe_text_quote(struct probe_text *pt, const char *s, size_t len)
{
    size_t keep = utf8_cut(s, len, PROBE_QUOTE_MAX);
    probe_text_put(pt, "\"", 1);
    for (size_t k = 0; k < keep; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            probe_text_put(pt, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            probe_text_printf(pt, "\\u%04x", c);
        } else {
            probe_text_put(pt, (const char *)&s[k], 1);
        }
    }
    if (keep < len)
        probe_text_puts(pt, "...");
    probe_text_put(pt, "\"", 1);
}

/* "kind:variant" (or "kind"), then " with /p == v and ..." */
static void probe_text_step(struct probe_text *pt, const struct probe_step *st, bool matches)
{
    probe_text_puts(pt, st->ps_kind);
    if (st->ps_variant != NULL) {
        probe_text_put(pt, ":", 1);
        probe_text_puts(pt, st->ps_variant);
    }
    if (!matches)
        return;
    for (size_t k = 0; k < st->ps_n_match; k++) {
        const struct probe_cmatch *m = &st->ps_match[k];
        probe_text_puts(pt, k == 0 ? " with " : " and ");
        probe_text_puts(pt, m->cm_pointer[0] != '\0' ? m->cm_pointer : "(the payload)");
        probe_text_puts(pt, " == ");
        if (m->cm_literal)
            probe_text_puts(pt, m->cm_value);
        else
            probe_text_quote(pt, m->cm_value, m->cm_value_len);
    }
}

static void probe_text_early(struct probe_text *pt, const struct probe_run *r, size_t i)
{
    const struct probe_step *st = &r->pr_steps[i];
    size_t j = st->ps_blocked_by;
    if (j >= r->pr_n) {
        probe_text_step(pt, st, true);
        probe_text_puts(pt, " arrived out of order");
        return;
    }
    const struct probe_step *bj = &r->pr_steps[j];
    bool later = bj->ps_state == PROBE_STEP_MET || bj->ps_state == PROBE_STEP_EARLY;
    probe_text_step(pt, later ? bj : st, false);
    probe_text_puts(pt, later ? " arrived after " : " arrived before ");
    probe_text_step(pt, later ? st : bj, false);
    probe_text_printf(pt, " (step %zu met before step %zu)", i + 1, j + 1);
}

void probe_run_step_describe(const struct probe_run *r, size_t i, const char *sub_name, char *buf,
                             size_t cap)
{
    if (buf == NULL || cap == 0)
        return;
    struct probe_text pt = {.pt_buf = buf, .pt_cap = cap, .pt_len = 0};
    const struct probe_step *st = &r->pr_steps[i];

    probe_text_puts(&pt, sub_name != NULL ? sub_name : "?");
    probe_text_puts(&pt, ": ");
    switch (st->ps_state) {
    case PROBE_STEP_PENDING:
        probe_text_puts(&pt, "waiting for ");
        probe_text_step(&pt, st, true);
        probe_text_printf(&pt, " within %" PRIu64 " ms", st->ps_within_ms);
        break;
    case PROBE_STEP_MET:
        probe_text_step(&pt, st, true);
        probe_text_printf(&pt, " arrived after %" PRIu64 " ms", st->ps_delivery_ms);
        break;
    case PROBE_STEP_EARLY:
        probe_text_early(&pt, r, i);
        break;
    case PROBE_STEP_TIMEOUT:
        probe_text_puts(&pt, "no ");
        probe_text_step(&pt, st, true);
        probe_text_printf(&pt, " within %" PRIu64 " ms (waited %" PRIu64 " ms)", st->ps_within_ms,
                          st->ps_settled_ms - r->pr_started_ms);
        break;
    case PROBE_STEP_ABANDONED:
        probe_text_step(&pt, st, true);
        probe_text_puts(&pt, " abandoned: the trigger failed");
        break;
    }
    pt.pt_len = utf8_trim_partial(buf, pt.pt_len);
    buf[pt.pt_len] = '\0';
}

/* ---- captures ---- */

char *probe_capture(const struct json_tape *t, size_t root, const char *pointer, const char **why)
{
    const char *ignored;
    if (why == NULL)
        why = &ignored;
    size_t v = JSON_TAPE_NONE;
    if (probe_payload_ok(t, root) && pointer != NULL)
        v = json_tape_pointer(t, root, pointer);
    if (v == JSON_TAPE_NONE) {
        *why = "missing";
        return NULL;
    }
    const char *s;
    size_t len;
    switch (json_tape_type(t, v)) {
    case JSON_TAPE_STRING:
        s = json_tape_string(t, v, &len);
        if (memchr(s, '\0', len) != NULL) {
            *why = "contains U+0000";
            return NULL;
        }
        break;
    case JSON_TAPE_INTEGER:
    case JSON_TAPE_REAL:
    case JSON_TAPE_TRUE:
    case JSON_TAPE_FALSE:
        s = json_tape_raw(t, v, &len);
        break;
    default:
        *why = "not a scalar";
        return NULL;
    }
    if (len > PROBE_VALUE_MAX) {
        *why = "too long";
        return NULL;
    }
    char *out = malloc(len + 1);
    if (out == NULL) {
        *why = "out of memory";
        return NULL;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

/* ---- scheduling and delivery windows ---- */

uint64_t probe_next_due(uint64_t last_start_ms, uint64_t finished_ms, uint64_t every_ms,
                        uint64_t rnd)
{
    uint64_t j = every_ms / PROBE_JITTER_DIV;
    if (j > PROBE_JITTER_MAX_MS)
        j = PROBE_JITTER_MAX_MS;
    /* Modulo bias over at most 10001 values is below 2^-50: irrelevant. */
    uint64_t offset = rnd % (2 * j + 1); /* in [0, 2j]: the jitter plus j */
    uint64_t due = probe_sat_add(probe_sat_add(last_start_ms, every_ms - j), offset);
    return due < finished_ms ? finished_ms : due;
}

void probe_window_add(struct probe_window *w, uint64_t ms)
{
    if (w->pw_next >= PROBE_WINDOW)
        w->pw_next = 0;
    w->pw_ms[w->pw_next] = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    w->pw_next = (w->pw_next + 1) % PROBE_WINDOW;
    if (w->pw_n < PROBE_WINDOW)
        w->pw_n++;
}

static int probe_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

uint64_t probe_window_quantile(const struct probe_window *w, double q)
{
    size_t n = w->pw_n < PROBE_WINDOW ? w->pw_n : PROBE_WINDOW;
    if (n == 0)
        return UINT64_MAX;
    uint32_t sorted[PROBE_WINDOW];
    memcpy(sorted, w->pw_ms, n * sizeof(sorted[0]));
    qsort(sorted, n, sizeof(sorted[0]), probe_u32_cmp);
    size_t rank; /* 1-based */
    if (!(q > 0.0)) {
        rank = 1;
    } else if (q >= 1.0) {
        rank = n;
    } else {
        double x = q * (double)n;
        rank = (size_t)x;
        if ((double)rank < x)
            rank++;
        if (rank < 1)
            rank = 1;
        if (rank > n)
            rank = n;
    }
    return sorted[rank - 1];
}
