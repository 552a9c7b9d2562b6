"""Flow cytometry and molecular results: polarity, percentages, marker lists, control populations."""

from __future__ import annotations

from tests.notes_helpers import facts, of, only


def test_marker_results_written_after_the_marker():
    found = facts("Blast phenotype: CD34 neg, CD117+, CD33+ (bright), HLA-DR dim, CD14-, CD64 partial.")
    values = {f.concept.id: (f.value, f.qualifier) for f in found if f.type == "biomarker"}
    assert values == {"cd34": ("negative", None), "cd117": ("positive", None), "cd33": ("positive", "bright"),
                      "hla_dr": ("positive", "dim"), "cd14": ("negative", None), "cd64": ("positive", "partial")}
    # a negative result is a present fact whose value is negative
    assert {f.assertion for f in found if f.type == "biomarker"} == {"present"}


def test_percent_of_blasts():
    found = facts("CD123 (bright) 87% of blasts.\nCD123 negative (<2% of blasts) on the repeat.")
    first, second = of(found, "cd123")
    assert (first.value, first.unit, first.qualifier) == (87.0, "%", "bright")
    assert (second.value, second.comparator, second.unit) == (2.0, "<", "%")
    assert not of(found, "blasts")  # "87% of blasts" is a share of blasts, not a blast count


def test_marker_lists_take_the_polarity_of_their_header():
    found = facts("Positive: CD34, CD117, CD33, HLA-DR, CD7 (partial).\nNegative: CD123, CD3, CD19, CD14.")
    pos = {f.concept.id for f in found if f.value == "positive"}
    neg = {f.concept.id for f in found if f.value == "negative"}
    assert pos == {"cd34", "cd117", "cd33", "hla_dr", "cd7"}
    assert neg == {"cd123", "cd3", "cd19", "cd14"}


def test_list_under_a_header_line():
    found = facts("This population expresses:\n  CD123 (bright) 98% of abnormal cells\n  CD4 (moderate)\n  HLA-DR\n"
                  "The abnormal population is negative for: CD34, CD117, MPO.")
    assert only(found, "hla_dr").value == "positive"
    assert only(found, "cd4").qualifier == "moderate"
    assert {f.concept.id for f in found if f.value == "negative"} == {"cd34", "cd117", "mpo"}


def test_control_population_sentence_is_not_the_blasts_result():
    found = facts("Blasts are CD123 negative (<2% of blasts).\n"
                  "Internal control lymphocytes and basophils show expected CD123 staining.")
    cd123 = of(found, "cd123")
    assert len(cd123) == 1 and cd123[0].comparator == "<"


def test_gating_markers_are_not_results():
    found = facts("Blast gate (CD45 dim / low SSC) = 21% of total events. Blasts 29% of CD45+ events.")
    assert not of(found, "cd45")
    assert [f.value for f in of(found, "blasts")] == [29.0]


def test_mutations_and_vaf():
    found = facts("NGS: NPM1 c.860_863dupTCTG (type A), VAF 41%; FLT3-ITD: not detected; "
                  "TP53: no pathogenic variant. ASXL1/SRSF2 mutations.")
    assert (only(found, "npm1").value, only(found, "npm1").unit) == (41.0, "%")
    assert only(found, "flt3").value == "negative"
    assert only(found, "tp53").value == "negative"
    assert only(found, "asxl1").value == "positive" and only(found, "srsf2").value == "positive"


def test_named_test_without_a_result_is_not_a_fact():
    found = facts("Flow cytometry (incl. CD123) pending. Referred for the CD123 CAR-NK study.")
    assert not of(found, "cd123")


def test_hypothetical_result():
    assert only(facts("If CD123 positive, will refer for CAR-NK trial."), "cd123").assertion == "hypothetical"


def test_blasts_with_specimen():
    found = facts("BMBx 08/28/2026 w/ 23% myeloblasts. Peripheral blood: blasts 4%.")
    marrow, blood = of(found, "blasts")
    assert (marrow.value, marrow.specimen, marrow.date) == (23.0, "bone marrow", "2026-08-28")
    assert (blood.value, blood.specimen) == (4.0, "peripheral blood")


def test_a_result_word_before_a_run_of_markers():
    found = facts("Labs show a 4/4 positive ANA and anti-dsDNA. Negative DAT. Anti-Sm antibodies negative.")
    values = {f.concept.id: f.value for f in found if f.type == "biomarker"}
    assert values == {"ana": "positive", "anti_dsdna": "positive", "direct_antiglobulin_test": "negative",
                      "anti_smith": "negative"}


def test_a_result_word_after_an_earlier_marker_is_not_borrowed():
    found = facts("Flow: CD13 positive CD7")
    values = {f.concept.id: f.value for f in found if f.type == "biomarker"}
    assert values.get("cd13") == "positive" and "cd7" not in values
