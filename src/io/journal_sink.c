#include "ssemon/io/journal_sink.h"

#include "ssemon/io/journal_ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct journal_sink {
    struct journal_writer *jk_writer;
    unsigned jk_burst;
    uint64_t jk_interval_ms;
    void (*jk_on_change)(void *ctx, const struct journal_stats *st);
    void *jk_ctx;
};

/* One entry under construction: NAME=value pairs, in order. */
struct journal_entry {
    struct journal_field je_f[JOURNAL_CODEC_MAX_FIELDS];
    size_t je_n;
};

static void journal_entry_add(struct journal_entry *e, const char *name, const char *value)
{
    if (value == NULL || e->je_n == JOURNAL_CODEC_MAX_FIELDS)
        return;
    e->je_f[e->je_n++] = (struct journal_field){name, value, strlen(value)};
}

static void journal_write(struct journal_sink *s, const struct journal_entry *e)
{
    journal_writer_write(s->jk_writer, e->je_f, e->je_n);
}

/* MESSAGE, PRIORITY and MESSAGE_ID: every entry starts with them. */
static void journal_entry_head(struct journal_entry *e, char prio[4], const char *message,
                               int priority, const char *message_id)
{
    snprintf(prio, 4, "%d", priority & 7);
    journal_entry_add(e, "MESSAGE", message);
    journal_entry_add(e, "PRIORITY", prio);
    journal_entry_add(e, "MESSAGE_ID", message_id);
}

void journal_sink_daemon(struct journal_sink *s, const char *message_id, int priority,
                         const char *message)
{
    char prio[4];
    struct journal_entry e = {.je_n = 0};
    journal_entry_head(&e, prio, message, priority, message_id);
    journal_write(s, &e);
}

void journal_sink_text(struct journal_sink *s, const char *line)
{
    journal_writer_text(s->jk_writer, line);
}

/* ---- journald's own state ---- */

static void journal_sink_unreachable(struct journal_sink *s, const struct journal_stats *st)
{
    char msg[512];
    char prio[4];
    snprintf(msg, sizeof(msg),
             "journald unreachable (%s): records go to standard error until it is back",
             st->js_error);
    struct journal_entry e = {.je_n = 0};
    journal_entry_head(&e, prio, msg, 3, JOURNAL_ID_JOURNAL_UNREACHABLE);
    journal_entry_add(&e, "SSEMON_ERROR", st->js_error);
    journal_write(s, &e);
}

static void journal_sink_restored(struct journal_sink *s, const struct journal_stats *st,
                                  uint64_t away_ms)
{
    char msg[512];
    char prio[4];
    char away[24];
    char to_stderr[24];
    char dropped[24];
    snprintf(away, sizeof(away), "%llu", (unsigned long long)away_ms);
    snprintf(to_stderr, sizeof(to_stderr), "%llu", (unsigned long long)st->js_outage_stderr);
    snprintf(dropped, sizeof(dropped), "%llu", (unsigned long long)st->js_outage_dropped);
    snprintf(msg, sizeof(msg),
             "journald reachable again after %llu.%03llu s: %s record%s went to standard error, "
             "%s dropped",
             (unsigned long long)(away_ms / 1000), (unsigned long long)(away_ms % 1000), to_stderr,
             st->js_outage_stderr == 1 ? "" : "s", dropped);
    struct journal_entry e = {.je_n = 0};
    journal_entry_head(&e, prio, msg, 5, JOURNAL_ID_JOURNAL_RESTORED);
    journal_entry_add(&e, "SSEMON_UNREACHABLE_MS", away);
    journal_entry_add(&e, "SSEMON_RECORDS_STDERR", to_stderr);
    journal_entry_add(&e, "SSEMON_RECORDS_DROPPED", dropped);
    journal_write(s, &e);
}

static void journal_sink_on_change(void *ctx, const struct journal_stats *st)
{
    struct journal_sink *s = ctx;
    if (!st->js_up)
        journal_sink_unreachable(s, st);
    else
        journal_sink_restored(s, st, st->js_outage_ms);
    if (s->jk_on_change != NULL)
        s->jk_on_change(s->jk_ctx, st);
}

struct journal_sink *journal_sink_new(struct event_base *base, const struct journal_sink_options *o)
{
    struct journal_sink *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->jk_burst = o->jso_burst > 0 ? o->jso_burst : 10;
    s->jk_interval_ms = o->jso_interval_ms > 0 ? o->jso_interval_ms : 60000;
    s->jk_on_change = o->jso_on_change;
    s->jk_ctx = o->jso_ctx;
    struct journal_writer_options wo = o->jso_writer;
    wo.jwo_on_change = journal_sink_on_change;
    wo.jwo_ctx = s;
    s->jk_writer = journal_writer_new(base, &wo);
    if (s->jk_writer == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void journal_sink_close(struct journal_sink *s, uint64_t budget_ms)
{
    journal_writer_close(s->jk_writer, budget_ms);
}

void journal_sink_free(struct journal_sink *s)
{
    if (s == NULL)
        return;
    journal_writer_free(s->jk_writer);
    free(s);
}

const struct journal_stats *journal_sink_stats(const struct journal_sink *s)
{
    return journal_writer_stats(s->jk_writer);
}

void journal_sink_set_rate(struct journal_sink *s, unsigned burst, uint64_t interval_ms)
{
    if (burst > 0)
        s->jk_burst = burst;
    if (interval_ms > 0)
        s->jk_interval_ms = interval_ms;
}

/* ---- violations and lifecycle ---- */

static void journal_add_subject(struct journal_entry *e, const struct journal_subject *subj)
{
    journal_entry_add(e, "SSEMON_SUBSCRIPTION", subj->js_subscription);
    journal_entry_add(e, "SSEMON_CONTRACT", subj->js_contract);
    journal_entry_add(e, "SSEMON_URL", subj->js_url);
    journal_entry_add(e, "SSEMON_PROBE", subj->js_probe);
    journal_entry_add(e, "SSEMON_RUN_ID", subj->js_run_id);
}

/* How a MESSAGE names its subject: the subscription, or for a probe's
 * entries "probe NAME" and the subscription it waited on, if any. */
#define JOURNAL_WHO_MAX 320

static const char *journal_who(const struct journal_subject *subj, char buf[JOURNAL_WHO_MAX])
{
    const char *sub = subj->js_subscription != NULL ? subj->js_subscription : "";
    if (subj->js_probe == NULL)
        return sub;
    snprintf(buf, JOURNAL_WHO_MAX, "probe %s%s%s", subj->js_probe, sub[0] != '\0' ? ", " : "", sub);
    return buf;
}

static void journal_summary(struct journal_sink *s, const struct journal_subject *subj,
                            enum violation_class cls, uint64_t k)
{
    char msg[512];
    char prio[4];
    char count[24];
    char who[JOURNAL_WHO_MAX];
    snprintf(msg, sizeof(msg), "%s: %s: suppressed %llu further entries in the last %llu s",
             journal_who(subj, who), violation_class_name(cls), (unsigned long long)k,
             (unsigned long long)(s->jk_interval_ms / 1000));
    snprintf(count, sizeof(count), "%llu", (unsigned long long)k);
    struct journal_entry e = {.je_n = 0};
    /* A probe's summary has an id of its own: its catalog text names the
     * probe, since a trigger failure has no subscription. */
    journal_entry_head(&e, prio, msg, 5,
                       subj->js_probe != NULL ? JOURNAL_ID_PROBE_SUPPRESSED
                                              : JOURNAL_ID_SUPPRESSED);
    journal_add_subject(&e, subj);
    journal_entry_add(&e, "SSEMON_CLASS", violation_class_name(cls));
    journal_entry_add(&e, "SSEMON_SUPPRESSED", count);
    journal_write(s, &e);
}

/* The limited lifecycle entries: their rate slot, their SSEMON_LIFECYCLE
 * value and how a summary names them. */
static const struct {
    enum monitor_lifecycle jl_what;
    const char *jl_name;
    const char *jl_text;
} journal_lifecycle_limited[JOURNAL_LIFECYCLE_LIMITED] = {
    {MONITOR_LOST, "lost", "stream lost"},
    {MONITOR_RECOVERED, "recovered", "recovered"},
};

static void journal_lifecycle_summary(struct journal_sink *s, const struct journal_subject *subj,
                                      size_t slot, uint64_t k)
{
    char msg[512];
    char prio[4];
    char count[24];
    char who[JOURNAL_WHO_MAX];
    snprintf(msg, sizeof(msg), "%s: %s: suppressed %llu further entries in the last %llu s",
             journal_who(subj, who), journal_lifecycle_limited[slot].jl_text, (unsigned long long)k,
             (unsigned long long)(s->jk_interval_ms / 1000));
    snprintf(count, sizeof(count), "%llu", (unsigned long long)k);
    struct journal_entry e = {.je_n = 0};
    journal_entry_head(&e, prio, msg, 5, JOURNAL_ID_LIFECYCLE_SUPPRESSED);
    journal_add_subject(&e, subj);
    journal_entry_add(&e, "SSEMON_LIFECYCLE", journal_lifecycle_limited[slot].jl_name);
    journal_entry_add(&e, "SSEMON_SUPPRESSED", count);
    journal_write(s, &e);
}

void journal_sink_violation(struct journal_sink *s, struct journal_rates *rates,
                            const struct journal_subject *subj, const struct violation *v,
                            uint64_t now_mono_ms)
{
    (void)journal_sink_violation_ev(s, rates, subj, v, now_mono_ms, NULL, NULL);
}

bool journal_sink_violation_ev(struct journal_sink *s, struct journal_rates *rates,
                               const struct journal_subject *subj, const struct violation *v,
                               uint64_t now_mono_ms,
                               bool (*evidence)(void *ctx, char *path, size_t size), void *ctx)
{
    uint64_t k = 0;
    bool pass = true;
    if (rates != NULL && (unsigned)v->v_class < VIOLATION_CLASS_COUNT)
        pass = ratelimit_take(&rates->jr_class[v->v_class], now_mono_ms, s->jk_interval_ms,
                              s->jk_burst, &k);
    if (k > 0)
        journal_summary(s, subj, v->v_class, k);
    if (!pass) {
        rates->jr_pending = true;
        return false;
    }
    char path[4096];
    bool has_path = evidence != NULL && evidence(ctx, path, sizeof(path));
    char msg[768];
    char prio[4];
    char who[JOURNAL_WHO_MAX];
    snprintf(msg, sizeof(msg), "%s: %s: %s", journal_who(subj, who),
             violation_class_name(v->v_class), v->v_message != NULL ? v->v_message : "");
    struct journal_entry e = {.je_n = 0};
    journal_entry_head(&e, prio, msg, violation_priority(v->v_class, v->v_severity),
                       violation_message_id(v->v_class));
    journal_add_subject(&e, subj);
    journal_entry_add(&e, "SSEMON_CLASS", violation_class_name(v->v_class));
    journal_entry_add(&e, "SSEMON_SEVERITY", violation_severity_name(v->v_severity));
    journal_entry_add(&e, "SSEMON_EVENT", v->v_event);
    journal_entry_add(&e, "SSEMON_STATE", v->v_state);
    journal_entry_add(&e, "SSEMON_EXCERPT", v->v_excerpt);
    if (has_path)
        journal_entry_add(&e, "SSEMON_EVIDENCE", path);
    journal_write(s, &e);
    return true;
}

void journal_sink_flush(struct journal_sink *s, struct journal_rates *rates,
                        const struct journal_subject *subj, uint64_t now_mono_ms)
{
    /* Called every second for every subscription: most have nothing held. */
    if (!rates->jr_pending)
        return;
    bool pending = false;
    for (int c = 0; c < VIOLATION_CLASS_COUNT; c++) {
        uint64_t k = ratelimit_flush(&rates->jr_class[c], now_mono_ms, s->jk_interval_ms);
        if (k > 0)
            journal_summary(s, subj, (enum violation_class)c, k);
        pending |= rates->jr_class[c].rl_suppressed > 0;
    }
    for (size_t i = 0; i < JOURNAL_LIFECYCLE_LIMITED; i++) {
        uint64_t k = ratelimit_flush(&rates->jr_lifecycle[i], now_mono_ms, s->jk_interval_ms);
        if (k > 0)
            journal_lifecycle_summary(s, subj, i, k);
        pending |= rates->jr_lifecycle[i].rl_suppressed > 0;
    }
    rates->jr_pending = pending;
}

/* Flood control of a lifecycle entry: true when it may be written. */
static bool journal_lifecycle_pass(struct journal_sink *s, struct journal_rates *rates,
                                   const struct journal_subject *subj, enum monitor_lifecycle what,
                                   uint64_t now_mono_ms)
{
    if (rates == NULL)
        return true;
    for (size_t i = 0; i < JOURNAL_LIFECYCLE_LIMITED; i++) {
        if (journal_lifecycle_limited[i].jl_what != what)
            continue;
        uint64_t k = 0;
        bool pass = ratelimit_take(&rates->jr_lifecycle[i], now_mono_ms, s->jk_interval_ms,
                                   s->jk_burst, &k);
        if (k > 0)
            journal_lifecycle_summary(s, subj, i, k);
        if (!pass)
            rates->jr_pending = true;
        return pass;
    }
    return true;
}

void journal_sink_lifecycle(struct journal_sink *s, struct journal_rates *rates,
                            const struct journal_subject *subj, enum monitor_lifecycle what,
                            uint64_t failures, const char *detail, uint64_t now_mono_ms)
{
    if (!journal_lifecycle_pass(s, rates, subj, what, now_mono_ms))
        return;
    char msg[768];
    char who[JOURNAL_WHO_MAX];
    const char *id;
    int priority;
    const char *name = journal_who(subj, who);
    switch (what) {
    case MONITOR_CONNECTED:
        id = JOURNAL_ID_CONNECTED;
        priority = 6;
        snprintf(msg, sizeof(msg), "%s: connected to %s", name, subj->js_url);
        break;
    case MONITOR_RECOVERED:
        id = JOURNAL_ID_RECOVERED;
        priority = 5;
        snprintf(msg, sizeof(msg), "%s: recovered after %llu failed attempt%s", name,
                 (unsigned long long)failures, failures == 1 ? "" : "s");
        break;
    case MONITOR_LOST:
    default:
        id = JOURNAL_ID_LOST;
        priority = 3;
        snprintf(msg, sizeof(msg), "%s: stream lost: %s", name, detail != NULL ? detail : "");
        break;
    }
    char prio[4];
    char fails[24];
    snprintf(fails, sizeof(fails), "%llu", (unsigned long long)failures);
    struct journal_entry e = {.je_n = 0};
    journal_entry_head(&e, prio, msg, priority, id);
    journal_add_subject(&e, subj);
    if (what == MONITOR_RECOVERED)
        journal_entry_add(&e, "SSEMON_FAILURES", fails);
    if (what == MONITOR_LOST && detail != NULL && detail[0] != '\0')
        journal_entry_add(&e, "SSEMON_ERROR", detail);
    journal_write(s, &e);
}
