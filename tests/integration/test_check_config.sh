#!/bin/bash
# Integration tests of `ssemon check-config`: the real binary on real files.
# A valid configuration prints exactly "configuration OK" and exits 0; a
# broken one prints every error, one per line, exactly, and exits 2.
# Credentials come from a temporary CREDENTIALS_DIRECTORY; no network.
#
# usage: test_check_config.sh SSEMON SOURCE_DIR
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 SSEMON SOURCE_DIR" >&2
    exit 2
fi
SSEMON=$1
SRC=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
unset CREDENTIALS_DIRECTORY
FAILED=0

fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}

# run NAME WANT_RC WANT_STDOUT WANT_STDERR ARGS...: runs check-config and
# compares exit status, stdout and stderr exactly.
run() {
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 4
    timeout 20 "$SSEMON" check-config "$@" >"$WORK/out" 2>"$WORK/err"
    local rc=$?
    [ "$rc" = "$want_rc" ] || fail "$name: exit status $rc, want $want_rc"
    if [ "$(cat "$WORK/out")" != "$want_out" ]; then
        fail "$name: stdout differs"
        diff <(printf '%s\n' "$want_out") "$WORK/out" >&2
    fi
    if [ "$(cat "$WORK/err")" != "$want_err" ]; then
        fail "$name: stderr differs"
        diff <(printf '%s\n' "$want_err") "$WORK/err" >&2
    fi
}

mkdir -p "$WORK/etc/contracts" "$WORK/creds"
cp "$SRC/etc/ssemon/contracts/"*.json "$WORK/etc/contracts/"
printf 'Bearer integration-token\n' >"$WORK/creds/gateway-token"

# ---- valid configurations ----
cat >"$WORK/etc/ok.json" <<'JSON'
{
  "status": {"listen": "[::1]:0"},
  "contracts_dir": "contracts",
  "defaults": {"backoff_max_ms": 10000, "headers": {"X-Env": "ci"}},
  "subscriptions": [
    {"name": "version-legacy", "url": "http://127.0.0.1:9/api/utils/version/stream?request_id=r",
     "contract": "version-stream", "vars": {"request_id": "r"}, "heartbeat_interval_s": 1},
    {"name": "task-gateway", "url": "http://127.0.0.1:9/api/sse/tasks?task_id=t",
     "contract": "task-stream-gateway", "vars": {"task_id": "t"}, "enabled": false}
  ]
}
JSON
run "valid" 0 "configuration OK" "" -c "$WORK/etc/ok.json"
run "valid, long option" 0 "configuration OK" "" --config "$WORK/etc/ok.json"
run "shipped example" 0 "probe gateway-task: every 60s, POST http://backend.staging.internal:5000/api/testing/tasks/start
  expect task_event:task_started on gateway-main within 2s where /task_id=\${task_id}
  expect task_event:task_completed on gateway-main within 10s where /task_id=\${task_id}
probe gateway-targeted: every 120s, POST http://backend.staging.internal:5000/api/testing/sse/task-event
  expect task_event:task_started on gateway-main within 2s where /task_id=\${run_id}
probe legacy-task: every 300s, POST http://backend.staging.internal:5000/api/testing/tasks/start
  stream http://backend.staging.internal:5000/api/tasks/\${task_id}/stream (task-stream) within 15s
configuration OK" "" -c "$SRC/etc/ssemon/example.json"
run "installed configuration (no subscriptions)" 0 "configuration OK" "" -c "$SRC/etc/ssemon/ssemon.json"
run "demo configuration" 0 "probe gateway-task: every 10s, POST http://127.0.0.1:18765/api/testing/tasks/start
  expect task_event:task_started on gateway-main within 2s where /task_id=\${task_id}
  expect task_event:task_completed on gateway-main within 5s where /task_id=\${task_id}
  stream http://127.0.0.1:18765/api/tasks/\${task_id}/stream (task-stream) within 5s
configuration OK" "" -c "$SRC/etc/ssemon/demo.json"

# ---- probes: a template name nobody defines, located at its "${" ----
cat >"$WORK/etc/probe-bad.json" <<'JSON'
{"contracts_dir": "contracts",
 "subscriptions": [
  {"name": "gw", "contract": "gateway-envelope", "url": "http://127.0.0.1:9/api/sse/stream?request_id=m-${uuid}",
   "vars": {"request_id": "m-${uuid}"}}],
 "probes": [
  {"name": "p", "every_s": 10,
   "trigger": {"url": "http://127.0.0.1:9/start?who=${nobody}"},
   "expect": [{"subscription": "gw", "event": "task_event:task_started", "within_s": 2}]}]}
JSON
timeout 20 "$SSEMON" check-config -c "$WORK/etc/probe-bad.json" >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" = 2 ] || fail "probe with an unknown template name: exit status $rc, want 2"
grep -q "^$WORK/etc/probe-bad.json:7:[0-9]*: /probes/0/trigger/url: .*nobody" "$WORK/err" ||
    { fail "probe with an unknown template name: no positioned error naming it"; cat "$WORK/err" >&2; }

# ---- descriptions: listed with the probes; checked, positioned ----
cat >"$WORK/etc/desc.json" <<'JSON'
{"contracts_dir": "contracts",
 "subscriptions": [
  {"name": "gw", "contract": "gateway-envelope", "url": "http://127.0.0.1:9/api/sse/stream?request_id=r",
   "vars": {"request_id": "r"}, "description": "Gateway, EU \u2014 prod"}],
 "probes": [
  {"name": "p", "every_s": 10, "description": "Starts a task, waits for it",
   "trigger": {"url": "http://127.0.0.1:9/start"},
   "expect": [{"subscription": "gw", "event": "task_event:task_started", "within_s": 2}]}]}
JSON
run "descriptions" 0 "probe p: every 10s, POST http://127.0.0.1:9/start
  description: Starts a task, waits for it
  expect task_event:task_started on gw within 2s
configuration OK" "" -c "$WORK/etc/desc.json"
LONG=$(head -c 1025 /dev/zero | tr '\0' d)
cat >"$WORK/etc/desc-bad.json" <<JSON
{"contracts_dir": "contracts",
 "subscriptions": [
  {"name": "a", "contract": "task-stream", "url": "http://127.0.0.1:9/", "description": "one\\ntwo"},
  {"name": "b", "contract": "task-stream", "url": "http://127.0.0.1:9/", "description": "$LONG"},
  {"name": "c", "contract": "task-stream", "url": "http://127.0.0.1:9/", "description": ["x"]}]}
JSON
D=$WORK/etc/desc-bad.json
run "bad descriptions" 2 "" "\
$D:3:89: /subscriptions/0/description: must be one line of text (no control characters)
$D:4:89: /subscriptions/1/description: is 1025 bytes long; at most 1024 bytes
$D:5:89: /subscriptions/2/description: expected a string, got an array" -c "$D"

cat >"$WORK/etc/creds.json" <<'JSON'
{"subscriptions": [
  {"name": "g", "url": "https://monitor:pa55word@127.0.0.1:9/s", "contract": "task-stream",
   "headers": {"Authorization": {"credential": "gateway-token"}}}],
 "contracts_dir": "contracts"}
JSON
CREDENTIALS_DIRECTORY=$WORK/creds run "credential" 0 "configuration OK" "" -c "$WORK/etc/creds.json"
run "credential without CREDENTIALS_DIRECTORY" 2 "" \
    "$WORK/etc/creds.json:3:48: /subscriptions/0/headers/Authorization/credential: cannot read credential \"gateway-token\": CREDENTIALS_DIRECTORY is not set (systemd sets it for LoadCredential=)" \
    -c "$WORK/etc/creds.json"

# ---- a broken configuration: every error, in file order ----
printf 'first-line-of-secret\nsecond\n' >"$WORK/creds/multi"
cat >"$WORK/etc/broken.json" <<'JSON'
{
  "status": {"listen": "localhost:9464"},
  "contracts_dir": "contracts",
  "defaults": {"stirct": true, "backoff_min_ms": 0, "connect_timeout_s": "10"},
  "subscriptions": [
    {"name": "a b", "url": "ftp://u:hunter2@h/x", "contract": "task-strem"},
    {"name": "dup", "url": "http://127.0.0.1:9/", "contract": "task-stream",
     "vars": {"request_id": "x"}, "headers": {"Bad Name": "v", "X-S": {"credential": "multi"}}},
    {"name": "dup", "url": "http://127.0.0.1:9/", "contract": "version-stream", "colour": 1},
    {"url": "http://127.0.0.1:9/"}
  ],
  "extra": null
}
JSON
B=$WORK/etc/broken.json
CREDENTIALS_DIRECTORY=$WORK/creds run "broken" 2 "" "\
$B:2:24: /status/listen: invalid listen address \"localhost:9464\": use IPV4:PORT, [IPV6]:PORT (numeric, port 0 to 65535) or an absolute unix socket path (at most 107 bytes)
$B:4:16: /defaults/stirct: unknown key \"stirct\" (did you mean \"strict\"?)
$B:4:50: /defaults/backoff_min_ms: must be between 1 and 3600000, got 0
$B:4:74: /defaults/connect_timeout_s: expected a number, got a string
$B:6:14: /subscriptions/0/name: invalid name \"a b\": use letters, digits, '_', '.' and '-'
$B:6:28: /subscriptions/0/url: unsupported URL scheme \"ftp\" in \"ftp://***@h/x\": use http or https
$B:6:63: /subscriptions/0/contract: unknown contract \"task-strem\" (did you mean \"task-stream\"?)
$B:8:15: /subscriptions/1/vars/request_id: variable \"request_id\" is not declared by contract \"task-stream\" (it declares: task_id)
$B:8:47: /subscriptions/1/headers/Bad Name: invalid header name \"Bad Name\": letters, digits and !#\$%&'*+-.^_\`|~ only
$B:8:86: /subscriptions/1/headers/X-S/credential: the value read from \"$WORK/creds/multi\" has a control character or line break (a header value is one line)
$B:9:14: /subscriptions/2/name: duplicate subscription name \"dup\" (first used at line 7)
$B:9:81: /subscriptions/2/colour: unknown key \"colour\"
$B:10:5: /subscriptions/3/name: missing (a subscription needs \"name\", \"url\" and \"contract\")
$B:10:5: /subscriptions/3/contract: missing (a subscription needs \"name\", \"url\" and \"contract\")
$B:12:3: /extra: unknown key \"extra\"" -c "$B"
if grep -q -e hunter2 -e first-line-of-secret "$WORK/err"; then
    fail "broken: a secret was printed"
fi

# ---- files that cannot be read or parsed ----
printf '{"subscriptions": [],\n  "a": tru}\n' >"$WORK/etc/syntax.json"
run "syntax error" 2 "" "$WORK/etc/syntax.json:2:8: invalid JSON: invalid value" -c "$WORK/etc/syntax.json"
run "missing file" 2 "" "$WORK/none.json: cannot open: No such file or directory" -c "$WORK/none.json"
run "directory" 2 "" "$WORK: is a directory" -c "$WORK"
if [ ! -e /etc/ssemon/ssemon.json ]; then
    run "default path" 2 "" "/etc/ssemon/ssemon.json: cannot open: No such file or directory"
else
    echo "skip: /etc/ssemon/ssemon.json exists, the default path is not checked"
fi

# ---- usage ----
timeout 20 "$SSEMON" check-config --help >"$WORK/out" 2>"$WORK/err"
[ $? = 0 ] || fail "--help: exit status"
grep -q '^usage: ssemon check-config \[-c FILE\]$' "$WORK/out" || fail "--help: no usage line"
timeout 20 "$SSEMON" check-config --bogus >"$WORK/out" 2>"$WORK/err"
[ $? = 2 ] || fail "--bogus: exit status"
grep -q "unknown or incomplete option '--bogus'" "$WORK/err" || fail "--bogus: no message"
timeout 20 "$SSEMON" check-config -c "$WORK/etc/ok.json" extra >"$WORK/out" 2>"$WORK/err"
[ $? = 2 ] || fail "extra argument: exit status"
timeout 20 "$SSEMON" check-config -c >"$WORK/out" 2>"$WORK/err"
[ $? = 2 ] || fail "-c without FILE: exit status"

if [ $FAILED = 0 ]; then
    echo "check-config: all cases passed"
fi
exit $FAILED
