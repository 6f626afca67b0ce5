#!/usr/bin/env bash
# A stage stuck on a database that keeps the connection open and never
# answers is stopped and restarted by the stack's supervisor, and the
# upload it was holding is stored once.
#
# The gap this closes: libpq waits for an answer as long as the socket
# stays open, and a frozen backend (here SIGSTOP; in life a hung disk or a
# stuck lock manager) keeps it open -- keepalives are answered by the
# kernel, and the server's statement_timeout never fires in a stopped
# process.  The stage's main loop stops beating, its GET /health answers
# 503 stalled after metrics.stall.ms, and deploy/stack.sh's liveness check
# stops it (SIGTERM, then SIGKILL: a loop stuck in a call never sees its
# stop flag).
#
#  1. validate runs under the real supervisor (`stack.sh __supervise`) with
#     metrics.stall.ms=3000 and the liveness check every second; commit
#     beside it.  A first upload is stored.
#  2. validate's database backends are frozen and a second upload sent:
#     /health answers stalled, the supervisor kills validate after two
#     such answers and starts it again; the second upload is stored once
#     while the old backends are still frozen.
#  3. After the backends resume, each upload is stored once and nothing
#     was rejected.
#  4. A metrics.stall.ms outside 1000-86400000 is refused at start.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init stall

W=$IT_DIR
pg_port=$(it_pg_port) || exit 1
command -v ss >/dev/null || it_fail "no ss (iproute2) on PATH"
command -v curl >/dev/null || it_fail "no curl on PATH"

ctl creator add staller --generate-key "$W/k.pem" >/dev/null
ctl dataset add stall-ds >/dev/null
up() { # up ID: one small text upload
    printf 'stalled upload %s\n' "$1" >"$W/$1.txt"
    ctl upload --creator staller --dataset stall-ds --key "$W/k.pem" --upload-id "$1" \
        "$W/$1.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed: $(tail -n 3 "$W/upload.log")"
}
stored() { it_sql "SELECT count(*) FROM samples WHERE upload_id = '$1'"; }

# --- 4 first: the bounds ------------------------------------------------------
for bad in 999 86400001 abc; do
    rc=0
    "$IT_BIN/sluice-validate" -X metrics.stall.ms=$bad >"$W/bad.log" 2>&1 || rc=$?
    ((rc != 0)) || it_fail "validate started with metrics.stall.ms=$bad"
    grep -q 'metrics.stall.ms' "$W/bad.log" ||
        it_fail "metrics.stall.ms=$bad refused without naming the key: $(tail -n 3 "$W/bad.log")"
done
it_log "ok: metrics.stall.ms 999, 86400001 and abc refused, naming the key"

# --- 1. validate under the supervisor ------------------------------------------
port=$(it_free_port)
mkdir -p "$W/sup/run" "$W/sbin"
# The binary from a directory without sluice-launch: the supervisor runs it
# as this user, as it_start does, not as the stack's service user (which
# cannot read this test's directory).
ln -s "$IT_BIN/sluice-validate" "$W/sbin/sluice-validate"
{
    printf 'export SLUICE_PG_DSN_VALIDATE=%q\n' "$(it_svc_dsn validate)"
    printf 'export SLUICE_METRICS_VALIDATE=127.0.0.1:%s\n' "$port"
    printf 'export SLUICE_METRICS_STALL_MS=3000\n'
} >"$W/sup/stack.env"
(cd "$W" && SLUICE_LIVENESS_INTERVAL=1 SLUICE_LIVENESS_FAILURES=2 SLUICE_LIVENESS_GRACE=2 \
    exec bash "$IT_SRC/deploy/stack.sh" __supervise --dir "$W/sup" validate \
        "$W/sbin/sluice-validate") >"$W/validate.log" 2>&1 &
IT_PIDS[supervisor]=$!
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"

health() { curl -s --max-time 2 "http://127.0.0.1:$port/health" 2>/dev/null || true; }
vpid() { cat "$W/sup/run/validate.pid" 2>/dev/null || true; }

up first
it_wait_outcomes 1 60
it_eq "first upload stored" "$(stored first)" 1
[[ $(health) == *'"ok"'* ]] || it_fail "validate's /health: '$(health)', want ok"
old=$(vpid)
[[ -n $old ]] || it_fail "no validate pid from the supervisor"

# --- 2. freeze validate's backends ----------------------------------------------
# validate's connections to the database, by their local ports
lports=$(ss -Htnp state established "( dport = :$pg_port )" 2>/dev/null |
    grep -F "pid=$old," | awk '{ n = split($3, a, ":"); print a[n] }' | paste -sd, -)
[[ -n $lports ]] || it_fail "validate (pid $old) has no connection to port $pg_port"
backends=$(psql -XAtq -v ON_ERROR_STOP=1 "$IT_ADMIN_DSN" -c "
    SELECT string_agg(pid::text, ' ') FROM pg_stat_activity
     WHERE datname = '$IT_DB' AND client_port IN ($lports)")
[[ -n $backends ]] || it_fail "no backend for validate's ports $lports"
# shellcheck disable=SC2086  # pids
resume() { [[ -z ${backends:-} ]] || kill -CONT $backends 2>/dev/null || true; }
# the backends resume whatever happens, before the processes are stopped
trap 'st=$?; set +e; resume; (exit "$st"); it_cleanup' EXIT
# shellcheck disable=SC2086  # pids
kill -STOP $backends || it_fail "cannot stop validate's backends $backends (run as root)"
it_log "froze validate's backends $backends (its ports $lports)"

up second
said=""
says_stalled() { said=$(health); [[ $said == *'"stalled"'* ]]; }
it_wait_until 30 says_stalled
[[ $said == *'"stalled"'* ]] || it_fail "validate's /health never said stalled; last: '$said'"
it_log "ok: validate's /health answered $said"

it_wait_eq 1 60 stored second
it_eq "second upload stored, old backends still frozen" "$(stored second)" 1
new=$(vpid)
[[ -n $new && $new != "$old" ]] || it_fail "validate was not restarted (pid $old, now '$new')"
! kill -0 "$old" 2>/dev/null || it_fail "the stalled validate (pid $old) is still running"
grep -q 'answered stalled 2 times in a row' "$W/validate.log" ||
    it_fail "the supervisor's log has no liveness stop: $(grep supervise "$W/validate.log" | tail -n 5)"
grep -q 'sending SIGKILL' "$W/validate.log" ||
    it_fail "the stuck validate was not killed: $(grep supervise "$W/validate.log" | tail -n 5)"
it_log "ok: the supervisor stopped validate $old (SIGTERM, SIGKILL) and started $new"

# --- 3. resumed ------------------------------------------------------------------
resume
backends=""
sleep 2
it_eq "each upload stored once" \
    "$(it_sql "SELECT string_agg(upload_id || '=' || n, ',' ORDER BY upload_id)
                 FROM (SELECT upload_id, count(*) AS n FROM samples GROUP BY upload_id) s")" \
    "first=1,second=1"
it_eq "nothing rejected" "$(it_sql "SELECT count(*) FROM rejections")" 0
it_log "PASS"
