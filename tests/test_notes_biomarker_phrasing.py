"""Flow-cytometry phrasings that state a marker's absence in words."""

import pytest

from nlp.pipeline import extract_note


@pytest.mark.parametrize("text, value", [
    ("Note: blasts do not express CD123 (relevant for CD123-directed therapy).", "negative"),
    ("The leukemic blasts fail to express CD34.", "negative"),
    ("Blasts express CD123 and CD33.", "positive"),
    ("Blasts are negative for CD123.", "negative"),
])
def test_marker_polarity_from_the_verb(text, value):
    facts = [f for f in extract_note(text, "n1", "2026-10-01") if f.type == "biomarker"]
    assert facts and facts[0].value == value
