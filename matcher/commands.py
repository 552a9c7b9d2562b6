"""The ``extract``, ``match`` and ``review`` subcommands (registered into :mod:`matcher.cli`)."""

from __future__ import annotations

import sys
from pathlib import Path

from matcher.errors import UsageError


def _add_notes_options(p) -> None:
    p.add_argument("--query", help="SQL for a database NOTES (default: the OMOP NOTE table)")
    p.add_argument("--terms", help="CSV of extra concepts: label,synonym[,category,code]")
    p.add_argument("--max-note-chars", type=int, default=1_000_000, help="longest note accepted (default 1,000,000)")
    p.add_argument("--oversize", choices=["reject", "truncate"], default="reject", help="what to do with longer notes")
    p.add_argument("--limit", type=int, help="stop after this many notes (a quick look)")
    p.add_argument("--log-text", action="store_true", help="allow note text in logs (off by default: notes are PHI)")


def register_extract(sub) -> None:
    p = sub.add_parser("extract", help="extract facts from clinical notes")
    p.add_argument("notes", help=".jsonl, .csv, .parquet, a directory of .txt, or a database URL")
    p.add_argument("--out", help="output JSONL (default: stdout)")
    p.add_argument("--format", choices=["jsonl", "table", "html"], default="jsonl",
                   help="jsonl (contract), a compact table, or an HTML view of the first note")
    p.add_argument("--workers", type=int, default=1, help="worker processes")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run writing --out")
    _add_notes_options(p)
    p.set_defaults(func=cmd_extract)


def register_match(sub) -> None:
    p = sub.add_parser("match", help="screen patients against one or more trials")
    p.add_argument("protocol", help="a .txt protocol or a .jsonl of protocols")
    p.add_argument("notes", help=".jsonl, .csv, .parquet, a directory of .txt, or a database URL")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--pairs", help="CSV with header trial_id,patient_id restricting the run")
    p.add_argument("--config", help="JSON file overriding the matching policy")
    p.add_argument("--workers", type=int, default=1, help="worker processes (local engine)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--engine", choices=["local", "spark"], default="local")
    p.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl", help="also write results.parquet with parquet")
    _add_notes_options(p)
    p.set_defaults(func=cmd_match)


def check_terms(path) -> None:
    """Read --terms up front, so a bad file stops the run with one line naming its first problems.

    Bad rows are fatal (see :mod:`nlp.lexicon.user_terms`); ignored duplicates are warned about on stderr.
    """
    if not path:
        return
    from nlp.lexicon.user_terms import TermsError, read_terms

    try:
        terms = read_terms(path)
    except FileNotFoundError:
        raise UsageError(f"--terms file not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"--terms must be a CSV file, not a directory: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read --terms file {path}: {exc.strerror or exc}") from None
    except TermsError as exc:
        raise UsageError(str(exc)) from None
    for warning in terms.warnings:
        print(f"warning: terms file {path}: {warning}", file=sys.stderr)


def _read_options(args):
    from matcher.io.notes import ReadOptions

    if args.max_note_chars <= 0:
        raise UsageError("--max-note-chars must be positive")
    return ReadOptions(max_note_chars=args.max_note_chars, oversize=args.oversize, query=args.query)


def cmd_extract(args) -> int:
    """Extract facts per patient from NOTES."""
    from matcher.batch import extract_command

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.resume and not args.out:
        raise UsageError("--resume needs --out")
    check_terms(args.terms)
    return extract_command(args.notes, Path(args.out) if args.out else None, _read_options(args), fmt=args.format,
                           limit=args.limit, terms=args.terms, workers=args.workers, resume=args.resume,
                           log_text=args.log_text)


def cmd_match(args) -> int:
    """Match NOTES against PROTOCOL and write results.jsonl, errors.jsonl and report.html."""
    from matcher.batch import match_command

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    check_terms(args.terms)
    return match_command(args, _read_options(args))


from matcher.review.cli import register_review  # noqa: E402

REGISTER = [register_extract, register_match, register_review]

if __name__ == "__main__":  # pragma: no cover
    from matcher.cli import main

    sys.exit(main())
