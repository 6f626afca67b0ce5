#!/usr/bin/env bash
# run.sh -- sluice's scanner side by side with Microsoft Presidio's
# predefined pattern recognizers (PyPI presidio-analyzer, no NLP model) on
# the same generated documents: per-entity recall and precision for both,
# and throughput on the same bytes with the ratio.  Prints figures, asserts
# nothing (tests/bench/README.md).
#
# 1. installs the pinned requirements.txt (presidio-analyzer, Faker) into
#    its own venv, .cache/benchenv (again only when requirements.txt
#    changes); never into the system or the test venv;
# 2. builds sluice_corpus_scan (tests/bench/presidio/sluice_corpus_scan.c)
#    in a release tree, $SLUICE_BENCH_BUILD (default build/);
# 3. gen_corpus.py: DOCS documents (default 1500) in nine Faker locales,
#    seed $SLUICE_BENCH_SEED (default 14), labelled spans and near-miss
#    negatives;
# 4. runs both tools on corpus.txt, then compare.py.
#
# usage: bash tests/bench/presidio/run.sh [DOCS]
# env:   SLUICE_BENCH_BUILD   build tree (configured Release if absent)
#        SLUICE_BENCH_SEED    corpus seed
#        SLUICE_BENCH_TEMPLATES  default, or holdout: other sentences around
#                             the same kinds of values (a held-out check
#                             for rules tuned on the default ones)
#        SLUICE_BENCH_OUT     work directory (default .cache/presidio-bench)
#        SLUICE_BENCH_GAPS    also write the per-entity gaps (markdown) here
#        SLUICE_BENCH_REPEAT  sluice passes over the corpus (default 5; best)
#        SLUICE_BENCH_FRESH   run Presidio even when its findings for this
#                             very corpus are at hand
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
docs=${1:-1500}
build=${SLUICE_BENCH_BUILD:-$root/build}
out=${SLUICE_BENCH_OUT:-$root/.cache/presidio-bench}
venv=$root/.cache/benchenv
req=$here/requirements.txt

case $docs in ''|*[!0-9]*) echo "run.sh: DOCS must be a number" >&2; exit 2 ;; esac

# 1. the bench's own venv
stamp=$(sha256sum "$req" | cut -c1-64)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$stamp" ]; then
    echo "== installing $req into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$stamp" > "$venv/.requirements"
fi

# 2. the sluice driver, release build
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
if grep -q 'SLUICE_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
    echo "run.sh: warning: $build is a sanitizer build; sluice's speed will be far below its release speed" >&2
fi
cmake --build "$build" -j2 --target sluice_corpus_scan >/dev/null

# 3. the corpus
mkdir -p "$out"
"$venv/bin/python" "$here/gen_corpus.py" "$out" --docs "$docs" --seed "${SLUICE_BENCH_SEED:-14}" \
    --templates "${SLUICE_BENCH_TEMPLATES:-default}"

# 4. both tools, then the scores
echo "== sluice (sluice_corpus_scan)"
"$build/bin/sluice_corpus_scan" "$out/corpus.txt" "${SLUICE_BENCH_REPEAT:-5}" > "$out/sluice.tsv"
# Presidio's findings depend only on the corpus, Presidio and its driver:
# reuse them while those three are unchanged (rule authors re-run often).
key=$(cat "$out/corpus.txt" "$here/run_presidio.py" "$req" | sha256sum | cut -c1-64)
echo "== Presidio $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("presidio-analyzer"))') (AnalyzerEngine, NoOpNlpEngine, every predefined pattern recognizer)"
if [ -z "${SLUICE_BENCH_FRESH:-}" ] && [ -s "$out/presidio.jsonl" ] &&
   [ "$(cat "$out/presidio.key" 2>/dev/null)" = "$key" ]; then
    echo "   (reusing $out/presidio.jsonl: same corpus and Presidio; SLUICE_BENCH_FRESH=1 runs it again)"
else
    rm -f "$out/presidio.key"
    "$venv/bin/python" "$here/run_presidio.py" "$out/corpus.txt" "$out/presidio.jsonl"
    echo "$key" > "$out/presidio.key"
fi
echo
gaps=()
if [ -n "${SLUICE_BENCH_GAPS:-}" ]; then gaps=(--gaps "$SLUICE_BENCH_GAPS"); fi
"$venv/bin/python" "$here/compare.py" "$out/labels.jsonl" "$out/sluice.tsv" "$out/presidio.jsonl" \
    "$root/schemas/scan-rules.json" "${gaps[@]}"
