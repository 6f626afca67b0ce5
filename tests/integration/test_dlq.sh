#!/usr/bin/env bash
# Issue #15, dead-letter replay: `sluicectl dlq list` and `dlq replay`.
#
#  1. Uploads by a creator not yet registered are refused (creator_unknown).
#     The creator registers; the same message sent again is a replay (issue
#     #9's protection, reproduced here): re-sending is no way back in.
#  2. A creator cannot forge a replay: the uploader's Kafka user cannot
#     write sluice.replay, a sluice-replay header on sluice.uploads is
#     header_reserved, and even a message on sluice.replay (written here as
#     the cluster admin) naming a request the database does not hold is
#     replay_unauthorized.
#  3. `dlq list` shows the rejections; `dlq replay --dry-run` lists what it
#     would send and records and sends nothing.
#  4. `dlq replay --code creator_unknown --request r1` (as the operators'
#     Kafka user) turns each rejected upload into a sample, exactly once,
#     the replay recorded in its provenance (a dlq event before validate's);
#     running r1 again, or a new request, sends nothing more, also after a
#     run that died between the broker's acknowledgement and marking.
#  5. A replay that fails again (creator still unknown) is one more
#     rejection, not a loop.
#  6. Without its replay topic (a deployment from before it) a replay says
#     so, by name, and sends nothing.
#  Every message has exactly one outcome, and a clean upload is accepted.
IT_CTL_KAFKA=${SLUICE_CONFIG:-}   # the operators' Kafka user (stack.env)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init dlq

cd "$IT_DIR"
# sluicectl as the operators (sluice_ctl), not the cluster admin it_init sets
opctl() { SLUICE_CONFIG=${IT_CTL_KAFKA:-$SLUICE_CONFIG} "$IT_BIN/sluicectl" "$@"; }
ctl creator add alice --generate-key alice.pem >/dev/null
ctl dataset add ds >/dev/null
for who in late ghost; do
    openssl genpkey -algorithm ed25519 -out $who.pem 2>/dev/null
    openssl pkey -in $who.pem -pubout -out $who.pub 2>/dev/null
done

# sign ID CREATOR KEY FILE: sets META and SIG for FILE.
sign() {
    local sha
    sha=$(openssl dgst -sha256 -r "$4" | cut -c1-64)
    META=$(printf '{"schema_version":1,"upload_id":"%s","creator_id":"%s","dataset_id":"ds","content_type":"text/plain","license":{"expression":"CC-BY-4.0"},"attestation":{"version":1,"rights_holder":true},"created_at":"%s","sha256":"%s"}' \
        "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$sha")
    printf 'sluice-upload-v1\n%s\n%s' "$sha" "$META" >to-sign.bin
    SIG=ed25519=$(openssl pkeyutl -sign -inkey "$3" -rawin -in to-sign.bin | base64 -w0)
}
send() { # send TOPIC ID FILE [kcat args...]: META and SIG of the last sign
    local topic=$1 id=$2 file=$3; shift 3
    kcat -P -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}$topic" -k "$id" \
        -H "sluice-meta=$META" -H "sluice-sig=$SIG" "$@" "$file"
}
outcomes() {
    it_sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)"
}
on_replay_topic() {
    timeout 30 kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.replay" \
        -e -q -f '%k\n' 2>/dev/null | grep -c . || true
}

it_start validate
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"

# --- 1. refused, registered, re-sent: a replay ----------------------------
for i in 1 2 3; do
    printf 'sample %s by a creator who registers late\n' "$i" >late-$i.txt
    sign late-$i late late.pem late-$i.txt
    cp to-sign.bin late-$i.signed
    echo "$META" >late-$i.meta
    echo "$SIG" >late-$i.sig
    send sluice.uploads late-$i late-$i.txt
done
it_wait_outcomes 3 60
it_eq "before registration" \
    "$(it_sql "SELECT string_agg(upload_id || ':' || code, ',' ORDER BY upload_id) FROM rejections")" \
    "late-1:creator_unknown,late-2:creator_unknown,late-3:creator_unknown"
ctl creator add late --ed25519-pub late.pub >/dev/null
sleep 1.2   # past validate.creator.recheck.ms
META=$(cat late-1.meta) SIG=$(cat late-1.sig) send sluice.uploads late-1 late-1.txt
it_wait_outcomes 4 60
it_eq "re-sent by anyone: a replay" \
    "$(it_sql "SELECT code FROM rejections WHERE upload_id = 'late-1' ORDER BY rejection_id DESC LIMIT 1")" replay

# --- 2. a creator cannot forge a replay ------------------------------------
if [[ -n ${SLUICE_KCAT_CONFIG_UPLOADER:-} ]]; then
    it_eq "the uploader writes sluice.replay" \
        "$(printf 'x' | timeout 30 kcat -P -b "$SLUICE_KAFKA_BROKERS" -F "$SLUICE_KCAT_CONFIG_UPLOADER" \
            -t "${IT_PREFIX}sluice.replay" -k late-2 2>&1 | grep -Eo 'Topic authorization failed' | head -n 1)" \
        "Topic authorization failed"
fi
META=$(cat late-2.meta) SIG=$(cat late-2.sig) send sluice.uploads late-2 late-2.txt -H "sluice-replay=r1"
META=$(cat late-3.meta) SIG=$(cat late-3.sig) send sluice.replay late-3 late-3.txt -H "sluice-replay=forged"
it_wait_outcomes 6 60
it_eq "forged replays" \
    "$(it_sql "SELECT string_agg(upload_id || ':' || code, ',' ORDER BY upload_id) FROM rejections WHERE rejection_id > 4")" \
    "late-2:header_reserved,late-3:replay_unauthorized"
it_eq "forged: no sample" "$(it_sql "SELECT count(*) FROM samples")" 0

# --- 3. list, dry run ------------------------------------------------------
it_eq "dlq list --code creator_unknown" \
    "$(ctl dlq list --code creator_unknown --json | jq -r '[.[] | .upload_id + ":" + .stage] | sort | join(",")')" \
    "late-1:validate,late-2:validate,late-3:validate"
it_eq "dlq list --stage validate --since" \
    "$(ctl dlq list --stage validate --since 2000-01-01T00:00:00Z --json | jq length)" 6
it_eq "dlq list --since the future" "$(ctl dlq list --since 2999-01-01T00:00:00Z)" "no rejections"
out=$(opctl dlq replay --code creator_unknown --dry-run) || it_fail "dry run failed: $out"
it_eq "dry run lists" "$(grep -c '^would replay: upload late-[123] ' <<<"$out")" 3
it_eq "dry run: nothing recorded" "$(it_sql "SELECT count(*) FROM dlq_replays")" 0
# (sluicectl flushes before it exits: what it sent is on the topic now)
it_eq "dry run: nothing sent (the forged one only)" "$(on_replay_topic)" 1
it_eq "dry run: no new outcome" "$(outcomes)" 6

# --- 4. replay, exactly once -------------------------------------------------
out=$(opctl dlq replay --code creator_unknown --request r1) || it_fail "replay failed: $out"
it_eq "replay r1" "$(tail -n 1 <<<"$out")" "request r1: 3 replayed, 0 not"
it_wait_outcomes 9 60
it_eq "samples after replay" \
    "$(it_sql "SELECT string_agg(upload_id, ',' ORDER BY upload_id) FROM samples")" "late-1,late-2,late-3"
it_eq "late-1's chain" \
    "$(it_sql "SELECT string_agg(stage || ':' || outcome || ':' || coalesce(canonical::json->>'reason', '-'), ',' ORDER BY seq)
               FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = 'late-1'")" \
    "dlq:replayed:r1,validate:accepted:-,commit:committed:-"
it_eq "items sent" "$(it_sql "SELECT string_agg(upload_id || ':' || state, ',' ORDER BY upload_id) FROM dlq_replay_items")" \
    "late-1:sent,late-2:sent,late-3:sent"
it_eq "dlq list shows the request" \
    "$(ctl dlq list --code creator_unknown --json | jq -r '[.[] | .upload_id + ":" + .replayed_by] | sort | join(",")')" \
    "late-1:r1,late-2:r1,late-3:r1"
out=$(opctl dlq replay --code creator_unknown --request r1) || it_fail "second run failed: $out"
it_eq "r1 again" "$(tail -n 1 <<<"$out")" "nothing to replay"
# a run that died after the broker's acknowledgement, before marking: the
# next run finds the copy on sluice.replay and does not send it again
it_sql "UPDATE dlq_replay_items SET state = 'pending', sent_at = NULL WHERE upload_id = 'late-2'" >/dev/null
out=$(opctl dlq replay --code creator_unknown --request r1) || it_fail "resumed run failed: $out"
it_eq "r1 resumed" "$(grep -c '^replayed (by an earlier run, not marked): upload late-2 ' <<<"$out")/$(tail -n 1 <<<"$out")" \
    "1/request r1: 1 replayed, 0 not"
it_eq "r1 resumed: marked" "$(it_sql "SELECT state FROM dlq_replay_items WHERE upload_id = 'late-2'")" sent
out=$(opctl dlq replay --code creator_unknown) || it_fail "new request failed: $out"
it_eq "a new request" "$(tail -n 1 <<<"$out")" "nothing to replay"
out=$(opctl dlq replay --code stale --request r1 2>&1) && it_fail "r1 with another code ran: $out"
rc=0; opctl dlq replay --code header_reserved >/dev/null 2>&1 || rc=$?
it_eq "header_reserved is never replayed (usage error)" "$rc" 2
it_eq "nothing more sent" "$(on_replay_topic)" 4
sleep 1
it_eq "nothing more stored" "$(outcomes)" 9
it_eq "each sample once" "$(it_sql "SELECT count(DISTINCT upload_id) FROM samples")" 3
it_eq "audit verify" "$(ctl audit verify --all >/dev/null 2>&1 && echo clean)" clean

# --- 5. a replay that fails again: one more rejection ---------------------
printf 'a sample by a creator who never registers\n' >ghost.txt
sign ghost-1 ghost ghost.pem ghost.txt
send sluice.uploads ghost-1 ghost.txt
it_wait_outcomes 10 60
out=$(opctl dlq replay --code creator_unknown --request r2) || it_fail "replay r2 failed: $out"
it_eq "replay r2" "$(tail -n 1 <<<"$out")" "request r2: 1 replayed, 0 not"
it_wait_outcomes 11 60
sleep 2   # a loop would add rejections by now
it_eq "ghost-1 refused again, once" \
    "$(it_sql "SELECT string_agg(code || '@' || replace(source_topic, '$IT_PREFIX', ''), ',' ORDER BY rejection_id)
               FROM rejections WHERE upload_id = 'ghost-1'")" \
    "creator_unknown@sluice.uploads,creator_unknown@sluice.replay"
it_eq "no loop" "$(outcomes)" 11

# --- a deployment without the replay topic ---------------------------------
# (ghost-1's second rejection is pending again; the cluster admin sees every
# topic, so the broker answers that this one does not exist)
out=$(SLUICE_TOPIC_PREFIX=${IT_PREFIX}none- ctl dlq replay --code creator_unknown --request r3 2>&1) &&
    it_fail "a replay without its topic ran: $out"
it_eq "no replay topic: named" "$(grep -c "topic ${IT_PREFIX}none-sluice.replay does not exist" <<<"$out")" 1
it_eq "no replay topic: nothing sent" "$(on_replay_topic)" 5

# --- the pipeline still flows ----------------------------------------------
printf 'a clean sample\n' >clean.txt
sign clean-1 alice alice.pem clean.txt
send sluice.uploads clean-1 clean.txt
it_wait_outcomes 12 30
it_eq "clean upload accepted" "$(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'clean-1'")" 1
# uploads 3 + 1 + 1 + ghost 1 + clean 1, replay topic 1 forged + 3 + 1
it_eq "one outcome per message" "$(outcomes)" 12
it_log "PASS"
