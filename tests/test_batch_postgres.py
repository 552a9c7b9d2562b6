"""NOTES from an OMOP ``NOTE`` table on a real PostgreSQL server.

``.ci/run`` starts a throwaway server and sets ``TRIALMATCH_TEST_PG_URL``; without
it these tests skip (the credential test at the end needs no server).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid

import pytest

from tests.batch_helpers import PROTOCOL, archive_rows, jsonl, run_cli, run_subprocess, summary, write_jsonl

PG_URL = os.environ.get("TRIALMATCH_TEST_PG_URL")
needs_pg = pytest.mark.skipif(not PG_URL, reason="TRIALMATCH_TEST_PG_URL is not set (.ci/run starts PostgreSQL)")


@pytest.fixture(scope="module")
def omop(tmp_path_factory):
    """A fresh schema holding an OMOP NOTE table of a small archive plus two bad rows; dropped afterwards."""
    import sqlalchemy as sa

    from matcher.io.database import _engine_url

    rows = archive_rows(tmp_path_factory.mktemp("pg"), 36, 9, seed=9)
    schema = f"tm_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(_engine_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"""CREATE TABLE {schema}.note (note_id BIGINT PRIMARY KEY, person_id BIGINT NOT NULL,
            note_date DATE, note_datetime TIMESTAMP, note_type_concept_id INTEGER, note_class_concept_id INTEGER,
            note_title VARCHAR(250), note_text TEXT, encoding_concept_id INTEGER, language_concept_id INTEGER)"""))
        table = []
        for i, r in enumerate(rows, start=1):
            table.append({"note_id": i, "person_id": int(r["patient_id"][3:]) + 1000, "note_text": r["text"],
                          "note_date": dt.date.fromisoformat(r["date"]) if r.get("date") else None, "note_title": r.get("note_type")})
        table.append({"note_id": 9001, "person_id": 1001, "note_text": "", "note_date": None, "note_title": None})
        table.append({"note_id": 9002, "person_id": 1002, "note_text": None, "note_date": None, "note_title": None})
        conn.execute(sa.text(f"INSERT INTO {schema}.note (note_id, person_id, note_text, note_date, note_title) "
                             "VALUES (:note_id, :person_id, :note_text, :note_date, :note_title)"), table)
    # the default query reads an unqualified "note": point search_path at the schema
    url = PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"
    yield url, rows, table
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@needs_pg
def test_match_reads_the_omop_note_table_with_the_default_query(omop, tmp_path, capsys):
    url, rows, table = omop
    out = tmp_path / "pg"
    code, err = run_cli(["match", PROTOCOL, url, "--out", out, "--workers", "2"], capsys)
    assert code == 0, err
    assert summary(err) == (len(table), len(rows), 2, 0)
    assert url.split("@")[0].split(":")[-1] not in err  # the password
    errors = jsonl(out / "errors.jsonl")
    assert sorted(e["id"] for e in errors) == ["9001", "9002"] and all(e["source"] == "database" for e in errors)
    # the same notes as a JSONL file give the same verdicts (ids differ: OMOP person_id/note_id are numbers)
    same = [dict(patient_id=str(t["person_id"]), note_id=str(t["note_id"]), text=t["note_text"],
                 date=t["note_date"].isoformat() if t["note_date"] else None, note_type=t["note_title"]) for t in table[:-2]]
    ref = tmp_path / "file"
    code, err = run_cli(["match", PROTOCOL, write_jsonl(tmp_path / "notes.jsonl", same), "--out", ref], capsys)
    assert code == 0, err
    assert (out / "results.jsonl").read_bytes() == (ref / "results.jsonl").read_bytes()
    assert len(jsonl(out / "results.jsonl")) == 9


@needs_pg
def test_extract_with_a_custom_query(omop, tmp_path, capsys):
    url, rows, _ = omop
    query = ("SELECT 'P' || person_id AS patient_id, note_id, note_text AS text, note_date AS date FROM note "
             "WHERE person_id IN (1000, 1001) AND note_text <> '' ORDER BY note_id")
    out = tmp_path / "facts.jsonl"
    code, err = run_cli(["extract", url, "--query", query, "--out", out], capsys)
    assert code == 0, err
    patients = jsonl(out)
    assert [p["patient_id"] for p in patients] == ["P1000", "P1001"]
    n = sum(r["patient_id"] in ("SYN000000", "SYN000001") for r in rows)
    assert summary(err) == (n, n, 0, 0)
    assert all(f["note_id"].isdigit() for p in patients for f in p["facts"])


@needs_pg
def test_a_bad_query_is_one_line_without_the_password(omop, tmp_path):
    url, _, _ = omop
    proc = run_subprocess(["extract", url, "--query", "SELECT nope FROM missing_table"])
    assert proc.returncode == 2 and proc.stderr.startswith("error: query failed on postgresql://")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert url.split("@")[0].split(":")[-1] not in proc.stderr + proc.stdout


def test_credentials_are_never_echoed_on_a_failed_connection(tmp_path, capsys):
    secret = "Sup3r-S3cret-pw"
    targets = [f"postgresql://alice:{secret}@127.0.0.1:1/omop"]
    if PG_URL:  # a real server, a wrong password
        import sqlalchemy as sa

        u = sa.engine.make_url(PG_URL)
        targets.append(f"postgresql://{u.username}:{secret}@{u.host}:{u.port}/{u.database}")
    for url in targets:
        for args in (["extract", url], ["match", PROTOCOL, url, "--out", tmp_path / "out"]):
            code, err = run_cli(args, capsys)
            assert code == 2, err
            assert secret not in err
            user = url.split("//")[1].split(":")[0]
            assert err.startswith(f"error: cannot connect to postgresql://{user}:***@") and len(err.strip().splitlines()) == 1
    manifests = "".join(p.read_text() for p in tmp_path.rglob("manifest.json"))
    assert secret not in manifests
    proc = run_subprocess(["extract", targets[-1]])  # the real process: exit code and nothing else on stderr
    assert proc.returncode == 2 and secret not in proc.stderr + proc.stdout and "Traceback" not in proc.stderr
