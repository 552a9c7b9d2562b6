"""Assertion rules on realistic note sentences (written for these tests, not taken from any gold set):
cue matching, scope, termination, brackets, dashes, plans, trials, consent, and the precedence of the
single assertion field."""

from __future__ import annotations

import pytest

from tests.notes_helpers import facts


def assertion_of(text: str, concept_id: str, nth: int = 0) -> str:
    hits = [f for f in facts(text) if f.concept.id == concept_id]
    assert len(hits) > nth, f"{concept_id} not found in {[(f.concept.id, f.text) for f in facts(text)]}"
    return hits[nth].assertion


@pytest.mark.parametrize("text, concept, expected", [
    # a cue never ends inside a fact's own words: "no acute" is not the cue, "no" is
    ("Pt is in no acute distress; no acute kidney injury on labs.", "kidney_disease", "absent"),
    # a shorter cue survives where a longer one overlaps it ("no" + "prior history of")
    ("No prior history of MDS or chemotherapy.", "mds", "absent"),
    ("No prior history of MDS or chemotherapy.", "chemotherapy", "absent"),
    # "rule out" is a possibility, "ruled out" a negation (no plural folding of cues)
    ("Admitted to rule out MI.", "myocardial_infarction", "possible"),
    ("CTA chest: pulmonary embolism was ruled out.", "pulmonary_embolism", "absent"),
    ("There is low suspicion for pneumonia.", "pneumonia", "absent"),
    ("Marrow findings would not support a diagnosis of CLL.", "cll", "absent"),
    # a differential set aside ("rather than") is negated; what follows the short scope is not
    ("Blast percentage is attributed to marrow regeneration rather than relapse.", "relapse", "absent"),
    ("Chose venetoclax rather than 7+3 given age; history of diabetes.", "regimen_7_3", "absent"),
    ("Chose venetoclax rather than 7+3 given age; history of diabetes.", "venetoclax", "present"),
    ("Chose venetoclax rather than 7+3 given age; history of diabetes.", "diabetes", "present"),
    ("Findings are not consistent with AML with leukemia cutis.", "aml", "absent"),
    ("Sepsis was not felt to be present.", "infection", "absent"),
    ("The patient declined chemotherapy.", "chemotherapy", "absent"),
])
def test_negation(text, concept, expected):
    assert assertion_of(text, concept) == expected


@pytest.mark.parametrize("text, concept, expected", [
    # a possessive introduces the patient's own condition
    ("Patient refused heparin for her DVT.", "dvt", "present"),
    ("Patient refused heparin for her DVT.", "drug:DB01109", "absent"),
    # "with" does not end a negation in notes
    ("Findings are not consistent with AML with leukemia cutis.", "extramedullary_disease", "absent"),
    # a continued drug is current
    ("No evidence of pneumonia; continue ceftriaxone.", "drug:DB01212", "present"),
    ("History of depression, on sertraline.", "drug:DB01104", "present"),
    # a hyphenated "non" negates its own word only
    ("Non-healing ulcer of the left foot.", "ulcer", "present"),
    # risk factors are the patient's own
    ("Risk factors include diabetes and hypertension.", "diabetes", "present"),
    ("He was found to be in atrial fibrillation.", "atrial_fibrillation", "present"),
])
def test_termination_and_pseudo_cues(text, concept, expected):
    assert assertion_of(text, concept) == expected


@pytest.mark.parametrize("text, concept, expected", [
    ("Meds: lisinopril 10 mg daily (not taking), metformin 500 mg BID, atorvastatin 40 mg.", "drug:DB00722",
     "historical"),
    ("Meds: lisinopril 10 mg daily (not taking), metformin 500 mg BID, atorvastatin 40 mg.", "drug:DB00331",
     "present"),
    ("Hepatitis B infection (HBsAg negative, HBV DNA undetectable), on entecavir.", "hepatitis_b", "present"),
    ("Problem list: pneumonia (resolved); hypertension.", "pneumonia", "historical"),
    ("Problem list: pneumonia (resolved); hypertension.", "hypertension", "present"),
    ("Apixaban 5 mg BID (hold per protocol if plt < 50), metoprolol 25 mg BID.", "drug:DB00264", "present"),
])
def test_brackets(text, concept, expected):
    assert assertion_of(text, concept) == expected


@pytest.mark.parametrize("text, concept, expected", [
    ("Hx DVT 2019 - apixaban 5 mg BID.", "drug:DB06605", "present"),
    ("Hx DVT 2019 - apixaban 5 mg BID.", "dvt", "historical"),
    ("# AKI - resolved.", "kidney_disease", "historical"),
    ("# Cytopenias - transfuse PRBC if Hgb < 7.", "rbc_transfusion", "hypothetical"),
    ("AKI on CKD stage 3 - resolved to baseline.", "ckd", "present"),
])
def test_problem_dash_plan(text, concept, expected):
    assert assertion_of(text, concept) == expected


@pytest.mark.parametrize("text, concept, expected", [
    ("Add hydroxyurea if WBC > 50.", "hydroxyurea", "hypothetical"),
    ("Return to the ED if he develops pneumonia symptoms.", "pneumonia", "hypothetical"),
    ("Induction with 7+3 to start Monday.", "regimen_7_3", "hypothetical"),
    ("Plan to begin azacitidine next cycle.", "azacitidine", "hypothetical"),
    ("Tagraxofusp planned for next week.", "tagraxofusp", "hypothetical"),
    ("Echo prior to anthracycline.", "anthracycline", "hypothetical"),
    ("Gilteritinib as a bridge to allo-HCT.", "allo_hct", "hypothetical"),
    ("Consent for venetoclax signed today.", "venetoclax", "hypothetical"),
    ("Consent for venetoclax signed today.", "informed_consent", "present"),
    ("Discussed the CAR-NK trial; explained it is for relapsed disease only.", "relapse", "hypothetical"),
    ("It is unclear whether this represents pneumonia.", "pneumonia", "possible"),
    ("# Pneumonia, probable: start ceftriaxone.", "pneumonia", "possible"),
])
def test_plans_conditionals_trials_and_uncertainty(text, concept, expected):
    assert assertion_of(text, concept) == expected


@pytest.mark.parametrize("text, concept, expected", [
    ("Heparin drip was transitioned to apixaban.", "drug:DB01109", "historical"),
    ("Heparin drip was transitioned to apixaban.", "drug:DB06605", "present"),
    ("STOPPED: aspirin, clopidogrel.", "drug:DB00758", "historical"),
    ("Primary refractory to 7+3; now on gilteritinib.", "regimen_7_3", "historical"),
    ("Primary refractory to 7+3; now on gilteritinib.", "gilteritinib", "present"),
    ("Breast cancer 2010, treated with lumpectomy, no evidence of recurrence.", "breast_cancer", "historical"),
    ("AML in CR1, no evidence of relapse.", "aml", "present"),
    ("Depression, resolved in 2020.", "depression", "historical"),
    ("History of depression, on sertraline.", "depression", "present"),
    ("HPI: a two-day history of pneumonia symptoms.", "pneumonia", "present"),
])
def test_history(text, concept, expected):
    assert assertion_of(text, concept) == expected


@pytest.mark.parametrize("text, concept, expected", [
    # negation wins over history and family: the single field says "absent"
    ("No history of CHF.", "heart_failure", "absent"),
    ("No family history of leukemia.", "leukemia", "absent"),
    # family wins over history and possibility
    ("Mother had breast cancer, possibly BRCA-related.", "breast_cancer", "family"),
    # hypothetical wins over possible and historical
    ("If relapse is suspected, repeat the marrow.", "relapse", "hypothetical"),
])
def test_precedence_of_the_single_field(text, concept, expected):
    assert assertion_of(text, concept) == expected


def test_dimensions_are_kept_apart_before_the_single_field():
    """The record keeps every category (negated and historical); only the contract field picks one."""
    from nlp.notes.assertion import final_categories
    from nlp.pipeline import process
    from tests.notes_helpers import pipeline

    doc = process(pipeline(), "No stroke in the past.", "n", "2026-03-12")
    rec = next(r for r in doc._.trialmatch_records if r.concept_id == "stroke")
    assert {"NEGATED_EXISTENCE", "HISTORICAL"} <= final_categories(rec, set(rec.modifiers), rec.section)
    assert rec.assertion == "absent"


def test_rule_files_stay_loadable_by_medspacy():
    import importlib.resources as resources

    from medspacy.context import ConTextRule

    from nlp.notes.context import RULE_FILES

    for name in RULE_FILES:
        with resources.as_file(resources.files("nlp.resources").joinpath(name)) as path:
            assert ConTextRule.from_json(str(path))


def test_criteria_parser_reads_only_what_it_needs_from_the_shared_file():
    """New note cues (max_scope, metadata, forward-only terminators) must not change criteria negation."""
    from nlp.criteria import parse_protocol

    protocol = parse_protocol("Exclusion Criteria:\n- No prior history of stroke\n- Active hepatitis B\n", "t")
    negated = {k.concept.id: k.negated for c in protocol.criteria for k in c.constraints}
    assert negated.get("stroke") is True and negated.get("hepatitis_b") is False
