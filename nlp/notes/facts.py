"""Doc -> contract ``Fact`` models.

The note components leave :class:`~nlp.notes.records.FactRecord` records on the
Doc; :func:`doc_to_facts` turns them into ``nlp.schema.Fact``: exact spans into
the note text (``text == note[start:end]``, trimmed of surrounding spaces), the
lexicon concept (label, codes, id, domain, category) and the fact ``type``.
Facts come out in text order, one per record, duplicates removed.
"""

from __future__ import annotations

from typing import Optional

from spacy.tokens import Doc

from nlp.lexicon import ConceptEntry, get_index
from nlp.notes.records import FactRecord, note_text
from nlp.schema import Code, Concept, Fact

_MEASURED = {"lab", "vital", "cardiac", "performance_status", "blasts"}
_DOMAINS = {"condition", "drug", "procedure", "measurement", "observation", "device", "demographic"}
_concepts: dict[tuple[int, str], Concept] = {}


def concept_of(entry: ConceptEntry) -> Concept:
    """The contract ``Concept`` of a lexicon entry (built once per entry and shared)."""
    key = (id(entry), entry.id)
    concept = _concepts.get(key)
    if concept is None:
        concept = Concept(label=entry.label, domain=entry.domain if entry.domain in _DOMAINS else None,
                          codes=[Code(system=s, code=c) for s, c in entry.codes], id=entry.id,
                          category=entry.category)
        if len(_concepts) > 50_000:
            _concepts.clear()
        _concepts[key] = concept
    return concept


def _entry(concept_id: str, mentions_by_id: dict, index) -> Optional[ConceptEntry]:
    entry = mentions_by_id.get(concept_id)
    if entry is None:
        entry = index.get(concept_id)
    return entry


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\r\n,;:":
        start += 1
    while end > start and text[end - 1] in " \t\r\n,;:":
        end -= 1
    return start, end


def _number(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return float(value)
    return value


def records_to_facts(text: str, records: list[FactRecord], note_id: str, entries: dict[str, ConceptEntry],
                     index=None) -> list[Fact]:
    """Contract facts from records (``entries`` maps concept ids seen in the note to lexicon entries)."""
    index = index or get_index()
    out: list[Fact] = []
    seen: set[tuple] = set()
    for rec in sorted(records, key=lambda r: (r.start, r.end, r.type, r.concept_id)):
        if rec.polarity is None and rec.assertion in ("present", "historical") and (
                rec.type == "biomarker" or rec.concept_id == "mrd"):
            continue  # "NGS sent for FLT3", "NPM1 MRD to follow": a test named, no result
        if rec.valued and rec.assertion == "hypothetical" and rec.type in _MEASURED:
            continue  # "transfuse if Hgb <7", "hold if ALT >5x ULN": a threshold, not a result
        entry = _entry(rec.concept_id, entries, index)
        if entry is None:
            continue
        start, end = _trim(text, rec.start, rec.end)
        if end <= start:
            continue
        key = (rec.type, rec.concept_id, start, end, rec.value)
        if key in seen:
            continue
        seen.add(key)
        fact = Fact(
            concept=concept_of(entry), value=_number(rec.value), unit=rec.unit,
            reference_range=rec.reference_range, uln_multiple=rec.uln_multiple, assertion=rec.assertion,
            date=rec.date, note_id=note_id, span=(start, end), text=text[start:end], type=rec.type,
            flag=rec.flag, specimen=rec.specimen, method=rec.method, oxygen=rec.oxygen, count=rec.count,
            uln_source=rec.uln_source, section=rec.section, sentence=rec.sentence, value2=rec.value2,
            comparator=rec.comparator, qualifier=rec.qualifier, date_source=rec.date_source,
        )
        out.append(fact)
    return out


def doc_to_facts(doc: Doc, note_id: Optional[str] = None, index=None) -> list[Fact]:
    """The contract facts of a processed Doc (``note_id`` defaults to ``doc._.trialmatch_note_id``)."""
    records = doc._.trialmatch_records or []
    entries = {m.entry.id: m.entry for m in (doc._.trialmatch_mentions or [])}
    nid = note_id if note_id is not None else (doc._.trialmatch_note_id or "")
    return records_to_facts(note_text(doc), records, str(nid), entries, index)
