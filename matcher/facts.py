"""A patient's facts indexed for matching: by concept, hierarchy, regimen member and code.

``PatientRecord`` is what the matcher reads: the extracted facts plus the note
texts (for evidence in context and free-text search) and dates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Optional

from nlp.lexicon import ConceptIndex
from nlp.schema import Fact


@dataclass
class NoteInfo:
    note_id: str
    text: str
    date: Optional[str] = None
    note_type: Optional[str] = None


@dataclass
class PatientRecord:
    """Everything known about one patient: facts and the notes they came from."""

    patient_id: str
    facts: list[Fact]
    notes: dict[str, NoteInfo] = field(default_factory=dict)

    @property
    def reference_date(self) -> Optional[str]:
        """The newest note date: "now" for time windows."""
        dates = [n.date for n in self.notes.values() if n.date]
        return max(dates) if dates else None


@dataclass(frozen=True)
class Related:
    fact: Fact
    route: str  # same concept | hierarchy | regimen member | shared code | finding
    polarity: Optional[str] = None  # set when the route itself says has/lacks (a normal ECG lacks an ECG abnormality)


@lru_cache(maxsize=1)
def knowledge() -> dict:
    """``matcher/resources/implications.json``: value polarity, findings, implications."""
    text = resources.files("matcher.resources").joinpath("implications.json").read_text(encoding="utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def fact_order(fact: Fact, position: int = 0) -> tuple:
    """Sort key: older first; undated facts count as oldest."""
    return (fact.date or "", fact.note_id, fact.span[0], position)


class PatientIndex:
    """Facts of one patient, looked up by a criterion concept."""

    def __init__(self, record: PatientRecord, index: ConceptIndex):
        self.record = record
        self.index = index
        self._by_key: dict[str, list[Related]] = {}
        self._by_code: dict[tuple[str, str], list[Fact]] = {}
        ordered = sorted(enumerate(record.facts), key=lambda p: fact_order(p[1], p[0]))
        self.facts = [f for _, f in ordered]
        for fact in self.facts:
            cid = fact.concept.id
            if cid:
                self._add(cid, fact, "same concept")
                for ancestor in _ancestors(index, cid):
                    self._add(ancestor, fact, "hierarchy")
                entry = index.get(cid)
                for member in (entry.members if entry else ()):
                    self._add(member, fact, "regimen member")
                finding = knowledge()["findings"].get(cid)
                if finding and isinstance(fact.value, str):
                    polarity = knowledge()["value_polarity"].get(fact.value.strip().lower())
                    if polarity in ("has", "lacks"):
                        self._by_key.setdefault(finding, []).append(Related(fact, "test result", polarity))
            for code in fact.concept.codes:
                self._by_code.setdefault((code.system, code.code), []).append(fact)

    def _add(self, key: str, fact: Fact, route: str) -> None:
        self._by_key.setdefault(key, []).append(Related(fact, route))

    def related(self, concept_id: Optional[str], codes=()) -> list[Related]:
        """Facts about this concept or a narrower one, oldest first."""
        out = list(self._by_key.get(concept_id, [])) if concept_id else []
        seen = {id(r.fact) for r in out}
        for code in codes:
            for fact in self._by_code.get((code.system, code.code), []):
                if id(fact) not in seen:
                    seen.add(id(fact))
                    out.append(Related(fact, "shared code"))
        out.sort(key=lambda r: fact_order(r.fact))
        return out

    @property
    def n_notes(self) -> int:
        return max(1, len(self.record.notes)) if self.record.notes else len({f.note_id for f in self.facts})


def _ancestors(index: ConceptIndex, concept_id: str) -> tuple[str, ...]:
    """Ancestors of a concept, memoized on the index (the hierarchy never changes at run time)."""
    cache = index.__dict__.setdefault("_ancestor_cache", {})
    hit = cache.get(concept_id)
    if hit is None:
        hit = cache[concept_id] = tuple(index.ancestors(concept_id))
    return hit
