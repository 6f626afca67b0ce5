#!/usr/bin/env bash
# A decision is never lost and never relayed twice: with the relay held
# (review.relay.enabled=false, test-only) sluice-review records an approve,
# a redact and a decision a lead reverses, each in one transaction with
# its outbox row; it is killed with SIGKILL before relaying; restarted,
# the relay sends exactly one message per remaining decision (the reversed
# one never), and marks them sent.  The redacted message carries the
# scanner's redaction, not the finding, and its chain records the old and
# the new hash.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/review_lib.sh"
it_init review_crash
rv_setup 3
rv_start -X review.relay.enabled=false -X review.reverse.window.s=120
rv_login ann
rv_login carl

decide() { # decide WHO ID ACTION REASON
    local who=$1 id=$2 csrf=RV_CSRF_${1^^} out
    out=$(rv_curl "$who" -X POST -H "X-CSRF-Token: ${!csrf}" "$RV_URL/api/items/$id/claim")
    [[ ${out%% *} == 200 ]] || it_fail "claim $id: $out"
    rv_curl "$who" -X POST -H "X-CSRF-Token: ${!csrf}" \
        -d '{"action":"'"$3"'","reason":"'"$4"'","shown_sha256":"'"$(rv_sha "$id")"'"}' \
        "$RV_URL/api/items/$id/decide"
}
it_eq "approve f1" "$(decide carl f1 approve false_positive | cut -d' ' -f1)" 200
it_eq "redact f2" "$(decide carl f2 redact confirmed_pii | cut -d' ' -f1)" 200
it_eq "approve f3" "$(decide carl f3 approve other | cut -d' ' -f1)" 200
it_eq "a moderator cannot reverse" "$(rv_curl carl -X POST -H "X-CSRF-Token: $RV_CSRF_CARL" \
    -d '{"reason":"other","note":"x"}' "$RV_URL/api/items/f3/reverse" | rv_err)" "403 lead_only"
out=$(rv_curl ann -X POST -H "X-CSRF-Token: $RV_CSRF_ANN" -d '{"reason":"rights_problem","note":"wait"}' \
    "$RV_URL/api/items/f3/reverse")
it_eq "a lead reverses within the window" "$(cut -d' ' -f1 <<<"$out") $(jq -r .state <<<"${out#* }")" "200 pending"
it_eq "outbox held" "$(it_sql "SELECT count(*) FILTER (WHERE sent_at IS NULL AND cancelled_at IS NULL),
    count(*) FILTER (WHERE cancelled_at IS NOT NULL) FROM review_outbox")" "2|1"
it_eq "states" "$(it_sql "SELECT string_agg(upload_id || ':' || state, ' ' ORDER BY upload_id) FROM review_items")" \
    "f1:approved f2:redacted f3:pending"
it_eq "f3's chain records the decision and its reversal" "$(it_sql "SELECT string_agg(outcome, ',' ORDER BY seq)
    FROM provenance_events WHERE owner_kind = 'review' AND owner_id = 'f3' AND stage = 'review'")" "approved,reversed"

it_kill review KILL
it_log "killed sluice-review before its relay ran"
n=$(kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.reviewed" -o beginning -e -q -f '%k\n' | grep -c . || true)
it_eq "nothing sent before the restart" "$n" 0

rv_start -X review.reverse.window.s=0
sent() { it_sql "SELECT count(*) FROM review_outbox WHERE sent_at IS NOT NULL"; }
it_wait_eq 2 20 sent
it_eq "both rows sent after the restart" "$(it_sql "SELECT count(*) FROM review_outbox WHERE sent_at IS NOT NULL")" 2
sleep 1
kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.reviewed" -o beginning -e -q \
    -f '%k\t%h\n' >"$IT_DIR/reviewed.txt"
it_eq "exactly one message per decision" "$(cut -f1 "$IT_DIR/reviewed.txt" | sort | tr '\n' ' ')" "f1 f2 "
kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.reviewed" -o beginning -e -q -k f2 \
    -f '%k %s\n' | grep '^f2 ' >"$IT_DIR/f2.value" || true
it_eq "redacted value" "$(cat "$IT_DIR/f2.value")" "f2 Sample 2: the server at [REDACTED:IP_ADDRESS] answered."
ev=$(it_sql "SELECT canonical FROM provenance_events WHERE owner_kind = 'review' AND owner_id = 'f2' ORDER BY seq DESC LIMIT 1")
it_eq "redact event: old and new hash" "$(jq -r '[.outcome, .input_sha256, .output_sha256] | join(" ")' <<<"$ev")" \
    "redacted $(sha256sum "$IT_DIR/f/f2.txt" | cut -d' ' -f1) $(printf 'Sample 2: the server at [REDACTED:IP_ADDRESS] answered.\n' | sha256sum | cut -d' ' -f1)"

for id in f1 f2 f3; do
    "$IT_BIN/sluicectl" audit verify --upload "$id" >"$IT_DIR/audit-$id.out" 2>&1 ||
        it_fail "audit verify $id: $(cat "$IT_DIR/audit-$id.out")"
done
it_log "audit verify: f1 f2 f3 clean"
it_log "review crash: ok"
