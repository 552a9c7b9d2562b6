"""A synthetic note archive for batch benchmarks and the batch notebook.

Notes are drawn from the project's own synthetic corpora (corpora/notes), with their
numbers jittered and dates shifted, so the archive looks like real charts but holds
no real patient. Deterministic for a given seed.

    python benchmarks/archive.py OUT.jsonl --notes 20000 --patients 2000 [--seed 7] [--unsorted]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "corpora" / "notes" / "facts" / "notes.jsonl", ROOT / "corpora" / "notes" / "seed_trial" / "notes.jsonl"]
_NUMBER = re.compile(r"(?<![\d/.-])(\d{1,3}\.\d)(?![\d/])")
_ISO = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")


def templates() -> list[dict]:
    out = []
    for path in SOURCES:
        with open(path, encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh if line.strip())
    return out


def _jitter(text: str, rng: random.Random) -> str:
    # Decimal lab values move by up to 10%; integers stay (ages, scores, ids keep their meaning).
    return _NUMBER.sub(lambda m: f"{float(m.group(1)) * rng.uniform(0.9, 1.1):.1f}", text)


def _shift(date: str, days: int) -> str:
    try:
        return (dt.date.fromisoformat(date) + dt.timedelta(days=days)).isoformat()
    except (TypeError, ValueError):
        return date


def make_archive(path: Path, notes: int = 20000, patients: int = 2000, seed: int = 7, unsorted: bool = False) -> Path:
    """Write ``notes`` notes over ``patients`` patients to a JSONL file (patients grouped unless ``unsorted``)."""
    rng = random.Random(seed)
    pool = templates()
    rows = []
    per_patient = [notes // patients + (1 if i < notes % patients else 0) for i in range(patients)]
    for p, count in enumerate(per_patient):
        pid = f"SYN{p:06d}"
        shift = rng.randint(-400, 0)
        for k in range(count):
            t = pool[rng.randrange(len(pool))]
            parts = [t["text"]]
            while sum(len(x) for x in parts) < 1400:  # about 2 KB per note
                parts.append(pool[rng.randrange(len(pool))]["text"])
            text = _ISO.sub(lambda m: _shift(m.group(0), shift), _jitter("\n\n".join(parts), rng))
            rows.append({"patient_id": pid, "note_id": f"{pid}-{k:03d}", "date": _shift(t.get("date"), shift),
                         "note_type": t.get("note_type"), "text": text})
    if unsorted:
        rng.shuffle(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--notes", type=int, default=20000)
    ap.add_argument("--patients", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--unsorted", action="store_true", help="shuffle rows (patients not grouped)")
    args = ap.parse_args()
    path = make_archive(Path(args.out), args.notes, args.patients, args.seed, args.unsorted)
    size = path.stat().st_size
    print(f"wrote {args.notes} notes of {args.patients} patients to {path} ({size / 1e6:.1f} MB, {size / args.notes:.0f} bytes/note)")


if __name__ == "__main__":
    main()
