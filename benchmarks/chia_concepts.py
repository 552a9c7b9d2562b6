"""Concept recognition on the Chia corpus (../shared/data/criteria/chia): relaxed
(overlap) precision, recall and F1 per domain, and the micro-average over
Condition, Drug, Procedure and Measurement.

Each ``NCT*_{inc,exc}.txt`` is parsed as it is (raw text, no header added:
plain lines are criteria) with ``nlp.criteria.parse_protocol``. Every
constraint's ``concept_span`` with its ``concept.domain`` is a prediction;
identical (span, domain) predictions in a file count once.

Domain mapping: condition->Condition, drug->Drug, procedure->Procedure,
measurement->Measurement. ``observation`` maps to Chia's Observation,
``demographic`` to Person and ``device`` to Device: those rows are shown but are
not part of the micro-average (the issue's four domains). A prediction is
correct when it overlaps a gold entity of the same type (discontinuous gold
spans count by any fragment); a gold entity is found when a prediction of the
same type overlaps it.

``--level mentions`` scores every concept the recognizer finds instead (before the
parser keeps one constraint per concept per clause and moves "except ..." concepts
into exceptions): the gap between the two levels is the parser's, not the lexicon's.

    python benchmarks/chia_concepts.py [--errors N] [--domain Condition] [--curated] [--level mentions]
"""

from __future__ import annotations

import argparse
import collections
import random
import time

from _common import SHARED_DATA, machine, need_shared, table

from nlp.criteria import parse_protocol

DOMAIN_MAP = {"condition": "Condition", "drug": "Drug", "procedure": "Procedure", "measurement": "Measurement",
              "observation": "Observation", "demographic": "Person", "device": "Device"}
SCORED = ("Condition", "Drug", "Procedure", "Measurement")
SHOWN = SCORED + ("Observation", "Person", "Device")


def read_text(path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def read_gold(path) -> list[tuple[str, list[tuple[int, int]], str]]:
    """(type, fragments, text) for every entity line of a brat .ann file."""
    out = []
    for line in read_text(path).splitlines():
        if not line.startswith("T"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        etype, _, offsets = parts[1].partition(" ")
        frags = []
        for frag in offsets.split(";"):
            a, b = frag.split()
            frags.append((int(a), int(b)))
        out.append((etype, frags, parts[2] if len(parts) > 2 else ""))
    return out


def predictions(protocol) -> list[tuple[str, tuple[int, int], str, str]]:
    """(type, span, label, concept id) of every constraint concept, de-duplicated."""
    seen, out = set(), []

    def add(domain, span, concept):
        etype = DOMAIN_MAP.get(domain, "Observation")
        key = (etype, tuple(span))
        if key not in seen:
            seen.add(key)
            out.append((etype, tuple(span), concept.label, concept.id or ""))
    for node in protocol.walk():
        for c in node.constraints:
            for span in c.mentions or ([c.concept_span] if c.concept_span else []):
                add(c.concept.domain, span, c.concept)  # every mention of the constraint's concept
            if c.method_span:
                add("procedure", c.method_span, c.concept.model_copy(update={"label": c.method or ""}))
            for x in c.exceptions:
                if x.concept_span:
                    add(x.condition.domain, x.concept_span, x.condition)
    return out


def mention_predictions(text: str, index) -> list[tuple[str, tuple[int, int], str, str]]:
    """(type, span, label, id) of every concept the recognizer finds, before the parser
    decides which mentions become constraints (an upper bound for the constraint level)."""
    from nlp.criteria.recognize import recognize
    from nlp.text import normalize
    norm = normalize(text)
    out, seen = [], set()
    for m in recognize(norm.text, index).mentions:
        span = norm.to_original(m.start, m.end)
        key = (DOMAIN_MAP.get(m.entry.domain, "Observation"), tuple(span))
        if key not in seen:
            seen.add(key)
            out.append((key[0], key[1], m.entry.label, m.entry.id))
    return out


def overlaps(span, frags) -> bool:
    return any(span[0] < b and a < span[1] for a, b in frags)


def evaluate(files, index=None, keep_errors=False, level="constraints"):
    """Counts per type, and optionally the false positives/negatives."""
    stats = collections.defaultdict(collections.Counter)
    errors = collections.defaultdict(list)
    for txt in files:
        text = read_text(txt)
        gold = read_gold(txt.with_suffix(".ann"))
        if level == "mentions":
            preds = mention_predictions(text, index)
        else:
            preds = predictions(parse_protocol(text, txt.stem, index=index))
        for etype, span, label, cid in preds:
            stats[etype]["pred"] += 1
            if any(g[0] == etype and overlaps(span, g[1]) for g in gold):
                stats[etype]["tp_pred"] += 1
            elif keep_errors:
                other = [g[0] for g in gold if overlaps(span, g[1])]
                errors[("FP", etype)].append((txt.stem, text[span[0]:span[1]], label, cid, other))
        for etype, frags, gtext in gold:
            if etype not in SHOWN:
                continue
            stats[etype]["gold"] += 1
            if any(p[0] == etype and overlaps(p[1], frags) for p in preds):
                stats[etype]["tp_gold"] += 1
            elif keep_errors:
                other = [(p[0], p[2]) for p in preds if overlaps(p[1], frags)]
                errors[("FN", etype)].append((txt.stem, gtext, other))
    return stats, errors


def prf(c: collections.Counter) -> tuple[float, float, float]:
    p = c["tp_pred"] / c["pred"] if c["pred"] else 0.0
    r = c["tp_gold"] / c["gold"] if c["gold"] else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", type=int, default=0, help="print this many sampled errors per kind")
    ap.add_argument("--domain", default=None, help="only print errors of this Chia type")
    ap.add_argument("--curated", action="store_true", help="use the curated-only lexicon")
    ap.add_argument("--level", choices=["constraints", "mentions"], default="constraints",
                    help="score constraint concept spans (default) or every recognizer mention")
    args = ap.parse_args()
    base = need_shared(SHARED_DATA / "criteria" / "chia")
    files = sorted(base.glob("NCT*.txt"))
    from nlp.lexicon import get_index
    index = get_index("curated" if args.curated else None)
    t0 = time.perf_counter()
    stats, errors = evaluate(files, index, keep_errors=args.errors > 0, level=args.level)
    elapsed = time.perf_counter() - t0
    rows, micro = [], collections.Counter()
    for etype in SHOWN:
        c = stats[etype]
        p, r, f = prf(c)
        rows.append([etype, c["gold"], c["pred"], f"{p:.3f}", f"{r:.3f}", f"{f:.3f}"])
        if etype in SCORED:
            micro.update(c)
    p, r, f = prf(micro)
    rows.append(["micro (Condition, Drug, Procedure, Measurement)", micro["gold"], micro["pred"], f"{p:.3f}", f"{r:.3f}", f"{f:.3f}"])
    print(f"machine: {machine()}")
    print(f"files: {len(files)}  lexicon: {'curated' if args.curated else 'full'}  level: {args.level}  time: {elapsed:.1f}s")
    print(table(rows, ["type", "gold", "predicted", "relaxed P", "relaxed R", "relaxed F1"]))
    print("targets: micro relaxed F1 >= 0.75 and precision >= 0.75 (PubMedBERT 0.744, RoBERTa 0.798, fine-tuned)")
    rng = random.Random(13)
    for key in sorted(errors):
        if args.domain and key[1] != args.domain:
            continue
        sample = errors[key]
        print(f"\n== {key[0]} {key[1]}: {len(sample)}")
        for item in rng.sample(sample, min(args.errors, len(sample))):
            print("  ", item)


if __name__ == "__main__":
    main()
