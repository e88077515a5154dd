/*
 * journal_probe_emit SOCKET: writes the entries of one failing probe run
 * through the real journal sink to the journald listening at SOCKET, then
 * gives them 5 s to be written. Exit 0 when every entry went to journald,
 * 1 otherwise (the counts on stderr). test_journal_probe.sh reads them back
 * with journalctl.
 *
 * The entries: probe_failed of run r-fail (no subscription), probe_timeout
 * and probe_order of run r-step on subscription gateway-main, and a stream
 * violation (lifecycle_timeout) of the probe's stream "stream/0".
 */
#include "ssemon/io/journal_sink.h"

#include <event2/event.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
        return 2;
    }
    struct event_base *base = event_base_new();
    if (base == NULL)
        return 1;
    struct journal_sink_options o = {.jso_burst = 10, .jso_interval_ms = 60000};
    journal_writer_options_init(&o.jso_writer);
    o.jso_writer.jwo_target = JOURNAL_TARGET_JOURNAL;
    o.jso_writer.jwo_socket_path = argv[1];
    struct journal_sink *s = journal_sink_new(base, &o);
    if (s == NULL)
        return 1;

    struct journal_rates rates = {0};
    const struct journal_subject trigger = {.js_probe = "gateway-task", .js_run_id = "r-fail"};
    const struct violation failed = {.v_class = VIOLATION_PROBE_FAILED,
                                     .v_severity = VIOLATION_ERROR,
                                     .v_message = "trigger answered 500 (expected 2xx): oops"};
    journal_sink_violation(s, &rates, &trigger, &failed, 1000);

    const struct journal_subject step = {.js_subscription = "gateway-main",
                                         .js_contract = "gateway-envelope",
                                         .js_url = "http://127.0.0.1:1/api/sse/stream",
                                         .js_probe = "gateway-task",
                                         .js_run_id = "r-step"};
    const struct violation timeout = {
        .v_class = VIOLATION_PROBE_TIMEOUT,
        .v_severity = VIOLATION_ERROR,
        .v_message = "gateway-main: no task_event:task_completed within 10000 ms",
        .v_event = "task_event"};
    journal_sink_violation(s, &rates, &step, &timeout, 2000);
    const struct violation order = {.v_class = VIOLATION_PROBE_ORDER,
                                    .v_severity = VIOLATION_ERROR,
                                    .v_message = "gateway-main: step 2 met before step 1",
                                    .v_event = "task_event"};
    journal_sink_violation(s, &rates, &step, &order, 2000);

    struct journal_rates stream_rates = {0};
    const struct journal_subject stream = {.js_subscription = "stream/0",
                                           .js_contract = "task-stream",
                                           .js_url = "http://127.0.0.1:1/api/tasks/t1/stream",
                                           .js_probe = "legacy-task",
                                           .js_run_id = "r-stream"};
    const struct violation life = {.v_class = VIOLATION_LIFECYCLE_TIMEOUT,
                                   .v_severity = VIOLATION_ERROR,
                                   .v_message = "final state not reached within 15000 ms",
                                   .v_state = "running"};
    journal_sink_violation(s, &stream_rates, &stream, &life, 3000);

    journal_sink_close(s, 5000);
    const struct journal_stats *st = journal_sink_stats(s);
    int rc = st->js_records_journal == 4 ? 0 : 1;
    if (rc != 0)
        fprintf(stderr, "records: %llu to journald, %llu to stderr, %llu queued\n",
                (unsigned long long)st->js_records_journal,
                (unsigned long long)st->js_records_stderr, (unsigned long long)st->js_queued);
    journal_sink_free(s);
    event_base_free(base);
    return rc;
}
