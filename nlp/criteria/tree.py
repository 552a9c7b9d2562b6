"""Tree: virtual lines -> preamble, sections and nested list items.

Nesting follows the markers: a new enumeration style nests under the previous
item; a style already open pops back to its level; a number that continues a
level's count ("4." after three bullets) joins that level; an item ending
with ':' takes the following items as children.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from nlp.criteria.segment import Line, Marker, split_lines

_FOLLOWING = re.compile(r"\b(?:following|below|these|as\s+follows|defined\s+as|any\s+of|one\s+of|all\s+of|either|include|includes|including|such\s+as|criteria)\b[^:]*:?\s*$", re.IGNORECASE)
_REQUIREMENT = re.compile(
    r"^\W*(?:patients?|subjects?|participants?|individuals?|persons?|people|volunteers?|adults?|children|men|women|males?|females?|age[ds]?|must|should|have|has|having|had|no|not|without|history|diagnos\w*|documented|confirmed|histolog\w*|cytolog\w*|patholog\w*|willing|able|ability|signed|written|life\s+expectancy|ecog|karnofsky|adequate|measurable|prior|previous|known|current|pregnan\w*|any|at\s+least|currently|presence|evidence|received|receiving|use|using|treatment|ongoing|active|clinical|severe|significant|uncontrolled|inability|unable|participation|concurrent|hypersensitivity|allerg\w*)\b"
    r"|[≤≥<>]|\d\s*(?:%|mg|g/|years?|months?|weeks?|days?|x\s*ULN)",
    re.IGNORECASE)
_PREAMBLE = re.compile(r"\b(?:study|trial|protocol|aims?|evaluate|investigate|assess|objective|purpose|summary|background|description|randomi[sz]ed|phase\s+[I1-4]|open-label|single-arm|multicent(?:er|re)|we\s+(?:will|propose|aim))\b", re.IGNORECASE)


@dataclass
class RawNode:
    """An item before constraint analysis; offsets are normalized-text offsets."""

    start: int
    own_end: int
    marker: Marker
    kind: str
    cohort: Optional[str]
    indent: int
    children: list["RawNode"] = field(default_factory=list)
    is_group: bool = False

    @property
    def end(self) -> int:
        return max([self.own_end] + [c.end for c in self.children])


@dataclass
class Level:
    styles: set[str]
    count: int
    indent: int
    nodes: list[RawNode]  # the list the level appends to
    owner: Optional[RawNode]


@dataclass
class Outline:
    """The result of segmentation: preamble, header spans and the item forest."""

    preamble: Optional[tuple[int, int]]
    headers: list[tuple[int, int, str]]  # start, end, inclusion|exclusion|cohort
    roots: list[RawNode]


def _ends_with_colon(text: str, node: RawNode) -> bool:
    return node.is_group or text[node.start:node.own_end].rstrip().endswith(":")


def _is_continuation(text: str, prev: RawNode, line: Line) -> bool:
    prev_text = text[prev.start:prev.own_end].rstrip()
    first = text[line.content_start:line.content_start + 1]
    if not prev_text:
        return False
    if prev_text[-1] in ".;:!?" and not prev_text.endswith(("e.g.", "i.e.", "etc.", "vs.", "approx.")):
        return False
    return first.islower() or first in "(,&" or text[line.content_start:line.end].split(" ", 1)[0].lower() in ("and", "or", "nor", "but", "with", "without", "unless", "except", "including", "who", "which")


def _is_group(text: str, line: Line, max_words: int = 8) -> bool:
    body = text[line.content_start:line.end].strip()
    words = body.rstrip(":").split()
    if not words or len(words) > max_words:
        return False
    if body.endswith(":"):
        return True
    letters = [c for c in body if c.isalpha()]
    return len(letters) >= 6 and all(c.isupper() for c in letters) and not any(ch.isdigit() for ch in body)


def build_outline(text: str) -> Outline:
    """Segment normalized criteria ``text`` into preamble, headers and nested items."""
    lines = split_lines(text)
    headers: list[tuple[int, int]] = []
    roots: list[RawNode] = []
    structured = [i for i, ln in enumerate(lines) if ln.kind in ("header", "cohort") or ln.marker.style != "none"]
    preamble: Optional[tuple[int, int]] = None
    first_item = 0
    if structured:
        lead = lines[:structured[0]]
        count = 0
        for ln in lead:
            body = text[ln.content_start:ln.end]
            if _is_group(text, ln) or (_REQUIREMENT.search(body) and not _PREAMBLE.search(body)):
                break
            count += 1
        if count:
            preamble = (lines[0].start, lines[count - 1].end)
            first_item = count
    section, cohort = "inclusion", None
    stack: list[Level] = [Level(set(), 0, 0, roots, None)]
    prev: Optional[RawNode] = None
    dec_paths: dict[tuple[int, ...], RawNode] = {}

    def push_child(parent: RawNode, node: RawNode, style: str) -> None:
        parent.children.append(node)
        stack.append(Level({style}, 1, node.indent, parent.children, parent))

    def add_at(depth: int, node: RawNode, style: str) -> None:
        del stack[depth + 1:]
        level = stack[depth]
        level.nodes.append(node)
        level.count += 1
        level.styles.add(style)

    for line in lines[first_item:]:
        if line.kind == "header":
            section, cohort = line.section, None
            headers.append((line.start, line.end, line.section))
            stack[:] = [Level(set(), 0, 0, roots, None)]
            prev = None
            continue
        if line.kind == "cohort":
            cohort = text[line.content_start:line.end].rstrip(": ").strip()
            headers.append((line.start, line.end, "cohort"))
            stack[:] = [Level(set(), 0, 0, roots, None)]
            prev = None
            continue
        m = line.marker
        if m.style == "none" and prev is not None and _is_continuation(text, prev, line):
            prev.own_end = line.end
            continue
        if m.style.startswith("alpha") and m.label in ("i", "v", "x"):
            # "i." is a roman numeral unless an alphabetic list has just reached "h."
            letters = any(s.startswith("alpha") and lvl.count == m.value - 1 for lvl in stack for s in lvl.styles)
            if not letters:
                m = Marker("roman" + m.style[-1], {"i": 1, "v": 5, "x": 10}[m.label], m.label, m.start, m.end)
        node = RawNode(line.content_start, line.end, m, section, cohort, line.indent)
        style = m.style
        if m.style == "none" and _is_group(text, line):
            node.is_group = True
            add_at(0, node, "group")
            prev = node
            continue
        colon_prev = prev is not None and _ends_with_colon(text, prev)
        placed = False
        if style == "dec":
            parent = dec_paths.get(m.path[:-1])
            dec_paths[m.path] = node
            if parent is not None:
                for depth in range(len(stack) - 1, -1, -1):
                    if stack[depth].owner is parent:
                        add_at(depth, node, style)
                        break
                else:
                    push_child(parent, node, style)
                prev = node
                continue
        if m.value is not None:
            for depth in range(len(stack) - 1, -1, -1):
                if style in stack[depth].styles and m.value == stack[depth].count + 1:
                    add_at(depth, node, style)
                    placed = True
                    break
            if not placed and m.value > 1:
                for depth in range(len(stack) - 1, -1, -1):
                    if stack[depth].count == m.value - 1 and stack[depth].count > 0:
                        add_at(depth, node, style)
                        placed = True
                        break
            if not placed and m.value == 1 and prev is not None and not (style in stack[-1].styles and not colon_prev):
                push_child(prev, node, style)
                placed = True
            if not placed:
                add_at(len(stack) - 1, node, style)
                placed = True
        else:
            same_level = next((d for d in range(len(stack) - 1, -1, -1) if style in stack[d].styles), None)
            if colon_prev and prev is not None:
                prev_level = stack[-1]
                flat_list = (style == prev.marker.style and style in prev_level.styles and abs(line.indent - prev_level.indent) <= 1
                             and not prev.is_group and not _FOLLOWING.search(text[prev.start:prev.own_end]))
                if flat_list and same_level is not None:
                    add_at(same_level, node, style)
                else:
                    push_child(prev, node, style)
            elif same_level is not None:
                if style == "none" and same_level > 0 and line.indent <= stack[0].indent:
                    same_level = 0 if "none" in stack[0].styles else same_level
                add_at(same_level, node, style)
            elif prev is not None and line.indent > prev.indent:
                push_child(prev, node, style)
            else:
                add_at(0 if style == "none" else len(stack) - 1, node, style)
        if stack[-1].owner is None and len(stack) == 1:
            stack[0].indent = line.indent if stack[0].count == 1 else stack[0].indent
        prev = node
    return Outline(preamble, headers, roots)
