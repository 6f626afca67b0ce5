#!/usr/bin/env bash
# Least privilege, proven against the real stack: each service's database
# role can do what its stage needs and nothing else (validate cannot write
# samples, no service can create, alter or drop a table, none is superuser,
# the schema belongs to sluice_owner alone), and a connection without the
# password is refused, over loopback TCP and the unix socket alike.  On
# Kafka, a client without credentials cannot even connect, the uploader
# user writes sluice.uploads only, a stage cannot write another stage's
# topic, and nobody else can take a stage's transactional id or group.  The
# services, each under its own role and user, still carry a clean upload
# (sent as the uploader) to a sample.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init privilege

[[ -n ${SLUICE_PG_DSN_OWNER:-} && -n ${SLUICE_PG_DSN_VALIDATE:-} ]] ||
    it_fail "this stack has no per-service roles (SLUICE_PG_DSN_OWNER unset): start it with deploy/stack.sh"
W=$IT_DIR

# as ROLE_SVC SQL: run SQL as that service's role; prints the error line.
as() {
    psql -XAtq -v ON_ERROR_STOP=1 "$(it_svc_dsn "$1")" -c "$2" 2>&1 | grep -o 'ERROR: .*' || true
}

# --- the attack: validate writing a sample ----------------------------------
ctl creator add priv --generate-key "$W/k.pem" >/dev/null
ctl dataset add priv-ds >/dev/null
sha=$(printf 'x' | sha256sum | cut -c1-64)
insert="INSERT INTO contents (sha256, size, data) VALUES ('$sha', 1, 'x');
        INSERT INTO samples (upload_id, creator_id, dataset_id, content_type, sha256, size,
            license_expression, meta, signature, created_at, source_topic, source_partition,
            source_offset, feed_seq)
        VALUES ('forged', 'priv', 'priv-ds', 'text/plain', '$sha', 1, 'CC0-1.0', '{}', '', now(),
            'sluice.uploads', 0, 0, 1)"
# What would have happened with a role allowed to write: the statement is
# sound, the forged sample lands (then it is removed again).
it_sql "BEGIN; $insert; ROLLBACK" >/dev/null
it_eq "forged samples after the owner's rolled-back insert" "$(it_sql "SELECT count(*) FROM samples")" 0
it_eq "validate inserts a content" "$(as validate "$insert")" \
    "ERROR:  permission denied for table contents"
it_eq "validate inserts a sample" "$(as validate "INSERT INTO samples SELECT * FROM samples")" \
    "ERROR:  permission denied for table samples"
it_eq "validate updates a creator" "$(as validate "UPDATE creators SET verified = true")" \
    "ERROR:  permission denied for table creators"
it_eq "scan reads creators' keys" "$(as scan "SELECT key_material FROM creators")" \
    "ERROR:  permission denied for table creators"
it_eq "license deletes a takedown" "$(as license "DELETE FROM takedowns")" \
    "ERROR:  permission denied for table takedowns"
it_eq "commit deletes samples" "$(as commit "DELETE FROM samples")" \
    "ERROR:  permission denied for table samples"
it_eq "commit rewrites provenance" "$(as commit "UPDATE provenance_chains SET outcome = '{x}'")" \
    "ERROR:  permission denied for table provenance_chains"
it_eq "ctl edits the migrations" "$(as ctl "DELETE FROM schema_migrations")" \
    "ERROR:  permission denied for table schema_migrations"
# review (the moderators' dashboard) decides review items, nothing else.
it_eq "review writes a sample" "$(as review "INSERT INTO samples SELECT * FROM samples")" \
    "ERROR:  permission denied for table samples"
it_eq "review rewrites a flagged sample's findings" \
    "$(as review "UPDATE review_items SET findings = '{}'")" \
    "ERROR:  permission denied for table review_items"
it_eq "review rewrites provenance" "$(as review "UPDATE provenance_chains SET outcome = '{x}'")" \
    "ERROR:  permission denied for table provenance_chains"
# provenance: rows of provenance_chains (028), read through the
# provenance_events view with the view owner's rights.
it_eq "who appends provenance rows, and nothing more" \
    "$(it_sql "SELECT string_agg(r || ':' || p, ',' ORDER BY r, p)
               FROM unnest(ARRAY['sluice_validate','sluice_scan','sluice_license','sluice_commit',
                                 'sluice_review','sluice_feed','sluice_ledger']) r,
                    unnest(ARRAY['INSERT','UPDATE','DELETE','TRUNCATE']) p
               WHERE has_table_privilege(r, 'provenance_chains', p)")" \
    "sluice_commit:INSERT,sluice_review:INSERT"
it_eq "feed reads the events through the view (no error)" \
    "$(as feed "SELECT count(*) FROM provenance_events")" ""
it_eq "feed reads the stored rows (each line's provenance head), no error" \
    "$(as feed "SELECT count(*) FROM provenance_chains")" ""
it_eq "license reads the stored rows" "$(as license "SELECT 1 FROM provenance_chains")" \
    "ERROR:  permission denied for table provenance_chains"
it_eq "review makes a moderator" \
    "$(as review "INSERT INTO moderators (name, pw_hash) VALUES ('x', '\$argon2id\$')")" \
    "ERROR:  permission denied for table moderators"
# feed (the delivery service) reads what it serves and writes only usage:
# no token, grant or sample of its own making, no rewriting of the meter.
it_eq "feed's privileges beyond reading" \
    "$(it_sql "SELECT string_agg(t || ':' || p, ',' ORDER BY t, p)
               FROM unnest(ARRAY['samples','contents','feed_tokens','grants','consumers',
                                 'feed_changes','feed_clock','usage_events','creators']) t,
                    unnest(ARRAY['INSERT','UPDATE','DELETE','TRUNCATE']) p
               WHERE has_table_privilege('sluice_feed', t, p)")" "usage_events:INSERT"
it_eq "feed reads tokens, grants and samples" \
    "$(it_sql "SELECT has_table_privilege('sluice_feed', 'feed_tokens', 'SELECT')
                  AND has_table_privilege('sluice_feed', 'grants', 'SELECT')
                  AND has_table_privilege('sluice_feed', 'samples', 'SELECT')")" t
it_eq "who may withdraw samples" \
    "$(it_sql "SELECT string_agg(r, ',' ORDER BY r) FROM unnest(ARRAY['sluice_validate','sluice_scan',
                   'sluice_license','sluice_commit','sluice_review','sluice_feed','sluice_ctl']) r
               WHERE has_function_privilege(r, 'feed_withdraw(text, text, text)', 'EXECUTE')")" sluice_ctl
# ledger (the poster) writes the ledger only: no usage, sample or grant.
it_eq "ledger's privileges outside the ledger" \
    "$(it_sql "SELECT string_agg(t || ':' || p, ',' ORDER BY t, p)
               FROM unnest(ARRAY['usage_events','samples','grants','consumers','feed_changes',
                                 'datasets','payouts']) t,
                    unnest(ARRAY['INSERT','UPDATE','DELETE','TRUNCATE']) p
               WHERE has_table_privilege('sluice_ledger', t, p)")" ""
it_eq "feed reads operators' keys or moderators" \
    "$(it_sql "SELECT has_table_privilege('sluice_feed', 'moderators', 'SELECT')
                   OR has_table_privilege('sluice_feed', 'creator_optouts', 'SELECT')")" f

# --- no DDL for anyone but the owner ------------------------------------------
# sluice-feed's role logs in on a stack whose stack.sh runs the feed
# (SLUICE_PG_DSN_FEED); an older stack has it only NOLOGIN, from grants.sql.
# The same for sluice-ledger's role (SLUICE_PG_DSN_LEDGER).
FEED_SVC=() FEED_ROLE="" LEDGER_SVC=() LEDGER_ROLE=""
[[ -z ${SLUICE_PG_DSN_FEED:-} ]] || FEED_SVC=(feed) FEED_ROLE=sluice_feed,
[[ -z ${SLUICE_PG_DSN_LEDGER:-} ]] || LEDGER_SVC=(ledger) LEDGER_ROLE=sluice_ledger,
for svc in validate scan license commit review "${FEED_SVC[@]}" "${LEDGER_SVC[@]}" ctl; do
    it_eq "$svc creates a table" "$(as "$svc" "CREATE TABLE evil (a int)")" \
        "ERROR:  permission denied for schema public"
    it_eq "$svc alters samples" "$(as "$svc" "ALTER TABLE samples ADD COLUMN evil int")" \
        "ERROR:  must be owner of table samples"
    it_eq "$svc drops rejections" "$(as "$svc" "DROP TABLE rejections")" \
        "ERROR:  must be owner of table rejections"
    it_eq "$svc makes a temp table" "$(as "$svc" "CREATE TEMP TABLE t (a int)")" \
        "ERROR:  permission denied to create temporary tables in database \"$IT_DB\""
done
it_eq "superusers or role creators among the sluice roles" \
    "$(it_sql "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'sluice\_%'
               AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls)")" 0
it_eq "sluice login roles" \
    "$(it_sql "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles
               WHERE rolname LIKE 'sluice\_%' AND rolcanlogin")" \
    "sluice_commit,sluice_ctl,${FEED_ROLE}${LEDGER_ROLE}sluice_license,sluice_owner,sluice_review,sluice_scan,sluice_validate"
it_eq "tables not owned by sluice_owner" \
    "$(it_sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'sluice_owner'")" 0
it_eq "database owner" \
    "$(it_sql "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")" \
    sluice_owner

# --- grants are applied by every migrate, idempotently --------------------------
it_sql "GRANT INSERT ON samples TO sluice_validate"
SLUICE_PG_DSN=$IT_OWNER_DSN "$IT_BIN/sluicectl" db migrate >/dev/null
it_eq "validate's insert on samples after a second migrate" \
    "$(it_sql "SELECT has_table_privilege('sluice_validate', 'samples', 'INSERT')")" f

# --- no password, no connection ---------------------------------------------------
port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$SLUICE_PG_DSN")
nopw() { # nopw HOST USER: connect without any password
    PGPASSFILE=/dev/null PGPASSWORD='' psql -XAtqw "host=$1 port=$port dbname=$IT_DB user=$2" \
        -c 'SELECT 1' 2>&1 | grep -o 'fe_sendauth: no password supplied' || true
}
it_eq "loopback TCP as postgres, no password" "$(nopw 127.0.0.1 postgres)" "fe_sendauth: no password supplied"
it_eq "loopback TCP as sluice_owner, no password" "$(nopw 127.0.0.1 sluice_owner)" "fe_sendauth: no password supplied"
if [[ -n ${SLUICE_STACK_DIR:-} && -S $SLUICE_STACK_DIR/pg/sock/.s.PGSQL.$port ]]; then
    it_eq "unix socket as postgres, no password" "$(nopw "$SLUICE_STACK_DIR/pg/sock" postgres)" \
        "fe_sendauth: no password supplied"
fi
wrong=$(PGPASSWORD=wrong psql -XAtqw "host=127.0.0.1 port=$port dbname=$IT_DB user=sluice_commit passfile=/dev/null" \
    -c 'SELECT 1' 2>&1 | grep -o 'password authentication failed for user "sluice_commit"' || true)
it_eq "wrong password" "$wrong" 'password authentication failed for user "sluice_commit"'
for f in "$(sed -n 's/.*passfile=\([^ ]*\).*/\1/p' <<<"$SLUICE_PG_DSN_VALIDATE")" \
    "$(sed -n 's/.*passfile=\([^ ]*\).*/\1/p' <<<"$SLUICE_PG_DSN_ADMIN")"; do
    it_eq "mode of $(basename "$f")" "$(stat -c %a "$f")" 600
done

# --- Kafka: no credentials, no connection; each user only its own topics --------
[[ -n ${SLUICE_KAFKA_ADMIN_PROPERTIES:-} ]] ||
    it_fail "this stack has no Kafka authentication (SLUICE_KAFKA_ADMIN_PROPERTIES unset)"
kc() { # kc KCAT_CONFIG TOPIC [kcat options]: produce one message, print kcat's verdict
    local conf=$1 topic=$2; shift 2
    printf 'hostile bytes\n' | timeout 30 kcat -P -b "$SLUICE_KAFKA_BROKERS" -F "$conf" \
        -t "$IT_PREFIX$topic" "$@" 2>&1 |
        grep -Eo 'Topic authorization failed|Transactional Id authorization failed|broker might require SASL authentication' |
        head -n 1
    return 0
}
uploader=$SLUICE_KCAT_CONFIG_UPLOADER
validate_kcat=${SLUICE_CONFIG_VALIDATE%.conf}.kcat
# What the attack does where it is allowed: the admin's write lands.
it_eq "admin writes sluice.scanned" "$(kc "$SLUICE_KCAT_CONFIG_ADMIN" sluice.scanned)" ""
it_eq "messages on sluice.scanned" "$(timeout 30 kcat -C -b "$SLUICE_KAFKA_BROKERS" \
    -F "$SLUICE_KCAT_CONFIG_ADMIN" -t "${IT_PREFIX}sluice.scanned" -e -q -f '%s\n' 2>/dev/null | wc -l)" 1
it_eq "no credentials write sluice.validated" "$(kc /dev/null sluice.validated)" \
    "broker might require SASL authentication"
it_eq "uploader writes sluice.validated" "$(kc "$uploader" sluice.validated)" "Topic authorization failed"
it_eq "uploader writes sluice.rejected" "$(kc "$uploader" sluice.rejected)" "Topic authorization failed"
it_eq "validate writes sluice.scanned" "$(kc "$validate_kcat" sluice.scanned)" "Topic authorization failed"
it_eq "uploader takes validate's transactional.id" \
    "$(kc "$uploader" sluice.uploads -X "transactional.id=${IT_PREFIX}sluice-validate-0")" \
    "Transactional Id authorization failed"
group=$(timeout 30 kcat -C -b "$SLUICE_KAFKA_BROKERS" -F "$uploader" -G "${IT_PREFIX}sluice-validate" \
    "${IT_PREFIX}sluice.uploads" -e -q 2>&1 | grep -o 'Group authorization failed' | head -n 1 || true)
it_eq "uploader joins validate's group" "$group" "Group authorization failed"
for f in "$uploader" "$SLUICE_CONFIG_VALIDATE" "$SLUICE_KAFKA_ADMIN_PROPERTIES"; do
    it_eq "mode of $(basename "$f")" "$(stat -c %a "$f")" 600
done

# --- the stages under their own roles still carry an upload ------------------------
IT_SERVICE_USERS=1   # as the stack runs them: each as its own user
it_start validate
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"
printf 'a clean sample after the refused statements\n' >"$W/clean.txt"
# As the creators' producer user, which may write sluice.uploads only.
SLUICE_CONFIG=$SLUICE_CONFIG_UPLOADER ctl upload --creator priv --dataset priv-ds --key "$W/k.pem" \
    --upload-id clean1 "$W/clean.txt" >/dev/null 2>>"$W/upload.log" || it_fail "sluicectl upload failed"
it_wait_outcomes 1 30
it_eq "clean upload" "$(it_sql "SELECT upload_id || ':' || status FROM samples")" "clean1:accepted"
it_eq "rejections" "$(it_sql "SELECT count(*) FROM rejections")" 0
if ((EUID == 0)); then
    # Not root: each service as its own user, the broker as sluice-kafka
    # and PostgreSQL as postgres; a service reaches no other service's
    # secrets, neither the files nor the descriptors it was handed.
    vpid=${IT_PIDS[validate]} cpid=${IT_PIDS[commit]}
    it_eq "validate's user" "$(stat -c %U "/proc/$vpid")" sluice-validate
    it_eq "commit's user" "$(stat -c %U "/proc/$cpid")" sluice-commit
    as_validate() { setpriv --reuid=sluice-validate --regid=sluice-validate --init-groups -- "$@" 2>&1 >/dev/null |
        grep -o 'Permission denied' | head -n 1; }
    it_eq "validate's user reads commit's Kafka password through /proc" \
        "$(as_validate cat "/proc/$cpid/fd/3")" "Permission denied"
    it_eq "validate's user reads commit's database password through /proc" \
        "$(as_validate cat "/proc/$cpid/fd/4")" "Permission denied"
    it_eq "validate's own Kafka credentials through /proc, as validate" \
        "$(setpriv --reuid=sluice-validate --regid=sluice-validate --init-groups -- \
            sed -n 's/^kafka.sasl.username = //p' "/proc/$vpid/fd/3")" sluice_validate
    pid_user() { stat -c %U "/proc/$(head -n 1 "$SLUICE_STACK_DIR/$1")"; }
    it_eq "broker's user" "$(pid_user run/kafka.pid)" sluice-kafka
    it_eq "postgresql's user" "$(pid_user pg/data/postmaster.pid)" postgres
    secrets=$(dirname "$SLUICE_CONFIG_COMMIT")
    it_eq "validate's user reads commit's Kafka password file" \
        "$(as_validate cat "$SLUICE_CONFIG_COMMIT")" "Permission denied"
    it_eq "mode of the secrets directory" "$(stat -c '%a %U' "$secrets")" "700 root"
fi
it_eq "roles connected to the test database" \
    "$(it_sql "SELECT string_agg(DISTINCT usename, ',' ORDER BY usename) FROM pg_stat_activity
               WHERE datname = current_database() AND usename IN ('sluice_validate', 'sluice_commit')")" \
    "sluice_commit,sluice_validate"
