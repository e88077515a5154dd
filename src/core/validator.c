#include "ssemon/core/validator.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssemon/base/utf8.h"
#include "ssemon/json/ecma_regex.h"
#include "ssemon/json/json_schema.h"
#include "ssemon/json/json_tape.h"

/* Longer correlation ids are remembered by this prefix, their length and a
 * hash, so per-stream state stays bounded whatever the server sends. */
#define VALIDATOR_ID_KEEP 64
#define VALIDATOR_MSG_MAX 1024
/* Bounds for strings quoted from the stream inside messages. */
#define VALIDATOR_QUOTE_MAX 80
#define VALIDATOR_NAME_MAX 128
/* Transition variant slots: any variant, or one no event can carry. */
#define VALIDATOR_ANY SIZE_MAX
#define VALIDATOR_NEVER (SIZE_MAX - 1)

/* A remembered string of unbounded length in bounded space. */
struct validator_id {
    bool vid_set;
    size_t vid_len;
    uint64_t vid_hash;
    char vid_keep[VALIDATOR_ID_KEEP];
};

/* A JSON pointer of the contract, with its common form (one member name
 * without escapes) prepared for a direct member lookup. */
struct validator_ptr {
    const char *vp_src; /* borrowed from the contract */
    const char *vp_key; /* the member name, or NULL: use vp_src */
    size_t vp_len;
};

/* A payload pointer whose value must equal a variable. */
struct validator_bound {
    struct validator_ptr vb_ptr;
    const char *vb_value; /* NULL: the variable is not bound */
    size_t vb_len;
};

/* A bounded message under construction; never overflows, cuts at UTF-8
 * boundaries. */
struct validator_msg {
    char *vm_buf;
    size_t vm_cap;
    size_t vm_len;
};

struct validator {
    const struct contract *val_c; /* borrowed: outlives the validator */
    validator_report_fn val_report;
    void *val_ctx;
    validator_seen_fn val_on_seen; /* NULL: no observer */
    void *val_seen_ctx;
    uint64_t val_n_emitted; /* violations reported so far */
    bool val_lenient;
    bool val_timing;
    uint64_t val_hb_interval_ms; /* 0: no liveness rule */
    double val_hb_tolerance;
    uint64_t val_hb_limit_ms; /* interval x tolerance */

    char **val_var_names; /* owned copies of the options' variables */
    char **val_var_values;
    size_t val_n_vars;

    size_t *val_kind_tab; /* open addressing: event index + 1, 0 = empty */
    size_t val_kind_mask;
    size_t *val_kind_len; /* strlen of each event name */

    size_t *val_variant_first; /* per event: offset into val_variant_len */
    size_t *val_variant_len;   /* strlen of each variant value */

    struct validator_ptr *val_disc; /* per event: the discriminator */
    size_t *val_eq_first;           /* per event: offset into val_eq */
    struct validator_bound *val_eq;
    struct validator_bound val_cid_bound; /* the correlation id pointer */
    struct validator_ptr val_env_type;
    struct validator_ptr val_env_payload;

    size_t *val_tr_first;   /* per state: offset into val_tr_variant */
    size_t *val_tr_variant; /* variant index, VALIDATOR_ANY or VALIDATOR_NEVER */

    struct json_tape val_tape; /* reused for every event */

    /* The lifecycle: from validator_open to validator_end. */
    bool val_live;
    size_t val_state;
    uint64_t val_open_ms;
    bool val_first_seen;
    bool val_first_late_done;
    bool val_win_started;
    uint64_t val_win_start;
    bool val_hb_missed_done; /* this silence was reported */
    bool val_life_done;
    uint64_t val_state_since; /* when the current state was entered */
    bool val_state_late_done; /* its within_ms was reported (this entry) */
    bool val_after_final_done;
    bool val_cid_changed_done;
    /* The line of the last anomaly if it was no_colon: the parser then
     * reports the same line as an unknown field too, one fault. */
    bool val_no_colon;
    size_t val_no_colon_len;
    uint64_t val_no_colon_hash;
    struct validator_id val_cid_first;
    struct validator_id val_cid_wrong; /* last id reported as not the variable */

    struct validator_stats val_stats;

    char val_msg[VALIDATOR_MSG_MAX];
    char val_excerpt[VIOLATION_EXCERPT_MAX + 1];
    char val_name[VALIDATOR_NAME_MAX];
};

/* What one event turned out to be, while it is being judged. */
struct validator_ev {
    const struct sse_event *ve_sse;
    size_t ve_kind;    /* index into c_events, or SIZE_MAX */
    size_t ve_variant; /* index into the kind's variants, or SIZE_MAX */
    size_t ve_payload; /* tape node, or JSON_TAPE_NONE */
    bool ve_judge;     /* judged for order */
};

static uint64_t validator_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t validator_hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    return h;
}

/* Copies at most `cap - 1` bytes of `s` into `out` as valid UTF-8 without
 * NUL bytes (both replaced by U+FFFD, since reports travel as C strings into
 * JSON writers), never cutting a sequence. */
static void validator_copy_text(char *out, size_t cap, const char *s, size_t len)
{
    static const char repl[] = "\xef\xbf\xbd";
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;

    for (size_t i = 0; i < len;) {
        size_t n = u[i] == 0 ? 0 : utf8_seq_len(u + i, len - i);
        const char *src = n ? s + i : repl;
        size_t w = n ? n : 3;
        if (o + w > cap - 1)
            break;
        memcpy(out + o, src, w);
        o += w;
        i += n ? n : 1;
    }
    out[o] = '\0';
}

static void validator_msg_init(struct validator_msg *m, char *buf, size_t cap)
{
    m->vm_buf = buf;
    m->vm_cap = cap;
    m->vm_len = 0;
    buf[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static void validator_msg_printf(struct validator_msg *m,
                                                                       const char *fmt, ...)
{
    size_t room = m->vm_cap - m->vm_len;
    va_list ap;
    int n;

    if (room <= 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(m->vm_buf + m->vm_len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        m->vm_buf[m->vm_len] = '\0';
        return;
    }
    if ((size_t)n < room) {
        m->vm_len += (size_t)n;
        return;
    }
    /* Truncated by bytes: drop a character cut short at the end. */
    size_t end = m->vm_len + utf8_trim_partial(m->vm_buf + m->vm_len, m->vm_cap - 1 - m->vm_len);
    m->vm_len = end;
    m->vm_buf[end] = '\0';
}

/* Appends `s` in double quotes, escaped so the message stays one readable
 * line, bounded to about `max` bytes ("..." marks a cut). */
static void validator_msg_quote(struct validator_msg *m, const char *s, size_t len, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t used = 0;

    validator_msg_printf(m, "\"");
    for (size_t i = 0; i < len;) {
        char tmp[8];
        size_t n = utf8_seq_len(u + i, len - i);
        size_t w;

        if (n == 0) {
            snprintf(tmp, sizeof(tmp), "\\x%02x", u[i]);
            n = 1;
        } else if (n == 1 && (u[i] < 0x20 || u[i] == 0x7f)) {
            snprintf(tmp, sizeof(tmp), "\\x%02x", u[i]);
        } else if (n == 1 && (u[i] == '"' || u[i] == '\\')) {
            tmp[0] = '\\';
            tmp[1] = (char)u[i];
            tmp[2] = '\0';
        } else {
            memcpy(tmp, s + i, n);
            tmp[n] = '\0';
        }
        w = strlen(tmp);
        if (used + w > max) {
            validator_msg_printf(m, "...");
            break;
        }
        validator_msg_printf(m, "%s", tmp);
        used += w;
        i += n;
    }
    validator_msg_printf(m, "\"");
}

/* ---- construction ---- */

static const char *validator_var_value(const struct validator *v, const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < v->val_n_vars; i++)
        if (strcmp(v->val_var_names[i], name) == 0)
            return v->val_var_values[i];
    return NULL;
}

static struct validator_ptr validator_ptr_make(const char *src)
{
    struct validator_ptr p = {src, NULL, 0};

    if (src != NULL && src[0] == '/' && strpbrk(src + 1, "/~") == NULL) {
        p.vp_key = src + 1;
        p.vp_len = strlen(p.vp_key);
    }
    return p;
}

/* `node` must be a node of the last parse. */
static size_t validator_ptr_get(const struct validator *v, size_t node,
                                const struct validator_ptr *p)
{
    if (p->vp_key != NULL && json_tape_type(&v->val_tape, node) == JSON_TAPE_OBJECT)
        return json_tape_object_get(&v->val_tape, node, p->vp_key, p->vp_len);
    return json_tape_pointer(&v->val_tape, node, p->vp_src);
}

static struct validator_bound validator_bind(const struct validator *v, const char *ptr,
                                             const char *name)
{
    struct validator_bound b = {validator_ptr_make(ptr), validator_var_value(v, name), 0};
    if (b.vb_value != NULL)
        b.vb_len = strlen(b.vb_value);
    return b;
}

static int validator_copy_vars(struct validator *v, const struct validator_options *opts)
{
    size_t n = opts ? opts->vo_n_vars : 0;

    if (n == 0)
        return 0;
    v->val_var_names = calloc(n, sizeof(char *));
    v->val_var_values = calloc(n, sizeof(char *));
    if (v->val_var_names == NULL || v->val_var_values == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct validator_var *var = &opts->vo_vars[i];
        if (var->vv_name == NULL || var->vv_value == NULL)
            continue;
        v->val_var_names[v->val_n_vars] = strdup(var->vv_name);
        v->val_var_values[v->val_n_vars] = strdup(var->vv_value);
        if (v->val_var_names[v->val_n_vars] == NULL || v->val_var_values[v->val_n_vars] == NULL) {
            free(v->val_var_names[v->val_n_vars]);
            free(v->val_var_values[v->val_n_vars]);
            return -1;
        }
        v->val_n_vars++;
    }
    return 0;
}

/* Per event on the hot path: a few bytes are enough to spread a contract's
 * handful of kind names; memcmp settles collisions. */
static size_t validator_kind_hash(const char *name, size_t len)
{
    const unsigned char *u = (const unsigned char *)name;

    if (len == 0)
        return 0;
    return (len * 0x9e3779b1u) ^ ((size_t)u[0] << 7) ^ ((size_t)u[len / 2] << 13) ^
           ((size_t)u[len - 1] * 0x85ebca6bu);
}

static size_t validator_kind_lookup(const struct validator *v, const char *name, size_t len)
{
    size_t i = validator_kind_hash(name, len) & v->val_kind_mask;

    for (;;) {
        size_t e = v->val_kind_tab[i];
        if (e == 0)
            return SIZE_MAX;
        e--;
        if (v->val_kind_len[e] == len && memcmp(v->val_c->c_events[e].ce_name, name, len) == 0)
            return e;
        i = (i + 1) & v->val_kind_mask;
    }
}

static int validator_build_kinds(struct validator *v)
{
    const struct contract *c = v->val_c;
    size_t cap = 8;

    while (cap < 2 * c->c_n_events + 1)
        cap *= 2;
    v->val_kind_tab = calloc(cap, sizeof(size_t));
    v->val_kind_len = calloc(c->c_n_events + 1, sizeof(size_t));
    if (v->val_kind_tab == NULL || v->val_kind_len == NULL)
        return -1;
    v->val_kind_mask = cap - 1;
    for (size_t e = 0; e < c->c_n_events; e++) {
        const char *name = c->c_events[e].ce_name;
        size_t len = strlen(name);
        size_t i;

        v->val_kind_len[e] = len;
        /* A duplicate name keeps the first declaration, like a linear scan. */
        if (validator_kind_lookup(v, name, len) != SIZE_MAX)
            continue;
        i = validator_kind_hash(name, len) & v->val_kind_mask;
        while (v->val_kind_tab[i] != 0)
            i = (i + 1) & v->val_kind_mask;
        v->val_kind_tab[i] = e + 1;
    }
    return 0;
}

static int validator_build_events(struct validator *v)
{
    const struct contract *c = v->val_c;
    size_t n_var = 0, n_eq = 0;

    for (size_t e = 0; e < c->c_n_events; e++) {
        n_var += c->c_events[e].ce_n_variants;
        n_eq += c->c_events[e].ce_n_equals;
    }
    v->val_variant_first = calloc(c->c_n_events + 1, sizeof(size_t));
    v->val_variant_len = calloc(n_var + 1, sizeof(size_t));
    v->val_eq_first = calloc(c->c_n_events + 1, sizeof(size_t));
    v->val_eq = calloc(n_eq + 1, sizeof(struct validator_bound));
    v->val_disc = calloc(c->c_n_events + 1, sizeof(struct validator_ptr));
    if (v->val_variant_first == NULL || v->val_variant_len == NULL || v->val_eq_first == NULL ||
        v->val_eq == NULL || v->val_disc == NULL)
        return -1;
    n_var = n_eq = 0;
    for (size_t e = 0; e < c->c_n_events; e++) {
        const struct contract_event *ce = &c->c_events[e];
        v->val_variant_first[e] = n_var;
        for (size_t i = 0; i < ce->ce_n_variants; i++)
            v->val_variant_len[n_var++] = strlen(ce->ce_variants[i].cv_value);
        v->val_eq_first[e] = n_eq;
        for (size_t i = 0; i < ce->ce_n_equals; i++)
            v->val_eq[n_eq++] =
                validator_bind(v, ce->ce_equals[i].ceq_pointer, ce->ce_equals[i].ceq_var);
        v->val_disc[e] = validator_ptr_make(ce->ce_discriminator);
    }
    v->val_cid_bound =
        validator_bind(v, c->c_cid.cc_pointer != NULL ? c->c_cid.cc_pointer : "/correlation_id",
                       c->c_cid.cc_equals_var);
    v->val_env_type = validator_ptr_make(c->c_env_type);
    v->val_env_payload = validator_ptr_make(c->c_env_payload);
    return 0;
}

/* Points every variable rule at the current values (after they changed). */
static void validator_rebind(struct validator *v)
{
    const struct contract *c = v->val_c;

    for (size_t e = 0; e < c->c_n_events; e++) {
        const struct contract_event *ce = &c->c_events[e];
        struct validator_bound *b = v->val_eq + v->val_eq_first[e];
        for (size_t i = 0; i < ce->ce_n_equals; i++) {
            b[i].vb_value = validator_var_value(v, ce->ce_equals[i].ceq_var);
            b[i].vb_len = b[i].vb_value != NULL ? strlen(b[i].vb_value) : 0;
        }
    }
    v->val_cid_bound.vb_value = validator_var_value(v, c->c_cid.cc_equals_var);
    v->val_cid_bound.vb_len =
        v->val_cid_bound.vb_value != NULL ? strlen(v->val_cid_bound.vb_value) : 0;
    /* A wrong id is judged afresh against the new value. */
    v->val_cid_wrong.vid_set = false;
}

int validator_set_vars(struct validator *v, const struct validator_var *vars, size_t n)
{
    size_t cap = v->val_n_vars + n;
    char **names = NULL, **values = NULL, **new_names = NULL, **new_values = NULL;
    size_t count = v->val_n_vars;

    if (n == 0)
        return 0;
    /* Everything that can fail comes first, so a failure changes nothing. */
    names = calloc(cap, sizeof(char *));
    values = calloc(cap, sizeof(char *));
    new_names = calloc(n, sizeof(char *));
    new_values = calloc(n, sizeof(char *));
    if (names == NULL || values == NULL || new_names == NULL || new_values == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (vars[i].vv_name == NULL || vars[i].vv_value == NULL)
            continue;
        new_names[i] = strdup(vars[i].vv_name);
        new_values[i] = strdup(vars[i].vv_value);
        if (new_names[i] == NULL || new_values[i] == NULL)
            goto fail;
    }
    if (v->val_n_vars > 0) {
        memcpy(names, v->val_var_names, v->val_n_vars * sizeof(char *));
        memcpy(values, v->val_var_values, v->val_n_vars * sizeof(char *));
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;

        if (new_names[i] == NULL)
            continue;
        while (k < count && strcmp(names[k], new_names[i]) != 0)
            k++;
        if (k < count) {
            free(values[k]);
            free(new_names[i]);
        } else {
            names[count++] = new_names[i];
        }
        values[k] = new_values[i];
    }
    free(new_names);
    free(new_values);
    free(v->val_var_names);
    free(v->val_var_values);
    v->val_var_names = names;
    v->val_var_values = values;
    v->val_n_vars = count;
    validator_rebind(v);
    return 0;
fail:
    for (size_t i = 0; new_names != NULL && new_values != NULL && i < n; i++) {
        free(new_names[i]);
        free(new_values[i]);
    }
    free(names);
    free(values);
    free(new_names);
    free(new_values);
    return -1;
}

static int validator_build_states(struct validator *v)
{
    const struct contract *c = v->val_c;
    size_t n_tr = 0;

    for (size_t s = 0; s < c->c_n_states; s++)
        n_tr += c->c_states[s].cs_n_on;
    v->val_tr_first = calloc(c->c_n_states + 1, sizeof(size_t));
    v->val_tr_variant = calloc(n_tr + 1, sizeof(size_t));
    if (v->val_tr_first == NULL || v->val_tr_variant == NULL)
        return -1;
    n_tr = 0;
    for (size_t s = 0; s < c->c_n_states; s++) {
        const struct contract_state *cs = &c->c_states[s];
        v->val_tr_first[s] = n_tr;
        for (size_t i = 0; i < cs->cs_n_on; i++) {
            const struct contract_transition *ct = &cs->cs_on[i];
            size_t slot = VALIDATOR_ANY;

            if (ct->ct_variant != NULL) {
                slot = VALIDATOR_NEVER;
                if (ct->ct_event < c->c_n_events) {
                    const struct contract_event *ce = &c->c_events[ct->ct_event];
                    for (size_t k = 0; k < ce->ce_n_variants; k++)
                        if (strcmp(ce->ce_variants[k].cv_value, ct->ct_variant) == 0) {
                            slot = k;
                            break;
                        }
                }
            }
            v->val_tr_variant[n_tr++] = slot;
        }
    }
    return 0;
}

static void validator_set_liveness(struct validator *v, const struct validator_options *opts)
{
    const struct contract *c = v->val_c;
    double limit;

    v->val_hb_interval_ms =
        opts && opts->vo_hb_interval_ms > 0 ? opts->vo_hb_interval_ms : c->c_hb_interval_ms;
    v->val_hb_tolerance = opts && opts->vo_hb_tolerance > 0 ? opts->vo_hb_tolerance
                          : c->c_hb_tolerance > 0           ? c->c_hb_tolerance
                                                            : 2.0;
    v->val_hb_limit_ms = 0;
    if (v->val_hb_interval_ms == 0)
        return;
    /* Rounded to the nearest ms; both factors are positive. */
    limit = (double)v->val_hb_interval_ms * v->val_hb_tolerance + 0.5;
    if (!(limit < 18446744073709549568.0))
        v->val_hb_limit_ms = UINT64_MAX;
    else if (limit < 1.0)
        v->val_hb_limit_ms = 1;
    else
        v->val_hb_limit_ms = (uint64_t)limit;
    v->val_stats.vs_hb_limit_ms = v->val_hb_limit_ms;
}

struct validator *validator_new(const struct contract *c, const struct validator_options *opts,
                                validator_report_fn report, void *ctx)
{
    struct validator *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return NULL;
    v->val_c = c;
    v->val_report = report;
    v->val_ctx = ctx;
    v->val_lenient = opts ? opts->vo_lenient : false;
    v->val_timing = opts ? opts->vo_timing : true;
    v->val_on_seen = opts ? opts->vo_on_seen : NULL;
    v->val_seen_ctx = opts ? opts->vo_seen_ctx : NULL;
    json_tape_init(&v->val_tape);
    validator_set_liveness(v, opts);
    if (validator_copy_vars(v, opts) < 0 || validator_build_kinds(v) < 0 ||
        validator_build_events(v) < 0 || validator_build_states(v) < 0) {
        validator_free(v);
        return NULL;
    }
    v->val_state = c->c_n_states > 0 ? c->c_initial : CONTRACT_NO_STATE;
    v->val_stats.vs_first_event_latency_ms = UINT64_MAX;
    return v;
}

void validator_free(struct validator *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->val_n_vars; i++) {
        free(v->val_var_names[i]);
        free(v->val_var_values[i]);
    }
    free(v->val_var_names);
    free(v->val_var_values);
    free(v->val_kind_tab);
    free(v->val_kind_len);
    free(v->val_variant_first);
    free(v->val_variant_len);
    free(v->val_eq_first);
    free(v->val_eq);
    free(v->val_disc);
    free(v->val_tr_first);
    free(v->val_tr_variant);
    json_tape_free(&v->val_tape);
    free(v);
}

/* ---- reporting ---- */

static bool validator_final(const struct validator *v)
{
    return v->val_state != CONTRACT_NO_STATE && v->val_c->c_states[v->val_state].cs_final;
}

static const char *validator_state_name(const struct validator *v)
{
    return v->val_state == CONTRACT_NO_STATE ? NULL : v->val_c->c_states[v->val_state].cs_name;
}

/* Sends the violation whose message is in val_msg. */
static void validator_emit(struct validator *v, uint64_t now_ms, enum violation_class cls,
                           enum violation_severity sev, const char *event, const char *excerpt,
                           size_t excerpt_len)
{
    struct violation vi = {
        .v_class = cls,
        .v_severity = sev,
        .v_message = v->val_msg,
        .v_event = event,
        .v_state = validator_state_name(v),
        .v_excerpt = NULL,
        .v_time_ms = now_ms,
    };

    if (excerpt != NULL) {
        validator_copy_text(v->val_excerpt, sizeof(v->val_excerpt), excerpt, excerpt_len);
        vi.v_excerpt = v->val_excerpt;
    }
    v->val_stats.vs_violations[cls]++;
    v->val_n_emitted++;
    if (v->val_report != NULL)
        v->val_report(v->val_ctx, &vi);
}

/* Starts a message in val_msg. */
static struct validator_msg validator_msg(struct validator *v)
{
    struct validator_msg m;
    validator_msg_init(&m, v->val_msg, sizeof(v->val_msg));
    return m;
}

/* ---- time rules ---- */

/* Each deadline is the first millisecond at which its rule is broken: a
 * first event exactly first_event_ms after the headers, or a heartbeat gap
 * of exactly interval x tolerance, is still in time. */

static uint64_t validator_first_deadline(const struct validator *v)
{
    uint64_t ms = v->val_c->c_first_event_ms;

    if (!v->val_timing || !v->val_live || ms == 0 || v->val_first_seen || v->val_first_late_done)
        return VALIDATOR_NO_DEADLINE;
    return validator_sat_add(validator_sat_add(v->val_open_ms, ms), 1);
}

static uint64_t validator_hb_deadline(const struct validator *v)
{
    if (!v->val_timing || !v->val_live || v->val_hb_limit_ms == 0 || !v->val_win_started ||
        v->val_hb_missed_done || validator_final(v))
        return VALIDATOR_NO_DEADLINE;
    return validator_sat_add(validator_sat_add(v->val_win_start, v->val_hb_limit_ms), 1);
}

static uint64_t validator_life_deadline(const struct validator *v)
{
    uint64_t ms = v->val_c->c_lifecycle_ms;

    if (!v->val_timing || !v->val_live || ms == 0 || v->val_life_done || validator_final(v))
        return VALIDATOR_NO_DEADLINE;
    return validator_sat_add(validator_sat_add(v->val_open_ms, ms), 1);
}

/* The current state's "within_ms": counted from its entry (a transition
 * to another state; the lifecycle's start for the initial state). A final
 * state never has one (contract_compile). */
static uint64_t validator_state_deadline(const struct validator *v)
{
    uint64_t ms;

    if (!v->val_timing || !v->val_live || v->val_state == CONTRACT_NO_STATE ||
        v->val_state_late_done)
        return VALIDATOR_NO_DEADLINE;
    ms = v->val_c->c_states[v->val_state].cs_within_ms;
    if (ms == 0)
        return VALIDATOR_NO_DEADLINE;
    return validator_sat_add(validator_sat_add(v->val_state_since, ms), 1);
}

/* The state is entered at `now_ms`; staying in it is no new entry. */
static void validator_enter(struct validator *v, size_t state, uint64_t now_ms)
{
    if (state == v->val_state)
        return;
    v->val_state = state;
    v->val_state_since = now_ms;
    v->val_state_late_done = false;
}

static void validator_fire_first(struct validator *v, uint64_t now_ms)
{
    uint64_t ms = v->val_c->c_first_event_ms;
    struct validator_msg m = validator_msg(v);

    v->val_first_late_done = true;
    if (!v->val_win_started) {
        v->val_win_started = true;
        v->val_win_start = validator_sat_add(v->val_open_ms, ms);
    }
    validator_msg_printf(&m, "no event within %llu ms of the response headers (waited %llu ms)",
                         (unsigned long long)ms, (unsigned long long)(now_ms - v->val_open_ms));
    validator_emit(v, now_ms, VIOLATION_FIRST_EVENT_LATE, VIOLATION_ERROR, NULL, NULL, 0);
}

static void validator_fire_hb(struct validator *v, uint64_t now_ms)
{
    struct validator_msg m = validator_msg(v);

    v->val_hb_missed_done = true;
    validator_msg_printf(&m, "no heartbeat for %llu ms (limit %llu ms: interval %llu ms x %g)",
                         (unsigned long long)(now_ms - v->val_win_start),
                         (unsigned long long)v->val_hb_limit_ms,
                         (unsigned long long)v->val_hb_interval_ms, v->val_hb_tolerance);
    validator_emit(v, now_ms, VIOLATION_HEARTBEAT_MISSED, VIOLATION_ERROR, NULL, NULL, 0);
}

static void validator_fire_life(struct validator *v, uint64_t now_ms)
{
    struct validator_msg m = validator_msg(v);

    v->val_life_done = true;
    validator_msg_printf(&m, "final state not reached within %llu ms",
                         (unsigned long long)v->val_c->c_lifecycle_ms);
    if (v->val_state != CONTRACT_NO_STATE) {
        validator_msg_printf(&m, " (in state ");
        validator_msg_quote(&m, validator_state_name(v), strlen(validator_state_name(v)),
                            VALIDATOR_QUOTE_MAX);
        validator_msg_printf(&m, ")");
    }
    validator_emit(v, now_ms, VIOLATION_LIFECYCLE_TIMEOUT, VIOLATION_ERROR, NULL, NULL, 0);
}

static void validator_fire_state(struct validator *v, uint64_t now_ms)
{
    const struct contract *c = v->val_c;
    const struct contract_state *cs = &c->c_states[v->val_state];
    struct validator_msg m = validator_msg(v);
    bool any = false;

    v->val_state_late_done = true;
    validator_msg_printf(&m, "still in state ");
    validator_msg_quote(&m, cs->cs_name, strlen(cs->cs_name), VALIDATOR_QUOTE_MAX);
    validator_msg_printf(
        &m, " %llu ms after entering it (expected: ", (unsigned long long)cs->cs_within_ms);
    /* What would have left it: transitions to other states. */
    for (size_t i = 0; i < cs->cs_n_on; i++) {
        const struct contract_transition *ct = &cs->cs_on[i];
        if (ct->ct_target == v->val_state)
            continue;
        validator_msg_printf(&m, "%s%s", any ? ", " : "", c->c_events[ct->ct_event].ce_name);
        if (ct->ct_variant != NULL)
            validator_msg_printf(&m, "/%s", ct->ct_variant);
        any = true;
    }
    validator_msg_printf(&m, "%s)", any ? "" : "nothing leads out of it");
    validator_emit(v, now_ms, VIOLATION_ORDER, VIOLATION_ERROR, NULL, NULL, 0);
}

/* Fires every deadline up to `now_ms` in time order (the earliest first;
 * on a tie: first event, heartbeat, lifecycle, state). Each rule fires at
 * most once until an event re-arms it, so the loop is short. */
static void validator_run_time(struct validator *v, uint64_t now_ms)
{
    for (int round = 0; round < 8; round++) {
        uint64_t first = validator_first_deadline(v);
        uint64_t hb = validator_hb_deadline(v);
        uint64_t life = validator_life_deadline(v);
        uint64_t state = validator_state_deadline(v);

        if (first <= now_ms && first <= hb && first <= life && first <= state)
            validator_fire_first(v, now_ms);
        else if (hb <= now_ms && hb <= life && hb <= state)
            validator_fire_hb(v, now_ms);
        else if (life <= now_ms && life <= state)
            validator_fire_life(v, now_ms);
        else if (state <= now_ms)
            validator_fire_state(v, now_ms);
        else
            return;
    }
}

void validator_tick(struct validator *v, uint64_t now_ms)
{
    validator_run_time(v, now_ms);
}

/* How much of the pause [from, to] falls after `start`. */
static uint64_t validator_paused_after(uint64_t start, uint64_t from, uint64_t to)
{
    uint64_t begin = start > from ? start : from;
    return to > begin ? to - begin : 0;
}

void validator_pause(struct validator *v, uint64_t from_ms, uint64_t to_ms)
{
    if (to_ms <= from_ms)
        return;
    v->val_stats.vs_unobserved_ms += to_ms - from_ms;
    if (!v->val_live)
        return;
    /* The first-event wait and the lifecycle both run from the open; a
     * window not started yet starts from it too (validator_fire_first). */
    v->val_open_ms += validator_paused_after(v->val_open_ms, from_ms, to_ms);
    if (v->val_win_started)
        v->val_win_start += validator_paused_after(v->val_win_start, from_ms, to_ms);
    v->val_state_since += validator_paused_after(v->val_state_since, from_ms, to_ms);
}

uint64_t validator_next_deadline(const struct validator *v)
{
    uint64_t d = validator_first_deadline(v);
    uint64_t hb = validator_hb_deadline(v);
    uint64_t life = validator_life_deadline(v);
    uint64_t state = validator_state_deadline(v);

    if (hb < d)
        d = hb;
    if (life < d)
        d = life;
    if (state < d)
        d = state;
    return d;
}

/* ---- lifecycle ---- */

static void validator_start(struct validator *v, uint64_t now_ms)
{
    const struct contract *c = v->val_c;

    v->val_live = true;
    v->val_state = c->c_n_states > 0 ? c->c_initial : CONTRACT_NO_STATE;
    v->val_open_ms = now_ms;
    v->val_first_seen = false;
    v->val_first_late_done = false;
    /* Without a first-event rule the window opens with the stream, or a
     * silent stream would never be reported. */
    v->val_win_started = c->c_first_event_ms == 0;
    v->val_win_start = now_ms;
    v->val_hb_missed_done = false;
    v->val_life_done = false;
    v->val_state_since = now_ms;
    v->val_state_late_done = false;
    v->val_after_final_done = false;
    v->val_cid_changed_done = false;
    v->val_cid_first.vid_set = false;
    v->val_cid_wrong.vid_set = false;
    v->val_stats.vs_first_event_latency_ms = UINT64_MAX;
}

void validator_begin(struct validator *v, uint64_t now_ms)
{
    validator_run_time(v, now_ms);
    validator_start(v, now_ms);
}

void validator_connect_failed(struct validator *v, uint64_t now_ms, enum violation_class cls,
                              const char *message)
{
    struct validator_msg m;

    validator_run_time(v, now_ms);
    v->val_live = false;
    if ((unsigned)cls >= VIOLATION_CLASS_COUNT)
        cls = VIOLATION_CONNECT_FAILED;
    m = validator_msg(v);
    if (message != NULL)
        validator_copy_text(v->val_msg, sizeof(v->val_msg), message, strlen(message));
    else
        validator_msg_printf(&m, "%s", violation_class_name(cls));
    validator_emit(v, now_ms, cls, VIOLATION_ERROR, NULL, NULL, 0);
}

static const char *validator_find_header(const struct validator_header *headers, size_t n,
                                         const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (headers[i].vh_name != NULL && strcasecmp(headers[i].vh_name, name) == 0)
            return headers[i].vh_value != NULL ? headers[i].vh_value : "";
    return NULL;
}

/* Optional whitespace around a field value is not part of it (RFC 9110). */
static void validator_trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

static void validator_check_header(struct validator *v, uint64_t now_ms,
                                   const struct contract_header *ch,
                                   const struct validator_header *headers, size_t n)
{
    const char *value = validator_find_header(headers, n, ch->ch_name);
    struct validator_msg m = validator_msg(v);
    size_t len;

    if (value == NULL) {
        if (ch->ch_absent)
            return;
        validator_msg_printf(&m, "header %s missing", ch->ch_name);
        if (ch->ch_equals != NULL) {
            validator_msg_printf(&m, " (expected ");
            validator_msg_quote(&m, ch->ch_equals, strlen(ch->ch_equals), VALIDATOR_QUOTE_MAX);
            validator_msg_printf(&m, ")");
        } else if (ch->ch_pattern != NULL) {
            validator_msg_printf(&m, " (expected to match ");
            validator_msg_quote(&m, ch->ch_pattern, strlen(ch->ch_pattern), VALIDATOR_QUOTE_MAX);
            validator_msg_printf(&m, ")");
        }
        validator_emit(v, now_ms, VIOLATION_HEADER, VIOLATION_ERROR, NULL, NULL, 0);
        return;
    }
    len = strlen(value);
    validator_trim(&value, &len);
    if (ch->ch_absent) {
        validator_msg_printf(&m, "header %s present (", ch->ch_name);
        validator_msg_quote(&m, value, len, VALIDATOR_QUOTE_MAX);
        validator_msg_printf(&m, "), must be absent");
    } else if (ch->ch_equals != NULL) {
        if (len == strlen(ch->ch_equals) && memcmp(value, ch->ch_equals, len) == 0)
            return;
        validator_msg_printf(&m, "header %s is ", ch->ch_name);
        validator_msg_quote(&m, value, len, VALIDATOR_QUOTE_MAX);
        validator_msg_printf(&m, ", expected ");
        validator_msg_quote(&m, ch->ch_equals, strlen(ch->ch_equals), VALIDATOR_QUOTE_MAX);
    } else if (ch->ch_pattern != NULL) {
        enum ecma_regex_match r = ecma_regex_search(ch->ch_re, value, len);
        if (r == ECMA_REGEX_MATCH)
            return;
        validator_msg_printf(&m, "header %s is ", ch->ch_name);
        validator_msg_quote(&m, value, len, VALIDATOR_QUOTE_MAX);
        validator_msg_printf(&m, r == ECMA_REGEX_LIMIT ? ", matching it against "
                                                       : ", does not match ");
        validator_msg_quote(&m, ch->ch_pattern, strlen(ch->ch_pattern), VALIDATOR_QUOTE_MAX);
        if (r == ECMA_REGEX_LIMIT)
            validator_msg_printf(&m, " hit the pattern's cost limit (counted as no match)");
    } else {
        return;
    }
    validator_emit(v, now_ms, VIOLATION_HEADER, VIOLATION_ERROR, NULL, value, len);
}

void validator_open(struct validator *v, uint64_t now_ms, int status,
                    const struct validator_header *headers, size_t n_headers)
{
    const struct contract *c = v->val_c;

    validator_run_time(v, now_ms);
    if (status != c->c_status) {
        /* No stream to judge: the status alone is the fault, so no lifecycle
         * (and no stream_ended) follows. */
        struct validator_msg m = validator_msg(v);
        v->val_live = false;
        validator_msg_printf(&m, "HTTP status %d, expected %d", status, c->c_status);
        validator_emit(v, now_ms, VIOLATION_HTTP_STATUS, VIOLATION_ERROR, NULL, NULL, 0);
        return;
    }
    validator_start(v, now_ms);
    for (size_t i = 0; i < c->c_n_headers; i++)
        validator_check_header(v, now_ms, &c->c_headers[i], headers, n_headers);
}

void validator_end(struct validator *v, uint64_t now_ms, const char *error)
{
    struct validator_msg m;

    validator_run_time(v, now_ms);
    if (!v->val_live)
        return;
    v->val_live = false;
    if (v->val_state != CONTRACT_NO_STATE && validator_final(v))
        return;
    m = validator_msg(v);
    validator_msg_printf(&m, "stream ended");
    if (v->val_state != CONTRACT_NO_STATE) {
        validator_msg_printf(&m, " in state ");
        validator_msg_quote(&m, validator_state_name(v), strlen(validator_state_name(v)),
                            VALIDATOR_QUOTE_MAX);
    }
    if (error != NULL) {
        validator_msg_printf(&m, " (transport error: ");
        validator_msg_quote(&m, error, strlen(error), 2 * VALIDATOR_QUOTE_MAX);
        validator_msg_printf(&m, ")");
    }
    validator_emit(v, now_ms, VIOLATION_STREAM_ENDED, VIOLATION_ERROR, NULL, NULL, 0);
}

/* ---- liveness ---- */

static void validator_heartbeat(struct validator *v, uint64_t now_ms)
{
    uint64_t since = v->val_win_started ? v->val_win_start : v->val_open_ms;

    v->val_stats.vs_heartbeats++;
    v->val_stats.vs_last_heartbeat_ms = now_ms;
    v->val_stats.vs_last_heartbeat_gap_ms = now_ms >= since ? now_ms - since : 0;
    v->val_win_started = true;
    v->val_win_start = now_ms;
    v->val_hb_missed_done = false;
}

static void validator_reset_window(struct validator *v, uint64_t now_ms)
{
    v->val_win_started = true;
    v->val_win_start = now_ms;
    v->val_hb_missed_done = false;
}

void validator_comment(struct validator *v, uint64_t now_ms, const char *text, size_t len)
{
    (void)text;
    (void)len;
    validator_run_time(v, now_ms);
    if (!v->val_live || !v->val_c->c_hb_comments)
        return;
    validator_heartbeat(v, now_ms);
}

/* ---- anomalies ---- */

static const char *validator_anomaly_text(enum sse_anomaly kind)
{
    switch (kind) {
    case SSE_ANOMALY_UNKNOWN_FIELD:
        return "line with an unknown field name (ignored)";
    case SSE_ANOMALY_NO_COLON:
        return "line without a colon (taken as a field name)";
    case SSE_ANOMALY_INVALID_UTF8:
        return "invalid UTF-8 (replaced by U+FFFD)";
    case SSE_ANOMALY_NUL:
        return "U+0000 in a line";
    case SSE_ANOMALY_ID_NUL:
        return "id field containing U+0000 (ignored)";
    case SSE_ANOMALY_BAD_RETRY:
        return "retry field with a value other than digits (ignored)";
    case SSE_ANOMALY_LINE_TOO_LONG:
        return "line longer than the parser's limit (its event discarded)";
    case SSE_ANOMALY_EVENT_TOO_LARGE:
        return "event data larger than the parser's limit (event discarded)";
    case SSE_ANOMALY_RETRY_OUT_OF_RANGE:
        return "retry field outside the reconnect range (clamped into it)";
    }
    return "unknown anomaly";
}

void validator_anomaly(struct validator *v, uint64_t now_ms, enum sse_anomaly kind,
                       const char *line, size_t len)
{
    struct validator_msg m;
    enum violation_class cls = VIOLATION_SSE_SYNTAX;
    enum violation_severity sev = v->val_lenient ? VIOLATION_WARNING : VIOLATION_ERROR;
    const char *name = sse_anomaly_name(kind);

    validator_run_time(v, now_ms);
    if (line == NULL)
        len = 0;
    if (kind == SSE_ANOMALY_UNKNOWN_FIELD && v->val_no_colon && v->val_no_colon_len == len &&
        v->val_no_colon_hash == validator_hash(line, len)) {
        v->val_no_colon = false;
        return;
    }
    v->val_no_colon = kind == SSE_ANOMALY_NO_COLON;
    if (v->val_no_colon) {
        v->val_no_colon_len = len;
        v->val_no_colon_hash = validator_hash(line, len);
    }
    if (kind == SSE_ANOMALY_LINE_TOO_LONG || kind == SSE_ANOMALY_EVENT_TOO_LARGE) {
        cls = VIOLATION_LINE_TOO_LONG;
        sev = VIOLATION_ERROR;
    }
    /* A retry outside the monitor's range is valid SSE (a browser honours
     * it); the clamp is the monitor's own policy, so it is worth knowing but
     * never makes a stream unhealthy. */
    if (kind == SSE_ANOMALY_RETRY_OUT_OF_RANGE)
        sev = VIOLATION_WARNING;
    m = validator_msg(v);
    validator_msg_printf(&m, "%s: %s", name != NULL ? name : "anomaly",
                         validator_anomaly_text(kind));
    validator_emit(v, now_ms, cls, sev, NULL, line, len);
}

/* ---- events ---- */

/* The kind's name as a C string for reports: a declared name, or a bounded
 * copy of what the stream sent. */
static const char *validator_ev_name(struct validator *v, const struct validator_ev *e,
                                     const char *raw, size_t raw_len)
{
    if (e->ve_kind != SIZE_MAX)
        return v->val_c->c_events[e->ve_kind].ce_name;
    validator_copy_text(v->val_name, sizeof(v->val_name), raw, raw_len);
    return v->val_name;
}

/* "event K" or "event K/V", the prefix of event messages. */
static void validator_msg_event(struct validator *v, struct validator_msg *m,
                                const struct validator_ev *e)
{
    const struct contract_event *ce = &v->val_c->c_events[e->ve_kind];

    validator_msg_printf(m, "event %s", ce->ce_name);
    if (e->ve_variant != SIZE_MAX)
        validator_msg_printf(m, "/%s", ce->ce_variants[e->ve_variant].cv_value);
}

static void validator_emit_event(struct validator *v, uint64_t now_ms, enum violation_class cls,
                                 enum violation_severity sev, const char *event,
                                 const struct validator_ev *e)
{
    validator_emit(v, now_ms, cls, sev, event, e->ve_sse->data, e->ve_sse->data_len);
}

static void validator_msg_node(struct validator *v, struct validator_msg *m, size_t node)
{
    if (json_tape_type(&v->val_tape, node) == JSON_TAPE_STRING) {
        size_t len;
        const char *s = json_tape_string(&v->val_tape, node, &len);
        validator_msg_quote(m, s, len, VALIDATOR_QUOTE_MAX);
    } else {
        validator_msg_printf(m, "%s", json_tape_type_phrase(json_tape_type(&v->val_tape, node)));
    }
}

static bool validator_str_eq(const struct json_tape *t, size_t node, const char *s, size_t len)
{
    size_t l;
    const char *p;

    if (json_tape_type(t, node) != JSON_TAPE_STRING)
        return false;
    p = json_tape_string(t, node, &l);
    return l == len && memcmp(p, s, len) == 0;
}

static bool validator_parse(struct validator *v, uint64_t now_ms, const struct validator_ev *e,
                            const char *event)
{
    struct json_tape_error err;
    int rc = json_tape_parse(&v->val_tape, e->ve_sse->data, e->ve_sse->data_len, &err);
    struct validator_msg m;

    if (rc == JSON_TAPE_OK)
        return true;
    /* Out of memory is not the stream's fault: the payload goes unjudged
     * rather than falsely reported. */
    if (rc == JSON_TAPE_ENOMEM)
        return false;
    m = validator_msg(v);
    validator_msg_printf(&m, "event %s: data is not JSON: %s at line %zu column %zu", event,
                         err.je_msg, err.je_line, err.je_column);
    validator_emit_event(v, now_ms, VIOLATION_DATA_NOT_JSON, VIOLATION_ERROR, event, e);
    return false;
}

static void validator_unknown(struct validator *v, uint64_t now_ms, const struct validator_ev *e,
                              const char *name)
{
    struct validator_msg m = validator_msg(v);

    validator_msg_printf(&m, "event %s is not declared by the contract", name);
    validator_emit_event(v, now_ms, VIOLATION_UNKNOWN_EVENT,
                         v->val_lenient ? VIOLATION_WARNING : VIOLATION_ERROR, name, e);
}

/* Envelope identity: kind from c_env_type, payload from c_env_payload.
 * Returns false when the event was reported and is not judged further;
 * sets *known when the kind is declared (it still counts for liveness). */
static bool validator_envelope(struct validator *v, uint64_t now_ms, struct validator_ev *e,
                               bool *known)
{
    const struct contract *c = v->val_c;
    size_t root, tn, len;
    const char *kind;
    struct validator_msg m;

    if (!validator_parse(v, now_ms, e, "message"))
        return false;
    root = json_tape_root(&v->val_tape);
    tn = validator_ptr_get(v, root, &v->val_env_type);
    if (tn == JSON_TAPE_NONE || json_tape_type(&v->val_tape, tn) != JSON_TAPE_STRING) {
        m = validator_msg(v);
        validator_msg_printf(&m, "envelope without type (%s ", c->c_env_type);
        if (tn == JSON_TAPE_NONE)
            validator_msg_printf(&m, "missing)");
        else
            validator_msg_printf(&m, "is %s, not a string)",
                                 json_tape_type_phrase(json_tape_type(&v->val_tape, tn)));
        validator_emit_event(v, now_ms, VIOLATION_SCHEMA, VIOLATION_ERROR, "message", e);
        return false;
    }
    kind = json_tape_string(&v->val_tape, tn, &len);
    e->ve_kind = validator_kind_lookup(v, kind, len);
    if (e->ve_kind == SIZE_MAX) {
        validator_unknown(v, now_ms, e, validator_ev_name(v, e, kind, len));
        return false;
    }
    *known = true;
    e->ve_payload = root;
    if (c->c_env_payload != NULL) {
        e->ve_payload = validator_ptr_get(v, root, &v->val_env_payload);
        if (e->ve_payload == JSON_TAPE_NONE) {
            m = validator_msg(v);
            validator_msg_printf(&m, "envelope of event %s without payload (%s missing)",
                                 c->c_events[e->ve_kind].ce_name, c->c_env_payload);
            validator_emit_event(v, now_ms, VIOLATION_SCHEMA, VIOLATION_ERROR,
                                 c->c_events[e->ve_kind].ce_name, e);
            /* The kind is known: it is still judged for order. */
            return true;
        }
    }
    return true;
}

/* Returns false when the discriminator is broken (reported; the event is
 * not judged for order). */
static bool validator_discriminate(struct validator *v, uint64_t now_ms, struct validator_ev *e)
{
    const struct contract_event *ce = &v->val_c->c_events[e->ve_kind];
    size_t node = validator_ptr_get(v, e->ve_payload, &v->val_disc[e->ve_kind]);
    const size_t *lens = v->val_variant_len + v->val_variant_first[e->ve_kind];
    struct validator_msg m;

    if (node != JSON_TAPE_NONE && json_tape_type(&v->val_tape, node) == JSON_TAPE_STRING) {
        size_t len;
        const char *s = json_tape_string(&v->val_tape, node, &len);
        for (size_t i = 0; i < ce->ce_n_variants; i++)
            if (lens[i] == len && memcmp(ce->ce_variants[i].cv_value, s, len) == 0) {
                e->ve_variant = i;
                return true;
            }
    }
    m = validator_msg(v);
    validator_msg_printf(&m, "event %s: %s ", ce->ce_name, ce->ce_discriminator);
    if (node == JSON_TAPE_NONE) {
        validator_msg_printf(&m, "missing");
    } else if (json_tape_type(&v->val_tape, node) != JSON_TAPE_STRING) {
        validator_msg_printf(&m, "is %s, not a string",
                             json_tape_type_phrase(json_tape_type(&v->val_tape, node)));
    } else {
        validator_msg_node(v, &m, node);
        validator_msg_printf(&m, " is not a declared variant (");
        for (size_t i = 0; i < ce->ce_n_variants; i++)
            validator_msg_printf(&m, "%s%s", i ? ", " : "", ce->ce_variants[i].cv_value);
        validator_msg_printf(&m, ")");
    }
    validator_emit_event(v, now_ms, VIOLATION_SCHEMA, VIOLATION_ERROR, ce->ce_name, e);
    return false;
}

/* Schema and variable checks: at most one schema violation per event. */
static void validator_check_payload(struct validator *v, uint64_t now_ms,
                                    const struct validator_ev *e)
{
    const struct contract_event *ce = &v->val_c->c_events[e->ve_kind];
    const struct json_schema *schemas[2] = {ce->ce_schema, NULL};
    const struct validator_bound *bound = v->val_eq + v->val_eq_first[e->ve_kind];
    struct json_schema_error err;
    struct validator_msg m;

    if (e->ve_variant != SIZE_MAX)
        schemas[1] = ce->ce_variants[e->ve_variant].cv_schema;
    for (int i = 0; i < 2; i++) {
        if (schemas[i] == NULL ||
            json_schema_validate(schemas[i], &v->val_tape, e->ve_payload, &err))
            continue;
        m = validator_msg(v);
        validator_msg_event(v, &m, e);
        validator_msg_printf(&m, ": %s", err.se_text);
        validator_emit_event(v, now_ms, VIOLATION_SCHEMA, VIOLATION_ERROR, ce->ce_name, e);
        return;
    }
    for (size_t i = 0; i < ce->ce_n_equals; i++) {
        const char *ptr = ce->ce_equals[i].ceq_pointer;
        size_t node;

        if (bound[i].vb_value == NULL)
            continue;
        node = validator_ptr_get(v, e->ve_payload, &bound[i].vb_ptr);
        if (node != JSON_TAPE_NONE &&
            validator_str_eq(&v->val_tape, node, bound[i].vb_value, bound[i].vb_len))
            continue;
        m = validator_msg(v);
        validator_msg_event(v, &m, e);
        validator_msg_printf(&m, ": %s ", ptr);
        if (node == JSON_TAPE_NONE) {
            validator_msg_printf(&m, "missing");
        } else {
            validator_msg_printf(&m, "is ");
            validator_msg_node(v, &m, node);
        }
        validator_msg_printf(&m, ", expected ");
        validator_msg_quote(&m, bound[i].vb_value, bound[i].vb_len, VALIDATOR_QUOTE_MAX);
        validator_msg_printf(&m, " (variable %s)", ce->ce_equals[i].ceq_var);
        validator_emit_event(v, now_ms, VIOLATION_SCHEMA, VIOLATION_ERROR, ce->ce_name, e);
        return;
    }
}

static void validator_id_set(struct validator_id *id, const char *s, size_t len)
{
    id->vid_set = true;
    id->vid_len = len;
    id->vid_hash = validator_hash(s, len);
    memcpy(id->vid_keep, s, len < VALIDATOR_ID_KEEP ? len : VALIDATOR_ID_KEEP);
}

static bool validator_id_eq(const struct validator_id *id, const char *s, size_t len)
{
    size_t keep = len < VALIDATOR_ID_KEEP ? len : VALIDATOR_ID_KEEP;

    return id->vid_set && id->vid_len == len && memcmp(id->vid_keep, s, keep) == 0 &&
           (len <= VALIDATOR_ID_KEEP || id->vid_hash == validator_hash(s, len));
}

enum validator_cid_fault {
    VALIDATOR_CID_OK = 0,
    VALIDATOR_CID_MISSING,
    VALIDATOR_CID_PRESENT,
    VALIDATOR_CID_NOT_STRING,
    VALIDATOR_CID_NOT_VARIABLE,
    VALIDATOR_CID_CHANGED,
};

/* Applies the policy to the id at `node` (JSON_TAPE_NONE: absent) and
 * updates the lifecycle's memory; `*was` receives the previous id of a
 * change. Formats nothing: most events are fine. */
static enum validator_cid_fault validator_cid_judge(struct validator *v, size_t node,
                                                    struct validator_id *was)
{
    const struct contract_correlation *cc = &v->val_c->c_cid;
    const struct validator_bound *bound = &v->val_cid_bound;
    size_t len;
    const char *s;

    if (node == JSON_TAPE_NONE)
        return cc->cc_presence == CONTRACT_CID_REQUIRED ? VALIDATOR_CID_MISSING : VALIDATOR_CID_OK;
    if (cc->cc_presence == CONTRACT_CID_ABSENT)
        return VALIDATOR_CID_PRESENT;
    if (json_tape_type(&v->val_tape, node) != JSON_TAPE_STRING)
        return VALIDATOR_CID_NOT_STRING;
    s = json_tape_string(&v->val_tape, node, &len);
    if (bound->vb_value != NULL) {
        /* Equal to the variable implies consistent. A wrong id is reported
         * once while it stays the same wrong id. */
        if ((len == bound->vb_len && memcmp(s, bound->vb_value, len) == 0) ||
            validator_id_eq(&v->val_cid_wrong, s, len))
            return VALIDATOR_CID_OK;
        validator_id_set(&v->val_cid_wrong, s, len);
        return VALIDATOR_CID_NOT_VARIABLE;
    }
    if (!cc->cc_consistent)
        return VALIDATOR_CID_OK;
    if (!v->val_cid_first.vid_set) {
        validator_id_set(&v->val_cid_first, s, len);
        return VALIDATOR_CID_OK;
    }
    if (validator_id_eq(&v->val_cid_first, s, len))
        return VALIDATOR_CID_OK;
    /* Adopt the new id and report the change once per lifecycle: a server
     * that switched ids is one fault. */
    *was = v->val_cid_first;
    validator_id_set(&v->val_cid_first, s, len);
    if (v->val_cid_changed_done)
        return VALIDATOR_CID_OK;
    v->val_cid_changed_done = true;
    return VALIDATOR_CID_CHANGED;
}

static void validator_check_cid(struct validator *v, uint64_t now_ms, const struct validator_ev *e)
{
    const struct contract_correlation *cc = &v->val_c->c_cid;
    const char *ptr = v->val_cid_bound.vb_ptr.vp_src;
    struct validator_id was; /* set for VALIDATOR_CID_CHANGED only */
    enum validator_cid_fault fault;
    struct validator_msg m;
    size_t node, len;
    const char *s;

    if (cc->cc_presence == CONTRACT_CID_IGNORE && !cc->cc_consistent && cc->cc_equals_var == NULL)
        return;
    node = validator_ptr_get(v, e->ve_payload, &v->val_cid_bound.vb_ptr);
    fault = validator_cid_judge(v, node, &was);
    if (fault == VALIDATOR_CID_OK)
        return;
    m = validator_msg(v);
    validator_msg_event(v, &m, e);
    validator_msg_printf(&m, ": %s ", ptr);
    switch (fault) {
    case VALIDATOR_CID_MISSING:
        validator_msg_printf(&m, "missing (required)");
        break;
    case VALIDATOR_CID_PRESENT:
        validator_msg_printf(&m, "present (");
        validator_msg_node(v, &m, node);
        validator_msg_printf(&m, "), must be absent");
        break;
    case VALIDATOR_CID_NOT_STRING:
        validator_msg_printf(&m, "is %s, not a string",
                             json_tape_type_phrase(json_tape_type(&v->val_tape, node)));
        break;
    case VALIDATOR_CID_NOT_VARIABLE:
        validator_msg_printf(&m, "is ");
        validator_msg_node(v, &m, node);
        validator_msg_printf(&m, ", expected ");
        validator_msg_quote(&m, v->val_cid_bound.vb_value, v->val_cid_bound.vb_len,
                            VALIDATOR_QUOTE_MAX);
        validator_msg_printf(&m, " (variable %s)", cc->cc_equals_var);
        break;
    case VALIDATOR_CID_CHANGED:
        s = json_tape_string(&v->val_tape, node, &len);
        validator_msg_printf(&m, "changed from ");
        validator_msg_quote(&m, was.vid_keep,
                            was.vid_len < VALIDATOR_ID_KEEP ? was.vid_len : VALIDATOR_ID_KEEP,
                            VALIDATOR_QUOTE_MAX);
        validator_msg_printf(&m, " to ");
        validator_msg_quote(&m, s, len, VALIDATOR_QUOTE_MAX);
        break;
    case VALIDATOR_CID_OK:
        break;
    }
    validator_emit_event(v, now_ms, VIOLATION_CORRELATION_ID, VIOLATION_ERROR,
                         v->val_c->c_events[e->ve_kind].ce_name, e);
}

static bool validator_tr_match(const struct validator *v, size_t state, size_t i,
                               const struct validator_ev *e)
{
    const struct contract_transition *ct = &v->val_c->c_states[state].cs_on[i];
    size_t slot = v->val_tr_variant[v->val_tr_first[state] + i];

    return ct->ct_event == e->ve_kind && (slot == VALIDATOR_ANY || slot == e->ve_variant);
}

static void validator_order(struct validator *v, uint64_t now_ms, const struct validator_ev *e)
{
    const struct contract *c = v->val_c;
    const struct contract_state *cs = &c->c_states[v->val_state];
    const char *name = c->c_events[e->ve_kind].ce_name;
    struct validator_msg m;

    for (size_t i = 0; i < cs->cs_n_on; i++)
        if (validator_tr_match(v, v->val_state, i, e)) {
            validator_enter(v, cs->cs_on[i].ct_target, now_ms);
            return;
        }
    m = validator_msg(v);
    if (cs->cs_final) {
        /* The server should have ended the stream: one report, whatever
         * follows. */
        if (v->val_after_final_done)
            return;
        v->val_after_final_done = true;
        validator_msg_event(v, &m, e);
        validator_msg_printf(&m, " after final state ");
        validator_msg_quote(&m, cs->cs_name, strlen(cs->cs_name), VALIDATOR_QUOTE_MAX);
        validator_emit_event(v, now_ms, VIOLATION_ORDER, VIOLATION_ERROR, name, e);
        return;
    }
    validator_msg_event(v, &m, e);
    validator_msg_printf(&m, " not allowed in state ");
    validator_msg_quote(&m, cs->cs_name, strlen(cs->cs_name), VALIDATOR_QUOTE_MAX);
    validator_msg_printf(&m, " (expected: ");
    if (cs->cs_n_on == 0)
        validator_msg_printf(&m, "nothing");
    for (size_t i = 0; i < cs->cs_n_on; i++) {
        const struct contract_transition *ct = &cs->cs_on[i];
        validator_msg_printf(&m, "%s%s", i ? ", " : "", c->c_events[ct->ct_event].ce_name);
        if (ct->ct_variant != NULL)
            validator_msg_printf(&m, "/%s", ct->ct_variant);
    }
    validator_msg_printf(&m, ")");
    validator_emit_event(v, now_ms, VIOLATION_ORDER, VIOLATION_ERROR, name, e);
    /* Resynchronise: assume the events that would have led here were lost
     * and follow this one to where it leads. */
    for (size_t s = 0; s < c->c_n_states; s++)
        for (size_t i = 0; i < c->c_states[s].cs_n_on; i++)
            if (validator_tr_match(v, s, i, e)) {
                validator_enter(v, c->c_states[s].cs_on[i].ct_target, now_ms);
                return;
            }
}

/* Shows the observer what the event turned out to be; `emitted`: the
 * violation count before it was judged. Kept out of line so the hot path
 * without an observer pays one test (about 3 instructions per event). */
__attribute__((noinline)) static void validator_observe(struct validator *v, uint64_t now_ms,
                                                        const struct validator_ev *e,
                                                        uint64_t emitted)
{
    const struct contract_event *ce = &v->val_c->c_events[e->ve_kind];
    struct validator_seen seen = {
        .vsn_kind = ce->ce_name,
        .vsn_variant = e->ve_variant != SIZE_MAX ? ce->ce_variants[e->ve_variant].cv_value : NULL,
        .vsn_tape = e->ve_payload != JSON_TAPE_NONE ? &v->val_tape : NULL,
        .vsn_payload = e->ve_payload,
        .vsn_sse = e->ve_sse,
        .vsn_valid = v->val_n_emitted == emitted,
    };

    v->val_on_seen(v->val_seen_ctx, now_ms, &seen);
}

static void validator_judge(struct validator *v, uint64_t now_ms, const struct sse_event *ev)
{
    const struct contract *c = v->val_c;
    struct validator_ev e = {ev, SIZE_MAX, SIZE_MAX, JSON_TAPE_NONE, false};
    const struct contract_event *ce;
    bool known = false;
    uint64_t emitted = v->val_n_emitted;

    if (c->c_env_type != NULL && ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0) {
        e.ve_judge = validator_envelope(v, now_ms, &e, &known);
    } else {
        e.ve_kind = validator_kind_lookup(v, ev->type, ev->type_len);
        if (e.ve_kind == SIZE_MAX) {
            validator_unknown(v, now_ms, &e, validator_ev_name(v, &e, ev->type, ev->type_len));
            return;
        }
        known = true;
        e.ve_judge = true;
        if (c->c_events[e.ve_kind].ce_data == CONTRACT_DATA_JSON) {
            e.ve_judge = validator_parse(v, now_ms, &e, c->c_events[e.ve_kind].ce_name);
            if (e.ve_judge)
                e.ve_payload = json_tape_root(&v->val_tape);
        }
    }
    if (!known)
        return;
    ce = &c->c_events[e.ve_kind];

    if (e.ve_judge && e.ve_payload != JSON_TAPE_NONE) {
        if (ce->ce_discriminator != NULL && ce->ce_n_variants > 0)
            e.ve_judge = validator_discriminate(v, now_ms, &e);
        if (e.ve_judge) {
            validator_check_payload(v, now_ms, &e);
            if (ce->ce_correlation &&
                json_tape_type(&v->val_tape, e.ve_payload) == JSON_TAPE_OBJECT)
                validator_check_cid(v, now_ms, &e);
        }
    }

    if (ce->ce_heartbeat)
        validator_heartbeat(v, now_ms);
    else if (c->c_hb_reset_on_any)
        validator_reset_window(v, now_ms);

    if (e.ve_judge && c->c_n_states > 0)
        validator_order(v, now_ms, &e);

    if (v->val_on_seen != NULL)
        validator_observe(v, now_ms, &e, emitted);
}

void validator_event(struct validator *v, uint64_t now_ms, const struct sse_event *ev)
{
    validator_run_time(v, now_ms);
    if (!v->val_live)
        validator_start(v, now_ms);
    v->val_stats.vs_events++;
    v->val_stats.vs_last_event_ms = now_ms;
    if (!v->val_first_seen) {
        v->val_first_seen = true;
        v->val_stats.vs_first_event_latency_ms =
            now_ms > v->val_open_ms ? now_ms - v->val_open_ms : 0;
    }
    validator_judge(v, now_ms, ev);
    /* The window starts with the first event of any kind, if the event
     * itself did not start it. */
    if (!v->val_win_started)
        validator_reset_window(v, now_ms);
}

/* ---- accessors ---- */

const char *validator_state(const struct validator *v)
{
    return validator_state_name(v);
}

bool validator_in_final_state(const struct validator *v)
{
    return validator_final(v);
}

const struct validator_stats *validator_stats(const struct validator *v)
{
    return &v->val_stats;
}
