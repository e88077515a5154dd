# shellcheck shell=bash
# Shared by bench/run.sh and bench/run-validate.sh (sourced, after setting
# bench_name): messages, argument checks, and the tools they need.

say() { printf '%s: %s\n' "${bench_name:?}" "$*" >&2; }
die() {
  say "FAILED: $*"
  exit 1
}

# bench_uints VAR...: each variable holds a non-negative integer.
bench_uints() {
  local v
  for v in "$@"; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
  done
}

# bench_tools TOOL:PACKAGE...: installs the Debian packages of the tools
# that are missing (as root, with apt-get; otherwise carries on), then
# requires every tool named in $bench_required (space-separated).
bench_tools() {
  local pair need=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
  done
  if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      "${need[@]}" >/dev/null; }; then
      say "could not install every package; carrying on with what is there"
    fi
  fi
  local t
  for t in ${bench_required:?}; do
    command -v "$t" >/dev/null || die "'$t' is needed (apt-get install it)"
  done
}
