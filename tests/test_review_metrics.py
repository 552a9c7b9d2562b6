"""Review metrics against values computed by hand on small tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matcher.review.metrics import (accuracy, agreement_block, bootstrap_kappa_ci, cohen_kappa, confusion, macro_f1,
                                    one_vs_rest, per_class, work_saved)

# Six items, three classes. By hand: confusion rows (manual) a:[2,1,0] b:[0,2,0] c:[0,0,1];
# po = 5/6; row sums 3,2,1; column sums 2,3,1; pe = (3*2 + 2*3 + 1*1)/36 = 13/36;
# kappa = (30/36 - 13/36) / (23/36) = 17/23.
REF6 = list("aaabbc")
TOOL6 = list("aabbbc")

# Textbook 2x2 table (50 items): yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> po 0.7, pe 0.5, kappa 0.4.
REF50 = ["yes"] * 25 + ["no"] * 25
TOOL50 = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15


def test_confusion_rows_are_manual_columns_are_tool():
    assert confusion(REF6, TOOL6, "abc").tolist() == [[2, 1, 0], [0, 2, 0], [0, 0, 1]]


def test_accuracy_and_kappa_by_hand():
    cm = confusion(REF6, TOOL6, "abc")
    assert accuracy(cm) == pytest.approx(5 / 6)
    assert cohen_kappa(cm) == pytest.approx(17 / 23)
    assert cohen_kappa(confusion(REF50, TOOL50, ["yes", "no"])) == pytest.approx(0.4)


def test_kappa_extremes_and_undefined():
    assert cohen_kappa(confusion(list("ab"), list("ab"), "ab")) == pytest.approx(1.0)
    assert cohen_kappa(confusion(list("ab"), list("ba"), "ab")) == pytest.approx(-1.0)  # po 0, pe 0.5
    assert cohen_kappa(confusion(list("aaa"), list("aaa"), "ab")) is None  # pe == 1: undefined, not 1
    assert cohen_kappa(confusion([], [], "ab")) is None


def test_precision_recall_f1_by_hand():
    m = per_class(confusion(REF6, TOOL6, "abc"), "abc")
    # a: tool said a twice, both right (P 1); manual a three times, 2 found (R 2/3); F1 = 2*1*(2/3)/(5/3) = 0.8
    assert (m["a"]["precision"], m["a"]["recall"]) == (pytest.approx(1.0), pytest.approx(2 / 3))
    assert m["a"]["f1"] == pytest.approx(0.8)
    # b: tool said b three times, 2 right (P 2/3); manual b twice, both found (R 1); F1 0.8
    assert (m["b"]["precision"], m["b"]["recall"], m["b"]["f1"]) == (pytest.approx(2 / 3), pytest.approx(1.0), pytest.approx(0.8))
    assert m["c"]["f1"] == pytest.approx(1.0)
    assert (m["a"]["support"], m["b"]["predicted"]) == (3, 3)
    assert macro_f1(m) == pytest.approx((0.8 + 0.8 + 1.0) / 3)


def test_undefined_precision_is_null_not_zero():
    m = per_class(confusion(list("ab"), list("aa"), "abc"), "abc")
    assert m["b"]["precision"] is None and m["b"]["recall"] == 0.0 and m["b"]["f1"] is None
    assert m["c"]["precision"] is None and m["c"]["recall"] is None


def test_sensitivity_specificity_one_vs_rest():
    ref = ["eligible"] * 4 + ["ineligible"] * 4 + ["needs_review"] * 2
    tool = ["eligible", "eligible", "eligible", "needs_review", "ineligible", "ineligible", "ineligible", "eligible",
            "needs_review", "eligible"]
    cm = confusion(ref, tool, ["eligible", "ineligible", "needs_review"])
    e = one_vs_rest(cm, ["eligible", "ineligible", "needs_review"], "eligible")
    # eligible: 3 of 4 found; of the 6 others, 2 were called eligible -> specificity 4/6
    assert (e["sensitivity"], e["specificity"]) == (pytest.approx(3 / 4), pytest.approx(4 / 6))
    i = one_vs_rest(cm, ["eligible", "ineligible", "needs_review"], "ineligible")
    assert (i["sensitivity"], i["specificity"]) == (pytest.approx(3 / 4), pytest.approx(1.0))


def _naive_bootstrap(ref, tool, n_boot, seed):
    """An independent, slow re-implementation: same resampling draws, kappa and percentiles by hand."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(ref), size=len(ref))
        r = [ref[i] for i in idx]
        t = [tool[i] for i in idx]
        n = len(r)
        po = sum(x == y for x, y in zip(r, t)) / n
        pe = sum(r.count(c) * t.count(c) for c in set(r) | set(t)) / (n * n)
        if pe < 1:
            values.append((po - pe) / (1 - pe))
    values.sort()

    def pct(q):  # linear interpolation between closest ranks
        pos = (len(values) - 1) * q
        lo, hi = math.floor(pos), math.ceil(pos)
        return values[lo] + (values[hi] - values[lo]) * (pos - lo)
    return pct(0.025), pct(0.975), len(values)


def test_bootstrap_ci_fixed_seed_matches_independent_computation_and_pinned_values():
    ci = bootstrap_kappa_ci(REF50, TOOL50, ["yes", "no"], n_boot=2000, seed=20240601)
    low, high, valid = _naive_bootstrap(REF50, TOOL50, 2000, 20240601)
    assert (ci["low"], ci["high"], ci["n_valid"]) == (pytest.approx(low), pytest.approx(high), valid)
    # Pinned for seed 20240601 / 2000 resamples (regression guard); brackets kappa = 0.4 as it must.
    assert ci["low"] == pytest.approx(0.13182043650793665) and ci["high"] == pytest.approx(0.64)
    assert ci["low"] < 0.4 < ci["high"]


def test_bootstrap_ci_by_enumeration_of_two_clusters():
    # Cluster A agrees perfectly (kappa 1), cluster B disagrees on both items (kappa -1).
    # Resampling two clusters gives AA (p 1/4, kappa 1), BB (1/4, kappa -1), AB/BA (1/2, kappa 0):
    # with a quarter of the mass at each end, the 2.5th and 97.5th percentiles are exactly -1 and 1.
    ref = ["a", "b", "a", "b"]
    tool = ["a", "b", "b", "a"]
    ci = bootstrap_kappa_ci(ref, tool, "ab", clusters=["A", "A", "B", "B"], n_boot=2000, seed=3)
    assert (ci["low"], ci["high"]) == (-1.0, 1.0)


def test_single_cluster_bootstrap_is_the_point_estimate_and_perfect_agreement_is_one():
    ci = bootstrap_kappa_ci(REF6, TOOL6, "abc", clusters=["p"] * 6, n_boot=50, seed=1)
    assert ci["low"] == pytest.approx(17 / 23) and ci["high"] == pytest.approx(17 / 23)
    perfect = bootstrap_kappa_ci(list("aabbcc"), list("aabbcc"), "abc", n_boot=200, seed=1)
    assert perfect["low"] == 1.0 and perfect["high"] == 1.0


def test_bootstrap_is_deterministic_and_depends_on_seed():
    a = bootstrap_kappa_ci(REF50, TOOL50, ["yes", "no"], n_boot=300, seed=11)
    b = bootstrap_kappa_ci(REF50, TOOL50, ["yes", "no"], n_boot=300, seed=11)
    c = bootstrap_kappa_ci(REF50, TOOL50, ["yes", "no"], n_boot=300, seed=12)
    assert a == b and (a["low"], a["high"]) != (c["low"], c["high"])


def test_agreement_block_has_unrounded_fractions():
    block = agreement_block(REF6, TOOL6, "abc", n_boot=100, seed=1)
    assert block["n"] == 6 and block["accuracy"] == 5 / 6 and block["kappa"] == pytest.approx(17 / 23)
    assert block["confusion"]["matrix"] == [[2, 1, 0], [0, 2, 0], [0, 0, 1]]


def test_work_saved_by_hand():
    ref = ["eligible", "eligible", "ineligible", "ineligible", "ineligible", "needs_review"]
    tool = ["eligible", "ineligible", "ineligible", "ineligible", "needs_review", "needs_review"]
    scores = [0.9, 0.2, 0.1, 0.05, 0.6, 0.7]
    ws = work_saved(ref, tool, scores, target_sensitivity=1.0)
    # At the verdict: 3 charts called ineligible are set aside (3/6), one of them manual-eligible.
    v = ws["at_verdict"]
    assert (v["set_aside"], v["work_saved"], v["eligible_missed"], v["sensitivity_eligible"]) == (3, 0.5, 1, 0.5)
    # By score, keeping every eligible chart: the eligible 0.2 must stay open, so only 0.1 and 0.05 are set aside.
    t = ws["at_target"]
    assert (t["set_aside"], t["work_saved"], t["eligible_missed"], t["threshold"]) == (2, 2 / 6, 0, 0.2)
    # Accepting half of the eligible: everything below 0.9 may go, i.e. 5 charts.
    assert work_saved(ref, tool, scores, target_sensitivity=0.5)["at_target"]["set_aside"] == 5


def test_work_saved_without_eligible_patients_is_undefined():
    ws = work_saved(["ineligible"], ["ineligible"], [0.1])
    assert ws["at_target"] is None and ws["at_verdict"]["sensitivity_eligible"] is None
