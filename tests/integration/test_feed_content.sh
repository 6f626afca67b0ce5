#!/usr/bin/env bash
# Content of sluice-feed: strong ETag, Range (206 / 416), If-None-Match
# (304), If-Range; signed URLs (tampered, expired); usage recorded exactly
# once per consumer and sample under concurrent fetches by both routes,
# never for a 304 or a 416; and a takedown: a tombstone on the changes
# stream and 410 Gone on content, also through a signed URL issued before.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
IT_PARTITIONS=1   # one partition: commit order is upload order
it_init feed_content

fd_creator alice
"$IT_BIN/sluicectl" dataset add ds1 >/dev/null
fd_chain
fd_upload c1 alice ds1 "0123456789abcdefghij"
fd_upload c2 alice ds1 "the second sample's bytes"
fd_upload c3 alice ds1 "a third one"
# A file name that JSON must escape: the feed line carries it intact.
printf 'odd name\n' >"$IT_DIR/q\"u\\o.txt"
"$IT_BIN/sluicectl" upload --creator alice --dataset ds1 --key "$IT_DIR/alice.pem" --upload-id c4 \
    --label 'say="hi"' "$IT_DIR/q\"u\\o.txt" >/dev/null 2>>"$IT_DIR/upload.log"
it_wait_outcomes 4 60
fd_consumer acme
fd_grant acme ds1 7
TOK=$(fd_token acme)
fd_start

usage() { it_sql "SELECT count(*) FROM usage_events WHERE consumer_id = 'acme' AND upload_id = '$1'"; }

# --- ETag, conditional requests, ranges -----------------------------------------
SHA1=$(printf '0123456789abcdefghij\n' | sha256sum | cut -c1-64)
it_eq "content" "$(fd_get "$TOK" /v1/samples/c1/content)" 200
it_eq "content bytes" "$(cat "$IT_DIR/body")" 0123456789abcdefghij
it_eq "ETag" "$(fd_header ETag)" "\"sha256:$SHA1\""
it_eq "Accept-Ranges" "$(fd_header Accept-Ranges)" bytes
it_eq "Content-Length" "$(fd_header Content-Length)" 21
it_eq "usage after a 200" "$(usage c1)" 1
it_eq "If-None-Match" "$(fd_get "$TOK" /v1/samples/c1/content -H "If-None-Match: \"sha256:$SHA1\"")" 304
it_eq "304 has no body" "$(wc -c <"$IT_DIR/body")" 0
it_eq "If-None-Match, weak and listed" \
    "$(fd_get "$TOK" /v1/samples/c1/content -H "If-None-Match: \"x\", W/\"sha256:$SHA1\"")" 304
it_eq "If-None-Match, other" "$(fd_get "$TOK" /v1/samples/c1/content -H 'If-None-Match: "sha256:00"')" 200
it_eq "Range 0-3" "$(fd_get "$TOK" /v1/samples/c1/content -H 'Range: bytes=0-3')" 206
it_eq "Range 0-3 bytes" "$(cat "$IT_DIR/body")" 0123
it_eq "Range 0-3 Content-Range" "$(fd_header Content-Range)" "bytes 0-3/21"
it_eq "suffix range" "$(fd_get "$TOK" /v1/samples/c1/content -H 'Range: bytes=-5')" 206
it_eq "suffix range bytes" "$(od -An -c "$IT_DIR/body" | tr -s ' ')" " g h i j \\n"
it_eq "open range" "$(fd_get "$TOK" /v1/samples/c1/content -H 'Range: bytes=18-')" 206
it_eq "open range Content-Range" "$(fd_header Content-Range)" "bytes 18-20/21"
it_eq "Range past the end" "$(fd_get "$TOK" /v1/samples/c1/content -H 'Range: bytes=100-200')" 416
it_eq "416 Content-Range" "$(fd_header Content-Range)" "bytes */21"
it_eq "416 code" "$(jq -r .error "$IT_DIR/body")" range_not_satisfiable
it_eq "If-Range of another version: the whole" \
    "$(fd_get "$TOK" /v1/samples/c1/content -H 'Range: bytes=0-3' -H 'If-Range: "sha256:00"')" 200
it_eq "If-Range of this version: the range" \
    "$(fd_get "$TOK" /v1/samples/c1/content -H 'Range: bytes=0-3' -H "If-Range: \"sha256:$SHA1\"")" 206
it_eq "usage still once for c1" "$(usage c1)" 1
it_eq "no such sample" "$(fd_get "$TOK" /v1/samples/nope/content)" 404

# A 304 and a 416 deliver nothing: not metered.
SHA3=$(printf 'a third one\n' | sha256sum | cut -c1-64)
it_eq "c3: 304" "$(fd_get "$TOK" /v1/samples/c3/content -H "If-None-Match: \"sha256:$SHA3\"")" 304
it_eq "c3: 416" "$(fd_get "$TOK" /v1/samples/c3/content -H 'Range: bytes=50-')" 416
it_eq "c3: no usage" "$(usage c3)" 0

# --- usage exactly once under concurrent fetches, by token and signed URL --------
fd_get "$TOK" "/v1/datasets/ds1/samples" >/dev/null
URL2=$(jq -r 'select(.upload_id == "c2") | .content_url' "$IT_DIR/body")
URL1=$(jq -r 'select(.upload_id == "c1") | .content_url' "$IT_DIR/body")
pids=()
for i in $(seq 1 12); do
    curl -s -o /dev/null -w '%{http_code}\n' "$URL2" >>"$IT_DIR/conc" &
    pids+=($!)
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOK" \
        "$FD_URL/v1/samples/c2/content" >>"$IT_DIR/conc" &
    pids+=($!)
done
wait "${pids[@]}"
it_eq "24 concurrent fetches, all 200" "$(sort "$IT_DIR/conc" | uniq -c | tr -s ' ')" " 24 200"
it_eq "c2 usage rows" "$(usage c2)" 1
it_eq "a name and a label JSON escapes" "$(jq -c 'select(.upload_id == "c4") | [.filename, .labels]' "$IT_DIR/body")" \
    '["q\"u\\o.txt",{"say":"\"hi\""}]'
it_eq "c2 usage record" "$(it_sql "SELECT creator_id, dataset_id, price_micros, currency FROM usage_events WHERE upload_id = 'c2'")" "alice|ds1|7|USD"

# --- signed URLs -----------------------------------------------------------------
it_eq "signed URL" "$(curl -s -o /dev/null -w '%{http_code}' "$URL1")" 200
# The signature's last hex digit changed (to 1 when it is 0 already).
BAD=$([[ ${URL1: -1} == 0 ]] && echo "${URL1%?}1" || echo "${URL1%?}0")
it_eq "tampered signature" "$(curl -s -o "$IT_DIR/body" -w '%{http_code}' "$BAD")" 401
it_eq "another sample under c1's signature" \
    "$(curl -s -o /dev/null -w '%{http_code}' "${URL1/\/c1\//\/c2\/}")" 401
# An expired URL, signed with the service's own key (the test can read it).
exp=$(($(date +%s) - 10))
sig=$(printf 'GET\n/v1/samples/c1/content\nacme\n%s' "$exp" |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(tr -d '\n' <"$IT_DIR/feed-url.key")" | sed 's/.*= //')
it_eq "expired signed URL" \
    "$(curl -s -o "$IT_DIR/body" -w '%{http_code}' "$FD_URL/v1/samples/c1/content?c=acme&exp=$exp&sig=$sig")" 401
it_eq "expired: detail" "$(jq -r .detail "$IT_DIR/body")" "the signed URL has expired"
exp=$(($(date +%s) + 600))
sig=$(printf 'GET\n/v1/samples/c1/content\nacme\n%s' "$exp" |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(tr -d '\n' <"$IT_DIR/feed-url.key")" | sed 's/.*= //')
it_eq "the same, not expired" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$FD_URL/v1/samples/c1/content?c=acme&exp=$exp&sig=$sig")" 200

# --- takedown: tombstone, 410 even through the old signed URL ----------------------
it_eq "changes before" "$(fd_get "$TOK" /v1/datasets/ds1/changes)" 200
CC=$(fd_header Sluice-Next-Cursor)
# An updater long-polls the changes; the takedown wakes it with the tombstone.
start=$(date +%s%N)
curl -s -o "$IT_DIR/cpoll" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
    "$FD_URL/v1/datasets/ds1/changes?after=$CC&wait=20" >"$IT_DIR/cpoll.status" &
cpoll=$!
sleep 0.5
"$IT_BIN/sluicectl" takedown add --upload c1 --reason "court order" --by test >/dev/null
wait "$cpoll"
ms=$((($(date +%s%N) - start) / 1000000))
it_eq "changes long poll" "$(cat "$IT_DIR/cpoll.status")" 200
it_eq "changes long poll: the tombstone" "$(jq -r '.upload_id + ":" + .kind' "$IT_DIR/cpoll")" c1:takedown
((ms < 10000)) || it_fail "the takedown woke the changes poll only after $ms ms"
it_eq "token fetch after takedown" "$(fd_get "$TOK" /v1/samples/c1/content)" 410
it_eq "410 code" "$(jq -r .error "$IT_DIR/body")" gone
it_eq "old signed URL after takedown" "$(curl -s -o "$IT_DIR/body" -w '%{http_code}' "$URL1")" 410
it_eq "changes after" "$(fd_get "$TOK" "/v1/datasets/ds1/changes?after=$CC")" 200
it_eq "tombstone" "$(jq -c '[.upload_id, .sha256 == "'"$SHA1"'", .kind, .reason]' "$IT_DIR/body")" \
    '["c1",true,"takedown","taken_down"]'
it_eq "tombstone cursor is the header" "$(jq -r .cursor "$IT_DIR/body")" "$(fd_header Sluice-Next-Cursor)"
it_eq "the page no longer lists c1" \
    "$(fd_get "$TOK" /v1/datasets/ds1/samples >/dev/null; jq -r .upload_id "$IT_DIR/body" | tr '\n' ' ')" "c2 c3 c4 "
fd_done
it_log "feed content: all good"
