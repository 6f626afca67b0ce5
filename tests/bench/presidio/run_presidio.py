"""run_presidio.py -- the Presidio side of the sluice / Presidio benchmark.

Runs Microsoft Presidio's predefined recognizers that need no NLP model
(every PatternRecognizer under presidio_analyzer.predefined_recognizers,
generic and country-specific, plus the phonenumbers-based PhoneRecognizer
and its South African siblings) through AnalyzerEngine with Presidio's own
NoOpNlpEngine: no spaCy model is loaded, so context words cannot raise
scores (they need the NLP engine's tokens) and, at Presidio's default
score threshold of 0, every pattern match is returned.  Every recognizer
is instantiated for language "en" so that all of them see every document,
whatever its locale: the widest coverage Presidio's patterns offer.  The
phone recognizer gets the corpus's regions (ES, IT, PL, FI added to its
defaults).

Reads the NUL-separated corpus (the very bytes sluice scans), decodes each
document as UTF-8 and times analyzer.analyze() per document (the wall
clock and the process CPU clock, summed; the engine is built and warmed up
before), and the CPU time each recognizer took.  Writes one JSON line per finding to OUT (doc, start, end in
characters, entity, score, recognizer) and a last line {"stats": ...}.

usage: run_presidio.py CORPUS OUT
"""
import inspect
import json
import logging
import os
import sys
import time

# The e-mail recognizer asks tldextract for the public suffix list, which
# it would download; use the snapshot tldextract ships (no network).
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, PatternRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NoOpNlpEngine
import presidio_analyzer.predefined_recognizers as predefined

PHONE_REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR", "ES", "IT", "PL", "FI")
NEEDS_MODEL = (".ner.", ".nlp_engine_recognizers.", ".third_party.")


def recognizers():
    out = []
    for name in sorted(dir(predefined)):
        cls = getattr(predefined, name)
        if not (inspect.isclass(cls) and issubclass(cls, EntityRecognizer)):
            continue
        if any(m in cls.__module__ + "." for m in NEEDS_MODEL):
            continue
        if not issubclass(cls, PatternRecognizer) and "phone" not in cls.__module__:
            continue
        if cls is predefined.PhoneRecognizer:
            # Its default regions lack four of the corpus's countries: give
            # it all of them, as a user with this data would.
            out.append(cls(supported_language="en", supported_regions=PHONE_REGIONS))
        else:
            out.append(cls(supported_language="en"))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: run_presidio.py CORPUS OUT")
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    recs = recognizers()
    for r in recs:
        registry.add_recognizer(r)
    # CPU time per recognizer, so that compare.py can also give Presidio's
    # speed with only the recognizers of the common vocabulary.
    per_rec = {}

    def timed(rec):
        inner, name = rec.analyze, type(rec).__name__

        def analyze(*args, **kwargs):
            c0 = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                per_rec[name] = per_rec.get(name, 0.0) + time.process_time() - c0
        return analyze

    for r in recs:
        r.analyze = timed(r)
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    docs = raw.split(b"\0")
    engine.analyze(text="warm-up: call 212-555-0100 or mail a@example.com", language="en")
    per_rec.clear()
    wall = cpu = 0.0
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        for i, d in enumerate(docs):
            text = d.decode("utf-8")
            w0, c0 = time.perf_counter(), time.process_time()
            res = engine.analyze(text=text, language="en")
            wall += time.perf_counter() - w0
            cpu += time.process_time() - c0
            for r in res:
                out.write(json.dumps({"doc": i, "start": r.start, "end": r.end,
                                      "entity": r.entity_type, "score": round(r.score, 3),
                                      "recognizer": (r.recognition_metadata or {}).get("recognizer_name", "")}) + "\n")
        out.write(json.dumps({"stats": {"bytes": len(raw) - (len(docs) - 1), "docs": len(docs),
                                        "wall": wall, "cpu": cpu,
                                        "recognizers": sorted(type(r).__name__ for r in recs),
                                        "entities": {type(r).__name__: r.supported_entities for r in recs},
                                        "cpu_per_recognizer": per_rec}}) + "\n")


if __name__ == "__main__":
    main()
