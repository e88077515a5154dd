#!/bin/bash
# Integration tests of `ssemon watch` against the scripted test server.
# usage: test_watch.sh SSEMON SSE_TESTSERVER SCENARIO_DIR
# Every wait is bounded; every watch runs under `timeout` with --max-events,
# --duration or --no-reconnect. Talks to 127.0.0.1 only.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SCENARIO_DIR" >&2
    exit 2
fi
SSEMON=$1
SERVER=$2
SCN=$3
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "jq is required" >&2; exit 2; }

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# The server may otherwise be asked to go through a proxy by the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

itest_start_server "$WORK/port" "$WORK/server.err" --log "$WORK/requests.log"
SERVER_PID=$ITEST_PID
BASE=$ITEST_BASE

FAILS=0
PASSES=0

# watch NAME ARGS...: runs ssemon watch; stdout in $WORK/NAME.out, stderr in
# .err, exit status in .rc.
watch() {
    local name=$1
    shift
    timeout 20 "$SSEMON" watch "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    echo $? >"$WORK/$name.rc"
}
rc_of() { cat "$WORK/$1.rc"; }
# The output without the receive time and the measured header delay.
strip() { jq -c 'del(.t, .ms_to_headers)' "$WORK/$1.out"; }
# jq_true FILE FILTER: FILTER (over the slurped lines) yields true.
jq_true() { [ "$(jq -s "$2" "$1" 2>/dev/null)" = "true" ]; }

# ---- basic: events printed exactly ----
watch basic --max-events 3 "$BASE/s/basic"
expected='{"connection":"connecting","attempt":1}
{"connection":"open","status":200,"content_type":"text/event-stream"}
{"type":"greeting","data":"{\"n\": 1}","id":"1"}
{"type":"greeting","data":"{\"n\": 2}","id":"2"}
{"type":"greeting","data":"{\"n\": 3}","id":"3"}
{"connection":"closed","reason":"stopped","reconnect_in_ms":null}'
check "basic: exit 0 after --max-events" "$WORK/basic.err" equals "$(rc_of basic)" 0
check "basic: exact output" "$WORK/basic.out" equals "$(strip basic)" "$expected"
check "basic: every line has an RFC 3339 UTC millisecond time" "$WORK/basic.out" \
    jq_true "$WORK/basic.out" \
    'length >= 6 and all(.[]; .t | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$"))'
check "basic: ms_to_headers is a number" "$WORK/basic.out" \
    jq_true "$WORK/basic.out" '.[1].ms_to_headers | type == "number"'

# ---- request headers (server log) ----
watch headers --no-reconnect --header 'X-Test: hello there' --header 'X-Empty:' \
    "$BASE/s/engine-echo"
check "headers: --no-reconnect clean end exits 0" "$WORK/headers.err" equals "$(rc_of headers)" 0
check "headers: X-Test reached the server" "$WORK/headers.out" \
    jq_true "$WORK/headers.out" '[.[] | select(.type)][0].data == "lei= x=hello there"'
check "headers: closed eof without reconnect" "$WORK/headers.out" \
    jq_true "$WORK/headers.out" '.[-1] == (.[-1] | {t} + {"connection":"closed","reason":"eof","reconnect_in_ms":null})'
req=$(jq -c 'select(.scenario == "engine-echo" and .conn == 1) | .headers' "$WORK/requests.log")
check "headers: Accept: text/event-stream sent" "$WORK/requests.log" \
    equals "$(jq -r '.Accept' <<<"$req")" "text/event-stream"
check "headers: Cache-Control: no-cache sent" "$WORK/requests.log" \
    equals "$(jq -r '."Cache-Control"' <<<"$req")" "no-cache"
check "headers: empty header sent empty" "$WORK/requests.log" \
    equals "$(jq -c '."X-Empty"' <<<"$req")" '""'
check "headers: no Last-Event-ID on a first connection" "$WORK/requests.log" \
    equals "$(jq -r 'has("Last-Event-ID")' <<<"$req")" "false"
check "headers: request was a GET" "$WORK/requests.log" \
    equals "$(jq -r 'select(.scenario == "engine-echo" and .conn == 1) | .method' "$WORK/requests.log")" GET

# ---- --last-event-id seeds the first request ----
watch lastid --max-events 1 --last-event-id 'abc 7' "$BASE/s/engine-echo"
check "lastid: connecting line shows the id" "$WORK/lastid.out" \
    jq_true "$WORK/lastid.out" '.[0].last_event_id == "abc 7"'
check "lastid: server saw it" "$WORK/lastid.out" \
    jq_true "$WORK/lastid.out" '[.[] | select(.type)][0].data == "lei=abc 7 x=none"'
check "lastid: log has Last-Event-ID" "$WORK/requests.log" equals \
    "$(jq -r 'select(.scenario == "engine-echo" and .conn == 2) | .headers."Last-Event-ID"' "$WORK/requests.log")" "abc 7"

# ---- reconnect: Last-Event-ID sent, retry honoured ----
watch reconnect --max-events 3 "$BASE/s/reconnect"
check "reconnect: exit 0" "$WORK/reconnect.err" equals "$(rc_of reconnect)" 0
check "reconnect: events echo the previous id" "$WORK/reconnect.out" equals \
    "$(jq -c 'select(.type) | [.id, .data]' "$WORK/reconnect.out" | tr -d '\n')" \
    '["1","last="]["2","last=1"]["3","last=2"]'
check "reconnect: attempts carry the last event id" "$WORK/reconnect.out" equals \
    "$(jq -c 'select(.connection == "connecting") | [.attempt, .last_event_id]' "$WORK/reconnect.out" | tr -d '\n')" \
    '[1,null][2,"1"][3,"2"]'
check "reconnect: retry field printed" "$WORK/reconnect.out" \
    jq_true "$WORK/reconnect.out" '[.[] | select(has("retry"))] | length == 1 and .[0].retry == 300'
check "reconnect: first reconnect uses the backoff" "$WORK/reconnect.out" \
    jq_true "$WORK/reconnect.out" \
    '[.[] | select(.connection == "closed")][0] | .reason == "eof" and .reconnect_in_ms >= 500 and .reconnect_in_ms <= 1000'
# The server's retry: 300 is below watch's 500 ms floor: clamped to it.
check "reconnect: delay after retry: 300 is clamped to the 500 ms floor" "$WORK/reconnect.out" \
    jq_true "$WORK/reconnect.out" \
    '[.[] | select(.connection == "closed")][1] | .reason == "eof" and .reconnect_in_ms == 500'
check "reconnect: server log Last-Event-ID per connection" "$WORK/requests.log" equals \
    "$(jq -c 'select(.scenario == "reconnect") | [.conn, .headers."Last-Event-ID"]' "$WORK/requests.log" | tr -d '\n')" \
    '[1,null][2,"1"][3,"2"]'

# ---- non-200 and wrong content type: reported, retried with backoff ----
# Two attempts need at most 1 s of backoff between them: --duration 4 leaves
# a loaded machine 3 s for the two requests.
# backoff_check NAME: the first two closes have growing backoff ranges.
backoff_check() {
    jq_true "$WORK/$1.out" '[.[] | select(.connection == "closed")] |
        length >= 2 and
        (.[0].reconnect_in_ms >= 500 and .[0].reconnect_in_ms <= 1000) and
        (.[1].reconnect_in_ms >= 1000 and .[1].reconnect_in_ms <= 2000)'
}
watch notfound --duration 4 "$BASE/s/not-found"
check "404: reported with its status" "$WORK/notfound.out" jq_true "$WORK/notfound.out" \
    '[.[] | select(.connection == "closed" and .reason != "stopped")] | length >= 2 and all(.[]; .reason == "http_status" and .status == 404)'
check "404: no open, no events" "$WORK/notfound.out" jq_true "$WORK/notfound.out" \
    'length >= 4 and all(.[]; .connection != "open" and (has("type") | not))'
check "404: retried with backoff" "$WORK/notfound.out" backoff_check notfound
check "404: --duration exits 0" "$WORK/notfound.err" equals "$(rc_of notfound)" 0

watch nocontent --duration 4 "$BASE/s/no-content"
check "204: reported with its status" "$WORK/nocontent.out" jq_true "$WORK/nocontent.out" \
    '[.[] | select(.connection == "closed" and .reason != "stopped")] | length >= 2 and all(.[]; .reason == "http_status" and .status == 204)'
check "204: retried with backoff" "$WORK/nocontent.out" backoff_check nocontent

watch wrongtype --duration 4 "$BASE/s/wrong-type"
check "wrong type: reported with its value" "$WORK/wrongtype.out" jq_true "$WORK/wrongtype.out" \
    '[.[] | select(.connection == "closed" and .reason != "stopped")] | length >= 2 and all(.[]; .reason == "content_type" and .content_type == "text/html; charset=utf-8")'
check "wrong type: retried with backoff" "$WORK/wrongtype.out" backoff_check wrongtype

watch notfound1 --no-reconnect "$BASE/s/not-found"
check "404 --no-reconnect: exit 1" "$WORK/notfound1.out" equals "$(rc_of notfound1)" 1
check "404 --no-reconnect: no reconnect planned" "$WORK/notfound1.out" \
    jq_true "$WORK/notfound1.out" '.[-1].reconnect_in_ms == null and .[-1].status == 404'

# ---- redirects ----
watch redirect --max-events 3 "$BASE/s/redirect"
check "redirect: followed to the stream" "$WORK/redirect.out" equals \
    "$(jq -c 'select(.type) | .id' "$WORK/redirect.out" | tr -d '\n')" '"1""2""3"'
check "redirect: both hops in the server log" "$WORK/requests.log" jq_true "$WORK/requests.log" \
    '(map(select(.scenario == "redirect")) | length == 1) and (map(select(.scenario == "basic")) | length == 2)'
check "redirect: request headers kept on the redirected request" "$WORK/requests.log" jq_true "$WORK/requests.log" \
    'map(select(.scenario == "basic"))[-1].headers.Accept == "text/event-stream"'

watch loop --no-reconnect --max-redirects 3 "$BASE/s/redirect-loop"
check "redirect loop: exit 1" "$WORK/loop.out" equals "$(rc_of loop)" 1
check "redirect loop: clear error" "$WORK/loop.out" jq_true "$WORK/loop.out" \
    '.[-1] | .reason == "http_status" and .status == 302 and (.error | test("redirect"; "i"))'
check "redirect loop: stopped after the limit" "$WORK/requests.log" jq_true "$WORK/requests.log" \
    'map(select(.scenario == "redirect-loop")) | length == 4'

watch noredir --no-reconnect --max-redirects 0 "$BASE/s/redirect"
check "--max-redirects 0: the 302 is the answer" "$WORK/noredir.out" jq_true "$WORK/noredir.out" \
    '.[-1] | .reason == "http_status" and .status == 302'

# ---- idle timeout (silent.scn): dropped and reconnected ----
watch idle --max-events 2 --idle-timeout 0.4 "$BASE/s/silent"
check "idle: exit 0 after two events" "$WORK/idle.err" equals "$(rc_of idle)" 0
check "idle: closed by the idle timeout, then reconnected" "$WORK/idle.out" equals \
    "$(strip idle | jq -c 'select(.connection) | [.connection, .reason, .attempt]' | tr -d '\n')" \
    '["connecting",null,1]["open",null,null]["closed","idle_timeout",null]["connecting",null,2]["open",null,null]["closed","stopped",null]'

# ---- hang before headers: a timeout error ----
watch hang --no-reconnect --connect-timeout 0.5 "$BASE/s/hang-headers"
check "hang-headers: exit 1" "$WORK/hang.out" equals "$(rc_of hang)" 1
check "hang-headers: transport timeout error" "$WORK/hang.out" jq_true "$WORK/hang.out" \
    '.[-1] | .reason == "transport" and (.error | test("within|timed out"; "i"))'

# ---- reset mid-stream: a transport error ----
watch reset --no-reconnect "$BASE/s/reset"
check "reset: exit 1" "$WORK/reset.out" equals "$(rc_of reset)" 1
check "reset: event then transport error" "$WORK/reset.out" jq_true "$WORK/reset.out" \
    '([.[] | select(.type)] | length == 1) and (.[-1] | .reason == "transport" and (.error | length > 0))'

# ---- chunked body with writes splitting lines and fields ----
watch chunked --no-reconnect "$BASE/s/engine-chunked"
check "chunked: exit 0 on a clean end" "$WORK/chunked.err" equals "$(rc_of chunked)" 0
check "chunked: events reassembled exactly" "$WORK/chunked.out" equals \
    "$(jq -c 'select(.type) | del(.t)' "$WORK/chunked.out" | tr -d '\n')" \
    '{"type":"split","data":"{\"a\": 1}","id":"7"}{"type":"message","data":"second","id":"7"}'

# ---- comments and anomalies ----
watch comments --no-reconnect --comments "$BASE/s/engine-comments"
check "comments: comment, anomaly and event printed" "$WORK/comments.out" equals \
    "$(jq -c 'select(.comment or .anomaly or .type) | del(.t)' "$WORK/comments.out" | tr -d '\n')" \
    '{"comment":" hello"}{"anomaly":"unknown_field","line":"foo: bar"}{"type":"message","data":"after","id":""}'
watch nocomments --no-reconnect "$BASE/s/engine-comments"
check "comments: hidden without --comments" "$WORK/nocomments.out" jq_true "$WORK/nocomments.out" \
    'all(.[]; has("comment") | not) and any(.[]; .anomaly == "unknown_field")'

# ---- SIGTERM and SIGINT: prompt clean exit ----
for sig in TERM INT; do
    name=sig$sig
    "$SSEMON" watch --duration 30 "$BASE/s/silent" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    pid=$!
    for _ in $(seq 1 100); do
        grep -q '"type"' "$WORK/$name.out" 2>/dev/null && break
        sleep 0.05
    done
    kill -"$sig" "$pid"
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        echo "did not exit within 5 s of SIG$sig" >>"$WORK/$name.err"
    fi
    wait "$pid"
    echo $? >"$WORK/$name.rc"
    check "SIG$sig: exit 0" "$WORK/$name.err" equals "$(rc_of $name)" 0
    check "SIG$sig: connection closed as stopped" "$WORK/$name.out" jq_true "$WORK/$name.out" \
        '.[-1] | .connection == "closed" and .reason == "stopped"'
done

# ---- usage errors exit 2 with a message ----
usage_case() {
    local name=$1
    shift
    timeout 10 "$SSEMON" watch "$@" >"$WORK/u.out" 2>"$WORK/u.err"
    local rc=$?
    if [ $rc -eq 2 ] && [ -s "$WORK/u.err" ] && [ ! -s "$WORK/u.out" ]; then
        pass "usage: $name"
    else
        fail "usage: $name (rc $rc)" "$WORK/u.err"
    fi
}
usage_case "no URL"
usage_case "two URLs" "$BASE/s/basic" "$BASE/s/basic"
usage_case "unknown option" --bogus "$BASE/s/basic"
usage_case "missing argument" "$BASE/s/basic" --max-events
usage_case "header without colon" --header 'NoColon' "$BASE/s/basic"
usage_case "header with a bad name" --header 'Bad Name: v' "$BASE/s/basic"
usage_case "header with CRLF" --header $'X-A: v\r\nX-B: w' "$BASE/s/basic"
usage_case "Last-Event-ID as a header" --header 'Last-Event-ID: 3' "$BASE/s/basic"
usage_case "max-events 0" --max-events 0 "$BASE/s/basic"
usage_case "max-events not a number" --max-events x "$BASE/s/basic"
usage_case "negative duration" --duration -1 "$BASE/s/basic"
usage_case "duration not a number" --duration soon "$BASE/s/basic"
usage_case "connect-timeout 0" --connect-timeout 0 "$BASE/s/basic"
usage_case "max-redirects too large" --max-redirects 1000 "$BASE/s/basic"
usage_case "unreadable cacert" --cacert "$WORK/missing.pem" "$BASE/s/basic"
usage_case "not an http URL" ftp://127.0.0.1/x
usage_case "not a URL" 'not a url'
usage_case "last-event-id with newline" --last-event-id $'a\nb' "$BASE/s/basic"

# Two SIGTERMs in quick succession, as `timeout` sends them: the second one
# must not turn the orderly stop into death by signal (exit 143).
python3 "$(dirname "$0")/double_signal.py" "$SSEMON" "$BASE/s/heartbeat?ms=200" 60 \
    >"$WORK/double.out" 2>&1
check "two SIGTERMs a moment apart: every run exits 0" "$WORK/double.out" \
    equals "$(tail -n 1 "$WORK/double.out")" 0

timeout 10 "$SSEMON" watch --help >"$WORK/help.out" 2>&1
check "--help exits 0 with usage" "$WORK/help.out" grep -q '^usage: ssemon watch' "$WORK/help.out"

# Under -DSSEMON_SANITIZE=ON a report may come with an expected exit status.
if grep -l 'Sanitizer' "$WORK"/*.err >/dev/null 2>&1; then
    fail "no sanitizer reports" "$(grep -l 'Sanitizer' "$WORK"/*.err | head -n 1)"
else
    pass "no sanitizer reports"
fi

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
