"""The tool's side of the comparison: MatchResults and each trial's criteria catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Union

from pydantic import ValidationError

from nlp.schema import ErrorRecord, MatchResult, Protocol


class ResultsError(ValueError):
    """RESULTS cannot be used at all (missing file, no valid line)."""


@dataclass
class CriterionInfo:
    trial_id: str
    criterion_id: str
    text: str
    kind: str
    order: int  # document order, for sorting outputs the way the protocol reads


@dataclass
class ToolSide:
    """Results by (trial_id, patient_id), the criteria catalogue, and rejected result lines."""

    results: dict[tuple[str, str], MatchResult]
    catalog: dict[str, dict[str, CriterionInfo]]
    errors: list[dict] = field(default_factory=list)
    source: Optional[str] = None

    def trials(self) -> list[str]:
        return sorted(self.catalog)

    def criterion(self, trial_id: str, criterion_id: str) -> Optional[CriterionInfo]:
        return self.catalog.get(trial_id, {}).get(criterion_id)


ResultsLike = Union[str, Path, Iterable[Union[MatchResult, dict]]]


def load_results(results: ResultsLike) -> tuple[list[MatchResult], list[dict], Optional[str]]:
    """A results.jsonl path (or the ``--out`` directory of ``trialmatch match``), or MatchResults/dicts."""
    errors: list[dict] = []
    if isinstance(results, (str, Path)):
        from matcher.errors import UsageError
        from matcher.io.text import iter_jsonl

        path = Path(results)
        if path.is_dir():
            path = path / "results.jsonl"
        out = []
        try:
            for number, row, error in iter_jsonl(path, "RESULTS"):
                if error is None:
                    try:
                        out.append(MatchResult.model_validate(row))
                        continue
                    except ValidationError as exc:
                        error = "not a MatchResult: " + _first_error(exc)
                errors.append({"source": str(path), "location": f"line {number}", "reason": error})
        except UsageError as exc:
            raise ResultsError(str(exc)) from None
        if not out:
            raise ResultsError(f"RESULTS has no usable MatchResult line: {path}" + (f" ({errors[0]['reason']})" if errors else ""))
        return out, errors, str(path)
    out = []
    for i, item in enumerate(results):
        if isinstance(item, MatchResult):
            out.append(item)
            continue
        try:
            out.append(MatchResult.model_validate(item))
        except ValidationError as exc:
            errors.append({"source": "results", "location": f"item {i}", "reason": "not a MatchResult: " + _first_error(exc)})
    return out, errors, None


def _first_error(exc: ValidationError) -> str:
    e = exc.errors()[0]
    return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"


def load_protocols(protocol) -> list[Protocol]:
    """None, a Protocol, a list of Protocols, or a path (.txt / .jsonl) parsed with the project's parser."""
    if protocol is None:
        return []
    if isinstance(protocol, Protocol):
        return [protocol]
    if isinstance(protocol, (str, Path)):
        import warnings

        from matcher.io.protocols import read_protocols
        from nlp.criteria import parse_protocol

        # Bad protocol rows only cost text matching for that trial; `trialmatch parse` is the place to see them.
        # The NLP libraries warn on load (and rewrite the warning filters while loading, so a
        # filter is not enough): silence the display, and the review log stays one summary line.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.showwarning = lambda *args, **kwargs: None
            return [parse_protocol(row.text, row.trial_id, row.title) for row in read_protocols(protocol)
                    if not isinstance(row, ErrorRecord)]
    return list(protocol)


def build_tool_side(results: list[MatchResult], errors: list[dict], protocols: list[Protocol],
                    source: Optional[str] = None) -> ToolSide:
    """Index results; the catalogue takes criteria from the protocol when given, else from the results."""
    by_key: dict[tuple[str, str], MatchResult] = {}
    for r in results:
        key = (r.trial_id, r.patient_id)
        if key in by_key:
            errors.append({"source": source or "results", "location": f"{r.trial_id}/{r.patient_id}",
                           "reason": "duplicate result for this trial and patient; the first one is used"})
            continue
        by_key[key] = r
    catalog: dict[str, dict[str, CriterionInfo]] = {}
    for p in protocols:
        table = catalog.setdefault(p.trial_id, {})
        for node in p.walk():
            table.setdefault(node.id, CriterionInfo(p.trial_id, node.id, node.text, node.kind, len(table)))
    for r in by_key.values():
        table = catalog.setdefault(r.trial_id, {})
        for c in r.criteria:
            if c.criterion_id not in table:
                table[c.criterion_id] = CriterionInfo(r.trial_id, c.criterion_id, c.text, c.kind, len(table))
    return ToolSide(results=by_key, catalog=catalog, errors=errors, source=source)
