#!/bin/sh
# Runs every libFuzzer binary fuzz_<name> found in a build directory for
# SECONDS each, starting from a scratch copy of its seed corpus
# tests/fuzz/corpus/<name>/ (so the checked-in corpus is never modified).
#
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]      (SECONDS defaults to 20)
# Environment: FUZZ_MAX_LEN (default 8192), FUZZ_RSS_MB (default 2048),
#              FUZZ_ARGS (extra libFuzzer flags).
# Crash, leak, timeout and OOM inputs are kept in BUILD_DIR/fuzz-artifacts/.
# Exits 1 if any fuzzer failed, 2 on bad usage or when no fuzzer was found.
set -u

usage() {
    echo "usage: $0 BUILD_DIR [SECONDS]" >&2
    exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    usage
fi
build=$1
secs=${2:-20}
case $secs in
'' | *[!0-9]*) usage ;;
esac
[ -d "$build" ] || {
    echo "$0: no build directory $build" >&2
    exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
max_len=${FUZZ_MAX_LEN:-8192}
rss_mb=${FUZZ_RSS_MB:-2048}
artifacts="$build/fuzz-artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/ssemon-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

found=0
failed=""
for bin in $(find "$build" -path '*/CMakeFiles' -prune -o -type f -name 'fuzz_*' -perm -u+x \
    -print | sort); do
    name=${bin##*/}
    name=${name#fuzz_}
    found=$((found + 1))
    corpus="$work/$name"
    mkdir -p "$corpus" "$artifacts/$name"
    if [ -d "$here/corpus/$name" ]; then
        cp -R "$here/corpus/$name/." "$corpus/"
    else
        echo "$0: warning: no seed corpus $here/corpus/$name" >&2
    fi
    echo "== fuzz_$name: ${secs}s"
    # The outer timeout only guards against a fuzzer that ignores its own.
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    timeout $((secs + 120)) "$bin" -max_total_time="$secs" -max_len="$max_len" \
        -rss_limit_mb="$rss_mb" -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$name/" ${FUZZ_ARGS:-} "$corpus" \
        >"$work/$name.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
        tail -n 60 "$work/$name.log" >&2
        echo "== fuzz_$name FAILED (exit $rc); inputs in $artifacts/$name/" >&2
        failed="$failed fuzz_$name"
    else
        grep -E '^stat::number_of_executed_units|^Done' "$work/$name.log" || true
        echo "== fuzz_$name ok"
    fi
done

if [ $found -eq 0 ]; then
    echo "$0: no fuzz_* executables under $build (configure with -DSSEMON_FUZZ=ON, CC=clang)" >&2
    exit 2
fi
if [ -n "$failed" ]; then
    echo "FAILED:$failed" >&2
    exit 1
fi
echo "all $found fuzzer(s) ok"
