#!/usr/bin/env bash
# The parse + validate benchmark in one run: ssemon's sse_parser + validator
# with the task-stream contract (bench_validate), jansson's json_loadb and
# json_tape alone on the same payloads, and the JavaScript stack
# (eventsource-parser + JSON.parse + ajv, bench/js-validate) on the same
# corpus bytes with the same schemas. Prints a markdown table on stdout; raw
# JSON lines and the machine description go to bench/results/. See
# docs/benchmarks.md, "Parse + validate".
#
#   BENCH_EVENTS=N     events in the corpus, whole lifecycles (default 500000)
#   BENCH_REPEAT=N     runs per measurement (default 5)
#   BENCH_SEED=N       corpus seed (default 1)
#   BENCH_BUILD_DIR=D  Release build directory (default build-bench, shared
#                      with bench/run.sh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BENCH_BUILD_DIR:-$root/build-bench}
events=${BENCH_EVENTS:-500000}
repeat=${BENCH_REPEAT:-5}
seed=${BENCH_SEED:-1}
results="$here/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="$results/$stamp-validate.jsonl"
machine="$results/$stamp-validate-machine.md"
js_dir="$here/js-validate"
target=1000000

bench_name=bench/run-validate.sh
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

bench_uints events repeat seed
if [ "$events" -lt 1 ] || [ "$repeat" -lt 1 ]; then
  die "events and repeat must be at least 1"
fi

# ---- tools: install what is missing (Debian)
bench_required="cmake ninja jq node npm"
bench_tools cmake:cmake ninja:ninja-build jq:jq node:nodejs npm:npm

# ---- build (Release)
say "building bench_validate in $build (Release)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSEMON_BENCH=ON >/dev/null ||
  die "cmake could not configure the tree"
ninja -C "$build" bench_validate >"$build/bench-validate-build.log" 2>&1 ||
  die "bench_validate does not build (see $build/bench-validate-build.log)"
bench_validate="$build/bench/bench_validate"

# ---- the JavaScript stack
for pkg in eventsource-parser ajv ajv-formats; do
  if [ ! -f "$js_dir/node_modules/$pkg/package.json" ]; then
    say "installing the JavaScript stack (npm ci)"
    (cd "$js_dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
    break
  fi
done
js_version() { jq -r .version "$js_dir/node_modules/$1/package.json"; }

# ---- machine description
mkdir -p "$results"
lscpu_field() { lscpu | sed -n "s/^$1: *//p" | head -1; }
{
  echo "- date (UTC): $(date -u '+%Y-%m-%d %H:%M')"
  hv=$(lscpu_field 'Hypervisor vendor')
  echo "- CPU: $(lscpu_field 'Model name') (family $(lscpu_field 'CPU family')," \
    "model $(lscpu_field 'Model')${hv:+, $hv guest}); L2 $(lscpu_field 'L2 cache')," \
    "L3 $(lscpu_field 'L3 cache')"
  echo "- cores: $(nproc) online; load average before the run:" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
  echo "- kernel: $(uname -sr)"
  cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
  echo "- C compiler: $("$cc" --version | head -1)," \
    "Release flags: $(sed -n 's/^CMAKE_C_FLAGS_RELEASE:[A-Z]*=//p' "$build/CMakeCache.txt")"
  echo "- glibc: $(ldd --version | head -1 | sed 's/.* //'), jansson" \
    "$(pkg-config --modversion jansson 2>/dev/null || echo '?')"
  echo "- Node.js: $(node --version), eventsource-parser $(js_version eventsource-parser)," \
    "ajv $(js_version ajv), ajv-formats $(js_version ajv-formats)"
  if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    echo "- ssemon tree: $(git -C "$root" describe --always --dirty 2>/dev/null)"
  fi
  echo "- corpus: task-stream lifecycles, at least $events events, seed $seed;" \
    "$repeat runs per measurement"
} >"$machine"

# ---- measurements: C first (it writes the corpus and the schemas the
# JavaScript side reads), then JavaScript, in this one run
corpus_dir="$build/corpus"
mkdir -p "$corpus_dir"
corpus="$corpus_dir/task-stream-${events}ev-s$seed.sse"
schemas="$corpus_dir/task-stream.contract.json"
: >"$raw"
say "measuring ssemon (bench_validate), writing $corpus"
"$bench_validate" --events "$events" --seed "$seed" --repeat "$repeat" \
  --write-corpus "$corpus" --export-schemas "$schemas" >>"$raw" ||
  die "bench_validate failed"
say "measuring the JavaScript stack (bench/js-validate)"
node "$js_dir/bench.mjs" "$corpus" --schemas "$schemas" --repeat "$repeat" >>"$raw" ||
  die "bench.mjs failed"

# Every implementation must have seen every event of the corpus, and no
# violation.
want=$(jq .events "$corpus.json")
n=0
while read -r impl seen violations; do
  n=$((n + 1))
  [ "$seen" = "$want" ] || die "$impl counted $seen events, the corpus has $want: they disagree"
  [ "$violations" = 0 ] || die "$impl reported $violations violations on a faithful corpus"
done < <(jq -r '"\(.impl | gsub(" "; "_")) \(.events) \(.violations)"' "$raw")
[ "$n" -eq 5 ] || die "expected 5 measurements, got $n (see $raw)"

# ---- report
echo "## Parse + validate throughput ($(date -u '+%Y-%m-%d'))"
echo
cat "$machine"
echo
echo "Corpus: $(jq -r '"\(.corpus): \(.bytes) bytes, \(.events) events in \(.lifecycles) lifecycles, \(.payload_bytes) bytes of JSON payload"' "$corpus.json")."
echo "best = fastest of $repeat runs (wall clock); median = their median; CPU time = the"
echo "process's CPU time instead of the wall clock. MB/s are of the whole corpus (1 MB = 10^6 bytes)."
echo
jq -s -r '
  def rate: if . >= 1e6 then ((. / 1e4 | round) / 100 | tostring) + " M"
            else ((. / 1e3 | round) | tostring) + " k" end;
  def ratio($x; $y): if $y > 0 then (($x / $y * 100 | round) / 100 | tostring) + "x" else "-" end;
  (map(select(.impl == "eventsource-parser+JSON.parse+ajv"))[0].events_s) as $js
  | "| implementation | events/s best | events/s median | events/s best, CPU time | MB/s best | MB/s median | vs JS stack (events/s, best) |",
    "|---|--:|--:|--:|--:|--:|--:|",
    (.[] | "| \(.impl) | \(.events_s | rate) | \(.events_s_median | rate) | \(.events_s_cpu | rate) | \(.mb_s) | \(.mb_s_median) | \(ratio(.events_s; $js)) |")
' "$raw"
echo
jq -s -r --argjson target "$target" '
  (map(select(.impl == "ssemon parse+validate"))[0]) as $s
  | (map(select(.impl | startswith("eventsource-parser"))) | max_by(.events_s)) as $js
  | "Target (>= \($target / 1e6)M events/s on one core, ahead of the JavaScript stack): " +
    (if $s.events_s >= $target and $s.events_s > $js.events_s then "met"
     elif $s.events_s > $js.events_s then "MISSED on throughput (\((($target - $s.events_s) / $target * 100) | round)% short), ahead of the JavaScript stack"
     else "MISSED: not ahead of the JavaScript stack" end) +
    "; ssemon \($s.events_s) events/s best (\($s.events_s_median) median), fastest JavaScript line \($js.events_s) (\($js.impl))."
' "$raw"
say "raw results: $raw; machine: $machine"
