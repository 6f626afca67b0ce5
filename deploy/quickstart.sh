#!/usr/bin/env bash
# README command one: install, build, start a local stack (Kafka in KRaft
# mode, PostgreSQL, the pipeline services) in .sluice/, register a demo
# creator with a fresh Ed25519 key and a demo dataset, upload a small corpus
# mixing good uploads with bad ones, and print what became of each upload,
# read back from PostgreSQL.  The stack keeps running afterwards.
#
# usage: deploy/quickstart.sh
# env:   SLUICE_STACK_DIR  stack directory (default <repo>/.sluice)
#        SLUICE_BIN_DIR    run the binaries built there instead of building
#                          build/ (integration.test_quickstart)
set -euo pipefail

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { sl_log quickstart "$@"; }
die() { sl_die quickstart "$@"; }

STACK=${SLUICE_STACK_DIR:-$SL_ROOT/.sluice}
# PostgreSQL and the broker run as their own users and must reach the stack
# directory; stack.sh never widens a parent's permissions.  A clone they
# cannot reach (under a 0700 directory) keeps its stack in /var/lib/sluice.
if [[ -z ${SLUICE_STACK_DIR:-} ]] && ((EUID == 0)) && id postgres >/dev/null 2>&1 &&
    ! setpriv --reuid=postgres --regid=postgres --init-groups -- test -x "$SL_ROOT"; then
    STACK=/var/lib/sluice/quickstart-$(printf '%s' "$SL_ROOT" | sha256sum | cut -c1-12)
    mkdir -p /var/lib/sluice && chmod 755 /var/lib/sluice
    say "postgres cannot reach $SL_ROOT: the stack goes to $STACK"
fi
BIN=${SLUICE_BIN_DIR:-$SL_ROOT/build/bin}
unset SLUICE_KAFKA_BROKERS SLUICE_PG_DSN SLUICE_TOPIC_PREFIX SLUICE_CONFIG

bash "$SL_ROOT/deploy/install.sh"

if [[ -n ${SLUICE_BIN_DIR:-} ]]; then
    [[ -x $BIN/sluicectl ]] || die "no sluicectl in SLUICE_BIN_DIR=$BIN"
    say "using the binaries in $BIN"
else
    say "building into build/"
    cmake -S "$SL_ROOT" -B "$SL_ROOT/build" -DSLUICE_SANITIZE=OFF >/dev/null
    cmake --build "$SL_ROOT/build" -j "$(nproc)" >/dev/null
fi

# A stack left running by an earlier quickstart runs the binaries built
# then: restart it (its data stays) so the services are the ones just built.
SLUICE_BIN_DIR=$BIN bash "$SL_ROOT/deploy/stack.sh" stop --dir "$STACK" 2>/dev/null || true
SLUICE_BIN_DIR=$BIN bash "$SL_ROOT/deploy/stack.sh" start --dir "$STACK"
# shellcheck disable=SC1091
. "$STACK/stack.env"
ctl() { "$BIN/sluicectl" "$@"; }

# --- a demo creator and dataset -------------------------------------------------
DEMO=$STACK/demo
RUN=$(date +%Y%m%d%H%M%S)
rm -rf "$DEMO/corpus"
mkdir -p "$DEMO/corpus"
say "registering creator 'demo' (fresh Ed25519 key in $DEMO/demo.pem) and dataset 'demo-ds'"
rm -f "$DEMO/demo.pem" "$DEMO/demo.pem.pub"
ctl creator add demo --name "Demo Creator" --generate-key "$DEMO/demo.pem" --replace >/dev/null
ctl dataset list 2>/dev/null | grep -qw demo-ds ||
    ctl dataset add demo-ds --name "Demo dataset" >/dev/null

# --- the corpus -------------------------------------------------------------------
C=$DEMO/corpus
cat >"$C/poem.txt" <<EOF
The river keeps its counsel, run $RUN;
it carries what it is given to the sea.
EOF
cat >"$C/recipe.md" <<EOF
# Bread (run $RUN)
Flour, water, salt, time.
EOF
printf '{"run": "%s", "kind": "observation", "value": 42}\n' "$RUN" >"$C/reading.json"
printf 'city,temp\nLyon,%s\n' "${RUN: -2}" >"$C/weather.csv"
printf 'a sample whose signature was made with the wrong key (%s)\n' "$RUN" >"$C/forged.txt"
printf 'a sample from nobody we know (%s)\n' "$RUN" >"$C/stranger.txt"
printf 'a second sample that reuses an upload id (%s)\n' "$RUN" >"$C/replayed.txt"
printf 'Minutes (%s): send corrections to jane.doe@example.com.\n' "$RUN" >"$C/minutes.txt"
printf 'deploy notes (%s): key AKIAQWERTYUIOPASDFGH\n' "$RUN" >"$C/notes.txt"
printf 'Gateway log (%s): the router at 192.168.10.20 answered.\n' "$RUN" >"$C/gateway.txt"
printf 'a sample with no license at all (%s)\n' "$RUN" >"$C/unlicensed.txt"
printf 'the creator reserved AI training (%s)\n' "$RUN" >"$C/reserved.txt"
head -c $((9 * 1024 * 1024)) /dev/urandom >"$C/huge.bin"
openssl genpkey -algorithm ed25519 -out "$DEMO/wrong.pem" 2>/dev/null

ID=qs-$RUN
declare -a EXPECT=()
up() { # up SUFFIX FILE [sluicectl upload options]
    local id=$ID-$1 file=$2; shift 2
    EXPECT+=("$id|$(basename "$file")|$(sha256sum "$file" | cut -c1-64)")
    ctl upload --creator demo --dataset demo-ds --key "$DEMO/demo.pem" \
        --upload-id "$id" "$@" "$file" >/dev/null 2>&1 ||
        die "sluicectl upload of $file failed"
}
say "uploading the demo corpus"
up poem "$C/poem.txt" --license CC-BY-4.0
up recipe "$C/recipe.md" --license CC0-1.0
up reading "$C/reading.json" --license CDLA-Permissive-2.0
up weather "$C/weather.csv" --license ODbL-1.0
up forged "$C/forged.txt" --key "$DEMO/wrong.pem"
up stranger "$C/stranger.txt" --creator ghost
up poem "$C/replayed.txt"
up huge "$C/huge.bin"
up minutes "$C/minutes.txt"                       # an email address: redacted
up notes "$C/notes.txt"                           # an AWS key: blocked
up gateway "$C/gateway.txt"                       # an IP address: flagged for review
up unlicensed "$C/unlicensed.txt" --license NOASSERTION
up reserved "$C/reserved.txt" --usage ai_training=notAllowed
# Metadata that is not JSON at all, sent with plain kcat.
printf 'bytes with broken metadata (%s)\n' "$RUN" >"$C/garbled.txt"
EXPECT+=("$ID-garbled|garbled.txt (kcat)|$(sha256sum "$C/garbled.txt" | cut -c1-64)")
kcat -P -b "$SLUICE_KAFKA_BROKERS" -t sluice.uploads -k "$ID-garbled" \
    -H 'sluice-meta={"upload_id": "oops", creator_id: demo' "$C/garbled.txt" ||
    die "kcat could not produce"

# --- wait for every outcome -------------------------------------------------------
ids=$(printf "'%s'," "${EXPECT[@]%%|*}")
ids=${ids%,}
sql() { psql -XAtq -v ON_ERROR_STOP=1 "$SLUICE_PG_DSN" -c "$1"; }
say "waiting for the pipeline"
for ((i = 0; i < 240; i++)); do
    n=$(sql "SELECT (SELECT count(*) FROM samples WHERE upload_id IN ($ids)) +
                    (SELECT count(*) FROM review_items WHERE upload_id IN ($ids)) +
                    (SELECT count(DISTINCT upload_id) FROM rejections WHERE upload_id IN ($ids))")
    ((n >= ${#EXPECT[@]})) && break
    sleep 0.25
done
((n >= ${#EXPECT[@]})) ||
    say "only $n of ${#EXPECT[@]} outcomes after 60 s; see $STACK/logs/"

# --- outcomes ---------------------------------------------------------------------
printf '\n%-22s %-28s %-9s %-28s %s\n' UPLOAD FILE OUTCOME REASON DETAIL
for e in "${EXPECT[@]}"; do
    IFS='|' read -r id file sha <<<"$e"
    # Matched on upload id and content hash: a replayed id has two uploads.
    rows=$(sql "SELECT CASE WHEN original_sha256 IS NULL THEN 'accepted|' ELSE 'redacted|' END
                       || coalesce((SELECT record->>'expression' FROM license_records l
                                     WHERE l.sha256 = s.license_sha256), license_expression) || '|'
                       || coalesce(detected_type, '') || ', sha256 ' || left(sha256, 12) || '...'
                  FROM samples s WHERE upload_id = '$id' AND (sha256 = '$sha' OR original_sha256 = '$sha')
                UNION ALL
                SELECT 'review|' || state || '|' || coalesce(findings->>'flag_reason', '')
                  FROM review_items WHERE upload_id = '$id' AND sha256 = '$sha'
                UNION ALL
                SELECT 'rejected|' || stage || ':' || code || '|' || left(detail, 70)
                  FROM rejections WHERE upload_id = '$id' AND sha256 = '$sha'")
    [[ -n $rows ]] || rows='pending||'
    while IFS='|' read -r outcome reason detail; do
        printf '%-22s %-28s %-9s %-28s %s\n' "${id#"$ID"-}" "$file" "$outcome" "$reason" "$detail"
    done <<<"$rows"
done

# --- a moderator for the review dashboard ------------------------------------------
# The password is generated into a 0600 file in the stack directory and
# never printed; a later quickstart keeps the account and its file.
PWFILE=$STACK/moderator.password
if ! ctl moderator list --json | jq -e 'any(.[]; .name == "moderator")' >/dev/null; then
    (umask 077 && openssl rand -base64 18 >"$PWFILE.tmp" && mv "$PWFILE.tmp" "$PWFILE") ||
        die "cannot write $PWFILE"
    ctl moderator add moderator --role lead --password-file "$PWFILE" >/dev/null ||
        die "sluicectl moderator add failed"
elif [[ ! -s $PWFILE ]]; then
    (umask 077 && openssl rand -base64 18 >"$PWFILE.tmp" && mv "$PWFILE.tmp" "$PWFILE") ||
        die "cannot write $PWFILE"
    ctl moderator passwd moderator --password-file "$PWFILE" >/dev/null ||
        die "sluicectl moderator passwd failed"
fi
chmod 600 "$PWFILE"

# --- a model updater reading the feed ----------------------------------------------
# Consumer 'demo-updater' with a grant on demo-ds (1000 micro-USD per sample
# delivered) and a read token, printed once by sluicectl and kept here in a
# 0600 file (a later quickstart reuses all three); then one page of the
# feed, as an updater's first request would read it.
TOKFILE=$STACK/demo-updater.token
ctl consumer list --json | jq -e 'any(.[]; .consumer_id == "demo-updater")' >/dev/null ||
    ctl consumer add demo-updater --name "Demo model updater" >/dev/null ||
    die "sluicectl consumer add failed"
ctl grant list --consumer demo-updater --dataset demo-ds --json | jq -e 'length > 0' >/dev/null ||
    ctl grant add --consumer demo-updater --dataset demo-ds --price 1000 >/dev/null ||
    die "sluicectl grant add failed"
if [[ ! -s $TOKFILE ]]; then
    (umask 077 && ctl token issue --consumer demo-updater --label quickstart >"$TOKFILE.tmp" &&
        mv "$TOKFILE.tmp" "$TOKFILE") || die "sluicectl token issue failed"
fi
chmod 600 "$TOKFILE"
for _ in $(seq 1 100); do curl -sf "$SLUICE_FEED_URL/health" >/dev/null && break; sleep 0.1; done
echo
echo "The feed of demo-ds as its model updater reads it (first 3 lines of a page):"
curl -sS -D "$DEMO/feed.headers" -H "Authorization: Bearer $(cat "$TOKFILE")" \
    "$SLUICE_FEED_URL/v1/datasets/demo-ds/samples?limit=3" |
    jq -c '{upload_id, size, content_type, license: .license.expression, committed_at}' ||
    die "reading the feed failed"
echo "next cursor: $(sed -n 's/^Sluice-Next-Cursor: *//Ip' "$DEMO/feed.headers" | tr -d '\r')"

# --- the creator gets paid ----------------------------------------------------------
# The updater downloads the first sample through its signed content URL (no
# token): the feed meters the delivery once, sluice-ledger posts it (woken
# by the delivery), and the creator's balance shows the net of the price.
URL=$(curl -sS -H "Authorization: Bearer $(cat "$TOKFILE")" \
    "$SLUICE_FEED_URL/v1/datasets/demo-ds/samples?limit=1" | jq -r .content_url)
[[ -n $URL && $URL != null ]] || die "the feed listed no sample of demo-ds"
curl -sSf -o /dev/null "$URL" || die "fetching a sample's content failed"
for _ in $(seq 1 100); do
    [[ $(ctl ledger balance --creator demo --json 2>/dev/null | jq -r '.[0].posted_micros // 0') != 0 ]] && break
    sleep 0.1
done
echo
echo "After the updater downloaded one sample, creator demo's balance (USD):"
ctl ledger balance --creator demo || die "sluicectl ledger balance failed"

cat <<EOF

The review dashboard (flagged samples wait there for a moderator):
  $SLUICE_REVIEW_URL
  user: moderator    password: in $PWFILE (mode 0600)

The delivery feed (model updaters tail it; docs in README "Model updaters"):
  $SLUICE_FEED_URL
  token of consumer demo-updater: in $TOKFILE (mode 0600)
  curl -H "Authorization: Bearer \$(cat $TOKFILE)" $SLUICE_FEED_URL/v1/datasets

The creators' ledger (every delivery posted once; docs in README "Creators get paid"):
  build/bin/sluicectl ledger statement --creator demo --month $(date -u +%Y-%m)

The stack is still running in $STACK (logs in $STACK/logs/).
  . $STACK/stack.env               # SLUICE_KAFKA_BROKERS, SLUICE_PG_DSN
  build/bin/sluicectl status        # counts per outcome and reason, lag
  psql "\$SLUICE_PG_DSN"             # samples, rejections, provenance_events
  deploy/stack.sh stop --dir $STACK  # stop it
EOF
