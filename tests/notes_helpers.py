"""Helpers shared by the notes tests: one pipeline per session, and fact lookups."""

from __future__ import annotations

from functools import lru_cache

from nlp.schema import Fact


@lru_cache(maxsize=1)
def pipeline():
    from nlp.pipeline import load_pipeline

    return load_pipeline()


def facts(text: str, date: str = "2026-03-12", note_id: str = "n1") -> list[Fact]:
    from nlp.pipeline import extract_note

    return extract_note(text, note_id, date, nlp=pipeline())


def only(found: list[Fact], concept_id: str, **where) -> Fact:
    """The single fact of a concept (optionally with given field values); fails loudly otherwise."""
    hits = [f for f in found if f.concept.id == concept_id and all(getattr(f, k) == v for k, v in where.items())]
    assert len(hits) == 1, f"{concept_id}: {[(f.text, f.value, f.assertion) for f in hits]} of {[(f.concept.id, f.text) for f in found]}"
    return hits[0]


def of(found: list[Fact], concept_id: str) -> list[Fact]:
    return [f for f in found if f.concept.id == concept_id]
