#!/usr/bin/env bash
# Provenance stored one row a writer (028_provenance_chains.sql): through
# the whole chain each sample's four events are one row of
# provenance_chains, a rejection's two one row, a takedown's event a row
# of its own from seq 5; the provenance_events view gives them back one
# row an event, and `audit verify` is clean.  Then the migration from the
# old layout (one table row an event): the stored events put back in that
# form, migration 028 applied again by `sluicectl db migrate` moves every
# event (one a row, with its recorded time), the view reads exactly what
# the old table held, `audit verify` stays clean, and the stages go on
# storing one row a chain after it.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init prov_chains

W=$IT_DIR
ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
ctl dataset add ds1 >/dev/null

for svc in validate scan license commit; do it_start "$svc"; done

mkdir -p "$W/f"
n=0
up() { # up ID [CREATOR]
    n=$((n + 1))
    printf 'provenance row sample %d\n' "$n" >"$W/f/$n.txt"
    ctl upload --creator "${2:-alice}" --dataset ds1 --key "$W/alice.pem" --upload-id "$1" \
        "$W/f/$n.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload $1 failed"
}
rows() { # rows KIND ID: the owner's stored rows, first_seq:stages
    it_sql "SELECT string_agg(first_seq || ':' || array_to_string(stage, '>'), ',' ORDER BY first_seq)
            FROM provenance_chains WHERE owner_kind = '$1' AND owner_id = '$2'"
}
verify_clean() { # verify_clean WHAT
    ctl audit verify --all >"$W/v.out" 2>&1 || it_fail "$1: audit verify: $(cat "$W/v.out")"
    it_log "ok: $1: audit verify clean"
}
# Every stored event as the view gives it, in one line a row.
EVENTS="SELECT string_agg(concat_ws('|', owner_kind, owner_id, seq, stage, outcome, canonical,
                                    hash, recorded_at), E'\n' ORDER BY owner_kind, owner_id, seq)
        FROM provenance_events"

up s1
up s2
up s3
up r1 nobody
it_wait_outcomes 4 120
it_eq "accepted" "$(it_sql "SELECT string_agg(upload_id, ',' ORDER BY upload_id) FROM samples")" s1,s2,s3
it_eq "a sample's chain: one row" "$(rows sample s1)" "1:validate>scan>license>commit"
rej=$(it_sql "SELECT source_topic || '/' || source_partition || '/' || source_offset
              FROM rejections WHERE upload_id = 'r1'")
it_eq "a rejection's chain: one row" "$(rows rejection "$rej")" "1:validate>commit"
it_eq "the view: one row an event" \
    "$(it_sql "SELECT string_agg(seq || ':' || stage || ':' || outcome, ',' ORDER BY seq)
               FROM provenance_events WHERE owner_kind = 'sample' AND owner_id = 's2'")" \
    "1:validate:accepted,2:scan:accepted,3:license:accepted,4:commit:committed"
it_eq "the view's hash is the hash of its text" \
    "$(it_sql "SELECT count(*) FROM provenance_events
               WHERE hash <> encode(sha256(convert_to(canonical, 'UTF8')), 'hex')")" 0
ctl takedown add "$(sha256sum "$W/f/3.txt" | cut -c1-64)" --reason "creator request" --by test \
    >/dev/null || it_fail "takedown add failed"
it_eq "a takedown appends a row" "$(rows sample s3)" "1:validate>scan>license>commit,5:takedown"
verify_clean "stored one row a writer"

# --- the old layout, migrated ----------------------------------------------------
for svc in commit license scan validate; do it_kill "$svc"; done
before=$(it_sql "$EVENTS")
nevents=$(it_sql "SELECT count(*) FROM provenance_events")
it_eq "events so far (3 samples of 4, a takedown, a rejection of 2)" "$nevents" 15
it_sql "BEGIN;
        CREATE TABLE old_events AS SELECT * FROM provenance_events;
        DROP VIEW provenance_events;
        DROP TABLE provenance_chains;
        ALTER TABLE old_events RENAME TO provenance_events;
        ALTER TABLE provenance_events
            ALTER COLUMN owner_kind SET NOT NULL, ALTER COLUMN owner_id SET NOT NULL,
            ALTER COLUMN seq SET NOT NULL, ALTER COLUMN stage SET NOT NULL,
            ALTER COLUMN outcome SET NOT NULL, ALTER COLUMN canonical SET NOT NULL,
            ALTER COLUMN hash SET NOT NULL, ALTER COLUMN recorded_at SET NOT NULL,
            ALTER COLUMN recorded_at SET DEFAULT now(),
            ADD PRIMARY KEY (owner_kind, owner_id, seq),
            ADD CHECK (owner_kind IN ('sample', 'rejection', 'review'));
        DELETE FROM schema_migrations WHERE name LIKE '028\_%';
        COMMIT" >/dev/null
it_eq "the old layout" "$(it_sql "SELECT relkind FROM pg_class WHERE relname = 'provenance_events'")" r
it_eq "migrate applies 028 again" \
    "$(SLUICE_PG_DSN=$IT_OWNER_DSN "$IT_BIN/sluicectl" db migrate)" "applied 1 migrations"
it_eq "a view again" "$(it_sql "SELECT relkind FROM pg_class WHERE relname = 'provenance_events'")" v
it_eq "every event moved, one a row" "$(it_sql "SELECT count(*) FROM provenance_chains
                                                 WHERE cardinality(canonical) = 1")" "$nevents"
it_eq "the view reads what the table held" "$(it_sql "$EVENTS")" "$before"
verify_clean "after the migration"

# The stages store one row a chain after it (commit's grant re-applied).
for svc in validate scan license commit; do it_start "$svc"; done
up s4
it_wait_outcomes 5 120
it_eq "a new chain after the migration: one row" "$(rows sample s4)" "1:validate>scan>license>commit"
verify_clean "at the end"
