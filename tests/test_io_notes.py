"""Notes readers: every contract input form; bad rows become error records with a location."""

from __future__ import annotations

import json
import sqlite3

import pytest

from matcher.engine.partition import partition_notes, read_partition
from matcher.errors import UsageError
from matcher.io.notes import NoteRow, ReadOptions, iter_notes, safe_url
from nlp.schema import ErrorRecord

NOTE = "Progress note. AML in CR1. Creatinine 0.9 mg/dL (0.6-1.2)."


def rows_of(items):
    items = list(items)
    return [i for i in items if isinstance(i, NoteRow)], [i for i in items if isinstance(i, ErrorRecord)]


def test_jsonl_with_every_kind_of_bad_row(tmp_path):
    path = tmp_path / "notes.jsonl"
    good = {"patient_id": "P1", "note_id": "n1", "text": NOTE, "date": "2026-03-12", "note_type": "progress"}
    lines = [json.dumps(good).encode(), b"{broken", json.dumps({"patient_id": "P1", "note_id": "n2", "text": ""}).encode(),
             json.dumps({"note_id": "n3", "text": NOTE}).encode(), b"\xc3\x28 not utf8",
             json.dumps({"patient_id": "P2", "note_id": "n4", "text": "x" * 70}).encode(),
             json.dumps({"patient_id": "P2", "note_id": "n5", "text": "bin\x00ary"}).encode()]
    path.write_bytes(b"\n".join(lines) + b"\n")
    ok, bad = rows_of(iter_notes(path, ReadOptions(max_note_chars=60)))
    assert [r.note_id for r in ok] == ["n1"] and ok[0].date == "2026-03-12" and ok[0].note_type == "progress"
    reasons = {e.location: e.reason for e in bad}
    assert set(reasons) == {"line 2", "line 3", "line 4", "line 5", "line 6", "line 7"}
    assert "invalid JSON" in reasons["line 2"] and "empty text" in reasons["line 3"]
    assert "patient_id" in reasons["line 4"] and "UTF-8" in reasons["line 5"]
    assert "over --max-note-chars" in reasons["line 6"] and "binary" in reasons["line 7"]


def test_oversize_notes_can_be_truncated_and_are_recorded(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text(json.dumps({"patient_id": "P", "note_id": "n", "text": "a" * 100}) + "\n", encoding="utf-8")
    counts = partition_notes(str(path), ReadOptions(max_note_chars=10, oversize="truncate"), tmp_path / "w", 4)
    assert counts.used == 1 and counts.truncated == 1
    rows = [r for k in range(4) for rs in read_partition(tmp_path / "w" / f"part-{k:04d}.jsonl").values() for r in rs]
    assert len(rows[0].text) == 10
    assert "truncated" in (tmp_path / "w" / "errors-pass1.jsonl").read_text()


def test_duplicate_note_ids_and_counts_add_up(tmp_path):
    path = tmp_path / "n.jsonl"
    rows = [{"patient_id": "P", "note_id": "n1", "text": NOTE}, {"patient_id": "P", "note_id": "n1", "text": NOTE},
            {"patient_id": "Q", "note_id": "n2", "text": NOTE}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "oops\n", encoding="utf-8")
    c = partition_notes(str(path), ReadOptions(), tmp_path / "w", 8, keep_patient=lambda pid: pid != "Q")
    assert (c.read, c.used, c.rejected, c.skipped) == (4, 1, 2, 1)
    assert c.read == c.used + c.rejected + c.skipped
    errors = [json.loads(x)["reason"] for x in (tmp_path / "w" / "errors-pass1.jsonl").read_text().splitlines()]
    assert errors == ["duplicate note_id", "invalid JSON: Expecting value (column 1)"]


def test_partitions_group_each_patient_in_one_place_whatever_the_order(tmp_path):
    path = tmp_path / "n.jsonl"
    rows = [{"patient_id": f"P{i % 7}", "note_id": f"n{i}", "text": NOTE} for i in range(60)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    partition_notes(str(path), ReadOptions(), tmp_path / "w", 5)
    where = {}
    for k in range(5):
        for pid, notes in read_partition(tmp_path / "w" / f"part-{k:04d}.jsonl").items():
            assert pid not in where
            where[pid] = [n.note_id for n in notes]
    assert sorted(where) == [f"P{i}" for i in range(7)]
    assert where["P3"] == [f"n{i}" for i in range(60) if i % 7 == 3]  # input order kept


def test_csv_with_quoted_multiline_text(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('patient_id,note_id,text,date,extra\nP1,n1,"line one\nline two, with comma",2026-01-02,x\nP1,n2,,2026-01-03,y\n', encoding="utf-8")
    ok, bad = rows_of(iter_notes(path))
    assert ok[0].text == "line one\nline two, with comma" and ok[0].date == "2026-01-02"
    assert bad[0].location == "row 3" and bad[0].id == "n2"


def test_csv_bad_bytes_reject_only_that_row(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes(b"patient_id,note_id,text\nP1,n1,fine\nP1,n2,caf\xe9\nP1,n3,also fine\n")
    ok, bad = rows_of(iter_notes(path))
    assert [r.note_id for r in ok] == ["n1", "n3"] and bad[0].id == "n2" and "UTF-8" in bad[0].reason


def test_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "notes.parquet"
    pq.write_table(pa.Table.from_pylist([{"patient_id": "P1", "note_id": "n1", "text": NOTE, "date": "2026-02-01"},
                                         {"patient_id": "P1", "note_id": "n2", "text": None, "date": None}]), path)
    ok, bad = rows_of(iter_notes(path))
    assert ok[0].text == NOTE and bad[0].location == "row 2"


def test_directory_of_txt_files(tmp_path):
    (tmp_path / "P1").mkdir()
    (tmp_path / "P1" / "a.txt").write_text(NOTE, encoding="utf-8")
    (tmp_path / "P2").mkdir()
    (tmp_path / "P2" / "b.txt").write_bytes(b"\xff\xfe\xfa")
    ok, bad = rows_of(iter_notes(tmp_path))
    assert (ok[0].patient_id, ok[0].note_id) == ("P1", "P1/a.txt")
    assert bad[0].id == "P2/b.txt" and "UTF-8" in bad[0].reason
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "patient7.txt").write_text(NOTE, encoding="utf-8")
    ok, _ = rows_of(iter_notes(flat))
    assert (ok[0].patient_id, ok[0].note_id) == ("patient7", "patient7.txt")


def test_glob_of_files(tmp_path):
    for i in range(2):
        (tmp_path / f"part{i}.jsonl").write_text(json.dumps({"patient_id": f"P{i}", "note_id": f"n{i}", "text": NOTE}) + "\n", encoding="utf-8")
    ok, _ = rows_of(iter_notes(str(tmp_path / "part*.jsonl")))
    assert [r.note_id for r in ok] == ["n0", "n1"]


def test_sqlite_omop_note_table(tmp_path):
    db = tmp_path / "omop.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE note (note_id INTEGER, person_id INTEGER, note_date TEXT, note_title TEXT, note_text TEXT)")
    con.executemany("INSERT INTO note VALUES (?,?,?,?,?)", [(1, 10, "2026-01-05", "Progress", NOTE), (2, 11, "2026-01-06", None, "")])
    con.commit()
    con.close()
    ok, bad = rows_of(iter_notes(f"sqlite:///{db}"))
    assert (ok[0].patient_id, ok[0].note_id, ok[0].date, ok[0].note_type) == ("10", "1", "2026-01-05", "Progress")
    assert bad[0].id == "2"
    ok, _ = rows_of(iter_notes(f"sqlite:///{db}", ReadOptions(query="SELECT 'X' AS patient_id, note_id, note_text AS text FROM note WHERE note_id = 1")))
    assert ok[0].patient_id == "X"


def test_duckdb_file(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    db = tmp_path / "omop.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE note (note_id INTEGER, person_id INTEGER, note_date DATE, note_title VARCHAR, note_text VARCHAR)")
    con.execute("INSERT INTO note VALUES (1, 10, DATE '2026-01-05', 'Progress', ?)", [NOTE])
    con.close()
    ok, _ = rows_of(iter_notes(f"duckdb:///{db}"))
    assert (ok[0].patient_id, ok[0].date) == ("10", "2026-01-05")


def test_unusable_inputs_are_usage_errors(tmp_path):
    with pytest.raises(UsageError):
        list(iter_notes(tmp_path / "missing.jsonl"))
    (tmp_path / "notes.xml").write_text("<x/>")
    with pytest.raises(UsageError):
        list(iter_notes(tmp_path / "notes.xml"))
    with pytest.raises(UsageError) as err:
        list(iter_notes("postgresql://alice:s3cret@127.0.0.1:1/nodb"))
    assert "s3cret" not in str(err.value)


def test_credentials_are_hidden():
    assert safe_url("postgresql://alice:s3cret@db:5432/omop") == "postgresql://alice:***@db:5432/omop"
