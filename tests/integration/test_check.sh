#!/bin/bash
# Integration tests of `ssemon check`: the real binary against the scripted
# test server on 127.0.0.1 (faithful upstream streams, then one fault at a
# time), files of raw stream bytes, and the shipped recordings replayed in
# virtual time. Each case compares the sorted list of violation classes and
# the exit status; the exact messages are the validator's own tests' job.
#
# usage: test_check.sh SSEMON SSE_TESTSERVER SOURCE_DIR
# Every check runs under `timeout` (and endless streams with --max-duration);
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
FIX=$SRC/tests/fixtures
command -v jq >/dev/null || { echo "jq is required" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 2; }
for tool in python3 ss; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }
done

WORK=$(mktemp -d)
SERVER_PID=
BG_PID=
cleanup() {
    if [ -n "$BG_PID" ]; then
        kill -KILL "$BG_PID" 2>/dev/null
        wait "$BG_PID" 2>/dev/null
    fi
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

# A test server playing the task stream too; its requests logged next to
# PORTFILE.
start_server() {
    itest_start_server "$1" "$WORK/server.err" --log "$1.log" \
        --route '/api/tasks/*/stream=task-stream'
}
start_server "$WORK/port"
SERVER_PID=$ITEST_PID
BASE=$ITEST_BASE
TASK_ID=5f0c8f52-3b6e-4c1e-9d7a-2a4b6c8d0e1f

FAILS=0
PASSES=0
pass() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
fail() {
    FAILS=$((FAILS + 1))
    echo "not ok - $1" >&2
    local f
    for f in "${@:2}"; do
        [ -f "$f" ] && sed 's/^/    | /' "$f" >&2
    done
}

# run NAME ARGS...: ssemon check ARGS; stdout in NAME.out, stderr in NAME.err,
# exit status in NAME.rc.
run() {
    local name=$1
    shift
    timeout 30 "$SSEMON" check "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
    echo $? >"$WORK/$name.rc"
}

# The sorted violation classes of an output, comma-separated ("" for none).
classes() { jq -r 'select(has("class")) | .class' "$WORK/$1.out" | sort | paste -sd, -; }

# The output is well formed: every line JSON, violations with all seven
# members, then exactly one summary line whose counts and result agree.
well_formed() {
    jq -e -s '
        (.[:-1] | all(has("class") and has("severity") and has("message") and has("event")
                      and has("state") and has("excerpt") and (.t | type == "number")))
        and (.[-1] | has("events") and has("violations") and has("result"))
        and (.[-1].violations == (.[:-1] | length))
        and (.[-1].result == (if (.[:-1] | any(.severity == "error")) then "fail" else "pass" end))
    ' "$WORK/$1.out" >/dev/null 2>&1
}

# expect NAME CLASSES RC ARGS...: runs the check, then compares.
expect() {
    local name=$1 want=$2 want_rc=$3
    shift 3
    run "$name" "$@"
    local got rc
    got=$(classes "$name")
    rc=$(cat "$WORK/$name.rc")
    if [ "$got" = "$want" ] && [ "$rc" = "$want_rc" ] && well_formed "$name"; then
        pass "$name: [$got] exit $rc"
    else
        fail "$name: want [$want] exit $want_rc, got [$got] exit $rc" "$WORK/$name.out" \
            "$WORK/$name.err"
    fi
}

# ---- live: faithful streams pass ----
expect live-task-stream "" 0 --contract task-stream --var task_id=$TASK_ID \
    "$BASE/api/tasks/$TASK_ID/stream?steps=3&delay_ms=100"
expect live-task-not-found "" 0 --contract task-stream "$BASE/s/task-not-found"
expect live-task-failed "" 0 --contract task-stream --var task_id=$TASK_ID \
    "$BASE/s/check-task-failed/$TASK_ID"
# Endless streams: reaching --max-duration on a healthy stream is a pass.
# Heartbeats every 250 ms against a 2 s limit (interval 1 s x 2): a loaded
# machine may delay one by 1.75 s before the check calls it late.
expect live-version-stream "" 0 --contract version-stream --var request_id=req-7 \
    --heartbeat-interval 1 --max-duration 3 "$BASE/s/version-stream?request_id=req-7&hb_ms=250"
expect live-gateway-version "" 0 --contract version-stream-gateway --heartbeat-interval 1 \
    --max-duration 3 "$BASE/s/gateway-version-stream?hb_ms=250"
expect live-envelope "" 0 --contract gateway-envelope --max-duration 2 "$BASE/s/envelope-stream"

# ---- live: one fault at a time, exactly its class ----
expect fault-wrong-field schema 1 --contract task-stream "$BASE/s/check-wrong-field"
expect fault-no-open order 1 --contract task-stream "$BASE/s/check-no-open"
expect fault-after-close order 1 --contract task-stream "$BASE/s/check-after-close"
expect fault-late-heartbeat heartbeat_missed 1 --contract version-stream \
    --heartbeat-interval 1 --max-duration 6 "$BASE/s/check-late-heartbeat?hb_ms=1000"
# The same stream as a configured subscription: -c --subscription judges it
# with the subscription's heartbeat_interval_s, as the daemon would; without
# it the contract's own (longer) limit lets the 3 s gap pass.
cat >"$WORK/late.json" <<EOF
{"contracts_dir": "$SRC/etc/ssemon/contracts",
 "subscriptions": [
  {"name": "late", "url": "$BASE/s/check-late-heartbeat?hb_ms=1000", "contract": "version-stream",
   "heartbeat_interval_s": 1},
  {"name": "late-default", "url": "$BASE/s/check-late-heartbeat?hb_ms=1000",
   "contract": "version-stream"}]}
EOF
expect sub-late-heartbeat heartbeat_missed 1 -c "$WORK/late.json" --subscription late \
    --max-duration 6
expect sub-late-heartbeat-default "" 0 -c "$WORK/late.json" --subscription late-default \
    --max-duration 6
expect fault-bad-json data_not_json 1 --contract task-stream "$BASE/s/check-bad-json"
expect fault-wrong-type content_type 1 --contract task-stream "$BASE/s/check-wrong-type"
expect fault-status-500 http_status 1 --contract task-stream "$BASE/s/check-status-500"
expect fault-status-404 http_status 1 --contract task-stream "$BASE/s/not-found"
expect fault-early-end stream_ended 1 --contract task-stream "$BASE/s/check-early-end"
expect fault-late-first first_event_late 1 --contract task-stream "$BASE/s/check-late-first"
# The other id comes with the second heartbeat (2 x hb_ms): 0.5 s, 3 s
# before the check stops.
expect fault-changed-cid correlation_id 1 --contract version-stream --heartbeat-interval 1 \
    --max-duration 3.5 "$BASE/s/check-changed-cid?hb_ms=250"
expect fault-envelope-no-type schema 1 --contract gateway-envelope --max-duration 2 \
    "$BASE/s/check-envelope-no-type"
# A bound variable the stream disagrees with: every task event carries the
# other id, so one schema violation per event.
expect fault-task-id schema,schema,schema,schema 1 --contract task-stream \
    --var task_id=00000000-0000-4000-8000-000000000000 "$BASE/s/task-stream/$TASK_ID?steps=1&delay_ms=0"
# The baseline contract on the gateway's stream: comments are no heartbeats
# there and X-Accel-Buffering is no baseline header, but within a short
# check only the missing heartbeats show: late 1 s after the headers
# (interval 0.5 s x 2), 2 s before the check stops, however slowly the
# connection opens on a loaded machine.
expect era-baseline-on-gateway heartbeat_missed 1 --contract version-stream \
    --heartbeat-interval 0.5 --max-duration 3 "$BASE/s/gateway-version-stream?hb_ms=1000"
# The gateway contract on the baseline stream: no X-Accel-Buffering header
# (its named heartbeats, unknown to the gateway contract, come too late to
# matter here; the replays below judge them). The header is judged when the
# response opens: 3 s leave room for a slow connection.
expect era-gateway-on-baseline header 1 --contract version-stream-gateway --max-duration 3 \
    "$BASE/s/version-stream?hb_ms=60000"

# ---- live: connections that never open ----
# A port that was just listening and no longer is: refused.
start_server "$WORK/port2"
DEAD="$ITEST_BASE/s/basic"
kill -TERM "$ITEST_PID" 2>/dev/null
wait "$ITEST_PID" 2>/dev/null
expect refused connect_failed 1 --contract task-stream "$DEAD"
expect hang-headers connect_failed 1 --contract task-stream --max-duration 1 \
    "$BASE/s/hang-headers"

# ---- live: SIGTERM stops a healthy endless check like --max-duration ----
# Sent once the check has read the stream up to its first heartbeat (three
# events), whatever the machine's load: the bytes the check's socket has
# taken in, against the length of that much of the same response.
bytes_to_first_heartbeat() {
    python3 - "${BASE##*:}" "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"GET " + sys.argv[2].encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n")
buf = b""
while True:
    i = buf.find(b"event: heartbeat\n")
    if i >= 0 and buf.find(b"\n\n", i) >= 0:
        print(buf.find(b"\n\n", i) + 2)
        break
    b = s.recv(65536)
    if not b:
        sys.exit(1)
    buf += b
EOF
}
SIGTERM_PATH="/s/version-stream?hb_ms=200&probe=sigterm"
want_bytes=$(bytes_to_first_heartbeat "$SIGTERM_PATH")
"$SSEMON" check --contract version-stream --heartbeat-interval 1 \
    "$BASE$SIGTERM_PATH" >"$WORK/sigterm.out" 2>"$WORK/sigterm.err" &
BG_PID=$!
got_bytes=0
for _ in $(seq 1 200); do
    got_bytes=$(itest_tcp_read "$BG_PID" "${BASE##*:}")
    [ "$got_bytes" -ge "${want_bytes:-1}" ] && break
    kill -0 "$BG_PID" 2>/dev/null || break
    sleep 0.05
done
echo "read $got_bytes of the $want_bytes bytes up to the first heartbeat" >>"$WORK/sigterm.err"
kill -TERM "$BG_PID" 2>/dev/null
rc=timeout
for _ in $(seq 1 100); do
    if ! kill -0 "$BG_PID" 2>/dev/null; then
        wait "$BG_PID"
        rc=$?
        BG_PID=
        break
    fi
    sleep 0.05
done
if [ "$rc" = 0 ] && [ "$(classes sigterm)" = "" ] && well_formed sigterm &&
    [ "$(jq -s '.[-1].events >= 3' "$WORK/sigterm.out")" = true ]; then
    pass "sigterm: exit 0, pass, the events read before it counted"
else
    fail "sigterm: exit $rc" "$WORK/sigterm.out" "$WORK/sigterm.err"
fi

# ---- usage, source and contract errors: exit 2, a message, no output ----
# expect_error NAME STDERR_REGEX ARGS...
expect_error() {
    local name=$1 re=$2
    shift 2
    run "$name" "$@"
    if [ "$(cat "$WORK/$name.rc")" = 2 ] && [ ! -s "$WORK/$name.out" ] &&
        grep -Eq -- "$re" "$WORK/$name.err"; then
        pass "$name: exit 2"
    else
        fail "$name: want exit 2 and /$re/ on stderr, got exit $(cat "$WORK/$name.rc")" \
            "$WORK/$name.out" "$WORK/$name.err"
    fi
}
expect_error no-contract "--contract is required" "$BASE/s/basic"
expect_error no-source "exactly one SOURCE" --contract task-stream
expect_error bad-option "unknown option '--frobnicate'" --contract task-stream --frobnicate x
expect_error bad-duration "--max-duration wants positive seconds" --contract task-stream \
    --max-duration -1 "$BASE/s/basic"
expect_error bad-hb "--heartbeat-interval wants positive seconds" --contract task-stream \
    --heartbeat-interval abc "$BASE/s/basic"
expect_error bad-header "--header" --contract task-stream --header 'no colon' "$BASE/s/basic"
expect_error header-on-file "--header applies only to a URL" --contract task-stream \
    --header 'X-A: 1' "$FIX/task-stream.rec"
expect_error unknown-contract "no-such-contract: " --contract no-such-contract "$BASE/s/basic"
expect_error unknown-var "--var colour: contract task-stream declares no such variable \(it declares: task_id\)" \
    --contract task-stream --var colour=blue "$BASE/s/basic"
expect_error missing-file "nonexistent" --contract task-stream "$WORK/nonexistent.sse"
printf '{\n  "name": "broken",\n  "events": {\n    "a": {"data": "jsn"}\n  }\n}\n' \
    >"$WORK/broken.json"
expect_error broken-contract "^ssemon check: $WORK/broken.json:4:[0-9]+: /events/a/data: " \
    --contract "$WORK/broken.json" "$BASE/s/basic"
printf '{\n  "name": "broken",\n  "events": {"a": {}\n}\n' >"$WORK/broken-syntax.json"
expect_error broken-json "^ssemon check: $WORK/broken-syntax.json:[0-9]+:[0-9]+: " \
    --contract "$WORK/broken-syntax.json" "$BASE/s/basic"
# A contract from --contracts-dir, found by name. Without order rules every
# end of stream is stream_ended.
mkdir -p "$WORK/contracts"
printf '{"name": "greetings", "events": {"greeting": {"data": "json"}}}\n' \
    >"$WORK/contracts/greetings.json"
expect contracts-dir stream_ended 1 --contract greetings --contracts-dir "$WORK/contracts" \
    "$BASE/s/basic"

# ---- files of raw stream bytes: no time rules ----
curl -sN --max-time 10 "$BASE/s/check-late-first" >"$WORK/late-first.sse"
expect file-late-first-untimed "" 0 --contract task-stream "$WORK/late-first.sse"
curl -sN --max-time 10 "$BASE/s/check-after-close" >"$WORK/after-close.sse"
expect file-after-close order 1 --contract task-stream "$WORK/after-close.sse"
head -c 400 "$WORK/late-first.sse" >"$WORK/cut.sse"
timeout 30 "$SSEMON" check --contract task-stream - <"$WORK/cut.sse" >"$WORK/stdin.out" \
    2>"$WORK/stdin.err"
echo $? >"$WORK/stdin.rc"
if [ "$(classes stdin)" = stream_ended ] && [ "$(cat "$WORK/stdin.rc")" = 1 ] &&
    well_formed stdin; then
    pass "stdin: a cut stream ends early"
else
    fail "stdin: a cut stream ends early" "$WORK/stdin.out" "$WORK/stdin.err"
fi
printf 'event: connection_open\ndata: {"status": "connected"}\n\nbogus: 1\n\nevent: surprise\ndata: {}\n\n' \
    >"$WORK/syntax.sse"
expect file-strict "sse_syntax,stream_ended,unknown_event" 1 --contract task-stream \
    "$WORK/syntax.sse"
# Lenient: the two become warnings (still reported); stream_ended stays an error.
expect file-lenient "sse_syntax,stream_ended,unknown_event" 1 --contract task-stream --lenient \
    "$WORK/syntax.sse"
if [ "$(jq -r 'select(has("class")) | "\(.class)=\(.severity)"' "$WORK/file-lenient.out" |
    sort | paste -sd, -)" = "sse_syntax=warning,stream_ended=error,unknown_event=warning" ]; then
    pass "lenient severities"
else
    fail "lenient severities" "$WORK/file-lenient.out"
fi

# ---- recordings: replayed in virtual time ----
# expect_replay FIXTURE CLASSES RC ARGS...: replays twice, wants identical
# output both times (virtual time: nothing depends on the machine's speed).
expect_replay() {
    local fx=$1 want=$2 want_rc=$3
    shift 3
    expect "replay-$fx" "$want" "$want_rc" "$@" "$FIX/$fx.rec"
    run "replay-$fx-again" "$@" "$FIX/$fx.rec"
    if cmp -s "$WORK/replay-$fx.out" "$WORK/replay-$fx-again.out"; then
        pass "replay-$fx: deterministic"
    else
        fail "replay-$fx: two replays differ" "$WORK/replay-$fx.out" "$WORK/replay-$fx-again.out"
    fi
}
# Faithful baseline recordings, made with `ssemon watch --record` against
# this test server: task-stream (3 steps, 200 ms apart), task-failed
# (check-task-failed.scn), task-not-found, version-stream (request_id=rec-1,
# hb_ms=1000, 6.5 s, ended by --duration: its last record is "stopped").
expect_replay task-stream "" 0 --contract task-stream --var task_id=$TASK_ID
expect_replay task-failed "" 0 --contract task-stream --var task_id=$TASK_ID
expect_replay task-not-found "" 0 --contract task-stream
expect_replay version-stream "" 0 --contract version-stream --var request_id=rec-1 \
    --heartbeat-interval 1
# The same version stream judged at the contract's own 5 s interval: its
# 1 s heartbeats are early, never late.
expect_replay version-stream "" 0 --contract version-stream
# Copies mutated by hand, one fault each:
#   -late-first         records after "open" moved 1500 ms later
#   -no-open            the connection_open event removed
#   -after-close        a heartbeat event 100 ms after connection_close
#   -bad-json           one closing brace of a task_event removed
#   -wrong-field        "progress" instead of "value" in Step 1/3
#   -early-end          the stream ends after Step 3/3
#   -no-cache-control   the Cache-Control response header removed
#   -split-utf8         faithful, with a non-ASCII progress text and every
#                       chunk cut into pieces, some inside a UTF-8 sequence
#                       (base64 chunks)
#   task-failed-gateway-reason  connection_close {"reason": "task_failed"}
#   task-not-found-404  the connection answered 404 instead of the stream
#   version-stream-late-heartbeat     the 2nd and 3rd heartbeats removed
#   version-stream-changed-cid        rec-2 instead of rec-1 from the 3rd heartbeat
#   version-stream-wrong-request-id   rec-9 everywhere
expect_replay task-stream-late-first first_event_late 1 --contract task-stream
expect_replay task-stream-no-open order 1 --contract task-stream
expect_replay task-stream-after-close order 1 --contract task-stream
expect_replay task-stream-bad-json data_not_json 1 --contract task-stream
expect_replay task-stream-wrong-field schema 1 --contract task-stream
expect_replay task-stream-early-end stream_ended 1 --contract task-stream
expect_replay task-stream-no-cache-control header 1 --contract task-stream
expect_replay task-stream-split-utf8 "" 0 --contract task-stream --var task_id=$TASK_ID
expect_replay task-failed-gateway-reason schema 1 --contract task-stream
expect_replay task-not-found-404 http_status 1 --contract task-stream
expect_replay version-stream-late-heartbeat heartbeat_missed 1 --contract version-stream \
    --heartbeat-interval 1
expect_replay version-stream-changed-cid correlation_id 1 --contract version-stream \
    --heartbeat-interval 1
expect_replay version-stream-wrong-request-id correlation_id 1 --contract version-stream \
    --var request_id=rec-1 --heartbeat-interval 1
# Without the variable bound, one id throughout is fine.
expect_replay version-stream-wrong-request-id "" 0 --contract version-stream \
    --heartbeat-interval 1
# What changes between eras, offline: the gateway contracts on baseline
# recordings (no X-Accel-Buffering; named heartbeats are unknown there; a
# failed task must close with task_failed; task timestamps end in Z, so each
# of the three +00:00 task events is a schema violation).
UE=unknown_event
expect_replay version-stream "header,$UE,$UE,$UE,$UE,$UE,$UE" 1 --contract version-stream-gateway
expect_replay task-failed "header,order,schema,schema,schema" 1 --contract task-stream-gateway
expect_replay task-failed-gateway-reason "header,schema,schema,schema" 1 --contract task-stream-gateway
# Lenient: the unknown events become warnings, the header stays an error.
run lenient-era --contract version-stream-gateway --lenient "$FIX/version-stream.rec"
if [ "$(jq -r 'select(has("class")) | .severity' "$WORK/lenient-era.out" | sort | uniq -c |
    awk '{print $2 "=" $1}' | paste -sd, -)" = "error=1,warning=6" ] &&
    [ "$(cat "$WORK/lenient-era.rc")" = 1 ]; then
    pass "lenient replay: 6 warnings, 1 error"
else
    fail "lenient replay" "$WORK/lenient-era.out"
fi
# A replayed time-rule violation carries its virtual time: the first event
# deadline (1000 ms after the headers) is broken at its first millisecond.
want_t=$(jq -r 'select(.rec == "open") | .t' "$FIX/task-stream-late-first.rec" | head -1)
got_t=$(jq -r 'select(.class == "first_event_late") | .t * 1000 | round' \
    "$WORK/replay-task-stream-late-first.out")
if [ -n "$want_t" ] && [ "$got_t" = "$((want_t + 1001))" ]; then
    pass "replay: first_event_late at t = open + 1.001 s"
else
    fail "replay: first_event_late at t=$got_t ms, want $((want_t + 1001))" \
        "$WORK/replay-task-stream-late-first.out"
fi
# --max-duration in virtual time: the late heartbeat comes after the limit.
expect replay-limit "" 0 --contract version-stream --heartbeat-interval 1 --max-duration 1.5 \
    "$FIX/version-stream-late-heartbeat.rec"
# A damaged recording is a source error naming its line.
head -n 3 "$FIX/task-stream.rec" >"$WORK/damaged.rec"
echo '{"t":1,"rec":"chunk","base64":"***"}' >>"$WORK/damaged.rec"
expect_error damaged-recording "damaged.rec:4: \"base64\"" --contract task-stream "$WORK/damaged.rec"
head -n 4 "$FIX/task-stream.rec" >"$WORK/backwards.rec"
echo '{"t":0,"rec":"chunk","data":""}' >>"$WORK/backwards.rec"
expect_error backwards-recording "backwards.rec:5: time goes backwards" --contract task-stream \
    "$WORK/backwards.rec"
printf '{"format":"ssemon-recording","version":9,"url":"","started":""}\n' >"$WORK/v9.rec"
expect_error future-recording "v9.rec:1: unsupported recording version 9" \
    --contract task-stream "$WORK/v9.rec"

# ---- record live, replay offline ----
# record NAME URL ARGS...: ssemon watch --record, bounded.
record() {
    local name=$1 url=$2
    shift 2
    timeout 30 "$SSEMON" watch --record "$WORK/$name.rec" "$@" "$url" >"$WORK/$name.watch" \
        2>"$WORK/$name.watch.err"
}
record rec-task "$BASE/s/task-stream/$TASK_ID?steps=2&delay_ms=50" --no-reconnect
expect rec-task-replay "" 0 --contract task-stream --var task_id=$TASK_ID "$WORK/rec-task.rec"
if [ "$(head -n 1 "$WORK/rec-task.rec" | jq -r '.format, .version' | paste -sd' ' -)" = \
    "ssemon-recording 1" ] &&
    [ "$(jq -r 'select(.rec) | .rec' "$WORK/rec-task.rec" | uniq | paste -sd, -)" = \
        "connecting,open,chunk,closed" ]; then
    pass "record: header, then connecting, open, chunks, closed"
else
    fail "record: unexpected structure" "$WORK/rec-task.rec" "$WORK/rec-task.watch.err"
fi
# The recorded chunks are the stream's bytes exactly.
curl -sN --max-time 10 "$BASE/s/task-not-found" >"$WORK/tnf.sse"
record rec-tnf "$BASE/s/task-not-found" --no-reconnect
jq -j 'select(.rec == "chunk") | .data' "$WORK/rec-tnf.rec" >"$WORK/rec-tnf.bytes"
if cmp -s "$WORK/tnf.sse" "$WORK/rec-tnf.bytes"; then
    pass "record: chunk bytes exact"
else
    fail "record: chunk bytes differ" "$WORK/rec-tnf.rec"
fi
# Timing survives the recording: the late first event is caught offline.
record rec-late "$BASE/s/check-late-first" --no-reconnect
expect rec-late-replay first_event_late 1 --contract task-stream "$WORK/rec-late.rec"
# Reconnects are recorded too; each connection is a lifecycle of its own.
record rec-two "$BASE/s/task-not-found" --max-events 6
expect rec-two-replay "" 0 --contract task-stream "$WORK/rec-two.rec"
if [ "$(jq -r 'select(.rec == "open") | .rec' "$WORK/rec-two.rec" | wc -l)" -ge 2 ]; then
    pass "record: a reconnect is recorded"
else
    fail "record: expected two connections" "$WORK/rec-two.rec"
fi
# User-info in the URL never reaches the file.
record rec-secret "http://user:secret@127.0.0.1:${BASE##*:}/s/task-not-found" --no-reconnect
if ! grep -q secret "$WORK/rec-secret.rec" &&
    head -n 1 "$WORK/rec-secret.rec" | jq -e '.url | startswith("http://***@")' >/dev/null; then
    pass "record: URL redacted"
else
    fail "record: URL not redacted" "$WORK/rec-secret.rec"
fi
timeout 10 "$SSEMON" watch --record "$WORK/nonexistent-dir/x.rec" --no-reconnect \
    "$BASE/s/basic" >/dev/null 2>"$WORK/rec-bad.err"
if [ $? = 2 ] && grep -q "nonexistent-dir/x.rec" "$WORK/rec-bad.err"; then
    pass "record: an unwritable file is a usage error"
else
    fail "record: unwritable file not refused" "$WORK/rec-bad.err"
fi

# Every failure above may stem from the server dying: say so, with its stderr.
if kill -0 "$SERVER_PID" 2>/dev/null; then
    pass "test server alive at the end"
else
    fail "the test server died during the run" "$WORK/server.err"
fi

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
