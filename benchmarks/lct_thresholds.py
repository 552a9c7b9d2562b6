"""Score the parser's thresholds against the LCT gold (../shared/data/criteria/lct).

Each gold row is one comparison with a character span in texts/<nct_id>.txt.
A gold row is matched to the parser's constraints (their threshold, their
time window, or an exception's threshold) by span overlap. Reported:

* numeric rows with an operator: recall of (comparator, value), and of the
  full tuple (comparator, value, value2, unit);
* temporal rows with an operator and a value: recall of (comparator, value);
* precision: the share of the parser's numeric items that overlap a gold
  comparison, and the share of those whose (comparator, value) is right.

    python benchmarks/lct_thresholds.py [--errors N]
"""

from __future__ import annotations

import argparse
import collections
import re

from _common import SHARED_DATA, machine, need_shared, read_jsonl, table

from nlp.criteria import parse_protocol
from nlp.grammar.numbers import parse_number
from nlp.grammar.units import unit_table

OPS = {"GT": ">", "GTEQ": ">=", "LT": "<", "LTEQ": "<=", "BETWEEN": "between", "EQ": "=="}
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6}
NOT_UNITS = {"score", "grade", "class", "stage", "status", "classification", "points", "point", "baseline", "normal",
             "cut-off", "percentile", "level", "levels", "type", "scale"}
TIME = {"year": "years", "month": "months", "week": "weeks", "day": "days", "hour": "hours", "minute": "minutes"}


def gold_number(text):
    if text is None:
        return None
    t = str(text).strip().lower()
    if t in ROMAN:
        return float(ROMAN[t])
    return parse_number(t.replace(",", ""))


def predicted_items(protocol):
    """(kind, comparator, value, value2, unit, span, text) for every threshold the parser produced."""
    items = []
    for node in protocol.walk():
        for c in node.constraints:
            if c.comparator and isinstance(c.value, (int, float)):
                items.append(("threshold", c.comparator, c.value, c.value2, c.unit, c.span, c.text))
            if c.temporal and c.temporal.value is not None:
                items.append(("temporal", c.temporal.comparator, c.temporal.value, c.temporal.value2, c.temporal.unit,
                              c.temporal.span, c.temporal.text))
            for x in c.exceptions:
                if x.comparator and isinstance(x.value, (int, float)):
                    items.append(("exception", x.comparator, x.value, x.value2, x.unit, x.span, x.text))
    return items


def unit_ok(gold_row, unit, text):
    want = gold_row.get("unit")
    tnorm = gold_row.get("temporal_unit_norm")
    if want and want.strip().lower() in NOT_UNITS:
        want = None  # annotators marked the scale's name ("score", "grade") as its unit
    if tnorm:
        return unit == TIME.get(tnorm)
    if not want:
        return unit is None or (unit_table().get(unit) is not None and unit_table().get(unit).dimension == "count")
    canon = unit_table().canonical(want)
    if canon is not None and canon == unit:
        return True
    return bool(re.search(re.escape(want.strip()), text, re.IGNORECASE)) and unit is not None


def overlap(a, b):
    return a[0] < b[1] and b[0] < a[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", type=int, default=0, help="print this many misses per kind")
    args = ap.parse_args()
    base = need_shared(SHARED_DATA / "criteria" / "lct")
    rows = read_jsonl(base / "thresholds.jsonl")
    by_trial = collections.defaultdict(list)
    for r in rows:
        by_trial[r["nct_id"]].append(r)
    stats = collections.Counter()
    misses = collections.defaultdict(list)
    for nct, gold in sorted(by_trial.items()):
        text = (base / "texts" / f"{nct}.txt").read_text(encoding="utf-8")
        items = predicted_items(parse_protocol(text, nct))
        gold_spans = [tuple(g["comparison_span"]) for g in gold]
        for it in items:
            stats["pred"] += 1
            hits = [g for g in gold if overlap(it[5], g["comparison_span"])]
            if hits:
                stats["pred_overlap"] += 1
                if any(OPS.get(g.get("operator_norm")) == it[1] and gold_number(g.get("value")) == it[2] for g in hits):
                    stats["pred_correct"] += 1
        for g in gold:
            op = OPS.get(g.get("operator_norm"))
            value = gold_number(g.get("value"))
            if op is None or value is None:
                continue
            kind = g["kind"]
            stats[f"{kind}_n"] += 1
            span = g["comparison_span"]
            cands = [it for it in items if overlap(it[5], span)]
            ok = [it for it in cands if it[1] == op and it[2] == value]
            if ok:
                stats[f"{kind}_opval"] += 1
                v2 = gold_number(g.get("value2"))
                if any((v2 is None or it[3] == v2) and unit_ok(g, it[4], it[6]) for it in ok):
                    stats[f"{kind}_full"] += 1
                else:
                    misses[f"{kind}-full"].append((g["comparison_text"], op, value, v2, g.get("unit") or g.get("temporal_unit_norm"), [(i[1], i[2], i[3], i[4]) for i in ok]))
            else:
                misses[kind].append((nct, g["comparison_text"], op, value, [(i[1], i[2], i[4], i[6][:40]) for i in cands]))
    n, t = stats["numeric_n"], stats["temporal_n"]
    print(f"machine: {machine()}")
    print(f"trials: {len(by_trial)}  gold rows with an operator and a value: numeric {n}, temporal {t}")
    print(table([
        ["numeric (comparator, value) recall", f"{stats['numeric_opval'] / n:.3f}", "0.93"],
        ["numeric full tuple recall (+value2, unit)", f"{stats['numeric_full'] / n:.3f}", "0.85"],
        ["temporal (comparator, value) recall", f"{stats['temporal_opval'] / t:.3f}", "0.85"],
        ["precision: predicted thresholds overlapping a gold comparison", f"{stats['pred_overlap'] / max(1, stats['pred']):.3f}", ""],
        ["precision: overlapping and (comparator, value) right", f"{stats['pred_correct'] / max(1, stats['pred_overlap']):.3f}", ""],
    ], ["measure", "value", "target"]))
    for kind, items in misses.items():
        for m in items[:args.errors]:
            print("MISS", kind, m)


if __name__ == "__main__":
    main()
