#!/usr/bin/env bash
# Dead letters always fit, blocked bytes stay out of them, and a message
# no stage can pass on is quarantined instead of stopping the stage.
#  1. An upload of 16 MiB less 700 bytes (the broker takes 16 MiB) from an
#     unregistered creator: its dead letter with the whole value and the
#     sluice-reject-* headers would pass the producer's message.max.bytes,
#     the produce failed locally and validate aborted and retried that
#     batch for ever.  Now the dead letter withholds the value and carries
#     its SHA-256 and size; commit records one rejection with them.
#  2. The same size from a registered creator, with validate configured to
#     take 16 MiB of content: validate accepts it but its output (the
#     value plus the headers validate adds) cannot be produced; it used to
#     retry for ever, now it is dead-lettered once as stage_error.
#  3. Content the scan stage blocks (an SSN, an AWS key) reaches
#     sluice.rejected without its bytes: hash and findings only.
#  4. A text of 16 MiB less 2000 bytes with 9,500 short e-mail addresses: redacting
#     them makes the value 90 KB longer than the stage's output buffer, the
#     scan processor fails on it (SL_FATAL), and the scan stage used to
#     exit on it and crash-loop.  Now it is tried message.max.attempts (3)
#     times across aborts and quarantined as stage_error.
#  5. 14 MiB of value with 14 headers of 120 KiB each (no metadata): the
#     dead letter withholds the value and drops those headers, keeping the
#     key and the sluice-reject-* headers.
# Then every message has exactly one outcome and a clean upload sent last
# is accepted within seconds.  validate -> scan -> commit.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init deadletter

W=$IT_DIR
ctl creator add dl --generate-key "$W/k.pem" >/dev/null
ctl creator add spare --generate-key "$W/ghost.pem" >/dev/null   # only for its key
ctl dataset add dl-ds >/dev/null
MAX=16777216                # broker message.max.bytes, topic max.message.bytes
SIZE=$((MAX - 700))
head -c "$SIZE" /dev/urandom >"$W/big.bin"
cp "$W/big.bin" "$W/big2.bin"; printf 'x' | dd of="$W/big2.bin" bs=1 seek=0 conv=notrunc 2>/dev/null
SHA_BIG=$(sha256sum "$W/big.bin" | cut -c1-64)
SHA_BIG2=$(sha256sum "$W/big2.bin" | cut -c1-64)
mkdir -p "$W/f"
printf 'SSN: 123-45-6789 on file.\n' >"$W/f/ssn.txt"
printf 'the deploy key AKIAQWERTYUIOPASDFGH leaked\n' >"$W/f/aws.txt"
printf 'A clean paragraph sent after the hostile ones.\n' >"$W/f/clean.txt"
MSIZE=$((MAX - 2000))        # validate can pass it on, with its headers
python3 - "$W/mails.txt" "$MSIZE" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
head = b"a@b.io\n" * 9500
filler = b"the quick brown fox jumps over the lazy dog\n"
body = head + filler * ((size - len(head)) // len(filler) + 1)
open(path, "wb").write(body[:size - 1] + b"\n")
PY
SHA_MAILS=$(sha256sum "$W/mails.txt" | cut -c1-64)

up() { # up ID CREATOR KEY FILE [options]
    local id=$1 cr=$2 key=$3 file=$4; shift 4
    ctl upload --creator "$cr" --dataset dl-ds --key "$key" --upload-id "$id" \
        "$@" "$file" >/dev/null 2>>"$W/upload.log" || it_fail "upload $id failed"
}
rejected() { # the dead letters, read committed, one line each
    it_committed sluice.rejected "$1"
}

# What would have happened: the upload itself fits the broker, but a dead
# letter of it with the reject headers (about 250 bytes of names and
# values, plus the detail) does not fit the producer's message.max.bytes.
up ghost ghost "$W/ghost.pem" "$W/big.bin" --content-type application/octet-stream
up poison dl "$W/k.pem" "$W/big2.bin" --content-type application/octet-stream
in_sizes=$(kcat -C -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.uploads" -e -q \
    -f '%S %k\n' 2>/dev/null | sort -k2 | tr '\n' ' ')
it_eq "both uploads are on the broker, whole" "$in_sizes" "$SIZE ghost $SIZE poison "
((SIZE + 700 + 250 > MAX)) || it_fail "the dead letter would have fitted: not a reproduction"

it_start validate -X validate.content.max.bytes=16m
it_start scan
it_start commit -X input.topics=sluice.scanned,sluice.flagged,sluice.rejected
up ssn dl "$W/k.pem" "$W/f/ssn.txt"
up aws dl "$W/k.pem" "$W/f/aws.txt"
up mails dl "$W/k.pem" "$W/mails.txt" --content-type text/plain
head -c $((14 << 20)) /dev/urandom >"$W/hdrs.bin"
filler=$(head -c 122880 /dev/zero | tr '\0' 'h')
hargs=()
for i in $(seq 1 14); do hargs+=(-H "x-bulk-$i=$filler"); done
kcat -P -b "$SLUICE_KAFKA_BROKERS" -t "${IT_PREFIX}sluice.uploads" -k hdrs \
    -X message.max.bytes=16777216 "${hargs[@]}" "$W/hdrs.bin" 2>>"$W/upload.log" ||
    it_fail "producing the upload with bulky headers failed"
it_wait_outcomes 6 60

t0=$(date +%s%N)
up clean dl "$W/k.pem" "$W/f/clean.txt"
it_wait_outcomes 7 30
ms=$((($(date +%s%N) - t0) / 1000000))
it_log "clean upload accepted ${ms} ms after it was sent"
((ms < 10000)) || it_fail "the clean upload took ${ms} ms"
sleep 1

outcome() {
    it_sql "SELECT 'accepted' FROM samples WHERE upload_id = '$1'
            UNION ALL SELECT stage || ':' || code || ':' || sha256 || ':' || size
                FROM rejections WHERE upload_id = '$1'"
}
it_eq "outcomes" "$(it_sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections) + (SELECT count(*) FROM review_items)")" 7
it_eq "oversized from a stranger" "$(outcome ghost)" "validate:creator_unknown:$SHA_BIG:$SIZE"
it_eq "oversized output" "$(outcome poison)" "validate:stage_error:$SHA_BIG2:$SIZE"
it_eq "stage_error detail" \
    "$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'poison'")" \
    "validate: its output ($SIZE bytes of value, and headers) is larger than the producer's message.max.bytes"
it_eq "SSN" "$(outcome ssn)" "scan:pii_blocked:$(sha256sum "$W/f/ssn.txt" | cut -c1-64):26"
it_eq "AWS key" "$(outcome aws)" "scan:secret_blocked:$(sha256sum "$W/f/aws.txt" | cut -c1-64):43"
it_eq "clean" "$(outcome clean)" accepted
it_eq "redaction past the output buffer" "$(outcome mails)" "scan:stage_error:$SHA_MAILS:$MSIZE"
it_eq "its detail" "$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'mails'")" \
    "scan failed on this message 3 times: no detail given"
it_eq "scan retried it twice first" "$(grep -c 'attempt [12] of 3' "$W/scan.log")" 2
kill -0 "${IT_PIDS[scan]}" 2>/dev/null || it_fail "the scan stage exited"
# A withheld value does not break provenance: the chain continues from the
# refused value's hash, and the audit recomputes it.
it_eq "ssn provenance" "$(it_sql "SELECT string_agg(stage || ':' || outcome, ',' ORDER BY seq)
    FROM provenance_events WHERE owner_kind = 'rejection' AND canonical LIKE '%\"upload_id\":\"ssn\"%'")" \
    "validate:accepted,scan:rejected,commit:rejected"
"$IT_BIN/sluicectl" audit verify --all >"$W/audit.out" 2>&1 || it_fail "audit verify: $(cat "$W/audit.out")"

# The dead letters as they are on the topic: no value, its hash and size.
it_eq "dead letters: key, value size, value form" \
    "$(rejected '%k %S\n' | sort | tr '\n' ' ')" "aws 0 ghost 0 hdrs 0 mails 0 poison 0 ssn 0 "
for id in ghost poison ssn aws; do
    h=$(rejected '%k %h\n' | grep "^$id ")
    [[ $h == *"sluice-reject-value=withheld"* ]] || it_fail "$id: no sluice-reject-value=withheld in: ${h:0:300}"
done
it_eq "ghost: value hash header" \
    "$(rejected '%k %h\n' | grep '^ghost ' | grep -o 'sluice-reject-value-sha256=[0-9a-f]*')" \
    "sluice-reject-value-sha256=$SHA_BIG"
it_eq "bulky headers: validate's verdict" \
    "$(it_sql "SELECT stage || ':' || code || ':' || size FROM rejections WHERE upload_id = 'hdrs'")" \
    "validate:headers_too_large:$((14 << 20))"
it_eq "bulky headers: what the dead letter kept" \
    "$(rejected '%k %h\n' | grep '^hdrs ' | grep -o -e 'x-bulk-[0-9]*' -e 'sluice-reject-headers=[a-z]*' -e 'sluice-reject-value=[a-z]*' | tr '\n' ' ')" \
    "sluice-reject-value=withheld sluice-reject-headers=dropped "
it_eq "ssn: findings kept" "$(rejected '%k %h\n' | grep '^ssn ' | grep -c '"rule":"us_ssn"')" 1
it_eq "blocked bytes in sluice.rejected" \
    "$(rejected '%s %h\n' | grep -c -e '123-45-6789' -e 'AKIAQWERTYUIOPASDFGH')" 0
grep -q 'quarantined' "$W/validate.log" || it_fail "validate did not log the quarantine"
it_eq "validate aborted no transaction" "$(grep -c 'aborting transaction' "$W/validate.log")" 0

# The operator's opt-in: with dead_letter.keep.blocked=true the blocked
# bytes are kept in the dead letter (and said to be whole).
it_kill scan TERM
it_start scan -X dead_letter.keep.blocked=true
printf 'SSN again: 123-45-6789.\n' >"$W/f/ssn2.txt"
up ssn2 dl "$W/k.pem" "$W/f/ssn2.txt"
it_wait_outcomes 8 30
it_eq "kept blocked dead letter: size and form" \
    "$(rejected '%k %S %h\n' | grep '^ssn2 ' | grep -o '^ssn2 [0-9]*\|sluice-reject-value=[a-z]*' | tr '\n' ' ')" \
    "ssn2 24 sluice-reject-value=whole "
