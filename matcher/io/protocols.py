"""Reading protocols: one ``.txt`` file, or a ``.jsonl`` of many trials."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Union

from matcher.errors import UsageError
from matcher.io.text import iter_jsonl, read_text_file
from nlp.schema import ErrorRecord


@dataclass
class ProtocolRow:
    trial_id: str
    text: str
    title: Optional[str] = None


def read_protocols(path: Union[str, Path]) -> Iterator[Union[ProtocolRow, ErrorRecord]]:
    """Protocol rows, or an :class:`ErrorRecord` for each row that cannot be used."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".txt":
        yield ProtocolRow(path.stem, read_text_file(path, "PROTOCOL"))
        return
    if suffix != ".jsonl":
        raise UsageError(f"PROTOCOL must be a .txt or .jsonl file, got {path.name}")
    for number, row, error in iter_jsonl(path, "PROTOCOL"):
        location = f"line {number}"
        if error:
            yield ErrorRecord(source=str(path), location=location, reason=error)
            continue
        trial_id = row.get("trial_id") or row.get("nct_id")
        text = row.get("text") if row.get("text") is not None else row.get("criteria")
        if not trial_id:
            yield ErrorRecord(source=str(path), location=location, reason="missing trial_id (or nct_id)")
        elif not isinstance(text, str) or not text.strip():
            yield ErrorRecord(source=str(path), location=location, id=str(trial_id), reason="missing or empty text (or criteria)")
        else:
            yield ProtocolRow(str(trial_id), text, row.get("title"))
