"""Approximate normalization: confidence on every match, nothing below the threshold."""

import pytest

from nlp.lexicon import get_index
from nlp.lexicon.approx import THRESHOLD


@pytest.fixture(scope="module")
def index():
    return get_index()


def test_exact_lookup_first_with_full_confidence(index):
    [(entry, confidence, route)] = index.normalize("Acute Myeloid Leukaemia")
    assert (entry.id, confidence, route) == ("aml", 1.0, "exact")


def test_misspelling_is_normalized_with_a_confidence_below_one(index):
    results = index.normalize("myocardial infarctoin")
    assert results and results[0][0].id == "myocardial_infarction"
    assert THRESHOLD <= results[0][1] < 1.0 and results[0][2] == "approximate"


def test_word_order_does_not_matter(index):
    results = index.normalize("fibrosis idiopathic pulmonary")
    assert results and ("ICD-10-CM", "J84.112") in results[0][0].codes


@pytest.mark.parametrize("phrase", ["psychiatric wellness", "cardiac widget", "zzqx blorf", "the and of"])
def test_nothing_is_asserted_below_the_threshold(index, phrase):
    assert index.normalize(phrase) == []


def test_every_result_carries_a_confidence_at_or_above_threshold(index):
    for phrase in ["chronic kidney diseases stage", "pulmonary hypertenson", "heart failure with reduced ejection"]:
        for entry, confidence, route in index.normalize(phrase):
            assert route in ("exact", "approximate") and confidence >= THRESHOLD


def test_threshold_is_a_parameter(index):
    loose = index.normalize("psychiatric disease troubles", threshold=0.5)
    strict = index.normalize("psychiatric disease troubles", threshold=0.99)
    assert loose and strict == []
