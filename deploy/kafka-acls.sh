#!/usr/bin/env bash
# Apply (or remove) the pipeline's Kafka ACLs, deploy/kafka-acls.conf, for
# one topic prefix, as the cluster's admin user: deploy/stack.sh runs it for
# the stack's own topics, tests/integration/lib.sh for each test's prefix.
# One JVM, one CreateAcls request (deploy/KafkaAcls.java); re-running it is
# harmless (Kafka keeps one copy of an identical ACL).
#
# usage: deploy/kafka-acls.sh add|delete [PREFIX]
# env:   SLUICE_KAFKA_BROKERS             bootstrap servers (from stack.env)
#        SLUICE_KAFKA_ADMIN_PROPERTIES    Java client properties of the admin
#                                         user (from stack.env, mode 0600)
set -euo pipefail

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

die() { sl_die kafka-acls "$@"; }

(($# >= 1 && $# <= 2)) && [[ $1 == add || $1 == delete ]] ||
    { sed -n 's/^# usage: /usage: /p' "${BASH_SOURCE[0]}" >&2; exit 2; }
: "${SLUICE_KAFKA_BROKERS:?source a stack.env first}"
: "${SLUICE_KAFKA_ADMIN_PROPERTIES:?source a stack.env of a stack with authentication}"
[[ -r $SLUICE_KAFKA_ADMIN_PROPERTIES ]] || die "cannot read $SLUICE_KAFKA_ADMIN_PROPERTIES"
compgen -G "$SL_KAFKA_LIB/kafka-clients-*.jar" >/dev/null || die "no kafka jars in $SL_KAFKA_LIB (run deploy/install.sh)"
# Compiled once per version of the source into the cache (a third of the
# time of Java's single-file source mode, which stays the fallback).
src=$SL_ROOT/deploy/KafkaAcls.java
cls=$SL_CACHE/kafka-acls/$(sha256sum "$src" | cut -c1-16)
if [[ ! -f $cls/KafkaAcls.class ]] && command -v javac >/dev/null 2>&1; then
    tmp=$(mktemp -d "$SL_CACHE/kafka-acls.tmp.XXXXXX")
    if javac -nowarn -d "$tmp" -cp "$SL_KAFKA_LIB/*" "$src" >&2; then
        mkdir -p "$(dirname "$cls")"
        mv -T "$tmp" "$cls" 2>/dev/null || rm -rf "$tmp" # a parallel run won
    else
        rm -rf "$tmp"
    fi
fi
run=(KafkaAcls)
[[ -f $cls/KafkaAcls.class ]] || { cls=; run=("$src"); }
exec java -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j.configuration="file:$SL_ROOT/deploy/log4j-tools.properties" \
    -cp "${cls:+$cls:}$SL_KAFKA_LIB/*" "${run[@]}" \
    "$1" "$SLUICE_KAFKA_BROKERS" "$SLUICE_KAFKA_ADMIN_PROPERTIES" \
    "$SL_ROOT/deploy/kafka-acls.conf" "${2:-}"
