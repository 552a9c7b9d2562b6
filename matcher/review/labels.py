"""Label mapping: the words a review spreadsheet uses -> contract statuses and verdicts.

The mapping lives in ``matcher/resources/review_labels.json`` (documented there) so
a study team can read and extend it without touching code (``--labels FILE``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Mapping, Optional, Union

STATUSES = ("met", "not_met", "unknown")
VERDICTS = ("eligible", "ineligible", "needs_review")
NOT_APPLICABLE = "n/a"

_SECTIONS = {"status": STATUSES, "eligibility": ("pass", "fail"), "verdict": VERDICTS}
_LIST_SECTIONS = ("not_applicable", "verdict_criterion_names")
_SPREADSHEET_NUMBER = re.compile(r"^([0-9]+)\.0+$")
_EDGE_PUNCT = " \t.,;:!\"'()[]{}"


def normalize(text) -> str:
    """Case-, space- and punctuation-insensitive form of a cell ("  Not_Met. " -> "not met")."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).replace("\u2019", "'").casefold()
    # '_' and '-' join words in "not_met"/"not-met"; a lone '-' or '?' must survive, so only inside words.
    s = re.sub(r"(?<=\w)[_\-](?=\w)", " ", s)
    s = " ".join(s.split()).strip(_EDGE_PUNCT)
    m = _SPREADSHEET_NUMBER.match(s)  # Excel turns 1 into "1.0"
    return m.group(1) if m else s


class LabelError(ValueError):
    """A label file that cannot be used (bad JSON, unknown class, a word in two classes)."""


@dataclass
class LabelMap:
    """Normalized word -> class, per section. Build with :meth:`load`."""

    status: dict[str, str] = field(default_factory=dict)
    eligibility: dict[str, str] = field(default_factory=dict)
    verdict: dict[str, str] = field(default_factory=dict)
    not_applicable: set[str] = field(default_factory=set)
    verdict_criterion_names: set[str] = field(default_factory=set)
    sources: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, extra: Union[None, str, Path, Mapping, "LabelMap"] = None) -> "LabelMap":
        """The bundled mapping, extended by ``extra`` (a JSON file path, a dict of the same shape, or a LabelMap)."""
        if isinstance(extra, LabelMap):
            return extra
        base = json.loads(resources.files("matcher.resources").joinpath("review_labels.json").read_text(encoding="utf-8"))
        out = cls()
        out._add(base, "built-in")
        if extra is not None:
            if isinstance(extra, Mapping):
                out._add(extra, "labels (dict)")
            else:
                out._add(_read_json(Path(extra)), str(extra))
        return out

    def _add(self, doc: Mapping, source: str) -> None:
        if not isinstance(doc, Mapping):
            raise LabelError(f"{source}: a JSON object was expected")
        unknown = set(doc) - set(_SECTIONS) - set(_LIST_SECTIONS) - {"_doc"}
        if unknown:
            raise LabelError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}; "
                             f"expected {', '.join(list(_SECTIONS) + list(_LIST_SECTIONS))}")
        for section, classes in _SECTIONS.items():
            table = doc.get(section) or {}
            if not isinstance(table, Mapping):
                raise LabelError(f"{source}: '{section}' must map a class to a list of words")
            seen: dict[str, str] = {}
            target = getattr(self, section)
            for cls_name, words in table.items():
                if cls_name not in classes:
                    raise LabelError(f"{source}: '{section}' has unknown class '{cls_name}' (use {', '.join(classes)})")
                for word in _words(words, f"{source}: {section}.{cls_name}"):
                    key = normalize(word)
                    if key in seen and seen[key] != cls_name:
                        raise LabelError(f"{source}: '{word}' is listed under both {seen[key]} and {cls_name} in '{section}'")
                    seen[key] = cls_name
                    # A later file wins: a team can move "review" from unknown to not_met for its own sheets.
                    target[key] = cls_name
        for section in _LIST_SECTIONS:
            getattr(self, section).update(normalize(w) for w in _words(doc.get(section) or [], f"{source}: {section}"))
        self.sources.append(source)

    def status_of(self, label, kind: str = "inclusion") -> Optional[str]:
        """A criterion label -> met / not_met / unknown, :data:`NOT_APPLICABLE`, or None when unmappable.

        Pass/fail words are relative to the patient, so they flip for exclusion criteria.
        """
        key = normalize(label)
        if not key:
            return None
        if key in self.status:
            return self.status[key]
        if key in self.eligibility:
            passes = self.eligibility[key] == "pass"
            return ("met" if passes else "not_met") if kind != "exclusion" else ("not_met" if passes else "met")
        if key in self.not_applicable:
            return NOT_APPLICABLE
        return None

    def verdict_of(self, label) -> Optional[str]:
        """A verdict label -> eligible / ineligible / needs_review, :data:`NOT_APPLICABLE`, or None."""
        key = normalize(label)
        if not key:
            return None
        if key in self.verdict:
            return self.verdict[key]
        if key in self.not_applicable:
            return NOT_APPLICABLE
        return None

    def is_verdict_row_name(self, criterion_cell) -> bool:
        """True when a criterion cell names the overall verdict ("Overall eligibility")."""
        return normalize(criterion_cell) in self.verdict_criterion_names

    def describe(self) -> dict:
        """Classes and words, for the report's method section."""
        def group(table):
            out: dict[str, list[str]] = {}
            for word, cls_name in table.items():
                out.setdefault(cls_name, []).append(word)
            return {k: sorted(v) for k, v in sorted(out.items())}
        return {"status": group(self.status), "eligibility": group(self.eligibility), "verdict": group(self.verdict),
                "not_applicable": sorted(self.not_applicable), "sources": list(self.sources)}


def _words(value, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(w, (str, int, float)) for w in value):
        raise LabelError(f"{where}: a list of words was expected")
    return [str(w) for w in value]


def _read_json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LabelError(f"labels file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelError(f"cannot read labels file {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelError(f"labels file {path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
