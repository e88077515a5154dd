# shellcheck shell=bash
# Shared by bench/daemon/run.sh and bench/daemon/latency.sh (sourced, not
# run): building, the probe helper, starting and stopping the processes a
# benchmark owns, and small checks. Every process started here is recorded
# in dbench_pids and stopped by dbench_cleanup, by its own id.
#
# The caller sets, before sourcing: dbench_name (for messages). The dbench_*
# variables set here are for the caller.
# shellcheck disable=SC2034,SC2154

dbench_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dbench_root=$(cd "$dbench_here/../.." && pwd)
dbench_build="$dbench_root/build-bench"
dbench_results="$dbench_root/bench/results"
dbench_stamp=$(date -u +%Y%m%dT%H%M%SZ)
dbench_pids=()
dbench_work=

dbench_say() { printf '%s: %s\n' "$dbench_name" "$*" >&2; }
dbench_die() {
  dbench_say "FAILED: $*"
  exit 1
}

# Whether a process runs (a zombie waiting for its parent's wait does not).
dbench_alive() {
  local st
  st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# Stops one process this benchmark started: SIGTERM, SIGKILL if it is still
# there `limit` seconds later (default 10). Sets dbench_stopped_s to the
# seconds it took; returns 1 if it had to be killed. Not for a subshell: the
# wait must be the parent's.
dbench_stop() {
  local pid=$1 limit=${2:-10} t0 rc=0
  t0=$EPOCHREALTIME
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((limit * 50))); do
    dbench_alive "$pid" || break
    sleep 0.02
  done
  if dbench_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    rc=1
  fi
  wait "$pid" 2>/dev/null || true
  dbench_stopped_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
  dbench_forget "$pid"
  return $rc
}

# Drops a process that has been waited for from the cleanup list.
dbench_forget() {
  local p keep=()
  for p in "${dbench_pids[@]}"; do
    [ "$p" = "$1" ] || keep+=("$p")
  done
  dbench_pids=("${keep[@]}")
}

# Stops every process this benchmark started, newest first (the trap).
dbench_cleanup() {
  local i pids=("${dbench_pids[@]}")
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    dbench_stop "${pids[i]}" 5 || true
  done
}

# Release build of ssemon and the test server in build-bench/, and the
# probe. BENCH_CMAKE_ARGS adds configure arguments (word-split). The
# project's own flags only: the Release build is warning-free.
dbench_build_all() {
  local cflags=""
  dbench_say "building ssemon, sse_testserver and bench_status_render in $dbench_build (Release)"
  # shellcheck disable=SC2086 # BENCH_CMAKE_ARGS is a list of arguments
  cmake -S "$dbench_root" -B "$dbench_build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_C_FLAGS=$cflags" ${BENCH_CMAKE_ARGS:-} >/dev/null ||
    dbench_die "cmake could not configure the tree"
  ninja -C "$dbench_build" ssemon sse_testserver bench_status_render \
    >"$dbench_build/daemon-bench-build.log" 2>&1 ||
    dbench_die "ssemon, sse_testserver or bench_status_render does not build (see $dbench_build/daemon-bench-build.log)"
  local cc
  cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$dbench_build/CMakeCache.txt")
  mkdir -p "$dbench_build/bench-daemon"
  "${cc:-cc}" -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
    -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla \
    -o "$dbench_build/bench-daemon/probe" "$dbench_here/probe.c" ||
    dbench_die "bench/daemon/probe.c does not build"
  dbench_ssemon="$dbench_build/src/cmd/ssemon"
  dbench_server="$dbench_build/tests/server/sse_testserver"
  dbench_probe="$dbench_build/bench-daemon/probe"
}

# Dies unless the variable named $1 holds an integer in [$2, $3]; $4 names
# the setting in the message.
dbench_range() {
  local v=${!1}
  if ! [[ $v =~ ^[0-9]+$ ]] || [ "$v" -lt "$2" ] || [ "$v" -gt "$3" ]; then
    dbench_die "$4 must be an integer in $2..$3, got '$v'"
  fi
}

# Raises this shell's open-file limits (inherited by what it starts) so a
# process can hold $1 descriptors.
dbench_raise_nofile() {
  if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$1" ]; then
    ulimit -Hn "$1" 2>/dev/null ||
      dbench_die "open-file hard limit $(ulimit -Hn) < $1, and it cannot be raised (run as root)"
  fi
  ulimit -n "$(ulimit -Hn)"
}

# Every tool a benchmark needs must be there.
dbench_need() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || dbench_die "'$t' is needed (apt-get install it)"
  done
}

# A fresh work directory under build-bench/ (kept after the run for
# inspection; the next run of the same script replaces it).
dbench_workdir() {
  dbench_work="$dbench_build/bench-daemon/$1"
  rm -rf "$dbench_work"
  mkdir -p "$dbench_work"
}

# Starts a test server on 127.0.0.1 (a free port) with the given extra
# arguments; its stderr goes to FILE. Sets dbench_srv_pid and dbench_srv_port.
dbench_start_server() {
  local err=$1 pf
  shift
  pf=$(mktemp -u "$dbench_work/port.XXXXXX")
  "$dbench_server" --listen 127.0.0.1:0 --port-file "$pf" --quiet "$@" >/dev/null 2>"$err" &
  dbench_srv_pid=$!
  dbench_pids+=("$dbench_srv_pid")
  for _ in $(seq 100); do
    [ -s "$pf" ] && break
    kill -0 "$dbench_srv_pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$pf" ] || dbench_die "the test server did not start (see $err)"
  dbench_srv_port=$(cat "$pf")
}

# CPU time (user + system, in clock ticks) of a process.
dbench_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# A field of /proc/PID/status in KiB (VmRSS, VmHWM, RssAnon, ...).
dbench_kib() {
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# p50 and max (in ms) of the numbers (seconds) on stdin: "P50 MAX N".
# p50 is the lower median (nearest rank).
dbench_p50_max_ms() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "null null 0"; exit }
    printf "%.1f %.1f %d\n", v[int((NR + 1) / 2)] * 1000, v[NR] * 1000, NR }'
}

# The machine and build, as markdown bullet lines.
dbench_machine() {
  lscpu_field() { lscpu | sed -n "s/^$1: *//p" | head -1; }
  local hv
  hv=$(lscpu_field 'Hypervisor vendor')
  echo "- date (UTC): $(date -u '+%Y-%m-%d %H:%M')"
  echo "- CPU: $(lscpu_field 'Model name') (${hv:+$hv guest, }$(nproc) online CPUs," \
    "$(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core)"
  echo "- memory: $(free -g | awk '/^Mem:/ {print $2}') GiB; kernel $(uname -sr);" \
    "glibc $(ldd --version | head -1 | sed 's/.* //')"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine)"
  local cache="$dbench_build/CMakeCache.txt"
  echo "- C compiler: $("$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$cache")" --version | head -1);" \
    "flags: $(sed -n 's/^CMAKE_C_FLAGS:[A-Z]*=//p' "$cache")" \
    "$(sed -n 's/^CMAKE_C_FLAGS_RELEASE:[A-Z]*=//p' "$cache")"
  echo "- libevent $(pkg-config --modversion libevent 2>/dev/null || echo '?')," \
    "libcurl $(curl-config --version 2>/dev/null | sed 's/^libcurl //' || echo '?')"
  if git -C "$dbench_root" rev-parse --git-dir >/dev/null 2>&1; then
    echo "- ssemon tree: $(git -C "$dbench_root" describe --always --dirty 2>/dev/null)"
  fi
}
