#!/usr/bin/env bash
# The feed's data side, against the real broker and database (issue #12):
# samples committed through the whole pipeline get increasing, unique
# feed positions and the clock moves past them; takedowns and opt-outs
# leave exactly one tombstone per withdrawn sample (a repeat adds none)
# and wake the feed; `sluicectl consumer`, `grant`, `token` and `usage`
# do what they say, refuse bad input with a usage error (2) or a failure
# (1), store a token's hash and never the token, and every change to
# authorisation notifies the feed instances in its transaction.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init feedctl

W=$IT_DIR

# listen CHANNEL: a session LISTENing on CHANNEL in the background (up to
# 30 s; psql prints what arrived after each of its short statements).
# heard NEEDLE: waits until NEEDLE arrived (or the session ended), ends the
# session and prints each distinct notification with its count.
N_LISTEN=0
listen() {
    local args=(-c "LISTEN $1" -c "SELECT 'listening'")
    for _ in $(seq 120); do args+=(-c "SELECT pg_sleep(0.25)"); done
    LISTEN_OUT=$W/listen.$((++N_LISTEN)).out
    psql -XAtq "$IT_OWNER_DSN" "${args[@]}" >"$LISTEN_OUT" 2>&1 &
    LISTEN_PID=$!
    until grep -q listening "$LISTEN_OUT"; do   # the LISTEN is in
        kill -0 "$LISTEN_PID" || it_fail "psql LISTEN: $(cat "$LISTEN_OUT")"
        sleep 0.1
    done
}
heard() {
    while kill -0 "$LISTEN_PID" 2>/dev/null && ! grep -q "$1" "$LISTEN_OUT"; do
        sleep 0.1
    done
    sleep 0.5   # anything else it would have heard
    kill "$LISTEN_PID" 2>/dev/null || true
    grep -o 'notification "[a-z_]*"\( with payload "[a-z]*"\)\?' "$LISTEN_OUT" |
        sort | uniq -c | sed 's/^ *//' | paste -sd';' -
}
usage_err() { # usage_err WHAT CMD...: exits 2 with a message naming the problem
    local what=$1; shift
    it_rc "$@"
    it_eq "$what: exit" "$RC" 2
    [[ -s $W/err ]] || it_fail "$what: no message on stderr"
}

ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
ctl creator add bob --generate-key "$W/bob.pem" >/dev/null
ctl dataset add ds1 >/dev/null
ctl dataset add ds2 >/dev/null

# --- samples through the pipeline: feed positions ---------------------------------
for svc in validate scan license commit; do it_start "$svc"; done
mkdir -p "$W/files"
up() { # up ID CREATOR DATASET LICENSE
    printf 'sample %s of %s\n' "$1" "$2" >"$W/files/$1.txt"
    ctl upload --creator "$2" --dataset "$3" --key "$W/$2.pem" --license "$4" \
        --upload-id "$1" "$W/files/$1.txt" 2>>"$W/upload.log" >/dev/null ||
        it_fail "sluicectl upload $1 failed"
}
listen sluice_feed
up a1 alice ds1 CC-BY-4.0
up a2 alice ds1 CC-BY-NC-4.0
up a3 alice ds2 CC0-1.0
up b1 bob ds1 CC-BY-4.0
up b2 bob ds2 MIT
it_wait_outcomes 5 120
it_eq "accepted" "$(it_sql "SELECT count(*) FROM samples WHERE status = 'accepted'")" 5
it_has "commit woke the feed" "$(heard '"samples"')" 'notification "sluice_feed" with payload "samples"'
it_eq "feed positions: set, distinct, below the clock" \
    "$(it_sql "SELECT count(feed_seq) || ':' || count(DISTINCT feed_seq) || ':' ||
               (max(feed_seq) < (SELECT next_seq FROM feed_clock WHERE stream = 'samples'))
               FROM samples")" "5:5:true"
first_max=$(it_sql "SELECT max(feed_seq) FROM samples")
up a4 alice ds1 CC-BY-4.0
up b3 bob ds1 CC-BY-4.0
it_wait_outcomes 7 120
it_eq "later samples come later" \
    "$(it_sql "SELECT count(*) FROM samples WHERE upload_id IN ('a4', 'b3') AND feed_seq > $first_max")" 2
it_eq "the clock is past every position" \
    "$(it_sql "SELECT (SELECT next_seq FROM feed_clock WHERE stream = 'samples') > max(feed_seq) FROM samples")" t
it_eq "NULL positions refused" \
    "$(it_sql "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'samples'::regclass AND attname = 'feed_seq'")" t
# The grants' rights test on the records the license stage bound.
it_eq "commercial use allowed" \
    "$(it_sql "SELECT string_agg(upload_id || ':' || feed_license_allows(l.record, '{commercial_allowed}'), ','
               ORDER BY upload_id) FROM samples s JOIN license_records l ON l.sha256 = s.license_sha256
               WHERE upload_id IN ('a1', 'a2', 'a3')")" \
    "a1:true,a2:false,a3:true"
it_eq "no requirement" "$(it_sql "SELECT bool_and(feed_license_allows(l.record, NULL)) FROM samples s
                                   LEFT JOIN license_records l ON l.sha256 = s.license_sha256")" t

# --- consumers -----------------------------------------------------------------------
it_eq "consumer add" "$(ctl consumer add acme --name 'ACME Labs')" "consumer acme added"
ctl consumer add beta >/dev/null
it_rc ctl consumer add acme
it_eq "consumer add twice: exit" "$RC" 1
it_has "consumer add twice" "$(cat "$W/err")" 'consumer "acme" exists already'
usage_err "consumer name with a space" ctl consumer add 'bad name'
usage_err "consumer without a name" ctl consumer add
usage_err "display name with a newline" ctl consumer add gamma --name $'two\nlines'
it_eq "consumer list" \
    "$(ctl consumer list --json | jq -c 'map([.consumer_id, .display_name, .status, .disabled_at])')" \
    '[["acme","ACME Labs","active",null],["beta","","active",null]]'

# --- grants ---------------------------------------------------------------------------
it_rc ctl grant add --consumer acme --dataset ds1 --price 2500 --require-rights commercial
it_eq "grant add: exit" "$RC" 0
it_has "grant add" "$OUT" "grant 1: consumer acme may read dataset ds1 at 2500 micro-USD per sample"
it_eq "grant stored" \
    "$(it_sql "SELECT consumer_id || '|' || dataset_id || '|' || price_micros || '|' || currency || '|' ||
               require_rights::text || '|' || (valid_until IS NULL) FROM grants WHERE grant_id = 1")" \
    "acme|ds1|2500|USD|{commercial_allowed}|true"
it_rc ctl grant add --consumer acme --dataset ds1
it_eq "second live grant: exit" "$RC" 1
it_has "second live grant" "$(cat "$W/err")" 'already has grant 1 on dataset "ds1"'
it_rc ctl grant add --consumer nobody --dataset ds1
it_eq "grant to an unknown consumer: exit" "$RC" 1
it_rc ctl grant add --consumer acme --dataset nosuch
it_eq "grant of an unknown dataset: exit" "$RC" 1
usage_err "grant without a dataset" ctl grant add --consumer acme
usage_err "negative price" ctl grant add --consumer acme --dataset ds2 --price -1
usage_err "price in words" ctl grant add --consumer acme --dataset ds2 --price ten
usage_err "lowercase currency" ctl grant add --consumer acme --dataset ds2 --currency usd
usage_err "until in the past" ctl grant add --consumer acme --dataset ds2 --until 2020-01-01T00:00:00Z
usage_err "until not a time" ctl grant add --consumer acme --dataset ds2 --until tomorrow
usage_err "unknown right" ctl grant add --consumer acme --dataset ds2 --require-rights commercial,flying
it_has "unknown right named" "$(cat "$W/err")" 'flying'
it_eq "nothing stored by refused grants" "$(it_sql "SELECT count(*) FROM grants")" 1
ctl grant add --consumer beta --dataset ds1 --price 1000 --currency EUR \
    --until 2099-01-01T00:00:00Z --require-rights training_allowed,commercial >/dev/null
ctl grant add --consumer acme --dataset ds2 >/dev/null
it_eq "grant list" \
    "$(ctl grant list --json | jq -c 'map([.grant_id, .consumer_id, .dataset_id, .price_micros, .currency, .require_rights, .valid_until, .state])')" \
    '[[1,"acme","ds1",2500,"USD","commercial_allowed",null,"live"],[2,"beta","ds1",1000,"EUR","training_allowed,commercial_allowed","2099-01-01T00:00:00Z","live"],[3,"acme","ds2",0,"USD",null,null,"live"]]'
it_eq "grant list --dataset ds2" "$(ctl grant list --dataset ds2 --json | jq -c 'map(.grant_id)')" '[3]'
it_eq "grant list --consumer beta" "$(ctl grant list --consumer beta --json | jq -c 'map(.grant_id)')" '[2]'
listen sluice_feed_auth
it_eq "grant revoke" "$(ctl grant revoke 3)" "grant 3 revoked"
it_eq "grant revoke notifies the feed" "$(heard sluice_feed_auth)" '1 notification "sluice_feed_auth"'
it_eq "grant revoke again" "$(ctl grant revoke 3)" "grant 3 was revoked already; nothing changed"
it_rc ctl grant revoke 99
it_eq "revoke an unknown grant: exit" "$RC" 1
usage_err "revoke a grant by name" ctl grant revoke acme
it_eq "revoked grant's state" "$(ctl grant list --dataset ds2 --json | jq -r '.[0].state')" revoked
ctl grant add --consumer acme --dataset ds2 --price 10 >/dev/null
it_eq "a new grant after the revocation" "$(ctl grant list --dataset ds2 --json | jq -c 'map([.grant_id, .state])')" \
    '[[3,"revoked"],[4,"live"]]'

# --- tokens ------------------------------------------------------------------------------
tok=$(ctl token issue --consumer acme --datasets ds1,ds2,ds1 --ttl 7d --label 'trainer 1' 2>"$W/err")
[[ $tok =~ ^slc_[0-9a-f]{64}$ ]] || it_fail "consumer token: '$tok'"
it_has "issue says what it made" "$(cat "$W/err")" "token 1 for consumer acme (scope read, datasets {ds1,ds2}), expires "
it_eq "the token's hash is stored" "$(it_sql "SELECT token_sha256 FROM feed_tokens WHERE token_id = 1")" \
    "$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)"
it_eq "the token itself is not" \
    "$(it_sql "SELECT count(*) FROM feed_tokens t WHERE row_to_json(t)::text LIKE '%${tok:4}%'")" 0
it_eq "token row" \
    "$(it_sql "SELECT consumer_id || '|' || datasets::text || '|' || scope || '|' || label || '|' ||
               (expires_at - created_at) FROM feed_tokens WHERE token_id = 1")" \
    "acme|{ds1,ds2}|read|trainer 1|7 days"
rtok=$(ctl token issue --creator alice --ttl 12h 2>/dev/null)
[[ $rtok =~ ^slr_[0-9a-f]{64}$ ]] || it_fail "creator token: '$rtok'"
[[ $rtok != "$tok" ]] || it_fail "two tokens alike"
ctl token issue --consumer beta --scope metadata >/dev/null 2>&1
usage_err "consumer and creator" ctl token issue --consumer acme --creator alice
usage_err "no holder" ctl token issue
usage_err "ttl of zero" ctl token issue --consumer acme --ttl 0d
usage_err "ttl in years" ctl token issue --consumer acme --ttl 5y
usage_err "ttl over ten years" ctl token issue --consumer acme --ttl 3651d
usage_err "unknown scope" ctl token issue --consumer acme --scope write
usage_err "empty dataset in the list" ctl token issue --consumer acme --datasets ds1,,ds2
usage_err "creator token narrowed to datasets" ctl token issue --creator alice --datasets ds1
it_rc ctl token issue --consumer acme --datasets ds1,nosuch
it_eq "unknown dataset: exit" "$RC" 1
it_has "unknown dataset named" "$(cat "$W/err")" "no dataset nosuch"
[[ -z $OUT ]] || it_fail "a refused token was printed: $OUT"
it_rc ctl token issue --consumer nobody
it_eq "unknown consumer: exit" "$RC" 1
it_eq "nothing stored by refused issues" "$(it_sql "SELECT count(*) FROM feed_tokens")" 3
list=$(ctl token list --json)
it_eq "token list" "$(jq -c 'map([.token_id, .label, .holder_kind, .holder, .scope, .datasets, .state])' <<<"$list")" \
    '[[1,"trainer 1","consumer","acme","read","ds1,ds2","active"],[2,"","creator","alice","read",null,"active"],[3,"","consumer","beta","metadata",null,"active"]]'
hash1=$(it_sql "SELECT token_sha256 FROM feed_tokens WHERE token_id = 1")
for secret in "${tok:4}" "${rtok:4}" "$hash1"; do
    [[ $list != *"$secret"* && $(ctl token list) != *"$secret"* ]] ||
        it_fail "token list shows a token or its hash"
done
it_eq "token list --creator" "$(ctl token list --creator alice --json | jq -c 'map(.token_id)')" '[2]'
usage_err "list by consumer and creator" ctl token list --consumer acme --creator alice
listen sluice_feed_auth
it_eq "token revoke" "$(ctl token revoke 1)" "token 1 revoked"
it_eq "token revoke notifies the feed" "$(heard sluice_feed_auth)" '1 notification "sluice_feed_auth"'
it_eq "token revoke again" "$(ctl token revoke 1)" "token 1 was revoked already; nothing changed"
it_rc ctl token revoke 42
it_eq "revoke an unknown token: exit" "$RC" 1
usage_err "revoke a token by its text" ctl token revoke "$tok"
listen sluice_feed_auth
it_eq "consumer disable" "$(ctl consumer disable beta)" "consumer beta disabled"
it_eq "consumer disable notifies the feed" "$(heard sluice_feed_auth)" '1 notification "sluice_feed_auth"'
it_eq "consumer disable again" "$(ctl consumer disable beta)" "consumer beta was disabled already; nothing changed"
it_rc ctl consumer disable nobody
it_eq "disable an unknown consumer: exit" "$RC" 1
it_eq "token states" "$(ctl token list --json | jq -c 'map(.state)')" '["revoked","active","holder_disabled"]'
it_rc ctl token issue --consumer beta
it_eq "token for a disabled consumer: exit" "$RC" 1
it_rc ctl grant add --consumer beta --dataset ds2
it_eq "grant to a disabled consumer: exit" "$RC" 1

# --- withdrawals: one tombstone each, a repeat adds none --------------------------------------
sha_a1=$(sha256sum "$W/files/a1.txt" | cut -d' ' -f1)
listen sluice_feed
it_rc ctl takedown add "$sha_a1" --reason 'DMCA notice 7' --by legal
it_eq "takedown: exit" "$RC" 0
it_has "takedown" "$OUT" "withdrawn: upload a1 (dataset ds1, creator alice)"
it_has "takedown woke the feed" "$(heard '"changes"')" 'notification "sluice_feed" with payload "changes"'
it_eq "takedown tombstone" \
    "$(it_sql "SELECT seq || '|' || dataset_id || '|' || upload_id || '|' || sha256 || '|' || kind || '|' || reason
               FROM feed_changes")" "1|ds1|a1|$sha_a1|takedown|taken_down"
ctl takedown add "$sha_a1" --reason again >/dev/null
it_eq "takedown again: no tombstone more" "$(it_sql "SELECT count(*) FROM feed_changes")" 1
it_rc ctl optout add bob --reason 'stopped contributing' --by ops
it_eq "optout: exit" "$RC" 0
it_has "optout" "$OUT" "creator bob opted out (by ops)"
it_has "optout withdraws b1" "$OUT" "withdrawn: upload b1 (dataset ds1), provenance event "
it_has "optout count" "$OUT" "3 samples withdrawn"
it_eq "bob's samples withdrawn" \
    "$(it_sql "SELECT string_agg(upload_id || ':' || status, ',' ORDER BY upload_id) FROM samples WHERE creator_id = 'bob'")" \
    "b1:withdrawn,b2:withdrawn,b3:withdrawn"
it_eq "optout tombstones, in order after the takedown's" \
    "$(it_sql "SELECT string_agg(seq || ':' || upload_id || ':' || kind || ':' || reason, ',' ORDER BY seq) FROM feed_changes")" \
    "1:a1:takedown:taken_down,2:b1:optout:opted_out,3:b2:optout:opted_out,4:b3:optout:opted_out"
it_eq "changes clock" "$(it_sql "SELECT next_seq FROM feed_clock WHERE stream = 'changes'")" 5
it_eq "optout event" \
    "$(it_sql "SELECT canonical FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = 'b2' AND stage = 'optout'" |
       jq -c '[.stage, .version, .outcome, .reason]')" '["optout","sluicectl/optout-1","withdrawn","opted_out"]'
it_rc ctl audit verify --upload b2
it_eq "the auditor accepts the extended chain" "$RC" 0
it_rc ctl optout add bob --reason again
it_eq "optout again: exit" "$RC" 0
it_has "optout again" "$OUT" "nothing changed"
it_eq "optout again: no tombstone more" "$(it_sql "SELECT count(*) FROM feed_changes")" 4
it_eq "alice untouched by bob's opt-out" \
    "$(it_sql "SELECT count(*) FROM samples WHERE creator_id = 'alice' AND status = 'accepted'")" 3

# --- usage ----------------------------------------------------------------------------------------
# The feed writes these (one per consumer and sample delivered); here the
# owner writes them as it would, to check the report's sums.
it_sql "INSERT INTO usage_events (consumer_id, upload_id, creator_id, dataset_id, grant_id,
            price_micros, currency, route, delivered_at) VALUES
        ('acme', 'a2', 'alice', 'ds1', 1, 2500, 'USD', 'token', '2026-11-01T10:00:00Z'),
        ('acme', 'a4', 'alice', 'ds1', 1, 2500, 'USD', 'signed_url', '2026-11-02T10:00:00Z'),
        ('acme', 'a3', 'alice', 'ds2', 4, 10, 'USD', 'token', '2026-11-03T10:00:00Z'),
        ('beta', 'a2', 'alice', 'ds1', 2, 1000, 'EUR', 'token', '2026-11-04T10:00:00Z')" >/dev/null
it_eq "usage of acme" "$(ctl usage --consumer acme --json | jq -c '[.rows, .totals]')" \
    '[[{"dataset_id":"ds1","consumer_id":"acme","samples":2,"price_micros":5000,"currency":"USD"},{"dataset_id":"ds2","consumer_id":"acme","samples":1,"price_micros":10,"currency":"USD"}],[{"samples":3,"price_micros":5010,"currency":"USD"}]]'
it_eq "usage of ds1" "$(ctl usage --dataset ds1 --json | jq -c '.totals')" \
    '[{"samples":1,"price_micros":1000,"currency":"EUR"},{"samples":2,"price_micros":5000,"currency":"USD"}]'
it_eq "usage of alice since Nov 3" \
    "$(ctl usage --creator alice --since 2026-11-03T00:00:00Z --json | jq -c '[.creator_id, .since, (.rows | map([.dataset_id, .consumer_id, .samples])), (.totals | map(.currency))]')" \
    '["alice","2026-11-03T00:00:00Z",[["ds1","beta",1],["ds2","acme",1]],["EUR","USD"]]'
it_has "usage as text" "$(ctl usage --consumer acme)" "total: 3 samples, 5010 micro-USD"
it_eq "usage of bob" "$(ctl usage --creator bob)" $'usage of creator bob\nno deliveries\ntotal: 0 samples'
usage_err "usage of nothing" ctl usage
usage_err "usage of two" ctl usage --consumer acme --dataset ds1
usage_err "usage since not a time" ctl usage --consumer acme --since yesterday
it_rc ctl usage --consumer nobody
it_eq "usage of an unknown consumer: exit" "$RC" 1

# --- the pipeline still flows ------------------------------------------------------------------------
up a5 alice ds1 CC-BY-4.0
it_wait_outcomes 8 60
it_eq "a clean upload after all this" \
    "$(it_sql "SELECT status || ':' || (feed_seq > $first_max) FROM samples WHERE upload_id = 'a5'")" "accepted:true"
it_log "test_feed_ctl: all passed"
