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

# The Grafana dashboard's queries parse as PromQL: promtool checks them as
# recording rules, with the dashboard's variables replaced.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jq '{groups: [{name: "dashboard", rules:
      ([.. | .expr? // empty] | to_entries
       | map({record: ("dashboard:query" + (.key | tostring)),
              expr: (.value | gsub("\\$stage"; ".*") | gsub("\\$job"; ".*"))}))}]}' \
    "$src/deploy/grafana-dashboard.json" >"$tmp/dashboard-rules.yml"
n=$(jq '.groups[0].rules | length' "$tmp/dashboard-rules.yml")
((n >= 20)) || { echo "FAIL: only $n queries in the dashboard" >&2; exit 1; }
promtool check rules "$tmp/dashboard-rules.yml"

# Every metric the rules and the dashboard name is documented in
# docs/metrics.md (histogram series by their family name).
missing=0
for m in $(cat "$src/deploy/prometheus-alerts.yml" "$src/deploy/grafana-dashboard.json" |
    grep -o 'sluice_[a-z_]*' | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
    if ! grep -q "\`$m\`" "$src/docs/metrics.md"; then
        echo "FAIL: $m is used by the alerts or the dashboard but not documented in docs/metrics.md" >&2
        missing=1
    fi
done
((missing == 0))
echo "dashboard: $n queries parse; every metric used is documented"
