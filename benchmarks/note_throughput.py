"""Notes pipeline throughput, measured in one process against baselines run in that process.

    .venv/bin/python benchmarks/note_throughput.py [--notes 3000] [--rounds 3]

The notes are the corpora's notes (``corpora/notes/*/notes.jsonl``) repeated to
``--notes``. Every pipeline runs over the same list, ``--rounds`` times in
turn (interleaved, so background load hits them alike); the table shows the
best round of each. Rows:

* ``spacy.blank("en")`` tokenization (``nlp.pipe``): the floor;
* ``medspacy.load()``: medSpaCy's default pipeline (PyRuSH, target matcher,
  ConText). PyRuSH logs note text at DEBUG level through loguru; the logs are
  sent to a sink that drops them, so the default work is done but no note
  text is printed (PHI). A second row disables PyRuSH's logging;
* trialmatch ``nlp.pipe`` (Docs with the facts as plain records) and
  ``extract_note`` (text -> contract ``Fact`` models, what the CLI runs);
* component engines: medSpaCy's ConText and Sectionizer in our pipeline
  instead of our fast engines, and spaCy's tokenizer instead of ours.

Peak memory: the process's peak RSS after each row (it only grows), and the
peak of Python allocations while processing 200 notes (tracemalloc).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc

from _common import ROOT, machine, read_jsonl, table


def load_notes(n: int) -> list[str]:
    texts = []
    for path in sorted((ROOT / "corpora" / "notes").glob("*/notes.jsonl")):
        texts += [row["text"] for row in read_jsonl(path)]
    if not texts:
        raise SystemExit("no notes found under corpora/notes")
    out = (texts * (n // len(texts) + 1))[:n]
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--medspacy-notes", type=int, default=600,
                    help="notes for the (slow) medSpaCy rows; their rate is per note, so a subset suffices")
    args = ap.parse_args(argv)

    import spacy
    from loguru import logger

    import medspacy
    from nlp.pipeline import build_pipeline, extract_note, load_pipeline

    texts = load_notes(args.notes)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    ms_texts = texts[:args.medspacy_notes]
    ms_mb = sum(len(t.encode("utf-8")) for t in ms_texts) / 1e6

    logger.remove()
    logger.add(lambda message: None, level="DEBUG")  # default logging work, no PHI printed
    blank = spacy.blank("en")
    ours = load_pipeline()
    ms_nlp = medspacy.load()
    variants = {
        "trialmatch, medSpaCy ConText engine": build_pipeline(assertion_engine="medspacy"),
        "trialmatch, medSpaCy Sectionizer": build_pipeline(section_engine="medspacy"),
        "trialmatch, spaCy tokenizer": build_pipeline(tokenizer="spacy"),
    }

    def run_pipe(nlp, items):
        for _ in nlp.pipe(items, batch_size=256):
            pass

    def run_extract(items):
        for i, text in enumerate(items):
            extract_note(text, str(i), None, nlp=ours)

    jobs = [
        ("spacy.blank(\"en\") tokenization", lambda: run_pipe(blank, texts), texts, mb),
        ("medspacy.load() (default, logs dropped)", lambda: run_pipe(ms_nlp, ms_texts), ms_texts, ms_mb),
        ("medspacy.load(), PyRuSH logging disabled", None, ms_texts, ms_mb),
        ("trialmatch nlp.pipe (records on Docs)", lambda: run_pipe(ours, texts), texts, mb),
        ("trialmatch extract_note (Fact models)", lambda: run_extract(texts), texts, mb),
    ] + [(name, (lambda n=n: run_pipe(n, texts)), texts, mb) for name, n in variants.items()]

    # warm up every pipeline (caches, lazily compiled patterns, the concept index)
    run_pipe(blank, texts[:50]); run_pipe(ours, texts[:50]); run_extract(texts[:50]); run_pipe(ms_nlp, texts[:5])
    for n in variants.values():
        run_pipe(n, texts[:20])

    best: dict[str, float] = {}
    rss: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, fn, items, _size in jobs:
            if name.startswith("medspacy.load(), PyRuSH"):
                logger.disable("PyRuSH")
                fn = jobs[1][1]
            gc.collect()
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            if name.startswith("medspacy.load(), PyRuSH"):
                logger.enable("PyRuSH")
            best[name] = min(best.get(name, float("inf")), elapsed)
            rss[name] = peak_rss_mb()

    alloc: dict[str, float] = {}
    sample = texts[:200]
    for name, fn in (("spacy.blank(\"en\") tokenization", lambda: run_pipe(blank, sample)),
                     ("trialmatch nlp.pipe (records on Docs)", lambda: run_pipe(ours, sample)),
                     ("trialmatch extract_note (Fact models)", lambda: run_extract(sample)),
                     ("medspacy.load() (default, logs dropped)", lambda: run_pipe(ms_nlp, sample[:50]))):
        gc.collect()
        tracemalloc.start()
        fn()
        alloc[name] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()

    per_note = {name: best[name] / len(items) for name, _fn, items, _s in jobs}
    blank_t = per_note[jobs[0][0]]
    ms_t = per_note[jobs[1][0]]
    rows = []
    for name, _fn, items, size in jobs:
        t = per_note[name]
        rows.append([name, len(items), f"{1 / t:,.0f}", f"{size / best[name]:.2f}", f"{blank_t / t:.2f}",
                     f"{ms_t / t:.1f}", f"{rss[name]:,.0f}", f"{alloc[name]:.1f}" if name in alloc else ""])
    print(f"Note throughput: {len(texts)} notes ({mb:.2f} MB) from corpora/notes, best of {args.rounds} interleaved rounds; "
          f"medSpaCy rows on the first {len(ms_texts)} notes")
    print(machine())
    print(table(rows, ["pipeline", "notes", "notes/s", "MB/s", "x blank tokenization", "x medspacy.load()",
                       "peak RSS MB (process)", "peak alloc MB (200 notes)"]))
    ours_t = per_note["trialmatch nlp.pipe (records on Docs)"]
    ext_t = per_note["trialmatch extract_note (Fact models)"]
    print(f"targets: >= 10x medspacy.load(): pipe {ms_t / ours_t:.1f}x, extract_note {ms_t / ext_t:.1f}x; "
          f">= 0.4x blank tokenization: pipe {blank_t / ours_t:.2f}x, extract_note {blank_t / ext_t:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
