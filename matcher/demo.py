"""``make demo``: the whole job on the bundled seed protocol and synthetic patients."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from matcher.report.describe import describe_criterion, to_look_up

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpora" / "protocols" / "cd123-car-nk-protocol.txt"
PATIENTS = ROOT / "corpora" / "notes" / "seed_trial" / "notes.jsonl"


def criteria_table(protocol) -> Table:
    """The criteria tree as a rich table."""
    table = Table(title=f"{protocol.trial_id}: {len(list(protocol.walk()))} criterion nodes")
    for col in ("id", "kind", "logic", "category", "status", "requirement"):
        table.add_column(col, overflow="fold")
    for node in protocol.walk():
        depth = node.id.count(".")
        table.add_row("  " * depth + node.id, node.kind, node.logic, node.category, node.status, escape(describe_criterion(node)))
    return table


def verdict_table(results) -> Table:
    """One row per patient: verdict, score, top-level statuses, what to look up."""
    style = {"eligible": "green", "needs_review": "yellow", "ineligible": "red"}
    table = Table(title="Screening summary")
    for col in ("patient", "verdict", "score", "met", "not met", "unknown", "to look up"):
        table.add_column(col, overflow="fold")
    for r in sorted(results, key=lambda r: (-r.score, r.patient_id)):
        top = Counter(c.status for c in r.criteria if c.parent_id is None)
        table.add_row(r.patient_id, f"[{style[r.verdict]}]{r.verdict}[/]", f"{r.score:.2f}", str(top["met"]),
                      str(top["not_met"]), str(top["unknown"]), escape(to_look_up(r.missing, 2)))
    return table


def run_demo(out: Optional[Path] = None) -> int:
    """Parse the seed protocol, screen the synthetic patients, print tables, write the report."""
    import json

    from matcher.api import match
    from matcher.io.text import AtomicWriter, dumps
    from matcher.report.html import render_report
    from nlp.criteria import parse_protocol

    console = Console(width=max(140, Console().width))
    out = out or ROOT / "out" / "demo"
    protocol = parse_protocol(SEED.read_text(encoding="utf-8"), SEED.stem)
    console.print(criteria_table(protocol))
    rows = [json.loads(line) for line in PATIENTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    with console.status(f"extracting facts from {len(rows)} notes and matching…"):
        results = match(protocol, rows)
    console.print(verdict_table(results))
    notes: dict = {}
    for row in rows:
        notes.setdefault(row["patient_id"], {})[row["note_id"]] = row["text"]
    out.mkdir(parents=True, exist_ok=True)
    with AtomicWriter(out / "results.jsonl") as fh:
        fh.write("".join(dumps(r) + "\n" for r in results))
    with AtomicWriter(out / "report.html") as fh:
        fh.write(render_report(results, notes, title=f"trialmatch demo: {protocol.trial_id}"))
    counts = Counter(r.verdict for r in results)
    console.print(f"{len(results)} patients: {counts['eligible']} eligible, {counts['needs_review']} need review, "
                  f"{counts['ineligible']} ineligible. Report: {out / 'report.html'}")
    return 0
