"""Parse a protocol's eligibility text into the contract's criteria tree.

``text -> normalize -> outline (sections, items) -> recognize (mentions) ->
build (constraints, logic) -> ids + original spans -> Protocol``.
"""

from __future__ import annotations

from typing import Optional

from nlp.criteria.build import Builder, Node, finish
from nlp.criteria.drafts import Draft
from nlp.criteria.recognize import recognize
from nlp.criteria.tree import build_outline
from nlp.grammar.units import unit_table
from nlp.lexicon import ConceptIndex
from nlp.schema import Code, Concept, Constraint, Criterion, ExceptionClause, Protocol, Section, Temporal
from nlp.text import NormalizedText, normalize, trim_span

_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv"]


def _component(style: str, position: int) -> str:
    if style == "alpha" and position <= 26:
        return chr(ord("a") + position - 1)
    if style == "ALPHA" and position <= 26:
        return chr(ord("A") + position - 1)
    if style == "roman" and position <= len(_ROMAN):
        return _ROMAN[position - 1]
    return str(position)


class _Converter:
    def __init__(self, norm: NormalizedText):
        self.norm = norm
        self.units = unit_table()

    def span(self, start: int, end: int) -> tuple[int, int]:
        s, e = self.norm.to_original(start, end)
        s, e = trim_span(self.norm.original, s, e)
        return s, e

    def concept(self, entry, label: str) -> Concept:
        if entry is None:
            return Concept(label=label, domain="observation")
        return Concept(label=entry.label, domain=entry.domain, codes=[Code(system=s, code=c) for s, c in entry.codes],
                       id=entry.id, category=entry.category)

    def constraint(self, d: Draft) -> Constraint:
        s, e = self.span(*d.span)
        temporal = None
        if d.temporal is not None:
            t = d.temporal
            ts, te = self.span(t.start, t.end)
            temporal = Temporal(comparator=t.comparator, value=t.value, value2=t.value2, unit=t.unit, days=t.days,
                                anchor=t.anchor, relation=t.relation, text=self.norm.original[ts:te], span=(ts, te))
        exceptions = []
        for x in d.exceptions:
            xs, xe = self.span(x.start, x.end)
            xs, xe = trim_span(self.norm.original, xs, xe, " ()")
            comp = x.comparison
            exceptions.append(ExceptionClause(
                condition=Concept(label=x.entry.label if x.entry else x.label, codes=[Code(system=a, code=b) for a, b in (x.entry.codes if x.entry else ())],
                                  id=x.entry.id if x.entry else None, domain=x.entry.domain if x.entry else None),
                concept_span=self.span(x.mention.start, x.mention.end) if x.mention else None,
                comparator=(comp.comparator or "==") if comp else None, value=comp.value if comp else None,
                value2=comp.value2 if comp else None, unit=comp.unit if comp else None,
                text=self.norm.original[xs:xe], span=(xs, xe)))
        concept_span = self.span(d.mention.start, d.mention.end) if d.mention is not None else None
        return Constraint(concept=self.concept(d.entry, d.label), negated=d.negated, comparator=d.comparator,
                          value=d.value, value2=d.value2, unit=d.unit, temporal=temporal, exceptions=exceptions,
                          text=self.norm.original[s:e], span=(s, e), concept_span=concept_span,
                          qualifiers=list(dict.fromkeys(d.qualifiers)), method=d.method,
                          method_span=self.span(d.method_mention.start, d.method_mention.end) if d.method_mention else None,
                          mentions=sorted({concept_span} | {self.span(m.start, m.end) for m in d.others}) if concept_span else [],
                          experiencer=d.experiencer)

    def criterion(self, node: Node) -> Criterion:
        s, e = self.span(node.start, node.end)
        return Criterion(id=node.cid, kind=node.kind, text=self.norm.original[s:e], span=(s, e), category=node.category,
                         status=node.status, logic=node.logic, children=[self.criterion(c) for c in node.children],
                         constraints=[self.constraint(d) for d in node.drafts], cohort=node.cohort)


def assign_ids(node: Node, cid: str) -> None:
    """Positional ids ("I3.1.a"); a group is "<parent>.any" and its members are
    numbered as children of the group's parent."""
    node.cid = cid
    position = 0
    for child in node.children:
        if child.is_group:
            child.cid = f"{cid}.{child.logic}"
            for i, member in enumerate(child.children):
                assign_ids(member, f"{cid}.{_component(member.id_style, i + 1)}")
            continue
        position += 1
        assign_ids(child, f"{cid}.{_component(child.id_style, position)}")


def parse_protocol(text: str, trial_id: str = "protocol", title: Optional[str] = None,
                   index: Optional[ConceptIndex] = None) -> Protocol:
    """Parse eligibility-criteria ``text`` into a :class:`~nlp.schema.Protocol`.

    Every span in the result indexes ``text`` exactly as given.
    """
    if not isinstance(text, str):
        raise TypeError("protocol text must be a string")
    norm = normalize(text)
    outline = build_outline(norm.text)
    rec = recognize(norm.text, index)
    builder = Builder(rec)
    conv = _Converter(norm)
    criteria: list[Criterion] = []
    counters = {"inclusion": 0, "exclusion": 0}
    for raw in outline.roots:
        node = builder.item(raw, [])
        finish(node, norm.text)
        counters[node.kind] += 1
        prefix = "I" if node.kind == "inclusion" else "E"
        assign_ids(node, f"{prefix}{counters[node.kind]}")
        criteria.append(conv.criterion(node))
    preamble = conv.span(*outline.preamble) if outline.preamble else None
    if title is None and preamble is not None:
        first_line = text[preamble[0]:preamble[1]].split("\n", 1)[0].strip()
        title = first_line or None
    sections = []
    for hs, he, kind in outline.headers:
        s, e = conv.span(hs, he)
        sections.append(Section(kind=kind, text=text[s:e], span=(s, e)))
    return Protocol(trial_id=trial_id, title=title, text=text, preamble_span=preamble, criteria=criteria, sections=sections)
