"""Safe reading of text files and writing of outputs (UTF-8, atomic, not world-readable)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Iterable, Optional

from matcher.errors import UsageError

BINARY_SNIFF = 8192


def decode_text(data: bytes, what: str) -> str:
    """Decode UTF-8 text, refusing binary data with a clear message."""
    if b"\x00" in data[:BINARY_SNIFF]:
        raise ValueError(f"{what} looks binary (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what} is not UTF-8 (byte {exc.start})") from None
    return text


def read_text_file(path: Path, what: str = "input") -> str:
    """Read a whole UTF-8 text file; a missing, unreadable, binary or empty file is a UsageError."""
    if not path.exists():
        raise UsageError(f"{what} not found: {path}")
    if path.is_dir():
        raise UsageError(f"{what} is a directory, not a file: {path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        text = decode_text(data, f"{what} {path}")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not text.strip():
        raise UsageError(f"{what} is empty: {path}")
    return text


def iter_jsonl(path: Path, what: str = "input") -> Iterable[tuple[int, Optional[dict], Optional[str]]]:
    """Yield ``(line_number, row, error)`` for each non-blank line; a bad line gives an error, not an exception."""
    if not path.exists():
        raise UsageError(f"{what} not found: {path}")
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                line = decode_text(raw, f"line {number}")
            except ValueError as exc:
                yield number, None, str(exc)
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"invalid JSON: {exc.msg} (column {exc.colno})"
                continue
            if not isinstance(row, dict):
                yield number, None, "a JSON object was expected"
                continue
            yield number, row, None


class AtomicWriter:
    """Write to a temporary file beside ``path`` and rename on success (mode 0600)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fh = None
        self._tmp = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.fchmod(fd, 0o600)
        self._fh = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        return self._fh

    def __exit__(self, exc_type, exc, tb):
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            os.unlink(self._tmp)
        return False


def dumps(obj) -> str:
    """One JSON line, deterministic."""
    if hasattr(obj, "model_dump_json"):
        return obj.model_dump_json()
    return json.dumps(obj, ensure_ascii=False, sort_keys=False)
