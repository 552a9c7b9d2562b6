"""Exceptions: regions of a clause that qualify a constraint instead of adding one.

"(Gilbert syndrome <= 3.0 x ULN)", "except adequately treated basal cell carcinoma",
"(<= 5 x ULN if liver metastases are present)", "(18 years onward in Cambodia)".
"""

from __future__ import annotations

import re

from nlp.criteria.clauses import cues
from nlp.criteria.drafts import Draft, ExceptionDraft, inside
from nlp.criteria.recognize import Recognized
from nlp.grammar.comparisons import Comparison
from nlp.grammar.units import unit_table
from nlp.lexicon import Mention

CONDITION_CATEGORIES = {"comorbidity", "diagnosis", "disease_status", "reproductive", "biomarker"}


def exception_regions(rec: Recognized, start: int, end: int, comps: list[Comparison], mentions: list[Mention]) -> list[tuple[int, int]]:
    """Spans of the clause ``[start, end)`` that are exceptions or conditional thresholds."""
    text, c = rec.text, cues()
    regions: list[tuple[int, int]] = []
    for m in c["exception"].finditer(text, start, end):
        open_paren = text.rfind("(", start, m.start())
        close_before = text.rfind(")", start, m.start())
        if open_paren > close_before:
            close = text.find(")", m.end(), end)
            regions.append((open_paren, close + 1 if close != -1 else end))
        else:
            stop = min([p for p in (text.find(";", m.end(), end), text.find(",", m.end(), end)) if p != -1] or [end])
            regions.append((m.start(), stop))
    # Parentheticals with a condition and its own threshold: "(Gilbert syndrome <= 3.0 x ULN)".
    for m in re.finditer(r"\(([^()]*)\)", text[start:end]):
        ps, pe = start + m.start(), start + m.end()
        if inside(ps, pe, regions):
            continue
        inner_comps = [x for x in comps if ps < x.value_start < pe]
        conditions = [x for x in mentions if ps < x.start and x.end < pe and x.entry.category in CONDITION_CATEGORIES]
        before = [x for x in comps if x.value_start < ps]
        if inner_comps and conditions and before:
            regions.append((ps, pe))
        elif inner_comps and before and same_dimension(before[-1], inner_comps[0]) and \
                re.search(r"[A-Za-z]{3,}", strip_comparison(text, ps + 1, pe - 1, inner_comps[0])):
            # "≥ 5 years old (18 years onward in Cambodia)": an alternative threshold under a condition
            regions.append((ps, pe))
    # "<= 5 x ULN if liver metastases", "or < 5 x ULN in patients with liver metastases"
    for x in comps:
        if inside(x.start, x.end, regions) or not any(y.value_start < x.start for y in comps):
            continue
        follow = c["conditional"].match(text, x.end + len(text[x.end:end]) - len(text[x.end:end].lstrip()))
        if follow:
            cond = [m for m in mentions if follow.end() <= m.start < follow.end() + 60 and m.end <= end]
            if cond:
                s = x.start
                before = text[max(start, s - 5):s]
                if re.search(r"\bor\s*$", before):
                    s = s - len(before) + before.rfind("or")
                regions.append((s, cond[0].end))
    return regions


def same_dimension(a: Comparison, b: Comparison) -> bool:
    """Both quantities are of one kind (both unitless, or units of one dimension)."""
    ua, ub = unit_table().get(a.unit), unit_table().get(b.unit)
    return (ua is None and ub is None) or (ua is not None and ub is not None and ua.dimension == ub.dimension)


def strip_comparison(text: str, start: int, end: int, comp: Comparison) -> str:
    """The words of ``[start, end)`` around a comparison (the condition of an alternative threshold)."""
    return (text[start:comp.start] + " " + text[comp.end:end]).strip()


def attach_exceptions(text: str, drafts: list[Draft], regions: list[tuple[int, int]], exc_mentions: list[Mention],
                      comps: list[Comparison]) -> None:
    """Attach each exception region to the constraints it qualifies: those its condition is
    known to modify (Gilbert syndrome -> bilirubin), else those with a threshold of the same
    kind, else the nearest preceding constraint."""
    for rs, re_ in regions:
        inner = [m for m in exc_mentions if rs <= m.start and m.end <= re_]
        inner_comp = next((x for x in comps if rs <= x.value_start < re_), None)
        cond = next((m for m in inner if m.entry.category in CONDITION_CATEGORIES), inner[0] if inner else None)
        label = cond.entry.label if cond else (
            strip_comparison(text, rs, re_, inner_comp).strip("() ,;") if inner_comp else text[rs:re_].strip("() "))
        exc = ExceptionDraft(cond.entry if cond else None, label, inner_comp, rs, re_, cond)
        preceding = [d for d in drafts if d.span[0] < rs]
        targets = []
        if cond is not None and cond.entry.related:
            targets = [d for d in preceding if d.entry is not None and d.entry.id in cond.entry.related]
        if not targets and inner_comp is not None:
            dim = unit_table().get(inner_comp.unit)
            targets = [d for d in preceding if d.comparison is not None and (
                dim is None or (unit_table().get(d.unit) and unit_table().get(d.unit).dimension == dim.dimension))]
        if not targets and preceding:
            targets = [max(preceding, key=lambda d: d.span[1])]
        for d in targets:
            d.exceptions.append(exc)

