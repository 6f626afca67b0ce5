-- ledger_sql_poster.sql -- for tests only: lg_post(fee_bps) posts what the
-- poster (sluice-ledger) posts, written from 018_ledger.sql and
-- services/ledger/ledger_logic.h, so a test of the statements and payouts
-- stands without the service: every unposted usage event in usage_id order
-- (accounts ensured, ledger_clock taken, charge / fee / rounding legs
-- "usage:N:net|fee|rounding" linked "usage:N", account totals,
-- ledger_postings), then every unapplied feed_changes row under its
-- dataset's policy (refund: the platform pays each leg back; clawback:
-- each leg's receiver does; legs "<leg>:<policy>" reversing the leg,
-- linked "change:<seq>"; ledger_withdrawals).  Returns the transfers made.
CREATE OR REPLACE FUNCTION lg_post(fee_default int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    u record; c record; l record; pol text; f int; net bigint; fee bigint;
    rnd bigint; s bigint; n bigint := 0; moved boolean;
    ca bigint; cr bigint; pl bigint; ro bigint;
BEGIN
    FOR u IN SELECT e.* FROM usage_events e
              WHERE NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.usage_id = e.usage_id)
              ORDER BY e.usage_id LOOP
        SELECT coalesce(d.fee_bps, fee_default) INTO f FROM datasets d
         WHERE d.dataset_id = u.dataset_id;
        net := u.price_micros * (10000 - f) / 10000;
        fee := u.price_micros * f / 10000;
        rnd := u.price_micros - net - fee;
        INSERT INTO ledger_accounts (currency, kind, holder, allow_negative) VALUES
            (u.currency, 'consumer', u.consumer_id, true),
            (u.currency, 'creator', u.creator_id, false),
            (u.currency, 'platform', '', true), (u.currency, 'rounding', '', true)
            ON CONFLICT (currency, kind, holder) DO NOTHING;
        SELECT account_id INTO ca FROM ledger_accounts
         WHERE currency = u.currency AND kind = 'consumer' AND holder = u.consumer_id;
        SELECT account_id INTO cr FROM ledger_accounts
         WHERE currency = u.currency AND kind = 'creator' AND holder = u.creator_id;
        SELECT account_id INTO pl FROM ledger_accounts WHERE currency = u.currency AND kind = 'platform';
        SELECT account_id INTO ro FROM ledger_accounts WHERE currency = u.currency AND kind = 'rounding';
        UPDATE ledger_clock SET next_seq = next_seq + 3 WHERE id RETURNING next_seq - 3 INTO s;
        FOR l IN SELECT * FROM (VALUES (0, 'net', 'charge', cr, net), (1, 'fee', 'fee', pl, fee),
                                       (2, 'rounding', 'rounding', ro, rnd)) v(o, suffix, kind, acct, amount)
                  WHERE v.amount > 0 LOOP
            INSERT INTO ledger_transfers (seq, transfer_id, link_id, currency, debit_account,
                credit_account, amount, kind, usage_id)
            VALUES (s + l.o, 'usage:' || u.usage_id || ':' || l.suffix, 'usage:' || u.usage_id,
                    u.currency, ca, l.acct, l.amount, l.kind, u.usage_id);
            UPDATE ledger_accounts SET credits_posted = credits_posted + l.amount
             WHERE account_id = l.acct;
            UPDATE ledger_accounts SET debits_posted = debits_posted + l.amount
             WHERE account_id = ca;
            n := n + 1;
        END LOOP;
        INSERT INTO ledger_postings (usage_id, link_id) VALUES (u.usage_id, 'usage:' || u.usage_id);
    END LOOP;
    FOR c IN SELECT fc.* FROM feed_changes fc
              WHERE NOT EXISTS (SELECT 1 FROM ledger_withdrawals w WHERE w.change_seq = fc.seq)
              ORDER BY fc.seq LOOP
        SELECT withdrawal_policy INTO pol FROM datasets WHERE dataset_id = c.dataset_id;
        moved := false;
        IF pol <> 'kept' THEN
            FOR l IN SELECT t.* FROM ledger_transfers t JOIN usage_events e ON e.usage_id = t.usage_id
                      WHERE e.upload_id = c.upload_id AND t.kind IN ('charge', 'fee', 'rounding')
                      ORDER BY t.seq LOOP
                UPDATE ledger_clock SET next_seq = next_seq + 1 WHERE id RETURNING next_seq - 1 INTO s;
                IF pol = 'refund' THEN
                    SELECT account_id INTO pl FROM ledger_accounts
                     WHERE currency = l.currency AND kind = 'platform';
                ELSE
                    pl := l.credit_account;
                END IF;
                INSERT INTO ledger_transfers (seq, transfer_id, link_id, currency, debit_account,
                    credit_account, amount, kind, reverses, usage_id)
                VALUES (s, l.transfer_id || ':' || pol, 'change:' || c.seq, l.currency, pl,
                        l.debit_account, l.amount, pol, l.transfer_id, l.usage_id);
                UPDATE ledger_accounts SET debits_posted = debits_posted + l.amount WHERE account_id = pl;
                UPDATE ledger_accounts SET credits_posted = credits_posted + l.amount
                 WHERE account_id = l.debit_account;
                n := n + 1;
                moved := true;
            END LOOP;
        END IF;
        INSERT INTO ledger_withdrawals (change_seq, policy, link_id)
        VALUES (c.seq, pol, CASE WHEN moved THEN 'change:' || c.seq END);
    END LOOP;
    RETURN n;
END $$;
