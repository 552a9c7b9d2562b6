"""Agreement metrics between a reference (manual review) and the tool.

Conventions, used everywhere in the review outputs:

* confusion matrices have the **reference (manual) in rows** and the **tool in
  columns**, classes in the fixed order given;
* a metric whose denominator is zero is ``None`` (JSON ``null``), never 0 or 1:
  "no cases" is not "perfect" (e.g. precision of a class the tool never predicted);
* Cohen's kappa is ``(po - pe) / (1 - pe)``; it is ``None`` when ``pe == 1``
  (both sides used one and the same class only), where it is undefined;
* the 95% CI of kappa is a percentile bootstrap: :data:`N_BOOT` resamples, drawn
  with ``numpy.random.default_rng(SEED)``, of whole **patients** (clusters) so the
  pooled criteria, several labels per patient, are not treated as independent.
  Resamples where kappa is undefined are left out (their number is reported).
"""

from __future__ import annotations

from typing import Hashable, Optional, Sequence

import numpy as np

N_BOOT = 2000
SEED = 20240601
CI_LEVEL = 0.95


def confusion(reference: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Counts, rows = reference class, columns = predicted class."""
    index = {c: i for i, c in enumerate(classes)}
    cm = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for r, p in zip(reference, predicted, strict=True):
        cm[index[r], index[p]] += 1
    return cm


def _ratio(num, den) -> Optional[float]:
    return float(num) / float(den) if den else None


def accuracy(cm: np.ndarray) -> Optional[float]:
    """Share of items on the diagonal."""
    return _ratio(int(np.trace(cm)), int(cm.sum()))


def cohen_kappa(cm: np.ndarray) -> Optional[float]:
    """Cohen's kappa of a square confusion matrix; None when undefined (pe == 1) or empty."""
    n = int(cm.sum())
    if n == 0:
        return None
    rows, cols = cm.sum(axis=1), cm.sum(axis=0)
    agree_by_chance = int((rows * cols).sum())  # = pe * n^2, exact in integers
    if agree_by_chance == n * n:
        return None
    po = np.trace(cm) / n
    pe = agree_by_chance / (n * n)
    return float((po - pe) / (1.0 - pe))


def per_class(cm: np.ndarray, classes: Sequence[str]) -> dict[str, dict]:
    """Precision, recall, F1 and support of each class, the tool read as the prediction."""
    out = {}
    for i, c in enumerate(classes):
        tp = int(cm[i, i])
        support = int(cm[i, :].sum())  # reference says c
        predicted = int(cm[:, i].sum())  # tool says c
        precision = _ratio(tp, predicted)
        recall = _ratio(tp, support)
        if precision is None or recall is None:
            f1 = None
        else:
            f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        out[c] = {"precision": precision, "recall": recall, "f1": f1, "support": support, "predicted": predicted}
    return out


def macro_f1(classes_metrics: dict[str, dict]) -> Optional[float]:
    """Mean F1 over the classes where F1 is defined."""
    values = [m["f1"] for m in classes_metrics.values() if m["f1"] is not None]
    return float(sum(values) / len(values)) if values else None


def one_vs_rest(cm: np.ndarray, classes: Sequence[str], positive: str) -> dict:
    """Sensitivity and specificity of the tool for one class (e.g. "eligible") against all others."""
    i = list(classes).index(positive)
    tp = int(cm[i, i])
    fn = int(cm[i, :].sum()) - tp
    fp = int(cm[:, i].sum()) - tp
    tn = int(cm.sum()) - tp - fn - fp
    return {"sensitivity": _ratio(tp, tp + fn), "specificity": _ratio(tn, tn + fp), "tp": tp, "fn": fn, "fp": fp, "tn": tn}


def bootstrap_kappa_ci(reference: Sequence[str], predicted: Sequence[str], classes: Sequence[str],
                       clusters: Optional[Sequence[Hashable]] = None, n_boot: int = N_BOOT, seed: int = SEED,
                       level: float = CI_LEVEL) -> dict:
    """Percentile bootstrap CI of Cohen's kappa, resampling clusters (patients) with replacement.

    Each resample draws ``m`` cluster indices with ``rng.integers(0, m, size=m)`` (one
    call per resample, in order), sums the clusters' confusion counts and computes
    kappa. ``clusters`` None makes every item its own cluster. Returns
    ``{"low", "high", "n_boot", "n_valid"}``; low/high are None when no resample
    has a defined kappa.
    """
    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    if clusters is None:
        clusters = list(range(len(reference)))
    order: dict[Hashable, int] = {}
    for c in clusters:
        order.setdefault(c, len(order))  # first appearance: deterministic whatever the ids are
    m = len(order)
    counts = np.zeros((m, k * k), dtype=np.int64)
    for r, p, c in zip(reference, predicted, clusters, strict=True):
        counts[order[c], index[r] * k + index[p]] += 1
    result = {"low": None, "high": None, "n_boot": int(n_boot), "n_valid": 0, "level": level}
    if m == 0 or n_boot <= 0:
        return result
    rng = np.random.default_rng(seed)
    kappas = np.empty(n_boot)
    valid = np.zeros(n_boot, dtype=bool)
    for b in range(n_boot):
        weights = np.bincount(rng.integers(0, m, size=m), minlength=m)
        cm = (weights @ counts).reshape(k, k)
        value = cohen_kappa(cm)
        if value is not None:
            kappas[b] = value
            valid[b] = True
    if valid.any():
        tail = (1.0 - level) / 2.0 * 100.0
        low, high = np.percentile(kappas[valid], [tail, 100.0 - tail])  # numpy's default linear interpolation
        result.update(low=float(low), high=float(high))
    result["n_valid"] = int(valid.sum())
    return result


def agreement_block(reference: Sequence[str], predicted: Sequence[str], classes: Sequence[str],
                    clusters: Optional[Sequence[Hashable]] = None, n_boot: int = N_BOOT, seed: int = SEED) -> dict:
    """Everything for one comparison: n, accuracy, kappa and its CI, per-class P/R/F1, the confusion matrix."""
    cm = confusion(reference, predicted, classes)
    classes_metrics = per_class(cm, classes)
    ci = bootstrap_kappa_ci(reference, predicted, classes, clusters, n_boot, seed)
    return {
        "n": int(cm.sum()),
        "accuracy": accuracy(cm),
        "kappa": cohen_kappa(cm),
        "kappa_ci": [ci["low"], ci["high"]],
        "kappa_ci_resamples": {"n_boot": ci["n_boot"], "n_valid": ci["n_valid"]},
        "macro_f1": macro_f1(classes_metrics),
        "per_class": classes_metrics,
        "confusion": {"labels": list(classes), "rows": "manual", "columns": "tool", "matrix": cm.tolist()},
    }


def work_saved(reference: Sequence[str], tool_verdicts: Sequence[str], scores: Sequence[float],
               target_sensitivity: float = 0.95) -> dict:
    """The share of charts a coordinator need not open, at two operating points.

    Definition: a chart is *set aside* (not opened) when the tool screens it out;
    every other chart is opened by a person. Eligible calls are still opened,
    because a chart is always confirmed before a patient is approached. The cost is
    manual-eligible patients set aside ("missed").

    * ``at_verdict``: set aside every chart the tool calls ineligible.
    * ``at_target``: rank charts by the tool's score (higher = more likely
      eligible) and set aside those below the highest threshold that still keeps
      the sensitivity for manual-eligible charts >= ``target_sensitivity``.

    ``work_saved`` = set aside / all charts; ``sensitivity_eligible`` = eligible
    charts kept / all manual-eligible charts (None when the manual has none).
    """
    ref = list(reference)
    n = len(ref)
    n_eligible = sum(1 for r in ref if r == "eligible")

    def point(aside: list[bool], **extra) -> dict:
        missed = sum(1 for r, a in zip(ref, aside) if a and r == "eligible")
        out = {"n": n, "set_aside": int(sum(aside)), "work_saved": _ratio(sum(aside), n),
               "eligible_missed": missed, "needs_review_set_aside": sum(1 for r, a in zip(ref, aside) if a and r == "needs_review"),
               "sensitivity_eligible": _ratio(n_eligible - missed, n_eligible)}
        out.update(extra)
        return out

    at_verdict = point([v == "ineligible" for v in tool_verdicts])
    at_target = None
    if n and n_eligible:
        best = point([False] * n, threshold=None)
        for t in sorted(set(float(s) for s in scores)) + [float("inf")]:
            aside = [s < t for s in scores]
            candidate = point(aside, threshold=None if t == float("inf") else t)
            if candidate["sensitivity_eligible"] >= target_sensitivity and candidate["set_aside"] > best["set_aside"]:
                best = candidate
        at_target = best
    return {"target_sensitivity": target_sensitivity, "n_manual_eligible": n_eligible,
            "at_verdict": at_verdict, "at_target": at_target}
