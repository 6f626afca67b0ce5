#!/usr/bin/env bash
# validate deletes old upload claims a bounded chunk at a time.
#
# The attack on the old code: once an hour validate deleted every claim
# older than its window in one statement, inside a batch and its Kafka
# transaction; an hour of claims at a few thousand uploads a second is
# millions of rows, a statement longer than the stage's transaction (60 s)
# or its statement timeout (pg.statement.timeout.ms, 30 s), so the batch
# failed every hour, or every time.  Now each batch deletes at most 10,000
# (VALIDATE_PRUNE_ROWS): with 25,000 old claims, the first three uploads'
# batches leave 15,000, 5,000 and 0; the fourth batch, within the hour,
# deletes nothing, and fresh claims are never touched.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init validate_prune

W=$IT_DIR
ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
ctl dataset add ds1 >/dev/null
old() { it_sql "SELECT count(*) FROM upload_claims WHERE upload_id LIKE 'old-%'"; }
it_sql "INSERT INTO upload_claims (upload_id, topic, partition, \"offset\", claimed_at)
        SELECT 'old-' || g, 'it-old', 0, g, now() - interval '10 days'
          FROM generate_series(1, 25000) g" >/dev/null
it_sql "INSERT INTO upload_claims (upload_id, topic, partition, \"offset\")
        VALUES ('recent-1', 'it-old', 0, 0)" >/dev/null
it_eq "old claims" "$(old)" 25000

# Each batch prunes once; one upload at a time, each its own batch.
it_start validate
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"
up() {
    printf 'upload %s\n' "$1" >"$W/$1.txt"
    ctl upload --creator alice --dataset ds1 --key "$W/alice.pem" --upload-id "$1" \
        "$W/$1.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}
n=0
for want in 15000 5000 0 0; do
    n=$((n + 1))
    up "u$n"
    it_wait_outcomes "$n" 60
    it_eq "old claims after batch $n" "$(old)" "$want"
done
# After the last full chunk the next prune is an hour away: old claims
# written now stay (for that hour), as do the recent ones.
it_sql "INSERT INTO upload_claims (upload_id, topic, partition, \"offset\", claimed_at)
        VALUES ('old-late', 'it-old', 0, 1, now() - interval '10 days')" >/dev/null
up u5
it_wait_outcomes 5 60
it_eq "an old claim within the hour" "$(old)" 1
it_eq "the recent claim" "$(it_sql "SELECT count(*) FROM upload_claims WHERE upload_id = 'recent-1'")" 1
it_eq "uploads' own claims" "$(it_sql "SELECT count(*) FROM upload_claims WHERE upload_id LIKE 'u%'")" 5
it_eq "samples" "$(it_sql "SELECT count(*) FROM samples")" 5
grep -q 'pruned 10000 claims' "$W/validate.log" || it_fail "no prune logged"
it_log "PASS"
