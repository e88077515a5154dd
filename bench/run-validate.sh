#!/usr/bin/env bash
# The parse + validate benchmark in one run: ssemon's sse_parser + validator
# (bench_validate), jansson's json_loadb and json_tape alone on the same
# payloads, and the JavaScript stack (eventsource-parser + JSON.parse + ajv,
# bench/js-validate) on the same corpus bytes with the same schemas, for
# two corpora:
#
#   task       the task stream judged by the shipped task-stream contract
#   composite  the same lifecycles with pydantic-style payloads, judged by
#              bench/contracts/task-stream-composite.json (anyOf, oneOf,
#              patternProperties, unevaluatedProperties); not shipped
#
# Each repetition starts one process per implementation (bench_validate
# --repeat 1; node after one untimed warm-up run), in an order that turns
# round from one repetition to the next, so load on a shared machine hits
# every implementation alike; best and median are over the repetitions.
# With BENCH_BASELINE_REV the same is done with bench_validate built at that
# revision (in a temporary git worktree and build directory, removed after),
# and the report compares the two builds. Prints markdown tables on stdout;
# raw JSON lines (one per run) and the machine description go to
# bench/results/. See docs/benchmarks.md, "Parse + validate".
#
#   BENCH_EVENTS=N         events in each corpus, whole lifecycles (default 500000)
#   BENCH_REPEAT=N         repetitions (default 5)
#   BENCH_SEED=N           corpus seed (default 1)
#   BENCH_CORPUS=C         task, composite or both (default both)
#   BENCH_BASELINE_REV=R   also measure bench_validate built at git revision R
#   BENCH_BASELINE_PROGRAM=P  current (default): the baseline build compiles
#                          this tree's bench/validate_bench.c against revision
#                          R's libraries, so only the libraries differ (R's own
#                          program when this one does not build there); own:
#                          R's own bench/validate_bench.c
#   BENCH_BUILD_DIR=D      Release build directory (default build-bench, shared
#                          with bench/run.sh)
#
# When this build's schema engine refuses a corpus's contract, its row says
# so ("schema not supported by this build (compile error: ...)") and the
# other rows are still measured; any other failure, or any violation on
# these faithful corpora, fails the run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BENCH_BUILD_DIR:-$root/build-bench}
events=${BENCH_EVENTS:-500000}
repeat=${BENCH_REPEAT:-5}
seed=${BENCH_SEED:-1}
corpus_sel=${BENCH_CORPUS:-both}
baseline_rev=${BENCH_BASELINE_REV:-}
baseline_program=${BENCH_BASELINE_PROGRAM:-current}
results="$here/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="$results/$stamp-validate.jsonl"
log="$results/$stamp-validate.log"
machine="$results/$stamp-validate-machine.md"
js_dir="$here/js-validate"
target=1000000
target_ratio=3
target_keep=0.95

bench_name=bench/run-validate.sh
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

bench_uints events repeat seed
if [ "$events" -lt 1 ] || [ "$repeat" -lt 1 ]; then
  die "events and repeat must be at least 1"
fi
case $baseline_program in
current | own) ;;
*) die "BENCH_BASELINE_PROGRAM must be current or own, got '$baseline_program'" ;;
esac
case $corpus_sel in
task | composite) corpora=("$corpus_sel") ;;
both) corpora=(task composite) ;;
*) die "BENCH_CORPUS must be task, composite or both, got '$corpus_sel'" ;;
esac

# ---- tools: install what is missing (Debian)
bench_required="cmake ninja jq node npm git"
bench_tools cmake:cmake ninja:ninja-build jq:jq node:nodejs npm:npm git:git

# ---- build (Release)
say "building bench_validate in $build (Release)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSSEMON_BENCH=ON >/dev/null ||
  die "cmake could not configure the tree"
ninja -C "$build" bench_validate >"$build/bench-validate-build.log" 2>&1 ||
  die "bench_validate does not build (see $build/bench-validate-build.log)"
bench_validate="$build/bench/bench_validate"

# ---- the baseline: bench_validate at BENCH_BASELINE_REV, in a temporary
# worktree and build directory that go when the script ends
base_validate=
base_src=
base_commit=
base_tmp=
cleanup() {
  if [ -n "$base_tmp" ]; then
    if [ -d "$base_tmp/src" ]; then
      git -C "$root" worktree remove --force "$base_tmp/src" >/dev/null 2>&1 || true
    fi
    rm -rf "$base_tmp"
    git -C "$root" worktree prune >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
if [ -n "$baseline_rev" ]; then
  base_commit=$(git -C "$root" rev-parse --verify --quiet "$baseline_rev^{commit}") ||
    die "BENCH_BASELINE_REV: '$baseline_rev' is not a commit of $root"
  base_tmp=$(mktemp -d "${TMPDIR:-/tmp}/ssemon-bench-baseline.XXXXXX")
  base_src="$base_tmp/src"
  say "building bench_validate at ${base_commit:0:12} in $base_tmp (Release)"
  git -C "$root" worktree add --detach "$base_src" "$base_commit" >/dev/null 2>&1 ||
    die "git worktree add $base_src $base_commit failed"
  cmake -S "$base_src" -B "$base_tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSSEMON_BENCH=ON >/dev/null || die "cmake could not configure ${base_commit:0:12}"
  blog="$build/bench-validate-baseline-build.log"
  base_program=own
  if [ "$baseline_program" = current ]; then
    # This tree's benchmark program over the baseline's libraries, so the
    # comparison is of the libraries alone (the program's own code and
    # layout change too otherwise); the revision's own program when this one
    # does not build there.
    cp "$here/validate_bench.c" "$base_src/bench/validate_bench.c"
    if ninja -C "$base_tmp/build" bench_validate >"$blog" 2>&1; then
      base_program=current
    else
      say "this tree's validate_bench.c does not build at ${base_commit:0:12}: using its own"
      git -C "$base_src" checkout -q -- bench/validate_bench.c
    fi
  fi
  if [ "$base_program" = own ]; then
    ninja -C "$base_tmp/build" bench_validate >"$blog" 2>&1 ||
      die "bench_validate at ${base_commit:0:12} does not build (see $blog)"
  fi
  base_validate="$base_tmp/build/bench/bench_validate"
fi

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
tree=
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  tree=$(git -C "$root" describe --always --dirty 2>/dev/null)
fi
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
  [ -z "$tree" ] || echo "- ssemon tree: $tree"
  if [ -n "$base_commit" ]; then
    if [ "$baseline_rev" = "$base_commit" ]; then
      echo -n "- baseline: $base_commit"
    else
      echo -n "- baseline: $baseline_rev = $base_commit"
    fi
    if [ "$base_program" = current ]; then
      echo ", its libraries with this tree's bench/validate_bench.c"
    else
      echo ", its own bench/validate_bench.c"
    fi
  fi
  echo "- corpora: ${corpora[*]}; at least $events events each, seed $seed;" \
    "$repeat repetitions, one process per implementation each"
} >"$machine"

# ---- measurements
corpus_dir="$build/corpus"
mkdir -p "$corpus_dir"
: >"$raw"
: >"$log"

# contract_of BUILD_SOURCE_ROOT CORPUS: the contract file that build judges
# the corpus with.
contract_of() {
  case $2 in
  task) echo "$1/etc/ssemon/contracts/task-stream.json" ;;
  composite)
    # A baseline older than the composite corpus has no file: it gets this
    # tree's.
    if [ -f "$1/bench/contracts/task-stream-composite.json" ]; then
      echo "$1/bench/contracts/task-stream-composite.json"
    else
      echo "$root/bench/contracts/task-stream-composite.json"
    fi
    ;;
  esac
}

# probe BINARY CONTRACT CORPUS: 0 when that build compiles the contract;
# 3 with the compile error in $probe_error when it refuses it; dies on
# anything else.
# corpus_args CORPUS: bench_validate's options for it (none for the task
# corpus, so a baseline older than --corpus takes them).
corpus_args() {
  [ "$1" = task ] || echo "--corpus $1"
}

probe_error=
probe() {
  local out rc=0
  # shellcheck disable=SC2046 # corpus_args is two words or none
  out=$("$1" $(corpus_args "$3") --contract "$2" --events 1 --repeat 1 --only tape 2>&1 >/dev/null) ||
    rc=$?
  probe_error=
  if [ "$rc" -eq 3 ]; then
    probe_error=$(sed -n 's/^bench_validate: contract does not compile: //p' <<<"$out" | head -1)
    return 3
  fi
  [ "$rc" -eq 0 ] || die "$1 --corpus $3 failed: $out"
}

# tag BUILD CORPUS REP: bench output lines, labelled.
tag() {
  jq -c --arg build "$1" --arg kind "$2" --argjson rep "$3" \
    '. + {build: $build, kind: $kind, rep: $rep}'
}

# "BUILD CORPUS" -> why that build's parse+validate row is not measured
declare -A unsupported=()
refused() { echo "schema not supported by this build (compile error: $1)"; }
for corpus in "${corpora[@]}"; do
  file="$corpus_dir/$corpus-${events}ev-s$seed.sse"
  schemas="$corpus_dir/$corpus.contract.json"
  cur_contract=$(contract_of "$root" "$corpus")
  say "$corpus corpus: writing $file and $schemas"
  "$bench_validate" --corpus "$corpus" --contract "$cur_contract" --events "$events" \
    --seed "$seed" --no-measure --write-corpus "$file" --export-schemas "$schemas" ||
    die "bench_validate could not write the $corpus corpus"

  runs=(current js)
  if probe "$bench_validate" "$cur_contract" "$corpus"; then :; else
    unsupported["current $corpus"]=$(refused "$probe_error")
    runs=(js)
    say "$corpus corpus: this build refuses the contract: $probe_error"
  fi
  base_contract=
  if [ -n "$base_validate" ]; then
    base_contract=$(contract_of "$base_src" "$corpus")
    if [ "$corpus" = task ] || grep -q -- '--corpus' <<<"$("$base_validate" --help)"; then
      if probe "$base_validate" "$base_contract" "$corpus"; then
        runs+=(baseline)
      else
        unsupported["baseline $corpus"]=$(refused "$probe_error")
      fi
    else
      unsupported["baseline $corpus"]="not measured: bench_validate at ${base_commit:0:12} predates --corpus $corpus"
    fi
  fi

  for ((rep = 1; rep <= repeat; rep++)); do
    n=${#runs[@]}
    for ((j = 0; j < n; j++)); do
      what=${runs[$(((j + rep - 1) % n))]}
      say "$corpus corpus, repetition $rep/$repeat: $what"
      case $what in
      current)
        # shellcheck disable=SC2046
        "$bench_validate" $(corpus_args "$corpus") --contract "$cur_contract" \
          --events "$events" --seed "$seed" --repeat 1 2>>"$log" |
          tag current "$corpus" "$rep" >>"$raw" ||
          die "bench_validate failed on the $corpus corpus (see $log)"
        ;;
      baseline)
        # shellcheck disable=SC2046
        "$base_validate" $(corpus_args "$corpus") --contract "$base_contract" \
          --events "$events" --seed "$seed" --repeat 1 --only validate 2>>"$log" |
          tag baseline "$corpus" "$rep" >>"$raw" ||
          die "bench_validate at ${base_commit:0:12} failed on the $corpus corpus (see $log)"
        ;;
      js)
        node "$js_dir/bench.mjs" "$file" --schemas "$schemas" --repeat 1 --warmup 1 2>>"$log" |
          tag js "$corpus" "$rep" >>"$raw" || die "bench.mjs failed on the $corpus corpus (see $log)"
        ;;
      esac
    done
  done

  # Every run must have seen every event of the corpus, and no violation;
  # the baseline must have judged the very same corpus.
  want=$(jq .events "$file.json")
  want_bytes=$(jq .bytes "$file.json")
  per_rep=0 # lines per repetition: current 3, JavaScript 2, baseline 1
  for what in "${runs[@]}"; do
    case $what in current) per_rep=$((per_rep + 3)) ;; js) per_rep=$((per_rep + 2)) ;;
    baseline) per_rep=$((per_rep + 1)) ;; esac
  done
  n=0
  while read -r build impl seen violations bytes; do
    n=$((n + 1))
    [ "$seen" = "$want" ] ||
      die "$corpus: $build $impl counted $seen events, the corpus has $want: they disagree"
    [ "$bytes" = "$want_bytes" ] ||
      die "$corpus: $build $impl judged $bytes bytes, the corpus has $want_bytes: not the same corpus"
    [ "$violations" = 0 ] ||
      die "$corpus: $build $impl reported $violations violations on a faithful corpus"
  done < <(jq -r --arg kind "$corpus" 'select(.kind == $kind)
    | "\(.build) \(.impl | gsub(" "; "_")) \(.events) \(.violations) \(.bytes)"' "$raw")
  [ "$n" -eq $((per_rep * repeat)) ] ||
    die "$corpus: expected $((per_rep * repeat)) measurements, got $n (see $raw)"
done

# ---- report
# summary CORPUS: one JSON object per implementation and build: best and
# median over the repetitions.
summary() {
  jq -s -c --arg kind "$1" --arg base "${base_commit:0:7}" '
    def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                       else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    map(select(.kind == $kind)) | group_by([.build, .impl])
    | map({build: .[0].build,
           impl: (.[0].impl + (if .[0].build == "baseline" then " (baseline \($base))"
                               elif .[0].build == "current" and $base != "" then " (this tree)"
                               else "" end)),
           events_s: (map(.events_s) | max), events_s_median: (map(.events_s) | median),
           events_s_cpu: (map(.events_s_cpu) | max),
           mb_s: (map(.mb_s) | max), mb_s_median: (map(.mb_s) | median),
           runs: length,
           events_s_cpu_median: (map(.events_s_cpu) | median),
           by_rep: (map({key: (.rep | tostring), value: .events_s}) | from_entries),
           by_rep_cpu: (map({key: (.rep | tostring), value: .events_s_cpu}) | from_entries)})
    | sort_by([(if .build == "current" then 0 elif .build == "baseline" then 1 else 2 end),
               (if (.impl | startswith("ssemon parse")) then 0 else 1 end), .impl])
    | map(.events_s_median |= floor | .events_s_cpu_median |= floor
          | .mb_s_median |= ((. * 10 | round) / 10))
  ' "$raw"
}

echo "## Parse + validate throughput ($(date -u '+%Y-%m-%d'))"
echo
cat "$machine"
for corpus in "${corpora[@]}"; do
  file="$corpus_dir/$corpus-${events}ev-s$seed.sse"
  sum=$(summary "$corpus")
  echo
  echo "### Corpus: $corpus"
  echo
  echo "$(jq -r '"\(.corpus): \(.bytes) bytes, \(.events) events in \(.lifecycles) lifecycles, \(.payload_bytes) bytes of JSON payload"' "$file.json");" \
    "contract $(jq -r .name "$corpus_dir/$corpus.contract.json")."
  echo "best = fastest of $repeat repetitions (wall clock); median = their median; CPU time: events/s"
  echo "by the process's CPU time instead of the wall clock (for Node.js its GC and compiler threads"
  echo "too). MB/s are of the whole corpus (1 MB = 10^6 bytes). vs JS stack: events/s over the"
  echo "eventsource-parser+JSON.parse+ajv row's (with decoding), best over best, median over median."
  echo
  jq -r '
    def rate: if . >= 1e6 then ((. / 1e4 | round) / 100 | tostring) + " M"
              else ((. / 1e3 | round) | tostring) + " k" end;
    def ratio($x; $y): if $y > 0 then (($x / $y * 100 | round) / 100 | tostring) + "x" else "-" end;
    (map(select(.impl == "eventsource-parser+JSON.parse+ajv"))[0]) as $js
    | "| implementation | events/s best | events/s median | CPU time: best | CPU time: median | MB/s best | MB/s median | vs JS stack, best | vs JS stack, median |",
      "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
      (.[] | "| \(.impl) | \(.events_s | rate) | \(.events_s_median | rate) | \(.events_s_cpu | rate) | \(.events_s_cpu_median | rate) | \(.mb_s) | \(.mb_s_median) | \(ratio(.events_s; $js.events_s)) | \(ratio(.events_s_median; $js.events_s_median)) |")
  ' <<<"$sum"
  for b in current baseline; do
    key="$b $corpus"
    if [ -n "${unsupported[$key]+x}" ]; then
      label="ssemon parse+validate"
      [ "$b" = current ] || label+=" (baseline ${base_commit:0:7})"
      echo "| $label | not measured (below) | | | | | | | |"
    fi
  done
  echo
  for b in current baseline; do
    key="$b $corpus"
    if [ -n "${unsupported[$key]+x}" ]; then
      label="ssemon"
      [ "$b" = current ] || label="ssemon (baseline ${base_commit:0:7})"
      echo "$label: ${unsupported[$key]}"
      echo
    fi
  done
  if [ -z "${unsupported["current $corpus"]+x}" ]; then
    # The targets are the task corpus's (the shipped contract); the
    # composite corpus is measured beside the JavaScript stack, no target.
    jq -r --argjson target "$target" --argjson ratio "$target_ratio" --arg kind "$corpus" '
      (map(select(.build == "current" and (.impl | startswith("ssemon parse+validate"))))[0]) as $s
      | (map(select(.impl == "eventsource-parser+JSON.parse+ajv"))[0]) as $js
      | ($s.events_s / $js.events_s) as $rb | ($s.events_s_median / $js.events_s_median) as $rm
      | "; \(($rb * 100 | round) / 100)x best, \(($rm * 100 | round) / 100)x median (ssemon \($s.events_s) / \($s.events_s_median) events/s, the JavaScript stack \($js.events_s) / \($js.events_s_median))." as $figures
      | if $kind != "task" then "Beside the JavaScript stack (no target for this corpus)" + $figures
        else
        "Target (>= \($ratio)x the JavaScript stack in the same run): " +
        (if $rb >= $ratio and $rm >= $ratio then "met"
         elif $rb >= $ratio then "met at the best, MISSED at the median"
         else "MISSED" end) + $figures,
        "",
        "Target (>= \($target / 1e6)M events/s on one core): " +
        (if $s.events_s >= $target then "met" else "MISSED (\(((($target - $s.events_s) / $target * 1000) | round) / 10)% short)" end) +
        " at the best of the repetitions; \($s.events_s_median) events/s median."
        end
    ' <<<"$sum"
    echo
  fi
  if [ -n "$base_commit" ] && [ -z "${unsupported["current $corpus"]+x}" ] &&
    [ -z "${unsupported["baseline $corpus"]+x}" ]; then
    jq -r --argjson keep "$target_keep" --arg base "${base_commit:0:7}" --arg tree "$tree" '
      def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                         else (.[length / 2 - 1] + .[length / 2]) / 2 end;
      def r2: (. * 1000 | round) / 1000;
      (map(select(.build == "current" and (.impl | startswith("ssemon parse+validate"))))[0]) as $c
      | (map(select(.build == "baseline"))[0]) as $b
      | def pairs($f): [$c[$f] | keys[] as $k | select($b[$f][$k] != null) | $c[$f][$k] / $b[$f][$k]];
        pairs("by_rep") as $pw | pairs("by_rep_cpu") as $pc
      | ($pw | median) as $mw | ($pc | median) as $mc
      | def verdict($m): if $m >= $keep then "met" else "MISSED" end;
      "Before/after (ssemon parse+validate, \($tree) over the baseline \($base), alternated in each repetition):",
      "",
      "- wall clock: median \($c.events_s_median) / \($b.events_s_median) events/s = \($c.events_s_median / $b.events_s_median | r2);" +
        " best \($c.events_s) / \($b.events_s) = \($c.events_s / $b.events_s | r2);" +
        " per repetition \($pw | map(r2 | tostring) | join(", ")), median \($mw | r2)",
      "- CPU time: median \($c.events_s_cpu_median) / \($b.events_s_cpu_median) events/s = \($c.events_s_cpu_median / $b.events_s_cpu_median | r2);" +
        " per repetition \($pc | map(r2 | tostring) | join(", ")), median \($mc | r2)",
      "",
      "Target (within 5% of the baseline: the median of the per-repetition ratios >= \($keep)): " +
        "\(verdict($mw)) on the wall clock, \(verdict($mc)) on CPU time."
    ' <<<"$sum"
    echo
  fi
done
say "raw results: $raw; machine: $machine; messages: $log"
