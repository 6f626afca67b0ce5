#!/usr/bin/env bash
# sluice-ledger posts every usage event exactly once (issue #13): four
# writers deliver concurrently, as the feed does (two of them race on the
# same samples, so ON CONFLICT leaves gaps in usage_id; rolled-back
# deliveries leave more), while the poster runs and is killed with SIGKILL
# three times and restarted; then a backlog of 20,000 events is posted
# through another SIGKILL.  Every event has one posting, the legs add up
# to the hand-computed fees and remainders, `ledger verify` is clean.  The
# withdrawal policies: kept moves nothing, refund has the platform pay the
# consumers back, clawback takes the creator's net (and the platform's
# and rounding's parts) back; a delivery of a withdrawn sample posted
# afterwards is reversed too.  Re-posting the same usage and withdrawals
# into an empty ledger gives the same ledger hash.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init ledger_post

LEDGER_OPTS=(-X ledger.batch=1000 -X ledger.poll.ms=200 -X ledger.gap.wait.ms=500
             -X ledger.rescan.ms=300)

# Datasets (fee: ds-b 2.5 %, the rest ledger.fee.bps's default 10 %),
# consumers k1..k4, grants: ds-a 15 micros, ds-b 12345, the policy
# datasets 1000 (ds-claw 15).
it_sql "INSERT INTO datasets (dataset_id, withdrawal_policy, fee_bps) VALUES
          ('ds-a', 'kept', NULL), ('ds-b', 'kept', 250), ('ds-kept', 'kept', NULL),
          ('ds-refund', 'refund', NULL), ('ds-claw', 'clawback', NULL);
        INSERT INTO consumers (consumer_id) VALUES ('k1'), ('k2'), ('k3'), ('k4');
        INSERT INTO grants (consumer_id, dataset_id, price_micros, created_by)
          SELECT k, d, CASE d WHEN 'ds-a' THEN 15 WHEN 'ds-b' THEN 12345
                              WHEN 'ds-claw' THEN 15 ELSE 1000 END, 'test'
            FROM unnest(ARRAY['k1', 'k2', 'k3', 'k4']) k,
                 unnest(ARRAY['ds-a', 'ds-b', 'ds-kept', 'ds-refund', 'ds-claw']) d;" >/dev/null

# deliver CONSUMER UPLOAD CREATOR DATASET: one usage event as the feed writes it.
deliver_sql() {
    printf "INSERT INTO usage_events (consumer_id, upload_id, creator_id, dataset_id,
              grant_id, price_micros, currency, route)
            SELECT '%s', '%s', '%s', g.dataset_id, g.grant_id, g.price_micros, 'USD', 'token'
              FROM grants g WHERE g.consumer_id = '%s' AND g.dataset_id = '%s'
            ON CONFLICT (consumer_id, upload_id) DO NOTHING;
            SELECT pg_notify('sluice_usage', '');\n" "$1" "$2" "$3" "$1" "$4"
}
# batch_sql CONSUMER PREFIX LO HI: uploads PREFIX-LO..HI, even ones in
# ds-a, odd in ds-b, creators c0..c6.
batch_sql() {
    printf "INSERT INTO usage_events (consumer_id, upload_id, creator_id, dataset_id,
              grant_id, price_micros, currency, route)
            SELECT '%s', '%s-' || i, 'c' || (i %% 7), g.dataset_id, g.grant_id,
                   g.price_micros, 'USD', 'token'
              FROM generate_series(%d, %d) i
              JOIN grants g ON g.consumer_id = '%s'
               AND g.dataset_id = CASE WHEN i %% 2 = 0 THEN 'ds-a' ELSE 'ds-b' END
            ON CONFLICT (consumer_id, upload_id) DO NOTHING;
            SELECT pg_notify('sluice_usage', '');\n" "$1" "$2" "$3" "$4" "$1"
}
# A writer: 400 statements of 5 deliveries each (uploads PREFIX-0..1999);
# with ROLLBACK_EVERY, every so many a delivery of k4 that rolls back.
writer_file() {
    local f=$IT_DIR/writer-$1.sql i
    for ((i = 0; i < 400; i++)); do
        batch_sql "$2" "$3" $((i * 5)) $((i * 5 + 4))
        if [[ -n ${4:-} ]] && ((i % $4 == 0)); then
            printf 'BEGIN;\n'; deliver_sql k4 "rb-$i" c0 ds-a; printf 'ROLLBACK;\n'
        fi
        printf 'SELECT pg_sleep(0.004);\n'
    done >"$f"
    printf '%s\n' "$f"
}

# Fixed deliveries of the samples withdrawn below.
{
    deliver_sql k1 w-kept ck ds-kept
    deliver_sql k1 w-refund cr ds-refund
    deliver_sql k2 w-refund cr ds-refund
    deliver_sql k1 w-claw cc ds-claw
} | psql -XAtq -v ON_ERROR_STOP=1 "$IT_OWNER_DSN" >/dev/null

posted() { it_sql "SELECT count(*) FROM ledger_postings"; }

it_start ledger "${LEDGER_OPTS[@]}"
files=("$(writer_file 1 k1 a)" "$(writer_file 2 k1 a)" "$(writer_file 3 k2 b)"
       "$(writer_file 4 k3 c 40)")
wpids=()
for f in "${files[@]}"; do
    psql -XAtq -v ON_ERROR_STOP=1 "$IT_OWNER_DSN" -f "$f" >/dev/null &
    wpids+=($!)
done
# SIGKILL the poster three times while the writers deliver, each time
# after it has posted more, and start it again at once.
last=0
for round in 1 2 3; do
    for ((i = 0; i < 100; i++)); do
        now=$(posted)
        ((now > last)) && break
        sleep 0.1
    done
    ((now > last)) || it_fail "round $round: nothing posted (have $now)"
    it_kill ledger KILL
    it_log "killed sluice-ledger (SIGKILL) with $now events posted"
    last=$now
    it_start ledger "${LEDGER_OPTS[@]}"
    sleep 0.7
done
for p in "${wpids[@]}"; do
    wait "$p" || it_fail "a writer failed"
done

# A backlog the poster works through in 20 transactions; SIGKILL in the
# middle of it.
it_kill ledger KILL
batch_sql k4 d 0 19999 | psql -XAtq -v ON_ERROR_STOP=1 "$IT_OWNER_DSN" >/dev/null
before=$(posted)
it_start ledger "${LEDGER_OPTS[@]}"
for ((i = 0; i < 200; i++)); do
    now=$(posted)
    ((now > before)) && break
    sleep 0.02
done
it_kill ledger KILL
it_log "killed sluice-ledger (SIGKILL) mid-backlog: $now of 26004 posted"
((now < 26004)) || it_fail "the backlog was posted before the kill"
it_start ledger "${LEDGER_OPTS[@]}"

wait_posted() {
    local want=$1 got
    it_wait_at_least "$want" 60 posted
    got=$(posted)
    ((got >= want)) || it_fail "waited 60s for $want postings, have $got"
}
# 4 fixed + 3 writers' 2,000 samples each (writers 1 and 2 deliver the same
# ones) + 20,000; the rolled-back deliveries are not there.
it_eq "usage events" "$(it_sql "SELECT count(*) FROM usage_events")" 26004
wait_posted 26004
it_eq "postings" "$(posted)" 26004
it_eq "gaps in usage_id (conflicts, rollbacks)" \
    "$(it_sql "SELECT max(usage_id) - count(*) > 0 FROM usage_events")" t
it_eq "one posting per event, in its link" \
    "$(it_sql "SELECT count(*) FROM ledger_postings p JOIN usage_events u USING (usage_id)
               WHERE p.link_id = 'usage:' || u.usage_id")" 26004
# Legs: a charge and a fee for every event, a remainder for every one but
# the three at 1000 micros (15 at 10 %: 13 + 1 + 1; 12345 at 2.5 %:
# 12036 + 308 + 1; 1000 at 10 %: 900 + 100).
it_eq "legs by kind" "$(it_sql "SELECT string_agg(kind || '=' || n, ',' ORDER BY kind)
    FROM (SELECT kind, count(*) n FROM ledger_transfers GROUP BY kind) k")" \
    "charge=26004,fee=26004,rounding=26001"
it_eq "platform and rounding" "$(it_sql "SELECT string_agg(kind || '=' || credits_posted
    || '/' || debits_posted, ',' ORDER BY kind) FROM ledger_accounts
    WHERE kind IN ('platform', 'rounding')")" "platform=4017301/0,rounding=26001/0"
# k1: 1000 x 15 + 1000 x 12345 + 1000 + 1000 + 15.
it_eq "k1 owes" "$(it_sql "SELECT debits_posted FROM ledger_accounts
    WHERE kind = 'consumer' AND holder = 'k1'")" 12362015
it_eq "verify after the kills" "$("$IT_BIN/sluicectl" ledger verify --json |
    jq -c '[.ok, .postings, .violations]')" '[true,26004,[]]'

# Withdrawals, one per policy, as the feed records them.
it_sql "INSERT INTO feed_changes (seq, dataset_id, upload_id, sha256, kind, reason)
          VALUES (1, 'ds-kept', 'w-kept', repeat('0', 64), 'takedown', 'test'),
                 (2, 'ds-refund', 'w-refund', repeat('0', 64), 'takedown', 'test'),
                 (3, 'ds-claw', 'w-claw', repeat('0', 64), 'reversal', 'test');
        SELECT pg_notify('sluice_feed', 'changes');" >/dev/null
it_wait_eq 3 10 it_sql "SELECT count(*) FROM ledger_withdrawals"
it_eq "withdrawals applied" "$(it_sql "SELECT string_agg(change_seq || ':' || policy || ':'
    || coalesce(link_id, '-'), ',' ORDER BY change_seq) FROM ledger_withdrawals")" \
    "1:kept:-,2:refund:change:2,3:clawback:change:3"
it_eq "reversing transfers" "$(it_sql "SELECT string_agg(split_part(t.transfer_id, ':', 3) || ':'
    || t.kind || ':' || da.kind || '>' || ca.kind || ca.holder || ':' || t.amount, ','
    ORDER BY t.link_id, ca.holder, t.transfer_id)
    FROM ledger_transfers t JOIN ledger_accounts da ON da.account_id = t.debit_account
    JOIN ledger_accounts ca ON ca.account_id = t.credit_account
    WHERE t.link_id LIKE 'change:%'")" \
    "fee:refund:platform>consumerk1:100,net:refund:platform>consumerk1:900,fee:refund:platform>consumerk2:100,net:refund:platform>consumerk2:900,fee:clawback:platform>consumerk1:1,net:clawback:creator>consumerk1:13,rounding:clawback:rounding>consumerk1:1"
it_eq "creators after withdrawal (kept, refund, clawback)" \
    "$(it_sql "SELECT string_agg(holder || '=' || (credits_posted - debits_posted), ','
    ORDER BY holder) FROM ledger_accounts WHERE holder IN ('ck', 'cr', 'cc')")" "cc=0,ck=900,cr=1800"
out=$("$IT_BIN/sluicectl" ledger verify --json)
it_eq "verify after withdrawals" "$(jq -c '[.ok, .violations]' <<<"$out")" '[true,[]]'
hash1=$(jq -r .hash <<<"$out")

# Re-post: the same usage and withdrawals into an empty ledger.
RE_DB=${IT_DB}_re
psql -XAtq -v ON_ERROR_STOP=1 "$IT_ADMIN_DSN" -c "CREATE DATABASE \"$RE_DB\"$(
    [[ -z ${SLUICE_PG_DSN_OWNER:-} ]] || printf ' OWNER sluice_owner')" >/dev/null
cleanup_re() { # keeps $? for it_cleanup
    local st=$?
    psql -XAtq "$IT_ADMIN_DSN" -c "DROP DATABASE IF EXISTS \"$RE_DB\" WITH (FORCE)" \
        >/dev/null 2>&1 || true
    return "$st"
}
trap 'cleanup_re; it_cleanup' EXIT
RE_OWNER="$IT_OWNER_BASE_DSN dbname=$RE_DB"
SLUICE_PG_DSN=$RE_OWNER "$IT_BIN/sluicectl" db migrate >/dev/null
for t in datasets consumers grants usage_events feed_changes; do
    psql -XAtq -v ON_ERROR_STOP=1 "$IT_OWNER_DSN" -c "COPY $t TO STDOUT" |
        psql -XAtq -v ON_ERROR_STOP=1 "$RE_OWNER" -c "COPY $t FROM STDIN"
done
SLUICE_PG_DSN="$(it_svc_dsn ledger | sed "s/dbname=$IT_DB/dbname=$RE_DB/")" \
    "$IT_BIN/sluice-ledger" -X ledger.once=true -X ledger.batch=5000 -X ledger.gap.wait.ms=100 \
    >>"$IT_DIR/ledger-re.log" 2>&1 || it_fail "re-post failed"
out=$(SLUICE_PG_DSN="$IT_BASE_DSN dbname=$RE_DB" "$IT_BIN/sluicectl" ledger verify --json)
it_eq "re-post: postings and transfers" "$(jq -c '[.ok, .postings, .transfers]' <<<"$out")" \
    '[true,26004,78016]'
it_eq "re-post: the same ledger hash" "$(jq -r .hash <<<"$out")" "$hash1"

# A delivery of a withdrawn sample posted after the withdrawal: reversed in
# the same batch, the creator still at 0.
deliver_sql k2 w-claw cc ds-claw | psql -XAtq -v ON_ERROR_STOP=1 "$IT_OWNER_DSN" >/dev/null
wait_posted 26005
it_eq "late delivery reversed" "$(it_sql "SELECT string_agg(t.kind || ':' || CASE
    WHEN t.link_id = 'usage:' || t.usage_id THEN 'own' ELSE t.link_id END, ','
    ORDER BY t.transfer_id COLLATE \"C\") FROM ledger_transfers t JOIN usage_events u USING (usage_id)
    WHERE u.consumer_id = 'k2' AND u.upload_id = 'w-claw'")" \
    "fee:own,clawback:change:3,charge:own,clawback:change:3,rounding:own,clawback:change:3"
it_eq "creator cc after the late delivery" "$(it_sql "SELECT credits_posted - debits_posted
    FROM ledger_accounts WHERE kind = 'creator' AND holder = 'cc'")" 0
it_eq "verify at the end" "$("$IT_BIN/sluicectl" ledger verify --json |
    jq -c '[.ok, .postings, .violations]')" '[true,26005,[]]'

# verify sees tampering: a creator's total raised by one micro-unit, a
# posting deleted (its legs orphaned, its event unposted).
it_sql "UPDATE ledger_accounts SET credits_posted = credits_posted + 1
         WHERE kind = 'creator' AND holder = 'ck';
        DELETE FROM ledger_postings WHERE usage_id = (SELECT usage_id FROM usage_events
         WHERE consumer_id = 'k1' AND upload_id = 'w-kept')" >/dev/null
rc=0
out=$("$IT_BIN/sluicectl" ledger verify --json) || rc=$?
it_eq "verify refuses a tampered ledger" "$rc $(jq -c '[.ok, [.violations[].check]]' <<<"$out")" \
    '1 [false,["currency_unbalanced","account_totals","usage_unposted","usage_orphan","usage_orphan"]]'
# A transfer naming an account that does not exist (018 has no foreign
# key there; verify is the check).
it_sql "INSERT INTO ledger_transfers (seq, transfer_id, link_id, currency, debit_account,
          credit_account, amount, kind)
        SELECT next_seq, 'forged', 'forged', 'USD', -1, (SELECT account_id FROM ledger_accounts
          WHERE kind = 'platform'), 5, 'fee' FROM ledger_clock" >/dev/null
rc=0
out=$("$IT_BIN/sluicectl" ledger verify --json) || rc=$?
it_eq "verify finds a transfer without its account" "$rc $(jq -c '[.violations[] |
    select(.check == "account_missing") | .detail]' <<<"$out")" \
    '1 ["transfer forged: its debit account does not exist"]'
