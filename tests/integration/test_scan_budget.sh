#!/usr/bin/env bash
# The scan stage's work budget end to end (issue 9, "work budgets").
#
# The attack: a signed 1 MiB PDF made of "/Info<</CreationDate(" repeated.
# The info-dictionary reader used to go back to the end of the file for
# each of its 50,000 occurrences: 97 s of CPU for this file, measured on
# the development machine (7 s for a quarter of it, 36 s for half: an
# 8 MiB one would pin scan for hours while its batch's transaction timed
# out and was retried).  tests/unit/test_scan_budget.c reproduces the
# quadratic work with the budget's counters.  Now the reader is linear and every sample
# runs within a budget; here scan is given a budget sized for this test's
# samples (scan.budget.bytes = 2 MiB: three passes over the bomb do not
# fit), so the bomb exhausts it in the PDF reader:
#   - default action: rejected scan_budget_exceeded, the detail naming the
#     part ("pdf") and the key of the limit that ran out;
#   - a dataset whose scan action for the pseudo-rule "scan_budget" is
#     flag: a review item with that reason;
#   - a real PDF with an info dictionary fits the same budget (and the
#     e-mail address in its /Subject is found);
#   - every upload has exactly one outcome, and a clean upload sent after
#     the bombs is accepted within seconds.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init scan_budget

W=$IT_DIR
F=$IT_SRC/tests/fixtures
ctl creator add sb --generate-key "$W/k.pem" >/dev/null
ctl dataset add plain >/dev/null
ctl dataset add lenient --scan-action scan_budget=flag >/dev/null
it_eq "lenient's scan actions" \
    "$(it_sql "SELECT scan_actions FROM datasets WHERE dataset_id = 'lenient'")" \
    '{"scan_budget": "flag"}'

it_start validate
it_start scan -X scan.budget.bytes=2m
it_start commit -X input.topics=sluice.scanned,sluice.flagged,sluice.rejected

{ printf '%%PDF-1.4\n'
  printf '/Info<</CreationDate(%.0s' $(seq 50000)
  printf '\ntrailer\n%%%%EOF\n'; } >"$W/bomb.pdf"
it_eq "bomb size" "$(stat -c %s "$W/bomb.pdf")" 1050024
printf 'A perfectly ordinary paragraph about rivers and the sea.\n' >"$W/clean.txt"

up() { # up ID DATASET FILE [options]
    local id=$1 ds=$2 file=$3; shift 3
    ctl upload --creator sb --dataset "$ds" --key "$W/k.pem" --upload-id "$id" \
        "$@" "$file" >/dev/null 2>>"$W/upload.log" || it_fail "upload $id failed"
}
up bomb plain "$W/bomb.pdf" --content-type application/pdf
up bombflag lenient "$W/bomb.pdf" --content-type application/pdf
up doc plain "$F/doc_info.pdf" --content-type application/pdf
it_wait_outcomes 3 60
t0=$(date +%s%N)
up clean plain "$W/clean.txt"
it_wait_outcomes 4 30
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
it_log "clean upload's outcome after ${ms} ms"
((ms < 15000)) || it_fail "the clean upload took ${ms} ms"
sleep 1

it_eq "bomb" "$(it_outcome bomb)" scan:scan_budget_exceeded
it_eq "bomb detail" "$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'bomb'")" \
    "scan work budget exceeded in pdf: more than 2097152 bytes examined (scan.budget.bytes)"
it_eq "bomb, dataset flags overruns" "$(it_outcome bombflag)" review:pending
it_eq "review reason" \
    "$(it_sql "SELECT findings->>'reason' || ' ' || (findings->'budget'->>'part') FROM review_items WHERE upload_id = 'bombflag'")" \
    "scan_budget_exceeded pdf"
# its info dictionary is read in full: the e-mail in /Subject is found
it_eq "real PDF within the budget" "$(it_outcome doc)" review:pending
it_eq "real PDF: why flagged" \
    "$(it_sql "SELECT (findings->>'flag_reason') || ', budget ' || coalesce(findings->>'budget', 'within') || ', ' || (findings->'findings'->0->>'rule') || ' in ' || (findings->'findings'->0->>'source') FROM review_items WHERE upload_id = 'doc'")" \
    "a finding to redact is not in UTF-8 content, budget within, email in pdf:Subject"
it_eq "clean upload after the bombs" "$(it_outcome clean)" accepted
it_eq "one outcome per upload" \
    "$(it_sql "SELECT string_agg(u || '=' || n, ' ' ORDER BY u) FROM (
                 SELECT upload_id u, count(*) n FROM (
                   SELECT upload_id FROM samples UNION ALL SELECT upload_id FROM review_items
                   UNION ALL SELECT upload_id FROM rejections) a GROUP BY upload_id) b")" \
    "bomb=1 bombflag=1 clean=1 doc=1"
it_eq "scan still running" "$(kill -0 "${IT_PIDS[scan]}" 2>/dev/null && echo yes || echo no)" yes
it_eq "audit verify" "$("$IT_BIN/sluicectl" audit verify --all >/dev/null 2>&1; echo $?)" 0
