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
from nlp.schema import Evidence, Fact


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
        self._memo: dict[tuple, list[Related]] = {}
        self._entries: dict[str, object] = {}
        self._evidence: dict[int, Evidence] = {}
        self._keep: list[Fact] = []
        self._newest_status = False  # computed on first use
        self._sentences: dict[str, list[tuple[int, int]]] = {}
        ordered = sorted(enumerate(record.facts), key=lambda p: fact_order(p[1], p[0]))
        self.facts = [f for _, f in ordered]
        for fact in self.facts:
            cid = fact.concept.id
            if cid:
                self._add(cid, fact, "same concept")
                for ancestor in ancestors_of(index, cid):
                    self._add(ancestor, fact, "hierarchy")
                entry = index.get(cid)
                for member in (entry.members if entry else ()):
                    self._add(member, fact, "regimen member")
                if fact.assertion == "present":
                    for target in knowledge()["establishes"].get(cid, ()):
                        self._add(target, fact, "implication")
                finding = knowledge()["findings"].get(cid)
                if finding and isinstance(fact.value, str):
                    polarity = knowledge()["value_polarity"].get(fact.value.strip().lower())
                    if polarity in ("has", "lacks"):
                        self._by_key.setdefault(finding, []).append(Related(fact, "test result", polarity))
            for code in fact.concept.codes:
                self._by_code.setdefault((code.system, code.code), []).append(fact)
        self.classified: dict[str, tuple[str, list[str]]] = {}  # condition -> (criteria set, items met)
        self.classified_by_route: dict[str, str] = {}  # route text -> condition
        self._classify()

    def _classify(self) -> None:
        """Conditions established by their classification criteria (SLE from 4 SLICC items)."""
        for target, spec in knowledge().get("classification_criteria", {}).items():
            if target.startswith("_") or any(r.fact.assertion not in ("family", "hypothetical") for r in self._by_key.get(target, ())):
                continue  # the patient's condition is documented (or denied) as such: the note's own words win
            met: dict[str, tuple[str, Fact]] = {}
            for item in spec["items"]:
                for concept in item["concepts"]:
                    fact = next((r.fact for r in self._by_key.get(self.index.resolve(concept), ()) if _affirms(r.fact)), None)
                    if fact is not None:
                        met[item["item"]] = (item["group"], fact)
                        break
            groups = [g for g, _ in met.values()]
            if len(met) < spec["min"] or any(groups.count(g) < n for g, n in spec.get("min_per_group", {}).items()):
                continue
            self.classified[target] = (spec["name"], list(met))
            route = f"classification criteria ({len(met)} {spec['name']} items: {', '.join(met)})"
            self.classified_by_route[route] = target
            for key in (target, *ancestors_of(self.index, target)):
                for _, fact in met.values():
                    self._add(key, fact, route)

    def _add(self, key: str, fact: Fact, route: str) -> None:
        self._by_key.setdefault(key, []).append(Related(fact, route))

    def related(self, concept_id: Optional[str], codes=()) -> list[Related]:
        """Facts about this concept or a narrower one, oldest first (memoized: a patient is
        matched against many criteria and trials)."""
        key = (concept_id, tuple((c.system, c.code) for c in codes))
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        out = list(self._by_key.get(concept_id, [])) if concept_id else []  # already in fact order
        seen = {id(r.fact) for r in out}
        extra = False
        for code in codes:
            for fact in self._by_code.get((code.system, code.code), []):
                if id(fact) not in seen:
                    seen.add(id(fact))
                    out.append(Related(fact, "shared code"))
                    extra = True
        if extra:
            out.sort(key=lambda r: fact_order(r.fact))
        self._memo[key] = out
        return out

    def evidence_of(self, fact: Fact) -> Evidence:
        """The contract's Evidence item for a fact, built once and shared by every node citing it."""
        key = id(fact)
        ev = self._evidence.get(key)
        if ev is None:
            ev = self._evidence[key] = Evidence.model_construct(note_id=fact.note_id, start=fact.span[0], end=fact.span[1], text=fact.text)
            self._keep.append(fact)  # id() stays unique while the fact is alive
        return ev

    def entry(self, concept_id: Optional[str]):
        """The lexicon entry of a concept id (memoized)."""
        if not concept_id:
            return None
        if concept_id not in self._entries:
            self._entries[concept_id] = self.index.get(concept_id)
        return self._entries[concept_id]

    def lookup(self, phrase: str):
        """The lexicon entry whose synonym is ``phrase`` (memoized)."""
        key = "\x00" + phrase
        if key not in self._entries:
            self._entries[key] = self.index.lookup(phrase)
        return self._entries[key]

    @property
    def newest_status_date(self) -> Optional[str]:
        """Date of the newest affirmed disease-status statement ('' when undated), or None."""
        if self._newest_status is False:
            dates = [f.date or "" for f in self.facts if f.type == "disease_status" and f.assertion in ("present", "historical")]
            self._newest_status = max(dates) if dates else None
        return self._newest_status

    def sentences(self, note_id: str) -> list[tuple[int, int]]:
        """Sentence spans of a note, computed once."""
        if note_id not in self._sentences:
            from matcher.freetext import sentences

            self._sentences[note_id] = sentences(self.record.notes[note_id].text)
        return self._sentences[note_id]

    @property
    def n_notes(self) -> int:
        return max(1, len(self.record.notes)) if self.record.notes else len({f.note_id for f in self.facts})


def _affirms(fact: Fact) -> bool:
    """A present fact that is not a negative test result."""
    if fact.assertion != "present":
        return False
    polarity = knowledge()["value_polarity"].get(fact.value.strip().lower()) if isinstance(fact.value, str) else None
    return polarity != "lacks"


def ancestors_of(index: ConceptIndex, concept_id: str) -> tuple[str, ...]:
    """Ancestors of a concept, memoized on the index (the hierarchy never changes at run time)."""
    cache = index.__dict__.setdefault("_ancestor_cache", {})
    hit = cache.get(concept_id)
    if hit is None:
        hit = cache[concept_id] = tuple(index.ancestors(concept_id))
    return hit
