"""The local engine: partition -> tasks on N worker processes -> merge.

Reader, map, writer: pass 1 streams the input into partitions by patient;
each partition is one task run by a worker that built the pipeline once; each
task writes its shard atomically and is recorded in the manifest; the final
outputs are a k-way merge of the sorted shards, so an interrupted and resumed
run writes exactly what an uninterrupted one would, whatever the worker count.
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
from matcher.engine.partition import RowWarnings, choose_partitions, partition_notes
from matcher.engine.tasks import JobSpec, init_worker, run_task, split_shard_line
from matcher.io.notes import ReadOptions


@dataclass
class RunSummary:
    """Row counts of a run. ``read == used + rejected + skipped``; ``failed`` notes (extraction
    raised) are part of ``rejected``; ``truncated`` notes are part of ``used``."""

    read: int
    used: int
    rejected: int
    skipped: int
    truncated: int
    failed: int
    patients: int
    outputs: int
    seconds: float

    @property
    def error_records(self) -> int:
        """Lines this run adds to the errors file: one per rejected row, one per truncated note."""
        return self.rejected + self.truncated

    def line(self) -> str:
        extra = []
        if self.truncated:
            extra.append(f"{self.truncated} truncated")
        if self.failed:
            extra.append(f"{self.failed} failed extraction")
        detail = f" ({', '.join(extra)})" if extra else ""
        rate = self.used / self.seconds if self.seconds > 0 else 0.0
        return (f"read {self.read} rows: {self.used} used, {self.rejected} rejected, {self.skipped} skipped{detail}; "
                f"{self.patients} patients, {self.outputs} outputs; {self.error_records} error records; "
                f"{self.seconds:.1f}s, {rate:.0f} notes/s")

    @classmethod
    def of(cls, manifest: Manifest, seconds: float) -> "RunSummary":
        p = manifest.pass1
        done = manifest.data["done"].values()
        failed = sum(v["errors"] for v in done)
        return cls(p["read"], p["used"] - failed, p["rejected"] + failed, p["skipped"], p["truncated"], failed,
                   sum(v["patients"] for v in done), sum(v["outputs"] for v in done), seconds)


def progress_bar(label: str):
    """A rich progress bar on stderr (only on a terminal: logs and CI get the summary line alone)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), transient=False,
                    disable=not sys.stderr.isatty(), console=Console(stderr=True))


def run_pass1(spec: JobSpec, notes: str, options: ReadOptions, manifest: Manifest,
              keep_patient: Optional[Callable[[str], bool]] = None, limit: Optional[int] = None,
              parts: Optional[int] = None, sink=None) -> None:
    """Pass 1 unless the manifest says it is complete (a resumed run)."""
    if manifest.pass1 is not None:
        return
    parts = parts or choose_partitions(notes)
    warnings = RowWarnings(spec.log_text)
    with progress_bar("reading notes") as progress:
        task = progress.add_task("read", total=None, info="")
        counts = partition_notes(notes, options, Path(spec.work), parts, keep_patient, limit,
                                 on_row=lambda n: progress.update(task, completed=n, info=f"{n} rows"),
                                 sink=sink, warnings=warnings)
    warnings.close("errors.jsonl" if spec.command == "match" else "the errors file")
    manifest.set_pass1(counts.__dict__, parts)


def pending_parts(work: Path, manifest: Manifest) -> list[int]:
    """Partitions still to run, largest first (so the last tasks are short and workers finish together)."""
    todo = []
    for k in range(manifest.data["parts"]):
        path = work / f"part-{k:04d}.jsonl"
        if path.exists() and not manifest.is_done(k):
            todo.append((-path.stat().st_size, k))
    return [k for _, k in sorted(todo)]


def run_local(spec: JobSpec, notes: str, options: ReadOptions, manifest: Manifest, workers: int = 1,
              keep_patient: Optional[Callable[[str], bool]] = None, limit: Optional[int] = None) -> RunSummary:
    """Run every unfinished task of the job; outputs stay in the work folder until merged."""
    started = time.perf_counter()
    work = Path(spec.work)
    run_pass1(spec, notes, options, manifest, keep_patient, limit)
    todo = pending_parts(work, manifest)
    done = manifest.data["done"].values()
    already = sum(v["notes"] for v in done)
    patients_done = sum(v["patients"] for v in done)
    total_notes = manifest.pass1["used"]
    counter = mp.Value("q", already)
    label = "extracting + matching" if spec.command == "match" else "extracting"
    with progress_bar(label) as progress:
        bar = progress.add_task("run", total=total_notes, completed=already, info="")
        t0 = time.perf_counter()

        def refresh():
            n = counter.value
            rate = (n - already) / max(1e-9, time.perf_counter() - t0)
            progress.update(bar, completed=n, info=f"{rate:,.0f} notes/s · {patients_done:,} patients done")

        def finished(k: int, result: dict):
            nonlocal patients_done
            manifest.mark_done(k, result)
            patients_done += result["patients"]
            refresh()

        if workers == 1 or len(todo) <= 1:
            init_worker(spec, counter)
            for k in todo:
                finished(k, run_task(k))
        else:
            # fork: workers start at once and share the parent's imported modules; each still
            # builds its own pipeline (init_worker), so spawn-only platforms work the same.
            ctx = mp.get_context("fork") if sys.platform.startswith("linux") else mp.get_context()
            with ctx.Pool(processes=min(workers, len(todo)), initializer=init_worker, initargs=(spec, counter)) as pool:
                pending = {k: pool.apply_async(run_task, (k,)) for k in todo}
                while pending:
                    for k in [k for k, r in pending.items() if r.ready()]:
                        finished(k, pending.pop(k).get())
                    refresh()
                    time.sleep(0.25)
    return RunSummary.of(manifest, time.perf_counter() - started)


def _merge(paths: list[Path]) -> Iterator[tuple[list, str]]:
    files = [open(p, encoding="utf-8") for p in paths if p.exists()]
    try:
        streams = [(split_shard_line(line) for line in fh if line.strip()) for fh in files]
        yield from heapq.merge(*streams, key=lambda kv: kv[0])
    finally:
        for fh in files:
            fh.close()


def merged_lines(work: Path, command: str, parts: int) -> Iterator[str]:
    """All output records of the shards in their final order (a streaming k-way merge)."""
    for _, line in _merge([work / f"out-{k:04d}.jsonl" for k in range(parts)]):
        yield line


def merged_errors(work: Path, parts: int) -> Iterator[str]:
    """Rows rejected on reading, in input order; then notes whose extraction failed, in input order."""
    path = work / "errors-pass1.jsonl"
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield line.rstrip("\n")
    for _, line in _merge([work / f"errors-{k:04d}.jsonl" for k in range(parts)]):
        yield line
