"""Giving each spreadsheet row a meaning: which trial, patient, criterion, reviewer and label.

A row that cannot be placed (unknown trial or patient, a criterion that matches
nothing or several, a label the mapping does not know, a repeat) becomes an
:class:`Unmatched` record with the reason. Rows are never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from matcher.review.criteria_match import MIN_SCORE, find_by_id, find_by_text
from matcher.review.inputs import ToolSide
from matcher.review.labels import NOT_APPLICABLE, LabelMap
from matcher.review.manual import ManualSheet, RawRow

DEFAULT_REVIEWER = "manual"


@dataclass
class ManualLabel:
    """One usable manual judgement. ``criterion_id`` None means the overall verdict."""

    trial_id: str
    patient_id: str
    criterion_id: Optional[str]
    label: str  # met/not_met/unknown, or eligible/ineligible/needs_review
    raw: str
    reviewer: str
    row: Union[int, str]


@dataclass
class Unmatched:
    row: Union[int, str]
    reviewer: str
    trial_id: str
    patient_id: str
    criterion: str
    label: str
    reason: str


@dataclass
class CriterionMatchReport:
    """How one distinct written criterion text was matched (reported, so a human can check it)."""

    trial_id: str
    written: str
    criterion_id: Optional[str]
    criterion_text: Optional[str]
    score: float
    runner_up_id: Optional[str]
    runner_up_score: Optional[float]
    rows: int = 0
    reason: str = ""


@dataclass
class Aligned:
    labels: list[ManualLabel] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    matches: list[CriterionMatchReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)  # in order of first appearance


def align(sheet: ManualSheet, tool: ToolSide, labels: LabelMap, min_score: float = MIN_SCORE) -> Aligned:
    """Resolve every row of ``sheet`` against ``tool``; see the module docstring."""
    out = Aligned(notes=list(sheet.notes))
    if sheet.blank_rows:
        out.notes.append(f"{sheet.blank_rows} blank row(s) skipped")
    resolver = _Resolver(tool, labels, min_score, out)
    seen: dict[tuple, ManualLabel] = {}
    for raw in sheet.rows:
        reviewer = raw.reviewer or DEFAULT_REVIEWER
        if reviewer not in out.reviewers:
            out.reviewers.append(reviewer)
        result = resolver.resolve(raw, reviewer)
        if isinstance(result, str):
            out.unmatched.append(_unmatched(raw, reviewer, result))
            continue
        key = (result.trial_id, result.patient_id, result.criterion_id, reviewer)
        first = seen.get(key)
        if first is not None:
            why = "same label as" if first.label == result.label else f"different label from ({_show(first.label)} in)"
            out.unmatched.append(_unmatched(raw, reviewer, f"repeats an earlier row with {why} row {first.row}; the first is used"))
            continue
        seen[key] = result
        out.labels.append(result)
    out.matches = sorted(resolver.reports.values(), key=lambda m: (m.trial_id, m.criterion_id is None, m.written.casefold()))
    return out


def _show(label: str) -> str:
    return label.replace("_", " ")


def _unmatched(raw: RawRow, reviewer: str, reason: str) -> Unmatched:
    return Unmatched(row=raw.row, reviewer=reviewer, trial_id=raw.trial_id, patient_id=raw.patient_id,
                     criterion=raw.criterion or raw.criterion_text, label=raw.status or raw.verdict, reason=reason)


class _Resolver:
    def __init__(self, tool: ToolSide, labels: LabelMap, min_score: float, out: Aligned):
        self.tool, self.labels, self.min_score, self.out = tool, labels, min_score, out
        self.reports: dict[tuple[str, str], CriterionMatchReport] = {}
        self.patients: dict[str, dict[str, str]] = {}
        for trial, pid in tool.results:
            self.patients.setdefault(trial, {})[pid] = pid
        self._assumed_trial_noted = False

    def resolve(self, raw: RawRow, reviewer: str) -> Union[ManualLabel, str]:
        """A :class:`ManualLabel`, or the reason the row cannot be used."""
        trial = self._trial(raw.trial_id)
        if trial is None:
            return f"trial '{raw.trial_id}' is not in RESULTS" if raw.trial_id else "no trial_id and RESULTS has several trials"
        if not raw.patient_id:
            return "no patient_id"
        patient = self._patient(trial, raw.patient_id)
        if patient is None:
            return f"no result for patient '{raw.patient_id}' in trial '{trial}'"
        cell = raw.criterion or raw.criterion_text
        if not cell or self.labels.is_verdict_row_name(cell):
            written = raw.verdict or raw.status
            verdict = self.labels.verdict_of(written)
            if verdict is None:
                return f"verdict label '{written}' not understood" if written else "no verdict label"
            if verdict == NOT_APPLICABLE:
                return f"verdict marked not applicable ('{written}'); not compared"
            return ManualLabel(trial, patient, None, verdict, written, reviewer, raw.row)
        info = self._criterion(trial, raw)
        if isinstance(info, str):
            return info
        result = self.tool.results[(trial, patient)]
        if not any(c.criterion_id == info.criterion_id for c in result.criteria):
            return f"the tool's result for this patient has no criterion {info.criterion_id}"
        written = raw.status or raw.verdict  # a sheet may keep pass/fail in an "eligibility" column
        status = self.labels.status_of(written, info.kind)
        if status is None:
            return f"status label '{written}' not understood" if written else "no status label"
        if status == NOT_APPLICABLE:
            return f"criterion marked not applicable ('{written}'); not compared"
        return ManualLabel(trial, patient, info.criterion_id, status, written, reviewer, raw.row)

    def _trial(self, written: str) -> Optional[str]:
        trials = self.tool.trials()
        if not written:
            if len(trials) == 1:
                if not self._assumed_trial_noted:
                    self.out.notes.append(f"rows without trial_id were taken to be trial '{trials[0]}' (the only one in RESULTS)")
                    self._assumed_trial_noted = True
                return trials[0]
            return None
        if written in self.tool.catalog:
            return written
        folded = [t for t in trials if t.casefold() == written.casefold()]
        return folded[0] if len(folded) == 1 else None

    def _patient(self, trial: str, written: str) -> Optional[str]:
        known = self.patients.get(trial, {})
        if written in known:
            return written
        # Spreadsheets change case and drop leading zeros ("007" -> "7").
        hits = [p for p in known if p.casefold() == written.casefold()
                or (p.isdigit() and written.isdigit() and int(p) == int(written))]
        return hits[0] if len(hits) == 1 else None

    def _criterion(self, trial: str, raw: RawRow):
        table = self.tool.catalog.get(trial, {})
        for cell in (raw.criterion, raw.criterion_text):
            if cell:
                info = find_by_id(cell, table)
                if info is not None:
                    return info
        written = raw.criterion_text or raw.criterion
        key = (trial, written)
        report = self.reports.get(key)
        if report is None:
            m = find_by_text(written, table, self.min_score)
            report = CriterionMatchReport(
                trial_id=trial, written=written, criterion_id=m.info.criterion_id if m.info else None,
                criterion_text=m.info.text if m.info else None, score=m.score,
                runner_up_id=m.runner_up.criterion_id if m.runner_up else None, runner_up_score=m.runner_up_score,
                reason=m.reason)
            self.reports[key] = report
        report.rows += 1
        if report.criterion_id is None:
            return f"criterion '{written}' not matched: {report.reason}"
        return table[report.criterion_id]
