#!/bin/bash
# Integration tests of `ssemon check-contract`: the real binary on real
# files. A valid contract prints "ok NAME (FILE)" and exits 0; a broken one
# prints every error, one per line, exactly, and exits 2; so does `ssemon
# check` with that contract, before reading any stream. No network.
#
# usage: test_check_contract.sh SSEMON SOURCE_DIR
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 SSEMON SOURCE_DIR" >&2
    exit 2
fi
SSEMON=$1
SRC=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILED=0

fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}

# run NAME WANT_RC WANT_STDOUT WANT_STDERR ARGS...: runs ssemon ARGS and
# compares exit status, stdout and stderr exactly.
run() {
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 4
    timeout 20 "$SSEMON" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
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

# Every shipped contract is valid, the abstract building block included.
SHIPPED="$SRC/etc/ssemon/contracts"
want=""
for f in "$SHIPPED"/*.json; do
    name=$(basename "$f" .json)
    extra=""
    grep -q '"abstract": true' "$f" && extra=", abstract: only to be extended"
    want="$want${want:+
}ok $name ($f$extra)"
done
run "shipped files" 0 "$want" "" check-contract "$SHIPPED"/*.json
run "shipped by name" 0 "ok task-stream ($SHIPPED/task-stream.json)" "" \
    check-contract --contracts-dir "$SHIPPED" task-stream

# A file with three errors: three lines, in document order, exact positions.
cat >"$WORK/three.json" <<'JSON'
{
  "events": {
    "a": {"data": "x"},
    "b": {"schema": {"type": 5}}
  },
  "order": {"initial": "s", "states": {"s": {"on": {"zz": "s"}}}}
}
JSON
THREE_ERR="$WORK/three.json:3:11: /events/a/data: \"x\" is not a data encoding (\"json\" or \"text\")
$WORK/three.json:4:22: /events/b/schema/type: \"type\" must be a string or an array of strings
$WORK/three.json:6:53: /order/states/s/on/zz: event kind \"zz\" is not declared in \"events\""
run "three errors" 2 "" "$THREE_ERR" check-contract "$WORK/three.json"

# `check` with a contract that does not load: the same errors, exit 2, and
# no stream verdict (no "stream_ended").
run "check, broken contract" 2 "" "$(sed 's/^/ssemon check: /' <<<"$THREE_ERR")" \
    check --contract "$WORK/three.json" /dev/null
timeout 20 "$SSEMON" check --contract nope --contracts-dir "$WORK" /dev/null >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" = 2 ] || fail "check, missing contract: exit status $rc, want 2"
[ -s "$WORK/out" ] && fail "check, missing contract: a stream verdict on stdout"
grep -q '^ssemon check: nope: contract not found (searched: '"$WORK"', ' "$WORK/err" ||
    { fail "check, missing contract: stderr"; cat "$WORK/err" >&2; }

# A name not found.
timeout 20 "$SSEMON" check-contract --contracts-dir "$WORK" nope >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" = 2 ] || fail "name not found: exit status $rc, want 2"
[ -s "$WORK/out" ] && fail "name not found: something on stdout"
grep -q '^nope: contract not found (searched: '"$WORK"', ' "$WORK/err" ||
    { fail "name not found: stderr"; cat "$WORK/err" >&2; }

# An error inside a document a schema refers to: at its place there; with a
# valid contract in the same run, both reported, exit 2.
mkdir "$WORK/c"
cat >"$WORK/c/api.json" <<'JSON'
{"components": {"schemas": {
  "Good": {"type": "object"},
  "Bad": {"type": "objekt"}}}}
JSON
cat >"$WORK/c/refs.json" <<'JSON'
{
  "events": {
    "good": {"schema": {"$ref": "api.json#/components/schemas/Good"}},
    "bad": {"schema": {"$ref": "api.json#/components/schemas/Bad"}},
    "gone": {"schema": {"$ref": "#/definitions/gone"}}
  }
}
JSON
cat >"$WORK/c/fine.json" <<'JSON'
{"name": "fine-one", "events": {"e": {"schema": {"$ref": "api.json#/components/schemas/Good"}}}}
JSON
run "referred document" 2 "ok fine-one ($WORK/c/fine.json)" \
    "$WORK/c/refs.json:5:25: /events/gone/schema/\$ref: unresolved \$ref \"file://$WORK/c/refs.json#/definitions/gone\": no value at that JSON pointer
$WORK/c/api.json:3:11: /components/schemas/Bad/type: unknown type \"objekt\" (referred to by $WORK/c/refs.json)" \
    check-contract --contracts-dir "$WORK/c" refs fine

# Usage errors: the error, then the usage; exit 2.
timeout 20 "$SSEMON" check-contract >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" = 2 ] || fail "no argument: exit status $rc, want 2"
[ "$(head -n 2 "$WORK/err")" = "ssemon check-contract: no contract given
usage: ssemon check-contract [--contracts-dir DIR] NAME|FILE..." ] ||
    { fail "no argument: stderr"; cat "$WORK/err" >&2; }
timeout 20 "$SSEMON" check-contract --bogus task-stream >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" = 2 ] || fail "bad option: exit status $rc, want 2"
[ "$(head -n 1 "$WORK/err")" = "ssemon check-contract: unknown or incomplete option '--bogus'" ] ||
    { fail "bad option: stderr"; cat "$WORK/err" >&2; }
timeout 20 "$SSEMON" check-contract --help >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" = 0 ] && grep -q '^usage: ssemon check-contract' "$WORK/out" && [ ! -s "$WORK/err" ] ||
    fail "--help"

if [ "$FAILED" != 0 ]; then
    echo "integration_check_contract: FAILED" >&2
    exit 1
fi
echo "integration_check_contract: ok"
