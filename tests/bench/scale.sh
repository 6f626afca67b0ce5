#!/usr/bin/env bash
# Scaling benchmark (prints figures, asserts nothing): the whole chain
# (validate -> scan -> license -> commit) with 1, 2 and 3 instances of every
# stage, topics of 6 partitions, so that what scale-out buys is measured,
# not assumed.  For each instance count: a private stack
# (deploy/stack.sh start --instances I --partitions 6, the stages under
# their supervisors as in production), a warm-up, then N signed uploads sent
# as fast as `sluicectl upload` sends them; it prints end-to-end samples/s
# (first creation to last commit) and CPU per sample: all stage instances
# together, the broker, PostgreSQL, the producer.
#
# usage: tests/bench/scale.sh [N [SIZE]]           (default 20000 1024)
# env:   SLUICE_SCALE_INSTANCES   instance counts (default "1 2 3")
#        SLUICE_SCALE_PARTITIONS  partitions (default 6)
#        SLUICE_SCALE_BROKERS     brokers (default 1; 3 replicates everything)
#        SLUICE_SCALE_WARMUP      uploads before measuring (default 2000)
#        SLUICE_BIN_DIR           binaries (default: a release tree in build/)
#        SLUICE_BENCH_KEEP=1      keep the work directory
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=deploy/lib.sh
. "$ROOT/deploy/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"
N=${1:-20000}
SIZE=${2:-1024}
COUNTS=${SLUICE_SCALE_INSTANCES:-1 2 3}
PARTS=${SLUICE_SCALE_PARTITIONS:-6}
BROKERS=${SLUICE_SCALE_BROKERS:-1}
WARM=${SLUICE_SCALE_WARMUP:-2000}
say() { sl_log scale "$@"; }
unset SLUICE_KAFKA_BROKERS SLUICE_PG_DSN SLUICE_TOPIC_PREFIX SLUICE_CONFIG KCAT_CONFIG \
    SLUICE_STACK_DIR SLUICE_KAFKA_PORT SLUICE_PG_PORT SLUICE_KAFKA_CONTROLLER_PORT

BIN=${SLUICE_BIN_DIR:-}
if [[ -z $BIN ]]; then
    cmake -S "$ROOT" -B "$ROOT/build" -DSLUICE_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$ROOT/build" -j "$(nproc)" --target sluice-validate sluice-scan \
        sluice-license sluice-commit sluice-launch sluicectl >/dev/null
    BIN=$ROOT/build/bin
fi
export SLUICE_BIN_DIR=$BIN
PSQL=$(sl_pg_bindir)/psql
[[ -x $PSQL ]] || PSQL=psql

W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-scale.XXXXXX")
chmod 711 "$W"   # the broker's and the database's users search it
S=""
cleanup() {
    [[ -z $S ]] || bash "$ROOT/deploy/stack.sh" stop --dir "$S" >/dev/null 2>&1 || true
    if [[ -n ${SLUICE_BENCH_KEEP:-} ]]; then say "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

say "writing $WARM + $N files of $SIZE bytes"
make_files "$W/warmup" "$WARM" warmup
make_files "$W/bench" "$N" bench

# cpu_stages: CPU seconds of every stage instance's process together.
cpu_stages() {
    local f pid
    for f in "$S"/run/{validate,scan,license,commit}{,-[0-9]*}.pid; do
        [[ -f $f ]] || continue
        pid=$(sl_read_num "$f")
        [[ -z $pid ]] || { bench_cpu "$pid"; echo; }
    done | awk '{ s += $1 } END { printf "%.2f", s }'
}
cpu_kafka() {
    local f
    for f in "$S"/run/kafka.pid "$S"/run/kafka-[0-9]*.pid; do
        [[ -f $f ]] && { bench_cpu "$(sl_read_num "$f")"; echo; }
    done | awk '{ s += $1 } END { printf "%.2f", s }'
}
cpu_pg() { bench_cpu_pg "$(bench_pg_pid "$S")"; }
restarts() {
    local f n=0 r
    for f in "$S"/run/*.restarts; do
        [[ -f $f ]] || continue
        r=$(sl_read_num "$f")
        n=$((n + ${r:-0}))
    done
    echo "$n"
}

RESULTS=()
for I in $COUNTS; do
    S=$W/stack-$I
    say "$I instance(s) per stage: starting the stack"
    bash "$ROOT/deploy/stack.sh" start --dir "$S" --brokers "$BROKERS" --instances "$I" \
        --partitions "$PARTS" >"$W/start-$I.log" 2>&1 || { tail -n 30 "$W/start-$I.log" >&2; exit 1; }
    (
        # shellcheck disable=SC1091
        . "$S/stack.env"
        sql() { "$PSQL" -XAtq -v ON_ERROR_STOP=1 "$SLUICE_PG_DSN" -c "$1"; }
        # The waits' polls, one session for this stack (tests/bench/lib.sh).
        mkdir "$W/poll-$I"
        bench_poller_open "$W/poll-$I" "$PSQL" "$SLUICE_PG_DSN"
        trap bench_poller_close EXIT
        wait_for() {
            local t0=$SECONDS want=$1
            # shellcheck disable=SC2317  # called by bench_wait_outcomes
            hour() { ((SECONDS - t0 < 3600)) || { say "waited an hour for $want outcomes"; exit 1; }; }
            bench_wait_outcomes "$1" hour || exit 1
        }
        "$BIN/sluicectl" creator add bench --generate-key "$W/bench-$I.pem" >/dev/null
        "$BIN/sluicectl" dataset add warmup >/dev/null
        "$BIN/sluicectl" dataset add bench >/dev/null
        upload() {
            SLUICE_CONFIG=$SLUICE_CONFIG_UPLOADER "$BIN/sluicectl" upload --creator bench \
                --dataset "$1" --key "$W/bench-$I.pem" "$W/$1" >/dev/null 2>>"$W/upload-$I.log"
        }
        upload warmup
        wait_for "$WARM"
        st0=$(cpu_stages) k0=$(cpu_kafka) p0=$(cpu_pg) r0=$(restarts)
        { TIMEFORMAT='%3U %3S'; time upload bench; } 2>"$W/producer-$I.time"
        wait_for $((WARM + N))
        st1=$(cpu_stages) k1=$(cpu_kafka) p1=$(cpu_pg) r1=$(restarts)
        rate=$(sql "SELECT to_char(count(*) / EXTRACT(EPOCH FROM max(accepted_at) - min(created_at)), 'FM999999990')
                    FROM samples WHERE dataset_id = 'bench'")
        rej=$(sql "SELECT count(*) FROM rejections")
        prod=$(awk '{ print $1 + $2 }' "$W/producer-$I.time")
        us() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%5.0f", (b - a) * 1e6 / n }'; }
        tot=$(awk -v a="$st0" -v b="$st1" -v c="$k0" -v d="$k1" -v e="$p0" -v f="$p1" -v g="$prod" -v n="$N" \
            'BEGIN { printf "%5.0f", ((b - a) + (d - c) + (f - e) + g) * 1e6 / n }')
        printf '%9s  %9s  %8s  %8s  %8s  %8s  %8s  %9s  %s\n' "$I" "$rate" "$(us "$st0" "$st1")" \
            "$(us "$k0" "$k1")" "$(us "$p0" "$p1")" "$(us 0 "$prod")" "$tot" "$rej" "$((r1 - r0))" \
            >"$W/result-$I.txt"
    )
    RESULTS+=("$(cat "$W/result-$I.txt")")
    bash "$ROOT/deploy/stack.sh" stop --dir "$S" >/dev/null 2>&1 || true
    S=""
done

cat <<REPORT
sluice scaling benchmark: validate -> scan -> license -> commit, $N signed $SIZE-byte uploads
per run (after $WARM of warm-up), $PARTS partitions, $BROKERS broker(s), $(nproc) cores shared by
every process (broker, database, producer and all the instances on this machine)
CPU in microseconds per sample (user + system); stages: all instances together
instances  samples/s  stages us  kafka us     pg us  producer   total us  rejected  restarts
$(printf '%s\n' "${RESULTS[@]}")
REPORT
