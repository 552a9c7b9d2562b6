"""TrialGPT patient-criterion labels (../shared/data/matching/trialgpt_criteria.jsonl).

Each row's criterion is parsed as a one-criterion protocol ("Inclusion Criteria:\n- <text>"
or "Exclusion Criteria:\n- <text>"), the patient note as one note, and the verdict of that
protocol is the prediction, scored in three classes (pass / fail / unknown) as the data's
README describes. Also reports evidence-sentence overlap with the experts' sentences.

    python benchmarks/trialgpt_criteria.py [--errors N]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import time

from _common import SHARED_DATA, machine, need_shared, read_jsonl, table

from matcher.api import match_records, records_from_rows
from nlp.criteria import parse_protocol

CLASS = {"included": "pass", "not excluded": "pass", "not applicable": "pass",
         "not included": "fail", "excluded": "fail", "not enough information": "unknown"}
VERDICT = {"eligible": "pass", "ineligible": "fail", "needs_review": "unknown"}
LABELS = ["pass", "fail", "unknown"]


def macro_f1(pairs):
    f1s = []
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in pairs)
        fp = sum(g != label and p == label for g, p in pairs)
        fn = sum(g == label and p != label for g, p in pairs)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(f1s) / len(f1s)


def sentence_ids(note: str, start: int, end: int) -> set[int]:
    """Numbered sentences ("3. ...") a span touches."""
    out = set()
    for m in re.finditer(r"(?m)^(\d+)\.\s.*$", note):
        if m.start() < end and start < m.end():
            out.add(int(m.group(1)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", type=int, default=0)
    args = ap.parse_args()
    rows = read_jsonl(need_shared(SHARED_DATA / "matching" / "trialgpt_criteria.jsonl"))
    notes = {}
    for r in rows:
        notes.setdefault(r["patient_id"], r["note"])
    t0 = time.perf_counter()
    records = {rec.patient_id: rec for rec in records_from_rows(
        [{"patient_id": pid, "note_id": pid, "text": text} for pid, text in notes.items()])}
    pairs, gpt, errors = [], [], []
    ev = collections.Counter()
    for r in rows:
        header = "Inclusion Criteria:" if r["criterion_type"] == "inclusion" else "Exclusion Criteria:"
        criterion = r.get("criterion_text") or ""
        protocol = parse_protocol(f"{header}\n- {criterion}", f"{r['trial_id']}")
        result = match_records([protocol], [records[r["patient_id"]]])[0]
        gold, pred = CLASS[r["expert_eligibility"]], VERDICT[result.verdict]
        pairs.append((gold, pred))
        gpt.append((gold, CLASS.get(r["gpt4_eligibility"], "unknown")))
        if gold != pred:
            top = result.criteria[0] if result.criteria else None
            errors.append((r["criterion_type"], gold, pred, criterion[:90], top.reason[:140] if top else "(no criterion)"))
        raw = r.get("expert_sentences")
        expert = set(json.loads(raw) if isinstance(raw, str) else (raw or []))
        ours = set()
        for c in result.criteria:
            for e in c.evidence:
                ours |= sentence_ids(r["note"], e.start, e.end)
        if expert or ours:
            ev["tp"] += len(expert & ours)
            ev["fp"] += len(ours - expert)
            ev["fn"] += len(expert - ours)
    elapsed = time.perf_counter() - t0
    acc = sum(g == p for g, p in pairs) / len(pairs)
    gpt_acc = sum(g == p for g, p in gpt) / len(gpt)
    base1 = sum(g == ("pass" if r["criterion_type"] == "exclusion" else "unknown") for (g, _), r in zip(pairs, rows)) / len(rows)
    base2 = sum(g == "pass" for g, _ in pairs) / len(pairs)
    print(f"machine: {machine()}")
    print(f"rows: {len(rows)}  patients: {len(notes)}  time: {elapsed:.1f}s")
    print(table([
        ["trialmatch (no LLM)", f"{acc:.3f}", f"{macro_f1(pairs):.3f}"],
        ["GPT-4 (from the data)", f"{gpt_acc:.3f}", f"{macro_f1(gpt):.3f}"],
        ["exclusion->pass, inclusion->unknown", f"{base1:.3f}", ""],
        ["always pass", f"{base2:.3f}", ""],
    ], ["method", "3-class accuracy", "macro-F1"]))
    conf = collections.Counter(pairs)
    print(table([[g] + [conf[(g, p)] for p in LABELS] for g in LABELS], ["gold \\ predicted"] + LABELS))
    prec = ev["tp"] / max(1, ev["tp"] + ev["fp"])
    rec = ev["tp"] / max(1, ev["tp"] + ev["fn"])
    print(table([["evidence sentences vs experts", f"{prec:.3f}", f"{rec:.3f}", f"{2 * prec * rec / max(1e-9, prec + rec):.3f}"]],
                ["measure", "precision", "recall", "F1"]))
    for e in errors[:args.errors]:
        print("MISS", e)


if __name__ == "__main__":
    main()
