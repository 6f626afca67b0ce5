#!/usr/bin/env bash
# sluice-review over HTTP against the real database and broker: flagged
# samples from the real chain; login with a session cookie and its
# attributes; bad passwords rate-limited per account (the right password
# is refused too while limited); POSTs without the CSRF token refused with
# nothing changed; two moderators racing to claim one item (exactly one
# wins, the other cannot decide it); approve and reject each write one
# review chain event (with the moderator as actor, sealed, `audit verify`
# clean) and one outbox row the relay sends to the topic (read back with
# kcat); the raw bytes are an attachment in a sandbox.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/review_lib.sh"
it_init review_api
rv_setup 3
rv_start -X review.reverse.window.s=0

# --- login ----------------------------------------------------------------
tok=$(rv_login_token ann)
out=$(curl -s -D - -o /dev/null -b "$IT_DIR/jar-x" -c "$IT_DIR/jar-x" --data-urlencode username=ann \
    --data-urlencode "password=$(cat "$IT_DIR/pw-ann")" --data-urlencode "csrf=$tok" "$RV_URL/login")
it_eq "login without the login form's cookie" "$(head -1 <<<"$out" | cut -d' ' -f2)" 403
rv_login ann
grep -q $'#HttpOnly_127.0.0.1\tFALSE\t/\tTRUE\t[0-9]*\t__Host-sluice-review\t[0-9a-f]\{64\}' "$IT_DIR/jar-ann" ||
    it_fail "session cookie not HttpOnly/Secure/Path=/: $(cat "$IT_DIR/jar-ann")"
hdrs=$(curl -s -D - -o /dev/null -b "$IT_DIR/jar-ann" "$RV_URL/api/session")
grep -qi "^content-security-policy: default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'" <<<"$hdrs" ||
    it_fail "no CSP: $hdrs"
grep -qi '^x-content-type-options: nosniff' <<<"$hdrs" || it_fail "no nosniff"
grep -qi '^cache-control: no-store' <<<"$hdrs" || it_fail "no no-store"
it_eq "session hash stored, not the id" \
    "$(it_sql "SELECT count(*) FROM review_sessions WHERE id_sha256 = encode(sha256(convert_to('$(awk '/__Host-sluice-review/ {print $7}' "$IT_DIR/jar-ann")', 'UTF8')), 'hex')")" 1
it_eq "no session without a cookie" "$(rv_curl nobody "$RV_URL/api/session" | rv_err)" \
    '401 not_logged_in'

# Five wrong passwords for bob, then even the right one waits.
printf 'not-bobs-password-at-all\n' >"$IT_DIR/pw-wrong"
for i in 1 2 3 4 5; do
    tok=$(rv_login_token bob)
    st=$(rv_curl bob --data-urlencode username=bob --data-urlencode "password=not-bobs-password-at-all" \
        --data-urlencode "csrf=$tok" "$RV_URL/login" | cut -d' ' -f1)
    it_eq "wrong password $i" "$st" 401
done
tok=$(rv_login_token bob)
st=$(rv_curl bob --data-urlencode username=bob --data-urlencode "password=$(cat "$IT_DIR/pw-bob")" \
    --data-urlencode "csrf=$tok" "$RV_URL/login" | cut -d' ' -f1)
it_eq "right password while rate-limited" "$st" 429
it_eq "failed attempts recorded" "$(it_sql "SELECT count(*) FROM review_login_attempts WHERE username = 'bob' AND NOT ok")" 5
it_eq "no session for bob" "$(it_sql "SELECT count(*) FROM review_sessions WHERE moderator = 'bob'")" 0
rv_login carl

# --- CSRF -----------------------------------------------------------------
it_eq "claim without CSRF token" "$(rv_curl ann -X POST "$RV_URL/api/items/f1/claim" | rv_err)" \
    '403 csrf_invalid'
it_eq "claim with another session's token" \
    "$(rv_curl ann -X POST -H "X-CSRF-Token: $RV_CSRF_CARL" "$RV_URL/api/items/f1/claim" | cut -d' ' -f1)" 403
it_eq "form decide without csrf" "$(rv_curl ann --data-urlencode action=approve --data-urlencode reason=other \
    --data-urlencode "shown_sha256=$(rv_sha f1)" "$RV_URL/items/f1/decide" | cut -d' ' -f1)" 403
it_eq "nothing changed" "$(it_sql "SELECT state || ':' || COALESCE(claimed_by, '-') FROM review_items WHERE upload_id = 'f1'")" "pending:-"
it_eq "GET cannot decide" "$(rv_curl ann "$RV_URL/api/items/f1/decide" | cut -d' ' -f1)" 405

# --- two moderators race for f1 --------------------------------------------
rv_curl ann -X POST -H "X-CSRF-Token: $RV_CSRF_ANN" "$RV_URL/api/items/f1/claim" >"$IT_DIR/race-ann" &
p1=$!
curl -s -o "$IT_DIR/race-carl.body" -w '%{http_code}\n' -b "$IT_DIR/jar-carl" -X POST \
    -H "X-CSRF-Token: $RV_CSRF_CARL" "$RV_URL/api/items/f1/claim" >"$IT_DIR/race-carl" &
p2=$!
wait $p1 $p2
codes=$(printf '%s\n%s\n' "$(cut -d' ' -f1 "$IT_DIR/race-ann")" "$(cat "$IT_DIR/race-carl")" | sort | tr '\n' ' ')
it_eq "one claim wins, one is refused" "$codes" "200 409 "
winner=$(it_sql "SELECT claimed_by FROM review_items WHERE upload_id = 'f1'")
loser=ann; [[ $winner == ann ]] && loser=carl
wcsrf=RV_CSRF_${winner^^}; lcsrf=RV_CSRF_${loser^^}
body='{"action":"approve","reason":"false_positive","note":"an <b>internal</b> test address","shown_sha256":"'$(rv_sha f1)'"}'
it_eq "the loser cannot decide" "$(rv_curl "$loser" -X POST -H "X-CSRF-Token: ${!lcsrf}" \
    -H 'Content-Type: application/json' -d "$body" "$RV_URL/api/items/f1/decide" | rv_err)" \
    '409 lease_not_held'
bad='{"action":"approve","reason":"false_positive","shown_sha256":"'$(printf '0%.0s' {1..64})'"}'
it_eq "a decision on other bytes than shown" "$(rv_curl "$winner" -X POST -H "X-CSRF-Token: ${!wcsrf}" \
    -d "$bad" "$RV_URL/api/items/f1/decide" | rv_err)" '409 shown_mismatch'
out=$(rv_curl "$winner" -X POST -H "X-CSRF-Token: ${!wcsrf}" -d "$body" "$RV_URL/api/items/f1/decide")
it_eq "approve" "$(cut -d' ' -f1 <<<"$out") $(jq -r .state <<<"${out#* }")" "200 approved"
it_eq "decided once" "$(rv_curl "$winner" -X POST -H "X-CSRF-Token: ${!wcsrf}" -d "$body" \
    "$RV_URL/api/items/f1/decide" | rv_err)" '409 already_decided'

# --- reject f2 (claimed by opening the page) ---------------------------------
it_eq "item page claims" "$(rv_curl ann "$RV_URL/items/f2" | cut -d' ' -f1)" 200
it_eq "carl cannot open it now" "$(rv_curl carl "$RV_URL/items/f2" | cut -d' ' -f1)" 409
it_eq "reject by form" "$(rv_curl ann --data-urlencode action=reject --data-urlencode reason=confirmed_pii \
    --data-urlencode 'note=private address' --data-urlencode "shown_sha256=$(rv_sha f2)" \
    --data-urlencode "csrf=$RV_CSRF_ANN" "$RV_URL/items/f2/decide" | cut -d' ' -f1)" 303

it_eq "states" "$(it_sql "SELECT string_agg(upload_id || ':' || state || ':' || COALESCE(decided_by, '-'), ' ' ORDER BY upload_id) FROM review_items")" \
    "f1:approved:$winner f2:rejected:ann f3:pending:-"
ev=$(it_sql "SELECT canonical FROM provenance_events WHERE owner_kind = 'review' AND owner_id = 'f1' ORDER BY seq DESC LIMIT 1")
it_eq "review event: stage, outcome, reason, actor" "$(jq -r '[.stage, .outcome, .reason, .actor, .input_sha256 == .output_sha256] | join(" ")' <<<"$ev")" \
    "review approved false_positive $winner true"
it_eq "the head is sealed with a review key" "$(it_sql "SELECT k.purpose FROM chain_heads h JOIN head_seals s USING (seal_id)
    JOIN audit_keys k ON k.key_id = s.key_id WHERE h.owner_kind = 'review' AND h.owner_id = 'f1' ORDER BY h.seq DESC LIMIT 1")" review
"$IT_BIN/sluicectl" audit verify --upload f1 >"$IT_DIR/audit.out" 2>&1 || it_fail "audit verify f1: $(cat "$IT_DIR/audit.out")"
"$IT_BIN/sluicectl" audit verify --upload f2 >"$IT_DIR/audit2.out" 2>&1 || it_fail "audit verify f2: $(cat "$IT_DIR/audit2.out")"

# --- the relay ---------------------------------------------------------------
sent() { it_sql "SELECT count(*) FROM review_outbox WHERE sent_at IS NOT NULL"; }
it_wait_eq 2 20 sent
it_eq "outbox rows sent" "$(it_sql "SELECT count(*) FROM review_outbox WHERE sent_at IS NOT NULL")" 2
kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.reviewed" -o beginning -e -q \
    -f '%k\t%h\t%S\n' >"$IT_DIR/reviewed.txt"
it_eq "one approved message" "$(cut -f1 "$IT_DIR/reviewed.txt" | tr '\n' ' ')" "f1 "
grep -q "sluice-review={\"action\":\"approve\",\"decision_id\":[0-9]*,\"moderator\":\"$winner\",\"reason\":\"false_positive\"}" \
    "$IT_DIR/reviewed.txt" || it_fail "no sluice-review header: $(cat "$IT_DIR/reviewed.txt")"
kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.reviewed" -o beginning -e -q -f '%s' >"$IT_DIR/value"
cmp -s "$IT_DIR/value" "$IT_DIR/f/f1.txt" || it_fail "the value is not the stored content"
grep -q "sluice-sha256=$(sha256sum "$IT_DIR/f/f1.txt" | cut -d' ' -f1)" "$IT_DIR/reviewed.txt" ||
    it_fail "sluice-sha256 is not the value's hash"
kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.rejected" -o beginning -e -q \
    -f '%k\t%h\n' >"$IT_DIR/rejected.txt"
it_eq "one moderator rejection" "$(grep -c 'sluice-reject-code=moderator_rejected' "$IT_DIR/rejected.txt")" 1
grep -q $'^f2\t.*sluice-reject-stage=review.*sluice-reject-detail=confirmed_pii: private address' "$IT_DIR/rejected.txt" ||
    it_fail "reject dead letter: $(cat "$IT_DIR/rejected.txt")"

# --- hostile text renders as text; a reveal is recorded ---------------------------
mkdir -p "$IT_DIR/x"
bad_name='<img src=x onerror=alert(1)>.txt'
printf '<script>alert(1)</script> from 192.168.10.9\n' >"$IT_DIR/x/$bad_name"
"$IT_BIN/sluicectl" upload --creator rc --dataset ds1 --key "$IT_DIR/k.pem" --upload-id x1 \
    "$IT_DIR/x/$bad_name" >/dev/null 2>>"$IT_DIR/upload.log" || it_fail "upload x1"
it_wait_outcomes 4 60
page=$(rv_curl ann "$RV_URL/items/x1")
it_eq "hostile item page" "${page%% *}" 200
grep -qF '&lt;img src=x onerror=alert(1)&gt;.txt' <<<"$page" || it_fail "file name not escaped: $page"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' <<<"$page" || it_fail "content not escaped: $page"
grep -q '<img src=x\|<script>alert' <<<"$page" && it_fail "markup from the sample reached the page"
out=$(rv_curl ann -X POST -H "X-CSRF-Token: $RV_CSRF_ANN" -d '{"finding":0}' "$RV_URL/api/items/x1/reveal")
it_eq "reveal" "$(cut -d' ' -f1 <<<"$out") $(jq -r .text <<<"${out#* }")" "200 192.168.10.9"
it_eq "reveal recorded" "$(it_sql "SELECT moderator || ':' || finding FROM review_reveals WHERE upload_id = 'x1'")" "ann:0"
it_eq "revealed in the item" "$(rv_curl ann "$RV_URL/api/items/x1" | cut -d' ' -f2- | jq -c .revealed)" "[0]"
it_eq "reveal without CSRF" "$(rv_curl ann -X POST -d '{"finding":0}' "$RV_URL/api/items/x1/reveal" | rv_err)" "403 csrf_invalid"

# --- raw bytes, logout ---------------------------------------------------------
hdrs=$(curl -s -D - -o "$IT_DIR/raw" -b "$IT_DIR/jar-ann" "$RV_URL/items/f3/raw")
grep -qi '^content-disposition: attachment; filename="f3.bin"' <<<"$hdrs" || it_fail "raw: $hdrs"
grep -qi '^content-security-policy: sandbox' <<<"$hdrs" || it_fail "raw CSP: $hdrs"
grep -qi '^content-type: application/octet-stream' <<<"$hdrs" || it_fail "raw type: $hdrs"
cmp -s "$IT_DIR/raw" "$IT_DIR/f/f3.txt" || it_fail "raw bytes differ"
# A preview only of what the bytes' own signature says is a raster image:
# none for text; a PNG item (put straight into the table: the shipped
# rules flag no PNG) is served as image/png in a sandbox.
out=$(rv_curl ann "$RV_URL/items/f3/preview")
it_eq "no preview of text" "${out%% *}" 404
grep -q 'no_preview' <<<"$out" || it_fail "no preview: not said why: $out"
png_hex=89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489
it_sql "INSERT INTO contents (sha256, size, data) SELECT encode(sha256(d), 'hex'), length(d), d
          FROM (SELECT decode('$png_hex', 'hex') AS d) x;
        INSERT INTO review_items (upload_id, creator_id, dataset_id, content_type, detected_type,
            sha256, size, license_expression, meta, signature, findings, created_at,
            source_topic, source_partition, source_offset)
          SELECT 'img1', 'rc', 'ds1', 'image/png', 'image/png', encode(sha256(d), 'hex'),
                 length(d), 'CC0-1.0', '{}', 'x', '{\"findings\": []}', now(), 't', 0, 999
          FROM (SELECT decode('$png_hex', 'hex') AS d) x" >/dev/null
page=$(rv_curl ann "$RV_URL/items/img1")
grep -qF '<img class="preview" alt="image preview" src="/items/img1/preview">' <<<"$page" ||
    it_fail "no preview on the image item: $page"
hdrs=$(curl -s -D - -o "$IT_DIR/preview" -b "$IT_DIR/jar-ann" "$RV_URL/items/img1/preview")
grep -qi '^content-type: image/png' <<<"$hdrs" || it_fail "preview type: $hdrs"
grep -qi "^content-security-policy: default-src 'none'; sandbox" <<<"$hdrs" || it_fail "preview CSP: $hdrs"
grep -qi '^x-content-type-options: nosniff' <<<"$hdrs" || it_fail "preview nosniff: $hdrs"
it_eq "preview bytes" "$(od -An -tx1 -v "$IT_DIR/preview" | tr -d ' \n')" "$png_hex"
it_eq "logout" "$(rv_curl ann --data-urlencode "csrf=$RV_CSRF_ANN" "$RV_URL/logout" | cut -d' ' -f1)" 303
it_eq "the session is dead" "$(it_sql "SELECT count(*) FROM review_sessions WHERE moderator = 'ann' AND revoked_at IS NULL")" 0
it_log "review api: ok"
