"""Verdict and per-criterion accuracy of the seed trial on the synthetic patient corpus
(corpora/notes/seed_trial: notes.jsonl and hand-written gold.jsonl).

    python benchmarks/seed_match.py [--errors]
"""

from __future__ import annotations

import argparse
import collections
import time

from _common import ROOT, machine, read_jsonl, table

from matcher.api import match
from nlp.criteria import parse_protocol

CORPUS = ROOT / "corpora" / "notes" / "seed_trial"
SEED = ROOT / "corpora" / "protocols" / "cd123-car-nk-protocol.txt"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", action="store_true", help="print every disagreement with its reason")
    args = ap.parse_args()
    protocol = parse_protocol(SEED.read_text(encoding="utf-8"), SEED.stem)
    notes = read_jsonl(CORPUS / "notes.jsonl")
    gold = {g["patient_id"]: g for g in read_jsonl(CORPUS / "gold.jsonl")}
    t0 = time.perf_counter()
    results = {r.patient_id: r for r in match(protocol, notes)}
    elapsed = time.perf_counter() - t0
    verdict_ok = sum(results[p].verdict == g["verdict"] for p, g in gold.items())
    per = collections.Counter()
    per_id = collections.defaultdict(lambda: [0, 0])
    confusion = collections.Counter()
    disagreements = []
    for pid, g in sorted(gold.items()):
        r = results[pid]
        confusion[(g["verdict"], r.verdict)] += 1
        got = {c.criterion_id: c for c in r.criteria}
        for cid, want in g["criteria"].items():
            c = got.get(cid)
            ok = c is not None and c.status == want
            per["n"] += 1
            per["ok"] += ok
            per_id[cid][0] += ok
            per_id[cid][1] += 1
            if not ok:
                disagreements.append((pid, cid, want, c.status if c else None, c.reason if c else ""))
    print(f"machine: {machine()}")
    print(f"patients: {len(gold)}  notes: {len(notes)}  time: {elapsed:.1f}s (extraction + matching)")
    print(table([["verdict accuracy", f"{verdict_ok / len(gold):.3f}", f"{verdict_ok}/{len(gold)}"],
                 ["per-criterion accuracy", f"{per['ok'] / per['n']:.3f}", f"{per['ok']}/{per['n']}"]],
                ["measure", "value", "count"]))
    labels = ["eligible", "needs_review", "ineligible"]
    print(table([[g] + [confusion[(g, p)] for p in labels] for g in labels], ["gold \\ predicted"] + labels))
    print(table([[cid, f"{ok / n:.2f}", f"{ok}/{n}"] for cid, (ok, n) in sorted(per_id.items())], ["criterion", "accuracy", "count"]))
    if args.errors:
        for d in disagreements:
            print("DIFF", d[0], d[1], "gold", d[2], "got", d[3], "|", d[4])


if __name__ == "__main__":
    main()
