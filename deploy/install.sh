#!/usr/bin/env bash
# Install what sluice needs to build, test and run on Debian 12: the C
# toolchain and libraries, kcat, PostgreSQL 15, a JRE and Maven, and the
# Apache Kafka broker jars (from Maven Central, see deploy/pom.xml) into
# .cache/kafka-lib. Idempotent: a second run checks and returns in seconds.
#
# usage: deploy/install.sh
# env:   SLUICE_CACHE_DIR  where the broker jars go (default <repo>/.cache)
set -euo pipefail

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

say() { sl_log install "$@"; }
die() { sl_die install "$@"; }

# prometheus: its promtool checks and unit-tests deploy/prometheus-alerts.yml
# (unit.prometheus_rules); the server itself is not started.
install_apt_packages() {
    local want=(build-essential cmake pkg-config librdkafka-dev libssl-dev libmicrohttpd-dev
        libpq-dev libjansson-dev libyajl-dev libcmocka-dev libmagic-dev zlib1g-dev libpcre2-dev libsodium-dev
        libpoppler-glib-dev libarchive-dev
        kcat postgresql jq openssl procps curl
        clang-14 libfuzzer-14-dev libclang-rt-14-dev
        prometheus)
    command -v java >/dev/null 2>&1 || want+=(openjdk-17-jre-headless)
    # javac compiles deploy/KafkaAcls.java (the Kafka ACLs) once.
    command -v javac >/dev/null 2>&1 || want+=(openjdk-17-jdk-headless)
    command -v mvn >/dev/null 2>&1 || want+=(maven)
    command -v python3 >/dev/null 2>&1 || want+=(python3)

    local missing=() p
    for p in "${want[@]}"; do
        sl_pkg_installed "$p" || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        say "apt packages present"
        return
    fi
    ((EUID == 0)) || die "missing packages: ${missing[*]} (run as root, or apt-get install them)"
    say "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get install ${missing[*]} failed"
}

# The jars are refetched only when deploy/pom.xml changes: the stamp holds
# the pom's hash. Copied into a temporary directory first, so an interrupted
# run never leaves a half-filled kafka-lib that looks complete.
install_kafka_jars() {
    local pom=$SL_ROOT/deploy/pom.xml stamp=$SL_KAFKA_LIB/.stamp hash
    hash=$(sha256sum "$pom" | cut -d' ' -f1)
    if [[ -f $stamp && $(<"$stamp") == "$hash" ]]; then
        say "kafka jars up to date in $SL_KAFKA_LIB"
        return
    fi
    say "fetching kafka jars (mvn dependency:copy-dependencies) into $SL_KAFKA_LIB"
    mkdir -p "$SL_CACHE"
    local tmp
    tmp=$(mktemp -d "$SL_CACHE/kafka-lib.tmp.XXXXXX")
    if ! mvn -B -q -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$tmp" >"$tmp.mvn.log" 2>&1; then
        tail -n 30 "$tmp.mvn.log" >&2
        rm -rf "$tmp" "$tmp.mvn.log"
        die "mvn could not fetch the kafka jars (log above)"
    fi
    rm -f "$tmp.mvn.log"
    compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || die "no kafka_2.13 jar after mvn in $tmp"
    printf '%s\n' "$hash" >"$tmp/.stamp"
    rm -rf "$SL_KAFKA_LIB"
    mv "$tmp" "$SL_KAFKA_LIB"
    # Stale class-data-sharing archives belong to the old jars.
    rm -f "$SL_CACHE"/kafka-cds*.jsa
    say "kafka $(basename "$SL_KAFKA_LIB"/kafka_2.13-*.jar .jar | sed 's/^kafka_2.13-//') ready ($(find "$SL_KAFKA_LIB" -name '*.jar' | wc -l) jars)"
}

install_apt_packages
[[ -n $(sl_pg_bindir) ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
command -v java >/dev/null 2>&1 || die "no java on PATH after install"
command -v mvn >/dev/null 2>&1 || die "no mvn on PATH after install"
install_kafka_jars
# The unprivileged users deploy/stack.sh runs the services and the broker as.
if ((EUID == 0)); then
    for u in sluice-validate sluice-scan sluice-license sluice-commit sluice-review sluice-kafka; do
        sl_ensure_system_user "$u" || die "cannot create user $u"
    done
fi
say "done"

# ---- browser tests (tests/browser/, owned by the dashboard's UI) ----------
# Debian's chromium, and playwright-core from npm at the version pinned by
# tests/browser/package-lock.json, installed into $SL_CACHE/browser (outside
# the source tree; the tests find it there).  Refetched only when the
# package files change: the stamp holds their hash.
install_browser_tests() {
    local src=$SL_ROOT/tests/browser dir=$SL_CACHE/browser hash tmp p missing=()
    local want=(chromium)
    command -v node >/dev/null 2>&1 || want+=(nodejs)
    command -v npm >/dev/null 2>&1 || want+=(npm)
    for p in "${want[@]}"; do
        sl_pkg_installed "$p" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        ((EUID == 0)) || die "missing packages: ${missing[*]} (run as root, or apt-get install them)"
        say "apt-get install ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || die "apt-get update failed"
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
            die "apt-get install ${missing[*]} failed"
    fi
    [[ -x /usr/bin/chromium ]] || die "no /usr/bin/chromium after installing chromium"
    hash=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
    if [[ -f $dir/.stamp && $(<"$dir/.stamp") == "$hash" &&
          -d $dir/node_modules/playwright-core ]]; then
        say "playwright-core up to date in $dir"
        return
    fi
    say "npm ci playwright-core into $dir"
    mkdir -p "$SL_CACHE"
    tmp=$(mktemp -d "$SL_CACHE/browser.tmp.XXXXXX")
    cp "$src/package.json" "$src/package-lock.json" "$tmp/"
    if ! (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund) >"$tmp.npm.log" 2>&1; then
        tail -n 30 "$tmp.npm.log" >&2
        rm -rf "$tmp" "$tmp.npm.log"
        die "npm ci of tests/browser failed (log above)"
    fi
    rm -f "$tmp.npm.log"
    printf '%s\n' "$hash" >"$tmp/.stamp"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    say "playwright-core $(node -p "require('$dir/node_modules/playwright-core/package.json').version") ready"
}
install_browser_tests
# ---- end of browser tests ---------------------------------------------------

# ---- Python tools (tests/requirements.txt; the feed's manifest test) --------
# A venv at $SL_CACHE/pyenv on Debian's python3 (python3-venv), with the
# pinned packages of tests/requirements.txt (mlcroissant, whose validator
# tests/integration/test_feed_manifest.sh runs).  Rebuilt only when that
# file or the interpreter changes: the stamp holds their hash and is
# written last, so an interrupted install is redone, never taken as done.
# A venv cannot move (its scripts name their interpreter by path), so it
# is built in place.
install_python_tools() {
    local req=$SL_ROOT/tests/requirements.txt dir=$SL_CACHE/pyenv py=/usr/bin/python3 hash p
    local missing=()
    for p in python3 python3-venv; do
        sl_pkg_installed "$p" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        ((EUID == 0)) || die "missing packages: ${missing[*]} (run as root, or apt-get install them)"
        say "apt-get install ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || die "apt-get update failed"
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
            die "apt-get install ${missing[*]} failed"
    fi
    [[ -x $py ]] || die "no $py after installing python3"
    hash=$( { "$py" --version; cat "$req"; } | sha256sum | cut -d' ' -f1)
    if [[ -f $dir/.stamp && $(<"$dir/.stamp") == "$hash" && -x $dir/bin/mlcroissant ]]; then
        say "python tools up to date in $dir"
        return
    fi
    say "pip install -r tests/requirements.txt into $dir"
    mkdir -p "$SL_CACHE"
    rm -rf "$dir"
    "$py" -m venv "$dir" || die "python3 -m venv $dir failed"
    if ! "$dir/bin/pip" install --no-input --disable-pip-version-check -q \
        -r "$req" >"$dir.pip.log" 2>&1; then
        tail -n 30 "$dir.pip.log" >&2
        rm -rf "$dir" "$dir.pip.log"
        die "pip install -r tests/requirements.txt failed (log above)"
    fi
    rm -f "$dir.pip.log"
    printf '%s\n' "$hash" >"$dir/.stamp"
    say "python tools ready: $("$dir/bin/pip" show mlcroissant 2>/dev/null | sed -n 's/^Version: /mlcroissant /p')"
}
install_python_tools
# ---- end of Python tools ----------------------------------------------------
