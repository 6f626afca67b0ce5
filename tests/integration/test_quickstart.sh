#!/usr/bin/env bash
# README command one, `deploy/quickstart.sh`, end to end: it starts a stack
# of its own (Kafka, PostgreSQL, every service) in a directory of this
# test's, uploads its demo corpus and prints what became of each upload,
# the feed's first page, the creator's balance and where the dashboards
# are.  The outcomes are read back from PostgreSQL by the script's own
# queries, so a migration that moves a column they name breaks this test
# (027 moved samples.license, and the quickstart failed at its outcome
# table until this test existed).
#
# The test's binaries are used (SLUICE_BIN_DIR), not a build of build/;
# the shared test stack is not touched.
IT_NAME=quickstart
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it-quickstart.XXXXXX")
# PostgreSQL and the broker run as their own users and must reach it.
chmod 755 "$IT_DIR"
STACK=$IT_DIR/stack
qs_cleanup() {
    local rc=$?
    SLUICE_BIN_DIR=$IT_BIN bash "$IT_SRC/deploy/stack.sh" stop --dir "$STACK" >/dev/null 2>&1 || rc=1
    if ((rc != 0)) || [[ -n ${IT_FAILED:-} ]]; then
        it_log "kept $IT_DIR for inspection"
    else
        rm -rf "$IT_DIR"
    fi
    exit "$rc"
}
trap qs_cleanup EXIT

# From a clean environment, as a user's shell would be: nothing of the
# shared test stack's (its ports above all) may steer this one.
env -i PATH="$PATH" HOME="${HOME:-/root}" TMPDIR="${TMPDIR:-/tmp}" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
    SLUICE_STACK_DIR="$STACK" SLUICE_BIN_DIR="$IT_BIN" \
    bash "$IT_SRC/deploy/quickstart.sh" >"$IT_DIR/quickstart.log" 2>&1 ||
    it_fail "deploy/quickstart.sh exited $? (its output: $IT_DIR/quickstart.log)"
OUT=$IT_DIR/quickstart.log

# outcome NAME FILE: the OUTCOME and REASON columns of that upload's row.
outcome() {
    awk -v n="$1" -v f="$2" '$1 == n && $2 == f { print $3, $4; found = 1 }
                             END { if (!found) print "missing" }' "$OUT"
}
it_eq "poem" "$(outcome poem poem.txt)" "accepted CC-BY-4.0"
it_eq "recipe" "$(outcome recipe recipe.md)" "accepted CC0-1.0"
it_eq "reading" "$(outcome reading reading.json)" "accepted CDLA-Permissive-2.0"
it_eq "weather" "$(outcome weather weather.csv)" "accepted ODbL-1.0"
it_eq "forged" "$(outcome forged forged.txt)" "rejected validate:signature_invalid"
it_eq "stranger" "$(outcome stranger stranger.txt)" "rejected validate:creator_unknown"
it_eq "replayed id" "$(outcome poem replayed.txt)" "rejected validate:replay"
it_eq "huge" "$(outcome huge huge.bin)" "rejected validate:too_large"
it_eq "minutes (an e-mail address)" "$(outcome minutes minutes.txt)" "redacted CC-BY-4.0"
it_eq "notes (an AWS key)" "$(outcome notes notes.txt)" "rejected scan:secret_blocked"
it_eq "gateway (an IP address)" "$(outcome gateway gateway.txt)" "review pending"
it_eq "unlicensed" "$(outcome unlicensed unlicensed.txt)" "rejected license:license_missing"
it_eq "reserved" "$(outcome reserved reserved.txt)" "rejected license:use_reserved"
it_eq "garbled (kcat)" "$(awk '$1 == "garbled" { print $4, $5 }' "$OUT")" "rejected validate:meta_malformed"

# The feed's first page: three lines, each with its license.
it_eq "feed lines" "$(grep -c '^{"upload_id":"qs-.*"license":"[^"]' "$OUT" || true)" 3
grep -q '^next cursor: [A-Za-z0-9_-]' "$OUT" || it_fail "no next cursor printed"
# The download was metered and posted: the creator's balance is not zero.
it_eq "creator paid" "$(awk '$1 == "creator" && $2 == "demo" && $3 == "USD" { print ($4 > 0) }' "$OUT")" 1
# The dashboards' addresses, from the stack the script started.
. "$STACK/stack.env"
grep -qF "$SLUICE_REVIEW_URL" "$OUT" || it_fail "the review dashboard's URL is not printed"
grep -qF "$SLUICE_FEED_URL" "$OUT" || it_fail "the feed's URL is not printed"
[[ $(stat -c %a "$STACK/moderator.password") == 600 ]] || it_fail "moderator.password is not 0600"
it_log "PASS"
