#!/usr/bin/env bash
# Flake hunt: runs the whole ctest suite many times on a machine made busy
# on purpose (stress-ng keeping every CPU at 100 % beside the tests) and
# says which test failed in which run. A test that waits a fixed time
# instead of waiting for its condition fails here sooner or later. Not part
# of CI: it takes long, and loads the machine.
#
# usage: tests/flake-hunt.sh [options]
#   --runs N          how many runs of the suite (default 20)
#   --build DIR       use this configured and built tree; without it,
#                     build/ of the source tree is configured and built
#                     (RelWithDebInfo, as scripts/test does)
#   --out DIR         where the results go (default
#                     build-flake-hunt/STAMP in the source tree)
#   --jobs J          ctest -j (default: the number of CPUs)
#   --timeout S       ctest's per-test timeout (default 300)
#   --max-minutes M   no run starts after M minutes (default 240); each run
#                     is itself bounded by the per-test timeout
#   -R REGEX          only the tests matching REGEX
#   -E REGEX          leave out the tests matching REGEX
#   --no-daemon       leave out integration_daemon
#   --no-stress       do not start stress-ng (a baseline)
#   --stress-workers N  stress-ng CPU workers (default: the number of CPUs)
#
# integration_daemon starts systemd-journald: it runs after the rest of each
# run, alone, under the machine-wide lock other users of journald take
# (/tmp/ssemon-journald.lock, or $SSEMON_JOURNALD_LOCK).
#
# Installs stress-ng with apt-get when it is missing (as root). Prints a
# summary: runs, passes and failures per test, and for each failure the file
# holding that test's output. Exits 0 when every run passed, 1 when a test
# failed in any run, 2 on a usage or build error.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=20
build=
out=
jobs=$(nproc 2>/dev/null || echo 2)
test_timeout=300
max_minutes=240
include=
exclude=
daemon=1
stress=1
workers=$(nproc 2>/dev/null || echo 2)
lock=${SSEMON_JOURNALD_LOCK:-/tmp/ssemon-journald.lock}
daemon_test=integration_daemon

say() { printf 'flake-hunt: %s\n' "$*" >&2; }
usage() {
    sed -n '/^# usage:/,/^# integration_daemon/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}
uint() {
    if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ]; then
        say "$1 wants a positive integer, got '$2'"
        exit 2
    fi
}

while [ $# -gt 0 ]; do
    case $1 in
    --runs) uint "$1" "${2-}"; runs=$2; shift 2 ;;
    --build) build=${2-}; [ -n "$build" ] || usage; shift 2 ;;
    --out) out=${2-}; [ -n "$out" ] || usage; shift 2 ;;
    --jobs) uint "$1" "${2-}"; jobs=$2; shift 2 ;;
    --timeout) uint "$1" "${2-}"; test_timeout=$2; shift 2 ;;
    --max-minutes) uint "$1" "${2-}"; max_minutes=$2; shift 2 ;;
    -R) include=${2-}; [ -n "$include" ] || usage; shift 2 ;;
    -E) exclude=${2-}; [ -n "$exclude" ] || usage; shift 2 ;;
    --no-daemon) daemon=0; shift ;;
    --no-stress) stress=0; shift ;;
    --stress-workers) uint "$1" "${2-}"; workers=$2; shift 2 ;;
    -h | --help) usage ;;
    *) say "unknown option '$1'"; usage ;;
    esac
done
for t in cmake ctest python3 flock; do
    command -v "$t" >/dev/null || { say "'$t' is needed"; exit 2; }
done

# ---- the tree under test
if [ -z "$build" ]; then
    build=$root/build
    say "building $build (RelWithDebInfo)"
    { cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
        ninja -C "$build" >/dev/null; } || { say "the build failed"; exit 2; }
fi
build=$(cd "$build" 2>/dev/null && pwd) || { say "no build directory '$build'"; exit 2; }
[ -f "$build/CTestTestfile.cmake" ] || { say "$build is not a configured build tree"; exit 2; }
[ -n "$out" ] || out=$root/build-flake-hunt/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)

# Every test of the suite, with the filters applied: the denominators.
list_tests() {
    local args=(-N)
    [ -n "$include" ] && args+=(-R "$include")
    [ -n "$exclude" ] && args+=(-E "$exclude")
    ctest --test-dir "$build" "${args[@]}" | sed -n 's/^ *Test *#[0-9]*: //p'
}
mapfile -t all_tests < <(list_tests)
[ ${#all_tests[@]} -gt 0 ] || { say "no test matches"; exit 2; }
has_daemon=0
if printf '%s\n' "${all_tests[@]}" | grep -qx "$daemon_test"; then
    if [ "$daemon" = 1 ]; then
        has_daemon=1
    else
        mapfile -t all_tests < <(printf '%s\n' "${all_tests[@]}" | grep -vx "$daemon_test")
    fi
fi

# ---- the load
stress_pid=
cleanup() {
    if [ -n "$stress_pid" ]; then
        kill -TERM "$stress_pid" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$stress_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$stress_pid" 2>/dev/null
        wait "$stress_pid" 2>/dev/null
        stress_pid=
    fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

if [ "$stress" = 1 ]; then
    if ! command -v stress-ng >/dev/null; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
            say "installing stress-ng"
            export DEBIAN_FRONTEND=noninteractive
            { apt-get update -qq && apt-get install -y -qq --no-install-recommends stress-ng; } \
                >/dev/null 2>&1
        fi
        command -v stress-ng >/dev/null || { say "stress-ng is needed (apt-get install stress-ng)"; exit 2; }
    fi
    # Its own timeout outlives the budget: it cannot outlast this script by
    # much even if this script is killed with SIGKILL.
    stress-ng --cpu "$workers" --timeout "$(((max_minutes + 60) * 60))s" --quiet \
        >"$out/stress-ng.log" 2>&1 &
    stress_pid=$!
    # children PID: how many processes PID has forked (pgrep -c prints 0
    # and fails when there is none).
    children() {
        local n
        n=$(pgrep -c -P "$1" 2>/dev/null) || true
        echo "${n:-0}"
    }
    # Started once it has forked its first worker, for at most 10 s.
    for _ in $(seq 1 100); do
        kill -0 "$stress_pid" 2>/dev/null || break
        [ "$(children "$stress_pid")" -ge 1 ] && break
        sleep 0.1
    done
    if ! kill -0 "$stress_pid" 2>/dev/null || [ "$(children "$stress_pid")" -lt 1 ]; then
        say "stress-ng did not start (see $out/stress-ng.log)"
        exit 2
    fi
fi

# ---- the runs
# junit_status XML DIR: one "pass|fail|skip NAME" line per test of a ctest
# JUnit report, each test's output saved as DIR/NAME.log.
junit_status() {
    python3 - "$1" "$2" <<'PY'
import os, sys, xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    name, status = case.get("name"), case.get("status")
    if case.find("failure") is not None or status == "fail":
        st = "fail"
    elif status in ("notrun", "disabled"):
        st = "skip"
    else:
        st = "pass"
    with open(os.path.join(sys.argv[2], name + ".log"), "w") as f:
        f.write(case.findtext("system-out") or "")
    print(st, name)
PY
}

# ctest_run DIR TAG CTEST_ARGS...: one ctest; results appended to
# DIR/status. A report that cannot be read is a failure of the run.
ctest_run() {
    local dir=$1 tag=$2
    shift 2
    ctest --test-dir "$build" --timeout "$test_timeout" --output-junit "$dir/junit-$tag.xml" \
        --test-output-size-failed 1048576 --test-output-size-passed 65536 "$@" \
        >>"$dir/ctest.out" 2>&1
    junit_status "$dir/junit-$tag.xml" "$dir" >>"$dir/status" ||
        echo "fail ctest-report-$tag" >>"$dir/status"
}

t_end=$((SECONDS + max_minutes * 60))
done_runs=0
say "$runs run(s) of ${#all_tests[@]} test(s), ctest -j$jobs, $([ "$stress" = 1 ] &&
    echo "stress-ng --cpu $workers" || echo "no stress-ng"); results in $out"
for ((r = 1; r <= runs; r++)); do
    if [ "$SECONDS" -ge "$t_end" ]; then
        say "time budget of $max_minutes min spent: stopping after $done_runs run(s)"
        break
    fi
    dir=$out/run-$r
    mkdir -p "$dir"
    : >"$dir/status"
    t0=$SECONDS
    args=(-j "$jobs" -E "${exclude:+$exclude|}^$daemon_test\$")
    [ -n "$include" ] && args+=(-R "$include")
    ctest_run "$dir" suite "${args[@]}"
    if [ "$has_daemon" = 1 ]; then
        if ! (flock -w 1800 9 && ctest_run "$dir" daemon -R "^$daemon_test\$") 9>>"$lock"; then
            grep -q " $daemon_test\$" "$dir/status" ||
                echo "fail $daemon_test (the journald lock was not free within 30 min)" >>"$dir/status"
        fi
    fi
    done_runs=$r
    nfail=$(grep -c '^fail ' "$dir/status")
    say "run $r/$runs: $(grep -c '^pass ' "$dir/status") passed, $nfail failed" \
        "($((SECONDS - t0)) s)$([ "$nfail" -gt 0 ] && awk '$1 == "fail" { printf "%s %s", (n++ ? "" : ":"), $2 }' "$dir/status")"
done
cleanup

# ---- the summary
{
    echo "flake hunt: $done_runs run(s) of ${#all_tests[@]} test(s);" \
        "$([ "$stress" = 1 ] && echo "stress-ng --cpu $workers beside ctest -j$jobs" || echo "no stress-ng, ctest -j$jobs");" \
        "build $build"
    ok_runs=0
    for ((r = 1; r <= done_runs; r++)); do
        grep -q '^fail ' "$out/run-$r/status" || ok_runs=$((ok_runs + 1))
    done
    echo "runs with every test passing: $ok_runs of $done_runs"
    echo
    printf '%-48s %6s %6s %6s\n' test passed failed ran
    for t in "${all_tests[@]}"; do
        p=0 f=0
        for ((r = 1; r <= done_runs; r++)); do
            s=$(awk -v t="$t" '$2 == t { print $1 }' "$out/run-$r/status")
            case $s in pass) p=$((p + 1)) ;; fail) f=$((f + 1)) ;; esac
        done
        printf '%-48s %6d %6d %6d\n' "$t" "$p" "$f" $((p + f))
    done
    echo
    any=0
    for ((r = 1; r <= done_runs; r++)); do
        while read -r s t; do
            [ "$s" = fail ] || continue
            [ $any = 0 ] && echo "failures (the test's output):"
            any=1
            if [ -f "$out/run-$r/$t.log" ]; then
                echo "  run $r: $t: $out/run-$r/$t.log"
            else
                echo "  run $r: $t: see $out/run-$r/ctest.out"
            fi
        done <"$out/run-$r/status"
    done
    [ $any = 0 ] && echo "no failure"
} | tee "$out/summary.txt"
[ "$done_runs" -gt 0 ] && ! grep -q '^fail ' "$out"/run-*/status
