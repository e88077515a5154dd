#!/usr/bin/env bash
# The cost of probes, with the noise between two daemons measured: runs
# bench/daemon/latency.sh (detection latency of 200 silent streams beside
# LAT_BACKGROUND ordinary ones, one phase without probes and one with
# LAT_PROBES probes every 10 s) COST_ROUNDS times, alternating which phase
# comes first, and compares the medians of the two phases' record-latency
# p99 over the rounds. One invocation's two phases differ by tens of
# percent either way on a 2-vCPU machine (see docs/benchmarks.md, "Probes"),
# so a single pair cannot resolve the 10 % target; the median over rounds,
# with the order balanced, can come closer.
#
#   COST_ROUNDS     invocations (default 6; even, so each order runs half)
#   LAT_BACKGROUND  ordinary streams (default 10000)
#   LAT_PROBES      probes in the probe phase (default 100)
# Prints a markdown table; the per-round JSON lines stay in
# bench/results/daemon-latency-*.jsonl.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${COST_ROUNDS:-6}
background=${LAT_BACKGROUND:-10000}
probes=${LAT_PROBES:-100}
case $rounds in '' | *[!0-9]*) echo "cost.sh: COST_ROUNDS must be a count" >&2; exit 2 ;; esac
if [ "$rounds" -lt 2 ] || [ "$rounds" -gt 100 ]; then
  echo "cost.sh: COST_ROUNDS in [2, 100]" >&2
  exit 2
fi
command -v jq >/dev/null || { echo "cost.sh: jq is required" >&2; exit 2; }

rows=()
without=()
with=()
for ((r = 1; r <= rounds; r++)); do
  order=last
  [ $((r % 2)) -eq 0 ] && order=first
  log=$(mktemp)
  LAT_PROBE_ORDER=$order LAT_BACKGROUND=$background LAT_METRIC_STREAMS=0 LAT_PROBES=$probes \
    "$root/bench/daemon/latency.sh" >/dev/null 2>"$log" || {
    cat "$log" >&2
    rm -f "$log"
    exit 1
  }
  raw=$(sed -n 's/.*raw results: \([^;]*\);.*/\1/p' "$log" | tail -n 1)
  rm -f "$log"
  [ -s "$raw" ] || { echo "cost.sh: round $r left no results" >&2; exit 1; }
  read -r p0 p1 runs failed < <(jq -r -s '
    (map(select(.measure != null and (.measure | startswith("journal record"))))
     | map({key: .phase, value: .p99_ms}) | from_entries) as $p
    | (map(select(.probe_runs)) | .[0].probe_runs) as $r
    | "\($p.journal) \($p["journal-probes"]) \($r.runs) \($r.failures)"' "$raw")
  without+=("$p0")
  with+=("$p1")
  rows+=("| $r | probes $order | $p0 | $p1 | $runs, $failed |")
  echo "cost.sh: round $r/$rounds (probes $order): p99 $p0 ms without, $p1 ms with" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m0=$(median "${without[@]}")
m1=$(median "${with[@]}")
echo "## Probe cost: detection-latency p99, $rounds rounds, order alternated ($(date -u '+%Y-%m-%d'))"
echo
echo "200 timed + $background ordinary streams; the probe phase has $probes probes every 10 s."
echo "Record latency p99 after the window expired, ms."
echo
echo "| round | order | without probes | with probes | probe runs, failed |"
echo "| --: | --- | --: | --: | --- |"
printf '%s\n' "${rows[@]}"
awk -v a="$m0" -v b="$m1" 'BEGIN {
  ch = (b / a - 1) * 100
  printf "\nMedian p99: %.3f ms without, %.3f ms with probes: %+.1f %%; target within 10 %%: %s.\n",
    a, b, ch, (b <= a * 1.1) ? "met" : "MISSED" }'
