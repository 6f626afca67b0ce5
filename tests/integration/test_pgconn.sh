#!/usr/bin/env bash
# Every stage's PostgreSQL connection (sl_pgconn) comes back by itself.
# The whole chain runs and accepts an upload; then the server terminates
# every session of the test database (what a failover or an operator's
# pg_terminate_backend does).  The attack on the old code path: each stage
# had its own reconnect, and scan's had no session settings.  Each stage
# must notice on its next statement, drop the connection, report "retry",
# and reconnect with its settings and prepared statements: a second upload
# (a new creator and a new dataset, so validate, scan and license all miss
# their caches and ask the database) is accepted within seconds, and every
# upload has exactly one outcome.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init pgconn

W=$IT_DIR
ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
ctl creator add bob --generate-key "$W/bob.pem" >/dev/null
ctl dataset add ds1 >/dev/null
ctl dataset add ds2 >/dev/null

for svc in validate scan license commit; do it_start "$svc"; done
up() { # up ID CREATOR DATASET TEXT
    printf '%s\n' "$4" >"$W/$1.txt"
    ctl upload --creator "$2" --dataset "$3" --key "$W/$2.pem" --upload-id "$1" \
        "$W/$1.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}
up first alice ds1 "before the sessions are terminated"
it_wait_outcomes 1 60
it_eq "first upload" "$(it_sql "SELECT upload_id FROM samples")" "first"

# The stages' sessions, one per stage (by role when each has its own).
sessions() {
    psql -XAtq -v ON_ERROR_STOP=1 "$IT_ADMIN_DSN" -c "
        SELECT $1 FROM pg_stat_activity
         WHERE datname = '$IT_DB' AND backend_type = 'client backend'
           AND pid <> pg_backend_pid() AND application_name <> 'psql'"
}
it_eq "sessions before" "$(sessions 'count(*)')" 4
if [[ -n ${SLUICE_PG_DSN_SCAN:-} ]]; then
    it_eq "their roles" "$(sessions "string_agg(usename::text, ',' ORDER BY usename)")" \
        "sluice_commit,sluice_license,sluice_scan,sluice_validate"
fi
declare -A before=()
for svc in validate scan license commit; do before[$svc]=$(wc -l <"$W/$svc.log"); done
it_eq "terminated" "$(sessions 'count(*) FILTER (WHERE pg_terminate_backend(pid))')" 4

t0=$(date +%s%N)
up second bob ds2 "after the sessions were terminated"
it_wait_outcomes 2 30
ms=$((($(date +%s%N) - t0) / 1000000))
it_log "second upload stored ${ms} ms after the sessions were terminated"
((ms < 15000)) || it_fail "the chain took ${ms} ms to come back"

it_eq "outcomes" "$(it_sql "SELECT string_agg(upload_id, ',' ORDER BY upload_id) FROM samples")" \
    "first,second"
it_eq "rejections" "$(it_sql "SELECT count(*) FROM rejections")" 0
it_eq "review items" "$(it_sql "SELECT count(*) FROM review_items")" 0
# Every stage met the terminated session and came back on a new one.
for svc in validate scan license commit; do
    tail -n "+$((before[$svc] + 1))" "$W/$svc.log" >"$W/$svc.after"
    grep -q "terminating connection due to administrator command\|server closed the connection" \
        "$W/$svc.after" || it_fail "$svc: no sign of the terminated session in its log"
    it_log "ok: $svc saw its session end: $(grep -m1 "administrator command\|server closed" "$W/$svc.after" | cut -c1-160)"
done
it_eq "sessions after" "$(sessions 'count(*)')" 4
it_log "pgconn: every stage reconnected"
