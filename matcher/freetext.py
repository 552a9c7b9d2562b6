"""Free-text search of a phrase in a patient's notes (rapidfuzz), for requirements
the lexicon does not know. It only ever proposes evidence; it never decides."""

from __future__ import annotations

import re
from typing import Mapping

from rapidfuzz import fuzz

_SENTENCE = re.compile(r"[^\n.;!?]+(?:[.;!?]|$)")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{2,}")
_STOP = {"the", "and", "with", "for", "who", "has", "have", "had", "are", "was", "were", "any", "not", "all", "patients",
         "patient", "subjects", "subject", "must", "will", "that", "this", "from", "other", "than", "more", "less", "within"}


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence-like spans of a note (lines and sentence ends), trimmed."""
    out = []
    for m in _SENTENCE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s > 2:
            out.append((s, e))
    return out


def search_phrase(notes: Mapping, phrase: str, min_score: float = 90, split=None) -> list[tuple[str, int, int, float]]:
    """(note_id, start, end, score) of sentences that contain ``phrase`` approximately, best first.

    ``split(note_id)`` may supply cached sentence spans."""
    words = [w.lower() for w in _WORD.findall(phrase) if w.lower() not in _STOP]
    if not words:
        return []
    query = " ".join(words)
    hits = []
    for note_id, note in notes.items():
        text = note.text
        lower = text.lower()
        if not any(w[:5] in lower for w in words):
            continue
        for s, e in (split(note_id) if split else sentences(text)):
            score = fuzz.partial_ratio(query, lower[s:e])
            if score >= min_score:
                hits.append((note_id, s, e, float(score)))
    hits.sort(key=lambda h: (-h[3], h[0], h[1]))
    return hits
