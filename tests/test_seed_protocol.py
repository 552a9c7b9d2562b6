"""The seed protocol must parse exactly into the hand-written gold structure."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SEED_GOLD

GOLD = json.loads(SEED_GOLD.read_text(encoding="utf-8"))
GOLD_NODES = {n["id"]: n for n in GOLD["nodes"]}


def _flat(protocol):
    out = {}

    def walk(node, parent):
        out[node.id] = (node, parent)
        for child in node.children:
            walk(child, node.id)

    for node in protocol.criteria:
        walk(node, None)
    return out


def test_preamble_is_the_title_and_summary(seed_protocol, seed_text):
    s, e = seed_protocol.preamble_span
    assert (s, e) == tuple(GOLD["preamble_span"])
    assert seed_text[s:e].startswith("Clinical Study of Targeting CD123")
    assert not any(c.span[0] < e for c in seed_protocol.criteria)


def test_tree_has_exactly_the_gold_nodes(seed_protocol):
    flat = _flat(seed_protocol)
    assert sorted(flat) == sorted(GOLD_NODES)
    for cid, (node, parent) in flat.items():
        assert parent == GOLD_NODES[cid]["parent_id"], cid


@pytest.mark.parametrize("cid", sorted(GOLD_NODES))
def test_node_matches_gold(seed_protocol, seed_text, cid):
    gold = GOLD_NODES[cid]
    node, _ = _flat(seed_protocol)[cid]
    assert node.kind == gold["kind"]
    assert list(node.span) == gold["span"], (node.text, gold["text"])
    assert node.text == gold["text"] == seed_text[node.span[0]:node.span[1]]
    assert node.logic == gold["logic"]
    assert node.category == gold["category"]
    assert node.status == "parsed"
    assert len(node.constraints) == len(gold["constraints"]), [c.text for c in node.constraints]
    for got, want in zip(node.constraints, gold["constraints"]):
        assert got.concept.label == want["concept"]["label"]
        assert got.concept.domain == want["concept"]["domain"]
        assert (got.comparator, got.value, got.value2, got.unit) == (want["comparator"], want["value"], want["value2"], want["unit"])
        assert got.negated == want["negated"]
        assert got.text == want["text"] and list(got.span) == want["span"]
        assert seed_text[got.span[0]:got.span[1]] == got.text
        if want["temporal"] is None:
            assert got.temporal is None
        else:
            t = got.temporal
            assert (t.comparator, t.value, t.unit, t.days, t.anchor) == tuple(want["temporal"][k] for k in ("comparator", "value", "unit", "days", "anchor"))
        assert len(got.exceptions) == len(want["exceptions"])
        for gx, wx in zip(got.exceptions, want["exceptions"]):
            assert gx.condition.label == wx["condition"]["label"]
            assert (gx.comparator, gx.value, gx.unit) == (wx["comparator"], wx["value"], wx["unit"])
            assert seed_text[gx.span[0]:gx.span[1]] == gx.text


def test_every_seed_line_is_covered(seed_protocol, seed_text):
    spans = [seed_protocol.preamble_span] + [n.span for n in seed_protocol.walk()]
    pos = 0
    for line in seed_text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        words = [i for i in range(start, end) if seed_text[i].isalpha()]
        uncovered = [i for i in words if not any(s <= i < e for s, e in spans)]
        assert not uncovered, seed_text[start:end]
