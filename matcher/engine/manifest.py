"""The run manifest: what a run is (its fingerprint) and which work is complete.

``manifest.json`` (what the run is, and the pass-1 counts) is written
atomically; each completed partition is then appended, with an fsync, to
``done.jsonl`` -- one short line per task, so recording progress costs the same
for 10 partitions or 30,000. A line torn by a crash is ignored (its partition
is simply redone). ``--resume`` after a crash, ``kill -9`` or power loss redoes
only unfinished partitions, and the merged outputs equal an uninterrupted run's.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional

from matcher.errors import UsageError
from matcher.io.text import AtomicWriter

VERSION = 2


def _file_fingerprint(spec: Optional[str]) -> Any:
    if not spec:
        return None
    from matcher.io.notes import is_database_url, safe_url

    if is_database_url(spec):
        return {"database": safe_url(spec)}
    paths = sorted(glob.glob(spec)) or [spec]
    out = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files = sorted(path.rglob("*.txt"))
            out.append([str(path), len(files), sum(f.stat().st_size for f in files), max((f.stat().st_mtime_ns for f in files), default=0)])
        elif path.exists():
            st = path.stat()
            out.append([str(path), st.st_size, st.st_mtime_ns])
    return out


def _content_hash(path: Optional[str]) -> Optional[str]:
    if not path or not Path(path).exists():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fingerprint(command: str, notes: str, options: dict, protocol: Optional[str] = None, config: Optional[str] = None,
                pairs: Optional[str] = None, terms: Optional[str] = None) -> str:
    """A digest of everything that determines a run's output."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg = version("trialmatch")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        pkg = "dev"
    data = {"command": command, "notes": _file_fingerprint(notes), "options": options, "protocol": _content_hash(protocol),
            "config": _content_hash(config), "pairs": _content_hash(pairs), "terms": _content_hash(terms), "version": pkg}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class Manifest:
    """``.work/manifest.json`` and ``.work/done.jsonl`` in the output directory."""

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data
        self.data.setdefault("done", {})

    @classmethod
    def open(cls, work: Path, run_fingerprint: str, resume: bool) -> "Manifest":
        path = work / "manifest.json"
        if resume and path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("fingerprint") != run_fingerprint or data.get("version") != VERSION:
                raise UsageError("--resume: the inputs, options or code changed since the interrupted run; rerun without --resume")
            data["done"] = _read_done(work / "done.jsonl")
            return cls(path, data)
        if path.exists() or work.exists():
            # A fresh run in an old directory: forget the old work entirely.
            for old in work.glob("*"):
                if old.is_file():
                    old.unlink()
        work.mkdir(parents=True, exist_ok=True)
        os.chmod(work, 0o700)  # partitions hold note text
        manifest = cls(path, {"version": VERSION, "fingerprint": run_fingerprint, "pass1": None, "parts": None})
        manifest.save()
        return manifest

    def save(self) -> None:
        data = {k: v for k, v in self.data.items() if k != "done"}
        with AtomicWriter(self.path) as fh:
            json.dump(data, fh, indent=1, sort_keys=True)

    @property
    def pass1(self) -> Optional[dict]:
        return self.data["pass1"]

    def set_pass1(self, counts: dict, parts: int) -> None:
        (self.path.parent / "done.jsonl").unlink(missing_ok=True)
        self.data["pass1"], self.data["parts"], self.data["done"] = counts, parts, {}
        self.save()

    def is_done(self, k: int) -> bool:
        return f"{k:04d}" in self.data["done"]

    def mark_done(self, k: int, counts: dict) -> None:
        """Record partition ``k`` as complete (its shard is already renamed into place)."""
        self.data["done"][f"{k:04d}"] = counts
        line = json.dumps({"part": k, **counts}, sort_keys=True) + "\n"
        fd = os.open(self.path.parent / "done.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


def _read_done(path: Path) -> dict:
    done: dict = {}
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # the last line, torn by a crash: that partition is redone
            continue
        done[f"{record.pop('part'):04d}"] = record
    return done
