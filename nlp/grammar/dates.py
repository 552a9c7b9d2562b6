"""Dates in clinical text: ISO, US numeric, month names, month/year; age from a date of birth."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional

from nlp.grammar.prefilter import fail_fast

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_MON = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"

# Each behind a lookahead for its first characters (fail_fast): the leading lookbehinds are costly.
_PATTERNS = [re.compile(fail_fast(pattern, flags), flags) for pattern, flags in [
    (r"(?<![\d/.-])(?P<y>(?:19|20)\d\d)-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d])", 0),
    (r"(?<![\d/.-])(?P<m>\d{1,2})[/.-](?P<d>\d{1,2})[/.-](?P<y>(?:19|20)?\d\d)(?![\d/])", 0),
    (r"(?<![\w])(?P<d>\d{1,2})[ -]" + _MON + r"[ ,-]*(?P<y>(?:19|20)\d\d)(?!\d)", re.IGNORECASE),
    (r"(?<![\w])" + _MON + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)(?!\d)", re.IGNORECASE),
    (r"(?<![\w])" + _MON + r",?\s+(?P<y>(?:19|20)\d\d)(?!\d)", re.IGNORECASE),
    (r"(?<![\d/.-])(?P<m>\d{1,2})/(?P<y>(?:19|20)\d\d)(?![\d/])", 0),
    (r"(?<![\d/.-])(?P<y>(?:19|20)\d\d)-(?P<m>\d{1,2})(?![\d-])", 0),
]]
# The first three letters of every month name, matched as _MON is (for a cheap exact pre-check).
_MONTH_START = re.compile("|".join(_MONTHS), re.IGNORECASE)


@dataclass(frozen=True)
class DateMention:
    year: int
    month: Optional[int]
    day: Optional[int]
    start: int
    end: int

    def iso(self) -> str:
        """ISO text at the precision written: 2026, 2026-03 or 2026-03-12."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def as_date(self) -> dt.date:
        """A calendar date; a missing day or month is taken as the first."""
        return dt.date(self.year, self.month or 1, self.day or 1)


def _build(m: re.Match) -> Optional[tuple[int, Optional[int], Optional[int]]]:
    gd = m.groupdict()
    year = int(gd["y"])
    if year < 100:
        year += 2000 if year <= 40 else 1900
    month = _MONTHS[gd["mon"][:3].lower()] if gd.get("mon") else (int(gd["m"]) if gd.get("m") else None)
    day = int(gd["d"]) if gd.get("d") else None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None:
        try:
            dt.date(year, month or 1, day)
        except ValueError:
            return None
    return year, month, day


def find_dates(text: str) -> list[DateMention]:
    """All dates in ``text``, non-overlapping, in order."""
    found: list[DateMention] = []
    # Which patterns can match at all: each needs its separators or a month name (cheap, exact).
    dash, slash, month = "-" in text, "/" in text, _MONTH_START.search(text) is not None
    possible = (dash, dash or slash or "." in text, month, month, month, slash, dash)
    for pattern, can_match in zip(_PATTERNS, possible):
        if not can_match:
            continue
        for m in pattern.finditer(text):
            if any(d.start < m.end() and m.start() < d.end for d in found):
                continue
            parts = _build(m)
            if parts:
                found.append(DateMention(*parts, m.start(), m.end()))
    found.sort(key=lambda d: d.start)
    return found


def parse_date(text: Optional[str]) -> Optional[dt.date]:
    """Parse one date string (ISO or any form :func:`find_dates` knows)."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        pass
    found = find_dates(text)
    return found[0].as_date() if found else None


def age_at(birth: dt.date, on: dt.date) -> int:
    """Age in completed years on a date."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
