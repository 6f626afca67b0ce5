#!/usr/bin/env bash
# The Prometheus alert rules (deploy/prometheus-alerts.yml): valid for
# promtool check rules (Debian's prometheus package, deploy/install.sh),
# and each alert fires, and only fires, on the series of
# tests/prometheus/alerts_test.yml (promtool test rules).
# usage: check_prometheus_rules.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: check_prometheus_rules.sh SOURCE_DIR}
command -v promtool >/dev/null 2>&1 ||
    { echo "FAIL: no promtool (run deploy/install.sh: Debian package prometheus)" >&2; exit 1; }
promtool check rules "$src/deploy/prometheus-alerts.yml"
cd "$src/tests/prometheus"
promtool test rules alerts_test.yml
