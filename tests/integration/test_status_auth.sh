#!/bin/bash
# Integration test of the status endpoint facing the network: basic
# authentication (status.basic_auth_users, bcrypt through crypt_r), /healthz
# and /readyz open unless status.auth_health, a wrong user costing what a
# wrong password costs, TLS with a private CA (status.tls), a required client
# certificate, the certificate read again on reload, `ssemon status` with
# --cacert, --cert/--key, --user and --password-file, and promtool accepting
# the same settings in exporter-toolkit's web configuration format.
# Certificates (openssl) and bcrypt hashes (python3's crypt, else mkpasswd)
# are made here. usage: test_status_auth.sh SSEMON
# Every wait is bounded; talks to 127.0.0.1 only.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 SSEMON" >&2
    exit 2
fi
SSEMON=$(realpath "$1")
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
for tool in jq curl python3 openssl promtool; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d)
DAEMON_PID=
cleanup() {
    if [ -n "$DAEMON_PID" ]; then
        kill -TERM "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

FAILS=0
PASSES=0
# This script's checks name no file: check NAME COMMAND... (lib.sh's take one).
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

# ---- material: a private CA, two server certificates, a client's ----
cd "$WORK" || exit 1
itest_ca || { echo "openssl failed" >&2; exit 1; }
itest_cert srv1 first-server IP:127.0.0.1 && itest_cert srv2 second-server IP:127.0.0.1 &&
    itest_cert client test-client || { echo "openssl failed" >&2; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout rogue.key \
    -out rogue.pem -days 2 -subj /CN=rogue 2>/dev/null || { echo "openssl failed" >&2; exit 1; }
cp srv1.pem server.pem && cp srv1.key server.key

bcrypt_hash() { # PASSWORD COST
    python3 -W ignore -c 'import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << int(sys.argv[2]))))' \
        "$1" "$2" 2>/dev/null && return 0
    command -v mkpasswd >/dev/null && mkpasswd -m bcrypt -R "$2" "$1"
}
HASH=$(bcrypt_hash 's3cret pass' 10)
case "$HASH" in
'$2'?'$10$'*) ;;
*) echo "cannot make a bcrypt hash (python3 crypt or mkpasswd)" >&2; exit 1 ;;
esac
printf 's3cret pass\n' >pw.right
printf 'wrong pass\n' >pw.wrong

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
TURL=https://127.0.0.1:$PORT

write_config() { # TLS(none|tls|mtls) AUTH_HEALTH(true|false)
    {
        printf '{"status": {"listen": "127.0.0.1:%s",\n' "$PORT"
        printf '  "basic_auth_users": {"alice": "%s"}, "auth_health": %s' "$HASH" "$2"
        case $1 in
        tls) printf ',\n  "tls": {"cert_file": "server.pem", "key_file": "server.key"}' ;;
        mtls) printf ',\n  "tls": {"cert_file": "server.pem", "key_file": {"file": "server.key"}, "client_ca_file": "ca.pem"}' ;;
        esac
        printf '},\n "subscriptions": []}\n'
    } >ssemon.json
}

code() { curl -s -o /dev/null -w '%{http_code}' -m 10 "$@"; }
wait_code() { # WANT CURL-ARGS...: polls (at most 10 s)
    local want=$1 got=
    shift
    for _ in $(seq 1 200); do
        got=$(code "$@")
        [ "$got" = "$want" ] && return 0
        sleep 0.05
    done
    echo "  wanted $want, got $got" >&2
    return 1
}

write_config none false
"$SSEMON" run -c ssemon.json --log-target stderr 2>daemon.err &
DAEMON_PID=$!
check "the daemon answers /healthz" wait_code 200 "$URL/healthz"

# ---- basic authentication ----
check "/status without credentials: 401" equals "$(code "$URL/status")" 401
hdr=$(curl -s -D - -o /dev/null -m 10 "$URL/status" | tr -d '\r' | grep -i '^WWW-Authenticate:')
check "401 asks for Basic realm=\"ssemon\"" equals "$hdr" 'WWW-Authenticate: Basic realm="ssemon"'
check "/metrics without credentials: 401" equals "$(code "$URL/metrics")" 401
check "an unknown path without credentials: 401, not 404" equals "$(code "$URL/nothing")" 401
check "wrong password: 401" equals "$(code -u 'alice:wrong pass' "$URL/status")" 401
check "wrong user: 401" equals "$(code -u 'mallory:s3cret pass' "$URL/status")" 401
check "garbage Authorization: 401" equals "$(code -H 'Authorization: Basic %%%' "$URL/status")" 401
check "right password: 200" equals "$(code -u 'alice:s3cret pass' "$URL/status")" 200
check "right password again (cached): 200" equals "$(code -u 'alice:s3cret pass' "$URL/status")" 200
check "right password, /metrics: 200" equals "$(code -u 'alice:s3cret pass' "$URL/metrics")" 200
check "/healthz open by default" equals "$(code "$URL/healthz")" 200
check "/readyz open by default" equals "$(code "$URL/readyz")" 200
doc=$(curl -s -m 10 -u 'alice:s3cret pass' "$URL/status")
check "/status says status_exposed false on loopback" equals "$(jq -r .status_exposed <<<"$doc")" false
if grep -q 's3cret\|\$2[aby]\$' daemon.err; then fail "no password or hash in the daemon's log"; else pass "no password or hash in the daemon's log"; fi

"$SSEMON" status --url "$URL" --user alice --password-file pw.right >out 2>err
check "ssemon status --user --password-file: exit 0" equals "$?" 0
"$SSEMON" status --url "$URL" --user alice --password-file pw.wrong >out 2>err
rc=$?
check "ssemon status, wrong password: exit 2" equals "$rc" 2
check "ssemon status, wrong password: says refused" grep -q 'refused the user and password' err
"$SSEMON" status --url "$URL" >out 2>err
rc=$?
check "ssemon status without credentials: exit 2, asks for them" \
    test "$rc" = 2 -a -n "$(grep -- '--user' err)"
mkdir creds && cp pw.right creds/status-password
CREDENTIALS_DIRECTORY=$WORK/creds "$SSEMON" status --url "$URL" --user alice \
    --password-credential status-password >out 2>err
check "ssemon status --password-credential: exit 0" equals "$?" 0

# ---- a wrong user costs what a wrong password costs ----
# Alternated tries, so a load change on the machine hits both series alike;
# medians of 30 each, within a factor of two.
: >t.user
: >t.pass
for _ in $(seq 1 30); do
    curl -s -o /dev/null -m 10 -w '%{time_total}\n' -u 'nobody:wrong pass' "$URL/status" >>t.user
    curl -s -o /dev/null -m 10 -w '%{time_total}\n' -u 'alice:wrong pass' "$URL/status" >>t.pass
done
ratio=$(python3 -c 'import statistics, sys
u = statistics.median(float(x) for x in open("t.user"))
p = statistics.median(float(x) for x in open("t.pass"))
print("%.3f %.4f %.4f" % (u / p, u, p))')
echo "  wrong user / wrong password medians: $ratio"
check "a wrong user costs what a wrong password costs (median ratio 0.5 to 2)" \
    python3 -c "import sys; r = float('${ratio%% *}'); sys.exit(0 if 0.5 <= r <= 2 else 1)"

# ---- auth_health, on reload ----
write_config none true
kill -HUP "$DAEMON_PID"
check "after a reload with auth_health: /healthz wants credentials" wait_code 401 "$URL/healthz"
check "auth_health: /readyz wants credentials" equals "$(code "$URL/readyz")" 401
check "auth_health: /healthz with credentials: 200" equals "$(code -u 'alice:s3cret pass' "$URL/healthz")" 200

# ---- TLS with a private CA ----
write_config tls false
kill -HUP "$DAEMON_PID"
check "after a reload with tls: https with the CA answers" wait_code 200 --cacert ca.pem "$TURL/healthz"
check "tls: plain http no longer answers" test "$(code "$URL/healthz")" = 000
check "tls: an unknown CA is refused by the client" test "$(code "$TURL/healthz")" = 000
check "tls: TLS 1.1 is refused" test "$(code --cacert ca.pem --tls-max 1.1 "$TURL/healthz")" = 000
check "tls + auth: /status with credentials: 200" \
    equals "$(code --cacert ca.pem -u 'alice:s3cret pass' "$TURL/status")" 200
body=$(curl -s -m 10 --cacert ca.pem -u 'alice:s3cret pass' "$TURL/metrics")
check "tls: /metrics arrives whole" grep -q '^ssemon_journal_up' <<<"$body"
"$SSEMON" status --url "$TURL" --cacert ca.pem --user alice --password-file pw.right >out 2>err
check "ssemon status --cacert over TLS: exit 0" equals "$?" 0
subject() {
    openssl s_client -connect "127.0.0.1:$PORT" -CAfile ca.pem </dev/null 2>/dev/null |
        openssl x509 -noout -subject 2>/dev/null
}
check "tls: the first certificate is served" grep -q first-server <<<"$(subject)"
cp srv2.pem server.pem && cp srv2.key server.key
kill -HUP "$DAEMON_PID"
ok=
for _ in $(seq 1 200); do
    if grep -q second-server <<<"$(subject)"; then ok=1; break; fi
    sleep 0.05
done
check "tls: after a reload, new connections get the renewed certificate" test -n "$ok"

# ---- client certificates required ----
write_config mtls false
kill -HUP "$DAEMON_PID"
check "mtls: with a client certificate: 200" wait_code 200 --cacert ca.pem --cert client.pem \
    --key client.key "$TURL/healthz"
check "mtls: without a client certificate: refused" \
    test "$(code --cacert ca.pem "$TURL/healthz")" = 000
check "mtls: a certificate the CA did not sign: refused" \
    test "$(code --cacert ca.pem --cert rogue.pem --key rogue.key "$TURL/healthz")" = 000
"$SSEMON" status --url "$TURL" --cacert ca.pem --cert client.pem --key client.key --user alice \
    --password-file pw.right >out 2>err
check "ssemon status --cert --key: exit 0" equals "$?" 0

# ---- a bad certificate on reload is refused, the running one kept ----
printf 'not a certificate\n' >server.pem
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 200); do grep -q 'reload refused' daemon.err && break; sleep 0.05; done
check "a broken certificate: the reload is refused" grep -q 'reload refused.*certificate' daemon.err
check "a broken certificate: still served" \
    equals "$(code --cacert ca.pem --cert client.pem --key client.key "$TURL/healthz")" 200

# ---- promtool accepts the same settings in exporter-toolkit's format ----
cp srv1.pem server.pem && cp srv1.key server.key
{
    printf 'tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n'
    printf '  client_ca_file: ca.pem\n  client_auth_type: RequireAndVerifyClientCert\n'
    printf "basic_auth_users:\n  alice: '%s'\n" "$HASH"
} >web.yml
check "promtool check web-config accepts the same settings" promtool check web-config web.yml
"$SSEMON" check-config -c ssemon.json >out 2>err
check "ssemon check-config accepts them" equals "$?" 0

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
