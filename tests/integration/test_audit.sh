#!/usr/bin/env bash
# `sluicectl audit verify` and `audit show` against chains the real stages
# wrote: good and bad uploads through validate -> commit, a clean verify,
# then one tampering at a time (a stored column, one byte of an event's
# canonical text, a stored content, a deleted event, a deleted sample, a
# chain rewritten with every hash recomputed, which only the signed head
# catches), each reported with its owner, seq and problem, and clean again
# once restored.  Each is done as a database writer would: in the stored
# rows of provenance_chains (028_provenance_chains.sql), an owner's chain
# one row whose arrays hold its events in seq order.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init audit

W=$IT_DIR

# --- registry and uploads -----------------------------------------------------
ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
head -c 32 /dev/urandom >"$W/bob.secret"
ctl creator add bob --hmac-secret-file "$W/bob.secret" >/dev/null
ctl dataset add ds1 >/dev/null
ctl dataset add ds2 >/dev/null

it_start validate
# Straight from validate: the test does not depend on the later stages.
it_start commit -X input.topics=sluice.validated,sluice.rejected

mkdir -p "$W/files"
printf 'first good sample\n' >"$W/files/good1.txt"
printf 'second good sample\n' >"$W/files/good2.txt"
printf 'third good sample, other dataset\n' >"$W/files/good3.txt"
printf 'from nobody\n' >"$W/files/stranger.txt"
printf 'forged\n' >"$W/files/forged.txt"

up() { # up ID CREATOR DATASET KEYOPT KEYFILE FILE
    ctl upload --creator "$2" --dataset "$3" "$4" "$5" --upload-id "$1" "$6" \
        2>>"$W/upload.log" >/dev/null || it_fail "sluicectl upload $1 failed"
}
up good1 alice ds1 --key "$W/alice.pem" "$W/files/good1.txt"
up good2 bob ds1 --hmac-secret-file "$W/bob.secret" "$W/files/good2.txt"
up good3 alice ds2 --key "$W/alice.pem" "$W/files/good3.txt"
# Different partitions have no order: the duplicate goes after good1 is in.
it_wait_outcomes 3 60
up dup alice ds1 --key "$W/alice.pem" "$W/files/good1.txt"
up stranger nobody ds1 --key "$W/alice.pem" "$W/files/stranger.txt"
head -c 32 /dev/urandom >"$W/wrong.secret"
up forged bob ds1 --hmac-secret-file "$W/wrong.secret" "$W/files/forged.txt"
printf 'x' >"$W/one.txt"
kcat -b "$SLUICE_KAFKA_BROKERS" -P -t "${IT_PREFIX}sluice.uploads" -k nometa "$W/one.txt"

it_wait_outcomes 7 120
sleep 1
it_eq "samples" "$(it_sql "SELECT string_agg(upload_id, ',' ORDER BY upload_id) FROM samples")" \
    "good1,good2,good3"
it_eq "rejections" "$(it_sql "SELECT count(*) FROM rejections")" 4

# verify VERIFY-ARGS...: runs audit verify, output in $W/v.out, exit in $VRC.
verify() {
    set +e
    ctl audit verify "$@" >"$W/v.out" 2>"$W/v.err"
    VRC=$?
    set -e
}
expect_line() { # expect_line WHAT PATTERN: a line of v.out contains PATTERN
    grep -qF -- "$2" "$W/v.out" ||
        it_fail "$1: no line with '$2' in: $(cat "$W/v.out" "$W/v.err")"
    it_log "ok: $1 reported"
}
expect_clean() { # expect_clean WHAT
    verify --all
    it_eq "$1: exit" "$VRC" 0
    it_eq "$1: summary" "$(cat "$W/v.out")" \
        "audit verify: 7 owners (3 samples, 0 review items, 4 rejections), 14 events, 3 contents checked: clean"
}

# --- clean ----------------------------------------------------------------------
expect_clean "untouched database"
verify --all --json
it_eq "json exit" "$VRC" 0
it_eq "json summary" "$(jq -c '.summary | [.owners, .events, .contents, .breaks]' "$W/v.out")" \
    "[7,14,3,0]"
verify --upload good1
it_eq "one upload" "$(cat "$W/v.out")" \
    "audit verify: 1 owners (1 samples, 0 review items, 0 rejections), 2 events, 1 contents checked: clean"
verify --dataset ds1
it_eq "one dataset: exit" "$VRC" 0
it_eq "one dataset" "$(tail -n1 "$W/v.out")" \
    "audit verify: 5 owners (2 samples, 0 review items, 3 rejections), 10 events, 2 contents checked: clean"
verify --upload dup
it_eq "a rejection" "$(cat "$W/v.out")" \
    "audit verify: 1 owners (0 samples, 0 review items, 1 rejections), 2 events, 0 contents checked: clean"

# --- a stored column edited -------------------------------------------------------
it_sql "UPDATE provenance_chains SET outcome[2] = 'rejected'
        WHERE owner_kind = 'sample' AND owner_id = 'good1' AND first_seq = 1"
verify --all
it_eq "edited outcome: exit" "$VRC" 1
expect_line "edited outcome" "sample good1 seq 2: outcome_column: stored outcome \"rejected\", the event says \"committed\""
it_eq "edited outcome: only break" "$(grep -c ': outcome_column: ' "$W/v.out")" 1
expect_line "edited outcome summary" "contents checked: 1 break"
verify --all --json
it_eq "edited outcome json" \
    "$(jq -c 'select(.problem) | [.owner_kind, .owner_id, .seq, .problem]' "$W/v.out")" \
    '["sample","good1",2,"outcome_column"]'
it_eq "edited outcome json summary" "$(jq -c 'select(.summary) | .summary.breaks' "$W/v.out")" 1
verify --dataset ds2
it_eq "other dataset unaffected" "$VRC" 0
it_sql "UPDATE provenance_chains SET outcome[2] = 'committed'
        WHERE owner_kind = 'sample' AND owner_id = 'good1' AND first_seq = 1"
expect_clean "outcome restored"

# --- one byte of an event's canonical text ------------------------------------------
orig=$(it_sql "SELECT canonical FROM provenance_events
               WHERE owner_kind = 'sample' AND owner_id = 'good2' AND seq = 1")
[[ $orig == *'"version":"validate/1"'* ]] || it_fail "unexpected event text: $orig"
it_sql "UPDATE provenance_chains
        SET canonical[1] = replace(canonical[1], '\"version\":\"validate/1\"', '\"version\":\"validate/2\"')
        WHERE owner_kind = 'sample' AND owner_id = 'good2' AND first_seq = 1"
verify --all
it_eq "edited byte: exit" "$VRC" 1
expect_line "edited byte" "sample good2 seq 1: hash_mismatch: "
it_eq "edited byte: the only break" "$(grep -vc '^audit verify: ' "$W/v.out")" 1
show_json=$(ctl audit show --upload good2 --json)
it_eq "show sees the edited byte" \
    "$(jq -c '.owners[0] | [.verified, (.breaks | map(.problem)), .events[0].version]' <<<"$show_json")" \
    '[false,["hash_mismatch"],"validate/2"]'
it_sql "UPDATE provenance_chains SET canonical[1] = \$\$$orig\$\$
        WHERE owner_kind = 'sample' AND owner_id = 'good2' AND first_seq = 1"
expect_clean "canonical restored"

# --- the same byte in a rejection's chain, with the hash recomputed -------------------
owner=$(it_sql "SELECT source_topic || '/' || source_partition || '/' || source_offset
                FROM rejections WHERE upload_id = 'forged'")
row="owner_kind = 'rejection' AND owner_id = '$owner' AND seq = 1"
stored="owner_kind = 'rejection' AND owner_id = '$owner' AND first_seq = 1"
orig=$(it_sql "SELECT canonical FROM provenance_events WHERE $row")
orig_hash=$(it_sql "SELECT hash FROM provenance_events WHERE $row")
it_sql "UPDATE provenance_chains
        SET canonical[1] = replace(canonical[1], '\"version\":\"validate/1\"', '\"version\":\"validate/2\"')
        WHERE $stored"
it_sql "UPDATE provenance_chains SET hash[1] = encode(sha256(convert_to(canonical[1], 'UTF8')), 'hex')
        WHERE $stored"
verify --all
it_eq "rehashed edit: exit" "$VRC" 1
expect_line "rehashed edit" "rejection $owner seq 2: prev_link: "
it_eq "rehashed edit: the only break" "$(grep -vc '^audit verify: ' "$W/v.out")" 1
it_sql "UPDATE provenance_chains SET canonical[1] = \$\$$orig\$\$, hash[1] = '$orig_hash' WHERE $stored"
expect_clean "rejection restored"

# --- stored content bytes -----------------------------------------------------------
sha3=$(sha256sum "$W/files/good3.txt" | cut -d' ' -f1)
it_sql "UPDATE contents SET data = 'tampered'::bytea WHERE sha256 = '$sha3'"
verify --dataset ds2
it_eq "content: exit" "$VRC" 1
expect_line "content" "content $sha3: content_hash: "
it_sql "UPDATE contents SET data = convert_to(E'third good sample, other dataset\n', 'UTF8')
        WHERE sha256 = '$sha3'"
expect_clean "content restored"

# --- a deleted event, a deleted sample ---------------------------------------------
g3="owner_kind = 'sample' AND owner_id = 'good3'"
it_sql "CREATE TABLE saved_events AS SELECT * FROM provenance_chains WHERE $g3"
it_eq "good3: one stored row" "$(it_sql "SELECT count(*) FROM saved_events")" 1
# seq 2 cut off the end of the row's arrays
it_sql "UPDATE provenance_chains SET stage = stage[1:1], outcome = outcome[1:1],
        canonical = canonical[1:1], hash = hash[1:1] WHERE $g3"
verify --upload good3
it_eq "cut chain: exit" "$VRC" 1
expect_line "cut chain" "sample good3: commit_missing: "
it_sql "DELETE FROM provenance_chains WHERE $g3"
verify --upload good3
expect_line "no chain" "sample good3: no_events: "
it_sql "INSERT INTO provenance_chains SELECT * FROM saved_events"
it_sql "CREATE TABLE saved_sample AS SELECT * FROM samples WHERE upload_id = 'good3'"
it_sql "DELETE FROM samples WHERE upload_id = 'good3'"
verify --all
it_eq "orphans: exit" "$VRC" 1
expect_line "orphans" "sample good3: orphan_events: 2 provenance events belong to a sample that does not exist"
it_sql "INSERT INTO samples SELECT * FROM saved_sample"
expect_clean "sample restored"

# --- an event stored twice ------------------------------------------------------------
# No key keeps two stored rows of one owner from holding the same seq
# (028_provenance_chains.sql): a second row repeating good1's seq 2.
it_sql "INSERT INTO provenance_chains (owner_kind, owner_id, first_seq, stage, outcome, canonical, hash)
        SELECT owner_kind, owner_id, 2, stage[2:2], outcome[2:2], canonical[2:2], hash[2:2]
        FROM provenance_chains WHERE owner_kind = 'sample' AND owner_id = 'good1' AND first_seq = 1"
verify --upload good1
it_eq "repeated event: exit" "$VRC" 1
expect_line "repeated event" "sample good1 seq 2: seq_duplicate: seq 2 appears more than once"
it_sql "DELETE FROM provenance_chains WHERE owner_kind = 'sample' AND owner_id = 'good1' AND first_seq = 2"
expect_clean "repeated event removed"

# --- a consistent rewrite: every hash and link recomputed ----------------------------
# What someone with write access to the database can do: change an event
# and recompute its hash, the next event's prev (in its text and column)
# and that event's hash.  Every hash check passes; only the signed head,
# which commit signed with a key the database does not hold, catches it.
it_sql "CREATE TABLE saved_good1 AS SELECT * FROM provenance_events
        WHERE owner_kind = 'sample' AND owner_id = 'good1'"
it_sql "CREATE TABLE saved_good1_rows AS SELECT * FROM provenance_chains
        WHERE owner_kind = 'sample' AND owner_id = 'good1'"
it_sql "CREATE TABLE saved_heads AS SELECT * FROM chain_heads"
it_sql "CREATE TABLE saved_seals AS SELECT * FROM head_seals"
g1="owner_kind = 'sample' AND owner_id = 'good1'"
at() { echo "$1.owner_kind = 'sample' AND $1.owner_id = 'good1'"; }   # at ALIAS
rewrite() {
    it_sql "UPDATE provenance_chains
            SET canonical[1] = replace(canonical[1], '\"version\":\"validate/1\"', '\"version\":\"validate/9\"')
            WHERE $g1"
    it_sql "UPDATE provenance_chains SET hash[1] = encode(sha256(convert_to(canonical[1], 'UTF8')), 'hex')
            WHERE $g1"
    it_sql "UPDATE provenance_chains c SET canonical[2] = replace(c.canonical[2], o.hash, c.hash[1])
            FROM saved_good1 o WHERE $(at c) AND o.seq = 1"
    it_sql "UPDATE provenance_chains SET hash[2] = encode(sha256(convert_to(canonical[2], 'UTF8')), 'hex')
            WHERE $g1"
}
rewrite
it_eq "rewrite changed the head" \
    "$(it_sql "SELECT count(*) FROM provenance_events e JOIN saved_good1 o USING (owner_kind, owner_id, seq)
               WHERE $(at e) AND e.hash <> o.hash")" 2
verify --all
it_eq "consistent rewrite: exit" "$VRC" 1
expect_line "consistent rewrite" "sample good1 seq 2: head_mismatch: the chain ends at seq 2"
it_eq "consistent rewrite: the only break" "$(grep -vc '^audit verify: ' "$W/v.out")" 1
# The head row moved along too: the seal over it (one Ed25519 signature
# per commit batch) no longer verifies, for every head it covers.
seal=$(it_sql "SELECT seal_id FROM chain_heads WHERE $g1")
nheads=$(it_sql "SELECT n_heads FROM head_seals WHERE seal_id = $seal")
it_sql "UPDATE chain_heads h SET head_hash = e.hash FROM provenance_events e
        WHERE $(at h) AND $(at e) AND e.seq = 2"
verify --all
it_eq "head moved: exit" "$VRC" 1
expect_line "head moved" "sample good1 seq 2: head_signature: the seal $seal over this head does not verify"
it_eq "head moved: one break per head of the seal" "$(grep -c ': head_signature: ' "$W/v.out")" "$nheads"
it_eq "head moved: nothing else" "$(grep -vc '^audit verify: ' "$W/v.out")" "$nheads"
# The whole seal re-signed with a key of the rewriter's own, registered in
# audit_keys: believed unless the auditor pins the keys it trusts.
openssl genpkey -algorithm ed25519 -out "$W/rogue.pem" 2>/dev/null
rogue=$(openssl pkey -in "$W/rogue.pem" -pubout -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$(it_sql "SELECT 'sluice-head-seal-v1' || chr(10) || $seal || chr(10) || count(*) || chr(10) ||
        string_agg(octet_length(owner_kind) || ':' || owner_kind || chr(10) || octet_length(owner_id) || ':'
                   || owner_id || chr(10) || seq || chr(10) || head_hash, chr(10)
                   ORDER BY owner_kind COLLATE \"C\", owner_id COLLATE \"C\")
        FROM chain_heads WHERE seal_id = $seal")" >"$W/seal.msg"
rsig=$(openssl pkeyutl -sign -inkey "$W/rogue.pem" -rawin -in "$W/seal.msg" | od -An -tx1 | tr -d ' \n')
it_sql "INSERT INTO audit_keys (key_id, purpose) VALUES ('$rogue', 'commit')"
it_sql "UPDATE head_seals SET key_id = '$rogue', signature = '$rsig' WHERE seal_id = $seal"
verify --all
it_eq "rogue key, nothing pinned: believed" "$VRC" 0
commit_key=$(it_sql "SELECT key_id FROM audit_keys WHERE key_id <> '$rogue'")
it_eq "one commit key" "$(wc -l <<<"$commit_key")" 1
verify --all --trusted-key "$commit_key"
it_eq "rogue key, commit's pinned: exit" "$VRC" 1
expect_line "rogue key" "sample good1 seq 2: head_key_untrusted: the seal $seal"
it_eq "rogue key: the seal's heads only" "$(grep -vc '^audit verify: ' "$W/v.out")" "$nheads"
# Restored.
it_sql "DELETE FROM provenance_chains WHERE $g1"
it_sql "INSERT INTO provenance_chains SELECT * FROM saved_good1_rows"
it_sql "UPDATE head_seals s SET key_id = o.key_id, signature = o.signature
        FROM saved_seals o WHERE s.seal_id = o.seal_id"
it_sql "DELETE FROM chain_heads"
it_sql "INSERT INTO chain_heads SELECT * FROM saved_heads"
expect_clean "rewrite restored"
# A missing head.
it_sql "DELETE FROM chain_heads WHERE $g1"
verify --upload good1
expect_line "no head" "sample good1: head_missing: "
it_sql "INSERT INTO chain_heads SELECT * FROM saved_heads WHERE $g1"
expect_clean "head restored"

# --- audit show -----------------------------------------------------------------------
ctl audit show --upload good1 >"$W/show.txt" || it_fail "audit show failed"
for want in "upload good1" "sample good1" "validate" "commit" "committed" \
            "chain verified: 2 events" "dataset_id"; do
    grep -qF -- "$want" "$W/show.txt" || it_fail "audit show lacks '$want': $(cat "$W/show.txt")"
done
sha1=$(sha256sum "$W/files/good1.txt" | cut -d' ' -f1)
grep -qF "${sha1:0:12} -> ${sha1:0:12}" "$W/show.txt" ||
    it_fail "audit show lacks the abbreviated input -> output hashes: $(cat "$W/show.txt")"
ctl audit show --upload good1 --json >"$W/show.json" || it_fail "audit show --json failed"
it_eq "show json stages" "$(jq -c '.owners[0].events | map(.stage)' "$W/show.json")" '["validate","commit"]'
it_eq "show json outcomes" "$(jq -c '.owners[0].events | map(.outcome)' "$W/show.json")" '["accepted","committed"]'
it_eq "show json row" "$(jq -r '.owners[0] | [.kind, .row.sha256, .row.dataset_id, .verified] | join(",")' "$W/show.json")" \
    "sample,$sha1,ds1,true"
it_eq "show json head" "$(jq -c '.owners[0].head | [.seq, .key_purpose, .seal_verified]' "$W/show.json")" \
    '[2,"commit",true]'
grep -qE "head: seq 2, seal [0-9]+ by the commit key: signature verified" "$W/show.txt" ||
    it_fail "audit show lacks the verified head: $(cat "$W/show.txt")"
it_eq "show json links" \
    "$(jq -r '.owners[0].events | (.[0].prev == .[0].input_sha256) and (.[1].prev == .[0].hash)' "$W/show.json")" true
ctl audit show --upload dup --json >"$W/show.json" || it_fail "audit show dup failed"
it_eq "show rejection" "$(jq -r '.owners[0] | [.kind, .row.stage, .row.code, (.events | map(.stage) | join("+"))] | join(",")' "$W/show.json")" \
    "rejection,validate,duplicate,validate+commit"

# --- usage and connection errors ------------------------------------------------------
verify
it_eq "no selection" "$VRC" 2
verify --all --upload good1
it_eq "two selections" "$VRC" 2
verify --all -X "pg.dsn=host=127.0.0.1 port=1 dbname=none connect_timeout=2"
it_eq "no database" "$VRC" 2
set +e
ctl audit show --upload no-such-upload >/dev/null 2>&1
rc=$?
set -e
it_eq "show unknown upload" "$rc" 1

it_log "PASS audit"
