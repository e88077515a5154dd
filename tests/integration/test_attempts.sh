#!/bin/bash
# Per-attempt targets of a monitor (monitor_attempts) against the test
# server: the program checks what it observed; here the server's request
# log shows that each attempt asked for its own URL with its own header.
# usage: test_attempts.sh MONITOR_ATTEMPTS SSE_TESTSERVER SCENARIO_DIR CONTRACT_DIR
set -u

if [ $# -ne 4 ]; then
    echo "usage: $0 MONITOR_ATTEMPTS SSE_TESTSERVER SCENARIO_DIR CONTRACT_DIR" >&2
    exit 2
fi
PROG=$1
SERVER=$2
SCN=$3
CONTRACTS=$4
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

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
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
FAILS=0
PASSES=0

itest_start_server "$WORK/port" "$WORK/server.err" --log "$WORK/requests.jsonl"
SERVER_PID=$ITEST_PID

timeout 60 "$PROG" --base "$ITEST_BASE" --contracts "$CONTRACTS" --timeout 30 >"$WORK/out.jsonl"
rc=$?
cat "$WORK/out.jsonl"
check "the monitor observed each attempt's stream with its own variable" "$WORK/out.jsonl" \
    equals "$rc" 0

# The attempts that reached the server, in order: attempt 1, attempt 3 (2
# could not be prepared), attempt 4 (the configured target), and maybe the
# first after the run (configured too).
jq -r 'select(.path == "/s/attempt-echo") | "\(.query) \(.headers["X-Attempt"] // "-")"' \
    "$WORK/requests.jsonl" >"$WORK/attempts.txt"
printf '%s\n' "request_id=att-1 1" "request_id=att-3 3" "request_id=cfg cfg" >"$WORK/want.txt"
check "each attempt requested its own URL with its own header" "$WORK/attempts.txt" \
    equals "$(head -3 "$WORK/attempts.txt")" "$(cat "$WORK/want.txt")"
# Attempt 2's stream would have said X-Attempt: 2; its request was never
# made (the target it named is not this server, so absence here is only
# half the proof: the program saw connect_failed for it, no stream).
check "no request for the attempt that could not be prepared" "$WORK/requests.jsonl" \
    equals "$(jq -s '[.[] | select(.headers["X-Attempt"] == "2")] | length' \
        "$WORK/requests.jsonl")" 0

echo "# $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
