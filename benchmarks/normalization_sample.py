"""Normalization accuracy on a fixed, hand-judged sample of recognized Chia mentions.

``--draw`` samples 200 constraint concepts recognized by ``parse_protocol`` over
``../shared/data/criteria/chia`` (seed 20260325, files in sorted order) and writes
``benchmarks/normalization_sample.jsonl`` with an empty ``judgement`` per row.
A person then fills each row's ``judgement``:

* ``correct``: the chosen concept (label, codes) is the concept the text names;
* ``broader``: a right but less specific concept ("type 2 diabetes" -> diabetes);
* ``wrong``: another concept, or a span that names no concept of that kind;
* ``unnormalized``: a real concept found by the word-formation rules that kept
  no code (``text:...`` concept); it counts against accuracy.

Without ``--draw`` the script reads the judged file and prints the accuracy
(correct / judged), the lenient accuracy (correct + broader), the share that
carries a standard code, and, with ``--check``, how many rows the current code
would now normalize differently. Criteria2Query reported 0.514.

    python benchmarks/normalization_sample.py [--draw] [--check]
"""

from __future__ import annotations

import argparse
import collections
import json
import random
from pathlib import Path

from _common import ROOT, SHARED_DATA, need_shared, table

SAMPLE = ROOT / "benchmarks" / "normalization_sample.jsonl"
SEED = 20260325
N = 200


def recognized(files):
    """Every constraint concept of every file: (file, span, text, concept)."""
    from chia_concepts import read_text
    from nlp.criteria import parse_protocol
    out = []
    for txt in files:
        text = read_text(txt)
        seen = set()
        for node in parse_protocol(text, txt.stem).walk():
            for c in node.constraints:
                if c.concept_span is None or tuple(c.concept_span) in seen:
                    continue
                seen.add(tuple(c.concept_span))
                s, e = c.concept_span
                line_start = text.rfind("\n", 0, s) + 1
                line_end = text.find("\n", e)
                out.append({"file": txt.stem, "span": [s, e], "text": text[s:e],
                            "context": text[line_start:line_end if line_end >= 0 else None].strip()[:300],
                            "concept_id": c.concept.id, "label": c.concept.label, "domain": c.concept.domain,
                            "codes": [f"{x.system}:{x.code}" for x in c.concept.codes]})
    return out


def draw() -> None:
    base = need_shared(SHARED_DATA / "criteria" / "chia")
    rows = recognized(sorted(base.glob("NCT*.txt")))
    sample = random.Random(SEED).sample(rows, N)
    with open(SAMPLE, "w", encoding="utf-8") as fh:
        for row in sample:
            fh.write(json.dumps({**row, "judgement": None, "note": ""}, ensure_ascii=False) + "\n")
    print(f"wrote {len(sample)} rows to {SAMPLE} (from {len(rows)} recognized mentions)")


def report(check: bool) -> None:
    rows = [json.loads(line) for line in open(SAMPLE, encoding="utf-8") if line.strip()]
    judged = [r for r in rows if r.get("judgement")]
    counts = collections.Counter(r["judgement"] for r in judged)
    n = len(judged)
    coded = sum(1 for r in judged if r["codes"])
    coded_right = sum(1 for r in judged if r["codes"] and r["judgement"] == "correct")
    by_domain = collections.defaultdict(collections.Counter)
    for r in judged:
        by_domain[r["domain"]][r["judgement"]] += 1
    print(f"sample: {SAMPLE.name}  rows: {len(rows)}  judged: {n}")
    print(table([
        ["accuracy (correct)", f"{counts['correct'] / n:.3f}", "0.514 (Criteria2Query)"],
        ["lenient accuracy (correct + broader)", f"{(counts['correct'] + counts['broader']) / n:.3f}", ""],
        ["share with a standard code", f"{coded / n:.3f}", ""],
        ["correct and coded", f"{coded_right / n:.3f}", ""],
        ["wrong", f"{counts['wrong'] / n:.3f}", ""],
        ["unnormalized (rule-found, no code)", f"{counts['unnormalized'] / n:.3f}", ""],
    ], ["measure", "value", "reference"]))
    print(table([[d, sum(c.values()), c["correct"], c["broader"], c["wrong"], c["unnormalized"]]
                 for d, c in sorted(by_domain.items())], ["domain", "n", "correct", "broader", "wrong", "unnormalized"]))
    if check:
        base = need_shared(SHARED_DATA / "criteria" / "chia")
        files = sorted({r["file"] for r in rows})
        now = {(r["file"], tuple(r["span"])): r for r in recognized([base / f"{f}.txt" for f in files])}
        changed = [r for r in rows if (now.get((r["file"], tuple(r["span"]))) or {}).get("concept_id") != r["concept_id"]]
        print(f"rows the current code normalizes differently (or no longer finds): {len(changed)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draw", action="store_true", help="draw a new sample (overwrites the judged file)")
    ap.add_argument("--check", action="store_true", help="compare the judged rows with the current output")
    args = ap.parse_args()
    if args.draw:
        draw()
    else:
        report(args.check)


if __name__ == "__main__":
    main()
