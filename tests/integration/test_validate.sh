#!/bin/bash
# Integration tests of `ssemon validate`: the real binary on real files in a
# temporary directory. Every exit status (0, 1, 2), usage errors, NDJSON on
# stdin and instance files, schema errors positioned FILE:LINE:COL (in the
# schema and in a -r document), "$ref" to a sibling file, to an http:// URI
# (refused, and nothing connects), out of the allowed directories by "../"
# (refused until a -r file admits that directory), -r URI=FILE, the size
# caps, byte order marks.
#
# usage: test_validate.sh SSEMON
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 SSEMON" >&2
    exit 2
fi
SSEMON=$1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILED=0
PASSED=0

fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}

# run NAME WANT_RC ARGS... (stdin from $WORK/in when it exists): runs
# validate with stdout in $WORK/out, stderr in $WORK/err and checks the
# exit status.
run() {
    local name=$1 want_rc=$2
    shift 2
    if [ -f "$WORK/in" ]; then
        timeout 60 "$SSEMON" validate "$@" <"$WORK/in" >"$WORK/out" 2>"$WORK/err"
    else
        timeout 60 "$SSEMON" validate "$@" </dev/null >"$WORK/out" 2>"$WORK/err"
    fi
    local rc=$?
    rm -f "$WORK/in"
    if [ "$rc" != "$want_rc" ]; then
        fail "$name: exit status $rc, want $want_rc"
        sed 's/^/    out| /' "$WORK/out" | head -20 >&2
        sed 's/^/    err| /' "$WORK/err" | head -20 >&2
        return 1
    fi
    PASSED=$((PASSED + 1))
    return 0
}

# same NAME FILE WANT: FILE holds exactly WANT.
same() {
    local got
    got=$(cat "$2")
    if [ "$got" != "$3" ]; then
        fail "$1: output differs"
        diff <(printf '%s\n' "$3") <(printf '%s\n' "$got") >&2
    fi
}

# has NAME FILE REGEX: some line of FILE matches the extended REGEX.
has() {
    grep -Eq -- "$3" "$2" || {
        fail "$1: no line of $(basename "$2") matches /$3/"
        sed 's/^/    | /' "$2" | head -20 >&2
    }
}

mkdir -p "$WORK/schemas/sub" "$WORK/other"
S=$WORK/schemas

# ---- usage ----
run "help" 0 --help && has "help" "$WORK/out" '^usage: ssemon validate -s SCHEMA \[-r \[URI=\]FILE\]\.\.\. \[-d FILE\|-\]\.\.\.$'
run "no schema" 2
same "no schema: the error line first" <(head -n 2 "$WORK/err") "ssemon validate: missing -s SCHEMA
usage: ssemon validate -s SCHEMA [-r [URI=]FILE]... [-d FILE|-]..."
same "no schema: nothing on stdout" "$WORK/out" ""
run "unknown option" 2 -s x.json --nope
same "unknown option" <(head -n 1 "$WORK/err") "ssemon validate: unknown or incomplete option '--nope'"
run "missing argument" 2 -s
same "missing argument" <(head -n 1 "$WORK/err") "ssemon validate: unknown or incomplete option '-s'"
run "extra argument" 2 -s x.json data.json
same "extra argument" <(head -n 1 "$WORK/err") "ssemon validate: unexpected argument 'data.json'"
run "two schemas" 2 -s a.json -s b.json
same "two schemas" <(head -n 1 "$WORK/err") "ssemon validate: -s given twice: one schema at a time"
run "missing schema file" 2 -s "$S/none.json"
same "missing schema file" "$WORK/err" "$S/none.json: cannot open: No such file or directory"

# ---- instances: NDJSON on stdin, files ----
cat >"$S/n.json" <<'JSON'
{
  "type": "object",
  "required": ["n"],
  "properties": {"n": {"type": "integer", "maximum": 10}}
}
JSON
printf '{"n": 1}\n\n   \n{"n": 11}\nnot json\n{"n": 2}\r\n{"m": 1}' >"$WORK/in"
run "ndjson: one invalid" 1 -s "$S/n.json" -d -
same "ndjson: verdicts" <(jq -c '[.data, .valid, .path]' "$WORK/out") '["-:1",true,null]
["-:4",false,"/n"]
["-:5",false,null]
["-:6",true,null]
["-:7",false,""]'
has "ndjson: valid lines have no message" "$WORK/out" '^\{"data":"-:1","valid":true,"path":null,"message":null\}$'
has "ndjson: a line that is not JSON says where" "$WORK/out" '"data":"-:5","valid":false,"path":null,"message":"not JSON: column 1: '
has "ndjson: the failure's message" "$WORK/out" '"data":"-:4".*"message":"[^"]*11[^"]*10'
same "ndjson: nothing on stderr" "$WORK/err" ""

printf '{"n": 1}\n{"n": 3}\n' >"$WORK/in"
run "ndjson: all valid" 0 -s "$S/n.json" -d -
same "ndjson: all valid" <(jq -r .data "$WORK/out") "-:1
-:2"
printf '{"n": 1}\n' >"$WORK/in"
run "no -d reads stdin" 0 -s "$S/n.json"
same "no -d reads stdin" "$WORK/out" '{"data":"-:1","valid":true,"path":null,"message":null}'

printf '{"n": 4}' >"$WORK/good.json"
printf '{"n": "4"}' >"$WORK/bad.json"
printf '\xEF\xBB\xBF{"n": 5}\n' >"$WORK/bom.json"
run "files: valid" 0 -s "$S/n.json" -d "$WORK/good.json" -d "$WORK/bom.json"
same "files: valid" "$WORK/out" "{\"data\":\"$WORK/good.json\",\"valid\":true,\"path\":null,\"message\":null}
{\"data\":\"$WORK/bom.json\",\"valid\":true,\"path\":null,\"message\":null}"
printf '{"n": 1}\n' >"$WORK/in"
run "files and stdin, one invalid" 1 -s "$S/n.json" -d "$WORK/bad.json" -d - -d "$WORK/good.json"
same "files and stdin, in order" <(jq -c '[.data, .valid, .path]' "$WORK/out") "[\"$WORK/bad.json\",false,\"/n\"]
[\"-:1\",true,null]
[\"$WORK/good.json\",true,null]"
printf '{"n": 1,\n "x": }' >"$WORK/broken.json"
run "file: not JSON" 1 -s "$S/n.json" -d "$WORK/broken.json"
has "file: not JSON says line and column" "$WORK/out" '"valid":false,"path":null,"message":"not JSON: line 2, column 7: '
run "file: missing" 2 -s "$S/n.json" -d "$WORK/none.json" -d "$WORK/good.json"
same "file: missing" <(jq -c '[.data, .valid, .message]' "$WORK/out") "[\"$WORK/none.json\",false,\"not read: cannot open: No such file or directory\"]
[\"$WORK/good.json\",true,null]"
printf '\xEF\xBB\xBF{"n": 6}\n{"n": 7}\n' >"$WORK/in"
run "stdin: byte order mark" 0 -s "$S/n.json"

# ---- size caps: 16 MiB per instance, a file or a line ----
python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
big = '"' + "a" * (16 * 1024 * 1024 - 1) + '"'  # 16 MiB + 1 byte
with open(work + "/big.json", "w") as f:
    f.write(big)
with open(work + "/in", "w") as f:
    f.write(big + "\n" + '{"n": 1}\n')
with open(work + "/fits.json", "w") as f:
    f.write(big[:-2] + '"')  # exactly 16 MiB
PY
cp "$WORK/in" "$WORK/big-lines"
run "cap: a line too long" 2 -s "$S/n.json"
same "cap: a line too long, the next judged" <(jq -c '[.data, .valid, .message]' "$WORK/out") '["-:1",false,"not read: longer than 16777216 bytes"]
["-:2",true,null]'
run "cap: a file too large" 2 -s "$S/n.json" -d "$WORK/big.json"
same "cap: a file too large" <(jq -c '[.valid, .message]' "$WORK/out") '[false,"not read: larger than 16777216 bytes"]'
run "cap: a file of exactly 16 MiB is read" 1 -s "$S/n.json" -d "$WORK/fits.json"
has "cap: 16 MiB judged" "$WORK/out" '"valid":false,"path":"","message":'
rm -f "$WORK/big.json" "$WORK/fits.json" "$WORK/big-lines"

# ---- schema errors, positioned ----
cat >"$S/bad-schema.json" <<'JSON'
{
  "type": "object",
  "properties": {
    "n": {"type": "integer", "minimum": "zero"}
  }
}
JSON
printf '{"n": 1}\n' >"$WORK/in"
run "schema error" 2 -s "$S/bad-schema.json"
has "schema error: FILE:LINE:COL: PATH: MESSAGE" "$WORK/err" "^$S/bad-schema.json:4:30: /properties/n/minimum: "
same "schema error: no verdicts" "$WORK/out" ""
printf '{\n  "type": "object",,\n}\n' >"$S/not-json.json"
run "schema not JSON" 2 -s "$S/not-json.json"
has "schema not JSON: positioned" "$WORK/err" "^$S/not-json.json:2:20: invalid JSON: "
printf '\xEF\xBB\xBF{\n  "type": "string",\n  "minLength": -1\n}\n' >"$S/bom-bad.json"
run "schema with a byte order mark: positions after it" 2 -s "$S/bom-bad.json"
has "bom: positioned" "$WORK/err" "^$S/bom-bad.json:3:3: /minLength: "
printf '\xEF\xBB\xBF{"type": "integer"}' >"$S/bom-ok.json"
printf '1\n' >"$WORK/in"
run "schema with a byte order mark" 0 -s "$S/bom-ok.json"

# An error inside a -r document is shown in that document.
cat >"$S/sub/defs.json" <<'JSON'
{
  "$defs": {
    "count": {"type": "integer",
              "maximum": "ten"}
  }
}
JSON
printf '{"$ref": "sub/defs.json#/$defs/count"}\n' >"$S/uses-defs.json"
printf '1\n' >"$WORK/in"
run "error in a -r document" 2 -s "$S/uses-defs.json" -r "$S/sub/defs.json"
has "error in a -r document: positioned in it" "$WORK/err" "^$S/sub/defs.json:4:15: /\\\$defs/count/maximum: "
printf '{"$defs": {"x": }}' >"$S/sub/broken-defs.json"
run "-r document not JSON" 2 -s "$S/n.json" -r "$S/sub/broken-defs.json"
has "-r document not JSON: positioned" "$WORK/err" "^$S/sub/broken-defs.json:1:17: invalid JSON: "

# The same in a document a $ref reached (no -r): named by its path.
printf '{"$ref": "sub/defs.json#/$defs/count"}\n' >"$S/reaches-defs.json"
printf '1\n' >"$WORK/in"
run "error in a document a \$ref reached" 2 -s "$S/reaches-defs.json"
has "error in a document a \$ref reached: positioned in it" "$WORK/err" "^$S/sub/defs.json:4:15: /\\\$defs/count/maximum: "
printf '{\n  "$ref": "sub/broken-defs.json"}' >"$S/reaches-broken.json"
printf '1\n' >"$WORK/in"
run "a document a \$ref reached is not JSON" 2 -s "$S/reaches-broken.json"
has "not JSON: at the \$ref, with the position in the document" "$WORK/err" "^$S/reaches-broken.json:2:3: /\\\$ref: .*$S/sub/broken-defs.json:1:17: invalid JSON: "

# ---- $ref to other documents ----
# A sibling file, found from the schema's directory (no -r), with the
# fragment resolved inside it, and its own "#/..." references too.
cat >"$S/sub/openapi.json" <<'JSON'
{
  "openapi": "3.1.0",
  "components": {
    "schemas": {
      "TaskEvent": {
        "type": "object",
        "properties": {
          "event_type": {"$ref": "#/components/schemas/EventType"},
          "progress": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "null"}]}
        },
        "required": ["event_type"]
      },
      "EventType": {"enum": ["task_started", "task_completed"]}
    }
  }
}
JSON
printf '{"$ref": "sub/openapi.json#/components/schemas/TaskEvent"}\n' >"$S/task.json"
printf '{"event_type": "task_started", "progress": 0.5}\n{"event_type": "nope"}\n{"event_type": "task_completed", "progress": null}\n' >"$WORK/in"
run "sibling document" 1 -s "$S/task.json"
same "sibling document: verdicts" <(jq -c '[.data, .valid, .path]' "$WORK/out") '["-:1",true,null]
["-:2",false,"/event_type"]
["-:3",true,null]'

# http:// is never fetched: refused, and nothing connects to the port.
python3 - "$SSEMON" "$S" <<'PY' || fail "http ref: see above"
import json, os, socket, subprocess, sys
ssemon, sdir = sys.argv[1], sys.argv[2]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
port = srv.getsockname()[1]
schema = os.path.join(sdir, "remote.json")
with open(schema, "w") as f:
    json.dump({"$ref": f"http://127.0.0.1:{port}/integer.json"}, f)
p = subprocess.run([ssemon, "validate", "-s", schema, "-d", "-"], input=b"1\n",
                   capture_output=True, timeout=60)
err = p.stderr.decode()
srv.setblocking(False)
try:
    srv.accept()
    connected = True
except BlockingIOError:
    connected = False
ok = p.returncode == 2 and "only local files are read, never the network" in err and not connected
if not ok:
    print(f"http ref: status {p.returncode}, connected {connected}, stderr: {err}", file=sys.stderr)
sys.exit(0 if ok else 1)
PY

# Out of the allowed directories with "../": refused, until a -r file
# admits the directory.
printf '{"type": "string"}' >"$WORK/other/secret.json"
printf '{"minLength": 1}' >"$WORK/other/admit.json"
printf '{"$ref": "../other/secret.json"}' >"$S/escape.json"
printf '"x"\n' >"$WORK/in"
run "../ escape refused" 2 -s "$S/escape.json"
has "../ escape refused: says why" "$WORK/err" "other/secret.json: outside the directories of the schema and the -r files"
printf '"x"\n' >"$WORK/in"
run "a -r file admits its directory" 0 -s "$S/escape.json" -r "$WORK/other/admit.json"
# A link inside the directory that leads out is refused too.
ln -s "$WORK/other/secret.json" "$S/link.json"
printf '{"$ref": "link.json"}' >"$S/via-link.json"
printf '"x"\n' >"$WORK/in"
run "a link out refused" 2 -s "$S/via-link.json"
has "a link out refused: says why" "$WORK/err" "link.json: outside the directories"
printf '{"$ref": "missing.json"}' >"$S/missing-ref.json"
printf '"x"\n' >"$WORK/in"
run "a missing file" 2 -s "$S/missing-ref.json"
has "a missing file: says so" "$WORK/err" "missing.json: no such file"

# -r URI=FILE: a document known by an http URI, read from the file.
printf '{"$defs": {"small": {"type": "integer", "maximum": 3}}}' >"$WORK/other/models.json"
printf '{"$ref": "http://models.example/m.json#/$defs/small"}' >"$S/by-uri.json"
printf '2\n4\n' >"$WORK/in"
run "-r URI=FILE" 1 -s "$S/by-uri.json" -r "http://models.example/m.json=$WORK/other/models.json"
same "-r URI=FILE: verdicts" <(jq -c '.valid' "$WORK/out") 'true
false'
# -r FILE with an "$id": known by it.
printf '{"$id": "urn:example:models", "$defs": {"s": {"type": "string"}}}' >"$WORK/other/id.json"
printf '{"$ref": "urn:example:models#/$defs/s"}' >"$S/by-id.json"
printf '"a"\n1\n' >"$WORK/in"
run "-r FILE known by its \$id" 1 -s "$S/by-id.json" -r "$WORK/other/id.json"
same "-r FILE known by its \$id: verdicts" <(jq -c '.valid' "$WORK/out") 'true
false'

# ---- the operator's example of docs/validate.md: a payload against the
# event schema in the shipped contract file that defines it ----
CONTRACTS=$(cd "$(dirname "$0")/../../etc/ssemon/contracts" && pwd)
cat >"$WORK/progress_update.json" <<JSON
{"allOf": [
  {"\$ref": "file://$CONTRACTS/common-backend.json#/definitions/task_event"},
  {"\$ref": "file://$CONTRACTS/common-backend.json#/definitions/progress_update"}
]}
JSON
printf '%s\n' '{"event_type": "progress_update", "task_id": "5f0c8f52-3b6e-4c1e-9d7a-2a4b6c8d0e1f", "timestamp": "2026-11-27T08:14:00.984067+00:00", "data": {"text": "Step 1/3", "value": 1.5}}' \
    '{"event_type": "progress_update", "task_id": "5f0c8f52-3b6e-4c1e-9d7a-2a4b6c8d0e1f", "timestamp": "2026-11-27T08:14:00.984067+00:00", "data": {"text": "Step 1/3", "value": 0.5}}' >"$WORK/in"
run "operator's example" 1 -s "$WORK/progress_update.json" -r "$CONTRACTS/common-backend.json"
same "operator's example: verdicts" "$WORK/out" '{"data":"-:1","valid":false,"path":"/data/value","message":"1.5 is greater than maximum 1"}
{"data":"-:2","valid":true,"path":null,"message":null}'

# ---- bash completion (packaging/completion/ssemon) ----
# Every command of `ssemon --help` and every long option of each command's
# --help is completed, and validate's -s, -r and -d complete files. The
# bash-completion helpers it uses are stubbed: only its own logic is tested.
COMPLETION=$(dirname "$0")/../../packaging/completion/ssemon
mkdir -p "$WORK/comp"
printf '{}' >"$WORK/comp/schema.json"
cat >"$WORK/comp.sh" <<'SH'
_init_completion() {
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
}
_filedir() { COMPREPLY+=(FILES); }
complete() { :; }
source "$1"
# complete WORD...: the completions of the last word, one per line
comp() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    _ssemon
    printf '%s\n' "${COMPREPLY[@]}"
}
SH
comp() { bash -c 'source "$1" "$2"; shift 2; comp "$@"' _ "$WORK/comp.sh" "$COMPLETION" "$@"; }
bash -n "$COMPLETION" || fail "completion: bash -n"
for cmd in $("$SSEMON" --help | sed -n 's/^  \([a-z-]*\)  .*/\1/p'); do
    comp ssemon "" | grep -qxF "$cmd" || fail "completion: command $cmd not completed"
    [ "$cmd" = version ] && continue
    for opt in $("$SSEMON" "$cmd" --help | sed -n 's/^  *\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p'); do
        comp ssemon "$cmd" "--" | grep -qxF -- "$opt" ||
            fail "completion: $cmd $opt not completed"
    done
done
same "completion: validate's options" <(comp ssemon validate -) "-s
--schema
-r
--ref
-d
--data
--help"
same "completion: validate -s completes files" <(comp ssemon validate -s "") "FILES"
same "completion: validate -d completes files and -" <(comp ssemon validate -d "") "FILES
-"
same "completion: run --log-target" <(comp ssemon run --log-target "") "auto
journal
stderr"
printf '{"subscriptions": [{"name": "gw-main"}, {"name": "gw-two"}], "probes": [{"name": "p1"}]}' >"$WORK/comp/cfg.json"
if command -v jq >/dev/null; then
    same "completion: subscription names from the configuration" <(bash -c 'source "$1" "$2"; COMP_WORDS=(ssemon probe -c "$3" x); COMP_CWORD=4; _ssemon_config_names subscriptions' _ "$WORK/comp.sh" "$COMPLETION" "$WORK/comp/cfg.json") "gw-main
gw-two"
    same "completion: probe NAME from the configuration" <(comp ssemon probe -c "$WORK/comp/cfg.json" "") "p1"
fi

if [ "$FAILED" -ne 0 ]; then
    echo "test_validate: FAILED ($PASSED runs had the right status)" >&2
    exit 1
fi
echo "test_validate: all passed ($PASSED runs)"
