#!/bin/bash
# Runs ssemon against the real SSE gateway (pvginkel/SSEGateway, a Node
# process) in HTTP callback mode, with tests/gateway/backend.py playing the
# backend. Not part of ctest: it needs a gateway checkout, which this script
# never fetches (see tests/gateway/README.md).
#
# usage: tests/gateway/run.sh [GATEWAY_DIR]
#   GATEWAY_DIR (or $SSEGW_DIR): the gateway's source tree, built (npm ci runs
#   its prepare step, tsc, which writes dist/index.js).
#   $SSEMON: the ssemon binary (default build/src/cmd/ssemon in this tree).
#   $CHECK_S: how long 'ssemon check' watches the stream (default 20).
#   $CONTRACTS_DIR: the contracts (default etc/ssemon/contracts in this tree).
# Exit status: 0 all passed, 1 a check failed, 77 skipped (no node, no
# python3, no gateway directory or no built gateway).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
gwdir=${1:-${SSEGW_DIR:-}}
ssemon=${SSEMON:-$root/build/src/cmd/ssemon}
check_s=${CHECK_S:-20}
contracts=${CONTRACTS_DIR:-$root/etc/ssemon/contracts}

skip() { echo "SKIP: $*"; exit 77; }
command -v node >/dev/null || skip "node is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v curl >/dev/null || skip "curl is not installed"
[ -n "$gwdir" ] && [ -d "$gwdir" ] || skip "no gateway directory (argument or SSEGW_DIR)"
[ -f "$gwdir/dist/index.js" ] || skip "$gwdir/dist/index.js missing: run 'npm ci' in the gateway directory"
[ -x "$ssemon" ] || { echo "FAIL: $ssemon is not executable (build first or set SSEMON)"; exit 1; }

tmp=$(mktemp -d /tmp/ssemon-realgw.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Polls a command until it succeeds: at most $1 tries, 0.1 s apart.
poll() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# The gateway cannot listen on port 0: pick a free port (the backend binds 0).
gwport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
gw=http://127.0.0.1:$gwport

python3 "$here/backend.py" --gateway "$gw" --port-file "$tmp/bport" 2>"$tmp/backend.log" &
pids+=($!)
poll 100 test -s "$tmp/bport" || { echo "FAIL: backend did not start"; cat "$tmp/backend.log"; exit 1; }
backend=http://127.0.0.1:$(cat "$tmp/bport")
poll 50 curl -sf "$backend/healthz" || { echo "FAIL: backend does not answer"; exit 1; }

# Upstream defaults except the port and the callback (heartbeat 15 s, no AMQP).
PORT=$gwport CALLBACK_URL=$backend/api/sse/callback node "$gwdir/dist/index.js" >"$tmp/gateway.log" 2>&1 &
pids+=($!)
poll 150 curl -sf "$gw/readyz" || { echo "FAIL: gateway not ready"; cat "$tmp/gateway.log"; exit 1; }
echo "gateway $gw (pid ${pids[1]}), backend $backend (pid ${pids[0]})"

post() { curl -s --max-time 5 -X POST -H 'Content-Type: application/json' -d "$2" "$backend$1"; }

status=0

# 1. One connection watched for $check_s seconds by the shipped contract while
#    tasks of every kind run, a targeted event and a deployment are sent.
rid=ssemon-realgw-$$
"$ssemon" check --contract gateway-envelope --contracts-dir "$contracts" --max-duration "$check_s" \
	"$gw/api/sse/stream?request_id=$rid" >"$tmp/check.out" 2>"$tmp/check.err" &
check_pid=$!
pids+=($check_pid)
# Load: waits for our connection to be registered, then a task every 2 s.
# A targeted event is refused (400 not_found) until the connection is registered.
targeted_task=$(python3 -c 'import uuid; print(uuid.uuid4())') # task ids are UUIDs
registered() {
	post /api/testing/sse/task-event '{"request_id":"'"$rid"'","task_id":"'"$targeted_task"'","event_type":"progress_update","data":{"text":"targeted","value":0.5}}' |
		grep -q '"delivered": true'
}
if poll 50 registered; then
	for ((i = 0; i < check_s / 2 - 1; i++)); do
		case $((i % 4)) in
		0) post /api/testing/tasks/start '{"task_type":"demo_task","params":{"steps":3,"delay":0.1}}' ;;
		1) post /api/testing/tasks/start '{"task_type":"failing_task","params":{"delay":0.05,"error_message":"probe failure"}}' ;;
		2) post /api/testing/deployments/version '{"request_id":"'"$rid"'","version":"realgw-2","changelog":"deployed"}' ;;
		3) post /api/testing/tasks/start '{"task_type":"demo_task","params":{"steps":1,"delay":0}}' ;;
		esac >>"$tmp/load.out"
		sleep 2
	done
else
	echo "FAIL: the check's connection was never registered by the backend"
	status=1
fi
wait "$check_pid"
check_rc=$?
echo "--- ssemon check --contract gateway-envelope (rc $check_rc):"
cat "$tmp/check.out" "$tmp/check.err"
violations=$(grep -c '"class"' "$tmp/check.out")
if [ "$check_rc" -ne 0 ] || [ "$violations" -ne 0 ]; then
	echo "FAIL: ssemon check: $violations violation(s), exit $check_rc (expected none)"
	status=1
else
	echo "PASS: ssemon check: no violation"
fi

# 2. Probes through the gateway: a task broadcast to every connection, and a
#    targeted event naming the subscription's own request id.
cat >"$tmp/probe.json" <<EOF
{
  "status": {"listen": "127.0.0.1:0"},
  "contracts_dir": "$contracts",
  "subscriptions": [
    {"name": "gateway-main", "contract": "gateway-envelope",
     "url": "$gw/api/sse/stream?request_id=ssemon-\${instance}-\${uuid}",
     "vars": {"request_id": "ssemon-\${instance}-\${uuid}"}}
  ],
  "probes": [
    {"name": "gateway-task", "every_s": 60,
     "trigger": {"method": "POST", "url": "$backend/api/testing/tasks/start",
                 "headers": {"Content-Type": "application/json"},
                 "body": {"task_type": "demo_task", "params": {"steps": 3, "delay": 0.1}},
                 "expect_status": [200], "timeout_s": 5, "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gateway-main", "event": "task_event:task_started", "match": {"/task_id": "\${task_id}"}, "within_s": 2},
       {"subscription": "gateway-main", "event": "task_event:task_completed", "match": {"/task_id": "\${task_id}"}, "within_s": 10}
     ]},
    {"name": "gateway-targeted", "every_s": 60,
     "trigger": {"method": "POST", "url": "$backend/api/testing/sse/task-event",
                 "body": {"request_id": "\${subscriptions.gateway-main.request_id}", "task_id": "\${run_id}",
                          "event_type": "progress_update", "data": {"text": "probe", "value": 0.5}},
                 "expect_status": [200]},
     "expect": [
       {"subscription": "gateway-main", "event": "task_event:progress_update", "match": {"/task_id": "\${run_id}"}, "within_s": 2}
     ]}
  ]
}
EOF
timeout 120 "$ssemon" probe -c "$tmp/probe.json" --repeat 5 --wait 10 gateway-task gateway-targeted \
	>"$tmp/probe.out" 2>"$tmp/probe.err"
probe_rc=$?
echo "--- ssemon probe --repeat 5 gateway-task gateway-targeted (rc $probe_rc):"
cat "$tmp/probe.out" "$tmp/probe.err"
runs_ok=$(grep -c '"result":"ok","duration_ms"' "$tmp/probe.out")
sub_violations=$(grep -c '"class"' "$tmp/probe.out")
if [ "$probe_rc" -ne 0 ] || [ "$runs_ok" -ne 10 ]; then
	echo "FAIL: ssemon probe: $runs_ok of 10 runs ok, exit $probe_rc"
	status=1
else
	echo "PASS: ssemon probe: 10 of 10 runs ok"
fi
if [ "$sub_violations" -ne 0 ]; then
	echo "FAIL: the probe's subscription reported $sub_violations violation(s) (expected none)"
	status=1
fi
exit $status
