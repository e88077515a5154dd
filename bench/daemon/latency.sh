#!/usr/bin/env bash
# Detection latency of `ssemon run` (issue 4, part 10): how long after a
# heartbeat window expires the daemon has (a) written the heartbeat_missed
# record and (b) counted it in /metrics. See docs/benchmarks.md, "Daemon".
#
# Two phases, each with its own daemon and test server:
#   journal: LAT_STREAMS streams (default 200), records on stderr, nothing
#            else touching the daemon;
#   metric:  LAT_METRIC_STREAMS streams (default 20), /metrics fetched every
#            LAT_POLL_MS ms (default 5) while the records are also timed.
# Every stream is the Flask version stream (bench/daemon/scenarios/
# bench-latency.scn): connection_open, version, LAT_HEARTBEATS heartbeats
# (default 3) one second apart, then silence with the connection open.
# Stream i waits i x LAT_SPREAD_MS / streams ms (default spread 1000) before
# its first heartbeat, so the expiries are spread instead of simultaneous
# (LAT_SPREAD_MS=0: all at once).
#
# Window expiry = the test server's clock just before it wrote the stream's
# last event + interval (1 s) x tolerance (2). The record's time is the
# CLOCK_REALTIME at which `probe stamp` read the line from the daemon's
# stderr pipe; the metric's time is when the first /metrics response showing
# the counter above 0 was received (and, as a lower bound, when the last one
# still showing 0 was sent). Same host, same clock: no skew.
#
# With LAT_SCRAPE_MS=M (default 0: never), the journal phase also fetches
# GET /metrics and then GET /status from the daemon, with M ms between
# rounds, for as long as it waits for the records: the latency while the
# status endpoint serves its largest documents.
#
# With LAT_BACKGROUND=N (default 0), the journal phase's daemon also holds N
# ordinary version streams (a heartbeat a second, from their own test
# servers, 2,500 streams each), so the latency is measured under that load;
# give the timed streams enough heartbeats to outlast the connection storm
# at start (LAT_HEARTBEATS defaults to 15 then).
#
# With LAT_PROBES=N (default 0: no probes, one journal phase), the journal
# phase runs twice back to back in the same invocation, with the same
# streams and background: without probes ("journal") and ("journal-probes")
# with N probes, in that order (LAT_PROBE_ORDER=last, the default) or the
# other (LAT_PROBE_ORDER=first). With probes: N probes every 10 s in the
# daemon (the first runs jittered over the first 10 s), each triggering a
# demo_task (3 steps, 0.1 s) on the 2026 stack of a test server of its own
# and expecting its task_started and task_completed on one gateway
# subscription (probe-gw); the two p99s are compared. The probes' runs,
# failures and skips are read from /status before the daemon stops; the
# machine's 1-minute load average at each phase's start is printed (the
# machine is shared).
#
#   LAT_STREAMS, LAT_METRIC_STREAMS, LAT_HEARTBEATS, LAT_SPREAD_MS,
#   LAT_POLL_MS, LAT_BACKGROUND, LAT_SCRAPE_MS, LAT_PROBES,
#   LAT_PROBE_ORDER   as above
#   BENCH_CMAKE_ARGS  extra configure arguments (word-split)
# Prints a markdown table on stdout; JSON lines go to
# bench/results/daemon-latency-STAMP.jsonl; per-stream data stays in
# build-bench/bench-daemon/latency/.
set -euo pipefail

dbench_name=bench/daemon/latency.sh
# shellcheck source=bench/daemon/lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

streams=${LAT_STREAMS:-200}
metric_streams=${LAT_METRIC_STREAMS:-20}
background=${LAT_BACKGROUND:-0}
probes=${LAT_PROBES:-0}
probe_order=${LAT_PROBE_ORDER:-last}
if [ "$background" != 0 ]; then
  heartbeats=${LAT_HEARTBEATS:-15}
else
  heartbeats=${LAT_HEARTBEATS:-3}
fi
spread=${LAT_SPREAD_MS:-1000}
poll_ms=${LAT_POLL_MS:-5}
scrape_ms=${LAT_SCRAPE_MS:-0}
hb_ms=1000
tolerance=2
dbench_range streams 1 5000 LAT_STREAMS
dbench_range scrape_ms 0 600000 LAT_SCRAPE_MS
dbench_range metric_streams 0 5000 LAT_METRIC_STREAMS
dbench_range heartbeats 1 60 LAT_HEARTBEATS
dbench_range spread 0 60000 LAT_SPREAD_MS
dbench_range poll_ms 1 60000 LAT_POLL_MS
dbench_range background 0 50000 LAT_BACKGROUND
dbench_range probes 0 1000 LAT_PROBES
case $probe_order in first | last) ;; *) dbench_die "LAT_PROBE_ORDER must be first or last, got '$probe_order'" ;; esac

dbench_need cmake ninja jq curl awk
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
dbench_raise_nofile $((streams + background + 1024))
trap dbench_cleanup EXIT
trap 'exit 130' INT TERM
dbench_build_all
dbench_workdir latency
mkdir -p "$dbench_results"
raw="$dbench_results/daemon-latency-$dbench_stamp.jsonl"
machine=$(dbench_machine)

# Writes the configuration for one phase: `n` subscriptions lat-NNNN, stream
# i pausing i x spread / n ms before its first heartbeat; then `nbg`
# background subscriptions bg-NNNNN spread over the ports in bg_ports;
# with `np` > 0, the gateway subscription probe-gw and `np` probes
# probe-NNN on the 2026 stack at `pport`.
lat_config() {
  local file=$1 n=$2 port=$3 status_port=$4 nbg=$5 np=${6:-0} pport=${7:-} i name off sep=
  {
    printf '{\n  "status": {"listen": "127.0.0.1:%s"},\n' "$status_port"
    printf '  "contracts_dir": "%s",\n' "$dbench_root/etc/ssemon/contracts"
    printf '  "defaults": {"heartbeat_tolerance": %s},\n' "$tolerance"
    printf '  "subscriptions": [\n'
    for ((i = 0; i < n; i++)); do
      printf -v name 'lat-%04d' "$i"
      off=$((i * spread / n))
      printf '%s    {"name": "%s", "url": "http://127.0.0.1:%s/api/utils/version/stream?request_id=%s&hb_ms=%s&k=%s&off_ms=%s", "contract": "version-stream", "vars": {"request_id": "%s"}, "heartbeat_interval_s": %s}' \
        "$sep" "$name" "$port" "$name" "$hb_ms" "$heartbeats" "$off" "$name" $((hb_ms / 1000))
      sep=$',\n'
    done
    for ((i = 0; i < nbg; i++)); do
      printf -v name 'bg-%05d' "$i"
      printf '%s    {"name": "%s", "url": "http://127.0.0.1:%s/api/utils/version/stream?request_id=%s&hb_ms=%s", "contract": "version-stream", "vars": {"request_id": "%s"}, "heartbeat_interval_s": %s}' \
        "$sep" "$name" "${bg_ports[i % ${#bg_ports[@]}]}" "$name" "$hb_ms" "$name" $((hb_ms / 1000))
    done
    if [ "$np" -gt 0 ]; then
      # shellcheck disable=SC2016 # ${uuid}, ${task_id}: ssemon's templates
      printf '%s    {"name": "probe-gw", "contract": "gateway-envelope", "url": "http://127.0.0.1:%s/api/sse/stream?request_id=bench-${uuid}", "vars": {"request_id": "bench-${uuid}"}}' \
        "$sep" "$pport"
      printf '\n  ],\n  "probes": [\n'
      sep=
      for ((i = 0; i < np; i++)); do
        printf -v name 'probe-%03d' "$i"
        # shellcheck disable=SC2016
        printf '%s    {"name": "%s", "every_s": 10, "trigger": {"method": "POST", "url": "http://127.0.0.1:%s/api/testing/tasks/start", "body": {"task_type": "demo_task", "params": {"steps": 3, "delay": 0.1}}, "capture": {"task_id": "/task_id"}}, "expect": [{"subscription": "probe-gw", "event": "task_event:task_started", "match": {"/task_id": "${task_id}"}, "within_s": 2}, {"subscription": "probe-gw", "event": "task_event:task_completed", "match": {"/task_id": "${task_id}"}, "within_s": 10}]}' \
          "$sep" "$name" "$pport"
        sep=$',\n'
      done
    fi
    printf '\n  ]\n}\n'
  } >"$file"
}

# Fetches /metrics then /status, scrape_ms apart, for at most `secs`
# seconds; appends "PATH SECONDS BYTES" per successful fetch to `out`.
lat_scrape() {
  local base=$1 secs=$2 out=$3 end path line
  local pause
  pause=$(awk -v ms="$scrape_ms" 'BEGIN { printf "%.3f", ms / 1000 }')
  end=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$end" ]; do
    for path in /metrics /status; do
      line=$(curl -sf -o /dev/null --max-time 10 -w '%{time_total} %{size_download}' \
        "$base$path" 2>/dev/null) && echo "$path $line" >>"$out"
    done
    sleep "$pause"
  done
}

# Runs one phase in $dbench_work/PHASE: n streams; with poll=yes, /metrics is
# fetched every poll_ms ms; np probes (default 0). Leaves PHASE/streams.jsonl
# (one line per stream) and, with probes, PHASE/probes.json.
lat_phase() {
  local phase=$1 n=$2 poll=$3 nbg=$4 np=${5:-0} dir="$dbench_work/$1" status_port wait_s found i
  mkdir -p "$dir"
  cut -d' ' -f1 /proc/loadavg >"$dir/loadavg"
  dbench_say "$phase phase: $n streams, $heartbeats heartbeats each, expiries spread over" \
    "$spread ms; $nbg background streams; $np probes"
  bg_ports=()
  local bg_pids=()
  for ((i = 0; i < (nbg + 2499) / 2500; i++)); do
    dbench_start_server "$dir/bg-server-$i.err" --dir "$dbench_root/tests/scenarios" \
      --route '/api/utils/version/stream=version-stream'
    bg_ports+=("$dbench_srv_port")
    bg_pids+=("$dbench_srv_pid")
  done
  local probe_port=
  if [ "$np" -gt 0 ]; then
    dbench_start_server "$dir/probe-server.err"
    probe_port=$dbench_srv_port
    bg_pids+=("$dbench_srv_pid")
  fi
  dbench_start_server "$dir/server.err" --dir "$dbench_here/scenarios" \
    --route '/api/utils/version/stream=bench-latency'
  local server_pid=$dbench_srv_pid
  status_port=$("$dbench_probe" freeport)
  lat_config "$dir/ssemon.json" "$n" "$dbench_srv_port" "$status_port" "$nbg" "$np" "$probe_port"
  "$dbench_ssemon" check-config -c "$dir/ssemon.json" >/dev/null ||
    dbench_die "the generated configuration is refused ($dir/ssemon.json)"
  for ((i = 0; i < n; i++)); do printf 'lat-%04d\n' "$i"; done >"$dir/names"

  mkfifo "$dir/daemon.fifo"
  "$dbench_probe" stamp <"$dir/daemon.fifo" >"$dir/daemon.stamped" &
  dbench_pids+=($!)
  local stamp_pid=$!
  "$dbench_ssemon" run -c "$dir/ssemon.json" --log-target stderr 2>"$dir/daemon.fifo" &
  dbench_pids+=($!)
  local daemon_pid=$!
  local daemon_t0=$EPOCHREALTIME
  wait_s=$(((spread + (heartbeats + tolerance) * hb_ms) / 1000 + 20))
  local poll_pid=
  if [ "$poll" = yes ]; then
    "$dbench_probe" metrics --port "$status_port" --names "$dir/names" \
      --interval-ms "$poll_ms" --timeout-s "$wait_s" >"$dir/metrics.jsonl" &
    poll_pid=$!
    dbench_pids+=("$poll_pid")
  fi

  local scrape_pid=
  if [ "$phase" != metric ] && [ "$scrape_ms" -gt 0 ]; then
    : >"$dir/scrapes"
    lat_scrape "http://127.0.0.1:$status_port" "$wait_s" "$dir/scrapes" &
    scrape_pid=$!
    dbench_pids+=("$scrape_pid")
  fi

  # Bounded wait for every stream's heartbeat_missed record.
  found=0
  for _ in $(seq $((wait_s * 4))); do
    dbench_alive "$daemon_pid" || dbench_die "$phase: the daemon exited (see $dir/daemon.stamped)"
    found=$(grep -E '"SSEMON_CLASS": ?"heartbeat_missed"' "$dir/daemon.stamped" |
      grep -cE '"SSEMON_SUBSCRIPTION": ?"lat-' || true)
    [ "$found" -ge "$n" ] && break
    sleep 0.25
  done
  [ "$found" -ge "$n" ] ||
    dbench_die "$phase: only $found of $n streams reported heartbeat_missed within $wait_s s"
  if [ -n "$scrape_pid" ]; then
    dbench_stop "$scrape_pid" 5 || true
    dbench_forget "$scrape_pid"
  fi
  if [ -n "$poll_pid" ]; then
    local prc=0
    wait "$poll_pid" || prc=$?
    dbench_forget "$poll_pid"
    [ "$prc" -eq 0 ] || dbench_die "$phase: /metrics never showed every counter (see $dir/metrics.jsonl)"
  fi
  # The daemon's CPU over the phase, % of one core (start, storm included;
  # before the /status fetch).
  awk -v t="$(dbench_ticks "$daemon_pid")" -v hz="$(getconf CLK_TCK)" -v a="$daemon_t0" \
    -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", t / hz / (b - a) * 100 }' >"$dir/cpu"
  if [ "$np" -gt 0 ]; then
    curl -sf --max-time 30 "http://127.0.0.1:$status_port/status" |
      jq -c '.probes | {probes: length, runs: (map(.runs) | add), failures: (map(.failures) | add),
                       skipped: (map(.skipped) | add)}' >"$dir/probes.json" ||
      dbench_die "$phase: /status could not be read for the probes' counts"
  fi
  dbench_stop "$daemon_pid" 10 || dbench_die "$phase: the daemon did not stop on SIGTERM"
  dbench_stop "$stamp_pid" 5 || true
  dbench_stop "$server_pid" 10 || true
  for i in "${bg_pids[@]}"; do dbench_stop "$i" 10 || true; done

  [ -f "$dir/metrics.jsonl" ] || : >"$dir/metrics.jsonl"
  jq -n -c --rawfile server "$dir/server.err" --rawfile stamped "$dir/daemon.stamped" \
    --slurpfile metrics "$dir/metrics.jsonl" --argjson window "$((hb_ms * tolerance))" \
    --argjson k "$heartbeats" '
    def epoch: capture("^(?<s>[0-9-]+T[0-9:]+)(\\.(?<f>[0-9]+))?\\+00:00$")
      | (.s + "Z" | fromdateiso8601) + (if .f then ("0." + .f | tonumber) else 0 end);
    def ms($a; $b): if $a == null or $b == null then null
      else (($a - $b) * 1e6 | round) / 1e3 end;
    # Last heartbeat per stream, from the server log.
    ([$server | split("\n")[] | capture(": hb (?<id>\\S+) (?<i>[0-9]+) (?<t>\\S+)$")]
     | group_by(.id) | map({key: .[0].id,
         value: {n: (map(.i | tonumber) | max), last: (map(.t | epoch) | max)}})
     | from_entries) as $sent
    # First heartbeat_missed record per stream, and every other violation.
    | ([$stamped | split("\n")[] | select(length > 0)
        | (index("\t")) as $tab | {at: (.[:$tab] | tonumber), r: (.[$tab + 1:] | fromjson)}
        | select(.r.SSEMON_CLASS != null)] ) as $records
    | ($records | map(select(.r.SSEMON_CLASS == "heartbeat_missed"))
       | group_by(.r.SSEMON_SUBSCRIPTION)
       | map({key: .[0].r.SSEMON_SUBSCRIPTION, value: min_by(.at)}) | from_entries) as $rec
    | ($metrics | map(select(.subscription != null) | {key: .subscription, value: .})
       | from_entries) as $met
    | ($sent | keys[]) as $id
    | ($sent[$id].last + $window / 1000) as $expiry
    | {subscription: $id, heartbeats: $sent[$id].n, last_sent: $sent[$id].last,
       expiry: $expiry, record_at: $rec[$id].at, record_ms: ms($rec[$id].at; $expiry),
       daemon_ms: (first($rec[$id].r.MESSAGE // ""
                   | capture("no heartbeat for (?<n>[0-9]+) ms \\(limit (?<l>[0-9]+) ms")
                   | (.n | tonumber) - (.l | tonumber)) // null),
       metric_ms: ms($met[$id].received; $expiry),
       metric_ms_low: ms($met[$id].zero_sent; $expiry),
       heartbeats_ok: ($sent[$id].n == $k),
       other_violations: [$records[] | select(.r.SSEMON_SUBSCRIPTION == $id
         and .r.SSEMON_CLASS != "heartbeat_missed") | .r.SSEMON_CLASS]}' \
    >"$dir/streams.jsonl"
  local bad
  bad=$(jq -s '[.[] | select(.heartbeats_ok | not)] | length' "$dir/streams.jsonl")
  [ "$(jq -s length "$dir/streams.jsonl")" -eq "$n" ] ||
    dbench_die "$phase: the server log does not show $n streams"
  [ "$bad" -eq 0 ] || dbench_die "$phase: $bad streams did not send exactly $heartbeats heartbeats"
}

# Summary of one measure over the streams of one phase: a JSON line.
lat_summary() {
  local phase=$1 field=$2 what=$3
  jq -s -c --arg phase "$phase" --arg field "$field" --arg what "$what" \
    --argjson spread "$spread" --argjson poll "$poll_ms" --argjson background "$background" \
    --argjson scrape "$scrape_ms" --argjson probes "$probes" '
    def rank($p): .[(((length * $p) | ceil) - 1) | if . < 0 then 0 else . end];
    (map(.[$field]) | map(select(. != null)) | sort) as $v
    | {bench: "daemon-latency", phase: $phase, measure: $what, streams: length,
       measured: ($v | length), spread_ms: $spread,
       background_streams: (if $phase != "metric" then $background else 0 end),
       probes: (if $phase == "journal-probes" then $probes else 0 end),
       scrape_ms: (if $phase != "metric" and $scrape > 0 then $scrape else null end),
       poll_ms: (if $phase == "metric" then $poll else null end),
       min_ms: $v[0], p50_ms: ($v | rank(0.5)), p90_ms: ($v | rank(0.9)),
       p99_ms: ($v | rank(0.99)), max_ms: $v[-1],
       mean_ms: (if ($v | length) > 0 then (($v | add) / ($v | length) * 1000 | round) / 1000
                 else null end),
       other_violations: (map(.other_violations | length) | add)}' \
    "$dbench_work/$phase/streams.jsonl"
}

if [ "$probes" -gt 0 ] && [ "$probe_order" = first ]; then
  lat_phase journal-probes "$streams" no "$background" "$probes"
fi
lat_phase journal "$streams" no "$background"
if [ "$probes" -gt 0 ] && [ "$probe_order" = last ]; then
  lat_phase journal-probes "$streams" no "$background" "$probes"
fi
if [ "$metric_streams" -gt 0 ]; then
  lat_phase metric "$metric_streams" yes 0
fi

{
  lat_summary journal record_ms "journal record (stderr line read)"
  lat_summary journal daemon_ms "the daemon's own count: gap it reports - limit"
  if [ "$probes" -gt 0 ]; then
    lat_summary journal-probes record_ms "journal record (stderr line read)"
    lat_summary journal-probes daemon_ms "the daemon's own count: gap it reports - limit"
    jq -c --argjson l0 "$(cat "$dbench_work/journal/loadavg")" \
      --argjson l1 "$(cat "$dbench_work/journal-probes/loadavg")" \
      --argjson c0 "$(cat "$dbench_work/journal/cpu")" \
      --argjson c1 "$(cat "$dbench_work/journal-probes/cpu")" \
      '{bench: "daemon-latency", phase: "journal-probes", probe_runs: .,
        load_at_start: {journal: $l0, "journal-probes": $l1},
        daemon_cpu_pct: {journal: $c0, "journal-probes": $c1}}' \
      "$dbench_work/journal-probes/probes.json"
  fi
  if [ "$metric_streams" -gt 0 ]; then
    lat_summary metric record_ms "journal record (stderr line read)"
    lat_summary metric metric_ms "metric non-zero (response received)"
    lat_summary metric metric_ms_low "metric non-zero (lower bound: last 0 fetch sent)"
    jq -c 'select(.summary) | {bench: "daemon-latency", phase: "metric", metrics_polling: .}' \
      "$dbench_work/metric/metrics.jsonl"
  fi
} >"$raw"

probe_note=
if [ "$probes" -gt 0 ]; then
  probe_note="s (both); $probes probes every 10 s in the journal-probes phase"
fi
echo "## Daemon detection latency ($(date -u '+%Y-%m-%d'))"
echo
echo "$machine"
echo
echo "Window: interval $((hb_ms / 1000)) s x tolerance $tolerance; $heartbeats heartbeats per stream;" \
  "expiries spread over $spread ms; $background background streams in the journal phase${probe_note}." \
  "Latency from window expiry, in ms (nearest-rank percentiles)."
if [ "$scrape_ms" -gt 0 ] && [ -s "$dbench_work/journal/scrapes" ]; then
  # Per document: fetches, p50 and max time (ms), last size.
  scrape_stats() {
    awk -v p="$1" '$1 == p { print $2 * 1000, $3 }' "$dbench_work/journal/scrapes" | sort -n |
      awk '{ t[NR] = $1; b = $2 } END { printf "%d fetches, p50 %.1f ms, max %.1f ms, %d bytes",
             NR, t[int((NR + 1) / 2)], t[NR], b }'
  }
  echo "During the journal phase (from the daemon's start, so through the connection storm)," \
    "/metrics and /status were fetched in rounds $scrape_ms ms apart: /metrics $(scrape_stats /metrics);" \
    "/status $(scrape_stats /status)."
fi
echo
jq -s -r '
  "| phase | measure | streams | min | p50 | p90 | p99 | max | other violations |",
  "|---|---|--:|--:|--:|--:|--:|--:|--:|",
  (.[] | select(.measure != null)
   | "| \(.phase) | \(.measure) | \(.measured)/\(.streams) | \(.min_ms) | \(.p50_ms) | \(.p90_ms) | \(.p99_ms) | \(.max_ms) | \(.other_violations) |")
' "$raw"
jq -r 'select(.metrics_polling) | .metrics_polling
  | "\n/metrics fetched \(.polls) times (\(.failed_polls) failed before the endpoint listened); one fetch: p50 \(.poll_ms_p50) ms, max \(.poll_ms_max) ms, \(.bytes_last) bytes."' "$raw"
echo
jq -r -s '.[] | select(.measure != null and (.measure | startswith("metric non-zero (lower") | not)
                 and (.measure | startswith("the daemon") | not))
  | "Target p99 <= 50 ms, \(.phase) phase, \(.measure): \(if .p99_ms <= 50 then "met" else "MISSED" end) (p99 \(.p99_ms) ms)."' "$raw"
if [ "$probes" -gt 0 ]; then
  jq -r -s --arg order "$(if [ "$probe_order" = first ]; then echo first; else echo second; fi)" '(map(select(.probe_runs)) | .[0].probe_runs) as $r
    | (map(select(.measure != null and (.measure | startswith("journal record"))))
       | map({key: .phase, value: .p99_ms}) | from_entries) as $p
    | (map(select(.probe_runs)) | .[0].load_at_start) as $l
    | (map(select(.probe_runs)) | .[0].daemon_cpu_pct) as $c
    | "\nProbes in the journal-probes phase: \($r.probes) probes, \($r.runs) runs, \($r.failures) failed,"
      + " \($r.skipped) skipped. Load average (1 min) at the start of each phase: \($l.journal) without,"
      + " \($l["journal-probes"]) with probes. The daemon'"'"'s CPU over its phase (from its start):"
      + " \($c.journal) % of one core without, \($c["journal-probes"]) % with probes. Record p99 without probes \($p.journal) ms, with \($p["journal-probes"]) ms"
      + " (back to back, same invocation, probes \($order)): \((($p["journal-probes"] / $p.journal - 1) * 1000 | round) / 10) %;"
      + " target within 10 %: \(if $p["journal-probes"] <= $p.journal * 1.1 then "met" else "MISSED" end)."' "$raw"
fi
dbench_say "raw results: $raw; per stream: $dbench_work/*/streams.jsonl"
