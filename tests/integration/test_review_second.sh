#!/usr/bin/env bash
# N-of-M review: with review.second.rules naming the rule that flagged an
# item, one moderator's approval leaves it awaiting a second (no event, no
# message), the same moderator cannot be the second, and a second
# moderator's approval decides it: one review event, one outbox row.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/review_lib.sh"
it_init review_second
rv_setup 1
rv_start -X review.second.rules=email,ipv4 -X review.reverse.window.s=0
rv_login ann
rv_login carl
body='{"action":"approve","reason":"false_positive","shown_sha256":"'$(rv_sha f1)'"}'
claim() { local c=RV_CSRF_${1^^}; rv_curl "$1" -X POST -H "X-CSRF-Token: ${!c}" "$RV_URL/api/items/f1/claim" | cut -d' ' -f1; }
decide() { local c=RV_CSRF_${1^^}; rv_curl "$1" -X POST -H "X-CSRF-Token: ${!c}" -d "$body" "$RV_URL/api/items/f1/decide"; }

it_eq "ann claims" "$(claim ann)" 200
out=$(decide ann)
it_eq "first approval" "$(cut -d' ' -f1 <<<"$out") $(jq -r .state <<<"${out#* }")" "202 awaiting_second"
it_eq "no event, no message yet" "$(it_sql "SELECT (SELECT count(*) FROM provenance_events WHERE owner_kind = 'review'
    AND owner_id = 'f1' AND stage = 'review') || ',' || (SELECT count(*) FROM review_outbox)")" "0,0"
it_eq "still in the queue" "$(rv_curl ann "$RV_URL/api/queue" | cut -d' ' -f2- | jq -r '.items[0].state')" awaiting_second
it_eq "ann claims again" "$(claim ann)" 200
it_eq "ann cannot be the second" "$(decide ann | rv_err)" "409 second_needs_other"
it_eq "carl claims" "$(claim carl)" 409
# ann's lease still runs; let it run out (as ten minutes would).
it_sql "UPDATE review_items SET claim_until = now() WHERE upload_id = 'f1'" >/dev/null
it_eq "carl claims once ann's lease ran out" "$(claim carl)" 200
out=$(decide carl)
it_eq "second approval" "$(cut -d' ' -f1 <<<"$out") $(jq -r .state <<<"${out#* }")" "200 approved"
it_eq "approvals" "$(it_sql "SELECT string_agg(moderator, ',' ORDER BY moderator) FROM review_approvals")" "ann,carl"
it_eq "one event, one message" "$(it_sql "SELECT (SELECT count(*) FROM provenance_events WHERE owner_kind = 'review'
    AND owner_id = 'f1' AND stage = 'review') || ',' || (SELECT count(*) FROM review_outbox)")" "1,1"
it_log "review second: ok"
