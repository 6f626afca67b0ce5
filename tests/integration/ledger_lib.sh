# shellcheck shell=bash
# Helpers for the ledger's integration tests (issue #13), sourced after
# lib.sh and it_init.  They write what the feed writes, with SQL as the
# schema owner, and run the real poster:
#   lg_world              creators alice, bob, carol; datasets ds-a, ds-b;
#                         consumers k1, k2 with grants on both (USD)
#   lg_deliver C U CR DS PRICE   a usage event as the feed inserts it
#                         (ON CONFLICT (consumer_id, upload_id) DO NOTHING)
#   lg_post [FEE_BPS]     runs the poster (sluice-ledger -X ledger.once=true)
#                         over what there is: usage events, withdrawals
#   lg_backdate WHEN ID.. moves usage events' postings and transfers to
#                         WHEN (a past month's ledger, for statements)
#   lg_invariants         debits = credits per currency; every account's
#                         totals = the sum of its transfers (SQL, on its
#                         own); `sluicectl ledger verify` exits 0; fails
#                         the test otherwise

lg_world() {
    it_sql "INSERT INTO creators (creator_id, key_alg, key_material)
              VALUES ('alice', 'ed25519', '\\x00'), ('bob', 'ed25519', '\\x00'),
                     ('carol', 'ed25519', '\\x00');
            INSERT INTO datasets (dataset_id) VALUES ('ds-a'), ('ds-b');
            INSERT INTO consumers (consumer_id) VALUES ('k1'), ('k2');
            INSERT INTO grants (consumer_id, dataset_id, price_micros, created_by)
              SELECT k, d, 1000000, 'test' FROM unnest(ARRAY['k1', 'k2']) k,
                     unnest(ARRAY['ds-a', 'ds-b']) d;" >/dev/null
}

lg_deliver() {
    it_sql "INSERT INTO usage_events (consumer_id, upload_id, creator_id, dataset_id,
                                      grant_id, price_micros, currency, route)
            SELECT '$1', '$2', '$3', '$4', g.grant_id, $5, 'USD', 'token'
              FROM grants g WHERE g.consumer_id = '$1' AND g.dataset_id = '$4'
            ON CONFLICT (consumer_id, upload_id) DO NOTHING" >/dev/null
}

lg_post() {
    SLUICE_PG_DSN=$(it_svc_dsn ledger) "$IT_BIN/sluice-ledger" -X ledger.once=true \
        -X ledger.fee.bps="${1:-1000}" -X log.level=warn >>"$IT_DIR/ledger.log" 2>&1 ||
        it_fail "sluice-ledger -X ledger.once=true failed"
}

lg_backdate() {
    local when=$1; shift
    local ids
    ids=$(IFS=,; echo "$*")
    it_sql "UPDATE ledger_postings SET posted_at = '$when' WHERE usage_id IN ($ids);
            UPDATE ledger_transfers SET posted_at = '$when' WHERE usage_id IN ($ids);
            UPDATE usage_events SET delivered_at = '$when'::timestamptz - interval '1 minute'
             WHERE usage_id IN ($ids)" >/dev/null
}

lg_invariants() {
    local bad
    bad=$(it_sql "SELECT 'currency ' || currency FROM ledger_accounts GROUP BY currency
                  HAVING sum(debits_posted) <> sum(credits_posted)
                      OR sum(debits_pending) <> sum(credits_pending)
                  UNION ALL
                  SELECT 'account ' || a.account_id FROM ledger_accounts a
                  LEFT JOIN LATERAL (SELECT
                      coalesce(sum(t.amount) FILTER (WHERE t.debit_account = a.account_id
                          AND NOT t.pending AND t.kind <> 'payout_void'), 0) AS dp,
                      coalesce(sum(t.amount) FILTER (WHERE t.credit_account = a.account_id
                          AND NOT t.pending AND t.kind <> 'payout_void'), 0) AS cp,
                      coalesce(sum(t.amount) FILTER (WHERE t.debit_account = a.account_id
                          AND t.pending AND NOT EXISTS (SELECT 1 FROM ledger_transfers s
                              WHERE s.pending_id = t.transfer_id)), 0) AS dq,
                      coalesce(sum(t.amount) FILTER (WHERE t.credit_account = a.account_id
                          AND t.pending AND NOT EXISTS (SELECT 1 FROM ledger_transfers s
                              WHERE s.pending_id = t.transfer_id)), 0) AS cq
                    FROM ledger_transfers t
                   WHERE t.debit_account = a.account_id OR t.credit_account = a.account_id) x ON true
                  WHERE (x.dp, x.cp, x.dq, x.cq) IS DISTINCT FROM
                        (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending)")
    [[ -z $bad ]] || it_fail "ledger invariants broken: $bad"
    "$IT_BIN/sluicectl" ledger verify >"$IT_DIR/verify.out" 2>&1 ||
        it_fail "ledger verify: $(cat "$IT_DIR/verify.out")"
}
