#!/bin/bash
# One-shot HTTP requests on the event loop (io/http_request) against the
# scripted test server and a Python echo server, both on loopback:
# http_request_test does the checks; this script writes its scenarios and
# starts and stops the servers.
# usage: test_http_request.sh HTTP_REQUEST_TEST SSE_TESTSERVER ECHO_SERVER_PY [--bench N]
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 HTTP_REQUEST_TEST SSE_TESTSERVER ECHO_SERVER_PY [--bench N]" >&2
    exit 2
fi
PROG=$1
SERVER=$2
ECHO=$3
shift 3

WORK=$(mktemp -d)
SCN=$WORK/scn
mkdir "$SCN"
SERVER_PID=
ECHO_PID=
cleanup() {
    local pid
    for pid in $SERVER_PID $ECHO_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

cat >"$SCN/hr-json.scn" <<'SCN'
header Content-Type: application/json
send {"task_id": "t-1", "ok": true}
close
SCN
cat >"$SCN/hr-500.scn" <<'SCN'
status 500
header Content-Type: text/plain
send internal error\n
close
SCN
cat >"$SCN/hr-big.scn" <<'SCN'
# 1000 x 100 bytes, delimited by the close
header Content-Type: text/plain
repeat 1000
  send 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789
end
close
SCN
cat >"$SCN/hang.scn" <<'SCN'
hang
SCN
cat >"$SCN/hr-redirect.scn" <<'SCN'
status 302
header Location: /s/hr-json
header Content-Length: 0
close
SCN
cat >"$SCN/hr-redirect-loop.scn" <<'SCN'
status 302
header Location: /s/hr-redirect-loop
header Content-Length: 0
close
SCN
cat >"$SCN/hr-slow.scn" <<'SCN'
header Content-Type: text/plain
sleep 400
send slow\n
close
SCN
cat >"$SCN/hr-stream.scn" <<'SCN'
header Content-Type: text/event-stream
header Cache-Control: no-cache
repeat 0
  send data: {i}\n\n
  sleep 20
end
SCN

itest_start_server "$WORK/port" "$WORK/server.err"
SERVER_PID=$ITEST_PID
TS=$ITEST_BASE

python3 "$ECHO" "$WORK/echo.port" 2>"$WORK/echo.err" &
ECHO_PID=$!
for _ in $(seq 1 100); do
    [ -s "$WORK/echo.port" ] && break
    kill -0 "$ECHO_PID" 2>/dev/null || break
    sleep 0.05
done
if [ ! -s "$WORK/echo.port" ]; then
    echo "echo server did not start" >&2
    cat "$WORK/echo.err" >&2
    exit 1
fi
ECHO_URL="http://127.0.0.1:$(cat "$WORK/echo.port")"

timeout 120 "$PROG" --ts "$TS" --echo "$ECHO_URL" "$@"
rc=$?
if [ $rc -ne 0 ]; then
    echo "http_request_test failed (exit $rc)" >&2
    sed 's/^/    | /' "$WORK/server.err" | head -20 >&2
    exit 1
fi
