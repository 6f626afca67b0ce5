#!/usr/bin/env bash
# An updater tails a dataset while uploads stream in through the real chain
# (three partitions, so commit batches interleave): every accepted sample
# reaches it exactly once, in commit (feed_seq) order, across a graceful
# restart of sluice-feed (a parked long poll answers "nothing yet" with its
# cursor) and a crash (SIGKILL) of it mid-read; the reader resumes from its
# saved cursor each time.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
it_init feed_tail

N=45
fd_creator alice
"$IT_BIN/sluicectl" dataset add ds1 >/dev/null
fd_chain
fd_consumer acme
fd_grant acme ds1
TOK=$(fd_token acme)
fd_start

mkdir -p "$IT_DIR/stream"
for ((i = 1; i <= N; i++)); do printf 'streamed sample %d\n' "$i" >"$IT_DIR/stream/s$(printf %03d "$i").txt"; done
"$IT_BIN/sluicectl" upload --creator alice --dataset ds1 --key "$IT_DIR/alice.pem" --rate 6 \
    "$IT_DIR/stream" >/dev/null 2>>"$IT_DIR/upload.log" &
uploader=$!

FD_TAIL_LIMIT=4 FD_TAIL_WAIT=2
export FD_TAIL_LIMIT FD_TAIL_WAIT
restarted=0 crashed=0 deadline=$((SECONDS + 45))
while :; do
    got=0
    [[ ! -f $IT_DIR/lines-ds1 ]] || got=$(wc -l <"$IT_DIR/lines-ds1")
    ((got >= N)) && break
    ((SECONDS < deadline)) || it_fail "tail: $got of $N lines after 45 s"
    if ((restarted == 0 && got >= 10)); then
        # Graceful: a long poll parked at the stop (on the changes, where
        # nothing comes) answers 200, no lines, the cursor it was given.
        fd_get "$TOK" /v1/datasets/ds1/changes >/dev/null
        cur=$(fd_header Sluice-Next-Cursor)
        curl -s -D "$IT_DIR/ph" -o "$IT_DIR/pb" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
            "$FD_URL/v1/datasets/ds1/changes?after=$cur&wait=30" >"$IT_DIR/ps" &
        poll=$!
        sleep 0.5
        t0=$SECONDS
        fd_stop TERM
        wait "$poll" || true
        ((SECONDS - t0 < 10)) || it_fail "the parked poll held the stop for $((SECONDS - t0)) s"
        it_eq "a poll parked at shutdown: status" "$(cat "$IT_DIR/ps")" 200
        touch "$IT_DIR/pb"
        it_eq "... its lines" "$(wc -c <"$IT_DIR/pb")" 0
        it_eq "... its cursor" "$(sed -n 's/^Sluice-Next-Cursor: *//Ip' "$IT_DIR/ph" | tr -d '\r')" "$cur"
        fd_start
        restarted=1
        it_log "sluice-feed restarted after $got lines"
        continue
    fi
    if ((crashed == 0 && got >= 25)); then
        fd_stop KILL
        fd_start
        crashed=1
        it_log "sluice-feed killed and started again after $got lines"
    fi
    fd_tail "$TOK" ds1 || it_fail "tail page failed: $(cat "$IT_DIR/body")"
done
wait "$uploader" || it_fail "the uploader failed"
it_wait_outcomes "$N" 30
# Nothing more to read.
fd_tail "$TOK" ds1
it_eq "restarted and crashed mid-read" "$restarted$crashed" 11
it_eq "lines read" "$(wc -l <"$IT_DIR/lines-ds1")" "$N"
it_eq "distinct samples read" "$(jq -r .upload_id "$IT_DIR/lines-ds1" | sort -u | wc -l)" "$N"
it_eq "read in commit order, all of them" "$(jq -r .upload_id "$IT_DIR/lines-ds1" | md5sum)" \
    "$(it_sql "SELECT upload_id FROM samples WHERE dataset_id = 'ds1' ORDER BY feed_seq" | md5sum)"
it_eq "the last cursor is the last line's" "$(cat "$IT_DIR/cursor-ds1")" "$(jq -r .cursor "$IT_DIR/lines-ds1" | tail -1)"
fd_done
it_log "feed tail: all good"
