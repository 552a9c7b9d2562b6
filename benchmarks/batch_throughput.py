"""Batch throughput of ``trialmatch match``: scaling over workers, memory, cost, and overhead.

    .venv/bin/python benchmarks/batch_throughput.py [--notes 20000] [--patients 2000] [--sizes 10000,40000]

Archives are synthetic (``benchmarks/archive.py``, about 2 KB a note) and cached
under ``benchmarks/out/``. Every run is the real command line in a subprocess
(reading, partitioning, workers, merge, report.html). Reported:

* notes/s of the whole run with 1 and 2 workers, and the scaling ratio;
* peak RSS of the whole run: the largest sum of RSS over the command and all its
  worker processes, sampled every 0.1 s (the ``--sizes`` runs show it does not grow
  with the archive);
* CPU-hours per 1M notes (user + system time of the command and its workers);
* the per-note extraction rate of the pipeline measured in this script's process
  (``extract_note`` over the archive's first notes, before and after the runs, the
  mean), and the whole run's rate per worker relative to it: the batch machinery
  (reading, JSON, partitions, merge, report) must not be the bottleneck.

The machine is shared with other work: the CPU-based figures (notes per CPU-second,
CPU-hours) are steadier than the wall-clock ones.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import ROOT, machine, table

OUT = ROOT / "benchmarks" / "out"
PROTOCOL = ROOT / "corpora" / "protocols" / "cd123-car-nk-protocol.txt"


def archive(notes: int, patients: int) -> Path:
    from benchmarks.archive import make_archive

    path = OUT / f"archive-{notes}x{patients}.jsonl"
    if not path.exists():
        make_archive(path, notes, patients, seed=7, unsorted=True)
    return path


def _tree_rss(root: int) -> int:
    """Sum of RSS (bytes) of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run(notes_path: Path, workers: int) -> dict:
    """One whole ``trialmatch match`` run; wall time, CPU time and peak RSS of its process tree."""
    out = Path(tempfile.mkdtemp(prefix="tm-bench-"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "matcher.cli", "match", str(PROTOCOL), str(notes_path), "--out", str(out),
                             "--workers", str(workers)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"run failed: {err[-2000:]}")
    results = sum(1 for _ in open(out / "results.jsonl", encoding="utf-8"))
    shutil.rmtree(out, ignore_errors=True)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = err.strip().splitlines()[-1]
    used = int(summary.split(" used")[0].rsplit(" ", 1)[1])
    return {"wall": wall, "cpu": cpu, "rss": peak[0], "used": used, "results": results, "summary": summary,
            "load": os.getloadavg()[0]}


def extraction_rate(notes_path: Path, n: int) -> tuple[float, float]:
    """Per-note extraction of the pipeline in this process, best of two passes: (notes per wall
    second, notes per CPU second)."""
    from nlp.pipeline import extract_note, load_pipeline

    rows = []
    with open(notes_path, encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if len(rows) >= n:
                break
    nlp = load_pipeline()
    for r in rows[:50]:  # warm-up: lazily built matchers and caches
        extract_note(r["text"], r["note_id"], r.get("date"), nlp=nlp)
    best, best_cpu = float("inf"), float("inf")
    for _ in range(2):
        t, c = time.perf_counter(), time.process_time()
        for r in rows:
            extract_note(r["text"], r["note_id"], r.get("date"), nlp=nlp)
        best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, time.process_time() - c)
    return len(rows) / best, len(rows) / best_cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=20000)
    ap.add_argument("--patients", type=int, default=2000)
    ap.add_argument("--sizes", default="10000,40000", help="archive sizes (notes) for the memory rows, 2 workers")
    ap.add_argument("--sample", type=int, default=1000, help="notes for the per-note extraction rate")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each 1- and 2-worker row; the fastest is kept")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    main_archive = archive(args.notes, args.patients)
    ext_before = extraction_rate(main_archive, args.sample)
    rows, runs = [], {}
    plan = [(args.notes, args.patients, 1), (args.notes, args.patients, 2)]
    plan += [(int(s), max(1, int(s) // 10), 2) for s in args.sizes.split(",") if s and int(s) != args.notes]
    for notes, patients, workers in plan:
        path = archive(notes, patients)
        tries = [run(path, workers) for _ in range(args.repeat if notes == args.notes else 1)]
        r = min(tries, key=lambda t: t["wall"])
        r["rss"] = max(t["rss"] for t in tries)
        runs[(notes, workers)] = r
        rows.append([f"{notes:,}", f"{patients:,}", workers, f"{r['wall']:.1f}", f"{r['used'] / r['wall']:.1f}",
                     f"{r['used'] / r['cpu']:.1f}", f"{r['rss'] / 2**20:,.0f}", f"{r['cpu'] / r['used'] * 1e6 / 3600:.2f}",
                     f"{r['cpu'] / r['wall']:.2f}", f"{r['load']:.1f}"])
        print(f"  {notes} notes, {workers} worker(s): {r['summary']}", file=sys.stderr)
    ext_after = extraction_rate(main_archive, args.sample)
    ext = (ext_before[0] + ext_after[0]) / 2
    ext_cpu = (ext_before[1] + ext_after[1]) / 2

    one, two = runs[(args.notes, 1)], runs[(args.notes, 2)]
    rate1, rate2 = one["used"] / one["wall"], two["used"] / two["wall"]
    scaling = rate2 / rate1
    overhead = rate1 / ext
    overhead_cpu = (one["used"] / one["cpu"]) / ext_cpu
    efficiency = (two["used"] / two["cpu"]) / (one["used"] / one["cpu"])
    peak = max(r["rss"] for r in runs.values())
    print(f"Batch throughput of `trialmatch match` (seed protocol, synthetic archive of ~2 KB notes, unsorted input)")
    print(machine())
    print(table(rows, ["notes", "patients", "workers", "wall s", "notes/s", "notes per CPU-s", "peak RSS MB (all processes)",
                       "CPU-hours per 1M notes", "cores busy (CPU s / wall s)", "load avg (1 min) at end"]))
    print(f"per-note extraction in one process (extract_note, {args.sample} notes): {ext:.1f} notes/s wall "
          f"(before {ext_before[0]:.1f}, after {ext_after[0]:.1f}), {ext_cpu:.1f} notes per CPU-s")
    print(table([["2-worker scaling", f"{scaling:.2f}x", ">= 1.7x", "met" if scaling >= 1.7 else "MISSED"],
                 ["CPU per note, 2 workers vs 1 (1.00 = no parallel overhead)", f"{efficiency:.2f}", "", ""],
                 ["peak RSS, any archive size", f"{peak / 2**20:,.0f} MB", "< 2048 MB", "met" if peak < 2 << 30 else "MISSED"],
                 ["whole run (1 worker) / per-note extraction, wall", f"{overhead:.2f}", ">= 0.8", "met" if overhead >= 0.8 else "MISSED"],
                 ["the same per CPU second (insensitive to other load)", f"{overhead_cpu:.2f}", ">= 0.8",
                  "met" if overhead_cpu >= 0.8 else "MISSED"]],
                ["target", "measured", "goal", ""]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
