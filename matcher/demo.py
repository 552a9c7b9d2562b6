"""``make demo``: the whole job on the bundled seed protocol and synthetic patients."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from matcher.report.describe import describe_criterion

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpora" / "protocols" / "cd123-car-nk-protocol.txt"


def criteria_table(protocol) -> Table:
    """The criteria tree as a rich table."""
    table = Table(title=f"{protocol.trial_id}: {len(list(protocol.walk()))} criterion nodes", show_lines=False)
    for col in ("id", "kind", "logic", "category", "status", "requirement"):
        table.add_column(col, overflow="fold")
    for node in protocol.walk():
        depth = node.id.count(".")
        table.add_row("  " * depth + node.id, node.kind, node.logic, node.category, node.status, escape(describe_criterion(node)))
    return table


def run_demo(out: Optional[Path] = None) -> int:
    """Parse the seed protocol and print its criteria tree."""
    from nlp.criteria import parse_protocol

    console = Console(width=max(140, Console().width))
    protocol = parse_protocol(SEED.read_text(encoding="utf-8"), SEED.stem)
    console.print(criteria_table(protocol))
    return 0
