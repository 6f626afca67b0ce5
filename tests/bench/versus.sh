#!/usr/bin/env bash
# Benchmark (prints figures, asserts nothing), issue #16: sluice against a
# plain Python consumer (tests/bench/peer/peer.py) on one freshly started
# infra stack, each draining a topic loaded beforehand (no producer
# running while anything is measured):
#   preload     N signed uploads of SIZE bytes into sluice.uploads, N other
#               ones into chain-sluice.uploads (topic prefix "chain-"), and
#               WARMUP into warm-sluice.uploads, by `sluicectl upload`;
#   warm-up     (not measured) the whole chain drains the warm-up topic,
#               in transactions of 100 uploads (bench_warm_opts):
#               the broker's JIT (its CPU in the warm-up is printed),
#               PostgreSQL's caches;
#   sluice      validate -> commit drain sluice.uploads;
#   peer        the Python peer (--processes = cores, a fresh consumer
#               group) drains the same sluice.uploads into its own tables;
#   chain       validate -> scan -> license -> commit drain
#               chain-sluice.uploads (same count and size, other files: the
#               first run's uploads would all be replays or duplicates);
# before each drain the database is vacuumed and analyzed, then
# PostgreSQL's dirty buffers (CHECKPOINT) and what the page cache holds
# unwritten are written out (settle, bench_flush_dirty); right after it,
# a VACUUM of its own rows and a CHECKPOINT of its own buffers, their CPU
# the drain's (checkpoint_after);
# then one core's Ed25519 verify rate (openssl speed -seconds 3 ed25519).
# Each drain is timed from just before its processes start (the database's
# clock) to the last row's commit (accepted_at), and prints samples/s and
# CPU per sample of each process: the stages', each peer worker's, the
# broker's (and its JIT compiler threads') and PostgreSQL's.
#
# The peer authenticates as the stages do, with its own principals, which
# this script creates on the bench stack: Kafka SCRAM-SHA-512 user
# sluice_peer (ACLs: read sluice.uploads, read groups prefixed
# sluice-peer) and PostgreSQL role sluice_peer (reads creators' keys, owns
# schema peer: tests/bench/peer/schema.sql).
#
# usage: tests/bench/versus.sh [N [SIZE]]      (default 40000 1024)
# env:   SLUICE_BENCH_PARTITIONS (default 6: two or three peer processes get
#        equal shares; with 3 and two processes one has twice the other's), SLUICE_BENCH_WARMUP (default
#        10000; SLUICE_BENCH_WARMUP_STEP, default 10000: the broker's JIT CPU
#        is printed per step; SLUICE_BENCH_WARMUP_BATCH, default 100: the
#        warm-up's transaction size, bench_warm_opts in tests/bench/lib.sh
#        says why), SLUICE_BENCH_PEER_PROCS (default: cores), SLUICE_BENCH_KEEP=1,
#        SLUICE_BIN_DIR (built binaries to use; default: build build/ as
#        pipeline.sh does), SLUICE_BENCH_STAGE_OPTS (extra flags, every stage),
#        SLUICE_BENCH_<STAGE>_OPTS (extra flags for one stage, after those:
#        SLUICE_BENCH_VALIDATE_OPTS, _SCAN_, _LICENSE_, _COMMIT_OPTS),
#        SLUICE_BENCH_PGSS=1 (PostgreSQL with pg_stat_statements: each
#        drain also prints its costliest statements; it costs a little),
#        SLUICE_BENCH_FILL=0 (do not fill the page cache after the preload:
#        bench_fill_cache in tests/bench/lib.sh says why it is filled;
#        SLUICE_BENCH_FILL_FREE_MB, default 1024, is what it leaves free)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=deploy/lib.sh
. "$ROOT/deploy/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"
N=${1:-40000}
SIZE=${2:-1024}
PARTS=${SLUICE_BENCH_PARTITIONS:-6}
WARM=${SLUICE_BENCH_WARMUP:-10000}
WARM_STEP=${SLUICE_BENCH_WARMUP_STEP:-10000}
WARM_OPTS=$(bench_warm_opts)
PROCS=${SLUICE_BENCH_PEER_PROCS:-$(nproc)}
say() { sl_log versus "$@"; }
unset SLUICE_KAFKA_BROKERS SLUICE_PG_DSN SLUICE_TOPIC_PREFIX SLUICE_CONFIG \
    SLUICE_STACK_DIR SLUICE_KAFKA_PORT SLUICE_PG_PORT SLUICE_KAFKA_CONTROLLER_PORT

bash "$ROOT/deploy/install.sh" >/dev/null
if [[ -n ${SLUICE_BIN_DIR:-} ]]; then
    BIN=$(cd "$SLUICE_BIN_DIR" && pwd)
else
    cmake -S "$ROOT" -B "$ROOT/build" -DSLUICE_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$ROOT/build" -j "$(nproc)" --target sluice-validate sluice-scan \
        sluice-license sluice-commit sluicectl >/dev/null
    BIN=$ROOT/build/bin
fi

# The peer's venv ($SL_CACHE/peerenv) on Debian's python3, rebuilt when
# tests/bench/requirements-peer.txt or the interpreter changes (the stamp,
# written last, holds their hash).
peer_env() {
    local req=$ROOT/tests/bench/requirements-peer.txt dir=$SL_CACHE/peerenv py=/usr/bin/python3 hash
    hash=$( { "$py" --version; cat "$req"; } | sha256sum | cut -d' ' -f1)
    [[ -f $dir/.stamp && $(<"$dir/.stamp") == "$hash" ]] && return 0
    say "pip install -r tests/bench/requirements-peer.txt into $dir"
    rm -rf "$dir"
    "$py" -m venv "$dir"
    if ! "$dir/bin/pip" install --no-input --disable-pip-version-check -q -r "$req" >"$dir.pip.log" 2>&1; then
        tail -n 30 "$dir.pip.log" >&2
        rm -rf "$dir"
        sl_die versus "pip install -r $req failed"
    fi
    rm -f "$dir.pip.log"
    printf '%s\n' "$hash" >"$dir/.stamp"
}
peer_env
PEER_PY=$SL_CACHE/peerenv/bin/python
# A peer that skipped a check would run faster than an honest one: its
# checks first refuse tampered uploads (no broker, no database), or nothing
# is measured.
"$PEER_PY" "$ROOT/tests/bench/peer/selftest.py" >&2 || sl_die versus "the peer's self-test failed"

W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-versus.XXXXXX")
chmod 711 "$W"   # the stack's own users search it (see pipeline.sh)
declare -A PIDS=()
cleanup() {
    local p
    rm -f "$W/pagecache.fill"
    bench_poller_close
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    SLUICE_BIN_DIR=$BIN bash "$ROOT/deploy/stack.sh" stop --dir "$W/stack" >/dev/null 2>&1 || true
    if [[ -n ${SLUICE_BENCH_KEEP:-} ]]; then say "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

say "starting an infra stack in $W/stack"
PGSS=${SLUICE_BENCH_PGSS:-}
[[ -n $PGSS ]] && export SLUICE_PG_PRELOAD=pg_stat_statements
SLUICE_BIN_DIR=$BIN bash "$ROOT/deploy/stack.sh" start --dir "$W/stack" --infra-only \
    --partitions "$PARTS" 2>"$W/stack.log" || { cat "$W/stack.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$W/stack/stack.env"
PSQL=$(sl_pg_bindir)/psql
[[ -x $PSQL ]] || PSQL=psql
sql() { "$PSQL" -XAtq -v ON_ERROR_STOP=1 "$SLUICE_PG_DSN" -c "$1"; }
# The stack's admin login, on the benchmark's database.
ADMIN_DSN="$SLUICE_PG_DSN_ADMIN dbname=sluice"
admin_sql() { "$PSQL" -XAtq -v ON_ERROR_STOP=1 "$ADMIN_DSN" -c "$1"; }
# The waits' polls, one session for the run (tests/bench/lib.sh).
bench_poller_open "$W" "$PSQL" "$ADMIN_DSN"
# Buffers PostgreSQL's backends wrote out themselves to free one (a
# drain's share of the database's writes that lands in its own CPU; the
# rest waits for the next checkpoint): read after a drain's processes
# have gone, since a backend reports its counts at exit at the latest.
backend_writes() { admin_sql "SELECT buffers_backend FROM pg_stat_bgwriter"; }
# wal_mark -> "LSN FPI": bench_wal_mark with the admin login (read after
# a drain's processes are gone); wal_used LSN0 FPI0 LSN1 FPI1 -> "B bytes
# a sample, F full-page images a sample" between two marks.  After each
# checkpoint the first change to a page logs the whole page; the drain's
# backends write and fsync every byte.
wal_mark() { bench_wal_mark "$PSQL" "$ADMIN_DSN"; }
wal_used() {
    awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" -v n="$N" \
        'BEGIN { printf "%.0f bytes a sample, %.2f full-page images a sample", (c - a) / n, (d - b) / n }'
}
# flush_dirty: PostgreSQL's dirty buffers, then the page cache
# (bench_flush_dirty), with the stack's admin login.
flush_dirty() { bench_flush_dirty "$PSQL" "$ADMIN_DSN"; }
# settle [OPTS]: bench_settle with the stack's admin login (VACUUM
# (ANALYZE), or VACUUM OPTS, then flush_dirty) before a drain.
settle() { bench_settle "$PSQL" "$ADMIN_DSN" "$@"; }
# autovac_mark -> "V A": bench_autovac_mark with the same login.
autovac_mark() { bench_autovac_mark "$PSQL" "$ADMIN_DSN"; }
# checkpoint_after: right after a drain, bench_after_phase; sets gcpu
# (PostgreSQL's CPU over it: the drain is charged with it, as with any
# autovacuum run during it) and ck (what bench_settle printed).
checkpoint_after() {
    local r
    r=$(bench_after_phase "$PSQL" "$ADMIN_DSN" "$(bench_pg_pid "$W/stack")")
    gcpu=${r%%$'\t'*} ck=${r#*$'\t'}
}
# db_before / db_after: around a drain, the database's readings, in the
# caller's variables: settle first, then autovacuum runs, buffers
# backends wrote and the WAL (av0 aa0 bw0 w0 f0); after the drain's
# processes are gone the same (av1 aa1 bw1 w1 f1), then checkpoint_after.
# db_lines prints them, the drain's lines from "buffers backends wrote"
# to "vacuum, checkpoint after".
db_before() {
    settle >>"$W/flushes"
    read -r av0 aa0 < <(autovac_mark)
    bw0=$(backend_writes)
    read -r w0 f0 < <(wal_mark)
}
db_after() {
    bw1=$(backend_writes)
    read -r w1 f1 < <(wal_mark)
    read -r av1 aa1 < <(autovac_mark)
    checkpoint_after
}
db_lines() {
    printf '      %-24s %s\n' "buffers backends wrote" "$(writes_mb "$bw0" "$bw1")"
    printf '      %-24s %s\n' "WAL" "$(wal_used "$w0" "$f0" "$w1" "$f1")"
    printf '      %-24s %s\n' "autovacuum during it" "$((av1 - av0)) vacuums, $((aa1 - aa0)) analyzes"
    printf '      %-24s %s  (%s)\n' "vacuum, checkpoint after" "$(per "$gcpu")" "$ck"
}
# "N MB, K KB a sample" of buffers between two readings
writes_mb() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%.0f MB, %.1f KB a sample", (b - a) * 8 / 1024, (b - a) * 8 / n }'; }
[[ -n $PGSS ]] && admin_sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
# pgss_reset / pgss_report: with SLUICE_BENCH_PGSS, the statements that
# took the most of PostgreSQL's time since the reset (execution time, not
# CPU: it includes waits), per sample of the drain.
pgss_reset() { [[ -z $PGSS ]] || admin_sql "SELECT pg_stat_statements_reset()" >/dev/null; }
pgss_report() {
    [[ -n $PGSS ]] || return 0
    echo "    PostgreSQL's statements by execution time (pg_stat_statements):"
    admin_sql "SELECT format('      %8s us/sample %9s calls %9s rows  %s',
                      round((total_exec_time * 1000 / $N)::numeric, 1), calls, rows,
                      left(regexp_replace(query, '\s+', ' ', 'g'), 90))
                 FROM pg_stat_statements
                WHERE query NOT LIKE '%pg_stat_statements%'
                ORDER BY total_exec_time DESC LIMIT 12"
}

# ---- the peer's principals -------------------------------------------------
(umask 077 && mkdir -p "$W/peer-secrets")
pw=$(openssl rand -hex 24)
(umask 077 && printf '*:*:*:sluice_peer:%s\n' "$pw" >"$W/peer-secrets/pg-sluice_peer.pgpass")
"$PSQL" -Xq -v ON_ERROR_STOP=1 -v pw="$pw" "$ADMIN_DSN" \
    -f "$ROOT/tests/bench/peer/schema.sql" >/dev/null
PEER_DSN="host=127.0.0.1 port=$SLUICE_PG_PORT dbname=sluice user=sluice_peer passfile=$W/peer-secrets/pg-sluice_peer.pgpass"
kpw=$(openssl rand -hex 24)
(umask 077 && printf 'bootstrap.servers=%s\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanisms=SCRAM-SHA-512\nsasl.username=sluice_peer\nsasl.password=%s\n' \
    "$SLUICE_KAFKA_BROKERS" "$kpw" >"$W/peer-secrets/kafka-sluice_peer.properties")
java -Xmx128m -Dlog4j.configuration="file:$ROOT/deploy/log4j-tools.properties" \
    -cp "$SL_KAFKA_LIB/*" kafka.admin.ConfigCommand \
    --bootstrap-server "$SLUICE_KAFKA_BROKERS" --command-config "$SLUICE_KAFKA_ADMIN_PROPERTIES" \
    --alter --entity-type users --entity-name sluice_peer \
    --add-config "SCRAM-SHA-512=[password=$kpw]" >"$W/peer-user.log" 2>&1 ||
    { cat "$W/peer-user.log" >&2; sl_die versus "cannot add kafka user sluice_peer"; }
printf '%s\n' "sluice_peer topic literal sluice.uploads read" \
    "sluice_peer group prefixed sluice-peer read" >"$W/peer-acls.conf"
java -Xmx128m -Dlog4j.configuration="file:$ROOT/deploy/log4j-tools.properties" \
    -cp "$SL_KAFKA_LIB/*" "$ROOT/deploy/KafkaAcls.java" add "$SLUICE_KAFKA_BROKERS" \
    "$SLUICE_KAFKA_ADMIN_PROPERTIES" "$W/peer-acls.conf" "" >"$W/peer-acls.log" 2>&1 ||
    { cat "$W/peer-acls.log" >&2; sl_die versus "cannot add the peer's ACLs"; }

# ---- preload ---------------------------------------------------------------
"$BIN/sluicectl" creator add bench --generate-key "$W/bench.pem" >/dev/null
for d in warmup versus chain; do "$BIN/sluicectl" dataset add "$d" >/dev/null; done
for p in warm- chain-; do
    SLUICE_TOPIC_PREFIX=$p bash "$ROOT/deploy/kafka-acls.sh" add "$p" >/dev/null
    SLUICE_TOPIC_PREFIX=$p "$BIN/sluicectl" topics create --partitions "$PARTS" >/dev/null
done

# upload PREFIX DATASET: sends that dataset's files to PREFIX's uploads topic.
upload() {
    SLUICE_TOPIC_PREFIX=$1 "$BIN/sluicectl" upload --creator bench --dataset "$2" \
        --key "$W/bench.pem" "$W/$2" >/dev/null 2>>"$W/upload.log"
}
say "preloading $N + $N + $WARM signed uploads of $SIZE bytes"
make_files "$W/versus" "$N" versus
make_files "$W/chain" "$N" chain
((WARM > 0)) && make_files "$W/warmup" "$WARM" warmup
p0=$(date +%s.%N)
upload "" versus
p1=$(date +%s.%N)
upload chain- chain
((WARM > 0)) && upload warm- warmup
prod=$(awk -v n="$N" -v a="$p0" -v b="$p1" 'BEGIN { printf "%.0f", n / (b - a) }')
# The machine's memory as a server that has run a while has it: the page
# cache full, the drains' files growing into pages reclaimed from it.
filled=$(bench_fill_cache "$W/pagecache.fill")

# ---- measuring ---------------------------------------------------------------
cpu_pg() { bench_cpu_pg "$(bench_pg_pid "$W/stack")"; }
# cpu_pg_role ROLE: user+sys seconds of PostgreSQL's backends logged in as
# ROLE (their process title is "postgres: ROLE DB HOST(PORT) STATE").  A
# drain's processes connect after it starts, so all of their backends'
# time falls inside it; what cpu_pg counts besides is the rest: the
# background processes (WAL writer, checkpointer, autovacuum) and the
# script's own queries.
cpu_pg_role() {
    local pgpid p
    pgpid=$(bench_pg_pid "$W/stack")
    for p in $(ps -o pid=,args= --ppid "$pgpid" | awk -v r="$1" '$2 == "postgres:" && $3 == r { print $1 }'); do
        bench_cpu "$p"; echo
    done | awk '{ s += $1 } END { printf "%.2f", s }'
}
cpu_gc() { bench_cpu_threads "$1" '^(GC Thread|G1 )'; } # the broker's garbage collector threads
# readings: the broker's CPU, its compilers', PostgreSQL's, the broker's
# garbage collector's and the broker's time in the kernel, in seconds.
readings() {
    echo "$(bench_cpu "$KPID") $(bench_cpu_jit "$KPID") $(cpu_pg) $(cpu_gc "$KPID") $(bench_cpu_sys "$KPID")"
}
KPID=$(cat "$W/stack/run/kafka.pid")
now() { sql "SELECT EXTRACT(EPOCH FROM clock_timestamp())"; }
outcomes() { bench_outcomes; }
peer_sql() { "$PSQL" -XAtq -v ON_ERROR_STOP=1 "$PEER_DSN" -c "$1"; }
peer_outcomes() { bench_poll "SELECT (SELECT count(*) FROM peer.samples) + (SELECT count(*) FROM peer.rejections)"; }
alive() {
    local s
    for s in "${!PIDS[@]}"; do
        kill -0 "${PIDS[$s]}" 2>/dev/null || { say "$s died"; tail "$W/$s.log" >&2; exit 1; }
    done
}
# wait_count FN TARGET: polls FN once a second until it reaches TARGET
# (outcomes: tests/bench/lib.sh's cheap bound first); gives up if a
# measured process dies.
wait_count() {
    local n
    if [[ $1 == outcomes ]]; then
        bench_wait_outcomes "$2" alive || sl_die versus "cannot count the outcomes"
        return 0
    fi
    while :; do
        n=$($1) || sl_die versus "cannot count the outcomes ($1)"
        ((n >= $2)) && return 0
        sleep 1
        alive
    done
}
stop_all() { bench_stop_all PIDS; }
# start_stages PREFIX STAGE...: each stage with its own role and Kafka user.
start_stages() {
    local prefix=$1 s u extra; shift
    for s in "$@"; do
        u=${s^^}
        local dsn=SLUICE_PG_DSN_$u conf=SLUICE_CONFIG_$u own=SLUICE_BENCH_${u}_OPTS
        extra=()
        # commit right after validate (as pipeline.sh runs it)
        [[ $s == commit && " $* " != *" scan "* ]] && extra=(-X input.topics=sluice.validated,sluice.rejected)
        # shellcheck disable=SC2086  # option list
        SLUICE_TOPIC_PREFIX=$prefix SLUICE_PG_DSN=${!dsn} SLUICE_CONFIG=${!conf} \
            "$BIN/sluice-$s" "${extra[@]}" ${SLUICE_BENCH_STAGE_OPTS:-} ${!own:-} >"$W/$s.log" 2>&1 &
        PIDS[$s]=$!
    done
}
# span RUNSQL TABLE WHERE T0 -> "rate seconds steady to_first": samples/s
# from T0 (before the processes started) to the last commit, and from the
# first commit to the last (the rows of the first commit not counted), with
# the seconds from T0 to the first commit: startup and the group join.
span() {
    local a b first
    read -r a b first < <($1 "SELECT EXTRACT(EPOCH FROM min(accepted_at)), EXTRACT(EPOCH FROM max(accepted_at)),
                                  count(*) FILTER (WHERE accepted_at = (SELECT min(accepted_at) FROM $2 WHERE $3))
                             FROM $2 WHERE $3" | tr '|' ' ')
    awk -v n="$N" -v t0="$4" -v a="$a" -v b="$b" -v f="$first" 'BEGIN {
        printf "%.0f %.1f %.0f %.1f\n", n / (b - t0), b - t0, (b > a ? (n - f) / (b - a) : 0), a - t0 }'
}
per() { # SECONDS -> "x.xx s  NNN us/sample"
    awk -v s="$1" -v n="$N" 'BEGIN { printf "%7.2f s %6.0f us/sample", s, s * 1e6 / n }'
}
REPORT=$W/report
# drain NAME TAG PREFIX DATASET STAGE...: times the stages draining
# PREFIX's uploads topic (N uploads of DATASET); appends its lines to the
# report and its rate to $W/rate.TAG.
drain() {
    local name=$1 tag=$2 prefix=$3 ds=$4 base t0 k0 k1 j0 j1 c0 c1 g0 g1 s0 s1 s rate secs steady first bw0 bw1 w0 w1 f0 f1 av0 av1 aa0 aa1 gcpu ck; shift 4
    base=$(outcomes)
    db_before
    read -r k0 j0 g0 c0 s0 < <(readings)
    pgss_reset
    t0=$(now)
    start_stages "$prefix" "$@"
    wait_count outcomes $((base + N))
    declare -A c=()
    declare -A b=()
    declare -A m=()
    for s in "$@"; do
        c[$s]=$(bench_cpu "${PIDS[$s]}") b[$s]=$(cpu_pg_role "sluice_$s") m[$s]=$(bench_peak_mb "${PIDS[$s]}")
    done
    read -r k1 j1 g1 c1 s1 < <(readings)
    stop_all
    db_after
    read -r rate secs steady first < <(span sql samples "dataset_id = '$ds'" "$t0")
    echo "$rate $steady" >"$W/rate.$tag"
    {
        printf '  %-28s %s samples/s  (%s s from the start; first commit after %s s, from it %s/s; %s rejected)\n' \
            "$name" "$rate" "$secs" "$first" "$steady" \
            "$(sql "SELECT count(*) FROM rejections WHERE dataset_id = '$ds'")"
        for s in "$@"; do printf '    cpu %-22s %s\n' "$s" "$(per "${c[$s]}")"; done
        printf '      %-24s %s\n' "peak memory (VmHWM)" "$(for s in "$@"; do printf '%s %s MB, ' "$s" "${m[$s]}"; done | sed 's/, $//')"
        printf '    cpu %-22s %s\n' kafka "$(per "$(awk -v a="$k0" -v b="$k1" 'BEGIN { print b - a }')")"
        printf '      %-24s %s\n' "of which JIT" "$(per "$(awk -v a="$j0" -v b="$j1" 'BEGIN { print b - a }')")"
        printf '      %-24s %s\n' "of which GC" "$(per "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')")"
        printf '      %-24s %s\n' "of which in the kernel" "$(per "$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')")"
        # each stage is one hop: a topic read, and (but for commit) one
        # written in the stage's transactions
        printf '      %-24s %s\n' "the rest, per hop ($#)" "$(per "$(awk -v a="$k0" -v b="$k1" -v c="$j0" -v d="$j1" -v h=$# \
            'BEGIN { print (b - a - (d - c)) / h }')")"
        printf '    cpu %-22s %s\n' postgresql "$(per "$(awk -v a="$g0" -v b="$g1" 'BEGIN { print b - a }')")"
        for s in "$@"; do printf '      %-24s %s\n' "$s's backends" "$(per "${b[$s]}")"; done
        printf '      %-24s %s\n' "the rest (background)" "$(per "$(printf '%s\n' "${b[@]}" |
            awk -v a="$g0" -v z="$g1" '{ s += $1 } END { print z - a - s }')")"
        db_lines
        printf '%s\n' "${c[@]}" "$k1 -$k0" "$g1 -$g0" "$gcpu 0" | awk '{ s += $1 + $2 } END { print s }' >"$W/cpu.$tag"
        echo "${c[validate]}" >"$W/cpu.validate.$tag"
        printf '    cpu %-22s %s\n' "all of the above" "$(per "$(cat "$W/cpu.$tag")")"
        # the broker's compilers: 20-50 us a sample of a short drain, and
        # not settled after 600,000 uploads (tests/bench/README.md)
        printf '      %-24s %s\n' "less the broker's JIT" "$(per "$(awk -v t="$(cat "$W/cpu.$tag")" -v a="$j0" -v b="$j1" 'BEGIN { print t - (b - a) }')")"
        pgss_report
    } >>"$REPORT"
}

warmup="none"
: >"$W/warmup.jit"
if ((WARM > 0)); then
    say "warm-up: the whole chain drains $WARM uploads (not measured)"
    base=$(outcomes) wj0=$(bench_cpu_jit "$KPID") wt0=$(date +%s.%N)
    # in small transactions (bench_warm_opts: the broker's per-transaction
    # code compiled before the drains, not in them)
    SLUICE_BENCH_STAGE_OPTS="${SLUICE_BENCH_STAGE_OPTS:-} $WARM_OPTS" \
        start_stages warm- validate scan license commit
    # the broker's JIT compiler CPU in each step of the warm-up: how long
    # it takes to settle (issue #16 asks)
    done_n=0 sj=$wj0 st=$wt0
    while ((done_n < WARM)); do
        step=$((WARM - done_n < WARM_STEP ? WARM - done_n : WARM_STEP))
        wait_count outcomes $((base + done_n + step))
        read -r j1 t1 < <(echo "$(bench_cpu_jit "$KPID") $(date +%s.%N)")
        awk -v a="$done_n" -v n="$step" -v j0="$sj" -v j1="$j1" -v t0="$wt0" -v t1="$t1" -v s0="$st" \
            'BEGIN { printf "    warm-up %6d-%-6d  %5.1f s in, the broker'"'"'s JIT %5.2f s of CPU (%4.0f us/sample)\n",
                     a + 1, a + n, t1 - t0, j1 - j0, (j1 - j0) * 1e6 / n }' >>"$W/warmup.jit"
        done_n=$((done_n + step)) sj=$j1 st=$t1
    done
    stop_all
    warmup=$(awk -v n="$WARM" -v a="$wt0" -v b="$(date +%s.%N)" -v j="$wj0" -v k="$(bench_cpu_jit "$KPID")" \
        -v o="$WARM_OPTS" \
        'BEGIN { printf "%d uploads through the whole chain (%s), %.0f s, the broker'"'"'s JIT %.1f s of CPU in it", n, o, b - a, k - j }')
fi

say "sluice: validate -> commit drain $N uploads"
drain "validate -> commit" foundation "" versus validate commit

say "peer: $PROCS processes drain the same $N uploads"
db_before
read -r k0 j0 g0 c0 s0 < <(readings)
pgss_reset
t0=$(now)
"$PEER_PY" "$ROOT/tests/bench/peer/peer.py" --kafka-config "$W/peer-secrets/kafka-sluice_peer.properties" \
    --dsn "$PEER_DSN" --group "sluice-peer-$$" --processes "$PROCS" >"$W/peer.log" 2>&1 &
PIDS[peer]=$!
wait_count peer_outcomes "$N"
peer_backends=$(cpu_pg_role sluice_peer)
read -r k1 j1 g1 c1 s1 < <(readings)
mapfile -t kids < <(pgrep -P "${PIDS[peer]}")
declare -A pc=()
pc[parent]=$(bench_cpu "${PIDS[peer]}")
for p in "${kids[@]}"; do pc[worker-$p]=$(bench_cpu "$p"); done
stop_all
db_after
read -r rate secs steady first < <(span peer_sql peer.samples true "$t0")
echo "$rate $steady" >"$W/rate.peer"
{
    printf '  %-28s %s samples/s  (%s s from the start; first commit after %s s, from it %s/s; %s rejected, %s stored twice)\n' \
        "Python peer, $PROCS processes" "$rate" "$secs" "$first" "$steady" \
        "$(peer_sql "SELECT count(*) FROM peer.rejections")" \
        "$(peer_sql "SELECT count(*) - count(DISTINCT upload_id) FROM peer.samples")"
    tot=0
    for p in "${!pc[@]}"; do
        printf '    cpu peer %-17s %s\n' "$p" "$(per "${pc[$p]}")"
        tot=$(awk -v a="$tot" -v b="${pc[$p]}" 'BEGIN { print a + b }')
    done
    printf '    cpu %-22s %s\n' "peer, all processes" "$(per "$tot")"
    printf '    cpu %-22s %s\n' kafka "$(per "$(awk -v a="$k0" -v b="$k1" 'BEGIN { print b - a }')")"
    printf '      %-24s %s\n' "of which JIT" "$(per "$(awk -v a="$j0" -v b="$j1" 'BEGIN { print b - a }')")"
    printf '      %-24s %s\n' "of which GC" "$(per "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')")"
    printf '      %-24s %s\n' "of which in the kernel" "$(per "$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')")"
    printf '    cpu %-22s %s\n' postgresql "$(per "$(awk -v a="$g0" -v b="$g1" 'BEGIN { print b - a }')")"
    printf '      %-24s %s\n' "the peer's backends" "$(per "$peer_backends")"
    printf '      %-24s %s\n' "the rest (background)" "$(per "$(awk -v a="$g0" -v z="$g1" -v p="$peer_backends" 'BEGIN { print z - a - p }')")"
    db_lines
    awk -v t="$tot" -v a="$k0" -v b="$k1" -v c="$g0" -v d="$g1" -v e="$gcpu" 'BEGIN { print t + b - a + d - c + e }' >"$W/cpu.peer"
    printf '    cpu %-22s %s\n' "all of the above" "$(per "$(cat "$W/cpu.peer")")"
    printf '      %-24s %s\n' "less the broker's JIT" "$(per "$(awk -v t="$(cat "$W/cpu.peer")" -v a="$j0" -v b="$j1" 'BEGIN { print t - (b - a) }')")"
    pgss_report
} >>"$REPORT"
grep -h '^peer ' "$W/peer.log" | sed 's/^/    /' >>"$REPORT" || true

say "chain: validate -> scan -> license -> commit drain $N other uploads"
drain "validate -> ... -> commit" chain chain- chain validate scan license commit

ed_verify=$(openssl speed -seconds 3 ed25519 2>/dev/null |
    awk '/Ed25519\)/ { v = $NF } END { printf "%.0f", v }')
read -r vc vcs <"$W/rate.foundation"
read -r pr prs <"$W/rate.peer"
read -r ch chs <"$W/rate.chain"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
cat <<HEAD
sluice against the Python peer (issue #16): $N signed $SIZE-byte uploads preloaded, $PARTS partitions, $(nproc) cores
(each drain timed from its processes' start to the last commit; broker, database and the drainers on this machine;
 preload by sluicectl upload at $prod uploads/s, none of it while measuring; warm-up: $warmup;
 the page cache filled after the preload: $filled)
HEAD
echo "(before each drain the database was vacuumed and PostgreSQL's dirty buffers and the page cache the runs before it left were written out: $(paste -sd, "$W/flushes" | sed 's/,/, /g'); before validate -> commit, the peer, the chain)"
cat "$REPORT"
cat <<TAIL
  yardstick                    $ed_verify Ed25519 verify/s on one core (openssl speed -seconds 3 ed25519)
  ratios (from the start; from the first commit)
    validate -> commit / peer  $(ratio "$vc" "$pr") x; $(ratio "$vcs" "$prs") x   (issue #16 target: >= 3)
    whole chain / peer         $(ratio "$ch" "$pr") x; $(ratio "$chs" "$prs") x   (target: >= 1)
    whole chain / Ed25519      $(ratio "$ch" "$ed_verify") x; $(ratio "$chs" "$ed_verify") x   (target: >= 0.75)
  CPU per sample, all processes (when the cores are spent, throughput goes as its inverse)
    peer / validate -> commit  $(ratio "$(cat "$W/cpu.peer")" "$(cat "$W/cpu.foundation")") x
    peer / validate alone      $(ratio "$(cat "$W/cpu.peer")" "$(cat "$W/cpu.validate.foundation")") x   (the most validate -> commit / peer
                                     could reach on this machine if commit, the broker and PostgreSQL cost nothing)
TAIL
if [[ -s $W/warmup.jit ]]; then
    echo "  the broker's JIT during the warm-up (the whole chain):"
    cat "$W/warmup.jit"
fi
