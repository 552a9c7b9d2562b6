"""Constraints: one requirement clause -> constraint drafts and their logic.

A clause is a span of normalized text. Its concept mentions become
constraints; comparisons attach to their subjects ("ALT and AST <= 3 x ULN"
gives both), time windows to their events, negation cues to what they scope,
and exception regions ("(Gilbert syndrome <= 3.0 x ULN)", "except ...") to
the constraints they qualify.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from nlp.criteria.clauses import AND_WORD, OR_WORD, cues
from nlp.criteria.recognize import Recognized
from nlp.data import load_json
from nlp.grammar.comparisons import Comparison
from nlp.grammar.temporal import TemporalMention
from nlp.grammar.units import unit_table
from nlp.lexicon import ConceptEntry, Mention

DURATION_CONCEPTS = {"life_expectancy", "age"}
_COMMA_AFTER = re.compile(r"\s*(?:\([^()]{1,20}\))?\s*,")  # "After complete response (CR), ..."


@lru_cache(maxsize=1)
def _qualifier_regex() -> re.Pattern:
    words = load_json("criteria/qualifiers.json")["qualifiers"]
    alt = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
    # up to two more qualifiers or adjectives may sit between the qualifier and the concept
    return re.compile(r"(?<![A-Za-z])(?P<q>" + alt + r")(?:(?:\s+|\s*/\s*|\s*,\s*)(?:and\s+|or\s+)?[A-Za-z-]+){0,2}\s*$", re.IGNORECASE)
_AGE_CUE = re.compile(r"\b(?:age[ds]?|old|older|younger|of\s+age|infants?|newborns?|neonates?|born)\b", re.IGNORECASE)
_QUAL_AFTER = re.compile(r"[ \t]*[-(]?[ \t]*(?P<q>positive|negative|pos\b|neg\b|positivity|negativity|\+(?!\s*\d)|-(?![\w\d])|expression|expressing|overexpression|over-expression)\)?", re.IGNORECASE)
_QUAL_BEFORE = re.compile(r"(?P<q>positive|negative)\s+(?:for\s+)?$", re.IGNORECASE)
_CONDITION_CATEGORIES = {"comorbidity", "diagnosis", "disease_status", "reproductive", "biomarker"}


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


def _inside(s: int, e: int, regions: list[tuple[int, int]]) -> bool:
    return any(a <= s and e <= b for a, b in regions)


def _exception_regions(rec: Recognized, start: int, end: int, comps: list[Comparison], mentions: list[Mention]) -> list[tuple[int, int]]:
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
        if _inside(ps, pe, regions):
            continue
        inner_comps = [x for x in comps if ps < x.value_start < pe]
        conditions = [x for x in mentions if ps < x.start and x.end < pe and x.entry.category in _CONDITION_CATEGORIES]
        before = [x for x in comps if x.value_start < ps]
        if inner_comps and conditions and before:
            regions.append((ps, pe))
        elif inner_comps and before and _same_dimension(before[-1], inner_comps[0]) and \
                re.search(r"[A-Za-z]{3,}", _strip_comparison(text, ps + 1, pe - 1, inner_comps[0])):
            # "≥ 5 years old (18 years onward in Cambodia)": an alternative threshold under a condition
            regions.append((ps, pe))
    # "<= 5 x ULN if liver metastases", "or < 5 x ULN in patients with liver metastases"
    for x in comps:
        if _inside(x.start, x.end, regions) or not any(y.value_start < x.start for y in comps):
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


def _same_dimension(a: Comparison, b: Comparison) -> bool:
    ua, ub = unit_table().get(a.unit), unit_table().get(b.unit)
    return (ua is None and ub is None) or (ua is not None and ub is not None and ua.dimension == ub.dimension)


def _strip_comparison(text: str, start: int, end: int, comp: Comparison) -> str:
    """The words of ``[start, end)`` around a comparison (the condition of an alternative threshold)."""
    return (text[start:comp.start] + " " + text[comp.end:end]).strip()


def _subject_before(comp: Comparison, mentions: list[Mention], text: str) -> list[Mention]:
    """The measured concepts a comparison applies to, including conjoined ones."""
    before = [m for m in mentions if m.end <= comp.value_start and (m.entry.measured or m.entry.category == "biomarker")]
    if not before:
        return []
    head = before[-1]
    between = [m for m in mentions if head.end <= m.start and m.end <= comp.start]
    gap = text[head.end:comp.start]
    if between or ";" in gap or len(gap.split()) > 10:
        return []
    chain = [head]
    for m in reversed(before[:-1]):
        joiner = text[m.end:chain[0].start]
        if re.fullmatch(r"\s*(?:,|and|or|/|and/or|&)?\s*(?:,|and|or)?\s*", joiner, re.IGNORECASE):
            chain.insert(0, m)
        else:
            break
    return chain


def _subject_after(comp: Comparison, mentions: list[Mention], rec: Recognized) -> Optional[Mention]:
    after = [m for m in mentions if m.start >= comp.value_end and m.entry.type != "method"]
    if not after:
        return None
    m = after[0]
    words = [t for t in rec.tokens if comp.end <= t.start < m.start]
    if len(words) > 5 or any(t.raw in ";." for t in words):
        return None
    return m


def _qualitative(draft: Draft, text: str, end: int) -> None:
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


def _apply_comparison(draft: Draft, comp: Comparison) -> None:
    units = unit_table()
    entry = draft.entry
    comparator, unit = comp.comparator, comp.unit
    c = cues()
    if entry is not None and entry.category == "performance_status" and units.get(unit) and units.get(unit).dimension == "count":
        unit = None
    if comparator is None and entry is not None and entry.category in ("prior_therapy", "disease_status") and not entry.measured \
            and (unit is None or unit in c["count_units"]):
        comparator = c["count_default"]
    if comparator is None:
        comparator = "=="
    draft.comparator, draft.value, draft.value2, draft.unit = comparator, comp.value, comp.value2, unit
    draft.comparison = comp
    draft.parts.append((comp.start, comp.end))


def build_clause(rec: Recognized, start: int, end: int, label: Optional[tuple[int, int]] = None,
                 label_mode: Optional[str] = None, has_children: bool = False) -> ClauseResult:
    """Constraint drafts for the clause ``[start, end)`` of ``rec.text``.

    ``label`` is the span of a leading "Label:"; ``label_mode`` says whether the
    label's concept is a constraint ("defined_by"/"qualified_by") or a heading.
    """
    text = rec.text
    mentions = [m for m in rec.mentions if start <= m.start and m.end <= end]
    comps = [x for x in rec.comparisons if start <= x.value_start < end]
    temporals = [t for t in rec.temporals if start <= t.start < end]
    regions = _exception_regions(rec, start, end, comps, mentions)
    exc_mentions = [m for m in mentions if _inside(m.start, m.end, regions)]
    mentions = [m for m in mentions if not _inside(m.start, m.end, regions)]
    # Numbers inside a concept's name ("type 1 diabetes", "7+3") are not thresholds.
    comps_free = [x for x in comps if not _inside(x.value_start, x.value_end, regions)
                  and not any(m.start <= x.value_start and x.value_end <= m.end for m in mentions)]

    # Anchors of time windows ("after CR", "prior to enrollment") are not constraints.
    anchor_spans = []
    for t in temporals:
        q_end = t.quantity.end if t.quantity else t.start
        anchor_spans.append((q_end, t.end))
    anchors = [m for m in mentions if any(a <= m.start and m.end <= b for a, b in anchor_spans) and m.entry.category != "demographic"]
    anchor_ids = {m.entry.id for m in anchors}
    mentions = [m for m in mentions if m not in anchors and not (
        m.entry.id in anchor_ids and any(0 <= m.start - b <= 6 for _, b in anchor_spans))]

    if label is not None:
        in_label = [m for m in mentions if label[0] <= m.start and m.end <= label[1]]
        if label_mode not in ("defined_by", "qualified_by"):
            mentions = [m for m in mentions if m not in in_label]
        label_ids = {id(m) for m in in_label}
    else:
        label_ids = set()
    methods = [m for m in mentions if m.entry.type == "method"]
    if any(m.entry.type != "method" and m.entry.category != "organ_function" for m in mentions):
        mentions = [m for m in mentions if m.entry.type != "method"]
    else:
        methods = []
    if has_children or any(m.entry.category != "organ_function" for m in mentions):
        mentions = [m for m in mentions if m.entry.category != "organ_function"]

    drafts: list[Draft] = []
    c = cues()
    # Sex: one constraint whose value comes from the wording.
    sex_mentions = [m for m in mentions if m.entry.id == "sex"]
    if sex_mentions:
        span_text = text[start:end]
        value, where = None, None
        for v in ("any", "female", "male"):
            hit = c["sex"][v].search(span_text)
            if hit:
                value, where = v, (start + hit.start(), start + hit.end())
                break
        parts = [(m.start, m.end) for m in sex_mentions] + ([where] if where else [])
        lo = min(p[0] for p in parts)
        hi = max(p[1] for p in parts)
        drafts.append(Draft(sex_mentions[0].entry.label, sex_mentions[0].entry, [(lo, hi)], sex_mentions[0],
                            comparator="==" if value else None, value=value))
        mentions = [m for m in mentions if m.entry.id != "sex"]

    by_mention: dict[int, Draft] = {}
    for m in mentions:
        d = Draft(m.entry.label, m.entry, [(m.start, m.end)], m, from_label=id(m) in label_ids)
        by_mention[id(m)] = d
        drafts.append(d)

    # Comparisons -> subjects.
    unattached = 0
    consumed_temporal: set[int] = set()
    window_of = {t.quantity.value_start: t for t in temporals if t.quantity is not None}
    for comp in comps_free:
        subjects = _subject_before(comp, mentions, text)
        follower = _subject_after(comp, mentions, rec)
        if follower is not None and follower.entry.measured and len(text[comp.end:follower.start].split()) <= 1 \
                and (not subjects or by_mention[id(subjects[-1])].comparison is not None):
            subjects = [follower]  # value first: ">= 140 mmHg SBP and/or >= 90 mmHg DBP"
        if comp.comparator is None and comp.unit is None:
            # A bare number counts only right after its subject ("ECOG 2", "KPS of 70").
            near = subjects and len(text[subjects[-1].end:comp.start].split()) <= 2
            if not near or by_mention[id(subjects[-1])].comparison is not None:
                continue
        t = window_of.get(comp.value_start)
        age_cue = unit_table().is_time(comp.unit) and not subjects and _AGE_CUE.search(
            text[max(start, comp.start - 25):min(end, comp.end + 15)])
        if t is not None and not age_cue and not (subjects and subjects[-1].entry.id in DURATION_CONCEPTS):
            continue  # a time window of an event, attached below
        if t is not None:
            consumed_temporal.add(id(t))
        if not subjects:
            after = _subject_after(comp, mentions, rec)
            if after is not None and (after.entry.measured or not unit_table().is_time(comp.unit)):
                subjects = [after]
        if not subjects and age_cue:
            from nlp.lexicon import get_index  # late: age fallback only
            age = get_index().get("age")
            d = Draft(age.label, age, [(comp.start, comp.end)])
            _apply_comparison(d, comp)
            drafts.append(d)
            continue
        if not subjects:
            if comp.unit is None and comp.comparator is None:
                continue  # a bare number ("Appendix 2") is no requirement
            unattached += 1
            words = [tok for tok in rec.tokens if start <= tok.start and tok.end <= comp.start][-4:]
            cut = max((k for k, tok in enumerate(words) if not tok.raw[0].isalnum()), default=-1)
            words = words[cut + 1:]
            lo = words[0].start if words else comp.start
            d = Draft(text[lo:comp.start].strip(" :,") or text[comp.start:comp.end], None, [(lo, comp.end)])
            _apply_comparison(d, comp)
            drafts.append(d)
            continue
        for s in subjects:
            d = by_mention[id(s)]
            if d.comparison is not None:  # a second threshold on the same concept ("> 18 and < 75")
                d = Draft(s.entry.label, s.entry, [(s.start, s.end)], s, negated=d.negated)
                drafts.append(d)
            _apply_comparison(d, comp)

    for d in drafts:
        _qualitative(d, text, end)
        if d.mention is not None:
            q = _qualifier_regex().search(text[max(start, d.mention.start - 40):d.mention.start])
            inner = _qualifier_regex().match(d.mention.text.lower() + " ")  # "uncontrolled hypertension" as one synonym
            for hit in (q, inner):
                if hit:
                    d.qualifiers.append(re.sub(r"\s+", " ", hit.group("q").lower()))
        if methods and d.entry is not None and (d.entry.measured or d.entry.category in ("biomarker", "cardiac")):
            d.method = methods[0].entry.label  # "CD123 ... detected by flow cytometry"
            d.method_mention = methods[0]

    # Time windows -> their events.
    for t in temporals:
        if id(t) in consumed_temporal:
            continue
        lead_in = text[(label[1] + 1) if label else start:t.start]
        if t.quantity is None and not lead_in.strip(" :") and _COMMA_AFTER.match(text, t.end, end):
            # "After complete response (CR), the recurrence ... or the occurrence of ...": the
            # sentence-initial window scopes every requirement of the clause.
            for d in drafts:
                if d.mention is not None and d.mention.start >= t.end and d.temporal is None:
                    d.temporal = t
            first = next((d for d in drafts if d.temporal is t), None)
            if first is not None:
                first.parts.append((t.start, t.end))
            continue
        before = [d for d in drafts if d.mention is not None and d.mention.end <= t.start]
        after = [d for d in drafts if d.mention is not None and d.mention.start >= t.end]
        target = (after[0] if after else before[-1] if before else None) if t.quantity is None else \
            (before[-1] if before else after[0] if after else None)
        if target is not None and target.temporal is None:
            target.temporal = t
            target.parts.append((t.start, t.end))
            if t.quantity is not None and before and target is before[-1]:
                # "myocardial infarction or stroke within 6 months": the window covers the whole list
                chain = [d for d in before[:-1] if d.temporal is None]
                head = target
                for d in reversed(chain):
                    if not re.fullmatch(r"\s*(?:,|and|or|/|and/or)?\s*(?:,|and|or)?\s*", text[d.mention.end:head.mention.start], re.IGNORECASE):
                        break
                    d.temporal = t
                    head = d
        elif target is None and t.quantity is not None:
            # A window with no known event ("surgery-free interval within 4 weeks"): keep it, unnamed.
            words = [tok for tok in rec.tokens if start <= tok.start and tok.end <= t.start][-5:]
            cut = max((k for k, tok in enumerate(words) if not tok.raw[0].isalnum()), default=-1)
            words = words[cut + 1:]
            lo = words[0].start if words else t.start
            event = text[lo:t.start].strip(" :,") or "event"
            d = Draft(event, None, [(lo, t.end)], temporal=t)
            drafts.append(d)
            unattached += 1

    # Negation cues.
    terms = [x for x in rec.terminators if start <= x.start < end]
    sex_spans = [d.span for d in drafts if d.entry is not None and d.entry.id == "sex"]
    for cue in (x for x in rec.negations if start <= x.start and x.end <= end):
        if _inside(cue.start, cue.end, sex_spans) or _inside(cue.start, cue.end, regions):
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

    # Family cues: "a first-degree relative with breast cancer" is about relatives.
    for cue in (x for x in rec.family if start <= x.start and x.end <= end):
        for d in drafts:
            if d.mention is None or d.anchor < cue.end or d.entry is None or d.entry.domain != "condition":
                continue
            if any(cue.end <= x.start < d.anchor for x in terms) or len(text[cue.end:d.anchor].split()) > 8:
                break
            d.experiencer = "family"

    # Exceptions -> the constraints they qualify.
    for rs, re_ in regions:
        inner = [m for m in exc_mentions if rs <= m.start and m.end <= re_]
        inner_comp = next((x for x in comps if rs <= x.value_start < re_), None)
        cond = next((m for m in inner if m.entry.category in _CONDITION_CATEGORIES), inner[0] if inner else None)
        label = cond.entry.label if cond else (
            _strip_comparison(text, rs, re_, inner_comp).strip("() ,;") if inner_comp else text[rs:re_].strip("() "))
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

    drafts = _dedupe(drafts)
    drafts.sort(key=lambda d: d.anchor)
    links, comma_only = [], []
    for a, b in zip(drafts, drafts[1:]):
        gap = text[min(a.mention.end if a.mention else a.span[1], b.anchor):b.anchor]
        links.append("or" if OR_WORD.search(gap) and not AND_WORD.search(gap) else "and")
        comma_only.append(bool(re.fullmatch(r"\s*,\s*", gap)))
    # "A, B, or C": the commas of a list take the list's final connector.
    for i in range(len(links) - 2, -1, -1):
        if comma_only[i] and links[i + 1] == "or":
            links[i] = "or"
    remainder = _uncovered_requirement(rec, start, end, drafts, regions)
    if remainder is not None:  # the population and the remaining requirement both hold
        drafts.append(remainder)
        links.append("and")
        unattached += 1
    logic = "any" if links and all(x == "or" for x in links) else "all"
    return ClauseResult(drafts, logic, unattached, links)


_STOPWORDS = frozenset("""a an the of in on at to for from with without by as is are was were be been being who which that
this these those their his her its they them he she it or and any all other than such e g eg ie i.e patients patient
subjects subject participants participant individuals people persons adults adult women woman men man male female
males females aged age years year old older younger must should will may can have has had having not no""".split())


def _uncovered_requirement(rec: Recognized, start: int, end: int, drafts: list[Draft], regions) -> Optional[Draft]:
    """'Woman planning to deliver outside the research clinic': when the only recognized
    constraints describe the population (sex, age), the rest of the clause is a requirement
    too; keep it as a free-text constraint instead of dropping it."""
    if not drafts or any(d.entry is None or d.entry.category != "demographic" for d in drafts):
        return None
    covered = [d.span for d in drafts] + list(regions)
    words = [t for t in rec.tokens if start <= t.start and t.end <= end and t.raw[:1].isalpha()
             and t.norm not in _STOPWORDS and not any(a <= t.start < b for a, b in covered)]
    if len(words) < 2:
        return None
    lo, hi = words[0].start, words[-1].end
    return Draft(rec.text[lo:hi], None, [(lo, hi)])


def _dedupe(drafts: list[Draft]) -> list[Draft]:
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
