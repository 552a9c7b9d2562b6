"""Labs and vitals in notes: tabular panels, reference ranges, flags, ULN multiples, oxygen, trends."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.notes_helpers import facts, of, only

PANEL = """LABS (03/10/2026):
  Creatinine ........ 2.3 mg/dL (0.6-1.2) H
  ALT 145 U/L [7-56]
  Cr 0.8 (0.6-1.1)
  WBC 1.2 L K/uL 4.0-11.0
  Sodium | 140 | | mmol/L | 135-145
  Glucose\t156 H\tmg/dL\t70-99
"""


def test_tabular_panel_values_units_ranges_and_flags():
    found = facts(PANEL)
    rows = {(f.concept.id, f.value, f.unit, f.reference_range, f.flag) for f in of(found, "creatinine") + of(found, "alt")
            + of(found, "wbc") + of(found, "sodium") + of(found, "glucose")}
    assert rows == {
        ("creatinine", 2.3, "mg/dL", (0.6, 1.2), "H"),
        ("alt", 145.0, "U/L", (7.0, 56.0), None),
        ("creatinine", 0.8, None, (0.6, 1.1), None),
        ("wbc", 1.2, "x10^9/L", (4.0, 11.0), "L"),
        ("sodium", 140.0, "mmol/L", (135.0, 145.0), None),
        ("glucose", 156.0, "mg/dL", (70.0, 99.0), "H"),
    }
    # the header date dates the panel
    assert {f.date for f in found if f.type == "lab"} == {"2026-03-10"}


def test_uln_multiple_from_the_reports_range():
    cr = only(facts("Creatinine 1.4 mg/dL (0.6-1.2)"), "creatinine")
    assert cr.uln_multiple == pytest.approx(1.4 / 1.2, abs=1e-3)
    assert cr.uln_source == "report"


def test_uln_multiple_from_the_lexicon_default_with_si_conversion():
    # No range printed: the lexicon's default ULN (1.2 mg/dL) applies, after mg/dL <-> umol/L via molar mass.
    cr = only(facts("Creatinine 198 umol/L today."), "creatinine")
    assert (cr.value, cr.unit, cr.uln_source) == (198.0, "µmol/L", "default")
    assert cr.uln_multiple == pytest.approx(198 / 88.42 / 1.2, rel=0.01)


def test_stated_uln_multiples():
    found = facts("Bilirubin, total .... 2.3 mg/dL (0.2-1.2) H [1.92x]\nALT 2.1x ULN.\nAST 3.2x ULN (128 U/L).")
    bili = only(found, "total_bilirubin")
    assert (bili.value, bili.uln_multiple, bili.uln_source) == (2.3, 1.92, "stated")
    alt = only(found, "alt")
    assert (alt.value, alt.unit, alt.uln_multiple) == (None, None, 2.1)
    ast = only(found, "ast")
    assert (ast.value, ast.unit, ast.uln_multiple) == (128.0, "U/L", 3.2)


def test_one_sided_ranges():
    found = facts("ALT            31 U/L      (<50)\neGFR (CKD-EPI 2021)\t64\tmL/min/1.73m2\t>60")
    assert only(found, "alt").reference_range == (None, 50.0)
    egfr = only(found, "egfr")
    assert (egfr.value, egfr.reference_range) == (64.0, (60.0, None))


def test_all_caps_template():
    found = facts("LABS: NA 139  K 4.1  CR 0.9  TBILI 0.5  ALB 3.6  A1C 6.4%")
    assert only(found, "sodium").value == 139
    assert only(found, "creatinine").value == 0.9
    assert only(found, "total_bilirubin").value == 0.5
    assert only(found, "hba1c").unit == "%"
    assert not of(found, "complete_remission")  # "CR" before a value is creatinine here


def test_spo2_room_air_and_supplemental_oxygen():
    found = facts("VS: T 37.4 C, HR 104, BP 142/88, RR 18, SpO2 90% on room air (96% on 2 L NC)")
    spo2 = of(found, "spo2")
    assert [(f.value, f.oxygen) for f in spo2] == [(90.0, "room air"), (96.0, "2 L NC")]
    assert only(found, "temperature").unit == "C"
    assert only(found, "systolic_bp").value == 142 and only(found, "diastolic_bp").value == 88


def test_trend_gives_one_fact_per_value_with_its_own_date():
    found = facts("EF 45% (01/2026) -> 58% (03/2026) on TTE.", date="2026-09-10")
    ef = of(found, "lvef")
    assert [(f.value, f.date, f.assertion) for f in ef] == [(45.0, "2026-01", "historical"), (58.0, "2026-03", "present")]
    assert ef[1].text == "58% (03/2026)"


def test_lvef_range_and_method():
    ef = of(facts("TTE 09/18/2026: LV normal size. LVEF 55-60% visually; biplane 58%."), "lvef")
    assert [(f.value, f.value2, f.method) for f in ef] == [(55.0, 60.0, "echocardiogram"), (58.0, None, "biplane")]


def test_a_lab_name_in_prose_without_a_value_is_not_a_lab_fact():
    assert not of(facts("Will recheck creatinine and ALT tomorrow."), "creatinine")


# -- property: tables survive odd whitespace and leaders -------------------------------------------
_leader = st.sampled_from([" ", "  ", "\t", " ....... ", " .. ", " ___ ", " | ", "\t|\t", ": ", " -- "])
_gap = st.sampled_from([" ", "  ", "\t", "   ", " | "])


@settings(max_examples=150, deadline=None)
@given(_leader, _gap, _gap, st.sampled_from(["H", "L", ""]), st.sampled_from(["(", "["]))
def test_table_rows_with_odd_leaders(leader, gap1, gap2, flag, bracket):
    close = ")" if bracket == "(" else "]"
    line = f"Creatinine{leader}2.3{gap1}mg/dL{gap2}{bracket}0.6-1.2{close}" + (f" {flag}" if flag else "")
    text = "LABS:\n  " + line + "\n  Potassium 4.1 mmol/L\n"
    found = facts(text)
    cr = only(found, "creatinine")
    assert (cr.value, cr.unit, cr.reference_range) == (2.3, "mg/dL", (0.6, 1.2))
    assert text[cr.span[0]:cr.span[1]] == cr.text
    assert cr.flag == (flag or None)
    assert only(found, "potassium").value == 4.1
