"""review.html: self-contained, every piece of input text escaped, plots embedded."""

from __future__ import annotations

import base64
import re

import pandas as pd

from matcher.review import compare
from nlp.schema import CriterionResult, Evidence, MatchResult

EVIL = "<script>alert('x')</script>&<img src=x onerror=alert(1)>"


def evil_agreement():
    def res(pid, verdict, status):
        c = CriterionResult(criterion_id="I1", kind="inclusion", text=f"Creatinine {EVIL}", status=status,
                            evidence=[Evidence(note_id=f"n{EVIL}", start=0, end=len(EVIL), text=EVIL)], reason=f"because {EVIL}")
        return MatchResult(trial_id=f"T{EVIL}", patient_id=pid, verdict=verdict, score=0.5, criteria=[c])
    results = [res(f"P{EVIL}", "eligible", "met"), res("P2", "ineligible", "not_met")]
    t = f"T{EVIL}"
    manual = pd.DataFrame([
        (t, f"P{EVIL}", "", "", "ineligible", f"Dr {EVIL}"), (t, f"P{EVIL}", "I1", "no", "", f"Dr {EVIL}"),
        (t, "P2", f"Creatinine {EVIL}", "no", "", "B"), (t, "P2", "I1", EVIL, "", "B"), (t, EVIL, "", "", "eligible", "B"),
    ], columns=["trial_id", "patient_id", "criterion_id", "status", "verdict", "reviewer"])
    return compare(results, manual, n_boot=20)


def test_everything_is_escaped_and_nothing_executes():
    a = evil_agreement()
    assert a.disagreements and a.unmatched and a.criterion_matches  # every section has hostile text in it
    page = a.to_html()
    assert "<script" not in page.lower() and not re.search(r"<img\b(?![^>]*src='data:image/png;base64,)", page)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page  # only ever as escaped text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&lt;img" in page


def test_self_contained_with_embedded_png_plots():
    page = evil_agreement().to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:|//)", page) and "<link" not in page and "url(" not in page
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 3  # verdict matrix, per-criterion bars, pooled criteria matrix
    for b64 in images:
        assert base64.b64decode(b64).startswith(b"\x89PNG\r\n\x1a\n")


def test_report_is_deterministic():
    assert evil_agreement().to_html() == evil_agreement().to_html()


def test_report_when_nothing_could_be_compared():
    results = [MatchResult(trial_id="T", patient_id="P1", verdict="eligible", score=1.0, criteria=[])]
    manual = pd.DataFrame({"trial_id": ["T"], "patient_id": ["P9"], "status": ["yes"]})
    a = compare(results, manual, n_boot=10)
    assert a.verdict["n"] == 0 and a.verdict["accuracy"] is None and a.verdict["kappa"] is None
    page = a.to_html()
    assert "no verdict rows" in page and "no criterion rows" in page and "P9" in page
    assert a.to_json()  # null metrics serialize (no NaN)
