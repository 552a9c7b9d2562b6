"""Comparison of trialmatch results against manual chart review.

``compare(results, manual)`` returns an :class:`Agreement`; ``trialmatch review``
writes it as agreement.json, disagreements.csv, unmatched.csv and review.html.

Modules: ``labels`` (label words), ``manual`` (reading the sheet), ``inputs``
(the tool's results), ``criteria_match`` (criterion ids and fuzzy text),
``align`` (rows -> labels or unmatched), ``metrics``, ``worklist``,
``compare``, ``agreement``, ``plots``, ``html``, ``cli``.
"""

from matcher.review.agreement import Agreement
from matcher.review.compare import compare
from matcher.review.labels import LabelMap

__all__ = ["Agreement", "LabelMap", "compare"]
