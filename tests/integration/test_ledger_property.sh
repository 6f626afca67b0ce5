#!/usr/bin/env bash
# test_ledger_property: a seeded random sequence of deliveries, withdrawals
# under each policy, months passing, payout runs, confirms, fails and
# second attempts against the real poster (sluice-ledger), every invariant
# (`ledger verify`, account totals, one posting per usage, balances and
# statements against a model) checked after each step; the driver is
# ledger_property.py.  The seed is printed first and on failure; rerun a
# failure with LEDGER_SEED=<seed>.  LEDGER_STEPS (default 40) sets the
# length; the whole test stays under 90 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_init ledger_property
[[ -x $IT_BIN/sluice-ledger ]] || it_fail "no $IT_BIN/sluice-ledger: build it first"
it_start ledger -X ledger.fee.bps=1000
seed_args=()
[[ -z ${LEDGER_SEED:-} ]] || seed_args=(--seed "$LEDGER_SEED")
t0=$(date +%s)
IT_OWNER_DSN=$IT_OWNER_DSN SLUICECTL=$IT_BIN/sluicectl \
    python3 "$(dirname "$0")/ledger_property.py" --verify --steps "${LEDGER_STEPS:-40}" \
    "${seed_args[@]}" || it_fail "the ledger property failed (seed above)"
it_log "property held in $(($(date +%s) - t0)) s"
it_log "PASS test_ledger_property"
