"""Modifiers of constraint drafts: qualitative values, qualifiers and methods, negation,
family experiencer, de-duplication, the clause's and/or links, and the uncovered remainder."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from nlp.criteria.clauses import AND_WORD, EITHER, OR_WORD
from nlp.criteria.drafts import Draft, inside
from nlp.criteria.recognize import Recognized
from nlp.data import load_json
from nlp.lexicon import Mention


def _words_alternation(words: list[str]) -> str:
    """Longest first, any run of spaces inside a phrase."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def qualifier_regex() -> re.Pattern:
    alt = _words_alternation(load_json("criteria/qualifiers.json")["qualifiers"])
    # up to two more qualifiers or adjectives may sit between the qualifier and the concept
    # "non-traumatic", "non-serious": a hyphenated prefix turns the qualifier around
    return re.compile(r"(?<![A-Za-z-])(?P<q>" + alt + r")(?:(?:\s+|\s*/\s*|\s*,\s*)(?:and\s+|or\s+)?[A-Za-z-]+){0,2}\s*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def first_value_regex() -> re.Pattern:
    alt = _words_alternation(load_json("criteria/qualifiers.json")["first_value"]["words"])
    return re.compile(r"(?<![A-Za-z])(?:" + alt + r")\s+(?:[A-Za-z-]+\s+){0,2}$", re.IGNORECASE)


_QUAL_AFTER = re.compile(r"[ \t]*[-(]?[ \t]*(?P<q>positive|negative|pos\b|neg\b|positivity|negativity|\+(?!\s*\d)|-(?![\w\d])|expression|expressing|overexpression|over-expression)\)?", re.IGNORECASE)
_QUAL_BEFORE = re.compile(r"(?P<q>positive|negative)\s+(?:for\s+)?$", re.IGNORECASE)


def qualitative(draft: Draft, text: str, end: int) -> None:
    """A biomarker's stated result: "CD123 positive" widens the span, "HER2-negative" negates."""
    m = draft.mention
    if m is None or m.entry.category != "biomarker":
        return
    after = _QUAL_AFTER.match(text, m.end, end)
    before = _QUAL_BEFORE.search(text[max(0, m.start - 20):m.start])
    q = after.group("q").lower() if after else before.group("q").lower() if before else None
    if q is None:
        return
    if after:
        draft.parts.append((m.start, after.end()))
    else:
        draft.parts.append((m.start - len(before.group(0)), m.end))
    if q.startswith("neg") or q == "-":
        draft.negated = True


def mark_qualifiers_and_methods(drafts: list[Draft], text: str, start: int, end: int, methods: list[Mention]) -> None:
    """Qualitative values ("CD123 positive"), severity qualifiers and required methods."""
    for d in drafts:
        qualitative(d, text, end)
        if d.mention is not None:
            q = qualifier_regex().search(text[max(start, d.mention.start - 40):d.mention.start])
            inner = qualifier_regex().match(d.mention.text.lower() + " ")  # "uncontrolled hypertension" as one synonym
            for hit in (q, inner):
                if hit:
                    d.qualifiers.append(re.sub(r"\s+", " ", hit.group("q").lower()))
            if d.entry is not None and d.entry.measured and first_value_regex().search(text[max(start, d.mention.start - 30):d.mention.start]):
                d.qualifiers.append("initial")  # "Initial haemoglobin < 90 g/L": the first value counts
        if methods and d.entry is not None and (d.entry.measured or d.entry.category in ("biomarker", "cardiac")):
            d.method = methods[0].entry.label  # "CD123 ... detected by flow cytometry"
            d.method_mention = methods[0]


def apply_negation(rec: Recognized, drafts: list[Draft], start: int, end: int, regions: list[tuple[int, int]]) -> None:
    """Forward cues negate what follows up to a terminator; backward cues what just precedes."""
    text = rec.text
    terms = [x for x in rec.terminators if start <= x.start < end]
    sex_spans = [d.span for d in drafts if d.entry is not None and d.entry.id == "sex"]
    for cue in (x for x in rec.negations if start <= x.start and x.end <= end):
        if inside(cue.start, cue.end, sex_spans) or inside(cue.start, cue.end, regions):
            continue  # "gender is not limited" states no restriction
        if cue.direction == "FORWARD":
            scoped = [d for d in drafts if d.anchor >= cue.end and d.entry is not None and d.entry.id != "sex"]
            first = True
            for d in scoped:
                if any(cue.end <= x.start < d.anchor for x in terms):
                    break
                if d.comparator is not None and len(text[cue.end:d.anchor].split()) > 3:
                    break  # a threshold is not negated by a distant cue
                d.negated = True
                if first:
                    d.parts.append((cue.start, d.span[1]))
                    first = False
        else:
            prior = [d for d in drafts if d.mention is not None and d.mention.end <= cue.start and d.entry is not None]
            if prior and len(text[prior[-1].mention.end:cue.start].split()) <= 3:
                prior[-1].negated = True
                prior[-1].parts.append((prior[-1].span[0], cue.end))


def apply_family(rec: Recognized, drafts: list[Draft], start: int, end: int) -> None:
    """Family cues: "a first-degree relative with breast cancer" is about relatives."""
    text = rec.text
    terms = [x for x in rec.terminators if start <= x.start < end]
    for cue in (x for x in rec.family if start <= x.start and x.end <= end):
        for d in drafts:
            if d.mention is None or d.anchor < cue.end or d.entry is None or d.entry.domain != "condition":
                continue
            if any(cue.end <= x.start < d.anchor for x in terms) or len(text[cue.end:d.anchor].split()) > 8:
                break
            d.experiencer = "family"


def clause_links(drafts: list[Draft], text: str) -> list[str]:
    """"or"/"and" between consecutive drafts (sorted by position)."""
    links, comma_only = [], []
    for a, b in zip(drafts, drafts[1:]):
        gap = text[min(a.mention.end if a.mention else a.span[1], b.anchor):b.anchor]
        population = any(d.entry is not None and d.entry.id == "sex" for d in (a, b))  # "Woman ... or ...": sex is not an alternative
        alternative = EITHER.search(gap) or (OR_WORD.search(gap) and not AND_WORD.search(gap))
        links.append("or" if alternative and not population else "and")
        comma_only.append(bool(re.fullmatch(r"\s*,\s*", gap)))
    # "A, B, or C": the commas of a list take the list's final connector.
    for i in range(len(links) - 2, -1, -1):
        if comma_only[i] and links[i + 1] == "or":
            links[i] = "or"
    return links


STOPWORDS = frozenset("""a an the of in on at to for from with without by as is are was were be been being who which that
this these those their his her its they them he she it or and any all other than such e g eg ie i.e patients patient
subjects subject participants participant individuals people persons adults adult women woman men man male female
males females aged age years year old older younger must should will may can have has had having not no
both eligible study trial included enrolled""".split())  # "Both genders are eligible for study": no requirement left


def uncovered_requirement(rec: Recognized, start: int, end: int, drafts: list[Draft], regions) -> Optional[Draft]:
    """'Woman planning to deliver outside the research clinic': when the only recognized
    constraints describe the population (sex, age), the rest of the clause is a requirement
    too; keep it as a free-text constraint instead of dropping it."""
    if not drafts or any(d.entry is None or d.entry.category != "demographic" for d in drafts):
        return None
    covered = [d.span for d in drafts] + list(regions)
    words = [t for t in rec.tokens if start <= t.start and t.end <= end and t.raw[:1].isalpha()
             and t.norm not in STOPWORDS and not any(a <= t.start < b for a, b in covered)]
    if len(words) < 2:
        return None
    lo, hi = words[0].start, words[-1].end
    return Draft(rec.text[lo:hi], None, [(lo, hi)])


def dedupe(drafts: list[Draft]) -> list[Draft]:
    """One constraint per concept per clause: keep the richest mention."""
    out: list[Draft] = []
    for d in drafts:
        same = next((o for o in out if o.entry is not None and d.entry is not None and o.entry.id == d.entry.id
                     and not (o.comparator and d.comparator)
                     and not (o.temporal and d.temporal and o.temporal is not d.temporal)), None)
        if same is None:
            out.append(d)
            continue
        keep, lose = (d, same) if d.richness() > same.richness() else (same, d)
        keep.negated = keep.negated or lose.negated
        keep.others.extend(([lose.mention] if lose.mention else []) + lose.others)
        if keep.temporal is None and lose.temporal is not None:  # keep what the other mention knew
            keep.temporal = lose.temporal
            keep.parts.append((lose.temporal.start, lose.temporal.end))
        if not keep.exceptions:
            keep.exceptions = lose.exceptions
        out[out.index(same)] = keep
    return out
