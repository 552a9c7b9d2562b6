"""Build: outline items -> criterion nodes with constraints, logic and categories.

Each item is cut into requirements; a leading "Label:" is a heading, a
defined term ("Refractory: ...") or a required concept ("AML: ...") by the
category of its concept; a lead-in ending with ':' owns the items below it.
When a node's own constraints need 'all' but its children are alternatives,
the children move into a group node (id suffix ``.any``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from nlp.criteria.clauses import COMMA, CONJUNCT, EITHER, cues, find_label, split_requirements, top_level_cuts, trim
from nlp.criteria.constraints import build_clause
from nlp.criteria.drafts import ClauseResult, Draft
from nlp.criteria.recognize import Recognized
from nlp.criteria.tree import RawNode


@dataclass
class Node:
    start: int
    end: int
    kind: str
    cohort: Optional[str]
    logic: str = "all"
    drafts: list[Draft] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)
    id_style: str = "num"
    is_group: bool = False
    category: str = "other"
    status: str = "parsed"
    unattached: int = 0
    head_ids: set[str] = field(default_factory=set)
    disjunctions: list[set[str]] = field(default_factory=list)
    lead_text_end: Optional[int] = None  # end of own text when it is a lead-in
    cid: str = ""

    def subtree_ids(self) -> set[str]:
        out = {d.entry.id for d in self.drafts if d.entry is not None} | self.head_ids
        for c in self.children:
            out |= c.subtree_ids()
        return out


def _style(raw: RawNode) -> str:
    s = raw.marker.style
    if "alpha" in s.lower():
        return "alpha" if "alpha" in s else "ALPHA"
    if "roman" in s:
        return "roman"
    return "num"


class Builder:
    """Turns one outline into criterion nodes, using one recognized text."""

    def __init__(self, rec: Recognized):
        self.rec = rec
        self.text = rec.text

    # -- entry point --------------------------------------------------------------
    def item(self, raw: RawNode, ancestors: list[set[str]]) -> Node:
        text = self.text
        own_s, own_e = trim(text, raw.start, raw.own_end)
        label = find_label(text, own_s, own_e)
        label_mode, label_entry = self._label_mode(label)
        body_s = label[2] if label and label_mode else own_s
        pieces = split_requirements(text, body_s, own_e)
        lead = None
        if raw.children and pieces and text[pieces[-1][0]:pieces[-1][1]].rstrip().endswith(":"):
            lead = pieces.pop()
        # Disjunctions of this item's lead text are visible to its descendants.
        lead_span = lead or (pieces[-1] if pieces else (own_s, own_e))
        here = build_clause(self.rec, lead_span[0], lead_span[1]).disjunctions() if raw.children else []
        kids = [self.item(c, ancestors + here) for c in raw.children]
        for k, c in zip(kids, raw.children):
            k.id_style = _style(c)
        if label and label_mode:
            node = self._labeled(raw, own_s, own_e, label, label_mode, label_entry, pieces, lead, kids, ancestors)
        elif lead is not None:
            lead_node = self._lead(raw, lead, kids, ancestors)
            node = lead_node if not pieces else self._container(raw, own_s, [self.clause(raw, p) for p in pieces] + [lead_node])
        elif len(pieces) > 1:
            node = self._container(raw, own_s, [self.clause(raw, p) for p in pieces] + kids)
        else:
            span = pieces[0] if pieces else (own_s, own_e)
            node = self._lead(raw, span, kids, ancestors) if kids else self.clause(raw, span)
        node.start = own_s
        node.end = max([own_e if not kids else 0] + [node.end] + [k.end for k in kids])
        return node

    # -- pieces -------------------------------------------------------------------
    def _label_mode(self, label) -> tuple[Optional[str], Optional[str]]:
        if label is None:
            return None, None
        inside = [m for m in self.rec.mentions if label[0] <= m.start and m.end <= label[1]]
        if not inside:
            words = self.text[label[0]:label[1]].split()
            return ("heading", None) if len(words) <= 4 else (None, None)
        entry = max(inside, key=lambda m: m.end - m.start).entry
        mode = cues()["label_semantics"].get(entry.category)
        if mode is None:
            return None, None  # "Creatinine: <= 1.5 mg/dL" is one clause, not a label
        return mode, entry.id

    def clause(self, raw: RawNode, span: tuple[int, int], label=None, label_mode=None, split: bool = True) -> Node:
        res = build_clause(self.rec, span[0], span[1], label, label_mode)
        node = self._node(raw, span, res)
        if split and not label:
            parts = self._split(raw, span, res)
            if parts:
                node.children, node.drafts, node.logic = parts[0], [], parts[1]
                return node
        if "or" in res.links and "and" in res.links:
            self._or_runs(raw, node, res)
        return node

    def _or_runs(self, raw: RawNode, node: Node, res: ClauseResult) -> None:
        """'Relapsed or refractory AML': the or-linked run becomes an 'any' child of an 'all' node."""
        runs, current = [], [res.drafts[0]]
        for link, draft in zip(res.links, res.drafts[1:]):
            if link == "or":
                current.append(draft)
            else:
                runs.append(current)
                current = [draft]
        runs.append(current)
        own, kids = [], []
        for run in runs:
            if len(run) == 1:
                own.extend(run)
                continue
            start = min(d.span[0] for d in run)
            end = max(d.span[1] for d in run)
            kids.append(Node(start, end, raw.kind, raw.cohort, "any", run))
        node.drafts, node.children, node.logic = own, kids, "all"

    def _split(self, raw: RawNode, span, res: ClauseResult) -> Optional[tuple[list[Node], str]]:
        """Several complete requirements in one clause become children: (children, logic)."""
        if len(res.drafts) < 2 or res.logic == "any":  # one list of alternatives stays one "any" node
            return None
        text = self.text
        either = self._either(raw, span)
        if either:
            return either, "any"
        for pattern, need in ((COMMA, "complete"), (CONJUNCT, "or")):
            segs = top_level_cuts(text, span[0], span[1], pattern)
            if len(segs) < 2:
                continue
            owner = [[d for d in res.drafts if s <= d.span[0] and d.span[1] <= e] for s, e in segs]
            if sum(len(o) for o in owner) != len(res.drafts) or any(not o for o in owner):
                continue
            if need == "complete" and all(any(d.complete for d in o) for o in owner):
                return [self.clause(raw, seg, split=False) for seg in segs], "all"
            if need == "or":
                subs = [build_clause(self.rec, s, e) for s, e in segs]
                if any(len(x.drafts) > 1 and x.logic == "any" for x in subs):
                    return [self._node(raw, seg, sub) for seg, sub in zip(segs, subs)], "all"
        return None

    def _either(self, raw: RawNode, span) -> list[Node]:
        """"A with X and/or B with Y": a top-level "and/or" between multi-part requirements joins
        alternatives, each of which keeps its own parts."""
        segs = top_level_cuts(self.text, span[0], span[1], EITHER)
        if len(segs) < 2:
            return []
        # Each part is read on its own: read whole, "or 6 to 17 years with asthma" looks like an
        # alternative threshold under a condition.
        if any(len(build_clause(self.rec, s, e).drafts) < 2 for s, e in segs):
            return []  # "women who are pregnant and/or breastfeeding": the draft links say "or"
        return [self.clause(raw, seg) for seg in segs]

    def _node(self, raw: RawNode, span, res: ClauseResult) -> Node:
        node = Node(span[0], span[1], raw.kind, raw.cohort, res.logic, res.drafts, unattached=res.unattached)
        node.disjunctions = res.disjunctions()
        return node

    def _lead(self, raw: RawNode, span, kids: list[Node], ancestors: list[set[str]]) -> Node:
        res = build_clause(self.rec, span[0], span[1], has_children=True)
        node = self._node(raw, span, res)
        node.lead_text_end = span[1]
        node.category = _category_of(res.drafts)  # before restated concepts leave
        restated = set().union(*(k.subtree_ids() for k in kids)) if kids else set()
        # A lead-in concept the children specify ("cardiac conditions:" over MI, CHF) is restated too.
        index = self.rec.index
        restated |= {a for cid in list(restated) for a in index.ancestors(cid)}
        node.drafts = [d for d in res.drafts if d.entry is None or d.entry.id not in restated]
        child_logic = self._children_logic(self.text[span[0]:span[1]], kids, ancestors + node.disjunctions)
        return self._attach(node, kids, child_logic, own_logic="all")

    def _labeled(self, raw, own_s, own_e, label, mode, entry_id, pieces, lead, kids, ancestors) -> Node:
        text = self.text
        if mode == "heading":
            span = (label[2], own_e)
            if lead is None and len(pieces) <= 1 and not kids:
                node = self.clause(raw, pieces[0] if pieces else span)
                node.start = own_s
                return node
            subs = [self.clause(raw, p) for p in pieces]
            if lead is not None:
                subs.append(self._lead(raw, lead, kids, ancestors))
            else:
                subs += kids
            return subs[0] if len(subs) == 1 else self._container(raw, own_s, subs)
        if lead is None and len(pieces) <= 1 and not kids:
            res = build_clause(self.rec, own_s, own_e, (label[0], label[1]), mode)
            sub = self._split(raw, (label[2], own_e), build_clause(self.rec, label[2], own_e))
            node = self._node(raw, (own_s, own_e), res)
            if sub:
                node.drafts = [d for d in res.drafts if d.from_label]
                node.children, node.logic = sub[0], "all"
                if sub[1] == "any":
                    node.children = [Node(sub[0][0].start, sub[0][-1].end, raw.kind, raw.cohort, "any", [], sub[0], is_group=True)]
            if mode == "defined_by":
                node.logic = "any"
            node.head_ids = {entry_id}
            return node
        res = build_clause(self.rec, label[0], label[1], (label[0], label[1]), mode)
        node = self._node(raw, (own_s, own_e), res)
        node.head_ids = {entry_id}
        subs = [self.clause(raw, p) for p in pieces]
        if lead is not None:
            subs.append(self._lead(raw, lead, kids, ancestors))
        else:
            subs += kids
        if mode == "defined_by":
            node.children, node.logic = subs, "any"
            return node
        child_logic = self._children_logic(text[own_s:label[2]], subs, ancestors)
        return self._attach(node, subs, child_logic, own_logic="all")

    def _container(self, raw: RawNode, start: int, subs: list[Node]) -> Node:
        node = Node(start, max(s.end for s in subs), raw.kind, raw.cohort, "all", [], subs)
        return node

    def _attach(self, node: Node, kids: list[Node], child_logic: str, own_logic: str) -> Node:
        if not kids:
            return node
        node.end = max([node.end] + [k.end for k in kids])
        if not node.drafts or child_logic == own_logic:
            node.children, node.logic = kids, (child_logic if not node.drafts else own_logic)
            return node
        group = Node(kids[0].start, max(k.end for k in kids), node.kind, node.cohort, child_logic, [], kids, is_group=True)
        node.children, node.logic = [group], own_logic
        return node

    def _children_logic(self, lead_text: str, kids: list[Node], disjunctions: list[set[str]]) -> str:
        c = cues()
        if c["all_leadin"].search(lead_text):
            return "all"
        if c["any_leadin"].search(lead_text):
            return "any"
        heads = [k.head_ids or {d.entry.id for d in k.drafts if d.entry is not None} for k in kids]
        if len(kids) >= 2 and all(len(h) == 1 for h in heads):
            ids = set().union(*heads)
            if any(ids <= group for group in disjunctions):
                return "any"
        return "all"


def _category_of(drafts: list[Draft]) -> str:
    cats = [d.entry.category for d in drafts if d.entry is not None]
    if not cats:
        return "other"
    priority = cues()["priority"]
    return min(cats, key=lambda c: priority.index(c) if c in priority else len(priority))


def finish(node: Node, text: str) -> None:
    """Fill category and status bottom-up."""
    for child in node.children:
        finish(child, text)
    if node.category == "other":
        node.category = _category_of(node.drafts)
    if node.category == "other" and node.children:
        kid_cats = {c.category for c in node.children}
        if len(kid_cats) == 1:
            node.category = kid_cats.pop()
        elif not node.is_group and node.lead_text_end is not None:
            node.category = _keyword_category(text[node.start:node.lead_text_end])
    elif node.category == "other" and not node.children:
        node.category = _keyword_category(text[node.start:node.end])
    own_ok = all(d.entry is not None for d in node.drafts) and node.unattached == 0
    if node.children:
        kid = [c.status for c in node.children]
        if all(s == "unsupported" for s in kid) and not node.drafts:
            node.status = "unsupported"
        else:
            node.status = "parsed" if own_ok and all(s == "parsed" for s in kid) else "partial"
    elif not node.drafts:
        node.status = "unsupported"
    else:
        node.status = "parsed" if own_ok else "partial"


def _keyword_category(text: str) -> str:
    for category, pattern in cues()["keywords"].items():
        if pattern.search(text):
            return category
    return "other"
