"""Nothing lost, nothing twice: kill -9 in the middle of a run, then --resume.

The resumed run's results.jsonl and errors.jsonl must be byte-identical to an
uninterrupted run's. These tests start real processes and kill them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.batch_helpers import PROTOCOL, ROOT, archive_rows, run_cli, run_subprocess, write_jsonl

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """About 40 partitions' worth of work with a few bad rows, shuffled."""
    tmp = tmp_path_factory.mktemp("resume")
    rows = archive_rows(tmp, 160, 40, seed=3, unsorted=True)
    rows.insert(17, b"{not json")
    rows.insert(90, json.dumps({"patient_id": "SYN000001", "note_id": "empty", "text": ""}).encode())
    rows.append(json.dumps(rows[5]).encode())  # a duplicate note id
    return write_jsonl(tmp / "notes.jsonl", rows)


@pytest.fixture(scope="module")
def baseline(archive, tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline") / "run"
    proc = run_subprocess(["match", PROTOCOL, archive, "--out", out])
    assert proc.returncode == 0, proc.stderr
    return out


def _kill_after(args, done_file, at_least: int, timeout: float = 120) -> int:
    """Start the CLI, SIGKILL its whole process group once ``done_file`` has ``at_least`` lines."""
    proc = subprocess.Popen([sys.executable, "-m", "matcher.cli", *map(str, args)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if done_file.exists() and len(done_file.read_text().splitlines()) >= at_least:
                os.killpg(proc.pid, signal.SIGKILL)  # the run and its workers, as a power loss would
                break
            time.sleep(0.02)
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_kill_9_then_resume_equals_an_uninterrupted_run(archive, baseline, tmp_path, workers):
    out = tmp_path / "run"
    args = ["match", PROTOCOL, archive, "--out", out, "--workers", workers]
    code = _kill_after(args, out / ".work" / "done.jsonl", at_least=5)
    assert code == -signal.SIGKILL, "the run finished before it could be killed"
    done = (out / ".work" / "done.jsonl").read_text().splitlines()
    tasks = len(list((out / ".work").glob("part-*.jsonl")))
    assert 5 <= len(done) < tasks and not (out / "results.jsonl").exists()
    # a crash can tear the last line of the done log: it must only cost a redo
    with open(out / ".work" / "done.jsonl", "a") as fh:
        fh.write('{"part": 3')
    proc = run_subprocess(args + ["--resume"])
    assert proc.returncode == 0, proc.stderr
    for name in ("results.jsonl", "errors.jsonl"):
        assert (out / name).read_bytes() == (baseline / name).read_bytes(), name
    assert "read 163 rows: 160 used, 3 rejected, 0 skipped" in proc.stderr
    assert not (out / ".work").exists() and not list(out.glob(".*.tmp"))


def test_resume_refuses_changed_inputs(archive, tmp_path):
    out = tmp_path / "run"
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(archive.read_bytes())
    code = _kill_after(["match", PROTOCOL, notes, "--out", out], out / ".work" / "done.jsonl", at_least=2)
    assert code == -signal.SIGKILL
    with open(notes, "ab") as fh:
        fh.write(b'{"patient_id": "NEW", "note_id": "new-1", "text": "AML"}\n')
    proc = run_subprocess(["match", PROTOCOL, notes, "--out", out, "--resume"])
    assert proc.returncode == 2 and proc.stderr.strip().startswith("error: --resume:")
    assert "Traceback" not in proc.stderr


def test_resume_of_a_finished_run_redoes_it_cleanly(archive, baseline, tmp_path, capsys):
    out = tmp_path / "run"
    (out).mkdir()
    (out / ".results.jsonl.abc123.tmp").write_text("half a file from a killed merge")
    code, err = run_cli(["match", PROTOCOL, archive, "--out", out, "--resume"], capsys)
    assert code == 0, err
    assert (out / "results.jsonl").read_bytes() == (baseline / "results.jsonl").read_bytes()
    assert not list(out.glob(".*.tmp"))
