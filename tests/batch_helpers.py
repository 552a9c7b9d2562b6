"""Helpers shared by the batch tests: small archives, running the CLI, reading its summary."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.archive import make_archive

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT / "corpora" / "protocols" / "cd123-car-nk-protocol.txt"
MARKER = "ZEBRA-MARKER-7731"  # a string that must never reach a log by default
SUMMARY = re.compile(r"read (\d+) rows: (\d+) used, (\d+) rejected, (\d+) skipped")


def archive_rows(tmp: Path, notes: int, patients: int, seed: int = 11, unsorted: bool = False) -> list[dict]:
    path = make_archive(tmp / f"gen-{notes}-{patients}-{seed}-{unsorted}.jsonl", notes, patients, seed, unsorted)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_jsonl(path: Path, rows: list) -> Path:
    """Rows are dicts (JSON-encoded) or raw bytes (written as they are)."""
    with open(path, "wb") as fh:
        for row in rows:
            fh.write((row if isinstance(row, bytes) else json.dumps(row, ensure_ascii=False).encode("utf-8")) + b"\n")
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    """Run ``trialmatch`` in this process (the pipeline stays cached between tests); return (code, stderr)."""
    from matcher.cli import main

    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def run_subprocess(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matcher.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, **kw)


def summary(stderr: str) -> tuple[int, int, int, int]:
    m = SUMMARY.search(stderr)
    assert m, stderr
    return tuple(int(x) for x in m.groups())


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
