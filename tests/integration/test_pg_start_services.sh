#!/usr/bin/env bash
# The feed, the review dashboard and the ledger, started while their
# database does not answer, wait for it as the stages do
# (test_pg_start.sh; sl_start_retry in common/src/http/health.c).
#
# The attack on the old code: each of them connected once at start and
# exited at once when that failed, so a stack whose services came up
# before PostgreSQL (a reboot, a failover) lost its dashboard, its feed
# and its payouts until a supervisor restarted them.
#  1. All three start with a database address nothing listens on yet.
#     Each stays up (/health 200), not ready (/ready 503
#     environment_unavailable), and retries with backoff; then the address
#     starts answering (a relay to the real server) and each serves
#     without a restart: the feed and the dashboard listen, the ledger
#     reports ready.
#  2. With nothing ever answering, each gives up after retry.budget.ms
#     with status 1, naming the budget.
#  3. A conninfo libpq cannot parse is a configuration error: status 2 at
#     once, without retrying.
#  4. SIGTERM while waiting stops each at once, status 0.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$IT_SRC/tests/integration/metrics_lib.sh"
it_init pgstartsvc

W=$IT_DIR
SVCS=(feed review ledger)
late=$(it_free_port)

# Each service's own options: any free port, its key file (as its own OS
# user it gets the key as a descriptor, lib.sh).
opts() {
    case $1 in
    feed)
        printf '%s\n' -X feed.port=0
        [[ ${IT_SERVICE_USERS:-0} == 1 ]] || printf '%s\n' -X "feed.url.key.file=$W/feed-url.key"
        ;;
    review)
        printf '%s\n' -X review.port=0 -X review.relay.enabled=false
        [[ ${IT_SERVICE_USERS:-0} == 1 ]] || printf '%s\n' -X "audit.key.file=$W/review-audit.key"
        ;;
    ledger) printf '%s\n' -X ledger.poll.ms=500 ;;
    esac
}

# --- 1. the database answers late -----------------------------------------
for svc in "${SVCS[@]}"; do
    mapfile -t o < <(opts "$svc")
    IT_DSN_EXTRA="port=$late" it_start "$svc" "${o[@]}" -X metrics.listen=127.0.0.1:0 \
        -X retry.budget.ms=120000
done
declare -A MP=()
for svc in "${SVCS[@]}"; do MP[$svc]=$(mt_port "$svc"); done
all_retrying() {
    local svc
    n=0
    for svc in "${SVCS[@]}"; do
        (($(grep -c 'cannot start yet' "$W/$svc.log") >= 3)) && n=$((n + 1))
    done
    ((n == ${#SVCS[@]}))
}
it_wait_until 10 all_retrying
it_eq "services retrying their start" "$n" "${#SVCS[@]}"
for svc in "${SVCS[@]}"; do
    kill -0 "${IT_PIDS[$svc]}" 2>/dev/null || it_fail "$svc exited while the database did not answer"
    grep -q 'retrying in [0-9]* ms' "$W/$svc.log" || it_fail "$svc: no retry delay logged"
    grep -q 'listening on' "$W/$svc.log" && it_fail "$svc listens without its database"
    it_eq "$svc /health while waiting" "$(mt_get "${MP[$svc]}" /health | cut -d' ' -f1)" 200
    it_eq "$svc /ready while waiting" "$(mt_get "${MP[$svc]}" /ready)" \
        '503 {"ready":false,"reason":"environment_unavailable"}'
done

it_pg_relay "$late"
all_ready() {
    local svc
    n=0
    for svc in "${SVCS[@]}"; do
        [[ $(mt_get "${MP[$svc]}" /ready | cut -d' ' -f1) == 200 ]] && n=$((n + 1))
    done
    ((n == ${#SVCS[@]}))
}
it_wait_until 30 all_ready
it_eq "services ready once the database answered" "$n" "${#SVCS[@]}"
for svc in "${SVCS[@]}"; do
    grep -q 'started after' "$W/$svc.log" || it_fail "$svc: no 'started after' in its log"
    kill -0 "${IT_PIDS[$svc]}" 2>/dev/null || it_fail "$svc is not running"
done
for page in feed:/health review:/login; do
    svc=${page%%:*}
    url=$(it_log_value "$W/$svc.log" 's|.*listening on \(http://[0-9.]*:[0-9]*\)/.*|\1|p') ||
        it_fail "$svc logged no address"
    it_eq "$svc answers ${page#*:}" "$(curl -s -o /dev/null -w '%{http_code}' "$url${page#*:}")" 200
done
for svc in "${SVCS[@]}" forward; do it_kill "$svc"; done

# Runs one of them directly on conninfo DSN with its options and ARGS;
# output to $W/TAG.log.  The service replaces the shell the function runs
# in when it is started with & (its pid is then $!, for signals).
run_direct() {
    local svc=$1 tag=$2 dsn=$3 o=(); shift 3
    case $svc in
    feed) o=(-X feed.port=0 -X "feed.url.key.file=$W/d-feed-url.key") ;;
    review) o=(-X review.port=0 -X review.relay.enabled=false -X "audit.key.file=$W/d-review-audit.key") ;;
    esac
    SLUICE_PG_DSN=$dsn exec "$IT_BIN/sluice-$svc" "${o[@]}" "$@" >"$W/$tag.log" 2>&1
}

# --- 2. it never answers: the budget ----------------------------------------
never=$(it_free_port)
declare -A P=()
t0=$(date +%s%N)
for svc in "${SVCS[@]}"; do
    run_direct "$svc" "budget-$svc" "$(it_svc_dsn "$svc") port=$never" -X retry.budget.ms=1500 &
    P[$svc]=$!
done
for svc in "${SVCS[@]}"; do
    rc=0
    wait "${P[$svc]}" || rc=$?
    it_eq "$svc never answered: exit status" "$rc" 1
    grep -q 'retry.budget.ms): exiting' "$W/budget-$svc.log" ||
        it_fail "$svc: no budget message: $(tail -2 "$W/budget-$svc.log")"
    grep -q 'cannot start yet' "$W/budget-$svc.log" || it_fail "$svc did not retry"
done
ms=$((($(date +%s%N) - t0) / 1000000))
((ms >= 1500)) || it_fail "gave up after ${ms} ms, before the budget"
it_log "all three gave up after ${ms} ms"

# --- 3. a conninfo that cannot parse ----------------------------------------
for svc in "${SVCS[@]}"; do
    rc=0
    (run_direct "$svc" "bad-$svc" "host=127.0.0.1 port") || rc=$?
    it_eq "$svc unparsable conninfo: exit status" "$rc" 2
    grep -q 'pg.dsn is not a valid PostgreSQL conninfo' "$W/bad-$svc.log" ||
        it_fail "$svc: no conninfo message: $(tail -2 "$W/bad-$svc.log")"
    grep -q 'cannot start yet' "$W/bad-$svc.log" && it_fail "$svc retried an unparsable conninfo"
done

# --- 4. stopped while waiting -----------------------------------------------
for svc in "${SVCS[@]}"; do
    run_direct "$svc" "stop-$svc" "$(it_svc_dsn "$svc") port=$never" -X retry.budget.ms=600000 &
    P[$svc]=$!
done
for svc in "${SVCS[@]}"; do
    it_wait_log "$W/stop-$svc.log" 'cannot start yet' 10
    grep -q 'cannot start yet' "$W/stop-$svc.log" || it_fail "$svc did not wait: $(tail -2 "$W/stop-$svc.log")"
done
t0=$(date +%s%N)
for svc in "${SVCS[@]}"; do kill -TERM "${P[$svc]}"; done
for svc in "${SVCS[@]}"; do
    rc=0
    wait "${P[$svc]}" || rc=$?
    it_eq "$svc SIGTERM while waiting: exit status" "$rc" 0
done
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 10000)) || it_fail "took ${ms} ms to stop, their budget 600 s"
for f in "$W"/*.log; do
    ! grep -Eq 'Sanitizer|runtime error' "$f" || it_fail "sanitizer report in $f"
done
it_log "PASS"
