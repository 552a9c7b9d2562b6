"""Pass 1: stream the notes input into partitions by patient, with bounded memory.

Each valid row goes to ``part-NNNN.jsonl`` chosen by a stable hash of its
patient id, so every patient lands in exactly one partition whatever the input
order. Duplicate note ids are found with an on-disk index (exact, bounded
memory). Bad rows go to ``errors-pass1.jsonl``. Nothing here keeps the archive
in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional

from matcher.io.notes import NoteRow, ReadOptions, iter_notes
from matcher.io.text import dumps
from nlp.schema import ErrorRecord

MAX_OPEN_FILES = 128


@dataclass
class PassOneCounts:
    read: int = 0
    used: int = 0
    rejected: int = 0
    skipped: int = 0
    truncated: int = 0
    patients: int = 0


def partition_of(patient_id: str, n: int) -> int:
    """Stable across processes and runs (unlike ``hash``)."""
    digest = hashlib.blake2b(patient_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n


def choose_partitions(spec: str) -> int:
    """About 16 MB of notes per partition, between 8 and 1024 partitions."""
    from matcher.io.notes import is_database_url

    if is_database_url(spec):
        return 256
    paths = [Path(p) for p in __import__("glob").glob(spec)] or [Path(spec)]
    size = 0
    for p in paths:
        if p.is_dir():
            size += sum(f.stat().st_size for f in p.rglob("*.txt"))
        elif p.exists():
            size += p.stat().st_size
    return max(8, min(1024, size // (16 << 20) + 1))


class _Writers:
    """Append handles to partition files, at most MAX_OPEN_FILES open at once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.open: "OrderedDict[int, object]" = OrderedDict()

    def write(self, k: int, line: str) -> None:
        fh = self.open.pop(k, None)
        if fh is None:
            if len(self.open) >= MAX_OPEN_FILES:
                _, old = self.open.popitem(last=False)
                old.close()
            path = self.folder / f"part-{k:04d}.jsonl"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            fh = os.fdopen(fd, "a", encoding="utf-8", newline="\n")
        fh.write(line)
        self.open[k] = fh

    def close(self) -> None:
        for fh in self.open.values():
            fh.close()
        self.open.clear()


class _SeenIds:
    """Exact duplicate detection of note ids on disk."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE IF NOT EXISTS seen (note_id TEXT PRIMARY KEY) WITHOUT ROWID")

    def add(self, note_id: str) -> bool:
        """True if new."""
        cur = self.db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (note_id,))
        return cur.rowcount == 1

    def close(self) -> None:
        self.db.commit()
        self.db.close()


def partition_notes(spec: str, options: ReadOptions, folder: Path, n_parts: int,
                    keep_patient: Optional[Callable[[str], bool]] = None, limit: Optional[int] = None,
                    on_row: Optional[Callable[[int], None]] = None) -> PassOneCounts:
    """Write partitions and pass-1 errors into ``folder``; return the row counts."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.jsonl"):
        old.unlink()
    counts = PassOneCounts()
    writers = _Writers(folder)
    seen = _SeenIds(folder / "seen-note-ids.sqlite")
    patients: set[str] = set()
    errors_path = folder / "errors-pass1.jsonl"
    fd = os.open(errors_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as errors:
        try:
            for order, item in enumerate(iter_notes(spec, options)):
                if limit is not None and counts.read >= limit:
                    break
                counts.read += 1
                if on_row and counts.read % 500 == 0:
                    on_row(counts.read)
                if isinstance(item, ErrorRecord):
                    counts.rejected += 1
                    errors.write(dumps(item) + "\n")
                    continue
                if not seen.add(item.note_id):
                    counts.rejected += 1
                    errors.write(dumps(ErrorRecord(source=item.source, location=item.location, id=item.note_id,
                                                   reason="duplicate note_id")) + "\n")
                    continue
                if keep_patient is not None and not keep_patient(item.patient_id):
                    counts.skipped += 1
                    continue
                if item.truncated:
                    counts.truncated += 1
                    errors.write(dumps(ErrorRecord(source=item.source, location=item.location, id=item.note_id,
                                                   reason=f"truncated to --max-note-chars {options.max_note_chars} (note used)")) + "\n")
                counts.used += 1
                if len(patients) < 5_000_000:  # a count for the progress bar, not a correctness need
                    patients.add(item.patient_id)
                record = asdict(item)
                record["order"] = order
                writers.write(partition_of(item.patient_id, n_parts), json.dumps(record, ensure_ascii=False) + "\n")
        finally:
            writers.close()
            seen.close()
    counts.patients = len(patients)
    return counts


def read_partition(path: Path) -> "OrderedDict[str, list[NoteRow]]":
    """Notes of one partition grouped by patient (sorted), in input order within a patient."""
    rows = []
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                order = d.pop("order")
                rows.append((d["patient_id"], order, NoteRow(**d)))
    rows.sort(key=lambda r: (r[0], r[1]))
    grouped: "OrderedDict[str, list[NoteRow]]" = OrderedDict()
    for pid, _, row in rows:
        grouped.setdefault(pid, []).append(row)
    return grouped
