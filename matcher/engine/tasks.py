"""Worker side: the pipeline is built once per process; a task turns one partition
into one output shard, written atomically. Only plain records cross processes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from matcher.engine.partition import read_partition
from matcher.io.text import AtomicWriter, dumps
from nlp.schema import ErrorRecord


@dataclass
class JobSpec:
    """Everything a worker needs, as plain data (it is pickled to the workers)."""

    command: str  # "match" or "extract"
    work: str
    protocols_json: list[str] = field(default_factory=list)
    config: Optional[dict] = None
    pairs: Optional[dict[str, list[str]]] = None
    terms: Optional[str] = None
    log_text: bool = False


_STATE: dict = {}


def init_worker(spec: JobSpec, counter=None) -> None:
    """Build the pipeline, protocols and config once in this process."""
    from matcher.config import load_config
    from nlp.pipeline import load_pipeline
    from nlp.schema import Protocol

    _STATE.clear()
    _STATE["spec"] = spec
    _STATE["nlp"] = load_pipeline(extra_terms=spec.terms) if spec.terms else load_pipeline()
    if spec.terms:  # the protocols were parsed with these terms; the matcher must know their concepts too
        from nlp.lexicon import with_user_terms
        _STATE["index"] = with_user_terms(spec.terms)
    _STATE["protocols"] = [Protocol.model_validate_json(p) for p in spec.protocols_json]
    _STATE["config"] = load_config(spec.config)
    _STATE["counter"] = counter


def _bump(n: int) -> None:
    counter = _STATE.get("counter")
    if counter is not None:
        with counter.get_lock():
            counter.value += n


def run_task(k: int) -> dict:
    """Process partition ``k``; returns its counts. Never raises for one bad note."""
    from matcher.facts import NoteInfo, PatientRecord
    from nlp.pipeline import extract_note

    spec: JobSpec = _STATE["spec"]
    work = Path(spec.work)
    grouped = read_partition(work / f"part-{k:04d}.jsonl")
    errors: list[ErrorRecord] = []
    lines: list[tuple[tuple, str]] = []
    notes_done = 0
    for pid, rows in grouped.items():
        record = PatientRecord(pid, [])
        for row in rows:
            record.notes[row.note_id] = NoteInfo(row.note_id, row.text, row.date, row.note_type)
            try:
                record.facts.extend(extract_note(row.text, row.note_id, row.date, nlp=_STATE["nlp"]))
            except Exception as exc:  # noqa: BLE001 - one note must never kill the run
                errors.append(ErrorRecord(source=row.source, location=row.location, id=row.note_id,
                                          reason=f"extraction failed: {type(exc).__name__}"))
            notes_done += 1
            if notes_done % 20 == 0:
                _bump(20)
        lines.extend(_outputs(spec, record))
    _bump(notes_done % 20)
    lines.sort(key=lambda kv: kv[0])
    with AtomicWriter(work / f"out-{k:04d}.jsonl") as fh:
        for _, line in lines:
            fh.write(line + "\n")
    with AtomicWriter(work / f"errors-{k:04d}.jsonl") as fh:
        for e in errors:
            fh.write(dumps(e) + "\n")
    return {"notes": notes_done, "patients": len(grouped), "outputs": len(lines), "errors": len(errors)}


def _outputs(spec: JobSpec, record) -> list[tuple[tuple, str]]:
    if spec.command == "extract":
        from nlp.notes.aggregate import aggregate

        patient = aggregate(record.patient_id, record.facts, n_notes=len(record.notes))
        return [((record.patient_id,), dumps(patient))]
    from matcher.api import match_records

    protocols = _STATE["protocols"]
    if spec.pairs is not None:
        wanted = set(spec.pairs.get(record.patient_id, []))
        protocols = [p for p in protocols if p.trial_id in wanted]
    out = []
    for result in match_records(protocols, [record], _STATE["config"], index=_STATE.get("index")):
        out.append(((result.trial_id, result.patient_id), dumps(result)))
    return out


def sort_key(command: str, line: str) -> tuple:
    """The merge order of output lines: (trial_id, patient_id) or (patient_id,)."""
    d = json.loads(line)
    return (d["patient_id"],) if command == "extract" else (d["trial_id"], d["patient_id"])
