# Helpers of the metrics tests (test_metrics.sh, test_metrics_ready.sh):
# find a process's metrics port, scrape its /metrics and read samples back
# through prometheus-client's parser (metrics_parse.py).
MT_PY=${SLUICE_CACHE_DIR:-$IT_SRC/.cache}/pyenv/bin/python3

mt_require_python() {
    [[ -x $MT_PY ]] && "$MT_PY" -c 'import prometheus_client' 2>/dev/null ||
        it_fail "no prometheus-client in $MT_PY: run deploy/install.sh (it builds the Python venv)"
}

# mt_port SVC: the port metrics.listen=127.0.0.1:0 got, from SVC's log.
mt_port() {
    local svc=$1 port="" i
    for ((i = 0; i < 100; i++)); do
        port=$(sed -n 's/.*GET \/metrics, \/health, \/ready on port \([0-9]*\).*/\1/p' \
            "$IT_DIR/$svc.log" 2>/dev/null | tail -n 1)
        [[ -n $port ]] && break
        sleep 0.1
    done
    [[ -n $port ]] || it_fail "$svc logged no metrics port"
    printf '%s\n' "$port"
}

# mt_get PORT PATH: "STATUS BODY" of GET PATH.
mt_get() {
    curl -s -o >(tr -d '\n' >"$IT_DIR/.body") -w '%{http_code}' "http://127.0.0.1:$1$2" || true
    sleep 0.05
    printf ' %s\n' "$(cat "$IT_DIR/.body" 2>/dev/null)"
}

# mt_scrape SVC PORT: $IT_DIR/SVC.prom (as served) and SVC.samples (parsed).
mt_scrape() {
    local svc=$1 port=$2
    curl -sf "http://127.0.0.1:$port/metrics" >"$IT_DIR/$svc.prom" ||
        it_fail "$svc: GET /metrics failed"
    "$MT_PY" "$IT_SRC/tests/integration/metrics_parse.py" "$IT_DIR/$svc.prom" \
        >"$IT_DIR/$svc.samples" || it_fail "$svc: /metrics does not parse"
}

# mt_val SVC 'name{labels}': the parsed sample's value, or "absent".
mt_val() {
    local v
    v=$(awk -v k="$2" 'substr($0, 1, length(k) + 1) == k " " { print $NF }' "$IT_DIR/$1.samples")
    printf '%s\n' "${v:-absent}"
}
