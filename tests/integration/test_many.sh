#!/bin/bash
# 1,000 concurrent subscriptions in one process (engine_many) against the
# test server's heartbeat scenario: every subscription must get its events.
# usage: test_many.sh ENGINE_MANY SSE_TESTSERVER SCENARIO_DIR [COUNT [RELEASE]]
# RELEASE is engine_many's --release mode (how each subscription is let go
# from inside its own callback once it has its events).
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 ENGINE_MANY SSE_TESTSERVER SCENARIO_DIR [COUNT [RELEASE]]" >&2
    exit 2
fi
MANY=$1
SERVER=$2
SCN=$3
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
COUNT=${4:-1000}
RELEASE=${5:-stop}

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

itest_start_server "$WORK/port" "$WORK/server.err"
SERVER_PID=$ITEST_PID
URL="$ITEST_BASE/s/heartbeat?ms=250"

# Three events each at 250 ms apart keep all streams open together for a
# while; the 60 s budget is only a bound against hangs.
timeout 90 "$MANY" --url "$URL" --count "$COUNT" --events 3 --timeout 60 \
    --release "$RELEASE" >"$WORK/result.json"
rc=$?
cat "$WORK/result.json"
if [ $rc -ne 0 ]; then
    echo "engine_many failed (exit $rc)" >&2
    exit 1
fi
# The report must say so too: all subscriptions, every one complete.
if ! jq -e --argjson n "$COUNT" \
    '.subscriptions == $n and .short == 0 and .failures == 0 and .events == 3 * $n' \
    "$WORK/result.json" >/dev/null; then
    echo "engine_many report does not show every subscription complete" >&2
    exit 1
fi
echo "ok - $COUNT subscriptions each received 3 events (release: $RELEASE)"
