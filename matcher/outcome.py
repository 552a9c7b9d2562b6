"""Outcomes of constraint checks and the small helpers their reasons share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from nlp.schema import Fact

HAS = ("present", "historical")


@dataclass
class Outcome:
    status: str
    reason: str
    evidence: list[Fact] = field(default_factory=list)
    lookup: Optional[str] = None  # what to look up when unknown


def compare(value: float, comparator: str, t: float, t2: Optional[float] = None) -> bool:
    """``value <comparator> t`` with boundaries inclusive for <=, >= and between (float-tolerant)."""
    def close(a, b):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if comparator == ">":
        return value > t and not close(value, t)
    if comparator == ">=":
        return value > t or close(value, t)
    if comparator == "<":
        return value < t and not close(value, t)
    if comparator == "<=":
        return value < t or close(value, t)
    if comparator == "==":
        return close(value, t)
    if comparator == "between":
        return (value > t or close(value, t)) and (value < t2 or close(value, t2))
    return False


def interval_verdict(fact_cmp, v, v2, comparator, t, t2) -> Optional[bool]:
    """Does what the fact says (a value, a range, or a bound like "> 12 weeks") satisfy the
    threshold? True, False, or None when it cannot tell."""
    inf = float("inf")
    if v2 is not None:
        lo, hi = (v, v2) if v <= v2 else (v2, v)
        lo_open = hi_open = False
    elif fact_cmp in (">", ">="):
        lo, hi, lo_open, hi_open = v, inf, fact_cmp == ">", True
    elif fact_cmp in ("<", "<="):
        lo, hi, lo_open, hi_open = -inf, v, True, fact_cmp == "<"
    else:
        return compare(v, comparator, t, t2)
    if comparator == "between":
        c_lo, c_hi, c_lo_open, c_hi_open = t, t2, False, False
    elif comparator in (">", ">="):
        c_lo, c_hi, c_lo_open, c_hi_open = t, inf, comparator == ">", True
    elif comparator in ("<", "<="):
        c_lo, c_hi, c_lo_open, c_hi_open = -inf, t, True, comparator == "<"
    else:
        c_lo = c_hi = t
        c_lo_open = c_hi_open = False

    def above(a, a_open, b, b_open):  # lower bound a (open?) is at least lower bound b
        return a > b or (math.isclose(a, b, abs_tol=1e-9) and (a_open or not b_open))

    def below(a, a_open, b, b_open):  # upper bound a is at most upper bound b
        return a < b or (math.isclose(a, b, abs_tol=1e-9) and (a_open or not b_open))
    inside = above(lo, lo_open, c_lo, c_lo_open) and below(hi, hi_open, c_hi, c_hi_open)
    if inside:
        return True
    disjoint = hi < c_lo or lo > c_hi or (math.isclose(hi, c_lo, abs_tol=1e-9) and (hi_open or c_lo_open)) \
        or (math.isclose(lo, c_hi, abs_tol=1e-9) and (lo_open or c_hi_open))
    return False if disjoint else None


def where(f: Fact) -> str:
    """" on 2026-03-12" or " (note n1)" for a reason sentence."""
    return f" on {f.date}" if f.date else f" (note {f.note_id})"


def quote(text: str, limit: int = 60) -> str:
    """Evidence text on one line, shortened for a reason sentence."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def label_of(fact: Fact, label: str) -> str:
    """The label a reason starts with (a KPS-derived ECOG keeps its own wording)."""
    return fact.concept.label if fact.concept.label.lower().startswith("ecog") and "kps" in fact.concept.label.lower() else label[0].upper() + label[1:]
