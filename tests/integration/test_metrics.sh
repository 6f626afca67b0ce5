#!/usr/bin/env bash
# GET /metrics, /health, /ready of every stage (issue #15): each process's
# exposition parses with prometheus-client's parser, and its counters match
# what the test sent: 4 good uploads, 2 from a disabled creator (validate:
# creator_disabled), 1 with an unknown license (license: license_unknown).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/metrics_lib.sh"
IT_PARTITIONS=2 it_init metrics
mt_require_python

W=$IT_DIR
P=$IT_PREFIX
ctl creator add alice --generate-key "$W/alice.pem" >/dev/null
ctl creator add bob --generate-key "$W/bob.pem" >/dev/null
ctl creator disable bob >/dev/null
ctl dataset add open-ds >/dev/null

for svc in validate scan license commit; do
    it_start "$svc" -X metrics.listen=127.0.0.1:0
done
declare -A PORT
for svc in validate scan license commit; do PORT[$svc]=$(mt_port "$svc"); done

mkdir -p "$W/f"
up() { # up ID CREATOR [options]
    local id=$1 who=$2; shift 2
    printf 'metrics sample %s\n' "$id" >"$W/f/$id.txt"
    ctl upload --creator "$who" --dataset open-ds --key "$W/$who.pem" --upload-id "$id" \
        "$@" "$W/f/$id.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload $id failed"
}
for i in 1 2 3 4; do up "good$i" alice --license CC-BY-4.0; done
up bob1 bob --license CC-BY-4.0
up bob2 bob --license CC-BY-4.0
up unknown alice --license Foo-License-1.0
it_wait_outcomes 7 120

# Readiness and liveness of each process.
for svc in validate scan license commit; do
    it_eq "$svc /health" "$(mt_get "${PORT[$svc]}" /health)" '200 {"status":"ok"}'
    # re-evaluated once a second: a chain can store its uploads sooner
    mt_wait_ready '200 {"ready":true}' 10 "${PORT[$svc]}"
done

# The lag gauges refresh once a second: wait until every stage reads 0.
lag_total() {
    awk '/^sluice_consumer_lag\{/ { s += $NF } END { print s + 0 }' "$IT_DIR/$1.$2"
}
# (each stage's last fetch is the one parsed below)
drained() {
    local svc busy=0
    for svc in validate scan license commit; do
        mt_fetch "$svc" "${PORT[$svc]}"
        (($(lag_total "$svc" prom) == 0)) || busy=1
    done
    ((busy == 0))
}
it_wait_until 10 drained
mt_parse validate scan license commit

v() { mt_val "$@"; }
# validate: 7 in, 5 on, 2 dead letters with their reason code
it_eq "validate in" "$(v validate "sluice_messages_in_total{stage=\"validate\",topic=\"${P}sluice.uploads\"}")" 7
it_eq "validate emit" "$(v validate 'sluice_verdicts_total{reason="none",stage="validate",verdict="emit"}')" 5
it_eq "validate creator_disabled" \
    "$(v validate 'sluice_verdicts_total{reason="creator_disabled",stage="validate",verdict="reject"}')" 2
it_eq "validate out" "$(v validate "sluice_messages_out_total{stage=\"validate\",topic=\"${P}sluice.validated\"}")" 5
it_eq "validate dead letters" "$(v validate "sluice_messages_out_total{stage=\"validate\",topic=\"${P}sluice.rejected\"}")" 2
it_eq "validate processing count" "$(v validate 'sluice_message_processing_seconds_count{stage="validate"}')" 7
it_eq "validate aborts" "$(v validate 'sluice_transaction_aborts_total{stage="validate"}')" 0
# two input topics (sluice.uploads and the operators' sluice.replay), two
# partitions each
it_eq "validate partitions" "$(v validate 'sluice_assigned_partitions{stage="validate"}')" 4
it_eq "validate ready gauge" "$(v validate 'sluice_ready{}')" 1
it_eq "validate lag" "$(lag_total validate samples)" 0
it_eq "validate lag series (one per partition)" \
    "$(grep -c '^sluice_consumer_lag{' "$IT_DIR/validate.samples")" 4
# scan: 5 in, 5 on
it_eq "scan in" "$(v scan "sluice_messages_in_total{stage=\"scan\",topic=\"${P}sluice.validated\"}")" 5
it_eq "scan emit" "$(v scan 'sluice_verdicts_total{reason="none",stage="scan",verdict="emit"}')" 5
it_eq "scan out" "$(v scan "sluice_messages_out_total{stage=\"scan\",topic=\"${P}sluice.scanned\"}")" 5
# license: 5 in, 4 on, 1 license_unknown
it_eq "license in" "$(v license "sluice_messages_in_total{stage=\"license\",topic=\"${P}sluice.scanned\"}")" 5
it_eq "license emit" "$(v license 'sluice_verdicts_total{reason="none",stage="license",verdict="emit"}')" 4
it_eq "license license_unknown" \
    "$(v license 'sluice_verdicts_total{reason="license_unknown",stage="license",verdict="reject"}')" 1
it_eq "license out" "$(v license "sluice_messages_out_total{stage=\"license\",topic=\"${P}sluice.licensed\"}")" 4
# commit: 4 licensed + 3 dead letters in, 7 rows stored
it_eq "commit in licensed" "$(v commit "sluice_messages_in_total{stage=\"commit\",topic=\"${P}sluice.licensed\"}")" 4
it_eq "commit in rejected" "$(v commit "sluice_messages_in_total{stage=\"commit\",topic=\"${P}sluice.rejected\"}")" 3
it_eq "commit rows" "$(v commit 'sluice_commit_rows_total{}')" 7
[[ $(v commit 'sluice_commit_db_round_trips_total{}') -gt 0 ]] ||
    it_fail "commit counted no database round trips"
batches=$(v commit 'sluice_transactions_total{stage="commit"}')
it_eq "commit batch-size histogram counts every batch" \
    "$(v commit 'sluice_batch_size_count{stage="commit"}')" "$batches"
it_eq "commit lag" "$(lag_total commit samples)" 0
# No label carries an upload or creator id.
if grep -E 'good[0-9]|bob[0-9]|alice|unknown"' "$IT_DIR"/*.prom | grep -v license_unknown; then
    it_fail "an id appears in a label"
fi
it_log "ok: no upload or creator id in any label"
# sluicectl top reads the same endpoints (addresses as stack.env names them):
# these four only, not those of the stack the suite runs on (its stack.env
# names every service's port, running or not, and --once fails on one
# that does not answer).
for v in $(compgen -e | grep '^SLUICE_METRICS_'); do unset "$v"; done
for svc in validate scan license commit; do
    export "SLUICE_METRICS_${svc^^}=127.0.0.1:${PORT[$svc]}"
done
"$IT_BIN/sluicectl" top --once --interval 1 >"$W/top.txt" 2>"$W/top.err" ||
    it_fail "sluicectl top --once failed: $(cat "$W/top.err") $(cat "$W/top.txt")"
cat "$W/top.txt" >&2
top_row() { # PROCESS: "READY LAG PARTS ABORTS"
    awk -v p="$1" '$1 == p { print $2, $6, $7, $8 }' "$W/top.txt"
}
it_eq "top: validate" "$(top_row validate)" "yes 0 4 0"
it_eq "top: scan" "$(top_row scan)" "yes 0 2 0"
it_eq "top: license" "$(top_row license)" "yes 0 4 0"
it_eq "top: commit" "$(top_row commit)" "yes 0 6 0"
it_eq "top: header" "$(sed -n 2p "$W/top.txt" | tr -s ' ')" \
    "PROCESS READY IN/s OUT/s REJECT/s LAG PARTS ABORTS REQ/s"

# What the HTTP layer itself counted: /metrics scrapes are not instrumented.
it_eq "an unknown path" "$(mt_get "${PORT[validate]}" /nope)" \
    '404 {"error":"not_found","detail":"no such page"}'

it_log "PASS"
