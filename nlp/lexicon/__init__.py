"""The lexicon: curated concept files plus open terminologies, behind one concept index."""

from __future__ import annotations

from functools import lru_cache

from nlp.lexicon.entries import ConceptEntry, load_curated, load_stop_phrases
from nlp.lexicon.index import ConceptIndex, Mention, Token, normalize_word, tokenize

__all__ = ["ConceptEntry", "ConceptIndex", "Mention", "Token", "get_index", "build_curated_index", "normalize_word", "tokenize"]


def build_curated_index() -> ConceptIndex:
    """A fresh index of the curated lexicon files only."""
    index = ConceptIndex()
    for entry in load_curated():
        index.add(entry)
    index.add_stop_phrases(load_stop_phrases())
    return index


@lru_cache(maxsize=1)
def get_index() -> ConceptIndex:
    """The shared concept index (built once per process)."""
    return build_curated_index()
