"""The protocol parser on the constructs of issue 2, with ClinicalTrials.gov-style phrasings."""

from __future__ import annotations

import pytest

from nlp.criteria import parse_protocol


def leaves(protocol):
    return [n for n in protocol.walk() if not n.children]


def constraints(text: str):
    p = parse_protocol(text)
    return [c for n in p.walk() for c in n.constraints]


def only(text: str, label: str):
    found = [c for c in constraints(text) if c.concept.label == label]
    assert len(found) == 1, [(c.concept.label, c.text) for c in constraints(text)]
    return found[0]


@pytest.mark.parametrize("text, label, comparator, value, value2, unit", [
    ("Inclusion Criteria:\n- Age ≥ 18 years", "age", ">=", 18, None, "years"),
    ("Inclusion Criteria:\n- Aged 18 years or older", "age", ">=", 18, None, "years"),
    ("Inclusion Criteria:\n- At least 18 years of age at the time of signing consent", "age", ">=", 18, None, "years"),
    ("Inclusion Criteria:\n- Men and women between 18 and 75 years of age, inclusive", "age", "between", 18, 75, "years"),
    ("Inclusion Criteria:\n- Age 18-70 years old", "age", "between", 18, 70, "years"),
    ("Inclusion Criteria:\n- ECOG performance status 0~2", "ECOG performance status", "between", 0, 2, None),
    ("Inclusion Criteria:\n- Eastern Cooperative Oncology Group (ECOG) performance status of two or less", "ECOG performance status", "<=", 2, None, None),
    ("Inclusion Criteria:\n- Karnofsky performance status ≥ 70%", "Karnofsky performance status", ">=", 70, None, "%"),
    ("Inclusion Criteria:\n- Life expectancy of at least three (3) months", "life expectancy", ">=", 3, None, "months"),
    ("Inclusion Criteria:\n- Expected survival more than 12 weeks", "life expectancy", ">", 12, None, "weeks"),
    ("Inclusion Criteria:\n- Absolute neutrophil count ≥ 1.5 x 10^9/L", "absolute neutrophil count", ">=", 1.5, None, "x10^9/L"),
    ("Inclusion Criteria:\n- Platelets >= 100,000/mm3", "platelet count", ">=", 100000, None, "/µL"),
    ("Inclusion Criteria:\n- Hemoglobin ≥ 9 g/dL", "hemoglobin", ">=", 9, None, "g/dL"),
    ("Inclusion Criteria:\n- Serum creatinine ≤ 1.5 mg/dL", "creatinine", "<=", 1.5, None, "mg/dL"),
    ("Inclusion Criteria:\n- Serum creatinine < 133 µmol/L", "creatinine", "<", 133, None, "µmol/L"),
    ("Inclusion Criteria:\n- Creatinine clearance > 60 mL/min", "creatinine clearance", ">", 60, None, "mL/min"),
    ("Inclusion Criteria:\n- Total bilirubin not exceeding 1.5 x ULN", "total bilirubin", "<=", 1.5, None, "x ULN"),
    ("Inclusion Criteria:\n- AST no more than 2.5 times the upper limit of normal", "aspartate aminotransferase", "<=", 2.5, None, "x ULN"),
    ("Inclusion Criteria:\n- ALT < 3 x ULN", "alanine aminotransferase", "<", 3, None, "x ULN"),
    ("Inclusion Criteria:\n- Total bilirubin ≤ ULN", "total bilirubin", "<=", 1, None, "x ULN"),
    ("Inclusion Criteria:\n- Left ventricular ejection fraction (LVEF) ≥ 45% by echocardiogram or MUGA", "left ventricular ejection fraction", ">=", 45, None, "%"),
    ("Inclusion Criteria:\n- HbA1c <= 9 %", "hemoglobin A1c", "<=", 9, None, "%"),
    ("Exclusion Criteria:\n- QTc > 470 msec", "corrected QT interval", ">", 470, None, "ms"),
    ("Exclusion Criteria:\n- Received more than 3 prior lines of therapy", "anticancer therapy", ">", 3, None, "lines"),
    ("Inclusion Criteria:\n- Blood oxygen saturation \\> 92%.", "oxygen saturation", ">", 92, None, "%"),
])
def test_threshold_phrasings(text, label, comparator, value, value2, unit):
    c = only(text, label)
    assert (c.comparator, c.value, c.value2, c.unit) == (comparator, value, value2, unit)
    assert text[c.span[0]:c.span[1]] == c.text


def test_two_thresholds_on_one_concept_stay_two_constraints():
    text = "Inclusion Criteria:\n- Children aged ≥ 24 months and ≤ 36 months"
    ages = [c for c in constraints(text) if c.concept.label == "age"]
    assert [(c.comparator, c.value, c.unit) for c in ages] == [(">=", 24, "months"), ("<=", 36, "months")]


def test_shared_threshold_gives_one_constraint_per_lab():
    cs = constraints("Inclusion Criteria:\n- AST, ALT and alkaline phosphatase ≤ 2.5 × institutional ULN")
    assert [(c.concept.label, c.comparator, c.value, c.unit) for c in cs] == [
        ("aspartate aminotransferase", "<=", 2.5, "x ULN"),
        ("alanine aminotransferase", "<=", 2.5, "x ULN"),
        ("alkaline phosphatase", "<=", 2.5, "x ULN"),
    ]


@pytest.mark.parametrize("text, label, comparator, value, unit, anchor", [
    ("Exclusion Criteria:\n- Myocardial infarction within 6 months prior to enrollment", "myocardial infarction", "<=", 6, "months", "study entry"),
    ("Exclusion Criteria:\n- Chemotherapy in the past 4 weeks", "chemotherapy", "<=", 4, "weeks", None),
    ("Exclusion Criteria:\n- Major surgery within 28 days of the first dose of study drug", "surgery", "<=", 28, "days", "study entry"),
    ("Inclusion Criteria:\n- Relapse within 12 months after CR", "relapse", "<=", 12, "months", "complete remission"),
    ("Exclusion Criteria:\n- Radiotherapy less than 3 months before randomization", "radiotherapy", "<", 3, "months", "study entry"),
    ("Inclusion Criteria:\n- Type 2 diabetes mellitus for at least 2 years", "diabetes mellitus", ">=", 2, "years", None),
])
def test_time_windows(text, label, comparator, value, unit, anchor):
    c = only(text, label)
    t = c.temporal
    assert t is not None
    assert (t.comparator, t.value, t.unit, t.anchor) == (comparator, value, unit, anchor)
    days = {"months": 365 / 12, "weeks": 7, "days": 1, "years": 365}[unit] * value
    assert t.days == pytest.approx(round(days)) or t.days == pytest.approx(days, rel=1e-3)
    assert text[t.span[0]:t.span[1]] == t.text


def test_anchor_only_window():
    c = only("Exclusion Criteria:\n- Use of live vaccines prior to enrollment", "live vaccine")
    assert c.temporal.anchor == "study entry" and c.temporal.value is None


@pytest.mark.parametrize("text, label", [
    ("Inclusion Criteria:\n- No serious mental disorders", "mental disorder"),
    ("Inclusion Criteria:\n- Without active CNS involvement", "CNS involvement"),
    ("Inclusion Criteria:\n- Absence of uncontrolled infection", "infection"),
    ("Inclusion Criteria:\n- Free of hepatitis B infection", "hepatitis B"),
    ("Inclusion Criteria:\n- No history of myocardial infarction", "myocardial infarction"),
    ("Inclusion Criteria:\n- HIV negative", "HIV infection"),
])
def test_negated_requirements_keep_their_section(text, label):
    p = parse_protocol(text)
    node = p.criteria[0]
    assert node.kind == "inclusion"
    c = only(text, label)
    assert c.negated is True
    assert text[c.span[0]:c.span[1]] == c.text


def test_negation_covers_a_coordinated_list_but_not_a_later_threshold():
    cs = constraints("Exclusion Criteria:\n- No history of stroke, TIA or myocardial infarction")
    assert all(c.negated for c in cs) and len(cs) == 3
    cs = constraints("Inclusion Criteria:\n- Gender is not limited, age 18-75 years old")
    age = [c for c in cs if c.concept.label == "age"][0]
    assert age.negated is False


def test_exception_with_its_own_threshold():
    text = "Inclusion Criteria:\n- Total bilirubin ≤ 1.5 × ULN (≤ 3 × ULN for patients with Gilbert's syndrome)"
    c = only(text, "total bilirubin")
    assert len(c.exceptions) == 1
    x = c.exceptions[0]
    assert (x.condition.label, x.comparator, x.value, x.unit) == ("Gilbert syndrome", "<=", 3, "x ULN")
    assert text[x.span[0]:x.span[1]] == x.text


def test_conditional_threshold_for_liver_metastases():
    text = "Inclusion Criteria:\n- AST and ALT ≤ 2.5 × ULN (≤ 5 × ULN if liver metastases are present)"
    for label in ("aspartate aminotransferase", "alanine aminotransferase"):
        c = only(text, label)
        assert (c.comparator, c.value) == ("<=", 2.5)
        assert [(x.comparator, x.value) for x in c.exceptions] == [("<=", 5)]


def test_exception_without_threshold():
    text = "Exclusion Criteria:\n- Other malignancy within 5 years, except adequately treated basal cell carcinoma of the skin"
    c = only(text, "malignancy")
    assert c.temporal.value == 5
    assert c.exceptions and c.exceptions[0].condition.label == "non-melanoma skin cancer"


def test_sections_headers_and_kinds():
    text = ("Key Inclusion Criteria:\n- Age ≥ 18 years\n- ECOG 0-1\n\n"
            "Key Exclusion Criteria:\n- Prior allogeneic stem cell transplant\n- Active hepatitis B")
    p = parse_protocol(text)
    assert [n.kind for n in p.criteria] == ["inclusion", "inclusion", "exclusion", "exclusion"]
    assert [n.id for n in p.criteria] == ["I1", "I2", "E1", "E2"]
    assert [s.kind for s in p.sections] == ["inclusion", "exclusion"]
    assert p.preamble_span is None


@pytest.mark.parametrize("header, kind", [
    ("INCLUSION CRITERIA", "inclusion"),
    ("Inclusion criteria are:", "inclusion"),
    ("Patients must meet all of the following criteria to be eligible:", "inclusion"),
    ("Subjects will be excluded if they meet any of the following:", "exclusion"),
    ("Patients meeting any of the following criteria will be excluded from the study:", "exclusion"),
    ("EXCLUSION CRITERIA:", "exclusion"),
    ("Non-inclusion criteria:", "exclusion"),
])
def test_header_variants(header, kind):
    p = parse_protocol(f"{header}\n- Age ≥ 18 years\n- Signed informed consent")
    assert [n.kind for n in p.criteria] == [kind, kind]
    assert p.sections and p.sections[0].kind == kind


def test_plain_lines_without_headers_are_all_criteria():
    text = "Women aged 25-75 years old.\nPast history of claustrophobia.\nWomen who are pregnant or lactating"
    p = parse_protocol(text)
    assert p.preamble_span is None
    assert len(p.criteria) == 3 and all(n.kind == "inclusion" for n in p.criteria)


def test_inline_stripped_text_is_split():
    text = ("Inclusion Criteria: - Age ≥ 18 years - ECOG performance status 0 or 1 - Adequate organ function "
            "- Signed informed consent Exclusion Criteria: - Prior treatment with venetoclax - Active CNS disease "
            "- Pregnant or breastfeeding women")
    p = parse_protocol(text)
    kinds = [n.kind for n in p.criteria]
    assert kinds.count("inclusion") == 4 and kinds.count("exclusion") == 3


def test_cohort_blocks_scope_the_criteria():
    text = "Inclusion Criteria:\nDonor:\n- Age 18-60 years\n- HLA-matched sibling\nRecipient:\n- Age ≥ 18 years\n- AML in CR1"
    p = parse_protocol(text)
    assert [n.cohort for n in p.criteria] == ["Donor", "Donor", "Recipient", "Recipient"]
    assert [s.kind for s in p.sections] == ["inclusion", "cohort", "cohort"]


def test_numbering_nesting_and_any_of_the_following():
    text = ("Exclusion Criteria:\n1. Any of the following cardiac conditions:\n   a. Myocardial infarction within 6 months\n"
            "   b. NYHA class III or IV heart failure\n   c. Uncontrolled arrhythmia\n2. Active hepatitis B or C")
    p = parse_protocol(text)
    e1 = p.criteria[0]
    assert e1.id == "E1" and e1.logic == "any"
    assert [c.id for c in e1.children] == ["E1.a", "E1.b", "E1.c"]
    e2 = p.criteria[1]
    assert e2.logic == "any" and {c.concept.label for c in e2.constraints} == {"hepatitis B", "hepatitis C"}


def test_roman_and_decimal_numbering():
    text = "Inclusion Criteria:\n1.1 Age ≥ 18 years\n1.2 Signed informed consent\n2. Adequate organ function:\n   i. ANC ≥ 1.0 x 10^9/L\n   ii. Platelets ≥ 75 x 10^9/L"
    p = parse_protocol(text)
    ids = [n.id for n in p.walk()]
    assert "I3.i" in ids and "I3.ii" in ids


def test_line_with_several_requirements_is_split():
    p = parse_protocol("Inclusion Criteria:\n- No serious mental disorders; adequate bone marrow function: ANC ≥ 1.5 x 10^9/L")
    node = p.criteria[0]
    assert len(node.children) == 2
    assert node.children[0].constraints[0].negated is True


def test_markdown_escapes_crlf_and_bullets():
    text = "Inclusion Criteria:\r\n⁃ 1\\. Age \\>= 18 years\r\n• 2\\) ECOG 0-2\r\n* Signed informed consent\r\n"
    p = parse_protocol(text)
    assert [n.id for n in p.criteria] == ["I1", "I2", "I3"]
    c = p.criteria[0].constraints[0]
    assert (c.comparator, c.value) == (">=", 18) and text[c.span[0]:c.span[1]] == c.text == "Age \\>= 18 years"


def test_status_reflects_what_was_understood():
    p = parse_protocol("Inclusion Criteria:\n- Age ≥ 18 years\n- Able to swallow tablets whole\n- Widget score > 4")
    assert [n.status for n in p.criteria] == ["parsed", "unsupported", "partial"]


def test_concept_codes_and_domains():
    c = only("Inclusion Criteria:\n- Diagnosis of acute myeloid leukemia (AML)", "acute myeloid leukemia")
    assert c.concept.domain == "condition"
    assert {"system": "ICD-10-CM", "code": "C92.00"} in [x.model_dump() for x in c.concept.codes]


def test_fuzzy_near_miss_is_recognized():
    c = only("Inclusion Criteria:\n- Alanine aminotransferease ≤ 3 x ULN", "alanine aminotransferase")
    assert (c.comparator, c.value) == ("<=", 3)


def test_or_run_becomes_an_any_child_and_window_covers_the_list():
    p = parse_protocol("Inclusion Criteria:\n- Relapsed or refractory AML")
    node = p.criteria[0]
    assert node.logic == "all" and [c.concept.label for c in node.constraints] == ["acute myeloid leukemia"]
    assert node.children[0].logic == "any"
    assert [c.concept.label for c in node.children[0].constraints] == ["relapse", "refractory disease"]
    p = parse_protocol("Exclusion Criteria:\n- History of myocardial infarction or stroke within 6 months")
    node = p.criteria[0]
    assert node.logic == "any" and len(node.constraints) == 2
    assert all(c.temporal and c.temporal.days == 182.5 for c in node.constraints)


def test_and_or_is_an_inclusive_or():
    # between single concepts it links alternatives, like "or"
    node = parse_protocol("Exclusion Criteria:\n- Women who are pregnant and/or breastfeeding").criteria[0]
    alternatives = [n for n in node.walk() if n.logic == "any" and n.constraints]
    assert [c.concept.id for c in alternatives[0].constraints] == ["pregnancy", "breastfeeding"]
    node = parse_protocol("Inclusion Criteria:\n- Adults with type 2 diabetes and/or children with asthma").criteria[0]
    assert node.logic == "any" and [c.concept.id for c in node.constraints] == ["diabetes", "asthma"]
    # between two multi-part requirements each alternative keeps its own parts
    node = parse_protocol("Inclusion Criteria:\n- Adults aged 18 years or older with type 2 diabetes and/or "
                          "children aged 6 to 17 years with asthma").criteria[0]
    assert node.logic == "any" and len(node.children) == 2
    first, second = ([c.concept.id for n in kid.walk() for c in n.constraints] for kid in node.children)
    assert "age" in first and "diabetes" in first and "asthma" not in first
    assert "age" in second and "asthma" in second and "diabetes" not in second


@pytest.mark.parametrize("text, expected", [
    ("Inclusion Criteria:\n- Experiences symptoms of OSA, including snoring and sleepiness", ["snoring", "somnolence"]),
    ("Inclusion Criteria:\n- Symptoms of heart failure, such as dyspnea or edema", ["icd:R06.0", "icd:R60"]),
])
def test_symptoms_of_a_disease_with_examples_need_any_example_not_the_disease(text, expected):
    node = parse_protocol(text).criteria[0]
    assert [c.concept.id for c in node.constraints] == expected
    assert node.logic == "any"


def test_symptoms_with_examples_keep_an_earlier_requirement():
    node = parse_protocol("Inclusion Criteria:\n- Type 2 diabetes and signs of neuropathy such as numbness").criteria[0]
    ids = [c.concept.id for n in node.walk() for c in n.constraints]
    assert "diabetes" in ids


@pytest.mark.parametrize("text, kept, dropped", [
    ("Exclusion Criteria:\n- Treatment with concomitant medications that prolong the QT interval", None, "qtc"),
    ("Exclusion Criteria:\n- Use of medications known to cause somnolence", None, "somnolence"),
    ("Exclusion Criteria:\n- QTc > 470 ms or use of drugs that prolong the QT interval", "qtc", None),
])
def test_what_a_drug_does_is_not_a_requirement(text, kept, dropped):
    found = [(c.concept.id, c.comparator) for n in parse_protocol(text).walk() for c in n.constraints]
    if dropped:
        assert dropped not in [cid for cid, _ in found]
    if kept:
        assert (kept, ">") in found


@pytest.mark.parametrize("text, sex", [
    ("Inclusion Criteria:\n- have a cervix", "female"),
    ("Inclusion Criteria:\n- Postmenopausal participants with an intact uterus", "female"),
    ("Inclusion Criteria:\n- Participants who have a prostate", "male"),
])
def test_an_organ_of_one_sex_is_a_sex_requirement(text, sex):
    assert [c.value for n in parse_protocol(text).walk() for c in n.constraints if c.concept.id == "sex"] == [sex]


def test_naming_an_organ_is_not_a_sex_requirement():
    assert "sex" not in [c.concept.id for c in constraints("Exclusion Criteria:\n- History of carcinoma of the cervix or uterus")]


@pytest.mark.parametrize("text", [
    "Exclusion Criteria:\n- Unable to give informed consent",
    "Exclusion Criteria:\n- Refusal to sign the informed consent form",
    "Exclusion Criteria:\n- Unwilling or unable to provide written informed consent",
])
def test_inability_and_refusal_negate_what_follows(text):
    c = only(text, "informed consent")
    assert c.negated is True


def test_family_experiencer_and_slashed_qualifiers():
    assert only("Inclusion Criteria:\n- Family history of breast cancer in a first-degree relative", "breast cancer").experiencer == "family"
    assert only("Inclusion Criteria:\n- Children aged 6-12 years with asthma", "asthma").experiencer == "patient"
    assert only("Exclusion Criteria:\n- Severe/malignant/secondary hypertensive patients", "hypertension").qualifiers == ["severe"]


def test_comma_list_takes_its_final_connector():
    p = parse_protocol("Exclusion Criteria:\n- History of stroke, TIA, or myocardial infarction")
    assert p.criteria[0].logic == "any" and len(p.criteria[0].constraints) == 3
    p = parse_protocol("Inclusion Criteria:\n- ALT, AST and total bilirubin ≤ 1.5 x ULN")
    assert p.criteria[0].logic == "all" and len(p.criteria[0].constraints) == 3


def test_negation_reaches_across_diagnosed_with():
    assert only("Inclusion Criteria:\n- Have not been previously diagnosed with cervical cancer", "cervical cancer").negated


def test_alternative_threshold_in_parentheses_is_an_exception():
    c = only("Inclusion Criteria:\n- ≥ 5 years old (18 years onward in Cambodia)", "age")
    assert (c.comparator, c.value) == (">=", 5)
    assert [(x.condition.label, x.comparator, x.value) for x in c.exceptions] == [("in Cambodia", ">=", 18)]


def test_population_descriptor_keeps_the_rest_as_a_requirement():
    p = parse_protocol("Exclusion Criteria:\n- Woman planning to deliver outside the research clinic")
    labels = [c.concept.label for c in p.criteria[0].constraints]
    assert labels == ["sex", "planning to deliver outside the research clinic"] and p.criteria[0].logic == "all"
