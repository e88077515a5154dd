#!/bin/bash
# Integration tests of the daemon, `ssemon run`, as a service manager runs
# it: the real binary against the scripted test server on 127.0.0.1, a real
# systemd-journald (the machine's, or one started here when none runs), a
# real NOTIFY_SOCKET, signals, reloads while streaming, broken
# configurations, and clients abusing the status port while monitoring goes
# on.
#
# usage: test_daemon.sh SSEMON SSE_TESTSERVER SCENARIO_DIR SOURCE_DIR
#
# When no journald answers, the test runs again inside a private mount
# namespace (unshare --mount) where /run is a fresh tmpfs, and starts its
# own journald there: its sockets and journal files vanish with the test,
# and the machine is left as it was found (a socket file left behind with
# no journald would make the next `--log-target auto` trust a journal
# nobody reads). That needs root. Every wait is a
# bounded loop; every process started here is stopped by its pid. Names of
# subscriptions carry a run id so journal entries of earlier runs never
# count.
set -u

if [ $# -ne 4 ]; then
    echo "usage: $0 SSEMON SSE_TESTSERVER SCENARIO_DIR SOURCE_DIR" >&2
    exit 2
fi
SSEMON=$1
SERVER=$2
SCN=$(cd "$3" && pwd)
SRC=$(cd "$4" && pwd)
HELPERS=$(cd "$(dirname "$0")" && pwd)/daemon
CONTRACTS=$SRC/etc/ssemon/contracts
for tool in jq curl python3 journalctl ss; do
    command -v "$tool" >/dev/null || {
        echo "$tool is required" >&2
        exit 2
    }
done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy NOTIFY_SOCKET \
    WATCHDOG_USEC WATCHDOG_PID

# journald answers on its socket: a socket file alone may be left by one
# that is gone.
journald_alive() {
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(sys.argv[1])' /run/systemd/journal/socket 2>/dev/null
}
if ! journald_alive && [ -z "${SSEMON_TEST_PRIVATE_RUN:-}" ]; then
    if [ "$(id -u)" -ne 0 ] || [ ! -x /lib/systemd/systemd-journald ] ||
        ! command -v unshare >/dev/null; then
        echo "no journald runs and this test cannot start one (needs root, unshare and" \
            "/lib/systemd/systemd-journald)" >&2
        exit 1
    fi
    exec unshare --mount --propagation private env SSEMON_TEST_PRIVATE_RUN=1 bash "$0" "$@"
fi

WORK=$(mktemp -d)
RUN=r$$x$RANDOM
PIDS=()
JOURNALD_PID=
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null || continue
        kill -KILL "$p"
        wait "$p" 2>/dev/null
    done
    if [ -n "$JOURNALD_PID" ]; then
        kill -TERM "$JOURNALD_PID" 2>/dev/null
        wait "$JOURNALD_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

FAILS=0
PASSES=0
pass() {
    PASSES=$((PASSES + 1))
    echo "ok - $1"
}
# fail DESCRIPTION [FILE...]: the files are shown, indented, for diagnosis.
fail() {
    FAILS=$((FAILS + 1))
    echo "not ok - $1" >&2
    local f
    for f in "${@:2}"; do
        [ -f "$f" ] && tail -n 40 "$f" | sed 's/^/    | /' >&2
    done
}
# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() {
    local what=$1
    shift
    if "$@"; then
        pass "$what"
    else
        fail "$what"
    fi
}
# eq DESCRIPTION EXPECTED ACTUAL
eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1: expected '$2', got '$3'"
    fi
}
# not COMMAND...: succeeds when COMMAND fails.
not() {
    ! "$@"
}
# none_of REGEX FILE...: no line of the files matches (case-insensitively).
none_of() {
    ! grep -qiE "$1" "${@:2}"
}
# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds.
wait_for() {
    local tries=$(($1 * 10)) i
    shift
    for ((i = 0; i < tries; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- ids: the promises of src/core/violation.c and journal_ids.h ----

class_id() {
    sed -n "s/.*{\"$1\", \"\([0-9a-f]\{32\}\)\"}.*/\1/p" "$SRC/src/core/violation.c"
}
# The priority follows the severity alone (docs/violations.md, one scale).
severity_prio() {
    case $1 in
    error) echo 3 ;;
    warning) echo 4 ;;
    info) echo 6 ;;
    esac
}
journal_id() {
    sed -n "s/^#define JOURNAL_ID_$1 \"\([0-9a-f]\{32\}\)\".*/\1/p" \
        "$SRC/include/ssemon/io/journal_ids.h"
}
for c in unknown_event heartbeat_missed connect_failed stream_ended; do
    id=$(class_id "$c")
    prio=$(severity_prio error)
    if [ ${#id} -ne 32 ] || [ -z "$prio" ]; then
        fail "id of class $c found in src/core/violation.c"
        continue
    fi
    # The documented id and priority (of an error) are the ones the daemon uses.
    check "class $c: id and priority as documented in docs/violations.md" \
        grep -qF "\`MESSAGE_ID=$id\` · priority $prio · error" "$SRC/docs/violations.md"
    check "class $c: id in the journal catalog" grep -qx -- "-- $id" "$SRC/systemd/ssemon.catalog"
done
for j in STARTED STOPPING RELOADED RELOAD_REFUSED CONNECTED LOST RECOVERED SUPPRESSED; do
    id=$(journal_id "$j")
    if [ ${#id} -ne 32 ]; then
        fail "JOURNAL_ID_$j found in journal_ids.h"
        continue
    fi
    check "JOURNAL_ID_$j in the journal catalog" grep -qx -- "-- $id" "$SRC/systemd/ssemon.catalog"
done
ID_UNKNOWN=$(class_id unknown_event)
ID_HB=$(class_id heartbeat_missed)
ID_CONNFAIL=$(class_id connect_failed)
ID_STARTED=$(journal_id STARTED)
ID_STOPPING=$(journal_id STOPPING)
ID_RELOADED=$(journal_id RELOADED)
ID_REFUSED=$(journal_id RELOAD_REFUSED)
ID_CONNECTED=$(journal_id CONNECTED)
ID_LOST=$(journal_id LOST)
ID_RECOVERED=$(journal_id RECOVERED)
ID_SUPPRESSED=$(journal_id SUPPRESSED)

# ---- processes ----

# start_server NAME [PORT]: a test server logging requests to NAME.req;
# sets SRV_PID and SRV_PORT.
start_server() {
    local name=$1 listen=127.0.0.1:${2:-0}
    rm -f "$WORK/$name.port"
    "$SERVER" --listen "$listen" --port-file "$WORK/$name.port" --dir "$SCN" --quiet \
        --log "$WORK/$name.req" >/dev/null 2>>"$WORK/$name.srv.err" &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    if ! wait_for 5 test -s "$WORK/$name.port"; then
        echo "test server $name did not start" >&2
        cat "$WORK/$name.srv.err" >&2
        exit 1
    fi
    SRV_PORT=$(cat "$WORK/$name.port")
}

# start_listener NAME: an AF_UNIX datagram socket recording sd_notify
# messages in NAME.notify; sets NOTIFY_PATH.
start_listener() {
    NOTIFY_PATH=$WORK/$1.sock
    python3 "$HELPERS/notify_listen.py" "$NOTIFY_PATH" "$WORK/$1.notify" 170 \
        2>>"$WORK/$1.listen.err" &
    PIDS+=("$!")
    if ! wait_for 5 test -e "$WORK/$1.notify"; then
        echo "notify listener $1 did not start" >&2
        cat "$WORK/$1.listen.err" >&2
        exit 1
    fi
}

# stop_daemon PID SIGNAL: sends SIGNAL and waits for the exit, at most 5 s
# (then SIGKILL); sets STOP_RC to the exit status (137 when it was killed).
# The shell reaps its children as they exit, so kill -0 fails once it is gone.
stop_daemon() {
    local i
    kill -"$2" "$1"
    for ((i = 0; i < 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1"
    wait "$1"
    STOP_RC=$?
}

# ---- reading what the daemon shows ----

SPORT=
status_get() {
    curl -sf -m 5 "http://127.0.0.1:$SPORT$1"
}
# sub NAME JQ: a field of /status/NAME.
sub() {
    status_get "/status/$1" | jq -r "$2"
}
# sub_at_least NAME JQ N, sub_above NAME JQ N: a number of /status/NAME,
# fetched at each call (so wait_for polls it).
sub_at_least() {
    local v
    v=$(sub "$1" "$2") || return 1
    [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$3" ]
}
sub_above() {
    sub_at_least "$1" "$2" $(($3 + 1))
}
sub_is() {
    [ "$(sub "$1" "$2")" = "$3" ]
}
healthz_ok() {
    [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SPORT/healthz")" = 200 ]
}
# daemon_up PID: polls /healthz; gives up at once when the daemon died.
daemon_up() {
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$1" 2>/dev/null || return 1
        healthz_ok && return 0
        sleep 0.1
    done
    return 1
}
# req_count LOG NAME: requests the test server got for subscription NAME
# (its request_id is its name).
req_count() {
    jq -c --arg id "$2" 'select(.query | test("(^|&)request_id=" + $id + "(&|$)"))' "$1" \
        2>/dev/null | wc -l
}
req_count_is() {
    [ "$(req_count "$1" "$2")" -eq "$3" ]
}
# conns_are PID PORT N: process PID has N established connections to PORT.
conns_are() {
    [ "$(ss -Htnp state established "( dport = :$2 )" 2>/dev/null | grep -c "pid=$1,")" -eq "$3" ]
}
# jctl FIELD=VALUE...: matching journal entries as one JSON array.
jctl() {
    journalctl -q -o json --no-pager "$@" 2>/dev/null | jq -sc '.'
}
jcount() {
    jctl "$@" | jq 'length'
}
jhas() {
    [ "$(jcount "$@")" -ge 1 ]
}
# stderr_records FILE: the JSON lines of a daemon's stderr, as one array.
stderr_records() {
    grep '^{' "$1" | jq -sc '.'
}
stderr_has() {
    local file=$1
    shift
    [ "$(stderr_records "$file" | jq "$@" '[.[] | select(.MESSAGE_ID == $id)] | length')" -ge 1 ]
}
# notify_count FILE JQ-CONDITION-ON-.msg
notify_count() {
    jq -s "[.[] | select($2)] | length" "$1"
}
notify_has() {
    notify_at_least "$1" "$2" 1
}
notify_at_least() {
    [ "$(notify_count "$1" "$2")" -ge "$3" ]
}
# The fields a record is made of, as the daemon writes them (journald adds
# its own trusted "_" fields, the source location and the identifier).
RECORD_KEYS='[keys[] | select(test("^(MESSAGE|PRIORITY|MESSAGE_ID|SSEMON_[A-Z_]+)$"))] | sort'
# field NAME: a field of the journal entry or stderr record in $E.
field() {
    jq -r --arg f "$1" '.[$f] // "<absent>"' <<<"$E"
}

# ==== 1. journald ====

if ! journald_alive; then
    # Inside the private mount namespace (see the top): /run is this test's
    # own tmpfs. journald runs without systemd as PID 1 when its runtime
    # directory exists; storage is volatile under /run/log/journal.
    if [ -z "${SSEMON_TEST_PRIVATE_RUN:-}" ] ||
        ! mount -t tmpfs -o mode=0755 ssemon-test /run; then
        echo "cannot make a private /run for journald" >&2
        exit 1
    fi
    mkdir -p /run/systemd/journal /run/log/journal
    SYSTEMD_LOG_TARGET=console /lib/systemd/systemd-journald >"$WORK/journald.log" 2>&1 &
    JOURNALD_PID=$!
    if ! wait_for 10 journald_alive; then
        echo "systemd-journald did not start" >&2
        cat "$WORK/journald.log" >&2
        exit 1
    fi
    echo "# started systemd-journald (pid $JOURNALD_PID)"
fi

start_server s1
S1_PID=$SRV_PID
P1=$SRV_PORT
start_server s2
S2_PID=$SRV_PID
P2=$SRV_PORT
SPORT=$(free_port)
printf 'Bearer hdrsecret-%s\n' "$RUN" >"$WORK/apikey"

HB=jhb-$RUN
FLOOD=jflood-$RUN
LIFE=jlife-$RUN
HB_URL_SHOWN="http://***@127.0.0.1:$P1/s/gateway-version-stream?request_id=$HB&hb_ms=300"
FLOOD_URL="http://127.0.0.1:$P1/s/daemon-flood?request_id=$FLOOD&hb_ms=300&n=20"
cat >"$WORK/a.json" <<EOF
{
  "status": {"listen": "127.0.0.1:$SPORT"},
  "contracts_dir": "$CONTRACTS",
  "defaults": {
    "backoff_min_ms": 200,
    "backoff_max_ms": 400,
    "journal_rate": {"burst": 2, "interval_s": 2}
  },
  "subscriptions": [
    {
      "name": "$HB",
      "url": "http://user:secret@127.0.0.1:$P1/s/gateway-version-stream?request_id=$HB&hb_ms=300",
      "contract": "version-stream",
      "vars": {"request_id": "$HB"},
      "headers": {"X-Api-Key": {"file": "$WORK/apikey"}},
      "heartbeat_interval_s": 0.5
    },
    {
      "name": "$FLOOD",
      "url": "$FLOOD_URL",
      "contract": "version-stream",
      "vars": {"request_id": "$FLOOD"},
      "heartbeat_interval_s": 1
    },
    {
      "name": "$LIFE",
      "url": "http://127.0.0.1:$P2/s/version-stream?request_id=$LIFE&hb_ms=300",
      "contract": "version-stream",
      "vars": {"request_id": "$LIFE"},
      "heartbeat_interval_s": 1
    }
  ]
}
EOF
"$SSEMON" run -c "$WORK/a.json" --log-target journal >"$WORK/a.out" 2>"$WORK/a.err" &
DA=$!
PIDS+=("$DA")
if ! daemon_up "$DA"; then
    fail "journal daemon: status endpoint up" "$WORK/a.err"
    exit 1
fi

# -- violations: every field --
if wait_for 10 sub_is "$FLOOD" '.violations.by_class.unknown_event' 20; then
    pass "flood: /status counts all 20 unknown_event violations"
else
    fail "flood: /status counts all 20 unknown_event violations (got $(sub "$FLOOD" \
        '.violations.by_class.unknown_event'))"
fi
# The window is 2 s from the first violation; the summary follows within
# the daemon's 1 s period.
wait_for 10 jhas SSEMON_SUBSCRIPTION="$FLOOD" MESSAGE_ID="$ID_SUPPRESSED"
V=$(jctl SSEMON_SUBSCRIPTION="$FLOOD" MESSAGE_ID="$ID_UNKNOWN")
eq "flood: burst 2 entries reach the journal" 2 "$(jq length <<<"$V")"
E=$(jq -c '.[0] // {}' <<<"$V")
eq "violation entry MESSAGE" \
    "$FLOOD: unknown_event: event bogus is not declared by the contract" "$(field MESSAGE)"
eq "violation entry SSEMON_SEVERITY is error (strict)" error "$(field SSEMON_SEVERITY)"
eq "violation entry PRIORITY is 3 (severity error)" 3 "$(field PRIORITY)"
eq "violation entry MESSAGE_ID" "$ID_UNKNOWN" "$(field MESSAGE_ID)"
eq "violation entry SSEMON_SUBSCRIPTION" "$FLOOD" "$(field SSEMON_SUBSCRIPTION)"
eq "violation entry SSEMON_CLASS" unknown_event "$(field SSEMON_CLASS)"
eq "violation entry SSEMON_SEVERITY" error "$(field SSEMON_SEVERITY)"
eq "violation entry SSEMON_CONTRACT" version-stream "$(field SSEMON_CONTRACT)"
eq "violation entry SSEMON_URL" "$FLOOD_URL" "$(field SSEMON_URL)"
eq "violation entry SSEMON_EVENT" bogus "$(field SSEMON_EVENT)"
eq "violation entry SSEMON_STATE" live "$(field SSEMON_STATE)"
eq "violation entry SSEMON_EXCERPT" "{\"n\": 1, \"correlation_id\": \"$FLOOD\"}" \
    "$(field SSEMON_EXCERPT)"
eq "violation entries in order (second excerpt)" "{\"n\": 2, \"correlation_id\": \"$FLOOD\"}" \
    "$(jq -r '.[1].SSEMON_EXCERPT // ""' <<<"$V")"

S=$(jctl SSEMON_SUBSCRIPTION="$FLOOD" MESSAGE_ID="$ID_SUPPRESSED")
eq "flood: one suppressed summary" 1 "$(jq length <<<"$S")"
eq "flood: summary counts the 18 others" 18 "$(jq -r '.[0].SSEMON_SUPPRESSED // ""' <<<"$S")"
eq "flood: summary names the class" unknown_event "$(jq -r '.[0].SSEMON_CLASS // ""' <<<"$S")"
check "flood: summary MESSAGE says 'suppressed 18'" \
    grep -q "suppressed 18" <<<"$(jq -r '.[0].MESSAGE // ""' <<<"$S")"
eq "flood: /status still counts all 20 after the window" 20 \
    "$(sub "$FLOOD" '.violations.by_class.unknown_event')"
check "flood: /metrics counts all 20" grep -qx \
    "ssemon_violations_total{subscription=\"$FLOOD\",class=\"unknown_event\"} 20" \
    <<<"$(status_get /metrics)"

if wait_for 10 jhas SSEMON_SUBSCRIPTION="$HB" SSEMON_CLASS=heartbeat_missed; then
    E=$(jctl SSEMON_SUBSCRIPTION="$HB" SSEMON_CLASS=heartbeat_missed | jq -c '.[0]')
    check "heartbeat_missed entry MESSAGE is one readable line" \
        grep -qx "$HB: heartbeat_missed: no heartbeat for [0-9]* ms (limit 1000 ms: .*)" \
        <<<"$(field MESSAGE)"
    eq "heartbeat_missed entry PRIORITY is 3 (liveness)" 3 "$(field PRIORITY)"
    eq "heartbeat_missed entry MESSAGE_ID" "$ID_HB" "$(field MESSAGE_ID)"
    eq "heartbeat_missed entry SSEMON_SEVERITY" error "$(field SSEMON_SEVERITY)"
    eq "heartbeat_missed entry SSEMON_CONTRACT" version-stream "$(field SSEMON_CONTRACT)"
    eq "heartbeat_missed entry SSEMON_URL is redacted" "$HB_URL_SHOWN" "$(field SSEMON_URL)"
    eq "heartbeat_missed entry SSEMON_STATE" live "$(field SSEMON_STATE)"
    eq "heartbeat_missed entry has no SSEMON_EVENT (no event involved)" "<absent>" \
        "$(field SSEMON_EVENT)"
    HB_KEYS=$(jq -c "$RECORD_KEYS" <<<"$E")
else
    fail "heartbeat_missed entry in the journal"
fi
if wait_for 5 jhas SSEMON_SUBSCRIPTION="$HB" MESSAGE_ID="$ID_CONNECTED"; then
    E=$(jctl SSEMON_SUBSCRIPTION="$HB" MESSAGE_ID="$ID_CONNECTED" | jq -c '.[0]')
    eq "connected entry MESSAGE" "$HB: connected to $HB_URL_SHOWN" "$(field MESSAGE)"
    eq "connected entry SSEMON_URL is redacted" "$HB_URL_SHOWN" "$(field SSEMON_URL)"
    eq "connected entry SSEMON_CONTRACT" version-stream "$(field SSEMON_CONTRACT)"
else
    fail "connected entry in the journal"
fi

# -- secrets: used on the wire, shown nowhere --
check "the server got the URL's user-info as Basic auth (the secret is in use)" \
    grep -q '"Authorization": "Basic dXNlcjpzZWNyZXQ="' "$WORK/s1.req"
check "the server got the header read from a file (the secret is in use)" \
    grep -q "\"X-Api-Key\": \"Bearer hdrsecret-$RUN\"" "$WORK/s1.req"
journalctl -q -o json --no-pager _PID="$DA" >"$WORK/a.journal" 2>/dev/null
check "the journal holds the daemon's entries" test -s "$WORK/a.journal"
check "no secret in the journal" \
    none_of "secret|dXNlcjpzZWNyZXQ" "$WORK/a.journal"
status_get /status >"$WORK/a.status"
status_get /metrics >"$WORK/a.metrics"
check "/status shows the redacted URL" \
    test "$(jq -r --arg n "$HB" '.subscriptions[] | select(.name == $n) | .url' \
        "$WORK/a.status")" = "$HB_URL_SHOWN"
check "no secret in /status or /metrics" \
    none_of "secret|dXNlcjpzZWNyZXQ" "$WORK/a.status" "$WORK/a.metrics"

# -- lifecycle: connected, lost, recovered after N failures --
if wait_for 10 jhas SSEMON_SUBSCRIPTION="$LIFE" MESSAGE_ID="$ID_CONNECTED"; then
    pass "lifecycle: connected entry"
    E=$(jctl SSEMON_SUBSCRIPTION="$LIFE" MESSAGE_ID="$ID_CONNECTED" | jq -c '.[0]')
    eq "lifecycle: connected entry PRIORITY" 6 "$(field PRIORITY)"
else
    fail "lifecycle: connected entry"
fi
kill -TERM "$S2_PID"
wait "$S2_PID"
if wait_for 10 jhas SSEMON_SUBSCRIPTION="$LIFE" MESSAGE_ID="$ID_LOST"; then
    E=$(jctl SSEMON_SUBSCRIPTION="$LIFE" MESSAGE_ID="$ID_LOST" | jq -c '.[0]')
    pass "lifecycle: lost entry when the server dies"
    eq "lifecycle: lost entry PRIORITY is 3" 3 "$(field PRIORITY)"
    check "lifecycle: lost entry MESSAGE" grep -q "^$LIFE: stream lost" <<<"$(field MESSAGE)"
    eq "lifecycle: lost entry SSEMON_URL" \
        "http://127.0.0.1:$P2/s/version-stream?request_id=$LIFE&hb_ms=300" "$(field SSEMON_URL)"
else
    fail "lifecycle: lost entry when the server dies" "$WORK/a.err"
fi
if wait_for 10 sub_at_least "$LIFE" '.violations.by_class.connect_failed' 2; then
    pass "lifecycle: connect_failed while the server is down"
else
    fail "lifecycle: connect_failed while the server is down"
fi
if wait_for 5 jhas SSEMON_SUBSCRIPTION="$LIFE" MESSAGE_ID="$ID_CONNFAIL"; then
    E=$(jctl SSEMON_SUBSCRIPTION="$LIFE" MESSAGE_ID="$ID_CONNFAIL" | jq -c '.[0]')
    eq "connect_failed entry PRIORITY is 3" 3 "$(field PRIORITY)"
    eq "connect_failed entry SSEMON_CLASS" connect_failed "$(field SSEMON_CLASS)"
else
    fail "connect_failed entry in the journal"
fi
start_server s2 "$P2"
if wait_for 10 jhas SSEMON_SUBSCRIPTION="$LIFE" MESSAGE_ID="$ID_RECOVERED"; then
    E=$(jctl SSEMON_SUBSCRIPTION="$LIFE" MESSAGE_ID="$ID_RECOVERED" | jq -c '.[0]')
    N=$(field SSEMON_FAILURES)
    # The lost stream and every refused attempt are the failures.
    FAILED=$(sub "$LIFE" '.violations.by_class.stream_ended + .violations.by_class.connect_failed')
    eq "lifecycle: recovered after N failures, N = stream_ended + connect_failed" "$FAILED" "$N"
    eq "lifecycle: recovered entry MESSAGE" "$LIFE: recovered after $N failed attempts" \
        "$(field MESSAGE)"
    eq "lifecycle: one connected entry only" 1 \
        "$(jcount SSEMON_SUBSCRIPTION="$LIFE" MESSAGE_ID="$ID_CONNECTED")"
    check "lifecycle: streaming again" wait_for 5 sub_is "$LIFE" .state streaming
else
    fail "lifecycle: recovered entry after the server came back" "$WORK/a.err"
fi

stop_daemon "$DA" TERM
eq "journal daemon: exit 0 within 5 s of SIGTERM" 0 "$STOP_RC"
eq "journal daemon: one started entry" 1 "$(jcount _PID="$DA" MESSAGE_ID="$ID_STARTED")"
eq "journal daemon: one stopping entry" 1 "$(jcount _PID="$DA" MESSAGE_ID="$ID_STOPPING")"
eq "journal daemon: nothing on stdout" "" "$(cat "$WORK/a.out")"
check "journal daemon: no JSON records on stderr with --log-target journal" \
    none_of "^\{" "$WORK/a.err"

# ==== 2-3, 5. NOTIFY_SOCKET, stderr records, reload while streaming, abuse ====

start_listener b
SPORT=$(free_port)
KEEP=keep-$RUN
CHANGE=change-$RUN
REMOVE=remove-$RUN
ADD=add-$RUN
REMOVE_URL_SHOWN="http://***@127.0.0.1:$P1/s/gateway-version-stream?request_id=$REMOVE&hb_ms=300"
# sub_json NAME SCENARIO CONTRACT HEARTBEAT_S [QUERY-EXTRA] [USERINFO]: a
# subscription whose request_id is its name (bound as a contract variable
# where the contract has it).
sub_json() {
    local vars=
    [ "$3" = version-stream ] && vars=$(printf '"vars": {"request_id": "%s"}, ' "$1")
    printf '{"name": "%s", "url": "http://%s127.0.0.1:%s/s/%s?request_id=%s&hb_ms=300%s", ' \
        "$1" "${6:-}" "$P1" "$2" "$1" "${5:-}"
    printf '"contract": "%s", %s"heartbeat_interval_s": %s}' "$3" "$vars" "$4"
}
# write_config FILE SUBSCRIPTION-JSON...: written aside and renamed, so a
# reload never reads half a file.
write_config() {
    local file=$1 first=1 s
    shift
    {
        printf '{\n  "status": {"listen": "127.0.0.1:%s"},\n' "$SPORT"
        printf '  "contracts_dir": "%s",\n' "$CONTRACTS"
        printf '  "defaults": {%s"backoff_min_ms": 200, "backoff_max_ms": 400},\n' \
            "${WC_DEFAULTS:-}"
        printf '  "subscriptions": [\n'
        for s in "$@"; do
            [ $first -eq 1 ] || printf ',\n'
            first=0
            printf '    %s' "$s"
        done
        printf '\n  ]\n}\n'
    } >"$file.tmp"
    mv "$file.tmp" "$file"
}
KEEP_JSON=$(sub_json "$KEEP" version-stream version-stream 1)
write_config "$WORK/b.json" "$KEEP_JSON" \
    "$(sub_json "$CHANGE" version-stream version-stream 1)" \
    "$(sub_json "$REMOVE" gateway-version-stream version-stream 0.5 "" "user:secret@")"
# WATCHDOG_PID must name the daemon's own pid: the shell execs into it.
NOTIFY_SOCKET=$NOTIFY_PATH WATCHDOG_USEC=1000000 \
    sh -c 'export WATCHDOG_PID=$$; exec "$0" run -c "$1" --log-target stderr' \
    "$SSEMON" "$WORK/b.json" >"$WORK/b.out" 2>"$WORK/b.err" &
DB=$!
PIDS+=("$DB")
NB=$WORK/b.notify

# READY=1 only once the status endpoint listens: one request right after it.
if wait_for 10 notify_has "$NB" '.msg == "READY=1"'; then
    pass "notify: READY=1"
    eq "notify: /healthz answers right after READY=1" 200 \
        "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SPORT/healthz")"
else
    fail "notify: READY=1" "$WORK/b.err"
    exit 1
fi
check "notify: WATCHDOG=1 pings (WATCHDOG_USEC 1 s)" \
    wait_for 5 notify_at_least "$NB" '.msg == "WATCHDOG=1"' 3
check "reload: keep streaming" wait_for 10 sub_at_least "$KEEP" .events 3
check "reload: change streaming" wait_for 10 sub_at_least "$CHANGE" .events 3
# STATUS= kept current: two healthy of three (one misses heartbeats).
check "notify: STATUS= says 2/3 healthy and counts violations" wait_for 10 notify_has "$NB" \
    '.msg | test("^STATUS=2/3 healthy, [1-9][0-9]* violations? in 5 min$")'
eq "notify: every STATUS= has the form 'N/M healthy, K violations in 5 min'" 0 \
    "$(notify_count "$NB" '(.msg | startswith("STATUS=")) and
        (.msg | test("^STATUS=[0-9]+/[0-9]+ healthy, [0-9]+ violations? in 5 min$") | not)')"

# -- the same records as JSON lines on stderr --
if wait_for 10 stderr_has "$WORK/b.err" --arg id "$ID_HB"; then
    E=$(stderr_records "$WORK/b.err" | jq -c --arg id "$ID_HB" \
        '[.[] | select(.MESSAGE_ID == $id)][0]')
    check "stderr record: MESSAGE" grep -qx "$REMOVE: heartbeat_missed: no heartbeat for .*" \
        <<<"$(field MESSAGE)"
    eq "stderr record: PRIORITY is the number 3" number:3 \
        "$(jq -r '"\(.PRIORITY | type):\(.PRIORITY)"' <<<"$E")"
    eq "stderr record: SSEMON_SUBSCRIPTION" "$REMOVE" "$(field SSEMON_SUBSCRIPTION)"
    eq "stderr record: SSEMON_CLASS" heartbeat_missed "$(field SSEMON_CLASS)"
    eq "stderr record: SSEMON_SEVERITY" error "$(field SSEMON_SEVERITY)"
    eq "stderr record: SSEMON_CONTRACT" version-stream "$(field SSEMON_CONTRACT)"
    eq "stderr record: SSEMON_URL is redacted" "$REMOVE_URL_SHOWN" "$(field SSEMON_URL)"
    eq "stderr record: SSEMON_STATE" live "$(field SSEMON_STATE)"
    eq "stderr record: the same fields as the journal entry of that class" "${HB_KEYS:-none}" \
        "$(jq -c "$RECORD_KEYS" <<<"$E")"
else
    fail "stderr record of heartbeat_missed" "$WORK/b.err"
fi
check "stderr records: connected, with its id" stderr_has "$WORK/b.err" --arg id "$ID_CONNECTED"
check "stderr records: started, with its id" stderr_has "$WORK/b.err" --arg id "$ID_STARTED"
check "no secret on stderr" none_of secret "$WORK/b.err"

# -- 5. abuse of the status port while monitoring --
E0=$(sub "$KEEP" .events)
python3 "$HELPERS/abuse.py" "$SPORT" hold 4 >"$WORK/hold.out" 2>&1 &
HOLD=$!
PIDS+=("$HOLD")
R=$(python3 "$HELPERS/abuse.py" "$SPORT" garbage 2>&1)
check "abuse: garbage bytes are refused ($R)" test "$R" = 400 -o "$R" = closed
R=$(python3 "$HELPERS/abuse.py" "$SPORT" oversized 200000 2>&1)
check "abuse: an oversized request is refused ($R)" test "$R" != 200 -a -n "$R"
R=$(python3 "$HELPERS/abuse.py" "$SPORT" parallel 100 2>&1)
eq "abuse: 100 parallel connections all answered" 100 "$R"
check "abuse: /healthz answers while a client never finishes its request" healthz_ok
check "abuse: the monitored stream's events keep rising" wait_for 5 sub_above "$KEEP" .events "$E0"
wait "$HOLD"
eq "abuse: monitored stream undisturbed (no violation, no reconnect)" "0 0 streaming" \
    "$(sub "$KEEP" '"\(.violations.total) \(.reconnects) \(.state)"')"

# -- 3. reload while streaming: keep one, change one, remove one, add one --
E1=$(sub "$KEEP" .events)
eq "reload: one request for keep before the reload" 1 "$(req_count "$WORK/s1.req" "$KEEP")"
check "reload: three streams open before the reload" conns_are "$DB" "$P1" 3
write_config "$WORK/b.json" "$KEEP_JSON" \
    "$(sub_json "$CHANGE" version-stream version-stream 1 "&v=2")" \
    "$(sub_json "$ADD" envelope-stream gateway-envelope 1)"
kill -HUP "$DB"
if wait_for 10 stderr_has "$WORK/b.err" --arg id "$ID_RELOADED"; then
    eq "reload: reloaded record" \
        "configuration reloaded: 1 subscription kept, 2 started, 2 stopped" \
        "$(stderr_records "$WORK/b.err" | jq -r --arg id "$ID_RELOADED" \
            '[.[] | select(.MESSAGE_ID == $id)][0].MESSAGE')"
else
    fail "reload: reloaded record" "$WORK/b.err"
fi
eq "reload: subscriptions after the reload" "$KEEP $CHANGE $ADD" \
    "$(status_get /status | jq -r '[.subscriptions[].name] | join(" ")')"
eq "reload: the removed one is gone (/status/NAME 404)" 404 \
    "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SPORT/status/$REMOVE")"
check "reload: changed one reconnected with its new URL" \
    wait_for 10 req_count_is "$WORK/s1.req" "$CHANGE" 2
check "reload: changed one's new request carries the new query" \
    test "$(jq -r --arg id "$CHANGE" 'select(.query | test("request_id=" + $id + "&")) | .query' \
        "$WORK/s1.req" | tail -n 1)" = "request_id=$CHANGE&hb_ms=300&v=2"
check "reload: changed one streaming again" wait_for 10 sub_at_least "$CHANGE" .events 3
check "reload: added one streaming" wait_for 10 sub_at_least "$ADD" .events 2
check "reload: the changed one's old and the removed one's streams are closed" \
    wait_for 5 conns_are "$DB" "$P1" 3
eq "reload: added one judged without violations" 0 "$(sub "$ADD" .violations.total)"
check "reload: kept one's counters kept (events $E1 before)" sub_at_least "$KEEP" .events "$E1"
E2=$(sub "$KEEP" .events)
check "reload: kept one's events keep rising after the reload" \
    wait_for 5 sub_above "$KEEP" .events "$E2"
eq "reload: kept one kept its connection (no new request)" 1 \
    "$(req_count "$WORK/s1.req" "$KEEP")"
eq "reload: kept one: reconnects 0, no violation" "0 0" \
    "$(sub "$KEEP" '"\(.reconnects) \(.violations.total)"')"

# -- a broken configuration is refused; the running one stays --
status_get /status | jq -c '[.subscriptions[] | {name, url, contract}]' >"$WORK/before.json"
cp "$WORK/b.json" "$WORK/b.good.json"
cat >"$WORK/b.json.tmp" <<EOF
{
  "status": {"listen": "127.0.0.1:$SPORT"},
  "contracts_dir": "$CONTRACTS",
  "no_such_key": 1,
  "subscriptions": [
    {"name": "$KEEP", "url": "http://127.0.0.1:$P1/s/version-stream", "contract": "no-such-contract"}
  ]
}
EOF
mv "$WORK/b.json.tmp" "$WORK/b.json"
E3=$(sub "$KEEP" .events)
kill -HUP "$DB"
if wait_for 10 stderr_has "$WORK/b.err" --arg id "$ID_REFUSED"; then
    E=$(stderr_records "$WORK/b.err" | jq -c --arg id "$ID_REFUSED" \
        '[.[] | select(.MESSAGE_ID == $id)][0]')
    pass "broken reload: refused record"
    eq "broken reload: refused record PRIORITY" 3 "$(field PRIORITY)"
    check "broken reload: refused record says why" \
        grep -q "configuration reload refused (2 errors), keeping the running one: " \
        <<<"$(field MESSAGE)"
else
    fail "broken reload: refused record" "$WORK/b.err"
fi
check "broken reload: every error on stderr, located" \
    grep -qE "^$WORK/b.json:[0-9]+:[0-9]+: /no_such_key: " "$WORK/b.err"
check "broken reload: the unknown contract on stderr, located" \
    grep -qE "^$WORK/b.json:[0-9]+:[0-9]+: /subscriptions/0/contract: " "$WORK/b.err"
status_get /status | jq -c '[.subscriptions[] | {name, url, contract}]' >"$WORK/after.json"
check "broken reload: /status unchanged" cmp -s "$WORK/before.json" "$WORK/after.json"
check "broken reload: monitoring goes on" wait_for 5 sub_above "$KEEP" .events "$E3"
eq "broken reload: no new request for any subscription" "1 2 1" \
    "$(req_count "$WORK/s1.req" "$KEEP") $(req_count "$WORK/s1.req" "$CHANGE") $(req_count \
        "$WORK/s1.req" "$ADD")"

# -- the refused reload shows in /status, /metrics, STATUS= and ssemon status --
CFG=$(status_get /status | jq -c '.config')
eq "broken reload: /status config keys" '["path","loaded_at","last_reload"] ["at","ok","error"]' \
    "$(jq -c 'keys_unsorted' <<<"$CFG") $(jq -c '.last_reload | keys_unsorted' <<<"$CFG")"
eq "broken reload: /status config says refused, why and when" "$WORK/b.json false true true true" \
    "$(jq -r --arg f "$WORK/b.json" '[.path, .last_reload.ok,
        (.last_reload.error | test("^" + $f + ":[0-9]+:[0-9]+: /(no_such_key|subscriptions/0/contract): ")),
        (.last_reload.at | test("^[0-9-]+T[0-9:.]+Z$")), (.loaded_at < .last_reload.at)] |
        map(tostring) | join(" ")' <<<"$CFG")"
curl -s -m 5 "http://127.0.0.1:$SPORT/metrics" >"$WORK/refused.metrics"
check "broken reload: ssemon_config_last_reload_successful 0" \
    grep -qx 'ssemon_config_last_reload_successful 0' "$WORK/refused.metrics"
LOADED_S=$(sed -n 's/^ssemon_config_last_reload_success_timestamp_seconds \([0-9]*\).*/\1/p' \
    "$WORK/refused.metrics")
check "broken reload: ssemon_config_last_reload_success_timestamp_seconds is the last load" \
    test "${LOADED_S:-0}" -gt 1600000000
check "broken reload: STATUS= says the reload was refused and why" wait_for 5 notify_has "$NB" \
    '.msg | test("^STATUS=[0-9]+/[0-9]+ healthy, [0-9]+ violations? in 5 min; reload refused: .*/b.json:[0-9]+:[0-9]+: ")'
"$SSEMON" status --url "http://127.0.0.1:$SPORT" >"$WORK/refused.status" 2>&1
RC=$?
eq "broken reload: ssemon status exits 1 (every subscription healthy: $(status_get /status |
    jq -c '[.subscriptions[].healthy]'))" 1 "$RC"
check "broken reload: ssemon status says so" \
    grep -q "^CONFIG  reload of $WORK/b.json refused at .*: $WORK/b.json:[0-9]*:[0-9]*: /" \
    "$WORK/refused.status"
"$SSEMON" status --json --url "http://127.0.0.1:$SPORT" >/dev/null 2>&1
eq "broken reload: ssemon status --json exits 1 too" 1 "$?"

# -- a new journal_rate applies at the reload --
# The added subscription's stream starts with 5 unknown_event violations at
# once: the default budget (10 a minute) would journal all 5, the new one
# (1 a minute) journals 1 and counts the rest.
FLOOD2=flood2-$RUN
LENIENT=lenient-$RUN
WC_DEFAULTS='"journal_rate": {"burst": 1, "interval_s": 60}, ' write_config "$WORK/b.json" \
    "$KEEP_JSON" "$(sub_json "$CHANGE" version-stream version-stream 1 "&v=2")" \
    "$(sub_json "$ADD" envelope-stream gateway-envelope 1)" \
    "$(sub_json "$FLOOD2" daemon-flood version-stream 1 "&n=5")" \
    "$(sub_json "$LENIENT" daemon-flood version-stream 1 "&n=2" | sed 's/}$/, "strict": false}/')"
kill -HUP "$DB"
reloaded_twice() {
    test "$(stderr_records "$WORK/b.err" |
        jq --arg id "$ID_RELOADED" '[.[] | select(.MESSAGE_ID == $id)] | length')" = 2
}
check "journal_rate reload: reloaded record" wait_for 10 reloaded_twice
check "journal_rate reload: /status counts all 5 violations" \
    wait_for 10 sub_is "$FLOOD2" '.violations.by_class.unknown_event' 5
eq "journal_rate reload: the new budget of 1 a minute journals 1 of them" 1 \
    "$(stderr_records "$WORK/b.err" | jq --arg s "$FLOOD2" \
        '[.[] | select(.SSEMON_SUBSCRIPTION == $s and .SSEMON_CLASS == "unknown_event")] | length')"
eq "journal_rate reload: the others kept their connection" "1 2 1" \
    "$(req_count "$WORK/s1.req" "$KEEP") $(req_count "$WORK/s1.req" "$CHANGE") $(req_count \
        "$WORK/s1.req" "$ADD")"

# -- a successful reload clears the refusal everywhere --
CFG=$(status_get /status | jq -c '.config')
eq "reload after a refusal: /status config ok, no error, loaded at the reload" "true null true" \
    "$(jq -r '"\(.last_reload.ok) \(.last_reload.error) \(.loaded_at == .last_reload.at)"' <<<"$CFG")"
curl -s -m 5 "http://127.0.0.1:$SPORT/metrics" >"$WORK/fixed.metrics"
check "reload after a refusal: ssemon_config_last_reload_successful 1" \
    grep -qx 'ssemon_config_last_reload_successful 1' "$WORK/fixed.metrics"
check "reload after a refusal: success timestamp moved on" test "$(sed -n \
    's/^ssemon_config_last_reload_success_timestamp_seconds \([0-9.]*\)$/\1/p' \
    "$WORK/fixed.metrics" | cut -d. -f1)" -ge "${LOADED_S:-0}"
last_status_clean() {
    jq -rs '[.[] | select(.msg | startswith("STATUS="))] | last | .msg' "$NB" |
        grep -qv "reload refused"
}
check "reload after a refusal: STATUS= no longer says refused" wait_for 5 last_status_clean
"$SSEMON" status --url "http://127.0.0.1:$SPORT" >"$WORK/fixed.status" 2>&1
check "reload after a refusal: ssemon status has no CONFIG line" \
    not grep -q '^CONFIG' "$WORK/fixed.status"

# -- one severity scale: the same word in journald and /status, the
# priority from it (an error makes the subscription unhealthy, a warning
# does not) --
check "severity: the strict subscription's unknown_event counted" \
    wait_for 10 sub_is "$FLOOD2" '.violations.by_class.unknown_event' 5
check "severity: the lenient subscription's unknown_event counted" \
    wait_for 10 sub_is "$LENIENT" '.violations.by_class.unknown_event' 2
sev_of() {
    stderr_records "$WORK/b.err" | jq -r --arg s "$1" \
        '[.[] | select(.SSEMON_SUBSCRIPTION == $s and .SSEMON_CLASS == "unknown_event")][0] |
        "\(.SSEMON_SEVERITY) \(.PRIORITY)"'
}
eq "severity: strict unknown_event: journald error, PRIORITY 3; /status error, unhealthy" \
    "error $(severity_prio error) error false" \
    "$(sev_of "$FLOOD2") $(sub "$FLOOD2" '"\(.last_violation.severity) \(.healthy)"')"
eq "severity: lenient unknown_event: journald warning, PRIORITY 4; /status warning" \
    "warning $(severity_prio warning) warning" \
    "$(sev_of "$LENIENT") $(sub "$LENIENT" .last_violation.severity)"

stop_daemon "$DB" TERM
eq "notify daemon: exit 0 within 5 s of SIGTERM" 0 "$STOP_RC"
check "stderr record: stopping" stderr_has "$WORK/b.err" --arg id "$ID_STOPPING"
# The whole protocol, in order, leaving out the periodic STATUS= and
# WATCHDOG=1.
eq "notify: READY, RELOADING+MONOTONIC_USEC, READY (three times), STOPPING, in order" \
    "READY=1 RELOADING=1|MONOTONIC_USEC=N READY=1 RELOADING=1|MONOTONIC_USEC=N READY=1 RELOADING=1|MONOTONIC_USEC=N READY=1 STOPPING=1" \
    "$(jq -r 'select(.msg | test("^(STATUS|WATCHDOG)=") | not) | .msg | gsub("\n"; "|")' "$NB" |
        sed 's/MONOTONIC_USEC=[0-9][0-9]*$/MONOTONIC_USEC=N/' | tr '\n' ' ' | sed 's/ $//')"
# MONOTONIC_USEC is CLOCK_MONOTONIC when the reload began: not after the
# listener received it, and not long before.
eq "notify: MONOTONIC_USEC is the monotonic clock of the reload" "ok ok ok" \
    "$(jq -r 'select(.msg | startswith("RELOADING=1")) |
        (.msg | capture("MONOTONIC_USEC=(?<u>[0-9]+)").u | tonumber) as $u |
        if $u <= .mono_us and .mono_us - $u < 60000000 then "ok" else "bad \($u) \(.mono_us)" end' \
        "$NB" | tr '\n' ' ' | sed 's/ $//')"
check "notify: no STATUS= or WATCHDOG=1 after STOPPING=1" \
    test "$(jq -rs '[.[].msg] | (index("STOPPING=1") // -1) as $i |
        if $i < 0 then "none" else (.[$i + 1:] | length) end' "$NB")" = 0

# ==== 4. startup ====

# -- a broken configuration: exit 2, every error, nothing listening --
start_listener c
SPORT=$(free_port)
cat >"$WORK/c.json" <<EOF
{
  "status": {"listen": "127.0.0.1:$SPORT"},
  "contracts_dir": "$CONTRACTS",
  "bogus": true,
  "subscriptions": [
    {"name": "dup", "url": "ftp://127.0.0.1/x", "contract": "version-stream", "vars": {"request_id": "x"}},
    {"name": "dup", "url": "http://127.0.0.1:1/s/version-stream", "contract": "no-such-contract"}
  ]
}
EOF
NOTIFY_SOCKET=$NOTIFY_PATH timeout 20 "$SSEMON" run -c "$WORK/c.json" --log-target stderr \
    >"$WORK/c.out" 2>"$WORK/c.err"
eq "broken config at start: exit 2" 2 "$?"
for path in /bogus /subscriptions/0/url /subscriptions/1/name /subscriptions/1/contract; do
    check "broken config at start: error at $path on stderr" \
        grep -qE "^$WORK/c.json:[0-9]+:[0-9]+: $path: " "$WORK/c.err"
done
check "broken config at start: says it refuses to start" grep -q "refusing to start" "$WORK/c.err"
check "broken config at start: nothing listens on the status port" \
    not curl -s -m 2 -o /dev/null "http://127.0.0.1:$SPORT/healthz"
sleep 0.3
eq "broken config at start: no sd_notify message" 0 "$(jq -s length "$WORK/c.notify")"

# -- endpoints down at start: the daemon starts and reports connect_failed --
DOWN=down-$RUN
DEAD=$(free_port)
cat >"$WORK/d.json" <<EOF
{
  "status": {"listen": "127.0.0.1:$SPORT"},
  "contracts_dir": "$CONTRACTS",
  "defaults": {"backoff_min_ms": 200, "backoff_max_ms": 400},
  "subscriptions": [
    {"name": "$DOWN", "url": "http://127.0.0.1:$DEAD/s/version-stream?request_id=$DOWN",
     "contract": "version-stream", "vars": {"request_id": "$DOWN"}}
  ]
}
EOF
# WATCHDOG_PID names another process: the watchdog is not for this one.
NOTIFY_SOCKET=$NOTIFY_PATH WATCHDOG_USEC=200000 WATCHDOG_PID=1 \
    "$SSEMON" run -c "$WORK/d.json" --log-target stderr >"$WORK/d.out" 2>"$WORK/d.err" &
DD=$!
PIDS+=("$DD")
if wait_for 10 notify_has "$WORK/c.notify" '.msg == "READY=1"'; then
    pass "endpoints down at start: READY=1 all the same"
else
    fail "endpoints down at start: READY=1 all the same" "$WORK/d.err"
fi
check "endpoints down at start: connect_failed counted" \
    wait_for 10 sub_at_least "$DOWN" '.violations.by_class.connect_failed' 1
check "endpoints down at start: connect_failed record" \
    stderr_has "$WORK/d.err" --arg id "$ID_CONNFAIL"
E=$(stderr_records "$WORK/d.err" | jq -c --arg id "$ID_CONNFAIL" \
    '[.[] | select(.MESSAGE_ID == $id)][0] // {}')
eq "endpoints down at start: connect_failed record PRIORITY 3, class, subscription" \
    "3 connect_failed $DOWN" "$(field PRIORITY) $(field SSEMON_CLASS) $(field SSEMON_SUBSCRIPTION)"
eq "never reloaded: config.last_reload null, loaded at the start, path" \
    "null true $WORK/d.json" "$(status_get /status |
        jq -r '.config | "\(.last_reload) \(.loaded_at | test("Z$")) \(.path)"')"
check "never reloaded: ssemon_config_last_reload_successful 1" \
    grep -qx 'ssemon_config_last_reload_successful 1' <<<"$(status_get /metrics)"
R=$(curl -s -m 5 -w '\n%{http_code}' "http://127.0.0.1:$SPORT/readyz")
eq "endpoints down at start: /readyz 503" 503 "$(tail -n 1 <<<"$R")"
check "endpoints down at start: /readyz names it" grep -qx "$DOWN" <<<"$(head -n -1 <<<"$R")"
check "endpoints down at start: STATUS= 0/1 healthy" \
    wait_for 5 notify_has "$WORK/c.notify" '.msg | test("^STATUS=0/1 healthy, [1-9]")'
eq "watchdog for another pid: no WATCHDOG=1" 0 \
    "$(notify_count "$WORK/c.notify" '.msg == "WATCHDOG=1"')"
stop_daemon "$DD" INT
eq "endpoints down: exit 0 within 5 s of SIGINT" 0 "$STOP_RC"
check "endpoints down: STOPPING=1" notify_has "$WORK/c.notify" '.msg == "STOPPING=1"'

# ==== 6. the installed configuration: nothing to watch, and healthy ====
# etc/ssemon/ssemon.json is what the package installs as
# /etc/ssemon/ssemon.json (scripts/package checks that); only its status
# port is changed here, to a free one.
start_listener e
SPORT=$(free_port)
mkdir -p "$WORK/e"
cp -r "$CONTRACTS" "$WORK/e/contracts"
jq --arg l "127.0.0.1:$SPORT" '.status.listen = $l' "$SRC/etc/ssemon/ssemon.json" >"$WORK/e/ssemon.json"
eq "installed configuration: no subscriptions, no probes" "0 0" \
    "$(jq -r '"\(.subscriptions | length) \(.probes // [] | length)"' "$WORK/e/ssemon.json")"
check "installed configuration: check-config passes" \
    "$SSEMON" check-config -c "$WORK/e/ssemon.json"
NOTIFY_SOCKET=$NOTIFY_PATH "$SSEMON" run -c "$WORK/e/ssemon.json" --log-target stderr \
    >"$WORK/e.out" 2>"$WORK/e.err" &
DE=$!
PIDS+=("$DE")
if wait_for 10 notify_has "$WORK/e.notify" '.msg == "READY=1"'; then
    pass "installed configuration: the daemon starts (READY=1)"
else
    fail "installed configuration: the daemon starts (READY=1)" "$WORK/e.err"
fi
check "installed configuration: STATUS=no subscriptions configured" wait_for 5 notify_has \
    "$WORK/e.notify" '.msg == "STATUS=no subscriptions configured"'
eq "installed configuration: the started record says so" \
    "started: no subscriptions configured, status on 127.0.0.1:$SPORT" \
    "$(stderr_records "$WORK/e.err" | jq -r --arg id "$ID_STARTED" \
        '[.[] | select(.MESSAGE_ID == $id)][0].MESSAGE')"
eq "installed configuration: /readyz 200, /healthz 200" "200 200" \
    "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SPORT/readyz") $(curl -s \
        -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SPORT/healthz")"
"$SSEMON" status --url "http://127.0.0.1:$SPORT" >"$WORK/e.status" 2>&1
eq "installed configuration: ssemon status exits 0" 0 "$?"
check "installed configuration: ssemon status says no subscriptions configured" \
    grep -qx '(no subscriptions configured)' "$WORK/e.status"

# -- systemctl reload as the unit does it: its ExecReload= lines in order,
# the first failing one failing the reload (systemd's rule); the unit's
# paths point at this test's binary and file --
unit_reload() {
    local line cmd
    while IFS= read -r line; do
        cmd=${line#ExecReload=}
        cmd=${cmd//\/usr\/bin\/ssemon/$SSEMON}
        cmd=${cmd//\/etc\/ssemon\/ssemon.json/$WORK/e/ssemon.json}
        cmd=${cmd//\$MAINPID/$DE}
        cmd=${cmd//\/bin\/kill/kill}
        eval "$cmd" >>"$WORK/e.reload" 2>&1 || return 1
    done < <(grep '^ExecReload=' "$SRC/systemd/ssemon.service")
}
cp "$WORK/e/ssemon.json" "$WORK/e/good.json"
jq '.subscriptions = [{"name": "typo", "url": "http://127.0.0.1:1/", "contract": "no-such-contract"}]' \
    "$WORK/e/good.json" >"$WORK/e/ssemon.json"
unit_reload
eq "unit reload of a broken file: fails" 1 "$?"
check "unit reload of a broken file: check-config said why" \
    grep -q "/subscriptions/0/contract: " "$WORK/e.reload"
eq "unit reload of a broken file: the daemon was not signalled (no RELOADING=1)" 0 \
    "$(notify_count "$WORK/e.notify" '.msg | startswith("RELOADING=1")')"
cp "$WORK/e/good.json" "$WORK/e/ssemon.json"
unit_reload
eq "unit reload of a good file: succeeds" 0 "$?"
check "unit reload of a good file: the daemon reloaded" wait_for 5 notify_has "$WORK/e.notify" \
    '.msg | startswith("RELOADING=1")'
check "unit reload of a good file: reloaded record" \
    wait_for 5 stderr_has "$WORK/e.err" --arg id "$ID_RELOADED"
stop_daemon "$DE" TERM
eq "installed configuration: exit 0 on SIGTERM" 0 "$STOP_RC"

kill -TERM "$S1_PID" "$SRV_PID" 2>/dev/null
echo "# $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
