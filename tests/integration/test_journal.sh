#!/bin/bash
# Integration test of where the daemon's records go when journald or stderr
# misbehave: the real daemon (`ssemon run`) watching the scripted test
# server on 127.0.0.1, and a real systemd-journald of this test's own that
# is missing, stopped (SIGSTOP), continued, killed and started again while
# records flow. Checked: the status port keeps answering within 1 s and
# detection stays on time while journald is stopped; every record is
# accounted for (what journald holds, what stderr holds, what was counted
# as dropped); `--log-target auto` does not trust a socket file nobody
# listens on; a stderr nobody reads never makes the daemon wait; "stream
# lost" / "recovered" entries of a flapping server are flood-controlled
# with a summary.
#
# usage: test_journal.sh SSEMON SSE_TESTSERVER SOURCE_DIR
#
# journald runs in a private mount namespace (unshare --mount): there /run
# is a fresh tmpfs with this test's directories bound at journald's socket
# directory (/run/systemd/journal) and its volatile storage
# (/run/log/journal), and a drop-in in /run/systemd/journald.conf.d turns
# its own rate limit off. The daemon reaches it through
# SSEMON_JOURNAL_SOCKET (documented as for tests), journalctl reads it with
# -D. Its sockets and files are the test's own and go with the scratch
# directory: nothing is left on the machine for the next program to trust.
# (journald's own namespaces, `systemd-journald NAME`, were not used: such
# an instance writes under the machine's /run/systemd/journal.NAME and
# exits after 30 s without a stream client.) Needs root for that part; the
# others run as any user, and without root the test ends with 77 (skipped).
#
# Every wait is a bounded loop on the condition it needs; every process
# started here is stopped by its pid.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SOURCE_DIR" >&2
    exit 2
fi
SSEMON=$1
# shellcheck disable=SC2034 # read by lib.sh
SERVER=$2
SRC=$(cd "$3" && pwd)
HELPERS=$(cd "$(dirname "$0")" && pwd)/daemon
CONTRACTS=$SRC/etc/ssemon/contracts
JOURNALD=/lib/systemd/systemd-journald
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || {
        echo "$tool is required" >&2
        exit 2
    }
done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy NOTIFY_SOCKET \
    WATCHDOG_USEC WATCHDOG_PID SSEMON_JOURNAL_SOCKET

WORK=$(mktemp -d)
SCN=$WORK/scn
RUN=r$$x$RANDOM
PIDS=()
JOURNALD_PID=
cleanup() {
    local p
    for p in "${PIDS[@]}" $JOURNALD_PID; do
        kill -0 "$p" 2>/dev/null || continue
        kill -KILL "$p" # a stopped journald too
        wait "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

FAILS=0
PASSES=0
# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds,
# for at most SECONDS (however long COMMAND takes).
wait_for() {
    local end=$((SECONDS + $1))
    shift
    while :; do
        "$@" && return 0
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}
not_running() { ! kill -0 "$1" 2>/dev/null; }
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
id_of() {
    sed -n "s/^#define JOURNAL_ID_$1 \"\([0-9a-f]\{32\}\)\".*/\1/p" \
        "$SRC/include/ssemon/io/journal_ids.h"
}
ID_STARTED=$(id_of STARTED)
ID_LOST=$(id_of LOST)
ID_RECOVERED=$(id_of RECOVERED)
ID_LIFE_SUPP=$(id_of LIFECYCLE_SUPPRESSED)
ID_UNREACHABLE=$(id_of JOURNAL_UNREACHABLE)
ID_RESTORED=$(id_of JOURNAL_RESTORED)
ID_UNKNOWN=$(sed -n 's/.*{"unknown_event", "\([0-9a-f]\{32\}\)".*/\1/p' "$SRC/src/core/violation.c")

# ---- scenarios of this test (the server reads them from $SCN) ----
mkdir -p "$SCN"
cp "$SRC/tests/scenarios/version-stream.scn" "$SRC/tests/scenarios/daemon-flood.scn" "$SCN/"
# Steady records: an undeclared event (one unknown_event violation, one
# record) and a heartbeat every `every_ms`, forever.
cat >"$SCN/load.scn" <<'EOF'
header Content-Type: text/event-stream
header Cache-Control: no-cache
send event: connection_open\ndata: {"status": "connected", "correlation_id": "{query:request_id}"}\n\n
send event: version\ndata: {"version": "1", "environment": "t", "git_commit": "c", "correlation_id": "{query:request_id}"}\n\n
repeat 0
  send event: bogus\ndata: {"n": {i}, "correlation_id": "{query:request_id}"}\n\nevent: heartbeat\ndata: {"timestamp": "keepalive", "correlation_id": "{query:request_id}"}\n\n
  sleep {query:every_ms|5}
end
EOF
# A server that tells the client to come back at once, then ends the
# stream: a "stream lost" and a "recovered" per connection.
cat >"$SCN/flap.scn" <<'EOF'
header Content-Type: text/event-stream
header Cache-Control: no-cache
send retry: 0\n\n
send event: connection_open\ndata: {"status": "connected", "correlation_id": "{query:request_id}"}\n\n
close
EOF

# ---- reading what the daemon shows ----

SPORT=
status_get() { curl -sf -m 5 "http://127.0.0.1:$SPORT$1"; }
# jq_is PATH FILTER VALUE: FILTER over GET PATH prints VALUE.
jq_is() { [ "$(status_get "$1" | jq -r "$2" 2>/dev/null)" = "$3" ]; }
# num PATH FILTER: a number from GET PATH (empty when unreachable).
num() { status_get "$1" | jq -r "$2" 2>/dev/null; }
# metric SAMPLE: the value of one sample line of /metrics.
metric() { status_get /metrics | awk -v k="$1" '$1 == k {print $2}'; }
jstat() { num /status ".journal.$1"; }
journal_up() { jq_is /status .journal.up "$1"; }
queued_zero() { jq_is /status .journal.queued 0; }
healthz_ok() {
    [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SPORT/healthz")" = 200 ]
}
# daemon_up PID: polls /healthz for at most 10 s; gives up at once when the
# daemon died.
daemon_up() {
    local end=$((SECONDS + 10))
    while [ "$SECONDS" -lt "$end" ]; do
        kill -0 "$1" 2>/dev/null || return 1
        healthz_ok && return 0
        sleep 0.1
    done
    return 1
}
# stop_daemon PID: SIGTERM, at most 5 s, then SIGKILL; sets STOP_RC.
stop_daemon() {
    local i
    kill -TERM "$1"
    for ((i = 0; i < 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1"
    wait "$1"
    STOP_RC=$?
}
# err_count FILE JQ-CONDITION: complete JSON records on a stderr file that
# match (a line being written is not counted).
err_count() {
    grep -a '^{.*}$' "$1" | jq -R "fromjson? | select($2)" 2>/dev/null | jq -s length
}
# stderr_records FILE: complete JSON records (with a MESSAGE_ID) on FILE.
stderr_records() { err_count "$1" '.MESSAGE_ID != null'; }
# Conditions polled by wait_for (each call reads afresh):
# err_count_is FILE JQ-CONDITION N, metric_above SAMPLE N.
err_count_is() { [ "$(err_count "$1" "$2")" = "$3" ]; }
# stderr_matches FILE: records_total{sink="stderr"} is the number of records
# on FILE, and there are some.
stderr_matches() {
    local n
    n=$(stderr_records "$1")
    [ "$n" -gt 0 ] && [ "$(metric 'ssemon_journal_records_total{sink="stderr"}')" = "$n" ]
}
metric_above() {
    local v
    v=$(metric "$1")
    [ -n "$v" ] && [ "$v" -gt "$2" ]
}
# probe_port N: N rounds of /healthz and /metrics, 0.2 s apart; every answer
# must be a 200 within 1 s. Prints how many were not.
# The slowest answer goes to stderr as a comment.
probe_port() {
    local i path out bad=0 max=0
    for ((i = 0; i < $1; i++)); do
        for path in /healthz /metrics; do
            out=$(curl -s -o /dev/null -m 3 -w '%{http_code} %{time_total}' \
                "http://127.0.0.1:$SPORT$path")
            if [ "${out% *}" != 200 ] || awk -v s="${out#* }" 'BEGIN { exit !(s >= 1.0) }'; then
                bad=$((bad + 1))
                echo "# slow or failed: $path: $out" >&2
            fi
            max=$(awk -v a="$max" -v b="${out#* }" 'BEGIN { print (b > a ? b : a) }')
        done
        sleep 0.2
    done
    echo "# $((2 * $1)) requests, slowest ${max} s" >&2
    echo "$bad"
}
# write_config FILE DEFAULTS-JSON SUBSCRIPTION-JSON...: written aside and
# renamed, so a reload never reads half a file.
write_config() {
    local file=$1 defaults=$2 first=1 s
    shift 2
    {
        printf '{"status": {"listen": "127.0.0.1:%s"},\n' "$SPORT"
        printf ' "contracts_dir": "%s",\n "defaults": %s,\n "subscriptions": [\n' "$CONTRACTS" \
            "$defaults"
        for s in "$@"; do
            [ $first -eq 1 ] || printf ',\n'
            first=0
            printf '  %s' "$s"
        done
        printf '\n ]}\n'
    } >"$file.tmp"
    mv "$file.tmp" "$file"
}
# sub_json NAME BASE SCENARIO QUERY HEARTBEAT_S: a subscription judged by
# the version-stream contract; its request_id is its name.
sub_json() {
    printf '{"name": "%s", "url": "%s/s/%s?request_id=%s%s", "contract": "version-stream", ' \
        "$1" "$2" "$3" "$1" "$4"
    printf '"vars": {"request_id": "%s"}, "heartbeat_interval_s": %s}' "$1" "$5"
}
# Every violation is one record: the budget is far above what a test makes.
ALL='{"backoff_min_ms": 200, "backoff_max_ms": 400, "journal_rate": {"burst": 1000000, "interval_s": 3600}}'

start_server() { # NAME: sets SRV_PID, SRV_BASE
    itest_start_server "$WORK/$1.port" "$WORK/$1.srv.err"
    SRV_PID=$ITEST_PID
    SRV_BASE=$ITEST_BASE
    PIDS+=("$SRV_PID")
}

# ==== 1. --log-target auto and a socket file nobody listens on ====

python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])' "$WORK/stale.sock"
check "a stale journal socket file exists for the test" /dev/null test -S "$WORK/stale.sock"
start_server s1
S1=$SRV_BASE
SPORT=$(free_port)
write_config "$WORK/stale.json" "$ALL" "$(sub_json "st-$RUN" "$S1" version-stream '&hb_ms=200' 1)"
SSEMON_JOURNAL_SOCKET=$WORK/stale.sock "$SSEMON" run -c "$WORK/stale.json" \
    >/dev/null 2>"$WORK/stale.err" &
D=$!
PIDS+=("$D")
if daemon_up "$D"; then
    check "auto: a stale socket file means stderr (/status journal.target)" "$WORK/stale.err" \
        jq_is /status .journal.target stderr
    check "auto: journal up (stderr was chosen: nothing is unreachable)" "$WORK/stale.err" \
        journal_up true
    check "auto: the started record is on stderr" "$WORK/stale.err" \
        wait_for 5 err_count_is "$WORK/stale.err" ".MESSAGE_ID == \"$ID_STARTED\"" 1
    check "auto: records counted as stderr, as many as the JSON lines" "$WORK/stale.err" \
        wait_for 5 stderr_matches "$WORK/stale.err"
    check "auto: ssemon_journal_up 1" /dev/null equals "$(metric ssemon_journal_up)" 1
    stop_daemon "$D"
    check "auto: exit 0" /dev/null equals "$STOP_RC" 0
else
    fail "auto with a stale socket: daemon up" "$WORK/stale.err"
fi

# ==== 2. a stderr nobody reads never makes the daemon wait ====

# The daemon's stderr is a FIFO whose only reader never reads (until the
# end): 5000 violations make far more lines than a pipe holds. One
# subscription only: its "connected" record is written before the flood
# fills the pipe, so every record dropped is one of the 5000.
mkfifo "$WORK/err.fifo"
sleep 600 <>"$WORK/err.fifo" &
HOLDER=$!
PIDS+=("$HOLDER")
SPORT=$(free_port)
FULL=full-$RUN
write_config "$WORK/full.json" "$ALL" "$(sub_json "$FULL" "$S1" daemon-flood '&hb_ms=200&n=5000' 1)"
"$SSEMON" run -c "$WORK/full.json" --log-target stderr >/dev/null 2>"$WORK/err.fifo" &
D=$!
PIDS+=("$D")
if daemon_up "$D"; then
    check "stderr full: all 5000 violations counted" /dev/null \
        wait_for 30 jq_is "/status/$FULL" .violations.by_class.unknown_event 5000
    check "stderr full: records dropped and counted as stderr_full" /dev/null \
        test "$(metric 'ssemon_journal_records_dropped_total{reason="stderr_full"}')" -gt 0
    HB0=$(num "/status/$FULL" .heartbeats)
    BAD=$(probe_port 5)
    check "stderr full: /healthz and /metrics answer within 1 s ($BAD slow or failed)" /dev/null \
        equals "$BAD" 0
    check "stderr full: the stream's heartbeats keep being judged" /dev/null \
        test "$(num "/status/$FULL" .heartbeats)" -gt "$((HB0 + 2))"
    check "stderr full: no heartbeat_missed" /dev/null \
        jq_is "/status/$FULL" .violations.by_class.heartbeat_missed 0
    DROPPED=$(metric 'ssemon_journal_records_dropped_total{reason="stderr_full"}')
    # Someone reads now: what is queued flows out.
    cat "$WORK/err.fifo" >"$WORK/full.err" &
    READER=$!
    PIDS+=("$READER")
    check "stderr full: the queue drains once stderr is read" /dev/null wait_for 20 queued_zero
    stop_daemon "$D"
    check "stderr full: exit 0" /dev/null equals "$STOP_RC" 0
    kill -TERM "$HOLDER"
    wait "$HOLDER" 2>/dev/null
    wait_for 10 not_running "$READER" 2>/dev/null
    kill -TERM "$READER" 2>/dev/null
    wait "$READER" 2>/dev/null
    WRITTEN=$(err_count "$WORK/full.err" \
        ".MESSAGE_ID == \"$ID_UNKNOWN\" and .SSEMON_SUBSCRIPTION == \"$FULL\"")
    check "stderr full: written + dropped = 5000 violations ($WRITTEN + $DROPPED)" \
        "$WORK/full.err" equals "$((WRITTEN + DROPPED))" 5000
else
    fail "stderr full: daemon up"
fi

# ==== 3. lifecycle flood control against a flapping server ====

start_server flap
FLAP_SRV=$SRV_PID
FLAP=flap-$RUN
SPORT=$(free_port)
write_config "$WORK/flap.json" \
    '{"backoff_min_ms": 20, "backoff_max_ms": 40, "journal_rate": {"burst": 3, "interval_s": 3600}}' \
    "$(sub_json "$FLAP" "$SRV_BASE" flap '' 1)"
FLAP_T0=$(date +%s)
"$SSEMON" run -c "$WORK/flap.json" --log-target stderr >/dev/null 2>"$WORK/flap.err" &
D=$!
PIDS+=("$D")
ended_enough() { [ "$(num "/status/$FLAP" .violations.by_class.stream_ended)" -ge 30 ] 2>/dev/null; }
not_streaming() { ! jq_is "/status/$FLAP" .state streaming; }
if daemon_up "$D" && wait_for 30 ended_enough; then
    kill -TERM "$FLAP_SRV"
    wait "$FLAP_SRV" 2>/dev/null
    # Once no stream is open, no stream can be lost any more.
    check "flap: the server is gone, no stream open" /dev/null wait_for 10 not_streaming
    LOST=$(num "/status/$FLAP" .violations.by_class.stream_ended)
    stop_daemon "$D" # writes the summaries of the open windows
    FLAP_T1=$(date +%s)
    check "flap: exit 0" /dev/null equals "$STOP_RC" 0
    # Every JSON line carries "t": RFC 3339 UTC with milliseconds, the time
    # the record was made, so within this run by the test's own clock.
    BAD_T=$(grep -a '^{.*}$' "$WORK/flap.err" | jq -R "fromjson? | select(
        (.t | type) != \"string\" or
        (.t | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$\") | not) or
        (.t[0:19] + \"Z\" | fromdate) < $((FLAP_T0 - 1)) or
        (.t[0:19] + \"Z\" | fromdate) > $((FLAP_T1 + 1)))" | jq -s length)
    check "flap: every stderr line has a well formed \"t\" within the run" "$WORK/flap.err" \
        equals "$BAD_T" 0
    check "flap: stderr lines were read" "$WORK/flap.err" test \
        "$(grep -ac '^{"t":"' "$WORK/flap.err")" -ge 6
    sel=".SSEMON_SUBSCRIPTION == \"$FLAP\""
    check "flap: 3 'stream lost' entries (the burst), not $LOST" "$WORK/flap.err" equals \
        "$(err_count "$WORK/flap.err" "$sel and .MESSAGE_ID == \"$ID_LOST\"")" 3
    check "flap: 3 'recovered' entries (the burst)" "$WORK/flap.err" equals \
        "$(err_count "$WORK/flap.err" "$sel and .MESSAGE_ID == \"$ID_RECOVERED\"")" 3
    SUPP=$(grep -a '^{.*}$' "$WORK/flap.err" | jq -R "fromjson? | select($sel and
        .MESSAGE_ID == \"$ID_LIFE_SUPP\" and .SSEMON_LIFECYCLE == \"lost\") |
        .SSEMON_SUPPRESSED | tonumber" | jq -s "add // 0")
    check "flap: entries + summary = every stream lost ($LOST = 3 + $SUPP)" "$WORK/flap.err" \
        equals "$((3 + SUPP))" "$LOST"
    check "flap: a summary of suppressed 'recovered' entries" "$WORK/flap.err" test \
        "$(err_count "$WORK/flap.err" "$sel and .MESSAGE_ID == \"$ID_LIFE_SUPP\" and
            .SSEMON_LIFECYCLE == \"recovered\" and (.SSEMON_SUPPRESSED | tonumber) > 0")" = 1
    E=$(grep -a '^{.*}$' "$WORK/flap.err" | jq -Rc "fromjson? | select($sel and
        .MESSAGE_ID == \"$ID_LIFE_SUPP\" and .SSEMON_LIFECYCLE == \"lost\")" | head -n 1)
    check "flap: the summary says what was suppressed" /dev/null equals \
        "$(jq -r '.MESSAGE' <<<"$E")" \
        "$FLAP: stream lost: suppressed $SUPP further entries in the last 3600 s"
    check "flap: the summary's fields" /dev/null equals \
        "$(jq -r '[.PRIORITY, .SSEMON_CONTRACT, .SSEMON_URL] | join(" ")' <<<"$E")" \
        "5 version-stream $SRV_BASE/s/flap?request_id=$FLAP"
else
    fail "flap: the daemon watches a flapping server" "$WORK/flap.err"
fi

# ==== 4. journald missing, stopped, killed, started again ====

if [ "$(id -u)" -ne 0 ] || [ ! -x "$JOURNALD" ] || ! command -v unshare >/dev/null ||
    ! command -v journalctl >/dev/null; then
    echo "# $PASSES passed, $FAILS failed; journald parts skipped: they need root, unshare," \
        "journalctl and $JOURNALD"
    [ "$FAILS" -eq 0 ] || exit 1
    exit 77
fi

JRUN=$WORK/jrun
JLOG=$WORK/jlog
JSOCK=$JRUN/socket
mkdir -p "$JRUN" "$JLOG"
journald_alive() {
    python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).connect(sys.argv[1])' "$JSOCK" 2>/dev/null
}
# start_journald: journald in a private mount namespace (see the top); sets
# JOURNALD_PID (unshare and bash exec into it).
start_journald() {
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare --mount --propagation private /bin/bash -c '
        set -e
        mount -t tmpfs -o mode=0755 ssemon-test /run
        mkdir -p /run/systemd/journal /run/log/journal /run/systemd/journald.conf.d
        mount --bind "$1" /run/systemd/journal
        mount --bind "$2" /run/log/journal
        printf "[Journal]\nStorage=volatile\nRateLimitBurst=0\nReadKMsg=no\nForwardToSyslog=no\nForwardToKMsg=no\nForwardToConsole=no\nForwardToWall=no\n" \
            >/run/systemd/journald.conf.d/ssemon-test.conf
        exec "$3"' journald "$JRUN" "$JLOG" "$JOURNALD" >>"$WORK/journald.log" 2>&1 &
    JOURNALD_PID=$!
    if ! wait_for 10 journald_alive; then
        fail "journald starts" "$WORK/journald.log"
        exit 1
    fi
}
# jcount FIELD=VALUE...: entries of the test's journal that match.
jcount() { journalctl -D "$JLOG" -q -o json --no-pager "$@" 2>/dev/null | wc -l; }
jcount_is() {
    local want=$1
    shift
    [ "$(jcount "$@")" -eq "$want" ]
}
jcount_above() {
    local n=$1
    shift
    [ "$(jcount "$@")" -gt "$n" ]
}

start_server s2
S2=$SRV_BASE
LOAD_SRV=$SRV_PID
start_listener() {
    python3 "$HELPERS/notify_listen.py" "$WORK/notify.sock" "$WORK/notify" 280 \
        2>>"$WORK/notify.err" &
    PIDS+=("$!")
    wait_for 5 test -e "$WORK/notify"
}
start_listener
last_status() {
    jq -rs '[.[] | select(.msg | startswith("STATUS="))] | last | .msg // ""' "$WORK/notify"
}
status_unreachable() { last_status | grep -q '; journald unreachable, records on stderr$'; }
status_fine() { last_status | grep -qE '^STATUS=[0-9]+/[0-9]+ healthy, [0-9]+ violations? in 5 min$'; }

SPORT=$(free_port)
HB1=hb1-$RUN
HB2=hb2-$RUN
HB3=hb3-$RUN
LOAD=load-$RUN
HBS=("$(sub_json "$HB1" "$S1" version-stream '&hb_ms=200' 1)"
    "$(sub_json "$HB2" "$S1" version-stream '&hb_ms=200' 1)"
    "$(sub_json "$HB3" "$S1" version-stream '&hb_ms=200' 1)")
write_config "$WORK/j.json" "$ALL" "${HBS[@]}" "$(sub_json "$LOAD" "$S2" load '&every_ms=5' 5)"
# -- journald not there yet: the target is journal all the same --
NOTIFY_SOCKET=$WORK/notify.sock SSEMON_JOURNAL_SOCKET=$JSOCK \
    "$SSEMON" run -c "$WORK/j.json" --log-target journal >/dev/null 2>"$WORK/j.err" &
D=$!
PIDS+=("$D")
if ! daemon_up "$D"; then
    fail "journal daemon: up" "$WORK/j.err"
    exit 1
fi
check "no journald yet: /status journal.up false, target journal" "$WORK/j.err" \
    wait_for 5 jq_is /status '"\(.journal.target) \(.journal.up)"' "journal false"
check "no journald yet: /status says why" /dev/null \
    jq_is /status '.journal.error | test("^connect .*: No such file or directory$")' true
check "no journald yet: ssemon_journal_up 0" /dev/null equals "$(metric ssemon_journal_up)" 0
check "no journald yet: STATUS= says journald is unreachable" "$WORK/notify" \
    wait_for 5 status_unreachable
check "no journald yet: the unreachable record is on stderr" "$WORK/j.err" \
    wait_for 5 err_count_is "$WORK/j.err" ".MESSAGE_ID == \"$ID_UNREACHABLE\"" 1

# -- journald starts: the daemon finds it within its retry interval --
start_journald
check "journald started: journal.up true" "$WORK/j.err" wait_for 10 journal_up true
check "journald started: one 'reachable again' entry, counting the records on stderr" \
    "$WORK/journald.log" wait_for 10 jcount_is 1 _PID="$D" MESSAGE_ID="$ID_RESTORED"
E=$(journalctl -D "$JLOG" -q -o json --no-pager _PID="$D" MESSAGE_ID="$ID_RESTORED" | head -n 1)
check "journald started: SSEMON_RECORDS_STDERR = the records on stderr until then" /dev/null \
    test "$(jq -r .SSEMON_RECORDS_STDERR <<<"$E")" -ge 2 -a \
    "$(jq -r .SSEMON_RECORDS_DROPPED <<<"$E")" = 0
check "journald started: STATUS= back to normal" "$WORK/notify" wait_for 5 status_fine
check "journald started: the load's records reach the journal" "$WORK/journald.log" \
    wait_for 10 jcount_above 100 _PID="$D" SSEMON_SUBSCRIPTION="$LOAD"

# -- auto with a live journald picks it --
SPORT_MAIN=$SPORT
SPORT=$(free_port)
write_config "$WORK/auto.json" "$ALL" "$(sub_json "auto-$RUN" "$S1" version-stream '&hb_ms=200' 1)"
SSEMON_JOURNAL_SOCKET=$JSOCK "$SSEMON" run -c "$WORK/auto.json" >/dev/null 2>"$WORK/auto.err" &
DA=$!
PIDS+=("$DA")
if daemon_up "$DA"; then
    check "auto with a live journald: target journal" "$WORK/auto.err" \
        jq_is /status '"\(.journal.target) \(.journal.up)"' "journal true"
    check "auto with a live journald: its started entry is in the journal" /dev/null \
        wait_for 10 jcount_is 1 _PID="$DA" MESSAGE_ID="$ID_STARTED"
    stop_daemon "$DA"
else
    fail "auto with a live journald: daemon up" "$WORK/auto.err"
fi
SPORT=$SPORT_MAIN

# -- journald stopped under load --
hb_sum() {
    local s n t=0
    for s in "$HB1" "$HB2" "$HB3"; do
        n=$(num "/status/$s" .heartbeats) || return 1
        t=$((t + n))
    done
    echo "$t"
}
HBSUM0=$(hb_sum)
J0=$(metric 'ssemon_journal_records_total{sink="journal"}')
E0=$(metric 'ssemon_journal_records_total{sink="stderr"}')
kill -STOP "$JOURNALD_PID"
T0=$(date +%s%N)
BAD=$(probe_port 25)
check "journald stopped: /healthz and /metrics answer within 1 s, 50 times ($BAD not)" \
    "$WORK/j.err" equals "$BAD" 0
check "journald stopped: detected (journal.up false)" "$WORK/j.err" wait_for 10 journal_up false
check "journald stopped: /status says it took nothing" /dev/null \
    jq_is /status '.journal.error' "journald took no record for 1000 ms"
check "journald stopped: STATUS= says journald is unreachable" "$WORK/notify" \
    wait_for 5 status_unreachable
check "journald stopped: records go to stderr" "$WORK/j.err" \
    wait_for 10 metric_above 'ssemon_journal_records_total{sink="stderr"}' "$((E0 + 100))"
HBSUM1=$(hb_sum)
check "journald stopped: heartbeats keep being judged ($HBSUM0 then $HBSUM1)" /dev/null \
    test "$HBSUM1" -gt "$((HBSUM0 + 15))"
echo "# journald stopped for $((($(date +%s%N) - T0) / 1000000)) ms"
kill -CONT "$JOURNALD_PID"
check "journald continued: journal.up true" "$WORK/j.err" wait_for 10 journal_up true
check "journald continued: records reach it again" /dev/null \
    wait_for 10 metric_above 'ssemon_journal_records_total{sink="journal"}' "$((J0 + 100))"
for s in "$HB1" "$HB2" "$HB3"; do
    check "journald continued: $s healthy, no heartbeat_missed" /dev/null \
        jq_is "/status/$s" '"\(.healthy) \(.violations.by_class.heartbeat_missed)"' "true 0"
done
check "journald continued: one more 'reachable again' entry" /dev/null \
    wait_for 10 jcount_is 2 _PID="$D" MESSAGE_ID="$ID_RESTORED"

# -- the load stops: each of its violations is in the journal or on stderr --
kill -TERM "$LOAD_SRV"
wait "$LOAD_SRV" 2>/dev/null
load_closed() { ! jq_is "/status/$LOAD" .state streaming; }
check "load server gone" /dev/null wait_for 10 load_closed
V=$(num "/status/$LOAD" .violations.by_class.unknown_event)
load_accounted() {
    LJ=$(jcount _PID="$D" SSEMON_SUBSCRIPTION="$LOAD" MESSAGE_ID="$ID_UNKNOWN")
    LE=$(err_count "$WORK/j.err" ".SSEMON_SUBSCRIPTION == \"$LOAD\" and .MESSAGE_ID == \"$ID_UNKNOWN\"")
    [ "$((LJ + LE))" -eq "$V" ]
}
check "load: every violation in the journal or on stderr (V=$V)" /dev/null \
    wait_for 20 load_accounted
echo "# load: $V violations: $LJ in the journal, $LE on stderr"
check "load: some on each side" /dev/null test "$LJ" -gt 0 -a "$LE" -gt 0

# -- journald killed between two bursts, then started again --
B1=b1-$RUN
B2=b2-$RUN
B3=b3-$RUN
BURST=daemon-flood
reload_with() {
    write_config "$WORK/j.json" "$ALL" "${HBS[@]}" "$@"
    kill -HUP "$D"
}
burst_in() { # NAME: its 20 violations counted
    jq_is "/status/$1" .violations.by_class.unknown_event 20
}
reload_with "$(sub_json "$B1" "$S1" $BURST '&hb_ms=200&n=20' 1)"
check "burst 1: 20 violations" /dev/null wait_for 10 burst_in "$B1"
check "burst 1: all 20 in the journal" /dev/null \
    wait_for 10 jcount_is 20 _PID="$D" SSEMON_SUBSCRIPTION="$B1" MESSAGE_ID="$ID_UNKNOWN"
check "quiet: nothing queued" /dev/null wait_for 10 queued_zero
kill -KILL "$JOURNALD_PID"
wait "$JOURNALD_PID" 2>/dev/null
reload_with "$(sub_json "$B1" "$S1" $BURST '&hb_ms=200&n=20' 1)" \
    "$(sub_json "$B2" "$S1" $BURST '&hb_ms=200&n=20' 1)"
check "journald killed: burst 2: 20 violations" /dev/null wait_for 10 burst_in "$B2"
check "journald killed: detected (journal.up false)" "$WORK/j.err" wait_for 10 journal_up false
# Refused at the send, or at a reconnection since (one a second).
check "journald killed: /status says journald refused the daemon" /dev/null jq_is /status \
    '.journal.error | test("^(journald refused a record|connect .*): Connection refused$")' true
check "journald killed: burst 2's 20 records are on stderr" "$WORK/j.err" wait_for 10 \
    err_count_is "$WORK/j.err" ".SSEMON_SUBSCRIPTION == \"$B2\" and .MESSAGE_ID == \"$ID_UNKNOWN\"" 20
start_journald
check "journald started again: journal.up true" "$WORK/j.err" wait_for 10 journal_up true
check "journald started again: a third 'reachable again' entry" /dev/null \
    wait_for 10 jcount_is 3 _PID="$D" MESSAGE_ID="$ID_RESTORED"
reload_with "$(sub_json "$B1" "$S1" $BURST '&hb_ms=200&n=20' 1)" \
    "$(sub_json "$B2" "$S1" $BURST '&hb_ms=200&n=20' 1)" \
    "$(sub_json "$B3" "$S1" $BURST '&hb_ms=200&n=20' 1)"
check "burst 3: 20 violations" /dev/null wait_for 10 burst_in "$B3"
check "burst 3: all 20 in the journal" /dev/null \
    wait_for 10 jcount_is 20 _PID="$D" SSEMON_SUBSCRIPTION="$B3" MESSAGE_ID="$ID_UNKNOWN"
check "bursts 1 and 2: none of their records in the other place" /dev/null equals \
    "$(jcount _PID="$D" SSEMON_SUBSCRIPTION="$B2") $(err_count "$WORK/j.err" \
        ".SSEMON_SUBSCRIPTION == \"$B1\" and .MESSAGE_ID == \"$ID_UNKNOWN\"")" "0 0"

# -- the whole run: every record the daemon counted is where it says --
check "whole run: nothing queued" /dev/null wait_for 10 queued_zero
all_accounted() {
    MJ=$(metric 'ssemon_journal_records_total{sink="journal"}')
    ME=$(metric 'ssemon_journal_records_total{sink="stderr"}')
    AJ=$(jcount _PID="$D")
    AE=$(stderr_records "$WORK/j.err")
    [ "$MJ" = "$AJ" ] && [ "$ME" = "$AE" ]
}
check "whole run: records_total{journal} = entries in the journal, {stderr} = lines on stderr" \
    /dev/null wait_for 10 all_accounted
echo "# whole run: journal $MJ counted, $AJ in the journal; stderr $ME counted, $AE on stderr"
check "whole run: no record dropped" /dev/null equals \
    "$(status_get /metrics | awk '$1 ~ /^ssemon_journal_records_dropped_total\{/ {s += $2} END {print s}')" 0
stop_daemon "$D"
check "journal daemon: exit 0" "$WORK/j.err" equals "$STOP_RC" 0

echo "# $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
