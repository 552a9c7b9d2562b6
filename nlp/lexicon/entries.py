"""Concept entries and the loader of the curated lexicon files.

``resources/lexicon/measurements.csv`` holds everything measured (labs, vitals,
cardiac, performance status, age, life expectancy, blasts) with units and
default reference ranges; ``concepts.csv`` holds conditions, disease status,
biomarkers, therapies and other concepts with codes and a hierarchy;
``general.csv`` (same columns) holds general concepts of every specialty that the
open terminologies miss (procedures, function tests, scores).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from nlp.data import load_csv

# Criterion categories whose concepts are measured values.
_MEASURED_DOMAIN = {
    "lab": "measurement", "vital": "measurement", "cardiac": "measurement",
    "disease_status": "measurement", "performance_status": "observation",
    "life_expectancy": "observation", "demographic": "demographic",
}


@dataclass
class ConceptEntry:
    """One concept of the lexicon, with its synonyms and what is known about it."""

    id: str
    label: str
    category: str
    type: str
    domain: str
    codes: tuple[tuple[str, str], ...] = ()
    parents: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    unit: Optional[str] = None
    ref_low: Optional[float] = None
    ref_high: Optional[float] = None
    molar_mass: Optional[float] = None
    source: str = "curated"
    extra: dict = field(default_factory=dict)

    @property
    def measured(self) -> bool:
        """True for concepts that carry a numeric value (labs, vitals, scores)."""
        return self.source in ("curated-measurement", "pattern-measurement")


def _float(text: str) -> Optional[float]:
    text = (text or "").strip()
    return float(text) if text else None


def _codes(text: str) -> tuple[tuple[str, str], ...]:
    out = []
    for part in (text or "").split(";"):
        part = part.strip()
        if part:
            system, _, code = part.partition(":")
            out.append((system, code))
    return tuple(out)


def _list(text: str, sep: str = ";") -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(sep) if p.strip())


def load_curated() -> list[ConceptEntry]:
    """Read the curated lexicon files, measurements first."""
    entries: list[ConceptEntry] = []
    for row in load_csv("lexicon/measurements.csv"):
        category = row["category"]
        entries.append(ConceptEntry(
            id=row["id"], label=row["label"], category=category, type=row["type"] or category,
            domain=_MEASURED_DOMAIN.get(category, "measurement"), codes=_codes(row["codes"]),
            synonyms=_list(row["synonyms"], "|"), unit=row["unit"] or None,
            ref_low=_float(row["ref_low"]), ref_high=_float(row["ref_high"]),
            molar_mass=_float(row["molar_mass"]), source="curated-measurement",
        ))
    seen = {e.id for e in entries}
    for name in ("lexicon/concepts.csv", "lexicon/general.csv"):
        for row in load_csv(name):
            if row["id"] in seen:
                continue  # the first file to define an id owns it
            seen.add(row["id"])
            measured = name.endswith("general.csv") and row["domain"] == "measurement"
            entries.append(ConceptEntry(
                id=row["id"], label=row["label"], category=row["category"], type=row["type"] or row["category"],
                domain=row["domain"], codes=_codes(row["codes"]), parents=_list(row["parents"]),
                members=_list(row["members"]), related=_list(row["related"]), synonyms=_list(row["synonyms"], "|"),
                source="curated-measurement" if measured else "curated",
            ))
    forms: dict[str, list[str]] = {}
    for form, concept in absent_forms().items():
        forms.setdefault(concept, []).append(form)
    for e in entries:
        if e.id in forms:  # "afebrile" is found as fever, then negated (see absent_forms)
            e.synonyms = e.synonyms + tuple(f for f in forms[e.id] if f not in e.synonyms)
    return entries


@lru_cache(maxsize=1)
def absent_forms() -> dict[str, str]:
    """Lower-cased words that name a concept's absence, and that concept ("afebrile" -> "fever")."""
    return {row["form"].lower(): row["concept"] for row in load_csv("lexicon/absent_forms.csv")}


@lru_cache(maxsize=1)
def _absent_keys() -> dict[str, str]:
    return {_form_key(f): concept for f, concept in absent_forms().items()}


def _form_key(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").split())  # "non-smoker" = "non smoker"


def is_absent_form(mention_text: str, concept_id: str) -> bool:
    """Whether a mention of ``concept_id`` is written in a form naming its absence ("afebrile" for fever).
    A user's own concept "afebrile" is no such form: it is present when the patient is afebrile."""
    return _absent_keys().get(_form_key(mention_text)) == concept_id


def load_stop_phrases() -> tuple[str, ...]:
    """Phrases that block concept matches inside them ("tumor cells")."""
    return tuple(row["phrase"] for row in load_csv("lexicon/stopphrases.csv"))
