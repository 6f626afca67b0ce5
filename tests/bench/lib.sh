#!/usr/bin/env bash
# tests/bench/lib.sh -- what the benchmark scripts share, sourced after
# deploy/lib.sh: the generator of the uploads they send, how they count
# the outcomes while they wait, the CPU of a process and of PostgreSQL,
# and the page cache written out between phases (and filled first).

# bench_poller_open DIR PSQL DSN: one psql session, kept open, for the
# polls of the waits (bench_poll).  A new psql a poll cost about 13 ms
# of CPU on these machines (9 in psql: its start and its SCRAM key
# derivation; 4 in the server's new backend), taken once a second from
# the two cores the measured processes run on; through one session,
# under 0.2 ms in each (tests/bench/README.md).  The
# session talks through two FIFOs in DIR.  bench_poller_close ends it;
# call it before any bare `wait`, which would otherwise wait for psql.
BENCH_POLL_PID="" BENCH_POLL_IN="" BENCH_POLL_OUT=""
bench_poller_open() {
    mkfifo "$1/poll.in" "$1/poll.out"
    "$2" -XAtq "$3" <"$1/poll.in" >"$1/poll.out" 2>&1 &
    BENCH_POLL_PID=$!
    # in this order: psql opens its input first, then its output
    exec {BENCH_POLL_IN}>"$1/poll.in" {BENCH_POLL_OUT}<"$1/poll.out"
}
bench_poller_close() {
    [[ -n $BENCH_POLL_PID ]] || return 0
    # \q, not only the end of its input: the processes started since hold
    # the FIFO open too.  In a subshell: were psql gone, SIGPIPE would end
    # the shell itself, in the middle of its cleanup.
    (printf '\\q\n' >&"$BENCH_POLL_IN") 2>/dev/null || true
    exec {BENCH_POLL_IN}>&- {BENCH_POLL_OUT}<&-
    sl_wait_gone "$BENCH_POLL_PID" 5 || kill -TERM "$BENCH_POLL_PID" 2>/dev/null || true
    wait "$BENCH_POLL_PID" 2>/dev/null || true
    BENCH_POLL_PID="" BENCH_POLL_IN="" BENCH_POLL_OUT=""
}
# bench_poll SQL: the query's result lines through the open session;
# fails (the server's message on stderr) on an error, when psql has gone,
# or when no answer comes in 60 s.  Call it in a command substitution
# (its SIGPIPE, were psql gone, then ends that subshell only), after
# bench_poller_open.
bench_poll() {
    local line out="" bad=""
    [[ -n $BENCH_POLL_PID ]] || { echo "bench: no polling session open (bench_poller_open)" >&2; return 1; }
    # the statement ended (a lone ";" after one that has its own is none)
    printf '%s\n;\n\\echo bench-poll-end\n' "$1" >&"$BENCH_POLL_IN" || return 1
    while IFS= read -r -t 60 line <&"$BENCH_POLL_OUT"; do
        if [[ $line == bench-poll-end ]]; then
            [[ -z $bad ]] || { printf '%s\n' "$bad" >&2; return 1; }
            [[ -z $out ]] || printf '%s\n' "$out"
            return 0
        fi
        # the server's messages at the start of a line (its detail, hint
        # and LINE lines follow: added to the output, which then goes unused)
        case $line in
            ERROR:* | FATAL:* | PANIC:* | psql:*) bad+="$line " ;;
            *) out+=${out:+$'\n'}$line ;;
        esac
    done
    echo "bench: the polling session did not answer" >&2
    return 1
}

# bench_outcomes: samples + rejections, exactly: a scan of both tables, so
# polled once a second over a run of 100,000 rows it costs PostgreSQL
# 8-17 us a sample (pg_stat_statements), charged to sluice's figures.
# bench_outcomes_bound: at least that, from one row -- the next feed
# position (commit reserves one per sample in the batch's transaction;
# a rolled-back batch's are not taken) -- and the rejections (few in a
# benchmark).  Both go through bench_poll.
bench_outcomes() { bench_poll "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)"; }
bench_outcomes_bound() {
    bench_poll "SELECT (SELECT next_seq - 1 FROM feed_clock WHERE stream = 'samples') + (SELECT count(*) FROM rejections)"
}
# bench_wait_outcomes TARGET [CHECK]: returns once samples + rejections
# reach TARGET, polling the bound once a second and counting only once it
# is there; CHECK (a command) runs between polls and may exit.
bench_wait_outcomes() {
    local n exact=0
    while :; do
        if ((exact)); then n=$(bench_outcomes); else n=$(bench_outcomes_bound); fi || return 1
        if ((n >= $1)); then
            ((exact)) && return 0
            exact=1
            continue
        fi
        exact=0
        sleep 1
        [[ -z ${2:-} ]] || $2
    done
}

# bench_flush_dirty [PSQL DSN]: writes out what the page cache holds
# unwritten (`sync`) and prints "N MB in S s".  The kernel writes dirty
# pages out once they are 30 s old (vm.dirty_expire_centisecs): after a
# run that wrote hundreds of MB of broker segments and database pages,
# that lands as one burst in whatever is measured next, and its database
# commits wait behind it (tests/bench/README.md: 750 MB in 0.9 s, one
# commit waiting 923 ms).  With PSQL and an admin DSN, PostgreSQL's own
# dirty buffers go first (CHECKPOINT, "and a checkpoint of N MB"):
# otherwise the next run's backends, needing a free buffer, write out
# what the runs before them dirtied (tests/bench/README.md: up to 900 MB
# in one drain).  Called before each measured phase, so that it pays for
# its own writes only.
bench_flush_dirty() {
    local mb t ck=""
    t=$(date +%s.%N)
    if [[ -n ${2:-} ]]; then
        # one session: the buffers the checkpointer has written, before and after
        ck=$("$1" -XAtq -v ON_ERROR_STOP=1 "$2" -c "SELECT buffers_checkpoint FROM pg_stat_bgwriter" \
                -c "CHECKPOINT" -c "SELECT buffers_checkpoint FROM pg_stat_bgwriter" |
            awk 'NR == 1 { a = $1 } NR == 2 { b = $1 }
                 END { if (NR != 2) exit 1; printf " and a checkpoint of %.0f MB", (b - a) * 8 / 1024 }') ||
            return 1
    fi
    mb=$(awk '/^Dirty:/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)
    sync
    awk -v m="$mb" -v c="$ck" -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%d MB%s in %.1f s\n", m, c, b - a }'
}

# bench_settle PSQL DSN [OPTS]: before a measured phase, VACUUM (ANALYZE)
# the database (VACUUM OPTS if given) with DSN (an admin login), then
# bench_flush_dirty; prints "vacuum S s; <bench_flush_dirty's line>".  An
# insert-only table is autovacuumed once its inserts since the last
# vacuum pass a fifth of its rows, so without it the rows the runs before
# inserted are vacuumed inside whichever phase comes next, their CPU that
# phase's (tests/bench/README.md: 9-14 us a sample of the chain's drain).
bench_settle() {
    local t
    t=$(date +%s.%N)
    "$1" -XAtq -v ON_ERROR_STOP=1 "$2" -c "VACUUM ${3:-(ANALYZE)}" >/dev/null || return 1
    printf 'vacuum %s; ' "$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')"
    bench_flush_dirty "$1" "$2"
}
# bench_after_phase PSQL DSN PGPID: right after a measured phase, its own
# rows vacuumed (what autovacuum does with an insert-only table's new
# pages: their bits in the visibility map; no ANALYZE, whose cost is a
# table's, not its new rows') and its dirty buffers, which shared_buffers
# holds past its end, written out by a checkpoint (bench_settle).  Prints
# PostgreSQL's CPU seconds over that (bench_cpu_pg of the postmaster
# PGPID), a tab, and bench_settle's line: the phase is charged with that
# CPU, as with any autovacuum run inside it.
bench_after_phase() {
    local a line
    a=$(bench_cpu_pg "$3")
    line=$(bench_settle "$1" "$2" "(ANALYZE false)") || return 1
    printf '%s\t%s\n' "$(awk -v a="$a" -v b="$(bench_cpu_pg "$3")" 'BEGIN { printf "%.2f", b - a }')" "$line"
}
# bench_autovac_mark PSQL DSN -> "V A": autovacuum and autoanalyze runs so
# far over all tables (a worker reports when it ends); the difference of
# two marks is what landed in between.
bench_autovac_mark() {
    "$1" -XAtq -v ON_ERROR_STOP=1 "$2" -c "SELECT coalesce(sum(autovacuum_count), 0), coalesce(sum(autoanalyze_count), 0) FROM pg_stat_all_tables" | tr '|' ' '
}

# bench_wal_mark PSQL DSN -> "LSN FPI": the WAL's position in bytes (exact
# whenever it is read) and the full-page images written so far; the
# difference of two marks is what was logged in between.  Not
# pg_stat_wal's wal_bytes: a backend that lives through several phases
# reports its counts to it in batches (at most once a second, later once
# idle), so readings around a phase missed a varying part of the WAL
# written just before them (4,269-5,896 bytes a sample in runs of the
# same code; tests/bench/README.md).  wal_fpi keeps that lag: read it
# after the phase's processes are gone where they can be.
bench_wal_mark() {
    "$1" -XAtq -v ON_ERROR_STOP=1 "$2" \
        -c "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn, wal_fpi FROM pg_stat_wal" | tr '|' ' '
}
# bench_stop_all NAME: sends TERM to every process in the associative array
# NAME (stage -> PID), waits for each, and empties it.
bench_stop_all() {
    local -n procs=$1
    local s
    for s in "${!procs[@]}"; do kill -TERM "${procs[$s]}" 2>/dev/null || true; done
    for s in "${!procs[@]}"; do wait "${procs[$s]}" 2>/dev/null || true; done
    procs=()
}
# bench_warm_opts: the stage options of a warm-up, "-X batch.size=B" with
# B = SLUICE_BENCH_WARMUP_BATCH (default 100): the warm-up's stages commit
# a transaction every B uploads, not every 5,000 as when measured.  The
# broker's JIT compiles a method after thousands of calls, and much of
# what a transaction or a request runs (the transaction coordinator, the
# markers, the offset commits, request parsing) is called a few times a
# transaction: a warm-up of 40,000 uploads in transactions of 5,000 left
# those paths to be compiled in the chain's drain measured after it, at
# 20-22 us a sample of the broker's CPU; 200,000 uploads, 24.  In
# transactions of 100 the same 40,000 make fifty times as many, and the
# drain after it paid 7-23 (tests/bench/README.md, "A warm-up in small
# transactions").  Dies on a B that is not a whole number from 1: call it
# in a plain assignment, so that set -e stops the script.
bench_warm_opts() {
    local b=${SLUICE_BENCH_WARMUP_BATCH:-100}
    [[ $b =~ ^[1-9][0-9]{0,8}$ ]] ||
        sl_die bench "SLUICE_BENCH_WARMUP_BATCH must be a whole number from 1, not '$b'"
    echo "-X batch.size=$b"
}
# bench_cpu PID: user+sys seconds of a process (0 when it has gone).
bench_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# bench_cpu_sys PID: the part of it spent in the kernel (system seconds:
# system calls, page faults, the page cache's copies and zeroing).
bench_cpu_sys() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", $15 / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# bench_cpu_pg PID: PostgreSQL's user+sys seconds, given its postmaster's
# pid: the postmaster's, its live children's, and those of the children
# it has reaped (its cutime and cstime: a backend or autovacuum worker
# that ended between two readings counts with what it used in between).
# 0 without a pid.
bench_cpu_pg() {
    local p
    [[ -n ${1:-} ]] || { echo 0; return; }
    { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($16 + $17) / hz }' "/proc/$1/stat" 2>/dev/null
      for p in "$1" $(pgrep -P "$1"); do bench_cpu "$p"; echo; done; } |
        awk '{ s += $1 } END { printf "%.2f", s }'
}

# bench_pg_pid STACKDIR: the pid of the postmaster of a stack that
# deploy/stack.sh started in STACKDIR (empty when it has none).
bench_pg_pid() { head -n 1 "$1/pg/data/postmaster.pid" 2>/dev/null || true; }
# bench_cpu_threads PID ERE: user+sys seconds of PID's threads whose name
# (/proc/PID/task/*/comm) matches ERE.
bench_cpu_threads() {
    local t
    for t in /proc/"$1"/task/*; do
        if grep -Eq "$2" "$t/comm" 2>/dev/null; then sed 's/.*) //' "$t/stat"; fi
    done | awk -v hz="$(getconf CLK_TCK)" '{ s += $12 + $13 } END { printf "%.2f", s / hz }'
}
# bench_cpu_jit PID: the broker's JIT compiler threads (C1/C2), part of
# the broker's CPU: a warm-up cost that a long-running broker stops paying.
bench_cpu_jit() { bench_cpu_threads "$1" Compiler; }

# bench_status PID KEY: KEY's value in /proc/PID/status (VmRSS, Threads:
# a number, kB for sizes); fails when the process has gone.
bench_status() { awk -v k="$2:" '$1 == k { print $2 }' <"/proc/$1/status"; }
# bench_peak_mb PID: the most memory the process has held (VmHWM, its
# peak resident set), in MB; 0 when it has gone.
bench_peak_mb() {
    local kb
    kb=$(bench_status "$1" VmHWM 2>/dev/null) || kb=0
    awk -v k="${kb:-0}" 'BEGIN { printf "%.0f", k / 1024 }'
}

# bench_free_mb: the machine's free memory (MemFree), in MB.
bench_free_mb() { awk '/^MemFree:/ { printf "%d", $2 / 1024 }' /proc/meminfo; }

# bench_fill_cache FILE: fills the page cache with FILE (zeros, written
# and synced) until about SLUICE_BENCH_FILL_FREE_MB (default 1024) of the
# machine's memory is left free, and prints "N MB in S s, M MB left
# free" (or why it did not fill it).  A server that has run for a while has no
# free memory to speak of: the page cache holds it all, and a file
# growing takes a page the kernel reclaims from it.  A machine started
# for a benchmark has gigabytes free, and on a virtual machine whose host
# backs guest memory only when it is first touched (and takes freed
# memory back) each such page costs several times more the first time:
# 9.4-9.5 us a 4 KiB page against 1.5-1.6 for memory touched before, on
# the machine of tests/bench/README.md ("Memory the host has not
# backed").  Broker segments, WAL and table files grow by tens of KB a
# sample, so without this a drain's CPU a sample moved by a fifth with
# what ran on the machine before it.  SLUICE_BENCH_FILL=0: not filled.
# The caller deletes FILE.
bench_fill_cache() {
    local file=$1 keep=${SLUICE_BENCH_FILL_FREE_MB:-1024} free avail mb t
    if [[ ${SLUICE_BENCH_FILL:-1} == 0 ]]; then
        echo "not filled (SLUICE_BENCH_FILL=0)"
        return 0
    fi
    sl_log bench "filling the page cache (SLUICE_BENCH_FILL=0: not)"
    free=$(bench_free_mb)
    avail=$(df -Pm "$(dirname "$file")" | awk 'NR == 2 { print $4 }')
    mb=$((free - keep))
    # leave the disk 4 GB besides
    ((mb > avail - 4096)) && mb=$((avail - 4096))
    if ((mb < 256)); then
        echo "not filled: ${free} MB free, ${avail} MB of disk"
        return 0
    fi
    t=$(date +%s.%N)
    if ! dd if=/dev/zero of="$file" bs=1M count="$mb" conv=fsync status=none 2>/dev/null; then
        rm -f "$file"
        echo "not filled: writing $mb MB failed"
        return 0
    fi
    awk -v m="$mb" -v a="$t" -v b="$(date +%s.%N)" -v f="$(bench_free_mb)" \
        'BEGIN { printf "%d MB in %.0f s, %d MB left free\n", m, b - a, f }'
}

# make_files DIR COUNT TAG: COUNT distinct English-like files of SIZE bytes
# (SIZE from the caller), the same bytes for the same TAG on every run.
make_files() {
    mkdir -p "$1"
    python3 - "$1" "$2" "$SIZE" "$3" <<'PY'
import os, random, sys
d, n, size, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
words = ("the river keeps its counsel and carries what it is given to the "
         "sea while the town sleeps under a sky of slate and early light").split()
rng = random.Random(tag)
for i in range(n):
    head = "%s sample %d: " % (tag, i)
    body, length = [], len(head)
    while length < size:
        w = rng.choice(words)
        body.append(w)
        length += len(w) + 1
    with open(os.path.join(d, "%07d.txt" % i), "w") as f:
        f.write((head + " ".join(body))[:size - 1] + "\n")
PY
}
