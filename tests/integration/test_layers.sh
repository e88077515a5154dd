#!/bin/bash
# The layering check (scripts/check-layers) passes on the tree and fails on
# copies of it with one upward include, one include by a relative path, one
# I/O library in the pure core (included or linked), one upward link between
# the layers' libraries, and one module outside a layer folder.
# usage: test_layers.sh SOURCE_DIR
set -u
SRC=$(realpath "$1")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
expect() { # NAME WANT_RC TREE
    local out rc
    out=$("$SRC/scripts/check-layers" "$3" 2>&1)
    rc=$?
    if [ "$rc" -eq "$2" ]; then echo "ok - $1"; else
        echo "not ok - $1 (exit $rc, wanted $2)" >&2
        printf '%s\n' "$out" | sed 's/^/    | /' >&2
        FAILS=$((FAILS + 1))
    fi
}
expect "the tree keeps its layers" 0 "$SRC"
copy() { rm -rf "$WORK/t"; mkdir -p "$WORK/t"; cp -r "$SRC/src" "$SRC/include" "$WORK/t/"; }
copy
sed -i '1i #include "ssemon/io/monitor.h"' "$WORK/t/src/core/validator.c"
expect "core including io fails" 1 "$WORK/t"
copy
sed -i '1i #include <event2/event.h>' "$WORK/t/src/json/json_tape.c"
expect "libevent in json fails" 1 "$WORK/t"
copy
sed -i '1i #include <curl/curl.h>' "$WORK/t/include/ssemon/base/utf8.h"
expect "libcurl in a base header fails" 1 "$WORK/t"
copy
cp "$WORK/t/src/base/utf8.c" "$WORK/t/src/stray.c"
expect "a module outside a layer folder fails" 1 "$WORK/t"
copy
sed -i '1i #include "ssemon/config/config.h"' "$WORK/t/src/io/monitor.c"
expect "io including config fails" 1 "$WORK/t"
copy
sed -i '1i #include "../../include/ssemon/io/monitor.h"' "$WORK/t/src/core/validator.c"
expect "an include by a relative path fails" 1 "$WORK/t"
copy
sed -i 's/^target_link_libraries(ssemon_core PUBLIC /&ssemon_io /' "$WORK/t/src/core/CMakeLists.txt"
grep -q 'PUBLIC ssemon_io ' "$WORK/t/src/core/CMakeLists.txt" || { echo "not ok - the core link line moved" >&2; FAILS=$((FAILS + 1)); }
expect "core's library linking io's fails" 1 "$WORK/t"
copy
printf 'target_link_libraries(ssemon_json PUBLIC\n  PkgConfig::SYSTEMD)\n' >>"$WORK/t/src/json/CMakeLists.txt"
expect "json's library linking libsystemd fails" 1 "$WORK/t"
[ "$FAILS" -eq 0 ] && echo "9 passed, 0 failed" || echo "$((9 - FAILS)) passed, $FAILS failed"
exit $((FAILS != 0))
