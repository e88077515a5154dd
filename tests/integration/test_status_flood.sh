#!/bin/bash
# Integration test: nobody can hold the daemon's status port. The real
# daemon (`ssemon run`) watches a healthy stream of the scripted test
# server while its status port is flooded over loopback: 1,000 connections
# held open (half of them silent, half after one byte), 1,000 clients that
# reopen as fast as they are closed, and 64 slowloris clients sending one
# header byte every 2 s. Under each, /healthz answers within 1 s at p99 (50
# requests) and /readyz answers, slowloris connections are closed by the
# request deadline however steadily they send, and the monitored stream
# stays healthy, never late (no heartbeat_missed).
# usage: test_status_flood.sh SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR
# Every wait is bounded; talks to 127.0.0.1 only.
set -u

if [ $# -ne 4 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR" >&2
    exit 2
fi
SSEMON=$1
SERVER=$2
SCN=$3
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
CONTRACTS=$(realpath "$4")
FLOOD="$HERE/flood.py"
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
# 1,000 flood sockets in one process, and the daemon's side of them.
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 1100 ]; then
    echo "FAIL: the open-file limit is $(ulimit -n) (hard $(ulimit -Hn)); 1,100 are needed" >&2
    exit 1
fi

WORK=$(mktemp -d)
SERVER_PID=
DAEMON_PID=
FLOOD_PIDS=
cleanup() {
    for pid in $FLOOD_PIDS $DAEMON_PID $SERVER_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

FAILS=0
PASSES=0

itest_start_server "$WORK/port" "$WORK/server.err" \
    --route '/api/utils/version/stream=version-stream'
SERVER_PID=$ITEST_PID
BASE=$ITEST_BASE

SP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STATUS="http://127.0.0.1:$SP"
# A stream judged healthy: a heartbeat every 200 ms, 1 s allowed.
cat >"$WORK/ssemon.json" <<EOF
{"status": {"listen": "127.0.0.1:$SP"},
 "contracts_dir": "$CONTRACTS",
 "subscriptions": [
  {"name": "steady", "url": "$BASE/api/utils/version/stream?request_id=it-flood&hb_ms=200",
   "contract": "version-stream", "vars": {"request_id": "it-flood"}, "heartbeat_interval_s": 1}
 ]}
EOF

"$SSEMON" run -c "$WORK/ssemon.json" --log-target stderr 2>"$WORK/daemon.err" &
DAEMON_PID=$!

# jq_status PATH FILTER: FILTER applied to GET PATH.
jq_status() { curl -sf --max-time 20 "$STATUS$1" | jq -r "$2" 2>/dev/null; }
# wait_for PATH FILTER: until FILTER over GET PATH yields true (at most 10 s).
wait_for() {
    for _ in $(seq 1 200); do
        [ "$(jq_status "$1" "$2")" = true ] && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
if ! wait_for /status/steady '.healthy == true and .heartbeats >= 1'; then
    echo "the daemon did not start, or its stream did not turn healthy" >&2
    cat "$WORK/daemon.err" >&2
    exit 1
fi

# start_flood NAME ARGS...: flood.py ARGS in the background, its output in
# $WORK/NAME.out, its pid in $WORK/NAME.pid; waits (at most 30 s) until its
# connections are open. The flood runs at a lower priority: on two shared
# cores, a flood that gets the CPU first would measure the scheduler, not
# the daemon (it still reopens each connection as soon as it sees it
# closed).
start_flood() {
    local name=$1 pid
    shift
    nice -n 10 python3 "$FLOOD" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    pid=$!
    FLOOD_PIDS="$FLOOD_PIDS $pid"
    echo "$pid" >"$WORK/$name.pid"
    for _ in $(seq 1 600); do
        grep -q '^ready$' "$WORK/$name.out" && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "flood $name did not get its connections open" >&2
    cat "$WORK/$name.err" >&2
    return 1
}
# stop_flood NAME: stops it and waits for its report (the last line).
stop_flood() {
    local pid
    pid=$(cat "$WORK/$1.pid")
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    FLOOD_PIDS=$(echo "$FLOOD_PIDS" | tr ' ' '\n' | grep -vx "$pid" | tr '\n' ' ')
    tail -n 1 "$WORK/$1.out" >"$WORK/$1.json"
}
# probe NAME COUNT INTERVAL PATH: latencies of COUNT requests, in $WORK/NAME.json.
probe() {
    python3 "$FLOOD" probe "$SP" "$2" --interval "$3" --path "$4" >"$WORK/$1.json" 2>&1
}
# holds NAME FILTER: FILTER is true of $WORK/NAME.json.
holds() { jq -e "$2" "$WORK/$1.json" >/dev/null; }
# answered_fast NAME COUNT: every request answered, p99 under 1 s.
answered_fast() {
    jq -e --argjson n "$2" '.n == $n and .ok == $n and .p99 < 1.0' "$WORK/$1.json" >/dev/null
}

events_before=$(jq_status /status/steady .events)

# ---- 1,000 connections held open: 500 silent, 500 after one byte ----
start_flood idle_silent idle "$SP" 500
start_flood idle_byte idle "$SP" 500 --send G
probe idle_healthz 50 0.2 /healthz
probe idle_readyz 10 0.1 /readyz
stop_flood idle_silent
stop_flood idle_byte
check "1,000 held connections: /healthz p99 < 1 s over 50 requests" "$WORK/idle_healthz.json" \
    answered_fast idle_healthz 50
check "1,000 held connections: /readyz answered (200: the stream is healthy)" "$WORK/idle_readyz.json" \
    answered_fast idle_readyz 10
check "... the held connections were all opened" "$WORK/idle_byte.json" \
    holds idle_byte '.opened == 500'

# ---- 1,000 clients reopening as fast as they are closed ----
start_flood churn churn "$SP" 1000 --send G
probe churn_healthz 50 0.1 /healthz
probe churn_readyz 10 0.1 /readyz
stop_flood churn
check "1,000 reopening clients: /healthz p99 < 1 s over 50 requests" "$WORK/churn_healthz.json" \
    answered_fast churn_healthz 50
check "1,000 reopening clients: /readyz answered" "$WORK/churn_readyz.json" \
    answered_fast churn_readyz 10
check "... the flood was real: thousands of its connections were taken and closed" "$WORK/churn.json" \
    holds churn '.closed >= 2000'

# ---- slowloris: 64 connections, one header byte every 2 s, for 12 s ----
start_flood slowloris slowloris "$SP" 64 --interval 2 --duration 12
probe slow_healthz 50 0.2 /healthz
probe slow_readyz 10 0.1 /readyz
wait "$(cat "$WORK/slowloris.pid")" 2>/dev/null
stop_flood slowloris
check "slowloris: /healthz p99 < 1 s over 50 requests" "$WORK/slow_healthz.json" \
    answered_fast slow_healthz 50
check "slowloris: /readyz answered" "$WORK/slow_readyz.json" answered_fast slow_readyz 10
# The deadline is 5 s for the whole request, however steadily it comes.
check "slowloris: no connection lived past the request deadline (5 s) while sending" "$WORK/slowloris.json" \
    holds slowloris '.closed >= 64 and .max_life_s > 0 and .max_life_s < 7.5'

# ---- monitoring went on, never late ----
check "monitoring went on: the steady stream's event count kept rising" "$WORK/daemon.err" \
    wait_for /status/steady ".events > $events_before"
check "... and it was never late: no violation, still healthy" "$WORK/daemon.err" \
    test "$(jq_status /status/steady '[.violations.total, .healthy] | @text')" = "[0,true]"
check "... no heartbeat_missed record" "$WORK/daemon.err" \
    test "$(grep -c heartbeat_missed "$WORK/daemon.err")" -eq 0
curl -s -o "$WORK/after.body" -w '%{http_code}' --max-time 5 "$STATUS/healthz" >"$WORK/after.code"
check "the endpoint answers after the floods" "$WORK/after.body" \
    test "$(cat "$WORK/after.code") $(cat "$WORK/after.body")" = "200 ok"

for f in idle_healthz churn_healthz slow_healthz; do
    echo "# $f: $(cat "$WORK/$f.json")"
done
echo "# churn: $(cat "$WORK/churn.json"); slowloris: $(cat "$WORK/slowloris.json")"

itest_stop "$DAEMON_PID" 30
DAEMON_PID=
check "SIGTERM stops the daemon with status 0" "$WORK/daemon.err" test "$ITEST_RC" -eq 0

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
