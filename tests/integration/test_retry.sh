#!/bin/bash
# Integration test: a server must not set the monitor's pace. A server's
# retry field is honoured only inside the subscription's backoff range
# [backoff_min_ms, backoff_max_ms]: after retry: 0 the monitor reconnects at
# the backoff floor, after retry: 86400000 it comes back within the ceiling,
# and every connection that sends an out-of-range retry reports one
# retry_out_of_range anomaly, however many such fields it sends.
#
# Checked twice against the scripted test server: with `ssemon watch` (its
# default range, 500..30000 ms, the reconnect delay it prints and the times
# of its lines) and with the daemon (`ssemon run` with a configured range,
# the connections the server saw, /status and the log records).
# usage: test_retry.sh SSEMON SSE_TESTSERVER SCENARIO_DIR
# Every wait polls for its condition with a bound in time and count; the
# pace checks are upper bounds on the connection rate, which a loaded
# machine can only lower. Talks to 127.0.0.1 only.
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
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }
done

WORK=$(mktemp -d)
SERVER_PID=
DAEMON_PID=
WATCH_PID=
cleanup() {
    for pid in $WATCH_PID $DAEMON_PID $SERVER_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

itest_start_server "$WORK/port" "$WORK/server.err" --log "$WORK/requests.log"
SERVER_PID=$ITEST_PID
BASE=$ITEST_BASE

FAILS=0
PASSES=0
# jq_true FILE FILTER: FILTER (over the slurped lines) yields true.
jq_true() { [ "$(jq -s "$2" "$1" 2>/dev/null)" = "true" ]; }
now_ms() { date +%s%3N; }

# wait_until SECONDS COMMAND...: runs COMMAND every 50 ms until it succeeds
# (returns 0) or SECONDS have passed (returns 1).
wait_until() {
    local secs=$1
    shift
    local limit=$(($(now_ms) + secs * 1000))
    for _ in $(seq 1 $((secs * 20 + 1))); do
        "$@" && return 0
        [ "$(now_ms)" -lt "$limit" ] || return 1
        sleep 0.05
    done
    "$@"
}

# conns PATH: how many requests for PATH the test server saw (the watch and
# the daemon parts use different paths to the same scenarios).
conns() {
    local n
    n=$(grep -c "\"path\": \"$1\"" "$WORK/requests.log" 2>/dev/null)
    echo "${n:-0}"
}
conns_at_least() { [ "$(conns "$1")" -ge "$2" ]; }

# Per connection of a watch output (from each "open" line), how many
# retry_out_of_range anomalies it printed.
# shellcheck disable=SC2016 # jq variables, not shell ones
PER_CONN='reduce .[] as $l ([];
    if $l.connection == "open" then . + [0]
    elif $l.anomaly == "retry_out_of_range" then .[-1] += 1
    else . end)'
# The receive time of a watch line in ms since the epoch.
T_MS='((.t[0:19] + "Z" | fromdate) * 1000 + (.t[20:23] | tonumber))'

# ================= ssemon watch (range 500..30000 ms) =================

# ---- retry: 0 before every event ----
timeout 60 "$SSEMON" watch --max-events 9 "$BASE/s/retry-zero/watch" \
    >"$WORK/zero.out" 2>"$WORK/zero.err"
echo $? >"$WORK/zero.rc"
check "watch retry: 0: exit 0 after --max-events" "$WORK/zero.err" equals "$(cat "$WORK/zero.rc")" 0
check "watch retry: 0: three connections, each sending three retry fields" "$WORK/zero.out" \
    jq_true "$WORK/zero.out" \
    '([.[] | select(.connection == "open")] | length) == 3 and ([.[] | select(.retry == 0)] | length) == 9'
check "watch retry: 0: retry_out_of_range once per connection, not per field" "$WORK/zero.out" \
    equals "$(jq -s -c "$PER_CONN" "$WORK/zero.out")" '[1,1,1]'
check "watch retry: 0: the anomaly shows the field" "$WORK/zero.out" \
    jq_true "$WORK/zero.out" '[.[] | select(.anomaly) | .line] == ["retry: 0", "retry: 0", "retry: 0"]'
check "watch retry: 0: reconnects planned at the 500 ms floor" "$WORK/zero.out" \
    jq_true "$WORK/zero.out" \
    '[.[] | select(.connection == "closed" and .reason == "eof") | .reconnect_in_ms] == [500, 500]'
# A timer never fires early: each gap is at least the floor, however loaded
# the machine (1 ms for the millisecond stamps).
check "watch retry: 0: at least 500 ms between a close and the next attempt" "$WORK/zero.out" \
    jq_true "$WORK/zero.out" \
    "[.[] | select(.connection == \"closed\" or .connection == \"connecting\") | {c: .connection, t: $T_MS}]
     | [range(1; length) as \$i | select(.[\$i].c == \"connecting\") | .[\$i].t - .[\$i - 1].t]
     | length == 2 and all(.[]; . >= 499)"

# ---- retry: 86400000, twice ----
# Bounded by its own --duration, not by `timeout`: the SIGTERM below must
# reach watch once, from this script (itest_stop in lib.sh says why).
"$SSEMON" watch --duration 60 "$BASE/s/retry-day/watch" >"$WORK/day.out" 2>"$WORK/day.err" &
WATCH_PID=$!
day_closed() { jq_true "$WORK/day.out" 'any(.[]; .connection == "closed")'; }
check "watch retry: 86400000: the first connection ends" "$WORK/day.err" wait_until 30 day_closed
itest_stop "$WATCH_PID" 20
WATCH_PID=
check "watch retry: 86400000: exit 0 on SIGTERM" "$WORK/day.err" equals "$ITEST_RC" 0
check "watch retry: 86400000: reconnect planned at the 30000 ms ceiling, not in a day" \
    "$WORK/day.out" jq_true "$WORK/day.out" \
    '[.[] | select(.connection == "closed")][0] | .reason == "eof" and .reconnect_in_ms == 30000'
check "watch retry: 86400000: retry_out_of_range once for two fields" "$WORK/day.out" \
    equals "$(jq -s -c "$PER_CONN" "$WORK/day.out") $(jq -s -c '[.[] | select(.retry)] | length' "$WORK/day.out")" \
    '[1] 2'
check "watch retry: 86400000: the anomaly shows the field" "$WORK/day.out" \
    jq_true "$WORK/day.out" '[.[] | select(.anomaly) | .line] == ["retry: 86400000"]'

# ================= ssemon run (range 300..1500 ms) =================
MIN_MS=300
MAX_MS=1500
# Generous, for a loaded machine: how much later than its planned delay a
# reconnect may come.
MARGIN_S=15

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
SP=$(free_port)
STATUS="http://127.0.0.1:$SP"
mkdir "$WORK/contracts"
printf '{"name": "retry-any", "description": "Unnamed text events.", "events": {"message": {"data": "text"}}}\n' \
    >"$WORK/contracts/retry-any.json"
cat >"$WORK/run.json" <<EOF
{"status": {"listen": "127.0.0.1:$SP"},
 "contracts_dir": "$WORK/contracts",
 "defaults": {"backoff_min_ms": $MIN_MS, "backoff_max_ms": $MAX_MS},
 "subscriptions": [
  {"name": "zero", "url": "$BASE/s/retry-zero/run", "contract": "retry-any"},
  {"name": "day", "url": "$BASE/s/retry-day/run", "contract": "retry-any"}
 ]}
EOF
"$SSEMON" run -c "$WORK/run.json" --log-target stderr 2>"$WORK/daemon.err" &
DAEMON_PID=$!
healthz() { curl -sf --max-time 5 "$STATUS/healthz" >/dev/null 2>&1; }
if ! wait_until 20 healthz; then
    echo "daemon did not start" >&2
    cat "$WORK/daemon.err" >&2
    exit 1
fi
# in_range N LO HI: N is an integer in [LO, HI].
in_range() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
jq_status() { curl -sf --max-time 20 "$STATUS$1" | jq -r "$2" 2>/dev/null; }

# ---- retry: 0: the pace stays at backoff_min_ms ----
check "run retry: 0: the server sees the subscription reconnect" "$WORK/daemon.err" \
    wait_until 30 conns_at_least /s/retry-zero/run 2
t1=$(now_ms)
c1=$(conns /s/retry-zero/run)
check "run retry: 0: it keeps reconnecting (5 more connections)" "$WORK/daemon.err" \
    wait_until 60 conns_at_least /s/retry-zero/run $((c1 + 5))
c2=$(conns /s/retry-zero/run)
t2=$(now_ms)
echo "# retry: 0: $((c2 - c1)) connections in $((t2 - t1)) ms (floor $MIN_MS ms; $c2 in all)"
# n connections spaced at least MIN_MS apart span at least (n - 1) * MIN_MS.
check "run retry: 0: no more than one connection per backoff_min_ms" "$WORK/requests.log" \
    [ $(((c2 - c1 - 1) * MIN_MS)) -le $((t2 - t1)) ]

# ---- retry: 86400000: back within backoff_max_ms ----
check "run retry: 86400000: first connection" "$WORK/daemon.err" \
    wait_until 30 conns_at_least /s/retry-day/run 1
t1=$(now_ms)
c1=$(conns /s/retry-day/run)
check "run retry: 86400000: the stream comes back within backoff_max_ms (+ margin)" \
    "$WORK/daemon.err" wait_until $((MAX_MS / 1000 + 1 + MARGIN_S)) conns_at_least /s/retry-day/run $((c1 + 1))
check "run retry: 86400000: and again" "$WORK/daemon.err" \
    wait_until $((MAX_MS / 1000 + 1 + MARGIN_S)) conns_at_least /s/retry-day/run $((c1 + 2))
c2=$(conns /s/retry-day/run)
t2=$(now_ms)
echo "# retry: 86400000: $((c2 - c1)) connections in $((t2 - t1)) ms (ceiling $MAX_MS ms)"
# The server's retry is still honoured, up to the ceiling: not the floor.
check "run retry: 86400000: no more than one connection per backoff_max_ms" "$WORK/requests.log" \
    [ $(((c2 - c1 - 1) * MAX_MS)) -le $((t2 - t1)) ]

# ---- one anomaly per connection, counted and logged ----
# A connection the server has logged may not have sent its retry yet: the
# count lies between the connections before the read, minus one, and those
# after it.
for sub in zero day; do
    before=$(conns "/s/retry-$sub/run")
    n=$(jq_status "/status/$sub" '.violations.by_class.sse_syntax // 0')
    after=$(conns "/s/retry-$sub/run")
    echo "# $sub: $n sse_syntax violations, $before..$after connections"
    lo=$((before - 1))
    [ "$lo" -ge 1 ] || lo=1
    check "run $sub: one sse_syntax violation per connection" "$WORK/daemon.err" \
        in_range "$n" "$lo" "$after"
done
check "run: the violation record names retry_out_of_range" "$WORK/daemon.err" \
    grep -q 'retry_out_of_range: retry field outside the reconnect range' "$WORK/daemon.err"

itest_stop "$DAEMON_PID" 30
DAEMON_PID=
check "run: SIGTERM stops the daemon with status 0" "$WORK/daemon.err" equals "$ITEST_RC" 0

echo "# $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
