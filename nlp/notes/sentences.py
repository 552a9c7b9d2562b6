"""Sentence splitting for clinical notes: line-based first, punctuation second.

Clinical notes are mostly lines: lab tables, vitals rows, list items and
headers, where a period is rare and a line break is the real boundary. Wrapped
prose is the exception, so a line break does *not* end a sentence when the
next line starts in lower case or the line ends in a continuation mark
(a comma, an opening bracket, "and", "with" ...). Within a line, ``.``, ``!``
and ``?`` followed by a space and a capital or a digit end a sentence unless
the word before is a known abbreviation ("Dr.", "vs.", "approx.").

The splitter is a single regex pass over the text; it is a fraction of the
cost of tokenization (medSpaCy's PyRuSH was ~20x slower than tokenization on
the same notes, see ``benchmarks/note_throughput.py``).
"""


import re
from bisect import bisect_right
from functools import lru_cache

import numpy as np
from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from nlp.notes.records import note_text, register_extensions

from nlp.data import load_json

# (?=[\n \t]): a quick fail at most characters, before the costlier lookbehind (throughput).
_CANDIDATES = re.compile(r"(?=[\n \t])(?:\n|(?<=[.!?])[ \t]+(?=[A-Z0-9(\[\"']))")
_CONTINUE_WORD = re.compile(r"(?:\b(?:and|or|with|w/|of|to|for|the|a|an|in|on|at|by|from|but|nor|versus|vs)|[,(\[&+/=]|[^>]-)[ \t]*$", re.IGNORECASE)
_CONTINUE_REACH = 6  # the longest cue of _CONTINUE_WORD ("versus"): a match starts no further back
_LIST_START = re.compile(r"[ \t]*(?:[-*\u2022]|\d{1,2}[.)]|[A-Za-z][.)])[ \t]")


def _continues(line: str) -> bool:
    """A line ending with a word or mark that the next line continues ("... and", "...,")."""
    # Searching from just before the end is exact (the pattern is anchored there, and \b still
    # sees the character before the start position) and spares a scan of the whole line.
    return _CONTINUE_WORD.search(line, max(0, len(line.rstrip(" \t")) - _CONTINUE_REACH)) is not None


@lru_cache(maxsize=1)
def _abbreviations() -> frozenset[str]:
    return frozenset(a.lower() for a in load_json("notes/patterns.json")["abbreviations"])


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence ``(start, end)`` character spans covering the non-blank text, in order.

    >>> split_sentences("Labs:\\nCr 0.9 (0.6-1.2)\\nPlt 41. Denies fever,\\ncough.")
    [(0, 5), (6, 22), (23, 30), (31, 51)]
    """
    cuts = [0]
    abbreviations = _abbreviations()
    for m in _CANDIDATES.finditer(text):
        pos = m.start()
        if m.group(0) == "\n":
            line_start = text.rfind("\n", 0, pos) + 1
            line = text[line_start:pos]
            nxt_end = text.find("\n", pos + 1)
            nxt = text[pos + 1:nxt_end if nxt_end >= 0 else len(text)]
            stripped = nxt.lstrip()
            if (line.strip() and stripped and stripped[0].islower() and not _LIST_START.match(nxt)
                    and not line.rstrip().endswith((":", ".", ";"))):
                continue  # wrapped prose: "Normal RV\nsize/function."
            if line.strip() and stripped and _continues(line) and not _LIST_START.match(nxt):
                continue  # "7+3 induction -> CR1 04/2024,\nHiDAC consolidation x4"
            cuts.append(pos + 1)
        else:
            if pos >= 2 and text[pos - 2] == ".":
                continue  # dot leaders ("Creatinine ...... 2.3") and ellipses
            word_start = max(text.rfind(" ", 0, pos), text.rfind("\n", 0, pos), text.rfind("\t", 0, pos)) + 1
            word = text[word_start:pos].lower()
            if word in abbreviations or (len(word) == 2 and word[0].isalpha()):  # "Dr.", "A."
                continue
            cuts.append(m.end())
    cuts.append(len(text))
    spans = []
    for a, b in zip(cuts, cuts[1:]):
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            spans.append((a, b))
    return spans


def sentence_of(spans: list[tuple[int, int]], starts: list[int], pos: int) -> tuple[int, int]:
    """The sentence span containing character ``pos`` (``starts`` are the span starts)."""
    i = bisect_right(starts, pos) - 1
    if i < 0:
        return spans[0] if spans else (0, 0)
    return spans[i]


def set_sentence_starts(doc: Doc, spans: list[tuple[int, int]]) -> None:
    """Mark the first token of each sentence span (others are explicitly not starts)."""
    if not len(doc):
        return
    idx = doc.to_array([IDX]).astype(np.int64)
    flags = np.full(len(doc), -1, dtype=np.int64)
    flags[0] = 1
    firsts = np.searchsorted(idx, np.fromiter((s for s, _ in spans), dtype=np.int64, count=len(spans)), side="left")
    flags[firsts[firsts < len(doc)]] = 1
    doc.from_array([SENT_START], flags.astype(np.uint64).reshape(-1, 1))


class SentenceSplitter:
    """spaCy component: sets sentence starts and ``doc._.trialmatch_sentences`` (char spans)."""

    def __init__(self, nlp: Language, name: str, set_token_starts: bool = True):
        register_extensions()
        self.name = name
        self.set_token_starts = set_token_starts

    def __call__(self, doc: Doc) -> Doc:
        spans = split_sentences(note_text(doc))
        doc._.trialmatch_sentences = spans
        if self.set_token_starts:
            set_sentence_starts(doc, spans)
        return doc


@Language.factory("trialmatch_sentences", default_config={"set_token_starts": True})
def make_sentence_splitter(nlp: Language, name: str, set_token_starts: bool) -> SentenceSplitter:
    """Line-aware sentence splitter (``doc.sents`` works; char spans on ``doc._.trialmatch_sentences``)."""
    return SentenceSplitter(nlp, name, set_token_starts)
