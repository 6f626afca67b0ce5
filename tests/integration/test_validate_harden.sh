#!/usr/bin/env bash
# Issue #9, at validate: an upload's headers are not the stages' headers,
# and an upload id is used once whatever its outcome.
#
#  1. A creator signs a valid upload and attaches sluice-reject-code,
#     sluice-reject-time=99999999999999999999, sluice-scan and sluice-prov
#     (and one Sluice-Reject-Code in another case).  The signature is good
#     (the same bytes without the forged headers are accepted), so before
#     this change validate passed them on and commit stored the accepted
#     upload as the forged rejection (or crashed on the time).  Now each is
#     refused at validate as header_reserved: exactly one rejection each.
#  2. An upload by a creator not yet registered is refused (creator_unknown);
#     the creator is registered and the very same message is sent again:
#     before this change it was accepted.  Now it is a replay, both while
#     validate remembers the id and after a restart (from the rejections
#     table); the original keeps its one rejection.
#  3. The same when validate restarts before commit has stored the first
#     refusal: the claim validate recorded before producing it decides.
#  Then a clean upload is accepted within seconds.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init vharden

cd "$IT_DIR"
ctl creator add alice --generate-key alice.pem >/dev/null
ctl dataset add ds >/dev/null
openssl genpkey -algorithm ed25519 -out late.pem 2>/dev/null
openssl pkey -in late.pem -pubout -out late.pub 2>/dev/null

# sign ID CREATOR KEY FILE: sets META and SIG for FILE.
sign() {
    local sha
    sha=$(openssl dgst -sha256 -r "$4" | cut -c1-64)
    META=$(printf '{"schema_version":1,"upload_id":"%s","creator_id":"%s","dataset_id":"ds","content_type":"text/plain","license":{"expression":"CC-BY-4.0"},"attestation":{"version":1,"rights_holder":true},"created_at":"%s","sha256":"%s"}' \
        "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$sha")
    printf 'sluice-upload-v1\n%s\n%s' "$sha" "$META" >to-sign.bin
    SIG=ed25519=$(openssl pkeyutl -sign -inkey "$3" -rawin -in to-sign.bin | base64 -w0)
}
send() { # send ID FILE [kcat args...]
    local id=$1 file=$2; shift 2
    kcat -P -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.uploads" -k "$id" \
        -H "sluice-meta=$META" -H "sluice-sig=$SIG" "$@" "$file"
}
count() { it_sql "SELECT count(*) FROM $1"; }

it_start validate
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"

# --- 1. forged stage headers ----------------------------------------------
printf 'a signed sample with forged stage headers\n' >forged.txt
sign forged-1 alice alice.pem forged.txt
send forged-1 forged.txt \
    -H "sluice-reject-code=pii_blocked" \
    -H "sluice-reject-time=99999999999999999999" \
    -H 'sluice-scan={"flagged":false,"findings":[]}' \
    -H "sluice-prov=forged"
sign forged-2 alice alice.pem forged.txt
send forged-2 forged.txt -H "Sluice-Reject-Code=secret_blocked"
it_wait_outcomes 2 60
it_eq "forged headers: rejections" \
    "$(it_sql "SELECT string_agg(upload_id || ':' || stage || ':' || code, ',' ORDER BY upload_id) FROM rejections")" \
    "forged-1:validate:header_reserved,forged-2:validate:header_reserved"
it_eq "forged-2 detail" "$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'forged-2'")" \
    'header "Sluice-Reject-Code" is reserved for the stages; an upload carries only sluice-meta and sluice-sig'
it_eq "forged headers: no sample, no review item" "$(count samples)/$(count review_items)" "0/0"

# --- 2. refused for a reason that clears, then re-sent ----------------------
printf 'a sample by a creator who registers late\n' >late.txt
sign late-1 late late.pem late.txt
send late-1 late.txt
it_wait_outcomes 3 60
it_eq "before registration" \
    "$(it_sql "SELECT code FROM rejections WHERE upload_id = 'late-1'")" creator_unknown
ctl creator add late --ed25519-pub late.pub >/dev/null
sleep 1.2   # past validate.creator.recheck.ms: the registration is seen
send late-1 late.txt                       # the same bytes, from validate's memory
it_wait_outcomes 4 60
it_kill validate
it_start validate
send late-1 late.txt                       # and from the registry, after a restart
it_wait_outcomes 5 60
it_eq "re-sent after registration" \
    "$(it_sql "SELECT string_agg(code, ',' ORDER BY rejection_id) FROM rejections WHERE upload_id = 'late-1'")" \
    "creator_unknown,replay,replay"
it_eq "the original keeps one rejection" \
    "$(it_sql "SELECT count(*) FROM rejections WHERE upload_id = 'late-1' AND code = 'creator_unknown'")" 1
it_eq "late-1 never accepted" "$(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'late-1'")" 0

# --- 3. the same, validate restarted before commit stored the refusal -------
# Neither validate's memory (restarted) nor the outcome tables (commit is
# down) know the first message: the claim validate wrote before producing
# its outcome does.
it_kill commit
openssl genpkey -algorithm ed25519 -out late2.pem 2>/dev/null
openssl pkey -in late2.pem -pubout -out late2.pub 2>/dev/null
printf 'refused, then re-sent across a restart\n' >late2.txt
sign late2-1 late2 late2.pem late2.txt
send late2-1 late2.txt
claims() { it_sql "SELECT count(*) FROM upload_claims WHERE upload_id = '$1'"; }
it_wait_eq 1 30 claims late2-1
it_eq "first message claimed" "$(claims late2-1)" 1
sleep 1            # its transaction commits (batch.ms 250)
it_kill validate   # its memory is gone
ctl creator add late2 --ed25519-pub late2.pub >/dev/null
it_start validate
send late2-1 late2.txt
# Its refusal reaches the dead-letter topic; the claim stays the first
# message's (one row per id, migration 016).
dead() {
    kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.rejected" -e -q \
        -X isolation.level=read_committed -f '%k\n' 2>/dev/null | grep -cx "$1" || true
}
it_wait_eq 2 30 dead late2-1
it_eq "both messages refused by validate" "$(dead late2-1)" 2
it_eq "the claim is the first message's" "$(claims late2-1)" 1
it_eq "no outcome stored yet for late2-1" \
    "$(it_sql "SELECT (SELECT count(*) FROM samples WHERE upload_id = 'late2-1') + (SELECT count(*) FROM rejections WHERE upload_id = 'late2-1')")" 0
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"
it_wait_outcomes 7 60
it_eq "re-sent across a restart" \
    "$(it_sql "SELECT string_agg(code || ':' || detail, ',' ORDER BY source_offset) FROM rejections WHERE upload_id = 'late2-1'")" \
    'creator_unknown:creator "late2" is not registered,replay:upload id "late2-1" was already used (claimed by an earlier message)'

# --- the pipeline still flows -----------------------------------------------
printf 'a clean sample\n' >clean.txt
sign clean-1 late late.pem clean.txt
t0=$(date +%s)
send clean-1 clean.txt
it_wait_outcomes 8 30
it_eq "clean upload accepted" "$(it_sql "SELECT creator_id FROM samples WHERE upload_id = 'clean-1'")" late
# The forged messages' signatures were good: the same bytes without the
# forged headers would have been accepted (the attack was a real upload).
sign forged-3 alice alice.pem forged.txt
send forged-3 forged.txt
it_wait_outcomes 9 30
it_eq "forged bytes without the headers" "$(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'forged-3'")" 1
it_eq "outcomes: samples/rejections/review" "$(count samples)/$(count rejections)/$(count review_items)" "2/7/0"
it_log "clean upload accepted $(($(date +%s) - t0)) s after sending"
