#!/usr/bin/env bash
# A dataset's scan allow-list and deny-list through the real pipeline
# (validate -> scan -> commit; datasets.scan_lists, migration 022).  First
# what happens without lists: the company's public support number is
# redacted out of its own documentation and a confidential project name
# passes.  Then, on a dataset listing both, the number passes untouched
# and the name is a finding of dataset_deny (flagged for review; rejected
# deny_listed where the dataset blocks it, its bytes withheld from the
# dead letter).  sluicectl refuses a bad pattern; a clean upload after
# the others is accepted.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init scan_lists

W=$IT_DIR
ctl creator add sc --generate-key "$W/k.pem" >/dev/null
ctl dataset add plain >/dev/null
ctl dataset add docs >/dev/null
ctl dataset set docs --scan-allow '+1 800 555 0199' \
    --scan-deny 'Project Nightingale' --scan-deny-pattern '(?i)codename[: ]+\w+' >"$W/set.out" ||
    it_fail "dataset set --scan-allow/--scan-deny failed"
it_eq "dataset set prints the lists" "$(grep 'scan lists' "$W/set.out" | tr -s ' ')" \
    " scan lists allow 1, allow patterns 0, deny 1, deny patterns 1"
ctl dataset add strict --scan-deny 'Project Nightingale' \
    --scan-action dataset_deny=block >/dev/null || it_fail "dataset add with lists failed"
it_eq "dataset show" "$(ctl dataset show docs --json | jq -c .scan_lists)" \
    '{"deny":["Project Nightingale"],"allow":["+1 800 555 0199"],"deny_patterns":["(?i)codename[: ]+\\w+"]}'
# A pattern that does not compile, or matches everything, is refused.
err=$(ctl dataset set docs --scan-deny-pattern 'a(b' 2>&1 >/dev/null | head -1; echo "rc=${PIPESTATUS[0]}")
it_eq "bad pattern refused" "$err" "sluicectl dataset set: scan lists: \"deny_patterns\" entry 0: pattern error at offset 3: missing closing parenthesis
rc=2"
err=$(ctl dataset set docs --scan-allow-pattern '.*' 2>&1 >/dev/null | head -1; echo "rc=${PIPESTATUS[0]}")
it_eq "empty-matching pattern refused" "$err" "sluicectl dataset set: scan lists: \"allow_patterns\" entry 0 matches the empty string
rc=2"
it_eq "lists unchanged by refused calls" \
    "$(it_sql "SELECT jsonb_array_length(scan_lists->'deny_patterns') FROM datasets WHERE dataset_id = 'docs'")" 1

it_start validate
it_start scan
it_start commit -X input.topics=sluice.scanned,sluice.flagged,sluice.rejected

mkdir -p "$W/f"
printf 'Support: call +1 800 555 0199 any time.\n' >"$W/f/support.txt"
printf 'Status of Project Nightingale: on track.\n' >"$W/f/secret.txt"
printf 'Minutes, codename: bluebird, see above.\n' >"$W/f/codename.txt"
printf 'Or call +1 800 555 0199, or Jane on +1 415 555 0123.\n' >"$W/f/two.txt"
printf 'A perfectly ordinary paragraph about rivers.\n' >"$W/f/clean.txt"
up() { # up ID DATASET FILE
    ctl upload --creator sc --dataset "$2" --key "$W/k.pem" --upload-id "$1" \
        "$3" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}
# Without lists (what would have happened).
up plain-support plain "$W/f/support.txt"
up plain-secret plain "$W/f/secret.txt"
# With them.
up support docs "$W/f/support.txt"
up secret docs "$W/f/secret.txt"
up codename docs "$W/f/codename.txt"
up two docs "$W/f/two.txt"
up blocked strict "$W/f/secret.txt"
it_wait_outcomes 7 60
up clean docs "$W/f/clean.txt"
t0=$(date +%s)
it_wait_outcomes 8 30
it_log "clean upload after the others: outcome within $(($(date +%s) - t0)) s"

content() {
    it_sql "SELECT convert_from(c.data, 'UTF8') FROM contents c JOIN samples s USING (sha256)
            WHERE s.upload_id = '$1'"
}
it_eq "no lists: support number" "$(it_outcome plain-support)" accepted
it_eq "no lists: support number redacted" "$(content plain-support)" \
    "Support: call [REDACTED:PHONE] any time."
it_eq "no lists: project name passes" "$(it_outcome plain-secret)" accepted
it_eq "allow-list: support number" "$(it_outcome support)" accepted
it_eq "allow-list: bytes untouched" "$(content support)" "$(cat "$W/f/support.txt")"
it_eq "allow-list: no findings" \
    "$(it_sql "SELECT scan->>'findings_total' FROM samples WHERE upload_id = 'support'")" 0
it_eq "deny-list: project name" "$(it_outcome secret)" review:pending
findings() {
    it_sql "SELECT string_agg(f->>'rule' || '@' || (f->>'offset') || '+' || (f->>'length'), ' ' ORDER BY o)
            FROM review_items, jsonb_array_elements(findings->'findings') WITH ORDINALITY AS x(f, o)
            WHERE upload_id = '$1'"
}
it_eq "deny-list finding" "$(findings secret)" "dataset_deny@10+19"
it_eq "deny pattern" "$(it_outcome codename)" review:pending
it_eq "deny pattern finding" "$(findings codename)" "dataset_deny@9+18"
it_eq "only the unlisted number redacted" "$(content two)" \
    "Or call +1 800 555 0199, or Jane on [REDACTED:PHONE]."
it_eq "deny-list, blocked" "$(it_outcome blocked)" scan:deny_listed
it_eq "clean upload" "$(it_outcome clean)" accepted
# The denied text is never stored in findings nor in the dead letter.
it_eq "deny-listed text in findings" \
    "$(it_sql "SELECT count(*) FROM review_items WHERE findings::text LIKE '%Nightingale%'")" 0
it_eq "dead letter withholds the bytes" \
    "$(it_committed sluice.rejected '%k %s\n' | grep -c Nightingale)" 0
# --clear-scan-lists empties them.
ctl dataset set docs --clear-scan-lists >/dev/null || it_fail "--clear-scan-lists failed"
it_eq "lists cleared" "$(it_sql "SELECT scan_lists::text FROM datasets WHERE dataset_id = 'docs'")" "{}"
