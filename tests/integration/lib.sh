# shellcheck shell=bash
# Helpers for the integration tests (tests/integration/test_*.sh).
#
# Each test runs against the real broker and database of the stack that
# deploy/test.sh started (SLUICE_KAFKA_BROKERS, SLUICE_PG_DSN), but in a
# world of its own: a fresh PostgreSQL database and a topic/group prefix
# unique to the test, and its own service processes.  Tests therefore run in
# parallel without seeing each other, and never touch a developer's stack.
#
#   it_init NAME        create the database and topics, export the env
#   it_start SVC [ARG]  start build/bin/sluice-SVC in the background
#   it_kill SVC [SIG]   signal it (default TERM) and wait for it
#   it_sql SQL          run a query in the test database, unaligned output
#
# Roles: with a stack that has them (its stack.env exports
# SLUICE_PG_DSN_ADMIN, _OWNER and one per service), the test database is
# created by the superuser and owned by sluice_owner, `db migrate` runs as
# sluice_owner (grants included), SLUICE_PG_DSN is the operators' role
# (sluicectl), it_start runs each service as its own role, and it_sql runs
# as the owner.  Without them every step uses SLUICE_PG_DSN, as before.
# Kafka likewise: with SLUICE_KAFKA_ADMIN_PROPERTIES set, it_init creates the
# ACLs of deploy/kafka-acls.conf for the test's prefix, it_start runs each
# service as its own Kafka user (SLUICE_CONFIG_<SVC>), and the test body's
# sluicectl and kcat act as the cluster admin (SLUICE_CONFIG_ADMIN,
# SLUICE_KCAT_CONFIG_ADMIN), as it_sql acts as the schema owner.
# IT_SERVICE_USERS=1 (set before it_start; root only) runs each service as
# its operating-system user sluice-SVC, as the stack's supervisor does; it
# then reads no file of the test's 0700 directory, so it is not the default.
#   it_outcome ID       what became of upload ID (accepted, review:STATE, STAGE:CODE)
#   it_wait_outcomes N [SECS]  wait until samples + rejections + review items reach N
#   it_wait_until SECS CMD...  poll until CMD succeeds (it_wait_eq, _at_least,
#                       _gone, _log and _log_value are its common cases)
#   it_log_value FILE SED      the last value SED finds in FILE (a port, a URL)
#   it_fail MSG         print MSG and the service logs, exit 1
#   it_eq WHAT GOT WANT assert equality
#   it_has WHAT TEXT NEEDLE    assert TEXT contains NEEDLE
#   it_rc CMD...        run CMD that may fail: status in RC, output in OUT
set -euo pipefail

: "${SLUICE_KAFKA_BROKERS:?run under deploy/test.sh (or source a stack.env)}"
: "${SLUICE_PG_DSN:?run under deploy/test.sh (or source a stack.env)}"
IT_SRC=${SLUICE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
IT_BIN=${SLUICE_BIN_DIR:-$IT_SRC/build/bin}
IT_BASE_DSN=$SLUICE_PG_DSN
IT_ADMIN_DSN=${SLUICE_PG_DSN_ADMIN:-$SLUICE_PG_DSN}
IT_OWNER_BASE_DSN=${SLUICE_PG_DSN_OWNER:-$SLUICE_PG_DSN}
declare -A IT_PIDS=()
# For tests of the foundation alone (validate -> commit): commit's inputs
# without the scan and license stages in between.
IT_COMMIT_AFTER_VALIDATE=(-X input.topics=sluice.validated,sluice.rejected)

it_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
# ctl ARGS...: the sluicectl under test (as the cluster admin the
# environment names, like every sluicectl the tests run).
ctl() { "$IT_BIN/sluicectl" "$@"; }

it_init() {
    local name=$1
    IT_NAME=$name
    IT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it-$name.XXXXXX")
    IT_DB="it_${name//[^a-z0-9]/_}_$$"
    IT_PREFIX="it-$name-$$-"
    export SLUICE_TOPIC_PREFIX=$IT_PREFIX
    export SLUICE_PG_DSN="$IT_BASE_DSN dbname=$IT_DB"
    # Each test seals HMAC secrets under a key of its own (secrets.key in
    # the directory sluicectl and the services run in), not the stack's.
    unset SLUICE_SECRETS_KEY_FILE SLUICE_AUDIT_KEY_FILE SLUICE_AUDIT_OPERATOR_KEY_FILE \
        SLUICE_REVIEW_AUDIT_KEY_FILE
    IT_OWNER_DSN="$IT_OWNER_BASE_DSN dbname=$IT_DB"
    local owner=""
    [[ -z ${SLUICE_PG_DSN_OWNER:-} ]] || owner=" OWNER sluice_owner"
    trap it_cleanup EXIT
    psql -XAtq -v ON_ERROR_STOP=1 "$IT_ADMIN_DSN" \
        -c "CREATE DATABASE \"$IT_DB\"$owner" >/dev/null
    SLUICE_PG_DSN=$IT_OWNER_DSN "$IT_BIN/sluicectl" db migrate >/dev/null
    if [[ -n ${SLUICE_KAFKA_ADMIN_PROPERTIES:-} ]]; then
        export SLUICE_CONFIG=$SLUICE_CONFIG_ADMIN KCAT_CONFIG=$SLUICE_KCAT_CONFIG_ADMIN
        bash "$IT_SRC/deploy/kafka-acls.sh" add "$IT_PREFIX" >/dev/null
    fi
    "$IT_BIN/sluicectl" topics create --partitions "${IT_PARTITIONS:-3}" >/dev/null
    it_log "test $name: database $IT_DB, topic prefix $IT_PREFIX, dir $IT_DIR"
}

# The service's own role (SLUICE_PG_DSN_<SVC>) in the test database.
it_svc_dsn() {
    local var=SLUICE_PG_DSN_${1^^}
    if [[ -n ${!var:-} ]]; then
        printf '%s dbname=%s\n' "${!var}" "$IT_DB"
    else
        printf '%s\n' "$SLUICE_PG_DSN"
    fi
}

it_start() {
    local svc=$1 dsn; shift
    local conf=SLUICE_CONFIG_${svc^^} pass
    # IT_DSN_EXTRA: conninfo appended (a later keyword wins: "port=N")
    dsn="$(it_svc_dsn "$svc")${IT_DSN_EXTRA:+ $IT_DSN_EXTRA}"
    conf=${!conf:-${SLUICE_CONFIG:-}}
    pass=$(sed -n 's/.*passfile=\([^ ]*\).*/\1/p' <<<"$dsn")
    if [[ ${IT_SERVICE_USERS:-0} == 1 ]] && ((EUID == 0)) &&
        [[ -x $IT_BIN/sluice-launch && -f $conf && -f $pass ]] &&
        id "sluice-$svc" >/dev/null 2>&1; then
        # As the stack's supervisor does: as user sluice-SVC, its own
        # secrets handed over as descriptors (services/launch/launch.c);
        # validate's sealed-secrets key too, made first if there is none.
        local skey=/dev/null
        case $svc in
        validate) skey=${SLUICE_SECRETS_KEY_FILE:-secrets.key} ;;
        commit) skey=${SLUICE_AUDIT_KEY_FILE:-commit-audit.key} ;;
        review) skey=review-audit.key ;;
        feed) skey=${IT_DIR}/feed-url.key ;;
        esac
        [[ $skey == /dev/null || -s $skey ]] || (umask 077 && openssl rand -hex 32 >"$skey")
        SLUICE_PG_DSN=${dsn/"passfile=$pass"/passfile=/dev/fd/4} SLUICE_CONFIG=/dev/fd/3 \
            SLUICE_SECRETS_KEY_FILE=/dev/fd/5 SLUICE_AUDIT_KEY_FILE=/dev/fd/5 \
            SLUICE_FEED_URL_KEY_FILE=/dev/fd/5 \
            "$IT_BIN/sluice-launch" "sluice-$svc" "$IT_BIN/sluice-$svc" -X log.level=info "$@" \
            >>"$IT_DIR/$svc.log" 2>&1 3<"$conf" 4<"$pass" 5<"$skey" &
    else
        SLUICE_PG_DSN=$dsn SLUICE_CONFIG=$conf \
            "$IT_BIN/sluice-$svc" -X log.level=info "$@" \
            >>"$IT_DIR/$svc.log" 2>&1 &
    fi
    IT_PIDS[$svc]=$!
}

it_kill() {
    local svc=$1 sig=${2:-TERM} pid=${IT_PIDS[$1]:-}
    [[ -n $pid ]] || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "IT_PIDS[$svc]"
}

it_sql() {
    psql -XAtq -v ON_ERROR_STOP=1 "$IT_OWNER_DSN" -c "$1"
}

it_dump_logs() {
    local f
    for f in "$IT_DIR"/*.log; do
        [[ -f $f ]] || continue
        printf -- '--- %s (last 40 lines)\n' "$f" >&2
        tail -n 40 "$f" >&2
    done
}

it_fail() {
    printf 'FAIL (%s): %s\n' "${IT_NAME:-?}" "$*" >&2
    it_dump_logs
    IT_FAILED=1
    exit 1
}

it_eq() {
    [[ "$2" == "$3" ]] || it_fail "$1: got '$2', want '$3'"
    it_log "ok: $1 = $3"
}

# it_outcomes: samples + rejections + review items.
it_outcomes() {
    it_sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)
                 + (SELECT count(*) FROM review_items)"
}

# it_outcome ID: what became of upload ID, a line each: "accepted",
# "review:STATE" (held for a moderator) or "STAGE:CODE" (rejected); none
# yet: nothing.
it_outcome() {
    it_sql "SELECT 'accepted' FROM samples WHERE upload_id = '$1'
            UNION ALL SELECT 'review:' || state FROM review_items WHERE upload_id = '$1'
            UNION ALL SELECT stage || ':' || code FROM rejections WHERE upload_id = '$1'"
}

# it_wait_outcomes N [SECS]: until it_outcomes >= N; fails the test after SECS.
it_wait_outcomes() {
    local want=$1 secs=${2:-120} got
    it_wait_at_least "$want" "$secs" it_outcomes
    got=$(it_outcomes)
    ((got >= want)) || it_fail "waited ${secs}s for $want outcomes, have $got"
}

# it_rc CMD...: runs CMD, which may fail: its exit status in RC, its
# standard output in OUT, its standard error in $IT_DIR/err.
it_rc() {
    set +e
    OUT=$("$@" 2>"$IT_DIR/err")
    RC=$?
    set -e
}

# it_has WHAT TEXT NEEDLE: TEXT contains NEEDLE, or the test fails.
it_has() {
    [[ $2 == *"$3"* ]] || it_fail "$1: no '$3' in: $2"
    it_log "ok: $1 shows $3"
}

# it_committed TOPIC FORMAT: the committed records on this test's TOPIC
# (named without the prefix), read with kcat in FORMAT (-f; --json: kcat's
# JSON envelope, -J, one object a record, headers as [name, value, ...]);
# kcat's status.
it_committed() {
    local fmt=(-f "$2")
    [[ $2 == --json ]] && fmt=(-J)
    kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}$1" \
        -X isolation.level=read_committed -e -q "${fmt[@]}" 2>/dev/null
}

# The waits: each polls every 0.1 s for at most SECS and returns 0 either
# way, so the caller's own check, run after it, says what is missing.
# CMD runs in this shell: a predicate may set variables for that check.
#
# it_wait_until SECS CMD...: until CMD succeeds.
it_wait_until() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 0
}

# it_wait_at_least N SECS CMD...: until CMD prints a number >= N.
it_prints_at_least() { local n=$1; shift; [[ $("$@") -ge $n ]]; }
it_wait_at_least() { local n=$1 secs=$2; shift 2; it_wait_until "$secs" it_prints_at_least "$n" "$@"; }

# it_wait_eq WANT SECS CMD...: until CMD prints exactly WANT.
it_prints() { local want=$1; shift; [[ $("$@") == "$want" ]]; }
it_wait_eq() { local want=$1 secs=$2; shift 2; it_wait_until "$secs" it_prints "$want" "$@"; }

# it_wait_gone PID SECS: until process PID has exited.
it_gone() { ! kill -0 "$1" 2>/dev/null; }
it_wait_gone() { it_wait_until "$2" it_gone "$1"; }

# it_wait_log FILE PATTERN SECS: until PATTERN is in FILE.
it_wait_log() { it_wait_at_least 1 "$3" grep -c -- "$2" "$1"; }

# it_log_value FILE SED: the last line `sed -n SED` makes of FILE; fails
# while there is none (FILE may not exist yet).
it_log_value() {
    local v
    v=$(sed -n "$2" "$1" 2>/dev/null | tail -n 1) || true
    [[ -n $v ]] && printf '%s\n' "$v"
}

# it_wait_log_value SECS FILE SED: it_log_value once there is one, at most
# SECS; its status.
it_wait_log_value() {
    it_wait_until "$1" it_log_value "$2" "$3" >/dev/null
    it_log_value "$2" "$3"
}

# it_free_port: a loopback TCP port nothing listens on now.
it_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# it_pg_port: the tests' PostgreSQL's TCP port, from its DSN (fails the
# test when the DSN names none).
it_pg_port() {
    local p
    p=$(sed -n 's/.*port=\([^ ]*\).*/\1/p' <<<"$IT_BASE_DSN")
    [[ -n $p ]] || it_fail "no port in '$IT_BASE_DSN'"
    printf '%s\n' "$p"
}

# it_pg_relay PORT: from now on 127.0.0.1:PORT answers as the tests'
# PostgreSQL (tcp_forward.py relays to it; IT_PIDS[forward]); a database
# address that starts answering late.
it_pg_relay() {
    local port=$1 host pgport i
    host=$(sed -n 's/.*host=\([^ ]*\).*/\1/p' <<<"$IT_BASE_DSN")
    [[ -n $host ]] || it_fail "no host in '$IT_BASE_DSN'"
    pgport=$(it_pg_port) || exit 1
    python3 "$IT_SRC/tests/integration/tcp_forward.py" "$port" "$host" "$pgport" \
        >"$IT_DIR/forward.log" 2>&1 &
    IT_PIDS[forward]=$!
    for ((i = 0; i < 100; i++)); do
        grep -q listening "$IT_DIR/forward.log" && return 0
        sleep 0.1
    done
    it_fail "the relay did not listen on $port: $(cat "$IT_DIR/forward.log")"
}

it_cleanup() {
    local rc=$? svc
    for svc in "${!IT_PIDS[@]}"; do
        it_kill "$svc" TERM
    done
    if ((rc != 0)) || [[ -n ${IT_FAILED:-} ]]; then
        it_log "kept $IT_DIR and database $IT_DB for inspection"
    else
        psql -XAtq "$IT_ADMIN_DSN" \
            -c "DROP DATABASE IF EXISTS \"$IT_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
        rm -rf "$IT_DIR"
    fi
    exit "$rc"
}
