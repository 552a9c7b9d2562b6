"""Pass 1: stream the notes input into partitions by patient, with bounded memory.

Each valid row goes to ``part-NNNN.jsonl`` chosen by a stable hash of its
patient id, so every patient lands in exactly one partition whatever the input
order (sorted, grouped or shuffled input all give the same partitions).
Duplicate note ids are found with an on-disk index (exact, bounded memory). Bad
rows go to ``errors-pass1.jsonl`` in input order. Nothing here keeps the
archive in memory: partition lines are buffered up to a fixed byte budget and
then appended to their files.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import sqlite3
import sys
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from matcher.io.notes import NoteRow, ReadOptions, is_database_url, iter_notes
from matcher.io.text import dumps
from nlp.schema import ErrorRecord

BUFFER_BYTES = 32 << 20  # partition lines held before they are appended to disk
PARTITION_BYTES = 4 << 20  # input bytes per partition: small tasks balance well across workers
MIN_PARTITIONS, MAX_PARTITIONS, DATABASE_PARTITIONS = 32, 32768, 4096
WARNINGS_SHOWN = 10  # per-row warnings printed to stderr; the rest are only in the errors file


@dataclass
class PassOneCounts:
    read: int = 0
    used: int = 0
    rejected: int = 0
    skipped: int = 0
    truncated: int = 0


def partition_of(patient_id: str, n: int) -> int:
    """Stable across processes, machines and runs (unlike ``hash``)."""
    digest = hashlib.blake2b(patient_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n


def choose_partitions(spec: str) -> int:
    """About PARTITION_BYTES of input per partition, so a task's memory does not grow with the archive.

    A database's size is unknown before reading it: it gets a fixed, generous count
    (empty partitions cost nothing).
    """
    if is_database_url(spec):
        return DATABASE_PARTITIONS
    paths = [Path(p) for p in glob.glob(spec)] or [Path(spec)]
    size = 0
    for p in paths:
        if p.is_dir():
            size += sum(f.stat().st_size for f in p.rglob("*.txt"))
        elif p.exists():
            size += p.stat().st_size
    return max(MIN_PARTITIONS, min(MAX_PARTITIONS, size // PARTITION_BYTES + 1))


class JsonlPartitions:
    """Buffered appends to ``part-NNNN.jsonl`` files (mode 0600), flushed at a byte budget.

    Buffering instead of one open handle per partition keeps the number of open
    files at one, whatever the partition count, and memory at BUFFER_BYTES.
    """

    def __init__(self, folder: Path, n_parts: int):
        self.folder, self.n_parts = folder, n_parts
        self.buffers: dict[int, list[str]] = {}
        self.size = 0
        for old in folder.glob("part-*.jsonl"):
            old.unlink()

    def add(self, row: NoteRow, order: int) -> None:
        record = asdict(row)
        record["order"] = order
        line = json.dumps(record, ensure_ascii=False) + "\n"
        self.buffers.setdefault(partition_of(row.patient_id, self.n_parts), []).append(line)
        self.size += len(line)
        if self.size >= BUFFER_BYTES:
            self.flush()

    def flush(self) -> None:
        for k in sorted(self.buffers):
            fd = os.open(self.folder / f"part-{k:04d}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8", newline="\n") as fh:
                fh.writelines(self.buffers[k])
        self.buffers.clear()
        self.size = 0

    def close(self) -> None:
        self.flush()


class _SeenIds:
    """Exact duplicate detection of note ids on disk (a set of 100M ids would not fit in memory)."""

    def __init__(self, path: Path):
        path.unlink(missing_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-65536")  # 64 MB page cache: fast, and still bounded
        self.db.execute("CREATE TABLE seen (note_id TEXT PRIMARY KEY) WITHOUT ROWID")

    def add(self, note_id: str) -> bool:
        """True if new."""
        return self.db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (note_id,)).rowcount == 1

    def close(self, path: Path) -> None:
        self.db.close()
        path.unlink(missing_ok=True)


class RowWarnings:
    """The first few rejected rows on stderr (location, note id, reason); never note text
    unless ``log_text`` is set, and then only a short excerpt."""

    def __init__(self, log_text: bool = False, shown: int = WARNINGS_SHOWN, stream=None):
        self.log_text, self.shown, self.count = log_text, shown, 0
        self.stream = stream or sys.stderr

    def warn(self, error: ErrorRecord, text: Optional[str] = None) -> None:
        self.count += 1
        if self.count > self.shown:
            return
        where = " ".join(x for x in (error.source, error.location) if x)
        note = f" (note {error.id})" if error.id else ""
        line = f"warning: {where}{note}: {error.reason}"
        if self.log_text and text:
            line += f" | text: {excerpt(text)!r}"
        print(line, file=self.stream)

    def close(self, errors_file: str = "the errors file") -> None:
        if self.count > self.shown:
            print(f"warning: {self.count - self.shown} more rows were set aside; see {errors_file}", file=self.stream)


def excerpt(text: str, n: int = 80) -> str:
    """The start of a note for ``--log-text`` messages (never used without it)."""
    text = " ".join(text[:n * 2].split())
    return text[:n] + ("…" if len(text) > n else "")


def partition_notes(spec: str, options: ReadOptions, folder: Path, n_parts: int,
                    keep_patient: Optional[Callable[[str], bool]] = None, limit: Optional[int] = None,
                    on_row: Optional[Callable[[int], None]] = None, sink=None,
                    warnings: Optional[RowWarnings] = None) -> PassOneCounts:
    """Write partitions (or feed ``sink``) and pass-1 errors into ``folder``; return the row counts.

    ``read == used + rejected + skipped`` always holds. Truncated notes are used
    and also recorded in the errors file (so nothing changes silently).
    """
    folder.mkdir(parents=True, exist_ok=True)
    counts = PassOneCounts()
    sink = sink if sink is not None else JsonlPartitions(folder, n_parts)
    seen_path = folder / "seen-note-ids.sqlite"
    seen = _SeenIds(seen_path)
    warnings = warnings or RowWarnings(shown=0)
    fd = os.open(folder / "errors-pass1.jsonl", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as errors:
        def reject(error: ErrorRecord, text: Optional[str] = None) -> None:
            errors.write(dumps(error) + "\n")
            warnings.warn(error, text)
        try:
            for order, item in enumerate(iter_notes(spec, options)):
                if limit is not None and counts.read >= limit:
                    break
                counts.read += 1
                if on_row and counts.read % 1000 == 0:
                    on_row(counts.read)
                if isinstance(item, ErrorRecord):
                    counts.rejected += 1
                    reject(item)
                    continue
                if not seen.add(item.note_id):
                    counts.rejected += 1
                    reject(ErrorRecord(source=item.source, location=item.location, id=item.note_id,
                                       reason="duplicate note_id"), item.text)
                    continue
                if keep_patient is not None and not keep_patient(item.patient_id):
                    counts.skipped += 1
                    continue
                if item.truncated:
                    counts.truncated += 1
                    reject(ErrorRecord(source=item.source, location=item.location, id=item.note_id,
                                       reason=f"truncated to --max-note-chars {options.max_note_chars} (note used)"), item.text)
                counts.used += 1
                sink.add(item, order)
        finally:
            sink.close()
            seen.close(seen_path)
    if on_row:
        on_row(counts.read)
    return counts


def iter_partition(path: Path) -> Iterator[tuple[str, list[tuple[int, NoteRow]]]]:
    """``(patient_id, [(order, row), ...])`` of one partition: patients sorted, notes in input order.

    One partition is held in memory at a time; its size is bounded by
    :func:`choose_partitions`, not by the archive.
    """
    rows = []
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                order = d.pop("order")
                rows.append((d["patient_id"], order, NoteRow(**d)))
    rows.sort(key=lambda r: (r[0], r[1]))
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][0] != rows[start][0]:
            yield rows[start][0], [(order, row) for _, order, row in rows[start:i]]
            start = i


def read_partition(path: Path) -> "OrderedDict[str, list[NoteRow]]":
    """Notes of one partition grouped by patient (sorted), in input order within a patient."""
    return OrderedDict((pid, [row for _, row in rows]) for pid, rows in iter_partition(path))
