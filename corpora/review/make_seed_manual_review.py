"""Write seed_manual_review.csv: the seed trial's gold labels dressed up as a real manual chart review.

Run from the repository root:  python corpora/review/make_seed_manual_review.py
Deterministic (no randomness); see README.md beside this file for what it does and why.
Uses only the standard library so it runs without installing trialmatch.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOLD = ROOT / "corpora" / "notes" / "seed_trial" / "gold.jsonl"
PROTOCOL_GOLD = ROOT / "corpora" / "protocols" / "cd123-car-nk-protocol.gold.json"
OUT = HERE / "seed_manual_review.csv"
TRIAL = "cd123-car-nk-protocol"
ORDER = ["I1", "I1.1", "I1.2", "I2", "I3", "I4", "I5", "I6", "I6.1", "I6.2",
         "I6.2.1", "I6.2.2", "I6.2.3", "I6.2.4", "I6.2.5", "I7"]
HEADER = ["trial_id", "patient_id", "criterion_id", "status", "verdict", "Reviewer", "Comment", "Review date"]

# Label wordings, as different blocks of a sheet typed on different days would have them.
STYLES = {
    "yes_no": ({"met": "Yes", "not_met": "No", "unknown": "Unclear"},
               {"eligible": "Eligible", "ineligible": "Not eligible", "needs_review": "Needs review"}),
    "y_n": ({"met": "Y", "not_met": "N", "unknown": "?"},
            {"eligible": "eligible", "ineligible": "ineligible", "needs_review": "pending"}),
    "met_words": ({"met": "met", "not_met": "not met", "unknown": "unknown"},
                  {"eligible": "ELIGIBLE", "ineligible": "Screen fail", "needs_review": "Needs review "}),
    "true_false": ({"met": "TRUE", "not_met": "FALSE", "unknown": "unknown"},
                   {"eligible": "include", "ineligible": "exclude", "needs_review": "unclear"}),
}

# Primary reviewer (research nurse): the criterion is sometimes written as protocol text instead of its id.
RN_TEXT = {"I4": "Expected survival time is more than 12 weeks", "I5": "ECOG 0-2 points (Appendix 2)",
           "I6.1": "No serious mental disorders", "I6.2.5": "Blood oxygen saturation > 92%"}
# Second reviewer (physician): truncated copies and short forms of the protocol text.
MD_TEXT = {"I6.2.1": "Cardiac function: echocardiography indicated cardiac ejection fraction ≥50%",
           "I6.2.2": "Renal function: serum creatinine ≤2.0×ULN", "I6.2.3": "Liver function: ALT and AST ≤ 3.0×ULN",
           "I6.1": "No serious mental disorders"}

# The physician's own judgement where it differs from the gold labels (realistic judgement calls).
MD_CHANGES = {
    "S06": ({"I6.1": "not_met"}, "Counts GAD on sertraline as a mental disorder"),
    "S09": ({"I6.2.1": "unknown"}, "No ECG in the chart - would want one"),
    "S21": ({"I6.2.5": "met"}, "SpO2 92% RA read as meeting the limit"),
    "S30": ({"I4": "unknown"}, "Survival not stated in weeks"),
}
MD_PATIENTS = [f"S{i:02d}" for i in range(3, 40, 3)]  # every third patient is double-reviewed

# Rows that a real sheet has and the comparison must list rather than drop (see README.md).
PROBLEM_ROWS = [
    [TRIAL, "S1O", "", "", "Eligible", "RN-A", "typo in the patient id (letter O)", "2026-11-20"],
    [TRIAL, "S12", "Hemoglobin >= 9 g/dL", "Yes", "", "RN-A", "row from an older template", "2026-11-20"],
    [TRIAL, "S27", "I1.1", "N/A", "", "RN-A", "", "2026-11-20"],
]


def combine_all(statuses: list[str]) -> str:
    """The contract's 'all' rule: not_met if any part is, else unknown if any is, else met."""
    if "not_met" in statuses:
        return "not_met"
    return "unknown" if "unknown" in statuses else "met"


def recompute(labels: dict[str, str]) -> tuple[dict[str, str], str]:
    """Parents and verdict after a reviewer changed a leaf, so each reviewer stays self-consistent."""
    out = dict(labels)
    out["I6.2"] = combine_all([out[f"I6.2.{i}"] for i in range(1, 6)])
    out["I6"] = combine_all([out["I6.1"], out["I6.2"]])
    out["I1"] = combine_all([out["I1.1"], out["I1.2"]])
    top = [out[c] for c in ("I1", "I2", "I3", "I4", "I5", "I6", "I7")]
    verdict = "ineligible" if "not_met" in top else ("needs_review" if "unknown" in top else "eligible")
    return out, verdict


def rn_style(index: int) -> str:
    return ("yes_no", "y_n", "met_words")[min(index // 13, 2)]


def patient_rows(pid: str, labels: dict[str, str], verdict: str, reviewer: str, style: str,
                 texts: dict[str, str], comment: str = "", lower_id: str = "") -> list[list[str]]:
    status_words, verdict_words = STYLES[style]
    rows = [[TRIAL, pid, "", "", verdict_words[verdict], reviewer, comment, "2026-11-20"]]
    for cid in ORDER:
        crit = texts.get(cid, cid.lower() if cid == lower_id else cid)
        rows.append([TRIAL, pid, crit, status_words[labels[cid]], "", reviewer, "", "2026-11-20"])
    return rows


def main() -> None:
    gold = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    known = {n["id"] for n in json.loads(PROTOCOL_GOLD.read_text(encoding="utf-8"))["nodes"]}
    assert set(ORDER) <= known and set(RN_TEXT) <= known and set(MD_TEXT) <= known
    rows: list[list[str]] = []
    for i, g in enumerate(gold):
        style = rn_style(i)
        rows += patient_rows(g["patient_id"], g["criteria"], g["verdict"], "RN-A", style,
                             RN_TEXT if i % 2 == 0 else {}, lower_id="I6.2.2" if style == "met_words" else "")
    rows.append([""] * len(HEADER))  # a blank line between the two reviewers' blocks, as in real sheets
    by_id = {g["patient_id"]: g for g in gold}
    for pid in MD_PATIENTS:
        changes, why = MD_CHANGES.get(pid, ({}, ""))
        labels, verdict = recompute({**by_id[pid]["criteria"], **changes})
        block = patient_rows(pid, labels, verdict, "MD-B", "true_false", MD_TEXT, comment=why)
        if pid == "S15":  # an answer the label mapping cannot know
            block[ORDER.index("I5") + 1][3] = "see note"
        rows += block
    rows += PROBLEM_ROWS
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(rows)} rows")


if __name__ == "__main__":
    main()
