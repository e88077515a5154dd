#!/bin/bash
# TLS verification of `ssemon watch`: peer and host verified by default,
# --cacert trusts a private CA, --insecure (only when asked) trusts anything.
# usage: test_tls.sh SSEMON TLS_SERVER_PY
# Needs openssl and python3; every wait is bounded; loopback only.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 SSEMON TLS_SERVER_PY" >&2
    exit 2
fi
SSEMON=$(realpath "$1")
TLS_SERVER=$(realpath "$2")
for tool in openssl python3 jq; do
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
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

# A private CA, a certificate for 127.0.0.1 and one for another name.
cd "$WORK" || exit 1
{
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ssemon test CA" \
        -keyout ca.key -out ca.pem
    for name in good wrong; do
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" -keyout $name.key -out $name.csr
    done
    printf 'subjectAltName=IP:127.0.0.1\n' >good.ext
    printf 'subjectAltName=DNS:wrong.example\n' >wrong.ext
    for name in good wrong; do
        openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile $name.ext -out $name.pem
    done
} >openssl.log 2>&1 || { cat openssl.log >&2; exit 1; }

start_server() {
    local name=$1
    python3 "$TLS_SERVER" --cert "$name.pem" --key "$name.key" --port-file "$name.port" \
        2>"$name.server.err" &
    PIDS+=($!)
    for _ in $(seq 1 200); do
        [ -s "$name.port" ] && break
        kill -0 "${PIDS[-1]}" 2>/dev/null || break
        sleep 0.05
    done
    [ -s "$name.port" ] || { echo "TLS server $name did not start" >&2; cat "$name.server.err" >&2; exit 1; }
}
start_server good
start_server wrong
GOOD="https://127.0.0.1:$(cat good.port)/stream"
WRONG="https://127.0.0.1:$(cat wrong.port)/stream"

FAILS=0
PASSES=0
# expect NAME RC JQ_FILTER ARGS...: watch exits with RC and the filter over
# the slurped output lines yields true.
expect() {
    local name=$1 want_rc=$2 filter=$3
    local f=case$((PASSES + FAILS))
    shift 3
    timeout 20 "$SSEMON" watch --no-reconnect --connect-timeout 5 "$@" >"$f.out" 2>"$f.err"
    local rc=$?
    if [ "$rc" -eq "$want_rc" ] && [ "$(jq -s "$filter" "$f.out" 2>/dev/null)" = "true" ]; then
        PASSES=$((PASSES + 1))
        echo "ok - $name"
    else
        FAILS=$((FAILS + 1))
        echo "not ok - $name (exit $rc)" >&2
        cat "$f.out" "$f.err" | sed 's/^/    | /' >&2
    fi
}
EVENT='any(.[]; .type == "message" and .data == "tls") and .[-1].reason == "eof"'
UNTRUSTED='(any(.[]; has("type")) | not) and .[-1].reason == "transport" and .[-1].error != ""'

expect "default: unknown CA refused" 1 "$UNTRUSTED" "$GOOD"
expect "--cacert: private CA trusted" 0 "$EVENT" --cacert ca.pem "$GOOD"
expect "--insecure: unknown CA accepted" 0 "$EVENT" --insecure "$GOOD"
expect "--cacert: wrong host name refused" 1 "$UNTRUSTED" --cacert ca.pem "$WRONG"
expect "--insecure: wrong host name accepted" 0 "$EVENT" --insecure "$WRONG"

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
