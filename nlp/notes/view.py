"""A read-only view of one processed note: text, sentences, sections, mentions.

Extractors share it so that nothing is computed twice; it is rebuilt from the
``doc._.trialmatch_*`` extensions (plain data), so a component can also run on
a Doc made by another pipeline.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Callable, Optional

from spacy.tokens import Doc

from nlp.lexicon import Mention
from nlp.notes.records import FactRecord, Section, note_text, register_extensions
from nlp.notes.sections import find_sections
from nlp.notes.sentences import split_sentences


@dataclass
class NoteView:
    text: str
    sentences: list[tuple[int, int]]
    sections: list[Section]
    mentions: list[Mention]
    tokens: list
    records: list[FactRecord]
    _sent_starts: list[int] = field(default_factory=list)
    _sec_starts: list[int] = field(default_factory=list)
    _mention_starts: list[int] = field(default_factory=list)
    cache: dict = field(default_factory=dict)  # per-note scratch shared by extractors

    def __post_init__(self):
        self._sent_starts = [s for s, _ in self.sentences]
        self._sec_starts = [s.start for s in self.sections]
        self._mention_starts = [m.start for m in self.mentions]

    def sentence(self, pos: int) -> tuple[int, int]:
        """The sentence span containing ``pos`` (or the nearest one before it)."""
        i = bisect_right(self._sent_starts, pos) - 1
        if i < 0:
            return self.sentences[0] if self.sentences else (0, len(self.text))
        return self.sentences[i]

    def section(self, pos: int) -> Optional[Section]:
        """The section containing ``pos``."""
        i = bisect_right(self._sec_starts, pos) - 1
        return self.sections[i] if i >= 0 else None

    def line(self, pos: int) -> tuple[int, int]:
        """The line containing ``pos``."""
        start = self.text.rfind("\n", 0, pos) + 1
        end = self.text.find("\n", pos)
        return start, (len(self.text) if end < 0 else end)

    def next_measured_start(self, pos: int) -> int:
        """Start of the first mention of a measured concept at or after ``pos`` (or the text end).

        It ends the value window of the measurement before it ("HR 82  BP 128/76").
        """
        i = bisect_left(self._mention_starts, pos)
        while i < len(self.mentions):
            m = self.mentions[i]
            if m.entry.measured:
                return m.start
            i += 1
        return len(self.text)

    def mentions_between(self, start: int, end: int) -> list[Mention]:
        """Mentions lying entirely inside ``[start, end)``."""
        i = bisect_left(self._mention_starts, start)
        out = []
        while i < len(self.mentions) and self.mentions[i].start < end:
            if self.mentions[i].end <= end:
                out.append(self.mentions[i])
            i += 1
        return out


def view_of(doc: Doc) -> NoteView:
    """The note view of a Doc, built once and kept in ``doc.user_data``."""
    view = doc.user_data.get("trialmatch_view")
    if view is not None:
        return view
    if doc._.trialmatch_records is None:
        doc._.trialmatch_records = []
    text = note_text(doc)
    sentences = doc._.trialmatch_sentences
    if sentences is None:
        sentences = doc._.trialmatch_sentences = split_sentences(text)
    sections = doc._.trialmatch_sections
    if sections is None:
        sections = doc._.trialmatch_sections = find_sections(text)
    view = NoteView(text, sentences, sections, doc._.trialmatch_mentions or [], doc._.trialmatch_tokens or [],
                    doc._.trialmatch_records)
    doc.user_data["trialmatch_view"] = view
    return view


class RecordExtractor:
    """A spaCy component that appends one extractor's records to ``doc._.trialmatch_records``.

    ``extract(view, doc)`` reads the note view (and the Doc, for what earlier
    components left on it, such as the note date) and returns :class:`FactRecord` items.
    """

    def __init__(self, name: str, extract: Callable[[NoteView, Doc], list[FactRecord]]):
        register_extensions()
        self.name = name
        self.extract = extract

    def __call__(self, doc: Doc) -> Doc:
        view = view_of(doc)
        view.records.extend(self.extract(view, doc))
        return doc
