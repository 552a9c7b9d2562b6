"""User concept terms (``--terms TERMS.csv``): strict reading (the index extended with them: :mod:`nlp.lexicon.user_index`).

The file is a CSV with the header ``label,synonym`` and optionally the columns
``category`` and ``code`` (any order), one row per synonym. Rows of the same
label make one concept, whose id is ``user:<slug of the label>``.

Reading is strict. Problems that make a row or the file unusable are errors
with the line number, and :func:`read_terms` raises one :class:`TermsError`
listing them all (the CLI turns it into a one-line ``error:`` and exit code 2:
a screening run that silently lacks a concept the user asked for gives wrong
verdicts, so nothing runs until the file is fixed). ``strict=False`` skips the
bad rows instead and returns them in :attr:`UserTerms.problems`.

* errors: undecodable bytes (UTF-8, with or without a BOM), an empty file, a
  missing header or a header without ``label`` and ``synonym``, an unknown
  column, a row with a different number of columns than the header, a
  missing label or synonym, a synonym without any word, an unknown category;
* warnings (the row is ignored, the run goes on): a synonym repeated for the
  same label, a synonym already given to another label (the first label in
  file order keeps it, so results do not depend on anything but the file), a
  label given two different categories (the first one is kept).

Matching follows from what the terms are: case-insensitive (synonyms are
lower-cased, so even a short "CRS" matches "crs"), tolerant of extra inner
whitespace and line breaks and of in-word hyphens (the index works on a word
view), any number of words. One exception, warned about: a capitalised synonym
that is also a common English word ("ALL", "IT") only matches as written.
:func:`nlp.lexicon.user_index.with_user_terms` returns the lexicon index with the terms *added*, never
replacing a lexicon concept: the longest match wins, and where a user synonym
and a lexicon synonym are the very same words, the user's concept wins, since
the user asked for it. (In notes, a longer lexicon phrase that is no fact of its
own does not hide a user term: see ``nlp.notes.concepts``.)

Both sides use the terms: the note pipeline (``nlp.load_pipeline(extra_terms=...)``)
and the protocol parser (``parse_protocol(text, id, index=with_user_terms(path))``).
A parsed protocol carries its user concepts, so the matcher rebuilds what it
needs from the protocols alone (:func:`nlp.lexicon.user_index.index_for_protocols`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Union

from nlp.lexicon.entries import ConceptEntry
from nlp.lexicon.index import is_case_sensitive, tokenize

COLUMNS = ("label", "synonym", "category", "code")
REQUIRED = ("label", "synonym")
DEFAULT_CATEGORY = "diagnosis"
# A user's category -> (fact type in notes, concept domain, criterion category in protocols).
# Measured concepts (labs, vitals) are not accepted: a value needs units and reference ranges,
# which live in the lexicon's measurements.csv.
CATEGORIES: dict[str, tuple[str, str, str]] = {
    "diagnosis": ("diagnosis", "condition", "diagnosis"),
    "condition": ("diagnosis", "condition", "comorbidity"),
    "comorbidity": ("diagnosis", "condition", "comorbidity"),
    "adverse_event": ("diagnosis", "condition", "comorbidity"),
    "psychiatric": ("psychiatric", "condition", "comorbidity"),
    "disease_status": ("disease_status", "condition", "disease_status"),
    "biomarker": ("biomarker", "measurement", "biomarker"),
    "therapy": ("therapy", "drug", "prior_therapy"),
    "prior_therapy": ("therapy", "drug", "prior_therapy"),
    "drug": ("therapy", "drug", "prior_therapy"),
    "medication": ("therapy", "drug", "prior_therapy"),
    "regimen": ("therapy", "drug", "prior_therapy"),
    "procedure": ("therapy", "procedure", "prior_therapy"),
}
# User synonyms win over lexicon synonyms of the same words (lower priority wins; curated is 0,
# the stop list -1).
USER_PRIORITY = -2
_MAX_SHOWN = 3
_COMMON_WORDS = frozenset((w,) for w in (
    "a all also am an and any are as at be but by can did do does for from go had has have he her him his how i if in "
    "is it its may me more most my no nor not now of off on one or our out own per she so some such than that the "
    "then there these they this those to too two up us was we were what when which who why will with yet you"
).split())


@dataclass(frozen=True)
class TermProblem:
    """One problem of a terms file, at a 1-based physical line (0: the file as a whole)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class TermsError(ValueError):
    """A terms file that cannot be used; ``problems`` holds every problem found, with line numbers."""

    def __init__(self, source: str, problems: list[TermProblem]):
        self.source = source
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:_MAX_SHOWN])
        more = len(self.problems) - _MAX_SHOWN
        super().__init__(f"terms file {source}: {shown}" + (f" (and {more} more problems)" if more > 0 else ""))


@dataclass
class UserTerms:
    """The concepts of a terms file, plus what was wrong with it (rows skipped) and what was ignored."""

    source: str
    entries: list[ConceptEntry] = field(default_factory=list)
    problems: list[TermProblem] = field(default_factory=list)
    warnings: list[TermProblem] = field(default_factory=list)


def slug(text: str) -> str:
    """``user:`` id suffix of a label: lower-case words joined by underscores."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "term"


def term_key(phrase: str) -> tuple[str, ...]:
    """The folded word sequence a phrase matches on (case, spacing, line breaks, plurals ignored)."""
    return tuple(t.norm for t in tokenize(phrase.lower()))


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TermsError(source, [TermProblem(line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})")]) from None


def _rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """CSV rows with the physical line each starts on (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        start = line
        line = reader.line_num + 1
        yield start, row


def _forms(synonym: str, warn) -> tuple[str, ...]:
    """The index synonyms of one user synonym.

    Lower-cased, so that it matches in any case (the index matches short
    capitalised synonyms case-sensitively). A short capitalised synonym is
    also indexed as written, so that it beats a lexicon abbreviation spelled
    the same way ("CRS"). One exception to case-insensitivity: a capitalised
    synonym that is a common English word ("ALL", "IT") only matches as written,
    or it would match the word in every sentence.
    """
    if is_case_sensitive(synonym):
        if term_key(synonym) in _COMMON_WORDS:
            warn(f"synonym {synonym!r} is also a common English word; it matches only as written")
            return (synonym,)
        return (synonym.lower(), synonym)
    return (synonym.lower(),)


class _Builder:
    """Turns rows into concepts, recording errors and warnings."""

    def __init__(self, source: str):
        self.out = UserTerms(source)
        self.by_label: dict[str, ConceptEntry] = {}
        self.label_line: dict[str, int] = {}
        self.owner: dict[tuple[str, ...], tuple[str, int]] = {}  # synonym key -> (label, line)

    def error(self, line: int, message: str) -> None:
        self.out.problems.append(TermProblem(line, message))

    def warn(self, line: int, message: str) -> None:
        self.out.warnings.append(TermProblem(line, message))

    def row(self, line: int, values: dict[str, str]) -> None:
        label = " ".join(values.get("label", "").split())
        synonym = " ".join(values.get("synonym", "").split())
        category = values.get("category", "").strip().lower().replace(" ", "_").replace("-", "_") or DEFAULT_CATEGORY
        code = values.get("code", "").strip()
        bad = []
        if not label:
            bad.append("missing label")
        if not synonym:
            bad.append("missing synonym")
        elif synonym.startswith("="):
            bad.append(f"synonym {synonym!r} starts with '=' (a spreadsheet formula?)")
        elif not any(w[:1].isalnum() for w in term_key(synonym)):
            bad.append(f"synonym {synonym!r} has no words")
        if category not in CATEGORIES:
            bad.append(f"unknown category {values.get('category', '').strip()!r} "
                       f"(use one of: {', '.join(sorted(CATEGORIES))})")
        for message in bad:
            self.error(line, message)
        if bad:
            return
        entry = self.by_label.get(label)
        if entry is None:
            kind, domain, criterion_category = CATEGORIES[category]
            entry = ConceptEntry(id=f"user:{slug(label)}", label=label, category=criterion_category, type=kind,
                                 domain=domain, source="user", extra={"user_category": category})
            self.by_label[label] = entry
            self.label_line[label] = line
        elif category != entry.extra["user_category"] and values.get("category", "").strip():
            kept = entry.extra["user_category"]
            self.warn(line, f"category {category!r} of {label!r} differs from line {self.label_line[label]}'s "
                            f"{kept!r}; kept {kept!r}")
        if code:
            system, _, value = code.partition(":")
            pair = (system.strip(), value.strip()) if value else ("user", system.strip())
            if pair not in entry.codes:
                entry.codes = entry.codes + (pair,)
        key = term_key(synonym)
        owner = self.owner.get(key)
        if owner is None:
            self.owner[key] = (label, line)
            entry.synonyms = entry.synonyms + _forms(synonym, lambda msg: self.warn(line, msg))
        elif owner[0] == label:
            self.warn(line, f"synonym {synonym!r} repeats line {owner[1]}; ignored")
        else:
            self.warn(line, f"synonym {synonym!r} already belongs to {owner[0]!r} (line {owner[1]}); "
                            f"kept for {owner[0]!r}")

    def finish(self) -> UserTerms:
        # The label itself is matched too, unless another label claims those words as a synonym.
        for label, entry in self.by_label.items():
            key = term_key(label)
            if any(w[:1].isalnum() for w in key) and key not in self.owner:
                self.owner[key] = (label, self.label_line[label])
                entry.synonyms = entry.synonyms + _forms(label, lambda msg: None)
        ids: set[str] = set()
        for entry in self.by_label.values():
            base, n = entry.id, 1
            while entry.id in ids:  # "VEXAS syndrome" and "vexas-syndrome": two labels, one slug
                n += 1
                entry.id = f"{base}_{n}"
            ids.add(entry.id)
        self.out.entries = [e for e in self.by_label.values() if e.synonyms]
        return self.out


def parse_terms(text: str, source: str = "<terms>", strict: bool = True) -> UserTerms:
    """Concepts of terms-file ``text`` (see the module docstring for what is an error)."""
    if not text.strip():
        raise TermsError(source, [TermProblem(0, "the file is empty (expected the header label,synonym[,category,code])")])
    rows = _rows(text)
    header_line, header = 1, []
    for header_line, header in rows:
        if any(cell.strip() for cell in header):
            break
    names = [h.strip().lower() for h in header]
    problems = []
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        shown = ",".join(h.strip() for h in header)[:60]
        problems.append(TermProblem(header_line, f"missing header label,synonym[,category,code] (found {shown!r})"))
    unknown = [h for h in names if h and h not in COLUMNS]
    if unknown:
        problems.append(TermProblem(header_line, f"unknown column(s) {', '.join(map(repr, unknown))} "
                                                 f"(columns: {', '.join(COLUMNS)})"))
    repeated = sorted({h for h in names if h and names.count(h) > 1})
    if repeated:
        problems.append(TermProblem(header_line, f"repeated column(s) {', '.join(map(repr, repeated))}"))
    if problems:
        raise TermsError(source, problems)
    builder = _Builder(source)
    n_rows = 0
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue  # blank line
        n_rows += 1
        if len(row) != len(names):
            builder.error(line, f"expected {len(names)} columns ({','.join(names)}), found {len(row)}")
            continue
        builder.row(line, dict(zip(names, row)))
    out = builder.finish()
    if strict and out.problems:
        raise TermsError(source, out.problems)
    if not n_rows:
        raise TermsError(source, [TermProblem(header_line, "no term rows after the header")])
    if not out.entries and not out.problems:
        raise TermsError(source, [TermProblem(0, "no usable terms")])
    return out


def read_terms(source: Union[str, Path], strict: bool = True) -> UserTerms:
    """Concepts of the terms file at ``source``; :class:`TermsError` (with line numbers) when unusable.

    A missing or unreadable file raises ``OSError`` as usual.
    """
    path = Path(source)
    return parse_terms(_decode(path.read_bytes(), str(source)), str(source), strict)


def terms_from_rows(rows: Iterable[dict], source: str = "<rows>", strict: bool = True) -> UserTerms:
    """Concepts from dicts with ``label, synonym`` and optional ``category, code`` (validated like a file).

    Row ``k`` (0-based) is reported as line ``k + 2``, as if the rows followed a header line.
    """
    builder = _Builder(source)
    for k, row in enumerate(rows):
        unknown = [c for c in row if c not in COLUMNS]
        if unknown:
            builder.error(k + 2, f"unknown column(s) {', '.join(map(repr, unknown))}")
            continue
        builder.row(k + 2, {c: "" if row.get(c) is None else str(row[c]) for c in COLUMNS})
    out = builder.finish()
    if strict and out.problems:
        raise TermsError(source, out.problems)
    return out


def load_user_terms(source: Union[str, Path, Iterable[dict], UserTerms], strict: bool = True) -> list[ConceptEntry]:
    """The user concepts of a terms file, of rows (dicts), or of already read :class:`UserTerms`."""
    if isinstance(source, UserTerms):
        return source.entries
    if isinstance(source, (str, Path)):
        return read_terms(source, strict).entries
    return terms_from_rows(source, strict=strict).entries
