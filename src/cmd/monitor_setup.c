/*
 * monitor_setup: see monitor_setup.h.
 */
#include "ssemon/cmd/monitor_setup.h"
#include "ssemon/base/uuid.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* What the monitor of `cs` is given. Every pointer points into the
 * configuration, which outlives the monitor (run_sub holds a reference);
 * the sub_options carry the raw URL and secret headers for the engine. */
void monitor_setup_options(const struct config_subscription *cs, struct monitor_options *o)
{
    memset(o, 0, sizeof(*o));
    o->mo_name = config_subscription_name(cs);
    o->mo_description = config_subscription_description(cs);
    o->mo_display_url = config_subscription_url_redacted(cs);
    o->mo_contract = config_subscription_contract(cs);
    config_subscription_sub_options(cs, &o->mo_sub);
    config_subscription_validator_options(cs, &o->mo_val);
    o->mo_healthy_window_ms = config_subscription_settings(cs)->cs_healthy_window_ms;
    o->mo_stall_reopen_factor = config_subscription_settings(cs)->cs_stall_reopen_factor;
    o->mo_flight_events = config_subscription_settings(cs)->cs_evidence_events;
    o->mo_flight_bytes = config_subscription_settings(cs)->cs_evidence_bytes;
    if (config_subscription_per_attempt(cs)) {
        o->mo_prepare = monitor_setup_prepare;
        o->mo_prepare_ctx = (void *)cs;
    }
}

/* A subscription whose URL, headers or vars use ${uuid}: a fresh id for
 * every connection attempt (the backend replaces an older connection with
 * the same request id). */
int monitor_setup_prepare(void *ctx, struct monitor *m, uint64_t attempt,
                          struct monitor_attempt *out)
{
    const struct config_subscription *cs = ctx;
    (void)m;
    (void)attempt;
    char uuid[UUID_TEXT_LEN + 1];
    uuid_v4_new(uuid);
    struct config_attempt ca;
    if (config_subscription_attempt(cs, uuid, &ca) != 0)
        return -1;
    out->ma_url = ca.ca_url;
    out->ma_headers = ca.ca_headers;
    out->ma_n_headers = ca.ca_n_headers;
    out->ma_n_vars = ca.ca_n_vars;
    out->ma_vars = calloc(ca.ca_n_vars > 0 ? ca.ca_n_vars : 1, sizeof(*out->ma_vars));
    bool ok = out->ma_vars != NULL;
    for (size_t i = 0; ok && i < ca.ca_n_vars; i++) {
        out->ma_vars[i].vv_name = strdup(ca.ca_vars[i].vv_name);
        out->ma_vars[i].vv_value = strdup(ca.ca_vars[i].vv_value);
        ok = out->ma_vars[i].vv_name != NULL && out->ma_vars[i].vv_value != NULL;
    }
    ca.ca_url = NULL;
    ca.ca_headers = NULL;
    ca.ca_n_headers = 0;
    config_attempt_free(&ca);
    if (!ok) {
        monitor_attempt_clear(out);
        return -1;
    }
    return 0;
}
