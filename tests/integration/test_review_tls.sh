#!/usr/bin/env bash
# sluice-review's listener: a non-loopback address without TLS is refused
# at start with an error that says why; with a certificate and key it
# serves HTTPS only (plain HTTP gets no page), with the security headers.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/review_lib.sh"
it_init review_tls

key=(-X "audit.key.file=$IT_DIR/review-audit.key")
rc=0
SLUICE_PG_DSN=$(it_svc_dsn review) timeout 20 "$IT_BIN/sluice-review" -X review.listen=0.0.0.0 \
    -X review.port=0 "${key[@]}" >"$IT_DIR/plain.log" 2>&1 || rc=$?
it_eq "exit status without TLS" "$rc" 1
grep -q 'refusing to listen on non-loopback address 0.0.0.0 without TLS: configure a TLS certificate and key' \
    "$IT_DIR/plain.log" || it_fail "no reason given: $(cat "$IT_DIR/plain.log")"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -keyout "$IT_DIR/tls.key" -out "$IT_DIR/tls.crt" 2>/dev/null
chmod 600 "$IT_DIR/tls.key"
rv_start -X review.listen=0.0.0.0 -X "review.tls.cert=$IT_DIR/tls.crt" -X "review.tls.key=$IT_DIR/tls.key"
port=$(sed -n 's|.*listening on https://0.0.0.0:\([0-9]*\)/.*|\1|p' "$IT_DIR/review.log" | tail -1)
[[ -n $port ]] || it_fail "not listening over https: $(cat "$IT_DIR/review.log")"
hdrs=$(curl -s -k -D - -o /dev/null "https://127.0.0.1:$port/login")
it_eq "HTTPS login page" "$(head -1 <<<"$hdrs" | cut -d' ' -f2)" 200
grep -qi '^x-content-type-options: nosniff' <<<"$hdrs" || it_fail "no headers over TLS: $hdrs"
it_eq "plain HTTP on the TLS port" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/login" || true)" 000
it_log "review tls: ok"
