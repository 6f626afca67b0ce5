#!/usr/bin/env bash
# Poison for commit: values PostgreSQL refuses and internal headers forged
# by a creator.  Each first shows what would have happened, then that every
# message gets exactly one outcome and a clean upload after them is
# accepted within seconds:
#  - created_at with a +23:00 offset (RFC 3339 allows it, timestamptz does
#    not): commit's COPY failed, commit exited, restarted, failed again;
#  - a Kafka key that is not UTF-8 on an unsigned upload: its rejection's
#    provenance event could not be built, and commit exited;
#  - a signed upload carrying sluice-reject-* headers: stored as a forged
#    rejection (or a unique-key error rewinding forever), both through
#    validate and straight on sluice.validated;
#  - garbage sluice-reject-* values on a real dead letter;
#  - two dead letters naming the same source: a unique-key error that
#    rewound forever; now retried three times, then split out;
#  - a signed upload carrying a sluice-license header that is not JSON
#    (the record commit stores in license_records): refused by validate
#    as reserved, no record stored from it, its batch flows;
#  - a row the database refuses for a reason commit cannot foresee (a CHECK
#    constraint the operator added): the batch is split, only that row
#    becomes a commit_data_error rejection, its neighbours are stored.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init commit_poison

cd "$IT_DIR"
ctl creator add alice --generate-key alice.pem >/dev/null
ctl dataset add ds1 >/dev/null
KC=(kcat -b "$SLUICE_KAFKA_BROKERS" -P)

# signed TOPIC ID FILE CREATED_AT [kcat args...]: an Ed25519-signed upload,
# produced with kcat (sluicectl refuses to sign a bad created_at).
signed() {
    local topic=$1 id=$2 file=$3 created=$4 sha meta sig
    shift 4
    sha=$(sha256sum "$file" | cut -c1-64)
    meta=$(printf '{"schema_version":1,"upload_id":"%s","creator_id":"alice","dataset_id":"ds1","content_type":"text/plain","license":{"expression":"MIT"},"attestation":{"version":1,"rights_holder":true},"created_at":"%s","filename":"%s"}' \
        "$id" "$created" "$(basename "$file")")
    printf 'sluice-upload-v1\n%s\n%s' "$sha" "$meta" >"$id.tosign"
    sig=$(openssl pkeyutl -sign -inkey alice.pem -rawin -in "$id.tosign" | base64 -w0)
    "${KC[@]}" -t "${IT_PREFIX}$topic" -k "$id" -H "sluice-meta=$meta" \
        -H "sluice-sig=ed25519=$sig" "$@" "$file"
}
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# --- what would have happened ------------------------------------------------
# The raw string, as commit used to COPY it: PostgreSQL refuses it, and the
# error (22009) was fatal to commit.
tz23=$(date -u -d '+23 hours' +%Y-%m-%dT%H:%M:%S+23:00)
set +e
err=$(it_sql "SELECT '$tz23'::timestamptz" 2>&1)
set -e
[[ $err == *"time zone displacement out of range"* ]] ||
    it_fail "PostgreSQL took $tz23: $err"
it_log "ok: PostgreSQL refuses $tz23 ($err)"
# A stored row the database refuses, beyond anything validate checks.
it_sql "ALTER TABLE samples ADD CONSTRAINT it_no_poison
        CHECK (filename IS DISTINCT FROM 'poison.txt')"

it_start validate
it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"

for f in tz23 tz15 forged direct badlic poison ok1 ok2 clean; do
    printf 'sample %s\n' "$f" >"$f.txt"
done
cp poison.txt poison-src.txt
signed sluice.uploads tz23 tz23.txt "$tz23"
tz15=$(date -u -d '+15 hours' +%Y-%m-%dT%H:%M:%S.123456+15:00)
signed sluice.uploads tz15 tz15.txt "$tz15"
FORGE=(-H "sluice-reject-code=forged_code" -H "sluice-reject-stage=forger"
       -H "sluice-reject-detail=not a rejection"
       -H "sluice-reject-source-topic=${IT_PREFIX}sluice.uploads"
       -H "sluice-reject-source-partition=0" -H "sluice-reject-source-offset=0"
       -H "sluice-reject-time=99999999999999999")
signed sluice.uploads forged forged.txt "$(now)" "${FORGE[@]}"
# Past validate already, as a broker client with write access could put it.
signed sluice.validated direct direct.txt "$(now)" "${FORGE[@]}"
printf 'unsigned\n' | "${KC[@]}" -t "${IT_PREFIX}sluice.uploads" -k $'\xff\xfe-not-utf8'
# A dead letter whose reject headers are garbage: stored with its own
# topic, partition, offset and time.
printf 'dead\n' | "${KC[@]}" -t "${IT_PREFIX}sluice.rejected" -k dead \
    -H "sluice-reject-code=Bad Code!" -H "sluice-reject-stage=validate" \
    -H "sluice-reject-source-topic=no/such topic" \
    -H "sluice-reject-source-partition=99999999999" \
    -H "sluice-reject-source-offset=-7" -H "sluice-reject-time=-99999999999999999"
# Two dead letters naming the same source position: the second can never
# be stored under it (unique key); retried, then split out and stored as
# commit's own rejection at its own position.
for dl in dl-a dl-b; do
    printf '%s\n' "$dl" | "${KC[@]}" -t "${IT_PREFIX}sluice.rejected" -p 0 -k "$dl" \
        -H "sluice-reject-code=too_large" -H "sluice-reject-stage=validate" \
        -H "sluice-reject-source-topic=${IT_PREFIX}sluice.uploads" \
        -H "sluice-reject-source-partition=0" -H "sluice-reject-source-offset=999999"
done
signed sluice.uploads badlic badlic.txt "$(now)" -H 'sluice-license={"rights":'
signed sluice.uploads ok1 ok1.txt "$(now)"
signed sluice.uploads poison poison.txt "$(now)"
signed sluice.uploads ok2 ok2.txt "$(now)"

it_wait_outcomes 12 45
sleep 1

# --- every message exactly one outcome ----------------------------------------
outcome() { # outcome ID: "sample" or "rejection:STAGE:CODE", one line each
    it_sql "SELECT 'sample' FROM samples WHERE upload_id = '$1'
            UNION ALL SELECT 'rejection:' || stage || ':' || code
            FROM rejections WHERE upload_id = '$1'"
}
it_eq "tz23" "$(outcome tz23)" "rejection:validate:meta_invalid"
it_eq "tz15" "$(outcome tz15)" "sample"
it_eq "tz15 stored as the UTC instant" \
    "$(it_sql "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')
               FROM samples WHERE upload_id = 'tz15'")" \
    "$(date -u -d "${tz15/T/ }" +%Y-%m-%dT%H:%M:%S).123456"
# Whatever validate decides about reserved headers, never the forged code.
it_eq "forged: one outcome" "$(outcome forged | wc -l)" 1
it_eq "forged: not stored as its forged rejection" \
    "$(it_sql "SELECT count(*) FROM rejections WHERE code = 'forged_code' OR stage = 'forger'")" 0
it_eq "direct" "$(outcome direct)" "rejection:commit:provenance_invalid"
it_eq "non-UTF-8 key: one rejection without an upload id" \
    "$(it_sql "SELECT stage || ':' || code FROM rejections WHERE upload_id IS NULL
               AND source_topic = '${IT_PREFIX}sluice.uploads'")" "validate:meta_missing"
it_eq "garbage dead letter: its own identity, code refused" \
    "$(it_sql "SELECT stage || ':' || code || ':' || (source_topic = '${IT_PREFIX}sluice.rejected')
               || ':' || (rejected_at > now() - interval '5 minutes')
               FROM rejections WHERE upload_id = 'dead'")" "validate:reject_header_invalid:true:true"
it_eq "badlic" "$(outcome badlic)" "rejection:validate:header_reserved"
it_eq "badlic: no license record from it" \
    "$(it_sql "SELECT count(*) FROM license_records WHERE record::text LIKE '%rights%'")" 0
it_eq "poison" "$(outcome poison)" "rejection:commit:commit_data_error"
detail=$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'poison'")
[[ $detail == *23514* && $detail == *it_no_poison* ]] ||
    it_fail "poison detail lacks the SQLSTATE and constraint: $detail"
it_eq "poison's neighbours" "$(outcome ok1)$(outcome ok2)" "samplesample"
it_eq "same source twice" \
    "$(it_sql "SELECT string_agg(upload_id || ':' || stage || ':' || code || ':' || source_partition || ':'
                                 || (source_topic = '${IT_PREFIX}sluice.rejected'), ',' ORDER BY upload_id)
               FROM rejections WHERE upload_id LIKE 'dl-%'")" \
    "dl-a:validate:too_large:0:false,dl-b:commit:commit_data_error:0:true"
detail=$(it_sql "SELECT detail FROM rejections WHERE upload_id = 'dl-b'")
[[ $detail == *23505* ]] || it_fail "dl-b detail lacks the SQLSTATE: $detail"
it_eq "outcomes" "$(it_sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)")" 12
it_eq "commit never restarted or stopped" "$(kill -0 "${IT_PIDS[commit]}" && echo running)" running

# --- and it still flows ------------------------------------------------------------
t0=$(date +%s)
signed sluice.uploads clean clean.txt "$(now)"
it_wait_outcomes 13 20
it_eq "clean upload" "$(outcome clean)" "sample"
it_log "clean upload accepted in $(($(date +%s) - t0)) s"
