#!/usr/bin/env python3
"""Parses Prometheus text expositions with prometheus-client's parser
(tests/requirements.txt) and writes, for each NAME.prom given, NAME.samples
with one line per sample:

    name{label="value",...} value        labels sorted by name

so a shell test can compare samples with literal expected lines.  Any
parse error, a sample outside its family, or a histogram whose buckets
are not cumulative or whose +Inf bucket is not its count, exits 1.

usage: metrics_parse.py NAME.prom...
"""
import sys

from prometheus_client.parser import text_string_to_metric_families


def fmt(v):
    return str(int(v)) if v == int(v) else repr(v)


def parse(path):
    text = open(path, encoding="utf-8").read()
    out = []
    for fam in text_string_to_metric_families(text):
        buckets = {}
        for s in fam.samples:
            if not s.name.startswith(fam.name):
                sys.exit(f"sample {s.name} outside family {fam.name}")
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out.append(f"{s.name}{{{labels}}} {fmt(s.value)}")
            if fam.type == "histogram":
                key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                b = buckets.setdefault(key, {"le": [], "count": None})
                if s.name.endswith("_bucket"):
                    b["le"].append((float(s.labels["le"]), s.value))
                elif s.name.endswith("_count"):
                    b["count"] = s.value
        for key, b in buckets.items():
            vals = [v for _, v in sorted(b["le"])]
            if vals != sorted(vals) or not b["le"] or sorted(b["le"])[-1][0] != float("inf") \
                    or vals[-1] != b["count"]:
                sys.exit(f"{fam.name}{key}: buckets not cumulative or +Inf != count")
    return out


def main():
    for path in sys.argv[1:]:
        if not path.endswith(".prom"):
            sys.exit(f"{path}: not a .prom file")
        try:
            out = parse(path)
        except ValueError as e:
            sys.exit(f"{path}: {e}")
        with open(path[:-5] + ".samples", "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
