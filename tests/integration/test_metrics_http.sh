#!/usr/bin/env bash
# GET /metrics, /health, /ready of the HTTP services and the ledger poster
# (issue #15): each exposition parses with prometheus-client's parser, and
# the request counters match the requests the test made, by route pattern
# and status (an upload id in a path never becomes a label).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/metrics_lib.sh"
it_init metrics_http
mt_require_python
declare -A PORT
v() { mt_val "$@"; }

# The HTTP services and the ledger poster: the same endpoint, and request
# metrics by route pattern (never the path: the id stays out of labels).
it_start review -X review.port=0 -X "audit.key.file=$IT_DIR/review-audit.key" \
    -X metrics.listen=127.0.0.1:0
it_start feed -X feed.port=0 -X "feed.url.key.file=$IT_DIR/feed-url.key" \
    -X metrics.listen=127.0.0.1:0
it_start ledger -X metrics.listen=127.0.0.1:0
for svc in review feed ledger; do PORT[$svc]=$(mt_port "$svc"); done
url_sed='s|.*listening on \(http://[0-9.]*:[0-9]*\)/.*|\1|p'
FURL=$(it_wait_log_value 10 "$IT_DIR/feed.log" "$url_sed") || it_fail "sluice-feed did not start"
RURL=$(it_wait_log_value 10 "$IT_DIR/review.log" "$url_sed") || it_fail "sluice-review did not start"
for i in 1 2 3; do curl -s -o /dev/null "$FURL/health"; done
for id in good1 good2; do curl -s -o /dev/null "$FURL/v1/uploads/$id"; done
curl -s -o /dev/null "$FURL/nope"
for i in 1 2; do curl -s -o /dev/null "$RURL/login"; done
for svc in review feed ledger; do
    it_eq "$svc /health" "$(mt_get "${PORT[$svc]}" /health)" '200 {"status":"ok"}'
    # the ledger is ready after its first pass over the database (503
    # until then): waited for, as test_metrics waits for the stages'
    mt_wait_ready '200 {"ready":true}' 30 "${PORT[$svc]}"
    mt_fetch "$svc" "${PORT[$svc]}"
done
mt_parse review feed ledger
it_eq "feed GET /health 200" \
    "$(v feed 'sluice_http_requests_total{code="200",method="GET",route="/health"}')" 3
it_eq "feed GET /v1/uploads/{id} 401" \
    "$(v feed 'sluice_http_requests_total{code="401",method="GET",route="/v1/uploads/{id}"}')" 2
it_eq "feed unmatched 404" \
    "$(v feed 'sluice_http_requests_total{code="404",method="GET",route="unmatched"}')" 1
it_eq "feed latency count of /v1/uploads/{id}" \
    "$(v feed 'sluice_http_request_duration_seconds_count{route="/v1/uploads/{id}"}')" 2
it_eq "review GET /login 200" \
    "$(v review 'sluice_http_requests_total{code="200",method="GET",route="/login"}')" 2
it_eq "ledger posted" "$(v ledger 'sluice_ledger_usage_posted_total{}')" 0
it_eq "ledger errors" "$(v ledger 'sluice_ledger_errors_total{}')" 0
if grep -E 'good[0-9]' "$IT_DIR"/feed.prom; then
    it_fail "an upload id appears in the feed's labels"
fi
it_log "PASS"
