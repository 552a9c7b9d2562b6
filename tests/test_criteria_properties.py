"""Property tests: spans are always exact, normalization maps back, nothing crashes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.criteria import parse_protocol
from nlp.text import normalize

PIECES = [
    "Inclusion Criteria:", "Exclusion Criteria:", "- ", "• ", "⁃ ", "1. ", "2\\) ", "a. ", "(ii) ", "\\>", "\\<=",
    "Age ≥ 18 years", "ECOG 0-2", "creatinine ≤2.0×ULN", "(Gilbert syndrome ≤ 3.0×ULN)", "within 12 months after CR",
    "No serious mental disorders", "AML or BPDCN", "any of the following:", "; ", ", ", ".", ":", "\r\n", "\n", "\t",
    "  ", "between 18 and 75", "0~2", "three (3) months", "x ULN", "µmol/L", "10^9/L", "except", "unless", "(",
    ")", "Donor:", "relapsed/refractory", "CD123 positive", "\u00a0", "＞", "–", "≧",
]

protocol_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=40).map("".join)


def assert_exact(protocol):
    text = protocol.text
    for node in protocol.walk():
        s, e = node.span
        assert 0 <= s <= e <= len(text) and text[s:e] == node.text
        for c in node.constraints:
            assert text[c.span[0]:c.span[1]] == c.text
            if c.temporal and c.temporal.span:
                assert text[c.temporal.span[0]:c.temporal.span[1]] == c.temporal.text
            for x in c.exceptions:
                assert text[x.span[0]:x.span[1]] == x.text
    for sec in protocol.sections:
        assert text[sec.span[0]:sec.span[1]] == sec.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(protocol_text)
def test_any_text_parses_with_exact_spans(text):
    assert_exact(parse_protocol(text))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | protocol_text)
def test_normalization_maps_every_character_back(text):
    n = normalize(text)
    assert len(n.starts) == len(n.ends) == len(n.text)
    for i in range(len(n.text)):
        s, e = n.to_original(i, i + 1)
        assert 0 <= s < e <= len(text)
        if n.text[i] == text[s:e]:
            continue  # unchanged character
        assert e - s >= 1  # replaced: maps to its whole source
    # Monotone: the map never goes backwards, so spans stay spans.
    assert list(n.starts) == sorted(n.starts)
    if n.text:
        s, e = n.to_original(0, len(n.text))
        assert text[s:e].strip() or not text.strip() or s <= e


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Age ≥ 18 years", "ECOG 0-1", "Signed informed consent", "No active hepatitis B"]), min_size=1, max_size=6),
       st.sampled_from(["\n", "\r\n", "\n\n"]), st.sampled_from(["- ", "• ", "* ", ""]))
def test_every_line_is_covered(lines, newline, bullet):
    text = "Inclusion Criteria:" + newline + newline.join(bullet + ln for ln in lines)
    p = parse_protocol(text)
    spans = [n.span for n in p.walk()] + [s.span for s in p.sections]
    for line in lines:
        pos = text.find(line)
        assert any(s <= pos and pos + len(line) <= e for s, e in spans), line
    assert len(p.criteria) == len(lines)
