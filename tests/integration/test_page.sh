#!/bin/bash
# Integration test of the daemon's HTML status page (GET /) in a real
# browser: the daemon (`ssemon run`) watches a healthy stream and a hostile
# one (markup, quotes and an invalid byte in an event's data, markup in a
# description), headless Chromium loads the page (--dump-dom), the DOM is
# checked (a row per subscription, the hostile excerpt as text, no script
# element, an inline SVG chart per subscription), and a screenshot is kept as a build
# artifact.
# usage: test_page.sh SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR ARTIFACT_DIR
# Exit 77 (skipped) only when chromium is not installed (scripts/deps
# installs it). Every wait is bounded; talks to 127.0.0.1 only.
set -u

if [ $# -ne 5 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR ARTIFACT_DIR" >&2
    exit 2
fi
SSEMON=$1
SERVER=$2
SCN=$3
CONTRACTS=$(realpath "$4")
ARTIFACTS=$5
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: chromium not found (scripts/deps installs Debian's chromium package)" >&2
    exit 77
fi
for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d)
SERVER_PID=
DAEMON_PID=
HOSTILE_PID=
page_cleanup() {
    for pid in $DAEMON_PID $HOSTILE_PID $SERVER_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap page_cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
itest_start_server "$WORK/port" "$WORK/server.err" \
    --route '/api/utils/version/stream=version-stream'
SERVER_PID=$ITEST_PID
BASE=$ITEST_BASE
FAILS=0
PASSES=0

# A version stream whose version event is not JSON but markup, quotes and
# a byte that is not UTF-8: a data_not_json violation whose excerpt the
# page must show as text.
mkdir -p "$WORK/scn"
cat >"$WORK/scn/hostile.scn" <<'SCN'
header Content-Type: text/event-stream; charset=utf-8
send event: connection_open\ndata: {"status": "connected", "correlation_id": "it-hostile"}\n\n
send event: version\ndata: <script>alert(1)</script> "dq" 'sq' \xff end\n\n
repeat 0
  sleep 200
  send event: heartbeat\ndata: {"timestamp": "keepalive", "correlation_id": "it-hostile"}\n\n
end
SCN
SCN_SAVED=$SCN
SCN=$WORK/scn
itest_start_server "$WORK/hport" "$WORK/hostile.err" --route '/hostile=hostile'
HOSTILE_PID=$ITEST_PID
HBASE=$ITEST_BASE
SCN=$SCN_SAVED

SP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STATUS="http://127.0.0.1:$SP"
cat >"$WORK/ssemon.json" <<JSON
{"status": {"listen": "127.0.0.1:$SP"},
 "contracts_dir": "$CONTRACTS",
 "defaults": {"backoff_min_ms": 5000, "backoff_max_ms": 10000},
 "subscriptions": [
  {"name": "steady", "url": "$BASE/api/utils/version/stream?request_id=it-steady&hb_ms=200",
   "contract": "version-stream", "vars": {"request_id": "it-steady"}, "heartbeat_interval_s": 1,
   "description": "the healthy one"},
  {"name": "hostile", "url": "$HBASE/hostile", "contract": "version-stream",
   "vars": {"request_id": "it-hostile"}, "heartbeat_interval_s": 1,
   "description": "<img src=x onerror=alert(2)> & 'quoted'"},
  {"name": "broken", "url": "$BASE/nothing", "contract": "version-stream",
   "vars": {"request_id": "it-broken"}}
 ]}
JSON
"$SSEMON" run -c "$WORK/ssemon.json" --log-target stderr 2>"$WORK/daemon.err" &
DAEMON_PID=$!

# Until the page shows the hostile excerpt and the steady stream's events
# (bounded: 200 x 50 ms).
ready=no
for _ in $(seq 1 200); do
    if curl -sf --max-time 5 "$STATUS/" -o "$WORK/page.html" 2>/dev/null &&
        grep -q 'data_not_json' "$WORK/page.html" && grep -q 'http_status' "$WORK/page.html" &&
        grep -q '<b>steady</b>.*<td>streaming</td><td><span class="ok">healthy' "$WORK/page.html"; then
        ready=yes
        break
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
done
check "the page shows the violations and the healthy stream" "$WORK/daemon.err" equals "$ready" yes

curl -s -D "$WORK/head.txt" -o /dev/null --max-time 5 "$STATUS/?refresh=30"
check "GET / is text/html; charset=utf-8" "$WORK/head.txt" \
    grep -qi '^content-type: text/html; charset=utf-8' "$WORK/head.txt"
curl -sf --max-time 5 "$STATUS/?refresh=30" -o "$WORK/refresh.html"
check "?refresh=30 sets a refresh meta" "$WORK/refresh.html" \
    grep -q '<meta http-equiv="refresh" content="30">' "$WORK/refresh.html"
check "no refresh without ?refresh" "$WORK/page.html" \
    sh -c "! grep -q 'http-equiv' '$WORK/page.html'"
curl -sI --max-time 5 "$STATUS/" -o "$WORK/headreq.txt"
check "HEAD / answers 200 text/html" "$WORK/headreq.txt" \
    sh -c "grep -q '^HTTP/1.1 200' '$WORK/headreq.txt' && grep -qi '^content-type: text/html' '$WORK/headreq.txt'"

# The real browser: headless Chromium, a private profile, bounded in time.
run_chromium() {
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --user-data-dir="$WORK/profile" "$@" 2>>"$WORK/chromium.err"
}
run_chromium --dump-dom "$STATUS/" >"$WORK/dom.html"
check "chromium loads the page" "$WORK/chromium.err" grep -q '</html>' "$WORK/dom.html"
check "a row per subscription" "$WORK/dom.html" \
    equals "$(grep -o '<tr class="sub">' "$WORK/dom.html" | wc -l)" 3
for name in steady hostile broken; do
    check "row $name" "$WORK/dom.html" grep -q "<b>$name</b>" "$WORK/dom.html"
done
check "no script element in the DOM" "$WORK/dom.html" \
    sh -c "! grep -qi '<script' '$WORK/dom.html'"
check "no img element in the DOM" "$WORK/dom.html" sh -c "! grep -qi '<img' '$WORK/dom.html'"
check "the hostile excerpt is text" "$WORK/dom.html" \
    grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$WORK/dom.html"
check "the hostile description is text" "$WORK/dom.html" \
    grep -qF '&lt;img src=x onerror=alert(2)&gt; &amp;' "$WORK/dom.html"
check "links to /status, /metrics, /readyz" "$WORK/dom.html" \
    sh -c "grep -q 'href=\"/status\"' '$WORK/dom.html' && grep -q 'href=\"/metrics\"' '$WORK/dom.html' && grep -q 'href=\"/readyz\"' '$WORK/dom.html'"
check "an SVG chart per running subscription" "$WORK/dom.html" \
    equals "$(grep -o '<svg class="chart"' "$WORK/dom.html" | wc -l)" 3
check "the steady stream's chart has events and heartbeat gaps" "$WORK/dom.html" \
    grep -q '<b>steady</b>.*class="events".*class="gaps"' "$WORK/dom.html"
check "the hostile stream's chart marks violations" "$WORK/dom.html" \
    grep -q '<b>hostile</b>.*class="violations"' "$WORK/dom.html"

mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS/status-page.png"
(cd "$WORK" && run_chromium --screenshot="$WORK/status-page.png" --window-size=1280,1600 \
    "$STATUS/" >/dev/null)
if [ -s "$WORK/status-page.png" ] && head -c 8 "$WORK/status-page.png" | grep -q PNG; then
    cp "$WORK/status-page.png" "$ARTIFACTS/status-page.png"
    pass "screenshot kept as $ARTIFACTS/status-page.png"
else
    fail "screenshot" "$WORK/chromium.err"
fi

# The same page at a phone's width (390 CSS pixels), kept beside it.
rm -f "$ARTIFACTS/status-page-phone.png"
(cd "$WORK" && run_chromium --screenshot="$WORK/status-page-phone.png" --window-size=390,1400 \
    "$STATUS/" >/dev/null)
if [ -s "$WORK/status-page-phone.png" ] && head -c 8 "$WORK/status-page-phone.png" | grep -q PNG; then
    cp "$WORK/status-page-phone.png" "$ARTIFACTS/status-page-phone.png"
    pass "phone-width screenshot kept as $ARTIFACTS/status-page-phone.png"
else
    fail "phone-width screenshot" "$WORK/chromium.err"
fi

kill -TERM "$DAEMON_PID" 2>/dev/null
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
echo "passed: $PASSES, failed: $FAILS"
[ "$FAILS" -eq 0 ]
