"""Matching configuration: the absence policy, default ULNs and scoring weights.

Defaults live in ``matcher/resources/policy.json`` (documented there and in the
README). Default ULNs come from the one lab lexicon (``ref_high`` of
``nlp/resources/lexicon/measurements.csv``) unless overridden here.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["met", "not_met", "unknown"]


class AbsencePolicy(BaseModel):
    """Status of a condition/event/therapy constraint when nothing relevant is documented."""

    model_config = ConfigDict(extra="ignore")
    exclusion: Status = "not_met"
    negated_exclusion: Status = "not_met"
    exclusion_measurement: Status = "unknown"
    exclusion_free_text: Status = "not_met"
    negated_inclusion: Status = "met"
    inclusion: Status = "unknown"


class MatchConfig(BaseModel):
    """All knobs of the matcher. Build with :func:`load_config` to start from the defaults."""

    model_config = ConfigDict(extra="ignore")
    absence: AbsencePolicy = Field(default_factory=AbsencePolicy)
    uln_overrides: dict[str, float] = Field(default_factory=dict)
    possible_counts_as: Status = "unknown"
    free_text_min_score: float = 90
    free_text_status: Status = "unknown"
    presumed_survival_days: float = 7
    score_weights: dict[str, float] = Field(default_factory=lambda: {"met": 1.0, "unknown": 0.5, "not_met": 0.0})
    ineligible_score_factor: float = 0.25
    reproductive_check: dict = Field(default_factory=lambda: {"categories": ["reproductive"], "max_age": 55})

    def default_uln(self, concept_id: str) -> Optional[tuple[float, str, str]]:
        """(ULN, unit, source) for a lab when the note gives no range; None when unknown."""
        from nlp.lexicon import get_index

        entry = get_index().get(concept_id)
        if concept_id in self.uln_overrides and entry is not None:
            return self.uln_overrides[concept_id], entry.unit or "", "configured default"
        if entry is None or entry.ref_high is None:
            return None
        return entry.ref_high, entry.unit or "", "default table"


@lru_cache(maxsize=1)
def _defaults() -> dict:
    text = resources.files("matcher.resources").joinpath("policy.json").read_text(encoding="utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def load_config(path: Union[str, Path, dict, None] = None) -> MatchConfig:
    """The default configuration, updated by a JSON file or a dict of overrides."""
    data = json.loads(json.dumps(_defaults()))
    if path is not None:
        override = path if isinstance(path, dict) else json.loads(Path(path).read_text(encoding="utf-8"))
        for key, value in override.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key].update(value)
            else:
                data[key] = value
    for key in ("absence", "reproductive_check"):
        data[key] = {k: v for k, v in data.get(key, {}).items() if not k.startswith("_")}
    return MatchConfig.model_validate(data)
