"""Matcher semantics on parsed criteria and hand-built facts: polarity, absence policy,
assertions, unit and ULN arithmetic at the boundaries, exceptions, newest value wins."""

from __future__ import annotations

import itertools

import pytest

from matcher.api import match_records
from matcher.config import load_config
from matcher.facts import NoteInfo, PatientRecord
from matcher.verdict import combine, verdict_of
from nlp.criteria import parse_protocol
from nlp.lexicon import get_index
from nlp.schema import Concept, Fact


def fact(cid, value=None, unit=None, rr=None, assertion="present", date="2026-03-12", note="n1", text=None, **kw):
    entry = get_index().get(cid)
    text = text or entry.label
    kw.setdefault("type", entry.type)
    return Fact(concept=Concept(label=entry.label, id=cid), value=value, unit=unit, reference_range=rr,
                assertion=assertion, date=date, note_id=note, span=(0, len(text)), text=text, **kw)


def run(criteria: str, facts: list[Fact], notes: int = 3, config=None):
    protocol = parse_protocol(criteria, "T1")
    record = PatientRecord("P1", facts, {f"n{i}": NoteInfo(f"n{i}", "", "2026-03-12") for i in range(1, notes + 1)})
    return match_records([protocol], [record], config)[0]


def status(result, cid="I1"):
    return next(c for c in result.criteria if c.criterion_id == cid).status


def reason(result, cid="I1"):
    return next(c for c in result.criteria if c.criterion_id == cid).reason


# -- the contract's combination and verdict rules ---------------------------------------------
@pytest.mark.parametrize("statuses", list(itertools.product(["met", "not_met", "unknown"], repeat=3)))
def test_combine_follows_the_contract(statuses):
    statuses = list(statuses)
    if "not_met" in statuses:
        assert combine("all", statuses) == "not_met"
    elif "unknown" in statuses:
        assert combine("all", statuses) == "unknown"
    else:
        assert combine("all", statuses) == "met"
    if "met" in statuses:
        assert combine("any", statuses) == "met"
    elif "unknown" in statuses:
        assert combine("any", statuses) == "unknown"
    else:
        assert combine("any", statuses) == "not_met"


def test_verdict_polarity():
    assert verdict_of([("inclusion", "met"), ("exclusion", "not_met")]) == "eligible"
    assert verdict_of([("inclusion", "met"), ("exclusion", "met")]) == "ineligible"
    assert verdict_of([("inclusion", "not_met"), ("exclusion", "unknown")]) == "ineligible"
    assert verdict_of([("inclusion", "unknown"), ("exclusion", "not_met")]) == "needs_review"
    assert verdict_of([("inclusion", "met"), ("exclusion", "unknown")]) == "needs_review"


# -- exclusion polarity and the absence policy ----------------------------------------------
EXCLUSION = "Exclusion Criteria:\n- History of stroke"


def test_exclusion_condition_present_makes_the_patient_ineligible():
    r = run(EXCLUSION, [fact("stroke", text="h/o CVA 2019", assertion="historical")])
    assert status(r, "E1") == "met" and r.verdict == "ineligible"


def test_exclusion_condition_denied_is_not_met():
    r = run(EXCLUSION, [fact("stroke", text="no history of stroke", assertion="absent")])
    assert status(r, "E1") == "not_met" and r.verdict == "eligible"


def test_exclusion_condition_not_documented_is_not_met_by_policy():
    r = run(EXCLUSION, [])
    assert status(r, "E1") == "not_met" and r.verdict == "eligible"
    assert "not documented in 3 notes" in reason(r, "E1")


def test_negated_inclusion_not_documented_is_met_and_documented_is_not_met():
    text = "Inclusion Criteria:\n- No history of stroke"
    assert status(run(text, [])) == "met"
    assert status(run(text, [fact("stroke", assertion="historical")])) == "not_met"


def test_plain_inclusion_not_documented_is_unknown_and_listed_as_missing():
    r = run("Inclusion Criteria:\n- Echocardiogram LVEF ≥ 50%", [])
    assert status(r) == "unknown" and r.verdict == "needs_review"
    assert r.missing and r.missing[0].criterion_id == "I1" and "LVEF" in r.missing[0].what


def test_absence_policy_is_configurable():
    config = load_config({"absence": {"exclusion": "unknown"}})
    r = run(EXCLUSION, [], config=config)
    assert status(r, "E1") == "unknown" and r.verdict == "needs_review"


@pytest.mark.parametrize("assertion", ["family", "hypothetical"])
def test_family_and_hypothetical_never_count(assertion):
    r = run("Inclusion Criteria:\n- Acute myeloid leukemia", [fact("aml", assertion=assertion, text="mother had AML")])
    assert status(r) == "unknown"
    r = run(EXCLUSION, [fact("stroke", assertion=assertion)])
    assert status(r, "E1") == "not_met"


def test_possible_mention_is_unknown():
    r = run(EXCLUSION, [fact("stroke", assertion="possible", text="possible CVA")])
    assert status(r, "E1") == "unknown"


def test_hierarchy_counts_a_narrower_fact():
    r = run("Inclusion Criteria:\n- Diagnosis of leukemia", [fact("apl", text="APL")])
    assert status(r) == "met" and "hierarchy" in reason(r)


# -- numbers, units and ULN at the boundaries -----------------------------------------------
CREAT = "Inclusion Criteria:\n- Serum creatinine ≤ 2.0 × ULN"


@pytest.mark.parametrize("value, expected", [(2.4, "met"), (2.39, "met"), (2.41, "not_met"), (1.0, "met")])
def test_uln_boundary_is_inclusive(value, expected):
    r = run(CREAT, [fact("creatinine", value, "mg/dL", (0.6, 1.2))])
    assert status(r) == expected


def test_uln_from_default_table_is_said_in_the_reason():
    r = run(CREAT, [fact("creatinine", 2.5, "mg/dL")])
    assert status(r) == "not_met"
    assert "no range in the note" in reason(r) and "1.2" in reason(r)


def test_explicit_uln_multiple_is_used():
    r = run(CREAT, [fact("creatinine", 2.0, "mg/dL", uln_multiple=2.5, uln_source="the note")])
    assert status(r) == "not_met"


@pytest.mark.parametrize("value, expected", [(120, "met"), (133, "met"), (150, "not_met")])
def test_unit_conversion_umol_to_mg(value, expected):
    # 1.5 mg/dL of creatinine is 132.6 µmol/L
    r = run("Inclusion Criteria:\n- Creatinine ≤ 1.5 mg/dL", [fact("creatinine", value, "µmol/L")])
    assert status(r) == ("not_met" if value == 133 else expected)


def test_strict_comparator_excludes_the_boundary():
    text = "Inclusion Criteria:\n- Blood oxygen saturation > 92%"
    assert status(run(text, [fact("spo2", 92, "%", oxygen="room air")])) == "not_met"
    assert status(run(text, [fact("spo2", 93, "%", oxygen="room air")])) == "met"


def test_room_air_reading_wins_over_supplemental_oxygen():
    text = "Inclusion Criteria:\n- SpO2 > 92%"
    facts = [fact("spo2", 90, "%", oxygen="room air", date="2026-03-10"), fact("spo2", 97, "%", oxygen="2L NC", date="2026-03-12")]
    assert status(run(text, facts)) == "not_met"


def test_gilbert_exception_raises_the_limit_only_with_gilbert():
    text = "Inclusion Criteria:\n- Total bilirubin ≤ 2.0 × ULN (Gilbert syndrome ≤ 3.0 × ULN)"
    bili = fact("total_bilirubin", 3.0, "mg/dL", (0.2, 1.2))  # 2.5 x ULN
    assert status(run(text, [bili])) == "not_met"
    r = run(text, [bili, fact("gilbert", text="Gilbert's syndrome")])
    assert status(r) == "met" and "Gilbert syndrome documented" in reason(r)


def test_newest_value_wins_and_history_is_shown():
    text = "Inclusion Criteria:\n- LVEF ≥ 50%"
    facts = [fact("lvef", 58, "%", date="2026-03-01"), fact("lvef", 45, "%", date="2026-01-10")]
    r = run(text, facts)
    assert status(r) == "met"
    assert "58 %" in reason(r) and "Earlier: 45 %" in reason(r)
    r = run(text, [fact("lvef", 58, "%", date="2026-01-10"), fact("lvef", 45, "%", date="2026-03-01")])
    assert status(r) == "not_met"


def test_between_includes_both_ends():
    text = "Inclusion Criteria:\n- Age 18-75 years"
    assert status(run(text, [fact("age", 75, "years")])) == "met"
    assert status(run(text, [fact("age", 18, "years")])) == "met"
    assert status(run(text, [fact("age", 76, "years")])) == "not_met"


def test_biomarker_positive_and_negative():
    text = "Inclusion Criteria:\n- CD123 positive by flow cytometry"
    assert status(run(text, [fact("cd123", "positive")])) == "met"
    assert status(run(text, [fact("cd123", 87.0, "%")])) == "met"
    assert status(run(text, [fact("cd123", "negative")])) == "not_met"


def test_any_logic_and_score_ranking():
    text = "Inclusion Criteria:\n- Relapsed or refractory AML\n- ECOG 0-2"
    eligible = run(text, [fact("aml"), fact("relapse"), fact("ecog", 1)])
    review = run(text, [fact("aml"), fact("relapse")])
    ineligible = run(text, [fact("aml"), fact("relapse"), fact("ecog", 3)])
    assert [eligible.verdict, review.verdict, ineligible.verdict] == ["eligible", "needs_review", "ineligible"]
    assert eligible.score > review.score > ineligible.score
    assert all(0 <= r.score <= 1 for r in (eligible, review, ineligible))


# -- stated bounds, categorical states, findings, methods, qualifiers, contradictions -------
@pytest.mark.parametrize("fact_cmp, value, expected", [(">", 12, "met"), (">", 3 * 4, "met"), ("<", 4, "not_met"), ("<", 20, "unknown"), (None, 12, "not_met")])
def test_a_stated_bound_is_an_interval(fact_cmp, value, expected):
    # "Anticipated survival > 12 wk" satisfies "more than 12 weeks"; "< 20 weeks" cannot tell
    r = run("Inclusion Criteria:\n- Expected survival more than 12 weeks", [fact("life_expectancy", value, "weeks", comparator=fact_cmp)])
    assert status(r) == expected


def test_a_range_fully_inside_meets_and_straddling_is_unknown():
    text = "Inclusion Criteria:\n- LVEF ≥ 50%"
    assert status(run(text, [fact("lvef", 55, "%", value2=60)])) == "met"
    assert status(run(text, [fact("lvef", 45, "%", value2=55)])) == "unknown"


@pytest.mark.parametrize("value, expected", [("signed", "met"), ("pending", "unknown"), ("declined", "not_met")])
def test_consent_states(value, expected):
    assert status(run("Inclusion Criteria:\n- Signed informed consent", [fact("informed_consent", value)])) == expected


@pytest.mark.parametrize("value, expected", [("normal", "met"), ("abnormal", "not_met")])
def test_an_ecg_result_answers_no_ecg_abnormality(value, expected):
    r = run("Inclusion Criteria:\n- No obvious abnormality in the electrocardiogram", [fact("ecg", value, text="NSR")])
    assert status(r) == expected


def test_required_method():
    text = "Inclusion Criteria:\n- CD123 expression detected by flow cytometry"
    assert status(run(text, [fact("cd123", "positive", method="flow cytometry")])) == "met"
    r = run(text, [fact("cd123", "positive", method="IHC")])
    assert status(r) == "unknown" and "not by flow cytometry" in reason(r)


def test_severity_qualifier_must_be_confirmed():
    text = "Inclusion Criteria:\n- No serious mental disorders"
    assert status(run(text, [fact("anxiety", text="GAD")])) == "unknown"
    assert status(run(text, [fact("schizophrenia")])) == "not_met"  # serious by nature


def test_newest_status_statement_wins():
    text = "Inclusion Criteria:\n- Relapsed AML"
    facts = [fact("aml"), fact("relapse", date="2026-08-01"), fact("relapse", assertion="absent", date="2026-10-01", text="never relapsed")]
    r = run(text, facts)
    assert status(r, "I1") == "not_met"


def test_newly_diagnosed_rules_out_relapse_and_other_diagnosis_rules_out_aml():
    r = run("Inclusion Criteria:\n- Relapsed AML", [fact("aml"), fact("newly_diagnosed", text="new diagnosis")])
    assert status(r) == "not_met" and "newly diagnosed" in reason(r)
    r = run("Inclusion Criteria:\n- Acute myeloid leukemia", [fact("mds", text="MDS-EB2")])
    assert status(r) == "not_met" and "myelodysplastic" in reason(r)
    r = run("Inclusion Criteria:\n- Acute myeloid leukemia", [fact("mds"), fact("aml_mrc", text="AML-MRC")])
    assert status(r) == "met"


def test_pregnancy_exclusion_needs_checking_for_a_young_woman_only():
    text = "Exclusion Criteria:\n- Pregnant or breastfeeding women"
    assert status(run(text, [fact("sex", "female"), fact("age", 31, "years")]), "E1") == "unknown"
    assert status(run(text, [fact("sex", "female"), fact("age", 67, "years")]), "E1") == "not_met"
    assert status(run(text, [fact("sex", "male"), fact("age", 31, "years")]), "E1") == "not_met"


def test_family_history_criterion_reads_relatives_only():
    text = "Inclusion Criteria:\n- Family history of acute myeloid leukemia"
    assert status(run(text, [fact("aml", assertion="family", text="mother had AML")])) == "met"
    assert status(run(text, [fact("aml", text="AML")])) == "unknown"


def test_unconfirmed_qualifier_on_an_exclusion_is_not_evidence():
    r = run("Exclusion Criteria:\n- Uncontrolled hypertension", [fact("hypertension", text="HTN on amlodipine")])
    assert status(r, "E1") == "not_met" and "not stated to be uncontrolled" in reason(r, "E1")


def test_negated_exclusion_with_documented_agreement():
    r = run("Exclusion Criteria:\n- Unable to give informed consent", [fact("informed_consent", "agreed", text="will provide informed consent")])
    assert status(r, "E1") == "not_met"


def test_mild_or_stable_denies_a_severity_qualifier():
    text = "Inclusion Criteria:\n- No serious mental disorders"
    note = "PMH: GAD - stable on sertraline for years, never hospitalized."
    f = fact("anxiety", text="GAD")
    f = f.model_copy(update={"span": (5, 8), "sentence": (0, len(note))})
    protocol = parse_protocol(text, "T1")
    record = PatientRecord("P1", [f], {"n1": NoteInfo("n1", note, "2026-03-12")})
    r = match_records([protocol], [record])[0]
    assert status(r) == "met" and "stable" in reason(r)
