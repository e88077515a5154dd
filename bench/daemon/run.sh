#!/usr/bin/env bash
# The daemon at scale (issue 4, part 10): one `ssemon run` holding
# BENCH_SUBS subscriptions (default 10,000), each a Flask version stream
# (tests/scenarios/version-stream.scn, a heartbeat every second) from test
# servers over loopback. Once every subscription has connected, measures
# for BENCH_MEASURE_S seconds (default 60), with nothing asking the daemon
# anything: its CPU (utime + stime from /proc/PID/stat) and RSS (VmRSS);
# then the time curl takes for BENCH_HTTP_REQUESTS (default 20) GET /status
# and as many GET /metrics, and, as the reference, as many GETs of a static
# body as large as /metrics from a minimal server (bench/daemon/refserver.py)
# under the same load. The test servers' CPU is reported for context.
# See docs/benchmarks.md, "Daemon".
#
#   BENCH_SUBS            subscriptions (default 10000)
#   BENCH_MEASURE_S       length of the quiet measurement window (default 60)
#   BENCH_HTTP_REQUESTS   requests per endpoint (default 20)
#   BENCH_RAMP_TIMEOUT_S  how long all subscriptions may take to connect (120)
#   BENCH_SERVERS         test servers to spread the streams over (default 4;
#                         more are started when the ephemeral ports need it)
#   BENCH_PERF            auto (profile when a target is missed, default),
#                         1 (always) or 0 (never): perf record -p PID
#   BENCH_CMAKE_ARGS      extra configure arguments (word-split)
#   BENCH_HISTOGRAMS      the configuration's "metrics": {"histograms"} to
#                         time GET /metrics with: subscription (default),
#                         contract, none, none-sparse (none with "zeros":
#                         false, the large-deployment setting), a list of
#                         them (comma or space separated) or all. The daemon
#                         starts with the
#                         first; each next one is applied by a reload
#                         (SIGHUP, the subscriptions keep streaming) and
#                         timed the same way (size and time per setting).
# Prints a markdown table on stdout; one JSON line goes to
# bench/results/daemon-STAMP.jsonl; logs and profiles stay in
# build-bench/bench-daemon/run/.
set -euo pipefail

dbench_name=bench/daemon/run.sh
# shellcheck source=bench/daemon/lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

subs=${BENCH_SUBS:-10000}
measure=${BENCH_MEASURE_S:-60}
requests=${BENCH_HTTP_REQUESTS:-20}
ramp_timeout=${BENCH_RAMP_TIMEOUT_S:-120}
perf_mode=${BENCH_PERF:-auto}
perf_s=15
min_servers=${BENCH_SERVERS:-4}
dbench_range subs 1 100000 BENCH_SUBS
dbench_range measure 5 3600 BENCH_MEASURE_S
dbench_range requests 1 1000 BENCH_HTTP_REQUESTS
dbench_range ramp_timeout 1 3600 BENCH_RAMP_TIMEOUT_S
dbench_range min_servers 1 64 BENCH_SERVERS
case $perf_mode in auto | 0 | 1) ;; *) dbench_die "BENCH_PERF must be auto, 0 or 1" ;; esac
hist_list=${BENCH_HISTOGRAMS:-subscription}
[ "$hist_list" = all ] && hist_list="subscription contract none none-sparse"
read -r -a hists <<<"${hist_list//,/ }"
[ "${#hists[@]}" -ge 1 ] || dbench_die "BENCH_HISTOGRAMS is empty"
for h in "${hists[@]}"; do
  case $h in
  subscription | contract | none | none-sparse) ;;
  *) dbench_die "BENCH_HISTOGRAMS: \"$h\" is not subscription, contract, none, none-sparse or all" ;;
  esac
done

dbench_need cmake ninja jq curl awk
[ "$perf_mode" = 0 ] || command -v perf >/dev/null ||
  dbench_say "perf is not installed: no profile will be taken (apt-get install linux-perf)"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
trap dbench_cleanup EXIT
trap 'exit 130' INT TERM
dbench_build_all
dbench_workdir run
w=$dbench_work
mkdir -p "$dbench_results"
raw="$dbench_results/daemon-$dbench_stamp.jsonl"
machine=$(dbench_machine)
clk_tck=$(getconf CLK_TCK)

# ---- descriptors: each process holds one socket per subscription
dbench_raise_nofile $((subs + 1024))

# ---- ephemeral ports: one per connection and destination; leave 2,000 to
# the rest of the machine and spread the subscriptions over enough servers
read -r port_lo port_hi </proc/sys/net/ipv4/ip_local_port_range
port_cap=$((port_hi - port_lo + 1 - 2000))
[ "$port_cap" -ge 1000 ] ||
  dbench_die "net.ipv4.ip_local_port_range ($port_lo-$port_hi) leaves too few ephemeral ports"
nservers=$(((subs + port_cap - 1) / port_cap))
[ "$nservers" -ge "$min_servers" ] || nservers=$min_servers
dbench_say "$subs subscriptions; ephemeral ports $port_lo-$port_hi; $nservers test server(s)"

server_pids=()
server_ports=()
for ((s = 0; s < nservers; s++)); do
  dbench_start_server "$w/server-$s.err" --dir "$dbench_root/tests/scenarios" \
    --route '/api/utils/version/stream=version-stream'
  server_pids+=("$dbench_srv_pid")
  server_ports+=("$dbench_srv_port")
done

# ---- configuration
# The configuration's "metrics" object for a setting of BENCH_HISTOGRAMS.
metrics_json() {
  case $1 in
  none-sparse) printf '{"histograms": "none", "zeros": false}' ;;
  *) printf '{"histograms": "%s"}' "$1" ;;
  esac
}

status_port=$("$dbench_probe" freeport)
base="http://127.0.0.1:$status_port"
cfg="$w/ssemon.json"
{
  printf '{\n  "status": {"listen": "127.0.0.1:%s"},\n' "$status_port"
  printf '  "contracts_dir": "%s",\n' "$dbench_root/etc/ssemon/contracts"
  printf '  "defaults": {"heartbeat_tolerance": 2},\n'
  printf '  "metrics": %s,\n' "$(metrics_json "${hists[0]}")"
  printf '  "subscriptions": [\n'
  sep=
  for ((i = 0; i < subs; i++)); do
    printf -v name 'hb-%05d' "$i"
    printf '%s    {"name": "%s", "url": "http://127.0.0.1:%s/api/utils/version/stream?request_id=%s&hb_ms=1000", "contract": "version-stream", "vars": {"request_id": "%s"}, "heartbeat_interval_s": 1}' \
      "$sep" "$name" "${server_ports[i % nservers]}" "$name" "$name"
    sep=$',\n'
  done
  printf '\n  ]\n}\n'
} >"$cfg"
"$dbench_ssemon" check-config -c "$cfg" >/dev/null ||
  dbench_die "the generated configuration is refused ($cfg)"

# ---- the daemon's own size: the same binary with no subscription at all
printf '{"status": {"listen": "127.0.0.1:0"}, "subscriptions": []}\n' >"$w/empty.json"
"$dbench_ssemon" run -c "$w/empty.json" --log-target stderr 2>"$w/empty.err" &
empty_pid=$!
dbench_pids+=("$empty_pid")
sleep 1
dbench_alive "$empty_pid" || dbench_die "the daemon does not start (see $w/empty.err)"
rss_empty=$(dbench_kib "$empty_pid" VmRSS)
dbench_stop "$empty_pid" 10 || true

# ---- the daemon, and the ramp until every subscription streams
# Nothing asks the daemon for its full state until the quiet window is over:
# at this scale a /metrics or /status render is itself a load (see the
# results). Progress is read from its records on stderr instead, and from
# /status/NAME of a sample of subscriptions.
journal_id() {
  sed -n "s/^#define JOURNAL_ID_$1 \"\\([0-9a-f]*\\)\".*/\\1/p" \
    "$dbench_root/include/ssemon/io/journal_ids.h"
}
id_connected=$(journal_id CONNECTED)
id_lost=$(journal_id LOST)
id_reloaded=$(journal_id RELOADED)
if [ -z "$id_connected" ] || [ -z "$id_lost" ] || [ -z "$id_reloaded" ]; then
  dbench_die "cannot read the lifecycle MESSAGE_IDs from include/ssemon/io/journal_ids.h"
fi
count_lines() {
  grep -c -- "$1" "$w/daemon.err" || true
}
count_violations() {
  grep -cE '"SSEMON_SEVERITY": ?"' "$w/daemon.err" || true
}
sample=()
for ((i = 0; i < 10 && i < subs; i++)); do
  printf -v name 'hb-%05d' $((i * subs / (subs < 10 ? subs : 10)))
  sample+=("$name")
done
# The sample's events and violations, summed, and how many of it stream:
# "EVENTS VIOLATIONS STREAMING".
sample_status() {
  local n doc e v s ev=0 vi=0 st=0
  for n in "${sample[@]}"; do
    doc=$(curl -sf --max-time 10 "$base/status/$n") || dbench_die "GET /status/$n failed"
    read -r e v s < <(jq -r '"\(.events) \(.violations.total) \(.state)"' <<<"$doc")
    ev=$((ev + e))
    vi=$((vi + v))
    [ "$s" = streaming ] && st=$((st + 1))
  done
  echo "$ev $vi $st"
}

t_start=$EPOCHREALTIME
"$dbench_ssemon" run -c "$cfg" --log-target stderr 2>"$w/daemon.err" &
daemon_pid=$!
dbench_pids+=("$daemon_pid")

dbench_say "waiting until all $subs subscriptions have connected (at most $ramp_timeout s)"
up=0
deadline=$((SECONDS + ramp_timeout))
while [ "$SECONDS" -lt "$deadline" ]; do
  dbench_alive "$daemon_pid" || dbench_die "the daemon exited (see $w/daemon.err)"
  up=$(count_lines "$id_connected")
  [ "$up" -ge "$subs" ] && break
  sleep 0.5
done
[ "$up" -ge "$subs" ] || dbench_die "only $up of $subs subscriptions connected after $ramp_timeout s"
ramp_s=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
dbench_say "all connected after $ramp_s s; settling 5 s, then measuring for $measure s"
sleep 5

# ---- quiet window: nothing but the streams
server_ticks() {
  local p t=0
  for p in "${server_pids[@]}"; do t=$((t + $(dbench_ticks "$p"))); done
  echo "$t"
}
read -r ev0 _ _ < <(sample_status)
v0=$(count_violations)
l0=$(count_lines "$id_lost")
d0=$(dbench_ticks "$daemon_pid")
s0=$(server_ticks)
t0=$EPOCHREALTIME
rss_max=0
end=$((SECONDS + measure))
while [ "$SECONDS" -lt "$end" ]; do
  dbench_alive "$daemon_pid" || dbench_die "the daemon exited during the measurement"
  r=$(dbench_kib "$daemon_pid" VmRSS)
  [ "$r" -gt "$rss_max" ] && rss_max=$r
  sleep 5
done
d1=$(dbench_ticks "$daemon_pid")
s1=$(server_ticks)
t1=$EPOCHREALTIME
rss=$(dbench_kib "$daemon_pid" VmRSS)
[ "$rss" -gt "$rss_max" ] && rss_max=$rss
rss_anon=$(dbench_kib "$daemon_pid" RssAnon)
server_rss=0
for p in "${server_pids[@]}"; do server_rss=$((server_rss + $(dbench_kib "$p" VmRSS))); done
v1=$(count_violations)
l1=$(count_lines "$id_lost")
read -r ev1 _ sample_up < <(sample_status)
violations=$((v1 - v0))
lost=$((l1 - l0))

# ---- the status endpoint, still under the full load of streams
# Writes "TIME_TOTAL SIZE CODE TIME_TO_FIRST_BYTE" per request (CODE 000
# when curl failed; curl's message goes to OUT.err). The daemon sends both
# documents in slices as it renders them (HTTP/1.1, chunked), so the time to
# the first byte is the time to the first slice, and the total is the
# target.
http_times() {
  local url=$1 out=$2 i line
  : >"$out"
  : >"$out.err"
  for ((i = 0; i < requests; i++)); do
    line=$(curl -sS -o /dev/null --max-time 30 \
      -w '%{time_total} %{size_download} %{http_code} %{time_starttransfer}' \
      "$url" 2>>"$out.err") || true
    echo "${line:-30 0 000 30}" >>"$out"
    sleep 0.25
  done
}
dbench_say "timing $requests GET /status and $requests GET /metrics"
v2=$(count_violations)
http_times "$base/status" "$w/http-status.txt"
http_times "$base/metrics" "$w/http-metrics.txt"
v3=$(count_violations)
http_violations=$((v3 - v2))
ok_times() { awk -v c="$2" '$3 == 200 { print $c }' "$1" | dbench_p50_max_ms; }
failed() { awk '$3 != 200' "$1" | wc -l; }

# ---- the reference, under the same load: a static body as large as the
# last /metrics, from a minimal server that writes a prebuilt response in
# one sendall (bench/daemon/refserver.py). Its times are what moving that
# many bytes to curl over loopback costs here and now, whoever renders them.
ref_bytes=$(awk '$3 == 200 { b = $2 } END { print b + 0 }' "$w/http-metrics.txt")
ref_p50=null
ref_max=null
if [ "$ref_bytes" -gt 0 ] && command -v python3 >/dev/null; then
  ref_port=$("$dbench_probe" freeport)
  python3 "$dbench_here/refserver.py" "$ref_port" "$ref_bytes" 2>"$w/refserver.err" &
  ref_pid=$!
  dbench_pids+=("$ref_pid")
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$ref_port/" && break
    sleep 0.1
  done
  dbench_say "timing $requests GET of the reference ($ref_bytes bytes)"
  http_times "http://127.0.0.1:$ref_port/" "$w/http-reference.txt"
  dbench_stop "$ref_pid" 5 || true
  read -r ref_p50 ref_max _ < <(ok_times "$w/http-reference.txt" 1)
else
  dbench_say "no reference timing (python3 missing or /metrics failed)"
fi
# ---- /metrics with each further histogram setting: the configuration
# rewritten with it, applied by a reload (the subscriptions are unchanged,
# so they keep their streams), then timed like the first.
cp "$w/http-metrics.txt" "$w/http-metrics-${hists[0]}.txt"
for h in "${hists[@]:1}"; do
  sed -i "s/^  \"metrics\": .*/  \"metrics\": $(metrics_json "$h"),/" "$cfg"
  "$dbench_ssemon" check-config -c "$cfg" >/dev/null || dbench_die "the configuration with $h is refused"
  r0=$(count_lines "$id_reloaded")
  kill -HUP "$daemon_pid"
  deadline=$((SECONDS + 60))
  while [ "$(count_lines "$id_reloaded")" -le "$r0" ]; do
    dbench_alive "$daemon_pid" || dbench_die "the daemon exited on the reload to $h"
    [ "$SECONDS" -lt "$deadline" ] || dbench_die "no reload record 60 s after SIGHUP ($h)"
    sleep 0.2
  done
  dbench_say "reloaded with \"metrics\": $(metrics_json "$h"); timing $requests GET /metrics"
  http_times "$base/metrics" "$w/http-metrics-$h.txt"
done
hist_json='{}'
hist_rows=()
for h in "${hists[@]}"; do
  f="$w/http-metrics-$h.txt"
  read -r h_p50 h_max _ < <(ok_times "$f" 1)
  h_failed=$(failed "$f")
  h_bytes=$(awk '$3 == 200 { b = $2 } END { print b + 0 }' "$f")
  hist_json=$(jq -c --arg h "$h" --argjson p50 "$h_p50" --argjson max "$h_max" \
    --argjson bytes "$h_bytes" --argjson failed "$h_failed" \
    '. + {($h): {p50_ms: $p50, max_ms: $max, bytes: $bytes, failed: $failed}}' <<<"$hist_json")
  size_ok=$([ "$h_bytes" -gt 0 ] && [ "$h_bytes" -lt 10000000 ] && echo met || echo MISSED)
  h_mb=$(awk -v b="$h_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
  if [ "$h" = "${hists[0]}" ]; then
    first_size="$h_mb MB, < 10 MB: $size_ok"
  else
    hist_rows+=("| GET /metrics after a reload to \"histograms\": \"$h\", p50 / max of $requests ($h_failed failed) | $h_p50 / $h_max ms ($h_bytes bytes) | $h_mb MB, < 10 MB: $size_ok |")
  fi
done

read -r st_p50 st_max _ < <(ok_times "$w/http-status.txt" 1)
read -r me_p50 me_max _ < <(ok_times "$w/http-metrics.txt" 1)
read -r st_fb50 st_fbmax _ < <(ok_times "$w/http-status.txt" 4)
read -r me_fb50 me_fbmax _ < <(ok_times "$w/http-metrics.txt" 4)
st_failed=$(failed "$w/http-status.txt")
me_failed=$(failed "$w/http-metrics.txt")
st_bytes=$(awk '$3 == 200 { b = $2 } END { print b + 0 }' "$w/http-status.txt")
me_bytes=$(awk '$3 == 200 { b = $2 } END { print b + 0 }' "$w/http-metrics.txt")
rss_after_http=$(dbench_kib "$daemon_pid" VmRSS)
hwm=$(dbench_kib "$daemon_pid" VmHWM)

read -r cpu_pct server_pct window_s < <(awk -v a="$d0" -v b="$d1" -v c="$s0" -v d="$s1" \
  -v t0="$t0" -v t1="$t1" -v hz="$clk_tck" \
  'BEGIN { printf "%.2f %.2f %.1f\n", (b - a) / hz / (t1 - t0) * 100, (d - c) / hz / (t1 - t0) * 100, t1 - t0 }')
rss_per_sub=$(awk -v r="$rss" -v n="$subs" 'BEGIN { printf "%.1f", r / n }')
rss_growth=$(awk -v r="$rss" -v e="$rss_empty" -v n="$subs" 'BEGIN { printf "%.1f", (r - e) / n }')
events_per_sub_s=$(awk -v a="$ev0" -v b="$ev1" -v n="${#sample[@]}" -v t="$window_s" \
  'BEGIN { printf "%.2f", (b - a) / n / t }')
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "null" && a <= b) ? "true" : "false" }'; }
st_ok=$([ "$st_failed" -eq 0 ] && le "$st_max" 100 || echo false)
me_ok=$([ "$me_failed" -eq 0 ] && le "$me_max" 100 || echo false)
cpu_ok=$(le "$cpu_pct" 25)
rss_ok=$(le "$rss_per_sub" 64)
http_ok=$([ "$st_ok" = true ] && [ "$me_ok" = true ] && echo true || echo false)

# ---- profiles, when asked for or when a target is missed
profile() {
  local what=$1 out="$w/perf-$1"
  shift
  dbench_say "profiling the daemon ($what)"
  # DWARF unwinding: the Release build has no frame pointers.
  perf record -q -F 499 --call-graph dwarf,16384 -p "$daemon_pid" -o "$out.data" -- "$@" \
    >/dev/null 2>"$out.err" || {
    dbench_say "perf record failed (see $out.err)"
    return 0
  }
  {
    echo "self time, by library and symbol:"
    perf report -i "$out.data" --no-children --sort dso,sym --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -20
    echo
    echo "ssemon's functions, time including callees:"
    perf report -i "$out.data" --children --sort dso,sym --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+% +[0-9.]+% +ssemon ' | head -15
  } >"$out.txt" || true
}
profiles=()
if command -v perf >/dev/null && [ "$perf_mode" != 0 ]; then
  if [ "$perf_mode" = 1 ] || [ "$cpu_ok" != true ]; then
    profile steady sleep "$perf_s"
    profiles+=(steady)
  fi
  if [ "$perf_mode" = 1 ] || [ "$http_ok" != true ]; then
    profile http bash -c "for i in 1 2 3; do curl -s -o /dev/null '$base/status';
      curl -s -o /dev/null '$base/metrics'; done"
    profiles+=(http)
  fi
fi

# ---- stop: the issue wants an exit within 5 s of SIGTERM
stop_ok=true
dbench_stop "$daemon_pid" 10 || stop_ok=false
stop_s=$dbench_stopped_s
stop5_ok=$([ "$stop_ok" = true ] && [ "$(le "$stop_s" 5)" = true ] && echo true || echo false)
for p in "${server_pids[@]}"; do dbench_stop "$p" 10 || true; done

# Records the daemon wrote over the whole run: violations by class, other
# entries by the name of their MESSAGE_ID in include/ssemon/io/journal_ids.h.
ids=$(sed -n 's/^#define JOURNAL_ID_\([A-Z_]*\) "\([0-9a-f]*\)".*/\2 \1/p' \
  "$dbench_root/include/ssemon/io/journal_ids.h" | jq -R -s -c '
  [split("\n")[] | select(length > 0) | split(" ") | {key: .[0], value: (.[1] | ascii_downcase)}]
  | from_entries')
jq -R -r --argjson ids "$ids" 'fromjson? | (.SSEMON_CLASS // $ids[.MESSAGE_ID] // .MESSAGE_ID)' \
  "$w/daemon.err" | sort | uniq -c |
  awk '{ printf "%s%s: %s", (NR > 1 ? ", " : ""), $2, $1 }' >"$w/records.txt" || true

jq -n -c \
  --argjson subs "$subs" --argjson servers "$nservers" --argjson ramp_s "$ramp_s" \
  --argjson window_s "$window_s" --argjson cpu_pct "$cpu_pct" --argjson server_cpu_pct "$server_pct" \
  --argjson rss_kib "$rss" --argjson rss_max_kib "$rss_max" --argjson rss_anon_kib "$rss_anon" \
  --argjson rss_after_http_kib "$rss_after_http" --argjson hwm_kib "$hwm" \
  --argjson rss_per_sub_kib "$rss_per_sub" --argjson server_rss_kib "$server_rss" \
  --argjson rss_empty_kib "$rss_empty" --argjson rss_growth_kib "$rss_growth" \
  --argjson sample_n "${#sample[@]}" --argjson sample_up "$sample_up" \
  --argjson events_per_sub_s "$events_per_sub_s" --argjson lost "$lost" \
  --argjson violations "$violations" --argjson http_violations "$http_violations" \
  --argjson status_failed "$st_failed" --argjson metrics_failed "$me_failed" \
  --argjson status_p50_ms "$st_p50" --argjson status_max_ms "$st_max" --argjson status_bytes "$st_bytes" \
  --argjson metrics_p50_ms "$me_p50" --argjson metrics_max_ms "$me_max" --argjson metrics_bytes "$me_bytes" \
  --argjson reference_p50_ms "$ref_p50" --argjson reference_max_ms "$ref_max" \
  --argjson status_ttfb_p50_ms "$st_fb50" --argjson status_ttfb_max_ms "$st_fbmax" \
  --argjson metrics_ttfb_p50_ms "$me_fb50" --argjson metrics_ttfb_max_ms "$me_fbmax" \
  --argjson requests "$requests" --argjson stop_s "$stop_s" --argjson stop5_ok "$stop5_ok" \
  --argjson cpu_ok "$cpu_ok" --argjson rss_ok "$rss_ok" --argjson http_ok "$http_ok" \
  --arg records "$(cat "$w/records.txt")" --arg stamp "$dbench_stamp" \
  --argjson metrics_by_histograms "$hist_json" \
  '{bench: "daemon", stamp: $stamp, subscriptions: $subs, test_servers: $servers, ramp_s: $ramp_s,
    window_s: $window_s, cpu_pct_one_core: $cpu_pct, rss_kib: $rss_kib, rss_max_kib: $rss_max_kib,
    rss_anon_kib: $rss_anon_kib, rss_per_sub_kib: $rss_per_sub_kib,
    rss_no_subscription_kib: $rss_empty_kib, rss_growth_per_sub_kib: $rss_growth_kib,
    rss_after_http_kib: $rss_after_http_kib, vm_hwm_kib: $hwm_kib,
    sample: $sample_n, sample_streaming_at_end: $sample_up,
    sample_events_per_sub_s: $events_per_sub_s, streams_lost_in_window: $lost,
    violations_in_window: $violations, violations_during_http: $http_violations,
    http_requests: $requests, status_failed: $status_failed, metrics_failed: $metrics_failed,
    status_p50_ms: $status_p50_ms, status_max_ms: $status_max_ms, status_bytes: $status_bytes,
    metrics_p50_ms: $metrics_p50_ms, metrics_max_ms: $metrics_max_ms, metrics_bytes: $metrics_bytes,
    metrics_by_histograms: $metrics_by_histograms,
    reference_p50_ms: $reference_p50_ms, reference_max_ms: $reference_max_ms,
    status_ttfb_p50_ms: $status_ttfb_p50_ms, status_ttfb_max_ms: $status_ttfb_max_ms,
    metrics_ttfb_p50_ms: $metrics_ttfb_p50_ms, metrics_ttfb_max_ms: $metrics_ttfb_max_ms,
    server_cpu_pct_one_core: $server_cpu_pct, server_rss_kib: $server_rss_kib,
    sigterm_exit_s: $stop_s, records: $records,
    targets: {cpu: $cpu_ok, rss_per_sub: $rss_ok, http: $http_ok, sigterm_5s: $stop5_ok}}' \
  >"$raw"

yn() { [ "$1" = true ] && echo met || echo MISSED; }
echo "## Daemon at $subs subscriptions ($(date -u '+%Y-%m-%d'))"
echo
echo "$machine"
echo
echo "Ramp: all $subs connected $ramp_s s after start ($nservers test server(s))." \
  "Quiet window: $window_s s."
echo
echo "| measure | value | target |"
echo "|---|--:|---|"
echo "| ssemon CPU, % of one core | $cpu_pct | <= 25: $(yn "$cpu_ok") |"
echo "| ssemon RSS (VmRSS at end of window) | $((rss / 1024)) MiB ($rss KiB; anon $rss_anon KiB) | |"
echo "| RSS / subscription | $rss_per_sub KiB | <= 64 KiB: $(yn "$rss_ok") |"
echo "| (RSS - RSS with no subscription ($rss_empty KiB)) / subscription | $rss_growth KiB | |"
echo "| GET /status, p50 / max of $requests ($st_failed failed) | $st_p50 / $st_max ms ($st_bytes bytes) | <= 100 ms: $(yn "$st_ok") |"
echo "| GET /metrics (\"histograms\": \"${hists[0]}\"), p50 / max of $requests ($me_failed failed) | $me_p50 / $me_max ms ($me_bytes bytes) | <= 100 ms: $(yn "$me_ok"); $first_size |"
for row in "${hist_rows[@]}"; do echo "$row"; done
echo "| reference: GET of a static body of the same size from a minimal server, p50 / max | $ref_p50 / $ref_max ms | context |"
echo "| time to first byte (first slice), /status p50 / max | $st_fb50 / $st_fbmax ms | |"
echo "| time to first byte (first slice), /metrics p50 / max | $me_fb50 / $me_fbmax ms | |"
echo "| RSS after the requests / peak (VmHWM) | $rss_after_http / $hwm KiB | |"
echo "| events per subscription per s in the window (sample of ${#sample[@]}) | $events_per_sub_s | ~1 |"
echo "| violation records in the window / streams lost | $violations / $lost | 0 expected |"
echo "| violation records while the $((2 * requests)) requests ran | $http_violations | 0 expected |"
echo "| sample streaming at the end of the window | $sample_up / ${#sample[@]} | |"
echo "| test server(s) CPU, % of one core | $server_pct (RSS $((server_rss / 1024)) MiB) | context |"
echo "| exit after SIGTERM | $stop_s s | <= 5 s: $(yn "$stop5_ok") |"
echo
echo "Records on stderr over the whole run (class or MESSAGE_ID: count): $(cat "$w/records.txt")"
for p in "${profiles[@]}"; do
  echo
  echo "Profile ($p; perf record --call-graph dwarf -p PID):"
  echo
  echo '```'
  cat "$w/perf-$p.txt" 2>/dev/null || true
  echo '```'
done
dbench_say "raw results: $raw; logs: $w"
