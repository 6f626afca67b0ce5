#!/usr/bin/env bash
# Issue #16, at validate: a run of upload ids is claimed by one COPY, and
# an id claimed before sends the run back to the claim statement.
#
# validate claims every run's upload ids in upload_claims before producing
# its outcomes.  A run of new ids (a drain's) goes by binary COPY, about
# half the server's work of the INSERT ... ON CONFLICT statement; when the
# COPY meets an id claimed before, nothing of it is written, the statement
# decides the run as before, and the next 10 s of claims go by statement
# alone, so a stream of replays costs one wasted COPY a pause.
#
# One partition, 60 uploads produced while validate is down, validate
# started with batch.size=20 (three runs of 20, in order):
#  a-01..a-20  all new: claimed by COPY, each row as the statement writes
#              it (topic, partition, offset);
#  b-01..b-20  b-07 claimed before by another topic: the COPY fails on it,
#              the statement claims the other 19 (accepted) and b-07 is
#              refused as a replay;
#  c-01..c-20  all claimed before: within the pause, by statement, no
#              second COPY (one "claimed before" line in the log); all 20
#              refused as replays.
# The attack on a COPY without the fallback: b's run would fail on every
# retry and halt validate; without the pause, every hostile run would pay
# for a COPY first (two "claimed before" lines).
IT_PARTITIONS=1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init vclaims

cd "$IT_DIR"
ctl creator add alice --generate-key alice.pem >/dev/null
ctl dataset add ds >/dev/null

# upload ID: signs a sample of its own bytes as alice and produces it.
upload() {
    local sha meta sig
    printf 'claims by copy, sample %s\n' "$1" >"$1.txt"
    sha=$(openssl dgst -sha256 -r "$1.txt" | cut -c1-64)
    meta=$(printf '{"schema_version":1,"upload_id":"%s","creator_id":"alice","dataset_id":"ds","content_type":"text/plain","license":{"expression":"CC-BY-4.0"},"attestation":{"version":1,"rights_holder":true},"created_at":"%s","sha256":"%s"}' \
        "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$sha")
    printf 'sluice-upload-v1\n%s\n%s' "$sha" "$meta" >to-sign.bin
    sig=ed25519=$(openssl pkeyutl -sign -inkey alice.pem -rawin -in to-sign.bin | base64 -w0)
    kcat -P -q -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.uploads" -k "$1" \
        -H "sluice-meta=$meta" -H "sluice-sig=$sig" "$1.txt"
}

# Claimed before, as by a message of another topic.
it_sql "INSERT INTO upload_claims (upload_id, topic, partition, \"offset\")
        SELECT id, 'elsewhere', 0, 0
        FROM unnest(ARRAY['b-07'] || ARRAY(SELECT format('c-%s', lpad(i::text, 2, '0'))
                                           FROM generate_series(1, 20) i)) id" >/dev/null
for run in a b c; do
    for i in $(seq -w 1 20); do upload "$run-$i"; done
done
it_log "60 uploads produced"

it_start validate -X batch.size=20 -X batch.ms=10000 -X log.level=debug
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"
it_wait_outcomes 60 120

it_eq "accepted" "$(it_sql "SELECT count(*) FROM samples")" 39
it_eq "samples: every a, every b but b-07" \
    "$(it_sql "SELECT count(*) FROM samples WHERE upload_id LIKE 'a-%' OR (upload_id LIKE 'b-%' AND upload_id <> 'b-07')")" 39
it_eq "refused as replays: b-07 and every c" \
    "$(it_sql "SELECT count(*) FROM rejections WHERE stage = 'validate' AND code = 'replay' AND detail = format('upload id \"%s\" was already used (claimed by an earlier message)', upload_id) AND (upload_id = 'b-07' OR upload_id LIKE 'c-%')")" 21
it_eq "rejections" "$(it_sql "SELECT count(*) FROM rejections")" 21

# The COPY's rows are the statement's: topic, partition, offset, a time.
it_eq "run a's claims" \
    "$(it_sql "SELECT count(*), min(\"offset\"), max(\"offset\"), bool_and(topic = '${IT_PREFIX}sluice.uploads' AND partition = 0 AND claimed_at IS NOT NULL) FROM upload_claims WHERE upload_id LIKE 'a-%'")" \
    "20|0|19|t"
it_eq "run b's claims: its own 19, b-07 still the other topic's" \
    "$(it_sql "SELECT count(*) FILTER (WHERE topic = '${IT_PREFIX}sluice.uploads' AND \"offset\" BETWEEN 20 AND 39), count(*) FILTER (WHERE upload_id = 'b-07' AND topic = 'elsewhere') FROM upload_claims WHERE upload_id LIKE 'b-%'")" \
    "19|1"
it_eq "run c's claims untouched" \
    "$(it_sql "SELECT count(*) FROM upload_claims WHERE upload_id LIKE 'c-%' AND topic = 'elsewhere'")" 20

# How each run was claimed: a by COPY, b by COPY that met b-07 and then by
# statement, c by statement within the pause.
it_eq "runs claimed by COPY" "$(grep -c 'claims: 20 ids by COPY' validate.log)" 1
it_eq "runs met a claimed id" "$(grep -c 'claims: an id of a run of 20 was claimed before' validate.log)" 1
it_eq "runs claimed by statement" "$(grep -c 'claims: 20 ids by statement' validate.log)" 2
it_eq "no claim failed" "$(grep -c '"level":"warn".*"msg":"claims:' validate.log)" 0
it_log "claims by COPY, and by statement after a replay: ok"
