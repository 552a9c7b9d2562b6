"""Running ``extract`` and ``match`` over a notes input: read -> group by patient ->
extract -> match -> write. Every input row ends up used, skipped by request, or
in ``errors.jsonl``; a summary line says how many of each."""

from __future__ import annotations

import csv
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from matcher.errors import UsageError
from matcher.io.notes import NoteRow, ReadOptions, iter_notes
from matcher.io.text import AtomicWriter, dumps
from nlp.schema import ErrorRecord


@dataclass
class Counts:
    read: int = 0
    used: int = 0
    rejected: int = 0
    skipped: int = 0
    truncated: int = 0

    def line(self) -> str:
        extra = f", {self.truncated} truncated" if self.truncated else ""
        return f"rows read {self.read}: used {self.used}, rejected {self.rejected}, skipped {self.skipped}{extra}"


@dataclass
class Collected:
    patients: "OrderedDict[str, list[NoteRow]]" = field(default_factory=OrderedDict)
    errors: list[ErrorRecord] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)


def collect_notes(spec: str, options: ReadOptions, limit: Optional[int] = None,
                  keep_patient=None) -> Collected:
    """Read every row; reject bad rows and duplicate note ids; group notes by patient."""
    out = Collected()
    seen: set[str] = set()
    for item in iter_notes(spec, options):
        if limit is not None and out.counts.read >= limit:
            break
        out.counts.read += 1
        if isinstance(item, ErrorRecord):
            out.errors.append(item)
            out.counts.rejected += 1
            continue
        if item.note_id in seen:
            out.errors.append(ErrorRecord(source=item.source, location=item.location, id=item.note_id, reason="duplicate note_id"))
            out.counts.rejected += 1
            continue
        seen.add(item.note_id)
        if keep_patient is not None and not keep_patient(item.patient_id):
            out.counts.skipped += 1
            continue
        if item.truncated:
            out.counts.truncated += 1
            out.errors.append(ErrorRecord(source=item.source, location=item.location, id=item.note_id,
                                          reason=f"truncated to --max-note-chars {options.max_note_chars} (note used)"))
        out.counts.used += 1
        out.patients.setdefault(item.patient_id, []).append(item)
    return out


def _progress(total: int, label: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                        TimeRemainingColumn(), transient=True, disable=not sys.stderr.isatty())
    return progress, progress.add_task(label, total=total, rate="")


def extract_records(patients: "OrderedDict[str, list[NoteRow]]", terms: Optional[str] = None, label: str = "extracting"):
    """PatientRecords (facts + notes) for grouped note rows, with a progress bar."""
    import time

    from matcher.facts import NoteInfo, PatientRecord
    from nlp.pipeline import extract_note, load_pipeline

    nlp = load_pipeline(extra_terms=terms) if terms else load_pipeline()
    total = sum(len(v) for v in patients.values())
    progress, task = _progress(total, label)
    records = []
    done, started = 0, time.perf_counter()
    with progress:
        for pid in sorted(patients):
            record = PatientRecord(pid, [])
            for row in patients[pid]:
                record.notes[row.note_id] = NoteInfo(row.note_id, row.text, row.date, row.note_type)
                record.facts.extend(extract_note(row.text, row.note_id, row.date, nlp=nlp))
                done += 1
                progress.update(task, advance=1, rate=f"{done / max(1e-9, time.perf_counter() - started):.0f} notes/s")
            records.append(record)
    return records


def extract_command(notes: str, out: Optional[Path], options: ReadOptions, fmt: str = "jsonl",
                    limit: Optional[int] = None, terms: Optional[str] = None) -> int:
    """``trialmatch extract``: one JSONL line per patient with its facts."""
    from nlp.notes.aggregate import aggregate

    collected = collect_notes(notes, options, limit)
    records = extract_records(collected.patients, terms)
    if fmt == "html":
        from nlp.notes.display import render_note_html

        if not records:
            raise UsageError("no usable notes to render")
        first = records[0]
        note = next(iter(first.notes.values()))
        payload = render_note_html(note.text, [f for f in first.facts if f.note_id == note.note_id], title=note.note_id)
    elif fmt == "table":
        from nlp.notes.display import facts_table

        payload = "".join(facts_table(r.facts) for r in records)
    else:
        lines = [dumps(aggregate(r.patient_id, r.facts, n_notes=len(r.notes))) for r in records]
        payload = "\n".join(lines) + ("\n" if lines else "")
    _write(out, payload)
    _write_errors(collected.errors, out.with_name(out.name + ".errors.jsonl") if out else None)
    print(collected.counts.line() + f"; {len(records)} patients", file=sys.stderr)
    return 0


def read_pairs(path: Optional[str]) -> Optional[dict[str, set[str]]]:
    """``trial_id,patient_id`` rows -> patient -> trials; None when no pairs file is given."""
    if not path:
        return None
    p = Path(path)
    if not p.exists():
        raise UsageError(f"--pairs file not found: {p}")
    pairs: dict[str, set[str]] = {}
    with open(p, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or {"trial_id", "patient_id"} - set(reader.fieldnames):
            raise UsageError("--pairs needs the header trial_id,patient_id")
        for row in reader:
            pairs.setdefault(str(row["patient_id"]), set()).add(str(row["trial_id"]))
    return pairs


def load_protocols(spec: str) -> tuple[list, list[ErrorRecord]]:
    from matcher.io.protocols import read_protocols
    from nlp.criteria import parse_protocol

    protocols, errors = [], []
    for row in read_protocols(Path(spec)):
        if isinstance(row, ErrorRecord):
            errors.append(row)
            continue
        try:
            protocols.append(parse_protocol(row.text, row.trial_id, row.title))
        except Exception as exc:  # noqa: BLE001 - one bad protocol must not stop the run
            errors.append(ErrorRecord(source=spec, id=row.trial_id, reason=f"parser failure: {type(exc).__name__}"))
    if not protocols:
        raise UsageError(f"no usable protocol in {spec}")
    return protocols, errors


def match_command(args, options: ReadOptions) -> int:
    """``trialmatch match``: results.jsonl, errors.jsonl and report.html in --out."""
    from matcher.api import match_records
    from matcher.config import load_config
    from matcher.report.html import render_report

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out must be a directory: {out}")
    config = load_config(args.config) if args.config else load_config()
    protocols, errors = load_protocols(args.protocol)
    pairs = read_pairs(args.pairs)
    keep = (lambda pid: pid in pairs) if pairs is not None else None
    collected = collect_notes(args.notes, options, args.limit, keep)
    records = extract_records(collected.patients, args.terms, "matching")
    results = []
    for record in records:
        wanted = [p for p in protocols if pairs is None or p.trial_id in pairs.get(record.patient_id, set())]
        results.extend(match_records(wanted, [record], config))
    results.sort(key=lambda r: (r.trial_id, r.patient_id))
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "results.jsonl", "".join(dumps(r) + "\n" for r in results))
    _write_errors(errors + collected.errors, out / "errors.jsonl")
    notes = {r.patient_id: {n.note_id: n.text for n in r.notes.values()} for r in records}
    _write(out / "report.html", render_report(results, notes))
    if args.format == "parquet":
        write_parquet(results, out / "results.parquet")
    verdicts = {v: sum(r.verdict == v for r in results) for v in ("eligible", "needs_review", "ineligible")}
    print(f"{collected.counts.line()}; {len(records)} patients x {len(protocols)} trials -> {len(results)} results "
          f"(eligible {verdicts['eligible']}, needs review {verdicts['needs_review']}, ineligible {verdicts['ineligible']})",
          file=sys.stderr)
    return 0


def write_parquet(results: Iterable, path: Path) -> None:
    """results.parquet: one row per (trial, patient); nested fields as JSON text."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"trial_id": r.trial_id, "patient_id": r.patient_id, "verdict": r.verdict, "score": r.score,
             "missing": json.dumps([m.model_dump() for m in r.missing], ensure_ascii=False),
             "criteria": json.dumps([c.model_dump() for c in r.criteria], ensure_ascii=False)} for r in results]
    table = pa.Table.from_pylist(rows, schema=pa.schema([("trial_id", pa.string()), ("patient_id", pa.string()),
                                                          ("verdict", pa.string()), ("score", pa.float64()),
                                                          ("missing", pa.string()), ("criteria", pa.string())]))
    tmp = path.with_name("." + path.name + ".tmp")
    pq.write_table(table, tmp)
    tmp.chmod(0o600)
    tmp.replace(path)


def _write(path: Optional[Path], payload: str) -> None:
    if path is None:
        sys.stdout.write(payload)
        return
    with AtomicWriter(path) as fh:
        fh.write(payload)


def _write_errors(errors: list[ErrorRecord], path: Optional[Path]) -> None:
    if path is None:
        for e in errors:
            print(dumps(e), file=sys.stderr)
        return
    _write(path, "".join(dumps(e) + "\n" for e in errors))
