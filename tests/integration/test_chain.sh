#!/usr/bin/env bash
# The full default chain, uploads -> validate -> scan -> license -> commit,
# with every service on its default topics: good uploads land with their
# bound license record; one of each license-stage rejection; a quota
# enforced; a takedown of an accepted sample; audit verify clean, then
# broken by an edit.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init chain

W=$IT_DIR
ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
ctl creator add bob --generate-key "$W/bob.pem" >/dev/null
ctl creator add carol --generate-key "$W/carol.pem" >/dev/null
ctl dataset add open-ds >/dev/null
ctl dataset add commercial-ds >/dev/null
ctl dataset add closed-ds >/dev/null
ctl dataset add quota-ds >/dev/null
ctl dataset set commercial-ds --license-policy '{"version": "p1", "require": ["training", "commercial"]}' >/dev/null
ctl dataset set closed-ds --closed --contributor-add alice >/dev/null
ctl dataset set quota-ds --quota-count 2 >/dev/null
ctl optout add bob --reason "asked by email" --by test >/dev/null

for svc in validate scan license commit; do it_start "$svc"; done

mkdir -p "$W/f"
n=0
mk() { n=$((n + 1)); printf 'chain sample %d: %s\n' "$n" "$1" >"$W/f/$n.txt"; echo "$W/f/$n.txt"; }
up() { # up ID CREATOR DATASET FILE [options]
    local id=$1 who=$2 ds=$3 file=$4; shift 4
    ctl upload --creator "$who" --dataset "$ds" --key "$W/$who.pem" --upload-id "$id" \
        "$@" "$file" >/dev/null 2>>"$W/upload.log" || it_fail "upload $id failed"
}
up good alice open-ds "$(mk 'a good one')" --license CC-BY-4.0
up norm alice open-ds "$(mk 'lower-case license')" --license 'mit or apache-2.0'
up missing alice open-ds "$(mk 'no assertion')" --license NOASSERTION
up unknown alice open-ds "$(mk 'made-up license')" --license Foo-License-1.0
up deprecated alice open-ds "$(mk 'deprecated id')" --license GPL-2.0
up invalid alice open-ds "$(mk 'broken expression')" --license 'MIT AND ('
up noatt alice open-ds "$(mk 'no attestation')" --no-attestation
up reserved alice open-ds "$(mk 'no training')" --usage ai_training=notAllowed
up tdm alice open-ds "$(mk 'tdm reserved')" --tdm-reservation
up constrained alice open-ds "$(mk 'constrained use')" --usage data_mining=constrained
up optedout bob open-ds "$(mk 'from bob')"
takedown_file=$(mk 'taken down before upload')
ctl takedown add "$(sha256sum "$takedown_file" | cut -c1-64)" --reason "court order" --by test >/dev/null
up takendown alice open-ds "$takedown_file"
up outsider carol closed-ds "$(mk 'not a contributor')"
up insider alice closed-ds "$(mk 'a contributor')"
up nc alice commercial-ds "$(mk 'non-commercial')" --license CC-BY-NC-4.0
up choice alice commercial-ds "$(mk 'a choice')" --license 'CC-BY-NC-4.0 OR MIT'
up q1 alice quota-ds "$(mk 'quota one')"
up q2 alice quota-ds "$(mk 'quota two')"
up q3 alice quota-ds "$(mk 'quota three')"
# A sample whose record is larger than what a stage fetches from a
# partition at a time (2 MiB: common/src/runner.c) still passes every
# hop: the broker returns a fetch's first record batch whatever its size
# (test_deadletter sends one larger than a whole fetch, 8 MiB, to
# validate).  Random letters, so that lz4 cannot shrink the record below
# 2 MiB (gzip, which compresses better, is the check).
LARGE=$((7 * 1024 * 1024))
python3 - "$W/f/large.txt" "$LARGE" <<'PY'
import random, string, sys
path, want = sys.argv[1], int(sys.argv[2])
rng = random.Random(16)
words = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 8)))
         for _ in range(200000)]
out, size = [], 0
while size < want:
    w = rng.choice(words)
    out.append(w)
    size += len(w) + 1
open(path, "w").write(" ".join(out)[:want - 1] + "\n")
PY
packed=$(gzip -1 -c "$W/f/large.txt" | wc -c)
((packed > 3 * 1024 * 1024)) || it_fail "large.txt packs to $packed bytes: not larger than a partition's fetch (2 MiB)"
up large alice open-ds "$W/f/large.txt"

it_wait_outcomes 20 180
sleep 1
it_eq "good" "$(it_outcome good)" accepted
it_eq "bound license" \
    "$(it_sql "SELECT l.record->>'expression' FROM samples s JOIN license_records l ON l.sha256 = s.license_sha256 WHERE upload_id = 'good'")" CC-BY-4.0
it_eq "normalised expression" \
    "$(it_sql "SELECT l.record->>'expression' FROM samples s JOIN license_records l ON l.sha256 = s.license_sha256 WHERE upload_id = 'norm'")" "MIT OR Apache-2.0"
it_eq "license_missing" "$(it_outcome missing)" license:license_missing
it_eq "license_unknown" "$(it_outcome unknown)" license:license_unknown
it_eq "license_deprecated" "$(it_outcome deprecated)" license:license_deprecated
detail=$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'deprecated'")
[[ $detail == *GPL-2.0-only* ]] || it_fail "deprecated detail does not name the replacement: $detail"
it_eq "license_invalid" "$(it_outcome invalid)" license:license_invalid
it_eq "attestation_missing" "$(it_outcome noatt)" license:attestation_missing
it_eq "use_reserved (signal)" "$(it_outcome reserved)" license:use_reserved
it_eq "use_reserved (tdm)" "$(it_outcome tdm)" license:use_reserved
it_eq "constrained passes" "$(it_outcome constrained)" accepted
it_eq "opted_out" "$(it_outcome optedout)" license:opted_out
it_eq "taken_down" "$(it_outcome takendown)" license:taken_down
it_eq "not_entitled" "$(it_outcome outsider)" license:not_entitled
it_eq "contributor" "$(it_outcome insider)" accepted
it_eq "license_not_allowed" "$(it_outcome nc)" license:license_not_allowed
it_eq "OR: a branch that satisfies" "$(it_outcome choice)" accepted
it_eq "chosen branch" \
    "$(it_sql "SELECT l.record->>'chosen' FROM samples s JOIN license_records l ON l.sha256 = s.license_sha256 WHERE upload_id = 'choice'")" MIT
it_eq "larger than a partition's fetch" "$(it_outcome large)" accepted
it_eq "larger than a partition's fetch: stored whole" \
    "$(it_sql "SELECT s.size || ' ' || length(c.data) FROM samples s JOIN contents c USING (sha256) WHERE upload_id = 'large'")" \
    "$LARGE $LARGE"
# Three uploads on three partitions: which one is refused depends on the
# order they are processed in; that two pass and one does not does not.
it_eq "quota" "$(printf '%s\n' "$(it_outcome q1)" "$(it_outcome q2)" "$(it_outcome q3)" | sort | tr '\n' ' ')" \
    "accepted accepted license:quota_exceeded "
it_eq "chain of an accepted sample" \
    "$(it_sql "SELECT string_agg(stage, '>' ORDER BY seq) FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = 'good'")" \
    "validate>scan>license>commit"
it_eq "audit verify, clean" "$(ctl audit verify --all >/dev/null 2>&1; echo $?)" 0

# A takedown of an accepted sample: withdrawn, not deleted, with an event.
sha=$(it_sql "SELECT sha256 FROM samples WHERE upload_id = 'good'")
ctl takedown add "$sha" --reason "creator request" --by test >/dev/null ||
    it_fail "takedown add failed"
it_eq "withdrawn" "$(it_sql "SELECT status FROM samples WHERE upload_id = 'good'")" withdrawn
it_eq "takedown event" \
    "$(it_sql "SELECT stage || ':' || outcome FROM provenance_events WHERE owner_id = 'good' ORDER BY seq DESC LIMIT 1")" \
    takedown:withdrawn
it_eq "audit verify after the takedown" "$(ctl audit verify --all >/dev/null 2>&1; echo $?)" 0
# Stored as one row a writer: commit's four events, the takedown's one
# (028_provenance_chains.sql).
it_eq "the chain's stored rows" \
    "$(it_sql "SELECT string_agg(first_seq || ':' || array_to_string(stage, '>'), ',' ORDER BY first_seq)
               FROM provenance_chains WHERE owner_kind = 'sample' AND owner_id = 'good'")" \
    "1:validate>scan>license>commit,5:takedown"
it_eq "the takedown's new head, signed by the operator's key" \
    "$(it_sql "SELECT string_agg(h.seq || ':' || k.purpose, ',' ORDER BY h.seq)
               FROM chain_heads h JOIN head_seals s USING (seal_id) JOIN audit_keys k USING (key_id)
               WHERE h.owner_kind = 'sample' AND h.owner_id = 'good'")" "4:commit,5:operator"

# The day's usage that quotas read: the two accepted quota samples; a
# takedown of one gives its slot back.
usage() {
    it_sql "SELECT samples || ' ' || bytes FROM quota_usage WHERE dataset_id = 'quota-ds'
            AND creator_id = 'alice' AND day = (now() AT TIME ZONE 'UTC')::date"
}
it_eq "quota usage" "$(usage)" \
    "2 $(it_sql "SELECT sum(size) FROM samples WHERE dataset_id = 'quota-ds' AND status = 'accepted'")"
qsha=$(it_sql "SELECT sha256 FROM samples WHERE dataset_id = 'quota-ds' ORDER BY upload_id LIMIT 1")
ctl takedown add "$qsha" --reason "creator request" --by test >/dev/null ||
    it_fail "takedown add (quota sample) failed"
it_eq "quota usage after the takedown" "$(usage)" \
    "1 $(it_sql "SELECT sum(size) FROM samples WHERE dataset_id = 'quota-ds' AND status = 'accepted'")"

# One edited row is caught.
it_eq "tampered rows" "$(it_sql "WITH u AS (UPDATE provenance_chains SET outcome[3] = 'rejected' WHERE owner_kind = 'sample' AND owner_id = 'insider' AND first_seq = 1 AND stage[3] = 'license' RETURNING 1) SELECT count(*) FROM u")" 1
it_eq "audit verify, tampered" "$(ctl audit verify --all >/dev/null 2>&1; echo $?)" 1
