"""``trialmatch review RESULTS MANUAL.csv --out DIR``: registered into the CLI by :func:`register_review`."""

from __future__ import annotations

import sys
from pathlib import Path

from matcher.errors import UsageError


def register_review(sub) -> None:
    """Add the ``review`` subcommand to the ``trialmatch`` parser."""
    p = sub.add_parser("review", help="compare results with a manual chart review")
    p.add_argument("results", help="results.jsonl from `trialmatch match` (or its --out directory)")
    p.add_argument("manual", help="manual review CSV: trial_id,patient_id,criterion_id,status[,verdict,reviewer]")
    p.add_argument("--out", required=True, help="output directory (agreement.json, review.html, disagreements.csv, unmatched.csv)")
    p.add_argument("--labels", help="JSON file adding label words (same shape as matcher/resources/review_labels.json)")
    p.add_argument("--protocol", help="protocol (.txt or .jsonl) to match criterion text against (default: texts in RESULTS)")
    p.add_argument("--reference-reviewer", help="reviewer whose labels are the reference (default: the one with most labels)")
    p.add_argument("--target-sensitivity", type=float, default=0.95,
                   help="sensitivity for eligible patients to keep when computing work saved (default 0.95)")
    p.add_argument("--bootstrap", type=int, default=None, help="bootstrap resamples for kappa CIs (default 2000)")
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed (default fixed, see agreement.json method)")
    p.add_argument("--min-match-score", type=float, default=None, help="lowest criterion-text similarity accepted, 0-100 (default 80)")
    p.set_defaults(func=cmd_review)


def cmd_review(args) -> int:
    """Run the comparison and write the outputs; one-line errors for unusable inputs."""
    from matcher.review.compare import ReviewerError, compare
    from matcher.review.criteria_match import MIN_SCORE
    from matcher.review.inputs import ResultsError
    from matcher.review.labels import LabelError
    from matcher.review.manual import ManualError
    from matcher.review.metrics import N_BOOT, SEED

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out must be a directory: {out}")
    if not 0.0 <= args.target_sensitivity <= 1.0:
        raise UsageError("--target-sensitivity must be between 0 and 1")
    if args.bootstrap is not None and args.bootstrap < 0:
        raise UsageError("--bootstrap must be 0 or more")
    if args.min_match_score is not None and not 0.0 <= args.min_match_score <= 100.0:
        raise UsageError("--min-match-score must be between 0 and 100")
    if args.protocol and not Path(args.protocol).is_file():
        raise UsageError(f"PROTOCOL not found: {args.protocol}")
    try:
        agreement = compare(args.results, args.manual, protocol=args.protocol, labels=args.labels,
                            reference_reviewer=args.reference_reviewer, target_sensitivity=args.target_sensitivity,
                            n_boot=N_BOOT if args.bootstrap is None else args.bootstrap,
                            seed=SEED if args.seed is None else args.seed,
                            min_match_score=MIN_SCORE if args.min_match_score is None else args.min_match_score)
    except (ResultsError, ManualError, LabelError, ReviewerError) as exc:  # the inputs are unusable as a whole
        raise UsageError(str(exc).splitlines()[0]) from None
    files = agreement.write(out)
    v, c = agreement.verdict, agreement.criteria["overall"]
    fmt = lambda x: "n/a" if x is None else f"{x:.3f}"  # noqa: E731
    # Counts and metrics only: never note text (PHI) on the terminal.
    print(f"review: verdict n={v['n']} accuracy={fmt(v['accuracy'])} kappa={fmt(v['kappa'])}; "
          f"criteria n={c['n']} accuracy={fmt(c['accuracy'])} kappa={fmt(c['kappa'])}; "
          f"{len(agreement.disagreements)} disagreement(s), {len(agreement.unmatched)} row(s) not compared -> "
          f"{files['report'].parent}", file=sys.stderr)
    return 0
