#!/usr/bin/env bash
# A stage started while its database does not answer waits for it.
#
# The attack on the old code: each stage connected once in its init and,
# when that failed, exited at once with status 2, the code of a
# configuration error, so a stack whose stages came up before PostgreSQL
# (a reboot, a failover) stopped or crash-looped instead of waiting.
#  1. All four stages start with a database address nothing listens on
#     yet; an upload is sent.  Each stays up, says it cannot start yet and
#     retries, with backoff; then the address starts answering (a relay to
#     the real server) and the upload is stored without a restart.
#  2. With nothing ever answering, a stage gives up after retry.budget.ms
#     with status 1 (the environment), naming the budget.
#  3. A conninfo libpq cannot parse is a configuration error: status 2 at
#     once, naming pg.dsn.
#  4. SIGTERM while waiting stops the stage at once, status 0.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init pgstart

W=$IT_DIR
ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
ctl dataset add ds1 >/dev/null

late=$(it_free_port)

# --- 1. the database answers late -----------------------------------------
for svc in validate scan license commit; do
    IT_DSN_EXTRA="port=$late" it_start "$svc" -X retry.budget.ms=120000
done
printf 'written before the database answered\n' >"$W/a.txt"
ctl upload --creator alice --dataset ds1 --key "$W/alice.pem" --upload-id early \
    "$W/a.txt" >/dev/null || it_fail "upload failed"

# Each stage retries (at least three attempts: 200 + 400 ms of backoff).
all_retrying() {
    local svc
    n=0
    for svc in validate scan license commit; do
        (($(grep -c 'cannot start yet' "$W/$svc.log") >= 3)) && n=$((n + 1))
    done
    ((n == 4))
}
it_wait_until 10 all_retrying
it_eq "stages retrying their start" "$n" 4
for svc in validate scan license commit; do
    kill -0 "${IT_PIDS[$svc]}" 2>/dev/null || it_fail "$svc exited while the database did not answer"
    grep -q 'retrying in [0-9]* ms' "$W/$svc.log" || it_fail "$svc: no retry delay logged"
done
it_eq "outcomes while the database does not answer" \
    "$(it_sql "SELECT count(*) FROM samples")" 0

it_pg_relay "$late"
it_wait_outcomes 1 60
it_eq "stored once the database answered" "$(it_sql "SELECT upload_id FROM samples")" early
for svc in validate scan license commit; do
    grep -q 'started after' "$W/$svc.log" || it_fail "$svc: no 'started after' in its log"
    kill -0 "${IT_PIDS[$svc]}" 2>/dev/null || it_fail "$svc is not running"
done
for svc in validate scan license commit forward; do it_kill "$svc"; done

# --- 2. it never answers: the budget ----------------------------------------
never=$(it_free_port)
t0=$(date +%s%N)
rc=0
SLUICE_PG_DSN="$(it_svc_dsn scan) port=$never" "$IT_BIN/sluice-scan" -X retry.budget.ms=1500 \
    >"$W/budget.log" 2>&1 || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
it_eq "never answered: exit status" "$rc" 1
grep -q 'retry.budget.ms): exiting' "$W/budget.log" || it_fail "no budget message: $(tail -2 "$W/budget.log")"
((ms >= 1500)) || it_fail "gave up after ${ms} ms, before its budget"
it_log "gave up after ${ms} ms"

# --- 3. a conninfo that cannot parse ----------------------------------------
rc=0
SLUICE_PG_DSN="host=127.0.0.1 port" "$IT_BIN/sluice-scan" >"$W/bad.log" 2>&1 || rc=$?
it_eq "unparsable conninfo: exit status" "$rc" 2
grep -q 'pg.dsn is not a valid PostgreSQL conninfo' "$W/bad.log" || it_fail "no conninfo message: $(tail -2 "$W/bad.log")"
grep -q 'cannot start yet' "$W/bad.log" && it_fail "retried an unparsable conninfo"

# --- 4. stopped while waiting -----------------------------------------------
SLUICE_PG_DSN="$(it_svc_dsn commit) port=$never" "$IT_BIN/sluice-commit" -X retry.budget.ms=600000 \
    >"$W/stop.log" 2>&1 &
pid=$!
it_wait_log "$W/stop.log" 'cannot start yet' 10
grep -q 'cannot start yet' "$W/stop.log" || it_fail "commit did not wait: $(tail -2 "$W/stop.log")"
t0=$(date +%s%N)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
it_eq "SIGTERM while waiting: exit status" "$rc" 0
((ms < 10000)) || it_fail "took ${ms} ms to stop, its budget 600 s"
it_log "PASS"
