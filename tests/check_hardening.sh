#!/usr/bin/env bash
# Checks that every binary in BIN_DIR was built with the hardening flags of
# CMakeLists.txt, from the ELF itself (readelf), as checksec does:
#   PIE          ELF type DYN with a PT_INTERP (an executable, not a library)
#   full RELRO   a GNU_RELRO segment and BIND_NOW (FLAGS NOW / FLAGS_1 NOW)
#   canaries     references __stack_chk_fail (some binary at least must:
#                a program without arrays on its stack gets no canary)
#   fortify      references some __*_chk function, unless FORTIFY is off
#                (Debug builds: see CMakeLists.txt)
#
# usage: tests/check_hardening.sh BIN_DIR BUILD_TYPE
set -euo pipefail
bin=$1 type=${2:-}
fail=0 n=0 canary=0 fortify=0
for f in "$bin"/sluice-* "$bin"/sluicectl; do
    [[ -x $f ]] || continue
    n=$((n + 1))
    name=$(basename "$f")
    hdr=$(readelf -h -l "$f")
    dyn=$(readelf -d "$f")
    syms=$(readelf --dyn-syms -W "$f")
    grep -q 'Type:[[:space:]]*DYN' <<<"$hdr" && grep -q 'INTERP' <<<"$hdr" ||
        { echo "$name: not a position independent executable" >&2; fail=1; }
    grep -q 'GNU_RELRO' <<<"$hdr" || { echo "$name: no GNU_RELRO segment" >&2; fail=1; }
    grep -Eq '\(FLAGS(_1)?\)[[:space:]]+.*\bNOW\b|\(BIND_NOW\)' <<<"$dyn" ||
        { echo "$name: lazy binding (no BIND_NOW): partial RELRO only" >&2; fail=1; }
    grep -q '__stack_chk_fail' <<<"$syms" && canary=$((canary + 1))
    grep -Eq '__[a-z0-9_]+_chk(@|$| )' <<<"$syms" && fortify=$((fortify + 1))
done
((n > 0)) || { echo "no sluice binaries in $bin" >&2; exit 1; }
((canary > 0)) || { echo "no binary references __stack_chk_fail: -fstack-protector-strong missing" >&2; fail=1; }
if [[ $type != Debug ]] && ((fortify == 0)); then
    echo "no binary calls a __*_chk function: _FORTIFY_SOURCE missing" >&2
    fail=1
fi
((fail)) && { echo "hardening check failed for $bin" >&2; exit 1; }
echo "$n binaries: PIE, full RELRO; $canary with stack canaries, $fortify with fortified calls (build type ${type:-none})"
