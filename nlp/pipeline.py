"""The notes pipeline, built once: ``spacy.blank("en")`` plus trialmatch's registered components.

    nlp = load_pipeline()
    facts = extract_note(text, "note-1", "2026-03-12", nlp=nlp)
    patients = extract_patients(rows)          # rows: patient_id, note_id, text, date, note_type

Every component is a registered spaCy factory, so it can be added to another
pipeline with ``nlp.add_pipe("trialmatch_concepts")`` and so on (in this
order; each reads what the earlier ones left on ``doc._``):

    trialmatch_sentences     line-aware sentence splitter (sets doc.sents)
    trialmatch_sections      section headers (medSpaCy SectionRule file)
    trialmatch_concepts      lexicon mentions (doc.spans["trialmatch"], doc._.trialmatch_mentions)
    trialmatch_dates         note date and written dates
    trialmatch_measurements  labs, vitals, LVEF/QTc, ECOG/KPS, blasts, life expectancy
    trialmatch_findings      diagnoses, disease status, therapies, biomarkers, consent, ECG
    trialmatch_demographics  age / DOB -> age, sex
    trialmatch_assertion     ConText assertion on every fact
    trialmatch_dating        the date of every fact

Results are plain records on ``doc._.trialmatch_records``; :func:`doc_to_facts`
turns them into contract ``Fact`` models. Docs never cross process boundaries:
:func:`extract_note` returns plain pydantic models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc

# Importing the modules registers their factories.
from nlp.notes import assertion as _assertion  # noqa: F401
from nlp.notes import concepts as _concepts  # noqa: F401
from nlp.notes import dating as _dating  # noqa: F401
from nlp.notes import demographics as _demographics  # noqa: F401
from nlp.notes import findings as _findings  # noqa: F401
from nlp.notes import measurements as _measurements  # noqa: F401
from nlp.notes import sections as _sections  # noqa: F401
from nlp.notes import sentences as _sentences  # noqa: F401
from nlp.notes.aggregate import aggregate
from nlp.notes.facts import doc_to_facts
from nlp.notes.records import register_extensions
from nlp.notes.tokenizer import NoteTokenizer
from nlp.schema import Fact, PatientFacts

COMPONENTS = ("trialmatch_sentences", "trialmatch_sections", "trialmatch_concepts", "trialmatch_dates",
              "trialmatch_measurements", "trialmatch_findings", "trialmatch_demographics",
              "trialmatch_assertion", "trialmatch_dating")

_cache: dict[tuple, Language] = {}


def build_pipeline(extra_terms: Optional[Union[str, Path]] = None, lexicon: str = "full",
                   set_ents: bool = False, assertion_engine: str = "fast", section_engine: str = "fast",
                   tokenizer: str = "trialmatch") -> Language:
    """A new pipeline (prefer :func:`load_pipeline`, which builds each configuration once)."""
    register_extensions()
    if tokenizer not in ("trialmatch", "spacy"):
        raise ValueError(f"unknown tokenizer {tokenizer!r} (use 'trialmatch' or 'spacy')")
    nlp = spacy.blank("en")
    if tokenizer == "trialmatch":
        nlp.tokenizer = NoteTokenizer(nlp.vocab)
    for name in COMPONENTS:
        config = {}
        if name == "trialmatch_concepts":
            config = {"lexicon": lexicon, "terms": str(extra_terms) if extra_terms else None, "set_ents": set_ents}
        elif name == "trialmatch_assertion":
            config = {"engine": assertion_engine}
        elif name == "trialmatch_sections":
            config = {"engine": section_engine}
        nlp.add_pipe(name, config=config)
    return nlp


def load_pipeline(extra_terms: Optional[Union[str, Path]] = None, **options) -> Language:
    """The notes pipeline for these options, built once per process.

    ``extra_terms`` is a CSV of user concepts (``label,synonym[,category,code]``).
    Options: ``lexicon`` ("full" or "curated"), ``set_ents`` (bool),
    ``assertion_engine`` and ``section_engine`` ("fast" or "medspacy"),
    ``tokenizer`` ("trialmatch", the default, or spaCy's own "spacy").
    """
    key = (str(extra_terms) if extra_terms else None, tuple(sorted(options.items())))
    nlp = _cache.get(key)
    if nlp is None:
        nlp = _cache[key] = build_pipeline(extra_terms, **options)
    return nlp


def make_doc(nlp: Language, text: str, note_id: Optional[str] = None, date: Optional[str] = None) -> Doc:
    """A tokenized Doc carrying its note id and note date, ready for the components."""
    doc = nlp.make_doc(text)
    doc.user_data["trialmatch_text"] = text
    doc._.trialmatch_note_id = note_id
    doc._.trialmatch_note_date = date
    return doc


def process(nlp: Language, text: str, note_id: Optional[str] = None, date: Optional[str] = None) -> Doc:
    """Run the pipeline on one note (with its id and date) and return the Doc."""
    doc = make_doc(nlp, text, note_id, date)
    for _, component in nlp.pipeline:
        doc = component(doc)
    return doc


def extract_note(text: str, note_id: str, date: Optional[str] = None, nlp: Optional[Language] = None) -> list[Fact]:
    """The facts of one note: exact spans into ``text``, dated, with assertions."""
    nlp = nlp or load_pipeline()
    doc = process(nlp, text, note_id, date)
    return doc_to_facts(doc, note_id)


def extract_patients(rows: Iterable[dict], nlp: Optional[Language] = None) -> list[PatientFacts]:
    """One ``PatientFacts`` per patient from note rows (``patient_id, note_id, text`` and optional ``date, note_type``).

    Patients come out sorted by id; each holds all facts and the current value of
    every concept (newest by date, older values as history).
    """
    nlp = nlp or load_pipeline()
    by_patient: dict[str, list[Fact]] = {}
    notes: dict[str, int] = {}
    for row in rows:
        pid = str(row["patient_id"])
        facts = extract_note(row["text"], str(row["note_id"]), row.get("date"), nlp)
        by_patient.setdefault(pid, []).extend(facts)
        notes[pid] = notes.get(pid, 0) + 1
    return [aggregate(pid, by_patient[pid], n_notes=notes[pid]) for pid in sorted(by_patient)]
