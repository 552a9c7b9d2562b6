"""Matching that reads more than a literal mention: washout windows ("at least 4 weeks since
prior chemotherapy"), vital signs stated in words ("tachycardic"), the first value of a
measurement, relatives' diagnoses, list quantifiers, implications and current-only states.
Each case runs the real parser and, where a note is given, the real notes pipeline."""

from __future__ import annotations

import pytest

from matcher.api import match
from nlp.criteria import parse_protocol
from tests.test_matcher_logic import fact, reason, run, status


def screen(criteria: str, note: str, date: str = "2026-03-12") -> tuple[str, str]:
    """(status, reason) of the first criterion for one patient with one note."""
    result = match(parse_protocol(criteria, "T1"), [{"patient_id": "P1", "note_id": "n1", "text": note, "date": date}])[0]
    top = result.criteria[0]
    return top.status, top.reason


def expect(criteria: str, note: str, expected: str) -> str:
    """Screen one note and check the first criterion's status; returns the reason."""
    got, why = screen(criteria, note)
    assert got == expected, why
    return why


def constraints(criteria: str):
    return [c for n in parse_protocol(criteria, "T1").walk() for c in n.constraints]


# -- washout windows --------------------------------------------------------------------------
WASHOUT = "Inclusion Criteria:\n- At least 4 weeks since prior chemotherapy"


def test_washout_window_names_its_own_event():
    (c,) = constraints(WASHOUT)
    assert c.concept.id == "chemotherapy"
    assert (c.temporal.comparator, c.temporal.value, c.temporal.unit) == (">=", 4, "weeks")
    assert c.text == "At least 4 weeks since prior chemotherapy"


@pytest.mark.parametrize("chemo_date, expected", [
    (None, "met"),              # no chemotherapy at all: nothing to wait for
    ("2026-01-02", "met"),      # 69 days before the note
    ("2026-02-12", "met"),      # exactly 28 days: >= includes the boundary
    ("2026-02-20", "not_met"),  # 20 days: too recent
])
def test_washout_window_counts_days_since_the_event(chemo_date, expected):
    facts = [] if chemo_date is None else [fact("chemotherapy", date=chemo_date, text="decitabine")]
    result = run(WASHOUT, facts)
    assert status(result) == expected, reason(result)


def test_exclusion_window_since_event_keeps_within_semantics():
    criteria = "Exclusion Criteria:\n- Less than 6 months since last chemotherapy"
    assert status(run(criteria, [fact("chemotherapy", date="2026-01-20")]), "E1") == "met"
    outside = run(criteria, [fact("chemotherapy", date="2025-01-20")])
    assert status(outside, "E1") == "not_met"
    assert "outside the window" in reason(outside, "E1")


def test_negated_window_with_an_older_event_says_so():
    result = run("Inclusion Criteria:\n- No chemotherapy within 14 days prior to enrollment",
                 [fact("chemotherapy", date="2026-01-05")])
    assert status(result) == "met"
    assert "outside the window" in reason(result) and "not documented" not in reason(result)


# -- vital signs stated in words ----------------------------------------------------------------
@pytest.mark.parametrize("criterion, expected", [
    ("Inclusion Criteria:\n- Heart rate of at least 90/min", "met"),
    ("Inclusion Criteria:\n- Heart rate below 60 bpm", "not_met"),
    ("Inclusion Criteria:\n- Heart rate above 120 bpm", "unknown"),  # > 100 does not settle > 120
    ("Inclusion Criteria:\n- Respiratory rate of at least 20/min", "met"),
])
def test_signs_in_words_bound_unrecorded_vitals(criterion, expected):
    note = "On examination she is pale and in moderate discomfort, tachypneic and tachycardic."
    why = expect(criterion, note, expected)
    assert "the note says" in why


def test_hypotension_in_words_settles_a_systolic_exclusion():
    expect("Exclusion Criteria:\n- Systolic blood pressure < 100 mm Hg", "Hypotensive and confused on arrival.", "met")


def test_a_recorded_value_wins_over_words():
    why = expect("Inclusion Criteria:\n- Heart rate of at least 90/min", "Tachycardic earlier; now HR 72 bpm at rest.", "not_met")
    assert "72" in why


def test_a_denied_sign_bounds_the_other_way():
    note = "Not tachycardic. Lungs clear."
    got, why = screen("Inclusion Criteria:\n- Heart rate of at least 90/min", note)
    assert got == "unknown", why  # <= 100/min does not settle >= 90
    expect("Exclusion Criteria:\n- Heart rate above 120 bpm", note, "not_met")


def test_afebrile_is_fever_absent_on_both_sides():
    note = "She is afebrile, vitals otherwise not recorded. Lungs clear."
    criterion = "Exclusion Criteria:\n- Active infection or fever > 38.5 C"
    result = match(parse_protocol(criterion, "T1"), [{"patient_id": "P1", "note_id": "n1", "text": note}])[0]
    assert result.criteria[0].status == "not_met"
    temperature = [c for c in result.criteria if "afebrile" in c.reason]
    assert temperature and temperature[0].status == "not_met", [c.reason for c in result.criteria]
    (c,) = constraints("Inclusion Criteria:\n- Patients must be afebrile")
    assert (c.concept.id, c.negated) == ("fever", True)
    assert screen("Inclusion Criteria:\n- Patients must be afebrile", note)[0] == "met"
    assert screen("Inclusion Criteria:\n- Patients must be afebrile", "Febrile to 39.2 C overnight.")[0] == "not_met"


def test_a_threshold_on_a_sign_is_on_its_measurement():
    (c,) = constraints("Exclusion Criteria:\n- Fever > 38.5 C")
    assert (c.concept.id, c.comparator, c.value) == ("temperature", ">", 38.5)


# -- which value counts ---------------------------------------------------------------------------
def test_initial_value_is_the_first_recorded_one():
    note = ("At 11 weeks gestation she has a hemoglobin (Hb) of 9.0 g/dL. "
            "Two weeks later the Hb is 8.9 g/dL.")
    got, why = screen("Exclusion Criteria:\n- Initial haemoglobin concentration <90 g/L", note)
    assert got == "not_met", why  # 9.0 g/dL = 90 g/L is not < 90
    assert "First recorded value" in why
    newest, _ = screen("Exclusion Criteria:\n- Haemoglobin concentration <90 g/L", note)
    assert newest == "met"  # without "initial" the newest value (89 g/L) counts


# -- who has it ------------------------------------------------------------------------------------------
def test_relatives_count_is_not_the_patients_own_diagnosis():
    criterion = "Inclusion Criteria:\n- have at least one biological parent diagnosed as bipolar disorder"
    own, why = screen(criterion, "A 26-year-old woman with a history of bipolar disorder.")
    assert own == "unknown", why
    family, why = screen(criterion, "Her mother has bipolar disorder. She takes no medications.")
    assert family == "met", why


# -- list quantifiers and populations -------------------------------------------------------------------
def test_one_or_more_of_a_list_is_any():
    criteria = ("Inclusion Criteria:\n- Clinical diagnosis of one or more risk factors, such as diabetes, smoking habit, "
                "obesity (BMI>25), chronic heart failure (NYHA II-III), and electrocardiogram abnormalities")
    protocol = parse_protocol(criteria, "T1")
    node = protocol.criteria[0]
    logic = {n.logic for n in node.walk() if n.constraints}
    assert logic == {"any"}
    assert not any(c.comparator for n in node.walk() for c in n.constraints if c.concept.id == "diabetes")
    expect(criteria, "She is known to have hypertension and obesity. She denies smoking and diabetes.", "met")


def test_sex_is_a_population_not_an_alternative():
    criteria = "Exclusion Criteria:\n- Woman planning to leave the area or to be absent in the course of the pregnancy"
    assert parse_protocol(criteria, "T1").criteria[0].logic == "all"
    expect(criteria, "A 30-year-old woman seen for a sore throat.", "not_met")


def test_boilerplate_after_a_sex_statement_is_no_requirement():
    (c,) = constraints("Inclusion Criteria:\n- Both genders are eligible for study")
    assert (c.concept.id, c.value) == ("sex", "any")


def test_diagnostic_criteria_say_how_not_what():
    (c,) = constraints("Inclusion Criteria:\n- patients with bipolar disorders (I, II, NOS) diagnosed with DSM-IV criteria")
    assert c.concept.id == "bipolar_disorder"


# -- implications and current states ------------------------------------------------------------------
def test_immunosuppressive_medication_establishes_immunocompromise():
    criterion = "Exclusion Criteria:\n- Diagnosis or suspicion of immunodeficiency state"
    why = expect(criterion, "He is on immunosuppressive medications, including prednisone.", "met")
    assert "implication" in why
    got, _ = screen(criterion, "He takes no immunosuppressive medications.")
    assert got == "not_met"  # absence of the drug is no evidence either way: the absence policy decides


def test_a_past_pregnancy_is_not_a_current_one():
    criterion = "Exclusion Criteria:\n- Pregnant or breastfeeding women"
    got, why = screen(criterion, "A 34-year-old woman, G3P2, two prior pregnancies, on day 20 of her cycle.")
    assert got != "met", why
    expect(criterion, "A 27-year-old woman at 11 weeks gestation in her second pregnancy.", "met")


def test_smoking_status_decides_a_non_smoker_requirement():
    criterion = "Inclusion Criteria:\n- non smoker"
    assert screen(criterion, "She has smoked 1 to 2 packs per day for the past 47 years.")[0] == "not_met"
    assert screen(criterion, "She denies smoking, alcohol or drug use.")[0] == "met"


def test_gestational_age_is_read_value_first():
    note = "A 27-year-old woman at 11 weeks gestation in her second pregnancy is found to have a hemoglobin of 9.0 g/dL."
    expect("Inclusion Criteria:\n- Pregnant, with gestational age <23 weeks", note, "met")
    why = expect("Inclusion Criteria:\n- Gestational age of at least 24 weeks", "She is 32 weeks pregnant with twins.", "met")
    assert "32" in why


def test_documented_pregnancy_status_ends_the_childbearing_check():
    criterion = "Exclusion Criteria:\n- Obstetric history suggestive of eclampsia or pre-eclampsia"
    unknown_status, why = screen(criterion, "A 29-year-old woman with migraine.")
    assert unknown_status == "unknown", why  # may be pregnant: to be checked
    known, why = screen(criterion, "A 27-year-old woman at 11 weeks gestation in her second pregnancy.")
    assert known == "not_met", why


def test_a_required_washout_of_a_drug_class_is_met_without_the_drug():
    criterion = ("Inclusion Criteria:\n- Patient must discontinue taking any Nonsteroidal anti-inflammatory drugs (NSAIDS) "
                 "within one month of treatment initiation.")
    assert all(c.negated for c in constraints(criterion))
    assert screen(criterion, "A 21-year-old college student with colonic polyps. No medications.")[0] == "met"
    assert screen(criterion, "He takes ibuprofen 400 mg daily for knee pain.")[0] == "not_met"


def test_compliance_statement_meets_a_compliance_requirement():
    got, why = screen("Inclusion Criteria:\n- Patient compliant with study procedures.",
                      "The patient will provide informed consent, and will comply with the trial protocol.")
    assert got == "met", why


def test_memory_loss_is_cognitive_impairment_and_admission_is_an_anchor():
    criterion = "Inclusion Criteria:\n- Cognitive impairment based on screening at time of hospital admission"
    (c,) = constraints(criterion)
    assert c.concept.id == "cognitive_impairment" and c.temporal is not None
    expect(criterion, "An 89-year-old man with six months of poor memory and difficulty expressing himself.", "met")
    assert screen(criterion, "An 89-year-old man with a hip fracture. Alert and oriented.")[0] == "unknown"


@pytest.mark.parametrize("note, assertion", [
    ("An 89-year-old man was brought to the emergency department by his wife and son after six months of poor memory.", "present"),
    ("His daughter reports that he has had poor memory for a year.", "present"),
    ("His mother had poor memory in her last years.", "family"),
])
def test_an_informant_is_not_family_history(note, assertion):
    from nlp.pipeline import extract_note

    facts = [f for f in extract_note(note, "n1") if f.concept.id == "cognitive_impairment"]
    assert [f.assertion for f in facts] == [assertion]


def test_a_pregnancy_test_also_ends_the_childbearing_check():
    criterion = "Exclusion Criteria:\n- Pregnant or breastfeeding women"
    assert screen(criterion, "A 29-year-old woman with migraine.")[0] == "unknown"
    expect(criterion, "A 29-year-old woman with migraine. Urine pregnancy test negative today.", "not_met")


def test_including_after_a_count_is_a_requirement_not_a_list_of_examples():
    criterion = "Inclusion Criteria:\n- At least one prior chemotherapy regimen including an anthracycline"
    node = parse_protocol(criterion, "T1").criteria[0]
    assert {n.logic for n in node.walk() if n.constraints} == {"all"}
    assert {c.concept.id for c in node.constraints} == {"chemotherapy", "anthracycline"}


@pytest.mark.parametrize("surgery_text, surgery_date, expected", [
    ("major abdominal surgery", "2026-03-01", "not_met"),  # 11 days ago, and major
    ("laparoscopic surgery", "2026-03-01", "unknown"),     # 11 days ago, major not stated
    ("laparoscopic surgery", "2025-12-01", "met"),         # long enough ago, whatever it was
])
def test_washout_of_a_qualified_event(surgery_text, surgery_date, expected):
    criterion = "Inclusion Criteria:\n- Minimum of two weeks since any major surgery"
    (c,) = constraints(criterion)
    assert c.qualifiers == ["major"]
    record_note = f"Patient had {surgery_text} on {surgery_date}."
    result = match(parse_protocol(criterion, "T1"), [{"patient_id": "P1", "note_id": "n1", "text": record_note,
                                                      "date": "2026-03-12"}])[0]
    assert result.criteria[0].status == expected, result.criteria[0].reason


# -- classification criteria ------------------------------------------------------------------
LUPUS_NOTE = ("A 24-year-old woman with fatigue. Exam: patchy alopecia and swollen wrists. "
              "Labs: thrombocytopenia (platelets 82 K/uL), positive ANA and anti-dsDNA.")


@pytest.mark.parametrize("criterion", [
    "Inclusion Criteria:\n- Patients with systemic lupus erythematosus",
    "Inclusion Criteria:\n- History of autoimmune disease",
    "Inclusion Criteria:\n- Fulfil at least 4 criteria for SLE",
    "Inclusion Criteria:\n- Active SLE",  # its items are current findings
])
def test_a_condition_is_established_by_its_classification_criteria(criterion):
    why = expect(criterion, LUPUS_NOTE, "met")
    assert "SLICC" in why


@pytest.mark.parametrize("note", [
    # three items only
    "A 24-year-old woman. Exam: patchy alopecia. Labs: thrombocytopenia, positive ANA.",
    # four items, but no immunologic one
    "A 24-year-old woman. Exam: alopecia, oral ulcers, pleuritis. Labs: thrombocytopenia.",
    # a negative test is no item
    "A 24-year-old woman. Exam: alopecia. Labs: thrombocytopenia; ANA negative; anti-dsDNA negative; oral ulcers.",
])
def test_too_few_classification_items_leave_the_condition_undocumented(note):
    expect("Inclusion Criteria:\n- Patients with systemic lupus erythematosus", note, "unknown")


def test_a_relatives_lupus_does_not_hide_the_patients_own_items():
    expect("Inclusion Criteria:\n- Patients with systemic lupus erythematosus", LUPUS_NOTE + " Her mother has lupus.", "met")


def test_a_lupus_diagnosis_denied_in_words_is_not_overruled_by_its_items():
    expect("Exclusion Criteria:\n- Systemic lupus erythematosus", LUPUS_NOTE + " No history of lupus.", "not_met")


# -- absence policy for requirements the lexicon does not know ----------------------------------
@pytest.mark.parametrize("note, expected", [
    ("A 67-year-old woman with a pulsatile groin mass after cardiac catheterization.", "met"),
    ("A 67-year-old woman. Central vena catheterization in 2019 for dialysis access.", "unknown"),
])
def test_a_negated_unknown_requirement_gets_the_absence_policy_of_negated_requirements(note, expected):
    criterion = "Inclusion Criteria:\n- No medical history of central vena catheterization."
    expect(criterion, note, expected)


@pytest.mark.parametrize("criterion, expected", [
    ("Inclusion Criteria:\n- CMV seropositive", "met"),
    ("Exclusion Criteria:\n- CMV seronegative", "not_met"),
])
def test_a_cmv_infection_establishes_cmv_seropositivity(criterion, expected):
    # owl's eye inclusion bodies are the pathognomonic cytopathic effect of CMV
    note = "BAL fluid examination reveals owl's eye inclusion bodies in the nuclei of infected cells."
    why = expect(criterion, note, expected)
    assert "cytomegalovirus infection" in why


def test_a_stated_negative_cmv_serology_is_seronegative():
    expect("Inclusion Criteria:\n- CMV seropositive", "Serologies: CMV IgG negative, EBV IgG positive.", "not_met")


# -- presumed short-term survival --------------------------------------------------------------
@pytest.mark.parametrize("criterion, note, expected", [
    ("Life expectancy longer than 48 hours", "32F after a car accident, alert. BP 134/74 mm Hg, pulse 87/min.", "met"),
    ("Life expectancy longer than 48 hours", "33M with spleen rupture. BP: 60/30 mmHg, HR: 140/min.", "unknown"),
    ("Life expectancy longer than 48 hours", "78M with metastatic cancer, now on comfort measures only.", "unknown"),
    ("Life expectancy of at least 12 weeks", "32F after a car accident, alert. BP 134/74 mm Hg.", "unknown"),
    ("Life expectancy longer than 48 hours", "Life expectancy is estimated at 24 hours.", "not_met"),
])
def test_a_short_life_expectancy_is_presumed_only_for_a_patient_not_in_a_critical_state(criterion, note, expected):
    expect(f"Inclusion Criteria:\n- {criterion}", note, expected)


@pytest.mark.parametrize("criterion, note, expected", [
    # the cause is a qualifier: a dyspnea of unstated cause does not prove a traumatic one
    ("Exclusion Criteria:\n- Patients presenting with a traumatic cause of dyspnea",
     "58M with two days of shortness of breath and pleuritic chest pain.", "not_met"),
    ("Exclusion Criteria:\n- Patients presenting with a traumatic cause of dyspnea",
     "58M with shortness of breath after traumatic rib fractures in a fall.", "met"),
    # an injury is traumatic by nature, whatever words the note uses
    ("Inclusion Criteria:\n- Traumatic brain injury", "History of TBI after a fall in 2019.", "met"),
    # "non-traumatic" is part of the name, not the qualifier "traumatic"
    ("Exclusion Criteria:\n- Non-traumatic subarachnoid hemorrhage", "Prior nontraumatic subarachnoid hemorrhage.", "met"),
])
def test_a_traumatic_cause_is_a_qualifier(criterion, note, expected):
    expect(criterion, note, expected)


# -- pain scores ---------------------------------------------------------------------------------
@pytest.mark.parametrize("note, expected", [
    ("Pain 7/10 in the right arm.", "met"),
    ("Pain: 2/10 at rest.", "not_met"),
    ("Presents with excruciating pain in her right arm.", "met"),      # severe: 7-10
    ("Complains of mild pain in the knee.", "not_met"),                  # mild: 1-3
    ("Moderate pain after the fall.", "met"),                             # moderate: 4-6
    ("Seen in clinic on 3/10 for follow-up.", "unknown"),                # a date, not a score
])
def test_pain_scores_in_numbers_and_words(note, expected):
    expect("Inclusion Criteria:\n- Reported pain greater than or equal to 4 out of 10", note, expected)


@pytest.mark.parametrize("note, expected", [
    ("A group of 14 aid workers is preparing a trip; three of the women are in different stages of pregnancy.", "unknown"),
    ("A 29-year-old aid worker preparing a trip; she is in her second pregnancy.", "met"),
])
def test_members_of_a_group_are_other_people(note, expected):
    # "three of the women" are others, not the patient: the pregnancy is not hers
    expect("Exclusion Criteria:\n- Obvious pregnancy", note, expected)
