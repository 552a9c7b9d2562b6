"""Measured facts: labs, vitals, LVEF/QTc, ECOG/KPS, blasts and life expectancy.

For each mention of a measured concept (``measurements.csv``) the value is read
right after it (:mod:`nlp.notes.values`); blasts may also be written before
("23% myeloblasts"), and life expectancy anywhere later in its sentence
("expected survival is well beyond 12 weeks"). Each value becomes a
:class:`FactRecord` with its unit, reference range, flag, ULN multiple,
oxygen, method and specimen. Trends ("EF 45% (01/2026) -> 58% (03/2026)")
give one record per value, each with its own date span.
"""


import re
from functools import lru_cache
from typing import Optional

from spacy.language import Language

from nlp.data import load_json
from nlp.grammar.comparisons import find_comparisons
from nlp.grammar.prefilter import fail_fast
from nlp.grammar.units import unit_table
from nlp.notes.performance import valid_score
from nlp.notes.records import FactRecord
from nlp.notes.values import Reading, canonical, read_values
from nlp.notes.view import NoteView, RecordExtractor

# Fact type of each measured category.
_TYPES = {"lab": "lab", "vital": "vital", "cardiac": "cardiac", "performance_status": "performance_status",
          "life_expectancy": "life_expectancy"}
_OXYGEN = {"spo2"}
_BP = {"blood_pressure"}


@lru_cache(maxsize=1)
def _specimen_patterns() -> list[tuple[str, re.Pattern]]:
    spec = load_json("notes/patterns.json")["specimen"]
    return [(name, re.compile(fail_fast(p, re.IGNORECASE), re.IGNORECASE)) for name, p in spec.items()]


@lru_cache(maxsize=1)
def _method_patterns() -> list[tuple[str, re.Pattern]]:
    spec = load_json("notes/patterns.json")["lvef_method"]
    return [(name, re.compile(fail_fast(p, re.IGNORECASE), re.IGNORECASE)) for name, p in spec.items()]


def specimen_near(view: NoteView, start: int, end: int) -> Optional[str]:
    """Bone marrow or peripheral blood: the mention itself, then the nearest cue in its sentence, then the note's specimen line."""
    text = view.text
    for name, pattern in _specimen_patterns():
        if pattern.search(text, start, end):
            return name
    s, e = view.sentence(start)
    best, best_dist = None, None
    for name, pattern in _specimen_patterns():
        for m in pattern.finditer(text, s, e):
            dist = start - m.end() if m.end() <= start else m.start() - end
            if dist < 0:
                continue
            dist = dist if m.end() <= start else dist + 5  # a cue before the value reads better
            if best_dist is None or dist < best_dist:
                best, best_dist = name, dist
    if best:
        return best
    for section in view.sections:
        if section.category == "specimen":
            body = text[section.header_end:min(section.end, section.header_end + 120)]
            for name, pattern in _specimen_patterns():
                if pattern.search(body):
                    return name
    return None


def method_near(view: NoteView, start: int) -> Optional[str]:
    """LVEF method (echocardiogram, MUGA, cardiac MRI) from the sentence, else the section header."""
    text = view.text
    s, e = view.sentence(start)
    found = [(name, m.start()) for name, p in _method_patterns() for m in p.finditer(text, s, e)]
    if found:
        return min(found, key=lambda f: abs(f[1] - start))[0]
    section = view.section(start)
    if section is not None and section.header_end > section.start:
        for name, p in _method_patterns():
            if p.search(text, section.start, section.header_end):
                return name
    return None


def _uln(entry, reading: Reading) -> tuple[Optional[float], Optional[str]]:
    """ULN multiple: stated in the note, else value / the note's range high, else / the lexicon default."""
    units = unit_table()
    if reading.unit == "x ULN":
        return reading.value, "stated"
    if reading.stated_uln is not None:
        return reading.stated_uln, "stated"
    if entry.category != "lab":
        return None, None
    rr = reading.reference_range
    if rr and rr[1]:
        high = rr[1]
        if reading.range_unit and reading.unit and reading.range_unit != reading.unit:
            high = units.convert(high, reading.range_unit, reading.unit, entry.molar_mass)
        if high:
            return round(reading.value / high, 3), "report"
    if entry.ref_high:
        value = reading.value
        if reading.unit and entry.unit and canonical(reading.unit) != canonical(entry.unit):
            value = units.convert(value, canonical(reading.unit), canonical(entry.unit), entry.molar_mass)
        if value is not None:
            return round(value / entry.ref_high, 3), "default"
    return None, None


def _value_before(text: str, start: int, sentence_start: int) -> Optional[tuple[float, Optional[str], int]]:
    """"23% myeloblasts", "marrow 2% blasts", "<5% blasts": a percent right before the mention.

    "94% of blasts" is a share *of* the blasts (a marker's), not a blast percentage.
    """
    lo = max(sentence_start, start - 24)
    if text.startswith("%", start):  # the lexicon's "% blasts" synonym
        start += 1
    chunk = text[lo:start]
    m = re.search(r"(?:\b(?:myeloid|leukemic|abnormal|residual|atypical)\s*)?$", chunk)
    head = chunk[:m.start()] if m and m.group(0).strip() else chunk
    if re.search(r"\bof\s*$", head):
        return None
    if "%" not in head and "per" not in head.lower():
        return None  # no percent unit ("%", "percent", "per cent"), so no value here (a cheap exact check)
    comps = find_comparisons(head)
    if not comps:
        return None
    c = comps[-1]
    if c.end != len(head.rstrip()) or c.unit != "%" or c.value2 is not None:
        return None
    return c.value, c.comparator, lo + c.start


def _record(view: NoteView, mention, kind: str, reading: Reading, first: bool) -> FactRecord:
    entry = mention.entry
    start = mention.start if first else reading.start
    rec = FactRecord(kind, entry.id, start, reading.end, (mention.start, mention.end), value=reading.value,
                     value2=reading.value2, comparator=reading.comparator, unit=reading.unit,
                     reference_range=reading.reference_range, flag=reading.flag, oxygen=reading.oxygen,
                     method=reading.method, valued=True)
    rec.uln_multiple, rec.uln_source = _uln(entry, reading)
    if reading.unit == "x ULN":  # "ALT 2.1x ULN": a multiple, no value in the lab's own unit
        rec.value, rec.unit, rec.value2, rec.comparator = None, None, None, None
    if not first:
        rec.extra["continues"] = reading.extra.get("order", "next")
    if reading.date_span:
        rec.date_pos = reading.date_span[0]
        rec.extra["date_span"] = reading.date_span
    if reading.oxygen_text:
        rec.extra["oxygen_text"] = reading.oxygen_text
    return rec


def extract_measurements(view: NoteView) -> list[FactRecord]:
    """Records for every measured mention that states a value."""
    out: list[FactRecord] = []
    for mention in view.mentions:
        entry = mention.entry
        if not entry.measured or entry.id == "age":
            continue
        s_start, s_end = view.sentence(mention.start)
        limit = min(s_end if s_end > mention.end else view.line(mention.start)[1], view.next_measured_start(mention.end))
        if entry.id == "blasts":
            out.extend(_blasts(view, mention, s_start, s_end, limit))
            continue
        if entry.category == "life_expectancy":
            rec = _life_expectancy(view, mention, s_end)
            if rec:
                out.append(rec)
            continue
        kind = _TYPES.get(entry.category)
        if kind is None:
            continue
        readings = _read(view, mention, limit, s_start)
        for i, reading in enumerate(readings):
            if entry.category == "performance_status" and not valid_score(entry.id, reading.value):
                break
            rec = _record(view, mention, kind, reading, i == 0)
            if entry.id == "lvef":
                rec.method = reading.method or method_near(view, mention.start)
            if entry.id in _BP and reading.value2 is not None:
                out.extend(_split_bp(rec))
                continue
            out.append(rec)
    out.extend(_bare_heart_rates(view, out))
    out.extend(_bare_temperatures(view, out))
    out.extend(_gestational_ages(view, out))
    return out


@lru_cache(maxsize=1)
def _gestation() -> re.Pattern:
    return re.compile(fail_fast(load_json("notes/patterns.json")["gestational_age_before"], re.IGNORECASE), re.IGNORECASE)


def _gestational_ages(view: NoteView, found: list[FactRecord]) -> list[FactRecord]:
    """"At 11 weeks gestation", "32 weeks pregnant": the gestational age, value first (the value is the span)."""
    text = view.text
    if "gestation" not in text and "regnan" not in text:
        return []
    out = []
    for m in _gestation().finditer(text):
        value = float(m.group("n"))
        if not 1 <= value <= 45 or any(r.start <= m.start() < r.end for r in found):
            continue
        out.append(FactRecord("vital", "gestational_age", m.start(), m.end(), (m.start(), m.end("u")), value=value,
                              unit="weeks", valued=True))
    return out


@lru_cache(maxsize=1)
def _bare_temp() -> re.Pattern:
    return re.compile(fail_fast(load_json("notes/patterns.json")["temperature_bare"], re.IGNORECASE), re.IGNORECASE)


def _bare_temperatures(view: NoteView, found: list[FactRecord]) -> list[FactRecord]:
    """"spiked to 38.9", "fevers to 101.8 F": a temperature written without its name (the value is the span)."""
    out = []
    for m in _bare_temp().finditer(view.text):
        if any(r.start <= m.start("n") < r.end for r in found):
            continue
        value = float(m.group("n"))
        if not (34 <= value <= 43 or 93 <= value <= 110):
            continue
        unit = m.group("u").strip().lstrip("°").strip() if m.group("u") else None
        end = m.end("u") if m.group("u") else m.end("n")
        out.append(FactRecord("vital", "temperature", m.start("n"), end, (m.start("n"), end), value=value, unit=unit,
                              valued=True))
    return out


@lru_cache(maxsize=1)
def _threshold() -> re.Pattern:
    return re.compile(fail_fast(load_json("notes/patterns.json")["threshold_context"], re.IGNORECASE), re.IGNORECASE)


def _read(view: NoteView, mention, limit: int, s_start: int) -> list[Reading]:
    """The values after a mention, without plan thresholds ("keep K > 4.0") or checklist labels."""
    entry = mention.entry
    text = view.text

    def read(start: int) -> list[Reading]:
        return read_values(text, start, limit, entry.unit, entry.molar_mass, oxygen=entry.id in _OXYGEN,
                           blood_pressure=entry.id in _BP,
                           allow_range=entry.category in ("cardiac", "performance_status", "vital"))

    readings = read(mention.end)
    if readings:
        colon = re.match(r"[ \t]*:", text[readings[0].end:limit])
        if colon:  # "Creatinine <= 2.0x ULN: 0.9 mg/dL": a checklist label, the value follows the colon
            readings = read(readings[0].end + colon.end())
    kept = []
    for r in readings:
        if r.comparator in ("<", "<=", ">", ">=", "between") and _threshold().search(text, s_start, r.start):
            continue  # "transfuse for Hgb <7", "replete K > 4.0": a plan, not a result
        kept.append(r)
    return kept


def _split_bp(rec: FactRecord) -> list[FactRecord]:
    """"BP 128/76" gives a systolic and a diastolic fact on the same span."""
    systolic = FactRecord("vital", "systolic_bp", rec.start, rec.end, rec.anchor, value=rec.value, unit=rec.unit,
                          valued=True, date_pos=rec.date_pos, extra=dict(rec.extra))
    diastolic = FactRecord("vital", "diastolic_bp", rec.start, rec.end, rec.anchor, value=rec.value2, unit=rec.unit,
                           valued=True, date_pos=rec.date_pos, extra=dict(rec.extra))
    return [systolic, diastolic]


@lru_cache(maxsize=1)
def _bare_rate() -> re.Pattern:
    return re.compile(fail_fast(load_json("notes/patterns.json")["heart_rate_bare"], re.IGNORECASE), re.IGNORECASE)


def _bare_heart_rates(view: NoteView, found: list[FactRecord]) -> list[FactRecord]:
    """"Sinus rhythm, 78 bpm": a rate in beats per minute with no name is a heart rate (the value is the span)."""
    text = view.text
    if "bpm" not in text and "BPM" not in text and "beats" not in text:
        return []
    units = unit_table()
    out = []
    for m in _bare_rate().finditer(text):
        if any(r.start <= m.start() < r.end for r in found):
            continue
        unit = units.match_at(text, m.end("n"))
        end = unit.end if unit else m.end("n")
        out.append(FactRecord("vital", "heart_rate", m.start(), end, (m.start(), end), value=float(m.group("n")),
                              unit=unit.unit.name if unit else None, valued=True))
    return out


def _blasts(view: NoteView, mention, s_start: int, s_end: int, limit: int) -> list[FactRecord]:
    text = view.text
    specimen = specimen_near(view, mention.start, mention.end)
    before = _value_before(text, mention.start, s_start)
    if before is not None and any(r.start <= before[2] < r.end for r in view.records):
        before = None  # the percent belongs to another fact ("CD123 ... 87% blasts")
    if before is not None:
        value, comparator, vstart = before
        rec = FactRecord("blasts", "blasts", vstart, mention.end, (mention.start, mention.end), value=value,
                         comparator=comparator, unit="%", specimen=specimen, valued=True)
        return [rec]
    readings = read_values(text, mention.end, limit, "%", None, allow_range=False, max_values=2)
    out = []
    for i, reading in enumerate(readings):
        if reading.unit not in ("%", None) or reading.value > 100:
            break
        rec = _record(view, mention, "blasts", reading, i == 0)
        rec.unit = "%"
        rec.specimen = specimen_near(view, reading.start, reading.end) if i else specimen
        out.append(rec)
    return out


def _life_expectancy(view: NoteView, mention, s_end: int) -> Optional[FactRecord]:
    """The first duration in the rest of the sentence ("> 3 months", "at least 6 months")."""
    text = view.text
    end = min(s_end, mention.end + 70)
    window = text[mention.end:end]
    units = unit_table()
    for c in find_comparisons(window):
        if units.is_time(c.unit):
            rec = FactRecord("life_expectancy", mention.entry.id, mention.start, mention.end + c.end,
                             (mention.start, mention.end), value=c.value, value2=c.value2,
                             comparator=c.comparator, unit=c.unit, valued=True)
            return rec
    return None


@Language.factory("trialmatch_measurements")
def make_measurement_extractor(nlp: Language, name: str) -> RecordExtractor:
    """Labs, vitals, LVEF/QTc, ECOG/KPS, blasts and life expectancy with values."""
    return RecordExtractor(name, lambda view, doc: extract_measurements(view))
