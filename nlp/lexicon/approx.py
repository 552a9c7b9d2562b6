"""Approximate concept lookup: exact/alias first, then rapidfuzz over a blocked candidate set.

Candidates are the index's synonyms that share at least one content word with
the phrase (after the index's case/spelling/plural folding and a one-edit
tolerance on long words); words shared by too many synonyms ("disease") only
block when nothing rarer is there. Candidates are reranked with rapidfuzz
(``token_sort_ratio`` on the folded words, which ignores word order, times a
penalty for phrase words that the candidate lacks). The confidence is that
score in [0, 1]; nothing below :data:`THRESHOLD` is returned.
"""

from __future__ import annotations

from typing import Optional

from rapidfuzz import fuzz, process

from nlp.lexicon.index import STOP, ConceptIndex, tokenize

THRESHOLD = 0.88
MAX_POSTINGS = 3000
_FUNCTION = {"the", "a", "an", "of", "with", "and", "or", "in", "on", "to", "for", "by", "at", "from", "due", "any", "other"}


class _Blocks:
    """Inverted index word -> synonym keys, built from the index on first use."""

    def __init__(self, index: ConceptIndex):
        postings: dict[str, list[tuple[str, ...]]] = {}
        for table in (index.ci, index.cs):
            for key, slots in table.items():
                if all(s[0] == STOP for s in slots):
                    continue
                for w in set(key):
                    if w.lower() not in _FUNCTION:
                        postings.setdefault(w.lower(), []).append(key)
        self.postings = postings
        self.words = sorted(w for w in postings if len(w) >= 6)
        self.strings: dict[tuple[str, ...], str] = {}
        self.cache: dict[tuple[str, int, float], list] = {}

    def string(self, key: tuple[str, ...]) -> str:
        """The candidate's content words, as rapidfuzz compares them."""
        s = self.strings.get(key)
        if s is None:
            s = self.strings[key] = " ".join(w.lower() for w in key if w.lower() not in _FUNCTION)
        return s


def _blocks(index: ConceptIndex) -> _Blocks:
    if index._approx is None:
        index._approx = _Blocks(index)
    return index._approx


def _best_slot(index: ConceptIndex, key: tuple[str, ...]):
    for table in (index.ci, index.cs):
        for slot in table.get(key, ()):
            if slot[0] != STOP and not slot[1]:
                return slot
    return None


def normalize(index: ConceptIndex, phrase: str, limit: int = 5, threshold: Optional[float] = None):
    """``[(entry, confidence, route)]`` for ``phrase``, best first (see module doc)."""
    threshold = THRESHOLD if threshold is None else threshold
    exact = index.lookup(phrase)
    if exact is not None:
        return [(exact, 1.0, "exact")]
    blocks = _blocks(index)
    memo = (phrase, limit, threshold)
    if memo not in blocks.cache:
        if len(blocks.cache) > 50_000:
            blocks.cache.clear()
        blocks.cache[memo] = _approximate(index, blocks, phrase, limit, threshold)
    return list(blocks.cache[memo])


def _approximate(index: ConceptIndex, blocks: _Blocks, phrase: str, limit: int, threshold: float):
    words = [t.norm for t in tokenize(phrase) if t.raw[0].isalnum()]
    content = [w for w in words if w not in _FUNCTION]
    if not content:
        return []
    keys: set[tuple[str, ...]] = set()
    lists = []
    for w in content:
        plist = blocks.postings.get(w)
        if plist is None and len(w) >= 7:
            hit = process.extractOne(w, blocks.words, scorer=fuzz.ratio, score_cutoff=88)
            plist = blocks.postings.get(hit[0]) if hit else None
        if plist:
            lists.append(plist)
    if not lists:
        return []
    rare = [p for p in lists if len(p) <= MAX_POSTINGS]
    for plist in rare or [min(lists, key=len)]:
        keys.update(plist)
    query = " ".join(content)
    qset = set(content)
    ordered = sorted(keys)
    choices = [blocks.string(k) for k in ordered]
    scored = []
    hits = process.extract(query, choices, scorer=fuzz.token_sort_ratio, score_cutoff=threshold * 100, limit=None)
    for _, raw_score, pos in hits:
        cand = set(choices[pos].split())
        score = raw_score / 100.0
        if qset - cand and not cand - qset:
            score *= 0.9  # candidate is a strict subset of the phrase: broader concept
        if score >= threshold:
            scored.append((score, ordered[pos]))
    scored.sort(key=lambda x: (-x[0], x[1]))
    out, seen = [], set()
    for score, key in scored:
        slot = _best_slot(index, key)
        if slot is None or slot[0] in seen:
            continue
        seen.add(slot[0])
        out.append((index.entries[slot[0]], round(score, 3), "approximate"))
        if len(out) >= limit:
            break
    return out
