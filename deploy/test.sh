#!/usr/bin/env bash
# README command two, and what .ci/run calls: install what is missing, build
# everything with AddressSanitizer + UBSan into build-asan/, start a private
# Kafka + PostgreSQL stack on free loopback ports in a temporary directory,
# run every test (ctest: unit and integration), and stop the stack whatever
# happens.  Exits non-zero on any failure.
#
# Then every libFuzzer harness runs for a short while (tests/fuzz/run.sh,
# clang + ASan + UBSan in build-fuzz/); a crash fails the run.
#
# usage: deploy/test.sh [CTEST ARGS...]     e.g. deploy/test.sh -L unit
# env:   SLUICE_TEST_BUILD_DIR  build directory (default <repo>/build-asan)
#        SLUICE_TEST_RELEASE_DIR release tree, compiled only (default <repo>/build-release)
#        SLUICE_TEST_JOBS       parallel tests (default: number of CPUs)
#        SLUICE_TEST_KEEP=1     keep the stack directory for inspection
#        SLUICE_TEST_FUZZ_SECONDS  seconds per fuzz harness (default 30, 0: none)
set -euo pipefail

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { sl_log test "$@"; }

BUILD=${SLUICE_TEST_BUILD_DIR:-$SL_ROOT/build-asan}
JOBS=${SLUICE_TEST_JOBS:-$(nproc)}
start=$(date +%s)
# A developer's sourced stack.env must not steer the private stack.
unset SLUICE_KAFKA_PORT SLUICE_PG_PORT SLUICE_KAFKA_CONTROLLER_PORT \
    SLUICE_STACK_DIR SLUICE_KAFKA_BROKERS SLUICE_PG_DSN SLUICE_TOPIC_PREFIX \
    SLUICE_CONFIG KCAT_CONFIG

bash "$SL_ROOT/deploy/install.sh"

say "building with sanitizers in $BUILD"
cmake -S "$SL_ROOT" -B "$BUILD" -DSLUICE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$BUILD" -j "$(nproc)"
# The optimised build the quickstart and the benchmarks make: -O2 and
# _FORTIFY_SOURCE find warnings (errors here) the Debug build cannot.
RELEASE=${SLUICE_TEST_RELEASE_DIR:-$SL_ROOT/build-release}
say "building the release tree in $RELEASE (compile check)"
cmake -S "$SL_ROOT" -B "$RELEASE" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$RELEASE" -j "$(nproc)"

STACK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test-stack.XXXXXX")
export SLUICE_BIN_DIR=$BUILD/bin
# stop_leftovers: services and helpers a test left running.  ctest ends a
# test that overruns its TIMEOUT with SIGKILL, so the test's EXIT trap
# never stops what it started; those processes (this run's: the stack
# directory in their environment, a binary of $BUILD/bin or a script of
# tests/) get SIGTERM, and SIGKILL 5 s later.
stop_leftovers() {
    local d p exe cmd i left=() names=()
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        ((p != $$)) || continue
        tr '\0' '\n' 2>/dev/null <"$d/environ" | grep -qxF "SLUICE_STACK_DIR=$STACK" || continue
        exe=$(readlink "$d/exe" 2>/dev/null) || continue
        cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
        if [[ $exe == "$BUILD/bin/"* || $cmd == *"$SL_ROOT/tests/"* ]]; then
            left+=("$p")
            names+=("$(cat "$d/comm" 2>/dev/null) ($p)")
        fi
    done
    ((${#left[@]})) || return 0
    say "stopping ${#left[@]} processes the tests left running: $(IFS=,; echo "${names[*]}")"
    kill -TERM "${left[@]}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        for p in "${left[@]}"; do kill -0 "$p" 2>/dev/null && break; done
        kill -0 "$p" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "${left[@]}" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    stop_leftovers
    bash "$SL_ROOT/deploy/stack.sh" stop --dir "$STACK" || rc=1
    if [[ -n ${SLUICE_TEST_KEEP:-} ]] || ((rc != 0)); then
        say "stack directory kept: $STACK (logs in $STACK/logs)"
    else
        rm -rf "$STACK"
    fi
    say "finished in $(($(date +%s) - start))s, exit $rc"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Kafka and PostgreSQL only: each integration test starts its own services
# in its own database and topic prefix.
bash "$SL_ROOT/deploy/stack.sh" start --dir "$STACK" --infra-only
# shellcheck disable=SC1091
. "$STACK/stack.env"

# Leak reports on exit are wanted from the unit tests; the services are
# killed on purpose by some tests and are not judged by their exit code.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

cd "$BUILD"
ctest --output-on-failure -j "$JOBS" "$@"

# The fuzz harnesses, two at a time, after the tests they must not slow.
FUZZ_SECONDS=${SLUICE_TEST_FUZZ_SECONDS:-30}
if ((FUZZ_SECONDS > 0)); then
    say "fuzzing each harness for ${FUZZ_SECONDS}s"
    bash "$SL_ROOT/tests/fuzz/run.sh" "$FUZZ_SECONDS"
fi
