#!/usr/bin/env bash
# The whole way round, through the real sluice-review: uploads the scanner
# flags go validate -> scan -> commit (review items); a moderator decides
# them over the JSON API; the relay sends the decisions on; license and
# commit end each as exactly one outcome:
#   approve            -> an accepted sample, one chain from the creator's
#                         signature through the review to the commit;
#   redact and approve -> an accepted sample without the finding, the old
#                         and the new hash in its chain;
#   reject             -> a review:moderator_rejected rejection;
#   approve after the creator opted out -> license:opted_out.
# `sluicectl audit verify --all` accepts every chain, and a clean upload
# after them is accepted.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/review_lib.sh"
it_init review_chain

W=$IT_DIR
ctl creator add rc --generate-key "$W/k.pem" >/dev/null
ctl creator add oo --generate-key "$W/o.pem" >/dev/null
ctl dataset add ds1 >/dev/null
printf 'pw-ann-correct-horse\n' >"$W/pw-ann"
chmod 600 "$W/pw-ann"
ctl moderator add ann --role lead --password-file "$W/pw-ann" >/dev/null
for svc in validate scan license commit; do it_start "$svc"; done

up() { # up ID KEY CREATOR TEXT: an upload the scanner flags (an IPv4 address)
    printf '%s\n' "$4" >"$W/$1.txt"
    ctl upload --creator "$3" --dataset ds1 --key "$W/$2" --upload-id "$1" \
        "$W/$1.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}
up ap k.pem rc "Approve: the server at 192.168.10.20 answered."
up rd k.pem rc "Redact: host 192.168.1.77 now."
up rj k.pem rc "Reject: host 10.9.8.7 please."
up oo o.pem oo "Opted out since: host 172.16.5.4 here."
it_wait_outcomes 4 90
it_eq "all flagged" "$(it_sql "SELECT count(*) FROM review_items WHERE state = 'pending'")" 4

rv_start -X review.reverse.window.s=0
rv_login ann
decide() { # decide ID ACTION REASON: claim, then decide over the JSON API
    local out body
    out=$(rv_curl ann -X POST -H "X-CSRF-Token: $RV_CSRF_ANN" "$RV_URL/api/items/$1/claim")
    [[ ${out%% *} == 200 ]] || it_fail "claim $1: $out"
    body='{"action":"'$2'","reason":"'$3'","note":"by the chain test","shown_sha256":"'$(rv_sha "$1")'"}'
    out=$(rv_curl ann -X POST -H "X-CSRF-Token: $RV_CSRF_ANN" -H 'Content-Type: application/json' \
        -d "$body" "$RV_URL/api/items/$1/decide")
    [[ ${out%% *} == 200 ]] || it_fail "decide $1 $2: $out"
}
ctl optout add oo --reason "changed their mind" >/dev/null
decide ap approve false_positive
decide rd redact confirmed_pii
decide rj reject confirmed_pii
decide oo approve false_positive
it_wait_outcomes 8 60
sleep 1   # a second copy of a relayed message would land now

sha() { sha256sum "$W/$1.txt" | cut -c1-64; }
WHOLE="validate:accepted scan:flagged commit:queued_for_review review:approved license:accepted commit:committed"

it_eq "approve" "$(outcome ap)" sample
it_eq "approve: one unbroken chain" "$(chain ap)" "$WHOLE"
it_eq "approve: the moderator is in the chain" \
    "$(it_sql "SELECT canonical::json->>'actor' FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = 'ap' AND stage = 'review'")" ann
it_eq "approve: the bytes as flagged" "$(it_sql "SELECT sha256 FROM samples WHERE upload_id = 'ap'")" "$(sha ap)"

it_eq "redact" "$(outcome rd)" sample
it_eq "redact: chain" "$(chain rd)" "${WHOLE/review:approved/review:redacted}"
it_eq "redact: the finding is gone" \
    "$(it_sql "SELECT convert_from(c.data, 'UTF8') FROM contents c JOIN samples s USING (sha256) WHERE s.upload_id = 'rd'")" \
    "Redact: host [REDACTED:IP_ADDRESS] now."
red=$(printf 'Redact: host [REDACTED:IP_ADDRESS] now.\n' | sha256sum | cut -c1-64)
it_eq "redact: new hash, original kept" \
    "$(it_sql "SELECT sha256 || ' ' || original_sha256 FROM samples WHERE upload_id = 'rd'")" "$red $(sha rd)"
it_eq "redact: the review event goes from the old hash to the new" \
    "$(it_sql "SELECT (canonical::json->>'input_sha256') || ' ' || (canonical::json->>'output_sha256')
               FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = 'rd' AND stage = 'review'")" \
    "$(sha rd) $red"

it_eq "reject" "$(outcome rj)" "review:moderator_rejected"
it_eq "reject: the reason and note" "$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'rj'")" \
    "confirmed_pii: by the chain test"
it_eq "approve after the opt-out" "$(outcome oo)" "license:opted_out"
it_eq "end states" "$(it_sql "SELECT string_agg(upload_id || ':' || state, ' ' ORDER BY upload_id) FROM review_items")" \
    "ap:approved oo:approved rd:redacted rj:rejected"
it_eq "one outcome each" "$(it_sql "SELECT (SELECT count(*) FROM samples) || '/' || (SELECT count(*) FROM rejections)")" "2/2"
ctl audit verify --all >"$W/audit.out" 2>&1 || it_fail "audit verify: $(cat "$W/audit.out")"

# --- the pipeline still flows ----------------------------------------------------
printf 'a clean sample\n' >"$W/clean.txt"
t0=$(date +%s)
ctl upload --creator rc --dataset ds1 --key "$W/k.pem" --upload-id clean "$W/clean.txt" \
    >/dev/null 2>>"$W/upload.log" || it_fail "upload clean failed"
it_wait_outcomes 9 30
it_eq "clean upload accepted" "$(outcome clean)" sample
it_log "review chain: ok; clean upload accepted $(($(date +%s) - t0)) s after sending"
