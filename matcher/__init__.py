"""Matching criteria against patient facts: statuses, verdicts, scores, reports and the CLI."""

from matcher.api import match, results_to_dataframe

__all__ = ["match", "results_to_dataframe"]
