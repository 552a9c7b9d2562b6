"""The Spark engine (extra ``trialmatch[spark]``): the same per-patient work as the local
engine, run by Spark executors over Arrow.

Dataflow::

    notes DataFrame ──(validate, drop duplicate note ids)──▶ groupBy(patient_id)
        ──applyInPandas(screen one patient)──▶ rows (kind = result | error | patient)

* Each Python worker builds the pipeline, protocols and config once and keeps
  them in a module-level cache keyed by the job spec (Spark reuses its Python
  workers, so later tasks find them ready).
* :func:`screen_dataframe` / :func:`match_dataframe` take any Spark DataFrame
  (Parquet, Delta, a JDBC table, ...) and return a DataFrame, so they run
  unchanged on Databricks, EMR or YARN; :func:`main` is a ``spark-submit`` job
  from Parquet to Parquet.
* ``trialmatch match --engine spark`` (:func:`run_spark`) reads NOTES with the
  same readers as the local engine (so errors and counts are the same), stages
  the valid notes as Parquet, lets Spark screen them, and turns Spark's output
  files into the same sorted shards the local engine writes: ``results.jsonl``
  and ``errors.jsonl`` come out byte-identical.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Optional

from matcher.engine.manifest import Manifest
from matcher.engine.tasks import JobSpec, WorkerState, build_state, process_patient, write_shard
from matcher.io.notes import NoteRow, ReadOptions, make_row
from matcher.io.text import dumps
from nlp.schema import ErrorRecord

NOTE_COLUMNS = ["patient_id", "note_id", "text", "date", "note_type", "source", "location", "order"]
NOTES_SCHEMA = ("patient_id string, note_id string, text string, date string, note_type string, "
                "source string, location string, order long")
OUTPUT_SCHEMA = ("kind string, trial_id string, patient_id string, verdict string, score double, "
                 "order long, notes long, record string")
ROWS_PER_FILE = 100_000  # staged notes per Parquet file (about 200 MB of 2 KB notes)

_CACHE: dict[str, WorkerState] = {}  # per Python worker: job spec key -> built pipeline state


def _state(spec: JobSpec) -> WorkerState:
    key = spec.cache_key()
    state = _CACHE.get(key)
    if state is None:
        if len(_CACHE) >= 4:  # a long-lived worker serving many different jobs
            _CACHE.clear()
        state = _CACHE[key] = build_state(spec)
    return state


# -- executor side -----------------------------------------------------------------------------

def _screen_patient(spec: JobSpec, validate: bool, options: ReadOptions, pdf):
    """The applyInPandas function (bound with functools.partial): one patient's notes -> result,
    error and patient rows.

    A top-level function, not a closure, so that Spark pickles it by reference:
    executors import this module and so share its ``_CACHE`` across tasks.
    """
    import pandas as pd

    state = _state(spec)
    pdf = pdf.sort_values("order", kind="stable")
    notes: list[tuple[int, NoteRow]] = []
    out: list[dict] = []
    for raw in pdf.to_dict("records"):
        raw = {k: (None if _is_null(v) else v) for k, v in raw.items()}
        order = int(raw["order"])
        if raw.get("_duplicate"):
            err = ErrorRecord(source=raw["source"], location=raw["location"], id=raw["note_id"], reason="duplicate note_id")
            out.append(_error_row(order, err))
            continue
        row = make_row(raw, raw["source"], raw["location"], options) if validate else NoteRow(
            raw["patient_id"], raw["note_id"], raw["text"], raw["date"], raw["note_type"], raw["source"], raw["location"])
        if isinstance(row, ErrorRecord):
            out.append(_error_row(order, row))
            continue
        if row.truncated:
            out.append(_error_row(order, ErrorRecord(source=row.source, location=row.location, id=row.note_id,
                                                     reason=f"truncated to --max-note-chars {options.max_note_chars} (note used)")))
        notes.append((order, row))
    if notes:
        pid = notes[0][1].patient_id
        results, errors, n = process_patient(state, pid, notes)
        for (trial_id, patient_id), line in ((k if len(k) == 2 else (None, k[0]), v) for k, v in results):
            d = json.loads(line) if spec.command == "match" else {}
            out.append({"kind": "result", "trial_id": trial_id, "patient_id": patient_id, "verdict": d.get("verdict"),
                        "score": d.get("score"), "order": None, "notes": None, "record": line})
        out += [{"kind": "error", "trial_id": None, "patient_id": pid, "verdict": None, "score": None,
                 "order": order, "notes": None, "record": line} for order, line in errors]
        out.append({"kind": "patient", "trial_id": None, "patient_id": pid, "verdict": None, "score": None,
                    "order": None, "notes": n, "record": None})
    columns = ["kind", "trial_id", "patient_id", "verdict", "score", "order", "notes", "record"]
    return pd.DataFrame(out, columns=columns).astype({"score": "float64", "order": "Int64", "notes": "Int64"})


def _is_null(v) -> bool:
    """None, NaN, NaT or pd.NA: how pandas hands Spark's nulls to Python."""
    import pandas as pd

    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # list-like values are not nulls
        return False


def _error_row(order: int, error: ErrorRecord) -> dict:
    return {"kind": "error", "trial_id": None, "patient_id": None, "verdict": None, "score": None,
            "order": order, "notes": None, "record": dumps(error)}


# -- DataFrame API -----------------------------------------------------------------------------

def _prepare(df, dedup: bool):
    """Cast the input to the notes schema; add input positions and locations; flag duplicate note ids."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    cols = set(df.columns)
    missing = {"patient_id", "note_id", "text"} - cols
    if missing:
        raise ValueError(f"notes DataFrame needs columns patient_id, note_id, text (missing: {', '.join(sorted(missing))})")
    order = F.col("order").cast("long") if "order" in cols else F.monotonically_increasing_id()
    df = df.select(
        F.col("patient_id").cast("string").alias("patient_id"),
        F.col("note_id").cast("string").alias("note_id"),
        F.col("text").cast("string").alias("text"),
        (F.date_format(F.col("date"), "yyyy-MM-dd") if "date" in cols and dict(df.dtypes)["date"] in ("date", "timestamp")
         else (F.col("date").cast("string") if "date" in cols else F.lit(None).cast("string"))).alias("date"),
        (F.col("note_type").cast("string") if "note_type" in cols else F.lit(None).cast("string")).alias("note_type"),
        (F.col("source").cast("string") if "source" in cols else F.lit("dataframe")).alias("source"),
        order.alias("order"),
        *([F.col("location").cast("string").alias("location")] if "location" in cols else []),
    )
    if "location" not in cols:
        df = df.withColumn("location", F.concat(F.lit("row "), (F.col("order") + 1).cast("string")))
    if dedup:  # the first occurrence (input order) of a note id is used; later ones are errors
        first = Window.partitionBy("note_id").orderBy("order")
        df = df.withColumn("_duplicate", F.col("note_id").isNotNull() & (F.row_number().over(first) > 1))
    else:
        df = df.withColumn("_duplicate", F.lit(False))
    return df


def screen_dataframe(df, protocol, config=None, *, terms: Optional[str] = None, pairs: Optional[dict] = None,
                     max_note_chars: int = 1_000_000, oversize: str = "reject", validate: bool = True,
                     dedup: bool = True, log_text: bool = False, command: str = "match"):
    """Screen a Spark DataFrame of notes; every input row is accounted for in the output.

    ``df`` has ``patient_id, note_id, text`` and optional ``date, note_type`` (plus, when
    known, ``order``, ``source`` and ``location`` of each row). ``protocol`` is a
    :class:`~nlp.schema.Protocol`, criteria text, an iterable of Protocols, or a path to a
    ``.txt``/``.jsonl`` protocol file. Returns a DataFrame with the columns
    ``kind, trial_id, patient_id, verdict, score, order, notes, record``:

    * ``kind = "result"``: ``record`` is one MatchResult as JSON (a results.jsonl line);
    * ``kind = "error"``: ``record`` is one ErrorRecord (an errors.jsonl line), ``order`` the row's input position;
    * ``kind = "patient"``: one per patient screened, ``notes`` = notes used.
    """
    from matcher.config import MatchConfig, load_config

    protocols = _as_protocols(protocol) if command == "match" else []
    cfg = config if isinstance(config, MatchConfig) else load_config(config)
    pairs = {str(k): sorted(v) for k, v in pairs.items()} if pairs is not None else None
    spec = JobSpec(command, "", [p.model_dump_json() for p in protocols], cfg.model_dump(), pairs, terms, log_text)
    return _screen(df, spec, ReadOptions(max_note_chars=max_note_chars, oversize=oversize), validate, dedup)


def _screen(df, spec: JobSpec, options: ReadOptions, validate: bool, dedup: bool):
    notes = _prepare(df, dedup)
    if spec.pairs is not None:  # notes of patients outside the pairs are skipped by request
        from pyspark.sql import functions as F

        notes = notes.filter(F.col("patient_id").isin(sorted(spec.pairs)))
    return notes.groupBy("patient_id").applyInPandas(functools.partial(_screen_patient, spec, validate, options), OUTPUT_SCHEMA)


def match_dataframe(df, protocol, config=None, **options):
    """Screen a Spark DataFrame of notes against one or more trials: one row per (trial, patient).

    Columns: ``trial_id, patient_id, verdict, score, missing, criteria`` (the last two as
    JSON text, like ``results.parquet``) and ``result`` (the whole MatchResult as JSON,
    a ``results.jsonl`` line). Rows that cannot be used are left out here; use
    :func:`screen_dataframe` to get them (``kind = "error"``). Options as for
    :func:`screen_dataframe`.
    """
    from pyspark.sql import functions as F

    rows = screen_dataframe(df, protocol, config, **options).filter(F.col("kind") == "result")
    return rows.select("trial_id", "patient_id", "verdict", "score",
                       F.get_json_object("record", "$.missing").alias("missing"),
                       F.get_json_object("record", "$.criteria").alias("criteria"),
                       F.col("record").alias("result"))


def _as_protocols(protocol) -> list:
    if isinstance(protocol, (str, Path)) and Path(str(protocol)).suffix.lower() in (".txt", ".jsonl") and Path(str(protocol)).exists():
        from matcher.batch import load_protocols

        return load_protocols(str(protocol))[0]
    from matcher.api import as_protocols

    return as_protocols(protocol)


# -- session -----------------------------------------------------------------------------------

def get_session(workers: Optional[int] = None, log_level: str = "ERROR"):
    """The active Spark session, or a new one.

    Under ``spark-submit`` or on Databricks the cluster's master is used; otherwise
    ``TRIALMATCH_SPARK_MASTER`` or ``local[workers]`` (``local[*]`` without ``--workers``).
    """
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # executors run this interpreter (local mode)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("trialmatch")
    if not SparkConf().contains("spark.master"):
        master = os.environ.get("TRIALMATCH_SPARK_MASTER") or f"local[{workers if workers and workers > 1 else '*'}]"
        if master.startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # a local run listens on loopback only
        builder = (builder.master(master)
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.log.level", log_level)
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.driver.memory", os.environ.get("TRIALMATCH_SPARK_DRIVER_MEMORY", "2g")))
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - no Java, or a bad master URL: one line, no traceback
        from matcher.errors import UsageError

        raise UsageError(f"cannot start Spark ({type(exc).__name__}); is Java 17+ installed and JAVA_HOME set?") from None
    spark.sparkContext.setLogLevel(log_level)
    return spark


# -- the CLI engine ----------------------------------------------------------------------------

class ParquetNotes:
    """Pass-1 sink: valid notes staged as Parquet files (``notes/part-NNNN.parquet``, mode 0600)."""

    def __init__(self, folder: Path):
        import shutil

        self.folder = folder / "notes"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.rows: list[dict] = []
        self.files = 0
        self.in_file = 0
        self.writer = None

    def add(self, row: NoteRow, order: int) -> None:
        self.rows.append({"patient_id": row.patient_id, "note_id": row.note_id, "text": row.text, "date": row.date,
                          "note_type": row.note_type, "source": row.source, "location": row.location, "order": order})
        if len(self.rows) >= 5000:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.rows:
            return
        schema = pa.schema([(c, pa.int64() if c == "order" else pa.string()) for c in NOTE_COLUMNS])
        if self.writer is None:
            path = self.folder / f"part-{self.files:04d}.parquet"
            path.touch(mode=0o600)
            self.writer = pq.ParquetWriter(path, schema)
        self.writer.write_table(pa.Table.from_pylist(self.rows, schema=schema))
        self.in_file += len(self.rows)
        self.rows.clear()
        if self.in_file >= ROWS_PER_FILE:
            self._close_file()

    def _close_file(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer, self.in_file = None, 0
            self.files += 1

    def close(self) -> None:
        self._flush()
        self._close_file()


def run_spark(spec: JobSpec, notes: str, options: ReadOptions, manifest: Manifest,
              keep_patient: Optional[Callable[[str], bool]] = None, limit: Optional[int] = None,
              workers: Optional[int] = None):
    """``trialmatch match --engine spark``: pass 1 on the driver, screening on Spark, shards for the merge."""
    from matcher.engine.local import RunSummary, run_pass1

    try:
        import pyspark  # noqa: F401
    except ImportError:
        from matcher.errors import UsageError

        raise UsageError("--engine spark needs PySpark: pip install 'trialmatch[spark]'") from None
    started = time.perf_counter()
    work = Path(spec.work)
    if manifest.pass1 is None:  # (a resumed run keeps the notes it staged)
        run_pass1(spec, notes, options, manifest, keep_patient, limit, parts=1, sink=ParquetNotes(work))
    if manifest.data.get("spark_shards") is None:  # the Spark stage runs whole: Spark retries its own failed tasks
        staged = work / "notes"
        out_dir = work / "spark-out"
        if any(staged.glob("*.parquet")):
            # Spark logs executor failures with their Python exception, which may quote a note:
            # silent unless --log-text (a failure still ends with a one-line error)
            spark = get_session(workers, "ERROR" if spec.log_text else "OFF")
            if not spark.sparkContext.getConf().contains("spark.sql.shuffle.partitions"):
                # about 2,000 notes per task: enough tasks to balance, few enough to start quickly
                spark.conf.set("spark.sql.shuffle.partitions", str(max(4, min(4000, manifest.pass1["used"] // 2000 + 1))))
            df = spark.read.schema(NOTES_SCHEMA).parquet(str(staged))
            # rows were validated and de-duplicated in pass 1, exactly as the local engine does
            out = _screen(df, spec, options, validate=False, dedup=False)
            try:
                out.write.mode("overwrite").parquet(str(out_dir))
            except Exception as exc:  # noqa: BLE001 - a failed job: one line; pass 1 is kept for --resume
                from matcher.errors import UsageError

                raise UsageError(f"the Spark job failed ({type(exc).__name__}); fix the cause and rerun with --resume "
                                 "(add --log-text to see Spark's log, which may quote notes)") from None
        n = _collect_shards(out_dir, work, manifest)
        manifest.data["spark_shards"] = n
        manifest.data["parts"] = n
        manifest.save()
    return RunSummary.of(manifest, time.perf_counter() - started)


def _collect_shards(out_dir: Path, work: Path, manifest: Manifest) -> int:
    """Spark's output files -> sorted ``out-NNNN.jsonl`` / ``errors-NNNN.jsonl`` shards (one file in memory at a time)."""
    import pyarrow.parquet as pq

    files = sorted(out_dir.glob("*.parquet")) if out_dir.is_dir() else []
    for i, path in enumerate(files):
        table = pq.read_table(path)
        results, errors = [], []
        patients = notes = 0
        for row in table.to_pylist():
            if row["kind"] == "result":
                key = (row["trial_id"], row["patient_id"]) if row["trial_id"] is not None else (row["patient_id"],)
                results.append((key, row["record"]))
            elif row["kind"] == "error":
                errors.append((row["order"], row["record"]))
            else:
                patients += 1
                notes += row["notes"] or 0
        write_shard(work / f"errors-{i:04d}.jsonl", errors)
        write_shard(work / f"out-{i:04d}.jsonl", results)
        manifest.mark_done(i, {"notes": notes, "patients": patients, "outputs": len(results), "errors": len(errors)})
    import shutil

    shutil.rmtree(out_dir, ignore_errors=True)
    return len(files)
