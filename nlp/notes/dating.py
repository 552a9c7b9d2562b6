"""Dates in notes: the note date, every written date, and the date of each fact.

A fact's date, in order of preference:

1. ``statement``: a date written right after its value ("EF 45% (01/2026)"),
   or the nearest date in its sentence, before it ("CBC 01/04/2026 showing
   WBC 48.6") and otherwise after it ("CR1 04/2024");
2. ``section``: a date in its section header ("Labs 09/08/2026:");
3. ``note``: the note's date (given with the note, or "Date of admission: ..."
   near the top of the text).

Ages and sex are always dated at the note. Dates of birth are never statement
dates. Dates keep the precision written ("2026-01" for "01/2026").
"""


import re
from bisect import bisect_left
from functools import lru_cache
from typing import Optional

from spacy.language import Language
from spacy.tokens import Doc

from nlp.data import load_json
from nlp.grammar.dates import DateMention, find_dates, parse_date
from nlp.grammar.prefilter import fail_fast
from nlp.notes.demographics import dob_spans
from nlp.notes.records import FactRecord, note_text, register_extensions
from nlp.notes.view import NoteView, view_of

# Every find_dates pattern needs a year, so lines without one are skipped (throughput).
# (?=\d): a quick fail where no digit starts, before the costlier lookbehind (throughput).
_YEARISH = re.compile(r"(?=\d)(?:(?<!\d)(?:19|20)\d\d(?!\d)|\d/\d{1,2}/\d\d)")
_JUST_AFTER = re.compile(r"[ \t]*(?:\(|,|on|in|from|dated|of)?[ \t]*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _note_date_label() -> re.Pattern:
    return re.compile(fail_fast(load_json("notes/patterns.json")["note_date"], re.IGNORECASE), re.IGNORECASE)


def find_note_dates(text: str) -> list[DateMention]:
    """Every date written in the note except dates of birth, in order."""
    if not _YEARISH.search(text):
        return []  # every date, bare years included, has a 4-digit year or an m/d/yy form
    out: list[DateMention] = []
    # The grammar's patterns run on short windows around each year (a date is at most ~20
    # characters), merged when they touch; a window starts and ends at a space or a line end.
    windows: list[list[int]] = []
    for m in _YEARISH.finditer(text):
        a, b = max(0, m.start() - 22), min(len(text), m.end() + 22)
        while a > 0 and not text[a - 1].isspace():
            a -= 1
        while b < len(text) and not text[b].isspace():
            b += 1
        if windows and a <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], b)
        else:
            windows.append([a, b])
    for a, b in windows:
        for d in find_dates(text[a:b]):
            out.append(DateMention(d.year, d.month, d.day, d.start + a, d.end + a))
    out = _with_years(text, out)
    dobs = dob_spans(text) if out else []
    if dobs:
        out = [d for d in out if not any(s <= d.start < e for s, e, _ in dobs)]
    return out


# A bare year is a date only in a dating context: "(2009, s/p lumpectomy)", "MI in 2015", "dx 2014", "| 2017 |",
# "new compared with 2024 (LVEF 60%)".
_YEAR = re.compile(r"(?:\(|\|[ \t]*|\b(?:in|since|dx|diagnosed(?:\s+in)?|from|until|s/p|hx|onset|year|circa|c\.|compared\s+(?:with|to)|vs\.?|versus|prior|previous)\s+)"
                   r"(?P<y>(?:19|20)\d\d)(?![\w/.-])", re.IGNORECASE)


_BARE_YEAR = re.compile(r"(?=[12])(?<!\d)(?:19|20)\d\d(?![\w/.-])")  # (?=[12]): see _YEARISH


def _with_years(text: str, dates: list[DateMention]) -> list[DateMention]:
    """The grammar's dates plus bare years written in a dating context (year precision)."""
    taken = [(d.start, d.end) for d in dates]
    years = []
    for y in _BARE_YEAR.finditer(text):
        m = _YEAR.search(text, max(0, y.start() - 14), y.end())
        if m is None or m.end("y") != y.end():
            continue
        s, e = m.start("y"), m.end("y")
        if any(a < e and s < b for a, b in taken):
            continue
        years.append(DateMention(int(m.group("y")), None, None, s, e))
    return sorted(dates + years, key=lambda d: d.start) if years else dates


def note_date_from_text(text: str, dates: list[DateMention]) -> Optional[str]:
    """A "Date of service/admission/report: ..." date in the first 400 characters."""
    for m in _note_date_label().finditer(text, 0, min(len(text), 400)):
        for d in dates:
            if m.end() <= d.start <= m.end() + 3 and d.day:
                return d.iso()
    return None


def date_records(view: NoteView, dates: list[DateMention], note_date: Optional[str]) -> None:
    """Give every record its date and ``date_source`` (in place)."""
    text = view.text
    starts = [d.start for d in dates]
    for rec in view.records:
        if rec.type == "demographic":
            rec.date, rec.date_source = note_date, ("note" if note_date else None)
            continue
        found: Optional[DateMention] = None
        if rec.date_pos is not None:
            i = bisect_left(starts, rec.date_pos)
            if i < len(dates) and dates[i].start == rec.date_pos:
                found = dates[i]
        if found is None and dates:
            s, e = view.sentence(rec.start)
            i = bisect_left(starts, rec.end)
            if i < len(dates) and dates[i].start < e and _JUST_AFTER.match(text[rec.end:dates[i].start]):
                found = dates[i]
            else:
                j = bisect_left(starts, rec.start) - 1
                if j >= 0 and dates[j].start >= s and dates[j].end <= rec.start:
                    found = dates[j]
                elif i < len(dates) and dates[i].start < e:
                    found = dates[i]
        if found is not None:
            rec.date, rec.date_source = found.iso(), "statement"
            continue
        section = view.section(rec.start)
        if section is not None and section.date:
            rec.date, rec.date_source = section.date, "section"
        elif note_date:
            rec.date, rec.date_source = note_date, "note"


_SUPERSEDABLE = {"lab", "vital", "cardiac", "performance_status", "blasts"}


def mark_superseded(records: list[FactRecord]) -> None:
    """Earlier values that the same note supersedes become historical (in place).

    A value is superseded when the note gives the same concept a newer written
    date ("EF 45% (01/2026) -> 58% (03/2026)", then "LVEF 60% on 09/2026"), or
    when a trend continues it ("Cr 2.6 -> 2.4").
    """
    groups: dict[str, list[FactRecord]] = {}
    for rec in records:
        if rec.valued and rec.type in _SUPERSEDABLE and rec.assertion == "present":
            groups.setdefault(rec.concept_id, []).append(rec)
    for recs in groups.values():
        if len(recs) < 2:
            continue
        recs.sort(key=lambda r: r.start)
        dated = [r.date for r in recs if r.date and r.date_source in ("statement", "section")]
        newest = max(dated) if dated else None
        for i, rec in enumerate(recs):
            nxt = recs[i + 1] if i + 1 < len(recs) else None
            if rec.extra.get("continues") == "older":
                rec.assertion = "historical"  # "Cr 1.4 (baseline 1.0)"
            elif nxt is not None and nxt.extra.get("continues") == "newer" and nxt.anchor == rec.anchor:
                rec.assertion = "historical"  # "Cr 2.6 -> 2.4"
            elif newest and rec.date and rec.date_source in ("statement", "section") and rec.date < newest:
                rec.assertion = "historical"


def mark_past_events(records: list[FactRecord], note_date: Optional[str]) -> None:
    """Events dated well before the note are historical (in place): conditions ("breast cancer
    (2015)", "MI 2019"), therapies ("7+3 02/2022") and disease states ("CR1 03/2022").

    Long-term conditions and hematologic malignancies (the disease being treated) keep their assertion.
    """
    from nlp.lexicon import get_index
    from nlp.notes.assertion import is_chronic

    on = parse_date(note_date)
    if on is None:
        return
    days = load_json("notes/patterns.json")["past_event_days"]
    index = get_index()
    for rec in records:
        if rec.type not in ("diagnosis", "psychiatric", "therapy", "disease_status") or rec.assertion != "present" \
                or rec.date_source != "statement":
            continue
        when = parse_date(rec.date)
        if when is None or (on - when).days < days or is_chronic(rec.concept_id):
            continue
        if index.is_a(rec.concept_id, "hematologic_malignancy"):
            continue
        rec.assertion = "historical"


class NoteDates:
    """spaCy component: ``doc._.trialmatch_note_date`` (kept when given) and ``doc._.trialmatch_dates``."""

    def __init__(self, nlp: Language, name: str):
        register_extensions()
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        text = note_text(doc)
        dates = find_note_dates(text)
        doc._.trialmatch_dates = dates
        given = doc._.trialmatch_note_date
        if given:
            parsed = parse_date(given)
            doc._.trialmatch_note_date = parsed.isoformat() if parsed else None
        else:
            doc._.trialmatch_note_date = note_date_from_text(text, dates)
        return doc


class FactDating:
    """spaCy component: dates every record on ``doc._.trialmatch_records``."""

    def __init__(self, nlp: Language, name: str):
        register_extensions()
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        view = view_of(doc)
        dates = doc._.trialmatch_dates
        if dates is None:
            dates = doc._.trialmatch_dates = find_note_dates(view.text)
        date_records(view, dates, doc._.trialmatch_note_date)
        mark_superseded(view.records)
        mark_past_events(view.records, doc._.trialmatch_note_date)
        return doc


@Language.factory("trialmatch_dates")
def make_note_dates(nlp: Language, name: str) -> NoteDates:
    """Note date and the dates written in the note (run before the extractors)."""
    return NoteDates(nlp, name)


@Language.factory("trialmatch_dating")
def make_fact_dating(nlp: Language, name: str) -> FactDating:
    """The date of each fact: statement, section header or note date (run after the extractors)."""
    return FactDating(nlp, name)
