"""Clauses: cutting an item's text into requirements, labels and conjuncts.

All functions take and return normalized-text offsets.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from nlp.data import load_json

_ABBREV_END = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|approx|incl|excl|Dr|Mr|Mrs|Ms|No|St|Fig|cf|al|min|max|mo|wk|yr|hr|sec)|\b[A-Z]|\d)\.$")
_LABEL = re.compile(r"(?P<label>[^:;,.()\[\]\n]{1,48}?)\s*:\s+(?=\S)")
_TRIM = " \t\n;,."


@lru_cache(maxsize=1)
def cues() -> dict:
    """The clause cue table (``resources/criteria/clauses.json``)."""
    spec = load_json("criteria/clauses.json")
    return {
        "any_leadin": re.compile("|".join(spec["any_leadin"]), re.IGNORECASE),
        "all_leadin": re.compile("|".join(spec["all_leadin"]), re.IGNORECASE),
        "label_semantics": {cat: kind for kind, cats in spec["label_semantics"].items() for cat in cats},
        "priority": spec["category_priority"],
        "keywords": {k: re.compile(v, re.IGNORECASE) for k, v in spec["category_keywords"].items()},
        "sex": {k: re.compile("|".join(v), re.IGNORECASE) for k, v in spec["sex_values"].items()},
        "count_units": set(spec["count_units"]),
        "count_default": spec["count_default_comparator"],
        "exception": re.compile(r"(?<![A-Za-z])(?:" + "|".join(spec["exception_cues"]) + r")(?![A-Za-z])", re.IGNORECASE),
        "conditional": re.compile(r"(?<![A-Za-z])(?:" + "|".join(spec["conditional_cues"]) + r")(?![A-Za-z])", re.IGNORECASE),
        "list_any": re.compile(spec["list_any"], re.IGNORECASE),
        "examples_of": re.compile(spec["examples_of"], re.IGNORECASE),
        "drug_effect": re.compile(spec["drug_effect"], re.IGNORECASE),
    }


def trim(text: str, start: int, end: int, chars: str = _TRIM) -> tuple[int, int]:
    """Shrink a span past surrounding whitespace and list punctuation."""
    while start < end and text[start] in chars:
        start += 1
    while end > start and text[end - 1] in chars:
        end -= 1
    return start, end


def _depths(text: str, start: int, end: int) -> list[int]:
    depth, out = 0, []
    for ch in text[start:end]:
        if ch in "([":
            depth += 1
        out.append(depth)
        if ch in ")]" and depth > 0:
            depth -= 1
    return out


def split_requirements(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut at top-level ';' and sentence ends ('. ' + capital); returns trimmed pieces."""
    depth = _depths(text, start, end)
    cuts = [start]
    for i in range(start, end):
        ch = text[i]
        if depth[i - start] != 0:
            continue
        if ch == ";":
            cuts.append(i + 1)
        elif ch == "." and i + 2 < end and text[i + 1] == " " and (text[i + 2].isupper() or text[i + 2] in "(\"'"):
            if not _ABBREV_END.search(text[max(start, i - 6):i + 1]):
                cuts.append(i + 1)
    cuts.append(end)
    pieces = []
    for a, b in zip(cuts, cuts[1:]):
        s, e = trim(text, a, b, " \t\n;.,")
        if e > s and any(c.isalnum() for c in text[s:e]):
            pieces.append((s, e))
    return pieces


def find_label(text: str, start: int, end: int) -> Optional[tuple[int, int, int]]:
    """A leading "Label:" of at most five words: (label_start, label_end, body_start)."""
    m = _LABEL.match(text, start, end)
    if not m:
        return None
    label = m.group("label").strip()
    if not label or len(label.split()) > 5 or re.search(r"\d\s*$", label):
        return None
    ls = m.start("label")
    le = ls + len(m.group("label").rstrip())
    return ls, le, m.end()


def top_level_cuts(text: str, start: int, end: int, pattern: re.Pattern) -> list[tuple[int, int]]:
    """Pieces of ``[start, end)`` cut at top-level (outside brackets) matches of ``pattern``."""
    depth = _depths(text, start, end)
    gaps = []
    for m in pattern.finditer(text, start, end):
        if depth[m.start() - start] == 0:
            gaps.append((m.start(), m.end()))
    pieces, pos = [], start
    for gs, ge in gaps:
        pieces.append(trim(text, pos, gs))
        pos = ge
    pieces.append(trim(text, pos, end))
    return [(s, e) for s, e in pieces if e > s]


COMMA = re.compile(r",\s+")
CONJUNCT = re.compile(r",\s+and\s+|;\s+and\s+|,\s+as\s+well\s+as\s+")
OR_WORD = re.compile(r"(?<![A-Za-z])(?:or|and/or|/)(?![A-Za-z])", re.IGNORECASE)
AND_WORD = re.compile(r"(?<![A-Za-z])(?:and(?!\s*/\s*or)|plus|with)(?![A-Za-z])", re.IGNORECASE)  # "and/or" is an or
EITHER = re.compile(r"\s+and\s*/\s*or\s+", re.IGNORECASE)
