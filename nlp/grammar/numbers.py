"""Numbers as written in criteria and notes: digits, thousands separators, words.

``find_numbers`` skips digits that belong to identifiers (CD123, COVID-19,
HbA1c, 2nd) and to scientific units (the 10 of ``x10^9/L``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nlp.data import load_json


@dataclass(frozen=True)
class NumberMention:
    value: float
    start: int
    end: int
    is_word: bool = False


_DIGITS = (
    r"(?=\d)"  # fail fast where no digit starts (the lookbehinds below are costly)
    r"(?<![A-Za-z0-9_.,^])(?<![A-Za-z]-)"
    r"(?:\d{1,3}(?:,\d{3})+(?![\d])|\d+)(?:\.\d+)?"
    r"(?![\d]|\.\d|st\b|nd\b|rd\b|th\b|[A-WYZa-wyz][A-Za-z]*\d)"
    r"(?!\s*(?:\^|\*\*)\s*\d)"
    r"(?!:\d)"
)


@lru_cache(maxsize=1)
def _regex() -> re.Pattern:
    spec = load_json("grammar/numbers.json")
    words = sorted((w for w in spec["words"] if w not in spec["word_needs_unit"]), key=len, reverse=True)
    word_alt = "|".join(re.escape(w).replace(r"\-", "[- ]") for w in words)
    # "three (3)" is one number; so is a lone "three".
    word = rf"\b(?P<word>{word_alt})\b(?:\s*\(\s*(?P<paren>\d+(?:\.\d+)?)\s*\))?"
    lead_dot = r"(?=\.\d)(?<![\w.])\.\d+"
    return re.compile(rf"(?P<digits>{_DIGITS})|(?P<lead>{lead_dot})|{word}", re.IGNORECASE)


@lru_cache(maxsize=1)
def _digits_regex() -> re.Pattern:
    """The same pattern without the number words (for texts that contain none of them)."""
    lead_dot = r"(?=\.\d)(?<![\w.])\.\d+"
    return re.compile(rf"(?P<digits>{_DIGITS})|(?P<lead>{lead_dot})", re.IGNORECASE)


@lru_cache(maxsize=1)
def _word_parts() -> frozenset[str]:
    """Every letter run of the number words that need no unit ("twenty", "one", "hundred")."""
    spec = load_json("grammar/numbers.json")
    return frozenset(part for w in spec["words"] if w not in spec["word_needs_unit"]
                     for part in _LETTERS.findall(w.lower()))


# A number word only matches a whole run of letters, so a text without any such run
# cannot hold one: the cheaper digits-only pattern then gives the same result (throughput).
_LETTERS = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def _word_values() -> dict[str, float]:
    spec = load_json("grammar/numbers.json")
    return {k.replace("-", " "): float(v) for k, v in spec["words"].items()}


def parse_number(text: str) -> float | None:
    """Parse one number written as digits or words ("1,000", "2.5", "twelve")."""
    t = text.strip().lower().replace("-", " ")
    try:
        return float(t.replace(",", ""))
    except ValueError:
        return _word_values().get(t)


def find_numbers(text: str) -> list[NumberMention]:
    """All numbers in ``text`` in order, with their spans."""
    out: list[NumberMention] = []
    words = _word_parts()
    regex = _regex() if not words.isdisjoint(_LETTERS.findall(text.lower())) else _digits_regex()
    for m in regex.finditer(text):
        if m.group("digits") is not None:
            out.append(NumberMention(float(m.group("digits").replace(",", "")), m.start(), m.end()))
        elif m.group("lead") is not None:
            out.append(NumberMention(float(m.group("lead")), m.start(), m.end()))
        else:
            paren = m.group("paren")
            value = float(paren) if paren else _word_values()[m.group("word").lower().replace("-", " ")]
            out.append(NumberMention(value, m.start(), m.end(), is_word=True))
    return out


def format_number(value: float) -> str:
    """Render a number without a trailing ``.0`` ("2.0" -> "2", "1.25" -> "1.25")."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"
