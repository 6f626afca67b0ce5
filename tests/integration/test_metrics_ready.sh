#!/usr/bin/env bash
# /ready follows the broker and the database (issue #15): on a stack of
# its own (it stops that stack's broker and database, never the shared
# ones), validate reports ready, turns 503 broker_down within seconds of
# the broker stopping, and ready again once it is back (restarted as a
# supervisor would, if the broker's return fenced it); commit turns 503
# environment_unavailable while the database is stopped, ready after; an
# upload sent then is accepted.  The stage's
# metrics address is the one deploy/stack.sh assigned in stack.env.
set -euo pipefail
IT_SRC=${SLUICE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MT_STACK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it-ready-stack.XXXXXX")
bash "$IT_SRC/deploy/stack.sh" start --dir "$MT_STACK" --infra-only >"$MT_STACK.start.log" 2>&1 ||
    { tail -n 30 "$MT_STACK.start.log" >&2; echo "FAIL: stack did not start" >&2; exit 1; }
# This stack's broker, database and credentials, not the shared ones.
. "$MT_STACK/stack.env"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/metrics_lib.sh"
IT_PARTITIONS=1 it_init metrics_ready
mt_cleanup() {
    local rc=$? svc
    for svc in "${!IT_PIDS[@]}"; do it_kill "$svc" TERM; done
    bash "$IT_SRC/deploy/stack.sh" stop --dir "$MT_STACK" >>"$MT_STACK.start.log" 2>&1 || true
    if ((rc == 0)) && [[ -z ${IT_FAILED:-} ]]; then
        rm -rf "$MT_STACK" "$MT_STACK.start.log" "$IT_DIR"
    else
        it_log "kept $MT_STACK and $IT_DIR for inspection"
    fi
    exit "$rc"
}
trap mt_cleanup EXIT

[[ -n ${SLUICE_METRICS_VALIDATE:-} ]] || it_fail "stack.env has no SLUICE_METRICS_VALIDATE"
it_eq "stack.env metrics address" "${SLUICE_METRICS_VALIDATE%:*}" 127.0.0.1
PORT=${SLUICE_METRICS_VALIDATE##*:}

ctl creator add alice --generate-key "$IT_DIR/alice.pem" >/dev/null
ctl dataset add open-ds >/dev/null
# Each stage's arguments, so that mt_revive can start it again as the
# stack's supervisor would.
declare -A MT_ARGS=(
    [validate]="-X metrics.listen=$SLUICE_METRICS_VALIDATE"
    [commit]="${IT_COMMIT_AFTER_VALIDATE[*]} -X metrics.listen=$SLUICE_METRICS_COMMIT"
)
# mt_revive SVC...: start again each SVC that has exited.  Back on a
# restarted broker, librdkafka may find a static member fenced by its own
# rejoin (a session that timed out while the broker was away); the stage
# then exits non-zero, by design, and its supervisor restarts it.  That
# can happen seconds after the stage reported ready again.
mt_revive() {
    local svc
    for svc in "$@"; do
        [[ -n ${IT_PIDS[$svc]:-} ]] && kill -0 "${IT_PIDS[$svc]}" 2>/dev/null && continue
        it_log "$svc exited after the broker came back: restarting it"
        unset "IT_PIDS[$svc]"
        # shellcheck disable=SC2086 # the stored arguments are words
        it_start "$svc" ${MT_ARGS[$svc]}
    done
}
it_start validate ${MT_ARGS[validate]}
it_start commit ${MT_ARGS[commit]}
CPORT=${SLUICE_METRICS_COMMIT##*:}

mt_wait_ready '200 {"ready":true}' 60

kpid=$(cat "$MT_STACK/run/kafka.pid")
kill -TERM "$kpid"
it_wait_gone "$kpid" 30
kill -0 "$kpid" 2>/dev/null && it_fail "the broker (pid $kpid) did not stop"
it_log "broker stopped"
mt_wait_ready '503 {"ready":false,"reason":"broker_down"}' 30
it_eq "/health while the broker is down" "$(mt_get "$PORT" /health)" '200 {"status":"ok"}'

bash "$IT_SRC/deploy/stack.sh" start --dir "$MT_STACK" --infra-only >>"$MT_STACK.start.log" 2>&1 ||
    it_fail "the stack did not restart"
it_log "broker restarted"
# While a fenced stage is down, /ready does not answer 200 either.
ready_or_revive() {
    [[ $(mt_get "$PORT" /ready) == '200 {"ready":true}' ]] && return 0
    mt_revive validate
    return 1
}
it_wait_until 60 ready_or_revive
mt_wait_ready '200 {"ready":true}' 30
# A session that timed out around the broker's return is fenced, if at
# all, when its rejoin is answered (8 s after the return, the one time
# a log here showed it).  For 25 s after it, restart whichever stage exits;
# then both must be ready.
for ((i = 0; i < 100; i++)); do
    mt_revive validate commit
    sleep 0.25
done
mt_wait_ready '200 {"ready":true}' 60

# The database: commit, idle, checks it every 5 s and turns not ready
# while it is gone (validate, idle, finds out at its next message).
mt_wait_ready '200 {"ready":true}' 60 "$CPORT"
pgpid=$(head -n 1 "$MT_STACK/pg/data/postmaster.pid")
kill -INT "$pgpid"             # pg_ctl stop -m fast
it_wait_gone "$pgpid" 30
kill -0 "$pgpid" 2>/dev/null && it_fail "PostgreSQL (pid $pgpid) did not stop"
it_log "database stopped"
mt_wait_ready '503 {"ready":false,"reason":"environment_unavailable"}' 30 "$CPORT"
# A rebalance during the outage: commit paused past its session timeout
# (10 s) loses its assignment and, rejoining, must read its offsets from
# the database before it can take its partition again.  It keeps retrying
# that, alive and reporting the database, not the empty assignment it has
# meanwhile (the old code said no_partitions and its loop stopped beating).
kill -STOP "${IT_PIDS[commit]}"
sleep 12
kill -CONT "${IT_PIDS[commit]}"
it_log "commit paused for 12 s"
lost=$(grep -c 'assignment lost' "$IT_DIR/commit.log" || true)
# the offset loads logged from the first lost assignment on
loads_after_loss() { sed -n '/assignment lost/,$p' "$IT_DIR/commit.log" | grep -c 'loading stored offsets'; }
it_wait_at_least 2 30 loads_after_loss
(($(loads_after_loss) >= 2)) ||
    it_fail "commit did not rejoin and retry its offsets (assignment lost $lost times)"
for ((i = 0; i < 20; i++)); do
    it_eq "/ready of commit rejoining, ${i} s" "$(mt_get "$CPORT" /ready)" \
        '503 {"ready":false,"reason":"environment_unavailable"}'
    sleep 1
done
it_eq "/health of commit rejoining" "$(mt_get "$CPORT" /health)" '200 {"status":"ok"}'
bash "$IT_SRC/deploy/stack.sh" start --dir "$MT_STACK" --infra-only >>"$MT_STACK.start.log" 2>&1 ||
    it_fail "the stack did not restart"
it_log "database restarted"
mt_wait_ready '200 {"ready":true}' 60 "$CPORT"

# Still alive, after the settling above (as a supervisor would, should a
# stage have exited since).
mt_revive validate commit
mt_wait_ready '200 {"ready":true}' 60
mt_wait_ready '200 {"ready":true}' 60 "$CPORT"

printf 'after the outage\n' >"$IT_DIR/after.txt"
ctl upload --creator alice --dataset open-ds --key "$IT_DIR/alice.pem" --upload-id after \
    "$IT_DIR/after.txt" >/dev/null || it_fail "upload after the outage failed"
it_wait_outcomes 1 60
it_eq "upload after the outage" "$(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'after'")" 1
# validate met the outage at that upload's claim and retried it; readiness
# is re-evaluated once a second, so the upload can be stored before
# validate reports ready again.
mt_wait_ready '200 {"ready":true}' 30
mt_fetch validate "$PORT"
mt_parse validate
it_eq "validate ready gauge" "$(mt_val validate 'sluice_ready{}')" 1
it_log "PASS"
