#!/usr/bin/env bash
# The whole path, uploads -> validate -> commit -> PostgreSQL, for good
# uploads and one of each kind of bad one, against the real broker and
# database.  Every upload must end as exactly one row: a sample or a
# rejection with the expected stage and reason code; dead letters on
# sluice.rejected must carry the original bytes and the reject headers.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init pipeline

W=$IT_DIR

# --- registry ---------------------------------------------------------------
ctl creator add alice --name "Alice" --generate-key "$W/alice.pem" >/dev/null
head -c 32 /dev/urandom >"$W/bob.secret"
ctl creator add bob --hmac-secret-file "$W/bob.secret" >/dev/null
ctl creator add carol --generate-key "$W/carol.pem" >/dev/null
ctl creator disable carol >/dev/null
ctl creator add dave --generate-key "$W/dave.pem" --unverified >/dev/null
ctl dataset add ds1 --name "Integration" >/dev/null

it_start validate
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"

# --- uploads ------------------------------------------------------------------
mkdir -p "$W/files"
printf 'a good sample from alice\n' >"$W/files/good1.txt"
printf 'a good sample from bob\n' >"$W/files/good2.txt"
printf 'replayed id, other bytes\n' >"$W/files/replay.txt"
printf 'sample from a stranger\n' >"$W/files/stranger.txt"
printf 'sample from carol\n' >"$W/files/carol.txt"
printf 'sample from dave\n' >"$W/files/dave.txt"
printf 'sample with a forged signature\n' >"$W/files/forged.txt"
printf 'an old sample\n' >"$W/files/old.txt"
head -c $((9 * 1024 * 1024)) /dev/zero >"$W/files/huge.bin"

up() { # up ID CREATOR KEYOPT KEYFILE FILE [more options]
    local id=$1 creator=$2 keyopt=$3 keyfile=$4 file=$5; shift 5
    ctl upload --creator "$creator" --dataset ds1 "$keyopt" "$keyfile" \
        --upload-id "$id" "$@" "$file" 2>>"$W/upload.log" >/dev/null ||
        it_fail "sluicectl upload $id failed"
}
up good-ed alice --key "$W/alice.pem" "$W/files/good1.txt"
up good-hmac bob --hmac-secret-file "$W/bob.secret" "$W/files/good2.txt"
# Uploads on different partitions have no order: the duplicate and the
# replay below must come after these two are in.
it_wait_outcomes 2 60
up dup alice --key "$W/alice.pem" "$W/files/good1.txt"
up good-ed alice --key "$W/alice.pem" "$W/files/replay.txt"
up stranger nobody --key "$W/alice.pem" "$W/files/stranger.txt"
up carol carol --key "$W/carol.pem" "$W/files/carol.txt"
up dave dave --key "$W/dave.pem" "$W/files/dave.txt"
head -c 32 /dev/urandom >"$W/wrong.secret"
up forged bob --hmac-secret-file "$W/wrong.secret" "$W/files/forged.txt"
up old alice --key "$W/alice.pem" "$W/files/old.txt" --created-at 2020-01-01T00:00:00Z
up huge alice --key "$W/alice.pem" "$W/files/huge.bin"

# Raw producers: what no well-behaved client would send.
U="${IT_PREFIX}sluice.uploads"
kc() { kcat -b "$SLUICE_KAFKA_BROKERS" -P -t "$U" "$@"; }
printf 'x' >"$W/one.txt"
kc -k nometa "$W/one.txt"
kc -k malformed -H 'sluice-meta={"upload_id": "malformed",' "$W/one.txt"
META_INVALID='{"schema_version":1,"upload_id":"invalid","creator_id":"alice","dataset_id":"ds1","content_type":"text/plain","license":{"expression":"CC0-1.0"},"attestation":{"version":1,"rights_holder":true},"created_at":"2026-01-01T00:00:00Z","surprise":true}'
kc -k invalid -H "sluice-meta=$META_INVALID" \
    -H 'sluice-sig=ed25519=AAAA' "$W/one.txt"

it_wait_outcomes 13 120
sleep 1   # anything extra (a double write) would show up now

# --- outcomes -----------------------------------------------------------------
it_eq "samples" "$(it_sql "SELECT string_agg(upload_id, ',' ORDER BY upload_id) FROM samples")" \
    "good-ed,good-hmac"
outcome() {
    it_sql "SELECT stage || ':' || code FROM rejections WHERE upload_id = '$1'"
}
it_eq "duplicate" "$(outcome dup)" "validate:duplicate"
it_eq "replay" "$(outcome good-ed)" "validate:replay"
it_eq "unknown creator" "$(outcome stranger)" "validate:creator_unknown"
it_eq "disabled creator" "$(outcome carol)" "validate:creator_disabled"
it_eq "unverified creator" "$(outcome dave)" "validate:creator_unverified"
it_eq "forged hmac" "$(outcome forged)" "validate:signature_invalid"
it_eq "stale" "$(outcome old)" "validate:stale"
it_eq "oversize" "$(outcome huge)" "validate:too_large"
it_eq "no metadata" "$(outcome nometa)" "validate:meta_missing"
it_eq "malformed metadata" "$(outcome malformed)" "validate:meta_malformed"
it_eq "schema-invalid metadata" "$(outcome invalid)" "validate:meta_invalid"
it_eq "total outcomes" \
    "$(it_sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)")" 13

# The accepted sample: hash, creator, license, content stored once.
sha=$(sha256sum "$W/files/good1.txt" | cut -d' ' -f1)
it_eq "sample row" \
    "$(it_sql "SELECT creator_id || '|' || dataset_id || '|' || sha256 FROM samples WHERE upload_id = 'good-ed'")" \
    "alice|ds1|$sha"
it_eq "content bytes" \
    "$(it_sql "SELECT encode(c.data, 'escape') FROM contents c JOIN samples s USING (sha256) WHERE s.upload_id = 'good-ed'")" \
    "a good sample from alice"
# Provenance: validate's event for each outcome, commit's for each sample.
it_eq "validate events" \
    "$(it_sql "SELECT count(*) FROM provenance_events WHERE stage = 'validate'")" 13
it_eq "commit events on samples" \
    "$(it_sql "SELECT count(*) FROM provenance_events WHERE stage = 'commit' AND owner_kind = 'sample'")" 2
# The detail is human-readable and names the problem.
detail=$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'invalid'")
[[ $detail == *surprise* ]] || it_fail "meta_invalid detail does not name the unknown field: $detail"

# Dead letters: original key and bytes plus the reject headers.
kcat -b "$SLUICE_KAFKA_BROKERS" -C -t "${IT_PREFIX}sluice.rejected" -e -q \
    -X isolation.level=read_committed \
    -f '%k|%h|%S\n' >"$W/dlq.txt"
it_eq "dead letters" "$(wc -l <"$W/dlq.txt")" 11
line=$(grep '^malformed|' "$W/dlq.txt") || it_fail "no dead letter for 'malformed'"
for h in sluice-reject-stage=validate sluice-reject-code=meta_malformed \
         "sluice-reject-source-topic=${U}" sluice-reject-source-partition= \
         sluice-reject-source-offset= 'sluice-meta={"upload_id": "malformed",'; do
    [[ $line == *"$h"* ]] || it_fail "dead letter lacks header $h: $line"
done
[[ $line == *'|1' ]] || it_fail "dead letter value size is not the original 1 byte: $line"

# The same bytes in other datasets are not duplicates; and commit's
# lookup of them must not be overwhelmed when they already sit in many
# datasets (one upload whose content is in three others; this once made
# the commit stage exit on a full fingerprint set).
for ds in ds2 ds3 ds4 ds5; do
    ctl dataset add "$ds" >/dev/null
    up "same-$ds" alice --key "$W/alice.pem" "$W/files/good1.txt" --dataset "$ds"
    it_wait_outcomes $((14 + ${ds#ds} - 2)) 60
done
it_eq "same content, other datasets" \
    "$(it_sql "SELECT count(*) FROM samples WHERE upload_id LIKE 'same-%'")" 4
it_eq "content stored once" \
    "$(it_sql "SELECT count(*) FROM contents WHERE sha256 = '$sha'")" 1

# status sees the same numbers and no lag once everything is done.  The
# stages store their offsets in the same transaction as their outputs, so
# the lag is zero by now; a few seconds of grace for a slow offset fetch.
no_lag() {
    ctl status --json >"$W/status.json" || it_fail "sluicectl status failed"
    [[ $(jq '[.lag[].lag] | add' "$W/status.json") == 0 ]]
}
it_wait_until 10 no_lag
it_eq "status: lag per stage" "$(jq -c '[.lag[] | {stage, lag}]' "$W/status.json")" \
    '[{"stage":"validate","lag":0},{"stage":"commit","lag":0}]'
it_eq "status: lag per partition" \
    "$(jq -c '[.lag[].topics[].partitions[].lag] | unique' "$W/status.json")" '[0]'
# Not zero for want of offsets: validate committed past all 17 uploads, and
# commit stored an offset on each of the 3 partitions of both its inputs.
it_eq "status: validate's committed offsets" \
    "$(jq '[.lag[] | select(.stage == "validate") | .topics[].partitions[].committed] | add' "$W/status.json")" 17
it_eq "status: commit's stored offsets" \
    "$(jq -c '[.lag[] | select(.stage == "commit") | .topics[]
        | select(.topic | endswith("sluice.validated") or endswith("sluice.rejected"))
        | .partitions[] | select(.committed != null)] | length' "$W/status.json")" 6
it_eq "status total" "$(jq .total "$W/status.json")" 17
it_eq "status duplicates" \
    "$(jq '[.rejections.by_stage_code[] | select(.code == "duplicate") | .count] | add' "$W/status.json")" 1

# --- a duplicate that gets past validate --------------------------------------
# The same bytes twice into one dataset while commit is down, validate
# restarted in between: the second instance has not seen the first upload,
# looks for its content among the stored samples, finds nothing, and
# passes it too (as two validate instances on different partitions would).
# commit, one message a transaction, stores the first, and must find it
# when it looks up the second: its look-up of the batch's (dataset, hash)
# pairs is the only check left.
it_kill commit
printf 'the same bytes twice, both past validate\n' >"$W/files/twice.txt"
validated() { # validated ID: until upload ID is on sluice.validated
    local end=$((SECONDS + 30))
    until [[ $(it_committed sluice.validated '%k\n' | grep -cx "$1") -ge 1 ]]; do
        ((SECONDS < end)) || it_fail "$1 did not reach sluice.validated in 30 s"
        sleep 0.2
    done
}
up twice1 alice --key "$W/alice.pem" "$W/files/twice.txt"
validated twice1
it_kill validate
it_start validate
up twice2 alice --key "$W/alice.pem" "$W/files/twice.txt"
validated twice2
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}" -X batch.size=1
it_wait_outcomes 19 60
it_eq "twice1" "$(it_outcome twice1)" accepted
it_eq "twice2: the duplicate commit finds" "$(it_outcome twice2)" commit:duplicate
