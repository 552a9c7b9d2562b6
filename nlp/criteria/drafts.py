"""Drafts: constraints of one clause before they become contract models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from nlp.grammar.comparisons import Comparison
from nlp.grammar.temporal import TemporalMention
from nlp.lexicon import ConceptEntry, Mention


@dataclass
class ExceptionDraft:
    entry: Optional[ConceptEntry]
    label: str
    comparison: Optional[Comparison]
    start: int
    end: int
    mention: Optional[Mention] = None


@dataclass
class Draft:
    """A constraint before it is turned into the contract model."""

    label: str
    entry: Optional[ConceptEntry]
    parts: list[tuple[int, int]]
    mention: Optional[Mention] = None
    comparator: Optional[str] = None
    value: object = None
    value2: Optional[float] = None
    unit: Optional[str] = None
    negated: bool = False
    temporal: Optional[TemporalMention] = None
    exceptions: list[ExceptionDraft] = field(default_factory=list)
    from_label: bool = False
    comparison: Optional[Comparison] = None
    qualifiers: list[str] = field(default_factory=list)
    method: Optional[str] = None
    method_mention: Optional[Mention] = None
    experiencer: str = "patient"
    others: list[Mention] = field(default_factory=list)  # repeated mentions of the same concept

    @property
    def span(self) -> tuple[int, int]:
        return min(p[0] for p in self.parts), max(p[1] for p in self.parts)

    @property
    def anchor(self) -> int:
        return self.mention.start if self.mention else self.span[0]

    @property
    def complete(self) -> bool:
        return self.comparator is not None or self.value is not None

    def richness(self) -> tuple:
        return (self.comparator is not None, self.temporal is not None, bool(self.exceptions), not self.from_label)


@dataclass
class ClauseResult:
    drafts: list[Draft]
    logic: str
    unattached: int = 0
    links: list[str] = field(default_factory=list)  # "or"/"and" between consecutive drafts

    def disjunctions(self) -> list[set[str]]:
        """Groups of concept ids joined by 'or' ("relapsed/refractory", "AML or BPDCN")."""
        groups, current = [], []
        for i, d in enumerate(self.drafts):
            if d.entry is None:
                continue
            if current and i > 0 and self.links[i - 1] == "or":
                current.append(d.entry.id)
            else:
                if len(current) > 1:
                    groups.append(set(current))
                current = [d.entry.id]
        if len(current) > 1:
            groups.append(set(current))
        return groups




def inside(s: int, e: int, regions: list[tuple[int, int]]) -> bool:
    """True when ``[s, e)`` lies within one of ``regions``."""
    return any(a <= s and e <= b for a, b in regions)
