#!/usr/bin/env bash
# A moderator's decisions back into the chain (schemas/README.md,
# "Review"): flagged uploads go through the real pipeline, then
# it-review-relay acts as the review service would -- the decision's
# transaction (review_items.state, the review event, its sealed head) and
# its relay's message to sluice.reviewed or sluice.rejected.
#   approve -> an accepted sample whose chain is validate, scan,
#              commit(queued_for_review), review, license, commit;
#   redact  -> an accepted sample without the finding, original_sha256 the
#              flagged bytes', the review event from the old to the new hash;
#   reject  -> a review:moderator_rejected rejection;
#   approve or redact after the creator opted out -> license:opted_out;
#   the same message relayed twice (in one batch and across batches) ->
#              one outcome, also when license refuses it;
#   a forged review event (the item still pending, or over a real
#              approval), or a real one with other findings than those
#              stored -> commit:review_unverified, and a clean upload after
#              them is accepted.
# `sluicectl audit verify --all` accepts every chain.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/review_lib.sh"
it_init reentry

W=$IT_DIR
relay() { # relay ACTION ID [args]: decide, then send as the relay would
    SLUICE_PG_DSN=$IT_OWNER_DSN "$IT_BIN/it-review-relay" "$@" \
        --key "$W/review-audit.key" >>"$W/relay.log" 2>&1 ||
        it_fail "it-review-relay $* failed: $(tail -n 3 "$W/relay.log")"
}
ctl creator add rv --generate-key "$W/k.pem" >/dev/null
ctl creator add oo --generate-key "$W/o.pem" >/dev/null
ctl dataset add plain >/dev/null
for svc in validate scan license commit; do it_start "$svc"; done

up() { # up ID CREATOR KEY TEXT: an upload the scanner flags (an IPv4 address)
    printf '%s\n' "$4" >"$W/$1.txt"
    ctl upload --creator "$2" --dataset plain --key "$W/$3" --upload-id "$1" \
        "$W/$1.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}
up ap rv k.pem "The server at 192.168.10.20 answered."
up rd rv k.pem "Redact host 192.168.1.77 now."
up rj rv k.pem "Reject host 10.9.8.7 please."
up oo oo o.pem "Opted out host 172.16.5.4 here."
up dup rv k.pem "Twice host 10.1.1.1 sent."
up dup2 rv k.pem "Twice later host 10.2.2.2 sent."
up rjdup rv k.pem "Reject twice host 10.3.3.3 sent."
up fg rv k.pem "Forged host 10.4.4.4 approval."
up fg2 rv k.pem "Forged over a real approval, host 10.5.5.5."
up rdoo oo o.pem "Opted out, redacted: host 172.16.9.9 here."
up sw rv k.pem "Swapped findings, host 10.6.6.6."
it_wait_outcomes 11 60
it_eq "all flagged" "$(it_sql "SELECT count(*) FROM review_items WHERE state = 'pending'")" 11

# --- the decisions and their relays --------------------------------------------
ctl optout add oo --reason "changed their mind" >/dev/null
relay approve ap
relay redact rd --reason confirmed_pii
relay reject rj --reason confirmed_pii --note "a real address"
relay approve oo --times 2 --pause-ms 1500
relay approve dup --times 2
relay approve dup2 --times 2 --pause-ms 1500
relay reject rjdup --times 2 --pause-ms 1500 --note "twice"
relay approve fg --forge
relay approve fg2
relay approve fg2 --forge --reason other
relay redact rdoo --times 2
relay approve sw --scan-header '{"outcome":"accepted","detected_type":"text/plain","findings":[]}'
it_wait_outcomes 23 45
sleep 2   # a late duplicate would land now

sha() { sha256sum "$W/$1.txt" | cut -c1-64; }
WHOLE="validate:accepted scan:flagged commit:queued_for_review review:approved license:accepted commit:committed"

it_eq "approve" "$(outcome ap)" sample
it_eq "approve: one unbroken chain" "$(chain ap)" "$WHOLE"
it_eq "approve: bytes and hash as flagged" \
    "$(it_sql "SELECT sha256 || ' ' || coalesce(original_sha256, 'none') FROM samples WHERE upload_id = 'ap'")" \
    "$(sha ap) none"

it_eq "redact" "$(outcome rd)" sample
it_eq "redact: chain" "$(chain rd)" "${WHOLE/review:approved/review:redacted}"
it_eq "redact: the bytes without the finding" \
    "$(it_sql "SELECT convert_from(c.data, 'UTF8') FROM contents c JOIN samples s USING (sha256) WHERE s.upload_id = 'rd'")" \
    "Redact host [REDACTED:IP_ADDRESS] now."
red=$(printf 'Redact host [REDACTED:IP_ADDRESS] now.\n' | sha256sum | cut -c1-64)
it_eq "redact: original and new hash" \
    "$(it_sql "SELECT original_sha256 || ' ' || sha256 FROM samples WHERE upload_id = 'rd'")" \
    "$(sha rd) $red"
it_eq "redact: the review event from the old hash to the new" \
    "$(it_sql "SELECT (canonical::json->>'input_sha256') || ' ' || (canonical::json->>'output_sha256')
               || ' ' || (canonical::json->>'reason') FROM provenance_events
               WHERE owner_kind = 'sample' AND owner_id = 'rd' AND stage = 'review'")" \
    "$(sha rd) $red confirmed_pii"
if it_sql "SELECT convert_from(c.data, 'UTF8') FROM contents c JOIN samples s USING (sha256)
           WHERE s.upload_id = 'rd'" | grep -qF 192.168.1.77; then
    it_fail "the redacted sample still holds the address"
fi

it_eq "reject" "$(outcome rj)" "review:moderator_rejected"
it_eq "reject: detail, hash and the flagged position" \
    "$(it_sql "SELECT r.detail || ' ' || (r.sha256 = i.sha256) || ' ' || (r.source_offset = i.source_offset)
               || ' ' || (r.source_topic = '${IT_PREFIX}sluice.flagged')
               FROM rejections r JOIN review_items i USING (upload_id) WHERE r.upload_id = 'rj'")" \
    "confirmed_pii: a real address true true true"
it_eq "reject: its chain" \
    "$(it_sql "SELECT string_agg(stage || ':' || outcome, ' ' ORDER BY seq) FROM provenance_events
               WHERE owner_kind = 'rejection' AND owner_id = (SELECT source_topic || '/' ||
               source_partition || '/' || source_offset FROM rejections WHERE upload_id = 'rj')")" \
    "validate:accepted scan:flagged commit:queued_for_review review:rejected commit:rejected"

it_eq "approve after opt-out" "$(outcome oo)" "license:opted_out"
it_eq "redact after opt-out" "$(outcome rdoo)" "license:opted_out"
# The relay's resends did happen: each message is on its topic twice.
keys() { # keys TOPIC: the keys of its committed messages
    kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}$1" -X isolation.level=read_committed \
        -e -q -f '%k\n' 2>/dev/null || it_fail "reading $1 failed"
}
it_eq "sent twice on sluice.reviewed" "$(keys sluice.reviewed | grep -cx 'dup\|dup2\|oo\|rdoo')" 8
it_eq "sent twice on sluice.rejected" "$(keys sluice.rejected | grep -cx rjdup)" 2
it_eq "relayed twice at once: one sample" "$(outcome dup)" sample
it_eq "relayed twice, 1.5 s apart: one sample" "$(outcome dup2)" sample
it_eq "rejection relayed twice: one rejection" "$(outcome rjdup)" "review:moderator_rejected"
it_eq "forged review event" "$(outcome fg)" "commit:review_unverified"
# The forgery is well formed: it passed license, only the database check
# at commit stops it.
it_eq "forged: its chain" \
    "$(it_sql "SELECT string_agg(stage || ':' || outcome, ' ' ORDER BY seq) FROM provenance_events
               WHERE owner_kind = 'rejection' AND owner_id = (SELECT source_topic || '/' ||
               source_partition || '/' || source_offset FROM rejections WHERE upload_id = 'fg')")" \
    "validate:accepted scan:flagged commit:queued_for_review review:approved license:accepted commit:rejected"
it_eq "forged: the item is still pending" \
    "$(it_sql "SELECT state FROM review_items WHERE upload_id = 'fg'")" pending
it_eq "forged: the detail" \
    "$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'fg'")" \
    'the review event says approved, review item "fg" is pending'
it_eq "forged over a real approval: the sample and a rejection" "$(outcome fg2 | tr '\n' ' ')" \
    "commit:review_unverified sample "
it_eq "forged over a real approval: the detail" \
    "$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'fg2'")" \
    'the review event at seq 4 is not the one stored for upload "fg2"'
it_eq "a real decision with other findings than those stored" "$(outcome sw)" \
    "commit:review_unverified"
it_eq "other findings: the detail" "$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'sw'")" \
    'the sluice-scan header is not the findings stored for review item "sw"'
it_eq "review items' end states" \
    "$(it_sql "SELECT string_agg(upload_id || ':' || state, ' ' ORDER BY upload_id COLLATE \"C\") FROM review_items")" \
    "ap:approved dup:approved dup2:approved fg:pending fg2:approved oo:approved rd:redacted rdoo:redacted rj:rejected rjdup:rejected sw:approved"
it_eq "outcomes: 5 samples, 7 rejections, 11 review items" \
    "$(it_sql "SELECT (SELECT count(*) FROM samples) || ' ' || (SELECT count(*) FROM rejections)
               || ' ' || (SELECT count(*) FROM review_items)")" "5 7 11"

# --- still flowing, and every chain verifies --------------------------------------
t0=$(date +%s)
printf 'A clean line about rivers.\n' >"$W/clean.txt"
ctl upload --creator rv --dataset plain --key "$W/k.pem" --upload-id clean "$W/clean.txt" \
    >/dev/null 2>>"$W/upload.log" || it_fail "upload clean failed"
it_wait_outcomes 24 20
it_eq "clean upload after them" "$(outcome clean)" sample
it_log "clean upload accepted in $(($(date +%s) - t0)) s"
ctl audit verify --all >"$W/audit.out" 2>&1 || it_fail "audit verify: $(tail -n 20 "$W/audit.out")"
it_log "audit verify --all: $(tail -n 1 "$W/audit.out")"
