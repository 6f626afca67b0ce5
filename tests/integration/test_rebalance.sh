#!/usr/bin/env bash
# A revocation in the middle of a batch: the positions committed with the
# transaction are those of messages whose results are in it, never of
# messages polled but not processed yet.  One validate with a batch longer
# than the test (batch.ms 20 s, no group commit) consumes a stream of uploads; a second
# instance joins the group (so the first is revoked mid-batch and commits
# what it processed), then the first is
# stopped (its partitions move to the second).  Every upload must end
# exactly once: N samples, no rejection (a message processed twice would
# come back as `replay`), and sluice.validated read committed holds each
# upload id once.  validate x2 -> commit.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IT_PARTITIONS=6
it_init rebalance

W=$IT_DIR
N=360
"$IT_BIN/sluicectl" creator add rb --generate-key "$W/k.pem" >/dev/null
"$IT_BIN/sluicectl" dataset add rb-ds >/dev/null
for w in 1 2 3 4 5 6; do
    mkdir -p "$W/w$w"
    for i in $(seq 1 $((N / 6))); do printf 'wave %d sample %d\n' "$w" "$i" >"$W/w$w/$i.txt"; done
done

it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"
"$IT_BIN/sluice-validate" -X instance.id=a -X batch.ms=20000 -X batch.idle.ms=0 -X log.level=info \
    >>"$W/validate-a.log" 2>&1 &
a=$!
IT_PIDS[validate-a]=$a
sleep 2
(
    for w in 1 2 3 4 5 6; do
        "$IT_BIN/sluicectl" upload --creator rb --dataset rb-ds --key "$W/k.pem" \
            "$W/w$w" >/dev/null 2>>"$W/upload.log"
        sleep 0.7
    done
) &
streamer=$!
sleep 1.5
"$IT_BIN/sluice-validate" -X instance.id=b -X batch.ms=1000 -X log.level=info \
    >>"$W/validate-b.log" 2>&1 &
IT_PIDS[validate-b]=$!
wait "$streamer" || it_fail "the uploads failed"
sleep 2
it_kill validate-a TERM
grep -q 'partitions revoked: committing' "$W/validate-a.log" ||
    it_fail "the first instance was never revoked"
mid=$(grep -o 'committing the open transaction ([0-9]* messages)' "$W/validate-a.log" |
      grep -vc '(0 messages)' || true)
((mid > 0)) || it_fail "no revocation came in the middle of a batch"
it_log "revocations of the first instance: $(grep -c 'partitions revoked' "$W/validate-a.log"), $mid mid-batch; with polled messages left to the next owner: $(grep -c 'leaving' "$W/validate-a.log")"

it_wait_outcomes $N 50
sleep 2
it_eq "samples" "$(it_sql "SELECT count(*) FROM samples")" $N
it_eq "rejections" "$(it_sql "SELECT count(*) FROM rejections")" 0
it_eq "distinct upload ids" "$(it_sql "SELECT count(DISTINCT upload_id) FROM samples")" $N
it_eq "validated, read committed: records and distinct keys" \
    "$(it_committed sluice.validated '%k\n' |
        awk '{ n++; if (!seen[$0]++) d++ } END { print n, d }')" "$N $N"
