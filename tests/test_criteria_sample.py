"""Real phrasings from ../shared/data/criteria/ctgov_sample.jsonl (skipped when absent)."""

from __future__ import annotations

import json

import pytest

from nlp.criteria import parse_protocol


@pytest.fixture(scope="module")
def sample(shared_data):
    with open(shared_data / "criteria" / "ctgov_sample.jsonl", encoding="utf-8") as fh:
        return {row["nct_id"]: row for row in map(json.loads, fh)}


def find(protocol, label):
    return [c for n in protocol.walk() for c in n.constraints if c.concept.label == label]


def test_numbered_sections_with_word_numbers(sample):
    p = parse_protocol(sample["NCT03937362"]["criteria"], "NCT03937362")
    assert [s.kind for s in p.sections] == ["inclusion", "exclusion"]
    assert sum(n.kind == "inclusion" for n in p.criteria) == 8
    age = find(p, "age")[0]
    assert (age.comparator, age.value) == (">", 20)
    ecog = find(p, "ECOG performance status")[0]
    assert (ecog.comparator, ecog.value) == ("<=", 2)
    survival = find(p, "life expectancy")[0]
    assert (survival.comparator, survival.value, survival.unit) == (">", 3, "months")


def test_bulleted_with_durations_and_sex(sample):
    p = parse_protocol(sample["NCT03932630"]["criteria"], "NCT03932630")
    sex = find(p, "sex")[0]
    assert sex.value == "any"
    age = find(p, "age")[0]
    assert (age.comparator, age.value, age.unit) == (">=", 18, "years")
    a1c = find(p, "hemoglobin A1c")[0]
    assert (a1c.comparator, a1c.value, a1c.unit) == ("<=", 9, "%")
    diabetes = find(p, "diabetes mellitus")[0]
    assert diabetes.temporal and (diabetes.temporal.comparator, diabetes.temporal.value, diabetes.temporal.unit) == (">=", 2, "years")


def test_sentence_style_headers(sample):
    p = parse_protocol(sample["NCT03860181"]["criteria"], "NCT03860181")
    kinds = [n.kind for n in p.criteria]
    assert kinds[0] == "inclusion" and kinds[-1] == "exclusion"
    age = find(p, "age")[0]
    assert (age.comparator, age.value) == (">=", 18)


def test_unbulleted_lines_and_egfr(sample):
    p = parse_protocol(sample["NCT02766530"]["criteria"], "NCT02766530")
    assert p.preamble_span is None
    assert find(p, "sex")[0].value == "female"
    egfr = find(p, "estimated glomerular filtration rate")[0]
    assert (egfr.comparator, egfr.value, egfr.unit) == ("<", 60, "mL/min/1.73m2")
    assert all(n.kind == "exclusion" for n in p.criteria[2:])
