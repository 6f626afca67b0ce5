# shellcheck shell=bash
# Helpers of the review service's integration tests (test_review_*.sh), on
# top of lib.sh: flagged samples from the real chain (validate -> scan ->
# commit), sluice-review started on a free port, and curl sessions.
#
#   rv_setup N          creator, dataset, moderators ann (lead), bob, carl
#                       (passwords in $IT_DIR/pw-NAME), the chain, and N
#                       uploads that scan flags (ids f1..fN), waited for
#   rv_start [ARGS]     start sluice-review; sets RV_URL
#   rv_login NAME       log NAME in; cookie jar $IT_DIR/jar-NAME, prints
#                       nothing; sets RV_CSRF_<NAME> from /api/session
#   rv_curl NAME ARGS   curl with NAME's cookie jar; prints "STATUS BODY"
#   outcome ID          "sample", or the rejections' stage:code
#   chain ID            the stored sample's chain: stage:outcome by seq

rv_setup() {
    local n=$1 i
    RV_W=$IT_DIR
    "$IT_BIN/sluicectl" creator add rc --generate-key "$RV_W/k.pem" >/dev/null
    "$IT_BIN/sluicectl" dataset add ds1 >/dev/null
    for m in ann bob carl; do
        printf 'pw-%s-correct-horse\n' "$m" >"$RV_W/pw-$m"
        chmod 600 "$RV_W/pw-$m"
    done
    "$IT_BIN/sluicectl" moderator add ann --role lead --password-file "$RV_W/pw-ann" >/dev/null
    "$IT_BIN/sluicectl" moderator add bob --password-file "$RV_W/pw-bob" >/dev/null
    "$IT_BIN/sluicectl" moderator add carl --password-file "$RV_W/pw-carl" >/dev/null
    it_start validate
    it_start scan
    it_start commit -X input.topics=sluice.scanned,sluice.flagged
    mkdir -p "$RV_W/f"
    for ((i = 1; i <= n; i++)); do
        # An IPv4 address: the shipped rules flag it for review.
        printf 'Sample %d: the server at 192.168.10.%d answered.\n' "$i" "$i" >"$RV_W/f/f$i.txt"
        "$IT_BIN/sluicectl" upload --creator rc --dataset ds1 --key "$RV_W/k.pem" \
            --upload-id "f$i" "$RV_W/f/f$i.txt" >/dev/null 2>>"$RV_W/upload.log" ||
            it_fail "upload f$i failed"
    done
    it_wait_outcomes "$n" 90
    it_eq "flagged items" "$(it_sql "SELECT count(*) FROM review_items WHERE state = 'pending'")" "$n"
}

rv_start() {
    local port
    : >"$IT_DIR/review.log"
    local key=()
    # As its own OS user it gets its key as a descriptor (lib.sh), else a
    # file of the test's own.
    [[ ${IT_SERVICE_USERS:-0} == 1 ]] || key=(-X "audit.key.file=$IT_DIR/review-audit.key")
    it_start review -X review.port=0 "${key[@]}" "$@"
    port=$(it_wait_log_value 10 "$IT_DIR/review.log" \
        's|.*listening on https\{0,1\}://[0-9.]*:\([0-9]*\)/.*|\1|p') ||
        it_fail "sluice-review did not start"
    RV_URL=http://127.0.0.1:$port
}

rv_curl() {
    local who=$1; shift
    curl -s -o "$IT_DIR/body" -w '%{http_code}' -b "$IT_DIR/jar-$who" -c "$IT_DIR/jar-$who" "$@"
    printf ' %s\n' "$(tr '\n' ' ' <"$IT_DIR/body")"
}

# The login form's CSRF token (a fresh one per GET /login).
rv_login_token() {
    curl -s -b "$IT_DIR/jar-$1" -c "$IT_DIR/jar-$1" "$RV_URL/login" |
        sed -n 's/.*name="csrf-token" content="\([0-9a-f]*\)".*/\1/p'
}

rv_login() {
    local who=$1 pwfile=${2:-$IT_DIR/pw-$1} tok out
    rm -f "$IT_DIR/jar-$who"
    tok=$(rv_login_token "$who")
    out=$(rv_curl "$who" --data-urlencode "username=$who" \
        --data-urlencode "password=$(head -1 "$pwfile")" --data-urlencode "csrf=$tok" "$RV_URL/login")
    [[ ${out%% *} == 303 ]] || it_fail "login of $who: $out"
    out=$(rv_curl "$who" "$RV_URL/api/session")
    [[ ${out%% *} == 200 ]] || it_fail "session of $who: $out"
    printf -v "RV_CSRF_${who^^}" '%s' "$(jq -r .csrf <<<"${out#* }")"
}

rv_sha() { it_sql "SELECT sha256 FROM review_items WHERE upload_id = '$1'"; }

# Reads rv_curl's "STATUS BODY" and prints "STATUS ERROR-CODE".
rv_err() {
    local line
    line=$(cat)
    printf '%s %s\n' "${line%% *}" "$(jq -r '.error // "-"' <<<"${line#* }" 2>/dev/null || echo '?')"
}

outcome() {
    it_sql "SELECT 'sample' FROM samples WHERE upload_id = '$1'
            UNION ALL SELECT stage || ':' || code FROM rejections WHERE upload_id = '$1'
            ORDER BY 1"
}

chain() {
    it_sql "SELECT string_agg(stage || ':' || outcome, ' ' ORDER BY seq)
            FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = '$1'"
}
