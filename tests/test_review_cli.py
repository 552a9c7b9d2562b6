"""`trialmatch review`: outputs, one-line errors with exit 2, bad rows recorded with exit 0."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from matcher.cli import main
from tests.review_helpers import MANUAL, seed_results, write_results


@pytest.fixture(scope="module")
def results_file(tmp_path_factory):
    return write_results(seed_results(), tmp_path_factory.mktemp("res") / "results.jsonl")


def run(*args):
    return subprocess.run([sys.executable, "-m", "matcher.cli", *args], capture_output=True, text=True, encoding="utf-8")


def test_review_writes_the_contract_outputs(tmp_path, results_file):
    out = tmp_path / "review"
    proc = run("review", str(results_file), str(MANUAL), "--out", str(out), "--bootstrap", "200")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["agreement.json", "disagreements.csv", "review.html", "unmatched.csv"]
    doc = json.loads((out / "agreement.json").read_text(encoding="utf-8"))
    v = doc["verdict"]
    assert v["n"] == 39 and 0 <= v["accuracy"] <= 1 and -1 <= v["kappa"] <= 1 and "criteria" in doc
    assert v["accuracy"] == 33 / 39  # unrounded: the six simulated tool errors each change a verdict
    assert set(v["sensitivity_specificity"]) >= {"eligible", "ineligible"} and "work_saved" in v
    assert doc["method"]["kappa_ci"].startswith("95% percentile bootstrap, 200 resamples")
    # The log has numbers only; note text (evidence) never reaches it.
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1 and "evidence" not in proc.stderr
    assert "S06-n" not in proc.stderr and "CD123" not in proc.stderr
    unmatched = (out / "unmatched.csv").read_text(encoding="utf-8").splitlines()
    assert len(unmatched) == 1 + 4  # header + the four problem rows of the seed sheet


def test_results_directory_is_accepted_and_outputs_are_deterministic(tmp_path, results_file):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["review", str(results_file.parent), str(MANUAL), "--out", str(a), "--bootstrap", "100"]) == 0
    assert main(["review", str(results_file), str(MANUAL), "--out", str(b), "--bootstrap", "100"]) == 0
    for name in ("disagreements.csv", "unmatched.csv", "review.html"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ja = json.loads((a / "agreement.json").read_text(encoding="utf-8"))
    jb = json.loads((b / "agreement.json").read_text(encoding="utf-8"))
    ja.pop("inputs"), jb.pop("inputs")  # the RESULTS path differs (directory vs file)
    assert ja == jb


def test_bad_result_lines_are_recorded_not_fatal(tmp_path, results_file):
    res = tmp_path / "results.jsonl"
    res.write_text(results_file.read_text(encoding="utf-8") + "{broken\n" + json.dumps({"trial_id": "x"}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["review", str(res), str(MANUAL), "--out", str(out), "--bootstrap", "0"]) == 0
    doc = json.loads((out / "agreement.json").read_text(encoding="utf-8"))
    assert [e["location"] for e in doc["input_errors"]] == ["line 40", "line 41"]
    assert doc["verdict"]["kappa_ci"] == [None, None]  # --bootstrap 0: no interval, honestly null


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


def test_unusable_inputs_exit_2_with_one_line(tmp_path, capsys, results_file):
    out = str(tmp_path / "o")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    binary = tmp_path / "sheet.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00binary")
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("name,comment\nx,y\n", encoding="utf-8")
    xlsx = tmp_path / "sheet.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    bad_results = tmp_path / "bad.jsonl"
    bad_results.write_text("{nope\n", encoding="utf-8")
    bad_labels = tmp_path / "labels.json"
    bad_labels.write_text("{nope", encoding="utf-8")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    cases = [
        (["review", str(tmp_path / "missing.jsonl"), str(MANUAL), "--out", out], "RESULTS not found"),
        (["review", str(bad_results), str(MANUAL), "--out", out], "no usable MatchResult"),
        (["review", str(results_file), str(tmp_path / "missing.csv"), "--out", out], "MANUAL not found"),
        (["review", str(results_file), str(empty), "--out", out], "MANUAL is empty"),
        (["review", str(results_file), str(binary), "--out", out], "looks binary"),
        (["review", str(results_file), str(nocols), "--out", out], "no patient_id and status"),
        (["review", str(results_file), str(MANUAL), "--out", str(a_file)], "--out must be a directory"),
        (["review", str(results_file), str(MANUAL), "--out", out, "--labels", str(bad_labels)], "not valid JSON"),
        (["review", str(results_file), str(MANUAL), "--out", out, "--reference-reviewer", "Dr. X"], "reference reviewer 'Dr. X'"),
        (["review", str(results_file), str(MANUAL), "--out", out, "--target-sensitivity", "2"], "between 0 and 1"),
        (["review", str(results_file), str(MANUAL)], "--out"),
    ]
    for argv, expected in cases:
        assert expected in _error(capsys, argv), argv
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        assert "save it as CSV" in _error(capsys, ["review", str(results_file), str(xlsx), "--out", out])


def test_user_labels_file_via_cli(tmp_path, results_file):
    sheet = tmp_path / "m.csv"
    sheet.write_text("trial_id,patient_id,criterion_id,status\ncd123-car-nk-protocol,S01,I1,ja\n", encoding="utf-8")
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"status": {"met": ["ja"]}}), encoding="utf-8")
    out = tmp_path / "o"
    assert main(["review", str(results_file), str(sheet), "--out", str(out), "--bootstrap", "0"]) == 0
    assert json.loads((out / "agreement.json").read_text(encoding="utf-8"))["criteria"]["overall"]["n"] == 0
    assert main(["review", str(results_file), str(sheet), "--out", str(out), "--labels", str(labels), "--bootstrap", "0"]) == 0
    doc = json.loads((out / "agreement.json").read_text(encoding="utf-8"))
    assert doc["criteria"]["overall"]["n"] == 1 and doc["unmatched"] == []
