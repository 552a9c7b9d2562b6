"""Small loaders for the data files in ``nlp/resources`` (read with importlib.resources)."""

from __future__ import annotations

import csv
import io
import json
from functools import lru_cache
from importlib import resources
from typing import Any


def _read_text(relpath: str) -> str:
    ref = resources.files("nlp.resources").joinpath(relpath)
    return ref.read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def load_json(relpath: str) -> Any:
    """Load a JSON resource, e.g. ``load_json("grammar/units.json")``."""
    return json.loads(_read_text(relpath))


@lru_cache(maxsize=None)
def load_csv(relpath: str) -> tuple[dict[str, str], ...]:
    """Load a CSV resource as a tuple of row dicts; ``#`` lines are comments."""
    lines = [ln for ln in _read_text(relpath).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return tuple(dict(row) for row in csv.DictReader(io.StringIO("\n".join(lines))))


def resource_names(folder: str) -> list[str]:
    """Sorted file names inside a resource folder."""
    return sorted(p.name for p in resources.files("nlp.resources").joinpath(folder).iterdir() if p.is_file())
