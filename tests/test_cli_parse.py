"""`trialmatch parse`: contract output, one-line errors, per-row error records."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from matcher.cli import main
from tests.conftest import SEED


def run(*args):
    return subprocess.run([sys.executable, "-m", "matcher.cli", *args], capture_output=True, text=True, encoding="utf-8")


def test_parse_txt_writes_one_protocol(tmp_path):
    out = tmp_path / "seed.json"
    assert main(["parse", str(SEED), "--out", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["trial_id"] == "cd123-car-nk-protocol"
    assert doc["text"] == SEED.read_text(encoding="utf-8")
    ids = []

    def walk(n):
        ids.append(n["id"])
        for c in n["children"]:
            walk(c)
    for n in doc["criteria"]:
        walk(n)
    assert "I6.2.4" in ids and doc["preamble_span"][0] == 0


def test_parse_jsonl_keeps_going_after_bad_rows(tmp_path):
    src = tmp_path / "trials.jsonl"
    src.write_bytes(
        json.dumps({"nct_id": "NCT1", "criteria": "Inclusion Criteria:\n- Age >= 18 years"}).encode() + b"\n"
        + b"{not json\n"
        + json.dumps({"trial_id": "NCT3", "text": ""}).encode() + b"\n"
        + b"\xff\xfe broken bytes\n"
        + json.dumps({"trial_id": "NCT5", "text": "ECOG 0-1", "title": "A trial"}).encode() + b"\n"
    )
    out = tmp_path / "parsed.jsonl"
    assert main(["parse", str(src), "--out", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["trial_id"] for r in rows] == ["NCT1", "NCT5"]
    assert rows[1]["title"] == "A trial"
    errors = [json.loads(x) for x in (tmp_path / "parsed.jsonl.errors.jsonl").read_text().splitlines()]
    assert [e["location"] for e in errors] == ["line 2", "line 3", "line 4"]
    assert "invalid JSON" in errors[0]["reason"] and "empty" in errors[1]["reason"] and "UTF-8" in errors[2]["reason"]


def test_parse_jsonl_errors_go_to_stderr_without_out(tmp_path):
    src = tmp_path / "t.jsonl"
    src.write_text('{"nct_id": "A", "criteria": "Age > 18"}\n[1, 2]\n', encoding="utf-8")
    r = run("parse", str(src))
    assert r.returncode == 0
    assert json.loads(r.stdout)["trial_id"] == "A"
    assert json.loads(r.stderr)["reason"] == "a JSON object was expected"


@pytest.mark.parametrize("content, message", [
    (None, "not found"),
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\x00\x01\x02binary", "binary"),
    (b"Age \xe9 18", "not UTF-8"),
])
def test_unusable_input_is_one_line_error(tmp_path, content, message):
    path = tmp_path / "p.txt"
    if content is not None:
        path.write_bytes(content)
    r = run("parse", str(path))
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and message in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_bad_arguments_are_one_line_errors(tmp_path):
    for args in ([], ["parse"], ["frobnicate"], ["parse", str(tmp_path / "x.pdf")]):
        r = run(*args)
        assert r.returncode == 2, args
        assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, (args, r.stderr)
