#!/usr/bin/env bash
# Group commit (batch.idle.ms): a stage commits its open transaction once
# its input pauses, instead of holding it for the rest of batch.ms.
#  1. Every stage with batch.ms of 55 s (below the 60 s transaction
#     timeout): uploads reach the database through the four hops within a
#     minute, where four full batches would take nearly four.
#  2. With batch.idle.ms=0 a batch ends only by batch.size, batch.ms or a
#     stop: validate holds a lone upload uncommitted (nothing downstream
#     sees it) until SIGTERM, which commits it.
#  3. Refused at start (exit status 2): a negative batch.idle.ms or
#     batch.backlog.ms, and a batch.ms or batch.backlog.ms the transaction
#     timeout would cut short.
#  4. A stage looks up the topics it writes to before its first
#     transaction (the first commit does not wait for librdkafka's
#     once-a-second scan of unknown topics): one it cannot find is named
#     at start, and the stage keeps running.
#  5. A stage behind (batch.backlog.ms): with 2,800 uploads waiting,
#     batch.ms=1 and batch.size=700, validate's first three transactions
#     hold 700 each (the rest of each already waited when its batch.ms
#     passed), where without it every transaction ends after one run of
#     polls (500 messages at most); an upload arriving when nothing waits
#     is committed on its own at once.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init group_commit

W=$IT_DIR
LONG=(-X batch.ms=55000 -X batch.size=5000)
"$IT_BIN/sluicectl" creator add gc --generate-key "$W/k.pem" >/dev/null
"$IT_BIN/sluicectl" dataset add gc-ds >/dev/null
mkdir -p "$W/a" "$W/b"
for i in 1 2 3; do printf 'first %d\n' "$i" >"$W/a/$i.txt"; done
for i in 1 2; do printf 'second %d\n' "$i" >"$W/b/$i.txt"; done
validated() { # committed records on sluice.validated
    it_committed sluice.validated '%k\n' | grep -c . || true
}

# 3 first: nothing else is running yet.
rc=0
"$IT_BIN/sluice-validate" -X batch.idle.ms=-1 >"$W/negative.log" 2>&1 || rc=$?
it_eq "negative batch.idle.ms: exit status" "$rc" 2
grep -q 'batch.idle.ms must not be negative' "$W/negative.log" ||
    it_fail "no reason for the refusal: $(cat "$W/negative.log")"

rc=0
"$IT_BIN/sluice-validate" -X batch.backlog.ms=-5 >"$W/negative.log" 2>&1 || rc=$?
it_eq "negative batch.backlog.ms: exit status" "$rc" 2
grep -q 'batch.backlog.ms must not be negative' "$W/negative.log" ||
    it_fail "no reason for the refusal: $(cat "$W/negative.log")"

for key in batch.ms batch.backlog.ms; do
    rc=0
    "$IT_BIN/sluice-validate" -X "$key=60000" >"$W/negative.log" 2>&1 || rc=$?
    it_eq "$key as long as the transaction timeout: exit status" "$rc" 2
    grep -q "$key (60000) must be shorter than the transaction timeout" "$W/negative.log" ||
        it_fail "no reason for the refusal: $(cat "$W/negative.log")"
done

# 4. An output topic that is not there.
it_start scan -X output.topic=sluice.nosuch
it_wait_log "$W/scan.log" 'looking up output topic' 30
grep -q "looking up output topic ${IT_PREFIX}sluice.nosuch: " "$W/scan.log" ||
    it_fail "no warning about the missing output topic: $(cat "$W/scan.log")"
kill -0 "${IT_PIDS[scan]}" 2>/dev/null || it_fail "scan stopped: $(cat "$W/scan.log")"
it_kill scan TERM
: >"$W/scan.log"

# 1. The default batch.idle.ms, batches of up to 55 s.
for svc in validate scan license commit; do it_start "$svc" "${LONG[@]}"; done
"$IT_BIN/sluicectl" upload --creator gc --dataset gc-ds --key "$W/k.pem" "$W/a" >/dev/null
it_wait_outcomes 3 60
it_eq "accepted through the whole chain" "$(it_sql "SELECT count(*) FROM samples")" 3
it_eq "committed on sluice.validated" "$(validated)" 3

# 2. Without group commit validate keeps its transaction open.
it_kill validate TERM
: >"$W/validate.log"
it_start validate "${LONG[@]}" -X batch.idle.ms=0
it_wait_log "$W/validate.log" 'assigned [1-9][0-9]* partitions' 60
grep -q 'assigned [1-9][0-9]* partitions' "$W/validate.log" ||
    it_fail "validate was not assigned its partitions in 60 s"
"$IT_BIN/sluicectl" upload --creator gc --dataset gc-ds --key "$W/k.pem" "$W/b" >/dev/null
# Consumed now (validate polls every 50 ms) and, if the stop below
# commits them, consumed before it; 5 s with nothing committed.
sleep 5
it_eq "held in the open transaction: committed on sluice.validated" "$(validated)" 3
it_eq "held in the open transaction: samples" "$(it_sql "SELECT count(*) FROM samples")" 3
it_kill validate TERM   # a stop commits the open batch
it_eq "committed at the stop" "$(validated)" 5
it_wait_outcomes 5 90
it_eq "accepted after the stop" "$(it_sql "SELECT count(*) FROM samples")" 5

# 5. Behind: the rest of each batch already waits when batch.ms passes
# (validate is stopped since 2: the uploads wait in its input).
mkdir -p "$W/c"
for i in $(seq 1 2800); do printf 'backlog %d\n' "$i" >"$W/c/$i.txt"; done
"$IT_BIN/sluicectl" upload --creator gc --dataset gc-ds --key "$W/k.pem" "$W/c" >/dev/null
batches() { # the sizes of validate's committed transactions, one a line
    sed -n 's/.*committed batch of \([0-9]*\) messages.*/\1/p' "$W/validate.log"
}
: >"$W/validate.log"
it_start validate -X log.level=debug -X batch.ms=1 -X batch.size=700 -X batch.idle.ms=0 \
    -X batch.backlog.ms=50000
it_wait_outcomes 2805 120
it_eq "behind: the first transactions of batch.size" "$(batches | head -n 3 | tr '\n' ' ')" \
    "700 700 700 "
it_eq "behind: uploads in its transactions" "$(batches | awk '{ s += $1 } END { print s }')" 2800
# Nothing waits now: one more upload is not held for batch.backlog.ms.
printf 'alone\n' >"$W/alone.txt"
"$IT_BIN/sluicectl" upload --creator gc --dataset gc-ds --key "$W/k.pem" "$W/alone.txt" >/dev/null
it_wait_outcomes 2806 30
it_eq "keeping up: the lone upload's own transaction" "$(batches | tail -n 1)" 1
