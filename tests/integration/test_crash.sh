#!/usr/bin/env bash
# Exactly once under crashes.  N signed uploads are produced while validate
# and commit run; both are killed with SIGKILL several times mid-stream
# and restarted, validate each time inside a transaction that has written
# records (the aborted records left on its topic prove it).  Afterwards
# PostgreSQL must hold exactly N outcomes (all accepted: every upload is
# good and distinct), no upload id twice, and sluice.validated read
# read_committed must hold each upload exactly once, past aborted records.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init crash

N=${SLUICE_CRASH_N:-4000}
W=$IT_DIR
"$IT_BIN/sluicectl" creator add crasher --generate-key "$W/k.pem" >/dev/null
"$IT_BIN/sluicectl" dataset add crash-ds >/dev/null

# In chunks of 100, one directory each.  The producer below paces all but
# the last three, so that validate still has uploads to work on at every
# kill (given them all at once, a fast validate is idle long before the
# first kill); each kill of validate sends one of the last three first,
# so that it has records of its own to write right then.
mkdir -p "$W/files"
python3 - "$W/files" "$N" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    c = os.path.join(d, "c%04d" % (i // 100))
    os.makedirs(c, exist_ok=True)
    with open(os.path.join(c, "s%06d.txt" % i), "w") as f:
        f.write("crash test sample %d %s\n" % (i, "x" * 200))
EOF

# commit: small batches, many transactions.  validate: a transaction
# stays open for 8 s once it has a record (no early commit when its input
# pauses: batch.idle.ms=0), and its records go to the broker within 5 ms
# instead of lingering until the commit (the runner's linger.ms is the
# batch's length), so a kill a second after its input lands inside a
# transaction that has written records.
SVC_OPTS=(-X batch.size=100 -X batch.ms=20)
VAL_OPTS=(-X batch.size=4000 -X batch.ms=8000 -X batch.idle.ms=0 -X kafka.linger.ms=5)
it_start validate "${VAL_OPTS[@]}"
it_start commit "${SVC_OPTS[@]}" "${IT_COMMIT_AFTER_VALIDATE[@]}"

chunks=("$W"/files/c*)
KILL_CHUNKS=("${chunks[@]: -3}")
send_chunk() {
    "$IT_BIN/sluicectl" upload --creator crasher --dataset crash-ds --key "$W/k.pem" \
        "$1" >>"$W/upload.out" 2>>"$W/upload.log"
}
# (the background producer below cannot fail the test itself: a subshell)
upload_failed() { it_fail "sluicectl upload failed: $(tail -n 3 "$W/upload.log")"; }
for chunk in "${chunks[@]:0:${#chunks[@]}-3}"; do
    send_chunk "$chunk" || exit 1
    sleep 0.2
done &
producer=$!

count() { it_sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)"; }
# wait_past K: until at least K outcomes exist (or everything is done).
wait_past() {
    local i
    for ((i = 0; i < 600; i++)); do
        (($(count) >= $1)) && return 0
        sleep 0.1
    done
    it_fail "no progress past $1 outcomes"
}

# SIGKILL validate inside a transaction that has written records: send it
# a chunk of its own, give it a second to put those records in its open
# transaction (at the broker within linger.ms, uncommitted: the
# transaction stays open batch.ms, 8 s, from its first record), then kill
# it.  The aborted records counted at the end prove the kills landed.
# (This test once stopped validate and compared the topic's end offsets
# at both isolation levels; with the records lingering in validate until
# its commit, that found one only when the stop fell between the two, and
# on a busy machine never.)
kill_validate() {
    if ((${#KILL_CHUNKS[@]} > 0)); then
        send_chunk "${KILL_CHUNKS[0]}" || upload_failed
        KILL_CHUNKS=("${KILL_CHUNKS[@]:1}")
    fi
    sleep 1
    it_kill validate KILL
}

kills=0
for frac in 10 30 55 80; do
    wait_past $((N * frac / 100))
    if ((frac % 20 == 10)); then victim=validate; else victim=commit; fi
    it_log "kill -9 $victim at $(count) outcomes"
    if [[ $victim == commit ]]; then it_kill commit KILL; else kill_validate; fi
    kills=$((kills + 1))
    sleep 0.3
    if [[ $victim == commit ]]; then
        it_start commit "${SVC_OPTS[@]}" "${IT_COMMIT_AFTER_VALIDATE[@]}"
    else
        it_start validate "${VAL_OPTS[@]}"
    fi
    if ((frac == 55)); then   # both at once
        it_log "kill -9 validate and commit at $(count) outcomes"
        kill_validate
        it_kill commit KILL
        kills=$((kills + 2))
        it_start validate "${VAL_OPTS[@]}"
        it_start commit "${SVC_OPTS[@]}" "${IT_COMMIT_AFTER_VALIDATE[@]}"
    fi
done
wait "$producer" || upload_failed
for chunk in "${KILL_CHUNKS[@]}"; do   # none left: three kills of validate took them
    send_chunk "$chunk" || upload_failed
done

it_wait_outcomes "$N" 300
sleep 2   # a duplicate written late would show now
it_log "$kills kills survived"

it_eq "outcomes" "$(count)" "$N"
it_eq "samples" "$(it_sql "SELECT count(*) FROM samples")" "$N"
it_eq "distinct upload ids" "$(it_sql "SELECT count(DISTINCT upload_id) FROM samples")" "$N"
it_eq "rejections" "$(it_sql "SELECT count(*) FROM rejections")" 0
it_eq "validate events" \
    "$(it_sql "SELECT count(*) FROM provenance_events WHERE stage = 'validate'")" "$N"

kcat -b "$SLUICE_KAFKA_BROKERS" -C -t "${IT_PREFIX}sluice.validated" -e -q \
    -X isolation.level=read_committed -f '%k\n' >"$W/validated.keys"
it_eq "sluice.validated messages (read_committed)" "$(wc -l <"$W/validated.keys")" "$N"
it_eq "sluice.validated distinct keys" "$(sort -u "$W/validated.keys" | wc -l)" "$N"
# validate was killed inside transactions that had written records: those
# records stay in the log, aborted, so a read_uncommitted reader sees more
# than the N committed ones (the read_committed count above did skip
# some), and each of them is an upload written again (the same keys).
kcat -b "$SLUICE_KAFKA_BROKERS" -C -t "${IT_PREFIX}sluice.validated" -e -q \
    -X isolation.level=read_uncommitted -f '%k\n' >"$W/all.keys"
aborted=$(($(wc -l <"$W/all.keys") - N))
it_log "sluice.validated: $aborted aborted records besides the $N committed"
((aborted > 0)) || it_fail "no aborted record on sluice.validated: no kill landed inside a transaction"
it_eq "sluice.validated distinct keys (read_uncommitted)" "$(sort -u "$W/all.keys" | wc -l)" "$N"
