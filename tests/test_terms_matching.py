"""User terms in notes and criteria: longest match, overlaps, case and whitespace tolerance, facts
with assertions, the lexicon kept, and the CLI's one-line error for a bad terms file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nlp.lexicon.user_index import with_user_terms
from nlp.lexicon.user_terms import parse_terms

TERMS = """label,synonym,category,code
PA dilation,pulmonary artery dilation,diagnosis,
Normal PA size,pulmonary artery size is normal,diagnosis,
Pulmonary artery,pulmonary artery,diagnosis,
VEXAS syndrome,VEXAS,diagnosis,ICD-10-CM:D89.89
VEXAS syndrome,UBA1 somatic mutation,diagnosis,
Cytokine release syndrome,CRS,adverse_event,
Gemtuzumab ozogamicin,Mylotarg,drug,
"""


@pytest.fixture(scope="module")
def terms_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("terms") / "terms.csv"
    path.write_text(TERMS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def nlp_terms(terms_path):
    from nlp import load_pipeline

    return load_pipeline(extra_terms=terms_path)


def _facts(nlp, text):
    from nlp import extract_note

    return [f for f in extract_note(text, "n1", "2026-03-12", nlp=nlp)]


def _user(facts):
    return [(f.concept.label, f.text, f.assertion) for f in facts if (f.concept.id or "").startswith("user:")]


def test_longest_match_wins_among_overlapping_terms(nlp_terms):
    text = "The pulmonary artery size is normal. Mild pulmonary artery dilation. Pulmonary artery not seen."
    assert _user(_facts(nlp_terms, text)) == [
        ("Normal PA size", "pulmonary artery size is normal", "present"),
        ("PA dilation", "pulmonary artery dilation", "present"),
        ("Pulmonary artery", "Pulmonary artery", "absent"),
    ]


@pytest.mark.parametrize("written", [
    "pulmonary artery   size is normal",
    "Pulmonary Artery size is\nnormal",
    "PULMONARY ARTERY SIZE IS NORMAL",
    "pulmonary artery\tsize  is \r\n normal",
])
def test_terms_match_across_case_spaces_and_line_breaks(nlp_terms, written):
    text = f"Echo today: {written}. No effusion."
    found = [f for f in _facts(nlp_terms, text) if f.concept.label == "Normal PA size"]
    assert len(found) == 1
    assert found[0].text == written and text[found[0].span[0]:found[0].span[1]] == written


def test_a_user_term_is_a_fact_with_label_codes_span_and_assertion(nlp_terms):
    text = "Known VEXAS, on prednisone. Mother with UBA1 somatic\nmutation? No vexas in brother."
    facts = [f for f in _facts(nlp_terms, text) if f.concept.label == "VEXAS syndrome"]
    assert [(f.text, f.assertion) for f in facts] == [
        ("VEXAS", "present"), ("UBA1 somatic\nmutation", "family"), ("vexas", "absent")]
    assert all(f.type == "diagnosis" and f.concept.id == "user:vexas_syndrome" for f in facts)
    assert facts[0].concept.codes[0].system == "ICD-10-CM" and facts[0].concept.codes[0].code == "D89.89"
    for f in facts:
        assert text[f.span[0]:f.span[1]] == f.text


def test_terms_join_the_lexicon_and_win_ties(nlp_terms):
    facts = _facts(nlp_terms, "AML in CR1. Grade 2 CRS on day 3, resolved. Mylotarg x1 in 2024.")
    ids = {f.concept.id for f in facts}
    assert {"aml", "complete_remission"} <= ids                       # the lexicon still works
    crs = [f for f in facts if f.text == "CRS"]
    assert [(f.concept.id, f.assertion) for f in crs] == [("user:cytokine_release_syndrome", "historical")]
    assert any(f.concept.label == "Gemtuzumab ozogamicin" and f.type == "therapy" for f in facts)


def test_a_longer_lexicon_phrase_that_is_no_fact_does_not_hide_a_term(tmp_path):
    from nlp import load_pipeline

    path = tmp_path / "terms.csv"
    path.write_text("label,synonym\nKidney involvement,kidney\n", encoding="utf-8")
    # "kidney function" is a lexicon phrase (organ function) that gives no fact of its own
    facts = _facts(load_pipeline(extra_terms=path), "Labs: normal kidney function.")
    assert [(f.concept.label, f.text) for f in facts if f.concept.id == "user:kidney_involvement"] == [("Kidney involvement", "kidney")]


def test_the_protocol_parser_gets_user_concepts(terms_path):
    from nlp import parse_protocol

    index = with_user_terms(terms_path)
    protocol = parse_protocol("Exclusion Criteria:\n- History of VEXAS syndrome\n- Prior Mylotarg\n", "t", index=index)
    labels = {k.concept.id for c in protocol.criteria for k in c.constraints}
    assert {"user:vexas_syndrome", "user:gemtuzumab_ozogamicin"} <= labels
    # the shared lexicon itself is left unchanged
    from nlp.lexicon import get_index
    assert get_index().lookup("VEXAS") is None or get_index().lookup("VEXAS").source != "user"


def test_extending_an_index_leaves_the_base_alone():
    from nlp.lexicon import build_curated_index
    from nlp.lexicon.user_index import extend_index

    base = build_curated_index()
    before = [s[0] for s in base.ci.get(("aml",), [])]
    extended = extend_index(base, parse_terms("label,synonym\nMy AML,aml\n").entries)
    assert extended.lookup("aml").id == "user:my_aml"
    assert [s[0] for s in base.ci.get(("aml",), [])] == before
    assert base.get("user:my_aml") is None


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "matcher.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_rejects_a_bad_terms_file_with_one_line(tmp_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"patient_id": "p", "note_id": "n", "text": "No VEXAS."}) + "\n", encoding="utf-8")
    bad = tmp_path / "terms.csv"
    bad.write_text("label,synonym,category\nVEXAS,,diagnosis\n", encoding="utf-8")
    run = _cli("extract", str(notes), "--terms", str(bad), cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"error: terms file {bad}: line 2: missing synonym"]
    missing = _cli("extract", str(notes), "--terms", str(tmp_path / "nope.csv"), cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("error: --terms file not found")


def test_cli_extract_uses_the_terms(tmp_path, terms_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"patient_id": "p", "note_id": "n", "text": "No VEXAS. Mylotarg planned."}) + "\n",
                     encoding="utf-8")
    out = tmp_path / "facts.jsonl"
    run = _cli("extract", str(notes), "--terms", str(terms_path), "--out", str(out), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    facts = json.loads(out.read_text(encoding="utf-8").splitlines()[0])["facts"]
    got = {(f["concept"]["label"], f["assertion"]) for f in facts if f["concept"].get("id", "").startswith("user:")}
    assert got == {("VEXAS syndrome", "absent"), ("Gemtuzumab ozogamicin", "hypothetical")}


def test_the_matcher_uses_the_terms_on_both_sides(terms_path):
    import matcher

    notes = [{"patient_id": "P1", "note_id": "n1", "date": "2026-03-01", "text": "68 yo man with VEXAS, on prednisone."},
             {"patient_id": "P2", "note_id": "n2", "date": "2026-03-01", "text": "54 yo woman. No VEXAS syndrome."}]
    results = matcher.match("Exclusion Criteria:\n- History of VEXAS syndrome\n", notes, terms=terms_path)
    status = {r.patient_id: {c.criterion_id: c.status for c in r.criteria} for r in results}
    assert status == {"P1": {"E1": "met"}, "P2": {"E1": "not_met"}}
    evidence = next(c for c in results[0].criteria if c.criterion_id == "E1").evidence
    assert [e.text for e in evidence] == ["VEXAS"]


def test_cli_match_uses_the_terms(tmp_path, terms_path):
    protocol = tmp_path / "trial.txt"
    protocol.write_text("Exclusion Criteria:\n- History of VEXAS syndrome\n", encoding="utf-8")
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"patient_id": "P1", "note_id": "n1", "text": "Known UBA1 somatic mutation."}) + "\n",
                     encoding="utf-8")
    run = _cli("match", str(protocol), str(notes), "--out", str(tmp_path / "out"), "--terms", str(terms_path),
               cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert result["verdict"] == "ineligible"
    assert [c["status"] for c in result["criteria"]] == ["met"]
