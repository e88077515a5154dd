#!/usr/bin/env bash
# The soak (issue 12, section 6): one `ssemon run` holding 1,000
# subscriptions over a mix of healthy and failing streams (bench/soak/mix.tsv:
# healthy and gateway streams, tasks that end, streams that end early or
# stall, servers that never answer, refused connections, 500, 404, garbage,
# huge lines, broken chunking, redirect loops, a wrong content type), all
# from the scripted test server on 127.0.0.1. After a warm-up it samples,
# at a fixed interval, the daemon's RSS, open descriptors, CLOSE_WAIT
# sockets and CPU, and the time GET /status and GET /metrics take.
#
# Evidence is on (issue 14, section 1): files in the work directory, with
# caps (a flight recorder of 16 events or 16 KiB, 2 files a subscription,
# 1 MiB in all) small enough that every bounded structure is full before
# the first sample, so the measured minutes run the eviction paths.
#
# It fails when the daemon dies, when a /status or /metrics request fails,
# when the open descriptors grow (the median of the last quarter of the
# samples above the largest count of the first quarter), or when the RSS
# grows more than 2 % between the first and the last quarter (medians).
#
# usage: bench/soak/run.sh [--short | --long] [--build DIR] [--subs N]
#   --short      CI: 30 s warm-up, then 2 minutes sampled every 5 s
#   --long       (default) 60 s warm-up, then 1 hour sampled every 30 s
#   --build DIR  a build tree with ssemon and sse_testserver (default build/
#                of the source tree, configured RelWithDebInfo and brought
#                up to date with ninja)
#   --subs N     subscriptions (default 1000; the mix is scaled)
# SOAK_WARMUP_S, SOAK_DURATION_S and SOAK_INTERVAL_S override the mode's
# times (seconds). Prints a markdown summary on stdout; the samples and the
# summary go to bench/results/soak-MODE-STAMP.{jsonl,json}; logs stay in
# BUILD/bench-soak/. See docs/benchmarks.md, "Soak".
set -euo pipefail

dbench_name=bench/soak/run.sh
soak_here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/daemon/lib.sh
. "$soak_here/../daemon/lib.sh"

mode=long
build=
subs=1000
while [ $# -gt 0 ]; do
  case $1 in
  --short) mode=short; shift ;;
  --long) mode=long; shift ;;
  --build) build=${2-}; [ -n "$build" ] || dbench_die "--build wants a directory"; shift 2 ;;
  --subs) subs=${2-}; shift 2 ;;
  -h | --help) sed -n '/^# usage:/,/^# BUILD/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
  *) dbench_die "unknown argument '$1' (see --help)" ;;
  esac
done
if [ "$mode" = short ]; then
  warmup=${SOAK_WARMUP_S:-30} duration=${SOAK_DURATION_S:-120} interval=${SOAK_INTERVAL_S:-5}
else
  warmup=${SOAK_WARMUP_S:-60} duration=${SOAK_DURATION_S:-3600} interval=${SOAK_INTERVAL_S:-30}
fi
dbench_range subs 14 20000 --subs
dbench_range warmup 0 3600 SOAK_WARMUP_S
dbench_range duration 8 86400 SOAK_DURATION_S
dbench_range interval 1 3600 SOAK_INTERVAL_S
nsamples=$((duration / interval + 1))
[ "$nsamples" -ge 8 ] || dbench_die "SOAK_DURATION_S / SOAK_INTERVAL_S must give at least 8 samples"

dbench_need cmake ninja jq curl awk ss python3
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
trap dbench_cleanup EXIT
trap 'exit 130' INT TERM

# ---- the binaries
if [ -z "$build" ]; then
  build=$dbench_root/build
  [ -f "$build/CMakeCache.txt" ] ||
    cmake -S "$dbench_root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
    dbench_die "cmake could not configure $build"
fi
build=$(cd "$build" && pwd) || dbench_die "no build directory '$build'"
ninja -C "$build" ssemon sse_testserver >/dev/null || dbench_die "ssemon or sse_testserver does not build in $build"
dbench_build=$build
ssemon=$build/src/cmd/ssemon
dbench_server=$build/tests/server/sse_testserver
dbench_work=$build/bench-soak
rm -rf "$dbench_work"
mkdir -p "$dbench_work/scenarios" "$dbench_results"
w=$dbench_work
cp "$dbench_root"/tests/scenarios/*.scn "$soak_here"/scenarios/*.scn "$w/scenarios/"
stamp=$dbench_stamp
samples=$dbench_results/soak-$mode-$stamp.jsonl
result=$dbench_results/soak-$mode-$stamp.json
# dbench_machine names the Release flags; this tree may be of another type.
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
bflags=$(sed -n "s/^CMAKE_C_FLAGS_${btype^^}:[A-Z]*=//p" "$build/CMakeCache.txt")
machine=$(dbench_machine | sed "s|flags: .*|flags: ${bflags//|/\\|} (${btype:-no build type})|")
clk_tck=$(getconf CLK_TCK)
dbench_raise_nofile $((subs * 2 + 1024))

# ---- the servers: the test server, and a port bound by a socket that
# never listens, so a connection to it is refused for as long as the soak
# runs (nobody else can take the port meanwhile).
dbench_start_server "$w/server.err" --dir "$w/scenarios"
server_pid=$dbench_srv_pid
python3 -c '
import signal, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
signal.pause()
' "$w/refused.port" 2>"$w/refused.err" &
dbench_pids+=("$!")
for _ in $(seq 100); do
  [ -s "$w/refused.port" ] && break
  sleep 0.05
done
[ -s "$w/refused.port" ] || dbench_die "no port for the refused connections (see $w/refused.err)"
refused_port=$(cat "$w/refused.port")

# ---- the configuration: the mix, scaled to $subs
# Evidence is on, with caps small enough that every bounded structure
# reaches its bound during the warm-up, so that the eviction paths run all
# the time the memory is measured: each flight recorder (16 events or
# 16 KiB, where the default 64 or 256 KiB takes the 256 KiB lines' group
# minutes to fill), the evidence files (2 a subscription, 1 MiB in all, in
# the work directory). The violation rings (50 violations) need nothing:
# each allocates a 16 KiB budget whole at its subscription's first
# violation and grows (doubling, up to about 40 KiB) only when fifty of its
# entries do not fit (the soak's entries, 60 to 300 bytes packed when
# measured, fit fifty in 16 KiB).
soak_flight_events=16 soak_flight_bytes=16384 soak_evidence_total=1048576
cfg=$w/ssemon.json
groups=()
{
  printf '{\n  "status": {"listen": "127.0.0.1:0"},\n'
  printf '  "contracts_dir": "%s",\n' "$dbench_root/etc/ssemon/contracts"
  printf '  "evidence_dir": "%s/evidence", "evidence_max_bytes": %d, "evidence_max_files": 2,\n' "$w" \
    "$soak_evidence_total"
  printf '  "defaults": {"backoff_min_ms": 500, "backoff_max_ms": 5000,\n'
  printf '    "evidence_events": %d, "evidence_bytes": %d},\n' "$soak_flight_events" "$soak_flight_bytes"
  printf '  "subscriptions": [\n'
  sep="" task=0
  while IFS=$'\t' read -r count group path contract members; do
    case $count in '' | '#'*) continue ;; esac
    n=$((count * subs / 1000))
    [ "$n" -ge 1 ] || n=1
    groups+=("$group:$n")
    for ((i = 0; i < n; i++)); do
      printf -v name '%s-%04d' "$group" "$i"
      printf -v tid '00000000-0000-4000-8000-%012d' "$task"
      task=$((task + 1))
      if [ "$path" = refused ]; then
        url="http://127.0.0.1:$refused_port/s/version-stream"
      else
        url="http://127.0.0.1:$dbench_srv_port$path"
      fi
      m=${members//\{name\}/$name}
      url=${url//\{name\}/$name}
      printf '%s    {"name": "%s", "url": "%s", "contract": "%s", %s}' "$sep" "$name" \
        "${url//\{task\}/$tid}" "$contract" "${m//\{task\}/$tid}"
      sep=$',\n'
    done
  done <"$soak_here/mix.tsv"
  printf '\n  ]\n}\n'
} >"$cfg"
"$ssemon" check-config -c "$cfg" >/dev/null 2>"$w/check-config.err" ||
  dbench_die "the generated configuration is refused (see $w/check-config.err)"
total=$(jq '.subscriptions | length' "$cfg")

# ---- the daemon; its records (JSON lines) go to a file
"$ssemon" run -c "$cfg" --log-target stderr 2>"$w/daemon.err" &
pid=$!
dbench_pids+=("$pid")
port=
for _ in $(seq 200); do
  port=$(sed -n 's/.*"started: [0-9]* subscriptions\{0,1\}, status on 127\.0\.0\.1:\([0-9]*\)".*/\1/p' \
    "$w/daemon.err" | head -1)
  [ -n "$port" ] && break
  dbench_alive "$pid" || break
  sleep 0.05
done
[ -n "$port" ] || dbench_die "the daemon did not start (see $w/daemon.err)"
base=http://127.0.0.1:$port
dbench_say "$total subscriptions ($mode mode): warm-up $warmup s, then $duration s sampled every $interval s"
http() { # URL OUT: "CODE SECONDS SIZE", 000 when curl failed
  curl -sS -o "$2" --max-time 30 -w '%{http_code} %{time_total} %{size_download}\n' "$1" \
    2>>"$w/curl.err" || true
}
# The warm-up includes the status endpoint: its first /metrics allocates the
# rendering buffers (a step of about 1 % of RSS here), which must not fall
# between the first quarter and the last.
end_warmup=$((SECONDS + warmup))
next_scrape=$SECONDS
while [ "$SECONDS" -lt "$end_warmup" ]; do
  dbench_alive "$pid" || dbench_die "the daemon exited during the warm-up (see $w/daemon.err)"
  if [ "$SECONDS" -ge "$next_scrape" ]; then
    http "$base/status" /dev/null >/dev/null
    http "$base/metrics" /dev/null >/dev/null
    next_scrape=$((SECONDS + interval))
  fi
  sleep 1
done

# ---- sampling
# One JSON line per sample: seconds since the first sample, RSS (KiB), open
# descriptors, CLOSE_WAIT sockets, CPU (% of one core since the previous
# sample), the two requests' HTTP code and time (ms), and from /status the
# subscriptions streaming, events, violations and reconnects.
prev_ticks=$(dbench_ticks "$pid")
prev_t=$EPOCHREALTIME
t0=$EPOCHREALTIME
: >"$samples"
for ((k = 0; k < nsamples; k++)); do
  due=$(awk -v a="$t0" -v k="$k" -v i="$interval" 'BEGIN { printf "%.3f", a + k * i }')
  wait_s=$(awk -v d="$due" -v n="$EPOCHREALTIME" 'BEGIN { s = d - n; printf "%.3f", (s > 0 ? s : 0) }')
  sleep "$wait_s"
  dbench_alive "$pid" || dbench_die "the daemon exited during the soak (see $w/daemon.err)"
  now=$EPOCHREALTIME
  ticks=$(dbench_ticks "$pid")
  rss=$(dbench_kib "$pid" VmRSS)
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
  cw=$(ss -Htnp state close-wait | grep -c "pid=$pid," || true)
  read -r st_code st_s _ < <(http "$base/status" "$w/status.json")
  read -r me_code me_s me_bytes < <(http "$base/metrics" /dev/null)
  agg='{"streaming": 0, "events": 0, "violations": 0, "reconnects": 0}'
  if [ "$st_code" = 200 ]; then
    agg=$(jq -c '.subscriptions | {streaming: map(select(.state == "streaming")) | length,
      events: map(.events) | add, violations: map(.violations.total) | add,
      reconnects: map(.reconnects) | add}' "$w/status.json" 2>/dev/null || echo "$agg")
  fi
  jq -n -c --argjson agg "$agg" \
    --argjson t "$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f", b - a }')" \
    --argjson rss "$rss" --argjson fds "$fds" --argjson cw "$cw" \
    --argjson cpu "$(awk -v k="$k" -v a="$prev_ticks" -v b="$ticks" -v s="$prev_t" -v e="$now" \
      -v hz="$clk_tck" 'BEGIN { if (k == 0) print "null"; else printf "%.1f", (b - a) / hz / (e - s) * 100 }')" \
    --arg st_code "$st_code" --argjson st_ms "$(awk -v s="$st_s" 'BEGIN { printf "%.1f", s * 1000 }')" \
    --arg me_code "$me_code" --argjson me_ms "$(awk -v s="$me_s" 'BEGIN { printf "%.1f", s * 1000 }')" \
    --argjson me_bytes "${me_bytes:-0}" \
    '{t: $t, rss_kib: $rss, fds: $fds, close_wait: $cw, cpu_pct: $cpu,
      status_code: ($st_code | tonumber), status_ms: $st_ms,
      metrics_code: ($me_code | tonumber), metrics_ms: $me_ms, metrics_bytes: $me_bytes} + $agg' \
    >>"$samples"
  prev_ticks=$ticks
  prev_t=$now
  if [ "$mode" = long ] || [ $((k % 6)) = 0 ]; then
    dbench_say "sample $((k + 1))/$nsamples: $(tail -n 1 "$samples")"
  fi
done

# ---- the end of the run, by group (from the last /status)
jq -r --argjson groups "$(printf '%s\n' "${groups[@]}" | jq -R -s -c 'split("\n") | map(select(length > 0) | split(":") | .[0])')" '
  .subscriptions as $s | $groups[] as $g
  | [$s[] | select(.name | startswith($g + "-"))] as $m
  | [$g, ($m | length), ($m | map(select(.state == "streaming")) | length),
     ($m | map(.events) | add), ($m | map(.reconnects) | add),
     ($m | map(.violations.by_class | to_entries[] | select(.value > 0)) | group_by(.key)
       | map("\(.[0].key) \(map(.value) | add)") | join(", "))]
  | "| \(.[0]) | \(.[1]) | \(.[2]) | \(.[3]) | \(.[4]) | \(.[5]) |"' "$w/status.json" \
  >"$w/groups.md" 2>/dev/null || echo "| (the last /status could not be read) | | | | | |" >"$w/groups.md"
hwm=$(dbench_kib "$pid" VmHWM)
stop_ok=true
dbench_stop "$pid" 10 || stop_ok=false
stop_s=$dbench_stopped_s
dbench_stop "$server_pid" 10 || true
records=$(wc -l <"$w/daemon.err")
record_bytes=$(wc -c <"$w/daemon.err")

# ---- the verdict
# Quarters of the samples: q samples each. Medians of each quarter for the
# RSS; for descriptors the last quarter's median against the first
# quarter's largest count (a connection being set up holds a descriptor for
# a moment: a leak raises the floor, a busy moment only a peak).
summary=$(jq -s -c --argjson hwm "$hwm" '
  def med: sort | .[(length - 1) / 2 | floor];
  def pct(p): sort | .[((length - 1) * p) | ceil];
  (length / 4 | floor) as $q | .[:$q] as $a | .[-$q:] as $z
  | {samples: length, quarter: $q,
     rss_first_kib: ($a | map(.rss_kib) | med), rss_last_kib: ($z | map(.rss_kib) | med),
     rss_min_kib: (map(.rss_kib) | min), rss_max_kib: (map(.rss_kib) | max), vm_hwm_kib: $hwm,
     fds_first_max: ($a | map(.fds) | max), fds_first_median: ($a | map(.fds) | med),
     fds_last_median: ($z | map(.fds) | med), fds_min: (map(.fds) | min), fds_max: (map(.fds) | max),
     close_wait_max: (map(.close_wait) | max),
     cpu_median_pct: (map(.cpu_pct | values) | med), cpu_max_pct: (map(.cpu_pct | values) | max),
     status_failed: map(select(.status_code != 200)) | length,
     metrics_failed: map(select(.metrics_code != 200)) | length,
     status_p50_ms: (map(select(.status_code == 200) | .status_ms) | med),
     status_p99_ms: (map(select(.status_code == 200) | .status_ms) | pct(0.99)),
     status_max_ms: (map(select(.status_code == 200) | .status_ms) | max),
     metrics_p50_ms: (map(select(.metrics_code == 200) | .metrics_ms) | med),
     metrics_p99_ms: (map(select(.metrics_code == 200) | .metrics_ms) | pct(0.99)),
     metrics_max_ms: (map(select(.metrics_code == 200) | .metrics_ms) | max),
     metrics_bytes: .[-1].metrics_bytes,
     streaming_first: .[0].streaming, streaming_last: .[-1].streaming,
     events: (.[-1].events - .[0].events), violations: (.[-1].violations - .[0].violations),
     reconnects: (.[-1].reconnects - .[0].reconnects), seconds: .[-1].t}
  | . + {rss_growth_pct: ((.rss_last_kib - .rss_first_kib) / .rss_first_kib * 10000 | round / 100)}
  | . + {rss_ok: (.rss_growth_pct <= 2), fds_ok: (.fds_last_median <= .fds_first_max),
         http_ok: (.status_failed == 0 and .metrics_failed == 0)}' "$samples")
ok() { jq -r ".$1" <<<"$summary"; }
verdict=pass
for c in rss_ok fds_ok http_ok; do [ "$(ok "$c")" = true ] || verdict=fail; done
[ "$stop_ok" = true ] || verdict=fail
jq -c --arg mode "$mode" --arg stamp "$stamp" --argjson subs "$total" --argjson warmup "$warmup" \
  --argjson interval "$interval" --argjson records "$records" --argjson record_bytes "$record_bytes" \
  --argjson stop_s "$stop_s" --arg verdict "$verdict" \
  '{bench: "soak", mode: $mode, stamp: $stamp, subscriptions: $subs, warmup_s: $warmup,
    interval_s: $interval} + . + {records: $records, record_bytes: $record_bytes,
    sigterm_exit_s: $stop_s, verdict: $verdict}' <<<"$summary" >"$result"

v() { jq -r ".$1" "$result"; }
yn() { [ "$(v "$1")" = true ] && echo ok || echo FAILED; }
echo "## Soak, $mode mode: $total subscriptions, $(v seconds) s sampled every $interval s ($(date -u '+%Y-%m-%d'))"
echo
echo "$machine"
echo
echo "Warm-up $warmup s before the first sample; $(v samples) samples, quarters of $(v quarter)."
echo
echo "| measure | value | check |"
echo "|---|--:|---|"
echo "| RSS, median of the first / last quarter | $(v rss_first_kib) / $(v rss_last_kib) KiB ($(v rss_growth_pct) %) | growth <= 2 %: $(yn rss_ok) |"
echo "| RSS, min / max of the samples; peak (VmHWM) | $(v rss_min_kib) / $(v rss_max_kib) KiB; $(v vm_hwm_kib) KiB | |"
echo "| open descriptors: first quarter max, last quarter median | $(v fds_first_max), $(v fds_last_median) (all samples $(v fds_min)-$(v fds_max)) | no growth: $(yn fds_ok) |"
echo "| CLOSE_WAIT sockets, most in one sample | $(v close_wait_max) | |"
echo "| CPU, % of one core: median / max of the intervals | $(v cpu_median_pct) / $(v cpu_max_pct) | |"
echo "| GET /status: p50 / p99 / max ($(v status_failed) failed) | $(v status_p50_ms) / $(v status_p99_ms) / $(v status_max_ms) ms | every request answered: $(yn http_ok) |"
echo "| GET /metrics: p50 / p99 / max ($(v metrics_failed) failed; $(v metrics_bytes) bytes) | $(v metrics_p50_ms) / $(v metrics_p99_ms) / $(v metrics_max_ms) ms | |"
echo "| subscriptions streaming at the first / last sample | $(v streaming_first) / $(v streaming_last) | |"
echo "| during the samples: events, violations, reconnects | $(v events), $(v violations), $(v reconnects) | |"
echo "| records the daemon wrote (stderr, whole run) | $(v records) ($(v record_bytes) bytes) | |"
echo "| exit after SIGTERM | $(v sigterm_exit_s) s | $([ "$stop_ok" = true ] && echo ok || echo FAILED) |"
echo
echo "At the end, by group (from the last /status):"
echo
echo "| group | subscriptions | streaming | events | reconnects | violations by class |"
echo "|---|--:|--:|--:|--:|---|"
cat "$w/groups.md"
echo
echo "Verdict: $verdict"
dbench_say "samples: $samples; summary: $result; logs: $w"
[ "$verdict" = pass ]
