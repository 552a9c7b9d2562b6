"""Hierarchy and the matcher's relation routes across curated and terminology concepts."""

import pytest

from nlp.lexicon import get_index


@pytest.fixture(scope="module")
def index():
    return get_index()


def test_curated_aml_is_a_icd_myeloid_leukemia(index):
    assert index.is_a("aml", "icd:C92")
    assert index.is_a("icd:C92.00", "icd:C92")  # the folded ICD id resolves to the curated entry
    assert not index.is_a("icd:C92", "aml")


def test_icd_children_satisfy_a_parent_criterion_but_not_the_reverse(index):
    assert index.relation("icd:C92", "icd:C92.40") in ("hierarchy", "same") or index.relation("icd:C92", "apl") == "hierarchy"
    assert index.relation("leukemia", "aml") == "hierarchy"
    assert index.relation("aml", "leukemia") is None


def test_unspecified_code_stands_for_its_category(index):
    # criterion "myocardial infarction" is coded I21.9 (unspecified); an NSTEMI fact is I21.4
    nstemi = index.get("icd:I21.4")
    assert nstemi is not None and nstemi.id == "icd:I21.4"
    assert index.relation("myocardial_infarction", "icd:I21.4") == "hierarchy"
    assert index.relation("icd:I21.4", "myocardial_infarction") is None


def test_drug_class_from_mesh_tree(index):
    aclarubicin = index.lookup("aclarubicin")  # not in the curated lexicon
    assert aclarubicin is not None and aclarubicin.source == "drugs"
    assert "anthracycline" in index.ancestors(aclarubicin.id)
    assert index.relation("anthracycline", aclarubicin.id) == "drug class"
    assert index.relation("anthracycline", "daunorubicin") == "drug class"
    assert index.relation("daunorubicin", "anthracycline") is None


def test_class_names_come_from_the_vocabulary(index):
    # MeSH "Anthracyclines" folds into the curated class; its tree numbers become codes.
    entry = index.lookup("anthracyclines")
    assert entry.id == "anthracycline"
    assert any(system == "MeSH-TN" for system, _ in entry.codes)
    statins = index.lookup("statins")
    atorva = index.lookup("atorvastatin")
    assert statins is not None and atorva is not None
    assert index.relation(statins.id, atorva.id) == "drug class"


def test_name_stems_link_drugs_to_vocabulary_classes(index):
    # the vocabulary gives atorvastatin one pharmacological action, not "statins"; the
    # "-statin" stem does
    assert index.relation(index.lookup("statin").id, index.lookup("rosuvastatin").id) == "drug class"
    assert index.relation(index.lookup("ACE inhibitors").id, index.lookup("lisinopril").id) == "drug class"
    assert index.relation(index.lookup("statin").id, index.lookup("lisinopril").id) is None


def test_curated_class_table_fills_source_gaps(index):
    tki = index.lookup("tyrosine kinase inhibitor")
    assert index.relation(tki.id, index.lookup("imatinib").id) == "drug class"


def test_regimen_member_and_shared_code(index):
    assert index.relation("anthracycline", "regimen_7_3") == "regimen member"
    assert index.relation("cytarabine", "regimen_7_3") == "regimen member"
    assert index.relation("hepatitis_b", "hepatitis_b") == "same"
    # two curated concepts coded C92.00 share the code
    assert index.relation("secondary_aml", "aml") == "shared code"
    assert index.relation("aml", "breast_cancer") is None


@pytest.mark.parametrize("member, cls", [
    ("warfarin", "anticoagulant"), ("apixaban", "anticoagulant"), ("heparin", "anticoagulant"),
    ("prednisone", "corticosteroids"), ("dexamethasone", "corticosteroids"),
])
def test_a_drug_listed_by_its_class_is_the_drug_not_the_class(index, member, cls):
    # A class row naming several vocabulary drugs keeps them as members: the text is the drug,
    # which satisfies the class, while another member of the class does not satisfy it.
    entry = index.lookup(member)
    assert entry.id != cls and entry.source == "drugs"
    assert index.relation(cls, entry.id) == "drug class"
    assert index.relation(entry.id, cls) is None
    sibling = index.lookup("rivaroxaban" if cls == "anticoagulant" else "hydrocortisone")
    assert index.relation(entry.id, sibling.id) is None


def test_a_curated_drug_under_another_name_stays_that_drug(index):
    assert index.lookup("tretinoin").id == index.lookup("all-trans retinoic acid").id == "atra"


@pytest.mark.parametrize("name, concept", [
    ("SLE", "sle"), ("systemic lupus erythematosus", "sle"), ("Crohn's disease", "crohns_disease"),
    ("psoriasis", "psoriasis"), ("multiple sclerosis", "multiple_sclerosis"),
])
def test_autoimmune_diseases_are_narrower_than_the_group(index, name, concept):
    assert index.lookup(name).id == concept
    assert index.relation("autoimmune_disease", concept) == "hierarchy"
    assert index.relation(concept, "autoimmune_disease") is None
    assert index.relation("sle", "psoriasis") is None


def test_snoring_and_osa_are_sleep_disordered_breathing(index):
    assert index.lookup("nocturnal obstructive symptoms").id == "sleep_disordered_breathing"
    for narrower in ("snoring", "osa"):
        assert index.relation("sleep_disordered_breathing", narrower) == "hierarchy"
        assert index.relation(narrower, "sleep_disordered_breathing") is None
    assert index.lookup("snoring").id == index.get("icd:R06.83").id == "snoring"  # the ICD code folds in


@pytest.mark.parametrize("name, narrower", [
    ("skin condition", "slightly hyperpigmented"),
    ("abnormal skin color", "hypopigmented macules"),
    ("skin disease", "skin tags"),
    ("localized skin lesion", "cafe-au-lait spot"),
])
def test_skin_findings_are_skin_conditions(index, name, narrower):
    # (bare "skin lesions" is no concept: in criteria it names a site, "disease in ... skin lesions")
    broad = index.lookup(name)
    (mention,) = index.find(narrower)
    assert index.relation(broad.id, mention.entry.id) == "hierarchy"
    assert index.relation(mention.entry.id, broad.id) is None
