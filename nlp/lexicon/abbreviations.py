"""Abbreviations: a clinical abbreviation table, and short forms defined in the text.

* ``resources/lexicon/abbreviations.csv`` adds short forms ("CHF", "MoCA") to the
  index as synonyms of the concept their expansion names
  (:func:`add_abbreviation_table`, called when an index is built).
* :func:`abbreviation_mentions` runs scispaCy's ``AbbreviationDetector``
  (Schwartz & Hearst) over one document: for "chronic graft-versus-host disease
  (cGVHD)" every later "cGVHD" in the same document becomes a mention of the
  long form's concept. Both the protocol parser and the note extractor call it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from nlp.data import load_csv
from nlp.lexicon.entries import ConceptEntry
from nlp.lexicon.index import ConceptIndex, Mention, Token, tokenize

_DEFINITION_HINT = re.compile(r"\(\s*[^\s()]{2,10}\s*\)|\w\s*\([^()]{6,}\)")
TABLE_PRIORITY = 5


def add_abbreviation_table(index: ConceptIndex) -> None:
    """Index every row of the abbreviation table (short form -> its expansion's concept)."""
    for row in load_csv("lexicon/abbreviations.csv"):
        entry = index.lookup(row["expansion"])
        if entry is None or entry.domain != row["domain"]:
            slug = re.sub(r"[^a-z0-9]+", "_", row["expansion"].lower()).strip("_")
            entry = index.get("abbr:" + slug)
            if entry is None:
                measured = row["domain"] == "measurement"
                entry = ConceptEntry(id="abbr:" + slug, label=row["expansion"], category=row["category"],
                                     type=row["category"], domain=row["domain"], synonyms=(row["expansion"],),
                                     source="curated-measurement" if measured else "curated")
                index.add(entry, priority=TABLE_PRIORITY)
        index.add_synonym(entry.id, row["abbr"], TABLE_PRIORITY)


@lru_cache(maxsize=1)
def _detector():
    import warnings

    import spacy
    from scispacy.abbreviation import AbbreviationDetector  # noqa: F401 - registers the factory

    # The detector's global matcher has no patterns by design; spaCy warns about it on every call.
    warnings.filterwarnings("ignore", message=r"\[W036\]")

    nlp = spacy.blank("en")
    nlp.add_pipe("abbreviation_detector")
    return nlp


def defined_abbreviations(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """``[((short_start, short_end), (long_start, long_end))]`` for every short form the
    text defines, one pair per occurrence of the short form anywhere in the text.

    scispaCy's detector reads only the lines that hold a parenthesis (definitions are
    local; tokenizing whole documents would dominate the parse time); later uses of a
    defined short form are then found in the whole text as whole words.
    """
    if "(" not in text or not _DEFINITION_HINT.search(text):
        return []
    nlp = _detector()
    defined: dict[str, tuple[int, int]] = {}
    pos = 0
    for line in text.split("\n"):
        if "(" in line and _DEFINITION_HINT.search(line):
            doc = nlp(line)
            for short in doc._.abbreviations:
                long = short._.long_form
                defined.setdefault(short.text, (pos + long.start_char, pos + long.end_char))
        pos += len(line) + 1
    out = []
    for short in sorted(defined):
        long = defined[short]
        for m in re.finditer(r"(?<![\w-])" + re.escape(short) + r"(?![\w-])", text):
            if not (long[0] <= m.start() < long[1]):
                out.append(((m.start(), m.end()), long))
    return out


def _concept_of_long_form(index: ConceptIndex, text: str, span: tuple[int, int],
                          mentions: list[Mention]) -> Optional[ConceptEntry]:
    s, e = span
    inside = [m for m in mentions if m.start >= s and m.end <= e and m.route != "abbreviation"]
    if inside:
        longest = max(inside, key=lambda m: (m.end - m.start, -m.start))
        if (longest.end - longest.start) >= 0.6 * (e - s):
            return longest.entry
    found = index.normalize(text[s:e], limit=1)
    return found[0][0] if found else None


def abbreviation_mentions(text: str, index: ConceptIndex, mentions: list[Mention],
                          tokens: Optional[list[Token]] = None) -> list[Mention]:
    """Extra mentions for short forms defined in ``text`` and not already recognized."""
    pairs = defined_abbreviations(text)
    if not pairs:
        return []
    tokens = tokens if tokens is not None else tokenize(text)
    tok_at = {t.start: k for k, t in enumerate(tokens)}
    tok_end = {t.end: k for k, t in enumerate(tokens)}
    taken = [(m.start, m.end) for m in mentions]
    extra: list[Mention] = []
    concepts: dict[str, Optional[ConceptEntry]] = {}
    for (ss, se), long in pairs:
        short = text[ss:se]
        if short not in concepts:
            concepts[short] = _concept_of_long_form(index, text, long, mentions)
        entry = concepts[short]
        if entry is None or any(a < se and ss < b for a, b in taken):
            continue
        if ss not in tok_at or se not in tok_end:
            continue
        taken.append((ss, se))
        extra.append(Mention(ss, se, short, entry, "abbreviation", 0.95, tok_at[ss], tok_end[se] + 1))
    return extra
