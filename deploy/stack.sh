#!/usr/bin/env bash
# Run a private sluice stack on loopback: a single-node Kafka 3.9 broker
# (KRaft, broker+controller), a PostgreSQL cluster, and the pipeline services
# under restart supervisors. Everything lives in one directory, so several
# stacks (one per test run) can run side by side.
#
# usage: deploy/stack.sh start|stop|status [--dir DIR] [--infra-only] [--partitions N]
#                                          [--brokers N] [--instances N]
#
#   start    start what is not running yet (an already running stack is
#            reused), wait until Kafka and PostgreSQL accept connections,
#            write DIR/stack.env, run `sluicectl db migrate` (as sluice_owner) and
#            `sluicectl topics create --partitions N`, then start every
#            service binary that exists (sluice-validate, -scan, -license,
#            -commit) under a supervisor that restarts it when it exits,
#            each with its own database role and Kafka user.
#   stop     stop the services, Kafka and PostgreSQL of DIR (only processes
#            started for DIR are touched); safe to repeat.
#   status   one line per component; exit 0 if Kafka and PostgreSQL are up,
#            3 if not.
#
#   --dir DIR       stack directory (default <repo>/.sluice)
#   --infra-only    Kafka and PostgreSQL only; sluicectl is optional then
#   --partitions N  partitions per topic for `sluicectl topics create` (default 3)
#   --brokers N     N Kafka nodes (KRaft, each broker and controller; default
#                   1).  From 3 on: replication factor 3 and
#                   min.insync.replicas 2 for every topic, the consumer
#                   offsets and the transaction state log.  Ports are free
#                   ones on loopback (stack.env: SLUICE_KAFKA_BROKERS lists
#                   them all, SLUICE_KAFKA_PORT_K per node K > 1).
#   --instances N   N instances of each stage (validate, scan, license,
#                   commit; default 1): distinct instance.id, so distinct
#                   transactional.ids, in the stage's one consumer group;
#                   each under its own supervisor (units scan, scan-1, ...).
#                   Both are remembered in stack.env: a later start without
#                   them keeps the shape.
#
# env:  SLUICE_KAFKA_PORT, SLUICE_PG_PORT, SLUICE_KAFKA_CONTROLLER_PORT  fixed
#         ports instead of free ones (ignored, with a note, when
#         SLUICE_STACK_DIR names another stack: they came from its stack.env)
#       SLUICE_BIN_DIR      where sluicectl and the services are (default <repo>/build/bin)
#       SLUICE_KAFKA_HEAP   broker heap flags (default "-Xms256m -Xmx512m")
#       SLUICE_KAFKA_GC     broker GC flags (default G1 with 20 ms pauses)
#       SLUICE_KAFKA_OPTS   more JVM flags for the broker
#       SLUICE_KAFKA_INDEX_BYTES  the broker's log.index.size.max.bytes, the
#                           size of each segment's offset and time index
#                           (default 1048576; Kafka's own is 10485760)
#       SLUICE_PG_SHARED_BUFFERS  PostgreSQL shared_buffers (default 512MB)
#       SLUICE_PG_PRELOAD   PostgreSQL shared_preload_libraries, e.g.
#                           pg_stat_statements for a profile (default none)
#       SLUICE_START_TIMEOUT  seconds to wait for Kafka / PostgreSQL (default 90)
#       SLUICE_RESTART_MAX_DELAY    longest wait before restarting a service
#                                   that keeps exiting (default 30 s)
#       SLUICE_RESTART_RESET_AFTER  a run this long resets the wait to 1 s (60)
#       SLUICE_LIVENESS_INTERVAL, SLUICE_LIVENESS_FAILURES, SLUICE_LIVENESS_GRACE
#                           a service whose GET /health answers "stalled"
#                           FAILURES times in a row, INTERVAL s apart (3, 10),
#                           is sent SIGTERM, SIGKILL GRACE s later (15), and
#                           restarted
#
# Layout of DIR: stack.env; kafka/ (server.properties, log4j.properties,
# data/); pg/ (owned by postgres: data/, sock/); logs/ (kafka.log, kafka.out,
# postgresql.log, <service>.log); run/ (pid files, lock); secrets/ (0700:
# one libpq passfile per PostgreSQL role, 0600, generated on first start).
# With --brokers N, node K > 1 has kafka-K/ and logs/kafka-K.log; with
# --instances N, instance K > 0 of a stage is the unit <stage>-K
# (logs/<stage>-K.log, run/<stage>-K.pid).
#
# PostgreSQL authenticates every connection with scram-sha-256 (no trust,
# not even on the unix socket).  Roles: postgres (superuser, used only by
# this script and the test harness), sluice_owner (owns database sluice and
# every table; `sluicectl db migrate` runs as it), sluice_validate,
# sluice_scan, sluice_license, sluice_commit (one per service) and
# sluice_ctl (operators).  stack.env exports a conninfo per role
# (SLUICE_PG_DSN is sluice_ctl's; SLUICE_PG_DSN_<OWNER|ADMIN|SERVICE>).
#
# Kafka listens with SASL_PLAINTEXT only, on loopback: SCRAM-SHA-512 users
# (one per service, sluice_ctl, sluice_uploader) created at format time,
# PLAIN for "admin" (the only super user; broker, controller, tools) and
# the ACLs of deploy/kafka-acls.conf.  stack.env exports SLUICE_CONFIG and
# KCAT_CONFIG (sluice_ctl's credentials) and SLUICE_CONFIG_<SERVICE|
# UPLOADER|ADMIN>.
#
# Run as root, nothing of the stack runs as root: each service as its own
# user sluice-<service> (started through sluice-launch, its own secrets
# handed over as file descriptors), the broker as sluice-kafka, PostgreSQL
# as postgres; the users are created if missing.  DIR's parents must be searchable by
# postgres and sluice-kafka: they are checked, never chmod'ed.
#
# Callers (deploy/test.sh, quickstart.sh):
#   bash deploy/stack.sh start --dir "$d" && . "$d/stack.env" && ... ;
#   bash deploy/stack.sh stop --dir "$d"
set -euo pipefail

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# review: the moderators' dashboard (sluice-review), an HTTP service on
# loopback (SLUICE_REVIEW_URL) supervised like the stages; feed: the
# delivery feed (sluice-feed, SLUICE_FEED_URL), likewise, PostgreSQL only;
# ledger: the poster of usage into the creators' ledger (sluice-ledger),
# PostgreSQL only, no port.
SERVICES=(validate scan license commit review feed ledger)
STACK_SH=$SL_ROOT/deploy/stack.sh

say() { sl_log stack "$@"; }
die() { sl_die stack "$@"; }

usage() {
    sed -n '/^# usage:/,/^# env:/{/^# env:/d;s/^# \{0,1\}//;p}' "$STACK_SH" >&2
    exit 2
}

# --- paths -----------------------------------------------------------------

set_paths() {
    DIR=$(realpath -m -- "$1")
    RUN=$DIR/run
    LOGS=$DIR/logs
    KDIR=$DIR/kafka
    KNODE=1 KNAME=kafka   # the broker the Kafka functions act on (kafka_node)
    PGROOT=$DIR/pg
    PGDATA_DIR=$PGROOT/data
    PGSOCK=$PGROOT/sock
    ENV_FILE=$DIR/stack.env
    SECRETS=$DIR/secrets
    BIN_DIR=$(realpath -m -- "${SLUICE_BIN_DIR:-$SL_ROOT/build/bin}")
    TIMEOUT=${SLUICE_START_TIMEOUT:-90}
}

# take_lock: serialise start/stop on one DIR. fd 9 holds the lock; every
# process left running must be started with 9>&- or it would keep the lock.
take_lock() {
    mkdir -p "$RUN"
    exec 9>"$RUN/lock"
    flock -w 180 9 || die "another start/stop is running on $DIR (lock $RUN/lock)"
}

# env_get VAR: VAR's value from DIR/stack.env, or nothing.
env_get() {
    [[ -f $ENV_FILE ]] || return 0
    (
        unset "$1"
        # shellcheck disable=SC1090
        . "$ENV_FILE" >/dev/null 2>&1 || true
        printf '%s\n' "${!1:-}"
    )
}

# --- state -----------------------------------------------------------------

# owned_pid PIDFILE: the pid in PIDFILE if that process runs for this DIR.
owned_pid() {
    local pid
    pid=$(sl_read_num "$1")
    sl_pid_ours "$pid" "$DIR" && printf '%s\n' "$pid"
    return 0
}

kafka_pid() { owned_pid "$RUN/$KNAME.pid"; }
pg_pid() { owned_pid "$PGDATA_DIR/postmaster.pid"; }
sup_pid() { owned_pid "$RUN/$1.sup.pid"; }
svc_pid() { owned_pid "$RUN/$1.pid"; }

pg_ready() {
    local port=$1
    [[ -n $port ]] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2 >/dev/null 2>&1
}

# --- helpers ---------------------------------------------------------------

as_pg() {
    if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# tail_log FILE [OFFSET]: the last lines of FILE (from byte OFFSET on) on stderr.
tail_log() {
    local f=$1 off=${2:-0}
    [[ -f $f ]] || { echo "  ($f does not exist)" >&2; return 0; }
    echo "--- last lines of $f ---" >&2
    tail -c +"$((off + 1))" "$f" | tail -n 25 | sed 's/^/  /' >&2
    echo "---" >&2
}

# pick_port NAME ENV_VALUE PREVIOUS FRESH: the port a component listens on.
# An explicit env value wins; else the one used last time in this DIR if it
# is still free (stable DSNs across restarts); else a fresh free one.
pick_port() {
    local name=$1 want=$2 prev=$3 fresh=$4
    if [[ -n $want ]]; then
        [[ $want =~ ^[0-9]+$ ]] || die "$name port '$want' is not a number"
        sl_port_free "$want" || die "$name port $want (from the environment) is in use"
        printf '%s\n' "$want"
    elif [[ -n $prev ]] && sl_port_free "$prev"; then
        printf '%s\n' "$prev"
    else
        printf '%s\n' "$fresh"
    fi
}

# Unprivileged users, when this script runs as root: each service as its
# own user sluice-<service> (through sluice-launch), the broker as
# $KAFKA_USER, PostgreSQL as Debian's postgres.  One user each, so that no
# service can read the files, or the open descriptors (/proc/PID/fd), of
# another service, of the broker or of the database.
KAFKA_USER=sluice-kafka
svc_user() { printf 'sluice-%s\n' "$1"; }

# as_user USER CMD...: CMD as USER when root (setpriv execs, no fork: a pid
# taken of it is CMD's), else as ourselves.
as_user() {
    local u=$1; shift
    if ((EUID == 0)); then
        setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
    else
        "$@"
    fi
}
as_kafka() { as_user "$KAFKA_USER" "$@"; }

# check_reachable USER DIR: USER must be able to search DIR and every parent.
# Nothing is chmod'ed on the way (parents are not ours to widen): the first
# directory that blocks is named and the start refused.
check_reachable() {
    ((EUID == 0)) || return 0
    local u=$1 d p=""
    as_user "$u" test -x "$2" && return 0
    IFS=/ read -ra parts <<<"${2#/}"
    for d in "${parts[@]}"; do
        p+=/$d
        as_user "$u" test -x "$p" ||
            die "user $u cannot reach $2: $p ($(stat -c '%A %U' "$p")) is not searchable by it; choose a --dir below directories it can search (e.g. under /tmp or /var/lib)"
    done
}

# broker_lib: the jars the broker (as $KAFKA_USER) loads.  Those in the
# cache when it can read them; else (a clone under a 0700 directory) a
# read-only copy of them, root-owned, in /var/cache/sluice, one per pom.
broker_lib() {
    local stamp sys
    if ((EUID != 0)) || as_kafka test -r "$SL_KAFKA_LIB/.stamp"; then
        printf '%s\n' "$SL_KAFKA_LIB"
        return 0
    fi
    stamp=$(<"$SL_KAFKA_LIB/.stamp")
    sys=/var/cache/sluice/kafka-lib-${stamp:0:16}
    if [[ ! -f $sys/.stamp ]]; then
        say "$KAFKA_USER cannot read $SL_KAFKA_LIB: using a read-only copy in $sys"
        mkdir -p /var/cache/sluice && chmod 755 /var/cache/sluice
        rm -rf "$sys.tmp" && cp -r "$SL_KAFKA_LIB" "$sys.tmp" && chmod -R a+rX,go-w "$sys.tmp" &&
            mv -T "$sys.tmp" "$sys" || die "cannot copy the kafka jars to $sys"
    fi
    printf '%s\n' "$sys"
}

# --- secrets -----------------------------------------------------------------

# PostgreSQL roles: the schema owner, one per service and the operators'
# (sluicectl); the superuser postgres has a passfile too.
# schemas/sql/grants.sql says what each may do.
PG_ROLES=(sluice_owner sluice_validate sluice_scan sluice_license sluice_commit sluice_review sluice_feed sluice_ledger sluice_ctl)

# pass_file ROLE: the libpq password file of ROLE (one line, 0600).
pass_file() { printf '%s/pg-%s.pgpass\n' "$SECRETS" "$1"; }

# role_password ROLE: ROLE's password, generated into its passfile (mode
# 0600, in a 0700 directory) the first time.  Hex: no quoting anywhere.
role_password() {
    local f pw
    f=$(pass_file "$1")
    if [[ ! -s $f ]]; then
        (umask 077 && mkdir -p "$SECRETS") || die "cannot create $SECRETS"
        pw=$(openssl rand -hex 24) || die "openssl rand failed"
        (umask 077 && printf '*:*:*:%s:%s\n' "$1" "$pw" >"$f.tmp" && mv "$f.tmp" "$f") ||
            die "cannot write $f"
    fi
    chmod 600 "$f"
    pw=$(<"$f")
    printf '%s\n' "${pw##*:}"
}

# pg_dsn ROLE [DB]: the conninfo for ROLE on this stack; libpq reads the
# password from the role's passfile.
pg_dsn() {
    printf 'host=127.0.0.1 port=%s dbname=%s user=%s passfile=%s\n' \
        "$PG_PORT" "${2:-sluice}" "$1" "$(pass_file "$1")"
}

# Kafka users (SASL/SCRAM-SHA-512): one per service, the operators' and the
# creators' producers'.  deploy/kafka-acls.conf says what each may do.  The
# cluster's admin (the only super user) authenticates with SASL/PLAIN against
# the broker's own configuration, so it never depends on the metadata log.
KAFKA_USERS=(sluice_validate sluice_scan sluice_license sluice_commit sluice_review sluice_ctl sluice_uploader)

# kafka_password USER: USER's password; the first time, generated into
# DIR/secrets/kafka-USER.conf (sluice config file: -c FILE or SLUICE_CONFIG)
# and kafka-USER.kcat (librdkafka properties: kcat -F or KCAT_CONFIG), both 0600.
kafka_password() {
    local u=$1 conf=$SECRETS/kafka-$1.conf mech=SCRAM-SHA-512 pw
    [[ $u == admin ]] && mech=PLAIN
    if [[ ! -s $conf ]]; then
        (umask 077 && mkdir -p "$SECRETS") || die "cannot create $SECRETS"
        pw=$(openssl rand -hex 24) || die "openssl rand failed"
        (
            umask 077
            printf '# Kafka credentials of %s (written by deploy/stack.sh)\nkafka.security.protocol = SASL_PLAINTEXT\nkafka.sasl.mechanisms = %s\nkafka.sasl.username = %s\nkafka.sasl.password = %s\n' \
                "$u" "$mech" "$u" "$pw" >"$conf.tmp"
            sed -n 's/^kafka\.\([^ ]*\) = \(.*\)$/\1=\2/p' "$conf.tmp" >"$SECRETS/kafka-$u.kcat"
            if [[ $u == admin ]]; then
                printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="%s";\n' \
                    "$pw" >"$SECRETS/kafka-admin.properties"
            fi
            mv "$conf.tmp" "$conf"
        ) || die "cannot write $conf"
    fi
    pw=$(sed -n 's/^kafka\.sasl\.password = //p' "$conf")
    [[ -n $pw ]] || die "no kafka.sasl.password in $conf"
    printf '%s\n' "$pw"
}

# secrets_key: the stack's key files, 32 random bytes in hex, 0600, made
# once: secrets.key seals HMAC secrets (secrets.key.file of validate and
# sluicectl), commit-audit.key is the Ed25519 seed with which commit seals
# chain heads (audit.key.file), review-audit.key the one sluice-review seals
# the heads of the chains its decisions extend with, feed-url.key the HMAC
# key of sluice-feed's signed content URLs (feed.url.key.file); sluicectl
# makes operator-audit.key itself.  feed.conf, ledger.conf: sluice-feed's
# and sluice-ledger's config files (no Kafka user, so no credentials).
secrets_key() {
    local f
    (umask 077 && mkdir -p "$SECRETS") || die "cannot create $SECRETS"
    [[ -s $SECRETS/feed.conf ]] ||
        (umask 077 && printf '# sluice-feed (written by deploy/stack.sh); its port and key come from stack.env\n' \
            >"$SECRETS/feed.conf") || die "cannot write $SECRETS/feed.conf"
    [[ -s $SECRETS/ledger.conf ]] ||
        (umask 077 && printf '# sluice-ledger (written by deploy/stack.sh)\n' \
            >"$SECRETS/ledger.conf") || die "cannot write $SECRETS/ledger.conf"
    for f in "$SECRETS/secrets.key" "$SECRETS/commit-audit.key" "$SECRETS/review-audit.key" \
        "$SECRETS/feed-url.key"; do
        [[ -s $f ]] && continue
        (umask 077 && openssl rand -hex 32 >"$f.tmp" && mv "$f.tmp" "$f") ||
            die "cannot write $f"
    done
}

# --- Kafka -----------------------------------------------------------------

write_kafka_config() {
    local admin_pw
    admin_pw=$(kafka_password admin)
    mkdir -p "$KDIR/data" "$LOGS"
    (umask 077 && : >"$KDIR/server.properties")
    chmod 600 "$KDIR/server.properties"
    touch "$LOGS/$KNAME.log"
    if ((EUID == 0)); then
        # The broker's files are its own (a stack started before it ran
        # as $KAFKA_USER had them owned by root).
        chown -R "$KAFKA_USER:" "$KDIR" "$LOGS/$KNAME.log"
        chmod 700 "$KDIR"
    fi
    cat >"$KDIR/server.properties" <<EOF
# Written by deploy/stack.sh on every start; edits are lost.
process.roles=broker,controller
node.id=$KNODE
controller.quorum.voters=${KAFKA_VOTERS:-1@127.0.0.1:$KAFKA_CPORT}
# Every connection authenticates: clients with SCRAM-SHA-512 (users in the
# metadata log, added at format time), the broker to itself and to its
# controller, and the admin tools, with PLAIN as the one user "admin" of
# this file (which is therefore 0600).  ACLs decide the rest.
listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CPORT
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin_pw" user_admin="$admin_pw";
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin_pw" user_admin="$admin_pw";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
log.dirs=$KDIR/data
num.partitions=1
default.replication.factor=$KAFKA_RF
min.insync.replicas=$KAFKA_MIN_ISR
offsets.topic.replication.factor=$KAFKA_RF
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$KAFKA_RF
transaction.state.log.min.isr=$KAFKA_MIN_ISR
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
# Each new segment's offset and time index is a file of this size, sparse
# and mapped; the first write faults in the pages around it, zeroed.  On a
# disk read ahead 8 MB at a time (this kind of machine) Kafka's default of
# 10 MB had the broker zero and keep 2-3 MB a new index, 727 MB for the
# indexes of one benchmark's topics against 92 MB at 1 MB, and in a drain
# onto new topics that zeroing took 16% of the CPU of its request and
# network threads (tests/bench/README.md, "The broker's index files").
# 1 MB still takes an entry for every 4 KB of a 350 MB segment (12 bytes
# a time-index entry); a segment whose index fills up rolls early.
log.index.size.max.bytes=$KAFKA_INDEX_BYTES
EOF
    cat >"$KDIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$LOGS/$KNAME.log
log4j.appender.file.Append=true
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
}

# kafka_java ARGS...: run a Kafka tool (StorageTool) with the cached jars.
kafka_java() {
    java -Xmx256m -Dlog4j.configuration="file:$KDIR/log4j.properties" \
        -cp "$SL_KAFKA_LIB/*" "$@"
}

format_kafka() {
    [[ -f $KDIR/data/meta.properties ]] && return 0
    local id
    # One cluster id for every node: node 1's (kafka/cluster.id).
    if [[ -s $DIR/kafka/cluster.id ]]; then
        id=$(<"$DIR/kafka/cluster.id")
    else
        local out
        out=$(kafka_java kafka.tools.StorageTool random-uuid 2>&1) || true
        id=${out##*$'\n'}
        if [[ ! $id =~ ^[A-Za-z0-9_-]{22}$ ]]; then
            printf '%s\n' "$out" >>"$LOGS/kafka-format.log"
            tail_log "$LOGS/kafka-format.log"
            die "kafka StorageTool random-uuid failed"
        fi
        printf '%s\n' "$id" >"$DIR/kafka/cluster.id"
    fi
    say "formatting kafka storage (cluster id $id)"
    local u scram=()
    for u in "${KAFKA_USERS[@]}"; do
        scram+=(--add-scram "SCRAM-SHA-512=[name=$u,password=$(kafka_password "$u")]")
    done
    as_kafka java -Xmx256m -Dlog4j.configuration="file:$KDIR/log4j.properties" \
        -cp "$BROKER_LIB/*" kafka.tools.StorageTool format -t "$id" -c "$KDIR/server.properties" -g "${scram[@]}" \
        >>"$LOGS/kafka-format.log" 2>&1 || { tail_log "$LOGS/kafka-format.log"; die "kafka storage format failed"; }
    printf '%s\n' "${KAFKA_USERS[@]}" >"$KDIR/scram-users"
}

# add_missing_kafka_users: users the metadata log lacks (a data dir formatted
# before authentication, or before a user was added here), created through
# the running broker as admin; DIR/kafka/scram-users lists those that exist.
add_missing_kafka_users() {
    local u
    for u in "${KAFKA_USERS[@]}"; do
        grep -qx -- "$u" "$KDIR/scram-users" 2>/dev/null && continue
        say "adding kafka user $u"
        java -Xmx128m -Dlog4j.configuration="file:$SL_ROOT/deploy/log4j-tools.properties" \
            -cp "$SL_KAFKA_LIB/*" kafka.admin.ConfigCommand \
            --bootstrap-server "127.0.0.1:$KAFKA_PORT" --command-config "$SECRETS/kafka-admin.properties" \
            --alter --entity-type users --entity-name "$u" \
            --add-config "SCRAM-SHA-512=[password=$(kafka_password "$u")]" >>"$LOGS/kafka-users.log" 2>&1 ||
            { tail_log "$LOGS/kafka-users.log"; die "cannot add kafka user $u"; }
        printf '%s\n' "$u" >>"$KDIR/scram-users"
    done
}

# launch_kafka: start the broker in its own session (setsid: no terminal, no
# SIGHUP/SIGINT from the caller's shell). Sets KAFKA_LOG_OFFSET so the wait
# only looks at this run's log lines.
launch_kafka() {
    sl_port_free "$KAFKA_PORT" || die "kafka port $KAFKA_PORT is in use"
    sl_port_free "$KAFKA_CPORT" || die "kafka controller port $KAFKA_CPORT is in use"
    format_kafka
    KAFKA_LOG_OFFSET=$(stat -c %s "$LOGS/$KNAME.log" 2>/dev/null || echo 0)
    printf '\n=== %s start (port %s) ===\n' "$(date -Is)" "$KAFKA_PORT" >>"$LOGS/$KNAME.out"
    local heap=${SLUICE_KAFKA_HEAP:--Xms256m -Xmx512m}
    # shellcheck disable=SC2206  # heap and opts are lists of flags
    local gc=${SLUICE_KAFKA_GC:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent}
    local java=(java $heap $gc
        -Djava.awt.headless=true -Dlog4j.configuration="file:$KDIR/log4j.properties"
        -Dkafka.logs.dir="$LOGS" ${SLUICE_KAFKA_OPTS:-} -cp "$BROKER_LIB/*")
    local runas=()
    ((EUID != 0)) || runas=(setpriv --reuid="$KAFKA_USER" --regid="$KAFKA_USER" --init-groups --)
    setsid "${runas[@]}" "${java[@]}" kafka.Kafka "$KDIR/server.properties" \
        >>"$LOGS/$KNAME.out" 2>&1 </dev/null 9>&- &
    printf '%s\n' "$!" >"$RUN/$KNAME.pid"
    say "$KNAME starting (pid $!, 127.0.0.1:$KAFKA_PORT${runas:+, as $KAFKA_USER})"
}

wait_kafka() {
    local pid=$1 deadline=$((SECONDS + TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! sl_pid_alive "$pid"; then
            tail_log "$LOGS/$KNAME.out"
            tail_log "$LOGS/$KNAME.log" "${KAFKA_LOG_OFFSET:-0}"
            die "kafka exited during startup (logs above)"
        fi
        # grep -c reads to the end: grep -q would make tail die of SIGPIPE,
        # and pipefail would turn the match into a failure.
        if sl_port_open "$KAFKA_PORT" &&
            tail -c +"$((${KAFKA_LOG_OFFSET:-0} + 1))" "$LOGS/$KNAME.log" 2>/dev/null |
            grep -c 'Kafka Server started' >/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    tail_log "$LOGS/$KNAME.log" "${KAFKA_LOG_OFFSET:-0}"
    die "$KNAME did not start within ${TIMEOUT}s (pid $pid, port $KAFKA_PORT; log above)"
}

stop_kafka() {
    local pid
    pid=$(kafka_pid)
    if [[ -n $pid ]]; then
        say "stopping kafka (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        if ! sl_wait_gone "$pid" 20; then
            say "kafka still running after 20s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sl_wait_gone "$pid" 5 || die "kafka (pid $pid) survived SIGKILL"
        fi
    fi
    rm -f "$RUN/$KNAME.pid"
}

# --- several brokers (--brokers N) and instances per stage (--instances N) ---
#
# Node 1 is the single broker of the quickstart: kafka/, run/kafka.pid,
# logs/kafka.log, SLUICE_KAFKA_PORT.  Node K > 1 lives in kafka-K/, with
# run/kafka-K.pid and logs/kafka-K.log, its ports SLUICE_KAFKA_PORT_K and
# SLUICE_KAFKA_CONTROLLER_PORT_K; every node is broker and controller, the
# voters fixed in each server.properties.  Instance 0 of a stage is the
# service of the single-instance stack (run/scan.pid, logs/scan.log);
# instance K > 0 is the unit scan-K (run/scan-K.pid, logs/scan-K.log), the
# same binary with instance.id K: its own transactional.id and group
# member id, the same consumer group.

# The stages that run as several instances; the HTTP services and the
# ledger poster stay one each.
STAGES=(validate scan license commit)

# cluster_settings: BROKERS and INSTANCES from the options, else from the
# stack.env of a stack started before (a restart keeps its shape), else 1;
# the replication of every topic, the offsets and the transaction state
# log: 3 (min.insync.replicas 2) from three brokers on, else one per broker.
cluster_settings() {
    BROKERS=${BROKERS:-$(env_get SLUICE_KAFKA_NODES)}
    BROKERS=${BROKERS:-1}
    INSTANCES=${INSTANCES:-$(env_get SLUICE_INSTANCES)}
    INSTANCES=${INSTANCES:-1}
    [[ $BROKERS =~ ^[1-9]$ ]] || die "--brokers wants a number from 1 to 9, not '$BROKERS'"
    [[ $INSTANCES =~ ^[1-9][0-9]?$ ]] || die "--instances wants a number from 1 to 99, not '$INSTANCES'"
    KAFKA_RF=$((BROKERS < 3 ? BROKERS : 3))
    KAFKA_MIN_ISR=$((KAFKA_RF < 3 ? 1 : 2))
    KAFKA_PORTS=() KAFKA_CPORTS=() KAFKA_LOG_OFFSETS=()
}

# kafka_node K: point the Kafka functions above (write_kafka_config,
# launch_kafka, wait_kafka, stop_kafka, kafka_pid) at node K.
kafka_node() {
    KNODE=$1
    if (($1 == 1)); then KNAME=kafka KDIR=$DIR/kafka; else KNAME=kafka-$1 KDIR=$DIR/kafka-$1; fi
    KAFKA_PORT=${KAFKA_PORTS[$1]:-${KAFKA_PORT:-}} KAFKA_CPORT=${KAFKA_CPORTS[$1]:-${KAFKA_CPORT:-}}
}

# unit_base UNIT: the service a unit runs (scan-2 -> scan).
unit_base() {
    local b=${1%-*}
    if [[ $1 != "$b" && ${1##*-} =~ ^[0-9]+$ ]]; then printf '%s\n' "$b"; else printf '%s\n' "$1"; fi
}

# service_units: one line per supervised unit: every service, the further
# instances of each stage, and any unit of a larger earlier start that
# still has a supervisor pid file (so that stop and status see it).
service_units() {
    local name k f u
    local -A seen=()
    for name in "${SERVICES[@]}"; do
        seen[$name]=1
        printf '%s\n' "$name"
        [[ " ${STAGES[*]} " == *" $name "* ]] || continue
        for ((k = 1; k < INSTANCES; k++)); do
            seen[$name-$k]=1
            printf '%s-%d\n' "$name" "$k"
        done
    done
    for f in "$RUN"/*-*.sup.pid; do
        [[ -f $f ]] || continue
        u=${f##*/}
        u=${u%.sup.pid}
        [[ -z ${seen[$u]:-} && " ${STAGES[*]} " == *" $(unit_base "$u") "* ]] || continue
        printf '%s\n' "$u"
    done
}

# kafka_brokers_list: the bootstrap list of every node, for stack.env.
kafka_brokers_list() {
    local k out=127.0.0.1:$KAFKA_PORT
    for ((k = 2; k <= BROKERS; k++)); do out+=,127.0.0.1:${KAFKA_PORTS[$k]}; done
    printf '%s\n' "$out"
}

# cluster_env: the stack.env lines of the cluster's shape and ports.
cluster_env() {
    local k
    printf '# Brokers (node 1 above), replication, instances per stage.\n'
    printf 'export SLUICE_KAFKA_NODES=%s\n' "$BROKERS"
    for ((k = 2; k <= BROKERS; k++)); do
        printf 'export SLUICE_KAFKA_PORT_%d=%s\nexport SLUICE_KAFKA_CONTROLLER_PORT_%d=%s\n' \
            "$k" "${KAFKA_PORTS[$k]}" "$k" "${KAFKA_CPORTS[$k]}"
    done
    printf 'export SLUICE_KAFKA_REPLICATION=%s\nexport SLUICE_KAFKA_MIN_ISR=%s\n' "$KAFKA_RF" "$KAFKA_MIN_ISR"
    printf 'export SLUICE_INSTANCES=%s\n' "$INSTANCES"
}

# cluster_pick_ports TAKEN...: the ports of nodes 2..BROKERS (node 1's
# are KAFKA_PORT / KAFKA_CPORT already): a running node keeps its own, a
# stopped one gets its last ones back if free (the voters and the
# advertised listeners name them), else fresh ones; then the voters.
cluster_pick_ports() {
    local k p pid
    local -a spare
    local -A used=([$KAFKA_PORT]=1 [$KAFKA_CPORT]=1 [$PG_PORT]=1)
    for p in "$@"; do used[$p]=1; done
    mapfile -t spare < <(sl_free_ports $((2 * BROKERS + 4)))
    KAFKA_PORTS[1]=$KAFKA_PORT KAFKA_CPORTS[1]=$KAFKA_CPORT
    KAFKA_VOTERS=1@127.0.0.1:$KAFKA_CPORT
    for ((k = 2; k <= BROKERS; k++)); do
        kafka_node "$k"
        pid=$(kafka_pid)
        local port cport
        port=$(env_get "SLUICE_KAFKA_PORT_$k") cport=$(env_get "SLUICE_KAFKA_CONTROLLER_PORT_$k")
        if [[ -n $pid ]]; then
            [[ -n $port && -n $cport ]] || die "kafka node $k (pid $pid) runs but $ENV_FILE lacks its ports: run stop, then start"
        else
            [[ -n $port && -z ${used[$port]:-} ]] && sl_port_free "$port" || port=""
            [[ -n $cport && -z ${used[$cport]:-} ]] && sl_port_free "$cport" || cport=""
            for p in "${spare[@]}"; do
                [[ -n ${used[$p]:-} ]] && continue
                if [[ -z $port ]]; then port=$p; used[$p]=1
                elif [[ -z $cport ]]; then cport=$p; used[$p]=1; fi
            done
            [[ -n $port && -n $cport ]] || die "cannot find free loopback ports for kafka node $k"
        fi
        used[$port]=1 used[$cport]=1
        KAFKA_PORTS[$k]=$port KAFKA_CPORTS[$k]=$cport
        KAFKA_VOTERS+=,$k@127.0.0.1:$cport
    done
    kafka_node 1
}

# cluster_nodes_running: true when every node beyond the first runs.
cluster_nodes_running() {
    local k ok=0
    for ((k = 2; k <= BROKERS; k++)); do
        kafka_node "$k"
        [[ -n $(kafka_pid) ]] && sl_port_open "$(env_get "SLUICE_KAFKA_PORT_$k")" || ok=1
    done
    kafka_node 1
    return "$ok"
}

# cluster_launch_nodes: start nodes 2..BROKERS that are not running (node 1
# is started by cmd_start itself); a restarted node rejoins with its data.
cluster_launch_nodes() {
    local k off=$KAFKA_LOG_OFFSET
    for ((k = 2; k <= BROKERS; k++)); do
        kafka_node "$k"
        if [[ -n $(kafka_pid) ]]; then
            say "$KNAME already running (pid $(kafka_pid))"
            KAFKA_LOG_OFFSETS[$k]=0
            continue
        fi
        [[ -n ${BROKER_LIB:-} ]] || BROKER_LIB=$(broker_lib)
        write_kafka_config
        launch_kafka
        KAFKA_LOG_OFFSETS[$k]=$KAFKA_LOG_OFFSET
    done
    kafka_node 1
    KAFKA_LOG_OFFSET=$off
}

# cluster_wait_nodes: wait for nodes 2..BROKERS as for node 1.
cluster_wait_nodes() {
    local k off=$KAFKA_LOG_OFFSET
    for ((k = 2; k <= BROKERS; k++)); do
        kafka_node "$k"
        KAFKA_LOG_OFFSET=${KAFKA_LOG_OFFSETS[$k]:-0}
        wait_kafka "$(sl_read_num "$RUN/$KNAME.pid")"
        say "$KNAME ready on 127.0.0.1:$KAFKA_PORT"
    done
    kafka_node 1
    KAFKA_LOG_OFFSET=$off
    ((BROKERS == 1)) ||
        say "$BROKERS brokers: replication factor $KAFKA_RF, min.insync.replicas $KAFKA_MIN_ISR (topics, offsets, transaction state)"
}

# acls_applied / acls_mark: whether this cluster holds the ACLs of the
# current deploy/kafka-acls.conf for the current prefix, noted in node 1's
# directory (formatted anew, it has none and forgets the note with them).
# A restart after a broker or the database went down skips a JVM.
acls_stamp() {
    { sha256sum <"$SL_ROOT/deploy/kafka-acls.conf"; printf '%s\n' "${SLUICE_TOPIC_PREFIX:-}"; } | sha256sum | cut -c1-64
}
acls_applied() {
    [[ -f $DIR/kafka/acls.applied && $(<"$DIR/kafka/acls.applied") == "$(acls_stamp)" ]]
}
acls_mark() { acls_stamp >"$DIR/kafka/acls.applied"; }

# cluster_node_ids: the nodes that have a pid file (any earlier shape).
cluster_node_ids() {
    local f k
    echo 1
    for f in "$RUN"/kafka-*.pid; do
        [[ -f $f ]] || continue
        k=${f##*/kafka-}
        k=${k%.pid}
        [[ $k =~ ^[0-9]+$ ]] && echo "$k"
    done
}

# cluster_stop_nodes: SIGTERM to every node at once (stopped one by one,
# the last ones would wait for a controller quorum that is gone), then
# stop_kafka on each.
cluster_stop_nodes() {
    local k pid
    local -a ids
    mapfile -t ids < <(cluster_node_ids)
    for k in "${ids[@]}"; do
        kafka_node "$k"
        pid=$(kafka_pid)
        [[ -z $pid ]] || kill -TERM "$pid" 2>/dev/null || true
    done
    for k in "${ids[@]}"; do
        kafka_node "$k"
        stop_kafka
    done
    kafka_node 1
}

# cluster_status: one line per node beyond the first; false if one is down.
cluster_status() {
    local k pid port ok=0
    for ((k = 2; k <= BROKERS; k++)); do
        kafka_node "$k"
        pid=$(kafka_pid)
        port=$(env_get "SLUICE_KAFKA_PORT_$k")
        if [[ -n $pid ]] && sl_port_open "$port"; then
            printf '%-12s running  pid %s  port %s\n' "$KNAME:" "$pid" "$port"
        else
            printf '%-12s %s  port %s\n' "$KNAME:" "${pid:+starting pid $pid}${pid:-stopped}" "$port"
            ok=1
        fi
    done
    kafka_node 1
    return "$ok"
}

# --- PostgreSQL --------------------------------------------------------------

init_pg() {
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (run deploy/install.sh)"
    mkdir -p "$PGROOT" "$LOGS"
    if ((EUID == 0)); then chown postgres: "$PGROOT"; fi
    chmod 700 "$PGROOT"
    as_pg mkdir -p "$PGSOCK"
    if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
        say "initdb $PGDATA_DIR"
        # Byte-wise collation: every key is an id or a hex hash, and the
        # indexes on them compare with memcmp instead of strcoll.
        # The superuser's password goes to initdb through a file only the
        # postgres user reads, removed right after.
        local pw=$PGROOT/initdb.pw
        as_pg sh -c 'umask 077 && cat >"$1"' sh "$pw" <<<"$(role_password postgres)"
        if ! as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -A scram-sha-256 \
            --pwfile="$pw" -E UTF8 \
            --locale=C.UTF-8 --lc-collate=C -N >"$LOGS/pg-initdb.log" 2>&1; then
            rm -f "$pw"
            tail_log "$LOGS/pg-initdb.log"
            die "initdb failed"
        fi
        rm -f "$pw"
        printf "\ninclude_if_exists = 'sluice.conf'\n" | as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
    fi
    touch "$LOGS/postgresql.log"
    if ((EUID == 0)); then chown postgres: "$LOGS/postgresql.log"; fi
}

# write_pg_hba: password (SCRAM) authentication for every connection, the
# unix socket and loopback TCP alike.  initdb -A scram-sha-256 writes the
# same; this runs on every start after ensure_roles (and reloads), so a
# cluster made before authentication (initdb -A trust) loses its `trust`
# lines once its superuser has a password.
write_pg_hba() {
    as_pg tee "$PGDATA_DIR/pg_hba.conf" >/dev/null <<EOF
# Written by deploy/stack.sh on every start; edits are lost.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
EOF
}

launch_pg() {
    sl_port_free "$PG_PORT" || die "postgresql port $PG_PORT is in use"
    local sock=$PGSOCK/.s.PGSQL.$PG_PORT
    ((${#sock} < 108)) || die "socket path $sock is too long for a unix socket; use a shorter --dir"
    local preload=${SLUICE_PG_PRELOAD:-}
    [[ $preload =~ ^[a-z0-9_,]*$ ]] ||
        die "SLUICE_PG_PRELOAD: library names (letters, digits, _) separated by commas, not '$preload'"
    as_pg tee "$PGDATA_DIR/sluice.conf" >/dev/null <<EOF
# Written by deploy/stack.sh on every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGSOCK'
# Batched writers: room for the working set, few forced checkpoints.
# Durability is untouched (fsync and synchronous_commit stay on).
shared_buffers = ${SLUICE_PG_SHARED_BUFFERS:-512MB}
max_wal_size = 4GB
checkpoint_timeout = 15min
# New WAL segments are created sparse instead of written full of zeros
# first (until max_wal_size is reached, every segment is a new file).
wal_init_zero = off
random_page_cost = 1.1
effective_cache_size = 4GB
shared_preload_libraries = '$preload'
EOF
    # A postmaster killed a moment ago may linger as a zombie, and its pid in
    # postmaster.pid would make the new one refuse to start.
    local old
    old=$(sl_read_num "$PGDATA_DIR/postmaster.pid")
    [[ -z $old ]] || sl_wait_gone "$old" 5 || true
    say "postgresql starting (127.0.0.1:$PG_PORT)"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$LOGS/postgresql.log" -w -t "$TIMEOUT" \
        start >"$LOGS/pg_ctl.log" 2>&1 9>&-; then
        tail_log "$LOGS/pg_ctl.log"
        tail_log "$LOGS/postgresql.log"
        die "postgresql did not start (logs above)"
    fi
}

# admin_psql DB ARGS...: psql as the superuser (password from its passfile).
admin_psql() {
    local db=$1; shift
    psql -X -q -v ON_ERROR_STOP=1 "$(pg_dsn postgres "$db")" "$@"
}

# ensure_roles: one login role per service, the operators' and the schema
# owner's, none of them superuser, each with the password of its passfile
# (set again on every start: the file is the truth).
ensure_roles() {
    local role sql="ALTER ROLE postgres PASSWORD '$(role_password postgres)';
"
    for role in "${PG_ROLES[@]}"; do
        sql+="DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN
        CREATE ROLE $role LOGIN;
    END IF;
END \$\$;
ALTER ROLE $role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD '$(role_password "$role")';
"
    done
    admin_psql postgres <<<"$sql" >/dev/null || die "cannot create the sluice roles"
}

# create_db: database sluice, owned by sluice_owner.  A database made before
# the roles existed is handed over with its tables (the superuser made them).
create_db() {
    if [[ $(admin_psql postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'sluice'") != 1 ]]; then
        admin_psql postgres -c 'CREATE DATABASE sluice OWNER sluice_owner' || die "cannot create database sluice"
        say "created database sluice (owner sluice_owner)"
        return 0
    fi
    admin_psql sluice >/dev/null <<'EOF' || die "cannot hand database sluice to sluice_owner"
ALTER DATABASE sluice OWNER TO sluice_owner;
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                AND pg_get_userbyid(c.relowner) <> 'sluice_owner' LOOP
        EXECUTE format('ALTER TABLE public.%I OWNER TO sluice_owner', t);
    END LOOP;
END $$;
EOF
}

stop_pg() {
    local pid
    pid=$(pg_pid)
    [[ -n $pid ]] || return 0
    say "stopping postgresql (pid $pid)"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1; then
        say "pg_ctl stop -m fast failed: trying -m immediate"
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w -t 10 stop >/dev/null 2>&1 ||
            die "cannot stop postgresql (pid $pid); see $LOGS/postgresql.log"
    fi
}

# --- services ----------------------------------------------------------------

# liveness PID ADDR: beside a running service, asks its GET /health every
# SLUICE_LIVENESS_INTERVAL seconds (default 10); once it has answered
# "stalled" SLUICE_LIVENESS_FAILURES times in a row (default 3) -- its main
# loop stuck in a call for a minute and more (docs/metrics.md), a database
# that holds the connection open and never answers -- stops it with
# SIGTERM and, if it is still there SLUICE_LIVENESS_GRACE seconds later
# (default 15; a loop stuck in a call does not see its stop flag),
# SIGKILL.  The supervisor then restarts it as after any exit.  Any other
# answer, or none (starting, no endpoint), counts as alive.
liveness() {
    local pid=$1 addr=$2 every=${SLUICE_LIVENESS_INTERVAL:-10}
    local need=${SLUICE_LIVENESS_FAILURES:-3} grace=${SLUICE_LIVENESS_GRACE:-15} bad=0 body
    while sl_pid_alive "$pid"; do
        sleep "$every"
        body=$(curl -s --max-time 5 "http://$addr/health" 2>/dev/null) || body=""
        if [[ $body == *'"stalled"'* ]]; then bad=$((bad + 1)); else bad=0; fi
        ((bad >= need)) || continue
        echo "supervise: $(date -Is) $unit: /health answered stalled $bad times in a row, ${every}s apart; stopping it"
        kill -TERM "$pid" 2>/dev/null
        sl_wait_gone "$pid" "$grace" && return 0
        echo "supervise: $(date -Is) $unit: still running ${grace}s after SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null
        return 0
    done
}

# supervise NAME BIN: the supervisor loop (run via `stack.sh __supervise`, in
# its own session). Restarts BIN after it exits, with a delay that doubles
# on every exit in a row (1 s, 2 s, 4 s ... up to SLUICE_RESTART_MAX_DELAY,
# default 30 s) and falls back to 1 s once a run lasted
# SLUICE_RESTART_RESET_AFTER seconds (default 60): a service that cannot
# start (database gone, fenced) does not spin.  A service whose /health
# says it is stalled is stopped and restarted the same way (liveness).  On
# SIGTERM forwards it to the service, waits for it and exits. Each run
# re-reads stack.env.
supervise() {
    local unit=$1 bin=$2 child=0 rc restarts=0 dsn began delay=1 pass name watch
    # A further instance of a stage (scan-1, ...) is the stage with its own
    # instance.id, so its own transactional.id in the same group.
    name=$(unit_base "$unit")
    [[ $unit == "$name" ]] || export SLUICE_INSTANCE_ID=${unit##*-}
    local max_delay=${SLUICE_RESTART_MAX_DELAY:-30} reset_after=${SLUICE_RESTART_RESET_AFTER:-60}
    stopping=0
    set +e
    printf '%s\n' "$$" >"$RUN/$unit.sup.pid"
    trap 'stopping=1; ((child)) && kill -TERM "$child" 2>/dev/null' TERM INT HUP
    while ((!stopping)); do
        # shellcheck disable=SC1090
        . "$ENV_FILE"
        # The service's own database role.
        dsn=SLUICE_PG_DSN_${name^^}
        [[ -z ${!dsn:-} ]] || export SLUICE_PG_DSN=${!dsn}
        # ... and its own Kafka user.
        dsn=SLUICE_CONFIG_${name^^}
        [[ -z ${!dsn:-} ]] || export SLUICE_CONFIG=${!dsn}
        # sluice-review's audit key is its own, not commit's.
        [[ $name != review ]] || export SLUICE_AUDIT_KEY_FILE=${SLUICE_REVIEW_AUDIT_KEY_FILE:-}
        metrics_listen_env "$unit"
        echo "supervise: $(date -Is) starting $bin (run $((restarts + 1)))"
        began=$SECONDS
        pass=$(sed -n 's/.*passfile=\([^ ]*\).*/\1/p' <<<"${SLUICE_PG_DSN:-}")
        if ((EUID == 0)) && [[ -x ${bin%/*}/sluice-launch && -f ${SLUICE_CONFIG:-} && -f $pass ]]; then
            # As its own user, with its own secrets as descriptors opened
            # here: it needs no path to them, nor to the binary.
            exec 3<"$SLUICE_CONFIG" 4<"$pass"
            # Its key file, if it has one, as descriptor 5 too.
            exec 5</dev/null
            if [[ $name == validate && -f ${SLUICE_SECRETS_KEY_FILE:-} ]]; then
                exec 5<"$SLUICE_SECRETS_KEY_FILE"
                SLUICE_SECRETS_KEY_FILE=/dev/fd/5
            elif [[ ($name == commit || $name == review) && -f ${SLUICE_AUDIT_KEY_FILE:-} ]]; then
                exec 5<"$SLUICE_AUDIT_KEY_FILE"
                SLUICE_AUDIT_KEY_FILE=/dev/fd/5
            elif [[ $name == feed && -f ${SLUICE_FEED_URL_KEY_FILE:-} ]]; then
                exec 5<"$SLUICE_FEED_URL_KEY_FILE"
                SLUICE_FEED_URL_KEY_FILE=/dev/fd/5
            fi
            [[ $name == validate ]] || unset SLUICE_SECRETS_KEY_FILE
            [[ $name == commit || $name == review ]] || unset SLUICE_AUDIT_KEY_FILE
            [[ $name == feed ]] || unset SLUICE_FEED_URL_KEY_FILE
            SLUICE_CONFIG=/dev/fd/3 SLUICE_PG_DSN=${SLUICE_PG_DSN/"passfile=$pass"/passfile=/dev/fd/4} \
                "${bin%/*}/sluice-launch" "$(svc_user "$name")" "$bin" </dev/null &
            child=$!
            exec 3<&- 4<&- 5<&-
        else
            [[ $name == validate ]] || unset SLUICE_SECRETS_KEY_FILE
            [[ $name == commit || $name == review ]] || unset SLUICE_AUDIT_KEY_FILE
            [[ $name == feed ]] || unset SLUICE_FEED_URL_KEY_FILE
            "$bin" </dev/null &
            child=$!
        fi
        printf '%s\n' "$child" >"$RUN/$unit.pid"
        watch=0
        if [[ -n ${SLUICE_METRICS_LISTEN:-} ]] && command -v curl >/dev/null; then
            liveness "$child" "$SLUICE_METRICS_LISTEN" &
            watch=$!
        fi
        wait "$child"
        rc=$?
        while kill -0 "$child" 2>/dev/null; do # wait was interrupted by a signal
            wait "$child"
            rc=$?
        done
        child=0
        if ((watch)); then
            kill -TERM "$watch" 2>/dev/null
            wait "$watch" 2>/dev/null
        fi
        ((stopping)) && break
        restarts=$((restarts + 1))
        printf '%s\n' "$restarts" >"$RUN/$unit.restarts"
        ((SECONDS - began < reset_after)) || delay=1
        echo "supervise: $(date -Is) $bin exited with status $rc after $((SECONDS - began))s; restarting in ${delay}s"
        sleep "$delay" &
        wait $!
        delay=$((delay * 2 > max_delay ? max_delay : delay * 2))
    done
    echo "supervise: $(date -Is) stopped $unit"
    rm -f "$RUN/$unit.pid" "$RUN/$unit.sup.pid"
}

start_services() {
    local name bin started=0 pid
    for name in $(service_units); do
        bin=$BIN_DIR/sluice-$(unit_base "$name")
        [[ -x $bin ]] || continue
        pid=$(sup_pid "$name")
        if [[ -n $pid ]]; then
            say "$name already running (supervisor pid $pid)"
            continue
        fi
        rm -f "$RUN/$name.restarts"
        setsid bash "$STACK_SH" __supervise --dir "$DIR" "$name" "$bin" \
            >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
        printf '%s\n' "$!" >"$RUN/$name.sup.pid"
        say "$name started (supervisor pid $!, log $LOGS/$name.log)"
        started=$((started + 1))
    done
    ((started)) || [[ -n $(compgen -G "$BIN_DIR/sluice-*") ]] || say "no service binaries in $BIN_DIR"
}

# stop_services: SIGTERM each supervisor (or orphaned service); after 15 s
# SIGKILL what is left, the supervisor's whole process group included.
stop_services() {
    local name sup svc
    local -a groups=() pids=()
    for name in $(service_units); do
        sup=$(sup_pid "$name")
        svc=$(svc_pid "$name")
        # The supervisor forwards one SIGTERM to the service and waits for it.
        if [[ -n $sup ]]; then
            say "stopping $name (supervisor pid $sup${svc:+, service pid $svc})"
            kill -TERM "$sup" 2>/dev/null || true
            groups+=("$sup")
        elif [[ -n $svc ]]; then
            say "stopping $name (service pid $svc, no supervisor)"
            kill -TERM "$svc" 2>/dev/null || true
        fi
        [[ -z $svc ]] || pids+=("$svc")
    done
    local pid
    for pid in "${groups[@]}" "${pids[@]}"; do
        if ! sl_wait_gone "$pid" 15; then
            say "pid $pid still running after 15s: SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for name in $(service_units); do
        rm -f "$RUN/$name.sup.pid" "$RUN/$name.pid"
    done
}

# --- metrics ports (GET /metrics, /health, /ready; docs/metrics.md) -------------
# Every long-running service serves its metrics on a loopback port of its
# own (config key metrics.listen, env SLUICE_METRICS_LISTEN).  stack.env
# lists them as SLUICE_METRICS_<SERVICE>=127.0.0.1:PORT, and the
# supervisor hands each service its own as SLUICE_METRICS_LISTEN.  A port
# is kept while its service runs, else an env override (this stack's
# own, when it differs from last time's), else last time's, else a fresh
# one.
declare -A METRICS_PORT=()

# metrics_var NAME: the stack.env variable of a service (or instance) name.
metrics_var() {
    local n=${1^^}
    printf 'SLUICE_METRICS_%s\n' "${n//[^A-Z0-9]/_}"
}

# assign_metrics_ports NAME...: fills METRICS_PORT, avoiding the ports
# already taken (TAKEN_PORTS, space-separated).
assign_metrics_ports() {
    local name var want prev port fresh=() i=0 used=" ${TAKEN_PORTS:-} "
    mapfile -t fresh < <(sl_free_ports $(($# + 4)))
    for name in "$@"; do
        var=$(metrics_var "$name")
        prev=$(env_get "$var")
        prev=${prev##*:}
        want=""
        if [[ -z ${SLUICE_STACK_DIR_CALLER:-} || $SLUICE_STACK_DIR_CALLER == "$DIR" ]]; then
            want=${!var:-}
            want=${want##*:}
        fi
        if [[ -n $prev && ( -z $want || $want == "$prev" ) && $used != *" $prev "* ]]; then
            # Stable across restarts (scrape configs name it): kept even
            # when busy, as a service of this stack started by hand may
            # hold it.  Setting the variable to another port moves it.
            port=$prev
        else
            port=""
            while [[ -z $port || $used == *" $port "* ]]; do
                ((i < ${#fresh[@]})) || die "cannot find free loopback ports for metrics"
                port=$(pick_port "$name metrics" "$want" "$prev" "${fresh[i]}")
                i=$((i + 1))
                # a clash with an explicit or previous port: a fresh one next
                [[ $used != *" $port "* ]] || want="" prev=""
            done
        fi
        METRICS_PORT[$name]=$port
        used+="$port "
    done
}

# write_metrics_env: adds the metrics addresses to stack.env (atomically).
write_metrics_env() {
    local tmp=$ENV_FILE.tmp name
    {
        cat "$ENV_FILE"
        echo "# Metrics, health and readiness of each service (metrics.listen):"
        echo "# GET http://ADDR/metrics, /health, /ready (docs/metrics.md)."
        for name in "${!METRICS_PORT[@]}"; do
            printf 'export %s=127.0.0.1:%s\n' "$(metrics_var "$name")" "${METRICS_PORT[$name]}"
        done | sort
    } >"$tmp"
    mv "$tmp" "$ENV_FILE"
}

# metrics_listen_env NAME: in the supervisor, the service's own address.
metrics_listen_env() {
    local var
    var=$(metrics_var "$1")
    if [[ -n ${!var:-} ]]; then
        export SLUICE_METRICS_LISTEN=${!var}
    else
        unset SLUICE_METRICS_LISTEN
    fi
}

# status_metrics: each service's readiness from its /ready.
status_metrics() {
    local name addr body
    for name in $(service_units); do
        addr=$(env_get "$(metrics_var "$name")")
        [[ -n $addr && -n $(svc_pid "$name") ]] || continue
        body=$(curl -s -m 2 "http://$addr/ready" 2>/dev/null) || body="no answer"
        printf '%-12s metrics http://%s/metrics  ready: %s\n' "$name:" "$addr" "${body:-no answer}"
    done
}

# --- commands ------------------------------------------------------------------

write_env() {
    local tmp=$ENV_FILE.tmp
    cat >"$tmp" <<EOF
# Written by deploy/stack.sh for the stack in this directory.
export SLUICE_STACK_DIR=$DIR
export SLUICE_KAFKA_BROKERS=$(kafka_brokers_list)
export SLUICE_KAFKA_PORT=$KAFKA_PORT
export SLUICE_KAFKA_CONTROLLER_PORT=$KAFKA_CPORT
$(cluster_env)
export SLUICE_PG_PORT=$PG_PORT
# PostgreSQL: each conninfo names its own role and that role's passfile.
# SLUICE_PG_DSN is the operators' (sluicectl, psql); a service started by
# the supervisor gets SLUICE_PG_DSN=SLUICE_PG_DSN_<SERVICE>.
export SLUICE_PG_DSN='$(pg_dsn sluice_ctl)'
export SLUICE_PG_DSN_OWNER='$(pg_dsn sluice_owner)'
export SLUICE_PG_DSN_ADMIN='$(pg_dsn postgres postgres)'
export SLUICE_PG_DSN_VALIDATE='$(pg_dsn sluice_validate)'
export SLUICE_PG_DSN_SCAN='$(pg_dsn sluice_scan)'
export SLUICE_PG_DSN_LICENSE='$(pg_dsn sluice_license)'
export SLUICE_PG_DSN_COMMIT='$(pg_dsn sluice_commit)'
export SLUICE_PG_DSN_REVIEW='$(pg_dsn sluice_review)'
export SLUICE_PG_DSN_FEED='$(pg_dsn sluice_feed)'
export SLUICE_PG_DSN_LEDGER='$(pg_dsn sluice_ledger)'
# Kafka: SASL/SCRAM credentials in one 0600 config file per user.  sluicectl
# reads SLUICE_CONFIG (the operators' user), kcat reads KCAT_CONFIG; a
# service started by the supervisor gets SLUICE_CONFIG=SLUICE_CONFIG_<SERVICE>.
export SLUICE_CONFIG=$SECRETS/kafka-sluice_ctl.conf
export KCAT_CONFIG=$SECRETS/kafka-sluice_ctl.kcat
export SLUICE_CONFIG_VALIDATE=$SECRETS/kafka-sluice_validate.conf
export SLUICE_CONFIG_SCAN=$SECRETS/kafka-sluice_scan.conf
export SLUICE_CONFIG_LICENSE=$SECRETS/kafka-sluice_license.conf
export SLUICE_CONFIG_COMMIT=$SECRETS/kafka-sluice_commit.conf
export SLUICE_CONFIG_REVIEW=$SECRETS/kafka-sluice_review.conf
export SLUICE_CONFIG_FEED=$SECRETS/feed.conf
export SLUICE_CONFIG_LEDGER=$SECRETS/ledger.conf
export SLUICE_CONFIG_UPLOADER=$SECRETS/kafka-sluice_uploader.conf
export SLUICE_KCAT_CONFIG_UPLOADER=$SECRETS/kafka-sluice_uploader.kcat
export SLUICE_CONFIG_ADMIN=$SECRETS/kafka-admin.conf
export SLUICE_KCAT_CONFIG_ADMIN=$SECRETS/kafka-admin.kcat
export SLUICE_KAFKA_ADMIN_PROPERTIES=$SECRETS/kafka-admin.properties
# The key HMAC secrets are sealed under: sluicectl's; validate gets it as a
# descriptor from its supervisor, no other service at all.
export SLUICE_SECRETS_KEY_FILE=$SECRETS/secrets.key
# Chain heads: commit seals them with its key (handed to it alone, as
# descriptor 5), takedown add with the operators'.
export SLUICE_AUDIT_KEY_FILE=$SECRETS/commit-audit.key
export SLUICE_AUDIT_OPERATOR_KEY_FILE=$SECRETS/operator-audit.key
# The moderators' dashboard (sluice-review, loopback only): its port
# (review.port), its URL when the stack runs it (not --infra-only), and its
# own audit key (descriptor 5, it alone).
export SLUICE_REVIEW_PORT=$REVIEW_PORT
$( ((INFRA_ONLY)) || echo "export SLUICE_REVIEW_URL=http://127.0.0.1:$REVIEW_PORT/")
export SLUICE_REVIEW_AUDIT_KEY_FILE=$SECRETS/review-audit.key
# The delivery feed (sluice-feed, loopback only): its port (feed.port), its
# URL when the stack runs it, and the key of its signed content URLs
# (descriptor 5, it alone).
export SLUICE_FEED_PORT=$FEED_PORT
$( ((INFRA_ONLY)) || echo "export SLUICE_FEED_URL=http://127.0.0.1:$FEED_PORT")
export SLUICE_FEED_URL_KEY_FILE=$SECRETS/feed-url.key
EOF
    mv "$tmp" "$ENV_FILE"
}

run_sluicectl() {
    local ctl=$BIN_DIR/sluicectl
    [[ -x $ctl ]] || { say "no $ctl: skipping db migrate and topics create (--infra-only)"; return 0; }
    (
        # shellcheck disable=SC1090
        . "$ENV_FILE"
        say "sluicectl db migrate (as sluice_owner)"
        SLUICE_PG_DSN=$SLUICE_PG_DSN_OWNER "$ctl" db migrate >&2 || die "sluicectl db migrate failed"
        say "sluicectl topics create --partitions $PARTITIONS --replication $KAFKA_RF (as sluice_ctl)"
        "$ctl" topics create --partitions "$PARTITIONS" --replication "$KAFKA_RF" >&2 ||
            die "sluicectl topics create failed"
    )
}

all_services_running() {
    local name
    for name in $(service_units); do
        [[ -x $BIN_DIR/sluice-$(unit_base "$name") && -z $(sup_pid "$name") ]] && return 1
    done
    return 0
}

cmd_start() {
    local t0=$SECONDS
    command -v java >/dev/null 2>&1 || die "no java on PATH (run deploy/install.sh)"
    compgen -G "$SL_KAFKA_LIB/kafka_2.13-*.jar" >/dev/null ||
        die "no kafka jars in $SL_KAFKA_LIB (run deploy/install.sh)"
    if ((!INFRA_ONLY)) && [[ ! -x $BIN_DIR/sluicectl ]]; then
        die "no $BIN_DIR/sluicectl: build first (cmake -S . -B build && cmake --build build), set SLUICE_BIN_DIR, or pass --infra-only"
    fi
    [[ $PARTITIONS =~ ^[1-9][0-9]*$ ]] || die "--partitions wants a positive number, not '$PARTITIONS'"
    KAFKA_INDEX_BYTES=${SLUICE_KAFKA_INDEX_BYTES:-1048576}
    [[ $KAFKA_INDEX_BYTES =~ ^[1-9][0-9]{0,9}$ ]] &&
        ((KAFKA_INDEX_BYTES >= 4096 && KAFKA_INDEX_BYTES <= 2147483647)) ||
        die "SLUICE_KAFKA_INDEX_BYTES must be a number of bytes from 4096 to 2147483647 (got '$KAFKA_INDEX_BYTES')"

    mkdir -p "$DIR" "$RUN" "$LOGS"
    if ((EUID == 0)); then
        local u
        for u in "$KAFKA_USER" "${SERVICES[@]/#/sluice-}"; do
            sl_ensure_system_user "$u" || die "cannot create user $u"
        done
        # Our own directories: searchable by the daemons, listable by root.
        chmod 711 "$DIR" "$LOGS"
        id postgres >/dev/null 2>&1 || die "no 'postgres' user (run deploy/install.sh)"
        check_reachable postgres "$LOGS"
        check_reachable "$KAFKA_USER" "$LOGS"
    fi
    cd "$DIR"
    take_lock
    export SLUICE_STACK_DIR=$DIR

    local kpid ppid
    kpid=$(kafka_pid)
    ppid=$(pg_pid)
    if [[ -n $kpid && -n $ppid ]] && sl_port_open "$(env_get SLUICE_KAFKA_PORT)" &&
        cluster_nodes_running && pg_ready "$(env_get SLUICE_PG_PORT)" && { ((INFRA_ONLY)) || all_services_running; }; then
        say "already running in $DIR (kafka pid $kpid, postgresql pid $ppid); env: $ENV_FILE"
        return 0
    fi

    # Ports: keep those of running parts, else env override, else last ones, else fresh.
    local fresh kwant="" cwant="" pwant=""
    if [[ -z ${SLUICE_STACK_DIR_CALLER:-} || $SLUICE_STACK_DIR_CALLER == "$DIR" ]]; then
        kwant=${SLUICE_KAFKA_PORT:-} cwant=${SLUICE_KAFKA_CONTROLLER_PORT:-} pwant=${SLUICE_PG_PORT:-}
    elif [[ -n ${SLUICE_KAFKA_PORT:-}${SLUICE_PG_PORT:-} ]]; then
        say "note: ignoring SLUICE_*_PORT from the environment: they belong to the stack in $SLUICE_STACK_DIR_CALLER"
    fi
    mapfile -t fresh < <(sl_free_ports 5)
    ((${#fresh[@]} == 5)) || die "cannot find free loopback ports (python3 missing?)"
    if [[ -n $kpid ]]; then
        KAFKA_PORT=$(env_get SLUICE_KAFKA_PORT) KAFKA_CPORT=$(env_get SLUICE_KAFKA_CONTROLLER_PORT)
        [[ -n $KAFKA_PORT && -n $KAFKA_CPORT ]] ||
            die "kafka (pid $kpid) runs but $ENV_FILE lacks its ports: run stop, then start"
    else
        KAFKA_PORT=$(pick_port kafka "$kwant" "$(env_get SLUICE_KAFKA_PORT)" "${fresh[0]}")
        KAFKA_CPORT=$(pick_port "kafka controller" "$cwant" "$(env_get SLUICE_KAFKA_CONTROLLER_PORT)" "${fresh[1]}")
    fi
    if [[ -n $ppid ]]; then
        PG_PORT=$(env_get SLUICE_PG_PORT)
        [[ -n $PG_PORT ]] || die "postgresql (pid $ppid) runs but $ENV_FILE lacks its port: run stop, then start"
    else
        PG_PORT=$(pick_port postgresql "$pwant" "$(env_get SLUICE_PG_PORT)" "${fresh[2]}")
    fi
    [[ $KAFKA_PORT != "$PG_PORT" && $KAFKA_PORT != "$KAFKA_CPORT" && $PG_PORT != "$KAFKA_CPORT" ]] ||
        die "port clash: kafka $KAFKA_PORT, controller $KAFKA_CPORT, postgresql $PG_PORT"
    cluster_pick_ports "${fresh[@]}"
    # The review dashboard's port: kept while it runs, else as the others.
    if [[ -n $(sup_pid review) && -n $(env_get SLUICE_REVIEW_PORT) ]]; then
        REVIEW_PORT=$(env_get SLUICE_REVIEW_PORT)
    else
        local rwant=""
        if [[ -z ${SLUICE_STACK_DIR_CALLER:-} || $SLUICE_STACK_DIR_CALLER == "$DIR" ]]; then
            rwant=${SLUICE_REVIEW_PORT:-}
        fi
        REVIEW_PORT=$(pick_port review "$rwant" "$(env_get SLUICE_REVIEW_PORT)" "${fresh[3]}")
    fi
    [[ $REVIEW_PORT != "$KAFKA_PORT" && $REVIEW_PORT != "$PG_PORT" && $REVIEW_PORT != "$KAFKA_CPORT" ]] ||
        die "port clash: review $REVIEW_PORT"
    # The feed's likewise.
    if [[ -n $(sup_pid feed) && -n $(env_get SLUICE_FEED_PORT) ]]; then
        FEED_PORT=$(env_get SLUICE_FEED_PORT)
    else
        local fwant=""
        if [[ -z ${SLUICE_STACK_DIR_CALLER:-} || $SLUICE_STACK_DIR_CALLER == "$DIR" ]]; then
            fwant=${SLUICE_FEED_PORT:-}
        fi
        FEED_PORT=$(pick_port feed "$fwant" "$(env_get SLUICE_FEED_PORT)" "${fresh[4]}")
    fi
    [[ $FEED_PORT != "$KAFKA_PORT" && $FEED_PORT != "$PG_PORT" && $FEED_PORT != "$KAFKA_CPORT" &&
        $FEED_PORT != "$REVIEW_PORT" ]] || die "port clash: feed $FEED_PORT"
    # (before write_env: they read last time's from stack.env)
    # One per supervised unit: every service and each further instance of
    # a stage (scan-1, ...), clear of every node's ports.
    TAKEN_PORTS="$KAFKA_PORT $KAFKA_CPORT $PG_PORT $REVIEW_PORT $FEED_PORT ${KAFKA_PORTS[*]:-} ${KAFKA_CPORTS[*]:-}" \
        assign_metrics_ports $(service_units)
    write_env
    write_metrics_env

    # Kafka boots in the background while PostgreSQL starts.
    if [[ -z $kpid ]]; then
        BROKER_LIB=$(broker_lib)
        write_kafka_config
        launch_kafka
        kpid=$(sl_read_num "$RUN/kafka.pid")
    else
        say "kafka already running (pid $kpid)"
        KAFKA_LOG_OFFSET=0
    fi
    cluster_launch_nodes
    local role
    for role in postgres "${PG_ROLES[@]}"; do role_password "$role" >/dev/null; done
    for role in admin "${KAFKA_USERS[@]}"; do kafka_password "$role" >/dev/null; done
    secrets_key
    if ((EUID == 0)); then
        # A service's own secrets are its user's (it reopens them through
        # the descriptors its supervisor hands it); the directory stays
        # root's 0700, so it cannot reach any other file in it.
        chmod 700 "$SECRETS"
        for role in "${SERVICES[@]}"; do
            chown "$(svc_user "$role"):" "$(pass_file "sluice_$role")"
            [[ ! -f $SECRETS/kafka-sluice_$role.conf ]] ||
                chown "$(svc_user "$role"):" "$SECRETS/kafka-sluice_$role.conf"
        done
        chown "$(svc_user feed):" "$SECRETS/feed.conf" "$SECRETS/feed-url.key"
        chown "$(svc_user ledger):" "$SECRETS/ledger.conf"
        chown "$(svc_user validate):" "$SECRETS/secrets.key"
        chown "$(svc_user commit):" "$SECRETS/commit-audit.key"
        chown "$(svc_user review):" "$SECRETS/review-audit.key"
    fi
    if [[ -z $ppid ]]; then
        init_pg
        launch_pg
    else
        say "postgresql already running (pid $ppid)"
    fi
    ensure_roles
    write_pg_hba
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" reload >/dev/null || die "pg_ctl reload failed"
    create_db
    wait_kafka "$kpid"
    say "kafka ready on 127.0.0.1:$KAFKA_PORT"
    cluster_wait_nodes
    add_missing_kafka_users
    if acls_applied; then
        say "kafka ACLs of deploy/kafka-acls.conf already applied"
    else
        say "kafka ACLs (deploy/kafka-acls.conf)"
        (
            # shellcheck disable=SC1090
            . "$ENV_FILE"
            bash "$SL_ROOT/deploy/kafka-acls.sh" add "${SLUICE_TOPIC_PREFIX:-}" >&2
        ) 9>&- || die "cannot create the kafka ACLs"
        acls_mark
    fi

    run_sluicectl
    ((INFRA_ONLY)) || start_services
    say "stack up in $((SECONDS - t0))s: $DIR (source $ENV_FILE)"
}

cmd_stop() {
    if [[ ! -d $DIR ]]; then
        say "nothing to stop: $DIR does not exist"
        return 0
    fi
    cd "$DIR"
    take_lock
    stop_services
    cluster_stop_nodes
    stop_pg
    say "stopped $DIR"
}

cmd_status() {
    local kport pport pid up=1 name sup svc restarts
    kport=$(env_get SLUICE_KAFKA_PORT)
    pport=$(env_get SLUICE_PG_PORT)
    pid=$(kafka_pid)
    if [[ -n $pid ]] && sl_port_open "$kport"; then
        echo "kafka:       running  pid $pid  port $kport"
    elif [[ -n $pid ]]; then
        echo "kafka:       starting pid $pid  port $kport (not accepting connections)"
        up=0
    else
        echo "kafka:       stopped"
        up=0
    fi
    cluster_status || up=0
    pid=$(pg_pid)
    if [[ -n $pid ]] && pg_ready "$pport"; then
        echo "postgresql:  running  pid $pid  port $pport"
    elif [[ -n $pid ]]; then
        echo "postgresql:  starting pid $pid  port $pport (not accepting connections)"
        up=0
    else
        echo "postgresql:  stopped"
        up=0
    fi
    for name in $(service_units); do
        sup=$(sup_pid "$name")
        svc=$(svc_pid "$name")
        restarts=$(sl_read_num "$RUN/$name.restarts")
        if [[ -n $sup ]]; then
            printf '%-12s running  supervisor pid %s  service pid %s  restarts %s\n' \
                "$name:" "$sup" "${svc:-none}" "${restarts:-0}"
        elif [[ -x $BIN_DIR/sluice-$(unit_base "$name") ]]; then
            printf '%-12s stopped\n' "$name:"
        else
            printf '%-12s stopped  (no %s)\n' "$name:" "$BIN_DIR/sluice-$(unit_base "$name")"
        fi
    done
    status_metrics
    echo "dir:         $DIR"
    ((up)) && return 0
    return 3
}

# --- main ------------------------------------------------------------------

main() {
    local cmd=${1:-}
    [[ -n $cmd ]] || usage
    shift
    local dir=$SL_ROOT/.sluice
    INFRA_ONLY=0
    PARTITIONS=${SLUICE_PARTITIONS:-3}
    BROKERS="" INSTANCES=""
    local -a rest=()
    while (($#)); do
        case $1 in
            --dir) (($# >= 2)) || usage; dir=$2; shift 2 ;;
            --dir=*) dir=${1#--dir=}; shift ;;
            --infra-only) INFRA_ONLY=1; shift ;;
            --partitions) (($# >= 2)) || usage; PARTITIONS=$2; shift 2 ;;
            --partitions=*) PARTITIONS=${1#--partitions=}; shift ;;
            --brokers) (($# >= 2)) || usage; BROKERS=$2; shift 2 ;;
            --brokers=*) BROKERS=${1#--brokers=}; shift ;;
            --instances) (($# >= 2)) || usage; INSTANCES=$2; shift 2 ;;
            --instances=*) INSTANCES=${1#--instances=}; shift ;;
            -h | --help) usage ;;
            -*) echo "stack: unknown option $1" >&2; usage ;;
            *) rest+=("$1"); shift ;;
        esac
    done
    # The caller's SLUICE_STACK_DIR (set when it sourced some stack.env) tells
    # whether inherited SLUICE_*_PORT values are meant for this DIR.
    SLUICE_STACK_DIR_CALLER=${SLUICE_STACK_DIR:-}
    set_paths "$dir"
    cluster_settings
    PG_BIN=$(sl_pg_bindir) || PG_BIN=/usr/lib/postgresql/15/bin
    case $cmd in
        start) ((${#rest[@]} == 0)) || usage; cmd_start ;;
        stop) ((${#rest[@]} == 0)) || usage; cmd_stop ;;
        status) ((${#rest[@]} == 0)) || usage; cmd_status ;;
        __supervise) ((${#rest[@]} == 2)) || usage; supervise "${rest[@]}" ;;
        -h | --help | help) usage ;;
        *) echo "stack: unknown command '$cmd'" >&2; usage ;;
    esac
}

main "$@"
