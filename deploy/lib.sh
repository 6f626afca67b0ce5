# shellcheck shell=bash
# Shared helpers for the deploy/ scripts (install.sh, stack.sh, and the
# lead's test.sh / quickstart.sh). Source it; it defines functions and a few
# path variables and changes no shell options of its own.
#
#   SL_ROOT       repository root (absolute)
#   SL_CACHE      download cache, default $SL_ROOT/.cache (env SLUICE_CACHE_DIR)
#   SL_KAFKA_LIB  the broker's jars, $SL_CACHE/kafka-lib

# shellcheck disable=SC2034  # used by the scripts that source this file
SL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SL_CACHE=${SLUICE_CACHE_DIR:-$SL_ROOT/.cache}
SL_KAFKA_LIB=$SL_CACHE/kafka-lib

# sl_log PREFIX MSG... / sl_die PREFIX MSG...: short status lines on stderr.
sl_log() { local p=$1; shift; printf '%s: %s\n' "$p" "$*" >&2; }
sl_die() { local p=$1; shift; printf '%s: error: %s\n' "$p" "$*" >&2; exit 1; }

# sl_pkg_installed PKG: true when dpkg says PKG is installed.
sl_pkg_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# sl_pg_bindir: directory holding initdb/pg_ctl/postgres (env PG_BINDIR wins,
# then PostgreSQL 15, then the newest installed major version).
sl_pg_bindir() {
    if [[ -n ${PG_BINDIR:-} ]]; then printf '%s\n' "$PG_BINDIR"; return; fi
    if [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
        printf '%s\n' /usr/lib/postgresql/15/bin; return
    fi
    local d
    d=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -name pg_ctl -path '*/bin/*' 2>/dev/null | sort -V | tail -n 1)
    [[ -n $d ]] || return 1
    dirname "$d"
}

# sl_free_ports N: N distinct free TCP ports on 127.0.0.1, one per line. All
# sockets are held open together so the ports differ from each other.
sl_free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

# sl_port_free PORT: true when a server could listen on 127.0.0.1:PORT now.
# SO_REUSEADDR as Kafka and PostgreSQL use it: connections of a stopped
# server lingering in TIME_WAIT do not make its port busy.
sl_port_free() {
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

# sl_port_open PORT: true when something accepts TCP connections on
# 127.0.0.1:PORT (bash's /dev/tcp, no extra tools).
sl_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# sl_read_num FILE: the number (pid, count) stored in FILE, or nothing.
sl_read_num() {
    local pid=""
    [[ -f $1 ]] && read -r pid <"$1" 2>/dev/null
    [[ $pid =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
    return 0
}

# sl_pid_ours PID DIR: true when PID is alive and was started for the stack in
# DIR (its environment holds SLUICE_STACK_DIR=DIR). Guards every kill, so a
# stale pid file never hits an unrelated process that reused the pid.
sl_pid_ours() {
    local pid=$1 dir=$2
    local env
    [[ -n $pid ]] && sl_pid_alive "$pid" || return 1
    env=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ") || return 1
    [[ $'\n'$env$'\n' == *$'\n'"SLUICE_STACK_DIR=$dir"$'\n'* ]]
}

# sl_pid_alive PID: true when PID runs. A zombie counts as gone: here PID 1
# may reap orphans only after a while.
sl_pid_alive() {
    local st
    kill -0 "$1" 2>/dev/null || return 1
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    [[ ${st%% *} != Z ]]
}

# sl_wait_gone PID SECONDS: wait up to SECONDS for PID to exit; false if not.
sl_wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        sl_pid_alive "$pid" || return 0
        sleep 0.1
    done
    ! sl_pid_alive "$pid"
}

# sl_ensure_system_user NAME: a system user and group NAME, no home, no
# shell, for running a daemon unprivileged (root only); true if it exists.
sl_ensure_system_user() {
    id "$1" >/dev/null 2>&1 && return 0
    ((EUID == 0)) || return 1
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$1" || return 1
    sl_log users "created system user $1"
}
