"""Verdict: criterion trees x one patient -> per-node status, verdict, score, worklist.

A node combines its own constraints and its children by its logic (contract):
``all``: not_met if any part is not_met, else unknown if any is unknown, else
met; ``any``: met if any part is met, else unknown if any is, else not_met.
The verdict reads the top-level nodes: ineligible if an inclusion is not_met or
an exclusion is met; else needs_review if any is unknown; else eligible.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Optional

from matcher.config import MatchConfig
from matcher.evaluate import Evaluator, Outcome
from matcher.facts import PatientIndex
from nlp.schema import Concept, Criterion, CriterionResult, Fact, MatchResult, MissingItem, Protocol


_FREE_TEXT = Concept(label="free text")


def combine(logic: str, statuses: list[str]) -> str:
    """The contract's combination rule for one node."""
    if not statuses:
        return "unknown"
    if logic == "any":
        if "met" in statuses:
            return "met"
        return "unknown" if "unknown" in statuses else "not_met"
    if "not_met" in statuses:
        return "not_met"
    return "unknown" if "unknown" in statuses else "met"


def verdict_of(top: list[tuple[str, str]]) -> str:
    """``top`` holds (kind, status) of the top-level criteria."""
    if any((k == "inclusion" and s == "not_met") or (k == "exclusion" and s == "met") for k, s in top):
        return "ineligible"
    if any(s == "unknown" for _, s in top):
        return "needs_review"
    return "eligible"


@lru_cache(maxsize=1)
def _lookups() -> dict[str, str]:
    text = resources.files("matcher.resources").joinpath("lookups.csv").read_text(encoding="utf-8")
    rows = [ln.split(",", 1) for ln in text.splitlines() if ln and not ln.startswith("#")][1:]
    return {k.strip(): v.strip() for k, v in rows}


@dataclass
class _NodeOutcome:
    status: str
    reason: str
    evidence: list[Fact]
    lookups: list[str]


class ProtocolMatcher:
    """Evaluates every node of one protocol for one patient."""

    def __init__(self, protocol: Protocol, patient: PatientIndex, config: MatchConfig):
        self.protocol = protocol
        self.patient = patient
        self.config = config
        self.evaluator = Evaluator(patient, config)
        self.results: list[CriterionResult] = []
        self.outcomes: dict[str, _NodeOutcome] = {}

    def run(self) -> MatchResult:
        top = []
        for node in self.protocol.criteria:
            out = self._node(node, None)
            top.append((node.kind, out.status))
        verdict = verdict_of(top)
        return MatchResult.model_construct(trial_id=self.protocol.trial_id, patient_id=self.patient.record.patient_id,
                                           verdict=verdict, score=self._score(top, verdict), missing=self._missing(),
                                           criteria=self.results)

    def _node(self, node: Criterion, parent_id: Optional[str]) -> _NodeOutcome:
        index = len(self.results)
        self.results.append(None)  # placeholder keeps document order (parent before children)
        parts: list[tuple[str, Outcome | _NodeOutcome]] = []
        for c in node.constraints:
            parts.append((c.concept.label, self.evaluator.constraint(c, node.kind)))
        for child in node.children:
            parts.append((child.id, self._node(child, node.id)))
        if not parts:
            out = self._unsupported(node)
        else:
            status = combine(node.logic, [p.status for _, p in parts])
            out = _NodeOutcome(status, self._reason(node, status, parts), _evidence(parts), _lookups_of(parts, status))
        self.outcomes[node.id] = out
        # model_construct: every field is built here from validated models; skipping validation
        # keeps matching fast (it runs for every node of every trial for every patient).
        self.results[index] = CriterionResult.model_construct(
            criterion_id=node.id, parent_id=parent_id, kind=node.kind, text=node.text, status=out.status,
            evidence=[self.patient.evidence_of(f) for f in out.evidence],
            reason=out.reason)
        return out

    def _reason(self, node: Criterion, status: str, parts) -> str:
        if len(parts) == 1:
            return parts[0][1].reason
        wanted = status
        if node.logic == "all" and status == "met":
            if not node.children:  # a few constraints: say each one
                return " ".join(p.reason for _, p in parts)
            return f"All {len(parts)} parts met."
        if node.logic == "any" and status == "not_met":
            if not node.children:  # a few constraints: say why each one fails
                return f"None of {len(parts)} alternatives met: " + " ".join(p.reason for _, p in parts)
            return f"None of {len(parts)} alternatives met."
        name, first = next((n, p) for n, p in parts if p.status == wanted)
        lead = {"met": "Met through", "not_met": "Not met because of", "unknown": "Undecided because of"}[status]
        return f"{lead} {name}: {first.reason}"

    def _unsupported(self, node: Criterion) -> _NodeOutcome:
        from matcher.freetext import search_phrase

        hits = search_phrase(self.patient.record.notes, node.text, self.config.free_text_min_score, self.patient.sentences)
        if hits:
            note_id, s, e, score = hits[0]
            text = self.patient.record.notes[note_id].text[s:e]
            fact = Fact.model_construct(concept=_FREE_TEXT, note_id=note_id, span=(s, e), text=text, type="free_text")
            return _NodeOutcome("unknown", f"Requirement not understood; a similar sentence appears in note {note_id} (similarity {score:.0f}); please verify.", [fact], ["manual review of this criterion"])
        if node.kind == "exclusion" and self.config.absence.exclusion_free_text != "unknown":
            return _NodeOutcome(self.config.absence.exclusion_free_text, "Requirement not understood by the parser and nothing like it appears in the notes (absence policy for exclusions).", [], [])
        return _NodeOutcome("unknown", "Requirement not understood by the parser; please review manually.", [], ["manual review of this criterion"])

    def _score(self, top: list[tuple[str, str]], verdict: str) -> float:
        if not top:
            return 0.0
        w = self.config.score_weights
        total = 0.0
        for kind, status in top:
            satisfied = status if kind == "inclusion" else {"met": "not_met", "not_met": "met", "unknown": "unknown"}[status]
            total += w.get(satisfied, 0.0)
        score = total / len(top)
        if verdict == "ineligible":
            score *= self.config.ineligible_score_factor
        return round(score, 6)

    def _missing(self) -> list[MissingItem]:
        out, seen = [], set()
        for node in self.protocol.criteria:
            outcome = self.outcomes[node.id]
            if outcome.status != "unknown":
                continue
            for what in outcome.lookups or ["review: " + node.text[:80]]:
                key = (node.id, what)
                if key not in seen:
                    seen.add(key)
                    out.append(MissingItem.model_construct(criterion_id=node.id, what=what))
        return out


def _evidence(parts) -> list[Fact]:
    """A node's own constraints' evidence, plus a little of its children's (they list the rest)."""
    out, seen = [], set()
    for _, p in sorted(parts, key=lambda part: isinstance(part[1], _NodeOutcome)):
        budget = 8 if not isinstance(p, _NodeOutcome) else 3
        for f in p.evidence:
            key = (f.note_id, f.span)
            if key not in seen and budget > 0 and len(out) < 8:
                seen.add(key)
                out.append(f)
                budget -= 1
    return out


def _lookups_of(parts, status: str) -> list[str]:
    if status != "unknown":
        return []
    table = _lookups()
    out = []
    for name, p in parts:
        if p.status != "unknown":
            continue
        if isinstance(p, _NodeOutcome):
            out.extend(p.lookups)
        elif p.lookup:
            out.append(table.get(p.lookup, p.lookup.replace("_", " ")))
        else:
            out.append(f"check: {name}")
    return list(dict.fromkeys(out))
