#!/usr/bin/env bash
# A stage's statement stalled in the database is cancelled and retried
# (pg.statement.timeout.ms) instead of holding its batch.
#
# The attack on the old code: a statement waiting on a lock (an operator's
# open transaction, a migration taking an exclusive lock) waited as long as
# the lock was held, with the stage's Kafka transaction open under it: past
# 60 s the broker aborted that transaction and the stage's next commit
# failed.  Now each stage session has statement_timeout (30 s by default,
# refused at start unless below kafka.transaction.timeout.ms): the
# statement is cancelled (57014), the batch aborted and retried as an
# outage, and the upload goes through once the lock is released.
#  1. validate with pg.statement.timeout.ms=1500; the creators table locked
#     for 6 s while a new creator's upload arrives: validate logs the
#     cancelled statement, retries, stays up; the upload is stored once.
#  2. A statement timeout not below the transaction timeout is refused at
#     start (status 2).
#  3. The feed (the dashboard and the ledger declare the same key): a page
#     asked while samples is locked answers 503 unavailable after the
#     timeout instead of holding the request, and 200 once it is released.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
it_init pg_stmt_timeout

W=$IT_DIR
ctl dataset add ds1 >/dev/null
ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
up() { # up ID CREATOR
    printf 'upload %s\n' "$1" >"$W/$1.txt"
    ctl upload --creator "$2" --dataset ds1 --key "$W/$2.pem" --upload-id "$1" \
        "$W/$1.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}

# locked TABLE: 1 while an exclusive lock on TABLE is held, else 0.
locked() {
    it_sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
            WHERE c.relname = '$1' AND l.mode = 'AccessExclusiveLock' AND l.granted"
}

# lock_for TABLE SECONDS LOG: holds an exclusive lock on TABLE in the
# background ($locker) and returns once it is granted.
lock_for() {
    psql -XAtq -v ON_ERROR_STOP=1 "$IT_OWNER_DSN" \
        -c "BEGIN; LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($2); COMMIT;" \
        >"$3" 2>&1 &
    locker=$!
    it_wait_eq 1 5 locked "$1"
    [[ $(locked "$1") == 1 ]] || it_fail "no lock on $1: $(cat "$3")"
}

# --- 1. a statement waiting on a lock ---------------------------------------
it_start validate -X pg.statement.timeout.ms=1500
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"
up first alice
it_wait_outcomes 1 60
# A creator validate has not looked up yet: its upload must ask the table.
ctl creator add bob --generate-key "$W/bob.pem" >/dev/null
lock_for creators 6 "$W/lock.log"
t0=$(date +%s%N)
up second bob
wait "$locker" || it_fail "the lock holder failed: $(cat "$W/lock.log")"
it_wait_outcomes 2 60
ms=$((($(date +%s%N) - t0) / 1000000))
it_log "stored ${ms} ms after it was sent, the lock held 6 s"
grep -q 'canceling statement due to statement timeout' "$W/validate.log" ||
    it_fail "validate logged no cancelled statement: $(tail -3 "$W/validate.log")"
kill -0 "${IT_PIDS[validate]}" 2>/dev/null || it_fail "validate exited"
it_eq "second: one outcome" "$(it_sql "SELECT string_agg(u, ',') FROM (
         SELECT 'sample' AS u FROM samples WHERE upload_id = 'second'
         UNION ALL SELECT 'rejection' FROM rejections WHERE upload_id = 'second') x")" sample
it_kill validate
it_kill commit

# --- 2. not below the transaction timeout -------------------------------------
rc=0
"$IT_BIN/sluice-validate" -X pg.statement.timeout.ms=60000 >"$W/bad.log" 2>&1 || rc=$?
it_eq "statement timeout of 60 s (the transaction's): exit status" "$rc" 2
grep -q 'pg.statement.timeout.ms (60000) must be shorter' "$W/bad.log" ||
    it_fail "no message: $(tail -2 "$W/bad.log")"
# Out of PostgreSQL's range: a configuration error at once, never an outage
# waited out (SET statement_timeout would fail on every connection).  (A
# stage's 2147483648 is refused first as longer than its transaction.)
for case in validate:-1 feed:-1 feed:2147483648 ledger:-1 ledger:2147483648 \
    review:-1 review:2147483648; do
    svc=${case%%:*} v=${case#*:} o=()
    case $svc in
    feed) o=(-X feed.port=0 -X "feed.url.key.file=$W/range-feed-url.key") ;;
    review) o=(-X review.port=0 -X review.relay.enabled=false -X "audit.key.file=$W/range-review.key") ;;
    esac
    rc=0
    timeout 60 "$IT_BIN/sluice-$svc" -X "pg.statement.timeout.ms=$v" "${o[@]}" \
        >"$W/range.log" 2>&1 || rc=$?
    it_eq "$svc, statement timeout $v: exit status" "$rc" 2
    grep -q 'pg.statement.timeout.ms must be 0 (none) to 2147483647 ms' "$W/range.log" ||
        it_fail "$svc: no range message: $(tail -2 "$W/range.log")"
    grep -q 'cannot start yet' "$W/range.log" && it_fail "$svc waited out a configuration error"
done

# --- 3. the feed ----------------------------------------------------------------
fd_consumer acme
fd_grant acme ds1
TOK=$(fd_token acme)
fd_start -X pg.statement.timeout.ms=1000
it_eq "a page before the lock" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?limit=10")" 200
lock_for samples 5 "$W/lock2.log"
t0=$(date +%s%N)
it_eq "a page while samples is locked" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?limit=10")" 503
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q '"unavailable"' "$IT_DIR/body" || it_fail "503 without its code: $(cat "$IT_DIR/body")"
((ms < 4000)) || it_fail "the page took ${ms} ms, the lock 5 s, the timeout 1 s"
it_log "503 after ${ms} ms"
wait "$locker" || it_fail "the lock holder failed: $(cat "$W/lock2.log")"
it_eq "a page after the lock" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?limit=10")" 200
fd_done
it_log "PASS"
