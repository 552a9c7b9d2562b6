"""The lexicon: curated concept files plus open terminologies, behind one concept index.

``get_index()`` returns the full index (curated + ICD-10-CM + HPO + drugs),
loaded from the on-disk cache (built on first use; see :mod:`nlp.lexicon.cache`).
``get_index("curated")`` (or ``TRIALMATCH_LEXICON=curated``) gives the
curated-only index, built in memory. ``with_user_terms("TERMS.csv")`` returns
the index plus a user's terms (:mod:`nlp.lexicon.user_terms`).
"""

from __future__ import annotations

import os
from functools import lru_cache

from nlp.lexicon.build import build_curated_index, build_full_index
from nlp.lexicon.entries import ConceptEntry, is_absent_form, load_curated, load_stop_phrases
from nlp.lexicon.index import ConceptIndex, Mention, Token, normalize_word, tokenize
from nlp.lexicon.mentions import find_concepts
from nlp.lexicon.user_index import with_user_terms
from nlp.lexicon.user_terms import TermsError, UserTerms, read_terms

__all__ = ["ConceptEntry", "ConceptIndex", "Mention", "Token", "get_index", "build_curated_index",
           "build_full_index", "find_concepts", "normalize_word", "tokenize", "load_curated", "load_stop_phrases", "is_absent_form",
           "TermsError", "UserTerms", "read_terms", "with_user_terms"]


@lru_cache(maxsize=2)
def _index(kind: str) -> ConceptIndex:
    if kind == "curated":
        return build_curated_index()
    if kind != "full":
        raise ValueError(f"unknown lexicon kind {kind!r} (expected 'full' or 'curated')")
    from nlp.lexicon.cache import load_or_build
    return load_or_build(build_full_index)


def get_index(kind: str | None = None) -> ConceptIndex:
    """The shared concept index, built or loaded once per process.

    ``kind`` is "full" (default: curated lexicon + open terminologies, cached on
    disk) or "curated" (the curated files only). ``TRIALMATCH_LEXICON`` sets the default.
    """
    return _index(kind or os.environ.get("TRIALMATCH_LEXICON", "full"))
