#!/usr/bin/env bash
# Where a stage's new consumer group starts in a partition it never
# committed in: the runner sets the offset auto.offset.reset names itself
# (one ListOffsets request) instead of leaving it to librdkafka, whose
# offset reset waits 100 ms first (tests/bench/README.md, "A new group's
# first fetch").  What must not change is where that is:
#  1. earliest (the runner's default): validate, started after six
#     uploads, takes all six; its debug log names the start it set in
#     each partition of its inputs, the first offset (0), and it never
#     fell back to librdkafka's path.
#  2. latest: scan with kafka.auto.offset.reset=latest, its group new,
#     skips the six already validated and takes the two uploaded after it
#     started; the starts it set are the six's ends.
#  3. error: license with kafka.auto.offset.reset=error sets no start and
#     takes nothing; librdkafka reports that the group has no offset.
#  4. A group with committed offsets resumes from them: validate,
#     restarted, takes only what came after it stopped, and sets a start
#     only in a partition no upload had gone to.
#  5. The sink (commit, whose offsets are in its database): new, it logs
#     each partition as having nothing stored and starts it at its
#     beginning, offset 0; restarted, it logs a stored offset exactly for
#     the partitions it stored from.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init start_offsets

W=$IT_DIR
"$IT_BIN/sluicectl" creator add so --generate-key "$W/k.pem" >/dev/null
"$IT_BIN/sluicectl" dataset add so-ds >/dev/null
mkdir -p "$W/a" "$W/b" "$W/c"
for i in 1 2 3 4 5 6; do printf 'first %d\n' "$i" >"$W/a/$i.txt"; done
for i in 1 2; do printf 'second %d\n' "$i" >"$W/b/$i.txt"; done
printf 'third\n' >"$W/c/1.txt"
upload() { "$IT_BIN/sluicectl" upload --creator so --dataset so-ds --key "$W/k.pem" "$1" >/dev/null; }
# committed records on TOPIC (without the prefix)
count() { it_committed "$1" '%k\n' | grep -c . || true; }
wait_count() { it_wait_at_least "$2" "$3" count "$1"; }   # TOPIC N SECONDS
# the partitions' end offsets of TOPIC (the last stable ones), "p:end" sorted
ends() {
    local p args=()
    for ((p = 0; p < ${IT_PARTITIONS:-3}; p++)); do args+=(-t "${IT_PREFIX}$1:$p:-1"); done
    kcat -b "$SLUICE_KAFKA_BROKERS" -X isolation.level=read_committed -Q "${args[@]}" 2>/dev/null |
        sed -n 's/.* \[\([0-9]*\)\] offset \([0-9]*\)$/\1:\2/p' | sort
}
# the starts SVC's log says the runner set, "p:offset" sorted (topic TOPIC)
starts() {
    sed -n "s|.*\"msg\":\"${IT_PREFIX}$2/\([0-9]*\): starting at \([0-9]*\)\".*|\1:\2|p" \
        "$W/$1.log" | sort
}
DEBUG=(-X log.level=debug -X batch.idle.ms=20)

# 1. earliest
upload "$W/a"
it_start validate "${DEBUG[@]}"
wait_count sluice.validated 6 60
it_eq "validate took the six waiting" "$(count sluice.validated)" 6
want=$(for ((p = 0; p < ${IT_PARTITIONS:-3}; p++)); do printf '%d:0 ' "$p"; done)
it_eq "validate set a start in each partition of its input" \
    "$(starts validate sluice.uploads | tr '\n' ' ')" "$want"
grep -q 'librdkafka finds them' "$W/validate.log" &&
    it_fail "validate fell back to librdkafka's offset reset: $(grep 'finds them' "$W/validate.log")"

# 2. latest: the six are on sluice.validated before scan starts
it_start scan "${DEBUG[@]}" -X kafka.auto.offset.reset=latest
it_wait_log "$W/scan.log" 'starting at' 30
before=$(ends sluice.validated)
it_eq "scan set its starts at the ends of what was there" \
    "$(starts scan sluice.validated | tr '\n' ' ')" "$(tr '\n' ' ' <<<"$before")"
upload "$W/b"
wait_count sluice.validated 8 60
wait_count sluice.scanned 2 60
sleep 1   # anything more would be there by now
it_eq "scan took only the two uploaded after it started" "$(count sluice.scanned)" 2

# 3. error: no start set, nothing taken
it_start license "${DEBUG[@]}" -X kafka.auto.offset.reset=error
it_wait_log "$W/license.log" 'No offset stored' 30
grep -q 'No offset stored' "$W/license.log" ||
    it_fail "license did not report the missing offset: $(tail -5 "$W/license.log")"
grep -q 'starting at' "$W/license.log" &&
    it_fail "license set a start with auto.offset.reset=error: $(grep 'starting at' "$W/license.log")"
it_eq "license took nothing" "$(count sluice.licensed)" 0
kill -0 "${IT_PIDS[license]}" 2>/dev/null || it_fail "license stopped: $(tail -5 "$W/license.log")"
it_kill license TERM

# 4. committed offsets: validate restarted resumes after its eight.  A
# partition no upload went to yet has no offset of the group (its
# transactions committed offsets only where it read): that one, and only
# that one, gets a start, at 0.  (sluice.replay, never read from, too.)
it_kill validate TERM
: >"$W/validate.log"
empty=$(ends sluice.uploads | sed -n 's/^\([0-9]*\):0$/\1:0/p' | tr '\n' ' ')
upload "$W/c"
it_start validate "${DEBUG[@]}"
wait_count sluice.validated 9 60
sleep 1
it_eq "restarted validate took only the new upload" "$(count sluice.validated)" 9
it_eq "restarted validate set starts only where its group had no offset" \
    "$(starts validate sluice.uploads | tr '\n' ' ')" "$empty"

# 5. the sink: what its log says of each partition's start
# sink_starts KIND: "p:offset" of the partitions of sluice.scanned the
# commit log names as KIND (nothing: nothing stored; stored: a stored offset)
sink_starts() {
    local re="nothing stored, from its beginning (offset \([0-9]*\))"
    [[ $1 == stored ]] && re="from stored offset \([0-9]*\)"
    sed -n "s|.*\"msg\":\"assigned ${IT_PREFIX}sluice.scanned/\([0-9]*\)[: ]*$re\".*|\1:\2|p" \
        "$W/commit.log" | sort
}
assigned() { grep -c "\"msg\":\"assigned ${IT_PREFIX}sluice.scanned/" "$W/commit.log"; }
wait_assigned() { it_wait_at_least "${IT_PARTITIONS:-3}" 30 assigned; }
wait_count sluice.scanned 3 60   # the two of part 2 and part 4's upload
it_start commit -X input.topics=sluice.scanned
it_wait_outcomes 3 60
wait_assigned
it_eq "commit, new: nothing stored, each partition from offset 0" \
    "$(sink_starts nothing | tr '\n' ' ')" "$want"
it_eq "commit, new: no stored offset named" "$(sink_starts stored | grep -c .)" 0
it_kill commit TERM
held=$(ends sluice.scanned | awk -F: '$2 > 0 { print $1 }' | tr '\n' ' ')
: >"$W/commit.log"
it_start commit -X input.topics=sluice.scanned
wait_assigned
it_eq "commit, restarted: a stored offset where it stored" \
    "$(sink_starts stored | cut -d: -f1 | tr '\n' ' ')" "$held"
it_eq "commit, restarted: nothing stored elsewhere" \
    "$(( $(sink_starts stored | grep -c .) + $(sink_starts nothing | grep -c .) ))" "${IT_PARTITIONS:-3}"

it_kill commit TERM
it_kill validate TERM
it_kill scan TERM
