#!/usr/bin/env bash
# The parser benchmarks in one run: ssemon's sse_parser, eventsource-parser
# (npm, on this machine's Node.js) and a memchr newline scan, fed the same
# corpus bytes, plus the whole-process time of `ssemon parse --quiet`.
# Prints a markdown table on stdout; raw JSON lines and the machine
# description go to bench/results/. See docs/benchmarks.md.
#
#   BENCH_SIZE_MIB=N   size of each corpus in MiB (default 256)
#   BENCH_REPEAT=N     runs per measurement (default 5)
#   BENCH_SEED=N       corpus seed (default 1)
#   BENCH_CMAKE_ARGS   extra arguments for cmake's configure step (word-split),
#                      e.g. -DCMAKE_C_COMPILER=clang; recorded with the results
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build="$root/build-bench"
size=${BENCH_SIZE_MIB:-256}
repeat=${BENCH_REPEAT:-5}
seed=${BENCH_SEED:-1}
results="$here/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="$results/$stamp.jsonl"
machine="$results/$stamp-machine.md"
esp_dir="$here/eventsource-parser"

bench_name=bench/run.sh
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

bench_uints size repeat seed
if [ "$size" -lt 1 ] || [ "$repeat" -lt 1 ]; then
  die "size and repeat must be at least 1"
fi

# ---- tools: install what is missing (Debian)
bench_required="cmake ninja jq node npm"
bench_tools cmake:cmake ninja:ninja-build jq:jq node:nodejs npm:npm hyperfine:hyperfine

# ---- build (Release)
say "building in $build (Release)"
# shellcheck disable=SC2086 # BENCH_CMAKE_ARGS is a list of arguments
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSEMON_BENCH=ON \
  ${BENCH_CMAKE_ARGS:-} >/dev/null || die "cmake could not configure the tree"
whole_process=yes
if ! ninja -C "$build" ssemon bench_parser bench_corpus >"$build/bench-build.log" 2>&1; then
  say "the ssemon binary does not build (see $build/bench-build.log); the" \
    "whole-process figure is skipped"
  whole_process=no
  ninja -C "$build" ssemon_core bench_parser bench_corpus >>"$build/bench-build.log" 2>&1 ||
    die "the benchmark programs do not build (see $build/bench-build.log)"
fi
bench_parser="$build/bench/bench_parser"
bench_corpus="$build/bench/bench_corpus"
ssemon="$build/src/cmd/ssemon"

# ---- eventsource-parser
if [ ! -f "$esp_dir/node_modules/eventsource-parser/package.json" ]; then
  say "installing eventsource-parser (npm ci)"
  (cd "$esp_dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
fi

# ---- machine description
mkdir -p "$results"
{
  echo "- date (UTC): $(date -u '+%Y-%m-%d %H:%M')"
  lscpu_field() { lscpu | sed -n "s/^$1: *//p" | head -1; }
  hv=$(lscpu_field 'Hypervisor vendor')
  echo "- CPU: $(lscpu_field 'Model name') (family $(lscpu_field 'CPU family')," \
    "model $(lscpu_field 'Model')${hv:+, $hv guest}); L2 $(lscpu_field 'L2 cache')," \
    "L3 $(lscpu_field 'L3 cache'); SIMD: $(grep -m1 -o -w 'sse4_2\|avx2\|avx512bw' /proc/cpuinfo |
      sort -u | tr '\n' ' ' | sed 's/ $//')"
  echo "- cores: $(nproc) online ($(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core)"
  echo "- memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
  echo "- kernel: $(uname -sr)"
  cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
  echo "- C compiler: $("$(cache CMAKE_C_COMPILER)" --version | head -1);" \
    "flags: $(cache CMAKE_C_FLAGS) $(cache CMAKE_C_FLAGS_RELEASE)" \
    "${BENCH_CMAKE_ARGS:+(BENCH_CMAKE_ARGS: $BENCH_CMAKE_ARGS)}"
  echo "- glibc: $(ldd --version | head -1 | sed 's/.* //')"
  echo "- Node.js: $(node --version), eventsource-parser" \
    "$(jq -r .version "$esp_dir/node_modules/eventsource-parser/package.json")"
  if command -v hyperfine >/dev/null; then
    echo "- $(hyperfine --version)"
  fi
  if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    echo "- ssemon tree: $(git -C "$root" describe --always --dirty 2>/dev/null);" \
      "src/core/sse_parser.c $(git -C "$root" diff --quiet HEAD -- src/core/sse_parser.c 2>/dev/null &&
        echo "as committed" || echo "modified since that commit")" \
      "(sha256 $(sha256sum "$root/src/core/sse_parser.c" | cut -c1-12))"
  fi
  echo "- corpora: $size MiB each, seed $seed; $repeat runs per measurement"
} >"$machine"

# ---- corpora (deterministic: regenerated only when missing or stale)
corpus_dir="$build/corpus"
mkdir -p "$corpus_dir"
shapes=(backend bigline)
for shape in "${shapes[@]}"; do
  f="$corpus_dir/$shape-${size}M-s$seed.sse"
  if [ ! -s "$f" ] || [ ! -s "$f.json" ] || [ "$bench_corpus" -nt "$f" ]; then
    say "generating $f"
    rm -f "$f" "$f.json"
    "$bench_corpus" --shape "$shape" --size "$size" --seed "$seed" "$f" 2>/dev/null ||
      die "bench_corpus failed for $shape"
  fi
done

# ---- whole process: ssemon parse --quiet FILE, from the page cache
# Prints one JSON line in bench_parser's format.
whole_process_line() {
  local f=$1 corpus=$2 bytes=$3 events=$4 times
  if command -v hyperfine >/dev/null; then
    local hj="$results/$stamp-hyperfine-$corpus.json"
    hyperfine --shell=none --warmup 1 --runs "$repeat" --style none \
      --export-json "$hj" "$ssemon parse --quiet $f" >/dev/null ||
      die "hyperfine failed on $f"
    times=$(jq -r '.results[0].times[]' "$hj")
  else
    "$ssemon" parse --quiet "$f" >/dev/null
    times=$(for _ in $(seq "$repeat"); do
      local t0 t1
      t0=$(date +%s%N)
      "$ssemon" parse --quiet "$f" >/dev/null
      t1=$(date +%s%N)
      awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.9f\n", (b - a) / 1e9 }'
    done)
  fi
  printf '%s\n' "$times" | sort -g | jq -s -c --arg corpus "$corpus" \
    --argjson bytes "$bytes" --argjson events "$events" '
      (if length % 2 == 1 then .[(length - 1) / 2]
       else (.[length / 2 - 1] + .[length / 2]) / 2 end) as $med
      | {impl: "ssemon parse --quiet (whole process)", corpus: $corpus, bytes: $bytes,
         events: $events,
         mb_s: (($bytes / 1e6 / .[0]) * 10 | round / 10),
         events_s: ($events / .[0] | floor),
         mb_s_median: (($bytes / 1e6 / $med) * 10 | round / 10),
         events_s_median: ($events / $med | floor),
         runs: length}'
}

# ---- measurements, one corpus at a time, all implementations
: >"$raw"
for shape in "${shapes[@]}"; do
  f="$corpus_dir/$shape-${size}M-s$seed.sse"
  corpus=$(basename "$f" .sse)
  say "measuring $corpus: bench_parser"
  "$bench_parser" "$f" --repeat "$repeat" >>"$raw" || die "bench_parser failed on $f"
  say "measuring $corpus: eventsource-parser"
  node "$esp_dir/bench.mjs" "$f" --repeat "$repeat" >>"$raw" || die "bench.mjs failed on $f"

  # The implementations must have parsed the same events.
  want=$(jq .events "$f.json")
  ours=$(jq -s --arg c "$corpus" '.[] | select(.corpus == $c and .impl == "ssemon")' "$raw")
  [ "$(jq .events <<<"$ours")" = "$want" ] ||
    die "$corpus: ssemon counted $(jq .events <<<"$ours") events, the generator wrote $want"
  data=$(jq .data_bytes <<<"$ours")
  while read -r impl events chars; do
    [ "$events" = "$want" ] ||
      die "$corpus: $impl counted $events events, ssemon $want: they disagree"
    # The corpora are ASCII, so UTF-16 code units equal bytes.
    [ "$chars" = "$data" ] ||
      die "$corpus: $impl saw $chars characters of data, ssemon $data bytes: they disagree"
  done < <(jq -s -r --arg c "$corpus" \
    '.[] | select(.corpus == $c and (.impl | startswith("eventsource-parser")))
         | "\(.impl | gsub(" "; "_")) \(.events) \(.data_chars)"' "$raw")

  if [ "$whole_process" = yes ]; then
    say "measuring $corpus: ssemon parse --quiet (whole process)"
    summary=$("$ssemon" parse --quiet "$f") || die "ssemon parse failed on $f"
    [ "$(jq .events <<<"$summary")" = "$want" ] ||
      die "$corpus: ssemon parse counted $(jq .events <<<"$summary") events, expected $want"
    whole_process_line "$f" "$corpus" "$(jq .bytes "$f.json")" "$want" >>"$raw"
  fi
done

# ---- report
echo "## Parser throughput ($(date -u '+%Y-%m-%d'))"
echo
cat "$machine"
echo
echo "1 MB = 10^6 bytes. best = fastest of $repeat runs; median = their median."
echo
jq -s -r '
  def millions: (. / 1e4 | round / 100 | tostring) + " M";
  def ratio($x; $y): if $y > 0 then (($x / $y * 100 | round) / 100 | tostring) + "x" else "-" end;
  "| corpus | implementation | MB/s best | MB/s median | events/s best | events/s median | vs eventsource-parser | vs memchr |",
  "|---|---|--:|--:|--:|--:|--:|--:|",
  (group_by(.corpus)[] as $g
   | ($g | map(select(.impl == "eventsource-parser"))[0].mb_s) as $esp
   | ($g | map(select(.impl == "memchr"))[0].mb_s) as $scan
   | $g[]
   | "| \(.corpus) | \(.impl) | \(.mb_s) | \(.mb_s_median) | \(.events_s | millions) | \(.events_s_median | millions) | \(ratio(.mb_s; $esp)) | \(ratio(.mb_s; $scan)) |")
' "$raw"
echo
target=3000
jq -s -r --argjson target "$target" '
  .[] | select(.impl == "ssemon" and (.corpus | startswith("backend")))
  | if .mb_s >= $target then
      "Target (>= \($target) MB/s on the backend corpus): met, \(.mb_s) MB/s best, \(.mb_s_median) MB/s median."
    else
      "Target (>= \($target) MB/s on the backend corpus): MISSED, \(.mb_s) MB/s best (\((($target - .mb_s) / $target * 100) | round)% short), \(.mb_s_median) MB/s median."
    end' "$raw"
if [ "$whole_process" != yes ]; then
  echo
  echo "Whole-process figure (ssemon parse --quiet): pending, the ssemon binary did not build."
fi
say "raw results: $raw; machine: $machine"
