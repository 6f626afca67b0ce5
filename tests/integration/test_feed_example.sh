#!/usr/bin/env bash
# The README's model-updater example (section "Model updaters"), exactly
# the code printed there, run against a real sluice-feed with samples
# committed through the real pipeline (validate -> commit):
#   run 1   three committed samples: each arrives once (commit order
#           is the feed's; the uploads may commit in any order), its file holds
#           exactly its bytes (SHA-256 = the name = the stored sha256),
#           the cursor file is written;
#   run 2   started again from that cursor, then two more uploads: only
#           the two new samples arrive (by long-poll), none of the first
#           three again;
#   usage   each of the five deliveries recorded once for the consumer.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
it_init feed_example
W=$IT_DIR

# Exactly the README's block: the first ```python fence after the heading.
awk '/^## Model updaters/ { m = 1 } m && /^```python$/ { p = 1; next }
     p && /^```$/ { exit } p' "$IT_SRC/README.md" >"$W/updater.py"
it_eq "lines of the README example" "$(wc -l <"$W/updater.py")" 10
python3 -c "import ast, sys; ast.parse(open(sys.argv[1]).read())" "$W/updater.py" ||
    it_fail "the README example is not Python"

fd_creator ex
"$IT_BIN/sluicectl" dataset add news >/dev/null
fd_chain
mkdir -p "$W/f"
upload() { # upload N: one distinct file, upload id nN
    printf 'News item %d: the river rose by %d centimetres overnight.\n' "$1" "$((17 * $1))" >"$W/f/n$1.txt"
    "$IT_BIN/sluicectl" upload --creator ex --dataset news --key "$W/ex.pem" \
        --upload-id "n$1" "$W/f/n$1.txt" >/dev/null 2>>"$W/upload.log" || it_fail "upload n$1 failed"
}
for i in 1 2 3; do upload "$i"; done
it_wait_outcomes 3 60
it_eq "accepted" "$(it_sql "SELECT count(*) FROM samples WHERE status = 'accepted'")" 3

# As the README's commands do (feed_lib.sh uses sluicectl).
fd_consumer acme-updater
fd_grant acme-updater news 1000
TOKEN=$(fd_token acme-updater)
[[ $TOKEN =~ ^slc_[0-9a-f]{64}$ ]] || it_fail "token issue printed '$TOKEN'"
fd_start

# run N: the example in $W/out (its working directory) until it has
# printed WANT lines in all, then stopped as an operator would (SIGTERM).
mkdir -p "$W/out"
UPD_PID=
start_updater() {
    (cd "$W/out" && SLUICE_FEED_URL=$FD_URL DATASET=news SLUICE_TOKEN=$TOKEN \
        exec python3 "$W/updater.py" >>"$W/updater.out" 2>>"$W/updater.log") &
    UPD_PID=$!
}
has_lines() { # has_lines WANT: the example printed WANT lines (fails the test if it exited)
    (($(wc -l <"$W/updater.out") >= $1)) && return 0
    kill -0 "$UPD_PID" 2>/dev/null || { cat "$W/updater.log" >&2; it_fail "the example exited"; }
    return 1
}
wait_lines() { # wait_lines WANT
    it_wait_until 30 has_lines "$1"
    has_lines "$1" && return 0
    cat "$W/updater.log" >&2
    it_fail "the example printed $(wc -l <"$W/updater.out") lines, want $1"
}
stop_updater() {
    sleep 1 # time to print a line too many, if it would
    kill -TERM "$UPD_PID"
    wait "$UPD_PID" 2>/dev/null || true
}
# check_files: every file but the cursor is named by the SHA-256 of its
# bytes, and the names are exactly the stored samples' sha256.
check_files() {
    local f bad=0
    for f in "$W/out"/*; do
        [[ $(basename "$f") == cursor ]] && continue
        [[ $(sha256sum <"$f" | cut -d' ' -f1) == "$(basename "$f")" ]] || bad=$((bad + 1))
    done
    it_eq "files whose bytes are not their SHA-256" "$bad" 0
    it_eq "files = the stored samples" \
        "$(cd "$W/out" && ls | grep -v '^cursor$' | sort | tr '\n' ' ')" \
        "$(it_sql "SELECT string_agg(sha256, ' ' ORDER BY sha256) || ' ' FROM samples")"
}

: >"$W/updater.out"
start_updater
wait_lines 3
stop_updater
it_eq "run 1: samples, each once" "$(sort "$W/updater.out" | tr '\n' ' ')" "n1 n2 n3 "
check_files
[[ -s $W/out/cursor ]] || it_fail "no cursor file"
cursor1=$(cat "$W/out/cursor")

# Resume: started from the saved cursor, it waits; two new uploads reach
# it through the long-poll, the first three never again.
start_updater
sleep 1
upload 4
upload 5
wait_lines 5
stop_updater
it_eq "lines in all" "$(wc -l <"$W/updater.out")" 5
it_eq "run 2: only the new samples" "$(tail -n 2 "$W/updater.out" | sort | tr '\n' ' ')" "n4 n5 "
check_files
[[ $(cat "$W/out/cursor") != "$cursor1" ]] || it_fail "the cursor did not move"
it_eq "usage events: one per sample" \
    "$(it_sql "SELECT count(*) || ' ' || count(DISTINCT upload_id) || ' ' || sum(price_micros)
               FROM usage_events WHERE consumer_id = 'acme-updater'")" "5 5 5000"
