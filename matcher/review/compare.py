"""``compare(results, manual)``: the tool's results against manual chart review.

The reference standard for each item (a patient's verdict, or one criterion of a
patient) is the label of the highest-priority reviewer who labelled it. Priority:
``reference_reviewer`` if given, then reviewers by number of labels (most first),
ties by first appearance in the sheet. With one reviewer this is simply their label.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Optional, Sequence

from matcher.review.agreement import Agreement
from matcher.review.align import ManualLabel, align
from matcher.review.criteria_match import MIN_SCORE
from matcher.review.inputs import ToolSide, build_tool_side, load_protocols, load_results
from matcher.review.labels import STATUSES, VERDICTS, LabelMap
from matcher.review.manual import read_manual
from matcher.review.metrics import CI_LEVEL, N_BOOT, SEED, agreement_block, confusion, one_vs_rest, work_saved
from matcher.review import worklist

ItemKey = tuple  # (trial_id, patient_id, criterion_id or None)


class ReviewerError(ValueError):
    """The requested reference reviewer has no usable labels."""


def compare(results, manual, protocol=None, labels=None, *, reference_reviewer: Optional[str] = None,
            target_sensitivity: float = 0.95, n_boot: int = N_BOOT, seed: int = SEED,
            min_match_score: float = MIN_SCORE) -> Agreement:
    """Compare tool results with a manual review.

    ``results``: list of MatchResult (or dicts), a results.jsonl path, or a ``trialmatch match`` output directory.
    ``manual``: a MANUAL.csv path or a pandas DataFrame with the contract's columns.
    ``protocol``: optional Protocol(s) or protocol path, to match criterion text against
    (by default the criteria texts in the results are used).
    ``labels``: optional extra label mapping (JSON path or dict, see ``review_labels.json``).
    Raises ValueError subclasses for unusable inputs; bad rows are recorded in the Agreement.
    Several trials are pooled in ``verdict`` and ``criteria["overall"]``; each
    ``criteria["by_criterion"]`` entry carries its ``trial_id``.
    """
    rows, errors, source = load_results(results)
    tool = build_tool_side(rows, errors, load_protocols(protocol), source)
    label_map = LabelMap.load(labels)
    sheet = read_manual(manual)
    aligned = align(sheet, tool, label_map, min_match_score)
    reviewers = _priority(aligned.labels, aligned.reviewers, reference_reviewer)
    items = _items(aligned.labels)
    reference = {key: next(by[r] for r in reviewers if r in by) for key, by in items.items()}
    opts = {"n_boot": n_boot, "seed": seed}

    verdict_keys = [k for k in reference if k[2] is None]
    verdict = _block(verdict_keys, reference, tool, VERDICTS, opts)
    if verdict_keys:
        manual_says = [reference[k].label for k in verdict_keys]
        tool_says = [tool_label(tool, k) for k in verdict_keys]
        cm = confusion(manual_says, tool_says, VERDICTS)
        verdict["sensitivity_specificity"] = {c: one_vs_rest(cm, VERDICTS, c) for c in VERDICTS}
        scores = [tool.results[k[:2]].score for k in verdict_keys]
        verdict["work_saved"] = work_saved(manual_says, tool_says, scores, target_sensitivity)

    criterion_keys = [k for k in reference if k[2] is not None]
    overall = _block(criterion_keys, reference, tool, STATUSES, opts)
    by_criterion = []
    grouped: dict[tuple[str, str], list] = defaultdict(list)
    for k in criterion_keys:
        grouped[(k[0], k[2])].append(k)
    for (trial, cid), keys in sorted(grouped.items(), key=lambda kv: (kv[0][0], tool.catalog[kv[0][0]][kv[0][1]].order)):
        info = tool.catalog[trial][cid]
        block = _block(keys, reference, tool, STATUSES, opts)
        by_criterion.append({"trial_id": trial, "criterion_id": cid, "kind": info.kind, "text": info.text, **block})

    return Agreement(
        verdict=verdict,
        criteria={"overall": overall, "by_criterion": by_criterion},
        reviewers=_reviewers(items, reviewers, tool, opts),
        disagreements=_disagreements(items, reference, reviewers, tool),
        unmatched=[vars(u) for u in aligned.unmatched],
        criterion_matches=[vars(m) for m in aligned.matches],
        input_errors=list(tool.errors),
        notes=aligned.notes,
        method={
            "reference": "each item's label from the highest-priority reviewer who labelled it",
            "reviewer_priority": reviewers,
            "confusion_matrix": "rows = manual review, columns = tool",
            "kappa": "Cohen's kappa over the classes; null when undefined (one class only on both sides)",
            "kappa_ci": f"{CI_LEVEL:.0%} percentile bootstrap, {n_boot} resamples of patients, numpy default_rng seed {seed}",
            "undefined": "metrics with a zero denominator are null",
            "work_saved": ("share of charts set aside unopened: at_verdict sets aside the tool's ineligible calls; "
                           f"at_target sets aside the lowest scores while sensitivity for manual-eligible charts stays >= {target_sensitivity}"),
            "criterion_text_matching": f"rapidfuzz, minimum score {min_match_score:g} (see matcher/review/criteria_match.py)",
            "labels": label_map.describe(),
        },
        inputs={"results": source, "n_results": len(tool.results), "manual": None if hasattr(manual, "columns") else str(manual),
                "manual_rows": len(sheet.rows), "manual_columns": sheet.columns, "trials": tool.trials()},
        catalog=tool.catalog,
    )


def _priority(labels: list[ManualLabel], appearance: list[str], reference: Optional[str]) -> list[str]:
    counts: dict[str, int] = defaultdict(int)
    for lab in labels:
        counts[lab.reviewer] += 1
    names = [r for r in appearance if counts[r]]
    if reference is not None and reference not in names:
        raise ReviewerError(f"reference reviewer '{reference}' has no usable labels (reviewers: {', '.join(names) or 'none'})")
    ordered = sorted(names, key=lambda r: (-counts[r], appearance.index(r)))
    if reference is not None:
        ordered.remove(reference)
        ordered.insert(0, reference)
    return ordered


def _items(labels: list[ManualLabel]) -> dict[ItemKey, dict[str, ManualLabel]]:
    items: dict[ItemKey, dict[str, ManualLabel]] = {}
    for lab in labels:
        items.setdefault((lab.trial_id, lab.patient_id, lab.criterion_id), {})[lab.reviewer] = lab
    return items


def tool_label(tool: ToolSide, key: ItemKey) -> str:
    result = tool.results[key[:2]]
    if key[2] is None:
        return result.verdict
    return next(c.status for c in result.criteria if c.criterion_id == key[2])


def _block(keys: Sequence[ItemKey], reference: dict, tool: ToolSide, classes, opts) -> dict:
    ref = [reference[k].label for k in keys]
    pred = [tool_label(tool, k) for k in keys]
    # Clusters are patients: a patient's labels are not independent, so the bootstrap resamples patients.
    return agreement_block(ref, pred, classes, clusters=[k[1] for k in keys], **opts)


def _pair_block(keys, a_labels: dict, b_labels: dict, classes, opts) -> dict:
    block = agreement_block([a_labels[k].label for k in keys], [b_labels[k] for k in keys], classes,
                            clusters=[k[1] for k in keys], **opts)
    return {k: block[k] for k in ("n", "accuracy", "kappa", "kappa_ci")}


def _reviewers(items, reviewers: list[str], tool: ToolSide, opts) -> dict:
    """Per-reviewer counts; with two or more, inter-rater kappa beside the tool's kappa against each."""
    by_reviewer = {r: {k: by[r] for k, by in items.items() if r in by} for r in reviewers}
    tool_labels = {k: tool_label(tool, k) for k in items}
    out = {"names": reviewers, "reference": reviewers[0] if reviewers else None,
           "labels": {r: {"verdicts": sum(1 for k in by_reviewer[r] if k[2] is None),
                          "criteria": sum(1 for k in by_reviewer[r] if k[2] is not None)} for r in reviewers},
           "tool_vs": {}, "pairs": []}
    if len(reviewers) < 2:
        return out
    levels = (("verdict", VERDICTS, lambda k: k[2] is None), ("criteria", STATUSES, lambda k: k[2] is not None))
    for r in reviewers:
        mine = by_reviewer[r]
        out["tool_vs"][r] = {name: _pair_block([k for k in mine if keep(k)], mine, tool_labels, classes, opts)
                             for name, classes, keep in levels}
    for a, b in combinations(reviewers, 2):
        both = [k for k in by_reviewer[a] if k in by_reviewer[b]]
        pair = {"a": a, "b": b}
        for name, classes, keep in levels:
            keys = [k for k in both if keep(k)]
            b_plain = {k: by_reviewer[b][k].label for k in keys}
            pair[name] = {"n": len(keys),
                          "inter_rater": _pair_block(keys, by_reviewer[a], b_plain, classes, opts),
                          "tool_vs_a": _pair_block(keys, by_reviewer[a], tool_labels, classes, opts),
                          "tool_vs_b": _pair_block(keys, by_reviewer[b], tool_labels, classes, opts)}
        out["pairs"].append(pair)
    return out


def _disagreements(items, reference: dict, reviewers: list[str], tool: ToolSide) -> list[dict]:
    order = {(t, cid): info.order for t, table in tool.catalog.items() for cid, info in table.items()}
    rows = []
    for key, by in items.items():
        ref = reference[key]
        tool_says = tool_label(tool, key)
        others = [by[r] for r in reviewers if r in by and r != ref.reviewer]
        if tool_says != ref.label:
            kind = "tool vs manual"
        elif any(o.label != ref.label for o in others):
            kind = "reviewers disagree"
        else:
            continue
        result = tool.results[key[:2]]
        trial, patient, cid = key
        if cid is None:
            reason, evidence = worklist.verdict_explanation(result)
            text, score, detail = "", result.score, _manual_detail(items, key, ref.reviewer, tool)
        else:
            c = next(x for x in result.criteria if x.criterion_id == cid)
            reason, evidence, text, score, detail = c.reason, worklist.evidence_text(c), c.text, None, ""
        rows.append({
            "level": "verdict" if cid is None else "criterion", "kind": kind,
            "severity": worklist.severity(ref.label, tool_says if kind == "tool vs manual" else others[0].label),
            "trial_id": trial, "patient_id": patient, "criterion_id": cid or "", "criterion_text": text,
            "manual": worklist.pretty(ref.label), "manual_as_written": ref.raw, "reviewer": ref.reviewer, "manual_row": ref.row,
            "other_reviewers": "; ".join(f"{o.reviewer}: {worklist.pretty(o.label)}" for o in others),
            "manual_detail": detail, "tool": worklist.pretty(tool_says), "tool_score": score,
            "tool_reason": reason, "tool_evidence": evidence,
        })
    rows.sort(key=lambda r: worklist.sort_key(r, order))
    for i, row in enumerate(rows, start=1):
        row["rank"] = i
    return rows


def _manual_detail(items, key: ItemKey, reviewer: str, tool: ToolSide) -> str:
    """What the same reviewer said about this patient's top-level criteria that were not met or unknown."""
    trial, patient, _ = key
    result = tool.results[(trial, patient)]
    parts = []
    for c in result.criteria:
        if c.parent_id is not None:
            continue
        lab = items.get((trial, patient, c.criterion_id), {}).get(reviewer)
        if lab is not None and lab.label != ("not_met" if c.kind == "exclusion" else "met"):
            parts.append(f"{c.criterion_id} {worklist.pretty(lab.label)}")
    return "manual: " + ", ".join(parts) if parts else ""
