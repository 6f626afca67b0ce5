#!/usr/bin/env bash
# The feed's Croissant manifest (issue #12) of a dataset committed through
# the real chain (validate -> scan -> license -> commit): files of four
# types under four licenses from two creators, and one taken down.
# `sluicectl dataset manifest` lists exactly the accepted samples in feed
# order and `mlcroissant validate` (1.1.1, the venv deploy/install.sh
# builds from tests/requirements.txt) accepts it with no error and no
# warning.  A consumer whose grant requires commercial rights gets a
# manifest without the non-commercial sample, which validates too; a
# consumer without a live grant gets none.  sluice-feed's
# /v1/datasets/{id}/croissant serves that consumer the same document
# (only the signed URLs' expiry may differ), which validates, and a
# content URL sluicectl signed with the feed's key fetches the sample.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
it_init feed_manifest

MLC=${SLUICE_CACHE_DIR:-$IT_SRC/.cache}/pyenv/bin/mlcroissant
[[ -x $MLC ]] || it_fail "no $MLC: run deploy/install.sh (it builds the Python venv)"

W=$IT_DIR
ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
ctl creator add bob --generate-key "$W/bob.pem" >/dev/null
ctl dataset add mixed --name "Mixed media" --description "Notes, a table, an image and a tone." >/dev/null
for svc in validate scan license commit; do it_start "$svc"; done

mkdir -p "$W/f"
printf 'feed manifest sample: field notes\n' >"$W/f/notes.txt"
printf 'id,colour\n1,red\n2,blue\n' >"$W/f/table.csv"
# a 2x2 PNG with no text chunk (the fixture's carry PII for the scan tests)
python3 - "$W/f/image.png" <<'PY'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
raw = b"".join(b"\0" + bytes([200, 60, 30] * 2) for _ in range(2))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
PY
cp "$IT_SRC/tests/fixtures/tone.wav" "$W/f/tone.wav"
printf 'feed manifest sample: to be taken down\n' >"$W/f/gone.txt"
up() { # up ID CREATOR FILE LICENSE
    ctl upload --creator "$2" --dataset mixed --key "$W/$2.pem" --upload-id "$1" \
        --license "$4" "$W/f/$3" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}
up m-notes alice notes.txt CC-BY-4.0
up m-image bob image.png CC-BY-NC-4.0
up m-table alice table.csv 'MIT OR Apache-2.0'
up m-tone bob tone.wav CC0-1.0
up m-gone alice gone.txt CC-BY-4.0
it_wait_outcomes 5 120
it_eq "accepted" "$(it_sql "SELECT string_agg(upload_id, ',' ORDER BY upload_id) FROM samples")" \
    "m-gone,m-image,m-notes,m-table,m-tone"
ctl takedown add --upload m-gone --reason "test takedown" --by test >/dev/null ||
    it_fail "takedown failed"
ORDER=$(it_sql "SELECT string_agg('sample/' || upload_id, ',' ORDER BY feed_seq)
                  FROM samples WHERE status = 'accepted'")

# validate FILE: mlcroissant must accept it, without a warning either.
validate() {
    "$MLC" validate --jsonld "$1" >"$1.log" 2>&1 || { cat "$1.log" >&2; it_fail "mlcroissant refused $1"; }
    if grep -qi 'warning' "$1.log"; then cat "$1.log" >&2; it_fail "mlcroissant warned about $1"; fi
    it_log "ok: mlcroissant validate $1: no error, no warning"
}
jqf() { jq -r "$1" "$2"; }
# the validator can say no: a file without a checksum in a dataset that is
# not live is an error for it
broken() {
    jq 'del(.distribution[0].sha256) | .isLiveDataset = false' "$1" >"$1.broken.json"
    if "$MLC" validate --jsonld "$1.broken.json" >"$1.broken.log" 2>&1; then
        cat "$1.broken.log" >&2
        it_fail "mlcroissant accepted a FileObject without sha256"
    fi
    grep -q "At least one of these properties should be defined: \['md5', 'sha256'\]" "$1.broken.log" ||
        { cat "$1.broken.log" >&2; it_fail "mlcroissant failed $1.broken.json for another reason"; }
    it_log "ok: mlcroissant refuses the manifest without a checksum"
}

# --- every accepted sample ------------------------------------------------------
ctl dataset manifest mixed --base-url https://feed.example/ -o "$W/all.json" ||
    it_fail "dataset manifest failed"
validate "$W/all.json"
broken "$W/all.json"
it_eq "conformsTo" "$(jqf .conformsTo "$W/all.json")" "http://mlcommons.org/croissant/1.1"
it_eq "name" "$(jqf .name "$W/all.json")" "Mixed media"
it_eq "url" "$(jqf .url "$W/all.json")" "https://feed.example/v1/datasets/mixed"
it_eq "live" "$(jqf .isLiveDataset "$W/all.json")" "true"
it_eq "files in feed order, the withdrawn one left out" \
    "$(jqf '[.distribution[]."@id"] | join(",")' "$W/all.json")" "$ORDER"
it_eq "file count" "$(jqf '.distribution | length' "$W/all.json")" "4"
it_eq "types" "$(jqf '[.distribution[].encodingFormat] | sort | join(",")' "$W/all.json")" \
    "audio/wav,image/png,text/csv,text/plain"
it_eq "licenses" "$(jqf '.license | join(" | ")' "$W/all.json")" \
    "https://spdx.org/licenses/CC-BY-4.0.html | https://spdx.org/licenses/CC-BY-NC-4.0.html | https://spdx.org/licenses/CC0-1.0.html | MIT OR Apache-2.0"
it_eq "creators" "$(jqf '[.creator[].name] | join(",")' "$W/all.json")" "alice,bob"
it_eq "image's license" \
    "$(jqf '.distribution[] | select(."@id" == "sample/m-image") | .license' "$W/all.json")" \
    "https://spdx.org/licenses/CC-BY-NC-4.0.html"
it_eq "notes' sha256" \
    "$(jqf '.distribution[] | select(."@id" == "sample/m-notes") | .sha256' "$W/all.json")" \
    "$(sha256sum "$W/f/notes.txt" | cut -c1-64)"
it_eq "notes' size" \
    "$(jqf '.distribution[] | select(."@id" == "sample/m-notes") | .contentSize' "$W/all.json")" \
    "$(stat -c %s "$W/f/notes.txt") B"
it_eq "notes' URL" \
    "$(jqf '.distribution[] | select(."@id" == "sample/m-notes") | .contentUrl' "$W/all.json")" \
    "https://feed.example/v1/samples/m-notes/content"
it_eq "version (changes . samples)" "$(jqf .version "$W/all.json")" \
    "1.$(it_sql "SELECT coalesce(max(seq), 0) FROM feed_changes WHERE dataset_id = 'mixed'").$(it_sql "SELECT max(feed_seq) FROM samples WHERE status = 'accepted'")"

# --- a consumer whose grant requires commercial use -------------------------------
ctl consumer add buyer >/dev/null || it_fail "consumer add buyer failed"
ctl consumer add stranger >/dev/null || it_fail "consumer add stranger failed"
ctl grant add --consumer buyer --dataset mixed --require-rights commercial >/dev/null ||
    it_fail "grant add failed"
GRANT=$(it_sql "SELECT grant_id FROM grants WHERE consumer_id = 'buyer'")
it_eq "stored require_rights" \
    "$(it_sql "SELECT require_rights FROM grants WHERE consumer_id = 'buyer'")" "{commercial_allowed}"
ctl dataset manifest mixed --consumer buyer -o "$W/buyer.json" ||
    it_fail "dataset manifest --consumer buyer failed"
validate "$W/buyer.json"
it_eq "buyer's files (CC-BY-NC-4.0 image left out)" \
    "$(jqf '[.distribution[]."@id"] | sort | join(",")' "$W/buyer.json")" \
    "sample/m-notes,sample/m-table,sample/m-tone"
it_eq "buyer's licenses" "$(jqf '.license | join(" | ")' "$W/buyer.json")" \
    "https://spdx.org/licenses/CC-BY-4.0.html | https://spdx.org/licenses/CC0-1.0.html | MIT OR Apache-2.0"
it_eq "default base URL" "$(jqf .url "$W/buyer.json")" "http://127.0.0.1:8480/v1/datasets/mixed"

# --- the service's route: the same document ------------------------------------------
fd_start
TOK=$(fd_token buyer)
it_eq "GET croissant" "$(fd_get "$TOK" /v1/datasets/mixed/croissant)" 200
it_eq "croissant type" "$(fd_header Content-Type)" application/ld+json
cp "$IT_DIR/body" "$W/route.json"
validate "$W/route.json"
ctl dataset manifest mixed --consumer buyer --base-url "$FD_URL" \
    -X "feed.url.key.file=$IT_DIR/feed-url.key" -o "$W/signed.json" ||
    it_fail "dataset manifest --consumer buyer (signed) failed"
validate "$W/signed.json"
# both with each contentUrl's expiry and signature cut off
unsign() { jq -S '.distribution[].contentUrl |= sub("&exp=.*$"; "")' "$1"; }
unsign "$W/route.json" >"$W/route.cmp"
unsign "$W/signed.json" >"$W/signed.cmp"
diff -u "$W/route.cmp" "$W/signed.cmp" >&2 || it_fail "route and sluicectl manifests differ"
it_log "ok: the route's manifest is sluicectl's"
it_eq "route's files" "$(jqf '[.distribution[]."@id"] | join(",")' "$W/route.json")" \
    "$(it_sql "SELECT string_agg('sample/' || upload_id, ',' ORDER BY feed_seq) FROM samples
                WHERE status = 'accepted' AND upload_id <> 'm-image'")"
it_eq "route's licenses" "$(jqf '.license | join(" | ")' "$W/route.json")" \
    "https://spdx.org/licenses/CC-BY-4.0.html | https://spdx.org/licenses/CC0-1.0.html | MIT OR Apache-2.0"
# a URL sluicectl signed works on the feed, without the token
URL=$(jqf '.distribution[] | select(."@id" == "sample/m-notes") | .contentUrl' "$W/signed.json")
[[ $URL == "$FD_URL/v1/samples/m-notes/content?c=buyer&exp="*"&sig="* ]] ||
    it_fail "unexpected signed URL $URL"
it_eq "signed URL from sluicectl" "$(curl -s -o "$W/notes.got" -w '%{http_code}' "$URL")" 200
it_eq "its bytes" "$(sha256sum <"$W/notes.got" | cut -c1-64)" "$(sha256sum <"$W/f/notes.txt" | cut -c1-64)"

# no live grant: no manifest, and nothing written
if ctl dataset manifest mixed --consumer stranger -o "$W/stranger.json" 2>"$W/stranger.err"; then
    it_fail "a consumer without a grant got a manifest"
fi
it_eq "stranger refused" "$(cat "$W/stranger.err")" \
    "sluicectl: dataset manifest: consumer \"stranger\" holds no live grant on \"mixed\""
[[ ! -e $W/stranger.json ]] || it_fail "a manifest file was written for the stranger"
# a revoked grant is no grant
ctl grant revoke "$GRANT" >/dev/null || it_fail "grant revoke failed"
ctl dataset manifest mixed --consumer buyer >/dev/null 2>&1 &&
    it_fail "a revoked grant still gave a manifest"
it_log "ok: no manifest without a live grant"
it_log "PASS"
