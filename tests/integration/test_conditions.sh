#!/bin/bash
# Integration test of conditions (issue 11): the real daemon (`ssemon run`)
# against a small loopback SSE server this script controls.
#  - a silent stream keeps heartbeat_missed open, and the subscription
#    unhealthy, well past healthy_window_s (/status, /metrics, /readyz,
#    `ssemon status`), until a heartbeat arrives;
#  - a stream silent for stall_reopen_factor x its heartbeat limit is closed
#    and reopened ("reopened after N ms of silence"), the condition staying
#    open until a heartbeat arrives on the new stream;
#  - a stream that ends by contract and reconnects stays up in every scrape.
# usage: test_conditions.sh SSEMON
# Every wait is bounded; talks to 127.0.0.1 only.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 SSEMON" >&2
    exit 2
fi
SSEMON=$1
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

WORK=$(mktemp -d)
SERVER_PID=
DAEMON_PID=
cleanup() {
    for pid in $DAEMON_PID $SERVER_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
FAILS=0
PASSES=0

# The server: /silent and /stall send headers and then a tick (a heartbeat)
# every 100 ms only while the file WORK/PATH.beat exists; /life sends one
# whole lifecycle (begin, end) and ends the stream. Each connection appends
# a line to WORK/PATH.conns. A stream lives at most 60 s.
cat >"$WORK/server.py" <<'EOF'
import http.server, os, socketserver, sys, time
work = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a):
        pass
    def do_GET(self):
        path = self.path.strip("/").split("?")[0]
        if path not in ("silent", "stall", "life"):
            self.send_error(404)
            return
        with open(os.path.join(work, path + ".conns"), "a") as f:
            f.write("c\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        try:
            if path == "life":
                self.wfile.write(b"event: begin\ndata: x\n\nevent: end\ndata: x\n\n")
                self.wfile.flush()
                return
            beat = os.path.join(work, path + ".beat")
            end = time.monotonic() + 60
            while time.monotonic() < end:
                if os.path.exists(beat):
                    self.wfile.write(b"event: tick\ndata: x\n\n")
                    self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
with open(os.path.join(work, "port.tmp"), "w") as f:
    f.write(str(s.server_address[1]))
os.rename(os.path.join(work, "port.tmp"), os.path.join(work, "port"))
s.serve_forever()
EOF
python3 "$WORK/server.py" "$WORK" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    [ -s "$WORK/port" ] && break
    sleep 0.05
done
[ -s "$WORK/port" ] || { echo "server did not start" >&2; cat "$WORK/server.err" >&2; exit 1; }
BASE="http://127.0.0.1:$(cat "$WORK/port")"

mkdir "$WORK/contracts"
cat >"$WORK/contracts/beat.json" <<'EOF'
{"name": "beat",
 "events": {"tick": {"heartbeat": true, "data": "text"}},
 "heartbeat": {"interval_s": 0.3, "tolerance": 1}}
EOF
cat >"$WORK/contracts/life.json" <<'EOF'
{"name": "life",
 "events": {"begin": {"data": "text"}, "end": {"data": "text"}},
 "order": {"initial": "start",
           "states": {"start": {"on": {"begin": "open"}},
                      "open": {"on": {"end": "done"}},
                      "done": {"final": true}}}}
EOF

SP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STATUS="http://127.0.0.1:$SP"
# silent: never reopened (factor 0), its only heartbeat_missed ages past
# the 0.5 s healthy window; stall: reopened after 2 x 300 ms of silence.
cat >"$WORK/ssemon.json" <<EOF
{"status": {"listen": "127.0.0.1:$SP"},
 "contracts_dir": "$WORK/contracts",
 "defaults": {"healthy_window_s": 0.5, "backoff_min_ms": 100, "backoff_max_ms": 200},
 "subscriptions": [
  {"name": "silent", "url": "$BASE/silent", "contract": "beat", "stall_reopen_factor": 0},
  {"name": "stall", "url": "$BASE/stall", "contract": "beat", "stall_reopen_factor": 2},
  {"name": "life", "url": "$BASE/life", "contract": "life"}
 ]}
EOF
"$SSEMON" check-config -c "$WORK/ssemon.json" >"$WORK/check.out" 2>&1 ||
    { echo "configuration refused" >&2; cat "$WORK/check.out" >&2; exit 1; }
"$SSEMON" run -c "$WORK/ssemon.json" --log-target stderr 2>"$WORK/daemon.err" &
DAEMON_PID=$!
for _ in $(seq 1 200); do
    curl -sf "$STATUS/healthz" >/dev/null 2>&1 && break
    sleep 0.05
done

# wait_for NAME JQ [TRIES]: polls /status/NAME (50 ms apart) until JQ is true.
wait_for() {
    for _ in $(seq 1 "${3:-200}"); do
        [ "$(curl -s "$STATUS/status/$1" | jq -r "$2" 2>/dev/null)" = true ] && return 0
        sleep 0.05
    done
    return 1
}

# ---- silence past the healthy window ----
check "silent: heartbeat_missed opens a condition" "$WORK/daemon.err" \
    wait_for silent '[.conditions[].class] == ["heartbeat_missed"]'
# Until its only violation is 1.5 s old: three healthy windows.
check "silent: the condition is still open 1.5 s after it opened" "$WORK/daemon.err" \
    wait_for silent '(.conditions[0].since | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) < (now - 2.5)' 100
curl -s "$STATUS/status/silent" >"$WORK/silent.json"
check "silent: still streaming, unhealthy, condition open, no heartbeat" "$WORK/silent.json" equals \
    "$(jq -c '[.state, .healthy, [.conditions[].class], .heartbeats, .violations.by_class.heartbeat_missed]' "$WORK/silent.json")" \
    '["streaming",false,["heartbeat_missed"],0,1]'
curl -s "$STATUS/metrics" >"$WORK/metrics.txt"
check "silent: ssemon_condition_active is 1, healthy 0, up 1" "$WORK/metrics.txt" equals \
    "$(grep -E '^ssemon_(condition_active|subscription_healthy|subscription_up)\{subscription="silent"' "$WORK/metrics.txt" | tr '\n' ' ')" \
    'ssemon_subscription_up{subscription="silent"} 1 ssemon_subscription_healthy{subscription="silent"} 0 ssemon_condition_active{subscription="silent",class="heartbeat_missed"} 1 ssemon_condition_active{subscription="silent",class="first_event_late"} 0 ssemon_condition_active{subscription="silent",class="connect_failed"} 0 ssemon_condition_active{subscription="silent",class="http_status"} 0 ssemon_condition_active{subscription="silent",class="content_type"} 0 '
code=$(curl -s -o "$WORK/readyz.txt" -w '%{http_code}' "$STATUS/readyz")
check "silent: /readyz is 503 and names it" "$WORK/readyz.txt" \
    bash -c '[ "$1" = 503 ] && grep -q silent "$2"' _ "$code" "$WORK/readyz.txt"
timeout 20 "$SSEMON" status --url "$STATUS" silent >"$WORK/st.out" 2>&1
rc=$?
check "silent: ssemon status exits 1 and shows the open condition" "$WORK/st.out" \
    bash -c '[ "$1" = 1 ] && grep -Eq "^silent +streaming +NO .*OPEN heartbeat_missed since [0-9]+s ago; " "$2"' _ "$rc" "$WORK/st.out"
touch "$WORK/silent.beat"
check "silent: a heartbeat closes the condition and it is healthy again" "$WORK/daemon.err" \
    wait_for silent '.healthy == true and .conditions == [] and .heartbeats >= 1'
check "silent: never reopened (stall_reopen_factor 0)" "$WORK/silent.conns" equals "$(wc -l <"$WORK/silent.conns")" 1

# ---- the stalled stream is reopened ----
for _ in $(seq 1 100); do
    [ "$(wc -l <"$WORK/stall.conns" 2>/dev/null || echo 0)" -ge 2 ] && break
    sleep 0.05
done
check "stall: the silent stream was closed and opened again" "$WORK/daemon.err" \
    bash -c '[ "$(wc -l <"$1")" -ge 2 ]' _ "$WORK/stall.conns"
check "stall: reported as reopened after N ms of silence" "$WORK/daemon.err" \
    grep -Eq 'stall: stream lost: reopened after [0-9]+ ms of silence' "$WORK/daemon.err"
check "stall: reconnects counted, the condition still open on the new stream" "$WORK/daemon.err" \
    wait_for stall '.reconnects >= 1 and [.conditions[].class] == ["heartbeat_missed"] and .healthy == false'
touch "$WORK/stall.beat"
check "stall: a heartbeat on the new stream closes it" "$WORK/daemon.err" \
    wait_for stall '.healthy == true and .conditions == [] and .heartbeats >= 1'

# ---- a lifecycle stream keeps up ----
check "life: at least one lifecycle ended by contract" "$WORK/daemon.err" \
    wait_for life '.violations.total == 0 and .events >= 2'
start=$(wc -l <"$WORK/life.conns")
: >"$WORK/life.up"
for _ in $(seq 1 40); do
    curl -s "$STATUS/metrics" | grep -E '^ssemon_(subscription_up|subscription_healthy)\{subscription="life"\}' >>"$WORK/life.up"
    [ "$(wc -l <"$WORK/life.conns")" -ge $((start + 3)) ] && break
    sleep 0.05
done
check "life: several lifecycles came and went meanwhile" "$WORK/life.conns" \
    bash -c '[ "$(wc -l <"$1")" -ge $(($2 + 2)) ]' _ "$WORK/life.conns" "$start"
check "life: up and healthy in every scrape" "$WORK/life.up" \
    bash -c '[ -s "$1" ] && ! grep -q " 0$" "$1"' _ "$WORK/life.up"
check "life: no condition, no violation" "$WORK/daemon.err" \
    wait_for life '.conditions == [] and .violations.total == 0' 1

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
