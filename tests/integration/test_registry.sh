#!/usr/bin/env bash
# The license stage's registry as operators keep it, against the real
# database: `sluicectl optout` (add, list, remove), `takedown` of accepted
# samples (withdrawn, not deleted, with a "takedown" provenance event
# chained to each sample's stored history; a repeat changes nothing),
# `dataset set` license policy / open / contributors / quotas round trips
# through `dataset show --json`, and `license check` outputs and exit codes.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init registry

W=$IT_DIR

ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
ctl creator add bob --generate-key "$W/bob.pem" >/dev/null
ctl dataset add ds1 >/dev/null
ctl dataset add ds2 >/dev/null

# --- opt-outs -----------------------------------------------------------------
it_eq "optout add" "$(ctl optout add alice --reason 'asked by email' --by ops1)" \
    "creator alice opted out (by ops1)"
it_rc ctl optout add alice --reason 'again' --by ops2
it_eq "optout add again: exit" "$RC" 0
it_has "optout add again" "$OUT" "already opted out (by ops1 at "
USER=tester SUDO_USER='' ctl optout add bob --reason 'no training' >/dev/null
it_eq "optout list" "$(ctl optout list --json | jq -c 'map([.creator_id, .requested_by, .reason])')" \
    '[["alice","ops1","asked by email"],["bob","tester","no training"]]'
it_has "optout list text" "$(ctl optout list)" "asked by email"
it_rc ctl optout add nobody --reason x
it_eq "optout add unknown creator: exit" "$RC" 1
it_rc ctl optout add alice
it_eq "optout add without --reason: exit" "$RC" 2
it_rc ctl optout add alice --reason $'two\nlines'
it_eq "optout add with a control character: exit" "$RC" 2
it_eq "optout remove" "$(ctl optout remove bob)" "creator bob: opt-out removed"
it_eq "optout remove again" "$(ctl optout remove bob)" \
    "creator bob had not opted out; nothing changed"
it_rc ctl optout remove nobody
it_eq "optout remove unknown creator: exit" "$RC" 1
it_eq "optout list after remove" "$(ctl optout list --json | jq -c 'map(.creator_id)')" '["alice"]'
ctl optout remove alice >/dev/null
it_eq "no opt-outs" "$(ctl optout list)" "no opt-outs recorded"

# --- accepted samples (validate -> commit) ------------------------------------
it_start validate
it_start commit -X input.topics=sluice.validated,sluice.rejected
mkdir -p "$W/files"
printf 'first sample, to be taken down\n' >"$W/files/good1.txt"
printf 'second sample, redacted (simulated)\n' >"$W/files/good2.txt"
printf 'third sample, stays\n' >"$W/files/good3.txt"
up() { # up ID CREATOR DATASET FILE
    ctl upload --creator "$2" --dataset "$3" --key "$W/$2.pem" \
        --upload-id "$1" "$4" 2>>"$W/upload.log" >/dev/null ||
        it_fail "sluicectl upload $1 failed"
}
up good1 alice ds1 "$W/files/good1.txt"
up good2 bob ds1 "$W/files/good2.txt"
up good3 alice ds2 "$W/files/good3.txt"
it_wait_outcomes 3 120
it_eq "accepted" "$(it_sql "SELECT string_agg(upload_id || ':' || status, ',' ORDER BY upload_id) FROM samples")" \
    "good1:accepted,good2:accepted,good3:accepted"
ctl audit verify --upload good1 >/dev/null || it_fail "good1's chain does not verify before the takedown"

# --- takedown by hash ---------------------------------------------------------------
sha1=$(sha256sum "$W/files/good1.txt" | cut -d' ' -f1)
events() { it_sql "SELECT count(*) FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = '$1'"; }
before=$(events good1)
last_hash=$(it_sql "SELECT hash FROM provenance_events WHERE owner_kind = 'sample'
                    AND owner_id = 'good1' ORDER BY seq DESC LIMIT 1")
it_rc ctl takedown add "${sha1^^}" --reason 'DMCA notice 42' --by legal
it_eq "takedown: exit" "$RC" 0
it_has "takedown output" "$OUT" "content $sha1 taken down (by legal)"
it_has "takedown names the sample" "$OUT" "withdrawn: upload good1 (dataset ds1, creator alice), provenance event $((before + 1))"
it_has "takedown count" "$OUT" "1 sample withdrawn"
it_eq "good1 withdrawn, kept" \
    "$(it_sql "SELECT status || ':' || (withdrawn_at IS NOT NULL) FROM samples WHERE upload_id = 'good1'")" \
    "withdrawn:true"
it_eq "content kept" "$(it_sql "SELECT count(*) FROM contents WHERE sha256 = '$sha1'")" 1
it_eq "others untouched" \
    "$(it_sql "SELECT string_agg(upload_id, ',' ORDER BY upload_id) FROM samples WHERE status = 'accepted'")" \
    "good2,good3"
it_eq "takedowns row" \
    "$(it_sql "SELECT sha256 || '|' || requested_by || '|' || reason FROM takedowns")" \
    "$sha1|legal|DMCA notice 42"
it_eq "one event more" "$(events good1)" "$((before + 1))"
row=$(it_sql "SELECT seq || '|' || stage || '|' || outcome || '|' || (canonical::jsonb ->> 'prev')
              FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = 'good1'
              ORDER BY seq DESC LIMIT 1")
it_eq "takedown event row" "$row" "$((before + 1))|takedown|withdrawn|$last_hash"
ev=$(it_sql "SELECT canonical FROM provenance_events WHERE owner_kind = 'sample'
             AND owner_id = 'good1' AND stage = 'takedown'")
it_eq "takedown event" \
    "$(jq -c '[.seq, .stage, .version, .outcome, .reason, .upload_id, .input_sha256, .output_sha256, .prev]' <<<"$ev")" \
    "[$((before + 1)),\"takedown\",\"sluicectl/takedown-1\",\"withdrawn\",\"taken_down\",\"good1\",\"$sha1\",\"$sha1\",\"$last_hash\"]"
[[ $ev != *DMCA* ]] || it_fail "the operator's reason leaked into the event: $ev"
it_eq "event hash" \
    "$(it_sql "SELECT hash FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = 'good1' AND stage = 'takedown'")" \
    "$(printf '%s' "$ev" | sha256sum | cut -d' ' -f1)"
it_rc ctl audit verify --upload good1
it_eq "the auditor accepts the extended chain" "$RC" 0
withdrawn_at=$(it_sql "SELECT withdrawn_at FROM samples WHERE upload_id = 'good1'")

# --- a second takedown of the same content: a no-op ---------------------------------
it_rc ctl takedown add --upload good1 --reason 'again' --by someone
it_eq "second takedown: exit" "$RC" 0
it_has "second takedown" "$OUT" "content $sha1 already taken down (by legal at "
it_has "second takedown: nothing changed" "$OUT" "nothing changed"
it_eq "no event added" "$(events good1)" "$((before + 1))"
it_eq "withdrawn_at kept" "$(it_sql "SELECT withdrawn_at FROM samples WHERE upload_id = 'good1'")" "$withdrawn_at"
it_eq "takedown row kept" "$(it_sql "SELECT requested_by || '|' || reason FROM takedowns")" "legal|DMCA notice 42"

# --- by upload, for a redacted sample: the hash the creator signed ---------------------
# (A redacted sample stores other bytes than were signed; simulated here by
# naming another original.  Its chain no longer anchors, which the takedown
# reports and still extends.)
orig2=$(printf 'what bob signed\n' | sha256sum | cut -d' ' -f1)
sha2=$(sha256sum "$W/files/good2.txt" | cut -d' ' -f1)
it_sql "UPDATE samples SET original_sha256 = '$orig2' WHERE upload_id = 'good2'"
it_rc ctl takedown add --upload good2 --reason 'creator request' --by legal2
it_eq "takedown by upload: exit" "$RC" 0
it_has "takedown by upload takes the signed hash" "$OUT" "content $orig2 taken down"
it_has "takedown by upload" "$OUT" "withdrawn: upload good2 (dataset ds1, creator bob)"
grep -q "does not verify" "$W/err" || it_fail "no warning about good2's unanchored chain: $(cat "$W/err")"
it_eq "good2 withdrawn" "$(it_sql "SELECT status FROM samples WHERE upload_id = 'good2'")" withdrawn
it_eq "good2 event input" \
    "$(it_sql "SELECT canonical FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = 'good2' AND stage = 'takedown'" | jq -r .input_sha256)" \
    "$sha2"

# --- content never accepted; errors -------------------------------------------------
other=$(printf 'never uploaded\n' | sha256sum | cut -d' ' -f1)
it_rc env USER=tester SUDO_USER='' "$IT_BIN/sluicectl" takedown add "$other" --reason 'pre-emptive'
it_eq "takedown of unseen content: exit" "$RC" 0
it_has "takedown of unseen content" "$OUT" "0 samples withdrawn"
it_rc ctl takedown add "$other" --upload good3 --reason x
it_eq "hash and --upload: exit" "$RC" 2
it_rc ctl takedown add 1234 --reason x
it_eq "bad hash: exit" "$RC" 2
it_rc ctl takedown add "$other"
it_eq "no reason: exit" "$RC" 2
it_rc ctl takedown add --upload nosuch --reason x
it_eq "unknown upload: exit" "$RC" 1
it_eq "takedown list" \
    "$(ctl takedown list --json | jq -c 'map([.sha256, .requested_by, .withdrawn_samples])')" \
    "[[\"$sha1\",\"legal\",1],[\"$orig2\",\"legal2\",1],[\"$other\",\"tester\",0]]"
it_has "takedown list text" "$(ctl takedown list)" "DMCA notice 42"
it_eq "good3 still accepted" "$(it_sql "SELECT status FROM samples WHERE upload_id = 'good3'")" accepted

# --- dataset policy round trip ---------------------------------------------------------
show() { ctl dataset show "$1" --json; }
policy_of() {
    show "$1" | jq -c '[(.license_policy | if . then tojson else null end), .open,
        (.contributors | map([.creator_id, .added_by])), .quota_daily_count, .quota_daily_bytes]'
}
t0=$(show ds1 | jq -r .policy_updated_at)
it_eq "defaults" "$(policy_of ds1)" '[null,true,[],null,null]'
ctl dataset set ds1 --license-policy '{"version":"p1","allowed":["CC-BY-*","CC0-1.0"],"require":["commercial"]}' \
    --closed --contributor-add alice --contributor-add bob --quota-count 100 \
    --quota-bytes 10m --by ops1 >"$W/set.out"
it_has "set output" "$(cat "$W/set.out")" "closed: listed creators only"
it_eq "policy stored" \
    "$(show ds1 | jq -cS '.license_policy')" \
    '{"allowed":["CC-BY-*","CC0-1.0"],"require":["commercial"],"version":"p1"}'
it_eq "set round trip" "$(show ds1 | jq -c '[.open, (.contributors | map([.creator_id, .added_by])), .quota_daily_count, .quota_daily_bytes]')" \
    '[false,[["alice","ops1"],["bob","ops1"]],100,10485760]'
t1=$(show ds1 | jq -r .policy_updated_at)
[[ $t1 > $t0 ]] || it_fail "policy_updated_at did not move: $t0 -> $t1"
it_eq "withdrawn counted" "$(show ds1 | jq -c '[.samples, .withdrawn]')" "[0,2]"
it_has "show text" "$(ctl dataset show ds1)" "alice (added by ops1), bob (added by ops1)"

# Refused changes change nothing.
it_rc ctl dataset set ds1 --license-policy '{"allowed":["Not-A-License"]}'
it_eq "unknown license in policy: exit" "$RC" 2
it_has "unknown license in policy" "$(cat "$W/err")" "Not-A-License"
it_rc ctl dataset set ds1 --license-policy '{"alowed":["MIT"]}'
it_eq "misspelt policy key: exit" "$RC" 2
it_rc ctl dataset set ds1 --license-policy '{"allowed":'
it_eq "broken JSON: exit" "$RC" 2
it_rc ctl dataset set ds1 --quota-bytes 10x
it_eq "bad size: exit" "$RC" 2
it_rc ctl dataset set ds1 --quota-count -1
it_eq "negative count: exit" "$RC" 2
it_rc ctl dataset set ds1 --open --contributor-add nobody
it_eq "unknown contributor: exit" "$RC" 1
it_rc ctl dataset set ds1 --contributor-add bob --contributor-remove bob
it_eq "add and remove: exit" "$RC" 2
it_rc ctl dataset set nosuch --open
it_eq "unknown dataset: exit" "$RC" 1
it_eq "nothing changed" "$(show ds1 | jq -r .policy_updated_at)" "$t1"
it_eq "still closed" "$(show ds1 | jq .open)" false

printf '{"require": ["training"], "forbid": ["share_alike"]}' >"$W/policy.json"
ctl dataset set ds1 --license-policy "@$W/policy.json" --contributor-remove bob \
    --contributor-add alice --quota-count none --quota-bytes 1g >/dev/null
it_eq "policy from a file" "$(show ds1 | jq -cS .license_policy)" \
    '{"forbid":["share_alike"],"require":["training"]}'
it_eq "second round trip" "$(show ds1 | jq -c '[.open, (.contributors | map(.creator_id)), .quota_daily_count, .quota_daily_bytes]')" \
    '[false,["alice"],null,1073741824]'
ctl dataset set ds1 --license-policy none --open --quota-bytes none >/dev/null
it_eq "cleared" "$(policy_of ds1)" '[null,true,[["alice","ops1"]],null,null]'
ctl dataset add ds3 --closed --contributor-add bob --license-policy '{"allowed":["MIT"]}' \
    --quota-count 5 --by ops2 >/dev/null
it_eq "add with a policy" "$(policy_of ds3)" \
    '["{\"allowed\":[\"MIT\"]}",false,[["bob","ops2"]],5,null]'
it_rc ctl dataset add ds4 --contributor-add nobody
it_eq "add with an unknown contributor: exit" "$RC" 1
it_eq "add rolled back" "$(it_sql "SELECT count(*) FROM datasets WHERE dataset_id = 'ds4'")" 0

# --- license check -----------------------------------------------------------------------
it_rc ctl license check 'mit or apache-2.0'
it_eq "valid: exit" "$RC" 0
it_has "valid: normalised" "$OUT" "expression  MIT OR Apache-2.0"
it_has "valid: rights" "$OUT" "rights      training allowed, commercial use allowed"
it_has "valid: verdict" "$OUT" "verdict     accepted"
it_rc ctl license check 'MIT OR Made-Up-1.0'
it_eq "unknown: exit" "$RC" 1
it_has "unknown" "$OUT" "refused: license_unknown: "
it_has "unknown names the id" "$OUT" "Made-Up-1.0"
it_rc ctl license check 'GPL-2.0'
it_eq "deprecated: exit" "$RC" 1
it_has "deprecated" "$OUT" "refused: license_deprecated: "
it_has "deprecated names the replacement" "$OUT" "GPL-2.0-only"
it_rc ctl license check 'NOASSERTION'
it_eq "missing: exit" "$RC" 1
it_has "missing" "$OUT" "license_missing"
it_rc ctl license check 'MIT AND'
it_eq "invalid: exit" "$RC" 1
it_has "invalid" "$OUT" "license_invalid"
it_rc ctl license check
it_eq "no expression: exit" "$RC" 2
it_rc ctl license check 'GPL-2.0' --json
it_eq "deprecated json" "$(jq -c '[.accepted, .code, .expression]' <<<"$OUT")" '[false,"license_deprecated",null]'

ctl dataset set ds2 --license-policy '{"version":3,"require":["training","commercial"]}' >/dev/null
it_rc ctl license check 'CC-BY-NC-4.0' --dataset ds2
it_eq "not allowed: exit" "$RC" 1
it_has "not allowed" "$OUT" "refused: license_not_allowed: "
it_has "not allowed says why" "$OUT" "commercial"
it_rc ctl license check 'CC-BY-NC-4.0 OR CC-BY-4.0' --dataset ds2 --json
it_eq "an alternative qualifies: exit" "$RC" 0
it_eq "an alternative qualifies" "$(jq -c '[.accepted, .chosen, .rights.commercial_allowed, .policy.version, .dataset]' <<<"$OUT")" \
    '[true,"CC-BY-4.0",true,3,"ds2"]'
it_rc ctl license check 'CC-BY-NC-4.0' --dataset ds1
it_eq "no policy: any known license" "$RC" 0
it_has "no policy" "$OUT" "dataset ds1 has none"
it_rc ctl license check MIT --dataset nosuch
it_eq "unknown dataset: exit" "$RC" 1
# Without --dataset no database is needed.
it_rc env SLUICE_PG_DSN='host=/nonexistent dbname=x' "$IT_BIN/sluicectl" license check 'CC0-1.0'
it_eq "no database: exit" "$RC" 0

it_log "registry: all checks passed"
