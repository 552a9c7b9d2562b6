"""Plain data that the note components leave on a ``Doc`` (never spaCy objects).

Every component adds to ``doc._.trialmatch_*`` extensions; ``facts.py`` turns the
records into contract ``Fact`` models. Records are slotted dataclasses, so they
pickle and cross process boundaries cheaply (Docs never do).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from spacy.tokens import Doc

Value = Union[float, str, None]


@dataclass(slots=True)
class Section:
    """A note section: its category, header span and body end (character offsets)."""

    category: Optional[str]
    start: int  # header start (or 0 for text before the first header)
    header_end: int
    end: int
    date: Optional[str] = None  # a date written in the header line ("Labs 09/08/2026:")


@dataclass(slots=True)
class FactRecord:
    """One extracted fact before it becomes a contract ``Fact``.

    ``start``/``end`` is the evidence span; ``anchor`` is the concept mention that
    assertion rules look at (for "Creatinine 2.3 mg/dL" the anchor is "Creatinine").
    """

    type: str
    concept_id: str
    start: int
    end: int
    anchor: tuple[int, int]
    value: Value = None
    value2: Optional[float] = None
    comparator: Optional[str] = None
    unit: Optional[str] = None
    reference_range: Optional[tuple[Optional[float], Optional[float]]] = None
    uln_multiple: Optional[float] = None
    uln_source: Optional[str] = None
    flag: Optional[str] = None
    specimen: Optional[str] = None
    method: Optional[str] = None
    oxygen: Optional[str] = None
    count: Optional[int] = None
    qualifier: Optional[str] = None
    polarity: Optional[str] = None  # "positive" | "negative" for results stated in the text
    assertion: str = "present"
    modifiers: tuple[str, ...] = ()
    date: Optional[str] = None
    date_source: Optional[str] = None
    date_pos: Optional[int] = None  # where a statement date was written, for dating
    section: Optional[str] = None
    sentence: Optional[tuple[int, int]] = None
    valued: bool = False  # the fact states a measured value
    extra: dict = field(default_factory=dict)


_EXTENSIONS = {
    "trialmatch_sentences": None,
    "trialmatch_sections": None,
    "trialmatch_tokens": None,
    "trialmatch_mentions": None,
    "trialmatch_dates": None,
    "trialmatch_records": None,
    "trialmatch_note_date": None,
    "trialmatch_note_id": None,
}


def note_text(doc: Doc) -> str:
    """``doc.text``, computed once per Doc (spaCy rebuilds the string on every access)."""
    text = doc.user_data.get("trialmatch_text")
    if text is None:
        text = doc.user_data["trialmatch_text"] = doc.text
    return text


def register_extensions() -> None:
    """Register the ``doc._.trialmatch_*`` extensions (idempotent)."""
    for name, default in _EXTENSIONS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)


register_extensions()
