#!/usr/bin/env bash
# Runs one browser test with Debian's chromium and playwright-core.
#   run.sh pages RENDER_FIXTURES   the pages rendered with hostile fixtures,
#                                  served behind the dashboard's CSP
#   run.sh e2e                     against the running sluice-review at
#                                  $SLUICE_REVIEW_URL (skipped when unset)
# Exits 77 (ctest: skipped) with the reason when something it needs is
# missing.  env: SLUICE_CACHE_DIR (where deploy/install.sh put
# browser/node_modules, default <repo>/.cache), SLUICE_CHROMIUM
# (default /usr/bin/chromium).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${SLUICE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
cache=${SLUICE_CACHE_DIR:-$root/.cache}
export SL_PW_MODULES=$cache/browser/node_modules
export SLUICE_CHROMIUM=${SLUICE_CHROMIUM:-/usr/bin/chromium}
export SLUICE_SOURCE_DIR=$root

skip() { echo "SKIPPED: $*"; exit 77; }
[[ -x $SLUICE_CHROMIUM ]] ||
    skip "no chromium at $SLUICE_CHROMIUM (deploy/install.sh installs Debian's chromium)"
command -v node >/dev/null 2>&1 || skip "no node on PATH"
[[ -d $SL_PW_MODULES/playwright-core ]] ||
    skip "playwright-core not installed in $SL_PW_MODULES (run deploy/install.sh)"

case ${1:-} in
pages)
    [[ -x ${2:-} ]] || { echo "usage: $0 pages RENDER_FIXTURES" >&2; exit 2; }
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    "$2" "$out"
    node "$here/pages.test.js" "$out"
    ;;
e2e)
    [[ -n ${SLUICE_REVIEW_URL:-} ]] ||
        skip "SLUICE_REVIEW_URL not set: the end-to-end test needs a running sluice-review" \
             "(deploy/stack.sh start, then . <state>/stack.env)"
    node "$here/e2e.test.js"
    ;;
*)
    echo "usage: $0 pages RENDER_FIXTURES | e2e" >&2
    exit 2
    ;;
esac
