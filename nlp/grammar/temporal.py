"""Time windows: "within 12 months after CR", "in the past 4 weeks", "prior to enrollment".

A window is built around a time quantity found by the comparator grammar,
plus the window phrases and anchors of ``resources/grammar/temporal.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from nlp.data import load_json
from nlp.grammar.comparisons import Comparison, _phrase_regex, find_comparisons
from nlp.grammar.units import unit_table


@dataclass(frozen=True)
class TemporalMention:
    comparator: Optional[str]
    value: Optional[float]
    value2: Optional[float]
    unit: Optional[str]
    days: Optional[float]
    anchor: Optional[str]
    relation: Optional[str]  # "before" | "after" | None
    start: int
    end: int
    quantity: Optional[Comparison] = None


@dataclass(frozen=True)
class _TemporalGrammar:
    prefix: re.Pattern
    prefix_ops: dict[str, str]
    relation: re.Pattern
    relation_kind: dict[str, str]
    anchor_stop: re.Pattern
    anchors: list[tuple[re.Pattern, str]]
    anchor_only: re.Pattern
    unitless: re.Pattern


@lru_cache(maxsize=1)
def _grammar() -> _TemporalGrammar:
    spec = load_json("grammar/temporal.json")
    groups, alts = {}, []
    for i, (op, phrases) in enumerate(spec["window_prefix"].items()):
        groups[f"w{i}"] = op
        alts.append(f"(?P<w{i}>{_phrase_regex(phrases)})")
    # "for more than 3 years", "lasting 6 weeks": a duration; the quantity's own comparator holds.
    groups["wdur"] = "dur"
    alts.append(r"(?P<wdur>(?<![A-Za-z])(?:for|lasting|duration\s+of|for\s+a\s+(?:period|duration)\s+of)(?![A-Za-z]))")
    # "after 12 months" reads as "more than 12 months (after the anchor)"
    groups["wafter"] = ">"
    alts.append(r"(?P<wafter>(?<![A-Za-z])(?:after|beyond|later\s+than)(?![A-Za-z]))")
    prefix = re.compile(r"(?:" + "|".join(alts) + r")\s*(?:(?:the|a|an|of)\s+)*$", re.IGNORECASE)
    rel_kind, rel_alts = {}, []
    for kind, phrases in spec["relations"].items():
        for p in phrases:
            rel_kind[p] = kind
    rel_alts = _phrase_regex(list(rel_kind))
    relation = re.compile(r"[ \t]*(?P<rel>" + rel_alts + r")", re.IGNORECASE)
    anchor_stop = re.compile("|".join(spec["anchor_stop"]), re.IGNORECASE)
    anchors = [(re.compile(r"^(?:the\s+|a\s+|an\s+|his\s+|her\s+|their\s+|last\s+|most\s+recent\s+)*(?:" + _phrase_regex(forms) + r")\b", re.IGNORECASE), name)
               for name, forms in spec["anchor_terms"].items()]
    all_anchor_forms = [f for forms in spec["anchor_terms"].values() for f in forms]
    anchor_only = re.compile(
        r"(?P<rel>" + _phrase_regex(spec["anchor_only"]) + r")\s+(?:the\s+|a\s+)?(?:first\s+)?(?P<anchor>" + _phrase_regex(all_anchor_forms) + r")\b",
        re.IGNORECASE)
    unitless = re.compile(
        r"(?<![A-Za-z])(?P<pre>within\s+the\s+(?:past|last|previous|preceding)|in\s+the\s+(?:past|last|previous|preceding)|during\s+the\s+(?:past|last|previous|preceding)|over\s+the\s+(?:past|last))\s+(?P<unit>year|month|week|day)(?![A-Za-z])",
        re.IGNORECASE)
    return _TemporalGrammar(prefix, groups, relation, rel_kind, anchor_stop, anchors, anchor_only, unitless)


def normalize_anchor(text: str) -> Optional[str]:
    """Map an anchor phrase to its canonical name ("enrollment" -> "study entry")."""
    t = text.strip()
    if not t:
        return None
    for pattern, name in _grammar().anchors:
        if pattern.match(t):
            return name
    return re.sub(r"\s+", " ", t.lower())


def _anchor_after(text: str, pos: int, g: _TemporalGrammar) -> tuple[Optional[str], int]:
    rest = text[pos:pos + 80]
    stop = g.anchor_stop.search(rest)
    chunk = rest[:stop.start()] if stop else rest
    words = chunk.split()
    if not words:
        return None, pos
    chunk = " ".join(words[:6])
    raw_end = pos + rest.find(words[min(len(words), 6) - 1]) + len(words[min(len(words), 6) - 1])
    for pattern, name in g.anchors:
        m = pattern.match(chunk.strip())
        if m:
            lead = len(text[pos:]) - len(text[pos:].lstrip())
            return name, pos + lead + m.end()
    return normalize_anchor(chunk), raw_end


def find_temporals(text: str, comparisons: Optional[list[Comparison]] = None) -> list[TemporalMention]:
    """All time windows in ``text``, in order."""
    g = _grammar()
    units = unit_table()
    comps = comparisons if comparisons is not None else find_comparisons(text)
    out: list[TemporalMention] = []
    for c in comps:
        if not units.is_time(c.unit):
            continue
        # The window phrase may be the comparison's own operator ("within 5 years").
        head = c.value_start
        pm = g.prefix.search(text[max(0, head - 60):head])
        window_op = None
        start = c.start
        if pm:
            window_op = next(op for name, op in g.prefix_ops.items() if pm.group(name))
            if window_op == "dur":
                window_op = c.comparator or ">="
            start = min(max(0, head - 60) + pm.start(), c.start)
        rm = g.relation.match(text, c.end)
        relation, anchor, end = None, None, c.end
        if rm:
            rel = rm.group("rel").lower()
            relation = g.relation_kind.get(rel, g.relation_kind.get(re.sub(r"\s+", " ", rel)))
            end = rm.end()
            if rel not in ("ago", "previously", "prior", "earlier"):
                anchor, end = _anchor_after(text, rm.end(), g)
                end = max(end, rm.end())
        if window_op is None and relation is None:
            continue
        comparator = c.comparator if c.comparator else window_op
        if window_op and c.comparator is None:
            comparator = window_op
        if comparator is None:
            comparator = "<="  # "4 weeks prior to" reads as a window up to 4 weeks
        if c.value2 is not None:
            comparator = "between"
        if pm and window_op == ">" and pm.group("wafter") and relation is None:
            relation = "after"
        out.append(TemporalMention(comparator, c.value, c.value2, c.unit, units.days(c.value, c.unit),
                                   anchor, relation, start, end, c))
    taken = [(t.start, t.end) for t in out]
    for m in g.unitless.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        unit = m.group("unit").lower() + "s"
        out.append(TemporalMention("<=", 1.0, None, unit, units.days(1.0, unit), None, "before", m.start(), m.end()))
    for m in g.anchor_only.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        rel = m.group("rel").lower()
        relation = "after" if rel in ("after", "following") else "before" if rel in ("prior to", "before") else None
        out.append(TemporalMention(None, None, None, None, None, normalize_anchor(m.group("anchor")), relation, m.start(), m.end()))
    out.sort(key=lambda t: (t.start, t.end))
    return out
