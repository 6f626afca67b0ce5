# shellcheck shell=bash
# Helpers for the ledger's integration tests (issue #13), sourced after
# lib.sh and it_init.  They write what the feed and the poster write, with
# SQL as the schema owner:
#   lg_world              creators alice, bob, carol; datasets ds-a, ds-b;
#                         consumers k1, k2 with grants on both (USD)
#   lg_deliver C U CR DS PRICE   a usage event as the feed inserts it
#                         (ON CONFLICT (consumer_id, upload_id) DO NOTHING)
#   lg_post_sql [FEE_BPS] posts every unposted usage event exactly as
#                         018_ledger.sql says sluice-ledger does: accounts
#                         ensured, ledger_clock taken, charge / fee /
#                         rounding transfers (ids usage:N:net|fee|rounding,
#                         link usage:N), account totals, ledger_postings --
#                         for the tests that must not depend on the poster
#   lg_backdate WHEN ID.. moves usage events' postings and transfers to
#                         WHEN (a past month's ledger, for statements)
#   lg_invariants         debits = credits per currency; every account's
#                         totals = the sum of its transfers; fails the test
#                         otherwise

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

lg_post_sql() {
    local fee=${1:-1000}
    it_sql "DO \$\$
DECLARE
    u record; f int; net bigint; fee bigint; rnd bigint; s bigint;
    ca bigint; cr bigint; pl bigint; ro bigint;
BEGIN
    FOR u IN SELECT e.* FROM usage_events e
              WHERE NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.usage_id = e.usage_id)
              ORDER BY e.usage_id LOOP
        SELECT coalesce(d.fee_bps, $fee) INTO f FROM datasets d WHERE d.dataset_id = u.dataset_id;
        net := u.price_micros * (10000 - f) / 10000;
        fee := u.price_micros * f / 10000;
        rnd := u.price_micros - net - fee;
        INSERT INTO ledger_accounts (currency, kind, holder, allow_negative) VALUES
            (u.currency, 'consumer', u.consumer_id, true),
            (u.currency, 'creator', u.creator_id, false),
            (u.currency, 'platform', '', true), (u.currency, 'rounding', '', true)
            ON CONFLICT (currency, kind, holder) DO NOTHING;
        SELECT account_id INTO ca FROM ledger_accounts WHERE currency = u.currency AND kind = 'consumer' AND holder = u.consumer_id;
        SELECT account_id INTO cr FROM ledger_accounts WHERE currency = u.currency AND kind = 'creator' AND holder = u.creator_id;
        SELECT account_id INTO pl FROM ledger_accounts WHERE currency = u.currency AND kind = 'platform';
        SELECT account_id INTO ro FROM ledger_accounts WHERE currency = u.currency AND kind = 'rounding';
        UPDATE ledger_clock SET next_seq = next_seq + 3 WHERE id RETURNING next_seq - 3 INTO s;
        IF net > 0 THEN
            INSERT INTO ledger_transfers (seq, transfer_id, link_id, currency, debit_account,
                credit_account, amount, kind, usage_id)
            VALUES (s, 'usage:' || u.usage_id || ':net', 'usage:' || u.usage_id, u.currency,
                    ca, cr, net, 'charge', u.usage_id);
            UPDATE ledger_accounts SET credits_posted = credits_posted + net WHERE account_id = cr;
        END IF;
        IF fee > 0 THEN
            INSERT INTO ledger_transfers (seq, transfer_id, link_id, currency, debit_account,
                credit_account, amount, kind, usage_id)
            VALUES (s + 1, 'usage:' || u.usage_id || ':fee', 'usage:' || u.usage_id, u.currency,
                    ca, pl, fee, 'fee', u.usage_id);
            UPDATE ledger_accounts SET credits_posted = credits_posted + fee WHERE account_id = pl;
        END IF;
        IF rnd > 0 THEN
            INSERT INTO ledger_transfers (seq, transfer_id, link_id, currency, debit_account,
                credit_account, amount, kind, usage_id)
            VALUES (s + 2, 'usage:' || u.usage_id || ':rounding', 'usage:' || u.usage_id,
                    u.currency, ca, ro, rnd, 'rounding', u.usage_id);
            UPDATE ledger_accounts SET credits_posted = credits_posted + rnd WHERE account_id = ro;
        END IF;
        UPDATE ledger_accounts SET debits_posted = debits_posted + u.price_micros
         WHERE account_id = ca AND u.price_micros > 0;
        INSERT INTO ledger_postings (usage_id, link_id) VALUES (u.usage_id, 'usage:' || u.usage_id);
    END LOOP;
END \$\$" >/dev/null
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
}
