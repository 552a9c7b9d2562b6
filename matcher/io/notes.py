"""Reading notes: ``.jsonl``, ``.csv``, ``.parquet``, globs of them, a directory of ``.txt``
files, or a database URL with an OMOP ``NOTE`` table. Rows stream; each row comes
out as a :class:`NoteRow` or, when it cannot be used, an :class:`ErrorRecord`
with its location and the reason. Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import glob
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Union

from matcher.errors import UsageError
from matcher.io.text import decode_text, iter_jsonl
from nlp.schema import ErrorRecord

DEFAULT_MAX_NOTE_CHARS = 1_000_000
DEFAULT_QUERY = ("SELECT CAST(person_id AS VARCHAR(64)) AS patient_id, CAST(note_id AS VARCHAR(64)) AS note_id, "
                 "note_text AS text, note_date AS date, note_title AS note_type FROM note")
DB_SCHEMES = ("postgresql", "postgres", "sqlite", "duckdb")
_SURROGATE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)
_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+]*)(?:\+[a-z0-9]+)?://", re.IGNORECASE)


@dataclass
class NoteRow:
    patient_id: str
    note_id: str
    text: str
    date: Optional[str] = None
    note_type: Optional[str] = None
    source: str = ""
    location: str = ""
    truncated: bool = False


@dataclass
class ReadOptions:
    max_note_chars: int = DEFAULT_MAX_NOTE_CHARS
    oversize: str = "reject"  # or "truncate"
    query: Optional[str] = None


def is_database_url(spec: str) -> bool:
    m = _URL.match(spec)
    return bool(m and m.group("scheme").lower() in DB_SCHEMES)


def _iso_date(value) -> Optional[str]:
    if value is None or value == "":
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    from nlp.grammar.dates import parse_date

    d = parse_date(str(value))
    return d.isoformat() if d else None


def make_row(raw: dict, source: str, location: str, options: ReadOptions) -> Union[NoteRow, ErrorRecord]:
    """Validate one input row; an unusable row becomes an ErrorRecord saying why."""
    pid, nid, text = raw.get("patient_id"), raw.get("note_id"), raw.get("text")
    ident = None if nid is None else str(nid)
    if pid is None or str(pid).strip() == "":
        return ErrorRecord(source=source, location=location, id=ident, reason="missing patient_id")
    if ident is None or ident.strip() == "":
        return ErrorRecord(source=source, location=location, reason="missing note_id")
    if isinstance(text, (bytes, bytearray)):
        try:
            text = decode_text(bytes(text), "text")
        except ValueError as exc:
            return ErrorRecord(source=source, location=location, id=ident, reason=str(exc))
    if not isinstance(text, str) or not text.strip():
        return ErrorRecord(source=source, location=location, id=ident, reason="missing or empty text")
    if "\x00" in text[:8192]:
        return ErrorRecord(source=source, location=location, id=ident, reason="text looks binary (NUL bytes)")
    if _SURROGATE.search(text):
        return ErrorRecord(source=source, location=location, id=ident, reason="text is not UTF-8")
    truncated = False
    if len(text) > options.max_note_chars:
        if options.oversize != "truncate":
            return ErrorRecord(source=source, location=location, id=ident,
                               reason=f"note has {len(text)} characters, over --max-note-chars {options.max_note_chars}")
        text, truncated = text[:options.max_note_chars], True
    return NoteRow(str(pid), ident, text, _iso_date(raw.get("date")), raw.get("note_type") or None, source, location, truncated)


def _iter_jsonl(path: Path, options: ReadOptions):
    for number, row, error in iter_jsonl(path, "NOTES"):
        location = f"line {number}"
        if error:
            yield ErrorRecord(source=str(path), location=location, reason=error)
        else:
            yield make_row(row, str(path), location, options)


def _iter_csv(path: Path, options: ReadOptions):
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise UsageError(f"NOTES csv needs a header with patient_id,note_id,text: {path}")
        for number, row in enumerate(reader, start=2):
            if None in row:  # more fields than the header
                yield ErrorRecord(source=str(path), location=f"row {number}", id=row.get("note_id"), reason="more fields than the header")
                continue
            yield make_row(row, str(path), f"row {number}", options)


def _iter_parquet(path: Path, options: ReadOptions):
    try:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is a usage error
        raise UsageError(f"cannot read parquet {path}: {type(exc).__name__}") from None
    number = 0
    for batch in pf.iter_batches(batch_size=2048):
        for row in batch.to_pylist():
            number += 1
            yield make_row(row, str(path), f"row {number}", options)


def _iter_txt_dir(root: Path, options: ReadOptions):
    files = sorted(p for p in root.rglob("*.txt") if p.is_file())
    if not files:
        raise UsageError(f"no .txt files in directory {root}")
    nested = any(len(p.relative_to(root).parts) > 1 for p in files)
    for p in files:
        rel = p.relative_to(root).as_posix()
        pid = p.relative_to(root).parts[0] if nested and len(p.relative_to(root).parts) > 1 else p.stem
        try:
            data = p.read_bytes()
        except OSError as exc:
            yield ErrorRecord(source=str(root), location=rel, id=rel, reason=f"cannot read: {exc.strerror}")
            continue
        try:
            text = decode_text(data, "file")
        except ValueError as exc:
            yield ErrorRecord(source=str(root), location=rel, id=rel, reason=str(exc))
            continue
        yield make_row({"patient_id": pid, "note_id": rel, "text": text}, str(root), rel, options)


def _iter_database(url: str, options: ReadOptions):
    from matcher.io.database import iter_query

    for number, row in enumerate(iter_query(url, options.query or DEFAULT_QUERY), start=1):
        yield make_row(row, "database", f"row {number}", options)


def _expand(spec: str) -> list[Path]:
    if any(ch in spec for ch in "*?["):
        paths = sorted(Path(p) for p in glob.glob(spec, recursive=True))
        if not paths:
            raise UsageError(f"no files match {spec}")
        return paths
    return [Path(spec)]


def iter_notes(spec: Union[str, Path], options: Optional[ReadOptions] = None) -> Iterator[Union[NoteRow, ErrorRecord]]:
    """Every row of a NOTES input, in input order."""
    options = options or ReadOptions()
    spec = str(spec)
    if is_database_url(spec):
        yield from _iter_database(spec, options)
        return
    for path in _expand(spec):
        if not path.exists():
            raise UsageError(f"NOTES not found: {path}")
        if path.is_dir():
            yield from _iter_txt_dir(path, options)
            continue
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            yield from _iter_jsonl(path, options)
        elif suffix == ".csv":
            yield from _iter_csv(path, options)
        elif suffix == ".parquet":
            yield from _iter_parquet(path, options)
        else:
            raise UsageError(f"NOTES must be .jsonl, .csv, .parquet, a directory of .txt, or a database URL: {path.name}")


def safe_url(url: str) -> str:
    """A database URL with its password hidden (in the user info or a ``password=`` parameter), for messages."""
    m = re.match(r"^([a-z][a-z0-9+.-]*://)([^/?#]*)(.*)$", url, re.IGNORECASE | re.DOTALL)
    if not m:
        return url
    scheme, netloc, rest = m.groups()
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    rest = re.sub(r"(?i)([?&](?:password|pass|pwd)=)[^&#]*", r"\1***", rest)
    return scheme + netloc + rest
