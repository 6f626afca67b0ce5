#!/usr/bin/env bash
# The restart backoff of deploy/stack.sh's supervisor, with stand-in
# services: one that exits at once is restarted after 1 s, 2 s, then the
# cap (SLUICE_RESTART_MAX_DELAY=2 here); one whose runs last longer than
# SLUICE_RESTART_RESET_AFTER is restarted after 1 s every time.  Liveness:
# one whose GET /health answers "stalled" and that ignores SIGTERM (a loop
# stuck in a call) is stopped -- SIGTERM, then SIGKILL -- and restarted;
# one that answers "ok" is left running.
#
# usage: tests/check_supervise.sh SOURCE_DIR
set -euo pipefail
src=$1
# shellcheck source=deploy/lib.sh
. "$src/deploy/lib.sh"   # sl_free_ports
d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-supervise.XXXXXX")
sup=0
cleanup() {
    ((sup)) && kill -TERM "$sup" 2>/dev/null
    pkill -KILL -f "$d/" 2>/dev/null || true
    wait 2>/dev/null
    rm -rf "$d"
}
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

# Liveness: stand-ins serving GET /health on their metrics address.
cat >"$d/stand_in.py" <<'PY'
import http.server, os, signal, sys
stalled = os.path.basename(sys.argv[1]) == "stalled"
if stalled:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)   # its loop does not see the flag
host, port = os.environ["SLUICE_METRICS_LISTEN"].rsplit(":", 1)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"status":"stalled"}\n' if stalled else b'{"status":"ok"}\n'
        self.send_response(503 if stalled else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer((host, int(port)), H).serve_forever()
PY
mapfile -t ports < <(sl_free_ports 2)
for n in stalled healthy; do
    printf '#!/bin/sh\nexec python3 %s/stand_in.py "$0"\n' "$d" >"$d/$n"
    chmod +x "$d/$n"
    printf 'export SLUICE_METRICS_%s=127.0.0.1:%s\n' "${n^^}" "${ports[0]}" >>"$d/stack.env"
    ports=("${ports[@]:1}")
done
export SLUICE_LIVENESS_INTERVAL=1 SLUICE_LIVENESS_FAILURES=2 SLUICE_LIVENESS_GRACE=1

bash "$src/deploy/stack.sh" __supervise --dir "$d" stalled "$d/stalled" >"$d/stalled.log" 2>&1 &
sup=$!
for ((i = 0; i < 300; i++)); do
    grep -q '(run 2)' "$d/stalled.log" && break
    sleep 0.1
done
kill -TERM "$sup"   # stop after this run, which ignores SIGTERM (unless it
kill -KILL "$(cat "$d/run/stalled.pid")" 2>/dev/null || true   # has not started)
wait "$sup" || true
sup=0
for want in 'answered stalled 2 times in a row' 'still running 1s after SIGTERM; sending SIGKILL' \
    'exited with status 137' 'starting .*stalled (run 2)'; do
    grep -q "$want" "$d/stalled.log" ||
        { echo "stalled service: no '$want' in the log" >&2; cat "$d/stalled.log" >&2; exit 1; }
done

bash "$src/deploy/stack.sh" __supervise --dir "$d" healthy "$d/healthy" >"$d/healthy.log" 2>&1 &
sup=$!
sleep 5   # five checks
kill -TERM "$sup"
wait "$sup" || true
sup=0
if grep -q 'stalled\|(run 2)' "$d/healthy.log"; then
    echo "healthy service stopped or restarted:" >&2
    cat "$d/healthy.log" >&2
    exit 1
fi
grep -q 'stopped healthy' "$d/healthy.log" ||
    { echo "healthy service: no clean stop" >&2; cat "$d/healthy.log" >&2; exit 1; }
echo "liveness ok: a stalled service stopped (SIGTERM, then SIGKILL) and restarted; a healthy one left running"
