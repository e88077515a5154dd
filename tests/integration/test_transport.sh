#!/bin/bash
# Transport settings everywhere (docs/configuration.md "TLS and proxies"):
# a TLS server with a private CA, one that requires a client certificate, a
# plain one that wants a secret header, and a CONNECT-capable proxy, each
# reached by `ssemon check`, `ssemon watch` and the daemon; `ssemon check -c
# FILE --subscription NAME`; and the proxy policy: the proxy environment
# variables are used only when "proxy" (or --proxy) says "env".
# usage: test_transport.sh SSEMON TLS_SERVER_PY PROXY_PY
# Needs openssl, python3, jq and curl; every wait is bounded; loopback only.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 SSEMON TLS_SERVER_PY PROXY_PY" >&2
    exit 2
fi
SSEMON=$(realpath "$1")
TLS_SERVER=$(realpath "$2")
PROXY=$(realpath "$3")
for tool in openssl python3 jq curl; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }
done

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY
cd "$WORK" || exit 1

# ---- certificates: a private CA, the server's (127.0.0.1), a client's
# signed by the CA, and a self-signed client one the server does not trust.
{
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ssemon test CA" \
        -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=server" -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=client" -keyout client.key -out client.csr
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -out client.pem
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=stranger" \
        -keyout stranger.key -out stranger.pem
} >openssl.log 2>&1 || { cat openssl.log >&2; exit 1; }

# wait_port FILE PID WHAT: until FILE holds a port (bounded).
wait_port() {
    for _ in $(seq 1 200); do
        [ -s "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.05
    done
    echo "$3 did not start" >&2
    exit 1
}
start_server() {
    local name=$1
    shift
    python3 "$TLS_SERVER" --port-file "$name.port" --json "$@" 2>"$name.server.err" &
    PIDS+=($!)
    wait_port "$name.port" "${PIDS[-1]}" "server $name"
}
start_server tls --cert server.pem --key server.key
start_server mtls --cert server.pem --key server.key --client-ca ca.pem
start_server plain --plain --require-header "Authorization: Bearer s3cret"
python3 "$PROXY" --port-file proxy.port --log proxy.log 2>proxy.err &
PIDS+=($!)
wait_port proxy.port "${PIDS[-1]}" proxy
touch proxy.log
TLS="https://127.0.0.1:$(cat tls.port)/stream?rid=r1"
MTLS="https://127.0.0.1:$(cat mtls.port)/stream?rid=r1"
PLAIN="http://127.0.0.1:$(cat plain.port)/stream?rid=r1"
PROXY_URL="http://127.0.0.1:$(cat proxy.port)"
# A port nothing listens on: a proxy there fails every request.
DEAD="http://127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cat >transport-test.json <<'JSON'
{
  "name": "transport-test",
  "variables": ["request_id"],
  "events": {"message": {"schema": {"type": "object"}}},
  "correlation_id": {"presence": "required", "equals": "request_id"},
  "order": {
    "initial": "open",
    "states": {"open": {"on": {"message": "done"}}, "done": {"final": true}}
  }
}
JSON

FAILS=0
PASSES=0
N=0
# run NAME WANT_RC JQ_FILTER COMMAND...: COMMAND exits with WANT_RC and the
# filter over its slurped stdout yields true ("" skips the filter).
run() {
    local name=$1 want_rc=$2 filter=$3
    shift 3
    N=$((N + 1))
    timeout 20 "$@" >"case$N.out" 2>"case$N.err"
    local rc=$?
    if [ "$rc" -eq "$want_rc" ] &&
        { [ -z "$filter" ] || [ "$(jq -s "$filter" "case$N.out" 2>/dev/null)" = "true" ]; }; then
        PASSES=$((PASSES + 1))
        echo "ok - $name"
    else
        FAILS=$((FAILS + 1))
        echo "not ok - $name (exit $rc)" >&2
        cat "case$N.out" "case$N.err" | sed 's/^/    | /' | head -30 >&2
    fi
}
ok() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
bad() {
    FAILS=$((FAILS + 1))
    echo "not ok - $1" >&2
    [ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/    | /' "$2" | head -30 >&2
}
proxied() { grep -c "$1" proxy.log; }

CHECK=("$SSEMON" check --contract "$WORK/transport-test.json" --var request_id=r1
    --max-duration 10)
PASS='.[-1].result == "pass" and .[-1].events == 1'
WATCHED='any(.[]; .type == "message" and .data == "{\"correlation_id\": \"r1\"}")'
WATCH=("$SSEMON" watch --no-reconnect --connect-timeout 5)

# ---- check and watch, TLS ----
run "check: private CA refused without --cacert" 1 \
    '.[0].class == "connect_failed" and .[-1].result == "fail"' "${CHECK[@]}" "$TLS"
run "check --cacert: private CA trusted" 0 "$PASS" "${CHECK[@]}" --cacert ca.pem "$TLS"
run "check --insecure: unknown CA accepted" 0 "$PASS" "${CHECK[@]}" --insecure "$TLS"
run "check: client certificate required, none given" 1 '.[-1].result == "fail"' \
    "${CHECK[@]}" --cacert ca.pem "$MTLS"
run "check: a certificate the server does not trust" 1 '.[-1].result == "fail"' \
    "${CHECK[@]}" --cacert ca.pem --cert stranger.pem --key stranger.key "$MTLS"
run "check --cert --key: mutual TLS" 0 "$PASS" \
    "${CHECK[@]}" --cacert ca.pem --cert client.pem --key client.key "$MTLS"
cat client.pem client.key >client-both.pem
run "check --cert: key in the certificate's file" 0 "$PASS" \
    "${CHECK[@]}" --cacert ca.pem --cert client-both.pem "$MTLS"
run "watch --cert --key: mutual TLS" 0 "$WATCHED" \
    "${WATCH[@]}" --cacert ca.pem --cert client.pem --key client.key "$MTLS"
run "watch: client certificate required, none given" 1 '.[-1].reason == "transport"' \
    "${WATCH[@]}" --cacert ca.pem "$MTLS"
run "watch: private CA refused without --cacert" 1 '.[-1].reason == "transport"' \
    "${WATCH[@]}" "$TLS"
run "watch --insecure: unknown CA accepted" 0 "$WATCHED" "${WATCH[@]}" --insecure "$TLS"
run "check --key without --cert: usage error" 2 "" "${CHECK[@]}" --key client.key "$TLS"
run "check --cert: unreadable file" 2 "" "${CHECK[@]}" --cert nothing.pem "$TLS"
run "check --proxy: not a proxy URL" 2 "" "${CHECK[@]}" --proxy ftp://x "$TLS"
run "check: TLS flags on a file source" 2 "" "${CHECK[@]}" --insecure transport-test.json

# ---- proxies ----
before=$(proxied CONNECT)
run "check --proxy: https through CONNECT" 0 "$PASS" \
    "${CHECK[@]}" --cacert ca.pem --proxy "$PROXY_URL" "$TLS"
run "watch --proxy: https through CONNECT" 0 "$WATCHED" \
    "${WATCH[@]}" --cacert ca.pem --proxy "$PROXY_URL" "$TLS"
after=$(proxied CONNECT)
[ "$after" -eq $((before + 2)) ] && ok "proxy: two CONNECTs seen" ||
    bad "proxy: CONNECTs $before -> $after" proxy.log
run "check --proxy --no-proxy: the host bypasses it" 0 "$PASS" \
    "${CHECK[@]}" --cacert ca.pem --proxy "$DEAD" --no-proxy 127.0.0.1 "$TLS"

# The environment names a dead proxy: ignored unless asked for.
export http_proxy=$DEAD https_proxy=$DEAD HTTP_PROXY=$DEAD HTTPS_PROXY=$DEAD
run "env: http_proxy ignored by check" 0 "$PASS" \
    "${CHECK[@]}" --header "Authorization: Bearer s3cret" "$PLAIN"
run "env: https_proxy ignored by watch" 0 "$WATCHED" "${WATCH[@]}" --cacert ca.pem "$TLS"
run "env: --proxy env uses http_proxy (dead)" 1 '.[0].class == "connect_failed"' \
    "${CHECK[@]}" --proxy env --header "Authorization: Bearer s3cret" "$PLAIN"
before=$(proxied "GET http://")
http_proxy=$PROXY_URL run "env: --proxy env, absolute-form through the proxy" 0 "$PASS" \
    "${CHECK[@]}" --proxy env --header "Authorization: Bearer s3cret" "$PLAIN"
[ "$(proxied "GET http://")" -eq $((before + 1)) ] && ok "env: the proxy saw the GET" ||
    bad "env: the proxy did not see the GET" proxy.log

# ---- check -c FILE --subscription NAME ----
mkdir -p contracts creds
cp transport-test.json contracts/
printf 'Bearer s3cret\n' >secret.txt
cp client.key creds/client-key
export CREDENTIALS_DIRECTORY=$WORK/creds
SP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >ssemon.json <<JSON
{
  "status": {"listen": "127.0.0.1:$SP"},
  "instance": "r1",
  "contracts_dir": "contracts",
  "defaults": {"ca_file": "ca.pem", "backoff_min_ms": 100, "backoff_max_ms": 200},
  "subscriptions": [
    {"name": "plain", "url": "http://127.0.0.1:$(cat plain.port)/stream?rid=\${instance}",
     "contract": "transport-test", "vars": {"request_id": "\${instance}"},
     "headers": {"Authorization": {"file": "secret.txt"}}},
    {"name": "mtls", "url": "$MTLS", "contract": "transport-test", "vars": {"request_id": "r1"},
     "client_cert": "client.pem", "client_key": {"credential": "client-key"}},
    {"name": "proxied", "url": "$TLS", "contract": "transport-test",
     "vars": {"request_id": "r1"}, "proxy": "$PROXY_URL"},
    {"name": "insecure", "url": "$TLS", "contract": "transport-test",
     "vars": {"request_id": "r1"}, "ca_file": null, "insecure": true},
    {"name": "untrusted", "url": "$TLS", "contract": "transport-test",
     "vars": {"request_id": "r1"}, "ca_file": null, "enabled": false}
  ]
}
JSON
SUB=("$SSEMON" check -c "$WORK/ssemon.json" --max-duration 10 --subscription)
run "check --subscription: a secret header and a var (env proxy ignored)" 0 "$PASS" \
    "${SUB[@]}" plain
run "check --subscription: mutual TLS, key from a credential" 0 "$PASS" "${SUB[@]}" mtls
before=$(proxied CONNECT)
run "check --subscription: through the configured proxy" 0 "$PASS" "${SUB[@]}" proxied
[ "$(proxied CONNECT)" -eq $((before + 1)) ] && ok "check --subscription: the proxy saw it" ||
    bad "check --subscription: the proxy did not see it" proxy.log
run "check --subscription: insecure" 0 "$PASS" "${SUB[@]}" insecure
grep -q 'warning: insecure: "insecure": true' "case$N.err" && ok "check: insecure warned" ||
    bad "check: insecure not warned" "case$N.err"
run "check --subscription: a disabled one is checked, untrusted CA fails" 1 \
    '.[0].class == "connect_failed"' "${SUB[@]}" untrusted
run "check --subscription: unknown name" 2 "" "${SUB[@]}" nosuch
grep -q "no subscription named 'nosuch' (it has: plain, mtls" "case$N.err" &&
    ok "check: unknown name lists the names" || bad "check: unknown name message" "case$N.err"
run "check --subscription with --contract: usage error" 2 "" \
    "${SUB[@]}" plain --contract transport-test
run "check --subscription with a SOURCE: usage error" 2 "" "${SUB[@]}" plain "$TLS"
run "check -c without --subscription: usage error" 2 "" \
    "$SSEMON" check -c ssemon.json --contract transport-test "$TLS"

# ---- the daemon ----
"$SSEMON" run -c "$WORK/ssemon.json" --log-target stderr 2>daemon.err &
DAEMON=$!
PIDS+=($DAEMON)
STATUS="http://127.0.0.1:$SP/status"
ALL='[.subscriptions[] | select(.name != "untrusted") | .events >= 1] | all and length == 4'
seen=false
for _ in $(seq 1 200); do
    if [ "$(curl -sf --noproxy '*' --max-time 5 "$STATUS" | jq -r "$ALL" 2>/dev/null)" = true ]; then
        seen=true
        break
    fi
    kill -0 $DAEMON 2>/dev/null || break
    sleep 0.05
done
curl -sf --noproxy '*' --max-time 5 "$STATUS" >status.json
$seen && ok "daemon: every transport reached (events on plain, mtls, proxied, insecure)" ||
    bad "daemon: not every subscription got an event" status.json
# (the disabled "untrusted" is listed too, with "state": "disabled")
[ "$(jq -c '[.subscriptions[] | {(.name): .insecure}] | add' status.json)" = \
    '{"plain":null,"mtls":null,"proxied":null,"insecure":true,"untrusted":null}' ] &&
    ok "daemon: /status says insecure only where it is" || bad "daemon: insecure in /status" status.json
[ "$(jq '[.subscriptions[].violations.total] | add' status.json)" = 0 ] &&
    ok "daemon: no violation on any of them" || bad "daemon: violations" status.json
grep -q 'warning: insecure: "insecure": true' daemon.err && ok "daemon: insecure warned at start" ||
    bad "daemon: no insecure warning" daemon.err
"$SSEMON" status --url "http://127.0.0.1:$SP" >status.txt 2>&1
[ "$(grep -c 'INSECURE: TLS certificates not verified' status.txt)" = 1 ] &&
    grep -A1 '^insecure ' status.txt | grep -q INSECURE &&
    ok "ssemon status: an INSECURE line under the insecure one only" ||
    bad "ssemon status: INSECURE line" status.txt
[ "$(proxied CONNECT)" -gt $((before + 1)) ] && ok "daemon: the proxied one went through the proxy" ||
    bad "daemon: proxy not used" proxy.log
kill -TERM $DAEMON
wait $DAEMON 2>/dev/null

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
