"""Label mapping tolerance: the words real review spreadsheets use."""

from __future__ import annotations

import json

import pytest

from matcher.review.labels import NOT_APPLICABLE, LabelError, LabelMap, normalize


@pytest.fixture(scope="module")
def labels():
    return LabelMap.load()


@pytest.mark.parametrize("written, expected", [
    ("met", "met"), ("  YES ", "met"), ("Y", "met"), ("TRUE", "met"), ("1", "met"), ("1.0", "met"), ("yes.", "met"),
    ("not met", "not_met"), ("Not_Met", "not_met"), ("not-met", "not_met"), ("NOT   MET", "not_met"), ("no", "not_met"),
    ("N", "not_met"), ("False", "not_met"), ("0", "not_met"), ("0.0", "not_met"),
    ("unknown", "unknown"), ("Unclear", "unknown"), ("?", "unknown"), ("can’t tell", "unknown"), ("Needs review", "unknown"),
    ("not documented", "unknown"),
])
def test_status_words(labels, written, expected):
    assert labels.status_of(written) == expected


@pytest.mark.parametrize("written, kind, expected", [
    ("pass", "inclusion", "met"), ("Fail", "inclusion", "not_met"), ("include", "inclusion", "met"),
    ("Exclude", "inclusion", "not_met"), ("eligible", "inclusion", "met"), ("not eligible", "inclusion", "not_met"),
    # For an exclusion criterion "pass" means the exclusion does not apply: its condition is not met.
    ("pass", "exclusion", "not_met"), ("exclude", "exclusion", "met"), ("yes", "exclusion", "met"),
])
def test_pass_fail_words_follow_the_criterion_kind(labels, written, kind, expected):
    assert labels.status_of(written, kind) == expected


@pytest.mark.parametrize("written, expected", [
    ("Eligible", "eligible"), ("yes", "eligible"), ("INCLUDE", "eligible"), ("Not eligible", "ineligible"),
    ("ineligible", "ineligible"), ("Screen fail", "ineligible"), ("exclude", "ineligible"), ("No", "ineligible"),
    ("needs review", "needs_review"), ("needs_review", "needs_review"), ("Pending", "needs_review"), ("?", "needs_review"),
    ("unclear", "needs_review"),
])
def test_verdict_words(labels, written, expected):
    assert labels.verdict_of(written) == expected


def test_unmappable_and_empty_and_not_applicable(labels):
    assert labels.status_of("see note") is None and labels.verdict_of("ask Dr. K") is None
    assert labels.status_of("") is None and labels.status_of(None) is None
    assert labels.status_of("N/A") == NOT_APPLICABLE and labels.verdict_of("n/a") == NOT_APPLICABLE
    assert labels.is_verdict_row_name("Overall eligibility") and not labels.is_verdict_row_name("I1")


def test_normalize_keeps_lone_symbols():
    assert normalize(" ? ") == "?" and normalize("-") == "-" and normalize("Not_Met.") == "not met"


def test_user_extension_adds_and_moves_words(tmp_path):
    extra = tmp_path / "labels.json"
    extra.write_text(json.dumps({"status": {"met": ["ja", "✓"], "not_met": ["nein", "review"]},
                                 "verdict": {"ineligible": ["SF"]}}), encoding="utf-8")
    labels = LabelMap.load(extra)
    assert labels.status_of("Ja") == "met" and labels.status_of("✓") == "met" and labels.status_of("NEIN") == "not_met"
    assert labels.status_of("review") == "not_met"  # moved from unknown by the team's file
    assert labels.verdict_of("sf") == "ineligible"
    assert labels.status_of("yes") == "met"  # the built-in words are kept
    assert LabelMap.load({"status": {"unknown": ["tbc"]}}).status_of("TBC") == "unknown"


@pytest.mark.parametrize("doc, message", [
    ({"status": {"met": ["x"], "not_met": ["X"]}}, "both"),
    ({"status": {"maybe": ["x"]}}, "unknown class"),
    ({"colour": {}}, "unknown section"),
    ({"status": {"met": "x", "not_met": [1, {}]}}, "list of words"),
])
def test_bad_label_files_are_refused(doc, message):
    with pytest.raises(LabelError, match=message):
        LabelMap.load(doc)


def test_label_file_that_is_not_json(tmp_path):
    bad = tmp_path / "labels.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(LabelError, match="not valid JSON"):
        LabelMap.load(bad)
    with pytest.raises(LabelError, match="not found"):
        LabelMap.load(tmp_path / "missing.json")
