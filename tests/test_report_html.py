"""report.html escapes every piece of text and shows evidence in its note context."""

from __future__ import annotations

import re

from matcher.report.html import render_report
from nlp.schema import CriterionResult, Evidence, MatchResult, MissingItem

EVIL = "<script>alert('x')</script>&<img src=x onerror=alert(1)>"


def result(verdict="needs_review"):
    note = f"Labs: Creatinine 1.9 mg/dL (0.6-1.2). {EVIL} end."
    start = note.index("Creatinine")
    ev = Evidence(note_id="n<1>", start=start, end=start + 20, text=note[start:start + 20])
    return MatchResult(trial_id="T<1>", patient_id=f"P{EVIL}", verdict=verdict, score=0.5,
                       missing=[MissingItem(criterion_id="I7", what=EVIL)],
                       criteria=[CriterionResult(criterion_id="I1", parent_id=None, kind="inclusion", text=f"Creatinine {EVIL}",
                                                 status="met", evidence=[ev], reason=f"Creatinine 1.9 mg/dL {EVIL}")]), note


def test_everything_is_escaped_and_no_script_survives():
    r, note = result()
    page = render_report([r], {r.patient_id: {"n<1>": note}})
    assert "<script" not in page.lower()
    assert not re.search(r"<img\b", page)
    assert "&lt;script&gt;" in page and "&amp;&lt;img" in page
    assert page.startswith("<!DOCTYPE html>") and "http" not in page  # self-contained


def test_evidence_is_highlighted_in_context():
    r, note = result("eligible")
    page = render_report([r], {r.patient_id: {"n<1>": note}})
    assert "<mark>Creatinine 1.9 mg/dL</mark>" in page
    assert "Labs: " in page  # context before the evidence


def test_summary_counts_verdicts():
    a, note = result("eligible")
    b, _ = result("ineligible")
    page = render_report([a, b])
    assert "eligible 1" in page and "ineligible 1" in page


def test_protocol_markdown_escapes_are_not_shown_but_results_keep_the_exact_text():
    text = "Blood oxygen saturation \\> 92%\r\n(room air)"  # as ClinicalTrials.gov writes it
    r = MatchResult(trial_id="T1", patient_id="P1", verdict="eligible", score=1.0, missing=[],
                    criteria=[CriterionResult(criterion_id="I1", parent_id=None, kind="inclusion", text=text,
                                              status="met", evidence=[], reason="SpO2 97% on room air.")])
    page = render_report([r])
    assert "Blood oxygen saturation &gt; 92% (room air)" in page
    assert "\\&gt;" not in page and "\\>" not in page
    assert r.criteria[0].text == text


def test_summary_names_each_thing_to_look_up_once():
    from matcher.report.describe import to_look_up

    missing = [MissingItem(criterion_id="I2", what="flow cytometry report: CD123 on blasts"),
               MissingItem(criterion_id="I3", what="flow cytometry report: CD123 on blasts"),
               MissingItem(criterion_id="I4", what="statement of expected survival"),
               MissingItem(criterion_id="I7", what="signed informed consent form")]
    assert to_look_up(missing, 2) == "flow cytometry report: CD123 on blasts; statement of expected survival …"
    assert to_look_up(missing, 3) == "flow cytometry report: CD123 on blasts; statement of expected survival; signed informed consent form"
    r = MatchResult(trial_id="T1", patient_id="P1", verdict="needs_review", score=0.5, missing=missing, criteria=[])
    page = render_report([r])
    assert page.count("flow cytometry report: CD123 on blasts") == 3  # once in the summary, twice in the per-criterion list
