#!/usr/bin/env bash
# Benchmark (prints figures, asserts nothing): N signed uploads of SIZE
# bytes through validate -> commit, with the broker and the database on the
# same machine.  Builds a release tree in build/, starts a private stack on
# free ports in a temporary directory, registers a creator, writes N
# distinct files, starts the services, streams the files in with
# `sluicectl upload` and waits until PostgreSQL holds N outcomes.
#
# Figures: producer rate; end-to-end samples/s (first creation to last
# commit); p50 / p99 / max latency from each upload's created_at (set by
# the producer when it signs) to accepted_at (the commit transaction's
# time, PostgreSQL now()); CPU seconds per stage process, as microseconds
# per sample.
#
# usage: tests/bench/pipeline.sh [N [SIZE]]      (default 100000 1024)
# env:   SLUICE_BENCH_PARTITIONS (default 3), SLUICE_BENCH_KEEP=1
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=deploy/lib.sh
. "$ROOT/deploy/lib.sh"
N=${1:-100000}
SIZE=${2:-1024}
PARTS=${SLUICE_BENCH_PARTITIONS:-3}
say() { sl_log bench "$@"; }
unset SLUICE_KAFKA_BROKERS SLUICE_PG_DSN SLUICE_TOPIC_PREFIX SLUICE_CONFIG \
    SLUICE_STACK_DIR SLUICE_KAFKA_PORT SLUICE_PG_PORT SLUICE_KAFKA_CONTROLLER_PORT

bash "$ROOT/deploy/install.sh"
cmake -S "$ROOT" -B "$ROOT/build" -DSLUICE_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build" -j "$(nproc)" --target sluice-validate sluice-commit sluicectl >/dev/null
BIN=$ROOT/build/bin

W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
declare -A PIDS=()
cleanup() {
    local p
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
sql() { psql -XAtq -v ON_ERROR_STOP=1 "$SLUICE_PG_DSN" -c "$1"; }

"$BIN/sluicectl" creator add bench --generate-key "$W/bench.pem" >/dev/null
"$BIN/sluicectl" dataset add bench-ds >/dev/null
say "writing $N files of $SIZE bytes"
mkdir -p "$W/files"
python3 - "$W/files" "$N" "$SIZE" <<'PY'
import os, random, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
words = ("the river keeps its counsel and carries what it is given to the "
         "sea while the town sleeps under a sky of slate and early light").split()
rng = random.Random(7)
for i in range(n):
    head = "sample %d: " % i
    body = []
    length = len(head)
    while length < size:
        w = rng.choice(words)
        body.append(w)
        length += len(w) + 1
    text = (head + " ".join(body))[:size - 1] + "\n"
    with open(os.path.join(d, "%07d.txt" % i), "w") as f:
        f.write(text)
PY

start_services() {
    "$BIN/sluice-validate" >"$W/validate.log" 2>&1 & PIDS[validate]=$!
    "$BIN/sluice-commit" >"$W/commit.log" 2>&1 & PIDS[commit]=$!
}
produce() {
    say "producing $N uploads"
    t0=$(date +%s.%N)
    "$BIN/sluicectl" upload --creator bench --dataset bench-ds --key "$W/bench.pem" \
        "$W/files" >/dev/null 2>"$W/upload.log"
    t1=$(date +%s.%N)
}
if [[ -n ${SLUICE_BENCH_BACKLOG:-} ]]; then
    # Drain mode: the uploads wait in the topic, then the stages start; the
    # figure is the pipeline's own rate, with no producer competing.
    produce
    ts=$(date +%s.%N)
    start_services
else
    start_services
    sleep 1
    produce
fi

count() { sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)"; }
while (($(count) < N)); do
    sleep 0.2
    for s in validate commit; do
        kill -0 "${PIDS[$s]}" 2>/dev/null || { say "$s died"; tail "$W/$s.log" >&2; exit 1; }
    done
done

cpu() { # user+sys seconds of a pid
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}
kpid=$(cat "$W/stack/run/kafka.pid")
pgpid=$(head -n 1 "$W/stack/pg/data/postmaster.pid")
cpu_k=$(cpu "$kpid")
cpu_pg=$(for p in "$pgpid" $(pgrep -P "$pgpid"); do cpu "$p"; echo; done |
    awk '{ s += $1 } END { printf "%.2f", s }')
cpu_v=$(cpu "${PIDS[validate]}")
cpu_c=$(cpu "${PIDS[commit]}")
rej=$(sql "SELECT count(*) FROM rejections")
read -r e2e p50 p99 pmax < <(sql "
  SELECT to_char($N / EXTRACT(EPOCH FROM max(accepted_at) - min(created_at)), 'FM999999990'),
         to_char(1000 * EXTRACT(EPOCH FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY accepted_at - created_at)), 'FM999990'),
         to_char(1000 * EXTRACT(EPOCH FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY accepted_at - created_at)), 'FM999990'),
         to_char(1000 * EXTRACT(EPOCH FROM max(accepted_at - created_at)), 'FM999990')
    FROM samples" | tr '|' ' ')
if [[ -n ${SLUICE_BENCH_BACKLOG:-} ]]; then
    drain=$(sql "SELECT to_char($N / (EXTRACT(EPOCH FROM max(accepted_at)) - $ts), 'FM999999990') FROM samples")
    e2e="$drain (drain of a backlog: services started after the $N uploads were produced; latency below includes the wait)"
fi
prod=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')

cat <<REPORT
sluice pipeline benchmark: validate -> commit, $N uploads of $SIZE bytes, $PARTS partitions
  machine            $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); broker and database on it too
  producer           $prod uploads/s (sluicectl upload: read, sign Ed25519, produce)
  end to end         $e2e samples/s (first creation to last commit)
  latency            p50 $p50 ms, p99 $p99 ms, max $pmax ms (created_at -> commit)
  rejections         $rej
  cpu validate       ${cpu_v} s ($(awk -v c="$cpu_v" -v n="$N" 'BEGIN { printf "%.0f", c * 1e6 / n }') us/sample)
  cpu commit         ${cpu_c} s ($(awk -v c="$cpu_c" -v n="$N" 'BEGIN { printf "%.0f", c * 1e6 / n }') us/sample)
  cpu kafka broker   ${cpu_k} s (whole run, producer traffic included)
  cpu postgresql     ${cpu_pg} s (live processes, whole run)
REPORT
