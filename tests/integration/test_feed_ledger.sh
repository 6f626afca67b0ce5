#!/usr/bin/env bash
# From delivery to a creator's statement, through the real services: samples
# committed by the chain, their content fetched from sluice-feed by a
# consumer (metered once), sluice-ledger (running, polling only every 30 s)
# woken by the usage notification to post them, and the creator reading
# the month's statement through the feed with its own token -- never
# another creator's, never with a consumer's token, never once revoked.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
IT_PARTITIONS=1
it_init feed_ledger

fd_creator alice
fd_creator bob
"$IT_BIN/sluicectl" dataset add ds1 >/dev/null
"$IT_BIN/sluicectl" dataset set ds1 --fee-bps 1500 >/dev/null
fd_chain
fd_upload l1 alice ds1 "alice's first sample"
fd_upload l2 alice ds1 "alice's second sample"
fd_upload l3 bob ds1 "bob's sample"
it_wait_outcomes 3 60
fd_consumer acme
fd_grant acme ds1 1001          # micro-USD: 15% fee leaves a rounding micro
TOK=$(fd_token acme)
ALICE=$(fd_creator_token alice)
fd_start
# A long poll interval: a posting within seconds is the notification's doing.
it_start ledger -X ledger.poll.ms=30000 -X ledger.fee.bps=1000

for id in l1 l2 l3 l1; do
    it_eq "content of $id" "$(fd_get "$TOK" "/v1/samples/$id/content")" 200
done
it_eq "usage events (l1 fetched twice, charged once)" \
    "$(it_sql "SELECT count(*) FROM usage_events WHERE consumer_id = 'acme'")" 3
posted() { it_sql "SELECT count(*) FROM ledger_postings"; }
it_wait_eq 3 10 posted
it_eq "posted within 10 s of delivery (notified, not polled)" "$(posted)" 3
# 1001 at 1500 bps: net floor(1001 * 0.85) = 850, fee floor(150.15) = 150,
# rounding 1; alice earned two, bob one.
it_eq "alice's balance" \
    "$("$IT_BIN/sluicectl" ledger balance --creator alice --json | jq -r '.[0].posted_micros')" 1700
"$IT_BIN/sluicectl" ledger verify >"$IT_DIR/verify.out" 2>&1 || it_fail "ledger verify: $(cat "$IT_DIR/verify.out")"

MONTH=$(date -u +%Y-%m)
it_eq "alice's statement" "$(fd_get "$ALICE" "/v1/creators/me/statement?month=$MONTH")" 200
it_eq "statement closing" "$(jq -r '.closing_micros // .closing' "$IT_DIR/body")" 1700
jq -e --arg c alice '.. | objects | select(has("creator_id")) | .creator_id == $c' "$IT_DIR/body" \
    >/dev/null || it_fail "statement not alice's: $(head -c 300 "$IT_DIR/body")"
it_eq "the same as sluicectl's" \
    "$(jq -S 'del(.generated_at)' "$IT_DIR/body")" \
    "$("$IT_BIN/sluicectl" ledger statement --creator alice --month "$MONTH" --json | jq -S 'del(.generated_at)')"
it_eq "another creator's by query: still one's own" \
    "$(fd_get "$ALICE" "/v1/creators/me/statement?month=$MONTH&creator=bob" >/dev/null;
       jq -r '.closing_micros // .closing' "$IT_DIR/body")" 1700
it_eq "no month" "$(fd_get "$ALICE" /v1/creators/me/statement)" 400
it_eq "no month: code" "$(jq -r .error "$IT_DIR/body")" bad_request
it_eq "a bad month" "$(fd_get "$ALICE" "/v1/creators/me/statement?month=2026-13")" 400
it_eq "a consumer's token" "$(fd_get "$TOK" "/v1/creators/me/statement?month=$MONTH")" 403
it_eq "no token" "$(fd_get "" "/v1/creators/me/statement?month=$MONTH")" 401
fd_revoke "$ALICE"
it_eq "revoked" "$(fd_get "$ALICE" "/v1/creators/me/statement?month=$MONTH")" 401
it_kill ledger
fd_done
it_log "feed ledger: all good"
