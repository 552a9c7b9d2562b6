"""Worker side: the pipeline is built once per process; a task turns one partition
into one output shard, written atomically. Only plain records cross processes.

Shard lines carry their merge key in front, ``<json key>\\t<json record>``, so the
final k-way merge never parses the (large) records; error shard lines carry the
note's input position the same way, so extraction failures come out in input order.
Both engines (local and Spark) run the same :func:`process_patient`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from matcher.engine.partition import excerpt, iter_partition
from matcher.io.notes import NoteRow
from matcher.io.text import AtomicWriter, dumps
from nlp.schema import ErrorRecord


@dataclass
class JobSpec:
    """Everything a worker needs, as plain data (it is pickled to the workers and Spark executors)."""

    command: str  # "match" or "extract"
    work: str
    protocols_json: list[str] = field(default_factory=list)
    config: Optional[dict] = None
    pairs: Optional[dict[str, list[str]]] = None
    terms: Optional[str] = None
    log_text: bool = False

    def cache_key(self) -> str:
        """What decides the worker state (pipeline, protocols, config): equal keys share one state."""
        import hashlib

        data = json.dumps([self.command, self.protocols_json, self.config, self.terms], sort_keys=True, default=str)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass
class WorkerState:
    spec: JobSpec
    nlp: object
    protocols: list
    config: object


_STATE: dict = {}


def build_state(spec: JobSpec) -> WorkerState:
    """Build the pipeline, protocols and config (once per process; see :func:`init_worker`)."""
    from matcher.config import load_config
    from nlp.pipeline import load_pipeline
    from nlp.schema import Protocol

    nlp = load_pipeline(extra_terms=spec.terms) if spec.terms else load_pipeline()
    return WorkerState(spec, nlp, [Protocol.model_validate_json(p) for p in spec.protocols_json], load_config(spec.config))


def init_worker(spec: JobSpec, counter=None) -> None:
    """Pool initializer: this process's state, built once and reused by every task."""
    _STATE.clear()
    _STATE["state"] = build_state(spec)
    _STATE["counter"] = counter


def _bump(n: int) -> None:
    counter = _STATE.get("counter")
    if counter is not None and n:
        with counter.get_lock():
            counter.value += n


def process_patient(state: WorkerState, patient_id: str, notes: Iterable[tuple[int, NoteRow]]):
    """One patient's notes (in input order) -> (outputs, errors, notes done).

    ``outputs`` are ``(key, line)`` pairs, ``errors`` are ``(order, line)`` pairs. A note
    whose extraction raises is recorded and the patient goes on without it.
    """
    from matcher.facts import NoteInfo, PatientRecord
    from nlp.pipeline import extract_note

    record = PatientRecord(patient_id, [])
    errors: list[tuple[int, str]] = []
    kept: list[tuple[int, NoteRow]] = []
    n = 0
    for order, row in notes:
        n += 1
        try:
            facts = extract_note(row.text, row.note_id, row.date, nlp=state.nlp)
        except Exception as exc:  # noqa: BLE001 - one note must never kill the run
            reason = f"extraction failed: {type(exc).__name__}"
            if state.spec.log_text:  # exception messages may quote the note: only when asked
                reason += f": {str(exc)[:200]} | text: {excerpt(row.text)!r}"
            errors.append((order, dumps(ErrorRecord(source=row.source, location=row.location, id=row.note_id, reason=reason))))
            continue
        record.notes[row.note_id] = NoteInfo(row.note_id, row.text, row.date, row.note_type)
        record.facts.extend(facts)
        kept.append((order, row))
    if not kept:  # every note failed: no verdict from no evidence
        return [], errors, n
    try:
        return _outputs(state, record, n - len(errors)), errors, n
    except Exception as exc:  # noqa: BLE001 - one patient must never kill the run: its notes are recorded
        reason = f"matching failed for this patient: {type(exc).__name__}"
        errors += [(order, dumps(ErrorRecord(source=row.source, location=row.location, id=row.note_id, reason=reason)))
                   for order, row in kept]
        errors.sort(key=lambda e: e[0])
        return [], errors, n


def _outputs(state: WorkerState, record, n_notes: int) -> list[tuple[tuple, str]]:
    spec = state.spec
    if spec.command == "extract":
        from nlp.notes.aggregate import aggregate

        patient = aggregate(record.patient_id, record.facts, n_notes=n_notes)
        return [((record.patient_id,), dumps(patient))]
    from matcher.api import match_records

    protocols = state.protocols
    if spec.pairs is not None:
        wanted = set(spec.pairs.get(record.patient_id, []))
        protocols = [p for p in protocols if p.trial_id in wanted]
    return [((r.trial_id, r.patient_id), dumps(r)) for r in match_records(protocols, [record], state.config)]


def shard_line(key, line: str) -> str:
    """``<json key>\\t<record>``: JSON text never holds a raw tab, so the first tab splits."""
    return json.dumps(list(key) if isinstance(key, tuple) else key, ensure_ascii=False) + "\t" + line


def split_shard_line(line: str) -> tuple[list, str]:
    key, _, record = line.rstrip("\n").partition("\t")
    return json.loads(key), record


def write_shard(path: Path, items: list[tuple]) -> None:
    """Sort ``(key, line)`` items and write them atomically as one shard."""
    items.sort(key=lambda kv: kv[0])
    with AtomicWriter(path) as fh:
        for key, line in items:
            fh.write(shard_line(key, line) + "\n")


def run_task(k: int) -> dict:
    """Process partition ``k``; returns its counts. Never raises for one bad note."""
    state: WorkerState = _STATE["state"]
    work = Path(state.spec.work)
    lines: list[tuple[tuple, str]] = []
    errors: list[tuple[int, str]] = []
    notes_done = patients = 0
    pending = 0
    for pid, rows in iter_partition(work / f"part-{k:04d}.jsonl"):
        out, errs, n = process_patient(state, pid, rows)
        lines.extend(out)
        errors.extend(errs)
        patients += 1
        notes_done += n
        pending += n
        if pending >= 20:  # the progress bar counts notes; a shared counter per note would cost more
            _bump(pending)
            pending = 0
    _bump(pending)
    # Errors first: a shard that exists is complete with its errors.
    write_shard(work / f"errors-{k:04d}.jsonl", errors)
    write_shard(work / f"out-{k:04d}.jsonl", lines)
    return {"notes": notes_done, "patients": patients, "outputs": len(lines), "errors": len(errors)}


def sort_key(command: str, line: str) -> tuple:
    """The merge order of output records: (trial_id, patient_id) for match, (patient_id,) for extract."""
    d = json.loads(line)
    return (d["patient_id"],) if command == "extract" else (d["trial_id"], d["patient_id"])
