#!/usr/bin/env bash
# Each bound license record stored once (027_license_records.sql): samples
# bound under one license share one license_records row, named by key
# from samples.license_sha256, another license has its own, and later
# batches add none for a record already stored.  Then the migration from the old layout (the record as jsonb on
# every samples row): the chain's rows put back in that form, migration
# 027 applied again by `sluicectl db migrate` moves each distinct record
# once, every sample reads the same record as before, `audit verify` stays
# clean, and commit goes on storing after it.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init license_records

W=$IT_DIR
ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
ctl dataset add ds1 >/dev/null

for svc in validate scan license commit; do it_start "$svc"; done

mkdir -p "$W/f"
n=0
up() { # up ID LICENSE
    n=$((n + 1))
    printf 'license record sample %d\n' "$n" >"$W/f/$n.txt"
    ctl upload --creator alice --dataset ds1 --key "$W/alice.pem" --upload-id "$1" \
        --license "$2" "$W/f/$n.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}
# the record of sample alias s, as readers take it
REC="(SELECT l.record FROM license_records l WHERE l.sha256 = s.license_sha256)"

up a1 CC-BY-4.0
up a2 CC-BY-4.0
up a3 CC-BY-4.0
up m1 MIT
it_wait_outcomes 4 120
it_eq "accepted" "$(it_sql "SELECT count(*) FROM samples")" 4
it_eq "one record a license" "$(it_sql "SELECT count(*) FROM license_records")" 2
it_eq "every sample names a stored record" \
    "$(it_sql "SELECT count(*) FROM samples s WHERE $REC IS NULL")" 0
it_eq "the records" \
    "$(it_sql "SELECT string_agg(upload_id || ':' || ($REC ->> 'expression'), ',' ORDER BY upload_id)
               FROM samples s")" "a1:CC-BY-4.0,a2:CC-BY-4.0,a3:CC-BY-4.0,m1:MIT"
it_eq "the key is the SHA-256 of the record's text" \
    "$(it_sql "SELECT count(*) FROM license_records WHERE sha256 !~ '^[0-9a-f]{64}$'")" 0

# A later batch under a stored record adds no row.
up a4 CC-BY-4.0
it_wait_outcomes 5 60
it_eq "no second row for a stored record" "$(it_sql "SELECT count(*) FROM license_records")" 2
it_eq "a4 shares a1's record" \
    "$(it_sql "SELECT count(DISTINCT license_sha256) FROM samples WHERE upload_id IN ('a1', 'a4')")" 1
it_eq "audit verify" "$(ctl audit verify --all >/dev/null 2>&1; echo $?)" 0

# --- the old layout, migrated ------------------------------------------------
for svc in commit license scan validate; do it_kill "$svc"; done
before=$(it_sql "SELECT string_agg(upload_id || '=' || $REC::text, ';' ORDER BY upload_id) FROM samples s")
it_sql "ALTER TABLE samples ADD COLUMN license jsonb;
        UPDATE samples s SET license = $REC;
        ALTER TABLE samples DROP COLUMN license_sha256;
        DROP TABLE license_records;
        DELETE FROM schema_migrations WHERE name LIKE '027\_%'" >/dev/null
it_eq "the old layout" "$(it_sql "SELECT count(*) FROM samples WHERE license IS NOT NULL")" 5
it_eq "migrate applies 027 again" \
    "$(SLUICE_PG_DSN=$IT_OWNER_DSN "$IT_BIN/sluicectl" db migrate)" "applied 1 migrations"
it_eq "each distinct record once" "$(it_sql "SELECT count(*) FROM license_records")" 2
it_eq "every sample reads the record it had" \
    "$(it_sql "SELECT string_agg(upload_id || '=' || $REC::text, ';' ORDER BY upload_id) FROM samples s")" \
    "$before"
it_eq "migrated keys: the SHA-256 of the jsonb text" \
    "$(it_sql "SELECT count(*) FROM license_records
               WHERE sha256 <> encode(sha256(convert_to(record::text, 'UTF8')), 'hex')")" 0
it_eq "the column is gone" \
    "$(it_sql "SELECT count(*) FROM pg_attribute WHERE attrelid = 'samples'::regclass
               AND attname = 'license' AND NOT attisdropped")" 0
it_eq "audit verify after the migration" "$(ctl audit verify --all >/dev/null 2>&1; echo $?)" 0

# Commit stores after it (its grant on the new table re-applied by migrate).
for svc in validate scan license commit; do it_start "$svc"; done
up a5 CC-BY-4.0
up b1 Apache-2.0
it_wait_outcomes 7 120
it_eq "accepted after the migration" \
    "$(it_sql "SELECT string_agg(upload_id || ':' || ($REC ->> 'expression'), ',' ORDER BY upload_id)
               FROM samples s WHERE upload_id IN ('a5', 'b1')")" "a5:CC-BY-4.0,b1:Apache-2.0"
it_eq "no sample without its record" \
    "$(it_sql "SELECT count(*) FROM samples s WHERE $REC IS NULL")" 0
it_eq "audit verify at the end" "$(ctl audit verify --all >/dev/null 2>&1; echo $?)" 0
