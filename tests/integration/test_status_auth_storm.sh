#!/bin/bash
# Integration test: wrong passwords cannot stall the daemon. The real daemon
# (`ssemon run`) has basic authentication (bcrypt cost 10) on its status
# port and watches a stream beating every 100 ms. While 48 clients fire
# wrong passwords as fast as they are answered, and 8 more send one and
# hang up at once, for 12 s:
#  - /healthz answers within 1 s at p99 (40 requests, new connections);
#  - some requests are answered 429 with Retry-After: 1 (the queue of
#    checks is full), counted in ssemon_status_auth_total{result="busy"};
#  - a right password never used before (bob) is admitted within 10 s;
#  - the stream's heartbeats stop and heartbeat_missed is in /status within
#    3 s (its deadline is 0.3 s);
#  - a reload (SIGHUP, users replaced) amid pending checks, and the stop
#    (SIGTERM) during a second storm, are clean: the daemon answers after
#    the one and exits 0 after the other, with no sanitizer report (under
#    SSEMON_SANITIZE, a request freed with its connection and then touched
#    would show here).
# usage: test_status_auth_storm.sh SSEMON
# Every wait is bounded; talks to 127.0.0.1 only.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 SSEMON" >&2
    exit 2
fi
SSEMON=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
STORM="$HERE/auth_storm.py"
FLOOD="$HERE/flood.py"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d)
SERVER_PID=
DAEMON_PID=
STORM_PID=
PROBE_PID=
cleanup() {
    for pid in $STORM_PID $PROBE_PID $DAEMON_PID $SERVER_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

FAILS=0
PASSES=0

# ---- a stream that beats while $WORK/beat exists ----
cat >"$WORK/server.py" <<'EOF'
import http.server, os, socketserver, sys, time
work = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        try:
            end = time.monotonic() + 120
            while time.monotonic() < end:
                if os.path.exists(os.path.join(work, "beat")):
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
touch "$WORK/beat"
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

bcrypt_hash() { # PASSWORD COST
    python3 -W ignore -c 'import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << int(sys.argv[2]))))' \
        "$1" "$2" 2>/dev/null && return 0
    command -v mkpasswd >/dev/null && mkpasswd -m bcrypt -R "$2" "$1"
}
HASH_A=$(bcrypt_hash 'alice pass' 10)
HASH_B=$(bcrypt_hash 'bob pass' 10)
HASH_C=$(bcrypt_hash 'carol pass' 10)
for h in "$HASH_A" "$HASH_B" "$HASH_C"; do
    # shellcheck disable=SC2016 # a literal bcrypt prefix
    case "$h" in
    '$2'?'$10$'*) ;;
    *) echo "cannot make a bcrypt hash (python3 crypt or mkpasswd)" >&2; exit 1 ;;
    esac
done

SP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STATUS="http://127.0.0.1:$SP"
write_config() { # USERS-OBJECT
    cat >"$WORK/ssemon.json" <<EOF
{"status": {"listen": "127.0.0.1:$SP", "basic_auth_users": $1},
 "contracts_dir": "$WORK/contracts",
 "subscriptions": [
  {"name": "beat", "url": "$BASE/beat", "contract": "beat", "stall_reopen_factor": 0}
 ]}
EOF
}
write_config "{\"alice\": \"$HASH_A\", \"bob\": \"$HASH_B\"}"
"$SSEMON" run -c "$WORK/ssemon.json" --log-target stderr 2>"$WORK/daemon.err" &
DAEMON_PID=$!

code() { curl -s -o /dev/null -w '%{http_code}' -m 5 "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# as_alice PATH FILTER: FILTER over GET PATH with alice's password (cached
# after the first success: answered on the loop, no bcrypt).
as_alice() { curl -s -m 2 -u 'alice:alice pass' "$STATUS$1" | jq -r "$2" 2>/dev/null; }
# wait_for PATH FILTER MS: until FILTER over GET PATH is true (polled 50 ms
# apart), for at most MS milliseconds.
wait_for() {
    local end=$(($(now_ms) + $3))
    for _ in $(seq 1 400); do
        [ "$(as_alice "$1" "$2")" = true ] && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || return 1
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.05
    done
    return 1
}
for _ in $(seq 1 200); do
    [ "$(code "$STATUS/healthz")" = 200 ] && break
    sleep 0.05
done
if ! wait_for /status/beat '.healthy == true and .heartbeats >= 2' 10000; then
    echo "the daemon did not start, or its stream did not turn healthy" >&2
    cat "$WORK/daemon.err" >&2
    exit 1
fi

# ---- the storm ----
nice -n 10 python3 "$STORM" "$SP" --clients 48 --abandon 8 --duration 12 \
    >"$WORK/storm.out" 2>"$WORK/storm.err" &
STORM_PID=$!
for _ in $(seq 1 200); do
    grep -q '^ready$' "$WORK/storm.out" && break
    kill -0 "$STORM_PID" 2>/dev/null || break
    sleep 0.05
done
check "the storm is under way" "$WORK/storm.err" grep -q '^ready$' "$WORK/storm.out"
python3 "$FLOOD" probe "$SP" 40 --interval 0.1 --path /healthz >"$WORK/healthz.json" 2>&1 &
PROBE_PID=$!

# A right password never checked before: admitted within 10 s (a 429 is
# retried after the second it asks for; a 401 would be wrong).
t0=$(now_ms)
bob=
for _ in $(seq 1 40); do
    bob=$(curl -s -o /dev/null -D "$WORK/bob.headers" -w '%{http_code}' -m 10 \
        -u 'bob:bob pass' "$STATUS/status")
    [ "$bob" = 200 ] && break
    [ "$bob" = 429 ] || break
    grep -qi '^Retry-After: 1' "$WORK/bob.headers" || break
    [ $(($(now_ms) - t0)) -lt 10000 ] || break
    sleep 0.25
done
took=$(($(now_ms) - t0))
echo "# bob: $bob after $took ms"
check "during the storm, a right password is admitted within 10 s" "$WORK/bob.headers" \
    test "$bob" = 200 -a "$took" -lt 10000

# The stream falls silent: heartbeat_missed within 3 s (deadline 0.3 s).
before=$(as_alice /status/beat '.violations.by_class.heartbeat_missed // 0')
rm -f "$WORK/beat"
check "during the storm, the silence is detected within 3 s (heartbeat_missed)" "$WORK/daemon.err" \
    wait_for /status/beat ".violations.by_class.heartbeat_missed > ${before:-0}" 3000

wait "$PROBE_PID" 2>/dev/null
PROBE_PID=
echo "# healthz: $(cat "$WORK/healthz.json")"
check "during the storm, /healthz p99 < 1 s over 40 requests" "$WORK/healthz.json" \
    jq -e '.n == 40 and .ok == 40 and .p99 < 1.0' "$WORK/healthz.json" >/dev/null

# A reload replacing the users while checks are pending: the new users
# work (alice's success is not remembered by the new checker: checked
# again, off the loop).
write_config "{\"alice\": \"$HASH_A\", \"carol\": \"$HASH_C\"}"
kill -HUP "$DAEMON_PID"
ok=
t0=$(now_ms)
for _ in $(seq 1 40); do
    ok=$(code -u 'carol:carol pass' "$STATUS/status")
    [ "$ok" = 200 ] && break
    [ $(($(now_ms) - t0)) -lt 10000 ] || break
    [ "$ok" = 429 ] || [ "$ok" = 401 ] || [ "$ok" = 503 ] || break
    sleep 0.25
done
check "a reload amid pending checks: the new user is admitted within 10 s" "$WORK/daemon.err" \
    test "$ok" = 200
gone=
for _ in $(seq 1 40); do
    gone=$(code -u 'bob:bob pass' "$STATUS/status")
    [ "$gone" = 429 ] || break
    sleep 0.25
done
check "... and bob, gone with the reload, is refused" "$WORK/daemon.err" test "$gone" = 401

wait "$STORM_PID" 2>/dev/null
STORM_PID=
tail -n 1 "$WORK/storm.out" >"$WORK/storm.json"
echo "# storm: $(cat "$WORK/storm.json")"
check "the storm got 401s (wrong password) and 429s (queue full)" "$WORK/storm.json" \
    jq -e '.codes["401"] > 0 and .codes["429"] > 0 and .abandoned > 0' "$WORK/storm.json" >/dev/null
check "... every 429 said Retry-After: 1" "$WORK/storm.json" \
    jq -e '.no_retry_after == 0' "$WORK/storm.json" >/dev/null

# ---- the counts ----
ok=
for _ in $(seq 1 40); do
    ok=$(code -u 'alice:alice pass' "$STATUS/status")
    [ "$ok" = 200 ] && break
    sleep 0.25
done
curl -s -m 10 -u 'alice:alice pass' "$STATUS/metrics" | grep '^ssemon_status_auth_total' \
    >"$WORK/auth.metrics"
metric() { awk -v k="ssemon_status_auth_total{result=\"$1\"}" '$1 == k {print $2}' "$WORK/auth.metrics"; }
echo "# $(tr '\n' ' ' <"$WORK/auth.metrics")"
check "ssemon_status_auth_total counts busy (429) requests" "$WORK/auth.metrics" \
    test "$(metric busy)" -gt 0
check "... denied ones, checked ones that passed, and cached ones" "$WORK/auth.metrics" \
    test "$(metric denied)" -gt 0 -a "$(metric ok)" -ge 2 -a "$(metric cached)" -gt 0
check "... at least as many busy as the storm client saw 429 (counts survive the reload)" \
    "$WORK/auth.metrics" test "$(metric busy)" -ge "$(jq '.codes["429"]' "$WORK/storm.json")"

# ---- a clean stop, amid pending checks ----
nice -n 10 python3 "$STORM" "$SP" --clients 48 --duration 10 \
    >"$WORK/storm2.out" 2>"$WORK/storm2.err" &
STORM_PID=$!
for _ in $(seq 1 200); do
    grep -q '^ready$' "$WORK/storm2.out" && break
    kill -0 "$STORM_PID" 2>/dev/null || break
    sleep 0.05
done
check "a second storm is under way" "$WORK/storm2.err" grep -q '^ready$' "$WORK/storm2.out"
kill -TERM "$DAEMON_PID"
rc=
for _ in $(seq 1 200); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
done
if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
    wait "$DAEMON_PID"
    rc=$?
    DAEMON_PID=
fi
kill -TERM "$STORM_PID" 2>/dev/null
wait "$STORM_PID" 2>/dev/null
STORM_PID=
check "SIGTERM during a storm: the daemon exits 0 within 10 s" "$WORK/daemon.err" test "$rc" = 0
check "... with no sanitizer report" "$WORK/daemon.err" \
    test "$(grep -c 'Sanitizer' "$WORK/daemon.err")" -eq 0

echo "# $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
