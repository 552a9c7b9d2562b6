"""Matplotlib figures for review.html, returned as base64 PNG (embedded, so the page stays self-contained).

Figures are built on :class:`matplotlib.figure.Figure` directly, not pyplot, so no
global backend or window state is touched (safe in notebooks, servers and tests),
and saved without the "Software" PNG tag so the bytes do not change with the
matplotlib version string.
"""

from __future__ import annotations

import base64
import io
from typing import Optional, Sequence

import matplotlib
from matplotlib.figure import Figure

from matcher.report.describe import readable

DPI = 110
INK = "#1d2330"
MUTED = "#5b6475"
BAR = "#3b6ea5"
STYLE = {"font.size": 10, "axes.edgecolor": "#c8ced8", "axes.labelcolor": INK, "xtick.color": INK,
         "ytick.color": INK, "font.family": "DejaVu Sans"}


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def confusion_png(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str) -> str:
    """A confusion matrix (rows manual, columns tool): counts, and the share of each manual row as colour."""
    names = [lab.replace("_", " ") for lab in labels]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(4.6, 3.9))
        ax = fig.add_subplot()
        shares = []
        for row in matrix:
            total = sum(row)
            shares.append([v / total if total else 0.0 for v in row])
        ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
        for i, row in enumerate(matrix):
            total = sum(row)
            for j, v in enumerate(row):
                dark = shares[i][j] > 0.55
                share = f"\n{v / total:.0%}" if total else ""
                ax.text(j, i, f"{v}{share}", ha="center", va="center", fontsize=11,
                        fontweight="bold" if i == j else "normal", color="white" if dark else INK)
        ax.set_xticks(range(len(names)), names)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("trialmatch", fontweight="bold")
        ax.set_ylabel("manual review", fontweight="bold")
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
        ax.set_title(title, fontsize=11, color=INK, pad=10, loc="left", y=-0.16)
        ax.tick_params(length=0)
        return _png(fig)


def criteria_bars_png(rows: Sequence[dict], overall: Optional[float], text_chars: int = 46) -> str:
    """Horizontal bars: percent agreement per criterion (protocol order, top to bottom).

    The numbers (agreement, kappa, n) sit in a column right of the axis, where neither
    the bars nor the dashed "all criteria" line can run over them.
    """
    labels, values, notes = [], [], []
    for r in rows:
        short = readable(r["text"], text_chars)
        labels.append(f"{r['criterion_id']}  {short}")
        values.append(0.0 if r["accuracy"] is None else 100.0 * r["accuracy"])
        kappa = "κ  –  " if r["kappa"] is None else f"κ {r['kappa']:.2f}"
        notes.append("no labels" if r["accuracy"] is None else f"{values[-1]:5.1f}%   {kappa}   n {r['n']}")
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(8.4, 0.34 * max(len(rows), 1) + 1.2))
        ax = fig.add_subplot()
        positions = list(range(len(rows)))[::-1]  # first criterion at the top
        ax.barh(positions, values, color=BAR, height=0.62)
        for y, note in zip(positions, notes):
            ax.text(1.02, y, note, transform=ax.get_yaxis_transform(), va="center", ha="left", fontsize=8.5,
                    color=INK, family="DejaVu Sans Mono", clip_on=False)
        ax.text(1.02, len(rows) - 0.3, "agreement  kappa   n", transform=ax.get_yaxis_transform(), va="bottom",
                ha="left", fontsize=8.5, color=MUTED, family="DejaVu Sans Mono", clip_on=False)
        if overall is not None:
            ax.axvline(100.0 * overall, color="#b45309", linestyle="--", linewidth=1.2)
            ax.text(100.0 * overall - 1, len(rows) - 0.3, f"all criteria {100.0 * overall:.0f}%", color="#b45309",
                    fontsize=8.5, va="bottom", ha="right")
        ax.set_yticks(positions, labels, fontsize=9)
        ax.set_xlim(0, 100)
        ax.set_ylim(-0.6, len(rows) + 0.3)
        ax.set_xlabel("agreement with manual review (% of patients)")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.grid(axis="x", color="#e5e8ee", linewidth=0.8)
        ax.set_axisbelow(True)
        return _png(fig)
