#!/usr/bin/env bash
# Who may read what from sluice-feed: a consumer without a grant gets 403
# on every route of the dataset and does not see it in the listing; a
# token narrowed to some datasets sees only those; a revoked token gets 401
# on its very next request on each of two instances (both had it cached);
# an expired token and a disabled consumer's token get 401; a revoked
# grant, 403; a metadata-scope token reads pages but no content; a token
# past its rate gets 429 with Retry-After.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
IT_PARTITIONS=1
it_init feed_auth

fd_creator alice
"$IT_BIN/sluicectl" dataset add ds1 >/dev/null
"$IT_BIN/sluicectl" dataset add ds2 >/dev/null
fd_chain
fd_upload x1 alice ds1 "in ds1"
fd_upload y1 alice ds2 "in ds2"
it_wait_outcomes 2 60
for c in acme bravo carol dave; do fd_consumer "$c"; done
fd_grant acme ds1
fd_grant acme ds2
fd_grant bravo ds2
fd_grant carol ds1
fd_grant dave ds1
ACME=$(fd_token acme)
ACME_DS2=$(fd_token acme ds2)
BRAVO=$(fd_token bravo)
CAROL=$(fd_token carol)
DAVE=$(fd_token dave)
META=$(fd_token acme "" metadata)
fd_start -X feed.rate.per.s=2 -X feed.rate.burst=40
fd_start2 -X feed.rate.per.s=2 -X feed.rate.burst=40

# --- no grant: 403 everywhere, invisible in the listing --------------------------
it_eq "bravo lists" "$(fd_get "$BRAVO" /v1/datasets)" 200
it_eq "bravo sees only ds2" "$(jq -c '[.datasets[].dataset_id]' "$IT_DIR/body")" '["ds2"]'
for route in samples changes croissant; do
    it_eq "bravo: ds1 $route" "$(fd_get "$BRAVO" "/v1/datasets/ds1/$route")" 403
    it_eq "bravo: ds1 $route code" "$(jq -r .error "$IT_DIR/body")" forbidden
done
it_eq "bravo: x1 content" "$(fd_get "$BRAVO" /v1/samples/x1/content)" 403
it_eq "bravo: ds2 page holds only ds2" "$(fd_get "$BRAVO" /v1/datasets/ds2/samples >/dev/null; jq -r .upload_id "$IT_DIR/body")" y1
# acme's signed URL for x1 does not let bravo's name in.
fd_get "$ACME" /v1/datasets/ds1/samples >/dev/null
URLX=$(jq -r .content_url "$IT_DIR/body")
it_eq "a signed URL with another consumer's name" \
    "$(curl -s -o /dev/null -w '%{http_code}' "${URLX/c=acme/c=bravo}")" 401

# --- a token narrowed to ds2 ----------------------------------------------------------
it_eq "narrowed token lists" "$(fd_get "$ACME_DS2" /v1/datasets)" 200
it_eq "narrowed token sees ds2 only" "$(jq -c '[.datasets[].dataset_id]' "$IT_DIR/body")" '["ds2"]'
it_eq "narrowed token: ds1 page" "$(fd_get "$ACME_DS2" /v1/datasets/ds1/samples)" 403
it_eq "narrowed token: x1 content" "$(fd_get "$ACME_DS2" /v1/samples/x1/content)" 403
it_eq "narrowed token: y1 content" "$(fd_get "$ACME_DS2" /v1/samples/y1/content)" 200

# --- metadata scope ----------------------------------------------------------------
it_eq "metadata token: page" "$(fd_get "$META" /v1/datasets/ds1/samples)" 200
it_eq "metadata token: content" "$(fd_get "$META" /v1/samples/x1/content)" 403
it_eq "metadata token: content code" "$(jq -r .error "$IT_DIR/body")" forbidden

# --- revoked: 401 on the next request, on both instances ---------------------------
it_eq "carol on instance 1" "$(fd_get "$CAROL" /v1/datasets/ds1/samples)" 200
it_eq "carol on instance 2" "$(FD_URL=$FD_URL2 fd_get "$CAROL" /v1/datasets/ds1/samples)" 200
fd_revoke "$CAROL"
it_eq "carol revoked, instance 1" "$(fd_get "$CAROL" /v1/datasets/ds1/samples)" 401
it_eq "carol revoked: code" "$(jq -r .error "$IT_DIR/body")" unauthorized
it_eq "carol revoked, instance 2" "$(FD_URL=$FD_URL2 fd_get "$CAROL" /v1/datasets/ds1/samples)" 401
it_eq "carol revoked: listing" "$(fd_get "$CAROL" /v1/datasets)" 401
it_eq "carol revoked: content" "$(fd_get "$CAROL" /v1/samples/x1/content)" 401

# --- disabled consumer, expired token, revoked grant ---------------------------------
it_eq "dave before" "$(fd_get "$DAVE" /v1/samples/x1/content)" 200
# x1's hash is known to the service now (one statement checks and meters):
# the narrowed token is still refused, and nothing is metered for it.
it_eq "narrowed token, x1 known" "$(fd_get "$ACME_DS2" /v1/samples/x1/content)" 403
it_eq "narrowed token, x1 known, again" "$(fd_get "$ACME_DS2" /v1/samples/x1/content -H 'Range: bytes=0-1')" 403
it_eq "no usage of x1 by acme" \
    "$(it_sql "SELECT count(*) FROM usage_events WHERE consumer_id = 'acme' AND upload_id = 'x1'")" 0
fd_disable dave
it_eq "dave disabled" "$(fd_get "$DAVE" /v1/samples/x1/content)" 401
it_eq "dave disabled, instance 2" "$(FD_URL=$FD_URL2 fd_get "$DAVE" /v1/datasets)" 401
it_eq "dave's signed URL once disabled" "$(fd_get "$ACME" /v1/datasets/ds1/samples >/dev/null;
    curl -s -o /dev/null -w '%{http_code}' "${URLX/c=acme/c=dave}")" 401
OLD=$(fd_token acme)
it_sql "UPDATE feed_tokens SET expires_at = now() - interval '1 second'
        WHERE token_sha256 = '$(fd_token_hash "$OLD")'" >/dev/null
it_eq "expired token" "$(fd_get "$OLD" /v1/datasets)" 401
it_eq "acme ds1 before the grant goes" "$(fd_get "$ACME" /v1/datasets/ds1/samples)" 200
fd_grant_revoke acme ds1
it_eq "grant revoked: page" "$(fd_get "$ACME" /v1/datasets/ds1/samples)" 403
it_eq "grant revoked: content" "$(fd_get "$ACME" /v1/samples/x1/content)" 403
it_eq "grant revoked: old signed URL" "$(curl -s -o /dev/null -w '%{http_code}' "$URLX")" 403
it_eq "grant revoked: listing" "$(fd_get "$ACME" /v1/datasets >/dev/null; jq -c '[.datasets[].dataset_id]' "$IT_DIR/body")" '["ds2"]'

# --- rate limit: a fresh token, burst 40, then 2/s ----------------------------------------
EVE=$(fd_token bravo)
codes=""
for i in $(seq 1 40); do codes+="$(fd_get "$EVE" /v1/datasets/ds2/changes) "; done
it_eq "a burst of 40" "$(tr ' ' '\n' <<<"${codes% }" | sort | uniq -c | tr -s ' ' | sed 's/^ //')" "40 200"
for i in 1 2 3 4 5 6; do st=$(fd_get "$EVE" /v1/datasets/ds2/changes); [[ $st == 429 ]] && break; done
it_eq "past the burst" "$st" 429
it_eq "429 code" "$(jq -r .error "$IT_DIR/body")" rate_limited
it_eq "Retry-After" "$(fd_header Retry-After)" 1
it_eq "another token is not limited" "$(fd_get "$ACME_DS2" /v1/datasets/ds2/changes)" 200
sleep 1.2
it_eq "after Retry-After" "$(fd_get "$EVE" /v1/datasets/ds2/changes)" 200
fd_done
it_log "feed auth: all good"
