#!/usr/bin/env bash
# Benchmark (prints figures, asserts nothing): N signed uploads of SIZE
# bytes through validate -> commit, with the broker and the database on the
# same machine.  Builds a release tree in build/, starts a private stack on
# free ports in a temporary directory, registers a creator, writes distinct
# files and starts the services; then three phases, each waiting until
# PostgreSQL holds every outcome:
#   warm-up     (not measured) the broker's JIT and the database's caches,
#               the stages committing in small transactions
#               (bench_warm_opts), then started again with their own;
#   throughput  N uploads sent by `sluicectl upload` as fast as it can:
#               end-to-end samples/s (first creation to last commit) and
#               CPU per process and sample; before it the warm-up's rows
#               are vacuumed and everything unwritten written out, and
#               after it its own rows' vacuum and checkpoint are counted
#               in (as versus.sh does around its drains);
#   latency     uploads at a fixed rate below capacity: p50 / p99 / max
#               from each upload's created_at (set when the producer signs
#               it) to accepted_at (the commit transaction's now()); before
#               it the earlier runs' writes are flushed to disk (`sync`).
#
# usage: tests/bench/pipeline.sh [N [SIZE]]      (default 100000 1024)
# env:   SLUICE_BENCH_PARTITIONS (default 3), SLUICE_BENCH_KEEP=1,
#        SLUICE_BENCH_WARMUP (uploads before measuring, default 10000;
#        SLUICE_BENCH_WARMUP_BATCH, their transaction size, default 100),
#        SLUICE_BENCH_RATE / SLUICE_BENCH_LAT_N (latency run: rate and
#        count, default 4000/s and 20000), SLUICE_BENCH_VALIDATE_OPTS,
#        SLUICE_BENCH_COMMIT_OPTS, SLUICE_BENCH_STAGE_OPTS (every stage),
#        SLUICE_BENCH_UPLOAD_OPTS (extra flags,
#        e.g. "-X batch.ms=200"), SLUICE_BENCH_CHAIN=full (validate -> scan
#        -> license -> commit instead of validate -> commit),
#        SLUICE_BIN_DIR (built binaries; default: build build/ first),
#        SLUICE_BENCH_DRAIN=1 (a fourth phase, drain: the stages stopped, N
#        more uploads loaded, the producer finished, then the stages
#        started and timed draining them; printed beside the throughput
#        run's figure, where the producer runs),
#        SLUICE_BENCH_FILL=0 (do not fill the page cache before the
#        upload files are written: bench_fill_cache in tests/bench/lib.sh
#        says why it is filled; SLUICE_BENCH_FILL_FREE_MB, default 1024,
#        is what it leaves free)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=deploy/lib.sh
. "$ROOT/deploy/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"
N=${1:-100000}
SIZE=${2:-1024}
PARTS=${SLUICE_BENCH_PARTITIONS:-3}
WARM=${SLUICE_BENCH_WARMUP:-10000}
WARM_OPTS=$(bench_warm_opts)
RATE=${SLUICE_BENCH_RATE:-4000}
LAT_N=${SLUICE_BENCH_LAT_N:-20000}
CHAIN=${SLUICE_BENCH_CHAIN:-foundation}   # foundation: validate -> commit; full: all four
say() { sl_log bench "$@"; }
unset SLUICE_KAFKA_BROKERS SLUICE_PG_DSN SLUICE_TOPIC_PREFIX SLUICE_CONFIG \
    SLUICE_STACK_DIR SLUICE_KAFKA_PORT SLUICE_PG_PORT SLUICE_KAFKA_CONTROLLER_PORT

bash "$ROOT/deploy/install.sh"
if [[ -n ${SLUICE_BIN_DIR:-} ]]; then   # binaries built already
    BIN=$(cd "$SLUICE_BIN_DIR" && pwd)
else
cmake -S "$ROOT" -B "$ROOT/build" -DSLUICE_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build" -j "$(nproc)" --target sluice-validate sluice-scan \
    sluice-license sluice-commit sluicectl >/dev/null
BIN=$ROOT/build/bin
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
# The stack in $W/stack: PostgreSQL and the broker (their own users) must
# search $W; stack.sh never widens a parent's permissions, so we do it for
# the directory we just made (searchable, not listable).
chmod 711 "$W"
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

SLUICE_BIN_DIR=$BIN bash "$ROOT/deploy/stack.sh" start --dir "$W/stack" --infra-only \
    --partitions "$PARTS" 2>"$W/stack.log" || { cat "$W/stack.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$W/stack/stack.env"
# The server's own psql binary: Debian's psql wrapper is a Perl script, and
# starting Perl on every poll took CPU from what is being measured.
PSQL=$(sl_pg_bindir)/psql
[[ -x $PSQL ]] || PSQL=psql
sql() { "$PSQL" -XAtq -v ON_ERROR_STOP=1 "$SLUICE_PG_DSN" -c "$1"; }

"$BIN/sluicectl" creator add bench --generate-key "$W/bench.pem" >/dev/null
for d in warmup throughput latency; do "$BIN/sluicectl" dataset add "$d" >/dev/null; done

# The machine's memory as a server that has run a while has it: the page
# cache full, the runs' files growing into pages reclaimed from it.
# Before the upload files are written, so that the fill does not push
# them out of the cache for the producer to read back from disk.
filled=$(bench_fill_cache "$W/pagecache.fill")
say "writing $WARM + $N + $LAT_N files of $SIZE bytes"
make_files "$W/warmup" "$WARM" warmup
make_files "$W/throughput" "$N" throughput
make_files "$W/latency" "$LAT_N" latency
if [[ -n ${SLUICE_BENCH_DRAIN:-} ]]; then
    "$BIN/sluicectl" dataset add drain >/dev/null
    make_files "$W/drain" "$N" drain
fi

start_services() {
    local commit_in=(-X input.topics=sluice.validated,sluice.rejected)
    # shellcheck disable=SC2086  # option lists
    SLUICE_PG_DSN=${SLUICE_PG_DSN_VALIDATE:-$SLUICE_PG_DSN} SLUICE_CONFIG=${SLUICE_CONFIG_VALIDATE:-${SLUICE_CONFIG:-}} "$BIN/sluice-validate" ${SLUICE_BENCH_STAGE_OPTS:-} ${SLUICE_BENCH_VALIDATE_OPTS:-} >"$W/validate.log" 2>&1 & PIDS[validate]=$!
    if [[ $CHAIN == full ]]; then
        commit_in=()
        # shellcheck disable=SC2086
        SLUICE_PG_DSN=${SLUICE_PG_DSN_SCAN:-$SLUICE_PG_DSN} SLUICE_CONFIG=${SLUICE_CONFIG_SCAN:-${SLUICE_CONFIG:-}} "$BIN/sluice-scan" ${SLUICE_BENCH_STAGE_OPTS:-} >"$W/scan.log" 2>&1 & PIDS[scan]=$!
        # shellcheck disable=SC2086
        SLUICE_PG_DSN=${SLUICE_PG_DSN_LICENSE:-$SLUICE_PG_DSN} SLUICE_CONFIG=${SLUICE_CONFIG_LICENSE:-${SLUICE_CONFIG:-}} "$BIN/sluice-license" ${SLUICE_BENCH_STAGE_OPTS:-} >"$W/license.log" 2>&1 & PIDS[license]=$!
    fi
    # shellcheck disable=SC2086
    SLUICE_PG_DSN=${SLUICE_PG_DSN_COMMIT:-$SLUICE_PG_DSN} SLUICE_CONFIG=${SLUICE_CONFIG_COMMIT:-${SLUICE_CONFIG:-}} "$BIN/sluice-commit" "${commit_in[@]}" ${SLUICE_BENCH_STAGE_OPTS:-} ${SLUICE_BENCH_COMMIT_OPTS:-} >"$W/commit.log" 2>&1 & PIDS[commit]=$!
}
# upload DATASET [sluicectl upload options]: sends that dataset's files.
upload() {
    local ds=$1; shift
    # shellcheck disable=SC2086
    "$BIN/sluicectl" upload ${SLUICE_BENCH_UPLOAD_OPTS:-} --creator bench \
        --dataset "$ds" --key "$W/bench.pem" "$@" "$W/$ds" >/dev/null 2>>"$W/upload.log"
}
alive() {
    local s
    for s in "${!PIDS[@]}"; do
        kill -0 "${PIDS[$s]}" 2>/dev/null || { say "$s died"; tail "$W/$s.log" >&2; exit 1; }
    done
}
# Once a second, the cheap bound until it is there (tests/bench/lib.sh).
wait_for() { bench_wait_outcomes "$1" alive || sl_die pipeline "cannot count the outcomes"; }
cpu_pg() { bench_cpu_pg "$(bench_pg_pid "$W/stack")"; }
snapshot() { # CPU seconds: validate commit kafka postgresql scan license jit
    local kpid
    kpid=$(cat "$W/stack/run/kafka.pid")
    echo "$(bench_cpu "${PIDS[validate]}") $(bench_cpu "${PIDS[commit]}") $(bench_cpu "$kpid") $(cpu_pg)" \
         "$([[ -n ${PIDS[scan]:-} ]] && bench_cpu "${PIDS[scan]}" || echo 0)" \
         "$([[ -n ${PIDS[license]:-} ]] && bench_cpu "${PIDS[license]}" || echo 0)" \
         "$(bench_cpu_jit "$kpid")"
}

ADMIN_DSN="$SLUICE_PG_DSN_ADMIN dbname=sluice"
# The waits' polls, one session for the run (tests/bench/lib.sh).
bench_poller_open "$W" "$PSQL" "$ADMIN_DSN"
# wal -> "BYTES FPI": bench_wal_mark with the admin login (the stages'
# backends live through every run, so the full-page images lag).
wal() { bench_wal_mark "$PSQL" "$ADMIN_DSN"; }
# Around a measured run, as versus.sh does around its drains: before it,
# what the runs before it inserted is vacuumed and everything unwritten is
# written out (bench_settle, not counted); the autovacuum runs that land
# inside it anyway are counted; right after it, bench_after_phase, with
# PostgreSQL's CPU over that charged to it ("vacuum, checkpoint after").
# after_run sets va (that CPU) and vck (what bench_settle printed).
after_run() {
    local r
    r=$(bench_after_phase "$PSQL" "$ADMIN_DSN" "$(bench_pg_pid "$W/stack")")
    va=${r%%$'\t'*} vck=${r#*$'\t'}
}

stop_services() { bench_stop_all PIDS; }

# Warm-up (not measured): the broker's JIT, PostgreSQL's caches.  The
# stages run it in small transactions (bench_warm_opts: the broker's
# per-transaction code compiled before the runs, not in them), then start
# again with their own settings.
SLUICE_BENCH_STAGE_OPTS="${SLUICE_BENCH_STAGE_OPTS:-} $WARM_OPTS" start_services
sleep 1
say "warm-up: $WARM uploads ($WARM_OPTS)"
upload warmup
wait_for "$WARM"
stop_services
start_services
sleep 1

settled=$(bench_settle "$PSQL" "$ADMIN_DSN")
say "throughput: $N uploads as fast as sluicectl sends them (first, the warm-up's rows vacuumed and written out: $settled)"
read -r av0 aa0 < <(bench_autovac_mark "$PSQL" "$ADMIN_DSN")
read -r v0 c0 k0 p0 s0 l0 j0 < <(snapshot)
# The database's write-ahead log over the run: bytes and full-page images
# per sample (what the rows, their indexes and the first touch of a page
# after a checkpoint cost to write; independent of how busy the CPUs are).
read -r w0 f0 < <(wal)
t0=$(date +%s.%N)
# The producer's own CPU (user + sys), from bash's `time`.
{ TIMEFORMAT='%3U %3S'; time upload throughput; } 2>"$W/producer.time"
t1=$(date +%s.%N)
wait_for $((WARM + N))
read -r v1 c1 k1 p1 s1 l1 j1 < <(snapshot)
read -r w1 f1 < <(wal)
read -r av1 aa1 < <(bench_autovac_mark "$PSQL" "$ADMIN_DSN")
sleep 1
# Also what the runs before it left unwritten, which would otherwise go
# out in the middle of the latency run.
after_run
tva=$va flushed=$vck
say "latency: $LAT_N uploads at $RATE/s (first, the runs before written out: $flushed)"
upload latency --rate "$RATE"
wait_for $((WARM + N + LAT_N))

# Drain (SLUICE_BENCH_DRAIN): the topic loaded beforehand.  The stages
# stop, N uploads are sent, and once the producer has finished the stages
# start again: from just before their start (the database's clock) to the
# last commit.  The broker is warm by now (warm-up, throughput and latency
# runs before it).
if [[ -n ${SLUICE_BENCH_DRAIN:-} ]]; then
    stop_services
    say "drain: $N uploads loaded with the stages stopped, then drained"
    upload drain
    dsettled=$(bench_settle "$PSQL" "$ADMIN_DSN")
    read -r dav0 daa0 < <(bench_autovac_mark "$PSQL" "$ADMIN_DSN")
    kpid=$(cat "$W/stack/run/kafka.pid")
    dk0=$(bench_cpu "$kpid") dp0=$(cpu_pg) dj0=$(bench_cpu_jit "$kpid")
    dt0=$(sql "SELECT EXTRACT(EPOCH FROM clock_timestamp())")
    start_services
    wait_for $((WARM + N + LAT_N + N))
    read -r dv1 dc1 dk1 dp1 ds1 dl1 dj1 < <(snapshot)
    dt1=$(sql "SELECT EXTRACT(EPOCH FROM max(accepted_at)) FROM samples WHERE dataset_id = 'drain'")
    read -r dav1 daa1 < <(bench_autovac_mark "$PSQL" "$ADMIN_DSN")
    after_run
    dva=$va
    drain_rate=$(awk -v n="$N" -v a="$dt0" -v b="$dt1" 'BEGIN { printf "%.0f", n / (b - a) }')
fi

rej=$(sql "SELECT count(*) FROM rejections")
stats() { # DATASET -> rate p50 p99 max
    sql "SELECT to_char(count(*) / EXTRACT(EPOCH FROM max(accepted_at) - min(created_at)), 'FM999999990'),
                to_char(1000 * EXTRACT(EPOCH FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY accepted_at - created_at)), 'FM999990'),
                to_char(1000 * EXTRACT(EPOCH FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY accepted_at - created_at)), 'FM999990'),
                to_char(1000 * EXTRACT(EPOCH FROM max(accepted_at - created_at)), 'FM999990')
           FROM samples WHERE dataset_id = '$1'" | tr '|' ' '
}
read -r e2e tp50 tp99 tmax < <(stats throughput)
read -r lrate lp50 lp99 lmax < <(stats latency)
prod=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
per() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%6.2f s  %4.0f us/sample", b - a, (b - a) * 1e6 / n }'; }

# The machine's own yardstick, measured in the same run once the pipeline
# is idle: one core's Ed25519 verifications per second (figures from
# different machines compare as ratios to it).
ed_verify=$(openssl speed -seconds 3 ed25519 2>/dev/null |
    awk '/Ed25519\)/ { v = $NF } END { printf "%.0f", v }')
ratio=$(awk -v a="$e2e" -v b="$ed_verify" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')

cat <<REPORT
sluice pipeline benchmark: $([[ $CHAIN == full ]] && echo "validate -> scan -> license -> commit" || echo "validate -> commit"), $SIZE-byte uploads, $PARTS partitions, $(nproc) cores
(broker, database, producer and the stages on this machine; Ed25519 signatures; page cache filled before the upload files were written: $filled)
  throughput run     $N uploads sent as fast as possible (producer: $prod uploads/s)
    end to end       $e2e samples/s (first creation to last commit)
    yardstick        $ed_verify Ed25519 verify/s on one core (openssl speed -seconds 3 ed25519): end to end = $ratio x
    latency          p50 $tp50 ms, p99 $tp99 ms, max $tmax ms (backlog included)
    cpu validate     $(per "$v0" "$v1")
    cpu scan         $(per "$s0" "$s1")
    cpu license      $(per "$l0" "$l1")
    cpu commit       $(per "$c0" "$c1")
    cpu kafka        $(per "$k0" "$k1")  (producer traffic included)
      of which JIT   $(per "$j0" "$j1")  (the broker's C1/C2 compiler threads)
    cpu postgresql   $(per "$p0" "$p1")
      autovacuum during it  $((av1 - av0)) vacuums, $((aa1 - aa0)) analyzes
      vacuum, checkpoint after  $(per 0 "$tva")  ($flushed)
      WAL          $(awk -v a="$w0" -v b="$w1" -v f="$f0" -v g="$f1" -v n="$N" 'BEGIN { printf "%6.0f bytes/sample, %.2f full-page images/sample", (b - a) / n, (g - f) / n }')
    cpu producer     $(per 0 "$(awk '{ print $1 + $2 }' "$W/producer.time")")  (sluicectl upload: reading, hashing, signing, sending)
$(if [[ -n ${SLUICE_BENCH_DRAIN:-} ]]; then cat <<DRAIN
  drain run          $N uploads loaded beforehand (producer finished, stages stopped), then the stages started
    end to end       $drain_rate samples/s (stages' start to last commit; with the producer running: $e2e samples/s)
    cpu validate     $(per 0 "$dv1")
    cpu scan         $(per 0 "$ds1")
    cpu license      $(per 0 "$dl1")
    cpu commit       $(per 0 "$dc1")
    cpu kafka        $(per "$dk0" "$dk1")
      of which JIT   $(per "$dj0" "$dj1")
    cpu postgresql   $(per "$dp0" "$dp1")
      autovacuum during it  $((dav1 - dav0)) vacuums, $((daa1 - daa0)) analyzes
      vacuum, checkpoint after  $(per 0 "$dva")  ($vck; before it: $dsettled)
DRAIN
fi)
  latency run        $LAT_N uploads at $RATE/s (achieved $lrate/s; before it, the runs before written out: $flushed)
    latency          p50 $lp50 ms, p99 $lp99 ms, max $lmax ms (created_at -> commit)
  rejections         $rej (expected 0)
REPORT
