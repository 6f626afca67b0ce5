-- 018_ledger.sql -- creators get paid (issue #13): a double-entry ledger in
-- integer micro-units, one per currency, posted from the feed's usage
-- events (017_feed.sql), with payouts as pending transfers.
--
-- Shape (after TigerBeetle): accounts hold running totals of posted and
-- pending debits and credits, updated in the transaction that inserts the
-- transfers, so "balance = sum of its transfers" is checkable at any time
-- (`sluicectl ledger verify`).  Transfers are immutable; each has an id
-- derived from what it records (e.g. "usage:<usage_id>:net"), so posting
-- the same thing twice is a unique-key no-op; corrections are new
-- transfers that name what they reverse.  Transfers posted together share
-- a link_id and are inserted in one transaction: all or none.
--
-- Ordering: ledger_clock is taken like feed_clock (UPDATE ... RETURNING in
-- the posting transaction, row lock held until commit), so seq is the
-- commit order.  The ledger hash (verify) is over transfers in transfer_id
-- order (bytewise): the same transfers hash the same whatever order they
-- were posted in, so a replay of the same usage and withdrawals into an
-- empty ledger compares equal although deliveries, withdrawals and a crash
-- interleave differently with its batches.
--
-- Balances.  For an account: posted balance = credits_posted - debits_posted
-- (what a creator earned, what the platform kept; negative for a consumer,
-- who owes).  allow_negative: consumers, the platform and rounding yes;
-- creators and payouts in transit no -- a payout never takes a creator's
-- posted balance minus pending debits below zero (the poster checks it in
-- the transaction); only a clawback may, and verify reports any negative
-- creator balance not explained by clawbacks.
--
-- The split of a usage event at price P with fee f basis points:
-- net = floor(P * (10000 - f) / 10000) to the creator, fee = floor(P * f /
-- 10000) to the platform, rounding = P - net - fee (0 or 1 micro-unit) to
-- the rounding account: the consumer is charged exactly P, nothing is lost.

CREATE TABLE ledger_clock (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    next_seq      bigint NOT NULL CHECK (next_seq >= 1)
);
INSERT INTO ledger_clock VALUES (true, 1);

CREATE TABLE ledger_accounts (
    account_id    bigserial PRIMARY KEY,
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    kind          text NOT NULL CHECK (kind IN ('consumer', 'creator', 'platform',
                                                'payouts_in_transit', 'rounding')),
    holder        text NOT NULL DEFAULT '',  -- consumer_id / creator_id; '' otherwise
    allow_negative boolean NOT NULL,
    debits_posted  bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_posted bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    debits_pending bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (currency, kind, holder),
    CHECK ((kind IN ('consumer', 'creator')) = (holder <> ''))
);

-- Per-dataset: what a withdrawal after delivery does to what was earned.
--   kept      nothing moves (the default);
--   refund    the platform refunds the consumer the whole price (the
--             creator keeps the net, the platform gives back its fee and
--             pays the rest from its own account, which may go negative);
--   clawback  the sale is reversed: creator and platform return their
--             parts to the consumer (the creator's balance may go negative).
-- fee_bps: the platform's fee in basis points (0..10000), NULL: the
-- ledger.fee.bps configuration (default in the poster).
ALTER TABLE datasets
    ADD COLUMN withdrawal_policy text NOT NULL DEFAULT 'kept'
        CHECK (withdrawal_policy IN ('kept', 'refund', 'clawback')),
    ADD COLUMN fee_bps integer CHECK (fee_bps BETWEEN 0 AND 10000);

-- Payouts: one per creator and currency per run, pending until confirmed
-- (posted) or failed (voided), exactly once.
CREATE TABLE payouts (
    payout_id     bigserial PRIMARY KEY,
    creator_id    text NOT NULL,
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    month         date NOT NULL CHECK (extract(day FROM month) = 1),
    amount        bigint NOT NULL CHECK (amount > 0),
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'confirmed', 'failed')),
    reference     text,            -- the payment processor's, on confirm
    fail_reason   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    settled_at    timestamptz,
    UNIQUE (creator_id, currency, month),
    CHECK ((state = 'pending') = (settled_at IS NULL))
);

-- kind: 'charge' (consumer -> creator, the net), 'fee' (consumer ->
-- platform), 'rounding' (consumer -> rounding, the micro-units the split
-- leaves over), 'refund' / 'clawback' (withdrawal policies, reverse the
-- transfer named in `reverses`), 'payout' (creator -> payouts_in_transit;
-- pending = true until a 'payout_post' or 'payout_void' names it in
-- `pending_id`, exactly once).
CREATE TABLE ledger_transfers (
    seq           bigint PRIMARY KEY,
    transfer_id   text NOT NULL UNIQUE,
    link_id       text NOT NULL,
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    debit_account bigint NOT NULL,  -- an account_id: no REFERENCES, see below
    credit_account bigint NOT NULL,
    amount        bigint NOT NULL CHECK (amount > 0),
    kind          text NOT NULL CHECK (kind IN ('charge', 'fee', 'rounding', 'refund',
                                                'clawback', 'payout', 'payout_post',
                                                'payout_void')),
    pending       boolean NOT NULL DEFAULT false,
    pending_id    text REFERENCES ledger_transfers (transfer_id),
    reverses      text REFERENCES ledger_transfers (transfer_id),
    usage_id      bigint,          -- no REFERENCES: see below
    payout_id     bigint REFERENCES payouts (payout_id),
    posted_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (debit_account <> credit_account)
);
CREATE INDEX ledger_transfers_debit_idx ON ledger_transfers (debit_account, seq);
CREATE INDEX ledger_transfers_credit_idx ON ledger_transfers (credit_account, seq);
CREATE INDEX ledger_transfers_usage_idx ON ledger_transfers (usage_id)
    WHERE usage_id IS NOT NULL;
-- A pending transfer is posted or voided once: one transfer names it.
CREATE UNIQUE INDEX ledger_transfers_pending_idx ON ledger_transfers (pending_id)
    WHERE pending_id IS NOT NULL;
-- Cost per row matters (three legs per usage event, >= 20,000 events/s):
-- usage_id has no foreign key, ledger_postings (one row per event) has it,
-- and `ledger verify` proves every usage leg belongs to a posted event
-- (usage_orphan); no index on link_id (postings and withdrawals name
-- theirs); pending_id's unique index holds only the few non-NULL ones.
-- debit_account / credit_account have no foreign key either: its check
-- locks the account row (KEY SHARE) once per leg, and the few platform and
-- rounding rows take two of every three legs; without it the poster posts
-- twice as many events per second (measured: 4,950 -> 9,880/s).  Every
-- writer resolves the account in the transaction that inserts the
-- transfer, under the clock lock; accounts are never deleted (grants.sql
-- leaves no role DELETE on the ledger's tables); `ledger verify` reports
-- a transfer naming no account (account_missing).

-- Each usage event is posted once: the poster's record of it (also the
-- ledger's answer to "every usage event has exactly one posting").
CREATE TABLE ledger_postings (
    usage_id      bigint PRIMARY KEY REFERENCES usage_events (usage_id),
    link_id       text NOT NULL UNIQUE,
    posted_at     timestamptz NOT NULL DEFAULT now()
);

-- Withdrawals (feed_changes) the poster has applied the dataset's policy
-- to, once each.
CREATE TABLE ledger_withdrawals (
    change_seq    bigint PRIMARY KEY REFERENCES feed_changes (seq),
    policy        text NOT NULL CHECK (policy IN ('kept', 'refund', 'clawback')),
    link_id       text,            -- NULL when nothing moved
    applied_at    timestamptz NOT NULL DEFAULT now()
);

-- The poster finds the usage events of a withdrawn sample by upload_id.
CREATE INDEX usage_events_upload_idx ON usage_events (upload_id);
