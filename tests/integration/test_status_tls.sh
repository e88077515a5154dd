#!/bin/bash
# Integration test: large /status and /metrics over TLS (status.tls) are
# sent in slices, exactly like plain ones. The real daemon watches COUNT
# subscriptions (default 1,000, each with a 1,000-byte description) of one
# stream of the scripted test server, so /status is a few MB; over TLS
# with a private CA it must come as an HTTP/1.1 chunked body of slices
# (none above 256 KiB), complete, and parse (jq), and /metrics the same
# (promtool check metrics); with client_ca_file set, the same with a client
# certificate. A TLS client reading slowly (test_status_tls_reader.py at
# 256 KiB/s) gets the whole body while /healthz on other connections keeps
# answering within 1 s, and so do four slow readers at once.
# usage: test_status_tls.sh SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR [COUNT]
# Every wait is bounded; talks to 127.0.0.1 only.
set -u

if [ $# -lt 4 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SCENARIO_DIR CONTRACTS_DIR [COUNT]" >&2
    exit 2
fi
SSEMON=$(realpath "$1")
SERVER=$(realpath "$2")
SCN=$(realpath "$3")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
CONTRACTS=$(realpath "$4")
COUNT=${5:-1000}
READER="$HERE/test_status_tls_reader.py"
for tool in jq curl python3 openssl promtool; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null

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

# ---- a private CA, the server's certificate, a client's ----
cd "$WORK" || exit 1
itest_ca || { echo "openssl failed" >&2; exit 1; }
itest_cert server test-server IP:127.0.0.1 && itest_cert client test-client ||
    { echo "openssl failed" >&2; exit 1; }

itest_start_server "$WORK/port" "$WORK/server.err" \
    --route '/api/utils/version/stream=version-stream'
SERVER_PID=$ITEST_PID
BASE=$ITEST_BASE

SP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TURL=https://127.0.0.1:$SP
write_config() { # tls|mtls
    python3 - "$1" "$SP" "$BASE" "$CONTRACTS" "$COUNT" >ssemon.json <<'EOF'
import json, sys
mode, port, base, contracts, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
tls = {"cert_file": "server.pem", "key_file": "server.key"}
if mode == "mtls":
    tls["client_ca_file"] = "ca.pem"
subs = [{"name": "tls-sub-%05d" % i,
         "url": base + "/api/utils/version/stream?request_id=it-tls&hb_ms=5000",
         "contract": "version-stream", "vars": {"request_id": "it-tls"},
         "heartbeat_interval_s": 15,
         "description": ("subscription %05d " % i) + "x" * 981}
        for i in range(count)]
json.dump({"status": {"listen": "127.0.0.1:" + port, "tls": tls},
           "contracts_dir": contracts, "subscriptions": subs}, sys.stdout, indent=1)
EOF
}
CURL=(curl -s --http1.1 --cacert ca.pem -m 60)
MCURL=("${CURL[@]}" --cert client.pem --key client.key)

write_config tls
"$SSEMON" run -c ssemon.json --log-target stderr 2>daemon.err &
DAEMON_PID=$!
# Until every subscription has connected (the daemon's log; at most 60 s).
connected=
for _ in $(seq 1 600); do
    connected=$(grep -c '"MESSAGE":"tls-sub-[0-9]*: connected to ' daemon.err)
    [ "$connected" -ge "$COUNT" ] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
done
if [ "$connected" -lt "$COUNT" ]; then
    echo "the daemon did not start, or only $connected of $COUNT subscriptions connected" >&2
    tail -5 daemon.err >&2
    exit 1
fi

# ---- /status and /metrics over TLS: chunked, in slices, complete ----
# frame PATH OUT [ARGS...]: the reader at full speed; its report in OUT.json.
frame() {
    local path=$1 out=$2
    shift 2
    python3 "$READER" 127.0.0.1 "$SP" "$path" ca.pem "$out" --timeout 60 "$@" >"$out.json" 2>&1
}
# sliced REPORT MIN_BYTES: the report says 200, chunked, several chunks,
# none above 256 KiB (a slice's buffer), at least MIN_BYTES in all.
sliced() {
    jq -e --argjson min "$2" '.status == 200 and .chunked and .chunks >= 4 and
        .max_chunk <= 262144 and .length >= $min and (has("error") | not)' "$1" >/dev/null
}
frame /status status.body
check "TLS /status: chunked, in slices of at most 256 KiB, complete" status.body.json \
    sliced status.body.json $((COUNT * 1000))
check "TLS /status parses and lists every subscription" status.body.json \
    equals "$(jq '.subscriptions | length' status.body 2>/dev/null)" "$COUNT"
frame /metrics metrics.body
check "TLS /metrics: chunked, in slices of at most 256 KiB, complete" metrics.body.json \
    sliced metrics.body.json $((COUNT * 500))
promtool check metrics <metrics.body >promtool.out 2>&1
check "promtool check metrics accepts the TLS /metrics" promtool.out equals "$?" 0
check "TLS /metrics has every subscription" promtool.out equals \
    "$(grep -c '^ssemon_subscription_up{' metrics.body)" "$COUNT"
"${CURL[@]}" -o curl.status -D curl.headers "$TURL/status"
check "curl over TLS (HTTP/1.1): /status complete, chunked" curl.headers \
    test "$(jq '.subscriptions | length' curl.status 2>/dev/null)" = "$COUNT" \
    -a -n "$(grep -i '^transfer-encoding: chunked' curl.headers)"
"${CURL[@]}" -o both.1 -o both.2 "$TURL/status" "$TURL/metrics"
check "two streamed responses on one kept-alive TLS connection" curl.headers \
    test "$(jq '.subscriptions | length' both.1 2>/dev/null)" = "$COUNT" \
    -a "$(grep -c '^ssemon_subscription_up{' both.2)" = "$COUNT"

# ---- a slow TLS reader does not stall /healthz on other connections ----
# 256 KiB/s: the body takes several seconds, the daemon's queue stays full.
python3 "$READER" 127.0.0.1 "$SP" /status ca.pem slow.body --rate 262144 \
    --ready slow.ready --timeout 90 >slow.json 2>&1 &
SLOW_PID=$!
BG_PIDS="$BG_PIDS $SLOW_PID"
for _ in $(seq 1 200); do
    [ -e slow.ready ] && break
    sleep 0.05
done
: >healthz.times
for _ in $(seq 1 20); do
    "${CURL[@]}" -o /dev/null -w '%{http_code} %{time_total}\n' "$TURL/healthz" >>healthz.times
done
kill -0 "$SLOW_PID" 2>/dev/null
check "the slow reader was still reading while /healthz was asked" slow.json equals "$?" 0
check "/healthz over TLS, 20 times during the slow read: 200 within 1 s each" healthz.times \
    awk '$1 != 200 || $2 >= 1.0 { bad = 1 } END { exit bad || NR != 20 }' healthz.times
wait "$SLOW_PID"
check "the slow reader got the whole /status, in slices" slow.json \
    sliced slow.json $((COUNT * 1000))
check "the slow reader's /status parses" slow.json \
    equals "$(jq '.subscriptions | length' slow.body 2>/dev/null)" "$COUNT"

# Four slow readers at once all get the whole document, and /healthz keeps
# answering meanwhile.
SLOW_PIDS=
for i in 1 2 3 4; do
    python3 "$READER" 127.0.0.1 "$SP" /status ca.pem "slow$i.body" --rate 131072 \
        --timeout 120 >"slow$i.json" 2>&1 &
    SLOW_PIDS="$SLOW_PIDS $!"
done
BG_PIDS="$BG_PIDS $SLOW_PIDS"
: >healthz4.times
for _ in $(seq 1 20); do
    "${CURL[@]}" -o /dev/null -w '%{http_code} %{time_total}\n' "$TURL/healthz" >>healthz4.times
done
check "/healthz over TLS during four slow reads: 200 within 1 s each" healthz4.times \
    awk '$1 != 200 || $2 >= 1.0 { bad = 1 } END { exit bad || NR != 20 }' healthz4.times
for pid in $SLOW_PIDS; do wait "$pid"; done
all_whole=yes
for i in 1 2 3 4; do
    sliced "slow$i.json" $((COUNT * 1000)) || all_whole=no
done
cat slow1.json slow2.json slow3.json slow4.json >slow-all.json
check "four slow TLS readers each got the whole /status, in slices" slow-all.json \
    equals "$all_whole" yes

# ---- with a client certificate required (client_ca_file) ----
write_config mtls
kill -HUP "$DAEMON_PID"
code=
for _ in $(seq 1 200); do
    code=$("${MCURL[@]}" -o /dev/null -w '%{http_code}' "$TURL/healthz")
    [ "$code" = 200 ] && [ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$TURL/healthz")" = 000 ] && break
    sleep 0.05
done
check "mtls: the reload requires a client certificate" /dev/null equals "$code" 200
frame /status mstatus.body --cert client.pem --key client.key
check "mtls /status: chunked, in slices, complete" mstatus.body.json \
    sliced mstatus.body.json $((COUNT * 1000))
check "mtls /status parses" mstatus.body.json \
    equals "$(jq '.subscriptions | length' mstatus.body 2>/dev/null)" "$COUNT"
frame /metrics mmetrics.body --cert client.pem --key client.key
promtool check metrics <mmetrics.body >mpromtool.out 2>&1
check "mtls /metrics: chunked, in slices, complete, promtool accepts it" mmetrics.body.json \
    test "$?" = 0 -a "$(sliced mmetrics.body.json $((COUNT * 500)) && echo y)" = y
"${MCURL[@]}" -o mcurl.status "$TURL/status"
check "mtls: curl with the client certificate gets the whole /status" /dev/null \
    equals "$(jq '.subscriptions | length' mcurl.status 2>/dev/null)" "$COUNT"

kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
check "the daemon stops cleanly" daemon.err equals "$?" 0
DAEMON_PID=

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
