#!/bin/bash
# The service-integration artefacts, checked with the tools that consume
# them: the systemd units (systemd-analyze verify, and security --offline
# with an overall exposure of at most 2.0), the journald catalog (compiled by
# journalctl into a scratch root, covering exactly the MESSAGE_IDs of
# src/core/violation.c and include/ssemon/io/journal_ids.h) and the Prometheus alert
# rules (promtool check rules; promtool test rules on the synthetic series of
# every tests/integration/alerts/*-test.yml; every rule expected to fire in
# some test and to stay silent in the healthy fleet of fleet-test.yml; every
# metric a rule uses exported by the sources).
#
# usage: test_units.sh PART SOURCE_DIR SSEMON
#   PART: verify | security | catalog | alerts
# A missing tool is installed with apt (as root). Exit 77 (skipped, with the
# reason) only when it cannot be; 1 on any failure. No network server is
# started; everything runs on files in a scratch directory.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 verify|security|catalog|alerts SOURCE_DIR SSEMON" >&2
    exit 2
fi
PART=$1
SRC=$(realpath "$2")
SSEMON=$(realpath "$3")

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

FAILURES=0
fail() {
    echo "FAIL: $*" >&2
    FAILURES=$((FAILURES + 1))
}
ok() {
    echo "ok: $*"
}

# need TOOL PACKAGE: makes TOOL available or exits 77 saying why.
need() {
    local tool=$1 pkg=$2
    command -v "$tool" >/dev/null && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: $tool is missing and installing $pkg needs root" >&2
        exit 77
    fi
    echo "installing $pkg for $tool" >&2
    local apt=(apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300)
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" "$pkg" >"$WORK/apt.log" 2>&1; then
        # A fresh machine may have no package lists yet.
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$WORK/apt.log" 2>&1
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" "$pkg" >>"$WORK/apt.log" 2>&1
    fi
    if ! command -v "$tool" >/dev/null; then
        tail -n 5 "$WORK/apt.log" >&2
        echo "SKIP: $tool is missing and apt could not install $pkg" >&2
        exit 77
    fi
}

UNITS=(ssemon.service ssemon@.service)

# ------------------------------------------------------------------ verify
# systemd-analyze verify needs no running manager when given a root that
# holds the units it refers to (sysinit.target, ...) and the executables:
# a copy of the host's system units, the built binary as /usr/bin/ssemon.
part_verify() {
    need systemd-analyze systemd
    local root=$WORK/root
    mkdir -p "$root/usr/bin" "$root/bin" "$root/etc/systemd/system" "$root/lib/systemd"
    local sysunits
    for sysunits in /lib/systemd/system /usr/lib/systemd/system; do
        [ -f "$sysunits/sysinit.target" ] && break
    done
    if [ ! -f "$sysunits/sysinit.target" ]; then
        echo "SKIP: no system units (sysinit.target) on this machine to verify against" >&2
        exit 77
    fi
    cp -a "$sysunits" "$root/lib/systemd/system"
    cp "$SSEMON" "$root/usr/bin/ssemon"
    cp "$(type -P kill)" "$root/bin/kill"
    local u
    for u in "${UNITS[@]}"; do
        cp "$SRC/systemd/$u" "$root/etc/systemd/system/$u"
    done
    # verify reports bad lines as warnings and still exits 0: any output fails.
    local name out
    for name in ssemon.service ssemon@ci.service; do
        out=$(systemd-analyze verify --man=no --root="$root" "$name" 2>&1)
        local rc=$?
        if [ $rc -ne 0 ] || [ -n "$out" ]; then
            fail "systemd-analyze verify $name (exit $rc): $out"
        else
            ok "systemd-analyze verify $name"
        fi
    done

    # What the daemon and the package rely on.
    local want
    for u in "${UNITS[@]}"; do
        local f=$SRC/systemd/$u cfg=/etc/ssemon/ssemon.json
        [ "$u" = ssemon@.service ] && cfg=/etc/ssemon/%i.json
        # shellcheck disable=SC2016 # $MAINPID is literal unit text
        for want in "Type=notify" "ExecStartPre=/usr/bin/ssemon check-config -c $cfg" \
            "ExecStart=/usr/bin/ssemon run -c $cfg" "ExecReload=/usr/bin/ssemon check-config -c $cfg" \
            'ExecReload=/bin/kill -HUP $MAINPID' \
            "WatchdogSec=30" "Restart=on-failure" "DynamicUser=yes" \
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "CapabilityBoundingSet=" \
            "SystemCallFilter=@system-service" "UMask=0077"; do
            if grep -qxF -- "$want" "$f"; then
                ok "$u: $want"
            else
                fail "$u lacks the line '$want'"
            fi
        done
        grep -q '^#LoadCredential=' "$f" || fail "$u lacks the commented LoadCredential= example"
        # The file is checked before the daemon is signalled: a broken file
        # fails `systemctl reload` (ExecReload= lines run in order, the
        # first failing one ends the reload).
        if [ "$(grep -n '^ExecReload=' "$f" | head -n 1 | cut -d= -f2-)" = "/usr/bin/ssemon check-config -c $cfg" ]; then
            ok "$u: check-config runs before the reload signal"
        else
            fail "$u: the first ExecReload= is not check-config"
        fi
    done
}

# ---------------------------------------------------------------- security
part_security() {
    need systemd-analyze systemd
    local u out level
    for u in "${UNITS[@]}"; do
        out=$(systemd-analyze security --no-pager --offline=yes "$SRC/systemd/$u" 2>&1)
        level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
        if [ -z "$level" ]; then
            fail "$u: no overall exposure level in: $out"
        elif awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
            ok "$u: overall exposure $level <= 2.0"
        else
            printf '%s\n' "$out" | grep '✗' >&2
            fail "$u: overall exposure $level > 2.0"
        fi
    done
}

# ----------------------------------------------------------------- catalog
part_catalog() {
    need journalctl systemd
    local root=$WORK/root
    mkdir -p "$root/usr/lib/systemd/catalog"
    cp "$SRC/systemd/ssemon.catalog" "$root/usr/lib/systemd/catalog/ssemon.catalog"
    local out
    out=$(journalctl --root="$root" --update-catalog 2>&1)
    local rc=$?
    if [ $rc -ne 0 ] || [ -n "$out" ]; then
        fail "journalctl --update-catalog (exit $rc): $out"
    else
        ok "journalctl --update-catalog accepts the catalog"
    fi
    journalctl --root="$root" --list-catalog >"$WORK/list" 2>&1 ||
        fail "journalctl --list-catalog: $(cat "$WORK/list")"

    # class name and id of every violation class, from the source of truth.
    sed -n 's/.*\[VIOLATION_[A-Z_]*\] *= *{"\([a-z_]*\)", *"\([0-9a-f]\{32\}\)".*/\1 \2/p' \
        "$SRC/src/core/violation.c" >"$WORK/classes"
    local count
    count=$(sed -n 's/^#define VIOLATION_CLASS_COUNT \([0-9]*\).*/\1/p' \
        "$SRC/include/ssemon/core/violation.h")
    if [ "$(wc -l <"$WORK/classes")" -ne "${count:-0}" ]; then
        fail "found $(wc -l <"$WORK/classes") class ids in violation.c, expected ${count:-?}"
    fi
    sed -n 's/^#define JOURNAL_ID_[A-Z_]* "\([0-9a-f]\{32\}\)".*/\1/p' \
        "$SRC/include/ssemon/io/journal_ids.h" >"$WORK/lifecycle"
    [ -s "$WORK/lifecycle" ] || fail "no JOURNAL_ID_* in include/ssemon/io/journal_ids.h"

    local name id
    while read -r name id; do
        if grep -q "^$id ssemon: .*($name)\$" "$WORK/list"; then
            ok "catalog: $name $id"
        else
            fail "catalog has no entry '$id' defined by ssemon with '($name)' in its subject"
        fi
    done <"$WORK/classes"
    while read -r id; do
        if grep -q "^$id ssemon: " "$WORK/list"; then
            ok "catalog: $(grep "\"$id\"" "$SRC/include/ssemon/io/journal_ids.h" | awk '{print $2}') $id"
        else
            fail "catalog has no entry '$id' (journal_ids.h) defined by ssemon"
        fi
    done <"$WORK/lifecycle"
    # Nothing else: a stale id would document a message that no longer exists.
    {
        awk '{print $2}' "$WORK/classes"
        cat "$WORK/lifecycle"
    } | sort >"$WORK/expected"
    awk '{print $1}' "$WORK/list" | sort >"$WORK/listed"
    if ! diff -u "$WORK/expected" "$WORK/listed" >"$WORK/diff"; then
        fail "catalog ids differ from the sources' (- sources, + catalog): $(cat "$WORK/diff")"
    fi
    if [ "$(sort -u "$WORK/expected" | wc -l)" -ne "$(wc -l <"$WORK/expected")" ]; then
        fail "an id is used twice in violation.c/journal_ids.h"
    fi

    # journalctl -x prints a missing field as its bare name, so every @FIELD@
    # must be one the journal sink actually sends.
    local sink=$SRC/src/io/journal_sink.c field
    if [ ! -f "$sink" ]; then
        fail "src/io/journal_sink.c is missing: cannot check the catalog's @FIELD@s"
    else
        for field in $(grep -v "^#" "$SRC/systemd/ssemon.catalog" | grep -o "@[A-Z_]*@" | tr -d @ | sort -u); do
            if grep -qF "\"$field\"" "$sink"; then
                ok "catalog field @$field@ is sent by journal_sink.c"
            else
                fail "catalog uses @$field@, which journal_sink.c never sends"
            fi
        done
    fi
}

# ------------------------------------------------------------------ alerts
part_alerts() {
    need promtool prometheus
    local rules=$SRC/etc/prometheus/ssemon-alerts.yml out
    if out=$(promtool check rules "$rules" 2>&1); then
        ok "promtool check rules: $(printf '%s\n' "$out" | grep -o 'SUCCESS.*')"
    else
        fail "promtool check rules: $out"
    fi
    # The test files of their own (each names the rules relative to itself).
    local t found=0
    for t in "$SRC"/tests/integration/alerts/*-test.yml; do
        [ -f "$t" ] || continue
        found=$((found + 1))
        if out=$(promtool test rules "$t" 2>&1); then
            ok "promtool test rules ${t#"$SRC"/}"
        else
            fail "promtool test rules ${t#"$SRC"/}: $out"
        fi
    done
    [ "$found" -gt 0 ] || fail "no tests/integration/alerts/*-test.yml"

    # Every shipped rule is proven: some test expects it to fire, and the
    # healthy fleet (fleet-test.yml) expects it to stay silent.
    local name fleet=$SRC/tests/integration/alerts/fleet-test.yml
    # shellcheck disable=SC2013 # rule names are single words
    for name in $(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\) *$/\1/p' "$rules"); do
        if cat "$SRC"/tests/integration/alerts/*-test.yml |
            grep -A1 -x " *alertname: $name" | grep -qx ' *exp_alerts:'; then
            ok "rule $name: a test expects it to fire"
        else
            fail "rule $name: no tests/integration/alerts/*-test.yml expects it to fire"
        fi
        if [ -f "$fleet" ] && grep -A1 -x " *alertname: $name" "$fleet" |
            grep -qx ' *exp_alerts: \[\]'; then
            ok "rule $name: silent in the healthy fleet"
        else
            fail "rule $name: fleet-test.yml does not expect it silent"
        fi
    done

    # Every metric the rules use must be one the daemon exports: its name
    # quoted in the sources (status_render.c, or a module rendering
    # families of its own).
    local metric
    if [ ! -f "$SRC/src/io/status_render.c" ]; then
        fail "src/io/status_render.c is missing: metric names cannot be cross-checked"
        return
    fi
    # shellcheck disable=SC2013 # metric names are single words
    for metric in $(grep -v '^ *#' "$rules" | grep -o 'ssemon_[a-z_]*' |
        sed -E 's/_(bucket|count|sum)$//' | sort -u); do
        if grep -lqF "\"$metric" "$SRC"/src/*/*.c; then
            ok "metric $metric is exported ($(grep -lF "\"$metric" "$SRC"/src/*/*.c | xargs -n1 basename | tr '\n' ' '))"
        else
            fail "the rules use $metric, which no src/*/*.c exports"
        fi
    done
}

case "$PART" in
verify) part_verify ;;
security) part_security ;;
catalog) part_catalog ;;
alerts) part_alerts ;;
*)
    echo "unknown part '$PART'" >&2
    exit 2
    ;;
esac

if [ "$FAILURES" -ne 0 ]; then
    echo "$PART: $FAILURES failure(s)" >&2
    exit 1
fi
echo "$PART: all checks passed"
