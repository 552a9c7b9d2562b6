"""Text normalization with an offset map back to the original string.

Every later stage works on ``NormalizedText.text`` and reports spans in the
original text through :meth:`NormalizedText.to_original`. Each rule replaces
a match by at most one character, so the map is a pair of arrays: for every
normalized character, where its source starts and ends in the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

# One character out per match; the source span of the match maps to it.
_RULES: Sequence[tuple[str, str]] = (
    (r"\r\n?", "\n"),
    # ClinicalTrials.gov markdown escapes: "2\)", "4\.", "\>", "\-"
    (r"\\([()\[\].><*_\-#+!|~=])", r"\1"),
    (r"[\u00a0\u2000-\u200a\u202f\u205f\u3000\t\f\v]", " "),
    (r"[\u2010-\u2015\u2212\ufe63\uff0d]", "-"),
    (r"[\u2018\u2019\u201a\u2032]", "'"),
    (r"[\u201c\u201d\u201e\u2033]", '"'),
    (r"\u03bc", "\u00b5"),  # Greek mu -> micro sign
    (r"\uff1c", "<"),
    (r"\uff1e", ">"),
    (r"[\u2266\u2a7d]", "\u2264"),
    (r"[\u2267\u2a7e]", "\u2265"),
    (r"\uff05", "%"),
    (r"[\uff5e\u301c]", "~"),
    (r"[\u200b\u200c\u200d\ufeff]", ""),
)
_RULE_RE = re.compile("|".join(f"(?:{p})" for p, _ in _RULES))
_COMPILED = [(re.compile(p), r) for p, r in _RULES]


def _replacement(match: re.Match) -> str:
    piece = match.group(0)
    for pattern, repl in _COMPILED:
        m = pattern.fullmatch(piece)
        if m:
            return m.expand(repl)
    return piece  # pragma: no cover - the alternation only matches rule patterns


@dataclass(frozen=True)
class NormalizedText:
    """A normalized string with the map of each character back to the original."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalized ``[start, end)`` span to the original text."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}:{end} outside normalized text of length {len(self.text)}")
        if start == end:
            pos = self.starts[start] if start < len(self.text) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]

    def original_text(self, start: int, end: int) -> str:
        """The original substring behind a normalized span."""
        s, e = self.to_original(start, end)
        return self.original[s:e]

    def from_original(self, pos: int) -> int:
        """The first normalized index whose source starts at or after ``pos``."""
        lo, hi = 0, len(self.starts)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.starts[mid] < pos:
                lo = mid + 1
            else:
                hi = mid
        return lo


def normalize(original: str) -> NormalizedText:
    """Normalize line breaks, markdown escapes, spaces, dashes and look-alike symbols.

    >>> n = normalize("2\\\\) ALT \\u2264 3\\r\\n")
    >>> n.text
    '2) ALT \\u2264 3\\n'
    >>> n.original_text(0, 2)
    '2\\\\)'
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in _RULE_RE.finditer(original):
        if m.start() > pos:
            out.append(original[pos:m.start()])
            starts.extend(range(pos, m.start()))
            ends.extend(range(pos + 1, m.start() + 1))
        repl = _replacement(m)
        if repl:
            out.append(repl)
            starts.append(m.start())
            ends.append(m.end())
        pos = m.end()
    if pos < len(original):
        out.append(original[pos:])
        starts.extend(range(pos, len(original)))
        ends.extend(range(pos + 1, len(original) + 1))
    return NormalizedText(original, "".join(out), tuple(starts), tuple(ends))


def trim_span(text: str, start: int, end: int, chars: str = " \t\r\n") -> tuple[int, int]:
    """Shrink ``[start, end)`` so it neither starts nor ends with any of ``chars``."""
    while start < end and text[start] in chars:
        start += 1
    while end > start and text[end - 1] in chars:
        end -= 1
    return start, end
