#!/usr/bin/env bash
# Benchmark (figures, not a test): sluice-review with 100,000 pending
# review items.  Fills a fresh database (tests/integration/lib.sh's
# it_init) with N flagged items (content, findings, a sealed-free commit
# event each), starts sluice-review, logs in, and times over loopback with
# curl (time to the last byte, so the figure includes curl and HTTP):
#   queue      GET /api/queue first page, a page deep in the queue (by
#              cursor), a filter by rule, a filter by dataset
#   decision   claim + approve of distinct items (each: lock, event, seal,
#              outbox row); the decide call alone is reported
# Targets (issue #11): queue page p99 < 50 ms, decision < 20 ms.
#
# usage: SLUICE_BIN_DIR=build-rel/bin bash tests/bench/review.sh [N] [REPS]
# (with a stack's env: . <stack>/stack.env first)
set -euo pipefail
N=${1:-100000}
REPS=${2:-200}
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../integration/review_lib.sh"
it_init review_bench

it_log "filling $N review items"
it_sql "
INSERT INTO contents (sha256, size, data)
  SELECT encode(sha256(convert_to('bench item ' || i || ' at 10.0.0.1', 'UTF8')), 'hex'), 0,
         convert_to('bench item ' || i || ' at 10.0.0.1', 'UTF8')
  FROM generate_series(1, $N) i;
INSERT INTO review_items (upload_id, creator_id, dataset_id, content_type, detected_type, sha256,
    size, license_expression, filename, meta, signature, findings, created_at, flagged_at,
    source_topic, source_partition, source_offset)
  SELECT 'b-' || i, 'creator-' || (i % 50), 'ds-' || (i % 20), 'text/plain', 'text/plain',
         encode(sha256(convert_to('bench item ' || i || ' at 10.0.0.1', 'UTF8')), 'hex'), 24,
         'CC-BY-4.0', 'item' || i || '.txt', '{}', 'sig',
         jsonb_build_object('v', 1, 'outcome', 'flagged', 'findings', jsonb_build_array(
           jsonb_build_object('rule', CASE WHEN i % 7 = 0 THEN 'email' ELSE 'ipv4' END,
             'entity', 'ip_address', 'kind', 'pii', 'severity', 'low', 'source', 'content',
             'offset', 15 + length(i::text), 'length', 8, 'validated', false, 'action', 'flag'))),
         now() - interval '1 day', now() - (($N - i) || ' seconds')::interval,
         'sluice.flagged', 0, i
  FROM generate_series(1, $N) i;
INSERT INTO provenance_chains (owner_kind, owner_id, first_seq, stage, outcome, canonical, hash)
  SELECT 'review', 'b-' || i, 1, '{commit}', '{flagged}', ARRAY[t],
         ARRAY[encode(sha256(convert_to(t, 'UTF8')), 'hex')]
  FROM (SELECT i, h, format('{\"input_sha256\":\"%s\",\"outcome\":\"flagged\",\"output_sha256\":\"%s\",'
               '\"prev\":\"%s\",\"reason\":null,\"seq\":1,\"stage\":\"commit\",'
               '\"time\":\"2026-12-03T10:00:00.000Z\",\"upload_id\":\"b-%s\",\"version\":\"v1\"}',
               h, h, h, i) AS t
        FROM (SELECT i, encode(sha256(convert_to('bench item ' || i || ' at 10.0.0.1', 'UTF8')), 'hex') AS h
              FROM generate_series(1, $N) i) x) y;
ANALYZE contents, review_items, provenance_chains;" >/dev/null
printf 'bench-password-long\n' >"$IT_DIR/pw-ann"
"$IT_BIN/sluicectl" moderator add ann --role lead --password-file "$IT_DIR/pw-ann" >/dev/null
rv_start -X review.relay.enabled=false
rv_login ann

# stats NAME FILE: p50 / p99 / max of the seconds in FILE, in ms.
stats() {
    sort -n "$2" | awk -v name="$1" '{ v[NR] = $1 * 1000 } END {
        p50 = v[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1]; p99 = v[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1]
        printf "%-28s n=%d  p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", name, NR, p50, p99, v[NR] }'
}
timeit() { # timeit NAME URL
    local f=$IT_DIR/t.$RANDOM
    for ((i = 0; i < REPS; i++)); do
        curl -s -o /dev/null -w '%{time_total}\n' -b "$IT_DIR/jar-ann" "$2" >>"$f"
    done
    stats "$1" "$f"
}
mid=$(it_sql "SELECT (extract(epoch from flagged_at) * 1000000)::bigint || '_' || upload_id
              FROM review_items WHERE upload_id = 'b-$((N / 2))'")
echo "sluice-review, $(it_sql "SELECT count(*) FROM review_items WHERE state = 'pending'") pending items ($(basename "$(dirname "$IT_BIN")"))"
timeit "queue, first page" "$RV_URL/api/queue"
timeit "queue, page at the middle" "$RV_URL/api/queue?after=$mid"
timeit "queue, rule=email" "$RV_URL/api/queue?rule=email"
timeit "queue, dataset=ds-7" "$RV_URL/api/queue?dataset=ds-7"
timeit "queue, rule that no item has" "$RV_URL/api/queue?rule=no_such_rule"
timeit "overview" "$RV_URL/api/overview"

f=$IT_DIR/decide
for ((i = 1; i <= REPS; i++)); do
    id=b-$((i * 37 % N + 1))
    curl -s -o /dev/null -b "$IT_DIR/jar-ann" -X POST -H "X-CSRF-Token: $RV_CSRF_ANN" "$RV_URL/api/items/$id/claim"
    curl -s -o /dev/null -w '%{time_total}\n' -b "$IT_DIR/jar-ann" -X POST -H "X-CSRF-Token: $RV_CSRF_ANN" \
        -d '{"action":"approve","reason":"false_positive","shown_sha256":"'"$(rv_sha "$id")"'"}' \
        "$RV_URL/api/items/$id/decide" >>"$f"
done
stats "decision (approve)" "$f"
it_eq "decisions recorded" "$(it_sql "SELECT count(*) FROM review_outbox")" "$REPS"
