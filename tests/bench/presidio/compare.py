"""compare.py -- scores sluice and Presidio against the labelled corpus.

Reads the labels (gen_corpus.py), sluice's findings (sluice_corpus_scan:
byte offsets) and Presidio's (run_presidio.py: character offsets), maps
both vocabularies to one (ENTITY below), and prints per entity: labelled
spans, each tool's recall and precision, then the overall figures and
throughput (bytes per CPU second, and per wall second) with the ratio.
Asserts nothing.

Scoring.  A labelled span is found by a tool when one finding of the same
entity covers at least half of its characters; a finding is a true
positive when it finds a labelled span of its entity in that sense, and a
false positive otherwise (on unlabelled text -- the near-miss negatives
and the prose -- or on a span labelled as another entity).  Presidio
returns overlapping results of several entities for one span (a card
number is also a US bank number).  Presidio is given its best case on
each measure: its recall counts every raw result (a span is found if any
of the entities reported for it is the right one); its precision counts
the results left once overlaps are resolved as its anonymizer would,
keeping the higher score, then the longer span.
Findings of entities outside the common vocabulary (Presidio's Indian
PAN, URL, UUID..., sluice's secrets) are counted apart, as "other".

usage: compare.py LABELS SLUICE_TSV PRESIDIO_JSONL RULES_JSON [--gaps FILE]
"""
import argparse
import collections
import json
import re

# The common vocabulary: our name -> (Presidio entity, description).
ENTITY = {
    "email": ("EMAIL_ADDRESS", "e-mail address"),
    "phone": ("PHONE_NUMBER", "phone number"),
    "credit_card": ("CREDIT_CARD", "payment card"),
    "us_ssn": ("US_SSN", "US social security number"),
    "us_itin": ("US_ITIN", "US ITIN"),
    "iban": ("IBAN_CODE", "IBAN"),
    "ip_address": ("IP_ADDRESS", "IPv4 / IPv6"),
    "mac_address": ("MAC_ADDRESS", "MAC address"),
    "date_of_birth": ("DATE_TIME", "date of birth (Presidio: any date)"),
    "crypto": ("CRYPTO", "Bitcoin address"),
    "uk_nino": ("UK_NINO", "UK national insurance number"),
    "uk_nhs": ("UK_NHS", "UK NHS number"),
    "us_passport": ("US_PASSPORT", "US passport"),
    "us_bank_number": ("US_BANK_NUMBER", "US bank account"),
    "aba_routing": ("ABA_ROUTING_NUMBER", "ABA routing number"),
    "us_driver_license": ("US_DRIVER_LICENSE", "US driver's licence"),
    "medical_license": ("MEDICAL_LICENSE", "DEA / medical licence"),
    "es_nif": ("ES_NIF", "ES NIF"),
    "es_nie": ("ES_NIE", "ES NIE"),
    "it_fiscal_code": ("IT_FISCAL_CODE", "IT codice fiscale"),
    "pl_pesel": ("PL_PESEL", "PL PESEL"),
    "fi_personal_id": ("FI_PERSONAL_IDENTITY_CODE", "FI personal identity code"),
    "de_tax_id": ("DE_TAX_ID", "DE tax id (IdNr)"),
}
FROM_PRESIDIO = {p: ours for ours, (p, _) in ENTITY.items()}

# sluice entity names (schemas/scan-rules.json "entity") that differ from
# ours; any other name in ENTITY maps to itself.
SLUICE_ALIAS = {
    "bitcoin_address": "crypto", "crypto_wallet": "crypto", "crypto_address": "crypto",
    "ethereum_address": "crypto",
    "itin": "us_itin", "us_bank_account": "us_bank_number", "bank_account": "us_bank_number",
    "us_bank": "us_bank_number", "aba_routing_number": "aba_routing", "us_aba_routing": "aba_routing",
    "aba": "aba_routing", "passport": "us_passport", "driver_license": "us_driver_license",
    "us_drivers_license": "us_driver_license", "drivers_license": "us_driver_license",
    "nhs_number": "uk_nhs", "uk_nhs_number": "uk_nhs", "dea_number": "medical_license",
    "us_dea": "medical_license", "fi_personal_identity_code": "fi_personal_id", "fi_hetu": "fi_personal_id",
    "it_codice_fiscale": "it_fiscal_code", "de_steuer_id": "de_tax_id", "de_tax_identification_number": "de_tax_id",
    "phone_number": "phone", "email_address": "email", "ssn": "us_ssn", "ip": "ip_address",
}


def sluice_entity(name):
    n = name.lower()
    n = SLUICE_ALIAS.get(n, n)
    return n if n in ENTITY else "other:" + name


def presidio_entity(name):
    return FROM_PRESIDIO.get(name, "other:" + name)


def shape(value):
    s = re.sub(r"[0-9]", "9", value)
    s = re.sub(r"[A-Z]", "A", s)
    return re.sub(r"[a-z]", "a", s)


def load_labels(path):
    docs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            docs.append(json.loads(line))
    return docs


def byte_to_char(text):
    """Index: byte offset -> character offset, for one document."""
    m = []
    for i, ch in enumerate(text):
        m.extend([i] * len(ch.encode("utf-8")))
    m.append(len(text))
    return m


def load_sluice(path, docs):
    preds, stats = collections.defaultdict(list), None
    maps = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0] == "#stats":
                stats = {"bytes": int(p[1]), "docs": int(p[2]), "wall": float(p[3]), "cpu": float(p[4])}
                continue
            d, off, ln = int(p[0]), int(p[1]), int(p[2])
            if d not in maps:
                maps[d] = byte_to_char(docs[d]["text"])
            m = maps[d]
            preds[d].append((m[off], m[off + ln], sluice_entity(p[3]), p[4]))
    return preds, stats


def resolve(results):
    """Presidio's overlapping results, resolved: higher score, then longer."""
    kept = []
    for r in sorted(results, key=lambda r: (-r["score"], -(r["end"] - r["start"]), r["start"])):
        if all(r["end"] <= k["start"] or r["start"] >= k["end"] for k in kept):
            kept.append(r)
    return sorted(kept, key=lambda r: r["start"])


def load_presidio(path):
    raw, stats = collections.defaultdict(list), None
    with open(path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            if "stats" in o:
                stats = o["stats"]
                continue
            raw[o["doc"]].append(o)
    def conv(rs):
        return [(r["start"], r["end"], presidio_entity(r["entity"]), r["entity"]) for r in rs]
    return ({d: conv(resolve(rs)) for d, rs in raw.items()},
            {d: conv(rs) for d, rs in raw.items()}, stats)


def covers(p, s):
    return min(p[1], s["end"]) - max(p[0], s["start"]) >= (s["end"] - s["start"]) / 2


class Score:
    def __init__(self):
        self.gold = collections.Counter()
        self.found = collections.Counter()
        self.tp = collections.Counter()
        self.fp = collections.Counter()
        self.other = collections.Counter()
        self.missed = collections.defaultdict(list)      # entity -> [(form, value)]
        self.false = collections.defaultdict(list)       # entity -> [(why, value)]
        self.form_gold = collections.Counter()           # (entity, form)
        self.form_found = collections.Counter()


def score(docs, preds, recall_preds=None):
    """Recall from recall_preds (default: preds), precision from preds."""
    sc = Score()
    for d in docs:
        text, spans = d["text"], d["spans"]
        ps = preds.get(d["id"], [])
        rps = (recall_preds if recall_preds is not None else preds).get(d["id"], [])
        for s in spans:
            e = s["entity"]
            sc.gold[e] += 1
            sc.form_gold[(e, s["form"])] += 1
            if any(p[2] == e and covers(p, s) for p in rps):
                sc.found[e] += 1
                sc.form_found[(e, s["form"])] += 1
            else:
                sc.missed[e].append((s["form"], text[s["start"]:s["end"]],
                                     text[max(0, s["start"] - 30):min(len(text), s["end"] + 12)].replace("\n", " ")))
        for p in ps:
            e = p[2]
            if e.startswith("other:"):
                sc.other[e[6:]] += 1
                continue
            if any(s["entity"] == e and covers(p, s) for s in spans):
                sc.tp[e] += 1
                continue
            sc.fp[e] += 1
            hit = [s["entity"] for s in spans if min(p[1], s["end"]) > max(p[0], s["start"])]
            why = ("on a labelled %s" % hit[0]) if hit else "on unlabelled text"
            ctx = text[max(0, p[0] - 25):p[0]].replace("\n", " ")
            sc.false[e].append((why, text[p[0]:p[1]], ctx))
    return sc


def ratio(a, b):
    return a / b if b else float("nan")


def pct(x):
    return "  -  " if x != x else "%5.1f" % (100 * x)


def covered_by_sluice(rules_path):
    with open(rules_path, encoding="utf-8") as f:
        rules = json.load(f)["rules"]
    return {sluice_entity(r["entity"]) for r in rules} & set(ENTITY)


def covered_by_presidio(pstats_recognizers):
    import presidio_analyzer.predefined_recognizers as pr
    ents = set()
    for name in pstats_recognizers:
        cls = getattr(pr, name)
        try:
            ents.update(cls(supported_language="en").supported_entities)
        except Exception:
            pass
    return {FROM_PRESIDIO[e] for e in ents if e in FROM_PRESIDIO}


def report(docs, s_sc, p_sc, s_stats, p_stats, s_cov, p_cov):
    lines = []
    w = lines.append
    w("%-18s %6s | %-7s %7s %7s | %-7s %7s %7s" % ("entity", "spans", "cover", "sl.rec", "sl.prec",
                                                  "cover", "pr.rec", "pr.prec"))
    w("%-18s %6s | %-7s %7s %7s | %-7s %7s %7s" % ("", "", "sluice", "%", "%", "presid.", "%", "%"))
    for e in ENTITY:
        g = s_sc.gold[e]
        row = [e, g]
        for sc, cov in ((s_sc, s_cov), (p_sc, p_cov)):
            rec = ratio(sc.found[e], g)
            prec = ratio(sc.tp[e], sc.tp[e] + sc.fp[e])
            row += ["yes" if e in cov else "no", pct(rec), pct(prec) + ("" if sc.tp[e] + sc.fp[e] else "")]
        w("%-18s %6d | %-7s %7s %7s | %-7s %7s %7s" % tuple(row))
    both = [e for e in ENTITY if e in s_cov and e in p_cov]
    w("")
    for label, ents in (("entities both cover", both), ("every labelled entity", list(ENTITY))):
        g = sum(s_sc.gold[e] for e in ents)
        w("%-24s %6d spans: recall sluice %s%%, Presidio %s%%" % (
            label, g, pct(ratio(sum(s_sc.found[e] for e in ents), g)).strip(),
            pct(ratio(sum(p_sc.found[e] for e in ents), g)).strip()))
    for name, sc in (("sluice", s_sc), ("Presidio", p_sc)):
        tp, fp = sum(sc.tp.values()), sum(sc.fp.values())
        tpb = sum(sc.tp[e] for e in both)
        fpb = sum(sc.fp[e] for e in both)
        w("precision %-8s: %s%% over all %d findings in the vocabulary, %s%% over the %d of entities both cover;"
          " %d findings of other entities" % (name, pct(ratio(tp, tp + fp)).strip(), tp + fp,
                                             pct(ratio(tpb, tpb + fpb)).strip(), tpb + fpb, sum(sc.other.values())))
    for name, sc in (("sluice", s_sc), ("Presidio", p_sc)):
        if sc.other:
            w("  other entities, %s: %s" % (name, ", ".join("%s %d" % kv for kv in sc.other.most_common(12))))
    behind = ["%s %s<%s" % (e, pct(ratio(s_sc.found[e], s_sc.gold[e])).strip(),
                            pct(ratio(p_sc.found[e], p_sc.gold[e])).strip())
              for e in both if s_sc.found[e] < p_sc.found[e]]
    only_p = [e for e in ENTITY if e in p_cov and e not in s_cov]
    w("")
    w("issue #14's targets (informative, nothing is asserted):")
    w("  recall >= Presidio's on every entity both cover: %s" % (
        "yes" if not behind else "no: " + ", ".join(behind)))
    if only_p:
        w("  entities only Presidio covers: %s" % ", ".join(only_p))
    tp_s, all_s = sum(s_sc.tp.values()), sum(s_sc.tp.values()) + sum(s_sc.fp.values())
    tp_p, all_p = sum(p_sc.tp.values()), sum(p_sc.tp.values()) + sum(p_sc.fp.values())
    w("  precision strictly higher overall: %s (%s%% vs %s%%)" % (
        "yes" if ratio(tp_s, all_s) > ratio(tp_p, all_p) else "no",
        pct(ratio(tp_s, all_s)).strip(), pct(ratio(tp_p, all_p)).strip()))
    w("  at least 100x faster on the same bytes (CPU): %s (%.0fx)" % (
        "yes" if ratio(p_stats["cpu"], s_stats["cpu"]) >= 100 else "no", ratio(p_stats["cpu"], s_stats["cpu"])))
    sb, pb = s_stats["bytes"], p_stats["bytes"]
    w("")
    w("throughput on the same %d bytes (%d documents):" % (sb, s_stats["docs"]))
    w("  sluice   %10.2f MB/s CPU  %10.2f MB/s wall (sl_scan_text per document, best pass)" % (
        sb / s_stats["cpu"] / 1e6, sb / s_stats["wall"] / 1e6))
    w("  Presidio %10.4f MB/s CPU  %10.4f MB/s wall (AnalyzerEngine.analyze per document)" % (
        pb / p_stats["cpu"] / 1e6, pb / p_stats["wall"] / 1e6))
    w("  ratio    %10.0fx CPU  %10.0fx wall" % (ratio(p_stats["cpu"], s_stats["cpu"]),
                                                ratio(p_stats["wall"], s_stats["wall"])))
    per = p_stats.get("cpu_per_recognizer")
    if per:
        mine = [n for n, ents in p_stats["entities"].items() if any(e in FROM_PRESIDIO for e in ents)]
        c = sum(per.get(n, 0.0) for n in mine)
        w("  Presidio, only its %d recognizers of the common vocabulary: %.4f MB/s CPU (their own time,"
          " without the engine's), sluice %.0fx that" % (len(mine), pb / c / 1e6, ratio(c, s_stats["cpu"])))
        top = sorted(per.items(), key=lambda kv: -kv[1])[:5]
        w("  Presidio's slowest recognizers (share of its CPU): %s" % ", ".join(
            "%s %.0f%%" % (n, 100 * t / p_stats["cpu"]) for n, t in top))
    return "\n".join(lines)


def gaps_markdown(s_sc, p_sc, s_cov, p_cov, summary, limit=6):
    out = []
    w = out.append
    w("Per entity: sluice and Presidio recall / precision, then sluice's misses")
    w("grouped by written form (digits as 9, letters as A/a), with examples and")
    w("the first one in its context,")
    w("and sluice's false positives with the 25 characters before them.")
    w("")
    w("```")
    w(summary)
    w("```")
    w("")
    for e in ENTITY:
        g = s_sc.gold[e]
        sr, sp = ratio(s_sc.found[e], g), ratio(s_sc.tp[e], s_sc.tp[e] + s_sc.fp[e])
        pr_, pp = ratio(p_sc.found[e], g), ratio(p_sc.tp[e], p_sc.tp[e] + p_sc.fp[e])
        w("## %s (%s)" % (e, ENTITY[e][1]))
        w("")
        w("sluice recall %s%% precision %s%% (%s); Presidio recall %s%% precision %s%% (%s); %d spans." % (
            pct(sr).strip(), pct(sp).strip(), "covered" if e in s_cov else "no rule",
            pct(pr_).strip(), pct(pp).strip(), "covered" if e in p_cov else "no recognizer", g))
        forms = collections.defaultdict(list)
        for form, v, ctx in s_sc.missed[e]:
            forms[form].append((v, ctx))
        if forms:
            w("")
            w("sluice misses by form (form: missed/labelled; examples):")
            for form, vs in sorted(forms.items(), key=lambda kv: -len(kv[1])):
                shapes = collections.Counter(shape(v) for v, _ in vs)
                ex = "; ".join("`%s`" % v for v, _ in vs[:limit])
                w("- %s: %d/%d; shapes %s; e.g. %s; in context: \"%s\"" % (
                    form, len(vs), s_sc.form_gold[(e, form)],
                    ", ".join("`%s`×%d" % kv for kv in shapes.most_common(4)), ex, vs[0][1]))
        pm = collections.Counter(f for f, _, _ in p_sc.missed[e])
        if pm:
            w("")
            w("Presidio misses by form: " + ", ".join("%s %d/%d" % (f, n, p_sc.form_gold[(e, f)]) for f, n in pm.most_common(8)))
        if s_sc.false[e]:
            w("")
            w("sluice false positives: %d; e.g.:" % len(s_sc.false[e]))
            for why, v, ctx in s_sc.false[e][:limit]:
                w("- %s: `%s` after \"%s\"" % (why, v, ctx))
        w("")
    if s_sc.other:
        w("## sluice findings of other entities (secrets etc.; the corpus has none)")
        w("")
        w(", ".join("%s %d" % kv for kv in s_sc.other.most_common()))
        w("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labels")
    ap.add_argument("sluice")
    ap.add_argument("presidio")
    ap.add_argument("rules")
    ap.add_argument("--gaps", help="also write the per-entity gaps as markdown to this file")
    a = ap.parse_args()
    docs = load_labels(a.labels)
    s_preds, s_stats = load_sluice(a.sluice, docs)
    p_preds, p_raw, p_stats = load_presidio(a.presidio)
    s_sc, p_sc = score(docs, s_preds), score(docs, p_preds, p_raw)
    s_cov, p_cov = covered_by_sluice(a.rules), covered_by_presidio(p_stats["recognizers"])
    summary = report(docs, s_sc, p_sc, s_stats, p_stats, s_cov, p_cov)
    print(summary)
    if a.gaps:
        with open(a.gaps, "w", encoding="utf-8") as f:
            f.write(gaps_markdown(s_sc, p_sc, s_cov, p_cov, summary))


if __name__ == "__main__":
    main()
