#!/usr/bin/env bash
# Chaos run (issue #15): N signed uploads, a known number of them bad,
# through the whole chain (validate -> scan -> license -> commit) of a
# private stack with three brokers and several instances of every stage,
# while, at random moments, stage instances die (kill -9, repeatedly), one
# broker of three dies (kill -9) and comes back, PostgreSQL stops at once
# (pg_ctl stop -m immediate) and comes back, and one stage instance is
# paused (SIGSTOP) for longer than its session timeout and then resumed
# (SIGCONT): it must be fenced, and must not write after it resumes.
#
# At the end, exactly-once is checked to the row: exactly N outcomes;
# exactly the expected number of each rejection code (signature_invalid,
# creator_unknown, pii_blocked, attestation_missing, license_unknown, each
# a different count); no upload id twice among samples and rejections; every
# topic read read_committed holds each upload id once and exactly the
# expected number of messages; `sluicectl audit verify --all` clean; every
# stage's lag zero; every topic replicated three times with
# min.insync.replicas 2 (the transaction state log and the offsets too).
# It prints the faults, how long each outage lasted, the time to recover,
# and the throughput before, during and after the faults.  Exit 0 only if
# every check holds.
#
# usage: tests/chaos/chaos.sh [N]                       (default 100000)
# env:   SLUICE_BIN_DIR            binaries (default: <repo>/build/bin, built
#                                  as a release tree when missing)
#        SLUICE_CHAOS_BAD          bad uploads of the first kind (default N/200;
#                                  kind k gets that + k - 1)
#        SLUICE_CHAOS_INSTANCES    instances per stage (default 2)
#        SLUICE_CHAOS_PARTITIONS   partitions per topic (default 6)
#        SLUICE_CHAOS_SEND_S       seconds the uploads are spread over
#                                  (default 90; 0: as fast as possible); the
#                                  last tenth waits until the broker, database
#                                  and pause faults are over
#        SLUICE_CHAOS_PAUSE_S      SIGSTOP length (default 15; session 10 s)
#        SLUICE_CHAOS_SIZE         bytes per good upload (default 1024)
#        SLUICE_CHAOS_SEED         random seed (default: from the clock)
#        SLUICE_CHAOS_TIMEOUT      seconds to wait for all outcomes (default
#                                  600 + N / 100)
#        SLUICE_CHAOS_KEEP=1       keep the work directory and the stack's logs
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=deploy/lib.sh
. "$ROOT/deploy/lib.sh"

N=${1:-100000}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [N]" >&2; exit 2; }
B1=${SLUICE_CHAOS_BAD:-$((N / 200))}
INSTANCES=${SLUICE_CHAOS_INSTANCES:-2}
PARTS=${SLUICE_CHAOS_PARTITIONS:-6}
SEND_S=${SLUICE_CHAOS_SEND_S:-90}
PAUSE_S=${SLUICE_CHAOS_PAUSE_S:-15}
SIZE=${SLUICE_CHAOS_SIZE:-1024}
SEED=${SLUICE_CHAOS_SEED:-$(date +%s)}
TIMEOUT=${SLUICE_CHAOS_TIMEOUT:-$((600 + N / 100))}
RANDOM=$SEED
ROUNDS=10

say() { printf '[chaos %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "FAIL: $*"; FAILED=1; exit 1; }

# The five kinds of bad upload: name, expected code, stage that refuses it.
KINDS=(sig ghost pii att lic)
declare -A CODE=([sig]=signature_invalid [ghost]=creator_unknown [pii]=pii_blocked
    [att]=attestation_missing [lic]=license_unknown)
declare -A COUNT=()
bad=0
for i in "${!KINDS[@]}"; do
    COUNT[${KINDS[$i]}]=$((B1 + i))
    bad=$((bad + B1 + i))
done
GOOD=$((N - bad))
((GOOD > 0)) || { echo "chaos: N=$N is too small for $bad bad uploads" >&2; exit 2; }

# A caller's stack (a sourced stack.env, deploy/test.sh's) is not ours.
unset SLUICE_KAFKA_BROKERS SLUICE_PG_DSN SLUICE_TOPIC_PREFIX SLUICE_CONFIG KCAT_CONFIG \
    SLUICE_STACK_DIR SLUICE_KAFKA_PORT SLUICE_PG_PORT SLUICE_KAFKA_CONTROLLER_PORT

BIN=${SLUICE_BIN_DIR:-$ROOT/build/bin}
if [[ ! -x $BIN/sluicectl ]]; then
    [[ -z ${SLUICE_BIN_DIR:-} ]] || { echo "chaos: no $BIN/sluicectl" >&2; exit 2; }
    say "building the release tree in $ROOT/build"
    cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$ROOT/build" -j "$(nproc)" --target sluice-validate sluice-scan \
        sluice-license sluice-commit sluice-launch sluicectl >/dev/null
fi
export SLUICE_BIN_DIR=$BIN
PSQL=$(sl_pg_bindir)/psql
[[ -x $PSQL ]] || PSQL=psql

W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-chaos.XXXXXX")
chmod 711 "$W"   # the broker's and the database's users search it
S=$W/stack
UPLOADER=""
cleanup() {
    local rc=$?
    [[ -z $UPLOADER ]] || kill -TERM "$UPLOADER" 2>/dev/null || true
    : >"$W/faults.done"   # release a waiting uploader
    # A paused instance must not keep the stop waiting.
    local f
    for f in "$S"/run/*.pid; do [[ -f $f ]] && kill -CONT "$(cat "$f")" 2>/dev/null; done
    bash "$ROOT/deploy/stack.sh" stop --dir "$S" >"$W/stop.log" 2>&1 || rc=1
    if [[ -n ${SLUICE_CHAOS_KEEP:-} ]] || ((rc != 0)) || [[ -n ${FAILED:-} ]]; then
        say "kept $W (stack logs in $S/logs)"
    else
        rm -rf "$W"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { printf '%s\n' "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

say "seed $SEED: $N uploads ($GOOD good, $bad bad), 3 brokers, $INSTANCES instances per stage, $PARTS partitions"
T_START=$(now)
bash "$ROOT/deploy/stack.sh" start --dir "$S" --brokers 3 --instances "$INSTANCES" \
    --partitions "$PARTS" >"$W/start.log" 2>&1 || { tail -n 40 "$W/start.log" >&2; die "stack start failed"; }
STACK_UP_S=$(since "$T_START")
# shellcheck disable=SC1091
. "$S/stack.env"
export KCAT_CONFIG=$SLUICE_KCAT_CONFIG_ADMIN

sql() { "$PSQL" -XAtq -v ON_ERROR_STOP=1 "$SLUICE_PG_DSN" -c "$1"; }
# outcomes: samples + rejections + review items, or nothing while the
# database is down.
outcomes() {
    sql "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM rejections)
              + (SELECT count(*) FROM review_items)" 2>/dev/null || true
}

"$BIN/sluicectl" creator add chaos --generate-key "$W/chaos.pem" >/dev/null
"$BIN/sluicectl" dataset add chaos >/dev/null
openssl genpkey -algorithm ed25519 -out "$W/wrong.pem" 2>/dev/null

# Files: good ones (English-like, no PII), and per bad kind its own files,
# each set split into ROUNDS directories so bad ones are sent all along.
say "writing $N files"
python3 - "$W/files" "$GOOD" "$SIZE" "$ROUNDS" "$SEED" "${KINDS[@]/%/:}" <<PY
import os, random, sys
root, good, size, rounds, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
counts = {"sig": ${COUNT[sig]}, "ghost": ${COUNT[ghost]}, "pii": ${COUNT[pii]}, "att": ${COUNT[att]}, "lic": ${COUNT[lic]}}
words = ("the river keeps its counsel and carries what it is given to the "
         "sea while the town sleeps under a sky of slate and early light").split()
rng = random.Random(seed)
def write(kind, n, body):
    for i in range(n):
        d = os.path.join(root, kind, "r%02d" % (i % rounds))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "%07d.txt" % i), "w") as f:
            f.write(body(i))
def good_body(i):
    head = "chaos %s sample %d: " % (seed, i)
    out, n = [head], len(head)
    while n < size:
        w = rng.choice(words); out.append(w); n += len(w) + 1
    return (" ".join(out))[:size - 1] + "\n"
write("good", good, good_body)
for kind, n in counts.items():
    if kind == "pii":   # a payment card number that passes Luhn: blocked by scan
        write(kind, n, lambda i: "chaos %s %s %d: card 4539 1488 0343 6467 on file\n" % (seed, kind, i))
    else:
        write(kind, n, lambda i, k=kind: "chaos %s %s %d: a plain note\n" % (seed, k, i))
PY

RATE=0
((SEND_S == 0)) || RATE=$(((GOOD + SEND_S - 1) / SEND_S))
# The uploader, in the background: ROUNDS rounds of the good files (at RATE
# per second when set) and each kind's bad ones, as the creators' producer.
upload_all() {
    local r k rate=()
    ((RATE == 0)) || rate=(--rate "$RATE")
    export SLUICE_CONFIG=$SLUICE_CONFIG_UPLOADER
    up() { "$BIN/sluicectl" upload --dataset chaos "$@" >>"$W/upload.log" 2>&1 || echo "$*" >>"$W/upload.failed"; }
    for ((r = 0; r < ROUNDS; r++)); do
        # The last round waits for the faults that must each happen once:
        # however fast the machine, they fall inside the run.
        if ((r == ROUNDS - 1)); then
            : >"$W/upload.held"
            while [[ ! -f $W/faults.done ]]; do sleep 0.5; done
            rm -f "$W/upload.held"
        fi
        d=$(printf 'r%02d' "$r")
        [[ ! -d $W/files/good/$d ]] || up --creator chaos --key "$W/chaos.pem" "${rate[@]}" "$W/files/good/$d"
        for k in "${KINDS[@]}"; do
            [[ -d $W/files/$k/$d ]] || continue
            case $k in
            sig) up --creator chaos --key "$W/wrong.pem" "$W/files/$k/$d" ;;
            ghost) up --creator ghost --key "$W/wrong.pem" "$W/files/$k/$d" ;;
            pii) up --creator chaos --key "$W/chaos.pem" "$W/files/$k/$d" ;;
            att) up --creator chaos --key "$W/chaos.pem" --no-attestation "$W/files/$k/$d" ;;
            lic) up --creator chaos --key "$W/chaos.pem" --license Not-A-License-1.0 "$W/files/$k/$d" ;;
            esac
        done
    done
    echo done >"$W/upload.done"
}

# The stage units (validate, validate-1, ...) and the Kafka stages' ones.
UNITS=() KUNITS=()
for st in validate scan license commit; do
    for ((k = 0; k < INSTANCES; k++)); do
        u=$st
        ((k == 0)) || u=$st-$k
        UNITS+=("$u")
        [[ $st == commit ]] || KUNITS+=("$u")
    done
done

EVENTS=()          # one line per fault, printed at the end
KILLS=0 BROKER_KILLS=0 PG_STOPS=0 PAUSES=0
FIRST_FAULT="" LAST_RECOVERED=""
declare -a MARK_T=() MARK_C=()   # (time, outcomes) at each fault's start and end

mark() { MARK_T+=("$(now)"); MARK_C+=("$(outcomes)"); }
log_size() { stat -c %s "$S/logs/$1.log" 2>/dev/null || echo 0; }
# log_since UNIT OFFSET: the unit's log after OFFSET.
log_since() { tail -c +"$(($2 + 1))" "$S/logs/$1.log" 2>/dev/null || true; }
rel() { elapsed "$T_RUN" "$1"; }
# wait_until SECS CMD...: poll CMD every 0.25 s; false after SECS.
wait_until() {
    local secs=$1 i; shift
    for ((i = 0; i < secs * 4; i++)); do
        "$@" && return 0
        sleep 0.25
    done
    return 1
}
run_done() { [[ -f $W/upload.done ]] && [[ $(outcomes) == "$N" ]]; }
in_progress() { ! run_done; }

# back_with_partitions UNIT OFFSET OLDPID: a new process of UNIT that has
# logged a partition assignment after OFFSET.
back_with_partitions() {
    local pid
    pid=$(sl_read_num "$S/run/$1.pid")
    [[ -n $pid && $pid != "$3" ]] && sl_pid_alive "$pid" &&
        log_since "$1" "$2" | grep -c '"msg":"assigned' >/dev/null
}

fault_kill_stage() {
    local u=${UNITS[RANDOM % ${#UNITS[@]}]} pid off t0 t1
    pid=$(sl_read_num "$S/run/$u.pid")
    [[ -n $pid ]] && sl_pid_alive "$pid" || { say "skip: $u has no running process"; return 0; }
    off=$(log_size "$u")
    t0=$(now)
    kill -KILL "$pid"
    KILLS=$((KILLS + 1))
    if wait_until 120 back_with_partitions "$u" "$off" "$pid"; then
        t1=$(now)
        EVENTS+=("$(printf '+%6ss  kill -9 %-11s (pid %s)  back with partitions in %s s' \
            "$(rel "$t0")" "$u" "$pid" "$(elapsed "$t0" "$t1")")")
    else
        t1=$(now)
        EVENTS+=("$(printf '+%6ss  kill -9 %-11s (pid %s)  no partition assignment seen within 120 s' \
            "$(rel "$t0")" "$u" "$pid")")
    fi
    LAST_RECOVERED=$t1
}

# isr_counts FILE: "PARTITIONS FULL": partitions in kcat -L's FILE, and
# those with three replicas in sync.
isr_counts() {
    echo "$(grep -c 'isrs:' "$1") $(grep -c 'isrs: [0-9]\+,[0-9]\+,[0-9]\+$' "$1")"
}
# all_isr_full: every partition of every topic has its three replicas in sync.
all_isr_full() {
    local all full
    kcat -b "$SLUICE_KAFKA_BROKERS" -L -m 5 >"$W/isr.txt" 2>/dev/null || return 1
    read -r all full < <(isr_counts "$W/isr.txt")
    ((all > 0 && all == full))
}

fault_broker() {
    local k=$((RANDOM % 3 + 1)) name pid down t0 t1 t2
    name=kafka
    ((k == 1)) || name=kafka-$k
    pid=$(sl_read_num "$S/run/$name.pid")
    [[ -n $pid ]] && sl_pid_alive "$pid" || die "broker $k is not running before its fault"
    down=$((RANDOM % 6 + 3))
    t0=$(now)
    kill -KILL "$pid"
    BROKER_KILLS=$((BROKER_KILLS + 1))
    say "killed broker $k (pid $pid); restarting it in ${down}s"
    sleep "$down"
    t1=$(now)
    bash "$ROOT/deploy/stack.sh" start --dir "$S" >>"$W/restart.log" 2>&1 ||
        { tail -n 30 "$W/restart.log" >&2; die "stack.sh start did not bring broker $k back"; }
    local ts
    ts=$(now)
    wait_until 180 all_isr_full || die "broker $k did not rejoin every ISR within 180 s"
    t2=$(now)
    EVENTS+=("$(printf '+%6ss  kill -9 broker %d (pid %s), down %s s (stack.sh start %s s); back in every ISR %s s after the kill' \
        "$(rel "$t0")" "$k" "$pid" "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$ts")" "$(elapsed "$t0" "$t2")")")
    LAST_RECOVERED=$t2
}

outcomes_above() { local c; c=$(outcomes); [[ -n $c ]] && ((c > $1)); }
# Uploads sent so far (sluicectl upload's summary line of each call).
sent_so_far() { awk '/^uploaded [0-9]+ files/ { n += $2 } END { print n + 0 }' "$W/upload.log" 2>/dev/null || echo 0; }

fault_pg() {
    local down before t0 t1 t2
    down=$((RANDOM % 5 + 2))
    before=$(outcomes)
    t0=$(now)
    runuser -u postgres -- "$(sl_pg_bindir)/pg_ctl" -D "$S/pg/data" stop -m immediate >>"$W/pg.log" 2>&1 ||
        die "pg_ctl stop -m immediate failed"
    PG_STOPS=$((PG_STOPS + 1))
    say "postgresql stopped (immediate); restarting it in ${down}s"
    sleep "$down"
    t1=$(now)
    # As its service manager would: the same data directory and settings.
    runuser -u postgres -- "$(sl_pg_bindir)/pg_ctl" -D "$S/pg/data" -l "$S/logs/postgresql.log" \
        -w -t 120 start >>"$W/pg.log" 2>&1 || { tail -n 20 "$W/pg.log" >&2; die "pg_ctl start failed"; }
    local ts
    ts=$(now)
    local recovered="no new outcome within 180 s"
    if [[ -f $W/upload.held && -n $before ]] && ((before >= $(sent_so_far))); then
        # Nothing was in flight: every upload sent had its outcome and the
        # last round waits for the faults, so no outcome can come to show
        # recovery here (waiting for one took 180 s); the last round does,
        # through stages whose sessions the outage broke.
        wait_until 60 outcomes_above -1 || die "the database did not answer within 60 s of its start"
        recovered="nothing in flight (every upload sent had its outcome); database answering $(elapsed "$t0" "$(now)") s after the stop"
        LAST_RECOVERED=$(now)
    elif wait_until 180 outcomes_above "${before:-0}"; then
        t2=$(now)
        recovered="outcomes flowing again $(elapsed "$t0" "$t2") s after the stop"
        LAST_RECOVERED=$t2
    elif run_done; then
        recovered="(the run had ended)"
        LAST_RECOVERED=$(now)
    fi
    EVENTS+=("$(printf '+%6ss  pg_ctl stop -m immediate, down %s s (pg_ctl start %s s); %s' \
        "$(rel "$t0")" "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$ts")" "$recovered")")
}

fence_seen() { log_since "$1" "$2" | grep -Ec 'assignment lost|[Ff]ence|FENCED|UNKNOWN_MEMBER|ILLEGAL_GENERATION' >/dev/null; }

fault_pause() {
    local u=${KUNITS[RANDOM % ${#KUNITS[@]}]} pid off t0 t1 t2 line
    pid=$(sl_read_num "$S/run/$u.pid")
    [[ -n $pid ]] && sl_pid_alive "$pid" || die "$u has no running process to pause"
    t0=$(now)
    kill -STOP "$pid"
    PAUSES=$((PAUSES + 1))
    say "paused $u (pid $pid) for ${PAUSE_S}s"
    sleep "$PAUSE_S"
    off=$(log_size "$u")
    t1=$(now)
    kill -CONT "$pid"
    # Fenced: its own session expired while it slept, so librdkafka drops
    # the assignment and the runner aborts the open transaction before
    # anything else; the group (other instance) took the partitions.
    wait_until 60 fence_seen "$u" "$off" || die "$u wrote no fencing after SIGCONT (log $S/logs/$u.log)"
    line=$(log_since "$u" "$off" | grep -E 'assignment lost|[Ff]ence|FENCED|UNKNOWN_MEMBER|ILLEGAL_GENERATION' |
        head -n 1 | sed -n 's/.*"msg":"\([^"]*\)".*/\1/p' | cut -c1-70)
    wait_until 120 back_with_partitions "$u" "$off" "" || die "$u did not get partitions back after its pause"
    t2=$(now)
    EVENTS+=("$(printf '+%6ss  SIGSTOP %-11s (pid %s) %s s > session 10 s; fenced on SIGCONT (%s); back with partitions in %s s' \
        "$(rel "$t0")" "$u" "$pid" "$(elapsed "$t0" "$t1")" "$line" "$(elapsed "$t1" "$t2")")")
    LAST_RECOVERED=$t2
}

# --- the run -------------------------------------------------------------------

T_RUN=$(now)
upload_all &
UPLOADER=$!
wait_until 120 outcomes_above 0 || die "no outcome within 120 s of the first upload"
T_FLOW=$(now)
C_FLOW=$(outcomes)

# The faults that must each happen once, in random order, each after one or
# two stage kills; then stage kills at random until the uploads are sent and
# nine tenths of the outcomes are in.
mandatory=(broker pg pause)
for ((i = ${#mandatory[@]} - 1; i > 0; i--)); do
    j=$((RANDOM % (i + 1)))
    tmp=${mandatory[i]} mandatory[i]=${mandatory[j]} mandatory[j]=$tmp
done
sleep $((RANDOM % 5 + 8))   # a baseline before the first fault
C_FIRST=$(outcomes)
FIRST_FAULT=$(now)
for f in "${mandatory[@]}"; do
    for ((j = RANDOM % 2 + 1; j > 0; j--)); do
        in_progress || die "the run ended before every fault: lower the rate (SLUICE_CHAOS_SEND_S) or raise N"
        fault_kill_stage
        sleep $((RANDOM % 3 + 1))
    done
    in_progress || die "the run ended before the $f fault: raise SLUICE_CHAOS_SEND_S or N"
    case $f in
    broker) fault_broker ;;
    pg) fault_pg ;;
    pause) fault_pause ;;
    esac
    sleep $((RANDOM % 3 + 1))
done
: >"$W/faults.done"
kill_until=$((SECONDS + TIMEOUT))
while ((SECONDS < kill_until)) &&
    { [[ ! -f $W/upload.done ]] || { c=$(outcomes); [[ -n $c ]] && ((c * 10 < N * 9)); }; }; do
    fault_kill_stage
    sleep $((RANDOM % 4 + 2))
done
: "${LAST_RECOVERED:=$(now)}"

say "faults over; waiting for all $N outcomes"
wait "$UPLOADER" || true
UPLOADER=""
[[ ! -f $W/upload.failed ]] || { cat "$W/upload.failed" >&2; die "uploads failed (see $W/upload.log)"; }
for ((i = 0; i < TIMEOUT; i++)); do
    c=$(outcomes)
    [[ -n $c ]] && ((c >= N)) && break
    sleep 1
done
T_END=$(now)
[[ $(outcomes) == "$N" ]] || die "outcomes: $(outcomes), want $N (after ${TIMEOUT}s)"

# --- checks --------------------------------------------------------------------
CHECKS=()
check() { # WHAT GOT WANT
    [[ $2 == "$3" ]] || { printf '%s\n' "${CHECKS[@]}" >&2; die "$1: got '$2', want '$3'"; }
    CHECKS+=("  ok  $1 = $3")
}
sleep 2   # a late duplicate would show now
check "outcomes" "$(outcomes)" "$N"
check "samples" "$(sql "SELECT count(*) FROM samples")" "$GOOD"
check "review items" "$(sql "SELECT count(*) FROM review_items")" 0
for k in "${KINDS[@]}"; do
    check "rejections ${CODE[$k]}" "$(sql "SELECT count(*) FROM rejections WHERE code = '${CODE[$k]}'")" "${COUNT[$k]}"
done
check "rejections of any other code" "$(sql "SELECT count(*) FROM rejections WHERE code NOT IN
    ('signature_invalid', 'creator_unknown', 'pii_blocked', 'attestation_missing', 'license_unknown')")" 0
check "upload ids seen twice (samples + rejections)" "$(sql "SELECT count(*) FROM (SELECT upload_id FROM
    (SELECT upload_id FROM samples UNION ALL SELECT upload_id FROM rejections) u
    GROUP BY upload_id HAVING count(*) > 1) d")" 0
check "rejections without an upload id" "$(sql "SELECT count(*) FROM rejections WHERE upload_id IS NULL")" 0

# Each topic read read_committed: the expected number of messages, each
# upload id once.
v_want=$((N - COUNT[sig] - COUNT[ghost]))
s_want=$((v_want - COUNT[pii]))
l_want=$((s_want - COUNT[att] - COUNT[lic]))
declare -A TOPIC_WANT=([sluice.uploads]=$N [sluice.validated]=$v_want [sluice.scanned]=$s_want
    [sluice.licensed]=$l_want [sluice.rejected]=$bad [sluice.flagged]=0 [sluice.reviewed]=0)
for t in sluice.uploads sluice.validated sluice.scanned sluice.licensed sluice.rejected sluice.flagged sluice.reviewed; do
    kcat -b "$SLUICE_KAFKA_BROKERS" -C -t "$t" -e -q -X isolation.level=read_committed \
        -f '%k\n' >"$W/$t.keys" 2>"$W/kcat.err" || die "kcat -C $t: $(cat "$W/kcat.err")"
    check "$t messages (read_committed)" "$(wc -l <"$W/$t.keys")" "${TOPIC_WANT[$t]}"
    check "$t upload ids seen twice" "$(sort "$W/$t.keys" | uniq -d | wc -l)" 0
done

audit=$("$BIN/sluicectl" audit verify --all 2>&1) || die "audit verify --all: $audit"
check "audit verify --all" "$(grep -c ': clean$' <<<"$audit")" 1

# lag_total: the sum of every stage's lag, or "?" when one is unknown.
lag_total() {
    "$BIN/sluicectl" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
lags = [s.get("lag") for s in d.get("lag", [])]
print("?" if not lags or any(not isinstance(x, int) for x in lags) else sum(lags))'
}
lag_zero() { [[ $(lag_total) == 0 ]]; }
wait_until 60 lag_zero || true
check "lag of every stage" "$(lag_total)" 0

# Replication as configured: three replicas of every partition, all in
# sync again, and min.insync.replicas 2 on every topic, the transaction state
# log and the consumer offsets included.
kcat -b "$SLUICE_KAFKA_BROKERS" -L -m 30 >"$W/metadata.txt"
read -r parts_all parts_full < <(isr_counts "$W/metadata.txt")
((parts_all >= 7 * PARTS)) || die "kcat -L lists $parts_all partitions"
check "partitions with 3 replicas in sync (of $parts_all)" "$parts_full" "$parts_all"
java -Xmx128m -Dlog4j.configuration="file:$ROOT/deploy/log4j-tools.properties" -cp "$SL_KAFKA_LIB/*" \
    kafka.admin.ConfigCommand --bootstrap-server "$SLUICE_KAFKA_BROKERS" \
    --command-config "$SLUICE_KAFKA_ADMIN_PROPERTIES" --describe --all --entity-type topics \
    >"$W/topic-configs.txt" 2>>"$W/configcommand.err" || die "ConfigCommand: $(tail -n 5 "$W/configcommand.err")"
topics_n=$(grep -c "^All configs for topic" "$W/topic-configs.txt")
((topics_n >= 9)) || die "ConfigCommand described $topics_n topics"
check "topics with min.insync.replicas=2 (of $topics_n, __transaction_state and __consumer_offsets included)" \
    "$(grep -c '^ *min.insync.replicas=2 ' "$W/topic-configs.txt")" "$topics_n"
grep -q "^All configs for topic __transaction_state" "$W/topic-configs.txt" || die "no __transaction_state topic"

# --- figures -------------------------------------------------------------------
rate() { awk -v c="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; printf "%.0f", (d > 0 ? c / d : 0) }'; }
C_REC=$(sql "SELECT count(*) FROM (SELECT accepted_at AS t FROM samples UNION ALL
    SELECT committed_at FROM rejections) o WHERE t <= to_timestamp($LAST_RECOVERED)")
restarts=0
for u in "${UNITS[@]}"; do
    r=$(sl_read_num "$S/run/$u.restarts")
    restarts=$((restarts + ${r:-0}))
done
cat <<REPORT
sluice chaos run: $N signed uploads ($GOOD good, $bad bad), 3 brokers (RF 3, min.insync.replicas 2),
$INSTANCES instances of each stage, $PARTS partitions, $(nproc) cores, seed $SEED; uploads spread over ~${SEND_S}s
  stack start        ${STACK_UP_S} s
  faults (time from the first upload)
$(printf '    %s\n' "${EVENTS[@]}")
  totals             $KILLS stage kills (kill -9), $BROKER_KILLS broker kill, $PG_STOPS database outage, $PAUSES pause; $restarts supervisor restarts
  throughput (outcomes committed per second)
    before faults    $(rate "$((C_FIRST - C_FLOW))" "$T_FLOW" "$FIRST_FAULT")/s   ($((C_FIRST - C_FLOW)) in $(elapsed "$T_FLOW" "$FIRST_FAULT") s)
    during faults    $(rate "$((C_REC - C_FIRST))" "$FIRST_FAULT" "$LAST_RECOVERED")/s   ($((C_REC - C_FIRST)) in $(elapsed "$FIRST_FAULT" "$LAST_RECOVERED") s)
    after the last   $(rate "$((N - C_REC))" "$LAST_RECOVERED" "$T_END")/s   ($((N - C_REC)) in $(elapsed "$LAST_RECOVERED" "$T_END") s)
    whole run        $(rate "$N" "$T_RUN" "$T_END")/s   ($N in $(elapsed "$T_RUN" "$T_END") s, first upload to last outcome)
  checks
$(printf '%s\n' "${CHECKS[@]}")
chaos: PASS
REPORT
