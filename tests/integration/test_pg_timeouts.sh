#!/usr/bin/env bash
# A database that stops answering without closing the connection is found
# out in seconds (sl_pg_connect's libpq defaults, common/include/sl/pg.h).
#
# The attack on the old code: libpq's own defaults.  A connection attempt
# to a host that has gone away waited for the kernel's SYN retries (about
# two minutes) and an open connection to a dead server for the kernel's
# keepalive (two hours), while the stage's Kafka transaction timed out
# under it.
#  1. Every connection a stage opens has TCP keepalives armed at 10 s
#     (the socket's keepalive timer, as ss(8) shows it), and a conninfo
#     that sets keepalives_idle itself keeps its own value.
#  2. A stage started on an address that never answers a connection (an
#     accept queue kept full: the kernel drops the SYNs) gives up its
#     attempt after connect_timeout's 10 s, and after the conninfo's own
#     connect_timeout when it sets one.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init pgtimeouts

W=$IT_DIR
pg_port=$(it_pg_port) || exit 1
command -v ss >/dev/null || it_fail "no ss (iproute2) on PATH"

# keepalive_s PID: the seconds left on the keepalive timer of PID's
# connection to the database ("" when it has none).  ss prints the timer
# as "119min", "9min59sec", "59sec" or "9.104ms" (9.104 s).
keepalive_s() {
    ss -Htnpo state established "( dport = :$pg_port )" 2>/dev/null |
        grep -F "pid=$1," | sed -n 's/.*timer:(keepalive,\([^,]*\),.*/\1/p' | head -n 1 |
        awk '{ t = $0; s = 0
               if (match(t, /[0-9]+min/)) s += 60 * substr(t, RSTART, RLENGTH - 3)
               if (match(t, /[0-9]+sec/)) s += substr(t, RSTART, RLENGTH - 3)
               if (match(t, /[0-9]+\.[0-9]+ms/)) s += substr(t, RSTART, RLENGTH - 2)
               else if (match(t, /[0-9]+ms/)) s += substr(t, RSTART, RLENGTH - 2) / 1000
               print s }'
}

# --- 1. keepalives ------------------------------------------------------------
it_start commit
IT_DSN_EXTRA="keepalives_idle=600" it_start scan
# The reading is kept from the first time the timer shows: while a
# statement is in flight (commit checks the database every 5 s) ss can show
# the socket's retransmission timer instead, "timer:(on,...)".
declare -A KA=()
ka_shown() {
    KA[$1]=$(keepalive_s "${IT_PIDS[$1]}" || true)   # no connection yet: grep fails
    [[ -n ${KA[$1]} ]]
}
for svc in commit scan; do it_wait_until 10 ka_shown "$svc"; done
k=${KA[commit]}
[[ -n $k ]] || it_fail "commit: no keepalive timer on its connection: $(ss -Htnpo state established "( dport = :$pg_port )")"
awk -v k="$k" 'BEGIN { exit !(k > 0 && k <= 10) }' || it_fail "commit: keepalive in ${k} s, want at most 10"
it_log "commit's connection: keepalive probe in ${k} s"
k=${KA[scan]}
[[ -n $k ]] || it_fail "scan: no keepalive timer on its connection: $(ss -Htnpo state established "( dport = :$pg_port )")"
awk -v k="$k" 'BEGIN { exit !(k > 60 && k <= 600) }' || it_fail "scan: keepalive in ${k} s, want its conninfo's 600"
it_log "scan's connection (keepalives_idle=600 in its conninfo): keepalive probe in ${k} s"
it_kill commit
it_kill scan

# --- 2. connect_timeout -------------------------------------------------------
python3 "$IT_SRC/tests/integration/tcp_blackhole.py" >"$W/blackhole.log" 2>&1 &
IT_PIDS[blackhole]=$!
bh_port() {
    # the log may not exist yet: the background job opens it itself
    bh=$(head -n 1 "$W/blackhole.log" 2>/dev/null || true)
    [[ $bh =~ ^[0-9]+$ ]] && return 0
    kill -0 "${IT_PIDS[blackhole]}" 2>/dev/null || it_fail "tcp_blackhole: $(cat "$W/blackhole.log")"
    return 1
}
it_wait_until 10 bh_port
[[ $bh =~ ^[0-9]+$ ]] || it_fail "tcp_blackhole printed no port"

# attempt TAG EXTRA: one start of scan on the unanswered address (no
# retry: budget 1 ms); prints its milliseconds after checking it exited 1.
attempt() {
    local t0 rc=0
    t0=$(date +%s%N)
    SLUICE_PG_DSN="$(it_svc_dsn scan) port=$bh $2" "$IT_BIN/sluice-scan" -X retry.budget.ms=1 \
        >"$W/$1.log" 2>&1 || rc=$?
    it_eq "$1: exit status" "$rc" 1
    grep -q 'timeout expired' "$W/$1.log" || it_fail "$1: no timeout in its log: $(tail -2 "$W/$1.log")"
    echo $((($(date +%s%N) - t0) / 1000000))
}
ms=$(attempt default "")
it_log "connection attempt given up after ${ms} ms (connect_timeout 10 s)"
((ms >= 9000 && ms < 30000)) || it_fail "gave up after ${ms} ms, want about 10 s"
ms=$(attempt own "connect_timeout=2")
it_log "with connect_timeout=2 in the conninfo: ${ms} ms"
((ms >= 1500 && ms < 8000)) || it_fail "gave up after ${ms} ms, want about 2 s"
it_kill blackhole
it_log "PASS"
