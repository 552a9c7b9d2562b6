"""The local engine: partition -> tasks on N worker processes -> merge.

Reader, map, writer: pass 1 streams the input into partitions by patient;
each partition is one task run by a worker that built the pipeline once; each
task writes its shard atomically and is recorded in the manifest; the final
outputs are a k-way merge of the sorted shards, so an interrupted and resumed
run writes exactly what an uninterrupted one would.
"""

from __future__ import annotations

import heapq
import multiprocessing as mp
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from matcher.engine.manifest import Manifest
from matcher.engine.partition import choose_partitions, partition_notes
from matcher.engine.tasks import JobSpec, init_worker, run_task, sort_key
from matcher.io.notes import ReadOptions


@dataclass
class RunSummary:
    read: int
    used: int
    rejected: int
    skipped: int
    truncated: int
    patients: int
    outputs: int
    task_errors: int
    seconds: float

    def line(self) -> str:
        rejected = self.rejected + self.task_errors
        extra = f", {self.truncated} truncated" if self.truncated else ""
        return (f"rows read {self.read}: used {self.used}, rejected {self.rejected}, skipped {self.skipped}{extra}; "
                f"{self.patients} patients, {self.outputs} outputs, {self.task_errors} notes failed extraction; "
                f"{rejected} error records; {self.seconds:.1f}s")


def _progress_bar(total: Optional[int], label: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), transient=False, disable=not sys.stderr.isatty(),
                    console=__import__("rich.console", fromlist=["Console"]).Console(stderr=True))


def run_local(spec: JobSpec, notes: str, options: ReadOptions, manifest: Manifest, workers: int = 1,
              keep_patient: Optional[Callable[[str], bool]] = None, limit: Optional[int] = None) -> RunSummary:
    """Run every unfinished task of the job; outputs stay in the work folder until merged."""
    started = time.perf_counter()
    work = Path(spec.work)
    if manifest.pass1 is None:
        parts = choose_partitions(notes)
        with _progress_bar(None, "reading notes") as progress:
            task = progress.add_task("read", total=None, info="")
            counts = partition_notes(notes, options, work, parts, keep_patient, limit,
                                     on_row=lambda n: progress.update(task, completed=n, info=f"{n} rows"))
        manifest.set_pass1(counts.__dict__, parts)
    pass1 = manifest.pass1
    parts = manifest.data["parts"]
    todo = [k for k in range(parts) if not manifest.is_done(k) and (work / f"part-{k:04d}.jsonl").exists()]
    for k in range(parts):  # empty partitions have nothing to do
        if not (work / f"part-{k:04d}.jsonl").exists() and not manifest.is_done(k):
            manifest.mark_done(k, {"notes": 0, "patients": 0, "outputs": 0, "errors": 0})
    already = sum(v["notes"] for v in manifest.data["done"].values())
    total_notes = pass1["used"]
    counter = mp.Value("l", already)
    with _progress_bar(total_notes, "extracting + matching" if spec.command == "match" else "extracting") as progress:
        bar = progress.add_task("run", total=total_notes, completed=already, info="")
        t0 = time.perf_counter()

        def refresh(done_patients: int):
            n = counter.value
            rate = (n - already) / max(1e-9, time.perf_counter() - t0)
            progress.update(bar, completed=n, info=f"{rate:.0f} notes/s · {done_patients} patients done")

        patients_done = sum(v["patients"] for v in manifest.data["done"].values())
        if workers == 1 or len(todo) <= 1:
            init_worker(spec, counter)
            for k in todo:
                result = run_task(k)
                manifest.mark_done(k, result)
                patients_done += result["patients"]
                refresh(patients_done)
        else:
            ctx = mp.get_context("fork") if sys.platform.startswith("linux") else mp.get_context()
            with ctx.Pool(processes=workers, initializer=init_worker, initargs=(spec, counter), maxtasksperchild=None) as pool:
                pending = {k: pool.apply_async(run_task, (k,)) for k in todo}
                while pending:
                    for k in [k for k, r in pending.items() if r.ready()]:
                        result = pending.pop(k).get()
                        manifest.mark_done(k, result)
                        patients_done += result["patients"]
                    refresh(patients_done)
                    time.sleep(0.2)
    done = manifest.data["done"].values()
    return RunSummary(pass1["read"], pass1["used"], pass1["rejected"], pass1["skipped"], pass1["truncated"],
                      sum(v["patients"] for v in done), sum(v["outputs"] for v in done), sum(v["errors"] for v in done),
                      time.perf_counter() - started)


def merged_lines(work: Path, command: str, parts: int) -> Iterator[str]:
    """All output lines of the shards in their final order (streaming k-way merge)."""
    files = [open(work / f"out-{k:04d}.jsonl", encoding="utf-8") for k in range(parts) if (work / f"out-{k:04d}.jsonl").exists()]
    try:
        streams = [((sort_key(command, line), line.rstrip("\n")) for line in fh) for fh in files]
        for _, line in heapq.merge(*streams, key=lambda kv: kv[0]):
            yield line
    finally:
        for fh in files:
            fh.close()


def merged_errors(work: Path, parts: int) -> Iterator[str]:
    """Pass-1 errors in input order, then extraction errors by partition."""
    paths = [work / "errors-pass1.jsonl"] + [work / f"errors-{k:04d}.jsonl" for k in range(parts)]
    for path in paths:
        if path.exists():
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        yield line.rstrip("\n")
