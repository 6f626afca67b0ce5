#!/usr/bin/env bash
# Zombie fencing and graceful shutdown of the runner.
#  1. A second validate with the same instance.id (the same
#     transactional.id) fences the first: the first must exit non-zero
#     (a fatal error), the second carries on, and every upload still ends
#     exactly once.
#  2. SIGTERM lets a stage finish its batch, commit and exit 0.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init fencing

W=$IT_DIR
"$IT_BIN/sluicectl" creator add fen --generate-key "$W/k.pem" >/dev/null
"$IT_BIN/sluicectl" dataset add fen-ds >/dev/null
mkdir -p "$W/a" "$W/b"
for i in $(seq 1 50); do printf 'first wave %d\n' "$i" >"$W/a/$i.txt"; done
for i in $(seq 1 50); do printf 'second wave %d\n' "$i" >"$W/b/$i.txt"; done

it_start commit "${IT_COMMIT_AFTER_VALIDATE[@]}"
"$IT_BIN/sluice-validate" -X instance.id=7 >>"$W/validate-old.log" 2>&1 &
old=$!
"$IT_BIN/sluicectl" upload --creator fen --dataset fen-ds --key "$W/k.pem" "$W/a" >/dev/null 2>&1
it_wait_outcomes 50 120

# The newcomer's init_transactions fences the old producer; the old one
# finds out at its next transactional call, i.e. with the next uploads.
"$IT_BIN/sluice-validate" -X instance.id=7 >>"$W/validate-new.log" 2>&1 &
new=$!
IT_PIDS[validate]=$new
sleep 2
"$IT_BIN/sluicectl" upload --creator fen --dataset fen-ds --key "$W/k.pem" "$W/b" >/dev/null 2>&1

rc=0
it_wait_gone "$old" 60
if kill -0 "$old" 2>/dev/null; then
    kill -KILL "$old"
    it_fail "the fenced instance is still running after 60 s"
fi
wait "$old" || rc=$?
((rc != 0)) || it_fail "the fenced instance exited 0"
it_log "fenced instance exited with $rc"
grep -qi 'fenc' "$W/validate-old.log" || it_fail "the fenced instance did not log the fencing"

it_wait_outcomes 100 120
sleep 1
it_eq "outcomes" "$(it_sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)")" 100
it_eq "accepted" "$(it_sql "SELECT count(*) FROM samples")" 100

# Graceful stop: exit status 0 and a clean final log line.
kill -TERM "$new"
rc=0
wait "$new" || rc=$?
unset "IT_PIDS[validate]"
it_eq "validate exit status on SIGTERM" "$rc" 0
grep -q 'stopping: emitted' "$W/validate-new.log" || it_fail "no stopping line in the log"
