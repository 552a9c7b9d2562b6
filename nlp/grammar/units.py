"""The unit table: recognition of unit surface forms and conversion between units.

Loaded once from ``resources/grammar/units.json``. Conversions across mass and
molar concentration need the analyte's molar mass, which lives in the lab
lexicon (``resources/lexicon/labs.csv``), not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from nlp.data import load_json
from nlp.grammar.prefilter import first_char_class

TIME_UNITS = ("years", "months", "weeks", "days", "hours", "minutes")


@dataclass(frozen=True)
class Unit:
    name: str
    dimension: str
    factor: float  # to the dimension's base unit


@dataclass(frozen=True)
class UnitMatch:
    unit: Unit
    start: int
    end: int


class UnitTable:
    """Recognizes unit surface forms and converts values between units."""

    def __init__(self, spec: dict):
        self.units: dict[str, Unit] = {}
        alternatives = []
        self._group_unit: dict[str, str] = {}
        for i, entry in enumerate(spec["units"]):
            unit = Unit(entry["unit"], entry["dimension"], float(entry["factor"]))
            self.units[unit.name] = unit
            group = f"u{i}"
            self._group_unit[group] = unit.name
            alternatives.append(f"(?P<{group}>{'|'.join(entry['patterns'])})")
        # File order is priority order: specific forms (mg/dL) precede general ones (mg).
        # Possessive leading blanks: when no unit follows, the engine does not retry every
        # alternative at each blank (a ~6x saving on the common "value, no unit" case).
        self._regex = re.compile(r"[ \t]*+(?:" + "|".join(alternatives) + r")", re.IGNORECASE)
        # Most positions hold no unit, and a failed match tries every alternative (~4 µs):
        # checking the first character after the blanks first is exact and much cheaper.
        first = first_char_class("|".join(alternatives), re.IGNORECASE)
        self._may_start = re.compile(r"[ \t]*+" + first, re.IGNORECASE).match if first else None

    def _match(self, text: str, pos: int) -> Optional[re.Match]:
        if self._may_start is not None and not self._may_start(text, pos):
            return None
        return self._regex.match(text, pos)

    def match_at(self, text: str, pos: int) -> Optional[UnitMatch]:
        """Match a unit starting at ``pos`` (leading spaces allowed)."""
        m = self._match(text, pos)
        if not m and text[pos:pos + 1] == "-" and text[pos + 1:pos + 3].isalpha():
            m = self._match(text, pos + 1)  # "6-month", "12-mo"
        if not m:
            return None
        group = m.lastgroup
        unit = self.units[self._group_unit[group]]
        start = m.start(group)
        end = m.end(group)
        # Reject forms glued to a following word ("mg/dLx"), but allow "%," etc.
        if end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
            return None
        return UnitMatch(unit, start, end)

    def get(self, name: Optional[str]) -> Optional[Unit]:
        """The unit of a canonical name, or None."""
        return self.units.get(name) if name else None

    def canonical(self, surface: Optional[str]) -> Optional[str]:
        """Canonical name of a unit surface form ("mg/dl" -> "mg/dL"), or None."""
        if not surface:
            return None
        if surface in self.units:
            return surface
        m = self.match_at(surface.strip(), 0)
        if m and m.end == len(surface.strip()):
            return m.unit.name
        return None

    def convert(self, value: float, from_unit: str, to_unit: str, molar_mass: Optional[float] = None) -> Optional[float]:
        """Convert ``value`` between canonical units; None when they are not convertible.

        Mass and molar concentrations convert through ``molar_mass`` (g/mol).
        Temperatures convert between C and F.
        """
        if from_unit == to_unit:
            return value
        a, b = self.units.get(from_unit), self.units.get(to_unit)
        if a is None or b is None:
            return None
        if a.dimension == b.dimension == "temperature":
            return (value - 32) * 5 / 9 if a.name == "F" else value * 9 / 5 + 32
        if a.dimension == b.dimension:
            return value * a.factor / b.factor
        pair = {a.dimension, b.dimension}
        if pair == {"mass_concentration", "molar_concentration"} and molar_mass:
            if a.dimension == "mass_concentration":
                return value * a.factor / molar_mass / b.factor
            return value * a.factor * molar_mass / b.factor
        return None

    def is_time(self, name: Optional[str]) -> bool:
        """True for a time unit (years, months, weeks, days, hours, minutes)."""
        return name in TIME_UNITS

    def days(self, value: float, unit: str) -> Optional[float]:
        """A duration in days, rounded to a whole day when it is one."""
        u = self.units.get(unit)
        if u is None or u.dimension != "time":
            return None
        days = value * u.factor
        return float(round(days)) if abs(days - round(days)) < 1e-6 else round(days, 4)


@lru_cache(maxsize=1)
def unit_table() -> UnitTable:
    """The shared unit table (built once)."""
    return UnitTable(load_json("grammar/units.json"))
