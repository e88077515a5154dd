# shellcheck shell=bash
# Shared by the integration scripts (sourced once SERVER, the test server's
# path, and SCN, its scenario directory, are set).

# itest_start_server PORTFILE ERRFILE [OPTION...]: starts the scripted test
# server on a free loopback port with the given extra options, its stderr
# appended to ERRFILE; sets ITEST_PID and ITEST_BASE (http://127.0.0.1:PORT).
# Waits at most 5 s for it; otherwise stops it and ends the script with its
# stderr.
itest_start_server() {
    local port_file=$1 err=$2
    shift 2
    rm -f "$port_file"
    "$SERVER" --listen 127.0.0.1:0 --port-file "$port_file" --dir "$SCN" --quiet "$@" \
        >/dev/null 2>>"$err" &
    ITEST_PID=$!
    for _ in $(seq 1 100); do
        [ -s "$port_file" ] && break
        kill -0 "$ITEST_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ ! -s "$port_file" ]; then
        kill -TERM "$ITEST_PID" 2>/dev/null
        echo "test server did not start" >&2
        cat "$err" >&2
        exit 1
    fi
    # shellcheck disable=SC2034 # read by the scripts that source this file
    ITEST_BASE="http://127.0.0.1:$(cat "$port_file")"
}

# itest_serve: what most scripts begin with. A work directory WORK removed
# at exit, no proxy taken from the environment, and the test server on
# loopback logging its requests to LOG; sets SERVER_PID and BASE. Processes
# the script appends to BG_PIDS are killed at exit, then the server stopped.
itest_serve() {
    WORK=$(mktemp -d)
    SERVER_PID=
    BG_PIDS=()
    trap itest_cleanup EXIT
    unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
    LOG=$WORK/server.log
    itest_start_server "$WORK/port" "$WORK/server.err" --log "$LOG"
    SERVER_PID=$ITEST_PID
    # shellcheck disable=SC2034 # read by the scripts that source this file
    BASE=$ITEST_BASE
}

itest_cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}

# itest_stop PID SECONDS: stops a background child of this shell with one
# SIGTERM and waits at most SECONDS for it (polling every 50 ms). Sets
# ITEST_RC to its exit status. A process still there after SECONDS is
# described on stderr (state, signal masks, kernel wait channel, its stack
# when gdb is installed), killed, and ITEST_RC is 124: a test never waits on a
# stuck process for longer than it says. Send the signal to the program
# itself, not to a `timeout` wrapping it: timeout passes it on to the whole
# process group a second time.
# shellcheck disable=SC2034 # ITEST_RC is read by the scripts that source this file
itest_stop() {
    local pid=$1 secs=$2
    ITEST_RC=0
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 $((secs * 20))); do
        kill -0 "$pid" 2>/dev/null || break
        [ -r "/proc/$pid/stat" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
        {
            echo "# itest_stop: process $pid still running ${secs} s after SIGTERM:"
            ps -o pid,ppid,pgid,stat,etimes,wchan:32,args -p "$pid"
            grep -E '^(State|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt|Threads)' "/proc/$pid/status"
            cat "/proc/$pid/stack" 2>/dev/null
            command -v gdb >/dev/null &&
                timeout 20 gdb -p "$pid" -batch -ex 'thread apply all bt' 2>/dev/null | tail -40
        } | sed 's/^/    | /' >&2
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        ITEST_RC=124
        return 0
    fi
    wait "$pid"
    ITEST_RC=$?
}

# itest_ca: a private CA for a test (ca.key, ca.pem: EC P-256, valid two
# days) in the current directory. itest_cert NAME CN [SAN]: NAME.key and
# NAME.pem, a certificate for CN signed by it, with the subjectAltName SAN
# (e.g. IP:127.0.0.1) when given. Both return non-zero when openssl fails.
itest_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
        -out ca.pem -days 2 -subj /CN=ssemon-test-ca 2>/dev/null
}
itest_cert() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" \
        -out "$1.csr" -subj "/CN=$2" 2>/dev/null || return 1
    if [ -n "${3:-}" ]; then printf 'subjectAltName=%s\n' "$3" >"$1.ext"; else : >"$1.ext"; fi
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
        -days 2 -extfile "$1.ext" 2>/dev/null
}

# itest_tcp_read PID PORT: how many bytes process PID has read from its TCP
# connections to port PORT: what the kernel received for it, less what still
# waits in the receive queue. 0 when it has no such connection. Lets a test
# wait until a client has taken in what the server sent, instead of waiting
# a fixed time. Needs ss (iproute2).
itest_tcp_read() {
    ss -Htnpi state established "( dport = :$2 )" 2>/dev/null | awk -v pid="pid=$1," '
        /^[0-9]/ { mine = index($0, pid) > 0; queued = $1; next }
        mine && match($0, /bytes_received:[0-9]+/) {
            n += substr($0, RSTART + 15, RLENGTH - 15) - queued
            mine = 0
        }
        END { print n + 0 }'
}

# The test-report helpers (TAP-like lines): FAILS and PASSES count them; the
# script sets both to 0 before its first check.
# pass NAME; fail NAME [FILE]: FILE's first 40 lines are shown under a failure.
pass() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
fail() {
    FAILS=$((FAILS + 1))
    echo "not ok - $1" >&2
    if [ -n "${2:-}" ] && [ -f "$2" ]; then
        sed 's/^/    | /' "$2" | head -40 >&2
    fi
}
# check NAME FILE COMMAND...: passes when COMMAND succeeds; FILE is shown otherwise.
check() {
    local name=$1 file=$2
    shift 2
    if "$@"; then pass "$name"; else fail "$name" "$file"; fi
}
equals() { [ "$1" = "$2" ]; }
