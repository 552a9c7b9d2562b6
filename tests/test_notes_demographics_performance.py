"""Age (and date of birth -> age at the note date), sex, ECOG / Karnofsky and the KPS -> ECOG table."""

from __future__ import annotations

import pytest

from nlp.notes.performance import kps_table, kps_to_ecog
from tests.notes_helpers import facts, of, only


@pytest.mark.parametrize("dob, note_date, age", [
    ("09/02/1967", "2026-01-06", 58),   # birthday later in the year: not yet 59
    ("09/02/1967", "2026-09-02", 59),   # on the birthday
    ("2008-09-10", "2026-09-10", 18),   # exactly 18
    ("02-May-1950", "2026-10-20", 76),
    ("02-May-1950", "2026-05-01", 75),  # the day before the birthday
])
def test_date_of_birth_gives_completed_years_at_the_note_date(dob, note_date, age):
    text = f"Patient: Doe, Jane    MRN 00482913    DOB: {dob}    Sex: Female\n"
    found = facts(text, date=note_date)
    fact = only(found, "age")
    assert fact.value == age and fact.unit == "years"
    assert fact.text == f"DOB: {dob}"
    assert only(found, "sex").value == "female"


def test_no_note_date_no_age_from_dob():
    assert only(facts("DOB: 09/02/1967", date=None), "age").value is None


def test_date_of_birth_is_never_a_statement_date():
    found = facts("DOB 01/15/1966  Sex F\nHTN on amlodipine.", date="2026-09-02")
    assert only(found, "hypertension").date == "2026-09-02"


@pytest.mark.parametrize("text, age, sex", [
    ("58 y/o F with AML", 58, "female"),
    ("67M with BPDCN", 67, "male"),
    ("A 45-year-old man presents", 45, "male"),
    ("Age: 72. Gender: female.", 72, "female"),
])
def test_age_and_sex_forms(text, age, sex):
    found = facts(text)
    assert only(found, "age").value == age
    assert only(found, "sex").value == sex


def test_sex_is_stated_once_per_note():
    found = facts("Sex: Male\nHPI: 58 yo man with fatigue. He is a 58M.")
    assert len(of(found, "sex")) == 1
    assert of(found, "sex")[0].text == "Male"
    assert [f.value for f in of(found, "age")] == [58, 58]


def test_kps_to_ecog_table_bands():
    assert [kps_to_ecog(k) for k in (100, 90, 80, 70, 60, 50, 40, 30, 20, 10, 0)] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    assert kps_to_ecog(75) == 1 and kps_to_ecog(110) is None and kps_to_ecog("n/a") is None
    # the table covers 0-100 without gaps or overlaps
    covered = sorted((low, high) for low, high, _ in kps_table())
    assert covered[0][0] == 0 and covered[-1][1] == 100
    assert all(b[0] == a[1] + 1 for a, b in zip(covered, covered[1:]))


def test_ecog_and_kps_facts():
    found = facts("Performance status: ECOG 1\nKPS 80 (normal activity with effort).\nWHO PS 2 last month.")
    assert [f.value for f in of(found, "ecog")] == [1.0, 2.0]
    kps = only(found, "kps")
    assert (kps.value, kps.unit, kps.type) == (80.0, None, "performance_status")


def test_impossible_scores_are_not_read():
    found = facts("ECOG 7 is not a grade. KPS 85 is not a Karnofsky score.")
    assert not of(found, "ecog") and not of(found, "kps")
