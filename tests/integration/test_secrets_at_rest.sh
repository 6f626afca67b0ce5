#!/usr/bin/env bash
# Issue #9: HMAC secrets encrypted at rest, and key files that are never
# written through a symbolic link or over an existing file.
#
#  - `creator add --hmac-secret-file` stores the secret sealed
#    (hmac_secret_box, crypto_secretbox under secrets.key.file, created mode
#    0600) and leaves key_material empty; the secret's bytes are nowhere in
#    the row.  validate checks the creator's uploads with it.
#  - A row as migration 011 leaves those written before it (plaintext in
#    key_material, no box) is what anyone who can read creators could sign
#    with: validate refuses it (logged), `creator seal-secrets` seals it and
#    the creator's next upload is accepted.
#  - `creator add --generate-key` onto a symbolic link or an existing file,
#    and a secrets key file that is a symbolic link, are refused with a
#    clear error and touch nothing.
#  Then a clean upload is accepted within seconds.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init secrets

cd "$IT_DIR"

ctl dataset add ds >/dev/null
head -c 32 /dev/urandom >hugo.secret
ctl creator add hugo --hmac-secret-file hugo.secret >/dev/null 2>err
grep -q "created the secrets key file secrets.key" err || it_fail "no key file notice: $(cat err)"
it_eq "secrets key file mode" "$(stat -c %a secrets.key)" 600
it_eq "secrets key file size" "$(stat -c %s secrets.key)" 65
hex=$(od -An -tx1 hugo.secret | tr -d ' \n')
it_eq "hugo's row" "$(it_sql "SELECT octet_length(key_material) || '/' || octet_length(hmac_secret_box)
        || '/' || position('\\x$hex'::bytea IN hmac_secret_box) FROM creators WHERE creator_id = 'hugo'")" "0/78/0"
it_has "creator list" "$(ctl creator list)" "(secret, sealed)"

# A row written before migration 011: the secret in plaintext.
head -c 32 /dev/urandom >legacy.secret
lhex=$(od -An -tx1 legacy.secret | tr -d ' \n')
it_sql "INSERT INTO creators (creator_id, key_alg, key_material) VALUES ('legacy', 'hmac-sha256', '\\x$lhex'::bytea)"
it_has "creator list, plaintext" "$(ctl creator list)" "(secret in plaintext: run \`creator seal-secrets\`)"

it_start validate
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"
up() { # up ID CREATOR SECRETFILE FILE
    ctl upload --creator "$2" --dataset ds --hmac-secret-file "$3" --upload-id "$1" "$4" \
        2>>upload.log >/dev/null || it_fail "sluicectl upload $1 failed"
}
printf 'hugo signs with a sealed secret\n' >h1.txt
printf 'legacy signs with a plaintext secret\n' >l1.txt
printf 'legacy again, sealed now\n' >l2.txt
up hugo-1 hugo hugo.secret h1.txt
up legacy-1 legacy legacy.secret l1.txt
it_wait_outcomes 2 60
it_eq "sealed HMAC creator accepted" "$(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'hugo-1'")" 1
it_eq "plaintext secret refused" "$(it_sql "SELECT code FROM rejections WHERE upload_id = 'legacy-1'")" creator_disabled
grep -q "creator legacy has an unusable key: its HMAC secret is stored in plaintext" "$IT_DIR/validate.log" ||
    it_fail "validate did not log the plaintext secret"

it_eq "seal-secrets" "$(ctl creator seal-secrets)" "sealed 1 HMAC secret"
it_eq "legacy's row sealed" "$(it_sql "SELECT octet_length(key_material) || '/' || (hmac_secret_box IS NOT NULL)
        || '/' || position('\\x$lhex'::bytea IN hmac_secret_box) FROM creators WHERE creator_id = 'legacy'")" "0/true/0"
it_eq "seal-secrets again" "$(ctl creator seal-secrets)" "sealed 0 HMAC secrets"
sleep 1.2   # past validate.creator.recheck.ms
up legacy-2 legacy legacy.secret l2.txt
it_wait_outcomes 3 60
it_eq "sealed legacy creator accepted" "$(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'legacy-2'")" 1

# --- key files ------------------------------------------------------------------
printf 'precious\n' >target.txt
ln -s target.txt link.pem
it_rc ctl creator add eve --generate-key link.pem
it_eq "--generate-key onto a symlink: exit" "$RC" 1
it_has "--generate-key onto a symlink" "$(cat err)" "link.pem already exists; refusing to overwrite a key file"
it_eq "symlink target untouched" "$(cat target.txt)" precious
it_eq "eve not added" "$(it_sql "SELECT count(*) FROM creators WHERE creator_id = 'eve'")" 0
it_rc ctl creator add eve --generate-key target.txt
it_eq "--generate-key onto a file: exit" "$RC" 1
it_eq "file untouched" "$(cat target.txt)" precious
ln -s target.txt eve.pem.pub   # the public half's path is a link
it_rc ctl creator add eve --generate-key eve.pem
it_eq "--generate-key, public path a symlink: exit" "$RC" 1
[[ ! -e eve.pem ]] || it_fail "eve.pem left behind"
rm eve.pem.pub
ctl creator add eve --generate-key eve.pem >/dev/null
it_eq "private key mode" "$(stat -c %a eve.pem)" 600
ln -s secrets.key other.key
it_rc ctl -X secrets.key.file=other.key creator add mallory --hmac-secret-file hugo.secret
it_eq "secrets key file a symlink: exit" "$RC" 1
it_has "secrets key file a symlink" "$(cat err)" "other.key: is a symbolic link; refusing to follow it"
ln -s nowhere.key dangling.key
it_rc ctl -X secrets.key.file=dangling.key creator add mallory --hmac-secret-file hugo.secret
it_eq "secrets key file a dangling symlink: exit" "$RC" 1
[[ ! -e nowhere.key ]] || it_fail "created a key file through a dangling link"
it_eq "mallory not added" "$(it_sql "SELECT count(*) FROM creators WHERE creator_id = 'mallory'")" 0

# --- the pipeline still flows ---------------------------------------------------
printf 'a clean sample\n' >clean.txt
up clean-1 hugo hugo.secret clean.txt
it_wait_outcomes 4 30
it_eq "clean upload accepted" "$(it_sql "SELECT count(*) FROM samples WHERE upload_id = 'clean-1'")" 1
it_eq "outcomes: samples/rejections" "$(it_sql "SELECT (SELECT count(*) FROM samples) || '/' || (SELECT count(*) FROM rejections)")" "3/1"
