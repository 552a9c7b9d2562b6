"""The comparator pre-checks (nlp/grammar/prefilter.py) must never hide a real match.

They exist for note throughput: the end-anchored prefix searches of the comparator
grammar only run when a cheap check says a phrase could end before the number.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.data import load_json
from nlp.grammar.comparisons import find_comparisons, grammar
from nlp.grammar.prefilter import build_prefix_filter

_SPEC = load_json("grammar/comparators.json")
_PIECES = (
    [p.replace("\\s*", " ").replace("\\s+", " ").replace("\\.?", ".").replace("(?: to)?", " to").replace("(?:\\s+to)?", " to").replace(" ?", " ")
     for phrases in _SPEC["prefix"].values() for p in phrases]
    + list(_SPEC["range_prefix"])
    + ["of", "the", "a", "an", "to", "age", "aged", "at", "be", "is", "about", "ages",
       "Cr", "creatinine", "ALT", "mg/dL", "ECOG", "(0.6-1.2)", "->", "x", "min", "MAX", "Over", "thanks", "photo",
       "1.2", "18", ":", ";", ",", "-", "(", ")", "\n", "  ", "\t"]
)
_window = st.lists(st.sampled_from(_PIECES), min_size=0, max_size=9).map(" ".join)
_glued = st.lists(st.sampled_from(_PIECES), min_size=0, max_size=6).map("".join)


@settings(max_examples=600, deadline=None)
@given(st.one_of(_window, _glued), st.sampled_from(["", " ", "  ", ": ", " :", "\n"]))
def test_prefix_filter_never_rejects_a_real_match(window, tail):
    g = grammar()
    text = window + tail
    if g.prefix.search(text):
        assert g.prefix_filter is not None and g.prefix_filter.may_match(text), text
    if g.range_prefix.search(text):
        assert g.range_prefix_filter.may_match(text), text


@settings(max_examples=300, deadline=None)
@given(_window, st.sampled_from(["2.0", "18", "1.5 x ULN", "3 months", "0.6-1.2 mg/dL", "50%"]))
def test_find_comparisons_is_unchanged_by_the_prefilter(prefix, quantity):
    """Same result with and without the pre-check (the pre-check only saves time)."""
    import dataclasses

    import nlp.grammar.comparisons as comparisons

    text = prefix + " " + quantity
    fast = comparisons.find_comparisons(text)
    plain = dataclasses.replace(grammar(), prefix_filter=None, range_prefix_filter=None)
    original = comparisons.grammar
    try:
        comparisons.grammar = lambda: plain
        slow = comparisons.find_comparisons(text)
    finally:
        comparisons.grammar = original
    assert fast == slow, text


def test_filter_reads_the_phrase_tails():
    f = build_prefix_filter(["no more than", "min\\.?", ">\\s*or\\s*equal(?:\\s+to)?", "≥"], ["of", "the"])
    assert f is not None
    assert {"than", "min", "min.", "equal", "to", "≥"} <= set(f.tails)
    assert f.may_match("creatinine no more than the ")
    assert f.may_match("ANC ≥ ")
    assert not f.may_match("Creatinine ........ ")
    assert not f.may_match("WBC 3.1  Hgb ")


def test_unreadable_phrase_disables_the_filter():
    assert build_prefix_filter(["[<>]=?"], ["of"]) is None


def test_lab_line_comparisons_still_parse():
    comps = find_comparisons("ALT 31 U/L (<50), creatinine 1.4 mg/dL (0.6-1.2)")
    assert [(c.comparator, c.value, c.value2, c.unit) for c in comps] == [
        (None, 31.0, None, "U/L"), ("<", 50.0, None, None), (None, 1.4, None, "mg/dL"), ("between", 0.6, 1.2, None)]
