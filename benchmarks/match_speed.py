"""Matching cost per (patient, trial) pair once facts are extracted (one core).

Facts of the seed-trial corpus are extracted once; then the seed protocol and a sample
of ClinicalTrials.gov protocols (when ../shared/data is present) are matched against
every patient repeatedly. Reported as pairs/second and as a ratio to serializing the
results to JSON in the same process (a fixed, cheap baseline).

    python benchmarks/match_speed.py
"""

from __future__ import annotations

import time

from _common import ROOT, SHARED_DATA, machine, read_jsonl, table

from matcher.api import match_records, records_from_rows
from nlp.criteria import parse_protocol

SEED = ROOT / "corpora" / "protocols" / "cd123-car-nk-protocol.txt"


def main() -> None:
    records = records_from_rows(read_jsonl(ROOT / "corpora" / "notes" / "seed_trial" / "notes.jsonl"))
    protocols = [parse_protocol(SEED.read_text(encoding="utf-8"), SEED.stem)]
    sample = SHARED_DATA / "criteria" / "ctgov_sample.jsonl"
    if sample.exists():
        rows = [r for r in read_jsonl(sample) if str(r.get("oncology")).lower() == "true"][:40]
        protocols += [parse_protocol(r["criteria"], r["nct_id"]) for r in rows]
    match_records(protocols[:1], records[:1])  # warm caches
    t0 = time.perf_counter()
    rounds, results = 0, []
    while time.perf_counter() - t0 < 5 or rounds < 1:
        results = match_records(protocols, records)
        rounds += 1
    elapsed = time.perf_counter() - t0
    pairs = rounds * len(protocols) * len(records)
    t1 = time.perf_counter()
    for _ in range(rounds):
        for r in results:
            r.model_dump_json()
    ser = time.perf_counter() - t1
    print(f"machine: {machine()}")
    print(f"protocols: {len(protocols)}  patients: {len(records)}  pairs timed: {pairs}")
    print(table([["matching pairs/second (one core)", f"{pairs / elapsed:.0f}", "1000"],
                 ["JSON serialization pairs/second (baseline)", f"{pairs / ser:.0f}", ""],
                 ["matching cost / serialization cost", f"{elapsed / ser:.2f}", ""]], ["measure", "value", "target"]))


if __name__ == "__main__":
    main()
