#!/usr/bin/env bash
# browser.e2e_chain: the end-to-end browser test (e2e.test.js) against a
# sluice-review this script starts itself, on the real chain (validate,
# scan, license, commit) in a database and topic prefix of its own, as the
# integration tests do (tests/integration/lib.sh, review_lib.sh), so it
# needs no stack.env of a running quickstart: only the broker and the
# database of deploy/test.sh's private stack.
#
# Skipped (exit 77, with the reason) when there is no sluice-review
# binary or review_lib.sh (before the review service is built), no broker
# configured, or no chromium / playwright-core (run.sh says which).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${SLUICE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
bin=${SLUICE_BIN_DIR:-$root/build/bin}
skip() { echo "SKIPPED: $*"; exit 77; }
[[ -x $bin/sluice-review ]] || skip "no $bin/sluice-review"
[[ -f $root/tests/integration/review_lib.sh ]] || skip "no tests/integration/review_lib.sh"
[[ -n ${SLUICE_KAFKA_BROKERS:-} ]] ||
    skip "no SLUICE_KAFKA_BROKERS: run under deploy/test.sh or source a stack's stack.env"

# shellcheck source=tests/integration/lib.sh
. "$root/tests/integration/lib.sh"
# shellcheck source=tests/integration/review_lib.sh
. "$root/tests/integration/review_lib.sh"
it_init review_browser
it_start validate
it_start scan
it_start license
it_start commit
rv_start
it_log "sluice-review at $RV_URL"
rc=0
SLUICE_REVIEW_URL=$RV_URL SLUICE_BIN_DIR=$IT_BIN SLUICE_SOURCE_DIR=$root \
    bash "$here/run.sh" e2e || rc=$?
((rc == 0 || rc == 77)) || { it_dump_logs; it_fail "e2e.test.js failed ($rc)"; }
exit "$rc"
