"""Reading the value written after a measured concept, with the shared comparator grammar.

Given "Creatinine ........ 2.3 mg/dL (0.6-1.2) H", "ALT 145 U/L [7-56]",
"WBC 1.2 L K/uL 4.0-11.0", "SpO2 90% on room air (96% on 2 L NC)" or
"EF 45% (01/2026) -> 58% (03/2026)", :func:`read_values` returns one
:class:`Reading` per stated value, each with its unit, reference range, flag,
oxygen, stated ULN multiple and the character span it covers.

Numbers, units, comparators and ranges all come from ``nlp.grammar``
(``find_comparisons`` on the short window after the mention, ``unit_table``);
only the layout around them (dot leaders, flags, columns) is note-specific,
and its patterns live in ``resources/notes/patterns.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from nlp.data import load_json
from nlp.grammar.comparisons import Comparison, find_comparisons
from nlp.grammar.dates import find_dates
from nlp.grammar.units import unit_table


_WINDOW = 44


_COLUMN = re.compile(r"[ \t]*(?:\|[ \t]*)*")


@dataclass(slots=True)
class Reading:
    """One value read from the text, in character offsets of the note."""

    value: float
    value2: Optional[float]
    comparator: Optional[str]
    unit: Optional[str]
    start: int  # the value's own start (or its comparator's)
    end: int  # end of everything read with it (unit, flag, range, oxygen)
    reference_range: Optional[tuple[Optional[float], Optional[float]]] = None
    range_unit: Optional[str] = None
    flag: Optional[str] = None
    oxygen: Optional[str] = None
    oxygen_text: Optional[str] = None
    stated_uln: Optional[float] = None
    date_span: Optional[tuple[int, int]] = None
    method: Optional[str] = None
    continued: bool = False  # a later value of the same statement ("-> 58%")
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Patterns:
    lead: re.Pattern
    flag: re.Pattern
    flags: dict
    range_open: re.Pattern
    room_air: re.Pattern
    supplemental: re.Pattern
    trend: re.Pattern
    alt_method: re.Pattern
    date_paren: re.Pattern
    stated_multiple: re.Pattern
    stop: re.Pattern


@lru_cache(maxsize=1)
def patterns() -> _Patterns:
    spec = load_json("notes/patterns.json")
    flags = spec["flags"]
    flag_alt = "|".join(re.escape(f) for f in sorted(flags, key=len, reverse=True))
    return _Patterns(
        lead=re.compile(spec["value_lead"]),
        flag=re.compile(r"[ \t|]*(?P<flag>" + flag_alt + r")(?![A-Za-z0-9/])"),
        flags=flags,
        range_open=re.compile(r"[ \t|,;]*(?P<open>[(\[])?[ \t]*(?:" + spec["range_lead"] + r")?", re.IGNORECASE),
        room_air=re.compile(r"[ \t,]*(?P<open>\(\s*)?" + spec["oxygen_room_air"] + r"(?(open)\s*\))", re.IGNORECASE),
        supplemental=re.compile(r"[ \t,]*(?P<open>\(\s*)?" + spec["oxygen_supplemental"] + r"(?(open)\s*\))", re.IGNORECASE),
        trend=re.compile(spec["trend_arrow"], re.IGNORECASE),
        alt_method=re.compile(r"[ \t]*(?:visually|visual|estimated)?[ \t]*[;,]?[ \t]*(?P<method>biplane|Simpson'?s?|by\s+(?:biplane|Simpson'?s?|MUGA|echo|TTE|3D|2D)|3D|2D|MUGA|quantitative|measured)[ \t]*(?:EF|LVEF)?[ \t]*[:=]?[ \t]*", re.IGNORECASE),
        date_paren=re.compile(r"[ \t]*(?:\(\s*(?:on\s+|dated\s+)?(?P<d1>[^()\n]{3,20}?)\s*\)|(?:on|dated|from)\s+(?P<d2>\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{4}-\d{2}(?:-\d{2})?|\d{1,2}/\d{4}))"),
        stated_multiple=re.compile(r"[ \t,;]*(?P<open>[(\[])?[ \t]*(?P<n>\d+(?:\.\d+)?)[ \t]*(?:[x×]|times)(?:[ \t]*(?:the[ \t]+)?(?:ULN|UNL|upper[ \t]+limit(?:[ \t]+of[ \t]+normal)?|normal))?(?![A-Za-z0-9])[ \t]*[)\]]?", re.IGNORECASE),
        stop=re.compile(spec["value_stop"], re.IGNORECASE),
    )


@lru_cache(maxsize=256)
def canonical(unit: Optional[str]) -> Optional[str]:
    """The unit table's name for a unit string (the lexicon writes "ng/mL", the table "µg/L")."""
    if unit is None:
        return None
    return unit_table().canonical(unit) or unit


def _dimension(unit: Optional[str]) -> Optional[str]:
    u = unit_table().get(canonical(unit))
    return u.dimension if u else None


def compatible(unit: Optional[str], expected: Optional[str], molar_mass: Optional[float] = None) -> bool:
    """A written unit fits a concept whose canonical unit is ``expected``."""
    if unit is None or expected is None or unit == "x ULN" or canonical(unit) == canonical(expected):
        return True
    a, b = _dimension(unit), _dimension(expected)
    if a is None or b is None:
        return False
    if a == b:
        return True
    return {a, b} == {"mass_concentration", "molar_concentration"} and bool(molar_mass)


def _bad_unit(unit: Optional[str], expected: Optional[str] = None) -> bool:
    """Units that never follow this kind of value (a duration after a lab, a count of cycles).

    Seconds are fine (a prothrombin time is "19.8 s").
    """
    dim = _dimension(unit)
    if unit == "seconds":
        return False
    return dim in ("time", "count", "dose_per_area", "dose_per_mass", "radiation") and dim != _dimension(expected)


_MONTH_DAY = re.compile(r"(\d{1,2})/(\d{1,2})(?![\d./]|\s*%)")


# A date's first number is followed by "/" or "-" and a digit, by a month name, or by "." and a
# second number with another separator ("12.05.2024"); a decimal ("2.3 mg/dL") is none of these.
_DATE_START = re.compile(r"\d{1,4}(?:[/-]\d|\.\d{1,2}[/.-]\d|[ -][A-Za-z]{3})")


def _date_like(text: str, pos: int) -> bool:
    """A number that starts a date ("09/08/2026", "03/2024", "2026-03-12", "03/01:") is not a value."""
    if not _DATE_START.match(text, pos):
        return False  # see _DATE_START
    found = find_dates(text[pos:pos + 12])
    if found and found[0].start == 0:
        return True
    m = _MONTH_DAY.match(text, pos)
    return bool(m) and 1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 31


def read_values(text: str, start: int, limit: int, expected_unit: Optional[str] = None,
                molar_mass: Optional[float] = None, oxygen: bool = False, blood_pressure: bool = False,
                allow_range: bool = True, max_values: int = 4) -> list[Reading]:
    """Values stated from ``start`` (the end of a concept mention) up to ``limit``.

    The first value must follow the mention closely (after leaders, colons, "was",
    "of" ...). Later values continue the same statement: a trend ("-> 2.4"), a
    second reading ("(96% on 2 L NC)") or another method ("; biplane 58%").
    """
    p = patterns()
    lead = p.lead.match(text, start, limit)
    pos = lead.end() if lead else start
    if pos < limit and text[pos] in "([":
        m = p.stated_multiple.match(text, pos, limit)
        if m and m.group("open") and re.search(r"ULN|UNL|upper|normal", m.group(0), re.IGNORECASE):
            return [Reading(float(m.group("n")), None, None, "x ULN", m.start("n"), m.end(), stated_uln=float(m.group("n")))]
    if pos >= limit or not (text[pos].isdigit() or text[pos] in "<>≤≥=~." or text[pos:pos + 2].lower() in ("le", "gr", "mo", "at", "ab", "be", "un", "ov", "up", "no")):
        return []
    if text[pos].isdigit() and _date_like(text, pos) and not blood_pressure and expected_unit != "/10":
        return []  # "7/10" after a pain score is the score, not July 10
    # The value, its unit, flag and range sit within a few dozen characters; a short window
    # keeps the grammar's per-number work small (notes are long and full of numbers).
    window = text[pos:min(limit, pos + _WINDOW)]
    comps = find_comparisons(text[pos:min(limit, pos + _WINDOW)])
    if not comps or comps[0].start > 0 or comps[0].value_start > 30:
        return []
    first = comps[0]
    if first.unit is None and window[first.value_end:first.value_end + 1].isalpha():
        return []  # "69M", "3rd": a number glued to a word is not a value
    cursor = pos + first.end
    if _bad_unit(first.unit, expected_unit) or not compatible(first.unit, expected_unit, molar_mass):
        if first.unit_start is None or window[first.unit_start:first.end].strip() not in ("H", "L"):
            return []
        # A one-letter "unit" after a lab value is a flag ("WBC 21.4 H" is not 21.4 hours).
        first = Comparison(first.comparator, first.value, first.value2, None, first.start, first.value_end,
                           first.value_start, first.value_end, first.op_start)
        cursor = pos + first.end
    readings: list[Reading] = []
    reading = _reading(first, pos, allow_range)
    if blood_pressure and reading.value2 is None:
        m = re.match(r"\s*/\s*(\d{2,3})(?!\d)", text[cursor:limit])
        if m:
            reading.value2 = float(m.group(1))
            cursor += m.end()
            unit = unit_table().match_at(text, cursor)
            if unit and unit.end <= limit and unit.unit.name == "mmHg":
                reading.unit, cursor = "mmHg", unit.end
    if reading.unit == "x ULN":
        paren = re.match(r"[ \t]*\([ \t]*(?=\d)", text[cursor:limit])
        if paren:  # "AST 3.2x ULN (128 U/L)": the value itself follows in brackets
            inner = find_comparisons(text[cursor + paren.end():limit])
            if inner and inner[0].start == 0 and inner[0].unit not in (None, "x ULN") and compatible(inner[0].unit, expected_unit, molar_mass):
                c = inner[0]
                reading.stated_uln = reading.value
                reading.value, reading.unit = c.value, c.unit
                cursor = cursor + paren.end() + c.end
                close = re.match(r"[ \t]*\)", text[cursor:limit])
                if close:
                    cursor += close.end()
    cursor = _tail(text, cursor, limit, reading, comps, pos, expected_unit, molar_mass, oxygen)
    reading.end = cursor
    readings.append(reading)
    # Continuations of the same statement.
    while len(readings) < max_values and cursor < limit:
        nxt = _continuation(text, cursor, limit, readings[-1], expected_unit, molar_mass, oxygen, blood_pressure)
        if nxt is None:
            break
        readings.append(nxt)
        cursor = nxt.end
    return readings


def _reading(c: Comparison, offset: int, allow_range: bool) -> Reading:
    value2 = c.value2 if allow_range else None
    comparator = c.comparator if (allow_range or c.comparator != "between") else None
    return Reading(c.value, value2, comparator, c.unit, offset + c.start, offset + c.end)


def _tail(text: str, cursor: int, limit: int, reading: Reading, comps: list[Comparison], base: int,
          expected_unit: Optional[str], molar_mass: Optional[float], oxygen: bool) -> int:
    """Read what may follow a value, in any order: flag, unit, oxygen, date, range, ULN multiple."""
    p = patterns()
    units = unit_table()
    for _ in range(6):
        progressed = False
        start_cursor = cursor
        cursor = _COLUMN.match(text, cursor, limit).end()  # tab/pipe columns between fields
        if oxygen and reading.oxygen is None:
            m = p.room_air.match(text, cursor, limit)
            if m and m.end() > cursor:
                reading.oxygen, reading.oxygen_text, cursor, progressed = "room air", m.group(0).strip(" ,()"), m.end(), True
            else:
                m = p.supplemental.match(text, cursor, limit)
                if m and m.end() > cursor and re.search(r"[A-Za-z]", m.group(0)):
                    written = re.sub(r"^(?:on|with|via)\s+", "", m.group(0).strip(" ,()\t"), flags=re.IGNORECASE)
                    reading.oxygen, reading.oxygen_text, cursor, progressed = written, written, m.end(), True
        if reading.unit is None and expected_unit in ("C", "F"):
            t = re.match(r"[ \t]*°?[ \t]*(?P<u>[CF])(?![A-Za-z0-9])", text[cursor:limit])
            if t:  # "T 37.4 C": a bare C or F after a temperature is its unit, not a flag
                reading.unit, cursor, progressed = t.group("u"), cursor + t.end(), True
        m = p.flag.match(text, cursor, limit)
        if m and reading.flag is None and not (oxygen and reading.oxygen):
            reading.flag, cursor, progressed = m.group("flag"), m.end(), True  # as written: "H", "(L)", "High"
        if reading.unit is None:
            u = units.match_at(text, cursor)
            if u and u.end <= limit and u.unit.name != "x ULN" and compatible(u.unit.name, expected_unit, molar_mass) and not _bad_unit(u.unit.name, expected_unit):
                reading.unit, cursor, progressed = u.unit.name, u.end, True
        if reading.date_span is None:
            m = p.date_paren.match(text, cursor, limit)
            if m:
                group = "d1" if m.group("d1") else "d2"
                found = find_dates(m.group(group))
                if found and found[0].end - found[0].start >= len(m.group(group).strip()) - 1:
                    reading.date_span = (m.start(group), m.end(group))
                    cursor, progressed = m.end(), True
                elif _MONTH_DAY.fullmatch(m.group(group).strip()):
                    cursor, progressed = m.end(), True  # "(5/2)": a day without a year, read but not dated
        if reading.reference_range is None:
            got = _reference_range(text, cursor, limit, comps, base, reading)
            if got:
                cursor, progressed = got, True
        if reading.stated_uln is None:
            m = p.stated_multiple.match(text, cursor, limit)
            if m and (m.group("open") or re.search(r"ULN|UNL|upper|normal", m.group(0), re.IGNORECASE)):
                reading.stated_uln, cursor, progressed = float(m.group("n")), m.end(), True
        if not progressed:
            cursor = start_cursor
            break
    return cursor


def _reference_range(text: str, cursor: int, limit: int, comps: list[Comparison], base: int, reading: Reading) -> Optional[int]:
    """A reference range right after the value: "(0.6-1.2)", "[7-56]", "4.0-11.0", "(<50)", "ref 0.6-1.2"."""
    p = patterns()
    m = p.range_open.match(text, cursor, limit)
    if not m:
        return None
    after = m.end()
    for c in comps:
        cs, ce = base + c.start, base + c.end
        if cs < after:
            continue
        if cs > after or ce > limit:
            return None
        opened = m.group("open")
        led = m.end() > m.start() and bool(re.search(r"[A-Za-z]", text[m.start():m.end()]))
        if c.comparator == "between" and c.value2 is not None:
            low, high = c.value, c.value2
        elif c.comparator in ("<", "<=") and (opened or led):
            low, high = None, c.value
        elif c.comparator in (">", ">=") and (opened or led):
            low, high = c.value, None
        elif c.comparator is None and led and re.search(r"ULN|upper", text[m.start():m.end()], re.IGNORECASE):
            low, high = None, c.value
        elif c.comparator in ("<", "<=", ">", ">=") and re.search(r"[\t|]", text[max(0, m.start() - 3):m.end()]):
            low, high = (None, c.value) if c.comparator in ("<", "<=") else (c.value, None)  # a table column: ">60"
        else:
            return None
        if c.unit == "x ULN" or _bad_unit(c.unit, reading.unit):
            return None
        end = ce
        if opened:
            close = re.match(r"[ \t]*[^()\[\]\n]{0,12}?[)\]]", text[end:limit])
            if close:
                end += close.end()
        reading.reference_range = (low, high)
        reading.range_unit = c.unit
        return end
    return None


def _continuation(text: str, cursor: int, limit: int, prev: Reading, expected_unit: Optional[str],
                  molar_mass: Optional[float], oxygen: bool, blood_pressure: bool = False) -> Optional[Reading]:
    """A later value of the same statement: a trend, a second reading or another method."""
    p = patterns()
    method = None
    m = p.trend.match(text, cursor, limit)
    if m is None and oxygen:
        m = re.compile(r"[ \t,;]*(?:\(\s*)?(?=\d)").match(text, cursor, limit)
    if m is None:
        m = p.alt_method.match(text, cursor, limit)
        if m is None:
            return None
        method = re.sub(r"^by\s+", "", m.group("method"), flags=re.IGNORECASE)
    pos = m.end()
    if pos < limit and text[pos] in "~\u2248":
        pos += 1  # "(baseline ~168)"
    if pos >= limit or not text[pos].isdigit() or _date_like(text, pos):
        return None
    older = bool(m.groupdict().get("older"))
    comps = find_comparisons(text[pos:min(limit, pos + _WINDOW)])
    if not comps or comps[0].start > 0:
        return None
    c = comps[0]
    unit = c.unit  # as written: "Lactate 2.6 mmol/L -> 1.8" gives 1.8 without a unit
    if _bad_unit(c.unit, expected_unit) or not compatible(unit, expected_unit, molar_mass):
        return None
    if prev.unit and c.unit and _dimension(prev.unit) != _dimension(c.unit) and not compatible(c.unit, prev.unit, molar_mass):
        return None
    if oxygen and m.group(0).strip(" ,;") == "" and c.unit != "%" and prev.unit == "%":
        return None
    reading = Reading(c.value, c.value2, c.comparator, unit, pos + c.start, pos + c.end, continued=True, method=method)
    groups = m.groupdict()
    # "(baseline 1.0)" is older than the value before it; "-> 2.4" is newer; "(repeat ...)" too.
    reading.extra["order"] = "older" if older else ("newer" if groups.get("newer") else "next")
    end = pos + c.end
    if blood_pressure and reading.value2 is None:
        bp = re.match(r"\s*/\s*(\d{2,3})(?!\d)", text[end:limit])
        if bp:  # "BP 84/46 -> 102/58"
            reading.value2 = float(bp.group(1))
            end += bp.end()
    reading.end = _tail(text, end, limit, reading, comps, pos, expected_unit, molar_mass, oxygen)
    return reading
