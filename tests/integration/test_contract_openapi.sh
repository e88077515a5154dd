#!/bin/bash
# shellcheck disable=SC2016 # the jq programs use $variables of their own
# A contract that takes its task-event schemas from the backend's OpenAPI
# document (tests/fixtures/openapi: backend-openapi.json as pydantic v2 and
# SpecTree write it, the contract gateway-openapi.json that extends the
# shipped gateway-envelope and refers to it with
# "backend-openapi.json#/components/schemas/TaskEvent"), judged by the real
# `ssemon check`:
# - a faithful 2026 gateway stream (a scenario, and the test server's stack
#   running real tasks): no violation;
# - the same stream with a progress value of 1.5 and an unknown event_type:
#   exactly those two schema violations, with their instance paths and the
#   keyword that failed;
# - a "$ref" to a missing file, to a missing pointer in the document and to
#   http://: contract load errors positioned FILE:LINE:COL;
# - "extends" from another directory: the inherited "$ref" still names the
#   document beside the parent; the child's own resolves beside the child;
# - `ssemon check-config` on a daemon configuration with that contract.
#
# usage: test_contract_openapi.sh SSEMON SSE_TESTSERVER SOURCE_DIR
# Every check runs under `timeout` (endless streams with --max-duration);
# every wait is a bounded loop.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SOURCE_DIR" >&2
    exit 2
fi
SSEMON=$1
SERVER=$2
SRC=$3
OA=$SRC/tests/fixtures/openapi
SCN=$OA
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
for tool in jq curl; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }
done

itest_serve
FAILS=0
PASSES=0
CONTRACT=$OA/gateway-openapi.json

# The sorted violation classes of an output, comma-separated ("" for none).
classes() { jq -r 'select(has("class")) | .class' "$WORK/$1.out" | sort | paste -sd, -; }
events() { jq -r 'select(has("events")) | .events' "$WORK/$1.out"; }
jqe() { jq -e "$@" >/dev/null; }
# verdict NAME WANT_CLASSES WANT_RC RC: pass when both agree.
verdict() {
    local got
    got=$(classes "$1")
    if [ "$got" = "$2" ] && [ "$4" = "$3" ]; then
        pass "$1: [$got] exit $4"
    else
        fail "$1: want [$2] exit $3, got [$got] exit $4" "$WORK/$1.out"
        sed 's/^/    | /' "$WORK/$1.err" >&2
    fi
}
# check_url NAME CONTRACT URL SECONDS: `ssemon check` on an endless stream.
check_url() {
    timeout 30 "$SSEMON" check --contract "$2" --var request_id=oa --max-duration "$4" "$3" \
        >"$WORK/$1.out" 2>"$WORK/$1.err" </dev/null
}

# ---- the scenario: faithful, then two faults ----
check_url faithful "$CONTRACT" "$BASE/s/gateway-openapi?hb_ms=200" 1.5
verdict faithful "" 0 $?
n=$(events faithful)
check "faithful: ${n:-0} events judged (version, ready, 6 task events, version)" \
    "$WORK/faithful.out" test "${n:-0}" -ge 9

check_url faults "$CONTRACT" "$BASE/s/gateway-openapi?hb_ms=200&bad=1" 1.5
verdict faults "schema,schema" 1 $?
# The progress value: inside TaskProgressUpdate, reached through "then".
check "faults: 1.5 is /data/value, greater than maximum 1" "$WORK/faults.out" \
    jqe -s '[.[] | select(.class == "schema")][0].message |
        test("/data/value: 1.5 is greater than maximum 1")' "$WORK/faults.out"
# The event type: not one of TaskEventType's values.
check "faults: task_cancelled is /event_type, not one of the enum" "$WORK/faults.out" \
    jqe -s '[.[] | select(.class == "schema")][1].message |
        test("/event_type: \"task_cancelled\" is not one of the allowed values")' \
    "$WORK/faults.out"
check "faults: the events are the ones changed" "$WORK/faults.out" \
    jqe -s '[.[] | select(.class == "schema") | .excerpt] |
        (.[0] | test("Step 2/2")) and (.[1] | test("task_cancelled"))' "$WORK/faults.out"

# ---- the stack: real tasks on the 2026 gateway stream ----
post() {
    curl -s -m 10 -o "$WORK/post.body" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' -d "$2" "$BASE$1"
}
wait_log() {
    local _
    for _ in $(seq 1 200); do
        [ -s "$LOG" ] && jq -e -s "any(.[]; $1)" "$LOG" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}
timeout 30 "$SSEMON" check --contract "$CONTRACT" --var request_id=oa-stack --max-duration 4 \
    "$BASE/api/sse/stream?request_id=oa-stack&hb_ms=250" >"$WORK/stack.out" \
    2>"$WORK/stack.err" </dev/null &
CHECK_PID=$!
BG_PIDS+=("$CHECK_PID")
if wait_log 'select(.event == "version" and .request_id == "oa-stack")'; then
    for body in '{"task_type": "demo_task", "params": {"steps": 2, "delay": 0.1}}' \
        '{"task_type": "failing_task", "params": {"delay": 0.1, "error_message": "boom"}}'; do
        [ "$(post /api/testing/tasks/start "$body")" = 200 ] ||
            fail "stack: cannot start $body" "$WORK/post.body"
    done
else
    fail "stack: the stream never got its version" "$WORK/server.err"
fi
wait "$CHECK_PID"
verdict stack "" 0 $?
n=$(events stack)
check "stack: ${n:-0} events judged" "$WORK/stack.out" test "${n:-0}" -ge 8

# ---- load errors, positioned ----
mkdir -p "$WORK/c"
cp "$OA/backend-openapi.json" "$WORK/c/"
# bad_ref NAME REF: a contract in $WORK/c whose task_event schema is REF,
# written on line 4, the "$ref" at column 31.
bad_ref() {
    cat >"$WORK/c/$1.json" <<EOF
{
  "extends": "gateway-envelope",
  "events": {
    "task_event": {"schema": {"\$ref": "$2"},
                   "discriminator": null, "variants": null}
  }
}
EOF
    timeout 20 "$SSEMON" check --contract "$WORK/c/$1.json" "$BASE/s/gateway-openapi" \
        >"$WORK/$1.out" 2>"$WORK/$1.err" </dev/null
}
# load_error NAME REF MESSAGE_REGEX: exit 2, one line FILE:4:31: PATH: MESSAGE.
load_error() {
    bad_ref "$1" "$2"
    local rc=$?
    if [ "$rc" = 2 ] && grep -Eq "^ssemon check: $WORK/c/$1.json:4:31: /events/task_event/schema/\\\$ref: .*$3" \
        "$WORK/$1.err"; then
        pass "$1: $(head -1 "$WORK/$1.err")"
    else
        fail "$1: exit $rc, want 2 and $WORK/c/$1.json:4:31: ... $3" "$WORK/$1.err"
    fi
}
load_error ref-missing-file "nope.json#/components/schemas/TaskEvent" "nope.json: no such file"
load_error ref-missing-pointer "backend-openapi.json#/components/schemas/TaskEvnt" \
    "no value at that JSON pointer"
load_error ref-http "http://127.0.0.1:9/backend-openapi.json#/components/schemas/TaskEvent" \
    "never the network"
load_error ref-outside "../../../../../../../../etc/passwd#/x" "outside the contract directories"
# A mistake inside the document is shown where it is in the document.
sed 's/"maximum": 1.0,/"maximum": "1",/' "$OA/backend-openapi.json" >"$WORK/c/backend-openapi.json"
line=$(grep -n '"maximum": "1"' "$WORK/c/backend-openapi.json" | cut -d: -f1)
cp "$CONTRACT" "$WORK/c/broken-doc.json"
timeout 20 "$SSEMON" check --contract "$WORK/c/broken-doc.json" "$BASE/s/gateway-openapi" \
    >"$WORK/broken-doc.out" 2>"$WORK/broken-doc.err" </dev/null
rc=$?
if [ "$rc" = 2 ] && grep -Eq "^ssemon check: $WORK/c/backend-openapi.json:$line:13: /components/schemas/TaskProgressUpdate/properties/value/maximum: .*\\(referred to by $WORK/c/broken-doc.json\\)" \
    "$WORK/broken-doc.err"; then
    pass "broken-doc: $(head -1 "$WORK/broken-doc.err")"
else
    fail "broken-doc: exit $rc, want 2 at backend-openapi.json:$line:13" "$WORK/broken-doc.err"
fi

# ---- extends across directories ----
# The child lives elsewhere; what it inherits refers to the document beside
# the parent, which it finds.
mkdir -p "$WORK/child"
printf '{"extends": "%s", "description": "elsewhere"}\n' "$CONTRACT" >"$WORK/child/child.json"
check_url child "$WORK/child/child.json" "$BASE/s/gateway-openapi?hb_ms=200&bad=1" 1.5
verdict child "schema,schema" 1 $?
# Its own "$ref" resolves beside itself, where there is no such document.
cat >"$WORK/child/own.json" <<EOF
{"extends": "$CONTRACT",
 "events": {"version": {"schema": {"\$ref": "backend-openapi.json#/components/schemas/TaskEvent"}}}}
EOF
timeout 20 "$SSEMON" check --contract "$WORK/child/own.json" "$BASE/s/gateway-openapi" \
    >"$WORK/own.out" 2>"$WORK/own.err" </dev/null
rc=$?
if [ "$rc" = 2 ] && grep -q "^ssemon check: $WORK/child/own.json:2:36: /events/version/schema/\\\$ref: .*$WORK/child/backend-openapi.json: no such file" "$WORK/own.err"; then
    pass "own: the child's reference resolves beside the child"
else
    fail "own: exit $rc" "$WORK/own.err"
fi

# ---- the daemon's configuration ----
mkdir -p "$WORK/etc/contracts"
cp "$OA/gateway-openapi.json" "$OA/backend-openapi.json" "$WORK/etc/contracts/"
cat >"$WORK/etc/ssemon.json" <<'EOF'
{
  "status": {"listen": "127.0.0.1:0"},
  "contracts_dir": "contracts",
  "subscriptions": [
    {"name": "gateway-openapi",
     "url": "http://127.0.0.1:9/api/sse/stream?request_id=oa",
     "contract": "gateway-openapi", "vars": {"request_id": "oa"}}
  ]
}
EOF
timeout 20 "$SSEMON" check-config -c "$WORK/etc/ssemon.json" >"$WORK/cfg.out" 2>"$WORK/cfg.err"
rc=$?
check "check-config: the contract loads (exit $rc)" "$WORK/cfg.err" \
    test "$rc" = 0 -a "$(cat "$WORK/cfg.out")" = "configuration OK"
rm "$WORK/etc/contracts/backend-openapi.json"
timeout 20 "$SSEMON" check-config -c "$WORK/etc/ssemon.json" >"$WORK/cfg2.out" 2>"$WORK/cfg2.err"
rc=$?
check "check-config: without the document, exit 2 naming it" "$WORK/cfg2.err" \
    jqe -n --arg rc "$rc" --rawfile e "$WORK/cfg2.err" \
    '$rc == "2" and ($e | test("backend-openapi.json: no such file"))'

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
