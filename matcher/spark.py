"""Spark API of trialmatch (extra ``trialmatch[spark]``): screen any Spark DataFrame of notes.

    from matcher.spark import match_dataframe
    notes = spark.read.parquet("s3://bucket/notes/")          # patient_id, note_id, text[, date, note_type]
    results = match_dataframe(notes, "protocols.jsonl")       # one row per (trial, patient)
    results.write.parquet("s3://bucket/trialmatch/results/")

It runs unchanged on a local session, Databricks, EMR or YARN: the pipeline is built
once per executor Python worker. As a ``spark-submit`` job, Parquet to Parquet::

    spark-submit --py-files trialmatch-0.1.0-py3-none-any.whl matcher/spark.py \\
        PROTOCOL NOTES_PARQUET OUT_DIR [--config FILE] [--pairs PAIRS.csv] [--terms TERMS.csv]

writes ``OUT_DIR/results`` (Parquet, one row per trial x patient) and
``OUT_DIR/errors`` (Parquet, one row per input row that could not be used).
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.path and sys.path[0] and __file__.startswith(sys.path[0]):
    # Run as a file (spark-submit): don't let this package's folders (io/, report/ ...) shadow top-level modules.
    sys.path.pop(0)

import argparse  # noqa: E402
from typing import Optional, Sequence  # noqa: E402

from matcher.engine.spark import get_session, match_dataframe, screen_dataframe  # noqa: E402

__all__ = ["match_dataframe", "screen_dataframe", "get_session", "main"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``spark-submit`` entry point: PROTOCOL NOTES(.parquet, any Spark URI) OUT_DIR."""
    from pyspark.sql import functions as F

    from matcher.batch import read_pairs

    ap = argparse.ArgumentParser(prog="matcher.spark", description="Screen a Parquet note archive on Spark.")
    ap.add_argument("protocol", help="a .txt protocol or a .jsonl of protocols (a local file on the driver)")
    ap.add_argument("notes", help="Parquet notes: patient_id, note_id, text[, date, note_type] (any Spark path)")
    ap.add_argument("out", help="output folder (any Spark path): results/ and errors/ as Parquet")
    ap.add_argument("--config", help="JSON file overriding the matching policy")
    ap.add_argument("--pairs", help="CSV with header trial_id,patient_id restricting the run")
    ap.add_argument("--terms", help="CSV of extra concepts (must be readable by the executors)")
    ap.add_argument("--max-note-chars", type=int, default=1_000_000)
    ap.add_argument("--oversize", choices=["reject", "truncate"], default="reject")
    args = ap.parse_args(argv)
    spark = get_session()
    notes = spark.read.parquet(args.notes)
    rows = screen_dataframe(notes, args.protocol, args.config, terms=args.terms, pairs=read_pairs(args.pairs),
                            max_note_chars=args.max_note_chars, oversize=args.oversize).cache()
    results = rows.filter(F.col("kind") == "result").select(
        "trial_id", "patient_id", "verdict", "score", F.get_json_object("record", "$.missing").alias("missing"),
        F.get_json_object("record", "$.criteria").alias("criteria"), F.col("record").alias("result"))
    results.write.mode("overwrite").parquet(args.out.rstrip("/") + "/results")
    rows.filter(F.col("kind") == "error").select("order", "record").orderBy("order") \
        .write.mode("overwrite").parquet(args.out.rstrip("/") + "/errors")
    counts = {r["kind"]: r["n"] for r in rows.groupBy("kind").agg(F.count("*").alias("n")).collect()}
    print(f"{counts.get('patient', 0)} patients, {counts.get('result', 0)} results, {counts.get('error', 0)} error records",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
