#!/usr/bin/env bash
# test_ledger_payout: statements and payouts (issue #13) over a ledger
# posted by the real poster (sluice-ledger, run once per batch of usage).
#   - statement arithmetic against hand-computed values: a past month and
#     the current one (opening from the past month), two datasets, a split
#     with a rounding remainder, a clawback and a confirmed payout as lines,
#     text, --json (with the usage and link ids) and --csv;
#   - payout run: the minimum threshold, once per creator and month;
#   - confirm posts, a second confirm or a fail after it is refused (exit
#     1, nothing changed); fail voids and returns the balance, a second
#     fail or a confirm after it is refused;
#   - the finance CSV; the ledger's invariants after every step.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ledger_lib.sh"
it_init ledger_payout
W=$IT_DIR
CTL=$IT_BIN/sluicectl
# The current month and the one before, as the ledger's clock sees them.
NOW_M=$(it_sql "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')")
PREV_M=$(it_sql "SELECT to_char((now() AT TIME ZONE 'UTC') - interval '1 month', 'YYYY-MM')")
PREV_MID="${PREV_M}-15 12:00:00+00"

lg_world
# ds-b: a 25% fee and clawbacks, set as an operator does.
"$CTL" dataset set ds-b --fee-bps 2500 --withdrawal-policy clawback >"$W/set.out"
grep -q "withdrawal policy    clawback, fee 2500 bps" "$W/set.out" || it_fail "set: $(cat "$W/set.out")"
it_eq "dataset show" "$("$CTL" dataset show ds-b --json | jq -c '[.withdrawal_policy, .fee_bps]')" \
    '["clawback",2500]'
it_eq "ds-a keeps the defaults" "$(it_sql "SELECT withdrawal_policy || coalesce(fee_bps::text, '-')
    FROM datasets WHERE dataset_id = 'ds-a'")" "kept-"
rc=0; "$CTL" dataset set ds-b --fee-bps 10001 2>/dev/null || rc=$?
it_eq "fee over 100% is a usage error" "$rc" 2
rc=0; "$CTL" dataset set ds-b --withdrawal-policy forget 2>/dev/null || rc=$?
it_eq "unknown policy is a usage error" "$rc" 2
"$CTL" dataset set ds-a --fee-bps 500 >/dev/null
"$CTL" dataset set ds-a --fee-bps default >/dev/null
it_eq "fee back to the default" "$(it_sql "SELECT coalesce(fee_bps::text, 'null') FROM datasets
    WHERE dataset_id = 'ds-a'")" "null"
# Last month: k1 used alice's u1 (ds-a) at 1.000000, fee 10% -> net 0.900000.
lg_deliver k1 u1 alice ds-a 1000000
lg_post
lg_backdate "$PREV_MID" 1
# This month: u2 by k1 and k2 at 1.000000 (net 0.900000 each); u3 (ds-b, fee
# 25%) at 0.000015: net floor(11.25) = 11, fee floor(3.75) = 3, rounding 1;
# bob's u4 at 2.000000 -> 1.800000; k1 fetching u2 again is not charged.
lg_deliver k1 u2 alice ds-a 1000000
lg_deliver k2 u2 alice ds-a 1000000
lg_deliver k2 u3 alice ds-b 15
lg_deliver k1 u4 bob ds-a 2000000
lg_deliver k1 u2 alice ds-a 1000000
lg_post
it_eq "usage events posted" "$(it_sql "SELECT count(*) FROM ledger_postings")" 5
lg_invariants

# --- statements -------------------------------------------------------------
"$CTL" ledger statement --creator alice --month "$PREV_M" --json >"$W/s1.json"
it_eq "last month: opening, lines, closing" \
    "$(jq -c '[.opening_micros, [.lines[] | [.type, .dataset_id, .samples, .consumers,
               .gross_micros, .fee_micros, .rounding_micros, .net_micros, .usage_ids,
               .link_ids]], .closing_micros, .balanced]' "$W/s1.json")" \
    '[0,[["earnings","ds-a",1,1,1000000,100000,0,900000,[1],["usage:1"]]],900000,true]'
"$CTL" ledger statement --creator alice --month "$NOW_M" --json >"$W/s2.json"
it_eq "this month: opening = last month's closing" "$(jq .opening_micros "$W/s2.json")" 900000
it_eq "this month: a line per dataset" \
    "$(jq -c '[.lines[] | [.dataset_id, .samples, .consumers, .gross_micros, .fee_micros,
              .rounding_micros, .net_micros, .usage_ids]]' "$W/s2.json")" \
    '[["ds-a",2,2,2000000,200000,0,1800000,[2,3]],["ds-b",1,1,15,3,1,11,[4]]]'
it_eq "this month: closing = 0.900000 + 1.800000 + 0.000011" \
    "$(jq -c '[.closing_micros, .totals.net_micros, .totals.gross_micros]' "$W/s2.json")" \
    '[2700011,1800011,2000015]'
"$CTL" ledger statement --creator alice --month "$NOW_M" >"$W/s2.txt"
grep -q "opening balance   0.900000" "$W/s2.txt" || it_fail "text: $(cat "$W/s2.txt")"
grep -Eq "^  earnings +ds-b +1 +1 +0.000015 +0.000003 +0.000001 +0.000011$" "$W/s2.txt" ||
    it_fail "text ds-b line: $(cat "$W/s2.txt")"
grep -q "closing balance   2.700011" "$W/s2.txt" || it_fail "text closing: $(cat "$W/s2.txt")"
"$CTL" ledger statement --creator alice --month "$NOW_M" --csv >"$W/s2.csv"
it_eq "csv" "$(tr -d '\r' <"$W/s2.csv" | cut -d, -f4-)" \
"line,dataset_id,payout_id,samples,consumers,gross,fee,rounding,net
opening,,,,,,,,0.900000
earnings,ds-a,,2,2,2.000000,0.200000,0.000000,1.800000
earnings,ds-b,,1,1,0.000015,0.000003,0.000001,0.000011
total,,,3,,2.000015,0.200003,0.000001,1.800011
closing,,,,,,,,2.700011"
# A statement that would not balance is refused, never printed: a charge
# whose posting was lost (a ledger someone edited).
it_sql "DELETE FROM ledger_postings WHERE usage_id = 4" >/dev/null
rc=0; "$CTL" ledger statement --creator alice --month "$NOW_M" >"$W/bad.out" 2>"$W/bad.err" || rc=$?
it_eq "an unbalanced statement exits 1" "$rc" 1
grep -q "does not balance: opening 900000 + lines 1800000 = 2700000, but the closing balance is 2700011" \
    "$W/bad.err" || it_fail "unbalanced message: $(cat "$W/bad.err")"
[[ ! -s $W/bad.out ]] || it_fail "an unbalanced statement printed: $(cat "$W/bad.out")"
it_sql "INSERT INTO ledger_postings (usage_id, link_id, posted_at)
        SELECT 4, 'usage:4', posted_at FROM ledger_transfers WHERE transfer_id = 'usage:4:net'" >/dev/null
"$CTL" ledger statement --creator alice --month "$NOW_M" >/dev/null
rc=0; "$CTL" ledger statement --creator nobody --month "$NOW_M" 2>"$W/e" || rc=$?
it_eq "unknown creator" "$rc:$(cat "$W/e")" '1:sluicectl: ledger statement: no creator "nobody"'
rc=0; "$CTL" ledger statement --creator alice --month 2026-13 2>/dev/null || rc=$?
it_eq "bad month is a usage error" "$rc" 2

# --- balances ---------------------------------------------------------------
it_eq "balance alice" "$("$CTL" ledger balance --creator alice --json |
    jq -c '[.[] | [.currency, .posted_micros, .debits_pending_micros, .available_micros]]')" \
    '[["USD",2700011,0,2700011]]'
it_eq "balance k1 (owes)" "$("$CTL" ledger balance --consumer k1 --json | jq -c '[.[].posted_micros]')" \
    '[-4000000]'
it_eq "balance platform" "$("$CTL" ledger balance --platform --json |
    jq -c '[.[] | [.kind, .posted_micros]]')" '[["platform",500003],["rounding",1]]'
it_eq "carol has no account" "$("$CTL" ledger balance --creator carol)" \
    "no ledger account for creator carol: nothing posted (balance 0)"

# --- payouts ----------------------------------------------------------------
# Last month, minimum 0.500000: alice was owed 0.900000 by its end, bob
# nothing yet.
"$CTL" payout run --month "$PREV_M" --min 0.5 >"$W/run1.out"
it_eq "run last month" "$(cat "$W/run1.out")" \
"payout 1: creator alice, $PREV_M, USD 0.900000 pending
1 payout created for $PREV_M; 1 creator account owed nothing or less than the minimum; 0 already had a payout for the month"
it_eq "alice: pending is not available" "$("$CTL" ledger balance --creator alice --json |
    jq -c '[.[] | [.posted_micros, .debits_pending_micros, .available_micros]]')" '[[2700011,900000,1800011]]'
lg_invariants
"$CTL" payout confirm 1 --reference wire-0001 >"$W/c1.out"
it_eq "confirm" "$(cat "$W/c1.out")" "payout 1 confirmed: USD 0.900000 paid out"
rc=0; "$CTL" payout confirm 1 --reference wire-0002 2>"$W/c2.err" || rc=$?
it_eq "a second confirm exits 1" "$rc" 1
grep -q "payout 1 was already confirmed at .* (reference wire-0001); a payout is confirmed or failed once only: nothing was changed" \
    "$W/c2.err" || it_fail "second confirm: $(cat "$W/c2.err")"
rc=0; "$CTL" payout fail 1 --reason bounced 2>/dev/null || rc=$?
it_eq "fail after confirm exits 1" "$rc" 1
it_eq "one post, no void, reference kept" "$(it_sql "SELECT string_agg(transfer_id, ' ' ORDER BY seq)
    FROM ledger_transfers WHERE link_id = 'payout:1'"):$(it_sql "SELECT state || ' ' || reference FROM payouts")" \
    "payout:1 payout:1:post:confirmed wire-0001"
lg_invariants
it_eq "alice after the payout" "$("$CTL" ledger balance --creator alice --json |
    jq -c '[.[] | [.posted_micros, .debits_pending_micros]]')" '[[1800011,0]]'

# This month, minimum 2.000000: alice is owed 1.800011, bob 1.800000: none.
it_eq "min 2 pays nobody" "$("$CTL" payout run --month "$NOW_M" --min 2)" \
    "0 payouts created for $NOW_M; 2 creator accounts owed nothing or less than the minimum; 0 already had a payout for the month"
it_eq "min 1.8 pays both" "$("$CTL" payout run --month "$NOW_M" --min 1.8)" \
"payout 2: creator alice, $NOW_M, USD 1.800011 pending
payout 3: creator bob, $NOW_M, USD 1.800000 pending
2 payouts created for $NOW_M; 0 creator accounts owed nothing or less than the minimum; 0 already had a payout for the month"
it_eq "once per month" "$("$CTL" payout run --month "$NOW_M" | tail -1)" \
    "0 payouts created for $NOW_M; 0 creator accounts owed nothing or less than the minimum; 2 already had a payout for the month"
it_eq "nothing left to pay alice" "$("$CTL" ledger balance --creator alice --json | jq '.[0].available_micros')" 0
# bob's payment bounced: the money is his again.
it_eq "fail" "$("$CTL" payout fail 3 --reason "account closed")" \
    "payout 3 failed: USD 1.800000 returned to the creator's balance"
it_eq "bob's balance back" "$("$CTL" ledger balance --creator bob --json |
    jq -c '[.[] | [.posted_micros, .debits_pending_micros, .available_micros]]')" '[[1800000,0,1800000]]'
rc=0; "$CTL" payout fail 3 --reason again 2>"$W/f2.err" || rc=$?
it_eq "a second fail exits 1" "$rc" 1
grep -q "payout 3 was already failed at .* (reason account closed)" "$W/f2.err" ||
    it_fail "second fail: $(cat "$W/f2.err")"
rc=0; "$CTL" payout confirm 3 --reference late 2>/dev/null || rc=$?
it_eq "confirm after fail exits 1" "$rc" 1
it_eq "bob: one void" "$(it_sql "SELECT string_agg(kind, ' ' ORDER BY seq) FROM ledger_transfers
    WHERE link_id = 'payout:3'")" "payout payout_void"
lg_invariants
rc=0; "$CTL" payout confirm 99 --reference x 2>/dev/null || rc=$?
it_eq "unknown payout" "$rc" 1
rc=0; "$CTL" payout run --month 2999-01 2>"$W/e" || rc=$?
it_eq "future month" "$rc:$(cat "$W/e")" "1:sluicectl: payout run: month 2999-01 has not begun"
rc=0; "$CTL" payout run --month "$NOW_M" --min -1 2>/dev/null || rc=$?
it_eq "negative min is a usage error" "$rc" 2

# alice's statement now shows the payout confirmed this month as a line.
"$CTL" ledger statement --creator alice --month "$NOW_M" --json >"$W/s3.json"
it_eq "statement with a payout" "$(jq -c '[.opening_micros, [.lines[] | select(.type == "payout") |
    [.payout_id, .payout_month, .reference, .net_micros, .transfer_ids]], .closing_micros,
    .pending_payouts_micros]' "$W/s3.json")" \
    "[900000,[[1,\"$PREV_M\",\"wire-0001\",-900000,[\"payout:1:post\"]]],1800011,1800011]"

# A takedown of u2 under ds-a's policy, made clawback: the sale reversed,
# the consumer paid back by creator and platform; a line of its own.
"$CTL" dataset set ds-a --withdrawal-policy clawback >/dev/null
it_sql "INSERT INTO feed_changes (seq, dataset_id, upload_id, sha256, kind, reason)
          VALUES (1, 'ds-a', 'u2', repeat('a', 64), 'takedown', 'test')" >/dev/null
lg_post
lg_invariants
"$CTL" ledger statement --creator alice --month "$NOW_M" --json >"$W/s4.json"
it_eq "clawback line" "$(jq -c '[[.lines[] | select(.type == "clawback") |
    [.dataset_id, .samples, .net_micros, .usage_ids, .transfer_ids]], .closing_micros]' "$W/s4.json")" \
    '[[["ds-a",2,-1800000,[2,3],["usage:2:net:clawback","usage:3:net:clawback"]]],11]'
# alice's payout 2 (1.800011) is still pending: the clawback took her
# available balance below zero, which only a clawback may do.
it_eq "alice after the clawback" "$("$CTL" ledger balance --creator alice --json |
    jq -c '[.[] | [.posted_micros, .debits_pending_micros, .available_micros]]')" \
    '[[11,1800011,-1800000]]'
it_eq "a run pays nothing below zero" "$("$CTL" payout run --month "$PREV_M" | tail -1)" \
    "0 payouts created for $PREV_M; 1 creator account owed nothing or less than the minimum; 1 already had a payout for the month"

# The finance export.
"$CTL" payout list --csv >"$W/list.csv"
it_eq "finance csv" "$(tr -d '\r' <"$W/list.csv" | cut -d, -f1-9)" \
"payout_id,creator_id,currency,month,amount,amount_micros,state,reference,fail_reason
3,bob,USD,$NOW_M,1.800000,1800000,failed,,account closed
2,alice,USD,$NOW_M,1.800011,1800011,pending,,
1,alice,USD,$PREV_M,0.900000,900000,confirmed,wire-0001,"
it_eq "list --state" "$("$CTL" payout list --state pending --json | jq -c '[.[].payout_id]')" '[2]'

# Racing settlements: carol earned 2.700000 last month; her payout is
# confirmed and failed by three operators at once.  Exactly one wins, the
# others are refused, one settlement transfer exists.
lg_deliver k2 u5 carol ds-a 3000000
lg_post
lg_backdate "$PREV_MID" "$(it_sql "SELECT usage_id FROM usage_events WHERE upload_id = 'u5'")"
it_eq "carol's payout" "$("$CTL" payout run --month "$PREV_M" | head -1)" \
    "payout 4: creator carol, $PREV_M, USD 2.700000 pending"
pids=()
"$CTL" payout confirm 4 --reference race-a >/dev/null 2>&1 & pids+=($!)
"$CTL" payout fail 4 --reason race-b >/dev/null 2>&1 & pids+=($!)
"$CTL" payout confirm 4 --reference race-c >/dev/null 2>&1 & pids+=($!)
won=0 lost=0
for p in "${pids[@]}"; do
    if wait "$p"; then won=$((won + 1)); else lost=$((lost + 1)); fi
done
it_eq "one settlement wins the race" "$won:$lost" "1:2"
it_eq "one settlement transfer" "$(it_sql "SELECT count(*) FROM ledger_transfers
    WHERE pending_id = 'payout:4'")" 1
lg_invariants
it_log "PASS test_ledger_payout"
