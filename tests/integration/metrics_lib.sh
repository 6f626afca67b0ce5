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
    it_wait_log_value 10 "$IT_DIR/$1.log" 's/.*GET \/metrics, \/health, \/ready on port \([0-9]*\).*/\1/p' ||
        it_fail "$1 logged no metrics port"
}

# mt_get PORT PATH: "STATUS BODY" of GET PATH.
mt_get() {
    local code
    : >"$IT_DIR/.body"
    code=$(curl -s -o "$IT_DIR/.body" -w '%{http_code}' "http://127.0.0.1:$1$2" || true)
    printf '%s %s\n' "$code" "$(tr -d '\n' <"$IT_DIR/.body")"
}

# mt_fetch SVC PORT: $IT_DIR/SVC.prom, /metrics as served.
mt_fetch() {
    curl -sf "http://127.0.0.1:$2/metrics" >"$IT_DIR/$1.prom" ||
        it_fail "$1: GET /metrics failed"
}

# mt_parse SVC...: $IT_DIR/SVC.samples from SVC.prom through the parser
# (one Python start for all: the machine may be busy).
mt_parse() {
    local files=() svc
    for svc in "$@"; do files+=("$IT_DIR/$svc.prom"); done
    "$MT_PY" "$IT_SRC/tests/integration/metrics_parse.py" "${files[@]}" ||
        it_fail "/metrics of $* does not parse"
}

# mt_val SVC 'name{labels}': the parsed sample's value, or "absent".
mt_val() {
    local v
    v=$(awk -v k="$2" 'substr($0, 1, length(k) + 1) == k " " { print $NF }' "$IT_DIR/$1.samples")
    printf '%s\n' "${v:-absent}"
}

# mt_wait_ready WANT SECS [PORT]: until GET /ready answers WANT (default
# port: $PORT).  Readiness is re-evaluated once a second.
mt_ready_is() { MT_READY=$(mt_get "$1" /ready); [[ $MT_READY == "$2" ]]; }
mt_wait_ready() {
    local want=$1 secs=$2 port=${3:-$PORT} t0=$SECONDS
    MT_READY=""
    it_wait_until "$secs" mt_ready_is "$port" "$want"
    [[ $MT_READY == "$want" ]] || it_fail "/ready of :$port: got '$MT_READY' after ${secs}s, want '$want'"
    it_log "ok: /ready of :$port = $want after $((SECONDS - t0)) s"
}
