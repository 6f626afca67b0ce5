#!/usr/bin/env bash
# Dead-letter replay past validate, and what cannot be replayed.
#
#  1. An upload to a dataset not yet registered is refused by scan
#     (dataset_unknown); its dead letter carries validate's headers
#     (sluice-prov, sluice-sha256) besides the creator's.  The dataset is
#     registered and `dlq replay --code dataset_unknown` sends the creator's
#     bytes and headers alone back: it becomes a sample, its chain starting
#     again at the dlq event.
#  2. An upload with a valid SSN is refused as pii_blocked: its bytes are
#     withheld from the dead letter.  `dlq replay --code pii_blocked` says
#     so (exit 1), records the item as unavailable, and sends nothing.
#  Every message has one outcome, and a clean upload is accepted.
IT_CTL_KAFKA=${SLUICE_CONFIG:-}   # the operators' Kafka user (stack.env)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init dlqblk

W=$IT_DIR
opctl() { SLUICE_CONFIG=${IT_CTL_KAFKA:-$SLUICE_CONFIG} "$IT_BIN/sluicectl" "$@"; }
up() { # up ID DATASET FILE
    ctl upload --creator sc --dataset "$2" --key "$W/k.pem" --upload-id "$1" "$3" \
        >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}
outcomes() {
    it_sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)
                   + (SELECT count(*) FROM review_items)"
}
on_replay_topic() {
    timeout 30 kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.replay" \
        -e -q -f '%k\n' 2>/dev/null | grep -c . || true
}
ctl creator add sc --generate-key "$W/k.pem" >/dev/null
ctl dataset add plain >/dev/null

it_start validate
it_start scan -X scan.dataset.cache.ms=1000
it_start commit -X input.topics=sluice.scanned,sluice.flagged,sluice.rejected

printf 'A paragraph for a dataset that is registered late.\n' >"$W/late.txt"
printf 'SSN: 123-45-6789 on file.\n' >"$W/ssn.txt"
up early later "$W/late.txt"
up ssn plain "$W/ssn.txt"
it_wait_outcomes 2 60
it_eq "refused" "$(it_sql "SELECT string_agg(upload_id || ':' || stage || ':' || code, ',' ORDER BY upload_id) FROM rejections")" \
    "early:scan:dataset_unknown,ssn:scan:pii_blocked"

# --- 1. a scan rejection replayed once its cause is fixed -------------------
ctl dataset add later >/dev/null
sleep 1.5   # past scan.dataset.cache.ms: scan sees the new dataset
out=$(opctl dlq replay --code dataset_unknown --request later-1) || it_fail "replay failed: $out"
it_eq "replayed" "$(tail -n 1 <<<"$out")" "request later-1: 1 replayed, 0 not"
it_wait_outcomes 3 60
it_eq "now a sample" "$(it_sql "SELECT dataset_id FROM samples WHERE upload_id = 'early'")" later
it_eq "its chain" \
    "$(it_sql "SELECT string_agg(stage || ':' || outcome, ',' ORDER BY seq)
               FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = 'early'")" \
    "dlq:replayed,validate:accepted,scan:accepted,commit:committed"

# --- 2. blocked bytes are not kept: no replay ------------------------------
rc=0
out=$(opctl dlq replay --code pii_blocked --request blocked-1 2>&1) || rc=$?
it_eq "blocked: exit code" "$rc" 1
it_eq "blocked: says why" "$(grep -c 'upload ssn (rejection [0-9]*, pii_blocked at scan) cannot be replayed: its bytes were withheld from the dead letter' <<<"$out")" 1
it_eq "blocked: summary" "$(tail -n 1 <<<"$out")" "request blocked-1: 0 replayed, 1 not"
it_eq "blocked: item" "$(it_sql "SELECT state FROM dlq_replay_items WHERE request_id = 'blocked-1'")" unavailable
out=$(opctl dlq replay --code pii_blocked --request blocked-1) || it_fail "second run failed: $out"
it_eq "blocked: run again" "$(tail -n 1 <<<"$out")" "nothing to replay"
sleep 2
it_eq "on sluice.replay: the one replayed" "$(on_replay_topic)" 1
it_eq "no new outcome" "$(outcomes)" 3

# --- the pipeline still flows ----------------------------------------------
printf 'A perfectly ordinary paragraph about rivers.\n' >"$W/clean.txt"
up clean plain "$W/clean.txt"
it_wait_outcomes 4 30
it_eq "clean upload accepted" "$(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'clean'")" 1
it_log "PASS"
