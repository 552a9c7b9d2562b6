"""Parse every trial of ../shared/data/criteria/ctgov_sample.jsonl and report
crashes, silently dropped lines, the share of parsed/partial/unsupported
criteria and trials per second (single process).

    python benchmarks/parse_corpus.py
"""

from __future__ import annotations

import collections
import time
import traceback

from _common import SHARED_DATA, machine, need_shared, read_jsonl, table

from nlp.criteria import parse_protocol
from nlp.criteria.segment import parse_marker


def dropped_lines(protocol) -> list[str]:
    """Non-blank lines with letters that no criterion span, header or preamble covers."""
    text = protocol.text
    covered = bytearray(len(text))
    spans = [n.span for n in protocol.walk()]
    if protocol.preamble_span:
        spans.append(protocol.preamble_span)
    spans += [tuple(sec.span) for sec in protocol.sections]
    for s, e in spans:
        covered[s:e] = b"\x01" * (e - s)
    out, pos = [], 0
    for line in text.replace("\r\n", "\n").split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1 + (1 if text[end:end + 2] == "\r\n" else 0)
        letters = [i for i in range(start, end) if text[i].isalpha()]
        if letters and not any(covered[i] for i in letters):
            out.append(line)
    return out


def main() -> None:
    path = need_shared(SHARED_DATA / "criteria" / "ctgov_sample.jsonl")
    rows = read_jsonl(path)
    parse_protocol("Inclusion Criteria:\n- Age >= 18 years")  # load the lexicon outside the timing
    statuses: collections.Counter = collections.Counter()
    crashes, dropped, n_dropped_trials = [], [], 0
    t0 = time.perf_counter()
    for row in rows:
        try:
            p = parse_protocol(row["criteria"], row["nct_id"])
        except Exception:  # noqa: BLE001 - the benchmark counts crashes
            crashes.append((row["nct_id"], traceback.format_exc(limit=2)))
            continue
        for node in p.walk():
            statuses[node.status] += 1
        lost = dropped_lines(p)
        if lost:
            n_dropped_trials += 1
            dropped.extend((row["nct_id"], ln) for ln in lost)
    elapsed = time.perf_counter() - t0
    total = sum(statuses.values())
    print(f"machine: {machine()}")
    print(f"trials: {len(rows)}  criteria nodes: {total}  time: {elapsed:.1f}s")
    print(table([
        ["crashes", len(crashes)],
        ["silently dropped lines", len(dropped)],
        ["parsed", f"{statuses['parsed'] / total:.3f}"],
        ["partial", f"{statuses['partial'] / total:.3f}"],
        ["unsupported", f"{statuses['unsupported'] / total:.3f}"],
        ["trials/second", f"{len(rows) / elapsed:.1f}"],
    ], ["measure", "value"]))
    for nct, tb in crashes[:5]:
        print("CRASH", nct, tb)
    for nct, ln in dropped[:10]:
        print("DROPPED", nct, repr(ln[:100]))


if __name__ == "__main__":
    main()
