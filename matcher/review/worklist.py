"""The disagreement worklist: what an adjudicator goes down, one row per disagreement.

Order: verdict-level rows first (they decide who is approached), then criterion
rows in protocol order; within a criterion, outright contradictions (met vs not
met, eligible vs ineligible) before rows where one side was undecided; then by
patient in natural order (S2 before S10). Rows where the tool agrees with the
reference reviewer but another reviewer differs come after the tool's own
disagreements at each level, marked ``reviewers disagree``.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Optional

from nlp.schema import CriterionResult, MatchResult

OPPOSITES = ({"met", "not_met"}, {"eligible", "ineligible"})
EVIDENCE_ITEMS = 3
EVIDENCE_CHARS = 200

COLUMNS = ["rank", "level", "kind", "severity", "trial_id", "patient_id", "criterion_id", "criterion_text",
           "manual", "manual_as_written", "reviewer", "manual_row", "other_reviewers", "manual_detail",
           "tool", "tool_score", "tool_reason", "tool_evidence"]


def pretty(label: Optional[str]) -> str:
    """met/not_met/needs_review -> words a clinician reads."""
    return "" if label is None else label.replace("_", " ")


def natural_key(text: str):
    """'S2' < 'S10': digit runs compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.casefold()) for part in re.split(r"(\d+)", text) if part]


def severity(manual: str, tool: str) -> str:
    """``opposite`` for a contradiction, ``undecided`` when one side said unknown / needs review."""
    return "opposite" if {manual, tool} in OPPOSITES else "undecided"


def evidence_text(c: Optional[CriterionResult], items: int = EVIDENCE_ITEMS) -> str:
    """The tool's evidence as 'note_id: "text"' items (note excerpts: the worklist is PHI like report.html)."""
    if c is None:
        return ""
    parts = []
    for e in c.evidence[:items]:
        text = " ".join(e.text.split())
        if len(text) > EVIDENCE_CHARS:
            text = text[:EVIDENCE_CHARS - 1] + "…"
        parts.append(f'{e.note_id}: "{text}"')
    if len(c.evidence) > items:
        parts.append(f"(+{len(c.evidence) - items} more)")
    return " | ".join(parts)


def verdict_explanation(result: MatchResult) -> tuple[str, str]:
    """(reason, evidence) behind the tool's verdict: the top-level criteria that decided it."""
    top = [c for c in result.criteria if c.parent_id is None]
    if result.verdict == "ineligible":
        deciding = [c for c in top if (c.kind == "inclusion" and c.status == "not_met") or (c.kind == "exclusion" and c.status == "met")]
    elif result.verdict == "needs_review":
        deciding = [c for c in top if c.status == "unknown"]
    else:
        return f"All {len(top)} top-level criteria satisfied.", ""
    reason = "; ".join(f"{c.criterion_id} {pretty(c.status)}: {c.reason.rstrip('. ')}" for c in deciding) + "."
    evidence = " | ".join(filter(None, (evidence_text(c, 1) for c in deciding)))
    return reason, evidence


def sort_key(row: dict, order: dict[tuple[str, str], int]):
    return (0 if row["level"] == "verdict" else 1, 0 if row["kind"] == "tool vs manual" else 1, row["trial_id"],
            order.get((row["trial_id"], row["criterion_id"]), -1), 0 if row["severity"] == "opposite" else 1,
            natural_key(row["patient_id"]))


def spreadsheet_safe(value):
    """Text cells that Excel would run as a formula ("=...", "+...", "-...", "@...") get a leading apostrophe.

    The worklist is opened in spreadsheets and carries note and protocol text, which
    must not become a formula (CSV injection). Numbers are left alone.
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: list[dict], columns: list[str] = COLUMNS) -> str:
    """Rows as CSV text (every column of ``columns``, formula-safe text cells)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else spreadsheet_safe(row.get(k)) for k in columns})
    return buf.getvalue()
