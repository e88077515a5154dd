#!/usr/bin/env bash
# Smoke test of the scripted SSE test server: runs the real binary on a free
# loopback port and checks what curl sees, byte for byte, plus the request
# log and a clean stop on SIGTERM. Every wait is bounded.
#
# usage: smoke.sh PATH/TO/sse_testserver PATH/TO/tests/scenarios
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 SSE_TESTSERVER SCENARIO_DIR" >&2
    exit 2
fi
SERVER=$1
SCENARIOS=$2
command -v curl >/dev/null || { echo "smoke.sh needs the curl command-line tool" >&2; exit 2; }

TMP=$(mktemp -d)
SERVER_PID=
BG_PIDS=()
cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID"
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

FAILURES=0
fail() {
    echo "FAIL: $*" >&2
    FAILURES=$((FAILURES + 1))
}
ok() {
    echo "ok: $*"
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
    local limit=$(($1 * 10)) i
    shift
    for ((i = 0; i < limit; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

gone() {
    ! kill -0 "$1" 2>/dev/null
}

# expect_same WHAT EXPECTED_FILE GOT_FILE
expect_same() {
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        fail "$1: bytes differ"
        echo "--- expected" >&2
        od -c "$2" | head -40 >&2
        echo "--- got" >&2
        od -c "$3" | head -40 >&2
    fi
}

# expect_bytes WHAT FILE TEXT: FILE must hold TEXT with its backslash
# escapes (\r, \n...) expanded.
expect_bytes() {
    printf '%b' "$3" >"$TMP/expected"
    expect_same "$1" "$TMP/expected" "$2"
}

expect_eq() {
    if [ "$2" == "$3" ]; then
        ok "$1"
    else
        fail "$1: expected '$3', got '$2'"
    fi
}

CURL=(curl -sS --max-time 10 -H 'User-Agent: smoke')

# A copy of the scenarios, so the test can add files while the server runs.
mkdir "$TMP/scn"
cp "$SCENARIOS"/*.scn "$TMP/scn/"

# --- refuses to listen beyond loopback -------------------------------------
timeout 10 "$SERVER" --listen 0.0.0.0:0 >"$TMP/nl.out" 2>"$TMP/nl.err"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "not a loopback address" "$TMP/nl.err"; then
    ok "non-loopback --listen refused"
else
    fail "non-loopback --listen: rc=$rc, stderr: $(cat "$TMP/nl.err")"
fi

# --- start ------------------------------------------------------------------
"$SERVER" --listen 127.0.0.1:0 --port-file "$TMP/port" --dir "$TMP/scn" \
    --log "$TMP/requests.log" --route '/api/tasks/*/stream=task-stream' \
    >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
if ! wait_until 10 test -s "$TMP/port"; then
    fail "no port file after 10 s"
    cat "$TMP/server.err" >&2
    exit 1
fi
PORT=$(cat "$TMP/port")
BASE="http://127.0.0.1:$PORT"
printf '%s\n' "$PORT" >"$TMP/port.expected"
if [[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -gt 0 ] && cmp -s "$TMP/port" "$TMP/port.expected"; then
    ok "port file holds the port ($PORT)"
else
    fail "port file content: $(od -c "$TMP/port")"
fi
wait_until 10 grep -q . "$TMP/server.out"
expect_eq "listening line" "$(head -n 1 "$TMP/server.out")" "listening on 127.0.0.1:$PORT"

# --- exact bytes --------------------------------------------------------------
"${CURL[@]}" -i -o "$TMP/basic" "$BASE/s/basic"
expect_bytes "basic: head and events" "$TMP/basic" \
    'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\nid: 1\nevent: greeting\ndata: {"n": 1}\n\nid: 2\nevent: greeting\ndata: {"n": 2}\n\nid: 3\nevent: greeting\ndata: {"n": 3}\n\n'

"${CURL[@]}" -i -o "$TMP/tnf" "$BASE/s/task-not-found"
expect_bytes "task-not-found" "$TMP/tnf" \
    'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: Cache-Control\r\nConnection: close\r\n\r\nevent: connection_open\ndata: {"status": "connected"}\n\nevent: error\ndata: {"error": "Task not found"}\n\nevent: connection_close\ndata: {"reason": "task_not_found"}\n\n'

# --route maps the backend path to the task stream; timestamps are masked.
"${CURL[@]}" -o "$TMP/task" "$BASE/api/tasks/t-42/stream?steps=2&delay_ms=20"
sed -E 's/"timestamp": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?\+00:00"/"timestamp": "TS"/' \
    "$TMP/task" >"$TMP/task.masked"
expect_bytes "task stream through --route (timestamps masked)" "$TMP/task.masked" \
    'event: connection_open\ndata: {"status": "connected"}\n\nevent: task_event\ndata: {"event_type": "task_started", "task_id": "t-42", "timestamp": "TS", "data": null}\n\nevent: task_event\ndata: {"event_type": "progress_update", "task_id": "t-42", "timestamp": "TS", "data": {"text": "Starting test task", "value": 0.0}}\n\nevent: task_event\ndata: {"event_type": "progress_update", "task_id": "t-42", "timestamp": "TS", "data": {"text": "Step 1/2", "value": 0.5}}\n\nevent: task_event\ndata: {"event_type": "progress_update", "task_id": "t-42", "timestamp": "TS", "data": {"text": "Step 2/2", "value": 1.0}}\n\nevent: task_event\ndata: {"event_type": "task_completed", "task_id": "t-42", "timestamp": "TS", "data": {"message": "default message", "steps_completed": 2, "status": "success"}}\n\nevent: connection_close\ndata: {"reason": "task_completed"}\n\n'

# Chunked framing as sent (--raw keeps the chunk sizes); the stream never
# ends, so only its beginning is compared.
"${CURL[@]}" --raw -i --max-time 2 -o "$TMP/gw" "$BASE/s/gateway-version-stream?hb_ms=100&request_id=r1" \
    2>/dev/null
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: keep-alive\r\nX-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n\r\n4e\r\nevent: connection_open\ndata: {"status": "connected", "correlation_id": "r1"}\n\n\r\n76\r\nevent: version\ndata: {"version": "1.4.2", "environment": "staging", "git_commit": "3f9c2ab", "correlation_id": "r1"}\n\n\r\nd\r\n: heartbeat\n\n\r\n' >"$TMP/gw.expected"
head -c "$(wc -c <"$TMP/gw.expected")" "$TMP/gw" >"$TMP/gw.head"
expect_same "gateway stream: chunked head, events, first heartbeat" "$TMP/gw.expected" "$TMP/gw.head"

# --- request log and per-connection state -------------------------------------
"${CURL[@]}" -o "$TMP/rc1" -H 'Last-Event-ID: 7' -H 'X-Custom: a"b\c' -H 'Accept: text/event-stream' \
    "$BASE/s/reconnect?x=1&y=%20"
"${CURL[@]}" -o "$TMP/rc2" -H 'Last-Event-ID: 1' "$BASE/s/reconnect/extra/segments"
expect_bytes "reconnect, first connection" "$TMP/rc1" 'id: 1\ndata: last=7\n\n'
expect_bytes "reconnect, second connection sends retry" "$TMP/rc2" 'retry: 300\n\nid: 2\ndata: last=1\n\n'
line1=$(grep -F '"scenario": "reconnect"' "$TMP/requests.log" | sed -n 1p)
line2=$(grep -F '"scenario": "reconnect"' "$TMP/requests.log" | sed -n 2p)
for frag in '{"conn": 1, "scenario": "reconnect", "method": "GET", "path": "/s/reconnect", "query": "x=1&y=%20", "headers": {' \
    '"Last-Event-ID": "7"' '"X-Custom": "a\"b\\c"' '"Accept": "text/event-stream"' '"User-Agent": "smoke"' \
    "\"Host\": \"127.0.0.1:$PORT\""; do
    if [[ "$line1" == *"$frag"* ]]; then ok "request log has $frag"; else fail "request log misses $frag: $line1"; fi
done
if [[ "$line2" == '{"conn": 2, "scenario": "reconnect", "method": "GET", "path": "/s/reconnect/extra/segments", "query": "", "headers": {'*'"Last-Event-ID": "1"'*'}}' ]]; then
    ok "request log, second connection"
else
    fail "request log, second connection: $line2"
fi

# --- status codes ---------------------------------------------------------------
code() { "${CURL[@]}" -o "$TMP/body" -w '%{http_code}' "$@"; }
expect_eq "not-found scenario" "$(code "$BASE/s/not-found")" 404
expect_bytes "not-found body" "$TMP/body" 'not found\n'
expect_eq "no-content" "$(code "$BASE/s/no-content")" 204
expect_eq "wrong-type" "$("${CURL[@]}" -o /dev/null -w '%{http_code} %{content_type}' "$BASE/s/wrong-type")" \
    "200 text/html; charset=utf-8"
expect_eq "unknown path" "$(code "$BASE/unknown/path")" 404
expect_eq "missing scenario file" "$(code "$BASE/s/no-such-scenario")" 404
expect_eq "invalid scenario name" "$(code "$BASE/s/bad%20name")" 404
if grep -qF '{"conn": 0, "scenario": null, "method": "GET", "path": "/unknown/path", "query": ""' "$TMP/requests.log"; then
    ok "unknown path logged with scenario null"
else
    fail "unknown path not in the request log"
fi
big=$(head -c 17000 /dev/zero | tr '\0' a)
expect_eq "request head over 16 KiB" "$(code -H "X-Big: $big" "$BASE/s/basic")" 431

# Scenarios are read at each request, and a broken one says where it broke.
printf 'send got {query:v|none}\n' >"$TMP/scn/fly.scn"
"${CURL[@]}" -o "$TMP/fly" "$BASE/s/fly?v=1"
expect_bytes "scenario written on the fly" "$TMP/fly" 'got 1'
printf 'header X: y\nbogus statement\n' >"$TMP/scn/fly.scn"
expect_eq "broken scenario gives 500" "$(code "$BASE/s/fly")" 500
expect_bytes "500 body names file, line and error" "$TMP/body" \
    "$TMP/scn/fly.scn:2: unknown statement 'bogus'\n"
if grep -qF "$TMP/scn/fly.scn:2: unknown statement 'bogus'" "$TMP/server.err"; then
    ok "parse error printed on stderr"
else
    fail "parse error not on stderr"
fi
printf 'repeat {query:n}\n  send x\nend\n' >"$TMP/scn/fly.scn"
expect_eq "run-time error before any output gives 500" "$(code "$BASE/s/fly?n=many")" 500
expect_bytes "500 body names the failing line" "$TMP/body" \
    "$TMP/scn/fly.scn:1: repeat: 'many' is not a whole number from 0 to 4294967295\n"

# --- redirects ------------------------------------------------------------------
"${CURL[@]}" -L -o "$TMP/redir" -w '%{http_code} %{num_redirects}' "$BASE/s/redirect" >"$TMP/redir.w"
expect_eq "redirect followed" "$(cat "$TMP/redir.w")" "200 1"
expect_bytes "redirect lands on basic" "$TMP/redir" \
    'id: 1\nevent: greeting\ndata: {"n": 1}\n\nid: 2\nevent: greeting\ndata: {"n": 2}\n\nid: 3\nevent: greeting\ndata: {"n": 3}\n\n'
"${CURL[@]}" -L --max-redirs 3 -o /dev/null "$BASE/s/redirect-loop" 2>/dev/null
expect_eq "redirect loop stops curl (exit 47)" "$?" 47

# --- reset and hang -------------------------------------------------------------
"${CURL[@]}" -o "$TMP/reset" "$BASE/s/reset" 2>"$TMP/reset.err"
expect_eq "reset: curl sees a connection reset (exit 56)" "$?" 56
expect_bytes "reset: the event before the RST arrived" "$TMP/reset" 'event: hello\ndata: {"n": 1}\n\n'

curl -sS --max-time 1 -o "$TMP/hang" "$BASE/s/hang-headers" 2>/dev/null
expect_eq "hang-headers: curl times out (exit 28)" "$?" 28
if [ -s "$TMP/hang" ]; then
    fail "hang-headers: received $(wc -c <"$TMP/hang") bytes"
else
    ok "hang-headers: nothing received"
fi

# --- SIGTERM with a stream open -------------------------------------------------
curl -sS -N --max-time 30 -o "$TMP/silent" "$BASE/s/silent" 2>"$TMP/silent.err" &
CURL_PID=$!
BG_PIDS+=("$CURL_PID")
if wait_until 10 grep -qs 'data: {"n": 1}' "$TMP/silent"; then
    ok "silent: first event arrived"
else
    fail "silent: no event within 10 s"
fi
kill -TERM "$SERVER_PID"
if wait_until 10 gone "$SERVER_PID"; then
    wait "$SERVER_PID"
    expect_eq "server exit status after SIGTERM" "$?" 0
else
    fail "server still running 10 s after SIGTERM"
fi
SERVER_PID=
if wait_until 10 gone "$CURL_PID"; then
    wait "$CURL_PID"
    expect_eq "open stream closed by the stopping server (curl exit 0)" "$?" 0
else
    fail "curl still connected 10 s after the server stopped"
fi
if grep -q 'Sanitizer\|runtime error\|LeakSanitizer' "$TMP/server.err"; then
    fail "sanitizer report on the server's stderr:"
    cat "$TMP/server.err" >&2
else
    ok "no sanitizer report"
fi

if [ "$FAILURES" -ne 0 ]; then
    echo "$FAILURES check(s) failed" >&2
    exit 1
fi
echo "all checks passed"
