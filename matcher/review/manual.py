"""Reading MANUAL.csv (or a DataFrame) into raw rows, tolerant of real review spreadsheets.

Real sheets come from Excel: a BOM, Windows-1252 bytes, ``;`` delimiters,
headers such as "Patient ID" or "Reviewer", extra comment columns and blank
rows. This module only finds the columns and keeps every cell as text with the
spreadsheet row number; meaning is given later (:mod:`matcher.review.align`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from matcher.io.text import BINARY_SNIFF

# Canonical column -> accepted header spellings (after normalization: lower case, words joined by "_").
ALIASES: dict[str, tuple[str, ...]] = {
    "trial_id": ("trial_id", "trial", "study_id", "study", "nct_id", "nct", "protocol_id", "protocol"),
    "patient_id": ("patient_id", "patient", "subject_id", "subject", "participant_id", "participant", "pt_id",
                   "mrn", "chart_id", "chart", "record_id"),
    "criterion_id": ("criterion_id", "criterion", "criteria_id", "criteria", "crit_id", "crit", "item_id", "item"),
    "criterion_text": ("criterion_text", "criteria_text", "criterion_description", "description", "requirement"),
    "status": ("status", "label", "answer", "assessment", "result", "finding", "met", "criterion_met"),
    "verdict": ("verdict", "eligibility", "overall", "overall_verdict", "overall_eligibility", "eligible",
                "final_verdict", "decision"),
    "reviewer": ("reviewer", "reviewer_id", "reviewer_name", "rater", "abstractor", "annotator", "reviewed_by"),
}
REQUIRED = ("patient_id",)


class ManualError(ValueError):
    """A manual-review file that cannot be used at all (missing, binary, no usable columns)."""


@dataclass
class RawRow:
    """One spreadsheet row, cells as written (stripped), with its row number as a spreadsheet shows it."""

    row: Union[int, str]
    trial_id: str = ""
    patient_id: str = ""
    criterion: str = ""
    criterion_text: str = ""
    status: str = ""
    verdict: str = ""
    reviewer: str = ""


@dataclass
class ManualSheet:
    rows: list[RawRow]
    columns: dict[str, str]  # canonical -> header as written
    ignored_columns: list[str]
    notes: list[str] = field(default_factory=list)
    blank_rows: int = 0


def header_key(name) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().casefold()).strip("_")


def map_columns(headers: list[str]) -> tuple[dict[str, str], list[str]]:
    """Canonical column -> header. An exact canonical name beats an alias; other columns are ignored."""
    keys = [header_key(h) for h in headers]
    found: dict[str, str] = {}
    for canonical, aliases in ALIASES.items():
        for alias in aliases:  # aliases are in order of preference
            hits = [h for h, k in zip(headers, keys) if k == alias and h not in found.values()]
            if hits:
                found[canonical] = hits[0]
                break
    ignored = [h for h in headers if h not in found.values()]
    return found, ignored


def read_manual(source, what: str = "MANUAL") -> ManualSheet:
    """A path (.csv/.tsv/.txt; .xlsx when openpyxl is installed) or a pandas DataFrame -> :class:`ManualSheet`."""
    if hasattr(source, "columns") and hasattr(source, "itertuples"):
        return _from_frame(source)
    path = Path(source)
    if not path.exists():
        raise ManualError(f"{what} not found: {path}")
    if path.is_dir():
        raise ManualError(f"{what} is a directory, not a file: {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return _from_excel(path, what)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManualError(f"cannot read {what} {path}: {exc.strerror}") from None
    if b"\x00" in data[:BINARY_SNIFF]:
        raise ManualError(f"{what} looks binary, not a CSV file: {path}")
    notes = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's "CSV" on Windows writes Windows-1252; reading it beats refusing a reviewer's sheet.
        text = data.decode("cp1252", errors="replace")
        notes.append(f"{path.name} is not UTF-8; it was read as Windows-1252")
    if not text.strip():
        raise ManualError(f"{what} is empty: {path}")
    sheet = _from_text(text, what, path.name)
    sheet.notes[:0] = notes
    return sheet


def _from_text(text: str, what: str, name: str) -> ManualSheet:
    first = text.lstrip("\r\n").splitlines()[0]
    # Sniff only the header line: European Excel writes ';', some exports use tabs.
    delimiter = max((",", ";", "\t"), key=lambda d: (first.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = list(reader)
    skipped = 0
    while records and not any(c.strip() for c in records[0]):
        records.pop(0)
        skipped += 1
    headers = [h.strip() for h in records[0]]
    notes = [] if delimiter == "," else [f"{name} uses {'tab' if delimiter == chr(9) else repr(delimiter)} as delimiter"]
    # Row numbers as a spreadsheet shows them: the header is row 1 (+ any blank lines above it).
    first_data_row = skipped + 2
    return _build([(first_data_row + i, rec) for i, rec in enumerate(records[1:])], headers, what, notes)


def _from_frame(frame) -> ManualSheet:
    headers = [str(c) for c in frame.columns]
    rows = []
    for label, values in zip(frame.index, frame.itertuples(index=False, name=None)):
        rows.append((label, ["" if _missing(v) else str(v) for v in values]))
    return _build(rows, headers, "manual DataFrame", [])


def _from_excel(path: Path, what: str) -> ManualSheet:
    try:
        import openpyxl  # noqa: F401  (pandas needs it for .xlsx)
    except ImportError:
        raise ManualError(f"{what} is an Excel file; save it as CSV (UTF-8) or install openpyxl: {path}") from None
    import pandas as pd

    try:
        frame = pd.read_excel(path, dtype=str)
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file cannot be opened
        raise ManualError(f"cannot read {what} {path}: {type(exc).__name__}") from None
    sheet = _from_frame(frame)
    for r in sheet.rows:  # a DataFrame index 0 is spreadsheet row 2 (row 1 is the header)
        r.row = int(r.row) + 2
    return sheet


def _missing(value) -> bool:
    try:
        return value is None or value != value  # NaN
    except Exception:  # noqa: BLE001 - pandas.NA refuses comparisons
        return True


def _build(records, headers: list[str], what: str, notes: list[str]) -> ManualSheet:
    columns, ignored = map_columns(headers)
    missing = [c for c in REQUIRED if c not in columns]
    if missing or not ({"status", "verdict"} & set(columns)):
        need = "patient_id and status (or verdict)"
        raise ManualError(f"{what} has no {need} column; found: {', '.join(headers) or 'no header'}")
    index = {canonical: headers.index(h) for canonical, h in columns.items()}
    rows, blank = [], 0
    for number, cells in records:
        if not any(str(c).strip() for c in cells):
            blank += 1  # an empty spreadsheet line carries no label; counted, not listed
            continue
        def cell(name):
            i = index.get(name)
            return str(cells[i]).strip() if i is not None and i < len(cells) else ""
        rows.append(RawRow(row=number, trial_id=cell("trial_id"), patient_id=cell("patient_id"),
                           criterion=cell("criterion_id"), criterion_text=cell("criterion_text"),
                           status=cell("status"), verdict=cell("verdict"), reviewer=cell("reviewer")))
    if ignored:
        notes.append("ignored columns: " + ", ".join(ignored))
    return ManualSheet(rows=rows, columns=columns, ignored_columns=ignored, notes=notes, blank_rows=blank)
