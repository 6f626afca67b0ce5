#!/usr/bin/env bash
# Text inside documents and archives, end to end (issue 14, "Document and
# archive text"), with the fixtures of tests/fixtures/make_doc_fixtures.py.
#
# The attack, reproduced first: before this change the scan stage read a
# PDF's info dictionary only and nothing inside a zip, a tar.gz or a DOCX
# (coverage "none"), so an SSN on page 2 of a PDF, in a Word document or
# two zips deep went through unseen; and bomb.zip (32 KiB) inflates to
# 32 MiB, bomb_nested.zip is eight zips deep -- a reader that expanded
# members into memory would hold it all.  Now:
#   - the PDF (SSN in its page text), the DOCX (SSN split over two runs)
#     and the nested zip (SSN in inner.zip!/deep/ssn.txt) are blocked
#     (pii_blocked), each detail naming the page or member;
#   - the tar.gz (an e-mail address in docs/b.txt) is flagged for review
#     and its finding names the member;
#   - both bombs are refused with archive_bomb and the limit in the detail;
#   - every upload has exactly one outcome and a clean upload sent after
#     them is accepted within seconds.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init scan_documents

W=$IT_DIR
F=$IT_SRC/tests/fixtures

# ---- the attack: what these files hold --------------------------------------
it_eq "bomb.zip expands" "$(python3 -c '
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1]); i = z.infolist()[0]
print(i.filename, i.compress_size, i.file_size, i.file_size // i.compress_size)' "$F/bomb.zip")" \
    "zeros.bin 32617 33554432 1028"
it_eq "bomb_nested.zip depth" "$(python3 -c '
import io, sys, zipfile
d, depth = open(sys.argv[1], "rb").read(), 0
while d[:4] == b"PK\x03\x04":
    z = zipfile.ZipFile(io.BytesIO(d)); d = z.read(z.namelist()[0]); depth += 1
print(depth, d.decode().strip())' "$F/bomb_nested.zip")" "8 the middle"
it_eq "the SSN two zips deep" "$(python3 -c '
import io, sys, zipfile
inner = zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(sys.argv[1]).read("inner.zip")))
print(inner.read("deep/ssn.txt").decode().strip())' "$F/nested.zip")" "record: SSN 123-45-6789"

# ---- through the pipeline ------------------------------------------------------
ctl creator add docs --generate-key "$W/k.pem" >/dev/null
ctl dataset add papers --allowed-types "@text,@document,@archive" >/dev/null

it_start validate
it_start scan
it_start commit -X input.topics=sluice.scanned,sluice.flagged,sluice.rejected

up() { # up ID FILE CONTENT-TYPE
    ctl upload --creator docs --dataset papers --key "$W/k.pem" --upload-id "$1" \
        --content-type "$3" "$2" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}
up pdf "$F/doc_pages.pdf" application/pdf
up docx "$F/doc.docx" application/vnd.openxmlformats-officedocument.wordprocessingml.document
up zip "$F/nested.zip" application/zip
up targz "$F/docs.tar.gz" application/gzip
up bomb "$F/bomb.zip" application/zip
up deep "$F/bomb_nested.zip" application/zip
it_wait_outcomes 6 60
t0=$(date +%s%N)
printf 'A perfectly ordinary paragraph about rivers and the sea.\n' >"$W/clean.txt"
up clean "$W/clean.txt" text/plain
it_wait_outcomes 7 30
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
it_log "clean upload's outcome after ${ms} ms"
((ms < 15000)) || it_fail "the clean upload took ${ms} ms"
sleep 1

detail() { it_sql "SELECT detail FROM rejections WHERE upload_id = '$1'"; }

it_eq "pdf" "$(it_outcome pdf)" scan:pii_blocked
it_eq "pdf detail" "$(detail pdf)" "rule us_ssn (us_ssn) matched in pdf:page:2 at byte 23, length 11"
it_eq "docx" "$(it_outcome docx)" scan:pii_blocked
it_eq "docx detail" "$(detail docx)" \
    "rule us_ssn (us_ssn) matched in docx:text of member word/document.xml at byte 13, length 11"
it_eq "zip" "$(it_outcome zip)" scan:pii_blocked
it_eq "zip detail" "$(detail zip)" \
    "rule us_ssn (us_ssn) matched in text of member inner.zip!/deep/ssn.txt at byte 12, length 11"
it_eq "tar.gz" "$(it_outcome targz)" review:pending
it_eq "tar.gz finding" "$(it_sql "SELECT f->>'rule' || ' in ' || (f->>'source') || ' of ' ||
        (f->>'member') || ', coverage ' || (findings->>'coverage')
        FROM review_items, jsonb_array_elements(findings->'findings') f
        WHERE upload_id = 'targz'")" "email in text of docs/b.txt, coverage full"
it_eq "bomb" "$(it_outcome bomb)" scan:archive_bomb
it_eq "bomb detail" "$(detail bomb)" \
    "archive expands more than 200 times its 32733 bytes at member zeros.bin (scan.archive.max.ratio)"
it_eq "nested bomb" "$(it_outcome deep)" scan:archive_bomb
it_eq "nested bomb detail" "$(detail deep)" \
    "archives nested deeper than 4 levels (scan.archive.max.depth)"
it_eq "clean upload after them" "$(it_outcome clean)" accepted
it_eq "one outcome per upload" \
    "$(it_sql "SELECT string_agg(u || '=' || n, ' ' ORDER BY u) FROM (
                 SELECT upload_id u, count(*) n FROM (
                   SELECT upload_id FROM samples UNION ALL SELECT upload_id FROM review_items
                   UNION ALL SELECT upload_id FROM rejections) a GROUP BY upload_id) b")" \
    "bomb=1 clean=1 deep=1 docx=1 pdf=1 targz=1 zip=1"
it_eq "scan still running" "$(kill -0 "${IT_PIDS[scan]}" 2>/dev/null && echo yes || echo no)" yes
