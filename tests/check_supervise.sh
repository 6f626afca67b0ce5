#!/usr/bin/env bash
# The restart backoff of deploy/stack.sh's supervisor, with stand-in
# services: one that exits at once is restarted after 1 s, 2 s, then the
# cap (SLUICE_RESTART_MAX_DELAY=2 here); one whose runs last longer than
# SLUICE_RESTART_RESET_AFTER is restarted after 1 s every time.
#
# usage: tests/check_supervise.sh SOURCE_DIR
set -euo pipefail
src=$1
d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-supervise.XXXXXX")
sup=0
cleanup() { ((sup)) && kill -TERM "$sup" 2>/dev/null; wait 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
mkdir -p "$d/run"
printf 'export SLUICE_STACK_DIR=%s\n' "$d" >"$d/stack.env"
printf '#!/bin/sh\nexit 3\n' >"$d/crash"
printf '#!/bin/sh\nsleep 1.5\nexit 4\n' >"$d/slow"
chmod +x "$d/crash" "$d/slow"

# delays NAME BIN N: the first N restart delays the supervisor chose.
delays() {
    local name=$1 bin=$2 n=$3 i got
    bash "$src/deploy/stack.sh" __supervise --dir "$d" "$name" "$bin" >"$d/$name.log" 2>&1 &
    sup=$!
    for ((i = 0; i < 150; i++)); do
        got=$(grep -c 'restarting in' "$d/$name.log" || true)
        ((got >= n)) && break
        sleep 0.1
    done
    kill -TERM "$sup"
    wait "$sup" || true
    sup=0
    grep -o 'restarting in [0-9]*s' "$d/$name.log" | head -n "$n" | awk '{print $3}' | paste -sd' '
}

got=$(SLUICE_RESTART_MAX_DELAY=2 delays crash "$d/crash" 4)
[[ $got == "1s 2s 2s 2s" ]] || { echo "crash loop delays: got '$got', want '1s 2s 2s 2s'" >&2; cat "$d/crash.log" >&2; exit 1; }
got=$(SLUICE_RESTART_MAX_DELAY=2 SLUICE_RESTART_RESET_AFTER=1 delays slow "$d/slow" 3)
[[ $got == "1s 1s 1s" ]] || { echo "long runs delays: got '$got', want '1s 1s 1s'" >&2; cat "$d/slow.log" >&2; exit 1; }
grep -q 'exited with status 3' "$d/crash.log" || { echo "exit status not logged" >&2; exit 1; }
echo "backoff ok: crash loop 1s 2s 2s 2s (cap 2s), long runs 1s each"
