"""Finding the protocol criterion a spreadsheet row means: by id, or by its text (rapidfuzz).

Reviewers copy criterion text from the protocol, often truncated ("Cardiac
function: echocardiography indicated ...") or shortened ("Renal function",
"ECOG 0-2"). The score is the best of three views of the two texts, on
rapidfuzz's normalized form (lower case, punctuation removed):

* ``full``   = ``fuzz.ratio``: the whole text was copied, perhaps with typos;
* ``prefix`` = ``fuzz.ratio`` against the criterion cut to the query's length,
  x 0.95: a truncated copy (slightly below a full copy, so "No serious mental
  disorders" means I6.1 itself rather than its parent I6 that starts with it);
* ``words``  = ``fuzz.token_set_ratio`` x 0.90: every word of the query occurs
  in the criterion ("Renal function").

Parent criteria contain their children's text, so near-ties (within
:data:`MARGIN`) are settled by containment: when one candidate's text lies inside
every other tied candidate's text, the innermost (most specific) one is meant.
Otherwise the row is ambiguous and listed, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from rapidfuzz import fuzz, utils

from matcher.review.inputs import CriterionInfo

MIN_SCORE = 80.0
MARGIN = 3.0
PREFIX_WEIGHT = 0.95
WORDS_WEIGHT = 0.90


@dataclass
class TextMatch:
    """The outcome of matching one written criterion text."""

    info: Optional[CriterionInfo]
    score: float
    runner_up: Optional[CriterionInfo] = None
    runner_up_score: Optional[float] = None
    reason: str = ""


def text_score(query: str, choice: str) -> float:
    """Similarity 0-100 of two already normalized texts (see the module docstring)."""
    full = fuzz.ratio(query, choice)
    prefix = fuzz.ratio(query, choice[:len(query)]) * PREFIX_WEIGHT if len(choice) > len(query) else 0.0
    words = fuzz.token_set_ratio(query, choice) * WORDS_WEIGHT
    return max(full, prefix, words)


def find_by_id(cell: str, table: dict[str, CriterionInfo]) -> Optional[CriterionInfo]:
    """An id as written ("I6.2.1"), in another case or spacing ("i 6.2.1"), or leading a text ("I6.2.1 - Cardiac...")."""
    if cell in table:
        return table[cell]
    squeezed = re.sub(r"\s+", "", cell).casefold()
    folded = {cid.casefold(): info for cid, info in table.items()}
    if squeezed in folded:
        return folded[squeezed]
    lowered = cell.casefold().lstrip()
    for cid in sorted(folded, key=len, reverse=True):  # I6.2.1 before I6
        if lowered.startswith(cid):
            rest = lowered[len(cid):]
            if rest and not re.match(r"[\w.]", rest):  # "I6.2.1 - ..." but not "I6.2.10" for "I6.2.1"
                return folded[cid]
    return None


def find_by_text(text: str, table: dict[str, CriterionInfo], min_score: float = MIN_SCORE) -> TextMatch:
    """The criterion whose text the written text most resembles, or a reason why none is chosen."""
    query = utils.default_process(text)
    if not query:
        return TextMatch(None, 0.0, reason="criterion cell has no words to match")
    infos = list(table.values())
    norm = {i.criterion_id: utils.default_process(i.text) for i in infos}
    scored = sorted(((text_score(query, norm[i.criterion_id]), i) for i in infos), key=lambda p: (-p[0], p[1].order))
    if not scored:
        return TextMatch(None, 0.0, reason="the trial has no criteria to match against")
    best_score, best = scored[0]
    if best_score < min_score:
        return TextMatch(None, best_score, best, best_score,
                         reason=f"no criterion text resembles it (closest {best.criterion_id}, score {best_score:.0f} < {min_score:.0f})")
    tied = [i for s, i in scored if s >= best_score - MARGIN]
    chosen = best if len(tied) == 1 else _innermost(tied, norm)
    others = [(s, i) for s, i in scored if chosen is None or i.criterion_id != chosen.criterion_id]
    runner_score, runner = others[0] if others else (None, None)
    if chosen is None:
        names = ", ".join(f"{i.criterion_id} ({s:.0f})" for s, i in scored if i in tied)
        return TextMatch(None, best_score, runner, runner_score, reason=f"ambiguous criterion text: matches {names} equally well")
    score = next(s for s, i in scored if i is chosen)
    return TextMatch(chosen, score, runner, runner_score)


def _innermost(tied: list[CriterionInfo], norm: dict[str, str]) -> Optional[CriterionInfo]:
    inside_all = [c for c in tied if all(norm[c.criterion_id] in norm[o.criterion_id] for o in tied)]
    return min(inside_all, key=lambda c: c.order) if inside_all else None
