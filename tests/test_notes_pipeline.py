"""The notes pipeline as a whole: exact spans, registered components, determinism, display, structure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.lexicon import get_index, tokenize
from nlp.notes.display import facts_table, render_note_html
from nlp.notes.sections import find_sections
from nlp.notes.sentences import split_sentences
from nlp.notes.tokenizer import NoteTokenizer, tokenize_note
from nlp.pipeline import COMPONENTS, extract_note
from tests.notes_helpers import facts, pipeline

ROOT = Path(__file__).resolve().parents[1]


def _corpus_notes() -> list[dict]:
    rows = []
    for path in sorted((ROOT / "corpora" / "notes").glob("*/notes.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


@pytest.mark.parametrize("row", _corpus_notes(), ids=lambda r: r["note_id"])
def test_every_fact_span_is_the_exact_note_slice(row):
    text = row["text"]
    for f in extract_note(text, row["note_id"], row.get("date"), nlp=pipeline()):
        assert text[f.span[0]:f.span[1]] == f.text
        assert f.text == f.text.strip() and f.text
        assert f.note_id == row["note_id"]
        assert f.type in {"demographic", "diagnosis", "disease_status", "blasts", "biomarker", "therapy", "lab",
                          "vital", "cardiac", "performance_status", "psychiatric", "life_expectancy", "consent",
                          "symptom", "observation"}


_pieces = st.sampled_from(["Creatinine", "1.4", "mg/dL", "(0.6-1.2)", "H", "denies", "depression", "CD123",
                           "positive", "\n", "\n\n", "  ", "\t", "....", "|", "ECOG", "2", "SpO2", "92%", "RA", "->",
                           "DOB:", "01/02/1960", "mother", "had", "AML", ";", ":", ".", ",", "é", "µmol/L", "x", "ULN"])


@settings(max_examples=120, deadline=None)
@given(st.lists(_pieces, max_size=30).map(" ".join), st.sampled_from([None, "2026-03-12"]))
def test_random_text_gives_valid_exact_spans(text, date):
    for f in extract_note(text, "r", date, nlp=pipeline()):
        assert 0 <= f.span[0] < f.span[1] <= len(text)
        assert text[f.span[0]:f.span[1]] == f.text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1-/'’s .\n\tCD+é", max_size=40))
def test_note_tokenizer_shares_the_lexicon_tokens(text):
    """One pass serves both the Doc and the concept index: same tokens as nlp.lexicon.tokenize."""
    words, spaces, lex, lex_doc = tokenize_note(text)
    assert [(t.start, t.end, t.raw, t.norm) for t in tokenize(text)] == [tuple(t) for t in lex]
    doc = NoteTokenizer(spacy.blank("en").vocab)(text)
    assert doc.text == text
    for t, i in zip(lex, lex_doc):
        assert doc[i].idx == t.start and doc[i].text == t.raw


def test_components_are_registered_for_other_pipelines():
    nlp = spacy.blank("en")
    for name in COMPONENTS:
        nlp.add_pipe(name)
    doc = nlp("Cr 1.9 mg/dL (0.6-1.2). Denies depression.")
    kinds = {(r.concept_id, r.assertion) for r in doc._.trialmatch_records}
    assert ("creatinine", "present") in kinds and ("depression", "absent") in kinds
    assert [s.text for s in doc.sents] == ["Cr 1.9 mg/dL (0.6-1.2).", "Denies depression."]
    assert {s.kb_id_ for s in doc.spans["trialmatch"]} >= {"creatinine", "depression"}


def test_set_ents_option_fills_doc_ents():
    from nlp.pipeline import build_pipeline

    doc = build_pipeline(set_ents=True)("AML in CR1; ANC 1.2")
    assert [(e.text, e.kb_id_) for e in doc.ents][:2] == [("AML", "aml"), ("CR1", "complete_remission")]


def test_same_input_same_output():
    text = _corpus_notes()[0]["text"]
    first = [f.model_dump() for f in extract_note(text, "n", "2026-01-06", nlp=pipeline())]
    second = [f.model_dump() for f in extract_note(text, "n", "2026-01-06", nlp=pipeline())]
    assert first == second and first


def test_user_terms_are_matched_case_insensitively(tmp_path):
    from nlp.pipeline import load_pipeline

    terms = tmp_path / "terms.csv"
    terms.write_text("label,synonym,category,code\nVEXAS syndrome,VEXAS,diagnosis,ICD-10-CM:D89.89\n"
                     "VEXAS syndrome,UBA1 somatic mutation,,\n", encoding="utf-8")
    found = extract_note("Known vexas; UBA1   somatic\nmutation confirmed.", "u", None, nlp=load_pipeline(extra_terms=terms))
    hits = [f for f in found if f.concept.id == "user:vexas_syndrome"]
    assert [h.text for h in hits] == ["vexas", "UBA1   somatic\nmutation"]
    assert hits[0].concept.codes[0].code == "D89.89"


def test_sentences_survive_lab_tables_and_wrapped_prose():
    text = "Labs:\nCreatinine ........ 2.3 mg/dL\nPlt 41. Denies fever,\ncough. Dr. Smith saw him."
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans == ["Labs:", "Creatinine ........ 2.3 mg/dL", "Plt 41.", "Denies fever,\ncough.", "Dr. Smith saw him."]


def test_sections_with_dated_headers():
    text = "HPI: fatigue.\nFH: mother had AML.\nLabs 09/08/2026:\n  Cr 0.9\nA/P: relapsed AML."
    sections = [(s.category, text[s.start:s.header_end], s.date) for s in find_sections(text)]
    assert sections == [("history_of_present_illness", "HPI:", None), ("family_history", "FH:", None),
                        ("labs", "Labs 09/08/2026:", "2026-09-08"), ("assessment_and_plan", "A/P:", None)]


def test_html_view_escapes_all_note_text():
    text = "<script>alert(1)</script> Cr 2.0 mg/dL & denies <b>depression</b>"
    found = facts(text)
    page = render_note_html(text, found, title="<note & id>")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;" in page and "&amp; denies" in page
    assert "&lt;note &amp; id&gt;" in page
    assert page.count("<mark") == len({f.span for f in found})


def test_table_view_lists_the_facts():
    table = facts_table(facts("Cr 2.0 mg/dL. Denies depression.", note_id="n9"))
    lines = table.splitlines()
    assert lines[0].split() == ["note", "type", "concept", "value", "unit", "assertion", "date", "evidence"]
    assert any("creatinine" in ln and "mg/dL" in ln and "present" in ln for ln in lines)
    assert any("depression" in ln and "absent" in ln for ln in lines)


def test_grammar_date_with_hyphens_and_month_name():
    from nlp.grammar.dates import find_dates

    assert [d.iso() for d in find_dates("DOB 02-May-1950; seen 15 Jan, 2024")] == ["1950-05-02", "2024-01-15"]


def test_grammar_lowercase_g_per_litre_is_grams():
    from nlp.grammar.comparisons import find_comparisons

    assert [(c.value, c.unit) for c in find_comparisons("Hb 102 g/L, ANC 1.5 G/L")] == [(102.0, "g/L"), (1.5, "x10^9/L")]


def test_full_lexicon_concepts_have_codes():
    cr = [f for f in facts("Creatinine 1.1 mg/dL") if f.concept.id == "creatinine"][0]
    assert cr.concept.label == "creatinine" and ("LOINC", "2160-0") in [(c.system, c.code) for c in cr.concept.codes]
    assert get_index().get("creatinine") is not None


def test_hpo_phenotypes_are_symptom_facts_with_their_assertion():
    from tests.notes_helpers import facts, only

    found = facts("21F with progressive arthralgias and malaise. Exam: a delicate non-palpable purpura on her calves.\n"
                  "Labs: normocytic anemia.")
    assert only(found, "hpo:HP:0002829").type == "symptom"          # Arthralgia
    assert only(found, "hpo:HP:0001897").assertion == "present"     # Normocytic anemia
    assert only(found, "hpo:HP:0031363").assertion == "absent"      # "non-palpable purpura"
