"""Python API for notebooks and scripts: ``match`` and ``results_to_dataframe``."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Optional, Union

from matcher.config import MatchConfig, load_config
from matcher.facts import NoteInfo, PatientIndex, PatientRecord
from matcher.verdict import ProtocolMatcher
from nlp.schema import Fact, MatchResult, Protocol

ProtocolLike = Union[Protocol, str, Iterable[Protocol]]


def as_protocols(protocol: ProtocolLike, index=None) -> list[Protocol]:
    """A Protocol, criteria text, or an iterable of Protocols -> list of Protocols.

    Criteria text is parsed with ``index`` (default: the lexicon; see ``nlp.lexicon.with_user_terms``)."""
    from nlp.criteria import parse_protocol

    if isinstance(protocol, Protocol):
        return [protocol]
    if isinstance(protocol, str):
        return [parse_protocol(protocol, "protocol", index=index)]
    return list(protocol)


def records_from_rows(rows: Iterable[dict], nlp=None) -> list[PatientRecord]:
    """Extract facts from note rows (patient_id, note_id, text, date, note_type) and group them by patient."""
    from nlp.pipeline import extract_note, load_pipeline

    pipeline = nlp or load_pipeline()
    by_patient: dict[str, PatientRecord] = {}
    for row in rows:
        pid = str(row["patient_id"])
        record = by_patient.setdefault(pid, PatientRecord(pid, []))
        note = NoteInfo(str(row["note_id"]), row["text"], row.get("date"), row.get("note_type"))
        record.notes[note.note_id] = note
        record.facts.extend(extract_note(note.text, note.note_id, note.date, nlp=pipeline))
    return [by_patient[k] for k in sorted(by_patient)]


def match_records(protocols: list[Protocol], records: list[PatientRecord], config: Optional[MatchConfig] = None,
                  index=None) -> list[MatchResult]:
    """Every (trial, patient) pair of already extracted records.

    ``index`` is the concept index the protocols were parsed with. By default it is
    the lexicon plus any user concepts (``--terms``) the protocols name, which they
    carry with them (``nlp.lexicon.user_index.index_for_protocols``)."""
    from nlp.lexicon.user_index import index_for_protocols

    config = config or load_config()
    index = index if index is not None else index_for_protocols(protocols)
    out = []
    for record in records:
        patient = PatientIndex(record, index)
        for protocol in protocols:
            out.append(ProtocolMatcher(protocol, patient, config).run())
    return out


def match(protocol: ProtocolLike, notes, config: Optional[Union[MatchConfig, dict, str]] = None, nlp=None,
          terms=None) -> list[MatchResult]:
    """Screen patients against one or more trials.

    ``notes`` is an iterable of note dicts (``patient_id, note_id, text`` and
    optional ``date, note_type``), a pandas DataFrame with those columns, or a
    list of :class:`~matcher.facts.PatientRecord`. ``terms`` is a TERMS.csv of user
    concepts, used on both sides (criteria text and notes). Returns one
    :class:`~nlp.schema.MatchResult` per (trial, patient), patients in sorted order.
    """
    if config is None or not isinstance(config, MatchConfig):
        config = load_config(config)
    index = None
    if terms is not None:
        from nlp.lexicon import with_user_terms
        from nlp.pipeline import load_pipeline

        index = with_user_terms(terms)
        nlp = nlp or load_pipeline(extra_terms=terms)
    protocols = as_protocols(protocol, index)
    if hasattr(notes, "to_dict") and hasattr(notes, "columns"):
        notes = notes.to_dict("records")
    notes = list(notes)
    if notes and isinstance(notes[0], PatientRecord):
        records = notes
    else:
        records = records_from_rows(notes, nlp)
    return match_records(protocols, records, config, index)


def results_to_dataframe(results: Iterable[MatchResult]):
    """One row per patient x criterion, for pandas users."""
    import pandas as pd

    rows = []
    for r in results:
        for c in r.criteria:
            rows.append({
                "trial_id": r.trial_id, "patient_id": r.patient_id, "verdict": r.verdict, "score": r.score,
                "criterion_id": c.criterion_id, "parent_id": c.parent_id, "kind": c.kind, "status": c.status,
                "reason": c.reason, "evidence": " | ".join(e.text for e in c.evidence), "n_evidence": len(c.evidence),
                "criterion_text": c.text,
            })
    columns = ["trial_id", "patient_id", "verdict", "score", "criterion_id", "parent_id", "kind", "status", "reason",
               "evidence", "n_evidence", "criterion_text"]
    return pd.DataFrame(rows, columns=columns)


def group_facts(facts: Iterable[Fact]) -> dict[str, list[Fact]]:
    """Facts by note id (helper for reports)."""
    out: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        out[f.note_id].append(f)
    return dict(out)
