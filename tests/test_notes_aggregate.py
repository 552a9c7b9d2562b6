"""Many notes -> one PatientFacts: newest value wins, SpO2 prefers room air, KPS maps to ECOG."""

from __future__ import annotations

from nlp.notes.aggregate import aggregate
from nlp.pipeline import extract_patients
from tests.notes_helpers import facts, pipeline


def _rows():
    return [
        {"patient_id": "P1", "note_id": "a", "date": "2026-03-01", "note_type": "lab_panel",
         "text": "Creatinine 2.6 mg/dL (0.6-1.2) H\nTTE: LVEF 45%."},
        {"patient_id": "P1", "note_id": "b", "date": "2026-10-02", "note_type": "progress_note",
         "text": "Creatinine 2.4 mg/dL (0.6-1.2) H. SpO2 96% on 2 L NC. KPS 80."},
        {"patient_id": "P1", "note_id": "c", "date": "2026-09-15", "note_type": "echo_ecg",
         "text": "TTE 09/15/2026: LVEF 58%. SpO2 93% on room air. ECOG 2."},
        {"patient_id": "P2", "note_id": "d", "date": "2026-01-01", "text": "Mother had AML. Hgb 9.1 g/dL."},
    ]


def test_newest_value_wins_and_older_values_are_history():
    patients = extract_patients(_rows(), nlp=pipeline())
    assert [p.patient_id for p in patients] == ["P1", "P2"]
    p1 = patients[0]
    assert p1.n_notes == 3
    cr = p1.current["creatinine"]
    assert (cr.fact.value, cr.fact.note_id) == (2.4, "b")
    assert [h.value for h in cr.history] == [2.6]
    ef = p1.current["lvef"]
    assert (ef.fact.value, ef.fact.date) == (58.0, "2026-09-15")


def test_spo2_prefers_the_newest_room_air_reading():
    p1 = extract_patients(_rows(), nlp=pipeline())[0]
    spo2 = p1.current["spo2"]
    # the 10/02 reading is newer but on oxygen; the 09/15 room-air reading is current
    assert (spo2.fact.value, spo2.fact.oxygen) == (93.0, "room air")
    assert [(h.value, h.oxygen) for h in spo2.history] == [(96.0, "2 L NC")]


def test_kps_counts_as_ecog_through_the_table():
    p1 = extract_patients(_rows(), nlp=pipeline())[0]
    ecog = p1.current["ecog"]
    # KPS 80 (10/02) is newer than ECOG 2 (09/15): mapped to ECOG 1, with the KPS evidence
    assert ecog.fact.value == 1.0 and "KPS 80" in (ecog.fact.method or "")
    assert ecog.fact.text == "KPS 80"
    assert [h.value for h in ecog.history] == [2.0]


def test_family_and_hypothetical_facts_are_never_current():
    p2 = extract_patients(_rows(), nlp=pipeline())[1]
    assert "aml" not in p2.current
    assert any(f.concept.id == "aml" and f.assertion == "family" for f in p2.facts)


def test_same_day_facts_order_by_position_in_the_note():
    found = facts("Cr 2.6 -> 2.4 after fluids.", date="2026-05-01")
    current = aggregate("P", found).current["creatinine"]
    assert current.fact.value == 2.4
    assert current.history[0].value == 2.6


def test_undated_facts_are_oldest():
    a = facts("Hgb 9.0 g/dL", date=None, note_id="x")
    b = facts("Hgb 7.5 g/dL", date="2026-01-01", note_id="y")
    assert aggregate("P", a + b).current["hemoglobin"].fact.value == 7.5
