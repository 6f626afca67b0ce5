#!/usr/bin/env bash
# The README's "upload with only kcat and openssl" example, run verbatim:
# the block between the markers <!-- kcat-example:begin --> and
# <!-- kcat-example:end --> in README.md is extracted and executed, so the
# documentation cannot drift from what the pipeline accepts.  Then the same
# by hand with an HMAC-SHA256 creator, and a one-byte tamper of each.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init kcat

cd "$IT_DIR"
"$IT_BIN/sluicectl" creator add demo --generate-key demo.pem >/dev/null
"$IT_BIN/sluicectl" dataset add demo-ds >/dev/null
printf 'Hello from a creator who only has kcat and openssl.\n' >hello.txt

sed -n '/<!-- kcat-example:begin -->/,/<!-- kcat-example:end -->/p' \
    "$IT_SRC/README.md" | sed '/^```/d;/^<!--/d' >example.sh
grep -q 'openssl pkeyutl' example.sh || it_fail "README example block not found"
# shellcheck disable=SC1091
. ./example.sh || it_fail "the README example failed"
readme_id=$UPLOAD_ID

# HMAC-SHA256 creator, signature from `openssl dgst -hmac`-style MAC.
openssl rand -hex 32 >hmac.hex
python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex(open('hmac.hex').read().strip()))" >hmac.secret
"$IT_BIN/sluicectl" creator add hmacker --hmac-secret-file hmac.secret >/dev/null
produce_hmac() { # ID FILE TAMPER(0|1)
    local id=$1 file=$2 tamper=$3 sha meta mac
    sha=$(openssl dgst -sha256 -r "$file" | cut -c1-64)
    meta=$(printf '{"schema_version":1,"upload_id":"%s","creator_id":"hmacker","dataset_id":"demo-ds","content_type":"text/plain","license":{"expression":"MIT"},"attestation":{"version":1,"rights_holder":true},"created_at":"%s"}' \
        "$id" "$(date -u +%Y-%m-%dT%H:%M:%SZ)")
    mac=$(printf 'sluice-upload-v1\n%s\n%s' "$sha" "$meta" |
        openssl mac -digest SHA256 -macopt "hexkey:$(cat hmac.hex)" HMAC |
        tr 'A-F' 'a-f')
    if ((tamper)); then   # flip the last hex digit of the MAC
        case ${mac: -1} in 0) t=1 ;; *) t=0 ;; esac
        mac=${mac%?}$t
    fi
    kcat -b "$SLUICE_KAFKA_BROKERS" -P -t "${IT_PREFIX}sluice.uploads" -k "$id" \
        -H "sluice-meta=$meta" -H "sluice-sig=hmac-sha256=$mac" "$file"
}
printf 'HMAC-signed sample\n' >h1.txt
printf 'HMAC-signed sample, tampered MAC\n' >h2.txt
produce_hmac hmac-ok h1.txt 0
produce_hmac hmac-bad h2.txt 1

# Ed25519 with one byte of the content changed after signing.
sed -e 's/^FILE=hello.txt/FILE=hello2.txt/' -e 's/kcat -P/: kcat -P/' example.sh >sign-only.sh  # sign only
printf 'Another sample, altered in transit.\n' >hello2.txt
# shellcheck disable=SC1091
. ./sign-only.sh
printf 'X' | dd of="$FILE" bs=1 seek=0 conv=notrunc status=none
kcat -b "$SLUICE_KAFKA_BROKERS" -P -t "${IT_PREFIX}sluice.uploads" -k "$UPLOAD_ID" \
    -H "sluice-meta=$META" -H "sluice-sig=ed25519=$SIG" "$FILE"
tampered_id=$UPLOAD_ID

it_start validate
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"
it_wait_outcomes 4 120

it_eq "README upload accepted" \
    "$(it_sql "SELECT creator_id || '/' || dataset_id || '/' || sha256 FROM samples WHERE upload_id = '$readme_id'")" \
    "demo/demo-ds/$(sha256sum hello.txt | cut -c1-64)"
it_eq "HMAC upload accepted" \
    "$(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'hmac-ok'")" 1
it_eq "tampered MAC" \
    "$(it_sql "SELECT code FROM rejections WHERE upload_id = 'hmac-bad'")" signature_invalid
# The signed sha256 no longer matches the bytes: the signature is checked
# first (over the hash of the bytes received), so the tamper is a bad
# signature, not a hash mismatch.
it_eq "tampered content" \
    "$(it_sql "SELECT code FROM rejections WHERE upload_id = '$tampered_id'")" signature_invalid
