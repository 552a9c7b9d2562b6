"""The comparator grammar: numbers with units, comparators, ranges and ULN multiples.

``find_comparisons`` turns "≥ 18 years", "18-75 years old (inclusive)",
"no more than 2.0 × ULN", "between 0 and 2", "5 or more" and "< ULN" into
:class:`Comparison` records with spans. Phrases come from
``resources/grammar/comparators.json``; units from the unit table. The
criteria parser and the note extractor both call this one function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from nlp.data import load_json
from nlp.grammar.numbers import NumberMention, find_numbers
from nlp.grammar.prefilter import PrefixFilter, build_prefix_filter
from nlp.grammar.units import unit_table


_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?(?![\d.])")
_ROMAN_VALUES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}
_ROMAN = re.compile(r"(?=[IV])(?<![A-Za-z0-9])(?P<r>I{1,3}|IV|VI?)(?![A-Za-z0-9])")  # (?=[IV]): fails fast
_ROMAN_CONTEXT = re.compile(r"(?:\b(?:grade|grades|class|classes|stage|stages|level|levels|type|phase|NYHA|ASA|tier|category|classification|functional)|[<>≤≥=])\s*$", re.IGNORECASE)
_ROMAN_RANGE = re.compile(r"\s*(?:-|to|or|and|through)\s*(?:I{1,3}|IV|VI?)(?![A-Za-z0-9])")


def find_roman(text: str) -> list[NumberMention]:
    """Roman numerals used as numbers: after grade/class/stage/NYHA..., or in ranges "I-III"."""
    out = []
    if "I" not in text and "V" not in text:  # every numeral starts with one (case matters)
        return out
    for m in _ROMAN.finditer(text):
        before = text[max(0, m.start() - 30):m.start()]
        prev_roman = out and out[-1].end >= m.start() - 9
        if _ROMAN_CONTEXT.search(before) or _ROMAN_RANGE.match(text, m.end()) or prev_roman:
            out.append(NumberMention(float(_ROMAN_VALUES[m.group("r")]), m.start(), m.end(), is_word=True))
    return out


# Words allowed between a prefix phrase and its number ("at least the age of 18").
_FILLERS = ("of", "the", "a", "an", "to", "age", "aged", "at", "be", "is", "approximately", "about", "around")


@dataclass(frozen=True)
class Comparison:
    comparator: Optional[str]  # > >= < <= == between, or None for a bare quantity
    value: float
    value2: Optional[float]
    unit: Optional[str]
    start: int
    end: int
    value_start: int
    value_end: int
    op_start: Optional[int] = None
    unit_start: Optional[int] = None
    inclusive: Optional[bool] = None

    @property
    def is_uln(self) -> bool:
        return self.unit == "x ULN"


def _phrase_regex(phrases: list[str]) -> str:
    parts = []
    for p in sorted(phrases, key=len, reverse=True):
        frag = p.replace(" ", r"\s+")
        if p[:1].isalpha():
            frag = r"(?<![A-Za-z])" + frag
        if p[-1:].isalpha():
            frag += r"(?![A-Za-z])"
        parts.append(frag)
    return "|".join(parts)


@dataclass(frozen=True)
class _Grammar:
    prefix: re.Pattern
    suffix: re.Pattern
    range_sep: re.Pattern
    range_prefix: re.Pattern
    inclusive: re.Pattern
    exclusive: re.Pattern
    prefix_ops: dict[str, str]
    suffix_ops: dict[str, str]
    bare_uln: re.Pattern
    prefix_filter: Optional[PrefixFilter] = None
    range_prefix_filter: Optional[PrefixFilter] = None
    suffix_firsts: Optional[frozenset] = None  # possible first letters of a suffix / marker phrase
    inclusive_firsts: Optional[frozenset] = None
    exclusive_firsts: Optional[frozenset] = None


@lru_cache(maxsize=1)
def grammar() -> _Grammar:
    spec = load_json("grammar/comparators.json")
    prefix_groups, suffix_groups = {}, {}
    prefix_alts, suffix_alts = [], []
    for i, (op, phrases) in enumerate(spec["prefix"].items()):
        if phrases:
            prefix_groups[f"p{i}"] = op
            prefix_alts.append(f"(?P<p{i}>{_phrase_regex(phrases)})")
    for i, (op, phrases) in enumerate(spec["suffix"].items()):
        if phrases:
            suffix_groups[f"s{i}"] = op
            suffix_alts.append(f"(?P<s{i}>{_phrase_regex(phrases)})")
    fillers = r"(?:(?:" + "|".join(_FILLERS) + r")\s+)*"
    # Longest phrase wins: alternatives are tried op by op, so sort within a combined
    # alternation by searching each op group and keeping the longest match.
    prefix = re.compile(r"(?:" + "|".join(prefix_alts) + r")\s*:?\s*" + fillers + r"$", re.IGNORECASE)
    # "6 months and younger than 18 years": the suffix belongs to the next comparison.
    suffix = re.compile(r"[ \t]*\(?[ \t]*(?:" + "|".join(suffix_alts) + r")\)?(?!\s*than\b)", re.IGNORECASE)
    seps = [s for s in spec["range_separators"] if s != "/"]
    range_sep = re.compile(r"[ \t]*+(?P<sep>" + _phrase_regex(seps) + r")[ \t]*", re.IGNORECASE)
    range_prefix = re.compile(r"(?:" + _phrase_regex(spec["range_prefix"]) + r")\s*:?\s*(?:(?:the|age|ages|of)\s+)*$", re.IGNORECASE)
    inclusive = re.compile(r"[ \t]*[,(]?[ \t]*(?:" + _phrase_regex(spec["inclusive_markers"]) + r")[ \t]*\)?", re.IGNORECASE)
    exclusive = re.compile(r"[ \t]*[,(]?[ \t]*(?:" + _phrase_regex(spec["exclusive_markers"]) + r")[ \t]*\)?", re.IGNORECASE)
    uln_words = r"(?:the\s+)?(?:(?:institutional|local|laboratory)\s+)?(?:ULN|upper\s+limits?\s+of\s+(?:the\s+)?normal(?:\s+range)?|upper\s+normal\s+limits?|the\s+normal\s+upper\s+limit)\b"
    bare_uln = re.compile(r"(?P<op>" + "|".join(prefix_alts) + r")\s*" + uln_words, re.IGNORECASE)
    # An exact pre-check for the costly end-anchored prefix search (see prefilter.py).
    prefix_filter = build_prefix_filter([p for phrases in spec["prefix"].values() for p in phrases], _FILLERS)
    range_prefix_filter = build_prefix_filter(spec["range_prefix"], ("the", "age", "ages", "of"))
    return _Grammar(prefix, suffix, range_sep, range_prefix, inclusive, exclusive, prefix_groups, suffix_groups, bare_uln,
                    prefix_filter, range_prefix_filter,
                    _first_chars(p for phrases in spec["suffix"].values() for p in phrases),
                    _first_chars(spec["inclusive_markers"]), _first_chars(spec["exclusive_markers"]))


@lru_cache(maxsize=1)
def _opening() -> re.Pattern:
    spec = load_json("grammar/comparators.json")
    phrases = [p for group in spec["prefix"].values() for p in group]
    fillers = r"(?:(?:" + "|".join(_FILLERS) + r")\s+)*"
    return re.compile(r"\s*(?:" + _phrase_regex(phrases) + r")\s*:?\s*" + fillers + r"(?=[\d.])", re.IGNORECASE)


def opens_comparison(text: str, pos: int) -> bool:
    """Whether a comparator phrase of the grammar and then a number start at ``pos``
    ("greater than or equal to 3", "at least 4"): a value follows a word there."""
    return _opening().match(text, pos) is not None


def _first_chars(phrases) -> Optional[frozenset]:
    """Lower-cased first characters of phrase fragments, or None when one starts with regex syntax."""
    out = set()
    for p in phrases:
        c = p[1:2] if p.startswith("\\") else p[:1]
        if not c or (c in "([.^$|?*+{\\" and not p.startswith("\\")):
            return None
        out.add(c.lower())
    return frozenset(out)


def _may_start(text: str, pos: int, opens: str, firsts: Optional[frozenset]) -> bool:
    """Cheap exact pre-check of ``[ \\t]*[opens]?[ \\t]*PHRASE`` at ``pos``: can a phrase start there?"""
    if firsts is None:
        return True
    n = len(text)
    while pos < n and text[pos] in " \t":
        pos += 1
    if pos < n and text[pos] in opens:
        pos += 1
        while pos < n and text[pos] in " \t":
            pos += 1
    if pos >= n:
        return False
    c = text[pos]
    return c.lower() in firsts or c.upper().lower() in firsts


def _range_prefix(before: str, g: _Grammar) -> Optional[re.Match]:
    """"between"/"from"/"aged" right before a number (pre-checked cheaply, see prefilter.py)."""
    if g.range_prefix_filter is not None and not g.range_prefix_filter.may_match(before):
        return None
    return g.range_prefix.search(before)


def _prefix_op(text: str, start: int, g: _Grammar) -> tuple[Optional[str], Optional[int]]:
    window_start = max(0, start - 60)
    if window_start == start:  # nothing before the number (read_values' windows start with one)
        return None, None
    if g.prefix_filter is not None and not g.prefix_filter.may_match(text[window_start:start]):
        return None, None
    # The pattern is anchored at the window's end, so the leftmost match is the
    # longest phrase ("no more than" rather than "more than").
    m = g.prefix.search(text[window_start:start])
    if m is None:
        return None, None
    for name, op in g.prefix_ops.items():
        if m.group(name):
            return op, window_start + m.start(name)
    return None, None


def find_comparisons(text: str, numbers: Optional[list[NumberMention]] = None) -> list[Comparison]:
    """All comparisons and quantities in ``text``, in order, non-overlapping."""
    g = grammar()
    units = unit_table()
    nums = numbers if numbers is not None else sorted(find_numbers(text) + find_roman(text), key=lambda x: x.start)
    out: list[Comparison] = []
    consumed = -1
    for i, n in enumerate(nums):
        if n.start < consumed:
            continue
        unit1 = units.match_at(text, n.end)
        pos = unit1.end if unit1 else n.end
        value2, unit, unit_start = None, unit1, (unit1.start if unit1 else None)
        value_end = n.end
        inner = _inclusive(text, pos, g) or _exclusive(text, pos, g)
        range_pos = inner.end() if inner else pos  # "between 50kg (inclusive) and 90kg"
        rm = g.range_sep.match(text, range_pos)
        second = None
        if rm:
            if i + 1 < len(nums) and nums[i + 1].start == rm.end():
                second = nums[i + 1]
            else:  # a number glued to a unit word ("8yr-18yrs") is still the range's end
                dm = _PLAIN_NUMBER.match(text, rm.end())
                if dm:
                    second = NumberMention(float(dm.group(0)), dm.start(), dm.end())
        if second is not None:
            sep = rm.group("sep").lower()
            before = text[max(0, n.start - 40):n.start]
            has_between = bool(_range_prefix(before, g))
            if sep != "and" or has_between:
                unit2 = units.match_at(text, second.end)
                if unit2 is None or unit1 is None or unit2.unit.dimension == unit1.unit.dimension:
                    value2 = second.value
                    value_end = second.end
                    unit = unit2 or unit1
                    unit_start = unit.start if unit else None
                    pos = unit2.end if unit2 else second.end
        end = pos
        comparator: Optional[str] = None
        op, op_start = _prefix_op(text, n.start, g)
        sm = g.suffix.match(text, end) if _may_start(text, end, "(", g.suffix_firsts) else None
        if sm and value2 is None:
            for name, sop in g.suffix_ops.items():
                if sm.group(name):
                    comparator = sop
                    end = sm.end()
                    break
            if unit is None:  # "5 or more cigarettes per day"
                late = units.match_at(text, end)
                if late:
                    unit, unit_start, end = late, late.start, late.end
        inclusive = None
        im = _inclusive(text, end, g)
        if im:
            inclusive, end = True, im.end()
        else:
            em = _exclusive(text, end, g)
            if em:
                inclusive, end = False, em.end()
        if value2 is not None:
            comparator = "between"
            before = text[max(0, n.start - 40):n.start]
            bm = _range_prefix(before, g)
            if bm:
                op_start = max(0, n.start - 40) + bm.start()
        elif comparator is None and op is not None:
            comparator = op
        else:
            op_start = None if comparator is None or op is None else op_start
        start = op_start if op_start is not None and (comparator == op or value2 is not None) else n.start
        out.append(Comparison(
            comparator=comparator, value=n.value, value2=value2,
            unit=unit.unit.name if unit else None, start=start, end=end,
            value_start=n.start, value_end=value_end, op_start=op_start if start != n.start else None,
            unit_start=unit_start, inclusive=inclusive,
        ))
        consumed = end
    out.extend(_bare_uln(text, out, g))
    out.sort(key=lambda c: (c.start, c.end))
    return out


def _inclusive(text: str, pos: int, g: _Grammar) -> Optional[re.Match]:
    return g.inclusive.match(text, pos) if _may_start(text, pos, ",(", g.inclusive_firsts) else None


def _exclusive(text: str, pos: int, g: _Grammar) -> Optional[re.Match]:
    return g.exclusive.match(text, pos) if _may_start(text, pos, ",(", g.exclusive_firsts) else None


def _bare_uln(text: str, found: list[Comparison], g: _Grammar) -> list[Comparison]:
    """"≤ ULN" and "< upper limit of normal" with no number mean 1 × ULN."""
    extra: list[Comparison] = []
    lowered = text.lower()
    if "uln" not in lowered and "upper" not in lowered:  # every ULN phrase has one of them
        return extra
    for m in g.bare_uln.finditer(text):
        if any(c.start < m.end() and m.start() < c.end for c in found):
            continue
        op = next(o for name, o in g.prefix_ops.items() if m.group(name))
        uln_start = m.end("op")
        while uln_start < len(text) and text[uln_start].isspace():
            uln_start += 1
        extra.append(Comparison(op, 1.0, None, "x ULN", m.start(), m.end(), uln_start, uln_start,
                                op_start=m.start(), unit_start=uln_start))
    return extra
