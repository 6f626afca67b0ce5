#!/usr/bin/env bash
# The scan stage end to end: uploads with each kind of finding land as
# accepted, redacted, flagged (review items) or rejected as the rules'
# defaults and the datasets' policies say; file types are checked against
# the declaration and the dataset's allowed types; metadata text in images
# is scanned and EXIF GPS is a finding.  validate -> scan -> commit.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init scan

W=$IT_DIR
F=$IT_SRC/tests/fixtures
ctl creator add sc --generate-key "$W/k.pem" >/dev/null
ctl dataset add plain >/dev/null
ctl dataset add strict >/dev/null
ctl dataset set strict --scan-action email=flag --scan-action ipv4=block >/dev/null
ctl dataset add photos >/dev/null
ctl dataset set photos --allowed-types "image/*" >/dev/null
ctl dataset add tools >/dev/null
ctl dataset set tools --allowed-types "@executable,@text" >/dev/null

it_start validate
it_start scan
COMMIT_OPTS=(-X input.topics=sluice.scanned,sluice.flagged,sluice.rejected)
it_start commit "${COMMIT_OPTS[@]}"

mkdir -p "$W/f"
printf 'A perfectly ordinary paragraph about rivers and the sea.\n' >"$W/f/clean.txt"
printf 'Write to jane.doe@example.com for the minutes.\n' >"$W/f/email.txt"
printf 'the deploy key AKIAQWERTYUIOPASDFGH leaked\n' >"$W/f/aws.txt"
printf 'SSN: 123-45-6789 on file.\n' >"$W/f/ssn.txt"
printf 'The server at 192.168.10.20 answered.\n' >"$W/f/ip.txt"
printf 'Also mail jane.doe@example.com please.\n' >"$W/f/email2.txt"
printf 'this is text, not a picture\n' >"$W/f/fake.png"
printf 'Ping 10.1.2.3 then stop.\n' >"$W/f/ip2.txt"

up() { # up ID DATASET FILE [options]
    local id=$1 ds=$2 file=$3; shift 3
    ctl upload --creator sc --dataset "$ds" --key "$W/k.pem" --upload-id "$id" \
        "$@" "$file" >/dev/null 2>>"$W/upload.log" || it_fail "upload $id failed"
}
up clean plain "$W/f/clean.txt"
up email plain "$W/f/email.txt"
up aws plain "$W/f/aws.txt"
up ssn plain "$W/f/ssn.txt"
up ip plain "$W/f/ip.txt"
up email2 strict "$W/f/email2.txt"
up ip2 strict "$W/f/ip2.txt"
up fakepng plain "$W/f/fake.png" --content-type image/png
up elf plain "$F/exit0.elf" --content-type application/octet-stream
up elf2 tools "$F/exit0.elf" --content-type application/x-executable
up png photos "$F/image.png" --content-type image/png
up jpeg photos "$F/photo_exif.jpg" --content-type image/jpeg
up nods nosuchdataset "$W/f/clean.txt"

it_wait_outcomes 13 120
sleep 1
it_eq "clean text" "$(it_outcome clean)" accepted
it_eq "clean text type" "$(it_sql "SELECT detected_type FROM samples WHERE upload_id = 'clean'")" text/plain
it_eq "email (default redact)" "$(it_outcome email)" accepted
it_eq "redacted bytes" \
    "$(it_sql "SELECT convert_from(c.data, 'UTF8') FROM contents c JOIN samples s USING (sha256) WHERE s.upload_id = 'email'")" \
    "Write to [REDACTED:EMAIL] for the minutes."
it_eq "original hash kept" \
    "$(it_sql "SELECT original_sha256 FROM samples WHERE upload_id = 'email'")" \
    "$(sha256sum "$W/f/email.txt" | cut -c1-64)"
it_eq "redaction event" \
    "$(it_sql "SELECT outcome FROM provenance_events WHERE owner_id = 'email' AND stage = 'scan'")" redacted
it_eq "AWS key" "$(it_outcome aws)" scan:secret_blocked
it_eq "SSN" "$(it_outcome ssn)" scan:pii_blocked
it_eq "IPv4 (default flag)" "$(it_outcome ip)" review:pending
it_eq "review findings" \
    "$(it_sql "SELECT f->>'rule' || '@' || (f->>'offset') || '+' || (f->>'length') FROM review_items, jsonb_array_elements(findings->'findings') f WHERE upload_id = 'ip'")" \
    "ipv4@14+13"
it_eq "dataset override: email flagged" "$(it_outcome email2)" review:pending
it_eq "dataset override: ipv4 blocked" "$(it_outcome ip2)" scan:pii_blocked
it_eq "declared png, text bytes" "$(it_outcome fakepng)" scan:type_mismatch
it_eq "executable, default policy" "$(it_outcome elf)" scan:type_not_allowed
it_eq "executable, allowed" "$(it_outcome elf2)" accepted
it_eq "PNG with an email in a text chunk" "$(it_outcome png)" review:pending
findings() { # rule@source of each finding of a review item, in order
    it_sql "SELECT string_agg(f->>'rule' || '@' || (f->>'source'), ' ' ORDER BY o)
            FROM review_items, jsonb_array_elements(findings->'findings') WITH ORDINALITY AS x(f, o)
            WHERE upload_id = '$1'"
}
it_eq "PNG findings and their sources" "$(findings png)" \
    "email@png:tEXt:Comment phone_e164@png:zTXt:Description"
it_eq "JPEG with EXIF GPS" "$(it_outcome jpeg)" review:pending
it_eq "JPEG findings and their sources" "$(findings jpeg)" \
    "email@exif:ImageDescription email@xmp email@jpeg:COM gps_location@exif:GPS"
it_eq "unknown dataset" "$(it_outcome nods)" scan:dataset_unknown
it_eq "status: pending review items" \
    "$(ctl status --json 2>/dev/null | jq '.review_items.by_state.pending')" 4
# Never the matched value itself: not in findings, logs or dead letters.
# Every value a rule matched above, in the text files and the images.
printf '%s\n' jane.doe@example.com 192.168.10.20 AKIAQWERTYUIOPASDFGH 123-45-6789 \
    10.1.2.3 '+1 415 555 0100' bob@example.net jane@example.org >"$W/matched.txt"
if it_sql "SELECT findings::text FROM review_items UNION ALL SELECT scan::text FROM samples WHERE scan IS NOT NULL" |
    grep -qF -f "$W/matched.txt"; then
    it_fail "a matched value was stored in the findings"
fi
if grep -qF -f "$W/matched.txt" "$W"/*.log; then
    it_fail "a matched value reached a service log"
fi
# The dead letters as a consumer of sluice.rejected sees them (committed
# only): one per rejected upload, and no matched value in a key, a header
# or a value.
rejected() { # FORMAT: the dead letters, read committed
    it_committed sluice.rejected "$1" ||
        it_fail "reading sluice.rejected failed"
}
it_eq "dead letters" "$(rejected '%k\n' | sort | tr '\n' ' ')" "aws elf fakepng ip2 nods ssn "
it_eq "lines of dead letters holding a matched value" \
    "$(rejected '%k %h %s\n' | grep -cF -f "$W/matched.txt")" 0
it_eq "audit verify" "$("$IT_BIN/sluicectl" audit verify --all >/dev/null 2>&1; echo $?)" 0

# --- samples.scan (029_samples_scan_json.sql) --------------------------------
# json holding each accepted sample's sluice-scan header byte for byte, as
# commit received it on sluice.scanned.  Then the old layout (jsonb) put
# back and 029 applied again: every sample keeps the same JSON, ->> reads
# it, audit verify stays clean, and commit stores after it.
scan_type() {
    it_sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
            WHERE attrelid = 'samples'::regclass AND attname = 'scan'"
}
scan_headers() { # "id<TAB>sluice-scan header" of each committed record
    it_committed sluice.scanned --json |
        jq -r '.headers as $h
               | "\(.key)\t\([range(0; $h | length; 2) | select($h[.] == "sluice-scan") | $h[. + 1]][0])"' |
        LC_ALL=C sort
}
stored_scans() {
    it_sql "SELECT upload_id || E'\t' || scan::text FROM samples WHERE scan IS NOT NULL ORDER BY 1"
}
as_jsonb() {
    it_sql "SELECT string_agg(upload_id || '=' || scan::jsonb::text, ';' ORDER BY upload_id) FROM samples"
}
it_eq "samples.scan is json" "$(scan_type)" json
it_eq "accepted samples with a stored scan" \
    "$(it_sql "SELECT count(*) FROM samples WHERE scan IS NOT NULL")" "$(scan_headers | grep -c .)"
it_eq "each stored scan is its sluice-scan header's bytes" "$(stored_scans)" "$(scan_headers)"

it_kill commit
before=$(as_jsonb)
it_sql "ALTER TABLE samples ALTER COLUMN scan TYPE jsonb USING scan::jsonb;
        DELETE FROM schema_migrations WHERE name LIKE '029\_%'" >/dev/null
it_eq "the old layout" "$(scan_type)" jsonb
it_eq "migrate applies 029 again" \
    "$(SLUICE_PG_DSN=$IT_OWNER_DSN "$IT_BIN/sluicectl" db migrate)" "applied 1 migrations"
it_eq "json after the migration" "$(scan_type)" json
it_eq "every sample keeps its scan as JSON" "$(as_jsonb)" "$before"
it_eq "->> after the migration" \
    "$(it_sql "SELECT scan->>'outcome' FROM samples WHERE upload_id = 'clean'")" accepted
it_eq "audit verify after the migration" \
    "$("$IT_BIN/sluicectl" audit verify --all >/dev/null 2>&1; echo $?)" 0

it_start commit "${COMMIT_OPTS[@]}"
printf 'Another ordinary paragraph, about hills.\n' >"$W/f/clean2.txt"
up clean2 plain "$W/f/clean2.txt"
it_wait_outcomes 14 120
it_eq "stored after the migration: the header's bytes" \
    "$(stored_scans | grep -P '^clean2\t')" "$(scan_headers | grep -P '^clean2\t')"
