#!/usr/bin/env bash
# sluice-review's listener: a non-loopback address without TLS is refused
# at start with an error that says why; with a certificate and key it
# serves HTTPS only (plain HTTP gets no page), with the security headers.
# Sessions: an idle session expires (review.session.idle.s), and disabling
# an account ends its live sessions at once.
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
port=$(it_log_value "$IT_DIR/review.log" 's|.*listening on https://0.0.0.0:\([0-9]*\)/.*|\1|p') ||
    it_fail "not listening over https: $(cat "$IT_DIR/review.log")"
hdrs=$(curl -s -k -D - -o /dev/null "https://127.0.0.1:$port/login")
it_eq "HTTPS login page" "$(head -1 <<<"$hdrs" | cut -d' ' -f2)" 200
grep -qi '^x-content-type-options: nosniff' <<<"$hdrs" || it_fail "no headers over TLS: $hdrs"
it_eq "plain HTTP on the TLS port" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/login" || true)" 000

# --- session expiry and disabled accounts (plain loopback) -----------------------
it_kill review TERM
for m in ann bob; do
    printf 'pw-%s-correct-horse\n' "$m" >"$IT_DIR/pw-$m"
    "$IT_BIN/sluicectl" moderator add "$m" --password-file "$IT_DIR/pw-$m" >/dev/null
done
rv_start -X review.session.idle.s=2
rv_login ann
rv_login bob
# Used within the idle limit, a session lives on past it ...
for i in 1 2 3 4; do
    sleep 0.7
    it_eq "live session, use $i" "$(rv_curl ann "$RV_URL/api/session" | cut -d' ' -f1)" 200
done
# ... and dies after it unused.
sleep 2.5
it_eq "idle session" "$(rv_curl ann "$RV_URL/api/session" | rv_err)" "401 not_logged_in"
rv_login bob
"$IT_BIN/sluicectl" moderator disable bob >/dev/null
it_eq "disabled account's session" "$(rv_curl bob "$RV_URL/api/session" | rv_err)" "401 not_logged_in"
tok=$(rv_login_token bob)
it_eq "disabled account's login" "$(rv_curl bob --data-urlencode username=bob \
    --data-urlencode "password=$(cat "$IT_DIR/pw-bob")" --data-urlencode "csrf=$tok" "$RV_URL/login" | cut -d' ' -f1)" 401
it_log "review tls and sessions: ok"
