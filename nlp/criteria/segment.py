"""Segmentation: normalized criteria text -> sections, preamble and list items.

Works on normalized text. Physical lines are first cut into *virtual lines*
where a header or a list marker starts mid-line (texts whose line breaks were
stripped, "1) AML: a. ...; b. ..."). Each virtual line becomes a header, a
preamble line, or an item with its marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from nlp.data import load_json

BULLETS = "•·▪◦○●■□♦⁃‣∙*‐»►➢✓-"
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11, "xii": 12}

# A marker at the start of a (virtual) line. Order matters: decimals before plain numbers.
_MARKER = re.compile(
    r"(?P<bullet>[•·▪◦○●■□♦⁃‣∙»►➢✓]|[-*‐](?=\s|[A-Z]))?\s*"
    r"(?:(?P<dec>\d{1,2}(?:\.\d{1,2}){1,3})\.?(?=\s)"
    r"|\((?P<pnum>\d{1,2})\)"
    r"|\[(?P<bnum>\d{1,2})\]"
    r"|(?P<num>\d{1,2})(?P<numsep>[.)])(?=\s|[A-Za-z(\"'])"
    r"|\((?P<palpha>[a-zA-Z])\)"
    r"|(?P<alpha>[a-zA-Z])(?P<alphasep>[.)])(?=\s)"
    r"|\((?P<proman>(?:i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii))\)"
    r"|(?P<roman>(?:ii|iii|iv|vi|vii|viii|ix|xi|xii))(?P<romansep>[.)])(?=\s)"
    r")?"
)
# Inline enumerators after ":" or ";" ("AML: a. Recurrent ...; b. Refractory ...").
_INLINE_ENUM = re.compile(
    r"(?<=[:;])\s+(?P<m>(?P<num>\d{1,2})\)|\((?P<pnum>\d{1,2})\)|(?P<alpha>[a-z])[.)]|\((?P<palpha>[a-z])\)|(?P<roman>i{1,3}|iv|vi{0,3})\))\s+(?=\S)"
)
# Inline numbered items and bullets in texts whose line breaks were stripped.
_INLINE_NUM = re.compile(r"(?:(?<=\s)|(?<=^))(?P<num>\d{1,2})[.)]\s+(?=[A-Z(])")
_INLINE_BULLET = re.compile(r"\s(?P<b>[-•*⁃·▪])\s+(?=[A-Z0-9(<>≤≥])")


@dataclass
class Marker:
    style: str  # "num." "num)" "(num)" "alpha." "(alpha)" "roman." "dec" "bullet:•" "none"
    value: Optional[int]
    label: Optional[str]
    start: int
    end: int
    path: tuple[int, ...] = ()


@dataclass
class Line:
    start: int
    end: int  # content end (trailing spaces trimmed)
    content_start: int
    indent: int
    marker: Marker
    kind: str = "item"  # item | header | cohort | group | preamble | blank
    section: Optional[str] = None  # inclusion | exclusion
    cohort: Optional[str] = None
    physical_line: int = 0
    inline: bool = False


@dataclass
class _SectionGrammar:
    inclusion: re.Pattern
    exclusion: re.Pattern
    cohort: re.Pattern
    inline: re.Pattern
    group_max_words: int


@lru_cache(maxsize=1)
def _sections() -> _SectionGrammar:
    spec = load_json("criteria/sections.json")

    def full(patterns: list[str]) -> re.Pattern:
        return re.compile(r"^\W{0,3}(?:" + "|".join(patterns) + r")\s*(?:[:.\-\u2013]\s*)?$", re.IGNORECASE)

    inline = re.compile(
        r"(?P<h>(?:key\s+|main\s+)?(?P<kind>inclusion|exclusion|non[- ]?inclusion)\s+criteria(?:\s+for\s+[^:\n]{1,40})?)\s*:", re.IGNORECASE)
    return _SectionGrammar(full(spec["inclusion"]), full(spec["exclusion"]), full(spec["cohort"]), inline, spec["group_max_words"])


def _alpha_value(label: str) -> int:
    return ord(label.lower()) - ord("a") + 1


def parse_marker(text: str, pos: int) -> Marker:
    """The list marker at ``pos`` (or a "none" marker of zero width)."""
    m = _MARKER.match(text, pos)
    g = m.groupdict() if m else {}
    if not m or m.end() == pos:
        return Marker("none", None, None, pos, pos)
    bullet = g.get("bullet")
    if g.get("dec"):
        parts = tuple(int(p) for p in g["dec"].split("."))
        return Marker("dec", parts[-1], g["dec"], m.start(), m.end(), parts)
    if g.get("pnum"):
        return Marker("(num)", int(g["pnum"]), g["pnum"], m.start(), m.end())
    if g.get("bnum"):
        return Marker("[num]", int(g["bnum"]), g["bnum"], m.start(), m.end())
    if g.get("num"):
        return Marker("num" + g["numsep"], int(g["num"]), g["num"], m.start(), m.end())
    if g.get("proman"):
        return Marker("(roman)", _ROMAN[g["proman"]], g["proman"], m.start(), m.end())
    if g.get("roman"):
        return Marker("roman" + g["romansep"], _ROMAN[g["roman"]], g["roman"], m.start(), m.end())
    if g.get("palpha"):
        lab = g["palpha"]
        return Marker("(alpha)" if lab.islower() else "(ALPHA)", _alpha_value(lab), lab, m.start(), m.end())
    if g.get("alpha"):
        lab = g["alpha"]
        return Marker(("alpha" if lab.islower() else "ALPHA") + g["alphasep"], _alpha_value(lab), lab, m.start(), m.end())
    if bullet:
        return Marker("bullet:" + bullet, None, None, m.start(), m.start() + 1)
    return Marker("none", None, None, pos, pos)


def _inline_cuts(text: str, start: int, end: int, next_line_marker: Optional[Marker], stripped: bool) -> list[int]:
    """Positions inside a physical line where a new virtual line starts."""
    cuts: set[int] = set()
    segment = text[start:end]
    g = _sections()
    for m in g.inline.finditer(segment):
        if m.start() > 0:
            cuts.add(start + m.start())
        after = start + m.end()
        while after < end and text[after] == " ":
            after += 1
        if after < end:
            cuts.add(after)
    # Enumerators after ':' or ';' that form a sequence (a., b. ... or 1) then "2)" next line).
    found: dict[str, list[tuple[int, int]]] = {}
    for m in _INLINE_ENUM.finditer(segment):
        gd = m.groupdict()
        if gd["num"] or gd["pnum"]:
            style, value = ("num)" if gd["num"] else "(num)"), int(gd["num"] or gd["pnum"])
        elif gd["alpha"] or gd["palpha"]:
            style, value = ("alpha" + m.group("m")[-1] if gd["alpha"] else "(alpha)"), _alpha_value(gd["alpha"] or gd["palpha"])
        else:
            style, value = "roman)", _ROMAN.get(gd["roman"], 0)
        found.setdefault(style, []).append((value, start + m.start("m")))
    for style, items in found.items():
        expected = 1
        chain = []
        for value, pos in items:
            if value == expected:
                chain.append(pos)
                expected += 1
        continues = next_line_marker is not None and next_line_marker.style == style and next_line_marker.value == expected
        if len(chain) >= 2 or (len(chain) == 1 and continues):
            cuts.update(chain)
    if stripped:
        nums = [(int(m.group("num")), start + m.start("num")) for m in _INLINE_NUM.finditer(segment)]
        expected, chain = 1, []
        for value, pos in nums:
            if value == expected:
                chain.append(pos)
                expected += 1
        if len(chain) >= 2:
            cuts.update(p for p in chain if p > start)
        bullets = [start + m.start("b") for m in _INLINE_BULLET.finditer(segment)]
        if len(bullets) >= 2:
            cuts.update(bullets)
    else:
        bullets = [start + m.start("b") for m in _INLINE_BULLET.finditer(segment)]
        if len(bullets) >= 3:  # "Inclusion Criteria: - Age >= 18 - ECOG 0-1 - ..."
            cuts.update(bullets)
    return sorted(c for c in cuts if start < c < end)


def _classify_header(text: str) -> tuple[Optional[str], Optional[str]]:
    g = _sections()
    stripped = text.strip()
    if len(stripped) > 220:
        return None, None
    if g.exclusion.match(stripped):
        return "header", "exclusion"
    if g.inclusion.match(stripped):
        return "header", "inclusion"
    if stripped.endswith(":") and g.cohort.match(stripped):
        return "cohort", None
    return None, None


def split_lines(text: str) -> list[Line]:
    """Virtual lines of normalized ``text`` with markers and header kinds (no nesting yet)."""
    physical: list[tuple[int, int]] = []
    pos = 0
    for part in text.split("\n"):
        physical.append((pos, pos + len(part)))
        pos += len(part) + 1
    nonblank = [(s, e) for s, e in physical if text[s:e].strip()]
    longest = max((e - s for s, e in nonblank), default=0)
    stripped = longest > 300 and (len(nonblank) <= 3 or longest > 1500)
    lines: list[Line] = []
    for index, (s, e) in enumerate(physical):
        if not text[s:e].strip():
            continue
        nxt = None
        for s2, e2 in physical[index + 1:]:
            if text[s2:e2].strip():
                nxt = parse_marker(text, s2 + len(text[s2:e2]) - len(text[s2:e2].lstrip()))
                break
        cuts = _inline_cuts(text, s, e, nxt, stripped or (e - s) > 600)
        bounds = [s] + cuts + [e]
        for k in range(len(bounds) - 1):
            vs, ve = bounds[k], bounds[k + 1]
            while vs < ve and text[vs] in " \t":
                vs += 1
            while ve > vs and text[ve - 1] in " \t":
                ve -= 1
            if vs >= ve:
                continue
            marker = parse_marker(text, vs)
            content = marker.end
            while content < ve and text[content] in " \t":
                content += 1
            if not any(ch.isalnum() for ch in text[content:ve]):
                continue  # a stray bullet or dash alone
            line = Line(vs, ve, content, vs - s, marker, physical_line=index, inline=k > 0)
            kind, section = _classify_header(text[content:ve])
            if kind:
                line.kind, line.section = kind, section
            lines.append(line)
    return lines
