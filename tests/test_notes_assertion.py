"""Assertion of note facts: negation, family, hypothetical, possible, historical, and their precedence."""

from __future__ import annotations

import pytest

from tests.notes_helpers import facts, of, only


def test_denies_and_no_history_are_absent():
    found = facts("ROS: Denies depression, anxiety, SI/HI. No psych history.\nSH: never smoker.")
    assert only(found, "depression").assertion == "absent"
    assert only(found, "anxiety").assertion == "absent"
    assert only(found, "suicidal_ideation").assertion == "absent"
    assert only(found, "mental_disorder").assertion == "absent"


def test_negation_does_not_cross_a_sentence_or_a_but():
    found = facts("No fevers or chills. Found to have pneumonia on CXR.\nNo DVT but has atrial fibrillation.")
    assert only(found, "pneumonia").assertion == "present"
    assert only(found, "dvt").assertion == "absent"
    assert only(found, "atrial_fibrillation").assertion == "present"


def test_family_members_own_their_conditions():
    found = facts("FH: Mother had AML, diagnosed in her 70s. Brother with schizophrenia.\n"
                  "HPI: 58 yo man with hypertension.")
    assert only(found, "aml").assertion == "family"
    assert only(found, "schizophrenia").assertion == "family"
    assert only(found, "hypertension").assertion == "present"


def test_negated_family_history_is_absent():
    # Negation wins over family: "no family history of leukemia" says nobody has it.
    found = facts("No family history of leukemia or bleeding disorders.")
    assert only(found, "leukemia").assertion == "absent"


def test_hypothetical_plans_and_conditionals():
    found = facts("If CD123 positive, will refer for CD123-directed therapy; consider tagraxofusp.\n"
                  "Plan to start azacitidine next week.")
    assert only(found, "cd123").assertion == "hypothetical"
    assert only(found, "tagraxofusp").assertion == "hypothetical"
    assert only(found, "azacitidine").assertion == "hypothetical"


def test_possible_findings():
    found = facts("Concern for acute promyelocytic leukemia; r/o DIC.")
    assert only(found, "apl").assertion == "possible"
    assert only(found, "dic").assertion == "possible"


def test_historical_and_negated_historical():
    found = facts("s/p 7+3 induction in 2024. History of MI in 2015. No history of stroke.")
    assert only(found, "regimen_7_3").assertion == "historical"
    assert only(found, "myocardial_infarction").assertion == "historical"
    # negated + historical -> absent (documented precedence)
    assert only(found, "stroke").assertion == "absent"


def test_history_of_a_chronic_condition_is_still_present():
    found = facts("PMH: history of hypertension and type 2 diabetes; remote breast cancer (2009).")
    assert only(found, "hypertension").assertion == "present"
    assert only(found, "diabetes").assertion == "present"
    assert only(found, "breast_cancer").assertion == "historical"


def test_resolved_is_historical_in_notes():
    found = facts("Pleural effusion on dasatinib, resolved after dose reduction.")
    assert only(found, "pleural_effusion").assertion == "historical"


def test_measured_values_ignore_nearby_negation():
    found = facts("No acute distress. Creatinine 1.4 mg/dL, no AKI.")
    cr = only(found, "creatinine")
    assert (cr.value, cr.unit, cr.assertion) == (1.4, "mg/dL", "present")
    assert only(found, "kidney_disease").assertion == "absent"


def test_plan_thresholds_are_not_results():
    found = facts("Transfuse for Hgb < 7; keep K > 4.0 and Mg > 2.0.\nHgb 8.1 g/dL today.")
    hgb = of(found, "hemoglobin")
    assert [(f.value, f.unit) for f in hgb] == [(8.1, "g/dL")]
    assert not of(found, "potassium") and not of(found, "magnesium")


@pytest.mark.parametrize("sentence, concept, expected", [
    ("She denies chest pain and has no history of seizures.", "epilepsy", "absent"),
    ("Father with CAD, MI at 66.", "coronary_artery_disease", "family"),
    ("Possible pneumonia on imaging.", "pneumonia", "possible"),
    ("He was previously treated with venetoclax.", "venetoclax", "historical"),
    ("Not a transplant candidate.", "hsct", "absent"),
])
def test_fast_engine_agrees_with_medspacy_context(sentence, concept, expected):
    """The fast engine re-implements medSpaCy ConText; both engines run the same rules."""
    from nlp.pipeline import extract_note, load_pipeline

    fast = only(extract_note(sentence, "n", "2026-01-01", nlp=load_pipeline()), concept)
    slow = only(extract_note(sentence, "n", "2026-01-01", nlp=load_pipeline(assertion_engine="medspacy")), concept)
    assert fast.assertion == expected
    assert slow.assertion == fast.assertion


def test_note_rules_redefine_shared_literals():
    from nlp.notes.assertion import load_rules

    resolved = {(r.category, r.direction) for r in load_rules() if r.literal == "resolved"}
    assert resolved == {("HISTORICAL", "BACKWARD"), ("HISTORICAL", "FORWARD")}
    # a shared literal the note file does not redefine is kept
    assert any(r.literal == "denies" and r.category == "NEGATED_EXISTENCE" for r in load_rules())
