"""Hand-made MatchResults for the review tests: the seed gold labels, with chosen "tool errors".

These do not come from the matcher. They let the review code be built and tested
independently of the extraction pipeline, with known disagreements.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from nlp.schema import CriterionResult, Evidence, MatchResult

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "corpora" / "notes" / "seed_trial" / "gold.jsonl"
NOTES = ROOT / "corpora" / "notes" / "seed_trial" / "notes.jsonl"
PROTOCOL_GOLD = ROOT / "corpora" / "protocols" / "cd123-car-nk-protocol.gold.json"
MANUAL = ROOT / "corpora" / "review" / "seed_manual_review.csv"
TRIAL = "cd123-car-nk-protocol"

# Simulated tool mistakes: patient -> {criterion: status}; parents and verdict are recomputed.
TOOL_ERRORS = {
    "S06": {"I6.1": "not_met"},
    "S09": {"I6.2.1": "unknown"},
    "S12": {"I6.2.3": "not_met"},
    "S22": {"I5": "unknown"},
    "S30": {"I4": "unknown"},
    "S38": {"I2": "met"},
}

KEYWORDS = {
    "I1.2": r"\b(\d{2}[- ]year[- ]old|DOB|age)\b", "I2": r"CD123", "I3": r"relaps\w*|refractory|BPDCN|AML",
    "I4": r"surviv\w*|prognosis|life expectancy", "I5": r"ECOG|KPS|Karnofsky|WHO PS",
    "I6.1": r"psych\w*|depress\w*|anxiety|schizo\w*", "I6.2.1": r"LVEF|ejection fraction|ECG|EKG",
    "I6.2.2": r"creatinine", "I6.2.3": r"\bALT\b|\bAST\b", "I6.2.4": r"bilirubin|alkaline phosphatase",
    "I6.2.5": r"SpO2|O2 sat\w*|saturation", "I7": r"ICF|consent\w*",
}


def _combine(logic: str, statuses: list[str]) -> str:
    if logic == "any":
        return "met" if "met" in statuses else ("unknown" if "unknown" in statuses else "not_met")
    return "not_met" if "not_met" in statuses else ("unknown" if "unknown" in statuses else "met")


def _notes() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for line in NOTES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.setdefault(row["patient_id"], []).append(row)
    return out


def _evidence(notes: list[dict], cid: str) -> list[Evidence]:
    pattern = KEYWORDS.get(cid)
    if not pattern:
        return []
    for note in notes:
        m = re.search(pattern, note["text"], flags=re.IGNORECASE)
        if m:
            s = max(note["text"].rfind(".", 0, m.start()) + 1, m.start() - 60)
            e = min(len(note["text"]), m.end() + 60)
            while s < e and note["text"][s].isspace():
                s += 1
            return [Evidence(note_id=note["note_id"], start=s, end=e, text=note["text"][s:e])]
    return []


def seed_results(errors: dict = TOOL_ERRORS) -> list[MatchResult]:
    """One hand-made MatchResult per seed patient: gold statuses plus ``errors``."""
    nodes = json.loads(PROTOCOL_GOLD.read_text(encoding="utf-8"))["nodes"]
    children: dict[str, list[str]] = {}
    for n in nodes:
        if n["parent_id"]:
            children.setdefault(n["parent_id"], []).append(n["id"])
    notes = _notes()
    out = []
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        g = json.loads(line)
        pid = g["patient_id"]
        status = dict(g["criteria"])
        status.update(errors.get(pid, {}))
        for n in reversed(nodes):  # children before parents: recompute the parents the errors touch
            kids = children.get(n["id"])
            if kids and all(k in status for k in kids):
                status[n["id"]] = _combine(n["logic"], [status[k] for k in kids])
        crits = []
        for n in nodes:
            st = status.get(n["id"], status.get("I3") if n["id"].startswith("I3") else "unknown")
            ev = _evidence(notes.get(pid, []), n["id"]) if st != "unknown" or n["id"] in KEYWORDS else []
            reason = {"met": "Requirement satisfied by the documented finding.", "not_met": "The documented finding fails the requirement.",
                      "unknown": "Not documented in the notes."}[st]
            crits.append(CriterionResult(criterion_id=n["id"], parent_id=n["parent_id"], kind=n["kind"], text=n["text"],
                                         status=st, evidence=ev, reason=reason))
        top = [c for c in crits if c.parent_id is None]
        if any(c.status == "not_met" for c in top):
            verdict = "ineligible"
        elif any(c.status == "unknown" for c in top):
            verdict = "needs_review"
        else:
            verdict = "eligible"
        score = sum({"met": 1.0, "unknown": 0.5, "not_met": 0.0}[c.status] for c in top) / len(top)
        score = round(score * (0.25 if verdict == "ineligible" else 1.0), 6)
        out.append(MatchResult(trial_id=TRIAL, patient_id=pid, verdict=verdict, score=score, criteria=crits))
    return out


def write_results(results: list[MatchResult], path: Path) -> Path:
    path.write_text("".join(r.model_dump_json() + "\n" for r in results), encoding="utf-8")
    return path
