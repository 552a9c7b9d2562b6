"""Precision / recall / F1 of note fact extraction per fact type, on corpora/notes/facts.

    .venv/bin/python benchmarks/note_facts.py [--errors TYPE] [--lexicon full|curated]

Matching. A predicted fact matches a gold fact of the same note and type when
their spans overlap and their concepts agree. Gold concept labels are
normalized through the lexicon: the label of a lexicon entry, else
``index.lookup``, else any synonym case-insensitively. Concepts agree when the
ids are equal or one is narrower than the other in the lexicon hierarchy
("AML with myelodysplasia-related changes" is an AML). A gold label the lexicon
cannot normalize matches on span and type alone (counted in the table). Pairs
are matched one-to-one, exact concepts and larger overlaps first.

Scores per type:
* detection P/R/F1 (span + concept);
* "correct" P/R: matched *and* right. For labs and vitals that is value and unit
  (units equal after the unit table's canonical names, or equal after a
  factor-1 conversion such as ng/L = pg/mL); for every other type it is the
  assertion. Targets: >= 0.95 for labs and vitals, >= 0.90 for diagnoses and
  biomarkers (correct P and R).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict

from _common import ROOT, machine, read_jsonl, table

CORPUS = ROOT / "corpora" / "notes" / "facts"
TARGETS = {"lab": 0.95, "vital": 0.95, "diagnosis": 0.90, "biomarker": 0.90}
VALUE_TYPES = {"lab", "vital"}


class Normalizer:
    """Gold concept label -> lexicon id, in this order: a curated label, ``index.lookup``
    (the index's own synonym priorities), a curated synonym in any case, any label,
    any synonym in any case."""

    def __init__(self, index):
        self.index = index
        tables = {"curated_label": {}, "curated_syn": {}, "label": {}, "syn": {}}
        for entry in index.entries.values():
            curated = entry.source.startswith("curated")
            tables["curated_label" if curated else "label"].setdefault(entry.label.lower(), entry.id)
            for syn in entry.synonyms:
                tables["curated_syn" if curated else "syn"].setdefault(syn.lstrip("=").lower(), entry.id)
        self.tables = tables

    def __call__(self, label: str):
        low = label.lower()
        if low in self.tables["curated_label"]:
            return self.tables["curated_label"][low]
        entry = self.index.lookup(label)
        if entry is not None:
            return entry.id
        for name in ("curated_syn", "label", "syn"):
            if low in self.tables[name]:
                return self.tables[name][low]
        return None


def related(index, a: str, b: str) -> bool:
    if a == b:
        return True
    return index.is_a(a, b) or index.is_a(b, a)


def same_value(gold, pred) -> bool:
    if gold is None or pred is None:
        return gold is None and pred is None
    if isinstance(gold, (int, float)) and isinstance(pred, (int, float)):
        return abs(float(gold) - float(pred)) <= 1e-6 * max(1.0, abs(float(gold)))
    return str(gold).strip().lower() == str(pred).strip().lower()


def same_unit(gold, pred, units) -> bool:
    if gold is None or pred is None:
        return gold is None and pred is None
    g = units.canonical(gold) or units.canonical(gold.split()[0]) or gold  # "µg/mL FEU" is in µg/mL
    p = units.canonical(pred) or pred
    if g.lower() == p.lower():
        return True
    try:
        return units.convert(1.0, g, p) == 1.0
    except Exception:
        return False


def overlap(a, b) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def match_note(gold: list[dict], pred: list, index) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs."""
    pairs = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            if p.type != g["type"]:
                continue
            ov = overlap((g["start"], g["end"]), p.span)
            if ov <= 0:
                continue
            if g["_id"] is None:
                rank = 2
            elif p.concept.id == g["_id"]:
                rank = 0
            elif related(index, p.concept.id, g["_id"]):
                rank = 1
            else:
                continue
            pairs.append((rank, -ov, gi, pi))
    pairs.sort()
    used_g, used_p, out = set(), set(), []
    for _, _, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out.append((gi, pi))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--errors", help="print false positives/negatives of this fact type")
    ap.add_argument("--lexicon", default=None, help="full (default) or curated")
    args = ap.parse_args(argv)
    if not (CORPUS / "README.md").exists():
        print(f"skipped: {CORPUS}/README.md not found (the gold corpus is not finished)")
        return 0
    from nlp.grammar.units import unit_table
    from nlp.lexicon import get_index
    from nlp.pipeline import extract_note, load_pipeline

    notes = read_jsonl(CORPUS / "notes.jsonl")
    gold_rows = read_jsonl(CORPUS / "gold_facts.jsonl")
    options = {"lexicon": args.lexicon} if args.lexicon else {}
    nlp = load_pipeline(**options)
    index = get_index(args.lexicon)
    units = unit_table()
    norm = Normalizer(index)
    gold_by_note = defaultdict(list)
    unnormalized = Counter()
    for g in gold_rows:
        g["_id"] = norm(g["concept"])
        if g["_id"] is None:
            unnormalized[g["type"]] += 1
        gold_by_note[g["note_id"]].append(g)
    counts = defaultdict(Counter)
    errors = []
    started = time.perf_counter()
    for note in notes:
        text = note["text"]
        pred = extract_note(text, note["note_id"], note.get("date"), nlp=nlp)
        for f in pred:
            assert text[f.span[0]:f.span[1]] == f.text, "span/text mismatch"
        gold = gold_by_note.get(note["note_id"], [])
        pairs = match_note(gold, pred, index)
        matched_g = {gi for gi, _ in pairs}
        matched_p = {pi for _, pi in pairs}
        for g in gold:
            counts[g["type"]]["gold"] += 1
        for p in pred:
            counts[p.type]["pred"] += 1
        for gi, pi in pairs:
            g, p = gold[gi], pred[pi]
            c = counts[g["type"]]
            c["tp"] += 1
            if g["type"] in VALUE_TYPES:
                ok = same_value(g["value"], p.value) and same_unit(g["unit"], p.unit, units)
            else:
                ok = g["assertion"] == p.assertion
            c["correct"] += ok
            if not ok and args.errors == g["type"]:
                errors.append(("WRONG", note["note_id"], g["text"], f"gold {g['concept']} {g['value']} {g['unit']} {g['assertion']}",
                               f"pred {p.concept.id} {p.value} {p.unit} {p.assertion}"))
        if args.errors:
            for gi, g in enumerate(gold):
                if gi not in matched_g and g["type"] == args.errors:
                    errors.append(("FN", note["note_id"], g["text"], f"{g['concept']} {g['value']} {g['unit']} {g['assertion']}", ""))
            for pi, p in enumerate(pred):
                if pi not in matched_p and p.type == args.errors:
                    errors.append(("FP", note["note_id"], p.text, f"{p.concept.id} {p.value} {p.unit} {p.assertion}", ""))
    elapsed = time.perf_counter() - started
    rows = []
    total = Counter()
    annotated = {g["type"] for g in gold_rows}
    extra = []
    for t in sorted(counts, key=lambda t: -counts[t]["gold"]):
        c = counts[t]
        if t not in annotated:  # e.g. symptoms: the corpus guideline does not annotate them
            extra.append(f"{t}: {c['pred']} predicted (not annotated in this corpus, not scored)")
            continue
        total.update(c)
        rows.append(_row(t, c, unnormalized[t]))
    rows.append(_row("all", total, sum(unnormalized.values())))
    print(f"Note facts on {CORPUS.relative_to(ROOT)}: {len(notes)} notes, {len(gold_rows)} gold facts ({elapsed:.1f} s)")
    print(machine())
    print(table(rows, ["type", "gold", "pred", "P", "R", "F1", "correct P", "correct R", "correct =", "target", "gold unnormalized"]))
    for line in extra:
        print(line)
    for e in errors:
        print(" | ".join(str(x).replace("\n", " ") for x in e))
    return 0


def _row(t: str, c: Counter, unnorm: int) -> list:
    p = c["tp"] / c["pred"] if c["pred"] else 0.0
    r = c["tp"] / c["gold"] if c["gold"] else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    cp = c["correct"] / c["pred"] if c["pred"] else 0.0
    cr = c["correct"] / c["gold"] if c["gold"] else 0.0
    what = "value+unit" if t in VALUE_TYPES else ("assertion" if t != "all" else "mixed")
    target = TARGETS.get(t)
    mark = "" if target is None else (f">= {target:.2f} " + ("met" if min(cp, cr) >= target else "NOT met"))
    return [t, c["gold"], c["pred"], f"{p:.3f}", f"{r:.3f}", f"{f1:.3f}", f"{cp:.3f}", f"{cr:.3f}", what, mark, unnorm or ""]


if __name__ == "__main__":
    sys.exit(main())
