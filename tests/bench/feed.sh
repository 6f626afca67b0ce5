#!/usr/bin/env bash
# Benchmark (prints figures, asserts nothing): sluice-feed, the delivery
# side (issue #12), with the broker and the database on the same machine.
#
# Uses the stack whose stack.env is sourced (SLUICE_KAFKA_BROKERS and
# SLUICE_PG_DSN set), in a fresh database and topic prefix of its own
# (tests/integration/lib.sh's it_init), or else starts a private stack on
# free ports in a temporary directory (stopped on exit), as pipeline.sh
# does.  Builds a release tree in build/ unless SLUICE_BIN_DIR is given.
#
# Data: one template sample goes through the real pipeline (validate ->
# scan -> license -> commit); the read datasets are cloned from its rows BY SQL AS THE OWNER
# ROLE (INSERT ... SELECT generate_series, and COPY for the random
# content), not through the pipeline -- this is a read benchmark, and the
# printout says so.  Each clone gets its own content, upload id, feed_seq
# (from feed_clock, as commit takes them), its chain's last provenance
# event (what a page reads) and chain head.
#   meta    N samples of a few dozen bytes (default 1,000,000)
#   big     BIG samples of 1 MiB of random bytes (default 64)
#   small   SMALL samples of 1 KiB of random bytes (default 2,000)
# Then, with one consumer, a grant on every dataset and one token:
#   (a) metadata   one reader pages through `meta` with its cursor
#                  (limit PAGE): lines/s; time to the first byte of each
#                  page, p50 / p99 (and to the last byte)
#   (b) 1 MiB      content of `big`, fetched once each to warm the cache,
#                  then CONNS keep-alive connections for SECS seconds:
#                  GB/s, and the CPU of sluice-feed, PostgreSQL and the
#                  client (what bounds it)
#   (c) 1 KiB      the same over `small`: requests/s, with the token and
#                  with the lines' signed content URLs
#   (d) long-poll  a reader waits (wait=30) on an empty dataset `live`
#                  while POLL uploads go through the whole pipeline at
#                  POLL_RATE/s: ms from each sample's accepted_at (the
#                  commit transaction's now(), i.e. its start: an upper
#                  bound of the time after its commit) to the reader
#                  receiving its line, p50 / p99 / max
#                  then the same with POLL transactions made directly, shaped
#                  as commit's (feed_clock positions, pg_notify, the row),
#                  from their last statement before COMMIT: a tighter bound
#   (e) idle       IDLE connections long-poll an empty dataset: RSS and
#                  threads of sluice-feed before and while they wait, its
#                  CPU over HOLD seconds of waiting, and per reader
# and the machine's yardstick, `openssl speed -seconds 3 ed25519` verify/s.
#
# usage: bash tests/bench/feed.sh
# env:   SLUICE_BENCH_FEED_N (1000000), _BIG (64), _SMALL (2000),
#        _PAGES (page sizes, one pass over `meta` each, SIZE:LINES
#        stops after LINES: "1000 10000 100:100000"), _CONNS (4), _SECS (10), _POLL (100), _POLL_RATE (5),
#        _IDLE (1000), _HOLD (5); SLUICE_BENCH_FEED_QUICK=1 for a run of
#        under a minute (N 20,000, BIG 16, SMALL 500, SECS 3, POLL 20 at
#        10/s, HOLD 3); SLUICE_BENCH_FEED_OPTS (extra -X for sluice-feed);
#        SLUICE_BENCH_KEEP=1 keeps the private stack's directory.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=deploy/lib.sh
. "$ROOT/deploy/lib.sh"
P=SLUICE_BENCH_FEED
if [[ -n ${SLUICE_BENCH_FEED_QUICK:-} ]]; then
    q_n=20000 q_big=16 q_small=500 q_secs=3 q_poll=20 q_rate=10 q_hold=3 q_pages="1000 100:5000"
else
    q_n=1000000 q_big=64 q_small=2000 q_secs=10 q_poll=100 q_rate=5 q_hold=5 q_pages="1000 10000 100:100000"
fi
v() { local n=${P}_$1; printf '%s\n' "${!n:-$2}"; }
N=$(v N $q_n) BIG=$(v BIG $q_big) SMALL=$(v SMALL $q_small) PAGES=$(v PAGES "$q_pages")
CONNS=$(v CONNS 4) SECS=$(v SECS $q_secs) POLL=$(v POLL $q_poll)
POLL_RATE=$(v POLL_RATE $q_rate) IDLE=$(v IDLE 1000) HOLD=$(v HOLD $q_hold)
say() { sl_log bench "$@"; }

if [[ -z ${SLUICE_BIN_DIR:-} ]]; then
    cmake -S "$ROOT" -B "$ROOT/build" -DSLUICE_SANITIZE=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$ROOT/build" -j2 --target sluice-validate sluice-scan sluice-license sluice-commit sluice-feed \
        sluicectl feed_load >/dev/null
    export SLUICE_BIN_DIR=$ROOT/build/bin
fi
BIN=$SLUICE_BIN_DIR

PRIV=""
stop_private() {
    [[ -n $PRIV ]] || return 0
    bash "$ROOT/deploy/stack.sh" stop --dir "$PRIV/stack" >/dev/null 2>&1 || true
    if [[ -n ${SLUICE_BENCH_KEEP:-} ]]; then say "kept $PRIV"; else rm -rf "$PRIV"; fi
}
# Until it_init sets its own: a stack that fails half-way is stopped too.
trap stop_private EXIT
if [[ -z ${SLUICE_KAFKA_BROKERS:-} || -z ${SLUICE_PG_DSN:-} ]]; then
    unset SLUICE_KAFKA_BROKERS SLUICE_PG_DSN SLUICE_TOPIC_PREFIX SLUICE_CONFIG \
        SLUICE_STACK_DIR SLUICE_KAFKA_PORT SLUICE_PG_PORT SLUICE_KAFKA_CONTROLLER_PORT
    PRIV=$(mktemp -d "${TMPDIR:-/tmp}/sluice-feedbench.XXXXXX")
    chmod 711 "$PRIV"   # the stack's users must search it (see pipeline.sh)
    say "starting a private stack in $PRIV"
    bash "$ROOT/deploy/stack.sh" start --dir "$PRIV/stack" --infra-only 2>"$PRIV/stack.log" ||
        { cat "$PRIV/stack.log" >&2; exit 1; }
    # shellcheck disable=SC1091
    . "$PRIV/stack/stack.env"
fi
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
# shellcheck source=tests/integration/feed_lib.sh
. "$ROOT/tests/integration/feed_lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"
it_init feed_bench
# lib.sh's cleanup (services, database), then the private stack.
# lib.sh's it_cleanup reads the status from \$? and ends with exit: in a
# subshell, so the private stack is stopped after it.
trap 'rc=$?; (set +e; (exit $rc); it_cleanup); stop_private; exit $rc' EXIT
W=$IT_DIR
PSQL=$(sl_pg_bindir)/psql
[[ -x $PSQL ]] || PSQL=psql
osql() { "$PSQL" -XAtq -v ON_ERROR_STOP=1 "$IT_OWNER_DSN" "$@"; }
# The PostgreSQL server listening on SLUICE_PG_PORT and its children:
# every backend, whoever else uses the server.
PG_PID=$(ss -Hltnp "sport = :${SLUICE_PG_PORT:-5432}" 2>/dev/null |
    sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
cpu_pg() { bench_cpu_pg "$PG_PID"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

# ---- data ---------------------------------------------------------------
fd_creator bench
for d in tmpl meta big small live direct idle; do "$BIN/sluicectl" dataset add "$d" >/dev/null; done
# The whole chain, so the template carries a bound license record as
# every real sample does.
fd_chain full
mkdir -p "$W/tmpl"
printf 'the template sample of the feed benchmark\n' >"$W/tmpl/t.txt"
"$BIN/sluicectl" upload --creator bench --dataset tmpl --key "$W/bench.pem" --upload-id tmpl \
    --label source=bench "$W/tmpl/t.txt" >/dev/null 2>>"$W/upload.log"
it_wait_outcomes 1 60
[[ $(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'tmpl'") == 1 ]] ||
    it_fail "the template sample was not accepted"

# clone DATASET PREFIX SOURCE: samples of DATASET, upload ids PREFIX<i>,
# one per row of SOURCE (a query of i, sha256, size): the template's row
# with those values, the next feed_seq positions, its provenance events
# and chain head under the new id.  One transaction, as the owner.
clone() {
    osql <<SQL >/dev/null
BEGIN;
CREATE TEMP TABLE src ON COMMIT DROP AS $3;
CREATE TEMP TABLE base (b bigint) ON COMMIT DROP;
WITH c AS (UPDATE feed_clock SET next_seq = next_seq + (SELECT count(*) FROM src)
           WHERE stream = 'samples' RETURNING next_seq - (SELECT count(*) FROM src) AS b)
INSERT INTO base SELECT b FROM c;
-- LATERAL: (f(x)).* would call f once per column.
INSERT INTO samples
  SELECT r.* FROM src s CROSS JOIN base
    CROSS JOIN (SELECT to_jsonb(t) AS j FROM samples t WHERE t.upload_id = 'tmpl') t,
    LATERAL jsonb_populate_record(NULL::samples, t.j || jsonb_build_object(
            'upload_id', '$2' || s.i, 'dataset_id', '$1', 'sha256', s.sha256, 'size', s.size,
            'filename', '$2' || s.i || '.bin', 'source_offset', 1000000 + s.i,
            'accepted_at', (t.j->>'accepted_at')::timestamptz + s.i * interval '1 microsecond',
            'feed_seq', base.b + s.i - 1)) r;
-- The chain: one stored row a sample (028_provenance_chains.sql), the
-- template's, under the new owner.
INSERT INTO provenance_chains
  SELECT r.* FROM src s
    CROSS JOIN (SELECT to_jsonb(c) AS j FROM provenance_chains c
                 WHERE c.owner_kind = 'sample' AND c.owner_id = 'tmpl') e,
    LATERAL jsonb_populate_record(NULL::provenance_chains, e.j ||
            jsonb_build_object('owner_id', '$2' || s.i)) r;
INSERT INTO chain_heads
  SELECT r.* FROM src s
    CROSS JOIN (SELECT to_jsonb(h) AS j FROM chain_heads h
                 WHERE h.owner_kind = 'sample' AND h.owner_id = 'tmpl') h,
    LATERAL jsonb_populate_record(NULL::chain_heads, h.j ||
            jsonb_build_object('owner_id', '$2' || s.i)) r;
COMMIT;
SQL
}
# random_contents COUNT SIZE TAG: COPY of COUNT contents of SIZE random
# bytes; prints nothing, leaves their (i, sha256, size) in table TAG_src.
random_contents() {
    osql -c "CREATE TABLE $3_src (i int, sha256 text, size bigint)" >/dev/null
    python3 - "$1" "$2" "$W/$3.contents" "$W/$3.src" <<'PY'
import hashlib, os, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
with open(sys.argv[3], "w") as c, open(sys.argv[4], "w") as s:
    for i in range(1, n + 1):
        b = os.urandom(size)
        h = hashlib.sha256(b).hexdigest()
        c.write("%s\t%d\t\\\\x%s\n" % (h, size, b.hex()))
        s.write("%d\t%s\t%d\n" % (i, h, size))
PY
    osql -c "\\copy contents (sha256, size, data) FROM '$W/$3.contents'" >/dev/null
    osql -c "\\copy $3_src FROM '$W/$3.src'" >/dev/null
    rm -f "$W/$3.contents"
}

say "loading $N metadata samples by SQL as the owner role (not through the pipeline)"
t0=$(date +%s.%N)
osql -c "INSERT INTO contents (sha256, size, data)
         SELECT encode(sha256(d), 'hex'), octet_length(d), d
           FROM (SELECT convert_to('feed bench sample ' || i, 'UTF8') AS d
                   FROM generate_series(1, $N) i) x" >/dev/null
say "contents in $(ms "$t0" "$(date +%s.%N)") ms"
clone meta m- "SELECT i, encode(sha256(convert_to('feed bench sample ' || i, 'UTF8')), 'hex') AS sha256,
                      octet_length(convert_to('feed bench sample ' || i, 'UTF8'))::bigint AS size
                 FROM generate_series(1, $N) i"
say "samples in $(ms "$t0" "$(date +%s.%N)") ms"
say "loading $BIG x 1 MiB and $SMALL x 1 KiB random contents by COPY"
random_contents "$BIG" 1048576 big
clone big b- "SELECT * FROM big_src"
random_contents "$SMALL" 1024 small
clone small s- "SELECT * FROM small_src"
osql -c "ANALYZE contents, samples, provenance_chains, chain_heads" >/dev/null
load_s=$(ms "$t0" "$(date +%s.%N)")
say "loaded in $((load_s / 1000)) s"

fd_consumer bench-updater
for d in meta big small live direct idle; do fd_grant bench-updater "$d" 10; done
TOKEN=$(fd_token bench-updater)
AUTH="Bearer $TOKEN"

# No rate limit (feed.rate.per.s 0): the benchmark is one token.
# shellcheck disable=SC2086  # option list
fd_start -X feed.rate.per.s=0 ${SLUICE_BENCH_FEED_OPTS:-}
FEED_PID=${IT_PIDS[feed]}
URL=$FD_URL
say "sluice-feed at $URL (pid $FEED_PID)"
rss0=$(bench_status "$FEED_PID" VmRSS) thr0=$(bench_status "$FEED_PID" Threads)

# ---- (a) metadata ----------------------------------------------------------
for spec in $PAGES; do
    pg=${spec%%:*} max=$N
    [[ $spec != *:* ]] || max=${spec#*:}
    ((max <= N)) || max=$N
    say "(a) one reader pages through $max of $N samples, $pg a page"
    "$BIN/feed_load" page -u "$URL" -a "$AUTH" -p /v1/datasets/meta/samples -l "$pg" \
        -n "$max" >"$W/a$pg.out"
    got=$(awk '$1 == "lines" { print $2 }' "$W/a$pg.out")
    [[ $got == "$max" ]] || say "WARNING: the reader got $got lines, not $max"
done

# GET /v1/datasets counts every dataset's samples: five calls, curl's time.
for ((i = 0; i < 5; i++)); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: $AUTH" "$URL/v1/datasets"
done | sort -n >"$W/datasets.t"

# ---- (b) and (c) content ---------------------------------------------------
# content RUN PATHS: a warm pass (each path once), then CONNS connections
# for SECS s; figures in $W/RUN.out, CPU seconds in $W/RUN.cpu.
content() {
    local n k0 p0 k1 p1
    n=$(wc -l <"$2")
    "$BIN/feed_load" get -u "$URL" -a "$AUTH" -f "$2" -c 1 -n "$n" -d 600 >"$W/$1.warm"
    k0=$(bench_cpu "$FEED_PID") p0=$(cpu_pg)
    { TIMEFORMAT='%3U %3S'; time "$BIN/feed_load" get -u "$URL" -a "$AUTH" -f "$2" \
        -c "$CONNS" -d "$SECS" >"$W/$1.out"; } 2>"$W/$1.time"
    k1=$(bench_cpu "$FEED_PID") p1=$(cpu_pg)
    awk -v k="$(awk -v a="$k0" -v b="$k1" 'BEGIN { print b - a }')" \
        -v p="$(awk -v a="$p0" -v b="$p1" 'BEGIN { print b - a }')" \
        -v s="$(awk '$1 == "seconds" { print $2 }' "$W/$1.out")" \
        '{ printf "feed %.0f%%, postgresql %.0f%%, client %.0f%% of a core", 100 * k / s, 100 * p / s, 100 * ($1 + $2) / s }' \
        "$W/$1.time" >"$W/$1.cpu"
}
it_sql "SELECT '/v1/samples/' || upload_id || '/content' FROM samples WHERE dataset_id = 'big'" >"$W/big.paths"
it_sql "SELECT '/v1/samples/' || upload_id || '/content' FROM samples WHERE dataset_id = 'small'" >"$W/small.paths"
say "(b) $BIG x 1 MiB content, $CONNS connections, ${SECS}s"
content big "$W/big.paths"
say "(c) $SMALL x 1 KiB content, $CONNS connections, ${SECS}s, with the token"
content small "$W/small.paths"
# The same samples by the lines' signed URLs (path and query, no token).
curl -sf -H "Authorization: $AUTH" "$URL/v1/datasets/small/samples?limit=$SMALL" |
    python3 -c 'import json, sys, urllib.parse as u
for l in sys.stdin:
    p = u.urlsplit(json.loads(l)["content_url"]); print(p.path + "?" + p.query)' >"$W/signed.paths"
say "(c) the same by signed URL"
AUTH_SAVED=$AUTH
AUTH=""
content signed "$W/signed.paths"
AUTH=$AUTH_SAVED

# ---- (d) long-poll ---------------------------------------------------------
say "(d) a waiting reader, $POLL uploads through the pipeline at $POLL_RATE/s"
mkdir -p "$W/live"
python3 - "$W/live" "$POLL" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "l%05d.txt" % i), "w") as f:
        f.write("long-poll sample %d of the feed benchmark\n" % i)
PY
"$BIN/feed_load" tail -u "$URL" -a "$AUTH" -p /v1/datasets/live/samples -w 30 \
    -n "$POLL" -d $((POLL / POLL_RATE + 60)) >"$W/tail.out" 2>"$W/tail.log" &
TAIL_PID=$!
sleep 1
"$BIN/sluicectl" upload --creator bench --dataset live --key "$W/bench.pem" --rate "$POLL_RATE" \
    "$W/live" >/dev/null 2>>"$W/upload.log"
wait "$TAIL_PID" || say "WARNING: the tail reader failed: $(cat "$W/tail.log")"
osql -c "CREATE TABLE tail_recv (recv_us bigint, upload_id text)" >/dev/null
osql -c "\\copy tail_recv FROM '$W/tail.out' (DELIMITER ' ')" >/dev/null
read -r d_n d_k d_p50 d_p99 d_max c_p50 c_p99 < <(osql -F ' ' -c "
  SELECT count(*), count(DISTINCT a),
         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY d)::numeric, 1),
         round(max(d)::numeric, 1),
         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY e)::numeric, 0),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY e)::numeric, 0)
    FROM (SELECT (r.recv_us - extract(epoch FROM s.accepted_at) * 1e6) / 1000 AS d,
                 (r.recv_us - extract(epoch FROM s.created_at) * 1e6) / 1000 AS e,
                 s.accepted_at AS a
            FROM tail_recv r JOIN samples s USING (upload_id)) x")

# The same reader, with commits made directly: one transaction per sample
# shaped as commit's (positions from feed_clock, pg_notify('sluice_feed',
# 'samples'), the row), which also records clock_timestamp() as its last
# statement before COMMIT: a tighter upper bound than accepted_at, which
# is the transaction's start.  The rows clone the template with the
# contents of `meta` samples 1..POLL.
say "(d) the same reader, $POLL direct commit-shaped transactions, $POLL_RATE/s"
"$BIN/feed_load" tail -u "$URL" -a "$AUTH" -p /v1/datasets/direct/samples -w 30 \
    -n "$POLL" -d $((POLL / POLL_RATE + 60)) >"$W/tail2.out" 2>"$W/tail2.log" &
TAIL_PID=$!
sleep 1
osql -c "CREATE TABLE direct_mark (upload_id text, before_commit timestamptz)" >/dev/null
for ((k = 1; k <= POLL; k++)); do
    cat <<SQL
BEGIN;
CREATE TEMP TABLE pos ON COMMIT DROP AS SELECT 0::bigint AS base WITH NO DATA;
WITH c AS (UPDATE feed_clock SET next_seq = next_seq + 1 WHERE stream = 'samples'
           RETURNING next_seq - 1 AS base)
INSERT INTO pos SELECT base FROM c;
SELECT pg_notify('sluice_feed', 'samples');
INSERT INTO samples
  SELECT r.* FROM pos
    CROSS JOIN (SELECT to_jsonb(t) AS j FROM samples t WHERE t.upload_id = 'tmpl') t,
    LATERAL jsonb_populate_record(NULL::samples, t.j || jsonb_build_object(
      'upload_id', 'd-$k', 'dataset_id', 'direct', 'accepted_at', now(),
      'sha256', encode(sha256(convert_to('feed bench sample $k', 'UTF8')), 'hex'),
      'size', octet_length(convert_to('feed bench sample $k', 'UTF8')),
      'feed_seq', pos.base)) r;
INSERT INTO direct_mark VALUES ('d-$k', clock_timestamp());
COMMIT;
SELECT pg_sleep(1.0 / $POLL_RATE);
SQL
done | osql >/dev/null
wait "$TAIL_PID" || say "WARNING: the tail reader failed: $(cat "$W/tail2.log")"
osql -c "CREATE TABLE tail2_recv (recv_us bigint, upload_id text)" >/dev/null
osql -c "\\copy tail2_recv FROM '$W/tail2.out' (DELIMITER ' ')" >/dev/null
read -r x_n x_p50 x_p99 x_max < <(osql -F ' ' -c "
  SELECT count(*),
         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY d)::numeric, 1),
         round(max(d)::numeric, 1)
    FROM (SELECT (r.recv_us - extract(epoch FROM m.before_commit) * 1e6) / 1000 AS d
            FROM tail2_recv r JOIN direct_mark m USING (upload_id)) x")

# ---- (e) idle long-pollers -------------------------------------------------
say "(e) $IDLE idle long-polling readers for ${HOLD}s"
rss1=$(bench_status "$FEED_PID" VmRSS) thr1=$(bench_status "$FEED_PID" Threads)
fdn1=$(find "/proc/$FEED_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
mkfifo "$W/hold.in"
"$BIN/feed_load" hold -u "$URL" -a "$AUTH" -p /v1/datasets/idle/samples -w 60 -c "$IDLE" -S \
    <"$W/hold.in" >"$W/hold.out" 2>"$W/hold.log" &
HOLD_PID=$!
exec 7>"$W/hold.in"
for ((i = 0; i < 300; i++)); do grep -q '^held' "$W/hold.out" 2>/dev/null && break; sleep 0.1; done
sleep 1   # the last requests reach their handlers
k0=$(bench_cpu "$FEED_PID")
sleep "$HOLD"
k1=$(bench_cpu "$FEED_PID")
rss2=$(bench_status "$FEED_PID" VmRSS) thr2=$(bench_status "$FEED_PID" Threads)
fdn2=$(find "/proc/$FEED_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
exec 7>&-
wait "$HOLD_PID" || say "WARNING: the idle readers failed: $(cat "$W/hold.log")"
answered=$(awk '$1 == "answered_early" { print $2 }' "$W/hold.out")
closed=$(awk '$1 == "closed_early" { print $2 }' "$W/hold.out")

ed_verify=$(openssl speed -seconds 3 ed25519 2>/dev/null |
    awk '/Ed25519\)/ { v = $NF } END { printf "%.0f", v }')

B() { awk -v k="$2" '$1 == k { print $2 }' "$W/$1.out"; }
cat <<REPORT
sluice-feed benchmark, $(nproc) cores, broker and database on this machine ($(basename "$(dirname "$BIN")") build)
  data               loaded by SQL as the owner role (INSERT ... SELECT, COPY), not through
                     the pipeline, in $((load_s / 1000)) s: $N metadata samples, $BIG x 1 MiB and
                     $SMALL x 1 KiB random contents, each a clone of one sample that went
                     through validate -> scan -> license -> commit; long-poll samples through all four
  stack              $([[ -n $PRIV ]] && echo "private, started for this run" || echo "given: ${SLUICE_STACK_DIR:-$SLUICE_PG_DSN}"); sluice-feed as database role $(it_svc_dsn feed | sed -n 's/.*user=\([^ ]*\).*/\1/p'), feed.threads $(sed -n 's/.*feed.threads=\([0-9]*\).*/\1/p' <<<"${SLUICE_BENCH_FEED_OPTS:-}" | grep . || echo 4)
  yardstick          $ed_verify Ed25519 verify/s on one core (openssl speed -seconds 3 ed25519)
$(for spec in $PAGES; do
    pg=${spec%%:*}
    A() { awk -v k="$1" '$1 == k { print $2 }' "$W/a$pg.out"; }
    echo "  (a) metadata       one reader, $(A pages) pages of $pg: $(A lines) lines in $(A seconds) s = $(A lines_per_s) lines/s ($(A MB_per_s) MB/s)"
    echo "    first byte       p50 $(A first_byte_p50_ms) ms, p99 $(A first_byte_p99_ms) ms, max $(A first_byte_max_ms) ms (last byte p50 $(A last_byte_p50_ms) ms, p99 $(A last_byte_p99_ms) ms)"
done)
  datasets list      GET /v1/datasets (counts over $N + $BIG + $SMALL samples): median $(awk 'NR == 3 { printf "%.1f", $1 * 1000 }' "$W/datasets.t") ms, max $(awk 'END { printf "%.1f", $1 * 1000 }' "$W/datasets.t") ms of 5
  (b) 1 MiB content  $CONNS keep-alive connections, ${SECS}s, warm cache: $(B big GB_per_s) GB/s ($(B big requests_per_s) req/s), latency p50 $(B big latency_p50_ms) ms, p99 $(B big latency_p99_ms) ms
    cpu              $(cat "$W/big.cpu"); statuses 2xx $(B big status_2xx), other $(($(B big status_3xx) + $(B big status_4xx) + $(B big status_5xx)))
  (c) 1 KiB content  token: $(B small requests_per_s) req/s, p50 $(B small latency_p50_ms) ms, p99 $(B small latency_p99_ms) ms; $(cat "$W/small.cpu")
                     signed URL: $(B signed requests_per_s) req/s, p50 $(B signed latency_p50_ms) ms, p99 $(B signed latency_p99_ms) ms; $(cat "$W/signed.cpu")
                     statuses 2xx $(($(B small status_2xx) + $(B signed status_2xx))), other $(($(B small status_4xx) + $(B small status_5xx) + $(B signed status_4xx) + $(B signed status_5xx)))
  (d) long-poll      $d_n of $POLL samples via sluicectl upload -> validate -> scan -> license -> commit at $POLL_RATE/s
                     ($d_k commit transactions), one waiting reader:
                     accepted_at (commit transaction's start) -> line received: p50 $d_p50 ms, p99 $d_p99 ms, max $d_max ms
                     (created by the producer -> received: p50 $c_p50 ms, p99 $c_p99 ms, commit's batch.ms included)
                     $x_n of $POLL direct commit-shaped transactions (feed_clock, pg_notify, the row) at $POLL_RATE/s:
                     last statement before COMMIT -> line received: p50 $x_p50 ms, p99 $x_p99 ms, max $x_max ms
  (e) idle readers   $IDLE long-polls waiting (from $(awk -v n="$IDLE" 'BEGIN { print (n < 254 ? n : 254) }') loopback addresses), answered early $answered, closed $closed
    sluice-feed      at start RSS $rss0 kB, $thr0 threads; before the readers $rss1 kB, $thr1 threads, $fdn1 fds
                     while they wait RSS $rss2 kB, $thr2 threads, $fdn2 fds;
                     per reader $(awk -v a="$rss1" -v b="$rss2" -v n="$IDLE" 'BEGIN { printf "%.1f", (b - a) / n }') kB, $(awk -v a="$thr1" -v b="$thr2" -v n="$IDLE" 'BEGIN { printf "%.3f", (b - a) / n }') threads;
                     CPU while they wait $(awk -v a="$k0" -v b="$k1" -v s="$HOLD" 'BEGIN { printf "%.1f", 100 * (b - a) / s }')% of a core over ${HOLD}s
REPORT
