"""Constraints: one requirement clause -> constraint drafts and their logic.

A clause is a span of normalized text. Its concept mentions become
constraints; comparisons attach to their subjects ("ALT and AST <= 3 x ULN"
gives both), time windows to their events, negation cues to what they scope,
and exception regions ("(Gilbert syndrome <= 3.0 x ULN)", "except ...") to
the constraints they qualify.
"""

from __future__ import annotations

import re
from typing import Optional

from nlp.criteria.clauses import cues
from nlp.criteria.drafts import ClauseResult, Draft, inside
from nlp.criteria.exceptions import attach_exceptions, exception_regions
from nlp.criteria.modifiers import apply_family, apply_negation, clause_links, dedupe, mark_qualifiers_and_methods, uncovered_requirement
from nlp.criteria.recognize import Recognized
from nlp.grammar.comparisons import Comparison
from nlp.grammar.units import unit_table
from nlp.lexicon import Mention, is_absent_form

DURATION_CONCEPTS = {"life_expectancy", "age", "gestational_age"}  # measured in time units: a value, not a window
_COMMA_AFTER = re.compile(r"\s*(?:\([^()]{1,20}\))?\s*,")  # "After complete response (CR), ..."


_AGE_CUE = re.compile(r"\b(?:age[ds]?|old|older|younger|of\s+age|infants?|newborns?|neonates?|born)\b", re.IGNORECASE)


def _measured_sign(mention: Mention, index) -> Optional[object]:
    """The measurement a sign is read on ("fever > 38.5" is a body temperature), from the lexicon's 'related'."""
    if mention.entry.type != "symptom":
        return None
    return next((e for e in (index.get(r) for r in mention.entry.related) if e is not None and e.measured), None)


def _subject_before(comp: Comparison, mentions: list[Mention], text: str, index=None) -> list[Mention]:
    """The measured concepts a comparison applies to, including conjoined ones."""
    before = [m for m in mentions if m.end <= comp.value_start and (m.entry.measured or m.entry.category == "biomarker"
                                                                     or (index is not None and _measured_sign(m, index)))]
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


EVENT_TYPES = {"therapy", "drug_class", "procedure", "diagnosis"}


def _own_event(t, anchors: list[Mention]) -> Optional[Mention]:
    """The event a window's anchor names ("since prior chemotherapy"), when it is a therapy, procedure or condition."""
    if t.relation != "after" or t.quantity is None:
        return None
    inner = [m for m in anchors if t.quantity.end <= m.start and m.end <= t.end]
    events = [m for m in inner if m.entry.type in EVENT_TYPES or m.entry.domain in ("drug", "procedure")]
    return events[0] if len(events) == 1 and len(inner) == 1 else None


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
    regions = exception_regions(rec, start, end, comps, mentions)
    exc_mentions = [m for m in mentions if inside(m.start, m.end, regions)]
    mentions = [m for m in mentions if not inside(m.start, m.end, regions)]
    # Numbers inside a concept's name ("type 1 diabetes", "7+3") are not thresholds.
    comps_free = [x for x in comps if not inside(x.value_start, x.value_end, regions)
                  and not any(m.start <= x.value_start and x.value_end <= m.end for m in mentions)]
    # "One or more risk factors, such as A, B and C": a quantifier over the list, not a count of A.
    any_cue = cues()["list_any"].search(text, start, end)
    if any_cue is not None:
        comps_free = [x for x in comps_free if not (any_cue.start() <= x.value_start < any_cue.end())]

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
    # "Bipolar disorder diagnosed with DSM-IV criteria": the criteria say how, the disorder is the requirement.
    by_criteria = [m for m in mentions if m.entry.type == "pattern" and m.entry.label.rsplit(" ", 1)[-1] == "criteria"]
    if by_criteria and any(m not in by_criteria and m.entry.category != "demographic" for m in mentions):
        mentions = [m for m in mentions if m not in by_criteria]
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
        subjects = _subject_before(comp, mentions, text, rec.index)
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
            measured = _measured_sign(s, rec.index)
            if measured is not None:  # "Fever > 38.5 °C": the threshold is on the body temperature
                d.entry, d.label = measured, measured.label
            _apply_comparison(d, comp)

    mark_qualifiers_and_methods(drafts, text, start, end, methods)

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
        elif target is None and t.quantity is not None and (m := _own_event(t, anchors)) is not None:
            # "At least 4 weeks since prior chemotherapy": the anchor is the event itself; the window
            # is the time elapsed since it (the matcher reads an anchor naming its own concept so).
            d = Draft(m.entry.label, m.entry, [(m.start, m.end), (t.start, t.end)], m, temporal=t)
            mark_qualifiers_and_methods([d], text, start, end, [])  # "since any major surgery"
            by_mention[id(m)] = d
            drafts.append(d)
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

    apply_negation(rec, drafts, start, end, regions)
    for d in drafts:
        if d.mention is not None and is_absent_form(d.mention.text, d.mention.entry.id):
            d.negated = True  # "Patients must be afebrile"
    apply_family(rec, drafts, start, end)
    attach_exceptions(text, drafts, regions, exc_mentions, comps)

    drafts = dedupe(drafts)
    drafts.sort(key=lambda d: d.anchor)
    drafts = _without_drug_effects(text, start, end, drafts)
    links = clause_links(drafts, text)
    if any_cue is not None and sum(d.anchor >= any_cue.end() for d in drafts) >= 2:
        links = ["or" if b.anchor >= any_cue.end() and a.anchor >= any_cue.end() else link
                 for link, a, b in zip(links, drafts, drafts[1:])]
    drafts, links = _symptom_examples(text, start, end, drafts, links)
    remainder = uncovered_requirement(rec, start, end, drafts, regions)
    if remainder is not None:  # the population and the remaining requirement both hold
        drafts.append(remainder)
        links.append("and")
        unattached += 1
    logic = "any" if links and all(x == "or" for x in links) else "all"
    return ClauseResult(drafts, logic, unattached, links)


def _symptom_examples(text: str, start: int, end: int, drafts: list[Draft], links: list[str]) -> tuple[list[Draft], list[str]]:
    """"Symptoms of X, including A and B": any of the examples; X and the head words go."""
    cue = cues()["examples_of"].search(text, start, end)
    if cue is None:
        return drafts, links
    examples = [d for d in drafts if d.anchor >= cue.end()]
    if not examples:
        return drafts, links
    head = [d for d in drafts if d.anchor < cue.end() and d.span[1] > cue.start()]
    if any(d.comparator or d.temporal or d.negated for d in head):
        return drafts, links
    kept = [d for d in drafts if d not in head]
    out = []
    for a, b in zip(kept, kept[1:]):
        out.append("or" if a in examples and b in examples else "and")
    return kept, out


def _without_drug_effects(text: str, start: int, end: int, drafts: list[Draft]) -> list[Draft]:
    """Drop the concepts of "medications that could affect X" that only say what the drugs do."""
    out = drafts
    for cue in cues()["drug_effect"].finditer(text, start, end):
        head_end = cue.start() + len(text[cue.start():cue.end()].split(" ", 1)[0])  # "medications"
        effect = [d for d in out if d.mention is not None and head_end < d.anchor < cue.end() and not d.comparator
                  and (d.entry is None or d.entry.domain != "drug")]
        if effect and len(effect) < len(out):
            out = [d for d in out if d not in effect]
    return out

