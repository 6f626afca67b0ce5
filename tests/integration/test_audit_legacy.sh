#!/usr/bin/env bash
# `sluicectl audit seal-unsealed`: chains stored before migration 010 have
# no signed head, so `audit verify` reports each as head_missing.  Chains
# written, then their heads and seals deleted (the state of a database
# upgraded past 010), next to a chain sealed normally; one legacy chain
# tampered with.  seal-unsealed seals the legacy chains that verify (in
# batches, under the operator key), refuses the tampered one by name with
# a non-zero exit, and verify then reports only that one; a second run
# seals nothing new; two runs at once seal a chain once.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init audit_legacy

W=$IT_DIR

ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
head -c 32 /dev/urandom >"$W/bob.secret"
ctl creator add bob --hmac-secret-file "$W/bob.secret" >/dev/null
ctl dataset add ds1 >/dev/null

it_start validate
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"

mkdir -p "$W/files"
printf 'first legacy sample\n' >"$W/files/good1.txt"
printf 'second legacy sample\n' >"$W/files/good2.txt"
printf 'forged\n' >"$W/files/forged.txt"
printf 'sample sealed as usual\n' >"$W/files/good3.txt"
up() { # up ID CREATOR KEYOPT KEYFILE FILE
    ctl upload --creator "$2" --dataset ds1 "$3" "$4" --upload-id "$1" "$5" \
        2>>"$W/upload.log" >/dev/null || it_fail "sluicectl upload $1 failed"
}
head -c 32 /dev/urandom >"$W/wrong.secret"

# --- legacy chains: written, then their heads and seals gone ------------------
up good1 alice --key "$W/alice.pem" "$W/files/good1.txt"
up good2 bob --hmac-secret-file "$W/bob.secret" "$W/files/good2.txt"
up forged bob --hmac-secret-file "$W/wrong.secret" "$W/files/forged.txt"
it_wait_outcomes 3 60
sleep 1
it_eq "legacy chains sealed by commit" "$(it_sql "SELECT count(*) FROM chain_heads")" 3
it_sql "DELETE FROM chain_heads"
it_sql "DELETE FROM head_seals"
# --- one chain sealed as usual -------------------------------------------------
up good3 alice --key "$W/alice.pem" "$W/files/good3.txt"
it_wait_outcomes 4 60
sleep 1
it_eq "the new chain is sealed" \
    "$(it_sql "SELECT string_agg(owner_id, ',') FROM chain_heads")" "good3"
forged=$(it_sql "SELECT source_topic || '/' || source_partition || '/' || source_offset
                 FROM rejections WHERE upload_id = 'forged'")

run() { # run CMD...: output in $W/o.out, exit in $RC
    set +e
    ctl "$@" >"$W/o.out" 2>"$W/o.err"
    RC=$?
    set -e
}
breaks() { grep -v '^audit verify: ' "$W/o.out" | sort; }

run audit verify --all
it_eq "legacy: exit" "$RC" 1
it_eq "legacy: head_missing for each legacy chain" \
    "$(breaks | sed 's/: head_missing: .*/: head_missing/')" \
    "rejection $forged: head_missing
sample good1: head_missing
sample good2: head_missing"

# --- one legacy chain tampered with ------------------------------------------
g2="owner_kind = 'sample' AND owner_id = 'good2' AND seq = 1"
orig=$(it_sql "SELECT canonical FROM provenance_events WHERE $g2")
[[ $orig == *'"version":"validate/1"'* ]] || it_fail "unexpected event text: $orig"
g2row="owner_kind = 'sample' AND owner_id = 'good2' AND first_seq = 1"   # its stored row
it_sql "UPDATE provenance_chains
        SET canonical[1] = replace(canonical[1], '\"version\":\"validate/1\"', '\"version\":\"validate/2\"')
        WHERE $g2row"

run audit seal-unsealed --dry-run
it_eq "dry run: exit" "$RC" 1
it_eq "dry run: summary" "$(tail -n1 "$W/o.out")" \
    "audit seal-unsealed: 2 chains would be sealed, 1 refused, 1 already sealed"
it_eq "dry run: nothing written" "$(it_sql "SELECT count(*) FROM chain_heads")" 1

# Batches of one head: one seal per chain.
run audit seal-unsealed --batch 1
it_eq "seal: exit (one refused)" "$RC" 1
grep -q '^sample good2 seq 1: hash_mismatch: ' "$W/o.out" ||
    it_fail "seal: the break is not reported: $(cat "$W/o.out")"
it_eq "seal: refused by name" "$(grep '^refused: ' "$W/o.out")" \
    "refused: sample good2: the chain does not verify (1 break); not sealed"
it_eq "seal: summary" "$(tail -n1 "$W/o.out")" \
    "audit seal-unsealed: 2 chains sealed, 1 refused, 1 already sealed"
it_eq "seal: heads" "$(it_sql "SELECT string_agg(h.owner_kind || ' ' || h.owner_id || ' ' || h.seq
                               || ' ' || (h.head_hash = e.hash), ',' ORDER BY h.owner_kind, h.owner_id)
                               FROM chain_heads h JOIN provenance_events e USING (owner_kind, owner_id, seq)")" \
    "rejection $forged 2 true,sample good1 2 true,sample good3 2 true"
it_eq "seal: one seal per batch, by the operator key" \
    "$(it_sql "SELECT k.purpose || ' ' || s.n_heads FROM head_seals s JOIN audit_keys k USING (key_id)
               ORDER BY s.seal_id")" \
    "commit 1
operator 1
operator 1"

run audit verify --all
it_eq "after seal: exit" "$RC" 1
it_eq "after seal: only the tampered chain" \
    "$(breaks | sed -E 's/: (hash_mismatch|head_missing): .*/: \1/')" \
    "sample good2 seq 1: hash_mismatch
sample good2: head_missing"
# Sealed by keys one can pin: commit's and the operator's.
keys=()
for k in $(it_sql "SELECT key_id FROM audit_keys"); do keys+=(--trusted-key "$k"); done
it_eq "two keys registered" "${#keys[@]}" 4
run audit verify --all "${keys[@]}"
it_eq "pinned keys: still only the tampered chain" "$(breaks | wc -l)" 2

# --- idempotent --------------------------------------------------------------
run audit seal-unsealed --json
it_eq "again: exit" "$RC" 1
it_eq "again: json" \
    "$(jq -c 'select(.refused or .summary) | if .refused then [.refused.owner_kind, .refused.owner_id, .refused.breaks]
              else [.summary.sealed, .summary.refused, .summary.already_sealed, .summary.dry_run] end' "$W/o.out")" \
    '["sample","good2",1]
[0,1,3,false]'
it_eq "again: no new seal" "$(it_sql "SELECT count(*) FROM head_seals")" 3

# --- the tampered chain restored: sealed once, by two runs at a time -------------
# Both read the chain unsealed from their snapshots and wait to seal it
# while another session holds the lock on chain_heads; once it is released,
# the first to get it seals the chain and the second finds it sealed.
it_sql "UPDATE provenance_chains SET canonical[1] = \$\$$orig\$\$ WHERE $g2row"
coproc LOCKER { psql -XAtq -v ON_ERROR_STOP=1 "$IT_OWNER_DSN" 2>&1; }
echo "BEGIN; LOCK TABLE chain_heads IN SHARE ROW EXCLUSIVE MODE; SELECT 'locked';" >&"${LOCKER[1]}"
read -r -t 20 locked <&"${LOCKER[0]}" || it_fail "could not lock chain_heads"
it_eq "locker" "$locked" locked
ctl audit seal-unsealed --json >"$W/r1.out" 2>"$W/r1.err" & r1=$!
ctl audit seal-unsealed --json >"$W/r2.out" 2>"$W/r2.err" & r2=$!
waiting() {
    it_sql "SELECT count(*) FROM pg_locks WHERE NOT granted
            AND relation = 'chain_heads'::regclass
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
}
it_wait_eq 2 20 waiting
it_eq "both runs wait for the lock" "$(waiting)" 2
echo "COMMIT;" >&"${LOCKER[1]}"
exec {LOCKER[1]}>&-
wait "$r1" || it_fail "first concurrent run failed: $(cat "$W/r1.out" "$W/r1.err")"
wait "$r2" || it_fail "second concurrent run failed: $(cat "$W/r2.out" "$W/r2.err")"
it_eq "concurrent: sealed once, found changed once" \
    "$(jq -s -c 'map(.summary) | [(map(.sealed) | add), (map(.changed) | add), (map(.refused) | add)]' \
       "$W/r1.out" "$W/r2.out")" '[1,1,0]'
it_eq "concurrent: one head for good2" \
    "$(it_sql "SELECT count(*) FROM chain_heads WHERE owner_id = 'good2'")" 1
run audit verify --all
it_eq "restored: verify exit" "$RC" 0
it_eq "restored: verify" "$(cat "$W/o.out")" \
    "audit verify: 4 owners (3 samples, 0 review items, 1 rejections), 8 events, 3 contents checked: clean"
run audit seal-unsealed
it_eq "third run: summary" "$(cat "$W/o.out")" \
    "audit seal-unsealed: 0 chains sealed, 0 refused, 4 already sealed"
it_eq "third run: exit" "$RC" 0
it_log "PASS audit_legacy"
