#!/usr/bin/env bash
# Accuracy of the probe delivery time (issue 10, section 5): how far the
# delivery_ms `ssemon probe` reports is from the true one, on loopback.
# See docs/benchmarks.md, "Probes".
#
# One test server (its 2026 stack, --log: every event line carries t_us,
# CLOCK_REALTIME in µs just before the write) and, in front of its trigger
# endpoint, bench/probe/stamprelay.py, which logs CLOCK_REALTIME in µs when
# each trigger connection is accepted (the test server's request lines carry
# no time). `ssemon probe --repeat ACC_RUNS` runs one probe: POST
# /api/testing/tasks/start?run=${run_id} through the relay (a demo_task of
# ACC_STEPS steps, ACC_DELAY s apart), expecting task_started and
# task_completed of the captured task on one gateway subscription (direct).
#
# Pairing: the run id is in the trigger's query, so the relay's line and the
# server's POST line name the run; the server handles one request at a time
# and writes the task's task_started before it answers, so the first
# gateway task_started after a run's POST line is that run's task, and its
# task_completed has the same task_id. Every run must pair, else the bench
# fails.
#
# True delivery = t_us(event written) - t_us(trigger accepted by the relay);
# error = reported delivery_ms - true delivery. The error includes curl's
# connect after ssemon's trigger start, loopback transit and ssemon's loop,
# and the quantisation: ssemon reports whole ms of CLOCK_MONOTONIC at
# both ends (a difference of truncated ms: within (-1, +1) ms of the exact
# difference of its own two instants).
#
#   ACC_RUNS      probe runs (default 500)
#   ACC_STEPS     demo_task steps (default 1)
#   ACC_DELAY     demo_task delay, s (default 0.02)
#   ACC_INTERVAL  seconds between runs (default 0: back to back)
#   BENCH_CMAKE_ARGS  extra configure arguments (word-split)
# Prints a markdown table on stdout; one JSON line per measure goes to
# bench/results/probe-accuracy-STAMP.jsonl; logs stay in
# build-bench/bench-daemon/probe-accuracy/.
set -euo pipefail

dbench_name=bench/probe/accuracy.sh
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/daemon/lib.sh
. "$here/../daemon/lib.sh"

runs=${ACC_RUNS:-500}
steps=${ACC_STEPS:-1}
delay=${ACC_DELAY:-0.02}
interval=${ACC_INTERVAL:-0}
dbench_range runs 1 100000 ACC_RUNS
dbench_range steps 0 1000 ACC_STEPS
[[ $delay =~ ^[0-9]+(\.[0-9]+)?$ ]] || dbench_die "ACC_DELAY must be a number of seconds, got '$delay'"
[[ $interval =~ ^[0-9]+(\.[0-9]+)?$ ]] || dbench_die "ACC_INTERVAL must be a number of seconds, got '$interval'"

dbench_need cmake ninja jq python3 awk
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
trap dbench_cleanup EXIT
trap 'exit 130' INT TERM
dbench_build_all
dbench_workdir probe-accuracy
mkdir -p "$dbench_results"
raw="$dbench_results/probe-accuracy-$dbench_stamp.jsonl"
machine=$(dbench_machine)
w=$dbench_work

dbench_start_server "$w/server.err" --log "$w/server.log"
port=$dbench_srv_port
python3 "$here/stamprelay.py" --upstream "$port" --port-file "$w/relay.port" \
  --log "$w/relay.log" 2>"$w/relay.err" &
dbench_pids+=($!)
relay_pid=$!
for _ in $(seq 100); do
  [ -s "$w/relay.port" ] && break
  dbench_alive "$relay_pid" || break
  sleep 0.05
done
[ -s "$w/relay.port" ] || dbench_die "the relay did not start (see $w/relay.err)"
rport=$(cat "$w/relay.port")

cat >"$w/ssemon.json" <<JSON
{
  "contracts_dir": "$dbench_root/etc/ssemon/contracts",
  "subscriptions": [
    {"name": "gateway-main", "contract": "gateway-envelope",
     "url": "http://127.0.0.1:$port/api/sse/stream?request_id=acc-\${uuid}",
     "vars": {"request_id": "acc-\${uuid}"}}
  ],
  "probes": [
    {"name": "accuracy", "every_s": 60,
     "trigger": {"method": "POST",
                 "url": "http://127.0.0.1:$rport/api/testing/tasks/start?run=\${run_id}",
                 "body": {"task_type": "demo_task", "params": {"steps": $steps, "delay": $delay}},
                 "capture": {"task_id": "/task_id"}},
     "expect": [
       {"subscription": "gateway-main", "event": "task_event:task_started",
        "match": {"/task_id": "\${task_id}"}, "within_s": 2},
       {"subscription": "gateway-main", "event": "task_event:task_completed",
        "match": {"/task_id": "\${task_id}"}, "within_s": 30}
     ]}
  ]
}
JSON
"$dbench_ssemon" check-config -c "$w/ssemon.json" >/dev/null ||
  dbench_die "the generated configuration is refused ($w/ssemon.json)"

dbench_say "$runs probe runs (demo_task: $steps steps, $delay s apart; $interval s between runs)"
rc=0
"$dbench_ssemon" probe -c "$w/ssemon.json" --repeat "$runs" --interval "$interval" accuracy \
  >"$w/probe.ndjson" 2>"$w/probe.err" || rc=$?
[ "$rc" -eq 0 ] || dbench_die "ssemon probe exited $rc (see $w/probe.ndjson, $w/probe.err)"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
dbench_stop "$relay_pid" 5 || true
dbench_stop "$dbench_srv_pid" 5 || true

# One line per (run, event): reported, true, error.
jq -n -c --slurpfile probe "$w/probe.ndjson" --slurpfile relay "$w/relay.log" \
  --slurpfile server "$w/server.log" '
  ($relay | map({key: (.line | capture("[?&]run=(?<r>[0-9a-f-]+)").r), value: .t_us})
   | from_entries) as $accept
  # The run of each task: the first gateway task_started after its POST.
  | ($server | reduce .[] as $l ({cur: null, run: {}, t: {}};
      if $l.method == "POST" and $l.path == "/api/testing/tasks/start" then
        .cur = ($l.query | capture("(^|&)run=(?<r>[0-9a-f-]+)").r)
      elif $l.stream == "gateway" and $l.event == "task_event" then
        (if $l.event_type == "task_started" and .cur != null and .run[$l.task_id] == null
         then .run[$l.task_id] = .cur | .cur = null else . end)
        | .t[$l.task_id + " " + $l.event_type] = $l.t_us
      else . end)) as $s
  | ($s.run | to_entries | map({key: .value, value: .key}) | from_entries) as $task
  | $probe[] | select(.step != null)
  | (.event | sub("^task_event:"; "")) as $ev
  | $s.t[($task[.run_id] // "?") + " " + $ev] as $written
  | {run_id, event: $ev, result, reported_ms: .delivery_ms,
     accepted_us: $accept[.run_id], written_us: $written,
     true_ms: (if $written != null and $accept[.run_id] != null
               then ($written - $accept[.run_id]) / 1000 else null end)}
  | .error_ms = (if .true_ms != null and .reported_ms != null
                 then ((.reported_ms - .true_ms) * 1000 | round) / 1000 else null end)' \
  >"$w/pairs.jsonl"

unpaired=$(jq -s '[.[] | select(.error_ms == null)] | length' "$w/pairs.jsonl")
paired=$(jq -s '[.[] | select(.error_ms != null)] | length' "$w/pairs.jsonl")
[ "$unpaired" -eq 0 ] || dbench_die "$unpaired of $((paired + unpaired)) expectations did not pair (see $w/pairs.jsonl)"
[ "$paired" -eq $((runs * 2)) ] || dbench_die "$paired expectations paired, expected $((runs * 2))"

jq -s -c --argjson runs "$runs" '
  def rank($p): .[(((length * $p) | ceil) - 1) | if . < 0 then 0 else . end];
  def r3: (. * 1000 | round) / 1000;
  def stats($what; $rows):
    ($rows | map(.error_ms | fabs) | sort) as $a
    | ($rows | map(.error_ms)) as $e
    | ($rows | map(.true_ms) | sort) as $t
    | {bench: "probe-accuracy", measure: $what, runs: $runs, n: ($rows | length),
       abs_err_p50_ms: ($a | rank(0.5)), abs_err_p90_ms: ($a | rank(0.9)),
       abs_err_p99_ms: ($a | rank(0.99)), abs_err_max_ms: $a[-1],
       over_2ms: ($a | map(select(. > 2)) | length),
       err_mean_ms: (($e | add) / ($e | length) | r3), err_min_ms: ($e | min), err_max_ms: ($e | max),
       true_p50_ms: ($t | rank(0.5) | r3), true_p99_ms: ($t | rank(0.99) | r3)};
  stats("task_started"; map(select(.event == "task_started"))),
  stats("task_completed"; map(select(.event == "task_completed"))),
  stats("both"; .)' "$w/pairs.jsonl" >"$raw"

echo "## Probe delivery accuracy ($(date -u '+%Y-%m-%d'))"
echo
echo "$machine"
echo
echo "$runs runs of \`ssemon probe --repeat $runs --interval $interval\`; demo_task $steps steps, $delay s apart." \
  "Error = reported delivery_ms - (server's event write - relay's accept of the trigger), in ms;" \
  "absolute error by nearest rank. Load average at the end: $load_end (shared machine)."
echo
jq -s -r '
  "| event | n | abs err p50 | p90 | p99 | max | over 2 ms | err mean | err min | err max | true p50 | true p99 |",
  "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  (.[] | "| \(.measure) | \(.n) | \(.abs_err_p50_ms) | \(.abs_err_p90_ms) | \(.abs_err_p99_ms) | \(.abs_err_max_ms) | \(.over_2ms) | \(.err_mean_ms) | \(.err_min_ms) | \(.err_max_ms) | \(.true_p50_ms) | \(.true_p99_ms) |")
' "$raw"
echo
jq -r -s '.[] | select(.measure == "both")
  | "Target absolute error p99 <= 2 ms: \(if .abs_err_p99_ms <= 2 then "met" else "MISSED" end) (p99 \(.abs_err_p99_ms) ms)."' "$raw"
dbench_say "raw results: $raw; per expectation: $w/pairs.jsonl"
