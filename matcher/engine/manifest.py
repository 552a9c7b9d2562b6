"""The run manifest: what a run is (its fingerprint) and which work is complete.

Written atomically after every completed step, so that ``--resume`` after a
crash, ``kill -9`` or power loss redoes only unfinished partitions and the
merged outputs equal an uninterrupted run's.
"""

from __future__ import annotations

import glob
import hashlib
import json
from pathlib import Path
from typing import Any, Optional

from matcher.errors import UsageError
from matcher.io.text import AtomicWriter

VERSION = 1


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
    """``.work/manifest.json`` in the output directory."""

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data

    @classmethod
    def open(cls, work: Path, run_fingerprint: str, resume: bool) -> "Manifest":
        path = work / "manifest.json"
        if resume and path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("fingerprint") != run_fingerprint:
                raise UsageError("--resume: the inputs, options or code changed since the interrupted run; rerun without --resume")
            return cls(path, data)
        if not resume and path.exists():
            # A fresh run in an old directory: forget the old work entirely.
            for old in work.glob("*"):
                if old.is_file():
                    old.unlink()
        work.mkdir(parents=True, exist_ok=True)
        manifest = cls(path, {"version": VERSION, "fingerprint": run_fingerprint, "pass1": None, "parts": None, "done": {}})
        manifest.save()
        return manifest

    def save(self) -> None:
        with AtomicWriter(self.path) as fh:
            json.dump(self.data, fh, indent=1, sort_keys=True)

    @property
    def pass1(self) -> Optional[dict]:
        return self.data["pass1"]

    def set_pass1(self, counts: dict, parts: int) -> None:
        self.data["pass1"], self.data["parts"] = counts, parts
        self.save()

    def is_done(self, k: int) -> bool:
        return f"{k:04d}" in self.data["done"]

    def mark_done(self, k: int, counts: dict) -> None:
        self.data["done"][f"{k:04d}"] = counts
        self.save()
