# shellcheck shell=bash
# Helpers of the feed's integration tests (test_feed_*.sh), on top of
# lib.sh: sluice-feed started on a free port for the test, consumers,
# grants and tokens, uploads through the real chain, and curl.
#
#   fd_start [ARGS]        start sluice-feed (port 0, its URL key in the
#                          test's dir, -X ARGS passed on); sets FD_URL;
#                          waits until /health answers
#   fd_stop [SIG]          stop it (TERM by default; KILL for a crash)
#   fd_chain [full]        start validate and commit (validate -> commit);
#                          `full`: the whole chain (scan, license too), so
#                          samples carry their bound license record
#   fd_creator NAME        a creator with key $IT_DIR/NAME.pem
#   fd_upload ID CREATOR DATASET TEXT [upload options]
#                          uploads a file holding TEXT (ID "": random)
#   fd_consumer NAME       register a consumer
#   fd_grant CONSUMER DATASET [PRICE]   a live grant
#   fd_token CONSUMER [DATASETS [SCOPE]]  prints a new slc_ token
#   fd_creator_token CREATOR            prints a new slr_ token
#   fd_revoke TOKEN        revokes it (and notifies, as sluicectl does)
#   fd_disable CONSUMER    disables a consumer
#   fd_grant_revoke CONSUMER DATASET   revokes the live grant
#   fd_start2 [ARGS]       a second instance of sluice-feed (same database
#                          and URL key); sets FD_URL2
#   fd_done                stops every sluice-feed and fails on a sanitizer
#                          report in their logs (call it last)
#   fd_get TOKEN URLPATH [CURL ARGS]   GET $FD_URL$URLPATH with the token
#                          ("" for none); prints the status; body in
#                          $IT_DIR/body, headers in $IT_DIR/headers
#   fd_header NAME         a header of the last fd_get (value, no CR)
#   fd_tail TOKEN DATASET  reads one page (FD_TAIL_LIMIT lines, long-polled
#                          FD_TAIL_WAIT s) from the cursor in
#                          $IT_DIR/cursor-DATASET, appends its lines to
#                          $IT_DIR/lines-DATASET and saves the next cursor
#
# Consumers, grants and tokens are written by `sluicectl consumer|grant|
# token` when this sluicectl has them, else with SQL as the owner (the
# same rows; the token's hash is SHA-256 of its whole text).

# The address a sluice-feed logs that it listens on.
FD_URL_SED='s|.*listening on \(https\{0,1\}://[0-9.]*:[0-9]*\)/.*|\1|p'

# fd_listening N: sluice-feed has logged 'listening on' more than N times
# (fails the test if it has exited).
fd_listening() {
    (($(grep -c 'listening on' "$IT_DIR/feed.log" || true) > $1)) && return 0
    kill -0 "${IT_PIDS[feed]}" 2>/dev/null || it_fail "sluice-feed exited at start"
    return 1
}

fd_start() {
    : >>"$IT_DIR/feed.log"
    local before
    before=$(grep -c 'listening on' "$IT_DIR/feed.log" || true)
    local key=()
    # As its own OS user it gets its key as a descriptor (lib.sh), else a
    # file of the test's own (made at first start).
    if [[ ${IT_SERVICE_USERS:-0} == 1 ]]; then
        [[ -s $IT_DIR/feed-url.key ]] || (umask 077 && openssl rand -hex 32 >"$IT_DIR/feed-url.key")
    else
        key=(-X "feed.url.key.file=$IT_DIR/feed-url.key")
    fi
    it_start feed -X feed.port=0 "${key[@]}" "$@"
    it_wait_until 10 fd_listening "$before"
    fd_listening "$before" || it_fail "sluice-feed did not start"
    FD_URL=$(it_log_value "$IT_DIR/feed.log" "$FD_URL_SED") || it_fail "sluice-feed logged no address"
    curl -sf "$FD_URL/health" >/dev/null || it_fail "sluice-feed /health did not answer"
}

fd_stop() { it_kill feed "${1:-TERM}"; }

fd_done() {
    local f
    it_kill feed TERM
    it_kill feed2 TERM
    for f in "$IT_DIR"/feed*.log; do
        ! grep -Eq 'Sanitizer|runtime error' "$f" || it_fail "sanitizer report in $f"
    done
}

fd_chain() {
    if [[ ${1:-} == full ]]; then
        for svc in validate scan license commit; do it_start "$svc"; done
    else
        it_start validate
        it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"
    fi
}

fd_creator() {
    "$IT_BIN/sluicectl" creator add "$1" --generate-key "$IT_DIR/$1.pem" >/dev/null
}

fd_upload() {
    local id=$1 who=$2 ds=$3 text=$4 f idopt=()
    shift 4
    mkdir -p "$IT_DIR/up"
    f=$(mktemp "$IT_DIR/up/XXXXXX.txt")
    printf '%s\n' "$text" >"$f"
    [[ -z $id ]] || idopt=(--upload-id "$id")
    "$IT_BIN/sluicectl" upload --creator "$who" --dataset "$ds" --key "$IT_DIR/$who.pem" \
        "${idopt[@]}" "$@" "$f" >/dev/null 2>>"$IT_DIR/upload.log" || it_fail "upload $id failed"
}

fd_have_ctl() { "$IT_BIN/sluicectl" "$1" --help >/dev/null 2>&1; }

fd_consumer() {
    if fd_have_ctl consumer; then
        "$IT_BIN/sluicectl" consumer add "$1" >/dev/null
    else
        it_sql "INSERT INTO consumers (consumer_id) VALUES ('$1')" >/dev/null
    fi
}

fd_grant() {
    local c=$1 d=$2 price=${3:-0}
    if fd_have_ctl grant; then
        "$IT_BIN/sluicectl" grant add --consumer "$c" --dataset "$d" --price "$price" >/dev/null
    else
        it_sql "INSERT INTO grants (consumer_id, dataset_id, price_micros, created_by)
                VALUES ('$c', '$d', $price, 'test');
                SELECT pg_notify('sluice_feed_auth', '')" >/dev/null
    fi
}

fd_token() {
    local c=$1 ds=${2:-} scope=${3:-read} tok arr=NULL
    if fd_have_ctl token; then
        local opt=(--consumer "$c" --scope "$scope")
        [[ -z $ds ]] || opt+=(--datasets "$ds")
        "$IT_BIN/sluicectl" token issue "${opt[@]}" 2>>"$IT_DIR/ctl.log"
        return
    fi
    tok="slc_$(openssl rand -hex 32)"
    [[ -z $ds ]] || arr="'{$ds}'"
    it_sql "INSERT INTO feed_tokens (token_sha256, consumer_id, datasets, scope, expires_at)
            VALUES ('$(printf %s "$tok" | sha256sum | cut -c1-64)', '$c', $arr, '$scope',
                    now() + interval '30 days')" >/dev/null
    printf '%s\n' "$tok"
}

fd_creator_token() {
    local tok
    if fd_have_ctl token; then
        "$IT_BIN/sluicectl" token issue --creator "$1" 2>>"$IT_DIR/ctl.log"
        return
    fi
    tok="slr_$(openssl rand -hex 32)"
    it_sql "INSERT INTO feed_tokens (token_sha256, creator_id, expires_at)
            VALUES ('$(printf %s "$tok" | sha256sum | cut -c1-64)', '$1',
                    now() + interval '30 days')" >/dev/null
    printf '%s\n' "$tok"
}

fd_token_hash() { printf %s "$1" | sha256sum | cut -c1-64; }

fd_revoke() {
    local h
    h=$(fd_token_hash "$1")
    if fd_have_ctl token; then
        local id
        id=$(it_sql "SELECT token_id FROM feed_tokens WHERE token_sha256 = '$h'")
        "$IT_BIN/sluicectl" token revoke "$id" >/dev/null
    else
        it_sql "UPDATE feed_tokens SET revoked_at = now() WHERE token_sha256 = '$h';
                SELECT pg_notify('sluice_feed_auth', '')" >/dev/null
    fi
}

fd_disable() {
    if fd_have_ctl consumer; then
        "$IT_BIN/sluicectl" consumer disable "$1" >/dev/null
    else
        it_sql "UPDATE consumers SET status = 'disabled', disabled_at = now() WHERE consumer_id = '$1';
                SELECT pg_notify('sluice_feed_auth', '')" >/dev/null
    fi
}

fd_grant_revoke() {
    if fd_have_ctl grant; then
        local id
        id=$(it_sql "SELECT grant_id FROM grants WHERE consumer_id = '$1' AND dataset_id = '$2'
                     AND revoked_at IS NULL")
        "$IT_BIN/sluicectl" grant revoke "$id" >/dev/null
    else
        it_sql "UPDATE grants SET revoked_at = now() WHERE consumer_id = '$1' AND dataset_id = '$2'
                AND revoked_at IS NULL; SELECT pg_notify('sluice_feed_auth', '')" >/dev/null
    fi
}

fd_start2() {
    local dsn
    dsn=$(it_svc_dsn feed)
    # The log exists before the first look at it (the service's redirect
    # may not have run yet; a failing sed would end the test under -e).
    : >>"$IT_DIR/feed2.log"
    SLUICE_PG_DSN=$dsn "$IT_BIN/sluice-feed" -X log.level=info -X feed.port=0 \
        -X "feed.url.key.file=$IT_DIR/feed-url.key" "$@" >>"$IT_DIR/feed2.log" 2>&1 &
    IT_PIDS[feed2]=$!
    FD_URL2=$(it_wait_log_value 10 "$IT_DIR/feed2.log" "$FD_URL_SED") ||
        it_fail "the second sluice-feed did not start"
}

fd_get() {
    local tok=$1 path=$2 auth=()
    shift 2
    [[ -z $tok ]] || auth=(-H "Authorization: Bearer $tok")
    : >"$IT_DIR/body"             # curl writes no file for an empty body
    curl -s -o "$IT_DIR/body" -D "$IT_DIR/headers" -w '%{http_code}' "${auth[@]}" "$@" \
        "$FD_URL$path"
}

fd_header() {
    sed -n "s/^$1: *//Ip" "$IT_DIR/headers" | tr -d '\r' | tail -1
}

fd_tail() {
    local tok=$1 ds=$2 cur="" st
    [[ ! -f $IT_DIR/cursor-$ds ]] || cur=$(cat "$IT_DIR/cursor-$ds")
    st=$(fd_get "$tok" "/v1/datasets/$ds/samples?limit=${FD_TAIL_LIMIT:-3}&wait=${FD_TAIL_WAIT:-0}&after=$cur")
    [[ $st == 200 ]] || return 1
    cat "$IT_DIR/body" >>"$IT_DIR/lines-$ds"
    fd_header Sluice-Next-Cursor >"$IT_DIR/cursor-$ds"
}
