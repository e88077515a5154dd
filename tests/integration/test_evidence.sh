#!/bin/bash
# Integration test of the per-subscription evidence (issue 14 §1): the real
# daemon (`ssemon run`) against a small loopback SSE server this script
# controls.
#  - GET /status/NAME/violations: each subscription's own ring of its last
#    50 violations, newest last, so a flapping subscription never evicts
#    another's, and 50 however long their texts;
#  - GET /status/NAME/events: the flight recorder's frames of the current
#    connection, bounded by evidence_events, response headers with the
#    credential-carrying ones redacted;
#  - unknown subpaths and subscriptions answer 404;
#  - evidence files: written on error violations under evidence_dir, within
#    the journal's flood control and the per-subscription cap, replayable
#    with `ssemon check` reproducing the class, secrets redacted, named in
#    /status (last_violation.evidence) and the journal entry
#    (SSEMON_EVIDENCE, seen on stderr), served by GET /evidence/FILE, and
#    nothing else served (path traversal, encoded slashes, symlinks);
#    a refused response's file keeps its body, redirect target and headers;
#  - a restart on the same directory: the earlier run's files are counted,
#    capped, served; a stale temporary file is removed;
#  - without evidence_dir, files go to $STATE_DIRECTORY/evidence.
# usage: test_evidence.sh SSEMON
# Every wait is bounded; talks to 127.0.0.1 only.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 SSEMON" >&2
    exit 2
fi
SSEMON=$1
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

WORK=$(mktemp -d)
SERVER_PID=
DAEMON_PID=
cleanup() {
    for pid in $DAEMON_PID $SERVER_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
FAILS=0
PASSES=0

# The server: /flap sends an event the contract does not know every 20 ms
# (an unknown_event violation each), numbered; /once sends one unknown
# event, then ticks every 50 ms. Both send a Set-Cookie header. A stream
# lives at most 60 s.
cat >"$WORK/server.py" <<'EOF'
import http.server, os, socketserver, sys, time
work = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a):
        pass
    def do_GET(self):
        path = self.path.strip("/").split("?")[0]
        if path == "gone":
            body = b"<html>gone</html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path == "html":
            body = b"<html>not a stream</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path == "boom":
            # 10 KiB: a marker, 4 KiB in all up to the second marker.
            body = b"HEAD-MARK" + b"a" * (4096 - 9) + b"TAIL-MARK" + b"b" * (10240 - 4096 - 9)
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Retry-After", "120")
            self.send_header("Set-Cookie", "boom=BOOM-SECRET")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path.startswith("moved"):
            # A redirect loop: each hop to the next /moved?n=K.
            n = int(self.path.split("n=")[1]) if "n=" in self.path else 0
            body = b"moved along"
            self.send_response(302)
            self.send_header("Location", "/moved?n=%d" % (n + 1))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path not in ("flap", "once", "long"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Set-Cookie", "session=SECRET-COOKIE")
        self.send_header("X-Trace", "visible")
        self.end_headers()
        try:
            end = time.monotonic() + 60
            n = 0
            if path == "once":
                self.wfile.write(b"event: bogus\ndata: x\n\n")
            while time.monotonic() < end:
                n += 1
                if path == "flap":
                    self.wfile.write(b"event: bogus\ndata: %d\n\n" % n)
                    time.sleep(0.02)
                elif path == "long":
                    # Violations as long as they come: a 60-byte event
                    # name, an excerpt of the full 200 bytes.
                    self.wfile.write(b"event: %s\ndata: %d %s\n\n" % (b"L" * 60, n, b"d" * 300))
                    time.sleep(0.02)
                else:
                    self.wfile.write(b"event: tick\ndata: %d\n\n" % n)
                    time.sleep(0.05)
                self.wfile.flush()
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
 "heartbeat": {"interval_s": 5, "tolerance": 2}}
EOF

SP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STATUS="http://127.0.0.1:$SP"
cat >"$WORK/ssemon.json" <<EOF
{"status": {"listen": "127.0.0.1:$SP"},
 "contracts_dir": "$WORK/contracts",
 "evidence_dir": "$WORK/evidence",
 "evidence_max_files": 3,
 "defaults": {"evidence_events": 3, "journal_rate": {"burst": 6, "interval_s": 3600}},
 "subscriptions": [
  {"name": "flap", "url": "$BASE/flap", "contract": "beat"},
  {"name": "once", "url": "$BASE/once", "contract": "beat", "evidence_events": 5},
  {"name": "long", "url": "$BASE/long", "contract": "beat"},
  {"name": "gone", "url": "$BASE/gone", "contract": "beat"},
  {"name": "boom", "url": "$BASE/boom", "contract": "beat"},
  {"name": "moved", "url": "$BASE/moved", "contract": "beat"}
 ]}
EOF
"$SSEMON" check-config -c "$WORK/ssemon.json" >"$WORK/check.out" 2>&1 ||
    { echo "configuration refused" >&2; cat "$WORK/check.out" >&2; exit 1; }
"$SSEMON" run -c "$WORK/ssemon.json" --log-target stderr 2>"$WORK/daemon.err" &
DAEMON_PID=$!
for _ in $(seq 1 200); do
    curl -sf -m 10 "$STATUS/healthz" >/dev/null 2>&1 && break
    sleep 0.05
done

# wait_for PATH JQ [TRIES]: polls STATUS/PATH (50 ms apart) until JQ is true.
wait_for() {
    for _ in $(seq 1 "${3:-200}"); do
        [ "$(curl -s -m 10 "$STATUS/$1" | jq -r "$2" 2>/dev/null)" = true ] && return 0
        sleep 0.05
    done
    return 1
}

# jqt FILTER FILE: whether FILTER is true of FILE.
jqt() { jq -e "$@" >/dev/null; }

# ---- the violation rings ----
check "flap: more than 50 violations happened" "$WORK/daemon.err" \
    wait_for status/flap '.violations.total > 60' 400
curl -s -m 10 "$STATUS/status/flap/violations" >"$WORK/flap.json"
check "flap: its ring holds the last 50, newest last" "$WORK/flap.json" \
    jqt 'length == 50 and all(.[]; .class == "unknown_event" and .subscription == "flap")
           and ([.[].at] == ([.[].at] | sort))' "$WORK/flap.json"
check "flap: the objects are /status's recent_violations objects" "$WORK/flap.json" \
    jqt '.[0] | keys == (["at","class","event","excerpt","message","severity","state","subscription"])' "$WORK/flap.json"
check "long: more than 50 violations happened" "$WORK/daemon.err" \
    wait_for status/long '.violations.total > 60' 400
curl -s -m 10 "$STATUS/status/long/violations" >"$WORK/long.json"
check "long: its ring holds the last 50 even with the longest texts" "$WORK/long.json" \
    jqt 'length == 50 and all(.[]; .class == "unknown_event" and (.excerpt | length) >= 190)
           and ([.[].at] == ([.[].at] | sort))' "$WORK/long.json"
curl -s -m 10 "$STATUS/status/once/violations" >"$WORK/once.json"
check "once: its single violation is still there" "$WORK/once.json" \
    jqt 'length == 1 and .[0].class == "unknown_event" and .[0].subscription == "once"' "$WORK/once.json"
curl -s -m 10 "$STATUS/status" >"$WORK/status.json"
check "the global recent list lost once's to flap (what the rings are for)" "$WORK/status.json" \
    jqt '[.recent_violations[] | select(.subscription == "once")] == []' "$WORK/status.json"

# ---- the flight recorder ----
curl -s -m 10 "$STATUS/status/flap/events" >"$WORK/flap-events.json"
check "flap/events: status, headers, at most evidence_events frames" "$WORK/flap-events.json" \
    jqt '.subscription == "flap" and .status == 200 and (.frames | length) <= 3 and (.frames | length) >= 2
           and .evicted > 0 and .frames_bytes > 0' "$WORK/flap-events.json"
check "flap/events: frames are whole events, in order" "$WORK/flap-events.json" \
    jqt '[.frames[] | select(.complete) | .data | test("^event: bogus\ndata: [0-9]+\n\n$")] | all' "$WORK/flap-events.json"
check "flap/events: Set-Cookie redacted, other headers kept" "$WORK/flap-events.json" \
    jqt '(.headers | map({(.[0]): .[1]}) | add) as $h
           | $h["Set-Cookie"] == "***" and $h["X-Trace"] == "visible"' "$WORK/flap-events.json"
check "flap/events: the cookie's value appears nowhere" "$WORK/flap-events.json" \
    bash -c '! grep -q SECRET-COOKIE "$1"' _ "$WORK/flap-events.json"
check "once/events: its own bound (5) applies" "$WORK/daemon.err" \
    wait_for status/once/events '(.frames | length) == 5 and .evicted > 0'

# ---- routing ----
for p in status/flap/other status/nope/events status/flap/events/x status//events; do
    code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$STATUS/$p")
    check "GET /$p is 404" /dev/null equals "$code" 404
done
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "$STATUS/status/flap/events")
check "POST /status/flap/events is 405" /dev/null equals "$code" 405

# ---- evidence files ----
EV=$WORK/evidence
metric() { curl -s -m 10 "$STATUS/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
# flap's 6 (the journal's burst), once's 1, gone's first.
evidence_of() { grep "^{" "$WORK/daemon.err" | jq -r --arg s "$1" 'select(.SSEMON_SUBSCRIPTION == $s and .SSEMON_EVIDENCE != null) | .SSEMON_EVIDENCE'; }
for _ in $(seq 1 200); do
    [ "$(metric ssemon_evidence_files_total)" -ge 10 ] 2>/dev/null &&
        [ "$(evidence_of flap | wc -l)" -ge 6 ] && [ "$(evidence_of boom | wc -l)" -ge 1 ] &&
        [ "$(evidence_of moved | wc -l)" -ge 1 ] && break
    sleep 0.05
done
check "flap: 6 files, the journal's burst, each named by its entry" "$WORK/daemon.err" \
    equals "$(evidence_of flap | wc -l)" 6
check "ssemon_evidence_files_total counts them all" "$WORK/daemon.err" \
    bash -c '[ "$1" -ge 10 ] && [ "$1" = "$2" ]' _ "$(metric ssemon_evidence_files_total)" \
    "$(grep "^{" "$WORK/daemon.err" | jq -r 'select(.SSEMON_EVIDENCE != null) | .SSEMON_EVIDENCE' | wc -l)"
check "nothing dropped" /dev/null equals \
    "$(curl -s -m 10 "$STATUS/metrics" | grep -c '^ssemon_evidence_dropped_total{reason="[a-z_]*"} 0$')" 3
ls "$EV" >"$WORK/ev.ls"
check "flap keeps its last 3 files (the per-subscription cap), once its one" "$WORK/ev.ls" \
    bash -c '[ "$(grep -c "^flap-" "$1")" = 3 ] && [ "$(grep -c "^once-" "$1")" = 1 ] && [ "$(grep -c "^gone-" "$1")" -ge 1 ]' _ "$WORK/ev.ls"
check "flap's 3 kept are its newest" "$WORK/ev.ls" \
    equals "$(evidence_of flap | tail -3 | xargs -n1 basename | sort | tr '\n' ' ')" "$(grep "^flap-" "$WORK/ev.ls" | sort | tr '\n' ' ')"
check "names are SUBSCRIPTION-YYYYmmddTHHMMSS.mmmZ-CLASS.rec" "$WORK/ev.ls" \
    bash -c '! grep -Ev "^((flap|once|long)-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-unknown_event|(gone|boom|moved)-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-http_status)(-[0-9]+)?\.rec$" "$1"' _ "$WORK/ev.ls"
ONCE=$(grep "^once-" "$WORK/ev.ls")
curl -s -m 10 "$STATUS/status/once" >"$WORK/once-status.json"
check "/status names the file in last_violation.evidence" "$WORK/once-status.json" \
    jqt --arg f "$ONCE" '.last_violation.evidence == $f' "$WORK/once-status.json"
check "/status/once/violations names it too" "$WORK/once.json" \
    bash -c 'curl -s -m 10 "$1/status/once/violations" | jq -e --arg f "$2" ".[0].evidence == \$f" >/dev/null' _ "$STATUS" "$ONCE"
check "the journal entry carries SSEMON_EVIDENCE (stderr JSON)" "$WORK/daemon.err" \
    bash -c 'grep "^{" "$1" | jq -s -e --arg p "$2" "map(select(.SSEMON_EVIDENCE == \$p)) | length == 1" >/dev/null' _ "$WORK/daemon.err" "$EV/$ONCE"
"$SSEMON" check --contract "$WORK/contracts/beat.json" "$EV/$ONCE" >"$WORK/replay.out" 2>&1
rc=$?
check "ssemon check replays the file and reproduces unknown_event (exit 1)" "$WORK/replay.out" \
    bash -c '[ "$1" = 1 ] && grep "^{\"class\"" "$2" | jq -e -s "map(.class) | index(\"unknown_event\") != null" >/dev/null' _ "$rc" "$WORK/replay.out"
for f in "$EV"/flap-*; do
    "$SSEMON" check --contract "$WORK/contracts/beat.json" "$f" >"$WORK/replay-flap.out" 2>&1
    check "flap's $(basename "$f") replays to unknown_event" "$WORK/replay-flap.out" \
        grep -q '"class":"unknown_event"' "$WORK/replay-flap.out"
done
GONE=$(grep "^gone-" "$WORK/ev.ls" | head -1)
"$SSEMON" check --contract "$WORK/contracts/beat.json" "$EV/$GONE" >"$WORK/replay-gone.out" 2>&1
check "gone's file replays to http_status (a 404 that never opened a stream)" "$WORK/replay-gone.out" \
    bash -c 'grep "^{\"class\"" "$1" | jq -e -s "map(.class) == [\"http_status\"]" >/dev/null && grep -q "\"status\":404" "$2"' _ "$WORK/replay-gone.out" "$EV/$GONE"
# A refused response's first 4 KiB of body, and a redirect's target.
BOOM=$(evidence_of boom | head -1)
"$SSEMON" check --contract "$WORK/contracts/beat.json" "$BOOM" >"$WORK/replay-boom.out" 2>&1
check "boom's file (a 500 with 10 KiB of body) replays to http_status" "$WORK/replay-boom.out" \
    bash -c 'grep "^{\"class\"" "$1" | jq -e -s "map(.class) == [\"http_status\"]" >/dev/null' _ "$WORK/replay-boom.out"
check "boom's file holds the body's first 4096 bytes, no more" "$BOOM" \
    bash -c 'tail -1 "$1" | jq -e ".rec == \"closed\" and .status == 500 and (.body | length) == 4096 and (.body | startswith(\"HEAD-MARK\")) and (.body | contains(\"TAIL\") | not)" >/dev/null' _ "$BOOM"
check "boom's file keeps the 500's headers, Set-Cookie redacted" "$BOOM" \
    bash -c 'tail -1 "$1" | jq -e "(.headers | map({(.[0]): .[1]}) | add) as \$h
               | \$h[\"Retry-After\"] == \"120\" and \$h[\"Set-Cookie\"] == \"***\"" >/dev/null &&
             ! grep -q BOOM-SECRET "$1"' _ "$BOOM"
MOVED=$(evidence_of moved | head -1)
"$SSEMON" check --contract "$WORK/contracts/beat.json" "$MOVED" >"$WORK/replay-moved.out" 2>&1
check "moved's file (a 302 loop) replays to http_status" "$WORK/replay-moved.out" \
    bash -c 'grep "^{\"class\"" "$1" | jq -e -s "map(.class) == [\"http_status\"]" >/dev/null' _ "$WORK/replay-moved.out"
check "moved's file holds the redirect target" "$MOVED" \
    bash -c 'tail -1 "$1" | jq -e --arg b "$2" ".rec == \"closed\" and .status == 302 and (.location | test(\"^\" + \$b + \"/moved[?]n=[0-9]+$\"))" >/dev/null' _ "$MOVED" "$BASE"
check "gone's file holds its small body" "$EV/$GONE" \
    bash -c 'tail -1 "$1" | jq -e ".body == \"<html>gone</html>\" and (has(\"location\") | not)" >/dev/null' _ "$EV/$GONE"
check "Set-Cookie is redacted in every file, X-Trace kept" "$WORK/ev.ls" \
    bash -c '! grep -rq SECRET-COOKIE "$1" && grep -q "\[\"Set-Cookie\",\"\*\*\*\"\]" "$1/$2" && grep -q "X-Trace" "$1/$2"' _ "$EV" "$ONCE"

# ---- GET /evidence/FILE ----
curl -s -m 10 -o "$WORK/got.rec" -w '%{http_code}' "$STATUS/evidence/$ONCE" >"$WORK/code"
check "GET /evidence/FILE serves the file" "$WORK/got.rec" \
    bash -c '[ "$(cat "$1")" = 200 ] && cmp -s "$2" "$3"' _ "$WORK/code" "$WORK/got.rec" "$EV/$ONCE"
echo secret >"$WORK/outside.txt"
for p in "..%2Foutside.txt" "%2e%2e%2Foutside.txt" "..%2F..%2Fetc%2Fpasswd" ".." "%2e%2e" \
    "$ONCE%2F" "flap-20260101T000000.000Z-unknown_event.rec" "x%00.rec"; do
    code=$(curl -s -m 10 --path-as-is -o "$WORK/trav.out" -w '%{http_code}' "$STATUS/evidence/$p")
    check "GET /evidence/$p is refused ($code)" "$WORK/trav.out" \
        bash -c '{ [ "$1" = 400 ] || [ "$1" = 404 ]; } && ! grep -q secret "$2"' _ "$code" "$WORK/trav.out"
done
code=$(curl -s -m 10 --path-as-is -o "$WORK/trav.out" -w '%{http_code}' "$STATUS/evidence/../outside.txt")
check "GET /evidence/../outside.txt (raw) is refused ($code)" "$WORK/trav.out" \
    bash -c '{ [ "$1" = 400 ] || [ "$1" = 404 ]; } && ! grep -q secret "$2"' _ "$code" "$WORK/trav.out"
# A known name replaced by a symbolic link is not followed.
rm "$EV/$ONCE" && ln -s "$WORK/outside.txt" "$EV/$ONCE"
code=$(curl -s -m 10 -o "$WORK/trav.out" -w '%{http_code}' "$STATUS/evidence/$ONCE")
check "a known name that became a symlink is not served ($code)" "$WORK/trav.out" \
    bash -c '[ "$1" = 404 ] && ! grep -q secret "$2"' _ "$code" "$WORK/trav.out"

# ---- the total size cap: a second daemon, 4 KiB in all ----
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
cat >"$WORK/small.json" <<EOF
{"status": {"listen": "127.0.0.1:$SP"},
 "contracts_dir": "$WORK/contracts",
 "evidence_dir": "$WORK/small",
 "evidence_max_bytes": 4096,
 "evidence_max_files": 100,
 "defaults": {"evidence_events": 3, "journal_rate": {"burst": 20, "interval_s": 3600}},
 "subscriptions": [{"name": "flap", "url": "$BASE/flap", "contract": "beat"}]}
EOF
"$SSEMON" run -c "$WORK/small.json" --log-target stderr 2>"$WORK/small.err" &
DAEMON_PID=$!
for _ in $(seq 1 200); do
    [ "$(metric ssemon_evidence_files_total)" = 20 ] && break
    sleep 0.05
done
check "small: 20 files written" "$WORK/small.err" equals "$(metric ssemon_evidence_files_total)" 20
# The writer may still be removing: wait until the counters settle.
for _ in $(seq 1 100); do
    kept=$(metric ssemon_evidence_kept_bytes)
    [ -n "$kept" ] && [ "$kept" -le 4096 ] && break
    sleep 0.05
done
size=$(cat "$WORK"/small/*.rec | wc -c)
check "small: the files kept stay within 4096 bytes, the oldest removed" "$WORK/small.err" \
    bash -c '[ "$1" -le 4096 ] && [ "$1" = "$2" ] && [ "$3" -gt 0 ] && [ "$(ls "$4" | wc -l)" = "$5" ]' _ \
    "$size" "$(metric ssemon_evidence_kept_bytes)" "$(metric ssemon_evidence_removed_total)" \
    "$WORK/small" "$(metric ssemon_evidence_kept_files)"
newest=$(grep -o '"SSEMON_EVIDENCE":"[^"]*"' "$WORK/small.err" | tail -1 | sed 's/.*:"//; s/"$//')
check "small: the newest file is among those kept" "$WORK/small.err" test -f "$newest"

# ---- a restart: the files of the earlier run count, the caps apply ----
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
SM=$WORK/small
(cd "$SM" && printf '%s\n' flap-*.rec) | sort >"$WORK/small-before.ls"
NEWEST_FLAP=$(tail -1 "$WORK/small-before.ls")
# Planted: four older files of another subscription (1500 bytes each: over
# the total cap with flap's), a stale temporary file a crash left, a file
# the daemon never names, and a symlink with an evidence file's name.
for d in 1 2 3 4; do
    head -c 1500 /dev/zero | tr '\0' x >"$SM/old-sub-2020010${d}T000000.000Z-unknown_event.rec"
done
echo partial >"$SM/.flap-20200101T000000.000Z-unknown_event.rec.tmp"
echo keep >"$SM/notes.txt"
ln -s "$WORK/outside.txt" "$SM/flap-20300101T000000.000Z-unknown_event.rec"
cat >"$WORK/contracts/lax.json" <<'EOF2'
{"name": "lax",
 "events": {"tick": {"heartbeat": true, "data": "text"}, "bogus": {"data": "text"}},
 "heartbeat": {"interval_s": 5, "tolerance": 2}}
EOF2
cat >"$WORK/restart.json" <<EOF2
{"status": {"listen": "127.0.0.1:$SP"},
 "contracts_dir": "$WORK/contracts",
 "evidence_dir": "$SM",
 "evidence_max_bytes": 4096,
 "evidence_max_files": 3,
 "subscriptions": [{"name": "calm", "url": "$BASE/once", "contract": "lax"}]}
EOF2
"$SSEMON" run -c "$WORK/restart.json" --log-target stderr 2>"$WORK/restart.err" &
DAEMON_PID=$!
for _ in $(seq 1 200); do
    [ ! -e "$SM/.flap-20200101T000000.000Z-unknown_event.rec.tmp" ] &&
        [ "$(metric ssemon_evidence_kept_files)" -gt 0 ] 2>/dev/null && break
    sleep 0.05
done
check "restart: the stale temporary file is removed" "$WORK/restart.err" \
    test ! -e "$SM/.flap-20200101T000000.000Z-unknown_event.rec.tmp"
find "$SM" -maxdepth 1 -type f -name '*.rec' -printf '%f %s\n' | sort >"$WORK/restart.ls"
check "restart: the kept files are counted, within 4096 bytes in all" "$WORK/restart.ls" \
    bash -c '[ "$(awk "{ s += \$2 } END { print s }" "$1")" = "$2" ] && [ "$2" -le 4096 ] &&
             [ "$(wc -l <"$1")" = "$3" ] && [ "$3" -gt 0 ]' _ "$WORK/restart.ls" \
    "$(metric ssemon_evidence_kept_bytes)" "$(metric ssemon_evidence_kept_files)"
check "restart: flap keeps its 3 newest (the per-subscription cap)" "$WORK/restart.ls" \
    equals "$(grep '^flap-' "$WORK/restart.ls" | cut -d' ' -f1 | tr '\n' ' ')" \
    "$(tail -3 "$WORK/small-before.ls" | tr '\n' ' ')"
check "restart: the oldest files went first (old-sub's 2020-01-01 and 02)" "$WORK/restart.ls" \
    bash -c '! grep -q "^old-sub-2020010[12]" "$1" && [ "$2" -gt 0 ]' _ "$WORK/restart.ls" \
    "$(metric ssemon_evidence_removed_total)"
curl -s -m 10 -o "$WORK/got-old.rec" -w '%{http_code}' "$STATUS/evidence/$NEWEST_FLAP" >"$WORK/code"
check "restart: a file of the earlier run is served" "$WORK/got-old.rec" \
    bash -c '[ "$(cat "$1")" = 200 ] && cmp -s "$2" "$3"' _ "$WORK/code" "$WORK/got-old.rec" "$SM/$NEWEST_FLAP"
code=$(curl -s -m 10 -o "$WORK/trav.out" -w '%{http_code}' "$STATUS/evidence/flap-20300101T000000.000Z-unknown_event.rec")
check "restart: a symlink with an evidence name is neither kept nor served ($code)" "$WORK/trav.out" \
    bash -c '[ "$1" = 404 ] && [ -L "$2" ] && [ -f "$3" ]' _ "$code" \
    "$SM/flap-20300101T000000.000Z-unknown_event.rec" "$SM/notes.txt"
check "restart: the scan is reported on stderr" "$WORK/restart.err" \
    grep -q "files of an earlier run kept in $SM" "$WORK/restart.err"

# ---- no evidence_dir: $STATE_DIRECTORY/evidence; a content_type file ----
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
mkdir "$WORK/state"
cat >"$WORK/state.json" <<EOF2
{"status": {"listen": "127.0.0.1:$SP"},
 "contracts_dir": "$WORK/contracts",
 "subscriptions": [{"name": "html", "url": "$BASE/html", "contract": "beat"}]}
EOF2
STATE_DIRECTORY=$WORK/state "$SSEMON" run -c "$WORK/state.json" --log-target stderr 2>"$WORK/state.err" &
DAEMON_PID=$!
for _ in $(seq 1 200); do
    [ "$(metric ssemon_evidence_files_total)" -ge 1 ] 2>/dev/null && break
    sleep 0.05
done
HTML=$(grep "^{" "$WORK/state.err" | jq -r 'select(.SSEMON_SUBSCRIPTION == "html" and .SSEMON_EVIDENCE != null) | .SSEMON_EVIDENCE' | head -1)
check "state: the file is under \$STATE_DIRECTORY/evidence, named for content_type" "$WORK/state.err" \
    bash -c '[[ "$1" =~ ^$2/html-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-content_type(-[0-9]+)?\.rec$ ]] && [ -f "$1" ]' _ \
    "$HTML" "$WORK/state/evidence"
"$SSEMON" check --contract "$WORK/contracts/beat.json" "$HTML" >"$WORK/replay-html.out" 2>&1
check "state: the content_type file replays to content_type, its body and headers kept" "$WORK/replay-html.out" \
    bash -c 'grep "^{\"class\"" "$1" | jq -e -s "map(.class) == [\"content_type\"]" >/dev/null &&
             tail -1 "$2" | jq -e ".rec == \"closed\" and .status == 200 and .content_type == \"text/html\"
               and .body == \"<html>not a stream</html>\" and ([.headers[][0]] | index(\"Content-Length\") != null)" >/dev/null' \
    _ "$WORK/replay-html.out" "$HTML"
curl -s -m 10 -o "$WORK/got-html.rec" "$STATUS/evidence/$(basename "$HTML")"
check "state: it is served" "$WORK/got-html.rec" cmp -s "$WORK/got-html.rec" "$HTML"

echo "$PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
