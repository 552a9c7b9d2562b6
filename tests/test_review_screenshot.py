"""Pictures: review.html and report.html rendered in headless Chromium (skipped when Chromium is absent).

Set TRIALMATCH_SCREENSHOTS=DIR to keep the PNGs for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from matcher.report.html import render_report
from matcher.review import compare
from nlp.schema import CriterionResult, Evidence, MatchResult, MissingItem
from tests.review_helpers import MANUAL, seed_results

WIDTH, HEIGHT = 1280, 2000


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium)")


def screenshot(html_path: Path, png: Path) -> Path:
    """Render a local HTML file to a WIDTH x HEIGHT PNG with the flags CI uses."""
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={png.parent / 'chromium-profile'}", f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}",
           html_path.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert png.exists(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-500:]}"
    keep = os.environ.get("TRIALMATCH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / png.name)
    return png


def assert_rendered_page(png: Path) -> None:
    """The right size, and a real page: many colours, not a blank or error screen."""
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == (WIDTH, HEIGHT)
        small = im.convert("RGB").resize((320, 500))
    colours = small.getcolors(maxcolors=320 * 500)
    assert len(colours) > 200, "the screenshot looks blank"
    most = max(count for count, _ in colours)
    assert most < 0.9 * 320 * 500, "one colour fills the screenshot"


def test_review_html_screenshot(tmp_path):
    chromium()
    page = tmp_path / "review.html"
    page.write_text(compare(seed_results(), MANUAL, n_boot=200).to_html(), encoding="utf-8")
    assert_rendered_page(screenshot(page, tmp_path / "review.png"))


def test_match_report_html_screenshot(tmp_path):
    chromium()
    note = ("HPI: 64-year-old man with relapsed AML after CR1. Labs: Creatinine 2.6 mg/dL (0.6-1.2). "
            "ECOG 1. Echo: LVEF 58%. SpO2 97% on room air. ICF not yet signed.")

    def ev(text):
        s = note.index(text)
        return [Evidence(note_id="n1", start=s, end=s + len(text), text=text)]
    crits = [
        CriterionResult(criterion_id="I1", kind="inclusion", text="Age 18-75 years", status="met", evidence=ev("64-year-old"),
                        reason="Age 64 is within 18-75."),
        CriterionResult(criterion_id="I2", kind="inclusion", text="Organ function adequate", status="not_met", reason="Creatinine fails."),
        CriterionResult(criterion_id="I2.1", parent_id="I2", kind="inclusion", text="Serum creatinine ≤ 2.0 × ULN", status="not_met",
                        evidence=ev("Creatinine 2.6 mg/dL"), reason="Creatinine 2.6 mg/dL is 2.17 × ULN (1.2), above 2.0."),
        CriterionResult(criterion_id="I2.2", parent_id="I2", kind="inclusion", text="LVEF ≥ 50%", status="met",
                        evidence=ev("LVEF 58%"), reason="LVEF 58% ≥ 50%."),
        CriterionResult(criterion_id="I3", kind="inclusion", text="Signed informed consent", status="unknown",
                        evidence=ev("ICF not yet signed"), reason="Consent not signed yet."),
        CriterionResult(criterion_id="E1", kind="exclusion", text="Active CNS leukemia", status="not_met", reason="No CNS disease documented."),
    ]
    results = [
        MatchResult(trial_id="seed", patient_id="P01", verdict="ineligible", score=0.2, criteria=crits),
        MatchResult(trial_id="seed", patient_id="P02", verdict="needs_review", score=0.8,
                    missing=[MissingItem(criterion_id="I3", what="signed ICF")], criteria=crits[:2] + crits[4:]),
        MatchResult(trial_id="seed", patient_id="P03", verdict="eligible", score=1.0, criteria=crits[:1]),
    ]
    page = tmp_path / "report.html"
    page.write_text(render_report(results, {"P01": {"n1": note}, "P02": {"n1": note}}), encoding="utf-8")
    assert_rendered_page(screenshot(page, tmp_path / "report.png"))
