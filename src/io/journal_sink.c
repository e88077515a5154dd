#include "ssemon/io/journal_sink.h"

#include "ssemon/io/journal_ids.h"
#include "ssemon/json/json_writer.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* The entry's own fields say where it comes from; CODE_FILE/CODE_LINE of
 * this sink would tell a reader nothing. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#define JOURNAL_MAX_FIELDS 16

struct journal_sink {
    bool jk_journal;
    unsigned jk_burst;
    uint64_t jk_interval_ms;
    FILE *jk_stream;
    struct json_writer jk_out;
};

/* One entry under construction: NAME=value pairs. */
struct journal_entry {
    const char *je_name[JOURNAL_MAX_FIELDS];
    const char *je_value[JOURNAL_MAX_FIELDS];
    size_t je_n;
};

static void journal_entry_add(struct journal_entry *e, const char *name, const char *value)
{
    if (value == NULL || e->je_n == JOURNAL_MAX_FIELDS)
        return;
    e->je_name[e->je_n] = name;
    e->je_value[e->je_n] = value;
    e->je_n++;
}

struct journal_sink *journal_sink_new(const struct journal_sink_options *o)
{
    struct journal_sink *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    struct stat st;
    switch (o->jso_target) {
    case JOURNAL_TARGET_JOURNAL:
        s->jk_journal = true;
        break;
    case JOURNAL_TARGET_STDERR:
        s->jk_journal = false;
        break;
    default:
        s->jk_journal = stat(JOURNAL_SOCKET_PATH, &st) == 0 && S_ISSOCK(st.st_mode);
        break;
    }
    s->jk_burst = o->jso_burst > 0 ? o->jso_burst : 10;
    s->jk_interval_ms = o->jso_interval_ms > 0 ? o->jso_interval_ms : 60000;
    s->jk_stream = o->jso_stream != NULL ? o->jso_stream : stderr;
    json_writer_init(&s->jk_out);
    return s;
}

void journal_sink_set_rate(struct journal_sink *s, unsigned burst, uint64_t interval_ms)
{
    if (burst > 0)
        s->jk_burst = burst;
    if (interval_ms > 0)
        s->jk_interval_ms = interval_ms;
}

void journal_sink_free(struct journal_sink *s)
{
    if (s == NULL)
        return;
    json_writer_free(&s->jk_out);
    free(s);
}

bool journal_sink_is_journal(const struct journal_sink *s)
{
    return s->jk_journal;
}

static void journal_write_stream(struct journal_sink *s, const struct journal_entry *e)
{
    struct json_writer *w = &s->jk_out;
    json_writer_reset(w);
    json_writer_object_begin(w);
    for (size_t i = 0; i < e->je_n; i++) {
        json_writer_key(w, e->je_name[i]);
        if (strcmp(e->je_name[i], "PRIORITY") == 0)
            json_writer_raw(w, e->je_value[i], strlen(e->je_value[i]));
        else
            json_writer_cstring(w, e->je_value[i]);
    }
    json_writer_object_end(w);
    json_writer_append(w, "\n", 1);
    size_t len;
    const char *text = json_writer_text(w, &len);
    if (!json_writer_failed(w)) {
        fwrite(text, 1, len, s->jk_stream);
        fflush(s->jk_stream);
    }
}

static void journal_write_journal(const struct journal_entry *e)
{
    struct iovec iov[JOURNAL_MAX_FIELDS] = {{0}};
    char *bufs[JOURNAL_MAX_FIELDS] = {0};
    size_t n = 0;
    for (size_t i = 0; i < e->je_n; i++) {
        size_t nl = strlen(e->je_name[i]);
        size_t vl = strlen(e->je_value[i]);
        char *b = malloc(nl + vl + 2);
        if (b == NULL)
            continue;
        memcpy(b, e->je_name[i], nl);
        b[nl] = '=';
        memcpy(b + nl + 1, e->je_value[i], vl + 1);
        bufs[n] = b;
        iov[n].iov_base = b;
        iov[n].iov_len = nl + 1 + vl;
        n++;
    }
    sd_journal_sendv(iov, (int)n);
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
}

static void journal_write(struct journal_sink *s, const struct journal_entry *e)
{
    if (s->jk_journal)
        journal_write_journal(e);
    else
        journal_write_stream(s, e);
}

static void journal_add_subject(struct journal_entry *e, const struct journal_subject *subj)
{
    journal_entry_add(e, "SSEMON_SUBSCRIPTION", subj->js_subscription);
    journal_entry_add(e, "SSEMON_CONTRACT", subj->js_contract);
    journal_entry_add(e, "SSEMON_URL", subj->js_url);
}

static void journal_summary(struct journal_sink *s, const struct journal_subject *subj,
                            enum violation_class cls, uint64_t k)
{
    char msg[512];
    char prio[4];
    char count[24];
    snprintf(msg, sizeof(msg), "%s: %s: suppressed %llu further entries in the last %llu s",
             subj->js_subscription, violation_class_name(cls), (unsigned long long)k,
             (unsigned long long)(s->jk_interval_ms / 1000));
    snprintf(prio, sizeof(prio), "%d", 5);
    snprintf(count, sizeof(count), "%llu", (unsigned long long)k);
    struct journal_entry e = {0};
    journal_entry_add(&e, "MESSAGE", msg);
    journal_entry_add(&e, "PRIORITY", prio);
    journal_entry_add(&e, "MESSAGE_ID", JOURNAL_ID_SUPPRESSED);
    journal_add_subject(&e, subj);
    journal_entry_add(&e, "SSEMON_CLASS", violation_class_name(cls));
    journal_entry_add(&e, "SSEMON_SUPPRESSED", count);
    journal_write(s, &e);
}

void journal_sink_violation(struct journal_sink *s, struct journal_rates *rates,
                            const struct journal_subject *subj, const struct violation *v,
                            uint64_t now_mono_ms)
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
        return;
    }
    char msg[768];
    char prio[4];
    snprintf(msg, sizeof(msg), "%s: %s: %s", subj->js_subscription,
             violation_class_name(v->v_class), v->v_message != NULL ? v->v_message : "");
    snprintf(prio, sizeof(prio), "%d", violation_priority(v->v_class, v->v_severity));
    struct journal_entry e = {0};
    journal_entry_add(&e, "MESSAGE", msg);
    journal_entry_add(&e, "PRIORITY", prio);
    journal_entry_add(&e, "MESSAGE_ID", violation_message_id(v->v_class));
    journal_add_subject(&e, subj);
    journal_entry_add(&e, "SSEMON_CLASS", violation_class_name(v->v_class));
    journal_entry_add(&e, "SSEMON_SEVERITY", violation_severity_name(v->v_severity));
    journal_entry_add(&e, "SSEMON_EVENT", v->v_event);
    journal_entry_add(&e, "SSEMON_STATE", v->v_state);
    journal_entry_add(&e, "SSEMON_EXCERPT", v->v_excerpt);
    journal_write(s, &e);
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
    rates->jr_pending = pending;
}

void journal_sink_lifecycle(struct journal_sink *s, const struct journal_subject *subj,
                            enum monitor_lifecycle what, uint64_t failures, const char *detail)
{
    char msg[768];
    const char *id;
    int priority;
    switch (what) {
    case MONITOR_CONNECTED:
        id = JOURNAL_ID_CONNECTED;
        priority = 6;
        snprintf(msg, sizeof(msg), "%s: connected to %s", subj->js_subscription, subj->js_url);
        break;
    case MONITOR_RECOVERED:
        id = JOURNAL_ID_RECOVERED;
        priority = 5;
        snprintf(msg, sizeof(msg), "%s: recovered after %llu failed attempt%s",
                 subj->js_subscription, (unsigned long long)failures, failures == 1 ? "" : "s");
        break;
    case MONITOR_LOST:
    default:
        id = JOURNAL_ID_LOST;
        priority = 3;
        snprintf(msg, sizeof(msg), "%s: stream lost: %s", subj->js_subscription,
                 detail != NULL ? detail : "");
        break;
    }
    char prio[4];
    char fails[24];
    snprintf(prio, sizeof(prio), "%d", priority);
    snprintf(fails, sizeof(fails), "%llu", (unsigned long long)failures);
    struct journal_entry e = {0};
    journal_entry_add(&e, "MESSAGE", msg);
    journal_entry_add(&e, "PRIORITY", prio);
    journal_entry_add(&e, "MESSAGE_ID", id);
    journal_add_subject(&e, subj);
    if (what == MONITOR_RECOVERED)
        journal_entry_add(&e, "SSEMON_FAILURES", fails);
    if (what == MONITOR_LOST && detail != NULL && detail[0] != '\0')
        journal_entry_add(&e, "SSEMON_ERROR", detail);
    journal_write(s, &e);
}

void journal_sink_daemon(struct journal_sink *s, const char *message_id, int priority,
                         const char *message)
{
    char prio[4];
    snprintf(prio, sizeof(prio), "%d", priority & 7);
    struct journal_entry e = {0};
    journal_entry_add(&e, "MESSAGE", message);
    journal_entry_add(&e, "PRIORITY", prio);
    journal_entry_add(&e, "MESSAGE_ID", message_id);
    journal_write(s, &e);
}
