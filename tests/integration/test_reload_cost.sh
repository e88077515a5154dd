#!/bin/bash
# Integration test of what a contract may cost and of loop stalls: the real
# daemon (`ssemon run`) judging a healthy stream of the scripted test server
# (a heartbeat every 100 ms, a heartbeat limit of 2 s) while
#  - the daemon is stopped for 4 s (SIGSTOP, SIGCONT): the loop is held,
#    the heartbeats wait in the socket;
#  - a SIGHUP reload adds subscriptions whose contracts are near the limits
#    of what a contract may cost, enough of them that loading them holds the
#    loop about three times the heartbeat limit (calibrated with `ssemon
#    check-config`, then measured on the reload itself);
# and neither stall may make the healthy stream look late. Then `ssemon
# check-config` refuses a contract beyond a limit with its positioned error,
# and accepts a configuration and a contract that start with a UTF-8 byte
# order mark.
# usage: test_reload_cost.sh SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR
# Every wait is bounded; talks to 127.0.0.1 only.
set -u

if [ $# -ne 4 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR" >&2
    exit 2
fi
SSEMON=$1
SERVER=$2
SCN=$3
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
CONTRACTS=$(realpath "$4")
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d)
SERVER_PID=
DAEMON_PID=
cleanup() {
    # A stopped daemon would never see SIGTERM: continue it first.
    [ -n "$DAEMON_PID" ] && kill -CONT "$DAEMON_PID" 2>/dev/null
    for pid in $DAEMON_PID $SERVER_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

FAILS=0
PASSES=0
at_least() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ]; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

itest_start_server "$WORK/port" "$WORK/server.err" \
    --route '/api/utils/version/stream=version-stream'
SERVER_PID=$ITEST_PID
BASE=$ITEST_BASE

SP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STATUS="http://127.0.0.1:$SP"

# near_cap FILE: a contract near the limits of what one may cost (10,000
# definitions, 99,990 schemas, 90,000 enum values), every definition
# referring to the next one.
near_cap() {
    python3 - "$1" <<'EOF'
import json, sys
defs = {}
for i in range(10000):
    props = {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "number"},
             "d": {"type": "boolean"}, "e": {"type": "null"},
             "f": {"type": "array", "items": True}}
    if i + 1 < 10000:
        props["next"] = {"$ref": "#/definitions/d%d" % (i + 1)}
    defs["d%d" % i] = {"type": "object", "properties": props}
for k in range(9):
    defs["d%d" % k]["properties"]["a"] = {"enum": ["v%d-%d" % (k, i) for i in range(10000)]}
events = {"e%d" % k: {"schema": {"$ref": "#/definitions/d%d" % (k * 1000)}} for k in range(10)}
json.dump({"events": events, "definitions": defs}, open(sys.argv[1], "w"))
EOF
}

# write_config FILE N: the healthy stream, and N subscriptions with a
# near-cap contract each (its own file: contracts are loaded once per file).
write_config() {
    local file=$1 n=$2 i
    {
        printf '{"status": {"listen": "127.0.0.1:%s"},\n' "$SP"
        printf ' "contracts_dir": "%s",\n' "$CONTRACTS"
        printf ' "defaults": {"backoff_min_ms": 5000, "backoff_max_ms": 10000},\n'
        printf ' "subscriptions": [\n'
        printf '  {"name": "steady", "url": "%s/api/utils/version/stream?request_id=it-steady&hb_ms=100",' "$BASE"
        printf '   "contract": "version-stream", "vars": {"request_id": "it-steady"}, "heartbeat_interval_s": 1}'
        for ((i = 1; i <= n; i++)); do
            printf ',\n  {"name": "costly-%d", "url": "%s/nothing", "contract": "%s/near-%d.json"}' \
                "$i" "$BASE" "$WORK" "$i"
        done
        printf '\n ]}\n'
    } >"$file"
}

# check_config_ms FILE: how long `ssemon check-config` takes on FILE (it
# loads every contract as a reload does); fails unless it is OK.
check_config_ms() {
    local t0 rc
    t0=$(now_ms)
    timeout 300 "$SSEMON" check-config -c "$1" >"$WORK/cc.out" 2>&1
    rc=$?
    echo $(($(now_ms) - t0))
    return $rc
}

# ---- calibration: enough near-cap contracts to hold the loop 6 s ----
# Loads of the whole set are timed and the set grown until one takes 6 s
# (three times the heartbeat limit, for a machine whose load varies), at
# most 24 contracts and 4 rounds.
near_cap "$WORK/near-1.json"
N=1
COSTLY_MS=0
for _ in 1 2 3 4; do
    for ((i = 2; i <= N; i++)); do
        [ -f "$WORK/near-$i.json" ] || cp "$WORK/near-1.json" "$WORK/near-$i.json"
    done
    write_config "$WORK/costly.json" "$N"
    if ! COSTLY_MS=$(check_config_ms "$WORK/costly.json"); then
        fail "near-cap contracts are accepted" "$WORK/cc.out"
        exit 1
    fi
    [ "$COSTLY_MS" -ge 6000 ] || [ "$N" -ge 24 ] && break
    [ "$COSTLY_MS" -lt 1 ] && COSTLY_MS=1
    N=$(((N * 6500 + COSTLY_MS - 1) / COSTLY_MS))
    [ "$N" -gt 24 ] && N=24
done
# The last round may have grown N past the set it timed: the configuration
# must hold exactly N (the reload below is timed on its own).
for ((i = 2; i <= N; i++)); do
    [ -f "$WORK/near-$i.json" ] || cp "$WORK/near-1.json" "$WORK/near-$i.json"
done
write_config "$WORK/costly.json" "$N"
echo "# $N near-cap contracts: check-config ${COSTLY_MS} ms"

# ---- the daemon with the healthy stream alone ----
write_config "$WORK/healthy.json" 0
"$SSEMON" run -c "$WORK/healthy.json" --log-target stderr 2>"$WORK/daemon.err" &
DAEMON_PID=$!

# jq_status PATH FILTER: FILTER applied to GET PATH.
jq_status() { curl -sf --max-time 20 "$STATUS$1" | jq -r "$2" 2>/dev/null; }
# wait_for SECONDS PATH FILTER: until FILTER over GET PATH yields true.
wait_for() {
    local i tries=$(($1 * 20))
    for ((i = 0; i < tries; i++)); do
        [ "$(jq_status "$2" "$3")" = true ] && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
heartbeats() { jq_status /status/steady .heartbeats; }
violations() { jq_status /status/steady .violations.total; }
# steady_fine N: the healthy stream is healthy with N violations in all.
steady_fine() {
    [ "$(jq_status /status/steady '[.healthy, .violations.total] | @tsv')" = "$(printf 'true\t%s' "$1")" ]
}

check "the healthy stream is streaming with heartbeats" "$WORK/daemon.err" \
    wait_for 20 /status/steady '.healthy == true and .heartbeats >= 5'

# ---- a stall of 4 s: the daemon stopped ----
HB=$(heartbeats)
V=$(violations)
kill -STOP "$DAEMON_PID"
sleep 4 # the stall itself
kill -CONT "$DAEMON_PID"
# A false alarm would come as soon as the loop runs again; ten more
# heartbeats (a second) later it would have been reported.
check "after a 4 s stop, the stream delivers heartbeats again" "$WORK/daemon.err" \
    wait_for 20 /status/steady ".heartbeats >= $((HB + 10))"
check "a 4 s stop of the daemon is not charged to the healthy stream" "$WORK/daemon.err" \
    steady_fine "$V"

# ---- a reload that holds the loop: N near-cap contracts to load ----
cp "$WORK/costly.json" "$WORK/healthy.json"
HB=$(heartbeats)
V=$(violations)
T0=$(now_ms)
kill -HUP "$DAEMON_PID"
RELOAD_MS=
for _ in $(seq 1 6000); do
    if grep -q 'configuration reloaded' "$WORK/daemon.err"; then
        RELOAD_MS=$(($(now_ms) - T0))
        break
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
done
echo "# reload with $N near-cap contracts: ${RELOAD_MS:-not done} ms (heartbeat limit 2000 ms)"
check "the reload adding $N near-cap contracts is applied" "$WORK/daemon.err" test -n "$RELOAD_MS"
# The loop is held for the whole reload, signal to record: longer than the
# heartbeat limit, or this test would prove nothing.
check "the reload held the loop longer than the heartbeat limit (${RELOAD_MS:-?} ms > 2500)" \
    "$WORK/daemon.err" at_least "${RELOAD_MS:-0}" 2500
check "the reloaded daemon runs the $N costly subscriptions" "$WORK/daemon.err" \
    wait_for 20 /status "[.subscriptions[].name | select(startswith(\"costly-\"))] | length == $N"
echo "# daemon after the reload: $(grep -E '^VmRSS' "/proc/$DAEMON_PID/status" 2>/dev/null)"
check "after the reload, the stream delivers heartbeats again" "$WORK/daemon.err" \
    wait_for 20 /status/steady ".heartbeats >= $((HB + 10))"
check "the reload is not charged to the healthy stream" "$WORK/daemon.err" steady_fine "$V"
# records_of CLASS: how many records the daemon wrote for the healthy
# stream and CLASS (on stderr: one JSON object a line).
records_of() {
    jq -R --arg c "$1" 'fromjson? | select(.SSEMON_SUBSCRIPTION == "steady" and .SSEMON_CLASS == $c)' \
        "$WORK/daemon.err" | jq -s length
}
check "the daemon wrote no heartbeat_missed record for the healthy stream" "$WORK/daemon.err" \
    equals "$(records_of heartbeat_missed)" 0

kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
DAEMON_RC=$?
DAEMON_PID=
check "SIGTERM stops the daemon with status 0" "$WORK/daemon.err" equals "$DAEMON_RC" 0

# ---- a contract beyond a limit: refused with its position ----
python3 - "$WORK/over-contract.json" <<'EOF'
import json, sys
values = ", ".join(json.dumps("value-%d" % i) for i in range(10001))
open(sys.argv[1], "w").write(
    '{"events": {"a": {"schema": {"$ref": "#/definitions/big"}}},\n'
    ' "definitions": {"big": {"enum": [' + values + ']}}}\n')
EOF
printf '{"subscriptions": [\n  {"name": "over", "url": "%s/x", "contract": "%s"}]}\n' \
    "$BASE" "$WORK/over-contract.json" >"$WORK/over.json"
timeout 60 "$SSEMON" check-config -c "$WORK/over.json" >"$WORK/over.out" 2>&1
check "check-config refuses a contract beyond a limit (exit 2)" "$WORK/over.out" equals "$?" 2
check "... with the contract's file, line, column, path and the limit" "$WORK/over.out" \
    grep -qF "$WORK/over-contract.json:2:26: /definitions/big/enum: \"enum\" has 10001 entries, more than the limit of 10000" "$WORK/over.out"
# The configuration names it at the contract's value (its column depends on
# the port in the URL before it).
COL=$(awk 'NR == 2 { print index($0, "\"contract\": \"") + 12 }' "$WORK/over.json")
check "... named at the configuration's own position" "$WORK/over.out" \
    grep -qF "$WORK/over.json:2:$COL: /subscriptions/0/contract: cannot load contract" "$WORK/over.out"

# ---- a byte order mark before a configuration and a contract ----
printf '\xEF\xBB\xBF{"events": {"a": {}}}\n' >"$WORK/bom-contract.json"
printf '\xEF\xBB\xBF{"subscriptions": [\n  {"name": "bom", "url": "%s/x", "contract": "%s"}]}\n' \
    "$BASE" "$WORK/bom-contract.json" >"$WORK/bom.json"
timeout 60 "$SSEMON" check-config -c "$WORK/bom.json" >"$WORK/bom.out" 2>&1
check "check-config accepts a configuration and a contract with a byte order mark" "$WORK/bom.out" \
    equals "$?:$(cat "$WORK/bom.out")" "0:configuration OK"
printf '\xEF\xBB\xBF{"subscriptions": [], "x": 1}\n' >"$WORK/bom-bad.json"
timeout 60 "$SSEMON" check-config -c "$WORK/bom-bad.json" >"$WORK/bom-bad.out" 2>&1
check "... and positions count from the character after it" "$WORK/bom-bad.out" \
    grep -qF "$WORK/bom-bad.json:1:23: /x: unknown key" "$WORK/bom-bad.out"

echo "# $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
