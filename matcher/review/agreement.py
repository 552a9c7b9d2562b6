"""The :class:`Agreement` returned by ``compare``: metrics, worklist, unmatched rows, and how to write them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from matcher.review import worklist

UNMATCHED_COLUMNS = ["row", "reviewer", "trial_id", "patient_id", "criterion", "label", "reason"]


@dataclass
class Agreement:
    """Everything ``trialmatch review`` writes. ``to_dict()`` is ``agreement.json``.

    ``verdict`` and ``criteria["overall"]`` / ``criteria["by_criterion"][i]`` hold
    n, accuracy, kappa, kappa_ci, macro_f1, per_class and confusion (see
    :mod:`matcher.review.metrics`); the verdict adds sensitivity_specificity and work_saved.
    """

    verdict: dict
    criteria: dict
    reviewers: dict
    disagreements: list[dict]
    unmatched: list[dict]
    criterion_matches: list[dict]
    input_errors: list[dict]
    notes: list[str]
    method: dict
    inputs: dict
    catalog: dict = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The agreement.json document. Note text stays out of it: evidence is only in the worklist and report."""
        levels: dict[str, int] = {}
        for d in self.disagreements:
            levels[f"{d['level']}: {d['kind']}"] = levels.get(f"{d['level']}: {d['kind']}", 0) + 1
        return {
            "verdict": self.verdict,
            "criteria": self.criteria,
            "reviewers": self.reviewers,
            "disagreements": {"n": len(self.disagreements), "by_level": levels, "file": "disagreements.csv"},
            "unmatched": self.unmatched,
            "criterion_matches": self.criterion_matches,
            "input_errors": self.input_errors,
            "notes": self.notes,
            "method": self.method,
            "inputs": self.inputs,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def summary_rows(self) -> list[dict]:
        """The agreement table: the verdict, all criteria pooled, then each criterion in protocol order."""
        counts: dict[tuple, int] = {}
        for d in self.disagreements:
            if d["kind"] == "tool vs manual":
                key = (d["trial_id"], d["criterion_id"] or None)
                counts[key] = counts.get(key, 0) + 1
        rows = [_row("verdict", "", self.verdict, sum(v for (t, c), v in counts.items() if c is None)),
                _row("all criteria", "", self.criteria["overall"], sum(v for (t, c), v in counts.items() if c is not None))]
        for b in self.criteria["by_criterion"]:
            rows.append(_row(b["criterion_id"], b["text"], b, counts.get((b["trial_id"], b["criterion_id"]), 0)))
        return rows

    def summary_frame(self):
        """:meth:`summary_rows` as a pandas DataFrame (for notebooks)."""
        import pandas as pd

        return pd.DataFrame(self.summary_rows())

    def summary_markdown(self, digits: int = 2) -> str:
        """The agreement table as Markdown, e.g. for a README."""
        head = "| item | n | agreement | kappa | kappa 95% CI | disagreements |\n|---|---:|---:|---:|---|---:|\n"
        lines = []
        for r in self.summary_rows():
            ci = "–" if r["kappa_ci_low"] is None else f"{r['kappa_ci_low']:.{digits}f} to {r['kappa_ci_high']:.{digits}f}"
            lines.append(f"| {r['item']} | {r['n']} | {_fmt(r['accuracy'], digits)} | {_fmt(r['kappa'], digits)} | {ci} | {r['disagreements']} |")
        return head + "\n".join(lines) + "\n"

    def disagreements_frame(self):
        import pandas as pd

        return pd.DataFrame(self.disagreements, columns=worklist.COLUMNS)

    def unmatched_frame(self):
        import pandas as pd

        return pd.DataFrame(self.unmatched, columns=UNMATCHED_COLUMNS)

    def to_html(self, title: Optional[str] = None) -> str:
        """review.html (self-contained, escaped, plots embedded)."""
        from matcher.review.html import render_review

        return render_review(self, title)

    def _repr_html_(self) -> str:  # Jupyter shows the agreement table
        from matcher.review.html import summary_table

        return summary_table(self)

    def write(self, out: Path, title: Optional[str] = None) -> dict[str, Path]:
        """Write agreement.json, disagreements.csv, unmatched.csv and review.html into ``out``."""
        from matcher.io.text import AtomicWriter

        out = Path(out)
        files = {"agreement": out / "agreement.json", "disagreements": out / "disagreements.csv",
                 "unmatched": out / "unmatched.csv", "report": out / "review.html"}
        payloads = {"agreement": self.to_json(), "disagreements": worklist.to_csv(self.disagreements),
                    "unmatched": worklist.to_csv(self.unmatched, UNMATCHED_COLUMNS), "report": self.to_html(title)}
        for name, path in files.items():
            with AtomicWriter(path) as fh:
                fh.write(payloads[name])
        return files


def _row(item: str, text: str, block: dict, disagreements: int) -> dict:
    low, high = block["kappa_ci"]
    return {"item": item, "text": text, "n": block["n"], "accuracy": block["accuracy"], "kappa": block["kappa"],
            "kappa_ci_low": low, "kappa_ci_high": high, "macro_f1": block["macro_f1"], "disagreements": disagreements}


def _fmt(value, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"
