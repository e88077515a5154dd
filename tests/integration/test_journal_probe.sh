#!/bin/bash
# Integration test of a probe's journal entries against a real
# systemd-journald of this test's own: journal_probe_emit writes the entries
# of a failing probe run through the journal sink, journalctl reads them
# back (fields present and absent, MESSAGE, PRIORITY, MESSAGE_ID), and
# `journalctl -x` explains them with systemd/ssemon.catalog, compiled into
# the test's scratch root: the catalog's @SSEMON_PROBE@ and @SSEMON_RUN_ID@
# are filled from the entries.
#
# usage: test_journal_probe.sh JOURNAL_PROBE_EMIT SOURCE_DIR
#
# journald runs in a private mount namespace as in test_journal.sh: /run is
# a fresh tmpfs there, with this test's directories bound at journald's
# socket directory and at its volatile storage. Needs root (else exit 77,
# skipped).
# Every wait is bounded; journald is stopped by its pid.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 JOURNAL_PROBE_EMIT SOURCE_DIR" >&2
    exit 2
fi
EMIT=$1
SRC=$(cd "$2" && pwd)
JOURNALD=/lib/systemd/systemd-journald
if [ "$(id -u)" -ne 0 ] || [ ! -x "$JOURNALD" ] || ! command -v unshare >/dev/null ||
    ! command -v journalctl >/dev/null || ! command -v jq >/dev/null; then
    echo "SKIP: needs root, unshare, jq, journalctl and $JOURNALD" >&2
    exit 77
fi

WORK=$(mktemp -d)
JOURNALD_PID=
cleanup() {
    if [ -n "$JOURNALD_PID" ] && kill -0 "$JOURNALD_PID" 2>/dev/null; then
        kill -KILL "$JOURNALD_PID"
        wait "$JOURNALD_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

FAILS=0
PASSES=0
# eq NAME WANT GOT
eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: want '$2', got '$3'"; fi
}

ROOT=$WORK/root
JRUN=$WORK/jrun
JLOG=$WORK/jlog
JSOCK=$JRUN/socket
mkdir -p "$JRUN" "$JLOG" "$ROOT/usr/lib/systemd/catalog"
journald_alive() {
    python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).connect(sys.argv[1])' "$JSOCK" 2>/dev/null
}
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
end=$((SECONDS + 10))
until journald_alive; do
    if [ "$SECONDS" -ge "$end" ]; then
        fail "journald starts" "$WORK/journald.log"
        exit 1
    fi
    sleep 0.1
done

if "$EMIT" "$JSOCK" 2>"$WORK/emit.err"; then
    pass "the sink wrote every entry to journald"
else
    fail "the sink wrote every entry to journald" "$WORK/emit.err"
fi

jall() { journalctl -D "$JLOG" -q -o json --no-pager "$@" 2>/dev/null; }
# journald writes what it received in order; wait until the last is there.
end=$((SECONDS + 10))
until [ "$(jall SSEMON_PROBE=legacy-task | wc -l)" -ge 1 ] || [ "$SECONDS" -ge "$end" ]; do
    sleep 0.1
done
id_of() { sed -n "s/.*{\"$1\", \"\([0-9a-f]\{32\}\)\".*/\1/p" "$SRC/src/core/violation.c"; }

# one FIELD=VALUE...: the only entry that matches, as JSON.
one() { jall "$@" | jq -cs 'if length == 1 then .[0] else {count: length} end'; }
E=$(one SSEMON_RUN_ID=r-fail)
eq "probe_failed: MESSAGE" "probe gateway-task: probe_failed: trigger answered 500 (expected 2xx): oops" \
    "$(jq -r .MESSAGE <<<"$E")"
eq "probe_failed: PRIORITY, MESSAGE_ID, class, probe" "3 $(id_of probe_failed) probe_failed gateway-task" \
    "$(jq -r '"\(.PRIORITY) \(.MESSAGE_ID) \(.SSEMON_CLASS) \(.SSEMON_PROBE)"' <<<"$E")"
eq "probe_failed: no subscription, contract or URL fields" "null null null" \
    "$(jq -c -r '"\(.SSEMON_SUBSCRIPTION) \(.SSEMON_CONTRACT) \(.SSEMON_URL)"' <<<"$E")"

E=$(one SSEMON_RUN_ID=r-step SSEMON_CLASS=probe_timeout)
eq "probe_timeout: MESSAGE names probe and subscription" \
    "probe gateway-task, gateway-main: probe_timeout: gateway-main: no task_event:task_completed within 10000 ms" \
    "$(jq -r .MESSAGE <<<"$E")"
eq "probe_timeout: PRIORITY, MESSAGE_ID, probe, subscription, event" \
    "3 $(id_of probe_timeout) gateway-task gateway-main task_event" \
    "$(jq -r '"\(.PRIORITY) \(.MESSAGE_ID) \(.SSEMON_PROBE) \(.SSEMON_SUBSCRIPTION) \(.SSEMON_EVENT)"' <<<"$E")"
E=$(one SSEMON_RUN_ID=r-step SSEMON_CLASS=probe_order)
eq "probe_order: PRIORITY, MESSAGE_ID" "3 $(id_of probe_order)" \
    "$(jq -r '"\(.PRIORITY) \(.MESSAGE_ID)"' <<<"$E")"
E=$(one SSEMON_PROBE=legacy-task)
eq "a probe stream's violation: class, subscription, run, state" \
    "lifecycle_timeout stream/0 r-stream running" \
    "$(jq -r '"\(.SSEMON_CLASS) \(.SSEMON_SUBSCRIPTION) \(.SSEMON_RUN_ID) \(.SSEMON_STATE)"' <<<"$E")"
eq "every entry of the run filtered by SSEMON_RUN_ID" 2 "$(jall SSEMON_RUN_ID=r-step | wc -l)"

# journalctl -x: the catalog explains each entry with the probe filled in.
# journalctl reads the compiled catalog at /var/lib/systemd/catalog
# whatever --root says, so it runs in a private mount namespace where the
# test's compiled catalog is bound there; the machine's stays untouched.
cp "$SRC/systemd/ssemon.catalog" "$ROOT/usr/lib/systemd/catalog/"
if journalctl --root="$ROOT" --update-catalog >"$WORK/catalog.log" 2>&1 &&
    [ -d /var/lib/systemd/catalog ]; then
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare --mount --propagation private /bin/bash -c '
        mount --bind "$1" /var/lib/systemd/catalog &&
        exec journalctl -D "$2" -x -q --no-pager SSEMON_PROBE=gateway-task' \
        journalctl "$ROOT/var/lib/systemd/catalog" "$JLOG" >"$WORK/x.txt" 2>&1
    for want in "Subject: probe gateway-task: trigger failed (probe_failed)" \
        "Subject: probe gateway-task: expected event missing (probe_timeout)" \
        "Subject: probe gateway-task: events out of order (probe_order)" \
        "Run r-fail of probe gateway-task could not cause its event" \
        "journalctl SSEMON_RUN_ID=r-step"; do
        if grep -qF -- "$want" "$WORK/x.txt"; then
            pass "journalctl -x: $want"
        else
            fail "journalctl -x: $want" "$WORK/x.txt"
        fi
    done
    if grep -q "@SSEMON_" "$WORK/x.txt"; then
        fail "journalctl -x leaves no @FIELD@ unfilled" "$WORK/x.txt"
    else
        pass "journalctl -x leaves no @FIELD@ unfilled"
    fi
else
    fail "journalctl --update-catalog (and /var/lib/systemd/catalog to bind it at)" "$WORK/catalog.log"
fi

echo "# $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
