#!/bin/bash
# shellcheck disable=SC2016 # the jq programs use $variables of their own
# The test server's built-in 2026 stack (docs/test-server.md, "The 2026
# stack") and the shipped contracts of each era against it: the real
# `ssemon check` on the gateway stream while tasks are started through the
# testing endpoints, on the legacy task streams of a started task, and the
# fault switches each yielding exactly their violation. Then the stack's own
# behaviour, checked with curl: answers of the testing endpoints, connection
# replacement, trigger failures, delays and the event log.
#
# usage: test_streams2026.sh SSEMON SSE_TESTSERVER SOURCE_DIR
# Every check runs under `timeout` (endless streams with --max-duration);
# every wait is a bounded loop.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SOURCE_DIR" >&2
    exit 2
fi
SSEMON=$1
SERVER=$2
SRC=$3
SCN=$SRC/tests/scenarios
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
for tool in jq curl; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }
done

itest_serve
FAILS=0
PASSES=0

# post PATH JSON: POST to the stack; the body in $WORK/post.body, the
# status printed.
post() {
    curl -s -m 10 -o "$WORK/post.body" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' -d "$2" "$BASE$1"
}
# start_task JSON: starts a task, prints its id (empty on failure).
start_task() {
    [ "$(post /api/testing/tasks/start "$1")" = 200 ] && jq -r .task_id "$WORK/post.body"
}
# wait_log JQ_FILTER: waits (at most 10 s) until a line of the server's log
# matches.
wait_log() {
    local _
    for _ in $(seq 1 200); do
        [ -s "$LOG" ] && jq -e -s "any(.[]; $1)" "$LOG" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}
# wait_gone PID: waits (at most 20 s) for a background process to end; its
# exit status is returned.
wait_gone() {
    local _
    for _ in $(seq 1 400); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    wait "$1"
}
# The sorted violation classes of an output, comma-separated ("" for none).
classes() { jq -r 'select(has("class")) | .class' "$WORK/$1.out" | sort | paste -sd, -; }
events() { jq -r 'select(has("events")) | .events' "$WORK/$1.out"; }
# jqe ARGS...: jq -e, quietly (for check).
jqe() { jq -e "$@" >/dev/null; }

# check_bg NAME ARGS...: `ssemon check ARGS` in the background; its pid in
# CHECK_PID, output in NAME.out/.err.
check_bg() {
    local name=$1
    shift
    timeout 30 "$SSEMON" check "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
    CHECK_PID=$!
    BG_PIDS+=("$CHECK_PID")
}
# verdict NAME WANT_CLASSES WANT_RC RC: pass when both agree.
verdict() {
    local got
    got=$(classes "$1")
    if [ "$got" = "$2" ] && [ "$4" = "$3" ]; then
        pass "$1: [$got] exit $4"
    else
        fail "$1: want [$2] exit $3, got [$got] exit $4" "$WORK/$1.out"
        sed 's/^/    | /' "$WORK/$1.err" >&2
    fi
}
# gateway_check NAME RID QUERY WANT_CLASSES WANT_RC TASK_JSON...: checks the
# gateway stream of request id RID (extra QUERY switches) with
# gateway-envelope for 4 s while the given tasks run, started once the
# stream is ready.
gateway_check() {
    local name=$1 rid=$2 query=$3 want=$4 want_rc=$5 body rc
    shift 5
    check_bg "$name" --contract gateway-envelope --var "request_id=$rid" --max-duration 4 \
        "$BASE/api/sse/stream?request_id=$rid&hb_ms=250$query"
    if ! wait_log "select(.event == \"version\" and .request_id == \"$rid\")"; then
        fail "$name: the stream never got its version" "$WORK/server.err"
        return
    fi
    for body in "$@"; do
        [ -n "$(start_task "$body")" ] || fail "$name: cannot start $body" "$WORK/post.body"
    done
    wait_gone "$CHECK_PID"
    rc=$?
    verdict "$name" "$want" "$want_rc" "$rc"
}

DEMO='{"task_type": "demo_task", "params": {"steps": 2, "delay": 0.1}}'
FAILING='{"task_type": "failing_task", "params": {"delay": 0.1, "error_message": "boom"}}'

# ---- the 2026 gateway stream: faithful, then one fault at a time ----
gateway_check gw-faithful it-1 "" "" 0 "$DEMO" "$FAILING"
# ready, version, 4 + 2 task events, at least.
n=$(events gw-faithful)
if [ "${n:-0}" -ge 8 ]; then pass "gw-faithful: $n events judged"; else fail "gw-faithful: only ${n:-0} events" "$WORK/gw-faithful.out"; fi
# The event a probe would target, and a deployment, on the same connection.
check_bg gw-targeted --contract gateway-envelope --var request_id=it-2 --max-duration 3 \
    "$BASE/api/sse/stream?request_id=it-2&hb_ms=250"
if wait_log 'select(.event == "version" and .request_id == "it-2")'; then
    post /api/testing/sse/task-event \
        '{"request_id": "it-2", "task_id": "0b5e2a3c-1d4f-4a6b-9c8d-7e6f5a4b3c2d", "event_type": "progress_update", "data": {"text": "half", "value": 0.5}}' >"$WORK/te.status"
    post /api/testing/deployments/version '{"request_id": "it-2", "version": "2.0.0", "changelog": "Faster"}' >"$WORK/dv.status"
    check "task-event answered 200" "$WORK/post.body" equals "$(cat "$WORK/te.status")" 200
    check "deployment answered 202" "$WORK/post.body" equals "$(cat "$WORK/dv.status")" 202
fi
wait_gone "$CHECK_PID"
verdict gw-targeted "" 0 $?
# Baseline-style timestamps on the 2026 stream: one schema violation per
# task event (started, 2 progress, completed).
gateway_check gw-offset-ts it-3 "&ts=offset" "schema,schema,schema,schema" 1 "$DEMO"
# No ready: the version (and the task events) that come first keep the
# stream in connecting, which gateway-envelope allows for 2 s; the judge's
# timer reports it then, once, while only comments arrive.
gateway_check gw-no-ready it-4 "&drop=ready" "order" 1
check "gw-no-ready: reported by connecting's deadline" "$WORK/gw-no-ready.out" \
    jqe -s '[.[] | select(.class == "order")] | length == 1 and
        (.[0].message | startswith("still in state \"connecting\" 2000 ms after entering it"))' \
    "$WORK/gw-no-ready.out"
# Refused: no request_id, or one with ':'; the stream then ends.
timeout 30 "$SSEMON" check --contract gateway-envelope --max-duration 4 "$BASE/api/sse/stream" \
    >"$WORK/gw-rejected.out" 2>"$WORK/gw-rejected.err" </dev/null
verdict gw-rejected stream_ended 1 $?
timeout 30 "$SSEMON" check --contract gateway-envelope --max-duration 4 \
    "$BASE/api/sse/stream?request_id=a:b" >"$WORK/gw-rejected-colon.out" \
    2>"$WORK/gw-rejected-colon.err" </dev/null
verdict gw-rejected-colon stream_ended 1 $?

# ---- the legacy task streams of a started task ----
# legacy_check NAME CONTRACT URL_OF_ID TASK_JSON: starts the task, then
# checks its stream (which ends after the final event).
legacy_check() {
    local name=$1 contract=$2 url=$3 body=$4 id
    id=$(start_task "$body")
    if [ -z "$id" ]; then
        fail "$name: cannot start the task" "$WORK/post.body"
        return
    fi
    timeout 30 "$SSEMON" check --contract "$contract" --var "task_id=$id" "$BASE${url//ID/$id}" \
        >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
    verdict "$name" "" 0 $?
}
SLOW='{"task_type": "demo_task", "params": {"steps": 2, "delay": 0.3}}'
legacy_check legacy-demo task-stream /api/tasks/ID/stream "$SLOW"
legacy_check legacy-failing task-stream /api/tasks/ID/stream "$FAILING"
legacy_check gwtask-demo task-stream-gateway '/api/sse/tasks?task_id=ID' "$SLOW"
legacy_check gwtask-failing task-stream-gateway '/api/sse/tasks?task_id=ID' "$FAILING"
# A finished task replays from task_started and ends.
# (delay 0: it ends one loop turn after the answer; finished or not, the
# stream is the same.)
ID=$(start_task '{"params": {"steps": 1, "delay": 0}}')
timeout 30 "$SSEMON" check --contract task-stream --var "task_id=$ID" \
    "$BASE/api/tasks/$ID/stream" >"$WORK/legacy-done.out" 2>"$WORK/legacy-done.err" </dev/null
verdict legacy-done "" 0 $?
# Unknown ids: today's task-not-found paths, valid for their contracts.
timeout 30 "$SSEMON" check --contract task-stream "$BASE/api/tasks/nope/stream" \
    >"$WORK/legacy-unknown.out" 2>"$WORK/legacy-unknown.err" </dev/null
verdict legacy-unknown "" 0 $?
timeout 30 "$SSEMON" check --contract task-stream-gateway --var task_id=nope \
    "$BASE/api/sse/tasks?task_id=nope" >"$WORK/gwtask-unknown.out" \
    2>"$WORK/gwtask-unknown.err" </dev/null
verdict gwtask-unknown "" 0 $?
# The eras differ: the gateway-era contract on the baseline task stream.
ID=$(start_task "$DEMO")
timeout 30 "$SSEMON" check --contract task-stream-gateway --var "task_id=$ID" \
    "$BASE/api/tasks/$ID/stream" >"$WORK/era-legacy.out" 2>"$WORK/era-legacy.err" </dev/null
rc=$?
if [ "$rc" = 1 ] && jq -e -s 'any(.[]; .class == "schema" and (.message | test("timestamp")))' \
    "$WORK/era-legacy.out" >/dev/null; then
    pass "era-legacy: +00:00 is a schema violation for task-stream-gateway"
else
    fail "era-legacy: exit $rc" "$WORK/era-legacy.out"
fi

# ---- the stack's answers ----
check "start: unknown task_type is 400" "$WORK/post.body" equals \
    "$(post /api/testing/tasks/start '{"task_type": "nope"}')" 400
check "start: 400 body is a validation list" "$WORK/post.body" \
    jqe '.[0].loc == ["task_type"]' "$WORK/post.body"
code=$(post /api/testing/tasks/start "$DEMO")
check "start: 200 {task_id, status}" "$WORK/post.body" jqe --arg c "$code" \
    '$c == "200" and .status == "started" and (.task_id | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))' \
    "$WORK/post.body"
check "task-event: unknown request_id is 400 not_found" "$WORK/post.body" equals \
    "$(post /api/testing/sse/task-event '{"request_id": "nobody", "task_id": "t", "event_type": "task_started"}')" 400
check "task-event: not_found body" "$WORK/post.body" jqe '.status == "not_found"' "$WORK/post.body"
check "fail=500 answers 500" "$WORK/post.body" equals \
    "$(post '/api/testing/tasks/start?fail=500' "$DEMO")" 500
check "fail=503 on deployments" "$WORK/post.body" equals \
    "$(post '/api/testing/deployments/version?fail=503' '{}')" 503
code=$(curl -s -m 1 -o /dev/null -w '%{http_code}' -X POST -d "$DEMO" \
    "$BASE/api/testing/tasks/start?hang=1")
check "hang: no answer (client timeout)" "$WORK/server.err" equals "$code" 000
start=$(date +%s%N)
code=$(post '/api/testing/tasks/start?delay_ms=400' "$DEMO")
ms=$((($(date +%s%N) - start) / 1000000))
check "delay_ms=400 on the trigger: answered after ${ms} ms" "$WORK/post.body" \
    test "$code" = 200 -a "$ms" -ge 400

# Replacement: a second connection with the same request_id ends the first.
curl -sN -m 20 "$BASE/api/sse/stream?request_id=dup" >"$WORK/dup1.out" 2>/dev/null &
DUP1=$!
BG_PIDS+=("$DUP1")
wait_log 'select(.event == "version" and .request_id == "dup")'
curl -sN -m 20 "$BASE/api/sse/stream?request_id=dup" >"$WORK/dup2.out" 2>/dev/null &
DUP2=$!
BG_PIDS+=("$DUP2")
wait_gone "$DUP1"
check "replacement: the older stream ended cleanly" "$WORK/dup1.out" equals $? 0
check "replacement: the newer one is open" "$WORK/dup2.out" kill -0 "$DUP2"

# Delay and drop on the stream, measured in the event log: the task's
# events reach the delayed connection >= 300 ms after the prompt one.
curl -sN -m 20 "$BASE/api/sse/stream?request_id=prompt" >/dev/null 2>&1 &
BG_PIDS+=($!)
curl -sN -m 20 "$BASE/api/sse/stream?request_id=late&delay_ms=300&drop=task_completed" \
    >"$WORK/late.out" 2>&1 &
BG_PIDS+=($!)
wait_log 'select(.event == "version" and .request_id == "prompt")'
wait_log 'select(.event == "version" and .request_id == "late")'
ID=$(start_task '{"params": {"steps": 1, "delay": 0}}')
wait_log "select(.request_id == \"late\" and .event_type == \"progress_update\" and .task_id == \"$ID\")"
wait_log "select(.request_id == \"prompt\" and .event_type == \"task_completed\" and .task_id == \"$ID\")"
check "delay_ms=300: every event >= 300 ms later" "$LOG" jqe -s --arg id "$ID" '
    [.[] | select(.task_id == $id)] as $e
    | [$e[] | select(.request_id == "prompt")] as $p
    | [$e[] | select(.request_id == "late")] as $l
    | ($l | length) == 2 and ([$p[] | .event_type] == ["task_started", "progress_update", "task_completed"])
      and ([range(0; 2) | $l[.].t_us - $p[.].t_us] | all(. >= 300000))' "$LOG"
check "event log lines are complete" "$LOG" jqe -s '
    [.[] | select(has("t_us"))] | length > 0 and
    all(.[]; (.t_us | type == "number") and (.stream | type == "string") and has("request_id")
        and has("event") and has("event_type") and has("task_id"))' "$LOG"

# Reorder: task_completed goes out before task_started.
curl -sN -m 20 "$BASE/api/sse/stream?request_id=re&reorder" >"$WORK/re.out" 2>&1 &
BG_PIDS+=($!)
wait_log 'select(.event == "version" and .request_id == "re")'
ID=$(start_task '{"params": {"steps": 1, "delay": 0}}')
wait_log "select(.request_id == \"re\" and .event_type == \"task_started\" and .task_id == \"$ID\")"
check "reorder: completed before started" "$LOG" jqe -s --arg id "$ID" '
    [.[] | select(.task_id == $id and .request_id == "re") | .event_type]
    == ["progress_update", "task_completed", "task_started"]' "$LOG"

if kill -0 "$SERVER_PID" 2>/dev/null; then
    pass "test server alive at the end"
else
    fail "the test server died during the run" "$WORK/server.err"
fi
echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
