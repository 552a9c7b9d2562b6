"""A cheap, exact pre-check for the comparator grammar's end-anchored prefix search.

``comparisons._prefix_op`` searches the 60 characters before every number with a
large ``PHRASE \\s*:?\\s* (FILLER \\s+)* $`` pattern. Python's ``re`` tries that at every
start position, which dominated note processing (notes have many numbers and
few comparators). This module answers "could any prefix phrase end here?" with a
few string operations, so the costly search only runs when it can succeed.

The check is a necessary condition, never a sufficient one: the cut points are
every position where ``\\s*:?\\s*(FILLER\\s+)*$`` can start, and a phrase must end
at one of them with one of its possible last chunks (its text after its last space).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

_OPTIONAL_GROUP = re.compile(r"\(\?:([^()]*)\)\?")
_UNSUPPORTED = re.compile(r"[\[\]|*+{}^$]|\\[^.]")


@dataclass(frozen=True)
class PrefixFilter:
    """The possible last chunks of the prefix phrases ("than", "min.", ">="), and the fillers."""

    tails: tuple[str, ...]
    fillers: tuple[str, ...]

    def may_match(self, window: str) -> bool:
        """False only when no prefix phrase can end right before the window's end."""
        low = window.lower()
        return any(p and low.endswith(self.tails, 0, p) for p in _cut_points(low, self.fillers))


def _variants(fragment: str) -> list[str]:
    """Expand ``(?:x)?`` groups and ``c?`` optional characters into plain strings."""
    m = _OPTIONAL_GROUP.search(fragment)
    if m:
        with_group = fragment[:m.start()] + m.group(1) + fragment[m.end():]
        without = fragment[:m.start()] + fragment[m.end():]
        return _variants(with_group) + _variants(without)
    q = fragment.find("?")
    if q > 0:
        cut = q - 2 if q >= 2 and fragment[q - 2] == "\\" else q - 1
        return _variants(fragment[:q] + fragment[q + 1:]) + _variants(fragment[:cut] + fragment[q + 1:])
    return [fragment.replace("\\.", ".")]


def build_prefix_filter(phrases: Iterable[str], fillers: Iterable[str]) -> Optional[PrefixFilter]:
    """The filter for these phrase fragments, or None when a fragment uses syntax it cannot read."""
    tails = set()
    for phrase in phrases:
        # Spaces never end a phrase's match (it ends in a word or a symbol), so \s+ and \s*
        # can both read as one space here.
        phrase = phrase.replace("\\s+", " ").replace("\\s*", " ")
        if _UNSUPPORTED.search(phrase):
            return None
        for variant in _variants(phrase):
            chunks = variant.lower().split()
            if not chunks:
                return None
            tails.add(chunks[-1])  # no space inside: a literal suffix of every such match
    return PrefixFilter(tuple(sorted(tails)), tuple(f.lower() for f in fillers))


def _cut_points(low: str, fillers: tuple[str, ...]) -> list[int]:
    """Every ``p`` where ``low[p:]`` matches ``\\s*:?\\s*(?:(?:FILLER)\\s+)*$``."""
    frontier, seen = [len(low)], set()
    while frontier:
        e = frontier.pop()
        if e in seen:
            continue
        seen.add(e)
        j = e
        while j > 0 and low[j - 1].isspace():
            j -= 1
        if j < e and low.endswith(fillers, 0, j):  # a filler needs at least one following space
            frontier.extend(j - len(f) for f in fillers if low.endswith(f, 0, j))
    points = set()
    for e in seen:
        j = e
        points.add(j)
        while j > 0 and low[j - 1].isspace():
            j -= 1
            points.add(j)
        if j > 0 and low[j - 1] == ":":
            j -= 1
            points.add(j)
            while j > 0 and low[j - 1].isspace():
                j -= 1
                points.add(j)
    return sorted(points)
