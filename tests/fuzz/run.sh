#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) with clang, ASan and
# UBSan into build-fuzz/ and runs each for SECONDS (default 30), two at a
# time, each from its seeds: the files in tests/fuzz/corpus/<target>/
# (crash regressions among them), the fixtures of tests/fixtures/ that
# suit it, and a metadata seed made now (so validate's time window takes
# it); with tests/fuzz/dict/<target>.dict as its dictionary when there is
# one.  What a run finds new is kept in the work directory and seeds the
# next run.  Prints executions per harness and exits non-zero when any
# harness crashes, leaks, times out or breaks a property it checks; the
# input that did it is in <work>/artifacts/<harness>/ (see README.md there
# for minimising and replaying it).
#
# usage: tests/fuzz/run.sh [SECONDS] [HARNESS...]    e.g. run.sh 600 fuzz_prov
# env:   SLUICE_FUZZ_BUILD_DIR  build directory (default <repo>/build-fuzz)
#        SLUICE_FUZZ_WORK       corpora, logs, artifacts (default <build>/fuzz-work)
#        SLUICE_FUZZ_JOBS       harnesses run at once (default 2)
#        SLUICE_FUZZ_CC         the clang to use (default clang-14, else clang)
#        SLUICE_FUZZ_ARGS       extra libFuzzer flags, e.g. "-max_len=65536"
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SECS=${1:-30}
shift || true
BUILD=${SLUICE_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
WORK=${SLUICE_FUZZ_WORK:-$BUILD/fuzz-work}
JOBS=${SLUICE_FUZZ_JOBS:-2}
FIX=$ROOT/tests/fixtures
SEEDS=$ROOT/tests/fuzz/corpus
DICTS=$ROOT/tests/fuzz/dict

say() { printf 'fuzz: %s\n' "$*" >&2; }
die() { printf 'fuzz: error: %s\n' "$*" >&2; exit 1; }

[[ $SECS =~ ^[0-9]+$ ]] && ((SECS > 0)) || die "SECONDS must be a positive integer, not '$SECS'"
CC_BIN=${SLUICE_FUZZ_CC:-}
if [[ -z $CC_BIN ]]; then
    for c in clang-14 clang; do
        if command -v "$c" >/dev/null 2>&1; then CC_BIN=$c; break; fi
    done
fi
[[ -n $CC_BIN ]] || die "no clang (deploy/install.sh installs clang-14 and libfuzzer-14-dev)"

say "building the harnesses with $CC_BIN in $BUILD"
CC=$CC_BIN cmake -S "$ROOT" -B "$BUILD" -DSLUICE_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD.cmake.log" 2>&1 ||
    { cat "$BUILD.cmake.log" >&2; die "cmake configure failed"; }
cmake --build "$BUILD" -j "$JOBS" --target sluice_fuzzers >"$BUILD.build.log" 2>&1 ||
    { tail -n 40 "$BUILD.build.log" >&2; die "build failed"; }
rm -f "$BUILD.cmake.log" "$BUILD.build.log"

if (($# > 0)); then
    HARNESSES=("$@")
else
    mapfile -t HARNESSES < <(cd "$ROOT/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
fi

# seeds_for NAME DIR: fills DIR with NAME's seeds beyond the committed ones.
seeds_for() {
    local name=$1 dir=$2 f
    case $name in
    fuzz_extract_png) cp "$FIX"/*.png "$dir"/ ;;
    fuzz_extract_jpeg) cp "$FIX"/*.jpg "$dir"/ ;;
    fuzz_extract_pdf) cp "$FIX"/*.pdf "$dir"/ ;;
    fuzz_extract | fuzz_filetype) cp "$FIX"/* "$dir"/ ;;
    fuzz_extract_docs)
        # the harness's first byte picks the type (fuzz_extract_docs.c)
        for f in "$FIX"/*; do
            case ${f##*/} in
            bomb.zip) continue ;;                   # 32 KiB: over the input size
            *.zip) t=0 ;; *.gz) t=1 ;; *.tar) t=2 ;; *.docx) t=3 ;; *.xlsx) t=4 ;;
            *.odt) t=5 ;; *.mp3) t=6 ;; *.mp4) t=7 ;; *.jpg) t=8 ;; *.epub) t=9 ;;
            *) continue ;;
            esac
            { printf "\\$(printf %03o "$t")"; cat "$f"; } >"$dir/${f##*/}"
        done ;;
    fuzz_scan) cp "$FIX"/* "$SEEDS"/rules/* "$dir"/ ;;
    fuzz_rules)
        for f in "$FIX"/*; do
            case $f in *.txt | *.csv | *.json | *.md | *.html | *.xml | *.py) cp "$f" "$dir"/ ;; esac
        done ;;
    fuzz_envelope) cp "$SEEDS"/meta/* "$dir"/ ;;
    fuzz_meta)
        # The one seed validate accepts: created now, the harness's content.
        printf '{"schema_version":1,"upload_id":"u-now","creator_id":"alice","dataset_id":"ds-1","content_type":"text/plain","license":{"expression":"CC-BY-4.0"},"attestation":{"version":1,"rights_holder":true},"created_at":"%s","sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","filename":"hello.txt"}' \
            "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$dir/now.json" ;;
    esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# run_one NAME: one harness for SECS seconds; its log in $WORK/logs.
run_one() {
    local name=$1 target=${1#fuzz_} corpus seeds
    corpus=$WORK/corpus/$name
    seeds=$WORK/seeds/$name
    rm -rf "$seeds"
    mkdir -p "$corpus" "$seeds" "$WORK/artifacts/$name" "$WORK/logs"
    [[ -d $SEEDS/$target ]] && cp "$SEEDS/$target"/* "$seeds"/
    seeds_for "$name" "$seeds"
    local dict=()
    [[ -f $DICTS/$target.dict ]] && dict=(-dict="$DICTS/$target.dict")
    # shellcheck disable=SC2086  # SLUICE_FUZZ_ARGS is a list of flags
    "$BUILD/fuzz/$name" -max_total_time="$SECS" -print_final_stats=1 \
        -timeout=25 -rss_limit_mb=2560 -artifact_prefix="$WORK/artifacts/$name/" \
        "${dict[@]}" ${SLUICE_FUZZ_ARGS:-} "$corpus" "$seeds" >"$WORK/logs/$name.log" 2>&1
}

mkdir -p "$WORK/logs"
declare -A PID RC
say "running ${#HARNESSES[@]} harnesses for ${SECS}s each, $JOBS at a time"
running=0
for h in "${HARNESSES[@]}"; do
    [[ -x $BUILD/fuzz/$h ]] || die "no harness $h in $BUILD/fuzz"
    if ((running >= JOBS)); then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$h" &
    PID[$h]=$!
    running=$((running + 1))
done
for h in "${HARNESSES[@]}"; do
    if wait "${PID[$h]}"; then RC[$h]=0; else RC[$h]=$?; fi
done

failed=0
printf '%-20s %12s %10s %8s %8s  %s\n' harness executions "exec/s" cov corpus result
for h in "${HARNESSES[@]}"; do
    log=$WORK/logs/$h.log
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    corp=$(find "$WORK/corpus/$h" -type f | wc -l)
    result=ok
    if ((RC[$h] != 0)); then
        result="FAILED (exit ${RC[$h]}): $(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|check failed|runtime error|^ALARM|deadly signal' "$log" || echo 'see log')"
        failed=1
    fi
    printf '%-20s %12s %10s %8s %8s  %s\n' "$h" "${execs:-?}" \
        "$(( ${execs:-0} / SECS ))" "${cov:-?}" "$corp" "$result"
done
if ((failed)); then
    for h in "${HARNESSES[@]}"; do
        ((RC[$h] == 0)) && continue
        say "--- $h: end of $WORK/logs/$h.log"
        tail -n 40 "$WORK/logs/$h.log" >&2
        say "crashing input: $(ls "$WORK/artifacts/$h"/* 2>/dev/null | head -n 1)"
    done
    die "a harness failed"
fi
say "all ${#HARNESSES[@]} harnesses ran clean"
