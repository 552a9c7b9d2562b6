"""Demographics: age ("58 y/o", "67M", "Age: 58"), date of birth turned into age at
the note date (completed years), and sex ("Sex: Male", "58 yo man", "62F").

Patterns live in ``resources/notes/patterns.json``. A date of birth gives an
``age`` fact whose span covers "DOB: 09/02/1967" and whose value is the age on
the note date (None when the note date is unknown).
"""


import re
from functools import lru_cache
from typing import Optional

from spacy.language import Language

from nlp.data import load_json
from nlp.grammar.dates import age_at, find_dates, parse_date
from nlp.grammar.prefilter import fail_fast
from nlp.notes.records import FactRecord
from nlp.notes.view import NoteView, RecordExtractor


@lru_cache(maxsize=1)
def _patterns() -> dict:
    spec = load_json("notes/patterns.json")
    return {
        "dob": re.compile(fail_fast(spec["dob"], re.IGNORECASE), re.IGNORECASE),
        "age": re.compile(spec["age"], re.IGNORECASE),
        "age_sex_compact": re.compile(spec["age_sex_compact"]),
        "age_label": re.compile(fail_fast(spec["age_label"], re.IGNORECASE), re.IGNORECASE),
        "sex_label": re.compile(fail_fast(spec["sex_label"], re.IGNORECASE), re.IGNORECASE),
        "sex_words": spec["sex_words"],
    }


def _sex(word: str) -> Optional[str]:
    return _patterns()["sex_words"].get(word.lower())


def dob_spans(text: str) -> list[tuple[int, int, object]]:
    """``(start, end, date)`` of every date-of-birth statement (label through date)."""
    out = []
    low = text.lower()
    if "dob" not in low and "d.o.b" not in low and "birth" not in low and "born" not in low:
        return out
    for m in _patterns()["dob"].finditer(text):
        found = find_dates(text[m.end():m.end() + 24])
        if found and found[0].start == 0:
            d = found[0]
            out.append((m.start(), m.end() + d.end, d))
    return out


# The lookaheads (each pronoun's first letter) fail fast at most characters (throughput).
_SHE = re.compile(r"(?=[sh])\b(?:she|her|hers|herself)\b", re.IGNORECASE)
_HE = re.compile(r"(?=h)\b(?:he|him|his|himself)\b", re.IGNORECASE)


def _sex_from_pronouns(text: str) -> Optional[FactRecord]:
    """Narrative notes often state sex only through pronouns ("She denies smoking"). Infer it
    when one set clearly dominates (at least two uses and three times the other)."""
    she, he = list(_SHE.finditer(text)), list(_HE.finditer(text))
    for hits, other, value in ((she, he, "female"), (he, she, "male")):
        if len(hits) >= 2 and len(hits) >= 3 * len(other):
            m = hits[0]
            return FactRecord("demographic", "sex", m.start(), m.end(), (m.start(), m.end()), value=value,
                              method="inferred from pronouns", valued=True)
    return None


def extract_demographics(view: NoteView, note_date: Optional[str]) -> list[FactRecord]:
    """Age and sex records of one note."""
    text = view.text
    p = _patterns()
    out: list[FactRecord] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return not any(a < e and s < b for a, b in taken)

    on = parse_date(note_date)
    for start, end, d in dob_spans(text):
        birth = d.as_date()
        age = age_at(birth, on) if on and d.day else None
        rec = FactRecord("demographic", "age", start, end, (start, end), value=age, unit="years", method="date of birth",
                         valued=True)
        rec.extra["birth_date"] = d.iso()
        out.append(rec)
        taken.append((start, end))
    for m in p["age"].finditer(text):
        age = int(m.group("age"))
        if not 0 < age < 120 or not free(m.start(), m.end()):
            continue
        end = m.end("unit")
        out.append(FactRecord("demographic", "age", m.start(), end, (m.start(), end), value=age, unit="years", valued=True))
        taken.append((m.start(), end))
        if m.group("sex") and _sex(m.group("sex")):
            s, e = m.start("sex"), m.end("sex")
            out.append(FactRecord("demographic", "sex", s, e, (s, e), value=_sex(m.group("sex")), valued=True))
            taken.append((s, e))
    for m in p["age_sex_compact"].finditer(text):
        age = int(m.group("age"))
        if not 0 < age < 120 or not free(m.start(), m.end()):
            continue
        out.append(FactRecord("demographic", "age", m.start(), m.end("age"), (m.start(), m.end("age")), value=age,
                              unit="years", valued=True))
        out.append(FactRecord("demographic", "sex", m.start("sex"), m.end("sex"), (m.start("sex"), m.end("sex")),
                              value=_sex(m.group("sex")), valued=True))
        taken.append((m.start(), m.end()))
    low = text.lower()
    for m in (p["age_label"].finditer(text) if "age" in low else ()):
        age = int(m.group("age"))
        if 0 < age < 120 and free(m.start(), m.end()):
            out.append(FactRecord("demographic", "age", m.start(), m.end(), (m.start(), m.end()), value=age, unit="years",
                                  valued=True))
            taken.append((m.start(), m.end()))
    for m in (p["sex_label"].finditer(text) if "sex" in low or "gender" in low else ()):
        s, e = m.start("sex"), m.end("sex")
        if free(s, e) and _sex(m.group("sex")):
            out.append(FactRecord("demographic", "sex", s, e, (s, e), value=_sex(m.group("sex")), valued=True))
            taken.append((s, e))
    if not any(r.concept_id == "sex" for r in out):
        inferred = _sex_from_pronouns(text)
        if inferred is not None:
            out.append(inferred)
    # Sex is stated once per note: keep its first explicit statement.
    sexes = sorted((r for r in out if r.concept_id == "sex"), key=lambda r: r.start)
    return [r for r in out if r.concept_id != "sex" or r is sexes[0]]


@Language.factory("trialmatch_demographics")
def make_demographics_extractor(nlp: Language, name: str) -> RecordExtractor:
    """Age (or DOB -> age at the note date) and sex."""
    return RecordExtractor(name, lambda view, doc: extract_demographics(view, doc._.trialmatch_note_date))
