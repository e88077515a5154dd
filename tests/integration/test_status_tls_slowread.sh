#!/bin/bash
# Integration test: "a client that stops reading for 5 s is disconnected"
# (docs/operations.md), in both directions, on the real daemon over
# loopback. The daemon watches COUNT subscriptions (default 3,200, each with
# a 1,000-byte description), so /status is about 5.4 MB: more than the
# daemon's kernel send buffer (it autotunes up to 4 MB), the daemon's own
# queue (about 1.25 MiB) and what a stopped client has taken in, together;
# else the daemon hands the whole document over and closes (fine, but
# nothing to test).
# - A reader of /status that takes in its first PACED bytes (default
#   512 KiB) at RATE bytes a second (default 32 KiB/s, so 16 s), then the
#   rest at full speed (test_status_tls_reader.py), gets the whole body: it
#   makes progress in every 5 s window. (A bufferevent write timeout of 5 s
#   dropped it: the socket is reported writable only once a third of its
#   send buffer has drained, which takes far more than 5 s at such rates.)
# - Meanwhile a reader that stops reading after its first 64 KiB is
#   disconnected within 4 to 15 s of stopping (5 s without progress, plus
#   at most the 1 s check interval; polled with ss until the connection is
#   no longer a socket of the daemon's), and /healthz keeps answering
#   within 1 s.
# - The same over TLS (status.tls, after a reload).
# usage: test_status_tls_slowread.sh SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR [COUNT [RATE [PACED]]]
# Every wait is bounded; talks to 127.0.0.1 only.
set -u

if [ $# -lt 4 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR [COUNT [RATE [PACED]]]" >&2
    exit 2
fi
SSEMON=$(realpath "$1")
SERVER=$(realpath "$2")
SCN=$(realpath "$3")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
CONTRACTS=$(realpath "$4")
COUNT=${5:-3200}
RATE=${6:-32768}
PACED=${7:-524288}
READER="$HERE/test_status_tls_reader.py"
for tool in jq curl python3 openssl ss; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
# A socket per subscription, at the daemon and at the test server.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null

WORK=$(mktemp -d)
SERVER_PID=
DAEMON_PID=
BG_PIDS=
cleanup() {
    for pid in $BG_PIDS $DAEMON_PID $SERVER_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

FAILS=0
PASSES=0

cd "$WORK" || exit 1
itest_ca && itest_cert server test-server IP:127.0.0.1 || { echo "openssl failed" >&2; exit 1; }

itest_start_server "$WORK/port" "$WORK/server.err" \
    --route '/api/utils/version/stream=version-stream'
SERVER_PID=$ITEST_PID
BASE=$ITEST_BASE

SP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_config() { # plain|tls
    python3 - "$1" "$SP" "$BASE" "$CONTRACTS" "$COUNT" >ssemon.json <<'EOF'
import json, sys
mode, port, base, contracts, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
status = {"listen": "127.0.0.1:" + port}
if mode == "tls":
    status["tls"] = {"cert_file": "server.pem", "key_file": "server.key"}
subs = [{"name": "slow-sub-%05d" % i,
         "url": base + "/api/utils/version/stream?request_id=it-slow&hb_ms=5000",
         "contract": "version-stream", "vars": {"request_id": "it-slow"},
         "heartbeat_interval_s": 15,
         "description": ("subscription %05d " % i) + "x" * 981}
        for i in range(count)]
json.dump({"status": status, "contracts_dir": contracts, "subscriptions": subs},
          sys.stdout, indent=1)
EOF
}

write_config plain
"$SSEMON" run -c ssemon.json --log-target stderr 2>daemon.err &
DAEMON_PID=$!
# Until every subscription has connected (the daemon's log; at most 60 s).
connected=
for _ in $(seq 1 600); do
    connected=$(grep -c '"MESSAGE":"slow-sub-[0-9]*: connected to ' daemon.err)
    [ "$connected" -ge "$COUNT" ] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
done
if [ "$connected" -lt "$COUNT" ]; then
    echo "the daemon did not start, or only $connected of $COUNT subscriptions connected" >&2
    tail -5 daemon.err >&2
    exit 1
fi

# held PORT: the daemon still has the connection from the client's PORT
# (a socket of its own; once closed, an orphan left to the kernel is not).
held() {
    ss -Htnp state all "( sport = :$SP and dport = :$1 )" 2>/dev/null | grep -q "pid=$DAEMON_PID,"
}
# stalled NAME CAFILE: a reader that stops after 64 KiB is dropped within
# 4 to 15 s of stopping; the seconds it took in NAME.secs.
stalled() {
    local name=$1 cafile=$2 port= t0 t1
    rm -f "$name.ready"
    python3 "$READER" 127.0.0.1 "$SP" /status "$cafile" "$name.body" --stall-after 65536 \
        --ready "$name.ready" --timeout 40 >"$name.json" 2>&1 &
    STALL_PID=$!
    BG_PIDS="$BG_PIDS $STALL_PID"
    for _ in $(seq 1 200); do
        port=$(cat "$name.ready" 2>/dev/null)
        [ -n "$port" ] && break
        sleep 0.05
    done
    t0=$(date +%s.%N)
    # At most 200 looks and 20 s (ss -p reads every socket of the daemon).
    local end=$((SECONDS + 20))
    for _ in $(seq 1 200); do
        [ -n "$port" ] && [ "$SECONDS" -lt "$end" ] && held "$port" || break
        sleep 0.1
    done
    t1=$(date +%s.%N)
    if [ -n "$port" ] && ! held "$port"; then
        echo "$t0 $t1" | awk '{ printf "%.1f\n", $2 - $1 }' >"$name.secs"
    else
        echo "not dropped (port '$port')" >"$name.secs"
    fi
    kill -TERM "$STALL_PID" 2>/dev/null
    wait "$STALL_PID" 2>/dev/null
    cat "$name.json" >>"$name.secs"
    ss -Htnpi state all "( sport = :$SP )" >>"$name.secs" 2>&1
}
# slow NAME CAFILE: /status read at RATE, in the background (SLOW_PID).
slow() {
    python3 "$READER" 127.0.0.1 "$SP" /status "$2" "$1.body" --rate "$RATE" --paced-bytes "$PACED" \
        --timeout 150 >"$1.json" 2>&1 &
    SLOW_PID=$!
    BG_PIDS="$BG_PIDS $SLOW_PID"
}
# whole REPORT: 200, chunked, complete, every subscription.
whole() {
    jq -e '.status == 200 and .chunked and (has("error") | not)' "$1.json" >/dev/null &&
        [ "$(jq '.subscriptions | length' "$1.body" 2>/dev/null)" = "$COUNT" ]
}
dropped_in_time() { awk '$1 + 0 >= 4 && $1 + 0 <= 15 { ok = 1 } END { exit !ok }' "$1"; }

curl -s -m 30 -o full.body "http://127.0.0.1:$SP/status"
SIZE=$(stat -c %s full.body)
echo "# /status: $SIZE bytes, read at $RATE bytes/s"

# round MODE CAFILE URL: the slow and the stopped reader at once, and
# /healthz asked 10 times meanwhile.
round() {
    local mode=$1 cafile=$2 url=$3
    slow "$mode.slow" "$cafile"
    stalled "$mode.stall" "$cafile"
    check "$mode: a reader that stops is disconnected 4-15 s after it stops" "$mode.stall.secs" \
        dropped_in_time "$mode.stall.secs"
    : >"$mode.healthz"
    for _ in $(seq 1 10); do
        curl -s -m 5 --cacert ca.pem -o /dev/null -w '%{http_code} %{time_total}\n' \
            "$url/healthz" >>"$mode.healthz"
    done
    check "$mode: /healthz during the slow reads, 200 within 1 s each" "$mode.healthz" \
        awk '$1 != 200 || $2 >= 1.0 { bad = 1 } END { exit bad || NR != 10 }' "$mode.healthz"
    kill -0 "$SLOW_PID" 2>/dev/null
    check "$mode: the slow reader was still reading meanwhile" "$mode.slow.json" equals "$?" 0
    wait "$SLOW_PID"
    check "$mode: a reader slow for $PACED bytes at $RATE bytes/s gets the whole /status" \
        "$mode.slow.json" whole "$mode.slow"
}

round plain - "http://127.0.0.1:$SP"

write_config tls
kill -HUP "$DAEMON_PID"
code=
for _ in $(seq 1 200); do
    code=$(curl -s -m 5 --cacert ca.pem -o /dev/null -w '%{http_code}' "https://127.0.0.1:$SP/healthz")
    [ "$code" = 200 ] && break
    sleep 0.05
done
check "the reload turns TLS on" /dev/null equals "$code" 200
round tls ca.pem "https://127.0.0.1:$SP"

kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
check "the daemon stops cleanly" daemon.err equals "$?" 0
DAEMON_PID=

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
