"""compare(): reading real-looking sheets, unmatched rows, reviewers, the worklist and the seed demonstration."""

from __future__ import annotations

import pandas as pd
import pytest

from matcher.review import compare
from nlp.schema import CriterionResult, Evidence, MatchResult
from tests.review_helpers import MANUAL, TOOL_ERRORS, TRIAL, seed_results

T = "T1"


def crit(cid, status, kind="inclusion", text=None, parent=None, evidence=()):
    return CriterionResult(criterion_id=cid, parent_id=parent, kind=kind, text=text or f"text of {cid}", status=status,
                           evidence=[Evidence(note_id="n1", start=0, end=len(e), text=e) for e in evidence],
                           reason=f"reason for {cid}")


def result(pid, verdict, statuses, score=0.5):
    texts = {"I1": "Age 18 years or older", "I2": "ECOG performance status 0-1", "E1": "Active hepatitis B infection"}
    kinds = {"E1": "exclusion"}
    return MatchResult(trial_id=T, patient_id=pid, verdict=verdict, score=score,
                       criteria=[crit(c, s, kinds.get(c, "inclusion"), texts[c], evidence=[f"{c} evidence for {pid}"])
                                 for c, s in statuses.items()])


@pytest.fixture
def results():
    return [
        result("P1", "eligible", {"I1": "met", "I2": "met", "E1": "not_met"}, 1.0),
        result("P2", "ineligible", {"I1": "not_met", "I2": "met", "E1": "not_met"}, 0.1),
        result("P3", "needs_review", {"I1": "met", "I2": "unknown", "E1": "not_met"}, 0.8),
        result("P4", "ineligible", {"I1": "met", "I2": "met", "E1": "met"}, 0.2),
    ]


def frame(rows, columns=("trial_id", "patient_id", "criterion_id", "status", "verdict")):
    return pd.DataFrame(rows, columns=list(columns))


def test_perfect_agreement_with_varied_wording(results):
    manual = frame([
        (T, "P1", "", "", "Eligible"), (T, "P2", "", "", "not eligible"), (T, "P3", "", "", "pending"), (T, "P4", "", "", "Screen fail"),
        (T, "P1", "I1", "Yes", ""), (T, "P2", "I1", "N", ""), (T, "P3", "ECOG performance status 0-1", "?", ""),
        (T, "P4", "E1", "exclude", ""),  # pass/fail word on an exclusion criterion: the exclusion applies -> met
        (T, "P1", "e1", "PASS", ""),     # ... and "pass" means it does not apply -> not met
    ])
    a = compare(results, manual, n_boot=50)
    assert a.verdict["n"] == 4 and a.verdict["accuracy"] == 1.0 and a.verdict["kappa"] == pytest.approx(1.0)
    assert a.criteria["overall"]["n"] == 5 and a.criteria["overall"]["accuracy"] == 1.0
    assert a.unmatched == [] and a.disagreements == []
    assert [m["criterion_id"] for m in a.criterion_matches] == ["I2"]  # the text row, reported with its score
    assert a.criterion_matches[0]["score"] == 100.0


def test_rows_that_match_nothing_are_listed_with_reasons(results):
    manual = frame([
        (T, "P1", "", "", "eligible"),
        ("T9", "P1", "", "", "eligible"),                # unknown trial
        (T, "P77", "", "", "eligible"),                  # unknown patient
        (T, "P1", "Hemoglobin >= 9 g/dL", "yes", ""),    # no such criterion
        (T, "P1", "I1", "see note", ""),                 # label not understood
        (T, "P1", "I2", "", ""),                         # no label
        (T, "P1", "I2", "n/a", ""),                      # not applicable
        (T, "P1", "", "", "ineligible"),                 # repeats P1's verdict with another label
        (T, "", "I1", "yes", ""),                        # no patient
    ])
    a = compare(results, manual, n_boot=20)
    reasons = [u["reason"] for u in a.unmatched]
    assert len(a.unmatched) == 8 and a.verdict["n"] == 1
    for expected in ("trial 'T9' is not in RESULTS", "no result for patient 'P77'", "Hemoglobin >= 9 g/dL' not matched",
                     "label 'see note' not understood", "no status label", "not applicable",
                     "repeats an earlier row with different label", "no patient_id"):
        assert any(expected in r for r in reasons), expected
    assert [u["row"] for u in a.unmatched] == [1, 2, 3, 4, 5, 6, 7, 8]  # DataFrame index labels


def test_tolerant_csv_semicolons_windows_1252_aliases_and_extra_columns(tmp_path, results):
    path = tmp_path / "review.csv"
    text = ("Study;Patient ID;Criterion;Answer;Eligibility;Rater;Comment\r\n"
            f"{T};p1;;;Eligible;Dr. Müller;checked twice\r\n"
            ";;;;;;\r\n"
            f"{T};P2;I1;No;;Dr. Müller;\r\n")
    path.write_bytes(text.encode("cp1252"))
    a = compare(results, path, n_boot=20)
    assert a.verdict["n"] == 1 and a.criteria["overall"]["n"] == 1 and not a.unmatched
    assert a.reviewers["names"] == ["Dr. Müller"]
    assert any("Windows-1252" in n for n in a.notes) and any("ignored columns: Comment" in n for n in a.notes)
    assert any("blank row" in n for n in a.notes)
    assert a.inputs["manual_columns"]["patient_id"] == "Patient ID"


def test_missing_trial_id_means_the_only_trial(results):
    manual = pd.DataFrame({"patient_id": ["P1", "P2"], "verdict": ["eligible", "eligible"]})
    a = compare(results, manual, n_boot=20)
    assert a.verdict["n"] == 2 and a.verdict["accuracy"] == 0.5
    assert any("taken to be trial 'T1'" in n for n in a.notes)


def test_disagreements_sorted_for_an_adjudicator_with_evidence(results):
    manual = frame([
        (T, "P3", "I2", "met", "", ), (T, "P2", "I1", "met", ""), (T, "P1", "I2", "unknown", ""),
        (T, "P4", "", "", "eligible"), (T, "P3", "", "", "eligible"), (T, "P1", "I1", "met", ""),
    ])
    a = compare(results, manual, n_boot=20)
    order = [(d["level"], d["patient_id"], d["criterion_id"], d["severity"]) for d in a.disagreements]
    assert order == [
        ("verdict", "P4", "", "opposite"),       # eligible vs ineligible first
        ("verdict", "P3", "", "undecided"),      # then eligible vs needs review
        ("criterion", "P2", "I1", "opposite"),   # criteria in protocol order (I1 before I2)
        ("criterion", "P1", "I2", "undecided"),  # within I2: patient order (P1 before P3)
        ("criterion", "P3", "I2", "undecided"),
    ]
    first_crit = a.disagreements[2]
    assert first_crit["tool_reason"] == "reason for I1" and "I1 evidence for P2" in first_crit["tool_evidence"]
    assert first_crit["manual"] == "met" and first_crit["tool"] == "not met" and first_crit["rank"] == 3
    assert a.disagreements[0]["tool_reason"].startswith("E1 met: reason for E1")  # why the tool said ineligible


def test_two_reviewers_inter_rater_beside_tool(results):
    rows = []
    for pid, a_says, b_says in (("P1", "eligible", "eligible"), ("P2", "ineligible", "needs review"),
                                ("P3", "needs review", "needs review"), ("P4", "ineligible", "ineligible")):
        rows += [(T, pid, "", "", a_says, "A"), (T, pid, "", "", b_says, "B")]
    rows.append((T, "P1", "I1", "yes", "", "B"))
    a = compare(results, frame(rows, ("trial_id", "patient_id", "criterion_id", "status", "verdict", "reviewer")), n_boot=50)
    assert a.reviewers["names"] == ["B", "A"]  # B has more labels: B is the reference
    assert (a.reviewers["pairs"][0]["a"], a.reviewers["pairs"][0]["b"]) == ("B", "A")
    pair = a.reviewers["pairs"][0]["verdict"]
    # A vs B: 3 of 4 agree. By hand: rows A e/i/n counts 1/2/1, B 1/1/2; pe = (1+2+2)/16; kappa = (0.75-5/16)/(11/16) = 7/11
    assert pair["n"] == 4 and pair["inter_rater"]["accuracy"] == 0.75
    assert pair["inter_rater"]["kappa"] == pytest.approx(7 / 11)
    assert pair["tool_vs_b"]["kappa"] == pytest.approx(1.0)  # the tool says exactly what A says
    assert pair["tool_vs_a"]["accuracy"] == 0.75 and pair["tool_vs_a"]["kappa"] == pytest.approx(7 / 11)
    assert a.reviewers["tool_vs"]["A"]["verdict"]["kappa"] == pytest.approx(1.0)
    assert a.verdict["accuracy"] == 0.75  # against the reference reviewer B
    kinds = {d["kind"] for d in a.disagreements}
    assert kinds == {"tool vs manual"}
    a2 = compare(results, frame(rows, ("trial_id", "patient_id", "criterion_id", "status", "verdict", "reviewer")),
                 reference_reviewer="A", n_boot=20)
    assert a2.verdict["accuracy"] == 1.0
    assert [d["kind"] for d in a2.disagreements] == ["reviewers disagree"]  # still shown to the adjudicator


def test_contract_keys_and_no_note_text_in_agreement_json(results):
    a = compare(results, frame([(T, "P1", "", "", "eligible"), (T, "P1", "I1", "no", "")]), n_boot=20)
    doc = a.to_dict()
    assert {"n", "accuracy", "kappa"} <= set(doc["verdict"]) and "criteria" in doc
    assert "evidence for" not in a.to_json()  # evidence (note text) stays in the worklist and report
    assert "evidence for" in a.disagreements[0]["tool_evidence"]


def test_seed_demonstration_with_hand_made_results():
    """The seed manual CSV against hand-made results that carry known tool errors (tests/review_helpers.py)."""
    a = compare(seed_results(), MANUAL)
    assert a.verdict["n"] == 39 and a.criteria["overall"]["n"] == 39 * 16
    assert {u["patient_id"] for u in a.unmatched} == {"S1O", "S12", "S27", "S15"}
    assert a.reviewers["names"] == ["RN-A", "MD-B"] and a.reviewers["pairs"][0]["verdict"]["n"] == 13
    # RN-A is the gold: exactly the simulated tool errors disagree at the leaves.
    leaves = {(d["patient_id"], d["criterion_id"]) for d in a.disagreements
              if d["kind"] == "tool vs manual" and d["criterion_id"] in {c for e in TOOL_ERRORS.values() for c in e}}
    assert leaves == {(p, c) for p, e in TOOL_ERRORS.items() for c in e}
    assert {m["criterion_id"] for m in a.criterion_matches if m["criterion_id"]} == {"I4", "I5", "I6.1", "I6.2.1", "I6.2.2", "I6.2.3", "I6.2.5"}
    assert a.inputs["trials"] == [TRIAL]


def test_protocol_supplies_criterion_texts_when_results_lack_them(seed_protocol):
    bare = [r.model_copy(update={"criteria": [c.model_copy(update={"text": ""}) for c in r.criteria]}) for r in seed_results()]
    manual = pd.DataFrame({"trial_id": [TRIAL], "patient_id": ["S01"], "criterion_id": ["Renal function"], "status": ["yes"]})
    assert compare(bare, manual, n_boot=0).unmatched  # nothing to match the text against
    a = compare(bare, manual, protocol=seed_protocol, n_boot=0)
    assert a.unmatched == [] and a.criterion_matches[0]["criterion_id"] == "I6.2.2"
