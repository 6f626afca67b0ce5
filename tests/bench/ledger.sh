#!/usr/bin/env bash
# Benchmark (figures, not a test): the ledger (issue #13).
#   posting   N usage events (50 consumers, 1,000 creators, 20 datasets,
#             two prices so every leg kind occurs) filled by SQL into a
#             fresh database (tests/integration/lib.sh's it_init), then
#             sluice-ledger -X ledger.once=true posts them all: usage
#             events posted per second (target >= 20,000/s), with the
#             process's own wall time.
#   verify    `sluicectl ledger verify` over what was posted, and, when
#             VERIFY_TRANSFERS is set (e.g. 10000000), over a second
#             ledger of that many transfers written directly by SQL the
#             way the poster writes them (a third of them usage events,
#             split 10 % / remainder), so the figure does not wait for
#             the poster.
#   context   `openssl speed -seconds 3 ed25519` (verify/s), this
#             machine's yardstick.
#
# usage: SLUICE_BIN_DIR=build-rel/bin bash tests/bench/ledger.sh [N] [BATCH]
#        (VERIFY_TRANSFERS=10000000 for the big verify; with a stack's
#        env: . <stack>/stack.env first)
set -euo pipefail
N=${1:-200000}
BATCH=${2:-5000}
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
it_init ledger_bench

# fill_usage N: N usage events by SQL, as the feed inserts them.
fill_usage() {
    it_sql "INSERT INTO datasets (dataset_id, fee_bps)
              SELECT 'ds-' || d, CASE WHEN d % 2 = 0 THEN NULL ELSE 250 END
                FROM generate_series(0, 19) d ON CONFLICT DO NOTHING;
            INSERT INTO consumers (consumer_id)
              SELECT 'k' || k FROM generate_series(0, 49) k ON CONFLICT DO NOTHING;
            INSERT INTO grants (consumer_id, dataset_id, price_micros, created_by)
              SELECT 'k' || k, 'ds-' || d, CASE WHEN d % 2 = 0 THEN 15 ELSE 12345 END, 'bench'
                FROM generate_series(0, 49) k, generate_series(0, 19) d ON CONFLICT DO NOTHING;
            INSERT INTO usage_events (consumer_id, upload_id, creator_id, dataset_id, grant_id,
                                      price_micros, currency, route)
              SELECT g.consumer_id, 'u-' || i, 'c-' || (i % 1000), g.dataset_id, g.grant_id,
                     g.price_micros, 'USD', 'token'
                FROM generate_series(1, $1) i
                JOIN grants g ON g.consumer_id = 'k' || (i % 50)
                             AND g.dataset_id = 'ds-' || ((i / 50) % 20);
            ANALYZE usage_events, grants, datasets;" >/dev/null
}

it_log "filling $N usage events"
fill_usage "$N"
it_log "posting them (ledger.batch=$BATCH)"
t0=$(date +%s.%N)
SLUICE_PG_DSN=$(it_svc_dsn ledger) "$IT_BIN/sluice-ledger" -X ledger.once=true \
    -X ledger.batch="$BATCH" -X log.level=warn 2>>"$IT_DIR/ledger.log"
t1=$(date +%s.%N)
posted=$(it_sql "SELECT count(*) FROM ledger_postings")
[[ $posted == "$N" ]] || it_fail "posted $posted of $N"
awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN {
    printf "posting    %d usage events (%d transfers) in %.2f s: %.0f events/s\n",
           n, n * 3, b - a, n / (b - a) }'

# verify_time LABEL: one `ledger verify`, timed; it must be clean.
verify_time() {
    local a b out
    a=$(date +%s.%N)
    out=$("$IT_BIN/sluicectl" ledger verify --json) || it_fail "verify: $out"
    b=$(date +%s.%N)
    awk -v l="$1" -v t="$(jq .transfers <<<"$out")" -v a="$a" -v b="$b" 'BEGIN {
        printf "verify     %s: %d transfers in %.2f s\n", l, t, b - a }'
}
verify_time "after posting"

if [[ -n ${VERIFY_TRANSFERS:-} ]]; then
    # A second ledger written directly: VERIFY_TRANSFERS / 3 usage events,
    # each with its posting and three legs (price 15 at 10 %: 13 + 1 + 1),
    # the accounts' totals from the legs.  The indexes are built after the
    # rows and the foreign keys left out (verify reads no key, and no index
    # but for the bytewise order of transfer_id).
    M=$((VERIFY_TRANSFERS / 3))
    it_log "writing a ledger of $((M * 3)) transfers by SQL"
    it_sql "TRUNCATE ledger_postings, ledger_withdrawals, ledger_transfers, ledger_accounts,
                     usage_events CASCADE;
            UPDATE ledger_clock SET next_seq = 1;
            UPDATE grants SET price_micros = 15;
            UPDATE datasets SET fee_bps = NULL;" >/dev/null
    fill_usage "$M"
    it_sql "SET client_min_messages = warning;
            ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_usage_id_fkey,
              DROP CONSTRAINT ledger_postings_link_id_key;
            ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_transfers_transfer_id_key CASCADE,
              DROP CONSTRAINT ledger_transfers_payout_id_fkey;
            DROP INDEX ledger_transfers_debit_idx, ledger_transfers_credit_idx,
              ledger_transfers_usage_idx, ledger_transfers_pending_idx;" >/dev/null
    it_sql "INSERT INTO ledger_accounts (currency, kind, holder, allow_negative)
              SELECT 'USD', 'consumer', 'k' || k, true FROM generate_series(0, 49) k
              UNION ALL SELECT 'USD', 'creator', 'c-' || c, false FROM generate_series(0, 999) c
              UNION ALL VALUES ('USD', 'platform', '', true), ('USD', 'rounding', '', true);
            INSERT INTO ledger_postings (usage_id, link_id)
              SELECT usage_id, 'usage:' || usage_id FROM usage_events;
            INSERT INTO ledger_transfers (seq, transfer_id, link_id, currency, debit_account,
                                          credit_account, amount, kind, usage_id)
              SELECT (u.usage_id - 1) * 3 + l.n, 'usage:' || u.usage_id || ':' || l.s,
                     'usage:' || u.usage_id, 'USD', ca.account_id, a.account_id, l.amount,
                     l.kind, u.usage_id
                FROM usage_events u
                JOIN ledger_accounts ca ON ca.kind = 'consumer' AND ca.holder = u.consumer_id
                CROSS JOIN (VALUES (1, 'net', 13, 'charge', 'creator'),
                                   (2, 'fee', 1, 'fee', 'platform'),
                                   (3, 'rounding', 1, 'rounding', 'rounding')) l(n, s, amount, kind, ak)
                JOIN ledger_accounts a ON a.kind = l.ak
                 AND a.holder = CASE l.ak WHEN 'creator' THEN u.creator_id ELSE '' END;
            UPDATE ledger_accounts a SET debits_posted = d.dr, credits_posted = d.cr
              FROM (SELECT acct, sum(dr) dr, sum(cr) cr FROM (
                      SELECT debit_account acct, amount dr, 0 cr FROM ledger_transfers
                      UNION ALL SELECT credit_account, 0, amount FROM ledger_transfers) x
                    GROUP BY acct) d
             WHERE a.account_id = d.acct;
            UPDATE ledger_clock SET next_seq = (SELECT max(seq) + 1 FROM ledger_transfers);
            ALTER TABLE ledger_transfers ADD UNIQUE (transfer_id);
            CREATE INDEX ON ledger_transfers (debit_account, seq);
            CREATE INDEX ON ledger_transfers (credit_account, seq);
            CREATE INDEX ON ledger_transfers (usage_id) WHERE usage_id IS NOT NULL;" >/dev/null
    it_sql "VACUUM ANALYZE ledger_transfers, ledger_postings, usage_events, ledger_accounts" \
        >/dev/null
    verify_time "a ledger written by SQL"
fi

printf 'context    openssl speed -seconds 3 ed25519: '
openssl speed -seconds 3 ed25519 2>/dev/null | awk '/EdDSA \(Ed25519\)/ { print $NF " verify/s" }'
