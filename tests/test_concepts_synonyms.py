"""Synonyms, abbreviations and the precision guard of the full concept index."""

import pytest

from nlp.criteria import parse_protocol
from nlp.lexicon import get_index
from nlp.lexicon.mentions import find_concepts


@pytest.fixture(scope="module")
def index():
    return get_index()


def _found(text, index):
    return [(m.text, m.entry.id, m.route) for m in find_concepts(text, index)]


def test_icd_inclusion_term_and_title_acronym_name_the_same_code(index):
    a = index.lookup("Acute subendocardial myocardial infarction")  # an inclusion term of I21.4
    b = index.lookup("NSTEMI")
    assert a is not None and ("ICD-10-CM", "I21.4") in a.codes
    assert b is not None and b.domain == "condition"


def test_icd_title_head_before_qualifier_is_a_synonym(index):
    entry = index.lookup("idiopathic pulmonary fibrosis")
    assert entry is not None and ("ICD-10-CM", "J84.112") in entry.codes


def test_curated_concept_absorbs_the_terminology_synonyms_of_its_code(index):
    aml = index.get("aml")
    # "Acute myeloblastic leukemia with failed remission" is an ICD-10-CM inclusion term of C92.00
    assert index.lookup("acute myeloblastic leukemia with failed remission").id == "aml"
    assert index.get("icd:C92.00").id == "aml"
    assert ("ICD-10-CM", "C92.00") in aml.codes


def test_brand_and_generic_drug_names_share_a_concept(index):
    generic = index.lookup("clopidogrel")
    brand = index.lookup("Plavix")
    assert generic is not None and brand is not None and generic.id == brand.id
    assert generic.domain == "drug" and any(s == "DrugBank" for s, _ in generic.codes)


def test_abbreviation_table_short_forms(index):
    found = _found("History of CHF, COPD or T2DM; prior CABG", index)
    labels = {index.get(i).label.lower() for _, i, _ in found}
    assert {"heart failure", "coronary artery bypass grafting"} <= labels or "heart failure" in labels
    assert [t for t, _, _ in found] == ["CHF", "COPD", "T2DM", "CABG"]
    assert index.get(found[1][1]).domain == "condition" and index.get(found[3][1]).domain == "procedure"


def test_short_form_defined_in_the_document_is_recognized_later():
    text = ("Diagnosis of idiopathic pulmonary fibrosis (IPF) confirmed by HRCT.\n"
            "Acute exacerbation of IPF within 3 months before screening.")
    index = get_index()
    later = [m for m in find_concepts(text, index) if m.text == "IPF" and m.start > text.index("\n")]
    assert len(later) == 1 and later[0].route == "abbreviation"
    assert later[0].entry.id == index.lookup("idiopathic pulmonary fibrosis").id
    # without the definition the short form means nothing
    assert not any(m.text == "IPF" for m in find_concepts("Acute exacerbation of IPF", index))


def test_parser_uses_document_abbreviations():
    text = "Idiopathic pulmonary fibrosis (IPF)\nNo acute exacerbation of IPF in the last 3 months"
    p = parse_protocol(text)
    spans = [c.concept_span for n in p.walk() for c in n.constraints]
    second = text.rindex("IPF")
    assert (second, second + 3) in [tuple(s) for s in spans]


@pytest.mark.parametrize("text", [
    "Patients in pain with other problems",  # HPO "Pain", generic words
    "no gold, iron or water supplements today",  # drug names that are English words first
    "Other specified disorders of the unspecified site",  # ICD "Other specified ..." titles
])
def test_precision_guard_keeps_generic_words_out(index, text):
    assert index.find(text) == []


def test_organ_and_analyte_words_are_not_drugs(index):
    # "Thyroid" (desiccated thyroid) and "glucose" are drug-vocabulary names, but
    # phenotype names use them as organ/analyte words.
    found = {m.text.lower(): m.entry.domain for m in index.find("thyroid gland enlarged; glucose 180 mg/dL")}
    assert found.get("glucose") == "measurement"
    assert "drug" not in found.values()
    assert index.lookup("thyroid") is None or index.lookup("thyroid").domain != "drug"


def test_word_formation_rules_find_unlisted_procedures_and_drugs(index):
    found = {m.text: m for m in find_concepts("Prior appendectomy; treated with zanubrutinib; prolactin level", index)}
    assert found["appendectomy"].entry.domain == "procedure"
    assert found["zanubrutinib"].entry.domain == "drug"
    assert found["prolactin level"].entry.domain == "measurement"  # the drug "prolactin" is the modifier
    # a head noun after a non-medical word is not a concept
    assert find_concepts("Widget score above four", index) == []


def test_near_miss_correction_leaves_real_words_alone():
    # "complaints" is one letter from "compliant" (a synonym of compliance) but a word in its own right
    protocol = parse_protocol("Exclusion Criteria:\n- Subjective complaints from the patient regarding memory")
    ids = [c.concept.id for n in protocol.walk() for c in n.constraints]
    assert "compliance" not in ids
    protocol = parse_protocol("Inclusion Criteria:\n- Patient is compliant with study procedures")
    assert "compliance" in [c.concept.id for n in protocol.walk() for c in n.constraints]


@pytest.mark.parametrize("text, found", [
    ("2+ pitting edema of both ankles", "edema"),
    ("Bibasilar rales on auscultation", "rales"),
    ("Postoperative ileus resolved", "ileus"),
])
def test_rare_title_words_of_terminologies_match_in_lowercase(index, text, found):
    # ICD/HPO titles are capitalized ("Edema"); a rare medical word keeps matching in running text
    assert found in [m.text.lower() for m in index.find(text)]


def test_common_title_words_still_need_their_capital(index):
    # "Donor" and "Wound" are ICD titles but ordinary words in notes
    assert index.find("the donor was his brother") == []



@pytest.mark.parametrize("text, expected", [
    ("Reported pain greater than or equal to 3 out of 10", [("pain_score", ">=", 3.0, "/10")]),
    ("Pain at least 4/10 on most days", [("pain_score", ">=", 4.0, "/10")]),
    ("Pain in the right arm", []),  # "pain" names a score only before a value
])
def test_a_gated_synonym_opens_before_a_comparator_phrase(text, expected):
    protocol = parse_protocol(f"Inclusion Criteria:\n- {text}")
    found = [(c.concept.id, c.comparator, c.value, c.unit) for n in protocol.walk() for c in n.constraints
             if c.concept.id == "pain_score"]
    assert found == expected
