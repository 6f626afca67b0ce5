#!/usr/bin/env bash
# Checks that the processors cannot reach Kafka or PostgreSQL: no processor
# library (nor sl_core) and no processor unit test depends on librdkafka or
# libpq.  Read back from the files themselves:
#   static archives (.a)   no symbol, defined or undefined, of librdkafka
#                          (rd_kafka_*) or libpq (PQ*, lo_*, pg_*encoding*)
#                          in any member
#   executables            no DT_NEEDED entry for librdkafka or libpq, and
#                          no such symbol, imported or linked in statically
# CONTROL is a binary that must depend on both (sluice-commit): if the
# check does not see them there, it sees nothing and the test fails, so it
# cannot pass by looking at the wrong thing.
#
# usage: tests/check_purity.sh CONTROL FILE...
set -euo pipefail
(($# >= 2)) || { echo "usage: $0 CONTROL FILE..." >&2; exit 2; }
control=$1
shift

sym_re='^(rd_kafka_[A-Za-z0-9_]+|PQ[a-zA-Z0-9_]+|lo_(open|read|write|close|creat|import|export|unlink|lseek|truncate|tell)[a-z0-9_]*|pg_(char_to_encoding|encoding_to_char|valid_server_encoding[a-z_]*|encoding_(mblen|dsplen|max_length)[a-z_]*))(@.*)?$'
lib_re='^(librdkafka|libpq)\.so'

# Prints one line per forbidden dependency of file $1 (nothing when pure).
deps_of() {
    local f=$1
    [[ -f $f ]] || { echo "missing file"; return; }
    if [[ $f == *.a ]]; then
        nm -A --format=posix "$f" 2>/dev/null | awk '{print $2}' |
            sed 's/^.*://' | grep -E "$sym_re" | sort -u | head -5 | sed "s/^/symbol /" || true
    else
        readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
            grep -E "$lib_re" | sed 's/^/needs /' || true
        { nm --format=posix "$f"; nm -D --format=posix "$f"; } 2>/dev/null | awk '{print $1}' |
            grep -E "$sym_re" | sort -u | head -3 | sed 's/^/symbol /' || true
    fi
}

ctl=$(deps_of "$control")
grep -q '^needs librdkafka' <<<"$ctl" && grep -q '^needs libpq' <<<"$ctl" || {
    echo "control $(basename "$control"): librdkafka and libpq not both seen" \
         "(got: ${ctl:-nothing}); the check is blind" >&2
    exit 1
}

fail=0
for f in "$@"; do
    d=$(deps_of "$f")
    if [[ -n $d ]]; then
        while IFS= read -r line; do
            echo "$(basename "$f"): $line" >&2
        done <<<"$d"
        fail=1
    fi
done
((fail == 0)) || { echo "processor code reaches Kafka or PostgreSQL (see above)" >&2; exit 1; }
echo "purity: $# files free of librdkafka and libpq (control $(basename "$control") has both)"
