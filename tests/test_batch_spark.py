"""The Spark engine in local[2] mode equals the local engine on the same input.

Skipped when PySpark (extra ``trialmatch[spark]``) or Java is missing.
"""

from __future__ import annotations

import json
import shutil
import stat

import pytest

from tests.batch_helpers import MARKER, PROTOCOL, archive_rows, jsonl, run_cli, summary, write_jsonl

pytest.importorskip("pyspark")
if not shutil.which("java") and not __import__("os").environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed (Spark needs it)", allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark():
    import os

    os.environ["TRIALMATCH_SPARK_MASTER"] = "local[2]"
    from matcher.spark import get_session

    session = get_session(2, "OFF")
    yield session
    session.stop()
    os.environ.pop("TRIALMATCH_SPARK_MASTER", None)


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spark")
    rows = archive_rows(tmp, 48, 12, seed=21, unsorted=True)
    rows[4]["text"] = f"Ref {MARKER}. " + rows[4]["text"]
    rows.insert(7, b'{"patient_id": "SYN000003", "note_id": "cut')
    rows.insert(20, json.dumps({"patient_id": "SYN000004", "note_id": "empty", "text": " "}).encode())
    rows.append(json.dumps(dict(rows[10], patient_id="SYN000099")).encode())  # duplicate note id
    return write_jsonl(tmp / "notes.jsonl", rows)


def test_spark_cli_equals_the_local_engine(spark, notes, tmp_path, capsys):
    outs = {}
    for engine in ("local", "spark"):
        out = tmp_path / engine
        code, err = run_cli(["match", PROTOCOL, notes, "--out", out, "--engine", engine, "--workers", "2",
                             "--format", "parquet"], capsys)
        assert code == 0, err
        assert summary(err) == (51, 48, 3, 0)
        assert MARKER not in err
        outs[engine] = out
    for name in ("results.jsonl", "errors.jsonl"):
        assert (outs["spark"] / name).read_bytes() == (outs["local"] / name).read_bytes(), name
    assert len(jsonl(outs["spark"] / "results.jsonl")) == 12 and len(jsonl(outs["spark"] / "errors.jsonl")) == 3
    for name in ("results.jsonl", "errors.jsonl", "report.html", "results.parquet"):
        assert stat.S_IMODE((outs["spark"] / name).stat().st_mode) & 0o077 == 0
    assert not (outs["spark"] / ".work").exists()


def test_match_dataframe_runs_on_any_dataframe(spark, notes, tmp_path, capsys):
    import pandas as pd

    from matcher.spark import match_dataframe, screen_dataframe

    first = {}
    for line in notes.read_text(encoding="utf-8").splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if r.get("text", "").strip():
            first.setdefault(r["note_id"], r)
    rows = list(first.values())
    df = spark.createDataFrame(pd.DataFrame(rows + [{"patient_id": "P-EMPTY", "note_id": "e1", "text": "", "date": None,
                                                     "note_type": None}]))
    results = match_dataframe(df, str(PROTOCOL)).orderBy("trial_id", "patient_id").collect()
    local = tmp_path / "local"
    code, err = run_cli(["match", PROTOCOL, write_jsonl(tmp_path / "clean.jsonl", rows), "--out", local], capsys)
    assert code == 0, err
    assert [r["result"] for r in results] == (local / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(results[0]["criteria"]) == json.loads(results[0]["result"])["criteria"]
    screened = screen_dataframe(df, str(PROTOCOL)).filter("kind = 'error'").collect()
    assert [json.loads(r["record"])["id"] for r in screened] == ["e1"]


def test_spark_submit_job_from_parquet_to_parquet(spark, notes, tmp_path, capsys):
    """``spark-submit matcher/spark.py PROTOCOL NOTES OUT`` (run in-process on the test session)."""
    import pandas as pd
    import pyarrow.parquet as pq

    from matcher.spark import main

    rows = []
    for line in notes.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    pd.DataFrame(rows).to_parquet(tmp_path / "notes.parquet")
    assert main([str(PROTOCOL), str(tmp_path / "notes.parquet"), str(tmp_path / "out")]) == 0
    results = pq.read_table(tmp_path / "out" / "results").to_pandas()
    errors = pq.read_table(tmp_path / "out" / "errors").to_pandas()
    assert len(results) == 12 and "SYN000099" not in set(results.patient_id)  # its only note is the later duplicate
    reasons = sorted(json.loads(r)["reason"] for r in errors.record)
    assert reasons == ["duplicate note_id", "missing or empty text"]
    assert "12 results, 2 error records" in capsys.readouterr().err
