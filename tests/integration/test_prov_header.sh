#!/usr/bin/env bash
# A sluice-prov header that stopped the scan stage (found by
# tests/fuzz/fuzz_prov.c).  A chain in the canonical grammar followed by a
# single trailing byte made the hand-written chain reader answer "mine"
# without a chain, and sl_prov_extend dereferenced NULL: scan (license and
# commit too) crashed on the message, and would again on every restart at
# the same offset.  Anyone who can write to sluice.validated could send it.
# Now such a header goes to the jansson reader, does not verify, and scan
# starts a new chain from the content's hash: the message gets its one
# outcome (here meta_invalid: it carries no metadata), scan keeps running,
# and a clean upload sent after it is accepted.  validate -> scan -> commit.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init provhdr

W=$IT_DIR
ctl creator add ph --generate-key "$W/k.pem" >/dev/null
ctl dataset add ds >/dev/null

it_start validate
it_start scan
it_start commit -X input.topics=sluice.scanned,sluice.flagged,sluice.rejected

# The hostile header: one event in the canonical grammar, then a space.
H=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
EV="{\\\"input_sha256\\\":null,\\\"outcome\\\":\\\"accepted\\\",\\\"output_sha256\\\":null,\\\"prev\\\":\\\"$H\\\",\\\"reason\\\":null,\\\"seq\\\":1,\\\"stage\\\":\\\"validate\\\",\\\"time\\\":\\\"2026-12-03T07:00:00.000Z\\\",\\\"upload_id\\\":\\\"evil\\\",\\\"version\\\":\\\"validate/1\\\"}"
PROV="[{\"event\":\"$EV\",\"hash\":\"$H\"}] "
printf 'hello' >"$W/hello.txt"
kcat -P -b "$SLUICE_KAFKA_BROKERS" -t "${SLUICE_TOPIC_PREFIX}sluice.validated" \
    -k evil -H "sluice-prov=$PROV" "$W/hello.txt" || it_fail "kcat could not produce"

it_wait_outcomes 1 60
it_eq "hostile message's outcome" \
    "$(it_sql "SELECT stage || ':' || code FROM rejections")" scan:meta_invalid
kill -0 "${IT_PIDS[scan]}" 2>/dev/null || it_fail "scan exited on the header"

printf 'A perfectly ordinary sentence.\n' >"$W/clean.txt"
ctl upload --creator ph --dataset ds --key "$W/k.pem" --upload-id clean \
    "$W/clean.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload failed"
it_wait_outcomes 2 30
it_eq "clean upload after it" \
    "$(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'clean'")" 1
it_eq "outcomes in all" \
    "$(it_sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)
                    + (SELECT count(*) FROM review_items)")" 2
kill -0 "${IT_PIDS[scan]}" 2>/dev/null || it_fail "scan exited"
