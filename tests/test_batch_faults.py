"""A corrupted archive, unsorted input, --pairs, file modes and what reaches the log.

Every bad row must be in errors.jsonl with its location, the counts must add up
(read = used + rejected + skipped), and no note text may reach stderr unless
--log-text is given.
"""

from __future__ import annotations

import json
import stat

import pytest

from tests.batch_helpers import MARKER, PROTOCOL, archive_rows, jsonl, run_cli, summary, write_jsonl


@pytest.fixture(scope="module")
def good_rows(tmp_path_factory):
    rows = archive_rows(tmp_path_factory.mktemp("arch"), 30, 6)
    rows[3]["text"] = f"Ref {MARKER}. " + rows[3]["text"]
    return rows


def corrupted(good_rows, path):
    """The good rows shuffled among every kind of bad row; returns (path, expected bad line numbers -> reason part)."""
    big = dict(good_rows[0], note_id="BIG-1", text="Creatinine 1.1 mg/dL. " * 460_000)  # about 10 MB
    lines = list(good_rows[::-1])  # unsorted: patients interleaved, newest first
    bad = {
        b'{"patient_id": "SYN000001", "note_id": "broken-1", "text": "cut off': "invalid JSON",
        json.dumps({"patient_id": "SYN000001", "note_id": "no-text"}).encode(): "missing or empty text",
        json.dumps({"patient_id": "SYN000002", "note_id": "blank", "text": "   \n "}).encode(): "missing or empty text",
        b'{"patient_id": "SYN000002", "note_id": "latin1", "text": "caf\xe9 au lait"}': "not UTF-8",
        bytes(range(1, 9)) + b"\x00\x00\xff\xfe binary \x00 blob" + bytes(range(128, 250)): "binary",
        json.dumps({"patient_id": "SYN000003", "note_id": "nul", "text": "abc\u0000def"}).encode(): "binary",
        json.dumps(big).encode(): "over --max-note-chars",
        json.dumps({"note_id": "no-patient", "text": "AML"}).encode(): "missing patient_id",
    }
    for i, raw in enumerate(bad):
        lines.insert(2 + i * 3, raw)
    duplicate = json.dumps(dict(good_rows[3], patient_id="SYN000004")).encode()  # after its first occurrence
    bad[duplicate] = "duplicate note_id"
    lines.append(duplicate)
    write_jsonl(path, lines)
    expected = {}
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            expected[f"line {number}"] = bad[raw]
    return path, expected


def test_corrupted_archive_counts_add_up_and_every_bad_row_is_recorded(tmp_path, good_rows, capsys):
    notes, expected = corrupted(good_rows, tmp_path / "notes.jsonl")
    out = tmp_path / "run"
    code, err = run_cli(["match", PROTOCOL, notes, "--out", out], capsys)
    assert code == 0, err
    read, used, rejected, skipped = summary(err)
    assert (read, used, rejected, skipped) == (len(good_rows) + len(expected), len(good_rows), len(expected), 0)
    assert read == used + rejected + skipped
    errors = jsonl(out / "errors.jsonl")
    assert len(errors) == rejected
    assert {e["location"]: e["reason"] for e in errors}.keys() == expected.keys()
    for e in errors:
        assert e["source"] == str(notes)
        assert expected[e["location"]] in e["reason"], e
    assert [e["location"] for e in errors] == sorted(expected, key=lambda loc: int(loc.split()[1]))  # input order
    results = jsonl(out / "results.jsonl")
    assert sorted(r["patient_id"] for r in results) == sorted({r["patient_id"] for r in good_rows})
    assert not (out / ".work").exists()  # partitions hold note text: removed after success


def test_oversize_note_truncated_is_used_and_recorded(tmp_path, good_rows, capsys):
    big = dict(good_rows[0], note_id="BIG-1", text="Creatinine 1.1 mg/dL (0.6-1.2). " * 320_000)  # about 10 MB
    notes = write_jsonl(tmp_path / "notes.jsonl", good_rows[:5] + [big])
    out = tmp_path / "run"
    code, err = run_cli(["match", PROTOCOL, notes, "--out", out, "--max-note-chars", "5000", "--oversize", "truncate"], capsys)
    assert code == 0, err
    assert summary(err) == (6, 6, 0, 0)
    assert "1 truncated" in err
    (record,) = jsonl(out / "errors.jsonl")
    assert record["id"] == "BIG-1" and record["location"] == "line 6" and "truncated to --max-note-chars 5000" in record["reason"]
    assert MARKER not in (out / "errors.jsonl").read_text(encoding="utf-8")


def test_unsorted_input_gives_the_same_results_as_sorted(tmp_path, capsys):
    ordered = archive_rows(tmp_path, 40, 8, seed=5)
    shuffled = archive_rows(tmp_path, 40, 8, seed=5, unsorted=True)
    assert ordered != shuffled and sorted(map(json.dumps, ordered)) == sorted(map(json.dumps, shuffled))
    outs = []
    for name, rows in (("sorted", ordered), ("shuffled", shuffled)):
        out = tmp_path / name
        code, err = run_cli(["match", PROTOCOL, write_jsonl(tmp_path / f"{name}.jsonl", rows), "--out", out], capsys)
        assert code == 0, err
        outs.append((out / "results.jsonl").read_bytes())
    assert outs[0] == outs[1] and outs[0].count(b"\n") == 8


def test_pairs_skip_other_patients_and_are_counted(tmp_path, good_rows, capsys):
    notes = write_jsonl(tmp_path / "notes.jsonl", good_rows)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("trial_id,patient_id\ncd123-car-nk-protocol,SYN000001\ncd123-car-nk-protocol,SYN000004\n"
                     "other-trial,SYN000002\n", encoding="utf-8")
    out = tmp_path / "run"
    code, err = run_cli(["match", PROTOCOL, notes, "--out", out, "--pairs", pairs], capsys)
    assert code == 0, err
    kept = sum(r["patient_id"] in ("SYN000001", "SYN000004", "SYN000002") for r in good_rows)
    assert summary(err) == (len(good_rows), kept, 0, len(good_rows) - kept)
    results = jsonl(out / "results.jsonl")
    # SYN000002 is only paired with a trial that is not in PROTOCOL: screened against nothing
    assert [(r["trial_id"], r["patient_id"]) for r in results] == [("cd123-car-nk-protocol", "SYN000001"),
                                                                   ("cd123-car-nk-protocol", "SYN000004")]


def test_outputs_are_not_world_readable_and_workers_agree(tmp_path, good_rows, capsys):
    notes = write_jsonl(tmp_path / "notes.jsonl", good_rows)
    runs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        code, err = run_cli(["match", PROTOCOL, notes, "--out", out, "--workers", workers, "--format", "parquet"], capsys)
        assert code == 0, err
        for name in ("results.jsonl", "errors.jsonl", "report.html", "results.parquet"):
            mode = stat.S_IMODE((out / name).stat().st_mode)
            assert mode & 0o077 == 0, (name, oct(mode))
        runs.append((out / "results.jsonl").read_bytes())
    assert runs[0] == runs[1]
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "w2" / "results.parquet")
    assert table.column("patient_id").to_pylist() == [json.loads(x)["patient_id"] for x in runs[0].decode().splitlines()]


def test_no_note_text_in_the_log_unless_asked(tmp_path, good_rows, capsys):
    rows = good_rows + [dict(good_rows[3], patient_id="SYN000009")]  # a duplicate carrying the marker
    notes = write_jsonl(tmp_path / "notes.jsonl", rows)
    code, err = run_cli(["match", PROTOCOL, notes, "--out", tmp_path / "quiet"], capsys)
    assert code == 0 and MARKER not in err
    assert "duplicate note_id" in err and "line 31" in err  # the warning says where and why, not what
    code, err = run_cli(["extract", notes, "--out", tmp_path / "facts.jsonl"], capsys)
    assert code == 0 and MARKER not in err
    code, err = run_cli(["match", PROTOCOL, notes, "--out", tmp_path / "loud", "--log-text"], capsys)
    assert code == 0 and MARKER in err  # opt-in: an excerpt of the rejected note


def test_a_note_that_breaks_extraction_is_recorded_and_the_run_goes_on(tmp_path, good_rows, capsys, monkeypatch):
    import nlp.pipeline

    real = nlp.pipeline.extract_note

    def fragile(text, note_id, date=None, nlp=None):
        if MARKER in text:
            raise RuntimeError(f"cannot parse {text[:40]}")
        return real(text, note_id, date, nlp=nlp)

    monkeypatch.setattr(nlp.pipeline, "extract_note", fragile)
    notes = write_jsonl(tmp_path / "notes.jsonl", good_rows)
    out = tmp_path / "run"
    code, err = run_cli(["match", PROTOCOL, notes, "--out", out], capsys)
    assert code == 0, err
    assert summary(err) == (len(good_rows), len(good_rows) - 1, 1, 0)
    (record,) = jsonl(out / "errors.jsonl")
    assert record == {"source": str(notes), "location": "line 4", "id": good_rows[3]["note_id"],
                      "reason": "extraction failed: RuntimeError"}
    assert len(jsonl(out / "results.jsonl")) == 6  # the patient is still screened on its other notes
    code, err = run_cli(["match", PROTOCOL, notes, "--out", tmp_path / "loud", "--log-text"], capsys)
    assert MARKER in (tmp_path / "loud" / "errors.jsonl").read_text(encoding="utf-8")


def test_extract_counts_and_errors_file(tmp_path, good_rows, capsys):
    notes, expected = corrupted(good_rows, tmp_path / "notes.jsonl")
    out = tmp_path / "facts.jsonl"
    code, err = run_cli(["extract", notes, "--out", out, "--workers", "2"], capsys)
    assert code == 0, err
    assert summary(err) == (len(good_rows) + len(expected), len(good_rows), len(expected), 0)
    patients = jsonl(out)
    assert [p["patient_id"] for p in patients] == sorted({r["patient_id"] for r in good_rows})
    assert len(jsonl(tmp_path / "facts.jsonl.errors.jsonl")) == len(expected)
    assert stat.S_IMODE(out.stat().st_mode) & 0o077 == 0
