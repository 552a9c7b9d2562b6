"""A cheap, exact pre-check for the comparator grammar's end-anchored prefix search.

``comparisons._prefix_op`` searches the 60 characters before every number with a
large ``PHRASE \\s*:?\\s* (FILLER \\s+)* $`` pattern. Python's ``re`` tries that at every
start position, which dominated note processing (notes have many numbers and
few comparators). This module answers "could any prefix phrase end here?" with a
few string operations, so the costly search only runs when it can succeed.

The check is a necessary condition, never a sufficient one: the cut points are
every position where ``\\s*:?\\s*(FILLER\\s+)*$`` can start, and a phrase must end
at one of them with one of its possible last chunks (its text after its last space).

:func:`first_char_class` is the same idea for a large alternation matched at one
position (the unit table): the characters a match can start with, read from the
parsed pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

# CPython's regex parser (re._parser; sre_parse on 3.10). It only serves a speed-up: without it,
# or if its shapes change, first_char_class says "cannot tell" and every pattern is used as is.
try:
    import re._constants as sre
    import re._parser as sre_parse
except ImportError:
    try:
        import sre_constants as sre  # type: ignore[no-redef]
        import sre_parse  # type: ignore[no-redef]
    except ImportError:
        sre = sre_parse = None  # type: ignore[assignment]

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


# -- first characters of a regex ---------------------------------------------------------------

def first_char_class(pattern: str, flags: int = 0) -> Optional[str]:
    """A character class (regex source) holding every character a match of ``pattern`` can start
    with, or None when that cannot be told (negated classes, "." and the like, or an empty match).

    Matching the class first is a cheap exact pre-check for a large alternation, which
    ``re`` otherwise tries alternative by alternative at every position where it fails.
    """
    if sre_parse is None:
        return None
    try:
        first = _first(sre_parse.parse(pattern, flags).data, flags)
    except (re.error, AttributeError, TypeError, ValueError, IndexError):
        return None
    if first is None or first[1] or not first[0]:
        return None
    return "[" + "".join(sorted(set(first[0]))) + "]"


_REPEATS = tuple(getattr(sre, n) for n in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(sre, n))
_CATEGORIES = ({getattr(sre, "CATEGORY_" + n): c for n, c in (("SPACE", r"\s"), ("DIGIT", r"\d"), ("WORD", r"\w"))
                if hasattr(sre, "CATEGORY_" + n)} if sre is not None else {})


def _first(items, flags: int) -> Optional[tuple[list[str], bool]]:
    """(class fragments, nullable) of a parsed sequence; None when unknown."""
    out: list[str] = []
    for op, av in items:
        nullable = False
        if op is sre.LITERAL:
            out.append(re.escape(chr(av)))
        elif op is sre.IN:
            for kind, value in av:
                if kind is sre.LITERAL:
                    out.append(re.escape(chr(value)))
                elif kind is sre.RANGE:
                    out.append(re.escape(chr(value[0])) + "-" + re.escape(chr(value[1])))
                elif kind is sre.CATEGORY and value in _CATEGORIES:
                    out.append(_CATEGORIES[value])
                else:
                    return None
        elif op is sre.BRANCH:
            for branch in av[1]:
                sub = _first(branch.data, flags)
                if sub is None:
                    return None
                out.extend(sub[0])
                nullable = nullable or sub[1]
        elif op is sre.SUBPATTERN:
            if av[1] & ~flags & (re.IGNORECASE | re.UNICODE | re.LOCALE):
                return None  # a group matching more widely than the class would (its flags differ)
            sub = _first(av[3].data, flags)
            if sub is None:
                return None
            out.extend(sub[0])
            nullable = sub[1]
        elif op in _REPEATS:
            sub = _first(av[2].data, flags)
            if sub is None:
                return None
            out.extend(sub[0])
            nullable = sub[1] or av[0] == 0
        elif op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            nullable = True  # zero-width
        else:
            return None
        if not nullable:
            return out, False
    return out, True


_GLOBAL_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")


def fail_fast(pattern: str, flags: int = 0) -> str:
    """``pattern`` behind a lookahead for its possible first characters, when those can be told.

    The same matches; a search then fails fast at most positions instead of trying a
    leading word boundary or lookbehind and every alternative there.
    """
    if flags & re.VERBOSE or _GLOBAL_FLAGS.match(pattern):
        return pattern  # a trailing comment would swallow the wrapper; global inline flags must stay first
    first = first_char_class(pattern, flags)
    if first is None:
        return pattern
    return f"(?={first})(?:{pattern})"
