"""Performance status: the one KPS -> ECOG table and score validation.

The table is ``resources/notes/kps_ecog.csv`` (documented there): KPS 100-90 -> ECOG 0,
80-70 -> 1, 60-50 -> 2, 40-30 -> 3, 20-10 -> 4, 0 -> 5. The matcher and the
patient aggregation both read it through :func:`kps_to_ecog`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from nlp.data import load_csv


@lru_cache(maxsize=1)
def kps_table() -> tuple[tuple[float, float, int], ...]:
    """Inclusive KPS bands ``(low, high, ecog)`` from the data file."""
    return tuple((float(r["kps_low"]), float(r["kps_high"]), int(r["ecog"])) for r in load_csv("notes/kps_ecog.csv"))


def kps_to_ecog(kps: float) -> Optional[int]:
    """ECOG grade for a Karnofsky score (None outside 0-100).

    >>> kps_to_ecog(80), kps_to_ecog(40), kps_to_ecog(100)
    (1, 3, 0)
    """
    try:
        value = float(kps)
    except (TypeError, ValueError):
        return None
    for low, high, ecog in kps_table():
        if low <= value <= high:
            return ecog
    return None


def valid_score(concept_id: str, value: float) -> bool:
    """ECOG is 0-5 in whole grades; KPS is 0-100 (in steps of 10 in practice)."""
    if concept_id == "ecog":
        return 0 <= value <= 5 and float(value).is_integer()
    if concept_id == "kps":
        return 0 <= value <= 100 and value % 10 == 0
    return True
