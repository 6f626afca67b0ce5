#!/usr/bin/env bash
# sluice-feed's routes against samples committed through the real chain
# (validate -> commit): /health, /v1/datasets (only the granted dataset,
# its counts and licenses), samples pages in commit order with resumable
# cursors (Sluice-Next-Cursor, limit, bad cursors), a long poll woken by a
# commit, the Croissant route, and a creator's outcomes.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
IT_PARTITIONS=1   # one partition: commit order is upload order
it_init feed_api

fd_creator alice
fd_creator bob
"$IT_BIN/sluicectl" dataset add ds1 >/dev/null
"$IT_BIN/sluicectl" dataset add ds2 >/dev/null
fd_chain
fd_upload a1 alice ds1 "first sample" --label topic=poems
fd_upload a2 alice ds1 "second sample"
fd_upload a3 alice ds1 "third sample"
fd_upload b1 bob ds2 "bob's sample"
printf 'signed with the wrong key\n' >"$IT_DIR/r1.txt"   # validate rejects it
"$IT_BIN/sluicectl" upload --creator alice --dataset ds1 --key "$IT_DIR/bob.pem" --upload-id r1 \
    "$IT_DIR/r1.txt" >/dev/null 2>>"$IT_DIR/upload.log"
it_wait_outcomes 5 60
it_eq "samples stamped with a feed position" \
    "$(it_sql "SELECT count(*) FROM samples WHERE feed_seq IS NOT NULL")" 4

fd_consumer acme
fd_grant acme ds1 5
TOK=$(fd_token acme)
fd_start

# --- health and auth ---------------------------------------------------------
it_eq "/health" "$(fd_get "" /health)" 200
it_eq "/health body" "$(cat "$IT_DIR/body")" '{"status":"ok"}'
it_eq "no token" "$(fd_get "" /v1/datasets)" 401
it_eq "no token: code" "$(jq -r .error "$IT_DIR/body")" unauthorized
it_eq "no token: WWW-Authenticate" "$(fd_header WWW-Authenticate)" Bearer
it_eq "a made-up token" "$(fd_get "slc_$(openssl rand -hex 32)" /v1/datasets)" 401

# --- datasets ------------------------------------------------------------------
it_eq "datasets" "$(fd_get "$TOK" /v1/datasets)" 200
it_eq "datasets listed" "$(jq -c '[.datasets[].dataset_id]' "$IT_DIR/body")" '["ds1"]'
it_eq "ds1 counts" "$(jq -c '.datasets[0] | [.samples, .withdrawn, .grant.price_micros, .grant.currency]' "$IT_DIR/body")" '[3,0,5,"USD"]'
it_eq "ds1 licenses" "$(jq -c '.datasets[0].licenses' "$IT_DIR/body")" '[{"expression":"CC-BY-4.0","samples":3}]'

# --- pages -----------------------------------------------------------------------
it_eq "page 1" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?limit=2")" 200
it_eq "page 1 type" "$(fd_header Content-Type)" application/x-ndjson
it_eq "page 1 ids" "$(jq -r .upload_id "$IT_DIR/body" | tr '\n' ' ')" "a1 a2 "
it_eq "page 1 labels" "$(jq -c .labels "$IT_DIR/body" | head -1)" '{"topic":"poems"}'
it_eq "page 1 fields" "$(jq -c '[.size, .creator_id, .dataset_id, (.sha256 | length), (.prov_head | length), (.committed_at | test("^[0-9-]{10}T[0-9:.]+Z$"))]' "$IT_DIR/body" | head -1)" '[13,"alice","ds1",64,64,true]'
it_eq "page 1 prov_head: the hash of each chain's last stored event" \
    "$(jq -r '.upload_id + " " + .prov_head' "$IT_DIR/body" | tr '\n' ' ')" \
    "$(it_sql "SELECT string_agg(owner_id || ' ' || hash, ' ' ORDER BY owner_id) || ' '
               FROM (SELECT DISTINCT ON (owner_id) owner_id, hash FROM provenance_events
                     WHERE owner_kind = 'sample' AND owner_id IN ('a1', 'a2')
                     ORDER BY owner_id, seq DESC) x")"
it_eq "page 1 cursor header = last line's" "$(fd_header Sluice-Next-Cursor)" "$(jq -r .cursor "$IT_DIR/body" | tail -1)"
C1=$(fd_header Sluice-Next-Cursor)
URL1=$(jq -r .content_url "$IT_DIR/body" | head -1)
it_eq "page 2" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?limit=2&after=$C1")" 200
it_eq "page 2 ids" "$(jq -r .upload_id "$IT_DIR/body" | tr '\n' ' ')" "a3 "
C2=$(fd_header Sluice-Next-Cursor)
it_eq "page 3 (empty)" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?after=$C2")" 200
it_eq "page 3 has no lines" "$(wc -c <"$IT_DIR/body")" 0
it_eq "page 3 keeps the cursor" "$(fd_header Sluice-Next-Cursor)" "$C2"
it_eq "a resumed page 2 is the same" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?after=$C1" && jq -r .upload_id "$IT_DIR/body")" "200a3"

it_eq "bad cursor" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?after=garbage")" 400
it_eq "bad cursor: code" "$(jq -r .error "$IT_DIR/body")" bad_cursor
it_eq "a samples cursor on changes" "$(fd_get "$TOK" "/v1/datasets/ds1/changes?after=$C1")" 400
it_eq "limit 0" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?limit=0")" 400
it_eq "limit 0: code" "$(jq -r .error "$IT_DIR/body")" bad_request
it_eq "wait past feed.wait.max.s" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?wait=61")" 400
it_eq "no such dataset" "$(fd_get "$TOK" /v1/datasets/nope/samples)" 404
it_eq "no such dataset: code" "$(jq -r .error "$IT_DIR/body")" not_found
it_eq "changes, none yet" "$(fd_get "$TOK" /v1/datasets/ds1/changes)" 200
it_eq "changes body" "$(wc -c <"$IT_DIR/body")" 0

# --- content via the line's signed URL ------------------------------------------
it_eq "content_url is absolute" "${URL1%%/v1/*}" "$FD_URL"
it_eq "signed content" "$(curl -s -o "$IT_DIR/c1" -w '%{http_code}' "$URL1")" 200
it_eq "signed content bytes" "$(cat "$IT_DIR/c1")" "first sample"

# --- the listener's connection dies: it comes back, and wakes still arrive ---------
# The feed's own role when the stack gives each service one: commit's idle
# readiness check is a 'SELECT 1' too.
frole=$(sed -n 's/.*\buser=\([^ ]*\).*/\1/p' <<<"$(it_svc_dsn feed)")
lpid=$(psql -XAtq "$IT_ADMIN_DSN" -c "SELECT pid FROM pg_stat_activity WHERE datname = '$IT_DB'
                                      AND query IN ('LISTEN sluice_feed_auth', 'SELECT 1')
                                      AND ('$frole' = '' OR usename = '$frole')")
[[ $lpid =~ ^[0-9]+$ ]] || it_fail "no single LISTEN backend of sluice-feed: '$lpid'"
psql -XAtq "$IT_ADMIN_DSN" -c "SELECT pg_terminate_backend($lpid)" >/dev/null
it_wait_at_least 2 5 grep -c 'listening for notifications' "$IT_DIR/feed.log"
it_eq "the listener reconnected" "$(grep -c 'listening for notifications' "$IT_DIR/feed.log")" 2

# --- long poll: a commit wakes the waiting reader -----------------------------------
start=$(date +%s%N)
fd_get "$TOK" "/v1/datasets/ds1/samples?after=$C2&wait=20" >"$IT_DIR/poll.status" &
poll=$!
sleep 1
fd_upload a4 alice ds1 "fourth sample"
wait "$poll"
ms=$((($(date +%s%N) - start) / 1000000))
it_eq "long poll answered" "$(cat "$IT_DIR/poll.status")" 200
it_eq "long poll line" "$(jq -r .upload_id "$IT_DIR/body")" a4
((ms < 15000)) || it_fail "long poll took ${ms} ms, the commit should have woken it"
it_log "long poll woken after ${ms} ms (1 s of it before the upload)"
# A wait that nothing ends: an empty 200 after about the wait.
C4=$(fd_header Sluice-Next-Cursor)
start=$(date +%s%N)
it_eq "long poll timing out" "$(fd_get "$TOK" "/v1/datasets/ds1/samples?after=$C4&wait=1")" 200
ms=$((($(date +%s%N) - start) / 1000000))
it_eq "timed-out poll is empty" "$(wc -c <"$IT_DIR/body")" 0
((ms >= 900 && ms < 5000)) || it_fail "wait=1 answered after $ms ms"

# --- croissant -----------------------------------------------------------------------
it_eq "croissant" "$(fd_get "$TOK" /v1/datasets/ds1/croissant)" 200
it_eq "croissant type" "$(fd_header Content-Type)" application/ld+json
it_eq "croissant files" "$(jq '[.distribution[] | select(."@type" == "cr:FileObject")] | length' "$IT_DIR/body")" 4
it_eq "croissant of ds2" "$(fd_get "$TOK" /v1/datasets/ds2/croissant)" 403

# --- creators' outcomes ----------------------------------------------------------------
RT=$(fd_creator_token alice)
it_eq "own upload" "$(fd_get "$RT" /v1/uploads/a1)" 200
it_eq "own upload outcome" "$(jq -c '[.upload_id, .dataset_id, .outcome]' "$IT_DIR/body")" '["a1","ds1","accepted"]'
it_eq "another creator's upload" "$(fd_get "$RT" /v1/uploads/b1)" 404
it_eq "an upload nobody made" "$(fd_get "$RT" /v1/uploads/zz9)" 200
it_eq "... is unknown" "$(jq -r .outcome "$IT_DIR/body")" unknown
# Every outcome event of alice's, page by page (limit 1: a page still ends
# with every event of its instant), each once.
sleep 2                           # events of the last 2 s are held back
cur="" pages=0
: >"$IT_DIR/outcomes"
while :; do
    it_eq "uploads page" "$(fd_get "$RT" "/v1/uploads?limit=1&after=$cur")" 200
    [[ -s $IT_DIR/body ]] || break
    cat "$IT_DIR/body" >>"$IT_DIR/outcomes"
    cur=$(fd_header Sluice-Next-Cursor)
    it_eq "the cursor is the last line's" "$cur" "$(jq -r .cursor "$IT_DIR/body" | tail -1)"
    pages=$((pages + 1))
    ((pages < 10)) || it_fail "uploads: more pages than events"
done
it_eq "alice's outcomes" "$(jq -r '.upload_id + ":" + .outcome + ":" + (.code // "")' "$IT_DIR/outcomes" | sort | tr '\n' ' ')" \
    "a1:accepted: a2:accepted: a3:accepted: a4:accepted: r1:rejected:signature_invalid "
it_eq "a cursor of another scope" "$(fd_get "$RT" "/v1/uploads?after=$C1")" 400
it_eq "a consumer token on a creator route" "$(fd_get "$TOK" /v1/uploads/a1)" 403
it_eq "a creator token on a consumer route" "$(fd_get "$RT" /v1/datasets)" 403
fd_done
it_log "feed api: all good"
