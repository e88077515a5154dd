#!/bin/bash
# shellcheck disable=SC2016 # jq programs and ${...} templates are literal
# Probes end to end with the real binary against the test server's 2026
# stack (docs/test-server.md, "The 2026 stack"): `ssemon probe` for a probe
# that succeeds, dropped, delayed and reordered events, failing triggers,
# a subscription that is down (skipped), legacy task streams (ok and
# lifecycle_timeout), two paths where one drops, and its exit codes; then
# the daemon (`ssemon run`): ${uuid} per connection attempt and
# ${subscriptions.NAME.VAR} across a forced reconnect, probes in /status,
# /metrics, /readyz and `ssemon status`, skipped runs, and a reload
# (SIGHUP) that adds, changes and removes probes.
#
# usage: test_probes.sh SSEMON SSE_TESTSERVER SOURCE_DIR
# Every wait is a bounded loop; every ssemon probe runs under `timeout`;
# talks to 127.0.0.1 only.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SOURCE_DIR" >&2
    exit 2
fi
SSEMON=$1
SERVER=$2
SRC=$3
SCN=$SRC/tests/scenarios
CONTRACTS=$(realpath "$SRC/etc/ssemon/contracts")
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }
done

WORK=$(mktemp -d)
SERVER_PID=
DAEMON_PID=
HOLD_PID=
ECHO_PID=
cleanup() {
    local p
    for p in $HOLD_PID $DAEMON_PID $ECHO_PID; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

LOG=$WORK/server.log
itest_start_server "$WORK/port" "$WORK/server.err" --log "$LOG"
SERVER_PID=$ITEST_PID
BASE=$ITEST_BASE
FAILS=0
PASSES=0
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# A loopback port nobody listens on (bound, then released).
REFUSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# An HTTP server that echoes each request (its headers included) in its
# answer's body, as some APIs quote a bad token back.
python3 "$(dirname "$0")/http_echo_server.py" "$WORK/echo.port" 2>"$WORK/echo.err" &
ECHO_PID=$!
for _ in $(seq 1 200); do
    [ -s "$WORK/echo.port" ] && break
    kill -0 "$ECHO_PID" 2>/dev/null || break
    sleep 0.05
done
if [ ! -s "$WORK/echo.port" ]; then
    echo "echo server did not start" >&2
    cat "$WORK/echo.err" >&2
    exit 1
fi
ECHO_BASE="http://127.0.0.1:$(cat "$WORK/echo.port")"

# subst FILE: the config template on stdin with @BASE@, @ECHO@, @CONTRACTS@,
# @REFUSED@ and @SOCK@ filled in; ${...} templates are kept for ssemon.
subst() {
    sed -e "s|@BASE@|$BASE|g" -e "s|@ECHO@|$ECHO_BASE|g" -e "s|@CONTRACTS@|$CONTRACTS|g" \
        -e "s|@REFUSED@|$REFUSED|g" -e "s|@SOCK@|$WORK/status.sock|g" \
        -e "s|@WORK@|$WORK|g" >"$1"
}

# ---------------------------------------------------------------------------
# Part 1: ssemon probe
# ---------------------------------------------------------------------------
subst "$WORK/probe.json" <<'EOF'
{
  "contracts_dir": "@CONTRACTS@",
  "defaults": {"backoff_min_ms": 100, "backoff_max_ms": 500},
  "subscriptions": [
    {"name": "gw", "contract": "gateway-envelope",
     "url": "@BASE@/api/sse/stream?request_id=it-${uuid}&hb_ms=500",
     "vars": {"request_id": "it-${uuid}"}},
    {"name": "gw-drop", "contract": "gateway-envelope",
     "url": "@BASE@/api/sse/stream?request_id=it-${uuid}&hb_ms=500&drop=task_completed",
     "vars": {"request_id": "it-${uuid}"}},
    {"name": "gw-delay", "contract": "gateway-envelope",
     "url": "@BASE@/api/sse/stream?request_id=it-${uuid}&hb_ms=500&delay_ms=300",
     "vars": {"request_id": "it-${uuid}"}},
    {"name": "gw-reorder", "contract": "gateway-envelope",
     "url": "@BASE@/api/sse/stream?request_id=it-${uuid}&hb_ms=500&reorder",
     "vars": {"request_id": "it-${uuid}"}},
    {"name": "gw-reject", "contract": "gateway-envelope",
     "url": "@BASE@/api/sse/stream?request_id=it-${uuid}&reject=401",
     "vars": {"request_id": "it-${uuid}"}},
    {"name": "gw-a-subscription-name-longer-than-sixty-four-bytes.for-the-template-lookup", "contract": "gateway-envelope",
     "url": "@BASE@/api/sse/stream?request_id=it-long-${uuid}&hb_ms=500",
     "vars": {"request_id": "it-long-${uuid}"}},
    {"name": "gw-refused", "contract": "gateway-envelope",
     "url": "http://127.0.0.1:@REFUSED@/api/sse/stream?request_id=it-${uuid}",
     "vars": {"request_id": "it-${uuid}"}}
  ],
  "probes": [
    {"name": "ok", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task", "params": {"steps": 2, "delay": 0.05}},
                 "expect_status": [200], "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 5},
       {"subscription": "gw", "event": "task_event:task_completed", "match": {"/task_id": "${task_id}"}, "within_s": 5}]},
    {"name": "long-name", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start?rid=${subscriptions.gw-a-subscription-name-longer-than-sixty-four-bytes.for-the-template-lookup.request_id}",
                 "body": {"task_type": "demo_task", "params": {"steps": 1, "delay": 0.01}},
                 "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw-a-subscription-name-longer-than-sixty-four-bytes.for-the-template-lookup", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 5}]},
    {"name": "dropped", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task", "params": {"steps": 1, "delay": 0.05}},
                 "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw-drop", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 5},
       {"subscription": "gw-drop", "event": "task_event:task_completed", "match": {"/task_id": "${task_id}"}, "within_s": 1}]},
    {"name": "delayed", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task", "params": {"steps": 1, "delay": 0.05}},
                 "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw-delay", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 5}]},
    {"name": "slow-answer", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start?delay_ms=500",
                 "body": {"task_type": "demo_task", "params": {"steps": 1, "delay": 0.05}},
                 "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 0.3},
       {"subscription": "gw", "event": "task_event:task_completed", "match": {"/task_id": "${task_id}"}, "within_s": 0.4}]},
    {"name": "delayed-late", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task", "params": {"steps": 1, "delay": 0.05}},
                 "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw-delay", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 0.1}]},
    {"name": "trigger-500", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start?fail=500",
                 "body": {"task_type": "demo_task"}, "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 2}]},
    {"name": "trigger-refused", "every_s": 60,
     "trigger": {"url": "http://127.0.0.1:@REFUSED@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task"}, "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 2}]},
    {"name": "trigger-echo", "every_s": 60,
     "trigger": {"url": "@ECHO@/api/testing/tasks/start",
                 "headers": {"Authorization": "Bearer s3cr3t-probe-token", "X-Api-Key": "k3y-value-0123"},
                 "body": {"task_type": "demo_task"}, "expect_status": [201]},
     "expect": [
       {"subscription": "gw", "event": "task_event:task_started", "within_s": 2}]},
    {"name": "capture-echo", "every_s": 60,
     "trigger": {"url": "@ECHO@/api/testing/tasks/start",
                 "headers": {"Authorization": "Bearer s3cr3t-probe-token"},
                 "body": {"task_type": "demo_task"}, "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 2}]},
    {"name": "trigger-cut", "every_s": 60,
     "trigger": {"url": "@ECHO@/cut/api/testing/tasks/start", "body": {"task_type": "demo_task"}},
     "expect": [
       {"subscription": "gw", "event": "task_event:task_started", "within_s": 1}]},
    {"name": "capture-missing", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task", "params": {"steps": 1, "delay": 0.01}},
                 "capture": {"task_id": "/no_such_field"}},
     "expect": [
       {"subscription": "gw", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 2}]},
    {"name": "reordered", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task", "params": {"steps": 1, "delay": 0.05}},
                 "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw-reorder", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 3},
       {"subscription": "gw-reorder", "event": "task_event:task_completed", "match": {"/task_id": "${task_id}"}, "within_s": 3}]},
    {"name": "sub-rejected", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start", "body": {"task_type": "demo_task"},
                 "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw-reject", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 2}]},
    {"name": "sub-refused", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start", "body": {"task_type": "demo_task"},
                 "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw-refused", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 2}]},
    {"name": "legacy", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task", "params": {"steps": 2, "delay": 0.05}},
                 "capture": {"task_id": "/task_id"}},
     "streams": [{"url": "@BASE@/api/tasks/${task_id}/stream", "contract": "task-stream",
                  "vars": {"task_id": "${task_id}"}, "within_s": 5}]},
    {"name": "legacy-slow", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task", "params": {"steps": 5, "delay": 0.5}},
                 "capture": {"task_id": "/task_id"}},
     "streams": [{"url": "@BASE@/api/tasks/${task_id}/stream", "contract": "task-stream",
                  "vars": {"task_id": "${task_id}"}, "within_s": 1}]},
    {"name": "legacy-frozen", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task", "params": {"steps": 3, "delay": 0.2}},
                 "capture": {"task_id": "/task_id"}},
     "streams": [{"url": "@BASE@/api/tasks/${task_id}/stream", "contract": "task-stream",
                  "vars": {"task_id": "${task_id}"}, "within_s": 1}]},
    {"name": "two-paths", "every_s": 60,
     "trigger": {"url": "@BASE@/api/testing/tasks/start",
                 "body": {"task_type": "demo_task", "params": {"steps": 1, "delay": 0.05}},
                 "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gw-drop", "event": "task_event:task_completed", "match": {"/task_id": "${task_id}"}, "within_s": 1}],
     "streams": [{"url": "@BASE@/api/tasks/${task_id}/stream", "contract": "task-stream",
                  "vars": {"task_id": "${task_id}"}, "within_s": 5}]}
  ]
}
EOF

# probe NAME ARGS...: `ssemon probe -c probe.json ARGS`, output in
# NAME.out/.err, exit status in RC.
probe() {
    local name=$1
    shift
    RC=0
    timeout 40 "$SSEMON" probe -c "$WORK/probe.json" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" \
        </dev/null || RC=$?
}
# jqq ARGS...: jq -e, quietly.
jqq() { jq -e "$@" >/dev/null 2>&1; }
# jqs NAME FILTER: FILTER over the lines of NAME.out slurped (-e, quiet).
jqs() { jq -e -s "$2" "$WORK/$1.out" >/dev/null 2>&1; }
# summary NAME: the summary lines (one per run).
summary_is() { jqs "$1" "[.[] | select(has(\"duration_ms\") and (has(\"step\") | not))] | length == 1 and .[0].result == \"$2\""; }
# classes NAME: the sorted, distinct violation classes of NAME.out.
classes() { jq -r 'select(has("class")) | .class' "$WORK/$1.out" | sort -u | paste -sd, -; }

# 1. a probe that succeeds
probe ok ok
check "probe ok: exit 0" "$WORK/ok.err" equals "$RC" 0
check "probe ok: one line per expectation, ok, numeric delivery_ms" "$WORK/ok.out" jqs ok '
    [.[] | select(has("step"))] as $s | ($s | length) == 2
    and ([$s[] | .result] == ["ok", "ok"])
    and ([$s[] | .step] == [1, 2])
    and ([$s[] | .subscription] | unique == ["gw"])
    and ([$s[] | .event] == ["task_event:task_started", "task_event:task_completed"])
    and all($s[]; (.delivery_ms | type) == "number")'
check "probe ok: summary ok with probe, run_id, duration_ms" "$WORK/ok.out" jqs ok '
    [.[] | select(has("step") | not)] as $r | ($r | length) == 1
    and ($r[0] | .probe == "ok" and .result == "ok" and (.duration_ms | type) == "number")'
check "probe ok: no violation" "$WORK/ok.out" equals "$(classes ok)" ""
RID=$(jq -r -s '.[-1].run_id' "$WORK/ok.out")
check "probe ok: run_id is a UUID v4, the same on every line" "$WORK/ok.out" jqs ok \
    "all(.[]; .run_id == \"$RID\") and (\"$RID\" | test(\"$UUID_RE\"))"

# ${subscriptions.NAME.VAR} of a subscription whose name is longer than 64
# bytes (names go up to 127)
probe long long-name
check "long subscription name in a template: exit 0" "$WORK/long.err" equals "$RC" 0
check "long subscription name in a template: ok, no violation" "$WORK/long.out" jqs long '
    all(.[]; has("class") | not) and ([.[] | select(has("step")) | .result] == ["ok"])'
check "long subscription name in a template: the trigger had the request id" "$LOG" \
    grep -q 'rid=it-long-' "$LOG"

# 2. dropped events
probe dropped dropped
check "dropped: exit 1" "$WORK/dropped.err" equals "$RC" 1
check "dropped: probe_timeout naming gw-drop and task_completed" "$WORK/dropped.out" jqs dropped '
    [.[] | select(.class == "probe_timeout")] as $v | ($v | length) == 1
    and ($v[0] | .probe == "dropped" and .subscription == "gw-drop"
         and (.message | test("gw-drop")) and (.message | test("task_completed")))'
check "dropped: step 1 ok, step 2 timeout" "$WORK/dropped.out" jqs dropped \
    '[.[] | select(has("step")) | .result] == ["ok", "timeout"]'
check "dropped: summary failed" "$WORK/dropped.out" summary_is dropped failed

# 3. delayed delivery
probe delayed delayed
check "delayed: exit 0" "$WORK/delayed.err" equals "$RC" 0
check "delayed: delivery_ms >= 300 measured" "$WORK/delayed.out" jqs delayed \
    '[.[] | select(has("step"))] | length == 1 and .[0].result == "ok" and .[0].delivery_ms >= 300'
probe delayed_late delayed-late
check "delayed past within_s: exit 1" "$WORK/delayed_late.err" equals "$RC" 1
check "delayed past within_s: probe_timeout" "$WORK/delayed_late.out" equals \
    "$(classes delayed_late)" probe_timeout

# Events that arrive before the trigger's response (answered after 500 ms)
# count, measured from the trigger's start, even past within_s of the answer.
probe slow slow-answer
check "slow answer: exit 0" "$WORK/slow.err" equals "$RC" 0
check "slow answer: events before the answer matched in time" "$WORK/slow.out" jqs slow '
    [.[] | select(has("step"))] | length == 2 and all(.[]; .result == "ok" and .delivery_ms < 300)'

# 4. trigger failures
probe t500 trigger-500
check "trigger 500: exit 1" "$WORK/t500.err" equals "$RC" 1
check "trigger 500: probe_failed with the status and the body" "$WORK/t500.out" jqs t500 '
    [.[] | select(has("class"))] as $v | ($v | length) == 1 and $v[0].class == "probe_failed"
    and ($v[0].message | test("500")) and ($v[0].message | test("injected failure"))'
check "trigger 500: summary failed" "$WORK/t500.out" summary_is t500 failed
probe trefused trigger-refused
check "trigger refused: exit 1" "$WORK/trefused.err" equals "$RC" 1
check "trigger refused: probe_failed" "$WORK/trefused.out" equals "$(classes trefused)" probe_failed
# A body that echoes the trigger's headers is quoted with their values
# redacted (the status and the rest of the body are still shown).
for p in trigger-echo capture-echo; do
    probe "$p" "$p"
    check "$p: exit 1" "$WORK/$p.err" equals "$RC" 1
    check "$p: probe_failed quoting the body, the header values redacted" "$WORK/$p.out" jqs "$p" '
        [.[] | select(has("class"))] as $v | ($v | length) == 1 and $v[0].class == "probe_failed"
        and ($v[0].message | test("answered 200")) and ($v[0].message | test("h authorization: \\*\\*\\*"))
        and ($v[0].message | test("s3cr3t|k3y-value") | not)'
done
# A response cut short is a failed trigger, whatever its status.
probe cut trigger-cut
check "trigger cut short: exit 1" "$WORK/cut.err" equals "$RC" 1
check "trigger cut short: probe_failed with the status and the error, nothing awaited" "$WORK/cut.out" jqs cut '
    [.[] | select(has("class"))] as $v | ($v | length) == 1 and $v[0].class == "probe_failed"
    and ($v[0].message | test("answered 200")) and ($v[0].message | test("failed"))
    and ([.[] | select(has("step")) | .result] == ["abandoned"])'
kill -TERM "$ECHO_PID" 2>/dev/null
wait "$ECHO_PID" 2>/dev/null
ECHO_PID=
probe nocap capture-missing
check "capture missing: exit 1" "$WORK/nocap.err" equals "$RC" 1
check "capture missing: probe_failed naming the capture" "$WORK/nocap.out" jqs nocap '
    [.[] | select(has("class"))] as $v | ($v | length) == 1 and $v[0].class == "probe_failed"
    and ($v[0].message | test("task_id")) and ($v[0].message | test("/no_such_field"))'

# 5. out of order
probe reordered reordered
check "reordered: exit 1" "$WORK/reordered.err" equals "$RC" 1
check "reordered: probe_order" "$WORK/reordered.out" jqs reordered \
    'any(.[]; .class == "probe_order" and .subscription == "gw-reorder")'
check "reordered: no probe_timeout" "$WORK/reordered.out" jqs reordered \
    'all(.[]; .class != "probe_timeout")'

# 6. subscription down: skipped, no probe_* violation
for p in sub-rejected sub-refused; do
    probe "$p" --wait 1 "$p"
    check "$p: exit 1" "$WORK/$p.err" equals "$RC" 1
    check "$p: summary skipped" "$WORK/$p.out" summary_is "$p" skipped
    check "$p: no probe_* violation" "$WORK/$p.out" jqs "$p" \
        'all(.[]; (.class // "") | startswith("probe_") | not)'
done
check "sub-rejected: the subscription's own violation is shown" "$WORK/sub-rejected.out" jqs \
    sub-rejected 'any(.[]; has("class") and .subscription == "gw-reject" and (has("probe") | not))'

# 7. legacy task stream: ok, and lifecycle_timeout
probe legacy legacy
check "legacy stream: exit 0" "$WORK/legacy.err" equals "$RC" 0
check "legacy stream: stream/0 final ok" "$WORK/legacy.out" jqs legacy '
    [.[] | select(has("step"))] | length == 1 and .[0].subscription == "stream/0"
    and .[0].event == "final" and .[0].result == "ok" and (.[0].delivery_ms | type) == "number"'
check "legacy stream: no violation" "$WORK/legacy.out" equals "$(classes legacy)" ""
probe legacy_slow legacy-slow
check "legacy stream too slow: exit 1" "$WORK/legacy_slow.err" equals "$RC" 1
check "legacy stream too slow: lifecycle_timeout" "$WORK/legacy_slow.out" jqs legacy_slow '
    [.[] | select(has("class"))] | length == 1 and .[0].class == "lifecycle_timeout"
    and .[0].subscription == "stream/0" and .[0].probe == "legacy-slow"'

# A final state reached after within_s is a lifecycle_timeout, even when
# its event is read in the same loop turn as the deadline: ssemon is frozen
# (SIGSTOP) from the stream's first event until the task has ended and the
# deadline has passed, then both are due at once.
RC=0
timeout 40 "$SSEMON" probe -c "$WORK/probe.json" legacy-frozen >"$WORK/frozen.out" \
    2>"$WORK/frozen.err" </dev/null &
FROZEN_PID=$!
FROZEN_OK=0
LOG_SKIP=$(wc -l <"$LOG")
for _ in $(seq 1 200); do
    if tail -n +$((LOG_SKIP + 1)) "$LOG" | jq -e -s 'any(.[]; .stream == "legacy")' >/dev/null 2>&1; then
        # `timeout` runs ssemon as its child: freeze that one.
        FROZEN_CHILD=$(ps -o pid= --ppid "$FROZEN_PID" | tr -d ' ')
        [ -n "$FROZEN_CHILD" ] && kill -STOP "$FROZEN_CHILD" 2>/dev/null && FROZEN_OK=1
        break
    fi
    sleep 0.02
done
FROZEN_FROM=$(date +%s%N)
for _ in $(seq 1 300); do
    # The stream ended (its last event written) and 1.5 s passed (the
    # stream's deadline is at most 1 s after the freeze).
    if tail -n +$((LOG_SKIP + 1)) "$LOG" |
        jq -e -s 'any(.[]; .stream == "legacy" and .event == "connection_close")' >/dev/null 2>&1 &&
        [ $(($(date +%s%N) - FROZEN_FROM)) -ge 1500000000 ]; then
        break
    fi
    sleep 0.02
done
[ -n "${FROZEN_CHILD:-}" ] && kill -CONT "$FROZEN_CHILD" 2>/dev/null
wait "$FROZEN_PID" || RC=$?
check "legacy stream frozen past its deadline: frozen in time" "$WORK/frozen.err" equals "$FROZEN_OK" 1
check "legacy stream final after its deadline: exit 1" "$WORK/frozen.err" equals "$RC" 1
check "legacy stream final after its deadline: lifecycle_timeout, step timeout" "$WORK/frozen.out" jqs frozen '
    ([.[] | select(has("class")) | .class] == ["lifecycle_timeout"])
    and ([.[] | select(has("step")) | .result] == ["timeout"])'

# 8. two paths, one drops
probe two two-paths
check "two paths: exit 1" "$WORK/two.err" equals "$RC" 1
check "two paths: gateway step timeout, stream step ok" "$WORK/two.out" jqs two '
    [.[] | select(has("step")) | [.subscription, .event, .result]]
    == [["gw-drop", "task_event:task_completed", "timeout"], ["stream/0", "final", "ok"]]'
check "two paths: only probe_timeout" "$WORK/two.out" equals "$(classes two)" probe_timeout

# 12. exit codes
probe unknown no-such-probe
check "unknown probe name: exit 2" "$WORK/unknown.err" equals "$RC" 2
check "unknown probe name: says so" "$WORK/unknown.err" grep -q "no-such-probe" "$WORK/unknown.err"
jq '.probes[0].trigger.url = "http://127.0.0.1:1/${nope}"' "$WORK/probe.json" >"$WORK/bad.json"
RC=0
timeout 20 "$SSEMON" probe -c "$WORK/bad.json" ok >"$WORK/badcfg.out" 2>"$WORK/badcfg.err" || RC=$?
check "configuration error: exit 2" "$WORK/badcfg.err" equals "$RC" 2
check "configuration error: positioned message" "$WORK/badcfg.err" grep -q "bad.json:[0-9]*:[0-9]*:.*nope" "$WORK/badcfg.err"
probe noname
check "usage error (no name): exit 2" "$WORK/noname.err" equals "$RC" 2
probe badrepeat --repeat 0 ok
check "usage error (--repeat 0): exit 2" "$WORK/badrepeat.err" equals "$RC" 2
probe badopt --no-such-option ok
check "usage error (unknown option): exit 2" "$WORK/badopt.err" equals "$RC" 2

# ---------------------------------------------------------------------------
# Part 2: the daemon
# ---------------------------------------------------------------------------
SOCK=$WORK/status.sock
# The common part of both daemon configurations; PROBES is appended.
daemon_config() {
    local file=$1 extra_subs=$2 probes=$3
    {
        cat <<'EOF'
{"status": {"listen": "@SOCK@"},
 "contracts_dir": "@CONTRACTS@",
 "evidence_dir": "@WORK@/evidence",
 "defaults": {"backoff_min_ms": 100, "backoff_max_ms": 300},
 "subscriptions": [
   {"name": "gw", "contract": "gateway-envelope",
    "url": "@BASE@/api/sse/stream?request_id=it-${uuid}&hb_ms=500",
    "vars": {"request_id": "it-${uuid}"}}
EOF
        printf '%s\n ],\n "probes": [\n%s\n ]}\n' "$extra_subs" "$probes"
    } | subst "$file"
}
P_TEV='{"name": "tev", "every_s": 1,
  "trigger": {"url": "@BASE@/api/testing/sse/task-event",
              "body": {"request_id": "${subscriptions.gw.request_id}", "task_id": "${run_id}", "event_type": "task_started"}},
  "expect": [{"subscription": "gw", "event": "task_event:task_started", "match": {"/task_id": "${run_id}"}, "within_s": 2}]}'
P_KEEP='{"name": "keep", "every_s": 1,
  "trigger": {"url": "@BASE@/api/testing/tasks/start",
              "body": {"task_type": "demo_task", "params": {"steps": 1, "delay": 0.02}},
              "capture": {"task_id": "/task_id"}},
  "expect": [{"subscription": "gw", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 3},
             {"subscription": "gw", "event": "task_event:task_completed", "match": {"/task_id": "${task_id}"}, "within_s": 3}]}'
P_CHANGED=${P_KEEP/\"within_s\": 3\}\]\}/\"within_s\": 4\}\]\}}
P_BAD='{"name": "bad", "every_s": 1,
  "trigger": {"url": "@BASE@/api/testing/tasks/start?fail=500", "body": {"task_type": "demo_task"}},
  "expect": [{"subscription": "gw", "event": "task_event:task_started", "within_s": 1}]}'
P_SKIP='{"name": "skip", "every_s": 1,
  "trigger": {"url": "@BASE@/api/testing/tasks/start", "body": {"task_type": "demo_task"}},
  "expect": [{"subscription": "gw-reject", "event": "task_event:task_started", "within_s": 1},
             {"subscription": "gw-reject", "event": "task_event:task_completed", "within_s": 1}]}'
P_ADDED='{"name": "added", "every_s": 1,
  "trigger": {"url": "@BASE@/api/testing/tasks/start",
              "body": {"task_type": "demo_task", "params": {"steps": 1, "delay": 0.02}},
              "capture": {"task_id": "/task_id"}},
  "streams": [{"url": "@BASE@/api/tasks/${task_id}/stream", "contract": "task-stream",
               "vars": {"task_id": "${task_id}"}, "within_s": 5}]}'
SUB_REJECT=',
   {"name": "gw-reject", "contract": "gateway-envelope",
    "url": "@BASE@/api/sse/stream?request_id=it-${uuid}&reject=401",
    "vars": {"request_id": "it-${uuid}"}}'
daemon_config "$WORK/daemon1.json" "$SUB_REJECT" "$P_TEV, $P_KEEP, $P_BAD, $P_SKIP"
daemon_config "$WORK/daemon2.json" "" "$P_TEV, $P_CHANGED, $P_ADDED"
check "daemon configurations are valid" "$WORK/cc.err" \
    bash -c "'$SSEMON' check-config -c '$WORK/daemon1.json' >/dev/null 2>'$WORK/cc.err' &&
             '$SSEMON' check-config -c '$WORK/daemon2.json' >/dev/null 2>>'$WORK/cc.err'"

# get PATH: the body of GET PATH on the status socket (stdout).
get() { curl -s --max-time 10 --unix-socket "$SOCK" "http://ssemon$1"; }
# code PATH: the status code of GET PATH.
code() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "http://ssemon$1"; }
# sj FILTER: FILTER over /status, -e (quiet).
sj() { get /status | jq -e "$1" >/dev/null 2>&1; }
# wait_for FILTER: until sj FILTER holds (at most 20 s).
wait_for() {
    local _
    for _ in $(seq 1 400); do
        sj "$1" && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
# metric NAME_AND_LABELS: its value in /metrics (empty when absent).
metric() { get /metrics | awk -v k="$1" '$1 == k { print $2 }'; }
# probe_status NAME: the probe's object in /status.
probe_status() { get /status | jq -c ".probes[] | select(.name == \"$1\")"; }
# stream_rids: the distinct request ids of gateway stream requests in the
# server log, in order of first appearance.
stream_rids() {
    jq -r 'select(.path == "/api/sse/stream" and .method == "GET") | .query
           | capture("request_id=(?<r>[^&]*)").r' "$LOG" 2>/dev/null | awk '!seen[$0]++'
}

"$SSEMON" run -c "$WORK/daemon1.json" --log-target stderr 2>"$WORK/daemon.err" &
DAEMON_PID=$!
for _ in $(seq 1 200); do
    [ "$(code /healthz)" = 200 ] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
done
check "daemon: starts" "$WORK/daemon.err" equals "$(code /healthz)" 200

# Metrics from the start: every class of ssemon_probe_failures_total at 0
# for a probe whose runs are always skipped, its delivery buckets at 0.
get /metrics >"$WORK/metrics0"
NCLASSES=$(grep -c '^ssemon_probe_failures_total{probe="tev",' "$WORK/metrics0")
check "metrics: failures_total lists every class for every probe" "$WORK/metrics0" bash -c "
    [ '$NCLASSES' -ge 10 ] &&
    for p in tev keep bad skip; do
        [ \$(grep -c \"^ssemon_probe_failures_total{probe=\\\"\$p\\\",class=\" '$WORK/metrics0') = '$NCLASSES' ] || exit 1
    done"
check "metrics: failures_total has probe_failed, probe_timeout, probe_order" "$WORK/metrics0" bash -c "
    for c in probe_failed probe_timeout probe_order; do
        grep -q \"^ssemon_probe_failures_total{probe=\\\"skip\\\",class=\\\"\$c\\\"} 0\$\" '$WORK/metrics0' || exit 1
    done"
check "metrics: delivery buckets of each expectation at 0 before any run" "$WORK/metrics0" bash -c "
    for e in task_started task_completed; do
        n=\$(grep -c \"^ssemon_probe_delivery_seconds_bucket{probe=\\\"skip\\\",subscription=\\\"gw-reject\\\",event=\\\"task_event:\$e\\\",le=\\\"[^\\\"]*\\\"} 0\$\" '$WORK/metrics0')
        [ \"\$n\" -ge 15 ] || exit 1
    done"
for m in ssemon_probe_runs_total ssemon_probe_skipped_total ssemon_probe_success \
    ssemon_probe_last_run_timestamp_seconds ssemon_probe_delivery_seconds_bucket \
    ssemon_probe_trigger_duration_seconds_bucket; do
    check "metrics: $m present" "$WORK/metrics0" grep -q "^$m{probe=\"keep\"" "$WORK/metrics0"
done

# 10. probes in /status
check "status: keep runs ok" "$WORK/daemon.err" wait_for \
    '.probes[] | select(.name == "keep") | .runs >= 1 and .last_run.result == "ok"'
probe_status keep >"$WORK/keep.json"
check "status: a probe's keys" "$WORK/keep.json" jqq --arg re "$UUID_RE" '
    (keys | contains(["name", "every_s", "runs", "failures", "skipped", "healthy", "last_run", "last_failure"]))
    and .every_s == 1 and .healthy == true
    and (.last_run | (keys | contains(["run_id", "started_at", "result", "duration_ms", "captures", "steps"])))
    and (.last_run.run_id | test($re))
    and (.last_run.captures.task_id | test($re))
    and (.last_run.duration_ms | type) == "number"
    and (.last_run.started_at | type) == "string"
    and ([.last_run.steps[] | [.subscription, .event, .result]]
         == [["gw", "task_event:task_started", "ok"], ["gw", "task_event:task_completed", "ok"]])
    and all(.last_run.steps[]; (.delivery_ms | type) == "number")' "$WORK/keep.json"
check "metrics: keep's delivery histogram counts its runs" "$WORK/daemon.err" bash -c "
    c=\$(curl -s --unix-socket '$SOCK' http://ssemon/metrics |
         awk '\$1 == \"ssemon_probe_delivery_seconds_count{probe=\\\"keep\\\",subscription=\\\"gw\\\",event=\\\"task_event:task_completed\\\"}\" { print \$2 }')
    [ -n \"\$c\" ] && [ \"\$c\" -ge 1 ]"

check "status: bad fails" "$WORK/daemon.err" wait_for \
    '.probes[] | select(.name == "bad") | .runs >= 1 and .last_run.result == "failed" and .healthy == false
     and .last_failure.class == "probe_failed" and (.last_failure.message | test("500"))'
check "metrics: bad's probe_failed counted" "$WORK/daemon.err" bash -c "
    v=\$(curl -s --unix-socket '$SOCK' http://ssemon/metrics |
         awk '\$1 == \"ssemon_probe_failures_total{probe=\\\"bad\\\",class=\\\"probe_failed\\\"}\" { print \$2 }')
    [ -n \"\$v\" ] && [ \"\$v\" -ge 1 ]"
# A probe failure's evidence file: bad's trigger fails (probe_failed, no
# subscription of its own), so the file is the recorder of gw, the
# subscription its expectation waits on, named bad-...-probe_failed.rec, in
# the journal entry and in /status's last_failure.
check "evidence: bad's last failure names its file" "$WORK/daemon.err" wait_for \
    '.probes[] | select(.name == "bad") | .last_failure.evidence
     | type == "string" and test("^bad-[0-9]{8}T[0-9]{6}[.][0-9]{3}Z-probe_failed(-[0-9]+)?[.]rec$")'
BAD_EV=$(grep '^{' "$WORK/daemon.err" | jq -r 'select(.SSEMON_PROBE == "bad" and .SSEMON_EVIDENCE != null) | .SSEMON_EVIDENCE' | head -1)
check "evidence: the journal entry of bad's failure carries SSEMON_EVIDENCE" "$WORK/daemon.err" \
    bash -c '[ -n "$1" ] && [ "$(dirname "$1")" = "$2/evidence" ] && [ -s "$1" ]' _ "$BAD_EV" "$WORK"
check "evidence: the file is gw's recorder (its stream opened, its frames)" "$BAD_EV" \
    bash -c 'head -1 "$1" | jq -e ".format == \"ssemon-recording\" and (.url | test(\"/api/sse/stream\"))" >/dev/null &&
             grep -q "\"rec\":\"open\",\"status\":200" "$1" && grep -q "\"rec\":\"chunk\",\"data\":\"[^\"]" "$1"' _ "$BAD_EV"
RC=0
"$SSEMON" check --contract "$CONTRACTS/gateway-envelope.json" "$BAD_EV" >"$WORK/bad-replay.out" 2>&1 || RC=$?
check "evidence: ssemon check replays bad's file (no source error)" "$WORK/bad-replay.out" \
    bash -c '[ "$1" -le 1 ] && ! grep -q "$2:[0-9]*:" "$3"' _ "$RC" "$BAD_EV" "$WORK/bad-replay.out"
check "evidence: GET /evidence/FILE serves bad's file" "$BAD_EV" \
    bash -c 'curl -s --unix-socket "$1" "http://ssemon/evidence/$(basename "$2")" | cmp -s - "$2"' _ "$SOCK" "$BAD_EV"
get /readyz >"$WORK/readyz1"
check "readyz: 503 naming probe bad" "$WORK/readyz1" bash -c \
    "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --unix-socket '$SOCK' http://ssemon/readyz)\" = 503 ] &&
     grep -q 'probe bad' '$WORK/readyz1'"
check "readyz: does not name the healthy probes" "$WORK/readyz1" bash -c \
    "! grep -q 'probe keep' '$WORK/readyz1' && ! grep -q 'probe tev' '$WORK/readyz1'"
RC=0
"$SSEMON" status --url "unix:$SOCK" >"$WORK/st.out" 2>"$WORK/st.err" || RC=$?
check "ssemon status: exit 1 while a probe fails" "$WORK/st.err" equals "$RC" 1
check "ssemon status: shows the probes" "$WORK/st.out" bash -c \
    "grep -q bad '$WORK/st.out' && grep -q keep '$WORK/st.out' && grep -q tev '$WORK/st.out'"

# 6. (daemon) a probe whose subscription is down is skipped, not failed
check "skip: skipped counted" "$WORK/daemon.err" wait_for \
    '.probes[] | select(.name == "skip") | .skipped >= 2 and .runs == 0 and .failures == 0'
check "skip: ssemon_probe_skipped_total counts" "$WORK/daemon.err" bash -c "
    v=\$(curl -s --unix-socket '$SOCK' http://ssemon/metrics |
         awk '\$1 == \"ssemon_probe_skipped_total{probe=\\\"skip\\\"}\" { print \$2 }')
    [ -n \"\$v\" ] && [ \"\$v\" -ge 2 ]"
check "skip: no probe violation recorded for it" "$WORK/daemon.err" \
    sj '[.. | objects | select(.probe? == "skip")] | length == 0'
get /metrics >"$WORK/metrics1"
check "skip: every failure class still 0" "$WORK/metrics1" bash -c \
    "! grep '^ssemon_probe_failures_total{probe=\"skip\",' '$WORK/metrics1' | grep -qv ' 0\$'"

# 9. ${uuid} per connection attempt and ${subscriptions.gw.request_id}:
# take over gw's request id with another client (the stack ends the older
# connection with that id); the daemon reconnects with a fresh id and tev's
# events go to the new connection.
check "tev: ok through the first connection" "$WORK/daemon.err" wait_for \
    '.probes[] | select(.name == "tev") | .runs >= 1 and .last_run.result == "ok"'
RID1=$(stream_rids | grep -v 'reject' | head -1)
check "uuid: gw's request id is it-<uuid v4>" "$LOG" bash -c "[[ '$RID1' =~ ^it-${UUID_RE#^} ]]"
curl -s -N --max-time 60 "$BASE/api/sse/stream?request_id=$RID1&hb_ms=500" >/dev/null 2>&1 &
HOLD_PID=$!
RID2=
for _ in $(seq 1 200); do
    RID2=$(stream_rids | grep -vx "$RID1" | while read -r r; do
        # gw's, not gw-reject's: a request line without reject= in its query
        jq -r --arg r "$r" 'select(.path == "/api/sse/stream" and (.query | test("request_id=" + $r + "&hb_ms=500$")))
                            | .query' "$LOG" | grep -q . && echo "$r"
    done | tail -1)
    [ -n "$RID2" ] && break
    sleep 0.05
done
check "uuid: the reconnect uses a fresh request id" "$LOG" bash -c \
    "[ -n '$RID2' ] && [ '$RID2' != '$RID1' ] && [[ '$RID2' =~ ^it-${UUID_RE#^} ]]"
TEV_RUNS=$(probe_status tev | jq '.runs')
check "subscriptions.gw.request_id: tev ok on the new connection" "$WORK/daemon.err" wait_for \
    ".probes[] | select(.name == \"tev\") | .runs >= $((TEV_RUNS + 2)) and .last_run.result == \"ok\""
TEV_ID=$(probe_status tev | jq -r '.last_run.run_id')
check "subscriptions.gw.request_id: the event went to the new connection's id" "$LOG" jqq -s \
    --arg r "$RID2" --arg t "$TEV_ID" \
    'any(.[]; .event == "task_event" and .task_id == $t and .request_id == $r)' "$LOG"
kill -TERM "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID" 2>/dev/null
HOLD_PID=

# 11. reload: tev unchanged, keep changed, bad and skip removed, added new
TEV_BEFORE=$(probe_status tev | jq '.runs')
KEEP_BEFORE=$(probe_status keep | jq '.runs')
cp "$WORK/daemon2.json" "$WORK/daemon1.json"
kill -HUP "$DAEMON_PID"
check "reload: bad and skip gone from /status, added there" "$WORK/daemon.err" wait_for \
    '[.probes[].name] | sort == ["added", "keep", "tev"]'
check "reload: tev kept its runs" "$WORK/daemon.err" \
    sj ".probes[] | select(.name == \"tev\") | .runs >= $TEV_BEFORE"
check "reload: changed keep started afresh" "$WORK/daemon.err" \
    sj ".probes[] | select(.name == \"keep\") | .runs < $KEEP_BEFORE or $KEEP_BEFORE == 0"
check "reload: added runs ok" "$WORK/daemon.err" wait_for \
    '.probes[] | select(.name == "added") | .runs >= 1 and .last_run.result == "ok"
     and .last_run.steps[0].subscription == "stream/0" and .last_run.steps[0].result == "ok"'
check "reload: changed keep runs ok" "$WORK/daemon.err" wait_for \
    '.probes[] | select(.name == "keep") | .runs >= 1 and .last_run.result == "ok"'
get /metrics >"$WORK/metrics2"
check "reload: removed probes gone from /metrics" "$WORK/metrics2" bash -c \
    "! grep -q 'probe=\"bad\"' '$WORK/metrics2' && ! grep -q 'probe=\"skip\"' '$WORK/metrics2'"
check "reload: added probe in /metrics" "$WORK/metrics2" \
    grep -q '^ssemon_probe_runs_total{probe="added"}' "$WORK/metrics2"
check "reload: readyz 200 once no probe fails" "$WORK/daemon.err" bash -c "
    for _ in \$(seq 1 200); do
        [ \"\$(curl -s -o /dev/null -w '%{http_code}' --unix-socket '$SOCK' http://ssemon/readyz)\" = 200 ] && exit 0
        sleep 0.05
    done; exit 1"
RC=0
"$SSEMON" status --url "unix:$SOCK" >"$WORK/st2.out" 2>"$WORK/st2.err" || RC=$?
check "ssemon status: exit 0 once every probe passes" "$WORK/st2.out" equals "$RC" 0

# The daemon ends cleanly on SIGTERM.
kill -TERM "$DAEMON_PID"
RC=0
wait "$DAEMON_PID" || RC=$?
DAEMON_PID=
check "daemon: exit 0 on SIGTERM" "$WORK/daemon.err" equals "$RC" 0

# No process of ours is left but the test server.
pgrep -P $$ >"$WORK/children"
LEFT=$(grep -vx "$SERVER_PID" "$WORK/children" | paste -sd' ' -)
check "no stray processes" /dev/null equals "$LEFT" ""

echo "# $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
