#!/bin/bash
# Integration test of the daemon's status endpoint and `ssemon status`: the
# real daemon (`ssemon run`) watching the scripted test server, its
# /status, /status/NAME, /metrics (checked by promtool), /healthz and
# /readyz scraped over loopback and over a unix socket, methods and paths it
# refuses, and abuse of the port (garbage, an oversized request, clients
# that never finish, 200 connections at once) while a monitored stream
# keeps being judged.
# usage: test_status.sh SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR
# Every wait is bounded; talks to 127.0.0.1 only.
set -u

if [ $# -ne 4 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR" >&2
    exit 2
fi
SSEMON=$1
SERVER=$2
SCN=$3
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
CONTRACTS=$(realpath "$4")
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
if ! command -v promtool >/dev/null; then
    echo "promtool not found; installing Debian's prometheus package (it ships promtool)"
    if ! { apt-get install -y prometheus >/dev/null 2>&1 ||
        { apt-get update >/dev/null 2>&1 && apt-get install -y prometheus >/dev/null 2>&1; }; } ||
        ! command -v promtool >/dev/null; then
        echo "FAIL: promtool is required and 'apt-get install -y prometheus' did not provide it" >&2
        exit 1
    fi
fi

WORK=$(mktemp -d)
SERVER_PID=
DAEMON_PID=
HOLD_PID=
cleanup() {
    for pid in $HOLD_PID $DAEMON_PID $SERVER_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

FAILS=0
PASSES=0

itest_start_server "$WORK/port" "$WORK/server.err" \
    --route '/api/utils/version/stream=version-stream'
SERVER_PID=$ITEST_PID
BASE=$ITEST_BASE

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A stream judged healthy (a heartbeat every 200 ms, 1 s interval in the
# contract's terms) and, when asked, one that always fails (404).
write_config() {
    local file=$1 listen=$2 with_broken=$3
    {
        printf '{"status": {"listen": "%s"},\n' "$listen"
        printf ' "contracts_dir": "%s",\n' "$CONTRACTS"
        # The failing one spends its time in backoff, not reconnecting.
        printf ' "defaults": {"backoff_min_ms": 5000, "backoff_max_ms": 10000},\n'
        printf ' "subscriptions": [\n'
        printf '  {"name": "steady", "url": "%s/api/utils/version/stream?request_id=it-steady&hb_ms=200",' "$BASE"
        printf '   "contract": "version-stream", "vars": {"request_id": "it-steady"}, "heartbeat_interval_s": 1}'
        if [ "$with_broken" = yes ]; then
            printf ',\n  {"name": "broken", "url": "%s/nothing", "contract": "version-stream",' "$BASE"
            printf '   "vars": {"request_id": "it-broken"}}'
        fi
        printf '\n ]}\n'
    } >"$file"
}

# start_daemon CONFIG: starts `ssemon run`, waits for /healthz (via $STATUS).
start_daemon() {
    "$SSEMON" run -c "$1" --log-target stderr 2>"$WORK/daemon.err" &
    DAEMON_PID=$!
    for _ in $(seq 1 200); do
        if curl -sf $CURL_TARGET "$STATUS/healthz" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "daemon did not start" >&2
    cat "$WORK/daemon.err" >&2
    exit 1
}

stop_daemon() {
    kill -TERM "$DAEMON_PID" 2>/dev/null
    local rc=0
    wait "$DAEMON_PID" || rc=$?
    DAEMON_PID=
    return $rc
}

# jq_status PATH FILTER: FILTER applied to GET PATH.
jq_status() { curl -sf --max-time 20 $CURL_TARGET "$STATUS$1" | jq -r "$2" 2>/dev/null; }

# wait_for PATH FILTER: until FILTER over GET PATH yields true (bounded).
wait_for() {
    for _ in $(seq 1 200); do
        [ "$(jq_status "$1" "$2")" = true ] && return 0
        sleep 0.05
    done
    return 1
}

# ssemon_status NAME ARGS...: runs `ssemon status`; output in $WORK/NAME.out/.err, rc in .rc.
ssemon_status() {
    local name=$1
    shift
    timeout 20 "$SSEMON" status "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    echo $? >"$WORK/$name.rc"
}
rc_of() { cat "$WORK/$1.rc"; }

# ================= phase 1: everything healthy =================
SP=$(free_port)
STATUS="http://127.0.0.1:$SP"
CURL_TARGET=
write_config "$WORK/healthy.json" "127.0.0.1:$SP" no
start_daemon "$WORK/healthy.json"

check "healthy stream becomes healthy and counts events" "$WORK/daemon.err" \
    wait_for /status/steady '.healthy == true and .events >= 3'
curl -s -o "$WORK/readyz1.body" -w '%{http_code}' "$STATUS/readyz" >"$WORK/readyz1.code"
check "/readyz is 200 ok when every subscription is healthy" "$WORK/readyz1.body" \
    equals "$(cat "$WORK/readyz1.code") $(cat "$WORK/readyz1.body")" "200 ok"

ssemon_status st_ok --url "$STATUS"
check "ssemon status exits 0 when all healthy" "$WORK/st_ok.err" equals "$(rc_of st_ok)" 0
check "ssemon status prints a header and one line per subscription" "$WORK/st_ok.out" \
    equals "$(awk '{print $1, $2, $3}' "$WORK/st_ok.out")" "$(printf 'NAME STATE HEALTHY\nsteady streaming yes')"
ssemon_status st_ok_json --json --url "$STATUS"
check "ssemon status --json exits 0 and prints the document" "$WORK/st_ok_json.out" \
    equals "$(rc_of st_ok_json) $(jq -r '.subscriptions[0].name' "$WORK/st_ok_json.out")" "0 steady"
ssemon_status st_ok_one --url "$STATUS" steady
check "ssemon status NAME shows that subscription" "$WORK/st_ok_one.out" \
    equals "$(rc_of st_ok_one) $(tail -n 1 "$WORK/st_ok_one.out" | awk '{print $1, $3}')" "0 steady yes"
ssemon_status st_unknown --url "$STATUS" nope
check "ssemon status with an unknown NAME exits 2 with a message" "$WORK/st_unknown.err" \
    grep -q "no subscription named 'nope'" "$WORK/st_unknown.err"
check "... exit status 2" "$WORK/st_unknown.err" equals "$(rc_of st_unknown)" 2

check "SIGTERM stops the daemon with status 0" "$WORK/daemon.err" stop_daemon

# ================= phase 2: one subscription failing =================
SP=$(free_port)
STATUS="http://127.0.0.1:$SP"
write_config "$WORK/mixed.json" "127.0.0.1:$SP" yes
start_daemon "$WORK/mixed.json"
check "failing subscription records an http_status violation" "$WORK/daemon.err" \
    wait_for /status/broken '.violations.by_class.http_status >= 1 and .last_violation.class == "http_status"'
# The metrics checks below count heartbeats and the first-event latency: wait
# until the steady stream has delivered a heartbeat, not only until it is healthy.
check "steady subscription is healthy and has sent a heartbeat" "$WORK/daemon.err" \
    wait_for /status/steady '.healthy == true and .heartbeats >= 1'

curl -s -D "$WORK/status.head" -o "$WORK/status.json" "$STATUS/status"
check "/status is application/json" "$WORK/status.head" \
    grep -qi '^Content-Type: application/json' "$WORK/status.head"
check "/status has exactly the documented keys" "$WORK/status.json" equals \
    "$(jq -c '[keys_unsorted, (.subscriptions[0] | keys_unsorted), (.subscriptions[0].violations | keys_unsorted), (.subscriptions[1].last_violation | keys_unsorted), (.recent_violations[0] | keys_unsorted)]' "$WORK/status.json")" \
    '[["version","started_at","uptime_s","config","subscriptions","recent_violations","probes","journal","status_exposed"],["name","url","contract","state","healthy","conditions","connected_since","reconnects","events","heartbeats","bytes","last_event_at","last_heartbeat_at","violations","last_violation"],["total","by_class"],["class","severity","message","event","state","excerpt","at"],["subscription","class","severity","message","event","state","excerpt","at"]]'
check "/status values: config, states, health, every class counted" "$WORK/status.json" equals \
    "$(jq -c '[.config.path, (.started_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")), [.subscriptions[] | .name, .contract, (if .name == "broken" and .state == "connecting" then "backoff" else .state end), .healthy, (.violations.by_class | length)], .subscriptions[0].last_violation, (.subscriptions[0].connected_since | test("Z$")), (.recent_violations | map(.subscription) | unique)]' "$WORK/status.json")" \
    "[\"$WORK/mixed.json\",true,[\"steady\",\"version-stream\",\"streaming\",true,15,\"broken\",\"version-stream\",\"backoff\",false,15],null,true,[\"broken\"]]"

curl -s -o "$WORK/one.json" -w '%{http_code}' "$STATUS/status/broken" >"$WORK/one.code"
check "/status/NAME is that subscription's object" "$WORK/one.json" equals \
    "$(cat "$WORK/one.code") $(jq -r '.name + " " + .last_violation.class' "$WORK/one.json")" "200 broken http_status"
curl -s -o "$WORK/nope.json" -w '%{http_code}' "$STATUS/status/nope" >"$WORK/nope.code"
check "/status/NAME of an unknown name is a 404 JSON error" "$WORK/nope.json" equals \
    "$(cat "$WORK/nope.code") $(jq -c . "$WORK/nope.json")" '404 {"error":"no such subscription","name":"nope"}'

curl -s -D "$WORK/metrics.head" -o "$WORK/metrics.txt" "$STATUS/metrics"
check "/metrics has the Prometheus 0.0.4 content type" "$WORK/metrics.head" \
    grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$WORK/metrics.head"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1
echo $? >"$WORK/promtool.rc"
check "promtool check metrics accepts /metrics" "$WORK/promtool.out" equals "$(cat "$WORK/promtool.rc")" 0
metric() { awk -v k="$1" '$1 == k {print $2}' "$WORK/metrics.txt"; }
check "/metrics: build info, up, healthy" "$WORK/metrics.txt" equals \
    "$(metric 'ssemon_subscription_up{subscription="steady"}') $(metric 'ssemon_subscription_up{subscription="broken"}') $(metric 'ssemon_subscription_healthy{subscription="steady"}') $(metric 'ssemon_subscription_healthy{subscription="broken"}') $(grep -c '^ssemon_build_info{version="' "$WORK/metrics.txt")" \
    "1 0 1 0 1"
check "/metrics: heartbeat events counted by kind" "$WORK/metrics.txt" \
    test "$(metric 'ssemon_events_total{subscription="steady",event="heartbeat"}')" -ge 1
check "/metrics: every violation class for every subscription" "$WORK/metrics.txt" equals \
    "$(grep -c '^ssemon_violations_total{subscription="steady",class="' "$WORK/metrics.txt") $(grep -c '^ssemon_violations_total{subscription="broken",class="' "$WORK/metrics.txt") $(metric 'ssemon_violations_total{subscription="steady",class="http_status"}')" \
    "15 15 0"
check "/metrics: the failure is counted" "$WORK/metrics.txt" \
    test "$(metric 'ssemon_violations_total{subscription="broken",class="http_status"}')" -ge 1
check "/metrics: heartbeat gap histogram complete" "$WORK/metrics.txt" equals \
    "$(grep -c '^ssemon_heartbeat_gap_seconds_bucket{subscription="steady",le=' "$WORK/metrics.txt") $(grep -c '^ssemon_first_event_latency_seconds_count{subscription="steady"}' "$WORK/metrics.txt")" \
    "13 1"

curl -s -o "$WORK/healthz.body" -w '%{http_code}' "$STATUS/healthz" >"$WORK/healthz.code"
check "/healthz is 200 ok" "$WORK/healthz.body" equals "$(cat "$WORK/healthz.code") $(cat "$WORK/healthz.body")" "200 ok"
curl -s -o "$WORK/readyz2.body" -w '%{http_code}' "$STATUS/readyz" >"$WORK/readyz2.code"
check "/readyz is 503 naming the unhealthy subscription" "$WORK/readyz2.body" \
    equals "$(cat "$WORK/readyz2.code") $(cat "$WORK/readyz2.body")" "503 broken"

# raw REQUEST: the bytes the server answers to REQUEST on a fresh connection.
raw() {
    python3 - "$SP" "$1" <<'EOF'
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(os.fsencode(sys.argv[2]))
out = b""
while True:
    try:
        b = s.recv(65536)
    except (ConnectionResetError, socket.timeout):
        break
    if not b:
        break
    out += b
sys.stdout.buffer.write(out)
EOF
}
raw $'HEAD /status HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' >"$WORK/head.out"
check "HEAD /status: 200, a Content-Length, no body" "$WORK/head.out" python3 - "$WORK/head.out" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
head, sep, body = data.partition(b"\r\n\r\n")
lines = head.decode().split("\r\n")
cl = [l for l in lines if l.lower().startswith("content-length:")]
sys.exit(0 if lines[0].startswith("HTTP/1.1 200") and sep and body == b"" and cl and int(cl[0].split(":")[1]) > 100 else 1)
EOF
for target in /metrics /healthz /readyz /status/steady; do
    code=$(curl -s -I -o /dev/null -w '%{http_code}' "$STATUS$target")
    get=$(curl -s -o /dev/null -w '%{http_code}' "$STATUS$target")
    check "HEAD $target answers like GET ($get)" /dev/null equals "$code" "$get"
done
for m in POST PUT DELETE PATCH OPTIONS; do
    curl -s -D "$WORK/m.head" -o /dev/null -X "$m" "$STATUS/status"
    check "$m /status is 405 with Allow: GET, HEAD" "$WORK/m.head" equals \
        "$(head -n 1 "$WORK/m.head" | tr -d '\r' | cut -d' ' -f2) $(grep -i '^Allow:' "$WORK/m.head" | tr -d '\r' | cut -d' ' -f2-)" \
        "405 GET, HEAD"
done
for target in /nothing /status/ /statusx /metrics/x; do
    check "GET $target is 404" /dev/null equals "$(curl -s -o /dev/null -w '%{http_code}' "$STATUS$target")" 404
done

ssemon_status st_mixed --url "$STATUS"
check "ssemon status exits 1 when a subscription is unhealthy" "$WORK/st_mixed.out" equals "$(rc_of st_mixed)" 1
check "ssemon status shows the failure and its last violation" "$WORK/st_mixed.out" \
    grep -Eq '^broken +(backoff|connecting) +NO +0 +[0-9]+ +- +- +OPEN http_status since [0-9]+[smhd] ago; http_status [0-9]+[smhd] ago: HTTP status 404' "$WORK/st_mixed.out"
ssemon_status st_mixed_json --json --url "$STATUS"
check "ssemon status --json exits 1 too" "$WORK/st_mixed_json.out" equals \
    "$(rc_of st_mixed_json) $(jq -r '.subscriptions | length' "$WORK/st_mixed_json.out")" "1 2"
ssemon_status st_steady --url "$STATUS" steady
check "ssemon status NAME of a healthy one exits 0" "$WORK/st_steady.out" equals "$(rc_of st_steady)" 0

# ---- abuse, while the steady stream keeps being judged ----
events_before=$(jq_status /status/steady .events)
raw $'\x01\x02garbage\xff\r\n\r\n' >"$WORK/garbage.out"
check "garbage is refused" "$WORK/garbage.out" bash -c "! grep -q '^HTTP/1.1 200' '$WORK/garbage.out'"
raw "GET /status HTTP/1.1"$'\r\n'"X-Big: $(head -c 65536 /dev/zero | tr '\0' a)"$'\r\n\r\n' >"$WORK/big.out"
check "an oversized request is refused" "$WORK/big.out" bash -c "! grep -q '^HTTP/1.1 200' '$WORK/big.out'"

# 200 connections at once: 100 that never send a byte or never finish
# their request, held for 3 s, and 100 that ask for /status.
python3 - "$SP" >"$WORK/hold.out" 2>&1 <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
held = []
for i in range(100):
    s = socket.socket()
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    if i % 2:
        s.sendall(b"GET /status HTTP/1.1\r\nHost: t\r\n")
    held.append(s)
time.sleep(3)
print("held", len(held))
EOF
HOLD_PID=$!
python3 - "$SP" >"$WORK/many.out" 2>&1 <<'EOF'
import socket, sys, selectors, time
port = int(sys.argv[1])
sel = selectors.DefaultSelector()
socks = []
start = time.monotonic()
for i in range(100):
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /status HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, bytearray())
    socks.append(s)
sent = time.monotonic()
done = 0
ok = 0
# How each unanswered one ended, for the failure's output.
bad = []
deadline = start + 60
while done < len(socks) and time.monotonic() < deadline:
    for key, _ in sel.select(timeout=1):
        reset = False
        try:
            b = key.fileobj.recv(65536)
        except BlockingIOError:
            continue
        except ConnectionResetError:
            b = b""
            reset = True
        if b:
            key.data.extend(b)
            continue
        sel.unregister(key.fileobj)
        done += 1
        if key.data.startswith(b"HTTP/1.1 200") and b'"subscriptions"' in key.data:
            ok += 1
        else:
            bad.append("#%d %s after %d bytes at %.2f s: %r" % (
                socks.index(key.fileobj), "reset" if reset else "closed", len(key.data),
                time.monotonic() - start, bytes(key.data[:60])))
print("answered", ok, "of", len(socks))
print("connected and sent all 100 in %.2f s" % (sent - start))
print("unanswered by the deadline:", len(socks) - done)
for line in bad:
    print(line)
EOF
check "100 concurrent /status requests all answered despite 100 held connections" "$WORK/many.out" \
    grep -q '^answered 100 of 100$' "$WORK/many.out"
wait "$HOLD_PID"
HOLD_PID=
check "the held connections were all made" "$WORK/hold.out" grep -q '^held 100$' "$WORK/hold.out"
check "monitoring went on: the steady stream's event count kept rising" /dev/null \
    wait_for /status/steady ".events > $events_before"
check "... and it was never late: no violation, still healthy" "$WORK/daemon.err" equals \
    "$(jq_status /status/steady '[.violations.total, .healthy] | @text')" "[0,true]"
curl -s -o "$WORK/after.body" -w '%{http_code}' "$STATUS/healthz" >"$WORK/after.code"
check "the endpoint still answers after the abuse" "$WORK/after.body" \
    equals "$(cat "$WORK/after.code") $(cat "$WORK/after.body")" "200 ok"

check "SIGTERM stops the daemon with status 0 (phase 2)" "$WORK/daemon.err" stop_daemon

ssemon_status st_down --url "$STATUS"
check "ssemon status exits 2 when the daemon cannot be reached" "$WORK/st_down.err" equals \
    "$(rc_of st_down) $(grep -c 'cannot reach the daemon' "$WORK/st_down.err")" "2 1"

# ================= phase 3: a unix socket =================
SOCK="$WORK/status.sock"
STATUS="http://localhost"
CURL_TARGET="--unix-socket $SOCK"
write_config "$WORK/unix.json" "$SOCK" no
start_daemon "$WORK/unix.json"
check "the unix socket has mode 0660" /dev/null equals "$(stat -c %a "$SOCK")" 660
check "steady is healthy over the unix socket" "$WORK/daemon.err" wait_for /status/steady '.healthy == true'
ssemon_status st_unix --url "unix:$SOCK"
check "ssemon status --url unix:PATH" "$WORK/st_unix.out" equals \
    "$(rc_of st_unix) $(tail -n 1 "$WORK/st_unix.out" | awk '{print $1, $3}')" "0 steady yes"
check "SIGTERM stops the daemon with status 0 (phase 3)" "$WORK/daemon.err" stop_daemon
check "the unix socket is removed on exit" /dev/null test ! -e "$SOCK"

# ================= phase 4: ages, whole messages, disabled =================
SP=$(free_port)
STATUS="http://127.0.0.1:$SP"
CURL_TARGET=
REFUSED_PORT=$(free_port) # nothing listens there: connect_failed, a long message
{
    printf '{"status": {"listen": "127.0.0.1:%s"},\n' "$SP"
    printf ' "contracts_dir": "%s",\n' "$CONTRACTS"
    printf ' "defaults": {"backoff_min_ms": 5000, "backoff_max_ms": 10000},\n'
    printf ' "subscriptions": [\n'
    printf '  {"name": "steady", "url": "%s/api/utils/version/stream?request_id=it-steady&hb_ms=200",' "$BASE"
    printf '   "contract": "version-stream", "vars": {"request_id": "it-steady"}, "heartbeat_interval_s": 1,'
    printf '   "description": "The version stream \\u2014 \\"steady\\" <prod>"},\n'
    printf '  {"name": "refused", "url": "http://127.0.0.1:%s/s", "contract": "version-stream",' "$REFUSED_PORT"
    printf '   "vars": {"request_id": "it-refused"}},\n'
    printf '  {"name": "paused", "url": "%s/nothing", "contract": "version-stream",' "$BASE"
    printf '   "vars": {"request_id": "it-paused"}, "enabled": false, "description": "paused for the migration"}\n'
    printf ' ]}\n'
} >"$WORK/ages.json"
start_daemon "$WORK/ages.json"
check "phase 4: steady has events and heartbeats, refused a connect_failed" "$WORK/daemon.err" \
    wait_for /status '(.subscriptions[] | select(.name == "steady") | .heartbeats >= 1 and .events >= 1) and (.subscriptions[] | select(.name == "refused") | .last_violation.class == "connect_failed")'
check "/status lists the disabled subscription last, state disabled" /dev/null equals \
    "$(jq_status /status '[.subscriptions[-1] | .name, .state, .healthy, .contract] | @json')" \
    '["paused","disabled",true,"version-stream"]'
check "/status/NAME of a disabled subscription" /dev/null equals \
    "$(jq_status /status/paused '[.name, .state] | @json')" '["paused","disabled"]'
check "/status: description of a running and of a disabled subscription, only when set" /dev/null equals \
    "$(jq_status /status '[.subscriptions[] | .description] | @json')" \
    '["The version stream — \"steady\" <prod>",null,"paused for the migration"]'
check "/status keeps the member order: name, description, url" /dev/null equals \
    "$(jq_status /status/steady 'keys_unsorted[0:3] | @json')" '["name","description","url"]'
MSG=$(jq_status /status/refused .last_violation.message)
check "the refused message is longer than a narrow terminal ($MSG)" /dev/null test "${#MSG}" -gt 70
ssemon_status st_pipe --url "$STATUS"
check "ssemon status: exit 1 (refused is unhealthy; paused does not count)" "$WORK/st_pipe.out" \
    equals "$(rc_of st_pipe)" 1
check "ssemon status: header has LAST EVENT and LAST HB" "$WORK/st_pipe.out" \
    grep -Eq '^NAME +STATE +HEALTHY +EVENTS +VIOLATIONS +LAST EVENT +LAST HB +LAST VIOLATION$' "$WORK/st_pipe.out"
check "ssemon status: steady's ages of the last event and heartbeat" "$WORK/st_pipe.out" \
    grep -Eq '^steady +streaming +yes +[0-9]+ +0 +[0-9]+s +[0-9]+s +-$' "$WORK/st_pipe.out"
check "ssemon status: refused has no event nor heartbeat yet" "$WORK/st_pipe.out" \
    grep -Eq '^refused +[a-z]+ +NO +0 +[0-9]+ +- +- +OPEN ' "$WORK/st_pipe.out"
check "ssemon status: the disabled subscription is listed as disabled" "$WORK/st_pipe.out" \
    grep -Eq '^paused +disabled +- +- +- +- +- +-$' "$WORK/st_pipe.out"
check "ssemon status, stdout not a terminal: the whole message" "$WORK/st_pipe.out" \
    grep -qF ": $MSG" "$WORK/st_pipe.out"
# line_under FILE NAME TEXT: the line after NAME's row is TEXT.
line_under() { [ "$(grep -A1 -E "^$2 " "$1" | sed -n 2p)" = "$3" ]; }
check "ssemon status: the description on an indented line under its row" "$WORK/st_pipe.out" \
    line_under "$WORK/st_pipe.out" steady '    The version stream — "steady" <prod>'
check "ssemon status: the disabled one's description under its row" "$WORK/st_pipe.out" \
    line_under "$WORK/st_pipe.out" paused '    paused for the migration'
ssemon_status st_paused --url "$STATUS" paused
check "ssemon status NAME of a disabled one: exit 0, state disabled" "$WORK/st_paused.out" equals \
    "$(rc_of st_paused) $(grep '^paused ' "$WORK/st_paused.out" | awk '{print $1, $2}')" "0 paused disabled"
# On a terminal 60 columns wide: cut, unless --wide.
on_tty() {
    local name=$1
    shift
    timeout 20 script -qec "stty cols 60 rows 50; $(printf '%q ' "$SSEMON" status "$@")" /dev/null \
        </dev/null >"$WORK/$name.out" 2>&1
    tr -d '\r' <"$WORK/$name.out" >"$WORK/$name.txt"
}
on_tty st_tty --url "$STATUS"
cut_on_tty() { grep -q '^refused .*\.\.\.$' "$1" && ! grep -qF -- "$MSG" "$1"; }
check "ssemon status on a 60-column terminal cuts the message" "$WORK/st_tty.txt" \
    cut_on_tty "$WORK/st_tty.txt"
on_tty st_tty_wide --wide --url "$STATUS"
check "ssemon status --wide on a terminal: the whole message" "$WORK/st_tty_wide.txt" \
    grep -qF -- ": $MSG" "$WORK/st_tty_wide.txt"
# A reload that changes only a description: the new text, the same stream.
SINCE=$(jq_status /status/steady .connected_since)
sed 's/The version stream \\u2014/Renamed:/' "$WORK/ages.json" >"$WORK/ages2.json"
mv "$WORK/ages2.json" "$WORK/ages.json"
kill -HUP "$DAEMON_PID"
check "reload: the new description shows" "$WORK/daemon.err" \
    wait_for /status/steady '.description == "Renamed: \"steady\" <prod>"'
check "reload: the stream was kept (same connected_since, no reconnect)" "$WORK/daemon.err" equals \
    "$(jq_status /status/steady '[.connected_since, .reconnects] | @json')" "[\"$SINCE\",0]"
check "SIGTERM stops the daemon with status 0 (phase 4)" "$WORK/daemon.err" stop_daemon

# ================= usage errors =================
ssemon_status u1 --bogus
ssemon_status u2 a b
ssemon_status u3 'bad name!'
ssemon_status u4 --url
ssemon_status u5 --url unix:relative
check "usage errors exit 2" /dev/null equals "$(rc_of u1)$(rc_of u2)$(rc_of u3)$(rc_of u4)$(rc_of u5)" 22222
check "a bad flag: the error line first, then the usage" "$WORK/u1.err" equals \
    "$(head -n 2 "$WORK/u1.err")" "ssemon status: unknown option '--bogus'
usage: ssemon status [--url URL] [--json] [--wide] [NAME]"
check "a missing argument: the error line first, then the usage" "$WORK/u4.err" equals \
    "$(head -n 2 "$WORK/u4.err")" "ssemon status: option '--url' needs an argument
usage: ssemon status [--url URL] [--json] [--wide] [NAME]"
check "too many NAMEs: the error line first" "$WORK/u2.err" equals \
    "$(head -n 1 "$WORK/u2.err")" "ssemon status: expected at most one subscription NAME"
ssemon_status help --help
check "ssemon status --help exits 0 with the usage" "$WORK/help.out" equals \
    "$(rc_of help) $(head -n 1 "$WORK/help.out")" "0 usage: ssemon status [--url URL] [--json] [--wide] [NAME]"

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
