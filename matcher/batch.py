"""``extract`` and ``match`` as batch jobs: read -> partition -> extract/match on workers ->
merge. Every input row ends up used, skipped by request, or in the errors file, and a
summary line says how many of each. Note text never reaches the log unless
``--log-text`` is given."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Optional

from matcher.engine.local import merged_errors, merged_lines, run_local
from matcher.engine.manifest import Manifest, fingerprint
from matcher.engine.partition import partition_of, read_partition
from matcher.engine.tasks import JobSpec
from matcher.errors import UsageError
from matcher.io.notes import ReadOptions
from matcher.io.text import AtomicWriter, dumps
from nlp.schema import ErrorRecord

REPORT_LIMIT = 500  # results shown in report.html; results.jsonl always has all of them


def read_pairs(path: Optional[str]) -> Optional[dict[str, list[str]]]:
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
    return {k: sorted(v) for k, v in pairs.items()}


def load_protocols(spec: str, terms: Optional[str] = None) -> tuple[list, list[ErrorRecord]]:
    """Parsed protocols of a .txt or .jsonl PROTOCOL, and error records for unusable rows.

    With ``terms`` (a TERMS.csv), criteria are parsed with the lexicon plus the user's terms,
    so a criterion naming a user term gets that concept, as the notes' facts do."""
    from matcher.io.protocols import read_protocols
    from nlp.criteria import parse_protocol
    from nlp.lexicon import with_user_terms

    index = with_user_terms(terms) if terms else None
    protocols, errors = [], []
    for row in read_protocols(Path(spec)):
        if isinstance(row, ErrorRecord):
            errors.append(row)
            continue
        try:
            protocols.append(parse_protocol(row.text, row.trial_id, row.title, index=index))
        except Exception as exc:  # noqa: BLE001 - one bad protocol must not stop the run
            errors.append(ErrorRecord(source=spec, id=row.trial_id, reason=f"parser failure: {type(exc).__name__}"))
    if not protocols:
        raise UsageError(f"no usable protocol in {spec}")
    return protocols, errors


def _options_dict(options: ReadOptions, limit: Optional[int]) -> dict:
    return {"max_note_chars": options.max_note_chars, "oversize": options.oversize, "query": options.query, "limit": limit}


def extract_command(notes: str, out: Optional[Path], options: ReadOptions, fmt: str = "jsonl",
                    limit: Optional[int] = None, terms: Optional[str] = None, workers: int = 1, resume: bool = False,
                    log_text: bool = False) -> int:
    """``trialmatch extract``: one JSONL line per patient with its facts (or a table / HTML view)."""
    temp = None
    if out is None:
        temp = Path(tempfile.mkdtemp(prefix="trialmatch-"))
        work = temp
    else:
        work = out.with_name(f".{out.name}.work")
    try:
        manifest = Manifest.open(work, fingerprint("extract", notes, _options_dict(options, limit), terms=terms), resume)
        spec = JobSpec("extract", str(work), terms=terms, log_text=log_text)
        summary = run_local(spec, notes, options, manifest, workers, limit=limit)
        parts = manifest.data["parts"]
        if fmt == "jsonl":
            _write_lines(out, merged_lines(work, "extract", parts))
        else:
            _write_view(out, fmt, work, parts)
        _write_lines(out.with_name(out.name + ".errors.jsonl") if out else None, merged_errors(work, parts), stderr=True)
        if temp is None:
            shutil.rmtree(work, ignore_errors=True)
        print(summary.line(), file=sys.stderr)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


def _write_view(out: Optional[Path], fmt: str, work: Path, parts: int) -> None:
    from nlp.notes.display import facts_table, render_note_html
    from nlp.schema import PatientFacts

    patients = [PatientFacts.model_validate_json(line) for line in merged_lines(work, "extract", parts)]
    if fmt == "table":
        _write(out, "".join(facts_table(p.facts) for p in patients))
        return
    if not patients:
        raise UsageError("no usable notes to render")
    first = patients[0]
    rows = read_partition(work / f"part-{partition_of(first.patient_id, parts):04d}.jsonl")[first.patient_id]
    note = rows[0]
    _write(out, render_note_html(note.text, [f for f in first.facts if f.note_id == note.note_id], title=note.note_id))


def match_command(args, options: ReadOptions) -> int:
    """``trialmatch match``: results.jsonl, errors.jsonl and report.html in --out."""
    from matcher.config import load_config
    from matcher.report.html import render_report
    from nlp.schema import MatchResult

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out must be a directory: {out}")
    config = load_config(args.config) if args.config else load_config()
    protocols, protocol_errors = load_protocols(args.protocol, args.terms)
    pairs = read_pairs(args.pairs)
    keep = (lambda pid: pid in pairs) if pairs is not None else None
    work = out / ".work"
    options_key = _options_dict(options, args.limit)
    options_key["engine"] = args.engine
    manifest = Manifest.open(work, fingerprint("match", args.notes, options_key, args.protocol, args.config, args.pairs, args.terms),
                             args.resume)
    _remove_stale_temps(out)
    spec = JobSpec("match", str(work), [p.model_dump_json() for p in protocols], config.model_dump(), pairs, args.terms,
                   getattr(args, "log_text", False))
    if args.engine == "spark":
        try:
            from matcher.engine.spark import run_spark  # optional extra: trialmatch[spark]
        except ImportError:
            raise UsageError("--engine spark needs PySpark: pip install 'trialmatch[spark]'") from None
        summary = run_spark(spec, args.notes, options, manifest, keep, args.limit, workers=args.workers)
    else:
        summary = run_local(spec, args.notes, options, manifest, args.workers, keep, args.limit)
    parts = manifest.data["parts"]
    _write_lines(out / "results.jsonl", merged_lines(work, "match", parts))
    errors = (dumps(e) for e in protocol_errors)
    _write_lines(out / "errors.jsonl", _chain(errors, merged_errors(work, parts)))
    shown = []
    for line in merged_lines(work, "match", parts):
        if len(shown) >= REPORT_LIMIT:
            break
        shown.append(MatchResult.model_validate_json(line))
    notes = _note_texts(work, parts, {r.patient_id for r in shown})
    _write(out / "report.html", render_report(shown, notes, title=f"trialmatch screening report ({summary.outputs} results"
                                                                   + (f", first {REPORT_LIMIT} shown)" if summary.outputs > REPORT_LIMIT else ")")))
    if args.format == "parquet":
        write_parquet(merged_lines(work, "match", parts), out / "results.parquet")
    shutil.rmtree(work, ignore_errors=True)  # partitions hold note text; nothing is left to resume
    print(f"{summary.line()}; {len(protocols)} trial(s)" + (f", {len(protocol_errors)} protocol error(s)" if protocol_errors else ""),
          file=sys.stderr)
    return 0


def _remove_stale_temps(out: Path) -> None:
    """Temporary files of a run killed while writing its outputs (they hold PHI; the rerun rewrites them)."""
    for pattern in (".results.jsonl.*.tmp", ".errors.jsonl.*.tmp", ".report.html.*.tmp", ".results.parquet.tmp"):
        for p in out.glob(pattern):
            p.unlink(missing_ok=True)


def _note_texts(work: Path, parts: int, patients: set[str]) -> dict[str, dict[str, str]]:
    """Note texts of a few patients, for the evidence in report.html."""
    out: dict[str, dict[str, str]] = {}
    if not patients:
        return out
    notes_parquet = work / "notes"
    if notes_parquet.is_dir():  # the Spark engine keeps validated notes as Parquet
        import pyarrow.dataset as ds

        table = ds.dataset(str(notes_parquet), format="parquet").to_table(
            columns=["patient_id", "note_id", "text"], filter=ds.field("patient_id").isin(sorted(patients)))
        for row in table.to_pylist():
            out.setdefault(row["patient_id"], {})[row["note_id"]] = row["text"]
        return out
    for k in sorted({partition_of(p, parts) for p in patients}):
        for pid, rows in read_partition(work / f"part-{k:04d}.jsonl").items():
            if pid in patients:
                out[pid] = {r.note_id: r.text for r in rows}
    return out


def _chain(*iterables):
    for it in iterables:
        yield from it


def write_parquet(lines: Iterable[str], path: Path, batch: int = 1000) -> None:
    """results.parquet from results.jsonl lines: one row per (trial, patient); nested fields as JSON
    text. Streams in batches; mode 0600."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("trial_id", pa.string()), ("patient_id", pa.string()), ("verdict", pa.string()),
                        ("score", pa.float64()), ("missing", pa.string()), ("criteria", pa.string())])
    tmp = path.with_name("." + path.name + ".tmp")
    writer = pq.ParquetWriter(tmp, schema)
    rows = []

    def flush():
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            rows.clear()
    for line in lines:
        r = json.loads(line)
        rows.append({"trial_id": r["trial_id"], "patient_id": r["patient_id"], "verdict": r["verdict"], "score": r["score"],
                     "missing": json.dumps(r["missing"], ensure_ascii=False),
                     "criteria": json.dumps(r["criteria"], ensure_ascii=False)})
        if len(rows) >= batch:
            flush()
    flush()
    writer.close()
    tmp.chmod(0o600)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    tmp.replace(path)


def _write(path: Optional[Path], payload: str) -> None:
    if path is None:
        sys.stdout.write(payload)
        return
    with AtomicWriter(path) as fh:
        fh.write(payload)


def _write_lines(path: Optional[Path], lines: Iterable[str], stderr: bool = False) -> None:
    if path is None:
        stream = sys.stderr if stderr else sys.stdout
        for line in lines:
            stream.write(line + "\n")
        return
    with AtomicWriter(path) as fh:
        for line in lines:
            fh.write(line + "\n")
