"""Note sections from header rules in medSpaCy's SectionRule format.

The rules live in ``resources/notes/sections.json`` (``{"section_rules": [{"category",
"literal"}]}``), so the same file loads into medspaCy's ``Sectionizer``. Two
engines read it:

* ``"fast"`` (default): one multiline regex. A literal counts as a header only
  at the start of a line, followed by a colon (optionally after a short
  decoration such as a date, "Labs 09/08/2026:") or alone on its line
  ("ECG 09/18/2026"). A section runs to the next header.
* ``"medspacy"``: medspaCy's own ``Sectionizer`` with the same rules
  (``require_start_line=True``). It sets a Python attribute on every token and
  runs its matchers over the Doc, which made it several times slower than the
  regex on our notes (see ``benchmarks/note_throughput.py``).

Both write plain :class:`~nlp.notes.records.Section` records to
``doc._.trialmatch_sections`` (character offsets).
"""


import re
from bisect import bisect_right
from functools import lru_cache
from typing import Optional

from spacy.language import Language
from spacy.tokens import Doc

from nlp.data import load_json
from nlp.grammar.dates import find_dates
from nlp.notes.records import note_text, Section, register_extensions

_RULES_PATH = "notes/sections.json"


def _is_case_sensitive(literal: str) -> bool:
    return len(literal) <= 2 and literal.isupper()


_WS = re.compile(r"[ \t]+")
_LINE = re.compile(r"^[ \t]*(?:[-*#\u2022]+[ \t]*|\d{1,2}[.)][ \t]+)?(?=[A-Za-z0-9])", re.MULTILINE)
_WORD_END = re.compile(r"(?<=[A-Za-z0-9])(?![A-Za-z0-9])")
_BARE_DECORATION = re.compile(r"[ \t]*(?:[\d/.\-]+|\([^()\n]{0,30}\))?[ \t]*")


@lru_cache(maxsize=1)
def _header_table() -> tuple[dict[str, str], dict[str, str], int]:
    """Header literals by their lower-cased, single-spaced form (case-sensitive ones apart)."""
    folded: dict[str, str] = {}
    exact: dict[str, str] = {}
    for rule in load_json(_RULES_PATH)["section_rules"]:
        literal = _WS.sub(" ", rule["literal"].strip())
        if _is_case_sensitive(literal):
            exact.setdefault(literal, rule["category"])
        else:
            folded.setdefault(literal.lower(), rule["category"])
    longest = max(len(k) for k in list(folded) + list(exact))
    return folded, exact, longest


@lru_cache(maxsize=1)
def _first_words() -> frozenset[str]:
    """Lower-cased first words of every header literal: a line starting otherwise is not a header."""
    folded, exact, _ = _header_table()
    return frozenset(_FIRST_WORD.match(k).group(0).lower() for k in list(folded) + list(exact) if _FIRST_WORD.match(k))


_FIRST_WORD = re.compile(r"[A-Za-z0-9]+")


def _header_at(text: str, pos: int, line_end: int) -> Optional[tuple[int, str]]:
    """``(header_end, category)`` when the line at ``pos`` starts with a section header."""
    folded, exact, longest = _header_table()
    if line_end - pos > longest + 34 and text.find(":", pos, pos + longest + 34) < 0:
        return None  # a long line with no early colon is text, not a header
    head = text[pos:min(line_end, pos + longest + 2)]
    # Candidate ends: every word end in the head, longest first ("past medical history" before "history").
    for m in reversed(list(_WORD_END.finditer(head))):
        candidate = head[:m.start()]
        category = exact.get(candidate)
        if category is None:
            if "  " in candidate or "\t" in candidate:
                candidate = _WS.sub(" ", candidate)
            category = folded.get(candidate.lower())
        if category is None:
            continue
        after = pos + m.start()
        colon = text.find(":", after, min(line_end, after + 34))
        if colon >= 0 and not text[colon + 1:colon + 2].isdigit():
            deco = text[after:colon]
            if not re.search(r"[.;]\s", deco) and (not deco or not deco[0].isalnum()):
                return colon + 1, category
        bare = _BARE_DECORATION.match(text, after)
        if bare.end() == line_end:
            return line_end, category
    return None


def find_sections(text: str) -> list[Section]:
    """Sections of a note in order; text before the first header is a section with category None."""
    heads = []
    firsts = _first_words()
    for m in _LINE.finditer(text):
        pos = m.end()
        word = _FIRST_WORD.match(text, pos)
        if word is None or word.group(0).lower() not in firsts:
            continue
        line_end = text.find("\n", pos)
        if line_end < 0:
            line_end = len(text)
        found = _header_at(text, pos, line_end)
        if found:
            start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
            heads.append((start, found[0], found[1]))
    sections: list[Section] = []
    if not heads or heads[0][0] > 0:
        sections.append(Section(None, 0, 0, heads[0][0] if heads else len(text)))
    for i, (start, end, category) in enumerate(heads):
        body_end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        header = text[start:end]
        dates = find_dates(header) if any(c.isdigit() for c in header) else []
        sections.append(Section(category, start, end, body_end, dates[0].iso() if dates else None))
    return sections


def section_at(sections: list[Section], starts: list[int], pos: int) -> Optional[Section]:
    """The section containing character ``pos`` (``starts`` are the section starts)."""
    i = bisect_right(starts, pos) - 1
    return sections[i] if i >= 0 else None


class Sectionizer:
    """spaCy component writing ``doc._.trialmatch_sections``."""

    def __init__(self, nlp: Language, name: str, engine: str = "fast"):
        register_extensions()
        if engine not in ("fast", "medspacy"):
            raise ValueError(f"unknown sectionizer engine {engine!r} (use 'fast' or 'medspacy')")
        self.name = name
        self.engine = engine
        self._medspacy = None
        if engine == "medspacy":
            self._medspacy = _medspacy_sectionizer(nlp)

    def __call__(self, doc: Doc) -> Doc:
        if self._medspacy is None:
            doc._.trialmatch_sections = find_sections(note_text(doc))
        else:
            doc._.trialmatch_sections = _from_medspacy(self._medspacy(doc))
        return doc


def _medspacy_sectionizer(nlp: Language):
    from importlib import resources

    from medspacy.section_detection import Sectionizer as MedspacySectionizer

    path = resources.files("nlp.resources").joinpath(_RULES_PATH)
    return MedspacySectionizer(nlp, name="trialmatch_medspacy_sectionizer", rules=str(path),
                               require_start_line=True, span_attrs=None)


def _from_medspacy(doc: Doc) -> list[Section]:
    out = []
    for s in doc._.sections:
        title_start, title_end = s.title_span
        body_start, body_end = s.body_span
        start = doc[title_start].idx if title_end > title_start else (doc[body_start].idx if body_start < len(doc) else 0)
        header_end = doc[title_end - 1].idx + len(doc[title_end - 1]) if title_end > title_start else start
        end = doc[body_end - 1].idx + len(doc[body_end - 1]) if body_end > body_start else header_end
        out.append(Section(s.category, start, header_end, end))
    return out


@Language.factory("trialmatch_sections", default_config={"engine": "fast"})
def make_sectionizer(nlp: Language, name: str, engine: str) -> Sectionizer:
    """Note sectionizer (rules: ``resources/notes/sections.json``; engine "fast" or "medspacy")."""
    return Sectionizer(nlp, name, engine)
