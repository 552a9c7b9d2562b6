"""Criterion ids and criterion text (rapidfuzz) matched to the seed protocol's criteria."""

from __future__ import annotations

import json

import pytest

from matcher.review.criteria_match import find_by_id, find_by_text
from matcher.review.inputs import CriterionInfo
from tests.review_helpers import PROTOCOL_GOLD, TRIAL


@pytest.fixture(scope="module")
def table():
    nodes = json.loads(PROTOCOL_GOLD.read_text(encoding="utf-8"))["nodes"]
    return {n["id"]: CriterionInfo(TRIAL, n["id"], n["text"], n["kind"], i) for i, n in enumerate(nodes)}


@pytest.mark.parametrize("written, expected", [
    ("I6.2.1", "I6.2.1"), ("i6.2.1", "I6.2.1"), ("I 6.2.1", "I6.2.1"), ("I6.2.1 - cardiac function", "I6.2.1"),
    ("I6.2.1: Cardiac", "I6.2.1"), ("I1", "I1"),
])
def test_ids_as_written(table, written, expected):
    assert find_by_id(written, table).criterion_id == expected


def test_an_id_prefix_is_not_a_longer_id(table):
    assert find_by_id("I6.2.10", table) is None and find_by_id("I6.2.1a", table) is None


@pytest.mark.parametrize("written, expected", [
    ("Liver function: ALT and AST ≤ 3.0×ULN", "I6.2.3"),                                      # exact copy
    ("liver function - alt and ast <= 3.0 x uln", "I6.2.3"),                                  # retyped
    ("Cardiac function: echocardiography indicated cardiac ejection fraction ≥50%", "I6.2.1"),  # truncated copy
    ("Renal function", "I6.2.2"),                                                             # short form
    ("ECOG 0-2", "I5"),
    ("Age 18-75", "I1.2"),
    ("Expected survival > 12 weeks", "I4"),
    ("CD123 by flow cytometry", "I2"),
    ("No serious mental disorders", "I6.1"),  # the child itself, not its parent I6 that starts with the same words
    ("Gender is not limited", "I1.1"),
])
def test_text_matches_the_intended_criterion(table, written, expected):
    m = find_by_text(written, table)
    assert m.info is not None, m.reason
    assert m.info.criterion_id == expected
    assert m.score >= 80 and m.runner_up is not None and m.runner_up.criterion_id != expected


@pytest.mark.parametrize("written, reason", [
    ("Hemoglobin >= 9 g/dL", "no criterion text resembles"),
    ("Pregnant or breastfeeding", "no criterion text resembles"),
    ("function", "ambiguous"),  # in I6.2.1, I6.2.2 and I6.2.3 alike: listed, not guessed
    ("!!!", "no words"),
])
def test_text_that_matches_nothing_or_several_is_refused_with_a_reason(table, written, reason):
    m = find_by_text(written, table)
    assert m.info is None and reason in m.reason


def test_threshold_is_configurable(table):
    assert find_by_text("Signed ICF", table).info is None
    assert find_by_text("Renal function", table, min_score=99).info is None
