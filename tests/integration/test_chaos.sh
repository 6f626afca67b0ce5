#!/usr/bin/env bash
# The chaos run of tests/chaos/chaos.sh at a small N, so every CI run proves
# exactly-once through kill -9 of stage instances, the loss and return of one
# broker of three, an immediate stop of PostgreSQL and a paused (fenced)
# stage.  It starts its own stack (three brokers, two instances per stage):
# the faults must not touch the stack the other tests share.  About three
# minutes of wall time; the figures of the full run (100,000 uploads) are in
# README.md, "Running in production".
set -euo pipefail
src=${SLUICE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SLUICE_CHAOS_SEND_S=${SLUICE_CHAOS_SEND_S:-30} SLUICE_CHAOS_PAUSE_S=${SLUICE_CHAOS_PAUSE_S:-12} \
    SLUICE_CHAOS_TIMEOUT=${SLUICE_CHAOS_TIMEOUT:-300} \
    exec bash "$src/tests/chaos/chaos.sh" "${SLUICE_CHAOS_N:-1000}"
